use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::PostProcessor;

use crate::schema::PluginKind;

use super::{Context, report_unknown_type};
use super::{Hcl2Context, hcl2_build_blocks, report_unknown_hcl2_type};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a post-processor whose `type` none of the releases the template is
    /// judged against has (see `unknown-key` for how they are chosen), when
    /// it is a near-miss of a type that some release of Packer or of a
    /// plugin xtask knows has (`amazon-eb`), or when only releases outside
    /// those in force have it. Any other type may be a third-party plugin
    /// that Packer runs when it is installed: `unchecked-plugin-type` notes
    /// it instead, since xtask cannot know it.
    ///
    /// In an HCL2 template: a `post-processor "<type>"` block; a type a `required_plugins`
    /// entry provides is judged at the plugin releases the entry allows.
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
        report_unknown_type(ctx, kind, location, PluginKind::PostProcessor, &RULE.meta, out);
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for block in hcl2_build_blocks(ctx, PluginKind::PostProcessor) {
        report_unknown_hcl2_type(ctx, block, PluginKind::PostProcessor, &RULE.meta, out);
    }
}
