//! What a run prints: the plan for `--dry-run`, the summary table with the
//! diffs, and the versioned JSON document.

use std::fmt::Write as _;

use super::{Job, Outcome, Output, RunResult, describe_images};
use crate::deployments::Deployment;
use crate::json::{self, Json, ToJson, json_object};
use crate::patch;
use crate::secrets::redact;

/// `--dry-run`: templates, regions, deployments and keys, and what is
/// skipped and why.
pub fn plan(jobs: &[Job], deployments: &[Deployment], unreadable: &[String]) -> String {
    let mut out = String::new();
    for job in jobs {
        let _ = writeln!(out, "{}", job.file.rel);
        match &job.outcome {
            Outcome::Failed(why) => {
                let _ = writeln!(out, "  will not build: {}", why.replace('\n', "\n  "));
                continue;
            }
            Outcome::Skipped(images) => {
                let _ = writeln!(out, "  skip: unchanged since its images were built ({})", describe_images(images));
                if !job.tooling.changes.is_empty() {
                    let _ = writeln!(out, "  {}", tool_changes(job));
                }
            }
            _ => {
                let only = if job.only.is_empty() { String::new() } else { format!(" (-only={})", job.only.join(",")) };
                let _ = writeln!(out, "  build: {}{only}, because {}", where_built(&job.regions), job.reason);
            }
        }
        for feed in &job.feeds {
            let deployment = &deployments[feed.deployment];
            // What the write will do: refuse, change a known ID, or nothing.
            let what = match patch::check(deployment, &feed.role) {
                Err(refusal) => format!(": will be refused: {}", refusal.message(&deployment.rel)),
                Ok(()) => {
                    let old = deployment.image_id(&feed.role).and_then(|node| node.as_str()).unwrap_or_default();
                    match job.outcome.images().and_then(|images| images.get(&feed.region)) {
                        Some(new) if new == old => ": already current".to_owned(),
                        Some(new) => format!(": {old} -> {new}"),
                        None => format!(": {old} -> the new image"),
                    }
                }
            };
            let _ =
                writeln!(out, "  feeds {} {}.machine_image.id ({}){what}", feed.deployment_rel, feed.role, feed.region);
        }
        for left in &job.left_alone {
            let _ = writeln!(out, "  leaves {} alone: {}", left.deployment, left.reason);
        }
        if job.feeds.is_empty() && job.left_alone.is_empty() {
            let _ = writeln!(out, "  feeds no deployment");
        }
    }
    for problem in unreadable {
        let _ = writeln!(out, "error: {problem}");
    }
    out.push_str("Dry run: nothing was built or changed.\n");
    out
}

/// `--plan`: the templates that need a build and why, as a list for a
/// person, a versioned document, or a GitHub Actions matrix (one leg per
/// template; empty `include` when nothing needs building).
pub fn builds(jobs: &[Job], format: Output) -> String {
    let pending: Vec<&Job> = jobs.iter().filter(|job| matches!(job.outcome, Outcome::Pending)).collect();
    // The keys of the plan's documents in alphabetical order, as they have
    // always had them.
    let entries: Vec<Json> = pending
        .iter()
        .map(|job| {
            json_object! {
                "cloud": job.layout.cloud,
                "image": job.layout.image,
                "reason": redact(&job.reason, &job.secrets),
                "regions": job.regions,
                "release": job.layout.release,
                "template": job.file.rel.strip_suffix("/template.json").unwrap_or(&job.file.rel),
            }
        })
        .collect();
    let changed: Vec<&Job> = jobs
        .iter()
        .filter(|job| matches!(job.outcome, Outcome::Skipped(_)) && !job.tooling.changes.is_empty())
        .collect();
    match format {
        Output::Json => {
            let changes = json::array(changed.iter().map(|job| {
                json_object! {
                    "changes": job.tooling.changes,
                    "template": job.file.rel.strip_suffix("/template.json").unwrap_or(&job.file.rel),
                }
            }));
            let document = json_object! { "builds": entries, "tools_changed": changes, "version": 1 };
            format!("{}\n", json::pretty(&document))
        }
        Output::GithubMatrix => {
            // One line, as `$GITHUB_OUTPUT` takes it.
            format!("{}\n", json::compact(&json_object! { "include": entries }))
        }
        Output::Human => {
            let failed = jobs.iter().filter(|job| matches!(job.outcome, Outcome::Failed(_))).count();
            let mut out = if pending.is_empty() && failed > 0 {
                format!("Nothing to build, but {} cannot be built (below).\n", templates(failed))
            } else if pending.is_empty() {
                "Nothing to build: every selected template's images are current.\n".to_owned()
            } else {
                format!("{} to build:\n", templates(pending.len()))
            };
            for job in pending {
                let _ = writeln!(
                    out,
                    "  {}  {}: {}",
                    job.file.rel.strip_suffix("/template.json").unwrap_or(&job.file.rel),
                    where_built(&job.regions),
                    redact(&job.reason, &job.secrets)
                );
            }
            if !changed.is_empty() {
                let _ = writeln!(out, "{} current, built with other versions than now:", templates(changed.len()));
                for job in changed {
                    let rel = job.file.rel.strip_suffix("/template.json").unwrap_or(&job.file.rel);
                    let _ = writeln!(out, "  {rel}: {}", tool_changes(job));
                }
            }
            out
        }
    }
}

/// `1 template`, `4 templates`: a count with its noun in the right number.
pub fn count(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn templates(number: usize) -> String {
    count(number, "template", "templates")
}

/// Where a build makes images: `region eu-west-1`, `regions eu-west-1,
/// us-east-1`, or `a global image` for a cloud whose images have no region
/// (GCE's, recorded under `global`).
fn where_built(regions: &[String]) -> String {
    match regions {
        [only] if only == crate::deployments::GLOBAL => "a global image".to_owned(),
        [only] => format!("region {only}"),
        _ => format!("regions {}", regions.join(", ")),
    }
}

/// How the Packer and plugins now differ from those that built a
/// template's current images. They alone do not rebuild it (docs/packer-versions.md
/// says why): `--force` does.
fn tool_changes(job: &Job) -> String {
    format!("{} (not rebuilt for that alone; --force rebuilds it)", job.tooling.changes.join("; "))
}

/// `--dry-run --format json`: the plan as a versioned document, each
/// template with what will happen to it and why.
pub fn plan_json(jobs: &[Job], deployments: &[Deployment], unreadable: &[String]) -> String {
    // The keys in alphabetical order, as the plan has always had them.
    let templates = json::array(jobs.iter().map(|job| {
        let action = match job.outcome {
            Outcome::Failed(_) => "fail",
            Outcome::Skipped(_) => "skip",
            _ => "build",
        };
        json_object! {
            "action": action,
            "builders": json::array(job.builders.iter().map(|builder| json_object! {
                "name": builder.name,
                "regions": builder.regions,
            })),
            "cloud": job.layout.cloud,
            "feeds": json::array(job.feeds.iter().map(|feed| {
                let deployment = &deployments[feed.deployment];
                json_object! {
                    "id": deployment.image_id(&feed.role).and_then(|node| node.as_str()),
                    "key": format!("{}.machine_image.id", feed.role),
                    "path": feed.deployment_rel,
                    "refused": patch::check(deployment, &feed.role).err().map(|r| r.message(&deployment.rel)),
                    "region": feed.region,
                }
            })),
            "image": job.layout.image,
            "images": job.outcome.images(),
            "left_alone": json::array(job.left_alone.iter().map(|left| json_object! {
                "path": left.deployment,
                "reason": left.reason,
            })),
            "only": job.only,
            "reason": redact(&job.reason, &job.secrets),
            "regions": job.regions,
            "release": job.layout.release,
            "template": job.file.rel,
        }
    }));
    let document = json_object! { "dry_run": true, "errors": unreadable, "templates": templates, "version": 1 };
    format!("{}\n", json::pretty(&document))
}

/// The summary after a run: per template its status and images, then the
/// deployments changed (old → new), what was left alone, and the diffs.
pub fn human(result: &RunResult) -> String {
    let mut out = String::new();
    let width = result.jobs.iter().map(|job| job.file.rel.len()).max().unwrap_or(8).max(8);
    let _ = writeln!(out, "{:<width$}  {:<13}  images", "template", "status");
    for job in &result.jobs {
        let detail = match &job.outcome {
            Outcome::Built(images) | Outcome::Skipped(images) => describe_images(images),
            Outcome::FromManifest { images, manifest } => {
                format!("patched from {manifest}: {}", describe_images(images))
            }
            Outcome::Failed(why) => redact(why, &job.secrets).replace('\n', &format!("\n{:width$}  {:13}  ", "", "")),
            Outcome::Interrupted => "stopped by an interrupt; nothing patched".to_owned(),
            Outcome::Pending => String::new(),
        };
        let _ = writeln!(out, "{:<width$}  {:<13}  {detail}", job.file.rel, job.outcome.name());
    }
    if !result.deployments.is_empty() {
        out.push_str("\ndeployments:\n");
        for deployment in &result.deployments {
            for change in &deployment.changes {
                let state = if deployment.error.is_some() { " (not written)" } else { "" };
                let _ = writeln!(out, "  {} {}: {} -> {}{state}", deployment.rel, change.key(), change.old, change.new);
            }
            if let Some(error) = &deployment.error {
                let _ = writeln!(out, "  {error}");
            }
        }
    }
    let mut not_updated = String::new();
    for job in result.jobs.iter().filter(|job| matches!(job.outcome, Outcome::Failed(_) | Outcome::Interrupted)) {
        // One line per deployment, with its keys.
        let mut keys: Vec<(&str, Vec<String>)> = Vec::new();
        for feed in &job.feeds {
            let key = format!("{}.machine_image.id ({})", feed.role, feed.region);
            match keys.iter_mut().find(|(path, _)| *path == feed.deployment_rel) {
                Some((_, list)) => list.push(key),
                None => keys.push((&feed.deployment_rel, vec![key])),
            }
        }
        for (path, list) in keys {
            let _ = writeln!(not_updated, "  {path} {}: its template {}", list.join(", "), job.outcome.name());
        }
    }
    if !not_updated.is_empty() {
        out.push_str("\nnot updated:\n");
        out.push_str(&not_updated);
    }
    let mut left = String::new();
    for job in &result.jobs {
        if job.outcome.images().is_none() {
            continue;
        }
        for item in &job.left_alone {
            let _ = writeln!(left, "  {} ({}): {}", item.deployment, job.layout.slug(), item.reason);
        }
    }
    if !left.is_empty() {
        out.push_str("\nleft alone:\n");
        out.push_str(&left);
    }
    for problem in &result.unreadable {
        let _ = writeln!(out, "\nerror: {problem}");
    }
    for deployment in &result.deployments {
        if deployment.error.is_none() && !deployment.diff.is_empty() {
            out.push('\n');
            out.push_str(&deployment.diff);
        }
    }
    let count = |name: &str| result.jobs.iter().filter(|job| job.outcome.name() == name).count();
    let patched = result.deployments.iter().filter(|d| d.error.is_none()).count();
    let refused = result.deployments.len() - patched;
    let _ = writeln!(
        out,
        "\n{}{} built, {} skipped, {} failed{}; {patched} deployment{} updated{}.",
        match count("from-manifest") {
            0 => String::new(),
            n => format!("{n} from manifests, "),
        },
        count("built"),
        count("skipped"),
        count("failed"),
        if result.interrupted { format!(", {} interrupted", count("interrupted")) } else { String::new() },
        if patched == 1 { "" } else { "s" },
        if refused == 0 { String::new() } else { format!(", {refused} not (see above)") },
    );
    out
}

/// The versioned JSON document of a run; kept apart from the internal types.
struct Document {
    version: u32,
    templates: Vec<TemplateResult>,
    deployments: Vec<DeploymentChange>,
    interrupted: bool,
}

struct TemplateResult {
    template: String,
    status: &'static str,
    images: std::collections::BTreeMap<String, String>,
    error: Option<String>,
    /// The deployment keys this template's images were written into.
    deployments: Vec<DeploymentChange>,
}

struct DeploymentChange {
    path: String,
    key: String,
    old: String,
    new: String,
    written: bool,
}

impl ToJson for Document {
    fn to_json(&self) -> Json {
        json_object! {
            "version": self.version,
            "templates": self.templates,
            "deployments": self.deployments,
            "interrupted": self.interrupted,
        }
    }
}

impl ToJson for TemplateResult {
    fn to_json(&self) -> Json {
        json_object! {
            "template": self.template,
            "status": self.status,
            "images": self.images,
            "error": self.error,
            "deployments": self.deployments,
        }
    }
}

impl ToJson for DeploymentChange {
    fn to_json(&self) -> Json {
        json_object! {
            "path": self.path,
            "key": self.key,
            "old": self.old,
            "new": self.new,
            "written": self.written,
        }
    }
}

/// The deployment changes of a run that `select` (deployment, role) keeps.
fn changes(result: &RunResult, select: impl Fn(&str, &str) -> bool) -> Vec<DeploymentChange> {
    result
        .deployments
        .iter()
        .flat_map(|deployment| {
            deployment.changes.iter().filter(|change| select(&deployment.rel, &change.role)).map(|change| {
                DeploymentChange {
                    path: deployment.rel.clone(),
                    key: change.key(),
                    old: change.old.clone(),
                    new: change.new.clone(),
                    written: deployment.error.is_none(),
                }
            })
        })
        .collect()
}

pub fn json(result: &RunResult) -> String {
    let document = Document {
        version: 1,
        templates: result
            .jobs
            .iter()
            .map(|job| TemplateResult {
                template: job.file.rel.clone(),
                status: job.outcome.name(),
                images: job.outcome.images().cloned().unwrap_or_default(),
                error: match &job.outcome {
                    Outcome::Failed(why) => Some(redact(why, &job.secrets)),
                    _ => None,
                },
                deployments: changes(result, |rel, role| {
                    job.feeds.iter().any(|feed| feed.deployment_rel == rel && feed.role == role)
                }),
            })
            .collect(),
        deployments: changes(result, |_, _| true),
        interrupted: result.interrupted,
    };
    let mut text = json::pretty(&document.to_json());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_regions_read_as_english() {
        assert_eq!(templates(1), "1 template");
        assert_eq!(templates(0), "0 templates");
        assert_eq!(count(4, "var file", "var files"), "4 var files");
        let regions = |names: &[&str]| where_built(&names.iter().map(|name| name.to_string()).collect::<Vec<_>>());
        assert_eq!(regions(&["global"]), "a global image");
        assert_eq!(regions(&["eu-west-1"]), "region eu-west-1");
        assert_eq!(regions(&["eu-central-1", "eu-west-1"]), "regions eu-central-1, eu-west-1");
    }
}
