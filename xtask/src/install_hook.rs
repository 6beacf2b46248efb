//! `cargo xtask install-hook`: writes the git pre-commit hook that runs
//! `cargo xtask pre-commit`, where git looks for hooks (`core.hooksPath`,
//! worktrees included).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use crate::protected::Protected;

/// The line that marks a hook as ours.
const MARKER: &str = "# Installed by `cargo xtask install-hook`.";

fn hook_text() -> String {
    format!(
        "#!/bin/sh\n{MARKER}\n# Lints the staged Packer templates and deployments; remove it with\n\
         # `cargo xtask install-hook --uninstall`, skip it once with `git commit --no-verify`.\n\
         # The first run compiles the tool, silently under cargo's --quiet: say so.\n\
         target=\"${{CARGO_TARGET_DIR:-$(git rev-parse --show-toplevel)/target}}\"\n\
         if [ ! -x \"$target/debug/xtask\" ]; then\n\
         \x20 echo 'pre-commit: compiling cargo xtask first (once; about 20 s on 2 cores)...' >&2\n\
         fi\n\
         exec cargo xtask pre-commit\n"
    )
}

/// Where `--force` keeps the hook it replaces, and whence `--uninstall`
/// puts it back.
const BACKUP: &str = "pre-commit.before-xtask";

/// The hook's path, and the repository's top folder.
fn hook_path() -> Result<(PathBuf, PathBuf)> {
    let sh = Shell::new()?;
    let top = cmd!(sh, "git rev-parse --show-toplevel").quiet().read().context("not inside a git repository")?;
    sh.change_dir(&top);
    let hooks = cmd!(sh, "git rev-parse --git-path hooks").quiet().read()?;
    let hooks = PathBuf::from(hooks);
    let hooks = if hooks.is_absolute() { hooks } else { PathBuf::from(&top).join(hooks) };
    Ok((hooks.join("pre-commit"), PathBuf::from(top)))
}

pub fn run(force: bool, uninstall: bool) -> Result<ExitCode> {
    let (path, top) = hook_path()?;
    let existing = fs::read_to_string(&path).ok();
    let ours = existing.as_deref().is_some_and(|text| text.contains(MARKER));
    if uninstall {
        match existing {
            None => show_line!("No pre-commit hook at {}: nothing to remove.", path.display()),
            Some(_) if !ours => {
                bail!("{} was not written by `cargo xtask install-hook`; remove it by hand", path.display())
            }
            Some(_) => {
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
                show_line!("Removed {}.", path.display());
                // The hook --force replaced goes back where it was.
                let backup = path.with_file_name(BACKUP);
                if fs::symlink_metadata(&backup).is_ok() {
                    fs::rename(&backup, &path)
                        .with_context(|| format!("putting {} back as {}", backup.display(), path.display()))?;
                    show_line!("Put back the hook that was there before ({}).", backup.display());
                }
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    if existing.is_some() && !ours && !force {
        bail!(
            "{} exists and was not written by `cargo xtask install-hook`; keep it, or replace it with --force",
            path.display()
        );
    }
    // The hook, or a symlink where it goes, must not lead into the
    // repository's templates or deployments.
    let protected = Protected::of(&top);
    let checked = |path: &Path| {
        protected.check(path).map_err(|refusal| anyhow::anyhow!("{}: {refusal}; remove it", path.display()))
    };
    let target = checked(&path)?;
    let dir = target.parent().context("a hook has a folder")?;
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if existing.is_some() && !ours {
        // --force: the other hook is kept beside, not lost.
        let backup = path.with_file_name(BACKUP);
        let old = fs::read(&target).with_context(|| format!("reading {}", path.display()))?;
        let kept = checked(&backup)?;
        crate::fsutil::write_atomic(&kept, &old)
            .and_then(|()| Ok(fs::set_permissions(&kept, fs::metadata(&target)?.permissions())?))
            .with_context(|| format!("keeping the old hook as {}", backup.display()))?;
        show_line!("Kept the hook that was there as {}.", backup.display());
    }
    crate::fsutil::write_atomic(&target, hook_text().as_bytes())?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755))?;
    show_line!("Installed {}: every commit now runs `cargo xtask pre-commit`.", path.display());
    Ok(ExitCode::SUCCESS)
}
