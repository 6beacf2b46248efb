//! Running the real Packer: finding it, `validate`, and `build` with its
//! machine-readable stream turned into events and artifacts. What the
//! image IDs in those artifacts look like is [`crate::image_id`]'s.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};

/// How to get Packer, for every message that says it is missing.
pub const INSTALL_HINT: &str =
    "install Debian's package (`apt-get update && apt-get install -y packer`), or pass --packer PATH, or set PACKER";

/// Finds the packer executable: `--packer`, then `$PACKER`, then `PATH`.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        if path.is_file() {
            // Packer runs in each template's folder: a relative path must
            // not be taken from there.
            return Ok(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
        }
        bail!("--packer {} is not a file; {INSTALL_HINT}", path.display());
    }
    if let Some(path) = std::env::var_os("PACKER").filter(|value| !value.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(std::path::absolute(&path).unwrap_or(path));
        }
        bail!("PACKER={} is not a file; {INSTALL_HINT}", path.display());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("packer"))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("packer was not found on PATH; {INSTALL_HINT}"))
}

/// The environment variables naming Packer's folders, for every Packer
/// xtask starts: Packer takes a relative `PACKER_PLUGIN_PATH` or
/// `PACKER_CONFIG_DIR` from its own working folder, and xtask runs it in
/// each template's folder, so one exported relative to where `images` runs
/// would name another folder per template (the pins installed in one, the
/// build looking in another). Each relative one is passed made absolute
/// from here; several folders (`a:b`) are left for Packer to refuse.
pub fn folder_environment() -> Vec<(&'static str, PathBuf)> {
    ["PACKER_PLUGIN_PATH", "PACKER_CONFIG_DIR"]
        .into_iter()
        .filter_map(|name| {
            let path = PathBuf::from(std::env::var_os(name).filter(|value| !value.is_empty())?);
            if path.is_absolute() || path.as_os_str().as_encoded_bytes().contains(&b':') {
                return None;
            }
            Some((name, std::path::absolute(&path).ok()?))
        })
        .collect()
}

/// `1.6.6`, from `packer version`.
pub fn version(packer: &Path) -> Result<String> {
    let output = Command::new(packer)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {} version", packer.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    match parse_version(&text) {
        Some(version) if output.status.success() => Ok(version),
        _ => bail!(
            "`{} version` did not say which Packer it is (it printed {:?}, and Packer prints `Packer vX.Y.Z`); \
             point --packer or PACKER at Packer itself",
            packer.display(),
            text.trim().chars().take(200).collect::<String>()
        ),
    }
}

/// The version in `packer version`'s output: its `Packer vX.Y.Z` line
/// (command/version.go, the same at v1.6.6 and v1.16.0), which a build
/// with a commit compiled in follows with ` (<commit>)` and a pre-release
/// marks `-dev`; the lines after it (an out-of-date notice naming the
/// latest release) are not read.
pub fn parse_version(output: &str) -> Option<String> {
    let line = output.lines().map(str::trim).find(|line| line.starts_with("Packer v"))?;
    let version = line["Packer v".len()..].split_whitespace().next()?;
    let core = version.split(['-', '+']).next()?;
    let numbers: Vec<&str> = core.split('.').collect();
    // It goes into the lock and a leg's result as it is: go-version's
    // characters only, as short as a merge takes it.
    let well_formed = numbers.len() == 3
        && numbers.iter().all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && version.len() <= 32
        && version.bytes().all(|b| b.is_ascii_alphanumeric() || b".-+".contains(&b));
    well_formed.then(|| version.to_owned())
}

/// Whether a Packer version (`1.16.0`, `1.10.0-dev`) is `minimum` or later.
/// A pre-release counts as its release: `1.10.0-dev` has 1.10's commands.
pub fn at_least(version: &str, minimum: crate::version::Version) -> bool {
    let numbers: Vec<u64> =
        version.split(['-', '+']).next().unwrap_or_default().split('.').map(|n| n.parse().unwrap_or(0)).collect();
    numbers[..] >= [minimum.0, minimum.1, minimum.2].map(u64::from)[..]
}

/// [`version`], remembered in the root's `target/xtask/` for as long as the
/// executable's size and modification time stay the same: every Packer
/// start-up counts when a build takes seconds, and the linter asks it on
/// every commit the hook checks. Only under a root that has a `target/`
/// folder (cargo makes it for `cargo xtask`): a tree linted with `--root`
/// is not given one.
pub fn version_cached(packer: &Path, root: &Path) -> Result<String> {
    // Asked once per run whatever the number of templates that need it.
    static ASKED: std::sync::Mutex<BTreeMap<PathBuf, String>> = std::sync::Mutex::new(BTreeMap::new());
    if let Some(version) = ASKED.lock().expect("version memo").get(packer) {
        return Ok(version.clone());
    }
    let version = version_cached_on_disk(packer, root)?;
    ASKED.lock().expect("version memo").insert(packer.to_path_buf(), version.clone());
    Ok(version)
}

fn version_cached_on_disk(packer: &Path, root: &Path) -> Result<String> {
    if !remembers_its_version(packer) {
        return version(packer);
    }
    let real = std::fs::canonicalize(packer).with_context(|| format!("reading {}", packer.display()))?;
    let metadata = std::fs::metadata(&real).with_context(|| format!("reading {}", real.display()))?;
    let modified = metadata.modified().ok().and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok());
    let key = format!("{}\t{}\t{}", real.display(), metadata.len(), modified.map_or(0, |time| time.as_nanos()));
    let cache = root.join("target/xtask/packer-version");
    // Only a regular file: a FIFO there would wait for a writer forever.
    if let Ok(bytes) = crate::fsutil::read_regular(&cache, 4096)
        && let Ok(text) = String::from_utf8(bytes)
        && let Some((cached_key, version)) = text.rsplit_once('\n')
        && cached_key == key
    {
        return Ok(version.to_owned());
    }
    let version = version(packer)?;
    // A cache that cannot be written safely is only a slower next run.
    if root.join("target").is_dir()
        && let Ok(cache) = crate::protected::Protected::of(root).check(&cache)
        && let Some(folder) = cache.parent()
        && std::fs::create_dir_all(folder).is_ok()
    {
        let _ = crate::fsutil::write_atomic(&cache, format!("{key}\n{version}").as_bytes());
    }
    Ok(version)
}

/// Whether `packer` is Packer itself, whose version stays with the file:
/// a file named `packer…` once links are followed, and not a script. A
/// version manager's shim (asdf's script, mise's link to mise) stays the
/// same file whichever Packer it runs.
fn remembers_its_version(packer: &Path) -> bool {
    let Ok(real) = std::fs::canonicalize(packer) else { return false };
    let named_packer = real.file_name().is_some_and(|name| name.to_string_lossy().starts_with("packer"));
    let mut start = [0u8; 2];
    let script = std::fs::File::open(&real)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut start))
        .map_or(true, |()| &start == b"#!");
    named_packer && !script
}

/// Arguments that select builders and set variables, shared by validate and
/// build. Variables reach Packer in var files only, never as `-var`, which
/// would show their values to every local user (`/proc/PID/cmdline`).
#[derive(Clone, Debug, Default)]
pub struct BuildArgs {
    /// What to build: `template.json`, or `.` for an HCL2 folder.
    pub target: String,
    pub only: Vec<String>,
    pub var_files: Vec<PathBuf>,
    /// The private var file of the `--var` values, given last so that it
    /// wins as `-var` would (`crate::private_vars`), and their names.
    pub private_vars: Option<(PathBuf, Vec<String>)>,
}

impl BuildArgs {
    /// The arguments as a log shows them: the private var file with the
    /// names of the variables it sets.
    pub fn shown(&self) -> String {
        let mut shown: Vec<String> = self.to_args().iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
        if let Some((_, names)) = &self.private_vars {
            let at = shown.len() - 2;
            shown[at] = format!("<private var file: {}>", names.join(", "));
        }
        shown.join(" ")
    }

    fn to_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if !self.only.is_empty() {
            args.push(format!("-only={}", self.only.join(",")).into());
        }
        for file in self.var_files.iter().chain(self.private_vars.as_ref().map(|(file, _)| file)) {
            args.push("-var-file".into());
            args.push(file.as_os_str().to_owned());
        }
        args.push(self.target.clone().into());
        args
    }
}

/// `packer validate` in the template's folder. On failure, Packer's output.
pub fn validate(packer: &Path, dir: &Path, args: &BuildArgs) -> Result<Result<(), String>> {
    let output = Command::new(packer)
        .arg("validate")
        .args(args.to_args())
        .current_dir(dir)
        .envs(folder_environment())
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {} validate in {}", packer.display(), dir.display()))?;
    if output.status.success() {
        return Ok(Ok(()));
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Ok(Err(text.trim().to_owned()))
}

/// A running `packer build`, in a process group of its own so that an
/// interrupt can reach Packer's worker child too (Packer 1.6 ignores a
/// SIGINT sent to its own pid alone).
///
/// Packer writes into files, not pipes, and xtask follows them. Were xtask
/// killed with a pipe as Packer's output, Packer would die of SIGPIPE on its
/// next line, before it could terminate the instance and delete the key
/// pair and security group it made. The files are unlinked as soon as both
/// ends hold them open, so nothing stays on disk, whatever ends first.
pub struct Build {
    child: Child,
    stdout: Follower,
    stderr: Follower,
}

impl Build {
    /// Starts the build in `dir`; `scratch` is a folder for its output
    /// files while they are being opened.
    pub fn start(packer: &Path, dir: &Path, args: &BuildArgs, scratch: &Path) -> Result<Build> {
        use std::os::unix::process::CommandExt;
        let (stdout_writer, stdout) = Follower::create(scratch, "stdout")?;
        let (stderr_writer, stderr) = Follower::create(scratch, "stderr")?;
        let child = Command::new(packer)
            .arg("build")
            .arg("-machine-readable")
            .arg("-color=false")
            .args(args.to_args())
            .current_dir(dir)
            .envs(folder_environment())
            .env("PACKER_NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(stdout_writer)
            .stderr(stderr_writer)
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {} build in {}", packer.display(), dir.display()))?;
        Ok(Build { child, stdout, stderr })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Hands over every line Packer writes, as it comes, until Packer has
    /// exited and all it wrote is read; standard error comes as plain lines.
    /// Returns whether the build succeeded.
    pub fn run(mut self, mut on_line: impl FnMut(Line)) -> Result<bool> {
        let parse = |line: String| match Record::parse(&line) {
            Some(record) => Line::Record(record, line),
            None => Line::Other(line),
        };
        loop {
            let exited = self.child.try_wait().context("waiting for packer")?;
            // Read after the exit check, so that nothing written before the
            // exit is missed.
            let mut read = self.stdout.poll(&mut |line| on_line(parse(line))).context("reading packer's output")?;
            read +=
                self.stderr.poll(&mut |line| on_line(Line::Other(line))).context("reading packer's error output")?;
            if let Some(status) = exited {
                self.stdout.finish(&mut |line| on_line(parse(line)));
                self.stderr.finish(&mut |line| on_line(Line::Other(line)));
                return Ok(status.success());
            }
            if read == 0 {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

/// One of Packer's output files, followed as it grows.
struct Follower {
    file: File,
    /// A line begun but not yet ended.
    partial: Vec<u8>,
}

impl Follower {
    /// Makes the file Packer writes to and the handle xtask reads it with,
    /// then unlinks it.
    fn create(scratch: &Path, stream: &str) -> Result<(File, Follower)> {
        let path = scratch.join(format!(".packer-{stream}-{}-{}", std::process::id(), unique()));
        // Only this user may read it: Packer's output can hold secrets
        // until xtask has hidden them.
        let writer = crate::fsutil::create_new(&path, 0o600).with_context(|| format!("creating {}", path.display()))?;
        let reader = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let _ = std::fs::remove_file(&path);
        Ok((writer, Follower { file: reader, partial: Vec::new() }))
    }

    /// Reads what has been written since the last call and hands over each
    /// complete line; returns how many bytes it read.
    fn poll(&mut self, on_line: &mut impl FnMut(String)) -> std::io::Result<usize> {
        let mut read = 0;
        let mut buffer = [0u8; 8192];
        loop {
            match self.file.read(&mut buffer) {
                Ok(0) => return Ok(read),
                Ok(n) => {
                    read += n;
                    self.partial.extend_from_slice(&buffer[..n]);
                    while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
                        let line: Vec<u8> = self.partial.drain(..=end).collect();
                        on_line(text_of(&line));
                    }
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
    }

    /// Hands over the last line when it has no line end.
    fn finish(&mut self, on_line: &mut impl FnMut(String)) {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            on_line(text_of(&line));
        }
    }
}

/// A line of Packer's output as text: bytes that are not UTF-8 are shown
/// lossily, never an error.
fn text_of(line: &[u8]) -> String {
    let end = line.strip_suffix(b"\n").unwrap_or(line);
    let end = end.strip_suffix(b"\r").unwrap_or(end);
    String::from_utf8_lossy(end).into_owned()
}

/// A number no other output file of this process has had.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Sends SIGINT to a build's whole process group, as a terminal would.
pub fn interrupt(pid: u32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it
    // touches no memory of ours.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGINT);
    }
}

pub enum Line {
    /// A machine-readable record, and the line as Packer wrote it.
    Record(Record, String),
    Other(String),
}

/// One line of `-machine-readable` output: `timestamp,target,type,data…`.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub target: String,
    pub kind: String,
    pub data: Vec<String>,
}

impl Record {
    pub fn parse(line: &str) -> Option<Record> {
        let mut fields = line.split(',');
        let timestamp = fields.next()?;
        if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let target = fields.next()?.to_owned();
        let kind = fields.next()?.to_owned();
        let data = fields.map(unescape).collect();
        Some(Record { target, kind, data })
    }
}

/// The data fields of a machine-readable line as Packer wrote them,
/// escapes and all: what must be searched for secrets before
/// [`unescape`] joins what it split (a `\` before a value's `n`).
pub fn raw_data(line: &str) -> Vec<&str> {
    line.splitn(4, ',').nth(3).map(|data| data.split(',').collect()).unwrap_or_default()
}

/// A field of machine-readable output as text: Packer writes a comma as
/// `%!(PACKER_COMMA)` and line ends as `\n` and `\r`, and escapes nothing
/// else, so a `\n` the text held itself comes back as a line end too.
pub fn unescape(field: &str) -> String {
    field.replace("%!(PACKER_COMMA)", ",").replace("\\n", "\n").replace("\\r", "\r")
}

/// Collects `artifact,N,id,…` records, by builder and then artifact index.
#[derive(Debug, Default)]
pub struct Artifacts {
    ids: BTreeMap<(String, String), String>,
}

impl Artifacts {
    pub fn record(&mut self, record: &Record) {
        if record.kind != "artifact" {
            return;
        }
        if let [index, field, value, ..] = record.data.as_slice()
            && field == "id"
        {
            self.ids.insert((record.target.clone(), index.clone()), value.clone());
        }
    }

    /// Every artifact ID, post-processors' repeats removed.
    pub fn ids(&self) -> Vec<(String, String)> {
        let mut seen = Vec::<(String, String)>::new();
        for ((builder, _), id) in &self.ids {
            let pair = (builder.clone(), id.clone());
            if !seen.contains(&pair) {
                seen.push(pair);
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_id::split_ami_id;

    #[test]
    fn variables_go_in_var_files_and_the_log_names_them() {
        let args = BuildArgs {
            target: ".".to_owned(),
            only: vec!["amazon-ebs.ireland".to_owned()],
            var_files: vec![PathBuf::from("/vars/prod.pkrvars.hcl")],
            private_vars: Some((
                PathBuf::from("/r/target/xtask/private/vars-1-0.json"),
                vec!["token".into(), "size".into()],
            )),
        };
        assert_eq!(
            args.to_args(),
            [
                "-only=amazon-ebs.ireland",
                "-var-file",
                "/vars/prod.pkrvars.hcl",
                "-var-file",
                "/r/target/xtask/private/vars-1-0.json",
                "."
            ]
        );
        assert_eq!(
            args.shown(),
            "-only=amazon-ebs.ireland -var-file /vars/prod.pkrvars.hcl -var-file <private var file: token, size> ."
        );
        let plain = BuildArgs { target: "template.json".to_owned(), ..Default::default() };
        assert_eq!(plain.shown(), "template.json");
    }

    /// A version manager's shim (asdf's is a script, mise's a link to
    /// mise itself) stays the same file whichever Packer it runs: what it
    /// answers is asked each time, never remembered.
    #[test]
    fn a_shims_answer_is_not_remembered() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let chosen = dir.path().join("chosen");
        let shim = dir.path().join("packer");
        std::fs::write(&shim, format!("#!/bin/sh\necho \"Packer v$(cat '{}')\"\n", chosen.display())).unwrap();
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
        let root = dir.path().join("repository");
        std::fs::write(&chosen, "1.16.0").unwrap();
        assert_eq!(version_cached_on_disk(&shim, &root).unwrap(), "1.16.0");
        std::fs::write(&chosen, "1.6.6").unwrap();
        assert_eq!(version_cached_on_disk(&shim, &root).unwrap(), "1.6.6");
        // Packer itself (a binary named packer) is remembered.
        let binary = dir.path().join("bin/packer");
        std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
        std::fs::copy("/bin/echo", &binary).unwrap();
        assert!(remembers_its_version(&binary));
        assert!(!remembers_its_version(&shim));
        let link = dir.path().join("bin/mise-shim");
        std::os::unix::fs::symlink("/bin/echo", dir.path().join("packer-link")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("packer-link"), &link).unwrap();
        assert!(!remembers_its_version(&link), "a link to something not named packer");
    }

    #[test]
    fn version_lines() {
        // command/version.go at v1.6.6 and v1.16.0: the version line, then
        // at most a blank line and an out-of-date notice naming the latest.
        assert_eq!(parse_version("Packer v1.6.6\n").as_deref(), Some("1.6.6"));
        let outdated = "Packer v1.16.0\n\nYour version of Packer is out of date! The latest version\nis 1.17.1. You can \
                        update by downloading from www.packer.io/downloads\n";
        assert_eq!(parse_version(outdated).as_deref(), Some("1.16.0"));
        // The SDK's FormattedVersion adds the commit when one is compiled in.
        assert_eq!(parse_version("Packer v1.16.0-dev (0123abc)\n").as_deref(), Some("1.16.0-dev"));
        // The version goes into the lock and a leg's result, whose merge
        // takes 32 characters of letters, digits, `.`, `-` and `+`.
        for odd in [
            "",
            "packer 1.16.0",
            "Packer vnext",
            "Packer v1.16",
            "is 1.17.1.",
            "Packer v1.16.0-\u{1b}[2J",
            "Packer v1.16.0-dev\u{202e}",
            "Packer v1.16.0-0123456789abcdef0123456789",
        ] {
            assert_eq!(parse_version(odd), None, "{odd:?}");
        }
        use crate::version::Version;
        assert!(at_least("1.16.0", Version(1, 10, 0)));
        assert!(at_least("1.10.0-dev", Version(1, 10, 0)));
        assert!(!at_least("1.9.4", Version(1, 10, 0)));
        assert!(!at_least("1.6.6", Version(1, 7, 0)));
    }

    #[test]
    fn machine_readable_lines() {
        let record = Record::parse("1795787993,frankfurt,artifact,0,id,eu-central-1:ami-31d876b9751527c19%!(PACKER_COMMA)us-east-1:ami-ec644d072e43e2a6c").unwrap();
        assert_eq!(record.target, "frankfurt");
        assert_eq!(record.data[2], "eu-central-1:ami-31d876b9751527c19,us-east-1:ami-ec644d072e43e2a6c");
        assert_eq!(
            split_ami_id(&record.data[2]),
            vec![
                ("eu-central-1".to_owned(), "ami-31d876b9751527c19".to_owned()),
                ("us-east-1".to_owned(), "ami-ec644d072e43e2a6c".to_owned())
            ]
        );
        let ui = Record::parse("1795787993,,ui,say,==> frankfurt: Creating\\n done").unwrap();
        assert_eq!(ui.data[1], "==> frankfurt: Creating\n done");
        assert_eq!(raw_data("1,,ui,say,a\\nb%!(PACKER_COMMA) c"), ["say", "a\\nb%!(PACKER_COMMA) c"]);
        assert!(Record::parse("Error: not machine readable").is_none());
    }

    #[test]
    fn bytes_that_are_not_utf8_do_not_end_the_read() {
        let dir = tempfile::tempdir().unwrap();
        let (mut writer, mut follower) = Follower::create(dir.path(), "stdout").unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "the file is unlinked at once");
        let mut lines = Vec::new();
        std::io::Write::write_all(&mut writer, b"one \xff\xfe\r\n\x80tw").unwrap();
        follower.poll(&mut |line| lines.push(line)).unwrap();
        std::io::Write::write_all(&mut writer, b"o\nlast").unwrap();
        follower.poll(&mut |line| lines.push(line)).unwrap();
        follower.finish(&mut |line| lines.push(line));
        assert_eq!(lines, ["one \u{fffd}\u{fffd}", "\u{fffd}two", "last"]);
    }

    #[test]
    fn artifacts_are_deduplicated() {
        let mut artifacts = Artifacts::default();
        for line in [
            "1,ireland,artifact,0,id,eu-west-1:ami-66aac2f44d51a8d00",
            "1,ireland,artifact,1,id,eu-west-1:ami-66aac2f44d51a8d00",
            "1,ireland,artifact,1,string,AMIs were created",
        ] {
            artifacts.record(&Record::parse(line).unwrap());
        }
        assert_eq!(artifacts.ids(), vec![("ireland".to_owned(), "eu-west-1:ami-66aac2f44d51a8d00".to_owned())]);
    }
}
