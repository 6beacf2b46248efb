//! Helpers shared by the end-to-end suites.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's top folder.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn fixtures() -> PathBuf {
    workspace().join("tests/fixtures")
}

/// `../shared/corpus`, when this checkout has it beside it.
pub fn corpus() -> Option<PathBuf> {
    let dir = workspace().join("../shared/corpus");
    dir.is_dir().then_some(dir)
}

/// Runs the xtask binary with `args`.
pub fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).env("NO_COLOR", "1").output().expect("the xtask binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
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

/// The packer executable: $PACKER, else `packer` on PATH. Fails the test
/// when there is none, saying how to get it.
pub fn packer() -> PathBuf {
    let on_path =
        || std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join("packer")).find(|path| path.is_file());
    std::env::var_os("PACKER").map(PathBuf::from).or_else(on_path).expect(
        "packer was not found: run `.ci/test`, which installs Debian's packer package, or `apt-get install -y packer`",
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
