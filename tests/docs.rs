//! The documentation: the README stays a front door, every relative link
//! of the README and of `docs/` leads to a file (and heading) that exists,
//! and the pages generated from the rules' docs are up to date.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::workspace;

/// The README is what a newcomer reads first; the rest lives in `docs/`.
const README_MAX_LINES: usize = 250;

#[test]
fn the_readme_is_a_front_door() {
    let readme = fs::read_to_string(workspace().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, over its limit of {README_MAX_LINES}: move the detail to a page under docs/ and link it"
    );
}

/// `.ci/run` runs `.ci/test`, which the README gives a newcomer as the
/// command that runs every test: the two must stay the same command.
#[test]
fn the_readme_gives_the_test_command_ci_runs() {
    let readme = fs::read_to_string(workspace().join("README.md")).unwrap();
    let run = fs::read_to_string(workspace().join(".ci/run")).unwrap();
    assert!(run.lines().any(|line| line.trim() == "exec .ci/test"), ".ci/run no longer runs .ci/test:\n{run}");
    assert!(
        readme.lines().any(|line| line.starts_with(".ci/test ")),
        "README.md's \"The two commands\" no longer gives `.ci/test`"
    );
}

#[test]
fn the_rule_pages_are_up_to_date() {
    let stale: Vec<String> = xtask::codegen::rule_docs::generated(&workspace())
        .unwrap()
        .into_iter()
        .filter(|file| file.is_stale())
        .map(|file| format!("{} ({})", file.path.display(), file.what))
        .collect();
    assert!(stale.is_empty(), "out of date, run `cargo xtask codegen`:\n{}", stale.join("\n"));
}

#[test]
fn every_relative_link_leads_somewhere() {
    let root = workspace();
    let mut pages = vec![root.join("README.md")];
    markdown_files(&root.join("docs"), &mut pages);
    assert!(pages.len() > 10, "the docs are missing: {pages:?}");
    let mut broken = Vec::new();
    for page in &pages {
        let text = fs::read_to_string(page).unwrap();
        for (line, target) in links(&text) {
            if let Err(why) = check_link(page, target) {
                broken.push(format!("{}:{line}: ({target}) {why}", page.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The link checker itself finds what it should.
#[test]
fn the_link_checker_reads_links_and_headings_as_github_does() {
    let text = "# `cargo xtask images`\n## Which Packer a template is judged against\n## Tests\n## Tests\n\
                See [the lock](lock.md#the-lock) and `[not](a-link)`.\n```sh\n[nor](this)\n```\n[x](#tests-1)\n";
    let found: Vec<(usize, &str)> = links(text).collect();
    assert_eq!(found, [(5, "lock.md#the-lock"), (9, "#tests-1")]);
    let anchors = anchors(text);
    for anchor in ["cargo-xtask-images", "which-packer-a-template-is-judged-against", "tests", "tests-1"] {
        assert!(anchors.contains(anchor), "{anchor} not in {anchors:?}");
    }
}

fn markdown_files(folder: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "md") {
            out.push(path);
        }
    }
}

/// Each inline link's target with its line, outside code blocks and code
/// spans.
fn links(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut in_fence = false;
    text.lines().enumerate().flat_map(move |(index, line)| {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            return Vec::new();
        }
        if in_fence {
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            if !inside_code_span(line, line.len() - rest.len() + start) {
                found.push((index + 1, &after[..end]));
            }
            rest = &after[end..];
        }
        found
    })
}

/// Is byte `at` of `line` inside a `code span`? Backticks before it pair up.
fn inside_code_span(line: &str, at: usize) -> bool {
    let before = &line[..at];
    let mut open: Option<usize> = None;
    let mut chars = before.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '`' {
            continue;
        }
        let mut run = 1;
        while chars.peek().is_some_and(|&(_, next)| next == '`') {
            chars.next();
            run += 1;
        }
        open = match open {
            Some(width) if width == run => None,
            Some(width) => Some(width),
            None => Some(run),
        };
    }
    open.is_some()
}

fn check_link(page: &Path, target: &str) -> Result<(), String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return Ok(());
    }
    let (file, anchor) = match target.split_once('#') {
        Some((file, anchor)) => (file, Some(anchor)),
        None => (target, None),
    };
    let path = if file.is_empty() { page.to_path_buf() } else { page.parent().unwrap().join(file) };
    if !path.exists() {
        return Err(format!("{} does not exist", path.display()));
    }
    if let Some(anchor) = anchor {
        if path.extension().is_none_or(|extension| extension != "md") {
            return Err("an anchor into a file that is not Markdown".to_owned());
        }
        let anchors = anchors(&fs::read_to_string(&path).unwrap());
        if !anchors.contains(anchor) {
            return Err(format!("no heading makes the anchor #{anchor}"));
        }
    }
    Ok(())
}

/// The anchors GitHub gives a page's headings: lower case, letters,
/// digits, `-` and `_` kept, spaces made `-`, the rest dropped; a second
/// heading of the same text gets `-1`.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        let Some(heading) = line.strip_prefix('#') else { continue };
        if in_fence {
            continue;
        }
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let mut unique = slug.clone();
        let mut count = 0;
        while out.contains(&unique) {
            count += 1;
            unique = format!("{slug}-{count}");
        }
        out.insert(unique);
    }
    out
}

/// The code map of docs/architecture.md names every top-level module of
/// `xtask/src`, so that a new or renamed module gets its line there.
#[test]
fn the_architecture_page_maps_every_module() {
    let page = fs::read_to_string(workspace().join("docs/architecture.md")).unwrap();
    let mut missing = Vec::new();
    for entry in fs::read_dir(workspace().join("xtask/src")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let module = path.is_dir() || path.extension().is_some_and(|extension| extension == "rs");
        if module && name != "lib" && name != "main" && !page.contains(&format!("\n| `{name}` |")) {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "docs/architecture.md's code map lacks these modules of xtask/src: {missing:?}");
}
