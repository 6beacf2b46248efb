//! `cargo xtask lint`: both linters in one pass, one report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::diagnostic::Report;
use crate::render::{self, Format};
use crate::{lint_deployments, lint_templates};

/// What to lint: the given templates and deployments, or every one.
pub struct Selection {
    pub templates: Vec<PathBuf>,
    pub deployments: Vec<PathBuf>,
    pub everything: bool,
    /// Var files whose variables count as declared in the templates.
    pub var_files: Vec<PathBuf>,
}

/// Lints what `selection` names under `root`.
pub fn lint(root: PathBuf, selection: Selection) -> Result<Report> {
    let Selection { templates, deployments, everything, var_files } = selection;
    let mut report = Report::default();
    if everything || !templates.is_empty() {
        let options = lint_templates::Options { root: root.clone(), files: templates, var_files, ..Default::default() };
        report.files.extend(lint_templates::lint(&options)?.files);
    }
    if everything || !deployments.is_empty() {
        let options = lint_deployments::Options { root, files: deployments };
        report.files.extend(lint_deployments::lint(&options)?.files);
    }
    Ok(report)
}

pub fn run(root: PathBuf, var_files: Vec<PathBuf>, format: Format) -> Result<ExitCode> {
    let selection = Selection { templates: Vec::new(), deployments: Vec::new(), everything: true, var_files };
    let report = lint(root.clone(), selection)?;
    show!("{}", render::render(&report, format, "file"));
    lint_deployments::note_a_missing_lock(&root, format);
    Ok(if report.has_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `--explain RULE` over both catalogues.
pub fn explain(code_or_name: &str) -> Result<ExitCode> {
    if let Some(text) = lint_deployments::explain(code_or_name) {
        show_line!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    lint_templates::explain(code_or_name)
}
