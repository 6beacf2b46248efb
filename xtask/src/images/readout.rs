//! What `images` needs to know of a template, whichever way it is written:
//! the builders that make images and their regions, the files a build
//! reads, the variables it declares and which of them are secret. The
//! stages after the plan never look at JSON or HCL2 again.

use std::collections::{BTreeMap, BTreeSet};

use super::plan::GLOBAL;
use crate::diagnostic::Severity;
use crate::gotmpl;
use crate::hcl2::Hcl2Template;
use crate::lint_templates::{self, Loaded};
use crate::project::{TemplateFile, TemplateFormat};
use crate::schema::features::Feature;
use crate::secrets::{self, Sensitive};
use crate::template::{Block, Template};

/// A template, read for building.
pub struct Readout {
    /// The builders that make images, each with its regions; a builder is
    /// named the way `-only` selects it (`amazon-ebs` in JSON,
    /// `amazon-ebs.frankfurt` in HCL2).
    pub builders: Vec<RegionBuilder>,
    /// Regions only the build knows (`var.region` with no value given and
    /// no default), as `<builder>: <expression>`.
    pub unresolved: Vec<String>,
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
        match crate::version::allows(&self.versions, installed) {
            Some(false) => Some(format!("{} needs Packer {}", self.what, self.versions)),
            _ => None,
        }
    }
}

impl Readout {
    /// Reads a template whose lint found no error; lint errors stop it,
    /// listed with their places. `values` are the run's `--var-file` and
    /// `--var` values.
    pub fn checked(file: &TemplateFile, values: &BTreeMap<String, String>) -> Result<Readout, String> {
        let var_names: BTreeSet<String> = values.keys().cloned().collect();
        let errors: Vec<String> = lint_templates::lint_template(file, &var_names)
            .iter()
            .flat_map(|report| {
                report.diagnostics.iter().filter(|d| d.severity == Severity::Error).map(|d| {
                    format!("{}:{}:{}: {} [{}]", report.path, d.span.line, d.span.column, d.message, d.rule.name)
                })
            })
            .collect();
        if !errors.is_empty() {
            return Err(format!(
                "lint errors (run `cargo xtask lint-templates {}` for details):\n  {}",
                file.rel,
                errors.join("\n  ")
            ));
        }
        Readout::read(file, values)
    }

    /// Reads a template without linting it.
    pub fn read(file: &TemplateFile, values: &BTreeMap<String, String>) -> Result<Readout, String> {
        match file.format {
            TemplateFormat::Json => Readout::json(file, values),
            TemplateFormat::Hcl2 => Readout::hcl2(file, values),
        }
    }

    fn json(file: &TemplateFile, values: &BTreeMap<String, String>) -> Result<Readout, String> {
        let Loaded::Text(source) = lint_templates::load(file) else {
            return Err("the template could not be read".to_owned());
        };
        let template = lint_templates::parse(&source, &mut Default::default())
            .ok_or_else(|| "the template is not a JSON object".to_owned())?;
        // A region still templated after `--var` values and defaults (an
        // `{{env}}` default) is one only the build knows.
        let mut builders = region_builders(&template, values);
        let mut unresolved = Vec::new();
        for builder in &mut builders {
            let (templated, known): (Vec<String>, Vec<String>) =
                builder.regions.drain(..).partition(|region| crate::gotmpl::is_templated(region));
            unresolved.extend(templated.into_iter().map(|region| format!("{}: {region}", builder.name)));
            builder.regions = known;
        }
        Ok(Readout {
            builders,
            unresolved,
            inputs: template.inputs(),
            variables: template.variables().map(|declared| declared.keys().cloned().collect()).unwrap_or_default(),
            sensitive: secrets::of_json(&template),
            opaque_upload: template.opaque_uploads().first().map(|(_, path)| (*path).to_owned()),
            needs: Vec::new(),
            from_env: Vec::new(),
            unset: Vec::new(),
        })
    }

    fn hcl2(file: &TemplateFile, values: &BTreeMap<String, String>) -> Result<Readout, String> {
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
        let mut builders = Vec::new();
        let mut unresolved = Vec::new();
        for source in template.region_sources() {
            unresolved.extend(source.unresolved.iter().map(|expression| format!("{}: {expression}", source.address)));
            builders.push(RegionBuilder { name: source.address, regions: source.regions });
        }
        for target in template.build_targets().into_iter().filter(|target| target.kind == "googlecompute") {
            builders.push(RegionBuilder { name: target.name, regions: vec![GLOBAL.to_owned()] });
        }
        let place = |at: &crate::hcl2::At| {
            let file = &template.files[at.file];
            let (line, _) = crate::location::LineIndex::new(&file.text).line_column(at.bytes.start);
            format!("{}:{line}", file.name)
        };
        // The release that brought a feature, from the one table of them.
        let since = |feature: Feature, what: String| PackerNeed { what, versions: format!(">= {}", feature.since()) };
        let mut needs: Vec<PackerNeed> = Vec::new();
        for block in template.packer_blocks() {
            if let Some(attr) = block.body.attr("required_version")
                && let crate::hcl2::Value::String(versions) = &attr.value
            {
                let what = format!("`required_version` ({})", place(&attr.key_at));
                needs.push(PackerNeed { what, versions: versions.clone() });
            }
            for required in block.body.blocks("required_plugins") {
                needs.push(since(
                    Feature::RequiredPlugins,
                    format!("`required_plugins` ({})", place(&required.ident_at)),
                ));
            }
        }
        for data in template.data_sources() {
            let what = format!("`data \"{}\" \"{}\"` ({})", data.kind, data.name, place(&data.block.ident_at));
            needs.push(since(Feature::DataSources, what));
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
            unset,
            from_env,
            inputs: template.inputs(),
            variables: template.variables().iter().map(|variable| variable.name.to_owned()).collect(),
            sensitive: secrets::of_hcl2(&template),
            opaque_upload: template.opaque_uploads().into_iter().next().map(|(_, path)| path),
            needs,
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
pub struct RegionBuilder {
    pub name: String,
    pub regions: Vec<String>,
}

/// Regions each AMI builder covers (`region` plus `ami_regions`), with user
/// variables replaced by `--var` values or defaults; `global` for a GCE
/// builder.
fn region_builders(template: &Template, vars: &BTreeMap<String, String>) -> Vec<RegionBuilder> {
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
fn resolve_user_variables(template: &Template, vars: &BTreeMap<String, String>, text: &str) -> String {
    let mut out = text.to_owned();
    for (action, name) in gotmpl::calls_to(text, "user") {
        let value = vars.get(&name).map(String::as_str).or_else(|| template.variable_default(&name));
        if let Some(value) = value {
            out = out.replace(action, value);
        }
    }
    out
}
