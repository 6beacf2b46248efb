//! Packer's plugins, for the Packer people install today: which plugin a
//! template's types come from, what is installed, `packer init` for an HCL2
//! folder's `required_plugins` and `packer plugins install` for the pins of
//! `xtask.toml`.
//!
//! Which types Packer has built in and which plugin provides the others
//! comes from the knowledge of every release (`crate::schema`); the
//! releases that brought `packer init`, `packer plugins` and the end of
//! bundled plugins from `crate::schema::features`. The commands' behaviour
//! is read from Packer's sources at v1.16.0.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};

use anyhow::{Context as _, Result};

use crate::schema::features::UNBUNDLED_SINCE;
use crate::schema::{PluginKind, knowledge};
use crate::version::Version;

/// The name of the plugin a type comes from: the one the knowledge says
/// provides it, else by Packer's naming, which is all there is to go on
/// for a plugin xtask does not know: Packer registers a plugin's
/// components as `<plugin>-<component>` and its default one as `<plugin>`
/// (DiscoverMultiPlugin in packer/plugin.go at v1.16.0), so `comment-x`
/// is `comment`'s. (A plugin whose own name holds a `-` would be misread
/// that way; none xtask knows does.)
pub fn plugin_name(kind: PluginKind, type_name: &str) -> &str {
    knowledge().plugin_of_type(kind, type_name).unwrap_or_else(|| type_name.split('-').next().unwrap_or(type_name))
}

/// The source to install a plugin from, when xtask knows the plugin:
/// `github.com/hashicorp/amazon` for `amazon`.
fn known_source(name: &str) -> Option<String> {
    let knowledge = knowledge();
    let source = knowledge.source(name).filter(|at| *at != crate::schema::CORE)?;
    Some(knowledge.sources[source].address())
}

/// A type a template uses, outside what a `required_plugins` entry covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginUse {
    pub kind: PluginKind,
    pub type_name: String,
    /// Where, for messages: `template.json`, `build.pkr.hcl:12`.
    pub place: String,
}

impl PluginUse {
    pub fn new(kind: PluginKind, type_name: &str, place: String) -> PluginUse {
        PluginUse { kind, type_name: type_name.to_owned(), place }
    }

    fn describe(&self) -> String {
        format!("the {} `{}` ({})", self.kind.noun(), self.type_name, self.place)
    }
}

/// The last part of a plugin source, its name: `amazon` of
/// `github.com/hashicorp/amazon` (a `packer-plugin-` prefix, as the
/// repositories are named, taken off).
pub fn source_name(source: &str) -> &str {
    let last = source.rsplit('/').next().unwrap_or(source);
    last.strip_prefix("packer-plugin-").unwrap_or(last)
}

/// The pins (source, version) that the types a template uses outside the
/// core of Packer `packer` (a release that bundles no plugin) need, each
/// once; or why it cannot be built: a use no pin covers, with the line to
/// add.
pub fn pins_for(
    uses: &[PluginUse],
    pins: &BTreeMap<String, String>,
    packer: &str,
) -> Result<Vec<(String, String)>, String> {
    let release = Version::of_packer(packer);
    let mut needed: Vec<(String, String)> = Vec::new();
    let mut unpinned: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let in_hcl2 = uses.iter().any(|used| used.place.contains(".pkr.hcl"));
    for used in uses {
        if release.is_some_and(|release| knowledge().built_into_packer(used.kind, &used.type_name, release)) {
            continue;
        }
        let name = plugin_name(used.kind, &used.type_name);
        match pins.iter().find(|(source, _)| source_name(source) == name) {
            Some((source, version)) => {
                let pin = (source.clone(), version.clone());
                if !needed.contains(&pin) {
                    needed.push(pin);
                }
            }
            None => {
                let source = known_source(name);
                let line = match &source {
                    Some(source) => format!("\"{source}\" = \"X.Y.Z\""),
                    None => format!("\"github.com/<owner>/{name}\" = \"X.Y.Z\""),
                };
                unpinned.push(format!(
                    "{} comes from the plugin {}",
                    used.describe(),
                    source.unwrap_or_else(|| format!("named `{name}` (packer-plugin-{name})"))
                ));
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
        }
    }
    if unpinned.is_empty() {
        return Ok(needed);
    }
    let or_required = if in_hcl2 {
        " (or require it in the folder's `packer { required_plugins { … } }`, which `packer init` installs)"
    } else {
        ""
    };
    Err(format!(
        "{}, and Packer {packer} bundles no plugin (none since {UNBUNDLED_SINCE}) while xtask.toml pins no version \
         of {}; add the release to build with to xtask.toml{or_required}, and xtask installs it with `packer plugins \
         install SOURCE VERSION` before building (`packer plugins installed` lists the versions installed \
         here):\n[packer.plugins]\n{}",
        unpinned.join("; "),
        if lines.len() == 1 { "it" } else { "them" },
        lines.join("\n")
    ))
}

/// A plugin binary installed in Packer's plugin folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    pub path: String,
    /// `amazon`, from `packer-plugin-amazon_v1.3.2_x5.0_linux_amd64`.
    pub name: String,
    /// `1.3.2`, without the file name's `v`.
    pub version: String,
}

impl Installed {
    /// Whether it was installed from `source`: Packer puts a plugin in
    /// `<plugin folder>/<source>/` (InstallLatest in
    /// packer/plugin-getter/plugins.go at v1.16.0).
    pub fn is_from(&self, source: &str) -> bool {
        Path::new(&self.path).parent().is_some_and(|folder| folder.ends_with(source))
    }
}

/// Reads a plugin binary's name, `packer-plugin-<name>_v<version>_x<api>_<os>_<arch>`
/// (the convention getPluginBinaries checks in
/// packer/plugin-getter/plugins.go at v1.16.0): its name and version.
pub fn parse_binary_name(file_name: &str) -> Option<(&str, &str)> {
    let rest = file_name.strip_prefix("packer-plugin-")?;
    let (name, rest) = rest.split_once('_')?;
    let version = rest.strip_prefix('v')?.split('_').next()?;
    let well_formed = !name.is_empty()
        && version.split(['-', '+']).next().is_some_and(|core| {
            core.split('.').count() == 3
                && core.split('.').all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
    well_formed.then_some((name, version))
}

/// Reads `packer plugins installed`: one binary's path a line
/// (command/plugins_installed.go at v1.16.0); lines that are not one are
/// passed over.
pub fn parse_installed(output: &str) -> Vec<Installed> {
    output
        .lines()
        .map(str::trim)
        .filter_map(|path| {
            let file_name = Path::new(path).file_name()?.to_str()?;
            let (name, version) = parse_binary_name(file_name)?;
            Some(Installed { path: path.to_owned(), name: name.to_owned(), version: version.to_owned() })
        })
        .collect()
}

/// The installation of a plugin name that Packer 1.16 loads for types no
/// `required_plugins` covers: the highest version of that name, whatever
/// its source (Discover in packer/plugin.go at v1.16.0 walks every
/// installation sorted by name and version, the last one of a name wins).
pub fn loaded<'a>(installed: &'a [Installed], name: &str) -> Option<&'a Installed> {
    installed.iter().filter(|plugin| plugin.name == name).max_by(|a, b| compare_versions(&a.version, &b.version))
}

/// Orders `1.3.2` and `1.10.0` as versions; a pre-release before its release.
fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |text: &str| -> (Vec<u64>, bool) {
        let core = text.split(['-', '+']).next().unwrap_or_default();
        (core.split('.').map(|n| n.parse().unwrap_or(0)).collect(), !text.contains('-'))
    };
    split(a).cmp(&split(b))
}

/// Reads `packer plugins required .`: a line per requirement, its accessor,
/// source, constraint and every installation that meets it
/// (command/plugins_required.go at v1.16.0). Returns each source's highest
/// installed version, the one a build loads (DetectPluginBinaries in
/// hcl2template/plugin.go takes the last of the sorted installations).
pub fn parse_required(output: &str) -> BTreeMap<String, String> {
    let mut used = BTreeMap::new();
    for line in output.lines() {
        let mut words = line.split_whitespace();
        let (Some(_accessor), Some(source)) = (words.next(), words.next()) else { continue };
        if !source.contains('/') {
            continue;
        }
        let mut best: Option<&str> = None;
        for (at, _) in line.match_indices("packer-plugin-") {
            let file_name = line[at..].split_whitespace().next().unwrap_or_default();
            if let Some((_, version)) = parse_binary_name(file_name)
                && best.is_none_or(|best| compare_versions(version, best).is_gt())
            {
                best = Some(version);
            }
        }
        if let Some(version) = best {
            used.insert(source.to_owned(), version.to_owned());
        }
    }
    used
}

/// What a Packer command said, standard output then standard error, and
/// whether it succeeded.
pub struct Ran {
    pub succeeded: bool,
    pub output: String,
}

/// Runs `packer <args>` in `dir`, in a process group of its own so that an
/// interrupt can be passed on to it as to a build; `started` is given its
/// pid.
fn run(packer: &Path, dir: &Path, args: &[&str], started: impl FnOnce(u32)) -> Result<Ran> {
    use std::os::unix::process::CommandExt;
    let child = Command::new(packer)
        .args(args)
        .current_dir(dir)
        .envs(crate::packer::folder_environment())
        .env("PACKER_NO_COLOR", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {} {} in {}", packer.display(), args.join(" "), dir.display()))?;
    started(child.id());
    let output = child.wait_with_output().with_context(|| format!("waiting for packer {}", args.join(" ")))?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok(Ran { succeeded: output.status.success(), output: text.trim_end().to_owned() })
}

/// `packer init .` in an HCL2 folder: installs the plugins its
/// `required_plugins` need and are missing, says nothing for those
/// installed (command/init.go at v1.16.0).
pub fn init(packer: &Path, dir: &Path, started: impl FnOnce(u32)) -> Result<Ran> {
    run(packer, dir, &["init", "."], started)
}

/// `packer plugins required .`: the version of each required plugin a
/// build of the folder loads.
pub fn required(packer: &Path, dir: &Path) -> Result<BTreeMap<String, String>> {
    let ran = run(packer, dir, &["plugins", "required", "."], |_| {})?;
    if !ran.succeeded {
        anyhow::bail!("`packer plugins required .` in {} failed: {}", dir.display(), ran.output);
    }
    Ok(parse_required(&ran.output))
}

/// `packer plugins installed`: every plugin binary installed.
pub fn installed(packer: &Path) -> Result<Vec<Installed>> {
    let ran = run(packer, Path::new("."), &["plugins", "installed"], |_| {})?;
    if !ran.succeeded {
        anyhow::bail!("`packer plugins installed` failed: {}", ran.output);
    }
    Ok(parse_installed(&ran.output))
}

/// `packer plugins install SOURCE VERSION`: always asks the plugin's
/// release host first, even when that version is installed
/// (InstallLatest in packer/plugin-getter/plugins.go at v1.16.0), so call
/// it only for a version [`installed`] does not list.
pub fn install(packer: &Path, source: &str, version: &str) -> Result<Ran> {
    run(packer, Path::new("."), &["plugins", "install", source, version], |_| {})
}

/// What `packer init` or `packer plugins install` says went wrong, on
/// one line: its first line and the `* …` causes below it (the getters'
/// errors, under go-multierror's `1 error occurred:`), or its second line
/// when it lists none.
pub fn failure_cause(output: &str) -> String {
    let mut lines = output.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next().unwrap_or("no output");
    let rest: Vec<&str> = lines.collect();
    let causes: Vec<&str> = rest.iter().filter_map(|line| line.strip_prefix("* ")).collect();
    let first = first.strip_prefix("Error: ").unwrap_or(first).trim_end_matches(':');
    match (causes.is_empty(), rest.first()) {
        (false, _) => format!("{first}: {}", causes.join("; ")),
        (true, Some(second)) => format!("{first}: {second}"),
        (true, None) => first.to_owned(),
    }
}

/// What to do when Packer cannot fetch a plugin, for every message that
/// says so: only the plugin host can give one, and CI has none.
pub const CACHE_HINT: &str = "with no way to the plugin's host, install it from a copy: `packer plugins install --path \
     ./packer-plugin-NAME_vX.Y.Z_x5.0_linux_amd64 SOURCE`, or restore a cached plugin folder and point \
     PACKER_PLUGIN_PATH at it (\"Plugins offline and in CI\" in docs/packer-versions.md says how)";

/// The folder Packer 1.16 installs plugins into: `PACKER_PLUGIN_PATH`, else
/// `plugins` in its configuration folder (packer/plugin_folders.go, and the
/// SDK's pathing: `PACKER_CONFIG_DIR/.packer.d`, an existing `~/.packer.d`,
/// `$XDG_CONFIG_HOME/packer`, or `~/.config/packer`).
pub fn plugin_folder() -> Option<PathBuf> {
    // As every Packer xtask starts is given them: relative ones made absolute.
    let absolute = crate::packer::folder_environment();
    let set = |name: &str| match absolute.iter().find(|(set, _)| *set == name) {
        Some((_, path)) => Some(path.clone()),
        None => std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from),
    };
    if let Some(path) = set("PACKER_PLUGIN_PATH") {
        // Several folders: Packer 1.10 and later refuse it, and say so.
        return (!path.as_os_str().as_encoded_bytes().contains(&b':')).then_some(path);
    }
    let config = if let Some(dir) = set("PACKER_CONFIG_DIR") {
        dir.join(".packer.d")
    } else {
        let home = set("HOME")?;
        if home.join(".packer.d").exists() {
            home.join(".packer.d")
        } else if let Some(xdg) = set("XDG_CONFIG_HOME") {
            xdg.join("packer")
        } else {
            home.join(".config/packer")
        }
    };
    Some(config.join("plugins"))
}

/// Held while Packer installs plugins. Packer 1.16 takes no lock of its
/// own: it writes a plugin binary in place and through a temporary file of
/// a fixed name (InstallLatest in packer/plugin-getter/plugins.go), so two
/// installs of one plugin at once can break each other. One at a time in
/// this process, and through a lock file in the plugin folder, one at a
/// time among every xtask sharing that folder.
pub struct InstallLock {
    _here: MutexGuard<'static, ()>,
    _file: Option<File>,
}

/// Waits for the other installs to end. Without a lock file (the plugin
/// folder cannot be made), this process's installs are still one at a time.
pub fn lock_installs() -> InstallLock {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let here = INSTALLING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let file = plugin_folder().and_then(|folder| {
        std::fs::create_dir_all(&folder).ok()?;
        // Packer passes over it: a plugin's binary is named packer-plugin-*
        // and sits in a source's folder, never at the top.
        let file =
            File::options().create(true).truncate(false).write(true).open(folder.join(".xtask-install.lock")).ok()?;
        file.lock().ok()?;
        Some(file)
    });
    InstallLock { _here: here, _file: file }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_init_says_its_causes() {
        let output = "Failed getting the \"github.com/hashicorp/amazon\" plugin:\n1 error occurred:\n\t* Get \"https://api.github.com/x\": dial tcp: lookup api.github.com: no such host\n\n";
        assert_eq!(
            failure_cause(output),
            "Failed getting the \"github.com/hashicorp/amazon\" plugin: Get \"https://api.github.com/x\": dial tcp: lookup \
             api.github.com: no such host"
        );
        assert_eq!(
            failure_cause("Error: Unsupported argument\n\nAn argument named \"sorce\" is not expected here.\n"),
            "Unsupported argument: An argument named \"sorce\" is not expected here."
        );
        assert_eq!(failure_cause(""), "no output");
    }

    #[test]
    fn types_and_their_plugins() {
        assert_eq!(plugin_name(PluginKind::Builder, "amazon-ebs"), "amazon");
        assert_eq!(plugin_name(PluginKind::Provisioner, "ansible-local"), "ansible");
        assert_eq!(plugin_name(PluginKind::Builder, "qemu"), "qemu");
        assert_eq!(plugin_name(PluginKind::Provisioner, "comment-x"), "comment", "by Packer's naming");
        // Packer 1.16's core, from the knowledge: no plugin to pin.
        let uses = [
            PluginUse::new(PluginKind::Provisioner, "shell", "template.json".into()),
            PluginUse::new(PluginKind::PostProcessor, "manifest", "template.json".into()),
            PluginUse::new(PluginKind::Provisioner, "hcp-sbom", "template.json".into()),
            PluginUse::new(PluginKind::Datasource, "http", "build.pkr.hcl:3".into()),
        ];
        assert_eq!(pins_for(&uses, &BTreeMap::new(), "1.16.0"), Ok(Vec::new()));
        // hcp-sbom came with 1.12.0: Packer 1.10 needs a plugin for it.
        assert!(pins_for(&uses, &BTreeMap::new(), "1.10.0").unwrap_err().contains("`hcp-sbom`"));
        assert_eq!(known_source("amazon").as_deref(), Some("github.com/hashicorp/amazon"));
        assert_eq!(known_source("hcloud").as_deref(), Some("github.com/hetznercloud/hcloud"));
        assert_eq!(known_source("core"), None);
        assert_eq!(source_name("github.com/hashicorp/amazon"), "amazon");
        assert_eq!(source_name("github.com/example/packer-plugin-comment"), "comment");
    }

    #[test]
    fn a_use_no_pin_covers_names_the_line_to_add() {
        let uses = [
            PluginUse::new(PluginKind::Builder, "amazon-ebs", "template.json".into()),
            PluginUse::new(PluginKind::PostProcessor, "amazon-import", "template.json".into()),
            PluginUse::new(PluginKind::Provisioner, "comment", "template.json".into()),
        ];
        let why = pins_for(&uses, &BTreeMap::new(), "1.16.0").unwrap_err();
        assert!(
            why.starts_with(
                "the builder `amazon-ebs` (template.json) comes from the plugin github.com/hashicorp/amazon; "
            ),
            "{why}"
        );
        assert!(
            why.contains("the provisioner `comment` (template.json) comes from the plugin named `comment`"),
            "{why}"
        );
        assert!(why.ends_with("[packer.plugins]\n\"github.com/hashicorp/amazon\" = \"X.Y.Z\"\n\"github.com/<owner>/comment\" = \"X.Y.Z\""), "{why}");
        let hcl2 = [PluginUse::new(PluginKind::Provisioner, "ansible", "build.pkr.hcl:9".into())];
        let why = pins_for(&hcl2, &BTreeMap::new(), "1.10.0").unwrap_err();
        assert!(why.contains("(or require it in the folder's `packer { required_plugins { … } }`"), "{why}");
        assert!(why.ends_with("\"github.com/hashicorp/ansible\" = \"X.Y.Z\""), "{why}");
        assert!(!pins_for(&uses, &BTreeMap::new(), "1.16.0").unwrap_err().contains("required_plugins"));
        let pins: BTreeMap<String, String> = [
            ("github.com/hashicorp/amazon".to_owned(), "1.3.2".to_owned()),
            ("github.com/example/comment".to_owned(), "0.2.0".to_owned()),
        ]
        .into();
        assert_eq!(
            pins_for(&uses, &pins, "1.16.0").unwrap(),
            [
                ("github.com/hashicorp/amazon".to_owned(), "1.3.2".to_owned()),
                ("github.com/example/comment".to_owned(), "0.2.0".to_owned())
            ]
        );
    }

    #[test]
    fn installed_plugins_are_read_from_their_paths() {
        let output = "/home/u/.config/packer/plugins/github.com/hashicorp/amazon/packer-plugin-amazon_v1.3.2_x5.0_linux_amd64\n\
                      /plugins/with space/github.com/hashicorp/amazon/packer-plugin-amazon_v1.10.0_x5.0_linux_amd64\n\
                      /plugins/github.com/hashicorp/docker/packer-plugin-docker_v1.0.9-dev_x5.0_linux_amd64\n\
                      not a plugin\n";
        let installed = parse_installed(output);
        assert_eq!(installed.len(), 3);
        assert!(installed[0].is_from("github.com/hashicorp/amazon"));
        assert!(!installed[0].is_from("hashicorp/amazon/x"));
        assert_eq!(loaded(&installed, "amazon").unwrap().version, "1.10.0");
        assert_eq!(installed[2].version, "1.0.9-dev");
        assert_eq!(parse_binary_name("packer-plugin-amazon_1.3.2_x5.0_linux_amd64"), None);
        assert_eq!(parse_binary_name("packer-plugin-amazon_v1.3_x5.0_linux_amd64"), None);
    }

    #[test]
    fn required_plugins_use_their_highest_installation() {
        let output = "amazon github.com/hashicorp/amazon \">= 1.2.0\" /p/github.com/hashicorp/amazon/packer-plugin-amazon_v1.2.9_x5.0_linux_amd64 /p/github.com/hashicorp/amazon/packer-plugin-amazon_v1.10.1_x5.0_linux_amd64\n\
                      docker github.com/hashicorp/docker \"~> 1\"\n";
        let used = parse_required(output);
        assert_eq!(used.len(), 1, "a plugin with no installation is not used: {used:?}");
        assert_eq!(used["github.com/hashicorp/amazon"], "1.10.1");
    }
}
