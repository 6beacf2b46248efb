//! The versioned JSON document. These types are the public interface that
//! users' scripts read: they are kept apart from the internal ones, and any
//! change that could break a reader bumps `version`. (They are written with
//! `json_object!` rather than derived, to spare every user a proc-macro
//! build.)

use crate::diagnostic::{Report, Severity};
use crate::json::{self, Json, ToJson, json_object};

pub const VERSION: u32 = 1;

pub struct Document<'a> {
    pub version: u32,
    pub diagnostics: Vec<Diagnostic<'a>>,
    pub summary: Summary,
}

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
    /// Further places of the same finding (every other use of an
    /// undeclared variable); left out when there are none.
    pub related: Vec<Related<'a>>,
}

pub struct Related<'a> {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
}

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
                severity: diagnostic.severity.as_str(),
                path: &file.path,
                line: diagnostic.span.line,
                column: diagnostic.span.column,
                end_line: diagnostic.span.end_line,
                end_column: diagnostic.span.end_column,
                message: &diagnostic.message,
                help: diagnostic.help.as_deref(),
                related: diagnostic
                    .related
                    .iter()
                    .map(|related| Related {
                        line: related.span.line,
                        column: related.span.column,
                        end_line: related.span.end_line,
                        end_column: related.span.end_column,
                        message: &related.label,
                    })
                    .collect(),
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

impl ToJson for Document<'_> {
    fn to_json(&self) -> Json {
        json_object! {
            "version": self.version,
            "diagnostics": self.diagnostics,
            "summary": self.summary,
        }
    }
}

impl ToJson for Diagnostic<'_> {
    fn to_json(&self) -> Json {
        json_object! {
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "help": self.help,
            "related"?: (!self.related.is_empty()).then_some(&self.related),
        }
    }
}

impl ToJson for Related<'_> {
    fn to_json(&self) -> Json {
        json_object! {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
        }
    }
}

impl ToJson for Summary {
    fn to_json(&self) -> Json {
        json_object! {
            "files": self.files,
            "errors": self.errors,
            "warnings": self.warnings,
        }
    }
}

pub fn render(report: &Report) -> String {
    let mut text = json::pretty(&document(report).to_json());
    text.push('\n');
    text
}
