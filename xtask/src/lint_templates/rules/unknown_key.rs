use crate::diagnostic::Findings;
use crate::location::Location;

use super::Hcl2Context;
use super::{Context, removed_key, suggest};
use crate::lint_templates::hcl2_keys;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a key that the builder, provisioner, post-processor or data
    /// source it is in has in none of the releases the template is judged
    /// against, nested blocks included
    /// (`launch_block_device_mappings[0].volume_szie`). The keys Packer
    /// handles for every plugin (`type`, `name`, `only`, `except`,
    /// `override`, `pause_before`, `max_retries`, `timeout`,
    /// `keep_input_artifact`) are not reported. Keys that Packer removed and
    /// `packer fix` rewrites are `removed-key`'s; a key that some of the
    /// releases have is `version-specific-key`'s.
    ///
    /// The releases judged: for an HCL2 template, the Packer releases its
    /// `required_version` allows, and for a type a `required_plugins` entry
    /// provides, the plugin releases its `version` allows. Otherwise (JSON
    /// templates, and HCL2 ones that pin nothing) the Packer version given
    /// by `--packer-version`, else `[packer] version` in `xtask.toml`, else
    /// the installed `packer version`, else the newest release xtask knows;
    /// a plugin at the version `[packer.plugins]` pins, else the one that
    /// Packer release bundles (before 1.10), else the newest xtask knows.
    /// The message names the releases judged and why those.
    ///
    /// In an HCL2 template: the keys and nested blocks (`dynamic` blocks'
    /// `content` included) of `source`, `data`, `provisioner`,
    /// `error-cleanup-provisioner` and `post-processor` blocks. Keys that
    /// Packer's HCL2 reader skips but JSON takes (`mapstructure-to-hcl2`'s
    /// `skip`) are unknown there.
    ///
    /// ## Why is this bad?
    /// Packer refuses the whole template ("unknown configuration key",
    /// "Unsupported argument"), but only when the plugin is prepared: `packer validate -syntax-only`
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
        if !key.judgement.absent || (key.parent.is_none() && removed_key::replacement(&key).is_some()) {
            continue;
        }
        let finding = out.report(
            &RULE.meta,
            Location::key(key.route()),
            format!("`{}` is not a key of {} in {}", key.key, key.owner(), key.scope.judged()),
        );
        match suggest(key.key, key.scope.names(false)) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None if key.key.starts_with('_') => finding
                .help("comments are only allowed at the template's top level: move it there or into `description`"),
            None => finding.help(format!("remove it, or see the keys of {} in Packer's documentation", key.owner())),
        };
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    hcl2_keys::for_each(ctx.template, ctx.in_force, |key| {
        if !key.judgement.absent
            || (key.parent.is_none() && removed_key::replacement_of(key.plugin, key.plugin_kind, key.key).is_some())
        {
            return;
        }
        let finding = out.report(
            &RULE.meta,
            key.key_at,
            format!("`{}` is not a key of {} in {}", key.key, key.owner(), key.scope.judged()),
        );
        match suggest(key.key, key.scope.names(true)) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None => finding.help(format!("remove it, or see the keys of {} in Packer's documentation", key.owner())),
        };
    });
}
