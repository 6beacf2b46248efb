use std::collections::BTreeMap;

use crate::diagnostic::Findings;
use crate::location::Location;
use crate::yaml::{Kind, Node};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a key that appears twice in the same mapping.
    ///
    /// ## Why is this bad?
    /// YAML 1.2 forbids it, and the loaders that accept it keep one of the
    /// two values: which one a tool sees, and which one `cargo xtask images`
    /// patches, is not what a reader sees.
    ///
    /// ## Example
    /// ```yaml
    /// cluster:
    ///   region: eu-west-1
    ///   region: eu-central-1
    /// ```
    ///
    /// ## Fix
    /// Keep one of the two.
    code: "DEP002", name: "duplicate-key", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let mut pending: Vec<&Node> = vec![&ctx.deployment.root];
    // Built on the first duplicate: most files have none.
    let lines = std::cell::OnceCell::new();
    while let Some(node) = pending.pop() {
        match &node.kind {
            Kind::Mapping(entries) => {
                let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
                for (key, value) in entries {
                    if let Some(name) = key.as_str()
                        && let Some(first) = seen.insert(name, key.span.start)
                    {
                        let (line, _) = lines
                            .get_or_init(|| crate::location::LineIndex::new(&ctx.deployment.source))
                            .line_column(first);
                        out.report(
                            &RULE.meta,
                            Location::Bytes(key.span.clone()),
                            format!("`{name}` is already set on line {line}"),
                        )
                        .help("remove one of the two");
                    }
                    pending.push(value);
                }
            }
            Kind::Sequence(items) => pending.extend(items),
            _ => {}
        }
    }
}
