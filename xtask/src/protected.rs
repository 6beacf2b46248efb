//! The files that only their own writers may change: all of `packer/` and
//! `deployments/`, `xtask.toml`, the files the lock says a template read
//! (a script outside packer/ included), and whatever a deployment, the
//! lock, the configuration or any symlink in those folders leads to. Every other file xtask writes (a build's result,
//! its log, the run lock, a cache, a var file, the git hook, the demo's
//! copy) is resolved to the file that will really be written
//! ([`fsutil::resolve_target`]) and refused when it is one of them; the
//! lock and the deployments are written through `fsutil::resolve_inside`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::fsutil::resolve_target;

/// What a root's protected files are, resolved.
pub struct Protected {
    root: PathBuf,
    /// Folders nothing may be written into, with what each is.
    folders: Vec<(PathBuf, String)>,
    /// Single files, with what each is.
    files: Vec<(PathBuf, String)>,
    /// The device and inode of every protected file, with what it is: a
    /// hard link elsewhere is the same file under another name.
    inodes: BTreeMap<(u64, u64), String>,
    /// The same of every protected folder and every folder in it: a bind
    /// mount shows one under another path (`mount --bind packer/4.0 x`).
    folder_inodes: BTreeMap<(u64, u64), String>,
}

/// Why a path may not be written.
#[derive(Debug)]
pub enum Refusal {
    /// It leads to a protected file or folder.
    Protected { resolved: String, what: String },
    /// It cannot be resolved (a symlink loop, a folder that cannot be read).
    Unresolvable(io::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Not "leads to deployments/x.yaml, the deployment deployments/x.yaml".
            Refusal::Protected { resolved, what } if what.ends_with(&format!(" {resolved}")) => {
                write!(f, "it leads to {what}")
            }
            Refusal::Protected { resolved, what } => write!(f, "it leads to {resolved}, {what}"),
            Refusal::Unresolvable(error) => write!(f, "it cannot be resolved ({error})"),
        }
    }
}

impl std::error::Error for Refusal {}

impl Protected {
    /// Reads what is protected under `root` now: its folders, the
    /// deployments and the lock, and the symlinks in those folders.
    pub fn of(root: &Path) -> Protected {
        let resolved_root = resolve_target(root).unwrap_or_else(|_| root.to_path_buf());
        let mut protected = Protected {
            root: resolved_root,
            folders: Vec::new(),
            files: Vec::new(),
            inodes: BTreeMap::new(),
            folder_inodes: BTreeMap::new(),
        };
        for deployment in crate::deployments::find(root).unwrap_or_default() {
            let rel = deployment.strip_prefix(root).unwrap_or(&deployment).display().to_string();
            protected.add_file(&deployment, format!("the deployment {rel}"));
        }
        protected.add_file(&crate::lock::path(root), "the lock packer/images.lock".to_owned());
        protected.add_file(
            &root.join(crate::project::CONFIG_FILE),
            format!("the configuration {}", crate::project::CONFIG_FILE),
        );
        // What the recorded images were built from: a script outside
        // packer/ that a template uploads is part of an image too.
        if let Ok(lock) = crate::lock::LockFile::read(root) {
            for (template, locked) in &lock.templates {
                let path = root.join(template);
                let folder = if path.is_dir() { path.as_path() } else { path.parent().unwrap_or(root) };
                for input in &locked.inputs {
                    protected.add_file(&folder.join(input), format!("a file {template} reads"));
                }
            }
        }
        let mut seen = BTreeSet::new();
        for folder in ["packer", "deployments"] {
            protected.add_tree(&root.join(folder), format!("inside {folder}/"), &mut seen);
        }
        protected
    }

    fn add_file(&mut self, path: &Path, what: String) {
        if let Ok(resolved) = resolve_target(path) {
            if let Ok(metadata) = fs::metadata(&resolved) {
                self.inodes.entry((metadata.dev(), metadata.ino())).or_insert_with(|| what.clone());
            }
            self.files.push((resolved, what));
        }
    }

    /// Protects a folder and, through every symlink in it, what they lead
    /// to: a folder reached that way is walked the same way, once, when it
    /// is inside the root (a link to `/` or to the root's own parent
    /// protects that folder whole without a walk of the disk).
    fn add_tree(&mut self, folder: &Path, what: String, seen: &mut BTreeSet<PathBuf>) {
        let Ok(resolved) = resolve_target(folder) else { return };
        if !seen.insert(resolved.clone()) {
            return;
        }
        if let Ok(metadata) = fs::metadata(&resolved) {
            let shown = self.shown(&resolved);
            self.folder_inodes.entry((metadata.dev(), metadata.ino())).or_insert(shown);
        }
        self.folders.push((resolved.clone(), what));
        if !resolved.starts_with(&self.root) || resolved == self.root {
            return;
        }
        let mut links = Vec::new();
        for entry in walkdir::WalkDir::new(&resolved).into_iter().filter_map(Result::ok) {
            if entry.path_is_symlink() {
                links.push(entry.into_path());
            } else if let Ok(metadata) = entry.metadata() {
                let rel = entry.path().strip_prefix(&self.root).unwrap_or(entry.path()).display().to_string();
                let known = if metadata.is_dir() { &mut self.folder_inodes } else { &mut self.inodes };
                known.entry((metadata.dev(), metadata.ino())).or_insert(rel);
            }
        }
        for link in links {
            let rel = link.strip_prefix(&self.root).unwrap_or(&link).display().to_string();
            let Ok(target) = resolve_target(&link) else { continue };
            if target.is_dir() {
                self.add_tree(&target, format!("a folder the symlink {rel} leads to"), seen);
            } else {
                self.files.push((target, format!("the file the symlink {rel} leads to")));
            }
        }
    }

    /// The file a write to `path` really changes, when it is none of the
    /// protected ones, nor a folder holding one.
    pub fn check(&self, path: &Path) -> Result<PathBuf, Refusal> {
        let resolved = resolve_target(path).map_err(Refusal::Unresolvable)?;
        let refuse = |what: &str| Refusal::Protected { resolved: self.shown(&resolved), what: what.to_owned() };
        if let Some((_, what)) = self.files.iter().find(|(file, _)| *file == resolved) {
            return Err(refuse(what));
        }
        if let Some((_, what)) = self.folders.iter().find(|(folder, _)| resolved.starts_with(folder)) {
            return Err(refuse(what));
        }
        if let Ok(metadata) = fs::metadata(&resolved)
            && let Some(what) = self.inodes.get(&(metadata.dev(), metadata.ino()))
        {
            return Err(refuse(&format!("a hard link to {what}")));
        }
        let mounted = resolved.ancestors().skip(1).find_map(|folder| {
            let metadata = fs::metadata(folder).ok()?;
            self.folder_inodes.get(&(metadata.dev(), metadata.ino()))
        });
        if let Some(what) = mounted {
            return Err(refuse(&format!("inside a mount of {what}/, the same folder")));
        }
        let holding = self.folders.iter().chain(&self.files).find(|(kept, _)| kept.starts_with(&resolved));
        if let Some((kept, _)) = holding {
            return Err(refuse(&format!("which holds {}", self.shown(kept))));
        }
        Ok(resolved)
    }

    /// A resolved path as messages show it: from the root when inside it.
    fn shown(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
            _ => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bind mount of a folder inside packer/ shows it under another path
    /// with the same device and inode: every folder of the tree is known
    /// that way, not only packer/ and deployments/ themselves. (Checked by
    /// hand with `unshare -m` and `mount --bind packer/4.0 target/mnt`:
    /// `--result target/mnt/aws/x.json` was written into packer/4.0/aws/.)
    #[test]
    fn every_folder_inside_a_protected_one_is_known_by_its_inode() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        for folder in ["packer/4.0/aws/machine-image/scripts", "deployments/prod", "target"] {
            fs::create_dir_all(root.join(folder)).unwrap();
        }
        let protected = Protected::of(&root);
        for folder in ["packer", "packer/4.0", "packer/4.0/aws/machine-image/scripts", "deployments/prod"] {
            let metadata = fs::metadata(root.join(folder)).unwrap();
            assert!(protected.folder_inodes.contains_key(&(metadata.dev(), metadata.ino())), "{folder}");
        }
        let target = fs::metadata(root.join("target")).unwrap();
        assert!(!protected.folder_inodes.contains_key(&(target.dev(), target.ino())));
    }
}
