use crate::diagnostic::Findings;
use crate::location::{Location, Route};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a deployment without `release`, `cloud`,
    /// `bastion.machine_image.id` or `cluster.machine_image.id`, or an AWS
    /// deployment without `cluster.region`.
    ///
    /// ## Why is this bad?
    /// These keys are how a deployment says which image it boots: without
    /// them `cargo xtask images` cannot tell which template feeds it, and
    /// the cluster tooling has no image to start.
    ///
    /// ## Example
    /// ```yaml
    /// release: "3.11"
    /// cloud: aws
    /// cluster:
    ///   machine_image:
    ///     id: ami-0123456789abcdef0
    /// ```
    ///
    /// ## Fix
    /// Add the key named in the message (here `cluster.region` and
    /// `bastion.machine_image.id`).
    code: "DEP003", name: "missing-key", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let root = &ctx.deployment.root;
    let mut required: Vec<Route> = vec![
        Route::root().key("release"),
        Route::root().key("cloud"),
        crate::deployments::image_route("bastion"),
        crate::deployments::image_route("cluster"),
    ];
    if ctx.deployment.cloud().is_some_and(crate::project::Cloud::is_regional) {
        required.push(Route::root().key("cluster").key("region"));
    }
    for route in required {
        if root.lookup(&route).is_some() {
            continue;
        }
        let dotted: Vec<String> = route
            .steps()
            .iter()
            .map(|step| match step {
                crate::location::Step::Key(key) => key.clone(),
                crate::location::Step::Index(i) => i.to_string(),
            })
            .collect();
        out.report(&RULE.meta, Location::key(route.clone()), format!("`{}` is missing", dotted.join(".")))
            .help(format!("add `{}`", dotted.join(".")));
    }
}
