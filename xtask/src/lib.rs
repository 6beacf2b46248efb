//! The repository's workspace tool: `cargo xtask <command>`. `main.rs` parses
//! the command line and dispatches to one module per command; the modules
//! below them are the shared pieces every command uses.

pub mod codegen;
pub mod diagnostic;
pub mod gotmpl;
pub mod lint_templates;
pub mod location;
pub mod project;
pub mod render;
pub mod template;
