use crate::diagnostic::Severity;
use crate::hcl2::{At, Attr, Value};
use crate::lint_templates::lint_hcl2::FolderFindings;
use crate::schema::{CORE, Source, knowledge};

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports a `required_version` of a `packer` block, or a `version` of
    /// a `required_plugins` entry, that is not a version constraint: a
    /// comma-separated list of an optional operator (`=`, `!=`, `>`, `>=`,
    /// `<`, `<=`, `~>`) and a version such as `1.2.3`.
    ///
    /// Also one that reads but that no release can meet (`>= 2, < 1`, an
    /// error), or that none of the releases xtask knows nor any newer one
    /// meets (`= 1.9.7`, a version never released: a warning).
    ///
    /// ## Why is this bad?
    /// Packer refuses the template, and `packer init` installs nothing.
    ///
    /// ## Example
    /// ```hcl
    /// packer {
    ///   required_version = ">= v1.7"          # fine
    ///   required_plugins {
    ///     amazon = { version = "=> 1.2.0", source = "github.com/hashicorp/amazon" }
    ///   }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Write the constraint as the operator, then the version: `>= 1.2.0`.
    code: "PKR509", name: "invalid-version-constraint", severity: Error, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let knowledge = knowledge();
    for block in ctx.template.packer_blocks() {
        if let Some(attr) = block.body.attr("required_version") {
            check_constraint(attr, "required_version", Some(&knowledge.sources[CORE]), out);
        }
        for required in block.body.blocks("required_plugins") {
            for plugin in &required.body.attrs {
                let Value::Object(settings) = &plugin.value else { continue };
                let Some(version) = settings.iter().find(|setting| setting.key == "version") else { continue };
                let source = settings
                    .iter()
                    .find(|setting| setting.key == "source")
                    .and_then(|source| match &source.value {
                        Value::String(address) => knowledge.plugin_of_address(address),
                        _ => None,
                    })
                    .map(|index| &knowledge.sources[index]);
                check_constraint(version, &format!("the version of plugin `{}`", plugin.key), source, out);
            }
        }
    }
}

/// `releases`: what xtask knows of the releases the constraint picks from.
fn check_constraint(attr: &Attr, what: &str, releases: Option<&Source>, out: &mut FolderFindings) {
    let Value::String(text) = &attr.value else { return };
    if let Err(problem) = crate::version::parse_constraints(text) {
        report(&attr.at, what, text, &problem, out);
        return;
    }
    if !crate::version::some_release_meets(text, None) {
        out.report(&RULE.meta, &attr.at, format!("{what} is `{text}`, which no release can meet"))
            .help("the constraints contradict each other: keep the ones that say which releases you want");
        return;
    }
    let Some(releases) = releases else { return };
    let newest = releases.versions[releases.versions.len() - 1];
    if releases.allowed(text) == 0 && !crate::version::some_release_meets(text, Some(newest)) {
        let known = releases.describe((1 << releases.versions.len()) - 1);
        out.report(
            &RULE.meta,
            &attr.at,
            format!("{what} is `{text}`, which none of {known} meets, nor any newer release"),
        )
        .severity(Severity::Warning)
        .help("name a release that exists, such as `~> MAJOR.MINOR`; an older one than xtask knows is not checked");
    }
}

fn report(at: &At, what: &str, text: &str, problem: &str, out: &mut FolderFindings) {
    out.report(&RULE.meta, at, format!("{what} is `{text}`, which is not a version constraint: {problem}"))
        .help("write an operator and a version, such as \">= 1.7.0\" or \"~> 1.2\", several separated by commas");
}

#[cfg(test)]
mod tests {
    use crate::version::parse_constraints;

    #[test]
    fn constraints() {
        for good in [">= 1.7.0", "~> 1.2", "1.0.0", ">= v1.0.1, < 2", "= 1.2.3-beta.1", "!=1.0"] {
            assert!(parse_constraints(good).is_ok(), "{good}");
        }
        for bad in ["=> 1.2.0", ">=", "latest", "1.2.3.", ">= 1.x", "", "1.2,"] {
            assert!(parse_constraints(bad).is_err(), "{bad}");
        }
    }
}
