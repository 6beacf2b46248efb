//! `xtask.toml` at the repository's top: the linters' configuration. Rules
//! (by name or code) get a severity or are turned off, and path patterns
//! turn rules off for the files they match:
//!
//! ```toml
//! [rules]
//! unused-variable = "error"
//! PKR108 = "off"
//!
//! [per-file-ignores]
//! "packer/3.9/**" = ["duplicate-region"]
//! ```
//!
//! `[packer]` names the Packer the repository's JSON templates (and HCL2
//! ones without `required_version`) are built and judged with, and
//! `[packer.plugins]` pins, by source, the exact plugin versions that
//! `images` installs on Packer 1.10 and later and the linter judges each
//! plugin's types at (`declared` maps a source to the
//! plugin the knowledge holds):
//!
//! ```toml
//! [packer]
//! version = "1.11.2"
//! [packer.plugins]
//! "github.com/hashicorp/amazon" = "1.3.2"
//! ```
//!
//! `[channels]` names the channels images are rolled out through
//! (`crate::channels`).
//!
//! Rules are declared by the linters above this module, so their names are
//! looked up when a linter asks ([`Config::rule_settings`], in the
//! [`Registry`] it passes): reading the file checks everything else.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Result, bail};
use toml::de::{DeTable, DeValue};

use crate::channels::Channels;
use crate::diagnostic::{Report, RuleMeta, Severity};
use crate::location::LineIndex;
use crate::registry::Registry;
use crate::schema::in_force::{Declared, Setting};
use crate::version::Version;

/// The configuration's name, a fact of the repository's layout.
pub use crate::project::CONFIG_FILE as FILE;

/// The largest configuration read: a FIFO, a device or a runaway file is not.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Default)]
pub struct Config {
    /// `[rules]` as written: each rule and the severity it has, `None`
    /// when it is off.
    levels: Vec<(WrittenRule, Option<Severity>)>,
    /// `[per-file-ignores]` as written: patterns of root-relative paths and
    /// the rules off in those files.
    ignores: Vec<(String, Vec<WrittenRule>)>,
    /// `[packer]`: the Packer version and plugin pins.
    pub packer: PackerPins,
    /// `[channels]`: none when the repository rolls out no channels.
    pub channels: Option<Channels>,
    /// The file's text, for the line and column of a rule name found unknown.
    text: String,
}

/// A rule's name or code as `xtask.toml` writes it, and its byte offset.
#[derive(Debug)]
struct WrittenRule {
    name: String,
    at: usize,
}

/// `[rules]` and `[per-file-ignores]` with their rules found in the registry.
#[derive(Debug, Default)]
pub struct RuleSettings {
    /// By rule code: the severity it has, `None` when it is off.
    severities: HashMap<&'static str, Option<Severity>>,
    /// Patterns of root-relative paths and the rules off in those files.
    ignores: Vec<(String, Vec<&'static str>)>,
}

/// `[packer]` of `xtask.toml`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PackerPins {
    /// The Packer the repository's JSON templates are built and judged with.
    pub version: Option<String>,
    /// Plugin source (`github.com/hashicorp/amazon`) to exact version
    /// (`1.3.2`), installed with `packer plugins install SOURCE VERSION`.
    pub plugins: BTreeMap<String, String>,
}

impl Config {
    /// The configuration under `root`; none when there is no `xtask.toml`.
    pub fn read(root: &Path) -> Result<Config> {
        let path = root.join(FILE);
        let bytes = match crate::fsutil::read_regular(&path, MAX_CONFIG_BYTES) {
            Err(crate::fsutil::Unreadable::Missing) => return Ok(Config::default()),
            Err(problem) => bail!("{FILE}: {problem}; make it a regular file of TOML, or remove it"),
            Ok(bytes) => bytes,
        };
        let text =
            String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{FILE} is not UTF-8 text; save it as UTF-8"))?;
        let mut config = Config::parse(&text).map_err(|(at, message)| located(&text, at, &message))?;
        config.text = text;
        Ok(config)
    }

    /// `[rules]` and `[per-file-ignores]`, each rule looked up by name or
    /// code in `rules`; one it does not know is an error naming its place.
    pub fn rule_settings(&self, rules: &Registry) -> Result<RuleSettings> {
        self.resolve(rules).map_err(|(at, message)| located(&self.text, at, &message))
    }

    fn resolve(&self, rules: &Registry) -> Result<RuleSettings, (usize, String)> {
        let mut settings = RuleSettings::default();
        for (written, severity) in &self.levels {
            settings.severities.insert(rule(rules, written)?.code, *severity);
        }
        for (pattern, written) in &self.ignores {
            let codes = written.iter().map(|written| Ok(rule(rules, written)?.code)).collect::<Result<_, _>>()?;
            settings.ignores.push((pattern.clone(), codes));
        }
        Ok(settings)
    }

    /// Reads the text; an error is its byte offset and what is wrong.
    fn parse(text: &str) -> Result<Config, (usize, String)> {
        let table = DeTable::parse(text).map_err(|error| {
            (error.span().map_or(0, |span| span.start), format!("invalid TOML: {}", error.message().trim()))
        })?;
        let mut config = Config::default();
        for (key, value) in table.get_ref() {
            let entries = match value.get_ref() {
                DeValue::Table(entries) => entries,
                _ => return Err((value.span().start, format!("`{}` must be a table", key.get_ref()))),
            };
            match key.get_ref().as_ref() {
                "rules" => config.read_rules(entries)?,
                "per-file-ignores" => config.read_ignores(entries)?,
                "packer" => config.packer = read_packer(entries)?,
                "channels" => config.channels = Some(crate::channels::parse(entries, key.span().start)?),
                other => {
                    let message = format!(
                        "unknown section `{other}`; the sections are `rules`, `per-file-ignores`, `packer` and \
                         `channels`"
                    );
                    return Err((key.span().start, message));
                }
            }
        }
        Ok(config)
    }

    fn read_rules(&mut self, entries: &DeTable) -> Result<(), (usize, String)> {
        for (name, value) in entries {
            let rule = WrittenRule { name: name.get_ref().to_string(), at: name.span().start };
            let severity = match value.get_ref() {
                DeValue::String(level) if level == "off" => None,
                DeValue::String(level) if level == "warning" => Some(Severity::Warning),
                DeValue::String(level) if level == "error" => Some(Severity::Error),
                _ => {
                    return Err((value.span().start, "a rule's level is \"off\", \"warning\" or \"error\"".to_owned()));
                }
            };
            self.levels.push((rule, severity));
        }
        Ok(())
    }

    fn read_ignores(&mut self, entries: &DeTable) -> Result<(), (usize, String)> {
        for (pattern, value) in entries {
            let DeValue::Array(names) = value.get_ref() else {
                return Err((value.span().start, "the rules to ignore are a list of names or codes".to_owned()));
            };
            let mut rules = Vec::new();
            for name in names {
                let DeValue::String(text) = name.get_ref() else {
                    return Err((name.span().start, "a rule is named by a string".to_owned()));
                };
                rules.push(WrittenRule { name: text.to_string(), at: name.span().start });
            }
            self.ignores.push((pattern.get_ref().to_string(), rules));
        }
        Ok(())
    }
}

/// The error of `xtask.toml` at byte `at`, with its line and column.
fn located(text: &str, at: usize, message: &str) -> anyhow::Error {
    let (line, column) = LineIndex::new(text).line_column(at);
    anyhow::anyhow!("{FILE}:{line}:{column}: {message}; fix or remove it (docs/configuration.md says what it holds)")
}

impl RuleSettings {
    /// Drops the findings of rules that are off (everywhere or for their
    /// file) and gives the others their configured severity.
    pub fn apply(&self, report: &mut Report) {
        for file in &mut report.files {
            let ignored: Vec<&str> = self
                .ignores
                .iter()
                .filter(|(pattern, _)| glob_matches(pattern, &file.path))
                .flat_map(|(_, codes)| codes.iter().copied())
                .collect();
            file.diagnostics.retain_mut(|diagnostic| {
                let code = diagnostic.rule.code;
                if ignored.contains(&code) {
                    return false;
                }
                match self.severities.get(code) {
                    Some(None) => false,
                    Some(Some(severity)) => {
                        diagnostic.severity = *severity;
                        true
                    }
                    None => true,
                }
            });
        }
    }
}

/// The versions `--packer-version` (`flag`) and xtask.toml's `[packer]`
/// declare; no Packer version when neither names one. A pin is judged as
/// the plugin the knowledge holds for its source (`github.com/hashicorp/amazon`
/// is `amazon`); a pin of a source it does not hold makes that plugin's
/// types unchecked, since Packer loads a plugin by name whatever its source.
pub fn declared(flag: Option<Version>, pins: &PackerPins) -> Setting {
    let knowledge = crate::schema::knowledge();
    let mut setting = Setting::default();
    for (source, version) in &pins.plugins {
        let name = crate::plugins::source_name(source);
        match (knowledge.plugin_of_address(source), Version::parse(version)) {
            (Some(plugin), Some(version)) => {
                let why = format!("`\"{source}\" = \"{version}\"` in {}", FILE);
                setting.plugins.push((knowledge.sources[plugin].name.to_owned(), Declared { version, why }));
            }
            _ => setting.unknown_pins.push((name.to_owned(), source.clone())),
        }
    }
    let written = pins.version.as_deref().and_then(Version::parse);
    setting.core = match (flag, written) {
        (Some(version), _) => Some(Declared { version, why: "--packer-version".to_owned() }),
        (None, Some(version)) => Some(Declared { version, why: format!("`[packer] version` in {}", FILE) }),
        (None, None) => None,
    };
    setting
}

/// The Packer at `packer`, whose `packer version` said `version`
/// (`1.16.0`, `1.10.0-dev`), as the version templates are judged with.
pub fn installed(packer: &Path, version: &str) -> Option<Declared> {
    let why =
        format!("the installed {}; declare the one you build with as `[packer] version` in {}", packer.display(), FILE);
    Declared::packer(version, why)
}

/// `[packer]`: `version = "X.Y.Z"` and `[packer.plugins]`, each a plugin
/// source and the exact version to install.
fn read_packer(entries: &DeTable) -> Result<PackerPins, (usize, String)> {
    let mut pins = PackerPins::default();
    for (key, value) in entries {
        match (key.get_ref().as_ref(), value.get_ref()) {
            ("version", DeValue::String(version)) if is_exact_version(version) => {
                pins.version = Some(version.to_string());
            }
            ("version", _) => {
                return Err((
                    value.span().start,
                    "`version` is Packer's exact version as a string: \"1.11.2\"".to_owned(),
                ));
            }
            ("plugins", DeValue::Table(plugins)) => {
                for (source, version) in plugins {
                    let source_text = source.get_ref().to_string();
                    if let Err(why) = check_plugin_source(&source_text) {
                        return Err((source.span().start, format!("`{source_text}` is not a plugin source: {why}")));
                    }
                    // Packer loads one plugin of a name for the types no
                    // `required_plugins` covers, the highest version
                    // installed, whatever its source.
                    let name = crate::plugins::source_name(&source_text);
                    if let Some(other) = pins.plugins.keys().find(|other| crate::plugins::source_name(other) == name) {
                        let message = format!(
                            "`{source_text}` and `{other}` both pin a plugin named `{name}`, and Packer loads one \
                             plugin of a name (the highest version installed, whatever its source); keep one"
                        );
                        return Err((source.span().start, message));
                    }
                    match version.get_ref() {
                        DeValue::String(text) if is_exact_version(text) => {
                            pins.plugins.insert(source_text, text.to_string());
                        }
                        _ => {
                            let message = format!(
                                "`{source_text}` takes an exact version as a string (\"1.3.2\"): it is installed with \
                                 `packer plugins install {source_text} VERSION`"
                            );
                            return Err((version.span().start, message));
                        }
                    }
                }
            }
            ("plugins", _) => return Err((value.span().start, "`plugins` must be a table".to_owned())),
            (other, _) => {
                let message = format!("unknown key `{other}` in [packer]; it takes `version` and `plugins`");
                return Err((key.span().start, message));
            }
        }
    }
    Ok(pins)
}

/// `1.3.2`: three numbers, as Packer and its plugins are released, each
/// written as Packer writes it back (`01` would be installed as `1`, and
/// the pin never found installed).
fn is_exact_version(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3 && parts.iter().all(|part| part.parse::<u64>().is_ok_and(|number| number.to_string() == *part))
}

/// Why `text` is not a plugin source as `packer plugins install` takes one
/// (ParsePluginSourceString in hcl2template/addrs/plugin.go at v1.16.0):
/// a host and at least two more parts, at most 16, and a name Packer names
/// the plugin's components after (`amazon` gives `amazon-ebs`).
fn check_plugin_source(text: &str) -> Result<(), String> {
    const EXAMPLE: &str = "\"github.com/hashicorp/amazon\"";
    let parts: Vec<&str> = text.split('/').collect();
    let well_formed = parts.len() >= 3
        && parts[0].contains('.')
        && parts.iter().all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if !well_formed {
        return Err(format!("write it as Packer does: {EXAMPLE}"));
    }
    if parts.len() > 16 {
        return Err("Packer takes at most 16 parts".to_owned());
    }
    let name = parts[parts.len() - 1];
    if let Some(short) = name.strip_prefix("packer-plugin-") {
        let [host, namespace, ..] = parts[..] else { unreachable!("three parts at least") };
        return Err(format!(
            "Packer refuses the repository's prefix in a plugin's name; write it without `packer-plugin-`: \
             \"{host}/{namespace}/{short}\""
        ));
    }
    if name.starts_with("packer-") {
        return Err("Packer refuses a name that starts with `packer-`".to_owned());
    }
    let plain = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !plain {
        return Err(format!(
            "its name, `{name}`, takes lower-case letters, digits and single dashes, as Packer names a plugin's \
             types after it (`amazon` gives `amazon-ebs`)"
        ));
    }
    Ok(())
}

fn rule(rules: &Registry, written: &WrittenRule) -> Result<&'static RuleMeta, (usize, String)> {
    let name = &written.name;
    rules.find(name).ok_or_else(|| {
        (written.at, format!("`{name}` is not a rule (`cargo xtask lint --explain RULE` takes names and codes)"))
    })
}

/// Whether a root-relative path matches a pattern: `*` is any run of
/// characters but `/`, `?` one of them, `**` any number of whole folders
/// (`packer/**` is everything under `packer/`), anything else itself.
fn glob_matches(pattern: &str, path: &str) -> bool {
    fn segments(pattern: &[&str], path: &[&str]) -> bool {
        match (pattern.first(), path.first()) {
            (None, None) => true,
            (Some(&"**"), _) => segments(&pattern[1..], path) || (!path.is_empty() && segments(pattern, &path[1..])),
            (Some(part), Some(name)) => {
                segment(part.as_bytes(), name.as_bytes()) && segments(&pattern[1..], &path[1..])
            }
            _ => false,
        }
    }
    fn segment(pattern: &[u8], name: &[u8]) -> bool {
        match (pattern.first(), name.first()) {
            (None, None) => true,
            (Some(b'*'), _) => segment(&pattern[1..], name) || (!name.is_empty() && segment(pattern, &name[1..])),
            (Some(b'?'), Some(_)) => segment(&pattern[1..], &name[1..]),
            (Some(a), Some(b)) => a == b && segment(&pattern[1..], &name[1..]),
            _ => false,
        }
    }
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    segments(&pattern, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("packer/3.9/**", "packer/3.9/aws/machine-image/template.json"));
        assert!(glob_matches("packer/*/aws/*/template.json", "packer/3.11/aws/machine-image/template.json"));
        assert!(glob_matches("**/template.json", "packer/3.9/aws/machine-image/template.json"));
        assert!(glob_matches("deployments/legacy-?.yaml", "deployments/legacy-a.yaml"));
        assert!(!glob_matches("packer/3.9/*", "packer/3.9/aws/machine-image/template.json"));
        assert!(!glob_matches("deployments/*.yaml", "packer/3.9/aws/machine-image/template.json"));
    }

    static DUPLICATE_REGION: RuleMeta =
        RuleMeta { code: "PKR107", name: "duplicate-region", severity: Severity::Warning, doc: "" };

    /// The error reading `text` gives, or else looking its rules up.
    fn error(text: &str) -> String {
        let registry = Registry::new([&DUPLICATE_REGION]);
        let (at, message) = Config::parse(text).and_then(|config| config.resolve(&registry).map(drop)).unwrap_err();
        let (line, _) = LineIndex::new(text).line_column(at);
        format!("{line}: {message}")
    }

    #[test]
    fn unknown_keys_and_rules_name_their_line() {
        assert_eq!(
            error("[rules]\nduplicate-region = \"off\"\n\n[lints]\n"),
            "4: unknown section `lints`; the sections are `rules`, `per-file-ignores`, `packer` and `channels`"
        );
        assert!(
            error("[rules]\nPKR107 = \"warning\"\nno-such-rule = \"off\"\n")
                .starts_with("3: `no-such-rule` is not a rule")
        );
        assert!(error("[rules]\nPKR107 = \"loud\"\n").starts_with("2: a rule's level"));
        assert!(error("[per-file-ignores]\n\"packer/**\" = [\"nope\"]\n").starts_with("2: `nope` is not a rule"));
        assert!(error("[rules\n").starts_with("1: invalid TOML"));
    }

    #[test]
    fn packer_pins() {
        let config = Config::parse(
            "[packer]\nversion = \"1.11.2\"\n[packer.plugins]\n\"github.com/hashicorp/amazon\" = \"1.3.2\"\n",
        )
        .unwrap();
        assert_eq!(config.packer.version.as_deref(), Some("1.11.2"));
        assert_eq!(config.packer.plugins["github.com/hashicorp/amazon"], "1.3.2");
        assert_eq!(Config::parse("").unwrap().packer, PackerPins::default());
        assert!(error("[packer]\nversion = 1.11\n").starts_with("2: `version` is Packer's exact version"));
        assert!(
            error("[packer.plugins]\n\"github.com/hashicorp/amazon\" = \"~> 1\"\n")
                .starts_with("2: `github.com/hashicorp/amazon` takes an exact version")
        );
        assert!(error("[packer.plugins]\namazon = \"1.3.2\"\n").starts_with("2: `amazon` is not a plugin source"));
        assert!(error("[packer]\nplugin = {}\n").starts_with("2: unknown key `plugin` in [packer]"));
        // Sources Packer 1.16's `packer plugins install` refuses
        // (hcl2template/addrs/plugin.go), refused here, where the line is known.
        for (source, why) in [
            ("github.com/hashicorp/packer-plugin-amazon", "without `packer-plugin-`: \"github.com/hashicorp/amazon\""),
            ("github.com/hashicorp/packer-amazon", "a name that starts with `packer-`"),
            ("github.com/hashicorp/amazon.v2", "letters, digits and single dashes"),
            ("github.com/hashicorp/amazon_v2", "letters, digits and single dashes"),
            ("github.com/hashicorp/ama--zon", "letters, digits and single dashes"),
            ("github.com/hashicorp/-amazon", "letters, digits and single dashes"),
            ("github.com/hashicorp/Amazon", "letters, digits and single dashes"),
            ("a.com/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", "at most 16 parts"),
        ] {
            let said = error(&format!("[packer.plugins]\n\"{source}\" = \"1.3.2\"\n"));
            assert!(said.starts_with(&format!("2: `{source}` is not a plugin source")), "{source}: {said}");
            assert!(said.contains(why), "{source}: {said}");
        }
        // Packer loads one plugin of a name, the highest installed,
        // whatever its source: two pins for `amazon` cannot both hold.
        let said = error(
            "[packer.plugins]\n\"github.com/hashicorp/amazon\" = \"1.3.2\"\n\"github.com/example/amazon\" = \"2.0.0\"\n",
        );
        assert!(said.contains("both pin a plugin named `amazon`"), "{said}");
        assert!(
            said.contains("`github.com/example/amazon`") && said.contains("`github.com/hashicorp/amazon`"),
            "{said}"
        );
        // `packer plugins install` reads 01.3.2 as 1.3.2 and installs that;
        // `packer plugins installed` then lists 1.3.2, never the pin.
        let said = error("[packer.plugins]\n\"github.com/hashicorp/amazon\" = \"01.3.2\"\n");
        assert!(said.starts_with("2: `github.com/hashicorp/amazon` takes an exact version"), "{said}");
        assert!(error("[packer]\nversion = \"1.011.2\"\n").starts_with("2: `version` is Packer's exact version"));
        assert!(Config::parse("[packer.plugins]\n\"github.com/hashicorp/amazon\" = \"1.10.0\"\n").is_ok());
    }

    /// `[packer.plugins]` keys are sources: the knowledge names their
    /// plugin, and a source it does not hold leaves its name's types unchecked.
    #[test]
    fn pins_are_judged_as_the_plugin_of_their_source() {
        let pins = PackerPins {
            version: Some("1.11.2".to_owned()),
            plugins: [
                ("github.com/hashicorp/amazon".to_owned(), "1.3.0".to_owned()),
                ("github.com/vmware/vmware".to_owned(), "1.0.7".to_owned()),
                ("github.com/example/docker".to_owned(), "2.0.0".to_owned()),
            ]
            .into(),
        };
        let setting = declared(None, &pins);
        assert_eq!(setting.core.as_ref().map(|core| core.version), Some(Version(1, 11, 2)));
        let plugins: Vec<(&str, Version)> =
            setting.plugins.iter().map(|(name, declared)| (name.as_str(), declared.version)).collect();
        assert_eq!(plugins, [("amazon", Version(1, 3, 0)), ("vmware", Version(1, 0, 7))]);
        assert!(setting.plugins[0].1.why.contains("\"github.com/hashicorp/amazon\" = \"1.3.0\""));
        assert_eq!(setting.unknown_pins, [("docker".to_owned(), "github.com/example/docker".to_owned())]);
        let flagged = declared(Some(Version(1, 9, 0)), &pins);
        assert_eq!(
            flagged.core.map(|core| (core.version, core.why)),
            Some((Version(1, 9, 0), "--packer-version".into()))
        );
        assert!(declared(None, &PackerPins::default()).core.is_none());
    }
}
