use crate::diagnostic::Findings;
use crate::hcl2::At;
use crate::location::Location;
use crate::template::route_of;

use super::Hcl2Context;
use super::{Context, suggest};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports `{{user `x`}}` where `x` is not declared in the template's
    /// `variables` section (nor in a var file given to the linter with
    /// `--var-file`): once per variable, at its first use, with every
    /// further use shown beside it.
    ///
    /// In an HCL2 template: `var.x` where no `variable "x"` block declares
    /// `x`; Packer refuses the template.
    ///
    /// ## Why is this bad?
    /// Packer 1.x does not complain: an undeclared variable silently
    /// becomes an empty string, so a typo ships an image with an empty
    /// description, name or tag.
    ///
    /// ## Example
    /// ```json
    /// { "variables": { "base_description": "CentOS 7 for OpenShift 3.9" },
    ///   "builders": [ { "ami_description": "{{user `description`}}", … } ] }
    /// ```
    ///
    /// ## Fix
    /// Correct the name, or declare the variable (with a default, or `""`
    /// when every build passes it).
    code: "PKR201", name: "undeclared-variable", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    let declared: Vec<&str> =
        ctx.template.variables().map(|vars| vars.keys().map(String::as_str).collect()).unwrap_or_default();
    // Every use of each undeclared variable, in the template's order.
    let mut uses: Vec<(String, Vec<Location>)> = Vec::new();
    for string in ctx.strings.iter() {
        for (action, variable) in string.scan.calls_to("user") {
            if ctx.template.declares(variable) || ctx.external_variables.contains(variable) {
                continue;
            }
            let location = Location::within(route_of(string.path), action);
            match uses.iter_mut().find(|(name, _)| *name == variable) {
                Some((_, places)) => places.push(location),
                None => uses.push((variable.to_owned(), vec![location])),
            }
        }
    }
    for (variable, mut places) in uses {
        let first = places.remove(0);
        let finding = out.report(
            &RULE.meta,
            first,
            format!("variable `{variable}` is not declared, so Packer replaces it with an empty string"),
        );
        for place in places {
            finding.related(place, "used here too");
        }
        match suggest(&variable, declared.iter().copied()) {
            Some(better) => {
                finding.help(format!("did you mean `{better}`? Otherwise declare `{variable}` in `variables`"))
            }
            None => finding.help(format!(
                "declare `{variable}` in `variables`, or pass the var file that sets it with --var-file"
            )),
        };
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let variables = ctx.template.variables();
    let declared: Vec<&str> = variables.iter().map(|variable| variable.name).collect();
    // Every use of each undeclared variable, file by file, in order: one
    // finding per variable and file, the further uses as related places.
    let mut uses: Vec<(&str, usize, Vec<&At>)> = Vec::new();
    for reference in ctx.template.references().filter(|reference| reference.root == "var" && !reference.bound) {
        let Some(name) = reference.attrs.first() else { continue };
        if declared.contains(&name.as_str()) || ctx.external_variables.contains(name) {
            continue;
        }
        match uses.iter_mut().find(|(used, file, _)| *used == name && *file == reference.at.file) {
            Some((_, _, places)) => places.push(&reference.at),
            None => uses.push((name, reference.at.file, vec![&reference.at])),
        }
    }
    for (name, _, places) in uses {
        let finding = out.report(
            &RULE.meta,
            places[0],
            format!("variable `{name}` is not declared, so Packer refuses the template"),
        );
        for place in &places[1..] {
            finding.related(Location::Bytes(place.bytes.clone()), "used here too");
        }
        match suggest(name, declared.iter().copied()) {
            Some(better) => finding.help(format!("did you mean `{better}`? Otherwise declare `variable \"{name}\"`")),
            None => finding.help(format!("declare it: variable \"{name}\" {{ type = string }}")),
        };
    }
}
