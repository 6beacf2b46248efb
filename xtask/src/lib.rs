//! The repository's workspace tool: `cargo xtask <command>`. `main.rs` parses
//! the command line and dispatches to one module per command; the modules
//! below them are the shared pieces every command uses.

pub mod bench;
pub mod codegen;
pub mod deployments;
pub mod diagnostic;
pub mod fsutil;
pub mod gotmpl;
pub mod images;
pub mod lint_templates;
pub mod location;
pub mod moto;
pub mod packer;
pub mod project;
pub mod render;
pub mod template;
pub mod yaml;
