//! `cargo xtask demo`: the whole `images` flow without a cloud account. A
//! copy of the repository in `target/xtask/demo/` has its AWS templates
//! pointed at a local EC2 API (moto's server, installed into `target/` on
//! first use), `images` builds them there with the real Packer, and the
//! deployment diffs and the lock are shown. Then a promotion: the copy gets
//! channels and a canary cluster, a new build reaches the canary only, and
//! `promote` gives it to the cluster beside it. The repository itself is
//! never touched.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::moto::{self, Moto};
use crate::packer;
use crate::protected::Protected;

/// The AMI moto serves as a source image in every region.
const SOURCE_AMI: &str = "ami-03cf127a";

/// Provisioners that need a machine to reach; the demo has none.
const REMOTE_PROVISIONERS: &[&str] =
    &["shell", "file", "ansible", "chef-solo", "chef-client", "puppet-masterless", "puppet-server", "salt-masterless"];

pub fn run(root: &Path, packer_path: Option<&Path>) -> Result<ExitCode> {
    let started = Instant::now();
    let packer_path = packer::find(packer_path)?;
    let protected = Protected::of(root);
    // The copy replaces whatever is there: that must not be the repository.
    let demo = protected.check(&root.join("target/xtask/demo")).map_err(|refusal| {
        anyhow::anyhow!("the demo's folder target/xtask/demo: {refusal}; make target/ a folder of its own")
    })?;
    copy_repository(root, &demo, &protected)?;
    show_line!("Copied packer/ and deployments/ into {}; the repository stays as it is.", shown(root, &demo));

    let server = moto_server(root)?;
    let moto = Moto::start_with(&server)?;
    show_line!("Started a local EC2 API (moto, {}) at {}.", server.display(), moto.endpoint);

    let lock_before = fs::read_to_string(demo.join("packer/images.lock")).ok();
    let mut adapted = adapt_templates(&demo, &moto.endpoint)?;
    adapted.extend(adapt_hcl2_templates(&demo, &moto.endpoint)?);
    if adapted.is_empty() {
        bail!("the repository has no AWS template under packer/ to build in the demo");
    }
    show_line!("\nAdapted for the emulator (the copies only):");
    for line in &adapted {
        show_line!("  {line}");
    }

    let xtask = |args: &[&str]| -> Result<bool> {
        show_line!("\n$ cargo xtask {}   (in {})\n", args.join(" "), shown(root, &demo));
        let status = Command::new(std::env::current_exe().context("finding the xtask executable")?)
            .args(args)
            .arg("--root")
            .arg(&demo)
            .env("PACKER", &packer_path)
            .env("TF_VAR_aws_access_key", "demo")
            .env("TF_VAR_aws_secret_key", "demo-secret")
            .env("AWS_ACCESS_KEY_ID", "demo")
            .env("AWS_SECRET_ACCESS_KEY", "demo-secret")
            .env_remove("AWS_PROFILE")
            .status()
            .with_context(|| format!("running cargo xtask {} on the demo copy", args[0]))?;
        Ok(status.success())
    };
    let built = xtask(&["images", "--cloud", "aws"])?;
    let promoted = if built { promotion(&demo, &protected, &xtask)? } else { true };
    drop(moto);
    let lock = demo.join("packer/images.lock");
    match fs::read_to_string(&lock) {
        Ok(text) if Some(&text) != lock_before.as_ref() => {
            show_line!("\n{} now records:\n{text}", shown(root, &lock));
        }
        _ => show_line!("\n{} was not changed: nothing was built.", shown(root, &lock)),
    }
    if !built || !promoted {
        show_line!(
            "The build logs are in {}/ (the paths above are inside the demo copy).",
            shown(root, &demo.join("target/xtask/images"))
        );
    }
    show_line!(
        "Demo finished in {:.0} s; the local EC2 API is stopped. Run it on your cloud with `cargo xtask images` \
         and the cloud credentials your templates read.",
        started.elapsed().as_secs_f64()
    );
    Ok(if built && promoted { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The second act, on a copy whose `xtask.toml` names no channels: it gets
/// `canary` and `stable` (48 hours of soak), the first AWS deployment
/// with a region gets a canary copy beside it, a new build of its
/// template reaches the copy only, and `promote` first waits for the soak
/// and then, told not to, gives the image to the deployment. Says whether
/// every step succeeded.
fn promotion(demo: &Path, protected: &Protected, xtask: &dyn Fn(&[&str]) -> Result<bool>) -> Result<bool> {
    if crate::config::Config::read(demo)?.channels.is_some() {
        show_line!(
            "\nxtask.toml names channels, so the build above went to the first one; `cargo xtask promote --to \
             CHANNEL` gives a later one its image (docs/rolling-out.md)."
        );
        return Ok(true);
    }
    let (deployments, _) = crate::deployments::load_all(demo)?;
    let stable = deployments.iter().find(|deployment| {
        deployment.cloud() == Some("aws")
            && deployment.region().is_some()
            && deployment
                .release()
                .is_some_and(|release| demo.join("packer").join(release).join("aws/machine-image").is_dir())
    });
    let Some(stable) = stable else {
        show_line!("\nNo AWS deployment with a region and a machine-image template: the promotion is not shown.");
        return Ok(true);
    };
    let release = stable.release().unwrap_or_default();
    let region = stable.region().unwrap_or_default();
    let template = format!("packer/{release}/aws/machine-image");
    show_line!(
        "\nNow a promotion. The copy's xtask.toml gets two channels, and {} a canary cluster beside it (a copy \
         with `channel: canary`); a deployment without `channel:` is in the last channel, `stable`:",
        stable.rel
    );
    let config = demo.join(crate::config::FILE);
    let channels = "\n[channels]\norder = [\"canary\", \"stable\"]\n\n[channels.stable]\nsoak = \"48h\"\n";
    let before = fs::read_to_string(&config).unwrap_or_default();
    let config = protected.check(&config).map_err(|refusal| anyhow::anyhow!("{}: {refusal}", config.display()))?;
    fs::write(&config, format!("{before}{channels}")).with_context(|| format!("writing {}", config.display()))?;
    show_line!("{}", channels.trim_end());
    let name = Path::new(&stable.rel).file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let canary = demo.join("deployments").join(format!("demo-canary-{name}"));
    let canary = protected.check(&canary).map_err(|refusal| anyhow::anyhow!("{}: {refusal}", canary.display()))?;
    fs::write(&canary, format!("channel: canary\n{}", stable.source))
        .with_context(|| format!("writing {}", canary.display()))?;
    let steps: [(&[&str], &str); 3] = [
        (&["images", "--cloud", "aws", "--force", "--select", &template], "A new build reaches the canary only."),
        (
            &["promote", "--to", "stable", "--select", &template, "--region", region],
            "The canary has not run for the 48h soak yet:",
        ),
        (
            &["promote", "--to", "stable", "--select", &template, "--region", region, "--without-soak"],
            "The demo does not wait two days; `--without-soak` promotes now, as for an urgent fix:",
        ),
    ];
    for (args, why) in steps {
        show_line!("\n{why}");
        if !xtask(args)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// What a demo copy holds: the copies, and what `images` writes there.
const DEMO_COPY: &[&str] = &["packer", "deployments", crate::config::FILE, "target"];

/// A fresh copy of what `images` reads: `packer/`, `deployments/` and
/// `xtask.toml` (its plugin pins, which Packer 1.10 and later build with).
/// Each file copied is checked, though the folder is new and holds no
/// symlink.
fn copy_repository(root: &Path, demo: &Path, protected: &Protected) -> Result<()> {
    crate::fsutil::remove_own_folder(demo, DEMO_COPY).context("removing the previous demo copy")?;
    let config = root.join(crate::config::FILE);
    if config.is_file() {
        fs::create_dir_all(demo).with_context(|| format!("creating {}", demo.display()))?;
        let to = demo.join(crate::config::FILE);
        let to = protected.check(&to).map_err(|refusal| anyhow::anyhow!("{}: {refusal}", to.display()))?;
        fs::copy(&config, &to).with_context(|| format!("copying {}", config.display()))?;
    }
    for folder in ["packer", "deployments"] {
        let from = root.join(folder);
        if !from.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&from) {
            let entry = entry.with_context(|| format!("reading {}", from.display()))?;
            let to = demo.join(entry.path().strip_prefix(root).expect("below the root"));
            if entry.file_type().is_dir() {
                fs::create_dir_all(&to).with_context(|| format!("creating {}", to.display()))?;
            } else if entry.file_type().is_file() && entry.file_name() != "manifest.json" {
                let to = protected.check(&to).map_err(|refusal| anyhow::anyhow!("{}: {refusal}", to.display()))?;
                fs::copy(entry.path(), &to).with_context(|| format!("copying {}", entry.path().display()))?;
            }
        }
    }
    Ok(())
}

/// moto_server from `$MOTO_SERVER` or `PATH`, else the one in
/// `target/e2e-venv` (where `.ci/test` puts it), installed there when
/// missing.
fn moto_server(root: &Path) -> Result<PathBuf> {
    if let Ok(found) = moto::find() {
        return Ok(found);
    }
    let venv = root.join("target/e2e-venv");
    let server = venv.join("bin/moto_server");
    if server.is_file() {
        return Ok(server);
    }
    Protected::of(root).check(&venv).map_err(|refusal| {
        anyhow::anyhow!("the virtualenv target/e2e-venv: {refusal}; make target/ a folder of its own")
    })?;
    show_line!("Installing moto[server]=={} into {} (first use only)...", moto::VERSION, shown(root, &venv));
    let created = Command::new("python3").args(["-m", "venv"]).arg(&venv).status();
    if !created.is_ok_and(|status| status.success()) {
        bail!("could not create a Python virtualenv at {}: install python3 and python3-venv", venv.display());
    }
    let installed = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", &format!("moto[server]=={}", moto::VERSION)])
        .status();
    if !installed.is_ok_and(|status| status.success()) || !server.is_file() {
        bail!("could not install moto[server]=={} with pip; {}", moto::VERSION, moto::INSTALL_HINT);
    }
    Ok(server)
}

/// The settings that point an `amazon-*` builder at the emulator and let it
/// build without a machine to log in to.
fn emulator_settings(endpoint: &str) -> [(&'static str, Value); 5] {
    [
        ("custom_endpoint_ec2", Value::from(endpoint)),
        ("communicator", Value::from("none")),
        ("skip_credential_validation", Value::from(true)),
        ("skip_metadata_api_check", Value::from(true)),
        ("source_ami", Value::from(SOURCE_AMI)),
    ]
}

/// Points every AWS template of the copy at the emulator, and says what it
/// changed, one line per template.
fn adapt_templates(demo: &Path, endpoint: &str) -> Result<Vec<String>> {
    let mut said = Vec::new();
    let aws = walkdir::WalkDir::new(demo.join("packer"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name() == "template.json")
        .filter(|entry| entry.path().parent().and_then(Path::parent).is_some_and(|cloud| cloud.ends_with("aws")));
    for entry in aws {
        let path = entry.path();
        let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut template: Value =
            serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
        let mut changes = vec![format!("endpoint {endpoint}, communicator none, source AMI {SOURCE_AMI}")];
        let mut removed: Vec<&str> = Vec::new();
        for builder in template.get_mut("builders").and_then(Value::as_array_mut).into_iter().flatten() {
            let Some(builder) = builder.as_object_mut() else { continue };
            if !builder.get("type").and_then(Value::as_str).is_some_and(|kind| kind.starts_with("amazon-")) {
                continue;
            }
            for key in ["source_ami_filter", "ssh_username"] {
                if builder.remove(key).is_some() && !removed.contains(&key) {
                    removed.push(key);
                }
            }
            for (key, value) in emulator_settings(endpoint) {
                builder.insert(key.to_owned(), value);
            }
        }
        if !removed.is_empty() {
            changes[0].push_str(&format!(", {} removed", removed.join(" and ")));
        }
        for provisioner in template.get_mut("provisioners").and_then(Value::as_array_mut).into_iter().flatten() {
            let kind = provisioner.get("type").and_then(Value::as_str).unwrap_or_default().to_owned();
            if !REMOTE_PROVISIONERS.contains(&kind.as_str()) {
                continue;
            }
            let what = ["script", "source", "playbook_file"]
                .iter()
                .find_map(|key| provisioner.get(*key).and_then(Value::as_str))
                .map_or(kind.clone(), |file| format!("{kind} {file}"));
            changes.push(format!("the remote step `{what}` replaced by a local no-op"));
            let mut local = Map::new();
            local.insert("type".to_owned(), Value::from("shell-local"));
            local.insert("inline".to_owned(), Value::from(vec![format!("echo 'demo: skipped {what}'")]));
            *provisioner = Value::Object(local);
        }
        let pretty = serde_json::to_string_pretty(&template).expect("a JSON value serialises");
        fs::write(path, pretty + "\n").with_context(|| format!("writing {}", path.display()))?;
        let rel = path.strip_prefix(demo).unwrap_or(path).display().to_string();
        said.push(format!("{rel}: {}", changes.join("; ")));
    }
    Ok(said)
}

/// The same for the AWS templates written in HCL2: every `amazon-*`
/// source of each `*.pkr.hcl` file, and the remote provisioners of its
/// builds, edited in the syntax tree so that the rest stays as written.
fn adapt_hcl2_templates(demo: &Path, endpoint: &str) -> Result<Vec<String>> {
    use hcl_edit::expr::{Array, Expression};
    use hcl_edit::structure::{Attribute, Block, Body};
    use hcl_edit::{Decorate, Ident};

    let mut said = Vec::new();
    let files = walkdir::WalkDir::new(demo.join("packer"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".pkr.hcl"))
        .filter(|entry| entry.path().parent().and_then(Path::parent).is_some_and(|cloud| cloud.ends_with("aws")));
    for entry in files {
        let path = entry.path();
        let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut body: Body = hcl_edit::parser::parse_body(&text)
            .map_err(|error| anyhow::anyhow!("{} is not valid HCL: {}", path.display(), error.message()))?;
        let mut changes = Vec::new();
        let mut removed: Vec<&str> = Vec::new();
        for block in body.blocks_mut() {
            let first = block.labels.first().map(|label| label.as_str().to_owned()).unwrap_or_default();
            if block.ident.as_str() == "source" && first.starts_with("amazon-") {
                let settings = &mut block.body;
                if !settings.remove_blocks("source_ami_filter").is_empty() && !removed.contains(&"source_ami_filter") {
                    removed.push("source_ami_filter");
                }
                if settings.remove_attribute("ssh_username").is_some() && !removed.contains(&"ssh_username") {
                    removed.push("ssh_username");
                }
                for (key, value) in emulator_settings(endpoint) {
                    let value = match value {
                        Value::Bool(yes) => Expression::from(yes),
                        other => Expression::from(other.as_str().unwrap_or_default()),
                    };
                    settings.remove_attribute(key);
                    let mut attribute = Attribute::new(Ident::new(key), value);
                    attribute.decor_mut().set_prefix("  ");
                    settings.push(attribute);
                }
                if changes.is_empty() {
                    changes.push(format!("endpoint {endpoint}, communicator none, source AMI {SOURCE_AMI}"));
                }
            }
            if block.ident.as_str() == "build" {
                for provisioner in block.body.get_blocks_mut("provisioner") {
                    let kind = provisioner.labels.first().map(|label| label.as_str().to_owned()).unwrap_or_default();
                    if !REMOTE_PROVISIONERS.contains(&kind.as_str()) {
                        continue;
                    }
                    let file = ["script", "source", "playbook_file"].iter().find_map(|key| {
                        let value = provisioner.body.get_attribute(key)?.value.to_string();
                        Some(value.trim().trim_matches('"').replace("${path.root}/", ""))
                    });
                    let what = file.map_or(kind.clone(), |file| format!("{kind} {file}"));
                    changes.push(format!("the remote step `{what}` replaced by a local no-op"));
                    let mut inline = Array::new();
                    inline.push(format!("echo 'demo: skipped {what}'"));
                    let mut attribute = Attribute::new(Ident::new("inline"), inline);
                    attribute.decor_mut().set_prefix("    ");
                    let decor = provisioner.decor().clone();
                    *provisioner =
                        Block::builder(Ident::new("provisioner")).label("shell-local").attribute(attribute).build();
                    *provisioner.decor_mut() = decor;
                    // The closing brace at the block's own indentation.
                    provisioner.body.decor_mut().set_suffix("  ");
                }
            }
        }
        if changes.is_empty() {
            continue;
        }
        if let Some(settings) = changes.iter_mut().find(|change| change.starts_with("endpoint"))
            && !removed.is_empty()
        {
            settings.push_str(&format!(", {} removed", removed.join(" and ")));
        }
        fs::write(path, body.to_string()).with_context(|| format!("writing {}", path.display()))?;
        let rel = path.strip_prefix(demo).unwrap_or(path).display().to_string();
        said.push(format!("{rel}: {}", changes.join("; ")));
    }
    Ok(said)
}
