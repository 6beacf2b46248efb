//! SARIF 2.1.0, the format code scanning reads (GitHub's upload-sarif,
//! editors' SARIF viewers). Its shape is OASIS's standard, versioned by it,
//! so the document is written in the standard's own terms with
//! `json_object!` rather than through types of ours, its keys in
//! alphabetical order as they always were; a test checks the output
//! against the official schema.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::diagnostic::{Diagnostic, Report, RuleMeta, Severity};
use crate::json::{self, Json, json_object};
use crate::location::Span;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of our fingerprints in `partialFingerprints`.
const FINGERPRINT: &str = "xtaskFinding/v1";

/// The report as one SARIF log; `catalogue` is every rule the tool has, in
/// the order `ruleIndex` counts.
pub fn render(report: &Report, catalogue: &[&'static RuleMeta]) -> String {
    let index: HashMap<&str, usize> = catalogue.iter().enumerate().map(|(at, rule)| (rule.code, at)).collect();
    let mut results = Vec::new();
    for file in &report.files {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for diagnostic in &file.diagnostics {
            let hash = fingerprint(&file.path, diagnostic);
            // Identical findings in one file are told apart by their order.
            let occurrence = seen.entry(hash.clone()).and_modify(|n| *n += 1).or_insert(1);
            results.push(result(&file.path, diagnostic, index[diagnostic.rule.code], format!("{hash}:{occurrence}")));
        }
    }
    let log = json_object! {
        "$schema": SCHEMA,
        "runs": [json_object! {
            // Columns count characters (Unicode scalar values), as in the
            // other formats, not SARIF's default of UTF-16 code units.
            "columnKind": "unicodeCodePoints",
            "results": results,
            "tool": json_object! {
                "driver": json_object! {
                    "name": "xtask",
                    "rules": json::array(catalogue.iter().map(|rule| descriptor(rule))),
                    "version": env!("CARGO_PKG_VERSION"),
                },
            },
        }],
        "version": "2.1.0",
    };
    let mut text = json::pretty(&log);
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn descriptor(rule: &RuleMeta) -> Json {
    let doc = rule.doc_text();
    json_object! {
        "defaultConfiguration": json_object! { "level": level(rule.severity) },
        "fullDescription": json_object! { "text": doc },
        "help": json_object! { "markdown": doc, "text": doc },
        "id": rule.code,
        "name": rule.name,
        "shortDescription": json_object! { "text": rule.summary() },
    }
}

fn result(path: &str, diagnostic: &Diagnostic, rule_index: usize, fingerprint: String) -> Json {
    let span = &diagnostic.span;
    let text = match &diagnostic.help {
        Some(help) => format!("{}\nhelp: {help}", diagnostic.message),
        None => diagnostic.message.clone(),
    };
    let related: Vec<Json> = diagnostic
        .related
        .iter()
        .enumerate()
        .map(|(id, related)| {
            json_object! {
                "id": id,
                "message": json_object! { "text": related.label },
                "physicalLocation": physical_location(path, &related.span),
            }
        })
        .collect();
    json_object! {
        "level": level(diagnostic.severity),
        "locations": [json_object! { "physicalLocation": physical_location(path, span) }],
        "message": json_object! { "text": text },
        "partialFingerprints": json_object! { FINGERPRINT: fingerprint },
        "relatedLocations"?: (!related.is_empty()).then_some(&related),
        "ruleId": diagnostic.rule.code,
        "ruleIndex": rule_index,
    }
}

fn physical_location(path: &str, span: &Span) -> Json {
    json_object! {
        "artifactLocation": json_object! { "uri": uri(path), "uriBaseId": "%SRCROOT%" },
        "region": json_object! {
            "endColumn": span.end_column,
            "endLine": span.end_line,
            "startColumn": span.column,
            "startLine": span.line,
        },
    }
}

/// A hash of what the finding is (rule, file, its anchor in the document
/// and its message) and not of where its lines are, so that it keeps its
/// fingerprint when lines above it are added or removed.
fn fingerprint(path: &str, diagnostic: &Diagnostic) -> String {
    let mut hasher = Sha256::new();
    for part in [diagnostic.rule.code, path, &diagnostic.anchor, &diagnostic.message] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize()[..16].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A root-relative path (forward slashes) as a relative URI reference:
/// everything but unreserved characters and `/` percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("packer/3.9/aws/machine-image/template.json"), "packer/3.9/aws/machine-image/template.json");
        assert_eq!(uri("deployments/my cluster é.yaml"), "deployments/my%20cluster%20%C3%A9.yaml");
    }
}
