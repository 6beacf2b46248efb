//! Every key of every `source`, `data`, `provisioner`, `post-processor`
//! and `error-cleanup-provisioner` block of an HCL2 template, nested blocks
//! (and `dynamic` blocks' content) included, seen against what the
//! releases in force accept: what the key rules read there. A type a
//! `required_plugins` entry provides is judged at the plugin releases that
//! entry allows.

use crate::hcl2::{At, Block, Body, Hcl2Template, Value};
use crate::schema::PluginKind;
use crate::schema::in_force::{InForce, Judgement, Resolved, Scope};

/// One key of a plugin block, or of a block nested in one.
pub struct Hcl2Key<'a> {
    pub plugin: PluginKind,
    pub kind: &'a str,
    /// The type as its plugin names it (`amazon-ebs` for an `aws-ebs` a
    /// `required_plugins` alias makes): what rules about a type match.
    pub plugin_kind: &'a str,
    /// The nested block's key, `None` at the plugin block's own level.
    pub parent: Option<&'a str>,
    pub key: &'a str,
    pub key_at: &'a At,
    /// The value, for `key = value`; `None` for a nested `key { … }` block.
    pub value: Option<(&'a At, &'a Value)>,
    pub judgement: Judgement,
    /// The releases whose keys judge the block the key is in.
    pub scope: &'a Scope,
}

impl Hcl2Key<'_> {
    /// "the amazon-ebs source" or "`launch_block_device_mappings` of the amazon-ebs source".
    pub fn owner(&self) -> String {
        let noun = match self.plugin {
            PluginKind::Builder => "source",
            PluginKind::Datasource => "data source",
            other => other.noun(),
        };
        match self.parent {
            Some(parent) => format!("`{parent}` of the {} {noun}", self.kind),
            None => format!("the {} {noun}", self.kind),
        }
    }
}

/// The plugin blocks of a template: its sources, data sources, and its
/// builds' provisioners and post-processors.
pub fn plugin_blocks(template: &Hcl2Template) -> Vec<(PluginKind, &Block)> {
    let mut blocks: Vec<(PluginKind, &Block)> =
        template.sources().into_iter().map(|source| (PluginKind::Builder, source.block)).collect();
    blocks.extend(template.data_sources().into_iter().map(|data| (PluginKind::Datasource, data.block)));
    for build in template.builds() {
        blocks.extend(build.provisioners().map(|block| (PluginKind::Provisioner, block)));
        blocks.extend(build.post_processors().into_iter().map(|block| (PluginKind::PostProcessor, block)));
    }
    blocks
}

pub fn for_each(template: &Hcl2Template, in_force: &InForce, mut visit: impl FnMut(&Hcl2Key)) {
    for (plugin, block) in plugin_blocks(template) {
        let Some(kind) = block.label(0) else { continue };
        let Resolved::Known(scope) = in_force.resolve(plugin, kind) else { continue };
        let plugin_kind = template.plugin_type(kind);
        walk(plugin, (kind, &plugin_kind), None, &scope, &block.body, &mut visit);
    }
}

fn walk<'a>(
    plugin: PluginKind,
    (kind, plugin_kind): (&'a str, &'a str),
    parent: Option<&'a str>,
    scope: &Scope,
    body: &'a Body,
    visit: &mut impl FnMut(&Hcl2Key),
) {
    let core = |key: &str| parent.is_none() && (plugin.core_keys().contains(&key) || key.starts_with("packer_"));
    for attr in body.attrs.iter().filter(|attr| !core(&attr.key)) {
        visit(&Hcl2Key {
            plugin,
            kind,
            plugin_kind,
            parent,
            key: &attr.key,
            key_at: &attr.key_at,
            value: Some((&attr.at, &attr.value)),
            judgement: scope.judge(&attr.key, true),
            scope,
        });
    }
    for block in body.blocks.iter().filter(|block| !core(&block.ident)) {
        let judgement = scope.judge(&block.ident, true);
        let name = judgement.name;
        visit(&Hcl2Key {
            plugin,
            kind,
            plugin_kind,
            parent,
            key: &block.ident,
            key_at: &block.ident_at,
            value: None,
            judgement,
            scope,
        });
        if let Some(name) = name {
            let nested = scope.nested(&block.ident);
            if !nested.candidates.is_empty() {
                walk(plugin, (kind, plugin_kind), Some(name), &nested, &block.body, visit);
            }
        }
    }
}
