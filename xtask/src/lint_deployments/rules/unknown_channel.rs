use crate::channels::{self, Declared, Membership};
use crate::diagnostic::Findings;
use crate::location::Location;
use crate::printable;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a deployment whose top-level `channel` is not one of the
    /// channels `xtask.toml` names in `[channels] order`, is not one name
    /// (a list, a number, `null`, a value with a tag), or is set while
    /// `xtask.toml` has no `[channels]`.
    ///
    /// ## Why is this bad?
    /// A deployment is in the channel it names, or, without `channel`, in
    /// the last one. One that names no configured channel is in none:
    /// `images` does not give it new images and `promote` never reaches
    /// it, so the cluster stays on its image without anyone deciding so.
    ///
    /// ## Example
    /// ```yaml
    /// # xtask.toml: [channels] order = ["canary", "stable"]
    /// channel: beta
    /// release: "3.11"
    /// ```
    ///
    /// ## Fix
    /// Name a configured channel (`channel: canary`), remove `channel` to
    /// put the deployment in the last one, or add the channel to
    /// `[channels] order` in `xtask.toml`.
    code: "DEP011", name: "unknown-channel", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let declared = channels::declared(ctx.deployment);
    if declared == Declared::Absent {
        return;
    }
    let (message, help) = match ctx.channels {
        None => {
            let name = match &declared {
                Declared::Name(name) => printable::escape(name).into_owned(),
                _ => "…".to_owned(),
            };
            (
                "the deployment names a channel, and xtask.toml has no [channels]".to_owned(),
                format!(
                    "add the channels to xtask.toml ([channels] order = [\"{name}\", …]; docs/rolling-out.md \
                     shows how), or remove `channel`"
                ),
            )
        }
        Some(configured) => match configured.of(ctx.deployment) {
            Membership::In(_) => return,
            Membership::Unknown(why) => (
                format!("{}; `images` and `promote` leave it alone", why.trim_start_matches("its ")),
                format!(
                    "name one of {} (without `channel` it is in `{}`), or add it to [channels] order in xtask.toml",
                    configured.listed(),
                    configured.last()
                ),
            ),
        },
    };
    out.report(&RULE.meta, Location::value(channels::route()), message).help(help);
}
