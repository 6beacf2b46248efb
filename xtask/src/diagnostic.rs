//! Rules, findings and diagnostics, shared by every linter.

use std::fmt;

use crate::location::{Focus, Location, Resolver, Span, Syntax};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every rule is, whichever linter runs it: a stable code, a kebab-case
/// name, a severity and its documentation (the doc comment of its file).
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub doc: &'static str,
}

impl RuleMeta {
    /// The first sentence of the doc's "What it does" section, for tables.
    pub fn summary(&self) -> String {
        let body: String = self
            .doc
            .lines()
            .map(str::trim)
            .skip_while(|line| line.is_empty() || line.starts_with('#'))
            .take_while(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        match body.find(". ") {
            Some(end) => body[..=end].to_owned(),
            None => body,
        }
    }

    /// The doc as Markdown, without the one-space indent doc comments carry.
    pub fn doc_text(&self) -> String {
        self.doc
            .lines()
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned()
    }
}

/// `word` with the indefinite article it takes by sound: "an `openstack`
/// builder", "a `qemu` builder", "an `lxd` builder" (said "el-ex-dee").
pub fn with_article(word: &str) -> String {
    let bare = word.trim_start_matches(['`', '"']).to_ascii_lowercase();
    // Initialisms said letter by letter, and words whose `u` or `o` sounds
    // like "you" or "won".
    const SAID_WITH_A_VOWEL: &[&str] = &["lxc", "lxd", "ncloud", "hcloud", "nspawn", "sbom", "ssh", "rdp", "xml"];
    const SAID_WITH_A_CONSONANT: &[&str] = &["ucloud", "uni", "use", "usa", "one", "uuid"];
    let vowel = if SAID_WITH_A_VOWEL.iter().any(|prefix| bare.starts_with(prefix)) {
        true
    } else if SAID_WITH_A_CONSONANT.iter().any(|prefix| bare.starts_with(prefix)) {
        false
    } else {
        bare.starts_with(['a', 'e', 'i', 'o', 'u'])
    };
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// A problem a rule found, before its location is resolved.
#[derive(Debug)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub location: Location,
    pub message: String,
    pub help: Option<String>,
    /// The span holds a secret: renderers must not show its text.
    pub redact: bool,
    /// When this finding is more or less serious than the rule usually is.
    pub severity: Option<Severity>,
    /// Further places that belong to the same finding, each with a label.
    pub related: Vec<(Location, String)>,
}

/// Where rules put what they find.
#[derive(Debug, Default)]
pub struct Findings(Vec<Finding>);

impl Findings {
    pub fn report(&mut self, rule: &'static RuleMeta, location: Location, message: impl Into<String>) -> &mut Finding {
        self.0.push(Finding {
            rule,
            location,
            message: message.into(),
            help: None,
            redact: false,
            severity: None,
            related: Vec::new(),
        });
        self.0.last_mut().expect("just pushed")
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn extend(&mut self, other: Findings) {
        self.0.extend(other.0);
    }
}

impl Finding {
    pub fn help(&mut self, help: impl Into<String>) -> &mut Finding {
        self.help = Some(help.into());
        self
    }

    pub fn redact(&mut self) -> &mut Finding {
        self.redact = true;
        self
    }

    /// Gives this finding a severity other than its rule's.
    pub fn severity(&mut self, severity: Severity) -> &mut Finding {
        self.severity = Some(severity);
        self
    }

    /// Adds a further place that belongs to this finding.
    pub fn related(&mut self, location: Location, label: impl Into<String>) -> &mut Finding {
        self.related.push((location, label.into()));
        self
    }
}

/// A file's bytes as text. When they are not UTF-8, reports `rule` at the
/// first bad byte and returns, as the error, a lossy copy for the snippet.
pub fn text_or_report(
    bytes: Vec<u8>,
    rule: &'static RuleMeta,
    noun: &str,
    out: &mut Findings,
) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|error| {
        let at = error.utf8_error().valid_up_to();
        out.report(rule, Location::Offset(at), format!("the file is not UTF-8 (invalid byte at offset {at})"))
            .help(format!("save the {noun} as UTF-8"));
        String::from_utf8_lossy(error.as_bytes()).into_owned()
    })
}

/// A finding placed in its file.
#[derive(Debug)]
pub struct Diagnostic {
    pub rule: &'static RuleMeta,
    /// The rule's severity unless the configuration changes it.
    pub severity: Severity,
    pub span: Span,
    /// What the finding is about, in terms that do not move when lines are
    /// added above it (its route, or the text it points at), for
    /// fingerprints that follow a finding from one run to the next.
    pub anchor: String,
    pub message: String,
    pub help: Option<String>,
    pub redact: bool,
    /// Further places of the same finding, with their labels.
    pub related: Vec<Related>,
}

/// A further place of a finding (another use of the same variable).
#[derive(Debug)]
pub struct Related {
    pub span: Span,
    pub label: String,
}

/// One checked file: its root-relative path, its text (for snippets) and
/// what was found in it, sorted by position.
#[derive(Debug)]
pub struct FileReport {
    pub path: String,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileReport {
    /// Resolves findings against the file's text, read as `syntax`. A file
    /// with suppressions is resolved by `suppress`, which applies them
    /// (`FileReport::with_allows`).
    pub fn new(path: String, source: String, findings: Vec<Finding>, syntax: Syntax) -> FileReport {
        let mut resolver = Resolver::new(&source, syntax);
        let diagnostics =
            findings.into_iter().map(|finding| Diagnostic::resolve(finding, &mut resolver, &source)).collect();
        FileReport::sorted(path, source, diagnostics)
    }

    /// The report of a file's diagnostics, sorted by position.
    pub fn sorted(path: String, source: String, mut diagnostics: Vec<Diagnostic>) -> FileReport {
        diagnostics.sort_by(|a, b| (a.span.bytes.start, a.rule.code).cmp(&(b.span.bytes.start, b.rule.code)));
        FileReport { path, source, diagnostics }
    }
}

impl Diagnostic {
    /// A finding placed in the file's text.
    pub fn resolve(finding: Finding, resolver: &mut Resolver, source: &str) -> Diagnostic {
        let span = resolver.resolve(&finding.location);
        let related = finding
            .related
            .iter()
            .map(|(location, label)| Related { span: resolver.resolve(location), label: label.clone() })
            .collect();
        Diagnostic {
            anchor: anchor(&finding.location, &span, source, finding.redact),
            span,
            rule: finding.rule,
            severity: finding.severity.unwrap_or(finding.rule.severity),
            related,
            message: finding.message,
            help: finding.help,
            redact: finding.redact,
        }
    }
}

/// A finding's place independent of lines: its route and focus, or, for
/// places found by scanning, the text there (never a secret's).
fn anchor(location: &Location, span: &Span, source: &str, redact: bool) -> String {
    match location {
        Location::At { route, focus: Focus::Value } => route.to_string(),
        Location::At { route, focus: Focus::Key } => format!("{route} (key)"),
        Location::At { route, focus: Focus::Within(within) } => format!("{route} ({}..{})", within.start, within.end),
        Location::Offset(_) | Location::Bytes(_) if !redact => source[span.bytes.clone()].to_owned(),
        Location::Offset(_) | Location::Bytes(_) | Location::File => String::new(),
    }
}

/// Everything a lint run found.
#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<FileReport>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.files
            .iter()
            .flat_map(|file| &file.diagnostics)
            .filter(|diagnostic| diagnostic.severity == severity)
            .count()
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::with_article;

    #[test]
    fn articles_go_by_sound() {
        assert_eq!(with_article("`openstack`"), "an `openstack`");
        assert_eq!(with_article("`amazon-ebs`"), "an `amazon-ebs`");
        assert_eq!(with_article("`qemu`"), "a `qemu`");
        assert_eq!(with_article("`lxd`"), "an `lxd`");
        assert_eq!(with_article("`ucloud-uhost`"), "a `ucloud-uhost`");
        assert_eq!(with_article("`hyperv-iso`"), "a `hyperv-iso`");
    }
}
