//! `cargo xtask`: parses the command line and dispatches to one module per
//! command. Nothing else lives here. The command line is declared with
//! clap's builder rather than its derive, which would cost every user a
//! proc-macro build on their first run.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};

use xtask::project::{Filter, workspace_root};
use xtask::render::Format;
use xtask::{bench, codegen, demo, images, install_hook, lint, lint_deployments, lint_templates, pre_commit};

fn cli() -> Command {
    Command::new("cargo xtask")
        .bin_name("cargo xtask")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The infrastructure repository's workspace tool: lints the Packer templates, builds the machine images and wires them into the deployments.")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("lint-templates")
                .about("Lint every template under packer/<release>/<cloud>/<image>/ (template.json or *.pkr.hcl)")
                .args(selection())
                .args(lint_output())
                .arg(explain_arg())
                .arg(var_file_arg("A var file whose variables count as declared (repeatable)"))
                .arg(packer_version_arg())
                .arg(files_arg("Lint only these templates: template.json files, HCL2 files, or folders (a template's, or one above it: every template below)")),
        )
        .subcommand(
            Command::new("lint-deployments")
                .about("Lint every deployments/*.yaml against the templates and packer/images.lock")
                .arg(root_arg())
                .args(lint_output())
                .arg(explain_arg())
                .arg(files_arg("Lint only these deployment files (a folder: the *.yaml files in it)")),
        )
        .subcommand(
            Command::new("lint")
                .about("Run lint-templates and lint-deployments in one pass")
                .arg(root_arg())
                .args(lint_output())
                .arg(explain_arg())
                .arg(var_file_arg("A var file whose variables count as declared (repeatable)"))
                .arg(packer_version_arg()),
        )
        .subcommand(
            Command::new("pre-commit")
                .about("Lint what is staged for commit (the index, not the working tree); run by the git hook")
                .args(lint_output())
                .arg(packer_version_arg()),
        )
        .subcommand(
            Command::new("install-hook")
                .about("Install the git pre-commit hook that runs `cargo xtask pre-commit`")
                .arg(flag("force", "Replace a pre-commit hook this command did not write"))
                .arg(flag("uninstall", "Remove the hook this command wrote, and put back the one --force replaced")),
        )
        .subcommand(
            Command::new("images")
                .about("Build the templates with Packer and write the image IDs into the deployments")
                .args(selection())
                .arg(
                    Arg::new("region")
                        .long("region")
                        .value_name("R")
                        .action(ArgAction::Append)
                        .help("Only the builders for this AWS region, through Packer's -only (repeatable)"),
                )
                .arg(flag("dry-run", "Print what would be built and patched, without running Packer"))
                .arg(flag(
                    "force",
                    "Rebuild templates whose inputs have not changed since their last build; with --apply or \
                     --patch-from, apply a result or manifest even though the lock has other images for its \
                     regions since, or its date is ahead",
                ))
                .arg(
                    Arg::new("jobs")
                        .long("jobs")
                        .short('j')
                        .value_name("N")
                        .default_value("4")
                        .value_parser(value_parser!(usize))
                        .help("How many templates to build side by side"),
                )
                .arg(packer_arg())
                .arg(
                    Arg::new("var")
                        .long("var")
                        .value_name("K=V")
                        .action(ArgAction::Append)
                        .value_parser(parse_var)
                        .help("A variable, passed as -var to the templates that declare it (repeatable)"),
                )
                .arg(var_file_arg("A var file for Packer, passed as -var-file (.pkrvars.hcl ones to HCL2 folders only; repeatable)"))
                .arg(
                    Arg::new("patch-from")
                        .long("patch-from")
                        .value_name("MANIFEST")
                        .num_args(1..)
                        .value_parser(value_parser!(PathBuf))
                        .help("Patch from manifest files written by Packer's manifest post-processor, without building"),
                )
                .arg(flag("plan", "Print what needs building and why, without building (for a CI matrix: --format github-matrix)"))
                .arg(
                    Arg::new("select")
                        .long("select")
                        .value_name("FOLDER")
                        .action(ArgAction::Append)
                        .help("Only the template in this folder, e.g. packer/3.11/aws/machine-image (repeatable)"),
                )
                .arg(
                    flag(
                        "build-only",
                        "Build the selected template and write its result (--result); touch no deployment and no lock",
                    )
                    .conflicts_with_all(["patch-from", "plan", "dry-run"]),
                )
                .arg(
                    Arg::new("result")
                        .long("result")
                        .value_name("FILE")
                        .value_parser(value_parser!(PathBuf))
                        .requires("build-only")
                        .help("Where --build-only writes the build's result, for --apply"),
                )
                .arg(
                    Arg::new("apply")
                        .long("apply")
                        .value_name("RESULT")
                        .num_args(1..)
                        .value_parser(value_parser!(PathBuf))
                        .conflicts_with_all([
                            "build-only",
                            "patch-from",
                            "plan",
                            "dry-run",
                            "select",
                            "release",
                            "cloud",
                            "region",
                        ])
                        .help("Record the results of builds run elsewhere (--build-only) and patch the deployments"),
                )
                .arg(format().value_parser(["human", "json", "github-matrix"])),
        )
        .subcommand(
            Command::new("promote")
                .about(
                    "Give the deployments of a channel the image the channel before it boots, per template and region, \
                     once it has soaked",
                )
                .arg(
                    Arg::new("to")
                        .long("to")
                        .value_name("CHANNEL")
                        .required(true)
                        .help("The channel to promote into (a later one of [channels] order in xtask.toml)"),
                )
                .args(lifecycle_selection())
                .arg(flag("dry-run", "Print what would be promoted and why, without writing"))
                .arg(flag(
                    "without-soak",
                    "Promote images that have not run in the channel before for its soak yet (an urgent fix); the \
                     other checks hold",
                ))
                .arg(format().value_parser(["human", "json"])),
        )
        .subcommand(
            Command::new("rollback")
                .about(
                    "Put the deployments of a channel back on the newest image it booted before its current one that \
                     is not revoked, per template and region",
                )
                .arg(
                    Arg::new("channel")
                        .long("channel")
                        .value_name("CHANNEL")
                        .required(true)
                        .help("The channel to roll back (one of [channels] order in xtask.toml)"),
                )
                .args(lifecycle_selection())
                .arg(flag("dry-run", "Print what would be rolled back and why, without writing"))
                .arg(format().value_parser(["human", "json"])),
        )
        .subcommand(
            Command::new("revoke")
                .about("Record in packer/images.lock that images must not be booted, when and why")
                .arg(
                    Arg::new("ids")
                        .value_name("IMAGE_ID")
                        .num_args(1..)
                        .required(true)
                        .help("The images to revoke, as packer/images.lock records them"),
                )
                .arg(
                    Arg::new("reason")
                        .long("reason")
                        .value_name("TEXT")
                        .required(true)
                        .help("Why, for the lock and every message that names the image (a CVE, a bad kernel)"),
                )
                .args(lifecycle_selection())
                .arg(flag("dry-run", "Print what would be revoked and who boots it, without writing"))
                .arg(format().value_parser(["human", "json"])),
        )
        .subcommand(
            Command::new("prune")
                .about(
                    "Deregister the AMIs of packer/images.lock's history that nothing needs any more, and delete their \
                     snapshots, with the AWS CLI (a dry run unless --execute)",
                )
                .after_help(
                    "An image is removed when no deployment names it, no channel is on it or would roll back to it, \
                     it is older than --older-than and it is not among the newest --keep of its template and region. \
                     Only images the lock records are considered. The AWS CLI is taken from --aws-cli, then \
                     $AWS_CLI, then PATH; it reads its credentials, and an endpoint (AWS_ENDPOINT_URL), from its own \
                     environment and configuration.",
                )
                .args(lifecycle_selection())
                .arg(
                    Arg::new("older-than")
                        .long("older-than")
                        .value_name("DURATION")
                        .default_value(xtask::lifecycle::prune::select::DEFAULT_OLDER_THAN)
                        .value_parser(parse_duration)
                        .help("Only images built longer ago than this: 30d, 12h, 1d12h, 90m"),
                )
                .arg(
                    Arg::new("keep")
                        .long("keep")
                        .value_name("N")
                        .default_value(xtask::lifecycle::prune::select::DEFAULT_KEEP)
                        .value_parser(value_parser!(usize))
                        .help("Keep the newest N images of each template and region regardless"),
                )
                .arg(flag("execute", "Deregister the images and delete their snapshots, and record it in the lock"))
                .arg(
                    Arg::new("aws-cli")
                        .long("aws-cli")
                        .value_name("PATH")
                        .value_parser(value_parser!(PathBuf))
                        .help("The aws executable [default: $AWS_CLI, then PATH]"),
                )
                .arg(format().value_parser(["human", "json"])),
        )
        .subcommand(
            Command::new("status")
                .about(
                    "Per template: the recorded images, whether they are stale, which deployments use which, with \
                     channels each channel's image, its soak and the revocations, and what `prune` would remove",
                )
                .arg(root_arg())
                .arg(format().value_parser(["human", "json"])),
        )
        .subcommand(
            Command::new("demo")
                .about(
                    "Run the whole images flow on a copy of the repository against a local EC2 API (moto), \
                     without a cloud account",
                )
                .after_help(
                    "moto_server is taken from $MOTO_SERVER, then PATH, then target/e2e-venv (installed there with \
                     pip on first use).",
                )
                .arg(root_arg())
                .arg(packer_arg()),
        )
        .subcommand(
            Command::new("bench")
                .about("Measure the speed goals on generated trees and print the figures")
                .subcommand_required(true)
                .subcommand(
                    Command::new("lint-templates")
                        .about("The linter against `packer validate -syntax-only` per template and against `cat`")
                        .arg(
                            Arg::new("templates")
                                .long("templates")
                                .value_name("N")
                                .default_value("1000")
                                .value_parser(value_parser!(usize))
                                .help("How many templates to generate"),
                        )
                        .arg(
                            Arg::new("hcl2")
                                .long("hcl2")
                                .action(ArgAction::SetTrue)
                                .help("Generate HCL2 template folders (three .pkr.hcl files each) instead of JSON"),
                        )
                        .arg(packer_arg()),
                )
                .subcommand(
                    Command::new("findings")
                        .about("The linter on one template with many findings (unknown keys, undeclared variables)")
                        .arg(
                            Arg::new("findings")
                                .long("findings")
                                .value_name("N")
                                .default_value("10000")
                                .value_parser(value_parser!(usize))
                                .help("How many findings the generated template holds"),
                        ),
                )
                .subcommand(Command::new("pre-commit").about(
                    "The hook's command with one staged change among 200 templates and 200 deployments",
                ))
                .subcommand(Command::new("cold-build").about(
                    "The first build of xtask in an empty target folder (the registry as cached): wall time, CPU \
                     time and the longest crates",
                ))
                .subcommand(
                    Command::new("images")
                        .about("Parallel builds, overhead over Packer by hand, no-change rerun and patching, against moto_server")
                        .arg(packer_arg()),
                ),
        )
        .subcommand(
            Command::new("codegen")
                .about(
                    "Regenerate the rules' pages and tables in docs/rules/, and from git mirrors what each Packer release has: \
                     the knowledge of its and its plugins' keys, and its HCL2 functions",
                )
                .arg(flag("check", "Fail instead of writing when a generated file is out of date"))
                .arg(
                    Arg::new("packer-mirrors")
                        .long("packer-mirrors")
                        .value_name("DIR")
                        .value_parser(value_parser!(PathBuf))
                        .help(
                            "A folder of git mirrors with their tags, as the fetch tool lays them out \
                             (DIR/<owner>+<name>/repo): hashicorp+packer, the plugins of \
                             codegen::packer_knowledge::PLUGINS and packer-plugin-sdk for \
                             xtask/src/schema/knowledge.txt; zclconf+go-cty, hashicorp+go-cty-funcs, \
                             hashicorp+hcl and zclconf+go-cty-yaml for xtask/src/hcl2/function_table.rs. \
                             Regenerates both (with --check: checks both)",
                        ),
                ),
        )
}

/// `--root`, `--release`, `--cloud`, `--select` and `--region`, for the
/// lifecycle commands.
fn lifecycle_selection() -> [Arg; 5] {
    let [root, release, cloud] = selection();
    [
        root,
        release,
        cloud,
        Arg::new("select")
            .long("select")
            .value_name("FOLDER")
            .action(ArgAction::Append)
            .help("Only the template in this folder, e.g. packer/3.11/aws/machine-image (repeatable)"),
        Arg::new("region")
            .long("region")
            .value_name("R")
            .action(ArgAction::Append)
            .help("Only the deployments in this AWS region (repeatable)"),
    ]
}

fn lifecycle(args: &ArgMatches) -> xtask::lifecycle::fleet::Selection {
    xtask::lifecycle::fleet::Selection {
        filter: filter(args),
        select: many(args, "select"),
        regions: many(args, "region"),
    }
}

fn json_format(args: &ArgMatches) -> bool {
    args.get_one::<String>("format").map(String::as_str) == Some("json")
}

fn root_arg() -> Arg {
    Arg::new("root")
        .long("root")
        .value_name("DIR")
        .value_parser(value_parser!(PathBuf))
        .help("The repository's top folder [default: the checkout cargo xtask runs in]")
}

fn var_file_arg(help: &'static str) -> Arg {
    Arg::new("var-file")
        .long("var-file")
        .value_name("FILE")
        .action(ArgAction::Append)
        .value_parser(value_parser!(PathBuf))
        .help(help)
}

fn files_arg(help: &'static str) -> Arg {
    Arg::new("files").value_name("FILE").num_args(0..).value_parser(value_parser!(PathBuf)).help(help)
}

fn explain_arg() -> Arg {
    Arg::new("explain")
        .long("explain")
        .value_name("RULE")
        .help("Print a rule's documentation (by code or name) and exit")
}

fn selection() -> [Arg; 3] {
    [
        root_arg(),
        Arg::new("release")
            .long("release")
            .value_name("R")
            .action(ArgAction::Append)
            .help("Only templates of this release (repeatable)"),
        Arg::new("cloud")
            .long("cloud")
            .value_name("C")
            .action(ArgAction::Append)
            .help("Only templates of this cloud (repeatable)"),
    ]
}

/// `--format` and `--statistics`, for the linters.
fn lint_output() -> [Arg; 2] {
    [
        format(),
        flag("statistics", "Print how many findings each rule has instead of the findings").conflicts_with("format"),
    ]
}

fn format() -> Arg {
    Arg::new("format")
        .long("format")
        .value_name("FORMAT")
        .default_value("human")
        .value_parser(["human", "json", "github", "sarif"])
        .help("Output format")
}

/// Every command that judges templates takes it: lint-templates, lint, pre-commit.
fn packer_version_arg() -> Arg {
    Arg::new("packer-version")
        .long("packer-version")
        .value_name("VERSION")
        .value_parser(|text: &str| {
            xtask::version::Version::parse(text)
                .ok_or_else(|| format!("`{text}` is not a release: write its three numbers, such as 1.11.2"))
        })
        .help("Judge templates against this Packer release (over [packer] version in xtask.toml and the installed packer; an HCL2 template's required_version still decides for it)")
}

fn packer_arg() -> Arg {
    Arg::new("packer")
        .long("packer")
        .value_name("PATH")
        .value_parser(value_parser!(PathBuf))
        .help("The packer executable [default: $PACKER, then PATH]")
}

fn flag(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).action(ArgAction::SetTrue).help(help)
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

fn parse_duration(text: &str) -> Result<(u64, String), String> {
    xtask::lifecycle::clock::parse_duration(text)
        .map(|seconds| (seconds, text.to_owned()))
        .ok_or_else(|| format!("`{text}` is not a duration: a number and a unit (d, h, m, s), like 30d or 1d12h"))
}

fn many<T: Clone + Send + Sync + 'static>(args: &ArgMatches, name: &str) -> Vec<T> {
    args.get_many::<T>(name).map(|values| values.cloned().collect()).unwrap_or_default()
}

fn root(args: &ArgMatches) -> Result<PathBuf> {
    args.get_one::<PathBuf>("root").cloned().map_or_else(workspace_root, Ok)
}

fn filter(args: &ArgMatches) -> Filter {
    Filter { releases: many(args, "release"), clouds: many(args, "cloud") }
}

fn packer_version(args: &ArgMatches) -> Option<xtask::version::Version> {
    args.get_one::<xtask::version::Version>("packer-version").copied()
}

fn output_format(args: &ArgMatches) -> Format {
    if args.try_get_one::<bool>("statistics").ok().flatten() == Some(&true) {
        return Format::Statistics;
    }
    match args.get_one::<String>("format").map(String::as_str) {
        Some("json") => Format::Json,
        Some("github") => Format::Github,
        Some("sarif") => Format::Sarif,
        _ => Format::Human,
    }
}

fn main() -> ExitCode {
    match run(&cli().get_matches()) {
        Ok(code) => code,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(matches: &ArgMatches) -> Result<ExitCode> {
    match matches.subcommand() {
        Some(("lint-templates", args)) => match args.get_one::<String>("explain") {
            Some(rule) => lint::explain(rule, Some("PKR")),
            None => lint_templates::run(
                &lint_templates::Options {
                    root: root(args)?,
                    filter: filter(args),
                    files: many(args, "files"),
                    var_files: many(args, "var-file"),
                    packer_version: packer_version(args),
                },
                output_format(args),
            ),
        },
        Some(("lint-deployments", args)) => match args.get_one::<String>("explain") {
            Some(rule) => lint::explain(rule, Some("DEP")),
            None => lint_deployments::run(
                &lint_deployments::Options { root: root(args)?, files: many(args, "files") },
                output_format(args),
            ),
        },
        Some(("lint", args)) => match args.get_one::<String>("explain") {
            Some(rule) => lint::explain(rule, None),
            None => lint::run(root(args)?, many(args, "var-file"), packer_version(args), output_format(args)),
        },
        Some(("pre-commit", args)) => pre_commit::run(packer_version(args), output_format(args)),
        Some(("install-hook", args)) => install_hook::run(args.get_flag("force"), args.get_flag("uninstall")),
        Some(("images", args)) => images::run(&images::Options {
            root: root(args)?,
            filter: filter(args),
            regions: many(args, "region"),
            dry_run: args.get_flag("dry-run"),
            force: args.get_flag("force"),
            jobs: args.get_one::<usize>("jobs").copied().unwrap_or(4),
            packer: args.get_one::<PathBuf>("packer").cloned(),
            vars: many(args, "var"),
            var_files: many(args, "var-file"),
            patch_from: many(args, "patch-from"),
            plan: args.get_flag("plan"),
            select: many(args, "select"),
            build_only: args.get_flag("build-only"),
            result: args.get_one::<PathBuf>("result").cloned(),
            apply: many(args, "apply"),
            format: match args.get_one::<String>("format").map(String::as_str) {
                Some("json") => images::Output::Json,
                Some("github-matrix") => images::Output::GithubMatrix,
                _ => images::Output::Human,
            },
        }),
        Some(("promote", args)) => xtask::lifecycle::promote::run(&xtask::lifecycle::promote::Options {
            root: root(args)?,
            channel: args.get_one::<String>("to").cloned().unwrap_or_default(),
            selection: lifecycle(args),
            dry_run: args.get_flag("dry-run"),
            without_soak: args.get_flag("without-soak"),
            json: json_format(args),
        }),
        Some(("rollback", args)) => xtask::lifecycle::rollback::run(&xtask::lifecycle::rollback::Options {
            root: root(args)?,
            channel: args.get_one::<String>("channel").cloned().unwrap_or_default(),
            selection: lifecycle(args),
            dry_run: args.get_flag("dry-run"),
            json: json_format(args),
        }),
        Some(("revoke", args)) => xtask::lifecycle::revoke::run(&xtask::lifecycle::revoke::Options {
            root: root(args)?,
            ids: many(args, "ids"),
            reason: args.get_one::<String>("reason").cloned().unwrap_or_default(),
            selection: lifecycle(args),
            dry_run: args.get_flag("dry-run"),
            json: json_format(args),
        }),
        Some(("prune", args)) => {
            let (older_than, older_than_text) =
                args.get_one::<(u64, String)>("older-than").cloned().unwrap_or_default();
            xtask::lifecycle::prune::run(&xtask::lifecycle::prune::Options {
                root: root(args)?,
                selection: lifecycle(args),
                policy: xtask::lifecycle::prune::select::Policy {
                    keep: args
                        .get_one::<usize>("keep")
                        .copied()
                        .unwrap_or_else(|| xtask::lifecycle::prune::select::Policy::default().keep),
                    older_than,
                    older_than_text,
                },
                execute: args.get_flag("execute"),
                aws_cli: args.get_one::<PathBuf>("aws-cli").cloned(),
                json: json_format(args),
            })
        }
        Some(("status", args)) => images::status::run(&root(args)?, output_format(args)),
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
