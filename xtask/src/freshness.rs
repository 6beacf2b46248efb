//! Whether an image the lock records is current: its template read with
//! the values its build was given (which files a build reads, and which
//! regions it makes, can depend on them), through the same reader and
//! hashing as `images --plan` with a run's values, compared with the files
//! the image was built from. `status` and the deployment linter
//! (`stale-image`) both ask here.

use std::collections::BTreeMap;

use crate::fingerprint;
use crate::hcl2::FileKind;
use crate::lock::{LockedImage, LockedTemplate};
use crate::project::TemplateFile;
use crate::readout::Readout;
use crate::schema::in_force::Setting;

/// What the lock and the files say of one recorded image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    Current,
    /// Built from files that changed since: which, as the plan says it.
    Stale(String),
    /// What cannot be told from here, and why.
    Unknown(String),
}

impl Freshness {
    /// `current`, `stale: …`, `unknown: …`, as `status` shows it.
    pub fn describe(&self) -> String {
        match self {
            Freshness::Current => "current".to_owned(),
            Freshness::Stale(why) => format!("stale: {why}"),
            Freshness::Unknown(why) => format!("unknown: {why}"),
        }
    }
}

/// Judges every image of `locked`, the lock's entry for `file`, by
/// region. Images built with the same values share one reading of the
/// template.
pub fn of_template(file: &TemplateFile, locked: &LockedTemplate) -> BTreeMap<String, Freshness> {
    let mut readings: BTreeMap<BTreeMap<String, String>, Result<Reading, String>> = BTreeMap::new();
    locked
        .images
        .iter()
        .map(|(region, image)| {
            let reading = readings.entry(kept_values(image)).or_insert_with_key(|given| read(file, given));
            let freshness = match reading {
                Ok(reading) => judge(file, locked, image, reading),
                Err(why) => Freshness::Unknown(why.clone()),
            };
            (region.clone(), freshness)
        })
        .collect()
}

/// Judges one image the lock keeps for `file`, the current one of its
/// region or an earlier one (`promote` asks whether what it would promote
/// is stale).
pub fn of_image(file: &TemplateFile, locked: &LockedTemplate, image: &LockedImage) -> Freshness {
    match read(file, &kept_values(image)) {
        Ok(reading) => judge(file, locked, image, &reading),
        Err(why) => Freshness::Unknown(why),
    }
}

/// The values the lock kept of a build; those it did not keep are missing
/// here, and said when they could matter.
fn kept_values(image: &LockedImage) -> BTreeMap<String, String> {
    image.values.iter().flatten().filter_map(|(name, value)| Some((name.clone(), value.clone()?))).collect()
}

/// The template as a build given some values would read it.
struct Reading {
    now: fingerprint::InputHashes,
    opaque_upload: Option<String>,
}

fn read(file: &TemplateFile, given: &BTreeMap<String, String>) -> Result<Reading, String> {
    let template = Readout::read(file, &crate::var_values::from_recorded(given), &Setting::default())?;
    let now = fingerprint::hash_inputs(file.dir(), &template.inputs).map_err(|error| format!("{error:#}"))?;
    Ok(Reading { now, opaque_upload: template.opaque_upload })
}

fn judge(file: &TemplateFile, locked: &LockedTemplate, image: &LockedImage, reading: &Reading) -> Freshness {
    let Reading { now, opaque_upload } = reading;
    if now.all == image.hash {
        return match opaque_upload {
            Some(path) => Freshness::Unknown(format!(
                "its files are unchanged, but it also reads `{path}`, a path only the build knows"
            )),
            None => Freshness::Current,
        };
    }
    if image.hash != locked.hash {
        let current = locked.images.values().any(|current| current.id == image.id);
        return Freshness::Stale(if current {
            "older than the template's last build (a --region run built other regions)".into()
        } else {
            "an earlier image: the template's files changed since it was built".into()
        });
    }
    let changes = |now: &BTreeMap<String, String>| match &locked.files {
        Some(before) => file_changes(before, now),
        None => "the template or a file it uploads changed".to_owned(),
    };
    let unknown = image.unknown_values();
    if unknown.is_empty() {
        return Freshness::Stale(changes(&now.each));
    }
    // Read without some of the build's values, the template may name other
    // files than the build read: judge by the files the build did read,
    // which the lock lists, and by the template files Packer reads
    // whatever the values (one added to an HCL2 folder).
    let added: Vec<String> = now
        .each
        .keys()
        .filter(|name| read_whatever_the_values(name) && !locked.inputs.contains(*name))
        .map(|name| format!("{name} (new)"))
        .collect();
    if !added.is_empty() {
        return Freshness::Stale(added.join(", "));
    }
    match fingerprint::hash_inputs(file.dir(), &locked.inputs) {
        Ok(read) if read.all != image.hash => Freshness::Stale(changes(&read.each)),
        Ok(_) => Freshness::Unknown(format!(
            "the files its build read are unchanged, but which files a build reads may depend on {}, whose value \
             the lock does not keep",
            unknown.join(", ")
        )),
        Err(error) => Freshness::Stale(format!("{error:#}")),
    }
}

/// A file of the template's own folder that Packer reads whatever values a
/// build is given: `template.json`, an HCL2 folder's `*.pkr.hcl` and
/// `*.auto.pkrvars.hcl`.
fn read_whatever_the_values(name: &str) -> bool {
    !name.contains('/')
        && (name == "template.json"
            || matches!(FileKind::of(name), Some(FileKind::Template | FileKind::VarFile { auto: true })))
}

/// `scripts/a.sh (changed), scripts/b.sh (new)`.
pub fn file_changes(before: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> String {
    let mut changes: Vec<String> = now
        .iter()
        .filter_map(|(name, hash)| match before.get(name) {
            None => Some(format!("{name} (new)")),
            Some(old) if old != hash => Some(format!("{name} (changed)")),
            Some(_) => None,
        })
        .collect();
    changes
        .extend(before.keys().filter(|name| !now.contains_key(*name)).map(|name| format!("{name} (no longer used)")));
    if changes.is_empty() { "the order of its files".to_owned() } else { changes.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_changes_are_named() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(name, hash)| (name.to_string(), hash.to_string())).collect()
        };
        let before = map(&[("a.sh", "1"), ("b.sh", "2"), ("gone.sh", "3")]);
        let now = map(&[("a.sh", "1"), ("b.sh", "9"), ("new.sh", "4")]);
        assert_eq!(file_changes(&before, &now), "b.sh (changed), new.sh (new), gone.sh (no longer used)");
        assert_eq!(file_changes(&before, &before), "the order of its files");
    }
}
