use std::collections::BTreeSet;

use crate::diagnostic::Findings;
use crate::location::Location;
use crate::schema::PluginKind;
use crate::schema::in_force::{InForce, Resolved};

use super::{Context, Hcl2Context, plugin_installed, suggest};
use crate::lint_templates::hcl2_keys;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Notes, once per template and type, a builder, provisioner,
    /// post-processor or data source whose keys xtask cannot check: a type
    /// no Packer or plugin release it knows has (a third-party plugin such
    /// as `goss` or `windows-update`, which Packer runs when it is
    /// installed), a type a `required_plugins` entry provides from a plugin
    /// xtask does not know (`github.com/thomasklein94/libvirt`), one whose
    /// constraint allows no release xtask knows, or one of a plugin that
    /// `[packer.plugins]` in `xtask.toml` pins from a source xtask does not
    /// know (`"github.com/example/amazon"`: Packer loads a plugin by its
    /// name, whatever its source). A near-miss of a
    /// known type is `unknown-builder-type`'s (and the provisioner and
    /// post-processor rules') error instead.
    ///
    /// ## Why is this bad?
    /// It is not wrong: xtask says what it did not check, so that a clean
    /// report is not read as "every key was checked". A typo in such a
    /// block shows only when Packer runs the plugin.
    ///
    /// ## Example
    /// ```json
    /// { "provisioners": [ { "type": "goss", "tests": ["goss.yaml"] } ] }
    /// ```
    ///
    /// ## Fix
    /// Nothing to fix. Run `packer validate` where the plugin is installed
    /// to check its keys; turn this note off in `xtask.toml`
    /// (`[rules] unchecked-plugin-type = "off"`) if it is noise.
    code: "PKR405", name: "unchecked-plugin-type", severity: Warning, check: Some(check), hcl2: Some(check_hcl2),
}

/// What to say of a block's type, when its keys go unchecked: the message
/// and its help.
fn unchecked(in_force: &InForce, plugin: PluginKind, kind: &str) -> Option<(String, String)> {
    let noun = plugin.noun();
    match in_force.resolve(plugin, kind) {
        Resolved::Known(_) => None,
        Resolved::Unchecked(why) => Some((
            format!("the keys of the `{kind}` {noun} are not checked: {why}"),
            "run `packer validate` where the plugin is installed to check them".to_owned(),
        )),
        Resolved::Unknown { .. } if crate::schema::features::retired(plugin, kind).is_some() => None,
        Resolved::Unknown { judged, known_elsewhere: None } => {
            let near_miss = suggest(kind, plugin.names()).filter(|better| !better.eq_ignore_ascii_case(kind));
            // A near-miss of a builder, provisioner or post-processor type is an error of its own rule.
            if near_miss.is_some() && plugin != PluginKind::Datasource {
                return None;
            }
            let help = match near_miss {
                Some(better) => format!("did you mean `{better}`?"),
                None => "if a third-party plugin provides it, install that plugin wherever this template is built \
                         (`packer plugins install`, or `required_plugins` in HCL2)"
                    .to_owned(),
            };
            Some((
                format!(
                    "`{kind}` is not a {noun} type of {judged} nor of any plugin release xtask knows: its keys are not checked"
                ),
                help,
            ))
        }
        Resolved::Unknown { .. } => None,
    }
}

fn check(ctx: &Context, out: &mut Findings) {
    let mut seen = BTreeSet::new();
    let blocks = ctx
        .blocks
        .builders
        .iter()
        .map(|block| (PluginKind::Builder, block))
        .chain(
            ctx.blocks
                .provisioners
                .iter()
                .chain(&ctx.blocks.error_cleanup_provisioner)
                .map(|block| (PluginKind::Provisioner, block)),
        )
        .chain(ctx.blocks.post_processor_blocks().map(|block| (PluginKind::PostProcessor, block)));
    for (plugin, block) in blocks {
        let Some(kind) = block.kind() else { continue };
        if !seen.insert((plugin, kind)) || plugin_installed(plugin.noun(), kind) {
            continue;
        }
        if let Some((message, help)) = unchecked(ctx.in_force, plugin, kind) {
            out.report(&RULE.meta, Location::value(block.at("type")), message).help(help);
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let mut seen = BTreeSet::new();
    for (plugin, block) in hcl2_keys::plugin_blocks(ctx.template) {
        let (Some(kind), Some((_, at))) = (block.label(0), block.labels.first()) else { continue };
        if !seen.insert((plugin, kind)) {
            continue;
        }
        if let Some((message, help)) = unchecked(ctx.in_force, plugin, kind) {
            out.report(&RULE.meta, at, message).help(help);
        }
    }
}
