//! Every key of every `source`, `provisioner` and `post-processor` block
//! of an HCL2 template, nested blocks included, seen against the plugin
//! schema: what `unknown-key`, `removed-key` and `wrong-type` read there.
//! Blocks whose type a plugin named in `required_plugins` provides are
//! left out: that plugin's version, not Packer 1.6.6, decides their keys.

use crate::hcl2::{At, Block, Body, Hcl2Template, Value};
use crate::schema::{self, Field, PluginKind};

/// One key of a plugin block, or of a block nested in one.
pub struct Hcl2Key<'a> {
    pub plugin: PluginKind,
    pub kind: &'a str,
    /// The nested block's key, `None` at the plugin block's own level.
    pub parent: Option<&'a str>,
    pub key: &'a str,
    pub key_at: &'a At,
    /// The value, for `key = value`; `None` for a nested `key { … }` block.
    pub value: Option<(&'a At, &'a Value)>,
    pub field: Option<&'static Field>,
    pub siblings: &'static [Field],
}

impl Hcl2Key<'_> {
    /// "the amazon-ebs source" or "`launch_block_device_mappings` of the amazon-ebs source".
    pub fn owner(&self) -> String {
        let noun = match self.plugin {
            PluginKind::Builder => "source",
            other => other.noun(),
        };
        match self.parent {
            Some(parent) => format!("`{parent}` of the {} {noun}", self.kind),
            None => format!("the {} {noun}", self.kind),
        }
    }
}

pub fn for_each(template: &Hcl2Template, mut visit: impl FnMut(&Hcl2Key)) {
    let mut blocks: Vec<(PluginKind, &Block)> =
        template.sources().into_iter().map(|source| (PluginKind::Builder, source.block)).collect();
    for build in template.builds() {
        blocks.extend(build.provisioners().map(|block| (PluginKind::Provisioner, block)));
        blocks.extend(build.post_processors().into_iter().map(|block| (PluginKind::PostProcessor, block)));
    }
    for (plugin, block) in blocks {
        let Some(kind) = block.label(0) else { continue };
        if template.from_required_plugin(kind) {
            continue;
        }
        let Some(fields) = plugin.fields(kind) else { continue };
        walk(plugin, kind, None, fields, &block.body, &mut visit);
    }
}

fn walk<'a>(
    plugin: PluginKind,
    kind: &'a str,
    parent: Option<&'a str>,
    fields: &'static [Field],
    body: &'a Body,
    visit: &mut impl FnMut(&Hcl2Key),
) {
    let core = |key: &str| parent.is_none() && (plugin.core_keys().contains(&key) || key.starts_with("packer_"));
    for attr in body.attrs.iter().filter(|attr| !core(&attr.key)) {
        visit(&Hcl2Key {
            plugin,
            kind,
            parent,
            key: &attr.key,
            key_at: &attr.key_at,
            value: Some((&attr.at, &attr.value)),
            field: schema::field(fields, &attr.key),
            siblings: fields,
        });
    }
    for block in body.blocks.iter().filter(|block| !core(&block.ident)) {
        let field = schema::field(fields, &block.ident);
        visit(&Hcl2Key {
            plugin,
            kind,
            parent,
            key: &block.ident,
            key_at: &block.ident_at,
            value: None,
            field,
            siblings: fields,
        });
        if let Some((name, schema::Type::Block(index) | schema::Type::Blocks(index))) = field {
            walk(plugin, kind, Some(name), schema::block(*index), &block.body, visit);
        }
    }
}
