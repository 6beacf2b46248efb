//! One run that writes per root at a time (`images`, and the lifecycle's
//! `promote`, `rollback`, `revoke` and `prune`): two `images` runs would
//! build the same images twice, and any two would race to write the same
//! deployments and lock. The guard is a file lock on
//! `target/xtask/images.run-lock` (the run lock of the messages), held for
//! the whole run.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Held for the whole run; the operating system releases the lock when the
/// process ends, however it ends.
///
/// It is a POSIX record lock (`fcntl`), which belongs to the process, not
/// an `flock`, which belongs to the open file and so to every process
/// holding a copy of it: a Packer that xtask had forked but not yet started
/// when xtask was killed held that copy, and the next run was refused.
pub struct RunGuard {
    _file: File,
}

/// Takes the lock of the whole file for this process; `false` when another
/// process holds it.
fn try_lock_for_this_process(file: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: an all-zero `flock` is a valid value of the plain C struct;
    // the fields that matter are set below.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: fcntl(2) on a descriptor this `File` owns, with a pointer to
    // a live `flock`.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &lock) } == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EACCES | libc::EAGAIN) => Ok(false),
        _ => Err(error),
    }
}

/// Takes the run lock that every command writing `packer/images.lock` or
/// deployments holds for its whole run (`images`, `promote`, `rollback`,
/// `revoke`, `prune`), and removes the temporary files a killed run left
/// beside them: holding the run lock, no other run is writing.
pub fn hold(root: &Path, command: &str) -> Result<RunGuard> {
    let guard = acquire(root, command)?;
    let removed = crate::fsutil::remove_stale_temporaries(&written_folders(root));
    if removed > 0 {
        let files = if removed == 1 { "temporary file" } else { "temporary files" };
        say!("Removed {removed} {files} left by an interrupted run.");
    }
    Ok(guard)
}

/// The folders a run writes files into: `deployments/`, `packer/`, and the
/// folders inside the repository that symlinked deployments or the lock
/// lead to (the temporary file of an atomic write sits beside its target).
fn written_folders(root: &Path) -> Vec<PathBuf> {
    let mut folders = vec![root.join("deployments"), root.join("packer")];
    let linked = crate::deployments::find(root).unwrap_or_default().into_iter().chain([crate::lock::path(root)]);
    for path in linked {
        let is_link = std::fs::symlink_metadata(&path).is_ok_and(|metadata| metadata.file_type().is_symlink());
        if let Some(folder) = is_link
            .then(|| crate::fsutil::resolve_inside(root, &path).ok())
            .flatten()
            .and_then(|target| target.parent().map(Path::to_path_buf))
            && !folders.contains(&folder)
        {
            folders.push(folder);
        }
    }
    folders
}

/// Takes the lock for `command` (`images`, `promote`, …), which a run
/// refused the lock is told.
fn acquire(root: &Path, command: &str) -> Result<RunGuard> {
    let path =
        crate::protected::Protected::of(root).check(&root.join("target/xtask/images.run-lock")).map_err(|refusal| {
            anyhow::anyhow!("the run lock target/xtask/images.run-lock: {refusal}; make target/ a folder of its own")
        })?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    if !try_lock_for_this_process(&file).with_context(|| format!("locking {}", path.display()))? {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        // Written below as `cargo xtask <command>, pid N, started T`.
        let (command, holder) = match holder.trim().split_once(", ") {
            Some((command, holder)) if command.starts_with("cargo xtask ") => (command, holder),
            _ => ("cargo xtask", "another process"),
        };
        bail!("another `{command}` is running on this repository ({holder}); wait for it to finish, or stop it");
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "cargo xtask {command}, pid {}, started {}", std::process::id(), crate::clock::utc_now())?;
    file.flush()?;
    Ok(RunGuard { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Forks a child that runs `then` and exits with the code it returns;
    /// `then` must call only async-signal-safe functions.
    fn fork(then: impl FnOnce() -> i32) -> libc::pid_t {
        // SAFETY: the child runs `then`, which keeps to async-signal-safe
        // calls, and leaves with _exit.
        let child = unsafe { libc::fork() };
        if child == 0 {
            let code = then();
            // SAFETY: _exit(2) ends the child without running this
            // process's exit handlers.
            unsafe { libc::_exit(code) };
        }
        assert!(child > 0, "fork failed: {}", std::io::Error::last_os_error());
        child
    }

    fn wait(child: libc::pid_t) -> i32 {
        let mut status = 0;
        // SAFETY: waitpid(2) on our own child, writing into `status`.
        unsafe { libc::waitpid(child, &mut status, 0) };
        libc::WEXITSTATUS(status)
    }

    #[test]
    fn another_process_is_refused_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let held = acquire(dir.path(), "images").unwrap();
        let child = fork(|| match try_lock_for_this_process(&held._file) {
            Ok(false) => 0,
            _ => 1,
        });
        assert_eq!(wait(child), 0, "the child could take the lock the parent holds");
    }

    /// A child forked while the lock is held and not yet at exec, as a
    /// child starting Packer is for a moment, does not keep the lock once
    /// the run has let it go (a run killed at that moment let it go by
    /// dying).
    #[test]
    fn a_child_between_fork_and_exec_does_not_hold_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let held = acquire(dir.path(), "images").unwrap();
        let child = fork(|| {
            loop {
                // SAFETY: pause(2) waits for a signal and touches no memory.
                unsafe { libc::pause() };
            }
        });
        drop(held);
        let again = acquire(dir.path(), "images");
        // SAFETY: kill(2) on the child forked above.
        unsafe { libc::kill(child, libc::SIGKILL) };
        wait(child);
        again.unwrap();
    }
}
