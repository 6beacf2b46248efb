//! The git hook, end to end: a real repository in a temporary folder, the
//! hook installed by `cargo xtask install-hook`, and real `git commit`s.
//!
//! The hook runs `cargo xtask pre-commit`, and the test repository is not
//! this workspace, so a `cargo` shim on PATH forwards `cargo xtask …` to
//! the xtask binary under test.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{text, write};

const TEMPLATE: &str = r#"{
  "builders": [
    {
      "type": "amazon-ebs",
      "name": "frankfurt",
      "region": "eu-central-1",
      "source_ami": "ami-dd3c0f36",
      "instance_type": "t2.micro",
      "ssh_username": "centos",
      "ami_name": "base-{{timestamp}}"
    }
  ],
  "provisioners": [{ "type": "shell", "script": "scripts/install.sh" }]
}
"#;

const DEPLOYMENT: &str = "release: \"3.11\"\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-0123456789abcdef0\n\
                          cluster:\n  region: eu-central-1\n  machine_image:\n    id: ami-0123456789abcdef0\n";

struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    shim: PathBuf,
}

impl Repo {
    /// A repository with one clean template and deployment committed, and
    /// the hook installed.
    fn new() -> Repo {
        Repo::with_files(&[
            ("packer/3.11/aws/machine-image/template.json", TEMPLATE),
            ("packer/3.11/aws/machine-image/scripts/install.sh", "sudo yum -y update\n"),
            ("deployments/frankfurt.yaml", DEPLOYMENT),
        ])
    }

    /// A repository with these files committed and the hook installed.
    fn with_files(files: &[(&str, &str)]) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("infra repo");
        fs::create_dir_all(&path).unwrap();
        let shim = dir.path().join("bin");
        write(
            &shim,
            "cargo",
            format!("#!/bin/sh\n[ \"$1\" = xtask ] && shift\nexec '{}' \"$@\"\n", env!("CARGO_BIN_EXE_xtask")),
        );
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(shim.join("cargo"), fs::Permissions::from_mode(0o755)).unwrap();
        let repo = Repo { _dir: dir, path, shim };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "user.name", "Test"]);
        for (rel, content) in files {
            repo.write(rel, content);
        }
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "--no-verify", "-m", "start"]);
        let installed = repo.xtask(&["install-hook"]);
        assert!(installed.status.success(), "{}", text(&installed));
        repo
    }

    fn write(&self, rel: &str, content: &str) {
        write(&self.path, rel, content);
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        let path = format!("{}:{}", self.shim.display(), std::env::var("PATH").unwrap_or_default());
        // The target folder that holds the xtask under test, as a shared
        // CARGO_TARGET_DIR would: the hook then knows nothing needs building.
        let target = Path::new(env!("CARGO_BIN_EXE_xtask")).parent().unwrap().parent().unwrap();
        command
            .args(args)
            .current_dir(&self.path)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env("CARGO_TARGET_DIR", target)
            // Set for this test by cargo: it would make xtask work on this
            // workspace rather than the test repository.
            .env_remove("CARGO_MANIFEST_DIR");
        command
    }

    fn git(&self, args: &[&str]) -> Output {
        let output = self.command("git", args).output().unwrap();
        assert!(output.status.success(), "git {args:?}: {}", text(&output));
        output
    }

    fn xtask(&self, args: &[&str]) -> Output {
        self.command(env!("CARGO_BIN_EXE_xtask"), args).output().unwrap()
    }

    /// `git commit`, which runs the hook; returns the output either way.
    fn commit(&self, message: &str) -> Output {
        self.command("git", &["commit", "-q", "-m", message]).output().unwrap()
    }

    fn commit_in(&self, dir: &Path, message: &str) -> Output {
        let mut command = self.command("git", &["commit", "-q", "-m", message]);
        command.current_dir(dir);
        command.output().unwrap()
    }
}

fn broken_template() -> String {
    TEMPLATE.replace("base-{{timestamp}}", "base-{{user `suffix`}}-{{timestamp}}")
}

#[test]
fn a_broken_staged_template_is_refused_even_when_fixed_but_not_staged() {
    let repo = Repo::new();
    repo.write("packer/3.11/aws/machine-image/template.json", &broken_template());
    repo.git(&["add", "-A"]);
    let refused = repo.commit("break it");
    assert!(!refused.status.success(), "the commit went through:\n{}", text(&refused));
    let shown = text(&refused);
    assert!(shown.contains("error[PKR201]"), "{shown}");
    assert!(shown.contains("--> packer/3.11/aws/machine-image/template.json:10:"), "{shown}");

    // Fixed in the working tree only: what would be committed is still broken.
    repo.write("packer/3.11/aws/machine-image/template.json", TEMPLATE);
    let still_refused = repo.commit("break it");
    assert!(
        !still_refused.status.success(),
        "the unstaged fix was linted instead of the index:\n{}",
        text(&still_refused)
    );
}

#[test]
fn a_clean_commit_passes() {
    let repo = Repo::new();
    repo.write("packer/3.11/aws/machine-image/scripts/install.sh", "sudo yum -y update\nsudo yum -y install git\n");
    repo.write("deployments/second frankfurt.yaml", &DEPLOYMENT.replace("0123456789abcdef0", "0fedcba9876543210"));
    repo.git(&["add", "-A"]);
    let output = repo.commit("more");
    assert!(output.status.success(), "{}", text(&output));
}

const HCL2_TEMPLATE: &str = r#"variable "region" {
  type    = string
  default = "eu-central-1"
}

source "amazon-ebs" "frankfurt" {
  region        = var.region
  source_ami    = "ami-dd3c0f36"
  instance_type = "t2.micro"
  ssh_username  = "centos"
  ami_name      = "base-${uuidv4()}"
}

build {
  sources = ["source.amazon-ebs.frankfurt"]
}
"#;

/// An HCL2 template is its folder: a staged var file has the folder's
/// `.pkr.hcl` files linted with it, as the index holds them, and the
/// deployments of its release and cloud too.
#[test]
fn a_staged_var_file_is_linted_with_its_hcl2_template_and_deployments() {
    let repo = Repo::new();
    repo.write("packer/4.0/aws/machine-image/main.pkr.hcl", HCL2_TEMPLATE);
    repo.write("deployments/frankfurt-4.0.yaml", &DEPLOYMENT.replace("3.11", "4.0"));
    repo.git(&["add", "-A"]);
    let added = repo.commit("4.0");
    assert!(added.status.success(), "{}", text(&added));

    repo.write("packer/4.0/aws/machine-image/prod.auto.pkrvars.hcl", "regoin = \"eu-north-1\"\n");
    repo.git(&["add", "-A"]);
    let warned = repo.commit("vars");
    assert!(warned.status.success(), "a warning refused the commit:\n{}", text(&warned));
    let shown = text(&warned);
    assert!(shown.contains("--> packer/4.0/aws/machine-image/prod.auto.pkrvars.hcl:1:1"), "{shown}");
    assert!(shown.contains("undeclared-var-file-variable"), "{shown}");

    // The region now comes from the var file, which no deployment uses.
    repo.write("packer/4.0/aws/machine-image/prod.auto.pkrvars.hcl", "region = \"eu-north-1\"\n");
    repo.git(&["add", "-A"]);
    let refused = repo.commit("move");
    assert!(!refused.status.success(), "the commit went through:\n{}", text(&refused));
    assert!(text(&refused).contains("region-not-built"), "{}", text(&refused));
}

#[test]
fn the_hook_says_when_the_first_commit_compiles_the_tool() {
    let repo = Repo::new();
    repo.write("README.md", "notes\n");
    repo.git(&["add", "README.md"]);
    let output = repo
        .command("git", &["commit", "-q", "-m", "docs"])
        .env("CARGO_TARGET_DIR", "/nonexistent/target")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("pre-commit: compiling cargo xtask first"));
}

#[test]
fn nothing_under_packer_or_deployments_exits_at_once() {
    let repo = Repo::new();
    repo.write("README.md", "notes\n");
    // Broken but unstaged files must not matter.
    repo.write("packer/3.11/aws/machine-image/template.json", "{ not json");
    repo.git(&["add", "README.md"]);
    let output = repo.commit("docs");
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(text(&output).trim(), "");
}

#[test]
fn an_unquoted_release_is_refused_with_the_hint() {
    let repo = Repo::new();
    repo.write("deployments/frankfurt.yaml", &DEPLOYMENT.replace("release: \"3.11\"", "release: 3.10"));
    repo.git(&["add", "-A"]);
    let output = repo.commit("3.10");
    assert!(!output.status.success());
    let shown = text(&output);
    assert!(shown.contains("release-not-a-string"), "{shown}");
    assert!(shown.contains("quote it: release: \"3.10\""), "{shown}");
}

#[test]
fn a_template_changed_after_its_image_was_built_commits_with_a_warning() {
    let repo = Repo::new();
    let dir = repo.path.join("packer/3.11/aws/machine-image");
    let inputs = vec!["template.json".to_owned(), "scripts/install.sh".to_owned()];
    let hashes = xtask::fingerprint::hash_inputs(&dir, &inputs).unwrap();
    let (hash, files) = (hashes.all, serde_json::to_string(&hashes.each).unwrap());
    let lock = format!(
        r#"{{"version": 1, "templates": {{"packer/3.11/aws/machine-image/template.json": {{
             "hash": "{hash}", "inputs": ["template.json", "scripts/install.sh"], "packer_version": "1.6.6",
             "files": {files},
             "images": {{"eu-central-1": {{"id": "ami-0123456789abcdef0", "built_at": "2026-11-27T10:00:00Z",
                                          "hash": "{hash}", "settings": "{hash}"}}}}}}}}}}"#
    );
    repo.write("packer/images.lock", &lock);
    repo.git(&["add", "-A"]);
    let recorded = repo.commit("record the image");
    assert!(recorded.status.success(), "{}", text(&recorded));

    // The script changes and is committed before the build, as the
    // documented flow has it (docs/pre-commit.md): the commit goes through, saying which
    // deployment the next build changes.
    repo.write("packer/3.11/aws/machine-image/scripts/install.sh", "sudo yum -y update\nsudo yum -y install docker\n");
    repo.git(&["add", "-A"]);
    let output = repo.commit("change the script only");
    assert!(output.status.success(), "{}", text(&output));
    let shown = text(&output);
    assert!(shown.contains("warning[DEP009]: gets a new image of packer/3.11/aws/machine-image"), "{shown}");
    assert!(shown.contains("scripts/install.sh (changed)"), "{shown}");
    assert!(shown.contains("--> deployments/frankfurt.yaml:5:"), "{shown}");

    // A deployment booting an image the lock does not know is still refused.
    repo.write("deployments/frankfurt.yaml", &DEPLOYMENT.replacen("0123456789abcdef0", "0fedcba9876543210", 1));
    repo.git(&["add", "-A"]);
    let refused = repo.commit("an image by hand");
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("error[DEP010]"), "{}", text(&refused));
}

#[test]
fn paths_with_spaces_a_worktree_and_a_merge() {
    let repo = Repo::new();
    // A deployment whose name has a space, broken.
    repo.write("deployments/my cluster.yaml", "release: \"3.11\"\ncloud: gcp\n");
    repo.git(&["add", "-A"]);
    let output = repo.commit("spaces");
    assert!(!output.status.success());
    assert!(text(&output).contains("deployments/my cluster.yaml"), "{}", text(&output));
    repo.git(&["reset", "-q", "--hard"]);

    // A worktree shares the hook.
    let worktree = repo.path.parent().unwrap().join("second tree");
    repo.git(&["worktree", "add", "-q", "-b", "side", worktree.to_str().unwrap()]);
    write(&worktree, "packer/3.11/aws/machine-image/template.json", broken_template());
    let mut add = repo.command("git", &["add", "-A"]);
    add.current_dir(&worktree);
    assert!(add.output().unwrap().status.success());
    let refused = repo.commit_in(&worktree, "broken in a worktree");
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("PKR201"), "{}", text(&refused));

    // A merge that brings in a broken template is refused at its commit.
    let mut commit = repo.command("git", &["commit", "-q", "--no-verify", "-m", "broken on side"]);
    commit.current_dir(&worktree);
    assert!(commit.output().unwrap().status.success());
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
    let merge = repo.commit("merge side");
    assert!(!merge.status.success(), "{}", text(&merge));
    assert!(text(&merge).contains("PKR201"), "{}", text(&merge));
}

#[test]
fn install_hook_respects_other_hooks_and_hooks_path() {
    let repo = Repo::new();
    // Installing again over our own hook is fine.
    assert!(repo.xtask(&["install-hook"]).status.success());
    let hook = repo.path.join(".git/hooks/pre-commit");
    assert!(fs::read_to_string(&hook).unwrap().contains("cargo xtask pre-commit"));
    assert!(repo.xtask(&["install-hook", "--uninstall"]).status.success());
    assert!(!hook.exists());

    fs::write(&hook, "#!/bin/sh\necho someone else's hook\n").unwrap();
    let refused = repo.xtask(&["install-hook"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused).contains("--force"), "{}", text(&refused));
    assert!(!repo.xtask(&["install-hook", "--uninstall"]).status.success(), "a foreign hook is not removed");
    assert!(repo.xtask(&["install-hook", "--force"]).status.success());
    assert!(fs::read_to_string(&hook).unwrap().contains("cargo xtask pre-commit"));
    // Uninstalling puts the replaced hook back.
    assert!(repo.xtask(&["install-hook", "--uninstall"]).status.success());
    assert_eq!(fs::read_to_string(&hook).unwrap(), "#!/bin/sh\necho someone else's hook\n");
    assert!(!repo.path.join(".git/hooks/pre-commit.before-xtask").exists());
    assert!(repo.xtask(&["install-hook", "--force"]).status.success());

    repo.git(&["config", "core.hooksPath", "githooks"]);
    assert!(repo.xtask(&["install-hook"]).status.success());
    assert!(repo.path.join("githooks/pre-commit").is_file());
}

/// A template the real Packer builds against moto in about a second: the
/// EC2 endpoint comes from a variable, nothing connects to the instance,
/// and a local script stands for the provisioning a person edits (quoted:
/// the repository's path has a space).
const BUILDABLE_TEMPLATE: &str = r#"{
  "variables": { "endpoint": "" },
  "builders": [
    {
      "type": "amazon-ebs",
      "name": "frankfurt",
      "region": "eu-central-1",
      "custom_endpoint_ec2": "{{user `endpoint`}}",
      "communicator": "none",
      "skip_credential_validation": true,
      "skip_metadata_api_check": true,
      "source_ami": "ami-03cf127a",
      "instance_type": "t2.micro",
      "ami_name": "hook-flow-{{uuid}}"
    }
  ],
  "provisioners": [
    { "type": "shell-local", "script": "scripts/prepare.sh", "execute_command": ["/bin/sh", "-c", "{{.Vars}} /bin/sh '{{.Script}}'"] }
  ]
}
"#;

/// The documented flow (docs/pre-commit.md), end to end, with the hook installed, the real Packer
/// and moto: images built and committed; a template edit committed before
/// any build (the hook lets it through, saying which deployments the next
/// build changes, and so does `lint` as CI runs it); then `images`, as
/// `images.yml` runs it after the push, rebuilds, and its result commits
/// cleanly.
#[test]
fn edit_commit_build_commit_passes_the_hook() {
    if common::skip_slow_test("builds with the real Packer against moto") {
        return;
    }
    let packer = std::env::var_os("PACKER")
        .map(PathBuf::from)
        .or_else(|| std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join("packer")).find(|p| p.is_file()))
        .expect("packer was not found: run `.ci/test`, which installs Debian's packer package, or `apt-get install -y packer`");
    let moto = xtask::moto::Moto::start().unwrap_or_else(|error| panic!("{error:#}"));
    let deployment = DEPLOYMENT.replace("ami-0123456789abcdef0", "ami-00000000");
    let repo = Repo::with_files(&[
        ("packer/3.11/aws/machine-image/template.json", BUILDABLE_TEMPLATE),
        ("packer/3.11/aws/machine-image/scripts/prepare.sh", "echo preparing\n"),
        ("deployments/frankfurt.yaml", &deployment),
        (".gitignore", "/target\n"),
        ("Cargo.toml", "[workspace]\n"),
    ]);
    let images = || {
        let output = repo
            .command(env!("CARGO_BIN_EXE_xtask"), &["images", "--var", &format!("endpoint={}", moto.endpoint)])
            .env("PACKER", &packer)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", text(&output));
    };
    let cluster_id = || {
        let text = fs::read_to_string(repo.path.join("deployments/frankfurt.yaml")).unwrap();
        let doc = xtask::yaml::parse(&text).unwrap();
        doc.at(&xtask::deployments::image_route("cluster")).unwrap().as_str().unwrap().to_owned()
    };

    images();
    let first = cluster_id();
    assert_ne!(first, "ami-00000000");
    repo.git(&["add", "-A"]);
    let built = repo.commit("images: first build");
    assert!(built.status.success(), "{}", text(&built));
    assert!(!text(&built).contains("warning"), "{}", text(&built));

    // Edit, commit: the hook passes and names the deployment the next build changes.
    repo.write("packer/3.11/aws/machine-image/scripts/prepare.sh", "echo preparing\necho and more\n");
    repo.git(&["add", "-A"]);
    let edited = repo.commit("prepare more");
    assert!(edited.status.success(), "the hook refused the documented flow:\n{}", text(&edited));
    let shown = text(&edited);
    assert!(
        shown.contains("warning[DEP009]: gets a new image of packer/3.11/aws/machine-image when `cargo xtask images`"),
        "{shown}"
    );
    assert!(shown.contains("scripts/prepare.sh (changed)"), "{shown}");
    assert!(shown.contains("deployments/frankfurt.yaml"), "{shown}");
    // CI's lint.yml: `lint --format github` exits 0 and annotates warnings.
    let lint = repo.xtask(&["lint", "--format", "github"]);
    assert_eq!(lint.status.code(), Some(0), "{}", text(&lint));
    assert!(common::stdout(&lint).contains("::warning file=deployments/frankfurt.yaml"), "{}", text(&lint));

    // The build after the push: new images, and a clean commit.
    images();
    assert_ne!(cluster_id(), first, "the edited template was not rebuilt");
    repo.git(&["add", "-A"]);
    let rebuilt = repo.commit("images: new image IDs");
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    assert!(!text(&rebuilt).contains("warning") && !text(&rebuilt).contains("error"), "{}", text(&rebuilt));
    let status = repo.xtask(&["status"]);
    assert!(common::stdout(&status).contains("current"), "{}", text(&status));
}

/// A revocation reaches the hook: committing the lock that `revoke` wrote
/// lints every deployment, and one that boots the image stops the commit
/// with the reason.
#[test]
fn a_commit_of_a_revocation_is_stopped_by_the_deployments_that_boot_the_image() {
    let fixture = common::fixtures().join("deployment-rules/revoked-image");
    let read = |rel: &str| fs::read_to_string(fixture.join(rel)).unwrap();
    let lock = read("packer/images.lock");
    let at = lock.find(",\n          \"revoked\"").expect("the fixture's lock revokes its image");
    let end = at + lock[at..].find('}').unwrap() + 1;
    let unrevoked = format!("{}{}", &lock[..at], &lock[end..]);
    let repo = Repo::with_files(&[
        ("xtask.toml", &read("xtask.toml")),
        ("packer/3.11/aws/machine-image/template.json", &read("packer/3.11/aws/machine-image/template.json")),
        ("packer/images.lock", &unrevoked),
        ("deployments/frankfurt.yaml", &read("deployments/frankfurt.yaml")),
    ]);
    let root = repo.path.to_str().unwrap().to_owned();
    let revoked =
        repo.xtask(&["revoke", "ami-0123456789abcdef0", "--reason", "CVE-2026-1234 in the kernel", "--root", &root]);
    assert!(revoked.status.success(), "{}", text(&revoked));
    repo.git(&["add", "packer/images.lock"]);
    let commit = repo.commit("revoke ami-0123456789abcdef0");
    assert!(!commit.status.success(), "the commit went through:\n{}", text(&commit));
    assert!(
        text(&commit).contains("revoked-image") && text(&commit).contains("CVE-2026-1234 in the kernel"),
        "{}",
        text(&commit)
    );
    assert!(text(&commit).contains("deployments/frankfurt.yaml"), "{}", text(&commit));
}

/// The hook judges staged templates against `--packer-version` as
/// lint-templates does: the file provisioner's `content` arrived in 1.7.5.
#[test]
fn the_staged_templates_are_judged_against_the_packer_version_given() {
    let repo = Repo::new();
    let uploads = TEMPLATE.replace(
        r#""provisioners": ["#,
        r#""provisioners": [{ "type": "file", "content": "x", "destination": "/tmp/x" },"#,
    );
    repo.write("packer/3.11/aws/machine-image/template.json", &uploads);
    repo.git(&["add", "-A"]);
    let old = repo.xtask(&["pre-commit", "--packer-version", "1.6.6"]);
    assert!(!old.status.success(), "{}", text(&old));
    assert!(text(&old).contains("`content` is not a key of the file provisioner in Packer 1.6.6 (--packer-version)"));
    let today = repo.xtask(&["pre-commit", "--packer-version", "1.16.0"]);
    assert!(today.status.success(), "{}", text(&today));
}

/// `pre-commit` takes the selection every command takes: `--release`,
/// `--cloud`, `--image` and paths narrow what is staged, and a filter that
/// matches no template is refused, as everywhere.
#[test]
fn the_selection_narrows_what_is_staged() {
    let repo = Repo::with_files(&[
        ("packer/3.11/aws/machine-image/template.json", TEMPLATE),
        ("packer/3.11/aws/machine-image/scripts/install.sh", "sudo yum -y update\n"),
        ("packer/4.0/aws/machine-image/template.json", TEMPLATE),
        ("deployments/frankfurt.yaml", DEPLOYMENT),
    ]);
    repo.write("packer/3.11/aws/machine-image/template.json", &broken_template());
    repo.git(&["add", "-A"]);
    let code = |args: &[&str]| {
        let output = repo.xtask(&[&["pre-commit"], args].concat());
        (output.status.code(), text(&output))
    };
    let (refused, said) = code(&[]);
    assert_eq!(refused, Some(1), "{said}");
    for narrowed in [&["--release", "4.0"][..], &["--image", "machine-image", "packer/4.0"], &["deployments"]] {
        let (status, said) = code(narrowed);
        assert_eq!(status, Some(0), "{narrowed:?} left the broken template in: {said}");
    }
    for kept in [&["--release", "3.11"][..], &["packer/3.11"], &["packer/3.11/aws/machine-image/scripts"]] {
        let (status, said) = code(kept);
        assert_eq!(status, Some(1), "{kept:?}: {said}");
        assert!(said.contains("error[PKR201]"), "{kept:?}: {said}");
    }
    let (status, said) = code(&["--cloud", "gce"]);
    assert_eq!(status, Some(2), "a cloud with no template is refused: {said}");
    assert!(said.contains("no template matches --cloud gce; the releases here: 3.11, 4.0"), "{said}");
    let (missing, said) = code(&["packer/9.9"]);
    assert_eq!(missing, Some(2), "{said}");

    // Nothing to check: the hook says nothing, a person who narrowed the
    // check is told that nothing was checked.
    repo.git(&["commit", "-q", "--no-verify", "-m", "everything"]);
    assert_eq!(code(&[]), (Some(0), String::new()), "the hook with nothing staged");
    let (status, said) = code(&["--release", "4.0"]);
    assert_eq!(status, Some(0), "{said}");
    assert!(said.contains("Nothing is staged under packer/ or deployments/: nothing checked."), "{said}");
    repo.write("packer/3.11/aws/machine-image/scripts/install.sh", "sudo yum -y upgrade\n");
    repo.git(&["add", "-A"]);
    let (status, said) = code(&["--release", "4.0"]);
    assert_eq!(status, Some(0), "{said}");
    assert!(said.contains("No staged template or deployment is in the selection: nothing checked."), "{said}");
}

/// A path naming a staged symlink to a deployment selects the link, which
/// the index holds as a file of its own, not the file it leads to.
#[test]
fn a_path_to_a_staged_symlink_names_the_link() {
    let repo = Repo::new();
    std::os::unix::fs::symlink("frankfurt.yaml", repo.path.join("deployments/link.yaml")).unwrap();
    repo.git(&["add", "deployments/link.yaml"]);
    let all = repo.xtask(&["pre-commit"]);
    assert_eq!(all.status.code(), Some(1), "{}", text(&all));
    assert!(text(&all).contains("--> deployments/link.yaml"), "{}", text(&all));
    let named = repo.xtask(&["pre-commit", "deployments/link.yaml"]);
    assert_eq!(named.status.code(), Some(1), "the link went unlinted: {}", text(&named));
    assert!(text(&named).contains("--> deployments/link.yaml"), "{}", text(&named));
}

/// Diagnostics name files from the folder the person stands in; `--root`
/// from outside the repository names them from its top; JSON keeps them
/// root-relative wherever it runs.
#[test]
fn paths_are_shown_from_the_current_folder() {
    let repo = Repo::new();
    repo.write("packer/3.11/aws/machine-image/template.json", &broken_template());
    repo.git(&["add", "-A"]);
    let run = |dir: &Path, args: &[&str]| {
        let mut command = repo.command(env!("CARGO_BIN_EXE_xtask"), &[&["pre-commit"], args].concat());
        command.current_dir(dir);
        text(&command.output().unwrap())
    };
    let release = repo.path.join("packer/3.11");
    let said = run(&release, &[]);
    assert!(said.contains("--> aws/machine-image/template.json:10:"), "{said}");
    let said = run(&repo.path.join("deployments"), &[]);
    assert!(said.contains("--> ../packer/3.11/aws/machine-image/template.json:10:"), "{said}");
    let outside = repo.path.parent().unwrap();
    let said = run(outside, &["--root", repo.path.to_str().unwrap()]);
    assert!(said.contains("--> packer/3.11/aws/machine-image/template.json:10:"), "{said}");
    let said = run(&release, &["--format", "json"]);
    assert!(said.contains("\"path\": \"packer/3.11/aws/machine-image/template.json\""), "{said}");
    let said = run(&release, &["--format", "github"]);
    assert!(said.contains("file=packer/3.11/aws/machine-image/template.json"), "{said}");
}

/// A selection names what is staged, deletions included: after `git rm -r
/// packer/3.9`, `--release 3.9` checks the deployments that removal leaves
/// without a template, and the removed folder is a path it takes.
#[test]
fn a_selection_may_name_a_staged_deletion() {
    let repo = Repo::with_files(&[
        ("packer/3.9/aws/machine-image/template.json", TEMPLATE),
        ("packer/3.11/aws/machine-image/template.json", TEMPLATE),
        ("deployments/frankfurt.yaml", DEPLOYMENT),
        ("deployments/older.yaml", &DEPLOYMENT.replace("3.11", "3.9")),
    ]);
    repo.git(&["rm", "-r", "-q", "packer/3.9"]);
    let run = |args: &[&str]| {
        let output = repo.xtask(&[&["pre-commit"], args].concat());
        (output.status.code(), text(&output))
    };
    let (status, said) = run(&["--release", "3.9"]);
    assert_eq!(status, Some(1), "the 3.9 deployment has no template now: {said}");
    assert!(said.contains("older.yaml"), "{said}");
    assert!(!said.contains("frankfurt.yaml"), "3.11 is outside the selection: {said}");
    let (status, said) = run(&["packer/3.9"]);
    assert_ne!(status, Some(2), "a path of a staged deletion is taken: {said}");
    let (status, said) = run(&["packer/3.8"]);
    assert_eq!(status, Some(2), "{said}");
    assert!(said.contains("`packer/3.8` does not exist, and no staged change is at or below it"), "{said}");
    let (status, said) = run(&["packer/3.9/../../../elsewhere"]);
    assert_eq!(status, Some(2), "{said}");
    let (status, said) = run(&["--release", "3.8"]);
    assert_eq!(status, Some(2), "a release neither here nor staged: {said}");
}
