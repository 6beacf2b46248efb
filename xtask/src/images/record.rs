//! The record stage: new images go into `packer/images.lock`, written
//! atomically, before any deployment is patched. A run that dies after this
//! leaves the images known; the next plain run finds the template unchanged
//! and brings the deployments up to the lock.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use super::{Job, Outcome};
use crate::lock::{self, LockFile, LockedImage, ManifestSource};

/// Where the images being recorded came from.
pub enum Source<'a> {
    /// Built by this run, with this Packer version.
    Packer(&'a str),
    /// Taken from a manifest of a build run elsewhere.
    Manifest(ManifestSource),
    /// A `--build-only` result: built elsewhere by this tool, with this
    /// Packer version, at this time.
    Result { version: String, built_at: String },
}

/// Records builds run elsewhere (manifests, `--build-only` results), every
/// one of them checked already, in the order given. One that cannot be
/// recorded fails, so that nothing is patched from it.
pub fn record_all(root: &Path, lockfile: &mut LockFile, builds: Vec<(Job, Source)>) -> Vec<Job> {
    builds
        .into_iter()
        .map(|(mut job, source)| {
            let images = job.outcome.images().cloned().unwrap_or_default();
            if let Err(error) = record_build(root, lockfile, &job, &images, source) {
                job.outcome = Outcome::Failed(format!(
                    "could not record its images in packer/images.lock ({error:#}), so nothing was patched"
                ));
            }
            job
        })
        .collect()
}

/// Records a template's new images and writes the lock file. When the write
/// fails, the lock in memory is left as it was on disk.
pub fn record_build(
    root: &Path,
    lockfile: &mut LockFile,
    job: &Job,
    images: &BTreeMap<String, String>,
    source: Source,
) -> Result<()> {
    let before = lockfile.templates.get(&job.file.rel).cloned();
    let entry = lockfile.templates.entry(job.file.rel.clone()).or_default();
    entry.hash = job.hash.clone();
    entry.inputs = job.inputs.clone();
    entry.files = Some(job.files.clone());
    let mut built_at = lock::utc_now();
    let manifest = match source {
        Source::Packer(version) => {
            entry.packer_version = Some(version.to_owned());
            None
        }
        Source::Manifest(manifest) => {
            entry.packer_version = None;
            Some(manifest)
        }
        Source::Result { version, built_at: when } => {
            entry.packer_version = Some(version);
            built_at = when;
            None
        }
    };
    for (region, id) in images {
        entry.images.insert(
            region.clone(),
            LockedImage {
                id: id.clone(),
                built_at: built_at.clone(),
                hash: job.hash.clone(),
                settings: job.settings.clone(),
                manifest: manifest.clone(),
                variables: Some(job.setting_names.clone()),
            },
        );
    }
    let written = lockfile.write(root);
    if written.is_err() {
        match before {
            Some(entry) => lockfile.templates.insert(job.file.rel.clone(), entry),
            None => lockfile.templates.remove(&job.file.rel),
        };
    }
    written
}
