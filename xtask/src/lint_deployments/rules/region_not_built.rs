use std::collections::BTreeSet;

use crate::diagnostic::Findings;
use crate::location::{Location, Route};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports an AWS deployment whose `cluster.region` is not a region the
    /// template feeding it builds (its builders' `region` and `ami_regions`).
    ///
    /// ## Why is this bad?
    /// AMIs are regional: no image for this region is ever built, so
    /// `cargo xtask images` leaves the deployment alone and it keeps
    /// booting whatever ID it holds, or one that does not exist there.
    ///
    /// ## Example
    /// ```yaml
    /// release: "3.11"
    /// cloud: aws
    /// cluster:
    ///   region: eu-north-1   # the 3.11 template builds eu-central-1 and eu-west-1
    /// ```
    ///
    /// ## Fix
    /// Add a builder for the region to the template (or the region to a
    /// builder's `ami_regions`), or correct the region.
    code: "DEP007", name: "region-not-built", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    let Some((release, cloud)) = ctx.release_cloud() else { return };
    if !crate::project::Cloud::is_regional(cloud) {
        return;
    }
    let Some(region) = ctx.deployment.region() else { return };
    let mut reported = BTreeSet::new();
    for role in ctx.deployment.roles() {
        let Some(template) = ctx.templates.feeding(release, cloud, role) else { continue };
        let Some(regions) = &template.regions else { continue };
        // A region written as a variable cannot be compared here.
        if regions.iter().any(|built| built.contains("{{")) || regions.iter().any(|built| built == region) {
            continue;
        }
        if reported.insert(template.rel.clone()) {
            out.report(
                &RULE.meta,
                Location::value(Route::root().key("cluster").key("region")),
                format!("{} builds no image in {region}; it builds {}", template.rel, regions.join(", ")),
            )
            .help(format!(
                "add a builder (JSON) or a source (HCL2) for {region}, or add {region} to `ami_regions`, or correct \
                 the region"
            ));
        }
    }
}
