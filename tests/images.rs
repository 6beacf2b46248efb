//! `cargo xtask images` end to end: the real Packer (Debian's 1.6.6) against
//! a real EC2 API (moto_server on a free 127.0.0.1 port).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{stdout, text, write};
use serde_json::Value;

const SOURCE_AMI: &str = "ami-03cf127a";

/// moto_server, with boto3 queries for checking what builds left behind.
struct Moto(xtask::moto::Moto);

impl std::ops::Deref for Moto {
    type Target = xtask::moto::Moto;
    fn deref(&self) -> &xtask::moto::Moto {
        &self.0
    }
}

impl Moto {
    fn start() -> Moto {
        Moto(xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}")))
    }

    /// Runs a boto3 snippet against the server; `ec2(region)` is a client.
    fn query(&self, code: &str) -> Value {
        let script = format!(
            "import boto3, json\n\
             def ec2(region):\n    return boto3.client('ec2', region_name=region, endpoint_url='{}', \
             aws_access_key_id='testing', aws_secret_access_key='testing')\n{code}",
            self.endpoint
        );
        let output = Command::new(&self.python).arg("-c").arg(script).output().expect("python runs");
        assert!(output.status.success(), "boto3 query failed: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).expect("the query prints JSON")
    }

    fn image_exists(&self, region: &str, id: &str) -> bool {
        let found = self.query(&format!(
            "print(json.dumps([i['ImageId'] for i in ec2('{region}').describe_images(Owners=['self'])['Images']]))"
        ));
        found.as_array().unwrap().iter().any(|image| image == id)
    }

    fn live_instances(&self, region: &str) -> usize {
        let found = self.query(&format!(
            "r = ec2('{region}').describe_instances(Filters=[{{'Name': 'instance-state-name', 'Values': ['pending', 'running']}}])\n\
             print(json.dumps(sum(len(x['Instances']) for x in r['Reservations'])))"
        ));
        found.as_u64().unwrap() as usize
    }

    fn image_count(&self, region: &str) -> usize {
        let found =
            self.query(&format!("print(json.dumps(len(ec2('{region}').describe_images(Owners=['self'])['Images'])))"));
        found.as_u64().unwrap() as usize
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|path| path.is_file())
}

fn require_packer() {
    if std::env::var_os("PACKER").is_none() && which("packer").is_none() {
        panic!(
            "packer was not found: run `.ci/test`, which installs Debian's packer package, or `apt-get install -y packer`"
        );
    }
}

/// An amazon-ebs builder that builds against moto in about a second.
fn builder(name: &str, region: &str, extra: &str) -> String {
    format!(
        r#"    {{
      "type": "amazon-ebs",
      "name": "{name}",
      "region": "{region}",
      "custom_endpoint_ec2": "{{{{user `endpoint`}}}}",
      "communicator": "none",
      "skip_credential_validation": true,
      "skip_metadata_api_check": true,
      "source_ami": "{SOURCE_AMI}",
      "instance_type": "t2.micro",
      "ami_name": "e2e-{name}-{{{{uuid}}}}"{extra}
    }}"#
    )
}

fn template(builders: &[String], tail: &str) -> String {
    format!(
        "{{\n  \"variables\": {{ \"endpoint\": \"\" }},\n  \"builders\": [\n{}\n  ]{tail}\n}}\n",
        builders.join(",\n")
    )
}

fn deployment(release: &str, region: &str, id: &str) -> String {
    format!(
        "# A test cluster in {region}.\nrelease: \"{release}\"\ncloud: aws\n\nbastion:\n  machine_image:\n    id: {id}  # the bastion\n\n\
         cluster:\n  region: {region}\n  machine_image:\n    id: '{id}'\n  nodes: 3\n"
    )
}

/// A repository with a two-region 3.11 template and three deployments, one
/// in a region the template does not build.
fn two_region_tree(root: &Path) {
    let builders = [builder("frankfurt", "eu-central-1", ""), builder("ireland", "eu-west-1", "")];
    write(root, "packer/3.11/aws/machine-image/template.json", template(&builders, ""));
    write(root, "deployments/frankfurt.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
    write(root, "deployments/ireland.yaml", deployment("3.11", "eu-west-1", "ami-00000000"));
    write(root, "deployments/ohio.yaml", deployment("3.11", "us-east-2", "ami-00000000"));
    write(root, "deployments/other-release.yaml", deployment("3.9", "eu-central-1", "ami-00000000"));
}

fn images(root: &Path, moto: &Moto, args: &[&str]) -> Output {
    images_command(root, moto, args).output().expect("xtask runs")
}

fn images_command(root: &Path, moto: &Moto, args: &[&str]) -> Command {
    require_packer();
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(["images", "--root", root.to_str().unwrap(), "--var", &format!("endpoint={}", moto.endpoint)])
        .args(args)
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "e2e-secret-not-for-logs")
        .env_remove("AWS_PROFILE");
    command
}

/// Replaces moto's random AMI IDs and temporary paths so snapshots are stable.
fn stable(text: &str, root: &Path) -> String {
    let mut out = text.replace(root.to_str().unwrap(), "<root>");
    let mut at = 0;
    while let Some(found) = out[at..].find("ami-") {
        let start = at + found + 4;
        let end = start + out[start..].bytes().take_while(|b| b.is_ascii_hexdigit()).count();
        if end - start == 17 {
            out.replace_range(start..end, "<17 hex digits>");
        }
        at = start;
    }
    out
}

fn id_of(root: &Path, deployment: &str, role: &str) -> String {
    let text = fs::read_to_string(root.join("deployments").join(deployment)).unwrap();
    let doc = xtask::yaml::parse(&text).unwrap();
    doc.at(&xtask::deployments::image_route(role)).unwrap().as_str().unwrap().to_owned()
}

#[test]
fn two_regions_feed_their_deployments_and_leave_a_third_alone() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    two_region_tree(root);
    let before: Vec<(String, String)> = ["frankfurt", "ireland", "ohio", "other-release"]
        .iter()
        .map(|name| (name.to_string(), fs::read_to_string(root.join(format!("deployments/{name}.yaml"))).unwrap()))
        .collect();

    let output = images(root, &moto, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));

    let frankfurt = id_of(root, "frankfurt.yaml", "cluster");
    let ireland = id_of(root, "ireland.yaml", "cluster");
    assert_ne!(frankfurt, ireland);
    assert!(moto.image_exists("eu-central-1", &frankfurt), "{frankfurt} is not an AMI in eu-central-1");
    assert!(moto.image_exists("eu-west-1", &ireland), "{ireland} is not an AMI in eu-west-1");
    assert_eq!(id_of(root, "frankfurt.yaml", "bastion"), frankfurt);

    // Byte for byte: only the ID scalars changed, quoting and comments kept.
    for (name, old) in &before {
        let now = fs::read_to_string(root.join(format!("deployments/{name}.yaml"))).unwrap();
        let expected = match name.as_str() {
            "frankfurt" => old.replace("ami-00000000", &frankfurt),
            "ireland" => old.replace("ami-00000000", &ireland),
            _ => old.clone(),
        };
        assert_eq!(now, expected, "{name}.yaml");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    insta::assert_snapshot!("two-regions-summary", stable(&stdout, root));

    // The lock file records both regions; the log has the build, not the secret.
    let lock: Value = serde_json::from_str(&fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
    let locked = &lock["templates"]["packer/3.11/aws/machine-image/template.json"];
    assert_eq!(locked["images"]["eu-central-1"]["id"], frankfurt.as_str());
    assert_eq!(locked["images"]["eu-central-1"]["packer_version"], "1.6.6");
    // The values it was given, so that `status` reads the template as the
    // build did; the credentials in the environment are not among them.
    assert_eq!(locked["images"]["eu-central-1"]["values"], serde_json::json!({"endpoint": moto.endpoint}));
    let log = fs::read_to_string(root.join("target/xtask/images/3.11-aws-machine-image.log")).unwrap();
    assert!(log.contains("eu-central-1"), "{log}");
    for shown in [text(&output), log] {
        assert!(!shown.contains("e2e-secret-not-for-logs"), "a credential was printed");
    }

    // A second run skips without starting packer: there is none to start.
    let started = Instant::now();
    let again = images_command(root, &moto, &[]).env("PACKER", "/nonexistent/packer").output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("skipped"), "{}", text(&again));
    eprintln!("no-change rerun took {:?}", started.elapsed());

    // A deployment added later gets the recorded image without a rebuild.
    write(root, "deployments/frankfurt-two.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
    let added = images_command(root, &moto, &[]).env("PACKER", "/nonexistent/packer").output().unwrap();
    assert_eq!(added.status.code(), Some(0), "{}", text(&added));
    assert_eq!(id_of(root, "frankfurt-two.yaml", "cluster"), frankfurt);

    // --force rebuilds and patches the new IDs.
    let forced = images(root, &moto, &["--force", "--format", "json"]);
    assert_eq!(forced.status.code(), Some(0), "{}", text(&forced));
    let document: Value = serde_json::from_slice(&forced.stdout).unwrap();
    assert_eq!(document["version"], 1);
    assert_eq!(document["templates"][0]["status"], "built");
    let rebuilt = id_of(root, "frankfurt.yaml", "cluster");
    assert_ne!(rebuilt, frankfurt);
    assert_eq!(document["templates"][0]["images"]["eu-central-1"], rebuilt.as_str());
    let change =
        document["deployments"].as_array().unwrap().iter().find(|c| c["path"] == "deployments/frankfurt.yaml").unwrap();
    assert_eq!(change["old"], frankfurt.as_str());
    assert_eq!(change["new"], rebuilt.as_str());
    let per_template = document["templates"][0]["deployments"].as_array().unwrap();
    assert_eq!(per_template.len(), 6, "bastion and cluster of three deployments: {per_template:?}");
}

#[test]
fn ami_regions_copies_feed_their_regions() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let builders = [builder("frankfurt", "eu-central-1", ",\n      \"ami_regions\": [\"us-east-1\"]")];
    write(root, "packer/3.9/aws/machine-image/template.json", template(&builders, ""));
    write(root, "deployments/frankfurt.yaml", deployment("3.9", "eu-central-1", "ami-00000000"));
    write(root, "deployments/virginia.yaml", deployment("3.9", "us-east-1", "ami-00000000"));
    let output = images(root, &moto, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let frankfurt = id_of(root, "frankfurt.yaml", "cluster");
    let virginia = id_of(root, "virginia.yaml", "cluster");
    assert_ne!(frankfurt, virginia);
    assert!(moto.image_exists("us-east-1", &virginia));
    assert!(moto.image_exists("eu-central-1", &frankfurt));
}

#[test]
fn a_failed_build_patches_nothing_and_the_others_proceed() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let good = [builder("frankfurt", "eu-central-1", "")];
    write(root, "packer/3.11/aws/machine-image/template.json", template(&good, ""));
    let bad = [builder("frankfurt", "eu-central-1", "").replace(SOURCE_AMI, "ami-0badbadb")];
    write(root, "packer/3.9/aws/machine-image/template.json", template(&bad, ""));
    write(root, "deployments/good.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
    let untouched = deployment("3.9", "eu-central-1", "ami-00000000");
    write(root, "deployments/bad.yaml", &untouched);

    let output = images(root, &moto, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(fs::read_to_string(root.join("deployments/bad.yaml")).unwrap(), untouched);
    assert_ne!(id_of(root, "good.yaml", "cluster"), "ami-00000000");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find(|line| line.starts_with("packer/3.9/aws/machine-image/template.json")).unwrap();
    assert!(line.contains("failed") && line.contains("InvalidAMIID.NotFound"), "{stdout}");
    // Outside the repository, the log's path is absolute.
    let log = fs::canonicalize(root).unwrap().join("target/xtask/images/3.9-aws-machine-image.log");
    assert!(line.contains(&format!("(log: {})", log.display())), "{stdout}");
    let lock = fs::read_to_string(root.join("packer/images.lock")).unwrap();
    assert!(!lock.contains("3.9/aws"), "a failed build is not recorded: {lock}");
}

#[test]
fn patch_from_applies_a_manifest_built_elsewhere() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    require_packer();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let builders = [builder("frankfurt", "eu-central-1", ""), builder("ireland", "eu-west-1", "")];
    let manifest = ",\n  \"post-processors\": [{ \"type\": \"manifest\", \"output\": \"manifest.json\" }]";
    write(root, "packer/3.11/aws/machine-image/template.json", template(&builders, manifest));
    write(root, "deployments/frankfurt.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
    write(root, "deployments/ireland.yaml", deployment("3.11", "eu-west-1", "ami-00000000"));
    let template_dir = root.join("packer/3.11/aws/machine-image");

    // The build "elsewhere": packer by hand, as a CI job would run it.
    let packer = std::env::var_os("PACKER").map(PathBuf::from).or_else(|| which("packer")).unwrap();
    let built = Command::new(packer)
        .args(["build", "-var", &format!("endpoint={}", moto.endpoint), "template.json"])
        .current_dir(&template_dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", text(&built));

    let manifest_path = template_dir.join("manifest.json");
    // As a person runs it: inside the repository, no --root, the manifest's
    // path relative to where they stand.
    write(root, "Cargo.toml", "[workspace]\n");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--patch-from", "packer/3.11/aws/machine-image/manifest.json"])
        .current_dir(root)
        .env_remove("CARGO_MANIFEST_DIR")
        .env("PACKER", "/nonexistent/packer")
        .output()
        .unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(said.contains("from-manifest  patched from packer/3.11/aws/machine-image/manifest.json"), "{said}");
    let manifest: Value = serde_json::from_str(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
    // The lock says where the images came from, and claims no Packer version.
    let lock: Value = serde_json::from_str(&fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
    let entry = &lock["templates"]["packer/3.11/aws/machine-image/template.json"];
    assert!(entry["images"]["eu-west-1"].get("packer_version").is_none(), "{entry}");
    let source = &entry["images"]["eu-west-1"]["manifest"];
    assert_eq!(source["path"], "packer/3.11/aws/machine-image/manifest.json");
    assert_eq!(source["run_uuid"], manifest["last_run_uuid"]);
    let ids: Vec<String> =
        manifest["builds"].as_array().unwrap().iter().map(|b| b["artifact_id"].as_str().unwrap().to_owned()).collect();
    let frankfurt = id_of(root, "frankfurt.yaml", "cluster");
    let ireland = id_of(root, "ireland.yaml", "cluster");
    assert!(ids.contains(&format!("eu-central-1:{frankfurt}")), "{ids:?}");
    assert!(ids.contains(&format!("eu-west-1:{ireland}")), "{ids:?}");
}

/// A template whose build takes a few seconds, long enough to interrupt.
fn slow_tree(root: &Path) {
    let builders = [builder("frankfurt", "eu-central-1", "")];
    let slow = ",\n  \"provisioners\": [{ \"type\": \"shell-local\", \"inline\": [\"sleep 8\"] }]";
    write(root, "packer/3.11/aws/machine-image/template.json", template(&builders, slow));
    write(root, "deployments/frankfurt.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
}

/// Waits until the build's log shows the provisioner running.
fn wait_for_provisioning(root: &Path, child: &mut Child) {
    let log = root.join("target/xtask/images/3.11-aws-machine-image.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if fs::read_to_string(&log).is_ok_and(|text| text.contains("Running local shell script")) {
            return;
        }
        assert!(child.try_wait().unwrap().is_none(), "the build ended before it could be interrupted");
        assert!(Instant::now() < deadline, "the build did not reach its provisioner within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sigint_mid_build_cleans_up_and_changes_nothing() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    slow_tree(root);
    let original = fs::read_to_string(root.join("deployments/frankfurt.yaml")).unwrap();
    let mut child = images_command(root, &moto, &[]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_for_provisioning(root, &mut child);
    assert_eq!(moto.live_instances("eu-central-1"), 1, "the build's instance should be running");

    // SAFETY: kill(2) on the child's pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    assert_eq!(moto.live_instances("eu-central-1"), 0, "packer must terminate its instance");
    assert_eq!(moto.image_count("eu-central-1"), 0, "no AMI from an interrupted build");
    assert_eq!(fs::read_to_string(root.join("deployments/frankfurt.yaml")).unwrap(), original);
    assert!(!root.join("packer/images.lock").exists());
    assert!(String::from_utf8_lossy(&output.stdout).contains("interrupted"), "{}", text(&output));
}

#[test]
fn a_concurrent_run_is_refused() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    slow_tree(root);
    let mut first = images_command(root, &moto, &[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_for_provisioning(root, &mut first);
    let second = images(root, &moto, &[]);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    let message = text(&second);
    assert!(message.contains("another `cargo xtask images` is running"), "{message}");
    assert!(message.contains(&format!("pid {}", first.id())), "{message}");
    // SAFETY: kill(2) on the child's pid.
    unsafe { libc::kill(first.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(first.wait().unwrap().code(), Some(130));
}

#[test]
fn dry_run_needs_no_packer_and_no_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    two_region_tree(root);
    write(
        root,
        "deployments/unquoted.yaml",
        deployment("3.11", "eu-west-1", "ami-00000000").replace("\"3.11\"", "3.11"),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--dry-run", "--root", root.to_str().unwrap()])
        .env("PACKER", "/nonexistent/packer")
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    insta::assert_snapshot!("dry-run", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn a_missing_packer_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    two_region_tree(root);
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--packer", "/nonexistent/packer"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("apt-get install -y packer"), "{}", text(&output));
    assert_eq!(
        fs::read_to_string(root.join("deployments/frankfurt.yaml")).unwrap(),
        deployment("3.11", "eu-central-1", "ami-00000000")
    );
}

/// A two-region HCL2 folder: variables, two `amazon-ebs` sources (one per
/// region), and a build that runs a local script and echoes a secret.
fn hcl2_tree(root: &Path) {
    let folder = "packer/4.0/aws/machine-image";
    write(
        root,
        &format!("{folder}/variables.pkr.hcl"),
        "variable \"endpoint\" {\n  type = string\n}\n\n\
         variable \"token\" {\n  type      = string\n  default   = \"\"\n  sensitive = true\n}\n",
    );
    let source = |name: &str, region: &str| {
        format!(
            "source \"amazon-ebs\" \"{name}\" {{\n  region                     = \"{region}\"\n  \
             custom_endpoint_ec2        = var.endpoint\n  communicator               = \"none\"\n  \
             skip_credential_validation = true\n  skip_metadata_api_check    = true\n  \
             source_ami                 = \"{SOURCE_AMI}\"\n  instance_type              = \"t2.micro\"\n  \
             ami_name                   = \"e2e-hcl2-{name}-${{uuidv4()}}\"\n}}\n\n"
        )
    };
    write(
        root,
        &format!("{folder}/sources.pkr.hcl"),
        source("frankfurt", "eu-central-1") + &source("ireland", "eu-west-1"),
    );
    write(
        root,
        &format!("{folder}/build.pkr.hcl"),
        "build {\n  sources = [\"source.amazon-ebs.frankfurt\", \"source.amazon-ebs.ireland\"]\n\n  \
         provisioner \"shell-local\" {\n    script = \"${path.root}/scripts/setup.sh\"\n  }\n\n  \
         provisioner \"shell-local\" {\n    inline = [\"echo the token is ${var.token}\"]\n  }\n}\n",
    );
    write(root, &format!("{folder}/scripts/setup.sh"), "#!/bin/sh\necho setting up\n");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(root.join(folder).join("scripts/setup.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    write(root, "deployments/frankfurt.yaml", deployment("4.0", "eu-central-1", "ami-00000000"));
    write(root, "deployments/ireland.yaml", deployment("4.0", "eu-west-1", "ami-00000000"));
    write(root, "deployments/ohio.yaml", deployment("4.0", "us-east-2", "ami-00000000"));
    write(root, "deployments/other-release.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
}

#[test]
fn an_hcl2_folder_builds_both_regions_and_a_second_run_builds_nothing() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_tree(root);
    let names = ["frankfurt", "ireland", "ohio", "other-release"];
    let read = |name: &str| fs::read_to_string(root.join(format!("deployments/{name}.yaml"))).unwrap();
    let before: Vec<(&str, String)> = names.iter().map(|name| (*name, read(name))).collect();

    let output = images(root, &moto, &["--var", "token=hcl2-S3CR3T-token"]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    let frankfurt = id_of(root, "frankfurt.yaml", "cluster");
    let ireland = id_of(root, "ireland.yaml", "cluster");
    assert_ne!(frankfurt, ireland);
    assert!(moto.image_exists("eu-central-1", &frankfurt), "{frankfurt} is not an AMI in eu-central-1");
    assert!(moto.image_exists("eu-west-1", &ireland), "{ireland} is not an AMI in eu-west-1");
    for (name, old) in &before {
        let expected = match *name {
            "frankfurt" => old.replace("ami-00000000", &frankfurt),
            "ireland" => old.replace("ami-00000000", &ireland),
            _ => old.clone(),
        };
        assert_eq!(read(name), expected, "{name}.yaml: only the IDs change");
    }

    // The lock knows the folder, each of its files and the script it runs.
    let lock: Value = serde_json::from_str(&fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
    let locked = &lock["templates"]["packer/4.0/aws/machine-image"];
    assert_eq!(locked["images"]["eu-west-1"]["id"], ireland.as_str(), "{lock:#}");
    let files: Vec<&String> = locked["files"].as_object().unwrap().keys().collect();
    assert_eq!(files, ["build.pkr.hcl", "scripts/setup.sh", "sources.pkr.hcl", "variables.pkr.hcl"]);

    // The sensitive variable's value is in neither the output nor the log.
    let log = fs::read_to_string(root.join("target/xtask/images/4.0-aws-machine-image.log")).unwrap();
    assert!(log.contains("the token is"), "the step ran: {log}");
    for shown in [&said, &log] {
        assert!(!shown.contains("hcl2-S3CR3T-token"), "a secret was shown: {shown}");
    }

    // Nothing changed: no Packer is started, none is needed.
    let again = images_command(root, &moto, &["--var", "token=hcl2-S3CR3T-token"])
        .env("PACKER", "/nonexistent/packer")
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("skipped"), "{}", text(&again));

    // The script changes: the plan says so, and --region builds one source.
    write(root, "packer/4.0/aws/machine-image/scripts/setup.sh", "#!/bin/sh\necho setting up again\n");
    let plan = images(root, &moto, &["--var", "token=hcl2-S3CR3T-token", "--plan"]);
    assert!(text(&plan).contains("scripts/setup.sh (changed)"), "{}", text(&plan));
    let frankfurt_file = read("frankfurt");
    let one = images(root, &moto, &["--var", "token=hcl2-S3CR3T-token", "--region", "eu-west-1"]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one));
    assert_eq!(read("frankfurt"), frankfurt_file, "Frankfurt is not in --region");
    assert_ne!(id_of(root, "ireland.yaml", "cluster"), ireland);
    assert_eq!(moto.image_count("eu-central-1"), 1, "the Frankfurt source must not run again");
    let log = fs::read_to_string(root.join("target/xtask/images/4.0-aws-machine-image.log")).unwrap();
    assert!(log.contains("artifact of amazon-ebs.ireland"), "{log}");
    assert!(!log.contains("artifact of amazon-ebs.frankfurt"), "{log}");
}

/// A named build whose second source is a renamed nested block, and a
/// secret set in an auto var file: `--region` reaches Packer as the name
/// Packer gives that builder, and the secret is hidden.
#[test]
fn a_named_hcl2_build_builds_one_region_by_packers_name_and_hides_an_auto_var_file_secret() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_tree(root);
    let folder = "packer/4.0/aws/machine-image";
    write(
        root,
        &format!("{folder}/build.pkr.hcl"),
        "build {\n  name    = \"okd\"\n  sources = [\"source.amazon-ebs.frankfurt\"]\n\n  \
         source \"source.amazon-ebs.ireland\" {\n    name = \"dublin\"\n  }\n\n  \
         provisioner \"shell-local\" {\n    inline = [\"echo the licence is ${var.licence}\"]\n  }\n}\n",
    );
    write(
        root,
        &format!("{folder}/licence.pkr.hcl"),
        "variable \"licence\" {\n  type      = string\n  default   = \"\"\n  sensitive = true\n}\n",
    );
    write(root, &format!("{folder}/licence.auto.pkrvars.hcl"), "licence = \"auto-file-S3CR3T\"\n");
    let frankfurt_before = fs::read_to_string(root.join("deployments/frankfurt.yaml")).unwrap();

    let output = images(root, &moto, &["--region", "eu-west-1"]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(0), "{said}");
    let ireland = id_of(root, "ireland.yaml", "cluster");
    assert!(moto.image_exists("eu-west-1", &ireland), "{ireland} is not an AMI in eu-west-1");
    assert_eq!(moto.image_count("eu-central-1"), 0, "the Frankfurt source must not run");
    assert_eq!(fs::read_to_string(root.join("deployments/frankfurt.yaml")).unwrap(), frankfurt_before);
    let log = fs::read_to_string(root.join("target/xtask/images/4.0-aws-machine-image.log")).unwrap();
    assert!(log.contains("-only=okd.amazon-ebs.dublin"), "{log}");
    assert!(log.contains("the licence is"), "the step ran: {log}");
    for shown in [&said, &log] {
        assert!(!shown.contains("auto-file-S3CR3T"), "a secret was shown: {shown}");
    }
}

/// A folder that needs a newer Packer is refused before anything starts,
/// naming what needs it: its `required_version`, a function.
#[test]
fn an_hcl2_folder_that_needs_a_newer_packer_says_so_before_building() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_tree(root);
    write(root, "packer/4.0/aws/machine-image/versions.pkr.hcl", "packer {\n  required_version = \">= 1.9.0\"\n}\n");
    // A function the installed Packer lacks, by the generated function table.
    let call = "locals {\n  centos = strcontains(\"centos-9\", \"centos\")\n}\n";
    write(root, "packer/4.0/aws/machine-image/locals.pkr.hcl", call);
    let output = images(root, &moto, &[]);
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("the installed Packer is 1.6.6"), "{said}");
    assert!(said.contains("`required_version` (versions.pkr.hcl:2) needs Packer >= 1.9.0"), "{said}");
    assert!(said.contains("`strcontains()` (locals.pkr.hcl:2) needs Packer >= 1.12.0"), "{said}");
    assert!(said.contains("given with --packer PATH or PACKER"), "says how to use another Packer: {said}");
    assert!(!root.join("target/xtask/images/4.0-aws-machine-image.log").exists(), "no build was started");

    // A region computed with that function is unknown to the installed
    // Packer too: the Packer it needs is named first, as the cause.
    let sources = fs::read_to_string(root.join("packer/4.0/aws/machine-image/sources.pkr.hcl")).unwrap();
    let computed = sources.replacen("\"eu-central-1\"", "local.centos ? \"eu-central-1\" : \"eu-west-2\"", 1);
    write(root, "packer/4.0/aws/machine-image/sources.pkr.hcl", &computed);
    let (code, plan) = hcl2_plan(root, &[]);
    assert_eq!(code, Some(1));
    let reason = plan["reason"].as_str().unwrap();
    assert!(reason.starts_with("the installed Packer is 1.6.6"), "{reason}");

    // Its variables were read all the same: a --var that it does not
    // declare is still refused as a typo.
    let typo = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--dry-run", "--root", root.to_str().unwrap(), "--var", "endpint=x"])
        .output()
        .unwrap();
    assert_eq!(typo.status.code(), Some(2), "{}", text(&typo));
    assert!(text(&typo).contains("did you mean `endpoint`?"), "{}", text(&typo));
}

/// A `[packer] version` other than the installed Packer is warned of, with
/// how to build with the one it names.
#[test]
fn a_declared_packer_other_than_the_installed_one_is_warned_of() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_tree(root);
    write(root, "xtask.toml", "[packer]\nversion = \"1.11.2\"\n");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--dry-run", "--root", root.to_str().unwrap()])
        .output()
        .unwrap();
    let said = text(&output);
    assert!(said.contains("xtask.toml names Packer 1.11.2, and the Packer here"), "{said}");
    assert!(said.contains("give Packer 1.11.2 with --packer PATH or PACKER"), "{said}");
}

/// The plan of an HCL2 folder, from `--dry-run --format json` (no Packer
/// needed): each template's action, reason, regions and `-only`.
fn hcl2_plan(root: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--dry-run", "--format", "json", "--root", root.to_str().unwrap()])
        .args(extra)
        .env_remove("PKR_VAR_region")
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{}", text(&output)));
    (output.status.code(), plan["templates"][0].clone())
}

/// What Packer builds, as the plan sees it: only sources a build uses,
/// named as Packer names them, with regions read through interpolations,
/// list variables and nested source blocks; what it cannot know or what
/// would make two images for one region fails before any build.
#[test]
fn an_hcl2_plan_names_and_places_what_packer_will_build() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    hcl2_tree(root);
    let folder = "packer/4.0/aws/machine-image";
    let vars = "variable \"endpoint\" {\n  type    = string\n  default = \"http://127.0.0.1:1\"\n}\n\
                variable \"home\" {\n  type    = string\n  default = \"eu-central\"\n}\n\
                variable \"copies\" {\n  type    = list(string)\n  default = [\"us-east-1\"]\n}\n";
    write(root, &format!("{folder}/variables.pkr.hcl"), vars);
    let source = |name: &str, region: &str, extra: &str| {
        format!(
            "source \"amazon-ebs\" \"{name}\" {{\n  region = {region}\n  source_ami = \"{SOURCE_AMI}\"\n  \
             instance_type = \"t2.micro\"\n  communicator = \"none\"\n  ami_name = \"x-{name}-${{uuidv4()}}\"\n{extra}}}\n"
        )
    };
    let sources = source("frankfurt", "\"${var.home}-1\"", "  ami_regions = var.copies\n")
        + &source("ireland", "\"eu-west-1\"", "")
        + &source("unused", "\"ap-south-1\"", "");
    write(root, &format!("{folder}/sources.pkr.hcl"), &sources);
    let build = "build {\n  name = \"okd\"\n  sources = [\"source.amazon-ebs.frankfurt\"]\n  \
                 source \"source.amazon-ebs.ireland\" {\n    name = \"dublin\"\n  }\n}\n";
    write(root, &format!("{folder}/build.pkr.hcl"), build);

    let (code, plan) = hcl2_plan(root, &[]);
    assert_eq!(code, Some(0), "{plan:#}");
    assert_eq!(plan["regions"], serde_json::json!(["eu-central-1", "us-east-1", "eu-west-1"]), "{plan:#}");
    let (_, plan) = hcl2_plan(root, &["--region", "eu-west-1"]);
    assert_eq!(plan["only"], serde_json::json!(["okd.amazon-ebs.dublin"]), "{plan:#}");
    // PKR_VAR_<name> reaches Packer, so it counts as it does there.
    let with_env = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--dry-run", "--format", "json", "--root", root.to_str().unwrap()])
        .env("PKR_VAR_home", "ca-central")
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&with_env.stdout).unwrap();
    assert_eq!(plan["templates"][0]["regions"][0], "ca-central-1", "{plan:#}");
    let (_, plan) = hcl2_plan(root, &["--var", "copies=[\"ca-central-1\"]", "--region", "ca-central-1"]);
    assert_eq!(plan["only"], serde_json::json!(["okd.amazon-ebs.frankfurt"]), "{plan:#}");
    assert_eq!(plan["regions"], serde_json::json!(["eu-central-1", "ca-central-1"]), "{plan:#}");

    // The same region from two builds: refused before anything is built.
    let twice = format!("{build}build {{\n  sources = [\"source.amazon-ebs.ireland\"]\n}}\n");
    write(root, &format!("{folder}/build.pkr.hcl"), &twice);
    let (code, plan) = hcl2_plan(root, &[]);
    assert_eq!(code, Some(1));
    let reason = plan["reason"].as_str().unwrap();
    assert!(
        reason.contains("`okd.amazon-ebs.dublin` and `amazon-ebs.ireland` both make an image in eu-west-1"),
        "{reason}"
    );

    // A folder below it is another template (misplaced), never the same one twice.
    write(root, &format!("{folder}/build.pkr.hcl"), build);
    write(root, &format!("{folder}/sub/y.pkr.hcl"), "locals {\n  a = 1\n}\n");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--dry-run", "--format", "json", "--root", root.to_str().unwrap()])
        .output()
        .unwrap();
    let plan: Value = serde_json::from_slice(&output.stdout).unwrap();
    let planned: Vec<&str> =
        plan["templates"].as_array().unwrap().iter().map(|t| t["template"].as_str().unwrap()).collect();
    assert_eq!(planned, [folder.to_owned(), format!("{folder}/sub")], "{plan:#}");
    fs::remove_dir_all(root.join(folder).join("sub")).unwrap();

    // A file in HCL's JSON syntax is one xtask cannot see into.
    write(root, &format!("{folder}/build.pkr.hcl"), build);
    write(root, &format!("{folder}/extra.pkr.json"), "{}");
    let (code, plan) = hcl2_plan(root, &[]);
    assert_eq!(code, Some(1));
    assert!(plan["reason"].as_str().unwrap().contains("extra.pkr.json"), "{plan:#}");
}

#[test]
fn region_filter_builds_only_that_region() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    two_region_tree(root);
    let frankfurt_before = fs::read_to_string(root.join("deployments/frankfurt.yaml")).unwrap();
    let output = images(root, &moto, &["--region", "eu-west-1"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(fs::read_to_string(root.join("deployments/frankfurt.yaml")).unwrap(), frankfurt_before);
    assert!(moto.image_exists("eu-west-1", &id_of(root, "ireland.yaml", "cluster")));
    assert_eq!(moto.image_count("eu-central-1"), 0, "the Frankfurt builder must not run");
    let lock: Value = serde_json::from_str(&fs::read_to_string(root.join("packer/images.lock")).unwrap()).unwrap();
    let images = lock["templates"]["packer/3.11/aws/machine-image/template.json"]["images"].as_object().unwrap();
    assert_eq!(images.keys().collect::<Vec<_>>(), vec!["eu-west-1"]);
}

#[test]
fn dry_run_reports_lint_errors_and_broken_deployments() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let broken_template =
        template(&[builder("frankfurt", "eu-central-1", "")], "").replace("e2e-frankfurt", "{{user `prefix`}}");
    write(root, "packer/3.11/aws/machine-image/template.json", broken_template);
    write(root, "deployments/broken.yaml", "release: \"3.11\"\ncloud: [aws\n");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--dry-run", "--root", root.to_str().unwrap()])
        .output()
        .unwrap();
    let shown = text(&output);
    assert_eq!(output.status.code(), Some(1), "a plan that would fail says so: {shown}");
    assert!(shown.contains("will not build: lint errors"), "{shown}");
    assert!(shown.contains("undeclared-variable"), "{shown}");
    assert!(shown.contains("error: deployments/broken.yaml:"), "{shown}");
    assert!(shown.contains("invalid YAML"), "{shown}");
}

#[test]
fn a_symlink_out_of_the_repository_is_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let root = dir.path();
    let template_dir = root.join("packer/3.11/aws/machine-image");
    write(
        root,
        "packer/3.11/aws/machine-image/template.json",
        template(&[builder("frankfurt", "eu-central-1", "")], ""),
    );
    let manifest = r#"{"builds": [{"name": "frankfurt", "builder_type": "amazon-ebs",
        "artifact_id": "eu-central-1:ami-0123456789abcdef0", "packer_run_uuid": "u"}], "last_run_uuid": "u"}"#;
    write(root, "packer/3.11/aws/machine-image/manifest.json", manifest);
    let elsewhere = write(outside.path(), "elsewhere.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
    fs::create_dir_all(root.join("deployments")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, root.join("deployments/linked.yaml")).unwrap();
    write(root, "deployments/local.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));

    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--patch-from"])
        .arg(template_dir.join("manifest.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("outside the repository"), "{}", text(&output));
    assert_eq!(fs::read_to_string(&elsewhere).unwrap(), deployment("3.11", "eu-central-1", "ami-00000000"));
    assert_eq!(id_of(root, "local.yaml", "cluster"), "ami-0123456789abcdef0", "the other deployment is still patched");
}

/// A stand-in for Debian's Packer 1.6.6, for what moto cannot provoke: a
/// shell script in `dir` that answers `version`, and runs `validate` and
/// `build` (shell text) for `validate …` and `build -machine-readable …`.
fn stand_in_packer(dir: &Path, validate: &str, build: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n\
         version) echo 'Packer v1.6.6' ;;\n\
         validate)\n{validate}\n;;\n\
         build)\n{build}\n;;\n\
         *) echo \"unexpected packer $1\" >&2; exit 1 ;;\nesac\n"
    );
    let path = write(dir, "packer", script);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The machine-readable records of a one-region amazon-ebs build.
const ARTIFACT_RECORDS: &str = "echo '1700000000,frankfurt,artifact-count,1'
echo '1700000000,frankfurt,artifact,0,builder-id,mitchellh.amazonebs'
echo '1700000000,frankfurt,artifact,0,id,eu-central-1:ami-0123456789abcdef0'
echo '1700000000,frankfurt,artifact,0,string,AMIs were created:\\neu-central-1: ami-0123456789abcdef0\\n'
echo '1700000000,frankfurt,artifact,0,end'";

#[test]
fn bytes_that_are_not_utf8_do_not_stop_a_build() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "packer/3.11/aws/machine-image/template.json",
        template(&[builder("frankfurt", "eu-central-1", "")], ""),
    );
    write(root, "deployments/frankfurt.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
    // The pause lets xtask act on the first bad bytes before Packer writes
    // again: a reader that gave up there would kill it with SIGPIPE, and
    // the last line, standing for Packer's clean-up, would never run.
    let finished = bin.path().join("finished");
    let build = format!(
        "printf '1700000000,,ui,say,==> frankfurt: caf\\351 \\377\\376\\n'\n\
         printf 'before \\200\\201 the artifact\\n' >&2\n\
         sleep 0.3\n\
         {ARTIFACT_RECORDS}\n\
         printf 'after \\377 the artifact\\n'\n\
         printf 'after \\377 the artifact\\n' >&2\n\
         echo cleaned up > '{}'",
        finished.display()
    );
    let validate = "printf 'no UTF-8: \\377\\n' >&2; echo 'Template validated successfully.'";
    let packer = stand_in_packer(bin.path(), validate, &build);
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--packer", packer.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(id_of(root, "frankfurt.yaml", "cluster"), "ami-0123456789abcdef0");
    assert!(finished.exists(), "packer did not run to its end");
    let log = fs::read(root.join("target/xtask/images/3.11-aws-machine-image.log")).unwrap();
    let log = String::from_utf8(log).expect("the log is UTF-8");
    for line in ["caf\u{fffd} \u{fffd}\u{fffd}", "before \u{fffd}\u{fffd} the artifact", "after \u{fffd} the artifact"]
    {
        assert!(log.contains(line), "the log lacks `{line}`:\n{log}");
    }
}

/// Every route a secret takes into a build, each with its own sentinel: the
/// command line, a var file, the environment variables that `{{env}}`
/// defaults read (`TF_VAR_…` as the README asks for credentials, `PKR_VAR_…`
/// as Packer names them), also when `--var` overrides them, Packer's own
/// `PKR_VAR_<name>`, and AWS's.
const SENTINEL: &str = "S3NT1NEL";

fn secret_tree(root: &Path) {
    let credentials = ",\n      \"access_key\": \"{{user `aws_access_key`}}\",\n      \
                       \"secret_key\": \"{{user `aws_secret_key`}}\",\n      \"token\": \"{{user `aws_token`}}\"";
    let template = format!(
        r#"{{
  "variables": {{
    "endpoint": "",
    "aws_access_key": "{{{{env `TF_VAR_aws_access_key`}}}}",
    "aws_secret_key": "{{{{env `TF_VAR_aws_secret_key`}}}}",
    "aws_token": "{{{{env `PKR_VAR_aws_token`}}}}",
    "db_password": "",
    "api_password": "",
    "ssh_password": "",
    "vault": ""
  }},
  "sensitive-variables": ["aws_access_key", "aws_secret_key", "aws_token", "db_password", "api_password", "ssh_password"],
  "builders": [
{}
  ],
  "provisioners": [{{ "type": "shell-local",
    "inline": ["echo {{{{user `db_password`}}}} {{{{user `api_password`}}}} {{{{user `ssh_password`}}}} {{{{user `vault`}}}}"] }}]
}}
"#,
        builder("frankfurt", "eu-central-1", credentials)
    );
    write(root, "packer/3.11/aws/machine-image/template.json", template);
    write(root, "deployments/frankfurt.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
    write(root, "vars/prod.json", format!(r#"{{"api_password": "{SENTINEL}-var-file"}}"#));
}

/// Runs `images` on [`secret_tree`] with a secret through every route.
fn images_with_secrets(root: &Path, packer: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--packer", packer.to_str().unwrap()])
        .args(extra)
        .args(["--var", &format!("db_password={SENTINEL}-command-line")])
        // Overrides the value from the environment, which stays in Packer's.
        .args(["--var", &format!("aws_secret_key={SENTINEL}-command-line-override"), "--var-file"])
        .arg(root.join("vars/prod.json"))
        // A variable neither sensitive nor named like a secret, given a
        // credential this run hides: its value is no more fit for the lock.
        .args(["--var", &format!("vault={SENTINEL}-aws-environment")])
        .env("TF_VAR_aws_access_key", format!("{SENTINEL}-tf-var-access"))
        .env("TF_VAR_aws_secret_key", format!("{SENTINEL}-tf-var-secret"))
        .env("PKR_VAR_aws_token", format!("{SENTINEL}-pkr-var-env-default"))
        .env("PKR_VAR_ssh_password", format!("{SENTINEL}-pkr-var"))
        .env("AWS_SECRET_ACCESS_KEY", format!("{SENTINEL}-aws-environment"))
        .env("AWS_SESSION_TOKEN", format!("{SENTINEL}-aws-session"))
        .output()
        .unwrap()
}

/// Fails when the sentinel is in the run's output or in any file under the
/// root but the var file the test wrote.
fn assert_no_secret_shown(root: &Path, output: &Output) {
    let sentinel = SENTINEL.as_bytes();
    let contains = |bytes: &[u8]| bytes.windows(sentinel.len()).any(|window| window == sentinel);
    assert!(!contains(&output.stdout), "a secret on stdout:\n{}", String::from_utf8_lossy(&output.stdout));
    assert!(!contains(&output.stderr), "a secret on stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    for entry in walkdir::WalkDir::new(root) {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() || entry.path() == root.join("vars/prod.json") {
            continue;
        }
        let bytes = fs::read(entry.path()).unwrap();
        assert!(!contains(&bytes), "a secret in {}:\n{}", entry.path().display(), String::from_utf8_lossy(&bytes));
    }
}

/// Shell text that shows everything a real Packer could echo: its
/// arguments and its environment, as plain lines, as `ui` records and on
/// standard error.
const ECHO_EVERYTHING: &str = "echo \"1700000000,,ui,say,packer $*\"
echo \"packer $*\" >&2
env
env >&2
env | sed 's/^/1700000000,,ui,message,/'";

#[test]
fn secrets_never_reach_the_output_or_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let root = dir.path();
    secret_tree(root);
    let packer = stand_in_packer(bin.path(), ECHO_EVERYTHING, &format!("{ECHO_EVERYTHING}\n{ARTIFACT_RECORDS}"));
    let output = images_with_secrets(root, &packer, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(id_of(root, "frankfurt.yaml", "cluster"), "ami-0123456789abcdef0");
    let log = fs::read_to_string(root.join("target/xtask/images/3.11-aws-machine-image.log")).unwrap();
    assert!(log.contains("TF_VAR_aws_secret_key=<sensitive>"), "the stand-in's environment is logged:\n{log}");
    assert_no_secret_shown(root, &output);
    // A CI leg's result keeps the values as the lock does.
    let result_path = root.join("target/leg.json");
    let leg = images_with_secrets(root, &packer, &["--build-only", "--result", result_path.to_str().unwrap()]);
    assert_eq!(leg.status.code(), Some(0), "{}", text(&leg));
    let result = fs::read_to_string(&result_path).unwrap();
    assert!(result.contains("\"vault\": null"), "{result}");
    assert_no_secret_shown(root, &leg);
}

#[test]
fn secrets_never_reach_the_output_when_a_build_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let root = dir.path();
    secret_tree(root);
    let failing = format!("{ECHO_EVERYTHING}\necho \"1700000000,,ui,error,Build 'frankfurt' errored: $*\"\nexit 1");
    let packer = stand_in_packer(bin.path(), ECHO_EVERYTHING, &failing);
    let output = images_with_secrets(root, &packer, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("errored"), "{}", text(&output));
    assert_no_secret_shown(root, &output);
}

#[test]
fn secrets_never_reach_the_output_when_packer_cannot_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let root = dir.path();
    secret_tree(root);
    // A file that is there but cannot be executed.
    let packer = stand_in_packer(bin.path(), ECHO_EVERYTHING, ECHO_EVERYTHING);
    fs::set_permissions(&packer, fs::Permissions::from_mode(0o644)).unwrap();
    let output = images_with_secrets(root, &packer, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("Permission denied"), "{}", text(&output));
    assert_no_secret_shown(root, &output);
}

/// Every file below `dir`, with its bytes.
fn snapshot_of(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<(PathBuf, Vec<u8>)> = walk(dir)
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

/// `cargo xtask demo` on this repository's own templates and deployments,
/// in a copy: it builds against moto and leaves the repository as it was.
#[test]
fn the_demo_builds_the_repositorys_templates_locally_and_touches_nothing() {
    if common::skip_slow_test("the demo: every template built with the real Packer against moto") {
        return;
    }
    require_packer();
    xtask::moto::find().unwrap_or_else(|error| panic!("{error:#}"));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    example_copy(root);
    let before = (snapshot_of(&root.join("packer")), snapshot_of(&root.join("deployments")));
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["demo", "--root", root.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let said = text(&output);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("replaced by a local no-op"), "{said}");
    // The lock records the example's images, and the copies changed: every
    // AWS template is built again.
    assert!(said.contains("3 built, 0 skipped, 0 failed; 4 deployments updated."), "{said}");
    assert!(said.contains("packer/4.0/aws/machine-image/sources.pkr.hcl: endpoint"), "the HCL2 folder too: {said}");
    assert!(said.contains("+    id: 'ami-"), "the diffs are shown: {said}");
    assert!(said.contains("now records:"), "{said}");
    // The promotion: a new build reaches the canary copy only, waits for
    // its soak, and is promoted without it.
    assert!(said.contains("1 built, 0 skipped, 0 failed; 1 deployment updated."), "{said}");
    assert!(said.contains("and `stable` takes an image after 48h: ") && said.contains(" left\n"), "{said}");
    assert!(said.contains("1 promoted, 0 finished, 0 current, 0 waiting, 0 refused; 1 deployment updated."), "{said}");
    assert_eq!((snapshot_of(&root.join("packer")), snapshot_of(&root.join("deployments"))), before);
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", text(&output));
}

/// A fresh clone of `origin`, as a separate CI runner would check it out.
fn clone(origin: &Path, to: &Path) {
    git(origin, &["clone", "-q", origin.to_str().unwrap(), to.to_str().unwrap()]);
}

/// The lock with what differs between two runs (IDs, times) taken out.
fn lock_shape(root: &Path) -> Value {
    let text = fs::read_to_string(root.join("packer/images.lock")).unwrap();
    let mut lock: Value = serde_json::from_str(&stable(&text, root)).unwrap();
    for template in lock["templates"].as_object_mut().unwrap().values_mut() {
        for image in template["images"].as_object_mut().unwrap().values_mut() {
            image["built_at"] = Value::from("<time>");
        }
    }
    lock
}

/// The plan, one leg per template in its own clone, and the merge in
/// another, with the real Packer and moto, as the workflow runs them: the
/// merged repository equals what one local run produces (up to the IDs),
/// and the next plan is empty.
#[test]
fn legs_built_on_separate_runners_merge_into_what_one_run_makes() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin");
    two_region_tree(&origin);
    write(
        &origin,
        "packer/3.9/aws/machine-image/template.json",
        template(&[builder("frankfurt", "eu-central-1", "")], ""),
    );
    write(&origin, "Cargo.toml", "[workspace]\n");
    write(&origin, ".gitignore", "/target\n");
    git(&origin, &["init", "-q", "-b", "main"]);
    git(&origin, &["-c", "user.name=t", "-c", "user.email=t@t", "add", "."]);
    git(&origin, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "templates"]);

    let planner = dir.path().join("plan");
    clone(&origin, &planner);
    let plan = images(&planner, &moto, &["--plan", "--format", "json"]);
    assert!(plan.status.success(), "{}", text(&plan));
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let builds = plan["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 2, "{plan}");

    let results = dir.path().join("results");
    let mut result_files = Vec::new();
    for (leg, build) in builds.iter().enumerate() {
        let runner = dir.path().join(format!("leg-{leg}"));
        clone(&origin, &runner);
        let result = results.join(format!("{leg}.json"));
        let built = images(
            &runner,
            &moto,
            &["--select", build["template"].as_str().unwrap(), "--build-only", "--result", result.to_str().unwrap()],
        );
        assert!(built.status.success(), "{}", text(&built));
        let status = Command::new("git").arg("-C").arg(&runner).args(["status", "--porcelain"]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&status.stdout), "", "a leg touched the repository");
        result_files.push(result);
    }

    let merger = dir.path().join("merge");
    clone(&origin, &merger);
    let mut apply: Vec<&str> = vec!["--apply"];
    apply.extend(result_files.iter().map(|path| path.to_str().unwrap()));
    let merged = images(&merger, &moto, &apply);
    assert!(merged.status.success(), "{}", text(&merged));
    assert!(text(&merged).contains("2 built, 0 skipped, 0 failed; 3 deployments updated."), "{}", text(&merged));

    let local = dir.path().join("local");
    clone(&origin, &local);
    let ran = images(&local, &moto, &[]);
    assert!(ran.status.success(), "{}", text(&ran));
    for name in ["frankfurt.yaml", "ireland.yaml", "ohio.yaml", "other-release.yaml"] {
        let read = |root: &Path| stable(&fs::read_to_string(root.join("deployments").join(name)).unwrap(), root);
        assert_eq!(read(&merger), read(&local), "{name}");
    }
    assert_eq!(lock_shape(&merger), lock_shape(&local));

    let again = images(&merger, &moto, &["--plan", "--format", "json"]);
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["builds"], serde_json::json!([]), "the second plan is not empty");

    // A result of other template content, or two for one template: refused.
    let edited = dir.path().join("edited");
    clone(&origin, &edited);
    let path = edited.join("packer/3.11/aws/machine-image/template.json");
    fs::write(&path, fs::read_to_string(&path).unwrap().replace("t2.micro", "t3.micro")).unwrap();
    let refused = images(&edited, &moto, &apply);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("was built from other content of packer/3.11/aws/machine-image/template.json"));
    assert!(!edited.join("packer/images.lock").exists());
    let first = result_files[0].to_str().unwrap();
    let twice = images(&merger, &moto, &["--apply", first, first]);
    assert_eq!(twice.status.code(), Some(2), "{}", text(&twice));
    assert!(text(&twice).contains("are both results for"), "{}", text(&twice));
}

#[test]
fn a_region_from_the_environment_is_built_recorded_and_patched_and_a_leg_records_it() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let anywhere = builder("anywhere", "", "").replace("\n      \"region\": \"\",", "");
    write(root, "packer/3.11/aws/machine-image/template.json", template(&[anywhere], ""));
    write(root, "deployments/ireland.yaml", deployment("3.11", "eu-west-1", "ami-00000000"));
    write(root, "deployments/frankfurt.yaml", deployment("3.11", "eu-central-1", "ami-00000000"));
    let run = |args: &[&str], region: &[(&str, &str)]| {
        let mut command = images_command(root, &moto, args);
        command.env_remove("AWS_REGION").env_remove("AWS_DEFAULT_REGION").env("HOME", root);
        command.envs(region.iter().copied()).output().unwrap()
    };

    // Neither variable: refused before anything starts, naming the builder.
    let refused = run(&[], &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("`anywhere` has no `region`, and neither AWS_REGION"), "{}", text(&refused));
    assert_eq!(moto.image_count("eu-west-1") + moto.image_count("eu-central-1"), 0);

    // A leg in AWS_REGION, merged where only AWS_DEFAULT_REGION is set: the
    // result says where it built.
    let result = root.join("target/results/leg.json");
    let leg = run(&["--build-only", "--result", result.to_str().unwrap()], &[("AWS_REGION", "eu-west-1")]);
    assert!(leg.status.success(), "{}", text(&leg));
    let recorded: Value = serde_json::from_str(&fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(recorded["builders"][0]["regions"], serde_json::json!(["eu-west-1"]), "{recorded}");
    let merged = run(&["--apply", result.to_str().unwrap()], &[("AWS_DEFAULT_REGION", "eu-central-1")]);
    assert!(merged.status.success(), "{}", text(&merged));
    let ireland = id_of(root, "ireland.yaml", "cluster");
    assert!(moto.image_exists("eu-west-1", &ireland), "{ireland} is not an AMI in eu-west-1");
    assert_eq!(id_of(root, "frankfurt.yaml", "cluster"), "ami-00000000");

    // A plain run in the same region has nothing to do; one elsewhere
    // builds there and patches the deployments there.
    let again = run(&[], &[("AWS_REGION", "eu-west-1")]);
    assert!(text(&again).contains("0 built, 1 skipped"), "{}", text(&again));
    let elsewhere = run(&[], &[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "eu-central-1")]);
    assert!(elsewhere.status.success(), "{}", text(&elsewhere));
    let frankfurt = id_of(root, "frankfurt.yaml", "cluster");
    assert!(moto.image_exists("eu-central-1", &frankfurt), "{frankfurt} is not an AMI in eu-central-1");
    assert_eq!(id_of(root, "ireland.yaml", "cluster"), ireland);
}

/// `--var` reaches Packer through a private var file, which must give each
/// variable what the plan read: an untyped variable with a list default
/// takes a list (Packer reads its `-var` as an expression), an untyped one
/// with a `null` default takes the text (as Packer does since 1.8.0, and as
/// `type = any`, which Packer 1.6.6 does not know).
#[test]
fn a_var_reaches_the_build_as_the_plan_reads_it_whatever_the_variables_type() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let folder = "packer/4.0/aws/machine-image";
    write(
        root,
        &format!("{folder}/build.pkr.hcl"),
        format!(
            "variable \"endpoint\" {{\n  type = string\n}}\n\n\
             variable \"where\" {{\n  default = null\n}}\n\n\
             variable \"copies\" {{\n  default = [\"us-west-2\"]\n}}\n\n\
             source \"amazon-ebs\" \"x\" {{\n  region                     = var.where\n  \
             ami_regions                = var.copies\n  custom_endpoint_ec2        = var.endpoint\n  \
             communicator               = \"none\"\n  skip_credential_validation = true\n  \
             skip_metadata_api_check    = true\n  source_ami                 = \"{SOURCE_AMI}\"\n  \
             instance_type              = \"t2.micro\"\n  ami_name                   = \"e2e-var-${{uuidv4()}}\"\n}}\n\n\
             build {{\n  sources = [\"source.amazon-ebs.x\"]\n}}\n"
        ),
    );
    write(root, "deployments/ireland.yaml", deployment("4.0", "eu-west-1", "ami-00000000"));
    write(root, "deployments/virginia.yaml", deployment("4.0", "us-east-1", "ami-00000000"));
    let vars = ["--var", "where=eu-west-1", "--var", "copies=[\"us-east-1\"]"];

    let plan = images(root, &moto, &[&vars[..], &["--dry-run", "--format", "json"]].concat());
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let planned = &plan["templates"][0]["builders"][0];
    assert_eq!(planned["regions"], serde_json::json!(["eu-west-1", "us-east-1"]), "{plan:#}");

    let built = images(root, &moto, &vars);
    assert_eq!(built.status.code(), Some(0), "{}", text(&built));
    let ireland = id_of(root, "ireland.yaml", "cluster");
    let virginia = id_of(root, "virginia.yaml", "cluster");
    assert!(moto.image_exists("eu-west-1", &ireland), "{ireland} is not an AMI in eu-west-1");
    assert!(moto.image_exists("us-east-1", &virginia), "{virginia} is not an AMI in us-east-1");
    assert_eq!(moto.image_count("us-west-2"), 0, "the default's copy was built");

    let again = images_command(root, &moto, &vars).env("PACKER", "/nonexistent/packer").output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("skipped"), "{}", text(&again));
}

/// The example tree's `packer/images.lock`, as xtask would write it after
/// building every template: the IDs the example deployments boot (for a
/// region no deployment boots, the ID the lock gives it, or one made up),
/// the hashes of today's inputs, and no Packer version, because no Packer
/// built these images (docs/lock.md says so). Run with
/// `UPDATE_EXAMPLE_LOCK=1` after editing the example tree, to write it.
#[test]
fn the_example_lock_records_what_the_example_deployments_boot() {
    let workspace = common::workspace();
    let committed = fs::read_to_string(workspace.join("packer/images.lock")).unwrap_or_default();
    let recorded = xtask::lock::LockFile::read(&workspace).unwrap();
    let (deployments, unreadable) = xtask::deployments::load_all(&workspace).unwrap();
    assert!(unreadable.is_empty(), "{unreadable:?}");
    // Without Packer, so that the installed one's version and plugins
    // leave no trace.
    let options = xtask::images::Options {
        root: workspace.clone(),
        filter: Default::default(),
        regions: Vec::new(),
        mode: xtask::images::Mode::DryRun,
        force: false,
        jobs: 1,
        packer: Some(PathBuf::from("/nonexistent/packer")),
        vars: Vec::new(),
        var_files: Vec::new(),
        select: Vec::new(),
        format: xtask::images::Output::Human,
        rules: xtask::catalogue::registry(),
    };
    let jobs = xtask::images::plan::plan_jobs(&options, &deployments, &xtask::lock::LockFile::default()).unwrap();
    let mut lock = xtask::lock::LockFile { version: xtask::lock::VERSION, templates: Default::default() };
    for job in &jobs {
        let before = recorded.templates.get(&job.file.rel);
        let mut entry = xtask::lock::LockedTemplate {
            hash: job.hash.clone(),
            inputs: job.inputs.clone(),
            files: Some(job.files.clone()),
            ..Default::default()
        };
        for region in &job.regions {
            let booted: std::collections::BTreeSet<&str> = job
                .feeds
                .iter()
                .filter(|feed| &feed.region == region)
                .filter_map(|feed| deployments[feed.deployment].image_id(&feed.role)?.as_str())
                .collect();
            let earlier = before.and_then(|before| before.images.get(region));
            let id = match (booted.len(), earlier) {
                (1, _) => booted.first().unwrap().to_string(),
                (0, Some(earlier)) => earlier.id.clone(),
                // A region no example deployment boots gets an ID made up
                // from its template and region, in the shape of an AMI's.
                (0, None) if job.layout.cloud == "aws" => {
                    use sha2::Digest as _;
                    let digest = sha2::Sha256::digest(format!("{} {region}", job.file.rel));
                    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
                    format!("ami-0{}", &hex[..16])
                }
                _ => panic!(
                    "{} {region}: the example deployments boot {booted:?}; give that region one ID in deployments/",
                    job.file.rel
                ),
            };
            let built_at = earlier
                .filter(|earlier| earlier.id == id)
                .map_or_else(xtask::clock::utc_now, |earlier| earlier.built_at.clone());
            let image = xtask::lock::LockedImage {
                id,
                built_at,
                packer_version: None,
                hash: job.hash.clone(),
                settings: job.settings.clone(),
                manifest: None,
                variables: Some(job.setting_names.clone()),
                values: Some(job.recorded_values.clone()),
                plugins: None,
            };
            entry.images.insert(region.clone(), image);
        }
        lock.templates.insert(job.file.rel.clone(), entry);
    }
    let expected = xtask::json::pretty(&xtask::json::ToJson::to_json(&lock)) + "\n";
    if committed != expected && std::env::var_os("UPDATE_EXAMPLE_LOCK").is_some() {
        fs::write(workspace.join("packer/images.lock"), &expected).unwrap();
        return;
    }
    assert!(
        committed == expected,
        "packer/images.lock does not record what the example tree boots and is built from; run \
         `UPDATE_EXAMPLE_LOCK=1 cargo test -p xtask --test images the_example_lock` to write it. It should read:\n{expected}"
    );
}

/// A copy of the example tree (`packer/`, `deployments/`), as a fresh
/// clone has it.
fn example_copy(root: &Path) {
    let workspace = common::workspace();
    for folder in ["packer", "deployments"] {
        for path in walk(&workspace.join(folder)) {
            let rel = path.strip_prefix(&workspace).unwrap();
            if rel.file_name().is_some_and(|name| name == "manifest.json") {
                continue;
            }
            write(root, rel.to_str().unwrap(), fs::read(&path).unwrap());
        }
    }
}

/// The README's main job on a fresh clone, with no credentials: every
/// template is current, so it builds nothing, needs no Packer, exits 0 and
/// changes no file outside `target/`. An edited template is due again.
#[test]
fn a_fresh_clone_has_nothing_to_build_until_a_template_changes() {
    require_packer();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    example_copy(root);
    let before = snapshot_of(root);
    let no_packer = tempfile::tempdir().unwrap();
    // Nothing of this environment but, when asked, where Packer is.
    let images = |with_packer: bool, args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command.args(["images", "--root", root.to_str().unwrap()]).args(args).env_clear().env("NO_COLOR", "1");
        if with_packer {
            command.env("PATH", std::env::var_os("PATH").unwrap());
            command.envs(std::env::var_os("PACKER").map(|packer| ("PACKER", packer)));
        } else {
            command.env("PATH", no_packer.path());
        }
        command.output().unwrap()
    };
    // The README shows this run's output.
    let readme = fs::read_to_string(common::workspace().join("README.md")).unwrap();
    let shown = readme
        .split("```text\n")
        .filter_map(|block| block.split_once("```").map(|(block, _)| block))
        .find(|block| block.contains(" skipped, 0 failed; 0 deployments updated."))
        .expect("the README shows what `images` prints on a fresh clone");
    for with_packer in [false, true] {
        let output = images(with_packer, &[]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        assert_eq!(stdout(&output), shown, "README.md shows another output: {}", common::stderr(&output));
        let after: Vec<_> =
            snapshot_of(root).into_iter().filter(|(path, _)| !path.starts_with(root.join("target"))).collect();
        assert!(after == before, "the run changed files: {}", text(&output));
        // Found and asked for its version (cached under target/) only when on PATH.
        assert_eq!(root.join("target/xtask/packer-version").is_file(), with_packer);
    }
    let template = root.join("packer/3.9/aws/machine-image/template.json");
    fs::write(&template, fs::read_to_string(&template).unwrap().replace("t2.micro", "t3.micro")).unwrap();
    let output = images(false, &["--dry-run"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        stdout(&output).contains(
            "packer/3.9/aws/machine-image/template.json\n  build: region eu-central-1, because changed since its \
             images were built: template.json (changed)"
        ),
        "{}",
        text(&output)
    );
    let templates = shown.lines().filter(|line| line.contains(" skipped ")).count();
    let skipped = stdout(&output).matches("  skip: unchanged since its images were built").count();
    assert_eq!(skipped, templates - 1, "{}", text(&output));
}
