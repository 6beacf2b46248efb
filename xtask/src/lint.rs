//! `cargo xtask lint`: both linters in one pass, one report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::deployments;
use crate::diagnostic::{Report, RuleMeta};
use crate::project::{self, Filter};
use crate::render::{self, Format};
use crate::version::Version;
use crate::{lint_deployments, lint_templates, suppress};

/// What to lint: the given templates and deployments, or every one.
pub struct Selection {
    pub templates: Vec<PathBuf>,
    pub deployments: Vec<PathBuf>,
    pub everything: bool,
    /// Var files whose variables count as declared in the templates.
    pub var_files: Vec<PathBuf>,
    /// `--packer-version`: the Packer release the templates are judged
    /// against, over xtask.toml and the installed `packer`.
    pub packer_version: Option<Version>,
}

/// Lints what `selection` names under `root`.
pub fn lint(root: PathBuf, selection: Selection) -> Result<Report> {
    lint_filtered(root, selection, &Filter::default())
}

/// [`lint`], of the templates and deployments `filter` leaves in.
fn lint_filtered(root: PathBuf, selection: Selection, filter: &Filter) -> Result<Report> {
    let Selection { templates, deployments, everything, var_files, packer_version } = selection;
    let mut report = Report::default();
    if everything || !templates.is_empty() {
        let options = lint_templates::Options {
            root: root.clone(),
            filter: filter.clone(),
            files: templates,
            var_files,
            packer_version,
        };
        report.files.extend(lint_templates::lint(&options)?.files);
    }
    if everything || !deployments.is_empty() {
        let options = lint_deployments::Options { root, filter: filter.clone(), files: deployments };
        report.files.extend(lint_deployments::lint(&options)?.files);
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
) -> Result<ExitCode> {
    let project::Selection { root, filter, paths } = chosen;
    if paths.is_empty() {
        filter.check_matches(&root)?;
    }
    let (deployments, templates): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.iter().cloned().partition(|path| deployments::is_deployment_file(path));
    let selection = Selection { templates, deployments, everything: paths.is_empty(), var_files, packer_version };
    let report = lint_filtered(root.clone(), selection, &filter)?;
    show!("{}", render::render(&report, format, "file"));
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

/// Every rule of every linter, templates' first, then deployments', then
/// the suppressions': the catalogue that
/// `--explain` searches and SARIF's `ruleIndex` counts in.
pub fn catalogue() -> Vec<&'static RuleMeta> {
    let templates = lint_templates::rules::RULES.iter().map(|rule| &rule.meta);
    let deployments = lint_deployments::rules::RULES.iter().map(|rule| &rule.meta);
    templates.chain(deployments).chain(suppress::rules::RULES.iter().copied()).collect()
}

/// A rule by code (`PKR201`) or name (`undeclared-variable`), from any linter.
pub fn find_rule(code_or_name: &str) -> Option<&'static RuleMeta> {
    catalogue().into_iter().find(|rule| rule.code.eq_ignore_ascii_case(code_or_name) || rule.name == code_or_name)
}

/// `--explain` without a rule: one line per rule of the asking command's
/// catalogue (`own`, with the suppressions' rules) or of every catalogue,
/// and how to read one.
fn rule_list(own: Option<&str>) -> String {
    let mut out = String::new();
    for rule in catalogue() {
        let listed = match own {
            Some(prefix) => {
                rule.code.starts_with(prefix) || suppress::rules::RULES.iter().any(|shared| shared.code == rule.code)
            }
            None => true,
        };
        if listed {
            out.push_str(&format!("{:<7} {:<36} {}\n", rule.code, rule.name, rule.severity));
        }
    }
    out.push_str("Run with --explain RULE (a code or a name) for a rule's documentation.\n");
    out
}

/// `--explain RULE` over every catalogue. A name two linters share
/// (`duplicate-key`) is taken from `own`, the catalogue of the command that
/// asks, when it has one; `lint` shows every rule of that name.
pub fn explain(code_or_name: &str, own: Option<&str>) -> Result<ExitCode> {
    if code_or_name.is_empty() {
        show!("{}", rule_list(own));
        return Ok(ExitCode::SUCCESS);
    }
    let matching: Vec<&RuleMeta> = catalogue()
        .into_iter()
        .filter(|rule| rule.code.eq_ignore_ascii_case(code_or_name) || rule.name == code_or_name)
        .collect();
    if matching.is_empty() {
        let rules = catalogue();
        if let Some(name) = crate::spelling::suggest(code_or_name, rules.iter().map(|rule| rule.name)) {
            bail!("there is no rule `{code_or_name}`; did you mean `{name}`?");
        }
        let known: Vec<String> = rules.iter().map(|rule| format!("{} {}", rule.code, rule.name)).collect();
        bail!("there is no rule `{code_or_name}`; the rules are: {}", known.join(", "));
    }
    let preferred: Vec<&RuleMeta> =
        matching.iter().copied().filter(|rule| own.is_some_and(|prefix| rule.code.starts_with(prefix))).collect();
    let shown = if preferred.is_empty() { matching } else { preferred };
    let texts: Vec<String> = shown
        .iter()
        .map(|rule| format!("{} {} ({})\n\n{}", rule.code, rule.name, rule.severity, rule.doc_text()))
        .collect();
    show_line!("{}", texts.join("\n\n---\n\n"));
    Ok(ExitCode::SUCCESS)
}
