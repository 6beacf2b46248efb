use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::PostProcessor;

use crate::schema::PluginKind;

use super::{Context, report_unknown_type};
use super::{Hcl2Context, hcl2_build_blocks, report_unknown_hcl2_type};
use crate::lint_templates::hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a post-processor, as a block or as the one-word shorthand,
    /// whose type is neither built into Packer 1.6.6 as Debian packages it nor
    /// an installed plugin.
    ///
    /// In an HCL2 template: a `post-processor "<type>"` block, unless a plugin
    /// named in `required_plugins` provides the type.
    ///
    /// ## Why is this bad?
    /// Post-processors run after the image is made: the build fails at its
    /// very end, with the cost already paid.
    ///
    /// ## Example
    /// ```json
    /// { "post-processors": [ { "type": "manifests", "output": "manifest.json" } ] }
    /// ```
    ///
    /// ## Fix
    /// Use one of Packer's post-processor types, such as `manifest`.
    code: "PKR312", name: "unknown-post-processor-type", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    for entry in &ctx.blocks.post_processors {
        let (kind, location) = match entry {
            PostProcessor::Block(block) => match block.kind() {
                Some(kind) => (kind, Location::value(block.at("type"))),
                None => continue,
            },
            PostProcessor::Name { route, name } => (*name, Location::value(route.clone())),
        };
        report_unknown_type(kind, location, PluginKind::PostProcessor, &RULE.meta, out);
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for block in hcl2_build_blocks(ctx, PluginKind::PostProcessor) {
        report_unknown_hcl2_type(ctx, block, PluginKind::PostProcessor, &RULE.meta, out);
    }
}
