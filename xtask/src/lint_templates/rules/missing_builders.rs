use serde_json::Value;

use crate::diagnostic::Findings;
use crate::location::{Location, Route};

use super::Context;
use super::Hcl2Context;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a template whose `builders` section is absent, empty or not
    /// a list.
    ///
    /// In an HCL2 template: a folder without any `build` block, or whose
    /// builds use no source.
    ///
    /// ## Why is this bad?
    /// Builders are what make an image; without one Packer has nothing to
    /// build and refuses the template.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [], "provisioners": [ … ] }
    /// ```
    ///
    /// ## Fix
    /// Add a builder, for example an `amazon-ebs` block for each region.
    code: "PKR101", name: "missing-builders", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    match ctx.template.root.get("builders") {
        None => {
            out.report(&RULE.meta, Location::value(Route::root()), "the template has no `builders` section")
                .help("add a `builders` list with at least one builder");
        }
        Some(Value::Array(items)) if items.is_empty() => {
            out.report(&RULE.meta, Location::value(Route::root().key("builders")), "`builders` is empty")
                .help("add at least one builder");
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    out.report(
                        &RULE.meta,
                        Location::value(Route::root().key("builders").index(i)),
                        "a builder must be an object",
                    );
                }
            }
        }
        Some(_) => {
            out.report(
                &RULE.meta,
                Location::value(Route::root().key("builders")),
                "`builders` must be a list of objects",
            );
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let builds = ctx.template.builds();
    if builds.is_empty() {
        out.report_folder(&RULE.meta, "the template has no `build` block, so `packer build` builds nothing")
            .help("add build { sources = [\"source.<type>.<name>\"] }");
        return;
    }
    for build in builds {
        // `sources = var.sources` is known only to the build.
        let computed =
            build.block.body.attr("sources").is_some_and(|attr| matches!(attr.value, crate::hcl2::Value::Expr(_)));
        if build.sources().is_empty() && !computed {
            out.report(&RULE.meta, &build.block.ident_at, "this build uses no source")
                .help("list the sources it builds: sources = [\"source.<type>.<name>\"]");
        }
    }
}
