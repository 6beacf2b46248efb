//! The deployment model: `deployments/*.yaml`, each naming a release, a
//! cloud, a region and the image each role boots from
//! (`bastion.machine_image.id`, `cluster.machine_image.id`), and which
//! template's image feeds each role (`feeding_image`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use crate::fsutil::{self, Unreadable};
use crate::location::Route;
use crate::project::{Cloud, relative};
use crate::yaml::{self, Node};

/// Deployments larger than this are not read: real ones are a few hundred
/// bytes, and parsing 100 MB of YAML takes seconds and gigabytes.
pub const MAX_DEPLOYMENT_BYTES: u64 = 1024 * 1024;

/// The bytes of a deployment file, read only when it is a regular file
/// within [`MAX_DEPLOYMENT_BYTES`].
pub fn read(path: &Path) -> Result<Vec<u8>, Unreadable> {
    fsutil::read_regular(path, MAX_DEPLOYMENT_BYTES)
}

/// What to do about a deployment that was not read.
pub const UNREADABLE_HELP: &str = "a deployment is a regular file of YAML, at most 1 MiB; replace what is at this path";

/// Key under which a cloud's region-less images (GCE) are recorded.
pub const GLOBAL: &str = "global";

/// The roles a `machine-image` feeds when no `<role>-image` exists.
pub const MACHINE_IMAGE_ROLES: &[&str] = &["bastion", "cluster"];

/// Which image folder feeds `role` of a deployment of this release and
/// cloud, given every template that exists there.
pub fn feeding_image<'a>(role: &str, images: &'a BTreeSet<String>) -> Option<&'a str> {
    let own = format!("{role}-image");
    if let Some(image) = images.get(&own) {
        return Some(image);
    }
    if MACHINE_IMAGE_ROLES.contains(&role) {
        return images.get("machine-image").map(String::as_str);
    }
    None
}

pub struct Deployment {
    pub path: PathBuf,
    /// Relative to the root, with forward slashes.
    pub rel: String,
    pub source: String,
    pub root: Node,
}

/// The route of a role's image ID: `<role>.machine_image.id`.
pub fn image_route(role: &str) -> Route {
    Route::root().key(role).key("machine_image").key("id")
}

impl Deployment {
    /// Reads and parses a deployment; the error names the file, the place
    /// and what to do.
    pub fn load(root: &Path, path: &Path) -> Result<Deployment> {
        let rel = relative(root, path);
        let bytes = match read(path) {
            Ok(bytes) => bytes,
            Err(problem) => bail!("{rel}: cannot read the deployment: {problem}; {UNREADABLE_HELP}"),
        };
        let source = String::from_utf8(bytes).map_err(|error| {
            anyhow!(
                "{rel}: the file is not UTF-8 (invalid byte at offset {}); save it as UTF-8",
                error.utf8_error().valid_up_to()
            )
        })?;
        Deployment::parse(root, path, source.clone()).map_err(|error| {
            let (line, column) = crate::location::LineIndex::new(&source).line_column(error.offset);
            anyhow!("{rel}:{line}:{column}: invalid YAML: {}; fix it, then run again", error.message)
        })
    }

    pub fn parse(root: &Path, path: &Path, source: String) -> Result<Deployment, yaml::SyntaxError> {
        let node = yaml::parse(&source)?;
        Ok(Deployment { path: path.to_path_buf(), rel: relative(root, path), source, root: node })
    }

    fn text(&self, route: &Route) -> Option<&str> {
        self.root.lookup(route).and_then(Node::as_str)
    }

    /// The `release` as written (`3.11`), quoted or not.
    pub fn release(&self) -> Option<&str> {
        self.text(&Route::root().key("release"))
    }

    /// True when `release` is an unquoted number (`release: 3.10`), which
    /// YAML reads as a number (3.1), not the release it looks like.
    pub fn release_is_a_number(&self) -> bool {
        self.root.lookup(&Route::root().key("release")).is_some_and(|node| {
            node.style() == Some(yaml::Style::Plain) && node.as_str().is_some_and(looks_like_a_number)
        })
    }

    pub fn cloud(&self) -> Option<&str> {
        self.text(&Route::root().key("cloud"))
    }

    pub fn region(&self) -> Option<&str> {
        self.text(&Route::root().key("cluster").key("region"))
    }

    /// The region of the images it boots from templates of `cloud`: its
    /// `cluster.region` on a regional cloud (None when it names none),
    /// [`GLOBAL`] on any other.
    pub fn image_region(&self, cloud: &str) -> Option<&str> {
        if Cloud::is_regional(cloud) { self.region() } else { Some(GLOBAL) }
    }

    /// Roles with a `machine_image.id`, in file order, merged keys
    /// included. A top-level value that an alias or merge key uses is a
    /// definition the roles share (`common: &common`), not a role.
    pub fn roles(&self) -> Vec<&str> {
        self.root
            .lookup_keys()
            .into_iter()
            .filter(|role| self.root.lookup_key(role).is_some_and(|(_, value)| !value.shared))
            .filter(|role| self.root.lookup(&image_route(role)).is_some())
            .collect()
    }

    /// Roles with a `machine_image` whose `id` cannot be read as one value
    /// (a list, no `id`): `images` names them rather than pass them by.
    pub fn roles_without_readable_id(&self) -> Vec<&str> {
        self.root
            .lookup_keys()
            .into_iter()
            .filter(|role| self.root.lookup_key(role).is_some_and(|(_, value)| !value.shared))
            .filter(|role| self.root.lookup(&Route::root().key(role).key("machine_image")).is_some())
            .filter(|role| self.image_id(role).and_then(Node::as_str).is_none())
            .collect()
    }

    /// A role's image ID as a loader reads it. The writer looks it up with
    /// [`Node::at`] instead, which does not pass through aliases.
    pub fn image_id(&self, role: &str) -> Option<&Node> {
        self.root.lookup(&image_route(role))
    }
}

/// True for what YAML reads as a number: `3.10`, `4`, `1e3`.
pub fn looks_like_a_number(text: &str) -> bool {
    !text.is_empty() && text.parse::<f64>().is_ok() && text.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
}

/// A deployment's file name: `.yaml` or `.yml`.
pub fn is_deployment_file(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml")
}

/// `deployments/*.yaml` and `*.yml` below the root, sorted.
pub fn find(root: &Path) -> Result<Vec<PathBuf>> {
    let dir = root.join("deployments");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    deployments_in(&dir)
}

/// Reads every deployment; the unreadable ones are reported, not fatal.
pub fn load_all(root: &Path) -> Result<(Vec<Deployment>, Vec<String>)> {
    let mut loaded = Vec::new();
    let mut unreadable = Vec::new();
    for path in find(root)? {
        match Deployment::load(root, &path) {
            Ok(deployment) => loaded.push(deployment),
            Err(error) => unreadable.push(format!("{error:#}")),
        }
    }
    Ok((loaded, unreadable))
}

/// The `*.yaml` and `*.yml` entries of a folder, sorted by path.
pub fn deployments_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if is_deployment_file(&path) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The deployments the command line names: a folder (other than one
/// named like a deployment, which is reported as unreadable) stands for
/// the deployments in it, as `deployments/` does when none is named.
pub fn named(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut named = Vec::new();
    for path in paths {
        if path.is_dir() && !is_deployment_file(path) {
            named.extend(deployments_in(path)?);
        } else {
            named.push(path.clone());
        }
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regional_clouds_deployment_boots_its_regions_image() {
        let parse = |text: &str| {
            Deployment::parse(Path::new("/r"), Path::new("/r/deployments/d.yaml"), text.to_owned()).unwrap()
        };
        let placed = parse("cloud: aws\ncluster:\n  region: eu-west-1\n");
        assert_eq!(placed.image_region("aws"), Some("eu-west-1"));
        assert_eq!(placed.image_region("gce"), Some(GLOBAL), "one GCE image serves every region");
        assert_eq!(placed.image_region("no-such-cloud"), Some(GLOBAL));
        assert_eq!(parse("cloud: aws\n").image_region("aws"), None, "an AWS deployment without cluster.region");
    }

    #[test]
    fn own_images_take_precedence() {
        let both: BTreeSet<String> = ["machine-image".to_owned(), "bastion-image".to_owned()].into();
        assert_eq!(feeding_image("bastion", &both), Some("bastion-image"));
        assert_eq!(feeding_image("cluster", &both), Some("machine-image"));
        assert_eq!(feeding_image("worker", &both), None);
        let machine_only: BTreeSet<String> = ["machine-image".to_owned()].into();
        assert_eq!(feeding_image("bastion", &machine_only), Some("machine-image"));
        assert_eq!(feeding_image("worker", &machine_only), None, "machine-image feeds bastion and cluster alone");
    }
}
