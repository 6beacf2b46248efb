//! The Packer template model: a JSON template read and parsed as Packer
//! would (what stops it said in terms the linter reports), and the views
//! of it that the linter and the image builder need (builders,
//! provisioners, post-processors, variables, referenced files, every
//! string with its route).

use std::ops::Range;

use serde_json::{Map, Value};

use crate::fsutil::{self, Unreadable};
use crate::gotmpl;
use crate::location::{self, Location, Route, Step};
use crate::project::TemplateFile;

/// Templates larger than this are not read: real ones are a few KiB.
pub const MAX_TEMPLATE_BYTES: u64 = 8 * 1024 * 1024;

/// A template whose JSON parsed and whose top level is an object.
pub struct Template {
    pub root: Map<String, Value>,
}

/// A template's text after the checks that come before parsing, or the
/// problem that stops it there.
pub enum Loaded {
    Text(String),
    Failed { source: String, problem: ReadProblem },
}

/// Why a file is not a template Packer would read: where, what, and what to
/// do. The template linter reports it as the rule of its kind.
pub struct ReadProblem {
    pub kind: ReadProblemKind,
    pub location: Location,
    pub message: String,
    pub help: Option<String>,
}

/// What stops a template being read, by the rule that reports it.
pub enum ReadProblemKind {
    /// `unreadable-file`: the file cannot be read.
    UnreadableFile,
    /// `invalid-json`: its text is not UTF-8, or not JSON.
    InvalidJson,
    /// `not-an-object`: its JSON is not an object.
    NotAnObject,
}

impl ReadProblem {
    fn new(kind: ReadProblemKind, location: Location, message: impl Into<String>) -> ReadProblem {
        ReadProblem { kind, location, message: message.into(), help: None }
    }

    fn help(mut self, help: impl Into<String>) -> ReadProblem {
        self.help = Some(help.into());
        self
    }
}

/// Reads a template the way Packer would, saying what stops it.
pub fn load(file: &TemplateFile) -> Loaded {
    use ReadProblemKind::{InvalidJson, UnreadableFile};
    let failed = |problem| Loaded::Failed { source: String::new(), problem };
    if let Some(reason) = &file.walk_error {
        return failed(ReadProblem::new(UnreadableFile, Location::File, format!("cannot read the template: {reason}")));
    }
    let bytes = match fsutil::read_regular(&file.path, MAX_TEMPLATE_BYTES) {
        Ok(bytes) => bytes,
        Err(Unreadable::Folder) => {
            return failed(
                ReadProblem::new(UnreadableFile, Location::File, "this is a folder, not a template file")
                    .help("template.json must be a JSON file; rename or remove the folder"),
            );
        }
        Err(Unreadable::TooLarge { bytes, .. }) => {
            return failed(
                ReadProblem::new(
                    UnreadableFile,
                    Location::File,
                    format!("the file is {:.1} MiB; templates over 8 MiB are not read", fsutil::mib(bytes)),
                )
                .help("a Packer template is a few KiB: check that this is the file you meant"),
            );
        }
        Err(problem) => {
            return failed(
                ReadProblem::new(UnreadableFile, Location::File, format!("cannot read the template: {problem}"))
                    .help("make it a regular, readable file"),
            );
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Loaded::Text(text),
        Err(error) => {
            let at = error.utf8_error().valid_up_to();
            let problem = ReadProblem::new(
                InvalidJson,
                Location::Offset(at),
                format!("the file is not UTF-8 (invalid byte at offset {at})"),
            )
            .help("save the template as UTF-8");
            Loaded::Failed { source: String::from_utf8_lossy(error.as_bytes()).into_owned(), problem }
        }
    }
}

/// Parses template text, saying why it is not a template object.
pub fn parse(source: &str) -> Result<Template, ReadProblem> {
    use ReadProblemKind::{InvalidJson, NotAnObject};
    if source.starts_with('\u{feff}') {
        return Err(ReadProblem::new(
            InvalidJson,
            Location::Offset(0),
            "the file starts with a UTF-8 byte order mark, which Packer rejects",
        )
        .help("save the file as UTF-8 without a byte order mark"));
    }
    if source.trim().is_empty() {
        return Err(ReadProblem::new(InvalidJson, Location::File, "the file is empty")
            .help("a template is a JSON object with at least a `builders` list"));
    }
    let value: Value = match serde_json::from_str(source) {
        Ok(value) => value,
        Err(error) => {
            let offset = location::offset_of(source, error.line(), error.column());
            let message = error.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            let problem = ReadProblem::new(InvalidJson, Location::Offset(offset), format!("invalid JSON: {message}"));
            return Err(if message.contains("recursion limit") {
                problem.help("nesting this deep is not a template; check how the file was generated")
            } else if message.contains("trailing comma") {
                problem.help("remove the comma before the closing bracket")
            } else {
                problem.help("correct the JSON here; `packer validate` reports the same error without its place")
            });
        }
    };
    match value {
        Value::Object(root) => Ok(Template { root }),
        other => {
            let kind = match other {
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            };
            Err(ReadProblem::new(
                NotAnObject,
                Location::value(Route::root()),
                format!("the template is {kind}, not a JSON object"),
            )
            .help("a template is an object such as { \"builders\": [ … ] }"))
        }
    }
}

/// One step of a borrowed path into the template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathStep<'a> {
    Key(&'a str),
    Index(usize),
}

/// The owned route of a borrowed path.
pub fn route_of(path: &[PathStep]) -> Route {
    Route::from_steps(
        path.iter()
            .map(|step| match step {
                PathStep::Key(key) => Step::Key((*key).to_owned()),
                PathStep::Index(i) => Step::Index(*i),
            })
            .collect(),
    )
}

/// A builder, provisioner or post-processor block.
pub struct Block<'a> {
    pub route: Route,
    pub body: &'a Map<String, Value>,
}

impl<'a> Block<'a> {
    pub fn kind(&self) -> Option<&'a str> {
        self.body.get("type").and_then(Value::as_str)
    }

    pub fn str(&self, key: &str) -> Option<&'a str> {
        self.body.get(key).and_then(Value::as_str)
    }

    /// A builder's name: its `name`, or its type when it has none.
    pub fn builder_name(&self) -> Option<&'a str> {
        self.str("name").or_else(|| self.kind())
    }

    /// The route of one of the block's keys.
    pub fn at(&self, key: &str) -> Route {
        self.route.key(key)
    }

    /// Strings of a key that takes one string or a list of strings.
    pub fn strings(&self, key: &str) -> Vec<(Route, &'a str)> {
        match self.body.get(key) {
            Some(Value::String(text)) => vec![(self.at(key), text.as_str())],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| item.as_str().map(|text| (self.at(key).index(i), text)))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Every string of a template (keys excluded) with its path and its
/// `{{ … }}` actions, found in one walk. The rules that read strings share
/// it: walking the template and scanning each string once per rule was most
/// of the cost of linting a clean template.
pub struct Strings<'a> {
    /// The paths of all strings, one after the other.
    steps: Vec<PathStep<'a>>,
    entries: Vec<StringEntry<'a>>,
}

struct StringEntry<'a> {
    /// The string's path, in `steps`.
    path: Range<usize>,
    text: &'a str,
    scan: gotmpl::Scan<'a>,
}

/// One string of a template: see [`Strings`].
pub struct TemplateString<'s, 'a> {
    /// The path to the string. It is borrowed: turn it into a [`Route`]
    /// with [`route_of`] only when reporting, which keeps clean templates
    /// cheap.
    pub path: &'s [PathStep<'a>],
    pub text: &'a str,
    pub scan: &'s gotmpl::Scan<'a>,
}

impl<'a> Strings<'a> {
    pub fn new(template: &'a Template) -> Strings<'a> {
        let mut strings = Strings { steps: Vec::new(), entries: Vec::new() };
        let mut path = Vec::with_capacity(8);
        for (key, value) in &template.root {
            path.push(PathStep::Key(key.as_str()));
            strings.walk(value, &mut path);
            path.pop();
        }
        strings
    }

    fn walk(&mut self, value: &'a Value, path: &mut Vec<PathStep<'a>>) {
        match value {
            Value::String(text) => {
                let start = self.steps.len();
                self.steps.extend_from_slice(path);
                self.entries.push(StringEntry { path: start..self.steps.len(), text, scan: gotmpl::Scan::new(text) });
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(PathStep::Index(i));
                    self.walk(item, path);
                    path.pop();
                }
            }
            Value::Object(members) => {
                for (key, item) in members {
                    path.push(PathStep::Key(key));
                    self.walk(item, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// The strings in the template's order.
    pub fn iter(&self) -> impl Iterator<Item = TemplateString<'_, 'a>> {
        self.entries.iter().map(|entry| TemplateString {
            path: &self.steps[entry.path.clone()],
            text: entry.text,
            scan: &entry.scan,
        })
    }
}

/// A template's builders, provisioners and post-processors, found once for
/// every rule that reads them (each block's route is an allocation or two).
pub struct Blocks<'a> {
    pub builders: Vec<Block<'a>>,
    pub provisioners: Vec<Block<'a>>,
    /// The provisioner Packer runs when a build fails.
    pub error_cleanup_provisioner: Option<Block<'a>>,
    /// Sequences flattened, one-word shorthands included.
    pub post_processors: Vec<PostProcessor<'a>>,
}

impl<'a> Blocks<'a> {
    pub fn new(template: &'a Template) -> Blocks<'a> {
        Blocks {
            builders: template.builders(),
            provisioners: template.provisioners(),
            error_cleanup_provisioner: match template.root.get("error-cleanup-provisioner") {
                Some(Value::Object(body)) => {
                    Some(Block { route: Route::root().key("error-cleanup-provisioner"), body })
                }
                _ => None,
            },
            post_processors: template.post_processors(),
        }
    }

    /// The post-processors written as blocks.
    pub fn post_processor_blocks(&self) -> impl Iterator<Item = &Block<'a>> {
        self.post_processors.iter().filter_map(|entry| match entry {
            PostProcessor::Block(block) => Some(block),
            PostProcessor::Name { .. } => None,
        })
    }
}

/// A post-processor entry: a block or the one-word shorthand (`"compress"`).
pub enum PostProcessor<'a> {
    Block(Block<'a>),
    Name { route: Route, name: &'a str },
}

impl Template {
    pub fn variables(&self) -> Option<&Map<String, Value>> {
        self.root.get("variables").and_then(Value::as_object)
    }

    pub fn declares(&self, variable: &str) -> bool {
        self.variables().is_some_and(|vars| vars.contains_key(variable))
    }

    /// The default of a declared variable when it is a string.
    pub fn variable_default(&self, variable: &str) -> Option<&str> {
        self.variables()?.get(variable)?.as_str()
    }

    fn blocks(&self, section: &str) -> Vec<Block<'_>> {
        let Some(Value::Array(items)) = self.root.get(section) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let route = || Route::from_steps(vec![Step::Key(section.to_owned()), Step::Index(i)]);
                item.as_object().map(|body| Block { route: route(), body })
            })
            .collect()
    }

    pub fn builders(&self) -> Vec<Block<'_>> {
        self.blocks("builders")
    }

    pub fn provisioners(&self) -> Vec<Block<'_>> {
        self.blocks("provisioners")
    }

    /// Post-processors, with sequences (nested lists) flattened.
    pub fn post_processors(&self) -> Vec<PostProcessor<'_>> {
        let mut out = Vec::new();
        let Some(Value::Array(items)) = self.root.get("post-processors") else {
            return out;
        };
        let top = Route::root().key("post-processors");
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::Array(sequence) => {
                    for (j, inner) in sequence.iter().enumerate() {
                        push_post_processor(&mut out, top.index(i).index(j), inner);
                    }
                }
                other => push_post_processor(&mut out, top.index(i), other),
            }
        }
        out
    }

    /// Post-processor blocks only.
    pub fn post_processor_blocks(&self) -> Vec<Block<'_>> {
        self.post_processors()
            .into_iter()
            .filter_map(|entry| match entry {
                PostProcessor::Block(block) => Some(block),
                PostProcessor::Name { .. } => None,
            })
            .collect()
    }

    /// Names of the variables listed in `sensitive-variables`.
    pub fn sensitive_variables(&self) -> Vec<(Route, &str)> {
        let Some(Value::Array(items)) = self.root.get("sensitive-variables") else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| item.as_str().map(|name| (Route::root().key("sensitive-variables").index(i), name)))
            .collect()
    }

    /// Does this string, with user variables replaced by their defaults,
    /// call one of `functions`? `None` when it depends on a variable with
    /// no default, whose value only the build knows.
    pub fn resolves_to_call(&self, text: &str, functions: &[&str]) -> Option<bool> {
        self.resolves_to_call_within(text, functions, 8)
    }

    fn resolves_to_call_within(&self, text: &str, functions: &[&str], depth: usize) -> Option<bool> {
        if gotmpl::calls_any(text, functions) {
            return Some(true);
        }
        if depth == 0 {
            return None;
        }
        let mut known = true;
        for (_, variable) in gotmpl::calls_to(text, "user") {
            match self.variable_default(&variable) {
                Some("") | None => known = false,
                Some(default) => match self.resolves_to_call_within(default, functions, depth - 1) {
                    Some(true) => return Some(true),
                    Some(false) => {}
                    None => known = false,
                },
            }
        }
        known.then_some(false)
    }

    /// The files a build of this template reads, relative to its folder:
    /// `template.json` and every file it references, each once. Their
    /// hash is what the lock file records.
    pub fn inputs(&self) -> Vec<String> {
        let mut inputs = vec!["template.json".to_owned()];
        // A builder's user data is part of the image too.
        let user_data = self
            .builders()
            .into_iter()
            .filter_map(|builder| builder.str("user_data_file").map(without_template_dir))
            .filter(|path| !gotmpl::is_templated(path) && !path.is_empty())
            .map(|path| (Route::root(), path))
            .collect::<Vec<_>>();
        for (_, path) in self.referenced_files().into_iter().chain(user_data) {
            if !inputs.contains(&path) {
                inputs.push(path);
            }
        }
        inputs
    }

    /// Local files the build reads: provisioner scripts and file sources,
    /// shell-local scripts, relative to the template's folder, with
    /// `{{template_dir}}` (the folder itself) resolved. Paths that stay
    /// templated are left out: see [`Template::opaque_uploads`].
    pub fn referenced_files(&self) -> Vec<(Route, String)> {
        self.upload_paths()
            .into_iter()
            .map(|(route, path)| (route, without_template_dir(path)))
            .filter(|(_, path)| !gotmpl::is_templated(path) && !path.is_empty())
            .collect()
    }

    /// Upload paths that only the build can know (`{{user `script`}}`):
    /// a change to what they name cannot be seen before building.
    pub fn opaque_uploads(&self) -> Vec<(Route, &str)> {
        let builders = self.builders();
        let user_data =
            builders.iter().filter_map(|builder| Some((builder.at("user_data_file"), builder.str("user_data_file")?)));
        self.upload_paths()
            .into_iter()
            .chain(user_data)
            .filter(|(_, path)| gotmpl::is_templated(&without_template_dir(path)))
            .collect()
    }

    fn upload_paths(&self) -> Vec<(Route, &str)> {
        let mut out = Vec::new();
        for block in self.provisioners().iter().chain(self.post_processor_blocks().iter()) {
            let downloads = block.str("direction") == Some("download");
            for key in crate::schema::upload_keys(block.kind().unwrap_or_default(), downloads) {
                out.extend(block.strings(key));
            }
        }
        out
    }
}

/// A path with `{{template_dir}}` (Packer's name for the template's folder,
/// where `images` runs Packer) taken out: `{{template_dir}}/scripts/a.sh`
/// is `scripts/a.sh`.
fn without_template_dir(path: &str) -> String {
    let mut rest = path.trim();
    for spelling in ["{{template_dir}}", "{{ template_dir }}", "{{template_dir }}", "{{ template_dir}}"] {
        if let Some(after) = rest.strip_prefix(spelling) {
            rest = after.trim_start_matches('/');
            if rest.is_empty() {
                return ".".to_owned();
            }
            break;
        }
    }
    rest.strip_prefix("./").unwrap_or(rest).to_owned()
}

fn push_post_processor<'a>(out: &mut Vec<PostProcessor<'a>>, route: Route, value: &'a Value) {
    match value {
        Value::Object(body) => out.push(PostProcessor::Block(Block { route, body })),
        Value::String(name) => out.push(PostProcessor::Name { route, name }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(json: &str) -> Template {
        let Value::Object(root) = serde_json::from_str(json).unwrap() else { panic!("not an object") };
        Template { root }
    }

    #[test]
    fn inputs_name_each_file_once() {
        let template = template(
            r#"{"provisioners": [
                {"type": "shell", "scripts": ["a.sh", "b.sh"]},
                {"type": "shell", "script": "a.sh"},
                {"type": "file", "source": "{{template_dir}}/c", "destination": "/c"},
                {"type": "file", "source": "/log", "destination": "log", "direction": "download"},
                {"type": "shell", "script": "{{user `script`}}"}
            ]}"#,
        );
        // `{{template_dir}}` is the template's folder; `{{user …}}` only the build knows.
        assert_eq!(template.inputs(), vec!["template.json", "a.sh", "b.sh", "c"]);
        assert_eq!(template.opaque_uploads().len(), 1);
    }
}
