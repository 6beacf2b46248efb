//! Helpers shared by the end-to-end suites.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's top folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn fixtures() -> PathBuf {
    workspace().join("tests/fixtures")
}

/// `../shared/corpus`, the real Packer JSON templates the linter is checked
/// against, or `None` (the test skipped, saying so) when it is missing.
pub fn corpus() -> Option<PathBuf> {
    shared_corpus("corpus", "Packer JSON templates")
}

/// `../shared/corpus-hcl2`: folders of real HCL2 templates, each with the
/// file list of the repository it comes from; `None` (the test skipped,
/// saying so) when it is missing.
pub fn corpus_hcl2() -> Option<PathBuf> {
    shared_corpus("corpus-hcl2", "folders of HCL2 templates")
}

/// Set by `.ci/run`: a missing corpus fails the test instead of skipping it.
const REQUIRE_CORPORA: &str = "REQUIRE_SHARED_CORPORA";

/// `../shared/<folder>`: public templates kept beside the checkout, never
/// committed, so a user's clone has none. Then the calling test is skipped:
/// it prints a `skipped:` line, which `.ci/test` counts in its closing
/// summary, and returns having checked nothing. CI has the corpora and sets
/// `REQUIRE_SHARED_CORPORA`, under which a missing folder fails the test:
/// there a skip would be a pass that checked nothing.
fn shared_corpus(folder: &str, holding: &str) -> Option<PathBuf> {
    let dir = workspace().join("../shared").join(folder);
    if dir.is_dir() {
        return Some(dir);
    }
    let beside = workspace().parent().unwrap().join("shared").join(folder);
    let missing = format!(
        "../shared/{folder} is missing ({}): it holds {holding} from public projects, which the repository does \
         not commit; to run this test, put a copy of the project's shared/{folder} folder there (CI has it and \
         runs the test)",
        beside.display()
    );
    assert!(std::env::var_os(REQUIRE_CORPORA).is_none(), "{missing}; {REQUIRE_CORPORA} is set, so it must be there");
    // libtest shows what a test prints only when it fails: written to the
    // process's standard error, the line shows, and `.ci/test` counts it.
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {missing}");
    None
}

/// One `#[test]` per rule fixture, named after the rule (`bad_layout` for
/// `tests/fixtures/<folder>/bad-layout/`), each calling `$check` with the
/// rule's name, so that a failing rule hides no other (ruff's layout). The
/// list is also `$list`, which the suite compares with its rules and its
/// fixture folders ([`assert_fixture_list`]): a rule or a fixture missing
/// from it fails a test that names it. Adding a rule is one line here.
#[allow(unused_macros)]
macro_rules! rule_fixture_tests {
    ($list:ident, $check:ident: $($rule:ident),* $(,)?) => {
        $(
            #[test]
            fn $rule() {
                $check(&stringify!($rule).replace('_', "-"));
            }
        )*
        const $list: &[&str] = &[$(stringify!($rule)),*];
    };
}

/// The fixture tests a suite generates ([`rule_fixture_tests`]) are one per
/// rule of `rules` and one per folder of `tests/fixtures/<folder>`, no more,
/// no fewer.
pub fn assert_fixture_list(tests: &[&str], rules: &[&str], folder: &str) {
    let listed: std::collections::BTreeSet<String> = tests.iter().map(|test| test.replace('_', "-")).collect();
    let rules: std::collections::BTreeSet<String> = rules.iter().map(|rule| rule.to_string()).collect();
    let fixtures: std::collections::BTreeSet<String> =
        std::fs::read_dir(workspace().join("tests/fixtures").join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    let without_test: Vec<&String> = rules.difference(&listed).collect();
    assert!(
        without_test.is_empty(),
        "add a line for these rules to rule_fixture_tests! in this suite: {without_test:?}"
    );
    let without_fixture: Vec<&String> = listed.difference(&fixtures).collect();
    assert!(
        without_fixture.is_empty(),
        "these rules have no fixture: add tests/fixtures/{folder}/<rule>/: {without_fixture:?}"
    );
    let unknown: Vec<&String> = fixtures.difference(&rules).collect();
    assert!(unknown.is_empty(), "tests/fixtures/{folder}/ holds folders no rule is named after: {unknown:?}");
}

/// `if skip_slow_test("…") { return; }` at the top of a slow test.
#[allow(unused_imports)]
pub use xtask::skip_slow_test;

/// Runs the xtask binary with `args`.
pub fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).env("NO_COLOR", "1").output().expect("the xtask binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard output, then standard error, for assertions and their messages.
pub fn text(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes `text` at `root/rel`, creating folders.
pub fn write(root: &Path, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

/// Makes a FIFO at `root/rel`, creating folders: opening it for reading
/// blocks until a writer comes, which none will.
pub fn mkfifo(root: &Path, rel: &str) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
    path
}

/// Runs the xtask binary with `args`, failing the test (rather than hanging
/// it) when it has not finished within `seconds`.
pub fn xtask_within(seconds: u64, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("PACKER", "/nonexistent/packer")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the xtask binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("`xtask {}` did not finish within {seconds} s", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The packer executable: $PACKER, else `packer` on PATH. Fails the test
/// when there is none, saying how to get it.
pub fn packer() -> PathBuf {
    let on_path =
        || std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join("packer")).find(|path| path.is_file());
    std::env::var_os("PACKER").map(PathBuf::from).or_else(on_path).expect(
        "packer was not found: run `.ci/test`, which installs Debian's packer package, or `apt-get install -y packer`",
    )
}

/// The AWS CLI: `$AWS_CLI`, then the virtualenv `.ci/test` makes, then
/// `PATH`. Fails the test, saying how to get it, when there is none.
pub fn aws_cli() -> PathBuf {
    let venv = workspace().join("target/e2e-venv/bin/aws");
    let on_path =
        || std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join("aws")).find(|path| path.is_file());
    std::env::var_os("AWS_CLI").map(PathBuf::from).or_else(|| venv.is_file().then_some(venv)).or_else(on_path).expect(
        "the AWS CLI was not found: run `.ci/test`, which installs awscli==1.46.3 into target/e2e-venv, or `pip \
             install awscli==1.46.3` and set AWS_CLI to its `aws`",
    )
}

/// `packer validate FILE` run in the file's folder: (success, stdout and stderr).
pub fn packer_validate(packer: &Path, file: &Path) -> (bool, String) {
    let output = Command::new(packer)
        .arg("validate")
        .arg(file.file_name().unwrap())
        .current_dir(file.parent().unwrap())
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("packer runs");
    (output.status.success(), format!("{}{}", stdout(&output), stderr(&output)))
}

/// Checks SARIF logs against the official SARIF 2.1.0 JSON schema, with
/// Python's `jsonschema` (the schema cannot be fetched from here): both come
/// from the virtualenv `.ci/test` makes under `target/sarif-venv`, or from
/// `SARIF_PYTHON` and `SARIF_SCHEMA`. Fails the test, saying how to get
/// them, when they are missing.
pub fn assert_valid_sarif(logs: &[(String, String)]) {
    let venv = workspace().join("target/sarif-venv");
    let python = std::env::var_os("SARIF_PYTHON").map_or_else(|| venv.join("bin/python"), PathBuf::from);
    let schema = std::env::var_os("SARIF_SCHEMA").map_or_else(|| venv.join("sarif-schema-2.1.0.json"), PathBuf::from);
    assert!(
        python.is_file() && schema.is_file(),
        "{} or {} is missing: run .ci/test, which installs jsonschema and the SARIF 2.1.0 schema (from the \
         sarif-pydantic 0.6.2 sdist on PyPI) into target/sarif-venv, or set SARIF_PYTHON to a Python with \
         jsonschema and SARIF_SCHEMA to sarif-schema-2.1.0.json",
        python.display(),
        schema.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![schema.to_str().unwrap().to_owned()];
    for (at, (name, log)) in logs.iter().enumerate() {
        let path = dir.path().join(format!("{at}.sarif"));
        std::fs::write(&path, log).unwrap();
        args.push(format!("{name}={}", path.display()));
    }
    let script = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
bad = 0
for arg in sys.argv[2:]:
    name, path = arg.rsplit("=", 1)
    for error in validator.iter_errors(json.load(open(path))):
        bad += 1
        print(f"{name}: {'/'.join(map(str, error.absolute_path))}: {error.message}")
sys.exit(1 if bad else 0)
"#;
    let output = Command::new(&python).arg("-c").arg(script).args(&args).output().expect("python runs");
    assert!(output.status.success(), "invalid SARIF:\n{}{}", stdout(&output), stderr(&output));
}

/// Answers like Packer 1.6.6 for `version`, `validate` and `build
/// -machine-readable`: one artifact per `region` of the template (JSON or
/// HCL2; of the builders `-only` names, each named after its region), each
/// ID made of the clock's nanoseconds, so IDs only ever grow. With
/// STANDIN_REFUSE_BUILD set, a build fails: the follow-up run must not need
/// one.
pub const STAND_IN: &str = r#"#!/bin/sh
case "$1" in
  version) echo "Packer v1.6.6" ;;
  validate) echo "The configuration is valid." ;;
  build)
    if [ -n "$STANDIN_REFUSE_BUILD" ]; then echo "the stand-in was asked to build" >&2; exit 1; fi
    if [ -n "$STANDIN_DURING" ]; then sh -c "$STANDIN_DURING"; fi
    only=$(printf '%s\n' "$@" | sed -n 's/^-only=//p')
    for region in $(cat template.json *.pkr.hcl 2>/dev/null | grep -o 'region"\{0,1\} *[:=] *"[a-z0-9-]*"' | sed 's/.*"\([a-z0-9-]*\)"$/\1/'); do
      case ",$only," in ,,|*",$region,"*) ;; *) continue ;; esac
      echo "$(date +%s),$region,ui,say,building $region"
      id=$(printf 'ami-%017x' "$(date +%s%N)")
      echo "$(date +%s),$region,artifact,0,id,$region:$id"
    done ;;
  *) echo "stand-in packer: unexpected $*" >&2; exit 1 ;;
esac
"#;

/// Writes the stand-in Packer as `bin/packer` under `root`, executable.
pub fn stand_in_packer(root: &Path) -> PathBuf {
    let packer = write(root, "bin/packer", STAND_IN);
    std::fs::set_permissions(&packer, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    packer
}

/// A small deterministic generator (xorshift64*), so that a failing case can
/// be replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn ami(&mut self) -> String {
        let digits = if self.chance(50) { 8 } else { 17 };
        let hex: String = (0..digits).map(|_| char::from(b"0123456789abcdef"[self.below(16)])).collect();
        format!("ami-{hex}")
    }
}
