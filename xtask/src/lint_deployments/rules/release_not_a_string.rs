use crate::diagnostic::Findings;
use crate::location::{Location, Route};
use crate::yaml::Style;

use super::{Context, looks_like_a_number};

declare_rule! {
    /// ## What it does
    /// Reports a `release` that YAML does not read as a string: an
    /// unquoted number such as `3.10`, or a list or mapping.
    ///
    /// ## Why is this bad?
    /// YAML reads `release: 3.10` as the number 3.1: the deployment then
    /// belongs to release 3.1, no template feeds it, and tools that compare
    /// releases as numbers order 3.10 before 3.9.
    ///
    /// ## Example
    /// ```yaml
    /// release: 3.10
    /// ```
    ///
    /// ## Fix
    /// Quote it: `release: "3.10"`.
    code: "DEP004", name: "release-not-a-string", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let route = Route::root().key("release");
    let Some(release) = ctx.deployment.root.lookup(&route) else { return };
    match (release.as_str(), release.style()) {
        (Some(text), Some(Style::Plain)) if looks_like_a_number(text) => {
            let read_as = text.parse::<f64>().map(|number| number.to_string()).unwrap_or_default();
            out.report(
                &RULE.meta,
                Location::value(route),
                format!("`release: {text}` is read by YAML as the number {read_as}, not the release \"{text}\""),
            )
            .help(format!("quote it: release: \"{text}\""));
        }
        (Some(_), _) => {}
        (None, _) => {
            out.report(&RULE.meta, Location::value(route), "`release` must be a string such as \"3.11\"")
                .help("write it as release: \"3.11\"");
        }
    }
}
