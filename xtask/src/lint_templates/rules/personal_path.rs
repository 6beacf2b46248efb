use std::ops::Range;

use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::{PathStep, route_of};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a path into one person's home folder on the machine that
    /// runs Packer: `/Users/<name>/`, `/home/<name>/` or
    /// `C:\Users\<name>\`, in any setting Packer reads on that machine.
    /// Paths inside the machine being built (a `file` provisioner's
    /// `destination`, the commands a remote provisioner runs) and the
    /// accounts images usually have (`vagrant`, `ubuntu`, `ec2-user`,
    /// `Administrator`, …) are left alone.
    ///
    /// ## Why is this bad?
    /// The build works on that person's machine only: on CI and on
    /// colleagues' machines the file is not there. It is a warning because
    /// the build still works where it was written.
    ///
    /// ## Example
    /// ```json
    /// { "type": "file", "source": "/Users/alice/okd/files/", "destination": "/tmp" }
    /// ```
    ///
    /// ## Fix
    /// Put the file beside the template and use a relative path or
    /// `{{template_dir}}`, or read the path from a variable.
    code: "PKR207", name: "personal-path", severity: Warning, check: Some(check), hcl2: None,
}

/// Accounts that images and CI machines have, rather than people.
const ACCOUNTS: &[&str] = &[
    "vagrant",
    "ubuntu",
    "ec2-user",
    "centos",
    "admin",
    "administrator",
    "packer",
    "root",
    "runner",
    "travis",
    "core",
    "debian",
    "fedora",
    "user",
    "default",
    "public",
    "shared",
    "all users",
    "circleci",
    "jenkins",
    "ansible",
    "cloud-user",
    "opc",
    "azureuser",
    "rocky",
    "almalinux",
    "alpine",
    "arch",
    "freebsd",
    "build",
    "builder",
];

/// Settings of remote provisioners that name places inside the machine.
const REMOTE_KEYS: &[&str] = &[
    "destination",
    "inline",
    "execute_command",
    "environment_vars",
    "remote_folder",
    "remote_path",
    "remote_file",
    "staging_directory",
    "elevated_execute_command",
    "restart_command",
    "restart_check_command",
    "prevent_sudo",
    "inline_shebang",
    "env",
];

/// Builder settings that run or point inside the machine.
const REMOTE_BUILDER_KEYS: &[&str] = &["shutdown_command", "boot_command"];

fn check(ctx: &Context, out: &mut Findings) {
    let provisioners = &ctx.blocks.provisioners;
    for string in ctx.strings.iter() {
        let (path, text) = (string.path, string.text);
        let key = path.iter().rev().find_map(|step| match step {
            PathStep::Key(key) => Some(*key),
            PathStep::Index(_) => None,
        });
        let remote = match (path.first(), path.get(1), key) {
            (Some(PathStep::Key("provisioners")), Some(PathStep::Index(i)), Some(key)) => {
                let local = provisioners.get(*i).and_then(|block| block.kind()) == Some("shell-local");
                !local && REMOTE_KEYS.contains(&key)
            }
            (Some(PathStep::Key("builders")), _, Some(key)) => REMOTE_BUILDER_KEYS.contains(&key),
            (Some(PathStep::Key("variables" | "builders" | "post-processors" | "provisioners")), ..) => false,
            _ => true,
        };
        if remote {
            continue;
        }
        for (at, name) in personal_homes(text) {
            out.report(
                &RULE.meta,
                Location::within(route_of(path), at),
                format!("this path is inside {name}'s home folder, so the build works on {name}'s machine only"),
            )
            .help("put the file beside the template and use a relative path or {{template_dir}}, or take the path from a variable");
        }
    }
}

/// The home-folder prefixes in `text` whose owner is a person, with the name.
fn personal_homes(text: &str) -> Vec<(Range<usize>, &str)> {
    let mut found = Vec::new();
    if !may_hold_a_home(text) {
        return found;
    }
    for prefix in ["/Users/", "/home/", "C:\\Users\\", "C:/Users/", "c:\\Users\\", "c:/Users/"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix).map(|i| from + i) {
            from = at + prefix.len();
            // `/home/` inside a longer path (`/opt/home/`) is not a home.
            let before = text[..at].chars().next_back();
            if prefix.starts_with('/') && before.is_some_and(|c| c.is_alphanumeric() || c == '/' || c == '.') {
                continue;
            }
            let rest = &text[from..];
            let Some(end) = rest.find(['/', '\\']) else { continue };
            let name = &rest[..end];
            let plausible = !name.is_empty()
                && !name.contains("{{")
                && !name.starts_with('$')
                && !name.starts_with('%')
                && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '));
            if plausible && !ACCOUNTS.contains(&name.to_ascii_lowercase().as_str()) {
                found.push((at..from + end + 1, name));
            }
        }
    }
    found.sort_by_key(|(at, _)| at.start);
    // `C:/Users/<name>/` also holds `/Users/<name>/`: one home, one finding.
    found.dedup_by_key(|(at, _)| at.end);
    found
}

/// Does `text` hold `Users` or `home`, as every home prefix does? Most
/// strings hold neither, and one pass over their bytes settles it, where
/// searching each prefix took a pass each.
fn may_hold_a_home(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(at, &byte)| {
        (byte == b'U' && bytes[at..].starts_with(b"Users")) || (byte == b'h' && bytes[at..].starts_with(b"home"))
    })
}

#[cfg(test)]
mod tests {
    use super::personal_homes;

    #[test]
    fn people_not_accounts() {
        let names = |text| personal_homes(text).into_iter().map(|(_, name)| name).collect::<Vec<_>>();
        assert_eq!(names("/Users/alice/okd/files/"), vec!["alice"]);
        assert_eq!(names("C:\\Users\\bob\\keys\\a.pem"), vec!["bob"]);
        assert_eq!(personal_homes("C:/Users/bob/keys/a.pem"), vec![(0..13, "bob")]);
        assert_eq!(names("/home/ubuntu/x /home/vagrant/y /home/{{user `u`}}/z /home/$USER/w"), Vec::<&str>::new());
        assert_eq!(names("/opt/home/carol/x"), Vec::<&str>::new());
        assert_eq!(names("/home/dave"), Vec::<&str>::new());
    }
}
