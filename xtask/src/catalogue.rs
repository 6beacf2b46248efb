//! The catalogue: every rule xtask has, gathered from where each is
//! declared into the one [`Registry`] that `main` builds and the commands
//! pass down to `config`, `suppress` and `render`; and `--explain`, which
//! lists the rules and shows one's documentation. It sits above both
//! linters, the only place that sees them both.

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::diagnostic::RuleMeta;
use crate::registry::Registry;
use crate::{lint_deployments, lint_templates, suppress};

/// Every rule of every linter, templates' first, then deployments', then
/// the suppressions': the catalogue that `--explain` searches and SARIF's
/// `ruleIndex` counts in.
pub fn registry() -> Registry {
    let templates = lint_templates::rules::RULES.iter().map(|rule| &rule.meta);
    let deployments = lint_deployments::rules::RULES.iter().map(|rule| &rule.meta);
    Registry::new(templates.chain(deployments).chain(suppress::rules::RULES.iter().copied()))
}

/// `--explain` without a rule: one line per rule of the asking command's
/// catalogue (`own`, with the suppressions' rules) or of every catalogue,
/// and how to read one.
fn rule_list(registry: &Registry, own: Option<&str>) -> String {
    let mut out = String::new();
    for rule in registry.rules() {
        let listed = match own {
            Some(prefix) => {
                rule.code.starts_with(prefix) || suppress::rules::RULES.iter().any(|shared| shared.code == rule.code)
            }
            None => true,
        };
        if listed {
            out.push_str(&format!("{:<7} {:<36} {}\n", rule.code, rule.name, rule.severity));
        }
    }
    out.push_str("Run with --explain RULE (a code or a name) for a rule's documentation.\n");
    out
}

/// `--explain RULE` over every catalogue. A name two linters share
/// (`duplicate-key`) is taken from `own`, the catalogue of the command that
/// asks, when it has one; `lint` shows every rule of that name.
pub fn explain(registry: &Registry, code_or_name: &str, own: Option<&str>) -> Result<ExitCode> {
    if code_or_name.is_empty() {
        show!("{}", rule_list(registry, own));
        return Ok(ExitCode::SUCCESS);
    }
    let matching: Vec<&RuleMeta> = registry.matching(code_or_name).collect();
    if matching.is_empty() {
        let rules = registry.rules();
        if let Some(name) = crate::spelling::suggest(code_or_name, rules.iter().map(|rule| rule.name)) {
            bail!("there is no rule `{code_or_name}`; did you mean `{name}`?");
        }
        let known: Vec<String> = rules.iter().map(|rule| format!("{} {}", rule.code, rule.name)).collect();
        bail!("there is no rule `{code_or_name}`; the rules are: {}", known.join(", "));
    }
    let preferred: Vec<&RuleMeta> =
        matching.iter().copied().filter(|rule| own.is_some_and(|prefix| rule.code.starts_with(prefix))).collect();
    let shown = if preferred.is_empty() { matching } else { preferred };
    let texts: Vec<String> = shown
        .iter()
        .map(|rule| format!("{} {} ({})\n\n{}", rule.code, rule.name, rule.severity, rule.doc_text()))
        .collect();
    show_line!("{}", texts.join("\n\n---\n\n"));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_registry_holds_every_rule_once_in_the_catalogues_order() {
        let registry = registry();
        let codes: Vec<&str> = registry.rules().iter().map(|rule| rule.code).collect();
        let unique: BTreeSet<&str> = codes.iter().copied().collect();
        assert_eq!(unique.len(), codes.len(), "a code is used twice: {codes:?}");
        let groups: Vec<&str> = codes.iter().map(|code| &code[..3]).collect();
        let first = |prefix| groups.iter().position(|group| *group == prefix).unwrap();
        let last = |prefix| groups.iter().rposition(|group| *group == prefix).unwrap();
        assert!(last("PKR") < first("DEP") && last("DEP") < first("XTK"), "templates', deployments', suppressions'");
        assert_eq!(
            codes.len(),
            lint_templates::rules::RULES.len() + lint_deployments::rules::RULES.len() + suppress::rules::RULES.len()
        );
    }

    #[test]
    fn a_commands_list_has_its_own_rules_and_the_suppressions() {
        let registry = registry();
        let deployments = rule_list(&registry, Some("DEP"));
        assert!(deployments.contains("DEP009  stale-image") && deployments.contains("XTK001  unused-allow"));
        assert!(!deployments.contains("PKR"), "{deployments}");
        let every = rule_list(&registry, None);
        assert_eq!(every.lines().count(), registry.rules().len() + 1, "a line per rule and how to read one");
    }

    #[test]
    fn an_unknown_rule_is_answered_with_the_nearest_name_or_the_list() {
        let registry = registry();
        let near = explain(&registry, "duplicat-region", None).unwrap_err().to_string();
        assert_eq!(near, "there is no rule `duplicat-region`; did you mean `duplicate-region`?");
        let far = explain(&registry, "zzzzzzzzzzzz", Some("PKR")).unwrap_err().to_string();
        assert!(far.starts_with("there is no rule `zzzzzzzzzzzz`; the rules are: PKR001 "), "{far}");
        assert!(far.contains("DEP009 stale-image") && far.ends_with("XTK002 invalid-allow"), "{far}");
    }
}
