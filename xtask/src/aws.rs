//! The AWS CLI, for what xtask does to images after their build: finding
//! their snapshots, deregistering them and deleting the snapshots
//! (`prune`). Packer needs no CLI, so only these commands do.
//!
//! The CLI takes its credentials, region defaults and endpoint from its
//! own environment and configuration (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`,
//! `AWS_ENDPOINT_URL`, `~/.aws/config`): xtask passes it the region and
//! the IDs, never a secret, and every ID and region is checked for its
//! shape before it becomes an argument.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The AWS CLI release `.ci/test` installs for the tests.
pub const TESTED_VERSION: &str = "1.46.3";

pub const INSTALL_HINT: &str = "install the AWS CLI (version 2 from AWS, or `pip install awscli==1.46.3`, \
     the version the tests use), or pass --aws-cli PATH, or set AWS_CLI; `.ci/test` installs it into \
     target/e2e-venv";

/// Finds the AWS CLI: `--aws-cli`, then `$AWS_CLI`, then `aws` on `PATH`.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path.to_path_buf());
        }
        bail!("--aws-cli {} is not a file; {INSTALL_HINT}", path.display());
    }
    if let Some(path) = std::env::var_os("AWS_CLI").filter(|value| !value.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        bail!("AWS_CLI={} is not a file; {INSTALL_HINT}", path.display());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("aws"))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("the AWS CLI (`aws`) was not found on PATH; {INSTALL_HINT}"))
}

/// What became of a request to delete something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// It did not exist (any more): deleted by an earlier run or by hand.
    AlreadyGone,
}

/// An AMI as `describe-images` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    /// The EBS snapshots of its block devices.
    pub snapshots: Vec<String>,
}

pub struct Cli {
    path: PathBuf,
}

impl Cli {
    pub fn new(path: PathBuf) -> Cli {
        Cli { path }
    }

    /// The images among `ids` that exist in `region`, with their
    /// snapshots. Filtering by ID (rather than `--image-ids`) answers for
    /// the ones that exist when others are gone; deprecated images (Packer's
    /// `deprecate_at`) are asked for too, as AWS leaves them out otherwise.
    pub fn describe_images(&self, region: &str, ids: &[&str]) -> Result<Vec<Found>> {
        for id in ids {
            check_ami_id(id)?;
        }
        let mut found = Vec::new();
        // EC2 takes at most 200 values in one filter.
        for chunk in ids.chunks(100) {
            let filter = format!("Name=image-id,Values={}", chunk.join(","));
            let output = self.run(region, &["describe-images", "--include-deprecated", "--filters", &filter])?;
            found.extend(images_in(region, &output, chunk)?);
        }
        Ok(found)
    }

    /// `aws ec2 deregister-image`; an AMI that does not exist is no error.
    pub fn deregister_image(&self, region: &str, id: &str) -> Result<Deletion> {
        check_ami_id(id)?;
        self.delete(
            region,
            &["deregister-image", "--image-id", id],
            &["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"],
        )
    }

    /// `aws ec2 delete-snapshot`; a snapshot that does not exist is no
    /// error.
    pub fn delete_snapshot(&self, region: &str, id: &str) -> Result<Deletion> {
        if !is_snapshot_id(id) {
            bail!("{:?} is not a snapshot ID (`snap-` and hex digits); correct packer/images.lock", shortened(id));
        }
        self.delete(region, &["delete-snapshot", "--snapshot-id", id], &["InvalidSnapshot.NotFound"])
    }

    fn delete(&self, region: &str, args: &[&str], gone: &[&str]) -> Result<Deletion> {
        match self.run(region, args) {
            Ok(_) => Ok(Deletion::Deleted),
            Err(error) if gone.iter().any(|code| format!("{error:#}").contains(code)) => Ok(Deletion::AlreadyGone),
            Err(error) => Err(error),
        }
    }

    /// Runs `aws ec2 ARGS --region REGION --output json`; its standard
    /// output, or an error with what it said.
    fn run(&self, region: &str, args: &[&str]) -> Result<String> {
        check_region(region)?;
        let output = Command::new(&self.path)
            .arg("ec2")
            .args(args)
            .args(["--region", region, "--output", "json"])
            // Version 2 pipes what it prints through a pager by default.
            .env("AWS_PAGER", "")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {}; {INSTALL_HINT}", self.path.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if output.status.success() {
            return Ok(stdout);
        }
        let said = String::from_utf8_lossy(&output.stderr);
        bail!(
            "`aws ec2 {}` in {region} failed ({}): {}",
            args.first().copied().unwrap_or_default(),
            output.status,
            crate::printable::escape(said.trim())
        )
    }
}

fn check_ami_id(id: &str) -> Result<()> {
    if crate::image_id::is_ami_id(id) {
        return Ok(());
    }
    bail!("{:?} is not an AMI ID (`ami-` and 8 or 17 lower-case hex digits); correct packer/images.lock", shortened(id))
}

/// The images of `wanted` that `describe-images` printed, with their
/// snapshots.
fn images_in(region: &str, output: &str, wanted: &[&str]) -> Result<Vec<Found>> {
    let document: Value = serde_json::from_str(output).with_context(|| {
        format!("`aws ec2 describe-images` in {region} did not print JSON (it printed {:?})", shortened(output))
    })?;
    let mut found = Vec::new();
    for image in document.get("Images").and_then(Value::as_array).into_iter().flatten() {
        let Some(id) = image.get("ImageId").and_then(Value::as_str) else { continue };
        if !wanted.contains(&id) {
            continue;
        }
        let mut snapshots = Vec::new();
        for mapping in image.get("BlockDeviceMappings").and_then(Value::as_array).into_iter().flatten() {
            let Some(snapshot) = mapping.pointer("/Ebs/SnapshotId").and_then(Value::as_str) else { continue };
            if !is_snapshot_id(snapshot) {
                bail!(
                    "`aws ec2 describe-images` in {region} names a snapshot {:?} of {id}, which is not a snapshot ID \
                     (`snap-` and hex digits)",
                    shortened(snapshot)
                );
            }
            if !snapshots.iter().any(|known| known == snapshot) {
                snapshots.push(snapshot.to_owned());
            }
        }
        found.push(Found { id: id.to_owned(), snapshots });
    }
    Ok(found)
}

/// `snap-` and 8 or 17 lower-case hex digits.
pub fn is_snapshot_id(id: &str) -> bool {
    id.strip_prefix("snap-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// An AWS region's shape (`eu-central-1`, `us-gov-west-1`): lower-case
/// words and a number, joined by dashes.
fn check_region(region: &str) -> Result<()> {
    let parts: Vec<&str> = region.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()));
    if well_formed {
        return Ok(());
    }
    bail!("{:?} is not an AWS region (like eu-central-1); correct packer/images.lock", shortened(region))
}

fn shortened(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_are_read_from_what_describe_images_prints() {
        let printed = r#"{"Images": [
            {"ImageId": "ami-0123456789abcdef0", "BlockDeviceMappings": [
                {"DeviceName": "/dev/sda1", "Ebs": {"SnapshotId": "snap-0123456789abcdef0"}},
                {"DeviceName": "/dev/sdb", "VirtualName": "ephemeral0"},
                {"DeviceName": "/dev/sdc", "Ebs": {"SnapshotId": "snap-0123456789abcdef1"}}]},
            {"ImageId": "ami-0123456789abcdef9", "BlockDeviceMappings": []}]}"#;
        let found = images_in("eu-west-1", printed, &["ami-0123456789abcdef0"]).unwrap();
        assert_eq!(
            found,
            [Found {
                id: "ami-0123456789abcdef0".into(),
                snapshots: vec!["snap-0123456789abcdef0".into(), "snap-0123456789abcdef1".into()]
            }],
            "an image not asked for is left out"
        );
        let odd = printed.replace("snap-0123456789abcdef1", "--delete-everything");
        let error = format!("{:#}", images_in("eu-west-1", &odd, &["ami-0123456789abcdef0"]).unwrap_err());
        assert!(error.contains("which is not a snapshot ID"), "{error}");
        assert!(images_in("eu-west-1", "<html>", &[]).is_err());
    }

    #[test]
    fn ids_and_regions_are_checked_before_they_become_arguments() {
        assert!(is_snapshot_id("snap-0123456789abcdef0"));
        assert!(is_snapshot_id("snap-01234567"));
        for bad in ["snap-", "snap-0123456789ABCDEF0", "--endpoint-url=x", "snap-0123 4567"] {
            assert!(!is_snapshot_id(bad), "{bad}");
        }
        for good in ["eu-central-1", "us-gov-west-1", "ap-southeast-2"] {
            assert!(check_region(good).is_ok(), "{good}");
        }
        for bad in ["global", "--region", "eu-central", "EU-central-1", "eu--1", ""] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
    }
}
