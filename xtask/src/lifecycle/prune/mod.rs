//! `cargo xtask prune`: removes the images of the lock's history that
//! nothing needs any more (see [`select`]), with the AWS CLI, region by
//! region. A dry run by default: it lists each image, its region, its age
//! and the snapshots `aws ec2 describe-images` finds for it.
//!
//! `--execute` is crash-safe through the lock: before an image is
//! deregistered, the lock records that its prune began and which
//! snapshots it has; once the AMI is deregistered and the snapshots are
//! deleted, that the prune finished. A run stopped in between leaves an
//! unfinished prune, which the next `--execute` completes from what the
//! lock recorded (an AMI or snapshot already gone is reported, not an
//! error).

pub mod report;
pub mod select;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use self::report::{Outcome, Run, State};
use self::select::{Judged, Policy, Verdict};
use super::fleet::Selection;
use crate::aws::{self, Cli, Deletion};
use crate::clock;
use crate::lock::{LockFile, Pruning};

pub struct Options {
    pub root: PathBuf,
    pub selection: Selection,
    pub policy: Policy,
    /// Remove them; otherwise only say what would be removed.
    pub execute: bool,
    pub aws_cli: Option<PathBuf>,
    pub json: bool,
}

pub fn run(options: &Options) -> Result<ExitCode> {
    let root = options.root.as_path();
    let _guard = if options.execute { Some(crate::run_guard::hold(root, "prune")?) } else { None };
    let (deployments, unreadable) = crate::deployments::load_all(root)?;
    if options.execute && !unreadable.is_empty() {
        bail!(
            "{} deployment{} cannot be read, so which images they boot is unknown and nothing is pruned: {}",
            unreadable.len(),
            if unreadable.len() == 1 { "" } else { "s" },
            unreadable.join("; ")
        );
    }
    let lockfile = LockFile::read(root)?;
    // The lock may record templates that are gone, so the folders are
    // looked for there rather than among the templates.
    let mut selection = options.selection.clone();
    selection.select = selection.select.iter().map(|wanted| crate::project::selected_folder(wanted, root)).collect();
    for folder in &selection.select {
        let known = lockfile
            .templates
            .keys()
            .any(|template| template.strip_suffix("/template.json").unwrap_or(template) == folder);
        if !known {
            bail!("--select {folder}: packer/images.lock records no image of a template there");
        }
    }
    let named = select::named_by_deployments(&deployments, &lockfile);
    let judged = select::judge(&lockfile, &named, &selection, &options.policy, clock::now());
    if judged.is_empty() {
        // A mistyped --release is an error that lists what there is, as
        // for every command, unless a template of the lock matches it.
        selection.filter.check_matches(root)?;
    }
    let mut outcomes: Vec<Outcome> = judged.into_iter().map(Outcome::from).collect();
    let mut by_region: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (at, outcome) in outcomes.iter().enumerate() {
        if matches!(outcome.judged.verdict, Verdict::Prune | Verdict::Unfinished) {
            by_region.entry(outcome.judged.region.clone()).or_default().push(at);
        }
    }
    if !by_region.is_empty() {
        let cli = Cli::new(aws::find(options.aws_cli.as_deref())?);
        for (region, indices) in &by_region {
            prune_region(root, &cli, region, indices, &mut outcomes, options.execute)?;
        }
    }
    let run = Run { dry_run: !options.execute, policy: options.policy.clone(), outcomes, unreadable };
    show!("{}", if options.json { report::json(&run) } else { report::human(&run) });
    Ok(if run.failed() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Finds the snapshots of the region's images and, with `execute`,
/// removes them. A failure of the AWS CLI is the outcome of the images it
/// concerns; a lock that cannot be written stops the run.
fn prune_region(
    root: &Path,
    cli: &Cli,
    region: &str,
    indices: &[usize],
    outcomes: &mut [Outcome],
    execute: bool,
) -> Result<()> {
    let ids: Vec<&str> = indices.iter().map(|&at| outcomes[at].judged.image.id.as_str()).collect();
    let found = match cli.describe_images(region, &ids) {
        Ok(found) => found,
        Err(error) => {
            for &at in indices {
                outcomes[at].state = State::Failed(format!("{error:#}"));
            }
            return Ok(());
        }
    };
    for &at in indices {
        let outcome = &mut outcomes[at];
        let existing = found.iter().find(|image| image.id == outcome.judged.image.id);
        outcome.exists = existing.is_some();
        let mut snapshots = outcome.judged.recorded_snapshots.clone();
        for snapshot in existing.into_iter().flat_map(|image| &image.snapshots) {
            if !snapshots.contains(snapshot) {
                snapshots.push(snapshot.clone());
            }
        }
        outcome.snapshots = snapshots;
    }
    if !execute {
        return Ok(());
    }
    record(root, indices.iter().map(|&at| &outcomes[at]), |pruned, outcome| {
        let started_at = pruned.map_or_else(clock::utc_now, |pruning| pruning.started_at.clone());
        Pruning { started_at, snapshots: outcome.snapshots.clone(), finished_at: None }
    })?;
    for &at in indices {
        let outcome = &mut outcomes[at];
        outcome.state = remove(cli, region, outcome);
        if matches!(outcome.state, State::Pruned | State::AlreadyGone) {
            record(root, std::iter::once(&*outcome), |pruned, outcome| Pruning {
                started_at: pruned.map_or_else(clock::utc_now, |pruning| pruning.started_at.clone()),
                snapshots: outcome.snapshots.clone(),
                finished_at: Some(clock::utc_now()),
            })?;
        }
    }
    Ok(())
}

/// Deregisters one image and deletes its snapshots, after the AMI: AWS
/// refuses to delete a snapshot a registered AMI uses.
fn remove(cli: &Cli, region: &str, outcome: &Outcome) -> State {
    let id = &outcome.judged.image.id;
    let deregistered = match cli.deregister_image(region, id) {
        Ok(deletion) => deletion,
        Err(error) => return State::Failed(format!("{error:#}")),
    };
    let mut failures = Vec::new();
    let mut all_gone = deregistered == Deletion::AlreadyGone;
    for snapshot in &outcome.snapshots {
        match cli.delete_snapshot(region, snapshot) {
            Ok(Deletion::Deleted) => all_gone = false,
            Ok(Deletion::AlreadyGone) => {}
            Err(error) => failures.push(format!("{error:#}")),
        }
    }
    if !failures.is_empty() {
        return State::Failed(format!(
            "{}; the lock keeps the prune as unfinished, and the next `cargo xtask prune --execute` tries again",
            failures.join("; ")
        ));
    }
    if all_gone { State::AlreadyGone } else { State::Pruned }
}

/// Writes each outcome's pruning into the lock, read again so that what
/// changed since the run began stays.
fn record<'a>(
    root: &Path,
    outcomes: impl Iterator<Item = &'a Outcome>,
    pruning: impl Fn(Option<&Pruning>, &Outcome) -> Pruning,
) -> Result<()> {
    let mut lockfile = LockFile::read(root)?;
    for outcome in outcomes {
        let judged: &Judged = &outcome.judged;
        let entry = lockfile.templates.get_mut(&judged.template).with_context(|| {
            format!("packer/images.lock no longer records {} (it changed while xtask ran); run again", judged.template)
        })?;
        let events = entry.lifecycle.entry(judged.image.id.clone()).or_default();
        events.pruned = Some(pruning(events.pruned.as_ref(), outcome));
    }
    lockfile.write(root).context("writing packer/images.lock; the images it was to record are left as they were")
}
