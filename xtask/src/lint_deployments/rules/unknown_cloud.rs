use crate::diagnostic::Findings;
use crate::location::{Location, Route};
use crate::project::{CLOUDS, cloud};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a `cloud` that is not one this repository builds images for:
    /// `aws`, `gce`, `openstack` or `azure`.
    ///
    /// ## Why is this bad?
    /// The cloud chooses the template folder and the shape of the image ID;
    /// a misspelt cloud (`AWS`, `gcp`) matches no template and the
    /// deployment silently never gets a new image.
    ///
    /// ## Example
    /// ```yaml
    /// cloud: gcp
    /// ```
    ///
    /// ## Fix
    /// Use the cloud folder's name: `cloud: gce`.
    code: "DEP005", name: "unknown-cloud", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let route = Route::root().key("cloud");
    let Some(node) = ctx.deployment.root.lookup(&route) else { return };
    let name = node.as_str().unwrap_or_default();
    if cloud(name).is_some() {
        return;
    }
    let known: Vec<&str> = CLOUDS.iter().map(|cloud| cloud.name).collect();
    let finding =
        out.report(&RULE.meta, Location::value(route), format!("`{name}` is not one of {}", known.join(", ")));
    match known.iter().find(|candidate| candidate.eq_ignore_ascii_case(name)) {
        Some(better) => finding.help(format!("write it as `{better}`")),
        None => finding.help(format!("use one of {}", known.join(", "))),
    };
}
