use crate::lint_templates::lint_hcl2::FolderFindings;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports a `variable` block of an HCL2 template without a `type`.
    ///
    /// ## Why is this bad?
    /// Without a type, Packer takes whatever a var file or `PKR_VAR_x`
    /// gives: a list where a string is meant passes the variable and fails
    /// deep in a plugin, or a number is silently turned into a string.
    /// With a type, Packer checks and converts the value where it is set.
    ///
    /// ## Example
    /// ```hcl
    /// variable "region" {
    ///   default = "eu-central-1"
    /// }
    /// ```
    ///
    /// ## Fix
    /// Add the type: `type = string`, `list(string)`, `map(string)`, …
    code: "PKR503", name: "variable-without-type", severity: Warning, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for variable in ctx.template.variables() {
        if variable.type_expr().is_none() {
            let help = match variable.block {
                Some(_) => "add `type = string` (or the type it takes)".to_owned(),
                None => format!(
                    "an entry of a `variables` block cannot have one: declare it as `variable \"{}\" {{ type = string, \
                     default = … }}`",
                    variable.name
                ),
            };
            out.report(&RULE.meta, variable.at, format!("variable `{}` has no `type`", variable.name)).help(help);
        }
    }
}
