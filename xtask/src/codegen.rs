//! Generated parts of the README: the rule tables, made from the rules' docs.
//! `cargo xtask codegen` writes them; a test runs the check mode.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::diagnostic::RuleMeta;
use crate::lint_templates::rules::RULES;

const BEGIN: &str = "<!-- begin: template rules (cargo xtask codegen) -->";
const END: &str = "<!-- end: template rules -->";

/// The Markdown table of the template rules.
pub fn template_rule_table() -> String {
    table(RULES.iter().map(|rule| &rule.meta))
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

/// The README with its generated section brought up to date.
pub fn updated_readme(readme: &str) -> Result<String> {
    let (Some(begin), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        bail!("README.md has no `{BEGIN}` … `{END}` section for the rule table");
    };
    Ok(format!("{}{BEGIN}\n{}{}", &readme[..begin], template_rule_table(), &readme[end..]))
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
