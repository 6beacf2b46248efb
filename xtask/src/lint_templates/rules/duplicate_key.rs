use std::borrow::Cow;
use std::ops::Range;

use crate::diagnostic::Findings;
use crate::location::{LineIndex, Location, json};

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
/// key, in one pass: each object's keys are gathered on a stack shared by
/// all objects and compared when the object closes. The source is valid
/// JSON whose nesting depth the parser accepted.
fn check(ctx: &Context, out: &mut Findings) {
    let source = ctx.source;
    let bytes = source.as_bytes();
    // Built on the first duplicate: most files have none.
    let lines = std::cell::OnceCell::new();
    // The keys of the objects open around `at`, with their spans, and where
    // each open object's keys start on that stack (`None` for an array).
    let mut keys: Vec<(Cow<str>, Range<usize>)> = Vec::new();
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut expect_key = false;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let end = json::string_end(bytes, at);
                if expect_key {
                    let raw = &source[at..end];
                    let key = if raw.contains('\\') {
                        Cow::Owned(serde_json::from_str(raw).unwrap_or_default())
                    } else {
                        Cow::Borrowed(&raw[1..raw.len() - 1])
                    };
                    keys.push((key, at..end));
                    expect_key = false;
                }
                at = end;
                continue;
            }
            b'{' => {
                open.push(Some(keys.len()));
                expect_key = true;
            }
            b'[' => open.push(None),
            b',' => expect_key = matches!(open.last(), Some(Some(_))),
            b'}' => {
                if let Some(Some(first)) = open.pop() {
                    report_repeats(source, &lines, &mut keys[first..], out);
                    keys.truncate(first);
                }
                expect_key = false;
            }
            b']' => {
                open.pop();
                expect_key = false;
            }
            _ => {}
        }
        at += 1;
    }
}

/// Reports each key of one object that an earlier key of it repeats,
/// naming the line of the occurrence just before. Sorting by key, then by
/// place, puts each occurrence right after the one before it.
fn report_repeats<'a>(
    source: &'a str,
    lines: &std::cell::OnceCell<LineIndex<'a>>,
    keys: &mut [(Cow<str>, Range<usize>)],
    out: &mut Findings,
) {
    if keys.len() < 2 {
        return;
    }
    keys.sort_unstable_by(|a, b| (&a.0, a.1.start).cmp(&(&b.0, b.1.start)));
    for pair in keys.windows(2) {
        let [(previous, first), (key, span)] = pair else { continue };
        if previous != key {
            continue;
        }
        let (line, _) = lines.get_or_init(|| LineIndex::new(source)).line_column(first.start);
        out.report(
            &RULE.meta,
            Location::Bytes(span.clone()),
            format!("`{key}` is already set on line {line}; the last value wins"),
        )
        .help("remove one of the two");
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;
    use crate::lint_templates::plugin_keys::PluginKeys;
    use crate::template::{Blocks, Strings, parse};

    /// Each repeat with the line it names: in nested objects and arrays,
    /// a third occurrence naming the second, keys equal once decoded, and
    /// braces and keys inside string values that are no keys.
    #[test]
    fn repeats_in_every_object() {
        let source = r#"{
  "variables": {"a": "1", "b": "{\"a\": 1, \"a\": 2}", "a": "2", "a\u0062": "x", "ab": "y", "a": "3"},
  "builders": [
    {"type": "null", "x": {"k": 1, "k": [ {"k": 2, "k": 3}, {}, [] ], "k": {}}},
    {"type": "null", "type": "null"}
  ],
  "builders": []
}"#;
        let mut findings = Findings::default();
        let Ok(template) = parse(source) else { panic!("the source parses") };
        let external = BTreeSet::new();
        let blocks = Blocks::new(&template);
        let strings = Strings::new(&template);
        let in_force = crate::schema::in_force::InForce::from_setting(&Default::default());
        let plugin_keys = PluginKeys::new(&blocks, &in_force);
        let ctx = Context {
            template: &template,
            blocks: &blocks,
            strings: &strings,
            plugin_keys: &plugin_keys,
            source,
            layout: None,
            dir: Path::new("."),
            external_variables: &external,
            in_force: &in_force,
        };
        check(&ctx, &mut findings);
        let mut found: Vec<(String, String)> = findings
            .into_vec()
            .into_iter()
            .map(|finding| {
                let Location::Bytes(span) = finding.location else { panic!("not a byte range") };
                (source[span].to_owned(), finding.message)
            })
            .collect();
        found.sort();
        let expected = [
            (r#""a""#, "`a` is already set on line 2; the last value wins"),
            (r#""a""#, "`a` is already set on line 2; the last value wins"),
            (r#""ab""#, "`ab` is already set on line 2; the last value wins"),
            (r#""builders""#, "`builders` is already set on line 3; the last value wins"),
            (r#""k""#, "`k` is already set on line 4; the last value wins"),
            (r#""k""#, "`k` is already set on line 4; the last value wins"),
            (r#""k""#, "`k` is already set on line 4; the last value wins"),
            (r#""type""#, "`type` is already set on line 5; the last value wins"),
        ];
        assert_eq!(found, expected.map(|(key, message)| (key.to_owned(), message.to_owned())));
    }
}
