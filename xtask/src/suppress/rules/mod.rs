//! The rules about suppressions, which both linters report: one file each,
//! laid out like the linters' rules, its doc comment its documentation.

use crate::diagnostic::RuleMeta;

mod invalid_allow;
mod unused_allow;

pub use invalid_allow::RULE as INVALID_ALLOW;
pub use unused_allow::RULE as UNUSED_ALLOW;

/// Every suppression rule, in code order.
pub static RULES: &[&RuleMeta] = &[&unused_allow::RULE, &invalid_allow::RULE];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_complete() {
        for rule in RULES {
            for section in ["## What it does", "## Why is this bad?", "## Example", "## Fix"] {
                assert!(rule.doc.contains(section), "{} has no `{section}` in its doc", rule.name);
            }
        }
    }
}
