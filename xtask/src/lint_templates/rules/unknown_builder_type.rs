use crate::diagnostic::Findings;
use crate::location::Location;

use crate::schema::PluginKind;

use super::{Context, plugin_installed, suggest};

declare_rule! {
    /// ## What it does
    /// Reports a builder whose `type` is neither built into Packer 1.6.6 as
    /// Debian packages it (the Packer this repository builds with) nor an
    /// installed plugin.
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
    code: "PKR103", name: "unknown-builder-type", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in ctx.template.builders() {
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
