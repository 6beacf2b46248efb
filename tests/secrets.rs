//! Where `--var` values go: into a var file only the user can read, given
//! to the real Packer (Debian's 1.6.6) building against moto, never onto a
//! command line or into an environment; the file is removed when the build
//! ends, also after an interrupt, and a killed run's is removed by the
//! next. Values with every odd byte reach the template as they are, which
//! the real Packer checks.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{text, write};

const SECRET: &str = "cmdline-S3CR3T-9f2c";

/// The processes below `pid`, children first found by their parent.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        // `pid (name) state ppid …`: the name may hold spaces and parentheses.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some(ppid) = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)) else { continue };
        parents.entry(ppid.parse().unwrap_or(0)).or_default().push(child);
    }
    let mut found = Vec::new();
    let mut next = vec![pid];
    while let Some(parent) = next.pop() {
        for &child in parents.get(&parent).into_iter().flatten() {
            found.push(child);
            next.push(child);
        }
    }
    found
}

fn contains(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|window| window == text.as_bytes())
}

/// A two-source HCL2 folder against moto, with a sensitive variable and a
/// local step that waits at a gate (`started`, then `go`) so that the test
/// can look at the running processes.
fn hcl2_tree(root: &Path) {
    let folder = "packer/4.0/aws/machine-image";
    write(
        root,
        &format!("{folder}/variables.pkr.hcl"),
        "variable \"endpoint\" {\n  type = string\n}\n\nvariable \"gate\" {\n  type = string\n}\n\n\
         variable \"token\" {\n  type      = string\n  default   = \"\"\n  sensitive = true\n}\n",
    );
    write(
        root,
        &format!("{folder}/sources.pkr.hcl"),
        "source \"amazon-ebs\" \"frankfurt\" {\n  region = \"eu-central-1\"\n  custom_endpoint_ec2 = var.endpoint\n  \
         communicator = \"none\"\n  skip_credential_validation = true\n  skip_metadata_api_check = true\n  \
         source_ami = \"ami-03cf127a\"\n  instance_type = \"t2.micro\"\n  ami_name = \"e2e-${uuidv4()}\"\n  \
         tags = { Token = var.token }\n}\n",
    );
    write(
        root,
        &format!("{folder}/build.pkr.hcl"),
        "build {\n  sources = [\"source.amazon-ebs.frankfurt\"]\n\n  provisioner \"shell-local\" {\n    inline = [\n      \
         \"touch ${var.gate}/started\",\n      \
         \"i=0; while [ ! -e ${var.gate}/go ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i+1)); done\",\n    ]\n  }\n}\n",
    );
    write(
        root,
        "deployments/frankfurt.yaml",
        "release: '4.0'\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-00000000\ncluster:\n  region: eu-central-1\n  \
         machine_image:\n    id: ami-00000000\n",
    );
}

fn wait_for(path: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let output = std::mem::replace(child, Command::new("true").spawn().unwrap());
            panic!(
                "the build ended ({status}) before it reached the gate: {}",
                text(&output.wait_with_output().unwrap())
            );
        }
        assert!(Instant::now() < deadline, "the build did not reach {} within 120 s", path.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// While the real Packer builds, no process below xtask (Packer, its
/// plugins, the local step's shell) has the `--var` secret in its command
/// line or its environment; the var file that carries it is the user's
/// alone, and gone when the run ends.
#[test]
fn a_running_packer_has_no_secret_on_its_command_line_or_in_its_environment() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    common::packer();
    let moto = xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}"));
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    hcl2_tree(root);
    let gate = root.join("gate");
    fs::create_dir_all(&gate).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap()])
        .args(["--var", &format!("endpoint={}", moto.endpoint)])
        .args(["--var", &format!("gate={}", gate.display())])
        .args(["--var", &format!("token={SECRET}")])
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "user-environment-secret")
        .env_remove("AWS_PROFILE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&gate.join("started"), &mut child);

    let processes = descendants(child.id());
    let mut packers = 0;
    for pid in &processes {
        let (Ok(cmdline), Ok(environ)) =
            (fs::read(format!("/proc/{pid}/cmdline")), fs::read(format!("/proc/{pid}/environ")))
        else {
            continue;
        };
        let shown = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        packers += usize::from(shown.contains("packer"));
        assert!(!contains(&cmdline, SECRET), "the secret is on the command line of {pid}: {shown}");
        assert!(!contains(&environ, SECRET), "the secret is in the environment of {pid} ({shown})");
        // What the user's own environment holds is passed on, as it must be.
        assert!(contains(&environ, "user-environment-secret") || !shown.contains("packer build"), "{shown}");
    }
    assert!(packers >= 2, "packer and its plugins were not found among {processes:?}");

    let folder = root.join("target/xtask/private");
    let files: Vec<PathBuf> = fs::read_dir(&folder).unwrap().map(|entry| entry.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(fs::metadata(&folder).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(fs::read_to_string(&files[0]).unwrap().contains(SECRET), "the var file carries the value");

    fs::write(gate.join("go"), "").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(fs::read_dir(&folder).unwrap().count(), 0, "the var file is removed after the run");
    assert!(!contains(text(&output).as_bytes(), SECRET), "{}", text(&output));
    let log = fs::read_to_string(root.join("target/xtask/images/4.0-aws-machine-image.log")).unwrap();
    assert!(log.contains("-var-file <private var file: endpoint, gate, token>"), "{log}");
    assert!(!log.contains(SECRET), "{log}");
    // The value reached the build: the image carries it as a tag.
    let tags = Command::new(&moto.python)
        .arg("-c")
        .arg(format!(
            "import boto3\nc = boto3.client('ec2', region_name='eu-central-1', endpoint_url='{}', \
             aws_access_key_id='testing', aws_secret_access_key='testing')\n\
             print([t['Value'] for i in c.describe_images(Owners=['self'])['Images'] for t in i.get('Tags', [])])",
            moto.endpoint
        ))
        .output()
        .unwrap();
    assert!(contains(&tags.stdout, SECRET), "{}", text(&tags));
}

/// Answers like Packer; its build waits at a gate, then reports an image.
const SLOW_STAND_IN: &str = r#"#!/bin/sh
case "$1" in
  version) echo "Packer v1.6.6" ;;
  validate) echo "The configuration is valid." ;;
  build)
    touch "$GATE/started"
    i=0; while [ ! -e "$GATE/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
    echo "1700000000,frankfurt,artifact,0,id,eu-central-1:ami-0123456789abcdef0" ;;
esac
"#;

fn stand_in_tree(root: &Path) -> PathBuf {
    write(
        root,
        "packer/3.11/aws/machine-image/template.json",
        "{\"variables\": {\"token\": \"\"}, \"sensitive-variables\": [\"token\"], \"builders\": [{\"type\": \
         \"amazon-ebs\", \"name\": \"frankfurt\", \"region\": \"eu-central-1\", \"source_ami\": \"ami-03cf127a\", \
         \"instance_type\": \"t2.micro\", \"ssh_username\": \"core\", \"ami_name\": \"x-{{timestamp}}\"}]}\n",
    );
    let packer = write(root, "bin/packer", SLOW_STAND_IN);
    fs::set_permissions(&packer, fs::Permissions::from_mode(0o755)).unwrap();
    packer
}

fn private_files(root: &Path) -> Vec<PathBuf> {
    fs::read_dir(root.join("target/xtask/private"))
        .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
        .unwrap_or_default()
}

fn start(root: &Path, packer: &Path, gate: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--packer", packer.to_str().unwrap(), "--force"])
        .args(["--var", &format!("token={SECRET}")])
        .env("GATE", gate)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// SIGINT and SIGTERM: the build is stopped and the var file removed.
/// SIGKILL: the file stays (nothing can run), and the next run removes it
/// before it builds, saying so.
#[test]
fn the_var_file_is_removed_after_an_interrupt_and_after_a_kill_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let packer = stand_in_tree(root);
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGKILL] {
        let gate = tempfile::tempdir().unwrap();
        let mut child = start(root, &packer, gate.path());
        wait_for(&gate.path().join("started"), &mut child);
        assert_eq!(private_files(root).len(), 1, "the var file is there during the build");
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        if signal != libc::SIGKILL {
            // The stand-in, in its own process group, is told by xtask.
            let output = child.wait_with_output().unwrap();
            assert_eq!(output.status.code(), Some(130), "{}", text(&output));
            assert_eq!(private_files(root), Vec::<PathBuf>::new(), "removed after signal {signal}");
            continue;
        }
        let _ = child.wait();
        fs::write(gate.path().join("go"), "").unwrap();
        let left = private_files(root);
        assert_eq!(left.len(), 1, "a killed run leaves its var file");
        assert!(fs::read_to_string(&left[0]).unwrap().contains(SECRET));
        let gate = tempfile::tempdir().unwrap();
        fs::write(gate.path().join("go"), "").unwrap();
        let next = start(root, &packer, gate.path()).wait_with_output().unwrap();
        assert_eq!(next.status.code(), Some(0), "{}", text(&next));
        assert!(
            text(&next).contains("Removed 1 var file with --var values that an interrupted run left"),
            "{}",
            text(&next)
        );
        assert_eq!(private_files(root), Vec::<PathBuf>::new());
    }
}

/// A small deterministic generator, so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Pieces of values that quoting and templating could change.
const PIECES: &[&str] = &[
    "\"",
    "'",
    "\\",
    "\\\\",
    "\\n",
    "\n",
    "\r\n",
    "\t",
    "${",
    "${x}",
    "%{",
    "%{ if }",
    "$${",
    "%%{",
    "}",
    "=",
    ",",
    "%!(PACKER_COMMA)",
    " ",
    "é",
    "€",
    "😀",
    "\u{200b}",
    "\u{202e}",
    "\u{1}",
    "\u{7f}",
    "a",
    "Z9",
    "--",
    "-var",
    "`",
];

fn random_value(rng: &mut Rng) -> String {
    (0..1 + rng.below(8)).map(|_| PIECES[rng.below(PIECES.len())]).collect()
}

/// Runs `packer build` on `dir` with the values given as `args`, and
/// returns what each file builder `v0`, `v1`… wrote.
fn built_values(dir: &Path, target: &str, args: &[String], count: usize) -> Vec<String> {
    let output = Command::new(common::packer())
        .args(["build", "-color=false"])
        .args(args)
        .arg(target)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "packer build in {}: {}", dir.display(), text(&output));
    (0..count).map(|at| fs::read_to_string(dir.join(format!("out/{at}.txt"))).unwrap()).collect()
}

/// Writes `values` the way a build passes them, runs the real Packer on a
/// template of file builders that writes each variable to a file, and
/// does the same with `-var name=value` as before: both give each value
/// byte for byte.
fn check_round_trip(format: xtask::project::TemplateFormat, values: &[(String, String)], typed: Option<&str>) {
    use xtask::project::TemplateFormat;
    let dir = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(dir.path()).unwrap();
    let (target, template) = match format {
        TemplateFormat::Json => {
            let variables: Vec<String> = values.iter().map(|(name, _)| format!("\"{name}\": \"\"")).collect();
            let builders: Vec<String> = (0..values.len())
                .map(|at| {
                    format!("{{\"type\": \"file\", \"name\": \"f{at}\", \"target\": \"out/{at}.txt\", \"content\": \"{{{{user `v{at}`}}}}\"}}")
                })
                .collect();
            let text =
                format!("{{\"variables\": {{{}}}, \"builders\": [{}]}}", variables.join(", "), builders.join(", "));
            ("template.json", text)
        }
        TemplateFormat::Hcl2 => {
            let kind = typed.unwrap_or("string");
            let mut text = String::new();
            for at in 0..values.len() {
                let content = if typed.is_some() { format!("jsonencode(var.v{at})") } else { format!("var.v{at}") };
                text.push_str(&format!(
                    "variable \"v{at}\" {{\n  type = {kind}\n}}\nsource \"file\" \"f{at}\" {{\n  target = \"out/{at}.txt\"\n  content = {content}\n}}\n"
                ));
            }
            let sources: Vec<String> = (0..values.len()).map(|at| format!("\"source.file.f{at}\"")).collect();
            text.push_str(&format!("build {{\n  sources = [{}]\n}}\n", sources.join(", ")));
            (".", text)
        }
    };
    let name = if target == "." { "t.pkr.hcl" } else { "template.json" };
    let hcl2 = (format == TemplateFormat::Hcl2)
        .then(|| xtask::hcl2::parse_file(0, name, template.clone()).unwrap())
        .map(|file| xtask::hcl2::Hcl2Template { files: vec![file], ..Default::default() });
    let private = xtask::private_vars::PrivateVars::values(format, hcl2.as_ref(), values).unwrap();
    let protected = xtask::protected::Protected::of(&root);
    let folder = xtask::private_vars::folder(&root, &protected).unwrap();
    let written = xtask::private_vars::PrivateVars::write(&folder, &private).unwrap().unwrap();
    let mode = fs::metadata(written.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let through_file = write(&root, &format!("by-file/{name}"), &template).parent().unwrap().to_path_buf();
    let file_args = ["-var-file".to_owned(), written.path().display().to_string()];
    let by_file = built_values(&through_file, target, &file_args, values.len());
    let through_args = write(&root, &format!("by-args/{name}"), &template).parent().unwrap().to_path_buf();
    let var_args: Vec<String> =
        values.iter().flat_map(|(name, value)| ["-var".to_owned(), format!("{name}={value}")]).collect();
    let by_args = built_values(&through_args, target, &var_args, values.len());
    for (at, (name, value)) in values.iter().enumerate() {
        assert_eq!(by_file[at], by_args[at], "{name} = {value:?} differs between the var file and -var");
        if typed.is_none() {
            assert_eq!(&by_file[at], value, "{name} did not reach the template as it is");
        }
    }
    drop(written);
    assert_eq!(fs::read_dir(root.join("target/xtask/private")).unwrap().count(), 0, "removed when dropped");
}

/// Generated values with quotes, backslashes, `${`, `%{`, line ends,
/// commas, controls and any Unicode reach JSON templates and HCL2 folders
/// through the var file exactly as `-var` gave them, and as they are.
#[test]
fn values_with_odd_bytes_reach_packer_through_the_var_file_as_they_are() {
    if common::skip_slow_test("six builds with the real Packer of 80 generated values") {
        return;
    }
    use xtask::project::TemplateFormat;
    let mut rng = Rng(0xbb67_ae85_84ca_a73b);
    for format in [TemplateFormat::Json, TemplateFormat::Hcl2] {
        let values: Vec<(String, String)> = (0..30).map(|at| (format!("v{at}"), random_value(&mut rng))).collect();
        check_round_trip(format, &values, None);
    }
    // Typed HCL2 variables take a literal, as `-var` read it.
    let literal = |rng: &mut Rng| {
        let items: Vec<String> = (0..rng.below(4))
            .map(|_| {
                let value = random_value(rng).replace(['\u{1}', '\u{7f}'], "");
                serde_json::to_string(&value).unwrap().replace("${", "$${").replace("%{", "%%{")
            })
            .collect();
        format!("[{}]", items.join(", "))
    };
    let values: Vec<(String, String)> = (0..20).map(|at| (format!("v{at}"), literal(&mut rng))).collect();
    check_round_trip(TemplateFormat::Hcl2, &values, Some("list(string)"));
}

/// The issue's case with the real Packer: a sensitive value holding a
/// literal `\n`, a comma, quotes and a line end, printed by a build step,
/// is hidden in the output and the log, both halves of it.
#[test]
fn a_secret_with_escapes_that_packer_prints_is_hidden() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    common::packer();
    let moto = xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}"));
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let template = r#"{
  "variables": {"endpoint": "", "token": ""},
  "sensitive-variables": ["token"],
  "builders": [{"type": "amazon-ebs", "name": "frankfurt", "region": "eu-central-1",
    "custom_endpoint_ec2": "{{user `endpoint`}}", "communicator": "none", "skip_credential_validation": true,
    "skip_metadata_api_check": true, "source_ami": "ami-03cf127a", "instance_type": "t2.micro",
    "ami_name": "e2e-{{uuid}}"}],
  "provisioners": [{"type": "shell-local", "environment_vars": ["TOKEN={{user `token`}}"],
    "inline": ["printf '%s\\n' \"$TOKEN\"", "printf '%s\\n' \"$TOKEN\" >&2"]}]
}
"#;
    write(root, "packer/3.11/aws/machine-image/template.json", template);
    write(
        root,
        "deployments/frankfurt.yaml",
        "release: '3.11'\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-00000000\ncluster:\n  region: eu-central-1\n  \
         machine_image:\n    id: ami-00000000\n",
    );
    let token = "FIRSTHALF\\nSECONDHALF, \"THIRD\"\nFOURTHLINE";
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap()])
        .args(["--var", &format!("endpoint={}", moto.endpoint), "--var", &format!("token={token}")])
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let log = fs::read_to_string(root.join("target/xtask/images/3.11-aws-machine-image.log")).unwrap();
    assert!(log.contains("<sensitive>"), "the step printed the token: {log}");
    for part in ["FIRSTHALF", "SECONDHALF", "THIRD", "FOURTHLINE"] {
        assert!(!log.contains(part), "{part} is in the log:\n{log}");
        assert!(!text(&output).contains(part), "{part} is in the output:\n{}", text(&output));
    }
}

/// Secrets as Packer's own steps change them, with the real Packer: a
/// step's output line cut at a carriage return and trimmed at its end, a
/// value with a `'` quoted by shell-local in the command its debug log
/// shows (`PACKER_LOG=1`), and the string of a sensitive map given by a
/// var file, `PKR_VAR_` or `--var`, printed alone.
#[test]
fn secrets_that_packers_steps_trim_quote_or_take_from_a_map_are_hidden() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    common::packer();
    let moto = xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}"));
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let folder = "packer/4.0/aws/machine-image";
    let mut variables = "variable \"endpoint\" {\n  type = string\n}\n".to_owned();
    for name in ["quoted", "returned", "trailing"] {
        variables.push_str(&format!("variable \"{name}\" {{\n  type      = string\n  sensitive = true\n}}\n"));
    }
    for name in ["by_file", "by_env", "by_var"] {
        variables.push_str(&format!("variable \"{name}\" {{\n  type      = map(string)\n  sensitive = true\n}}\n"));
    }
    write(root, &format!("{folder}/variables.pkr.hcl"), variables);
    write(
        root,
        &format!("{folder}/build.pkr.hcl"),
        "source \"amazon-ebs\" \"frankfurt\" {\n  region = \"eu-central-1\"\n  custom_endpoint_ec2 = var.endpoint\n  \
         communicator = \"none\"\n  skip_credential_validation = true\n  skip_metadata_api_check = true\n  \
         source_ami = \"ami-03cf127a\"\n  instance_type = \"t2.micro\"\n  ami_name = \"e2e-${uuidv4()}\"\n}\n\
         build {\n  sources = [\"source.amazon-ebs.frankfurt\"]\n  provisioner \"shell-local\" {\n    \
         environment_vars = [\"Q=${var.quoted}\", \"R=${var.returned}\", \"T=${var.trailing}\", \
         \"F=${var.by_file.key}\", \"E=${var.by_env.key}\", \"V=${var.by_var.key}\"]\n    \
         inline = [\"printf 'q %s\\\\n' \\\"$Q\\\"\", \"printf 'r %s\\\\n' \\\"$R\\\"\", \"printf 't %s\\\\n' \\\"$T\\\"\", \
         \"echo \\\"f $F e $E v $V\\\"\"]\n  }\n}\n",
    );
    write(
        root,
        "deployments/frankfurt.yaml",
        "release: '4.0'\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-00000000\ncluster:\n  region: eu-central-1\n  \
         machine_image:\n    id: ami-00000000\n",
    );
    let var_file = write(root, "secrets.pkrvars.hcl", "by_file = {\n  key = \"FILEMAPSECRET\"\n}\n");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--var-file", var_file.to_str().unwrap()])
        .args(["--var", &format!("endpoint={}", moto.endpoint)])
        .args(["--var", "quoted=QUOTEFIRST'QUOTESECOND", "--var", "returned=RETURNFIRST\rRETURNSECOND"])
        .args(["--var", "trailing=TRAILINGSECRET \t", "--var", "by_var={ key = \"VARMAPSECRET\" }"])
        .env("PKR_VAR_by_env", "{ key = \"ENVMAPSECRET\" }")
        .env("PACKER_LOG", "1")
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let log = fs::read_to_string(root.join("target/xtask/images/4.0-aws-machine-image.log")).unwrap();
    // The line of `r` keeps what follows its carriage return alone.
    for printed in
        ["q <sensitive>", "frankfurt: <sensitive>\n", "t <sensitive>", "f <sensitive> e <sensitive> v <sensitive>"]
    {
        assert!(log.contains(printed), "the step printed `{printed}`: {log}");
    }
    assert!(log.contains("Q='<sensitive>'"), "Packer's debug log shows the command: {log}");
    let secrets = ["QUOTEFIRST", "QUOTESECOND", "RETURNFIRST", "RETURNSECOND", "TRAILINGSECRET"];
    for part in secrets.iter().chain(&["FILEMAPSECRET", "ENVMAPSECRET", "VARMAPSECRET"]) {
        assert!(!log.contains(part), "{part} is in the log:\n{log}");
        assert!(!text(&output).contains(part), "{part} is in the output:\n{}", text(&output));
    }
}
