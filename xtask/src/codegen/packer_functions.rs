//! Writes `xtask/src/schema/function_table.rs`: every function Packer's HCL2
//! templates can call, the release range that has it, and its signature.
//!
//! Packer's `hcl2template/functions.go` at each release tag from v1.6.6 to
//! the newest names the functions and the Go value behind each
//! (`stdlib.UpperFunc`, `filesystem.MakeFileFunc(basedir, false)`); its
//! `types.packer_config.go` adds `env` for variable defaults. The
//! signature is read from the `function.New(&function.Spec{ … })` that
//! defines the value, in the repository and version Packer's `go.mod`
//! names at the newest tag with the function: go-cty (`stdlib`, MIT;
//! Packer replaces it by a fork of the same version from 1.10), go-cty-funcs
//! and HCL's `ext` packages (MPL-2.0), go-cty-yaml (Apache-2.0), and
//! Packer's own `hcl2template/function` (MPL-2.0 to 1.9, BUSL-1.1 from
//! 1.10). Only facts are taken: names, versions, parameter names and types.
//!
//! The repositories are git mirrors in one folder ([`super::mirror`]), the
//! same as the knowledge of Packer's versions is read from.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, Result, bail};

use super::mirror::{Repo, revision_of};
use crate::version::Version;

/// Where the generated table lives in the repository.
pub const TABLE_PATH: &str = "xtask/src/schema/function_table.rs";

/// The oldest release the table describes: the one Debian ships.
const OLDEST: Version = Version(1, 6, 6);

/// Functions whose value depends on more than their arguments, and on what.
const IMPURE: &[(&str, &str)] = &[
    ("timestamp", "Clock"),
    ("legacy_isotime", "Clock"),
    ("legacy_strftime", "Clock"),
    ("uuidv4", "Random"),
    ("bcrypt", "Random"),
    ("env", "Environment"),
    ("vault", "Remote"),
    ("consul_key", "Remote"),
    ("aws_secretsmanager", "Remote"),
    ("aws_secretsmanager_raw", "Remote"),
    ("file", "Filesystem"),
    ("filebase64", "Filesystem"),
    ("fileexists", "Filesystem"),
    ("fileset", "Filesystem"),
    ("templatefile", "Filesystem"),
    ("abspath", "Filesystem"),
    ("pathexpand", "Environment"),
];

/// A function as one release's `functions.go` names it.
#[derive(Clone)]
struct Entry {
    /// `stdlib.UpperFunc`, `filesystem.MakeFileFunc`, `TextEncodeBase64Func`.
    go_value: String,
}

/// One parameter of a signature.
struct Param {
    name: String,
    ty: String,
    allow_null: bool,
    allow_unknown: bool,
}

struct Signature {
    params: Vec<Param>,
    variadic: Option<Param>,
    returns: String,
    /// Where the signature was read: repository, version and package.
    source: String,
}

impl Signature {
    /// The Rust fields of the signature but its source: equal for equal
    /// signatures.
    fn shape(&self) -> String {
        let param = |param: &Param| {
            format!(
                "Param {{ name: {:?}, ty: {:?}, allow_null: {}, allow_unknown: {} }}",
                param.name, param.ty, param.allow_null, param.allow_unknown
            )
        };
        let params: Vec<String> = self.params.iter().map(param).collect();
        format!(
            "params: &[{}], variadic: {}, returns: {:?},",
            params.join(", "),
            self.variadic.as_ref().map_or("None".to_owned(), |p| format!("Some({})", param(p))),
            self.returns
        )
    }
}

/// The generated Rust source, from the mirrors in `mirrors`.
pub fn generate(mirrors: &Path) -> Result<String> {
    let packer = Repo::open(mirrors, "hashicorp+packer")?;
    // Each release with its tag as written (`v1.6.6`), which the table's
    // sources name.
    let tags: Vec<(Version, String)> = packer
        .releases()?
        .into_iter()
        .filter(|(version, _)| *version >= OLDEST)
        .map(|(version, _)| (version, format!("v{version}")))
        .collect();
    let Some((newest, _)) = tags.last().cloned() else {
        bail!("{} has no release tag from v1.6.6 on", packer.dir().display())
    };
    // name -> each release that has it, with its tag and entry there
    let mut seen: BTreeMap<String, Vec<(Version, String, Entry)>> = BTreeMap::new();
    for (version, tag) in &tags {
        let mut entries = function_map(&packer.show(tag, "hcl2template/functions.go")?);
        let config = packer.show(tag, "hcl2template/types.packer_config.go")?;
        if let Some(env) = function_map(&config).remove("env") {
            entries.insert("env".to_owned(), env);
        }
        for (name, entry) in entries {
            seen.entry(name).or_default().push((*version, tag.clone(), entry));
        }
    }
    let repos = Repos {
        packer,
        cty: Repo::open(mirrors, "zclconf+go-cty")?,
        cty_funcs: Repo::open(mirrors, "hashicorp+go-cty-funcs")?,
        hcl: Repo::open(mirrors, "hashicorp+hcl")?,
        cty_yaml: Repo::open(mirrors, "zclconf+go-cty-yaml")?,
        packages: RefCell::new(HashMap::new()),
    };
    let mut out = String::new();
    writeln!(
        out,
        "// Generated by `cargo xtask codegen --packer-mirrors <dir>` from Packer's release tags\n\
         // v1.6.6 to v{newest}: do not edit. Facts only (names, releases, parameter types), read\n\
         // from hcl2template/functions.go and the Go packages it names; see codegen/packer_functions.rs.\n\
         // One function a line; `mod function_table` is left out of rustfmt.\n\n\
         use super::functions::{{Function, Param, Purity, Signature}};\n\
         use crate::version::Version;\n\n\
         /// Every function of Packer's HCL2 templates, by name.\n\
         pub const FUNCTIONS: &[Function] = &["
    )?;
    let version = |v: Version| format!("Version({}, {}, {})", v.0, v.1, v.2);
    for (name, releases) in &seen {
        // The signature each release declares, a new entry where it changes.
        let mut signatures: Vec<(Version, String)> = Vec::new();
        for (release, tag, entry) in releases {
            let signature = repos
                .signature(tag, &entry.go_value)
                .with_context(|| format!("the signature of {name} ({}) at {tag}", entry.go_value))?;
            let shape = signature.shape();
            if signatures.last().is_none_or(|(_, last)| !last.starts_with(&shape)) {
                signatures.push((*release, format!("{shape} source: {:?} }}", signature.source)));
            }
        }
        let since = releases[0].0;
        // The first release after the last that has it, when it is gone.
        let last = releases.last().map_or(since, |(release, _, _)| *release);
        let until = tags.iter().map(|(v, _)| *v).find(|v| *v > last);
        let purity = IMPURE.iter().find(|(impure, _)| impure == name).map_or("Pure", |(_, purity)| purity);
        let signatures: Vec<String> =
            signatures.iter().map(|(from, text)| format!("Signature {{ from: {}, {text}", version(*from))).collect();
        writeln!(
            out,
            "    Function {{ name: {name:?}, since: {}, until: {}, purity: Purity::{purity}, signatures: &[{}] }},",
            version(since),
            until.map_or("None".to_owned(), |v| format!("Some({})", version(v))),
            signatures.join(", "),
        )?;
    }
    out.push_str("];\n\n/// The names of [`FUNCTIONS`].\npub const NAMES: &[&str] = &[\n");
    for name in seen.keys() {
        writeln!(out, "    {name:?},")?;
    }
    out.push_str("];\n");
    Ok(out)
}

/// `"name": pkg.Value,` entries of a `map[string]function.Function{ … }`
/// literal, and `funcs["name"] = pkg.Make…(…)` assignments.
fn function_map(go: &str) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    for line in go.lines() {
        let line = line.trim();
        let (name, value) = if let Some(rest) = line.strip_prefix("funcs[\"") {
            let Some((name, value)) = rest.split_once("\"] =") else { continue };
            (name, value)
        } else if let Some(rest) = line.strip_prefix('"') {
            let Some((name, value)) = rest.split_once("\":") else { continue };
            (name, value)
        } else {
            continue;
        };
        let go_value: String =
            value.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect();
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !go_value.is_empty()
        {
            out.insert(name.to_owned(), Entry { go_value });
        }
    }
    out
}

/// A package folder of a repository at a revision: git dir, revision, folder.
type PackageAt = (PathBuf, String, String);

struct Repos {
    packer: Repo,
    cty: Repo,
    cty_funcs: Repo,
    hcl: Repo,
    cty_yaml: Repo,
    /// The Go files of a package folder at a revision, read once.
    packages: RefCell<HashMap<PackageAt, Rc<Vec<String>>>>,
}

impl Repos {
    /// Finds the Go package of `go_value` as `functions.go` at `tag`
    /// imports it, and reads the signature there.
    fn signature(&self, tag: &str, go_value: &str) -> Result<Signature> {
        let functions = self.packer.show(tag, "hcl2template/functions.go")?;
        let go_mod = self.packer.show(tag, "go.mod")?;
        let (package, ident) = match go_value.split_once('.') {
            Some((package, ident)) => (Some(package), ident),
            None => (None, go_value),
        };
        let (repo, rev, dir, label) = match package {
            None => (&self.packer, tag.to_owned(), "hcl2template".to_owned(), format!("packer {tag}")),
            Some(package) => {
                let import = imports(&functions)
                    .remove(package)
                    .with_context(|| format!("functions.go at {tag} does not import {package}"))?;
                self.locate(&import, &go_mod, tag)?
            }
        };
        let key = (repo.dir().to_path_buf(), rev.clone(), dir.clone());
        let cached = self.packages.borrow().get(&key).cloned();
        let files = match cached {
            Some(files) => files,
            None => {
                let mut files = Vec::new();
                for path in repo.files(&rev, &dir)? {
                    if path.ends_with(".go") && !path.ends_with("_test.go") {
                        files.push(repo.show(&rev, &path)?);
                    }
                }
                let files = Rc::new(files);
                self.packages.borrow_mut().insert(key, files.clone());
                files
            }
        };
        let spec =
            find_spec(&files, ident, 4).with_context(|| format!("no function.Spec for {ident} in {dir} at {rev}"))?;
        let mut signature = parse_spec(&spec);
        signature.source = format!("{label} {dir}");
        Ok(signature)
    }

    /// The repository, revision and folder of an import path, at the
    /// version `go.mod` names.
    fn locate(&self, import: &str, go_mod: &str, tag: &str) -> Result<(&Repo, String, String, String)> {
        const PREFIXES: &[(&str, &str)] = &[
            ("github.com/hashicorp/packer/", "packer"),
            ("github.com/zclconf/go-cty-yaml", "go-cty-yaml"),
            ("github.com/zclconf/go-cty/", "go-cty"),
            ("github.com/hashicorp/go-cty-funcs/", "go-cty-funcs"),
            ("github.com/hashicorp/hcl/v2/", "hcl"),
        ];
        let Some((prefix, which)) = PREFIXES.iter().find(|(prefix, _)| import.starts_with(prefix)) else {
            bail!("functions.go at {tag} imports {import}, which the generator does not know");
        };
        let dir = import[prefix.len()..].trim_start_matches('/').to_owned();
        if *which == "packer" {
            return Ok((&self.packer, tag.to_owned(), dir, format!("packer {tag}")));
        }
        let module = match *which {
            "go-cty-yaml" => "github.com/zclconf/go-cty-yaml",
            "go-cty" => "github.com/zclconf/go-cty",
            "go-cty-funcs" => "github.com/hashicorp/go-cty-funcs",
            _ => "github.com/hashicorp/hcl/v2",
        };
        let version =
            required_version(go_mod, module).with_context(|| format!("go.mod at {tag} does not require {module}"))?;
        let repo = match *which {
            "go-cty-yaml" => &self.cty_yaml,
            "go-cty" => &self.cty,
            "go-cty-funcs" => &self.cty_funcs,
            _ => &self.hcl,
        };
        // A pseudo-version names a commit: `v0.0.0-20200930094925-2721b1e36840`.
        let rev = revision_of(&version);
        if repo.has(&rev) {
            Ok((repo, rev, dir, format!("{which} {version}")))
        } else {
            // The mirror lacks that commit: its newest, said so in the table.
            Ok((repo, "HEAD".to_owned(), dir, format!("{which} HEAD (go.mod: {version})")))
        }
    }
}

/// `alias -> import path` of a Go file's imports.
fn imports(go: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in go.lines() {
        let line = line.trim();
        let Some(start) = line.find('"') else { continue };
        let Some(path) = line[start + 1..].split('"').next() else { continue };
        if !path.contains('/') {
            continue;
        }
        let alias = line[..start].trim();
        let alias = if alias.is_empty() || alias == "import" {
            path.rsplit('/')
                .find(|part| !(part.starts_with('v') && part[1..].chars().all(|c| c.is_ascii_digit())))
                .unwrap_or(path)
        } else {
            alias.trim_start_matches("import").trim()
        };
        out.insert(alias.to_owned(), path.to_owned());
    }
    out
}

/// The version of `module` in a `go.mod`, after any `replace` of it.
fn required_version(go_mod: &str, module: &str) -> Option<String> {
    let mut found = None;
    for line in go_mod.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [name, version, ..] | ["require", name, version, ..] if *name == module && version.starts_with('v') => {
                found = Some((*version).to_owned())
            }
            ["replace", name, "=>", _, version, ..] | [name, "=>", _, version, ..] if *name == module => {
                found = Some((*version).to_owned())
            }
            _ => {}
        }
    }
    found
}

/// The text of the `function.Spec{ … }` literal that defines `ident`:
/// `X = function.New(&function.Spec{…})`, a `func X(…)` returning one, or
/// `X = Y` followed to `Y`.
fn find_spec(files: &[String], ident: &str, depth: usize) -> Option<String> {
    for file in files {
        let mut from = 0;
        while let Some(found) = file[from..].find(ident) {
            let start = from + found;
            from = start + ident.len();
            let before = file[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                continue;
            }
            let rest = file[from..].trim_start();
            let rest = if let Some(rest) = rest.strip_prefix('=') {
                rest.trim_start()
            } else if file[..start].trim_end().ends_with("func") {
                rest
            } else {
                continue;
            };
            let is_func = file[..start].trim_end().ends_with("func");
            if rest.starts_with("function.New(") || is_func {
                // A func's body is its first brace group, after the parameters.
                let rest = if is_func { &rest[rest.find('{').unwrap_or(0)..] } else { rest };
                let body = &rest[..block_end(rest).unwrap_or(rest.len())];
                if let Some(at) = body.find("function.Spec{") {
                    let literal = &body[at + "function.Spec".len()..];
                    return Some(with_named_params(&literal[..block_end(literal)?], body));
                }
            } else if depth > 0 {
                let alias: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !alias.is_empty() && alias != "function" {
                    return find_spec(files, &alias, depth - 1);
                }
            }
        }
    }
    None
}

/// A spec whose `Params: params` names a list the enclosing body builds
/// (`params := []function.Parameter{ … }`), with the list in its place.
fn with_named_params(spec: &str, body: &str) -> String {
    let named = fields(spec).into_iter().find(|(key, value)| {
        key == "Params" && !value.is_empty() && value.chars().all(|c| c.is_alphanumeric() || c == '_')
    });
    let Some((_, name)) = named else { return spec.to_owned() };
    let Some(at) = body.find(&format!("{name} := []function.Parameter")) else { return spec.to_owned() };
    let list = &body[at + name.len() + 4..];
    let Some(end) = list.find('{').and_then(|open| Some(open + block_end(&list[open..])?)) else {
        return spec.to_owned();
    };
    spec.replacen(&format!("Params: {name}"), &format!("Params: {}", &list[..end]), 1)
}

/// The end (exclusive) of the first balanced `{…}` or `(…)` group of Go
/// text, skipping strings, runes and comments.
fn block_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut index, mut opened) = (0usize, 0usize, false);
    while index < bytes.len() {
        match bytes[index] {
            b'"' | b'\'' => {
                let quote = bytes[index];
                index += 1;
                while index < bytes.len() && bytes[index] != quote {
                    index += if bytes[index] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => index += text[index + 1..].find('`').map_or(bytes.len(), |end| end + 1),
            b'/' if bytes.get(index + 1) == Some(&b'/') => {
                index += text[index..].find('\n').unwrap_or(bytes.len() - index)
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                opened = true;
            }
            b'}' | b')' | b']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 && opened {
                    return Some(index + 1);
                }
            }
            _ => {}
        }
        index += 1;
    }
    None
}

/// The top-level `Key: value` fields of a Go composite literal `{…}`.
fn fields(literal: &str) -> Vec<(String, String)> {
    let inner = literal.trim().strip_prefix('{').and_then(|rest| rest.strip_suffix('}')).unwrap_or_default();
    let mut out = Vec::new();
    let mut rest = inner;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        while rest.starts_with("//") {
            rest = rest.split_once('\n').map_or("", |(_, after)| after).trim_start();
        }
        let Some(colon) = rest.find(':') else { break };
        let key = rest[..colon].trim().to_owned();
        let value_start = &rest[colon + 1..];
        let end = value_end(value_start);
        out.push((key, value_start[..end].trim().to_owned()));
        rest = &value_start[end..];
        if rest.is_empty() {
            break;
        }
    }
    out
}

/// Where a field's value ends: the first comma at depth zero.
fn value_end(text: &str) -> usize {
    let mut index = 0;
    while index < text.len() {
        let c = text.as_bytes()[index];
        match c {
            b',' => return index,
            b'{' | b'(' | b'[' | b'"' | b'`' | b'\'' => {
                let group = if matches!(c, b'"' | b'`' | b'\'') {
                    string_end(&text[index..])
                } else {
                    block_end(&text[index..])
                };
                index += group.unwrap_or(text.len() - index);
                continue;
            }
            _ => {}
        }
        index += 1;
    }
    text.len()
}

fn string_end(text: &str) -> Option<usize> {
    let quote = text.as_bytes()[0];
    let mut index = 1;
    while index < text.len() {
        match text.as_bytes()[index] {
            b'\\' if quote != b'`' => index += 1,
            byte if byte == quote => return Some(index + 1),
            _ => {}
        }
        index += 1;
    }
    None
}

fn parse_spec(spec: &str) -> Signature {
    let mut signature =
        Signature { params: Vec::new(), variadic: None, returns: "any".to_owned(), source: String::new() };
    for (key, value) in fields(spec) {
        match key.as_str() {
            "Params" => {
                let list = value.trim_start_matches("[]function.Parameter");
                let inner = list.trim().strip_prefix('{').and_then(|rest| rest.strip_suffix('}')).unwrap_or_default();
                let mut rest = inner;
                while let Some(open) = rest.find('{') {
                    let Some(end) = block_end(&rest[open..]) else { break };
                    signature.params.push(parse_param(&rest[open..open + end]));
                    rest = &rest[open + end..];
                }
            }
            "VarParam" => {
                if let Some(open) = value.find('{') {
                    signature.variadic = Some(parse_param(&value[open..]));
                }
            }
            "Type" => {
                if let Some(inner) =
                    value.strip_prefix("function.StaticReturnType(").and_then(|rest| rest.strip_suffix(')'))
                {
                    signature.returns = hcl_type(inner);
                }
            }
            _ => {}
        }
    }
    signature
}

fn parse_param(literal: &str) -> Param {
    let mut param = Param { name: String::new(), ty: "any".to_owned(), allow_null: false, allow_unknown: false };
    for (key, value) in fields(literal) {
        match key.as_str() {
            "Name" => param.name = value.trim_matches('"').to_owned(),
            "Type" => param.ty = hcl_type(&value),
            "AllowNull" => param.allow_null = value == "true",
            "AllowUnknown" => param.allow_unknown = value == "true",
            _ => {}
        }
    }
    param
}

/// A go-cty type expression as an HCL type constraint: `cty.List(cty.String)`
/// is `list(string)`; what cannot be read is `any`.
fn hcl_type(go: &str) -> String {
    let go = go.trim();
    match go {
        "cty.String" => return "string".to_owned(),
        "cty.Number" => return "number".to_owned(),
        "cty.Bool" => return "bool".to_owned(),
        _ => {}
    }
    for (constructor, name) in [("cty.List(", "list"), ("cty.Set(", "set"), ("cty.Map(", "map")] {
        if let Some(inner) = go.strip_prefix(constructor).and_then(|rest| rest.strip_suffix(')')) {
            return format!("{name}({})", hcl_type(inner));
        }
    }
    "any".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_is_read_from_go() {
        let go = r#"
var UpperFunc = function.New(&function.Spec{
	Description: "Upper, with a brace } and a comma, in text.",
	Params: []function.Parameter{
		{
			Name:             "str",
			Type:             cty.String,
			AllowDynamicType: true,
		},
		{ Name: "list", Type: cty.List(cty.Number), AllowNull: true },
	},
	VarParam: &function.Parameter{Name: "rest", Type: cty.DynamicPseudoType, AllowUnknown: true},
	Type:         function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) { return cty.StringVal("}"), nil },
})
var Alias = UpperFunc
"#;
        let spec = find_spec(&[go.to_owned()], "Alias", 2).unwrap();
        let signature = parse_spec(&spec);
        let params: Vec<(&str, &str, bool)> =
            signature.params.iter().map(|p| (p.name.as_str(), p.ty.as_str(), p.allow_null)).collect();
        assert_eq!(params, [("str", "string", false), ("list", "list(number)", true)]);
        let variadic = signature.variadic.unwrap();
        assert_eq!((variadic.name.as_str(), variadic.ty.as_str(), variadic.allow_unknown), ("rest", "any", true));
        assert_eq!(signature.returns, "string");
    }

    #[test]
    fn function_maps_and_go_mod_versions() {
        let go = "funcs := map[string]function.Function{\n\t\"abs\":  stdlib.AbsoluteFunc,\n\t\"file\": filesystem.MakeFileFunc(basedir, false),\n}\nfuncs[\"templatefile\"] = pkrfunction.MakeTemplateFileFunc(basedir, nil)\n";
        let names: Vec<(String, String)> = function_map(go).into_iter().map(|(k, v)| (k, v.go_value)).collect();
        assert_eq!(
            names,
            [
                ("abs".to_owned(), "stdlib.AbsoluteFunc".to_owned()),
                ("file".to_owned(), "filesystem.MakeFileFunc".to_owned()),
                ("templatefile".to_owned(), "pkrfunction.MakeTemplateFileFunc".to_owned())
            ]
        );
        let go_mod = "require (\n\tgithub.com/zclconf/go-cty v1.13.3\n)\nreplace github.com/zclconf/go-cty => github.com/nywilken/go-cty v1.13.4\n";
        assert_eq!(required_version(go_mod, "github.com/zclconf/go-cty").as_deref(), Some("v1.13.4"));
    }
}
