//! The deployment rule catalogue, laid out like the template rules: one file
//! per rule, its doc comment its documentation, one line here to register it.

use crate::channels::{Channels, Membership};
use crate::deployments::Deployment;
use crate::diagnostic::{Findings, RuleMeta};
use crate::lock::LockFile;

use super::TemplateIndex;

mod duplicate_key;
mod invalid_yaml;
mod malformed_image_id;
mod missing_key;
mod no_template;
mod region_not_built;
mod release_not_a_string;
mod revoked_image;
mod stale_image;
mod unknown_channel;
mod unknown_cloud;
mod unknown_image;

pub use invalid_yaml::RULE as INVALID_YAML;

/// What a rule's check sees.
pub struct Context<'a> {
    pub deployment: &'a Deployment,
    pub templates: &'a TemplateIndex,
    /// The lock file, when it exists and records any template.
    pub lock: Option<&'a LockFile>,
    /// `[channels]` of `xtask.toml`, when the repository has channels.
    pub channels: Option<&'a Channels>,
}

pub struct Rule {
    pub meta: RuleMeta,
    /// `None` for rules the loader reports (the file does not parse).
    pub check: Option<fn(&Context, &mut Findings)>,
}

/// Every deployment rule, in code order.
pub static RULES: &[&Rule] = &[
    &invalid_yaml::RULE,
    &duplicate_key::RULE,
    &missing_key::RULE,
    &release_not_a_string::RULE,
    &unknown_cloud::RULE,
    &no_template::RULE,
    &region_not_built::RULE,
    &malformed_image_id::RULE,
    &stale_image::RULE,
    &unknown_image::RULE,
    &unknown_channel::RULE,
    &revoked_image::RULE,
];

impl<'a> Context<'a> {
    /// The deployment's release and cloud when both are usable strings.
    pub fn release_cloud(&self) -> Option<(&'a str, &'a str)> {
        let deployment: &'a Deployment = self.deployment;
        if deployment.release_is_a_number() {
            return None;
        }
        Some((deployment.release()?, deployment.cloud()?))
    }

    /// The deployment's channel, when the repository has channels.
    pub fn channel(&self) -> InChannel<'a> {
        let Some(channels) = self.channels else { return InChannel::NoChannels };
        match channels.of(self.deployment) {
            Membership::In(channel) => InChannel::Channel(channels, channel),
            Membership::Unknown(_) => InChannel::Unknown,
        }
    }
}

/// Which channel a deployment is in, as the rules that compare it with the
/// lock need it.
pub enum InChannel<'a> {
    /// `xtask.toml` has no `[channels]`: every deployment gets every build.
    NoChannels,
    Channel(&'a Channels, &'a str),
    /// It names no configured channel, which `unknown-channel` reports.
    Unknown,
}

/// A role of the deployment whose template the lock file records.
pub struct Locked<'a> {
    pub role: &'a str,
    pub template: &'a super::TemplateInfo,
    pub locked: &'a crate::lock::LockedTemplate,
    /// The deployment's region (`global` for GCE).
    pub region: &'a str,
    /// The ID the deployment holds for the role.
    pub id: &'a str,
}

impl<'a> Context<'a> {
    /// The roles whose feeding template the lock records, for the rules
    /// that compare the deployment with it.
    pub fn locked_roles(&self) -> Vec<Locked<'a>> {
        let (Some(lock), Some((release, cloud))) = (self.lock, self.release_cloud()) else { return Vec::new() };
        let Some(region) = self.deployment.image_region(cloud) else { return Vec::new() };
        let deployment: &'a Deployment = self.deployment;
        let templates: &'a TemplateIndex = self.templates;
        deployment
            .roles()
            .into_iter()
            .filter_map(|role| {
                let template = templates.feeding(release, cloud, role)?;
                let locked = lock.templates.get(&template.rel)?;
                let id = deployment.image_id(role).and_then(|node| node.as_str()).unwrap_or_default();
                Some(Locked { role, template, locked, region, id })
            })
            .collect()
    }
}

pub use crate::deployments::looks_like_a_number;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_docs_complete() {
        let mut seen = std::collections::BTreeSet::new();
        for rule in RULES {
            assert!(seen.insert(rule.meta.code) && seen.insert(rule.meta.name), "{} repeats", rule.meta.name);
            for section in ["## What it does", "## Why is this bad?", "## Example", "## Fix"] {
                assert!(rule.meta.doc.contains(section), "{} has no `{section}` in its doc", rule.meta.name);
            }
        }
    }

    #[test]
    fn numbers() {
        assert!(looks_like_a_number("3.10"));
        assert!(looks_like_a_number("4"));
        assert!(!looks_like_a_number("3.10.1"));
        assert!(!looks_like_a_number("latest"));
    }
}
