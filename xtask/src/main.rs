//! `cargo xtask`: parses the command line and dispatches to one module per
//! command. Nothing else lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use xtask::project::{Filter, workspace_root};
use xtask::render::Format;
use xtask::{codegen, images, lint_templates};

/// The infrastructure repository's workspace tool: lints the Packer
/// templates, builds the machine images and wires them into the deployments.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint every packer/<release>/<cloud>/<image>/template.json.
    LintTemplates(LintTemplatesArgs),
    /// Build the templates with Packer and write the image IDs into the deployments.
    Images(ImagesArgs),
    /// Regenerate the README's rule table (or check it with --check).
    Codegen {
        /// Fail instead of writing when the README is out of date.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Args)]
struct Selection {
    /// The repository's top folder [default: the workspace root].
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Only templates of this release (repeatable).
    #[arg(long = "release", value_name = "R")]
    releases: Vec<String>,
    /// Only templates of this cloud (repeatable).
    #[arg(long = "cloud", value_name = "C")]
    clouds: Vec<String>,
}

impl Selection {
    fn root(&self) -> PathBuf {
        self.root.clone().unwrap_or_else(workspace_root)
    }

    fn filter(&self) -> Filter {
        Filter {
            releases: self.releases.clone(),
            clouds: self.clouds.clone(),
        }
    }
}

#[derive(Args)]
struct LintTemplatesArgs {
    #[command(flatten)]
    selection: Selection,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Print a rule's documentation (by code or name) and exit.
    #[arg(long, value_name = "RULE")]
    explain: Option<String>,
    /// A var file whose variables count as declared (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// Lint only these template files.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct ImagesArgs {
    #[command(flatten)]
    selection: Selection,
    /// Only the builders for this AWS region, through Packer's -only (repeatable).
    #[arg(long = "region", value_name = "R")]
    regions: Vec<String>,
    /// Print what would be built and patched, without running Packer.
    #[arg(long)]
    dry_run: bool,
    /// Rebuild templates whose inputs have not changed since their last build.
    #[arg(long)]
    force: bool,
    /// How many templates to build side by side.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 4)]
    jobs: usize,
    /// The packer executable [default: $PACKER, then PATH].
    #[arg(long, value_name = "PATH")]
    packer: Option<PathBuf>,
    /// A variable for Packer, passed through as -var (repeatable).
    #[arg(long = "var", value_name = "K=V", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// A var file for Packer, passed through as -var-file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// Patch from these manifest files (Packer's manifest post-processor)
    /// instead of building.
    #[arg(long = "patch-from", value_name = "MANIFEST", num_args = 1..)]
    patch_from: Vec<PathBuf>,
    /// Output format of the result.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::LintTemplates(args) => match args.explain {
            Some(rule) => lint_templates::explain(&rule),
            None => lint_templates::run(
                &lint_templates::Options {
                    root: args.selection.root(),
                    filter: args.selection.filter(),
                    files: args.files,
                    var_files: args.var_files,
                },
                args.format,
            ),
        },
        Command::Images(args) => images::run(&images::Options {
            root: args.selection.root(),
            filter: args.selection.filter(),
            regions: args.regions,
            dry_run: args.dry_run,
            force: args.force,
            jobs: args.jobs,
            packer: args.packer,
            vars: args.vars,
            var_files: args.var_files,
            patch_from: args.patch_from,
            format: args.format,
        }),
        Command::Codegen { check } => codegen::run(&workspace_root(), check),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
