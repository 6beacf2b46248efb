use crate::diagnostic::Findings;

use super::{Context, report_missing_types};

declare_rule! {
    /// ## What it does
    /// Reports a post-processor block with no `type`, or whose `type` is not
    /// a string.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template, and the step meant to run after the
    /// build (a manifest, a checksum) never does.
    ///
    /// ## Example
    /// ```json
    /// { "post-processors": [ { "output": "manifest.json" } ] }
    /// ```
    ///
    /// ## Fix
    /// Add `"type": "manifest"` (or the post-processor you mean).
    code: "PKR311", name: "post-processor-missing-type", severity: Error, check: Some(check), hcl2: None,
}

fn check(ctx: &Context, out: &mut Findings) {
    report_missing_types(ctx.blocks.post_processor_blocks(), &RULE.meta, "post-processor", out);
}
