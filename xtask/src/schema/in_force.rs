//! Which releases of Packer and of its plugins a template is judged
//! against, and what a block of a given type accepts at those releases.
//!
//! - An HCL2 template: the Packer releases its `required_version` allows
//!   (one that only releases newer than xtask knows meet is judged as the
//!   newest it knows; one that no release meets, which
//!   `invalid-version-constraint` reports, is ignored: the template is
//!   judged as one without it); for a type a `required_plugins` entry provides,
//!   the plugin releases that entry's `version` allows, or the newest,
//!   which `packer init` installs, when it names none.
//! - Otherwise (a JSON template cannot pin; an HCL2 one may not): the
//!   Packer version `--packer-version` or `xtask.toml`'s `[packer] version`
//!   declares, else the installed `packer version`, else the newest release
//!   xtask knows. A plugin type is judged at the version `[packer.plugins]`
//!   pins for its source, else, for a Packer before 1.10, the version that Packer release
//!   bundles, else (Packer 1.10 dropped bundled plugins) the newest release
//!   xtask knows.
//!
//! Every message that names a version names the releases judged and why
//! those ([`Candidate::why`]).

use crate::version::Version;

use super::{CORE, Key, Knowledge, Mask, PluginKind, Type, knowledge, named};

/// Why a plugin release judges a type at a Packer release.
#[derive(PartialEq)]
enum Reason {
    /// Packer has the type itself.
    Core,
    /// `[packer.plugins]` in xtask.toml pins the plugin.
    Declared(String),
    /// That Packer release bundles the plugin.
    Bundled,
    /// Nothing says which release: the newest.
    Newest,
}

/// A version declared outside the template, and where.
#[derive(Clone, Debug)]
pub struct Declared {
    pub version: Version,
    /// "`[packer] version` in xtask.toml", "the installed `packer` (…)".
    pub why: String,
}

/// What the repository (or the machine) says of the versions in use: the
/// one value a template is judged and its values read with.
#[derive(Clone, Debug, Default)]
pub struct Setting {
    /// The Packer version; `None`: the newest release xtask knows.
    pub core: Option<Declared>,
    /// The Packer that builds with this run's values, when one does
    /// (`images`: the installed Packer; a CI leg's result: the one that
    /// built it). It may differ from `core`, which judges the template:
    /// `PKR_VAR_` and var files reach that Packer as they are, so its
    /// reading of them is what the build gets ([`Setting::reading`]).
    pub builds_with: Option<Version>,
    /// Plugin versions by plugin name (`amazon`).
    pub plugins: Vec<(String, Declared)>,
    /// Pins of sources the knowledge does not hold, by the plugin name
    /// Packer loads them as: (`amazon`, `github.com/example/amazon`).
    pub unknown_pins: Vec<(String, String)>,
}

/// A `required_plugins` entry of an HCL2 template.
#[derive(Clone, Debug)]
pub struct Required {
    /// The entry's key: the prefix of the types it provides (`amazon` in `amazon-ebs`).
    pub local_name: String,
    /// `github.com/hashicorp/amazon`.
    pub address: String,
    /// `~> 1.2`; `None` when the entry names no version (any release).
    pub constraint: Option<String>,
}

/// The releases a template is judged against.
pub struct InForce {
    /// The Packer releases.
    pub core: Mask,
    /// Why those: "`required_version = \">= 1.9.0\"`", "`[packer] version` in xtask.toml".
    pub core_why: String,
    pub setting: Setting,
    pub required: Vec<Required>,
    /// An HCL2 template, which can name a plugin's version itself in
    /// `required_plugins`, as a JSON template cannot.
    pub hcl2: bool,
}

/// Releases of one source whose keys a block is judged with.
#[derive(Clone)]
pub struct Candidate {
    pub source: usize,
    pub keys: &'static [Key],
    pub allowed: Mask,
    /// Why these releases, for messages: "`~> 1.2` in `required_plugins`".
    pub why: String,
}

/// The releases whose keys judge one block (or nested block).
#[derive(Clone, Default)]
pub struct Scope {
    pub candidates: Vec<Candidate>,
}

/// What the releases in force say of a block's type.
pub enum Resolved {
    /// Its keys are known at these releases.
    Known(Scope),
    /// A plugin provides it whose keys xtask does not know: a community
    /// plugin, or a plugin's release newer or older than the knowledge.
    Unchecked(String),
    /// No release in force has it; `known_elsewhere` names releases that do.
    Unknown { judged: String, known_elsewhere: Option<String> },
}

/// How a key fares in the releases in force.
pub struct Judgement {
    /// The name as the knowledge spells it (keys match in any letter case).
    pub name: Option<&'static str>,
    /// Its types in the releases that have it.
    pub types: Vec<Type>,
    /// Releases in force that lack it, when others have it: (candidate, lacking).
    pub lacking: Option<(usize, Mask)>,
    pub absent: bool,
}

impl Declared {
    /// A Packer version as `packer version` or the lock writes it
    /// (`1.16.0`; a pre-release such as `1.10.0-dev` stands for its release).
    pub fn packer(version: &str, why: String) -> Option<Declared> {
        Some(Declared { version: Version::of_packer(version)?, why })
    }
}

impl Setting {
    /// The one Packer release whose reading of an HCL2 folder's values
    /// the evaluator takes (how `PKR_VAR_` and var files are typed, which
    /// functions exist, `packer.version`): the Packer that builds with
    /// them, else the declared one; `None`: the newest.
    pub fn reading(&self) -> Option<Version> {
        self.builds_with.or(self.core.as_ref().map(|declared| declared.version))
    }

    /// The Packer releases the setting names, and why; a version xtask
    /// does not know is judged as the closest release it knows.
    fn core(&self) -> (Mask, String) {
        let core = &knowledge().sources[CORE];
        match &self.core {
            Some(declared) => {
                let (mask, exact) = closest(core, declared.version);
                let shown = core.first(mask).map_or(String::new(), |version| version.to_string());
                let why = if exact {
                    declared.why.clone()
                } else {
                    format!(
                        "{} names {}, judged as {shown}, the closest release xtask knows",
                        declared.why, declared.version
                    )
                };
                (mask, why)
            }
            None => (
                core.newest(),
                "the newest Packer xtask knows; declare yours with `[packer] version` in xtask.toml".to_owned(),
            ),
        }
    }

    fn plugin(&self, name: &str) -> Option<&Declared> {
        self.plugins.iter().find(|(plugin, _)| plugin == name).map(|(_, declared)| declared)
    }
}

/// The release of `source` closest to `version` at or below it (the oldest
/// when it is older than all), and whether it is `version` itself.
fn closest(source: &super::Source, version: Version) -> (Mask, bool) {
    let (index, exact) = source.closest(version);
    (1 << index, exact)
}

impl InForce {
    /// A JSON template, or an HCL2 one that pins nothing.
    pub fn from_setting(setting: &Setting) -> InForce {
        let (core, core_why) = setting.core();
        InForce { core, core_why, setting: setting.clone(), required: Vec::new(), hcl2: false }
    }

    /// An HCL2 template with its `required_version` (when it has one that
    /// reads) and `required_plugins` entries.
    pub fn for_hcl2(setting: &Setting, required_version: Option<&str>, required: Vec<Required>) -> InForce {
        let mut in_force = InForce::from_setting(setting);
        if let Some(constraint) = required_version {
            let core = &knowledge().sources[CORE];
            let allowed = core.allowed(constraint);
            let newest = core.versions[core.versions.len() - 1];
            if allowed != 0 {
                in_force.core = allowed;
                in_force.core_why = format!("`required_version = \"{constraint}\"`");
            } else if crate::version::some_release_meets(constraint, Some(newest)) {
                // Only releases newer than the knowledge: the newest it has
                // is the closest to them.
                in_force.core = core.newest();
                in_force.core_why = format!(
                    "`required_version = \"{constraint}\"` allows only releases newer than xtask knows: judged as \
                     {newest}, the newest it knows"
                );
            }
        }
        in_force.required = required;
        in_force.hcl2 = true;
        in_force
    }

    /// The newest Packer release in force: the one whose reading of an
    /// HCL2 template's values the linter evaluates them with, so that a
    /// function some older allowed release lacks is still evaluated (and
    /// reported by `unsupported-packer-feature` as a warning).
    pub fn newest_core(&self) -> Option<Version> {
        knowledge().sources[CORE].last(self.core)
    }

    /// Packer releases in force, as a message names them.
    pub fn core_judged(&self) -> String {
        format!("{} ({})", knowledge().sources[CORE].describe(self.core), self.core_why)
    }

    /// What the releases in force say of a block of this kind and type.
    pub fn resolve(&self, kind: PluginKind, name: &str) -> Resolved {
        let knowledge = knowledge();
        if let Some(required) = self.required_for(name) {
            return self.resolve_required(knowledge, kind, name, required);
        }
        let core = &knowledge.sources[CORE];
        // What judges the type at each Packer release in force, gathered
        // so that each candidate says which Packer releases it stands for.
        let mut found: Vec<(usize, &'static [Key], Reason, Mask, Mask)> = Vec::new();
        let mut unchecked = None;
        for index in (0..core.versions.len()).filter(|index| self.core & (1 << index) != 0) {
            let bit: Mask = 1 << index;
            let mut take = |source: usize, keys: &'static [Key], reason: Reason, versions: Mask| match found
                .iter_mut()
                .find(|f| f.0 == source && std::ptr::eq(f.1, keys) && f.2 == reason)
            {
                Some(entry) => {
                    entry.3 |= versions;
                    entry.4 |= bit;
                }
                None => found.push((source, keys, reason, versions, bit)),
            };
            if let Some((_, component)) =
                knowledge.components(kind, name).find(|(_, c)| c.source == CORE && c.known & bit != 0)
            {
                take(CORE, &component.keys, Reason::Core, bit);
                continue;
            }
            let vendored = knowledge.vendored.iter().find(|v| v.kind == kind && v.name == name && v.core & bit != 0);
            let plugin = match vendored {
                Some(vendored) => match knowledge.source(vendored.plugin) {
                    Some(plugin) => plugin,
                    None => {
                        unchecked = Some(format!(
                            "Packer {} bundles it from the {} plugin, whose keys xtask does not know",
                            core.versions[index], vendored.plugin
                        ));
                        continue;
                    }
                },
                None => match knowledge.components(kind, name).find(|(_, c)| c.source != CORE) {
                    Some((_, component)) => component.source,
                    None => continue,
                },
            };
            let source = &knowledge.sources[plugin];
            let Some((_, component)) = knowledge.components(kind, name).find(|(_, c)| c.source == plugin) else {
                continue;
            };
            if let Some((_, pinned)) = self.setting.unknown_pins.iter().find(|(pinned, _)| pinned == source.name) {
                unchecked = Some(format!(
                    "xtask.toml pins {pinned}, which Packer loads for the {} plugin's types, and xtask does not know \
                     its keys",
                    source.name
                ));
                continue;
            }
            let bundled = vendored
                .and_then(|vendored| {
                    knowledge.bundles.iter().find(|bundle| bundle.plugin == vendored.plugin && bundle.core & bit != 0)
                })
                .and_then(|bundle| source.index(&bundle.version));
            let (versions, reason) = match (self.setting.plugin(source.name), bundled) {
                (Some(declared), _) => {
                    let (mask, exact) = closest(source, declared.version);
                    let why = if exact {
                        declared.why.clone()
                    } else {
                        format!(
                            "{} names {}, judged as the closest release xtask knows",
                            declared.why, declared.version
                        )
                    };
                    (mask, Reason::Declared(why))
                }
                (None, Some(at)) => (1 << at, Reason::Bundled),
                (None, None) => (source.newest(), Reason::Newest),
            };
            take(plugin, &component.keys, reason, versions & component.known);
        }
        let mut scope = Scope::default();
        for (source, keys, reason, versions, cores) in found {
            let why = match reason {
                Reason::Core => self.core_why.clone(),
                Reason::Declared(why) => why,
                Reason::Bundled => format!("bundled with {}", core.describe(cores)),
                Reason::Newest if self.hcl2 => format!(
                    "the newest release xtask knows, as {} bundles none; name yours in `required_plugins` \
                     (`{} = {{ source = \"{}\", version = \"~> X.Y\" }}`), or pin it under `[packer.plugins]` in \
                     xtask.toml",
                    core.describe(cores),
                    knowledge.sources[source].name,
                    knowledge.sources[source].address()
                ),
                Reason::Newest => format!(
                    "the newest release xtask knows, as {} bundles none; pin yours with `\"{}\" = \"X.Y.Z\"` \
                     under `[packer.plugins]` in xtask.toml",
                    core.describe(cores),
                    knowledge.sources[source].address()
                ),
            };
            scope.add(source, keys, versions, &why);
        }
        if !scope.candidates.is_empty() {
            return Resolved::Known(scope);
        }
        if let Some(why) = unchecked {
            return Resolved::Unchecked(why);
        }
        self.unknown_in_core(knowledge, kind, name)
    }

    /// A type no release in force has: when only older Packer releases
    /// bundled it (Packer 1.10 dropped bundled plugins, and others moved out
    /// before), a plugin provides it now, which Packer runs when installed
    /// but whose keys xtask does not know; when newer releases have it, the
    /// releases in force are too old.
    fn unknown_in_core(&self, knowledge: &'static Knowledge, kind: PluginKind, name: &str) -> Resolved {
        let core = &knowledge.sources[CORE];
        let mut bundled: Mask = 0;
        let mut plugin = None;
        for (_, component) in knowledge.components(kind, name).filter(|(_, c)| c.source == CORE) {
            bundled |= component.registered;
        }
        for vendored in knowledge.vendored.iter().filter(|v| v.kind == kind && v.name == name) {
            bundled |= vendored.core;
            plugin = Some(vendored.plugin);
        }
        let judged = self.core_judged();
        if bundled == 0 {
            return Resolved::Unknown { judged, known_elsewhere: known_elsewhere(knowledge, kind, name) };
        }
        // Releases older than the oldest in force.
        let older: Mask = (1 << self.core.trailing_zeros()) - 1;
        if bundled & !older != 0 {
            return Resolved::Unknown { judged, known_elsewhere: Some(core.describe(bundled)) };
        }
        let provider = plugin.map_or("a plugin".to_owned(), |plugin| format!("the {plugin} plugin"));
        Resolved::Unchecked(format!(
            "{} bundled it; with {judged} {provider} provides it, whose keys xtask does not know",
            core.describe(bundled)
        ))
    }

    /// The type as its plugin names it, when a `required_plugins` entry
    /// of a plugin xtask knows provides it under another name (`aws-ebs`
    /// from `aws = { source = "github.com/hashicorp/amazon" }` is
    /// `amazon-ebs`); `None` for any other type.
    pub fn canonical_type(&self, name: &str) -> Option<String> {
        let required = self.required_for(name)?;
        knowledge().plugin_type_name(&required.local_name, &required.address, name)
    }

    /// The `required_plugins` entry that provides a type: `amazon`
    /// provides `amazon` and `amazon-*`.
    fn required_for(&self, name: &str) -> Option<&Required> {
        self.required.iter().find(|required| {
            let local = required.local_name.as_str();
            name == local || name.strip_prefix(local).is_some_and(|rest| rest.starts_with('-'))
        })
    }

    fn resolve_required(
        &self,
        knowledge: &'static Knowledge,
        kind: PluginKind,
        name: &str,
        required: &Required,
    ) -> Resolved {
        let Some(plugin) = knowledge.plugin_of_address(&required.address) else {
            if required.address.trim().is_empty() {
                return Resolved::Unchecked(format!(
                    "its `required_plugins` entry `{}` names no source",
                    required.local_name
                ));
            }
            return Resolved::Unchecked(format!("the plugin {} is not one xtask knows", required.address));
        };
        let source = &knowledge.sources[plugin];
        let (allowed, why) = match &required.constraint {
            Some(constraint) => (source.allowed(constraint), format!("`{constraint}` in `required_plugins`")),
            // Any release is allowed, and `packer init` installs the newest.
            None => (source.newest(), "the newest release xtask knows: `required_plugins` names no version, and `packer init` installs the newest".to_owned()),
        };
        if allowed == 0 {
            return Resolved::Unchecked(format!(
                "`{}` allows no {} release xtask knows ({} to {})",
                required.constraint.as_deref().unwrap_or_default(),
                source.name,
                source.versions[0],
                source.versions[source.versions.len() - 1]
            ));
        }
        // The entry's key names the types: `aws` in `required_plugins` makes `aws-ebs`.
        let canonical = self.canonical_type(name).unwrap_or_else(|| name.to_owned());
        let Some((_, component)) =
            knowledge.components(kind, &canonical).find(|(_, c)| c.source == plugin && c.registered & allowed != 0)
        else {
            return Resolved::Unknown {
                judged: format!("{} ({why})", source.describe(allowed)),
                known_elsewhere: None,
            };
        };
        let mut scope = Scope::default();
        scope.add(plugin, &component.keys, allowed & component.known, &why);
        Resolved::Known(scope)
    }
}

/// Releases outside those in force that have the type, for a message.
fn known_elsewhere(knowledge: &'static Knowledge, kind: PluginKind, name: &str) -> Option<String> {
    let (_, component) = knowledge.components(kind, name).last()?;
    Some(knowledge.sources[component.source].describe(component.registered))
}

impl Scope {
    fn add(&mut self, source: usize, keys: &'static [Key], allowed: Mask, why: &str) {
        if allowed == 0 {
            return;
        }
        match self.candidates.iter_mut().find(|c| c.source == source && std::ptr::eq(c.keys, keys) && c.why == why) {
            Some(candidate) => candidate.allowed |= allowed,
            None => self.candidates.push(Candidate { source, keys, allowed, why: why.to_owned() }),
        }
    }

    /// The releases judged, as a message names them: "amazon 1.2.0 to
    /// 1.8.2 (`~> 1.2` in `required_plugins`)".
    pub fn judged(&self) -> String {
        let sources = &knowledge().sources;
        let parts: Vec<String> =
            self.candidates.iter().map(|c| format!("{} ({})", sources[c.source].describe(c.allowed), c.why)).collect();
        parts.join(" and ")
    }

    /// How `key` fares; `hcl2`: keys only JSON takes do not count.
    pub fn judge(&self, key: &str, hcl2: bool) -> Judgement {
        let mut judgement = Judgement { name: None, types: Vec::new(), lacking: None, absent: true };
        let mut any = false;
        for (at, candidate) in self.candidates.iter().enumerate() {
            let mut have: Mask = 0;
            for found in named(candidate.keys, key).filter(|found| !(hcl2 && found.json_only)) {
                let here = found.versions & candidate.allowed;
                if here == 0 {
                    continue;
                }
                have |= here;
                judgement.name.get_or_insert(found.name);
                if !judgement.types.contains(&found.ty) {
                    judgement.types.push(found.ty);
                }
            }
            any |= have != 0;
            let lacking = candidate.allowed & !have;
            if have != 0 && lacking != 0 && judgement.lacking.is_none() {
                judgement.lacking = Some((at, lacking));
            }
            if have == 0 && judgement.lacking.is_none() {
                judgement.lacking = Some((at, lacking));
            }
        }
        judgement.absent = !any;
        if judgement.absent {
            judgement.lacking = None;
        }
        judgement
    }

    /// The scope of a nested block `key`, at the releases that have it as a block.
    pub fn nested(&self, key: &str) -> Scope {
        let mut scope = Scope::default();
        for candidate in &self.candidates {
            for found in named(candidate.keys, key).filter(|found| matches!(found.ty, Type::Block | Type::Blocks)) {
                scope.add(candidate.source, &found.children, found.versions & candidate.allowed, &candidate.why);
            }
        }
        scope
    }

    /// Every key name some release in force has, for "did you mean".
    pub fn names(&self, hcl2: bool) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .candidates
            .iter()
            .flat_map(|c| c.keys.iter().filter(move |key| key.versions & c.allowed != 0 && !(hcl2 && key.json_only)))
            .map(|key| key.name)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// "arrived in amazon 1.2.2; `~> 1.2.0` in `required_plugins` allows
    /// amazon 1.2.0 to 1.2.1, which lack it": what a key present in only
    /// some releases in force is told.
    pub fn lacking_message(&self, judgement: &Judgement) -> Option<String> {
        let (at, lacking) = judgement.lacking?;
        let candidate = &self.candidates[at];
        let source = &knowledge().sources[candidate.source];
        let have = candidate.allowed & !lacking;
        let (first_have, first_lack) = (source.first(have)?, source.first(lacking)?);
        let change = if first_have > first_lack {
            format!("arrived in {} {first_have}", display_name(source.name))
        } else {
            // The first release after one that has it, that lacks it.
            let removed = (0..source.versions.len())
                .find(|index| lacking & (1 << index) != 0 && source.versions[*index] > first_have)
                .map_or(first_lack, |index| source.versions[index]);
            format!("was removed in {} {removed}", display_name(source.name))
        };
        Some(format!("{change}; {} also allows {}, {}", candidate.why, source.describe(lacking), without(lacking)))
    }
}

/// "which does not have it" or "which do not have it", after releases.
pub fn without(releases: Mask) -> &'static str {
    if releases.count_ones() == 1 { "which does not have it" } else { "which do not have it" }
}

fn display_name(source: &str) -> &str {
    if source == "core" { "Packer" } else { source }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(version: &str) -> Setting {
        Setting {
            core: Some(Declared { version: Version::parse(version).unwrap(), why: "test".to_owned() }),
            ..Setting::default()
        }
    }

    fn scope(resolved: Resolved) -> Scope {
        match resolved {
            Resolved::Known(scope) => scope,
            Resolved::Unchecked(why) => panic!("unchecked: {why}"),
            Resolved::Unknown { judged, .. } => panic!("unknown at {judged}"),
        }
    }

    #[test]
    fn core_components_by_version() {
        let old = scope(InForce::from_setting(&declared("1.6.6")).resolve(PluginKind::Provisioner, "file"));
        assert!(old.judge("content", false).absent);
        let new = scope(InForce::from_setting(&declared("1.11.2")).resolve(PluginKind::Provisioner, "file"));
        assert!(!new.judge("content", false).absent);
        let both = InForce::for_hcl2(&Setting::default(), Some(">= 1.7.0, < 1.8.0"), Vec::new());
        let file = scope(both.resolve(PluginKind::Provisioner, "file"));
        let judgement = file.judge("content", true);
        assert!(!judgement.absent && judgement.lacking.is_some());
        assert!(file.lacking_message(&judgement).unwrap().starts_with("arrived in Packer 1.7.5;"));
    }

    /// One release reads a template's values: the linter takes the newest
    /// in force, a build the Packer that builds, else the declared one.
    #[test]
    fn the_release_values_are_read_with() {
        let both = InForce::for_hcl2(&declared("1.6.6"), Some(">= 1.7.0, < 1.8.0"), Vec::new());
        assert_eq!(both.newest_core(), Some(Version(1, 7, 10)));
        let newest = knowledge().sources[CORE].versions.last().copied();
        assert_eq!(InForce::from_setting(&Setting::default()).newest_core(), newest);
        let mut setting = declared("1.11.2");
        assert_eq!(setting.reading(), Some(Version(1, 11, 2)));
        setting.builds_with = Some(Version(1, 6, 6));
        assert_eq!(setting.reading(), Some(Version(1, 6, 6)));
        assert_eq!(Setting::default().reading(), None);
    }

    #[test]
    fn bundled_and_pinned_plugins() {
        // Packer 1.9.0 bundles amazon 1.2.1, which has no `imds_support`.
        let bundled = scope(InForce::from_setting(&declared("1.9.0")).resolve(PluginKind::Builder, "amazon-ebs"));
        assert!(bundled.judge("imds_support", false).absent);
        assert!(bundled.judged().contains("amazon 1.2.1 (bundled with Packer 1.9.0)"), "{}", bundled.judged());
        // Over several Packer releases, each plugin release says which it stands for.
        let range = scope(
            InForce::for_hcl2(&Setting::default(), Some(">= 1.8.6"), Vec::new())
                .resolve(PluginKind::Builder, "amazon-ebs"),
        );
        let judged = range.judged();
        assert!(judged.contains("amazon 1.2.1 (bundled with Packer 1.8.6 to 1.9.5)"), "{judged}");
        assert!(
            judged.contains("amazon 1.8.2 (the newest release xtask knows, as Packer 1.10.0 to 1.16.0 bundles none"),
            "{judged}"
        );
        // An HCL2 template can say which release itself; a JSON one only through xtask.toml.
        let expected = r#"name yours in `required_plugins` (`amazon = { source = "github.com/hashicorp/amazon", "#;
        assert!(judged.contains(expected), "{judged}");
        let json = scope(InForce::from_setting(&declared("1.11.2")).resolve(PluginKind::Builder, "amazon-ebs"));
        assert!(!json.judged().contains("required_plugins"), "{}", json.judged());
        assert!(json.judged().contains("under `[packer.plugins]` in xtask.toml"), "{}", json.judged());
        let mut pinned = declared("1.9.0");
        pinned.plugins.push(("amazon".to_owned(), Declared { version: Version(1, 3, 0), why: "pin".to_owned() }));
        let pinned = scope(InForce::from_setting(&pinned).resolve(PluginKind::Builder, "amazon-ebs"));
        assert!(!pinned.judge("imds_support", false).absent);
        // A pin of a source xtask does not know: Packer loads it by its
        // name for amazon's types, whose keys are then unknown.
        let mut foreign = declared("1.11.2");
        foreign.unknown_pins.push(("amazon".to_owned(), "github.com/example/amazon".to_owned()));
        let Resolved::Unchecked(why) = InForce::from_setting(&foreign).resolve(PluginKind::Builder, "amazon-ebs")
        else {
            panic!("a foreign pin's types are checked");
        };
        assert!(why.contains("github.com/example/amazon"), "{why}");
        // Packer 1.6.6 has it built in.
        let core = scope(InForce::from_setting(&declared("1.6.6")).resolve(PluginKind::Builder, "amazon-ebs"));
        assert_eq!(core.candidates[0].source, CORE);
        assert!(!core.nested("launch_block_device_mappings").judge("volume_size", false).absent);
        assert!(core.nested("launch_block_device_mappings").judge("volume_szie", false).absent);
    }

    /// A `required_version` only releases newer than the knowledge meet
    /// is judged as the newest it knows, not as the installed Packer the
    /// template refuses; one no release meets leaves the setting.
    #[test]
    fn required_version_beyond_the_knowledge() {
        let core = &knowledge().sources[CORE];
        let newer = InForce::for_hcl2(&declared("1.6.6"), Some(">= 1.17"), Vec::new());
        assert_eq!(newer.core, core.newest());
        assert!(newer.core_judged().contains("newer than xtask knows"), "{}", newer.core_judged());
        let impossible = InForce::for_hcl2(&declared("1.6.6"), Some(">= 2, < 1"), Vec::new());
        assert_eq!(core.last(impossible.core), Some(Version(1, 6, 6)));
    }

    #[test]
    fn required_plugins_decide_their_types() {
        let required = |constraint: &str| Required {
            local_name: "amazon".to_owned(),
            address: "github.com/hashicorp/amazon".to_owned(),
            constraint: Some(constraint.to_owned()),
        };
        let in_force = InForce::for_hcl2(&Setting::default(), Some(">= 1.9"), vec![required("~> 1.2.0")]);
        let ebs = scope(in_force.resolve(PluginKind::Builder, "amazon-ebs"));
        let judgement = ebs.judge("imds_support", true);
        assert_eq!(
            ebs.lacking_message(&judgement).unwrap(),
            "arrived in amazon 1.2.2; `~> 1.2.0` in `required_plugins` also allows amazon 1.2.0 to 1.2.1, which do not have it"
        );
        let ami = scope(in_force.resolve(PluginKind::Datasource, "amazon-ami"));
        assert!(ami.judge("most_recnt", true).absent);
        assert!(!ami.judge("most_recent", true).absent);
        let community = Required {
            local_name: "libvirt".to_owned(),
            address: "github.com/thomasklein94/libvirt".to_owned(),
            constraint: None,
        };
        let in_force = InForce::for_hcl2(&Setting::default(), None, vec![community]);
        assert!(matches!(in_force.resolve(PluginKind::Builder, "libvirt"), Resolved::Unchecked(_)));
        // An entry without a source (invalid-plugin-source reports it): no
        // empty address in the note.
        let sourceless =
            Required { local_name: "amazon".to_owned(), address: String::new(), constraint: Some("~> 1.3".to_owned()) };
        let in_force = InForce::for_hcl2(&Setting::default(), None, vec![sourceless]);
        let Resolved::Unchecked(why) = in_force.resolve(PluginKind::Builder, "amazon-ebs") else {
            panic!("a type of an entry without a source is checked");
        };
        assert_eq!(why, "its `required_plugins` entry `amazon` names no source");
    }

    /// Every component at every release it has, as one release in force:
    /// each key that release has is present and nothing else, nested
    /// blocks included, whatever the letter case of the key.
    #[test]
    fn every_key_at_every_release() {
        let knowledge = knowledge();
        fn walk(scope: &Scope, keys: &'static [Key], at: Mask, depth: usize) {
            for key in keys.iter().filter(|key| key.versions & at != 0) {
                let judgement = scope.judge(key.name, false);
                assert!(!judgement.absent && judgement.lacking.is_none(), "{} at depth {depth}", key.name);
                assert!(judgement.types.contains(&key.ty), "{}", key.name);
                assert!(!scope.judge(&key.name.to_ascii_uppercase(), false).absent, "{}", key.name);
                let typo = format!("{}_x", key.name);
                let is_key =
                    keys.iter().any(|other| other.name.eq_ignore_ascii_case(&typo) && other.versions & at != 0);
                assert_eq!(scope.judge(&typo, false).absent, !is_key, "{typo}");
                if matches!(key.ty, Type::Block | Type::Blocks) {
                    walk(&scope.nested(key.name), &key.children, at, depth + 1);
                }
            }
        }
        for component in &knowledge.components {
            for index in 0..knowledge.sources[component.source].versions.len() {
                let at: Mask = 1 << index;
                if component.known & at == 0 {
                    continue;
                }
                let mut scope = Scope::default();
                scope.add(component.source, &component.keys, at, "test");
                walk(&scope, &component.keys, at, 0);
            }
        }
    }

    #[test]
    fn vmware_remote_keys_left_in_2_0_0() {
        let required = Required {
            local_name: "vmware".to_owned(),
            address: "github.com/hashicorp/vmware".to_owned(),
            constraint: Some(">= 1.0.7".to_owned()),
        };
        let in_force = InForce::for_hcl2(&Setting::default(), None, vec![required]);
        let iso = scope(in_force.resolve(PluginKind::Builder, "vmware-iso"));
        let judgement = iso.judge("remote_host", true);
        let message = iso.lacking_message(&judgement).unwrap();
        assert!(message.starts_with("was removed in vmware 2.0.0;"), "{message}");
    }
}
