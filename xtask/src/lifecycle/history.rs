//! What the lock keeps of earlier images: when a build records a new image
//! for a region, the one it replaces moves to the front of that region's
//! history, and the new one enters the first channel. The history is
//! bounded ([`HISTORY`] images before the current one); the images dropped
//! first are those already pruned, then the oldest that no channel boots
//! by the lock, and never one a channel does.

use crate::lock::{HISTORY, LockedImage, LockedTemplate};
use crate::printable;

use super::channels::Channels;

/// Records `image` as the current image of `region` in a template's entry
/// (`template`, for messages), at `now` in the lock's time format. With
/// channels, the first channel is given it. Says which images the lock
/// stops recording, so that they can be deregistered by hand.
pub fn record(
    template: &str,
    entry: &mut LockedTemplate,
    region: &str,
    image: LockedImage,
    channels: Option<&Channels>,
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
    if let Some(channels) = channels {
        enter(entry, channels.first(), region, &id, now);
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
        let booted_by_a_channel =
            |image: &LockedImage| entry.channels.values().any(|on| on.get(region) == Some(&image.id));
        let victim =
            earlier.iter().rposition(pruned).or_else(|| earlier.iter().rposition(|image| !booted_by_a_channel(image)));
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
    use std::collections::BTreeMap;

    use super::*;
    use crate::lock::Pruning;

    fn image(id: &str) -> LockedImage {
        LockedImage {
            id: id.to_owned(),
            built_at: "2026-11-27T10:00:00Z".into(),
            packer_version: Some("1.6.6".into()),
            hash: "sha256:0".into(),
            settings: "sha256:1".into(),
            manifest: None,
            variables: Some(Vec::new()),
            values: Some(BTreeMap::new()),
            plugins: None,
        }
    }

    fn channels() -> Channels {
        let table = toml::de::DeTable::parse("[channels]\norder = [\"canary\", \"stable\"]\n").unwrap();
        let toml::de::DeValue::Table(entries) = table.get_ref()["channels"].get_ref() else { unreachable!() };
        super::super::channels::parse(entries, 0).unwrap()
    }

    fn ids(entry: &LockedTemplate) -> Vec<&str> {
        entry.images_of("r").map(|image| image.id.as_str()).collect()
    }

    #[test]
    fn a_new_image_pushes_the_old_one_into_the_history_and_enters_the_first_channel() {
        let channels = channels();
        let mut entry = LockedTemplate::default();
        record("t", &mut entry, "r", image("ami-1"), Some(&channels), "T1");
        record("t", &mut entry, "r", image("ami-2"), Some(&channels), "T2");
        assert_eq!(ids(&entry), ["ami-2", "ami-1"]);
        assert_eq!(entry.channels["canary"]["r"], "ami-2");
        assert_eq!(entry.lifecycle["ami-1"].entered["canary"], "T1");
        assert_eq!(entry.lifecycle["ami-2"].entered["canary"], "T2");
        // The same image again changes no history and keeps its entry time.
        record("t", &mut entry, "r", image("ami-2"), Some(&channels), "T3");
        assert_eq!(ids(&entry), ["ami-2", "ami-1"]);
        assert_eq!(entry.lifecycle["ami-2"].entered["canary"], "T2");
        // An older image taken back is current, and once.
        record("t", &mut entry, "r", image("ami-1"), Some(&channels), "T4");
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
        let channels = channels();
        let mut entry = LockedTemplate::default();
        record("t", &mut entry, "r", image("ami-0"), Some(&channels), "T");
        // The stable channel stays on the very first image.
        enter(&mut entry, "stable", "r", "ami-0", "T");
        for n in 1..=HISTORY {
            record("t", &mut entry, "r", image(&format!("ami-{n}")), Some(&channels), "T");
        }
        assert_eq!(entry.history["r"].len(), HISTORY);
        entry.lifecycle.entry("ami-5".into()).or_default().pruned =
            Some(Pruning { started_at: "T".into(), snapshots: Vec::new(), finished_at: Some("T".into()) });
        record("t", &mut entry, "r", image("ami-11"), Some(&channels), "T");
        assert!(entry.find("ami-5").is_none() && !entry.lifecycle.contains_key("ami-5"), "the pruned one goes first");
        record("t", &mut entry, "r", image("ami-12"), Some(&channels), "T");
        assert!(entry.find("ami-0").is_some(), "stable boots it");
        assert!(entry.find("ami-1").is_none(), "the oldest no channel boots goes next");
        assert_eq!(entry.history["r"].len(), HISTORY);
    }
}
