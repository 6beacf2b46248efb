//! Builds run elsewhere, one template per CI runner: `--build-only
//! --result FILE` writes what a leg built, and `--apply FILE...` records the
//! results in the lock and patches the deployments through the same record
//! and apply stages as a local run. A result built from other template
//! content than the working tree's is refused, as are two results for one
//! template; every file is checked before anything is written.
//!
//! A result file (JSON, `version` 2):
//!
//! ```json
//! { "version": 2, "template": "packer/3.11/aws/machine-image/template.json",
//!   "images": { "eu-west-1": "ami-…" }, "replaces": { "eu-west-1": "ami-…" },
//!   "regions": ["eu-west-1"],
//!   "builders": [{ "name": "amazon-ebs", "regions": ["eu-west-1"], "from_run": true }],
//!   "hash": "sha256:…", "inputs": […],
//!   "files": { "template.json": "sha256:…" }, "settings": "sha256:…",
//!   "variables": ["flavor"], "values": { "flavor": "b" },
//!   "packer_version": "1.6.6", "built_at": "2026-…Z",
//!   "plugins": { "github.com/hashicorp/amazon": "1.3.2" },
//!   "run": { "id": "github:123456789/1", "host": "runner-1" } }
//! ```
//!
//! `replaces` is what the leg's lock recorded for each region it built
//! (`null`: nothing): the merge refuses a result when the lock it applies
//! to records something else there since, an image recorded after the leg
//! began. That order comes from the repository's history; `built_at` comes
//! from the runner's clock, which can be wrong, and orders nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use super::{Finished, Job, Options, Outcome, RunResult, apply, linted, plan, record};
use crate::clock;
use crate::fingerprint;
use crate::fsutil::write_atomic;
use crate::hcl2::Given;
use crate::json::{self, Json, json_object};
use crate::lock::LockFile;
use crate::printable;
use crate::project::{self, Filter, TemplateFile};
use crate::protected::{Protected, Refusal};
use crate::readout::Readout;
use crate::schema::in_force::Declared;
use crate::version::Version;

pub const VERSION: u64 = 2;

/// A result is a few hundred bytes; anything this large is not one.
const MAX_RESULT_BYTES: u64 = 1 << 20;

/// Writes the result of the one template a `--build-only` run built; a
/// failed or interrupted build writes none. `lockfile` is the lock as the
/// run found it.
pub fn write(root: &Path, path: &Path, jobs: &[Job], packer_version: &str, lockfile: &LockFile) -> Result<()> {
    let built: Vec<&Job> = jobs.iter().filter(|job| matches!(job.outcome, Outcome::Built(_))).collect();
    let [job] = built.as_slice() else {
        if built.len() > 1 {
            bail!("--build-only builds one template; select one with --select");
        }
        return Ok(());
    };
    let locked = lockfile.templates.get(&job.file.rel);
    let replaces: BTreeMap<&String, Option<&String>> = job
        .regions
        .iter()
        .map(|region| (region, locked.and_then(|locked| locked.images.get(region)).map(|image| &image.id)))
        .collect();
    // The keys in alphabetical order, as results have always had them.
    let document = json_object! {
        // Where each builder built: what the merge checks, since this
        // leg's environment and values may not be the merge's.
        "builders": json::array(job.builders.iter().map(|builder| json_object! {
            "from_run": builder.from_run,
            "name": builder.name,
            "regions": builder.regions,
        })),
        "built_at": clock::utc_now(),
        "cloud": job.layout.cloud,
        "files": job.files,
        "hash": job.hash,
        "image": job.layout.image,
        "images": job.outcome.images(),
        "inputs": job.inputs,
        "packer_version": packer_version,
        "plugins": job.tooling.used,
        "regions": job.regions,
        "release": job.layout.release,
        "replaces": replaces,
        "run": run_identity(),
        "settings": job.settings,
        "template": job.file.rel,
        "values": job.recorded_values,
        "variables": job.setting_names,
        "version": VERSION,
    };
    let text = json::pretty(&document) + "\n";
    let target = check_place(root, path)?;
    if let Some(folder) = target.parent() {
        fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    write_atomic(&target, text.as_bytes()).with_context(|| format!("writing the result {}", path.display()))
}

/// The file `--result PATH` really writes, refused when it is a deployment,
/// the lock, or anything in packer/ or deployments/ (through `..` or a
/// symlink included): that is the very write a leg must not make.
/// A place whose folder cannot be made is refused too, before the build.
pub fn check_place(root: &Path, path: &Path) -> Result<PathBuf> {
    if path.file_name().is_none() {
        bail!("--result {}: that names a folder; name a file (e.g. target/results/leg.json)", path.display());
    }
    // `--result=~/x` and a quoted `~` reach xtask as they are, and would
    // make a folder named `~`.
    if path.components().next().is_some_and(|first| first.as_os_str().to_string_lossy().starts_with('~')) {
        bail!(
            "--result {}: the shell expands `~` only at the start of a word (`--result ~/x.json`, not \
             `--result=~/x.json` or a quoted one); write the path with $HOME or without ~",
            path.display()
        );
    }
    let target = Protected::of(root).check(path).map_err(|refusal| {
        let advice = match refusal {
            Refusal::Protected { .. } => "write results outside packer/ and deployments/ (e.g. target/results/)",
            Refusal::Unresolvable(_) => "fix the symlinks on the way, or name another file",
        };
        anyhow::anyhow!("--result {}: {refusal}; {advice}", path.display())
    })?;
    if target.is_dir() {
        bail!("--result {}: {} is a folder; name a file in it", path.display(), target.display());
    }
    if let Ok(metadata) = fs::symlink_metadata(&target)
        && !metadata.is_file()
    {
        bail!(
            "--result {}: it leads to {}, which is not a regular file; name a file",
            path.display(),
            target.display()
        );
    }
    let existing = target.ancestors().skip(1).find(|folder| folder.exists());
    if let Some(file) = existing.filter(|folder| !folder.is_dir()) {
        bail!("--result {}: {} is a file, not a folder", path.display(), file.display());
    }
    crate::fsutil::check_writable(&target)
        .map_err(|error| anyhow::anyhow!("--result {}: it cannot be written: {error:#}", path.display()))?;
    Ok(target)
}

/// Which run built it: the CI run when there is one, else this host and
/// process.
fn run_identity() -> Json {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let id = match (env("GITHUB_RUN_ID"), env("GITHUB_RUN_ATTEMPT")) {
        (Some(run), attempt) => format!("github:{run}/{}", attempt.unwrap_or_else(|| "1".to_owned())),
        (None, _) => format!("local:{}", std::process::id()),
    };
    let host = env("HOSTNAME")
        .or_else(|| fs::read_to_string("/etc/hostname").ok().map(|name| name.trim().to_owned()))
        .unwrap_or_default();
    json_object! { "host": host, "id": id }
}

/// One result file, read and checked against the working tree.
struct Checked {
    job: Job,
    version: String,
    built_at: String,
    /// What the leg's lock recorded for each region it built.
    replaces: BTreeMap<String, Option<String>>,
}

pub fn apply(options: &Options, results: &[PathBuf]) -> Result<Finished> {
    let (deployments, unreadable) = crate::deployments::load_all(&options.root)?;
    let everything = project::find_all_templates(&options.root, &Filter::default());
    let images_here = project::images_by_release_cloud(&everything);
    let mut lockfile = LockFile::read(&options.root)?;
    let channels = crate::config::Config::read(&options.root)?.channels;
    let mut checked: Vec<Checked> = Vec::new();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for path in results {
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
        let (feeds, left_alone) = plan::feeds(
            &result.job.layout,
            &result.job.regions,
            &here,
            &deployments,
            &options.regions,
            channels.as_ref(),
        );
        result.job.feeds = feeds;
        result.job.left_alone = left_alone;
        if !options.force {
            let images = result.job.outcome.images().cloned().unwrap_or_default();
            record::refuse_replaced(&lockfile, &result.job, &images, &result.replaces, &shown)?;
        }
        checked.push(result);
    }
    // Every result was read and checked; only now is anything written.
    // A leg cannot have ended after the merge: a runner's clock running
    // ahead must not put a time into the lock that outranks every manifest
    // applied after it.
    let merged_at = clock::utc_now();
    let builds = checked
        .into_iter()
        .map(|Checked { job, version, built_at, .. }| {
            let built_at = built_at.min(merged_at.clone());
            (job, record::Source::Result { version, built_at })
        })
        .collect();
    let jobs = record::record_all(&options.root, &mut lockfile, builds);
    let results = apply::apply(&options.root, &jobs, &deployments);
    Ok(Finished::Ran(RunResult { jobs, deployments: results, unreadable, interrupted: false }))
}

/// Reads a result and checks it: its shape, its template, and that the
/// template and its inputs are as they were when it was built.
fn read(path: &Path, options: &Options) -> Result<Checked> {
    let root = options.root.as_path();
    let shown = printable::escape(&path.display().to_string()).into_owned();
    let bytes = crate::fsutil::read_regular(path, MAX_RESULT_BYTES)
        .map_err(|problem| anyhow::anyhow!("cannot read the result {shown}: {problem}"))?;
    if std::str::from_utf8(&bytes).is_err() {
        bail!("the result {shown} is not UTF-8 text");
    }
    let value =
        crate::json::read_without_duplicate_keys(&bytes).with_context(|| format!("{shown} is not valid JSON"))?;
    match value.get("version").and_then(Value::as_u64) {
        Some(VERSION) => {}
        Some(older) if older < VERSION => bail!(
            "{shown} is a version {older} result, without what the lock recorded when its build began; build it \
             again with this version of xtask"
        ),
        _ => bail!("{shown} is not a version {VERSION} result of `cargo xtask images --build-only`"),
    }
    // Every text taken from the file is checked before it is used: it goes
    // into the lock, messages and `status`.
    let text_of = |key: &str| -> Result<String> {
        let text = value.get(key).and_then(Value::as_str).with_context(|| format!("{shown} has no `{key}` string"))?;
        plain(&shown, key, text)?;
        Ok(text.to_owned())
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
            plain(&shown, "images", region)?;
            let id = id.as_str().with_context(|| format!("{shown}: {region} has no ID"))?;
            plain(&shown, &format!("images.{region}"), id)?;
            Ok((region.clone(), id.to_owned()))
        })
        .collect::<Result<_>>()?;
    if images.is_empty() {
        bail!("{shown} records no image");
    }
    for (region, id) in &images {
        if let Err(shape) = crate::image_id::check_image_id(&layout.cloud, id) {
            bail!("{shown}: `{}` for {region} is not an image ID ({shape})", id.escape_debug());
        }
    }
    let variables = match value.get("variables").and_then(Value::as_array) {
        Some(names) => strings(&shown, "variables", names)?,
        None => bail!("{shown} has no `variables` list"),
    };
    let Some(given_values) = value.get("values").and_then(Value::as_object) else {
        bail!("{shown} has no `values` object; build it again with this version of xtask");
    };
    let mut recorded_values = BTreeMap::new();
    for (name, given) in given_values {
        plain(&shown, "values", name)?;
        let given = match given {
            Value::Null => None,
            Value::String(text) => {
                plain(&shown, &format!("values.{name}"), text)?;
                Some(text.clone())
            }
            _ => bail!("{shown}: `values.{}` is neither text nor null", printable::escape(name)),
        };
        recorded_values.insert(name.clone(), given);
    }
    // Read as the leg read it: with the values its build was given. Those
    // the result does not hold (secrets) come from this run's own --var and
    // --var-file, as the merge is given them; the others are not this
    // run's business.
    let own = plan::variable_values(&plan::var_files_for(file.format, &options.var_files), &options.vars)?;
    let values: BTreeMap<String, Given> = recorded_values
        .iter()
        .filter_map(|(name, value)| {
            // Read as `--var` text is (`var_values::from_recorded`).
            let recorded = value.as_ref().map(|text| Given::Arg(text.clone()));
            Some((name.clone(), recorded.or_else(|| own.get(name).cloned())?))
        })
        .collect();
    let lacking: Vec<String> = recorded_values.keys().filter(|name| !values.contains_key(*name)).cloned().collect();
    let version = text_of("packer_version")?;
    let version_byte = |b: u8| b.is_ascii_alphanumeric() || b".-+".contains(&b);
    if version.is_empty() || version.len() > 32 || !version.bytes().all(version_byte) {
        bail!("{shown}: `{}` is not a Packer version", version.escape_debug());
    }
    // Judged as the leg's build was: with the versions xtask.toml declares,
    // else the Packer that built it; its values read as that Packer read them.
    let mut setting = crate::config::declared(None, &crate::config::Config::read(root)?.packer);
    setting.builds_with = Version::of_packer(&version);
    if setting.core.is_none() {
        setting.core = Declared::packer(&version, format!("the Packer that built {shown}"));
    }
    let parsed = linted::readout(&file, &values, &setting, &options.rules)
        .map_err(|why| anyhow::anyhow!("{}: {why}", file.rel))?;
    if let Some(name) = recorded_values.keys().find(|name| !parsed.variables.contains(*name)) {
        bail!(
            "{shown}: `values` gives `{}`, which {} does not declare; build it again",
            printable::escape(name),
            file.rel
        );
    }
    // What the lock keeps is decided here as for a local build: a result
    // cannot write a secret's value into it, whatever the file holds.
    let given: BTreeMap<String, String> =
        recorded_values.iter().filter_map(|(name, value)| Some((name.clone(), value.clone()?))).collect();
    let mut recorded_values: BTreeMap<String, Option<String>> =
        recorded_values.into_iter().filter(|(_, value)| value.is_none()).collect();
    let secrets = crate::secrets::collect(&parsed.sensitive, &crate::var_values::recorded_texts(&values));
    recorded_values.extend(fingerprint::recorded_values(
        &given,
        &[],
        &parsed.variables,
        &parsed.sensitive_names(),
        &secrets,
    ));
    // The regions the leg asked for must be ones the template builds, and
    // it must have an image for each, as a local run checks.
    let asked: BTreeSet<String> = match value.get("regions").and_then(Value::as_array) {
        Some(regions) => strings(&shown, "regions", regions)?.into_iter().collect(),
        None => bail!("{shown} has no `regions` list; build it again with this version of xtask"),
    };
    let Some(builders) = value.get("builders") else {
        bail!("{shown} has no `builders` list; build it again with this version of xtask");
    };
    check_builders(&shown, &file.rel, builders, &parsed, &asked)?;
    let reported: BTreeSet<String> = images.keys().cloned().collect();
    if reported != asked {
        bail!(
            "{shown} was asked for {} and has images for {}; build it again",
            asked.iter().map(String::as_str).collect::<Vec<_>>().join(", "),
            reported.iter().map(|r| r.escape_debug().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let inputs = parsed.inputs.clone();
    let fingerprint::InputHashes { all: hash, each: files } = fingerprint::hash_inputs(file.dir(), &inputs)?;
    let recorded_hash = text_of("hash")?;
    let settings = text_of("settings")?;
    for (key, digest) in [("hash", &recorded_hash), ("settings", &settings)] {
        if !fingerprint::is_digest(digest) {
            bail!("{shown}: `{key}` is `{digest}`, not a hash like sha256:<64 hex digits>");
        }
    }
    if hash != recorded_hash {
        let mut before: BTreeMap<String, String> = BTreeMap::new();
        for (name, digest) in value.get("files").and_then(Value::as_object).into_iter().flatten() {
            plain(&shown, "files", name)?;
            if let Some(digest) = digest.as_str() {
                plain(&shown, &format!("files.{name}"), digest)?;
                before.insert(name.clone(), digest.to_owned());
            }
        }
        if before == files {
            bail!("{shown}: its `hash` is not that of the files it lists (`files`); build it again from this commit");
        }
        let hint = if lacking.is_empty() {
            String::new()
        } else {
            format!(
                "; or, if the leg built this commit, give {} here as the leg had {}: the result does not hold \
                 secret values, and which files a build reads can depend on them",
                lacking.join(", "),
                if lacking.len() == 1 { "it" } else { "them" }
            )
        };
        bail!(
            "{shown} was built from other content of {} than this working tree has ({}); build it again from \
             this commit{hint}",
            file.rel,
            crate::freshness::file_changes(&before, &files)
        );
    }
    let tooling = super::tools::Tooling { used: plugins_of(&value, &shown)?, ..Default::default() };
    let job = Job {
        regions: images.keys().cloned().collect(),
        builders: Vec::new(),
        feeds: Vec::new(),
        left_alone: Vec::new(),
        only: Vec::new(),
        hash,
        settings,
        setting_names: variables,
        recorded_values,
        vars: Vec::new(),
        inputs,
        files,
        reason: format!("built elsewhere ({shown})"),
        outcome: Outcome::Built(images),
        secrets: Vec::new(),
        credential_env: Vec::new(),
        var_files: Vec::new(),
        tooling,
        file,
        layout,
    };
    let built_at = text_of("built_at")?;
    if !is_timestamp(&built_at) {
        bail!("{shown}: `{}` is not a time like 2026-11-27T14:03:11Z", built_at.escape_debug());
    }
    let Some(replaced) = value.get("replaces").and_then(Value::as_object) else {
        bail!("{shown} has no `replaces` object; build it again with this version of xtask");
    };
    let mut replaces = BTreeMap::new();
    for (region, id) in replaced {
        plain(&shown, "replaces", region)?;
        let id = match id {
            Value::Null => None,
            Value::String(id) => {
                plain(&shown, &format!("replaces.{region}"), id)?;
                Some(id.clone())
            }
            _ => bail!("{shown}: `replaces.{region}` is neither an image ID nor null"),
        };
        replaces.insert(region.clone(), id);
    }
    if let Some(region) = job.regions.iter().find(|region| !replaces.contains_key(*region)) {
        bail!("{shown}: `replaces` does not say what the lock recorded for {region}; build it again");
    }
    Ok(Checked { job, version, built_at, replaces })
}

/// Refuses a text of the result's `field` that holds a control character.
fn plain(shown: &str, field: &str, text: &str) -> Result<()> {
    printable::check(text).map_err(|why| {
        anyhow::anyhow!(
            "{shown}: `{}` {why}; a result is written by `--build-only`, build it again",
            printable::escape(field)
        )
    })
}

/// A list of strings of the result's `field`, each checked.
fn strings(shown: &str, field: &str, items: &[Value]) -> Result<Vec<String>> {
    items
        .iter()
        .map(|item| {
            let text = item.as_str().with_context(|| format!("{shown}: `{field}` holds something other than text"))?;
            plain(shown, field, text)?;
            Ok(text.to_owned())
        })
        .collect()
}

/// The plugins a result's build used, source to version: none when
/// Packer's bundled plugins built it, or the result predates the field.
fn plugins_of(value: &Value, shown: &dyn std::fmt::Display) -> Result<Option<BTreeMap<String, String>>> {
    let Some(plugins) = value.get("plugins").filter(|plugins| !plugins.is_null()) else {
        return Ok(None);
    };
    let plain = |text: &str, extra: &[u8]| {
        !text.is_empty()
            && text.len() <= 200
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b".-+".contains(&b) || extra.contains(&b))
    };
    let used: Option<BTreeMap<String, String>> = plugins.as_object().and_then(|plugins| {
        plugins
            .iter()
            .map(|(source, version)| {
                let version = version.as_str().filter(|version| plain(version, b""))?;
                plain(source, b"/_").then(|| (source.clone(), version.to_owned()))
            })
            .collect()
    });
    match used {
        Some(used) => Ok(Some(used)),
        None => bail!("{shown}: `plugins` is not an object of plugin sources and their versions"),
    }
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
        plain(shown, "builders", name)?;
        let listed = entry
            .get("regions")
            .and_then(Value::as_array)
            .with_context(|| format!("{shown}: builder `{name}` has no `regions` list"))?;
        let regions: BTreeSet<String> = strings(shown, "builders", listed)?.into_iter().collect();
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

/// `2026-11-27T14:03:11Z`, as `clock::utc_now` writes it: a day that
/// exists in some month, and a time of day.
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 20
        && bytes.iter().enumerate().all(|(at, byte)| match at {
            4 | 7 => *byte == b'-',
            10 => *byte == b'T',
            13 | 16 => *byte == b':',
            19 => *byte == b'Z',
            _ => byte.is_ascii_digit(),
        });
    let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().unwrap_or(u32::MAX);
    shaped
        && (1..=12).contains(&number(5..7))
        && (1..=31).contains(&number(8..10))
        && number(11..13) < 24
        && number(14..16) < 60
        && number(17..19) < 60
}
