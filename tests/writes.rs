//! Where xtask writes: a leg's `--result` and every other file it writes
//! is resolved to the file really written (`..`, symlinks, missing folders,
//! the current folder) and refused when that is a deployment, the lock, or
//! anything in packer/ or deployments/. A stand-in Packer keeps each run
//! short; the paths are the issue's and generated ones, checked against
//! what the system itself writes.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{text, write};

/// Answers like Packer for `version`, `validate` and `build
/// -machine-readable`: one artifact per `"region"` of template.json.
const STAND_IN: &str = r#"#!/bin/sh
case "$1" in
  version) echo "Packer v1.6.6" ;;
  validate) echo "The configuration is valid." ;;
  build)
    for region in $(grep -o '"region": *"[a-z0-9-]*"' template.json | sed 's/.*"\([a-z0-9-]*\)"$/\1/'); do
      echo "1700000000,$region,artifact,0,id,$region:ami-0123456789abcdef0"
    done ;;
  *) echo "stand-in packer: unexpected $*" >&2; exit 1 ;;
esac
"#;

fn template() -> String {
    let builder = |region: &str| {
        format!(
            "    {{ \"type\": \"amazon-ebs\", \"name\": \"{region}\", \"region\": \"{region}\", \
             \"source_ami\": \"ami-03cf127a\", \"instance_type\": \"t2.micro\", \"ssh_username\": \"core\", \
             \"ami_name\": \"okd-{region}-{{{{timestamp}}}}\" }}"
        )
    };
    format!("{{\n  \"builders\": [\n{},\n{}\n  ]\n}}\n", builder("eu-central-1"), builder("eu-west-1"))
}

fn deployment(region: &str) -> String {
    format!(
        "release: '4.0'\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-00000000\ncluster:\n  region: {region}\n  \
         machine_image:\n    id: ami-00000000\n"
    )
}

/// The issue's repository: a 4.0 template, a deployment, one that is a
/// symlink to `../envs/ireland.yaml`, and the lock a first run wrote.
fn tree(root: &Path) -> PathBuf {
    write(root, "packer/4.0/aws/machine-image/template.json", template());
    write(root, "deployments/aws-frankfurt-4.0.yaml", deployment("eu-central-1"));
    write(root, "envs/ireland.yaml", deployment("eu-west-1"));
    symlink("../envs/ireland.yaml", root.join("deployments/ireland.yaml")).unwrap();
    let packer = write(root, "bin/packer", STAND_IN);
    fs::set_permissions(&packer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let first = images(root, root, &packer, &[]);
    assert!(first.status.success(), "{}", text(&first));
    assert!(root.join("packer/images.lock").is_file());
    packer
}

fn images(root: &Path, cwd: &Path, packer: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["images", "--root", root.to_str().unwrap(), "--packer", packer.to_str().unwrap()])
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn build_only(root: &Path, cwd: &Path, packer: &Path, result: &str) -> Output {
    let args = ["--select", "packer/4.0/aws/machine-image", "--build-only", "--force", "--result", result];
    images(root, cwd, packer, &args)
}

/// Every file a run must not touch, with its text: all of packer/ and
/// deployments/, and what their symlinks lead to (envs/ireland.yaml).
fn protected_files(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    for folder in ["packer", "deployments"] {
        // Dangling links are not files: skipped.
        for entry in walkdir::WalkDir::new(root.join(folder)).follow_links(true).into_iter().flatten() {
            if entry.file_type().is_file() {
                let text = String::from_utf8_lossy(&fs::read(entry.path()).unwrap()).into_owned();
                files.insert(entry.path().to_path_buf(), text);
            }
        }
    }
    files
}

#[test]
fn a_result_never_lands_on_a_deployment_or_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let packer = tree(root);
    let before = protected_files(root);
    for (result, said) in [
        (
            "nothere/../deployments/aws-frankfurt-4.0.yaml",
            "it leads to the deployment deployments/aws-frankfurt-4.0.yaml",
        ),
        ("zz/../packer/images.lock", "it leads to the lock packer/images.lock"),
        ("envs/ireland.yaml", "it leads to envs/ireland.yaml, the deployment deployments/ireland.yaml"),
        ("./target/../deployments/new.json", "it leads to deployments/new.json, inside deployments/"),
    ] {
        let output = build_only(root, root, &packer, result);
        assert_eq!(output.status.code(), Some(2), "--result {result}: {}", text(&output));
        assert!(
            text(&output).contains(&format!("--result {result}: {said}; write results outside")),
            "{}",
            text(&output)
        );
        assert_eq!(protected_files(root), before, "--result {result} changed a protected file");
    }
    assert!(!root.join("nothere").exists() && !root.join("zz").exists(), "a refused result made folders");

    // Through symlinks: to a deployment, into packer/, dangling into
    // deployments/, and a chain through a linked folder.
    symlink("../deployments/aws-frankfurt-4.0.yaml", root.join("target/to-deployment")).unwrap();
    symlink(root.join("packer/4.0"), root.join("target/to-packer")).unwrap();
    symlink("../deployments/not-yet.json", root.join("target/dangling")).unwrap();
    symlink("to-packer", root.join("target/chain")).unwrap();
    for result in
        ["target/to-deployment", "target/to-packer/aws/r.json", "target/dangling", "target/chain/../images.lock"]
    {
        let output = build_only(root, root, &packer, result);
        assert_eq!(output.status.code(), Some(2), "--result {result}: {}", text(&output));
        assert_eq!(protected_files(root), before, "--result {result} changed a protected file");
    }
    assert!(!root.join("deployments/not-yet.json").exists());

    // Never a device or a FIFO, which a rename would replace (a symlink to
    // /dev/null is a real case: `--result /dev/stdout` with a quiet output).
    common::mkfifo(root, "target/fifo");
    symlink("fifo", root.join("target/to-fifo")).unwrap();
    let output = build_only(root, root, &packer, "target/to-fifo");
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("which is not a regular file"), "{}", text(&output));
    assert!(fs::symlink_metadata(root.join("target/fifo")).unwrap().file_type().is_fifo());

    // A place of its own is fine, relative to the current folder, not the
    // root: from elsewhere, `deployments/x.json` is that folder's.
    let output = build_only(root, root, &packer, "target/results/leg.json");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let result: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("target/results/leg.json")).unwrap()).unwrap();
    assert_eq!(result["template"], "packer/4.0/aws/machine-image/template.json");
    let elsewhere = tempfile::tempdir().unwrap();
    let output = build_only(root, elsewhere.path(), &packer, "deployments/leg.json");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(elsewhere.path().join("deployments/leg.json").is_file());
    // A result written through a symlink keeps the link.
    symlink("../results/leg.json", root.join("target/linked-result")).unwrap();
    let output = build_only(root, root, &packer, "target/linked-result");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(fs::symlink_metadata(root.join("target/linked-result")).unwrap().file_type().is_symlink());
    assert_eq!(protected_files(root), before);
}

#[test]
fn xtasks_own_files_are_not_written_through_symlinks_into_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let packer = tree(root);
    let before = protected_files(root);
    // The build log of the template, made a symlink to a deployment.
    let log = root.join("target/xtask/images/4.0-aws-machine-image.log");
    fs::remove_file(&log).unwrap();
    symlink("../../../deployments/aws-frankfurt-4.0.yaml", &log).unwrap();
    let output = images(root, root, &packer, &["--force"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("the build log target/xtask/images/4.0-aws-machine-image.log: it leads to"),
        "{}",
        text(&output)
    );
    assert_eq!(protected_files(root), before);
    fs::remove_file(&log).unwrap();

    // target/xtask itself a symlink into deployments/: the run lock is refused.
    fs::remove_dir_all(root.join("target/xtask")).unwrap();
    symlink("../deployments", root.join("target/xtask")).unwrap();
    let output = images(root, root, &packer, &["--force"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("the run lock target/xtask/images.run-lock: it leads to"), "{}", text(&output));
    assert_eq!(protected_files(root), before);
    let listed: Vec<_> = fs::read_dir(root.join("deployments")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(listed.len(), 2, "nothing new in deployments/: {listed:?}");
    fs::remove_file(root.join("target/xtask")).unwrap();

    // The run lock made a hard link to a deployment: the same file.
    fs::create_dir_all(root.join("target/xtask")).unwrap();
    fs::hard_link(root.join("deployments/aws-frankfurt-4.0.yaml"), root.join("target/xtask/images.run-lock")).unwrap();
    let output = images(root, root, &packer, &["--force"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("a hard link to the deployment deployments/aws-frankfurt-4.0.yaml"),
        "{}",
        text(&output)
    );
    assert_eq!(protected_files(root), before);
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

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const PARTS: &[&str] = &[
    ".",
    "..",
    "..",
    "deployments",
    "packer",
    "envs",
    "target",
    "results",
    "nothere",
    "aws-frankfurt-4.0.yaml",
    "ireland.yaml",
    "images.lock",
    "new.json",
    "4.0",
    "l0",
    "l1",
    "l2",
    "l3",
];

/// Where a path may end up: protected files and folders, and places of
/// its own.
const ENDS: &[&str] = &[
    "deployments/aws-frankfurt-4.0.yaml",
    "deployments/ireland.yaml",
    "envs/ireland.yaml",
    "packer/images.lock",
    "packer/4.0/aws/new.json",
    "deployments/new.json",
    "target/results/r.json",
    "envs/new.json",
    "new.json",
];

/// A random path from the root: a random run of steps, or steps that
/// mostly come back where they started (a missing folder and `..`, `.`, a
/// link and `..`) before a place of [`ENDS`].
fn random_path(rng: &mut Rng) -> PathBuf {
    if rng.below(3) == 0 {
        return (0..1 + rng.below(6)).map(|_| rng.pick(PARTS)).collect();
    }
    let detours = ["nothere/..", ".", "l0/..", "l1", "target/..", "envs/../.", "nothere/new/../.."];
    let mut path: PathBuf = (0..rng.below(3)).map(|_| rng.pick(&detours)).collect();
    path.push(rng.pick(ENDS));
    path
}

/// Adds symlinks `l0`..`l3` at random places with random targets (files,
/// folders, dangling, chains of each other, relative and absolute).
fn random_links(root: &Path, rng: &mut Rng) {
    for link in ["l0", "l1", "l2", "l3"] {
        let folder = root.join(rng.pick(&["", "target", "envs", "target/results"]));
        fs::create_dir_all(&folder).unwrap();
        let target = random_path(rng);
        let target = if rng.below(4) == 0 { root.join(target) } else { target };
        let _ = symlink(target, folder.join(link));
    }
}

/// Where the system's own write of `path` from `cwd` lands (the folders
/// created, then the file opened without changing it); `None` when it
/// cannot write there at all.
fn system_write(cwd: &Path, path: &str) -> Option<PathBuf> {
    let path = cwd.join(path);
    path.parent().map_or(Ok(()), fs::create_dir_all).ok()?;
    fs::OpenOptions::new().append(true).create(true).open(&path).ok()?;
    fs::canonicalize(&path).ok()
}

/// Generated `--result` paths: compositions of `..`, `.`, symlinks to
/// files, folders and nothing, chains, missing folders, from the root, from
/// a folder below it, or absolute. Whatever the path, no protected file
/// changes; where the system can write it, xtask refuses exactly the paths
/// whose file is protected and writes the others where the system would.
#[test]
fn generated_result_paths_never_change_a_protected_file() {
    let cases: u64 = std::env::var("RESULT_PATH_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let template_root = fs::canonicalize(dir.path()).unwrap().join("template");
    let packer = tree(&template_root);
    let (mut refused, mut protected_refused, mut written) = (0, 0, 0);
    for case in 0..cases {
        let mut rng = Rng(0x51_7cc1_b727_220a ^ (case + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let root = fs::canonicalize(dir.path()).unwrap().join(format!("case-{case}"));
        assert!(Command::new("cp").arg("-a").arg(&template_root).arg(&root).status().unwrap().success());
        random_links(&root, &mut rng);
        let parts = random_path(&mut rng);
        let cwd_rel = rng.pick(&["", "target", "envs"]);
        fs::create_dir_all(root.join(cwd_rel)).unwrap();
        let path = match rng.below(3) {
            0 => root.join(&parts).display().to_string(),
            _ if cwd_rel.is_empty() => parts.display().to_string(),
            _ => Path::new("..").join(&parts).display().to_string(),
        };
        let before = protected_files(&root);
        let output = build_only(&root, &root.join(cwd_rel), &packer, &path);
        let said = text(&output);
        let replay = format!("case {case}: --result {path} from `{cwd_rel}`:\n{said}");
        assert_eq!(protected_files(&root), before, "{replay}");
        // Only now, on the same tree: where the system writes that path
        // (once xtask made its folders, the path may lead to its result).
        let at = fs::canonicalize(root.join(cwd_rel).join(&path)).ok().filter(|file| file.is_file());
        let landed = at.clone().or_else(|| system_write(&root.join(cwd_rel), &path));
        let protected = |file: &Path| {
            ["packer", "deployments", "envs/ireland.yaml"].iter().any(|kept| file.starts_with(root.join(kept)))
        };
        match output.status.code() {
            Some(0) => {
                written += 1;
                // Else a `..` after a folder only xtask's write made: the
                // system cannot follow the path at all.
                if let Some(at) = at {
                    assert!(!protected(&at), "written, though the file is protected: {replay}");
                    let result: serde_json::Value = serde_json::from_slice(&fs::read(&at).unwrap()).expect(&replay);
                    assert_eq!(
                        result["template"], "packer/4.0/aws/machine-image/template.json",
                        "not where the system writes it: {replay}"
                    );
                }
            }
            _ => {
                refused += 1;
                protected_refused += usize::from(landed.as_ref().is_some_and(|file| protected(file)));
                assert!(
                    landed.is_none_or(|file| protected(&file)),
                    "refused a place the system writes outside the repository's: {replay}"
                );
                assert!(said.contains(&format!("--result {path}: ")), "{replay}");
            }
        }
        fs::remove_dir_all(&root).unwrap();
    }
    assert!(
        protected_refused as u64 >= cases / 5 && written >= cases / 5,
        "{refused} refused ({protected_refused} leading to a protected file) and {written} written of {cases}"
    );
}

/// A root reached through a symlink (`--root` a link to the checkout):
/// every writer follows no symlink on its way, so each resolves the root
/// first, and the run records the lock and patches the deployments.
#[test]
fn a_root_reached_through_a_symlink_is_written_as_usual() {
    let dir = tempfile::tempdir().unwrap();
    let real = &fs::canonicalize(dir.path()).unwrap().join("checkout");
    let packer = tree(real);
    let link = real.with_file_name("link");
    symlink(real, &link).unwrap();
    let output = images(&link, &link, &packer, &["--force"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("1 built"), "{}", text(&output));
    let output = build_only(&link, &link, &packer, "target/results/leg.json");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(real.join("target/results/leg.json").is_file());
}

/// The demo replaces its copy, target/xtask/demo: made a symlink to a
/// folder of the user's, that folder is not emptied (it was, whole).
#[test]
fn the_demo_never_removes_a_folder_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap().join("checkout");
    let packer = tree(root);
    let documents = write(root.parent().unwrap(), "documents/thesis.txt", "years of work").parent().unwrap().to_owned();
    symlink(&documents, root.join("target/xtask/demo")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["demo", "--root", root.to_str().unwrap(), "--packer", packer.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(fs::read_to_string(documents.join("thesis.txt")).unwrap(), "years of work", "{}", text(&output));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("thesis.txt, which xtask did not put there"), "{}", text(&output));
}

/// Files xtask reads that a user names or keeps beside its own: a FIFO
/// there (opening one waits for a writer that never comes) or a device
/// (endless) is refused with what it is, never waited on or read whole.
#[test]
fn fifos_and_devices_where_xtask_reads_are_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let packer = tree(root);
    let run = |args: &[&str]| {
        let mut all = vec!["images", "--root", root.to_str().unwrap(), "--packer", packer.to_str().unwrap()];
        all.extend_from_slice(args);
        common::xtask_within(20, &all)
    };
    let fifo = common::mkfifo(root, "vars/fifo.json");
    let output = run(&["--dry-run", "--var-file", fifo.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("it is a FIFO (named pipe), not a regular file"), "{}", text(&output));
    symlink("/dev/zero", root.join("vars/zero.json")).unwrap();
    let output = run(&["--dry-run", "--var-file", root.join("vars/zero.json").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("it is a device, not a regular file"), "{}", text(&output));

    let manifest = common::mkfifo(root, "packer/4.0/aws/machine-image/manifest.json");
    let output = run(&["--patch-from", manifest.to_str().unwrap()]);
    assert_ne!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("it is a FIFO (named pipe), not a regular file"), "{}", text(&output));
    fs::remove_file(&manifest).unwrap();

    let config = common::mkfifo(root, "xtask.toml");
    let output = run(&["--dry-run"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("xtask.toml: it is a FIFO (named pipe), not a regular file"), "{}", text(&output));
    fs::remove_file(&config).unwrap();

    // A cache of xtask's own is only skipped: the run goes on. (It keeps
    // the version of a real Packer only, not of a stand-in script.)
    common::mkfifo(root, "target/xtask/packer-version");
    let real = common::packer();
    let args = ["images", "--root", root.to_str().unwrap(), "--packer", real.to_str().unwrap(), "--dry-run"];
    let output = common::xtask_within(20, &args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

/// A result that could not be written is refused before the build, not
/// after it (a cloud build can take an hour): a name too long for its
/// temporary file, and a `~` the shell did not expand (`--result=~/x`
/// made a folder named `~`).
#[test]
fn a_result_that_cannot_be_written_is_refused_before_the_build() {
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let packer = tree(root);
    let long = format!("target/results/{}.json", "a".repeat(240));
    let output = build_only(root, root, &packer, &long);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(!text(&output).contains("built"), "refused after the build: {}", text(&output));
    assert!(text(&output).contains("File name too long"), "{}", text(&output));
    for path in ["~/leg.json", "~root/leg.json", "~"] {
        let output = build_only(root, root, &packer, path);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        assert!(text(&output).contains("the shell expands `~`"), "{}", text(&output));
    }
    assert!(!root.join("~").exists() && !root.join("~root").exists());
}

/// xtask.toml is read by every run (the Packer version and plugin pins): a
/// leg's result written over it broke the next run.
#[test]
fn a_result_never_lands_on_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let packer = tree(root);
    write(root, "xtask.toml", "[packer.plugins]\n");
    symlink("../xtask.toml", root.join("target/to-config")).unwrap();
    for result in ["xtask.toml", "target/../xtask.toml", "target/to-config"] {
        let output = build_only(root, root, &packer, result);
        assert_eq!(output.status.code(), Some(2), "--result {result}: {}", text(&output));
        assert!(text(&output).contains("it leads to the configuration xtask.toml"), "{}", text(&output));
        assert_eq!(fs::read_to_string(root.join("xtask.toml")).unwrap(), "[packer.plugins]\n");
    }
}

/// A script outside packer/ that a template uploads is part of its images
/// as much as the template: a result written over it changed the next
/// build. What the lock says a template read is protected.
#[test]
fn a_result_never_lands_on_a_file_a_template_reads() {
    let dir = tempfile::tempdir().unwrap();
    let root = &fs::canonicalize(dir.path()).unwrap();
    let packer = tree(root);
    write(root, "shared/common.sh", "echo common\n");
    let with_script = template().replacen(
        "\n  ]\n}",
        "\n  ],\n  \"provisioners\": [{ \"type\": \"shell\", \"script\": \"../../../../shared/common.sh\" }]\n}",
        1,
    );
    write(root, "packer/4.0/aws/machine-image/template.json", with_script);
    let output = images(root, root, &packer, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    symlink("../shared", root.join("target/to-shared")).unwrap();
    for result in ["shared/common.sh", "target/to-shared/common.sh"] {
        let output = build_only(root, root, &packer, result);
        assert_eq!(output.status.code(), Some(2), "--result {result}: {}", text(&output));
        assert!(text(&output).contains("packer/4.0/aws/machine-image/template.json reads"), "{}", text(&output));
        assert_eq!(fs::read_to_string(root.join("shared/common.sh")).unwrap(), "echo common\n");
    }
}
