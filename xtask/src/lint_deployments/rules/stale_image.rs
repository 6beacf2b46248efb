use crate::deployments::image_route;
use crate::diagnostic::Findings;
use crate::freshness::Freshness;
use crate::location::Location;
use crate::printable;

use super::{Context, InChannel};

declare_rule! {
    /// ## What it does
    /// Reports a `machine_image.id` that `packer/images.lock` records as
    /// built from an earlier version of its template (the template, or a
    /// script or file it uploads, changed since): this deployment gets a
    /// new image when `cargo xtask images` next runs, as
    /// `.github/workflows/images.yml` does once the change reaches `main`.
    ///
    /// ## Why is this bad?
    /// Between an edit and the next build it is not: that is the normal
    /// state of the flow (edit, commit, push; the build follows), so it is a
    /// warning that never stops a commit or CI. It says which clusters the
    /// next build changes, and it keeps an edit whose build never came from
    /// going unnoticed. A deployment that boots an image the lock does not
    /// know is `unknown-image`, an error. With `[channels]`, only the first
    /// channel is checked: the others get new images by promotion alone.
    ///
    /// ## Example
    /// ```text
    /// packer/3.11/aws/machine-image/scripts/install.sh edited and committed:
    /// deployments/aws-frankfurt-3.11.yaml gets a new image at the next build.
    /// ```
    ///
    /// ## Fix
    /// Nothing before committing: push, and the build after it writes the
    /// new ID into the deployment. To do it now, run `cargo xtask images`
    /// and commit the result.
    code: "DEP009", name: "stale-image", severity: Warning, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    // A later channel gets the next build only by promotion, which is
    // refused for a stale image: `images` will not change it.
    if let InChannel::Channel(channels, channel) = ctx.channel()
        && channel != channels.first()
    {
        return;
    }
    for entry in ctx.locked_roles() {
        let Some(image) = entry.locked.images.get(entry.region).filter(|image| image.id == entry.id) else {
            continue;
        };
        // Judged with the values its build was given: a template whose
        // files depend on a variable is not stale for being read without it.
        let Some(Freshness::Stale(what)) = entry.template.freshness.get(entry.region) else {
            continue;
        };
        let folder = entry.template.rel.strip_suffix("/template.json").unwrap_or(&entry.template.rel);
        out.report(
            &RULE.meta,
            Location::value(image_route(entry.role)),
            format!(
                "gets a new image of {folder} when `cargo xtask images` next runs: `{}` was built on {}, and since \
                 then: {what}",
                entry.id,
                printable::escape(&image.built_at)
            ),
        )
        .help(
            "nothing to do before committing: the next `cargo xtask images` writes the new ID (a repository with \
             .github/workflows/images.yml runs it once this reaches main and opens a pull request); to build it \
             now, run `cargo xtask images` and commit the result",
        );
    }
}
