//! What each plugin of Packer 1.6.6 accepts: every key of every builder,
//! provisioner and post-processor config, with its type. The tables in
//! `generated.rs` are written by `cargo xtask codegen --packer-source` from
//! Packer's own config specs; this module is how the rest of the tool reads
//! them.

use std::sync::OnceLock;

mod generated;

/// A key and the type of its value.
pub type Field = (&'static str, Type);

/// A key's type, as far as decoding a JSON template tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    Str,
    /// A Go `time.Duration`: a number (nanoseconds) or a string such as `"5m"`.
    Duration,
    Bool,
    Int,
    Uint,
    Float,
    /// A list of scalars; one scalar, or a comma-separated string, is taken
    /// as a list.
    List,
    /// An object of scalars (`tags`).
    Map,
    /// Packer takes any value here, or one this table does not follow.
    Any,
    /// A nested object with keys of its own (`source_ami_filter`), by its
    /// index in the table: see [`block`].
    Block(usize),
    /// A list of nested objects (`launch_block_device_mappings`).
    Blocks(usize),
}

impl Type {
    /// A type as `generated.rs` writes it: one letter, then the index of
    /// a nested block.
    fn from_code(code: &str) -> Type {
        let block = || code[1..].parse().expect("generated.rs: a block without its index; rerun codegen");
        match code {
            "s" => Type::Str,
            "d" => Type::Duration,
            "b" => Type::Bool,
            "i" => Type::Int,
            "u" => Type::Uint,
            "f" => Type::Float,
            "l" => Type::List,
            "m" => Type::Map,
            "a" => Type::Any,
            _ if code.starts_with('B') => Type::Block(block()),
            _ if code.starts_with('L') => Type::Blocks(block()),
            _ => panic!("generated.rs: unknown type code `{code}`; rerun codegen"),
        }
    }
}

/// The keys of the nested block a [`Type::Block`] or [`Type::Blocks`] names.
pub fn block(index: usize) -> &'static [Field] {
    &structs()[index]
}

/// The generated tables, read once: a few thousand short lines.
fn structs() -> &'static [Vec<Field>] {
    static PARSED: OnceLock<Vec<Vec<Field>>> = OnceLock::new();
    PARSED.get_or_init(|| {
        generated::STRUCTS
            .iter()
            .map(|text| {
                text.lines()
                    .map(|line| {
                        let (key, code) = line.split_once(' ').expect("generated.rs: a line without a type");
                        (key, Type::from_code(code))
                    })
                    .collect()
            })
            .collect()
    })
}

/// The three kinds of plugin a template configures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginKind {
    Builder,
    Provisioner,
    PostProcessor,
}

impl PluginKind {
    pub const ALL: [PluginKind; 3] = [PluginKind::Builder, PluginKind::Provisioner, PluginKind::PostProcessor];

    /// Every plugin of this kind, by type name, with its keys.
    fn plugins(self) -> &'static [(&'static str, usize)] {
        match self {
            PluginKind::Builder => generated::BUILDERS,
            PluginKind::Provisioner => generated::PROVISIONERS,
            PluginKind::PostProcessor => generated::POST_PROCESSORS,
        }
    }

    /// Every plugin type name of this kind.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        self.plugins().iter().map(|(name, _)| *name)
    }

    /// The keys of one plugin type.
    pub fn fields(self, kind: &str) -> Option<&'static [Field]> {
        let plugins = self.plugins();
        plugins.binary_search_by(|(name, _)| name.cmp(&kind)).ok().map(|i| block(plugins[i].1))
    }

    /// Keys that Packer's core takes out of a block before the plugin sees
    /// it (`packer-plugin-sdk/template/parse.go`), so any plugin accepts them.
    pub fn core_keys(self) -> &'static [&'static str] {
        match self {
            PluginKind::Builder => &["type", "name"],
            PluginKind::Provisioner => {
                &["type", "only", "except", "override", "pause_before", "max_retries", "timeout"]
            }
            PluginKind::PostProcessor => &["type", "name", "only", "except", "keep_input_artifact"],
        }
    }

    /// As Packer's messages name it.
    pub fn noun(self) -> &'static str {
        match self {
            PluginKind::Builder => "builder",
            PluginKind::Provisioner => "provisioner",
            PluginKind::PostProcessor => "post-processor",
        }
    }
}

/// The field a key names. Packer's decoder (mapstructure) matches keys
/// exactly first, then ignoring case. Fields are sorted by name (a test
/// checks it), so the exact match is a binary search.
pub fn field(fields: &'static [Field], key: &str) -> Option<&'static Field> {
    match fields.binary_search_by(|(name, _)| (*name).cmp(key)) {
        Ok(at) => Some(&fields[at]),
        Err(_) => fields.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn check_fields(path: &str, fields: &'static [Field], depth: usize) {
        assert!(depth < 8, "{path}: nested blocks do not end");
        assert!(!fields.is_empty(), "{path} has no keys");
        assert!(fields.windows(2).all(|pair| pair[0].0 < pair[1].0), "{path}: keys are not sorted");
        let mut seen = BTreeSet::new();
        for (name, ty) in fields {
            assert!(!name.is_empty(), "{path} has a key with no name");
            assert!(seen.insert(name.to_ascii_lowercase()), "{path} has `{name}` twice");
            if let Type::Block(inner) | Type::Blocks(inner) = ty {
                check_fields(&format!("{path}.{name}"), block(*inner), depth + 1);
            }
        }
    }

    #[test]
    fn every_entry_is_well_formed() {
        for kind in PluginKind::ALL {
            let plugins = kind.plugins();
            assert!(plugins.windows(2).all(|pair| pair[0].0 < pair[1].0), "{} types are not sorted", kind.noun());
            for (name, index) in plugins {
                assert!(!name.is_empty());
                check_fields(&format!("{} {name}", kind.noun()), block(*index), 0);
            }
        }
    }

    #[test]
    fn nested_blocks_are_resolved() {
        let ebs = PluginKind::Builder.fields("amazon-ebs").unwrap();
        let Some((_, Type::Blocks(mappings))) = field(ebs, "launch_block_device_mappings") else {
            panic!("amazon-ebs has no launch_block_device_mappings blocks");
        };
        assert_eq!(field(block(*mappings), "volume_size").map(|f| f.1), Some(Type::Int));
        assert!(matches!(field(ebs, "source_ami_filter"), Some((_, Type::Block(_)))));
        assert_eq!(field(ebs, "ssh_timeout").map(|f| f.1), Some(Type::Duration));
        assert_eq!(field(ebs, "AMI_Name").map(|f| f.0), Some("ami_name"));
    }
}
