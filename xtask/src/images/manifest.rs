//! `--patch-from`: images from manifests written by Packer's `manifest`
//! post-processor, for builds run elsewhere. They go through the same
//! record and apply stages as a local build; the lock notes the manifest
//! and its run rather than a Packer version it does not know.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use super::{Finished, Job, Options, Outcome, RunResult, apply, build, load_deployments, plan, record};
use crate::lock::{self, LockFile, ManifestSource};
use crate::packer::{self, Artifacts};
use crate::project::{self, Filter, TemplateFile, relative};

pub fn apply(options: &Options) -> Result<Finished> {
    let (deployments, unreadable) = load_deployments(&options.root)?;
    let everything = project::find_templates(&options.root, &Filter::default());
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
        let template_path = manifest_path.parent().map(|dir| dir.join("template.json"));
        let Some(template_path) = template_path.filter(|path| path.is_file()) else {
            bail!(
                "{manifest_rel}: no template.json beside it; keep the manifest in the template's folder (its \
                 `output` relative to the template)"
            );
        };
        let file = TemplateFile::new(&root, template_path);
        let layout = file.layout.clone().map_err(|problem| anyhow::anyhow!("{}: {problem}", file.rel))?;
        let LastRun { images, run_uuid, built } = read_manifest(&manifest_path, &layout.cloud)?;
        let regions: Vec<String> = images.keys().cloned().collect();
        let here = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned().unwrap_or_default();
        let (feeds, left_alone) = plan::feeds(&layout, &regions, &here, &deployments, &options.regions);
        let template =
            plan::checked_template(&file, &BTreeSet::new()).map_err(|why| anyhow::anyhow!("{}: {why}", file.rel))?;
        let inputs = template.inputs();
        let dir = file.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let lock::InputHashes { all: hash, each: files } = lock::hash_inputs(&dir, &inputs)?;
        // The build's variables are not in the manifest: the ones given
        // here stand for them, as the README asks.
        let vars = plan::declared_vars(&template, &options.vars);
        let sensitive: Vec<&str> = template.sensitive_variables().into_iter().map(|(_, name)| name).collect();
        let settings = lock::hash_settings(&options.var_files, &vars, &sensitive)?;
        let job = Job {
            file,
            layout,
            feeds,
            left_alone,
            regions,
            only: Vec::new(),
            hash,
            settings,
            setting_names: lock::setting_names(&options.var_files, &vars),
            vars,
            inputs,
            files,
            reason: "applied from a manifest".to_owned(),
            outcome: Outcome::FromManifest { images, manifest: manifest_rel.clone() },
            secrets: Vec::new(),
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

/// The last run recorded in a manifest file.
fn read_manifest(path: &Path, cloud: &str) -> Result<LastRun> {
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
    let images =
        build::images_from_artifacts(cloud, &artifacts).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    if images.is_empty() {
        bail!("{} records no image of its last run", path.display());
    }
    Ok(LastRun { images, run_uuid: last_run.map(str::to_owned), built })
}
