//! Which declarations of a folder a build uses, as `packer build .` loads
//! them: everything the `build` blocks refer to, the sources they build,
//! every data source that any `data.TYPE.NAME` reads (Packer runs them
//! all before the build), and, through them, what those declarations
//! refer to in turn. A local that only an unused local reads is unused
//! too; so is a variable that only its own `validation` block or an
//! unused declaration reads. A
//! build whose `sources` is computed (`sources = var.sources`) may build
//! any source: a run's `-var` chooses.

use std::collections::{BTreeMap, BTreeSet};

use super::{At, Block, FileKind, Hcl2Template, Value};

/// A name a folder declares, as references spell it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Declared {
    /// `var.<name>`
    Variable(String),
    /// `local.<name>`
    Local(String),
    /// `data.<type>.<name>`, as `<type>.<name>`.
    Data(String),
    /// A source a build names, `<type>.<name>`.
    Source(String),
}

impl Declared {
    /// As a template writes it: `local.stamp`, `data.amazon-ami.ubuntu`,
    /// `source.amazon-ebs.base`.
    pub fn spelled(&self) -> String {
        match self {
            Declared::Variable(name) => format!("var.{name}"),
            Declared::Local(name) => format!("local.{name}"),
            Declared::Data(address) => format!("data.{address}"),
            Declared::Source(address) => format!("source.{address}"),
        }
    }
}

/// Who refers to what, and what a build reaches.
pub struct Uses {
    /// For each declaration, the declarations whose values refer to it.
    readers: BTreeMap<Declared, BTreeSet<Declared>>,
    /// What the builds reach, directly or through other declarations.
    live: BTreeSet<Declared>,
    /// The folder has a `build` block: without one, nothing is built and
    /// nothing can be said unused.
    has_build: bool,
}

impl Uses {
    pub fn of(template: &Hcl2Template) -> Uses {
        let mut edges: BTreeMap<Option<Declared>, BTreeSet<Declared>> = BTreeMap::new();
        for (index, file) in template.files.iter().enumerate() {
            if file.kind != FileKind::Template {
                continue;
            }
            let owners = owners(index, &file.body.blocks);
            for reference in file.references.iter().filter(|reference| !reference.bound) {
                let Some(used) = declared(&reference.root, &reference.attrs) else { continue };
                let owner = owners
                    .iter()
                    .rev()
                    .find(|(start, _)| *start <= reference.at.bytes.start)
                    .and_then(|(_, owner)| owner.clone());
                edges.entry(owner).or_default().insert(used);
            }
        }
        let has_build = !template.builds().is_empty();
        let built = edges.entry(None).or_default();
        for build in template.builds() {
            built.extend(build.sources().into_iter().map(|source| Declared::Source(source.address.to_owned())));
            if build.block.body.attr("sources").is_some_and(|attr| !is_literal_list(&attr.value)) {
                // `sources = var.sources`: a run's `-var` may pick any.
                built.extend(template.sources().iter().map(|source| Declared::Source(source.address())));
            }
        }
        let mut readers: BTreeMap<Declared, BTreeSet<Declared>> = BTreeMap::new();
        for (owner, used) in &edges {
            for declared in used {
                let entry = readers.entry(declared.clone()).or_default();
                if let Some(owner) = owner.as_ref().filter(|owner| *owner != declared) {
                    entry.insert(owner.clone());
                }
            }
        }
        let mut live = BTreeSet::new();
        let mut queue: Vec<Declared> = edges.get(&None).into_iter().flatten().cloned().collect();
        // A data source read anywhere is used: Packer runs every `data`
        // block before the build, whoever reads it.
        queue.extend(
            readers
                .iter()
                .filter(|(declared, by)| matches!(declared, Declared::Data(_)) && !by.is_empty())
                .map(|(declared, _)| declared.clone()),
        );
        while let Some(next) = queue.pop() {
            if live.insert(next.clone()) {
                queue.extend(edges.get(&Some(next)).into_iter().flatten().cloned());
            }
        }
        Uses { readers, live, has_build }
    }

    /// Is a declaration unused? `None` when it is used, or when the folder
    /// builds nothing; else the declarations that read it (none, or only
    /// unused ones and itself).
    pub fn unused(&self, declared: &Declared) -> Option<Vec<&Declared>> {
        if !self.has_build || self.live.contains(declared) {
            return None;
        }
        Some(self.readers.get(declared).into_iter().flatten().collect())
    }
}

/// A list of literal strings, as [`super::Body::strings`] reads them.
fn is_literal_list(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::List(items) => items.iter().all(|item| matches!(item.value, Value::String(_))),
        _ => false,
    }
}

/// The declaration a reference of `root.attrs…` names.
fn declared(root: &str, attrs: &[String]) -> Option<Declared> {
    match (root, attrs) {
        ("var", [name, ..]) => Some(Declared::Variable(name.clone())),
        ("local", [name, ..]) => Some(Declared::Local(name.clone())),
        ("data", [kind, name, ..]) => Some(Declared::Data(format!("{kind}.{name}"))),
        _ => None,
    }
}

/// Where each declaration of a file starts, in order, and what it is:
/// a reference belongs to the last one that starts before it (`None`:
/// a `build`, `packer` or other block, whose references a build uses).
/// A `locals` block gives one start per attribute; a `variable`'s
/// references are its `validation`'s.
fn owners(file: usize, blocks: &[Block]) -> Vec<(usize, Option<Declared>)> {
    let mut out = Vec::new();
    let start = |at: &At| if at.file == file { at.bytes.start } else { 0 };
    for block in blocks {
        let owner = match (block.ident.as_str(), block.label(0), block.label(1)) {
            ("variable", Some(name), _) => Some(Declared::Variable(name.to_owned())),
            ("local", Some(name), _) => Some(Declared::Local(name.to_owned())),
            ("data", Some(kind), Some(name)) => Some(Declared::Data(format!("{kind}.{name}"))),
            ("source", Some(kind), Some(name)) => Some(Declared::Source(format!("{kind}.{name}"))),
            _ => None,
        };
        out.push((start(&block.ident_at), owner));
        if block.ident == "locals" {
            for attr in &block.body.attrs {
                out.push((start(&attr.key_at), Some(Declared::Local(attr.key.clone()))));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::template;
    use super::*;

    fn unused(uses: &Uses, declared: Declared) -> Option<Vec<String>> {
        uses.unused(&declared).map(|readers| readers.iter().map(|reader| reader.spelled()).collect())
    }

    #[test]
    fn what_a_build_reaches_through_other_files_is_used() {
        let template = template(&[
            (
                "a.pkr.hcl",
                "locals {\n  name = \"${var.prefix}-${local.stamp}\"\n  stamp = timestamp()\n  dead = local.deader\n  \
                 deader = var.orphan\n}\nvariable \"prefix\" {\n  default = \"x\"\n}\nvariable \"orphan\" {\n  \
                 default = \"y\"\n  validation {\n    condition = length(var.orphan) > 0\n    error_message = \"Set.\"\n  \
                 }\n}\n",
            ),
            (
                "b.pkr.hcl",
                "data \"amazon-ami\" \"base\" {\n  region = var.prefix\n}\nsource \"amazon-ebs\" \"used\" {\n  \
                 ami_name = local.name\n  source_ami = data.amazon-ami.base.id\n}\nsource \"amazon-ebs\" \"spare\" {\n  \
                 ami_name = local.name\n  source_ami = data.amazon-ami.spare.id\n}\ndata \"amazon-ami\" \"spare\" {\n  \
                 owners = [var.spare_owner]\n}\nvariable \"spare_owner\" {\n  default = \"1\"\n}\nbuild {\n  source \"source.amazon-ebs.used\" {\n    name = \"x\"\n  }\n}\n",
            ),
        ]);
        let uses = Uses::of(&template);
        for used in [
            Declared::Local("name".into()),
            Declared::Local("stamp".into()),
            Declared::Variable("prefix".into()),
            Declared::Data("amazon-ami.base".into()),
            Declared::Source("amazon-ebs.used".into()),
        ] {
            assert_eq!(uses.unused(&used), None, "{used:?}");
        }
        assert_eq!(unused(&uses, Declared::Local("dead".into())), Some(vec![]));
        assert_eq!(unused(&uses, Declared::Local("deader".into())), Some(vec!["local.dead".to_owned()]));
        // Its own validation does not use a variable.
        assert_eq!(unused(&uses, Declared::Variable("orphan".into())), Some(vec!["local.deader".to_owned()]));
        assert_eq!(unused(&uses, Declared::Source("amazon-ebs.spare".into())), Some(vec![]));
        // Read only by a source no build uses, a data source still runs.
        assert_eq!(uses.unused(&Declared::Data("amazon-ami.spare".into())), None);
        assert_eq!(uses.unused(&Declared::Variable("spare_owner".into())), None);
    }

    #[test]
    fn computed_build_sources_may_build_any_source_and_no_build_says_nothing() {
        let chosen = template(&[(
            "a.pkr.hcl",
            "variable \"sources\" {\n  default = [\"source.null.a\"]\n}\nsource \"null\" \"a\" {}\n\
             source \"null\" \"b\" {}\nbuild {\n  sources = var.sources\n}\n",
        )]);
        assert_eq!(Uses::of(&chosen).unused(&Declared::Source("null.b".into())), None);
        let fragment = template(&[("a.pkr.hcl", "locals {\n  x = 1\n}\n")]);
        assert_eq!(Uses::of(&fragment).unused(&Declared::Local("x".into())), None);
    }
}
