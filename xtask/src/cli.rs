//! The command line of `cargo xtask`: every command and flag, declared once
//! with clap's builder (its derive would cost every user a proc-macro build
//! on their first run), and the pieces that several commands share read
//! back into one type each. `main.rs` dispatches on what this parses; the
//! tests check the definition with clap's `debug_assert` and snapshot every
//! command's `--help`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};

use crate::images;
use crate::lifecycle::fleet;
use crate::pre_commit;
use crate::project::{Filter, Selection, workspace_root};
use crate::render::{Colour, Format};

/// The exit statuses, the same for every command (docs/README.md#exit-status lists
/// them): 0 done and nothing wrong, 1 findings or a failed build, 2 the
/// command could not do what was asked (a mistyped flag, a selection that
/// matches nothing, a missing file, an unreadable lock), 130 interrupted.
pub const EXIT_USAGE: u8 = 2;

/// The whole command line.
pub fn command() -> Command {
    Command::new("cargo xtask")
        .bin_name("cargo xtask")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The infrastructure repository's workspace tool: lints the Packer templates, builds the machine images and wires them into the deployments.")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("color")
                .long("color")
                .value_name("WHEN")
                .global(true)
                .default_value("auto")
                .value_parser(["auto", "always", "never"])
                .help("Colour the human output: auto (on a terminal, unless NO_COLOR is set), always or never"),
        )
        .subcommand(
            Command::new("lint-templates")
                .about("Lint every template under packer/<release>/<cloud>/<image>/ (template.json or *.pkr.hcl)")
                .args(selection(
                    "Lint only these templates: template.json files, HCL2 files, or folders (a template's, or one \
                     above it: every template below)",
                ))
                .args(lint_output())
                .arg(explain_arg())
                .arg(var_file_arg("A var file whose variables count as declared (repeatable)"))
                .arg(packer_version_arg()),
        )
        .subcommand(
            Command::new("lint-deployments")
                .about("Lint every deployments/*.yaml against the templates and packer/images.lock")
                .args(selection("Lint only these deployment files (a folder: the *.yaml files in it)"))
                .args(lint_output())
                .arg(explain_arg()),
        )
        .subcommand(
            Command::new("lint")
                .about("Run lint-templates and lint-deployments in one pass")
                .args(selection("Lint only these templates and deployment files"))
                .args(lint_output())
                .arg(explain_arg())
                .arg(var_file_arg("A var file whose variables count as declared (repeatable)"))
                .arg(packer_version_arg()),
        )
        .subcommand(
            Command::new("pre-commit")
                .about("Lint what is staged for commit (the index, not the working tree); run by the git hook")
                // After the options, as prune's: a long_about would make
                // --help alone of every command's print in clap's long layout.
                .after_help(
                    "The staged templates and deployments are linted, with the deployments a staged template or the \
                     lock affects; --release, --cloud, --image and paths narrow them, as for lint. The work tree \
                     is the one the current folder is in, or --root.",
                )
                .args(selection(
                    "Lint only the staged files at or below these paths (and the template of a staged file named \
                     inside one)",
                ))
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
                .args(selection("Only the templates at these paths (template.json files or HCL2 folders), as --select"))
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
                        .conflicts_with_all(["plan", "dry-run"])
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
                        // clap lets a requirement go when a flag that conflicts
                        // with it is given: `--plan --result r.json` ran the plan
                        // and wrote no result.
                        .conflicts_with_all(["plan", "dry-run", "patch-from", "apply"])
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
                            "image",
                            "paths",
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
                .args(lifecycle_selection(Some("Only the templates at these paths (template.json files or HCL2 folders), as --select")))
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
                .args(lifecycle_selection(Some("Only the templates at these paths (template.json files or HCL2 folders), as --select")))
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
                .args(lifecycle_selection(None))
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
                .args(lifecycle_selection(Some("Only the templates at these paths (template.json files or HCL2 folders), as --select")))
                .arg(
                    Arg::new("older-than")
                        .long("older-than")
                        .value_name("DURATION")
                        .default_value(crate::lifecycle::prune::select::DEFAULT_OLDER_THAN)
                        .value_parser(parse_duration)
                        .help("Only images built longer ago than this: 30d, 12h, 1d12h, 90m"),
                )
                .arg(
                    Arg::new("keep")
                        .long("keep")
                        .value_name("N")
                        .default_value(crate::lifecycle::prune::select::DEFAULT_KEEP)
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
                .args(selection("Only the templates at these paths (template.json files or HCL2 folders)"))
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
                             hashicorp+hcl and zclconf+go-cty-yaml for xtask/src/schema/function_table.rs. \
                             Regenerates both (with --check: checks both)",
                        ),
                ),
        )
}

/// What a command works on, the same for every command that takes it:
/// `--root`, `--release`, `--cloud`, `--image` (each repeatable) and paths.
/// `paths` says what the command's paths are.
pub fn selection(paths: &'static str) -> [Arg; 5] {
    [
        root_arg(),
        Arg::new("release")
            .long("release")
            .value_name("R")
            .action(ArgAction::Append)
            .help("Only templates of this release, e.g. 3.11 (repeatable)"),
        Arg::new("cloud")
            .long("cloud")
            .value_name("C")
            .action(ArgAction::Append)
            .help("Only templates of this cloud, e.g. aws (repeatable)"),
        Arg::new("image")
            .long("image")
            .value_name("I")
            .action(ArgAction::Append)
            .help("Only templates of this image folder, e.g. machine-image (repeatable)"),
        Arg::new("paths").value_name("PATH").num_args(0..).value_parser(value_parser!(PathBuf)).help(paths),
    ]
}

/// [`selection`] with `--select` and `--region`, for the lifecycle
/// commands. Without `paths` (revoke, whose own positional arguments are
/// image IDs) the selection takes no paths.
fn lifecycle_selection(paths: Option<&'static str>) -> Vec<Arg> {
    let [root, release, cloud, image, path_arg] = selection(paths.unwrap_or_default());
    let select = Arg::new("select")
        .long("select")
        .value_name("FOLDER")
        .action(ArgAction::Append)
        .help("Only the template in this folder, e.g. packer/3.11/aws/machine-image (repeatable)");
    let region = Arg::new("region")
        .long("region")
        .value_name("R")
        .action(ArgAction::Append)
        .help("Only the deployments in this AWS region (repeatable)");
    [root, release, cloud, image].into_iter().chain(paths.map(|_| path_arg)).chain([select, region]).collect()
}

/// Reads a command's [`selection`] back. A path that does not exist is an
/// error here, for every command alike.
pub fn read_selection(args: &ArgMatches) -> Result<Selection> {
    let (filter, paths) = filter_and_paths(args)?;
    check_paths_exist(&paths)?;
    Ok(Selection { root: root(args)?, filter, paths })
}

/// `pre-commit`'s options: its selection, whose root is the work tree git
/// finds from the current folder unless `--root` names one. Its paths may
/// be gone from the work tree: it checks them against what is staged.
pub fn read_pre_commit(args: &ArgMatches) -> Result<pre_commit::Options> {
    let (filter, paths) = filter_and_paths(args)?;
    Ok(pre_commit::Options {
        root: args.get_one::<PathBuf>("root").cloned(),
        filter,
        paths,
        packer_version: packer_version(args),
    })
}

fn filter_and_paths(args: &ArgMatches) -> Result<(Filter, Vec<PathBuf>)> {
    let filter = Filter { releases: many(args, "release"), clouds: many(args, "cloud"), images: many(args, "image") };
    // revoke's selection has no paths: its positional arguments are IDs.
    let paths: Vec<PathBuf> = args
        .try_get_many::<PathBuf>("paths")
        .ok()
        .flatten()
        .map(|values| values.cloned().collect())
        .unwrap_or_default();
    Ok((filter, paths))
}

fn check_paths_exist(paths: &[PathBuf]) -> Result<()> {
    for path in paths {
        // A dangling symlink exists: the linter says what it leads to.
        if std::fs::symlink_metadata(path).is_err() {
            bail!("`{}` does not exist", path.display());
        }
    }
    Ok(())
}

/// A lifecycle command's [`lifecycle_selection`] read back: the root, and
/// the templates and regions to work on, with the paths taken as `--select`.
pub fn read_lifecycle_selection(args: &ArgMatches) -> Result<(PathBuf, fleet::Selection)> {
    let chosen = read_selection(args)?;
    let mut select: Vec<String> = many(args, "select");
    select.extend(chosen.paths.iter().map(|path| path.to_string_lossy().into_owned()));
    Ok((chosen.root, fleet::Selection { filter: chosen.filter, select, regions: many(args, "region") }))
}

/// `images`' mode from its flags, decided once. clap refuses the flags that
/// conflict (`--build-only` with `--plan`, `--apply` with a selection, ...);
/// these are the combinations it cannot say. `--plan` with `--dry-run` is
/// the plan, which builds nothing either.
pub fn images_mode(args: &ArgMatches) -> Result<images::Mode> {
    if args.get_one::<String>("format").map(String::as_str) == Some("github-matrix") && !args.get_flag("plan") {
        bail!("--format github-matrix goes with --plan");
    }
    Ok(if args.contains_id("apply") {
        images::Mode::Apply(many(args, "apply"))
    } else if args.contains_id("patch-from") {
        images::Mode::PatchFrom(many(args, "patch-from"))
    } else if args.get_flag("plan") {
        images::Mode::Plan
    } else if args.get_flag("dry-run") {
        images::Mode::DryRun
    } else if args.get_flag("build-only") {
        let Some(result) = args.get_one::<PathBuf>("result") else {
            bail!("--build-only writes its result to a file: pass --result FILE");
        };
        images::Mode::BuildOnly { result: result.clone() }
    } else {
        images::Mode::Build
    })
}

/// `--color`, as the renderers take it.
pub fn colour(args: &ArgMatches) -> Colour {
    match args.get_one::<String>("color").map(String::as_str) {
        Some("always") => Colour::Always,
        Some("never") => Colour::Never,
        _ => Colour::Auto,
    }
}

pub fn root_arg() -> Arg {
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

fn explain_arg() -> Arg {
    Arg::new("explain")
        .long("explain")
        .value_name("RULE")
        .num_args(0..=1)
        .default_missing_value("")
        .help("Print a rule's documentation (by code or name) and exit; without a rule, list the rules")
}

/// `--format` and `--statistics`, for the linters.
pub fn lint_output() -> [Arg; 2] {
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

/// `--packer-version`: the Packer release templates are judged against, for
/// every command that judges them: lint-templates, lint, pre-commit.
fn packer_version_arg() -> Arg {
    Arg::new("packer-version")
        .long("packer-version")
        .value_name("VERSION")
        .value_parser(|text: &str| {
            crate::version::Version::parse(text)
                .ok_or_else(|| format!("`{text}` is not a release: write its three numbers, such as 1.11.2"))
        })
        .help(
            "Judge templates against this Packer release (over [packer] version in xtask.toml and the installed \
             packer; an HCL2 template's required_version still decides for it)",
        )
}

fn packer_arg() -> Arg {
    Arg::new("packer")
        .long("packer")
        .value_name("PATH")
        .value_parser(value_parser!(PathBuf))
        .help("The packer executable [default: $PACKER, then PATH]")
}

pub fn flag(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).action(ArgAction::SetTrue).help(help)
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// `--older-than`: the seconds, and the text as given for the messages.
fn parse_duration(text: &str) -> Result<(u64, String), String> {
    crate::clock::parse_duration(text)
        .map(|seconds| (seconds, text.to_owned()))
        .ok_or_else(|| format!("`{text}` is not a duration: a number and a unit (d, h, m, s), like 30d or 1d12h"))
}

/// Every value of a repeatable argument, none when it is absent.
pub fn many<T: Clone + Send + Sync + 'static>(args: &ArgMatches, name: &str) -> Vec<T> {
    args.get_many::<T>(name).map(|values| values.cloned().collect()).unwrap_or_default()
}

/// `--root`, else the checkout cargo xtask runs in.
pub fn root(args: &ArgMatches) -> Result<PathBuf> {
    args.get_one::<PathBuf>("root").cloned().map_or_else(workspace_root, Ok)
}

/// `--packer-version`, when given.
pub fn packer_version(args: &ArgMatches) -> Option<crate::version::Version> {
    args.get_one::<crate::version::Version>("packer-version").copied()
}

/// `--format` and `--statistics` of a linter.
pub fn output_format(args: &ArgMatches) -> Format {
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

/// Whether a lifecycle command's `--format` is `json`.
pub fn json_format(args: &ArgMatches) -> bool {
    args.get_one::<String>("format").map(String::as_str) == Some("json")
}

/// `--explain` as given: `Some("")` when it names no rule.
pub fn explain(args: &ArgMatches) -> Option<&str> {
    args.get_one::<String>("explain").map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// clap's own checks of the definition: every name a `requires` or
    /// `conflicts_with` gives exists, no two arguments share a flag, and so on.
    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    /// Every command's and subcommand's `--help`, as a person reads it.
    #[test]
    fn every_help_text() {
        fn walk(command: &mut Command, path: &str, out: &mut Vec<(String, String)>) {
            out.push((path.to_owned(), command.render_long_help().to_string()));
            // clap's own `help` subcommand prints the others' help.
            for sub in command.get_subcommands_mut().filter(|sub| sub.get_name() != "help") {
                let name = format!("{path} {}", sub.get_name());
                walk(sub, &name, out);
            }
        }
        let mut command = command();
        command.build();
        let mut helps = Vec::new();
        walk(&mut command, "cargo xtask", &mut helps);
        for (path, help) in helps {
            let name = path.trim_start_matches("cargo xtask").trim().replace(' ', "-");
            let name = if name.is_empty() { "help".to_owned() } else { format!("help-{name}") };
            // Beside the suites' snapshots, where a reviewer looks.
            insta::with_settings!({ snapshot_path => "../../tests/snapshots", prepend_module_to_snapshot => false }, {
                insta::assert_snapshot!(name, help, &path);
            });
        }
    }

    /// The commands that work on templates and deployments take the same
    /// selection, and each reads it back the same way; revoke takes it
    /// without paths, as its own positional arguments are image IDs.
    #[test]
    fn every_command_on_templates_takes_the_selection() {
        let commands: [(&str, &[&str]); 10] = [
            ("lint-templates", &[]),
            ("lint-deployments", &[]),
            ("lint", &[]),
            ("pre-commit", &[]),
            ("images", &[]),
            ("status", &[]),
            ("promote", &["--to", "stable"]),
            ("rollback", &["--channel", "stable"]),
            ("prune", &[]),
            ("revoke", &["--reason", "CVE", "ami-0123456789abcdef0"]),
        ];
        for (name, own) in commands {
            let mut line = vec![
                "cargo xtask",
                name,
                "--root",
                ".",
                "--release",
                "3.11",
                "--cloud",
                "aws",
                "--image",
                "machine-image",
            ];
            line.extend(own);
            let takes_paths = name != "revoke";
            if takes_paths {
                line.push("Cargo.toml");
            }
            let matches = command().try_get_matches_from(line).unwrap_or_else(|error| panic!("{name}: {error}"));
            let (_, args) = matches.subcommand().unwrap();
            let selection = read_selection(args).unwrap();
            assert_eq!(selection.filter.releases, ["3.11"], "{name}");
            assert_eq!(selection.filter.clouds, ["aws"], "{name}");
            assert_eq!(selection.filter.images, ["machine-image"], "{name}");
            let paths: &[PathBuf] = if takes_paths { &[PathBuf::from("Cargo.toml")] } else { &[] };
            assert_eq!(selection.paths, paths, "{name}");
        }
    }

    /// The lifecycle commands take their paths as `--select` folders.
    #[test]
    fn a_lifecycle_command_takes_its_paths_as_select() {
        let matches = command()
            .try_get_matches_from([
                "cargo xtask",
                "prune",
                "--root",
                ".",
                "--select",
                "packer/3.11/aws/machine-image",
                "--region",
                "eu-west-1",
                "Cargo.toml",
            ])
            .unwrap();
        let (root, selection) = read_lifecycle_selection(matches.subcommand().unwrap().1).unwrap();
        assert_eq!(root, PathBuf::from("."));
        assert_eq!(selection.select, ["packer/3.11/aws/machine-image", "Cargo.toml"]);
        assert_eq!(selection.regions, ["eu-west-1"]);
    }

    #[test]
    fn a_path_that_does_not_exist_is_refused_by_every_command() {
        for name in ["lint-templates", "lint-deployments", "lint", "pre-commit", "images", "status", "prune"] {
            let matches = command().try_get_matches_from(["cargo xtask", name, "--root", ".", "nowhere.yaml"]).unwrap();
            let (_, args) = matches.subcommand().unwrap();
            let error = read_selection(args).err().unwrap_or_else(|| panic!("{name} took a missing path"));
            assert_eq!(error.to_string(), "`nowhere.yaml` does not exist", "{name}");
        }
    }

    #[test]
    fn mistyped_commands_and_flags_get_a_suggestion() {
        let error = command().try_get_matches_from(["cargo xtask", "lint-template"]).unwrap_err().to_string();
        assert!(error.contains("'lint-templates'"), "{error}");
        let error = command()
            .try_get_matches_from(["cargo xtask", "lint-templates", "--fromat", "json"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("a similar argument exists: '--format'"), "{error}");
        assert_eq!(
            command().try_get_matches_from(["cargo xtask", "lint", "--fromat"]).unwrap_err().exit_code(),
            i32::from(EXIT_USAGE)
        );
    }

    fn images_mode_of(line: &[&str]) -> Result<images::Mode, String> {
        let line = [&["cargo xtask", "images", "--root", "."][..], line].concat();
        let matches = command().try_get_matches_from(line).map_err(|error| {
            assert_eq!(error.exit_code(), i32::from(EXIT_USAGE));
            error.to_string()
        })?;
        images_mode(matches.subcommand().unwrap().1).map_err(|error| error.to_string())
    }

    #[test]
    fn images_flags_name_one_mode() {
        use images::Mode;
        let path = PathBuf::from;
        assert_eq!(images_mode_of(&[]), Ok(Mode::Build));
        assert_eq!(images_mode_of(&["--force", "--release", "3.11"]), Ok(Mode::Build));
        assert_eq!(images_mode_of(&["--plan", "--format", "github-matrix"]), Ok(Mode::Plan));
        assert_eq!(images_mode_of(&["--plan", "--dry-run"]), Ok(Mode::Plan));
        assert_eq!(images_mode_of(&["--dry-run", "--format", "json"]), Ok(Mode::DryRun));
        assert_eq!(
            images_mode_of(&["--build-only", "--result", "r.json"]),
            Ok(Mode::BuildOnly { result: path("r.json") })
        );
        assert_eq!(
            images_mode_of(&["--apply", "a.json", "b.json"]),
            Ok(Mode::Apply(vec![path("a.json"), path("b.json")]))
        );
        assert_eq!(images_mode_of(&["--patch-from", "m.json"]), Ok(Mode::PatchFrom(vec![path("m.json")])));
    }

    /// Every combination of `images`' flags that names no one mode is
    /// refused, by clap or by [`images_mode`], before anything runs (exit 2:
    /// main prints the error).
    #[test]
    fn images_refuses_flags_that_name_no_one_mode() {
        let refused: [(&[&str], &str); 16] = [
            (&["--format", "github-matrix"], "--format github-matrix goes with --plan"),
            (&["--dry-run", "--format", "github-matrix"], "--format github-matrix goes with --plan"),
            (&["--build-only"], "--build-only writes its result to a file: pass --result FILE"),
            (&["--result", "r.json"], "the following required arguments were not provided"),
            (&["--build-only", "--result", "r.json", "--plan"], "cannot be used with"),
            (&["--build-only", "--result", "r.json", "--dry-run"], "cannot be used with"),
            (&["--build-only", "--result", "r.json", "--patch-from", "m.json"], "cannot be used with"),
            (&["--patch-from", "m.json", "--dry-run"], "cannot be used with"),
            (&["--patch-from", "m.json", "--plan"], "cannot be used with"),
            (&["--apply", "a.json", "--plan"], "cannot be used with"),
            (&["--apply", "a.json", "--select", "packer/3.11/aws/machine-image"], "cannot be used with"),
            (&["--apply", "a.json", "--patch-from", "m.json"], "cannot be used with"),
            (&["--plan", "--result", "r.json"], "cannot be used with"),
            (&["--dry-run", "--result", "r.json"], "cannot be used with"),
            (&["--patch-from", "m.json", "--result", "r.json"], "cannot be used with"),
            (&["--apply", "a.json", "--result", "r.json"], "cannot be used with"),
        ];
        for (line, said) in refused {
            let error = images_mode_of(line).expect_err(&format!("{line:?} was taken"));
            assert!(error.contains(said), "{line:?}: {error}");
        }
    }

    #[test]
    fn explain_without_a_rule_asks_for_the_list() {
        let matches = command().try_get_matches_from(["cargo xtask", "lint", "--explain"]).unwrap();
        assert_eq!(explain(matches.subcommand().unwrap().1), Some(""));
        let matches = command().try_get_matches_from(["cargo xtask", "lint", "--explain", "PKR201"]).unwrap();
        assert_eq!(explain(matches.subcommand().unwrap().1), Some("PKR201"));
    }
}
