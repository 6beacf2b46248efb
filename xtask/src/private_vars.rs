//! The `--var` values a build gets, handed to Packer in a var file only
//! this user can read rather than as `-var name=value`: any local user can
//! read a process's arguments in `/proc/PID/cmdline`, for the whole build.
//! Every value goes this way, secret or not, so that there is one rule to
//! trust.
//!
//! The file is JSON, which both kinds of template read as a var file
//! (Packer 1.6.6 to 1.16): a JSON template's Packer takes a map of strings,
//! an HCL2 folder's takes a `.json` file whose strings are literal, `${`
//! and `%{` included. Given last, it wins over the user's var files as
//! `-var` did: a JSON template's Packer applies var files in order, and an
//! HCL2 folder's applies `.json` var files after `.hcl` ones (1.6.6) or in
//! the order given (since 1.8).
//!
//! It lives in `target/xtask/private/` (mode 0700), is created with mode
//! 0600, and is removed when the build ends, also after Ctrl-C or SIGTERM
//! (the build finishes its clean-up first); a file left by a killed run is
//! removed by the next run, which holds the run lock.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value as Json};

use crate::hcl2::value::{CtyValue, Kind};
use crate::hcl2::{Hcl2Template, Value};
use crate::project::TemplateFormat;
use crate::protected::Protected;

/// Where the var files are written, below the root.
pub const FOLDER: &str = "target/xtask/private";

/// A var file on disk, removed when dropped.
pub struct PrivateVars {
    path: PathBuf,
}

impl PrivateVars {
    /// The values of `vars` as the var file holds them, for a template of
    /// `format` whose HCL2 variable types come from `template` when it
    /// could be read. An error names the variable, never its value.
    pub fn values(
        format: TemplateFormat,
        template: Option<&Hcl2Template>,
        vars: &[(String, String)],
    ) -> Result<Map<String, Json>> {
        let mut values = Map::new();
        for (name, text) in vars {
            let value = match format {
                TemplateFormat::Json => Json::String(text.clone()),
                TemplateFormat::Hcl2 => hcl2_value(name, template, text)?,
            };
            values.insert(name.clone(), value);
        }
        Ok(values)
    }

    /// Writes `values` into a new var file in `folder` (from [`folder`]);
    /// `None` when there is nothing to pass.
    pub fn write(folder: &Path, values: &Map<String, Json>) -> Result<Option<PrivateVars>> {
        if values.is_empty() {
            return Ok(None);
        }
        let written = PrivateVars { path: folder.join(format!("vars-{}-{}.json", std::process::id(), unique())) };
        let mut file = crate::fsutil::create_new(&written.path, 0o600)
            .with_context(|| format!("creating {}", written.path.display()))?;
        // One value a line: a diagnostic of Packer's that quotes the line of
        // one value shows no other.
        let text = serde_json::to_string_pretty(values).expect("a map of values serialises");
        file.write_all(text.as_bytes()).with_context(|| format!("writing {}", written.path.display()))?;
        Ok(Some(written))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateVars {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// The root's folder of var files, made private, never in packer/ or
/// deployments/.
pub fn folder(root: &Path, protected: &Protected) -> Result<PathBuf> {
    let folder = protected
        .check(&root.join(FOLDER))
        .map_err(|refusal| anyhow::anyhow!("{FOLDER}: {refusal}; make target/ a folder of its own"))?;
    crate::fsutil::private_folder(&folder)?;
    Ok(folder)
}

/// Removes the var files a killed run left. The caller holds the run lock,
/// so no other run has one there. Only names [`PrivateVars::write`] gives
/// are removed: the folder may be a symlink to one that holds other files.
/// Returns how many it removed.
pub fn remove_stale(root: &Path) -> usize {
    let Ok(folder) = Protected::of(root).check(&root.join(FOLDER)) else { return 0 };
    let Ok(entries) = fs::read_dir(folder) else { return 0 };
    entries
        .flatten()
        .filter(|entry| is_var_file_name(&entry.file_name().to_string_lossy()))
        .filter(|entry| fs::remove_file(entry.path()).is_ok())
        .count()
}

/// `vars-PID-N.json`, as [`PrivateVars::write`] names a var file.
fn is_var_file_name(name: &str) -> bool {
    let number = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix("vars-")
        .and_then(|rest| rest.strip_suffix(".json"))
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(pid, n)| number(pid) && number(n))
}

/// A number no other var file of this process has had.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The declared type of an HCL2 variable, without spaces: `list(string)`.
fn type_of(template: Option<&Hcl2Template>, name: &str) -> Option<String> {
    let attr = template?.variable(name)?.type_expr()?;
    let text = match &attr.value {
        Value::Expr(text) | Value::String(text) => text.clone(),
        _ => return None,
    };
    Some(text.chars().filter(|c| !c.is_whitespace()).collect())
}

/// What `-var name=text` gives an HCL2 variable, as JSON: read by its
/// type as Packer reads `-var` and as the plan reads `--var`
/// ([`Hcl2Template::value_of_text`]), the text itself for a string, a
/// number, `any` or no type; for any other type Packer reads the text as
/// an expression, which may hold values and operators only, turned into
/// JSON here. A template that could not be read, or does not declare the
/// variable, gets the text.
fn hcl2_value(name: &str, template: Option<&Hcl2Template>, text: &str) -> Result<Json> {
    let Some(value) = template.and_then(|template| template.value_of_text(name, text)) else {
        return Ok(Json::String(text.to_owned()));
    };
    match value.ok().as_ref().and_then(json_of) {
        Some(value) => Ok(value),
        // Neither the value nor the evaluator's message (which may quote
        // it) is repeated: it may be a secret.
        None => {
            let kind = type_of(template, name).unwrap_or_else(|| "that of its default".to_owned());
            bail!(
                "--var {name}: the variable's type is {kind}, so its value must be a literal (like [\"a\", \"b\"], \
                 {{ key = \"value\" }}, true or 3), which xtask hands to Packer in a private var file; references and \
                 functions are for the template"
            )
        }
    }
}

/// A value as JSON; `None` for one only the build knows.
fn json_of(value: &CtyValue) -> Option<Json> {
    Some(match &value.kind {
        Kind::Unknown(_) => return None,
        Kind::Null(_) => Json::Null,
        Kind::Bool(yes) => Json::Bool(*yes),
        Kind::Number(number) => Json::Number(serde_json::from_str(&number.text()?).ok()?),
        Kind::String(text) => Json::String(text.clone()),
        Kind::List(_, elements) | Kind::Set(_, elements) | Kind::Tuple(elements) => {
            Json::Array(elements.iter().map(json_of).collect::<Option<_>>()?)
        }
        Kind::Map(_, attrs) | Kind::Object(attrs) => {
            Json::Object(attrs.iter().map(|(key, value)| Some((key.clone(), json_of(value)?))).collect::<Option<_>>()?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hcl2;

    #[test]
    fn typed_hcl2_values_are_written_as_json_literals() {
        let declared = |declaration: &str| Hcl2Template {
            files: vec![
                hcl2::parse_file(0, "variables.pkr.hcl", format!("variable \"v\" {{\n{declaration}\n}}\n"))
                    .expect("the declaration parses"),
            ],
            ..Hcl2Template::default()
        };
        let value = |declaration: &str, text: &str| {
            hcl2_value("v", Some(&declared(declaration)), text).map(|json| json.to_string())
        };
        assert_eq!(value("", "[\"a\"]").unwrap(), "\"[\\\"a\\\"]\"", "untyped: the text as it is");
        assert_eq!(value("  type = number", "3").unwrap(), "\"3\"");
        assert_eq!(value("  type = any", "[\"a\"]").unwrap(), "\"[\\\"a\\\"]\"", "any: text, as Packer 1.8+");
        assert_eq!(value("  default = null", "a").unwrap(), "\"a\"");
        assert_eq!(value("  type = list(string)", "[\"a\", \"$${b}\\n\"]").unwrap(), "[\"a\",\"${b}\\n\"]");
        assert!(value("  type = list(string)", "[\"${b}\"]").is_err(), "an interpolation");
        assert_eq!(value("  type = map(number)", "{ a = 1, \"b c\" = -2.5 }").unwrap(), "{\"a\":1,\"b c\":-2.5}");
        assert_eq!(value("  type = bool", "true").unwrap(), "true");
        // Untyped, a list default makes the type a tuple: Packer reads
        // `-var` as an expression, as the plan does.
        assert_eq!(value("  default = [\"x\"]", "[\"a\"]").unwrap(), "[\"a\"]");
        let refused = value("  default = [\"x\"]", "[var.x]").unwrap_err().to_string();
        assert!(refused.starts_with("--var v: the variable's type is that of its default"), "{refused}");
        let refused = value("  type = list(string)", "[var.x]").unwrap_err().to_string();
        assert!(refused.starts_with("--var v: the variable's type is list(string)"), "{refused}");
        assert!(value("  type = list(string)", "[\"a\"]\nother = 1").is_err(), "one value, not two settings");
        // Not declared, or no template read: the text.
        assert_eq!(hcl2_value("w", Some(&declared("  type = bool")), "x").unwrap(), "x");
        assert_eq!(hcl2_value("v", None, "[1]").unwrap(), "[1]");
    }

    /// Only the var files xtask writes are removed as a killed run's: when
    /// `target/xtask/private` is a symlink to a folder of the user's, the
    /// other files there stay.
    #[test]
    fn only_var_files_are_removed_as_stale() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let elsewhere = root.join("documents");
        fs::create_dir_all(&elsewhere).unwrap();
        fs::create_dir_all(root.join("target/xtask")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join(FOLDER)).unwrap();
        for name in ["thesis.txt", "vars-notes.json", "vars-12-3.json.bak", "vars-12-3.json", "vars-4-0.json"] {
            fs::write(elsewhere.join(name), "x").unwrap();
        }
        assert_eq!(remove_stale(&root), 2);
        let mut left: Vec<String> =
            fs::read_dir(&elsewhere).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        assert_eq!(left, ["thesis.txt", "vars-12-3.json.bak", "vars-notes.json"]);
    }
}
