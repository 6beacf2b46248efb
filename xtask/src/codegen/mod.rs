//! Generated files: the rules' pages and tables under `docs/rules/`, made
//! from the rules' docs, and, from git mirrors of Packer, its plugins and
//! the libraries its functions come from, what every release has: the
//! knowledge of their keys and types (`xtask/src/schema/knowledge.txt`) and
//! the table of HCL2 functions (`xtask/src/schema/function_table.rs`).
//! `cargo xtask codegen` writes them; a test checks the rules' docs.

mod mirror;
pub mod packer_functions;
pub mod packer_knowledge;
mod required_settings;
pub mod rule_docs;

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use rule_docs::Generated;

/// `mirrors`: a folder of git mirrors of Packer, its plugins and the
/// libraries of its functions ([`mirror`]), to regenerate both tables of
/// what each release has from.
pub fn run(root: &Path, check: bool, mirrors: Option<&Path>) -> Result<ExitCode> {
    let mut files = rule_docs::generated(root)?;
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
        files.push(Generated {
            path,
            what: "the knowledge of Packer's versions".to_owned(),
            current: Some(current),
            updated: Some(generated),
        });
        let path = root.join(packer_functions::TABLE_PATH);
        let current = fs::read_to_string(&path).unwrap_or_default();
        files.push(Generated {
            path,
            what: "the HCL2 function table".to_owned(),
            current: Some(current),
            updated: Some(packer_functions::generate(mirrors)?),
        });
    }
    let mut stale = 0;
    let mut up_to_date = 0;
    for file in files {
        let path = file.path.display();
        if !file.is_stale() {
            up_to_date += 1;
            continue;
        }
        if check {
            match file.updated {
                Some(_) => {
                    say!("{} in {path} is out of date: run `cargo xtask codegen` with the same options.", file.what)
                }
                None => say!("{path} is {}: run `cargo xtask codegen` to remove it.", file.what),
            }
            stale += 1;
            continue;
        }
        let target = crate::fsutil::resolve_inside(root, &file.path)?;
        match &file.updated {
            Some(updated) => {
                crate::fsutil::write_atomic(&target, updated.as_bytes()).with_context(|| format!("writing {path}"))?;
                show_line!("Updated {} in {path}.", file.what);
            }
            None => {
                fs::remove_file(&target).with_context(|| format!("removing {path}, {}", file.what))?;
                show_line!("Removed {path}: it is {}.", file.what);
            }
        }
    }
    match up_to_date {
        1 => show_line!("1 generated file is up to date."),
        count => show_line!("{count} generated files are up to date."),
    }
    Ok(if stale > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
