//! `cargo xtask lint-deployments`: checks each `deployments/*.yaml` against
//! itself, the templates and the lock file.

pub mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::channels::Channels;
use crate::config::Config;
use crate::deployments::{self, Deployment, feeding_image};
use crate::diagnostic::{FileReport, Findings, Report, text_or_report};
use crate::freshness::{self, Freshness};
use crate::location::{Location, Syntax};
use crate::lock::{self, LockFile};
use crate::project::{self, Filter, TemplateFile};
use crate::readout::Readout;
use crate::registry::Registry;
use crate::render::{self, Format};
use crate::schema::in_force::Setting;
use crate::suppress;

use rules::{Context, INVALID_YAML, RULES};

/// A template as the deployment rules see it.
pub struct TemplateInfo {
    pub rel: String,
    pub image: String,
    /// Regions its builders cover (`global` for GCE); `None` when the
    /// template does not parse, so nothing can be said about them.
    pub regions: Option<Vec<String>>,
    /// Whether each image the lock records for it, by region, is current:
    /// judged with the values its build was given, as `status` judges it.
    pub freshness: BTreeMap<String, Freshness>,
}

/// Every template by (release, cloud).
#[derive(Default)]
pub struct TemplateIndex {
    by_release_cloud: BTreeMap<(String, String), Vec<TemplateInfo>>,
}

impl TemplateIndex {
    pub fn build(root: &Path, lock: Option<&LockFile>) -> TemplateIndex {
        let mut index = TemplateIndex::default();
        for file in project::find_all_templates(root, &Filter::default()) {
            let Ok(layout) = file.layout.clone() else { continue };
            let info = template_info(&file, &layout.image, lock);
            index.by_release_cloud.entry((layout.release, layout.cloud)).or_default().push(info);
        }
        index
    }

    pub fn templates(&self, release: &str, cloud: &str) -> &[TemplateInfo] {
        self.by_release_cloud.get(&(release.to_owned(), cloud.to_owned())).map_or(&[], Vec::as_slice)
    }

    /// The template that feeds a role of a deployment of this release and cloud.
    pub fn feeding(&self, release: &str, cloud: &str, role: &str) -> Option<&TemplateInfo> {
        let here = self.templates(release, cloud);
        let images: BTreeSet<String> = here.iter().map(|info| info.image.clone()).collect();
        let image = feeding_image(role, &images)?;
        here.iter().find(|info| info.image == image)
    }

    pub fn releases(&self, cloud: &str) -> Vec<&str> {
        self.by_release_cloud.keys().filter(|(_, c)| c == cloud).map(|(release, _)| release.as_str()).collect()
    }
}

fn template_info(file: &TemplateFile, image: &str, lock: Option<&LockFile>) -> TemplateInfo {
    let freshness = lock
        .and_then(|lock| lock.templates.get(&file.rel))
        .map(|locked| freshness::of_template(file, locked))
        .unwrap_or_default();
    let mut info = TemplateInfo { rel: file.rel.clone(), image: image.to_owned(), regions: None, freshness };
    let Ok(template) = Readout::read(file, &BTreeMap::new(), &Setting::default()) else { return info };
    // A region only the build knows, or one the environment decides
    // (`AWS_REGION`, `PKR_VAR_`), cannot be compared here.
    let knowable = template.unresolved.is_empty()
        && template.region_problems.is_empty()
        && template.builders.iter().all(|builder| !builder.from_run);
    info.regions = knowable.then(|| template.regions());
    info
}

/// What to lint.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub root: PathBuf,
    /// `--release`, `--cloud`, `--image`: only the deployments of these
    /// releases and clouds, with a role that image feeds.
    pub filter: Filter,
    /// Lint only these deployment files instead of all of `deployments/`.
    pub files: Vec<PathBuf>,
}

/// Whether a deployment passes the filter. One that cannot be read or
/// parsed is kept: its lint says what is wrong, and a filter must not hide it.
fn selected(filter: &Filter, root: &Path, path: &Path, templates: &TemplateIndex) -> bool {
    if filter.is_empty() {
        return true;
    }
    let Ok(deployment) = Deployment::load(root, path) else { return true };
    let (Some(release), Some(cloud)) = (deployment.release(), deployment.cloud()) else { return true };
    let of_release_cloud = (filter.releases.is_empty() || filter.releases.iter().any(|wanted| wanted == release))
        && (filter.clouds.is_empty() || filter.clouds.iter().any(|wanted| wanted == cloud));
    of_release_cloud
        && (filter.images.is_empty()
            || deployment.roles().iter().any(|role| {
                templates.feeding(release, cloud, role).is_some_and(|info| filter.images.contains(&info.image))
            }))
}

/// Lints the deployments `options` selects; `rules` is every rule, for the
/// names in `xtask.toml` and in `allow(…)`.
pub fn lint(options: &Options, rules: &Registry) -> Result<Report> {
    if !options.root.is_dir() {
        bail!("the root `{}` is not a folder; pass --root with the repository's top folder", options.root.display());
    }
    let paths = if options.files.is_empty() {
        deployments::find(&options.root)?
    } else {
        deployments::named(&options.files)?.into_iter().map(|path| below_root(&options.root, path)).collect()
    };
    // A corrupt lock is an error, as it is for `images`: taken as no lock,
    // it would silently turn off the stale- and unknown-image checks.
    let lock = Some(LockFile::read(&options.root)?).filter(|lock| !lock.templates.is_empty());
    let templates = TemplateIndex::build(&options.root, lock.as_ref());
    let config = Config::read(&options.root)?;
    let rule_settings = config.rule_settings(rules)?;
    let channels = config.channels.as_ref();
    let files = paths
        .iter()
        .filter(|path| selected(&options.filter, &options.root, path, &templates))
        .map(|path| lint_file(&options.root, path, &templates, lock.as_ref(), channels, rules))
        .collect();
    let mut report = Report { files };
    rule_settings.apply(&mut report);
    Ok(report)
}

/// A deployment named on the command line (from the current folder) as a
/// path below the root when it is in the repository, so that its reports
/// and `[per-file-ignores]` see it root-relative (`deployments/a.yaml`, not
/// `../deployments/a.yaml` from `packer/`), as a named template's are. Its
/// folder is resolved, not the file, which may be a symlink.
fn below_root(root: &Path, path: PathBuf) -> PathBuf {
    let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else { return path };
    let folder = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
    let (Ok(folder), Ok(top)) = (std::fs::canonicalize(folder), std::fs::canonicalize(root)) else { return path };
    match folder.strip_prefix(&top) {
        Ok(inside) => root.join(inside).join(name),
        Err(_) => path,
    }
}

pub fn lint_file(
    root: &Path,
    path: &Path,
    templates: &TemplateIndex,
    lock: Option<&LockFile>,
    channels: Option<&Channels>,
    rules: &Registry,
) -> FileReport {
    let rel = project::relative(root, path);
    let mut findings = Findings::default();
    let source = match deployments::read(path) {
        Err(problem) => {
            findings
                .report(&INVALID_YAML.meta, Location::File, format!("cannot read the deployment: {problem}"))
                .help(deployments::UNREADABLE_HELP);
            return FileReport::new(rel, String::new(), findings.into_vec(), Syntax::Json);
        }
        Ok(bytes) => match text_or_report(bytes, &INVALID_YAML.meta, "deployment", &mut findings) {
            Ok(text) => text,
            Err(lossy) => return FileReport::new(rel, lossy, findings.into_vec(), Syntax::Json),
        },
    };
    let deployment = match Deployment::parse(root, path, source.clone()) {
        Ok(deployment) => deployment,
        Err(error) => {
            findings
                .report(&INVALID_YAML.meta, Location::Offset(error.offset), format!("invalid YAML: {}", error.message))
                .help("fix the YAML here; nothing else in the file can be checked until it parses");
            return FileReport::new(rel, source, findings.into_vec(), Syntax::Json);
        }
    };
    if !matches!(deployment.root.kind, crate::yaml::Kind::Mapping(_)) {
        findings
            .report(
                &INVALID_YAML.meta,
                Location::File,
                "a deployment is a YAML mapping (release: …, cloud: …, cluster: …)",
            )
            .help("start from deployments/simple-aws-frankfurt-3.9.yaml");
        return FileReport::new(rel, source, findings.into_vec(), Syntax::Json);
    }
    let ctx = Context { deployment: &deployment, templates, lock, channels };
    for rule in RULES {
        if let Some(check) = rule.check {
            check(&ctx, &mut findings);
        }
    }
    let mut allows = suppress::yaml_allows(&source, rules, &mut findings);
    if lock.is_none() {
        suppress::only_rules_that_ran(&mut allows, &["stale-image", "unknown-image", "revoked-image"]);
    }
    FileReport::with_allows(rel, source, findings.into_vec(), &allows, Syntax::Yaml(&deployment.root))
}

/// Runs the command: prints the report, exits 1 when there are errors.
/// `rules` is every rule (`catalogue::registry`).
pub fn run(options: &Options, format: Format, rules: &Registry) -> Result<ExitCode> {
    if options.files.is_empty() {
        options.filter.check_matches(&options.root)?;
    }
    let report = lint(options, rules)?;
    show!("{}", render::render(&report, format, "deployment", rules, &options.root));
    if options.files.is_empty() && !options.root.join("deployments").is_dir() {
        say!(
            "note: {} has no deployments/ folder, so no deployment was checked; deployments live at \
             deployments/*.yaml below the repository's top (--root)",
            options.root.display()
        );
    }
    note_a_missing_lock(&options.root, format);
    Ok(if report.has_errors() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Says, to a person, that two rules wait for the lock file: without it a
/// clean report would promise more than was checked.
pub fn note_a_missing_lock(root: &Path, format: Format) {
    let has_deployments = deployments::find(root).is_ok_and(|found| !found.is_empty());
    if format == Format::Human && has_deployments && !lock::path(root).exists() {
        say!(
            "note: packer/images.lock does not exist yet, so stale-image and unknown-image were not checked; \
             `cargo xtask images` writes it with its first build (`cargo xtask demo` shows one)"
        );
    }
}
