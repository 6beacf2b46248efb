//! The check between a patched text and the disk: the text must read back,
//! with this tool's reader and with libyaml's (an independent parser, through
//! `yaml_serde`), as the original document with exactly the intended IDs
//! changed. The edit itself replaced only bytes equal to the old value, so
//! comments and layout can only have changed if a value changed too, which
//! these reads catch.

use std::ops::Range;

use yaml_serde::Value;

use super::Refusal;
use crate::location::{Route, Step};
use crate::yaml::{self, Kind, Node};

/// Ok when `patched` is `original` with each route of `targets` set to its
/// new value and nothing else changed.
pub fn same_but_for(original: &str, tree: &Node, patched: &str, targets: &[(Route, &str)]) -> Result<(), Refusal> {
    let reread = yaml::parse(patched).map_err(|error| {
        Refusal::Unverified(format!("the patched text is not valid YAML at byte {}: {}", error.offset, error.message))
    })?;
    compare(tree, &reread, &mut Vec::new(), targets)?;

    // libyaml-rs reads a byte order mark before `---` as a document of its
    // own; the mark is not content, so both texts are read without it.
    let without_mark = |text: &'_ str| text.strip_prefix('\u{feff}').unwrap_or(text).to_owned();
    let mut expected = yaml_serde::from_str::<Value>(&without_mark(original))
        .map_err(|error| Refusal::Unreadable(error.to_string()))?;
    for (route, new) in targets {
        let slot = route.steps().iter().try_fold(&mut expected, |value, step| match step {
            Step::Key(key) => value.get_mut(key.as_str()),
            Step::Index(index) => value.get_mut(*index),
        });
        let Some(slot) = slot else {
            return Err(Refusal::Unverified(format!("libyaml finds nothing at {route}")));
        };
        if !slot.is_string() {
            return Err(Refusal::Unverified(format!("libyaml reads the value at {route} as no string")));
        }
        *slot = Value::String((*new).to_owned());
    }
    let reread = yaml_serde::from_str::<Value>(&without_mark(patched))
        .map_err(|error| Refusal::Unverified(format!("libyaml cannot read the patched text: {error}")))?;
    if reread != expected {
        return Err(Refusal::Unverified("libyaml reads more changes than the intended IDs".to_owned()));
    }
    Ok(())
}

/// Ok when `patched` is `original` with each range (sorted, in the
/// original) replaced by its text and every other byte the same: undoing
/// the edits on the patched text must give the original back.
pub fn only_edits_changed(original: &str, patched: &str, edits: &[(Range<usize>, &str)]) -> Result<(), Refusal> {
    let mut undone = String::with_capacity(original.len());
    let (mut from_original, mut from_patched) = (0, 0);
    for (range, new) in edits {
        let kept = range.start - from_original;
        let (Some(same), Some(written)) = (
            patched.get(from_patched..from_patched + kept),
            patched.get(from_patched + kept..from_patched + kept + new.len()),
        ) else {
            return Err(Refusal::Unverified("the patched text is shorter than its edits".to_owned()));
        };
        if written != *new {
            return Err(Refusal::Unverified(format!("`{new}` is not where it was meant to be written")));
        }
        undone.push_str(same);
        undone.push_str(&original[range.clone()]);
        from_original = range.end;
        from_patched += kept + new.len();
    }
    undone.push_str(patched.get(from_patched..).unwrap_or_default());
    if undone != original {
        return Err(Refusal::Unverified("bytes outside the IDs changed".to_owned()));
    }
    Ok(())
}

/// Walks both trees together: the same shape, keys, values, styles and
/// properties everywhere, and the new value at each target.
fn compare(before: &Node, after: &Node, at: &mut Vec<Step>, targets: &[(Route, &str)]) -> Result<(), Refusal> {
    let differ = |what: &str, at: &[Step]| Refusal::Unverified(format!("{what} at {}", Route::from_steps(at.to_vec())));
    if before.shared != after.shared || before.tagged != after.tagged {
        return Err(differ("an anchor or tag changed", at));
    }
    match (&before.kind, &after.kind) {
        (Kind::Scalar { value: old, style: old_style }, Kind::Scalar { value: new, style: new_style }) => {
            let target = targets.iter().find(|(route, _)| route.steps() == at.as_slice());
            let expected = target.map_or(old.as_str(), |(_, new)| *new);
            if new != expected || old_style != new_style {
                return Err(differ(&format!("the value `{new}` where `{expected}` was intended"), at));
            }
        }
        (Kind::Mapping(old), Kind::Mapping(new)) => {
            if old.len() != new.len() {
                return Err(differ("the number of keys changed", at));
            }
            for ((old_key, old_value), (new_key, new_value)) in old.iter().zip(new) {
                compare(old_key, new_key, at, &[])?;
                let name = old_key.as_str().unwrap_or_default().to_owned();
                at.push(Step::Key(name));
                compare(old_value, new_value, at, targets)?;
                at.pop();
            }
        }
        (Kind::Sequence(old), Kind::Sequence(new)) => {
            if old.len() != new.len() {
                return Err(differ("the number of items changed", at));
            }
            for (index, (old, new)) in old.iter().zip(new).enumerate() {
                at.push(Step::Index(index));
                compare(old, new, at, targets)?;
                at.pop();
            }
        }
        (Kind::Alias(_), Kind::Alias(_)) => {}
        _ => return Err(differ("the kind of node changed", at)),
    }
    Ok(())
}
