//! `images` against faults, with a stand-in Packer so that a run takes a
//! fraction of a second. Killed with SIGKILL at random moments: whatever the moment, every
//! deployment is byte for byte its old text or the same text with new IDs,
//! never ahead of the lock; the next plain run completes without building,
//! exits 0, moves no ID backwards and leaves no temporary file; `lint` is
//! clean.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{STAND_IN, text, write};

fn template(regions: &[&str]) -> String {
    let builders: Vec<String> = regions
        .iter()
        .map(|region| {
            format!(
                "    {{ \"type\": \"amazon-ebs\", \"name\": \"{region}\", \"region\": \"{region}\", \
                 \"source_ami\": \"ami-03cf127a\", \"instance_type\": \"t2.micro\", \"ssh_username\": \"core\", \
                 \"ami_name\": \"okd-{region}-{{{{timestamp}}}}\" }}"
            )
        })
        .collect();
    format!("{{\n  \"builders\": [\n{}\n  ]\n}}\n", builders.join(",\n"))
}

/// Deployments in several styles, so a torn or misplaced write shows.
fn tree(root: &Path) -> PathBuf {
    write(root, "packer/3.11/aws/machine-image/template.json", template(&["eu-west-1", "eu-central-1"]));
    write(root, "packer/3.9/aws/machine-image/template.json", template(&["us-east-1"]));
    let old = "ami-00000000000000000";
    write(
        root,
        "deployments/ireland.yaml",
        format!(
            "# Ireland\nrelease: '3.11'\ncloud: aws\nbastion:\n  machine_image:\n    id: {old}  # bastion\ncluster:\n  region: eu-west-1\n  machine_image:\n    id: '{old}'\n"
        ),
    );
    write(
        root,
        "deployments/frankfurt.yaml",
        format!(
            "release: \"3.11\"\r\ncloud: aws\r\nbastion:\r\n  machine_image: {{id: \"{old}\", size: 8}} # flow\r\ncluster:\r\n  region: eu-central-1\r\n  machine_image:\r\n    id: >-\r\n      {old}\r\n\r\n  nodes: 3\r\n"
        ),
    );
    write(
        root,
        "deployments/virginia.yaml",
        format!(
            "---\nrelease: '3.9'\ncloud: aws\nbastion:\n    machine_image:\n        id: {old}\ncluster:\n    region: us-east-1\n    machine_image:\n        id: |-\n            {old}\n..."
        ),
    );
    let stand_in = write(root, "bin/packer", STAND_IN);
    std::fs::set_permissions(&stand_in, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    stand_in
}

fn images(root: &Path, packer: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(["images", "--root", root.to_str().unwrap(), "--packer", packer.to_str().unwrap()])
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Every image ID in a text, in order.
fn ids_in(text: &str) -> Vec<String> {
    text.match_indices("ami-")
        .map(|(at, _)| text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect())
        .collect()
}

/// The text with each ID replaced by a placeholder: equal shapes mean the
/// two texts differ in their IDs and nowhere else.
fn shape(text: &str) -> String {
    ids_in(text).iter().fold(text.to_owned(), |text, id| text.replacen(id.as_str(), "<ID>", 1))
}

fn deployments(root: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(root.join("deployments"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        // A killed run's temporary is not a deployment (the next run removes it).
        .filter(|path| !path.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(path).unwrap()))
        .collect()
}

/// Every image ID the lock records.
fn locked_ids(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("packer/images.lock")).unwrap_or_default();
    ids_in(&text)
}

fn age(id: &str) -> u128 {
    u128::from_str_radix(id.trim_start_matches("ami-"), 16).unwrap()
}

#[test]
fn sigkill_at_any_moment_loses_nothing_and_the_next_run_completes() {
    if common::skip_slow_test("xtask killed at 100 random moments") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    // How long a whole run takes, which sets when the kills come.
    let time_whole_run = |args: &[&str]| {
        let started = Instant::now();
        let run = images(root, &packer, args).output().unwrap();
        assert!(run.status.success(), "{}", text(&run));
        started.elapsed()
    };
    let mut full_run = time_whole_run(&[]);
    let shapes: BTreeMap<String, String> = deployments(root).into_iter().map(|(k, v)| (k, shape(&v))).collect();

    let trials: u64 = std::env::var("KILL_TRIALS").ok().and_then(|n| n.parse().ok()).unwrap_or(100);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut killed_mid_run = 0;
    for trial in 0..trials {
        // The machine's load changes while the test runs (other builds,
        // other tests): timed once, at a busy moment, a whole run made most
        // kills come after the run had ended. Timed again every 10 trials,
        // the kills keep landing across a run.
        if trial % 10 == 9 {
            full_run = time_whole_run(&["--force"]);
        }
        let before = deployments(root);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Anywhere from the start to a little past a whole run.
        let delay = full_run.mul_f64((seed % 1000) as f64 / 800.0);
        let mut child = images(root, &packer, &["--force"]).spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        // Let the orphaned stand-ins finish before the next run reads.
        std::thread::sleep(Duration::from_millis(20));
        // A process xtask was starting when it was killed shares the run
        // lock's open file until it has exec'd Packer: on a loaded machine
        // that can outlast the pause above (the full suite met it once).
        // Anything holding the lock longer is a fault, and fails the next run.
        wait_for_the_run_lock(root, Duration::from_secs(5));

        let after_kill = deployments(root);
        let lock = locked_ids(root);
        for (name, text) in &after_kill {
            assert_eq!(shape(text), shapes[name], "trial {trial} (kill after {delay:?}): {name} is torn:\n{text}");
            for id in ids_in(text) {
                assert!(
                    ids_in(&before[name]).contains(&id) || lock.contains(&id),
                    "trial {trial}: {name} holds {id}, which the lock does not record"
                );
            }
        }

        let next = images(root, &packer, &[]).env("STANDIN_REFUSE_BUILD", "1").output().unwrap();
        assert!(next.status.success(), "trial {trial}: the next plain run failed:\n{}", text(&next));
        let settled = deployments(root);
        let lock = locked_ids(root);
        for (name, text) in &settled {
            assert_eq!(shape(text), shapes[name], "trial {trial}: {name} is torn after the next run");
            for (old, new) in ids_in(&before[name]).iter().zip(ids_in(text)) {
                assert!(age(&new) >= age(old), "trial {trial}: {name} went back from {old} to {new}");
                assert!(lock.contains(&new), "trial {trial}: {name} holds {new}, not the lock's image");
            }
        }
        for folder in ["deployments", "packer"] {
            let left: Vec<String> = std::fs::read_dir(root.join(folder))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".tmp"))
                .collect();
            assert!(left.is_empty(), "trial {trial}: temporaries left in {folder}: {left:?}");
        }
    }
    assert!(killed_mid_run >= trials / 4, "only {killed_mid_run} of {trials} kills hit a running run");
    let lint =
        Command::new(env!("CARGO_BIN_EXE_xtask")).args(["lint", "--root", root.to_str().unwrap()]).output().unwrap();
    assert!(lint.status.success(), "lint after the kills:\n{}", text(&lint));
}

/// Waits until no process holds `root`'s run lock, for at most `patience`.
fn wait_for_the_run_lock(root: &Path, patience: Duration) {
    let path = root.join("target/xtask/images.run-lock");
    let Ok(file) = std::fs::File::open(&path) else { return };
    let deadline = Instant::now() + patience;
    while file.try_lock().is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_region_packer_did_not_report_fails_the_template_and_patches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    // This stand-in reports only the first region of each template.
    let one_region = STAND_IN.replace("done ;;", "break; done ;;");
    std::fs::write(&packer, one_region).unwrap();
    let before = deployments(root);
    let output = images(root, &packer, &[]).output().unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("packer reported no image for eu-central-1"), "{said}");
    let frankfurt = "not updated:\n  deployments/frankfurt.yaml bastion.machine_image.id (eu-central-1), \
                     cluster.machine_image.id (eu-central-1): its template failed";
    assert!(said.contains(frankfurt), "{said}");
    assert!(said.contains("cluster.machine_image.id (eu-west-1): its template failed"), "{said}");
    let after = deployments(root);
    assert_eq!(before["ireland.yaml"], after["ireland.yaml"]);
    assert_eq!(before["frankfurt.yaml"], after["frankfurt.yaml"]);
    assert_ne!(before["virginia.yaml"], after["virginia.yaml"], "the one-region template still patches");
}

/// With `[channels]`, a build reaches the deployments of the first channel
/// only; the lock records when it entered it, keeps the image it replaced,
/// and a run that builds nothing gives the first channel what the lock
/// last gave it (a rollback moves that back), not merely the newest.
#[test]
fn with_channels_a_build_reaches_the_first_channel_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    write(root, "xtask.toml", "[channels]\norder = [\"canary\", \"stable\"]\n");
    let ireland = std::fs::read_to_string(root.join("deployments/ireland.yaml")).unwrap();
    write(root, "deployments/ireland.yaml", ireland.replacen("# Ireland\n", "# Ireland\nchannel: canary\n", 1));
    let before = deployments(root);
    let output = images(root, &packer, &[]).output().unwrap();
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    let after = deployments(root);
    assert_eq!(after["frankfurt.yaml"], before["frankfurt.yaml"], "stable is reached by promotion only");
    assert_eq!(after["virginia.yaml"], before["virginia.yaml"], "stable is reached by promotion only");
    assert_ne!(after["ireland.yaml"], before["ireland.yaml"]);
    assert!(
        said.contains(
            "deployments/frankfurt.yaml (3.11-aws-machine-image): it is in the channel `stable`, which new \
                       images reach by `cargo xtask promote --to stable`"
        ),
        "{said}"
    );
    let lock = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap()
    };
    let entry = |lock: &serde_json::Value| lock["templates"]["packer/3.11/aws/machine-image/template.json"].clone();
    let first = entry(&lock())["images"]["eu-west-1"]["id"].as_str().unwrap().to_owned();
    assert_eq!(entry(&lock())["channels"]["canary"]["eu-west-1"], first.as_str());
    assert!(entry(&lock())["lifecycle"][&first]["entered"]["canary"].is_string());
    assert!(ids_in(&after["ireland.yaml"]).iter().all(|id| *id == first), "{}", after["ireland.yaml"]);

    let rebuilt = images(root, &packer, &["--force"]).output().unwrap();
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    let second = entry(&lock())["images"]["eu-west-1"]["id"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(entry(&lock())["history"]["eu-west-1"][0]["id"], first.as_str(), "the replaced image is kept");
    assert!(ids_in(&deployments(root)["ireland.yaml"]).iter().all(|id| *id == second));

    // What a rollback of canary records: the first image, which a plain
    // run that builds nothing then writes, rather than the newest.
    let mut rolled_back = lock();
    rolled_back["templates"]["packer/3.11/aws/machine-image/template.json"]["channels"]["canary"]["eu-west-1"] =
        serde_json::Value::String(first.clone());
    write(root, "packer/images.lock", serde_json::to_string_pretty(&rolled_back).unwrap());
    let plain = images(root, &packer, &[]).env("STANDIN_REFUSE_BUILD", "1").output().unwrap();
    assert!(plain.status.success(), "{}", text(&plain));
    assert!(ids_in(&deployments(root)["ireland.yaml"]).iter().all(|id| *id == first));
    assert_eq!(deployments(root)["frankfurt.yaml"], before["frankfurt.yaml"]);
}

#[test]
fn a_hand_edited_lock_cannot_inject_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    assert!(images(root, &packer, &[]).output().unwrap().status.success());
    let lock = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let ireland_id = parsed["templates"]["packer/3.11/aws/machine-image/template.json"]["images"]["eu-west-1"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for evil in ["ami-0123456789abcdef0\\n  evil_key: injected", "ami-1; rm -rf /", "AMI-0123456789ABCDEF0"] {
        std::fs::write(root.join("packer/images.lock"), lock.replace(&ireland_id, evil)).unwrap();
        let before = deployments(root);
        let output = images(root, &packer, &[]).env("STANDIN_REFUSE_BUILD", "1").output().unwrap();
        let said = text(&output);
        assert_eq!(output.status.code(), Some(1), "{evil}: {said}");
        assert!(
            said.contains("from packer/images.lock: packer/3.11/aws/machine-image/template.json eu-west-1"),
            "{said}"
        );
        assert_eq!(deployments(root)["ireland.yaml"], before["ireland.yaml"], "{evil} reached the file");
        assert!(!deployments(root)["ireland.yaml"].contains("evil_key"));
    }
}

#[test]
fn a_style_that_cannot_be_patched_leaves_that_file_alone_and_the_others_are_patched() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let aliased = "release: '3.11'\ncloud: aws\nimage: &img ami-00000000000000000\nbastion:\n  machine_image:\n    id: *img\ncluster:\n  region: eu-west-1\n  machine_image:\n    id: *img\n";
    write(root, "deployments/aliased.yaml", aliased);
    let output = images(root, &packer, &[]).output().unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("deployments/aliased.yaml:6: cannot patch `bastion.machine_image.id`"), "{said}");
    assert!(said.contains("deployments/aliased.yaml:10: cannot patch `cluster.machine_image.id`"), "{said}");
    assert!(said.contains("3 deployments updated, 1 not (see above)."), "{said}");
    let plan = images(root, &packer, &["--dry-run", "--force"]).output().unwrap();
    assert!(
        text(&plan).contains("feeds deployments/aliased.yaml bastion.machine_image.id (eu-west-1): will be refused: "),
        "{}",
        text(&plan)
    );
    let after = deployments(root);
    assert_eq!(after["aliased.yaml"], aliased, "the refused file changed");
    assert!(!after["ireland.yaml"].contains("ami-00000000000000000"), "the others are still patched");
}

#[test]
fn the_plan_says_why_each_template_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    // Both templates read `instance_type`; a --var goes only to templates
    // that declare it, and one that none declares is refused.
    for release in ["3.9", "3.11"] {
        let path = root.join(format!("packer/{release}/aws/machine-image/template.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text
            .replacen("{\n", "{\n  \"variables\": { \"instance_type\": \"t2.micro\" },\n", 1)
            .replace("\"t2.micro\" }", "\"{{user `instance_type`}}\" }");
        std::fs::write(&path, text).unwrap();
    }
    let typo = images(root, &packer, &["--dry-run", "--var", "instance_typ=t3.small"]).output().unwrap();
    assert_eq!(typo.status.code(), Some(2), "{}", text(&typo));
    assert!(text(&typo).contains("no selected template declares `instance_typ`"), "{}", text(&typo));
    assert!(text(&typo).contains("did you mean `instance_type`?"), "{}", text(&typo));
    let first = images(root, &packer, &["--var", "instance_type=t3.small"]).output().unwrap();
    assert!(first.status.success(), "{}", text(&first));
    let status = Command::new(env!("CARGO_BIN_EXE_xtask")).args(["status", "--root", root.to_str().unwrap()]).output();
    let status = String::from_utf8(status.unwrap().stdout).unwrap();
    assert!(status.contains("current (given instance_type=t3.small)"), "status names what a build was given: {status}");
    let plan = |args: &[&str]| {
        let output = images(root, &packer, &[&["--dry-run"], args].concat()).output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let forgot = plan(&[]);
    assert!(forgot.contains("because its last build was given instance_type and this run is not"), "{forgot}");
    assert!(plan(&["--var", "instance_type=t3.small"]).contains("skip: unchanged"));
    assert!(plan(&["--var", "instance_type=t3.large"]).contains("because a value given with --var"));
    // A var file counts for what it gives the template: a value for a
    // variable no template here declares changes nothing; one it declares does.
    let other = root.join("other.json");
    std::fs::write(&other, r#"{"unrelated": "x"}"#).unwrap();
    let other_arg = other.to_str().unwrap();
    assert!(plan(&["--var", "instance_type=t3.small", "--var-file", other_arg]).contains("skip: unchanged"));
    let sizes = root.join("sizes.json");
    std::fs::write(&sizes, r#"{"instance_type": "t3.small"}"#).unwrap();
    let given = plan(&["--var", "instance_type=t3.small", "--var-file", sizes.to_str().unwrap()]);
    assert!(given.contains("this run gives var-file sizes.json, which its last build was not"), "{given}");
    let template = root.join("packer/3.9/aws/machine-image/template.json");
    let edited = std::fs::read_to_string(&template)
        .unwrap()
        .replace("\"ssh_username\"", "\"ssh_timeout\": \"5m\", \"ssh_username\"");
    std::fs::write(&template, edited).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&plan(&["--var", "instance_type=t3.small", "--format", "json"])).unwrap();
    assert_eq!(json["version"], 1);
    let templates = json["templates"].as_array().unwrap();
    let virginia = templates.iter().find(|t| t["release"] == "3.9").unwrap();
    assert_eq!(virginia["action"], "build");
    assert_eq!(virginia["reason"], "changed since its images were built: template.json (changed)");
    assert_eq!(virginia["feeds"][0]["path"], "deployments/virginia.yaml");
    let ireland = templates.iter().find(|t| t["release"] == "3.11").unwrap();
    assert_eq!(ireland["action"], "skip");
    assert!(ireland["images"]["eu-west-1"].as_str().unwrap().starts_with("ami-"));
}

#[test]
fn a_long_build_shows_a_heartbeat_with_packers_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let slow = STAND_IN
        .replace("  build)\n", "  build)\n    echo \"$(date +%s),,ui,say,waiting for the instance\"; sleep 0.8\n");
    std::fs::write(&packer, slow).unwrap();
    let output = images(root, &packer, &["--release", "3.9"]).env("XTASK_HEARTBEAT_SECS", "0.25").output().unwrap();
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("3.9-aws-machine-image: still building after"), "{said}");
    assert!(said.contains("; packer: waiting for the instance"), "{said}");
}

/// Packer outlives a killed xtask and runs its clean-up: with a pipe as its
/// output it would die of SIGPIPE on its next line, leaving the instance,
/// key pair and security group it made.
#[test]
fn packer_finishes_its_clean_up_when_xtask_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let marker = root.join("cleaned-up");
    let slow = STAND_IN.replace(
        "  build)\n",
        &format!(
            "  build)\n    echo \"$(date +%s),,ui,say,provisioning\"; sleep 1\n    \
             for i in $(seq 1 200); do echo \"$(date +%s),,ui,say,terminating instance $i\"; done\n    \
             touch '{}'\n",
            marker.display()
        ),
    );
    std::fs::write(&packer, slow).unwrap();
    let mut child = images(root, &packer, &["--release", "3.9"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(marker.exists(), "packer died with xtask before its clean-up");
    let scratch: Vec<_> = std::fs::read_dir(root.join("target/xtask/images"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".packer-"))
        .collect();
    assert!(scratch.is_empty(), "output files left on disk: {scratch:?}");
}

#[test]
fn patch_from_checks_every_manifest_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    let good = r#"{"builds": [{"name": "us-east-1", "artifact_id": "us-east-1:ami-01111111111111111",
        "packer_run_uuid": "u1"}], "last_run_uuid": "u1"}"#;
    let bad = r#"{"builds": [{"name": "eu-west-1", "artifact_id": "eu-west-1:AMI-0123", "packer_run_uuid": "u2"}],
        "last_run_uuid": "u2"}"#;
    let good_path = write(root, "packer/3.9/aws/machine-image/manifest.json", good);
    let bad_path = write(root, "packer/3.11/aws/machine-image/manifest.json", bad);
    let before = deployments(root);
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--patch-from"])
        .args([&good_path, &bad_path])
        .output()
        .unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("AMI-0123"), "{said}");
    assert!(!root.join("packer/images.lock").exists(), "the lock was written before every manifest was checked");
    assert_eq!(deployments(root), before);

    // Text that would reach the lock and `status` with a control character,
    // or a region the template does not build: refused, by field.
    for (manifest, said) in [
        (
            r#"{"builds": [{"name": "us-east-1", "artifact_id": "us-east-1\u001b[2J:ami-01111111111111111",
                "packer_run_uuid": "u1"}], "last_run_uuid": "u1"}"#,
            "`builds[0].artifact_id` holds the control character U+001B",
        ),
        (
            r#"{"builds": [{"name": "us-east-1", "artifact_id": "us-east-1:ami-01111111111111111",
                "packer_run_uuid": "u1\n"}], "last_run_uuid": "u1\n"}"#,
            "`last_run_uuid` holds the control character U+000A",
        ),
        (
            r#"{"builds": [{"name": "us-east-1", "artifact_id": "ap-south-1:ami-01111111111111111",
                "packer_run_uuid": "u1"}], "last_run_uuid": "u1"}"#,
            "has an image for ap-south-1, which packer/3.9/aws/machine-image/template.json does not build",
        ),
        (
            r#"{"builds": [{"name": "us-east-1", "artifact_id": "us-east-1:ami-01111111111111111",
                "artifact_id": "us-east-1:ami-02222222222222222", "packer_run_uuid": "u1"}], "last_run_uuid": "u1"}"#,
            "the key `artifact_id` appears twice in one object",
        ),
    ] {
        write(root, "packer/3.9/aws/machine-image/manifest.json", manifest);
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["images", "--root", root.to_str().unwrap(), "--patch-from"])
            .arg(&good_path)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(text(&output).contains(said), "{}", text(&output));
        assert!(!text(&output).contains('\u{1b}'), "{}", text(&output));
        assert!(!root.join("packer/images.lock").exists());
    }
    // A FIFO in a manifest's place is refused rather than waited on for
    // ever, as a result file is.
    std::fs::remove_file(&good_path).unwrap();
    common::mkfifo(root, "packer/3.9/aws/machine-image/manifest.json");
    let fifo = common::xtask_within(
        20,
        &["images", "--root", root.to_str().unwrap(), "--patch-from", good_path.to_str().unwrap()],
    );
    assert_eq!(fifo.status.code(), Some(2), "{}", text(&fifo));
    assert!(text(&fifo).contains("not a regular file"), "{}", text(&fifo));
    // A manifest that is not there is said as a missing result is, with
    // no OS error code.
    let missing = root.join("packer/3.9/aws/machine-image/no-manifest.json");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--patch-from"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let said = format!("cannot read the manifest {}: it does not exist", missing.display());
    assert!(text(&output).contains(&said) && !text(&output).contains("os error"), "{}", text(&output));
    assert!(!root.join("packer/images.lock").exists());
}

/// `--patch-from` writes the lock and the deployments; with `--dry-run` or
/// `--plan` it once did so too, without the run lock. Both are refused
/// before anything is read.
#[test]
fn patch_from_is_no_dry_run_and_no_plan() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    let manifest = r#"{"builds": [{"name": "us-east-1", "artifact_id": "us-east-1:ami-01111111111111111",
        "packer_run_uuid": "u1"}], "last_run_uuid": "u1"}"#;
    let manifest = write(root, "packer/3.9/aws/machine-image/manifest.json", manifest);
    let before = deployments(root);
    for preview in ["--dry-run", "--plan"] {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["images", "--root", root.to_str().unwrap(), preview, "--patch-from"])
            .arg(&manifest)
            .output()
            .unwrap();
        let said = text(&output);
        assert_eq!(output.status.code(), Some(2), "{preview}: {said}");
        assert!(said.contains(&format!("'{preview}' cannot be used with")), "{preview}: {said}");
        assert!(!root.join("packer/images.lock").exists(), "{preview} wrote the lock");
        assert_eq!(deployments(root), before, "{preview} wrote a deployment");
    }
}

#[test]
fn uploaded_folders_and_template_dir_paths_are_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let template = template(&["us-east-1"]).replace(
        "\n  ]\n}",
        "\n  ],\n  \"provisioners\": [\n    { \"type\": \"file\", \"source\": \"files/\", \"destination\": \"/tmp/files\" },\n    \
         { \"type\": \"shell\", \"script\": \"{{template_dir}}/scripts/setup.sh\" }\n  ]\n}",
    );
    write(root, "packer/3.9/aws/machine-image/template.json", template);
    write(root, "packer/3.9/aws/machine-image/files/a.txt", "a");
    write(root, "packer/3.9/aws/machine-image/files/sub/b.txt", "b");
    write(root, "packer/3.9/aws/machine-image/scripts/setup.sh", "echo setup");
    let first = images(root, &packer, &[]).output().unwrap();
    assert!(first.status.success(), "{}", text(&first));
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
    let inputs = &lock["templates"]["packer/3.9/aws/machine-image/template.json"]["inputs"];
    assert_eq!(inputs, &serde_json::json!(["template.json", "files/", "scripts/setup.sh"]));
    for (file, changed) in [("files/sub/b.txt", "files/ (changed)"), ("scripts/setup.sh", "scripts/setup.sh (changed)")]
    {
        write(root, &format!("packer/3.9/aws/machine-image/{file}"), "edited");
        let lint = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["lint", "--root", root.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            text(&lint)
                .contains("gets a new image of packer/3.9/aws/machine-image when `cargo xtask images` next runs")
                && text(&lint).contains(&format!("since then: {changed}")),
            "{}",
            text(&lint)
        );
        let plan = images(root, &packer, &["--dry-run"]).output().unwrap();
        assert!(
            text(&plan).contains(&format!("because changed since its images were built: {changed}")),
            "{}",
            text(&plan)
        );
        assert!(images(root, &packer, &[]).output().unwrap().status.success());
    }
}

#[test]
fn an_id_that_cannot_be_read_as_one_value_is_refused_not_passed_by() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let listed = "release: '3.9'\ncloud: aws\nbastion:\n  machine_image:\n    - id: ami-00000000000000000\ncluster:\n  region: us-east-1\n  machine_image:\n    id: ami-00000000000000000\n";
    write(root, "deployments/listed.yaml", listed);
    let output = images(root, &packer, &[]).output().unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("deployments/listed.yaml:5: cannot patch `bastion.machine_image.id`"), "{said}");
    assert_eq!(deployments(root)["listed.yaml"], listed);
}

#[test]
fn symlinks_inside_the_repository_stay_links_and_their_temporaries_are_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let linked = "release: '3.9'\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-00000000000000000\ncluster:\n  region: us-east-1\n  machine_image:\n    id: ami-00000000000000000\n";
    write(root, "envs/linked.yaml", linked);
    write(root, "envs/.linked.yaml.xtask-999999.tmp", "left by a killed run");
    std::os::unix::fs::symlink("../envs/linked.yaml", root.join("deployments/linked.yaml")).unwrap();
    write(root, "locks/images.lock", "{\"version\": 1, \"templates\": {}}\n");
    std::os::unix::fs::symlink("../locks/images.lock", root.join("packer/images.lock")).unwrap();
    let output = images(root, &packer, &[]).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    assert!(!root.join("envs/.linked.yaml.xtask-999999.tmp").exists(), "the stale temporary is still there");
    assert!(std::fs::symlink_metadata(root.join("deployments/linked.yaml")).unwrap().file_type().is_symlink());
    assert!(std::fs::symlink_metadata(root.join("packer/images.lock")).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(root.join("locks/images.lock")).unwrap().contains("us-east-1"));
    assert!(!std::fs::read_to_string(root.join("envs/linked.yaml")).unwrap().contains("ami-00000000000000000"));
}

#[test]
fn a_build_that_ends_well_despite_an_interrupt_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let stubborn = STAND_IN.replace("  build)\n", "  build)\n    trap '' INT; sleep 1\n");
    std::fs::write(&packer, stubborn).unwrap();
    let child = images(root, &packer, &["--release", "3.9"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(400));
    // SAFETY: kill(2) on the child's pid; no memory is touched.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    let lock = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    assert!(lock.contains("us-east-1"), "the finished build was forgotten:\n{lock}");
    let log = std::fs::read_to_string(root.join("target/xtask/images/3.9-aws-machine-image.log")).unwrap();
    assert!(log.contains("artifact of us-east-1: 0 id us-east-1:ami-"), "{log}");
}

#[test]
fn status_says_which_images_are_stale_and_who_boots_what() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    assert!(images(root, &packer, &[]).output().unwrap().status.success());
    let template = root.join("packer/3.9/aws/machine-image/template.json");
    std::fs::write(&template, std::fs::read_to_string(&template).unwrap().replace("t2.micro", "t3.micro")).unwrap();
    let ireland = root.join("deployments/ireland.yaml");
    let text_now = std::fs::read_to_string(&ireland).unwrap();
    let cluster_id = ids_in(&text_now)[1].clone();
    std::fs::write(&ireland, text_now.replacen(&cluster_id, "ami-0abcdef0123456789", 1)).unwrap();
    let status = |format: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["status", "--root", root.to_str().unwrap(), "--format", format])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let human = status("human");
    assert!(human.contains("stale: template.json (changed)"), "{human}");
    assert!(human.contains("ami-0abcdef0123456789  not the recorded image (unknown to the lock)"), "{human}");
    let json: serde_json::Value = serde_json::from_str(&status("json")).unwrap();
    let templates = json["templates"].as_array().unwrap();
    let virginia = templates.iter().find(|t| t["release"] == "3.9").unwrap();
    assert_eq!(virginia["images"][0]["state"], "stale: template.json (changed)");
    let eleven = templates.iter().find(|t| t["release"] == "3.11").unwrap();
    assert!(eleven["images"].as_array().unwrap().iter().all(|image| image["state"] == "current"));
    assert_eq!(
        virginia["deployments"][0]["state"],
        "boots the recorded image, which is stale: template.json (changed)"
    );
    // Text from files is shown escaped: a hand-edited lock cannot forge a
    // line or clear the terminal of whoever runs `status`.
    let lock_path = root.join("packer/images.lock");
    let mut lock: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    for image in
        lock["templates"]["packer/3.11/aws/machine-image/template.json"]["images"].as_object_mut().unwrap().values_mut()
    {
        image["variables"] = serde_json::json!(["flavor\nus-east-1 ami-0000 current\u{1b}[2J\u{9b}"]);
    }
    std::fs::write(&lock_path, lock.to_string()).unwrap();
    for format in ["human", "json"] {
        let shown = status(format);
        assert!(!shown.contains(['\u{1b}', '\u{9b}']), "{format}: a control character was printed:\n{shown}");
        assert!(!shown.contains("\nus-east-1 ami-0000"), "{format}: a line was forged:\n{shown}");
    }
    assert!(status("human").contains("flavor\\nus-east-1 ami-0000 current\\u{1b}[2J\\u{9b}"));
    // A template removed while the lock still records its images.
    std::fs::remove_dir_all(root.join("packer/3.9")).unwrap();
    let gone: serde_json::Value = serde_json::from_str(&status("json")).unwrap();
    let entry = gone["templates"].as_array().unwrap().iter().find(|t| t["template"] == "packer/3.9/aws/machine-image");
    let entry = entry.unwrap();
    assert_eq!(entry["images"][0]["state"], "its template is gone");
    assert_eq!(entry["removed"], true);
    assert_eq!(entry["release"], "3.9");
    // One shape for scripts, removed or not.
    let keys = |image: &serde_json::Value| image.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    let present = gone["templates"].as_array().unwrap().iter().find(|t| t["removed"] == false).unwrap();
    assert_eq!(keys(&entry["images"][0]), keys(&present["images"][0]), "{entry}");
    // The deployments that still boot its image are listed with it.
    let keys: Vec<(&str, &str, &str)> = entry["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|used| (used["path"].as_str().unwrap(), used["key"].as_str().unwrap(), used["state"].as_str().unwrap()))
        .collect();
    let booting = "boots its image for us-east-1, and its template is gone";
    assert_eq!(
        keys,
        [
            ("deployments/virginia.yaml", "bastion.machine_image.id", booting),
            ("deployments/virginia.yaml", "cluster.machine_image.id", booting)
        ],
        "{entry}"
    );
    let human = status("human");
    assert!(
        human
            .contains("packer/3.9/aws/machine-image  (removed: its template is gone; packer/images.lock still records"),
        "{human}"
    );
    assert!(human.contains("deployments/virginia.yaml cluster.machine_image.id (us-east-1)"), "{human}");
    // A key it fed that boots something else, with nothing feeding it now.
    let virginia = root.join("deployments/virginia.yaml");
    let text_now = std::fs::read_to_string(&virginia).unwrap();
    let bastion_id = ids_in(&text_now)[0].clone();
    std::fs::write(&virginia, text_now.replacen(&bastion_id, "ami-0abcdef0123456789", 1)).unwrap();
    let gone: serde_json::Value = serde_json::from_str(&status("json")).unwrap();
    let entry = gone["templates"].as_array().unwrap().iter().find(|t| t["removed"] == true).unwrap().clone();
    assert_eq!(entry["deployments"][0]["id"], "ami-0abcdef0123456789");
    assert_eq!(entry["deployments"][0]["state"], "its template is gone, and no template feeds this key");
}

/// `cargo xtask images 2>&1 | tee log` and Ctrl-C: the terminal's SIGINT
/// kills `tee` too, and xtask's next write fails. It must still pass the
/// interrupt on to Packer and end as interrupted, not panic.
#[test]
fn an_interrupt_reaches_packer_when_the_reader_of_our_output_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let marker = root.join("packer-got-the-interrupt");
    let waits = STAND_IN.replace(
        "  build)\n",
        &format!("  build)\n    trap \"touch '{}'; exit 1\" INT\n    sleep 5 & wait\n", marker.display()),
    );
    std::fs::write(&packer, waits).unwrap();
    let mut child = images(root, &packer, &["--release", "3.9"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // The reader goes away, as `tee` does on Ctrl-C.
    drop(child.stdout.take());
    drop(child.stderr.take());
    // SAFETY: kill(2) on the child's pid; no memory is touched.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "xtask did not end as interrupted: {status:?}");
    assert!(marker.exists(), "packer never got the interrupt");
}

#[test]
fn a_reader_that_stops_early_is_no_crash() {
    for args in [&["lint", "--explain", "PKR006"][..], &["--help"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(!said.contains("panicked"), "{args:?}: {said}");
    }
}

#[test]
fn a_selection_that_matches_nothing_is_an_error_that_lists_what_there_is() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    for (args, said) in [
        (
            &["--release", "3.10"][..],
            "no template matches --release 3.10; the releases here: 3.9, 3.11; the clouds: aws; the images: \
             machine-image",
        ),
        (&["--cloud", "AWS"][..], "the clouds: aws"),
        (
            &["--region", "eu-west-7"][..],
            "no selected template builds eu-west-7; the regions they build: eu-central-1, eu-west-1, us-east-1",
        ),
        (
            &["--select", "packer/3.10/aws/machine-image"][..],
            "--select packer/3.10/aws/machine-image: no template there (template.json or *.pkr.hcl)",
        ),
    ] {
        let output = images(root, &packer, &[&["--dry-run"], args].concat()).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output));
        assert!(text(&output).contains(said), "{args:?}: {}", text(&output));
    }
}

#[test]
fn legs_and_merges_refuse_what_a_local_run_would_not_do() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let results = dir.path().join("results");
    let result = results.join("leg.json");
    let result_arg = result.to_str().unwrap();
    // Two templates selected: refused before anything is built.
    let both = images(root, &packer, &["--build-only", "--result", result_arg]).output().unwrap();
    assert_eq!(both.status.code(), Some(2), "{}", text(&both));
    assert!(text(&both).contains("--build-only builds one template, and 2 are selected"), "{}", text(&both));
    assert!(!text(&both).contains("building"), "it built before refusing: {}", text(&both));
    // A result may not be written over a deployment.
    let over = images(root, &packer, &["--select", "packer/3.11/aws/machine-image", "--build-only", "--result"])
        .arg(root.join("deployments/ireland.yaml"))
        .output()
        .unwrap();
    assert_eq!(over.status.code(), Some(2), "{}", text(&over));
    assert!(text(&over).contains("write results outside packer/ and deployments/"), "{}", text(&over));

    let leg =
        images(root, &packer, &["--select", "packer/3.11/aws/machine-image", "--build-only", "--result", result_arg])
            .output()
            .unwrap();
    assert!(leg.status.success(), "{}", text(&leg));
    let good: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    let apply = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut document = good.clone();
        edit(&mut document);
        let path = results.join("edited.json");
        std::fs::write(&path, document.to_string()).unwrap();
        images(root, &packer, &["--apply", path.to_str().unwrap()]).output().unwrap()
    };
    let extra = apply(&|d| d["images"]["us-east-1"] = "ami-0123456789abcdef0".into());
    assert!(text(&extra).contains("was asked for eu-central-1, eu-west-1 and has images for"), "{}", text(&extra));
    let foreign = apply(&|d| {
        d["images"]["us-east-1"] = "ami-0123456789abcdef0".into();
        d["regions"] = serde_json::json!(["eu-central-1", "eu-west-1", "us-east-1"]);
    });
    assert!(text(&foreign).contains("has an image for us-east-1, which packer/3.11"), "{}", text(&foreign));
    // A builder whose regions the template's files fix may not claim another.
    let claimed = apply(&|d| {
        d["images"]["us-east-1"] = "ami-0123456789abcdef0".into();
        d["regions"] = serde_json::json!(["eu-central-1", "eu-west-1", "us-east-1"]);
        d["builders"][0]["regions"].as_array_mut().unwrap().push("us-east-1".into());
    });
    assert!(text(&claimed).contains("and the template builds"), "{}", text(&claimed));
    let missing = apply(&|d| {
        d["images"].as_object_mut().unwrap().remove("eu-central-1");
    });
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    let when = apply(&|d| d["built_at"] = "yesterday".into());
    assert!(text(&when).contains("is not a time like"), "{}", text(&when));
    let no_such_day = apply(&|d| d["built_at"] = "2026-13-45T99:99:99Z".into());
    assert!(text(&no_such_day).contains("is not a time like"), "{}", text(&no_such_day));
    // Text that would forge a line of `status` or clear its terminal.
    let forged = apply(&|d| d["variables"] = serde_json::json!(["flavor\nami-0000 current\u{1b}[2J"]));
    assert!(text(&forged).contains("`variables` holds the control character U+000A"), "{}", text(&forged));
    let version = apply(&|d| d["packer_version"] = "1.6.6\u{9b}2J".into());
    assert!(text(&version).contains("`packer_version` holds the control character U+009B"), "{}", text(&version));
    let region = apply(&|d| {
        let id = d["images"]["eu-west-1"].clone();
        d["images"]["eu-west-1\u{202e}"] = id;
    });
    assert!(text(&region).contains("`images` holds the control character U+202E"), "{}", text(&region));
    let settings = apply(&|d| d["settings"] = "sha256:not-a-hash".into());
    assert!(text(&settings).contains("not a hash like sha256:"), "{}", text(&settings));
    // Its files as they are here, its hash another: not "the order of its files".
    let hash = apply(&|d| d["hash"] = format!("sha256:{}", "0".repeat(64)).into());
    assert!(
        text(&hash).contains("its `hash` is not that of the files it lists (`files`); build it again from this commit"),
        "{}",
        text(&hash)
    );
    // A key written twice: a JSON reader keeps one of the two, and which
    // one a person reading the file believes is a guess.
    let twice = results.join("twice.json");
    let good_text = good.to_string();
    assert!(good_text.contains("\"images\":{"), "{good_text}");
    std::fs::write(
        &twice,
        good_text.replacen("\"images\":{", "\"images\":{\"eu-west-1\":\"ami-0fffffffffffffff0\",", 1),
    )
    .unwrap();
    let twice = images(root, &packer, &["--apply", twice.to_str().unwrap()]).output().unwrap();
    assert!(text(&twice).contains("the key `eu-west-1` appears twice in one object"), "{}", text(&twice));
    for refused in [
        &extra,
        &foreign,
        &claimed,
        &missing,
        &when,
        &no_such_day,
        &forged,
        &version,
        &region,
        &settings,
        &hash,
        &twice,
    ] {
        assert!(!text(refused).contains('\u{1b}'), "a control character was printed: {}", text(refused));
        assert_eq!(refused.status.code(), Some(2));
    }
    assert!(!root.join("packer/images.lock").exists(), "a refused result reached the lock");
    let narrowed =
        images(root, &packer, &["--apply", result_arg, "--select", "packer/3.9/aws/machine-image"]).output().unwrap();
    assert_eq!(narrowed.status.code(), Some(2), "--apply with --select is refused: {}", text(&narrowed));
    let merged = images(root, &packer, &["--apply", result_arg]).output().unwrap();
    assert!(merged.status.success(), "{}", text(&merged));
    // A newer local build, then the old result again: refused, the newer
    // images stay. The order comes from the lock, not from clocks: a result
    // dated ahead of everything (a runner whose clock runs fast) is refused
    // the same, and one dated in the past but built after the lock's image
    // is applied.
    let newer = images(root, &packer, &["--force", "--release", "3.11"]).output().unwrap();
    assert!(newer.status.success(), "{}", text(&newer));
    let before = (deployments(root), std::fs::read_to_string(root.join("packer/images.lock")).unwrap());
    let older = images(root, &packer, &["--apply", result_arg]).output().unwrap();
    assert_eq!(older.status.code(), Some(2), "{}", text(&older));
    assert!(text(&older).contains("an image recorded after this result's build began"), "{}", text(&older));
    let ahead = apply(&|d| d["built_at"] = "2099-01-01T00:00:00Z".into());
    assert_eq!(ahead.status.code(), Some(2), "{}", text(&ahead));
    assert!(text(&ahead).contains("an image recorded after this result's build began"), "{}", text(&ahead));
    assert_eq!((deployments(root), std::fs::read_to_string(root.join("packer/images.lock")).unwrap()), before);

    let later = images(root, &packer, &["--select", "packer/3.11/aws/machine-image", "--build-only", "--result"])
        .arg(&result)
        .output()
        .unwrap();
    assert!(later.status.success(), "{}", text(&later));
    let mut behind: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    behind["built_at"] = "2001-01-01T00:00:00Z".into();
    std::fs::write(&result, behind.to_string()).unwrap();
    let applied = images(root, &packer, &["--apply", result_arg]).output().unwrap();
    assert!(applied.status.success(), "a runner's slow clock refused a newer result: {}", text(&applied));
    let lock = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    for id in behind["images"].as_object().unwrap().values() {
        assert!(lock.contains(id.as_str().unwrap()), "{lock}");
    }
    // --force applies what the lock has moved past, when a person says so.
    let edited = results.join("edited.json");
    let forced = images(root, &packer, &["--apply", edited.to_str().unwrap(), "--force"]).output().unwrap();
    assert!(forced.status.success(), "{}", text(&forced));
    // That result says 2099 (a runner's clock far ahead): the lock records
    // no time ahead of the merge's, which would otherwise make every
    // manifest after it look older.
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
    let recorded = &lock["templates"]["packer/3.11/aws/machine-image/template.json"]["images"]["eu-west-1"];
    let merged_at = xtask::clock::utc_now();
    assert!(recorded["built_at"].as_str().unwrap() <= merged_at.as_str(), "{recorded}");
}

/// The lock is recorded into as it is on disk when a build ends: an entry
/// that arrived during the build (a `git pull`) stays.
#[test]
fn a_lock_changed_during_a_build_keeps_what_arrived() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let pulled = r#"{"version": 1, "templates": {"packer/9.9/aws/machine-image/template.json": {"hash": "sha256:0",
        "inputs": ["template.json"], "packer_version": "1.6.6", "images": {"eu-west-1": {"id": "ami-0123456789abcdef0",
        "built_at": "2026-11-27T10:00:00Z", "hash": "sha256:0", "settings": "sha256:0"}}}}}"#;
    let arrived = root.join("pulled.lock");
    std::fs::write(&arrived, pulled).unwrap();
    let during = format!("cp '{}' '{}'", arrived.display(), root.join("packer/images.lock").display());
    let output = images(root, &packer, &["--release", "3.9"]).env("STANDIN_DURING", during).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let lock = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    assert!(lock.contains("packer/9.9/aws/machine-image/template.json"), "what arrived was dropped:\n{lock}");
    assert!(lock.contains("packer/3.9/aws/machine-image/template.json"), "{lock}");
}

/// A deployment that is a symlink to another is one file: written once.
#[test]
fn a_deployment_linked_to_another_is_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    std::os::unix::fs::symlink("virginia.yaml", root.join("deployments/virginia-again.yaml")).unwrap();
    for _ in 0..20 {
        let output = images(root, &packer, &["--force", "--release", "3.9"]).output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    }
    assert!(std::fs::symlink_metadata(root.join("deployments/virginia-again.yaml")).unwrap().file_type().is_symlink());
    let shapes = shape(&std::fs::read_to_string(root.join("deployments/virginia.yaml")).unwrap());
    assert!(shapes.contains("id: <ID>"), "{shapes}");
}

/// Each image keeps the Packer that built it: a leg that builds one region
/// with another Packer relabels that region's image only.
#[test]
fn each_region_keeps_the_packer_version_that_built_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let newer = write(root, "bin/packer-1.9", STAND_IN.replace("echo \"Packer v1.6.6\"", "echo \"Packer v1.9.2\""));
    std::fs::set_permissions(&newer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    assert!(images(root, &packer, &["--release", "3.11"]).output().unwrap().status.success());
    let result = dir.path().join("results/ireland.json");
    let leg = images(
        root,
        &newer,
        &["--select", "packer/3.11/aws/machine-image", "--region", "eu-west-1", "--force", "--build-only", "--result"],
    )
    .arg(&result)
    .output()
    .unwrap();
    assert!(leg.status.success(), "{}", text(&leg));
    let merged = images(root, &packer, &["--apply", result.to_str().unwrap()]).output().unwrap();
    assert!(merged.status.success(), "{}", text(&merged));
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
    assert_eq!(lock["version"], 3);
    let entry = &lock["templates"]["packer/3.11/aws/machine-image/template.json"];
    assert!(entry.get("packer_version").is_none(), "{entry}");
    assert_eq!(entry["images"]["eu-west-1"]["packer_version"], "1.9.2", "{entry}");
    assert_eq!(entry["images"]["eu-central-1"]["packer_version"], "1.6.6", "{entry}");
    let status = Command::new(env!("CARGO_BIN_EXE_xtask")).args(["status", "--root", root.to_str().unwrap()]).output();
    let shown = text(&status.unwrap());
    let line = |region: &str| shown.lines().find(|line| line.trim_start().starts_with(region)).unwrap().to_owned();
    assert!(line("eu-west-1").contains("with Packer 1.9.2"), "{shown}");
    assert!(line("eu-central-1").contains("with Packer 1.6.6"), "{shown}");
}

/// The issue's case: a script path that depends on a variable. After a
/// build given `--var flavor=b`, `status` and `lint-deployments` read the
/// template with that value, as `--plan --var flavor=b` does, and agree
/// with it; a value the lock does not keep makes `status` say what it
/// cannot know rather than guess.
#[test]
fn status_and_the_linter_read_a_template_with_its_builds_values() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let template = r#"variable "flavor" {
  type    = string
  default = "2"
}

source "amazon-ebs" "virginia" {
  region        = "us-east-1"
  source_ami    = "ami-03cf127a"
  instance_type = "t2.micro"
  ssh_username  = "core"
  ami_name      = "okd-${uuidv4()}"
}

build {
  sources = ["source.amazon-ebs.virginia"]
  provisioner "shell" {
    script = "scripts${var.flavor}/a.sh"
  }
}
"#;
    write(root, "packer/4.0/aws/machine-image/main.pkr.hcl", template);
    write(root, "packer/4.0/aws/machine-image/scripts2/a.sh", "echo two\n");
    write(root, "packer/4.0/aws/machine-image/scriptsb/a.sh", "echo b\n");
    let old = "ami-00000000000000000";
    write(
        root,
        "deployments/virginia-4.yaml",
        format!(
            "release: \"4.0\"\ncloud: aws\nbastion:\n  machine_image:\n    id: {old}\ncluster:\n  region: us-east-1\n  \
             machine_image:\n    id: {old}\n"
        ),
    );
    let built = images(root, &packer, &["--release", "4.0", "--var", "flavor=b"]).output().unwrap();
    assert!(built.status.success(), "{}", text(&built));
    let state = || {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["status", "--root", root.to_str().unwrap(), "--format", "json"])
            .output()
            .unwrap();
        let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let entry = document["templates"].as_array().unwrap().iter().find(|t| t["release"] == "4.0").unwrap().clone();
        entry["images"][0]["state"].as_str().unwrap().to_owned()
    };
    let stale_warnings = || {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["lint-deployments", "--root", root.to_str().unwrap()])
            .arg(root.join("deployments/virginia-4.yaml"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
        text(&output).matches("warning[DEP009]").count()
    };
    let plan = || {
        let output = images(root, &packer, &["--plan", "--release", "4.0", "--var", "flavor=b"]).output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
        text(&output)
    };
    assert_eq!(state(), "current");
    assert_eq!(stale_warnings(), 0);
    assert!(!plan().contains("packer/4.0"), "{}", plan());

    // Only the file the build did not read changes: still current.
    write(root, "packer/4.0/aws/machine-image/scripts2/a.sh", "echo two, edited\n");
    assert_eq!(state(), "current");
    assert_eq!(stale_warnings(), 0);
    // The file it read changes: all three say so.
    write(root, "packer/4.0/aws/machine-image/scriptsb/a.sh", "echo b, edited\n");
    assert_eq!(state(), "stale: scriptsb/a.sh (changed)");
    assert_eq!(stale_warnings(), 2, "bastion and cluster");
    assert!(plan().contains("scriptsb/a.sh (changed)"), "{}", plan());

    // A leg given the value, merged by a run that is not: the result's
    // values stand for the leg's.
    let result = dir.path().join("results/4.0.json");
    let leg = |extra: &[&str]| {
        let args = [&["--select", "packer/4.0/aws/machine-image", "--build-only", "--result"][..], extra].concat();
        let mut command = images(root, &packer, &args);
        let output = command.arg(&result).args(["--var", "flavor=b"]).output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    };
    leg(&[]);
    let merged = images(root, &packer, &["--apply", result.to_str().unwrap()]).output().unwrap();
    assert!(merged.status.success(), "{}", text(&merged));
    assert_eq!(state(), "current");

    // A sensitive variable's value is not in the lock: with the files its
    // build read unchanged, status says what it cannot know.
    let sensitive = template.replace("  default = \"2\"\n", "  default = \"2\"\n  sensitive = true\n");
    write(root, "packer/4.0/aws/machine-image/main.pkr.hcl", &sensitive);
    let rebuilt = images(root, &packer, &["--release", "4.0", "--var", "flavor=b"]).output().unwrap();
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    let lock = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&lock).unwrap();
    let image = &lock["templates"]["packer/4.0/aws/machine-image"]["images"]["us-east-1"];
    assert_eq!(image["values"], serde_json::json!({"flavor": null}), "{lock}");
    assert_eq!(
        state(),
        "unknown: the files its build read are unchanged, but which files a build reads may depend on flavor, \
         whose value the lock does not keep"
    );
    assert_eq!(stale_warnings(), 0);
    // A template file Packer reads whatever the values, added: stale.
    let extra = write(root, "packer/4.0/aws/machine-image/extra.pkr.hcl", "locals {\n  unused = \"x\"\n}\n");
    assert_eq!(state(), "stale: extra.pkr.hcl (new)");
    std::fs::remove_file(extra).unwrap();
    write(root, "packer/4.0/aws/machine-image/scriptsb/a.sh", "echo b, edited again\n");
    assert_eq!(state(), "stale: scriptsb/a.sh (changed)");
    assert_eq!(stale_warnings(), 2);

    // A result does not hold a secret value either: the merge is given it.
    // One that does (forged, or from a leg whose template said otherwise)
    // still cannot put it into the lock; one that gives an undeclared
    // variable is refused.
    leg(&[]);
    let honest = std::fs::read_to_string(&result).unwrap();
    let forged_path = dir.path().join("results/forged.json");
    let forge = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut document: serde_json::Value = serde_json::from_str(&honest).unwrap();
        edit(&mut document);
        std::fs::write(&forged_path, document.to_string()).unwrap();
        images(root, &packer, &["--apply", forged_path.to_str().unwrap()]).output().unwrap()
    };
    let undeclared = forge(&|d| d["values"]["nope"] = "x".into());
    assert_eq!(undeclared.status.code(), Some(2), "{}", text(&undeclared));
    assert!(text(&undeclared).contains("`values` gives `nope`, which packer/4.0"), "{}", text(&undeclared));
    let lock_before = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    let secret = forge(&|d| d["values"]["flavor"] = "b".into());
    assert!(secret.status.success(), "{}", text(&secret));
    let lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
    let image = &lock["templates"]["packer/4.0/aws/machine-image"]["images"]["us-east-1"];
    assert_eq!(image["values"], serde_json::json!({"flavor": null}), "a secret reached the lock: {lock}");
    std::fs::write(root.join("packer/images.lock"), lock_before).unwrap();
    let without = images(root, &packer, &["--apply", result.to_str().unwrap()]).output().unwrap();
    assert_eq!(without.status.code(), Some(2), "{}", text(&without));
    assert!(text(&without).contains("give flavor here as the leg had it"), "{}", text(&without));
    let with = images(root, &packer, &["--apply", result.to_str().unwrap(), "--var", "flavor=b"]).output().unwrap();
    assert!(with.status.success(), "{}", text(&with));
}

/// `status` shows the values the lock keeps beside the names the build
/// was given them by: one from `PKR_VAR_flavor` is kept as `flavor`.
#[test]
fn status_shows_a_value_given_through_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let template = "variable \"flavor\" {\n  type    = string\n  default = \"a\"\n}\n\nsource \"amazon-ebs\" \"virginia\" \
                    {\n  region        = \"us-east-1\"\n  source_ami    = \"ami-03cf127a\"\n  instance_type = \"t2.micro\"\n  \
                    ssh_username  = \"core\"\n  ami_name      = \"okd-${var.flavor}-${uuidv4()}\"\n}\n\nbuild {\n  \
                    sources = [\"source.amazon-ebs.virginia\"]\n}\n";
    write(root, "packer/4.0/aws/machine-image/main.pkr.hcl", template);
    let built = images(root, &packer, &["--release", "4.0"]).env("PKR_VAR_flavor", "b").output().unwrap();
    assert!(built.status.success(), "{}", text(&built));
    let output =
        Command::new(env!("CARGO_BIN_EXE_xtask")).args(["status", "--root", root.to_str().unwrap()]).output().unwrap();
    assert!(text(&output).contains("current (given PKR_VAR_flavor=b)"), "{}", text(&output));
}

/// `--patch-from` records when the manifest's build ended, not when it was
/// applied; a manifest dated ahead of this machine's clock is taken for a
/// wrong clock and refused unless `--force` says otherwise.
#[test]
fn a_manifest_keeps_its_build_time_and_a_future_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let manifest = |id: &str, at: u64| {
        format!(
            r#"{{"builds": [{{"name": "us-east-1", "artifact_id": "us-east-1:{id}", "packer_run_uuid": "u1",
                "build_time": {at}}}], "last_run_uuid": "u1"}}"#
        )
    };
    let path = write(root, "packer/3.9/aws/machine-image/manifest.json", manifest("ami-01111111111111111", now - 7200));
    let patch = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["images", "--root", root.to_str().unwrap(), "--patch-from"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap()
    };
    let applied = patch(&[]);
    assert!(applied.status.success(), "{}", text(&applied));
    let built_at = |root: &Path| {
        let lock: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
        lock["templates"]["packer/3.9/aws/machine-image/template.json"]["images"]["us-east-1"]["built_at"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(built_at(root), xtask::clock::utc_timestamp(now - 7200), "the apply time was recorded");

    write(root, "packer/3.9/aws/machine-image/manifest.json", manifest("ami-02222222222222222", now + 86_400));
    let refused = patch(&[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("ahead of this machine's clock"), "{}", text(&refused));
    assert!(deployments(root)["virginia.yaml"].contains("ami-01111111111111111"));
    let forced = patch(&["--force"]);
    assert!(forced.status.success(), "{}", text(&forced));
    assert!(deployments(root)["virginia.yaml"].contains("ami-02222222222222222"));
    // Not a time at all: refused, --force or not.
    write(root, "packer/3.9/aws/machine-image/manifest.json", manifest("ami-03333333333333333", u64::MAX));
    let nonsense = patch(&["--force"]);
    assert_eq!(nonsense.status.code(), Some(2), "{}", text(&nonsense));
    assert!(
        text(&nonsense).contains("`builds[0].build_time` is 18446744073709551615, not a time"),
        "{}",
        text(&nonsense)
    );
    // Nor is a time of another type, which was taken for no time at all
    // and so passed by both the clock and the lock's order.
    for odd in ["-5", "\"1700000000\"", "1.7e9", "null"] {
        let text_of =
            manifest("ami-04444444444444444", 0).replace("\"build_time\": 0", &format!("\"build_time\": {odd}"));
        write(root, "packer/3.9/aws/machine-image/manifest.json", text_of);
        let odd_time = patch(&["--force"]);
        assert_eq!(odd_time.status.code(), Some(2), "{odd}: {}", text(&odd_time));
        assert!(text(&odd_time).contains("`builds[0].build_time` is"), "{odd}: {}", text(&odd_time));
    }
    assert!(deployments(root)["virginia.yaml"].contains("ami-02222222222222222"));
}

/// Two manifests giving one region of one template different images, in
/// one command: the one named last won, so the order of the arguments
/// could put the older image in the lock. Refused in either order, before
/// anything is written.
#[test]
fn two_manifests_for_one_region_in_one_command_are_refused_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let manifest = |id: &str, at: u64| {
        format!(
            r#"{{"builds": [{{"name": "us-east-1", "artifact_id": "us-east-1:{id}", "packer_run_uuid": "{id}",
                "build_time": {at}}}], "last_run_uuid": "{id}"}}"#
        )
    };
    let newer = write(root, "packer/3.9/aws/machine-image/newer.json", manifest("ami-02222222222222222", now - 60));
    let older = write(root, "packer/3.9/aws/machine-image/older.json", manifest("ami-01111111111111111", now - 7200));
    let before = deployments(root);
    for order in [[&newer, &older], [&older, &newer]] {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["images", "--root", root.to_str().unwrap(), "--patch-from"])
            .args(order)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(
            text(&output).contains("both have an image of packer/3.9/aws/machine-image/template.json for us-east-1"),
            "{}",
            text(&output)
        );
        assert!(!root.join("packer/images.lock").exists(), "{}", text(&output));
        assert_eq!(deployments(root), before);
    }
    // The same manifest twice says the same thing twice: no conflict.
    let twice = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--patch-from"])
        .args([&newer, &newer])
        .output()
        .unwrap();
    assert!(twice.status.success(), "{}", text(&twice));
    assert!(deployments(root)["virginia.yaml"].contains("ami-02222222222222222"));
}

/// `promote`, `rollback` and `revoke` killed with SIGKILL at random
/// moments, each after a build gave the first channel a new image: every
/// deployment is its old text or the same text with IDs the lock records,
/// the lock reads, and running the command again (a rollback only when
/// it had not finished: run again after it has, it goes back one more
/// image) ends where an uninterrupted run would, with no temporary left.
#[test]
fn sigkill_during_promote_rollback_and_revoke_loses_nothing_and_the_next_run_finishes() {
    use xtask::lock::LockFile;
    use xtask::lock::history::rollback_target;

    if common::skip_slow_test("promote, rollback and revoke killed at random moments") {
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    write(root, "xtask.toml", "[channels]\norder = [\"canary\", \"stable\"]\n");
    // Each style in both channels, in each region.
    let files = deployments(root);
    write(root, "deployments/stable-ireland.yaml", &files["ireland.yaml"]);
    write(
        root,
        "deployments/ireland.yaml",
        files["ireland.yaml"].replacen("# Ireland\n", "# Ireland\nchannel: canary\n", 1),
    );
    write(root, "deployments/canary-frankfurt.yaml", format!("channel: canary\r\n{}", files["frankfurt.yaml"]));
    write(
        root,
        "deployments/canary-virginia.yaml",
        files["virginia.yaml"].replacen("---\n", "---\nchannel: 'canary'\n", 1),
    );
    let canary = ["ireland.yaml", "canary-frankfurt.yaml", "canary-virginia.yaml"];
    let stable = ["stable-ireland.yaml", "frankfurt.yaml", "virginia.yaml"];
    let region_of = |name: &str| {
        ["eu-west-1", "eu-central-1", "us-east-1"]
            .into_iter()
            .find(|region| deployments(root)[name].contains(region))
            .unwrap()
    };
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command.args(args).args(["--root", root.to_str().unwrap()]).env("NO_COLOR", "1");
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    };
    let build = |args: &[&str]| {
        let output = images(root, &packer, args).output().unwrap();
        assert!(output.status.success(), "{}", text(&output));
    };
    build(&[]);
    let shapes: BTreeMap<String, String> = deployments(root).into_iter().map(|(k, v)| (k, shape(&v))).collect();
    let template_of = |name: &str| {
        if name.contains("virginia") {
            "packer/3.9/aws/machine-image/template.json"
        } else {
            "packer/3.11/aws/machine-image/template.json"
        }
    };

    let trials: u64 = std::env::var("KILL_TRIALS").ok().and_then(|n| n.parse().ok()).unwrap_or(60);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut killed_mid_run = 0;
    for trial in 0..trials {
        build(&["--force"]);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let lock = LockFile::read(root).unwrap();
        let newest = lock.templates[template_of("ireland.yaml")].images["eu-west-1"].id.clone();
        let reason = format!("trial {trial}");
        let (args, what): (Vec<&str>, &str) = match seed % 3 {
            0 => (vec!["promote", "--to", "stable"], "promote"),
            1 => (vec!["rollback", "--channel", "canary"], "rollback"),
            _ => (vec!["revoke", newest.as_str(), "--reason", reason.as_str()], "revoke"),
        };
        // Where each changed deployment must end.
        let expected: BTreeMap<&str, Option<String>> = match what {
            "promote" => stable
                .iter()
                .zip(canary)
                .map(|(to, from)| (*to, Some(ids_in(&deployments(root)[from])[0].clone())))
                .collect(),
            "rollback" => canary
                .iter()
                .map(|name| {
                    let entry = &lock.templates[template_of(name)];
                    (*name, rollback_target(entry, "canary", region_of(name)).ok().map(|image| image.id.clone()))
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        let before = deployments(root);
        // How long this command takes now, as a dry run: the kills land
        // from its start to a little past its end.
        let started = Instant::now();
        let dry: Vec<&str> = args.iter().copied().chain(["--dry-run"]).collect();
        let _ = run(&dry).output().unwrap();
        let delay = started.elapsed().mul_f64((seed % 1000) as f64 / 700.0);
        let mut child = run(&args).spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        wait_for_the_run_lock(root, Duration::from_secs(5));

        let after_kill = deployments(root);
        let lock = LockFile::read(root).unwrap_or_else(|error| panic!("trial {trial} ({what}): the lock: {error:#}"));
        let locked = locked_ids(root);
        for (name, text) in &after_kill {
            assert_eq!(
                shape(text),
                shapes[name],
                "trial {trial} ({what}, kill after {delay:?}): {name} is torn:\n{text}"
            );
            for id in ids_in(text) {
                assert!(
                    ids_in(&before[name]).contains(&id) || locked.contains(&id),
                    "trial {trial}: {name} holds {id}, which the lock does not record"
                );
            }
        }
        // Never ahead of the lock: a deployment the command writes holds
        // its old image or the one the lock now gives its channel.
        let (channel, written) = match what {
            "promote" => ("stable", &stable),
            _ => ("canary", &canary),
        };
        if what != "revoke" {
            for name in written {
                let given =
                    lock.templates[template_of(name)].channels.get(channel).and_then(|on| on.get(region_of(name)));
                for id in ids_in(&after_kill[*name]) {
                    assert!(
                        ids_in(&before[*name]).contains(&id) || given == Some(&id),
                        "trial {trial} ({what}, kill after {delay:?}): {name} holds {id}, ahead of the lock's {given:?}"
                    );
                }
            }
        }
        let finished = match what {
            "rollback" => canary.iter().all(|name| {
                let entry = &lock.templates[template_of(name)];
                let given = entry.channels["canary"].get(region_of(name));
                expected[name].is_none()
                    || (given == expected[name].as_ref()
                        && ids_in(&after_kill[*name]).iter().all(|id| Some(id) == given))
            }),
            _ => false,
        };
        if !finished {
            let next = run(&args).output().unwrap();
            let refusals = expected.values().any(Option::is_none);
            assert!(next.status.success() || refusals, "trial {trial}: the next {what} failed:\n{}", text(&next));
        }
        let settled = deployments(root);
        for (name, id) in &expected {
            let Some(id) = id else { continue };
            assert!(
                ids_in(&settled[*name]).iter().all(|held| held == id),
                "trial {trial} ({what}): {name} should boot {id}:\n{}",
                settled[*name]
            );
        }
        if what == "revoke" {
            let lock = LockFile::read(root).unwrap();
            let revoked = lock.templates[template_of("ireland.yaml")].lifecycle[&newest].revoked.clone();
            assert!(revoked.is_some(), "trial {trial}: {newest} is not revoked");
        }
        for (name, text) in &settled {
            assert_eq!(shape(text), shapes[name], "trial {trial}: {name} is torn after the next run");
        }
        for folder in ["deployments", "packer"] {
            let left: Vec<String> = std::fs::read_dir(root.join(folder))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".tmp"))
                .collect();
            assert!(left.is_empty(), "trial {trial}: temporaries left in {folder}: {left:?}");
        }
    }
    assert!(killed_mid_run >= trials / 5, "only {killed_mid_run} of {trials} kills hit a running run");
}

/// A template whose folder name holds a terminal control is named escaped
/// when it cannot be built, as every other line from files is.
#[test]
fn a_template_that_cannot_be_built_is_named_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let packer = tree(root);
    let broken = template(&["eu-west-1"]).replace("\"t2.micro\"", "\"{{user `no_such_variable`}}\"");
    write(root, "packer/3.11/aws/red\u{1b}[31m/template.json", broken);
    for mode in [&[][..], &["--plan"], &["--dry-run"]] {
        let output = images(root, &packer, mode).output().unwrap();
        let said = text(&output);
        assert!(said.contains("red\\u{1b}[31m"), "{mode:?}: {said}");
        assert!(!said.contains('\u{1b}'), "{mode:?}: a control character reached the terminal:\n{said}");
    }
}
