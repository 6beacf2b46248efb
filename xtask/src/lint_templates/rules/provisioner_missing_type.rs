use crate::diagnostic::Findings;

use super::{Context, report_missing_types};

declare_rule! {
    /// ## What it does
    /// Reports a provisioner with no `type`, or whose `type` is not a string.
    ///
    /// ## Why is this bad?
    /// Packer cannot run a provisioner it cannot identify, and refuses the
    /// template.
    ///
    /// ## Example
    /// ```json
    /// { "provisioners": [ { "inline": ["sudo yum -y update"] } ] }
    /// ```
    ///
    /// ## Fix
    /// Add `"type": "shell"` (or the provisioner you mean).
    code: "PKR301", name: "provisioner-missing-type", severity: Error, check: Some(check), hcl2: None,
}

fn check(ctx: &Context, out: &mut Findings) {
    report_missing_types(&ctx.blocks.provisioners, &RULE.meta, "provisioner", out);
}
