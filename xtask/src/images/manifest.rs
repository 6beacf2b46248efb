//! `--patch-from`: images from manifests written by Packer's `manifest`
//! post-processor, for builds run elsewhere. They go through the same
//! record and apply stages as a local build; the lock notes the manifest
//! and its run rather than a Packer version it does not know.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use super::{Finished, Job, Options, Outcome, RunResult, apply, build, linted, plan, record};
use crate::clock;
use crate::fingerprint;
use crate::lock::{LockFile, ManifestSource};
use crate::packer::{self, Artifacts};
use crate::printable;
use crate::project::{self, Filter, relative};

/// How far ahead of this machine's clock a manifest's build time may be
/// before it is taken for a wrong clock: clocks kept by NTP agree within
/// seconds.
const CLOCK_SLACK_SECONDS: u64 = 300;

/// A manifest gains a few hundred bytes a build; one this large is not
/// Packer's.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// 9999-12-31T23:59:59Z: the lock writes times with four-digit years.
const LAST_SECOND_OF_9999: u64 = 253_402_300_799;

pub fn apply(options: &Options, manifests: &[PathBuf]) -> Result<Finished> {
    let (deployments, unreadable) = crate::deployments::load_all(&options.root)?;
    let everything = project::find_all_templates(&options.root, &Filter::default());
    let images_here = project::images_by_release_cloud(&everything);
    let mut lockfile = LockFile::read(&options.root)?;
    let config = crate::config::Config::read(&options.root)?;
    let channels = config.channels;
    // A manifest does not say which Packer built it: its templates are
    // judged with the versions xtask.toml declares, else the newest known.
    let setting = crate::config::declared(None, &config.packer);
    let root = fs::canonicalize(&options.root).with_context(|| format!("resolving {}", options.root.display()))?;
    let mut jobs = Vec::new();
    // Each template's region, with the image and the manifest that gave it:
    // two manifests giving one region different images in one command would
    // leave the one named last, whichever is older.
    let mut given: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
    for manifest in manifests {
        // Relative to where the command runs, like any path argument; said
        // as `--apply` says a result it cannot read.
        crate::fsutil::regular_file(manifest).map_err(|problem| {
            anyhow::anyhow!(
                "cannot read the manifest {}: {problem}",
                printable::escape(&manifest.display().to_string())
            )
        })?;
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
        // The path goes into the lock, and from there to `status`.
        printable::check(&manifest_rel).map_err(|why| {
            anyhow::anyhow!("the manifest path {} {why}; rename it", printable::escape(&manifest_rel))
        })?;
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
        // The build's variables are not in the manifest: the ones given
        // here stand for them, as docs/images.md says.
        let var_files = plan::var_files_for(file.format, &options.var_files);
        let values = plan::variable_values(&var_files, &options.vars)?;
        let texts = crate::var_values::recorded_texts(&values);
        let template = linted::readout(&file, &values, &setting, &options.rules)
            .map_err(|why| anyhow::anyhow!("{}: {why}", file.rel))?;
        let discarded = build::discarded(&template.builders);
        let LastRun { images, run_uuid, built } =
            read_manifest(&manifest_path, &manifest_rel, &layout.cloud, &discarded)?;
        for (region, id) in &images {
            let key = (file.rel.clone(), region.clone());
            if let Some((other_id, other)) = given.get(&key)
                && other_id != id
            {
                bail!(
                    "{other} and {manifest_rel} both have an image of {} for {region} ({other_id} and {id}); apply \
                     the one to keep",
                    file.rel
                );
            }
            given.insert(key, (id.clone(), manifest_rel.clone()));
        }
        let regions: Vec<String> = images.keys().cloned().collect();
        let here = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned().unwrap_or_default();
        let (feeds, left_alone) =
            plan::feeds(&layout, &regions, &here, &deployments, &options.regions, channels.as_ref());
        let builds = template.regions();
        // A region only the build knows cannot be compared, nor one its
        // environment decided (`AWS_REGION`), which need not be this one's.
        let comparable = template.unresolved.is_empty()
            && template.region_problems.is_empty()
            && template.builders.iter().all(|builder| !builder.from_environment);
        let stray = regions.iter().find(|region| comparable && !builds.contains(region));
        if let Some(region) = stray {
            bail!(
                "{manifest_rel} has an image for {region}, which {} does not build ({}); is it this template's \
                 manifest?",
                file.rel,
                builds.join(", ")
            );
        }
        let inputs = template.inputs.clone();
        let fingerprint::InputHashes { all: hash, each: files } = fingerprint::hash_inputs(file.dir(), &inputs)?;
        let vars = template.declared_vars(&options.vars);
        let secrets = crate::secrets::collect(&template.sensitive, &texts);
        let settings = fingerprint::hash_settings(
            &options.root,
            &var_files,
            &vars,
            &template.sensitive_names(),
            &secrets,
            &template.variables,
        )?;
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
            setting_names: fingerprint::setting_names(&options.root, &var_files, &vars, &template.variables),
            recorded_values: fingerprint::recorded_values(
                &texts,
                &template.from_env,
                &template.variables,
                &template.sensitive_names(),
                &secrets,
            ),
            vars,
            inputs,
            files,
            reason: "applied from a manifest".to_owned(),
            outcome: Outcome::FromManifest { images, manifest: manifest_rel.clone() },
            secrets: Vec::new(),
            credential_env: Vec::new(),
            var_files,
            tooling: Default::default(),
        };
        let built_at = built.map(clock::utc_timestamp);
        if let Some(built_at) = built_at.as_deref().filter(|_| !options.force) {
            // A manifest is ordered by Packer's clock alone: one dated ahead
            // of this machine's would outrank every later build.
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            if built.is_some_and(|seconds| seconds > now + CLOCK_SLACK_SECONDS) {
                bail!(
                    "{manifest_rel} says its build ended at {built_at}, ahead of this machine's clock ({}); check the \
                     clock of the machine that built it, or pass --force to apply it anyway",
                    clock::utc_timestamp(now)
                );
            }
            let images = job.outcome.images().cloned().unwrap_or_default();
            record::refuse_older(&lockfile, &job, &images, built_at, &manifest_rel)?;
        }
        jobs.push((job, ManifestSource { path: manifest_rel, run_uuid }, built_at));
    }
    // Every manifest was read and checked above; only now is anything
    // written, so a bad one leaves the lock and the deployments as they were.
    let builds =
        jobs.into_iter().map(|(job, source, built_at)| (job, record::Source::Manifest { source, built_at })).collect();
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

/// The last run recorded in a manifest file (`shown` is its path for
/// messages), without the images Packer deregistered (`discarded`, see
/// [`build::discarded`]).
fn read_manifest(path: &Path, shown: &str, cloud: &str, discarded: &[(String, String)]) -> Result<LastRun> {
    let bytes = crate::fsutil::read_regular(path, MAX_MANIFEST_BYTES)
        .map_err(|problem| anyhow::anyhow!("cannot read the manifest {shown}: {problem}"))?;
    let manifest =
        crate::json::read_without_duplicate_keys(&bytes).with_context(|| format!("{shown} is not valid JSON"))?;
    let Some(builds) = manifest.get("builds").and_then(Value::as_array) else {
        bail!("{shown} has no `builds` list; is it a Packer manifest?");
    };
    // Every text taken from the manifest is checked before it is used: it
    // goes into the lock, messages and `status`.
    let plain = |field: String, text: &str| -> Result<()> {
        printable::check(text).map_err(|why| anyhow::anyhow!("{shown}: `{field}` {why}; is it a Packer manifest?"))
    };
    let last_run = manifest.get("last_run_uuid").and_then(Value::as_str);
    if let Some(uuid) = last_run {
        plain("last_run_uuid".to_owned(), uuid)?;
    }
    let mut artifacts = Artifacts::default();
    let mut built = None;
    for (index, build) in builds.iter().enumerate() {
        if last_run.is_some() && build.get("packer_run_uuid").and_then(Value::as_str) != last_run {
            continue;
        }
        // Packer writes Unix seconds; anything else would pass by both the
        // clock check and the lock's order as a manifest without a time.
        let build_time = match build.get("build_time") {
            None => None,
            Some(time) => match time.as_u64().filter(|seconds| *seconds <= LAST_SECOND_OF_9999) {
                Some(seconds) => Some(seconds),
                None => bail!(
                    "{shown}: `builds[{index}].build_time` is {}, not a time; is it a Packer manifest?",
                    printable::escape(&time.to_string())
                ),
            },
        };
        built = built.max(build_time);
        let (Some(name), Some(id)) =
            (build.get("name").and_then(Value::as_str), build.get("artifact_id").and_then(Value::as_str))
        else {
            continue;
        };
        plain(format!("builds[{index}].name"), name)?;
        plain(format!("builds[{index}].artifact_id"), id)?;
        artifacts.record(&packer::Record {
            target: name.to_owned(),
            kind: "artifact".to_owned(),
            data: vec![index.to_string(), "id".to_owned(), id.to_owned()],
        });
    }
    let images =
        build::images_from_artifacts(cloud, &artifacts, discarded).map_err(|why| anyhow::anyhow!("{shown}: {why}"))?;
    if images.is_empty() {
        bail!("{shown} records no image of its last run");
    }
    Ok(LastRun { images, run_uuid: last_run.map(str::to_owned), built })
}
