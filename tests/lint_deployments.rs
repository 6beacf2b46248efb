//! `cargo xtask lint-deployments` and `cargo xtask lint`.

#[macro_use]
mod common;

use std::fs;

use common::{fixtures, mkfifo, stdout, workspace, write, xtask, xtask_within};
use serde_json::Value;
use xtask::lint_deployments::{self, Options, rules::RULES};
use xtask::project::ShownPaths;
use xtask::render::{human, json, sarif};

/// Each rule has a fixture tree named after it that triggers it, and
/// reviewed snapshots of its human and JSON output: one test per rule.
fn fires_on_its_fixture(name: &str) {
    let rule = RULES.iter().find(|rule| rule.meta.name == name).unwrap_or_else(|| panic!("no rule is named {name}"));
    let root = fixtures().join("deployment-rules").join(name);
    assert!(root.is_dir(), "rule {name} has no fixture: add tests/fixtures/deployment-rules/{name}/");
    let report =
        lint_deployments::lint(&Options { root, ..Options::default() }, &xtask::catalogue::registry()).unwrap();
    let codes: Vec<&str> = report.files.iter().flat_map(|f| &f.diagnostics).map(|d| d.rule.code).collect();
    assert!(
        codes.contains(&rule.meta.code),
        "the fixture of {name} does not trigger it:\n{}",
        human::render(&report, "deployment", false, &ShownPaths::default())
    );
    insta::assert_snapshot!(
        format!("deployment-{name}.human"),
        human::render(&report, "deployment", false, &ShownPaths::default())
    );
    insta::assert_snapshot!(format!("deployment-{name}.json"), json::render(&report));
}

/// The deployment rules' tests are in a module of their own: `duplicate_key`
/// is also a template rule's name.
mod deployment_rules {
    use super::fires_on_its_fixture;

    rule_fixture_tests! {
        RULE_FIXTURES, fires_on_its_fixture:
        duplicate_key,
        invalid_yaml,
        malformed_image_id,
        missing_key,
        no_template,
        region_not_built,
        release_not_a_string,
        revoked_image,
        stale_image,
        unknown_channel,
        unknown_cloud,
        unknown_image,
    }

    #[test]
    fn every_rule_has_a_fixture_test() {
        let rules: Vec<&str> = super::RULES.iter().map(|rule| rule.meta.name).collect();
        crate::common::assert_fixture_list(RULE_FIXTURES, &rules, "deployment-rules");
    }
}

/// The SARIF log of every rule's fixture is valid against the schema.
#[test]
fn every_fixture_makes_valid_sarif() {
    let logs: Vec<(String, String)> = RULES
        .iter()
        .map(|rule| {
            let root = fixtures().join("deployment-rules").join(rule.meta.name);
            let report =
                lint_deployments::lint(&Options { root, ..Options::default() }, &xtask::catalogue::registry()).unwrap();
            (rule.meta.name.to_owned(), sarif::render(&report, xtask::catalogue::registry().rules()))
        })
        .collect();
    common::assert_valid_sarif(&logs);
}

#[test]
fn the_example_tree_is_clean() {
    let root = workspace();
    let output = xtask(&["lint-deployments", "--root", root.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // The example's lock is committed: every ID is checked against it.
    assert!(!common::text(&output).contains("were not checked"), "{}", common::text(&output));
    let both = xtask(&["lint", "--root", root.to_str().unwrap(), "--format", "json"]);
    assert_eq!(both.status.code(), Some(0), "{}", stdout(&both));
    let document: Value = serde_json::from_slice(&both.stdout).unwrap();
    assert_eq!(document["version"], 1);
    assert_eq!(document["summary"]["files"], 11, "3 JSON templates, the 3 files of the HCL2 one, and 5 deployments");

    // A folder named on the command line stands for the deployments in it,
    // rather than being one that cannot be read.
    let folder = root.join("deployments");
    let output = xtask(&["lint-deployments", "--root", root.to_str().unwrap(), folder.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("Checked 5 deployments: no problems found."), "{}", stdout(&output));
}

#[test]
fn an_unquoted_release_gets_the_fix() {
    let root = fixtures().join("deployment-rules/release-not-a-string");
    let output = xtask(&["lint-deployments", "--root", root.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("`release: 3.10` is read by YAML as the number 3.1"), "{text}");
    assert!(text.contains("quote it: release: \"3.10\""), "{text}");
}

#[test]
fn hostile_deployments_get_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "deployments/a-empty.yaml", "");
    write(root, "deployments/b-list.yaml", "- release: '3.11'\n");
    write(root, "deployments/c-binary.yaml", b"release: \xff\xfe\n");
    write(root, "deployments/d-deep.yaml", "[".repeat(100_000));
    write(root, "deployments/e-tabs.yaml", "release:\t\"3.11\"\ncloud: aws\n\tbad: indent\n");
    write(
        root,
        "deployments/f-anchors.yaml",
        "base: &b {id: ami-0123abcd}\nbastion: {machine_image: *b}\nrelease: '3.11'\ncloud: aws\n",
    );
    fs::create_dir_all(root.join("deployments/g-folder.yaml")).unwrap();
    let output = xtask(&["lint-deployments", "--root", root.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let paths: Vec<&str> =
        document["diagnostics"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
    for name in ["a-empty", "b-list", "c-binary", "d-deep", "e-tabs", "g-folder"] {
        assert!(paths.iter().any(|path| path.contains(name)), "{name} got no diagnostic: {paths:?}");
    }
}

#[test]
fn explain_covers_both_catalogues() {
    let deployment = stdout(&xtask(&["lint", "--explain", "stale-image"]));
    assert!(deployment.starts_with("DEP009 stale-image (warning)"), "{deployment}");
    let template = stdout(&xtask(&["lint", "--explain", "PKR201"]));
    assert!(template.starts_with("PKR201 undeclared-variable"), "{template}");
    // Every linter explains every rule, whichever catalogue it is in.
    let across = stdout(&xtask(&["lint-templates", "--explain", "stale-image"]));
    assert!(across.starts_with("DEP009 stale-image (warning)"), "{across}");
    let across = stdout(&xtask(&["lint-deployments", "--explain", "undeclared-variable"]));
    assert!(across.starts_with("PKR201 undeclared-variable"), "{across}");
    // A name both catalogues use: each linter its own, `lint` both.
    assert!(stdout(&xtask(&["lint-templates", "--explain", "duplicate-key"])).starts_with("PKR006"));
    assert!(stdout(&xtask(&["lint-deployments", "--explain", "duplicate-key"])).starts_with("DEP002"));
    let both = stdout(&xtask(&["lint", "--explain", "duplicate-key"]));
    assert!(both.contains("PKR006 duplicate-key") && both.contains("DEP002 duplicate-key"), "{both}");
}

#[test]
fn lint_takes_var_files_like_lint_templates() {
    let dir = tempfile::tempdir().unwrap();
    let template = r#"{"builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [{"type": "shell-local", "inline": ["echo {{user `colour`}}"]}]}"#;
    write(dir.path(), "packer/3.11/aws/machine-image/template.json", template);
    write(dir.path(), "vars.json", r#"{"colour": "blue"}"#);
    let root = dir.path().to_str().unwrap();
    let without = xtask(&["lint", "--root", root]);
    assert!(stdout(&without).contains("undeclared-variable"), "{}", stdout(&without));
    let vars = dir.path().join("vars.json");
    let with = xtask(&["lint", "--root", root, "--var-file", vars.to_str().unwrap()]);
    assert!(!stdout(&with).contains("undeclared-variable"), "{}", stdout(&with));
}

/// Two checkouts that share a target folder run one build of xtask; each
/// must lint itself. Rather than build xtask in two copies of the workspace
/// (a cold build each, a minute on this project's two cores), this runs the
/// binary the way `cargo run` starts it: `CARGO_MANIFEST_DIR` set to the
/// checkout's `xtask/` and the current folder inside it. The binary was
/// compiled in this workspace, so a root fixed at compile time would lint
/// this workspace in both.
#[test]
fn each_checkout_lints_itself_with_a_shared_build() {
    let checkout = |name: &str| {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "Cargo.toml", "[workspace]\nmembers = [\"xtask\"]\n");
        fs::create_dir_all(dir.path().join("xtask")).unwrap();
        write(dir.path(), &format!("deployments/only-in-{name}.yaml"), "release: \"3.11\"\n");
        dir
    };
    let run = |command: &mut std::process::Command| {
        let output = command.arg("lint-deployments").env("NO_COLOR", "1").output().unwrap();
        format!("{}{}", stdout(&output), common::stderr(&output))
    };
    let (a, b) = (checkout("a"), checkout("b"));
    for (this, own, other) in [(&a, "only-in-a", "only-in-b"), (&b, "only-in-b", "only-in-a")] {
        let shown = run(std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .current_dir(this.path())
            .env("CARGO_MANIFEST_DIR", this.path().join("xtask")));
        assert!(shown.contains(&format!("deployments/{own}.yaml")), "did not lint its own checkout:\n{shown}");
        assert!(!shown.contains(other), "linted the other checkout:\n{shown}");
    }

    // Without cargo, from a folder inside the checkout, which names the
    // file from there.
    let shown = run(std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(a.path().join("deployments"))
        .env_remove("CARGO_MANIFEST_DIR"));
    assert!(shown.contains("--> only-in-a.yaml:1:1"), "{shown}");

    let nowhere = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("lint-deployments")
        .current_dir(nowhere.path())
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = common::stderr(&output);
    assert!(message.contains("run cargo xtask inside the repository") && message.contains("--root"), "{message}");
}

#[test]
fn a_corrupt_lock_is_an_error_not_an_absent_lock() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fixture = fixtures().join("deployment-rules/stale-image");
    for rel in ["packer/3.11/aws/machine-image/template.json", "deployments/frankfurt.yaml"] {
        write(root, rel, fs::read(fixture.join(rel)).unwrap());
    }
    let lock = fs::read_to_string(fixture.join("packer/images.lock")).unwrap();
    write(root, "packer/images.lock", &lock[..lock.len() / 2]);
    for command in ["lint", "lint-deployments"] {
        let output = xtask(&[command, "--root", root.to_str().unwrap()]);
        let message = common::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{command}: {}{message}", stdout(&output));
        assert!(message.contains("packer/images.lock is not a valid lock file"), "{command}: {message}");
        assert!(message.contains("restore it from git"), "{command}: {message}");
    }
    fs::remove_file(root.join("packer/images.lock")).unwrap();
    mkfifo(root, "packer/images.lock");
    let output = common::xtask_within(20, &["lint", "--root", root.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let message = common::stderr(&output);
    assert!(message.contains("packer/images.lock: it is a FIFO (named pipe), not a regular file"), "{message}");
}

/// FIFOs, symlinks to nothing and oversized files are reported by name and
/// never opened: opening a FIFO blocks every command for good.
#[test]
fn special_files_are_reported_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fixture = fixtures().join("deployment-rules/stale-image");
    let template = fs::read_to_string(fixture.join("packer/3.11/aws/machine-image/template.json")).unwrap();
    let uploads = template.replacen(
        "\"builders\"",
        "\"provisioners\": [{\"type\": \"shell\", \"script\": \"scripts/pipe.sh\"}],\n  \"builders\"",
        1,
    );
    write(root, "packer/3.11/aws/machine-image/template.json", uploads);
    mkfifo(root, "packer/3.11/aws/machine-image/scripts/pipe.sh");
    mkfifo(root, "packer/3.11/aws/fifo-image/template.json");
    fs::create_dir_all(root.join("packer/3.11/aws/dangling-image")).unwrap();
    std::os::unix::fs::symlink("gone.json", root.join("packer/3.11/aws/dangling-image/template.json")).unwrap();
    std::os::unix::fs::symlink("missing.sh", root.join("packer/3.11/aws/machine-image/scripts/gone.sh")).unwrap();
    write(root, "deployments/frankfurt.yaml", fs::read(fixture.join("deployments/frankfurt.yaml")).unwrap());
    mkfifo(root, "deployments/pipe.yaml");
    std::os::unix::fs::symlink("gone.yaml", root.join("deployments/dangling.yaml")).unwrap();
    let mut huge = String::from("release: \"3.11\"\ncloud: aws\n");
    while huge.len() <= 2 * 1024 * 1024 {
        huge.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    write(root, "deployments/huge.yaml", huge);

    let root_arg = root.to_str().unwrap();
    let fifo = "not a regular file";
    let expected_templates = [
        ("packer/3.11/aws/fifo-image/template.json", "it is a FIFO (named pipe), not a regular file"),
        ("packer/3.11/aws/dangling-image/template.json", "it is a symlink to `gone.json` that does not exist"),
        ("packer/3.11/aws/machine-image/template.json", "`scripts/pipe.sh` cannot be uploaded: it is a FIFO"),
    ];
    let expected_deployments = [
        ("deployments/pipe.yaml", fifo),
        ("deployments/dangling.yaml", "it is a symlink to `gone.yaml` that does not exist"),
        ("deployments/huge.yaml", "over the limit of 1 MiB"),
    ];
    let findings = |output: &std::process::Output| -> Vec<String> {
        let document: Value = serde_json::from_slice(&output.stdout).unwrap();
        document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{}: {}", d["path"].as_str().unwrap(), d["message"].as_str().unwrap()))
            .collect()
    };
    let both = [expected_templates, expected_deployments].concat();
    let runs =
        [("lint-templates", &expected_templates[..]), ("lint-deployments", &expected_deployments), ("lint", &both)];
    for (command, expected) in runs {
        let output = xtask_within(20, &[command, "--root", root_arg, "--format", "json"]);
        assert_eq!(output.status.code(), Some(1), "{command:?}: {}", common::stderr(&output));
        let found = findings(&output);
        for (path, message) in expected {
            assert!(
                found.iter().any(|line| line.starts_with(path) && line.contains(message)),
                "{command:?}: wanted `{path}: …{message}…` in {found:#?}"
            );
        }
        assert!(!found.iter().any(|line| line.contains("gone.sh")), "not referenced, not a template: {found:#?}");
    }

    let output = xtask_within(20, &["images", "--dry-run", "--root", root_arg]);
    let shown = format!("{}{}", stdout(&output), common::stderr(&output));
    for (path, message) in [
        ("deployments/pipe.yaml", fifo),
        ("deployments/dangling.yaml", "that does not exist"),
        ("deployments/huge.yaml", "over the limit of 1 MiB"),
        ("packer/3.11/aws/fifo-image/template.json", fifo),
        ("packer/3.11/aws/machine-image/template.json", "scripts/pipe.sh"),
    ] {
        assert!(shown.lines().any(|line| line.contains(path)), "images --dry-run does not name {path}:\n{shown}");
        assert!(shown.contains(message), "images --dry-run does not say `{message}`:\n{shown}");
    }
}

/// Anchors, aliases, merge keys and a byte order mark are YAML as people
/// write it: the rules see the values a loader sees. A second document, a
/// NUL byte and a merge of a scalar are reported at their place.
#[test]
fn yaml_as_people_write_it() {
    let root = fixtures().join("yaml-as-written");
    let report =
        lint_deployments::lint(&Options { root, ..Options::default() }, &xtask::catalogue::registry()).unwrap();
    let clean = report.files.iter().find(|file| file.path.ends_with("anchors.yaml")).unwrap();
    assert!(clean.diagnostics.is_empty(), "{}", human::render(&report, "deployment", false, &ShownPaths::default()));
    insta::assert_snapshot!(
        "yaml-as-written.human",
        human::render(&report, "deployment", false, &ShownPaths::default())
    );
}

#[test]
fn lint_says_when_the_lock_is_not_there_yet() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "deployments/a.yaml", "release: '3.11'\ncloud: aws\n");
    let root = dir.path().to_str().unwrap();
    let said = common::stderr(&xtask(&["lint", "--root", root]));
    assert!(said.contains("packer/images.lock does not exist yet, so stale-image and unknown-image"), "{said}");
    write(dir.path(), "packer/images.lock", "{\"version\": 1, \"templates\": {}}\n");
    assert!(!common::stderr(&xtask(&["lint-deployments", "--root", root])).contains("does not exist yet"));
}

/// A root without the folders the linters read (a mistyped --root) is not
/// passed in silence: each command says what it did not find.
#[test]
fn a_root_without_the_folders_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    for (command, note) in [
        ("lint-templates", "has no packer/ folder"),
        ("lint-deployments", "has no deployments/ folder"),
        ("lint", "has neither a packer/ nor a deployments/ folder"),
    ] {
        let output = xtask(&[command, "--root", root]);
        assert_eq!(output.status.code(), Some(0), "{command}");
        assert!(common::stderr(&output).contains(note), "{command}: {}", common::stderr(&output));
    }
}

fn lint_both(root: std::path::PathBuf) -> xtask::diagnostic::Report {
    let request = xtask::lint::Request {
        templates: Vec::new(),
        deployments: Vec::new(),
        everything: true,
        var_files: Vec::new(),
        packer_version: None,
    };
    xtask::lint::lint(root, request, &xtask::catalogue::registry()).unwrap()
}

/// The suppression rules, which both linters report, each with a fixture
/// tree (a template and a deployment) and snapshots: one test per rule.
fn suppression_fires_on_its_fixture(name: &str) {
    let rule = xtask::suppress::rules::RULES
        .iter()
        .find(|rule| rule.name == name)
        .unwrap_or_else(|| panic!("no suppression rule is named {name}"));
    let root = fixtures().join("shared-rules").join(name);
    assert!(root.is_dir(), "rule {name} has no fixture: add tests/fixtures/shared-rules/{name}/");
    let report = lint_both(root);
    let codes: Vec<&str> = report.files.iter().flat_map(|f| &f.diagnostics).map(|d| d.rule.code).collect();
    assert_eq!(codes, [rule.code, rule.code], "in the template and in the deployment");
    insta::assert_snapshot!(
        format!("shared-{name}.human"),
        human::render(&report, "file", false, &ShownPaths::default())
    );
    insta::assert_snapshot!(format!("shared-{name}.json"), json::render(&report));
}

mod suppression_rules {
    use super::suppression_fires_on_its_fixture;

    rule_fixture_tests! { RULE_FIXTURES, suppression_fires_on_its_fixture: invalid_allow, unused_allow }

    #[test]
    fn every_rule_has_a_fixture_test() {
        let rules: Vec<&str> = xtask::suppress::rules::RULES.iter().map(|rule| rule.name).collect();
        crate::common::assert_fixture_list(RULE_FIXTURES, &rules, "shared-rules");
    }
}

/// An allow silences its rules in the whole template, in the whole
/// deployment when it comes before the first key, else on the line below.
#[test]
fn allows_silence_what_they_name_where_they_apply() {
    let report = lint_both(fixtures().join("suppressions"));
    insta::assert_snapshot!("suppressions", human::render(&report, "file", false, &ShownPaths::default()));
    let found: Vec<(&str, &str, usize)> = report
        .files
        .iter()
        .flat_map(|file| file.diagnostics.iter().map(move |d| (file.path.as_str(), d.rule.name, d.span.line)))
        .collect();
    assert_eq!(
        found,
        [
            ("packer/3.11/aws/machine-image/template.json", "unused-allow", 2),
            ("deployments/one-line.yaml", "unused-allow", 9),
            ("deployments/one-line.yaml", "malformed-image-id", 11),
        ]
    );
}

/// Without a lock file stale-image and unknown-image cannot run, so an
/// allow for them is not reported as silencing nothing.
#[test]
fn an_allow_for_a_rule_that_needs_the_lock_is_not_unused_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for entry in walkdir::WalkDir::new(fixtures().join("suppressions")) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(fixtures().join("suppressions")).unwrap();
        if entry.file_type().is_file() {
            write(root, rel.to_str().unwrap(), std::fs::read(entry.path()).unwrap());
        }
    }
    let text = "# xtask: allow(stale-image): stays on this image until its upgrade\nrelease: \"3.11\"\ncloud: aws\n\
                bastion:\n  machine_image:\n    id: ami-0a1b2c3d4e5f60718\ncluster:\n  region: eu-central-1\n  \
                machine_image:\n    id: ami-0a1b2c3d4e5f60718\n";
    write(root, "deployments/held-back.yaml", text);
    let report = lint_both(root.to_path_buf());
    let held_back: Vec<&str> = report
        .files
        .iter()
        .filter(|file| file.path == "deployments/held-back.yaml")
        .flat_map(|file| file.diagnostics.iter().map(|d| d.rule.name))
        .collect();
    assert!(held_back.is_empty(), "{held_back:?}");
}

/// An allow may name any linter's rule: in a file of the other linter it
/// silences nothing (`unused-allow`, a warning) rather than naming no rule
/// (`invalid-allow`, an error, which would also stop `images` building).
#[test]
fn an_allow_of_the_other_linters_rule_is_unused_not_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "packer/3.11/aws/machine-image/template.json",
        "{\"_xtask\": \"allow(stale-image): kept\", \"builders\": [{\"type\": \"null\", \"communicator\": \"none\"}]}\n",
    );
    write(root, "deployments/d.yaml", "# xtask: allow(PKR201): kept\nrelease: '3.11'\ncloud: aws\n");
    let report = lint_both(root.to_path_buf());
    for file in &report.files {
        let rules: Vec<&str> = file.diagnostics.iter().map(|d| d.rule.name).collect();
        assert!(rules.contains(&"unused-allow") && !rules.contains(&"invalid-allow"), "{}: {rules:?}", file.path);
    }
    assert_eq!(report.files.len(), 2);
}

/// `duplicate-key` is a rule of both linters: in a deployment's allow it
/// is the deployment rule, which it silences.
#[test]
fn an_allow_of_a_shared_name_silences_the_files_own_rule() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# xtask: allow(duplicate-key): kept on purpose\nrelease: '3.11'\ncloud: aws\nrelease: '3.11'\n";
    write(dir.path(), "deployments/d.yaml", text);
    let report = lint_both(dir.path().to_path_buf());
    let rules: Vec<&str> = report.files.iter().flat_map(|file| &file.diagnostics).map(|d| d.rule.name).collect();
    assert!(!rules.contains(&"duplicate-key") && !rules.contains(&"unused-allow"), "{rules:?}");
}

/// `xtask.toml`: a rule's severity changed, a rule off, a rule off for the
/// files a pattern matches; a mistake in it names the file and line.
#[test]
fn config_sets_severities_and_ignores() {
    let root = fixtures().join("config");
    let output = xtask(&["lint", "--root", root.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "only warnings are left: {}", stdout(&output));
    insta::assert_snapshot!("config", stdout(&output));

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "xtask.toml", "[rules]\nduplicate-region = \"warning\"\nno-such-rule = \"off\"\n");
    let output = xtask(&["lint", "--root", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let error = common::stderr(&output);
    assert!(error.contains("xtask.toml:3:1: `no-such-rule` is not a rule"), "{error}");
}

/// Each linter looks the rules `xtask.toml` names up among every rule,
/// its own, the other linter's and the suppressions': an unknown name, in
/// `[rules]` or `[per-file-ignores]`, stops it (exit 2) with its place.
#[test]
fn every_linter_looks_up_the_configurations_rules_among_all() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    for (config, said) in [
        (
            "[rules]\nduplicate-region = \"warning\"\nno-such-rule = \"off\"\n",
            "xtask.toml:3:1: `no-such-rule` is not a rule",
        ),
        (
            "[per-file-ignores]\n\"packer/**\" = [\"stale-image\", \"PKR999\"]\n",
            "xtask.toml:2:31: `PKR999` is not a rule",
        ),
    ] {
        write(dir.path(), "xtask.toml", config);
        for command in ["lint", "lint-templates", "lint-deployments"] {
            let output = xtask(&[command, "--root", root]);
            assert_eq!(output.status.code(), Some(2), "{command}: {}", common::text(&output));
            assert!(common::stderr(&output).contains(said), "{command}: {}", common::stderr(&output));
        }
    }
    write(dir.path(), "xtask.toml", "[rules]\nstale-image = \"off\"\nPKR107 = \"off\"\nunused-allow = \"error\"\n");
    for command in ["lint", "lint-templates", "lint-deployments"] {
        let output = xtask(&[command, "--root", root]);
        assert_eq!(output.status.code(), Some(0), "{command}: {}", common::text(&output));
    }
}

/// An HCL2 template feeds the deployments of its release and cloud: its
/// sources' regions, `ami_regions` and variables with defaults count.
#[test]
fn hcl2_templates_feed_deployments() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "Cargo.toml", "");
    write(
        root,
        "packer/4.0/aws/machine-image/main.pkr.hcl",
        r#"variable "copy" {
  type    = string
  default = "eu-north-1"
}
source "amazon-ebs" "frankfurt" {
  region      = "eu-central-1"
  ami_regions = [var.copy]
}
build { sources = ["source.amazon-ebs.frankfurt"] }
"#,
    );
    let deployment = |region: &str| {
        format!(
            "release: \"4.0\"\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-0123456789abcdef0\n\
             cluster:\n  region: {region}\n  machine_image:\n    id: ami-0123456789abcdef0\n"
        )
    };
    write(root, "deployments/stockholm.yaml", deployment("eu-north-1"));
    write(root, "deployments/ireland.yaml", deployment("eu-west-1"));
    write(root, "deployments/old.yaml", deployment("eu-west-1").replace("4.0", "4.1"));
    let output = xtask(&["lint-deployments", "--root", root.to_str().unwrap(), "--format", "json"]);
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    let found: Vec<(&str, &str)> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [("deployments/ireland.yaml", "region-not-built"), ("deployments/old.yaml", "no-template")],
        "{document}"
    );
}

/// Every command on templates and deployments takes the same selection,
/// refuses one that matches nothing with the same status and list, and
/// refuses a missing path with the same status.
#[test]
fn one_command_line_for_every_command() {
    let root = workspace();
    let root = root.to_str().unwrap();
    let summary = |args: &[&str]| -> Value {
        let output = xtask(&[args, &["--root", root, "--format", "json"]].concat());
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", common::text(&output));
        serde_json::from_slice::<Value>(&output.stdout).unwrap()["summary"].clone()
    };
    assert_eq!(summary(&["lint", "--release", "3.11"])["files"], 5, "2 templates and 3 deployments of 3.11");
    assert_eq!(summary(&["lint-deployments", "--cloud", "gce"])["files"], 1);
    assert_eq!(summary(&["lint-deployments", "--release", "3.11", "--image", "machine-image"])["files"], 3);
    assert_eq!(summary(&["lint-templates", "--release", "4.0", "--image", "machine-image"])["files"], 3);

    let status = xtask(&["status", "--root", root, "--cloud", "gce", "--format", "json"]);
    let document: Value = serde_json::from_slice(&status.stdout).unwrap();
    let templates: Vec<&str> =
        document["templates"].as_array().unwrap().iter().map(|entry| entry["template"].as_str().unwrap()).collect();
    assert_eq!(templates, ["packer/3.11/gce/machine-image"]);

    for command in ["lint-templates", "lint-deployments", "lint", "images", "status"] {
        // `images` would build what matches: a dry run only plans.
        let dry_run: &[&str] = if command == "images" { &["--dry-run"] } else { &[] };
        let nothing = xtask(&[&[command, "--root", root, "--release", "9.9"], dry_run].concat());
        assert_eq!(nothing.status.code(), Some(2), "{command}: {}", common::text(&nothing));
        assert!(
            common::stderr(&nothing).contains(
                "no template matches --release 9.9; the releases here: 3.9, 3.11, 4.0; the clouds: aws, gce; the \
                 images: machine-image"
            ),
            "{command}: {}",
            common::stderr(&nothing)
        );
        let missing = xtask(&[command, "--root", root, "no/such/file.yaml"]);
        assert_eq!(missing.status.code(), Some(2), "{command}: {}", common::text(&missing));
        assert!(common::stderr(&missing).contains("`no/such/file.yaml` does not exist"), "{command}");
    }

    let listed = xtask(&["lint", "--explain"]);
    assert_eq!(listed.status.code(), Some(0));
    assert!(stdout(&listed).contains("DEP009  stale-image"), "{}", stdout(&listed));
    assert!(stdout(&listed).contains("PKR201  undeclared-variable"), "{}", stdout(&listed));

    let failing = fixtures().join("deployment-rules/unknown-cloud");
    let failing = failing.to_str().unwrap();
    let coloured = xtask(&["lint-deployments", "--root", failing, "--color", "always"]);
    assert!(stdout(&coloured).contains('\u{1b}'), "--color always colours a pipe: {}", stdout(&coloured));
    let plain = xtask(&["lint-deployments", "--root", failing, "--color", "never"]);
    assert!(!stdout(&plain).contains('\u{1b}'), "{}", stdout(&plain));
}

/// A deployment named on the command line from a subfolder
/// (`../deployments/twice.yaml` from `packer/`) is reported root-relative
/// in the machine outputs and matched so by `[per-file-ignores]`, and shown
/// from the current folder, as a named template is: its path as given was
/// taken for a root-relative one, so JSON said `../deployments/twice.yaml`,
/// no ignore pattern matched it, and the human output said
/// `../../deployments/twice.yaml`.
#[test]
fn a_deployment_named_from_a_subfolder_is_known_by_its_root_relative_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fixture = fixtures().join("deployment-rules/duplicate-key");
    for rel in ["packer/3.11/aws/machine-image/template.json", "deployments/twice.yaml"] {
        write(root, rel, fs::read(fixture.join(rel)).unwrap());
    }
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .args(["--root", root.to_str().unwrap(), "../deployments/twice.yaml"])
            .current_dir(root.join("packer"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        stdout(&output)
    };
    for command in ["lint-deployments", "lint"] {
        assert!(run(&[command]).contains(" --> ../deployments/twice.yaml:10:3"), "{}", run(&[command]));
        assert!(run(&[command, "--format", "json"]).contains("\"path\": \"deployments/twice.yaml\""));
        assert!(run(&[command, "--format", "github"]).contains("file=deployments/twice.yaml,"));
    }
    write(root, "xtask.toml", "[per-file-ignores]\n\"deployments/*.yaml\" = [\"DEP002\"]\n");
    assert!(run(&["lint-deployments"]).contains("no problems found"), "{}", run(&["lint-deployments"]));
}
