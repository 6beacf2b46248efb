use serde_json::Value;

use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::Block;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports an `amazon-ebs` or `googlecompute` builder that lacks a
    /// setting the build needs:
    ///
    /// - `amazon-ebs`: `region`; `instance_type` or `spot_instance_types`;
    ///   `ami_name`; `source_ami`, or `source_ami_filter` with `owners`;
    ///   `ssh_username` unless `communicator` is `"none"` or `"winrm"`
    ///   (which needs `winrm_username`).
    /// - `googlecompute`: `project_id`, `zone`, `source_image` or
    ///   `source_image_family`, and `image_name`.
    ///
    /// ## Why is this bad?
    /// `packer validate -syntax-only` does not look at builder settings, and
    /// a full `packer validate` needs cloud credentials: the gap shows only
    /// when a build is started. Two are tolerated by Packer but not here:
    /// without `region` an AMI is built wherever the builder's environment
    /// (`AWS_DEFAULT_REGION`) says, so no deployment can be matched to it;
    /// without `image_name` a GCE image is named `packer-<timestamp>`.
    ///
    /// ## Example
    /// ```json
    /// { "type": "amazon-ebs", "region": "eu-central-1", "ami_name": "base-{{timestamp}}",
    ///   "source_ami": "ami-dd3c0f36", "ssh_username": "centos" }
    /// ```
    ///
    /// ## Fix
    /// Add the setting named in the message (here `instance_type`).
    code: "PKR105", name: "missing-required-field", severity: Error, check: Some(check), hcl2: None,
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in ctx.template.builders() {
        let missing = match builder.kind() {
            Some("amazon-ebs") => missing_for_amazon_ebs(&builder),
            Some("googlecompute") => missing_for_googlecompute(&builder),
            _ => continue,
        };
        for what in missing {
            out.report(
                &RULE.meta,
                Location::value(builder.at("type")),
                format!("this {} builder has no {what}{}", builder.kind().unwrap_or_default(), consequence(&what)),
            )
            .help(format!("add {what} to the builder"));
        }
    }
}

/// What goes wrong without the settings whose absence Packer itself
/// tolerates.
fn consequence(what: &str) -> &'static str {
    match what {
        "`region`" => {
            ": the AMI lands in whatever region the builder's environment names, and no deployment can be matched to it"
        }
        "`image_name`" => ": Packer names the image packer-<timestamp>, which says nothing of what it holds",
        _ => "",
    }
}

fn has(builder: &Block, key: &str) -> bool {
    match builder.body.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    }
}

fn missing_for_amazon_ebs(builder: &Block) -> Vec<String> {
    let mut missing = Vec::new();
    for key in ["region", "ami_name"] {
        if !has(builder, key) {
            missing.push(format!("`{key}`"));
        }
    }
    if !has(builder, "instance_type") && !has(builder, "spot_instance_types") {
        missing.push("`instance_type` (or `spot_instance_types`)".to_owned());
    }
    if !has(builder, "source_ami") {
        match builder.body.get("source_ami_filter").and_then(Value::as_object) {
            None => missing.push("`source_ami` (or `source_ami_filter`)".to_owned()),
            Some(filter) => {
                let has_owners =
                    filter.get("owners").and_then(Value::as_array).is_some_and(|owners| !owners.is_empty());
                if !has_owners {
                    missing.push("`owners` in `source_ami_filter`".to_owned());
                }
            }
        }
    }
    match builder.str("communicator").unwrap_or("ssh") {
        "none" => {}
        "winrm" => {
            if !has(builder, "winrm_username") {
                missing.push("`winrm_username`".to_owned());
            }
        }
        _ => {
            if !has(builder, "ssh_username") {
                missing.push("`ssh_username` (or `\"communicator\": \"none\"`)".to_owned());
            }
        }
    }
    missing
}

fn missing_for_googlecompute(builder: &Block) -> Vec<String> {
    let mut missing = Vec::new();
    for key in ["project_id", "zone", "image_name"] {
        if !has(builder, key) {
            missing.push(format!("`{key}`"));
        }
    }
    if !has(builder, "source_image") && !has(builder, "source_image_family") {
        missing.push("`source_image` (or `source_image_family`)".to_owned());
    }
    missing
}
