//! Checks on the source itself, run by `cargo test` (as rust-analyzer's
//! `xtask/src/tidy.rs`): the top-level modules stay in layers, each importing
//! only the layers below it, and `docs/architecture.md` shows the imports and
//! cycles the code has.
//!
//! The imports are read from the text: every `crate::` path of a module's
//! files (`use` lines and paths written inline, its own tests included),
//! outside comments and literals. Macros are not expanded: the `$crate::diagnostic`
//! paths of `declare_rule!` (in `lib.rs`) are not counted, and every module
//! that declares rules imports `diagnostic` in its own text anyway.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import its own layer and those
/// below it, never one above it; the whole graph must have no cycles.
/// A new top-level module goes into one of them.
const LAYERS: &[(&str, &[&str])] = &[
    // Plumbing and small facts (versions, regions) that know nothing of the
    // repository's files.
    (
        "foundation",
        &[
            "clock",
            "fsutil",
            "gotmpl",
            "json",
            "location",
            "moto",
            "printable",
            "regions",
            "spelling",
            "version",
            "yaml",
        ],
    ),
    // What the repository holds (templates, deployments, the lock, its
    // layout) and what each Packer release accepts.
    (
        "model",
        &[
            "channels",
            "deployments",
            "fingerprint",
            "hcl2",
            "image_id",
            "lock",
            "project",
            "schema",
            "template",
            "var_values",
        ],
    ),
    // Pieces several commands use on the models: findings, the one writer of
    // deployments, the runners of Packer and the AWS CLI, secrets, the files
    // only their writers may change, a template read for building and
    // whether a recorded image is still current, one writing run at a time.
    (
        "shared",
        &[
            "aws",
            "diagnostic",
            "freshness",
            "packer",
            "patch",
            "plugins",
            "private_vars",
            "protected",
            "readout",
            "run_guard",
            "secrets",
        ],
    ),
    // What is configured and reported per rule: the registry of rules, which
    // the commands pass to the others, `xtask.toml`, suppressions, the
    // renderers.
    ("rules", &["config", "registry", "render", "suppress"]),
    // One module per subcommand, and the catalogue, which gathers the rules
    // of both linters into the registry.
    (
        "commands",
        &[
            "bench",
            "catalogue",
            "cli",
            "codegen",
            "demo",
            "images",
            "install_hook",
            "lifecycle",
            "lint",
            "lint_deployments",
            "lint_templates",
            "pre_commit",
            "status",
        ],
    ),
];

/// The imports that break the layers today: each goes up a layer or closes
/// a cycle inside one. The list only shrinks: the test fails when an import
/// not on it breaks the layers, and when one on it is gone (remove it here
/// and from `docs/architecture.md`). Each says why it exists and which step
/// of issue 17 removes it. Issue 17's steps have emptied it: an import that
/// breaks the layers now fails the test.
const ALLOWED: &[(&str, &str, &str)] = &[];

/// Modules not measured: the entry points, and this check itself.
const NOT_LAYERED: &[&str] = &["lib", "main", "tidy"];

type Graph = BTreeMap<String, BTreeSet<String>>;

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every top-level module and the other top-level modules it imports.
fn imports() -> Graph {
    let root = source_root();
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&root) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let relative = path.strip_prefix(&root).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_str().unwrap();
        let module = first.strip_suffix(".rs").unwrap_or(first);
        if !NOT_LAYERED.contains(&module) {
            files.entry(module.to_owned()).or_default().push(path.to_owned());
        }
    }
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(module, paths)| {
            let mut used = BTreeSet::new();
            for path in paths {
                let text = fs::read_to_string(path).unwrap();
                used.extend(crate_paths(&code_only(&text)));
            }
            used.retain(|used| used != module && modules.contains(used));
            (module.clone(), used)
        })
        .collect()
}

/// The text with comments, string and character literals blanked out, so
/// that only code is searched.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut code = String::with_capacity(text.len());
    let mut at = 0;
    while at < chars.len() {
        let rest = &chars[at..];
        let skipped = if rest.starts_with(&['/', '/']) {
            rest.iter().position(|&c| c == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            block_comment_length(rest)
        } else if rest[0] == '"' {
            string_length(rest)
        } else if rest[0] == 'r' && raw_string_hashes(rest).is_some() && !continues_identifier(&chars, at) {
            raw_string_length(rest)
        } else if rest[0] == '\'' {
            char_literal_length(rest)
        } else {
            0
        };
        if skipped == 0 {
            code.push(rest[0]);
            at += 1;
        } else {
            code.push(' ');
            at += skipped;
        }
    }
    code
}

fn continues_identifier(chars: &[char], at: usize) -> bool {
    at > 0 && (chars[at - 1].is_alphanumeric() || chars[at - 1] == '_')
}

fn block_comment_length(rest: &[char]) -> usize {
    let mut depth = 0;
    let mut at = 0;
    while at < rest.len() {
        if rest[at..].starts_with(&['/', '*']) {
            depth += 1;
            at += 2;
        } else if rest[at..].starts_with(&['*', '/']) {
            depth -= 1;
            at += 2;
            if depth == 0 {
                return at;
            }
        } else {
            at += 1;
        }
    }
    rest.len()
}

fn string_length(rest: &[char]) -> usize {
    let mut at = 1;
    while at < rest.len() {
        match rest[at] {
            '\\' => at += 2,
            '"' => return at + 1,
            _ => at += 1,
        }
    }
    rest.len()
}

/// The number of `#` of a raw string starting here (`r"`, `r#"`, ...).
fn raw_string_hashes(rest: &[char]) -> Option<usize> {
    let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
    (rest.get(1 + hashes) == Some(&'"')).then_some(hashes)
}

fn raw_string_length(rest: &[char]) -> usize {
    let hashes = raw_string_hashes(rest).unwrap_or(0);
    let mut closing = vec!['"'];
    closing.extend(std::iter::repeat_n('#', hashes));
    let start = 2 + hashes;
    (start..rest.len()).find(|&at| rest[at..].starts_with(&closing)).map_or(rest.len(), |at| at + closing.len())
}

/// A character literal's length, or 0 for a lifetime (`'a`), which is code.
fn char_literal_length(rest: &[char]) -> usize {
    match rest.get(1) {
        Some('\\') => rest[2..].iter().position(|&c| c == '\'').map_or(rest.len(), |at| at + 3),
        Some(_) if rest.get(2) == Some(&'\'') => 3,
        _ => 0,
    }
}

/// The first segment of every `crate::` path: `crate::a::b` gives `a`,
/// `crate::{a::b, c}` gives `a` and `c`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = code[at + "crate::".len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            found.extend(top_level_items(group).into_iter().filter_map(first_segment));
        } else if let Some(segment) = first_segment(rest) {
            found.insert(segment);
        }
    }
    found
}

/// The items of a `{…}` group up to its closing brace, split at the commas
/// that are not inside a nested group.
fn top_level_items(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..at]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items
}

fn first_segment(path: &str) -> Option<String> {
    let segment: String = path.trim_start().chars().take_while(|&c| c.is_alphanumeric() || c == '_').collect();
    (!segment.is_empty()).then_some(segment)
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, modules)| modules.contains(&module))
}

fn is_allowed(from: &str, to: &str) -> bool {
    ALLOWED.iter().any(|&(allowed_from, allowed_to, _)| allowed_from == from && allowed_to == to)
}

fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(module) = stack.pop() {
        if module == to {
            return true;
        }
        if seen.insert(module) {
            stack.extend(graph.get(module).into_iter().flatten().map(String::as_str));
        }
    }
    false
}

/// The groups of two or more modules that each reach every other one,
/// each sorted, in the order of their first module.
fn cycles(graph: &Graph) -> Vec<BTreeSet<String>> {
    let mut groups: Vec<BTreeSet<String>> = Vec::new();
    for module in graph.keys() {
        if groups.iter().any(|group| group.contains(module)) {
            continue;
        }
        let group: BTreeSet<String> = graph
            .keys()
            .filter(|other| reaches(graph, module, other) && reaches(graph, other, module))
            .cloned()
            .collect();
        if group.len() > 1 {
            groups.push(group);
        }
    }
    groups
}

#[test]
fn every_module_is_in_one_layer() {
    let graph = imports();
    let mut problems = Vec::new();
    for module in graph.keys() {
        let layers: Vec<&str> =
            LAYERS.iter().filter(|(_, modules)| modules.contains(&module.as_str())).map(|(name, _)| *name).collect();
        if layers.len() != 1 {
            problems.push(format!("`{module}` is in the layers {layers:?}: put it in exactly one of LAYERS"));
        }
    }
    for (layer, modules) in LAYERS {
        for module in *modules {
            if !graph.contains_key(*module) {
                problems.push(format!("layer `{layer}` names `{module}`, which is not a module of xtask/src"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn modules_import_only_their_layer_and_those_below() {
    let graph = imports();
    let mut problems = Vec::new();
    for (from, used) in &graph {
        let Some(from_layer) = layer_of(from) else { continue };
        for to in used {
            let Some(to_layer) = layer_of(to) else { continue };
            if to_layer > from_layer && !is_allowed(from, to) {
                problems.push(format!(
                    "`{from}` ({}) imports `{to}` ({}), a layer above it: move what it needs down a layer",
                    LAYERS[from_layer].0, LAYERS[to_layer].0
                ));
            }
        }
    }
    let mut rest = graph.clone();
    for &(from, to, _) in ALLOWED {
        if let Some(used) = rest.get_mut(from) {
            used.remove(to);
        }
    }
    for group in cycles(&rest) {
        let names: Vec<&str> = group.iter().map(String::as_str).collect();
        problems.push(format!("a new import cycle: {}", names.join(", ")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_allowed_import_is_still_needed() {
    let graph = imports();
    let mut problems = Vec::new();
    for &(from, to, _) in ALLOWED {
        let exists = graph.get(from).is_some_and(|used| used.contains(to));
        let upward = matches!((layer_of(from), layer_of(to)), (Some(from), Some(to)) if to > from);
        if !exists {
            problems
                .push(format!("`{from}` no longer imports `{to}`: remove it from ALLOWED and docs/architecture.md"));
        } else if !upward && !reaches(&graph, to, from) {
            problems
                .push(format!("`{from}` -> `{to}` goes neither up nor round a cycle any more: remove it from ALLOWED"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn architecture_page() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/architecture.md");
    fs::read_to_string(&path).unwrap()
}

/// The lines of the page's section under `heading`.
fn section<'a>(page: &'a str, heading: &str) -> Vec<&'a str> {
    page.lines().skip_while(|line| *line != heading).skip(1).take_while(|line| !line.starts_with("## ")).collect()
}

fn backticked(text: &str) -> BTreeSet<String> {
    text.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

#[test]
fn the_architecture_page_shows_the_imports() {
    let graph = imports();
    let page = architecture_page();
    let mut shown = Graph::new();
    for line in section(&page, "## What each module imports today") {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let [_, module, used, _] = cells[..]
            && let Some(module) = module.strip_prefix('`').and_then(|module| module.strip_suffix('`'))
        {
            let used = if used == "nothing" { BTreeSet::new() } else { used.split(", ").map(str::to_owned).collect() };
            shown.insert(module.to_owned(), used);
        }
    }
    let mut problems = Vec::new();
    for module in graph.keys().chain(shown.keys()).collect::<BTreeSet<_>>() {
        let (code, page) = (graph.get(module), shown.get(module));
        if code != page {
            let row = |used: Option<&BTreeSet<String>>| match used {
                None => "no row".to_owned(),
                Some(used) if used.is_empty() => "nothing".to_owned(),
                Some(used) => used.iter().map(String::as_str).collect::<Vec<_>>().join(", "),
            };
            problems.push(format!("| `{module}` | {} |   (the page has: {})", row(code), row(page)));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/architecture.md's imports table differs from the code; its rows should read:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_architecture_page_shows_the_cycles() {
    let graph = imports();
    let page = architecture_page();
    let shown: Vec<BTreeSet<String>> = section(&page, "## Cycles today")
        .into_iter()
        .filter_map(|line| {
            let (number, rest) = line.split_once(". **")?;
            number.parse::<usize>().ok()?;
            Some(backticked(rest.split("**").next()?))
        })
        .collect();
    let mut code = cycles(&graph);
    code.sort_by_key(|group| std::cmp::Reverse(group.len()));
    let list = |groups: &[BTreeSet<String>]| {
        groups
            .iter()
            .enumerate()
            .map(|(index, group)| {
                let names: Vec<String> = group.iter().map(|name| format!("`{name}`")).collect();
                format!("{}. **{}**", index + 1, names.join(", "))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        list(&shown),
        list(&code),
        "docs/architecture.md's \"Cycles today\" lists other cycles than the code has (left: the page, right: the code)"
    );
}

/// The lines of each top-level module's files (`wc -l` of its one file or
/// of every `.rs` file in its folder).
fn module_lines() -> BTreeMap<String, usize> {
    let root = source_root();
    let mut lines = BTreeMap::new();
    for entry in walkdir::WalkDir::new(&root) {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let first = path.strip_prefix(&root).unwrap().components().next().unwrap().as_os_str().to_str().unwrap();
        let module = first.strip_suffix(".rs").unwrap_or(first).to_owned();
        *lines.entry(module).or_default() += fs::read_to_string(path).unwrap().matches('\n').count();
    }
    lines
}

/// The code map's line counts stay near the code: a count more than a
/// seventh (or 50 lines) away means the module grew or shrank enough that
/// its row's job may need reading again, so ordinary edits need no change
/// to the page.
#[test]
fn the_code_map_counts_each_modules_lines() {
    let lines = module_lines();
    let page = architecture_page();
    let mut problems = Vec::new();
    for line in section(&page, "## Code map") {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if let [_, module, shown, _, _] = cells[..]
            && let Some(module) = module.strip_prefix('`').and_then(|module| module.strip_suffix('`'))
            && let Ok(shown) = shown.parse::<usize>()
        {
            match lines.get(module) {
                Some(&counted) if counted.abs_diff(shown) > (counted / 7).max(50) => {
                    problems.push(format!("`{module}`: {counted} lines (the page has {shown})"))
                }
                None => problems.push(format!("`{module}`: no such module in xtask/src")),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "docs/architecture.md's code map counts other lines:\n{}", problems.join("\n"));
}

#[test]
fn the_reading_sees_code_only() {
    let text = "use crate::{a::{b, c}, d};\n// crate::e\nlet s = \"crate::f\"; let r = r#\"crate::g\"#;\n\
                fn x<'a>(c: char) { crate::h::i(); '\"'; $crate::j; my_crate::k; /* crate::l /* */ */ }";
    let found: Vec<String> = crate_paths(&code_only(text)).into_iter().collect();
    assert_eq!(found, ["a", "d", "h"]);
}
