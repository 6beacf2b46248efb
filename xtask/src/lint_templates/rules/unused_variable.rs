use std::collections::BTreeSet;

use crate::diagnostic::Findings;
use crate::gotmpl;
use crate::hcl2::uses::{Declared, Uses};
use crate::location::{Location, Route};

use super::Context;
use super::Hcl2Context;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a variable declared in `variables` that no `{{user …}}`
    /// in the template reads, nor any in a file the template hands to a
    /// provisioner to render as a template (`config_template` of
    /// `chef-solo` and `chef-client`, which Packer renders with the
    /// template's variables).
    ///
    /// In an HCL2 template folder (all its `*.pkr.hcl` files together, as
    /// `packer build .` reads them): a variable that no build uses, either
    /// directly or through the locals, data sources and sources it uses
    /// (see `unused-declaration`); one read only by its own `validation`
    /// block or by unused locals is unused too. A folder without a `build`
    /// block is left alone.
    ///
    /// ## Why is this bad?
    /// It is often the other half of a typo (the template reads
    /// `description`, the variable is `base_description`), and otherwise
    /// dead configuration that readers will think matters.
    ///
    /// ## Example
    /// ```json
    /// { "variables": { "aws_i_type": "t2.micro" },
    ///   "builders": [ { "instance_type": "t2.micro", … } ] }
    /// ```
    ///
    /// ## Fix
    /// Use the variable where it was meant to be used, or remove it.
    code: "PKR202", name: "unused-variable", severity: Warning, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    let Some(variables) = ctx.template.variables() else {
        return;
    };
    let files = rendered_files(ctx);
    let rendered: Vec<gotmpl::Scan> = files.iter().map(|text| gotmpl::Scan::new(text)).collect();
    let used: BTreeSet<&str> = ctx
        .strings
        .iter()
        .map(|string| string.scan)
        .chain(&rendered)
        .flat_map(|scan| scan.calls_to("user").map(|(_, name)| name))
        .collect();
    for name in variables.keys() {
        if !used.contains(name.as_str()) {
            out.report(
                &RULE.meta,
                Location::key(Route::root().key("variables").key(name)),
                format!("variable `{name}` is declared but never used"),
            )
            .help("use it with {{user `…`}} or remove it");
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let uses = Uses::of(ctx.template);
    for variable in ctx.template.variables() {
        let Some(readers) = uses.unused(&Declared::Variable(variable.name.to_owned())) else { continue };
        let message = if readers.is_empty() && validates_itself(ctx, &variable) {
            format!("variable `{}` is only read by its own validation", variable.name)
        } else if readers.is_empty() {
            format!("variable `{}` is declared but never used", variable.name)
        } else {
            let names: Vec<String> = readers.iter().map(|reader| format!("`{}`", reader.spelled())).collect();
            format!("variable `{}` is only read by {}, which no build uses", variable.name, names.join(", "))
        };
        out.report(&RULE.meta, variable.at, message).help(format!("use it as `var.{}` or remove it", variable.name));
    }
}

/// Does a variable's `validation` read it (as Packer demands it does)?
fn validates_itself(ctx: &Hcl2Context, variable: &crate::hcl2::Variable) -> bool {
    let Some(block) = variable.block else { return false };
    let conditions: Vec<&crate::hcl2::At> = block
        .body
        .blocks("validation")
        .filter_map(|validation| validation.body.attr("condition"))
        .map(|attr| &attr.at)
        .collect();
    ctx.template.references().any(|reference| {
        reference.root == "var"
            && reference.attrs.first().map(String::as_str) == Some(variable.name)
            && conditions.iter().any(|at| {
                at.file == reference.at.file
                    && at.bytes.start <= reference.at.bytes.start
                    && reference.at.bytes.end <= at.bytes.end
            })
    })
}

/// The text of the files provisioners render as templates, when they can
/// be read (a missing one is `missing-source-file`'s business).
fn rendered_files(ctx: &Context) -> Vec<String> {
    ctx.blocks
        .provisioners
        .iter()
        .filter_map(|provisioner| provisioner.str("config_template"))
        .filter(|path| !gotmpl::is_templated(path))
        .filter_map(|path| crate::fsutil::read_regular(&ctx.dir.join(path), 1024 * 1024).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect()
}
