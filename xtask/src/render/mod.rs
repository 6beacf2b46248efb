//! Output formats: separate renderers over the same diagnostics.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
pub mod statistics;

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::diagnostic::Report;
use crate::project::ShownPaths;
use crate::registry::Registry;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Diagnostics with source snippets, as rustc and cargo print them.
    #[default]
    Human,
    /// One versioned JSON document, for scripts.
    Json,
    /// GitHub Actions workflow commands, for annotations on pull requests.
    Github,
    /// A SARIF 2.1.0 log, for code scanning.
    Sarif,
    /// The number of findings of each rule (`--statistics`).
    Statistics,
}

/// Renders a report in the chosen format. `noun` names what was checked
/// ("template"), for the human summary; `rules` is every rule, which SARIF
/// lists. The report's paths are relative to `root`; the human output shows
/// them from the current folder ([`ShownPaths`]), the machine outputs as
/// they are.
pub fn render(report: &Report, format: Format, noun: &str, rules: &Registry, root: &Path) -> String {
    match format {
        Format::Human => human::render(report, noun, use_colour(), &ShownPaths::from_current_folder(root)),
        Format::Json => json::render(report),
        Format::Github => github::render(report),
        Format::Sarif => sarif::render(report, rules.rules()),
        Format::Statistics => statistics::render(report, noun),
    }
}

/// `--color`: when the human output is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colour {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

/// The `--color` of this run: set once by `main` before any output, read by
/// every renderer, so that no command threads it through its own options.
static COLOUR: AtomicU8 = AtomicU8::new(Colour::Auto as u8);

pub fn set_colour(colour: Colour) {
    COLOUR.store(colour as u8, Ordering::Relaxed);
}

/// Colour as `--color` says; by default only on a terminal, and never when
/// NO_COLOR is set.
pub fn use_colour() -> bool {
    match COLOUR.load(Ordering::Relaxed) {
        value if value == Colour::Always as u8 => true,
        value if value == Colour::Never as u8 => false,
        _ => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::{Diagnostic, FileReport, Related, Report, RuleMeta, Severity};
    use crate::location::Span;

    static AN_ERROR: RuleMeta = RuleMeta {
        code: "PKR901",
        name: "sample-error",
        severity: Severity::Error,
        doc: " ## What it does\n Reports a sample. Of nothing.\n\n ## Why is this bad?\n It is a \"sample\".\n",
    };
    static A_WARNING: RuleMeta = RuleMeta {
        code: "DEP902",
        name: "sample-warning",
        severity: Severity::Warning,
        doc: " ## What it does\n Warns.",
    };

    fn span(line: usize, column: usize) -> Span {
        Span { bytes: 0..0, line, column, end_line: line, end_column: column + 4 }
    }

    fn diagnostic(rule: &'static RuleMeta, line: usize, help: Option<&str>, related: Vec<Related>) -> Diagnostic {
        Diagnostic {
            rule,
            severity: rule.severity,
            span: span(line, 3),
            anchor: "/builders/0".to_owned(),
            message: format!("`{}` found at line {line}", rule.name),
            help: help.map(str::to_owned),
            redact: false,
            related,
        }
    }

    /// Every field each document can have: help or none, related places or
    /// none, a finding twice in one file, a path that needs escaping.
    fn report() -> Report {
        let related = vec![Related { span: span(9, 5), label: "also used here".to_owned() }];
        let template = FileReport {
            path: "packer/3.11/aws/machine-image/template.json".to_owned(),
            source: String::new(),
            diagnostics: vec![
                diagnostic(&AN_ERROR, 2, Some("declare it in \"variables\""), related),
                diagnostic(&AN_ERROR, 2, None, Vec::new()),
            ],
        };
        let deployment = FileReport {
            path: "deployments/my cluster é.yaml".to_owned(),
            source: String::new(),
            diagnostics: vec![diagnostic(&A_WARNING, 4, None, Vec::new())],
        };
        let clean =
            FileReport { path: "deployments/clean.yaml".to_owned(), source: String::new(), diagnostics: vec![] };
        Report { files: vec![template, deployment, clean] }
    }

    /// The JSON and SARIF documents byte for byte: users' scripts and code
    /// scanning read them.
    #[test]
    fn the_json_documents_keep_their_shape() {
        let report = report();
        insta::with_settings!({ snapshot_path => "../../../tests/snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("json-lint", super::json::render(&report));
            insta::assert_snapshot!("json-lint-sarif", super::sarif::render(&report, &[&A_WARNING, &AN_ERROR]));
        });
    }
}
