use crate::diagnostic::Findings;
use crate::gotmpl;
use crate::location::{Location, Step};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports `{{env `X`}}` anywhere but in the `variables` section.
    ///
    /// ## Why is this bad?
    /// Packer 1.x only allows `env` in variable defaults; elsewhere the
    /// build stops with `function "env" not defined`, after validation
    /// has passed.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [ { "access_key": "{{env `AWS_ACCESS_KEY_ID`}}", … } ] }
    /// ```
    ///
    /// ## Fix
    /// Read the environment in a variable and use the variable:
    /// `"variables": { "aws_access_key": "{{env `AWS_ACCESS_KEY_ID`}}" }`,
    /// then `"access_key": "{{user `aws_access_key`}}"`.
    code: "PKR203", name: "env-outside-variables", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    for (route, text) in ctx.template.strings() {
        if route.steps().first() == Some(&Step::Key("variables".to_owned())) {
            continue;
        }
        for (action, name) in gotmpl::calls_to(text, "env") {
            out.report(
                &RULE.meta,
                Location::text(route.clone(), action),
                format!("`env` can only be used in `variables`; here `{name}` stops the build"),
            )
            .help(format!(
                "declare a variable whose default is {action} and use {{{{user `…`}}}} here"
            ));
        }
    }
}
