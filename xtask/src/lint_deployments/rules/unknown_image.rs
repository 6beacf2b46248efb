use crate::deployments::image_route;
use crate::diagnostic::{Findings, Severity};
use crate::location::Location;
use crate::printable;

use super::{Context, InChannel};

declare_rule! {
    /// ## What it does
    /// Reports a `machine_image.id` that is not the image
    /// `packer/images.lock` records for the template feeding it, in the
    /// deployment's region. Checked only for templates the lock records.
    ///
    /// With `[channels]` in `xtask.toml`, the image recorded for a
    /// deployment is the one the lock last gave its channel (`images` for
    /// the first channel, `promote` and `rollback` for any): another image
    /// the lock keeps is reported as a write that did not finish, one the
    /// lock records as pruned as gone. A channel the lock has given no
    /// image yet may boot any image the lock keeps for that region; a
    /// later channel that the lock has given nothing there yet, booting an
    /// image the lock does not know, is a warning, not an error: on a
    /// repository whose first build came with `[channels]`, that is the
    /// image the cluster booted before xtask, and the first `promote`
    /// replaces it (an error would stop every commit until the soak ends).
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
    /// its recorded ID is written into the deployment. In a later channel,
    /// run the `promote` or `rollback` that gave the channel its image
    /// again: it finishes what was interrupted.
    code: "DEP010", name: "unknown-image", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let channel = ctx.channel();
    for entry in ctx.locked_roles() {
        let (id, region, template) = (entry.id, entry.region, &entry.template.rel);
        let folder = template.strip_suffix("/template.json").unwrap_or(template);
        let known = entry.locked.images_of(region).any(|image| image.id == id);
        let pruned = entry.locked.lifecycle_of(id).pruned;
        // Only the adoption of a later channel lowers the rule's severity.
        let mut adopted = false;
        let (message, help) = match &channel {
            InChannel::Unknown => continue,
            InChannel::NoChannels => match entry.locked.images.get(region) {
                Some(image) if image.id == id => continue,
                Some(image) => (
                    format!("`{id}` is not the image the lock records for {template} in {region} ({})", image.id),
                    IMAGES_HELP.to_owned(),
                ),
                None => (format!("the lock records no image of {template} in {region}"), IMAGES_HELP.to_owned()),
            },
            InChannel::Channel(channels, channel) => {
                let given = entry.locked.channels.get(*channel).and_then(|given| given.get(region));
                let recorded = match given {
                    Some(given) => Some(given.as_str()),
                    None if *channel == channels.first() => {
                        entry.locked.images.get(region).map(|image| image.id.as_str())
                    }
                    None => None,
                };
                let finish = if *channel == channels.first() {
                    "run `cargo xtask images` to write it (it rebuilds only what changed)".to_owned()
                } else {
                    format!(
                        "if a `cargo xtask promote --to {channel}` or `rollback --channel {channel}` was \
                         interrupted, run it again to finish; otherwise write that image here"
                    )
                };
                match (recorded, pruned) {
                    (_, Some(pruning)) => (
                        format!(
                            "`{id}` of {folder} ({region}) was pruned on {}: the image no longer exists",
                            printable::escape(&pruning.started_at)
                        ),
                        format!("write the image the lock records for the channel `{channel}`: {finish}"),
                    ),
                    (Some(recorded), _) if recorded == id => continue,
                    (None, _) if known => continue,
                    (Some(recorded), _) => (
                        format!(
                            "`{id}` is not the image the lock records for the channel `{channel}` of {folder} in {region} \
                             ({recorded}){}",
                            match entry.locked.images.get(region) {
                                Some(newest) if newest.id == id => "; it is the newest image the lock records",
                                _ if known => "; the lock keeps it as an earlier image",
                                _ => "",
                            }
                        ),
                        finish,
                    ),
                    (None, _)
                        if given.is_none()
                            && let Some(before) = channels.before(channel) =>
                    {
                        adopted = true;
                        (
                            format!(
                                "`{id}` is no image the lock records of {folder} in {region}, and the lock has given \
                                 the channel `{channel}` no image there yet: taken as what it booted before xtask"
                            ),
                            format!(
                                "`cargo xtask promote --to {channel}` takes the image a deployment of `{before}` \
                                 boots in {region} once it has soaked, and replaces this one; until then, check the \
                                 ID is the one the cluster runs"
                            ),
                        )
                    }
                    (None, _) => (
                        format!("`{id}` is no image the lock records of {folder} in {region}"),
                        match channels.before(channel) {
                            Some(before) => format!(
                                "write an image the lock keeps for {region} (`cargo xtask status` lists them), or \
                                 promote one into the channel `{channel}` (`cargo xtask promote --to {channel}` takes \
                                 the image a deployment of `{before}` boots in {region})"
                            ),
                            None => format!(
                                "write an image the lock keeps for {region} (`cargo xtask status` lists them), or run \
                                 `cargo xtask images` to write the one it gives `{channel}`"
                            ),
                        },
                    ),
                }
            }
        };
        let finding = out.report(&RULE.meta, Location::value(image_route(entry.role)), message).help(help);
        if adopted {
            finding.severity(Severity::Warning);
        }
    }
}

const IMAGES_HELP: &str = "run `cargo xtask images` to write the recorded image (it rebuilds only what changed)";
