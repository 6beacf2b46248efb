use crate::diagnostic::Findings;
use crate::location::Location;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports an `ami_name` or `image_name` that contains none of
    /// `{{timestamp}}`, `{{isotime}}` or `{{uuid}}`, directly or through the
    /// defaults of the user variables it uses.
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
    code: "PKR106", name: "non-unique-image-name", severity: Error, check: Some(check),
}

const UNIQUE: &[&str] = &["timestamp", "isotime", "uuid"];

fn check(ctx: &Context, out: &mut Findings) {
    for builder in ctx.template.builders() {
        for key in ["ami_name", "image_name"] {
            let Some(name) = builder.str(key) else {
                continue;
            };
            // A name that comes from a variable with no default is set per
            // build: only the build knows whether it is unique.
            if ctx.template.resolves_to_call(name, UNIQUE) == Some(false) {
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
