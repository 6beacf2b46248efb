//! Generated parts of the README: the rule tables, made from the rules' docs.
//! `cargo xtask codegen` writes them; a test runs the check mode.

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

pub fn run(root: &Path, check: bool) -> Result<ExitCode> {
    let path = root.join("README.md");
    let readme = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let updated = updated_readme(&readme)?;
    if updated == readme {
        println!("README.md is up to date.");
        return Ok(ExitCode::SUCCESS);
    }
    if check {
        eprintln!("README.md's rule table is out of date: run `cargo xtask codegen`.");
        return Ok(ExitCode::FAILURE);
    }
    fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))?;
    println!("Updated the rule table in README.md.");
    Ok(ExitCode::SUCCESS)
}
