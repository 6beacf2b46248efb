//! The check before a build: `images` reads a template for building only
//! when the template linter finds no error in it.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::Severity;
use crate::hcl2::Given;
use crate::project::TemplateFile;
use crate::readout::Readout;
use crate::registry::Registry;
use crate::schema::in_force::Setting;

/// Reads a template whose lint found no error; lint errors stop it,
/// listed with their places. `values` are the run's `--var-file` and
/// `--var` values; `setting` the Packer and plugin versions it is
/// judged with, and the Packer whose reading of an HCL2 folder's values
/// is taken ([`Setting::reading`]); `rules` every rule, for the names in
/// the template's `allow(…)`.
pub fn readout(
    file: &TemplateFile,
    values: &BTreeMap<String, Given>,
    setting: &Setting,
    rules: &Registry,
) -> Result<Readout, String> {
    let var_names: BTreeSet<String> = values.keys().cloned().collect();
    let errors: Vec<String> =
        crate::lint_templates::lint_template(file, &var_names, setting, rules)
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
    Readout::read(file, values, setting)
}
