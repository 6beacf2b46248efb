//! The apply stage: every deployment fed by a template with images in this
//! run (built, unchanged, or from a manifest) is brought up to them, one
//! checked, atomic write per file. Every ID is checked for its cloud's shape
//! first, whatever its source, and a deployment with a bad one is left as
//! it is.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Job, Outcome};
use crate::deployments::Deployment;
use crate::image_id::check_image_id;
use crate::patch::batch::{DeploymentResult, Wanted, write_wanted};

/// Where an ID came from, for messages: the lock, a manifest or a build.
fn source_of(job: &Job, region: &str) -> String {
    match &job.outcome {
        Outcome::Skipped(_) => format!("packer/images.lock: {} {region}", job.file.rel),
        Outcome::FromManifest { manifest, .. } => format!("{manifest}: {} {region}", job.file.rel),
        _ => format!("the build of {} ({region})", job.file.rel),
    }
}

pub fn apply(root: &Path, jobs: &[Job], deployments: &[Deployment]) -> Vec<DeploymentResult> {
    let mut wanted: BTreeMap<usize, Wanted> = BTreeMap::new();
    for job in jobs {
        let Some(images) = job.outcome.images() else {
            continue;
        };
        for feed in &job.feeds {
            let Some(id) = images.get(&feed.region) else {
                continue;
            };
            let entry = wanted.entry(feed.deployment).or_default();
            match check_image_id(&job.layout.cloud, id) {
                Ok(()) => {
                    entry.ids.insert(feed.role.clone(), id.clone());
                }
                Err(shape) => entry.problems.push(format!(
                    "refusing `{}` from {} for {}.machine_image.id: an image ID is {shape}; restore the source \
                     (for the lock: `git checkout packer/images.lock`) or rebuild with --force. The file was left \
                     as it is",
                    id.escape_debug(),
                    source_of(job, &feed.region),
                    feed.role
                )),
            }
        }
    }
    write_wanted(root, deployments, wanted)
}
