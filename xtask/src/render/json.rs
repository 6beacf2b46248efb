//! The versioned JSON document. These types are the public interface that
//! users' scripts read: they are kept apart from the internal ones, and any
//! change that could break a reader bumps `version`. (They are written out
//! by hand rather than derived, to spare every user a proc-macro build.)

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::diagnostic::{Report, Severity};

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

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Document", 3)?;
        out.serialize_field("version", &self.version)?;
        out.serialize_field("diagnostics", &self.diagnostics)?;
        out.serialize_field("summary", &self.summary)?;
        out.end()
    }
}

impl Serialize for Diagnostic<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Diagnostic", 11)?;
        out.serialize_field("code", self.code)?;
        out.serialize_field("rule", self.rule)?;
        out.serialize_field("severity", self.severity)?;
        out.serialize_field("path", self.path)?;
        out.serialize_field("line", &self.line)?;
        out.serialize_field("column", &self.column)?;
        out.serialize_field("end_line", &self.end_line)?;
        out.serialize_field("end_column", &self.end_column)?;
        out.serialize_field("message", self.message)?;
        out.serialize_field("help", &self.help)?;
        if self.related.is_empty() {
            out.skip_field("related")?;
        } else {
            out.serialize_field("related", &self.related)?;
        }
        out.end()
    }
}

impl Serialize for Related<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Related", 5)?;
        out.serialize_field("line", &self.line)?;
        out.serialize_field("column", &self.column)?;
        out.serialize_field("end_line", &self.end_line)?;
        out.serialize_field("end_column", &self.end_column)?;
        out.serialize_field("message", self.message)?;
        out.end()
    }
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Summary", 3)?;
        out.serialize_field("files", &self.files)?;
        out.serialize_field("errors", &self.errors)?;
        out.serialize_field("warnings", &self.warnings)?;
        out.end()
    }
}

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(&document(report)).expect("the document serialises");
    text.push('\n');
    text
}
