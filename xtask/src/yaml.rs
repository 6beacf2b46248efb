//! YAML documents with the byte span of every node, read with saphyr-parser,
//! and edits that replace one scalar's bytes and nothing else, so that
//! comments, blank lines, key order and quoting survive a patch.
//!
//! A document can be looked at two ways. [`Node::get`] and [`Node::at`] see
//! it as written in the file: an alias is a leaf of its
//! own ([`Kind::Alias`], spanning `*name`) and a merge key (`<<: *common`) is
//! an ordinary entry; that is what the writer needs, since patching a value
//! reached through an alias would change every place that shares it.
//! [`Node::lookup`], [`Node::lookup_key`] and [`Node::lookup_key_at`] see it
//! as a YAML loader does:
//! aliases resolved to the node they name, merge keys applied (keys written
//! in the mapping first, then the merged mappings in order); that is what
//! the linters read.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::location::{Focus, Route, RouteSpans, Step};

/// Deeper nesting than this is refused rather than built.
const MAX_DEPTH: usize = 256;

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: Kind,
    /// Byte range in the source; for a quoted scalar, quotes included; for
    /// an alias, the alias itself (`*name`).
    pub span: Range<usize>,
    /// The node carries an anchor that an alias or a merge key uses: it is
    /// a definition others share (`common: &common …`).
    pub shared: bool,
    /// Carries a tag (`!!str`, `!custom`).
    pub tagged: bool,
}

#[derive(Clone, Debug)]
pub enum Kind {
    Scalar {
        value: String,
        style: Style,
    },
    Mapping(Vec<(Node, Node)>),
    Sequence(Vec<Node>),
    /// `*name`, with the anchored node it names (never itself an alias).
    Alias(Arc<Node>),
}

/// The key that merges other mappings into the one it is in.
const MERGE_KEY: &str = "<<";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`, `|-`, `|+`; the span starts at the first content character.
    Literal,
    /// `>`, `>-`, `>+`; the span starts at the first content character.
    Folded,
}

/// A YAML syntax error with its byte offset.
#[derive(Debug)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn style(&self) -> Option<Style> {
        match &self.kind {
            Kind::Scalar { style, .. } => Some(*style),
            _ => None,
        }
    }

    /// The value of a mapping's key; the last one when a key repeats, as
    /// YAML loaders that accept duplicates do.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Mapping(entries) => entries.iter().rev().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The node at a route of keys and indexes.
    pub fn at(&self, route: &Route) -> Option<&Node> {
        route.steps().iter().try_fold(self, |node, step| match (step, &node.kind) {
            (Step::Key(key), _) => node.get(key),
            (Step::Index(i), Kind::Sequence(items)) => items.get(*i),
            _ => None,
        })
    }

    /// The node an alias names; any other node itself.
    pub fn resolved(&self) -> &Node {
        match &self.kind {
            Kind::Alias(target) => target,
            _ => self,
        }
    }

    fn is_merge_key(&self) -> bool {
        self.style() == Some(Style::Plain) && self.as_str() == Some(MERGE_KEY)
    }

    /// The mappings a `<<` value merges, in precedence order.
    fn merged(value: &Node) -> Vec<&Node> {
        match &value.resolved().kind {
            Kind::Mapping(_) => vec![value.resolved()],
            Kind::Sequence(items) => {
                items.iter().map(Node::resolved).filter(|item| matches!(item.kind, Kind::Mapping(_))).collect()
            }
            _ => Vec::new(),
        }
    }

    /// A mapping's key and value as a YAML loader sees them: the value
    /// resolved, the key found among the mapping's own keys (the last when
    /// one repeats) or else in the mappings it merges.
    pub fn lookup_key(&self, key: &str) -> Option<(&Node, &Node)> {
        let Kind::Mapping(entries) = &self.resolved().kind else {
            return None;
        };
        let own = entries.iter().rev().find(|(k, _)| !k.is_merge_key() && k.as_str() == Some(key));
        if let Some((k, v)) = own {
            return Some((k, v.resolved()));
        }
        entries
            .iter()
            .filter(|(k, _)| k.is_merge_key())
            .flat_map(|(_, v)| Node::merged(v))
            .find_map(|merged| merged.lookup_key(key))
    }

    /// The keys of a mapping as a YAML loader sees them: its own, then the
    /// merged ones it does not set itself, each once.
    pub fn lookup_keys(&self) -> Vec<&str> {
        let Kind::Mapping(entries) = &self.resolved().kind else {
            return Vec::new();
        };
        let mut keys: Vec<&str> = Vec::new();
        for (key, value) in entries {
            let found = if key.is_merge_key() {
                Node::merged(value).into_iter().flat_map(Node::lookup_keys).collect()
            } else {
                key.as_str().into_iter().collect::<Vec<_>>()
            };
            for key in found {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        keys
    }

    /// The value at a route as a YAML loader sees it (see the module doc).
    pub fn lookup(&self, route: &Route) -> Option<&Node> {
        route.steps().iter().try_fold(self.resolved(), |node, step| match (step, &node.kind) {
            (Step::Key(key), _) => node.lookup_key(key).map(|(_, value)| value),
            (Step::Index(i), Kind::Sequence(items)) => items.get(*i).map(Node::resolved),
            _ => None,
        })
    }

    /// The key node of the last step of a route, as [`Node::lookup`] finds
    /// it, for diagnostics about a key.
    pub fn lookup_key_at(&self, route: &Route) -> Option<&Node> {
        let (Step::Key(last), parent) = route.steps().split_last()? else {
            return None;
        };
        let parent = self.lookup(&Route::from_steps(parent.to_vec()))?;
        parent.lookup_key(last).map(|(key, _)| key)
    }
}

/// Parses `source`, which must hold one document. An empty source is an
/// empty mapping. A byte order mark at the start is allowed, as YAML allows
/// it; a NUL byte and a second document are errors, since a loader would
/// stop at the first or read only the first.
pub fn parse(source: &str) -> Result<Node, SyntaxError> {
    if let Some(at) = source.find('\0') {
        return Err(SyntaxError {
            offset: at,
            message: "a NUL byte, which YAML does not allow; a reader would stop here".to_owned(),
        });
    }
    // saphyr-parser does not skip the mark itself: parse what follows it.
    let (text, shift) = match source.strip_prefix('\u{feff}') {
        Some(rest) => (rest, '\u{feff}'.len_utf8()),
        None => (source, 0),
    };
    let offsets = CharOffsets::new(text, shift);
    let mut parser = Parser::new_from_str(text);
    // Open collections: their start byte, their anchor and the children
    // read so far.
    enum Open {
        Mapping(usize, usize, bool, Vec<Node>),
        Sequence(usize, usize, bool, Vec<Node>),
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut anchors: HashMap<usize, Arc<Node>> = HashMap::new();
    let used = used_anchors(text);
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| SyntaxError {
            offset: offsets.byte(error.marker().index()),
            message: error.info().to_owned(),
        })?;
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index());
        let (finished, anchor) = match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError {
                        offset: start,
                        message: "a second YAML document starts here; a deployment is one document, and \
                                  loaders read only the first"
                            .to_owned(),
                    });
                }
                (None, 0)
            }
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    _ => Style::Folded,
                };
                let kind = Kind::Scalar { value: value.into_owned(), style };
                (Some(Node { kind, span: start..end, shared: false, tagged: tag.is_some() }), anchor)
            }
            Event::Alias(anchor) => {
                // The parser refuses an alias to an anchor it has not seen.
                let target = anchors.get(&anchor).cloned().ok_or_else(|| SyntaxError {
                    offset: start,
                    message: "an alias to an anchor that is not defined before it".to_owned(),
                })?;
                (Some(Node { kind: Kind::Alias(target), span: start..end, shared: false, tagged: false }), 0)
            }
            Event::MappingStart(anchor, ref tag) | Event::SequenceStart(anchor, ref tag) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        offset: start,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                let tagged = tag.is_some();
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Open::Mapping(start, anchor, tagged, Vec::new())
                } else {
                    Open::Sequence(start, anchor, tagged, Vec::new())
                });
                (None, 0)
            }
            Event::MappingEnd => match stack.pop() {
                Some(Open::Mapping(open, anchor, tagged, children)) => {
                    let mut entries = Vec::with_capacity(children.len() / 2);
                    let mut items = children.into_iter();
                    while let (Some(key), Some(value)) = (items.next(), items.next()) {
                        if key.is_merge_key() && Node::merged(&value).len() != sequence_len(&value).unwrap_or(1) {
                            return Err(SyntaxError {
                                offset: value.span.start,
                                message: "`<<` merges a mapping or a list of mappings, nothing else".to_owned(),
                            });
                        }
                        entries.push((key, value));
                    }
                    let close = entries.last().map_or(end, |(_, value)| value.span.end.max(open));
                    let span = open..close.max(open);
                    (Some(Node { kind: Kind::Mapping(entries), span, shared: false, tagged }), anchor)
                }
                _ => (None, 0),
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Sequence(open, anchor, tagged, items)) => {
                    let close = items.last().map_or(end, |item| item.span.end.max(open));
                    let span = open..close.max(open);
                    (Some(Node { kind: Kind::Sequence(items), span, shared: false, tagged }), anchor)
                }
                _ => (None, 0),
            },
            _ => (None, 0),
        };
        if let Some(mut node) = finished {
            if anchor != 0 {
                node.shared = used.contains(&anchor);
                anchors.insert(anchor, Arc::new(node.clone()));
            }
            match stack.last_mut() {
                Some(Open::Mapping(_, _, _, children) | Open::Sequence(_, _, _, children)) => children.push(node),
                None => {
                    root = Some(node);
                }
            }
        }
    }
    Ok(root.unwrap_or(Node { kind: Kind::Mapping(Vec::new()), span: 0..0, shared: false, tagged: false }))
}

/// How many items a sequence value has, through an alias.
fn sequence_len(value: &Node) -> Option<usize> {
    match &value.resolved().kind {
        Kind::Sequence(items) => Some(items.len()),
        _ => None,
    }
}

/// The anchor IDs that some alias uses. saphyr-parser numbers anchors from
/// 1 in the order they appear; a first pass over the events finds which
/// ones an alias names, so that a node knows whether it is shared when it
/// is built.
fn used_anchors(text: &str) -> HashSet<usize> {
    let mut used = HashSet::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, _))) = parser.next_event() {
        if let Event::Alias(anchor) = event {
            used.insert(anchor);
        }
    }
    used
}

impl RouteSpans for Node {
    /// A route in a YAML document; one that does not exist falls back to its
    /// deepest existing ancestor.
    fn route_bytes(&self, source: &str, route: &Route, focus: &Focus) -> Range<usize> {
        let root = self;
        let mut node = root;
        let mut found = 0;
        for depth in 0..route.steps().len() {
            let prefix = Route::from_steps(route.steps()[..=depth].to_vec());
            // An alias written on the way is where the value is, for this
            // route; the anchored node it repeats is shared by others.
            let written = root.at(&prefix).filter(|raw| matches!(raw.kind, Kind::Alias(_)));
            match written.or_else(|| root.lookup(&prefix)) {
                Some(next) => (node, found) = (next, depth + 1),
                None => break,
            }
        }
        let value = exact_span(source, node);
        // For a key that is missing, the key of its deepest existing
        // parent (`cluster:` for `cluster.region`), or the top of the file.
        let nearest_key = || {
            let existing = Route::from_steps(route.steps()[..found].to_vec());
            root.lookup_key_at(&existing).map_or(0..0, |key| exact_span(source, key))
        };
        match focus {
            Focus::Value | Focus::Within(_) => value,
            Focus::Key if found == route.steps().len() => {
                root.lookup_key_at(route).map_or(value, |key| exact_span(source, key))
            }
            Focus::Key => nearest_key(),
        }
    }
}

/// The bytes a node takes in `source`, exactly: saphyr-parser's spans end
/// where the next token starts, past spaces, a comment or the line end. A
/// quoted scalar ends at its closing quote, a plain one at its last
/// character, a block scalar at its last content character.
pub fn exact_span(source: &str, node: &Node) -> Range<usize> {
    let Range { start, end } = node.span.clone();
    let end = end.min(source.len()).max(start);
    let quoted_end = |quote: u8| {
        let bytes = source.as_bytes();
        let mut at = start + 1;
        while at < bytes.len() {
            match bytes[at] {
                b'\\' if quote == b'"' => at += 2,
                b'\'' if quote == b'\'' && bytes.get(at + 1) == Some(&b'\'') => at += 2,
                byte if byte == quote => return at + 1,
                _ => at += 1,
            }
        }
        end
    };
    match &node.kind {
        Kind::Scalar { style: Style::SingleQuoted, .. } => start..quoted_end(b'\''),
        Kind::Scalar { style: Style::DoubleQuoted, .. } => start..quoted_end(b'"'),
        Kind::Scalar { value, style: Style::Plain } if source[start..].starts_with(value.as_str()) => {
            start..start + value.len()
        }
        _ => {
            // Drop a trailing comment and the blank space before it.
            let text = &source[start..end];
            let mut cut = text.len();
            for (line_start, line) in line_starts(text) {
                if let Some(hash) = comment_start(line) {
                    cut = line_start + hash;
                    break;
                }
            }
            start..start + text[..cut].trim_end().len()
        }
    }
}

/// Each line of `text` with its byte offset.
fn line_starts(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |at, line| {
        let start = *at;
        *at += line.len();
        Some((start, line))
    })
}

/// Where a comment starts in a line: a `#` at its start or after a space or
/// tab.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    (0..bytes.len()).find(|&at| bytes[at] == b'#' && (at == 0 || bytes[at - 1] == b' ' || bytes[at - 1] == b'\t'))
}

/// saphyr-parser counts characters; edits need bytes.
struct CharOffsets {
    /// Byte offset of each character, plus the end; empty for ASCII text,
    /// where the two are the same.
    bytes: Vec<usize>,
    len: usize,
    /// Bytes before the parsed text in the source (a byte order mark).
    shift: usize,
}

impl CharOffsets {
    fn new(text: &str, shift: usize) -> CharOffsets {
        let bytes = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(at, _)| at).chain(std::iter::once(text.len())).collect()
        };
        CharOffsets { bytes, len: text.len(), shift }
    }

    fn byte(&self, char_index: usize) -> usize {
        let in_text = if self.bytes.is_empty() {
            char_index.min(self.len)
        } else {
            self.bytes.get(char_index).copied().unwrap_or(self.len)
        };
        in_text + self.shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# top\nrelease: '3.11'\ncluster:\n  region: eu-west-1  # here\n  machine_image:\n    id: \"ami-0123\"\nlist: [a, b]\nname: é-x\n";

    #[test]
    fn spans_cover_scalars_with_their_quotes() {
        let root = parse(DOC).unwrap();
        let id = root.at(&Route::root().key("cluster").key("machine_image").key("id")).unwrap();
        assert_eq!(&DOC[id.span.clone()], "\"ami-0123\"");
        assert_eq!(id.style(), Some(Style::DoubleQuoted));
        let release = root.get("release").unwrap();
        assert_eq!(&DOC[release.span.clone()], "'3.11'");
        let region = root.at(&Route::root().key("cluster").key("region")).unwrap();
        assert_eq!(&DOC[region.span.clone()], "eu-west-1");
        let name = root.get("name").unwrap();
        assert_eq!(&DOC[name.span.clone()], "é-x");
        assert_eq!(root.at(&Route::root().key("list").index(1)).unwrap().as_str(), Some("b"));
    }

    #[test]
    fn loaders_view_and_writers_view() {
        let doc = "\u{feff}common: &c\n  machine_image: {id: &i ami-1}\nbastion:\n  <<: *c\ncluster:\n  machine_image: {id: *i}\n";
        let root = parse(doc).unwrap();
        let bastion = Route::root().key("bastion").key("machine_image").key("id");
        let cluster = Route::root().key("cluster").key("machine_image").key("id");
        assert_eq!(root.lookup(&bastion).and_then(Node::as_str), Some("ami-1"));
        assert_eq!(root.lookup(&cluster).and_then(Node::as_str), Some("ami-1"));
        // The writer sees no value under a merge, and an alias it cannot patch.
        assert!(root.at(&bastion).is_none());
        let alias = root.at(&cluster).unwrap();
        assert!(matches!(alias.kind, Kind::Alias(_)) && alias.as_str().is_none());
        assert_eq!(&doc[alias.span.clone()], "*i");
        assert!(root.get("common").unwrap().shared);
        assert_eq!(root.lookup_keys(), vec!["common", "bastion", "cluster"]);
        // Own keys win over merged ones.
        let own = parse("a: &a {x: 1, y: 2}\nb: {<<: *a, x: 3}\n").unwrap();
        assert_eq!(own.lookup(&Route::root().key("b").key("x")).and_then(Node::as_str), Some("3"));
        assert_eq!(own.lookup(&Route::root().key("b").key("y")).and_then(Node::as_str), Some("2"));
    }

    #[test]
    fn one_document_without_nul() {
        assert_eq!(parse("a: 1\n---\nb: 2\n").unwrap_err().offset, 5);
        assert_eq!(parse("a: 1\0b: 2\n").unwrap_err().offset, 4);
        assert!(parse("---\na: 1\n...\n").is_ok());
        assert!(parse("a: {<<: [1]}\n").is_err());
    }

    #[test]
    fn errors_have_offsets() {
        let error = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(error.offset > 0);
        assert!(parse(&"[".repeat(10_000)).is_err());
        assert!(matches!(parse("").unwrap().kind, Kind::Mapping(ref e) if e.is_empty()));
    }

    #[test]
    fn exact_spans_stop_where_the_node_does() {
        let source = "a: 'ami-1'  # note\nb: \"x\\\"y\" # c\nc: plain  # c\nd: >-\n  folded\n\ne: *x\nf: it's\n";
        let source = source.replace("e: *x", "x: &x 1\ne: *x");
        let root = parse(&source).unwrap();
        let shown = |key: &str| &source[exact_span(&source, root.at(&Route::root().key(key)).unwrap())];
        assert_eq!(shown("a"), "'ami-1'");
        assert_eq!(shown("b"), "\"x\\\"y\"");
        assert_eq!(shown("c"), "plain");
        assert_eq!(shown("d"), "folded");
        assert_eq!(shown("e"), "*x");
        assert_eq!(shown("f"), "it's");
    }
}
