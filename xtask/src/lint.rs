//! `cargo xtask lint`: both linters in one pass, one report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::diagnostic::Report;
use crate::render::{self, Format};
use crate::{lint_deployments, lint_templates};

/// Lints the given templates and deployments (every one when both lists
/// are empty) under `root`.
pub fn lint(root: PathBuf, templates: Vec<PathBuf>, deployments: Vec<PathBuf>, everything: bool) -> Result<Report> {
    let mut report = Report::default();
    if everything || !templates.is_empty() {
        let options = lint_templates::Options { root: root.clone(), files: templates, ..Default::default() };
        report.files.extend(lint_templates::lint(&options)?.files);
    }
    if everything || !deployments.is_empty() {
        let options = lint_deployments::Options { root, files: deployments };
        report.files.extend(lint_deployments::lint(&options)?.files);
    }
    Ok(report)
}

pub fn run(root: PathBuf, format: Format) -> Result<ExitCode> {
    let report = lint(root, Vec::new(), Vec::new(), true)?;
    print!("{}", render::render(&report, format, "file"));
    Ok(if report.has_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `--explain RULE` over both catalogues.
pub fn explain(code_or_name: &str) -> Result<ExitCode> {
    if let Some(text) = lint_deployments::explain(code_or_name) {
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    lint_templates::explain(code_or_name)
}
