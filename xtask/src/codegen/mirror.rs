//! The git mirrors both generated tables are read from, in the layout the
//! `fetch` tool gives: `<dir>/<owner>+<name>/repo`, each with every tag.
//! They are read with `git` alone (`ls-tree`, `cat-file`, `show`), so no
//! checkout is needed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::version::Version;

/// One repository mirror.
pub struct Repo {
    sh: Shell,
    dir: PathBuf,
}

impl Repo {
    /// The mirror of `folder` (`hashicorp+packer`) under `mirrors`.
    pub fn open(mirrors: &Path, folder: &str) -> Result<Repo> {
        let dir = mirrors.join(folder).join("repo");
        if !dir.is_dir() {
            bail!("{} is missing: fetch the mirror (github:{}) first", dir.display(), folder.replacen('+', "/", 1));
        }
        Ok(Repo { sh: Shell::new()?, dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The release tags (`vX.Y.Z`, no pre-releases) as full refs, oldest first.
    pub fn releases(&self) -> Result<Vec<(Version, String)>> {
        let dir = &self.dir;
        let tags = cmd!(self.sh, "git -C {dir} tag -l v*")
            .quiet()
            .read()
            .with_context(|| format!("listing the tags of {}", dir.display()))?;
        let mut out: Vec<(Version, String)> =
            tags.lines().filter_map(|tag| Some((Version::parse(tag)?, format!("refs/tags/{tag}")))).collect();
        out.sort();
        Ok(out)
    }

    /// (path, blob id) of every file at `rev`.
    pub fn listing(&self, rev: &str) -> Result<Vec<(String, String)>> {
        let dir = &self.dir;
        let text = cmd!(self.sh, "git -C {dir} ls-tree -r {rev}")
            .quiet()
            .read()
            .with_context(|| format!("listing {rev} in {}", dir.display()))?;
        Ok(text
            .lines()
            .filter_map(|line| {
                let (meta, path) = line.split_once('\t')?;
                let mut words = meta.split(' ');
                let (_, kind, id) = (words.next()?, words.next()?, words.next()?);
                (kind == "blob").then(|| (path.to_owned(), id.to_owned()))
            })
            .collect())
    }

    /// The paths of the entries of folder `dir` at `rev` (`""`: the top).
    pub fn files(&self, rev: &str, dir: &str) -> Result<Vec<String>> {
        let (git_dir, spec) = (&self.dir, format!("{rev}:{dir}"));
        // `ls-tree rev:dir` lists names relative to `dir`.
        let listing = cmd!(self.sh, "git -C {git_dir} ls-tree --name-only {spec}")
            .quiet()
            .read()
            .with_context(|| format!("listing {dir} at {rev} in {}", git_dir.display()))?;
        Ok(listing.lines().map(|name| if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") }).collect())
    }

    /// The text of one file at `rev`.
    pub fn show(&self, rev: &str, path: &str) -> Result<String> {
        let (git_dir, spec) = (&self.dir, format!("{rev}:{path}"));
        cmd!(self.sh, "git -C {git_dir} show {spec}")
            .quiet()
            .ignore_stderr()
            .read()
            .with_context(|| format!("reading {path} at {rev} in {}", git_dir.display()))
    }

    /// Does the mirror have this commit (or tag)?
    pub fn has(&self, rev: &str) -> bool {
        let (git_dir, spec) = (&self.dir, format!("{rev}^{{commit}}"));
        cmd!(self.sh, "git -C {git_dir} rev-parse --verify --quiet {spec}").quiet().ignore_stdout().run().is_ok()
    }

    /// The contents of these blobs, in one `git cat-file --batch`.
    pub fn blobs(&self, ids: &[&str]) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let dir = &self.dir;
        let mut request = ids.join("\n");
        request.push('\n');
        let output = cmd!(self.sh, "git -C {dir} cat-file --batch")
            .quiet()
            .stdin(request)
            .output()
            .with_context(|| format!("reading blobs of {}", dir.display()))?;
        let bytes = output.stdout;
        let mut out = Vec::with_capacity(ids.len());
        let mut at = 0;
        for id in ids {
            let header_end = at + bytes[at..].iter().position(|b| *b == b'\n').context("cat-file: truncated")?;
            let header = std::str::from_utf8(&bytes[at..header_end])?;
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|size| size.parse().ok())
                .with_context(|| format!("cat-file: `{header}` for {id}"))?;
            let body = &bytes[header_end + 1..header_end + 1 + size];
            out.push(String::from_utf8_lossy(body).into_owned());
            at = header_end + 1 + size + 1;
        }
        Ok(out)
    }
}

/// The git revision of a Go module version: the tag, or the commit a
/// pseudo-version (`v0.0.7-0.20210111224258-fd30ebb797f0`) ends with.
pub fn revision_of(version: &str) -> String {
    let base = version.split('+').next().unwrap_or(version);
    match base.rsplit_once('-') {
        Some((_, commit)) if commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit()) => commit.to_owned(),
        // A tag, named in full: some repositories have a branch of the same name.
        _ => format!("refs/tags/{base}"),
    }
}

#[cfg(test)]
mod tests {
    use super::revision_of;

    #[test]
    fn pseudo_versions_name_their_commit() {
        assert_eq!(revision_of("v0.0.7-0.20210111224258-fd30ebb797f0"), "fd30ebb797f0");
        assert_eq!(revision_of("v0.2.3"), "refs/tags/v0.2.3");
        assert_eq!(revision_of("v2.0.0+incompatible"), "refs/tags/v2.0.0");
    }
}
