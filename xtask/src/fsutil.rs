//! Reading only what is a regular file, and writes that never leave a
//! half-written file behind.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Why a path was not read. Its text completes "`<path>`: …" and says what
/// the path is, so that each caller can word its own finding or error.
#[derive(Debug)]
pub enum Unreadable {
    Missing,
    DanglingSymlink(PathBuf),
    Folder,
    /// A FIFO, a socket or a device: opening a FIFO blocks until someone
    /// writes to it, and a device can be endless.
    NotRegular(&'static str),
    TooLarge {
        bytes: u64,
        limit: u64,
    },
    Io(io::Error),
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::Missing => f.write_str("it does not exist"),
            Unreadable::DanglingSymlink(target) => {
                write!(f, "it is a symlink to `{}` that does not exist", target.display())
            }
            Unreadable::Folder => f.write_str("it is a folder, not a file"),
            Unreadable::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            Unreadable::TooLarge { bytes, limit } => {
                write!(f, "it is {:.1} MiB, over the limit of {} MiB", mib(*bytes), mib(*limit))
            }
            Unreadable::Io(error) => write!(f, "{error}"),
        }
    }
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// What `path` is, following symlinks, when it is a regular file; never
/// opens it.
pub fn regular_file(path: &Path) -> Result<fs::Metadata, Unreadable> {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(fs::read_link(path).map_or(Unreadable::Missing, Unreadable::DanglingSymlink));
        }
        Err(error) => return Err(Unreadable::Io(error)),
    };
    check_type(&metadata)?;
    Ok(metadata)
}

fn check_type(metadata: &fs::Metadata) -> Result<(), Unreadable> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok(());
    }
    Err(if kind.is_dir() {
        Unreadable::Folder
    } else if kind.is_fifo() {
        Unreadable::NotRegular("a FIFO (named pipe)")
    } else if kind.is_socket() {
        Unreadable::NotRegular("a socket")
    } else if kind.is_char_device() || kind.is_block_device() {
        Unreadable::NotRegular("a device")
    } else {
        Unreadable::NotRegular("a special file")
    })
}

/// Opens `path` for reading only when it is a regular file. The open does
/// not block on a FIFO put there after the check, and what was opened is
/// checked again, so a swapped path is refused rather than read.
pub fn open_regular(path: &Path) -> Result<(fs::File, fs::Metadata), Unreadable> {
    regular_file(path)?;
    let file = fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(Unreadable::Io)?;
    let metadata = file.metadata().map_err(Unreadable::Io)?;
    check_type(&metadata)?;
    Ok((file, metadata))
}

/// The bytes of `path` when it is a regular file of at most `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, Unreadable> {
    let (file, metadata) = open_regular(path)?;
    if metadata.len() > limit {
        return Err(Unreadable::TooLarge { bytes: metadata.len(), limit });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // The file may grow after the check: never read more than the limit.
    file.take(limit + 1).read_to_end(&mut bytes).map_err(Unreadable::Io)?;
    if bytes.len() as u64 > limit {
        return Err(Unreadable::TooLarge { bytes: bytes.len() as u64, limit });
    }
    Ok(bytes)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// flushed to disk, then renamed over the target. Readers see the old file
/// or the new one, never a mix; a crash leaves at most a stray temporary.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_file(path, bytes)?;
    sync_folder_of(path);
    Ok(())
}

/// Flushes the folder holding `path`, which makes renames in it durable.
/// Writing many files into one folder, call it once after the last
/// [`replace_file`].
pub fn sync_folder_of(path: &Path) {
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(folder) = fs::File::open(dir) {
        let _ = folder.sync_all();
    }
}

/// The temporary name [`replace_file`] writes `name` under, in the same
/// folder: `.NAME.xtask-PID.tmp`.
fn temporary_name(name: &str) -> String {
    format!(".{name}.xtask-{}.tmp", std::process::id())
}

/// True for a name [`temporary_name`] makes, whatever the pid.
fn is_temporary_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .and_then(|rest| rest.rsplit_once(".xtask-"))
        .is_some_and(|(target, pid)| !target.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes the temporaries a killed writer left in `folders` (not below
/// them). The caller must know no writer is at work there. Returns how many
/// it removed.
pub fn remove_stale_temporaries(folders: &[PathBuf]) -> usize {
    let mut removed = 0;
    for folder in folders {
        let Ok(entries) = fs::read_dir(folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
            if is_file
                && is_temporary_name(&entry.file_name().to_string_lossy())
                && fs::remove_file(entry.path()).is_ok()
            {
                removed += 1;
            }
        }
    }
    removed
}

/// [`write_atomic`] without flushing the folder.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_file_unless_changed(path, bytes, || Ok(()))
}

/// [`replace_file`], with `unchanged` called once the new bytes are on disk,
/// right before the rename: an error from it (the file was edited
/// meanwhile) leaves the file as it is. What is left is the instant between
/// that check and the rename, which a rename cannot close.
pub fn replace_file_unless_changed(path: &Path, bytes: &[u8], unchanged: impl Fn() -> Result<()>) -> Result<()> {
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().context("a file path has a name")?.to_string_lossy();
    let temporary = dir.join(temporary_name(&name));
    let result = (|| -> Result<()> {
        let mut file = fs::File::create(&temporary).with_context(|| format!("creating {}", temporary.display()))?;
        file.write_all(bytes).with_context(|| format!("writing {}", temporary.display()))?;
        if let Ok(metadata) = fs::metadata(path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.sync_all().with_context(|| format!("flushing {}", temporary.display()))?;
        unchanged()?;
        fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// The real file behind `path`, which must lie inside `root`: a symlink that
/// leads out of the repository is refused rather than written through.
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf> {
    let root = fs::canonicalize(root).with_context(|| format!("resolving {}", root.display()))?;
    let target = fs::canonicalize(path).with_context(|| format!("resolving {}", path.display()))?;
    if !target.starts_with(&root) {
        bail!(
            "{} leads to {}, outside the repository; replace the symlink with the file itself",
            path.display(),
            target.display()
        );
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary left behind");
    }

    #[test]
    fn a_file_changed_before_the_rename_is_left_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        fs::write(&path, "edited meanwhile").unwrap();
        let refused = replace_file_unless_changed(&path, b"new", || anyhow::bail!("a.yaml changed"));
        assert!(refused.is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), "edited meanwhile");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary left behind");
    }

    #[test]
    fn stale_temporaries_are_recognised_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".a.yaml.xtask-12.tmp", ".images.lock.xtask-99999.tmp", "a.yaml", ".a.yaml.xtask-.tmp", ".x.tmp"] {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        assert_eq!(remove_stale_temporaries(&[dir.path().to_path_buf()]), 2);
        let mut left: Vec<String> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        left.sort();
        assert_eq!(left, [".a.yaml.xtask-.tmp", ".x.tmp", "a.yaml"]);
        assert!(is_temporary_name(&temporary_name("b.yaml")));
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
        let problem = read_regular(&fifo, 100).unwrap_err().to_string();
        assert_eq!(problem, "it is a FIFO (named pipe), not a regular file");
        std::os::unix::fs::symlink("gone", dir.path().join("link")).unwrap();
        let problem = read_regular(&dir.path().join("link"), 100).unwrap_err().to_string();
        assert_eq!(problem, "it is a symlink to `gone` that does not exist");
        assert!(matches!(read_regular(dir.path(), 100), Err(Unreadable::Folder)));
        assert!(matches!(read_regular(Path::new("/dev/zero"), 100), Err(Unreadable::NotRegular(_))));
        fs::write(dir.path().join("big"), "x".repeat(101)).unwrap();
        assert!(matches!(read_regular(&dir.path().join("big"), 100), Err(Unreadable::TooLarge { bytes: 101, .. })));
        assert_eq!(read_regular(&dir.path().join("big"), 101).unwrap().len(), 101);
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("x.yaml"), "a: 1").unwrap();
        std::os::unix::fs::symlink(outside.path().join("x.yaml"), root.path().join("x.yaml")).unwrap();
        assert!(resolve_inside(root.path(), &root.path().join("x.yaml")).is_err());
        fs::write(root.path().join("y.yaml"), "a: 1").unwrap();
        assert!(resolve_inside(root.path(), &root.path().join("y.yaml")).is_ok());
    }
}
