//! What a build is given, as the lock keeps it: the hashes of a template's
//! files (all together, and each one, to say which changed), the hash of
//! the values it is given besides them (var files, `--var`), and of those
//! values their names and what may be written down in a committed file,
//! never a secret.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::fsutil;

/// Hashes named byte strings, each length-prefixed so that no two lists
/// of them run together the same way.
struct Hasher(Sha256);

impl Hasher {
    fn feed(&mut self, name: &[u8], bytes: &[u8]) {
        self.0.update((name.len() as u64).to_le_bytes());
        self.0.update(name);
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn finish(self) -> String {
        let digest = self.0.finalize();
        format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
    }
}

/// `sha256:` and 64 lower-case hex digits, as [`Hasher`] writes them.
pub fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The hashes of a template's files: of all of them together (`all`, the
/// lock's `hash`) and of each one (`each`, the lock's `files`, to say which
/// changed), from one read of each file.
#[derive(Debug, Clone, PartialEq)]
pub struct InputHashes {
    pub all: String,
    pub each: BTreeMap<String, String>,
}

/// Hashes a template's files: each one's path relative to the template's
/// folder and its bytes; a folder (a file provisioner uploads it with all
/// it holds) by each file in it.
pub fn hash_inputs(dir: &Path, inputs: &[String]) -> Result<InputHashes> {
    let mut all = Hasher(Sha256::new());
    let mut each = BTreeMap::new();
    for input in inputs {
        let mut own = Hasher(Sha256::new());
        let mut feed = |name: &str, bytes: &[u8]| {
            all.feed(name.as_bytes(), bytes);
            own.feed(name.as_bytes(), bytes);
        };
        let path = dir.join(input);
        if path.is_dir() {
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&path)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|entry| !entry.file_type().is_dir())
                .map(walkdir::DirEntry::into_path)
                .collect();
            files.sort();
            for file in files {
                let name = format!("{input}/{}", file.strip_prefix(&path).unwrap_or(&file).display());
                feed(&name, &read_input(&file)?);
            }
        } else {
            feed(input, &read_input(&path)?);
        }
        each.insert(input.clone(), own.finish());
    }
    Ok(InputHashes { all: all.finish(), each })
}

/// An uploaded file's bytes, read only when it is a regular file.
fn read_input(path: &Path) -> Result<Vec<u8>> {
    let (mut file, metadata) =
        fsutil::open_regular(path).map_err(|problem| anyhow::anyhow!("cannot read {}: {problem}", path.display()))?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.read_to_end(&mut bytes).with_context(|| format!("reading {}", path.display()))?;
    Ok(bytes)
}

/// The names of what a build is given besides the files, for saying which
/// differ: `--var` keys and `var-file <path>` for the var files that set a
/// variable the template declares, sorted; never the values.
pub fn setting_names(
    root: &Path,
    var_files: &[PathBuf],
    vars: &[(String, String)],
    declared: &BTreeSet<String>,
) -> Vec<String> {
    let mut names: Vec<String> = vars.iter().map(|(key, _)| key.clone()).collect();
    for file in var_files {
        let sets = crate::var_values::read_var_files(std::slice::from_ref(file)).unwrap_or_default();
        if sets.keys().any(|name| declared.contains(name)) {
            names.push(format!("var-file {}", var_file_name(root, file)));
        }
    }
    names.sort();
    names.dedup();
    names
}

/// A var file as the lock names it, however the command line spelled it:
/// relative to the repository when it is inside, else absolute.
fn var_file_name(root: &Path, file: &Path) -> String {
    let canonical = fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
    let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    match canonical.strip_prefix(&root) {
        Ok(inside) => crate::project::relative(Path::new(""), inside),
        Err(_) => canonical.display().to_string(),
    }
}

/// What the lock keeps of the values a build is given (`given`: var files
/// and `--var`; `from_env`: `PKR_VAR_<name>`, which count where nothing
/// else gives the variable), for the variables the template declares:
/// each value, or `None` where it must not be written down in a committed
/// file: a sensitive variable, one whose name says it may hold a secret
/// (withholding one costs only `status` its certainty), a value holding
/// one of the run's `secrets` (what it hides in its output: AWS
/// credentials from the environment, every value of a sensitive
/// variable), whatever the variable is called, or a value with a control
/// character.
pub fn recorded_values(
    given: &BTreeMap<String, String>,
    from_env: &[(String, String)],
    declared: &BTreeSet<String>,
    sensitive: &[&str],
    secrets: &[String],
) -> BTreeMap<String, Option<String>> {
    let mut values: BTreeMap<String, Option<String>> = BTreeMap::new();
    let from_env = from_env.iter().filter(|(name, _)| !given.contains_key(name)).map(|(name, value)| (name, value));
    for (name, value) in given.iter().chain(from_env) {
        if !declared.contains(name) {
            continue;
        }
        let withheld = is_secret(name, value, sensitive, secrets)
            || crate::printable::check(value).is_err()
            || crate::printable::check(name).is_err();
        values.insert(name.clone(), (!withheld).then(|| value.clone()));
    }
    values
}

/// Whether a value given to `name` must be kept out of every committed
/// file, the settings hash included: a sensitive variable, one whose name
/// says it may hold a secret, or a value holding one of the run's
/// `secrets`. The hash of a weak password is as good as the password to
/// whoever can try a word list against the rest of the lock.
fn is_secret(name: &str, value: &str, sensitive: &[&str], secrets: &[String]) -> bool {
    sensitive.contains(&name) || may_hold_a_secret(name) || secrets.iter().any(|secret| value.contains(secret.as_str()))
}

/// A variable name that suggests a secret whether or not the template
/// marks it sensitive (`aws_secret_key`, `db_password`, `api_token`), read
/// word by word so that `author` or `kms_key_id` are not taken for one: a
/// name ending in a word that names a reference to a secret (an ID, a
/// name, a path) holds no secret itself, and a change to it must still
/// rebuild.
fn may_hold_a_secret(name: &str) -> bool {
    const SECRET_WORDS: &[&str] = &[
        "pass",
        "passwd",
        "password",
        "passphrase",
        "pwd",
        "secret",
        "secrets",
        "token",
        "tokens",
        "cred",
        "creds",
        "credential",
        "credentials",
        "auth",
        "apikey",
        "cert",
        "certificate",
    ];
    const REFERENCES: &[&str] =
        &["id", "ids", "name", "names", "arn", "file", "path", "dir", "url", "type", "alias", "length", "size"];
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty()).collect();
    let Some(last) = words.last() else { return false };
    if REFERENCES.contains(last) {
        return false;
    }
    *last == "key" || words.iter().any(|word| SECRET_WORDS.contains(word))
}

/// The hash of what a build was given besides the files: the values var
/// files give the variables the template declares, and `--var` values,
/// sorted.
pub fn hash_settings(
    root: &Path,
    var_files: &[PathBuf],
    vars: &[(String, String)],
    sensitive: &[&str],
    secrets: &[String],
    declared: &BTreeSet<String>,
) -> Result<String> {
    let mut hasher = Hasher(Sha256::new());
    // The values a build is given, var files first, then `--var`, each
    // under its name. A secret ([`is_secret`]) counts by its name alone:
    // its value must not be guessable from a committed hash, and a rotated
    // credential does not make an image stale.
    let mut feed = |name: &str, value: &str| {
        let value = if is_secret(name, value, sensitive, secrets) { "<sensitive>" } else { value };
        hasher.feed(name.as_bytes(), value.as_bytes());
    };
    // Of a var file only what the template declares counts: Packer
    // ignores the rest, and a value for another template changes nothing.
    for file in var_files {
        let values = crate::var_values::read_var_files(std::slice::from_ref(file))?;
        let values: Vec<(&String, &String)> = values.iter().filter(|(name, _)| declared.contains(*name)).collect();
        if values.is_empty() {
            continue;
        }
        feed("var-file", &var_file_name(root, file));
        for (name, value) in values {
            feed(name, value);
        }
    }
    let mut vars = vars.to_vec();
    vars.sort();
    for (name, value) in &vars {
        feed(name, value);
    }
    Ok(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_change_with_any_input() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("template.json"), "{}").unwrap();
        fs::write(dir.path().join("a.sh"), "echo").unwrap();
        let inputs = vec!["template.json".to_owned(), "a.sh".to_owned()];
        let first = hash_inputs(dir.path(), &inputs).unwrap();
        assert_eq!(first, hash_inputs(dir.path(), &inputs).unwrap());
        fs::write(dir.path().join("a.sh"), "echo 2").unwrap();
        assert_ne!(first, hash_inputs(dir.path(), &inputs).unwrap());
        let with = |value: &str, sensitive: &[&str]| {
            hash_settings(Path::new("."), &[], &[("k".into(), value.into())], sensitive, &[], &BTreeSet::new()).unwrap()
        };
        assert_ne!(hash_settings(Path::new("."), &[], &[], &[], &[], &BTreeSet::new()).unwrap(), with("v", &[]));
        assert_ne!(with("v", &[]), with("w", &[]));
        assert_eq!(with("v", &["k"]), with("w", &["k"]), "a sensitive value does not count");
        // Nor a value the name says is a secret, nor one holding a secret
        // of the run: a committed hash of `hunter2` gives it away to a word
        // list.
        let named = |name: &str, value: &str, secrets: &[String]| {
            hash_settings(Path::new("."), &[], &[(name.into(), value.into())], &[], secrets, &BTreeSet::new()).unwrap()
        };
        assert_eq!(named("db_password", "hunter2", &[]), named("db_password", "letmein", &[]));
        assert_eq!(
            named("vault", "x-AKIASECRET", &["AKIASECRET".into()]),
            named("vault", "x-OTHERSECRET", &["OTHERSECRET".into()])
        );
        assert_ne!(named("kms_key_id", "alias/a", &[]), named("kms_key_id", "alias/b", &[]), "a reference rebuilds");
    }

    #[test]
    fn values_are_recorded_except_secrets() {
        let given: BTreeMap<String, String> = [
            ("flavor", "b"),
            ("vault", "s3cr3t"),
            ("aws_secret_key", "AKIA"),
            ("db_password", "pw"),
            ("motd", "hi\u{1b}[2J"),
            ("notes", "key s3cr3t-from-aws-env"),
            ("undeclared", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let declared: BTreeSet<String> = ["flavor", "vault", "aws_secret_key", "db_password", "motd", "notes", "size"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let from_env = [("size".to_owned(), "2".to_owned()), ("flavor".to_owned(), "from-env".to_owned())];
        let secrets = ["s3cr3t-from-aws-env".to_owned()];
        let values = recorded_values(&given, &from_env, &declared, &["vault"], &secrets);
        let expected: BTreeMap<String, Option<String>> = [
            ("flavor", Some("b")),
            ("vault", None),
            ("aws_secret_key", None),
            ("db_password", None),
            ("motd", None),
            ("notes", None),
            ("size", Some("2")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
        .collect();
        assert_eq!(values, expected);
    }

    #[test]
    fn names_that_say_secret() {
        for name in ["db_password", "aws_secret_key", "api_token", "access_key", "ssh_password", "winrm-pass", "ApiKey"]
        {
            assert!(may_hold_a_secret(name), "{name}");
        }
        for name in ["author", "kms_key_id", "ssh_keypair_name", "ssh_private_key_file", "password_length", "flavor"] {
            assert!(!may_hold_a_secret(name), "{name}");
        }
    }
}
