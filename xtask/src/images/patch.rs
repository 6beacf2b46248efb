//! Writing image IDs into deployments: only the ID scalars change, each file
//! is written once and atomically, and every change can be shown as a
//! unified diff.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};

use crate::deployments::{Deployment, image_route};
use crate::fsutil::{replace_file, resolve_inside};
use crate::yaml::{apply_edits, render_scalar};

/// One key to set in one deployment.
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

/// The patched text of a deployment with `ids` (role → new ID) applied,
/// and the changes made; `None` when nothing changes.
pub fn patched_text(deployment: &Deployment, ids: &BTreeMap<String, String>) -> Option<(String, Vec<Change>)> {
    let mut edits = Vec::new();
    let mut changes = Vec::new();
    for (role, new) in ids {
        let Some(node) = deployment.root.at(&image_route(role)) else {
            continue;
        };
        let (Some(old), Some(style)) = (node.as_str(), node.style()) else {
            continue;
        };
        if old == new {
            continue;
        }
        edits.push((node.span.clone(), render_scalar(new, style)));
        changes.push(Change { role: role.clone(), old: old.to_owned(), new: new.clone() });
    }
    if edits.is_empty() {
        return None;
    }
    Some((apply_edits(&deployment.source, edits), changes))
}

/// Writes the patched text, atomically and never through a symlink that
/// leaves the root. The caller flushes the folder once after the last file
/// (`fsutil::sync_folder_of`), which makes the renames durable. The file must still hold what was read: a deployment
/// edited meanwhile is left for the next run rather than overwritten.
pub fn write(root: &Path, deployment: &Deployment, text: &str) -> Result<()> {
    let target = resolve_inside(root, &deployment.path)?;
    let now = std::fs::read_to_string(&target)?;
    if now != deployment.source {
        bail!("{} changed while the images were building; run again to patch it", deployment.rel);
    }
    replace_file(&target, text.as_bytes())
}

/// A unified diff between two texts with the same number of lines (a patch
/// only replaces scalars, so lines never move), with three lines of context.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let changed: Vec<usize> =
        (0..old_lines.len().max(new_lines.len())).filter(|&i| old_lines.get(i) != new_lines.get(i)).collect();
    if changed.is_empty() {
        return String::new();
    }
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let context = 3;
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &line in &changed {
        let start = line.saturating_sub(context);
        let end = (line + context + 1).min(old_lines.len());
        match hunks.last_mut() {
            Some((_, last_end)) if start <= *last_end => *last_end = end,
            _ => hunks.push((start, end)),
        }
    }
    for (start, end) in hunks {
        out.push_str(&format!("@@ -{},{} +{},{} @@\n", start + 1, end - start, start + 1, end - start));
        for i in start..end {
            let (before, after) = (old_lines.get(i).copied().unwrap_or(""), new_lines.get(i).copied().unwrap_or(""));
            if before == after {
                push_line(&mut out, ' ', before);
            } else {
                push_line(&mut out, '-', before);
                push_line(&mut out, '+', after);
            }
        }
    }
    out
}

fn push_line(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_of_one_changed_line() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified_diff("x.yaml", old, new),
            "--- a/x.yaml\n+++ b/x.yaml\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
        assert_eq!(unified_diff("x.yaml", old, old), "");
    }
}
