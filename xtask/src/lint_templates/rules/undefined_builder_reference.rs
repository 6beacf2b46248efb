use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::builder_names;

use super::{Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports an `only` or `except` entry, on a provisioner or a
    /// post-processor, that names no builder of the template.
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
    code: "PKR305", name: "undefined-builder-reference", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let names = builder_names(ctx.template);
    let blocks = ctx.template.provisioners().into_iter().chain(ctx.template.post_processor_blocks());
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
