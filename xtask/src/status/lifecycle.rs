//! What `cargo xtask status` shows of the lifecycle, per template: each
//! channel's image per region by the lock, its age, how long it has run in
//! the channel and how much of the next channel's soak is left, and every
//! revocation the lock records, and what `prune` would remove with its
//! defaults, computed by `prune`'s own plan so that both say the same.
//! Part of the status document (`"channels"`, `"revoked"` and
//! `"prunable"` of each template, their keys in alphabetical order as they
//! have always been), and its lines in the table.

use std::fmt::Write as _;

use crate::channels::Channels;
use crate::clock;
use crate::json::{Json, ToJson, json_object};
use crate::lifecycle::prune::select::{Judged, Verdict};
use crate::lock::{LockedTemplate, Revocation};
use crate::printable;

/// A channel's image in one region.
#[derive(Debug)]
pub struct ChannelImage {
    pub channel: String,
    pub region: String,
    pub id: String,
    /// When the image was built, when the lock still records it.
    pub built_at: Option<String>,
    pub age: Option<String>,
    /// When it entered the channel, as the lock records it.
    pub entered: Option<String>,
    /// How long it has been in the channel; none for an entry time that is
    /// not a time or is ahead of this clock.
    pub in_channel_for: Option<String>,
    /// The next channel's soak; none for the last channel.
    pub soak: Option<Soak>,
    /// Whether a deployment of the channel boots it in this region.
    pub booted: bool,
    pub revoked: Option<Revocation>,
}

/// How far an image is from the next channel.
#[derive(Debug)]
pub struct Soak {
    pub into: String,
    /// The soak the next channel asks for, as written; none for no soak.
    pub needed: Option<String>,
    /// What is left of it; none when it cannot be measured.
    pub left: Option<String>,
    pub left_seconds: Option<u64>,
    /// The next channel has it already.
    pub promoted: bool,
    /// A deployment of the next channel is in this region.
    pub booted: bool,
}

/// An image of the template the lock records as revoked.
#[derive(Debug)]
pub struct Revoked {
    pub id: String,
    pub region: Option<String>,
    pub at: String,
    pub reason: String,
}

/// An image `prune` would remove, or would leave to the cloud's tools.
#[derive(Debug)]
pub struct Prunable {
    pub id: String,
    pub region: String,
    pub built_at: String,
    pub age: Option<String>,
    /// A prune of it began and did not finish.
    pub unfinished: bool,
    /// `prune` removes it (an AWS image).
    pub handled: bool,
}

impl ToJson for ChannelImage {
    fn to_json(&self) -> Json {
        json_object! {
            "age": self.age,
            "booted": self.booted,
            "built_at": self.built_at,
            "channel": self.channel,
            "entered": self.entered,
            "id": self.id,
            "in_channel_for": self.in_channel_for,
            "region": self.region,
            "revoked": self.revoked,
            "soak": self.soak,
        }
    }
}

impl ToJson for Soak {
    fn to_json(&self) -> Json {
        json_object! {
            "booted": self.booted,
            "into": self.into,
            "left": self.left,
            "left_seconds": self.left_seconds,
            "needed": self.needed,
            "promoted": self.promoted,
        }
    }
}

impl ToJson for Revoked {
    fn to_json(&self) -> Json {
        json_object! {
            "at": self.at,
            "id": self.id,
            "reason": self.reason,
            "region": self.region,
        }
    }
}

impl ToJson for Prunable {
    fn to_json(&self) -> Json {
        json_object! {
            "age": self.age,
            "built_at": self.built_at,
            "handled": self.handled,
            "id": self.id,
            "region": self.region,
            "unfinished": self.unfinished,
        }
    }
}

/// Each channel's image per region, in channel order then region order;
/// `booted(channel, region)` says whether a deployment of that channel
/// boots an image of the template there, as a promotion from it needs.
pub fn channels_of(
    locked: Option<&LockedTemplate>,
    channels: Option<&Channels>,
    booted: &dyn Fn(&str, &str) -> bool,
    now: u64,
) -> Vec<ChannelImage> {
    let (Some(locked), Some(channels)) = (locked, channels) else { return Vec::new() };
    let mut shown = Vec::new();
    for (at, channel) in channels.names().iter().enumerate() {
        let next = channels.names().get(at + 1);
        for (region, id) in locked.channels.get(channel).into_iter().flatten() {
            let image = locked.images_of(region).find(|image| image.id == *id);
            let events = locked.lifecycle_of(id);
            let entered = events.entered.get(channel);
            // A time ahead of this clock is what `promote` refuses (a wrong
            // clock wrote it); measured, it would show a full soak left.
            let since = entered.and_then(|entered| clock::recorded(entered, now).ok());
            let age =
                image.and_then(|image| clock::parse_timestamp(&image.built_at)).map(|built| now.saturating_sub(built));
            let soak = next.map(|next| {
                let needed = channels.soak(next);
                let promoted = locked.channels.get(next).and_then(|given| given.get(region)) == Some(id);
                let left = match (needed, since) {
                    (Some((seconds, _)), Some(since)) => Some(seconds.saturating_sub(now.saturating_sub(since))),
                    (None, _) => Some(0),
                    (Some(_), None) => None,
                };
                Soak {
                    into: next.clone(),
                    needed: needed.map(|(_, written)| written.to_owned()),
                    left: left.map(clock::describe),
                    left_seconds: left,
                    promoted,
                    booted: booted(next, region),
                }
            });
            shown.push(ChannelImage {
                channel: channel.clone(),
                region: region.clone(),
                id: id.clone(),
                built_at: image.map(|image| image.built_at.clone()),
                age: age.map(clock::describe),
                entered: entered.cloned(),
                in_channel_for: since.map(|since| clock::describe(now.saturating_sub(since))),
                soak,
                booted: booted(channel, region),
                revoked: events.revoked.clone(),
            });
        }
    }
    shown
}

/// Every image of the template the lock records as revoked.
pub fn revocations_of(locked: Option<&LockedTemplate>) -> Vec<Revoked> {
    let Some(locked) = locked else { return Vec::new() };
    let mut revoked = Vec::new();
    for (id, events) in &locked.lifecycle {
        let Some(revocation) = &events.revoked else { continue };
        let region = locked.find(id).map(|(region, _)| region.to_owned());
        revoked.push(Revoked { id: id.clone(), region, at: revocation.at.clone(), reason: revocation.reason.clone() });
    }
    revoked
}

/// The images of `template` (its key in the lock) that `prune` would
/// remove, as `judged` by its plan: with the default policy, `status`
/// asks for no AWS CLI, so snapshots are `prune`'s to list.
pub fn prunable_of(judged: &[Judged], template: &str) -> Vec<Prunable> {
    judged
        .iter()
        .filter(|judged| judged.template == template)
        .filter(|judged| !matches!(judged.verdict, Verdict::Kept(_)))
        .map(|judged| Prunable {
            id: judged.image.id.clone(),
            region: judged.region.clone(),
            built_at: judged.image.built_at.clone(),
            age: judged.age.map(clock::describe),
            unfinished: judged.verdict == Verdict::Unfinished,
            handled: judged.verdict != Verdict::NotHandled,
        })
        .collect()
}

/// The table's lines for one template's channels, revocations and
/// prunable images.
pub fn human(channels: &[ChannelImage], revoked: &[Revoked], prunable: &[Prunable], out: &mut String) {
    let escaped = |text: &str| printable::escape(text).into_owned();
    for channel in channels {
        let age = channel.age.as_ref().map(|age| format!(", built {age} ago")).unwrap_or_default();
        let since = match (&channel.in_channel_for, &channel.entered) {
            (Some(since), _) => format!(", in it for {since}"),
            (None, Some(entered)) => format!(
                ", entered at {}, which cannot be used (not a time, or ahead of this machine's clock: a wrong clock)",
                printable::escape(entered)
            ),
            (None, None) => ", entry time not recorded".to_owned(),
        };
        let soak = match &channel.soak {
            // A build gives the first channel every region it built, with
            // or without a deployment of it there to run the image.
            Some(soak) if !channel.booted && soak.booted => format!(
                "; no deployment of `{0}` boots it here, so `cargo xtask promote --to {1}` cannot give it to `{1}`'s \
                 deployments in this region (add a `{0}` deployment here)",
                escaped(&channel.channel),
                escaped(&soak.into)
            ),
            _ if !channel.booted => {
                format!("; no deployment of `{}` boots it here", escaped(&channel.channel))
            }
            None => String::new(),
            Some(soak) if soak.promoted => format!("; `{}` is on it too", escaped(&soak.into)),
            Some(soak) => match (&soak.needed, soak.left_seconds) {
                (None, _) => format!("; `{}` takes it without a soak", escaped(&soak.into)),
                (Some(needed), Some(0)) => {
                    format!("; soaked ({needed}): `cargo xtask promote --to {}` takes it", escaped(&soak.into))
                }
                (Some(needed), Some(_)) => format!(
                    "; {} left of the {needed} soak before `{}`",
                    escaped(soak.left.as_deref().unwrap_or("?")),
                    escaped(&soak.into)
                ),
                (Some(needed), None) => format!("; its soak ({needed}) cannot be measured"),
            },
        };
        let revoked = match &channel.revoked {
            Some(revoked) => format!("  REVOKED on {}: {}", escaped(&revoked.at), escaped(&revoked.reason)),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  channel {:<10} {:<14} {}{age}{since}{soak}{revoked}",
            escaped(&channel.channel),
            escaped(&channel.region),
            escaped(&channel.id)
        );
    }
    for revoked in revoked {
        let _ = writeln!(
            out,
            "  revoked {} ({}) on {}: {}",
            escaped(&revoked.id),
            escaped(revoked.region.as_deref().unwrap_or("?")),
            escaped(&revoked.at),
            escaped(&revoked.reason)
        );
    }
    for prunable in prunable {
        let age = prunable.age.as_ref().map(|age| format!(", built {age} ago")).unwrap_or_default();
        let what = if !prunable.handled {
            "not an AWS image: prune leaves it, remove it with the cloud's own tools"
        } else if prunable.unfinished {
            "a prune of it began and did not finish: `cargo xtask prune --execute` completes it"
        } else {
            "nothing needs it: `cargo xtask prune --execute` removes it"
        };
        let _ = writeln!(out, "  prunable {} ({}){age}: {what}", escaped(&prunable.id), escaped(&prunable.region));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::lock::LockedImage;

    fn channels(text: &str) -> Channels {
        let table = toml::de::DeTable::parse(text).unwrap();
        let toml::de::DeValue::Table(entries) = table.get_ref()["channels"].get_ref() else { unreachable!() };
        crate::channels::parse(entries, 0).unwrap()
    }

    #[test]
    fn each_channel_shows_its_image_age_and_the_soak_left() {
        let channels = channels("[channels]\norder = [\"canary\", \"stable\"]\n[channels.stable]\nsoak = \"48h\"\n");
        let built = "2026-11-27T10:00:00Z";
        let now = clock::parse_timestamp(built).unwrap() + 3 * 86_400;
        let image = |id: &str| LockedImage { variables: None, values: None, ..LockedImage::for_tests(id, built) };
        let mut entry = LockedTemplate::default();
        entry.images.insert("r".into(), image("ami-2"));
        entry.history.insert("r".into(), vec![image("ami-1")]);
        entry.channels.insert("canary".into(), BTreeMap::from([("r".into(), "ami-2".into())]));
        entry.channels.insert("stable".into(), BTreeMap::from([("r".into(), "ami-1".into())]));
        entry.lifecycle.entry("ami-2".into()).or_default().entered =
            BTreeMap::from([("canary".to_owned(), crate::clock::utc_timestamp(now - 10 * 3600))]);
        let old = entry.lifecycle.entry("ami-1".into()).or_default();
        old.revoked = Some(Revocation { at: "2026-11-29T10:00:00Z".into(), reason: "a bad kernel".into() });
        let shown = channels_of(Some(&entry), Some(&channels), &|_, _| true, now);
        assert_eq!(shown.len(), 2);
        assert_eq!((shown[0].channel.as_str(), shown[0].id.as_str()), ("canary", "ami-2"));
        assert_eq!(shown[0].age.as_deref(), Some("3d 0h"));
        assert_eq!(shown[0].soak.as_ref().and_then(|soak| soak.left.as_deref()), Some("1d 14h"));
        assert!(shown[1].soak.is_none(), "the last channel soaks for nothing");
        assert_eq!(shown[1].revoked.as_ref().map(|revoked| revoked.reason.as_str()), Some("a bad kernel"));
        let mut out = String::new();
        human(&shown, &revocations_of(Some(&entry)), &[], &mut out);
        assert!(out.contains("channel canary     r              ami-2, built 3d 0h ago, in it for 10h 0m; 1d 14h left of the 48h soak before `stable`"), "{out}");
        assert!(out.contains("channel stable     r              ami-1, built 3d 0h ago, entry time not recorded  REVOKED on 2026-11-29T10:00:00Z: a bad kernel"), "{out}");
        assert!(out.contains("  revoked ami-1 (r) on 2026-11-29T10:00:00Z: a bad kernel"), "{out}");
        assert!(channels_of(Some(&entry), None, &|_, _| true, now).is_empty(), "nothing without [channels]");

        // No canary cluster in the region: its soak leads nowhere.
        let shown = channels_of(Some(&entry), Some(&channels), &|channel, _| channel != "canary", now);
        let mut out = String::new();
        human(&shown, &[], &[], &mut out);
        assert!(out.contains("ami-2, built 3d 0h ago, in it for 10h 0m; no deployment of `canary` boots it here, so `cargo xtask promote --to stable` cannot give it to `stable`'s deployments in this region (add a `canary` deployment here)"), "{out}");
        let shown = channels_of(Some(&entry), Some(&channels), &|_, _| false, now);
        let mut out = String::new();
        human(&shown, &[], &[], &mut out);
        assert!(out.contains("in it for 10h 0m; no deployment of `canary` boots it here\n"), "{out}");

        // Entered a day ahead of this clock: no soak is measured from it.
        entry.lifecycle.get_mut("ami-2").unwrap().entered =
            BTreeMap::from([("canary".to_owned(), crate::clock::utc_timestamp(now + 86_400))]);
        let shown = channels_of(Some(&entry), Some(&channels), &|_, _| true, now);
        assert!(
            shown[0].in_channel_for.is_none() && shown[0].soak.as_ref().is_some_and(|soak| soak.left.is_none()),
            "{:?}",
            shown[0]
        );
        let mut out = String::new();
        human(&shown, &[], &[], &mut out);
        assert!(out.contains("which cannot be used (not a time, or ahead of this machine's clock: a wrong clock); its soak (48h) cannot be measured"), "{out}");
    }

    #[test]
    fn what_prune_would_remove_is_shown_with_what_becomes_of_it() {
        let image = |id: &str| LockedImage {
            packer_version: None,
            variables: None,
            values: None,
            ..LockedImage::for_tests(id, "2026-10-01T00:00:00Z")
        };
        let judged = |template: &str, id: &str, verdict: Verdict| Judged {
            template: template.into(),
            layout: None,
            region: "r".into(),
            image: image(id),
            age: Some(40 * 86_400),
            recorded_snapshots: Vec::new(),
            verdict,
        };
        let all = [
            judged("t", "ami-1", Verdict::Prune),
            judged("t", "ami-2", Verdict::Unfinished),
            judged("t", "ami-3", Verdict::Kept("young".into())),
            judged("t", "image-4", Verdict::NotHandled),
            judged("other", "ami-5", Verdict::Prune),
        ];
        let shown = prunable_of(&all, "t");
        let ids: Vec<&str> = shown.iter().map(|image| image.id.as_str()).collect();
        assert_eq!(ids, ["ami-1", "ami-2", "image-4"]);
        let mut out = String::new();
        human(&[], &[], &shown, &mut out);
        assert_eq!(
            out,
            "  prunable ami-1 (r), built 40d 0h ago: nothing needs it: `cargo xtask prune --execute` removes it\n  \
             prunable ami-2 (r), built 40d 0h ago: a prune of it began and did not finish: `cargo xtask prune \
             --execute` completes it\n  prunable image-4 (r), built 40d 0h ago: not an AWS image: prune leaves it, \
             remove it with the cloud's own tools\n"
        );
    }
}
