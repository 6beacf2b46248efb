use crate::lint_templates::lint_hcl2::FolderFindings;

use super::{Hcl2Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports `local.x` in an HCL2 template where no `locals` block (nor
    /// `local "x"` block) in any file of the folder defines `x`.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template ("Unsupported attribute"), but only when
    /// it evaluates the expression, after the plugins are started.
    ///
    /// ## Example
    /// ```hcl
    /// locals { stamp = formatdate("YYYYMMDDhhmm", timestamp()) }
    /// source "amazon-ebs" "ubuntu" { ami_name = "base-${local.timestamp}" }
    /// ```
    ///
    /// ## Fix
    /// Correct the name, or define the local.
    code: "PKR502", name: "undeclared-local", severity: Error, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let locals = ctx.template.locals();
    let defined: Vec<&str> = locals.iter().map(|local| local.name).collect();
    for reference in ctx.template.references().filter(|reference| reference.root == "local" && !reference.bound) {
        let Some(name) = reference.attrs.first() else { continue };
        if defined.contains(&name.as_str()) {
            continue;
        }
        let finding = out.report(&RULE.meta, &reference.at, format!("local `{name}` is not defined"));
        match suggest(name, defined.iter().copied()) {
            Some(better) => finding.help(format!("did you mean `local.{better}`?")),
            None => finding.help(format!("define it in a `locals {{ {name} = … }}` block")),
        };
    }
}
