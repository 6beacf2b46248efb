//! How `promote` and `rollback` write, as `images` does: the lock first
//! (read again, so that what arrived since the command began stays), then
//! each deployment through the one checked writer. A run stopped between
//! the two leaves deployments at their old image or at the lock's, and the
//! same command run again finds the lock already moved and writes the
//! deployments that lag behind.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::fleet::Key;
use crate::clock;
use crate::deployments::Deployment;
use crate::image_id::check_image_id;
use crate::lock::{LockFile, history};
use crate::patch::batch::{DeploymentResult, Wanted, write_wanted};

/// One channel given one image of a template in one region.
pub struct Move<'a> {
    /// The template's key in the lock.
    pub template: &'a str,
    pub cloud: &'a str,
    pub region: &'a str,
    pub channel: &'a str,
    pub id: &'a str,
    /// The channel's deployment keys there.
    pub keys: &'a [Key],
}

/// Records every move in the lock, then writes the deployments.
pub fn record_and_write(root: &Path, moves: &[Move], deployments: &[Deployment]) -> Result<Vec<DeploymentResult>> {
    if moves.is_empty() {
        return Ok(Vec::new());
    }
    let mut lockfile = LockFile::read(root)?;
    let now = clock::utc_now();
    for step in moves {
        let entry = lockfile.templates.get_mut(step.template).with_context(|| {
            format!("packer/images.lock no longer records {} (it changed while xtask ran); run again", step.template)
        })?;
        history::enter(entry, step.channel, step.region, step.id, &now);
    }
    lockfile.write(root).context("writing packer/images.lock; no deployment was changed")?;
    let mut wanted: BTreeMap<usize, Wanted> = BTreeMap::new();
    for step in moves {
        for key in step.keys.iter().filter(|key| key.id.as_deref() != Some(step.id)) {
            let entry = wanted.entry(key.deployment).or_default();
            match check_image_id(step.cloud, step.id) {
                Ok(()) => {
                    entry.ids.insert(key.role.clone(), step.id.to_owned());
                }
                Err(shape) => entry.problems.push(format!(
                    "refusing `{}` from packer/images.lock ({} {} for the channel `{}`) for {}: an image ID is \
                     {shape}; restore the lock (`git checkout packer/images.lock`). The file was left as it is",
                    step.id.escape_debug(),
                    step.template,
                    step.region,
                    step.channel,
                    key.name()
                )),
            }
        }
    }
    Ok(write_wanted(root, deployments, wanted))
}
