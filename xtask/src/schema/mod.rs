//! What every release of Packer (from 1.6.6) and of the plugins templates
//! use accepts: each component (builder, provisioner, post-processor, data
//! source) with the releases that have it, each key with its type and the
//! releases that have it, and which Packer release bundles which plugin
//! version. `knowledge.txt` is written by `cargo xtask codegen
//! --packer-mirrors` (see `codegen::packer_knowledge`) and parsed once, on
//! first use; [`in_force`] says which of those releases judge a template.
//!
//! Versions are kept as bit sets ([`Mask`]) over a source's releases, so
//! "does every allowed release have this key" is one `&`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::version::Version;

pub mod features;
// Generated, one function a line: see `codegen/packer_functions.rs`.
#[rustfmt::skip]
mod function_table;
pub mod functions;
pub mod in_force;

/// The settings of a provisioner or post-processor that name local files
/// the build uploads or runs, in JSON and HCL2 alike. A file provisioner
/// reads locally only when it uploads.
pub fn upload_keys(kind: &str, downloads: bool) -> &'static [&'static str] {
    match kind {
        "file" if downloads => &[],
        "file" => &["source", "sources"],
        "shell" | "shell-local" | "powershell" | "windows-shell" => &["script", "scripts"],
        "ansible" | "ansible-local" => &["playbook_file"],
        _ => &[],
    }
}

/// A set of releases of one source: bit `i` is its `i`th release, oldest first.
pub type Mask = u128;

/// A key's type, as far as decoding a template tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Str,
    /// A Go `time.Duration`: a number (nanoseconds) or a string such as `"5m"`.
    Duration,
    Bool,
    Int,
    Uint,
    Float,
    /// A list of scalars; one scalar, or a comma-separated string, is taken
    /// as a list.
    List,
    /// An object of scalars (`tags`).
    Map,
    /// Packer takes any value here, or one this table does not follow.
    Any,
    /// A nested object with keys of its own (`source_ami_filter`).
    Block,
    /// A list of nested objects (`launch_block_device_mappings`).
    Blocks,
}

impl Type {
    fn from_code(code: &str) -> Option<Type> {
        Some(match code {
            "s" => Type::Str,
            "d" => Type::Duration,
            "b" => Type::Bool,
            "i" => Type::Int,
            "u" => Type::Uint,
            "f" => Type::Float,
            "l" => Type::List,
            "m" => Type::Map,
            "a" => Type::Any,
            "B" => Type::Block,
            "L" => Type::Blocks,
            _ => return None,
        })
    }
}

/// The kinds of component a template configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PluginKind {
    Builder,
    Provisioner,
    PostProcessor,
    Datasource,
}

impl PluginKind {
    pub const ALL: [PluginKind; 4] =
        [PluginKind::Builder, PluginKind::Provisioner, PluginKind::PostProcessor, PluginKind::Datasource];

    fn from_name(name: &str) -> Option<PluginKind> {
        Some(match name {
            "builder" => PluginKind::Builder,
            "provisioner" => PluginKind::Provisioner,
            "post-processor" => PluginKind::PostProcessor,
            "datasource" => PluginKind::Datasource,
            _ => return None,
        })
    }

    /// Keys that Packer's core takes out of a block before the plugin sees
    /// it (`packer-plugin-sdk/template/parse.go`), so any plugin accepts them.
    pub fn core_keys(self) -> &'static [&'static str] {
        match self {
            PluginKind::Builder => &["type", "name"],
            PluginKind::Provisioner => {
                &["type", "only", "except", "override", "pause_before", "max_retries", "timeout"]
            }
            PluginKind::PostProcessor => &["type", "name", "only", "except", "keep_input_artifact"],
            PluginKind::Datasource => &[],
        }
    }

    /// As Packer's messages name it.
    pub fn noun(self) -> &'static str {
        match self {
            PluginKind::Builder => "builder",
            PluginKind::Provisioner => "provisioner",
            PluginKind::PostProcessor => "post-processor",
            PluginKind::Datasource => "data source",
        }
    }

    /// Every type name of this kind that any known release has.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let knowledge = knowledge();
        let mut names: Vec<&'static str> = knowledge
            .components
            .iter()
            .filter(|component| component.kind == self)
            .map(|component| component.name)
            .chain(knowledge.vendored.iter().filter(|vendored| vendored.kind == self).map(|vendored| vendored.name))
            .collect();
        names.sort_unstable();
        names.dedup();
        names.into_iter()
    }
}

/// Packer or a plugin: where its facts come from, and its releases.
pub struct Source {
    /// `core` for Packer, else the plugin's name (`amazon`), which prefixes its types.
    pub name: &'static str,
    /// `hashicorp/packer-plugin-amazon`, on GitHub.
    pub repo: &'static str,
    pub versions: Vec<Version>,
    /// SPDX licence of its LICENSE file, and the releases it holds for.
    pub licences: Vec<(&'static str, Mask)>,
    /// Go module paths it was published under (`github.com/hashicorp/packer-plugin-vmware`).
    pub modules: Vec<&'static str>,
}

impl Source {
    /// Every release.
    pub fn all(&self) -> Mask {
        if self.versions.len() >= 128 { Mask::MAX } else { (1 << self.versions.len()) - 1 }
    }

    /// The releases a constraint such as `~> 1.2` allows.
    pub fn allowed(&self, constraint: &str) -> Mask {
        let mut mask = 0;
        for (index, version) in self.versions.iter().enumerate() {
            if crate::version::allows(constraint, &version.to_string()) == Some(true) {
                mask |= 1 << index;
            }
        }
        mask
    }

    pub fn index(&self, version: &Version) -> Option<usize> {
        self.versions.iter().position(|known| known == version)
    }

    pub fn newest(&self) -> Mask {
        1 << (self.versions.len() - 1)
    }

    /// How a message names these releases: "Packer 1.6.6", "amazon 1.2.0
    /// to 1.8.2", "vmware 1.0.0 to 1.2.0 and 2.1.0".
    pub fn describe(&self, mask: Mask) -> String {
        let name = if self.name == "core" { "Packer" } else { self.name };
        let mut runs = Vec::new();
        let mut index = 0;
        while index < self.versions.len() {
            if mask & (1 << index) == 0 {
                index += 1;
                continue;
            }
            let start = index;
            while index + 1 < self.versions.len() && mask & (1 << (index + 1)) != 0 {
                index += 1;
            }
            runs.push(if start == index {
                self.versions[start].to_string()
            } else {
                format!("{} to {}", self.versions[start], self.versions[index])
            });
            index += 1;
        }
        let mut out = format!("{name} ");
        for (i, run) in runs.iter().enumerate() {
            if i > 0 {
                out.push_str(if i + 1 == runs.len() { " and " } else { ", " });
            }
            out.push_str(run);
        }
        if runs.is_empty() {
            out.push_str("(no release)");
        }
        out
    }

    /// The plugin's source as `required_plugins` and `packer plugins
    /// install` write it: `github.com/hashicorp/amazon` for the repository
    /// hashicorp/packer-plugin-amazon (Packer takes the name without the
    /// repository's prefix).
    pub fn address(&self) -> String {
        let (owner, repository) = self.repo.split_once('/').unwrap_or(("hashicorp", self.repo));
        format!("github.com/{owner}/{}", repository.trim_start_matches("packer-plugin-"))
    }

    /// The release closest to `version` at or below it (the oldest when
    /// `version` is older than all), and whether it is `version` itself.
    pub fn closest(&self, version: Version) -> (usize, bool) {
        match self.versions.iter().rposition(|known| *known <= version) {
            Some(index) => (index, self.versions[index] == version),
            None => (0, false),
        }
    }

    /// The oldest release of a set.
    pub fn first(&self, mask: Mask) -> Option<Version> {
        (0..self.versions.len()).find(|index| mask & (1 << index) != 0).map(|index| self.versions[index])
    }

    /// The newest release of a set.
    pub fn last(&self, mask: Mask) -> Option<Version> {
        (0..self.versions.len()).rfind(|index| mask & (1 << index) != 0).map(|index| self.versions[index])
    }
}

/// A key of a component or of a nested block, with the releases that have it.
pub struct Key {
    pub name: &'static str,
    pub ty: Type,
    pub versions: Mask,
    /// JSON templates take it, HCL2 ones do not (`mapstructure-to-hcl2:",skip"`).
    pub json_only: bool,
    /// The keys of a [`Type::Block`] or [`Type::Blocks`].
    pub children: Vec<Key>,
}

/// A builder, provisioner, post-processor or data source of one source.
pub struct Component {
    pub source: usize,
    pub kind: PluginKind,
    /// `amazon-ebs`, as templates name it.
    pub name: &'static str,
    /// The releases that register it.
    pub registered: Mask,
    /// The releases whose keys are known (all of `registered`, unless its
    /// config could not be read).
    pub known: Mask,
    pub keys: Vec<Key>,
}

/// A Packer release range that bundles one plugin version.
pub struct Bundle {
    pub plugin: &'static str,
    pub version: Version,
    pub core: Mask,
}

/// A type a Packer release bundles from a plugin module.
pub struct Vendored {
    pub plugin: &'static str,
    pub kind: PluginKind,
    pub name: &'static str,
    pub core: Mask,
}

/// Settings a provisioner or post-processor cannot go without at some
/// releases of its source: any one of `any_of` will do.
pub struct Requirement {
    pub source: usize,
    pub kind: PluginKind,
    pub name: &'static str,
    pub any_of: Vec<&'static str>,
    pub versions: Mask,
}

pub struct Knowledge {
    pub sources: Vec<Source>,
    pub components: Vec<Component>,
    pub requirements: Vec<Requirement>,
    pub bundles: Vec<Bundle>,
    pub vendored: Vec<Vendored>,
    /// The components by kind and type name: every block of every template
    /// looks its type up at each release in force.
    by_name: HashMap<(PluginKind, &'static str), Vec<usize>>,
}

/// The source of Packer itself in [`Knowledge::sources`].
pub const CORE: usize = 0;

/// The knowledge, parsed on first use (some ten thousand short lines).
pub fn knowledge() -> &'static Knowledge {
    static PARSED: OnceLock<Knowledge> = OnceLock::new();
    PARSED.get_or_init(|| {
        parse(include_str!("knowledge.txt")).unwrap_or_else(|error| panic!("knowledge.txt: {error}; rerun codegen"))
    })
}

impl Knowledge {
    pub fn source(&self, name: &str) -> Option<usize> {
        self.sources.iter().position(|source| source.name == name)
    }

    /// The components of this kind and name (Packer's lookup is exact), of any source.
    pub fn components(&self, kind: PluginKind, name: &str) -> impl Iterator<Item = (usize, &Component)> {
        self.components
            .iter()
            .enumerate()
            .filter(move |(_, component)| component.kind == kind && component.name == name)
    }

    /// The plugin whose Go module or `required_plugins` address this is:
    /// `github.com/hashicorp/amazon` names `amazon`.
    /// A type as its plugin names it, when a `required_plugins` entry
    /// (`local_name`, `address`) of a plugin xtask knows provides it under
    /// another name: `aws-ebs` of `aws = { source = "github.com/hashicorp/amazon" }`
    /// is `amazon-ebs`. `None` when the entry does not provide it.
    pub fn plugin_type_name(&self, local_name: &str, address: &str, name: &str) -> Option<String> {
        let rest = name.strip_prefix(local_name).filter(|rest| rest.is_empty() || rest.starts_with('-'))?;
        let plugin = self.plugin_of_address(address)?;
        Some(format!("{}{rest}", self.sources[plugin].name))
    }

    pub fn plugin_of_address(&self, address: &str) -> Option<usize> {
        let address = address.trim().trim_end_matches('/').to_ascii_lowercase();
        let (host_and_owner, name) = address.rsplit_once('/')?;
        self.sources.iter().position(|source| {
            source.name != "core"
                && source.name == name.trim_start_matches("packer-plugin-")
                && source.modules.iter().any(|module| {
                    module
                        .to_ascii_lowercase()
                        .strip_suffix(&format!("/packer-plugin-{}", source.name))
                        .is_some_and(|prefix| prefix == host_and_owner)
                })
        })
    }
}

impl Knowledge {
    /// Whether Packer `version` runs this type without a plugin installed:
    /// its core has it or it bundles the plugin that does, at the closest
    /// release xtask knows at or below `version`.
    pub fn built_into_packer(&self, kind: PluginKind, name: &str, version: Version) -> bool {
        let core = &self.sources[CORE];
        let at: Mask = 1 << core.closest(version).0;
        self.components(kind, name).any(|(_, component)| component.source == CORE && component.registered & at != 0)
            || self
                .vendored
                .iter()
                .any(|vendored| vendored.kind == kind && vendored.name == name && vendored.core & at != 0)
    }

    /// The name of the plugin that provides this type outside Packer's
    /// core (`amazon` for `amazon-ebs`), when a release xtask knows has it.
    pub fn plugin_of_type(&self, kind: PluginKind, name: &str) -> Option<&'static str> {
        let component = self.components(kind, name).find(|(_, component)| component.source != CORE);
        match component {
            Some((_, component)) => Some(self.sources[component.source].name),
            None => {
                self.vendored.iter().find(|vendored| vendored.kind == kind && vendored.name == name).map(|v| v.plugin)
            }
        }
    }
}

/// The keys of a nested block at these releases, and all keys named `key`.
pub fn named<'k>(keys: &'k [Key], key: &str) -> impl Iterator<Item = &'k Key> {
    // Packer's decoder (mapstructure) matches keys exactly first, then
    // ignoring case; the names are sorted, so the exact ones come first.
    let exact = keys.iter().any(|candidate| candidate.name == key);
    keys.iter().filter(
        move |candidate| {
            if exact { candidate.name == key } else { candidate.name.eq_ignore_ascii_case(key) }
        },
    )
}

fn parse(text: &'static str) -> Result<Knowledge, String> {
    let mut knowledge = Knowledge {
        sources: Vec::new(),
        components: Vec::new(),
        requirements: Vec::new(),
        bundles: Vec::new(),
        vendored: Vec::new(),
        by_name: HashMap::new(),
    };
    // The open keys of the component being read, one per depth.
    let mut stack: Vec<Key> = Vec::new();
    let finish = |stack: &mut Vec<Key>, to: usize, knowledge: &mut Knowledge| {
        while stack.len() > to {
            let key = stack.pop().expect("the stack is longer than `to`");
            match stack.last_mut() {
                Some(parent) => parent.children.push(key),
                None => knowledge.components.last_mut().expect("keys follow a component").keys.push(key),
            }
        }
    };
    for (number, line) in text.lines().enumerate() {
        let fail = |what: &str| format!("line {}: {what}: `{line}`", number + 1);
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let depth = line.len() - line.trim_start_matches(' ').len();
        let words: Vec<&'static str> = line.split_whitespace().collect();
        if depth > 0 {
            if knowledge.components.is_empty() || depth > stack.len() + 1 {
                return Err(fail("a key out of place"));
            }
            finish(&mut stack, depth - 1, &mut knowledge);
            let component = knowledge.components.last().expect("checked above");
            let source = &knowledge.sources[component.source];
            let parent = stack.last().map_or(component.known, |key| key.versions);
            let (name, code) = (words[0], words.get(1).ok_or_else(|| fail("a key without a type"))?);
            let ty = Type::from_code(code).ok_or_else(|| fail("an unknown type"))?;
            let mut key = Key { name, ty, versions: parent, json_only: false, children: Vec::new() };
            for word in &words[2..] {
                match *word {
                    "json" => key.json_only = true,
                    ranges => key.versions = mask_of(source, ranges).ok_or_else(|| fail("bad version ranges"))?,
                }
            }
            if key.versions & !parent != 0 {
                return Err(fail("a key with releases its parent does not have"));
            }
            stack.push(key);
            continue;
        }
        finish(&mut stack, 0, &mut knowledge);
        let find = |name: &str| knowledge.source(name).ok_or_else(|| fail("an unknown source"));
        match words.as_slice() {
            ["source", name, repo] => knowledge.sources.push(Source {
                name,
                repo,
                versions: Vec::new(),
                licences: Vec::new(),
                modules: Vec::new(),
            }),
            ["versions", name, versions @ ..] => {
                let at = find(name)?;
                let parsed: Option<Vec<Version>> = versions.iter().map(|text| Version::parse(text)).collect();
                let parsed = parsed.ok_or_else(|| fail("a bad version"))?;
                if parsed.is_empty() || parsed.len() > 127 || !parsed.windows(2).all(|pair| pair[0] < pair[1]) {
                    return Err(fail("releases must be 1 to 127, oldest first"));
                }
                knowledge.sources[at].versions = parsed;
            }
            ["licence", name, licence, ranges] => {
                let at = find(name)?;
                let mask = mask_of(&knowledge.sources[at], ranges).ok_or_else(|| fail("bad version ranges"))?;
                knowledge.sources[at].licences.push((licence, mask));
            }
            ["module", name, path] => {
                let at = find(name)?;
                knowledge.sources[at].modules.push(path);
            }
            ["bundle", plugin, version, ranges] => {
                let version = Version::parse(version).ok_or_else(|| fail("a bad version"))?;
                let core = mask_of(&knowledge.sources[CORE], ranges).ok_or_else(|| fail("bad version ranges"))?;
                knowledge.bundles.push(Bundle { plugin, version, core });
            }
            ["vendored", plugin, kind, name, ranges] => {
                let kind = PluginKind::from_name(kind).ok_or_else(|| fail("an unknown kind"))?;
                let core = mask_of(&knowledge.sources[CORE], ranges).ok_or_else(|| fail("bad version ranges"))?;
                knowledge.vendored.push(Vendored { plugin, kind, name, core });
            }
            ["component", source, kind, name, ranges, rest @ ..] => {
                let source = find(source)?;
                let kind = PluginKind::from_name(kind).ok_or_else(|| fail("an unknown kind"))?;
                let registered =
                    mask_of(&knowledge.sources[source], ranges).ok_or_else(|| fail("bad version ranges"))?;
                let known = match rest {
                    [] => registered,
                    ["keys", ranges] => {
                        mask_of(&knowledge.sources[source], ranges).ok_or_else(|| fail("bad version ranges"))?
                    }
                    _ => return Err(fail("unexpected words")),
                };
                knowledge.components.push(Component { source, kind, name, registered, known, keys: Vec::new() });
            }
            ["required", source, kind, name, keys, ranges] => {
                let source = find(source)?;
                let kind = PluginKind::from_name(kind).ok_or_else(|| fail("an unknown kind"))?;
                let versions = mask_of(&knowledge.sources[source], ranges).ok_or_else(|| fail("bad version ranges"))?;
                let any_of = keys.split('|').collect();
                knowledge.requirements.push(Requirement { source, kind, name, any_of, versions });
            }
            _ => return Err(fail("an unknown line")),
        }
    }
    finish(&mut stack, 0, &mut knowledge);
    for (at, component) in knowledge.components.iter().enumerate() {
        knowledge.by_name.entry((component.kind, component.name)).or_default().push(at);
    }
    if knowledge.sources.first().is_none_or(|core| core.name != "core") {
        return Err("the first source must be Packer's (`core`)".to_owned());
    }
    Ok(knowledge)
}

/// `1.7.5..`, `0.0.1..1.2.0,1.3.0`, `-` (none) as a set of `source`'s releases.
fn mask_of(source: &Source, ranges: &str) -> Option<Mask> {
    if ranges == "-" {
        return Some(0);
    }
    let mut mask = 0;
    for run in ranges.split(',') {
        let index = |text: &str| source.index(&Version::parse(text)?);
        let (start, end) = match run.split_once("..") {
            Some((start, "")) => (index(start)?, source.versions.len() - 1),
            Some((start, end)) => (index(start)?, index(end)?),
            None => (index(run)?, index(run)?),
        };
        if start > end {
            return None;
        }
        for bit in start..=end {
            mask |= 1 << bit;
        }
    }
    Some(mask)
}

/// The licences and repositories the knowledge comes from, one line each,
/// for `--explain` and the README.
pub fn provenance() -> String {
    let mut out = String::new();
    for source in &knowledge().sources {
        let licences: Vec<String> =
            source.licences.iter().map(|(licence, mask)| format!("{licence} for {}", source.describe(*mask))).collect();
        writeln!(out, "- github.com/{}: {}", source.repo, licences.join("; ")).unwrap();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn component(source: &str, kind: PluginKind, name: &str) -> &'static Component {
        let knowledge = knowledge();
        let source = knowledge.source(source).unwrap();
        knowledge.components(kind, name).find(|(_, c)| c.source == source).map(|(_, c)| c).unwrap()
    }

    fn key<'k>(keys: &'k [Key], name: &str) -> &'k Key {
        named(keys, name).next().unwrap_or_else(|| panic!("no key {name}"))
    }

    fn since(source: &str, key: &Key) -> String {
        let knowledge = knowledge();
        knowledge.sources[knowledge.source(source).unwrap()].first(key.versions).unwrap().to_string()
    }

    fn check_keys(path: &str, keys: &[Key], parent: Mask, depth: usize) {
        assert!(depth < 8, "{path}: nested blocks do not end");
        assert!(keys.windows(2).all(|pair| pair[0].name <= pair[1].name), "{path}: keys are not sorted");
        let mut seen = BTreeSet::new();
        for key in keys {
            assert!(!key.name.is_empty(), "{path} has a key with no name");
            assert!(
                key.versions != 0 && key.versions & !parent == 0,
                "{path}.{}: releases outside its parent's",
                key.name
            );
            // A key whose type changed is there once per type, at releases apart.
            assert!(seen.insert((key.name, key.versions)), "{path} has `{}` twice", key.name);
            let others = keys.iter().filter(|other| other.name == key.name && !std::ptr::eq(*other, key));
            assert!(
                others.clone().all(|other| other.versions & key.versions == 0),
                "{path}.{}: two types at once",
                key.name
            );
            if matches!(key.ty, Type::Block | Type::Blocks) {
                check_keys(&format!("{path}.{}", key.name), &key.children, key.versions, depth + 1);
            } else {
                assert!(key.children.is_empty(), "{path}.{}: a scalar with keys", key.name);
            }
        }
    }

    /// What the generator's check mode cannot do without the mirrors: the
    /// file parses, every range is well-formed, keys are sorted and within
    /// their parents' releases.
    #[test]
    fn the_knowledge_is_well_formed() {
        let knowledge = knowledge();
        assert!(knowledge.sources.len() >= 12);
        for source in &knowledge.sources {
            let licensed = source.licences.iter().fold(0, |all, (_, mask)| all | mask);
            assert_eq!(licensed, source.all(), "{}: a release without a licence", source.name);
        }
        for component in &knowledge.components {
            let source = &knowledge.sources[component.source];
            assert!(component.registered != 0 && component.known & !component.registered == 0);
            if component.source != CORE {
                assert!(component.name.starts_with(source.name), "{} of {}", component.name, source.name);
            }
            check_keys(&format!("{} {}", source.name, component.name), &component.keys, component.known, 0);
        }
        for bundle in &knowledge.bundles {
            let plugin = knowledge.source(bundle.plugin);
            if let Some(plugin) = plugin {
                assert!(
                    knowledge.sources[plugin].index(&bundle.version).is_some(),
                    "{} {}",
                    bundle.plugin,
                    bundle.version
                );
            }
        }
    }

    /// Facts checked by hand against the sources.
    #[test]
    fn known_facts_hold() {
        let file = component("core", PluginKind::Provisioner, "file");
        assert_eq!(since("core", key(&file.keys, "content")), "1.7.5");
        let shell = component("core", PluginKind::Provisioner, "shell");
        assert_eq!(since("core", key(&shell.keys, "env")), "1.8.0");
        let ebs = component("amazon", PluginKind::Builder, "amazon-ebs");
        assert_eq!(since("amazon", key(&ebs.keys, "imds_support")), "1.2.2");
        let mappings = key(&ebs.keys, "launch_block_device_mappings");
        assert_eq!(mappings.ty, Type::Blocks);
        assert_eq!(key(&mappings.children, "volume_size").ty, Type::Int);
        assert_eq!(key(&ebs.keys, "ssh_timeout").ty, Type::Duration);
        assert_eq!(key(&ebs.keys, "AMI_Name").name, "ami_name");
        let vmware = knowledge().source("vmware").unwrap();
        let iso = component("vmware", PluginKind::Builder, "vmware-iso");
        let remote_host = key(&iso.keys, "remote_host");
        let v2 = knowledge().sources[vmware].index(&Version(2, 0, 0)).unwrap();
        assert!(
            remote_host.versions & (1 << v2) == 0 && remote_host.versions & 1 != 0,
            "remote_host left in vmware 2.0.0"
        );
        // Packer 1.9 bundles amazon 1.2.1; 1.10 bundles nothing.
        let core = &knowledge().sources[CORE];
        let at = |version| 1 << core.index(&version).unwrap();
        assert!(
            knowledge()
                .bundles
                .iter()
                .any(|b| b.plugin == "amazon" && b.version == Version(1, 2, 1) && b.core & at(Version(1, 9, 0)) != 0)
        );
        assert!(knowledge().bundles.iter().all(|b| b.core & at(Version(1, 10, 0)) == 0));
        assert!(
            core.licences.iter().any(|(licence, mask)| *licence == "BUSL-1.1" && mask & at(Version(1, 10, 0)) != 0)
        );
        assert!(core.licences.iter().any(|(licence, mask)| *licence == "MPL-2.0" && mask & at(Version(1, 9, 5)) != 0));
        assert_eq!(knowledge().plugin_of_address("github.com/hashicorp/amazon"), knowledge().source("amazon"));
        assert_eq!(knowledge().plugin_of_address("github.com/vmware/vmware"), knowledge().source("vmware"));
        assert_eq!(knowledge().plugin_of_address("github.com/someone/amazon"), None);
    }

    #[test]
    fn ranges_read_as_sets() {
        let source = Source {
            name: "x",
            repo: "x/x",
            versions: vec![Version(1, 0, 0), Version(1, 1, 0), Version(2, 0, 0)],
            licences: Vec::new(),
            modules: Vec::new(),
        };
        assert_eq!(mask_of(&source, "1.0.0.."), Some(0b111));
        assert_eq!(mask_of(&source, "1.0.0,2.0.0.."), Some(0b101));
        assert_eq!(mask_of(&source, "1.1.0"), Some(0b010));
        assert_eq!(mask_of(&source, "-"), Some(0));
        assert_eq!(mask_of(&source, "1.1.0..1.0.0"), None);
        assert_eq!(mask_of(&source, "3.0.0"), None);
        assert_eq!(source.describe(0b101), "x 1.0.0 and 2.0.0");
        assert_eq!(source.describe(0b011), "x 1.0.0 to 1.1.0");
    }
}
