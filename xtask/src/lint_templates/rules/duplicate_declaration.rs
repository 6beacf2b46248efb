use crate::diagnostic::Severity;
use crate::hcl2::At;
use crate::lint_templates::lint_hcl2::FolderFindings;
use crate::location::Location;
use crate::version::Version;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports, in an HCL2 template, a variable declared a second time (in
    /// any file of the folder, as a `variable` block or an entry of a
    /// `variables` block), a local declared twice (in `locals` blocks or
    /// `local` blocks), two `data` blocks of one type and name, a plugin
    /// that two `required_plugins` blocks name, and a setting that a
    /// build's nested `source` block gives again when the source itself
    /// already sets it. Two `source` blocks of one type and name are
    /// `duplicate-builder-name`'s; two `build` blocks may share a name
    /// (Packer accepts it).
    ///
    /// ## Why is this bad?
    /// Packer refuses the whole template: "Duplicate variable" and
    /// "Duplicate argument" from 1.6.6 on; "Duplicate data block" and
    /// "Duplicate required_plugin" since 1.7.0, which brought both blocks;
    /// "Duplicate local definition" since 1.7.10 (1.6.6 to 1.7.9 accept a
    /// local declared in two blocks, so this finding is a warning when only
    /// those releases are in force). See Packer's
    /// `hcl2template/types.variables.go`, `types.packer_config.go`,
    /// `parser.go` and `plugin.go`. Files are read together, so the second
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
    let variables = variables.iter().map(|variable| (format!("variable `{}`", variable.name), variable.at));
    let locals = ctx.template.locals();
    let locals = locals.iter().map(|local| (format!("local `{}`", local.name), local.at));
    let data = ctx.template.data_sources();
    let data = data.iter().map(|data| (format!("data source `data.{}.{}`", data.kind, data.name), data.block.at()));
    let required = ctx.template.packer_blocks().flat_map(|block| block.body.blocks("required_plugins"));
    let plugins: Vec<(String, &At)> = required
        .flat_map(|block| &block.body.attrs)
        .map(|attr| (format!("required plugin `{}`", attr.key), &attr.key_at))
        .collect();
    let declarations: Vec<(String, &At)> = variables.chain(locals).chain(data).chain(plugins).collect();
    for (index, (what, at)) in declarations.iter().enumerate() {
        let Some((_, first)) = declarations[..index].iter().find(|(earlier, _)| earlier == what) else { continue };
        let first_file = &ctx.template.files[first.file].name;
        // Packer refuses a local declared twice only since 1.7.10
        // (`checkForDuplicateLocalDefinition`); before, one of the two wins.
        let lenient =
            what.starts_with("local ") && ctx.in_force.newest_core().is_some_and(|newest| newest < Version(1, 7, 10));
        let finding = if lenient {
            out.report(
                &RULE.meta,
                at,
                format!(
                    "{what} is declared again (first in {first_file}): {} accepts it, Packer 1.7.10 and later \
                     refuse the template",
                    ctx.in_force.core_judged()
                ),
            )
            .severity(Severity::Warning)
        } else {
            out.report(
                &RULE.meta,
                at,
                format!("{what} is declared again (first in {first_file}), so Packer refuses the template"),
            )
        };
        if first.file == at.file {
            finding.related(Location::Bytes(first.bytes.clone()), "first declared here");
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
