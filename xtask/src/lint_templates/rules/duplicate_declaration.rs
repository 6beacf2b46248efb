use crate::lint_templates::hcl2::FolderFindings;
use crate::location::Location;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports, in an HCL2 template, a variable declared a second time (in
    /// any file of the folder, as a `variable` block or an entry of a
    /// `variables` block), and a setting that a build's nested `source`
    /// block gives again when the source itself already sets it.
    ///
    /// ## Why is this bad?
    /// Packer 1.6.6 refuses the whole template ("Duplicate variable",
    /// "Duplicate argument"). Files are read together, so the second
    /// declaration is often in another file and easy to miss; a nested
    /// source block may add settings to its source, not replace them.
    ///
    /// ## Example
    /// ```hcl
    /// source "amazon-ebs" "base" { region = "eu-west-1" }
    /// build {
    ///   source "source.amazon-ebs.base" { region = "eu-central-1" }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Keep one declaration; for a nested source block, take the setting
    /// out of the source and give it in each build that uses it.
    code: "PKR511", name: "duplicate-declaration", severity: Error, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let variables = ctx.template.variables();
    for (index, variable) in variables.iter().enumerate() {
        let Some(first) = variables[..index].iter().find(|earlier| earlier.name == variable.name) else { continue };
        let first_file = &ctx.template.files[first.at.file].name;
        let finding = out.report(
            &RULE.meta,
            variable.at,
            format!(
                "variable `{}` is declared again (first in {first_file}), so Packer refuses the template",
                variable.name
            ),
        );
        if first.at.file == variable.at.file {
            finding.related(Location::Bytes(first.at.bytes.clone()), "first declared here");
        }
        finding.help("keep one declaration of it");
    }
    for target in ctx.template.build_targets() {
        let (Some(overrides), Some(source)) = (target.overrides, target.source) else { continue };
        for attr in &overrides.attrs {
            if attr.key == "name" {
                continue;
            }
            if let Some(set) = source.body.attr(&attr.key) {
                let finding = out.report(
                    &RULE.meta,
                    &attr.key_at,
                    format!(
                        "`{}` is set here and by the source `{}` itself, so Packer refuses the template",
                        attr.key,
                        format_args!("{}.{}", target.kind, source.label(1).unwrap_or_default())
                    ),
                );
                if set.key_at.file == attr.key_at.file {
                    finding.related(Location::Bytes(set.key_at.bytes.clone()), "the source sets it here");
                }
                finding.help("a nested source block adds settings to its source: set it in one of the two");
            }
        }
    }
}
