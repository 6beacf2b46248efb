//! `packer/images.lock`: what was built from which inputs. Committed with the
//! repository, so that a run skips templates whose inputs have not changed
//! since their images were built and the deployment linter can tell a stale
//! image from a current one.
//!
//! Format (JSON, `version` 3):
//!
//! ```json
//! {
//!   "version": 3,
//!   "templates": {
//!     "packer/3.11/aws/machine-image/template.json": {
//!       "hash": "sha256:…",            // of the files at the last build
//!       "inputs": ["template.json", "scripts/install.sh"],
//!       "files": { "template.json": "sha256:…", "scripts/install.sh": "sha256:…" },
//!       "images": {
//!         "eu-central-1": { "id": "ami-…", "built_at": "2026-11-27T14:03:11Z",
//!                           "packer_version": "1.6.6",
//!                           "hash": "sha256:…", "settings": "sha256:…",
//!                           "variables": ["flavor", "var-file vars/prod.json"],
//!                           "values": { "flavor": "b", "aws_secret_key": null },
//!                           "plugins": { "github.com/hashicorp/amazon": "1.3.2" } }
//!       },
//!       "history": { "eu-central-1": [ { "id": "ami-…", … }, … ] },
//!       "channels": { "canary": { "eu-central-1": "ami-…" }, "stable": { … } },
//!       "lifecycle": {
//!         "ami-…": { "entered": { "canary": "2026-11-27T14:03:11Z" },
//!                    "revoked": { "at": "…", "reason": "CVE-2026-1234 in the kernel" },
//!                    "pruned": { "started_at": "…", "snapshots": ["snap-…"], "finished_at": "…" } }
//!       }
//!     }
//!   }
//! }
//! ```
//!
//! Each image keeps the hash of the files it was built from (`hash`) and of
//! the variables it was given (`settings`: var files and `--var` values),
//! so a run that built only some regions (`--region`) leaves the others
//! marked as older, and the deployment linter can tell a template edited
//! since. It keeps the Packer that built it (a `--region` run may use
//! another than the last run did; absent for an image taken from a
//! manifest, which does not say), and the values of the variables it was
//! given (`values`), so that `status` and the linter read the template as
//! its build did: which files a build reads and which regions it makes can
//! depend on them. A value that must not be written down (a sensitive
//! variable, one whose name says it holds a credential) is `null`.
//! GCE images are global and are recorded under `global`.
//!
//! `history` keeps, per region, the images recorded before the current one
//! (newest first, at most [`HISTORY`]); `channels` the image each channel
//! of `xtask.toml` was last given; `lifecycle`, per image ID, when it
//! entered each channel, its revocation and its pruning (see [`history`],
//! and `crate::lifecycle` for the commands). Each is absent while empty.
//!
//! Version 1 kept one `packer_version` per template and no `values`;
//! version 2 no history, channels or lifecycle. Both are read (a version 1
//! image takes the template's Packer version) and written as version 3 by
//! the next write.

pub mod history;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::fsutil::{self, Unreadable, write_atomic};
use crate::json::{self, Json, ToJson, json_object};

pub const VERSION: u32 = 3;

/// The oldest version this tool reads; it upgrades it on the next write.
const OLDEST_READ: u32 = 1;

/// A lock file larger than this is not read: one template's entry is a
/// few hundred bytes.
const MAX_LOCK_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Default, PartialEq)]
pub struct LockFile {
    pub version: u32,
    pub templates: BTreeMap<String, LockedTemplate>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LockedTemplate {
    pub hash: String,
    pub inputs: Vec<String>,
    /// Each input's own hash at the last build, to say which one changed;
    /// absent in locks written before it was recorded.
    pub files: Option<BTreeMap<String, String>>,
    pub images: BTreeMap<String, LockedImage>,
    /// Per region, the images recorded before the current one, newest
    /// first, at most [`HISTORY`]: what a channel still boots, or could be
    /// rolled back to, or what `prune` may remove.
    pub history: BTreeMap<String, Vec<LockedImage>>,
    /// Per channel, per region: the image the last write into that
    /// channel's deployments gave them (`images` for the first channel,
    /// `promote` and `rollback` for any).
    pub channels: BTreeMap<String, BTreeMap<String, String>>,
    /// Per image ID, what happened to it after its build.
    pub lifecycle: BTreeMap<String, ImageLifecycle>,
}

/// The earlier images the lock keeps per template and region, besides the
/// current one.
pub const HISTORY: usize = 10;

/// What happened to one image after its build.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageLifecycle {
    /// Channel to the time the image last entered it (`images` for the
    /// first channel, `promote` or `rollback`).
    pub entered: BTreeMap<String, String>,
    pub revoked: Option<Revocation>,
    pub pruned: Option<Pruning>,
}

/// `cargo xtask revoke`: when, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Revocation {
    pub at: String,
    pub reason: String,
}

/// `cargo xtask prune --execute`: recorded before the image is
/// deregistered, with the snapshots it found, and finished once they are
/// deleted, so that a run stopped in between is completed by the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Pruning {
    pub started_at: String,
    pub snapshots: Vec<String>,
    pub finished_at: Option<String>,
}

impl LockedTemplate {
    /// A region's images, newest first: the current one, then its history.
    pub fn images_of(&self, region: &str) -> impl Iterator<Item = &LockedImage> {
        self.images.get(region).into_iter().chain(self.history.get(region).into_iter().flatten())
    }

    /// The region and record of an image this template's entry holds.
    pub fn find(&self, id: &str) -> Option<(&str, &LockedImage)> {
        let current = self.images.iter().map(|(region, image)| (region.as_str(), image));
        let earlier =
            self.history.iter().flat_map(|(region, images)| images.iter().map(move |image| (region.as_str(), image)));
        current.chain(earlier).find(|(_, image)| image.id == id)
    }

    /// What happened to an image after its build; nothing for one the
    /// lock keeps no event of.
    pub fn lifecycle_of(&self, id: &str) -> ImageLifecycle {
        self.lifecycle.get(id).cloned().unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LockedImage {
    pub id: String,
    pub built_at: String,
    /// The Packer that built it; absent when it was taken from a manifest,
    /// which does not say.
    pub packer_version: Option<String>,
    /// The template's files when the image was built.
    pub hash: String,
    /// The variables it was built with.
    pub settings: String,
    /// Set when the image was taken from a manifest (`--patch-from`)
    /// rather than built by this tool.
    pub manifest: Option<ManifestSource>,
    /// The names (never the values) of the variables it was given: `--var`
    /// keys and `var-file <path>`, to say which one a later run lacks.
    pub variables: Option<Vec<String>>,
    /// The values it was given, by variable (see [`recorded_values`]):
    /// `None` for one that is not written down; the whole map absent in
    /// locks of version 1.
    pub values: Option<BTreeMap<String, Option<String>>>,
    /// The plugins it was built with, source to version
    /// (`github.com/hashicorp/amazon` to `1.3.2`); absent when Packer's
    /// bundled plugins built it, or in locks written before.
    pub plugins: Option<BTreeMap<String, String>>,
}

impl LockedImage {
    /// An image for the tests of the lock and its readers: built by Packer
    /// 1.6.6 with no variables, from files hashed `sha256:0` and settings
    /// `sha256:1`.
    #[cfg(test)]
    pub fn for_tests(id: &str, built_at: &str) -> LockedImage {
        LockedImage {
            id: id.to_owned(),
            built_at: built_at.to_owned(),
            packer_version: Some("1.6.6".into()),
            hash: "sha256:0".into(),
            settings: "sha256:1".into(),
            manifest: None,
            variables: Some(Vec::new()),
            values: Some(BTreeMap::new()),
            plugins: None,
        }
    }

    /// The values the build was given, when the lock knows every one.
    pub fn known_values(&self) -> Option<BTreeMap<String, String>> {
        match (&self.values, &self.variables) {
            (Some(values), _) => values.iter().map(|(name, value)| Some((name.clone(), value.clone()?))).collect(),
            // Version 1 wrote no values: known only when there were none.
            (None, Some(names)) if names.is_empty() => Some(BTreeMap::new()),
            (None, _) => None,
        }
    }

    /// The variables whose values the build was given and the lock does
    /// not know: withheld ones, or, in a version 1 lock, every one given.
    pub fn unknown_values(&self) -> Vec<String> {
        match &self.values {
            Some(values) => values.iter().filter(|(_, value)| value.is_none()).map(|(name, _)| name.clone()).collect(),
            None => self.variables.clone().unwrap_or_default(),
        }
    }
}

/// Where a manifest-applied image came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestSource {
    /// The manifest's path relative to the root.
    pub path: String,
    /// The Packer run that built it (`last_run_uuid`), when recorded.
    pub run_uuid: Option<String>,
}

impl LockFile {
    fn from_json(value: &Value) -> Result<LockFile> {
        let version = value.get("version").and_then(Value::as_u64).context("no `version` number")?;
        let version = u32::try_from(version).unwrap_or(u32::MAX);
        let mut templates = BTreeMap::new();
        let entries = value.get("templates").and_then(Value::as_object).context("no `templates` object")?;
        for (name, entry) in entries {
            templates.insert(name.clone(), read_template(name, entry, version)?);
        }
        Ok(LockFile { version, templates })
    }
}

/// One template's entry, in the shape of any version this tool reads.
fn read_template(name: &str, entry: &Value, version: u32) -> Result<LockedTemplate> {
    let text = |key: &str| -> Result<String> {
        Ok(entry
            .get(key)
            .and_then(Value::as_str)
            .with_context(|| format!("`{name}` has no `{key}` string"))?
            .to_owned())
    };
    let inputs = entry
        .get("inputs")
        .and_then(Value::as_array)
        .with_context(|| format!("`{name}` has no `inputs` list"))?
        .iter()
        .map(|input| {
            input.as_str().map(str::to_owned).with_context(|| format!("`{name}` has an input that is not a string"))
        })
        .collect::<Result<Vec<_>>>()?;
    // Version 1: one Packer version for every image built by Packer.
    let template_version = entry.get("packer_version").and_then(Value::as_str).map(str::to_owned);
    let read = |region: &str, image: &Value, place: &str| {
        read_image(image, version, template_version.as_deref(), &format!("`{name}` {place} `{region}`"))
    };
    let mut images = BTreeMap::new();
    for (region, image) in
        entry.get("images").and_then(Value::as_object).with_context(|| format!("`{name}` has no `images` object"))?
    {
        images.insert(region.clone(), read(region, image, "image")?);
    }
    let mut history = BTreeMap::new();
    for (region, earlier) in object_of(entry, "history", name)? {
        let earlier = earlier.as_array().with_context(|| format!("`{name}` history `{region}` is not a list"))?;
        let earlier = earlier.iter().map(|image| read(region, image, "history")).collect::<Result<Vec<_>>>()?;
        history.insert(region.clone(), earlier);
    }
    let mut channels = BTreeMap::new();
    for (channel, regions) in object_of(entry, "channels", name)? {
        let place = format!("`{name}` channel `{channel}`");
        channels.insert(channel.clone(), strings(regions, &place)?);
    }
    let mut lifecycle = BTreeMap::new();
    for (id, events) in object_of(entry, "lifecycle", name)? {
        lifecycle.insert(id.clone(), read_lifecycle(events, &format!("`{name}` lifecycle of `{id}`"))?);
    }
    Ok(LockedTemplate {
        hash: text("hash")?,
        inputs,
        files: entry.get("files").and_then(Value::as_object).map(|files| {
            files.iter().filter_map(|(name, hash)| Some((name.clone(), hash.as_str()?.to_owned()))).collect()
        }),
        images,
        history,
        channels,
        lifecycle,
    })
}

/// An optional object of a template's entry (absent before version 3).
fn object_of<'a>(entry: &'a Value, key: &str, name: &str) -> Result<&'a serde_json::Map<String, Value>> {
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    match entry.get(key) {
        None => Ok(EMPTY.get_or_init(serde_json::Map::new)),
        Some(value) => value.as_object().with_context(|| format!("`{name}` has a `{key}` that is not an object")),
    }
}

/// An object whose every value is a string.
fn strings(value: &Value, place: &str) -> Result<BTreeMap<String, String>> {
    let object = value.as_object().with_context(|| format!("{place} is not an object"))?;
    object
        .iter()
        .map(|(key, value)| {
            let value = value.as_str().with_context(|| format!("{place} has a `{key}` that is not a string"))?;
            Ok((key.clone(), value.to_owned()))
        })
        .collect()
}

fn read_image(image: &Value, version: u32, template_version: Option<&str>, place: &str) -> Result<LockedImage> {
    let field = |key: &str| -> Result<String> {
        Ok(image.get(key).and_then(Value::as_str).with_context(|| format!("{place} has no `{key}` string"))?.to_owned())
    };
    let manifest = match image.get("manifest") {
        None => None,
        Some(source) => Some(ManifestSource {
            path: source
                .get("path")
                .and_then(Value::as_str)
                .with_context(|| format!("{place} has a `manifest` without `path`"))?
                .to_owned(),
            run_uuid: source.get("run_uuid").and_then(Value::as_str).map(str::to_owned),
        }),
    };
    let packer_version = match image.get("packer_version").and_then(Value::as_str) {
        Some(version) => Some(version.to_owned()),
        None if version == 1 && manifest.is_none() => template_version.map(str::to_owned),
        None => None,
    };
    let values = image
        .get("values")
        .and_then(Value::as_object)
        .map(|values| values.iter().map(|(name, value)| (name.clone(), value.as_str().map(str::to_owned))).collect());
    Ok(LockedImage {
        id: field("id")?,
        built_at: field("built_at")?,
        packer_version,
        hash: field("hash")?,
        settings: field("settings")?,
        manifest,
        variables: image
            .get("variables")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        values,
        plugins: image.get("plugins").and_then(Value::as_object).map(|plugins| {
            plugins
                .iter()
                .filter_map(|(source, version)| Some((source.clone(), version.as_str()?.to_owned())))
                .collect()
        }),
    })
}

fn read_lifecycle(events: &Value, place: &str) -> Result<ImageLifecycle> {
    let entered = match events.get("entered") {
        None => BTreeMap::new(),
        Some(entered) => strings(entered, &format!("{place}: `entered`"))?,
    };
    let text = |object: &Value, key: &str, what: &str| -> Result<String> {
        Ok(object
            .get(key)
            .and_then(Value::as_str)
            .with_context(|| format!("{place}: `{what}` has no `{key}` string"))?
            .to_owned())
    };
    let revoked = match events.get("revoked") {
        None => None,
        Some(revoked) => {
            Some(Revocation { at: text(revoked, "at", "revoked")?, reason: text(revoked, "reason", "revoked")? })
        }
    };
    let pruned = match events.get("pruned") {
        None => None,
        Some(pruned) => Some(Pruning {
            started_at: text(pruned, "started_at", "pruned")?,
            snapshots: pruned
                .get("snapshots")
                .and_then(Value::as_array)
                .with_context(|| format!("{place}: `pruned` has no `snapshots` list"))?
                .iter()
                .map(|id| {
                    id.as_str().map(str::to_owned).with_context(|| format!("{place}: a snapshot is not a string"))
                })
                .collect::<Result<Vec<_>>>()?,
            finished_at: pruned.get("finished_at").and_then(Value::as_str).map(str::to_owned),
        }),
    };
    Ok(ImageLifecycle { entered, revoked, pruned })
}

impl ToJson for LockFile {
    fn to_json(&self) -> Json {
        json_object! {
            "version": self.version,
            "templates": self.templates,
        }
    }
}

impl ToJson for LockedTemplate {
    fn to_json(&self) -> Json {
        json_object! {
            "hash": self.hash,
            "inputs": self.inputs,
            "files"?: self.files,
            "images": self.images,
            "history"?: (!self.history.is_empty()).then_some(&self.history),
            "channels"?: (!self.channels.is_empty()).then_some(&self.channels),
            "lifecycle"?: (!self.lifecycle.is_empty()).then_some(&self.lifecycle),
        }
    }
}

impl ToJson for ImageLifecycle {
    fn to_json(&self) -> Json {
        json_object! {
            "entered"?: (!self.entered.is_empty()).then_some(&self.entered),
            "revoked"?: self.revoked,
            "pruned"?: self.pruned,
        }
    }
}

impl ToJson for Revocation {
    fn to_json(&self) -> Json {
        json_object! {
            "at": self.at,
            "reason": self.reason,
        }
    }
}

impl ToJson for Pruning {
    fn to_json(&self) -> Json {
        json_object! {
            "started_at": self.started_at,
            "snapshots": self.snapshots,
            "finished_at"?: self.finished_at,
        }
    }
}

impl ToJson for LockedImage {
    fn to_json(&self) -> Json {
        json_object! {
            "id": self.id,
            "built_at": self.built_at,
            "packer_version"?: self.packer_version,
            "hash": self.hash,
            "settings": self.settings,
            "manifest"?: self.manifest,
            "variables"?: self.variables,
            "values"?: self.values,
            "plugins"?: self.plugins,
        }
    }
}

impl ToJson for ManifestSource {
    fn to_json(&self) -> Json {
        json_object! {
            "path": self.path,
            "run_uuid"?: self.run_uuid,
        }
    }
}

pub fn path(root: &Path) -> PathBuf {
    root.join("packer/images.lock")
}

impl LockFile {
    /// Reads the lock file; an absent one is empty.
    pub fn read(root: &Path) -> Result<LockFile> {
        let path = path(root);
        let bytes = match fsutil::read_regular(&path, MAX_LOCK_BYTES) {
            Ok(bytes) => bytes,
            Err(Unreadable::Missing) => return Ok(LockFile { version: VERSION, templates: BTreeMap::new() }),
            Err(problem) => bail!(
                "cannot read {}: {problem}; restore it from git, or delete it to rebuild everything",
                path.display()
            ),
        };
        let invalid = || {
            format!(
                "{} is not a valid lock file; restore it from git, or delete it to rebuild everything",
                path.display()
            )
        };
        // A merge that kept both sides of a conflict would silently pick one image.
        let value = crate::json::read_without_duplicate_keys(&bytes).with_context(invalid)?;
        // Asked first: a later version's entries need not read as this one's.
        if let Some(version) = value.get("version").and_then(Value::as_u64)
            && !(u64::from(OLDEST_READ)..=u64::from(VERSION)).contains(&version)
        {
            bail!(
                "{} has version {version}, this tool reads versions {OLDEST_READ} to {VERSION}; update the tool",
                path.display()
            );
        }
        let mut lock = LockFile::from_json(&value).with_context(invalid)?;
        // Read into this version's shape: the next write upgrades the file.
        lock.version = VERSION;
        Ok(lock)
    }

    /// Writes the lock atomically; through a symlink that stays inside the
    /// repository, as deployments are, so that the link survives.
    pub fn write(&self, root: &Path) -> Result<()> {
        let mut text = json::pretty(&self.to_json());
        text.push('\n');
        write_atomic(&target(root)?, text.as_bytes())
    }
}

/// The file the lock is written to: `packer/images.lock`, or what it links
/// to inside the repository, resolved (the writer follows no symlink, so a
/// root reached through one is resolved here).
pub fn target(root: &Path) -> Result<PathBuf> {
    fsutil::resolve_inside(root, &path(root))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn version_1_is_read_and_written_as_the_current_version() {
        let dir = tempfile::tempdir().unwrap();
        let image = |id: &str, extra: &str| {
            format!(
                r#"{{"id": "{id}", "built_at": "2026-11-27T10:00:00Z", "hash": "sha256:0", "settings": "sha256:0"{extra}}}"#
            )
        };
        let old = format!(
            r#"{{"version": 1, "templates": {{"packer/3.11/aws/machine-image/template.json": {{
                "hash": "sha256:0", "inputs": ["template.json"], "packer_version": "1.6.6",
                "images": {{"eu-west-1": {}, "eu-central-1": {}}}}}}}}}"#,
            image("ami-01111111", r#", "variables": ["flavor"]"#),
            image("ami-02222222", r#", "manifest": {"path": "m.json"}, "variables": []"#),
        );
        fs::create_dir_all(dir.path().join("packer")).unwrap();
        fs::write(path(dir.path()), old).unwrap();
        let lock = LockFile::read(dir.path()).unwrap();
        assert_eq!(lock.version, VERSION);
        let images = &lock.templates["packer/3.11/aws/machine-image/template.json"].images;
        assert_eq!(images["eu-west-1"].packer_version.as_deref(), Some("1.6.6"));
        assert_eq!(images["eu-central-1"].packer_version, None, "a manifest's image claims no Packer");
        assert_eq!(images["eu-west-1"].known_values(), None, "version 1 kept no values");
        assert_eq!(images["eu-west-1"].unknown_values(), ["flavor"]);
        assert_eq!(images["eu-central-1"].known_values(), Some(BTreeMap::new()));
        lock.write(dir.path()).unwrap();
        let written = fs::read_to_string(path(dir.path())).unwrap();
        assert!(written.starts_with("{\n  \"version\": 3,"), "{written}");
        assert_eq!(LockFile::read(dir.path()).unwrap(), lock);
        // A later version is refused before its entries are read, whatever their shape.
        fs::write(path(dir.path()), r#"{"version": 4, "templates": {"t": {"images": []}}}"#).unwrap();
        let error = format!("{:#}", LockFile::read(dir.path()).unwrap_err());
        assert!(error.contains("has version 4, this tool reads versions 1 to 3; update the tool"), "{error}");
    }

    #[test]
    fn history_channels_and_lifecycle_round_trip_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("packer")).unwrap();
        let image = |id: &str| LockedImage::for_tests(id, "2026-11-27T10:00:00Z");
        let mut entry = LockedTemplate { hash: "sha256:0".into(), ..LockedTemplate::default() };
        entry.images.insert("eu-west-1".into(), image("ami-03333333"));
        entry.history.insert("eu-west-1".into(), vec![image("ami-02222222"), image("ami-01111111")]);
        entry.channels.insert("canary".into(), BTreeMap::from([("eu-west-1".into(), "ami-03333333".into())]));
        entry.lifecycle.insert(
            "ami-02222222".into(),
            ImageLifecycle {
                entered: BTreeMap::from([("canary".into(), "2026-11-27T10:00:00Z".into())]),
                revoked: Some(Revocation { at: "2026-11-28T10:00:00Z".into(), reason: "a bad kernel".into() }),
                pruned: Some(Pruning {
                    started_at: "2026-11-29T10:00:00Z".into(),
                    snapshots: vec!["snap-0123".into()],
                    finished_at: None,
                }),
            },
        );
        let mut lock = LockFile { version: VERSION, ..LockFile::default() };
        lock.templates.insert("t".into(), entry);
        lock.write(dir.path()).unwrap();
        let read = LockFile::read(dir.path()).unwrap();
        assert_eq!(read, lock);
        let entry = &read.templates["t"];
        let ids: Vec<&str> = entry.images_of("eu-west-1").map(|image| image.id.as_str()).collect();
        assert_eq!(ids, ["ami-03333333", "ami-02222222", "ami-01111111"], "newest first");
        assert_eq!(entry.find("ami-01111111").map(|(region, _)| region), Some("eu-west-1"));
        assert_eq!(entry.lifecycle_of("ami-01111111"), ImageLifecycle::default());
        let text = fs::read_to_string(path(dir.path())).unwrap();
        for (from, to, said) in [
            ("\"snap-0123\"", "7", "a snapshot is not a string"),
            (
                "\"eu-west-1\": \"ami-03333333\"",
                "\"eu-west-1\": 3",
                "channel `canary` has a `eu-west-1` that is not a string",
            ),
            ("\"reason\": \"a bad kernel\"", "\"why\": \"a bad kernel\"", "`revoked` has no `reason` string"),
        ] {
            assert!(text.contains(from), "{from} is not in the lock:\n{text}");
            fs::write(path(dir.path()), text.replacen(from, to, 1)).unwrap();
            let error = format!("{:#}", LockFile::read(dir.path()).unwrap_err());
            assert!(error.contains(said), "{from}: {error}");
        }
    }

    /// A lock holding every field of version 3: an image built by Packer
    /// with plugins and a withheld value, one taken from a manifest, a
    /// history, channels, and each lifecycle event; and a template with
    /// nothing but its hash.
    fn every_field() -> LockFile {
        let built = LockedImage {
            id: "ami-0123456789abcdef0".into(),
            built_at: "2026-11-27T14:03:11Z".into(),
            packer_version: Some("1.11.2".into()),
            hash: "sha256:aa".into(),
            settings: "sha256:bb".into(),
            manifest: None,
            variables: Some(vec!["flavor".into(), "aws_secret_key".into(), "var-file vars/prod.json".into()]),
            values: Some(BTreeMap::from([("aws_secret_key".into(), None), ("flavor".into(), Some("b".into()))])),
            plugins: Some(BTreeMap::from([("github.com/hashicorp/amazon".into(), "1.3.2".into())])),
        };
        let from_manifest = LockedImage {
            id: "ami-0fedcba9876543210".into(),
            packer_version: None,
            manifest: Some(ManifestSource { path: "manifests/eu.json".into(), run_uuid: Some("5a8c-uuid".into()) }),
            variables: None,
            values: None,
            plugins: None,
            ..built.clone()
        };
        let earlier = LockedImage {
            id: "ami-01111111".into(),
            built_at: "2026-11-20T09:00:00Z".into(),
            manifest: Some(ManifestSource { path: "m.json".into(), run_uuid: None }),
            ..from_manifest.clone()
        };
        let mut entry = LockedTemplate {
            hash: "sha256:cc".into(),
            inputs: vec!["template.json".into(), "scripts/install.sh".into()],
            files: Some(BTreeMap::from([
                ("scripts/install.sh".into(), "sha256:dd".into()),
                ("template.json".into(), "sha256:ee".into()),
            ])),
            ..LockedTemplate::default()
        };
        entry.images.insert("eu-west-1".into(), built);
        entry.images.insert("eu-central-1".into(), from_manifest);
        entry.history.insert("eu-west-1".into(), vec![earlier]);
        entry.channels.insert("canary".into(), BTreeMap::from([("eu-west-1".into(), "ami-0123456789abcdef0".into())]));
        entry.channels.insert("stable".into(), BTreeMap::from([("eu-west-1".into(), "ami-01111111".into())]));
        entry.lifecycle.insert(
            "ami-0123456789abcdef0".into(),
            ImageLifecycle {
                entered: BTreeMap::from([("canary".into(), "2026-11-27T14:03:11Z".into())]),
                ..ImageLifecycle::default()
            },
        );
        entry.lifecycle.insert(
            "ami-01111111".into(),
            ImageLifecycle {
                entered: BTreeMap::from([
                    ("canary".into(), "2026-11-20T09:00:00Z".into()),
                    ("stable".into(), "2026-11-22T09:00:00Z".into()),
                ]),
                revoked: Some(Revocation {
                    at: "2026-11-28T10:00:00Z".into(),
                    reason: "CVE-2026-1234 \"kernel\"".into(),
                }),
                pruned: Some(Pruning {
                    started_at: "2026-11-29T10:00:00Z".into(),
                    snapshots: vec!["snap-0123".into(), "snap-4567".into()],
                    finished_at: Some("2026-11-29T10:01:00Z".into()),
                }),
            },
        );
        entry.lifecycle.insert(
            "ami-02222222".into(),
            ImageLifecycle {
                pruned: Some(Pruning {
                    started_at: "2026-11-29T11:00:00Z".into(),
                    snapshots: vec![],
                    finished_at: None,
                }),
                ..ImageLifecycle::default()
            },
        );
        let mut lock = LockFile { version: VERSION, ..LockFile::default() };
        lock.templates.insert("packer/3.11/aws/machine-image/template.json".into(), entry);
        lock.templates.insert(
            "packer/4.0/gce/machine-image".into(),
            LockedTemplate { hash: "sha256:ff".into(), ..LockedTemplate::default() },
        );
        lock
    }

    /// The lock's bytes, as the next write makes them: of version 3, and of
    /// a lock of version 1 or 2 read and written again (the upgrade path).
    #[test]
    fn the_lock_keeps_its_shape() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("packer")).unwrap();
        let written = |lock: &LockFile| {
            lock.write(dir.path()).unwrap();
            fs::read_to_string(path(dir.path())).unwrap()
        };
        let upgraded = |old: &str| {
            fs::write(path(dir.path()), old).unwrap();
            written(&LockFile::read(dir.path()).unwrap())
        };
        let version_2 = r#"{"version": 2, "templates": {"packer/3.11/aws/machine-image/template.json": {
            "hash": "sha256:cc", "inputs": ["template.json"], "files": {"template.json": "sha256:ee"},
            "images": {
                "eu-west-1": {"id": "ami-0123456789abcdef0", "built_at": "2026-11-27T14:03:11Z",
                    "packer_version": "1.6.6", "hash": "sha256:aa", "settings": "sha256:bb",
                    "variables": ["flavor", "db_password"], "values": {"flavor": "b", "db_password": null}},
                "eu-central-1": {"id": "ami-0fedcba9876543210", "built_at": "2026-11-27T14:03:11Z",
                    "hash": "sha256:aa", "settings": "sha256:bb", "manifest": {"path": "m.json", "run_uuid": "u"}}
            }}}}"#;
        let version_1 = r#"{"version": 1, "templates": {"packer/3.11/aws/machine-image/template.json": {
            "hash": "sha256:cc", "inputs": ["template.json"], "packer_version": "1.6.6",
            "images": {"eu-west-1": {"id": "ami-0123456789abcdef0", "built_at": "2026-11-27T14:03:11Z",
                "hash": "sha256:aa", "settings": "sha256:bb", "variables": ["flavor"]}}}}}"#;
        insta::with_settings!({ snapshot_path => "../../../tests/snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("json-images-lock", written(&every_field()));
            insta::assert_snapshot!("json-images-lock-from-v2", upgraded(version_2));
            insta::assert_snapshot!("json-images-lock-from-v1", upgraded(version_1));
        });
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("packer")).unwrap();
        assert_eq!(LockFile::read(dir.path()).unwrap().templates.len(), 0);
        let mut lock = LockFile { version: VERSION, ..LockFile::default() };
        lock.templates.insert("t".into(), LockedTemplate { hash: "h".into(), ..LockedTemplate::default() });
        lock.write(dir.path()).unwrap();
        assert_eq!(LockFile::read(dir.path()).unwrap(), lock);
        // Both sides of a merge conflict kept: refused, not the last one taken.
        let text = fs::read_to_string(path(dir.path())).unwrap();
        fs::write(path(dir.path()), text.replacen("\"version\": 3,", "\"version\": 3, \"version\": 3,", 1)).unwrap();
        let error = format!("{:#}", LockFile::read(dir.path()).unwrap_err());
        assert!(error.contains("the key `version` appears twice"), "{error}");
    }
}
