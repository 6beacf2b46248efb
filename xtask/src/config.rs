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
//!
//! # The Packer the JSON templates (and HCL2 ones without
//! # `required_version`) are judged against, and plugin versions.
//! [packer]
//! version = "1.11.2"
//! plugins = { amazon = "1.3.0" }
//! ```

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use anyhow::{Context, Result};
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Report, RuleMeta, Severity};
use crate::location::LineIndex;
use crate::version::Version;

pub const FILE: &str = "xtask.toml";

#[derive(Debug, Default)]
pub struct Config {
    /// By rule code: the severity it has, `None` when it is off.
    severities: HashMap<&'static str, Option<Severity>>,
    /// Patterns of root-relative paths and the rules off in those files.
    ignores: Vec<(String, Vec<&'static str>)>,
    /// `[packer] version`: the Packer release the templates are built with.
    pub packer_version: Option<Version>,
    /// `[packer] plugins`: plugin name → the release pinned.
    pub plugin_versions: Vec<(String, Version)>,
}

impl Config {
    /// The configuration under `root`; none when there is no `xtask.toml`.
    pub fn read(root: &Path) -> Result<Config> {
        let path = root.join(FILE);
        let text = match std::fs::read_to_string(&path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            read => read.with_context(|| format!("reading {}", path.display()))?,
        };
        Config::parse(&text).map_err(|(at, message)| {
            let (line, column) = LineIndex::new(&text).line_column(at);
            anyhow::anyhow!("{FILE}:{line}:{column}: {message}; fix or remove it (the README's \"Configuration\" says what it holds)")
        })
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
                "packer" => config.read_packer(entries)?,
                other => {
                    let message =
                        format!("unknown section `{other}`; the sections are `rules`, `per-file-ignores` and `packer`");
                    return Err((key.span().start, message));
                }
            }
        }
        Ok(config)
    }

    fn read_rules(&mut self, entries: &DeTable) -> Result<(), (usize, String)> {
        for (name, value) in entries {
            let rule = rule(name.get_ref(), name.span())?;
            let severity = match value.get_ref() {
                DeValue::String(level) if level == "off" => None,
                DeValue::String(level) if level == "warning" => Some(Severity::Warning),
                DeValue::String(level) if level == "error" => Some(Severity::Error),
                _ => {
                    return Err((value.span().start, "a rule's level is \"off\", \"warning\" or \"error\"".to_owned()));
                }
            };
            self.severities.insert(rule.code, severity);
        }
        Ok(())
    }

    fn read_ignores(&mut self, entries: &DeTable) -> Result<(), (usize, String)> {
        for (pattern, value) in entries {
            let DeValue::Array(names) = value.get_ref() else {
                return Err((value.span().start, "the rules to ignore are a list of names or codes".to_owned()));
            };
            let mut codes = Vec::new();
            for name in names {
                let DeValue::String(text) = name.get_ref() else {
                    return Err((name.span().start, "a rule is named by a string".to_owned()));
                };
                codes.push(rule(text, name.span())?.code);
            }
            self.ignores.push((pattern.get_ref().to_string(), codes));
        }
        Ok(())
    }

    fn read_packer(&mut self, entries: &DeTable) -> Result<(), (usize, String)> {
        let release = |value: &toml::Spanned<DeValue>| -> Result<Version, (usize, String)> {
            let DeValue::String(text) = value.get_ref() else {
                return Err((value.span().start, "a version is a string, such as \"1.11.2\"".to_owned()));
            };
            Version::parse(text.as_ref()).ok_or_else(|| {
                (value.span().start, format!("`{text}` is not a release: write its three numbers, such as \"1.11.2\""))
            })
        };
        for (key, value) in entries {
            match key.get_ref().as_ref() {
                "version" => self.packer_version = Some(release(value)?),
                "plugins" => {
                    let DeValue::Table(plugins) = value.get_ref() else {
                        return Err((value.span().start, "`plugins` is a table of plugin name = version".to_owned()));
                    };
                    for (name, version) in plugins {
                        let known = &crate::schema::knowledge().sources[1..];
                        if !known.iter().any(|source| source.name == name.get_ref().as_ref()) {
                            let names: Vec<&str> = known.iter().map(|source| source.name).collect();
                            return Err((
                                name.span().start,
                                format!("xtask knows no plugin `{}`; it knows {}", name.get_ref(), names.join(", ")),
                            ));
                        }
                        self.plugin_versions.push((name.get_ref().to_string(), release(version)?));
                    }
                }
                other => {
                    return Err((
                        key.span().start,
                        format!("unknown key `{other}` in [packer]; it takes `version` and `plugins`"),
                    ));
                }
            }
        }
        Ok(())
    }

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

fn rule(name: &str, span: Range<usize>) -> Result<&'static RuleMeta, (usize, String)> {
    crate::lint::find_rule(name).ok_or_else(|| {
        (span.start, format!("`{name}` is not a rule (`cargo xtask lint --explain RULE` takes names and codes)"))
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

    fn error(text: &str) -> String {
        let (at, message) = Config::parse(text).unwrap_err();
        let (line, _) = LineIndex::new(text).line_column(at);
        format!("{line}: {message}")
    }

    #[test]
    fn unknown_keys_and_rules_name_their_line() {
        assert_eq!(
            error("[rules]\nduplicate-region = \"off\"\n\n[lints]\n"),
            "4: unknown section `lints`; the sections are `rules`, `per-file-ignores` and `packer`"
        );
        assert!(
            error("[rules]\nPKR107 = \"warning\"\nno-such-rule = \"off\"\n")
                .starts_with("3: `no-such-rule` is not a rule")
        );
        assert!(error("[rules]\nPKR107 = \"loud\"\n").starts_with("2: a rule's level"));
        assert!(error("[per-file-ignores]\n\"packer/**\" = [\"nope\"]\n").starts_with("2: `nope` is not a rule"));
        assert!(error("[rules\n").starts_with("1: invalid TOML"));
        assert!(error("[packer]\nversion = \"1.11\"\n").starts_with("2: `1.11` is not a release"));
        assert!(error("[packer]\nplugins = { amazn = \"1.3.0\" }\n").starts_with("2: xtask knows no plugin `amazn`"));
    }

    #[test]
    fn packer_versions() {
        let config = Config::parse("[packer]\nversion = \"1.11.2\"\nplugins = { amazon = \"1.3.0\" }\n").unwrap();
        assert_eq!(config.packer_version, Some(Version(1, 11, 2)));
        assert_eq!(config.plugin_versions, [("amazon".to_owned(), Version(1, 3, 0))]);
    }
}
