//! `cargo xtask images`: builds the templates with the real Packer, captures
//! the image IDs per region and writes them into every deployment of that
//! release and cloud.

pub mod patch;
pub mod plan;
mod progress;
mod report;
mod run_lock;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::deployments::{self, Deployment};
use crate::diagnostic::Severity;
use crate::lint_templates::{self, Loaded};
use crate::packer::{self, Artifacts, BuildArgs, Line};
use crate::project::{self, Filter, Layout, TemplateFile};
use crate::render::Format;
use crate::secrets;
use crate::template::Template;

use crate::lock::{self, LockFile, LockedImage};
use plan::{Feed, GLOBAL, LeftAlone};
use progress::Progress;

/// What to build and how.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub root: PathBuf,
    pub filter: Filter,
    pub regions: Vec<String>,
    pub dry_run: bool,
    pub force: bool,
    pub jobs: usize,
    pub packer: Option<PathBuf>,
    pub vars: Vec<(String, String)>,
    pub var_files: Vec<PathBuf>,
    pub patch_from: Vec<PathBuf>,
    pub format: Format,
}

/// A template the run works on.
pub struct Job {
    pub file: TemplateFile,
    pub layout: Layout,
    pub feeds: Vec<Feed>,
    pub left_alone: Vec<LeftAlone>,
    pub regions: Vec<String>,
    pub only: Vec<String>,
    pub hash: String,
    /// The hash of the variables given to the build.
    pub settings: String,
    pub inputs: Vec<String>,
    pub outcome: Outcome,
    /// Values that must never be printed or logged.
    pub secrets: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum Outcome {
    /// Waiting to be built.
    Pending,
    /// Built now: image ID per region.
    Built(BTreeMap<String, String>),
    /// Unchanged since the lock's images were built.
    Skipped(BTreeMap<String, String>),
    Failed(String),
    Interrupted,
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Built(_) => "built",
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
            Outcome::Interrupted => "interrupted",
        }
    }

    pub fn images(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Outcome::Built(images) | Outcome::Skipped(images) => Some(images),
            _ => None,
        }
    }
}

/// What the run did to one deployment.
pub struct DeploymentResult {
    pub rel: String,
    pub changes: Vec<patch::Change>,
    pub diff: String,
    pub error: Option<String>,
}

pub struct RunResult {
    pub jobs: Vec<Job>,
    pub deployments: Vec<DeploymentResult>,
    /// Deployments that could not be read, with why.
    pub unreadable: Vec<String>,
    pub interrupted: bool,
}

pub fn run(options: &Options) -> Result<ExitCode> {
    if !options.root.is_dir() {
        bail!("the root `{}` is not a folder; pass --root with the repository's top folder", options.root.display());
    }
    let _guard = if options.dry_run { None } else { Some(run_lock::acquire(&options.root)?) };
    let result = if options.patch_from.is_empty() { build_and_patch(options)? } else { patch_from(options)? };
    let Some(result) = result else {
        return Ok(ExitCode::SUCCESS);
    };
    match options.format {
        Format::Json => print!("{}", report::json(&result)),
        _ => print!("{}", report::human(&result)),
    }
    let failed = result.jobs.iter().any(|job| matches!(job.outcome, Outcome::Failed(_)))
        || result.deployments.iter().any(|d| d.error.is_some())
        || !result.unreadable.is_empty();
    Ok(if result.interrupted {
        ExitCode::from(130)
    } else if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Reads every deployment; the unreadable ones are reported, not fatal.
fn load_deployments(root: &Path) -> Result<(Vec<Deployment>, Vec<String>)> {
    let mut loaded = Vec::new();
    let mut unreadable = Vec::new();
    for path in deployments::find(root)? {
        match Deployment::load(root, &path) {
            Ok(deployment) => loaded.push(deployment),
            Err(error) => unreadable.push(format!("{error:#}")),
        }
    }
    Ok((loaded, unreadable))
}

/// `--var` values merged over var files, for resolving regions and secrets.
fn variable_values(options: &Options) -> Result<BTreeMap<String, String>> {
    let mut values = crate::template::read_var_files(&options.var_files)?;
    values.extend(options.vars.iter().cloned());
    Ok(values)
}

/// Lints and parses a template for building: lint errors stop it.
fn checked_template(file: &TemplateFile, var_names: &BTreeSet<String>) -> Result<Template, String> {
    let report = lint_templates::lint_file(file, var_names);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.rule.severity == Severity::Error)
        .map(|d| format!("{}:{}:{}: {} [{}]", file.rel, d.span.line, d.span.column, d.message, d.rule.name))
        .collect();
    if !errors.is_empty() {
        return Err(format!(
            "lint errors (run `cargo xtask lint-templates {}` for details):\n  {}",
            file.rel,
            errors.join("\n  ")
        ));
    }
    let Loaded::Text(source) = lint_templates::load(file) else {
        return Err("the template could not be read".to_owned());
    };
    lint_templates::parse(&source, &mut Default::default())
        .ok_or_else(|| "the template is not a JSON object".to_owned())
}

/// Plans every selected template: what it feeds, and whether it needs a build.
fn plan_jobs(options: &Options, deployments: &[Deployment], lockfile: &LockFile) -> Result<Vec<Job>> {
    let everything = project::find_templates(&options.root, &Filter::default());
    let images_here = plan::images_by_release_cloud(&everything);
    let selected = project::find_templates(&options.root, &options.filter);
    let values = variable_values(options)?;
    let var_names: BTreeSet<String> = values.keys().cloned().collect();
    let mut jobs = Vec::new();
    for file in selected {
        let layout = match &file.layout {
            Ok(layout) => layout.clone(),
            Err(problem) => {
                // Not at packer/<release>/<cloud>/<image>: nothing it could feed.
                let layout = Layout { release: "?".into(), cloud: "?".into(), image: file.rel.clone() };
                jobs.push(failed_job(
                    file.clone(),
                    layout,
                    format!("{problem}; move it to packer/<release>/<cloud>/<image>/template.json"),
                ));
                continue;
            }
        };
        let template = match checked_template(&file, &var_names) {
            Ok(template) => template,
            Err(why) => {
                jobs.push(failed_job(file, layout, why));
                continue;
            }
        };
        let builders = plan::region_builders(&template, &values);
        let selected_builders: Vec<&plan::RegionBuilder> = builders
            .iter()
            .filter(|b| {
                options.regions.is_empty() || b.regions.iter().any(|r| r == GLOBAL || options.regions.contains(r))
            })
            .collect();
        let mut regions: Vec<String> = Vec::new();
        for builder in &selected_builders {
            for region in &builder.regions {
                if !regions.contains(region) {
                    regions.push(region.clone());
                }
            }
        }
        let only = if options.regions.is_empty() || selected_builders.len() == builders.len() {
            Vec::new()
        } else {
            selected_builders.iter().map(|b| b.name.clone()).collect()
        };
        let no_region = selected_builders.is_empty();
        let here = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned().unwrap_or_default();
        let (feeds, left_alone) = plan::feeds(&layout, &regions, &here, deployments, &options.regions);
        let dir = file.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let inputs = template.inputs();
        let hash = lock::hash_inputs(&dir, &inputs)?;
        let settings = lock::hash_settings(&options.var_files, &options.vars)?;
        let outcome = if no_region {
            Outcome::Failed(format!("it builds none of the regions in --region ({})", options.regions.join(", ")))
        } else {
            match lockfile.templates.get(&file.rel) {
                Some(locked) if !options.force => {
                    let current: Option<BTreeMap<String, String>> = regions
                        .iter()
                        .map(|region| {
                            locked
                                .images
                                .get(region)
                                .filter(|image| image.hash == hash && image.settings == settings)
                                .map(|image| (region.clone(), image.id.clone()))
                        })
                        .collect();
                    current.map_or(Outcome::Pending, Outcome::Skipped)
                }
                _ => Outcome::Pending,
            }
        };
        jobs.push(Job {
            secrets: secrets::collect(&template, &values),
            file,
            layout,
            feeds,
            left_alone,
            regions,
            only,
            hash,
            settings,
            inputs,
            outcome,
        });
    }
    Ok(jobs)
}

fn failed_job(file: TemplateFile, layout: Layout, why: String) -> Job {
    Job {
        file,
        layout,
        feeds: Vec::new(),
        left_alone: Vec::new(),
        regions: Vec::new(),
        only: Vec::new(),
        hash: String::new(),
        settings: String::new(),
        inputs: Vec::new(),
        outcome: Outcome::Failed(why),
        secrets: Vec::new(),
    }
}

fn build_and_patch(options: &Options) -> Result<Option<RunResult>> {
    let (deployments, unreadable) = load_deployments(&options.root)?;
    let mut lockfile = LockFile::read(&options.root)?;
    let mut jobs = plan_jobs(options, &deployments, &lockfile)?;
    if jobs.is_empty() {
        eprintln!("No templates match; templates live at packer/<release>/<cloud>/<image>/template.json.");
    }
    if options.dry_run {
        print!("{}", report::plan(&jobs, &unreadable));
        return Ok(None);
    }
    let pending: Vec<usize> = (0..jobs.len()).filter(|&i| matches!(jobs[i].outcome, Outcome::Pending)).collect();
    let mut interrupted = false;
    if !pending.is_empty() {
        let packer_path = packer::find(options.packer.as_deref())?;
        // Asked beside the builds rather than before them: it costs a
        // Packer start-up, which the lock file should not add to the run.
        let version = {
            let packer_path = packer_path.clone();
            std::thread::spawn(move || packer::version(&packer_path))
        };
        interrupted = build_all(options, &packer_path, &mut jobs, &pending)?;
        let version =
            version.join().unwrap_or_else(|_| Ok("unknown".to_owned())).unwrap_or_else(|_| "unknown".to_owned());
        for job in &jobs {
            if let Outcome::Built(images) = &job.outcome {
                record_build(&mut lockfile, job, images, &version);
            }
        }
    }
    let results = patch_deployments(&options.root, &jobs, &deployments);
    if jobs.iter().any(|job| matches!(job.outcome, Outcome::Built(_))) {
        lockfile.write(&options.root).context("writing packer/images.lock")?;
    }
    Ok(Some(RunResult { jobs, deployments: results, unreadable, interrupted }))
}

fn record_build(lockfile: &mut LockFile, job: &Job, images: &BTreeMap<String, String>, version: &str) {
    let entry = lockfile.templates.entry(job.file.rel.clone()).or_default();
    entry.hash = job.hash.clone();
    entry.inputs = job.inputs.clone();
    entry.packer_version = version.to_owned();
    let built_at = lock::utc_now();
    for (region, id) in images {
        entry.images.insert(
            region.clone(),
            LockedImage {
                id: id.clone(),
                built_at: built_at.clone(),
                hash: job.hash.clone(),
                settings: job.settings.clone(),
            },
        );
    }
}

/// Everything a build thread reports to the main thread.
enum Event {
    Step(usize, String),
    Detail(usize, String),
    Done(usize, Outcome),
}

/// Interrupt flag set by SIGINT and SIGTERM.
fn interrupt_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&flag)).context("installing the interrupt handler")?;
    }
    Ok(flag)
}

/// Builds the pending jobs, `options.jobs` at a time. Returns whether the
/// run was interrupted.
fn build_all(options: &Options, packer_path: &Path, jobs: &mut [Job], pending: &[usize]) -> Result<bool> {
    let flag = interrupt_flag()?;
    let log_dir = options.root.join("target/xtask/images");
    fs::create_dir_all(&log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    let names: Vec<String> = pending.iter().map(|&i| jobs[i].layout.slug()).collect();
    let mut progress = Progress::new(&names);
    let queue: Arc<Mutex<VecDeque<usize>>> = Arc::new(Mutex::new(pending.iter().copied().collect()));
    let running: Arc<Mutex<BTreeMap<usize, u32>>> = Arc::default();
    let (sender, receiver) = mpsc::channel::<Event>();
    let workers = options.jobs.max(1).min(pending.len());
    let specs: Arc<Vec<BuildSpec>> = Arc::new(
        jobs.iter()
            .map(|job| BuildSpec {
                dir: job.file.path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                log: log_dir.join(format!("{}.log", job.layout.slug())),
                log_shown: format!("target/xtask/images/{}.log", job.layout.slug()),
                args: BuildArgs {
                    only: job.only.clone(),
                    vars: options.vars.clone(),
                    var_files: absolute(&options.var_files),
                },
                cloud: job.layout.cloud.clone(),
                secrets: job.secrets.clone(),
            })
            .collect(),
    );
    let mut handles = Vec::new();
    for _ in 0..workers {
        let (queue, running, sender, flag, specs) =
            (Arc::clone(&queue), Arc::clone(&running), sender.clone(), Arc::clone(&flag), Arc::clone(&specs));
        let packer_path = packer_path.to_path_buf();
        handles.push(std::thread::spawn(move || {
            loop {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                let Some(index) = queue.lock().expect("queue lock").pop_front() else {
                    break;
                };
                let outcome = build_one(&packer_path, &specs[index], index, &sender, &running, &flag);
                let _ = sender.send(Event::Done(index, outcome));
            }
        }));
    }
    drop(sender);
    let mut forwarded = false;
    let mut done = 0;
    while done < pending.len() {
        if flag.load(Ordering::SeqCst) && !forwarded {
            forwarded = true;
            progress.step("xtask", "interrupted: stopping every running packer so it can clean up");
            for &pid in running.lock().expect("running lock").values() {
                packer::interrupt(pid);
            }
        }
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::Step(index, step)) => progress.step(&jobs[index].layout.slug(), &step),
            Ok(Event::Detail(index, detail)) => progress.detail(&jobs[index].layout.slug(), &detail),
            Ok(Event::Done(index, outcome)) => {
                let step = match &outcome {
                    Outcome::Built(images) => format!("built {}", describe_images(images)),
                    Outcome::Failed(why) => {
                        format!(
                            "failed: {}",
                            secrets::redact(why.lines().next().unwrap_or_default(), &jobs[index].secrets)
                        )
                    }
                    other => other.name().to_owned(),
                };
                progress.step(&jobs[index].layout.slug(), &step);
                jobs[index].outcome = outcome;
                done += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    for handle in handles {
        let _ = handle.join();
    }
    let interrupted = flag.load(Ordering::SeqCst);
    for &index in pending {
        if matches!(jobs[index].outcome, Outcome::Pending) {
            jobs[index].outcome = Outcome::Interrupted;
        }
    }
    Ok(interrupted)
}

fn absolute(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths.iter().map(|path| std::path::absolute(path).unwrap_or_else(|_| path.clone())).collect()
}

pub fn describe_images(images: &BTreeMap<String, String>) -> String {
    images.iter().map(|(region, id)| format!("{region} {id}")).collect::<Vec<_>>().join(", ")
}

struct BuildSpec {
    dir: PathBuf,
    log: PathBuf,
    /// The log's path relative to the root, for messages.
    log_shown: String,
    args: BuildArgs,
    cloud: String,
    secrets: Vec<String>,
}

/// Validates and builds one template, logging everything Packer says.
fn build_one(
    packer_path: &Path,
    spec: &BuildSpec,
    index: usize,
    sender: &mpsc::Sender<Event>,
    running: &Mutex<BTreeMap<usize, u32>>,
    flag: &AtomicBool,
) -> Outcome {
    let mut log = match fs::File::create(&spec.log) {
        Ok(file) => file,
        Err(error) => {
            return Outcome::Failed(format!("cannot write the log {}: {error}", spec.log.display()));
        }
    };
    let mut write_log = |text: &str| {
        let _ = writeln!(log, "{}", secrets::redact(text, &spec.secrets));
    };
    let _ = sender.send(Event::Step(index, "validating".to_owned()));
    match packer::validate(packer_path, &spec.dir, &spec.args) {
        Err(error) => return Outcome::Failed(format!("{error:#}")),
        Ok(Err(output)) => {
            write_log(&output);
            // A Ctrl-C on the terminal reaches validate too, which shares
            // xtask's process group.
            if flag.load(Ordering::SeqCst) {
                return Outcome::Interrupted;
            }
            let first = output.lines().find(|line| !line.trim().is_empty()).unwrap_or("no output");
            return Outcome::Failed(format!(
                "packer validate failed: {} (log: {})",
                secrets::redact(first, &spec.secrets),
                spec.log_shown
            ));
        }
        Ok(Ok(())) => write_log("packer validate: ok"),
    }
    if flag.load(Ordering::SeqCst) {
        return Outcome::Interrupted;
    }
    let _ = sender.send(Event::Step(index, "building".to_owned()));
    let build = match packer::Build::start(packer_path, &spec.dir, &spec.args) {
        Ok(build) => build,
        Err(error) => return Outcome::Failed(format!("{error:#}")),
    };
    running.lock().expect("running lock").insert(index, build.pid());
    // An interrupt that arrived while the build was starting.
    if flag.load(Ordering::SeqCst) {
        packer::interrupt(build.pid());
    }
    let mut artifacts = Artifacts::default();
    let mut last_error = String::new();
    let finished = build.run(|line| match line {
        Line::Record(record) => {
            artifacts.record(&record);
            if let Some(text) = record.ui_text() {
                write_log(text.trim_end());
                if record.data.first().is_some_and(|kind| kind == "error") {
                    last_error = secrets::redact(text.trim(), &spec.secrets);
                }
                let _ = sender.send(Event::Detail(index, secrets::redact(text, &spec.secrets)));
            }
        }
        Line::Other(text) => write_log(&text),
    });
    running.lock().expect("running lock").remove(&index);
    let succeeded = match finished {
        Ok(succeeded) => succeeded,
        Err(error) => return Outcome::Failed(format!("{error:#}")),
    };
    if flag.load(Ordering::SeqCst) {
        return Outcome::Interrupted;
    }
    if !succeeded {
        let why = last_error.lines().next().unwrap_or("see the log").to_owned();
        let hint = if why.contains("credential") {
            "; set the cloud credentials the template reads (for the AWS templates here: TF_VAR_aws_access_key \
             and TF_VAR_aws_secret_key)"
        } else {
            ""
        };
        return Outcome::Failed(format!("packer build failed: {why}{hint} (log: {})", spec.log_shown));
    }
    match images_from_artifacts(&spec.cloud, &artifacts) {
        Ok(images) if images.is_empty() => {
            Outcome::Failed(format!("packer reported no image (log: {})", spec.log_shown))
        }
        Ok(images) => Outcome::Built(images),
        Err(why) => Outcome::Failed(why),
    }
}

/// Image IDs per region from a build's artifacts, each checked for shape.
fn images_from_artifacts(cloud: &str, artifacts: &Artifacts) -> Result<BTreeMap<String, String>, String> {
    let mut images = BTreeMap::new();
    for (builder, id) in artifacts.ids() {
        let pairs = if cloud == "gce" { vec![(GLOBAL.to_owned(), id.clone())] } else { packer::split_ami_id(&id) };
        for (region, image) in pairs {
            let well_formed =
                if cloud == "gce" { packer::is_gce_image_name(&image) } else { packer::is_ami_id(&image) };
            if !well_formed {
                return Err(format!(
                    "builder `{builder}` reported `{image}`, which is not an image ID; nothing was patched"
                ));
            }
            if let Some(other) = images.insert(region.clone(), image.clone())
                && other != image
            {
                return Err(format!("two images for {region} ({other} and {image}); build each region once"));
            }
        }
    }
    Ok(images)
}

/// Writes the new IDs into every fed deployment: one atomic write per file,
/// combining the keys of every template that feeds it.
fn patch_deployments(root: &Path, jobs: &[Job], deployments: &[Deployment]) -> Vec<DeploymentResult> {
    let mut wanted: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
    for job in jobs {
        let Some(images) = job.outcome.images() else {
            continue;
        };
        for feed in &job.feeds {
            if let Some(id) = images.get(&feed.region) {
                wanted.entry(feed.deployment).or_default().insert(feed.role.clone(), id.clone());
            }
        }
    }
    let mut planned = Vec::new();
    for (index, ids) in wanted {
        let deployment = &deployments[index];
        if let Some((text, changes)) = patch::patched_text(deployment, &ids) {
            planned.push((deployment, text, changes));
        }
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
                        .map(|(deployment, text, _)| {
                            patch::write(root, deployment, text).err().map(|error| format!("{error:#}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().expect("a patch thread panicked")).collect()
    });
    let results: Vec<DeploymentResult> = planned
        .into_iter()
        .zip(errors)
        .map(|((deployment, text, changes), error)| DeploymentResult {
            rel: deployment.rel.clone(),
            diff: patch::unified_diff(&deployment.rel, &deployment.source, &text),
            changes,
            error,
        })
        .collect();
    if let Some(first) = deployments.first() {
        crate::fsutil::sync_folder_of(&first.path);
    }
    results
}

/// `--patch-from`: applies manifests written by Packer's manifest
/// post-processor, for builds run elsewhere.
fn patch_from(options: &Options) -> Result<Option<RunResult>> {
    let (deployments, unreadable) = load_deployments(&options.root)?;
    let everything = project::find_templates(&options.root, &Filter::default());
    let images_here = plan::images_by_release_cloud(&everything);
    let mut lockfile = LockFile::read(&options.root)?;
    let mut jobs = Vec::new();
    for manifest in &options.patch_from {
        let manifest_path = std::path::absolute(manifest).unwrap_or_else(|_| manifest.clone());
        let template_path = manifest_path.parent().map(|dir| dir.join("template.json"));
        let Some(template_path) = template_path.filter(|path| path.is_file()) else {
            bail!(
                "{}: no template.json beside it; keep the manifest in the template's folder (its `output` relative to the template)",
                manifest.display()
            );
        };
        let root = fs::canonicalize(&options.root)?;
        let file = TemplateFile::new(&root, fs::canonicalize(&template_path)?);
        let layout = file.layout.clone().map_err(|problem| anyhow::anyhow!("{}: {problem}", file.rel))?;
        let images = read_manifest(&manifest_path, &layout.cloud)?;
        let regions: Vec<String> = images.keys().cloned().collect();
        let here = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned().unwrap_or_default();
        let (feeds, left_alone) = plan::feeds(&layout, &regions, &here, &deployments, &options.regions);
        let template =
            checked_template(&file, &BTreeSet::new()).map_err(|why| anyhow::anyhow!("{}: {why}", file.rel))?;
        let inputs = template.inputs();
        let dir = file.path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let hash = lock::hash_inputs(&dir, &inputs)?;
        let settings = lock::hash_settings(&options.var_files, &options.vars)?;
        let job = Job {
            file,
            layout,
            feeds,
            left_alone,
            regions,
            only: Vec::new(),
            hash,
            settings,
            inputs,
            outcome: Outcome::Built(images.clone()),
            secrets: Vec::new(),
        };
        record_build(&mut lockfile, &job, &images, "manifest");
        jobs.push(job);
    }
    let results = patch_deployments(&options.root, &jobs, &deployments);
    lockfile.write(&options.root).context("writing packer/images.lock")?;
    Ok(Some(RunResult { jobs, deployments: results, unreadable, interrupted: false }))
}

/// Image IDs of the last run recorded in a manifest file.
fn read_manifest(path: &Path, cloud: &str) -> Result<BTreeMap<String, String>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let manifest: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
    let Some(builds) = manifest.get("builds").and_then(Value::as_array) else {
        bail!("{} has no `builds` list; is it a Packer manifest?", path.display());
    };
    let last_run = manifest.get("last_run_uuid").and_then(Value::as_str);
    let mut artifacts = Artifacts::default();
    for (index, build) in builds.iter().enumerate() {
        if last_run.is_some() && build.get("packer_run_uuid").and_then(Value::as_str) != last_run {
            continue;
        }
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
        images_from_artifacts(cloud, &artifacts).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    if images.is_empty() {
        bail!("{} records no image of its last run", path.display());
    }
    Ok(images)
}
