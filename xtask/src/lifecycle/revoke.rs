//! `cargo xtask revoke IMAGE_ID... --reason TEXT`: records in the lock that
//! images must not be booted (a CVE, a bad kernel), when and why. From
//! then on a deployment that boots one is an error of `lint-deployments`
//! (and so of the hook and CI) that gives the reason, `promote` refuses
//! it, `rollback` never goes back to it, and `images --plan` rebuilds a
//! template whose newest image it is. Only the lock is written; the
//! command says which deployments boot each image and what puts them on
//! another. The selection flags limit which of the lock's records of an
//! ID are revoked (an ID is normally recorded once).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};

use super::fleet::Selection;
use crate::channels::{Channels, Membership};
use crate::clock;
use crate::config::Config;
use crate::deployments::Deployment;
use crate::json::{self, Json, json_object};
use crate::lock::{LockFile, Revocation};
use crate::printable;

/// A reason is a sentence or two for the people reading the lock.
const MAX_REASON: usize = 1000;

pub struct Options {
    pub root: PathBuf,
    pub ids: Vec<String>,
    pub reason: String,
    pub selection: Selection,
    pub dry_run: bool,
    pub json: bool,
}

/// One image revoked, where the lock records it, and who boots it.
struct Revoked {
    id: String,
    /// Template folder and region, for every record of the ID.
    records: Vec<(String, String)>,
    /// The revocation the lock held already, kept as it was.
    earlier: Option<Revocation>,
    /// Deployment, key and channel of every key that boots it.
    booted_by: Vec<(String, String, Option<String>)>,
    /// Templates of which it is the newest image: `images --plan` rebuilds them.
    rebuilt: Vec<String>,
}

pub fn run(options: &Options) -> Result<ExitCode> {
    let reason = options.reason.trim();
    if reason.is_empty() {
        bail!("--reason is empty: say why the images must not be booted (it goes into the lock and every message)");
    }
    printable::check(reason).map_err(|why| anyhow::anyhow!("--reason {why}; write it on one line of plain text"))?;
    if reason.chars().count() > MAX_REASON {
        bail!("--reason is longer than {MAX_REASON} characters; link to the advisory rather than quote it");
    }
    let channels = Config::read(&options.root)?.channels;
    let _guard = if options.dry_run { None } else { Some(crate::run_guard::hold(&options.root, "revoke")?) };
    let mut lockfile = LockFile::read(&options.root)?;
    let (deployments, unreadable) = crate::deployments::load_all(&options.root)?;
    let selected: Vec<String> = options.selection.templates(&options.root)?.into_iter().map(|file| file.rel).collect();
    let in_selection = |template: &str, region: &str| {
        selected.iter().any(|rel| rel == template) && options.selection.takes_region(region)
    };
    let mut ids: Vec<&str> = Vec::new();
    for id in &options.ids {
        if !ids.contains(&id.as_str()) {
            ids.push(id);
        }
    }
    // Every ID is checked before anything is written.
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| {
            !lockfile
                .templates
                .iter()
                .any(|(template, entry)| entry.find(id).is_some_and(|(region, _)| in_selection(template, region)))
        })
        .map(|id| printable::escape(id).into_owned())
        .collect();
    if !unknown.is_empty() {
        let scope = if options.selection.is_everything() { "" } else { " among the selected templates and regions" };
        bail!(
            "packer/images.lock records no image {}{scope}; revoke takes the IDs it records (`cargo xtask status` \
             lists them), and nothing was revoked",
            unknown.join(", ")
        );
    }
    let at = clock::utc_now();
    let mut revoked = Vec::new();
    for id in ids {
        let mut records = Vec::new();
        let mut earlier = None;
        let mut rebuilt = Vec::new();
        for (template, entry) in &mut lockfile.templates {
            let Some((region, _)) = entry.find(id) else { continue };
            if !in_selection(template, region) {
                continue;
            }
            let folder = template.strip_suffix("/template.json").unwrap_or(template).to_owned();
            if entry.images.get(region).is_some_and(|image| image.id == id) {
                rebuilt.push(folder.clone());
            }
            records.push((folder, region.to_owned()));
            let events = entry.lifecycle.entry(id.to_owned()).or_default();
            match &events.revoked {
                Some(already) => earlier = Some(already.clone()),
                None => events.revoked = Some(Revocation { at: at.clone(), reason: reason.to_owned() }),
            }
        }
        revoked.push(Revoked {
            id: id.to_owned(),
            records,
            earlier,
            booted_by: booted_by(id, &deployments, channels.as_ref()),
            rebuilt,
        });
    }
    if !options.dry_run {
        lockfile.write(&options.root).context("writing packer/images.lock; nothing was revoked")?;
    }
    if options.json {
        let text = json::pretty(&document(&at, reason, options.dry_run, &revoked, &unreadable));
        show_line!("{}", printable::escape_json(&text));
    } else {
        show!("{}", printable::escape_lines(&human(&revoked, &at, reason, options.dry_run, &unreadable)));
    }
    Ok(if unreadable.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Every deployment key that boots `id`, with the deployment's channel.
fn booted_by(
    id: &str,
    deployments: &[Deployment],
    channels: Option<&Channels>,
) -> Vec<(String, String, Option<String>)> {
    let mut found = Vec::new();
    for deployment in deployments {
        for role in deployment.roles() {
            if deployment.image_id(role).and_then(|node| node.as_str()) != Some(id) {
                continue;
            }
            let channel = channels.and_then(|channels| match channels.of(deployment) {
                Membership::In(channel) => Some(channel.to_owned()),
                Membership::Unknown(_) => None,
            });
            found.push((deployment.rel.clone(), format!("{role}.machine_image.id"), channel));
        }
    }
    found
}

fn human(revoked: &[Revoked], at: &str, reason: &str, dry_run: bool, unreadable: &[String]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for image in revoked {
        let places: Vec<String> =
            image.records.iter().map(|(template, region)| format!("{template} {region}")).collect();
        let id = printable::escape(&image.id);
        match &image.earlier {
            Some(earlier) => {
                let _ = writeln!(
                    out,
                    "{id} ({}): revoked already, on {}: {}; kept as it was",
                    places.join(", "),
                    printable::escape(&earlier.at),
                    printable::escape(&earlier.reason)
                );
            }
            None if dry_run => {
                let _ = writeln!(out, "{id} ({}): would be revoked: {reason}", places.join(", "));
            }
            None => {
                let _ = writeln!(out, "{id} ({}): revoked on {at}: {reason}", places.join(", "));
            }
        }
        let mut channels: BTreeMap<&str, ()> = BTreeMap::new();
        for (path, key, channel) in &image.booted_by {
            let shown = channel.as_deref().map(|channel| format!(" (channel `{channel}`)")).unwrap_or_default();
            let _ = writeln!(out, "  booted by {path} {key}{shown}");
            if let Some(channel) = channel {
                channels.insert(channel, ());
            }
        }
        let narrowed = super::rollback::rollback_selection(&image.records);
        for channel in channels.keys() {
            let _ = writeln!(
                out,
                "  `cargo xtask rollback --channel {channel}{narrowed}` puts `{channel}` back on its image before this \
                 one"
            );
        }
        for template in &image.rebuilt {
            let _ = writeln!(
                out,
                "  it is the newest image of {template}: the next `cargo xtask images` builds that template again"
            );
        }
        if image.booted_by.is_empty() {
            let _ = writeln!(out, "  no deployment boots it");
        }
    }
    for problem in unreadable {
        let _ = writeln!(out, "error: {problem} (whether it boots a revoked image is not known)");
    }
    let booted = revoked.iter().filter(|image| !image.booted_by.is_empty()).count();
    let recorded = if dry_run { "Dry run: nothing was written." } else { "Recorded in packer/images.lock." };
    let _ = writeln!(
        out,
        "\n{recorded} {booted} of {} image{} booted: `cargo xtask lint-deployments` reports each such deployment as \
         an error until it boots another image.",
        revoked.len(),
        if revoked.len() == 1 { "" } else { "s" }
    );
    out
}

/// `{"version": 1, "command": "revoke", "dry_run", "at", "reason", "images": [{"id", "records":
/// [{"template", "region"}], "revoked": {"at", "reason"}, "already_revoked",
/// "booted_by": [{"path", "key", "channel"}], "rebuilt"}], "errors"}`.
fn document(at: &str, reason: &str, dry_run: bool, revoked: &[Revoked], errors: &[String]) -> Json {
    let images = json::array(revoked.iter().map(|image| {
        let revocation = image.earlier.clone().unwrap_or(Revocation { at: at.into(), reason: reason.into() });
        json_object! {
            "id": image.id,
            "records": json::array(image.records.iter().map(|(template, region)| json_object! {
                "template": template,
                "region": region,
            })),
            "revoked": revocation,
            "already_revoked": image.earlier.is_some(),
            "booted_by": json::array(image.booted_by.iter().map(|(path, key, channel)| json_object! {
                "path": path,
                "key": key,
                "channel": channel,
            })),
            "rebuilt": image.rebuilt,
        }
    }));
    json_object! {
        "version": 1,
        "command": "revoke",
        "dry_run": dry_run,
        "at": at,
        "reason": reason,
        "images": images,
        "errors": errors,
    }
}
