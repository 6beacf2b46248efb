//! Diagnostics as rustc and cargo print them, with a source snippet and the
//! span underlined.

use std::fmt::Write as _;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, FileReport, Report, Severity};
use crate::printable;
use crate::project::ShownPaths;

/// The report, each file's path shown as `shown` says.
pub fn render(report: &Report, noun: &str, colour: bool, shown: &ShownPaths) -> String {
    let renderer = if colour { Renderer::styled() } else { Renderer::plain() };
    let mut out = String::new();
    for file in &report.files {
        let secrets: Vec<Range<usize>> =
            file.diagnostics.iter().filter(|d| d.redact).map(|d| d.span.bytes.clone()).collect();
        let path = shown.show(&file.path);
        for diagnostic in &file.diagnostics {
            out.push_str(&render_one(&renderer, file, &path, &secrets, diagnostic));
            out.push_str("\n\n");
        }
    }
    out.push_str(&summary(report, noun));
    out.push('\n');
    out
}

/// One diagnostic of `file`, shown as `path`; `secrets` are the spans of
/// the file's text to mask.
fn render_one(
    renderer: &Renderer,
    file: &FileReport,
    path: &str,
    secrets: &[Range<usize>],
    diagnostic: &Diagnostic,
) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    // Rules quote what files hold (a deployment's `"eu-west-1\e[2J"` is a
    // real escape): shown escaped, as `status` shows such text.
    let message = printable::escape(&diagnostic.message);
    let title = level.primary_title(message.as_ref()).id(diagnostic.rule.code);
    // Only the lines the spans cover go to the snippet (folded between
    // them): handing it the whole file would cost a pass over the file per
    // diagnostic.
    let span = diagnostic.span.bytes.clone();
    let first = diagnostic.related.iter().map(|related| related.span.bytes.start).fold(span.start, usize::min);
    let last = diagnostic.related.iter().map(|related| related.span.bytes.end).fold(span.end, usize::max);
    let start = file.source[..first].rfind('\n').map_or(0, |at| at + 1);
    let end = file.source[last..].find('\n').map_or(file.source.len(), |at| last + at);
    let first_line = diagnostic.related.iter().map(|related| related.span.line).fold(diagnostic.span.line, usize::min);
    // Every secret on these lines is masked, not only this diagnostic's.
    let secrets = secrets
        .iter()
        .filter(|secret| secret.start < end && secret.end > start)
        .map(|secret| secret.start.max(start) - start..secret.end.min(end) - start);
    let excerpt = redacted(&file.source[start..end], secrets);
    let mut group = if file.source.is_empty() {
        title.element(Origin::path(path))
    } else {
        let mut snippet =
            Snippet::source(excerpt).line_start(first_line).path(path).fold(true).annotation(
                AnnotationKind::Primary.span(span.start - start..span.end - start).label(diagnostic.rule.name),
            );
        for related in &diagnostic.related {
            let at = &related.span.bytes;
            snippet = snippet
                .annotation(AnnotationKind::Context.span(at.start - start..at.end - start).label(&related.label));
        }
        title.element(snippet)
    };
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(printable::escape(help)));
    }
    renderer.render(&[group])
}

/// The source with the characters of each span, quotes excepted, replaced
/// by as many `*` as they have bytes, so that every span stays valid.
fn redacted(source: &str, spans: impl Iterator<Item = Range<usize>>) -> String {
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
    use super::*;
    use crate::diagnostic::{Findings, RuleMeta};
    use crate::location::{Location, Route, Syntax};

    /// A deployment's `region: "eu-west-1\e[2J"` is read as a real escape,
    /// and rules quote values in their messages and help.
    #[test]
    fn control_characters_in_messages_and_help_are_escaped() {
        static RULE: RuleMeta =
            RuleMeta { code: "DEP007", name: "region-not-built", severity: Severity::Error, doc: "" };
        let source = "{\"region\": \"x\"}\n";
        let mut findings = Findings::default();
        findings
            .report(&RULE, Location::value(Route::root().key("region")), "no image in eu\u{1b}[2J")
            .help("add a builder for eu\u{1b}[2J\u{202e}");
        let file = FileReport::new("d.json".to_owned(), source.to_owned(), findings.into_vec(), Syntax::Json);
        let output = render(&Report { files: vec![file] }, "deployment", false, &ShownPaths::default());
        assert!(!output.contains('\u{1b}') && !output.contains('\u{202e}'), "{output:?}");
        assert!(output.contains("add a builder for eu\\u{1b}[2J\\u{202e}"), "{output}");
    }

    #[test]
    fn redaction_keeps_quotes_and_positions() {
        let source = "{\"secret_key\": \"abcé\"}";
        let start = source.find("\"abc").unwrap();
        let text = redacted(source, std::iter::once(start..source.len() - 1));
        assert_eq!(text, "{\"secret_key\": \"*****\"}");
        assert_eq!(text.len(), source.len());
    }
}
