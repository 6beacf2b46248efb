//! What `promote` and `rollback` print: per template and region what the
//! channel gets and why, the deployment keys changed with their diffs, and
//! the versioned JSON document, whose shape is kept apart from the
//! internal types.

use std::fmt::Write as _;

use crate::json::{self, Json, json_object};
use crate::patch::batch::DeploymentResult;
use crate::printable;

/// What became of one template in one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// The channel gets another image (promoted, or rolled back).
    Moved,
    /// The lock had already given the channel this image, and deployments
    /// that lagged behind (an interrupted run) are brought up to it.
    Finished,
    /// The channel already boots it.
    Current,
    /// Not yet: its soak is not over, or a new build is due.
    Waiting,
    /// Not done, for a reason a person must look at.
    Refused,
    /// Nothing to do here (no deployment of the channel before).
    Nothing,
}

pub struct Outcome {
    /// The template's folder (`packer/3.11/aws/machine-image`).
    pub template: String,
    pub release: String,
    pub cloud: String,
    pub image: String,
    pub region: String,
    pub state: State,
    /// The image the channel gets, or is on.
    pub id: Option<String>,
    /// The images the channel's deployments booted before.
    pub before: Vec<String>,
    /// Why it waits, is refused or has nothing to do; how long it soaked.
    pub reason: Option<String>,
    /// The channel's deployments there.
    pub deployments: Vec<String>,
}

/// A whole `promote` or `rollback`.
pub struct Run {
    /// `promote` or `rollback`.
    pub command: &'static str,
    pub channel: String,
    /// The channel promoted from.
    pub from: Option<String>,
    pub dry_run: bool,
    pub outcomes: Vec<Outcome>,
    pub written: Vec<DeploymentResult>,
    /// Deployments in no channel, with why.
    pub outside: Vec<(String, String)>,
    /// Deployments that could not be read.
    pub unreadable: Vec<String>,
}

impl Run {
    /// Whether a person must look at something: a refusal, a deployment not
    /// written, one not read.
    pub fn failed(&self) -> bool {
        self.outcomes.iter().any(|outcome| outcome.state == State::Refused)
            || self.written.iter().any(|result| result.error.is_some())
            || !self.unreadable.is_empty()
    }

    fn moved_word(&self) -> &'static str {
        if self.command == "promote" { "promoted" } else { "rolled back" }
    }

    fn state_name(&self, state: &State) -> &'static str {
        match state {
            State::Moved if self.command == "promote" => "promoted",
            State::Moved => "rolled-back",
            State::Finished => "finished",
            State::Current => "current",
            State::Waiting => "waiting",
            State::Refused => "refused",
            State::Nothing => "nothing-to-do",
        }
    }
}

/// The summary for a person.
pub fn human(run: &Run) -> String {
    let mut out = String::new();
    let heading = match &run.from {
        Some(from) => format!("promote into `{}` from `{from}`", run.channel),
        None => format!("rollback of `{}`", run.channel),
    };
    let _ = writeln!(out, "{heading}{}:", if run.dry_run { " (dry run)" } else { "" });
    if run.outcomes.is_empty() {
        let _ = writeln!(out, "  no deployment of `{}` is fed by a selected template", run.channel);
    }
    for outcome in &run.outcomes {
        let before = outcome.before.iter().map(|id| printable::escape(id).into_owned()).collect::<Vec<_>>().join(", ");
        let id = outcome.id.as_deref().map(printable::escape).unwrap_or_default();
        // The lock moved first; a deployment the writer refused still
        // boots the old image, and the same command run again writes it.
        let not_written: Vec<&str> = run
            .written
            .iter()
            .filter(|result| result.error.is_some() && outcome.deployments.contains(&result.rel))
            .map(|result| result.rel.as_str())
            .collect();
        let unfinished = format!(
            "; packer/images.lock gives it {id}, but {} still boot{} {before} (not written, see below): fix that and \
             run the same command again",
            not_written.join(", "),
            if not_written.len() == 1 { "s" } else { "" }
        );
        let what = match outcome.state {
            State::Moved if run.dry_run => format!("would be {} to {id} (from {before})", run.moved_word()),
            State::Moved if !not_written.is_empty() => {
                format!("{} to {id} (from {before}){unfinished}", run.moved_word())
            }
            State::Moved => format!("{} to {id} (from {before})", run.moved_word()),
            State::Finished if run.dry_run => {
                format!("the lock gives it {id}; would write the deployments on {before}")
            }
            State::Finished if !not_written.is_empty() => format!("not finished{unfinished}"),
            State::Finished => format!("the lock gave it {id} already; the deployments that lagged behind now boot it"),
            State::Current => format!("already on {id}"),
            State::Waiting => "waiting".to_owned(),
            State::Refused => "refused".to_owned(),
            State::Nothing => "nothing to do".to_owned(),
        };
        let reason = outcome.reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default();
        let _ = writeln!(out, "  {} {}: {what}{reason}", outcome.template, outcome.region);
    }
    let changed: Vec<&DeploymentResult> = run.written.iter().filter(|result| !result.changes.is_empty()).collect();
    if !changed.is_empty() || run.written.iter().any(|result| result.error.is_some()) {
        out.push_str("\ndeployments:\n");
        for result in &run.written {
            for change in &result.changes {
                let state = if result.error.is_some() { " (not written)" } else { "" };
                let _ = writeln!(out, "  {} {}: {} -> {}{state}", result.rel, change.key(), change.old, change.new);
            }
            if let Some(error) = &result.error {
                let _ = writeln!(out, "  {error}");
            }
        }
    }
    if !run.outside.is_empty() {
        out.push_str("\nin no channel, left alone:\n");
        for (path, why) in &run.outside {
            let _ = writeln!(out, "  {path}: {why}");
        }
    }
    for problem in &run.unreadable {
        let _ = writeln!(out, "\nerror: {problem}");
    }
    for result in &run.written {
        if result.error.is_none() && !result.diff.is_empty() {
            out.push('\n');
            out.push_str(&result.diff);
        }
    }
    let count = |state: State| run.outcomes.iter().filter(|outcome| outcome.state == state).count();
    let updated = run.written.iter().filter(|result| result.error.is_none() && !result.changes.is_empty()).count();
    let _ = writeln!(
        out,
        "\n{} {}, {} finished, {} current, {} waiting, {} refused; {updated} deployment{} updated.{}",
        count(State::Moved),
        run.moved_word(),
        count(State::Finished),
        count(State::Current),
        count(State::Waiting),
        count(State::Refused),
        if updated == 1 { "" } else { "s" },
        if run.dry_run { " Dry run: nothing was written." } else { "" }
    );
    out
}

/// The versioned document: `{"version": 1, "command", "channel", "from",
/// "dry_run", "places": [...], "deployments": [...], "outside": [...],
/// "errors": [...]}`.
pub fn json(run: &Run) -> String {
    let text = json::pretty(&document(run));
    format!("{}\n", printable::escape_json(&text))
}

fn document(run: &Run) -> Json {
    let places = json::array(run.outcomes.iter().map(|outcome| {
        json_object! {
            "template": outcome.template,
            "release": outcome.release,
            "cloud": outcome.cloud,
            "image": outcome.image,
            "region": outcome.region,
            "state": run.state_name(&outcome.state),
            "id": outcome.id,
            "before": outcome.before,
            "reason": outcome.reason,
            "deployments": outcome.deployments,
        }
    }));
    let changes = json::array(run.written.iter().flat_map(|result| {
        result.changes.iter().map(move |change| {
            json_object! {
                "path": result.rel,
                "key": change.key(),
                "old": change.old,
                "new": change.new,
                "written": result.error.is_none(),
            }
        })
    }));
    let outside = json::array(run.outside.iter().map(|(path, reason)| json_object! { "path": path, "reason": reason }));
    let mut errors: Vec<&String> = run.unreadable.iter().collect();
    errors.extend(run.written.iter().filter_map(|result| result.error.as_ref()));
    json_object! {
        "version": 1,
        "command": run.command,
        "channel": run.channel,
        "from": run.from,
        "dry_run": run.dry_run,
        "places": places,
        "deployments": changes,
        "outside": outside,
        "errors": errors,
    }
}
