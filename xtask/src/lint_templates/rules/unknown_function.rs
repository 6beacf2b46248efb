use crate::lint_templates::lint_hcl2::FolderFindings;
use crate::schema::functions;

use super::{Hcl2Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports a call in an HCL2 template of a function no release of
    /// Packer has (Packer's functions are not Terraform's: there is no
    /// `tostring`, `templatestring` or `cidrcontains`), from the function
    /// table generated from every release, 1.6.6 to 1.16.0. A function that
    /// only some releases have, and the releases the template is judged
    /// against lack, is `unsupported-packer-feature`'s.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template ("Call to unknown function").
    ///
    /// ## Example
    /// ```hcl
    /// locals { stamp = formatdate("YYYYMMDD", timestmp()) }
    /// ```
    ///
    /// ## Fix
    /// Correct the name; see Packer's list of functions.
    code: "PKR507", name: "unknown-function", severity: Error, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for call in ctx.template.calls() {
        if functions::exists(&call.name) {
            continue;
        }
        let finding = out.report(&RULE.meta, &call.at, format!("Packer has no function `{}`", call.name));
        match suggest(&call.name, functions::PACKER.iter().copied()) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None => finding.help(
                "see Packer's functions: https://developer.hashicorp.com/packer/docs/templates/hcl_templates/functions",
            ),
        };
    }
}
