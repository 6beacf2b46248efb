//! `cargo xtask pre-commit`: lints what is being committed, that is the
//! index's content, not the working tree: staged templates and deployments,
//! and the deployments a staged template (or a file it uploads) affects.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::deployments::Deployment;
use crate::lint;
use crate::project::Layout;
use crate::render::{self, Format};

/// Paths git prints with `-z`.
fn nul_separated(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

fn git_paths(sh: &Shell, args: &[&str]) -> Result<Vec<String>> {
    let output =
        cmd!(sh, "git {args...}").quiet().output().with_context(|| format!("running git {}", args.join(" ")))?;
    Ok(nul_separated(&output.stdout))
}

/// The folder (if any) of templates a staged path belongs to:
/// `packer/3.11/aws/machine-image/scripts/x.sh` → that template.
fn template_of(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    (parts.len() >= 5 && parts[0] == "packer").then(|| format!("{}/template.json", parts[..4].join("/")))
}

pub fn run(format: Format) -> Result<ExitCode> {
    let sh = Shell::new()?;
    let top = cmd!(sh, "git rev-parse --show-toplevel").quiet().read().context("not inside a git repository")?;
    sh.change_dir(&top);
    let staged =
        git_paths(&sh, &["diff", "--cached", "--name-only", "-z", "--no-renames", "--", "packer", "deployments"])?;
    if staged.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let tracked = git_paths(&sh, &["ls-files", "-z", "--", "packer", "deployments"])?;
    let snapshot = Snapshot::of_index(Path::new(&top), &tracked)?;
    let root = snapshot.0.clone();
    let exists = |rel: &str| root.join(rel).is_file();

    // Templates to lint: those staged, and those whose files are.
    let mut templates: BTreeSet<String> = BTreeSet::new();
    for path in &staged {
        if path.ends_with("/template.json") && path.starts_with("packer/") {
            templates.insert(path.clone());
        } else if let Some(template) = template_of(path) {
            templates.insert(template);
        }
    }
    templates.retain(|template| exists(template));
    // Deployments to lint: those staged, and those of a release and cloud
    // whose templates changed (or of every one, when the lock changed).
    let lock_changed = staged.iter().any(|path| path == "packer/images.lock");
    let touched: BTreeSet<(String, String)> = staged
        .iter()
        .filter_map(|path| template_of(path).or_else(|| path.ends_with("/template.json").then(|| path.clone())))
        .filter_map(|template| Layout::from_relative(&template).ok())
        .map(|layout| (layout.release, layout.cloud))
        .collect();
    let mut deployments: BTreeSet<String> =
        staged.iter().filter(|path| path.starts_with("deployments/") && exists(path)).cloned().collect();
    for path in tracked.iter().filter(|path| path.starts_with("deployments/") && exists(path)) {
        if lock_changed {
            deployments.insert(path.clone());
            continue;
        }
        if let Ok(deployment) = Deployment::load(&root, &root.join(path))
            && let (Some(release), Some(cloud)) = (deployment.release(), deployment.cloud())
            && touched.contains(&(release.to_owned(), cloud.to_owned()))
        {
            deployments.insert(path.clone());
        }
    }
    deployments.retain(|path| path.ends_with(".yaml") || path.ends_with(".yml"));

    let report = lint::lint(
        root.clone(),
        templates.iter().map(|rel| root.join(rel)).collect(),
        deployments.iter().map(|rel| root.join(rel)).collect(),
        false,
    )?;
    if report.files.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", render::render(&report, format, "staged file"));
    if report.has_errors() {
        eprintln!(
            "Commit refused: these are the staged versions (`git diff --cached`). Fix them and `git add` the fixes; \
             `git commit --no-verify` skips this check."
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The index's version of the given paths, written out to a scratch
/// folder that is removed when dropped.
struct Snapshot(PathBuf);

impl Snapshot {
    fn of_index(top: &Path, paths: &[String]) -> Result<Snapshot> {
        let dir = std::env::temp_dir().join(format!("xtask-pre-commit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let snapshot = Snapshot(dir);
        let prefix = format!("{}/", snapshot.0.display());
        let mut child = Command::new("git")
            .args(["checkout-index", "-z", "--stdin", &format!("--prefix={prefix}")])
            .current_dir(top)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("running git checkout-index")?;
        {
            let mut stdin = child.stdin.take().expect("stdin is piped");
            for path in paths {
                stdin.write_all(path.as_bytes())?;
                stdin.write_all(b"\0")?;
            }
        }
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!("git checkout-index failed: {}", String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok(snapshot)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_belong_to_their_template() {
        assert_eq!(
            template_of("packer/3.11/aws/machine-image/scripts/install.sh").as_deref(),
            Some("packer/3.11/aws/machine-image/template.json")
        );
        assert_eq!(template_of("deployments/a.yaml"), None);
        assert_eq!(template_of("packer/images.lock"), None);
    }
}
