use crate::diagnostic::Findings;
use crate::location::Location;

use super::{Context, Hcl2Context};
use crate::lint_templates::hcl2_keys;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a key of a builder, provisioner, post-processor or data
    /// source (nested blocks included) that some of the releases the
    /// template is judged against have and others do not, naming the
    /// release that brought or removed it and the constraint that allows
    /// the others: `imds_support` arrived in amazon 1.2.2, and `~> 1.2.0`
    /// also allows 1.2.0 and 1.2.1; vmware's `remote_*` keys were removed in
    /// vmware 2.0.0, and `>= 1.0.7` allows both. See `unknown-key` for how
    /// the releases are chosen.
    ///
    /// ## Why is this bad?
    /// The template works with some of the versions it says it works with:
    /// a `packer init` that picks another release, or a colleague's older
    /// Packer, refuses it ("unknown configuration key", "Unsupported
    /// argument").
    ///
    /// ## Example
    /// ```hcl
    /// packer {
    ///   required_plugins {
    ///     amazon = { source = "github.com/hashicorp/amazon", version = "~> 1.2.0" }
    ///   }
    /// }
    /// source "amazon-ebs" "x" { imds_support = "v2.0" }
    /// ```
    ///
    /// ## Fix
    /// Narrow the constraint to the releases that have the key (here
    /// `>= 1.2.2`), or stop using it.
    code: "PKR404", name: "version-specific-key", severity: Warning, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    for key in ctx.plugin_keys.iter() {
        if let Some(change) = key.scope.lacking_message(key.judgement) {
            out.report(&RULE.meta, Location::key(key.route()), format!("`{}` of {} {change}", key.key, key.owner()))
                .help("declare only releases that have it (`[packer] version`, `[packer.plugins]` in xtask.toml), or stop using it");
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    hcl2_keys::for_each(ctx.template, ctx.in_force, |key| {
        if let Some(change) = key.scope.lacking_message(&key.judgement) {
            out.report(&RULE.meta, key.key_at, format!("`{}` of {} {change}", key.key, key.owner()))
                .help("narrow `required_version` or the plugin's `version` in `required_plugins` to releases that have it, or stop using it");
        }
    });
}
