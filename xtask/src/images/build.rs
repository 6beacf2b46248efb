//! The build stage: `packer validate` and `packer build -machine-readable`
//! in each pending template's folder, several side by side, each build's
//! whole log in `target/xtask/images/`, interrupts passed on to every
//! running Packer's process group. Each finished build is handed to the
//! record stage at once, so that its images are in the lock before anything
//! else happens.

use std::collections::{BTreeMap, VecDeque};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde_json::Map;

use super::progress::Progress;
use super::{Job, Options, Outcome, describe_images, record, tools};
use crate::deployments::GLOBAL;
use crate::hcl2::Hcl2Template;
use crate::image_id;
use crate::lock::LockFile;
use crate::packer::{self, Artifacts, BuildArgs, Line};
use crate::plugins;
use crate::private_vars::PrivateVars;
use crate::project::TemplateFormat;
use crate::protected::Protected;
use crate::secrets::redact;

/// Builds every pending job and, given a lock, records each success in it
/// as it ends (`--build-only` gives none). Returns whether the run was
/// interrupted, and the Packer version when anything was built.
pub fn build_pending(options: &Options, jobs: &mut [Job], lockfile: Option<&mut LockFile>) -> Result<(bool, String)> {
    let pending: Vec<usize> = (0..jobs.len()).filter(|&i| matches!(jobs[i].outcome, Outcome::Pending)).collect();
    if pending.is_empty() {
        return Ok((false, String::new()));
    }
    let packer_path = packer::find(options.packer.as_deref())?;
    // Taken before the installs: an interrupt during one waits for it to
    // end (Packer finishes an install whatever it is told) rather than
    // leaving it to write the plugin with no run holding the install lock.
    let flag = interrupt_flag()?;
    // The pins first, all of them: a plugin that cannot be had fails its
    // templates before any build starts.
    let transcripts = tools::install_pins(&packer_path, jobs, &pending, &flag);
    if flag.load(Ordering::SeqCst) {
        for &index in &pending {
            if matches!(jobs[index].outcome, Outcome::Pending) {
                jobs[index].outcome = Outcome::Interrupted;
            }
        }
        return Ok((true, String::new()));
    }
    let pending: Vec<usize> = pending.into_iter().filter(|&i| matches!(jobs[i].outcome, Outcome::Pending)).collect();
    if pending.is_empty() {
        return Ok((false, String::new()));
    }
    // Asked beside the builds rather than before them: it costs a Packer
    // start-up, which the lock file should not add to the run.
    let version = {
        let packer_path = packer_path.clone();
        std::thread::spawn(move || packer::version(&packer_path))
    };
    let mut recorder = Recorder { root: options.root.clone(), lockfile, version: Version::Asking(Some(version)) };
    let interrupted = build_all(options, &packer_path, jobs, &pending, transcripts, &mut recorder, flag)?;
    Ok((interrupted, recorder.version().to_owned()))
}

/// Packer's version, asked once in the background.
enum Version {
    Asking(Option<JoinHandle<Result<String>>>),
    Known(String),
}

/// Hands each finished build to the record stage.
struct Recorder<'a> {
    root: PathBuf,
    lockfile: Option<&'a mut LockFile>,
    version: Version,
}

impl Recorder<'_> {
    fn version(&mut self) -> &str {
        if let Version::Asking(handle) = &mut self.version {
            let asked = handle.take().and_then(|handle| handle.join().ok()).and_then(Result::ok);
            self.version = Version::Known(asked.unwrap_or_else(|| "unknown".to_owned()));
        }
        let Version::Known(version) = &self.version else { unreachable!("the version was just asked") };
        version
    }

    /// Records a build's images in the lock file on disk. A build that
    /// cannot be recorded counts as failed, so nothing is patched from it.
    fn record(&mut self, job: &Job, outcome: Outcome) -> Outcome {
        let Outcome::Built(images) = &outcome else {
            return outcome;
        };
        let version = self.version().to_owned();
        let root = self.root.clone();
        let Some(lockfile) = self.lockfile.as_deref_mut() else {
            return outcome;
        };
        match record::record_build(&root, lockfile, job, images, record::Source::Packer(&version)) {
            Ok(()) => outcome,
            Err(error) => Outcome::Failed(format!(
                "built {}, but could not record it in packer/images.lock ({error:#}), so nothing was patched; \
                 make packer/images.lock writable and run `cargo xtask images --force` to rebuild, or write those \
                 IDs in by hand",
                describe_images(images)
            )),
        }
    }
}

/// Everything a build thread reports to the main thread.
enum Event {
    Step(usize, String),
    Detail(usize, String),
    /// The plugin versions a build loads, as `packer plugins required` says.
    Plugins(usize, BTreeMap<String, String>),
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
fn build_all(
    options: &Options,
    packer_path: &Path,
    jobs: &mut [Job],
    pending: &[usize],
    mut transcripts: BTreeMap<usize, String>,
    recorder: &mut Recorder,
    flag: Arc<AtomicBool>,
) -> Result<bool> {
    let protected = Protected::of(&options.root);
    let log_dir = protected.check(&options.root.join("target/xtask/images")).map_err(|refusal| {
        anyhow::anyhow!("the build logs' folder target/xtask/images: {refusal}; make target/ a folder of its own")
    })?;
    fs::create_dir_all(&log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    // Made only when a build has variables to pass, and its failure fails
    // only those builds.
    let private_folder = if pending.iter().any(|&index| !jobs[index].vars.is_empty()) {
        crate::private_vars::folder(&options.root, &protected).map_err(|error| format!("{error:#}"))
    } else {
        Err("no variables to pass".to_owned())
    };
    let mut logs = BTreeMap::new();
    for &index in pending {
        let shown = crate::project::shown_from_here(
            &options.root,
            &format!("target/xtask/images/{}.log", jobs[index].layout.slug()),
        );
        let log = protected
            .check(&log_dir.join(format!("{}.log", jobs[index].layout.slug())))
            .map_err(|refusal| anyhow::anyhow!("the build log {shown}: {refusal}; remove it"))?;
        logs.insert(index, (log, shown));
    }
    // The release the plan read the values with (asked once per run).
    let release = packer::version_cached(packer_path, &options.root)
        .ok()
        .and_then(|version| crate::version::Version::of_packer(&version));
    let names: Vec<String> = pending.iter().map(|&i| jobs[i].layout.slug()).collect();
    let mut progress = Progress::new(&names);
    let queue: Arc<Mutex<VecDeque<usize>>> = Arc::new(Mutex::new(pending.iter().copied().collect()));
    let running: Arc<Mutex<BTreeMap<usize, u32>>> = Arc::default();
    let (sender, receiver) = mpsc::channel::<Event>();
    let workers = options.jobs.max(1).min(pending.len());
    let specs: Arc<Vec<BuildSpec>> = Arc::new(
        jobs.iter()
            .enumerate()
            .map(|(index, job)| BuildSpec {
                plugins_done: transcripts.remove(&index).unwrap_or_default(),
                init: job.tooling.init,
                list_required: job.tooling.list_required,
                dir: job.file.dir().to_path_buf(),
                log: logs.get(&index).map(|(log, _)| log.clone()).unwrap_or_default(),
                log_shown: logs.get(&index).map(|(_, shown)| shown.clone()).unwrap_or_default(),
                args: BuildArgs {
                    target: match job.file.format {
                        TemplateFormat::Json => "template.json".to_owned(),
                        TemplateFormat::Hcl2 => ".".to_owned(),
                    },
                    only: job.only.clone(),
                    var_files: absolute(&job.var_files),
                    private_vars: None,
                },
                vars: if logs.contains_key(&index) { var_file_values(job, release) } else { Ok(Map::new()) },
                private_folder: private_folder.clone(),
                cloud: job.layout.cloud.clone(),
                regions: job.regions.clone(),
                discarded: discarded(&job.builders),
                secrets: job.secrets.clone(),
                credential_env: job.credential_env.clone(),
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
            // Packer first: a message could be the thing that fails, when
            // the reader of our output died of the same Ctrl-C.
            for &pid in running.lock().expect("running lock").values() {
                packer::interrupt(pid);
            }
            progress.step("xtask", "interrupted: stopping every running packer so it can clean up");
        }
        match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::Step(index, step)) => progress.step(&jobs[index].layout.slug(), &step),
            Ok(Event::Detail(index, detail)) => progress.detail(&jobs[index].layout.slug(), &detail),
            Ok(Event::Plugins(index, required)) => {
                let used = jobs[index].tooling.used.get_or_insert_with(BTreeMap::new);
                used.extend(required);
            }
            Ok(Event::Done(index, outcome)) => {
                let step = match &outcome {
                    Outcome::Built(images) => format!("built {}", describe_images(images)),
                    Outcome::Failed(why) => {
                        format!("failed: {}", redact(why.lines().next().unwrap_or_default(), &jobs[index].secrets))
                    }
                    other => other.name().to_owned(),
                };
                progress.step(&jobs[index].layout.slug(), &step);
                jobs[index].outcome = recorder.record(&jobs[index], outcome);
                done += 1;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        progress.tick();
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

/// The `--var` values of a job as its private var file holds them, read
/// as the plan read them with Packer `release`.
fn var_file_values(
    job: &Job,
    release: Option<crate::version::Version>,
) -> Result<Map<String, serde_json::Value>, String> {
    // The types of an HCL2 folder's variables say how Packer reads a value.
    let template = match job.file.format {
        TemplateFormat::Hcl2 => {
            Hcl2Template::read(job.file.dir()).ok().map(|template| Hcl2Template { release, ..template })
        }
        TemplateFormat::Json => None,
    };
    PrivateVars::values(job.file.format, template.as_ref(), &job.vars).map_err(|error| format!("{error:#}"))
}

struct BuildSpec {
    /// Where the private var file goes, or why it cannot.
    private_folder: Result<PathBuf, String>,
    /// What was done about its pinned plugins before the builds, for the
    /// top of its log.
    plugins_done: String,
    /// Run `packer init .` before validating.
    init: bool,
    /// Ask `packer plugins required .` which plugin versions it loads.
    list_required: bool,
    dir: PathBuf,
    log: PathBuf,
    /// The log's path relative to the root, for messages.
    log_shown: String,
    /// Without the private var file, written for each build.
    args: BuildArgs,
    vars: Result<Map<String, serde_json::Value>, String>,
    cloud: String,
    /// Every region the selected builders build: each must be reported.
    regions: Vec<String>,
    /// The builders' images Packer reports but deregistered ([`discarded`]).
    discarded: Vec<(String, String)>,
    secrets: Vec<String>,
    /// [`super::Job::credential_env`].
    credential_env: Vec<String>,
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
    let mut log = match open_log(&spec.log) {
        Ok(file) => file,
        Err(error) => {
            return Outcome::Failed(format!("cannot write the log {}: {error}", spec.log.display()));
        }
    };
    let mut write_log = |text: &str| {
        let _ = writeln!(log, "{}", redact(text, &spec.secrets));
    };
    if !spec.plugins_done.is_empty() {
        write_log(spec.plugins_done.trim_end());
    }
    if spec.init
        && let Err(outcome) = init_folder(packer_path, spec, index, sender, running, flag, &mut write_log)
    {
        return outcome;
    }
    // Removed when the build is over, however it ends but a kill.
    let private = match (&spec.vars, &spec.private_folder) {
        (Err(why), _) => return Outcome::Failed(why.clone()),
        (Ok(values), _) if values.is_empty() => None,
        (Ok(_), Err(why)) => return Outcome::Failed(why.clone()),
        (Ok(values), Ok(folder)) => match PrivateVars::write(folder, values) {
            Ok(private) => private,
            Err(error) => return Outcome::Failed(format!("{error:#}")),
        },
    };
    let names = spec.vars.as_ref().map(|values| values.keys().cloned().collect()).unwrap_or_default();
    let args = BuildArgs {
        private_vars: private.as_ref().map(|file| (file.path().to_path_buf(), names)),
        ..spec.args.clone()
    };
    write_log(&format!("$ packer validate {}", args.shown()));
    let _ = sender.send(Event::Step(index, "validating".to_owned()));
    match packer::validate(packer_path, &spec.dir, &args) {
        Err(error) => return Outcome::Failed(format!("{error:#}")),
        Ok(Err(output)) => {
            write_log(&output);
            // A Ctrl-C on the terminal reaches validate too, which shares
            // xtask's process group.
            if flag.load(Ordering::SeqCst) {
                return Outcome::Interrupted;
            }
            return Outcome::Failed(format!(
                "packer validate failed: {} (log: {})",
                redact(&validate_cause(&output), &spec.secrets),
                spec.log_shown
            ));
        }
        Ok(Ok(())) => write_log("packer validate: ok"),
    }
    if flag.load(Ordering::SeqCst) {
        return Outcome::Interrupted;
    }
    write_log(&format!("$ packer build -machine-readable -color=false {}", args.shown()));
    let _ = sender.send(Event::Step(index, "building".to_owned()));
    let build = match packer::Build::start(packer_path, &spec.dir, &args, spec.log.parent().unwrap_or(Path::new("."))) {
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
    // A field hidden as Packer wrote it, then unescaped, then hidden again:
    // unescaping can join a secret to what precedes it (`\` and `n…`).
    let shown = |raw: &str| redact(&packer::unescape(&redact(raw, &spec.secrets)), &spec.secrets);
    let finished = build.run(|line| match line {
        Line::Record(record, raw_line) => {
            artifacts.record(&record);
            let raw = packer::raw_data(&raw_line);
            if record.kind == "artifact" {
                // What Packer made, in the log too, whatever becomes of the run.
                let data: Vec<String> = raw.iter().map(|field| shown(field)).collect();
                write_log(&format!("artifact of {}: {}", record.target, data.join(" ")));
            }
            if record.kind == "ui"
                && let Some(text) = raw.get(1).map(|field| shown(field))
            {
                write_log(text.trim_end());
                if raw.first().is_some_and(|kind| *kind == "error") {
                    last_error = text.trim().to_owned();
                }
                let _ = sender.send(Event::Detail(index, text));
            }
        }
        Line::Other(text) => write_log(&text),
    });
    running.lock().expect("running lock").remove(&index);
    let succeeded = match finished {
        Ok(succeeded) => succeeded,
        Err(error) => return Outcome::Failed(format!("{error:#}")),
    };
    // A build that ended well despite an interrupt made its images: they
    // are recorded like any other, not forgotten.
    if !succeeded && flag.load(Ordering::SeqCst) {
        return Outcome::Interrupted;
    }
    if !succeeded {
        let why = last_error.lines().next().unwrap_or("see the log").to_owned();
        let hint = if why.contains("credential") { credentials_hint(&spec.credential_env) } else { String::new() };
        return Outcome::Failed(format!("packer build failed: {why}{hint} (log: {})", spec.log_shown));
    }
    match images_from_artifacts(&spec.cloud, &artifacts, &spec.discarded) {
        Ok(images) if images.is_empty() => {
            Outcome::Failed(format!("packer reported no image (log: {})", spec.log_shown))
        }
        Ok(images) => {
            let missing: Vec<&str> =
                spec.regions.iter().filter(|region| !images.contains_key(*region)).map(String::as_str).collect();
            let unplanned: Vec<&str> =
                images.keys().filter(|region| !spec.regions.contains(region)).map(String::as_str).collect();
            if !unplanned.is_empty() {
                // Recorded, they would be skipped ever after while the
                // deployments there were never patched.
                Outcome::Failed(format!(
                    "packer made images in {} too, which the plan did not name (it named {}), so nothing was \
                     patched; it reported {}: keep them by writing the IDs in by hand, or deregister them, and \
                     report the template's region settings as a bug in xtask (log: {})",
                    unplanned.join(", "),
                    spec.regions.join(", "),
                    describe_images(&images),
                    spec.log_shown
                ))
            } else if missing.is_empty() {
                Outcome::Built(images)
            } else {
                Outcome::Failed(format!(
                    "packer reported no image for {} (it reported {}), so nothing was patched; check the build's \
                     log ({}) and deregister the reported images if you do not keep them",
                    missing.join(", "),
                    describe_images(&images),
                    spec.log_shown
                ))
            }
        }
        Err(why) => Outcome::Failed(why),
    }
}

/// A build's log, new; or the device a symlink put in its place leads to
/// (`/dev/null` to keep no log), written as it is.
fn open_log(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::FileTypeExt;
    match fs::metadata(path) {
        Ok(metadata) if metadata.file_type().is_char_device() => fs::OpenOptions::new().write(true).open(path),
        _ => crate::fsutil::create_new(path, 0o666),
    }
}

/// `packer init .` in an HCL2 folder, its output in the log, then (Packer
/// 1.8 and later) `packer plugins required .` for the versions the build
/// loads. Inits run one at a time: Packer takes no lock of its own.
fn init_folder(
    packer_path: &Path,
    spec: &BuildSpec,
    index: usize,
    sender: &mpsc::Sender<Event>,
    running: &Mutex<BTreeMap<usize, u32>>,
    flag: &AtomicBool,
    write_log: &mut impl FnMut(&str),
) -> Result<(), Outcome> {
    let _ = sender.send(Event::Step(index, "installing plugins (packer init)".to_owned()));
    let _lock = plugins::lock_installs();
    if flag.load(Ordering::SeqCst) {
        return Err(Outcome::Interrupted);
    }
    write_log("$ packer init .");
    let ran = plugins::init(packer_path, &spec.dir, |pid| {
        running.lock().expect("running lock").insert(index, pid);
        // An interrupt that arrived while it was starting.
        if flag.load(Ordering::SeqCst) {
            packer::interrupt(pid);
        }
    });
    running.lock().expect("running lock").remove(&index);
    let ran = ran.map_err(|error| Outcome::Failed(format!("{error:#}")))?;
    if !ran.output.is_empty() {
        write_log(&ran.output);
    }
    if flag.load(Ordering::SeqCst) {
        return Err(Outcome::Interrupted);
    }
    if !ran.succeeded {
        // A plugin it could not fetch (command/init.go at v1.16.0 says
        // "Failed getting the …" with the getters' errors as `* …` lines)
        // is what a cache or a copy solves; anything else is the template's.
        let hint =
            if ran.output.contains("Failed getting") { format!("; {}", plugins::CACHE_HINT) } else { String::new() };
        return Err(Outcome::Failed(format!(
            "packer init failed: {}{hint} (log: {})",
            redact(&plugins::failure_cause(&ran.output), &spec.secrets),
            spec.log_shown
        )));
    }
    write_log("packer init: ok");
    if spec.list_required {
        match plugins::required(packer_path, &spec.dir) {
            Ok(required) => {
                let listed: Vec<String> =
                    required.iter().map(|(source, version)| format!("{source} {version}")).collect();
                write_log(&format!("plugins this build loads: {}", listed.join(", ")));
                let _ = sender.send(Event::Plugins(index, required));
            }
            Err(error) => return Err(Outcome::Failed(format!("{error:#}"))),
        }
    }
    Ok(())
}

/// What to set when Packer found no credentials: the environment variables
/// the template's sensitive variables read, else what the AWS SDK inside
/// Packer reads (a template of another repository need not read this
/// one's `TF_VAR_aws_access_key`).
fn credentials_hint(credential_env: &[String]) -> String {
    if credential_env.is_empty() {
        "; set the cloud credentials Packer reads: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) \
         in the environment, unless the template gives `access_key` and `secret_key`"
            .to_owned()
    } else {
        format!("; set the cloud credentials the template reads: {}", credential_env.join(", "))
    }
}

/// What `packer validate` says went wrong, on one line: its first line and
/// the `* …` causes it lists below it, with a hint for missing credentials.
fn validate_cause(output: &str) -> String {
    let first = output.lines().map(str::trim).find(|line| !line.is_empty()).unwrap_or("no output");
    let first = first.strip_prefix("Error: ").unwrap_or(first);
    let causes: Vec<&str> = output.lines().filter_map(|line| line.trim().strip_prefix("* ")).collect();
    let mut cause = if causes.is_empty() { first.to_owned() } else { format!("{first}: {}", causes.join("; ")) };
    if causes.iter().any(|cause| cause.contains("project_id") || cause.contains("account_file")) {
        cause.push_str(
            "; for the GCE templates here set TF_VAR_gce_project_id and TF_VAR_gce_account_file (a service account \
             key file)",
        );
    }
    cause
}

/// The (builder, region) pairs whose reported AMI Packer deregistered
/// after copying it (`skip_save_build_region`).
pub fn discarded(builders: &[crate::readout::RegionBuilder]) -> Vec<(String, String)> {
    builders.iter().filter_map(|builder| Some((builder.name.clone(), builder.discarded.clone()?))).collect()
}

/// Image IDs per region from a build's artifacts, each checked for shape;
/// the `discarded` ones left out.
pub fn images_from_artifacts(
    cloud: &str,
    artifacts: &Artifacts,
    discarded: &[(String, String)],
) -> Result<BTreeMap<String, String>, String> {
    let mut images = BTreeMap::new();
    for (builder, id) in artifacts.ids() {
        let pairs = if cloud == "gce" { vec![(GLOBAL.to_owned(), id.clone())] } else { image_id::split_ami_id(&id) };
        for (region, image) in pairs {
            if discarded.iter().any(|(name, gone)| *name == builder && *gone == region) {
                continue;
            }
            let well_formed =
                if cloud == "gce" { image_id::is_gce_image_name(&image) } else { image_id::is_ami_id(&image) };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_validate_says_its_causes() {
        let output = "Error: Failed to prepare build: \"googlecompute\"\n\n1 error(s) occurred:\n\n* a project_id must be specified\n\n";
        let cause = validate_cause(output);
        assert!(
            cause.starts_with("Failed to prepare build: \"googlecompute\": a project_id must be specified; "),
            "{cause}"
        );
        assert!(cause.contains("TF_VAR_gce_project_id"));
        assert_eq!(validate_cause("Template validation failed\n"), "Template validation failed");
    }

    #[test]
    fn missing_credentials_are_named_as_the_template_reads_them() {
        let read = ["TF_VAR_aws_access_key".to_owned(), "TF_VAR_aws_secret_key".to_owned()];
        assert_eq!(
            credentials_hint(&read),
            "; set the cloud credentials the template reads: TF_VAR_aws_access_key, TF_VAR_aws_secret_key"
        );
        assert!(credentials_hint(&[]).contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"));
    }
}
