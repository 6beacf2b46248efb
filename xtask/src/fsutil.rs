//! Reading only what is a regular file, and writes that never leave a
//! half-written file behind.

use std::ffi::{OsStr, OsString};
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
///
/// `path` is the file a caller resolved and checked: the write goes to its
/// folder through a handle opened without following any symlink
/// ([`Folder::open`]), so a folder on the way swapped for a symlink after
/// the check fails the write rather than redirecting it.
pub fn replace_file_unless_changed(path: &Path, bytes: &[u8], unchanged: impl Fn() -> Result<()>) -> Result<()> {
    only_a_file_or_nothing(path)?;
    let (folder, name) = Folder::of(path)?;
    let temporary = OsString::from(temporary_name(&name.to_string_lossy()));
    let shown = path.with_file_name(&temporary);
    let mut file = folder.create_new(&temporary, 0o666).with_context(|| format!("creating {}", shown.display()))?;
    let result = (|| -> Result<()> {
        file.write_all(bytes).with_context(|| format!("writing {}", shown.display()))?;
        if let Ok(metadata) = fs::metadata(path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.sync_all().with_context(|| format!("flushing {}", shown.display()))?;
        unchanged()?;
        folder.rename(&temporary, &name).with_context(|| format!("replacing {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = folder.remove(&temporary);
    }
    result
}

/// Fails when [`replace_file`] could not write `path` now: its folder
/// cannot be made, or its temporary file cannot be created there (a name
/// too long, a folder not writable). What it creates it removes.
pub fn check_writable(path: &Path) -> Result<()> {
    if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
        fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    let (folder, name) = Folder::of(path)?;
    let temporary = OsString::from(temporary_name(&name.to_string_lossy()));
    let shown = path.with_file_name(&temporary);
    folder.create_new(&temporary, 0o600).with_context(|| format!("creating {}", shown.display()))?;
    folder.remove(&temporary).with_context(|| format!("removing {}", shown.display()))
}

/// Creates `path` as a new file with `mode` (less the umask), never
/// opening what is there already: a file of the same name, a killed run's
/// or a symlink put there to redirect the write, is removed first (the
/// link itself, not what it leads to). Its folder is reached without
/// following a symlink, as in [`replace_file_unless_changed`].
///
/// Anything else there (a device, a FIFO, a folder) is left alone and
/// refused: removing `/dev/null` because a symlink led to it would break
/// the machine.
pub fn create_new(path: &Path, mode: u32) -> io::Result<fs::File> {
    let (folder, name) = Folder::of(path).map_err(|error| io::Error::other(format!("{error:#}")))?;
    folder.create_new(&name, mode)
}

/// A folder held open, reached from `/` (or the current folder) one name at
/// a time without following a symlink: what is done in it happens in that
/// very folder, wherever its path leads by then.
struct Folder {
    fd: std::os::fd::OwnedFd,
}

impl Folder {
    /// The folder of `path`, and the name of `path` in it.
    fn of(path: &Path) -> Result<(Folder, OsString)> {
        let name = path.file_name().with_context(|| format!("{} names no file", path.display()))?.to_owned();
        let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let folder = Folder::open(dir).map_err(|error| match error.raw_os_error() {
            Some(libc::ELOOP | libc::ENOTDIR) => anyhow::anyhow!(
                "{}: a folder on the way to it is a symlink or a file now, not the folder xtask checked; nothing was \
                 written, run again",
                path.display()
            ),
            _ => anyhow::Error::new(error).context(format!("opening {}", dir.display())),
        })?;
        Ok((folder, name))
    }

    /// Opens `dir`, which must hold no symlink: each step is opened with
    /// `O_NOFOLLOW` from the one before, so a symlink anywhere fails it.
    fn open(dir: &Path) -> io::Result<Folder> {
        use std::path::Component;
        let start = if dir.is_absolute() { "/" } else { "." };
        let mut folder = Folder::open_at(libc::AT_FDCWD, OsStr::new(start))?;
        for component in dir.components() {
            let name = match component {
                Component::RootDir | Component::CurDir | Component::Prefix(_) => continue,
                Component::ParentDir => OsStr::new(".."),
                Component::Normal(name) => name,
            };
            folder = Folder::open_at(folder.raw(), name)?;
        }
        Ok(folder)
    }

    fn open_at(at: std::os::fd::RawFd, name: &OsStr) -> io::Result<Folder> {
        use std::os::fd::FromRawFd;
        let name = c_name(name)?;
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: openat(2) with a live descriptor (or AT_FDCWD) and a C string.
        let fd = unsafe { libc::openat(at, name.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a descriptor openat just returned, owned by nobody else.
        Ok(Folder { fd: unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) } })
    }

    fn raw(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.fd.as_raw_fd()
    }

    /// [`create_new`] in this folder.
    fn create_new(&self, name: &OsStr, mode: u32) -> io::Result<fs::File> {
        use std::os::fd::FromRawFd;
        let c = c_name(name)?;
        let open = || {
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
            // SAFETY: openat(2) with a live folder descriptor and a C string.
            let fd = unsafe { libc::openat(self.raw(), c.as_ptr(), flags, mode as libc::c_uint) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a descriptor openat just returned, owned by nobody else.
            Ok(unsafe { fs::File::from_raw_fd(fd) })
        };
        match open() {
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                let what = match self.kind_of(&c)? {
                    libc::S_IFREG | libc::S_IFLNK => None,
                    libc::S_IFDIR => Some(Unreadable::Folder),
                    libc::S_IFIFO => Some(Unreadable::NotRegular("a FIFO (named pipe)")),
                    libc::S_IFSOCK => Some(Unreadable::NotRegular("a socket")),
                    libc::S_IFCHR | libc::S_IFBLK => Some(Unreadable::NotRegular("a device")),
                    _ => Some(Unreadable::NotRegular("a special file")),
                };
                if let Some(what) = what {
                    return Err(io::Error::new(io::ErrorKind::AlreadyExists, what.to_string()));
                }
                self.remove(name)?;
                open()
            }
            opened => opened,
        }
    }

    /// The type bits (`S_IFMT`) of `name` itself, not of what it links to.
    fn kind_of(&self, name: &std::ffi::CStr) -> io::Result<libc::mode_t> {
        // SAFETY: an all-zero `stat` is a valid value of the plain C struct.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstatat(2) with a live folder descriptor, a C string and a
        // live `stat` to fill.
        if unsafe { libc::fstatat(self.raw(), name.as_ptr(), &mut stat, libc::AT_SYMLINK_NOFOLLOW) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stat.st_mode & libc::S_IFMT)
    }

    fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        // SAFETY: renameat(2) within one live folder descriptor, two C strings.
        if unsafe { libc::renameat(self.raw(), from.as_ptr(), self.raw(), to.as_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn remove(&self, name: &OsStr) -> io::Result<()> {
        let name = c_name(name)?;
        // SAFETY: unlinkat(2) with a live folder descriptor and a C string.
        if unsafe { libc::unlinkat(self.raw(), name.as_ptr(), 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

fn c_name(name: &OsStr) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(name.as_encoded_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
}

/// Refuses to replace what is at `path` unless it is a regular file or
/// nothing: a rename over a device or a FIFO would replace it.
fn only_a_file_or_nothing(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            bail!("{} is a symlink; xtask writes to the file it leads to, resolved first", path.display())
        }
        Ok(metadata) => check_type(&metadata).map_err(|why| anyhow::anyhow!("{}: {why}", path.display())),
        Err(_) => Ok(()),
    }
}

/// Makes `path` a folder only its owner can enter (mode 0700), creating it
/// and its parents when missing. A folder there already must be a real
/// folder (not a symlink) owned by this user; its mode is narrowed.
pub fn private_folder(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    match fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error).with_context(|| format!("creating {}", path.display())),
    }
    let metadata = fs::symlink_metadata(path).with_context(|| format!("reading {}", path.display()))?;
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !metadata.is_dir() || metadata.uid() != me {
        bail!(
            "{} must be a folder of your own, and it is {}; remove it and run again",
            path.display(),
            if metadata.is_dir() { "another user's folder" } else { "not a folder" }
        );
    }
    if metadata.permissions().mode() & 0o777 != 0o700 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", path.display()))?;
    }
    Ok(())
}

/// A new folder, mode 0700, in `parent`, named `PREFIX-PID-N` with the first
/// N free: never one that was there before, which another user could have
/// made or linked elsewhere.
pub fn fresh_private_folder(parent: &Path, prefix: &str) -> Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let parent = resolve_target(parent).with_context(|| format!("resolving {}", parent.display()))?;
    for attempt in 0..1000 {
        let path = parent.join(format!("{prefix}-{}-{attempt}", std::process::id()));
        match fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok(path),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error).with_context(|| format!("creating {}", path.display())),
        }
    }
    bail!("no free name for a folder {prefix}-{}-N in {}; clear it out", std::process::id(), parent.display())
}

/// Removes `folder` and all it holds when every name in it is one of
/// `names`, what xtask itself puts there; nothing there is fine. A folder
/// of xtask's may be reached through a symlink (checked, and not into the
/// repository) that leads to a folder of the user's: that is refused,
/// naming what is in it, rather than emptied.
pub fn remove_own_folder(folder: &Path, names: &[&str]) -> Result<()> {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error).with_context(|| format!("reading {}", folder.display())),
    };
    let mut foreign: Vec<String> = entries
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| !names.contains(&name.as_str()))
        .collect();
    if !foreign.is_empty() {
        foreign.sort();
        let shown = if foreign.len() > 3 { format!("{}, …", foreign[..3].join(", ")) } else { foreign.join(", ") };
        bail!(
            "{} holds {shown}, which xtask did not put there, so it was not removed; if a symlink leads there, \
             remove the symlink",
            folder.display()
        );
    }
    fs::remove_dir_all(folder).with_context(|| format!("removing {}", folder.display()))
}

/// How many symlinks one path may go through, as on Linux (`MAXSYMLINKS`).
const MAX_SYMLINKS: usize = 40;

/// The file a write to `path` really changes: an absolute path with no
/// symlink, `.` or `..` left in it. Every writer of xtask writes to what
/// this returns, so that the file checked is the file written.
///
/// A relative path is taken from the current folder, as the system takes
/// it. Symlinks are followed wherever they stand: a folder on the way, the
/// last component, a chain, and a dangling link too, since a write through
/// it creates what it names. Below the deepest folder that exists, `..`
/// takes off the name before it, which is where a writer that creates the
/// missing folders ends up (`nothere/../deployments/x.yaml` is
/// `deployments/x.yaml`).
pub fn resolve_target(path: &Path) -> io::Result<PathBuf> {
    let mut pending: Vec<Part> = Vec::new();
    push_parts(&mut pending, path);
    if !path.is_absolute() {
        push_parts(&mut pending, &std::env::current_dir()?);
    }
    let mut resolved = PathBuf::from("/");
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match part {
            Part::Root => resolved = PathBuf::from("/"),
            Part::Parent => {
                resolved.pop();
            }
            Part::Name(name) => {
                let next = resolved.join(&name);
                match fs::symlink_metadata(&next) {
                    Ok(metadata) if metadata.file_type().is_symlink() => {
                        links += 1;
                        if links > MAX_SYMLINKS {
                            return Err(io::Error::from_raw_os_error(libc::ELOOP));
                        }
                        // A relative target is read from the link's folder,
                        // where `resolved` still is.
                        push_parts(&mut pending, &fs::read_link(&next)?);
                    }
                    Ok(_) => resolved = next,
                    // Missing, or below a file: the write creates it or fails.
                    Err(error)
                        if error.kind() == io::ErrorKind::NotFound || error.raw_os_error() == Some(libc::ENOTDIR) =>
                    {
                        resolved = next
                    }
                    Err(error) => return Err(error),
                }
            }
        }
    }
    Ok(resolved)
}

/// A step of a path still to be resolved.
enum Part {
    Root,
    Parent,
    Name(OsString),
}

/// Puts the steps of `path` on a stack, its first step on top.
fn push_parts(stack: &mut Vec<Part>, path: &Path) {
    use std::path::Component;
    let parts: Vec<Part> = path
        .components()
        .filter_map(|component| match component {
            Component::RootDir | Component::Prefix(_) => Some(Part::Root),
            Component::CurDir => None,
            Component::ParentDir => Some(Part::Parent),
            Component::Normal(name) => Some(Part::Name(name.to_owned())),
        })
        .collect();
    stack.extend(parts.into_iter().rev());
}

/// The real file behind `path`, which must lie inside `root`: a symlink that
/// leads out of the repository is refused rather than written through.
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf> {
    let root = resolve_target(root).with_context(|| format!("resolving {}", root.display()))?;
    let target = resolve_target(path).with_context(|| format!("resolving {}", path.display()))?;
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
    fn only_files_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o644) }, 0);
        let refused = write_atomic(&fifo, b"x").unwrap_err().to_string();
        assert!(refused.ends_with("it is a FIFO (named pipe), not a regular file"), "{refused}");
        assert!(create_new(&fifo, 0o600).is_err());
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "left as it was");
        assert!(write_atomic(dir.path(), b"x").is_err(), "a folder");
        std::os::unix::fs::symlink(&fifo, dir.path().join("link")).unwrap();
        assert!(write_atomic(&dir.path().join("link"), b"x").is_err(), "a symlink is resolved by the caller");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary left behind");
    }

    /// The file checked is the file written: a folder on the way that is
    /// (or has become) a symlink is refused, not followed, since a check
    /// made before cannot vouch for where it leads now.
    #[test]
    fn a_write_never_follows_a_symlink_on_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let dir = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir(dir.join("kept")).unwrap();
        fs::write(dir.join("kept/a.yaml"), "kept").unwrap();
        std::os::unix::fs::symlink("kept", dir.join("link")).unwrap();
        let refused = write_atomic(&dir.join("link/a.yaml"), b"new").unwrap_err();
        assert!(format!("{refused:#}").contains("symlink"), "{refused:#}");
        assert!(create_new(&dir.join("link/b"), 0o600).is_err());
        assert_eq!(fs::read_to_string(dir.join("kept/a.yaml")).unwrap(), "kept");
        assert_eq!(fs::read_dir(dir.join("kept")).unwrap().count(), 1, "nothing written in kept/");
    }

    /// The race of issue 16: while one thread writes `results/a.yaml` over
    /// and over, another swaps the folder `results` with a symlink to
    /// `kept/` (atomically, with RENAME_EXCHANGE). Each write lands in the
    /// real folder or fails; `kept/a.yaml` is never replaced.
    #[test]
    fn a_folder_swapped_for_a_symlink_while_writing_is_never_written_through() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let dir = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir(dir.join("kept")).unwrap();
        fs::write(dir.join("kept/a.yaml"), "kept").unwrap();
        fs::create_dir(dir.join("results")).unwrap();
        std::os::unix::fs::symlink("kept", dir.join("swap")).unwrap();
        let name = |rel: &str| std::ffi::CString::new(dir.join(rel).into_os_string().into_encoded_bytes()).unwrap();
        let (results, swap) = (name("results"), name("swap"));
        let (stop, swaps) = (AtomicBool::new(false), AtomicUsize::new(0));
        let written = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    // SAFETY: two valid C strings; renameat2 reads nothing else.
                    let swapped = unsafe {
                        libc::renameat2(
                            libc::AT_FDCWD,
                            results.as_ptr(),
                            libc::AT_FDCWD,
                            swap.as_ptr(),
                            libc::RENAME_EXCHANGE,
                        )
                    };
                    assert_eq!(swapped, 0, "{}", io::Error::last_os_error());
                    swaps.fetch_add(1, Ordering::Relaxed);
                    // Leaves the writer a chance on a loaded machine, where
                    // a swapper that never yields lets no write through.
                    std::thread::yield_now();
                }
            });
            // Writes until the swapper has swapped often enough and some
            // write got through between swaps, however fast either runs on
            // this machine.
            let (mut attempts, mut written) = (0, 0);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while (attempts < 300 || written == 0 || swaps.load(Ordering::Relaxed) < 3000)
                && std::time::Instant::now() < deadline
            {
                attempts += 1;
                written += usize::from(replace_file(&dir.join("results/a.yaml"), b"result").is_ok());
            }
            stop.store(true, Ordering::Relaxed);
            written
        });
        let swaps = swaps.load(Ordering::Relaxed);
        assert!(swaps >= 3000 && written > 0, "{swaps} swaps, {written} writes");
        assert_eq!(fs::read_to_string(dir.join("kept/a.yaml")).unwrap(), "kept", "written through the symlink");
        let stray: Vec<_> = fs::read_dir(dir.join("kept")).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(stray.len(), 1, "{stray:?}");
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

    /// A small deterministic generator, so that a failure can be replayed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    const NAMES: &[&str] = &[".", "..", "a", "b", "c", "f", "g", "l0", "l1", "l2", "l3", "missing", "new"];

    fn random_parts(rng: &mut Rng, most: usize) -> Vec<&'static str> {
        (0..1 + rng.below(most)).map(|_| NAMES[rng.below(NAMES.len())]).collect()
    }

    /// Folders, files and symlinks (to files, to folders, dangling, in
    /// chains, in loops, relative and absolute) below `top`, which sits deep
    /// enough in a scratch folder that no `..` leaves it.
    fn random_tree(seed: u64, scratch: &Path) -> PathBuf {
        let top = scratch.join("d/".repeat(12)).join("top");
        let mut rng = Rng(seed);
        fs::create_dir_all(top.join("a/b")).unwrap();
        fs::create_dir_all(top.join("c")).unwrap();
        fs::write(top.join("a/f"), "f").unwrap();
        fs::write(top.join("c/g"), "g").unwrap();
        for link in ["l0", "l1", "l2", "l3"] {
            let folder = ["", "a", "a/b", "c"][rng.below(4)];
            let relative: PathBuf = random_parts(&mut rng, 3).iter().collect();
            let target = if rng.below(4) == 0 { top.join(relative) } else { relative };
            std::os::unix::fs::symlink(target, top.join(folder).join(link)).unwrap();
        }
        top
    }

    /// The resolver against the system: wherever a writer that creates the
    /// missing folders (`create_dir_all` of the parent, then create) puts
    /// the file, `resolve_target` said so beforehand; and once the file
    /// exists where it said, the system's `canonicalize` agrees.
    #[test]
    fn the_resolved_target_is_the_file_the_system_writes() {
        if crate::skip_slow_test("300 generated trees, each resolved and written") {
            return;
        }
        let cases: u64 = std::env::var("RESOLVE_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300);
        let (mut written, mut created, mut loops) = (0, 0, 0);
        for case in 0..cases {
            let seed = 0x2545_f491_4f6c_dd1d ^ (case + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let rel: PathBuf = random_parts(&mut Rng(seed ^ 0xabcd), 6).iter().collect();

            let scratch = tempfile::tempdir().unwrap();
            let top = random_tree(seed, &fs::canonicalize(scratch.path()).unwrap());
            let path = top.join(&rel);
            let resolved = match resolve_target(&path) {
                Ok(resolved) => resolved,
                Err(error) => {
                    assert_eq!(error.raw_os_error(), Some(libc::ELOOP), "case {case}: {}: {error}", rel.display());
                    loops += 1;
                    continue;
                }
            };
            assert!(
                resolved.is_absolute()
                    && resolved
                        .components()
                        .all(|c| matches!(c, std::path::Component::RootDir | std::path::Component::Normal(_)))
            );
            // The naive writer, on the tree as generated.
            let naive = path.parent().map_or(Ok(()), fs::create_dir_all).and_then(|()| fs::File::create(&path));
            if naive.is_ok() {
                written += 1;
                assert_eq!(
                    fs::canonicalize(&path).unwrap(),
                    resolved,
                    "case {case}: {} was written elsewhere",
                    rel.display()
                );
            }

            // xtask's writer, on the same tree anew: it writes what it resolved.
            let scratch = tempfile::tempdir().unwrap();
            let top = random_tree(seed, &fs::canonicalize(scratch.path()).unwrap());
            let path = top.join(&rel);
            let resolved = resolve_target(&path).unwrap();
            let made = resolved.parent().map_or(Ok(()), fs::create_dir_all).and_then(|()| fs::File::create(&resolved));
            if made.is_ok() {
                created += 1;
                if let Ok(found) = fs::canonicalize(&path) {
                    assert_eq!(found, resolved, "case {case}: {} is not the file written", rel.display());
                }
            }
        }
        assert!(
            written > cases / 5 && created > cases / 3 && loops > 0,
            "{written} written, {created} created, {loops} loops"
        );
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
