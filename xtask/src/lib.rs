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
    // A rule that no linter's check reports: the machinery around the
    // checks does (suppressions), so it is the rule's description alone.
    (
        $(#[doc = $doc:literal])*
        code: $code:literal, name: $name:literal, severity: $severity:ident $(,)?
    ) => {
        pub static RULE: $crate::diagnostic::RuleMeta = $crate::diagnostic::RuleMeta {
            code: $code,
            name: $name,
            severity: $crate::diagnostic::Severity::$severity,
            doc: concat!($($doc, "\n"),*),
        };
    };
}

/// Writes a line to standard error, and never panics: a reader that went
/// away (`| head`, a `tee` killed by the same Ctrl-C) must not stop xtask
/// before it has passed an interrupt on to Packer or finished its writes.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Writes to standard output, and never panics (see `say!`).
macro_rules! show {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `show!` with a line end.
macro_rules! show_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// True when the calling test is one of the slow ones and `RUN_SLOW_TESTS`
/// is not set, so that a local `cargo test` answers in well under a minute
/// (rust-analyzer's `skip_slow_tests`): the test returns at once, after a
/// `skipped:` line (which `.ci/test` counts) saying how to run it. `.ci/test`
/// always sets the switch, so CI runs every test. `takes` says what makes
/// the test slow. For the tests, here and in `tests/`; never called by xtask.
#[doc(hidden)]
pub fn skip_slow_test(takes: &str) -> bool {
    if std::env::var_os("RUN_SLOW_TESTS").is_some_and(|value| !value.is_empty()) {
        return false;
    }
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    say!("skipped: {test}: a slow test ({takes}); run it with RUN_SLOW_TESTS=1 cargo test, or .ci/test");
    true
}

pub mod aws;
pub mod bench;
pub mod catalogue;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod codegen;
pub mod config;
pub mod demo;
pub mod deployments;
pub mod diagnostic;
pub mod fingerprint;
pub mod freshness;
pub mod fsutil;
pub mod gotmpl;
pub mod hcl2;
pub mod image_id;
pub mod images;
pub mod install_hook;
pub mod json;
pub mod lifecycle;
pub mod lint;
pub mod lint_deployments;
pub mod lint_templates;
pub mod location;
pub mod lock;
pub mod moto;
pub mod packer;
pub mod patch;
pub mod plugins;
pub mod pre_commit;
pub mod printable;
pub mod private_vars;
pub mod project;
pub mod protected;
pub mod readout;
pub mod regions;
pub mod registry;
pub mod render;
pub mod run_guard;
pub mod schema;
pub mod secrets;
pub mod spelling;
pub mod status;
pub mod suppress;
pub mod template;
#[cfg(test)]
mod tidy;
pub mod var_values;
pub mod version;
pub mod yaml;
