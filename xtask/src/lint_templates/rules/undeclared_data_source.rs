use crate::lint_templates::lint_hcl2::FolderFindings;

use super::{Hcl2Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports `data.<type>.<name>` in an HCL2 template where no
    /// `data "<type>" "<name>"` block declares that data source.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template when it evaluates the reference.
    ///
    /// ## Example
    /// ```hcl
    /// data "amazon-ami" "ubuntu" { … }
    /// source "amazon-ebs" "base" { source_ami = data.amazon-ami.ubunt.id }
    /// ```
    ///
    /// ## Fix
    /// Correct the reference, or add the `data` block.
    code: "PKR506", name: "undeclared-data-source", severity: Error, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let declared: Vec<String> =
        ctx.template.data_sources().iter().map(|data| format!("{}.{}", data.kind, data.name)).collect();
    for reference in ctx.template.references().filter(|reference| reference.root == "data" && !reference.bound) {
        let [kind, name, ..] = &reference.attrs[..] else { continue };
        let address = format!("{kind}.{name}");
        if declared.contains(&address) {
            continue;
        }
        let finding =
            out.report(&RULE.meta, &reference.at, format!("`data.{address}` names no data block of this template"));
        match suggest(&address, declared.iter().map(String::as_str)) {
            Some(better) => finding.help(format!("did you mean `data.{better}`?")),
            None => finding.help(format!("declare it: data \"{kind}\" \"{name}\" {{ … }}")),
        };
    }
}
