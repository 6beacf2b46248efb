//! Output formats: separate renderers over the same diagnostics.

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
pub mod statistics;

use std::io::IsTerminal;

use crate::diagnostic::Report;

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
/// ("template"), for the human summary.
pub fn render(report: &Report, format: Format, noun: &str) -> String {
    match format {
        Format::Human => human::render(report, noun, use_colour()),
        Format::Json => json::render(report),
        Format::Github => github::render(report),
        Format::Sarif => sarif::render(report, &crate::lint::catalogue()),
        Format::Statistics => statistics::render(report, noun),
    }
}

/// Colour only on a terminal, and never when NO_COLOR is set.
pub fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}
