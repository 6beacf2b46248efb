use crate::diagnostic::Severity;
use crate::hcl2::{At, Value};
use crate::schema::features::Feature;
use crate::schema::{CORE, knowledge};

use super::Hcl2Context;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports, in an HCL2 template, a core feature that the Packer releases
    /// the template is judged against do not all have: `data` blocks and
    /// `required_plugins` (Packer 1.7.0), a build's
    /// `error-cleanup-provisioner` (1.7.0) and `hcp_packer_registry`
    /// (1.7.5) blocks, a build `name` computed from variables or locals
    /// (1.7.9), and a call of a function that came after 1.6.6
    /// (`strcontains`, 1.12.0; the generated function table says which
    /// release has which). An error when none of those releases has it, a
    /// warning when some lack it (the template's values are evaluated as
    /// the newest of them reads them). The releases are those `required_version` allows, else
    /// the declared or installed Packer (see `unknown-key`). Core
    /// provisioners' keys that came later (the file provisioner's `content`
    /// in 1.7.5, the shell provisioner's `env` in 1.8.0) are
    /// `unknown-key`'s and `version-specific-key`'s.
    ///
    /// ## Why is this bad?
    /// An older Packer refuses the template ("Unsupported block type",
    /// "Call to unknown function") or, for a computed build name, fails on
    /// the reference.
    ///
    /// ## Example
    /// ```hcl
    /// packer { required_version = ">= 1.6.0" }
    /// data "amazon-ami" "base" { … }
    /// ```
    ///
    /// ## Fix
    /// Raise `required_version` to the release the message names (here
    /// `>= 1.7.0`), or write the template without the feature.
    code: "PKR512", name: "unsupported-packer-feature", severity: Error, check: None, hcl2: Some(check_hcl2),
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let mut used: Vec<(Feature, &At)> = Vec::new();
    for call in ctx.template.calls() {
        used.extend(Feature::function(&call.name).map(|feature| (feature, &call.at)));
    }
    for data in ctx.template.data_sources() {
        used.push((Feature::DataSources, &data.block.ident_at));
    }
    for block in ctx.template.packer_blocks() {
        used.extend(
            block.body.blocks("required_plugins").map(|required| (Feature::RequiredPlugins, &required.ident_at)),
        );
    }
    for build in ctx.template.builds() {
        let body = &build.block.body;
        used.extend(
            body.blocks("error-cleanup-provisioner").map(|block| (Feature::ErrorCleanupProvisioner, &block.ident_at)),
        );
        used.extend(body.blocks("hcp_packer_registry").map(|block| (Feature::HcpPackerRegistry, &block.ident_at)));
        if let Some(attr) = body.attr("name")
            && matches!(attr.value, Value::Expr(_))
        {
            used.push((Feature::BuildNameExpression, &attr.at));
        }
    }
    let core = &knowledge().sources[CORE];
    let in_force = ctx.in_force;
    for (feature, at) in used {
        let lacking: crate::schema::Mask = (0..core.versions.len())
            .filter(|index| !feature.in_release(core.versions[*index]))
            .fold(0, |mask, index| mask | 1 << index)
            & in_force.core;
        if lacking == 0 {
            continue;
        }
        let without = crate::schema::in_force::without(lacking);
        // Only a `required_version` range lets some releases in force lack
        // the feature; otherwise the message says which releases were
        // judged and why those (the installed Packer, xtask.toml, ...).
        let message = if lacking == in_force.core {
            format!(
                "{} {}; this template is judged against {}, {without}",
                feature.describe(),
                feature.history(),
                in_force.core_judged()
            )
        } else {
            format!(
                "{} {}; {} allows {}, {without}",
                feature.describe(),
                feature.history(),
                in_force.core_why,
                core.describe(lacking)
            )
        };
        let finding = out.report(&RULE.meta, at, message).help(format!(
            "require `required_version = \"{}\"`, or write the template without it",
            feature.constraint()
        ));
        if lacking != in_force.core {
            finding.severity(Severity::Warning);
        }
    }
}
