use crate::diagnostic::Findings;
use crate::fsutil::{self, Unreadable};
use crate::location::Location;

use super::Context;
use super::Hcl2Context;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a `script`, `scripts` entry, file provisioner `source` or
    /// ansible `playbook_file` that does not exist relative to the
    /// template's folder (where `cargo xtask images` runs Packer).
    /// `{{template_dir}}` is that folder; other templated paths are not
    /// checked.
    ///
    /// A path that is there but is not a regular file (a FIFO, a socket, a
    /// device, a symlink to nothing) is reported too. A folder is accepted:
    /// file provisioners upload folders.
    ///
    /// In an HCL2 template, paths are relative to the template's folder when
    /// written as `"${path.root}/…"` or resolved through variables with
    /// literal defaults.
    ///
    /// An absolute path is reported as such: it names a file on one
    /// machine, not one that travels with the template.
    ///
    /// ## Why is this bad?
    /// Packer finds out only when it reaches that step, after the instance
    /// has been created and paid for.
    ///
    /// ## Example
    /// ```json
    /// { "type": "shell", "script": "scripts/instal-docker.sh" }
    /// ```
    ///
    /// ## Fix
    /// Correct the path, relative to the folder that holds template.json,
    /// or add the missing file.
    code: "PKR304", name: "missing-source-file", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    for (route, reference) in ctx.template.referenced_files() {
        let (message, help) = match fsutil::regular_file(&ctx.dir.join(&reference)) {
            Ok(_) | Err(Unreadable::Folder) => continue,
            Err(Unreadable::Missing) if is_absolute(&reference) => (
                format!("`{reference}` does not exist here: it is an absolute path, so it names a file on one machine"),
                "put the file beside the template and use a path relative to its folder, or {{template_dir}}/…",
            ),
            Err(Unreadable::Missing) => (
                format!("`{reference}` does not exist next to the template"),
                "paths are relative to the folder that holds template.json",
            ),
            Err(problem) => {
                (format!("`{reference}` cannot be uploaded: {problem}"), "put the regular file to upload at this path")
            }
        };
        out.report(&RULE.meta, Location::value(route), message).help(help);
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for (at, reference) in ctx.template.referenced_files() {
        let (message, help) = match fsutil::regular_file(&ctx.dir.join(&reference)) {
            Ok(_) | Err(Unreadable::Folder) => continue,
            Err(Unreadable::Missing) => (
                format!("`{reference}` does not exist in the template's folder"),
                "write paths as \"${path.root}/scripts/x.sh\": Packer reads them from the template's folder",
            ),
            Err(problem) => {
                (format!("`{reference}` cannot be uploaded: {problem}"), "put the regular file to upload at this path")
            }
        };
        out.report(&RULE.meta, at, message).help(help);
    }
}

/// Absolute on the machine that runs Packer, whichever it is: `/…`, `~/…`,
/// `C:\…`, `\\server\…`.
fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    let drive =
        bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && matches!(bytes[2], b'\\' | b'/');
    path.starts_with('/') || path.starts_with("~/") || path.starts_with("\\\\") || drive
}

#[cfg(test)]
mod tests {
    use super::is_absolute;

    #[test]
    fn absolute_paths() {
        assert!(is_absolute("/Users/alice/a.sh"));
        assert!(is_absolute("~/a.sh"));
        assert!(is_absolute("C:\\Users\\bob\\a.ps1"));
        assert!(!is_absolute("scripts/a.sh"));
    }
}
