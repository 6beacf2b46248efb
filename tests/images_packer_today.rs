//! `cargo xtask images` with the Packer people install today (1.10 and
//! later: no bundled plugin, `packer init`, `packer plugins`), through
//! `tests/stand-ins/packer-1.16`: a stand-in whose every behaviour is taken
//! from Packer v1.16.0's command sources (each named in it), and which
//! hands the real build to Debian's Packer 1.6.6 against moto, so the
//! machine-readable output xtask reads is the real one.

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{text, write};
use serde_json::Value;

const SOURCE_AMI: &str = "ami-03cf127a";
const AMAZON: &str = "github.com/hashicorp/amazon";

fn stand_in() -> PathBuf {
    common::workspace().join("tests/stand-ins/packer-1.16")
}

/// A machine as a user of Packer 1.16 has it: an empty plugin folder, the
/// plugins' release hosts (a folder the stand-in reads instead of the
/// network), and a record of every Packer command xtask ran.
struct Machine {
    _dir: tempfile::TempDir,
    plugins: PathBuf,
    releases: PathBuf,
    calls: PathBuf,
}

impl Machine {
    fn new() -> Machine {
        let dir = tempfile::tempdir().unwrap();
        let (plugins, releases, calls) =
            (dir.path().join("plugins"), dir.path().join("releases"), dir.path().join("calls"));
        fs::create_dir_all(&plugins).unwrap();
        Machine { _dir: dir, plugins, releases, calls }
    }

    /// Publishes a release of a plugin: a binary that answers `describe`
    /// as the SDK's plugin sets do (plugin/set.go: version, API version
    /// and the components it provides).
    fn publish(&self, source: &str, version: &str, builders: &[&str]) {
        use std::os::unix::fs::PermissionsExt;
        let name = source.rsplit('/').next().unwrap();
        let describe = serde_json::json!({
            "version": version, "sdk_version": "0.6.9", "api_version": "x5.0", "builders": builders,
            "post_processors": ["import"], "provisioners": [], "datasources": ["ami"], "protocol_version": "v2",
        });
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        };
        let path = write(
            &self.releases,
            &format!("{source}/packer-plugin-{name}_v{version}_x5.0_linux_{arch}"),
            format!("#!/bin/sh\n[ \"$1\" = describe ] && echo '{describe}'\n"),
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// The Packer commands xtask ran, each as its arguments.
    fn calls(&self) -> Vec<String> {
        fs::read_to_string(&self.calls).unwrap_or_default().lines().map(str::to_owned).collect()
    }

    fn command(&self, root: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(["images", "--root", root.to_str().unwrap(), "--packer", stand_in().to_str().unwrap()])
            .args(args)
            .env("NO_COLOR", "1")
            .env("PACKER_PLUGIN_PATH", &self.plugins)
            .env("STAND_IN_RELEASES", &self.releases)
            .env("STAND_IN_CALLS", &self.calls)
            .env("STAND_IN_REAL_PACKER", common::packer())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .env_remove("STAND_IN_LATEST");
        command
    }

    fn images(&self, root: &Path, args: &[&str]) -> Output {
        self.command(root, args).output().expect("xtask runs")
    }
}

fn moto() -> xtask::moto::Moto {
    xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}"))
}

fn deployment(release: &str, region: &str) -> String {
    format!(
        "release: \"{release}\"\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-00000000\ncluster:\n  region: \
         {region}\n  machine_image:\n    id: ami-00000000\n"
    )
}

/// An HCL2 folder building one amazon-ebs source against moto, its plugin
/// required as Packer 1.7 and later read it.
fn hcl2_folder(root: &Path, release: &str, region: &str, endpoint: &str) {
    let folder = format!("packer/{release}/aws/machine-image");
    write(
        root,
        &format!("{folder}/plugins.pkr.hcl"),
        format!(
            "packer {{\n  required_plugins {{\n    amazon = {{\n      version = \">= 1.2.0\"\n      source  = \
             \"{AMAZON}\"\n    }}\n  }}\n}}\n"
        ),
    );
    write(
        root,
        &format!("{folder}/build.pkr.hcl"),
        format!(
            "source \"amazon-ebs\" \"one\" {{\n  region                     = \"{region}\"\n  custom_endpoint_ec2        \
             = \"{endpoint}\"\n  communicator               = \"none\"\n  skip_credential_validation = true\n  \
             skip_metadata_api_check    = true\n  source_ami                 = \"{SOURCE_AMI}\"\n  instance_type              \
             = \"t2.micro\"\n  ami_name                   = \"today-${{uuidv4()}}\"\n}}\n\nbuild {{\n  sources = \
             [\"source.amazon-ebs.one\"]\n}}\n"
        ),
    );
    write(root, &format!("deployments/{release}.yaml"), deployment(release, region));
}

/// A JSON template building one amazon-ebs builder against moto.
fn json_template(root: &Path, endpoint: &str) {
    write(
        root,
        "packer/3.11/aws/machine-image/template.json",
        format!(
            "{{\n  \"builders\": [{{\n    \"type\": \"amazon-ebs\", \"region\": \"eu-west-1\", \"custom_endpoint_ec2\": \
             \"{endpoint}\", \"communicator\": \"none\", \"skip_credential_validation\": true, \
             \"skip_metadata_api_check\": true, \"source_ami\": \"{SOURCE_AMI}\", \"instance_type\": \"t2.micro\", \
             \"ami_name\": \"today-{{{{uuid}}}}\"\n  }}]\n}}\n"
        ),
    );
    write(root, "deployments/ireland.yaml", deployment("3.11", "eu-west-1"));
}

fn lock(root: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap()
}

fn log(root: &Path, slug: &str) -> String {
    fs::read_to_string(root.join(format!("target/xtask/images/{slug}.log"))).unwrap_or_default()
}

/// Two HCL2 folders that require the same plugin, built side by side:
/// each is initialised once before its validate, its init's output in its
/// log; the plugin is fetched once (the inits wait for each other: Packer
/// 1.16 takes no lock of its own), and the lock records the Packer and
/// the plugin each image was built with.
#[test]
fn hcl2_folders_are_initialised_once_each_and_their_plugins_recorded() {
    if common::skip_slow_test("builds with a stand-in for Packer 1.16 and the real Packer against moto") {
        return;
    }
    let moto = moto();
    let machine = Machine::new();
    machine.publish(AMAZON, "1.2.9", &["ebs"]);
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_folder(root, "4.0", "eu-central-1", &moto.endpoint);
    hcl2_folder(root, "4.1", "eu-west-1", &moto.endpoint);

    let output = machine.command(root, &["--jobs", "2"]).env("STAND_IN_DOWNLOAD_SECONDS", "1").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    let calls = machine.calls();
    for folder in ["4.0", "4.1"] {
        let log = log(root, &format!("{folder}-aws-machine-image"));
        let init = log.find("$ packer init .").unwrap_or_else(|| panic!("no init in the log:\n{log}"));
        assert!(init < log.find("$ packer validate").unwrap(), "init comes before validate:\n{log}");
        assert!(log.contains("plugins this build loads: github.com/hashicorp/amazon 1.3.2"), "{log}");
        let image = &lock(root)["templates"][format!("packer/{folder}/aws/machine-image")]["images"];
        let image = image.as_object().unwrap().values().next().unwrap().clone();
        assert_eq!(image["plugins"], serde_json::json!({ AMAZON: "1.3.2" }), "{image:#}");
        assert_eq!(image["packer_version"], "1.16.0", "{image:#}");
    }
    assert_eq!(calls.iter().filter(|call| *call == "init .").count(), 2, "one init per folder: {calls:#?}");
    let both = log(root, "4.0-aws-machine-image") + &log(root, "4.1-aws-machine-image");
    assert_eq!(
        both.matches("Installed plugin github.com/hashicorp/amazon v1.3.2 in").count(),
        1,
        "the second init found the plugin the first installed:\n{both}"
    );

    // Offline now: the plugin is installed, init needs no host, and a
    // forced run builds again.
    fs::remove_dir_all(&machine.releases).unwrap();
    let again = machine.images(root, &["--force", "--select", "packer/4.0/aws/machine-image"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

/// A required plugin that cannot be fetched (only 127.0.0.1 is reachable)
/// fails its folder with Packer's reason and the way to a cache, before
/// validate; nothing is built or patched.
#[test]
fn an_hcl2_folder_whose_plugin_cannot_be_fetched_fails_with_packers_reason() {
    let machine = Machine::new();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_folder(root, "4.0", "eu-central-1", "http://127.0.0.1:9");
    let before = fs::read_to_string(root.join("deployments/4.0.yaml")).unwrap();

    let output = machine.images(root, &[]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("packer init failed: Failed getting the \"github.com/hashicorp/amazon\" plugin: Get \"https://api.github.com/repos/hashicorp/packer-plugin-amazon/git/matching-refs/tags\""),
        "{said}"
    );
    assert!(said.contains("PACKER_PLUGIN_PATH") && said.contains("packer plugins install --path"), "{said}");
    assert_eq!(
        machine.calls().iter().filter(|call| call.starts_with("validate") || call.starts_with("build")).count(),
        0
    );
    assert_eq!(fs::read_to_string(root.join("deployments/4.0.yaml")).unwrap(), before);
    assert!(!root.join("packer/images.lock").exists());
}

/// A JSON template on Packer 1.16 with no pin for its builder's plugin
/// fails before any Packer build, in the plan too, naming the builder,
/// the plugin and the lines to add to `xtask.toml`.
#[test]
fn a_json_template_without_a_pin_fails_before_any_build() {
    let machine = Machine::new();
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_template(root, "http://127.0.0.1:9");

    for args in [&[][..], &["--plan"], &["--dry-run"]] {
        let output = machine.images(root, args);
        let said = text(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {said}");
        assert!(
            said.contains(
                "the builder `amazon-ebs` (template.json) comes from the plugin github.com/hashicorp/amazon, and Packer \
                 1.16.0 bundles no plugin (none since 1.10.0)"
            ),
            "{args:?}: {said}"
        );
        assert!(said.contains("\"github.com/hashicorp/amazon\" = \"X.Y.Z\""), "{args:?}: {said}");
        assert!(said.contains("packer plugins install"), "{args:?}: {said}");
    }
    let calls = machine.calls();
    assert!(calls.iter().all(|call| call == "version"), "no Packer but `version` ran: {calls:#?}");
}

/// With the pin, xtask installs it (`packer plugins install SOURCE
/// VERSION`, only when `packer plugins installed` lacks it) and builds; the
/// lock records the plugin; a pin changed later shows in the plan without
/// rebuilding; a newer installed version, which Packer would load instead,
/// fails before building, naming the command that removes it.
#[test]
fn a_pinned_plugin_is_installed_before_the_json_build_and_recorded() {
    if common::skip_slow_test("builds with a stand-in for Packer 1.16 and the real Packer against moto") {
        return;
    }
    let moto = moto();
    let machine = Machine::new();
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    machine.publish(AMAZON, "1.3.3", &["ebs"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_template(root, &moto.endpoint);
    write(root, "xtask.toml", format!("[packer]\nversion = \"1.16.0\"\n[packer.plugins]\n\"{AMAZON}\" = \"1.3.2\"\n"));

    let output = machine.images(root, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let calls = machine.calls();
    let install = calls.iter().position(|call| call == "plugins install github.com/hashicorp/amazon 1.3.2");
    let validate = calls.iter().position(|call| call.starts_with("validate"));
    assert!(install.is_some() && install < validate, "installed before validating: {calls:#?}");
    let log = log(root, "3.11-aws-machine-image");
    assert!(log.starts_with("$ packer plugins install github.com/hashicorp/amazon 1.3.2\nInstalled plugin"), "{log}");
    let locked = &lock(root)["templates"]["packer/3.11/aws/machine-image/template.json"];
    assert_eq!(locked["images"]["eu-west-1"]["plugins"], serde_json::json!({ AMAZON: "1.3.2" }));

    // Installed: not installed again, even with no host to ask.
    fs::rename(&machine.releases, machine.releases.with_extension("away")).unwrap();
    fs::remove_file(&machine.calls).unwrap();
    let forced = machine.images(root, &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    assert!(!machine.calls().iter().any(|call| call.starts_with("plugins install ")), "{:#?}", machine.calls());
    fs::rename(machine.releases.with_extension("away"), &machine.releases).unwrap();

    // A new pin: the plan says so, and does not rebuild for it alone.
    write(root, "xtask.toml", format!("[packer.plugins]\n\"{AMAZON}\" = \"1.3.3\"\n"));
    let plan = machine.images(root, &["--plan"]);
    let said = text(&plan);
    assert_eq!(plan.status.code(), Some(0), "{said}");
    assert!(said.contains("Nothing to build"), "{said}");
    assert!(
        said.contains(
            "packer/3.11/aws/machine-image: built with github.com/hashicorp/amazon 1.3.2; xtask.toml pins 1.3.3 (not \
             rebuilt for that alone; --force rebuilds it)"
        ),
        "{said}"
    );

    // Back to 1.3.2 with 1.3.3 installed as well: Packer would load 1.3.3.
    write(root, "xtask.toml", format!("[packer.plugins]\n\"{AMAZON}\" = \"1.3.3\"\n"));
    let upgrade = machine.images(root, &["--force"]);
    assert_eq!(upgrade.status.code(), Some(0), "{}", text(&upgrade));
    write(root, "xtask.toml", format!("[packer.plugins]\n\"{AMAZON}\" = \"1.3.2\"\n"));
    let older = machine.images(root, &["--force"]);
    let said = text(&older);
    assert_eq!(older.status.code(), Some(1), "{said}");
    assert!(said.contains("amazon 1.3.3 is installed too"), "{said}");
    assert!(said.contains("`packer plugins remove github.com/hashicorp/amazon v1.3.3`"), "{said}");
}

/// The stand-in itself, against what Packer 1.16 says when a plugin is
/// missing (packer/core.go for JSON, hcl2template/plugin.go for HCL2), and
/// its version line with an out-of-date notice after it, which xtask reads
/// as 1.16.0.
#[test]
fn the_stand_in_refuses_as_packer_1_16_does() {
    let machine = Machine::new();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_template(root, "http://127.0.0.1:9");
    hcl2_folder(root, "4.0", "eu-central-1", "http://127.0.0.1:9");
    let run = |args: &[&str], folder: &str| {
        Command::new(stand_in())
            .args(args)
            .current_dir(root.join(folder))
            .env("PACKER_PLUGIN_PATH", &machine.plugins)
            .env("STAND_IN_LATEST", "1.17.0")
            .output()
            .unwrap()
    };
    let json = run(&["validate", "template.json"], "packer/3.11/aws/machine-image");
    assert_eq!(json.status.code(), Some(1));
    assert_eq!(
        text(&json),
        "Error: Failed to initialize build \"amazon-ebs\"\n\nThe builder amazon-ebs is unknown by Packer, and is \
         likely part of a plugin that\nis not installed.\nYou may find the needed plugin along with installation \
         instructions documented\non the Packer integrations page.\n\n\
         https://developer.hashicorp.com/packer/integrations?filter=amazon\n\n\n"
    );
    let hcl2 = run(&["build", "-machine-readable", "."], "packer/4.0/aws/machine-image");
    assert_eq!(hcl2.status.code(), Some(1));
    assert!(
        text(&hcl2).ends_with(
            ",,ui,error,Error: Missing plugins\\n\\nThe following plugins are required%!(PACKER_COMMA) but not \
             installed:\\n\\n* github.com/hashicorp/amazon >= 1.2.0\\n\\nDid you run packer init for this project \
             ?\\n\\n\n"
        ),
        "{}",
        text(&hcl2)
    );
    let version = run(&["version"], ".");
    assert_eq!(xtask::packer::parse_version(&common::stdout(&version)).as_deref(), Some("1.16.0"));
    assert!(common::stdout(&version).contains("is 1.17.0."), "{}", text(&version));

    // Sources the getters cannot fetch (both take github.com/<namespace>/<name>
    // only: NewGithubPlugin in packer/plugin-getter/github/getter.go), even
    // with a release at hand, and names the source parser refuses
    // (hcl2template/addrs/plugin.go).
    machine.publish("gitlab.com/example/foo", "1.0.0", &["ebs"]);
    let install = |source: &str| {
        Command::new(stand_in())
            .args(["plugins", "install", source, "1.0.0"])
            .env("PACKER_PLUGIN_PATH", &machine.plugins)
            .env("STAND_IN_RELEASES", &machine.releases)
            .output()
            .unwrap()
    };
    let elsewhere = install("gitlab.com/example/foo");
    assert_eq!(elsewhere.status.code(), Some(1), "{}", text(&elsewhere));
    assert_eq!(
        text(&elsewhere),
        "1 error occurred:\n\t* \"gitlab.com/example/foo\" doesn't appear to be a valid \"github.com\" source \
         address; check source and try again.\n\n\n"
    );
    let prefixed = install("github.com/hashicorp/packer-plugin-amazon");
    assert_eq!(prefixed.status.code(), Some(1), "{}", text(&prefixed));
    assert_eq!(
        text(&prefixed),
        "Invalid source string \"github.com/hashicorp/packer-plugin-amazon\": Plugin source has a type with the \
         prefix \"packer-plugin-\", which isn't valid.\nAlthough that prefix is often used in the names of version \
         control repositories for Packer plugins, plugin source strings should not include it.\n\nDid you mean \
         \"amazon\"?\n"
    );
    assert!(!machine.plugins.join("gitlab.com").exists());

    // `~> 1` bounds nothing above (constraintPessimistic in go-version):
    // init installs 2.0.0 rather than the newest 1.x.
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    machine.publish(AMAZON, "2.0.0", &["ebs"]);
    let plugins = root.join("packer/4.0/aws/machine-image/plugins.pkr.hcl");
    fs::write(&plugins, fs::read_to_string(&plugins).unwrap().replace(">= 1.2.0", "~> 1")).unwrap();
    let init = Command::new(stand_in())
        .args(["init", "."])
        .current_dir(root.join("packer/4.0/aws/machine-image"))
        .env("PACKER_PLUGIN_PATH", &machine.plugins)
        .env("STAND_IN_RELEASES", &machine.releases)
        .output()
        .unwrap();
    assert!(text(&init).contains("Installed plugin github.com/hashicorp/amazon v2.0.0"), "{}", text(&init));
}

/// `PACKER_PLUGIN_PATH` relative to where `images` runs, as a person
/// exports it: Packer takes a relative one from its own working folder,
/// and xtask runs it in each template's folder, so the pin went into one
/// folder, `packer init` into another inside the template, and the JSON
/// build found no plugin. Every Packer command gets the one folder.
#[test]
fn a_relative_plugin_path_is_one_folder_for_every_packer_command() {
    if common::skip_slow_test("builds with a stand-in for Packer 1.16 and the real Packer against moto") {
        return;
    }
    let moto = moto();
    let machine = Machine::new();
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_template(root, &moto.endpoint);
    hcl2_folder(root, "4.0", "eu-central-1", &moto.endpoint);
    write(root, "xtask.toml", format!("[packer.plugins]\n\"{AMAZON}\" = \"1.3.2\"\n"));

    let output =
        machine.command(root, &[]).current_dir(root).env("PACKER_PLUGIN_PATH", "cache/plugins").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let pinned = fs::read_dir(root.join("cache/plugins/github.com/hashicorp/amazon"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|entry| entry.file_name().to_string_lossy().starts_with("packer-plugin-amazon_v1.3.2_x5.0_linux_"));
    assert!(pinned, "the pin is not in cache/plugins: {}", text(&output));
    let strays: Vec<_> = walkdir::WalkDir::new(root.join("packer"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() == "cache")
        .map(|entry| entry.path().display().to_string())
        .collect();
    assert!(strays.is_empty(), "plugin folders inside templates: {strays:?}");
}

/// A pin that cannot be fetched: the template fails with Packer's reason,
/// which it prints under a `1 error occurred:` heading (go-multierror), not
/// with the heading alone.
#[test]
fn a_pin_that_cannot_be_fetched_fails_with_packers_reason() {
    let machine = Machine::new();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_template(root, "http://127.0.0.1:9");
    write(root, "xtask.toml", format!("[packer.plugins]\n\"{AMAZON}\" = \"1.3.2\"\n"));

    let output = machine.images(root, &[]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(
            "`packer plugins install github.com/hashicorp/amazon 1.3.2` failed: 1 error occurred: Get \
             \"https://api.github.com/repos/hashicorp/packer-plugin-amazon/git/matching-refs/tags\": dial tcp"
        ),
        "{said}"
    );
    assert!(!root.join("packer/images.lock").exists());
}

/// Ctrl-C while a pin is being installed (the terminal sends SIGINT to
/// xtask's process group; Packer's install runs in a group of its own and
/// finishes whatever it is told, as InstallLatest takes no context): xtask
/// waits for the install to end, so that no other run starts the same one
/// beside it while the plugin is half written, builds nothing and exits
/// 130, as it does when interrupted during a build.
#[test]
fn an_interrupt_during_a_pins_install_waits_for_it_and_builds_nothing() {
    use std::time::{Duration, Instant};
    let machine = Machine::new();
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_template(root, "http://127.0.0.1:9");
    write(root, "xtask.toml", format!("[packer.plugins]\n\"{AMAZON}\" = \"1.3.2\"\n"));

    // The download lasts until the test ends it, after the interrupt.
    let downloaded = machine.plugins.with_file_name("downloaded");
    let mut child = machine
        .command(root, &[])
        .env("STAND_IN_DOWNLOAD_UNTIL", &downloaded)
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // `plugins install SOURCE VERSION`, not the `plugins installed` asked before it.
    while !machine.calls().iter().any(|call| call.starts_with("plugins install ")) {
        assert!(Instant::now() < deadline, "no install started: {:#?}", machine.calls());
        std::thread::sleep(Duration::from_millis(20));
    }
    let group = i32::try_from(child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(-group, libc::SIGINT) }, 0);
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "xtask exited while the install it started went on");
    fs::write(&downloaded, "").unwrap();
    let output = child.wait_with_output().unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(130), "{said}");
    let folder = machine.plugins.join("github.com/hashicorp/amazon");
    let sums: Vec<_> = fs::read_dir(&folder)
        .map(|entries| {
            entries.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with("_SHA256SUM")).collect()
        })
        .unwrap_or_default();
    assert_eq!(sums.len(), 1, "xtask exited before the install it started ended: {said}");
    assert!(
        !machine.calls().iter().any(|call| call.starts_with("validate") || call.starts_with("build")),
        "{:#?}",
        machine.calls()
    );
    assert!(said.contains("interrupted"), "{said}");
}

/// An HCL2 folder's images built with one release of a required plugin,
/// and a newer one installed since that its `required_plugins` allows
/// (a teammate's `packer init -upgrade`): the build would load the newer,
/// and the plan says so as it does for a changed pin, without rebuilding
/// for that alone.
#[test]
fn the_plan_says_when_an_hcl2_folders_plugin_changed_since_its_build() {
    if common::skip_slow_test("builds with a stand-in for Packer 1.16 and the real Packer against moto") {
        return;
    }
    let moto = moto();
    let machine = Machine::new();
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_folder(root, "4.0", "eu-central-1", &moto.endpoint);
    let output = machine.images(root, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    machine.publish(AMAZON, "1.3.3", &["ebs"]);
    let upgrade = Command::new(stand_in())
        .args(["plugins", "install", AMAZON, "1.3.3"])
        .env("PACKER_PLUGIN_PATH", &machine.plugins)
        .env("STAND_IN_RELEASES", &machine.releases)
        .output()
        .unwrap();
    assert!(upgrade.status.success(), "{}", text(&upgrade));
    let plan = machine.images(root, &["--plan"]);
    let said = text(&plan);
    assert_eq!(plan.status.code(), Some(0), "{said}");
    assert!(said.contains("Nothing to build"), "{said}");
    assert!(
        said.contains(
            "packer/4.0/aws/machine-image: built with github.com/hashicorp/amazon 1.3.2; 1.3.3 is installed, which \
             its `required_plugins` loads (not rebuilt for that alone; --force rebuilds it)"
        ),
        "{said}"
    );
}

/// A `required_plugins` entry under another name (`aws`) makes the amazon
/// plugin's builder `aws-ebs`: Packer builds it as it builds `amazon-ebs`,
/// and its image is an AMI of its region like any other.
#[test]
fn an_aliased_amazon_plugin_builds_and_patches_its_region() {
    if common::skip_slow_test("builds with a stand-in for Packer 1.16 and the real Packer against moto") {
        return;
    }
    let moto = moto();
    let machine = Machine::new();
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_folder(root, "4.0", "eu-central-1", &moto.endpoint);
    let folder = root.join("packer/4.0/aws/machine-image");
    for file in ["plugins.pkr.hcl", "build.pkr.hcl"] {
        let text = fs::read_to_string(folder.join(file)).unwrap();
        fs::write(folder.join(file), text.replace("amazon = {", "aws = {").replace("amazon-ebs", "aws-ebs")).unwrap();
    }
    let output = machine.images(root, &[]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    let images = &lock(root)["templates"]["packer/4.0/aws/machine-image"]["images"];
    assert!(images["eu-central-1"]["id"].as_str().is_some_and(|id| id.starts_with("ami-")), "{images:#}\n{said}");
    let deployment = fs::read_to_string(root.join("deployments/4.0.yaml")).unwrap();
    assert!(!deployment.contains("ami-00000000"), "{deployment}\n{said}");
}

/// A plugin folder whose path has spaces in it (`~/Library/Application
/// Support/…` on a Mac, a Windows-style home): the pin's install, the
/// folder's init and both builds all use it as one path.
#[test]
fn a_plugin_path_with_spaces_is_one_folder() {
    if common::skip_slow_test("builds with a stand-in for Packer 1.16 and the real Packer against moto") {
        return;
    }
    let moto = moto();
    let machine = Machine::new();
    machine.publish(AMAZON, "1.3.2", &["ebs"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    json_template(root, &moto.endpoint);
    hcl2_folder(root, "4.0", "eu-central-1", &moto.endpoint);
    write(root, "xtask.toml", format!("[packer.plugins]\n\"{AMAZON}\" = \"1.3.2\"\n"));
    let spaced = root.join("plugin cache/with spaces");
    let output = machine.command(root, &[]).env("PACKER_PLUGIN_PATH", &spaced).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let installed = fs::read_dir(spaced.join("github.com/hashicorp/amazon")).unwrap().count();
    assert!(installed > 0, "nothing in {}: {}", spaced.display(), text(&output));
    assert!(!root.join("plugin cache/with").exists() && !root.join("plugin").exists(), "the path was split");
}
