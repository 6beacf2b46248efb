//! `cargo xtask prune` end to end: images registered in moto's EC2 with
//! the AWS CLI, a lock that records them with their ages, channels and
//! deployments, then `prune` dry and with `--execute`; the AWS CLI checks
//! that exactly the right AMIs and snapshots are gone.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{text, write};
use serde_json::{Value, json};

const AWS_TEMPLATE: &str = "packer/3.11/aws/machine-image/template.json";
const GCE_TEMPLATE: &str = "packer/3.11/gce/machine-image/template.json";
const DAY: u64 = 86_400;

struct Ec2 {
    moto: xtask::moto::Moto,
    cli: PathBuf,
    /// Where the AWS CLI reads its configuration: nothing of the user's.
    home: tempfile::TempDir,
}

impl Ec2 {
    fn start() -> Ec2 {
        let moto = xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}"));
        Ec2 { moto, cli: common::aws_cli(), home: tempfile::tempdir().unwrap() }
    }

    /// The environment the AWS CLI takes its endpoint and credentials from.
    fn environment(&self, command: &mut Command) {
        command
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "prune-secret-not-for-argv")
            .env("AWS_CONFIG_FILE", self.home.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.home.path().join("credentials"))
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_REGION");
    }

    fn aws(&self, region: &str, args: &[&str]) -> Value {
        let mut command = Command::new(&self.cli);
        command.arg("ec2").args(args).args(["--region", region, "--output", "json"]);
        self.environment(&mut command);
        let output = command.output().expect("the AWS CLI runs");
        assert!(output.status.success(), "aws ec2 {}: {}", args.join(" "), text(&output));
        if output.stdout.is_empty() { Value::Null } else { serde_json::from_slice(&output.stdout).unwrap() }
    }

    /// Registers AMIs backed by a snapshot each, by region and name, with
    /// boto3 beside moto_server (one process, where the AWS CLI would take
    /// a second per call); their IDs and snapshots, in order.
    fn register(&self, wanted: &[(&str, String)]) -> Vec<(String, Vec<String>)> {
        let script = format!(
            "import boto3, json, sys\n\
             out = []\n\
             for region, name in json.loads(sys.argv[1]):\n\
             \x20   ec2 = boto3.client('ec2', region_name=region, endpoint_url='{}', aws_access_key_id='testing', \
             aws_secret_access_key='testing')\n\
             \x20   volume = ec2.create_volume(Size=8, AvailabilityZone=region + 'a')['VolumeId']\n\
             \x20   snapshot = ec2.create_snapshot(VolumeId=volume)['SnapshotId']\n\
             \x20   image = ec2.register_image(Name=name, RootDeviceName='/dev/sda1', BlockDeviceMappings=[\
             {{'DeviceName': '/dev/sda1', 'Ebs': {{'SnapshotId': snapshot}}}}])['ImageId']\n\
             \x20   found = ec2.describe_images(ImageIds=[image])['Images'][0]['BlockDeviceMappings']\n\
             \x20   out.append([image, [m['Ebs']['SnapshotId'] for m in found if 'Ebs' in m]])\n\
             print(json.dumps(out))\n",
            self.moto.endpoint
        );
        let output =
            Command::new(&self.moto.python).arg("-c").arg(script).arg(json!(wanted).to_string()).output().unwrap();
        assert!(output.status.success(), "registering images in moto: {}", text(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// The AMIs and snapshots of this account in `region`, by the AWS CLI.
    fn remaining(&self, region: &str) -> (Vec<String>, Vec<String>) {
        let images = self.aws(region, &["describe-images", "--owners", "self", "--query", "Images[].ImageId"]);
        let snapshots =
            self.aws(region, &["describe-snapshots", "--owner-ids", "self", "--query", "Snapshots[].SnapshotId"]);
        let strings = |value: Value| -> Vec<String> { serde_json::from_value(value).unwrap() };
        (strings(images), strings(snapshots))
    }

    fn xtask(&self, root: &Path, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command.args(args).arg("--root").arg(root).env("NO_COLOR", "1").env("AWS_CLI", &self.cli);
        self.environment(&mut command);
        command.output().expect("the xtask binary runs")
    }
}

fn image(id: &str, days_old: u64) -> Value {
    let built = xtask::clock::now() - days_old * DAY;
    json!({"id": id, "built_at": xtask::clock::utc_timestamp(built), "packer_version": "1.6.6",
           "hash": "sha256:0", "settings": "sha256:1", "variables": [], "values": {}})
}

fn deployment(region: &str, id: &str) -> String {
    format!(
        "release: '3.11'\ncloud: aws\nbastion:\n  machine_image:\n    id: {id}\ncluster:\n  region: {region}\n  machine_image:\n    id: {id}\n"
    )
}

struct Images {
    /// eu-west-1, newest first: current, booted by a deployment, `stable`
    /// was last given it, `stable` would roll back to it, old (pruned), old
    /// and gone from EC2 already (pruned), young.
    ireland: Vec<(String, Vec<String>)>,
    /// eu-central-1: current, and one old one (pruned).
    frankfurt: Vec<(String, Vec<String>)>,
    /// Registered in EC2 and not recorded by the lock: never touched.
    unrecorded: (String, Vec<String>),
}

fn tree(root: &Path, ec2: &Ec2) -> Images {
    let mut wanted: Vec<(&str, String)> = (0..7).map(|n| ("eu-west-1", format!("okd-ireland-{n}"))).collect();
    wanted.extend((0..2).map(|n| ("eu-central-1", format!("okd-frankfurt-{n}"))));
    wanted.push(("eu-west-1", "okd-by-hand".to_owned()));
    let mut registered = ec2.register(&wanted);
    let unrecorded = registered.pop().unwrap();
    let frankfurt = registered.split_off(7);
    let ireland = registered;
    // The sixth is deregistered by hand before prune runs, its snapshot left.
    ec2.aws("eu-west-1", &["deregister-image", "--image-id", &ireland[5].0]);
    let ids = |images: &[(String, Vec<String>)]| images.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
    let (west, central) = (ids(&ireland), ids(&frankfurt));
    let ages = [1, 60, 70, 80, 90, 100, 5];
    let history: Vec<Value> = west[1..].iter().zip(&ages[1..]).map(|(id, age)| image(id, *age)).collect();
    let lock = json!({
        "version": 3,
        "templates": {
            AWS_TEMPLATE: {
                "hash": "sha256:0", "inputs": ["template.json"],
                "images": {"eu-west-1": image(&west[0], 1), "eu-central-1": image(&central[0], 1)},
                "history": {"eu-west-1": history, "eu-central-1": [image(&central[1], 90)]},
                "channels": {"stable": {"eu-west-1": west[2]}},
                "lifecycle": {
                    &west[2]: {"entered": {"stable": "2026-01-02T00:00:00Z"}},
                    &west[3]: {"entered": {"stable": "2026-01-01T00:00:00Z"}}
                }
            },
            GCE_TEMPLATE: {
                "hash": "sha256:0", "inputs": ["template.json"],
                "images": {"global": image("okd-gce-new", 1)},
                "history": {"global": [image("okd-gce-old", 90)]}
            }
        }
    });
    write(root, "packer/images.lock", serde_json::to_string_pretty(&lock).unwrap() + "\n");
    write(root, "deployments/ireland.yaml", deployment("eu-west-1", &west[1]));
    write(root, "deployments/frankfurt.yaml", deployment("eu-central-1", &central[0]));
    Images { ireland, frankfurt, unrecorded }
}

fn lock(root: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap()
}

#[test]
fn prune_removes_exactly_what_nothing_needs_and_records_it() {
    if common::skip_slow_test("deregisters and deletes against moto with the AWS CLI") {
        return;
    }
    let ec2 = Ec2::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let images = tree(root, &ec2);
    let (west, central) = (&images.ireland, &images.frankfurt);
    let lock_before = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    let before = [ec2.remaining("eu-west-1"), ec2.remaining("eu-central-1")];

    // A dry run lists them with their snapshots and deletes nothing.
    let output = ec2.xtask(root, &["prune", "--keep", "1", "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((document["version"].as_i64(), document["dry_run"].as_bool()), (Some(1), Some(true)));
    let state = |id: &str| {
        let found = document["images"].as_array().unwrap().iter().find(|image| image["id"] == id);
        found.unwrap_or_else(|| panic!("{id} is not listed: {document:#}")).clone()
    };
    for (id, snapshots) in [&west[4], &central[1]] {
        assert_eq!(state(id)["state"], "would-prune", "{document:#}");
        assert_eq!(state(id)["snapshots"], json!(snapshots));
    }
    assert_eq!(state(&west[5].0)["state"], "already-gone");
    for (at, why) in [
        (0, "one of the newest 1 in eu-west-1 (--keep)"),
        (1, "deployments/ireland.yaml bastion.machine_image.id boots it"),
        (2, "`stable` was last given it"),
        (3, "`stable` would roll back to it"),
        (6, "built 5d 0h ago, not older than 30d (--older-than)"),
    ] {
        assert_eq!(
            (state(&west[at].0)["state"].as_str(), state(&west[at].0)["reason"].as_str()),
            (Some("kept"), Some(why))
        );
    }
    assert_eq!(state("okd-gce-old")["state"], "not-handled");
    assert!(document["images"].as_array().unwrap().iter().all(|image| image["id"] != images.unrecorded.0.as_str()));
    assert_eq!(std::fs::read_to_string(root.join("packer/images.lock")).unwrap(), lock_before);
    assert_eq!([ec2.remaining("eu-west-1"), ec2.remaining("eu-central-1")], before, "a dry run deleted something");

    insta::assert_snapshot!("prune.dry-run.json", normalised(&common::stdout(&output)));
    let human = text(&ec2.xtask(root, &["prune", "--keep", "1"]));
    insta::assert_snapshot!("prune.dry-run.human", normalised(&human));
    assert!(human.contains("2 images to remove") || human.contains("3 images to remove"), "{human}");
    assert!(human.contains(&format!("  {} eu-west-1 packer/3.11/aws/machine-image (built ", west[4].0)), "{human}");
    assert!(human.contains(&format!("90d 0h ago; snapshots {})", west[4].1.join(", "))), "{human}");
    assert!(human.contains("not handled (not AWS images"), "{human}");

    // status says the same with prune's defaults (--keep 3), without the AWS CLI.
    let status = ec2.xtask(root, &["status"]);
    assert!(status.status.success(), "{}", text(&status));
    let status = text(&status);
    let line = format!(
        "  prunable {} (eu-west-1), built 90d 0h ago: nothing needs it: `cargo xtask prune --execute` removes it",
        west[4].0
    );
    assert!(status.contains(&line), "{status}");
    let status: Value = serde_json::from_slice(&ec2.xtask(root, &["status", "--format", "json"]).stdout).unwrap();
    let template = status["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["template"] == "packer/3.11/aws/machine-image")
        .unwrap();
    let prunable: Vec<&str> =
        template["prunable"].as_array().unwrap().iter().map(|image| image["id"].as_str().unwrap()).collect();
    assert_eq!(prunable, [west[4].0.as_str(), west[5].0.as_str()]);
    let dry_default: Value = serde_json::from_slice(&ec2.xtask(root, &["prune", "--format", "json"]).stdout).unwrap();
    let would: Vec<&str> = dry_default["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|image| image["state"] != "kept")
        .map(|image| image["id"].as_str().unwrap())
        .collect();
    assert_eq!(would, prunable, "status and prune disagree");

    // --execute removes exactly those, region by region, and says so in the lock.
    let output = ec2.xtask(root, &["prune", "--keep", "1", "--execute"]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("2 pruned, 1 already gone, 0 failed"), "{said}");
    // Exactly the two AMIs and their snapshots are gone, in their regions;
    // the image deregistered by hand leaves a snapshot nobody can tell.
    for ((region, (id, snapshots)), (images_before, snapshots_before)) in
        [("eu-west-1", &west[4]), ("eu-central-1", &central[1])].into_iter().zip(&before)
    {
        let (images_after, snapshots_after) = ec2.remaining(region);
        let without = |all: &[String], gone: &[String]| -> Vec<String> {
            all.iter().filter(|item| !gone.contains(item)).cloned().collect()
        };
        assert_eq!(images_after, without(images_before, std::slice::from_ref(id)), "{region}");
        assert_eq!(snapshots_after, without(snapshots_before, snapshots), "{region}");
        assert!(images_before.contains(id) && snapshots.iter().all(|snapshot| snapshots_before.contains(snapshot)));
    }
    assert!(before[0].0.contains(&images.unrecorded.0), "an image the lock does not record stays");
    let locked = lock(root);
    let pruned = &locked["templates"][AWS_TEMPLATE]["lifecycle"][&west[4].0]["pruned"];
    assert_eq!(pruned["snapshots"], json!(west[4].1));
    assert!(pruned["finished_at"].is_string() && pruned["started_at"].is_string(), "{pruned}");
    assert!(locked["templates"][AWS_TEMPLATE]["lifecycle"][&west[5].0]["pruned"]["finished_at"].is_string());

    let status = text(&ec2.xtask(root, &["status"]));
    assert!(!status.contains(&west[4].0), "a pruned image is still shown:\n{status}");

    // Again: nothing left to remove.
    let again = text(&ec2.xtask(root, &["prune", "--keep", "1", "--execute"]));
    assert!(again.contains("nothing to remove") && again.contains("0 pruned, 0 already gone, 0 failed"), "{again}");
}

#[test]
fn an_interrupted_prune_is_completed_by_the_next_run() {
    if common::skip_slow_test("deregisters and deletes against moto with the AWS CLI") {
        return;
    }
    let ec2 = Ec2::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let images = tree(root, &ec2);
    let (id, snapshots) = &images.ireland[4];
    // A run stopped after the AMI was deregistered, before its snapshots
    // were deleted: the lock says the prune began.
    let mut locked = lock(root);
    locked["templates"][AWS_TEMPLATE]["lifecycle"][id] =
        json!({"pruned": {"started_at": "2026-12-01T00:00:00Z", "snapshots": snapshots}});
    write(root, "packer/images.lock", serde_json::to_string_pretty(&locked).unwrap() + "\n");
    ec2.aws("eu-west-1", &["deregister-image", "--image-id", id]);
    let (images_before, snapshots_before) = ec2.remaining("eu-west-1");
    let frankfurt_before = ec2.remaining("eu-central-1");

    let dry = text(&ec2.xtask(root, &["prune", "--region", "eu-west-1"]));
    assert!(dry.contains("a prune of it began and did not finish; --execute completes it"), "{dry}");
    let output = ec2.xtask(root, &["prune", "--region", "eu-west-1", "--execute"]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    let expected: Vec<String> =
        snapshots_before.iter().filter(|snapshot| !snapshots.contains(snapshot)).cloned().collect();
    assert_eq!(ec2.remaining("eu-west-1"), (images_before, expected), "{said}");
    let pruned = &lock(root)["templates"][AWS_TEMPLATE]["lifecycle"][id]["pruned"];
    assert_eq!(pruned["started_at"], "2026-12-01T00:00:00Z", "the time it began stays");
    assert!(pruned["finished_at"].is_string(), "{pruned}");
    assert_eq!(ec2.remaining("eu-central-1"), frankfurt_before, "--region leaves eu-central-1 alone");
}

/// `prune --execute` killed (with the AWS CLI it runs) at moments from
/// just after the lock records that the prune began to well into the
/// deletions, then run again: it always ends where one uninterrupted run
/// ends, the lock saying every prune finished.
#[test]
fn a_prune_killed_at_any_moment_is_finished_by_the_next_run() {
    use std::os::unix::process::CommandExt as _;

    if common::skip_slow_test("prune killed at several moments against moto with the AWS CLI") {
        return;
    }
    let ec2 = Ec2::start();
    for delay in [0, 1500, 4000] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let images = tree(root, &ec2);
        let (west, central) = (&images.ireland, &images.frankfurt);
        let before = [ec2.remaining("eu-west-1"), ec2.remaining("eu-central-1")];
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command.args(["prune", "--keep", "1", "--execute", "--root"]).arg(root).env("AWS_CLI", &ec2.cli);
        ec2.environment(&mut command);
        let mut child = command
            .process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !std::fs::read_to_string(root.join("packer/images.lock")).unwrap().contains("started_at") {
            assert!(std::time::Instant::now() < deadline, "the prune never began");
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(delay));
        // The whole group: xtask and the AWS CLI it may be running.
        unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
        child.wait().unwrap();
        // Killed just after the lock said the prune began, it cannot have
        // finished: the next run has something to complete.
        let unfinished = lock(root)["templates"][AWS_TEMPLATE]["lifecycle"]
            .as_object()
            .unwrap()
            .values()
            .any(|events| events["pruned"].is_object() && events["pruned"]["finished_at"].is_null());
        assert!(unfinished || delay > 0, "the kill came after the prune had finished");

        let output = ec2.xtask(root, &["prune", "--keep", "1", "--execute"]);
        assert!(output.status.success(), "after a kill {delay} ms in: {}", text(&output));
        for ((region, (id, snapshots)), (images_before, snapshots_before)) in
            [("eu-west-1", &west[4]), ("eu-central-1", &central[1])].into_iter().zip(&before)
        {
            let (images_after, snapshots_after) = ec2.remaining(region);
            let kept = |all: &[String], gone: &[String]| -> Vec<String> {
                all.iter().filter(|item| !gone.contains(item)).cloned().collect()
            };
            assert_eq!(images_after, kept(images_before, std::slice::from_ref(id)), "{delay} ms, {region}");
            assert_eq!(snapshots_after, kept(snapshots_before, snapshots), "{delay} ms, {region}");
        }
        let locked = lock(root);
        for id in [&west[4].0, &west[5].0, &central[1].0] {
            let pruned = &locked["templates"][AWS_TEMPLATE]["lifecycle"][id]["pruned"];
            assert!(pruned["finished_at"].is_string(), "{delay} ms: {id}: {pruned}");
        }
        assert_eq!(locked["templates"][AWS_TEMPLATE]["lifecycle"][&west[4].0]["pruned"]["snapshots"], json!(west[4].1));
    }
}

/// An AWS CLI that refuses to delete one snapshot (a permission missing):
/// that image is reported, the exit status is 1, the lock keeps its prune
/// unfinished, the other region's image is pruned; with the permission
/// back, the next run finishes it.
#[test]
fn a_failure_of_the_aws_cli_is_reported_and_the_next_run_finishes_it() {
    if common::skip_slow_test("deregisters and deletes against moto with the AWS CLI") {
        return;
    }
    let ec2 = Ec2::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let images = tree(root, &ec2);
    let (west, central) = (&images.ireland, &images.frankfurt);
    let refused = &west[4].1[0];
    let wrapper = write(
        root,
        "bin/aws",
        format!(
            "#!/bin/sh\necho \"$*\" >> \"$0.log\"\ncase \"$*\" in *{refused}*) echo 'An error occurred (UnauthorizedOperation) when calling the \
             DeleteSnapshot operation: not allowed' >&2; exit 254 ;; esac\nexec '{}' \"$@\"\n",
            ec2.cli.display()
        ),
    );
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(["prune", "--keep", "1", "--execute", "--aws-cli"]).arg(&wrapper).arg("--root").arg(root);
    ec2.environment(&mut command);
    let output = command.output().unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("{} eu-west-1 packer/3.11/aws/machine-image", west[4].0)), "{said}");
    assert!(said.contains("failed: `aws ec2 delete-snapshot` in eu-west-1 failed"), "{said}");
    assert!(
        said.contains("UnauthorizedOperation") && said.contains("the next `cargo xtask prune --execute` tries again"),
        "{said}"
    );
    assert!(said.contains("1 pruned, 1 already gone, 1 failed"), "{said}");
    let locked = lock(root);
    let lifecycle = &locked["templates"][AWS_TEMPLATE]["lifecycle"];
    assert!(
        lifecycle[&west[4].0]["pruned"]["started_at"].is_string()
            && lifecycle[&west[4].0]["pruned"]["finished_at"].is_null()
    );
    assert!(lifecycle[&central[1].0]["pruned"]["finished_at"].is_string());
    assert!(ec2.remaining("eu-west-1").1.contains(refused));
    // What the AWS CLI was given: regions and IDs, never the credentials.
    let arguments = std::fs::read_to_string(root.join("bin/aws.log")).unwrap();
    assert!(
        arguments.contains(&format!("ec2 deregister-image --image-id {} --region eu-west-1", west[4].0)),
        "{arguments}"
    );
    assert!(!arguments.contains("prune-secret-not-for-argv") && !arguments.contains("testing"), "{arguments}");

    let output = ec2.xtask(root, &["prune", "--keep", "1", "--execute"]);
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("1 pruned, 0 already gone, 0 failed"), "{said}");
    assert!(!ec2.remaining("eu-west-1").1.contains(refused), "{said}");
    assert!(lock(root)["templates"][AWS_TEMPLATE]["lifecycle"][&west[4].0]["pruned"]["finished_at"].is_string());
}

#[test]
fn prune_says_how_to_get_the_aws_cli() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let lock = json!({"version": 3, "templates": {AWS_TEMPLATE: {
        "hash": "sha256:0", "inputs": ["template.json"],
        "images": {"eu-west-1": image("ami-0123456789abcdef0", 1)},
        "history": {"eu-west-1": [image("ami-0123456789abcdef1", 90)]}}}});
    write(root, "packer/images.lock", serde_json::to_string_pretty(&lock).unwrap());
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["prune", "--keep", "1", "--root"])
        .arg(root)
        .env("AWS_CLI", "/nonexistent/aws")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let said = text(&output);
    assert!(said.contains("AWS_CLI=/nonexistent/aws is not a file; install the AWS CLI"), "{said}");
    assert!(said.contains("pip install awscli==1.46.3"), "{said}");
}

/// What differs between runs, made stable for snapshots: each AMI and
/// snapshot ID as `ami-A`, `snap-A`, ... in order of first appearance,
/// each time as `<time>` and each count of seconds as `<seconds>`.
fn normalised(text: &str) -> String {
    let mut out = text.to_owned();
    for prefix in ["ami-", "snap-"] {
        let mut seen: Vec<String> = Vec::new();
        let mut done = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(prefix) {
            done.push_str(&rest[..at]);
            let id: String = rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            let index = seen.iter().position(|known| *known == id).unwrap_or_else(|| {
                seen.push(id.clone());
                seen.len() - 1
            });
            done.push_str(&format!("{prefix}{}", char::from(b'A' + index as u8)));
            rest = &rest[at + id.len()..];
        }
        done.push_str(rest);
        out = done;
    }
    let mut done = String::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find(|c: char| c.is_ascii_digit()) {
        done.push_str(&rest[..at]);
        let candidate = rest.get(at..at + 20).unwrap_or_default();
        if xtask::clock::parse_timestamp(candidate).is_some() {
            done.push_str("<time>");
            rest = &rest[at + 20..];
        } else if done.ends_with("\"age_seconds\": ") {
            let digits = rest[at..].chars().take_while(char::is_ascii_digit).count();
            done.push_str("<seconds>");
            rest = &rest[at + digits..];
        } else {
            done.push_str(&rest[at..at + 1]);
            rest = &rest[at + 1..];
        }
    }
    done.push_str(rest);
    done
}
