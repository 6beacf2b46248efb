//! `cargo xtask status`: per template, the images the lock records, whether
//! they are stale (and which file changed), and which deployments boot
//! which ID, including IDs the lock does not know. It answers "which
//! clusters still boot the old image?" in one command. With channels, each
//! channel's image per region, its age and soak, and the revocations; and
//! what `prune` would remove (see `lifecycle.rs`).

mod lifecycle;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};

use self::lifecycle::{ChannelImage, Prunable, Revoked};
use crate::deployments::{Deployment, feeding_image};
use crate::freshness::{self, Freshness};
use crate::json::{self, Json, ToJson, json_object};
use crate::lifecycle::{fleet, prune};
use crate::lock::{LockFile, LockedImage, LockedTemplate};
use crate::printable;
use crate::project::{self, Filter, Layout, Selection, TemplateFile};
use crate::render::Format;

/// `cargo xtask status` of the templates the selection leaves in (all by
/// default), and of the removed templates the lock still records there.
pub fn run(selection: &Selection, format: Format) -> Result<ExitCode> {
    let root = selection.root.as_path();
    let filter = &selection.filter;
    if selection.paths.is_empty() {
        filter.check_matches(root)?;
    }
    let lockfile = LockFile::read(root)?;
    let channels = crate::config::Config::read(root)?.channels;
    let now = crate::clock::now();
    let (deployments, unreadable) = crate::deployments::load_all(root)?;
    let templates = project::find_all_templates(root, &Filter::default());
    let images_here = project::images_by_release_cloud(&templates);
    let wanted = at_paths(&templates, &selection.paths)?;
    let chosen =
        |file: &TemplateFile| filter.accepts(file) && wanted.as_ref().is_none_or(|rels| rels.contains(&file.rel));
    // What `prune` would remove with its defaults; nothing while a
    // deployment cannot be read, as `prune --execute` then refuses.
    let prunable = if unreadable.is_empty() {
        let named = prune::select::named_by_deployments(&deployments, &lockfile);
        let (everything, policy) = (fleet::Selection::default(), prune::select::Policy::default());
        prune::select::judge(&lockfile, &named, &everything, &policy, now)
    } else {
        Vec::new()
    };
    // Which channels have a deployment booting each template in each
    // region: a promotion takes its image from there.
    let mut booted: BTreeSet<(String, String, String)> = BTreeSet::new();
    if let Some(channels) = &channels {
        let fleet = fleet::survey(root, channels, &deployments, &fleet::Selection::default())?;
        for place in &fleet.places {
            for channel in place.by_channel.keys() {
                booted.insert((place.template.rel.clone(), channel.clone(), place.region.clone()));
            }
        }
    }
    let mut entries: Vec<TemplateStatus> = templates
        .iter()
        .filter(|file| file.layout.is_ok() && chosen(file))
        .map(|file| {
            let mut status = template_status(file, &lockfile, &images_here, &deployments);
            let locked = lockfile.templates.get(&file.rel);
            let booted_here = |channel: &str, region: &str| {
                booted.contains(&(file.rel.clone(), channel.to_owned(), region.to_owned()))
            };
            status.channels = Some(lifecycle::channels_of(locked, channels.as_ref(), &booted_here, now));
            status.revoked = Some(lifecycle::revocations_of(locked));
            status.prunable = lifecycle::prunable_of(&prunable, &file.rel);
            status
        })
        .collect();
    // Lock entries whose template is gone: their images are still
    // recorded, and deployments may still boot them.
    let mut removed: Vec<(&String, &LockedTemplate)> = lockfile.templates.iter().collect();
    removed.sort_by(|(a, _), (b, _)| project::path_order(Path::new(a), Path::new(b)));
    for (rel, locked) in removed {
        let in_selection = wanted.is_none()
            && (filter.is_empty() || Layout::from_relative(rel).is_ok_and(|layout| filter.accepts_layout(&layout)));
        if in_selection && !templates.iter().any(|file| &file.rel == rel) {
            let mut status = removed_template_status(rel, locked, &images_here, &deployments);
            status.prunable = lifecycle::prunable_of(&prunable, rel);
            entries.push(status);
        }
    }
    match format {
        Format::Json => {
            // The keys in alphabetical order, as they have always been.
            let document = json_object! { "errors": unreadable, "templates": entries, "version": 1 };
            let document = json::pretty(&document);
            show_line!("{}", printable::escape_json(&document));
        }
        _ => {
            show!("{}", human(&entries));
            for problem in &unreadable {
                say!("error: {}", printable::escape(problem));
            }
        }
    }
    Ok(if unreadable.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// One template's status: its entry in the document, its lines in the
/// table.
struct TemplateStatus {
    /// Its folder (`packer/3.11/aws/machine-image`), or its file.
    template: String,
    release: Option<String>,
    cloud: Option<String>,
    image: Option<String>,
    /// Its files are gone; the lock still records its images.
    removed: bool,
    images: Vec<ImageStatus>,
    deployments: Vec<KeyStatus>,
    /// Each channel's image per region, and the revocations: absent for a
    /// removed template.
    channels: Option<Vec<ChannelImage>>,
    revoked: Option<Vec<Revoked>>,
    /// What `prune` would remove.
    prunable: Vec<Prunable>,
}

/// An image the lock records for the template in one region.
struct ImageStatus {
    region: String,
    id: String,
    built_at: String,
    packer_version: Option<String>,
    plugins: Option<BTreeMap<String, String>>,
    /// The manifest it was taken from.
    manifest: Option<String>,
    /// Current, stale (and why), or its template gone.
    state: Option<String>,
    /// What it was built with besides its files: a run given other
    /// variables builds it again (see `images --plan`).
    given: Option<Vec<String>>,
    values: Option<BTreeMap<String, Option<String>>>,
}

/// A deployment key the template feeds, or fed, and what it boots.
struct KeyStatus {
    path: String,
    key: String,
    region: String,
    id: String,
    state: String,
}

impl ToJson for TemplateStatus {
    fn to_json(&self) -> Json {
        json_object! {
            "channels"?: self.channels,
            "cloud": self.cloud,
            "deployments": self.deployments,
            "image": self.image,
            "images": self.images,
            "prunable": self.prunable,
            "release": self.release,
            "removed": self.removed,
            "revoked"?: self.revoked,
            "template": self.template,
        }
    }
}

impl ToJson for ImageStatus {
    fn to_json(&self) -> Json {
        json_object! {
            "built_at": self.built_at,
            "given": self.given,
            "id": self.id,
            "manifest": self.manifest,
            "packer_version": self.packer_version,
            "plugins": self.plugins,
            "region": self.region,
            "state": self.state,
            "values": self.values,
        }
    }
}

impl ToJson for KeyStatus {
    fn to_json(&self) -> Json {
        json_object! {
            "id": self.id,
            "key": self.key,
            "path": self.path,
            "region": self.region,
            "state": self.state,
        }
    }
}

impl ImageStatus {
    fn of(region: &str, image: &LockedImage, state: Option<String>) -> ImageStatus {
        ImageStatus {
            region: region.to_owned(),
            id: image.id.clone(),
            built_at: image.built_at.clone(),
            packer_version: image.packer_version.clone(),
            plugins: image.plugins.clone(),
            manifest: image.manifest.as_ref().map(|manifest| manifest.path.clone()),
            state,
            given: image.variables.clone(),
            values: image.values.clone(),
        }
    }
}

/// The templates that `paths` name (a template.json, an HCL2 folder or one
/// of its files), by their root-relative path; `None` when no path is given.
fn at_paths(templates: &[TemplateFile], paths: &[PathBuf]) -> Result<Option<Vec<String>>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let canonical = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut rels = Vec::new();
    for given in paths {
        let path = canonical(given);
        let found = templates.iter().find(|file| {
            let dir = canonical(file.dir());
            canonical(&file.path) == path || dir == path || path.parent() == Some(dir.as_path())
        });
        match found {
            Some(file) => rels.push(file.rel.clone()),
            None => bail!("`{}`: no template there (template.json or *.pkr.hcl)", given.display()),
        }
    }
    Ok(Some(rels))
}

/// One template: its recorded images and the deployments it feeds.
fn template_status(
    file: &TemplateFile,
    lockfile: &LockFile,
    images_here: &BTreeMap<(String, String), BTreeSet<String>>,
    deployments: &[Deployment],
) -> TemplateStatus {
    let layout = file.layout.clone().expect("filtered to laid-out templates");
    let locked: Option<&LockedTemplate> = lockfile.templates.get(&file.rel);
    let recorded = locked.map(|locked| &locked.images);
    // Judged with the values each build was given, as `images --plan`
    // judges a run with its own.
    let freshness = locked.map(|locked| freshness::of_template(file, locked)).unwrap_or_default();
    let images: Vec<ImageStatus> = recorded
        .into_iter()
        .flatten()
        .map(|(region, image)| ImageStatus::of(region, image, freshness.get(region).map(Freshness::describe)))
        .collect();
    let here = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned().unwrap_or_default();
    let mut used = Vec::new();
    for deployment in deployments {
        if deployment.release() != Some(layout.release.as_str()) || deployment.cloud() != Some(layout.cloud.as_str()) {
            continue;
        }
        let region = deployment.image_region(&layout.cloud).unwrap_or("?");
        for role in deployment.roles() {
            if feeding_image(role, &here) != Some(layout.image.as_str()) {
                continue;
            }
            let id = deployment.image_id(role).and_then(|node| node.as_str()).unwrap_or("?");
            let recorded_here = recorded.and_then(|images| images.get(region)).map(|image| image.id.as_str());
            let known = recorded.is_some_and(|images| images.values().any(|image| image.id == id));
            // With channels a later channel boots an earlier build while the
            // first has the newest: the lock keeps it in its history.
            let earlier_here = locked
                .and_then(|locked| locked.history.get(region))
                .is_some_and(|images| images.iter().any(|image| image.id == id));
            let given_to: Vec<&str> = locked
                .into_iter()
                .flat_map(|locked| &locked.channels)
                .filter(|(_, given)| given.get(region).is_some_and(|given| given == id))
                .map(|(channel, _)| channel.as_str())
                .collect();
            // Another template's image, by the lock.
            let elsewhere = lockfile
                .templates
                .iter()
                .find(|(rel, other)| **rel != file.rel && other.images.values().any(|image| image.id == id))
                .map(|(rel, _)| rel.strip_suffix("/template.json").unwrap_or(rel).to_owned());
            let image_state = images
                .iter()
                .find(|image| image.region == region)
                .and_then(|image| image.state.as_deref())
                .unwrap_or("current");
            let state = match (recorded_here, elsewhere) {
                (Some(current), _) if current == id && image_state == "current" => "current".to_owned(),
                (Some(current), _) if current == id => format!("boots the recorded image, which is {image_state}"),
                (Some(_), _) if earlier_here && given_to.is_empty() => {
                    "an earlier image of it, in the lock's history".to_owned()
                }
                (Some(_), _) if earlier_here => {
                    format!("an earlier image of it, the one the lock gave `{}`", given_to.join("`, `"))
                }
                (Some(_), _) if known => "another region's image".to_owned(),
                (_, Some(other)) => format!("an image of {other}"),
                (Some(_), None) => "not the recorded image (unknown to the lock)".to_owned(),
                (None, None) => "no image recorded for its region".to_owned(),
            };
            used.push(KeyStatus {
                path: deployment.rel.clone(),
                key: format!("{role}.machine_image.id"),
                region: region.to_owned(),
                id: id.to_owned(),
                state,
            });
        }
    }
    TemplateStatus {
        template: file.rel.strip_suffix("/template.json").unwrap_or(&file.rel).to_owned(),
        release: Some(layout.release),
        cloud: Some(layout.cloud),
        image: Some(layout.image),
        removed: false,
        images,
        deployments: used,
        channels: None,
        revoked: None,
        prunable: Vec::new(),
    }
}

/// A template the lock records whose files are gone (`git rm -r`): its
/// images, and the deployment keys that still boot one of them, or that it
/// fed and nothing feeds now.
fn removed_template_status(
    rel: &str,
    locked: &LockedTemplate,
    images_here: &BTreeMap<(String, String), BTreeSet<String>>,
    deployments: &[Deployment],
) -> TemplateStatus {
    let images: Vec<ImageStatus> = locked
        .images
        .iter()
        .map(|(region, image)| ImageStatus::of(region, image, Some("its template is gone".to_owned())))
        .collect();
    let layout = Layout::from_relative(rel).ok();
    let mut used = Vec::new();
    for deployment in deployments {
        let same_place = layout.as_ref().is_some_and(|layout| {
            deployment.release() == Some(layout.release.as_str()) && deployment.cloud() == Some(layout.cloud.as_str())
        });
        for role in deployment.roles() {
            let id = deployment.image_id(role).and_then(|node| node.as_str()).unwrap_or("?");
            let booted = locked.images.iter().find(|(_, image)| image.id == id);
            let state = match (booted, &layout) {
                (Some((region, _)), _) => format!("boots its image for {region}, and its template is gone"),
                // A key it fed that no template feeds now.
                (None, Some(layout)) if same_place => {
                    let now = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned();
                    let mut before = now.clone().unwrap_or_default();
                    before.insert(layout.image.clone());
                    let fed_it = feeding_image(role, &before) == Some(layout.image.as_str());
                    if !fed_it || feeding_image(role, &now.unwrap_or_default()).is_some() {
                        continue;
                    }
                    "its template is gone, and no template feeds this key".to_owned()
                }
                (None, _) => continue,
            };
            let region = deployment.image_region(deployment.cloud().unwrap_or_default()).unwrap_or("?");
            used.push(KeyStatus {
                path: deployment.rel.clone(),
                key: format!("{role}.machine_image.id"),
                region: region.to_owned(),
                id: id.to_owned(),
                state,
            });
        }
    }
    TemplateStatus {
        template: rel.strip_suffix("/template.json").unwrap_or(rel).to_owned(),
        release: layout.as_ref().map(|layout| layout.release.clone()),
        cloud: layout.as_ref().map(|layout| layout.cloud.clone()),
        image: layout.as_ref().map(|layout| layout.image.clone()),
        removed: true,
        images,
        deployments: used,
        channels: None,
        revoked: None,
        prunable: Vec::new(),
    }
}

/// The table for a person: per template its images, then who uses what.
fn human(entries: &[TemplateStatus]) -> String {
    let mut out = String::new();
    // Everything here comes from files (the lock, deployments, their
    // names): shown with its control characters escaped.
    let text = |text: &str| printable::escape(text).into_owned();
    for entry in entries {
        if entry.removed {
            let _ = writeln!(
                out,
                "{}  (removed: its template is gone; packer/images.lock still records its images)",
                text(&entry.template)
            );
        } else {
            let _ = writeln!(out, "{}", text(&entry.template));
        }
        if entry.images.is_empty() {
            let _ = writeln!(out, "  no image recorded in packer/images.lock");
        }
        for image in &entry.images {
            let by = match (&image.packer_version, &image.manifest) {
                (_, Some(manifest)) => format!("from {}", printable::escape(manifest)),
                (Some(version), None) => {
                    let plugins: Vec<String> = image
                        .plugins
                        .iter()
                        .flatten()
                        .map(|(source, version)| {
                            format!(" and {} {}", printable::escape(source), printable::escape(version))
                        })
                        .collect();
                    format!("with Packer {}{}", printable::escape(version), plugins.concat())
                }
                (None, None) => String::new(),
            };
            let given: Vec<String> = image
                .given
                .iter()
                .flatten()
                .map(|name| {
                    // The lock keeps a `PKR_VAR_<name>` value under the variable's name.
                    let variable = name.strip_prefix("PKR_VAR_").unwrap_or(name);
                    match image.values.as_ref().and_then(|values| values.get(variable)).and_then(Option::as_deref) {
                        Some(value) => format!("{}={}", printable::escape(name), shortened(value)),
                        None => printable::escape(name).into_owned(),
                    }
                })
                .collect();
            let given = if given.is_empty() { String::new() } else { format!(" (given {})", given.join(", ")) };
            let _ = writeln!(
                out,
                "  {:<14} {:<22} built {} {by}  {}{given}",
                text(&image.region),
                text(&image.id),
                text(&image.built_at),
                text(image.state.as_deref().unwrap_or_default())
            );
        }
        let channels = entry.channels.as_deref().unwrap_or_default();
        lifecycle::human(channels, entry.revoked.as_deref().unwrap_or_default(), &entry.prunable, &mut out);
        for used in &entry.deployments {
            let _ = writeln!(
                out,
                "  {} {} ({}): {}  {}",
                text(&used.path),
                text(&used.key),
                text(&used.region),
                text(&used.id),
                text(&used.state)
            );
        }
    }
    if entries.is_empty() {
        out.push_str("No templates: they live at packer/<release>/<cloud>/<image>/ (template.json or *.pkr.hcl).\n");
    }
    out
}

/// A value as the table shows it: escaped, and cut after 40 characters
/// (the JSON has it whole).
fn shortened(value: &str) -> String {
    const SHOWN: usize = 40;
    let escaped = printable::escape(value);
    match escaped.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}…", &escaped[..at]),
        None => escaped.into_owned(),
    }
}
