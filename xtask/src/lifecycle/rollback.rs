//! `cargo xtask rollback --channel CHANNEL`: for each template and region,
//! the deployments of CHANNEL go back to the newest image the channel
//! booted before its current one that is neither revoked nor pruned
//! ([`history::rollback_target`]), through the same writer and with the
//! same crash safety as `images`: the lock first, then each deployment.
//!
//! Refused, naming the deployments: no such image, deployments of the
//! channel that disagree, and deployments that boot neither the lock's
//! image for the channel nor one it replaced. A run stopped after the lock
//! was written is finished by the same command: deployments still on the
//! image the lock moved the channel away from get the lock's image, rather
//! than going back a second step.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::fleet::{self, Place, Selection};
use super::promote::{bad_shape, configured, revoked_anywhere, settle};
use super::report::{self, Run, State};
use crate::channels::Channels;
use crate::image_id::check_image_id;
use crate::lock::{LockFile, history};
use crate::printable;

pub struct Options {
    pub root: PathBuf,
    pub channel: String,
    pub selection: Selection,
    pub dry_run: bool,
    pub json: bool,
}

pub fn run(options: &Options) -> Result<ExitCode> {
    let channels = configured(&options.root)?;
    let channel = options.channel.as_str();
    if !channels.contains(channel) {
        bail!("`{}` is not a channel; xtask.toml names {}", printable::escape(channel), channels.listed());
    }
    let _guard = if options.dry_run { None } else { Some(crate::run_guard::hold(&options.root, "rollback")?) };
    let (deployments, unreadable) = crate::deployments::load_all(&options.root)?;
    let lockfile = LockFile::read(&options.root)?;
    let fleet = fleet::survey(&options.root, &channels, &deployments, &options.selection)?;
    let places: Vec<&Place> = fleet.places.iter().filter(|place| !place.keys(channel).is_empty()).collect();
    let mut judged: Vec<_> = places.iter().map(|place| judge(place, &lockfile, &channels, channel)).collect();
    // A rollback stopped after the lock was written left some deployments
    // behind; the places it did finish carry the same entry time. Run
    // again, it finishes that rollback and does not go back a second step
    // there.
    let interrupted: Vec<&str> = places
        .iter()
        .zip(&judged)
        .filter(|(_, (state, _, _))| *state == State::Finished)
        .filter_map(|(place, (_, id, _))| entered_at(&lockfile, place, channel, id.as_deref()?))
        .collect();
    for (place, judgement) in places.iter().zip(&mut judged) {
        let booted = place.ids(channel).first().copied().unwrap_or_default();
        if judgement.0 == State::Moved
            && let Some(at) = entered_at(&lockfile, place, channel, booted).filter(|at| interrupted.contains(at))
        {
            let why = format!(
                "the rollback stopped at {} put it on {} already; run again to go back further",
                printable::escape(at),
                printable::escape(booted)
            );
            *judgement = (State::Current, Some(booted.to_owned()), Some(why));
        }
    }
    let (outcomes, written) =
        settle(&options.root, channel, options.dry_run, &deployments, places.into_iter().zip(judged))?;
    let run = Run {
        command: "rollback",
        channel: channel.to_owned(),
        from: None,
        dry_run: options.dry_run,
        outcomes,
        written,
        outside: fleet.outside,
        unreadable,
    };
    show!(
        "{}",
        if options.json { report::json(&run) } else { printable::escape_lines(&report::human(&run)).into_owned() }
    );
    Ok(if run.failed() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Where `channel` goes back to at one place.
fn judge(
    place: &Place,
    lockfile: &LockFile,
    channels: &Channels,
    channel: &str,
) -> (State, Option<String>, Option<String>) {
    let refused = |why: String| (State::Refused, None, Some(why));
    let folder = place.folder();
    let region = place.region.as_str();
    let booted = place.ids(channel);
    let [booted] = booted[..] else {
        return refused(format!("the deployments of `{channel}` disagree: {}", place.who_boots_what(channel)));
    };
    if booted.is_empty() {
        return refused(format!("the deployments of `{channel}` disagree: {}", place.who_boots_what(channel)));
    }
    let Some(locked) = lockfile.templates.get(&place.template.rel) else {
        return refused(format!("packer/images.lock records no image of {folder}, so there is nothing to go back to"));
    };
    let given = locked.channels.get(channel).and_then(|given| given.get(region));
    if let Some(given) = given.filter(|given| *given != booted) {
        let newest_first: Vec<&str> = locked.images_of(region).map(|image| image.id.as_str()).collect();
        let position = |id: &str| newest_first.iter().position(|known| *known == id);
        let entered = locked.lifecycle.get(booted).is_some_and(|events| events.entered.contains_key(channel));
        return match (position(booted), position(given)) {
            // The lock moved the channel back and a deployment was not
            // written yet: finish that rollback.
            (Some(booted_at), Some(given_at)) if booted_at < given_at && entered => {
                (State::Finished, Some(given.clone()), None)
            }
            _ => {
                let finish = if channel == channels.first() {
                    "`cargo xtask images` writes what the lock gave it".to_owned()
                } else {
                    format!("`cargo xtask promote --to {channel}` writes what the lock gave it")
                };
                refused(format!(
                    "packer/images.lock gave `{channel}` {} in {region}, and its deployments boot {} ({}): a write \
                     into `{channel}` did not finish, or a deployment was edited by hand; {finish}, or put the \
                     deployments back on it",
                    printable::escape(given),
                    printable::escape(booted),
                    place.who_boots_what(channel)
                ))
            }
        };
    }
    if given.is_none() {
        return refused(format!(
            "packer/images.lock does not say which image `{channel}` was given in {region} ({}), so there is no \
             image it booted before; `{channel}` gets its first recorded image by `cargo xtask {}`",
            place.who_boots_what(channel),
            if channel == channels.first() { "images".to_owned() } else { format!("promote --to {channel}") }
        ));
    }
    match history::rollback_target(locked, channel, region) {
        Ok(image) => match check_image_id(&place.layout.cloud, &image.id) {
            Err(shape) => refused(bad_shape(&image.id, channel, &place.template.rel, shape)),
            Ok(()) if let Some(revoked) = revoked_anywhere(lockfile, &image.id) => refused(format!(
                "the image `{channel}` booted before {}, {}, was revoked on {} under another template of \
                 packer/images.lock, which records it too: {}; let a new build replace it",
                printable::escape(booted),
                printable::escape(&image.id),
                printable::escape(&revoked.at),
                printable::escape(&revoked.reason)
            )),
            Ok(()) => {
                let reason = format!("the image `{channel}` booted before {}", printable::escape(booted));
                (State::Moved, Some(image.id.clone()), Some(reason))
            }
        },
        Err(why) => refused(format!("nothing to roll back to: {why}")),
    }
}

/// When the lock says `id` last entered `channel` at a place.
fn entered_at<'a>(lockfile: &'a LockFile, place: &Place, channel: &str, id: &str) -> Option<&'a str> {
    let locked = lockfile.templates.get(&place.template.rel)?;
    locked.lifecycle.get(id)?.entered.get(channel).map(String::as_str)
}

/// ` --select FOLDER --region R` for the places an image is recorded: a
/// rollback of the channel without them moves every template of the
/// channel that has an earlier image, not only the revoked one's.
pub fn rollback_selection(records: &[(String, String)]) -> String {
    let mut flags = String::new();
    let mut seen: Vec<String> = Vec::new();
    let folders = records.iter().map(|(folder, _)| format!(" --select {folder}"));
    let regions = records
        .iter()
        .filter(|(_, region)| region != crate::deployments::GLOBAL)
        .map(|(_, region)| format!(" --region {region}"));
    for flag in folders.chain(regions) {
        if !seen.contains(&flag) {
            flags.push_str(&flag);
            seen.push(flag);
        }
    }
    flags
}
