//! `cargo xtask lint`: both linters in one pass, one report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::deployments;
use crate::diagnostic::Report;
use crate::project::{self, Filter};
use crate::registry::Registry;
use crate::render::{self, Format};
use crate::version::Version;
use crate::{lint_deployments, lint_templates};

/// A request to lint: the given templates and deployments, or every one,
/// and what the templates are judged with. Not the command line's
/// `project::Selection`: its paths are already told apart, and it has no
/// filter.
pub struct Request {
    pub templates: Vec<PathBuf>,
    pub deployments: Vec<PathBuf>,
    pub everything: bool,
    /// Var files whose variables count as declared in the templates.
    pub var_files: Vec<PathBuf>,
    /// `--packer-version`: the Packer release the templates are judged
    /// against, over xtask.toml and the installed `packer`.
    pub packer_version: Option<Version>,
}

/// Lints what `request` names under `root`; `rules` is every rule
/// (`catalogue::registry`).
pub fn lint(root: PathBuf, request: Request, rules: &Registry) -> Result<Report> {
    lint_filtered(root, request, &Filter::default(), rules)
}

/// [`lint`], of the templates and deployments `filter` leaves in.
pub fn lint_filtered(root: PathBuf, request: Request, filter: &Filter, rules: &Registry) -> Result<Report> {
    let Request { templates, deployments, everything, var_files, packer_version } = request;
    let mut report = Report::default();
    if everything || !templates.is_empty() {
        let options = lint_templates::Options {
            root: root.clone(),
            filter: filter.clone(),
            files: templates,
            var_files,
            packer_version,
        };
        report.files.extend(lint_templates::lint(&options, rules)?.files);
    }
    if everything || !deployments.is_empty() {
        let options = lint_deployments::Options { root, filter: filter.clone(), files: deployments };
        report.files.extend(lint_deployments::lint(&options, rules)?.files);
    }
    Ok(report)
}

/// `cargo xtask lint`: the paths of `chosen` are templates and deployment
/// files (`.yaml`, `.yml`); without paths, every one its filter leaves in.
pub fn run(
    chosen: project::Selection,
    var_files: Vec<PathBuf>,
    packer_version: Option<Version>,
    format: Format,
    rules: &Registry,
) -> Result<ExitCode> {
    let project::Selection { root, filter, paths } = chosen;
    if paths.is_empty() {
        filter.check_matches(&root)?;
    }
    let (deployments, templates): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.iter().cloned().partition(|path| deployments::is_deployment_file(path));
    let request = Request { templates, deployments, everything: paths.is_empty(), var_files, packer_version };
    let report = lint_filtered(root.clone(), request, &filter, rules)?;
    show!("{}", render::render(&report, format, "file", rules, &root));
    if !root.join("packer").is_dir() && !root.join("deployments").is_dir() {
        say!(
            "note: {} has neither a packer/ nor a deployments/ folder, so nothing was checked; give the \
             repository's top folder with --root",
            root.display()
        );
    }
    lint_deployments::note_a_missing_lock(&root, format);
    Ok(if report.has_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
