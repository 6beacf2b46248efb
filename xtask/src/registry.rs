//! The rule registry: every rule xtask reports, in one order, found by code
//! or name (as ruff's `registry.rs`). The rules are declared above this
//! layer, each in its own file (`lint_templates::rules`,
//! `lint_deployments::rules`) or beside the machinery that reports them
//! (`suppress::rules`); the commands gather them into one [`Registry`]
//! (`catalogue::registry`) and pass it to what reads rules by name:
//! `config` (`[rules]`, `[per-file-ignores]`), `suppress` (`allow(rule)`)
//! and `render` (SARIF's list of rules), so that none of them reaches up
//! into a linter for it.

use crate::diagnostic::RuleMeta;

/// Every rule, in the order the catalogue lists them: the templates',
/// then the deployments', then the suppressions'. SARIF's `ruleIndex`
/// counts in this order.
#[derive(Debug, Clone)]
pub struct Registry {
    rules: Vec<&'static RuleMeta>,
}

impl Registry {
    pub fn new(rules: impl IntoIterator<Item = &'static RuleMeta>) -> Registry {
        Registry { rules: rules.into_iter().collect() }
    }

    pub fn rules(&self) -> &[&'static RuleMeta] {
        &self.rules
    }

    /// The rule of this code (`PKR201`, in any case) or name
    /// (`undeclared-variable`); of a name two linters share
    /// (`duplicate-key`), the first in the registry's order.
    pub fn find(&self, code_or_name: &str) -> Option<&'static RuleMeta> {
        self.matching(code_or_name).next()
    }

    /// [`Registry::find`], but of a name two linters share, the rule of
    /// the linter whose codes start with `own` (`DEP` in a deployment).
    pub fn find_own(&self, code_or_name: &str, own: &str) -> Option<&'static RuleMeta> {
        self.matching(code_or_name).find(|rule| rule.code.starts_with(own)).or_else(|| self.find(code_or_name))
    }

    /// Every rule of this code or name, in the registry's order.
    pub fn matching<'a>(&'a self, code_or_name: &'a str) -> impl Iterator<Item = &'static RuleMeta> + 'a {
        self.rules
            .iter()
            .copied()
            .filter(move |rule| rule.code.eq_ignore_ascii_case(code_or_name) || rule.name == code_or_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    static TEMPLATE_KEY: RuleMeta =
        RuleMeta { code: "PKR001", name: "duplicate-key", severity: Severity::Error, doc: "" };
    static DEPLOYMENT_KEY: RuleMeta =
        RuleMeta { code: "DEP001", name: "duplicate-key", severity: Severity::Error, doc: "" };
    static REGION: RuleMeta =
        RuleMeta { code: "PKR107", name: "duplicate-region", severity: Severity::Warning, doc: "" };

    #[test]
    fn rules_are_found_by_code_in_any_case_and_by_exact_name() {
        let registry = Registry::new([&TEMPLATE_KEY, &DEPLOYMENT_KEY, &REGION]);
        assert_eq!(registry.find("pkr107").map(|rule| rule.name), Some("duplicate-region"));
        assert_eq!(registry.find("duplicate-region").map(|rule| rule.code), Some("PKR107"));
        assert!(registry.find("Duplicate-Region").is_none(), "names are written in lower case");
        assert!(registry.find("no-such-rule").is_none());
        let shared: Vec<&str> = registry.matching("duplicate-key").map(|rule| rule.code).collect();
        assert_eq!(shared, ["PKR001", "DEP001"]);
        assert_eq!(registry.find("duplicate-key").map(|rule| rule.code), Some("PKR001"), "the first of a name");
        assert_eq!(registry.find_own("duplicate-key", "DEP").map(|rule| rule.code), Some("DEP001"));
        assert_eq!(registry.find_own("duplicate-region", "DEP").map(|rule| rule.code), Some("PKR107"));
    }
}
