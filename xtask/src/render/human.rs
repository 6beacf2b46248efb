//! Diagnostics as rustc and cargo print them, with a source snippet and the
//! span underlined.

use std::fmt::Write as _;

use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, FileReport, Report, Severity};

pub fn render(report: &Report, noun: &str, colour: bool) -> String {
    let renderer = if colour { Renderer::styled() } else { Renderer::plain() };
    let mut out = String::new();
    for file in &report.files {
        for diagnostic in &file.diagnostics {
            out.push_str(&render_one(&renderer, file, diagnostic));
            out.push_str("\n\n");
        }
    }
    out.push_str(&summary(report, noun));
    out.push('\n');
    out
}

fn render_one(renderer: &Renderer, file: &FileReport, diagnostic: &Diagnostic) -> String {
    let level = match diagnostic.rule.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(diagnostic.message.as_str()).id(diagnostic.rule.code);
    // Every secret in the file is masked, not only this diagnostic's: a
    // snippet may show a line that holds another one.
    let secrets = file.diagnostics.iter().filter(|d| d.redact).map(|d| d.span.bytes.clone());
    let source = redacted(&file.source, secrets);
    let span = diagnostic.span.bytes.clone();
    let mut group = if source.is_empty() {
        title.element(Origin::path(file.path.as_str()))
    } else {
        title.element(
            Snippet::source(source)
                .path(file.path.as_str())
                .annotation(AnnotationKind::Primary.span(span).label(diagnostic.rule.name)),
        )
    };
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    renderer.render(&[group])
}

/// The source with the characters of each span, quotes excepted, replaced
/// by as many `*` as they have bytes, so that every span stays valid.
fn redacted(source: &str, spans: impl Iterator<Item = std::ops::Range<usize>>) -> String {
    let mut text = source.to_owned();
    for span in spans {
        let inside = &source[span.clone()];
        let masked: String =
            inside
                .char_indices()
                .map(|(i, c)| {
                    if c == '"' && (i == 0 || i + 1 == inside.len()) {
                        "\"".to_owned()
                    } else {
                        "*".repeat(c.len_utf8())
                    }
                })
                .collect();
        text.replace_range(span, &masked);
    }
    text
}

/// `Checked 3 templates: 1 error, 2 warnings.`
pub fn summary(report: &Report, noun: &str) -> String {
    let files = report.files.len();
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let mut line = format!("Checked {files} {noun}{}", plural(files));
    if errors == 0 && warnings == 0 {
        line.push_str(": no problems found.");
    } else {
        let _ = write!(line, ": {errors} error{}, {warnings} warning{}.", plural(errors), plural(warnings));
    }
    line
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn redaction_keeps_quotes_and_positions() {
        let source = "{\"secret_key\": \"abcé\"}";
        let start = source.find("\"abc").unwrap();
        let text = redacted(source, std::iter::once(start..source.len() - 1));
        assert_eq!(text, "{\"secret_key\": \"*****\"}");
        assert_eq!(text.len(), source.len());
    }
}
