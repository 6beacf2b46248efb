//! One `images` run per root at a time: two runs would build the same
//! images twice and race to write the same deployments.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Held for the whole run; the operating system releases the lock when the
/// process ends, however it ends.
pub struct RunLock {
    _file: File,
}

pub fn acquire(root: &Path) -> Result<RunLock> {
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
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() { "another process" } else { holder };
            bail!(
                "another `cargo xtask images` is running on this repository ({holder}); wait for it to finish, or stop it"
            );
        }
        Err(std::fs::TryLockError::Error(error)) => {
            return Err(error).with_context(|| format!("locking {}", path.display()));
        }
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "pid {}, started {}", std::process::id(), crate::lock::utc_now())?;
    file.flush()?;
    Ok(RunLock { _file: file })
}
