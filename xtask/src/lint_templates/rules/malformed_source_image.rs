use crate::diagnostic::Findings;
use crate::gotmpl;
use crate::image_id::{is_ami_id, is_gce_image_name};
use crate::location::{Location, Route};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a literal source image that cannot exist in the builder's
    /// cloud: an `amazon-*` builder's `source_ami` that is not `ami-`
    /// followed by 8 or 17 lower-case hex digits, and a `googlecompute`
    /// `source_image` that is not a valid GCE name (lower-case letters,
    /// digits and hyphens, starting with a letter, at most 63
    /// characters). A value from a variable is checked in the variable's
    /// default.
    ///
    /// ## Why is this bad?
    /// Packer sends it as it is; the cloud answers "invalid id" after
    /// Packer has already made its temporary key pair and security group.
    ///
    /// ## Example
    /// ```json
    /// { "type": "amazon-ebs", "source_ami": "ami-sa7608343426b" }
    /// ```
    ///
    /// ## Fix
    /// Copy the ID again from the console or `aws ec2 describe-images`,
    /// or use `source_ami_filter` to find it by name and owner.
    code: "PKR109", name: "malformed-source-image", severity: Error, check: Some(check), hcl2: None,
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in &ctx.blocks.builders {
        let Some(kind) = builder.kind() else { continue };
        let (key, valid, expected): (&str, fn(&str) -> bool, &str) = if kind.starts_with("amazon-") {
            ("source_ami", is_ami_id, "`ami-` and 8 or 17 lower-case hex digits")
        } else if kind == "googlecompute" {
            ("source_image", is_gce_name, "lower-case letters, digits and hyphens, starting with a letter")
        } else {
            continue;
        };
        let Some(value) = builder.str(key) else { continue };
        let (route, literal) = match gotmpl::sole_user_variable(value) {
            Some(variable) => match ctx.template.variable_default(&variable) {
                Some(default) => (Route::root().key("variables").key(&variable), default),
                None => continue,
            },
            None => (builder.at(key), value),
        };
        let literal = literal.trim();
        if literal.is_empty() || gotmpl::is_templated(literal) || valid(literal) {
            continue;
        }
        let finding = out.report(
            &RULE.meta,
            Location::value(route.clone()),
            format!("`{literal}` is not a valid `{key}`: the cloud expects {expected}"),
        );
        if route != builder.at(key) {
            finding.related(Location::value(builder.at(key)), format!("the builder's `{key}` takes it"));
        }
        finding.help("copy the ID again from the cloud's console or CLI");
    }
}

/// A source image of a GCE builder: an image name, or a full or partial
/// URL, which names the image through its project.
fn is_gce_name(name: &str) -> bool {
    name.contains('/') || is_gce_image_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(is_ami_id("ami-dd3c0f36"));
        assert!(is_ami_id("ami-0123456789abcdef0"));
        assert!(!is_ami_id("ami-sa7608343426b"));
        assert!(!is_ami_id("ami-DD3C0F36"));
        assert!(!is_ami_id("dd3c0f36"));
        assert!(is_gce_name("ubuntu-1404-trusty-v20160627"));
        assert!(is_gce_name("projects/centos-cloud/global/images/centos-7-v20200910"));
        assert!(!is_gce_name("Ubuntu_14.04"));
    }
}
