//! `cargo xtask lint-templates`: structural checks of every Packer template.

mod hcl2_keys;
pub mod lint_hcl2;
mod plugin_keys;
pub mod rules;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Result, bail};

use crate::config::{self, Config};
use crate::diagnostic::{FileReport, Findings, Report};
use crate::location::{Location, Syntax};
use crate::project::{self, Filter, TemplateFile, TemplateFormat};
use crate::registry::Registry;
use crate::render::{self, Format};
use crate::schema::in_force::{InForce, Setting};
use crate::suppress;
use crate::template::{self, Blocks, Loaded, ReadProblem, ReadProblemKind, Strings};
use crate::version::Version;

use plugin_keys::PluginKeys;
use rules::{BAD_LAYOUT, Context, INVALID_JSON, NOT_AN_OBJECT, RULES, UNREADABLE_FILE};

/// What to lint.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub root: PathBuf,
    pub filter: Filter,
    /// Lint only these files instead of walking `packer/`.
    pub files: Vec<PathBuf>,
    /// Var files whose variables count as declared.
    pub var_files: Vec<PathBuf>,
    /// `--packer-version`: the Packer release to judge templates against,
    /// over `xtask.toml` and the installed `packer`.
    pub packer_version: Option<Version>,
}

/// The templates the options select.
pub fn select(options: &Options) -> Result<Vec<TemplateFile>> {
    if !options.root.is_dir() {
        bail!("the root `{}` is not a folder; pass --root with the repository's top folder", options.root.display());
    }
    if options.files.is_empty() {
        return Ok(project::find_all_templates(&options.root, &options.filter));
    }
    let mut selected = Vec::new();
    let mut walked = None;
    for path in &options.files {
        let absolute = if path.is_absolute() { path.clone() } else { std::env::current_dir()?.join(path) };
        if !absolute.exists() && fs::symlink_metadata(&absolute).is_err() {
            bail!("`{}` does not exist", path.display());
        }
        let root = fs::canonicalize(&options.root).unwrap_or_else(|_| options.root.clone());
        let shown = fs::canonicalize(&absolute).unwrap_or(absolute);
        let files = if shown.is_dir() {
            let walked = walked.get_or_insert_with(|| project::find_all_templates(&root, &Filter::default()));
            templates_in_folder(walked, &root, &shown, path)?
        } else {
            vec![TemplateFile::new(&root, shown)]
        };
        // The files of one folder are linted once.
        for file in files {
            if options.filter.accepts(&file) && !selected.iter().any(|chosen: &TemplateFile| chosen.path == file.path) {
                selected.push(file);
            }
        }
    }
    Ok(selected)
}

/// The templates a folder named on the command line stands for, as the
/// walk of `packer/` finds them: a JSON template's folder its
/// `template.json`, an HCL2 folder itself, a release or cloud folder every
/// template below it. A folder the walk does not reach (outside `packer/`)
/// is an HCL2 template when it holds template files, and an error when it
/// holds none, rather than a template without a `build` block.
fn templates_in_folder(walked: &[TemplateFile], root: &Path, folder: &Path, given: &Path) -> Result<Vec<TemplateFile>> {
    let below: Vec<TemplateFile> = walked
        .iter()
        .filter(|file| {
            file.path.starts_with(folder) || fs::canonicalize(&file.path).is_ok_and(|real| real.starts_with(folder))
        })
        .cloned()
        .collect();
    if !below.is_empty() {
        return Ok(below);
    }
    if crate::hcl2::holds_template_files(folder) {
        return Ok(vec![TemplateFile::folder(root, folder.to_path_buf())]);
    }
    bail!(
        "`{}` holds no template: neither a template.json nor *.pkr.hcl files, in it or below it; name a template's \
         folder or file, or leave the paths out to lint every template under packer/",
        given.display()
    )
}

/// Lints the selected templates on every core, keeping their order. Each
/// thread, this one included, takes the next template when it has done one,
/// so that a thread the machine slows down holds no share of the work back.
/// On a whole repository the walk runs beside them, handing over each
/// `template.json` as it meets it. `rules` is every rule, for the names
/// in `xtask.toml` and in `allow(…)`.
pub fn lint(options: &Options, rules: &Registry) -> Result<Report> {
    let external: BTreeSet<String> = crate::var_values::read_var_files(&options.var_files)?.into_keys().collect();
    if !options.root.is_dir() {
        bail!("the root `{}` is not a folder; pass --root with the repository's top folder", options.root.display());
    }
    let config = Config::read(&options.root)?;
    let rule_settings = config.rule_settings(rules)?;
    let setting = setting(options, &config);
    let external = Judging { external_variables: external, setting, rules };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let linted = if options.files.is_empty() {
        if !options.root.is_dir() {
            bail!(
                "the root `{}` is not a folder; pass --root with the repository's top folder",
                options.root.display()
            );
        }
        lint_while_walking(options, &external, threads)
    } else {
        let files = select(options)?;
        let queue = Mutex::new(files.iter().cloned().enumerate());
        let reports = lint_queue(&queue, &external, threads.min(files.len().max(1)));
        let mut reports: Vec<(usize, Vec<FileReport>)> =
            reports.into_iter().map(|(at, _, reports)| (at, reports)).collect();
        reports.sort_unstable_by_key(|(at, _)| *at);
        reports.into_iter().flat_map(|(_, reports)| reports).collect()
    };
    let mut report = Report { files: linted };
    rule_settings.apply(&mut report);
    Ok(report)
}

/// What every template of a run is judged with.
pub struct Judging<'a> {
    /// Variables that var files given on the command line define.
    pub external_variables: BTreeSet<String>,
    /// The Packer and plugin versions declared or installed.
    pub setting: Setting,
    /// Every rule, for the names in `allow(…)`.
    pub rules: &'a Registry,
}

/// The versions a run judges templates with: `--packer-version`, else
/// `[packer] version` in xtask.toml, else the installed `packer version`
/// (remembered under target/xtask, so that a run starts no process when
/// the executable has not changed), else none (the newest release xtask
/// knows); plugin pins from `[packer.plugins]`.
pub fn setting(options: &Options, config: &Config) -> Setting {
    let mut setting = config::declared(options.packer_version, &config.packer);
    if setting.core.is_none() {
        setting.core = crate::packer::find(None).ok().and_then(|packer| {
            let version = crate::packer::version_cached(&packer, &options.root).ok()?;
            config::installed(&packer, &version)
        });
    }
    setting
}

/// Lints what a queue hands out on `threads` threads, this one included:
/// each template's place in the queue, the template, and its reports.
fn lint_queue<I>(queue: &Mutex<I>, external: &Judging, threads: usize) -> Vec<(usize, TemplateFile, Vec<FileReport>)>
where
    I: Iterator<Item = (usize, TemplateFile)> + Send,
{
    let work = || {
        let mut done = Vec::new();
        loop {
            let next = queue.lock().expect("the lint queue").next();
            let Some((at, file)) = next else { return done };
            let reports = lint_judged(&file, external);
            done.push((at, file, reports));
        }
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = (1..threads.max(1)).map(|_| scope.spawn(work)).collect();
        let mut linted = work();
        for other in others {
            linted.extend(other.join().expect("a lint thread panicked"));
        }
        linted
    })
}

/// The whole repository: the walk on a thread of its own sends each
/// `template.json` as it finds it; the lint threads take them as they
/// come. The walk's final list decides: a template linted early is kept
/// when it is in that list as it was linted, and anything else (HCL2
/// folders, a JSON template whose folder also holds `*.pkr.hcl` files) is
/// linted at the end. The reports come in the walk's order.
fn lint_while_walking(options: &Options, external: &Judging, threads: usize) -> Vec<FileReport> {
    let (sender, receiver) = std::sync::mpsc::channel::<TemplateFile>();
    let (early, all) = std::thread::scope(|scope| {
        let walker = scope.spawn(move || {
            project::walk_templates(&options.root, &options.filter, |file| {
                let _ = sender.send(file.clone());
            })
        });
        let queue = Mutex::new(receiver.into_iter().enumerate());
        let early = lint_queue(&queue, external, threads);
        (early, walker.join().expect("the walk panicked"))
    });
    let mut early: std::collections::HashMap<PathBuf, (TemplateFile, Vec<FileReport>)> =
        early.into_iter().map(|(_, file, reports)| (file.path.clone(), (file, reports))).collect();
    let mut late: Vec<(usize, TemplateFile)> = Vec::new();
    let mut reports: Vec<Option<Vec<FileReport>>> = all.iter().map(|_| None).collect();
    for (at, file) in all.iter().enumerate() {
        match early.remove(&file.path) {
            Some((linted, found)) if linted.format == file.format && linted.layout == file.layout => {
                reports[at] = Some(found);
            }
            _ => late.push((at, file.clone())),
        }
    }
    let queue = Mutex::new(late.into_iter());
    for (at, _, found) in lint_queue(&queue, external, threads) {
        reports[at] = Some(found);
    }
    reports.into_iter().flatten().flatten().collect()
}

/// Lints one template for `images`, judged with `setting` (the versions
/// the repository's `xtask.toml` declares, else the Packer `images` runs):
/// a report for a JSON template, one per file (and one for the folder,
/// when needed) for an HCL2 template. `rules` is every rule, for the
/// names in `allow(…)`.
pub fn lint_template(
    file: &TemplateFile,
    external_variables: &BTreeSet<String>,
    setting: &Setting,
    rules: &Registry,
) -> Vec<FileReport> {
    lint_judged(file, &Judging { external_variables: external_variables.clone(), setting: setting.clone(), rules })
}

/// Lints one template with a run's judging.
pub fn lint_judged(file: &TemplateFile, judging: &Judging) -> Vec<FileReport> {
    match file.format {
        TemplateFormat::Json => vec![lint_file(file, judging)],
        TemplateFormat::Hcl2 => lint_hcl2::lint_folder(file, judging),
    }
}

/// Lints one JSON template file.
pub fn lint_file(file: &TemplateFile, judging: &Judging) -> FileReport {
    let mut findings = Findings::default();
    let source = match template::load(file) {
        Loaded::Text(source) => source,
        Loaded::Failed { source, problem } => {
            report_read_problem(problem, &mut findings);
            report_layout(file, &mut findings);
            return FileReport::new(file.rel.clone(), source, findings.into_vec(), Syntax::Json);
        }
    };
    report_layout(file, &mut findings);
    let mut allows = Vec::new();
    let parsed = match template::parse(&source) {
        Ok(template) => Some(template),
        Err(problem) => {
            report_read_problem(problem, &mut findings);
            None
        }
    };
    if let Some(template) = parsed {
        allows = suppress::template_allows(&template, judging.rules, &mut findings);
        let blocks = Blocks::new(&template);
        let strings = Strings::new(&template);
        let in_force = InForce::from_setting(&judging.setting);
        let plugin_keys = PluginKeys::new(&blocks, &in_force);
        let ctx = Context {
            template: &template,
            blocks: &blocks,
            strings: &strings,
            plugin_keys: &plugin_keys,
            source: &source,
            layout: file.layout.as_ref().ok(),
            dir: file.path.parent().unwrap_or(Path::new(".")),
            external_variables: &judging.external_variables,
            in_force: &in_force,
        };
        for rule in RULES {
            if let Some(check) = rule.check {
                check(&ctx, &mut findings);
            }
        }
    }
    FileReport::with_allows(file.rel.clone(), source, findings.into_vec(), &allows, Syntax::Json)
}

/// Reports what stopped the template being read, as the rule of its kind.
fn report_read_problem(problem: ReadProblem, findings: &mut Findings) {
    let rule = match problem.kind {
        ReadProblemKind::UnreadableFile => &UNREADABLE_FILE.meta,
        ReadProblemKind::InvalidJson => &INVALID_JSON.meta,
        ReadProblemKind::NotAnObject => &NOT_AN_OBJECT.meta,
    };
    findings.report(rule, problem.location, problem.message).help = problem.help;
}

fn report_layout(file: &TemplateFile, findings: &mut Findings) {
    if let Err(problem) = &file.layout {
        findings.report(&BAD_LAYOUT.meta, Location::File, problem.clone()).help(
            "templates live at packer/<release>/<cloud>/<image>/template.json, e.g. packer/3.9/aws/machine-image/template.json",
        );
    }
}

/// Runs the command: prints the report, exits 1 when there are errors.
/// `rules` is every rule (`catalogue::registry`).
pub fn run(options: &Options, format: Format, rules: &Registry) -> Result<ExitCode> {
    if options.files.is_empty() {
        options.filter.check_matches(&options.root)?;
    }
    let report = lint(options, rules)?;
    show!("{}", render::render(&report, format, "template file", rules, &options.root));
    if options.files.is_empty() && !options.root.join("packer").is_dir() {
        say!(
            "note: {} has no packer/ folder, so no template was checked; templates live at \
             packer/<release>/<cloud>/<image>/ below the repository's top (--root)",
            options.root.display()
        );
    }
    Ok(if report.has_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
