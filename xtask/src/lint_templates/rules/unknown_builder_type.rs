use crate::diagnostic::Findings;
use crate::location::Location;

use crate::schema::PluginKind;

use super::{Context, report_unknown_type};
use super::{Hcl2Context, report_unknown_hcl2_type};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a builder whose `type` none of the releases the template is
    /// judged against has (see `unknown-key` for how they are chosen), when
    /// it is a near-miss of a type that some release of Packer or of a
    /// plugin xtask knows has (`amazon-eb`), or when only releases outside
    /// those in force have it. Any other type may be a third-party plugin
    /// that Packer runs when it is installed: `unchecked-plugin-type` notes
    /// it instead, since xtask cannot know it.
    ///
    /// In an HCL2 template: a `source "<type>"` block; a type a `required_plugins`
    /// entry provides is judged at the plugin releases the entry allows.
    ///
    /// ## Why is this bad?
    /// `packer validate -syntax-only` accepts any type; the mistake shows
    /// only when the build starts, or never when that builder is filtered
    /// out with `-only`.
    ///
    /// ## Example
    /// ```json
    /// { "type": "amazon-ebs-backed" }
    /// ```
    ///
    /// ## Fix
    /// Use one of Packer's builder types, such as `amazon-ebs` or
    /// `googlecompute`. A third-party plugin must be installed where every
    /// build runs.
    code: "PKR103", name: "unknown-builder-type", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in &ctx.blocks.builders {
        if let Some(kind) = builder.kind() {
            report_unknown_type(ctx, kind, Location::value(builder.at("type")), PluginKind::Builder, &RULE.meta, out);
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for source in ctx.template.sources() {
        report_unknown_hcl2_type(ctx, source.block, PluginKind::Builder, &RULE.meta, out);
    }
}
