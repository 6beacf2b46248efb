use crate::diagnostic::Findings;
use crate::location::Location;

use crate::schema::PluginKind;

use super::{Context, report_unknown_type};
use super::{Hcl2Context, hcl2_build_blocks, report_unknown_hcl2_type};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a provisioner whose `type` none of the releases the template is
    /// judged against has (see `unknown-key` for how they are chosen), when
    /// it is a near-miss of a type that some release of Packer or of a
    /// plugin xtask knows has (`amazon-eb`), or when only releases outside
    /// those in force have it. Any other type may be a third-party plugin
    /// that Packer runs when it is installed: `unchecked-plugin-type` notes
    /// it instead, since xtask cannot know it.
    ///
    /// In an HCL2 template: a `provisioner "<type>"` block; a type a `required_plugins`
    /// entry provides is judged at the plugin releases the entry allows.
    ///
    /// ## Why is this bad?
    /// `packer validate -syntax-only` accepts it; the build fails once the
    /// machine is up, after minutes of paid instance time.
    ///
    /// ## Example
    /// ```json
    /// { "provisioners": [ { "type": "shel", "inline": ["echo hi"] } ] }
    /// ```
    ///
    /// ## Fix
    /// Use one of Packer's provisioner types, such as `shell`, `file` or
    /// `ansible`.
    code: "PKR302", name: "unknown-provisioner-type", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    for block in &ctx.blocks.provisioners {
        if let Some(kind) = block.kind() {
            report_unknown_type(ctx, kind, Location::value(block.at("type")), PluginKind::Provisioner, &RULE.meta, out);
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for block in hcl2_build_blocks(ctx, PluginKind::Provisioner) {
        report_unknown_hcl2_type(ctx, block, PluginKind::Provisioner, &RULE.meta, out);
    }
}
