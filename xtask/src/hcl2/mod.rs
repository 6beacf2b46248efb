//! The HCL2 template model: a folder of `*.pkr.hcl` files, and the var
//! files beside it, read with the byte span of every block, key and
//! expression, and the views that the linter and the image builder need
//! (sources, builds, variables, locals, data sources, uploaded files) —
//! the questions [`crate::template::Template`] answers for JSON.
//!
//! Everything here points into its file with an [`At`]: the index of the
//! file in [`Hcl2Template::files`] and a byte range of its text.
//!
//! What a value is, as Packer computes it, is [`eval`]'s job (in
//! [`value`]'s model of go-cty, with the functions of
//! [`crate::schema::functions`]);
//! [`Hcl2Template::known_string`], [`Hcl2Template::region_sources`] and
//! [`Hcl2Template::value_of_text`] ask it, with this run's values.

pub mod eval;
mod funcs;
mod read;
pub mod uses;
pub mod value;

use std::collections::BTreeMap;
use std::fs;
use std::ops::Range;
use std::path::Path;

use anyhow::Context;

pub use read::{ReadError, parse_file};

/// A value given to a build for one variable, as Packer takes it, for JSON
/// and HCL2 templates alike; it lives with the HCL2 model because a var
/// file's value is an HCL value.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    /// `--var name=value` (and `PKR_VAR_name`): text, which an HCL2
    /// variable of a list or other non-string type reads as an expression.
    Arg(String),
    /// A var file's value, as the HCL (or JSON) value it is. `text` is how
    /// secrets and the settings hash know it: a string as itself, anything
    /// else as written.
    File { value: Value, text: String },
}

impl Given {
    pub fn text(&self) -> &str {
        match self {
            Given::Arg(text) | Given::File { text, .. } => text,
        }
    }
}

/// A place in one of the folder's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct At {
    pub file: usize,
    pub bytes: Range<usize>,
}

/// What a file of the folder is to Packer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `*.pkr.hcl`: blocks of the template.
    Template,
    /// `*.auto.pkrvars.hcl`, which Packer reads by itself, or
    /// `*.pkrvars.hcl`, which a build passes with `-var-file`: values of
    /// variables.
    VarFile { auto: bool },
}

impl FileKind {
    /// The kind of a file by its name, `None` for files Packer does not read.
    pub fn of(name: &str) -> Option<FileKind> {
        if name.ends_with(".auto.pkrvars.hcl") {
            Some(FileKind::VarFile { auto: true })
        } else if name.ends_with(".pkrvars.hcl") {
            Some(FileKind::VarFile { auto: false })
        } else if name.ends_with(".pkr.hcl") {
            Some(FileKind::Template)
        } else {
            None
        }
    }
}

/// A value as written. Literals are kept; anything Packer computes
/// (references, calls, operators, interpolations) is an [`Value::Expr`].
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    List(Vec<Item>),
    Object(Vec<Attr>),
    /// An expression, with its text: `var.region`, `"ami-${local.stamp}"`.
    Expr(String),
}

/// An element of a list.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub at: At,
    pub value: Value,
}

/// `key = value`, in a body or an object.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr {
    pub key: String,
    pub key_at: At,
    /// The value's span.
    pub at: At,
    pub value: Value,
}

/// `ident "label" … { body }`. A `dynamic "x" { content { … } }` block is
/// read as an `x` block whose body is the content's, `dynamic` set.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub ident: String,
    pub ident_at: At,
    pub labels: Vec<(String, At)>,
    pub body: Body,
    pub dynamic: bool,
    /// For a `dynamic` block, what it holds besides its content.
    pub dynamic_header: Option<Box<DynamicHeader>>,
}

/// What a `dynamic "x"` block holds besides its `content`: its own
/// arguments (`for_each`, `iterator`) and blocks, where its `dynamic`
/// keyword is, and how many `content` blocks it has (Packer takes one).
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicHeader {
    pub keyword_at: At,
    pub body: Body,
    pub contents: usize,
}

/// The attributes and blocks of a block or a file, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<Block>,
}

impl Body {
    /// The attribute `key` (the last one when it repeats, as a map would).
    pub fn attr(&self, key: &str) -> Option<&Attr> {
        self.attrs.iter().rev().find(|attr| attr.key == key)
    }

    pub fn blocks<'a>(&'a self, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.blocks.iter().filter(move |block| block.ident == ident)
    }

    /// A string attribute's value, when it is a literal.
    pub fn str(&self, key: &str) -> Option<&str> {
        match &self.attr(key)?.value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// The literal strings of an attribute that takes a list of strings
    /// (or one string), each with its place.
    pub fn strings(&self, key: &str) -> Vec<(&At, &str)> {
        match self.attr(key).map(|attr| (&attr.at, &attr.value)) {
            Some((at, Value::String(text))) => vec![(at, text.as_str())],
            Some((_, Value::List(items))) => items
                .iter()
                .filter_map(|item| match &item.value {
                    Value::String(text) => Some((&item.at, text.as_str())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Block {
    pub fn label(&self, index: usize) -> Option<&str> {
        self.labels.get(index).map(|(label, _)| label.as_str())
    }

    /// Where to point for the block as a whole: its labels, or its keyword.
    pub fn at(&self) -> &At {
        self.labels.last().map_or(&self.ident_at, |(_, at)| at)
    }
}

/// A name used in an expression: `var.region`, `local.stamp`,
/// `data.amazon-ami.ubuntu.id`, `t2.micro` (an unquoted string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    pub root: String,
    /// The attribute names that follow the root, up to the first index or splat.
    pub attrs: Vec<String>,
    pub at: At,
    /// The root is bound by an enclosing `for` or `dynamic` block, not a
    /// name of the template.
    pub bound: bool,
    /// The reference is an attribute's whole value.
    pub whole_value: bool,
}

/// A function call: its name and the name's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub name: String,
    pub at: At,
    /// The first argument's text, as written.
    pub first_argument: Option<String>,
}

/// One file of the folder.
#[derive(Debug)]
pub struct File {
    /// The file's name in the folder, such as `sources.pkr.hcl`.
    pub name: String,
    pub kind: FileKind,
    pub text: String,
    /// The file's top-level attributes and blocks; empty when it does not parse.
    pub body: Body,
    pub references: Vec<Reference>,
    pub calls: Vec<Call>,
}

/// A template folder, read.
#[derive(Debug, Default)]
pub struct Hcl2Template {
    pub files: Vec<File>,
    /// Values this run gives variables (`--var-file`, then `--var`), which
    /// Packer takes before the auto var files and the defaults.
    pub given: BTreeMap<String, Given>,
    /// The one Packer release whose reading of the values is taken: how it
    /// reads `PKR_VAR_` and var files, and the functions it has. `images`
    /// sets the one that builds ([`crate::schema::in_force::Setting::reading`]),
    /// the linter the newest it judges the folder against. `None`: the
    /// newest.
    pub release: Option<crate::version::Version>,
}

/// A declared variable: a `variable "name" { … }` block, or an entry
/// `name = default` of a `variables { … }` block (the older form Packer
/// 1.6.6 still reads, without type or sensitivity).
pub struct Variable<'a> {
    pub name: &'a str,
    /// Where it is declared: the block's labels, or the entry's key.
    pub at: &'a At,
    /// The `variable` block; `None` for an entry of a `variables` block.
    pub block: Option<&'a Block>,
    entry: Option<&'a Attr>,
}

impl<'a> Variable<'a> {
    pub fn default(&self) -> Option<&'a Attr> {
        match self.block {
            Some(block) => block.body.attr("default"),
            None => self.entry,
        }
    }

    pub fn sensitive(&self) -> bool {
        let sensitive = self.block.and_then(|block| block.body.attr("sensitive"));
        matches!(sensitive.map(|attr| &attr.value), Some(Value::Bool(true)))
    }

    pub fn type_expr(&self) -> Option<&'a Attr> {
        self.block?.body.attr("type")
    }
}

/// A local value, from a `locals { … }` attribute or a `local "name"` block.
pub struct Local<'a> {
    pub name: &'a str,
    pub at: &'a At,
    pub value: &'a Attr,
}

/// `source "<type>" "<name>" { … }`, referred to as `<type>.<name>`.
pub struct Source<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub block: &'a Block,
}

impl Source<'_> {
    /// `amazon-ebs.ubuntu`, as builds and `only`/`except` name it.
    pub fn address(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }
}

/// A source a build uses: `"source.amazon-ebs.ubuntu"` in `sources`, or a
/// `source "source.amazon-ebs.ubuntu" { … }` block whose settings add to
/// the source's.
pub struct BuildSource<'a> {
    /// `amazon-ebs.ubuntu`, without the `source.` prefix.
    pub address: &'a str,
    pub at: &'a At,
    /// The settings the build block adds, for the block form.
    pub overrides: Option<&'a Body>,
}

/// `build { … }`.
pub struct Build<'a> {
    pub block: &'a Block,
}

impl<'a> Build<'a> {
    pub fn name(&self) -> Option<&'a str> {
        self.block.body.str("name")
    }

    pub fn sources(&self) -> Vec<BuildSource<'a>> {
        let mut out: Vec<BuildSource<'a>> = self
            .block
            .body
            .strings("sources")
            .into_iter()
            .map(|(at, address)| BuildSource { address: without_source_prefix(address), at, overrides: None })
            .collect();
        for block in self.block.body.blocks("source") {
            if let Some((label, at)) = block.labels.first() {
                out.push(BuildSource { address: without_source_prefix(label), at, overrides: Some(&block.body) });
            }
        }
        out
    }

    /// `provisioner "<type>"` blocks, `error-cleanup-provisioner` included.
    pub fn provisioners(&self) -> impl Iterator<Item = &'a Block> {
        self.block
            .body
            .blocks
            .iter()
            .filter(|block| block.ident == "provisioner" || block.ident == "error-cleanup-provisioner")
    }

    /// `post-processor "<type>"` blocks, those in `post-processors` sequences included.
    pub fn post_processors(&self) -> Vec<&'a Block> {
        let mut out = Vec::new();
        for block in &self.block.body.blocks {
            match block.ident.as_str() {
                "post-processor" => out.push(block),
                "post-processors" => out.extend(block.body.blocks("post-processor")),
                _ => {}
            }
        }
        out
    }
}

/// A build's source reference as Packer reads it (`sourceRefFromString`,
/// the same from 1.6.6 to 1.16.0): of three or more dot-separated parts the
/// first is dropped whatever it says (`source.`, `sources.`), and parts
/// after the type and the name are ignored.
fn without_source_prefix(address: &str) -> &str {
    let mut parts = address.split('.');
    let (Some(first), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next()) else { return address };
    let start = first.len() + 1;
    &address[start..start + kind.len() + 1 + name.len()]
}

/// `data "<type>" "<name>"`, referred to as `data.<type>.<name>`.
pub struct DataSource<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub block: &'a Block,
}

/// A builder of a Packer run: one build's use of one source.
pub struct BuildTarget<'a> {
    /// As Packer's output names it and `-only` selects it.
    pub name: String,
    pub kind: &'a str,
    /// The top-level `source` block, when the template declares it.
    pub source: Option<&'a Block>,
    /// The settings a nested `source` block of the build adds.
    pub overrides: Option<&'a Body>,
}

impl<'a> BuildTarget<'a> {
    /// A setting as the build sees it: the nested block's, else the source's.
    pub fn attr(&self, key: &str) -> Option<&'a Attr> {
        self.overrides.and_then(|body| body.attr(key)).or_else(|| self.source?.body.attr(key))
    }
}

/// What decides where an `amazon-*` build target makes AMIs, as far as
/// it is known before the build: see [`crate::regions::covered`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRegions {
    /// The target's name (`amazon-ebs.ubuntu`).
    pub address: String,
    /// Its `region`, empty when unset.
    pub region: String,
    /// The entries of its `ami_regions`.
    pub copies: Vec<String>,
    /// `skip_save_build_region = true`: the build region's AMI is not kept.
    pub skip_build_region: bool,
    /// A value given for this run or read from the environment
    /// (`-var`, a `-var-file`, `PKR_VAR_`, an `env()` default) decides
    /// them, not the template's files alone: the evaluator's `from_run`
    /// mark.
    pub from_run: bool,
    /// The settings only the build knows (`var.region` without a value,
    /// a function call), as written.
    pub unresolved: Vec<String>,
    /// Why Packer would refuse a setting (a string `ami_regions`, a value
    /// not of its variable's type), or why xtask cannot read it.
    pub refused: Vec<String>,
}

impl Hcl2Template {
    /// Reads the `*.pkr.hcl` and `*.pkrvars.hcl` files of a template
    /// folder, in name order. Fails on the first file that cannot be read
    /// or is not HCL, naming it and the place; `lint-templates` says more.
    pub fn read(dir: &Path) -> anyhow::Result<Hcl2Template> {
        let names = file_names(dir).with_context(|| format!("reading the template folder {}", dir.display()))?;
        let mut template = Hcl2Template::default();
        for name in names {
            let path = dir.join(&name);
            let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let file = parse_file(template.files.len(), &name, text.clone()).map_err(|error| {
                let (line, column) = crate::location::LineIndex::new(&text).line_column(error.offset);
                anyhow::anyhow!(
                    "{}:{line}:{column} is not valid HCL ({}); run `cargo xtask lint-templates` for details",
                    path.display(),
                    error.message.lines().next().unwrap_or_default()
                )
            })?;
            template.files.push(file);
        }
        Ok(template)
    }

    /// The template files' top-level blocks, file by file.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.files.iter().filter(|file| file.kind == FileKind::Template).flat_map(|file| &file.body.blocks)
    }

    fn labelled(&self, ident: &'static str) -> impl Iterator<Item = (&str, Option<&str>, &Block)> {
        self.blocks()
            .filter(move |block| block.ident == ident)
            .filter_map(|block| Some((block.label(0)?, block.label(1), block)))
    }

    pub fn variables(&self) -> Vec<Variable<'_>> {
        let mut out: Vec<Variable<'_>> = self
            .labelled("variable")
            .map(|(name, _, block)| Variable { name, at: block.at(), block: Some(block), entry: None })
            .collect();
        for block in self.blocks().filter(|block| block.ident == "variables") {
            out.extend(block.body.attrs.iter().map(|attr| Variable {
                name: &attr.key,
                at: &attr.key_at,
                block: None,
                entry: Some(attr),
            }));
        }
        out
    }

    pub fn variable(&self, name: &str) -> Option<Variable<'_>> {
        self.variables().into_iter().find(|variable| variable.name == name)
    }

    /// The value `-var name=text` gives a declared variable, read by its
    /// type as Packer reads it ([`eval::Evaluator::value_of_text`]).
    /// `None` when no variable of that name is declared.
    pub fn value_of_text(&self, name: &str, text: &str) -> Option<eval::Evaluated> {
        eval::Evaluator::new(self, self.evaluation_options()).value_of_text(name, text)
    }

    pub fn locals(&self) -> Vec<Local<'_>> {
        let mut out = Vec::new();
        for block in self.blocks() {
            match block.ident.as_str() {
                "locals" => out.extend(block.body.attrs.iter().map(|attr| Local {
                    name: &attr.key,
                    at: &attr.key_at,
                    value: attr,
                })),
                "local" => {
                    if let (Some((name, at)), Some(value)) = (block.labels.first(), block.body.attr("expression")) {
                        out.push(Local { name, at, value });
                    }
                }
                _ => {}
            }
        }
        out
    }

    pub fn sources(&self) -> Vec<Source<'_>> {
        self.labelled("source").filter_map(|(kind, name, block)| Some(Source { kind, name: name?, block })).collect()
    }

    pub fn source(&self, address: &str) -> Option<Source<'_>> {
        self.sources().into_iter().find(|source| source.address() == address)
    }

    pub fn builds(&self) -> Vec<Build<'_>> {
        self.blocks().filter(|block| block.ident == "build").map(|block| Build { block }).collect()
    }

    pub fn data_sources(&self) -> Vec<DataSource<'_>> {
        self.labelled("data").filter_map(|(kind, name, block)| Some(DataSource { kind, name: name?, block })).collect()
    }

    /// `packer { … }` blocks: a folder may hold several.
    pub fn packer_blocks(&self) -> impl Iterator<Item = &Block> {
        self.blocks().filter(|block| block.ident == "packer")
    }

    /// The values the folder's `*.auto.pkrvars.hcl` files set, which
    /// Packer reads by itself, in the order it applies them.
    pub fn auto_var_file_values(&self) -> impl Iterator<Item = &Attr> {
        self.var_file_values().filter(|(file, _)| file.kind == FileKind::VarFile { auto: true }).map(|(_, attr)| attr)
    }

    /// The values the var files set, with the file each comes from.
    pub fn var_file_values(&self) -> impl Iterator<Item = (&File, &Attr)> {
        self.files
            .iter()
            .filter(|file| matches!(file.kind, FileKind::VarFile { .. }))
            .flat_map(|file| file.body.attrs.iter().map(move |attr| (file, attr)))
    }

    /// Every reference in the template files.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.files.iter().flat_map(|file| &file.references)
    }

    pub fn calls(&self) -> impl Iterator<Item = &Call> {
        self.files.iter().flat_map(|file| &file.calls)
    }

    /// A value as far as it is known before a build, when it is a string:
    /// what [`eval::Evaluator`] computes with this run's values (`given`),
    /// the auto var files, `PKR_VAR_` and the defaults, in Packer's order.
    /// `None` when only the build knows it, Packer would refuse it, or it
    /// is not a string.
    pub fn known_string(&self, value: &Value) -> Option<String> {
        let evaluator = eval::Evaluator::new(self, self.evaluation_options());
        let computed = evaluator.value(&At { file: 0, bytes: 0..0 }, value).ok()?;
        computed.as_str().map(str::to_owned)
    }

    /// What an evaluation of this folder is given: this run's values, and
    /// the environment Packer will run in (its `PKR_VAR_` variables, and
    /// what `env()` reads; a variable that is not Unicode is left out).
    pub fn evaluation_options(&self) -> eval::Options {
        let environment: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        let env_vars = self
            .variables()
            .iter()
            .filter_map(|variable| {
                let value = environment.get(&format!("PKR_VAR_{}", variable.name))?;
                Some((variable.name.to_owned(), value.clone()))
            })
            .collect();
        eval::Options {
            packer_version: self.release,
            vars: self.given.clone(),
            env_vars,
            environment: Some(environment),
            ..eval::Options::default()
        }
    }

    /// What each build makes from each of its sources, named as Packer
    /// names the builder: `amazon-ebs.frankfurt`, `okd.amazon-ebs.frankfurt`
    /// in a build named `okd`, `amazon-ebs.dublin` for a nested `source`
    /// block renamed `dublin`.
    pub fn build_targets(&self) -> Vec<BuildTarget<'_>> {
        let sources = self.sources();
        let mut out = Vec::new();
        for build in self.builds() {
            for used in build.sources() {
                let Some((kind, name)) = used.address.split_once('.') else { continue };
                let source = sources.iter().find(|source| source.kind == kind && source.name == name);
                let renamed = used.overrides.and_then(|body| body.str("name")).unwrap_or(name);
                let prefix = build.name().map(|build| format!("{build}.")).unwrap_or_default();
                out.push(BuildTarget {
                    name: format!("{prefix}{kind}.{renamed}"),
                    kind: source.map_or(kind, |source| source.kind),
                    source: source.map(|source| source.block),
                    overrides: used.overrides,
                });
            }
        }
        out
    }

    /// What decides the regions of each `amazon-*` build target (by its
    /// plugin's name for it: [`Hcl2Template::plugin_type`]), as the
    /// evaluator reads its settings with this run's values.
    pub fn region_sources(&self) -> Vec<SourceRegions> {
        let evaluator = eval::Evaluator::new(self, self.evaluation_options());
        self.build_targets()
            .iter()
            .filter(|target| self.plugin_type(target.kind).starts_with("amazon-"))
            .map(|target| {
                let mut regions = SourceRegions {
                    address: target.name.clone(),
                    region: String::new(),
                    copies: Vec::new(),
                    skip_build_region: false,
                    from_run: false,
                    unresolved: Vec::new(),
                    refused: Vec::new(),
                };
                // Each setting converted to what Packer decodes it into;
                // `None` when it is null, which is as if it were not written.
                let mut setting = |key: &str, ty: &value::CtyType| {
                    let attr = target.attr(key)?;
                    let written = || expression_text(&attr.value);
                    let computed = match evaluator.value(&attr.at, &attr.value) {
                        Ok(computed) => computed,
                        Err(error) => {
                            regions.refused.push(format!(
                                "`{}`: `{key}` ({}): {}",
                                target.name,
                                written(),
                                error.message
                            ));
                            return None;
                        }
                    };
                    regions.from_run |= computed.all_marks().from_run;
                    if computed.is_null() {
                        return None;
                    }
                    let converted = match value::convert(&computed, ty) {
                        Ok(converted) => converted,
                        Err(_) if key == "ami_regions" && computed.as_str().is_some() => {
                            regions.refused.push(format!(
                                "`{}` sets `ami_regions` to the string {:?} ({}), which Packer refuses in HCL2 \
                                 (\"list of string required\"); write a list: [\"us-east-1\", \"us-west-2\"]",
                                target.name,
                                computed.as_str().unwrap_or_default(),
                                written()
                            ));
                            return None;
                        }
                        Err(error) => {
                            regions.refused.push(format!(
                                "`{}` sets `{key}` to {} ({}), which Packer refuses: {error}",
                                target.name,
                                computed.ty().friendly(),
                                written()
                            ));
                            return None;
                        }
                    };
                    // A null copy is one xtask cannot name.
                    let named = converted.elements().is_none_or(|copies| !copies.iter().any(|copy| copy.is_null()));
                    if !(converted.is_wholly_known() && named) {
                        regions.unresolved.push(written());
                        return None;
                    }
                    Some(converted)
                };
                let skip = setting("skip_save_build_region", &value::CtyType::Bool);
                let region = setting("region", &value::CtyType::String);
                let copies = setting("ami_regions", &value::CtyType::List(Box::new(value::CtyType::String)));
                regions.skip_build_region = skip.is_some_and(|skip| matches!(skip.kind, value::Kind::Bool(true)));
                regions.region = region.and_then(|region| region.as_str().map(str::to_owned)).unwrap_or_default();
                regions.copies = copies
                    .iter()
                    .flat_map(|copies| copies.elements().unwrap_or_default())
                    .filter_map(|copy| copy.as_str().map(str::to_owned))
                    .collect();
                regions
            })
            .collect()
    }

    /// Local files the builds upload or run: provisioner and post-processor
    /// `source(s)`, `script(s)` and `playbook_file`, relative to the
    /// folder, with a leading `${path.root}/` (the folder) taken out. Paths
    /// only the build knows are left out: [`Self::opaque_uploads`].
    pub fn referenced_files(&self) -> Vec<(&At, String)> {
        self.upload_values()
            .into_iter()
            .filter_map(|(at, value)| Some((at, self.upload_path(value)?)))
            .filter(|(_, path)| !path.is_empty())
            .collect()
    }

    /// Other local files a build reads, when their paths are known: a
    /// source's `user_data_file`, and what `file()` reads.
    fn read_files(&self) -> Vec<String> {
        self.read_file_values()
            .iter()
            .filter_map(|(_, value)| self.upload_path(value))
            .filter(|path| !path.is_empty())
            .collect()
    }

    /// Each `user_data_file` of a build target and each first argument of
    /// a `file()` call, as written.
    fn read_file_values(&self) -> Vec<(&At, Value)> {
        let mut out: Vec<(&At, Value)> = self
            .build_targets()
            .iter()
            .filter_map(|target| target.attr("user_data_file"))
            .map(|attr| (&attr.at, attr.value.clone()))
            .collect();
        for call in self.calls().filter(|call| call.name == "file") {
            if let Some(argument) = &call.first_argument {
                out.push((&call.at, Value::Expr(argument.trim().to_owned())));
            }
        }
        out
    }

    /// The files a build uploads, runs or reads whose path only the build
    /// knows (`"${var.dir}/setup.sh"`, `file(join("/", …))`), as written.
    pub fn opaque_uploads(&self) -> Vec<(&At, String)> {
        let uploads = self.upload_values().into_iter().map(|(at, value)| (at, value.clone()));
        uploads
            .chain(self.read_file_values())
            .filter(|(_, value)| self.upload_path(value).is_none())
            .map(|(at, value)| (at, expression_text(&value)))
            .collect()
    }

    /// Every value that names a local file a build uploads or runs.
    fn upload_values(&self) -> Vec<(&At, &Value)> {
        let mut out = Vec::new();
        for build in self.builds() {
            for block in build.provisioners().chain(build.post_processors()) {
                let downloads = block.body.str("direction") == Some("download");
                for key in crate::schema::upload_keys(block.label(0).unwrap_or_default(), downloads) {
                    match block.body.attr(key) {
                        Some(Attr { value: Value::List(items), .. }) => {
                            out.extend(items.iter().map(|item| (&item.at, &item.value)))
                        }
                        Some(attr) => out.push((&attr.at, &attr.value)),
                        None => {}
                    }
                }
            }
        }
        out
    }

    /// The path an upload value names, relative to the folder, when it is
    /// known before the build.
    fn upload_path(&self, value: &Value) -> Option<String> {
        // `"${path.root}/scripts/a.sh"` reads as `./scripts/a.sh`.
        let path = self.known_string(value)?;
        Some(path.strip_prefix("./").unwrap_or(&path).to_owned())
    }

    /// The files a build of this folder reads, relative to it: the
    /// template and auto var files, and every referenced file, each once.
    pub fn inputs(&self) -> Vec<String> {
        let mut inputs: Vec<String> = self
            .files
            .iter()
            .filter(|file| file.kind != FileKind::VarFile { auto: false })
            .map(|file| file.name.clone())
            .collect();
        for path in self.referenced_files().into_iter().map(|(_, path)| path).chain(self.read_files()) {
            if !inputs.contains(&path) {
                inputs.push(path);
            }
        }
        inputs
    }
}

impl Hcl2Template {
    /// The plugins `packer { required_plugins { … } }` blocks name: each
    /// entry's key, and the last part of its `source` address.
    pub fn required_plugins(&self) -> Vec<&str> {
        let mut names = Vec::new();
        for block in self.packer_blocks() {
            for required in block.body.blocks("required_plugins") {
                for attr in &required.body.attrs {
                    names.push(attr.key.as_str());
                    if let Value::Object(settings) = &attr.value
                        && let Some(Attr { value: Value::String(source), .. }) =
                            settings.iter().find(|setting| setting.key == "source")
                    {
                        names.extend(source.rsplit('/').next());
                    }
                }
            }
        }
        names
    }

    /// A type as its plugin names it: a `required_plugins` entry of a
    /// plugin xtask knows may name its types otherwise (`aws-ebs` of
    /// `aws = { source = "github.com/hashicorp/amazon" }` is an
    /// `amazon-ebs`); any other type as it is.
    pub fn plugin_type<'k>(&self, kind: &'k str) -> std::borrow::Cow<'k, str> {
        let knowledge = crate::schema::knowledge();
        for block in self.packer_blocks() {
            for required in block.body.blocks("required_plugins") {
                for attr in &required.body.attrs {
                    if let Value::Object(settings) = &attr.value
                        && let Some(Attr { value: Value::String(source), .. }) =
                            settings.iter().find(|setting| setting.key == "source")
                        && let Some(canonical) = knowledge.plugin_type_name(&attr.key, source, kind)
                    {
                        return std::borrow::Cow::Owned(canonical);
                    }
                }
            }
        }
        std::borrow::Cow::Borrowed(kind)
    }

    /// Is a builder, provisioner or post-processor type provided by a
    /// plugin the template requires? A plugin `proxmox` provides
    /// `proxmox` and `proxmox-*` (`proxmox-iso`), `amazon` `amazon-ebs`.
    pub fn from_required_plugin(&self, kind: &str) -> bool {
        self.required_plugins()
            .iter()
            .any(|plugin| kind == *plugin || kind.strip_prefix(plugin).is_some_and(|rest| rest.starts_with('-')))
    }

    /// Calls `visit` with every literal string of every file, var files
    /// included, and the key it is the value of (or is in).
    pub fn for_each_string<'a>(&'a self, mut visit: impl FnMut(&'a str, &'a At, &'a str)) {
        fn walk_value<'a>(key: &'a str, at: &'a At, value: &'a Value, visit: &mut dyn FnMut(&'a str, &'a At, &'a str)) {
            match value {
                Value::String(text) => visit(key, at, text),
                Value::List(items) => items.iter().for_each(|item| walk_value(key, &item.at, &item.value, visit)),
                Value::Object(attrs) => {
                    attrs.iter().for_each(|attr| walk_value(&attr.key, &attr.at, &attr.value, visit))
                }
                _ => {}
            }
        }
        fn walk_body<'a>(body: &'a Body, visit: &mut dyn FnMut(&'a str, &'a At, &'a str)) {
            for attr in &body.attrs {
                walk_value(&attr.key, &attr.at, &attr.value, visit);
            }
            for block in &body.blocks {
                walk_body(&block.body, visit);
            }
        }
        for file in &self.files {
            walk_body(&file.body, &mut visit);
        }
    }
}

/// The names of the files of a template folder that Packer reads
/// (`*.pkr.hcl`, `*.pkrvars.hcl`), sorted, as Packer reads them.
pub fn file_names(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| FileKind::of(name).is_some())
        .collect();
    names.sort();
    Ok(names)
}

/// The files of a folder Packer reads that are written in HCL's JSON
/// syntax (`*.pkr.json`, `*.auto.pkrvars.json`), which xtask does not
/// read: their names, sorted.
pub fn json_syntax_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| is_json_syntax_file(name))
        .collect();
    names.sort();
    names
}

/// Does a folder hold HCL2 template files (`*.pkr.hcl`, `*.pkr.json`),
/// not only var files (or nothing of Packer's)?
pub fn holds_template_files(dir: &Path) -> bool {
    let names = file_names(dir).unwrap_or_default();
    names.iter().any(|name| FileKind::of(name) == Some(FileKind::Template))
        || json_syntax_files(dir).iter().any(|name| name.ends_with(".pkr.json"))
}

/// `x.pkr.json` or `x.auto.pkrvars.json`.
pub fn is_json_syntax_file(name: &str) -> bool {
    name.ends_with(".pkr.json") || name.ends_with(".auto.pkrvars.json")
}

/// The text of a value for messages: literals as written.
pub fn expression_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(value) => value.to_string(),
        Value::Number(text) | Value::String(text) | Value::Expr(text) => text.clone(),
        Value::List(_) => "[…]".to_owned(),
        Value::Object(_) => "{…}".to_owned(),
    }
}

/// An HCL identifier: a letter or `_`, then letters, digits, `_` and `-`.
pub fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of these files, as [`Hcl2Template::read`] reads one.
    pub(super) fn template(files: &[(&str, &str)]) -> Hcl2Template {
        Hcl2Template {
            files: files
                .iter()
                .enumerate()
                .map(|(index, (name, text))| parse_file(index, name, (*text).to_owned()).unwrap())
                .collect(),
            ..Hcl2Template::default()
        }
    }

    #[test]
    fn a_variables_block_declares_each_of_its_entries() {
        let mut template = template(&[(
            "a.pkr.hcl",
            "variables {\n  where = \"eu-west-1\"\n}\nvariable \"other\" {\n  type = string\n}\n\
             source \"amazon-ebs\" \"x\" {\n  region = var.where\n}\nbuild {\n  sources = [\"source.amazon-ebs.x\"]\n}\n",
        )]);
        let names: Vec<&str> = template.variables().iter().map(|variable| variable.name).collect();
        assert_eq!(names, ["other", "where"]);
        let plural = template.variable("where").unwrap();
        assert!(plural.block.is_none() && plural.type_expr().is_none() && !plural.sensitive());
        assert_eq!(template.region_sources()[0].region, "eu-west-1");
        template.given.insert("where".to_owned(), Given::Arg("us-east-1".to_owned()));
        assert_eq!(template.region_sources()[0].region, "us-east-1");
    }

    #[test]
    fn heredocs_without_interpolations_are_strings() {
        let template = template(&[(
            "a.pkr.hcl",
            "variable \"a\" {\n  default = <<EOT\nline one\n  line two\nEOT\n}\n\
             variable \"b\" {\n  default = <<-EOT\n    first\n      second\n    EOT\n}\n\
             variable \"c\" {\n  default = <<EOT\n${var.a}\nEOT\n}\n",
        )]);
        let default = |name: &str| template.variable(name).unwrap().default().unwrap().value.clone();
        assert_eq!(default("a"), Value::String("line one\n  line two\n".to_owned()));
        assert_eq!(default("b"), Value::String("first\n  second\n".to_owned()));
        assert!(matches!(default("c"), Value::Expr(_)));
    }

    #[test]
    fn values_given_for_a_run_come_before_var_files_and_defaults() {
        let mut template = template(&[
            (
                "a.pkr.hcl",
                "variable \"region\" {\n  default = \"eu-west-1\"\n}\nvariable \"dir\" {}\n\
                 source \"amazon-ebs\" \"x\" {\n  region = var.region\n}\n\
                 build {\n  sources = [\"source.amazon-ebs.x\"]\n  provisioner \"shell\" {\n    \
                 scripts = [\"${path.root}/a.sh\", \"${var.dir}/b.sh\"]\n  }\n}\n",
            ),
            ("b.auto.pkrvars.hcl", "region = \"us-east-1\"\n"),
        ]);
        assert_eq!(template.region_sources()[0].region, "us-east-1");
        assert!(!template.region_sources()[0].from_run, "an auto var file is the template's own");
        template.given.insert("region".to_owned(), Given::Arg("eu-central-1".to_owned()));
        assert_eq!(template.region_sources()[0].region, "eu-central-1");
        assert!(template.region_sources()[0].from_run);
        let files: Vec<String> = template.referenced_files().into_iter().map(|(_, path)| path).collect();
        assert_eq!(files, ["a.sh"]);
        let opaque: Vec<String> = template.opaque_uploads().into_iter().map(|(_, path)| path).collect();
        assert_eq!(opaque, ["\"${var.dir}/b.sh\""]);
    }

    /// A template whose one source takes `ami_regions` from `var.copies`.
    fn copies_template(declaration: &str, auto: Option<&str>) -> Hcl2Template {
        let main = format!(
            "variable \"copies\" {{\n{declaration}\n}}\nsource \"amazon-ebs\" \"x\" {{\n  region = \"eu-west-1\"\n  \
             ami_regions = var.copies\n}}\nbuild {{\n  sources = [\"source.amazon-ebs.x\"]\n}}\n"
        );
        let mut files = vec![("a.pkr.hcl", main.as_str())];
        files.extend(auto.map(|text| ("b.auto.pkrvars.hcl", text)));
        template(&files)
    }

    fn copies_of(template: &Hcl2Template) -> (Vec<String>, Vec<String>, Vec<String>) {
        let regions = &template.region_sources()[0];
        (regions.copies.clone(), regions.unresolved.clone(), regions.refused.clone())
    }

    #[test]
    fn var_file_lists_are_read_as_hcl_reads_them() {
        let auto = "copies = [\n  \"us-east-1\", # Virginia\n  /* and */ \"us-west-2\",\n]\n";
        let template = copies_template("  type = list(string)", Some(auto));
        assert_eq!(copies_of(&template).0, ["us-east-1", "us-west-2"]);
        // A heredoc is a string with its line end, which is no region.
        let template = copies_template("  type = list(string)", Some("copies = [<<EOT\nus-east-1\nEOT\n]\n"));
        assert_eq!(copies_of(&template).0, ["us-east-1\n"]);
        // A var file holds values only: Packer 1.6.6 refuses a function
        // call there ("Function calls not allowed").
        let template = copies_template("  type = list(string)", Some("copies = [\"a\", upper(\"b\")]\n"));
        let refused = copies_of(&template).2;
        assert!(refused[0].contains("upper() cannot be called here"), "{refused:?}");
        // What only the build knows is unknown, never a wrong literal.
        let template = copies_template("  type = list(string)", None);
        assert_eq!(copies_of(&template).1, ["var.copies"]);
    }

    #[test]
    fn values_are_taken_by_the_variables_type() {
        let list = "[\"us-east-1\", \"us-west-2\",]";
        let given = |declaration: &str, value: Given| {
            let mut template = copies_template(declaration, None);
            template.given.insert("copies".to_owned(), value);
            copies_of(&template)
        };
        // A list type reads `-var` text as an expression, trailing comma and all.
        let typed = given("  type = list(string)", Given::Arg(list.to_owned()));
        assert_eq!(typed.0, ["us-east-1", "us-west-2"]);
        // Untyped and without a default, `-var` text is a string, which
        // `ami_regions` refuses in HCL2.
        assert_eq!(given("", Given::Arg(list.to_owned())).2.len(), 1);
        // An untyped default's tuple takes a list of its own length only.
        let two = Value::List(
            ["a-b-1", "a-b-2"]
                .iter()
                .map(|r| Item { at: At { file: 0, bytes: 0..0 }, value: Value::String((*r).to_owned()) })
                .collect(),
        );
        let file = |value: &Value| Given::File { value: value.clone(), text: String::new() };
        assert_eq!(given("  default = [\"us-east-1\", \"eu-west-2\"]", file(&two)).0, ["a-b-1", "a-b-2"]);
        let refused = given("  default = [\"us-east-1\"]", file(&two)).2;
        assert!(refused[0].contains("not of its type (tuple([string]), its default's)"), "{refused:?}");
        // A string for a list type is refused by Packer, and here.
        let text = file(&Value::String("us-east-1".to_owned()));
        let refused = given("  type = list(string)", text).2;
        assert!(refused[0].contains("for var.copies is not of its type (list(string))"), "{refused:?}");
        // `any`, and an untyped `null` default, read `-var` text as a
        // string (Packer 1.8+): a string, which `ami_regions` refuses.
        for declaration in ["  type = any", "  default = null"] {
            let refused = given(declaration, Given::Arg(list.to_owned())).2;
            assert!(refused[0].contains("sets `ami_regions` to the string"), "{declaration}: {refused:?}");
        }
    }

    #[test]
    fn env_defaults_and_pkr_var_values_are_the_runs() {
        let template = template(&[(
            "a.pkr.hcl",
            "variable \"region\" {\n  default = env(\"XTASK_TEST_UNSET_REGION\")\n}\n\
             source \"amazon-ebs\" \"x\" {\n  region = var.region\n}\nbuild {\n  sources = [\"source.amazon-ebs.x\"]\n}\n",
        )]);
        let regions = &template.region_sources()[0];
        assert_eq!(regions.region, "", "an unset variable reads as empty, so the environment decides");
        assert!(regions.from_run);
    }

    #[test]
    fn null_is_as_if_the_setting_were_not_written() {
        let unset = copies_template("  type    = list(string)\n  default = null", None);
        assert_eq!(copies_of(&unset), (Vec::new(), Vec::new(), Vec::new()));
        let template = template(&[(
            "a.pkr.hcl",
            "variable \"r\" {\n  type    = string\n  default = null\n}\n\
             source \"amazon-ebs\" \"x\" {\n  region = var.r\n}\nbuild {\n  sources = [\"source.amazon-ebs.x\"]\n}\n",
        )]);
        let regions = &template.region_sources()[0];
        assert!(regions.region.is_empty() && regions.unresolved.is_empty(), "{regions:?}");
    }

    #[test]
    fn regions_and_names_go_through_the_evaluator() {
        let template = template(&[
            (
                "a.pkr.hcl",
                "variable \"env\" {\n  type = string\n}\nvariable \"extra\" {\n  type = list(string)\n  default = []\n}\n\
                 locals {\n  region = var.env == \"prod\" ? \"eu-west-1\" : \"eu-central-1\"\n  \
                 copies = concat([for r in [\"us-east-1\"] : r], var.extra)\n  name = \"base-${upper(var.env)}\"\n}\n\
                 source \"amazon-ebs\" \"x\" {\n  region = local.region\n  ami_regions = local.copies\n  ami_name = local.name\n}\n\
                 build {\n  sources = [\"source.amazon-ebs.x\"]\n}\n",
            ),
            ("b.auto.pkrvars.hcl", "env = \"prod\"\nextra = [\"ap-south-1\"]\n"),
        ]);
        let regions = &template.region_sources()[0];
        assert_eq!(
            (regions.region.as_str(), regions.copies.as_slice()),
            ("eu-west-1", ["us-east-1", "ap-south-1"].map(String::from).as_slice())
        );
        assert!(!regions.from_run, "the auto var file is the folder's own");
        let name = template.sources()[0].block.body.attr("ami_name").unwrap();
        assert_eq!(template.known_string(&name.value).as_deref(), Some("base-PROD"));
        assert_eq!(template.known_string(&Value::Expr("timestamp()".to_owned())), None);
    }

    #[test]
    fn sources_builds_and_regions() {
        let template = template(&[
            (
                "variables.pkr.hcl",
                r#"variable "region" {
                     type    = string
                     default = "eu-west-1"
                   }
                   locals { copy = "eu-north-1" }"#,
            ),
            (
                "sources.pkr.hcl",
                r#"source "amazon-ebs" "frankfurt" {
                     region      = "eu-central-1"
                     ami_regions = [var.region, local.copy, "eu-central-1"]
                   }
                   source "amazon-ebs" "ireland" { region = var.region }
                   build {
                     sources = ["source.amazon-ebs.frankfurt"]
                     source "source.amazon-ebs.ireland" { name = "x" }
                     provisioner "shell" { scripts = ["./scripts/a.sh", "${path.root}/b.sh", var.region] }
                     provisioner "file" {
                       source      = "${path.root}/files/c"
                       destination = "/c"
                     }
                   }"#,
            ),
        ]);
        let regions = template.region_sources();
        assert_eq!(regions[0].address, "amazon-ebs.frankfurt");
        assert_eq!(
            (regions[0].region.as_str(), regions[0].copies.as_slice()),
            ("eu-central-1", ["eu-west-1".to_owned(), "eu-north-1".to_owned(), "eu-central-1".to_owned()].as_slice())
        );
        assert_eq!(regions[1].region, "eu-west-1");
        let build = &template.builds()[0];
        let sources: Vec<&str> = build.sources().iter().map(|source| source.address).collect();
        assert_eq!(sources, ["amazon-ebs.frankfurt", "amazon-ebs.ireland"]);
        assert!(template.variable("region").unwrap().type_expr().is_some());
        let files: Vec<String> = template.referenced_files().into_iter().map(|(_, path)| path).collect();
        // `var.region` is a path too, as far as it is known.
        assert_eq!(files, ["scripts/a.sh", "b.sh", "eu-west-1", "files/c"]);
        assert_eq!(template.inputs()[..2], ["variables.pkr.hcl".to_owned(), "sources.pkr.hcl".to_owned()]);
    }

    #[test]
    fn references_calls_and_scopes() {
        let template = template(&[(
            "a.pkr.hcl",
            r#"locals {
                 names = [for s in var.list : upper(s.name)]
                 size  = t2.micro
                 stamp = "${formatdate("YYYY", timestamp())}-${data.amazon-ami.base.id}"
               }"#,
        )]);
        let refs: Vec<(&str, bool, bool)> =
            template.references().map(|r| (r.root.as_str(), r.bound, r.whole_value)).collect();
        assert_eq!(refs, [("var", false, false), ("s", true, false), ("t2", false, true), ("data", false, false)]);
        let data = template.references().find(|r| r.root == "data").unwrap();
        assert_eq!(data.attrs, ["amazon-ami", "base", "id"]);
        let calls: Vec<&str> = template.calls().map(|call| call.name.as_str()).collect();
        assert_eq!(calls, ["upper", "formatdate", "timestamp"]);
    }
}
