//! `cargo xtask lint-templates`: every rule against its fixture, the command
//! line, hostile input, the OKD template as first published, and the corpus.

#[macro_use]
mod common;

use std::fs;

use common::{corpus, corpus_hcl2, fixtures, packer, packer_validate, stdout, workspace, write, xtask};
use serde_json::Value;
use xtask::lint_templates::{self, Options, rules::RULES};
use xtask::project::ShownPaths;
use xtask::render::{human, json, sarif};

/// Lints a tree judged against Packer 1.6.6, the Packer installed here and
/// the one the fixtures were written for, unless the tree's xtask.toml
/// declares its own `[packer]` (or an HCL2 template its `required_version`).
fn lint(root: &std::path::Path) -> xtask::diagnostic::Report {
    let declares = fs::read_to_string(root.join("xtask.toml")).is_ok_and(|text| text.contains("[packer]"));
    let packer_version = (!declares).then_some(xtask::version::Version(1, 6, 6));
    let options = Options { root: root.to_path_buf(), packer_version, ..Options::default() };
    lint_templates::lint(&options, &xtask::catalogue::registry()).unwrap()
}

/// The bad-layout findings of a report: path and message.
fn bad_layout(report: &xtask::diagnostic::Report) -> Vec<(&str, &str)> {
    report
        .files
        .iter()
        .flat_map(|file| file.diagnostics.iter().map(move |d| (file.path.as_str(), d)))
        .filter(|(_, d)| d.rule.name == "bad-layout")
        .map(|(path, d)| (path, d.message.as_str()))
        .collect()
}

/// The newest Packer release xtask knows: the corpora are judged as a
/// team starting today would build them (an HCL2 folder's
/// `required_version` and `required_plugins` still decide for it).
fn todays_packer() -> xtask::version::Version {
    let core = &xtask::schema::knowledge().sources[xtask::schema::CORE];
    *core.versions.last().unwrap()
}

fn codes(report: &xtask::diagnostic::Report) -> Vec<&'static str> {
    report.files.iter().flat_map(|file| &file.diagnostics).map(|d| d.rule.code).collect()
}

/// Each rule has a fixture tree named after it that triggers it, and
/// reviewed snapshots of its human and JSON output: one test per rule.
fn fires_on_its_fixture(name: &str) {
    let rule = RULES.iter().find(|rule| rule.meta.name == name).unwrap_or_else(|| panic!("no rule is named {name}"));
    let root = fixtures().join("rules").join(name);
    assert!(root.is_dir(), "rule {name} has no fixture: add tests/fixtures/rules/{name}/packer/…");
    let report = lint(&root);
    assert!(
        codes(&report).contains(&rule.meta.code),
        "the fixture of {name} does not trigger it:\n{}",
        human::render(&report, "template", false, &ShownPaths::default())
    );
    insta::assert_snapshot!(format!("{name}.human"), human::render(&report, "template", false, &ShownPaths::default()));
    insta::assert_snapshot!(format!("{name}.json"), json::render(&report));
}

/// In a module of their own: `bad_layout` names a helper of this suite too.
mod rules {
    use super::{RULES, fires_on_its_fixture};

    rule_fixture_tests! {
        RULE_FIXTURES, fires_on_its_fixture:
        bad_layout,
        builder_missing_type,
        constant_validation,
        credential_not_sensitive,
        credential_variable_not_sensitive,
        duplicate_builder_name,
        duplicate_declaration,
        duplicate_key,
        duplicate_region,
        env_outside_variables,
        hardcoded_communicator_password,
        hardcoded_credentials,
        invalid_hcl,
        invalid_interpolation,
        invalid_dynamic_block,
        invalid_gce_label,
        invalid_json,
        invalid_plugin_source,
        invalid_shell_source,
        invalid_validation,
        invalid_version_constraint,
        malformed_source_image,
        missing_builders,
        missing_required_field,
        missing_source_file,
        misspelt_credential_variable,
        non_unique_image_name,
        not_an_object,
        personal_path,
        post_processor_missing_type,
        private_key_upload,
        provisioner_missing_type,
        provisioner_without_communicator,
        region_from_environment,
        removed_key,
        sensitive_variable_undeclared,
        unchecked_plugin_type,
        undeclared_data_source,
        undeclared_local,
        undeclared_var_file_variable,
        undeclared_variable,
        undefined_builder_reference,
        unknown_ami_filter,
        unknown_builder_type,
        unknown_function,
        unknown_key,
        unknown_post_processor_type,
        unknown_provisioner_type,
        unknown_top_level_key,
        unquoted_string,
        unreadable_file,
        unsupported_packer_feature,
        unused_declaration,
        unused_variable,
        variable_without_type,
        version_specific_key,
        wrong_cloud,
        wrong_type,
    }

    #[test]
    fn every_rule_has_a_fixture_test() {
        let rules: Vec<&str> = RULES.iter().map(|rule| rule.meta.name).collect();
        crate::common::assert_fixture_list(RULE_FIXTURES, &rules, "rules");
    }
}

/// The SARIF log of every rule's fixture is valid against the schema.
#[test]
fn every_fixture_makes_valid_sarif() {
    let logs: Vec<(String, String)> = RULES
        .iter()
        .map(|rule| {
            let report = lint(&fixtures().join("rules").join(rule.meta.name));
            (rule.meta.name.to_owned(), sarif::render(&report, xtask::catalogue::registry().rules()))
        })
        .collect();
    common::assert_valid_sarif(&logs);
}

#[test]
fn the_example_tree_is_clean() {
    let output = xtask(&["lint-templates", "--root", workspace().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("Checked 6 template files: no problems found."), "{}", stdout(&output));
    // The HCL2 release is selected like the JSON ones, by release and cloud.
    let hcl2 =
        xtask(&["lint-templates", "--root", workspace().to_str().unwrap(), "--release", "4.0", "--cloud", "aws"]);
    assert!(stdout(&hcl2).contains("Checked 3 template files: no problems found."), "{}", stdout(&hcl2));
    let one_file = workspace().join("packer/4.0/aws/machine-image/build.pkr.hcl");
    let folder = xtask(&["lint-templates", "--root", workspace().to_str().unwrap(), one_file.to_str().unwrap()]);
    assert!(stdout(&folder).contains("Checked 3 template files"), "a file names its folder: {}", stdout(&folder));
}

#[test]
fn the_okd_template_as_first_published() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let original = fs::read(corpus.join("okd-3.9-machine-image.json")).unwrap();
    write(dir.path(), "packer/3.9/aws/machine-image/template.json", original);
    let output = xtask(&["lint-templates", "--root", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let found: Vec<(String, u64, u64)> = document["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["rule"].as_str().unwrap().to_owned(), d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()))
        .collect();
    assert!(found.contains(&("non-unique-image-name".to_owned(), 40, 19)), "{found:?}");
    assert!(found.contains(&("undeclared-variable".to_owned(), 41, 27)), "{found:?}");
    let message =
        document["diagnostics"].as_array().unwrap().iter().find(|d| d["rule"] == "undeclared-variable").unwrap();
    assert!(message["message"].as_str().unwrap().contains("`description`"));
}

/// Linting every template of the corpus never crashes, and what it finds
/// is the reviewed list in the snapshot (docs/corpus.md says how it was read).
#[test]
fn the_corpus_lints_without_crashing() {
    let Some(corpus) = corpus() else { return };
    let mut files: Vec<_> = fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 50, "the corpus should hold its 58 templates");
    let packer_version = Some(todays_packer());
    let options = Options { root: corpus.clone(), files, packer_version, ..Options::default() };
    let report = lint_templates::lint(&options, &xtask::catalogue::registry()).unwrap();
    let mut table = String::new();
    for file in &report.files {
        let mut found: Vec<String> = file
            .diagnostics
            .iter()
            .filter(|d| d.rule.name != "bad-layout")
            .map(|d| format!("{}:{} {}", d.span.line, d.span.column, d.rule.name))
            .collect();
        found.dedup();
        table.push_str(&format!("{}\n", file.path));
        for line in found {
            table.push_str(&format!("    {line}\n"));
        }
    }
    insta::assert_snapshot!("corpus", table);
}

/// Every folder of the HCL2 corpus, placed where the tool expects a
/// template (`packer/9.9/<cloud>/<folder>`, the cloud read from the
/// folder's name, `aws` when it names none), lints without crashing, and
/// what it finds is the reviewed list in the snapshot (see docs/corpus.md).
#[test]
fn the_hcl2_corpus_lints_without_crashing() {
    let Some(corpus) = corpus_hcl2() else { return };
    let mut folders: Vec<_> = fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir() && path.file_name().unwrap() != "trees")
        .collect();
    folders.sort();
    assert!(folders.len() >= 35, "the HCL2 corpus should hold its 35 folders");
    let root = tempfile::tempdir().unwrap();
    for folder in &folders {
        let name = folder.file_name().unwrap().to_str().unwrap();
        let cloud = ["aws", "gcp", "azure"].iter().find(|cloud| name.contains(*cloud)).copied().unwrap_or("aws");
        let cloud = if cloud == "gcp" { "gce" } else { cloud };
        for file in fs::read_dir(folder).unwrap() {
            let file = file.unwrap().path();
            let rel = format!("packer/9.9/{cloud}/{name}/{}", file.file_name().unwrap().to_str().unwrap());
            write(root.path(), &rel, fs::read(&file).unwrap());
        }
    }
    let options =
        Options { root: root.path().to_path_buf(), packer_version: Some(todays_packer()), ..Options::default() };
    let report = lint_templates::lint(&options, &xtask::catalogue::registry()).unwrap();
    assert_eq!(report.files.iter().filter(|file| file.path.ends_with(".hcl")).count(), 127);
    let mut table = String::new();
    for file in report.files.iter().filter(|file| !file.diagnostics.is_empty()) {
        table.push_str(&format!("{}\n", file.path.trim_start_matches("packer/9.9/")));
        for d in &file.diagnostics {
            table.push_str(&format!("    {}:{} {}\n", d.span.line, d.span.column, d.rule.name));
        }
    }
    insta::assert_snapshot!("corpus-hcl2", table);
}

/// Templates written for today's Packer, judged by the versions they say
/// they run on (HCL2's `required_version` and `required_plugins`, the
/// repository's `[packer]` in xtask.toml for JSON): none of the errors a
/// Packer 1.6.6 judgement gave on the corpora, and every typo still found.
#[test]
fn todays_templates_are_judged_by_the_versions_they_run_on() {
    let report = lint(&fixtures().join("todays-packer"));
    let messages: Vec<(&str, &str)> = report
        .files
        .iter()
        .flat_map(|file| file.diagnostics.iter())
        .map(|d| (d.rule.name, d.message.as_str()))
        .collect();
    for accepted in [
        "`content`",
        "`env`",
        "`galaxy_force_with_deps`",
        "`snapshot_name`",
        "`http_content`",
        "`token`",
        "`push`",
        "sources.googlecompute.nginx",
        "`metadata_options`",
        "`imds_support`",
        "`ami_name`",
    ] {
        assert!(
            messages.iter().all(|(_, message)| !message.contains(accepted)),
            "today's Packer accepts {accepted}: {messages:#?}"
        );
    }
    for typo in ["`instance_typo`", "`volume_szie`", "`most_recnt`", "`valeu`"] {
        assert!(
            messages.iter().any(|(rule, message)| *rule == "unknown-key" && message.contains(typo)),
            "{typo} is missed"
        );
    }
    assert!(messages.iter().all(|(rule, _)| !rule.starts_with("unknown-") || *rule == "unknown-key"));
    // A key whose type changed between the releases allowed, with a value
    // none of them takes.
    assert!(
        messages.contains(&("wrong-type", "`cores` of the proxmox-iso source takes a whole number, not `\"many\"`"))
    );
    // An alias's types are the plugin's to every rule: `aws-ebs` needs an
    // instance type, may keep a fixed name with force_deregister, and is
    // told what replaces a removed key.
    let aliased: Vec<&str> = report
        .files
        .iter()
        .filter(|file| file.path.contains("/aliased/"))
        .flat_map(|file| file.diagnostics.iter().map(|d| d.rule.name))
        .collect();
    assert_eq!(aliased, ["missing-required-field", "removed-key"], "{messages:#?}");
    insta::assert_snapshot!("todays-packer", human::render(&report, "template", false, &ShownPaths::default()));
}

/// A folder is one template: `template.json` or `*.pkr.hcl` files. With
/// both, each is reported, saying which to keep; both are still linted.
#[test]
fn a_folder_with_json_and_hcl2_says_to_keep_one() {
    let dir = tempfile::tempdir().unwrap();
    let hcl2 = fixtures().join("rules/unknown-function/packer/4.0/aws/machine-image/main.pkr.hcl");
    write(dir.path(), "packer/4.0/aws/machine-image/main.pkr.hcl", fs::read(hcl2).unwrap());
    write(dir.path(), "packer/4.0/aws/machine-image/template.json", r#"{"builders": []}"#);
    let report = lint(dir.path());
    let layout = bad_layout(&report);
    assert_eq!(layout.len(), 2, "{layout:?}");
    assert_eq!(layout[0].0, "packer/4.0/aws/machine-image");
    assert_eq!(layout[1].0, "packer/4.0/aws/machine-image/template.json");
    assert!(layout.iter().all(|(_, message)| message.contains("keep template.json or the .pkr.hcl files")));
    assert!(codes(&report).contains(&"PKR507"), "the HCL2 files are still linted");
    assert!(codes(&report).contains(&"PKR101"), "the JSON template is still linted");
}

/// Packer decodes settings whatever the letter case of their keys, and
/// so does missing-required-field.
#[test]
fn required_settings_are_found_in_any_letter_case() {
    let dir = tempfile::tempdir().unwrap();
    let template = r#"{"builders": [{"type": "amazon-ebs", "Region": "eu-west-1", "Source_AMI": "ami-0123456789abcdef0",
        "INSTANCE_TYPE": "t3.micro", "SSH_USERNAME": "core", "Ami_Name": "base-{{timestamp}}"}]}"#;
    write(dir.path(), "packer/3.9/aws/machine-image/template.json", template);
    let report = lint(dir.path());
    assert!(!codes(&report).contains(&"PKR105"), "{:?}", codes(&report));
}

/// In an HCL2 file, `# xtask:` and `// xtask:` comments allow for the line
/// below, or for the file before its first block; one that silences
/// nothing is reported.
#[test]
fn hcl2_comments_allow_findings_where_they_stand() {
    let dir = tempfile::tempdir().unwrap();
    let folder = "packer/4.0/aws/machine-image";
    let source = |allow: &str| {
        format!(
            "source \"amazon-ebs\" \"x\" {{\n  region        = \"eu-west-1\"\n  source_ami    = \"ami-03cf127a\"\n  \
             instance_type = \"t2.micro\"\n  ssh_username  = \"core\"\n{allow}  ami_description = var.nope\n  \
             ami_name      = \"x-${{uuidv4()}}\"\n}}\nbuild {{\n  sources = [\"source.amazon-ebs.x\"]\n}}\n"
        )
    };
    let names = |root: &std::path::Path| -> Vec<&'static str> {
        let report = lint(root);
        report.files.iter().flat_map(|file| &file.diagnostics).map(|d| d.rule.name).collect()
    };
    write(dir.path(), &format!("{folder}/main.pkr.hcl"), source(""));
    assert_eq!(names(dir.path()), ["undeclared-variable"]);
    write(
        dir.path(),
        &format!("{folder}/main.pkr.hcl"),
        source("  // xtask: allow(undeclared-variable): set by the wrapper\n"),
    );
    assert_eq!(names(dir.path()), Vec::<&str>::new());
    let head = format!("# xtask: allow(undeclared-variable): set by the wrapper\n{}", source(""));
    write(dir.path(), &format!("{folder}/main.pkr.hcl"), head);
    assert_eq!(names(dir.path()), Vec::<&str>::new());
    write(dir.path(), &format!("{folder}/main.pkr.hcl"), source("  # xtask: allow(duplicate-region): nothing here\n"));
    assert_eq!(names(dir.path()), ["unused-allow", "undeclared-variable"]);
}

/// Files in HCL's JSON syntax, which Packer reads and xtask does not, are
/// reported, also in a folder that has no other template file.
#[test]
fn files_in_hcls_json_syntax_are_reported_not_passed_by() {
    let dir = tempfile::tempdir().unwrap();
    let hcl2 = fixtures().join("rules/unknown-function/packer/4.0/aws/machine-image/main.pkr.hcl");
    write(dir.path(), "packer/4.0/aws/machine-image/main.pkr.hcl", fs::read(hcl2).unwrap());
    write(dir.path(), "packer/4.0/aws/machine-image/extra.pkr.json", "{}");
    write(dir.path(), "packer/4.0/aws/bastion-image/only.pkr.json", "{}");
    write(dir.path(), "packer/4.0/aws/bastion-image/values.auto.pkrvars.json", "{}");
    let report = lint(dir.path());
    let layout = bad_layout(&report);
    assert_eq!(layout.len(), 2, "{layout:?}");
    assert_eq!(layout[0].0, "packer/4.0/aws/bastion-image");
    assert!(layout[0].1.contains("only.pkr.json, values.auto.pkrvars.json"), "{layout:?}");
    assert_eq!(layout[1].0, "packer/4.0/aws/machine-image");
    assert!(layout[1].1.contains("extra.pkr.json"), "{layout:?}");
}

/// The HCL2 reader never panics nor hangs: arbitrary bytes, and the
/// corpus's real templates cut, spliced and with bytes flipped, each read
/// and linted within a bounded time.
#[test]
fn the_hcl2_reader_survives_generated_input() {
    if common::skip_slow_test("generated HCL2 input, thousands of cases") {
        return;
    }
    use std::time::{Duration, Instant};
    let Some(corpus) = corpus_hcl2() else { return };
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for folder in fs::read_dir(&corpus).unwrap() {
        let folder = folder.unwrap().path();
        if folder.is_dir() {
            for file in fs::read_dir(&folder).unwrap() {
                seeds.push(fs::read(file.unwrap().path()).unwrap());
            }
        }
    }
    seeds.sort();
    // A fixed xorshift: the same inputs on every run.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"(",
        b")",
        b"\"",
        b"${",
        b"%{",
        b"<<EOF\n",
        b"\nEOF\n",
        b"=",
        b".",
        b"*",
        b"#",
        b"//",
        b"/*",
        b"\\",
        b"\n",
        b"\xff",
        b"\xe2\x82",
        b"for x in",
        b":",
        b"?",
        b"...",
    ];
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("packer/9.9/aws/fuzz");
    fs::create_dir_all(&folder).unwrap();
    for round in 0..2000 {
        let mut input: Vec<u8> = if round % 5 == 0 {
            (0..next() % 512).map(|_| next() as u8).collect()
        } else {
            seeds[next() as usize % seeds.len()].clone()
        };
        for _ in 0..1 + next() % 6 {
            let at = if input.is_empty() { 0 } else { next() as usize % input.len() };
            match next() % 4 {
                0 => input.truncate(at),
                1 => input.splice(at..at, TOKENS[next() as usize % TOKENS.len()].iter().copied()).for_each(drop),
                2 if !input.is_empty() => input[at] = next() as u8,
                _ => {
                    let other = &seeds[next() as usize % seeds.len()];
                    let from = next() as usize % other.len().max(1);
                    input.splice(at..at, other[from..].iter().take(200).copied()).for_each(drop);
                }
            }
        }
        let one = Instant::now();
        let _ = xtask::hcl2::parse_file(0, "fuzz.pkr.hcl", String::from_utf8_lossy(&input).into_owned());
        fs::write(folder.join("main.pkr.hcl"), &input).unwrap();
        fs::write(folder.join("vars.auto.pkrvars.hcl"), &input[..input.len() / 2]).unwrap();
        let report = lint(dir.path());
        assert!(!report.files.is_empty());
        assert!(one.elapsed() < Duration::from_secs(2), "round {round} took {:?}", one.elapsed());
    }
    // Nesting deep enough to overflow a recursive parser's stack.
    let deep = format!("a = {}{}\n{}", "[".repeat(100_000), "]".repeat(100_000), "b {\n".repeat(10_000));
    assert!(xtask::hcl2::parse_file(0, "deep.pkr.hcl", deep).is_err());
    assert!(started.elapsed() < Duration::from_secs(120), "the run took {:?}", started.elapsed());
}

#[test]
fn hostile_input_gets_diagnostics_and_the_rest_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ok = r#"{"builders": [{"type": "null", "communicator": "none"}]}"#;
    write(root, "packer/3.9/aws/a-empty/template.json", "");
    write(root, "packer/3.9/aws/b-bom/template.json", format!("\u{feff}{ok}"));
    write(root, "packer/3.9/aws/c-not-utf8/template.json", b"{\"builders\": \"\xff\xfe\"}");
    write(root, "packer/3.9/aws/d-deep/template.json", "[".repeat(100_000) + &"]".repeat(100_000));
    let mut large = String::from("{\"builders\": [], \"_pad\": \"");
    large.push_str(&"x".repeat(10 * 1024 * 1024));
    large.push_str("\"}");
    write(root, "packer/3.9/aws/e-large/template.json", large);
    fs::create_dir_all(root.join("packer/3.9/aws/f-folder/template.json")).unwrap();
    fs::create_dir_all(root.join("packer/3.9/aws/g-loop")).unwrap();
    std::os::unix::fs::symlink("template.json", root.join("packer/3.9/aws/g-loop/template.json")).unwrap();
    std::os::unix::fs::symlink("..", root.join("packer/3.9/aws/h-dir-loop")).unwrap();
    write(root, "packer/3.9/aws/z-valid/template.json", r#"{"builders": [{"type": "amazon-eb"}]}"#);

    let output = xtask(&["lint-templates", "--root", root.to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", common::stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let by_path = |fragment: &str| -> Vec<String> {
        document["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["path"].as_str().unwrap().contains(fragment))
            .map(|d| format!("{}: {}", d["rule"].as_str().unwrap(), d["message"].as_str().unwrap()))
            .collect()
    };
    let expect = |fragment: &str, wanted: &str| {
        let found = by_path(fragment);
        assert!(found.iter().any(|line| line.contains(wanted)), "{fragment}: wanted `{wanted}` in {found:?}");
    };
    expect("a-empty", "invalid-json: the file is empty");
    expect("b-bom", "byte order mark");
    expect("c-not-utf8", "not UTF-8");
    expect("d-deep", "recursion limit");
    expect("e-large", "templates over 8 MiB are not read");
    expect("f-folder", "this is a folder");
    expect("g-loop", "unreadable-file");
    expect("h-dir-loop", "symbolic link loop");
    expect("z-valid", "unknown-builder-type");
}

#[test]
fn exit_codes_and_command_line() {
    let clean = workspace();
    let root = clean.to_str().unwrap();
    assert_eq!(xtask(&["lint-templates", "--root", root]).status.code(), Some(0));
    let failing = fixtures().join("rules/undeclared-variable");
    assert_eq!(xtask(&["lint-templates", "--root", failing.to_str().unwrap()]).status.code(), Some(1));
    // Warnings alone do not fail the run.
    let warning_only = fixtures().join("rules/unused-variable");
    assert_eq!(xtask(&["lint-templates", "--root", warning_only.to_str().unwrap()]).status.code(), Some(0));

    let missing = xtask(&["lint-templates", "--root", "/no/such/folder"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(common::stderr(&missing).contains("/no/such/folder"));
    assert_eq!(xtask(&["lint-templates", "--format", "yaml"]).status.code(), Some(2));
    assert_eq!(xtask(&["lint-templates", "--explain", "no-such-rule"]).status.code(), Some(2));
}

/// Diagnostics name files from the folder the person stands in when it is
/// inside the repository, and from the root when it is not (`--root`
/// elsewhere); the machine outputs keep them root-relative.
#[test]
fn paths_are_shown_from_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("infra");
    let rel = "packer/3.9/aws/machine-image/template.json";
    write(&root, rel, fs::read(fixtures().join("rules/undeclared-variable").join(rel)).unwrap());
    write(&root, "Cargo.toml", "[workspace]\n");
    let run = |here: &std::path::Path, args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .current_dir(here)
            .env("NO_COLOR", "1")
            // Set for this test by cargo: it would make xtask work on this
            // workspace rather than the one made here.
            .env_remove("CARGO_MANIFEST_DIR")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{args:?} in {}: {}", here.display(), stdout(&output));
        stdout(&output)
    };
    let release = root.join("packer/3.9");
    let root_arg = root.to_str().unwrap();
    for (here, args, shown) in [
        (&root, &["lint-templates"][..], "--> packer/3.9/aws/machine-image/template.json:10:25"),
        (&release, &["lint-templates"], "--> aws/machine-image/template.json:10:25"),
        (&release, &["lint"], "--> aws/machine-image/template.json:10:25"),
        (&release, &["lint", "--root", root_arg], "--> aws/machine-image/template.json:10:25"),
        (&release, &["lint-templates", "aws"], "--> aws/machine-image/template.json:10:25"),
        (&root.join("packer/3.9/aws/machine-image"), &["lint"], "--> template.json:10:25"),
        (
            &dir.path().to_path_buf(),
            &["lint", "--root", root_arg],
            "--> packer/3.9/aws/machine-image/template.json:10:25",
        ),
        (&release, &["lint", "--format", "json"], "\"path\": \"packer/3.9/aws/machine-image/template.json\""),
        (&release, &["lint", "--format", "github"], "file=packer/3.9/aws/machine-image/template.json,"),
    ] {
        let said = run(here, args);
        assert!(said.contains(shown), "{args:?} in {}: {said}", here.display());
    }
}

/// `lint` takes `--packer-version` as `lint-templates` does: a key an old
/// Packer's amazon-ebs lacks is an error judged there, and fine today.
#[test]
fn lint_judges_templates_at_the_packer_version_given() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "packer/4.9/aws/machine-image/template.json",
        r#"{"builders": [{"type": "amazon-ebs", "region": "eu-west-1", "source_ami": "ami-03cf127a",
           "instance_type": "t3.micro", "ssh_username": "admin", "ami_name": "base-{{timestamp}}",
           "imds_support": "v2.0"}]}"#,
    );
    let root = dir.path().to_str().unwrap();
    let old = xtask(&["lint", "--root", root, "--packer-version", "1.6.6"]);
    assert_eq!(old.status.code(), Some(1), "{}", stdout(&old));
    assert!(stdout(&old).contains("in Packer 1.6.6 (--packer-version)"), "{}", stdout(&old));
    let today = xtask(&["lint", "--root", root, "--packer-version", "1.16.0"]);
    assert_eq!(today.status.code(), Some(0), "{}", stdout(&today));
}

#[test]
fn filters_and_explicit_files() {
    let root = workspace();
    let root = root.to_str().unwrap();
    let only_gce = stdout(&xtask(&["lint-templates", "--root", root, "--cloud", "gce", "--format", "json"]));
    let document: Value = serde_json::from_str(&only_gce).unwrap();
    assert_eq!(document["summary"]["files"], 1);
    let releases = stdout(&xtask(&[
        "lint-templates",
        "--root",
        root,
        "--release",
        "3.9",
        "--release",
        "3.11",
        "--format",
        "json",
    ]));
    assert_eq!(serde_json::from_str::<Value>(&releases).unwrap()["summary"]["files"], 3);

    let file = fixtures().join("rules/undeclared-variable/packer/3.9/aws/machine-image/template.json");
    let output = xtask(&[
        "lint-templates",
        "--root",
        fixtures().join("rules/undeclared-variable").to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("--> packer/3.9/aws/machine-image/template.json:10:25"), "{}", stdout(&output));

    // A folder stands for the templates in and below it: a JSON template's
    // folder is its template.json (not an HCL2 folder without a build), a
    // release folder every template of that release.
    let json_folder = workspace().join("packer/3.11/aws/machine-image");
    let output = xtask(&["lint-templates", "--root", root, json_folder.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("Checked 1 template file: no problems found."), "{}", stdout(&output));
    let release = workspace().join("packer/3.11");
    let output = xtask(&["lint-templates", "--root", root, release.to_str().unwrap(), "--format", "json"]);
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["summary"]["files"], 2, "{}", stdout(&output));
    let no_template = workspace().join("packer/3.11/aws/machine-image/scripts");
    let output = xtask(&["lint-templates", "--root", root, no_template.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("holds no template"), "{}", common::stderr(&output));
}

#[test]
fn var_files_declare_variables() {
    let root = fixtures().join("rules/undeclared-variable");
    let dir = tempfile::tempdir().unwrap();
    let vars = write(
        dir.path(),
        "vars.json",
        r#"{"description": "set per build", "instance_type": "t2.micro", "regio": "eu-west-1"}"#,
    );
    let output = xtask(&["lint-templates", "--root", root.to_str().unwrap(), "--var-file", vars.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn explain_prints_the_rule_doc() {
    let by_code = stdout(&xtask(&["lint-templates", "--explain", "PKR201"]));
    let by_name = stdout(&xtask(&["lint-templates", "--explain", "undeclared-variable"]));
    assert_eq!(by_code, by_name);
    assert!(by_code.starts_with("PKR201 undeclared-variable (error)"));
    assert!(by_code.contains("## Why is this bad?"));
    let near = xtask(&["lint-deployments", "--explain", "duplicat-region"]);
    assert_eq!(near.status.code(), Some(2));
    let said = common::stderr(&near);
    assert!(said.contains("there is no rule `duplicat-region`; did you mean `duplicate-region`?"), "{said}");
}

#[test]
fn github_format() {
    let root = fixtures().join("rules/undeclared-variable");
    let output = stdout(&xtask(&["lint-templates", "--root", root.to_str().unwrap(), "--format", "github"]));
    insta::assert_snapshot!("github-format", output);
}

/// SARIF for code scanning: the results in full (the rule catalogue, which
/// grows with every rule, is checked apart), valid against the schema.
#[test]
fn sarif_format() {
    let root = fixtures().join("rules/undeclared-variable");
    let output = xtask(&["lint-templates", "--root", root.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1));
    let log: Value = serde_json::from_str(&stdout(&output)).unwrap();
    common::assert_valid_sarif(&[("undeclared-variable".to_owned(), stdout(&output))]);
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let mut results = run["results"].clone();
    for result in results.as_array_mut().unwrap() {
        let rule = &rules[result["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], result["ruleId"]);
        result["ruleIndex"] = Value::from("<index of PKR201>");
    }
    insta::assert_snapshot!("sarif-results", serde_json::to_string_pretty(&results).unwrap());
    let rule = rules.iter().find(|rule| rule["id"] == "PKR201").unwrap();
    assert_eq!(rule["name"], "undeclared-variable");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert!(rule["shortDescription"]["text"].as_str().unwrap().starts_with("Reports"));
    assert!(rule["help"]["markdown"].as_str().unwrap().contains("## Why is this bad?"));
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(rules.len(), xtask::catalogue::registry().rules().len());
}

/// A finding keeps its fingerprint when lines are added above it, and two
/// findings never share one.
#[test]
fn sarif_fingerprints_survive_moved_lines() {
    let fingerprints = |template: &str| -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "packer/3.9/aws/machine-image/template.json", template);
        let log: Value =
            serde_json::from_str(&sarif::render(&lint(dir.path()), xtask::catalogue::registry().rules())).unwrap();
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|result| result["partialFingerprints"]["xtaskFinding/v1"].as_str().unwrap().to_owned())
            .collect()
    };
    let body = r#""builders": [{"type": "null", "communicator": "none", "a": "{{user `x`}} {{user `x`}}"}]}"#;
    let before = fingerprints(&format!("{{\n{body}\n"));
    let after = fingerprints(&format!("{{\n\n\n  \"description\": \"moved\",\n{body}\n"));
    let distinct: std::collections::BTreeSet<&String> = before.iter().collect();
    assert!(before.len() >= 2 && distinct.len() == before.len(), "{before:?}");
    assert_eq!(before, after);
}

/// `--statistics`: the count per rule, most first, with the summary; every
/// linter takes it.
#[test]
fn statistics() {
    let dir = tempfile::tempdir().unwrap();
    let template = r#"{"builders": [{"type": "null", "communicator": "none", "a": "{{user `x`}} {{user `y`}}"}],
        "variables": {"unused": ""}, "provisioner": []}"#;
    write(dir.path(), "packer/3.9/aws/machine-image/template.json", template);
    let output = xtask(&["lint-templates", "--root", dir.path().to_str().unwrap(), "--statistics"]);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("statistics", stdout(&output));
    for command in ["lint", "lint-deployments"] {
        let output = xtask(&[command, "--root", workspace().to_str().unwrap(), "--statistics"]);
        assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
        assert!(stdout(&output).contains("no problems found."), "{}", stdout(&output));
    }
    let both = xtask(&["lint", "--statistics", "--format", "json"]);
    assert_eq!(both.status.code(), Some(2), "--statistics is an output of its own");
}

#[test]
fn secrets_are_never_printed() {
    let root = fixtures().join("rules/hardcoded-credentials");
    for format in ["human", "json", "github", "sarif"] {
        let output = stdout(&xtask(&["lint-templates", "--root", root.to_str().unwrap(), "--format", format]));
        assert!(output.contains("PKR205"), "{output}");
        for secret in ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "EXAMPLEKEY"] {
            assert!(!output.contains(secret), "{format} output shows a secret:\n{output}");
        }
    }
}

/// Each use of a variable is shown where it is, not at its first use,
/// also after an escape earlier in the same string: the first as the
/// finding, the others as its related places.
#[test]
fn each_use_gets_its_own_column() {
    let dir = tempfile::tempdir().unwrap();
    let line = r#"  "description": "\"é\" {{user `name`}} and {{user `name`}}","#;
    let template = format!("{{\n{line}\n  \"builders\": [{{\"type\": \"null\", \"communicator\": \"none\"}}]\n}}\n");
    write(dir.path(), "packer/3.9/aws/machine-image/template.json", template);
    let report = lint(dir.path());
    let found: Vec<_> = report.files[0].diagnostics.iter().filter(|d| d.rule.name == "undeclared-variable").collect();
    assert_eq!(found.len(), 1, "one finding per variable");
    let mut places = vec![(found[0].span.line, found[0].span.column, found[0].span.end_column)];
    places.extend(found[0].related.iter().map(|r| (r.span.line, r.span.column, r.span.end_column)));
    let first = line.find("{{").unwrap() - 1;
    let second = line.rfind("{{").unwrap() - 1;
    let width = "{{user `name`}}".len();
    assert_eq!(places, vec![(2, first + 1, first + 1 + width), (2, second + 1, second + 1 + width)]);
}

/// The schema rules and missing-required-field never claim that Packer
/// refuses what it takes: the real `packer validate` refuses every
/// template of their fixtures, and names every key the linter names
/// (missing-required-field's fixtures each lack one thing, so the refusal
/// is about it).
#[test]
fn packer_refuses_what_the_linter_says_it_refuses() {
    if common::skip_slow_test("packer validate on every fixture") {
        return;
    }
    let packer = packer();
    for name in ["unknown-key", "removed-key", "wrong-type", "missing-required-field"] {
        let root = fixtures().join("rules").join(name);
        let report = lint(&root);
        // The installed Packer can only vouch for findings judged against it.
        for d in report.files.iter().flat_map(|file| &file.diagnostics).filter(|d| d.rule.name == name) {
            let judged_elsewhere = d.message.contains(" in ") && !d.message.contains("Packer 1.6.6");
            assert!(!judged_elsewhere, "{name}: `{}` is not judged against Packer 1.6.6", d.message);
        }
        for file in &report.files {
            let keys: Vec<&str> = file
                .diagnostics
                .iter()
                .filter(|d| d.rule.name == name)
                .map(|d| {
                    d.message
                        .split('`')
                        .nth(3)
                        .filter(|_| name == "missing-required-field")
                        .unwrap_or_else(|| d.message.split('`').nth(1).expect("the message names the key"))
                })
                .collect();
            assert!(!keys.is_empty(), "{name}: {} triggers nothing", file.path);
            let (accepted, output) = packer_validate(&packer, &root.join(&file.path));
            assert!(!accepted, "{name}: Packer accepts {}, which the linter says it refuses", file.path);
            let output = output.split_whitespace().collect::<Vec<_>>().join(" ");
            for key in keys {
                // Where Packer's message says it in other words.
                let said = match key {
                    "iso_checksum" => "A checksum must be specified",
                    "ssh_host" => "a Host must be specified",
                    "source_ami_filter.owners" => "source AMI filter must declare an owner",
                    "destination" => "Destination must be specified",
                    key => key,
                };
                assert!(output.contains(said), "{name}: Packer does not name `{key}` in {}:\n{output}", file.path);
            }
        }
    }
}

/// Every plugin type in the schema is one the installed Packer has and
/// decodes with its unknown-key check, and the plugins Debian leaves out
/// are unknown to it: the schema, and the known types the type rules
/// read from it, are those of this Packer.
/// What the HCL2 rules call an error, Packer 1.6.6 refuses too, with its
/// own words for it (the rules that read `packer` and `data` blocks are
/// left out: Packer 1.6.6 refuses those blocks themselves). Fixtures
/// judged against newer releases (`version-specific-key`,
/// `unsupported-packer-feature`, `unchecked-plugin-type`, `todays-packer`)
/// are not here either: Packer 1.6.6 cannot speak for them.
#[test]
fn packer_refuses_what_the_hcl2_rules_report() {
    let packer = packer();
    let cases = [
        ("invalid-hcl", "machine-image", "Missing argument separator"),
        ("undeclared-variable", "hcl2-image", "Unsupported attribute"),
        ("undeclared-local", "machine-image", "Unsupported attribute"),
        ("unknown-function", "machine-image", "Call to unknown function"),
        ("unquoted-string", "machine-image", "Unknown variable"),
        ("duplicate-builder-name", "hcl2-image", "Duplicate source block"),
        ("undefined-builder-reference", "hcl2-image", "Unknown source amazon-ebs.frankfrut"),
        ("unknown-builder-type", "hcl2-image", "Unknown source type amazon-ebz"),
        ("unknown-provisioner-type", "hcl2-image", "Unknown provisioner type \"shel\""),
        ("duplicate-declaration", "machine-image", "Duplicate"),
        ("invalid-validation", "machine-image", "Invalid validation error message"),
        ("invalid-validation", "machine-image", "Invalid reference in variable validation"),
        ("invalid-validation", "machine-image", "Function calls not allowed"),
        ("invalid-validation", "machine-image", "\"error_message\" is required"),
        ("invalid-dynamic-block", "machine-image", "Missing dynamic content block"),
        ("invalid-dynamic-block", "hcl2-image", "Cannot use a string value in for_each"),
        ("invalid-dynamic-block", "hcl2-provisioners", "The argument \"labels\" is required"),
    ];
    for (name, image, words) in cases {
        let folder = fixtures().join("rules").join(name).join("packer/4.0/aws").join(image);
        let output = std::process::Command::new(&packer)
            .args(["validate", "."])
            .current_dir(&folder)
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        let shown = format!("{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
        assert!(!output.status.success(), "{name}: Packer accepts {}", folder.display());
        assert!(shown.contains(words), "{name}: Packer does not say `{words}`:\n{shown}");
    }
}

/// What `constant-validation` says of a condition is what Packer 1.6.6
/// does with it: `can()` of a test lets a value the test refuses through,
/// `contains()` with its arguments swapped stops the build, and each
/// corrected condition refuses the bad value with its message.
#[test]
fn packer_runs_validations_as_constant_validation_says() {
    let packer = packer();
    let validate = |condition: &str, value: &str| {
        let dir = tempfile::tempdir().unwrap();
        let template = format!(
            "variable \"environment\" {{\n  type = string\n  default = \"dev\"\n  validation {{\n    \
             condition = {condition}\n    error_message = \"The environment must be dev or prod.\"\n  }}\n}}\n\
             source \"null\" \"n\" {{\n  communicator = \"none\"\n}}\nbuild {{\n  sources = [\"source.null.n\"]\n}}\n"
        );
        write(dir.path(), "a.pkr.hcl", template);
        let output = std::process::Command::new(&packer)
            .args(["validate", "-var", &format!("environment={value}"), "."])
            .current_dir(dir.path())
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        (output.status.success(), format!("{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr)))
    };
    let (passes, shown) = validate("can(contains([\"dev\", \"prod\"], var.environment))", "staging");
    assert!(passes, "can() of a test lets `staging` through: {shown}");
    let (passes, shown) = validate("contains([\"dev\", \"prod\"], var.environment)", "staging");
    assert!(!passes && shown.contains("The environment must be dev or prod."), "{shown}");
    let (passes, shown) = validate("contains(var.environment, [\"dev\", \"prod\"])", "dev");
    assert!(!passes && shown.contains("argument must be list, tuple, or set"), "{shown}");
    let (passes, shown) = validate("length(var.environment) >= 0", "");
    assert!(passes, "no length is below 0: {shown}");
}

/// Generated validation blocks, judged by both the linter and Packer 1.6.6
/// (`packer validate` with several values for every variable): what
/// `constant-validation` says of a condition holds for every value
/// Packer is given, and `invalid-validation` reports an error message
/// exactly when Packer refuses it.
#[test]
fn generated_validations_agree_with_packer() {
    let packer = packer();
    // A fixed xorshift: the same cases on every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    let atoms: Vec<String> = {
        let mut atoms = vec![
            "contains([\"dev\", \"prod\"], X)".to_owned(),
            "contains(X, [\"dev\", \"prod\"])".to_owned(),
            "can(contains([\"dev\", \"prod\"], X))".to_owned(),
            "X == \"dev\"".to_owned(),
            "can(X == \"dev\")".to_owned(),
            "X != \"\"".to_owned(),
            "upper(X) == \"DEV\"".to_owned(),
            "substr(X, 0, 1) == \"e\"".to_owned(),
            "can(substr(X, 0, 1))".to_owned(),
            "contains(X, \"dev\")".to_owned(),
        ];
        for operator in [">=", ">", "<", "<=", "==", "!="] {
            for bound in ["-1", "0", "1"] {
                atoms.push(format!("length(X) {operator} {bound}"));
                atoms.push(format!("{bound} {operator} length(X)"));
            }
        }
        atoms
    };
    let values = ["dev", "", "eu-west-1", "prod"];
    const LINES: usize = 8;
    let variable = |index: usize, condition: &str, message: &str, default: &str| {
        let condition = condition.replace('X', &format!("var.v{index}"));
        format!(
            "variable \"v{index}\" {{\n  type    = string\n  default = \"{default}\"\n  validation {{\n    \
             condition     = {condition}\n    error_message = \"{message}\"\n  }}\n}}\n"
        )
    };
    let build = "source \"null\" \"n\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.n\"]\n}\n";
    let lint_folder = |text: &str| {
        let root = tempfile::tempdir().unwrap();
        let folder = write(root.path(), "packer/4.0/aws/generated/a.pkr.hcl", text).parent().unwrap().to_owned();
        write(root.path(), "packer/4.0/aws/generated/build.pkr.hcl", build);
        (root, folder)
    };
    let run = |folder: &std::path::Path, args: &[String]| {
        let output = std::process::Command::new(&packer)
            .arg("validate")
            .args(args)
            .arg(".")
            .current_dir(folder)
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stderr).into_owned() + &stdout(&output)
    };
    // Packer's diagnostics, each with the line it names.
    let diagnostics = |shown: &str| -> Vec<(usize, String)> {
        shown
            .split("Error: ")
            .skip(1)
            .filter_map(|block| {
                let line = block.split("on a.pkr.hcl line ").nth(1)?;
                let line: usize = line.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?;
                Some((line, block.to_owned()))
            })
            .collect()
    };

    // Conditions: atoms, and atoms joined with && and ||.
    let mut conditions: Vec<(String, bool)> = atoms.iter().map(|atom| (atom.clone(), true)).collect();
    for _ in 0..30 {
        let (a, b) = (&atoms[next(atoms.len())], &atoms[next(atoms.len())]);
        let joined = if next(2) == 0 { format!("{a} && {b}") } else { format!("{a} || {b}") };
        conditions.push((joined, false));
    }
    let mut text = String::new();
    let mut defaults = Vec::new();
    for (index, (condition, _)) in conditions.iter().enumerate() {
        let default = values[next(values.len())];
        defaults.push(default);
        text.push_str(&variable(index, condition, &format!("Check {index} failed."), default));
    }
    let (root, folder) = lint_folder(&text);
    let report = lint(root.path());
    // For each variable: refused (its message shown) or errored, per run.
    let mut runs: Vec<(bool, Vec<(bool, bool)>)> = Vec::new();
    let mut value_sets: Vec<Option<&str>> = vec![None];
    value_sets.extend(values.iter().map(|value| Some(*value)));
    for value in value_sets {
        let args: Vec<String> = match value {
            Some(value) => (0..conditions.len()).flat_map(|i| ["-var".to_owned(), format!("v{i}={value}")]).collect(),
            None => Vec::new(),
        };
        let shown = run(&folder, &args);
        let found = diagnostics(&shown);
        let outcome = (0..conditions.len())
            .map(|index| {
                // A refusal names the value's place (the file, or the
                // command line); an error, the condition's line.
                let refused = shown.contains(&format!("Check {index} failed."));
                let (first, last) = (index * LINES + 1, index * LINES + LINES);
                let errored =
                    found.iter().any(|(line, block)| (first..=last).contains(line) && !block.contains("failed."));
                (refused, errored)
            })
            .collect();
        runs.push((value.is_none(), outcome));
    }
    let mut claims = 0;
    for file in &report.files {
        for d in file.diagnostics.iter().filter(|d| d.rule.name == "constant-validation") {
            let index = (d.span.line - 1) / LINES;
            let (condition, atom) = &conditions[index];
            let outcomes: Vec<(bool, bool, bool)> =
                runs.iter().map(|(default, outcome)| (*default, outcome[index].0, outcome[index].1)).collect();
            let context = format!("v{index} = {:?}: `{condition}`: {}\n{outcomes:?}", defaults[index], d.message);
            let never_refused = outcomes.iter().all(|(_, refused, errored)| !refused && !errored);
            let always_refused = outcomes.iter().all(|(_, refused, _)| *refused);
            let always_errored = outcomes.iter().all(|(_, _, errored)| *errored);
            let default_errored = outcomes.iter().any(|(default, _, errored)| *default && *errored);
            let holds = if d.message.contains("fails to evaluate for every value") {
                always_errored
            } else if d.message.contains("fails to evaluate with the value the folder gives") {
                default_errored
            } else if !atom {
                continue;
            } else if ["condition is true", "can()", "comparison is true"].iter().any(|words| d.message.contains(words))
            {
                never_refused
            } else if d.message.contains("false for every") {
                always_refused
            } else {
                panic!("a finding the test does not know: {context}")
            };
            assert!(holds, "Packer 1.6.6 disagrees: {context}");
            claims += 1;
        }
    }
    assert!(claims >= 20, "only {claims} claims checked: the generator no longer makes constant conditions");

    // Error messages: refused by the linter exactly when Packer refuses them.
    let starts = ["The", "the", "1 ", "\\\"", "É", "é", " T", "-", ""];
    let ends = [".", "?", "!", "", ",", ". ", ".\\n"];
    let mut text = String::new();
    let mut messages = Vec::new();
    for index in 0..40 {
        let message = format!("{} value{}", starts[next(starts.len())], ends[next(ends.len())]);
        let message = if index % 13 == 0 { String::new() } else { message };
        text.push_str(&variable(index, "X != \"x\"", &message, "dev"));
        messages.push(message);
    }
    let (root, folder) = lint_folder(&text);
    let report = lint(root.path());
    let linted: std::collections::BTreeSet<usize> = report
        .files
        .iter()
        .flat_map(|file| &file.diagnostics)
        .filter(|d| d.rule.name == "invalid-validation")
        .map(|d| (d.span.line - 1) / LINES)
        .collect();
    let refused: std::collections::BTreeSet<usize> = diagnostics(&run(&folder, &[]))
        .iter()
        .filter(|(_, block)| block.contains("Invalid validation error message"))
        .map(|(line, _)| (line - 1) / LINES)
        .collect();
    assert!(refused.len() >= 10 && refused.len() < messages.len(), "{refused:?}");
    assert_eq!(linted, refused, "messages: {messages:?}");
}

/// Generated folders of two files that declare variables (blocks and
/// `variables` entries), locals and sources, some names twice: Packer
/// 1.6.6 refuses a folder for a duplicate exactly when the linter, judging
/// it as 1.6.6, reports a duplicate as an error (`duplicate-declaration`,
/// or `duplicate-builder-name` for sources); a local declared in two
/// blocks, which 1.6.6 accepts, is only a warning.
#[test]
fn generated_duplicates_agree_with_packer() {
    if common::skip_slow_test("packer validate on 40 generated folders of duplicates") {
        return;
    }
    let packer = packer();
    let mut state: u64 = 0x853c_49e6_748f_ea9b;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % below as u64) as usize
    };
    let mut refused_count = 0;
    for case in 0..40 {
        let mut files = [String::new(), String::new()];
        let mut sources = Vec::new();
        for _ in 0..2 + next(4) {
            let file = &mut files[next(2)];
            let name = ["a", "b", "c"][next(3)];
            match next(4) {
                0 => file.push_str(&format!("variable \"v{name}\" {{\n  default = \"x\"\n}}\n")),
                1 => file.push_str(&format!("variables {{\n  v{name} = \"x\"\n}}\n")),
                2 => file.push_str(&format!("locals {{\n  l{name} = \"x\"\n}}\n")),
                _ => {
                    file.push_str(&format!("source \"null\" \"s{name}\" {{\n  communicator = \"none\"\n}}\n"));
                    sources.push(format!("\"source.null.s{name}\""));
                }
            }
        }
        sources.sort();
        sources.dedup();
        if sources.is_empty() {
            files[0].push_str("source \"null\" \"base\" {\n  communicator = \"none\"\n}\n");
            sources.push("\"source.null.base\"".to_owned());
        }
        files[1].push_str(&format!("build {{\n  sources = [{}]\n}}\n", sources.join(", ")));
        let root = tempfile::tempdir().unwrap();
        let folder = write(root.path(), "packer/4.0/aws/generated/a.pkr.hcl", &files[0]).parent().unwrap().to_owned();
        write(root.path(), "packer/4.0/aws/generated/b.pkr.hcl", &files[1]);
        let report = lint(root.path());
        let linted: Vec<String> = report
            .files
            .iter()
            .flat_map(|file| &file.diagnostics)
            .filter(|d| matches!(d.rule.name, "duplicate-declaration" | "duplicate-builder-name"))
            .map(|d| format!("{} {}: {}", d.severity, d.rule.name, d.message))
            .collect();
        let output = std::process::Command::new(&packer)
            .args(["validate", "."])
            .current_dir(&folder)
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap();
        let shown = format!("{}{}", stdout(&output), String::from_utf8_lossy(&output.stderr));
        let refused = !output.status.success() && shown.contains("Duplicate");
        let reported = linted.iter().any(|line| line.starts_with("error "));
        assert_eq!(
            reported, refused,
            "case {case}:\n--- a.pkr.hcl\n{}--- b.pkr.hcl\n{}--- xtask\n{linted:#?}\n--- packer\n{shown}",
            files[0], files[1]
        );
        assert!(output.status.success() || refused, "case {case}: Packer refuses it for another reason:\n{shown}");
        refused_count += usize::from(refused);
    }
    assert!((5..35).contains(&refused_count), "{refused_count} of 40 refused: the generator lost its balance");
}

/// The knowledge of Packer 1.6.6's own components is the installed
/// Packer's: each type it lists there is one Debian's 1.6.6 knows and
/// refuses an unknown key in, but the ones Debian leaves out.
#[test]
fn the_schema_has_the_plugins_of_the_installed_packer() {
    if common::skip_slow_test("every plugin of the installed Packer asked for its keys") {
        return;
    }
    use xtask::codegen::packer_knowledge::DEBIAN_LEAVES_OUT;
    use xtask::schema::{CORE, PluginKind, knowledge};

    let packer = packer();
    let dir = tempfile::tempdir().unwrap();
    let template = |plugin: PluginKind, kind: &str| -> String {
        let probe = format!(r#"{{"type": "{kind}", "xtask_probe": 1}}"#);
        let null = r#"{"type": "null", "communicator": "none"}"#;
        match plugin {
            PluginKind::Builder => format!(r#"{{"builders": [{probe}]}}"#),
            PluginKind::Provisioner => format!(r#"{{"builders": [{null}], "provisioners": [{probe}]}}"#),
            PluginKind::PostProcessor | PluginKind::Datasource => {
                format!(r#"{{"builders": [{null}], "post-processors": [{probe}]}}"#)
            }
        }
    };
    let cases: Vec<(PluginKind, &str, bool)> = knowledge()
        .components
        .iter()
        .filter(|component| component.source == CORE && component.registered & 1 != 0)
        .filter(|component| component.kind != PluginKind::Datasource)
        .map(|component| (component.kind, component.name, !DEBIAN_LEAVES_OUT.contains(&component.name)))
        .collect();
    assert!(cases.len() > 80, "the knowledge should have Packer 1.6.6's plugins");
    for left_out in ["hyperone", "osc-bsu"] {
        assert!(cases.contains(&(PluginKind::Builder, left_out, false)), "{left_out} is upstream's");
    }
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .chunks(cases.len().div_ceil(4))
            .enumerate()
            .map(|(n, part)| {
                let (packer, dir, template) = (&packer, dir.path(), &template);
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for (i, (plugin, kind, known)) in part.iter().enumerate() {
                        let file = write(dir, &format!("{n}-{i}.json"), template(*plugin, kind));
                        let (_, output) = packer_validate(packer, &file);
                        // Packer wraps its messages at 80 columns.
                        let output = output.split_whitespace().collect::<Vec<_>>().join(" ");
                        let noun = plugin.noun();
                        let ok = if *known {
                            let named = output.contains("unknown configuration key") && output.contains("xtask_probe");
                            // jdcloud refuses unknown keys without naming them.
                            named || (*kind == "jdcloud" && output.contains("Failed in decoding JSON->mapstructure"))
                        } else {
                            output.to_lowercase().contains(&format!("unknown {noun} {kind}"))
                        };
                        if !ok {
                            failures.push(format!("{noun} {kind} (known: {known}):\n{output}"));
                        }
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().flat_map(|handle| handle.join().unwrap()).collect()
    });
    assert!(failures.is_empty(), "the schema and the installed packer disagree:\n{}", failures.join("\n"));
}

/// Generated `dynamic` blocks, every collection and non-collection
/// `for_each` (literal and through a variable's default) against every
/// shape of the block (a misspelt or extra argument, a quoted iterator, no,
/// two or a misspelt `content`): `invalid-dynamic-block` reports exactly
/// those Packer 1.6.6's `packer validate` refuses.
#[test]
fn dynamic_blocks_are_judged_as_packer_judges_them() {
    if common::skip_slow_test("packer validate on 70 generated dynamic blocks") {
        return;
    }
    let packer = packer();
    let for_each =
        [r#"["a", "b"]"#, "[]", r#"{ a = "x" }"#, "{}", r#""a""#, "1", "true", "null", "var.names", "var.name"];
    let content = "content {\n      device_name = \"/dev/sdb\"\n      volume_size = 8\n    }";
    let shapes: [(&str, String); 7] = [
        ("plain", format!("for_each = FOR_EACH\n    {content}")),
        ("iterator", format!("for_each = FOR_EACH\n    iterator = disk\n    {content}")),
        ("quoted iterator", format!("for_each = FOR_EACH\n    iterator = \"disk\"\n    {content}")),
        ("misspelt for_each", format!("for_eachh = FOR_EACH\n    {content}")),
        ("extra argument", format!("for_each = FOR_EACH\n    labels = [\"x\"]\n    {content}")),
        ("no content", "for_each = FOR_EACH".to_owned()),
        ("two contents", format!("for_each = FOR_EACH\n    {content}\n    {content}")),
    ];
    let root = tempfile::tempdir().unwrap();
    let mut disagreements = Vec::new();
    for (case, (value, (shape, body))) in
        for_each.iter().flat_map(|value| shapes.iter().map(move |shape| (value, shape))).enumerate()
    {
        let dir = format!("packer/4.0/aws/case-{case}");
        let template = format!(
            "variable \"names\" {{\n  type    = list(string)\n  default = [\"a\"]\n}}\n\n\
             variable \"name\" {{\n  type    = string\n  default = \"a\"\n}}\n\n\
             source \"amazon-ebs\" \"x\" {{\n  region                 = \"eu-central-1\"\n  \
             skip_region_validation = true\n  ami_name               = \"x-${{uuidv4()}}\"\n  \
             instance_type          = \"t3.micro\"\n  source_ami             = \"ami-0123456789abcdef0\"\n  \
             ssh_username           = \"centos\"\n  dynamic \"launch_block_device_mappings\" {{\n    {}\n  }}\n}}\n\n\
             build {{\n  sources = [\"source.amazon-ebs.x\"]\n}}\n",
            body.replace("FOR_EACH", value)
        );
        let file = write(root.path(), &format!("{dir}/main.pkr.hcl"), &template);
        let report = lint(root.path());
        let reported = report
            .files
            .iter()
            .filter(|file| file.path.starts_with(&format!("{dir}/")))
            .flat_map(|file| &file.diagnostics)
            .any(|d| d.rule.name == "invalid-dynamic-block");
        let (accepted, output) = packer_validate(&packer, &file.parent().unwrap().join("."));
        if reported == accepted {
            disagreements.push(format!(
                "for_each = {value}, {shape}: the linter {} it, Packer {}:\n{output}",
                if reported { "reports" } else { "passes" },
                if accepted { "accepts it" } else { "refuses it" }
            ));
        }
        fs::remove_dir_all(file.parent().unwrap()).unwrap();
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
