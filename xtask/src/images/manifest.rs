//! `--patch-from`: images from manifests written by Packer's `manifest`
//! post-processor, for builds run elsewhere. They go through the same
//! record and apply stages as a local build; the lock notes the manifest
//! and its run rather than a Packer version it does not know.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use super::readout::Readout;
use super::{Finished, Job, Options, Outcome, RunResult, apply, build, load_deployments, plan, record};
use crate::lock::{self, LockFile, ManifestSource};
use crate::packer::{self, Artifacts};
use crate::project::{self, Filter, relative};

pub fn apply(options: &Options) -> Result<Finished> {
    let (deployments, unreadable) = load_deployments(&options.root)?;
    let everything = project::find_all_templates(&options.root, &Filter::default());
    let images_here = plan::images_by_release_cloud(&everything);
    let mut lockfile = LockFile::read(&options.root)?;
    let root = fs::canonicalize(&options.root).with_context(|| format!("resolving {}", options.root.display()))?;
    let mut jobs = Vec::new();
    for manifest in &options.patch_from {
        // Relative to where the command runs, like any path argument.
        let manifest_path =
            fs::canonicalize(manifest).with_context(|| format!("{}: cannot open the manifest", manifest.display()))?;
        if !manifest_path.starts_with(&root) {
            bail!(
                "{} is outside the repository {}; put the manifest in its template's folder",
                manifest.display(),
                root.display()
            );
        }
        let manifest_rel = relative(&root, &manifest_path);
        let folder = manifest_path.parent().unwrap_or(&root);
        let Some(file) = everything.iter().find(|file| fs::canonicalize(file.dir()).is_ok_and(|dir| dir == folder))
        else {
            bail!(
                "{manifest_rel}: no template beside it (template.json or *.pkr.hcl); keep the manifest in the \
                 template's folder (its `output` relative to the template)"
            );
        };
        let file = file.clone();
        let layout = file.layout.clone().map_err(|problem| anyhow::anyhow!("{}: {problem}", file.rel))?;
        let template =
            Readout::checked(&file, &BTreeMap::new()).map_err(|why| anyhow::anyhow!("{}: {why}", file.rel))?;
        let discarded = build::discarded(&template.builders);
        let LastRun { images, run_uuid, built } = read_manifest(&manifest_path, &layout.cloud, &discarded)?;
        let regions: Vec<String> = images.keys().cloned().collect();
        let here = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned().unwrap_or_default();
        let (feeds, left_alone) = plan::feeds(&layout, &regions, &here, &deployments, &options.regions);
        let inputs = template.inputs.clone();
        let lock::InputHashes { all: hash, each: files } = lock::hash_inputs(file.dir(), &inputs)?;
        // The build's variables are not in the manifest: the ones given
        // here stand for them, as the README asks.
        let vars = template.declared_vars(&options.vars);
        let var_files = plan::var_files_for(file.format, &options.var_files);
        let settings =
            lock::hash_settings(&options.root, &var_files, &vars, &template.sensitive_names(), &template.variables)?;
        let job = Job {
            file,
            layout,
            feeds,
            left_alone,
            regions,
            builders: Vec::new(),
            only: Vec::new(),
            hash,
            settings,
            setting_names: lock::setting_names(&options.root, &var_files, &vars, &template.variables),
            vars,
            inputs,
            files,
            reason: "applied from a manifest".to_owned(),
            outcome: Outcome::FromManifest { images, manifest: manifest_rel.clone() },
            secrets: Vec::new(),
            var_files,
        };
        if let Some(seconds) = built {
            let images = job.outcome.images().cloned().unwrap_or_default();
            record::refuse_older(&lockfile, &job, &images, &lock::utc_timestamp(seconds), &manifest_rel)?;
        }
        jobs.push((job, ManifestSource { path: manifest_rel, run_uuid }));
    }
    // Every manifest was read and checked above; only now is anything
    // written, so a bad one leaves the lock and the deployments as they were.
    let builds = jobs.into_iter().map(|(job, source)| (job, record::Source::Manifest(source))).collect();
    let jobs = record::record_all(&root, &mut lockfile, builds);
    let results = apply::apply(&options.root, &jobs, &deployments);
    Ok(Finished::Ran(RunResult { jobs, deployments: results, unreadable, interrupted: false }))
}

/// What a manifest says of its last run.
struct LastRun {
    images: BTreeMap<String, String>,
    run_uuid: Option<String>,
    /// When its last build ended (`build_time`, Unix seconds), when it says.
    built: Option<u64>,
}

/// The last run recorded in a manifest file, without the images Packer
/// deregistered (`discarded`, see [`build::discarded`]).
fn read_manifest(path: &Path, cloud: &str, discarded: &[(String, String)]) -> Result<LastRun> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
    let Some(builds) = manifest.get("builds").and_then(Value::as_array) else {
        bail!("{} has no `builds` list; is it a Packer manifest?", path.display());
    };
    let last_run = manifest.get("last_run_uuid").and_then(Value::as_str);
    let mut artifacts = Artifacts::default();
    let mut built = None;
    for (index, build) in builds.iter().enumerate() {
        if last_run.is_some() && build.get("packer_run_uuid").and_then(Value::as_str) != last_run {
            continue;
        }
        built = built.max(build.get("build_time").and_then(Value::as_u64));
        let (Some(name), Some(id)) =
            (build.get("name").and_then(Value::as_str), build.get("artifact_id").and_then(Value::as_str))
        else {
            continue;
        };
        artifacts.record(&packer::Record {
            target: name.to_owned(),
            kind: "artifact".to_owned(),
            data: vec![index.to_string(), "id".to_owned(), id.to_owned()],
        });
    }
    let images = build::images_from_artifacts(cloud, &artifacts, discarded)
        .map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    if images.is_empty() {
        bail!("{} records no image of its last run", path.display());
    }
    Ok(LastRun { images, run_uuid: last_run.map(str::to_owned), built })
}
