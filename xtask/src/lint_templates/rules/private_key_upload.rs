use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::Block;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a `file` provisioner that uploads a private key into the
    /// machine being imaged: a source named like an SSH key (`id_rsa`,
    /// `id_ed25519`, … but not `.pub`), a `.ppk`, a `.key` or a `.pem`
    /// whose name says it is a key (`key.pem`, `private.pem`), or the path
    /// a builder logs in with (`ssh_private_key_file`).
    ///
    /// ## Why is this bad?
    /// The key is baked into the image: everyone who can start an instance
    /// of it, or read a snapshot, has it. Deleting it in a later
    /// provisioner still leaves it in the disk's free blocks.
    ///
    /// ## Example
    /// ```json
    /// { "type": "file", "source": "keys/deploy_id_rsa", "destination": "/home/centos/.ssh/id_rsa" }
    /// ```
    ///
    /// ## Fix
    /// Give the machine its key when it starts (cloud-init, a secrets
    /// manager, an instance role), not in the image. To upload it only for
    /// the build, use it through SSH agent forwarding instead.
    code: "PKR306", name: "private-key-upload", severity: Error, check: Some(check), hcl2: None,
}

fn check(ctx: &Context, out: &mut Findings) {
    let login_keys: Vec<&str> =
        ctx.blocks.builders.iter().filter_map(|builder| builder.str("ssh_private_key_file")).collect();
    for provisioner in &ctx.blocks.provisioners {
        if provisioner.kind() != Some("file") || provisioner.str("direction") == Some("download") {
            continue;
        }
        for (route, source) in sources(provisioner) {
            let why = if login_keys.iter().any(|key| key.trim() == source.trim()) {
                "the builder's `ssh_private_key_file`"
            } else if looks_like_private_key(source) {
                "a private key (by its name)"
            } else {
                continue;
            };
            out.report(&RULE.meta, Location::value(route), format!("this uploads {why} into the image"))
                .help("give machines their key when they start (cloud-init, a secrets manager), not in the image");
        }
    }
}

fn sources<'a>(provisioner: &Block<'a>) -> Vec<(crate::location::Route, &'a str)> {
    let mut out = provisioner.strings("source");
    out.extend(provisioner.strings("sources"));
    out
}

fn looks_like_private_key(path: &str) -> bool {
    let name = path.trim().trim_end_matches('/').rsplit(['/', '\\']).next().unwrap_or_default().to_ascii_lowercase();
    if name.ends_with(".pub") {
        return false;
    }
    let ssh_key = ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"].iter().any(|stem| name.contains(stem));
    let stem = name.trim_end_matches(".pem");
    ssh_key
        || name.ends_with(".ppk")
        || name.ends_with(".key")
        || (name.ends_with(".pem") && (stem.ends_with("key") || stem.contains("private")))
}

#[cfg(test)]
mod tests {
    use super::looks_like_private_key;

    #[test]
    fn private_key_names() {
        for key in
            ["~/.ssh/id_rsa", "keys/deploy_id_ed25519", "tls/server.key", "consul-key.pem", "private.pem", "a.ppk"]
        {
            assert!(looks_like_private_key(key), "{key}");
        }
        for other in ["~/.ssh/id_rsa.pub", "tls/ca.pem", "tls/consul.crt.pem", "scripts/keyring.sh", "files/"] {
            assert!(!looks_like_private_key(other), "{other}");
        }
    }
}
