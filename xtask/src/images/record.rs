//! The record stage: new images go into `packer/images.lock`, written
//! atomically, before any deployment is patched; the images they replace
//! go into the lock's history, and with channels each enters the first. A run that dies after this
//! leaves the images known; the next plain run finds the template unchanged
//! and brings the deployments up to the lock.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use super::{Job, Outcome};
use crate::clock;
use crate::lock::{LockFile, LockedImage, ManifestSource, history};
use crate::printable;

/// Where the images being recorded came from.
pub enum Source<'a> {
    /// Built by this run, with this Packer version.
    Packer(&'a str),
    /// Taken from a manifest of a build run elsewhere, which ended at
    /// `built_at` when the manifest says.
    Manifest { source: ManifestSource, built_at: Option<String> },
    /// A `--build-only` result: built elsewhere by this tool, with this
    /// Packer version, at this time.
    Result { version: String, built_at: String },
}

/// Refuses a manifest's images built at `built_at` (the lock's time
/// format) when the lock already records a different, later image for one
/// of their regions: applying them would put an older image back. A
/// manifest carries nothing but Packer's clock to order it by.
pub fn refuse_older(
    lockfile: &LockFile,
    job: &Job,
    images: &BTreeMap<String, String>,
    built_at: &str,
    from: &str,
) -> Result<()> {
    let Some(locked) = lockfile.templates.get(&job.file.rel) else {
        return Ok(());
    };
    for (region, id) in images {
        if let Some(newer) =
            locked.images.get(region).filter(|image| image.id != *id && image.built_at.as_str() > built_at)
        {
            anyhow::bail!(
                "{from} was built at {built_at}, before the image packer/images.lock records for {region} ({}, built at \
                 {}): applying it would put an older image back; build it again to replace that one, or pass --force \
                 to apply it anyway",
                newer.id,
                printable::escape(&newer.built_at)
            );
        }
    }
    Ok(())
}

/// Refuses a result's images when, for one of their regions, the lock
/// records another image than it did when the leg began (`replaces`, read
/// from the commit the leg built): that image was recorded after, by a
/// build this result knows nothing of, and may be the newer one. This
/// order comes from the repository's history, not from any runner's clock.
pub fn refuse_replaced(
    lockfile: &LockFile,
    job: &Job,
    images: &BTreeMap<String, String>,
    replaces: &BTreeMap<String, Option<String>>,
    from: &str,
) -> Result<()> {
    let locked = lockfile.templates.get(&job.file.rel);
    for (region, id) in images {
        let now = locked.and_then(|locked| locked.images.get(region));
        let then = replaces.get(region).cloned().flatten();
        if now.is_none_or(|now| now.id == *id || Some(&now.id) == then.as_ref()) {
            continue;
        }
        let now = now.expect("checked above");
        anyhow::bail!(
            "{from}: packer/images.lock records {} for {region} (built at {}), an image recorded after this result's \
             build began, when the lock had {}: applying the result could put an older image back; build it again \
             from this commit, or pass --force to apply it anyway",
            now.id,
            printable::escape(&now.built_at),
            then.as_deref().unwrap_or("none for that region")
        );
    }
    Ok(())
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

/// Records a template's new images in the lock file as it is on disk now,
/// and writes it.
pub fn record_build(
    root: &Path,
    lockfile: &mut LockFile,
    job: &Job,
    images: &BTreeMap<String, String>,
    source: Source,
) -> Result<()> {
    // Read again: the lock may have changed on disk since the run began (a
    // `git pull` during a long build), and recording one template must not
    // drop what is there now.
    *lockfile = LockFile::read(root)?;
    let entry = lockfile.templates.entry(job.file.rel.clone()).or_default();
    entry.hash = job.hash.clone();
    entry.inputs = job.inputs.clone();
    entry.files = Some(job.files.clone());
    // Each image keeps the Packer that built it: a run for some regions
    // may use another Packer than the one that built the others.
    let (built_at, packer_version, manifest) = match source {
        Source::Packer(version) => (clock::utc_now(), Some(version.to_owned()), None),
        // The manifest's build time, not this run's: a later result must
        // not be taken for an older one.
        Source::Manifest { source, built_at } => (built_at.unwrap_or_else(clock::utc_now), None, Some(source)),
        Source::Result { version, built_at } => (built_at, Some(version), None),
    };
    // The first channel gets each new image at this write, whatever time
    // the build ended: that is when its deployments are given it.
    let channels = crate::config::Config::read(root)?.channels;
    let entered = clock::utc_now();
    for (region, id) in images {
        let image = LockedImage {
            id: id.clone(),
            built_at: built_at.clone(),
            packer_version: packer_version.clone(),
            hash: job.hash.clone(),
            settings: job.settings.clone(),
            manifest: manifest.clone(),
            variables: Some(job.setting_names.clone()),
            values: Some(job.recorded_values.clone()),
            plugins: if manifest.is_some() { None } else { job.tooling.used.clone() },
        };
        let first_channel = channels.as_ref().map(|channels| channels.first());
        history::record(&job.file.rel, entry, region, image, first_channel, &entered);
    }
    lockfile.write(root)
}
