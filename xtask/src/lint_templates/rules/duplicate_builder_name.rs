use std::collections::HashMap;

use crate::diagnostic::Findings;
use crate::location::Location;

use super::Context;
use super::Hcl2Context;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports two builders with the same name. A builder's name is its
    /// `name`, or its `type` when it has none.
    ///
    /// In an HCL2 template: two `source` blocks with the same type and name,
    /// in one file or two.
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
    code: "PKR104", name: "duplicate-builder-name", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (position, builder) in ctx.blocks.builders.iter().enumerate() {
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

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for source in ctx.template.sources() {
        let address = source.address();
        if !seen.insert(address.clone()) {
            out.report(&RULE.meta, source.block.at(), format!("source `{address}` is declared twice"))
                .help("give each source a distinct name: builds and `only` refer to sources by `<type>.<name>`");
        }
    }
}
