//! `cargo xtask bench`: the speed goals, measured side by side on generated
//! trees and printed as figures (never asserted in a test).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::moto::Moto;
use crate::packer;

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Result<Scratch> {
        let path = crate::fsutil::fresh_private_folder(&std::env::temp_dir(), &format!("xtask-bench-{name}"))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::create_dir_all(path.parent().context("a file has a folder")?)?;
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Runs a command to completion and returns its wall time; fails when the
/// command does.
fn timed(command: &mut Command) -> Result<Duration> {
    timed_exit(command, 0)
}

/// [`timed`] for a command expected to exit with `code` (a linter that
/// finds problems exits 1).
fn timed_exit(command: &mut Command, code: i32) -> Result<Duration> {
    let started = Instant::now();
    let status =
        command.stdout(Stdio::null()).stderr(Stdio::null()).status().with_context(|| format!("running {command:?}"))?;
    let elapsed = started.elapsed();
    if status.code() != Some(code) {
        bail!("{command:?} exited with {status}");
    }
    Ok(elapsed)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn repeat(times: usize, mut run: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    run()?; // warm-up: page cache, dynamic linker
    Ok(median((0..times).map(|_| run()).collect::<Result<Vec<_>>>()?))
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// A realistic template: two regions, a script, variables.
fn sample_template(i: usize) -> String {
    format!(
        r#"{{
  "description": "Generated benchmark template {i}",
  "variables": {{
    "aws_access_key": "{{{{env `TF_VAR_aws_access_key`}}}}",
    "aws_secret_key": "{{{{env `TF_VAR_aws_secret_key`}}}}",
    "instance_type": "t2.micro",
    "image_name": "bench-{i}"
  }},
  "sensitive-variables": ["aws_access_key", "aws_secret_key"],
  "builders": [
    {{
      "type": "amazon-ebs", "name": "frankfurt", "region": "eu-central-1",
      "access_key": "{{{{user `aws_access_key`}}}}", "secret_key": "{{{{user `aws_secret_key`}}}}",
      "source_ami": "ami-dd3c0f36", "instance_type": "{{{{user `instance_type`}}}}", "ssh_username": "centos",
      "ami_name": "{{{{user `image_name`}}}}-{{{{timestamp}}}}"
    }},
    {{
      "type": "amazon-ebs", "name": "ireland", "region": "eu-west-1",
      "access_key": "{{{{user `aws_access_key`}}}}", "secret_key": "{{{{user `aws_secret_key`}}}}",
      "source_ami": "ami-3548444c", "instance_type": "{{{{user `instance_type`}}}}", "ssh_username": "centos",
      "ami_name": "{{{{user `image_name`}}}}-{{{{timestamp}}}}"
    }}
  ],
  "provisioners": [
    {{ "type": "shell", "script": "scripts/install.sh" }},
    {{ "type": "shell", "inline": ["sudo yum -y install docker-1.13.1", "sudo systemctl enable docker"] }}
  ],
  "post-processors": [ {{ "type": "manifest", "output": "manifest.json" }} ]
}}
"#
    )
}

/// The same template as HCL2, in three files as people split them.
fn sample_hcl2(i: usize) -> [(&'static str, String); 3] {
    let variables = format!(
        r#"variable "aws_access_key" {{
  type      = string
  default   = env("TF_VAR_aws_access_key")
  sensitive = true
}}

variable "aws_secret_key" {{
  type      = string
  default   = env("TF_VAR_aws_secret_key")
  sensitive = true
}}

variable "instance_type" {{
  type    = string
  default = "t2.micro"
}}

variable "image_name" {{
  type    = string
  default = "bench-{i}"
}}
"#
    );
    let source = |name: &str, region: &str, ami: &str| {
        format!(
            r#"source "amazon-ebs" "{name}" {{
  access_key    = var.aws_access_key
  secret_key    = var.aws_secret_key
  region        = "{region}"
  source_ami    = "{ami}"
  instance_type = var.instance_type
  ssh_username  = "centos"
  ami_name      = "${{var.image_name}}-${{formatdate("YYYYMMDDhhmmss", timestamp())}}"
}}
"#
        )
    };
    let sources = format!(
        "// Generated benchmark template {i}\n{}\n{}",
        source("frankfurt", "eu-central-1", "ami-dd3c0f36"),
        source("ireland", "eu-west-1", "ami-3548444c")
    );
    let build = r#"build {
  sources = ["source.amazon-ebs.frankfurt", "source.amazon-ebs.ireland"]

  provisioner "shell" {
    script = "${path.root}/scripts/install.sh"
  }

  provisioner "shell" {
    inline = ["sudo yum -y install docker-1.13.1", "sudo systemctl enable docker"]
  }

  post-processor "manifest" {
    output = "manifest.json"
  }
}
"#
    .to_owned();
    [("variables.pkr.hcl", variables), ("sources.pkr.hcl", sources), ("build.pkr.hcl", build)]
}

/// `bench lint-templates`: the linter against `packer validate -syntax-only`
/// on each template, and against reading the same files with `cat`; JSON
/// templates, or HCL2 folders of three files each.
pub fn lint_templates(count: usize, packer_path: Option<&Path>, hcl2: bool) -> Result<ExitCode> {
    let scratch = Scratch::new("lint")?;
    let root = &scratch.0;
    let mut folders = Vec::new();
    let mut files = Vec::new();
    for i in 0..count {
        let dir = root.join(format!("packer/3.{}/aws/image-{i}-image", i % 12));
        if hcl2 {
            for (name, text) in sample_hcl2(i) {
                write(&dir.join(name), &text)?;
                files.push(dir.join(name));
            }
        } else {
            write(&dir.join("template.json"), &sample_template(i))?;
            files.push(dir.join("template.json"));
        }
        write(&dir.join("scripts/install.sh"), "#!/bin/sh\nsudo yum -y update\n")?;
        folders.push(dir);
    }
    let xtask = std::env::current_exe()?;
    let what = if hcl2 { "HCL2 template folders" } else { "templates" };
    say!("Generated {count} {what} in {}; timing…", root.display());
    let lint = repeat(10, || timed(Command::new(&xtask).args(["lint-templates", "--root"]).arg(root)))?;
    let cat = repeat(10, || timed(Command::new("cat").args(&files)))?;
    let packer_path = packer::find(packer_path)?;
    let target = if hcl2 { "." } else { "template.json" };
    let started = Instant::now();
    for dir in &folders {
        let status = Command::new(&packer_path)
            .args(["validate", "-syntax-only", target])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("packer validate -syntax-only failed on {}", dir.display());
        }
    }
    let validate = started.elapsed();
    show_line!("lint-templates on {count} generated {what} (median of 10 runs; packer once):");
    show_line!("  cargo xtask lint-templates (binary)      {}", ms(lint));
    show_line!("  cat of the same files                     {}  -> xtask takes {:.1}x cat", ms(cat), ratio(lint, cat));
    show_line!(
        "  packer validate -syntax-only, each        {}  -> xtask is {:.0}x faster",
        ms(validate),
        ratio(validate, lint)
    );
    Ok(ExitCode::SUCCESS)
}

/// `bench findings`: one template with `count` findings, half unknown
/// top-level keys and half uses of undeclared variables (a hundred to a
/// string), linted in each output format. Placing findings used to cost a
/// scan of the file each, quadratic in their number.
pub fn findings(count: usize) -> Result<ExitCode> {
    let scratch = Scratch::new("findings")?;
    let root = &scratch.0;
    let keys = count / 2;
    let uses = count - keys;
    let mut template = String::from("{\n");
    for i in 0..keys {
        template.push_str(&format!("  \"unknown_section_{i}\": \"value {i}\",\n"));
    }
    let mut tags = Vec::new();
    for string in 0..uses.div_ceil(100) {
        let here = (uses - string * 100).min(100);
        let text: Vec<String> = (0..here).map(|i| format!("{{{{user `undeclared_{}`}}}}", i % 7)).collect();
        tags.push(format!("        \"tag_{string}\": \"{}\"", text.join(" ")));
    }
    template.push_str(&format!(
        r#"  "builders": [
    {{
      "type": "null", "communicator": "none",
      "run_tags": {{
{}
      }}
    }}
  ]
}}
"#,
        tags.join(",\n")
    ));
    write(&root.join("packer/3.11/aws/machine-image/template.json"), &template)?;
    let xtask = std::env::current_exe()?;
    say!(
        "Generated a {:.0} KiB template with {count} findings in {}; timing…",
        template.len() as f64 / 1024.0,
        root.display()
    );
    show_line!(
        "lint-templates on one {:.0} KiB template with {keys} unknown keys and {uses} undeclared-variable uses (median of 5):",
        template.len() as f64 / 1024.0
    );
    for format in ["human", "json", "github"] {
        let time = repeat(5, || {
            timed_exit(Command::new(&xtask).args(["lint-templates", "--format", format, "--root"]).arg(root), 1)
        })?;
        show_line!(
            "  --format {format:<6}  {:>10}  ({:.1} µs a finding)",
            ms(time),
            time.as_secs_f64() * 1e6 / count as f64
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// `provisioning_seconds` of `sleep` in a shell-local provisioner stands in
/// for the minutes a real build waits on its instance.
fn moto_template(region: &str, provisioning_seconds: u32) -> String {
    let provisioners = if provisioning_seconds == 0 {
        String::new()
    } else {
        format!(
            r#",
  "provisioners": [ {{ "type": "shell-local", "inline": ["sleep {provisioning_seconds}"] }} ]"#
        )
    };
    format!(
        r#"{{
  "variables": {{ "endpoint": "" }},
  "builders": [
    {{
      "type": "amazon-ebs", "name": "build", "region": "{region}",
      "custom_endpoint_ec2": "{{{{user `endpoint`}}}}", "communicator": "none",
      "skip_credential_validation": true, "skip_metadata_api_check": true,
      "source_ami": "ami-03cf127a", "instance_type": "t2.micro", "ami_name": "bench-{{{{uuid}}}}"
    }}
  ]{provisioners}
}}
"#
    )
}

fn deployment(release: &str, region: &str, i: usize) -> String {
    format!(
        "# Benchmark deployment {i}\nrelease: \"{release}\"\ncloud: aws\n\nbastion:\n  machine_image:\n    id: ami-00000000\n\n\
         cluster:\n  name: bench-{i}\n  region: {region}\n  machine_image:\n    id: ami-00000000\n"
    )
}

/// `bench images`: parallel builds, xtask's overhead over Packer by hand,
/// a no-change rerun, and patching 1,000 deployments.
pub fn images(packer_path: Option<&Path>) -> Result<ExitCode> {
    let packer_path = packer::find(packer_path)?;
    let moto = Moto::start()?;
    let xtask = std::env::current_exe()?;
    let endpoint = format!("endpoint={}", moto.endpoint);
    let images_command = |root: &Path, extra: &[&str]| {
        let mut command = Command::new(&xtask);
        command
            .args(["images", "--root"])
            .arg(root)
            .args(["--var", &endpoint])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("PACKER", &packer_path);
        command
    };

    let scratch = Scratch::new("images")?;
    let eight = scratch.0.join("eight");
    for i in 0..8 {
        write(&eight.join(format!("packer/3.{i}/aws/machine-image/template.json")), &moto_template("eu-central-1", 2))?;
        write(&eight.join(format!("deployments/d{i}.yaml")), &deployment(&format!("3.{i}"), "eu-central-1", i))?;
    }
    say!("Building 8 templates against moto with --jobs 1, then --jobs 4…");
    let jobs1 = timed(&mut images_command(&eight, &["--force", "--jobs", "1"]))?;
    let jobs4 = timed(&mut images_command(&eight, &["--force", "--jobs", "4"]))?;
    let rerun = repeat(5, || timed(images_command(&eight, &[]).env("PACKER", "/nonexistent/packer")))?;

    let one = scratch.0.join("one");
    let dir = one.join("packer/3.11/aws/machine-image");
    write(&dir.join("template.json"), &moto_template("eu-central-1", 0))?;
    write(&one.join("deployments/d.yaml"), &deployment("3.11", "eu-central-1", 0))?;
    say!("Timing one template: cargo xtask images against packer validate + build by hand…");
    // Interleaved, so that drift in moto's or the disk's speed hits both.
    let hand = |_: ()| -> Result<Duration> {
        let started = Instant::now();
        for args in
            [vec!["validate", "-var", &endpoint, "template.json"], vec!["build", "-var", &endpoint, "template.json"]]
        {
            timed(
                Command::new(&packer_path)
                    .args(args)
                    .current_dir(&dir)
                    .env("AWS_ACCESS_KEY_ID", "bench")
                    .env("AWS_SECRET_ACCESS_KEY", "bench"),
            )?;
        }
        Ok(started.elapsed())
    };
    hand(())?;
    timed(&mut images_command(&one, &["--force"]))?;
    let (mut hand_runs, mut xtask_runs) = (Vec::new(), Vec::new());
    for _ in 0..15 {
        hand_runs.push(hand(())?);
        xtask_runs.push(timed(&mut images_command(&one, &["--force"]))?);
    }
    let (by_hand, through_xtask) = (median(hand_runs), median(xtask_runs));

    let many = scratch.0.join("many");
    let dir = many.join("packer/3.11/aws/machine-image");
    write(&dir.join("template.json"), &moto_template("eu-central-1", 0))?;
    write(
        &dir.join("manifest.json"),
        r#"{"builds": [{"name": "build", "builder_type": "amazon-ebs", "artifact_id": "eu-central-1:ami-0123456789abcdef0", "packer_run_uuid": "u"}], "last_run_uuid": "u"}"#,
    )?;
    for i in 0..1000 {
        write(&many.join(format!("deployments/d{i:04}.yaml")), &deployment("3.11", "eu-central-1", i))?;
    }
    say!("Patching 1,000 deployments from a manifest…");
    let patch = timed(
        Command::new(&xtask).args(["images", "--root"]).arg(&many).arg("--patch-from").arg(dir.join("manifest.json")),
    )?;

    show_line!("images against moto_server {} with Packer {}:", moto.endpoint, packer::version(&packer_path)?);
    show_line!("  8 templates (2 s provisioning each), --jobs 1   {}", ms(jobs1));
    show_line!(
        "  8 templates (2 s provisioning each), --jobs 4   {}  -> {:.2}x the wall time of --jobs 1",
        ms(jobs4),
        ratio(jobs4, jobs1)
    );
    show_line!("  one template, packer validate+build      {}  (median of 15, interleaved)", ms(by_hand));
    show_line!(
        "  one template, cargo xtask images         {}  -> {:+.1}% overhead",
        ms(through_xtask),
        (ratio(through_xtask, by_hand) - 1.0) * 100.0
    );
    show_line!("  no-change rerun (no packer started)      {}  (median of 5)", ms(rerun));
    show_line!("  --patch-from into 1,000 deployments      {}", ms(patch));
    Ok(ExitCode::SUCCESS)
}

/// `bench pre-commit`: the hook's command with one staged change in a
/// repository of 200 templates and 200 deployments, cargo's start-up
/// included, against `cargo xtask --help`.
pub fn pre_commit() -> Result<ExitCode> {
    let scratch = Scratch::new("hook")?;
    let repo = scratch.0.join("repo");
    for i in 0..200 {
        let release = format!("3.{}", i / 2);
        let image = ["machine-image", "bastion-image"][i % 2];
        let dir = repo.join(format!("packer/{release}/aws/{image}"));
        write(&dir.join("template.json"), &sample_template(i))?;
        write(&dir.join("scripts/install.sh"), "#!/bin/sh\nsudo yum -y update\n")?;
        write(&repo.join(format!("deployments/cluster-{i:03}.yaml")), &deployment(&release, "eu-central-1", i))?;
    }
    let git = |args: &[&str]| -> Result<()> {
        let status = Command::new("git").args(args).current_dir(&repo).stdout(Stdio::null()).status()?;
        if !status.success() {
            bail!("git {args:?} failed");
        }
        Ok(())
    };
    git(&["init", "-q"])?;
    git(&["add", "-A"])?;
    git(&["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "-m", "tree"])?;
    let staged = repo.join("deployments/cluster-042.yaml");
    let text = fs::read_to_string(&staged)?;
    fs::write(&staged, text.replace("# Benchmark deployment", "# Edited benchmark deployment"))?;
    git(&["add", "-A"])?;

    let manifest = crate::project::workspace_root()?.join("Cargo.toml");
    let cargo_xtask = |args: &[&str]| {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command
            .args(["run", "--quiet", "--manifest-path"])
            .arg(&manifest)
            .args(["--package", "xtask", "--"])
            .args(args)
            .current_dir(&repo);
        command
    };
    let hook = repeat(10, || timed(&mut cargo_xtask(&["pre-commit"])))?;
    let help = repeat(10, || timed(&mut cargo_xtask(&["--help"])))?;
    // The same with a staged script instead: its template and the
    // deployments of its release are linted.
    git(&["reset", "-q", "--hard"])?;
    let script = repo.join("packer/3.42/aws/machine-image/scripts/install.sh");
    fs::write(
        &script,
        "#!/bin/sh
sudo yum -y update
sudo yum -y install git
",
    )?;
    git(&["add", "-A"])?;
    let template_hook = repeat(10, || timed(&mut cargo_xtask(&["pre-commit"])))?;
    show_line!("pre-commit in a repository of 200 templates and 200 deployments (median of 10, warm):");
    show_line!("  cargo xtask pre-commit, one staged deployment   {}", ms(hook));
    show_line!("  cargo xtask pre-commit, one staged script       {}", ms(template_hook));
    show_line!(
        "  cargo xtask --help                              {}  -> the hook takes {:.2}x and {:.2}x",
        ms(help),
        ratio(hook, help),
        ratio(template_hook, help)
    );
    Ok(ExitCode::SUCCESS)
}

/// What cargo puts in a target folder, which the cold build empties.
const CARGO_TARGET: &[&str] =
    &["debug", "release", "build", "tmp", "cargo-timings", ".rustc_info.json", "CACHEDIR.TAG", ".cargo-lock"];

/// `cargo xtask bench cold-build`: what a new user waits for on the first
/// `cargo xtask`, the dependencies already downloaded. Builds xtask's
/// binary into an empty target folder with cargo's `--timings` report, and
/// prints the wall time, the CPU time of every compiler run, and the units
/// that took longest.
pub fn cold_build() -> Result<ExitCode> {
    let root = crate::project::workspace_root()?;
    // Emptied and written by cargo: never a folder of the repository's.
    let target = crate::protected::Protected::of(&root).check(&root.join("target/xtask/bench-cold-build")).map_err(
        |refusal| anyhow::anyhow!("target/xtask/bench-cold-build: {refusal}; make target/ a folder of its own"),
    )?;
    crate::fsutil::remove_own_folder(&target, CARGO_TARGET)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let fetched = Command::new(&cargo).args(["fetch", "--quiet"]).current_dir(&root).status()?;
    if !fetched.success() {
        bail!("cargo fetch failed: the bench needs the dependencies downloaded first");
    }
    say!("Building xtask from scratch into {} ...", target.display());
    let cpu_before = children_cpu();
    let started = Instant::now();
    let status = Command::new(&cargo)
        .args(["build", "--quiet", "--timings", "--package", "xtask", "--bin", "xtask"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .context("running cargo build")?;
    let wall = started.elapsed();
    let cpu = children_cpu().saturating_sub(cpu_before);
    if !status.success() {
        bail!("the build failed");
    }
    let report = fs::read_to_string(target.join("cargo-timings/cargo-timing.html")).unwrap_or_default();
    let mut units = unit_durations(&report);
    units.sort_by(|a, b| b.1.total_cmp(&a.1));
    crate::fsutil::remove_own_folder(&target, CARGO_TARGET)?;
    show_line!("cold build of xtask (cargo build --package xtask --bin xtask, empty target folder):");
    show_line!(
        "  wall {:.1} s, CPU {:.1} s on {} cores",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for (name, seconds) in units.iter().take(6) {
        show_line!("  {name:<36} {seconds:>5.1} s");
    }
    Ok(ExitCode::SUCCESS)
}

/// CPU time (user and system) of the children this process waited for.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given and reads nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |tv: libc::timeval| Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Each unit's name and seconds from the `UNIT_DATA` of cargo's timing
/// report; nothing when the report has another shape.
fn unit_durations(report: &str) -> Vec<(String, f64)> {
    let Some(start) = report.find("const UNIT_DATA = ") else { return Vec::new() };
    let rest = &report[start + "const UNIT_DATA = ".len()..];
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
    let Some(Ok(serde_json::Value::Array(units))) = stream.next() else { return Vec::new() };
    units
        .iter()
        .filter_map(|unit| {
            let name = unit.get("name")?.as_str()?;
            let target = unit.get("target").and_then(serde_json::Value::as_str).unwrap_or_default();
            Some((format!("{name}{target}"), unit.get("duration")?.as_f64()?))
        })
        .collect()
}
