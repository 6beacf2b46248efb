//! The image lifecycle: `promote`, `rollback`, `revoke` and `prune` on a
//! repository whose images the stand-in Packer builds (a fraction of a
//! second each), with times in the lock moved back where a test needs an
//! image to have soaked. `prune --execute` runs against moto with the AWS
//! CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{stand_in_packer, text, write};

const TEMPLATE: &str = "packer/3.11/aws/machine-image/template.json";
const UNKNOWN: &str = "ami-00000000000000000";

fn template() -> String {
    let builder = |region: &str| {
        format!(
            "{{ \"type\": \"amazon-ebs\", \"name\": \"{region}\", \"region\": \"{region}\", \"source_ami\": \
             \"ami-03cf127a\", \"instance_type\": \"t2.micro\", \"ssh_username\": \"core\", \"ami_name\": \
             \"okd-{region}-{{{{timestamp}}}}\" }}"
        )
    };
    format!("{{\n  \"builders\": [\n    {},\n    {}\n  ]\n}}\n", builder("eu-west-1"), builder("eu-central-1"))
}

fn deployment(channel: Option<&str>, region: &str) -> String {
    let channel = channel.map(|name| format!("channel: {name}\n")).unwrap_or_default();
    format!(
        "# {region}\n{channel}release: '3.11'\ncloud: aws\nbastion:\n  machine_image:\n    id: {UNKNOWN}  # bastion\n\
         cluster:\n  region: {region}\n  machine_image:\n    id: '{UNKNOWN}'\n"
    )
}

/// Two canary clusters and two stable ones (one without `channel:`), one
/// of each per region; `soak` for stable.
fn tree(root: &Path, soak: &str) -> PathBuf {
    write(root, TEMPLATE, template());
    write(
        root,
        "xtask.toml",
        format!("[channels]\norder = [\"canary\", \"stable\"]\n\n[channels.stable]\nsoak = \"{soak}\"\n"),
    );
    write(root, "deployments/canary-frankfurt.yaml", deployment(Some("canary"), "eu-central-1"));
    write(root, "deployments/canary-ireland.yaml", deployment(Some("canary"), "eu-west-1"));
    write(root, "deployments/prod-frankfurt.yaml", deployment(None, "eu-central-1"));
    write(root, "deployments/prod-ireland.yaml", deployment(Some("stable"), "eu-west-1"));
    stand_in_packer(root)
}

fn xtask(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .arg("--root")
        .arg(root)
        .env("NO_COLOR", "1")
        .env("PACKER", root.join("bin/packer"))
        .output()
        .expect("the xtask binary runs")
}

/// Runs a command that must succeed, and returns what it said.
fn ok(root: &Path, args: &[&str]) -> String {
    let output = xtask(root, args);
    let said = text(&output);
    assert!(output.status.success(), "`{}` failed:\n{said}", args.join(" "));
    said
}

fn lock(root: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap()
}

fn set_lock(root: &Path, lock: &Value) {
    write(root, "packer/images.lock", serde_json::to_string_pretty(lock).unwrap() + "\n");
}

/// The template's entry in the lock.
fn entry(root: &Path) -> Value {
    lock(root)["templates"][TEMPLATE].clone()
}

fn current(root: &Path, region: &str) -> String {
    entry(root)["images"][region]["id"].as_str().unwrap().to_owned()
}

/// The IDs a deployment holds, in file order.
fn ids(root: &Path, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("deployments").join(name)).unwrap();
    text.match_indices("ami-")
        .map(|(at, _)| text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect())
        .collect()
}

/// Moves every time the lock records for entering `channel` back by
/// `seconds`, and every build time with it, as if that long had passed.
fn soak(root: &Path, channel: &str, seconds: u64) {
    fn earlier(value: &mut Value, seconds: u64) {
        let at = xtask::clock::parse_timestamp(value.as_str().unwrap()).unwrap() - seconds;
        *value = Value::String(xtask::clock::utc_timestamp(at));
    }
    fn walk(value: &mut Value, channel: &str, seconds: u64) {
        match value {
            Value::Object(map) => {
                for (key, inner) in map.iter_mut() {
                    match key.as_str() {
                        "built_at" => earlier(inner, seconds),
                        "entered" => {
                            if let Some(at) = inner.get_mut(channel) {
                                earlier(at, seconds);
                            }
                        }
                        _ => walk(inner, channel, seconds),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, channel, seconds)),
            _ => {}
        }
    }
    let mut lock = lock(root);
    walk(&mut lock, channel, seconds);
    set_lock(root, &lock);
}

#[test]
fn promote_waits_for_the_soak_then_gives_the_next_channel_what_the_one_before_boots() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "48h");
    ok(root, &["images"]);
    let (ireland, frankfurt) = (current(root, "eu-west-1"), current(root, "eu-central-1"));
    assert_eq!(ids(root, "canary-ireland.yaml"), [ireland.clone(), ireland.clone()]);
    assert_eq!(ids(root, "prod-ireland.yaml"), [UNKNOWN, UNKNOWN], "a build reaches the first channel only");
    // What stable booted before xtask is a warning until the first
    // promotion, not an error that stops every commit during the soak.
    let lint = ok(root, &["lint-deployments"]);
    assert!(lint.contains("the lock has given the channel `stable` no image there yet"), "{lint}");
    assert!(lint.contains("0 errors, 4 warnings"), "{lint}");

    let said = ok(root, &["promote", "--to", "stable"]);
    assert!(said.contains("waiting: "), "{said}");
    assert!(said.contains(&format!("{ireland} has run ")), "{said}");
    assert!(
        said.contains("`stable` takes an image after 48h: 2d 0h left") || said.contains("48h: 1d 23h left"),
        "{said}"
    );
    assert_eq!(ids(root, "prod-ireland.yaml"), [UNKNOWN, UNKNOWN]);

    let status = ok(root, &["status"]);
    assert!(status.contains(&format!("channel canary     eu-west-1      {ireland}, built ")), "{status}");
    assert!(status.contains("left of the 48h soak before `stable`"), "{status}");
    soak(root, "canary", 49 * 3600);
    let status = ok(root, &["status"]);
    assert!(status.contains("; soaked (48h): `cargo xtask promote --to stable` takes it"), "{status}");
    let said = ok(root, &["promote", "--to", "stable"]);
    assert!(said.contains(&format!("promoted to {ireland} (from {UNKNOWN}): soaked 2d 1h in `canary`")), "{said}");
    assert_eq!(ids(root, "prod-ireland.yaml"), [ireland.clone(), ireland.clone()]);
    assert_eq!(ids(root, "prod-frankfurt.yaml"), [frankfurt.clone(), frankfurt.clone()]);
    assert!(said.contains("2 promoted, 0 finished, 0 current, 0 waiting, 0 refused; 2 deployments updated."), "{said}");
    assert!(said.contains("-    id: ami-00000000000000000  # bastion"), "the diff is shown:\n{said}");
    let entry = entry(root);
    assert_eq!(entry["channels"]["stable"]["eu-west-1"], ireland.as_str());
    assert!(entry["lifecycle"][&ireland]["entered"]["stable"].is_string());

    let again = ok(root, &["promote", "--to", "stable"]);
    assert!(again.contains(&format!("already on {ireland}")), "{again}");
    assert!(again.contains("0 promoted, 0 finished, 2 current"), "{again}");
    let lint = ok(root, &["lint-deployments"]);
    assert!(lint.contains("no problems found"), "{lint}");

    // The next build reaches canary; stable stays on the image it was
    // given, which status names as such rather than as one the lock lacks.
    ok(root, &["images", "--force"]);
    let status = ok(root, &["status"]);
    assert!(
        status.contains(&format!(
            "prod-ireland.yaml cluster.machine_image.id (eu-west-1): {ireland}  an earlier image of it, the one the \
             lock gave `stable`"
        )),
        "{status}"
    );

    // A stable deployment edited by hand onto canary's new image.
    let newest = current(root, "eu-west-1");
    let prod = root.join("deployments/prod-ireland.yaml");
    std::fs::write(&prod, std::fs::read_to_string(&prod).unwrap().replace(&ireland, &newest)).unwrap();
    let lint = text(&xtask(root, &["lint-deployments"]));
    assert!(
        lint.contains(&format!(
            "`{newest}` is not the image the lock records for the channel `stable` of packer/3.11/aws/machine-image \
             in eu-west-1 ({ireland})"
        )),
        "{lint}"
    );
    assert!(lint.contains("`rollback --channel stable` was interrupted, run it again"), "{lint}");
}

#[test]
fn promote_refuses_what_a_person_must_look_at_and_names_the_deployments() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    ok(root, &["images"]);
    let first = current(root, "eu-central-1");
    ok(root, &["images", "--force"]);
    let second = current(root, "eu-central-1");
    soak(root, "canary", 7200);
    let canary = std::fs::read_to_string(root.join("deployments/canary-frankfurt.yaml")).unwrap();

    // Two canary clusters in one region on different images.
    write(root, "deployments/canary-frankfurt-2.yaml", canary.replace(&second, &first));
    let output = xtask(root, &["promote", "--to", "stable", "--region", "eu-central-1"]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("refused: the deployments of `canary` disagree: "), "{said}");
    assert!(
        said.contains(&format!("deployments/canary-frankfurt-2.yaml bastion.machine_image.id boots {first}")),
        "{said}"
    );
    assert!(
        said.contains(&format!("deployments/canary-frankfurt.yaml bastion.machine_image.id boots {second}")),
        "{said}"
    );
    std::fs::remove_file(root.join("deployments/canary-frankfurt-2.yaml")).unwrap();

    // An image the lock does not record.
    write(root, "deployments/canary-frankfurt.yaml", canary.replace(&second, "ami-0123456789abcdef0"));
    let said = text(&xtask(root, &["promote", "--to", "stable", "--region", "eu-central-1"]));
    assert!(
        said.contains(
            "`canary` boots ami-0123456789abcdef0 (deployments/canary-frankfurt.yaml bastion.machine_image.id \
                       boots ami-0123456789abcdef0, deployments/canary-frankfurt.yaml cluster.machine_image.id boots \
                       ami-0123456789abcdef0), which packer/images.lock does not record"
        ),
        "{said}"
    );

    // An earlier image the lock keeps, though the lock gave canary the
    // newer one: a write into canary that did not finish.
    write(root, "deployments/canary-frankfurt.yaml", canary.replace(&second, &first));
    let said = text(&xtask(root, &["promote", "--to", "stable", "--region", "eu-central-1"]));
    assert!(said.contains(&format!("packer/images.lock gave `canary` {second} in eu-central-1, and its deployments boot {first}: a write into `canary` did not finish")), "{said}");
    write(root, "deployments/canary-frankfurt.yaml", &canary);

    // Times a wrong clock wrote: ahead of this one, or before the build.
    let good = lock(root);
    let mut ahead = good.clone();
    let tomorrow = xtask::clock::utc_timestamp(xtask::clock::now() + 86_400);
    ahead["templates"][TEMPLATE]["lifecycle"][&second]["entered"]["canary"] = Value::String(tomorrow.clone());
    set_lock(root, &ahead);
    let said = text(&xtask(root, &["promote", "--to", "stable", "--region", "eu-central-1"]));
    assert!(
        said.contains(&format!("{tomorrow} is 1d 0h ahead of this machine's clock")) || said.contains("23h 59m ahead"),
        "{said}"
    );
    let mut before_build = good.clone();
    before_build["templates"][TEMPLATE]["lifecycle"][&second]["entered"]["canary"] =
        Value::String("2001-01-01T00:00:00Z".to_owned());
    set_lock(root, &before_build);
    let said = text(&xtask(root, &["promote", "--to", "stable", "--region", "eu-central-1"]));
    assert!(said.contains("entered `canary` at 2001-01-01T00:00:00Z, before it was built"), "{said}");
    let mut no_entry = good.clone();
    no_entry["templates"][TEMPLATE]["lifecycle"][&second]["entered"].as_object_mut().unwrap().remove("canary");
    set_lock(root, &no_entry);
    let said = text(&xtask(root, &["promote", "--to", "stable", "--region", "eu-central-1"]));
    assert!(said.contains("does not say when") && said.contains("--without-soak"), "{said}");
    let forced = ok(root, &["promote", "--to", "stable", "--region", "eu-central-1", "--without-soak"]);
    assert!(forced.contains("without its soak (--without-soak)"), "{forced}");
    assert_eq!(ids(root, "prod-frankfurt.yaml"), [second.clone(), second.clone()]);
    assert_eq!(ids(root, "prod-ireland.yaml"), [UNKNOWN, UNKNOWN], "--region leaves the others alone");
}

#[test]
fn a_region_without_a_canary_cluster_is_named_with_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "48h");
    std::fs::remove_file(root.join("deployments/canary-frankfurt.yaml")).unwrap();
    let built = ok(root, &["images"]);
    assert!(
        built.contains(
            "deployments/prod-frankfurt.yaml (3.11-aws-machine-image): it is in the channel `stable`, which new images \
             reach by `cargo xtask promote --to stable` from a deployment of `canary` in its region"
        ),
        "{built}"
    );
    soak(root, "canary", 49 * 3600);
    let said = ok(root, &["promote", "--to", "stable", "--dry-run"]);
    assert!(
        said.contains(
            "eu-central-1: nothing to do: no deployment of `canary` boots an image of packer/3.11/aws/machine-image \
             in eu-central-1, so deployments/prod-frankfurt.yaml stays on its image: channels are promoted region by \
             region; give `canary` a deployment of release 3.11 on aws in eu-central-1"
        ),
        "{said}"
    );
    let status = ok(root, &["status"]);
    assert!(
        status.contains(
            "no deployment of `canary` boots it here, so `cargo xtask promote --to stable` cannot give it to \
             `stable`'s deployments in this region (add a `canary` deployment here)"
        ),
        "{status}"
    );
    assert!(status.contains("soaked (48h): `cargo xtask promote --to stable` takes it"), "eu-west-1 has one: {status}");
    let lint = text(&xtask(root, &["lint-deployments"]));
    assert!(
        lint.contains(
            "`cargo xtask promote --to stable` takes the image a deployment of `canary` boots in eu-central-1"
        ),
        "{lint}"
    );
}

#[test]
fn a_stale_image_waits_for_the_next_build() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    ok(root, &["images"]);
    soak(root, "canary", 7200);
    write(root, TEMPLATE, template().replace("t2.micro", "t3.micro"));
    let said = ok(root, &["promote", "--to", "stable"]);
    assert!(
        said.contains("is stale (template.json (changed)): the next `cargo xtask images` gives `canary` a new image"),
        "{said}"
    );
    assert_eq!(ids(root, "prod-ireland.yaml"), [UNKNOWN, UNKNOWN]);
}

#[test]
fn promote_takes_a_later_channel_of_a_repository_with_channels() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    let first = xtask(root, &["promote", "--to", "canary"]);
    assert_eq!(first.status.code(), Some(2));
    assert!(text(&first).contains("`canary` is the first channel: new images reach it by `cargo xtask images`; promote into a later one (stable)"), "{}", text(&first));
    let other = xtask(root, &["promote", "--to", "beta"]);
    assert_eq!(other.status.code(), Some(2));
    assert!(text(&other).contains("`beta` is not a channel; xtask.toml names canary, stable"), "{}", text(&other));
    write(root, "xtask.toml", "[channels]\norder = [\"canary\"]\n");
    let only = xtask(root, &["promote", "--to", "canary"]);
    assert_eq!(only.status.code(), Some(2));
    assert!(text(&only).contains("`canary` is the only channel"), "{}", text(&only));
    assert!(!text(&only).contains("()"), "{}", text(&only));
    let typo = xtask(root, &["rollback", "--channel", "canary", "--region", "eu-wset-1"]);
    assert_eq!(typo.status.code(), Some(2), "a typo in --region does nothing quietly: {}", text(&typo));
    assert!(
        text(&typo).contains(
            "--region eu-wset-1: no deployment the selected templates feed is in that region; they \
                              are in eu-central-1, eu-west-1"
        ),
        "{}",
        text(&typo)
    );
    std::fs::remove_file(root.join("xtask.toml")).unwrap();
    let none = xtask(root, &["promote", "--to", "stable"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none).contains("xtask.toml has no [channels]"), "{}", text(&none));
}

#[test]
fn a_dry_run_writes_nothing_and_the_json_is_a_versioned_document() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    write(root, "deployments/lost.yaml", deployment(Some("beta"), "eu-west-1"));
    ok(root, &["images"]);
    soak(root, "canary", 7200);
    let lock_before = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    let output = xtask(root, &["promote", "--to", "stable", "--dry-run", "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["version"], 1);
    assert_eq!(document["command"], "promote");
    assert_eq!((document["channel"].as_str(), document["from"].as_str()), (Some("stable"), Some("canary")));
    assert_eq!(document["dry_run"], true);
    let places = document["places"].as_array().unwrap();
    assert_eq!(places.len(), 2, "{document}");
    let ireland = places.iter().find(|place| place["region"] == "eu-west-1").unwrap();
    assert_eq!(ireland["state"], "promoted");
    assert_eq!(ireland["id"], current(root, "eu-west-1").as_str());
    assert_eq!(ireland["before"], serde_json::json!([UNKNOWN]));
    assert_eq!(ireland["deployments"], serde_json::json!(["deployments/prod-ireland.yaml"]));
    assert_eq!(ireland["template"], "packer/3.11/aws/machine-image");
    assert_eq!(document["outside"][0]["path"], "deployments/lost.yaml");
    assert!(document["outside"][0]["reason"].as_str().unwrap().contains("`beta` is not one of"), "{document}");
    assert_eq!(std::fs::read_to_string(root.join("packer/images.lock")).unwrap(), lock_before);
    assert_eq!(ids(root, "prod-ireland.yaml"), [UNKNOWN, UNKNOWN]);
    let human = ok(root, &["promote", "--to", "stable", "--dry-run"]);
    assert!(human.contains("would be promoted to") && human.contains("Dry run: nothing was written."), "{human}");
    assert!(human.contains("in no channel, left alone:\n  deployments/lost.yaml: its channel `beta`"), "{human}");
}

/// The lifecycle commands take the selection of every command: a
/// `--release` that matches nothing and a missing path are exit 2 with the
/// same words as `lint` and `images`, `--image` narrows, and a template's
/// file selects its folder as `--select` does.
#[test]
fn the_lifecycle_commands_take_the_selection_of_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    ok(root, &["images"]);
    soak(root, "canary", 7200);
    let commands: [&[&str]; 4] = [
        &["promote", "--to", "stable", "--dry-run"],
        &["rollback", "--channel", "stable", "--dry-run"],
        &["revoke", UNKNOWN, "--reason", "a test", "--dry-run"],
        &["prune"],
    ];
    for command in commands {
        let nothing = xtask(root, &[command, &["--release", "9.9"]].concat());
        assert_eq!(nothing.status.code(), Some(2), "{command:?}: {}", text(&nothing));
        assert!(
            common::stderr(&nothing).contains(
                "no template matches --release 9.9; the releases here: 3.11; the clouds: aws; the images: \
                 machine-image"
            ),
            "{command:?}: {}",
            text(&nothing)
        );
        let other_image = xtask(root, &[command, &["--image", "bastion-image"]].concat());
        assert_eq!(other_image.status.code(), Some(2), "{command:?}: {}", text(&other_image));
        if command[0] != "revoke" {
            let missing = xtask(root, &[command, &["no/such/template.json"]].concat());
            assert_eq!(missing.status.code(), Some(2), "{command:?}: {}", text(&missing));
            assert!(common::stderr(&missing).contains("`no/such/template.json` does not exist"), "{command:?}");
        }
    }
    let file = root.join(TEMPLATE);
    let by_path = ok(root, &["promote", "--to", "stable", "--dry-run", "--format", "json", file.to_str().unwrap()]);
    let by_select = ok(
        root,
        &["promote", "--to", "stable", "--dry-run", "--format", "json", "--select", "packer/3.11/aws/machine-image"],
    );
    assert_eq!(by_path, by_select);
    assert!(by_path.contains("\"state\": \"promoted\""), "{by_path}");
    let by_path = ok(root, &["prune", "--format", "json", file.to_str().unwrap()]);
    let by_select = ok(root, &["prune", "--format", "json", "--select", "packer/3.11/aws/machine-image"]);
    assert_eq!(by_path, by_select);
}

#[test]
fn revoke_records_why_and_lint_promote_and_the_plan_act_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    ok(root, &["images"]);
    let ireland = current(root, "eu-west-1");
    soak(root, "canary", 7200);
    let reason = "CVE-2026-1234: the kernel panics on m5 instances";

    let unknown = xtask(root, &["revoke", UNKNOWN, &ireland, "--reason", reason]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown));
    assert!(text(&unknown).contains(&format!("records no image {UNKNOWN}; revoke takes")), "{}", text(&unknown));
    let outside = xtask(root, &["revoke", &ireland, "--reason", reason, "--region", "eu-central-1"]);
    assert!(text(&outside).contains("among the selected templates and regions"), "{}", text(&outside));
    let empty = xtask(root, &["revoke", &ireland, "--reason", "  "]);
    assert!(text(&empty).contains("--reason is empty"), "{}", text(&empty));
    let lock_before = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    let dry = ok(root, &["revoke", &ireland, "--reason", reason, "--dry-run"]);
    assert!(dry.contains("would be revoked") && dry.contains("Dry run: nothing was written."), "{dry}");
    assert!(
        dry.contains(
            "`cargo xtask rollback --channel canary --select packer/3.11/aws/machine-image --region eu-west-1` puts \
             `canary` back"
        ),
        "the rollback it suggests is the revoked image's only: {dry}"
    );
    assert_eq!(std::fs::read_to_string(root.join("packer/images.lock")).unwrap(), lock_before);

    let output = xtask(root, &["revoke", &ireland, "--reason", reason, "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((document["version"].as_u64(), document["command"].as_str()), (Some(1), Some("revoke")));
    let image = &document["images"][0];
    assert_eq!(image["id"], ireland.as_str());
    assert_eq!(
        image["records"],
        serde_json::json!([{"template": "packer/3.11/aws/machine-image", "region": "eu-west-1"}])
    );
    assert_eq!(image["revoked"]["reason"], reason);
    assert_eq!(image["booted_by"][0]["path"], "deployments/canary-ireland.yaml");
    assert_eq!(image["booted_by"][0]["channel"], "canary");
    assert_eq!(image["rebuilt"], serde_json::json!(["packer/3.11/aws/machine-image"]));
    assert_eq!(entry(root)["lifecycle"][&ireland]["revoked"]["reason"], reason);
    // Again: the first revocation is kept.
    let again = ok(root, &["revoke", &ireland, "--reason", "another"]);
    assert!(again.contains("revoked already, on ") && again.contains(reason), "{again}");
    assert_eq!(entry(root)["lifecycle"][&ireland]["revoked"]["reason"], reason);

    let status = ok(root, &["status"]);
    assert!(status.contains(&format!("  revoked {ireland} (eu-west-1) on ")) && status.contains(reason), "{status}");
    assert!(status.contains(&format!("{ireland}, built ")) && status.contains("REVOKED on "), "{status}");
    let document: Value = serde_json::from_str(&ok(root, &["status", "--format", "json"])).unwrap();
    assert_eq!(document["templates"][0]["revoked"][0]["reason"], reason, "{document}");
    let lint = xtask(root, &["lint-deployments"]);
    assert_eq!(lint.status.code(), Some(1), "{}", text(&lint));
    assert!(
        text(&lint).contains(&format!("error[DEP012]: `{ireland}` (packer/3.11/aws/machine-image) was revoked on ")),
        "{}",
        text(&lint)
    );
    assert!(text(&lint).contains(reason), "{}", text(&lint));

    let promote = xtask(root, &["promote", "--to", "stable"]);
    assert_eq!(promote.status.code(), Some(1), "{}", text(&promote));
    assert!(
        text(&promote).contains(&format!("{ireland}, which `canary` boots, was revoked on ")),
        "{}",
        text(&promote)
    );
    assert_eq!(ids(root, "prod-ireland.yaml"), [UNKNOWN, UNKNOWN]);

    let plan = ok(root, &["images", "--plan"]);
    assert!(plan.contains(&format!("its newest image for eu-west-1, {ireland}, was revoked on ")), "{plan}");
    assert!(plan.contains(reason), "{plan}");
    ok(root, &["images"]);
    let rebuilt = current(root, "eu-west-1");
    assert_ne!(rebuilt, ireland);
    assert_eq!(ids(root, "canary-ireland.yaml"), [rebuilt.clone(), rebuilt]);
    let lint = text(&xtask(root, &["lint-deployments"]));
    assert!(!lint.contains("DEP012"), "{lint}");
}

#[test]
fn rollback_goes_back_past_revoked_images_and_is_refused_when_there_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    ok(root, &["images"]);
    let first = current(root, "eu-west-1");
    ok(root, &["images", "--force"]);
    let second = current(root, "eu-west-1");

    let stable = xtask(root, &["rollback", "--channel", "stable", "--region", "eu-west-1"]);
    assert_eq!(stable.status.code(), Some(1), "{}", text(&stable));
    assert!(text(&stable).contains("does not say which image `stable` was given in eu-west-1"), "{}", text(&stable));
    assert!(!text(&stable).contains("boots it)"), "who boots what is said once: {}", text(&stable));
    let unknown = xtask(root, &["rollback", "--channel", "beta"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown).contains("`beta` is not a channel; xtask.toml names canary, stable"), "{}", text(&unknown));

    let lock_before = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    let output = xtask(root, &["rollback", "--channel", "canary", "--dry-run", "--format", "json"]);
    assert!(output.status.success(), "{}", text(&output));
    let document: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((document["command"].as_str(), document["channel"].as_str()), (Some("rollback"), Some("canary")));
    let ireland = document["places"].as_array().unwrap().iter().find(|place| place["region"] == "eu-west-1").unwrap();
    assert_eq!((ireland["state"].as_str(), ireland["id"].as_str()), (Some("rolled-back"), Some(first.as_str())));
    assert_eq!(std::fs::read_to_string(root.join("packer/images.lock")).unwrap(), lock_before);

    let said = ok(root, &["rollback", "--channel", "canary", "--region", "eu-west-1"]);
    assert!(said.contains(&format!("rolled back to {first} (from {second})")), "{said}");
    assert_eq!(ids(root, "canary-ireland.yaml"), [first.clone(), first.clone()]);
    assert_eq!(entry(root)["channels"]["canary"]["eu-west-1"], first.as_str());
    assert_ne!(ids(root, "canary-frankfurt.yaml")[0], first, "--region leaves the others alone");
    // The next build keeps canary where it was put back.
    ok(root, &["images"]);
    assert_eq!(ids(root, "canary-ireland.yaml"), [first.clone(), first.clone()]);
    // There is nothing before the first image.
    let none = xtask(root, &["rollback", "--channel", "canary", "--region", "eu-west-1"]);
    assert_eq!(none.status.code(), Some(1), "{}", text(&none));
    assert!(
        text(&none).contains(&format!(
            "nothing to roll back to: packer/images.lock keeps no image `canary` booted in eu-west-1 before {first}"
        )),
        "{}",
        text(&none)
    );

    // A third image, the second revoked: a rollback skips it.
    ok(root, &["images", "--force"]);
    let third = current(root, "eu-west-1");
    assert_eq!(ids(root, "canary-ireland.yaml"), [third.clone(), third.clone()]);
    ok(root, &["revoke", &second, "--reason", "a bad kernel"]);
    let said = ok(root, &["rollback", "--channel", "canary", "--region", "eu-west-1"]);
    assert!(said.contains(&format!("rolled back to {first} (from {third})")), "{said}");

    // Stopped after the lock was written: the same command finishes it
    // rather than going back a second step.
    ok(root, &["images", "--force"]);
    let mut moved = lock(root);
    moved["templates"][TEMPLATE]["channels"]["canary"]["eu-west-1"] = Value::String(third.clone());
    set_lock(root, &moved);
    let said = ok(root, &["rollback", "--channel", "canary", "--region", "eu-west-1"]);
    assert!(said.contains(&format!("the lock gave it {third} already")), "{said}");
    assert_eq!(ids(root, "canary-ireland.yaml"), [third.clone(), third.clone()]);
    // Stopped with one region written and the other not: the next run
    // finishes the other and leaves the first where the stopped run put it.
    ok(root, &["images", "--force"]);
    let frankfurt_now = current(root, "eu-central-1");
    let entry_now = entry(root);
    let frankfurt_back = entry_now["history"]["eu-central-1"][0]["id"].as_str().unwrap().to_owned();
    let ireland_back = entry_now["history"]["eu-west-1"][0]["id"].as_str().unwrap().to_owned();
    ok(root, &["rollback", "--channel", "canary"]);
    assert_eq!(ids(root, "canary-ireland.yaml"), [ireland_back.clone(), ireland_back.clone()]);
    let written = std::fs::read_to_string(root.join("deployments/canary-frankfurt.yaml")).unwrap();
    write(root, "deployments/canary-frankfurt.yaml", written.replace(&frankfurt_back, &frankfurt_now));
    let said = ok(root, &["rollback", "--channel", "canary"]);
    assert!(said.contains(&format!("the lock gave it {frankfurt_back} already")), "{said}");
    assert!(
        said.contains("the rollback stopped at ")
            && said.contains(&format!("put it on {ireland_back} already; run again to go back further")),
        "{said}"
    );
    assert_eq!(ids(root, "canary-ireland.yaml"), [ireland_back.clone(), ireland_back.clone()]);
    assert_eq!(ids(root, "canary-frankfurt.yaml"), [frankfurt_back.clone(), frankfurt_back]);
    // Deployments edited by hand to an image the lock gave canary after: refused.
    let text_now = std::fs::read_to_string(root.join("deployments/canary-ireland.yaml")).unwrap();
    write(root, "deployments/canary-ireland.yaml", text_now.replace(&ireland_back, &first));
    let refused = xtask(root, &["rollback", "--channel", "canary", "--region", "eu-west-1"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains(&format!(
            "packer/images.lock gave `canary` {ireland_back} in eu-west-1, and its deployments boot {first}"
        )),
        "{}",
        text(&refused)
    );
}

#[test]
fn after_a_rollback_status_and_lint_name_what_the_lock_gave_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    ok(root, &["images"]);
    let first = current(root, "eu-west-1");
    ok(root, &["images", "--force"]);
    let second = current(root, "eu-west-1");
    ok(root, &["rollback", "--channel", "canary", "--region", "eu-west-1"]);
    assert_eq!(ids(root, "canary-ireland.yaml"), [first.clone(), first.clone()]);

    let status: Value = serde_json::from_str(&ok(root, &["status", "--format", "json"])).unwrap();
    let keys = status["templates"][0]["deployments"].as_array().unwrap().clone();
    let state_of = |path: &str| {
        let key = keys.iter().find(|key| key["path"] == path && key["key"] == "cluster.machine_image.id").unwrap();
        key["state"].as_str().unwrap().to_owned()
    };
    assert_eq!(state_of("deployments/canary-ireland.yaml"), "an earlier image of it, the one the lock gave `canary`");
    assert_eq!(state_of("deployments/canary-frankfurt.yaml"), "current");

    // Put back on the newest image by hand: lint says it is not what
    // canary was given, in words a person can read.
    let text_now = std::fs::read_to_string(root.join("deployments/canary-ireland.yaml")).unwrap();
    write(root, "deployments/canary-ireland.yaml", text_now.replacen(&first, &second, 1));
    let lint = xtask(root, &["lint-deployments"]);
    let said = text(&lint);
    assert_eq!(lint.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!(
            "`{second}` is not the image the lock records for the channel `canary` of packer/3.11/aws/machine-image in \
             eu-west-1 ({first}); it is the newest image the lock records"
        )),
        "{said}"
    );
    assert!(!said.lines().any(|line| line.starts_with("error[") && line.contains("  ")), "{said}");
}

#[test]
fn a_deployment_the_writer_refuses_is_named_as_not_finished_not_as_booting_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "0s");
    ok(root, &["images"]);
    let ireland = current(root, "eu-west-1");
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("prod-ireland.yaml");
    std::fs::rename(root.join("deployments/prod-ireland.yaml"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("deployments/prod-ireland.yaml")).unwrap();
    for run in ["the first", "the second"] {
        let output = xtask(root, &["promote", "--to", "stable"]);
        let said = text(&output);
        assert_eq!(output.status.code(), Some(1), "{run}: {said}");
        let line = said.lines().find(|line| line.contains("machine-image eu-west-1:")).unwrap();
        assert!(
            line.contains(&format!(
                "packer/images.lock gives it {ireland}, but deployments/prod-ireland.yaml still boots {UNKNOWN} (not \
                 written, see below)"
            )),
            "{run}: {said}"
        );
        assert!(!said.contains("now boot it"), "{run}: {said}");
        assert!(said.contains("outside the repository"), "{run}: {said}");
    }
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), deployment(Some("stable"), "eu-west-1"));
}

#[test]
fn a_deployment_named_with_a_control_character_reaches_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "0s");
    for (plain, hostile) in
        [("canary-ireland.yaml", "canary-\u{1b}[2J.yaml"), ("prod-ireland.yaml", "prod-\u{1b}[2J.yaml")]
    {
        std::fs::rename(root.join("deployments").join(plain), root.join("deployments").join(hostile)).unwrap();
    }
    let said = ok(root, &["images"]);
    assert!(said.contains("deployments/canary-\\u{1b}[2J.yaml"), "{said}");
    ok(root, &["images", "--force"]);
    let ireland = current(root, "eu-west-1");
    for args in [
        vec!["images", "--plan", "--force"],
        vec!["promote", "--to", "stable"],
        vec!["revoke", ireland.as_str(), "--reason", "a bad kernel"],
        vec!["rollback", "--channel", "canary"],
    ] {
        let output = xtask(root, &args);
        let said = text(&output);
        assert!(!said.contains('\u{1b}'), "`{}` printed a raw escape:\n{said}", args.join(" "));
        assert!(args[0] == "images" || said.contains("\\u{1b}[2J.yaml"), "`{}`:\n{said}", args.join(" "));
    }
}

#[test]
fn an_id_of_the_wrong_shape_in_the_lock_is_refused_before_the_lock_gives_it_to_a_channel() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "0s");
    ok(root, &["images"]);
    let first = current(root, "eu-west-1");
    ok(root, &["images", "--force"]);
    let second = current(root, "eu-west-1");
    // Both edited by hand to upper case, which no AMI ID is.
    for (id, edited) in [
        (&first, first.to_uppercase().replacen("AMI-", "ami-", 1)),
        (&second, second.to_uppercase().replacen("AMI-", "ami-", 1)),
    ] {
        for name in ["packer/images.lock", "deployments/canary-ireland.yaml"] {
            let text = std::fs::read_to_string(root.join(name)).unwrap();
            write(root, name, text.replace(id.as_str(), &edited));
        }
    }
    let lock_before = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    for args in [
        ["promote", "--to", "stable", "--region", "eu-west-1"],
        ["rollback", "--channel", "canary", "--region", "eu-west-1"],
    ] {
        let output = xtask(root, &args);
        let said = text(&output);
        assert_eq!(output.status.code(), Some(1), "{said}");
        assert!(
            said.contains("is not an image ID (an image ID is `ami-` and 8 or 17 lower-case hex digits)"),
            "{said}"
        );
        assert!(said.contains("0 deployments updated"), "{said}");
        assert_eq!(
            std::fs::read_to_string(root.join("packer/images.lock")).unwrap(),
            lock_before,
            "{}",
            args.join(" ")
        );
    }
}

#[test]
fn an_image_revoked_under_a_copied_template_is_revoked_for_promote_and_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "0s");
    ok(root, &["images"]);
    let first = current(root, "eu-west-1");
    ok(root, &["images", "--force"]);
    let second = current(root, "eu-west-1");
    // 3.12 starts as a copy of 3.11's folder and lock entry.
    write(root, "packer/3.12/aws/machine-image/template.json", template());
    let mut copied = lock(root);
    copied["templates"]["packer/3.12/aws/machine-image/template.json"] = entry(root);
    set_lock(root, &copied);
    ok(root, &["revoke", &first, &second, "--release", "3.12", "--reason", "a bad kernel"]);
    assert!(entry(root)["lifecycle"][&second]["revoked"].is_null(), "3.11's own record is left as it was");

    let promote = xtask(root, &["promote", "--to", "stable", "--region", "eu-west-1"]);
    let said = text(&promote);
    assert_eq!(promote.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("{second}, which `canary` boots, was revoked on ")), "{said}");
    let rollback = xtask(root, &["rollback", "--channel", "canary", "--region", "eu-west-1"]);
    let said = text(&rollback);
    assert_eq!(rollback.status.code(), Some(1), "{said}");
    assert!(said.contains(&format!("{first}, was revoked on ")) && said.contains("a bad kernel"), "{said}");
    assert_eq!(ids(root, "canary-ireland.yaml"), [second.clone(), second]);
}

/// Each image ID a text names, in order of first appearance, as `ami-A`,
/// `ami-B`, ..., and each time as `<time>`: what differs between runs.
fn normalised(text: &str) -> String {
    let mut out = String::new();
    let mut seen: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("ami-") {
        out.push_str(&rest[..at]);
        let id: String = rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        let index = seen.iter().position(|known| *known == id).unwrap_or_else(|| {
            seen.push(id.clone());
            seen.len() - 1
        });
        out.push_str(&format!("ami-{}", char::from(b'A' + index as u8)));
        rest = &rest[at + id.len()..];
    }
    out.push_str(rest);
    let mut timed = String::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find("202") {
        let candidate = rest.get(at..at + 20).unwrap_or_default();
        timed.push_str(&rest[..at]);
        if xtask::clock::parse_timestamp(candidate).is_some() {
            timed.push_str("<time>");
            rest = &rest[at + 20..];
        } else {
            timed.push_str("202");
            rest = &rest[at + 3..];
        }
    }
    timed.push_str(rest);
    timed
}

/// The JSON documents of `rollback` and `revoke`, whose shapes scripts read.
#[test]
fn the_json_documents_of_rollback_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    ok(root, &["images"]);
    ok(root, &["images", "--force"]);
    let rollback = ok(root, &["rollback", "--channel", "canary", "--region", "eu-west-1", "--format", "json"]);
    insta::assert_snapshot!("rollback.json", normalised(&rollback));
    let id = current(root, "eu-west-1");
    let revoke = xtask(root, &["revoke", &id, "--reason", "CVE-2026-1234", "--format", "json"]);
    insta::assert_snapshot!("revoke.json", normalised(&common::stdout(&revoke)));
}

/// [`normalised`], and what else differs between runs of a JSON document:
/// durations measured against this machine's clock, and which run and
/// host built a leg's result. A null stays, so that a field turned null is
/// still seen.
fn steady(text: &str) -> String {
    const MEASURED: &[&str] = &["age", "in_channel_for", "left", "left_seconds", "age_seconds", "host"];
    let mut out = String::new();
    for line in normalised(text).lines() {
        let keyed = line.trim_start().strip_prefix('"').and_then(|rest| rest.split_once("\": "));
        let varies = match keyed {
            Some((_, value)) if value.trim_end_matches(',') == "null" => false,
            Some((key, _)) if MEASURED.contains(&key) => true,
            Some(("id", value)) => value.starts_with("\"local:") || value.starts_with("\"github:"),
            _ => false,
        };
        match line.split_once(": ") {
            Some((head, value)) if varies => {
                out.push_str(&format!("{head}: <varies>{}\n", if value.ends_with(',') { "," } else { "" }))
            }
            _ => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

/// A time in a channel of seconds (`in it for 3s`, `in it for 1m 5s`: it
/// entered a moment ago) as `in it for <seconds>`.
fn moments_hidden(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.split_once("in it for ") {
            Some((head, rest)) => {
                let end = rest.find([';', ',']).unwrap_or(rest.len());
                if rest[..end].ends_with('s') {
                    out.push_str(&format!("{head}in it for <seconds>{}\n", &rest[end..]));
                } else {
                    out.push_str(&format!("{line}\n"));
                }
            }
            None => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

/// Every JSON document of `images` byte for byte (IDs, times and
/// durations normalised): `--plan` (and its GitHub matrix), `--dry-run`, a
/// leg's `--build-only --result` file, the run's document, and `status`.
#[test]
fn the_json_documents_of_images_and_status_keep_their_shape() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    let stdout = |args: &[&str]| common::stdout(&xtask(root, args));
    insta::assert_snapshot!("json-images-plan", steady(&stdout(&["images", "--plan", "--format", "json"])));
    insta::assert_snapshot!(
        "json-images-plan-github-matrix",
        steady(&stdout(&["images", "--plan", "--format", "github-matrix"]))
    );
    insta::assert_snapshot!("json-images-dry-run", steady(&stdout(&["images", "--dry-run", "--format", "json"])));
    let leg = root.join("target/results/leg.json");
    ok(root, &["images", "--build-only", "--result", leg.to_str().unwrap()]);
    insta::assert_snapshot!("json-images-result", steady(&std::fs::read_to_string(&leg).unwrap()));
    let failed = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--format", "json", "--root"])
        .arg(root)
        .env("PACKER", root.join("bin/packer"))
        .env("STANDIN_REFUSE_BUILD", "1")
        .output()
        .unwrap();
    let failed = common::stdout(&failed).replace(root.to_str().unwrap(), "<root>");
    insta::assert_snapshot!("json-images-run-failed", steady(&failed));
    insta::assert_snapshot!("json-images-run", steady(&stdout(&["images", "--format", "json"])));
    insta::assert_snapshot!("json-status", steady(&stdout(&["status", "--format", "json"])));
}

/// The lock, `status`, `promote`'s, `revoke`'s and `prune`'s documents
/// once images have moved through the channels: history, channels, entry
/// times, a revocation, images `prune` would remove.
#[test]
fn the_lock_and_status_after_a_rollout_keep_their_shape() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    tree(root, "1h");
    ok(root, &["images"]);
    let first = current(root, "eu-west-1");
    // Four more builds, a month ago: the first images fall out of what
    // `prune` keeps, and `status` names them.
    for _ in 0..4 {
        ok(root, &["images", "--force"]);
    }
    soak(root, "canary", 31 * 86_400);
    let promote = common::stdout(&xtask(root, &["promote", "--to", "stable", "--format", "json"]));
    insta::assert_snapshot!("json-promote", steady(&promote));
    let revoke = common::stdout(&xtask(root, &["revoke", &first, "--reason", "a \"bad\" kernel", "--format", "json"]));
    insta::assert_snapshot!("json-revoke", steady(&revoke));
    insta::assert_snapshot!("json-prune", steady(&common::stdout(&xtask(root, &["prune", "--format", "json"]))));
    insta::assert_snapshot!(
        "json-status-after-a-rollout",
        steady(&common::stdout(&xtask(root, &["status", "--format", "json"])))
    );
    let lock = std::fs::read_to_string(root.join("packer/images.lock")).unwrap();
    insta::assert_snapshot!("json-images-lock-after-a-rollout", steady(&lock));
    // The table the same document makes, read by people: stable's images
    // entered it a moment ago, some seconds by this clock.
    insta::assert_snapshot!("status-after-a-rollout", moments_hidden(&steady(&ok(root, &["status"]))));
    // A template whose files are gone: the lock still records it.
    std::fs::remove_dir_all(root.join("packer/3.11")).unwrap();
    let removed = common::stdout(&xtask(root, &["status", "--format", "json"]));
    insta::assert_snapshot!("json-status-of-a-removed-template", steady(&removed));
    insta::assert_snapshot!("status-of-a-removed-template", steady(&text(&xtask(root, &["status"]))));
}
