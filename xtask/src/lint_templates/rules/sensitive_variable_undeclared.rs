use crate::diagnostic::Findings;
use crate::location::Location;

use super::{Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports a name in `sensitive-variables` that is not declared in
    /// `variables`.
    ///
    /// ## Why is this bad?
    /// Packer masks only the variables it knows: a misspelt name here
    /// leaves the real secret printed in build logs.
    ///
    /// ## Example
    /// ```json
    /// { "variables": { "aws_secret_key": "" },
    ///   "sensitive-variables": ["aws_secret"] }
    /// ```
    ///
    /// ## Fix
    /// Use the declared variable's exact name.
    code: "PKR204", name: "sensitive-variable-undeclared", severity: Error, check: Some(check), hcl2: None,
}

fn check(ctx: &Context, out: &mut Findings) {
    let declared: Vec<&str> =
        ctx.template.variables().map(|vars| vars.keys().map(String::as_str).collect()).unwrap_or_default();
    for (route, name) in ctx.template.sensitive_variables() {
        if ctx.template.declares(name) {
            continue;
        }
        let finding = out.report(
            &RULE.meta,
            Location::value(route),
            format!("`{name}` is marked sensitive but is not a declared variable, so nothing is masked"),
        );
        match suggest(name, declared.iter().copied()) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None => finding.help("declare the variable in `variables`, or remove the entry"),
        };
    }
}
