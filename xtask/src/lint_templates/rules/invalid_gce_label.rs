use crate::diagnostic::Findings;
use crate::gotmpl;
use crate::hcl2::eval::Evaluator;
use crate::hcl2::{self, At};
use crate::location::Location;

use super::{Context, Hcl2Context};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a label of a `googlecompute` builder (`image_labels`, and
    /// `labels` of the build instance) whose key or value GCE refuses: a
    /// key must start with a lower-case letter and hold only lower-case
    /// letters, digits, `_` and `-`, at most 63 characters; a value the
    /// same, possibly empty or starting with any of them. In an HCL2
    /// template the labels are computed as Packer computes them, so the
    /// common `version = var.version` with a default of `"1.2.3"` is read
    /// too; a value given by the run (`-var`, `env()`) or only known to
    /// the build is not reported, nor is a JSON value with `{{ … }}`.
    ///
    /// The rule is the googlecompute plugin's own (`AreLabelsValid` in
    /// `builder/googlecompute/config.go`: checked in `Prepare` from 1.1.8,
    /// when the image is created in 1.1.7) and the GCE API's, which
    /// refuses such labels with every plugin release.
    ///
    /// ## Why is this bad?
    /// With plugin 1.1.8 and later `packer validate` refuses the template;
    /// with older ones GCE refuses the instance (`labels`) or, worse, the
    /// image (`image_labels`) after the whole build has run.
    ///
    /// ## Example
    /// ```hcl
    /// image_labels = { Team = "platform", version = "1.2.3" }
    /// ```
    ///
    /// ## Fix
    /// Lower-case the key and replace the other characters:
    /// `team = "platform"`, `version = replace(var.version, ".", "-")`.
    code: "PKR113", name: "invalid-gce-label", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

const SETTINGS: &[&str] = &["image_labels", "labels"];

/// Which half of a label GCE refuses.
#[derive(PartialEq)]
enum Fault {
    Key,
    Value,
}

/// What is wrong with a label, if anything.
fn problem(key: &str, value: &str) -> Option<(Fault, String)> {
    let allowed = |c: char| c.is_lowercase() || c.is_ascii_digit() || c == '_' || c == '-';
    let key_ok =
        key.chars().next().is_some_and(char::is_lowercase) && key.chars().all(allowed) && key.chars().count() <= 63;
    if !key_ok {
        return Some((
            Fault::Key,
            format!(
                "the label key `{key}` is not one GCE takes: a lower-case letter, then lower-case letters, digits, `_` or `-`, at most 63"
            ),
        ));
    }
    if !(value.chars().all(allowed) && value.chars().count() <= 63) {
        return Some((
            Fault::Value,
            format!(
                "the value \"{value}\" of label `{key}` is not one GCE takes: lower-case letters, digits, `_` or `-`, at most 63"
            ),
        ));
    }
    None
}

fn help(key: &str, value: &str) -> String {
    let clean = |text: &str| -> String {
        text.to_lowercase().chars().map(|c| if c.is_alphanumeric() || c == '_' || c == '-' { c } else { '-' }).collect()
    };
    format!("write it as `{} = \"{}\"`", clean(key), clean(value))
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in ctx.blocks.builders.iter().filter(|builder| builder.kind() == Some("googlecompute")) {
        for setting in SETTINGS {
            let Some(labels) = builder.body.get(*setting).and_then(serde_json::Value::as_object) else { continue };
            for (key, value) in labels {
                let Some(value) = value.as_str() else { continue };
                if gotmpl::is_templated(key) || gotmpl::is_templated(value) {
                    continue;
                }
                if let Some((_, message)) = problem(key, value) {
                    out.report(&RULE.meta, Location::key(builder.at(setting).key(key)), message).help(help(key, value));
                }
            }
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let evaluator = Evaluator::new(ctx.template, ctx.template.evaluation_options());
    for source in ctx.template.sources().iter().filter(|source| source.kind == "googlecompute") {
        for setting in SETTINGS {
            let Some(attr) = source.block.body.attr(setting) else { continue };
            let written: Vec<(&str, &At, &At)> = match &attr.value {
                hcl2::Value::Object(attrs) => {
                    attrs.iter().map(|label| (label.key.as_str(), &label.key_at, &label.at)).collect()
                }
                _ => Vec::new(),
            };
            let Ok(value) = evaluator.value(&attr.at, &attr.value) else { continue };
            let Some(labels) = value.attributes() else { continue };
            for (key, value) in labels {
                let (Some(text), false) = (value.as_str(), value.all_marks().from_run) else { continue };
                let Some((fault, message)) = problem(key, text) else { continue };
                let place = written.iter().find(|(written, _, _)| written == key);
                // A bad key is shown at the key, a bad value at the value.
                let at = match place {
                    Some((_, key_at, _)) if fault == Fault::Key => *key_at,
                    Some((_, _, value_at)) => *value_at,
                    None => &attr.at,
                };
                out.report(&RULE.meta, at, message).help(help(key, text));
            }
        }
    }
}
