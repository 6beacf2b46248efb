use crate::diagnostic::Findings;
use crate::location::Location;

use super::Hcl2Context;
use super::{Context, removed_key, suggest};
use crate::lint_templates::hcl2::FolderFindings;
use crate::lint_templates::hcl2_keys;

declare_rule! {
    /// ## What it does
    /// Reports a key that the builder, provisioner or post-processor it is
    /// in does not have in Packer 1.6.6, nested blocks included
    /// (`launch_block_device_mappings[0].volume_szie`). The keys Packer
    /// handles for every plugin (`type`, `name`, `only`, `except`,
    /// `override`, `pause_before`, `max_retries`, `timeout`,
    /// `keep_input_artifact`) are not reported. Keys that Packer removed and
    /// `packer fix` rewrites are `removed-key`'s.
    ///
    /// In an HCL2 template: the keys and nested blocks of `source`,
    /// `provisioner` and `post-processor` blocks, unless a plugin named in
    /// `required_plugins` provides the type.
    ///
    /// ## Why is this bad?
    /// Packer refuses the whole template ("unknown configuration key"), but
    /// only when the plugin is prepared: `packer validate -syntax-only`
    /// passes it. Comments are keys too: a `_comment` inside a builder is
    /// refused the same way; only the template's top level takes them.
    ///
    /// ## Example
    /// ```json
    /// { "type": "amazon-ebs", "launch_block_device_mappings": [ { "device_name": "/dev/sda1", "volume_szie": 20 } ] }
    /// ```
    ///
    /// ## Fix
    /// Correct the key's spelling (here `volume_size`), or remove it.
    code: "PKR401", name: "unknown-key", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    for key in ctx.plugin_keys.iter() {
        if key.field.is_some() || (key.parent.is_none() && removed_key::replacement(&key).is_some()) {
            continue;
        }
        let finding = out.report(
            &RULE.meta,
            Location::key(key.route()),
            format!("`{}` is not a key of {}; Packer 1.6.6 refuses it", key.key, key.owner()),
        );
        match suggest(key.key, key.siblings.iter().map(|(name, _)| *name)) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None if key.key.starts_with('_') => finding
                .help("comments are only allowed at the template's top level: move it there or into `description`"),
            None => finding.help(format!("remove it, or see the keys of {} in Packer's documentation", key.owner())),
        };
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    hcl2_keys::for_each(ctx.template, |key| {
        if key.field.is_some()
            || (key.parent.is_none() && removed_key::replacement_of(key.plugin, key.kind, key.key).is_some())
        {
            return;
        }
        let finding = out.report(
            &RULE.meta,
            key.key_at,
            format!("`{}` is not a key of {}; Packer 1.6.6 refuses it", key.key, key.owner()),
        );
        match suggest(key.key, key.siblings.iter().map(|(name, _)| *name)) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None => finding.help(format!("remove it, or see the keys of {} in Packer's documentation", key.owner())),
        };
    });
}
