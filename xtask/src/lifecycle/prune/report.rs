//! What `prune` prints: the images it removes (or would), with region, age
//! and snapshots, those of other clouds it leaves, and those it keeps with
//! why; and the versioned JSON document, whose shape is kept apart from
//! the internal types.

use std::fmt::Write as _;

use super::select::{Judged, Policy, Verdict};
use crate::clock;
use crate::json::{self, Json, json_object};
use crate::printable;

/// What became of one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// To be removed: a dry run, or the work not reached.
    Pending,
    /// Deregistered, its snapshots deleted.
    Pruned,
    /// The AMI and its snapshots were gone already; the lock now says so.
    AlreadyGone,
    /// The AWS CLI failed; the lock keeps the prune unfinished, if begun.
    Failed(String),
    NotHandled,
    Kept(String),
}

pub struct Outcome {
    pub judged: Judged,
    pub state: State,
    /// Its snapshots: those `describe-images` found, and those an earlier
    /// run recorded.
    pub snapshots: Vec<String>,
    /// Whether `describe-images` found the AMI; true until asked.
    pub exists: bool,
}

impl From<Judged> for Outcome {
    fn from(judged: Judged) -> Outcome {
        let state = match &judged.verdict {
            Verdict::Prune | Verdict::Unfinished => State::Pending,
            Verdict::NotHandled => State::NotHandled,
            Verdict::Kept(why) => State::Kept(why.clone()),
        };
        Outcome { judged, state, snapshots: Vec::new(), exists: true }
    }
}

impl Outcome {
    fn state_name(&self, dry_run: bool) -> &'static str {
        match &self.state {
            State::Pending if dry_run && !self.exists => "already-gone",
            State::Pending if dry_run => "would-prune",
            State::Pending => "pending",
            State::Pruned => "pruned",
            State::AlreadyGone => "already-gone",
            State::Failed(_) => "failed",
            State::NotHandled => "not-handled",
            State::Kept(_) => "kept",
        }
    }

    /// Why it is in its state, for a person.
    fn reason(&self, dry_run: bool) -> Option<String> {
        let unfinished =
            (self.judged.verdict == Verdict::Unfinished).then_some("a prune of it began and did not finish");
        match &self.state {
            State::Kept(why) => Some(why.clone()),
            State::Failed(why) => Some(why.clone()),
            State::NotHandled => Some(match self.judged.cloud() {
                Some(cloud) => {
                    format!("prune removes AWS images only; remove this {cloud} image with the cloud's own tools")
                }
                None => "prune removes AWS images only, and packer/images.lock records this one under a path that \
                         names no cloud; remove it by hand"
                    .to_owned(),
            }),
            State::Pending if unfinished.is_some() => {
                unfinished.map(|why| if dry_run { format!("{why}; --execute completes it") } else { why.to_owned() })
            }
            State::Pending if dry_run && !self.exists => Some(
                "`aws ec2 describe-images` does not find it; --execute records it as pruned and deletes the snapshots \
                 the lock recorded"
                    .to_owned(),
            ),
            State::AlreadyGone => Some("the AMI and its snapshots were gone already".to_owned()),
            State::Pending | State::Pruned => None,
        }
    }

    fn age(&self) -> String {
        self.judged.age.map_or_else(|| "age unknown".to_owned(), clock::describe)
    }
}

/// A whole `prune`.
pub struct Run {
    pub dry_run: bool,
    pub policy: Policy,
    pub outcomes: Vec<Outcome>,
    /// Deployments that could not be read.
    pub unreadable: Vec<String>,
}

impl Run {
    /// Whether a person must look at something: an image not removed for
    /// a failure, a deployment not read.
    pub fn failed(&self) -> bool {
        self.outcomes.iter().any(|outcome| matches!(outcome.state, State::Failed(_))) || !self.unreadable.is_empty()
    }
}

/// The listing for a person: what goes, what other clouds hold, what stays.
pub fn human(run: &Run) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "prune{}: images older than {}, beyond the newest {} per template and region, that no deployment names \
         and no channel needs",
        if run.dry_run { " (dry run)" } else { "" },
        run.policy.older_than_text,
        run.policy.keep
    );
    let line = |outcome: &Outcome| {
        let image = &outcome.judged.image;
        // Snapshots are asked of AWS alone.
        let snapshots = match (&outcome.state, outcome.snapshots.is_empty()) {
            (State::NotHandled, _) => String::new(),
            (_, true) => "; no snapshots".to_owned(),
            (_, false) => format!(
                "; snapshots {}",
                outcome.snapshots.iter().map(|s| printable::escape(s)).collect::<Vec<_>>().join(", ")
            ),
        };
        format!(
            "  {} {} {} (built {}, {} ago{snapshots})",
            printable::escape(&image.id),
            printable::escape(&outcome.judged.region),
            printable::escape(outcome.judged.folder()),
            printable::escape(&image.built_at),
            outcome.age()
        )
    };
    let removing: Vec<&Outcome> =
        run.outcomes.iter().filter(|outcome| !matches!(outcome.state, State::Kept(_) | State::NotHandled)).collect();
    let heading = if run.dry_run { "would remove" } else { "removed" };
    if removing.is_empty() {
        let _ = writeln!(out, "\nnothing to remove");
    } else {
        let _ = writeln!(out, "\n{heading}:");
    }
    for outcome in &removing {
        let state = match &outcome.state {
            State::Pending if run.dry_run => "",
            State::Pending => " not reached",
            State::Pruned => " deregistered, snapshots deleted",
            State::AlreadyGone => " already gone",
            State::Failed(_) => " failed",
            State::NotHandled | State::Kept(_) => "",
        };
        let why = outcome.reason(run.dry_run).map(|why| format!(": {why}")).unwrap_or_default();
        let _ = writeln!(out, "{}{state}{why}", line(outcome));
    }
    let others: Vec<&Outcome> = run.outcomes.iter().filter(|outcome| outcome.state == State::NotHandled).collect();
    if !others.is_empty() {
        let _ = writeln!(out, "\nnot handled (not AWS images; remove them with the cloud's own tools):");
        for outcome in others {
            let _ = writeln!(out, "{}", line(outcome));
        }
    }
    let kept: Vec<&Outcome> = run.outcomes.iter().filter(|outcome| matches!(outcome.state, State::Kept(_))).collect();
    if !kept.is_empty() {
        let _ = writeln!(out, "\nkept:");
        for outcome in &kept {
            let image = &outcome.judged.image;
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                printable::escape(&image.id),
                printable::escape(&outcome.judged.region),
                printable::escape(outcome.judged.folder()),
                outcome.reason(run.dry_run).unwrap_or_default()
            );
        }
    }
    for problem in &run.unreadable {
        let _ = writeln!(out, "\nerror: {problem}");
    }
    let count = |wanted: fn(&State) -> bool| run.outcomes.iter().filter(|outcome| wanted(&outcome.state)).count();
    let snapshots: usize = removing.iter().map(|outcome| outcome.snapshots.len()).sum();
    let _ = if run.dry_run {
        writeln!(
            out,
            "\n{} image{} to remove ({snapshots} snapshot{}), {} kept, {} not handled. Dry run: nothing was \
             deleted; run with --execute to remove them.",
            removing.len(),
            if removing.len() == 1 { "" } else { "s" },
            if snapshots == 1 { "" } else { "s" },
            kept.len(),
            count(|state| *state == State::NotHandled)
        )
    } else {
        writeln!(
            out,
            "\n{} pruned, {} already gone, {} failed; {} kept, {} not handled.",
            count(|state| *state == State::Pruned),
            count(|state| *state == State::AlreadyGone),
            count(|state| matches!(state, State::Failed(_))),
            kept.len(),
            count(|state| *state == State::NotHandled)
        )
    };
    out
}

/// The versioned document: `{"version": 1, "command": "prune", "dry_run",
/// "keep", "older_than", "images": [...], "errors": [...]}`.
pub fn json(run: &Run) -> String {
    let text = json::pretty(&document(run));
    format!("{}\n", printable::escape_json(&text))
}

fn document(run: &Run) -> Json {
    let images = json::array(run.outcomes.iter().map(|outcome| {
        let judged = &outcome.judged;
        let layout = judged.layout.as_ref();
        json_object! {
            "template": judged.folder(),
            "release": layout.map(|layout| &layout.release),
            "cloud": layout.map(|layout| &layout.cloud),
            "image": layout.map(|layout| &layout.image),
            "region": judged.region,
            "id": judged.image.id,
            "built_at": judged.image.built_at,
            "age_seconds": judged.age,
            "state": outcome.state_name(run.dry_run),
            "reason": outcome.reason(run.dry_run),
            "snapshots": outcome.snapshots,
            "unfinished": judged.verdict == Verdict::Unfinished,
        }
    }));
    json_object! {
        "version": 1,
        "command": "prune",
        "dry_run": run.dry_run,
        "keep": run.policy.keep,
        "older_than": run.policy.older_than_text,
        "images": images,
        "errors": run.unreadable,
    }
}
