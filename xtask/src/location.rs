//! Symbolic locations and their resolution to byte spans, lines and columns.
//!
//! Rules never compute positions: they name a place in the document with a
//! [`Route`] (a JSON pointer or a YAML route, both are a list of keys and
//! indexes) and this module turns it into a span of the source text, once,
//! when the diagnostic is rendered.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// One step of a route: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A path from the document root to a value, like a JSON pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Route(Vec<Step>);

impl Route {
    pub fn root() -> Route {
        Route(Vec::new())
    }

    pub fn key(&self, key: &str) -> Route {
        self.then(Step::Key(key.to_owned()))
    }

    pub fn index(&self, index: usize) -> Route {
        self.then(Step::Index(index))
    }

    /// This route and one more step, allocated once at its final size.
    fn then(&self, step: Step) -> Route {
        let mut steps = Vec::with_capacity(self.0.len() + 1);
        steps.extend_from_slice(&self.0);
        steps.push(step);
        Route(steps)
    }

    pub fn from_steps(steps: Vec<Step>) -> Route {
        Route(steps)
    }

    pub fn steps(&self) -> &[Step] {
        &self.0
    }
}

impl fmt::Display for Route {
    /// RFC 6901 form, e.g. `/builders/0/ami_name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.0 {
            match step {
                Step::Key(key) => write!(f, "/{}", key.replace('~', "~0").replace('/', "~1"))?,
                Step::Index(index) => write!(f, "/{index}")?,
            }
        }
        Ok(())
    }
}

/// What part of the value at a route a diagnostic is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Focus {
    /// The whole value.
    Value,
    /// The key that names the value (for "this key should not be here").
    Key,
    /// A byte range of the string value as decoded (what the rule read),
    /// which resolution maps back through the escapes of the source text.
    /// Rules that find several things in one string give each its own
    /// place this way. In YAML, and for values that are not strings, the
    /// whole value.
    Within(Range<usize>),
}

/// Where a diagnostic points, before resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A place in a parsed document.
    At { route: Route, focus: Focus },
    /// A byte offset, for problems found before there is a document
    /// (a parse error, invalid UTF-8).
    Offset(usize),
    /// A byte range found by scanning the text.
    Bytes(Range<usize>),
    /// The whole file, when there is no better place (a directory where a
    /// file should be, a file that cannot be read).
    File,
}

impl Location {
    pub fn value(route: Route) -> Location {
        Location::At { route, focus: Focus::Value }
    }

    pub fn key(route: Route) -> Location {
        Location::At { route, focus: Focus::Key }
    }

    /// A part of a string value: `within` is a byte range of the decoded string.
    pub fn within(route: Route, within: Range<usize>) -> Location {
        Location::At { route, focus: Focus::Within(within) }
    }
}

/// A resolved location: a byte range plus 1-based line and column (in
/// characters) for both ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub bytes: Range<usize>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Where each line starts and where the multi-byte characters are, computed
/// once per file, so that a line and column is two binary searches rather
/// than a scan of everything before the offset: a file with thousands of
/// findings resolves in linear time.
pub struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
    /// For each character longer than one byte: its offset and the extra
    /// bytes of all such characters up to and including it.
    wide: Vec<(usize, usize)>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> LineIndex<'a> {
        let line_starts =
            std::iter::once(0).chain(source.bytes().enumerate().filter(|&(_, b)| b == b'\n').map(|(at, _)| at + 1));
        let mut wide = Vec::new();
        if !source.is_ascii() {
            let mut extra = 0;
            for (at, c) in source.char_indices().filter(|(_, c)| !c.is_ascii()) {
                extra += c.len_utf8() - 1;
                wide.push((at, extra));
            }
        }
        LineIndex { source, line_starts: line_starts.collect(), wide }
    }

    /// 1-based line and character column of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(self.source, offset.min(self.source.len()));
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let characters = (offset - start) - (self.extra_before(offset) - self.extra_before(start));
        (line, characters + 1)
    }

    /// Extra bytes of the multi-byte characters that start before `offset`.
    fn extra_before(&self, offset: usize) -> usize {
        match self.wide.partition_point(|&(at, _)| at < offset) {
            0 => 0,
            n => self.wide[n - 1].1,
        }
    }

    /// Line and column of both ends of a byte range.
    pub fn span(&self, bytes: Range<usize>) -> Span {
        let (line, column) = self.line_column(bytes.start);
        let (end_line, end_column) = self.line_column(bytes.end);
        Span { bytes, line, column, end_line, end_column }
    }

    /// The byte range of the 1-based line, without its line break.
    pub fn line(&self, line: usize) -> Range<usize> {
        let start = self.line_starts.get(line.saturating_sub(1)).copied().unwrap_or(self.source.len());
        let end = self.line_starts.get(line).map_or(self.source.len(), |&next| next - 1);
        start..end.max(start)
    }
}

/// An object member's key span and value span.
type Member = (Range<usize>, Range<usize>);

/// What kind of text a file is, for resolving its routes.
#[derive(Clone, Copy)]
pub enum Syntax<'a> {
    Json,
    /// A YAML document, read with the span of every node.
    Yaml(&'a dyn RouteSpans),
    /// An HCL2 file: its findings carry the parser's byte spans
    /// ([`Location::Bytes`]), never routes.
    Hcl,
}

/// A document read into a tree that knows each node's span (YAML's reader
/// keeps them), so it resolves routes itself; this module stays below the
/// readers that use its routes.
pub trait RouteSpans {
    /// The bytes of `route` in `source`, the text the tree was read from.
    fn route_bytes(&self, source: &str, route: &Route, focus: &Focus) -> Range<usize>;
}

/// Resolves the locations of one file's findings. What it learns about the
/// text (line starts, the members of each JSON object looked up) is kept
/// for the next finding, so that many findings cost linear time, not one
/// scan of the file each.
pub struct Resolver<'a> {
    source: &'a str,
    syntax: Syntax<'a>,
    /// Built on the first finding: most files have none.
    lines: OnceCell<LineIndex<'a>>,
    /// The span of the whole JSON document, found on first use.
    document: Option<Range<usize>>,
    /// Members of the JSON objects looked up, by the offset of their `{`:
    /// each key's span and its value's (the last one when a key repeats).
    objects: HashMap<usize, HashMap<String, Member>>,
    /// Elements of the JSON arrays looked up, by the offset of their `[`.
    arrays: HashMap<usize, Vec<Range<usize>>>,
    /// For JSON strings with escapes, by the offset of their opening quote:
    /// (decoded, source) offset pairs after each escape.
    escapes: HashMap<usize, Vec<(usize, usize)>>,
}

impl<'a> Resolver<'a> {
    pub fn new(source: &'a str, syntax: Syntax<'a>) -> Resolver<'a> {
        Resolver {
            source,
            syntax,
            lines: OnceCell::new(),
            document: None,
            objects: HashMap::new(),
            arrays: HashMap::new(),
            escapes: HashMap::new(),
        }
    }

    pub fn resolve(&mut self, location: &Location) -> Span {
        let bytes = match (location, self.syntax) {
            (Location::File, _) => 0..0,
            (Location::Offset(offset), _) => {
                let at = floor_char_boundary(self.source, (*offset).min(self.source.len()));
                let end = self.source[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                at..end
            }
            (Location::Bytes(range), _) => {
                floor_char_boundary(self.source, range.start.min(self.source.len()))
                    ..floor_char_boundary(self.source, range.end.min(self.source.len()))
            }
            (Location::At { route, focus }, Syntax::Json) => self.json_bytes(route, focus),
            (Location::At { route, focus }, Syntax::Yaml(root)) => root.route_bytes(self.source, route, focus),
            (Location::At { .. }, Syntax::Hcl) => 0..0,
        };
        self.lines.get_or_init(|| LineIndex::new(self.source)).span(bytes)
    }

    /// Routes that do not exist fall back to their deepest existing
    /// ancestor, so a diagnostic always has a place.
    fn json_bytes(&mut self, route: &Route, focus: &Focus) -> Range<usize> {
        let bytes = self.source.as_bytes();
        let mut value = self
            .document
            .get_or_insert_with(|| {
                let start = json::skip_ws(bytes, 0);
                start..json::value_end(bytes, start)
            })
            .clone();
        let mut at = value.start;
        let mut key = None;
        for step in route.steps() {
            let next = match (step, bytes.get(at)) {
                (Step::Key(wanted), Some(b'{')) => {
                    let source = self.source;
                    let members = self.objects.entry(at).or_insert_with(|| {
                        json::members(source, at).into_iter().map(|(key, name, value)| (name, (key, value))).collect()
                    });
                    members.get(wanted).map(|(key, value)| (Some(key.clone()), value.clone()))
                }
                (Step::Index(wanted), Some(b'[')) => {
                    let elements = self.arrays.entry(at).or_insert_with(|| json::elements(bytes, at));
                    elements.get(*wanted).map(|value| (None, value.clone()))
                }
                _ => None,
            };
            let Some((next_key, next_value)) = next else { break };
            at = next_value.start;
            (key, value) = (next_key, next_value);
        }
        match focus {
            Focus::Value => value,
            Focus::Key => key.unwrap_or(value),
            Focus::Within(within) => self.within_string(value, within),
        }
    }

    /// The source bytes of a range of the decoded string at `value`.
    fn within_string(&mut self, value: Range<usize>, within: &Range<usize>) -> Range<usize> {
        let raw = &self.source[value.clone()];
        if !raw.starts_with('"') {
            return value;
        }
        let pairs = self.escapes.entry(value.start).or_insert_with(|| escape_offsets(raw));
        let to_source = |decoded: usize| {
            let (from_decoded, from_raw) = match pairs.partition_point(|&(d, _)| d <= decoded) {
                0 => (0, 1),
                n => pairs[n - 1],
            };
            (value.start + from_raw + decoded - from_decoded).min(value.end)
        };
        to_source(within.start)..to_source(within.end)
    }
}

/// (decoded, source) offset pairs after each escape of a JSON string
/// written with its quotes; empty when it has none.
fn escape_offsets(raw: &str) -> Vec<(usize, usize)> {
    let bytes = raw.as_bytes();
    let mut pairs = Vec::new();
    let (mut decoded, mut at) = (0, 1);
    while at + 1 < bytes.len() {
        if bytes[at] != b'\\' {
            decoded += 1;
            at += 1;
            continue;
        }
        let length = if bytes.get(at + 1) == Some(&b'u') { 6 } else { 2 };
        let escape = &raw[at..(at + length).min(raw.len())];
        let (text, length) = match u16::from_str_radix(escape.get(2..).unwrap_or_default(), 16) {
            // A surrogate pair is one character in twelve bytes.
            Ok(high @ 0xD800..=0xDBFF) if raw[at + 6..].starts_with("\\u") => {
                let low = u16::from_str_radix(raw.get(at + 8..at + 12).unwrap_or_default(), 16).unwrap_or(0);
                (String::from_utf16_lossy(&[high, low]), 12)
            }
            Ok(unit) if length == 6 => (String::from_utf16_lossy(&[unit]), 6),
            _ => (String::from("x"), 2),
        };
        decoded += text.len();
        at += length;
        pairs.push((decoded, at));
    }
    pairs
}

/// Byte offset of a 1-based line and byte column, as JSON parsers report them.
pub fn offset_of(source: &str, line: usize, byte_column: usize) -> usize {
    let line_start =
        if line <= 1 { 0 } else { source.match_indices('\n').nth(line - 2).map_or(source.len(), |(at, _)| at + 1) };
    floor_char_boundary(source, (line_start + byte_column.saturating_sub(1)).min(source.len()))
}

fn floor_char_boundary(source: &str, mut offset: usize) -> usize {
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A scanner over JSON text that is already known to be valid: it finds the
/// spans of keys and values without building a tree, and without recursion,
/// so no nesting depth can exhaust the stack.
pub mod json {
    use std::ops::Range;

    /// Every member of the object starting at `open`: key span, decoded key,
    /// value span. Keys are decoded only when they contain escapes.
    pub fn members(source: &str, open: usize) -> Vec<(Range<usize>, String, Range<usize>)> {
        let bytes = source.as_bytes();
        let mut out = Vec::new();
        let mut at = skip_ws(bytes, open + 1);
        while bytes.get(at) == Some(&b'"') {
            let key_end = string_end(bytes, at);
            let raw = &source[at..key_end];
            let key = if raw.contains('\\') {
                serde_json::from_str(raw).unwrap_or_default()
            } else {
                raw[1..raw.len() - 1].to_owned()
            };
            let value_start = skip_ws(bytes, skip_ws(bytes, key_end) + 1);
            let end = value_end(bytes, value_start);
            out.push((at..key_end, key, value_start..end));
            at = skip_ws(bytes, end);
            if bytes.get(at) == Some(&b',') {
                at = skip_ws(bytes, at + 1);
            }
        }
        out
    }

    /// Spans of every element of the array starting at `open`.
    pub fn elements(bytes: &[u8], open: usize) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut at = skip_ws(bytes, open + 1);
        while at < bytes.len() && bytes[at] != b']' {
            let end = value_end(bytes, at);
            out.push(at..end);
            at = skip_ws(bytes, end);
            if bytes.get(at) == Some(&b',') {
                at = skip_ws(bytes, at + 1);
            }
        }
        out
    }

    pub fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
            at += 1;
        }
        at
    }

    /// End of the string whose opening quote is at `open`.
    pub fn string_end(bytes: &[u8], open: usize) -> usize {
        let mut at = open + 1;
        while at < bytes.len() {
            match bytes[at] {
                b'\\' => at += 2,
                b'"' => return at + 1,
                _ => at += 1,
            }
        }
        bytes.len()
    }

    /// End of the value starting at `at`.
    pub fn value_end(bytes: &[u8], at: usize) -> usize {
        match bytes.get(at) {
            Some(b'"') => string_end(bytes, at),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                let mut i = at;
                while i < bytes.len() {
                    match bytes[i] {
                        b'"' => {
                            i = string_end(bytes, i);
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return i + 1;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                bytes.len()
            }
            Some(_) => {
                let mut i = at;
                while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    i += 1;
                }
                i
            }
            None => at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "{\n  \"a\": [1, {\"b\": \"x{{user `v`}}\"}],\n  \"a\": [true, {\"b\": \"é\"}]\n}";

    fn resolve_json(source: &str, location: &Location) -> Span {
        Resolver::new(source, Syntax::Json).resolve(location)
    }

    #[test]
    fn finds_the_last_of_duplicate_keys() {
        let span = resolve_json(SOURCE, &Location::value(Route::root().key("a").index(1).key("b")));
        assert_eq!(&SOURCE[span.bytes.clone()], "\"é\"");
        assert_eq!((span.line, span.column, span.end_line, span.end_column), (3, 21, 3, 24));
    }

    #[test]
    fn missing_routes_fall_back_to_the_nearest_ancestor() {
        let span = resolve_json(SOURCE, &Location::value(Route::root().key("a").index(7)));
        assert_eq!(&SOURCE[span.bytes], "[true, {\"b\": \"é\"}]");
    }

    #[test]
    fn a_range_of_a_string_through_its_escapes() {
        let source = r#"{"b": "x{{user `v`}}", "c": "\"é\u00e9\ud83d\ude00{{env \"H\"}}"}"#;
        let span = resolve_json(source, &Location::within(Route::root().key("b"), 1..13));
        assert_eq!(&source[span.bytes.clone()], "{{user `v`}}");
        assert_eq!(span.column, 9);
        let decoded = "\"é\u{e9}\u{1f600}{{env \"H\"}}";
        let start = decoded.find("{{").unwrap();
        let span = resolve_json(source, &Location::within(Route::root().key("c"), start..decoded.len()));
        assert_eq!(&source[span.bytes], r#"{{env \"H\"}}"#);
    }

    #[test]
    fn lines_and_columns_count_characters() {
        let source = "aé\nbçd\n\nx";
        let lines = LineIndex::new(source);
        assert_eq!(lines.line_column(0), (1, 1));
        assert_eq!(lines.line_column(3), (1, 3));
        assert_eq!(lines.line_column(source.find('d').unwrap()), (2, 3));
        assert_eq!(lines.line_column(source.find('x').unwrap()), (4, 1));
        assert_eq!(lines.line_column(source.len() + 5), (4, 2));
        assert_eq!(&source[lines.line(2)], "bçd");
        assert_eq!(&source[lines.line(3)], "");
    }

    #[test]
    fn pointer_display_escapes() {
        assert_eq!(Route::root().key("a/b~").index(2).to_string(), "/a~1b~0/2");
    }

    #[test]
    fn offsets_from_parser_positions() {
        assert_eq!(offset_of("ab\ncd", 2, 2), 4);
        assert_eq!(offset_of("ab\ncd", 1, 0), 0);
    }
}
