//! What a run will do: which templates to build, for which regions, and
//! which deployment keys each one feeds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Result;

use super::{Job, Mode, Options, Outcome, linted, tools};
use crate::channels::Channels;
use crate::deployments::{Deployment, GLOBAL, feeding_image};
use crate::fingerprint;
use crate::hcl2::Given;
use crate::lock::{LockFile, LockedTemplate};
use crate::project::{self, Filter, Layout, TemplateFile, TemplateFormat};
use crate::readout::{Readout, RegionBuilder};
use crate::secrets;
use crate::var_values::recorded_texts;
use crate::version::Version;

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

/// The deployment keys one template feeds, and the deployments of its
/// release and cloud that it leaves alone: with `channels`, a deployment
/// outside the first channel gets new images only by promotion.
pub fn feeds(
    layout: &Layout,
    regions: &[String],
    images_here: &BTreeSet<String>,
    deployments: &[Deployment],
    region_filter: &[String],
    channels: Option<&Channels>,
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
        // Roles whose ID cannot be read are fed too: the writer refuses them
        // with the place and why, rather than the run passing them by.
        let mut roles: Vec<&str> = deployment.roles();
        for role in deployment.roles_without_readable_id() {
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        roles.retain(|role| feeding_image(role, images_here) == Some(layout.image.as_str()));
        if roles.is_empty() {
            continue;
        }
        if let Some(reason) = channels.and_then(|channels| channels.not_given_new_images(deployment)) {
            left.push(LeftAlone { deployment: deployment.rel.clone(), reason });
            continue;
        }
        let region = match deployment.image_region(&layout.cloud) {
            Some(region) => region.to_owned(),
            None => {
                left.push(LeftAlone {
                    deployment: deployment.rel.clone(),
                    reason: "it has no cluster.region".to_owned(),
                });
                continue;
            }
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

/// The var files a template takes: JSON ones go to every template (HCL2
/// folders read JSON var files too), `.pkrvars.hcl` ones only to HCL2
/// folders, since a JSON template's Packer cannot read them.
/// For an HCL2 folder the `.pkrvars.hcl` files come first: Packer 1.6.6
/// applies every HCL var file before every JSON one, whatever the order
/// given, and the values read here must be the ones it takes.
pub fn var_files_for(format: TemplateFormat, var_files: &[PathBuf]) -> Vec<PathBuf> {
    let is_hcl = |file: &&PathBuf| crate::var_values::is_hcl_var_file(file);
    match format {
        TemplateFormat::Json => var_files.iter().filter(|file| !is_hcl(file)).cloned().collect(),
        TemplateFormat::Hcl2 => {
            let (hcl, json): (Vec<&PathBuf>, Vec<&PathBuf>) = var_files.iter().partition(is_hcl);
            hcl.into_iter().chain(json).cloned().collect()
        }
    }
}

/// `--var` values merged over a template's var files, for resolving
/// regions and secrets.
pub fn variable_values(var_files: &[PathBuf], vars: &[(String, String)]) -> Result<BTreeMap<String, Given>> {
    let mut values = crate::var_values::read_var_file_values(var_files)?;
    values.extend(vars.iter().map(|(name, value)| (name.clone(), Given::Arg(value.clone()))));
    Ok(values)
}

/// Plans every selected template: what it feeds, and whether it needs a build.
pub fn plan_jobs(options: &Options, deployments: &[Deployment], lockfile: &LockFile) -> Result<Vec<Job>> {
    let everything = project::find_all_templates(&options.root, &Filter::default());
    let images_here = project::images_by_release_cloud(&everything);
    let selected =
        project::select(project::find_all_templates(&options.root, &options.filter), &options.select, &options.root)?;
    // Read once each, so that a broken var file stops the run before any build.
    let mut values_of = BTreeMap::new();
    for format in [TemplateFormat::Json, TemplateFormat::Hcl2] {
        let var_files = var_files_for(format, &options.var_files);
        values_of.insert(format, (variable_values(&var_files, &options.vars)?, var_files));
    }
    let mut jobs = Vec::new();
    // The `--var` keys some template declares, and every variable name, for
    // catching a misspelt `--var`.
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut built_regions: BTreeSet<String> = BTreeSet::new();
    // A template that could not be read may declare any variable: a --var
    // that none of the others declares is then not refused.
    let mut some_unread = false;
    // The --var names the template of this turn declares: they count once
    // it is part of the run, built or failed, and not when --region leaves
    // it out.
    let mut declared_here: Vec<String> = Vec::new();
    let pins = crate::config::Config::read(&options.root)?.packer;
    let channels = crate::config::Config::read(&options.root)?.channels;
    let installed = if selected.is_empty() { Ok(None) } else { installed_packer(options, &pins) };
    // Templates are judged as the linter judges them: with the versions
    // xtask.toml declares, else the Packer that builds them; their values
    // are read as that Packer reads them, since they reach it as they are.
    let mut setting = crate::config::declared(None, &pins);
    if let Ok(Some((packer, version))) = &installed {
        setting.builds_with = Version::of_packer(version);
        if setting.core.is_none() {
            setting.core = crate::config::installed(packer, version);
        }
    }
    if selected.is_empty() {
        options.filter.check_matches(&options.root)?;
    }
    for file in selected {
        declared.extend(declared_here.drain(..));
        let layout = match &file.layout {
            Ok(layout) => layout.clone(),
            Err(problem) => {
                // Not at packer/<release>/<cloud>/<image>: nothing it could feed.
                let layout = Layout { release: "?".into(), cloud: "?".into(), image: file.rel.clone() };
                let place = match file.format {
                    TemplateFormat::Json => "packer/<release>/<cloud>/<image>/template.json",
                    TemplateFormat::Hcl2 => "packer/<release>/<cloud>/<image>/",
                };
                // A folder holding both kinds is in its place already: the
                // problem says which files to keep.
                let why = if Layout::from_relative(&file.rel).is_ok() {
                    problem.clone()
                } else {
                    format!("{problem}; move it to {place}")
                };
                some_unread = true;
                jobs.push(failed_job(file.clone(), layout, why));
                continue;
            }
        };
        let (values, var_files) = &values_of[&file.format];
        let template = match linted::readout(&file, values, &setting, &options.rules) {
            Ok(template) => template,
            Err(why) => {
                some_unread = true;
                jobs.push(failed_job(file, layout, why));
                continue;
            }
        };
        // Its variables are known now, whatever stops it below.
        declared_here = template.declared_vars(&options.vars).into_iter().map(|(key, _)| key).collect();
        names.extend(template.variables.iter().cloned());
        // First, as the cause of what follows: a folder the installed Packer
        // cannot read also has regions it cannot compute (a function it
        // lacks), which would otherwise be named instead.
        if let Some(why) = unmet_needs(&template, options) {
            jobs.push(failed_job(file, layout, why));
            continue;
        }
        if !template.unresolved.is_empty() {
            let why = format!(
                "xtask cannot tell before the build which region {} makes an image in, so not which deployments it \
                 feeds: give the variables it reads a value (--var, --var-file, PKR_VAR_<name>), or compute the \
                 region from values known before the build (not a data source, timestamp() or the like)",
                template.unresolved.join(", ")
            );
            jobs.push(failed_job(file, layout, why));
            continue;
        }
        if !template.region_problems.is_empty() {
            jobs.push(failed_job(file, layout, template.region_problems.join("; ")));
            continue;
        }
        if let Some(why) = twice_built_region(&template.builders) {
            jobs.push(failed_job(file, layout, why));
            continue;
        }
        if !template.unset.is_empty() {
            let names: Vec<String> = template.unset.iter().map(|name| format!("`{name}`")).collect();
            let first = &template.unset[0];
            let why = format!(
                "the variable{} {} {} no default and no value, and Packer refuses to build without; give {} with \
                 --var {first}=…, a var file (--var-file), or PKR_VAR_{first}",
                if names.len() > 1 { "s" } else { "" },
                names.join(", "),
                if names.len() > 1 { "have" } else { "has" },
                if names.len() > 1 { "each" } else { "it" },
            );
            jobs.push(failed_job(file, layout, why));
            continue;
        }
        let packer_path = match &installed {
            Ok(Some((path, _))) => Some(path.as_path()),
            _ => None,
        };
        let installed = match &installed {
            Ok(installed) => installed.as_ref().map(|(_, version)| version.as_str()),
            Err(why) => {
                jobs.push(failed_job(file, layout, why.clone()));
                continue;
            }
        };
        let mut tooling = match tools::plan(&template, installed, &pins) {
            Ok(tooling) => tooling,
            Err(why) => {
                jobs.push(failed_job(file, layout, why));
                continue;
            }
        };
        let builders = &template.builders;
        let selected_builders: Vec<&RegionBuilder> = builders
            .iter()
            .filter(|b| options.regions.is_empty() || b.regions.iter().any(|r| options.regions.contains(r)))
            .collect();
        built_regions.extend(builders.iter().flat_map(|b| b.regions.iter().filter(|r| *r != GLOBAL).cloned()));
        // `--region` narrows the run to the templates that build there; the
        // others (and region-less GCE ones) are not part of it.
        if !options.regions.is_empty() && selected_builders.is_empty() {
            declared_here.clear();
            continue;
        }
        let mut regions: Vec<String> = Vec::new();
        for builder in &selected_builders {
            for region in &builder.regions {
                if !regions.contains(region) {
                    regions.push(region.clone());
                }
            }
        }
        let only = if options.regions.is_empty() || selected_builders.len() == builders.len() {
            Vec::new()
        } else {
            selected_builders.iter().map(|b| b.name.clone()).collect()
        };
        let here = images_here.get(&(layout.release.clone(), layout.cloud.clone())).cloned().unwrap_or_default();
        // With --region, the deployments fed are those of every region the
        // selected builders make an image in: a builder that also copies to
        // other regions (`ami_regions`) makes new images there too, and they
        // go into the lock, so those deployments follow.
        let region_filter = if options.regions.is_empty() { Vec::new() } else { regions.clone() };
        let (feeds, left_alone) = feeds(&layout, &regions, &here, deployments, &region_filter, channels.as_ref());
        let inputs = template.inputs.clone();
        let fingerprint::InputHashes { all: hash, each: files } = match fingerprint::hash_inputs(file.dir(), &inputs) {
            Ok(hashed) => hashed,
            Err(error) => {
                jobs.push(failed_job(file, layout, format!("{error:#}; fix it, or take it out of the template")));
                continue;
            }
        };
        let vars = template.declared_vars(&options.vars);
        // What the environment gives the build counts as a setting too.
        let hashed: Vec<(String, String)> = vars.iter().chain(&template.from_env).cloned().collect();
        let texts = recorded_texts(values);
        let secrets = secrets::collect(&template.sensitive, &texts);
        let settings = fingerprint::hash_settings(
            &options.root,
            var_files,
            &hashed,
            &template.sensitive_names(),
            &secrets,
            &template.variables,
        )?;
        let mut setting_names = fingerprint::setting_names(&options.root, var_files, &vars, &template.variables);
        setting_names.extend(template.from_env.iter().map(|(name, _)| format!("PKR_VAR_{name}")));
        setting_names.sort();
        let recorded_values = fingerprint::recorded_values(
            &texts,
            &template.from_env,
            &template.variables,
            &template.sensitive_names(),
            &secrets,
        );
        let build_only = matches!(options.mode, Mode::BuildOnly { .. });
        let (outcome, reason) = if options.force || build_only {
            let flag = if options.force { "--force" } else { "--build-only" };
            (Outcome::Pending, flag.to_owned())
        } else if let Some(path) = &template.opaque_upload {
            let why = format!("it reads `{path}`, a path only the build knows, so a change there cannot be seen");
            (Outcome::Pending, why)
        } else {
            let built = Built { hash: &hash, files: &files, settings: &settings, setting_names: &setting_names };
            match recorded_images(lockfile.templates.get(&file.rel), &regions, &built) {
                Ok(images) => {
                    // What the build would load of its required plugins now;
                    // nothing when Packer cannot say (the build will).
                    let loaded = match packer_path {
                        Some(packer) if tooling.list_required => {
                            crate::plugins::required(packer, file.dir()).unwrap_or_default()
                        }
                        _ => BTreeMap::new(),
                    };
                    tooling.changes = tools::changes_since_built(
                        lockfile.templates.get(&file.rel),
                        &regions,
                        installed,
                        &tooling.pins,
                        &loaded,
                    );
                    // With channels, the first channel's deployments get
                    // what the lock last gave it, which a rollback moves.
                    let images = crate::lock::history::first_channel_images(
                        channels.as_ref().map(|channels| channels.first()),
                        lockfile.templates.get(&file.rel),
                        images,
                    );
                    (Outcome::Skipped(images), "unchanged since its images were built".to_owned())
                }
                Err(why) => (Outcome::Pending, why),
            }
        };
        for name in secrets::too_short(&template.sensitive, &texts) {
            say!(
                "warning: {}: the sensitive variable `{name}` has a value shorter than 4 characters, which xtask \
                 cannot hide in its output and logs without hiding ordinary text too",
                file.rel
            );
        }
        jobs.push(Job {
            secrets,
            credential_env: template.sensitive.iter().flat_map(|variable| &variable.env).fold(
                Vec::new(),
                |mut names, name| {
                    if !names.contains(name) {
                        names.push(name.clone());
                    }
                    names
                },
            ),
            var_files: var_files.clone(),
            file,
            layout,
            feeds,
            left_alone,
            regions,
            builders: selected_builders.iter().map(|builder| (*builder).clone()).collect(),
            only,
            hash,
            settings,
            setting_names,
            recorded_values,
            vars,
            inputs,
            files,
            reason,
            outcome,
            tooling,
        });
    }
    declared.extend(declared_here);
    let every_template_read = jobs.iter().all(|job| !job.hash.is_empty());
    if every_template_read {
        let wanted: Vec<&String> = options.regions.iter().filter(|r| !built_regions.contains(*r)).collect();
        if !wanted.is_empty() {
            anyhow::bail!(
                "no selected template builds {}; the regions they build: {}",
                wanted.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
                built_regions.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
            );
        }
    }
    if let Some((key, _)) = options.vars.iter().find(|(key, _)| !some_unread && !declared.contains(key)) {
        let hint = match crate::spelling::suggest(key, names.iter().map(String::as_str)) {
            Some(name) => format!("did you mean `{name}`?"),
            None => "declare it in the template's `variables`, or leave it out".to_owned(),
        };
        anyhow::bail!("--var {key}: no selected template declares `{key}`, so Packer would ignore it; {hint}");
    }
    Ok(jobs)
}

/// Two builders that make an image in the same region: a deployment there
/// can boot only one, and which one would be written is a guess.
fn twice_built_region(builders: &[RegionBuilder]) -> Option<String> {
    for (index, builder) in builders.iter().enumerate() {
        for other in &builders[index + 1..] {
            if let Some(region) = builder.regions.iter().find(|region| other.regions.contains(region)) {
                return Some(format!(
                    "`{}` and `{}` both make an image in {region}, and a deployment there boots one: build each \
                     region once (xtask would not know which image to write)",
                    builder.name, other.name
                ));
            }
        }
    }
    None
}

/// Why the installed Packer cannot build a template that asks for certain
/// versions (HCL2's `required_version`, or blocks Packer 1.7 brought),
/// found before anything starts. Nothing when Packer cannot be found: the
/// build says so.
fn unmet_needs(template: &Readout, options: &Options) -> Option<String> {
    if template.needs.is_empty() {
        return None;
    }
    let packer = crate::packer::find(options.packer.as_deref()).ok()?;
    let installed = crate::packer::version_cached(&packer, &options.root).ok()?;
    let unmet: Vec<String> = template.needs.iter().filter_map(|need| need.unmet(&installed)).collect();
    (!unmet.is_empty()).then(|| {
        format!(
            "the installed Packer is {installed} ({}), and {}; install a Packer that meets {} (HashiCorp's \
             releases; one beside this one is given with --packer PATH or PACKER), or write the template for this \
             one",
            packer.display(),
            unmet.join("; "),
            if unmet.len() == 1 { "it" } else { "them" }
        )
    })
}

/// The Packer a run builds with and its version, asked once per run; none
/// when Packer cannot be found (a build says how to get it). A Packer
/// whose version cannot be read fails every template: what a build needs
/// of plugins depends on it. Warns when it is not the one `xtask.toml`
/// names.
fn installed_packer(
    options: &Options,
    pins: &crate::config::PackerPins,
) -> Result<Option<(std::path::PathBuf, String)>, String> {
    let Ok(packer) = crate::packer::find(options.packer.as_deref()) else {
        return Ok(None);
    };
    let installed = crate::packer::version_cached(&packer, &options.root).map_err(|error| format!("{error:#}"))?;
    if let Some(pinned) = pins.version.as_deref().filter(|pinned| *pinned != installed) {
        say!(
            "warning: xtask.toml names Packer {pinned}, and the Packer here ({}) is {installed}: images are built \
             with {installed}, and the lock records it (give Packer {pinned} with --packer PATH or PACKER to build \
             with it)",
            packer.display()
        );
    }
    Ok(Some((packer, installed)))
}

/// What a build now would be made from.
struct Built<'a> {
    hash: &'a str,
    files: &'a BTreeMap<String, String>,
    settings: &'a str,
    setting_names: &'a [String],
}

/// The lock's images for every region, when each was built from the same
/// files and variables as now; otherwise why the template needs a build.
fn recorded_images(
    locked: Option<&LockedTemplate>,
    regions: &[String],
    now: &Built,
) -> Result<BTreeMap<String, String>, String> {
    let Some(locked) = locked else {
        return Err("no image of it is recorded in packer/images.lock".to_owned());
    };
    let mut images = BTreeMap::new();
    for region in regions {
        let Some(image) = locked.images.get(region) else {
            return Err(format!("no image for {region} is recorded"));
        };
        if let Some(revoked) = locked.lifecycle.get(&image.id).and_then(|events| events.revoked.as_ref()) {
            return Err(format!(
                "its newest image for {region}, {}, was revoked on {}: {}",
                crate::printable::escape(&image.id),
                crate::printable::escape(&revoked.at),
                crate::printable::escape(&revoked.reason)
            ));
        }
        if image.hash != now.hash {
            return Err(if image.hash != locked.hash {
                format!("its image for {region} is older than its last build (a --region run built other regions)")
            } else {
                match &locked.files {
                    Some(before) => format!(
                        "changed since its images were built: {}",
                        crate::freshness::file_changes(before, now.files)
                    ),
                    None => "the template or a file it uploads changed since its images were built".to_owned(),
                }
            });
        }
        if image.settings != now.settings {
            return Err(match &image.variables {
                Some(before) => setting_changes(before, now.setting_names),
                None => "the variables given (--var, --var-file) differ from its last build's".to_owned(),
            });
        }
        images.insert(region.clone(), image.id.clone());
    }
    Ok(images)
}

/// Which variables a run gives differently from the last build: by name,
/// since values are never recorded.
fn setting_changes(before: &[String], now: &[String]) -> String {
    let missing: Vec<&str> = before.iter().filter(|name| !now.contains(name)).map(String::as_str).collect();
    let added: Vec<&str> = now.iter().filter(|name| !before.contains(name)).map(String::as_str).collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("its last build was given {} and this run is not", missing.join(", ")));
    }
    if !added.is_empty() {
        parts.push(format!("this run gives {}, which its last build was not", added.join(", ")));
    }
    if parts.is_empty() {
        "a value given with --var or in a var file differs from its last build's".to_owned()
    } else {
        parts.join("; ")
    }
}

fn failed_job(file: TemplateFile, layout: Layout, why: String) -> Job {
    Job {
        file,
        layout,
        feeds: Vec::new(),
        left_alone: Vec::new(),
        regions: Vec::new(),
        builders: Vec::new(),
        only: Vec::new(),
        hash: String::new(),
        settings: String::new(),
        setting_names: Vec::new(),
        recorded_values: BTreeMap::new(),
        vars: Vec::new(),
        inputs: Vec::new(),
        files: BTreeMap::new(),
        reason: why.clone(),
        outcome: Outcome::Failed(why),
        var_files: Vec::new(),
        secrets: Vec::new(),
        credential_env: Vec::new(),
        tooling: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn deployment(name: &str, text: &str) -> Deployment {
        let path = Path::new("/repo/deployments").join(name);
        Deployment::parse(Path::new("/repo"), &path, text.to_owned()).unwrap()
    }

    fn aws(release: &str, region: &str) -> String {
        format!(
            "release: \"{release}\"\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-1\ncluster:\n  region: {region}\n  \
             machine_image:\n    id: ami-1\n"
        )
    }

    fn layout(release: &str, cloud: &str, image: &str) -> Layout {
        Layout { release: release.to_owned(), cloud: cloud.to_owned(), image: image.to_owned() }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| item.to_string()).collect()
    }

    /// Which deployment keys a template feeds, and why it leaves the others
    /// of its release and cloud alone.
    #[test]
    fn a_template_feeds_the_roles_of_its_release_cloud_and_regions() {
        let deployments = [
            deployment("frankfurt.yaml", &aws("3.11", "eu-central-1")),
            deployment("ireland.yaml", &aws("3.11", "eu-west-1")),
            deployment("older.yaml", &aws("3.9", "eu-central-1")),
            deployment("tokyo.yaml", &aws("3.11", "ap-northeast-1")),
            deployment("number.yaml", &aws("3.11", "eu-central-1").replace("\"3.11\"", "3.11")),
            deployment("no-region.yaml", "release: \"3.11\"\ncloud: aws\nbastion:\n  machine_image:\n    id: ami-1\n"),
            deployment("gce.yaml", &aws("3.11", "x").replace("cloud: aws", "cloud: gce")),
        ];
        let images: BTreeSet<String> = ["machine-image".to_owned()].into();
        let regions = strings(&["eu-central-1", "eu-west-1"]);
        let (fed, left) = feeds(&layout("3.11", "aws", "machine-image"), &regions, &images, &deployments, &[], None);
        let fed: Vec<String> =
            fed.iter().map(|feed| format!("{} {} {}", feed.deployment_rel, feed.role, feed.region)).collect();
        assert_eq!(
            fed,
            [
                "deployments/frankfurt.yaml bastion eu-central-1",
                "deployments/frankfurt.yaml cluster eu-central-1",
                "deployments/ireland.yaml bastion eu-west-1",
                "deployments/ireland.yaml cluster eu-west-1",
            ]
        );
        let left: Vec<String> = left.iter().map(|left| format!("{}: {}", left.deployment, left.reason)).collect();
        assert_eq!(
            left,
            [
                "deployments/tokyo.yaml: its region ap-northeast-1 is not one this template builds (eu-central-1, \
                 eu-west-1)",
                "deployments/number.yaml: its `release: 3.11` is unquoted, which YAML reads as a number; quote it: \
                 release: \"3.11\"",
                "deployments/no-region.yaml: it has no cluster.region",
            ]
        );

        // --region leaves the other regions' deployments alone, saying so.
        let only = strings(&["eu-west-1"]);
        let (fed, left) = feeds(&layout("3.11", "aws", "machine-image"), &regions, &images, &deployments, &only, None);
        assert!(fed.iter().all(|feed| feed.region == "eu-west-1"), "{fed:?}");
        assert!(left.iter().any(|left| left.reason == "its region eu-central-1 is not in --region"), "{left:?}");

        // A GCE image is global: every deployment of its release feeds from it.
        let global = strings(&[GLOBAL]);
        let (fed, left) = feeds(&layout("3.11", "gce", "machine-image"), &global, &images, &deployments, &only, None);
        assert_eq!(fed.len(), 2, "bastion and cluster of gce.yaml, whatever --region says: {fed:?}");
        assert!(left.is_empty(), "{left:?}");

        // A role with its own image is not fed by machine-image.
        let both: BTreeSet<String> = ["machine-image".to_owned(), "bastion-image".to_owned()].into();
        let (fed, _) = feeds(&layout("3.11", "aws", "machine-image"), &regions, &both, &deployments[..1], &[], None);
        assert_eq!(fed.iter().map(|feed| feed.role.as_str()).collect::<Vec<_>>(), ["cluster"]);
    }

    fn image(id: &str, hash: &str, settings: &str) -> crate::lock::LockedImage {
        crate::lock::LockedImage {
            id: id.to_owned(),
            built_at: "2026-01-01T00:00:00Z".to_owned(),
            packer_version: None,
            hash: hash.to_owned(),
            settings: settings.to_owned(),
            manifest: None,
            variables: Some(strings(&["owner"])),
            values: None,
            plugins: None,
        }
    }

    /// A template is current only when every region it builds has an image
    /// built from the same files and values as now; otherwise the reason
    /// names what differs.
    #[test]
    fn recorded_images_say_why_a_template_needs_a_build() {
        let files: BTreeMap<String, String> = [("template.json".to_owned(), "h1".to_owned())].into();
        let now_files: BTreeMap<String, String> =
            [("template.json".to_owned(), "h2".to_owned()), ("scripts/a.sh".to_owned(), "h3".to_owned())].into();
        let names = strings(&["owner"]);
        let now = Built { hash: "new", files: &now_files, settings: "s", setting_names: &names };
        let regions = strings(&["eu-central-1", "eu-west-1"]);
        assert_eq!(
            recorded_images(None, &regions, &now).unwrap_err(),
            "no image of it is recorded in packer/images.lock"
        );
        let mut locked = LockedTemplate {
            hash: "new".to_owned(),
            inputs: Vec::new(),
            files: Some(files),
            images: [("eu-central-1".to_owned(), image("ami-1", "new", "s"))].into(),
            ..LockedTemplate::default()
        };
        assert_eq!(recorded_images(Some(&locked), &regions, &now).unwrap_err(), "no image for eu-west-1 is recorded");
        locked.images.insert("eu-west-1".to_owned(), image("ami-2", "new", "s"));
        let current = recorded_images(Some(&locked), &regions, &now).unwrap();
        assert_eq!(current.values().collect::<Vec<_>>(), ["ami-1", "ami-2"]);

        locked.images.insert("eu-west-1".to_owned(), image("ami-2", "old", "s"));
        assert_eq!(
            recorded_images(Some(&locked), &regions, &now).unwrap_err(),
            "its image for eu-west-1 is older than its last build (a --region run built other regions)"
        );
        locked.hash = "old".to_owned();
        locked.images.insert("eu-central-1".to_owned(), image("ami-1", "old", "s"));
        assert_eq!(
            recorded_images(Some(&locked), &regions, &now).unwrap_err(),
            "changed since its images were built: scripts/a.sh (new), template.json (changed)"
        );
        locked.hash = "new".to_owned();
        locked.images.insert("eu-central-1".to_owned(), image("ami-1", "new", "other"));
        assert_eq!(
            recorded_images(Some(&locked), &regions, &now).unwrap_err(),
            "a value given with --var or in a var file differs from its last build's"
        );
    }

    #[test]
    fn setting_changes_are_named() {
        assert_eq!(
            setting_changes(&strings(&["owner", "var-file prod.json"]), &strings(&["owner", "team"])),
            "its last build was given var-file prod.json and this run is not; this run gives team, which its last \
             build was not"
        );
    }

    #[test]
    fn var_files_go_to_the_templates_that_read_them() {
        let given = [PathBuf::from("a.json"), PathBuf::from("b.pkrvars.hcl"), PathBuf::from("c.json")];
        assert_eq!(var_files_for(TemplateFormat::Json, &given), [PathBuf::from("a.json"), PathBuf::from("c.json")]);
        assert_eq!(
            var_files_for(TemplateFormat::Hcl2, &given),
            [PathBuf::from("b.pkrvars.hcl"), PathBuf::from("a.json"), PathBuf::from("c.json")],
            "Packer reads every HCL var file before the JSON ones"
        );
    }
}
