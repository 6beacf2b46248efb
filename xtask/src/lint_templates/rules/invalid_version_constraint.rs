use crate::hcl2::{At, Attr, Value};
use crate::lint_templates::hcl2::FolderFindings;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports a `required_version` of a `packer` block, or a `version` of
    /// a `required_plugins` entry, that is not a version constraint: a
    /// comma-separated list of an optional operator (`=`, `!=`, `>`, `>=`,
    /// `<`, `<=`, `~>`) and a version such as `1.2.3`.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template, and `packer init` installs nothing.
    ///
    /// ## Example
    /// ```hcl
    /// packer {
    ///   required_version = ">= v1.7"          # fine
    ///   required_plugins {
    ///     amazon = { version = "=> 1.2.0", source = "github.com/hashicorp/amazon" }
    ///   }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Write the constraint as the operator, then the version: `>= 1.2.0`.
    code: "PKR509", name: "invalid-version-constraint", severity: Error, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for block in ctx.template.packer_blocks() {
        if let Some(attr) = block.body.attr("required_version") {
            check_constraint(attr, "required_version", out);
        }
        for required in block.body.blocks("required_plugins") {
            for plugin in &required.body.attrs {
                if let Value::Object(settings) = &plugin.value
                    && let Some(version) = settings.iter().find(|setting| setting.key == "version")
                {
                    check_constraint(version, &format!("the version of plugin `{}`", plugin.key), out);
                }
            }
        }
    }
}

fn check_constraint(attr: &Attr, what: &str, out: &mut FolderFindings) {
    let Value::String(text) = &attr.value else { return };
    if let Err(problem) = crate::version::parse_constraints(text) {
        report(&attr.at, what, text, &problem, out);
    }
}

fn report(at: &At, what: &str, text: &str, problem: &str, out: &mut FolderFindings) {
    out.report(&RULE.meta, at, format!("{what} is `{text}`, which is not a version constraint: {problem}"))
        .help("write an operator and a version, such as \">= 1.7.0\" or \"~> 1.2\", several separated by commas");
}

#[cfg(test)]
mod tests {
    use crate::version::parse_constraints;

    #[test]
    fn constraints() {
        for good in [">= 1.7.0", "~> 1.2", "1.0.0", ">= v1.0.1, < 2", "= 1.2.3-beta.1", "!=1.0"] {
            assert!(parse_constraints(good).is_ok(), "{good}");
        }
        for bad in ["=> 1.2.0", ">=", "latest", "1.2.3.", ">= 1.x", "", "1.2,"] {
            assert!(parse_constraints(bad).is_err(), "{bad}");
        }
    }
}
