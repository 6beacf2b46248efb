use crate::diagnostic::Findings;
use crate::location::Location;
use crate::project;

use super::Context;
use super::Hcl2Context;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a builder whose type does not belong to the template's cloud
    /// folder: `amazon-*` builders go under `aws`, `googlecompute` under
    /// `gce`, `openstack` under `openstack`, `azure-*` under `azure`.
    ///
    /// In an HCL2 template: a `source` block of another cloud's type.
    ///
    /// ## Why is this bad?
    /// The cloud folder decides which deployments receive the image. A GCE
    /// image built from `packer/3.9/aws/…` would be written into AWS
    /// deployments, where it cannot boot.
    ///
    /// ## Example
    /// ```text
    /// packer/3.11/aws/machine-image/template.json: { "builders": [ { "type": "googlecompute", … } ] }
    /// ```
    ///
    /// ## Fix
    /// Move the builder to a template under the right cloud folder.
    code: "PKR108", name: "wrong-cloud", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    let Some(layout) = ctx.layout else { return };
    let Some(cloud) = project::cloud(&layout.cloud) else {
        return;
    };
    for builder in &ctx.blocks.builders {
        let Some(kind) = builder.kind() else { continue };
        if cloud.owns_builder(kind) {
            continue;
        }
        let finding = out.report(
            &RULE.meta,
            Location::value(builder.at("type")),
            format!(
                "{} builder does not belong in the `{}` cloud folder",
                crate::diagnostic::with_article(&format!("`{kind}`")),
                layout.cloud
            ),
        );
        match project::CLOUDS.iter().find(|other| other.owns_builder(kind)) {
            Some(home) => finding
                .help(format!("move it to packer/{}/{}/{}/template.json", layout.release, home.name, layout.image)),
            None => finding.help(format!("`{kind}` belongs to none of the clouds this repository deploys to")),
        };
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let Some(layout) = ctx.layout else { return };
    let Some(cloud) = project::cloud(&layout.cloud) else {
        return;
    };
    for source in ctx.template.sources() {
        // A `required_plugins` entry may name a plugin's types otherwise:
        // `aws-ebs` of `aws = { source = "github.com/hashicorp/amazon" }`.
        let canonical = ctx.in_force.canonical_type(source.kind);
        let kind = canonical.as_deref().unwrap_or(source.kind);
        if cloud.owns_builder(kind) {
            continue;
        }
        let at = &source.block.labels[0].1;
        let what = match &canonical {
            Some(canonical) if canonical != source.kind => format!("`{}` (the plugin's `{canonical}`)", source.kind),
            _ => format!("`{}`", source.kind),
        };
        let finding = out.report(
            &RULE.meta,
            at,
            format!(
                "{} source does not belong in the `{}` cloud folder",
                crate::diagnostic::with_article(&what),
                layout.cloud
            ),
        );
        match project::CLOUDS.iter().find(|other| other.owns_builder(kind)) {
            Some(home) => finding.help(format!("move it to packer/{}/{}/{}/", layout.release, home.name, layout.image)),
            None => finding.help(format!("{what} belongs to none of the clouds this repository deploys to")),
        };
    }
}
