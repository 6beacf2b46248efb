use crate::diagnostic::Findings;
use crate::location::Location;
use std::collections::BTreeSet;

use crate::template::Block;

use super::Hcl2Context;
use super::{Context, suggest};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports an `only` or `except` entry, on a provisioner or a
    /// post-processor, that names no builder of the template.
    ///
    /// In an HCL2 template: a build's `sources` entry or `source` block that
    /// names no `source` block, and an `only` or `except` entry of a
    /// provisioner or post-processor that names no source of its build.
    ///
    /// ## Why is this bad?
    /// Packer 1.6.6 accepts it. With `only`, the step then silently runs
    /// for no build at all; with `except`, it runs for the builder the
    /// author meant to exclude.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [ { "type": "amazon-ebs", "name": "frankfurt", … } ],
    ///   "provisioners": [ { "type": "shell", "only": ["frankfort"], … } ] }
    /// ```
    ///
    /// ## Fix
    /// Use the builder's `name` (or its `type` when it has no name).
    code: "PKR305", name: "undefined-builder-reference", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    let names: BTreeSet<&str> = ctx.blocks.builders.iter().filter_map(Block::builder_name).collect();
    let blocks = ctx.blocks.provisioners.iter().chain(ctx.blocks.post_processor_blocks());
    for block in blocks {
        for key in ["only", "except"] {
            for (route, name) in block.strings(key) {
                if names.contains(name) {
                    continue;
                }
                let finding = out.report(
                    &RULE.meta,
                    Location::value(route),
                    format!("`{key}` names `{name}`, which is not a builder of this template"),
                );
                match suggest(name, names.iter().copied()) {
                    Some(better) => finding.help(format!("did you mean `{better}`?")),
                    None => {
                        finding.help(format!("builders here: {}", names.iter().copied().collect::<Vec<_>>().join(", ")))
                    }
                };
            }
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let declared: Vec<String> = ctx.template.sources().iter().map(|source| source.address()).collect();
    for build in ctx.template.builds() {
        // A build's `source` block may rename the source: `only` then uses
        // `<type>.<new name>`.
        let mut names: Vec<String> = Vec::new();
        for used in build.sources() {
            if declared.iter().any(|address| address == used.address) {
                names.push(used.address.to_owned());
                if let Some(renamed) = used.overrides.and_then(|body| body.str("name")) {
                    let kind = used.address.split('.').next().unwrap_or_default();
                    names.push(format!("{kind}.{renamed}"));
                }
                continue;
            }
            let finding = out.report(
                &RULE.meta,
                used.at,
                format!("`source.{}` names no source block of this template", used.address),
            );
            match suggest(used.address, declared.iter().map(String::as_str)) {
                Some(better) => finding.help(format!("did you mean `source.{better}`?")),
                None => finding.help(format!("sources here: {}", declared.join(", "))),
            };
        }
        for block in build.provisioners().chain(build.post_processors()) {
            for key in ["only", "except"] {
                for (at, name) in block.body.strings(key) {
                    if names.iter().any(|known| known == name) {
                        continue;
                    }
                    let finding = out.report(
                        &RULE.meta,
                        at,
                        format!("`{key}` names `{name}`, which is not a source of this build"),
                    );
                    match suggest(name, names.iter().map(String::as_str)) {
                        Some(better) => finding.help(format!("did you mean `{better}`?")),
                        None => finding.help(format!("this build's sources: {}", names.join(", "))),
                    };
                }
            }
        }
    }
}
