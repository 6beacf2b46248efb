use crate::diagnostic::Findings;
use crate::lint_templates::plugin_keys::PluginKey;
use crate::location::Location;
use crate::schema::PluginKind;

use super::Context;
use super::Hcl2Context;
use crate::lint_templates::hcl2_keys;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a key that Packer removed, that none of the releases the
    /// template is judged against has (see `unknown-key` for how they are
    /// chosen), and that `packer fix` rewrites: `iso_checksum_type`,
    /// `iso_checksum_url`, `iso_md5`, `ssh_key_path`, `ssh_disable_agent`,
    /// `ssh_host_port_min`/`max`, `ssh_skip_nat_mapping`, Amazon's
    /// `enhanced_networking`, `shutdown_behaviour`, `ssh_private_ip`, and
    /// the others of Packer 1.6.6's `fix/*.go`.
    ///
    /// In an HCL2 template: the same keys in `source`, `provisioner` and
    /// `post-processor` blocks.
    ///
    /// ## Why is this bad?
    /// The template was written for an older Packer: Packer refuses it as a
    /// whole ("Deprecated configuration key … Please call `packer fix`", or
    /// in later releases "unknown configuration key"), and `packer validate
    /// -syntax-only` does not notice.
    ///
    /// ## Example
    /// ```json
    /// { "type": "qemu", "iso_checksum": "0123…", "iso_checksum_type": "sha256" }
    /// ```
    ///
    /// ## Fix
    /// Use the replacement the help names (here
    /// `"iso_checksum": "sha256:0123…"`), or run `packer fix` on the template.
    code: "PKR402", name: "removed-key", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

/// Which plugins a removed key applies to, after Packer 1.6.6's fixers.
#[derive(Clone, Copy)]
enum Applies {
    AnyBuilder,
    AnyPostProcessor,
    BuildersStarting(&'static str),
    Builder(&'static str),
    Provisioner(&'static str),
    PostProcessor(&'static str),
}

/// (where, key, what to write instead), from `fix/*.go` and
/// `packer-plugin-sdk/template/config/deprecated_options.go` at v1.6.6.
const REMOVED: &[(Applies, &str, &str)] = &[
    (Applies::AnyBuilder, "iso_md5", "write the sum as `\"iso_checksum\": \"md5:<sum>\"`"),
    (
        Applies::AnyBuilder,
        "iso_checksum_type",
        "put the type before the sum in `iso_checksum`, as `\"sha256:<sum>\"` (or `\"none\"`)",
    ),
    (Applies::AnyBuilder, "iso_checksum_url", "write `\"iso_checksum\": \"file:<url>\"`"),
    (Applies::AnyBuilder, "ssh_key_path", "use `ssh_private_key_file`"),
    (Applies::AnyBuilder, "ssh_disable_agent", "use `ssh_disable_agent_forwarding`"),
    (Applies::AnyBuilder, "ssh_host_port_min", "use `host_port_min`"),
    (Applies::AnyBuilder, "ssh_host_port_max", "use `host_port_max`"),
    (Applies::AnyBuilder, "ssh_skip_nat_mapping", "use `skip_nat_mapping`"),
    (Applies::AnyBuilder, "ssh_wait_timeout", "use `ssh_timeout`"),
    (Applies::BuildersStarting("amazon-"), "shutdown_behaviour", "use `shutdown_behavior`"),
    (Applies::BuildersStarting("amazon-"), "enhanced_networking", "use `ena_support`"),
    (Applies::BuildersStarting("amazon-"), "ssh_private_ip", "write `\"ssh_interface\": \"private_ip\"`"),
    (
        Applies::BuildersStarting("amazon-"),
        "temporary_security_group_source_cidr",
        "use `temporary_security_group_source_cidrs`, a list",
    ),
    (Applies::BuildersStarting("azure-"), "exlude_from_latest", "use `exclude_from_latest`"),
    (Applies::BuildersStarting("hyperv-"), "vhd_temp_path", "use `temp_path`"),
    (Applies::BuildersStarting("hyperv-"), "clone_from_vmxc_path", "use `clone_from_vmcx_path`"),
    (Applies::BuildersStarting("hyperv-"), "cpu", "use `cpus`"),
    (Applies::BuildersStarting("hyperv-"), "ram_size", "use `memory`"),
    (Applies::BuildersStarting("parallels-"), "headless", "remove it; Parallels builds are always headless"),
    (Applies::BuildersStarting("parallels-"), "parallels_tools_host_path", "remove it; use `parallels_tools_flavor`"),
    (Applies::BuildersStarting("parallels-"), "guest_os_distribution", "use `guest_os_type`"),
    (
        Applies::BuildersStarting("virtualbox-"),
        "guest_additions_attach",
        "write `\"guest_additions_mode\": \"attach\"`",
    ),
    (Applies::BuildersStarting("vsphere-"), "network_card", "describe the card in `network_adapters`"),
    (Applies::BuildersStarting("vsphere-"), "networkCard", "describe the card in `network_adapters`"),
    (Applies::BuildersStarting("vsphere-"), "network", "describe the network in `network_adapters`"),
    (Applies::BuildersStarting("vsphere-"), "disk_size", "describe the disk in `storage`"),
    (Applies::BuildersStarting("vsphere-"), "disk_thin_provisioned", "describe the disk in `storage`"),
    (Applies::BuildersStarting("vsphere-"), "disk_eagerly_scrub", "describe the disk in `storage`"),
    (Applies::Builder("scaleway"), "access_key", "use `organization_id`"),
    (Applies::AnyBuilder, "login_email", "remove it; Docker no longer takes it"),
    (Applies::Provisioner("ansible"), "galaxycommand", "use `galaxy_command`"),
    (Applies::Provisioner("ansible-local"), "galaxycommand", "use `galaxy_command`"),
    (Applies::AnyPostProcessor, "login_email", "remove it; Docker no longer takes it"),
    (Applies::PostProcessor("docker-tag"), "tag", "use `tags`, a list"),
    (Applies::PostProcessor("manifest"), "filename", "use `output`"),
];

/// What to write instead of this key, when Packer 1.6.6 refuses it as
/// removed and `packer fix` rewrites it.
pub fn replacement(key: &PluginKey) -> Option<&'static str> {
    if !key.judgement.absent || key.parent.is_some() {
        return None;
    }
    replacement_of(key.plugin, key.kind, key.key)
}

/// What replaces `key`, a key the plugin's schema does not have, at the
/// top level of a `kind` block.
pub fn replacement_of(plugin: PluginKind, kind: &str, key: &str) -> Option<&'static str> {
    REMOVED.iter().find_map(|(applies, name, instead)| {
        let applies = match *applies {
            Applies::AnyBuilder => plugin == PluginKind::Builder,
            Applies::AnyPostProcessor => plugin == PluginKind::PostProcessor,
            Applies::BuildersStarting(prefix) => plugin == PluginKind::Builder && kind.starts_with(prefix),
            Applies::Builder(name) => plugin == PluginKind::Builder && kind == name,
            Applies::Provisioner(name) => plugin == PluginKind::Provisioner && kind == name,
            Applies::PostProcessor(name) => plugin == PluginKind::PostProcessor && kind == name,
        };
        (applies && *name == key).then_some(*instead)
    })
}

fn check(ctx: &Context, out: &mut Findings) {
    for key in ctx.plugin_keys.iter() {
        if let Some(instead) = replacement(&key) {
            out.report(
                &RULE.meta,
                Location::key(key.route()),
                format!("`{}` was removed from {}; {} refuses it", key.key, key.owner(), key.scope.judged()),
            )
            .help(format!("{instead} (`packer fix` rewrites it)"));
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    hcl2_keys::for_each(ctx.template, ctx.in_force, |key| {
        if !key.judgement.absent || key.parent.is_some() {
            return;
        }
        if let Some(instead) = replacement_of(key.plugin, key.plugin_kind, key.key) {
            out.report(
                &RULE.meta,
                key.key_at,
                format!("`{}` was removed from {}; {} refuses it", key.key, key.owner(), key.scope.judged()),
            )
            .help(in_hcl2(instead));
        }
    });
}

/// The advice with its JSON settings written as HCL2:
/// `"ssh_interface": "private_ip"` becomes `ssh_interface = "private_ip"`.
fn in_hcl2(advice: &str) -> String {
    let mut out = String::new();
    let mut rest = advice;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        match after.find("\": ") {
            Some(end) if after[..end].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
                out.push_str(&rest[..start]);
                out.push_str(&after[..end]);
                out.push_str(" = ");
                rest = &after[end + 3..];
            }
            _ => {
                out.push_str(&rest[..=start]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::in_hcl2;

    #[test]
    fn advice_in_hcl2() {
        assert_eq!(in_hcl2("write `\"ssh_interface\": \"private_ip\"`"), "write `ssh_interface = \"private_ip\"`");
        assert_eq!(in_hcl2("as `\"sha256:<sum>\"` (or `\"none\"`)"), "as `\"sha256:<sum>\"` (or `\"none\"`)");
    }
}
