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
