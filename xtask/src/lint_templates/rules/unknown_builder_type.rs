use crate::diagnostic::Findings;
use crate::location::Location;

use crate::schema::PluginKind;

use super::{Context, plugin_installed, suggest};
use super::{Hcl2Context, report_unknown_hcl2_type};
use crate::lint_templates::hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a builder whose `type` is neither built into Packer 1.6.6 as
    /// Debian packages it (the Packer this repository builds with) nor an
    /// installed plugin.
    ///
    /// In an HCL2 template: a `source "<type>"` block, unless a plugin named in
    /// `required_plugins` provides the type (`amazon` provides `amazon-ebs`).
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
        let Some(kind) = builder.kind() else { continue };
        if PluginKind::Builder.fields(kind).is_some() || plugin_installed("builder", kind) {
            continue;
        }
        let finding = out.report(
            &RULE.meta,
            Location::value(builder.at("type")),
            format!("`{kind}` is not a builder type of Packer 1.6.6, and no plugin packer-builder-{kind} is installed"),
        );
        match suggest(kind, PluginKind::Builder.names()) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None => finding.help(format!("if it is a plugin, install packer-builder-{kind} in ~/.packer.d/plugins wherever this template is built")),
        };
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for source in ctx.template.sources() {
        report_unknown_hcl2_type(ctx, source.block, PluginKind::Builder, &RULE.meta, out);
    }
}
