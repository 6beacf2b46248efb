use crate::diagnostic::Findings;
use crate::location::Location;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a builder with no `type`, or whose `type` is not a string.
    ///
    /// ## Why is this bad?
    /// The type selects the builder (`amazon-ebs`, `googlecompute`, …);
    /// without it Packer cannot start the build.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [ { "region": "eu-central-1", "ami_name": "base-{{timestamp}}" } ] }
    /// ```
    ///
    /// ## Fix
    /// Add `"type": "amazon-ebs"` (or the builder you mean).
    code: "PKR102", name: "builder-missing-type", severity: Error, check: Some(check), hcl2: None,
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in &ctx.blocks.builders {
        if builder.kind().is_none() {
            let location = if builder.body.contains_key("type") {
                Location::value(builder.at("type"))
            } else {
                Location::value(builder.route.clone())
            };
            out.report(&RULE.meta, location, "this builder has no `type`")
                .help("add `\"type\": \"amazon-ebs\"` or the builder you mean");
        }
    }
}
