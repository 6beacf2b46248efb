use serde_json::Value;

use crate::diagnostic::Findings;
use crate::location::{Location, Route};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a template whose `builders` section is absent, empty or not
    /// a list.
    ///
    /// ## Why is this bad?
    /// Builders are what make an image; without one Packer has nothing to
    /// build and refuses the template.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [], "provisioners": [ … ] }
    /// ```
    ///
    /// ## Fix
    /// Add a builder, for example an `amazon-ebs` block for each region.
    code: "PKR101", name: "missing-builders", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    match ctx.template.root.get("builders") {
        None => {
            out.report(&RULE.meta, Location::value(Route::root()), "the template has no `builders` section")
                .help("add a `builders` list with at least one builder");
        }
        Some(Value::Array(items)) if items.is_empty() => {
            out.report(&RULE.meta, Location::value(Route::root().key("builders")), "`builders` is empty")
                .help("add at least one builder");
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() {
                    out.report(
                        &RULE.meta,
                        Location::value(Route::root().key("builders").index(i)),
                        "a builder must be an object",
                    );
                }
            }
        }
        Some(_) => {
            out.report(
                &RULE.meta,
                Location::value(Route::root().key("builders")),
                "`builders` must be a list of objects",
            );
        }
    }
}
