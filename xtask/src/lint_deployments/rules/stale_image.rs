use crate::deployments::image_route;
use crate::diagnostic::Findings;
use crate::location::Location;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a `machine_image.id` that `packer/images.lock` records as
    /// built from an earlier version of its template: the template, or a
    /// script or file it uploads, changed since.
    ///
    /// ## Why is this bad?
    /// The change was committed but the image was not rebuilt: the cluster
    /// boots an image without it, while the repository says otherwise.
    ///
    /// ## Example
    /// ```text
    /// packer/3.11/aws/machine-image/scripts/install.sh edited,
    /// deployments/aws-frankfurt-3.11.yaml still on the image built before.
    /// ```
    ///
    /// ## Fix
    /// Run `cargo xtask images` (it rebuilds the changed template and
    /// patches the deployments), then commit the result.
    code: "DEP009", name: "stale-image", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    for entry in ctx.locked_roles() {
        let (Some(current), Some(image)) = (&entry.template.hash, entry.locked.images.get(entry.region)) else {
            continue;
        };
        if entry.id == image.id && &image.hash != current {
            let folder = entry.template.rel.strip_suffix("/template.json").unwrap_or(&entry.template.rel);
            // Which files changed, when the lock says what they were.
            let what = match &entry.locked.files {
                Some(before) if image.hash == entry.locked.hash => {
                    format!("in {folder}: {}", crate::images::plan::file_changes(before, &entry.template.files))
                }
                _ => format!("{} or a file it uploads changed", entry.template.rel),
            };
            out.report(
                &RULE.meta,
                Location::value(image_route(entry.role)),
                format!("`{}` was built on {}; since then, {what}", entry.id, image.built_at),
            )
            .help("run `cargo xtask images` to rebuild it and patch the deployments, then commit the result");
        }
    }
}
