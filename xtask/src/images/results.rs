//! Builds run elsewhere, one template per CI runner: `--build-only
//! --result FILE` writes what a leg built, and `--apply FILE...` records the
//! results in the lock and patches the deployments through the same record
//! and apply stages as a local run. A result built from other template
//! content than the working tree's is refused, as are two results for one
//! template; every file is checked before anything is written.
//!
//! A result file (JSON, `version` 1):
//!
//! ```json
//! { "version": 1, "template": "packer/3.11/aws/machine-image/template.json",
//!   "images": { "eu-west-1": "ami-…" }, "regions": ["eu-west-1"],
//!   "builders": [{ "name": "amazon-ebs", "regions": ["eu-west-1"], "from_run": true }],
//!   "hash": "sha256:…", "inputs": […],
//!   "files": { "template.json": "sha256:…" }, "settings": "sha256:…",
//!   "variables": [], "packer_version": "1.6.6", "built_at": "2026-…Z",
//!   "run": { "id": "github:123456789/1", "host": "runner-1" } }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use super::readout::Readout;
use super::{Finished, Job, Options, Outcome, RunResult, apply, load_deployments, plan, record};
use crate::fsutil::write_atomic;
use crate::lock::{self, LockFile};
use crate::project::{self, Filter, TemplateFile};

pub const VERSION: u64 = 1;

/// A result is a few hundred bytes; anything this large is not one.
const MAX_RESULT_BYTES: u64 = 1 << 20;

/// Writes the result of the one template a `--build-only` run built; a
/// failed or interrupted build writes none.
pub fn write(path: &Path, jobs: &[Job], packer_version: &str) -> Result<()> {
    let built: Vec<&Job> = jobs.iter().filter(|job| matches!(job.outcome, Outcome::Built(_))).collect();
    let [job] = built.as_slice() else {
        if built.len() > 1 {
            bail!("--build-only builds one template; select one with --select");
        }
        return Ok(());
    };
    let document = json!({
        "version": VERSION,
        "template": job.file.rel,
        "release": job.layout.release,
        "cloud": job.layout.cloud,
        "image": job.layout.image,
        "images": job.outcome.images(),
        "regions": job.regions,
        // Where each builder built: what the merge checks, since this
        // leg's environment and values may not be the merge's.
        "builders": job.builders.iter().map(|builder| json!({
            "name": builder.name, "regions": builder.regions, "from_run": builder.from_run,
        })).collect::<Vec<_>>(),
        "hash": job.hash,
        "inputs": job.inputs,
        "files": job.files,
        "settings": job.settings,
        "variables": job.setting_names,
        "packer_version": packer_version,
        "built_at": lock::utc_now(),
        "run": run_identity(),
    });
    let text = serde_json::to_string_pretty(&document).expect("a result serialises") + "\n";
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    write_atomic(path, text.as_bytes()).with_context(|| format!("writing the result {}", path.display()))
}

/// Which run built it: the CI run when there is one, else this host and
/// process.
fn run_identity() -> Value {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let id = match (env("GITHUB_RUN_ID"), env("GITHUB_RUN_ATTEMPT")) {
        (Some(run), attempt) => format!("github:{run}/{}", attempt.unwrap_or_else(|| "1".to_owned())),
        (None, _) => format!("local:{}", std::process::id()),
    };
    let host = env("HOSTNAME")
        .or_else(|| fs::read_to_string("/etc/hostname").ok().map(|name| name.trim().to_owned()))
        .unwrap_or_default();
    json!({ "id": id, "host": host })
}

/// One result file, read and checked against the working tree.
struct Checked {
    job: Job,
    version: String,
    built_at: String,
}

pub fn apply(options: &Options) -> Result<Finished> {
    let (deployments, unreadable) = load_deployments(&options.root)?;
    let everything = project::find_all_templates(&options.root, &Filter::default());
    let images_here = plan::images_by_release_cloud(&everything);
    let mut lockfile = LockFile::read(&options.root)?;
    let mut checked: Vec<Checked> = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for path in &options.apply {
        let shown = path.display().to_string();
        let result = read(path, options)?;
        if let Some(other) = seen.insert(result.job.file.rel.clone(), shown.clone()) {
            bail!("{shown} and {other} are both results for {}; apply one result per template", result.job.file.rel);
        }
        let mut result = result;
        let here = images_here
            .get(&(result.job.layout.release.clone(), result.job.layout.cloud.clone()))
            .cloned()
            .unwrap_or_default();
        let (feeds, left_alone) =
            plan::feeds(&result.job.layout, &result.job.regions, &here, &deployments, &options.regions);
        result.job.feeds = feeds;
        result.job.left_alone = left_alone;
        let images = result.job.outcome.images().cloned().unwrap_or_default();
        record::refuse_older(&lockfile, &result.job, &images, &result.built_at, &shown)?;
        checked.push(result);
    }
    // Every result was read and checked; only now is anything written.
    let builds = checked
        .into_iter()
        .map(|Checked { job, version, built_at }| (job, record::Source::Result { version, built_at }))
        .collect();
    let jobs = record::record_all(&options.root, &mut lockfile, builds);
    let results = apply::apply(&options.root, &jobs, &deployments);
    Ok(Finished::Ran(RunResult { jobs, deployments: results, unreadable, interrupted: false }))
}

/// Reads a result and checks it: its shape, its template, and that the
/// template and its inputs are as they were when it was built.
fn read(path: &Path, options: &Options) -> Result<Checked> {
    let root = options.root.as_path();
    let shown = path.display();
    let bytes = crate::fsutil::read_regular(path, MAX_RESULT_BYTES)
        .map_err(|problem| anyhow::anyhow!("cannot read the result {shown}: {problem}"))?;
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the result {shown} is not UTF-8 text"))?;
    let value: Value = serde_json::from_str(&text).with_context(|| format!("{shown} is not valid JSON"))?;
    if value.get("version").and_then(Value::as_u64) != Some(VERSION) {
        bail!("{shown} is not a version {VERSION} result of `cargo xtask images --build-only`");
    }
    let text_of = |key: &str| -> Result<String> {
        Ok(value.get(key).and_then(Value::as_str).with_context(|| format!("{shown} has no `{key}` string"))?.to_owned())
    };
    let template = text_of("template")?;
    let template_path = root.join(&template);
    let is_hcl2_folder = template_path.is_dir() && crate::hcl2::holds_template_files(&template_path);
    if !template_path.is_file() && !is_hcl2_folder {
        bail!("{shown} was built from {template}, which this repository does not have");
    }
    let file =
        if is_hcl2_folder { TemplateFile::folder(root, template_path) } else { TemplateFile::new(root, template_path) };
    let layout = file.layout.clone().map_err(|problem| anyhow::anyhow!("{}: {problem}", file.rel))?;
    let images: BTreeMap<String, String> = value
        .get("images")
        .and_then(Value::as_object)
        .with_context(|| format!("{shown} has no `images` object"))?
        .iter()
        .map(|(region, id)| {
            Ok((region.clone(), id.as_str().with_context(|| format!("{shown}: {region} has no ID"))?.to_owned()))
        })
        .collect::<Result<_>>()?;
    if images.is_empty() {
        bail!("{shown} records no image");
    }
    for (region, id) in &images {
        if let Err(shape) = crate::packer::check_image_id(&layout.cloud, id) {
            bail!("{shown}: `{}` for {region} is not an image ID ({shape})", id.escape_debug());
        }
    }
    let values = plan::variable_values(&plan::var_files_for(file.format, &options.var_files), &options.vars)?;
    let parsed = Readout::checked(&file, &values).map_err(|why| anyhow::anyhow!("{}: {why}", file.rel))?;
    // The regions the leg asked for must be ones the template builds, and
    // it must have an image for each, as a local run checks.
    let asked: BTreeSet<String> = match value.get("regions").and_then(Value::as_array) {
        Some(regions) => regions.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        None => bail!("{shown} has no `regions` list; build it again with this version of xtask"),
    };
    match value.get("builders") {
        Some(builders) => check_builders(&shown.to_string(), &file.rel, builders, &parsed, &asked)?,
        None => {
            let builds: BTreeSet<String> = parsed.regions().into_iter().collect();
            if let Some(region) = asked.iter().find(|region| !builds.contains(*region)) {
                bail!(
                    "{shown} has an image for {}, which {} does not build ({})",
                    region.escape_debug(),
                    file.rel,
                    builds.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
    let reported: BTreeSet<String> = images.keys().cloned().collect();
    if reported != asked {
        bail!(
            "{shown} was asked for {} and has images for {}; build it again",
            asked.iter().map(String::as_str).collect::<Vec<_>>().join(", "),
            reported.iter().map(|r| r.escape_debug().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let inputs = parsed.inputs.clone();
    let lock::InputHashes { all: hash, each: files } = lock::hash_inputs(file.dir(), &inputs)?;
    if hash != text_of("hash")? {
        let before: BTreeMap<String, String> = value
            .get("files")
            .and_then(Value::as_object)
            .map(|files| files.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
            .unwrap_or_default();
        bail!(
            "{shown} was built from other content of {} than this working tree has ({}); build it again from \
             this commit",
            file.rel,
            plan::file_changes(&before, &files)
        );
    }
    let variables = value
        .get("variables")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let job = Job {
        regions: images.keys().cloned().collect(),
        builders: Vec::new(),
        feeds: Vec::new(),
        left_alone: Vec::new(),
        only: Vec::new(),
        hash,
        settings: text_of("settings")?,
        setting_names: variables,
        vars: Vec::new(),
        inputs,
        files,
        reason: format!("built elsewhere ({shown})"),
        outcome: Outcome::Built(images),
        secrets: Vec::new(),
        var_files: Vec::new(),
        file,
        layout,
    };
    let version = text_of("packer_version")?;
    let plain = |b: u8| b.is_ascii_alphanumeric() || b".-+".contains(&b);
    if version.is_empty() || version.len() > 32 || !version.bytes().all(plain) {
        bail!("{shown}: `{}` is not a Packer version", version.escape_debug());
    }
    let built_at = text_of("built_at")?;
    if !is_timestamp(&built_at) {
        bail!("{shown}: `{}` is not a time like 2026-11-27T14:03:11Z", built_at.escape_debug());
    }
    Ok(Checked { job, version, built_at })
}

/// The leg's builders against the template read here: each must be one
/// of its builders, and where its regions follow from the template's files
/// alone (here and in the leg), they must be the ones read here. Regions a
/// run decides (`AWS_REGION`, `--var`, a var file, `PKR_VAR_`) are the
/// leg's: its environment need not be this one's, and the result says what
/// was really built.
fn check_builders(
    shown: &str,
    template: &str,
    builders: &Value,
    parsed: &Readout,
    asked: &BTreeSet<String>,
) -> Result<()> {
    let entries = builders.as_array().with_context(|| format!("{shown}: `builders` is not a list"))?;
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for entry in entries {
        let name =
            entry.get("name").and_then(Value::as_str).with_context(|| format!("{shown}: a builder has no name"))?;
        let regions: BTreeSet<String> = entry
            .get("regions")
            .and_then(Value::as_array)
            .with_context(|| format!("{shown}: builder `{name}` has no `regions` list"))?
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let leg_from_run = entry.get("from_run").and_then(Value::as_bool).unwrap_or(false);
        if !parsed.image_builders.iter().any(|known| known == name) {
            bail!(
                "{shown} has images of builder `{}`, which the template does not have ({})",
                name.escape_debug(),
                parsed.image_builders.join(", ")
            );
        }
        if let Some(here) = parsed.builders.iter().find(|builder| builder.name == name)
            && !here.from_run
            && !leg_from_run
        {
            let expected: BTreeSet<String> = here.regions.iter().cloned().collect();
            if expected != regions {
                bail!(
                    "{shown}: builder `{name}` built in {}, and the template builds {} there; build it again",
                    regions.iter().map(|r| r.escape_debug().to_string()).collect::<Vec<_>>().join(", "),
                    expected.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
                );
            }
        }
        covered.extend(regions);
    }
    if let Some(region) = asked.iter().find(|region| !covered.contains(*region)) {
        bail!(
            "{shown} has an image for {}, which {} does not build ({})",
            region.escape_debug(),
            template,
            covered.iter().map(|r| r.escape_debug().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    if &covered != asked {
        bail!(
            "{shown}: its builders built {}, and it lists {}; build it again",
            covered.iter().map(|r| r.escape_debug().to_string()).collect::<Vec<_>>().join(", "),
            asked.iter().map(|r| r.escape_debug().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

/// `2026-11-27T14:03:11Z`, as `lock::utc_now` writes it.
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 20
        && bytes.iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            10 => *byte == b'T',
            13 | 16 => *byte == b':',
            19 => *byte == b'Z',
            _ => byte.is_ascii_digit(),
        })
}
