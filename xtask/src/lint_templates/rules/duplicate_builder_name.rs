use std::collections::HashMap;

use crate::diagnostic::Findings;
use crate::location::Location;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports two builders with the same name. A builder's name is its
    /// `name`, or its `type` when it has none.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template at build time, and `-only`/`except`
    /// cannot tell the two apart.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [ { "type": "amazon-ebs", "region": "eu-west-1" },
    ///                 { "type": "amazon-ebs", "region": "eu-central-1" } ] }
    /// ```
    ///
    /// ## Fix
    /// Give each builder a distinct `name`, such as its region.
    code: "PKR104", name: "duplicate-builder-name", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (position, builder) in ctx.template.builders().iter().enumerate() {
        let Some(name) = builder.builder_name() else {
            continue;
        };
        match seen.get(name) {
            Some(first) => {
                let location = if builder.body.contains_key("name") {
                    Location::value(builder.at("name"))
                } else {
                    Location::value(builder.at("type"))
                };
                let finding = out.report(
                    &RULE.meta,
                    location,
                    format!("builder {} is also named `{name}`, like builder {}", position + 1, first + 1),
                );
                if builder.body.contains_key("name") {
                    finding.help("give each builder a distinct `name`");
                } else {
                    finding.help("a builder without `name` is named after its type: add a distinct `name`");
                }
            }
            None => {
                seen.insert(name, position);
            }
        }
    }
}
