//! Suppressions written in the linted file itself, `allow(rule, …): reason`:
//! in a template the root comment key `_xtask` (Packer ignores root keys
//! that start with `_` and hold a string), in a deployment a comment
//! `# xtask: allow(…): reason`, for the whole file when it comes before the
//! first key, else for the line below it; in an HCL2 template file the
//! same as a `#` or `//` comment. An allow that silences nothing
//! is reported (`unused-allow`), as is one that cannot be read or gives no
//! reason (`invalid-allow`).

pub mod rules;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, FileReport, Finding, Findings, RuleMeta};
use crate::location::{Location, Resolver, Route, Span, Syntax};
use crate::registry::Registry;
use crate::template::Template;

use rules::{INVALID_ALLOW, UNUSED_ALLOW};

/// The root key of a template that holds its allow.
pub const TEMPLATE_KEY: &str = "_xtask";

/// How the codes of each linter's rules start: of a name both linters use
/// (`duplicate-key`), an allow means the rule of the file's own linter.
const TEMPLATE_CODES: &str = "PKR";
const DEPLOYMENT_CODES: &str = "DEP";

/// Which findings an allow silences.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    File,
    /// Those that start on the line after the allow.
    NextLine,
}

/// One `allow(…)` as written.
#[derive(Debug)]
pub struct Allow {
    /// Where it is written: the `_xtask` value, the comment.
    pub location: Location,
    pub scope: Scope,
    pub rules: Vec<&'static RuleMeta>,
}

/// The allow of a template, from its `_xtask` key; its rules are looked
/// up in `rules`.
pub fn template_allows(template: &Template, rules: &Registry, out: &mut Findings) -> Vec<Allow> {
    let Some(Value::String(text)) = template.root.get(TEMPLATE_KEY) else { return Vec::new() };
    let location = Location::value(Route::root().key(TEMPLATE_KEY));
    directive(text, location, Scope::File, rules, TEMPLATE_CODES, out).into_iter().collect()
}

/// The allows of a deployment, from its `# xtask:` comments. Comments are
/// told from text by where their line starts, so a `#` line inside a block
/// scalar would count as one too.
pub fn yaml_allows(source: &str, rules: &Registry, out: &mut Findings) -> Vec<Allow> {
    comment_allows(source, &["#"], &["---"], rules, DEPLOYMENT_CODES, out)
}

/// The allows of an HCL2 template file, from its `# xtask:` or
/// `// xtask:` comments: for the whole file before its first block or
/// setting, else for the line below.
pub fn hcl_allows(source: &str, rules: &Registry, out: &mut Findings) -> Vec<Allow> {
    comment_allows(source, &["#", "//"], &[], rules, TEMPLATE_CODES, out)
}

/// Allows written as line comments that start with one of `markers`;
/// lines that start with one of `ignored` do not end the file's head.
fn comment_allows(
    source: &str,
    markers: &[&str],
    ignored: &[&str],
    rules: &Registry,
    own: &str,
    out: &mut Findings,
) -> Vec<Allow> {
    let mut allows = Vec::new();
    let mut before_first_key = true;
    let mut start = 0;
    for line in source.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(comment) = markers.iter().find_map(|marker| trimmed.strip_prefix(marker)) {
            if let Some(text) = comment.trim_start().strip_prefix("xtask:") {
                let comment_bytes = start + indent..start + line.trim_end().len();
                let scope = if before_first_key { Scope::File } else { Scope::NextLine };
                allows.extend(directive(text.trim(), Location::Bytes(comment_bytes), scope, rules, own, out));
            }
        } else if !trimmed.is_empty() && !ignored.iter().any(|prefix| trimmed.starts_with(prefix)) {
            before_first_key = false;
        }
        start += line.len();
    }
    allows
}

/// Takes out of the allows the rules that did not run on this file (a
/// rule that needs a lock file there is none of): they cannot have
/// silenced anything, and saying so would be wrong.
pub fn only_rules_that_ran(allows: &mut Vec<Allow>, not_run: &[&str]) {
    for allow in allows.iter_mut() {
        allow.rules.retain(|rule| !not_run.contains(&rule.name));
    }
    allows.retain(|allow| !allow.rules.is_empty());
}

/// Reads `allow(rule, …): reason`, reporting what is wrong with it; the
/// rules named are looked up in the registry, a name two linters share
/// taken as the rule of the linter whose codes start as `own`'s.
fn directive(
    text: &str,
    location: Location,
    scope: Scope,
    registry: &Registry,
    own: &str,
    out: &mut Findings,
) -> Option<Allow> {
    let parsed = text.strip_prefix("allow(").and_then(|rest| rest.split_once(')'));
    let Some((names, rest)) = parsed else {
        out.report(&INVALID_ALLOW, location, format!("`{text}` is not an allow"))
            .help("write `allow(rule, …): reason`, naming rules by name or code");
        return None;
    };
    let mut rules = Vec::new();
    for name in names.split(',').map(str::trim) {
        match registry.find_own(name, own) {
            Some(rule) => rules.push(rule),
            None => {
                out.report(&INVALID_ALLOW, location.clone(), format!("`{name}` is not a rule"))
                    .help("name rules as `--explain` does, by name (`duplicate-region`) or code (`PKR107`)");
            }
        }
    }
    let reason = rest.trim_start().strip_prefix(':').map(str::trim).unwrap_or_default();
    if reason.is_empty() {
        out.report(&INVALID_ALLOW, location.clone(), "the allow gives no reason")
            .help(format!("say why after a colon: `allow({}): <why this is acceptable here>`", names.trim()));
    }
    (!rules.is_empty()).then_some(Allow { location, scope, rules })
}

impl FileReport {
    /// Resolves findings, drops those the file's allows silence and reports
    /// the allows that silence nothing. Here rather than beside
    /// [`FileReport::new`], so that diagnostics know nothing of suppressions.
    pub fn with_allows(
        path: String,
        source: String,
        findings: Vec<Finding>,
        allows: &[Allow],
        syntax: Syntax,
    ) -> FileReport {
        let mut resolver = Resolver::new(&source, syntax);
        let mut diagnostics: Vec<Diagnostic> =
            findings.into_iter().map(|finding| Diagnostic::resolve(finding, &mut resolver, &source)).collect();
        if !allows.is_empty() {
            let spans: Vec<Span> = allows.iter().map(|allow| resolver.resolve(&allow.location)).collect();
            let unused = apply(&mut diagnostics, allows, &spans);
            diagnostics.extend(unused.into_iter().map(|finding| Diagnostic::resolve(finding, &mut resolver, &source)));
        }
        FileReport::sorted(path, source, diagnostics)
    }
}

/// Drops the diagnostics the allows silence (`spans` are where the allows
/// are) and returns an `unused-allow` finding for each rule of an allow that
/// silenced nothing.
pub fn apply(diagnostics: &mut Vec<Diagnostic>, allows: &[Allow], spans: &[Span]) -> Vec<Finding> {
    let mut used: Vec<Vec<bool>> = allows.iter().map(|allow| vec![false; allow.rules.len()]).collect();
    diagnostics.retain(|diagnostic| {
        let mut silenced = false;
        for (at, (allow, span)) in allows.iter().zip(spans).enumerate() {
            let applies = match allow.scope {
                Scope::File => true,
                Scope::NextLine => diagnostic.span.line == span.end_line + 1,
            };
            if let Some(rule) = allow.rules.iter().position(|rule| rule.code == diagnostic.rule.code)
                && applies
            {
                used[at][rule] = true;
                silenced = true;
            }
        }
        !silenced
    });
    let mut unused = Findings::default();
    for (allow, used) in allows.iter().zip(used) {
        for (rule, _) in allow.rules.iter().zip(used).filter(|(_, used)| !used) {
            let place = match allow.scope {
                Scope::File => "in this file",
                Scope::NextLine => "on the line below",
            };
            unused
                .report(&UNUSED_ALLOW, allow.location.clone(), format!("`allow({})` silences nothing", rule.name))
                .help(format!("no `{}` finding is {place}: remove it from the allow", rule.name));
        }
    }
    unused.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    /// The rules these tests name, as the linters declare them.
    fn registry() -> Registry {
        static RULES: [RuleMeta; 6] = [
            RuleMeta { code: "PKR006", name: "duplicate-key", severity: Severity::Error, doc: "" },
            RuleMeta { code: "PKR107", name: "duplicate-region", severity: Severity::Error, doc: "" },
            RuleMeta { code: "PKR201", name: "undeclared-variable", severity: Severity::Error, doc: "" },
            RuleMeta { code: "DEP009", name: "stale-image", severity: Severity::Warning, doc: "" },
            RuleMeta { code: "DEP002", name: "duplicate-key", severity: Severity::Error, doc: "" },
            RuleMeta { code: "DEP010", name: "unknown-image", severity: Severity::Error, doc: "" },
        ];
        Registry::new(&RULES)
    }

    fn read(text: &str) -> (Option<Allow>, Vec<String>) {
        let mut out = Findings::default();
        let allow = directive(text, Location::File, Scope::File, &registry(), TEMPLATE_CODES, &mut out);
        (allow, out.into_vec().into_iter().map(|finding| finding.message).collect())
    }

    #[test]
    fn directives() {
        let (allow, problems) = read("allow(duplicate-region, PKR201): one image per OS per region");
        let names: Vec<&str> = allow.unwrap().rules.iter().map(|rule| rule.name).collect();
        assert_eq!(names, ["duplicate-region", "undeclared-variable"]);
        assert!(problems.is_empty());
        let (allow, problems) = read("allow(duplicate-region)");
        assert!(allow.is_some(), "an allow without a reason still silences");
        assert_eq!(problems, ["the allow gives no reason"]);
        assert_eq!(read("allow(nothing): x").1, ["`nothing` is not a rule"]);
        assert_eq!(read("deny(x): y").1, ["`deny(x): y` is not an allow"]);
    }

    #[test]
    fn a_name_both_linters_use_means_the_files_own_rule() {
        let codes = |allows: Vec<Allow>| -> Vec<&str> { allows[0].rules.iter().map(|rule| rule.code).collect() };
        let mut out = Findings::default();
        assert_eq!(codes(yaml_allows("# xtask: allow(duplicate-key): a\n", &registry(), &mut out)), ["DEP002"]);
        assert_eq!(codes(hcl_allows("// xtask: allow(duplicate-key): a\n", &registry(), &mut out)), ["PKR006"]);
        assert_eq!(codes(yaml_allows("# xtask: allow(PKR006): a\n", &registry(), &mut out)), ["PKR006"]);
        assert!(out.into_vec().is_empty());
    }

    #[test]
    fn yaml_comments_before_the_first_key_cover_the_file() {
        let source = "---\n# xtask: allow(stale-image): a\nrelease: '3.11'\n  # xtask: allow(unknown-image): b\nx: 1\n";
        let scopes: Vec<Scope> =
            yaml_allows(source, &registry(), &mut Findings::default()).iter().map(|a| a.scope).collect();
        assert_eq!(scopes, [Scope::File, Scope::NextLine]);
    }
}
