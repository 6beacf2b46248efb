//! The GitHub workflows hold cloud credentials: they follow GitHub Actions'
//! hardening rules, checked by zizmor run offline, and no `${{ }}`
//! expression is expanded inside a `run:` script, where untrusted input
//! would become shell code.

use std::path::PathBuf;
use std::process::Command;

mod common;

fn workflows() -> Vec<PathBuf> {
    let dir = common::workspace().join(".github/workflows");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml"))
        .collect();
    found.sort();
    assert!(found.len() >= 2, "the workflows are missing from {}", dir.display());
    found
}

#[test]
fn zizmor_finds_nothing_in_the_workflows() {
    let zizmor = std::env::var_os("ZIZMOR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("zizmor"));
    let output = Command::new(&zizmor)
        .arg("--offline")
        .arg(common::workspace().join(".github/workflows"))
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "{} cannot run ({error}): run `.ci/test`, which installs zizmor into target/e2e-venv, or `pip install \
                 zizmor==1.32.0` and set ZIZMOR",
                zizmor.display()
            )
        });
    let said = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && said.contains("No findings to report"), "{said}");
}

#[test]
fn no_expression_is_expanded_inside_a_script() {
    fn scripts(value: &yaml_serde::Value, out: &mut Vec<String>) {
        match value {
            yaml_serde::Value::Mapping(map) => {
                for (key, value) in map {
                    match (key.as_str(), value.as_str()) {
                        (Some("run"), Some(script)) => out.push(script.to_owned()),
                        _ => scripts(value, out),
                    }
                }
            }
            yaml_serde::Value::Sequence(items) => items.iter().for_each(|item| scripts(item, out)),
            _ => {}
        }
    }
    for path in workflows() {
        let workflow: yaml_serde::Value = yaml_serde::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut found = Vec::new();
        scripts(&workflow, &mut found);
        assert!(!found.is_empty(), "{} has no run: step", path.display());
        for script in found {
            assert!(!script.contains("${{"), "{}: pass it through `env:` instead:\n{script}", path.display());
        }
    }
}
