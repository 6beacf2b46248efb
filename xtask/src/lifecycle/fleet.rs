//! Which deployments boot which image: per template and region, the
//! deployment keys the template feeds, by channel. `promote`, `rollback`,
//! `prune` and `status` all start from it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};

use crate::channels::{Channels, Membership};
use crate::deployments::{Deployment, GLOBAL, feeding_image};
use crate::project::{self, Filter, Layout, TemplateFile};

/// One deployment key a template feeds.
#[derive(Clone, Debug)]
pub struct Key {
    /// Index into the deployments read.
    pub deployment: usize,
    /// The deployment's path relative to the root.
    pub path: String,
    pub role: String,
    /// The ID it holds; none when it cannot be read as one value (the
    /// writer says why).
    pub id: Option<String>,
}

impl Key {
    /// `cluster.machine_image.id`.
    pub fn name(&self) -> String {
        format!("{}.machine_image.id", self.role)
    }
}

/// A template in one region, and the deployment keys each channel has
/// there.
pub struct Place {
    pub template: TemplateFile,
    pub layout: Layout,
    pub region: String,
    pub by_channel: BTreeMap<String, Vec<Key>>,
}

impl Place {
    /// The template as `status` and the JSON documents name it: its folder.
    pub fn folder(&self) -> &str {
        self.template.rel.strip_suffix("/template.json").unwrap_or(&self.template.rel)
    }

    pub fn keys(&self, channel: &str) -> &[Key] {
        self.by_channel.get(channel).map_or(&[], Vec::as_slice)
    }

    /// The IDs a channel's keys hold, each once, in the order met.
    pub fn ids(&self, channel: &str) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for key in self.keys(channel) {
            let id = key.id.as_deref().unwrap_or("");
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// `deployments/a.yaml boots ami-1, deployments/b.yaml boots ami-2`.
    pub fn who_boots_what(&self, channel: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        for key in self.keys(channel) {
            let id =
                key.id.as_deref().map_or("no readable ID".to_owned(), |id| crate::printable::escape(id).into_owned());
            let part = format!("{} {} boots {id}", key.path, key.name());
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        parts.join(", ")
    }
}

/// Every place of the selected templates, and the deployments in no
/// channel, with why.
pub struct Fleet {
    pub places: Vec<Place>,
    pub outside: Vec<(String, String)>,
}

/// What to look at: templates by release, cloud and image, and by folder.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub filter: Filter,
    /// Template folders (`packer/3.11/aws/machine-image`); all when empty.
    pub select: Vec<String>,
    pub regions: Vec<String>,
}

impl Selection {
    /// The laid-out templates selected; an error for a `--select` or path
    /// that names none, or filters that leave none (listing what there is,
    /// as every command's selection does).
    pub fn templates(&self, root: &Path) -> Result<Vec<TemplateFile>> {
        self.filter.check_matches(root)?;
        let laid_out: Vec<TemplateFile> =
            project::find_all_templates(root, &self.filter).into_iter().filter(|file| file.layout.is_ok()).collect();
        let selected = project::select(laid_out, &self.select, root)?;
        if selected.is_empty() && !self.filter.is_empty() {
            anyhow::bail!(
                "no template in its place (packer/<release>/<cloud>/<image>/) matches {}",
                self.filter.flags()
            );
        }
        Ok(selected)
    }

    /// Whether no flag narrows the selection.
    pub fn is_everything(&self) -> bool {
        self.filter.is_empty() && self.select.is_empty() && self.regions.is_empty()
    }

    /// Whether `--region` leaves a region in; images of a global cloud
    /// always are.
    pub fn takes_region(&self, region: &str) -> bool {
        self.regions.is_empty() || region == GLOBAL || self.regions.iter().any(|wanted| wanted == region)
    }
}

/// The places of the selected templates. A template feeds a role of a
/// deployment of its release and cloud as `images` decides it
/// (`<role>-image`, else `machine-image` for bastion and cluster); an AWS
/// deployment is in the region of `cluster.region`, others in `global`.
pub fn survey(root: &Path, channels: &Channels, deployments: &[Deployment], selection: &Selection) -> Result<Fleet> {
    let everything = project::find_all_templates(root, &Filter::default());
    let images_here = project::images_by_release_cloud(&everything);
    let selected = selection.templates(root)?;
    let mut places: BTreeMap<(String, String), Place> = BTreeMap::new();
    let mut outside = Vec::new();
    // Every region the selected templates feed, whatever --region says, so
    // that a region no deployment is in (a typo) is an error rather than
    // a run that quietly does nothing.
    let mut regions_fed: Vec<String> = Vec::new();
    for (index, deployment) in deployments.iter().enumerate() {
        let channel = match channels.of(deployment) {
            Membership::In(channel) => channel,
            Membership::Unknown(why) => {
                outside.push((deployment.rel.clone(), why));
                continue;
            }
        };
        if deployment.release_is_a_number() {
            continue;
        }
        for file in &selected {
            let layout = file.layout.clone().expect("filtered to laid-out templates");
            if deployment.release() != Some(layout.release.as_str())
                || deployment.cloud() != Some(layout.cloud.as_str())
            {
                continue;
            }
            let here = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned().unwrap_or_default();
            let mut roles = deployment.roles();
            for role in deployment.roles_without_readable_id() {
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
            roles.retain(|role| feeding_image(role, &here) == Some(layout.image.as_str()));
            let Some(region) = deployment.image_region(&layout.cloud).map(str::to_owned) else { continue };
            if !roles.is_empty() && !regions_fed.contains(&region) {
                regions_fed.push(region.clone());
            }
            if !selection.takes_region(&region) {
                continue;
            }
            for role in roles {
                let place = places.entry((file.rel.clone(), region.clone())).or_insert_with(|| Place {
                    template: file.clone(),
                    layout: layout.clone(),
                    region: region.clone(),
                    by_channel: BTreeMap::new(),
                });
                place.by_channel.entry(channel.to_owned()).or_default().push(Key {
                    deployment: index,
                    path: deployment.rel.clone(),
                    role: role.to_owned(),
                    id: deployment.image_id(role).and_then(|node| node.as_str()).map(str::to_owned),
                });
            }
        }
    }
    for wanted in &selection.regions {
        if !regions_fed.contains(wanted) {
            regions_fed.sort();
            bail!(
                "--region {}: no deployment the selected templates feed is in that region; they are in {}",
                crate::printable::escape(wanted),
                if regions_fed.is_empty() { "none".to_owned() } else { regions_fed.join(", ") }
            );
        }
    }
    Ok(Fleet { places: places.into_values().collect(), outside })
}
