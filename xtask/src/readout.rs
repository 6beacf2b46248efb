//! What a build needs to know of a template, whichever way it is written:
//! the builders that make images and their regions, the files a build
//! reads, the variables it declares and which of them are secret. The
//! stages of `images` after the plan never look at JSON or HCL2 again,
//! and the deployment linter and `freshness` read templates here too.

use std::collections::{BTreeMap, BTreeSet};

use crate::deployments::GLOBAL;
use crate::gotmpl;
use crate::hcl2::Given;
use crate::hcl2::Hcl2Template;
use crate::plugins::PluginUse;
use crate::project::{TemplateFile, TemplateFormat};
use crate::schema::PluginKind;
use crate::schema::features::Feature;
use crate::schema::in_force::Setting;
use crate::secrets::{self, Sensitive};
use crate::template::{self, Block, Loaded, Template};
use crate::version::Version;

/// A template, read for building.
pub struct Readout {
    /// The builders that make images, each with its regions; a builder is
    /// named the way `-only` selects it (`amazon-ebs` in JSON,
    /// `amazon-ebs.frankfurt` in HCL2).
    pub builders: Vec<RegionBuilder>,
    /// Regions only the build knows (`var.region` with no value given and
    /// no default), as `<builder>: <expression>`.
    pub unresolved: Vec<String>,
    /// Why Packer would build elsewhere than xtask can know, or refuse the
    /// regions as written ([`crate::regions::covered`]), one per builder.
    pub region_problems: Vec<String>,
    /// The names of every builder that makes images, whether its regions
    /// are known or not.
    pub image_builders: Vec<String>,
    /// The files a build reads, relative to the template's folder.
    pub inputs: Vec<String>,
    /// Every variable the template declares.
    pub variables: BTreeSet<String>,
    pub sensitive: Vec<Sensitive>,
    /// A file it uploads whose path only the build knows.
    pub opaque_upload: Option<String>,
    /// What the template asks of the Packer that builds it, for the check
    /// before a build.
    pub needs: Vec<PackerNeed>,
    /// Values the environment gives declared variables (`PKR_VAR_<name>`,
    /// which Packer reads for HCL2 templates), by variable name.
    pub from_env: Vec<(String, String)>,
    /// Variables Packer would refuse to build without (HCL2: no default,
    /// and no value from this run, an auto var file or `PKR_VAR_<name>`).
    pub unset: Vec<String>,
    /// The types it uses that no `required_plugins` entry covers: from
    /// Packer 1.10 on, each that is not in the installed Packer's core
    /// needs a pin in `xtask.toml`.
    pub plugin_uses: Vec<PluginUse>,
    /// An HCL2 folder with `required_plugins`, which `packer init` installs.
    pub requires_plugins: bool,
}

/// A block or setting that needs some Packer versions.
pub struct PackerNeed {
    /// What asks, with its place: "`data \"amazon-ami\" \"x\"` (sources.pkr.hcl:12)".
    pub what: String,
    /// The versions it works with, as a constraint: `>= 1.7.0`.
    pub versions: String,
}

impl PackerNeed {
    /// Why the installed Packer cannot build it, if it cannot.
    pub fn unmet(&self, installed: &str) -> Option<String> {
        // Packer checks its release without the pre-release (`1.10.0-dev` as 1.10.0).
        let release = crate::version::Version::of_packer(installed)?.to_string();
        match crate::version::allows(&self.versions, &release) {
            Some(false) => Some(format!("{} needs Packer {}", self.what, self.versions)),
            _ => None,
        }
    }
}

impl Readout {
    /// Reads a template without linting it; of `setting`, only the Packer
    /// whose reading of the values is taken counts.
    pub fn read(file: &TemplateFile, values: &BTreeMap<String, Given>, setting: &Setting) -> Result<Readout, String> {
        match file.format {
            TemplateFormat::Json => Readout::json(file, values),
            TemplateFormat::Hcl2 => Readout::hcl2(file, values, setting.reading()),
        }
    }

    fn json(file: &TemplateFile, values: &BTreeMap<String, Given>) -> Result<Readout, String> {
        let Loaded::Text(source) = template::load(file) else {
            return Err("the template could not be read".to_owned());
        };
        let template = template::parse(&source).map_err(|_| "the template is not a JSON object".to_owned())?;
        let environment = crate::regions::from_environment();
        let (mut builders, mut unresolved, mut region_problems) = (Vec::new(), Vec::new(), Vec::new());
        for builder in template.builders() {
            let (Some(kind), Some(name)) = (builder.kind(), builder.builder_name()) else { continue };
            region_problems.extend(crate::regions::makes_no_image(name, kind));
        }
        let settings = region_settings(&template, values);
        let image_builders = settings.iter().map(|settings| settings.name().to_owned()).collect();
        for settings in settings {
            match settings {
                JsonRegions::Global(name) => builders.push(RegionBuilder::global(name)),
                JsonRegions::Unresolved(name, expressions) => {
                    unresolved.extend(expressions.into_iter().map(|expression| format!("{name}: {expression}")))
                }
                JsonRegions::Known { name, region, copies, skip_build_region, from_run } => {
                    match RegionBuilder::of(name, &region, &copies, skip_build_region, from_run, &environment) {
                        Ok(builder) => builders.push(builder),
                        Err(problem) => region_problems.push(problem),
                    }
                }
            }
        }
        let place = || "template.json".to_owned();
        let mut plugin_uses = Vec::new();
        let post_processors = template.post_processors().into_iter().filter_map(|entry| match entry {
            crate::template::PostProcessor::Block(block) => block.kind(),
            crate::template::PostProcessor::Name { name, .. } => Some(name),
        });
        let used = (template
            .builders()
            .iter()
            .filter_map(|block| block.kind())
            .map(|kind| (PluginKind::Builder, kind)))
        .chain(
            template.provisioners().iter().filter_map(|block| block.kind()).map(|kind| (PluginKind::Provisioner, kind)),
        )
        .chain(post_processors.map(|kind| (PluginKind::PostProcessor, kind)))
        .collect::<Vec<_>>();
        for (kind, type_name) in used {
            let plugin_use = PluginUse::new(kind, type_name, place());
            if !plugin_uses.contains(&plugin_use) {
                plugin_uses.push(plugin_use);
            }
        }
        Ok(Readout {
            builders,
            unresolved,
            region_problems,
            image_builders,
            inputs: template.inputs(),
            variables: template.variables().map(|declared| declared.keys().cloned().collect()).unwrap_or_default(),
            sensitive: secrets::of_json(&template),
            opaque_upload: template.opaque_uploads().first().map(|(_, path)| (*path).to_owned()),
            needs: Vec::new(),
            from_env: Vec::new(),
            unset: Vec::new(),
            plugin_uses,
            requires_plugins: false,
        })
    }

    fn hcl2(
        file: &TemplateFile,
        values: &BTreeMap<String, Given>,
        release: Option<Version>,
    ) -> Result<Readout, String> {
        let unread = crate::hcl2::json_syntax_files(file.dir());
        if !unread.is_empty() {
            return Err(format!(
                "Packer also reads {} here, written in HCL's JSON syntax, which xtask does not read: it cannot know \
                 what they build or set; write them as .pkr.hcl / .auto.pkrvars.hcl",
                unread.join(", ")
            ));
        }
        let mut template = Hcl2Template::read(file.dir()).map_err(|error| format!("{error:#}"))?;
        template.given = values.clone();
        template.release = release;
        let environment = crate::regions::from_environment();
        let (mut builders, mut unresolved, mut region_problems) = (Vec::new(), Vec::new(), Vec::new());
        let mut sources = template.region_sources();
        for target in template.build_targets() {
            if let Some(problem) = crate::regions::makes_no_image(&target.name, &template.plugin_type(target.kind)) {
                sources.retain(|source| source.address != target.name);
                region_problems.push(problem);
            }
        }
        let mut image_builders: Vec<String> = sources.iter().map(|source| source.address.clone()).collect();
        for source in sources {
            if !source.unresolved.is_empty() {
                unresolved
                    .extend(source.unresolved.iter().map(|expression| format!("{}: {expression}", source.address)));
                continue;
            }
            if !source.refused.is_empty() {
                region_problems.extend(source.refused);
                continue;
            }
            let (region, copies) = (&source.region, &source.copies);
            match RegionBuilder::of(
                source.address,
                region,
                copies,
                source.skip_build_region,
                source.from_run,
                &environment,
            ) {
                Ok(builder) => builders.push(builder),
                Err(problem) => region_problems.push(problem),
            }
        }
        for target in
            template.build_targets().into_iter().filter(|target| template.plugin_type(target.kind) == "googlecompute")
        {
            image_builders.push(target.name.clone());
            builders.push(RegionBuilder::global(target.name));
        }
        let place = |at: &crate::hcl2::At| {
            let file = &template.files[at.file];
            let (line, _) = crate::location::LineIndex::new(&file.text).line_column(at.bytes.start);
            format!("{}:{line}", file.name)
        };
        // The releases that have a feature, from the one table of them.
        let need = |feature: Feature, what: String| PackerNeed { what, versions: feature.constraint() };
        let mut needs: Vec<PackerNeed> = Vec::new();
        for block in template.packer_blocks() {
            if let Some(attr) = block.body.attr("required_version")
                && let crate::hcl2::Value::String(versions) = &attr.value
            {
                let what = format!("`required_version` ({})", place(&attr.key_at));
                needs.push(PackerNeed { what, versions: versions.clone() });
            }
            for required in block.body.blocks("required_plugins") {
                needs.push(need(
                    Feature::RequiredPlugins,
                    format!("`required_plugins` ({})", place(&required.ident_at)),
                ));
            }
        }
        for data in template.data_sources() {
            let what = format!("`data \"{}\" \"{}\"` ({})", data.kind, data.name, place(&data.block.ident_at));
            needs.push(need(Feature::DataSources, what));
        }
        // A function some releases lack, once, at its first call.
        let mut called: Vec<Feature> = Vec::new();
        for call in template.calls() {
            if let Some(feature) = Feature::function(&call.name)
                && !called.contains(&feature)
            {
                called.push(feature);
                needs.push(need(feature, format!("`{}()` ({})", call.name, place(&call.at))));
            }
        }
        let requires_plugins =
            template.packer_blocks().any(|block| block.body.blocks("required_plugins").next().is_some());
        let mut plugin_uses: Vec<PluginUse> = Vec::new();
        let mut uses = |kind: PluginKind, type_name: &str, at: &crate::hcl2::At| {
            if template.from_required_plugin(type_name)
                || plugin_uses.iter().any(|known| known.kind == kind && known.type_name == type_name)
            {
                return;
            }
            plugin_uses.push(PluginUse::new(kind, type_name, place(at)));
        };
        for target in template.build_targets() {
            if let Some(source) = target.source {
                uses(PluginKind::Builder, target.kind, &source.ident_at);
            }
        }
        for build in template.builds() {
            for block in build.provisioners() {
                if let Some((type_name, at)) = block.labels.first() {
                    uses(PluginKind::Provisioner, type_name, at);
                }
            }
            for block in build.post_processors() {
                if let Some((type_name, at)) = block.labels.first() {
                    uses(PluginKind::PostProcessor, type_name, at);
                }
            }
        }
        for data in template.data_sources() {
            uses(PluginKind::Datasource, data.kind, &data.block.ident_at);
        }
        let auto_values: Vec<&str> = template.auto_var_file_values().map(|attr| attr.key.as_str()).collect();
        let unset = template
            .variables()
            .iter()
            .filter(|variable| variable.default().is_none())
            .map(|variable| variable.name.to_owned())
            .filter(|name| !values.contains_key(name) && !auto_values.contains(&name.as_str()))
            .filter(|name| std::env::var_os(format!("PKR_VAR_{name}")).is_none())
            .collect();
        let from_env = template
            .variables()
            .iter()
            .filter_map(|variable| {
                let value = std::env::var(format!("PKR_VAR_{}", variable.name)).ok()?;
                Some((variable.name.to_owned(), value))
            })
            .collect();
        Ok(Readout {
            builders,
            unresolved,
            region_problems,
            image_builders,
            unset,
            from_env,
            inputs: template.inputs(),
            variables: template.variables().iter().map(|variable| variable.name.to_owned()).collect(),
            sensitive: secrets::of_hcl2(&template),
            opaque_upload: template.opaque_uploads().into_iter().next().map(|(_, path)| path),
            needs,
            plugin_uses,
            requires_plugins,
        })
    }

    /// The `--var` values this template declares: only those are passed to
    /// its build (Packer 1.6.6 ignores others in JSON and refuses them in
    /// HCL2) and count in its settings.
    pub fn declared_vars(&self, vars: &[(String, String)]) -> Vec<(String, String)> {
        vars.iter().filter(|(key, _)| self.variables.contains(key)).cloned().collect()
    }

    pub fn sensitive_names(&self) -> Vec<&str> {
        self.sensitive.iter().map(|variable| variable.name.as_str()).collect()
    }

    /// Every region the builders make images in, each once.
    pub fn regions(&self) -> Vec<String> {
        let mut regions: Vec<String> = Vec::new();
        for region in self.builders.iter().flat_map(|builder| &builder.regions) {
            if !regions.contains(region) {
                regions.push(region.clone());
            }
        }
        regions
    }
}

/// A template's builders that make images, with the regions they cover.
#[derive(Clone, Debug)]
pub struct RegionBuilder {
    pub name: String,
    pub regions: Vec<String>,
    /// A value given for this run or the environment (`--var`, a var
    /// file, `PKR_VAR_`, `AWS_REGION`, `env`) decides its regions, not the
    /// template's files alone: another run may build elsewhere.
    pub from_run: bool,
    /// Its build region is the environment's (`AWS_REGION`,
    /// `AWS_DEFAULT_REGION`): a build elsewhere may have had another.
    pub from_environment: bool,
    /// The region whose reported AMI Packer deregistered
    /// (`skip_save_build_region`): its ID is no image.
    pub discarded: Option<String>,
}

impl RegionBuilder {
    /// An amazon builder, given its settings with variables replaced, as
    /// Packer decides its regions ([`crate::regions::covered`]).
    fn of(
        name: String,
        region: &str,
        copies: &[String],
        skip_build_region: bool,
        from_run: bool,
        environment: &Option<(&'static str, String)>,
    ) -> Result<RegionBuilder, String> {
        let covered = crate::regions::covered(&name, region, copies, skip_build_region, environment.clone())?;
        Ok(RegionBuilder {
            name,
            regions: covered.regions,
            from_run: from_run || covered.from_environment.is_some(),
            from_environment: covered.from_environment.is_some(),
            discarded: covered.discarded,
        })
    }

    /// A GCE builder: its images are not regional.
    fn global(name: String) -> RegionBuilder {
        RegionBuilder {
            name,
            regions: vec![GLOBAL.to_owned()],
            from_run: false,
            from_environment: false,
            discarded: None,
        }
    }
}

/// What a JSON template's builder says of its regions.
enum JsonRegions {
    /// A GCE builder.
    Global(String),
    /// `region` ("" when unset), the entries of `ami_regions` and
    /// `skip_save_build_region`, with user variables replaced.
    Known { name: String, region: String, copies: Vec<String>, skip_build_region: bool, from_run: bool },
    /// Settings still templated once the values known are in.
    Unresolved(String, Vec<String>),
}

impl JsonRegions {
    fn name(&self) -> &str {
        match self {
            JsonRegions::Global(name) | JsonRegions::Unresolved(name, _) | JsonRegions::Known { name, .. } => name,
        }
    }
}

/// The region settings of every builder that makes images, with user
/// variables replaced by this run's values or their defaults. A string
/// `ami_regions` is split at its commas, as Packer's decoder does.
fn region_settings(template: &Template, values: &BTreeMap<String, Given>) -> Vec<JsonRegions> {
    template
        .builders()
        .iter()
        .filter_map(|builder: &Block| {
            let kind = builder.kind()?;
            let name = builder.builder_name()?.to_owned();
            if kind == "googlecompute" {
                return Some(JsonRegions::Global(name));
            }
            if !kind.starts_with("amazon-") || crate::regions::makes_no_image(&name, kind).is_some() {
                return None;
            }
            let mut from_run = false;
            let mut unresolved = Vec::new();
            let mut resolve = |text: &str| {
                let resolved = resolve_user_variables(template, values, builder, text, &mut from_run);
                if gotmpl::is_templated(&resolved) {
                    unresolved.push(resolved.clone());
                }
                resolved
            };
            // Packer's decoder reads a number or a bool where a string goes
            // as its text, and a null as nothing.
            let mut text_of = |value: &serde_json::Value| match value {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(text) => resolve(text),
                other => other.to_string(),
            };
            let region = builder.body.get("region").map(&mut text_of).unwrap_or_default();
            let copies: Vec<String> = match builder.body.get("ami_regions") {
                None | Some(serde_json::Value::Null) => Vec::new(),
                Some(serde_json::Value::Array(items)) => items.iter().map(&mut text_of).collect(),
                Some(other) => crate::regions::split_list(&text_of(other)),
            };
            // Packer's decoder takes a bool, or a string it parses as one.
            let skip_build_region = match builder.body.get("skip_save_build_region") {
                None | Some(serde_json::Value::Null) => false,
                Some(serde_json::Value::Bool(yes)) => *yes,
                Some(serde_json::Value::String(text)) => {
                    let text = resolve(text);
                    crate::regions::parse_bool(&text).unwrap_or_else(|| {
                        unresolved.push(text);
                        false
                    })
                }
                Some(other) => {
                    unresolved.push(other.to_string());
                    false
                }
            };
            Some(if unresolved.is_empty() {
                JsonRegions::Known { name, region, copies, skip_build_region, from_run }
            } else {
                JsonRegions::Unresolved(name, unresolved)
            })
        })
        .collect()
}

/// A builder setting as Packer 1.6.6 renders it before the build
/// (`packer/core.go`, `renderVarsRecursively`): `{{user `x`}}` is the
/// variable's value for this run, else its default, and either is
/// rendered in turn, with `{{env `X`}}` (allowed only there) the
/// environment variable's value; `{{build_name}}` and `{{build_type}}`
/// are the builder's. Anything else templated stays as written, so the
/// setting is one only the build knows ([`gotmpl::render`]). `from_run`
/// is set when a value given or the environment decides the text.
fn resolve_user_variables(
    template: &Template,
    values: &BTreeMap<String, Given>,
    builder: &Block,
    text: &str,
    from_run: &mut bool,
) -> String {
    let build_name = builder.builder_name().unwrap_or_default();
    let build_type = builder.kind().unwrap_or_default();
    gotmpl::render(text, |function, argument| match (function, argument) {
        ("build_name", None) => Some(build_name.to_owned()),
        ("build_type", None) => Some(build_type.to_owned()),
        ("user", Some(name)) => user_variable(template, values, name, from_run, VARIABLE_DEPTH),
        _ => None,
    })
}

/// How deep variables may refer to variables before xtask gives up on
/// one (Packer gives up after 100 rounds).
const VARIABLE_DEPTH: usize = 16;

/// A user variable's value as Packer renders it: given for this run, else
/// its default, with the variables and environment variables it refers to
/// in turn rendered. `None` for a variable the template does not declare
/// or that has no default and no value, which Packer refuses.
fn user_variable(
    template: &Template,
    values: &BTreeMap<String, Given>,
    name: &str,
    from_run: &mut bool,
    depth: usize,
) -> Option<String> {
    if depth == 0 || !template.declares(name) {
        return None;
    }
    let raw = match values.get(name) {
        // Packer reads a JSON var file into strings: a null is empty.
        Some(Given::File { value: crate::hcl2::Value::Null, .. }) => {
            *from_run = true;
            String::new()
        }
        Some(given) => {
            *from_run = true;
            given.text().to_owned()
        }
        None => template.variable_default(name)?.to_owned(),
    };
    Some(gotmpl::render(&raw, |function, argument| match (function, argument) {
        ("user", Some(name)) => user_variable(template, values, name, from_run, depth - 1),
        ("env", Some(variable)) => {
            *from_run = true;
            Some(std::env::var(variable).unwrap_or_default())
        }
        _ => None,
    }))
}
