use crate::deployments::image_route;
use crate::diagnostic::Findings;
use crate::location::Location;
use crate::printable;

use super::{Context, InChannel};

declare_rule! {
    /// ## What it does
    /// Reports a `machine_image.id` that `packer/images.lock` records as
    /// revoked (`cargo xtask revoke IMAGE_ID --reason …`), with the reason
    /// and when.
    ///
    /// ## Why is this bad?
    /// An image is revoked because it must not run: a CVE in a package it
    /// carries, a kernel that panics on some instance types. A cluster that
    /// boots it, or is about to, runs what the team decided to pull back.
    /// As an error, it fails the pre-commit hook and CI until the
    /// deployment boots another image.
    ///
    /// ## Example
    /// ```yaml
    /// channel: canary
    /// cluster:
    ///   machine_image:
    ///     id: ami-0123456789abcdef0   # revoked: CVE-2026-1234 in the kernel
    /// ```
    ///
    /// ## Fix
    /// Put the deployment's channel back on its image before this one
    /// (`cargo xtask rollback --channel canary --select
    /// packer/3.11/aws/machine-image --region eu-central-1`: without
    /// `--select`, every template of the channel goes back an image), or,
    /// once a new build has replaced it, promote that. Without channels, `cargo xtask images`
    /// rebuilds a template whose newest image is revoked.
    code: "DEP012", name: "revoked-image", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let Some(lock) = ctx.lock else { return };
    let channel = ctx.channel();
    for role in ctx.deployment.roles() {
        let Some(id) = ctx.deployment.image_id(role).and_then(|node| node.as_str()) else { continue };
        let revoked = lock
            .templates
            .iter()
            .find_map(|(template, entry)| Some((template, entry, entry.lifecycle.get(id)?.revoked.as_ref()?)));
        let Some((template, entry, revoked)) = revoked else { continue };
        let folder = template.strip_suffix("/template.json").unwrap_or(template);
        // The revoked image's template and region only: the whole channel
        // would also move the templates nothing is wrong with.
        let records: Vec<(String, String)> =
            entry.find(id).map(|(region, _)| (folder.to_owned(), region.to_owned())).into_iter().collect();
        let narrowed = crate::lifecycle::rollback::rollback_selection(&records);
        let help = match &channel {
            InChannel::Channel(channels, channel) if *channel == channels.first() => format!(
                "`cargo xtask rollback --channel {channel}{narrowed}` puts `{channel}` back on its image before this \
                 one; `cargo xtask images` builds the template again when its newest image is revoked"
            ),
            InChannel::Channel(_, channel) => format!(
                "`cargo xtask rollback --channel {channel}{narrowed}` puts `{channel}` back on its image before this \
                 one, or promote an image built since (`cargo xtask promote --to {channel}`)"
            ),
            _ => "`cargo xtask images` builds the template again when its newest image is revoked, and writes the \
                  new image here"
                .to_owned(),
        };
        out.report(
            &RULE.meta,
            Location::value(image_route(role)),
            format!(
                "`{id}` ({folder}) was revoked on {}: {}",
                printable::escape(&revoked.at),
                printable::escape(&revoked.reason)
            ),
        )
        .help(help);
    }
}
