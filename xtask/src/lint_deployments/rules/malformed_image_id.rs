use crate::deployments::image_route;
use crate::diagnostic::Findings;
use crate::image_id::{is_ami_id, is_gce_image_name};
use crate::location::Location;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a `machine_image.id` that is not shaped like an image ID of
    /// the deployment's cloud: on AWS `ami-` and 8 or 17 lower-case hex
    /// digits, on GCE an image name (a lower-case letter, then letters,
    /// digits and dashes, at most 63).
    ///
    /// ## Why is this bad?
    /// A mistyped or truncated ID (a paste that lost its last digit, a
    /// region prefix left in) fails only when the cluster starts.
    ///
    /// ## Example
    /// ```yaml
    /// bastion:
    ///   machine_image:
    ///     id: eu-central-1:ami-0123456789abcdef   # region prefix, 16 digits
    /// ```
    ///
    /// ## Fix
    /// Let `cargo xtask images` write the ID, or copy the `ami-…` part only.
    code: "DEP008", name: "malformed-image-id", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let Some(cloud) = ctx.deployment.cloud() else { return };
    for role in ctx.deployment.roles() {
        let Some(node) = ctx.deployment.image_id(role) else { continue };
        let id = node.as_str().unwrap_or_default();
        let (well_formed, shape) = match cloud {
            "aws" => (is_ami_id(id), "`ami-` and 8 or 17 lower-case hex digits"),
            "gce" => (is_gce_image_name(id), "a GCE image name"),
            _ => continue,
        };
        if !well_formed {
            out.report(
                &RULE.meta,
                Location::value(image_route(role)),
                format!("`{id}` is not an image ID: expected {shape}"),
            )
            .help("let `cargo xtask images` write it, or copy the ID exactly");
        }
    }
}
