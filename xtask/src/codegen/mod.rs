//! Generated files: the README's rule tables, made from the rules' docs,
//! and, from git mirrors of Packer, its plugins and the libraries its
//! functions come from, what every release has: the knowledge of their
//! keys and types (`xtask/src/schema/knowledge.txt`) and the table of HCL2
//! functions (`xtask/src/hcl2/function_table.rs`). `cargo xtask codegen`
//! writes them; a test runs the README's check mode.

mod mirror;
pub mod packer_functions;
pub mod packer_knowledge;

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::diagnostic::RuleMeta;
use crate::lint_templates::rules::RULES;

/// The generated sections: their markers and their content.
fn sections() -> [(&'static str, &'static str, String); 3] {
    [
        (
            "<!-- begin: template rules (cargo xtask codegen) -->",
            "<!-- end: template rules -->",
            table(RULES.iter().map(|rule| &rule.meta)),
        ),
        (
            "<!-- begin: deployment rules (cargo xtask codegen) -->",
            "<!-- end: deployment rules -->",
            table(crate::lint_deployments::rules::RULES.iter().map(|rule| &rule.meta)),
        ),
        (
            "<!-- begin: suppression rules (cargo xtask codegen) -->",
            "<!-- end: suppression rules -->",
            table(crate::suppress::rules::RULES.iter().copied()),
        ),
    ]
}

fn table<'a>(rules: impl Iterator<Item = &'a RuleMeta>) -> String {
    let mut out = String::from("| code | name | severity | what it finds |\n| --- | --- | --- | --- |\n");
    for rule in rules {
        out.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            rule.code,
            rule.name,
            rule.severity,
            rule.summary().replace('|', "\\|")
        ));
    }
    out
}

/// The README with its generated sections brought up to date.
pub fn updated_readme(readme: &str) -> Result<String> {
    let mut text = readme.to_owned();
    for (begin_marker, end_marker, content) in sections() {
        let (Some(begin), Some(end)) = (text.find(begin_marker), text.find(end_marker)) else {
            bail!("README.md has no `{begin_marker}` … `{end_marker}` section");
        };
        text = format!("{}{begin_marker}\n{content}{}", &text[..begin], &text[end..]);
    }
    Ok(text)
}

/// `mirrors`: a folder of git mirrors of Packer, its plugins and the
/// libraries of its functions ([`mirror`]), to regenerate both tables of
/// what each release has from.
pub fn run(root: &Path, check: bool, mirrors: Option<&Path>) -> Result<ExitCode> {
    let path = root.join("README.md");
    let readme = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut files = vec![(path, "README.md's rule table", readme.clone(), updated_readme(&readme)?)];
    if let Some(mirrors) = mirrors {
        let path = root.join(packer_knowledge::KNOWLEDGE_PATH);
        let current = fs::read_to_string(&path).unwrap_or_default();
        let generated = packer_knowledge::generate(mirrors)?;
        let lost = packer_knowledge::releases_lost(&current, &generated);
        if !lost.is_empty() {
            let each: Vec<String> = lost
                .iter()
                .map(|(repo, versions)| {
                    format!(
                        "{} lacks {} of {repo}",
                        mirrors.join(repo.replacen('/', "+", 1)).join("repo").display(),
                        versions.join(", ")
                    )
                })
                .collect();
            bail!(
                "{}, which {} has: the mirror was fetched before those releases or lost their tags; fetch it again \
                 (nothing was written)",
                each.join("; "),
                path.display()
            );
        }
        files.push((path, "the knowledge of Packer's versions", current, generated));
        let path = root.join(packer_functions::TABLE_PATH);
        let current = fs::read_to_string(&path).unwrap_or_default();
        files.push((path, "the HCL2 function table", current, packer_functions::generate(mirrors)?));
    }
    let mut stale = false;
    for (path, what, current, updated) in files {
        if updated == current {
            show_line!("{} is up to date.", path.display());
        } else if check {
            say!("{what} in {} is out of date: run `cargo xtask codegen` with the same options.", path.display());
            stale = true;
        } else {
            let target = crate::fsutil::resolve_inside(root, &path)?;
            crate::fsutil::write_atomic(&target, updated.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            show_line!("Updated {what} in {}.", path.display());
        }
    }
    Ok(if stale { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
