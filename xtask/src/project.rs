//! The shape of the infrastructure repository: where templates live, what a
//! release and a cloud are, and how to find the templates to work on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use walkdir::WalkDir;

use crate::fsutil::{self, Unreadable};

/// The repository to work on, found when xtask runs, never where it was
/// compiled: checkouts that share a target folder (a global
/// `CARGO_TARGET_DIR`, git worktrees) run the same build of xtask. First the
/// workspace of the package `cargo run` started (cargo sets
/// `CARGO_MANIFEST_DIR` for the process it runs, `<root>/xtask`), else the
/// current folder or the nearest folder above it that is a repository.
pub fn workspace_root() -> Result<PathBuf> {
    let from_cargo = std::env::var_os("CARGO_MANIFEST_DIR")
        .and_then(|manifest_dir| Path::new(&manifest_dir).parent().map(Path::to_path_buf))
        .filter(|dir| is_repository(dir));
    if let Some(root) = from_cargo {
        return Ok(root);
    }
    let here = std::env::current_dir().context("reading the current folder")?;
    here.ancestors().find(|dir| is_repository(dir)).map(Path::to_path_buf).with_context(|| {
        format!(
            "no repository at or above {}: run cargo xtask inside the repository (the folder whose Cargo.toml \
             sits beside packer/ or deployments/), or pass --root DIR",
            here.display()
        )
    })
}

/// The workspace's folder: its `Cargo.toml` beside `packer/` or
/// `deployments/`.
fn is_repository(dir: &Path) -> bool {
    dir.join("Cargo.toml").is_file() && (dir.join("packer").is_dir() || dir.join("deployments").is_dir())
}

/// A cloud folder name, the builder types that belong under it and the
/// deployment files' `cloud` value.
pub struct Cloud {
    pub name: &'static str,
    pub builder_prefixes: &'static [&'static str],
    /// Its images are made per region, and a deployment names the one it
    /// boots in (`cluster.region`); otherwise one image serves every region
    /// and is recorded under [`crate::deployments::GLOBAL`].
    pub regional: bool,
}

/// The configuration at the root, `xtask.toml`.
pub const CONFIG_FILE: &str = "xtask.toml";

pub const CLOUDS: &[Cloud] = &[
    Cloud { name: "aws", builder_prefixes: &["amazon-"], regional: true },
    Cloud { name: "gce", builder_prefixes: &["googlecompute"], regional: false },
    Cloud { name: "openstack", builder_prefixes: &["openstack"], regional: false },
    Cloud { name: "azure", builder_prefixes: &["azure-"], regional: false },
];

pub fn cloud(name: &str) -> Option<&'static Cloud> {
    CLOUDS.iter().find(|cloud| cloud.name == name)
}

impl Cloud {
    /// Whether the cloud named `name` (a deployment's `cloud`, a template's
    /// cloud folder) makes its images per region; an unknown cloud does not.
    pub fn is_regional(name: &str) -> bool {
        cloud(name).is_some_and(|cloud| cloud.regional)
    }

    pub fn owns_builder(&self, builder_type: &str) -> bool {
        self.builder_prefixes.iter().any(|prefix| builder_type.starts_with(prefix))
    }
}

/// A release folder name is a version: digits separated by dots, at least
/// two parts (`3.9`, `3.11`, `4.1.2`).
pub fn is_release(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.len() >= 2 && parts.iter().all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
}

/// Where a template sits in `packer/<release>/<cloud>/<image>/template.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub release: String,
    pub cloud: String,
    pub image: String,
}

impl Layout {
    /// Reads the layout from a root-relative path: a `template.json` or
    /// an HCL2 template's folder. Says what is wrong when the path does not
    /// follow it.
    pub fn from_relative(rel: &str) -> Result<Layout, String> {
        let parts: Vec<&str> = rel.split('/').collect();
        let wrong_place =
            || format!("`{rel}` is not at packer/<release>/<cloud>/<image>/ (template.json or *.pkr.hcl)");
        let (packer, release, cloud_name, image) = match parts[..] {
            [packer, release, cloud, image, "template.json"] => (packer, release, cloud, image),
            [packer, release, cloud, image] if image != "template.json" => (packer, release, cloud, image),
            _ => return Err(wrong_place()),
        };
        if packer != "packer" {
            return Err(wrong_place());
        }
        if !is_release(release) {
            return Err(format!("release folder `{release}` is not a version such as 3.9 or 3.11"));
        }
        if cloud(cloud_name).is_none() {
            let known: Vec<&str> = CLOUDS.iter().map(|cloud| cloud.name).collect();
            return Err(format!("cloud folder `{cloud_name}` is not one of {}", known.join(", ")));
        }
        Ok(Layout { release: release.to_owned(), cloud: cloud_name.to_owned(), image: image.to_owned() })
    }

    /// `3.9-aws-machine-image`, for log and file names.
    pub fn slug(&self) -> String {
        format!("{}-{}-{}", self.release, self.cloud, self.image)
    }
}

/// How a template is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TemplateFormat {
    /// One `template.json`.
    Json,
    /// A folder of `*.pkr.hcl` files, with optional `*.pkrvars.hcl`.
    Hcl2,
}

/// A template to work on, found by the walk or named on the command line.
#[derive(Clone, Debug)]
pub struct TemplateFile {
    /// The `template.json`, or the folder of an HCL2 template.
    pub path: PathBuf,
    /// Relative to the root with forward slashes, or as given when outside it.
    pub rel: String,
    pub format: TemplateFormat,
    pub layout: Result<Layout, String>,
    /// Set when the walk itself failed here (a symlink loop, a permission
    /// problem): the file cannot be read at all.
    pub walk_error: Option<String>,
}

impl TemplateFile {
    /// A `template.json`, or the HCL2 template that a `*.pkr.hcl` or
    /// `*.pkrvars.hcl` file belongs to.
    pub fn new(root: &Path, path: PathBuf) -> TemplateFile {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        match path.parent() {
            Some(folder) if crate::hcl2::FileKind::of(&name).is_some() => {
                TemplateFile::folder(root, folder.to_path_buf())
            }
            _ => TemplateFile::at(root, path, TemplateFormat::Json),
        }
    }

    /// The HCL2 template of a folder.
    pub fn folder(root: &Path, folder: PathBuf) -> TemplateFile {
        TemplateFile::at(root, folder, TemplateFormat::Hcl2)
    }

    fn at(root: &Path, path: PathBuf, format: TemplateFormat) -> TemplateFile {
        let rel = relative(root, &path);
        let layout = Layout::from_relative(&rel);
        TemplateFile { path, rel, format, layout, walk_error: None }
    }

    /// The folder the template is in (an HCL2 template's own folder).
    pub fn dir(&self) -> &Path {
        match self.format {
            TemplateFormat::Hcl2 => &self.path,
            TemplateFormat::Json => self.path.parent().unwrap_or(Path::new(".")),
        }
    }
}

/// `path` relative to `root` with forward slashes, or as it is when it is
/// not below the root.
pub fn relative(root: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    shown.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// A path below the root (`rel`, root-relative) as a person standing in
/// the current folder can use it: relative to that folder when it is in the
/// repository (`../../target/xtask/images/3.9-aws-machine-image.log` from
/// `packer/3.9`), else absolute.
pub fn shown_from_here(root: &Path, rel: &str) -> String {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let here = std::env::current_dir().and_then(std::fs::canonicalize);
    match here.as_ref().ok().and_then(|here| here.strip_prefix(&root).ok()) {
        Some(inside) => format!("{}{rel}", "../".repeat(inside.components().count())),
        None => root.join(rel).display().to_string(),
    }
}

/// How a person reads the root-relative paths of diagnostics: from the
/// folder they stand in when it is inside the repository
/// (`aws/machine-image/template.json` and `../../deployments/a.yaml` from
/// `packer/3.11`), and as they are, from the root, when it is not (a
/// `--root` elsewhere: the paths of the repository they named). Machine
/// outputs (JSON, SARIF, GitHub annotations) keep them root-relative.
#[derive(Clone, Debug, Default)]
pub struct ShownPaths {
    /// The current folder's names below the root; none at the root or
    /// outside it.
    here: Vec<String>,
}

impl ShownPaths {
    /// From the current folder, read once.
    pub fn from_current_folder(root: &Path) -> ShownPaths {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let here = std::env::current_dir().and_then(std::fs::canonicalize);
        let inside = here.as_ref().ok().and_then(|here| here.strip_prefix(&root).ok());
        let here = inside
            .map(|inside| inside.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        ShownPaths { here }
    }

    /// `rel` (root-relative, forward slashes) as seen from there. A path
    /// that is not below the root (absolute) is shown as it is.
    pub fn show(&self, rel: &str) -> String {
        if self.here.is_empty() || Path::new(rel).is_absolute() {
            return rel.to_owned();
        }
        let parts: Vec<&str> = rel.split('/').filter(|part| !part.is_empty()).collect();
        let common = self.here.iter().zip(&parts).take_while(|(here, part)| here == *part).count();
        let mut shown = vec![".."; self.here.len() - common];
        shown.extend(&parts[common..]);
        if shown.is_empty() { ".".to_owned() } else { shown.join("/") }
    }
}

/// Orders releases as versions: 3.9 before 3.11 before 4.0. A name that
/// is no version sorts after every version, as text.
pub fn release_order(a: &str, b: &str) -> std::cmp::Ordering {
    let numbers = |text: &str| -> Option<Vec<u64>> { text.split('.').map(|part| part.parse().ok()).collect() };
    match (numbers(a), numbers(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Orders paths folder by folder, each name by [`release_order`]:
/// `packer/3.9/…` before `packer/3.11/…`.
pub fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let names = |path: &Path| -> Vec<String> {
        path.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect()
    };
    let (a, b) = (names(a), names(b));
    a.iter()
        .zip(&b)
        .map(|(a, b)| release_order(a, b))
        .find(|order| order.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// What a command works on: the repository, the filter of `--release`,
/// `--cloud` and `--image`, and the paths it was given.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub root: PathBuf,
    pub filter: Filter,
    /// The paths as given, each checked to exist.
    pub paths: Vec<PathBuf>,
}

/// Which templates to take: release, cloud and image filters, each empty
/// for all.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub releases: Vec<String>,
    pub clouds: Vec<String>,
    /// Image folder names (`machine-image`).
    pub images: Vec<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.releases.is_empty() && self.clouds.is_empty() && self.images.is_empty()
    }

    /// Whether a release, cloud and image pass the filter.
    pub fn accepts_layout(&self, layout: &Layout) -> bool {
        (self.releases.is_empty() || self.releases.contains(&layout.release))
            && (self.clouds.is_empty() || self.clouds.contains(&layout.cloud))
            && (self.images.is_empty() || self.images.contains(&layout.image))
    }

    /// An error when the filter leaves no template of the root's in, listing
    /// the releases, clouds and images there are: a mistyped `--release`
    /// must not look like a clean run.
    pub fn check_matches(&self, root: &Path) -> anyhow::Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let everything = find_all_templates(root, &Filter::default());
        if everything.iter().any(|file| self.accepts(file)) {
            return Ok(());
        }
        let layouts: Vec<Layout> = everything.iter().filter_map(|file| file.layout.clone().ok()).collect();
        let list = |part: fn(&Layout) -> &String| {
            let mut names: Vec<&str> = layouts.iter().map(|layout| part(layout).as_str()).collect();
            names.sort_by(|a, b| release_order(a, b));
            names.dedup();
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        };
        anyhow::bail!(
            "no template matches {}; the releases here: {}; the clouds: {}; the images: {}",
            self.flags(),
            list(|layout| &layout.release),
            list(|layout| &layout.cloud),
            list(|layout| &layout.image)
        )
    }

    /// The filter as it was given: `--release 9.9 --cloud aws`.
    pub fn flags(&self) -> String {
        let given = [("release", &self.releases), ("cloud", &self.clouds), ("image", &self.images)];
        let flags: Vec<String> = given
            .iter()
            .flat_map(|(flag, values)| values.iter().map(move |value| format!("--{flag} {value}")))
            .collect();
        flags.join(" ")
    }

    pub fn accepts(&self, file: &TemplateFile) -> bool {
        if self.is_empty() {
            return true;
        }
        // A template in its place whose layout is refused for another
        // reason (a folder holding both kinds) is still of its release
        // and cloud.
        let from_path;
        let layout = match &file.layout {
            Ok(layout) => layout,
            Err(_) => match Layout::from_relative(&file.rel) {
                Ok(layout) => {
                    from_path = layout;
                    &from_path
                }
                Err(_) => return false,
            },
        };
        self.accepts_layout(layout)
    }
}

/// Every `template.json` below `<root>/packer`, sorted by path: the
/// templates `images` builds today. [`find_all_templates`] adds the HCL2
/// folders.
pub fn find_templates(root: &Path, filter: &Filter) -> Vec<TemplateFile> {
    let mut found = find_all_templates(root, filter);
    found.retain(|file| file.format == TemplateFormat::Json);
    found
}

/// Every template below `<root>/packer`, JSON and HCL2, sorted by path
/// with releases as versions ([`path_order`]).
/// Files at the wrong depth are included too (with a layout error), as
/// are places where the walk failed, so that nothing is skipped in
/// silence. A folder that holds both a `template.json` and `*.pkr.hcl`
/// files yields both, each with a layout error that says to keep one.
pub fn find_all_templates(root: &Path, filter: &Filter) -> Vec<TemplateFile> {
    walk_templates(root, filter, |_| {})
}

/// [`find_all_templates`], handing each `template.json` the filter takes
/// to `early` as soon as the walk meets it, so that work on it can start
/// while the walk goes on. What `early` gets may still change (a folder
/// that turns out to hold `*.pkr.hcl` files too): the returned list is the
/// one to go by.
pub fn walk_templates(root: &Path, filter: &Filter, mut early: impl FnMut(&TemplateFile)) -> Vec<TemplateFile> {
    let packer = root.join("packer");
    let mut found = Vec::new();
    let mut hcl2_folders: Vec<PathBuf> = Vec::new();
    // A folder's files may come apart in the walk (a subfolder sorts
    // between them): each folder is one template, once.
    let mut seen_folders: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let walk = WalkDir::new(&packer).follow_links(true).sort_by_file_name();
    for entry in walk {
        match entry {
            Ok(entry) => {
                let name = entry.file_name().to_string_lossy();
                if name == "template.json" {
                    let file = TemplateFile::new(root, entry.into_path());
                    if filter.accepts(&file) {
                        early(&file);
                    }
                    found.push(file);
                } else if entry.file_type().is_file()
                    && (crate::hcl2::FileKind::of(&name).is_some() || crate::hcl2::is_json_syntax_file(&name))
                    && let Some(folder) = entry.path().parent()
                    && seen_folders.insert(folder.to_path_buf())
                {
                    hcl2_folders.push(folder.to_path_buf());
                }
            }
            Err(error) => {
                let Some(path) = error.path() else { continue };
                if path == packer && error.io_error().is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound) {
                    continue;
                }
                // A symlink to nothing is a template only when it is named
                // like one; elsewhere (a script) the rule that reads the
                // template's references reports it.
                if let Err(dangling @ Unreadable::DanglingSymlink(_)) = fsutil::regular_file(path) {
                    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
                    if name == "template.json" {
                        let mut file = TemplateFile::new(root, path.to_path_buf());
                        file.walk_error = Some(dangling.to_string());
                        found.push(file);
                    } else if crate::hcl2::FileKind::of(&name).is_some()
                        && let Some(folder) = path.parent()
                        && seen_folders.insert(folder.to_path_buf())
                    {
                        // Its folder is a template, whose lint says the file cannot be read.
                        hcl2_folders.push(folder.to_path_buf());
                    }
                    continue;
                }
                let reason = match error.loop_ancestor() {
                    Some(ancestor) => format!("symbolic link loop: it leads back to `{}`", relative(root, ancestor)),
                    None => error.io_error().map_or_else(|| error.to_string(), |io| io.to_string()),
                };
                let mut file = TemplateFile::new(root, path.to_path_buf());
                file.walk_error = Some(reason);
                found.push(file);
            }
        }
    }
    // The folders that hold a real template.json (not a place the walk
    // failed at), to tell a folder that holds both kinds.
    let json_at: std::collections::HashMap<PathBuf, usize> = found
        .iter()
        .enumerate()
        .filter(|(_, file)| {
            file.format == TemplateFormat::Json
                && file.walk_error.is_none()
                && file.path.file_name().is_some_and(|name| name == "template.json")
        })
        .map(|(index, file)| (file.dir().to_path_buf(), index))
        .collect();
    for folder in hcl2_folders {
        let hcl2 = TemplateFile::folder(root, folder);
        match json_at.get(hcl2.dir()) {
            // Var files beside a JSON template are no template of their own.
            Some(_) if !crate::hcl2::holds_template_files(hcl2.dir()) => {}
            Some(&index) => {
                let both = format!(
                    "`{}` holds both template.json and *.pkr.hcl files, and a build reads only one of them: \
                     keep template.json or the .pkr.hcl files (`packer hcl2_upgrade` converts JSON), and delete the \
                     other",
                    hcl2.rel
                );
                found[index].layout = Err(both.clone());
                found.push(TemplateFile { layout: Err(both), ..hcl2 });
            }
            None => found.push(hcl2),
        }
    }
    found.sort_by(|a, b| path_order(&a.path, &b.path));
    found.retain(|file| filter.accepts(file));
    found
}

/// The templates that exist per (release, cloud): the image folder names.
pub fn images_by_release_cloud(files: &[TemplateFile]) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for file in files {
        if let Ok(layout) = &file.layout {
            out.entry((layout.release.clone(), layout.cloud.clone())).or_default().insert(layout.image.clone());
        }
    }
    out
}

/// The templates in the folders `--select` names (all when it names none);
/// a folder with no template is an error, not an empty run. The lifecycle
/// commands select the same way.
pub fn select(templates: Vec<TemplateFile>, folders: &[String], root: &Path) -> Result<Vec<TemplateFile>> {
    if folders.is_empty() {
        return Ok(templates);
    }
    let wanted: Vec<String> = folders.iter().map(|folder| selected_folder(folder, root)).collect();
    let folder_of = |file: &TemplateFile| file.rel.strip_suffix("/template.json").unwrap_or(&file.rel).to_owned();
    for folder in &wanted {
        if !templates.iter().any(|file| &folder_of(file) == folder) {
            anyhow::bail!(
                "--select {folder}: no template there (template.json or *.pkr.hcl), nor one that --release/--cloud \
                 leave in"
            );
        }
    }
    Ok(templates.into_iter().filter(|file| wanted.contains(&folder_of(file))).collect())
}

/// The template folder, relative to the root, that a `--select` value or
/// a path names: a template's file names its folder (template.json, or
/// any file of an HCL2 folder), and a path that exists, from here or
/// absolute, is taken as one; otherwise it is taken as written, relative
/// to the repository.
pub fn selected_folder(given: &str, root: &Path) -> String {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let folder = given.trim_end_matches('/');
    let folder = match folder.rsplit_once('/') {
        Some((parent, name)) if name == "template.json" || crate::hcl2::FileKind::of(name).is_some() => parent,
        _ => folder,
    };
    match std::fs::canonicalize(folder).ok().and_then(|path| path.strip_prefix(&root).ok().map(Path::to_path_buf)) {
        Some(inside) => crate::project::relative(Path::new(""), &inside),
        None => folder.trim_start_matches("./").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_from_the_current_folder() {
        let from = |here: &[&str]| ShownPaths { here: here.iter().map(|name| name.to_string()).collect() };
        let template = "packer/3.11/aws/machine-image/template.json";
        assert_eq!(ShownPaths::default().show(template), template);
        assert_eq!(from(&["packer", "3.11"]).show(template), "aws/machine-image/template.json");
        assert_eq!(from(&["packer", "3.11"]).show("deployments/a.yaml"), "../../deployments/a.yaml");
        assert_eq!(from(&["packer", "3.9"]).show(template), "../3.11/aws/machine-image/template.json");
        assert_eq!(from(&["packer", "3.11", "aws", "machine-image"]).show("packer/3.11"), "../..");
        assert_eq!(from(&["deployments"]).show("deployments"), ".");
        assert_eq!(from(&["deployments"]).show("/elsewhere/t.json"), "/elsewhere/t.json");
    }

    #[test]
    fn the_current_folder_counts_only_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let here = std::env::current_dir().unwrap();
        // The tests run in the package's folder, xtask/: below the
        // workspace, outside a temporary root.
        assert_eq!(ShownPaths::from_current_folder(dir.path()).here, Vec::<String>::new());
        let workspace = here.parent().unwrap();
        assert_eq!(ShownPaths::from_current_folder(workspace).show("deployments/a.yaml"), "../deployments/a.yaml");
    }

    #[test]
    fn releases_are_versions() {
        assert!(is_release("3.9"));
        assert!(is_release("3.11"));
        assert!(is_release("4.1.2"));
        assert!(!is_release("3"));
        assert!(!is_release("latest"));
        assert!(!is_release("3..9"));
    }

    #[test]
    fn a_folder_holds_both_kinds_only_with_template_files_of_both() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let put = |rel: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        };
        put("packer/3.9/aws/both/template.json");
        put("packer/3.9/aws/both/main.pkr.hcl");
        put("packer/3.9/aws/vars/template.json");
        put("packer/3.9/aws/vars/prod.pkrvars.hcl");
        let all = find_all_templates(root, &Filter::default());
        let shown: Vec<(&str, bool)> = all.iter().map(|file| (file.rel.as_str(), file.layout.is_ok())).collect();
        assert_eq!(
            shown,
            [
                ("packer/3.9/aws/both", false),
                ("packer/3.9/aws/both/template.json", false),
                ("packer/3.9/aws/vars/template.json", true),
            ]
        );
        let release = Filter { releases: vec!["3.9".to_owned()], ..Filter::default() };
        assert_eq!(find_all_templates(root, &release).len(), 3, "--release keeps the folder that holds both");
        // A folder whose only template file leads nowhere is a template too.
        std::fs::create_dir_all(root.join("packer/4.0/aws/dangling")).unwrap();
        std::os::unix::fs::symlink("/nonexistent", root.join("packer/4.0/aws/dangling/main.pkr.hcl")).unwrap();
        let all = find_all_templates(root, &Filter::default());
        assert!(all.iter().any(|file| file.rel == "packer/4.0/aws/dangling"), "{all:?}");
    }

    #[test]
    fn releases_sort_as_versions() {
        let mut releases = vec!["4.0", "3.11", "latest", "3.9", "3.10.1", "10.0"];
        releases.sort_by(|a, b| release_order(a, b));
        assert_eq!(releases, ["3.9", "3.10.1", "3.11", "4.0", "10.0", "latest"]);
        let mut paths = vec!["packer/3.11/aws", "packer/3.9/gce/x", "packer/3.9/aws/x", "packer/3.9"];
        paths.sort_by(|a, b| path_order(Path::new(a), Path::new(b)));
        assert_eq!(paths, ["packer/3.9", "packer/3.9/aws/x", "packer/3.9/gce/x", "packer/3.11/aws"]);
    }

    #[test]
    fn a_filter_that_matches_nothing_lists_what_there_is() {
        let dir = tempfile::tempdir().unwrap();
        for rel in ["packer/3.11/aws/machine-image", "packer/3.9/gce/machine-image", "packer/3.9/aws/bastion-image"] {
            std::fs::create_dir_all(dir.path().join(rel)).unwrap();
            std::fs::write(dir.path().join(rel).join("template.json"), "{}").unwrap();
        }
        let filter = |releases: &[&str], images: &[&str]| Filter {
            releases: releases.iter().map(|text| text.to_string()).collect(),
            images: images.iter().map(|text| text.to_string()).collect(),
            ..Filter::default()
        };
        assert!(filter(&["3.9"], &["bastion-image"]).check_matches(dir.path()).is_ok());
        assert!(Filter::default().check_matches(dir.path()).is_ok());
        let error = filter(&["3.11"], &["bastion-image"]).check_matches(dir.path()).unwrap_err().to_string();
        assert_eq!(
            error,
            "no template matches --release 3.11 --image bastion-image; the releases here: 3.9, 3.11; the clouds: aws, \
             gce; the images: bastion-image, machine-image"
        );
    }

    #[test]
    fn layout_from_paths() {
        let layout = Layout::from_relative("packer/3.11/aws/bastion-image/template.json").unwrap();
        assert_eq!(layout.slug(), "3.11-aws-bastion-image");
        assert!(Layout::from_relative("packer/aws/template.json").is_err());
        assert_eq!(Layout::from_relative("packer/4.0/aws/machine-image").unwrap().slug(), "4.0-aws-machine-image");
        assert!(Layout::from_relative("packer/v3/aws/x/template.json").unwrap_err().contains("`v3`"));
        assert!(Layout::from_relative("packer/3.9/vmware/x/template.json").unwrap_err().contains("`vmware`"));
    }

    #[test]
    fn select_takes_folders_and_their_files_and_refuses_an_empty_one() {
        let root = Path::new("/nonexistent-root");
        let templates = vec![
            TemplateFile::new(root, root.join("packer/3.11/aws/machine-image/template.json")),
            TemplateFile::folder(root, root.join("packer/4.0/aws/machine-image")),
        ];
        let chosen = |folders: &[&str]| {
            let folders: Vec<String> = folders.iter().map(|folder| (*folder).to_owned()).collect();
            select(templates.clone(), &folders, root)
        };
        let rels = |files: Vec<TemplateFile>| files.into_iter().map(|file| file.rel).collect::<Vec<_>>();
        assert_eq!(rels(chosen(&[]).unwrap()).len(), 2);
        assert_eq!(
            rels(chosen(&["packer/3.11/aws/machine-image/template.json"]).unwrap()),
            ["packer/3.11/aws/machine-image/template.json"]
        );
        assert_eq!(
            rels(chosen(&["packer/4.0/aws/machine-image/build.pkr.hcl"]).unwrap()),
            ["packer/4.0/aws/machine-image"]
        );
        let error = chosen(&["packer/3.10/aws/machine-image/"]).unwrap_err().to_string();
        assert!(error.starts_with("--select packer/3.10/aws/machine-image: no template there"), "{error}");
    }
}
