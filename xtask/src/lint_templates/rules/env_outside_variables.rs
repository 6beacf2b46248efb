use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::{PathStep, route_of};

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
    code: "PKR203", name: "env-outside-variables", severity: Error, check: Some(check), hcl2: None,
}

fn check(ctx: &Context, out: &mut Findings) {
    for string in ctx.strings.iter() {
        if string.path.first() == Some(&PathStep::Key("variables")) {
            continue;
        }
        for (at, name) in string.scan.calls_to("env") {
            let action = &string.text[at.clone()];
            out.report(
                &RULE.meta,
                Location::within(route_of(string.path), at),
                format!("`env` can only be used in `variables`; here `{name}` stops the build"),
            )
            .help(format!("declare a variable whose default is {action} and use {{{{user `…`}}}} here"));
        }
    }
}
