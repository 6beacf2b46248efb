//! Which Packer and plugins a build uses. The plan checks what a template
//! needs of plugins against the installed Packer and the pins of
//! `xtask.toml`; the build stage installs the pins before any build starts
//! and runs `packer init` in an HCL2 folder before validating it; the plan
//! says when the versions now differ from those the lock's images were
//! built with.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Job, Outcome};
use crate::config::PackerPins;
use crate::lock::LockedTemplate;
use crate::packer;
use crate::plugins;
use crate::readout::Readout;
use crate::schema::features::{Feature, PLUGINS_COMMAND_SINCE, UNBUNDLED_SINCE};

/// What a template's build needs of Packer's plugins, decided by the plan
/// from the installed Packer; what it used, once built.
#[derive(Clone, Debug, Default)]
pub struct Tooling {
    /// Run `packer init .` before validating: an HCL2 folder with
    /// `required_plugins`, on Packer 1.7 or later.
    pub init: bool,
    /// Ask `packer plugins required .` which versions the build loads
    /// (Packer 1.8 and later).
    pub list_required: bool,
    /// The pins (source, version) to have installed before the build: on
    /// Packer 1.10 and later, for the types no `required_plugins` covers.
    pub pins: Vec<(String, String)>,
    /// The plugin versions the build used (source to version), for the
    /// lock; none when Packer's bundled plugins built it.
    pub used: Option<BTreeMap<String, String>>,
    /// How the Packer and plugins now differ from those the lock's images
    /// were built with, for the plan.
    pub changes: Vec<String>,
}

/// What the build of `template` needs with the installed Packer
/// (`installed`, none when Packer cannot be found: the build says so), or
/// why it cannot be built with it.
pub fn plan(template: &Readout, installed: Option<&str>, pins: &PackerPins) -> Result<Tooling, String> {
    let Some(installed) = installed else {
        return Ok(Tooling::default());
    };
    // `packer init` came with `required_plugins`.
    let init = template.requires_plugins && packer::at_least(installed, Feature::RequiredPlugins.since());
    let mut tooling = Tooling {
        init,
        list_required: init && packer::at_least(installed, PLUGINS_COMMAND_SINCE),
        ..Tooling::default()
    };
    if packer::at_least(installed, UNBUNDLED_SINCE) {
        tooling.pins = plugins::pins_for(&template.plugin_uses, &pins.plugins, installed)?;
    }
    Ok(tooling)
}

/// How the installed Packer, the pins and the required plugins a build
/// now loads (`loaded`, from `packer plugins required .`) differ from what
/// built the lock's images of `regions`: `built with Packer 1.6.6; 1.16.0
/// is installed`, `built with github.com/hashicorp/amazon 1.3.1; xtask.toml
/// pins 1.3.2`, `built with github.com/hashicorp/amazon 1.3.2; 1.3.3 is
/// installed, which its `required_plugins` loads`.
pub fn changes_since_built(
    locked: Option<&LockedTemplate>,
    regions: &[String],
    installed: Option<&str>,
    pins: &[(String, String)],
    loaded: &BTreeMap<String, String>,
) -> Vec<String> {
    let Some(locked) = locked else {
        return Vec::new();
    };
    let mut changes = Vec::new();
    let images: Vec<_> = regions.iter().filter_map(|region| locked.images.get(region)).collect();
    let built_with: BTreeSet<&str> = images.iter().filter_map(|image| image.packer_version.as_deref()).collect();
    if let Some(installed) = installed {
        for built in built_with.into_iter().filter(|built| *built != installed) {
            changes.push(format!("built with Packer {built}; {installed} is installed"));
        }
    }
    let mut seen = BTreeSet::new();
    for image in images {
        let Some(used) = &image.plugins else { continue };
        for (source, pinned) in pins {
            if let Some(built) = used.get(source)
                && built != pinned
                && seen.insert(source)
            {
                changes.push(format!("built with {source} {built}; xtask.toml pins {pinned}"));
            }
        }
        for (source, now) in loaded {
            if let Some(built) = used.get(source)
                && built != now
                && seen.insert(source)
            {
                changes.push(format!(
                    "built with {source} {built}; {now} is installed, which its `required_plugins` loads"
                ));
            }
        }
    }
    changes
}

/// Has every pin the pending jobs need installed, before any build
/// starts: a pin `packer plugins installed` does not list is installed
/// with `packer plugins install SOURCE VERSION`, one at a time. A job
/// whose pin cannot be had, or is not the version Packer would load,
/// fails here, naming the plugin and the command. Returns, per job, what
/// was done for it, for the top of its log.
/// An interrupt (`interrupted`) lets the install under way end and starts
/// no other.
pub fn install_pins(
    packer_path: &Path,
    jobs: &mut [Job],
    pending: &[usize],
    interrupted: &AtomicBool,
) -> BTreeMap<usize, String> {
    let wanted: BTreeSet<(String, String)> =
        pending.iter().flat_map(|&index| jobs[index].tooling.pins.iter().cloned()).collect();
    let mut transcripts = BTreeMap::new();
    if wanted.is_empty() {
        return transcripts;
    }
    let (said, problems) = install(packer_path, &wanted, interrupted);
    if interrupted.load(Ordering::SeqCst) {
        return transcripts;
    }
    for &index in pending {
        let job = &mut jobs[index];
        if job.tooling.pins.is_empty() {
            continue;
        }
        let mut transcript = String::new();
        let mut failures = Vec::new();
        for pin in &job.tooling.pins {
            transcript.push_str(said.get(pin).map_or("", String::as_str));
            if let Some(problem) = problems.get(pin) {
                failures.push(problem.clone());
            }
        }
        if failures.is_empty() {
            job.tooling.used = Some(job.tooling.pins.iter().cloned().collect());
        } else {
            job.outcome = Outcome::Failed(failures.join("; "));
        }
        transcripts.insert(index, transcript);
    }
    transcripts
}

/// Installs the pins that are missing; returns what was said for each pin
/// and the problem of each that cannot be used.
#[allow(clippy::type_complexity)]
fn install(
    packer_path: &Path,
    wanted: &BTreeSet<(String, String)>,
    interrupted: &AtomicBool,
) -> (BTreeMap<(String, String), String>, BTreeMap<(String, String), String>) {
    let mut said: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut problems = BTreeMap::new();
    let _lock = plugins::lock_installs();
    let mut installed = match plugins::installed(packer_path) {
        Ok(installed) => installed,
        Err(error) => {
            for pin in wanted {
                problems.insert(pin.clone(), format!("{error:#}"));
            }
            return (said, problems);
        }
    };
    let mut installed_any = false;
    for pin @ (source, version) in wanted {
        if interrupted.load(Ordering::SeqCst) {
            return (said, problems);
        }
        let present = installed.iter().find(|plugin| plugin.is_from(source) && &plugin.version == version);
        if let Some(plugin) = present {
            said.insert(pin.clone(), format!("{source} {version} is installed: {}\n", plugin.path));
            continue;
        }
        say!("Installing the plugin {source} {version} that xtask.toml pins (packer plugins install)...");
        let mut text = format!("$ packer plugins install {source} {version}\n");
        match plugins::install(packer_path, source, version) {
            Ok(ran) => {
                text.push_str(&ran.output);
                text.push('\n');
                if ran.succeeded {
                    installed_any = true;
                } else {
                    let reason = plugins::failure_cause(&ran.output);
                    problems.insert(
                        pin.clone(),
                        format!(
                            "`packer plugins install {source} {version}` failed: {reason}; {}",
                            plugins::CACHE_HINT
                        ),
                    );
                }
            }
            Err(error) => {
                problems.insert(pin.clone(), format!("{error:#}"));
            }
        }
        said.insert(pin.clone(), text);
    }
    if installed_any {
        match plugins::installed(packer_path) {
            Ok(now) => installed = now,
            Err(error) => {
                for pin in wanted {
                    problems.entry(pin.clone()).or_insert_with(|| format!("{error:#}"));
                }
                return (said, problems);
            }
        }
    }
    for pin @ (source, version) in wanted {
        if problems.contains_key(pin) {
            continue;
        }
        let name = plugins::source_name(source);
        if !installed.iter().any(|plugin| plugin.is_from(source) && &plugin.version == version) {
            problems.insert(
                pin.clone(),
                format!(
                    "`packer plugins install {source} {version}` succeeded, but `packer plugins installed` does not \
                     list {name} {version}; check PACKER_PLUGIN_PATH"
                ),
            );
        } else if let Some(newer) = plugins::loaded(&installed, name).filter(|plugin| &plugin.version != version) {
            let remove = if newer.is_from(source) {
                format!("`packer plugins remove {source} v{}`", newer.version)
            } else {
                "delete that file and its _SHA256SUM".to_owned()
            };
            problems.insert(
                pin.clone(),
                format!(
                    "xtask.toml pins {source} {version}, but Packer loads the highest installed version of a plugin, \
                     and {name} {} is installed too ({}): remove it ({remove}), pin {} instead, or point \
                     PACKER_PLUGIN_PATH at a folder holding the pinned versions only",
                    newer.version, newer.path, newer.version
                ),
            );
        }
    }
    (said, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lock::LockedImage;

    #[test]
    fn the_plan_names_what_changed_since_the_build() {
        let image = |plugins: Option<&[(&str, &str)]>| LockedImage {
            id: "ami-0123abcd".into(),
            built_at: "2026-11-27T14:03:11Z".into(),
            packer_version: Some("1.16.0".into()),
            hash: "h".into(),
            settings: "s".into(),
            manifest: None,
            variables: None,
            values: None,
            plugins: plugins.map(|pairs| pairs.iter().map(|(s, v)| (s.to_string(), v.to_string())).collect()),
        };
        let locked = LockedTemplate {
            images: [
                ("eu-west-1".to_owned(), image(Some(&[("github.com/hashicorp/amazon", "1.3.1")]))),
                ("eu-central-1".to_owned(), image(None)),
            ]
            .into(),
            ..LockedTemplate::default()
        };
        let pins = [("github.com/hashicorp/amazon".to_owned(), "1.3.2".to_owned())];
        let regions = ["eu-west-1".to_owned(), "eu-central-1".to_owned()];
        assert_eq!(
            changes_since_built(Some(&locked), &regions, Some("1.16.0"), &pins, &BTreeMap::new()),
            ["built with github.com/hashicorp/amazon 1.3.1; xtask.toml pins 1.3.2"]
        );
        assert_eq!(
            changes_since_built(Some(&locked), &regions[1..], Some("1.16.1"), &pins, &BTreeMap::new()),
            ["built with Packer 1.16.0; 1.16.1 is installed"]
        );
        assert!(changes_since_built(None, &regions, Some("1.16.1"), &pins, &BTreeMap::new()).is_empty());
    }
}
