//! The versioned JSON document. These types are the public interface that
//! users' scripts read: they are kept apart from the internal ones, and any
//! change that could break a reader bumps `version`.

use serde::Serialize;

use crate::diagnostic::{Report, Severity};

pub const VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Document<'a> {
    pub version: u32,
    pub diagnostics: Vec<Diagnostic<'a>>,
    pub summary: Summary,
}

#[derive(Serialize)]
pub struct Diagnostic<'a> {
    pub code: &'a str,
    pub rule: &'a str,
    pub severity: &'a str,
    /// Relative to the root, with forward slashes.
    pub path: &'a str,
    /// 1-based; columns count characters.
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
    pub help: Option<&'a str>,
}

#[derive(Serialize)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
}

pub fn document(report: &Report) -> Document<'_> {
    let diagnostics = report
        .files
        .iter()
        .flat_map(|file| {
            file.diagnostics.iter().map(move |diagnostic| Diagnostic {
                code: diagnostic.rule.code,
                rule: diagnostic.rule.name,
                severity: diagnostic.rule.severity.as_str(),
                path: &file.path,
                line: diagnostic.span.line,
                column: diagnostic.span.column,
                end_line: diagnostic.span.end_line,
                end_column: diagnostic.span.end_column,
                message: &diagnostic.message,
                help: diagnostic.help.as_deref(),
            })
        })
        .collect();
    Document {
        version: VERSION,
        diagnostics,
        summary: Summary {
            files: report.files.len(),
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
        },
    }
}

pub fn render(report: &Report) -> String {
    let mut text =
        serde_json::to_string_pretty(&document(report)).expect("the document serialises");
    text.push('\n');
    text
}
