//! `docs/rolling-out.md`, run: every `cargo xtask` command of its `sh`
//! blocks, in order, on a repository whose template the real Packer builds
//! against moto, with the page's `<!-- test: … -->` comments acted on (time
//! passing is the lock's times moved back, so nothing sleeps). What each
//! stage must leave is checked against the lock and the deployments.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{text, write};

const TEMPLATE: &str = "packer/3.11/aws/machine-image/template.json";
/// The ID the page revokes, standing for the image stable was just given.
const PAGE_ID: &str = "ami-0123456789abcdef0";

fn template(instance_type: &str) -> String {
    format!(
        r#"{{
  "variables": {{ "endpoint": "{{{{env `EC2_ENDPOINT`}}}}" }},
  "builders": [
    {{
      "type": "amazon-ebs",
      "region": "eu-west-1",
      "custom_endpoint_ec2": "{{{{user `endpoint`}}}}",
      "communicator": "none",
      "skip_credential_validation": true,
      "skip_metadata_api_check": true,
      "source_ami": "ami-03cf127a",
      "instance_type": "{instance_type}",
      "ami_name": "rolling-out-{{{{uuid}}}}"
    }}
  ]
}}
"#
    )
}

fn deployment(channel: &str) -> String {
    format!(
        "{channel}release: \"3.11\"\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-00000000\ncluster:\n  region: \
         eu-west-1\n  machine_image:\n    id: ami-00000000\n"
    )
}

/// One step of the page: a command, or what happens between commands.
#[derive(Debug)]
enum Step {
    Run { args: Vec<String>, fails: bool },
    Soak,
    TemplateChanges,
}

/// The page's steps: the `cargo xtask` lines of its `sh` blocks, split as
/// a shell splits them (the page quotes with `"` only), and its markers.
fn steps(page: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let (mut in_sh, mut fails) = (false, false);
    for line in page.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" if in_sh => {
                in_sh = false;
                fails = false;
            }
            "<!-- test: 49 hours pass -->" => steps.push(Step::Soak),
            "<!-- test: the template changes -->" => steps.push(Step::TemplateChanges),
            "<!-- test: exits 1 -->" => fails = true,
            marker if marker.starts_with("<!-- test:") => panic!("docs/rolling-out.md: unknown marker {marker}"),
            command if in_sh => {
                let rest = command.strip_prefix("cargo xtask ").unwrap_or_else(|| panic!("not a command: {command}"));
                let mut args = Vec::new();
                for (at, part) in rest.split('"').enumerate() {
                    if at % 2 == 1 {
                        args.push(part.to_owned());
                    } else {
                        args.extend(part.split_whitespace().map(str::to_owned));
                    }
                }
                steps.push(Step::Run { args, fails });
            }
            _ => {}
        }
    }
    steps
}

fn lock(root: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap()
}

/// Moves every time in the lock back by 49 hours, as if they had passed.
fn pass_49_hours(root: &Path) {
    fn walk(value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Some(at) = xtask::clock::parse_timestamp(text) {
                    *text = xtask::clock::utc_timestamp(at - 49 * 3600);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    let mut lock = lock(root);
    walk(&mut lock);
    write(root, "packer/images.lock", serde_json::to_string_pretty(&lock).unwrap() + "\n");
}

/// The image both keys of a deployment boot.
fn booted(root: &Path, name: &str) -> String {
    let text = std::fs::read_to_string(root.join("deployments").join(name)).unwrap();
    let ids: Vec<&str> = text.lines().filter_map(|line| line.trim().strip_prefix("id: ")).collect();
    assert!(ids.len() == 2 && ids[0] == ids[1], "{name} boots two images:\n{text}");
    ids[0].to_owned()
}

#[test]
fn the_rolling_out_page_runs_end_to_end() {
    if common::skip_slow_test("the page's commands, building with the real Packer against moto") {
        return;
    }
    if std::env::var_os("PACKER").is_none() && Command::new("packer").arg("version").output().is_err() {
        panic!(
            "packer was not found: run `.ci/test`, which installs Debian's packer package, or `apt-get install -y packer`"
        );
    }
    let moto = xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}"));
    let aws_cli = common::aws_cli();
    let aws_home = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(common::workspace().join("docs/rolling-out.md")).unwrap();
    // The page's xtask.toml, as it shows it.
    let toml_at = page.find("```toml\n").unwrap() + "```toml\n".len();
    let config = &page[toml_at..toml_at + page[toml_at..].find("```").unwrap()];
    assert!(config.contains("soak = \"48h\""), "{config}");

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "xtask.toml", config);
    write(root, TEMPLATE, template("t2.micro"));
    write(root, "deployments/canary.yaml", deployment("channel: canary\n"));
    write(root, "deployments/production.yaml", deployment(""));

    let mut images: Vec<String> = Vec::new();
    let mut revoked = None;
    let mut counts = std::collections::BTreeMap::new();
    for step in steps(&page) {
        let (args, fails) = match step {
            Step::Soak => {
                pass_49_hours(root);
                continue;
            }
            Step::TemplateChanges => {
                write(root, TEMPLATE, template("t3.micro"));
                continue;
            }
            Step::Run { args, fails } => (args, fails),
        };
        let args: Vec<String> = args
            .into_iter()
            .map(|arg| {
                if arg != PAGE_ID {
                    return arg;
                }
                let id = booted(root, "production.yaml");
                revoked = Some(id.clone());
                id
            })
            .collect();
        let output: Output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(&args)
            .arg("--root")
            .arg(root)
            .env("NO_COLOR", "1")
            .env("EC2_ENDPOINT", &moto.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            // `prune` runs the AWS CLI against moto, with nothing of the user's configuration.
            .env("AWS_CLI", &aws_cli)
            .env("AWS_ENDPOINT_URL", &moto.endpoint)
            .env("AWS_CONFIG_FILE", aws_home.path().join("config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", aws_home.path().join("credentials"))
            .output()
            .unwrap();
        let said = text(&output);
        let shown = args.join(" ");
        assert_eq!(output.status.code(), Some(if fails { 1 } else { 0 }), "`cargo xtask {shown}`:\n{said}");
        let seen = counts.entry(shown.clone()).and_modify(|n| *n += 1).or_insert(1);
        let (canary, production) = (booted(root, "canary.yaml"), booted(root, "production.yaml"));
        match (shown.as_str(), *seen) {
            ("images", _) => {
                let built = lock(root)["templates"][TEMPLATE]["images"]["eu-west-1"]["id"].as_str().unwrap().to_owned();
                assert_eq!(canary, built, "{said}");
                assert_ne!(production, built, "a build reaches the first channel only");
                images.push(built);
            }
            ("status", 1) => assert!(said.contains("left of the 48h soak before `stable`"), "{said}"),
            ("promote --to stable --dry-run", 1) => assert!(said.contains("would be promoted to"), "{said}"),
            ("promote --to stable", _) => assert_eq!(production, canary, "{said}"),
            ("lint-deployments", 1) => {
                assert!(said.contains("revoked-image") && said.contains("CVE-2026-1234"), "{said}")
            }
            ("rollback --channel stable --select packer/3.11/aws/machine-image --region eu-west-1", 1) => {
                assert_eq!(production, images[0], "{said}")
            }
            ("rollback --channel canary --select packer/3.11/aws/machine-image --region eu-west-1", 1) => {
                assert_eq!(canary, images[0], "{said}")
            }
            ("lint-deployments", 2) => assert!(!said.contains("revoked-image"), "{said}"),
            ("images --plan", 1) => {
                assert!(said.contains("was revoked on") && said.contains("CVE-2026-1234"), "{said}")
            }
            ("prune --keep 1 --older-than 1d", 1) => {
                assert!(said.contains(&format!("would remove:\n  {} eu-west-1 ", images[1])), "{said}");
                assert!(said.contains("1 image to remove"), "{said}");
            }
            ("prune --keep 1 --older-than 1d --execute", 1) => {
                assert!(said.contains("1 pruned, 0 already gone, 0 failed"), "{said}")
            }
            _ => {}
        }
    }
    assert_eq!(images.len(), 3, "the page builds three times: {images:?}");
    let revoked = revoked.expect("the page revokes an image");
    assert_eq!(revoked, images[1], "the page revokes the image stable was given last");
    let entry = &lock(root)["templates"][TEMPLATE];
    assert!(entry["lifecycle"][&revoked]["revoked"]["reason"].as_str().unwrap().starts_with("CVE-2026-1234"));
    assert_eq!(entry["channels"]["stable"]["eu-west-1"], images[0].as_str());
    assert_eq!(entry["channels"]["canary"]["eu-west-1"], images[2].as_str());
    let pruned = &entry["lifecycle"][&revoked]["pruned"];
    assert!(pruned["finished_at"].is_string() && !pruned["snapshots"].as_array().unwrap().is_empty(), "{pruned}");
    for id in &images {
        let found = Command::new(&moto.python)
            .arg("-c")
            .arg(format!(
                "import boto3\nprint([i['ImageId'] for i in boto3.client('ec2', region_name='eu-west-1', \
                 endpoint_url='{}', aws_access_key_id='t', aws_secret_access_key='t').describe_images(Owners=['self'])['Images']])",
                moto.endpoint
            ))
            .output()
            .unwrap();
        let exists = text(&found).contains(id.as_str());
        assert_eq!(exists, *id != revoked, "{id}: registered in moto is {exists}: {}", text(&found));
    }
}
