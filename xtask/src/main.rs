//! `cargo xtask`: parses the command line (declared in `xtask::cli`) and
//! dispatches to one module per command. Nothing else lives here.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::ArgMatches;

use xtask::cli::{
    self, json_format, many, output_format, packer_version, read_lifecycle_selection, read_selection, root,
};
use xtask::project::workspace_root;
use xtask::{
    bench, catalogue, codegen, demo, images, install_hook, lifecycle, lint, lint_deployments, lint_templates,
    pre_commit, status,
};

fn main() -> ExitCode {
    let matches = cli::command().get_matches();
    xtask::render::set_colour(cli::colour(&matches));
    match run(&matches) {
        Ok(code) => code,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}

fn run(matches: &ArgMatches) -> Result<ExitCode> {
    // Every rule, handed to the commands that read rules by name.
    let rules = catalogue::registry();
    match matches.subcommand() {
        Some(("lint-templates", args)) => match cli::explain(args) {
            Some(rule) => catalogue::explain(&rules, rule, Some("PKR")),
            None => {
                let selection = read_selection(args)?;
                lint_templates::run(
                    &lint_templates::Options {
                        root: selection.root,
                        filter: selection.filter,
                        files: selection.paths,
                        var_files: many(args, "var-file"),
                        packer_version: packer_version(args),
                    },
                    output_format(args),
                    &rules,
                )
            }
        },
        Some(("lint-deployments", args)) => match cli::explain(args) {
            Some(rule) => catalogue::explain(&rules, rule, Some("DEP")),
            None => {
                let selection = read_selection(args)?;
                lint_deployments::run(
                    &lint_deployments::Options {
                        root: selection.root,
                        filter: selection.filter,
                        files: selection.paths,
                    },
                    output_format(args),
                    &rules,
                )
            }
        },
        Some(("lint", args)) => match cli::explain(args) {
            Some(rule) => catalogue::explain(&rules, rule, None),
            None => lint::run(
                read_selection(args)?,
                many(args, "var-file"),
                packer_version(args),
                output_format(args),
                &rules,
            ),
        },
        Some(("pre-commit", args)) => pre_commit::run(&cli::read_pre_commit(args)?, output_format(args), &rules),
        Some(("install-hook", args)) => install_hook::run(args.get_flag("force"), args.get_flag("uninstall")),
        Some(("images", args)) => {
            let selection = read_selection(args)?;
            let mut select: Vec<String> = many(args, "select");
            select.extend(selection.paths.iter().map(|path| path.to_string_lossy().into_owned()));
            images::run(&images::Options {
                root: selection.root,
                filter: selection.filter,
                regions: many(args, "region"),
                mode: cli::images_mode(args)?,
                force: args.get_flag("force"),
                jobs: args.get_one::<usize>("jobs").copied().unwrap_or(4),
                packer: args.get_one::<PathBuf>("packer").cloned(),
                vars: many(args, "var"),
                var_files: many(args, "var-file"),
                select,
                format: match args.get_one::<String>("format").map(String::as_str) {
                    Some("json") => images::Output::Json,
                    Some("github-matrix") => images::Output::GithubMatrix,
                    _ => images::Output::Human,
                },
                rules,
            })
        }
        Some(("promote", args)) => {
            let (root, selection) = read_lifecycle_selection(args)?;
            lifecycle::promote::run(&lifecycle::promote::Options {
                root,
                channel: args.get_one::<String>("to").cloned().unwrap_or_default(),
                selection,
                dry_run: args.get_flag("dry-run"),
                without_soak: args.get_flag("without-soak"),
                json: json_format(args),
            })
        }
        Some(("rollback", args)) => {
            let (root, selection) = read_lifecycle_selection(args)?;
            lifecycle::rollback::run(&lifecycle::rollback::Options {
                root,
                channel: args.get_one::<String>("channel").cloned().unwrap_or_default(),
                selection,
                dry_run: args.get_flag("dry-run"),
                json: json_format(args),
            })
        }
        Some(("revoke", args)) => {
            let (root, selection) = read_lifecycle_selection(args)?;
            lifecycle::revoke::run(&lifecycle::revoke::Options {
                root,
                ids: many(args, "ids"),
                reason: args.get_one::<String>("reason").cloned().unwrap_or_default(),
                selection,
                dry_run: args.get_flag("dry-run"),
                json: json_format(args),
            })
        }
        Some(("prune", args)) => {
            let (root, selection) = read_lifecycle_selection(args)?;
            let (older_than, older_than_text) =
                args.get_one::<(u64, String)>("older-than").cloned().unwrap_or_default();
            lifecycle::prune::run(&lifecycle::prune::Options {
                root,
                selection,
                policy: lifecycle::prune::select::Policy {
                    keep: args
                        .get_one::<usize>("keep")
                        .copied()
                        .unwrap_or_else(|| lifecycle::prune::select::Policy::default().keep),
                    older_than,
                    older_than_text,
                },
                execute: args.get_flag("execute"),
                aws_cli: args.get_one::<PathBuf>("aws-cli").cloned(),
                json: json_format(args),
            })
        }
        Some(("status", args)) => status::run(&read_selection(args)?, output_format(args)),
        Some(("bench", args)) => match args.subcommand() {
            Some(("lint-templates", args)) => bench::lint_templates(
                args.get_one::<usize>("templates").copied().unwrap_or(1000),
                args.get_one::<PathBuf>("packer").map(PathBuf::as_path),
                args.get_flag("hcl2"),
            ),
            Some(("findings", args)) => bench::findings(args.get_one::<usize>("findings").copied().unwrap_or(10_000)),
            Some(("pre-commit", _)) => bench::pre_commit(),
            Some(("cold-build", _)) => bench::cold_build(),
            Some(("images", args)) => bench::images(args.get_one::<PathBuf>("packer").map(PathBuf::as_path)),
            _ => unreachable!("clap requires a bench subcommand"),
        },
        Some(("demo", args)) => demo::run(&root(args)?, args.get_one::<PathBuf>("packer").map(PathBuf::as_path)),
        Some(("codegen", args)) => {
            let mirrors = args.get_one::<PathBuf>("packer-mirrors").map(PathBuf::as_path);
            codegen::run(&workspace_root()?, args.get_flag("check"), mirrors)
        }
        _ => unreachable!("clap requires a subcommand"),
    }
}
