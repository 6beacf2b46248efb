//! Every key of every builder, provisioner and post-processor block, seen
//! against what the releases in force accept: what the `unknown-key`,
//! `removed-key`, `version-specific-key` and `wrong-type` rules read.

use std::ops::Range;

use serde_json::{Map, Value};

use crate::location::Route;
use crate::schema::PluginKind;
use crate::schema::in_force::{InForce, Judgement, Resolved, Scope};
use crate::template::{Block, Blocks, PathStep, route_of};

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
    /// How the key fares in the releases in force.
    pub judgement: &'a Judgement,
    /// The releases whose keys judge the block the key is in.
    pub scope: &'a Scope,
}

/// Every key of each plugin block whose type the releases in force know,
/// nested blocks included, found in one walk that the key rules share. Keys Packer's core takes out before the
/// plugin sees them (`type`, `only`, …) and the `packer_` keys Packer
/// ignores are left out.
pub struct PluginKeys<'a> {
    /// The plugin blocks whose keys are here.
    blocks: Vec<&'a Block<'a>>,
    /// The paths of all keys from their blocks, one after the other.
    steps: Vec<PathStep<'a>>,
    keys: Vec<Entry<'a>>,
    /// The scopes of the blocks and nested blocks, by [`Level::scope`].
    scopes: Vec<Scope>,
}

/// A [`PluginKey`] with its block and path as places in [`PluginKeys`].
struct Entry<'a> {
    level: Level<'a>,
    block: usize,
    path: Range<usize>,
    key: &'a str,
    value: &'a Value,
    judgement: Judgement,
}

#[derive(Clone, Copy)]
struct Level<'a> {
    plugin: PluginKind,
    kind: &'a str,
    parent: Option<&'a str>,
    scope: usize,
}

impl<'a> PluginKeys<'a> {
    pub fn new(blocks: &'a Blocks<'a>, in_force: &InForce) -> PluginKeys<'a> {
        let builders = blocks.builders.iter().map(|block| (PluginKind::Builder, block));
        let provisioners = blocks.provisioners.iter().chain(&blocks.error_cleanup_provisioner);
        let plugins = builders
            .chain(provisioners.map(|block| (PluginKind::Provisioner, block)))
            .chain(blocks.post_processor_blocks().map(|block| (PluginKind::PostProcessor, block)));
        let mut keys = PluginKeys { blocks: Vec::new(), steps: Vec::new(), keys: Vec::new(), scopes: Vec::new() };
        let mut path = Vec::with_capacity(4);
        for (plugin, block) in plugins {
            let Some(kind) = block.kind() else { continue };
            let Resolved::Known(scope) = in_force.resolve(plugin, kind) else { continue };
            keys.scopes.push(scope);
            let top = Level { plugin, kind, parent: None, scope: keys.scopes.len() - 1 };
            let body = block.body;
            keys.blocks.push(block);
            keys.walk_top(top, &mut path, body);
            // A provisioner's `override` holds, per builder, keys that replace
            // the provisioner's own for that build: the plugin decodes them too.
            if plugin == PluginKind::Provisioner
                && let Some(Value::Object(overrides)) = body.get("override")
            {
                for (builder, body) in overrides {
                    if let Value::Object(body) = body {
                        path.extend([PathStep::Key("override"), PathStep::Key(builder)]);
                        keys.walk_top(top, &mut path, body);
                        path.clear();
                    }
                }
            }
        }
        keys
    }

    /// The keys, block by block, each block's in its order.
    pub fn iter(&self) -> impl Iterator<Item = PluginKey<'_>> {
        self.keys.iter().map(|entry| PluginKey {
            plugin: entry.level.plugin,
            kind: entry.level.kind,
            parent: entry.level.parent,
            key: entry.key,
            block: &self.blocks[entry.block].route,
            path: &self.steps[entry.path.clone()],
            value: entry.value,
            judgement: &entry.judgement,
            scope: &self.scopes[entry.level.scope],
        })
    }

    fn walk_top(&mut self, level: Level<'a>, path: &mut Vec<PathStep<'a>>, body: &'a Map<String, Value>) {
        for (key, value) in body {
            if level.plugin.core_keys().contains(&key.as_str()) || key.starts_with("packer_") {
                continue;
            }
            self.walk_key(level, path, key, value);
        }
    }

    fn walk_key(&mut self, level: Level<'a>, path: &mut Vec<PathStep<'a>>, key: &'a str, value: &'a Value) {
        let judgement = self.scopes[level.scope].judge(key, false);
        path.push(PathStep::Key(key));
        let start = self.steps.len();
        self.steps.extend_from_slice(path);
        let block = self.blocks.len() - 1;
        let name = judgement.name;
        self.keys.push(Entry { level, block, path: start..self.steps.len(), key, value, judgement });
        if let Some(name) = name
            && matches!(value, Value::Object(_) | Value::Array(_))
        {
            let nested = self.scopes[level.scope].nested(key);
            if !nested.candidates.is_empty() {
                self.scopes.push(nested);
                let nested = Level { parent: Some(name), scope: self.scopes.len() - 1, ..level };
                match value {
                    Value::Object(body) => self.walk_nested(nested, path, body),
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Value::Object(body) = item {
                                path.push(PathStep::Index(i));
                                self.walk_nested(nested, path, body);
                                path.pop();
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        path.pop();
    }

    fn walk_nested(&mut self, level: Level<'a>, path: &mut Vec<PathStep<'a>>, body: &'a Map<String, Value>) {
        for (key, value) in body {
            self.walk_key(level, path, key, value);
        }
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
