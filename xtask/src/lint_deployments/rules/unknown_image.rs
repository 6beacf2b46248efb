use crate::deployments::image_route;
use crate::diagnostic::Findings;
use crate::location::Location;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a `machine_image.id` that is not the image
    /// `packer/images.lock` records for the template feeding it, in the
    /// deployment's region. Checked only for templates the lock records.
    ///
    /// ## Why is this bad?
    /// The ID was typed or pasted by hand: from another region, another
    /// release, an old build, or simply mistyped. Nothing guarantees the
    /// image exists or was built from this repository.
    ///
    /// ## Example
    /// ```yaml
    /// cluster:
    ///   region: eu-central-1
    ///   machine_image:
    ///     id: ami-0f1e2d3c4b5a69788   # the lock says ami-0123456789abcdef0
    /// ```
    ///
    /// ## Fix
    /// Run `cargo xtask images`: an unchanged template is not rebuilt, and
    /// its recorded ID is written into the deployment.
    code: "DEP010", name: "unknown-image", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    for entry in ctx.locked_roles() {
        let (id, region, template) = (entry.id, entry.region, &entry.template.rel);
        let message = match entry.locked.images.get(region) {
            Some(image) if image.id == id => continue,
            Some(image) => {
                format!("`{id}` is not the image the lock records for {template} in {region} ({})", image.id)
            }
            None => format!("the lock records no image of {template} in {region}"),
        };
        out.report(&RULE.meta, Location::value(image_route(entry.role)), message)
            .help("run `cargo xtask images` to write the recorded image (it rebuilds only what changed)");
    }
}
