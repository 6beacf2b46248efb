//! Many deployments written at once, as `images`, `promote` and `rollback`
//! write them: what each should get, one checked, atomic write per file,
//! side by side, and what each write did.

use std::collections::BTreeMap;
use std::path::Path;

use crate::deployments::Deployment;
use crate::patch::{self, Change, Patched, diff::unified_diff};

/// What one deployment should get, or why it gets nothing.
#[derive(Default)]
pub struct Wanted {
    /// Role -> new ID.
    pub ids: BTreeMap<String, String>,
    /// Why it gets nothing: each a sentence that names the ID and where it
    /// came from.
    pub problems: Vec<String>,
}

/// What a write did to one deployment, or why it did not write it.
pub struct DeploymentResult {
    pub rel: String,
    pub changes: Vec<Change>,
    pub diff: String,
    pub error: Option<String>,
}

/// An error that names its deployment at the start, as every message of
/// the summary does.
fn named(rel: &str, error: String) -> String {
    if error.starts_with(rel) { error } else { format!("{rel}: {error}") }
}

/// Writes what each deployment (by index) should get, one checked, atomic
/// write per file: the writer of `images`, `promote` and `rollback`. A
/// deployment with a problem, or a style the writer refuses, is left as it
/// is and reported.
pub fn write_wanted(root: &Path, deployments: &[Deployment], wanted: BTreeMap<usize, Wanted>) -> Vec<DeploymentResult> {
    let mut results = Vec::new();
    let mut planned: Vec<(&Deployment, Patched)> = Vec::new();
    // Two deployment names for one file (a symlink to another deployment):
    // the file is written once, for the first; the same text serves both.
    let mut files = std::collections::BTreeSet::new();
    for (index, want) in wanted {
        let deployment = &deployments[index];
        let file = crate::fsutil::resolve_inside(root, &deployment.path).unwrap_or_else(|_| deployment.path.clone());
        if !files.insert(file) {
            continue;
        }
        let refusal = if want.problems.is_empty() {
            match patch::patch(deployment, &want.ids) {
                Ok(Some(patched)) => {
                    planned.push((deployment, patched));
                    continue;
                }
                Ok(None) => continue,
                Err(refusal) => refusal.message(&deployment.rel),
            }
        } else {
            want.problems.iter().map(|problem| format!("{}: {problem}", deployment.rel)).collect::<Vec<_>>().join("\n")
        };
        results.push(DeploymentResult {
            rel: deployment.rel.clone(),
            changes: Vec::new(),
            diff: String::new(),
            error: Some(refusal),
        });
    }
    // Each file is its own atomic write; side by side, the file system's
    // work of creating and renaming them overlaps.
    let errors: Vec<Option<String>> = std::thread::scope(|scope| {
        let chunk = planned.len().div_ceil(4).max(1);
        let handles: Vec<_> = planned
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(deployment, patched)| {
                            patch::write(root, deployment, &patched.text).err().map(|error| format!("{error:#}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("a patch thread panicked")).collect()
    });
    results.extend(planned.into_iter().zip(errors).map(|((deployment, patched), error)| DeploymentResult {
        rel: deployment.rel.clone(),
        diff: unified_diff(&deployment.rel, &deployment.source, &patched.text),
        changes: patched.changes,
        error: error.map(|error| named(&deployment.rel, error)),
    }));
    results.sort_by(|a, b| a.rel.cmp(&b.rel));
    if let Some(first) = deployments.first() {
        crate::fsutil::sync_folder_of(&first.path);
    }
    results
}
