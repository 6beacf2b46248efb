//! Which images `prune` removes, from the lock and the deployments alone:
//! an image of the lock's history that no deployment boots, that no
//! channel is on or would be rolled back to, that is older than the
//! policy's age and not among the newest the policy keeps for its
//! template and region. `status` shows the same answer with the default
//! policy. An image the lock does not record is never considered.

use std::collections::BTreeMap;

use crate::clock;
use crate::deployments::{Deployment, GLOBAL};
use crate::lifecycle::fleet::Selection;
use crate::lock::{LockFile, LockedImage, LockedTemplate, history};
use crate::printable;
use crate::project::Layout;

/// How many of the newest images per template and region are kept
/// whatever else holds: the current one and two before it, so that a
/// rollback by hand has somewhere to go even without channels. A string,
/// as the command line's default.
pub const DEFAULT_KEEP: &str = "3";

/// How old an image must be before it is removed: a month, which covers
/// a release cycle and any soak configured in practice.
pub const DEFAULT_OLDER_THAN: &str = "30d";

/// What `prune` removes: images older than `older_than` seconds, beyond
/// the newest `keep` per template and region.
#[derive(Clone, Debug)]
pub struct Policy {
    pub keep: usize,
    pub older_than: u64,
    /// `older_than` as given, for messages.
    pub older_than_text: String,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            keep: DEFAULT_KEEP.parse().expect("the default is a number"),
            older_than: clock::parse_duration(DEFAULT_OLDER_THAN).expect("the default is a duration"),
            older_than_text: DEFAULT_OLDER_THAN.to_owned(),
        }
    }
}

/// What becomes of one recorded image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Removed by `--execute`.
    Prune,
    /// A prune of it began and did not finish: `--execute` completes it.
    Unfinished,
    /// It would be removed, but it is not an AWS image, which is all
    /// `prune` removes.
    NotHandled,
    /// Kept, and why.
    Kept(String),
}

/// One image of one template in one region, judged.
#[derive(Clone, Debug)]
pub struct Judged {
    /// The template's key in the lock.
    pub template: String,
    pub layout: Option<Layout>,
    pub region: String,
    pub image: LockedImage,
    /// Seconds since its build, when its build time can be read.
    pub age: Option<u64>,
    /// The snapshots a prune that began recorded.
    pub recorded_snapshots: Vec<String>,
    pub verdict: Verdict,
}

impl Judged {
    /// The template as people read it: its folder.
    pub fn folder(&self) -> &str {
        self.template.strip_suffix("/template.json").unwrap_or(&self.template)
    }

    pub fn cloud(&self) -> Option<&str> {
        self.layout.as_ref().map(|layout| layout.cloud.as_str())
    }
}

/// The image IDs the deployments name, each with where: a role's
/// `machine_image.id` (`deployments/a.yaml cluster.machine_image.id`), or
/// anywhere else in a deployment's text, which is kept too, since a
/// deployment's truth is what it says.
pub fn named_by_deployments(deployments: &[Deployment], recorded: &LockFile) -> BTreeMap<String, String> {
    let mut named = BTreeMap::new();
    for deployment in deployments {
        for role in deployment.roles() {
            if let Some(id) = deployment.image_id(role).and_then(|node| node.as_str()) {
                named
                    .entry(id.to_owned())
                    .or_insert_with(|| format!("{} {role}.machine_image.id boots it", deployment.rel));
            }
        }
    }
    for entry in recorded.templates.values() {
        for images in entry.images.values().map(std::slice::from_ref).chain(entry.history.values().map(Vec::as_slice)) {
            for image in images {
                if named.contains_key(&image.id) {
                    continue;
                }
                if let Some(deployment) = deployments.iter().find(|deployment| mentions(&deployment.source, &image.id))
                {
                    named.insert(image.id.clone(), format!("{} names it", deployment.rel));
                }
            }
        }
    }
    named
}

/// Whether `text` holds `id` as a whole word: `ami-01234567` is not in
/// `ami-0123456789abcdef0`.
fn mentions(text: &str, id: &str) -> bool {
    let part_of_a_word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(id).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(part_of_a_word)
            && !text[at + id.len()..].chars().next().is_some_and(part_of_a_word)
    })
}

/// Every image the lock records for the selected templates and regions,
/// judged under `policy` at `now` (seconds since the epoch). Images whose
/// prune finished are left out: they are gone. `named` is what
/// [`named_by_deployments`] found.
pub fn judge(
    lockfile: &LockFile,
    named: &BTreeMap<String, String>,
    selection: &Selection,
    policy: &Policy,
    now: u64,
) -> Vec<Judged> {
    let recorded_by = templates_recording(lockfile);
    let mut judged = Vec::new();
    for (template, entry) in &lockfile.templates {
        let layout = Layout::from_relative(template).ok();
        if !selected(template, layout.as_ref(), selection) {
            continue;
        }
        let elsewhere = |id: &str| {
            let others: Vec<&str> = recorded_by
                .get(id)
                .into_iter()
                .flatten()
                .filter(|other| **other != template.as_str())
                .map(|other| other.strip_suffix("/template.json").unwrap_or(other))
                .collect();
            (!others.is_empty()).then(|| {
                format!(
                    "packer/images.lock records it for {} too, whose channels and deployments may need it",
                    others.join(", ")
                )
            })
        };
        let mut regions: Vec<&String> = entry.images.keys().chain(entry.history.keys()).collect();
        regions.sort();
        regions.dedup();
        for region in regions {
            if region != GLOBAL && !selection.regions.is_empty() && !selection.regions.contains(region) {
                continue;
            }
            judge_region(template, entry, layout.as_ref(), region, named, &elsewhere, policy, now, &mut judged);
        }
    }
    judged
}

/// The templates whose entry records each image ID and has not finished
/// pruning it: an ID copied into two entries (a release folder copied with
/// its lock entry, a manifest applied to two templates) is one image in
/// the cloud, which one template's history must not remove from under the
/// other.
fn templates_recording(lockfile: &LockFile) -> BTreeMap<&str, Vec<&str>> {
    let mut recorded_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (template, entry) in &lockfile.templates {
        let images = entry.images.values().chain(entry.history.values().flatten());
        for image in images {
            let gone = entry
                .lifecycle
                .get(&image.id)
                .and_then(|events| events.pruned.as_ref())
                .is_some_and(|p| p.finished_at.is_some());
            let templates = recorded_by.entry(image.id.as_str()).or_default();
            if !gone && !templates.contains(&template.as_str()) {
                templates.push(template);
            }
        }
    }
    recorded_by
}

fn selected(template: &str, layout: Option<&Layout>, selection: &Selection) -> bool {
    let folder = template.strip_suffix("/template.json").unwrap_or(template);
    let by_folder =
        selection.select.is_empty() || selection.select.iter().any(|wanted| wanted.trim_end_matches('/') == folder);
    let filter = &selection.filter;
    let by_layout = filter.is_empty() || layout.is_some_and(|layout| filter.accepts_layout(layout));
    by_folder && by_layout
}

#[allow(clippy::too_many_arguments)]
fn judge_region(
    template: &str,
    entry: &LockedTemplate,
    layout: Option<&Layout>,
    region: &str,
    named: &BTreeMap<String, String>,
    elsewhere: &dyn Fn(&str) -> Option<String>,
    policy: &Policy,
    now: u64,
    judged: &mut Vec<Judged>,
) {
    let for_channels = history::kept_for_channels(entry, region);
    let mut newer_kept = 0;
    for image in entry.images_of(region) {
        let events = entry.lifecycle_of(&image.id);
        let pruning = events.pruned.as_ref();
        if pruning.is_some_and(|pruning| pruning.finished_at.is_some()) {
            continue;
        }
        let age = clock::parse_timestamp(&image.built_at).map(|built| now.saturating_sub(built));
        let within_keep = newer_kept < policy.keep;
        if pruning.is_none() {
            newer_kept += 1;
        }
        let verdict = if let Some(pruning) = pruning {
            match named.get(&image.id).cloned().or_else(|| elsewhere(&image.id)) {
                Some(where_) => Verdict::Kept(format!(
                    "a prune of it began on {} and did not finish, and {where_}: check that the image still exists \
                     before anything boots it",
                    printable::escape(&pruning.started_at)
                )),
                None => Verdict::Unfinished,
            }
        } else if let Some(where_) = named.get(&image.id) {
            Verdict::Kept(where_.clone())
        } else if let Some(why) = elsewhere(&image.id) {
            Verdict::Kept(why)
        } else if for_channels.contains(image.id.as_str()) {
            Verdict::Kept(channel_reason(entry, region, &image.id))
        } else if within_keep {
            Verdict::Kept(format!("one of the newest {} in {region} (--keep)", policy.keep))
        } else {
            match age {
                None => Verdict::Kept(format!(
                    "its build time `{}` cannot be read as a time like 2026-11-27T14:03:11Z",
                    printable::escape(&image.built_at)
                )),
                Some(age) if age < policy.older_than => Verdict::Kept(format!(
                    "built {} ago, not older than {} (--older-than)",
                    clock::describe(age),
                    policy.older_than_text
                )),
                Some(_) if layout.is_some_and(|layout| layout.cloud == "aws") => Verdict::Prune,
                Some(_) => Verdict::NotHandled,
            }
        };
        judged.push(Judged {
            template: template.to_owned(),
            layout: layout.cloned(),
            region: region.to_owned(),
            image: image.clone(),
            age,
            recorded_snapshots: pruning.map(|pruning| pruning.snapshots.clone()).unwrap_or_default(),
            verdict,
        });
    }
}

/// Why the channels need an image: which one is on it, or would roll back
/// to it.
fn channel_reason(entry: &LockedTemplate, region: &str, id: &str) -> String {
    let mut reasons = Vec::new();
    for (channel, given) in &entry.channels {
        if given.get(region).map(String::as_str) == Some(id) {
            reasons.push(format!("`{channel}` was last given it"));
        } else if history::rollback_target(entry, channel, region).is_ok_and(|target| target.id == id) {
            reasons.push(format!("`{channel}` would roll back to it"));
        }
    }
    reasons.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::{ImageLifecycle, Pruning};

    const DAY: u64 = 86_400;
    const NOW: u64 = 1_795_787_993;

    fn image(id: &str, days_old: u64) -> LockedImage {
        LockedImage::for_tests(id, &crate::clock::utc_timestamp(NOW - days_old * DAY))
    }

    /// A template whose region `r` has `ages.len()` images, newest first,
    /// `ami-00000000`, `ami-00000001`, ...
    fn entry(ages: &[u64]) -> LockedTemplate {
        let mut images = ages.iter().enumerate().map(|(n, age)| image(&format!("ami-{n:08}"), *age));
        let mut entry = LockedTemplate::default();
        entry.images.insert("eu-west-1".into(), images.next().unwrap());
        entry.history.insert("eu-west-1".into(), images.collect());
        entry
    }

    fn verdicts(lockfile: &LockFile, named: &BTreeMap<String, String>, policy: &Policy) -> Vec<(String, Verdict)> {
        judge(lockfile, named, &Selection::default(), policy, NOW)
            .into_iter()
            .map(|judged| (judged.image.id, judged.verdict))
            .collect()
    }

    fn lock(template: &str, entry: LockedTemplate) -> LockFile {
        LockFile { version: crate::lock::VERSION, templates: BTreeMap::from([(template.to_owned(), entry)]) }
    }

    const AWS: &str = "packer/3.11/aws/machine-image/template.json";

    #[test]
    fn the_newest_the_young_the_booted_and_what_channels_need_are_kept() {
        let mut entry = entry(&[1, 40, 50, 60, 70, 10, 80]);
        // `stable` is on the fourth and was on the fifth before it.
        entry.channels.insert("stable".into(), BTreeMap::from([("eu-west-1".into(), "ami-00000003".into())]));
        for (id, at) in [("ami-00000003", "2026-01-02T00:00:00Z"), ("ami-00000004", "2026-01-01T00:00:00Z")] {
            entry.lifecycle.entry(id.into()).or_default().entered.insert("stable".into(), at.into());
        }
        let lockfile = lock(AWS, entry);
        let named = BTreeMap::from([("ami-00000006".to_owned(), "deployments/old.yaml names it".to_owned())]);
        let policy = Policy { keep: 2, ..Policy::default() };
        let verdicts = verdicts(&lockfile, &named, &policy);
        let kept = |reason: &str| Verdict::Kept(reason.to_owned());
        assert_eq!(
            verdicts,
            [
                ("ami-00000000".into(), kept("one of the newest 2 in eu-west-1 (--keep)")),
                ("ami-00000001".into(), kept("one of the newest 2 in eu-west-1 (--keep)")),
                ("ami-00000002".into(), Verdict::Prune),
                ("ami-00000003".into(), kept("`stable` was last given it")),
                ("ami-00000004".into(), kept("`stable` would roll back to it")),
                ("ami-00000005".into(), kept("built 10d 0h ago, not older than 30d (--older-than)")),
                ("ami-00000006".into(), kept("deployments/old.yaml names it")),
            ]
        );
    }

    #[test]
    fn a_finished_prune_is_gone_an_unfinished_one_is_completed_and_other_clouds_are_not_handled() {
        let mut entry = entry(&[1, 40, 50, 60]);
        let pruning = |finished: Option<&str>| Pruning {
            started_at: "2026-11-01T00:00:00Z".into(),
            snapshots: vec!["snap-01234567".into()],
            finished_at: finished.map(str::to_owned),
        };
        entry.lifecycle.insert(
            "ami-00000001".into(),
            ImageLifecycle { pruned: Some(pruning(Some("2026-11-01T00:00:01Z"))), ..ImageLifecycle::default() },
        );
        entry
            .lifecycle
            .insert("ami-00000002".into(), ImageLifecycle { pruned: Some(pruning(None)), ..ImageLifecycle::default() });
        let policy = Policy { keep: 1, ..Policy::default() };
        let judged = judge(&lock(AWS, entry.clone()), &BTreeMap::new(), &Selection::default(), &policy, NOW);
        let seen: Vec<(&str, &Verdict)> =
            judged.iter().map(|judged| (judged.image.id.as_str(), &judged.verdict)).collect();
        assert_eq!(
            seen,
            [
                ("ami-00000000", &Verdict::Kept("one of the newest 1 in eu-west-1 (--keep)".into())),
                ("ami-00000002", &Verdict::Unfinished),
                // The pruned ones do not count towards --keep.
                ("ami-00000003", &Verdict::Prune),
            ]
        );
        assert_eq!(judged[1].recorded_snapshots, ["snap-01234567"]);
        // Booted again since (a rollback by hand): not touched.
        let named = BTreeMap::from([("ami-00000002".to_owned(), "deployments/a.yaml names it".to_owned())]);
        let again = verdicts(&lock(AWS, entry.clone()), &named, &policy);
        assert!(matches!(&again[1].1, Verdict::Kept(why) if why.contains("did not finish, and deployments/a.yaml")));

        let gce = verdicts(&lock("packer/3.11/gce/machine-image/template.json", entry), &BTreeMap::new(), &policy);
        assert_eq!(gce[2], ("ami-00000003".to_owned(), Verdict::NotHandled));
    }

    #[test]
    fn an_image_another_template_records_too_is_kept() {
        // 3.12 was started from a copy of 3.11's folder and lock entry: its
        // current image is the one 3.11 has since replaced.
        let mut lockfile = lock(AWS, entry(&[1, 40]));
        let mut copied = LockedTemplate::default();
        copied.images.insert("eu-west-1".into(), image("ami-00000001", 40));
        lockfile.templates.insert("packer/3.12/aws/machine-image/template.json".into(), copied);
        let policy = Policy { keep: 0, older_than: 0, older_than_text: "0s".into() };
        let only_3_11 = Selection { select: vec!["packer/3.11/aws/machine-image".into()], ..Selection::default() };
        let judged = judge(&lockfile, &BTreeMap::new(), &only_3_11, &policy, NOW);
        let seen: Vec<(&str, &Verdict)> =
            judged.iter().map(|judged| (judged.image.id.as_str(), &judged.verdict)).collect();
        let why = "packer/images.lock records it for packer/3.12/aws/machine-image too, whose channels and \
                   deployments may need it";
        assert_eq!(seen, [("ami-00000000", &Verdict::Prune), ("ami-00000001", &Verdict::Kept(why.into()))]);
    }

    #[test]
    fn a_deployment_names_an_image_by_its_whole_id() {
        assert!(mentions("# was ami-01234567, see", "ami-01234567"));
        assert!(mentions("ids: [ami-01234567]", "ami-01234567"));
        assert!(!mentions("id: ami-0123456789abcdef0", "ami-01234567"));
        assert!(!mentions("id: xami-01234567", "ami-01234567"));
    }

    #[test]
    fn the_selection_narrows_by_template_and_region() {
        let mut lockfile = lock(AWS, entry(&[1, 40]));
        let mut other = entry(&[1, 40]);
        other.images.insert("us-east-1".into(), image("ami-0000000a", 1));
        lockfile.templates.insert("packer/3.9/aws/machine-image/template.json".into(), other);
        let policy = Policy { keep: 0, older_than: 0, older_than_text: "0s".into() };
        let count = |selection: Selection| judge(&lockfile, &BTreeMap::new(), &selection, &policy, NOW).len();
        assert_eq!(count(Selection::default()), 5);
        let release = Selection {
            filter: crate::project::Filter { releases: vec!["3.9".into()], ..crate::project::Filter::default() },
            ..Selection::default()
        };
        assert_eq!(count(release), 3);
        let image = |name: &str| Selection {
            filter: crate::project::Filter { images: vec![name.into()], ..crate::project::Filter::default() },
            ..Selection::default()
        };
        assert_eq!(count(image("machine-image")), 5);
        assert_eq!(count(image("bastion-image")), 0);
        assert_eq!(
            count(Selection { select: vec!["packer/3.11/aws/machine-image/".into()], ..Selection::default() }),
            2
        );
        assert_eq!(count(Selection { regions: vec!["us-east-1".into()], ..Selection::default() }), 1);
    }

    /// A small deterministic generator (64-bit LCG), so that a failing
    /// case is found again from its number.
    struct Cases(u64);

    impl Cases {
        fn below(&mut self, bound: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % bound
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
    }

    /// Generated histories, channels, revocations, prunes and deployments,
    /// judged by `judge` and by the rule as the docs state it, written
    /// again here from scratch: they must agree on every image.
    #[test]
    fn generated_histories_are_judged_as_the_rule_says() {
        let channels = ["canary", "stable"];
        // How many images each verdict got, so that the cases are seen to
        // reach every one.
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for case in 0..3000u64 {
            let mut rng = Cases(case);
            let mut entry = LockedTemplate::default();
            let mut named = BTreeMap::new();
            for region in ["eu-west-1", "us-east-1"] {
                let count = 1 + rng.below(8) as usize;
                let ids: Vec<String> = (0..count).map(|n| format!("ami-{:08x}", case * 100 + n as u64 + 1)).collect();
                let mut images = ids.iter().map(|id| image(id, rng.below(90)));
                entry.images.insert(region.into(), images.next().unwrap());
                entry.history.insert(region.into(), images.collect());
                for id in &ids {
                    let events = entry.lifecycle.entry(id.clone()).or_default();
                    for channel in channels {
                        if rng.chance(40) {
                            events.entered.insert(channel.into(), "2026-01-01T00:00:00Z".into());
                        }
                    }
                    if rng.chance(15) {
                        events.revoked = Some(crate::lock::Revocation { at: "T".into(), reason: "r".into() });
                    }
                    if rng.chance(15) {
                        let finished = rng.chance(50).then(|| "T".to_owned());
                        events.pruned =
                            Some(Pruning { started_at: "T".into(), snapshots: Vec::new(), finished_at: finished });
                    }
                    if rng.chance(15) {
                        named.insert(id.clone(), "deployments/x.yaml names it".to_owned());
                    }
                }
                for channel in channels {
                    if rng.chance(70) {
                        let on = ids[rng.below(count as u64) as usize].clone();
                        entry.channels.entry(channel.into()).or_default().insert(region.into(), on);
                    }
                }
            }
            let policy = Policy {
                keep: rng.below(5) as usize,
                older_than: rng.below(60) * DAY,
                older_than_text: "generated".into(),
            };
            let lockfile = lock(AWS, entry.clone());
            let judged = judge(&lockfile, &named, &Selection::default(), &policy, NOW);
            let mut expected = Vec::new();
            for region in ["eu-west-1", "us-east-1"] {
                let images: Vec<&LockedImage> = entry.images_of(region).collect();
                // The rollback target of each channel, from the rule: the
                // newest image after its current one that it entered, not
                // revoked and not pruned.
                let mut needed: Vec<&str> = Vec::new();
                for channel in channels {
                    let Some(current) = entry.channels.get(channel).and_then(|on| on.get(region)) else { continue };
                    needed.push(current);
                    let Some(at) = images.iter().position(|image| image.id == *current) else { continue };
                    let target = images[at + 1..].iter().find(|image| {
                        let events = entry.lifecycle_of(&image.id);
                        events.entered.contains_key(channel) && events.revoked.is_none() && events.pruned.is_none()
                    });
                    needed.extend(target.map(|image| image.id.as_str()));
                }
                let mut newer = 0;
                for image in images {
                    let pruning = entry.lifecycle_of(&image.id).pruned;
                    if pruning.as_ref().is_some_and(|p| p.finished_at.is_some()) {
                        continue;
                    }
                    let age = NOW - clock::parse_timestamp(&image.built_at).unwrap();
                    let is_named = named.contains_key(&image.id);
                    let removable = if pruning.is_some() {
                        !is_named
                    } else {
                        !is_named
                            && !needed.contains(&image.id.as_str())
                            && newer >= policy.keep
                            && age >= policy.older_than
                    };
                    if pruning.is_none() {
                        newer += 1;
                    }
                    let unfinished = pruning.is_some() && removable;
                    expected.push((image.id.clone(), removable, unfinished));
                }
            }
            let got: Vec<(String, bool, bool)> = judged
                .iter()
                .map(|judged| {
                    (
                        judged.image.id.clone(),
                        matches!(judged.verdict, Verdict::Prune | Verdict::Unfinished),
                        judged.verdict == Verdict::Unfinished,
                    )
                })
                .collect();
            assert_eq!(got, expected, "case {case}: {entry:#?}\nnamed {named:?}\npolicy {policy:?}");
            for judged in &judged {
                let verdict = match &judged.verdict {
                    Verdict::Prune => "prune",
                    Verdict::Unfinished => "unfinished",
                    Verdict::NotHandled => "not handled",
                    Verdict::Kept(why) if why.contains("--keep") => "kept: newest",
                    Verdict::Kept(why) if why.contains("--older-than") => "kept: young",
                    Verdict::Kept(why) if why.contains("roll back") => "kept: rollback target",
                    Verdict::Kept(why) if why.contains("last given") => "kept: a channel's",
                    Verdict::Kept(_) => "kept: named",
                };
                *seen.entry(verdict).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), 7, "{seen:?}");
        assert!(seen.values().all(|count| *count >= 100), "{seen:?}");
    }
}
