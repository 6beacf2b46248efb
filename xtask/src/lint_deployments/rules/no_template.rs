use crate::deployments::image_route;
use crate::diagnostic::Findings;
use crate::location::{Location, Route};
use crate::project::cloud;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a deployment whose release and cloud have no template under
    /// `packer/<release>/<cloud>/`, or a role (`worker.machine_image.id`)
    /// that no template feeds: neither `<role>-image` nor, for `bastion`
    /// and `cluster`, `machine-image`.
    ///
    /// ## Why is this bad?
    /// Nothing builds the image this deployment boots: `cargo xtask images`
    /// will never update it, and a typo in `release` goes unnoticed until
    /// the cluster runs an old image.
    ///
    /// ## Example
    /// ```yaml
    /// release: "3.12"   # packer/3.12/aws/ does not exist
    /// cloud: aws
    /// ```
    ///
    /// ## Fix
    /// Correct the release or cloud, or add the template
    /// (`packer/3.12/aws/machine-image/template.json`).
    code: "DEP006", name: "no-template", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let Some((release, cloud_name)) = ctx.release_cloud() else { return };
    if cloud(cloud_name).is_none() {
        return;
    }
    if ctx.templates.templates(release, cloud_name).is_empty() {
        let known = ctx.templates.releases(cloud_name);
        let finding = out.report(
            &RULE.meta,
            Location::value(Route::root().key("release")),
            format!("no template builds release {release} for {cloud_name}: packer/{release}/{cloud_name}/ has none"),
        );
        if known.is_empty() {
            finding.help(format!(
                "add a template at packer/{release}/{cloud_name}/machine-image/ (a template.json, or *.pkr.hcl files)"
            ));
        } else {
            finding.help(format!("releases with {cloud_name} templates: {}", known.join(", ")));
        }
        return;
    }
    for role in ctx.deployment.roles() {
        if ctx.templates.feeding(release, cloud_name, role).is_none() {
            out.report(
                &RULE.meta,
                Location::value(image_route(role)),
                format!("no template feeds `{role}.machine_image.id`"),
            )
            .help(format!(
                "add a template at packer/{release}/{cloud_name}/{role}-image/ (a template.json, or *.pkr.hcl \
                 files){}",
                if crate::deployments::MACHINE_IMAGE_ROLES.contains(&role) {
                    format!(", or at packer/{release}/{cloud_name}/machine-image/, which feeds bastion and cluster")
                } else {
                    String::new()
                }
            ));
        }
    }
}
