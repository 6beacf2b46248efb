//! What a run will do: which templates to build, for which regions, and
//! which deployment keys each one feeds.

use std::collections::{BTreeMap, BTreeSet};

use crate::deployments::Deployment;
use crate::gotmpl;
use crate::project::{Layout, TemplateFile};
use crate::template::{Block, Template};

/// Key under which a cloud's region-less images (GCE) are recorded.
pub const GLOBAL: &str = "global";

/// The roles a `machine-image` feeds when no `<role>-image` exists.
pub const MACHINE_IMAGE_ROLES: &[&str] = &["bastion", "cluster"];

/// Which image folder feeds `role` of a deployment of this release and
/// cloud, given every template that exists there.
pub fn feeding_image<'a>(role: &str, images: &'a BTreeSet<String>) -> Option<&'a str> {
    let own = format!("{role}-image");
    if let Some(image) = images.get(&own) {
        return Some(image);
    }
    if MACHINE_IMAGE_ROLES.contains(&role) {
        return images.get("machine-image").map(String::as_str);
    }
    None
}

/// A deployment key fed by a template.
#[derive(Clone, Debug)]
pub struct Feed {
    /// Index into the run's deployments.
    pub deployment: usize,
    /// The deployment's path relative to the root.
    pub deployment_rel: String,
    pub role: String,
    /// The region whose image it takes (`global` for GCE).
    pub region: String,
}

/// A deployment a template could feed but will not, and why.
#[derive(Clone, Debug)]
pub struct LeftAlone {
    /// The deployment's path relative to the root.
    pub deployment: String,
    pub reason: String,
}

/// A template's builders that make images, with the regions they cover.
pub struct RegionBuilder {
    pub name: String,
    pub regions: Vec<String>,
}

/// Regions each AMI builder covers (`region` plus `ami_regions`), with user
/// variables replaced by `--var` values or defaults; `global` for a GCE
/// builder.
pub fn region_builders(template: &Template, vars: &BTreeMap<String, String>) -> Vec<RegionBuilder> {
    let resolve = |text: &str| resolve_user_variables(template, vars, text);
    template
        .builders()
        .iter()
        .filter_map(|builder: &Block| {
            let kind = builder.kind()?;
            let name = builder.builder_name()?.to_owned();
            if kind == "googlecompute" {
                return Some(RegionBuilder { name, regions: vec![GLOBAL.to_owned()] });
            }
            if !kind.starts_with("amazon-") {
                return None;
            }
            let mut regions: Vec<String> = builder.str("region").map(&resolve).into_iter().collect();
            for (_, region) in builder.strings("ami_regions") {
                let region = resolve(region);
                if !regions.contains(&region) {
                    regions.push(region);
                }
            }
            Some(RegionBuilder { name, regions })
        })
        .collect()
}

/// Replaces `{{user `x`}}` by the variable's value for this run. Anything
/// else templated is left as written.
pub fn resolve_user_variables(template: &Template, vars: &BTreeMap<String, String>, text: &str) -> String {
    let mut out = text.to_owned();
    for (action, name) in gotmpl::calls_to(text, "user") {
        let value = vars.get(&name).map(String::as_str).or_else(|| template.variable_default(&name));
        if let Some(value) = value {
            out = out.replace(action, value);
        }
    }
    out
}

/// The deployment keys one template feeds, and the deployments of its
/// release and cloud that it leaves alone.
pub fn feeds(
    layout: &Layout,
    regions: &[String],
    images_here: &BTreeSet<String>,
    deployments: &[Deployment],
    region_filter: &[String],
) -> (Vec<Feed>, Vec<LeftAlone>) {
    let mut fed = Vec::new();
    let mut left = Vec::new();
    for (index, deployment) in deployments.iter().enumerate() {
        if deployment.release() != Some(layout.release.as_str()) || deployment.cloud() != Some(layout.cloud.as_str()) {
            continue;
        }
        if deployment.release_is_a_number() {
            left.push(LeftAlone {
                deployment: deployment.rel.clone(),
                reason: format!(
                    "its `release: {}` is unquoted, which YAML reads as a number; quote it: release: \"{}\"",
                    layout.release, layout.release
                ),
            });
            continue;
        }
        let roles: Vec<&str> = deployment
            .roles()
            .into_iter()
            .filter(|role| feeding_image(role, images_here) == Some(layout.image.as_str()))
            .collect();
        if roles.is_empty() {
            continue;
        }
        let region = if layout.cloud == "aws" {
            match deployment.region() {
                Some(region) => region.to_owned(),
                None => {
                    left.push(LeftAlone {
                        deployment: deployment.rel.clone(),
                        reason: "it has no cluster.region".to_owned(),
                    });
                    continue;
                }
            }
        } else {
            GLOBAL.to_owned()
        };
        if region != GLOBAL && !region_filter.is_empty() && !region_filter.contains(&region) {
            left.push(LeftAlone {
                deployment: deployment.rel.clone(),
                reason: format!("its region {region} is not in --region"),
            });
            continue;
        }
        if !regions.contains(&region) {
            left.push(LeftAlone {
                deployment: deployment.rel.clone(),
                reason: format!("its region {region} is not one this template builds ({})", regions.join(", ")),
            });
            continue;
        }
        for role in roles {
            fed.push(Feed {
                deployment: index,
                deployment_rel: deployment.rel.clone(),
                role: role.to_owned(),
                region: region.clone(),
            });
        }
    }
    (fed, left)
}

/// The templates that exist per (release, cloud): the image folder names.
pub fn images_by_release_cloud(files: &[TemplateFile]) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for file in files {
        if let Ok(layout) = &file.layout {
            out.entry((layout.release.clone(), layout.cloud.clone())).or_default().insert(layout.image.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_images_take_precedence() {
        let both: BTreeSet<String> = ["machine-image".to_owned(), "bastion-image".to_owned()].into();
        assert_eq!(feeding_image("bastion", &both), Some("bastion-image"));
        assert_eq!(feeding_image("cluster", &both), Some("machine-image"));
        assert_eq!(feeding_image("worker", &both), None);
    }
}
