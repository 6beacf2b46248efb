//! The repository's workspace tool: `cargo xtask <command>`. `main.rs` parses
//! the command line and dispatches to one module per command; the modules
//! below them are the shared pieces every command uses.

/// Declares a lint rule in a file of a `rules` folder: its doc comment (What
/// it does / Why is this bad? / Example / Fix) becomes its documentation.
/// `super::Rule` is the linter's rule type; a template rule also says
/// how it checks HCL2 templates (`hcl2: None` when it has no meaning there).
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        code: $code:literal, name: $name:literal, severity: $severity:ident, check: $check:expr
        $(, hcl2: $hcl2:expr)? $(,)?
    ) => {
        pub static RULE: super::Rule = super::Rule {
            meta: $crate::diagnostic::RuleMeta {
                code: $code,
                name: $name,
                severity: $crate::diagnostic::Severity::$severity,
                doc: concat!($($doc, "\n"),*),
            },
            check: $check,
            $(hcl2: $hcl2,)?
        };
    };
}

pub mod bench;
pub mod codegen;
pub mod demo;
pub mod deployments;
pub mod diagnostic;
pub mod fsutil;
pub mod gotmpl;
pub mod hcl2;
pub mod images;
pub mod install_hook;
pub mod lint;
pub mod lint_deployments;
pub mod lint_templates;
pub mod location;
pub mod lock;
pub mod moto;
pub mod packer;
pub mod patch;
pub mod pre_commit;
pub mod project;
pub mod render;
pub mod schema;
pub mod secrets;
pub mod template;
pub mod yaml;
