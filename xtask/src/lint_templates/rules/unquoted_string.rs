use crate::lint_templates::lint_hcl2::FolderFindings;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports a value of an HCL2 template that HCL reads as a reference
    /// to a name that does not exist, such as `instance_type = t2.micro`
    /// (`t2`, then its attribute `micro`): a string without its quotes.
    /// The names Packer knows (`var`, `local`, `data`, `source`, `build`,
    /// `path`, `packer`, `each`, `self`) and those bound by `for` and
    /// `dynamic` are not reported.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template ("Unknown variable"), only when it
    /// evaluates the value.
    ///
    /// ## Example
    /// ```hcl
    /// source "amazon-ebs" "base" { instance_type = t2.micro }
    /// ```
    ///
    /// ## Fix
    /// Quote the string: `instance_type = "t2.micro"`.
    code: "PKR508", name: "unquoted-string", severity: Error, check: None, hcl2: Some(check),
}

const KNOWN_ROOTS: &[&str] = &["var", "local", "data", "source", "build", "path", "packer", "each", "self", "count"];

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for reference in ctx.template.references() {
        if reference.bound || KNOWN_ROOTS.contains(&reference.root.as_str()) {
            continue;
        }
        let text = std::iter::once(reference.root.as_str())
            .chain(reference.attrs.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(".");
        let finding = out.report(
            &RULE.meta,
            &reference.at,
            format!("`{text}` is read as a reference to `{}`, which does not exist", reference.root),
        );
        if reference.whole_value {
            finding.help(format!("quote the string: \"{text}\""));
        } else {
            finding.help(format!("quote it as a string, or refer to a variable: `var.{}`", reference.root));
        }
    }
}
