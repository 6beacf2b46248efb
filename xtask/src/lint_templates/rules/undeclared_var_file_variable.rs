use crate::lint_templates::lint_hcl2::FolderFindings;

use super::{Hcl2Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports a value in a `*.pkrvars.hcl` (or `*.auto.pkrvars.hcl`) file
    /// beside an HCL2 template for a variable the template does not declare.
    ///
    /// ## Why is this bad?
    /// Packer only warns ("Undefined variable") and goes on: a misspelt
    /// name in a var file leaves the variable at its default, and the
    /// image is built with the value the var file was meant to change.
    ///
    /// ## Example
    /// ```hcl
    /// # prod.pkrvars.hcl; the template declares `instance_type`
    /// instance_typ = "m5.large"
    /// ```
    ///
    /// ## Fix
    /// Correct the name, or declare the variable in a `.pkr.hcl` file.
    code: "PKR504", name: "undeclared-var-file-variable", severity: Warning, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let variables = ctx.template.variables();
    let declared: Vec<&str> = variables.iter().map(|variable| variable.name).collect();
    for (file, attr) in ctx.template.var_file_values() {
        if declared.contains(&attr.key.as_str()) {
            continue;
        }
        let finding = out.report(
            &RULE.meta,
            &attr.key_at,
            format!("`{}` sets `{}`, which no variable block declares", file.name, attr.key),
        );
        match suggest(&attr.key, declared.iter().copied()) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None => finding.help(format!("declare it: variable \"{}\" {{ type = string }}", attr.key)),
        };
    }
}
