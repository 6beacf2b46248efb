use std::collections::HashMap;

use crate::diagnostic::Findings;
use crate::location::{Location, Route};

use super::Context;
use super::Hcl2Context;
use crate::hcl2::{At, Value, expression_text};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a region that a template's AMI builders cover twice: two
    /// `amazon-*` builders with the same `region` (or the same
    /// `{{user …}}` expression for it), a builder whose `ami_regions` copies
    /// to a region another builder already covers, or an `ami_regions` list
    /// that names a region twice.
    ///
    /// In an HCL2 template: the same for `source` blocks, with `var.x` and
    /// `local.x` read through their literal defaults and values.
    ///
    /// ## Why is this bad?
    /// The template then yields two AMIs for one region, and nothing says
    /// which one the deployments in that region should boot from.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [
    ///   { "type": "amazon-ebs", "name": "frankfurt", "region": "eu-central-1", … },
    ///   { "type": "amazon-ebs", "name": "ireland", "region": "eu-west-1",
    ///     "ami_regions": ["eu-central-1"], … } ] }
    /// ```
    ///
    /// ## Fix
    /// Build each region once: drop the copy, or move the second image to
    /// a template of its own (such as `packer/3.9/aws/bastion-image`).
    code: "PKR107", name: "duplicate-region", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

/// Builders that make AMIs.
const AMI_BUILDERS: &[&str] = &["amazon-ebs", "amazon-ebssurrogate", "amazon-instance", "amazon-chroot"];

fn check(ctx: &Context, out: &mut Findings) {
    // Region → the builder that first covered it.
    let mut covered: HashMap<String, String> = HashMap::new();
    for builder in &ctx.blocks.builders {
        if !builder.kind().is_some_and(|kind| AMI_BUILDERS.contains(&kind)) {
            continue;
        }
        let name = builder.builder_name().unwrap_or_default().to_owned();
        // `{{build_name}}` is each builder's own name: two builders that
        // write it name two regions.
        let own_names = |text: &str| {
            crate::gotmpl::render(text, |function, argument| match (function, argument) {
                ("build_name", None) => Some(name.clone()),
                ("build_type", None) => builder.kind().map(str::to_owned),
                _ => None,
            })
        };
        // An empty `region` is the environment's, and an empty copy none:
        // neither names a region here.
        let home = builder.str("region").map(own_names).filter(|region| !region.is_empty());
        let mut regions: Vec<(Route, String)> = Vec::new();
        if let Some(region) = &home {
            regions.push((builder.at("region"), region.clone()));
        }
        let mut own: Vec<String> = regions.iter().map(|(_, region)| region.clone()).collect();
        // Packer splits a string `ami_regions` at its commas.
        let copies = builder
            .strings("ami_regions")
            .into_iter()
            .flat_map(|(route, text)| {
                own_names(text).split(',').map(|region| (route.clone(), region.to_owned())).collect::<Vec<_>>()
            })
            .filter(|(_, region)| !region.is_empty());
        for (route, region) in copies {
            // Packer skips a copy to the region the AMI was built in.
            if home.as_ref() == Some(&region) {
                continue;
            }
            if own.contains(&region) {
                out.report(&RULE.meta, Location::value(route), format!("`{region}` is listed twice in `ami_regions`"))
                    .help("remove the second entry");
                continue;
            }
            own.push(region.clone());
            regions.push((route, region));
        }
        for (route, region) in regions {
            match covered.get(&region) {
                Some(first) => {
                    out.report(
                        &RULE.meta,
                        Location::value(route),
                        format!("builder `{name}` makes an AMI in `{region}`, which builder `{first}` already covers"),
                    )
                    .help("build each region once, or move the second image to a template of its own");
                }
                None => {
                    covered.insert(region, name.clone());
                }
            }
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let template = ctx.template;
    // A variable this run gives a value (a var file, `--var`, `PKR_VAR_`)
    // is compared as written, not through its default: the run decides.
    let given_inside = |at: &At| {
        template.references().any(|reference| {
            reference.root == "var"
                && reference.at.file == at.file
                && at.bytes.start <= reference.at.bytes.start
                && reference.at.bytes.end <= at.bytes.end
                && reference.attrs.first().is_some_and(|name| {
                    ctx.external_variables.contains(name) || std::env::var_os(format!("PKR_VAR_{name}")).is_some()
                })
        })
    };
    let known = |at: &At, value: &Value| match given_inside(at) {
        true => expression_text(value),
        false => template.known_string(value).unwrap_or_else(|| expression_text(value)),
    };
    let mut covered: HashMap<String, String> = HashMap::new();
    // A source no build uses makes no image.
    let targets = template.build_targets();
    let used =
        |block: &crate::hcl2::Block| targets.iter().any(|target| target.source.is_some_and(|b| std::ptr::eq(b, block)));
    for source in template.sources() {
        if !AMI_BUILDERS.contains(&template.plugin_type(source.kind).as_ref()) || !used(source.block) {
            continue;
        }
        let name = source.address();
        let body = &source.block.body;
        let home = body.attr("region").map(|attr| known(&attr.at, &attr.value)).filter(|region| !region.is_empty());
        let mut regions: Vec<(&At, String)> = Vec::new();
        if let (Some(attr), Some(region)) = (body.attr("region"), &home) {
            regions.push((&attr.at, region.clone()));
        }
        let mut own: Vec<String> = home.iter().cloned().collect();
        if let Some(Value::List(items)) = body.attr("ami_regions").map(|attr| &attr.value) {
            for item in items {
                let region = known(&item.at, &item.value);
                if region.is_empty() || Some(&region) == home.as_ref() {
                    continue;
                }
                if own.contains(&region) {
                    out.report(&RULE.meta, &item.at, format!("`{region}` is listed twice in `ami_regions`"))
                        .help("remove the second entry");
                    continue;
                }
                own.push(region.clone());
                regions.push((&item.at, region));
            }
        }
        for (at, region) in regions {
            match covered.get(&region) {
                Some(first) => {
                    out.report(
                        &RULE.meta,
                        at,
                        format!("source `{name}` makes an AMI in `{region}`, which source `{first}` already covers"),
                    )
                    .help("build each region once, or move the second image to a template of its own");
                }
                None => {
                    covered.insert(region, name.clone());
                }
            }
        }
    }
}
