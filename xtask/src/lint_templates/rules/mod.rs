//! The template rule catalogue. A rule is one file: its doc comment (What it
//! does / Why is this bad? / Example / Fix) is its documentation, shown by
//! `--explain` and on its page under `docs/rules/`. Registering it is one line in
//! [`RULES`].

use std::collections::BTreeSet;
use std::path::Path;

use crate::diagnostic::{Findings, RuleMeta};
use crate::hcl2::Hcl2Template;
use crate::project::Layout;
use crate::schema::PluginKind;
use crate::schema::in_force::{InForce, Resolved};
use crate::spelling::{edit_distance, suggest};
use crate::template::{Block, Blocks, Strings, Template};

use super::lint_hcl2::FolderFindings;
use super::plugin_keys::PluginKeys;

mod bad_layout;
mod builder_missing_type;
mod constant_validation;
mod credential_not_sensitive;
mod credential_variable_not_sensitive;
mod duplicate_builder_name;
mod duplicate_declaration;
mod duplicate_key;
mod duplicate_region;
mod env_outside_variables;
mod hardcoded_communicator_password;
mod hardcoded_credentials;
mod invalid_dynamic_block;
mod invalid_gce_label;
mod invalid_hcl;
mod invalid_interpolation;
mod invalid_json;
mod invalid_plugin_source;
mod invalid_shell_source;
mod invalid_validation;
mod invalid_version_constraint;
mod malformed_source_image;
mod missing_builders;
mod missing_required_field;
mod missing_source_file;
mod misspelt_credential_variable;
mod non_unique_image_name;
mod not_an_object;
mod personal_path;
mod post_processor_missing_type;
mod private_key_upload;
mod provisioner_missing_type;
mod provisioner_without_communicator;
mod region_from_environment;
mod removed_key;
mod sensitive_variable_undeclared;
mod unchecked_plugin_type;
mod undeclared_data_source;
mod undeclared_local;
mod undeclared_var_file_variable;
mod undeclared_variable;
mod undefined_builder_reference;
mod unknown_ami_filter;
mod unknown_builder_type;
mod unknown_function;
mod unknown_key;
mod unknown_post_processor_type;
mod unknown_provisioner_type;
mod unknown_top_level_key;
mod unquoted_string;
mod unreadable_file;
mod unsupported_packer_feature;
mod unused_declaration;
mod unused_variable;
mod variable_without_type;
mod version_specific_key;
mod wrong_cloud;
mod wrong_type;

pub use bad_layout::RULE as BAD_LAYOUT;
pub use invalid_hcl::RULE as INVALID_HCL;
pub use invalid_json::RULE as INVALID_JSON;
pub use not_an_object::RULE as NOT_AN_OBJECT;
pub use unreadable_file::RULE as UNREADABLE_FILE;

/// What a rule's check sees.
pub struct Context<'a> {
    pub template: &'a Template,
    /// Its builders, provisioners and post-processors.
    pub blocks: &'a Blocks<'a>,
    /// The template's strings with their actions, for the rules that read
    /// every string.
    pub strings: &'a Strings<'a>,
    /// The keys of its plugin blocks, seen against the plugin schema.
    pub plugin_keys: &'a PluginKeys<'a>,
    /// The template's text, for the rules that need more than the parsed value.
    pub source: &'a str,
    /// The template's place in the tree, when it follows the layout.
    pub layout: Option<&'a Layout>,
    /// The folder the template is in: Packer resolves relative paths there.
    pub dir: &'a Path,
    /// Variables that var files given on the command line define.
    pub external_variables: &'a BTreeSet<String>,
    /// The Packer and plugin releases the template is judged against.
    pub in_force: &'a InForce,
}

/// What a rule's check of an HCL2 template sees.
pub struct Hcl2Context<'a> {
    pub template: &'a Hcl2Template,
    pub layout: Option<&'a Layout>,
    /// The template's folder: Packer resolves relative paths there.
    pub dir: &'a Path,
    pub external_variables: &'a BTreeSet<String>,
    /// The Packer and plugin releases the template is judged against.
    pub in_force: &'a InForce,
}

pub struct Rule {
    pub meta: RuleMeta,
    /// `None` for rules the loader reports before there is a template to
    /// check (the file cannot be read, is not JSON, is in the wrong place),
    /// and for rules of HCL2 templates only.
    pub check: Option<fn(&Context, &mut Findings)>,
    /// The check of an HCL2 template's folder; `None` when the rule has no
    /// meaning there or the loader reports it.
    pub hcl2: Option<fn(&Hcl2Context, &mut FolderFindings)>,
}

/// Every template rule, in code order.
pub static RULES: &[&Rule] = &[
    &unreadable_file::RULE,
    &invalid_json::RULE,
    &not_an_object::RULE,
    &unknown_top_level_key::RULE,
    &bad_layout::RULE,
    &duplicate_key::RULE,
    &missing_builders::RULE,
    &builder_missing_type::RULE,
    &unknown_builder_type::RULE,
    &duplicate_builder_name::RULE,
    &missing_required_field::RULE,
    &non_unique_image_name::RULE,
    &duplicate_region::RULE,
    &wrong_cloud::RULE,
    &malformed_source_image::RULE,
    &region_from_environment::RULE,
    &unknown_ami_filter::RULE,
    &invalid_dynamic_block::RULE,
    &invalid_gce_label::RULE,
    &undeclared_variable::RULE,
    &unused_variable::RULE,
    &env_outside_variables::RULE,
    &sensitive_variable_undeclared::RULE,
    &hardcoded_credentials::RULE,
    &hardcoded_communicator_password::RULE,
    &personal_path::RULE,
    &misspelt_credential_variable::RULE,
    &credential_variable_not_sensitive::RULE,
    &invalid_interpolation::RULE,
    &provisioner_missing_type::RULE,
    &unknown_provisioner_type::RULE,
    &invalid_shell_source::RULE,
    &missing_source_file::RULE,
    &undefined_builder_reference::RULE,
    &private_key_upload::RULE,
    &provisioner_without_communicator::RULE,
    &post_processor_missing_type::RULE,
    &unknown_post_processor_type::RULE,
    &unknown_key::RULE,
    &removed_key::RULE,
    &wrong_type::RULE,
    &version_specific_key::RULE,
    &unchecked_plugin_type::RULE,
    &invalid_hcl::RULE,
    &undeclared_local::RULE,
    &variable_without_type::RULE,
    &undeclared_var_file_variable::RULE,
    &credential_not_sensitive::RULE,
    &undeclared_data_source::RULE,
    &unknown_function::RULE,
    &unquoted_string::RULE,
    &invalid_version_constraint::RULE,
    &invalid_plugin_source::RULE,
    &duplicate_declaration::RULE,
    &unsupported_packer_feature::RULE,
    &unused_declaration::RULE,
    &constant_validation::RULE,
    &invalid_validation::RULE,
];

/// Is `packer-<plugin_kind>-<kind>` where Packer 1.6.6 looks for plugins:
/// beside the packer executable, in ~/.packer.d/plugins, or in the current
/// folder?
pub fn plugin_installed(plugin_kind: &str, kind: &str) -> bool {
    let file = format!("packer-{plugin_kind}-{kind}");
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(std::path::Path::new(&home).join(".packer.d/plugins"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path).filter(|dir| dir.join("packer").is_file()));
    }
    dirs.push(std::path::PathBuf::from("."));
    dirs.iter().any(|dir| dir.join(&file).is_file())
}

/// Shared by the provisioner and post-processor rules: a block without a
/// string `type`.
fn report_missing_types<'a>(
    blocks: impl IntoIterator<Item = &'a Block<'a>>,
    rule: &'static RuleMeta,
    what: &str,
    out: &mut Findings,
) {
    use crate::location::Location;
    for block in blocks {
        if block.kind().is_none() {
            let location = if block.body.contains_key("type") {
                Location::value(block.at("type"))
            } else {
                Location::value(block.route.clone())
            };
            out.report(rule, location, format!("this {what} has no `type`"))
                .help(format!("add the {what}'s `type`, such as `\"shell\"`"));
        }
    }
}

/// Shared by the type rules: a `type` that no release in force has.
fn report_unknown_type(
    ctx: &Context,
    kind: &str,
    location: crate::location::Location,
    plugin: PluginKind,
    rule: &'static RuleMeta,
    out: &mut Findings,
) {
    if let Some((message, help)) = unknown_type(ctx.in_force, kind, plugin) {
        out.report(rule, location, message).help(help);
    }
}

/// The same for an HCL2 block.
fn report_unknown_hcl2_type(
    ctx: &Hcl2Context,
    block: &crate::hcl2::Block,
    plugin: PluginKind,
    rule: &'static RuleMeta,
    out: &mut FolderFindings,
) {
    let (Some(kind), Some((_, at))) = (block.label(0), block.labels.first()) else { return };
    if let Some((message, help)) = unknown_type(ctx.in_force, kind, plugin) {
        out.report(rule, at, message).help(help);
    }
}

/// What to say of a type no release in force has, when it is an error:
/// a near-miss of a known type (a typo), or a type that other releases
/// than those in force have. Any other type may be a third-party plugin
/// Packer runs when installed: `unchecked-plugin-type` notes it.
fn unknown_type(in_force: &InForce, kind: &str, plugin: PluginKind) -> Option<(String, String)> {
    let Resolved::Unknown { judged, known_elsewhere } = in_force.resolve(plugin, kind) else { return None };
    let what = plugin.noun();
    if plugin_installed(what, kind) {
        return None;
    }
    if let Some(removed) = crate::schema::features::retired(plugin, kind) {
        let message = format!("`{kind}` was removed from Packer in {removed}; {judged} refuses it");
        return Some((message, format!("remove this {what}")));
    }
    if let Some(elsewhere) = known_elsewhere {
        let message = format!("`{kind}` is not a {what} type of {judged}");
        return Some((message, format!("{elsewhere} has it: allow those releases, or use another type")));
    }
    let better = suggest(kind, plugin.names()).filter(|better| !better.eq_ignore_ascii_case(kind))?;
    let message = format!("`{kind}` is not a {what} type of {judged}, nor of any plugin release xtask knows");
    Some((message, format!("did you mean `{better}`?")))
}

/// The blocks of an HCL2 template's builds that name a plugin: its
/// provisioners or its post-processors.
fn hcl2_build_blocks<'a>(ctx: &Hcl2Context<'a>, plugin: PluginKind) -> Vec<&'a crate::hcl2::Block> {
    let mut out = Vec::new();
    for build in ctx.template.builds() {
        match plugin {
            PluginKind::Provisioner => out.extend(build.provisioners()),
            PluginKind::PostProcessor => out.extend(build.post_processors()),
            PluginKind::Builder | PluginKind::Datasource => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_docs_complete() {
        let mut codes = BTreeSet::new();
        let mut names = BTreeSet::new();
        for rule in RULES {
            assert!(codes.insert(rule.meta.code), "duplicate code {}", rule.meta.code);
            assert!(names.insert(rule.meta.name), "duplicate name {}", rule.meta.name);
            for section in ["## What it does", "## Why is this bad?", "## Example", "## Fix"] {
                assert!(rule.meta.doc.contains(section), "{} has no `{section}` in its doc", rule.meta.name);
            }
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("amazon-eb", PluginKind::Builder.names()), Some("amazon-ebs"));
        assert_eq!(suggest("zzz", PluginKind::Builder.names()), None);
        assert_eq!(suggest("shlel", PluginKind::Provisioner.names()), Some("shell"));
    }
}
