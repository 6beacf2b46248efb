//! Symbolic locations and their resolution to byte spans, lines and columns.
//!
//! Rules never compute positions: they name a place in the document with a
//! [`Route`] (a JSON pointer or a YAML route, both are a list of keys and
//! indexes) and this module turns it into a span of the source text, once,
//! when the diagnostic is rendered.

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
        let mut steps = self.0.clone();
        steps.push(Step::Key(key.to_owned()));
        Route(steps)
    }

    pub fn index(&self, index: usize) -> Route {
        let mut steps = self.0.clone();
        steps.push(Step::Index(index));
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
    /// The first occurrence of this text inside the value's source text,
    /// falling back to the whole value when it is not found verbatim
    /// (for instance because the string uses escapes there).
    Text(String),
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

    pub fn text(route: Route, text: impl Into<String>) -> Location {
        Location::At { route, focus: Focus::Text(text.into()) }
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

/// Resolves a location in a JSON source text. Routes that do not exist fall
/// back to their deepest existing ancestor, so a diagnostic always has a place.
pub fn resolve_json(source: &str, location: &Location) -> Span {
    let bytes = match location {
        Location::File => 0..0,
        Location::Offset(offset) => {
            let at = floor_char_boundary(source, (*offset).min(source.len()));
            let end = source[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            at..end
        }
        Location::Bytes(range) => {
            floor_char_boundary(source, range.start.min(source.len()))
                ..floor_char_boundary(source, range.end.min(source.len()))
        }
        Location::At { route, focus } => {
            let found = json::find(source, route.steps());
            match focus {
                Focus::Value => found.value,
                Focus::Key => found.key.unwrap_or(found.value),
                Focus::Text(text) => source[found.value.clone()]
                    .find(text.as_str())
                    .map(|at| found.value.start + at..found.value.start + at + text.len())
                    .unwrap_or(found.value),
            }
        }
    };
    span_of(source, bytes)
}

/// Resolves a location in a YAML document, like [`resolve_json`]: a route
/// that does not exist falls back to its deepest existing ancestor.
pub fn resolve_yaml(source: &str, root: &crate::yaml::Node, location: &Location) -> Span {
    let bytes = match location {
        Location::At { route, focus } => {
            let mut node = root;
            let mut found = 0;
            for depth in 0..route.steps().len() {
                match root.at(&Route::from_steps(route.steps()[..=depth].to_vec())) {
                    Some(next) => (node, found) = (next, depth + 1),
                    None => break,
                }
            }
            let value = node.span.clone();
            // For a key that is missing, the key of its deepest existing
            // parent (`cluster:` for `cluster.region`), or the top of the file.
            let nearest_key = || {
                let existing = Route::from_steps(route.steps()[..found].to_vec());
                root.key_at(&existing).map_or(0..0, |key| key.span.clone())
            };
            match focus {
                Focus::Value => value,
                Focus::Key if found == route.steps().len() => root.key_at(route).map_or(value, |key| key.span.clone()),
                Focus::Key => nearest_key(),
                Focus::Text(text) => source[value.clone()]
                    .find(text.as_str())
                    .map(|at| value.start + at..value.start + at + text.len())
                    .unwrap_or(value),
            }
        }
        other => return resolve_json(source, other),
    };
    span_of(source, bytes)
}

/// Line and column of both ends of a byte range.
pub fn span_of(source: &str, bytes: Range<usize>) -> Span {
    let (line, column) = line_column(source, bytes.start);
    let (end_line, end_column) = line_column(source, bytes.end);
    Span { bytes, line, column, end_line, end_column }
}

/// 1-based line and character column of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
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
    use super::Step;
    use std::ops::Range;

    /// The span of a found value and, when it is an object member, its key.
    /// When the route leads nowhere these are the deepest ancestor's.
    pub struct Found {
        pub key: Option<Range<usize>>,
        pub value: Range<usize>,
    }

    pub fn find(source: &str, steps: &[Step]) -> Found {
        let bytes = source.as_bytes();
        let mut at = skip_ws(bytes, 0);
        let mut found = Found { key: None, value: at..value_end(bytes, at) };
        for step in steps {
            let next = match (step, bytes.get(at)) {
                (Step::Key(wanted), Some(b'{')) => find_member(source, at, wanted),
                (Step::Index(wanted), Some(b'[')) => find_element(bytes, at, *wanted),
                _ => None,
            };
            match next {
                Some(next) => {
                    at = next.value.start;
                    found = next;
                }
                None => break,
            }
        }
        found
    }

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

    fn find_member(source: &str, open: usize, wanted: &str) -> Option<Found> {
        // JSON decoders keep the last of duplicate keys, so the last one is
        // the value that counts.
        members(source, open)
            .into_iter()
            .rev()
            .find(|(_, key, _)| key == wanted)
            .map(|(key, _, value)| Found { key: Some(key), value })
    }

    fn find_element(bytes: &[u8], open: usize, wanted: usize) -> Option<Found> {
        elements(bytes, open).into_iter().nth(wanted).map(|value| Found { key: None, value })
    }

    pub fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
        while at < bytes.len() && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r') {
            at += 1;
        }
        at
    }

    fn string_end(bytes: &[u8], open: usize) -> usize {
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
    fn focus_on_text_inside_a_string() {
        let source = "{\"b\": \"x{{user `v`}}\"}";
        let span = resolve_json(source, &Location::text(Route::root().key("b"), "{{user `v`}}"));
        assert_eq!(&source[span.bytes.clone()], "{{user `v`}}");
        assert_eq!(span.column, 9);
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
