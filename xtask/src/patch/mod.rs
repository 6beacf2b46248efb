//! The one writer of deployment files. It replaces the characters of an
//! image ID and nothing else: inside the quotes of a quoted scalar, the
//! content line of a block scalar, the token of a plain one. A style it
//! cannot edit exactly is refused with the place and what to write instead,
//! and every patched text is read again, by this tool's reader and by an
//! independent one, before it may reach the disk: a span mistake becomes a
//! refusal, never a wrong byte.

pub mod batch;
pub mod diff;
mod verify;

use std::collections::BTreeMap;
use std::fs;
use std::ops::Range;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

use crate::deployments::{Deployment, image_route, looks_like_a_number};
use crate::fsutil::{replace_file_unless_changed, resolve_inside};
use crate::location::{LineIndex, Route, Step};
use crate::yaml::{Kind, Node, Style};

/// One key set in one deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub role: String,
    pub old: String,
    pub new: String,
}

impl Change {
    pub fn key(&self) -> String {
        format!("{}.machine_image.id", self.role)
    }
}

/// A deployment's new text, checked, and the keys it changes.
#[derive(Debug)]
pub struct Patched {
    pub text: String,
    pub changes: Vec<Change>,
}

/// Why a deployment was left byte for byte as it was.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The ID is written in a way that one exact edit cannot change.
    Unpatchable { line: usize, key: String, why: String, instead: String },
    /// The patched text did not read back as the original with only the IDs
    /// changed: a defect of this tool, caught before writing.
    Unverified(String),
    /// libyaml, the second reader, cannot read the original, so no patch of
    /// it can be checked.
    Unreadable(String),
    /// More than one key of the file cannot be patched.
    Several(Vec<Refusal>),
}

impl Refusal {
    /// The message for the user, naming the file.
    pub fn message(&self, rel: &str) -> String {
        match self {
            Refusal::Several(refusals) => {
                refusals.iter().map(|refusal| refusal.message(rel)).collect::<Vec<_>>().join("\n")
            }
            Refusal::Unpatchable { line, key, why, instead } => {
                format!("{rel}:{line}: cannot patch `{key}`: {why}; {instead}. The file was left as it is")
            }
            Refusal::Unverified(why) => format!(
                "{rel}: the patched text did not check out ({why}); the file was left as it is. This is a bug in \
                 xtask: please report it with this file"
            ),
            Refusal::Unreadable(why) => format!(
                "{rel}: the second YAML reader (libyaml) cannot read this file ({why}), so a patch of it could not \
                 be checked; fix what it names (`cargo xtask lint-deployments {rel}` may say more). The file was \
                 left as it is"
            ),
        }
    }
}

/// The text of `deployment` with `ids` (role -> new ID) written in, checked
/// by reading it again; `None` when every ID is already current.
pub fn patch(deployment: &Deployment, ids: &BTreeMap<String, String>) -> Result<Option<Patched>, Refusal> {
    let source = &deployment.source;
    let mut edits: Vec<(Range<usize>, &str)> = Vec::new();
    let mut changes = Vec::new();
    // Every key is looked at, so that a refusal names all that is wrong.
    let mut refusals = Vec::new();
    for (role, new) in ids {
        let route = image_route(role);
        let (range, node) = match locate(deployment, &route) {
            Ok(found) => found,
            Err(refusal) => {
                refusals.push(refusal);
                continue;
            }
        };
        let old = &source[range.clone()];
        if old == new {
            continue;
        }
        if let Err(refusal) = check_representable(source, node, &route, new) {
            refusals.push(refusal);
            continue;
        }
        edits.push((range, new));
        changes.push(Change { role: role.clone(), old: old.to_owned(), new: new.clone() });
    }
    match refusals.len() {
        0 => {}
        1 => return Err(refusals.remove(0)),
        _ => return Err(Refusal::Several(refusals)),
    }
    if edits.is_empty() {
        return Ok(None);
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut text = String::with_capacity(source.len() + 64);
    let mut at = 0;
    for (range, new) in &edits {
        if range.start < at {
            return Err(Refusal::Unverified("two edits overlap".to_owned()));
        }
        text.push_str(&source[at..range.start]);
        text.push_str(new);
        at = range.end;
    }
    text.push_str(&source[at..]);
    verify::only_edits_changed(source, &text, &edits)?;
    let targets: Vec<(Route, &str)> = changes.iter().map(|c| (image_route(&c.role), c.new.as_str())).collect();
    verify::same_but_for(source, &deployment.root, &text, &targets)?;
    Ok(Some(Patched { text, changes }))
}

/// Whether the writer can patch `role`'s ID in this file, for the plan.
pub fn check(deployment: &Deployment, role: &str) -> Result<(), Refusal> {
    locate(deployment, &image_route(role)).map(|_| ())
}

/// The byte range of the ID's characters at `route`, walking only what is
/// written in this file: an alias, an anchor, a tag or a merge key on the
/// way is refused, since editing there would change other keys too, or
/// nothing at all.
fn locate<'a>(deployment: &'a Deployment, route: &Route) -> Result<(Range<usize>, &'a Node), Refusal> {
    let source = &deployment.source;
    let key = dotted(route);
    let refuse = |node: &Node, why: String, instead: &str| Refusal::Unpatchable {
        line: line_of(source, node.span.start).0,
        key: key.clone(),
        why,
        instead: instead.to_owned(),
    };
    let mut node = &deployment.root;
    for step in route.steps() {
        let Step::Key(name) = step else {
            return Err(Refusal::Unverified(format!("`{key}` is not a route of keys")));
        };
        let Kind::Mapping(entries) = &node.kind else {
            return Err(refuse(node, format!("the value above `{name}` is not a mapping"), "write it as one"));
        };
        let mut found = entries.iter().filter(|(k, _)| k.as_str() == Some(name.as_str()));
        let Some((key_node, value)) = found.next() else {
            let why = if entries.iter().any(|(k, _)| k.as_str() == Some("<<")) {
                format!("`{name}` comes through a merge key (`<<`), so the ID is written elsewhere and shared")
            } else {
                format!("`{name}` is not written in this file")
            };
            return Err(refuse(node, why, &format!("write `{name}` and the ID in this deployment itself")));
        };
        if let Some((again, _)) = found.next() {
            return Err(refuse(
                again,
                format!(
                    "`{name}` appears twice in one mapping (first at line {})",
                    line_of(source, key_node.span.start).0
                ),
                "keep one of them",
            ));
        }
        if matches!(value.kind, Kind::Alias(_)) {
            return Err(refuse(
                value,
                format!("`{name}` is an alias (`*…`) of a node written elsewhere"),
                "write the value itself here instead of the alias",
            ));
        }
        if value.shared {
            return Err(refuse(
                value,
                format!("`{name}` carries an anchor (`&…`) that aliases elsewhere repeat"),
                "remove the anchor, or write the ID in each place",
            ));
        }
        if value.tagged {
            return Err(refuse(value, format!("`{name}` carries a tag (`!…`)"), "remove the tag"));
        }
        node = value;
    }
    let Kind::Scalar { value, style } = &node.kind else {
        return Err(refuse(node, "the ID is not a single value".to_owned(), "write `id: <image ID>`"));
    };
    if *style == Style::Plain && reads_as_no_string(value) {
        return Err(refuse(
            node,
            format!("the ID is written as `{value}`, which YAML reads as no string"),
            "write an image ID there, quoted if it looks like a number or a boolean",
        ));
    }
    let start = match style {
        Style::SingleQuoted | Style::DoubleQuoted => node.span.start + 1,
        Style::Plain | Style::Literal | Style::Folded => node.span.start,
    };
    let end = start + value.len();
    let as_written = source.get(start..end) == Some(value.as_str());
    let closed = match style {
        Style::SingleQuoted => source.as_bytes().get(end) == Some(&b'\''),
        Style::DoubleQuoted => source.as_bytes().get(end) == Some(&b'"'),
        _ => true,
    };
    if value.contains('\n') {
        let why = match style {
            Style::Literal | Style::Folded => {
                "the block scalar keeps a line break in the value (`|` or `>` without `-`)".to_owned()
            }
            _ => "the value holds a line break".to_owned(),
        };
        return Err(refuse(node, why, "write the ID on the key's line (`id: ami-…`), or use `|-`/`>-`"));
    }
    if !as_written || !closed {
        let why = match style {
            Style::SingleQuoted | Style::DoubleQuoted => "the quoted value uses escapes or runs over several lines",
            Style::Plain => "the value runs over several lines",
            Style::Literal | Style::Folded => "the block scalar's value is not its one content line",
        };
        return Err(refuse(node, why.to_owned(), "write the ID on one line, without escapes"));
    }
    Ok((start..end, node))
}

/// Refuses a new ID that would not read back as the same string in the
/// style it is written in, or would change the document's structure.
fn check_representable(source: &str, node: &Node, route: &Route, new: &str) -> Result<(), Refusal> {
    let refuse = |why: String, instead: &str| Refusal::Unpatchable {
        line: line_of(source, node.span.start).0,
        key: dotted(route),
        why,
        instead: instead.to_owned(),
    };
    if new.is_empty() || !new.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b)) {
        return Err(refuse(format!("`{new}` is not an image ID"), "check where the ID came from"));
    }
    let plain = matches!(node.style(), Some(Style::Plain | Style::Literal | Style::Folded));
    if plain && reads_as_no_string(new) {
        return Err(refuse(
            format!("`{new}` unquoted would read as something other than a string"),
            "quote the ID in the file (`id: '…'`)",
        ));
    }
    Ok(())
}

/// The 1-based line of a byte offset, for a refusal's message.
fn line_of(source: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(source).line_column(offset)
}

/// True for a plain scalar that YAML reads as no string: YAML 1.2's core
/// schema, and the booleans of YAML 1.1 that many loaders (PyYAML, Ruby's,
/// Go's yaml.v2) still read.
fn reads_as_no_string(plain: &str) -> bool {
    [
        "", "null", "Null", "NULL", "~", "true", "True", "TRUE", "false", "False", "FALSE", "y", "Y", "yes", "Yes",
        "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF",
    ]
    .contains(&plain)
        || looks_like_a_number(plain)
}

/// `cluster.machine_image.id` for a route of keys.
fn dotted(route: &Route) -> String {
    route
        .steps()
        .iter()
        .map(|step| match step {
            Step::Key(key) => key.clone(),
            Step::Index(index) => index.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Writes the patched text atomically, never through a symlink that leaves
/// the root. The file must still hold what was read: a deployment edited
/// meanwhile is left for the next run rather than overwritten. The caller
/// flushes the folder once after the last file (`fsutil::sync_folder_of`),
/// which makes the renames durable.
pub fn write(root: &Path, deployment: &Deployment, text: &str) -> Result<()> {
    let target = resolve_inside(root, &deployment.path)?;
    replace_file_unless_changed(&target, text.as_bytes(), || {
        let now = fs::read(&target).with_context(|| format!("reading {}", deployment.rel))?;
        if now != deployment.source.as_bytes() {
            bail!("{} changed on disk while xtask was running; run again to patch it", deployment.rel);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patched(source: &str, role: &str, new: &str) -> Result<Option<String>, Refusal> {
        let deployment = Deployment::parse(Path::new("/r"), Path::new("/r/deployments/x.yaml"), source.to_owned())
            .expect("the test's YAML parses");
        let ids = BTreeMap::from([(role.to_owned(), new.to_owned())]);
        patch(&deployment, &ids).map(|patched| patched.map(|p| p.text))
    }

    const NEW: &str = "ami-0fedcba9876543210";

    #[test]
    fn quoted_ids_keep_their_quotes_spaces_and_comment() {
        let source = "cluster:\n  machine_image:\n    id: 'ami-01234567'  # Ireland builds its own copy\nx: 1\n";
        assert_eq!(patched(source, "cluster", NEW).unwrap().unwrap(), source.replace("ami-01234567", NEW));
        let source = "cluster:\n  machine_image: {id: \"ami-01234567\" , size: 2} # c\n";
        assert_eq!(patched(source, "cluster", NEW).unwrap().unwrap(), source.replace("ami-01234567", NEW));
    }

    #[test]
    fn block_scalars_change_their_content_line_only() {
        let source = "cluster:\n  machine_image:\n    id: >-\n      ami-01234567\n\n    instance_type: t2.medium\n";
        assert_eq!(patched(source, "cluster", NEW).unwrap().unwrap(), source.replace("ami-01234567", NEW));
        let source = "cluster:\n  machine_image:\n    id: |- # was ami-01234567\n      ami-01234567\n";
        let expected = "cluster:\n  machine_image:\n    id: |- # was ami-01234567\n      ami-0fedcba9876543210\n";
        assert_eq!(patched(source, "cluster", NEW).unwrap().unwrap(), expected);
    }

    #[test]
    fn styles_that_cannot_be_edited_exactly_are_refused() {
        for (source, why) in [
            ("cluster:\n  machine_image:\n    id: |\n      ami-01234567\n", "keeps a line break"),
            ("img: &i ami-01234567\ncluster:\n  machine_image:\n    id: *i\n", "alias"),
            ("cluster:\n  machine_image:\n    id: &i ami-01234567\nb: *i\n", "anchor"),
            ("cluster:\n  machine_image: &m\n    id: ami-01234567\nb: *m\n", "anchor"),
            ("cluster:\n  machine_image:\n    id: !!str ami-01234567\n", "tag"),
            ("cluster:\n  machine_image:\n    id: \"ami-0123\\x34567\"\n", "escapes"),
            ("base: &b\n  machine_image:\n    id: ami-01234567\ncluster:\n  <<: *b\n", "merge key"),
            ("cluster:\n  machine_image:\n    id: ami-0\n      1234567\n", "several lines"),
            ("cluster:\n  machine_image:\n    id: ~\n", "reads as no string"),
            ("cluster:\n  machine_image:\n    id: 123\n", "reads as no string"),
        ] {
            match patched(source, "cluster", NEW) {
                Err(Refusal::Unpatchable { why: said, .. }) => assert!(said.contains(why), "{source:?}: {said}"),
                other => panic!("{source:?} was not refused: {other:?}"),
            }
        }
    }

    #[test]
    fn an_id_that_would_read_as_another_type_is_refused_unquoted() {
        let source = "cluster:\n  machine_image:\n    id: old-image\n";
        for other in ["true", "no", "on", "y", "1e3"] {
            assert!(matches!(patched(source, "cluster", other), Err(Refusal::Unpatchable { .. })), "{other}");
        }
        let source = "cluster:\n  machine_image:\n    id: 'old-image'\n";
        assert_eq!(patched(source, "cluster", "true").unwrap().unwrap(), source.replace("old-image", "true"));
        assert!(matches!(patched(source, "cluster", "a: b"), Err(Refusal::Unpatchable { .. })));
    }

    #[test]
    fn the_check_catches_a_changed_value_or_byte() {
        let source = "a: 1 # one\ncluster:\n  machine_image:\n    id: ami-01234567\n";
        let deployment = Deployment::parse(Path::new("/r"), Path::new("/r/x.yaml"), source.to_owned()).unwrap();
        let targets = [(image_route("cluster"), NEW)];
        let good = source.replace("ami-01234567", NEW);
        assert_eq!(verify::same_but_for(source, &deployment.root, &good, &targets), Ok(()));
        let other_value = good.replace("a: 1", "a: 2");
        assert!(matches!(
            verify::same_but_for(source, &deployment.root, &other_value, &targets),
            Err(Refusal::Unverified(_))
        ));
        let edit = [(source.find("ami-").unwrap()..source.find("ami-").unwrap() + 12, NEW)];
        assert_eq!(verify::only_edits_changed(source, &good, &edit), Ok(()));
        let lost_comment = good.replace(" # one", "");
        assert!(matches!(verify::only_edits_changed(source, &lost_comment, &edit), Err(Refusal::Unverified(_))));
    }

    #[test]
    fn nothing_to_change_is_none() {
        let source = "cluster:\n  machine_image:\n    id: ami-01234567\n";
        assert_eq!(patched(source, "cluster", "ami-01234567").unwrap(), None);
    }
}
