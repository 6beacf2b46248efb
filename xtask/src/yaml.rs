//! YAML documents with the byte span of every node, read with saphyr-parser,
//! and edits that replace one scalar's bytes and nothing else, so that
//! comments, blank lines, key order and quoting survive a patch.

use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::location::{Route, Step};

/// Deeper nesting than this is refused rather than built.
const MAX_DEPTH: usize = 256;

#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    /// Byte range in the source; for a quoted scalar, quotes included. The
    /// start is exact; the end may run on over what follows the node, so
    /// edits compute their own end (see `patch`).
    pub span: Range<usize>,
    /// Carries an anchor (`&name`) that aliases elsewhere may repeat.
    pub anchored: bool,
    /// Carries a tag (`!!str`, `!custom`).
    pub tagged: bool,
}

#[derive(Debug)]
pub enum Kind {
    Scalar { value: String, style: Style },
    Mapping(Vec<(Node, Node)>),
    Sequence(Vec<Node>),
    Alias,
}

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

    /// The key node of the last step of a route, for diagnostics about a key.
    pub fn key_at(&self, route: &Route) -> Option<&Node> {
        let (last, parent) = route.steps().split_last()?;
        let parent = self.at(&Route::from_steps(parent.to_vec()))?;
        match (last, &parent.kind) {
            (Step::Key(key), Kind::Mapping(entries)) => {
                entries.iter().rev().find(|(k, _)| k.as_str() == Some(key.as_str())).map(|(k, _)| k)
            }
            _ => None,
        }
    }
}

/// Parses the first document of `source`. An empty source is an empty
/// mapping.
pub fn parse(source: &str) -> Result<Node, SyntaxError> {
    let offsets = CharOffsets::new(source);
    let mut parser = Parser::new_from_str(source);
    // Open collections: their start byte and the children read so far.
    enum Open {
        Mapping(usize, Properties, Vec<Node>),
        Sequence(usize, Properties, Vec<Node>),
    }
    type Properties = (bool, bool);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| SyntaxError {
            offset: offsets.byte(error.marker().index()),
            message: error.info().to_owned(),
        })?;
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index());
        let finished = match event {
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    _ => Style::Folded,
                };
                Some(Node {
                    kind: Kind::Scalar { value: value.into_owned(), style },
                    span: start..end,
                    anchored: anchor != 0,
                    tagged: tag.is_some(),
                })
            }
            Event::Alias(_) => Some(Node { kind: Kind::Alias, span: start..end, anchored: false, tagged: false }),
            Event::MappingStart(anchor, ref tag) | Event::SequenceStart(anchor, ref tag) => {
                let properties = (anchor != 0, tag.is_some());
                if stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        offset: start,
                        message: format!("nesting deeper than {MAX_DEPTH} levels"),
                    });
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Open::Mapping(start, properties, Vec::new())
                } else {
                    Open::Sequence(start, properties, Vec::new())
                });
                None
            }
            Event::MappingEnd => match stack.pop() {
                Some(Open::Mapping(open, (anchored, tagged), children)) => {
                    let mut entries = Vec::with_capacity(children.len() / 2);
                    let mut items = children.into_iter();
                    while let (Some(key), Some(value)) = (items.next(), items.next()) {
                        entries.push((key, value));
                    }
                    let close = entries.last().map_or(end, |(_, value)| value.span.end.max(open));
                    Some(Node { kind: Kind::Mapping(entries), span: open..close.max(open), anchored, tagged })
                }
                _ => None,
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Sequence(open, (anchored, tagged), items)) => {
                    let close = items.last().map_or(end, |item| item.span.end.max(open));
                    Some(Node { kind: Kind::Sequence(items), span: open..close.max(open), anchored, tagged })
                }
                _ => None,
            },
            Event::DocumentEnd => break,
            _ => None,
        };
        if let Some(node) = finished {
            match stack.last_mut() {
                Some(Open::Mapping(_, _, children) | Open::Sequence(_, _, children)) => children.push(node),
                None => {
                    root = Some(node);
                }
            }
        }
    }
    Ok(root.unwrap_or(Node { kind: Kind::Mapping(Vec::new()), span: 0..0, anchored: false, tagged: false }))
}

/// saphyr-parser counts characters; edits need bytes.
struct CharOffsets {
    /// Byte offset of each character, plus the end; empty for ASCII text,
    /// where the two are the same.
    bytes: Vec<usize>,
    len: usize,
}

impl CharOffsets {
    fn new(source: &str) -> CharOffsets {
        let bytes = if source.is_ascii() {
            Vec::new()
        } else {
            source.char_indices().map(|(at, _)| at).chain(std::iter::once(source.len())).collect()
        };
        CharOffsets { bytes, len: source.len() }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.bytes.is_empty() {
            char_index.min(self.len)
        } else {
            self.bytes.get(char_index).copied().unwrap_or(self.len)
        }
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
    fn errors_have_offsets() {
        let error = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(error.offset > 0);
        assert!(parse(&"[".repeat(10_000)).is_err());
        assert!(matches!(parse("").unwrap().kind, Kind::Mapping(ref e) if e.is_empty()));
    }
}
