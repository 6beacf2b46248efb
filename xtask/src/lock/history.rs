//! What the lock keeps of earlier images: when a build records a new image
//! for a region, the one it replaces moves to the front of that region's
//! history, and the new one enters the first channel. The history is
//! bounded ([`HISTORY`] images before the current one); the images dropped
//! first are those already pruned, then the oldest that no channel boots
//! by the lock, and never one a channel does or could be rolled back to,
//! nor one whose prune began and did not finish.
//!
//! [`rollback_target`] and [`kept_for_channels`] answer, from the lock
//! alone, which image a channel goes back to and which images the
//! channels still need: `rollback` moves to the first, `prune` keeps the
//! second; [`first_channel_images`], which images the first channel's
//! deployments get from a template `images` does not build.
//!
//! Lock knowledge, used by `images` (a build enters the first channel)
//! and by the lifecycle's commands alike. A channel is a name here: which
//! channels there are, and in what order, is `crate::channels`' to say.

use std::collections::{BTreeMap, BTreeSet};

use super::{HISTORY, LockedImage, LockedTemplate};
use crate::printable;

/// Records `image` as the current image of `region` in a template's entry
/// (`template`, for messages), at `now` in the lock's time format. With
/// channels, the first channel (`first_channel`) is given it. Says which
/// images the lock stops recording, so that they can be deregistered by
/// hand.
pub fn record(
    template: &str,
    entry: &mut LockedTemplate,
    region: &str,
    image: LockedImage,
    first_channel: Option<&str>,
    now: &str,
) {
    let id = image.id.clone();
    let earlier = entry.history.entry(region.to_owned()).or_default();
    // An image recorded again (a manifest applied twice, an older image
    // taken back) is current once, not also in the history.
    earlier.retain(|old| old.id != id);
    if let Some(replaced) = entry.images.insert(region.to_owned(), image)
        && replaced.id != id
    {
        earlier.insert(0, replaced);
    }
    if earlier.is_empty() {
        entry.history.remove(region);
    }
    if let Some(first_channel) = first_channel {
        enter(entry, first_channel, region, &id, now);
    }
    for dropped in trim(entry, region) {
        say!(
            "note: packer/images.lock no longer records {} ({template}, {region}, built {}): it keeps {HISTORY} \
             earlier images per template and region, and `cargo xtask prune` removes only what it records; \
             deregister it by hand if nothing uses it",
            printable::escape(&dropped.id),
            printable::escape(&dropped.built_at)
        );
    }
}

/// Gives `channel` the image `id` in `region`: the channel's record points
/// at it, and the image's lifecycle says when it entered. Nothing when the
/// channel is already on it, so that an entry keeps the time of the write
/// that made it.
pub fn enter(entry: &mut LockedTemplate, channel: &str, region: &str, id: &str, now: &str) {
    let on = entry.channels.entry(channel.to_owned()).or_default();
    if on.get(region).map(String::as_str) == Some(id) {
        return;
    }
    on.insert(region.to_owned(), id.to_owned());
    entry.lifecycle.entry(id.to_owned()).or_default().entered.insert(channel.to_owned(), now.to_owned());
}

/// The images `images` writes into the first channel's deployments for a
/// template it does not build: per region, the image the lock last gave
/// that channel (a rollback moves it back), else the recorded one.
/// Without channels, the recorded ones.
pub fn first_channel_images(
    first_channel: Option<&str>,
    locked: Option<&LockedTemplate>,
    mut images: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let given = first_channel.zip(locked).and_then(|(first_channel, locked)| locked.channels.get(first_channel));
    for (region, id) in &mut images {
        if let Some(given) = given.and_then(|given| given.get(region)) {
            id.clone_from(given);
        }
    }
    images
}

/// The image `channel` would be rolled back to in `region`: the newest
/// image the lock keeps for the region that was recorded before the one
/// the lock last gave the channel, that entered the channel once (the
/// channel booted it), and that is neither revoked nor pruned. Going back
/// twice goes further back: the image left is newer than the one taken.
///
/// Without one, why, for a message that names the template and region.
pub fn rollback_target<'a>(entry: &'a LockedTemplate, channel: &str, region: &str) -> Result<&'a LockedImage, String> {
    let Some(current) = entry.channels.get(channel).and_then(|given| given.get(region)) else {
        return Err(format!("packer/images.lock records no image given to `{channel}` in {region}"));
    };
    let shown = printable::escape(current);
    let Some(at) = entry.images_of(region).position(|image| image.id == *current) else {
        return Err(format!(
            "packer/images.lock no longer keeps {shown}, the image `{channel}` was last given in {region}, so it \
             cannot tell which images came before it"
        ));
    };
    let mut passed_over = Vec::new();
    for image in entry.images_of(region).skip(at + 1) {
        let Some(events) = entry.lifecycle.get(&image.id) else { continue };
        if !events.entered.contains_key(channel) {
            continue;
        }
        if events.revoked.is_some() {
            passed_over.push(format!("{} (revoked)", printable::escape(&image.id)));
        } else if events.pruned.is_some() {
            passed_over.push(format!("{} (pruned)", printable::escape(&image.id)));
        } else {
            return Ok(image);
        }
    }
    let earlier = if passed_over.is_empty() {
        format!("packer/images.lock keeps no image `{channel}` booted in {region} before {shown}")
    } else {
        format!(
            "every image `{channel}` booted in {region} before {shown} that packer/images.lock keeps is revoked or \
             pruned: {}",
            passed_over.join(", ")
        )
    };
    Err(earlier)
}

/// The images of `region` the channels need, by the lock: the image each
/// channel was last given and the one it would be rolled back to. `prune`
/// removes none of them, nor does the history's trim.
pub fn kept_for_channels<'a>(entry: &'a LockedTemplate, region: &str) -> BTreeSet<&'a str> {
    let mut kept = BTreeSet::new();
    for (channel, given) in &entry.channels {
        let Some(current) = given.get(region) else { continue };
        kept.insert(current.as_str());
        if let Ok(target) = rollback_target(entry, channel, region) {
            kept.insert(target.id.as_str());
        }
    }
    kept
}

/// Drops the history of `region` down to [`HISTORY`] images; returns the
/// dropped images that were not pruned.
fn trim(entry: &mut LockedTemplate, region: &str) -> Vec<LockedImage> {
    let mut dropped = Vec::new();
    while let Some(earlier) = entry.history.get(region).filter(|earlier| earlier.len() > HISTORY) {
        let pruned = |image: &LockedImage| {
            entry
                .lifecycle
                .get(&image.id)
                .and_then(|events| events.pruned.as_ref())
                .is_some_and(|p| p.finished_at.is_some())
        };
        // A prune that began and did not finish may have left snapshots
        // behind: the next `prune` finishes it from the lock's record, so
        // the record stays until then.
        let unfinished = |image: &LockedImage| {
            entry
                .lifecycle
                .get(&image.id)
                .and_then(|events| events.pruned.as_ref())
                .is_some_and(|p| p.finished_at.is_none())
        };
        let needed = kept_for_channels(entry, region);
        let victim = earlier
            .iter()
            .rposition(pruned)
            .or_else(|| earlier.iter().rposition(|image| !needed.contains(image.id.as_str()) && !unfinished(image)));
        let Some(victim) = victim else { break };
        let image = entry.history.get_mut(region).expect("looked up above").remove(victim);
        if entry.find(&image.id).is_none() {
            let was_pruned = entry.lifecycle.remove(&image.id).and_then(|events| events.pruned).is_some();
            if !was_pruned {
                dropped.push(image);
            }
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::Pruning;

    fn image(id: &str) -> LockedImage {
        LockedImage::for_tests(id, "2026-11-27T10:00:00Z")
    }

    /// The first channel of `order = ["canary", "stable"]`.
    const CANARY: Option<&str> = Some("canary");

    fn ids(entry: &LockedTemplate) -> Vec<&str> {
        entry.images_of("r").map(|image| image.id.as_str()).collect()
    }

    #[test]
    fn a_new_image_pushes_the_old_one_into_the_history_and_enters_the_first_channel() {
        let mut entry = LockedTemplate::default();
        record("t", &mut entry, "r", image("ami-1"), CANARY, "T1");
        record("t", &mut entry, "r", image("ami-2"), CANARY, "T2");
        assert_eq!(ids(&entry), ["ami-2", "ami-1"]);
        assert_eq!(entry.channels["canary"]["r"], "ami-2");
        assert_eq!(entry.lifecycle["ami-1"].entered["canary"], "T1");
        assert_eq!(entry.lifecycle["ami-2"].entered["canary"], "T2");
        // The same image again changes no history and keeps its entry time.
        record("t", &mut entry, "r", image("ami-2"), CANARY, "T3");
        assert_eq!(ids(&entry), ["ami-2", "ami-1"]);
        assert_eq!(entry.lifecycle["ami-2"].entered["canary"], "T2");
        // An older image taken back is current, and once.
        record("t", &mut entry, "r", image("ami-1"), CANARY, "T4");
        assert_eq!(ids(&entry), ["ami-1", "ami-2"]);
        assert_eq!(entry.lifecycle["ami-1"].entered["canary"], "T4");
        // Without channels there are no entries.
        let mut plain = LockedTemplate::default();
        record("t", &mut plain, "r", image("ami-1"), None, "T1");
        record("t", &mut plain, "r", image("ami-2"), None, "T2");
        assert!(plain.channels.is_empty() && plain.lifecycle.is_empty());
        assert_eq!(ids(&plain), ["ami-2", "ami-1"]);
    }

    #[test]
    fn the_history_drops_pruned_images_first_and_never_one_a_channel_boots() {
        let mut entry = LockedTemplate::default();
        record("t", &mut entry, "r", image("ami-0"), CANARY, "T");
        // The stable channel stays on the very first image.
        enter(&mut entry, "stable", "r", "ami-0", "T");
        for n in 1..=HISTORY {
            record("t", &mut entry, "r", image(&format!("ami-{n}")), CANARY, "T");
        }
        assert_eq!(entry.history["r"].len(), HISTORY);
        entry.lifecycle.entry("ami-5".into()).or_default().pruned =
            Some(Pruning { started_at: "T".into(), snapshots: Vec::new(), finished_at: Some("T".into()) });
        record("t", &mut entry, "r", image("ami-11"), CANARY, "T");
        assert!(entry.find("ami-5").is_none() && !entry.lifecycle.contains_key("ami-5"), "the pruned one goes first");
        record("t", &mut entry, "r", image("ami-12"), CANARY, "T");
        assert!(entry.find("ami-0").is_some(), "stable boots it");
        assert!(entry.find("ami-1").is_none(), "the oldest no channel boots goes next");
        assert_eq!(entry.history["r"].len(), HISTORY);
    }

    #[test]
    fn a_rollback_goes_to_the_newest_earlier_image_the_channel_booted_that_is_neither_revoked_nor_pruned() {
        let mut entry = LockedTemplate::default();
        let target =
            |entry: &LockedTemplate, channel: &str| rollback_target(entry, channel, "r").map(|image| image.id.clone());
        assert!(target(&entry, "canary").unwrap_err().contains("records no image given to `canary` in r"));
        record("t", &mut entry, "r", image("ami-1"), CANARY, "T1");
        assert!(target(&entry, "canary").unwrap_err().contains("keeps no image `canary` booted in r before ami-1"));
        record("t", &mut entry, "r", image("ami-2"), CANARY, "T2");
        record("t", &mut entry, "r", image("ami-3"), CANARY, "T3");
        assert_eq!(target(&entry, "canary"), Ok("ami-2".to_owned()));
        // stable booted ami-1 and then ami-3; it never booted ami-2.
        enter(&mut entry, "stable", "r", "ami-1", "T4");
        enter(&mut entry, "stable", "r", "ami-3", "T5");
        assert_eq!(target(&entry, "stable"), Ok("ami-1".to_owned()));
        entry.lifecycle.get_mut("ami-2").unwrap().revoked =
            Some(crate::lock::Revocation { at: "T6".into(), reason: "a bad kernel".into() });
        assert_eq!(target(&entry, "canary"), Ok("ami-1".to_owned()), "past the revoked one");
        assert_eq!(kept_for_channels(&entry, "r"), BTreeSet::from(["ami-3", "ami-1"]));
        entry.lifecycle.get_mut("ami-1").unwrap().pruned =
            Some(Pruning { started_at: "T7".into(), snapshots: Vec::new(), finished_at: None });
        let none = target(&entry, "canary").unwrap_err();
        assert!(none.contains("revoked or pruned: ami-2 (revoked), ami-1 (pruned)"), "{none}");
        assert_eq!(kept_for_channels(&entry, "r"), BTreeSet::from(["ami-3"]));
        // Rolled back to ami-1 (were it not pruned), a second rollback goes
        // further back, never forward to ami-2 or ami-3.
        entry.lifecycle.get_mut("ami-1").unwrap().pruned = None;
        enter(&mut entry, "canary", "r", "ami-1", "T8");
        assert!(target(&entry, "canary").unwrap_err().contains("before ami-1"));
        // A channel whose image the lock no longer keeps.
        entry.channels.get_mut("stable").unwrap().insert("r".into(), "ami-9".into());
        assert!(target(&entry, "stable").unwrap_err().contains("no longer keeps ami-9"));
    }

    #[test]
    fn the_history_keeps_an_image_whose_prune_did_not_finish() {
        let mut entry = LockedTemplate::default();
        for n in 0..=HISTORY {
            record("t", &mut entry, "r", image(&format!("ami-{n}")), None, "T");
        }
        // The oldest: its AMI deregistered, its snapshots not yet deleted.
        entry.lifecycle.entry("ami-0".into()).or_default().pruned =
            Some(Pruning { started_at: "T".into(), snapshots: vec!["snap-01234567".into()], finished_at: None });
        record("t", &mut entry, "r", image("ami-11"), None, "T");
        assert!(entry.find("ami-0").is_some(), "the next prune finishes it from this record");
        assert_eq!(entry.lifecycle["ami-0"].pruned.as_ref().unwrap().snapshots, ["snap-01234567"]);
        assert!(entry.find("ami-1").is_none(), "the oldest other image goes instead");
        assert_eq!(entry.history["r"].len(), HISTORY);
    }

    #[test]
    fn the_history_keeps_what_a_channel_could_be_rolled_back_to() {
        let mut entry = LockedTemplate::default();
        record("t", &mut entry, "r", image("ami-0"), CANARY, "T");
        enter(&mut entry, "stable", "r", "ami-0", "T");
        record("t", &mut entry, "r", image("ami-1"), CANARY, "T");
        enter(&mut entry, "stable", "r", "ami-1", "T");
        for n in 2..=HISTORY + 3 {
            record("t", &mut entry, "r", image(&format!("ami-{n}")), CANARY, "T");
        }
        assert!(entry.find("ami-1").is_some(), "stable boots it");
        assert!(entry.find("ami-0").is_some(), "stable would be rolled back to it");
        assert!(entry.find("ami-2").is_none());
        assert_eq!(entry.history["r"].len(), HISTORY);
    }
}
