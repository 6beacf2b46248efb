use std::collections::HashMap;

use crate::diagnostic::Findings;
use crate::location::{Location, json};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a key that appears twice in the same JSON object.
    ///
    /// ## Why is this bad?
    /// Packer refuses a template with a duplicate top-level section, and
    /// inside a block it silently keeps the last value: the first one, which
    /// a reader may well take for the setting, does nothing.
    ///
    /// ## Example
    /// ```json
    /// { "type": "amazon-ebs", "region": "eu-west-1", "region": "eu-central-1" }
    /// ```
    ///
    /// ## Fix
    /// Keep one of the two.
    code: "PKR006", name: "duplicate-key", severity: Error, check: Some(check), hcl2: None,
}

/// Runs over the source text, since a parsed document keeps one value per
/// key. The source is valid JSON whose nesting depth the parser accepted.
fn check(ctx: &Context, out: &mut Findings) {
    let source = ctx.source;
    let bytes = source.as_bytes();
    // Built on the first duplicate: most files have none.
    let lines = std::cell::OnceCell::new();
    let mut pending = vec![json::skip_ws(bytes, 0)];
    while let Some(at) = pending.pop() {
        match bytes.get(at) {
            Some(b'{') => {
                let members = json::members(source, at);
                let mut seen: HashMap<&str, usize> = HashMap::new();
                for (key_span, key, value_span) in &members {
                    if let Some(first) = seen.insert(key.as_str(), key_span.start) {
                        let (line, _) =
                            lines.get_or_init(|| crate::location::LineIndex::new(source)).line_column(first);
                        out.report(
                            &RULE.meta,
                            Location::Bytes(key_span.clone()),
                            format!("`{key}` is already set on line {line}; the last value wins"),
                        )
                        .help("remove one of the two");
                    }
                    pending.push(value_span.start);
                }
            }
            Some(b'[') => pending.extend(json::elements(bytes, at).into_iter().map(|span| span.start)),
            _ => {}
        }
    }
}
