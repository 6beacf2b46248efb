//! What a run prints: the plan for `--dry-run`, the summary table with the
//! diffs, and the versioned JSON document.

use std::fmt::Write as _;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::{Job, Outcome, Output, RunResult, describe_images};
use crate::deployments::Deployment;
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
    let entries: Vec<serde_json::Value> = pending
        .iter()
        .map(|job| {
            serde_json::json!({
                "template": job.file.rel.strip_suffix("/template.json").unwrap_or(&job.file.rel),
                "release": job.layout.release,
                "cloud": job.layout.cloud,
                "image": job.layout.image,
                "regions": job.regions,
                "reason": redact(&job.reason, &job.secrets),
            })
        })
        .collect();
    let changed: Vec<&Job> = jobs
        .iter()
        .filter(|job| matches!(job.outcome, Outcome::Skipped(_)) && !job.tooling.changes.is_empty())
        .collect();
    match format {
        Output::Json => {
            let changes: Vec<serde_json::Value> = changed
                .iter()
                .map(|job| {
                    serde_json::json!({
                        "template": job.file.rel.strip_suffix("/template.json").unwrap_or(&job.file.rel),
                        "changes": job.tooling.changes,
                    })
                })
                .collect();
            let document = serde_json::json!({ "version": 1, "builds": entries, "tools_changed": changes });
            format!("{}\n", serde_json::to_string_pretty(&document).expect("the plan serialises"))
        }
        Output::GithubMatrix => {
            // One line, as `$GITHUB_OUTPUT` takes it.
            format!("{}\n", serde_json::json!({ "include": entries }))
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
    let templates: Vec<serde_json::Value> = jobs
        .iter()
        .map(|job| {
            let action = match job.outcome {
                Outcome::Failed(_) => "fail",
                Outcome::Skipped(_) => "skip",
                _ => "build",
            };
            serde_json::json!({
                "template": job.file.rel,
                "release": job.layout.release,
                "cloud": job.layout.cloud,
                "image": job.layout.image,
                "action": action,
                "reason": redact(&job.reason, &job.secrets),
                "regions": job.regions,
                "builders": job.builders.iter().map(|builder| serde_json::json!({
                    "name": builder.name,
                    "regions": builder.regions,
                })).collect::<Vec<_>>(),
                "only": job.only,
                "images": job.outcome.images(),
                "feeds": job.feeds.iter().map(|feed| {
                    let deployment = &deployments[feed.deployment];
                    serde_json::json!({
                        "path": feed.deployment_rel,
                        "key": format!("{}.machine_image.id", feed.role),
                        "region": feed.region,
                        "id": deployment.image_id(&feed.role).and_then(|node| node.as_str()),
                        "refused": patch::check(deployment, &feed.role).err().map(|r| r.message(&deployment.rel)),
                    })
                }).collect::<Vec<_>>(),
                "left_alone": job.left_alone.iter().map(|left| serde_json::json!({
                    "path": left.deployment,
                    "reason": left.reason,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let document = serde_json::json!({ "version": 1, "dry_run": true, "templates": templates, "errors": unreadable });
    format!("{}\n", serde_json::to_string_pretty(&document).expect("the plan serialises"))
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

impl Serialize for Document {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Document", 4)?;
        out.serialize_field("version", &self.version)?;
        out.serialize_field("templates", &self.templates)?;
        out.serialize_field("deployments", &self.deployments)?;
        out.serialize_field("interrupted", &self.interrupted)?;
        out.end()
    }
}

impl Serialize for TemplateResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("TemplateResult", 5)?;
        out.serialize_field("template", &self.template)?;
        out.serialize_field("status", self.status)?;
        out.serialize_field("images", &self.images)?;
        out.serialize_field("error", &self.error)?;
        out.serialize_field("deployments", &self.deployments)?;
        out.end()
    }
}

impl Serialize for DeploymentChange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("DeploymentChange", 5)?;
        out.serialize_field("path", &self.path)?;
        out.serialize_field("key", &self.key)?;
        out.serialize_field("old", &self.old)?;
        out.serialize_field("new", &self.new)?;
        out.serialize_field("written", &self.written)?;
        out.end()
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
    let mut text = serde_json::to_string_pretty(&document).expect("the document serialises");
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
