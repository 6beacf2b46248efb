use crate::diagnostic::{Findings, Severity};
use crate::gotmpl;
use crate::location::Location;

use super::Context;
use super::Hcl2Context;
use crate::hcl2::{self, functions};
use crate::lint_templates::hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports an `ami_name`, `image_name` or `managed_image_name` that
    /// contains none of `{{timestamp}}`, `{{isotime}}` or `{{uuid}}`,
    /// directly or through the defaults of the user variables it uses.
    ///
    /// In an HCL2 template: an `ami_name` or `image_name` that calls none of
    /// `timestamp()`, `uuidv4()`, `uuidv5()`, also through the variables and
    /// locals it uses.
    ///
    /// ## Why is this bad?
    /// It depends on the cloud. AWS (`ami_name`, per region and account)
    /// and GCE (`image_name`, per project) refuse a name that is taken, and
    /// Packer's `azure-arm` stops when the resource group has a managed
    /// image of that name (unless run with `-force`, which deletes it):
    /// the first build succeeds and every later one fails, usually after
    /// minutes of provisioning. An error. OpenStack's Glance accepts any number of images with the
    /// same name: the build succeeds, and whatever picks the image by name
    /// (Nova, Heat, Terraform's `openstack_images_image_v2`) gets one of
    /// them, or refuses as ambiguous. There it is a warning.
    ///
    /// An Amazon builder with `force_deregister` set (`true`, or a value
    /// only the build knows) is not reported: it deregisters the AMI of that
    /// name before registering the new one, which is what a fixed name with
    /// that setting is for.
    ///
    /// ## Example
    /// ```json
    /// { "ami_name": "os39-machine-image-01" }
    /// ```
    ///
    /// ## Fix
    /// Add a unique part: `"ami_name": "os39-machine-image-{{timestamp}}"`.
    code: "PKR106", name: "non-unique-image-name", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

/// Does an Amazon builder deregister the AMI of its name first? `true`, or
/// a value only the build knows, says so.
fn deregisters(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::Bool(set)) => *set,
        Some(serde_json::Value::String(text)) => text == "true" || gotmpl::is_templated(text),
        _ => false,
    }
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in &ctx.blocks.builders {
        let kind = builder.kind().unwrap_or_default();
        if kind.starts_with("amazon-") && deregisters(builder.body.get("force_deregister")) {
            continue;
        }
        for key in ["ami_name", "image_name", "managed_image_name"] {
            let Some(name) = builder.str(key) else {
                continue;
            };
            // A name that comes from a variable with no default is set per
            // build: only the build knows whether it is unique.
            if ctx.template.resolves_to_call(name, gotmpl::UNIQUE) != Some(false) {
                continue;
            }
            let finding = if kind.starts_with("openstack") {
                out.report(
                    &RULE.meta,
                    Location::value(builder.at(key)),
                    format!(
                        "`{key}` is the same on every build; Glance keeps every build under that name, so picking the image by name becomes ambiguous"
                    ),
                )
                .severity(Severity::Warning)
            } else {
                let cloud = match kind {
                    k if k.starts_with("amazon-") => {
                        "AWS refuses an AMI name that the account already has in the region"
                    }
                    "googlecompute" => "GCE refuses an image name that the project already has",
                    k if k.starts_with("azure-") => {
                        "Packer stops when the resource group already has a managed image of that name"
                    }
                    _ => "the name is taken after the first build",
                };
                out.report(
                    &RULE.meta,
                    Location::value(builder.at(key)),
                    format!("`{key}` is the same on every build, so the second build fails: {cloud}"),
                )
            };
            finding.help("add `{{timestamp}}`, `{{isotime}}` or `{{uuid}}` to the name");
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for source in ctx.template.sources() {
        let deregisters = source.block.body.attr("force_deregister").is_some_and(|attr| {
            matches!(&attr.value, hcl2::Value::Bool(true) | hcl2::Value::Expr(_))
                || matches!(&attr.value, hcl2::Value::String(text) if text == "true")
        });
        if ctx.template.plugin_type(source.kind).starts_with("amazon-") && deregisters {
            continue;
        }
        for key in ["ami_name", "image_name"] {
            let Some(attr) = source.block.body.attr(key) else { continue };
            if ctx.template.calls_any(&attr.at, functions::UNIQUE) == Some(false) {
                out.report(
                    &RULE.meta,
                    &attr.at,
                    format!("`{key}` is the same on every build, so the second build fails: the name is taken"),
                )
                .help("add `${timestamp()}` or `${uuidv4()}` to the name, e.g. \"base-${formatdate(\"YYYYMMDDhhmm\", timestamp())}\"");
            }
        }
    }
}
