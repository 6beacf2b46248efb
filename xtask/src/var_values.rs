//! The values a run gives a template's variables: var files (JSON objects,
//! or `.pkrvars.hcl`) read as Packer reads them, and those values as the
//! lock and a result record them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::hcl2::Given;

/// Is this var file HCL (`prod.pkrvars.hcl`) rather than JSON?
pub fn is_hcl_var_file(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|extension| extension == "hcl")
}

/// Values as the lock and a result record them: as text ([`Given::text`]).
pub fn recorded_texts(values: &BTreeMap<String, Given>) -> BTreeMap<String, String> {
    values.iter().map(|(name, given)| (name.clone(), given.text().to_owned())).collect()
}

/// Recorded values ([`recorded_texts`]) given to a template again: each
/// read as `--var` text is, by its variable's type, so that a list a var
/// file gave a list-typed HCL2 variable, recorded as written, is that list.
pub fn from_recorded(values: &BTreeMap<String, String>) -> BTreeMap<String, Given> {
    values.iter().map(|(name, text)| (name.clone(), Given::Arg(text.clone()))).collect()
}

/// Variables set by var files (JSON objects, or `.pkrvars.hcl`), the later
/// files winning, as text: see [`Given::text`].
pub fn read_var_files(paths: &[PathBuf]) -> Result<BTreeMap<String, String>> {
    Ok(read_var_file_values(paths)?.into_iter().map(|(name, given)| (name, given.text().to_owned())).collect())
}

/// The largest var file read: a FIFO, a device or a runaway file is not.
const MAX_VAR_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Variables set by var files, the later files winning, each as the value
/// it is: an HCL var file's list stays a list (trailing commas, comments
/// and heredocs read by the HCL parser), and what xtask cannot evaluate is
/// an expression, never a literal it is not.
pub fn read_var_file_values(paths: &[PathBuf]) -> Result<BTreeMap<String, Given>> {
    let mut values = BTreeMap::new();
    for path in paths {
        let bytes = crate::fsutil::read_regular(path, MAX_VAR_FILE_BYTES)
            .map_err(|problem| anyhow::anyhow!("var file `{}`: {problem}; name a file of variables", path.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("var file `{}` is not UTF-8 text; save it as UTF-8", path.display()))?;
        if is_hcl_var_file(path) {
            values.extend(read_hcl_var_file(path, text)?);
            continue;
        }
        let value: Value = serde_json::from_str(&text).with_context(|| {
            format!("var file `{}` is not valid JSON; it must be an object of strings", path.display())
        })?;
        let Value::Object(members) = value else {
            bail!("var file `{}` must be a JSON object of variable names and values", path.display());
        };
        for (name, value) in members {
            let text = match &value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            values.insert(name, Given::File { value: hcl_value_of_json(&value), text });
        }
    }
    Ok(values)
}

/// A JSON var file's value as HCL2 reads it (HCL's JSON syntax).
fn hcl_value_of_json(value: &Value) -> crate::hcl2::Value {
    use crate::hcl2::{At, Attr, Item, Value as Hcl};
    let nowhere = || At { file: 0, bytes: 0..0 };
    match value {
        Value::Null => Hcl::Null,
        Value::Bool(yes) => Hcl::Bool(*yes),
        Value::Number(number) => Hcl::Number(number.to_string()),
        Value::String(text) => Hcl::String(text.clone()),
        Value::Array(items) => {
            Hcl::List(items.iter().map(|item| Item { at: nowhere(), value: hcl_value_of_json(item) }).collect())
        }
        Value::Object(members) => Hcl::Object(
            members
                .iter()
                .map(|(key, value)| Attr {
                    key: key.clone(),
                    key_at: nowhere(),
                    at: nowhere(),
                    value: hcl_value_of_json(value),
                })
                .collect(),
        ),
    }
}

/// The values of an HCL var file (`prod.pkrvars.hcl`), which HCL2
/// templates take, read by the HCL parser.
fn read_hcl_var_file(path: &std::path::Path, text: String) -> Result<Vec<(String, Given)>> {
    use crate::hcl2::{self, Value as Hcl};
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let file = hcl2::parse_file(0, &name, text)
        .map_err(|error| anyhow::anyhow!("var file `{}` is not valid HCL: {}", path.display(), error.message))?;
    Ok(file
        .body
        .attrs
        .iter()
        .map(|attr| {
            let text = match &attr.value {
                Hcl::String(text) | Hcl::Number(text) => text.clone(),
                Hcl::Bool(yes) => yes.to_string(),
                _ => file.text.get(attr.at.bytes.clone()).unwrap_or_default().to_owned(),
            };
            (attr.key.clone(), Given::File { value: attr.value.clone(), text })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn var_files_are_json_or_hcl() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("a.json");
        let hcl = dir.path().join("b.pkrvars.hcl");
        fs::write(&json, r#"{"region": "eu-west-1", "count": 2}"#).unwrap();
        fs::write(&hcl, "region = \"eu-central-1\"\nencrypt = true\nzones = [\"a\"]\n").unwrap();
        let values = read_var_files(&[json, hcl.clone()]).unwrap();
        assert_eq!(values["region"], "eu-central-1", "the later file wins");
        assert_eq!(values["count"], "2");
        assert_eq!(values["encrypt"], "true");
        assert_eq!(values["zones"], "[\"a\"]");
        fs::write(&hcl, "region = \n").unwrap();
        let error = read_var_files(&[hcl]).unwrap_err().to_string();
        assert!(error.contains("is not valid HCL"), "{error}");
    }
    #[test]
    fn an_hcl_var_files_list_stays_a_list() {
        let dir = tempfile::tempdir().unwrap();
        let hcl = dir.path().join("b.pkrvars.hcl");
        let text = "copies = [\n  \"eu-west-1\", # Ireland\n  \"us-east-1\",\n]\n";
        fs::write(&hcl, text).unwrap();
        let values = read_var_file_values(std::slice::from_ref(&hcl)).unwrap();
        let Given::File { value: crate::hcl2::Value::List(items), text: written } = &values["copies"] else {
            panic!("not a list: {:?}", values["copies"]);
        };
        let regions: Vec<&crate::hcl2::Value> = items.iter().map(|item| &item.value).collect();
        assert_eq!(
            regions,
            [&crate::hcl2::Value::String("eu-west-1".to_owned()), &crate::hcl2::Value::String("us-east-1".to_owned())]
        );
        // The text the settings hash takes is the value as written.
        assert!(written.starts_with('[') && written.ends_with(']'), "{written}");
    }
    #[test]
    fn var_files_later_wins_and_non_strings_are_their_json() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.json");
        let second = dir.path().join("b.json");
        fs::write(&first, r#"{"region": "eu-west-1", "size": 2}"#).unwrap();
        fs::write(&second, r#"{"region": "eu-central-1"}"#).unwrap();
        let values = read_var_files(&[first, second]).unwrap();
        assert_eq!(values["region"], "eu-central-1");
        assert_eq!(values["size"], "2");
        assert!(read_var_files(&[dir.path().join("missing.json")]).is_err());
    }
}
