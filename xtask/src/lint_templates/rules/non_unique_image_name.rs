use crate::diagnostic::Findings;
use crate::gotmpl;
use crate::location::Location;

use super::Context;
use super::Hcl2Context;
use crate::hcl2::functions;
use crate::lint_templates::hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports an `ami_name` or `image_name` that contains none of
    /// `{{timestamp}}`, `{{isotime}}` or `{{uuid}}`, directly or through the
    /// defaults of the user variables it uses.
    ///
    /// In an HCL2 template: an `ami_name` or `image_name` that calls none of
    /// `timestamp()`, `uuidv4()`, `uuidv5()`, also through the variables and
    /// locals it uses.
    ///
    /// ## Why is this bad?
    /// Image names must be unique in an account or project. The first
    /// build succeeds; every later one fails because the name is taken,
    /// usually after minutes of provisioning.
    ///
    /// ## Example
    /// ```json
    /// { "ami_name": "os39-machine-image-01" }
    /// ```
    ///
    /// ## Fix
    /// Add a unique part: `"ami_name": "os39-machine-image-{{timestamp}}"`.
    code: "PKR106", name: "non-unique-image-name", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in ctx.template.builders() {
        for key in ["ami_name", "image_name"] {
            let Some(name) = builder.str(key) else {
                continue;
            };
            // A name that comes from a variable with no default is set per
            // build: only the build knows whether it is unique.
            if ctx.template.resolves_to_call(name, gotmpl::UNIQUE) == Some(false) {
                out.report(
                    &RULE.meta,
                    Location::value(builder.at(key)),
                    format!("`{key}` is the same on every build, so the second build fails: the name is taken"),
                )
                .help("add `{{timestamp}}`, `{{isotime}}` or `{{uuid}}` to the name");
            }
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for source in ctx.template.sources() {
        for key in ["ami_name", "image_name"] {
            let Some(attr) = source.block.body.attr(key) else { continue };
            if ctx.template.calls_any(&attr.at, functions::UNIQUE) == Some(false) {
                out.report(
                    &RULE.meta,
                    &attr.at,
                    format!("`{key}` is the same on every build, so the second build fails: the name is taken"),
                )
                .help("add `${timestamp()}` or `${uuidv4()}` to the name, e.g. \"base-${formatdate(\"YYYYMMDDhhmm\", timestamp())}\"");
            }
        }
    }
}
