//! `cargo xtask images`: builds the templates with the real Packer, captures
//! the image IDs per region and writes them into every deployment of that
//! release and cloud.
//!
//! The run is four stages, each a module with one job:
//!
//! 1. [`plan`]: which templates to build, the regions and deployment keys
//!    each one feeds, and which are unchanged since the lock's images;
//! 2. [`build`]: Packer's validate and build, side by side, with logs,
//!    progress and interrupts;
//! 3. [`record`]: each new image goes into `packer/images.lock` the moment
//!    its build ends, before any deployment is touched;
//! 4. [`apply`]: the deployments are brought up to the images of this run
//!    (built, unchanged, or from manifests), through the one checked writer.
//!
//! Recording before applying is what makes a crash harmless: a run stopped
//! anywhere leaves deployments at their old IDs or the lock's, never ahead of
//! the lock, and the next plain run finds the templates unchanged and writes
//! the lock's IDs into the deployments that lag behind.

pub mod apply;
mod build;
mod fan_out;
mod linted;
mod manifest;
pub mod plan;
mod progress;
mod record;
mod report;
mod tools;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::deployments;
use crate::lock::LockFile;
use crate::patch::batch::DeploymentResult;
use crate::project::{Filter, Layout, TemplateFile};
use crate::registry::Registry;

use plan::{Feed, LeftAlone};

/// What to build and how.
#[derive(Clone, Debug)]
pub struct Options {
    pub root: PathBuf,
    pub filter: Filter,
    pub regions: Vec<String>,
    pub mode: Mode,
    pub force: bool,
    pub jobs: usize,
    pub packer: Option<PathBuf>,
    pub vars: Vec<(String, String)>,
    pub var_files: Vec<PathBuf>,
    /// Template folders to work on (`packer/3.11/aws/machine-image`).
    pub select: Vec<String>,
    pub format: Output,
    /// Every rule (`catalogue::registry`), for the names in the `allow(…)`
    /// of the templates linted before a build.
    pub rules: Registry,
}

/// What an `images` run does, decided once from the command line
/// (`cli::images_mode`): its flags name one mode each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Build what changed, record it in the lock and patch the deployments.
    #[default]
    Build,
    /// `--plan`: print what needs building and why, and stop.
    Plan,
    /// `--dry-run`: print what would be built and patched, without running
    /// Packer.
    DryRun,
    /// `--build-only --result FILE`: build one template and write its
    /// result; touch no deployment and no lock.
    BuildOnly { result: PathBuf },
    /// `--apply RESULT...`: record the results of builds run elsewhere and
    /// patch the deployments.
    Apply(Vec<PathBuf>),
    /// `--patch-from MANIFEST...`: record the images of Packer manifests
    /// written elsewhere and patch the deployments.
    PatchFrom(Vec<PathBuf>),
}

impl Mode {
    /// Whether the run writes the lock or deployments, and so holds the run
    /// lock.
    fn writes(&self) -> bool {
        !matches!(self, Mode::Plan | Mode::DryRun)
    }
}

/// How `images` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Output {
    #[default]
    Human,
    /// The run's versioned JSON document (the plan's, with --plan or
    /// --dry-run).
    Json,
    /// `{"include": [...]}` for a GitHub Actions matrix, with --plan.
    GithubMatrix,
}

/// A template the run works on.
pub struct Job {
    pub file: TemplateFile,
    pub layout: Layout,
    pub feeds: Vec<Feed>,
    pub left_alone: Vec<LeftAlone>,
    pub regions: Vec<String>,
    /// The builders the run builds, with their regions: what a leg's
    /// result records of where each built.
    pub builders: Vec<crate::readout::RegionBuilder>,
    pub only: Vec<String>,
    pub hash: String,
    /// The hash of the variables given to the build.
    pub settings: String,
    /// The names of the variables given (`fingerprint::setting_names`).
    pub setting_names: Vec<String>,
    /// Their values as the lock keeps them (`fingerprint::recorded_values`).
    pub recorded_values: BTreeMap<String, Option<String>>,
    /// The `--var` values this template declares: only those are passed
    /// to its build and count in its settings.
    pub vars: Vec<(String, String)>,
    pub inputs: Vec<String>,
    /// Each input's own hash.
    pub files: BTreeMap<String, String>,
    /// Why it is built, skipped or fails, for the plan.
    pub reason: String,
    pub outcome: Outcome,
    /// Values that must never be printed or logged.
    pub secrets: Vec<String>,
    /// The environment variables its sensitive variables' defaults read
    /// (`TF_VAR_aws_secret_key`): what a build refused for want of
    /// credentials is told to set.
    pub credential_env: Vec<String>,
    /// The `--var-file`s its build takes ([`plan::var_files_for`]).
    pub var_files: Vec<PathBuf>,
    /// What its build needs of Packer's plugins, and what it used.
    pub tooling: tools::Tooling,
}

#[derive(Clone, Debug)]
pub enum Outcome {
    /// Waiting to be built.
    Pending,
    /// Built now: image ID per region.
    Built(BTreeMap<String, String>),
    /// Unchanged since the lock's images were built.
    Skipped(BTreeMap<String, String>),
    /// Taken from a manifest of a build run elsewhere (`--patch-from`).
    FromManifest {
        images: BTreeMap<String, String>,
        manifest: String,
    },
    Failed(String),
    Interrupted,
}

impl Outcome {
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Built(_) => "built",
            Outcome::Skipped(_) => "skipped",
            Outcome::FromManifest { .. } => "from-manifest",
            Outcome::Failed(_) => "failed",
            Outcome::Interrupted => "interrupted",
        }
    }

    pub fn images(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Outcome::Built(images) | Outcome::Skipped(images) | Outcome::FromManifest { images, .. } => Some(images),
            _ => None,
        }
    }
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
    if let Mode::BuildOnly { result } = &options.mode {
        // Checked before the build as well as when written: a leg that
        // would only fail at the end wastes the build.
        fan_out::check_place(&options.root, result)?;
    }
    let _guard = if !options.mode.writes() {
        None
    } else {
        let guard = crate::run_guard::hold(&options.root, "images")?;
        let removed = crate::private_vars::remove_stale(&options.root);
        if removed > 0 {
            say!(
                "Removed {} with --var values that an interrupted run left in {}/.",
                report::count(removed, "var file", "var files"),
                crate::private_vars::FOLDER
            );
        }
        Some(guard)
    };
    let finished = match &options.mode {
        Mode::Apply(results) => fan_out::apply(options, results)?,
        Mode::PatchFrom(manifests) => manifest::apply(options, manifests)?,
        _ => build_and_apply(options)?,
    };
    let result = match finished {
        Finished::Printed(code) => return Ok(code),
        Finished::Ran(result) => result,
    };
    match options.format {
        Output::Json => show!("{}", report::json(&result)),
        _ => show!("{}", crate::printable::escape_lines(&report::human(&result))),
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

/// How a run ended: a plan printed, or work done and to be reported.
enum Finished {
    Printed(ExitCode),
    Ran(RunResult),
}

fn build_and_apply(options: &Options) -> Result<Finished> {
    let (deployments, unreadable) = deployments::load_all(&options.root)?;
    let mut lockfile = LockFile::read(&options.root)?;
    let mut jobs = plan::plan_jobs(options, &deployments, &lockfile)?;
    if jobs.is_empty() {
        say!("No templates match; templates live at packer/<release>/<cloud>/<image>/ (template.json or *.pkr.hcl).");
    }
    if options.mode == Mode::Plan {
        show!("{}", report::builds(&jobs, options.format));
        let failed: Vec<&Job> = jobs.iter().filter(|job| matches!(job.outcome, Outcome::Failed(_))).collect();
        for job in &failed {
            let line = format!("error: {} cannot be built: {}", job.file.rel, job.reason.replace('\n', "\n  "));
            say!("{}", crate::printable::escape_lines(&line));
        }
        return Ok(Finished::Printed(if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }));
    }
    if options.mode == Mode::DryRun {
        match options.format {
            Output::Json => show!("{}", report::plan_json(&jobs, &deployments, &unreadable)),
            _ => show!("{}", crate::printable::escape_lines(&report::plan(&jobs, &deployments, &unreadable))),
        }
        // A plan with a template that cannot be built is one a real run
        // would fail: a dry run in CI must say so by its exit code too.
        let failing = jobs.iter().any(|job| matches!(job.outcome, Outcome::Failed(_))) || !unreadable.is_empty();
        return Ok(Finished::Printed(if failing { ExitCode::FAILURE } else { ExitCode::SUCCESS }));
    }
    if let Mode::BuildOnly { result } = &options.mode {
        let pending: Vec<&str> = jobs
            .iter()
            .filter(|job| matches!(job.outcome, Outcome::Pending))
            .map(|job| job.file.rel.as_str())
            .collect();
        if pending.len() > 1 {
            bail!(
                "--build-only builds one template, and {} are selected ({}); pick one with --select",
                pending.len(),
                pending.join(", ")
            );
        }
        let (interrupted, version) = build::build_pending(options, &mut jobs, None)?;
        fan_out::write(&options.root, result, &jobs, &version, &lockfile)?;
        return Ok(Finished::Ran(RunResult { jobs, deployments: Vec::new(), unreadable, interrupted }));
    }
    let (interrupted, _) = build::build_pending(options, &mut jobs, Some(&mut lockfile))?;
    let results = apply::apply(&options.root, &jobs, &deployments);
    Ok(Finished::Ran(RunResult { jobs, deployments: results, unreadable, interrupted }))
}

pub fn describe_images(images: &BTreeMap<String, String>) -> String {
    images.iter().map(|(region, id)| format!("{region} {id}")).collect::<Vec<_>>().join(", ")
}
