//! `cargo xtask pre-commit`: lints what is being committed, that is the
//! index's content, not the working tree: staged templates and deployments,
//! and the deployments a staged template (or a file it uploads) affects.
//! The shared selection narrows that: `--release`, `--cloud` and `--image`
//! as for `lint`, paths to the staged files at or below them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::lint;
use crate::project::{Filter, Layout};
use crate::registry::Registry;
use crate::render::{self, Format};
use crate::version::Version;

/// Paths git prints with `-z`.
fn nul_separated(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

fn git_paths(sh: &Shell, args: &[&str]) -> Result<Vec<String>> {
    let output =
        cmd!(sh, "git {args...}").quiet().output().with_context(|| format!("running git {}", args.join(" ")))?;
    Ok(nul_separated(&output.stdout))
}

/// The template folder (if any) a staged path belongs to:
/// `packer/3.11/aws/machine-image/scripts/x.sh` →
/// `packer/3.11/aws/machine-image`; a template file at the wrong depth
/// (`packer/aws/template.json`) belongs to its own folder.
fn template_of(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() >= 5 && parts[0] == "packer" {
        return Some(parts[..4].join("/"));
    }
    let (folder, _) = path.rsplit_once('/')?;
    (path.starts_with("packer/") && is_template_file(path)).then(|| folder.to_owned())
}

/// A `template.json`, `*.pkr.hcl` or `*.pkrvars.hcl`.
fn is_template_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "template.json" || crate::hcl2::FileKind::of(name).is_some()
}

/// An index entry: its blob and path.
struct Entry {
    blob: String,
    path: String,
}

/// `git ls-files -s -z` for the given folders.
fn index_entries(sh: &Shell) -> Result<Vec<Entry>> {
    let output = cmd!(sh, "git ls-files -s -z -- packer deployments xtask.toml")
        .quiet()
        .output()
        .context("running git ls-files")?;
    Ok(nul_separated(&output.stdout)
        .into_iter()
        .filter_map(|line| {
            // `<mode> <blob> <stage>\t<path>`; merge stages other than 0
            // mean a conflict, which git refuses to commit anyway.
            let (meta, path) = line.split_once('\t')?;
            let mut fields = meta.split(' ');
            let (_, blob, stage) = (fields.next()?, fields.next()?, fields.next()?);
            (stage == "0").then(|| Entry { blob: blob.to_owned(), path: path.to_owned() })
        })
        .collect())
}

/// The contents of blobs, read through one `git cat-file --batch`.
fn read_blobs(sh: &Shell, blobs: &[&str]) -> Result<Vec<Vec<u8>>> {
    if blobs.is_empty() {
        return Ok(Vec::new());
    }
    let request: String = blobs.iter().map(|blob| format!("{blob}\n")).collect();
    let output = cmd!(sh, "git cat-file --batch").quiet().stdin(request).output().context("running git cat-file")?;
    // Each answer: `<blob> blob <size>\n`, the bytes, `\n`.
    let mut rest = output.stdout.as_slice();
    let mut contents = Vec::with_capacity(blobs.len());
    for blob in blobs {
        let header_end = rest.iter().position(|&b| b == b'\n').context("git cat-file stopped early")?;
        let header = String::from_utf8_lossy(&rest[..header_end]).into_owned();
        let size: usize = header
            .split(' ')
            .nth(2)
            .and_then(|size| size.parse().ok())
            .with_context(|| format!("git cat-file could not read {blob}: {header}"))?;
        let body = rest.get(header_end + 1..header_end + 1 + size).context("git cat-file stopped early")?;
        contents.push(body.to_vec());
        rest = rest.get(header_end + 2 + size..).unwrap_or_default();
    }
    Ok(contents)
}

/// The release and cloud a deployment's text names.
fn release_cloud(text: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(text).ok()?;
    let root = crate::yaml::parse(text).ok()?;
    let text = |key: &str| Some(root.lookup(&crate::location::Route::root().key(key))?.as_str()?.to_owned());
    Some((text("release")?, text("cloud")?))
}

/// What to lint of what is staged.
pub struct Options {
    /// `--root`: the work tree whose index is linted; by default the one
    /// the current folder is in.
    pub root: Option<PathBuf>,
    pub filter: Filter,
    /// Only the staged files at or below these paths (from the current
    /// folder), and the templates of staged files named inside them.
    pub paths: Vec<PathBuf>,
    /// `--packer-version`, the Packer release to judge the staged
    /// templates against (over xtask.toml and the installed `packer`).
    pub packer_version: Option<Version>,
}

/// `rules` is every rule (`catalogue::registry`).
pub fn run(options: &Options, format: Format, rules: &Registry) -> Result<ExitCode> {
    let sh = Shell::new()?;
    let start = match &options.root {
        Some(root) if !root.is_dir() => {
            bail!("the root `{}` is not a folder; pass --root with the repository's top folder", root.display())
        }
        Some(root) => root.clone(),
        None => std::env::current_dir()?,
    };
    // Git runs hooks at the top of the work tree (where `.git` is, a folder
    // or, in a worktree, a file); elsewhere, ask git where the top is.
    let top = if start.join(".git").exists() {
        start
    } else {
        sh.change_dir(&start);
        PathBuf::from(cmd!(sh, "git rev-parse --show-toplevel").quiet().read().context("not inside a git repository")?)
    };
    sh.change_dir(&top);
    let staged =
        git_paths(&sh, &["diff", "--cached", "--name-only", "-z", "--no-renames", "--", "packer", "deployments"])?;
    // The selection is of what is staged, deletions included: `--release
    // 3.9` after `git rm -r packer/3.9` checks what that removal leaves.
    if let Err(error) = options.filter.check_matches(&top) {
        let mut staged_layouts = staged.iter().filter_map(|path| Layout::from_relative(&template_of(path)?).ok());
        if !staged_layouts.any(|layout| options.filter.accepts_layout(&layout)) {
            return Err(error);
        }
    }
    let prefixes = staged_prefixes(&top, &options.paths, &staged)?;
    // The hook stays silent when there is nothing to check; a person who
    // narrowed the check is told that nothing was.
    let selected = !options.paths.is_empty() || !options.filter.is_empty();
    if staged.is_empty() {
        if selected {
            say!("Nothing is staged under packer/ or deployments/: nothing checked.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let entries = index_entries(&sh)?;
    let in_index = |path: &str| entries.iter().any(|entry| entry.path == path);
    let is_deployment =
        |path: &str| path.starts_with("deployments/") && (path.ends_with(".yaml") || path.ends_with(".yml"));

    // Templates the change touches (staged, deleted, or one of whose files
    // is); those still in the index are linted.
    let changed: BTreeSet<String> = staged.iter().filter_map(|path| template_of(path)).collect();
    // Their template files still in the index: `template.json`, or the
    // `.pkr.hcl` and var files of an HCL2 folder, linted as one template.
    let templates: BTreeSet<String> = entries
        .iter()
        .map(|entry| &entry.path)
        .filter(|path| {
            is_template_file(path) && path.rsplit_once('/').is_some_and(|(folder, _)| changed.contains(folder))
        })
        .cloned()
        .collect();
    // The release and cloud folders those changes touch.
    let mut pairs: BTreeSet<(String, String)> = changed
        .iter()
        .filter_map(|template| Layout::from_relative(template).ok())
        .map(|layout| (layout.release, layout.cloud))
        .collect();
    // Deployments to lint: those staged, and, when templates or the lock
    // changed, those of the touched release and cloud (every one for the lock).
    let lock_changed = staged.iter().any(|path| path == "packer/images.lock");
    let mut deployments: BTreeSet<String> =
        staged.iter().filter(|path| is_deployment(path) && in_index(path)).cloned().collect();
    let candidates: Vec<&Entry> = entries
        .iter()
        .filter(|entry| is_deployment(&entry.path))
        .filter(|entry| deployments.contains(&entry.path) || lock_changed || !pairs.is_empty())
        .collect();
    let texts = read_blobs(&sh, &candidates.iter().map(|entry| entry.blob.as_str()).collect::<Vec<_>>())?;
    let touched = pairs.clone();
    for (entry, text) in candidates.iter().zip(&texts) {
        let pair = release_cloud(text);
        let affected = lock_changed || pair.as_ref().is_some_and(|pair| touched.contains(pair));
        if deployments.contains(&entry.path) || affected {
            deployments.insert(entry.path.clone());
            pairs.extend(pair);
        }
    }

    // Write out only what linting these needs: them, every file of the
    // templates of their releases and clouds, the lock file and the
    // configuration.
    let needed: Vec<String> = entries
        .iter()
        .map(|entry| entry.path.clone())
        .filter(|path| {
            deployments.contains(path)
                || path == "packer/images.lock"
                || path == crate::config::FILE
                || Layout::from_relative(&template_of(path).unwrap_or_default())
                    .is_ok_and(|layout| pairs.contains(&(layout.release, layout.cloud)))
                || template_of(path).is_some_and(|folder| changed.contains(&folder))
        })
        .collect();
    let snapshot = Snapshot::of_index(&sh, &needed)?;
    let root = snapshot.0.clone();

    // The paths narrow what is linted, not what the snapshot holds: a
    // deployment is still judged against every template of its release.
    let named = |path: &str| prefixes.is_empty() || prefixes.iter().any(|prefix| within(path, prefix));
    let report = lint::lint_filtered(
        root.clone(),
        lint::Request {
            templates: templates
                .iter()
                .filter(|rel| {
                    let folder = rel.rsplit_once('/').map_or("", |(folder, _)| folder);
                    named(folder) || prefixes.iter().any(|prefix| within(prefix, folder))
                })
                .map(|rel| root.join(rel))
                .collect(),
            deployments: deployments.iter().filter(|rel| named(rel)).map(|rel| root.join(rel)).collect(),
            everything: false,
            var_files: Vec::new(),
            packer_version: options.packer_version,
        },
        &options.filter,
        rules,
    )?;
    if report.files.is_empty() {
        if selected {
            say!("No staged template or deployment is in the selection: nothing checked.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    show!("{}", render::render(&report, format, "staged file", rules, &top));
    if report.has_errors() {
        say!(
            "Commit refused: these are the staged versions (`git diff --cached`). Fix them and `git add` the fixes; \
             `git commit --no-verify` skips this check."
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The paths given, relative to the work tree's top with forward slashes
/// (`""` for the top itself), as the index names files.
///
/// A path that is gone from the work tree is taken when a staged change is
/// at or below it (`git rm -r packer/3.9`, then `pre-commit packer/3.9`).
fn staged_prefixes(top: &Path, paths: &[PathBuf], staged: &[String]) -> Result<Vec<String>> {
    let top = std::fs::canonicalize(top).with_context(|| format!("resolving {}", top.display()))?;
    paths
        .iter()
        .map(|path| {
            let (absolute, exists) = match resolved(path) {
                Ok(absolute) => (absolute, true),
                Err(error) => match gone(path) {
                    Some(absolute) => (absolute, false),
                    None => return Err(error).with_context(|| format!("resolving {}", path.display())),
                },
            };
            let Ok(inside) = absolute.strip_prefix(&top) else {
                bail!("`{}` is outside the repository {}", path.display(), top.display())
            };
            let prefix = crate::project::relative(Path::new(""), inside);
            if !exists && !staged.iter().any(|staged| within(staged, &prefix)) {
                bail!("`{}` does not exist, and no staged change is at or below it", path.display());
            }
            Ok(prefix)
        })
        .collect()
}

/// A path that does not exist, made absolute from its nearest folder that
/// does (with that folder's links followed), when what is missing is plain
/// names: nothing that `..` or a link could make name another place.
fn gone(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut missing = Vec::new();
    let mut existing = path;
    while !existing.as_os_str().is_empty() && std::fs::symlink_metadata(existing).is_err() {
        match existing.components().next_back()? {
            Component::Normal(name) => missing.push(name),
            _ => return None,
        }
        existing = existing.parent()?;
    }
    let existing = if existing.as_os_str().is_empty() { Path::new(".") } else { existing };
    let mut absolute = std::fs::canonicalize(existing).ok()?;
    absolute.extend(missing.iter().rev());
    Some(absolute)
}

/// `path` made absolute with its folders' links followed, and its own when
/// it leads to a folder: a staged symlink to a file (`deployments/link.yaml`)
/// is a file of its own in the index, and following it named the file it
/// leads to instead, so the link went unlinted.
fn resolved(path: &Path) -> std::io::Result<PathBuf> {
    let is_file_link = std::fs::symlink_metadata(path)?.is_symlink() && !path.is_dir();
    match (path.parent(), path.file_name()) {
        (Some(folder), Some(name)) if is_file_link => {
            let folder = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
            Ok(std::fs::canonicalize(folder)?.join(name))
        }
        _ => std::fs::canonicalize(path),
    }
}

/// Whether `path` is `prefix` or below it (every path is below `""`).
fn within(path: &str, prefix: &str) -> bool {
    prefix.is_empty() || path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// The index's version of the given paths, written out to a scratch
/// folder that is removed when dropped.
struct Snapshot(PathBuf);

impl Snapshot {
    fn of_index(sh: &Shell, paths: &[String]) -> Result<Snapshot> {
        // A new folder of this user's: a name in the shared temporary
        // folder that was there before could lead anywhere.
        let snapshot = Snapshot(crate::fsutil::fresh_private_folder(&std::env::temp_dir(), "xtask-pre-commit")?);
        let prefix = format!("--prefix={}/", snapshot.0.display());
        let list: Vec<u8> = paths.iter().flat_map(|path| path.bytes().chain(std::iter::once(0))).collect();
        cmd!(sh, "git checkout-index -z --stdin {prefix}")
            .quiet()
            .stdin(list)
            .run()
            .context("running git checkout-index")?;
        Ok(snapshot)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_files_belong_to_their_template() {
        assert_eq!(
            template_of("packer/3.11/aws/machine-image/scripts/install.sh").as_deref(),
            Some("packer/3.11/aws/machine-image")
        );
        assert_eq!(
            template_of("packer/4.0/aws/machine-image/prod.pkrvars.hcl").as_deref(),
            Some("packer/4.0/aws/machine-image")
        );
        assert_eq!(template_of("packer/aws/template.json").as_deref(), Some("packer/aws"));
        assert_eq!(template_of("packer/aws/notes.txt"), None);
        assert_eq!(template_of("deployments/a.yaml"), None);
        assert_eq!(template_of("packer/images.lock"), None);
    }

    #[test]
    fn a_path_holds_what_is_at_or_below_it() {
        assert!(within("packer/3.11/aws/machine-image", "packer/3.11"));
        assert!(within("packer/3.11", "packer/3.11"));
        assert!(within("deployments/a.yaml", ""));
        assert!(!within("packer/3.110/aws/machine-image", "packer/3.11"));
        assert!(!within("packer", "packer/3.11"));
    }
}
