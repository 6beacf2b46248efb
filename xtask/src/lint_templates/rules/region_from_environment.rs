use crate::diagnostic::Findings;
use crate::hcl2::Value;
use crate::location::Location;

use super::Context;
use super::Hcl2Context;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports an `amazon-*` builder without `region`, or with an empty
    /// or null one. In an HCL2 template: such a `source` block that a build uses,
    /// where no nested `source` block of the build sets `region` either.
    ///
    /// ## Why is this bad?
    /// Packer then builds wherever the environment points: `AWS_REGION`,
    /// else `AWS_DEFAULT_REGION`, else the region of the AWS profile in
    /// `~/.aws/config`. The same template makes its image in another region
    /// on another machine, and nothing in the repository says which region
    /// its deployments take. `cargo xtask images` takes the region from
    /// `AWS_REGION` or `AWS_DEFAULT_REGION` when one is set, and refuses to
    /// build (naming the builder) when neither is, rather than guess the
    /// profile's.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [ { "type": "amazon-ebs", "source_ami": "ami-…", … } ] }
    /// ```
    ///
    /// ## Fix
    /// Write the region: `"region": "eu-west-1"`, or a variable with a
    /// default (`"region": "{{user `region`}}"`, `region = var.region`).
    code: "PKR110", name: "region-from-environment", severity: Warning, check: Some(check), hcl2: Some(check_hcl2),
}

const HELP: &str = "write the region (`region = \"eu-west-1\"`, or a variable with a default); without it Packer builds \
                    in AWS_REGION, else AWS_DEFAULT_REGION, else the AWS profile's region";

fn check(ctx: &Context, out: &mut Findings) {
    for builder in &ctx.blocks.builders {
        if !builder.kind().is_some_and(|kind| kind.starts_with("amazon-")) {
            continue;
        }
        let name = builder.builder_name().unwrap_or_default();
        let (location, message) = match builder.body.get("region") {
            None => (Location::value(builder.at("type")), format!("builder `{name}` has no `region`")),
            Some(serde_json::Value::String(region)) if region.is_empty() => {
                (Location::value(builder.at("region")), format!("builder `{name}` has an empty `region`"))
            }
            Some(serde_json::Value::Null) => {
                (Location::value(builder.at("region")), format!("builder `{name}` has a null `region`"))
            }
            Some(_) => continue,
        };
        out.report(&RULE.meta, location, message).help(HELP);
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let mut reported: Vec<&crate::hcl2::At> = Vec::new();
    for target in ctx.template.build_targets() {
        if !ctx.template.plugin_type(target.kind).starts_with("amazon-") {
            continue;
        }
        let Some(source) = target.source else { continue };
        let (at, message) = match target.attr("region") {
            None => (source.at(), format!("source `{}` has no `region`", target.name)),
            Some(attr) if attr.value == Value::String(String::new()) => {
                (&attr.at, format!("source `{}` has an empty `region`", target.name))
            }
            Some(attr) if attr.value == Value::Null => {
                (&attr.at, format!("source `{}` has a null `region`", target.name))
            }
            Some(_) => continue,
        };
        if reported.contains(&at) {
            continue;
        }
        reported.push(at);
        out.report(&RULE.meta, at, message).help(HELP);
    }
}
