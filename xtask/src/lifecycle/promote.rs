//! `cargo xtask promote --to CHANNEL`: for each template and region, the
//! deployments of CHANNEL get the image the deployments of the channel
//! before it boot, once it has soaked there, through the same writer and
//! with the same crash safety as `images`.
//!
//! Refused, naming the deployments: an image the lock does not record for
//! that template and region, a revoked or pruned one, an earlier channel
//! whose deployments disagree, or whose deployments lag behind what the
//! lock last gave it (an interrupted write), and a time in the lock that a
//! wrong clock wrote. Waiting, which is no failure: an image that has not
//! soaked yet (how long is left) and a stale one (built from template
//! files that changed since: the next build brings a new one).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::fleet::{self, Place, Selection};
use super::report::{self, Outcome, Run, State};
use super::write::{self, Move};
use crate::channels::Channels;
use crate::clock;
use crate::config::Config;
use crate::deployments::Deployment;
use crate::freshness::{self, Freshness};
use crate::image_id::check_image_id;
use crate::lock::{LockFile, Revocation};
use crate::patch::batch::DeploymentResult;
use crate::printable;

pub struct Options {
    pub root: PathBuf,
    pub channel: String,
    pub selection: Selection,
    pub dry_run: bool,
    /// Promote without waiting for the soak (an urgent fix); every other
    /// check holds.
    pub without_soak: bool,
    pub json: bool,
}

pub fn run(options: &Options) -> Result<ExitCode> {
    let channels = configured(&options.root)?;
    let to = options.channel.as_str();
    let from = match channels.before(to) {
        Some(from) => from.to_owned(),
        None if channels.contains(to) && channels.names().len() == 1 => bail!(
            "`{to}` is the only channel: new images reach it by `cargo xtask images`, and there is no later channel \
             to promote into; add one after it to [channels] order in xtask.toml"
        ),
        None if channels.contains(to) => bail!(
            "`{to}` is the first channel: new images reach it by `cargo xtask images`; promote into a later one ({})",
            channels.names()[1..].join(", ")
        ),
        None => bail!("`{}` is not a channel; xtask.toml names {}", printable::escape(to), channels.listed()),
    };
    let _guard = if options.dry_run { None } else { Some(crate::run_guard::hold(&options.root, "promote")?) };
    let (deployments, unreadable) = crate::deployments::load_all(&options.root)?;
    let lockfile = LockFile::read(&options.root)?;
    let fleet = fleet::survey(&options.root, &channels, &deployments, &options.selection)?;
    let now = clock::now();
    let judged = fleet
        .places
        .iter()
        .filter(|place| !place.keys(to).is_empty())
        .map(|place| (place, judge(place, &lockfile, &channels, &from, to, now, options.without_soak)));
    let (outcomes, written) = settle(&options.root, to, options.dry_run, &deployments, judged)?;
    let run = Run {
        command: "promote",
        channel: to.to_owned(),
        from: Some(from),
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

/// `[channels]` of `xtask.toml`, which the lifecycle commands need.
pub fn configured(root: &Path) -> Result<Channels> {
    match Config::read(root)?.channels {
        Some(channels) => Ok(channels),
        None => bail!(
            "xtask.toml has no [channels], so there is no channel to work on; add them (order = [\"canary\", \
             \"stable\"]: docs/rolling-out.md shows how) and put `channel: canary` in the deployments of the first channel"
        ),
    }
}

/// Writes what a channel's judged places must move to (the lock first,
/// then each deployment; nothing on a dry run), and the outcome of each
/// place: the one step `promote` and `rollback` share.
pub fn settle<'p>(
    root: &Path,
    channel: &str,
    dry_run: bool,
    deployments: &[Deployment],
    judged: impl IntoIterator<Item = (&'p Place, (State, Option<String>, Option<String>))>,
) -> Result<(Vec<Outcome>, Vec<DeploymentResult>)> {
    let mut outcomes = Vec::new();
    let mut moves = Vec::new();
    for (place, (state, id, reason)) in judged {
        if matches!(state, State::Moved | State::Finished)
            && let Some(id) = &id
        {
            moves.push((place, id.clone()));
        }
        outcomes.push(outcome(place, channel, state, id, reason));
    }
    if dry_run {
        return Ok((outcomes, Vec::new()));
    }
    let steps: Vec<Move> = moves
        .iter()
        .map(|(place, id)| Move {
            template: &place.template.rel,
            cloud: &place.layout.cloud,
            region: &place.region,
            channel,
            id,
            keys: place.keys(channel),
        })
        .collect();
    Ok((outcomes, write::record_and_write(root, &steps, deployments)?))
}

fn outcome(place: &Place, channel: &str, state: State, id: Option<String>, reason: Option<String>) -> Outcome {
    let mut deployments: Vec<String> = place.keys(channel).iter().map(|key| key.path.clone()).collect();
    deployments.dedup();
    Outcome {
        template: place.folder().to_owned(),
        release: place.layout.release.clone(),
        cloud: place.layout.cloud.clone(),
        image: place.layout.image.clone(),
        region: place.region.clone(),
        state,
        id,
        before: place.ids(channel).into_iter().map(str::to_owned).collect(),
        reason,
        deployments,
    }
}

/// The revocation of `id` in any template's entry of the lock: an ID
/// copied into two entries (a release folder copied with its lock entry)
/// is one image, revoked for all, as `revoked-image` reports it.
pub fn revoked_anywhere<'a>(lockfile: &'a LockFile, id: &str) -> Option<&'a Revocation> {
    lockfile.templates.values().find_map(|entry| entry.lifecycle.get(id)?.revoked.as_ref())
}

/// Why an ID of the lock that is no image ID of its cloud is not given to
/// a channel: the lock stays as it is, and no deployment gets it.
pub fn bad_shape(id: &str, channel: &str, template: &str, shape: &str) -> String {
    format!(
        "`{}`, which packer/images.lock records for {template} and would give `{channel}`, is not an image ID \
         (an image ID is {shape}); restore the lock (`git checkout packer/images.lock`) or correct it by hand",
        id.escape_debug()
    )
}

/// What `to` gets at one place: the image `from` boots there, unless a
/// check holds it back.
fn judge(
    place: &Place,
    lockfile: &LockFile,
    channels: &Channels,
    from: &str,
    to: &str,
    now: u64,
    without_soak: bool,
) -> (State, Option<String>, Option<String>) {
    let refused = |why: String| (State::Refused, None, Some(why));
    let folder = place.folder();
    let region = place.region.as_str();
    let sources = place.ids(from);
    let [source] = sources[..] else {
        if sources.is_empty() {
            let mut staying: Vec<&str> = place.keys(to).iter().map(|key| key.path.as_str()).collect();
            staying.dedup();
            let why = format!(
                "no deployment of `{from}` boots an image of {folder} in {region}, so {} stays on its image: \
                 channels are promoted region by region; give `{from}` a deployment of release {} on {} in {region}",
                staying.join(", "),
                place.layout.release,
                place.layout.cloud
            );
            return (State::Nothing, None, Some(why));
        }
        return refused(format!("the deployments of `{from}` disagree: {}", place.who_boots_what(from)));
    };
    if source.is_empty() {
        return refused(format!("the deployments of `{from}` disagree: {}", place.who_boots_what(from)));
    }
    let source_shown = printable::escape(source);
    let Some(locked) = lockfile.templates.get(&place.template.rel) else {
        return refused(format!("packer/images.lock records no image of {folder}, and `{from}` boots {source_shown}"));
    };
    let Some(image) = locked.images_of(region).find(|image| image.id == source) else {
        return refused(format!(
            "`{from}` boots {source_shown} ({}), which packer/images.lock does not record for {folder} in {region}",
            place.who_boots_what(from)
        ));
    };
    if let Err(shape) = check_image_id(&place.layout.cloud, source) {
        return refused(bad_shape(source, from, &place.template.rel, shape));
    }
    let mut events = locked.lifecycle_of(source);
    if events.revoked.is_none() {
        events.revoked = revoked_anywhere(lockfile, source).cloned();
    }
    if let Some(pruning) = &events.pruned {
        return refused(format!(
            "{source_shown}, which `{from}` boots, was pruned on {}: it no longer exists",
            printable::escape(&pruning.started_at)
        ));
    }
    if let Some(revoked) = &events.revoked {
        return refused(format!(
            "{source_shown}, which `{from}` boots, was revoked on {}: {}; roll `{from}` back (`cargo xtask rollback \
             --channel {from}`) or let a new build replace it",
            printable::escape(&revoked.at),
            printable::escape(&revoked.reason)
        ));
    }
    let recorded_for_from = locked
        .channels
        .get(from)
        .and_then(|given| given.get(region))
        .or_else(|| (from == channels.first()).then(|| locked.images.get(region).map(|image| &image.id)).flatten());
    if let Some(recorded) = recorded_for_from.filter(|recorded| *recorded != source) {
        let finish = if from == channels.first() {
            "`cargo xtask images` writes it".to_owned()
        } else {
            format!("run the `promote` or `rollback` into `{from}` again to finish it")
        };
        return refused(format!(
            "packer/images.lock gave `{from}` {} in {region}, and its deployments boot {source_shown}: a write into \
             `{from}` did not finish; {finish}",
            printable::escape(recorded)
        ));
    }
    let given_to = locked.channels.get(to).and_then(|given| given.get(region));
    let targets = place.ids(to);
    if targets == [source] {
        return (State::Current, Some(source.to_owned()), None);
    }
    if given_to.is_some_and(|given| given == source) {
        // Promoted already, by a run stopped before it wrote every deployment.
        return (State::Finished, Some(source.to_owned()), None);
    }
    if let Freshness::Stale(why) = freshness::of_image(&place.template, locked, image) {
        let why = format!(
            "{source_shown} is stale ({why}): the next `cargo xtask images` gives `{from}` a new image, which soaks in \
             turn"
        );
        return (State::Waiting, None, Some(why));
    }
    let mut soaked = None;
    if let Some((needed, written)) = channels.soak(to).filter(|(needed, _)| *needed > 0 && !without_soak) {
        let Some(entered) = events.entered.get(from) else {
            return refused(format!(
                "packer/images.lock does not say when {source_shown} entered `{from}` (it was recorded before \
                 [channels] was set, or by hand), so its soak cannot be measured; promote it with --without-soak \
                 once you have checked it, or let the next build bring a new image into `{from}`"
            ));
        };
        let at = match clock::recorded(entered, now) {
            Ok(at) => at,
            Err(why) => {
                return refused(format!("{source_shown} entered `{from}` at a time that cannot be used: {why}"));
            }
        };
        if clock::parse_timestamp(&image.built_at).is_some_and(|built| built > at + clock::TOLERANCE) {
            return refused(format!(
                "packer/images.lock says {source_shown} entered `{from}` at {}, before it was built ({}): a wrong \
                 clock wrote one of them; correct it in the lock",
                printable::escape(entered),
                printable::escape(&image.built_at)
            ));
        }
        let ran = now.saturating_sub(at);
        if ran < needed {
            let why = format!(
                "{source_shown} has run {} in `{from}` (since {}), and `{to}` takes an image after {written}: {} left",
                clock::describe(ran),
                printable::escape(entered),
                clock::describe(needed - ran)
            );
            return (State::Waiting, None, Some(why));
        }
        soaked = Some(format!("soaked {} in `{from}`", clock::describe(ran)));
    } else if without_soak && channels.soak(to).is_some_and(|(needed, _)| needed > 0) {
        soaked = Some("without its soak (--without-soak)".to_owned());
    }
    (State::Moved, Some(source.to_owned()), soaked)
}
