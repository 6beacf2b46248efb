//! Packer core features of HCL2 templates and the releases that have
//! each, read from `hcl2template/` at each release tag of hashicorp/packer;
//! for functions, from the generated function table
//! ([`super::functions`], the one record of which release has which
//! function). The keys of core provisioners, such as the file
//! provisioner's `content` from 1.7.5 and the shell provisioner's `env`
//! from 1.8.0, are in the generated knowledge instead.

use super::functions;
use crate::version::Version;

/// An HCL2 feature of Packer's core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// `data "<type>" "<name>"` blocks.
    DataSources,
    /// `packer { required_plugins { … } }`.
    RequiredPlugins,
    /// A build's `error-cleanup-provisioner` block.
    ErrorCleanupProvisioner,
    /// A build's `hcp_packer_registry` block.
    HcpPackerRegistry,
    /// A build's `name` computed from variables or locals.
    BuildNameExpression,
    /// A call of a function that not every release has, by its name in
    /// the function table (`strcontains`).
    Function(&'static str),
}

impl Feature {
    /// A call of `name`, when some release of Packer has the function and
    /// another does not.
    pub fn function(name: &str) -> Option<Feature> {
        let function = functions::find(name)?;
        (function.since > functions::OLDEST || function.until.is_some()).then_some(Feature::Function(function.name))
    }

    /// The first Packer release that has it.
    pub fn since(self) -> Version {
        match self {
            Feature::DataSources | Feature::RequiredPlugins | Feature::ErrorCleanupProvisioner => Version(1, 7, 0),
            Feature::HcpPackerRegistry => Version(1, 7, 5),
            // Decoded with the variables and locals in scope from 1.7.9 on.
            Feature::BuildNameExpression => Version(1, 7, 9),
            Feature::Function(name) => functions::find(name).map_or(functions::OLDEST, |function| function.since),
        }
    }

    /// The first Packer release that no longer has it.
    pub fn until(self) -> Option<Version> {
        match self {
            Feature::Function(name) => functions::find(name)?.until,
            _ => None,
        }
    }

    /// Does Packer `version` have it?
    pub fn in_release(self, version: Version) -> bool {
        self.since() <= version && self.until().is_none_or(|until| version < until)
    }

    /// The Packer releases that have it, as a constraint: `>= 1.7.0`.
    pub fn constraint(self) -> String {
        match self.until() {
            Some(until) => format!(">= {}, < {until}", self.since()),
            None => format!(">= {}", self.since()),
        }
    }

    /// When it came (and went), for a message: "came with Packer 1.12.0".
    pub fn history(self) -> String {
        match self.until() {
            Some(until) => format!("came with Packer {} and was removed in {until}", self.since()),
            None => format!("came with Packer {}", self.since()),
        }
    }

    /// As a message names it.
    pub fn describe(self) -> String {
        match self {
            Feature::DataSources => "`data` blocks".to_owned(),
            Feature::RequiredPlugins => "`required_plugins`".to_owned(),
            Feature::ErrorCleanupProvisioner => "an `error-cleanup-provisioner` block".to_owned(),
            Feature::HcpPackerRegistry => "an `hcp_packer_registry` block".to_owned(),
            Feature::BuildNameExpression => "a build `name` computed from variables or locals".to_owned(),
            Feature::Function(name) => format!("the function `{name}()`"),
        }
    }
}

/// The release whose `packer plugins installed|install|required` commands
/// `images` runs (command/plugins*.go came with 1.8.0).
pub const PLUGINS_COMMAND_SINCE: Version = Version(1, 8, 0);

/// The first release that bundles no plugin: every type outside its core
/// is a plugin to install. The knowledge's `bundle` lines say the same
/// (a test checks it); named here because `images` decides by the
/// installed Packer, which may be newer than any release xtask knows.
pub const UNBUNDLED_SINCE: Version = Version(1, 10, 0);

/// Types Packer removed before 1.6.6, the oldest release the knowledge
/// reads, that no plugin brought back: (kind, type, the release that
/// removed it). Read from hashicorp/packer's history.
pub const RETIRED_TYPES: &[(super::PluginKind, &str, Version)] = &[
    // Atlas, HashiCorp's former build service, shut down; "Complete Atlas deprecation".
    (super::PluginKind::PostProcessor, "atlas", Version(1, 3, 0)),
];

/// The release that removed a retired type.
pub fn retired(kind: super::PluginKind, name: &str) -> Option<Version> {
    RETIRED_TYPES
        .iter()
        .find(|(retired_kind, retired, _)| *retired_kind == kind && *retired == name)
        .map(|(_, _, at)| *at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CORE, knowledge};

    /// The releases `images` names agree with the knowledge: 1.9.5 still
    /// bundles plugins, no release from 1.10.0 on does, and
    /// `required_plugins` (`packer init`) is older than `packer plugins`.
    #[test]
    fn unbundled_since_agrees_with_the_knowledge() {
        let knowledge = knowledge();
        let core = &knowledge.sources[CORE];
        let bundling: crate::schema::Mask = knowledge.bundles.iter().fold(0, |all, bundle| all | bundle.core);
        let newest_bundling = core.versions[(127 - bundling.leading_zeros()) as usize];
        let after = core.versions.iter().find(|version| **version > newest_bundling).unwrap();
        assert_eq!(*after, UNBUNDLED_SINCE, "the first release after {newest_bundling}");
        assert!(Feature::RequiredPlugins.since() < PLUGINS_COMMAND_SINCE);
    }

    /// A function is a feature when some release lacks it, with the
    /// releases the function table gives it.
    #[test]
    fn functions_are_features_by_the_function_table() {
        let strcontains = Feature::function("strcontains").unwrap();
        assert_eq!((strcontains.since(), strcontains.constraint()), (Version(1, 12, 0), ">= 1.12.0".to_owned()));
        assert!(!strcontains.in_release(Version(1, 11, 2)) && strcontains.in_release(Version(1, 16, 0)));
        assert_eq!(strcontains.describe(), "the function `strcontains()`");
        assert_eq!(Feature::function("upper"), None, "every release has upper()");
        assert_eq!(Feature::function("tostring"), None, "no release has tostring()");
    }
}
