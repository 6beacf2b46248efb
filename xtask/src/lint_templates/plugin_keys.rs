//! Every key of every builder, provisioner and post-processor block, seen
//! against the plugin schema: what the `unknown-key`, `removed-key` and
//! `wrong-type` rules read.

use serde_json::{Map, Value};

use crate::location::Route;
use crate::schema::{self, Field, PluginKind, Type};
use crate::template::{Block, PathStep, Template, route_of};

/// One key of a plugin block, or of a block nested in one.
pub struct PluginKey<'a> {
    pub plugin: PluginKind,
    /// The plugin's type, such as `amazon-ebs`.
    pub kind: &'a str,
    /// The nested block's key (`launch_block_device_mappings`), `None` at
    /// the plugin block's own level.
    pub parent: Option<&'a str>,
    pub key: &'a str,
    /// The block's route and the path from it to the key: the route is
    /// only built when a rule reports.
    block: &'a Route,
    path: &'a [PathStep<'a>],
    pub value: &'a Value,
    /// What the schema says of the key; `None` when the plugin has no such key.
    pub field: Option<&'static Field>,
    /// The keys of the block the key is in, for suggestions.
    pub siblings: &'static [Field],
}

/// Calls `visit` with each key of each plugin block whose type the schema
/// knows, nested blocks included. Keys Packer's core takes out before the
/// plugin sees them (`type`, `only`, …) and the `packer_` keys Packer
/// ignores are left out.
pub fn for_each(template: &Template, mut visit: impl FnMut(&PluginKey)) {
    let mut blocks: Vec<(PluginKind, Block)> = Vec::new();
    blocks.extend(template.builders().into_iter().map(|block| (PluginKind::Builder, block)));
    blocks.extend(template.provisioners().into_iter().map(|block| (PluginKind::Provisioner, block)));
    if let Some(Value::Object(body)) = template.root.get("error-cleanup-provisioner") {
        blocks.push((PluginKind::Provisioner, Block { route: Route::root().key("error-cleanup-provisioner"), body }));
    }
    blocks.extend(template.post_processor_blocks().into_iter().map(|block| (PluginKind::PostProcessor, block)));
    for (plugin, block) in blocks {
        let Some(kind) = block.kind() else { continue };
        let Some(fields) = plugin.fields(kind) else { continue };
        let top = Level { plugin, kind, parent: None, fields };
        let mut path = Vec::with_capacity(4);
        walk_top(&top, &block.route, &mut path, block.body, &mut visit);
        // A provisioner's `override` holds, per builder, keys that replace
        // the provisioner's own for that build: the plugin decodes them too.
        if plugin == PluginKind::Provisioner
            && let Some(Value::Object(overrides)) = block.body.get("override")
        {
            for (builder, body) in overrides {
                if let Value::Object(body) = body {
                    walk_top(&top, &block.at("override").key(builder), &mut path, body, &mut visit);
                }
            }
        }
    }
}

struct Level<'a> {
    plugin: PluginKind,
    kind: &'a str,
    parent: Option<&'a str>,
    fields: &'static [Field],
}

fn walk_top<'a>(
    level: &Level<'a>,
    block: &Route,
    path: &mut Vec<PathStep<'a>>,
    body: &'a Map<String, Value>,
    visit: &mut impl FnMut(&PluginKey),
) {
    for (key, value) in body {
        if level.plugin.core_keys().contains(&key.as_str()) || key.starts_with("packer_") {
            continue;
        }
        walk_key(level, block, path, key, value, visit);
    }
}

fn walk_key<'a>(
    level: &Level<'a>,
    block: &Route,
    path: &mut Vec<PathStep<'a>>,
    key: &'a str,
    value: &'a Value,
    visit: &mut impl FnMut(&PluginKey),
) {
    let field = schema::field(level.fields, key);
    path.push(PathStep::Key(key));
    visit(&PluginKey {
        plugin: level.plugin,
        kind: level.kind,
        parent: level.parent,
        key,
        block,
        path,
        value,
        field,
        siblings: level.fields,
    });
    if let Some((name, ty)) = field {
        let nested = |index: usize| Level {
            plugin: level.plugin,
            kind: level.kind,
            parent: Some(*name),
            fields: schema::block(index),
        };
        match (ty, value) {
            (Type::Block(index) | Type::Blocks(index), Value::Object(body)) => {
                walk_nested(&nested(*index), block, path, body, visit);
            }
            (Type::Blocks(index), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(body) = item {
                        path.push(PathStep::Index(i));
                        walk_nested(&nested(*index), block, path, body, visit);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
    }
    path.pop();
}

fn walk_nested<'a>(
    level: &Level<'a>,
    block: &Route,
    path: &mut Vec<PathStep<'a>>,
    body: &'a Map<String, Value>,
    visit: &mut impl FnMut(&PluginKey),
) {
    for (key, value) in body {
        walk_key(level, block, path, key, value, visit);
    }
}

impl PluginKey<'_> {
    /// The key's route, for a report.
    pub fn route(&self) -> Route {
        let mut steps = self.block.steps().to_vec();
        steps.extend(route_of(self.path).steps().iter().cloned());
        Route::from_steps(steps)
    }

    /// "the amazon-ebs builder" or "`launch_block_device_mappings` of the
    /// amazon-ebs builder".
    pub fn owner(&self) -> String {
        match self.parent {
            Some(parent) => format!("`{parent}` of the {} {}", self.kind, self.plugin.noun()),
            None => format!("the {} {}", self.kind, self.plugin.noun()),
        }
    }
}
