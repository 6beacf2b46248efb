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
    // `$ZIZMOR`, then the virtualenv `.ci/test` makes, then `PATH`.
    let venv = common::workspace().join("target/e2e-venv/bin/zizmor");
    let zizmor = std::env::var_os("ZIZMOR")
        .map(PathBuf::from)
        .or_else(|| venv.is_file().then_some(venv))
        .unwrap_or_else(|| PathBuf::from("zizmor"));
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

/// The script of the step named `name` in a workflow of this repository.
fn step_script(workflow: &str, name: &str) -> String {
    let path = common::workspace().join(".github/workflows").join(workflow);
    let parsed: yaml_serde::Value = yaml_serde::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let jobs = parsed["jobs"].as_mapping().unwrap();
    let step = jobs
        .values()
        .flat_map(|job| job["steps"].as_sequence().cloned().unwrap_or_default())
        .find(|step| step["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("{workflow} has no step `{name}`"));
    step["run"].as_str().unwrap().to_owned()
}

/// Writes an executable shell script.
fn shim(dir: &std::path::Path, name: &str, script: &str) {
    let path = common::write(dir, name, script);
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// promote.yml's step run as on a runner, in a repository whose canary
/// image has soaked: `cargo` is xtask, `git push` and `gh` only note what
/// they were asked. It promotes, commits on a branch and opens one pull
/// request whose description tables what changed; run again, there is
/// nothing to promote and no pull request.
#[test]
fn the_promote_workflow_opens_one_pull_request_with_a_table_of_what_changes() {
    let jq = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).any(|dir| dir.join("jq").is_file());
    assert!(jq, "jq was not found: run `.ci/test`, which installs Debian's jq package, or `apt-get install -y jq`");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let bin = dir.path().join("bin");
    let template = "{ \"builders\": [ { \"type\": \"amazon-ebs\", \"region\": \"eu-west-1\", \"source_ami\": \
                    \"ami-03cf127a\", \"instance_type\": \"t2.micro\", \"ssh_username\": \"core\", \"ami_name\": \
                    \"okd-{{timestamp}}\" } ] }\n";
    common::write(&root, "packer/3.11/aws/machine-image/template.json", template);
    common::write(
        &root,
        "xtask.toml",
        "[channels]\norder = [\"canary\", \"stable\"]\n[channels.stable]\nsoak = \"1h\"\n",
    );
    let deployment = |channel: &str| {
        format!(
            "{channel}release: '3.11'\ncloud: aws\ncluster:\n  region: eu-west-1\n  machine_image:\n    id: ami-00000000\n"
        )
    };
    common::write(&root, "deployments/canary.yaml", deployment("channel: canary\n"));
    common::write(&root, "deployments/prod.yaml", deployment(""));
    // A region canary has no cluster in: listed as not promoted, and why.
    common::write(&root, "deployments/prod-frankfurt.yaml", deployment("").replace("eu-west-1", "eu-central-1"));
    let packer = common::stand_in_packer(&root);
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {}: {}", args.join(" "), common::text(&output));
        common::stdout(&output)
    };
    git(&["init", "-q", "-b", "main"]);
    let built = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root"])
        .arg(&root)
        .env("PACKER", &packer)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", common::text(&built));
    // Two hours ago, as far as the lock can tell.
    let lock_path = root.join("packer/images.lock");
    let mut lock: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    let entry = &mut lock["templates"]["packer/3.11/aws/machine-image/template.json"];
    let image = entry["images"]["eu-west-1"]["id"].as_str().unwrap().to_owned();
    let earlier = xtask::clock::utc_timestamp(xtask::clock::now() - 7200);
    entry["images"]["eu-west-1"]["built_at"] = earlier.clone().into();
    entry["lifecycle"][&image]["entered"]["canary"] = earlier.into();
    std::fs::write(&lock_path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "built"]);

    shim(
        &bin,
        "cargo",
        &format!(
            "#!/bin/sh\n[ \"$1\" = xtask ] || exit 99\nshift\nexec '{}' \"$@\" --root \"$PWD\"\n",
            env!("CARGO_BIN_EXE_xtask")
        ),
    );
    let real_git =
        String::from_utf8(Command::new("sh").args(["-c", "command -v git"]).output().unwrap().stdout).unwrap();
    shim(
        &bin,
        "git",
        &format!(
            "#!/bin/sh\nif [ \"$1\" = push ]; then echo \"$*\" >> ../pushed; exit 0; fi\nexec {} -c user.name=bot -c user.email=bot@example.com \"$@\"\n",
            real_git.trim()
        ),
    );
    shim(
        &bin,
        "gh",
        // An earlier promotion into stable is still open, beside another
        // pull request.
        "#!/bin/sh\nif [ \"$1 $2\" = 'pr list' ]; then printf '3 promote/stable-run-5-1\\n4          promote/stable2-run-5-1\\n'; exit 0; fi\nif [ \"$1\" = pr ]; then echo \"$*\" >> ../pull-requests; cp          target/body.md ../body.md; fi\n",
    );
    let script = step_script("promote.yml", "Promote and open one pull request");
    let run = || {
        Command::new("bash")
            .args(["-e", "-c", &script])
            .current_dir(&root)
            .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()))
            .env("NO_COLOR", "1")
            .env("CHANNEL", "stable")
            .env("RUN_ID", "7")
            .env("RUN_ATTEMPT", "1")
            .output()
            .unwrap()
    };
    let output = run();
    assert!(output.status.success(), "{}", common::text(&output));
    let body = std::fs::read_to_string(dir.path().join("body.md")).unwrap();
    assert!(body.starts_with("Promotion into `stable` from `canary`.\n"), "{body}");
    assert!(
        body.contains(&format!(
            "| packer/3.11/aws/machine-image | eu-west-1 | ami-00000000 | {image} | deployments/prod.yaml |\n"
        )),
        "{body}"
    );
    assert!(
        body.contains(
            "Not promoted:\n\n- packer/3.11/aws/machine-image eu-central-1: nothing-to-do, no deployment of `canary` \
             boots"
        ),
        "{body}"
    );
    assert!(body.contains("<details><summary>cargo xtask promote</summary>"), "{body}");
    let requests = std::fs::read_to_string(dir.path().join("pull-requests")).unwrap();
    assert_eq!(requests.lines().filter(|line| line.starts_with("pr create ")).count(), 1, "{requests}");
    assert!(requests.contains("--head promote/stable-run-7-1"), "{requests}");
    let closed: Vec<&str> = requests.lines().filter(|line| line.starts_with("pr close ")).collect();
    assert_eq!(closed.len(), 1, "only the earlier promotion into stable is closed: {requests}");
    assert!(
        closed[0].starts_with("pr close 3 --delete-branch --comment Superseded by the promotion into stable of run 7."),
        "{requests}"
    );
    assert_eq!(git(&["branch", "--show-current"]).trim(), "promote/stable-run-7-1");
    assert!(std::fs::read_to_string(root.join("deployments/prod.yaml")).unwrap().contains(&image));
    assert_eq!(git(&["status", "--porcelain", "--", "deployments", "packer"]), "", "everything is committed");

    let again = run();
    assert!(again.status.success(), "{}", common::text(&again));
    assert!(common::text(&again).contains("Nothing to promote into stable."), "{}", common::text(&again));
    let requests = std::fs::read_to_string(dir.path().join("pull-requests")).unwrap();
    assert_eq!(
        requests.lines().filter(|line| line.starts_with("pr create ")).count(),
        1,
        "a second pull request: {requests}"
    );
}

/// promote.yml's first job: the channel given by hand, else every channel
/// after the first of xtask.toml, else none.
#[test]
fn the_promote_workflow_promotes_into_the_given_channel_or_every_later_one() {
    let script = step_script("promote.yml", "Choose the channels");
    let dir = tempfile::tempdir().unwrap();
    let chosen = |wanted: &str| {
        let output_file = dir.path().join("output");
        let _ = std::fs::remove_file(&output_file);
        let output = Command::new("bash")
            .args(["-e", "-c", &script])
            .current_dir(dir.path())
            .env("WANTED", wanted)
            .env("GITHUB_OUTPUT", &output_file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", common::text(&output));
        std::fs::read_to_string(&output_file).unwrap()
    };
    assert_eq!(chosen(""), "channels=[]\n", "no xtask.toml");
    common::write(dir.path(), "xtask.toml", "[rules]\n");
    assert_eq!(chosen(""), "channels=[]\n", "no [channels]");
    common::write(dir.path(), "xtask.toml", "[channels]\norder = [\"canary\", \"stable\", \"late\"]\n");
    assert_eq!(chosen(""), "channels=[\"stable\",\"late\"]\n");
    assert_eq!(chosen("late"), "channels=[\"late\"]\n");
    // Whatever is typed stays one JSON string, never shell or JSON syntax.
    assert_eq!(chosen("a\"b $(x)"), "channels=[\"a\\\"b $(x)\"]\n");
}
