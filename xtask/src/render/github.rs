//! GitHub Actions workflow commands, which the Actions runner turns into
//! annotations on the pull request's changed lines. An annotation has one
//! place: a finding's related places (the other uses of a variable) are
//! named in its message, one line each, as `path:line:column: label`.

use crate::diagnostic::{Report, Severity};
use crate::printable;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for file in &report.files {
        for diagnostic in &file.diagnostics {
            let command = match diagnostic.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let span = &diagnostic.span;
            let mut message = diagnostic.message.clone();
            for related in &diagnostic.related {
                let at = &related.span;
                message.push_str(&format!("\n{}:{}:{}: {}", file.path, at.line, at.column, related.label));
            }
            if let Some(help) = &diagnostic.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            out.push_str(&format!(
                "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
                escape_property(&file.path),
                span.line,
                span.column,
                span.end_line,
                span.end_column,
                escape_property(&format!("{} {}", diagnostic.rule.code, diagnostic.rule.name)),
                escape_data(&message),
            ));
        }
    }
    out
}

/// The command's escapes (`%`, line breaks) over the text with its other
/// control characters shown escaped: the Actions log acts on terminal
/// escapes, and rules quote what files hold.
fn escape_data(text: &str) -> String {
    let shown: String =
        text.split('\n').map(|line| printable::escape(line).into_owned()).collect::<Vec<_>>().join("\n");
    shown.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{FileReport, Findings, RuleMeta};
    use crate::location::{Location, Route, Syntax};

    #[test]
    fn escapes() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    /// The Actions log shows terminal escapes as they act: a value a rule
    /// quotes (a deployment's `region: "eu-west-1\e[2J"`) is escaped, the
    /// message's own line breaks kept.
    #[test]
    fn control_characters_are_escaped() {
        static RULE: RuleMeta =
            RuleMeta { code: "DEP007", name: "region-not-built", severity: Severity::Error, doc: "" };
        let mut findings = Findings::default();
        findings
            .report(&RULE, Location::value(Route::root().key("region")), "no image in eu\u{1b}[2J")
            .help("add eu\u{202e}");
        let file = FileReport::new(
            "d\u{1b}.yaml".to_owned(),
            "{\"region\": \"x\"}\n".to_owned(),
            findings.into_vec(),
            Syntax::Json,
        );
        let output = render(&Report { files: vec![file] });
        assert_eq!(
            output,
            "::error file=d\\u{1b}.yaml,line=1,col=12,endLine=1,endColumn=15,title=DEP007 region-not-built::no image in \
             eu\\u{1b}[2J%0Ahelp: add eu\\u{202e}\n"
        );
    }

    /// Related places join the message, each on its own line of the one
    /// line the command takes, escaped like the rest.
    #[test]
    fn related_places_are_in_the_message() {
        static RULE: RuleMeta =
            RuleMeta { code: "PKR201", name: "undeclared-variable", severity: Severity::Error, doc: "" };
        let source = "{\n  \"a\": \"x\",\n  \"b\": \"y\",\n  \"c\": \"z\"\n}\n";
        let mut findings = Findings::default();
        findings
            .report(&RULE, Location::value(Route::root().key("a")), "first")
            .related(Location::value(Route::root().key("b")), "used here too")
            .related(Location::value(Route::root().key("c")), "50% here\nand on")
            .help("fix it");
        let file = FileReport::new("t.json".to_owned(), source.to_owned(), findings.into_vec(), Syntax::Json);
        let output = render(&Report { files: vec![file] });
        assert_eq!(
            output,
            "::error file=t.json,line=2,col=8,endLine=2,endColumn=11,title=PKR201 undeclared-variable::first\
             %0At.json:3:8: used here too%0At.json:4:8: 50%25 here%0Aand on%0Ahelp: fix it\n"
        );
    }
}
