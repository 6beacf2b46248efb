//! Where Packer's amazon builders make AMIs, decided as Packer decides it,
//! for JSON and HCL2 templates alike: the build region (the builder's
//! `region`, else the environment) and the copies (`ami_regions`).
//!
//! What this relies on, read in Packer v1.6.6 (`builder/amazon/common/`)
//! and unchanged in the amazon plugin v1.8.2 (`builder/common/`), and
//! checked against the real Packer 1.6.6 by `tests/regions_generated.rs`:
//!
//! - The build region is `region` when it is not empty. Otherwise the AWS
//!   SDK's session decides (`access_config.go`, `Session`: the region is
//!   set on the session's config only when not empty, and the session is
//!   made with `SharedConfigState: SharedConfigEnable`; the plugin makes it
//!   the same way, with aws-sdk-go v1.55). The SDK (v1.36 in Packer 1.6.6,
//!   `aws/session/env_config.go`, `session.go`) then
//!   takes the first non-empty of `AWS_REGION` and `AWS_DEFAULT_REGION`
//!   (the second without `AWS_SDK_LOAD_CONFIG`, as shared config is on),
//!   then the `region` of the profile (`profile`, `AWS_PROFILE`, else
//!   `default`) in the shared config files (`~/.aws/config`,
//!   `AWS_CONFIG_FILE`). Without any, the build fails with `MissingRegion`.
//!   xtask reads the two variables and never the shared files: a region
//!   that would come from them is refused before building, not guessed.
//! - `ami_regions` (`ami_config.go`, `prepareRegions`): each entry once; an
//!   entry equal to `region` as written is dropped. The copy step
//!   (`step_ami_region_copy.go`, `DeduplicateRegions`) drops the session's
//!   region too, so with `region` unset an entry equal to `AWS_REGION` is
//!   no copy either, and an empty entry equals the empty `region` and is
//!   dropped. With `region` set, an empty entry is a copy to nowhere that
//!   fails after the AMI exists: refused here.
//! - JSON templates decode settings with mapstructure's
//!   `StringToSliceHookFunc(",")` (`packer-plugin-sdk/template/config/decode.go`):
//!   a string `ami_regions`, once `{{user}}` is replaced, is split at every
//!   comma with nothing trimmed, and an empty string is no copy at all
//!   (the same hook in packer-plugin-sdk v0.6.10).
//!   HCL2 converts the value to `list(string)` first, and a string there
//!   is an error ("list of string required").
//! - With `skip_save_build_region`, the AMI made in the build region is an
//!   intermediate one: copied to `ami_regions` (never back to the build
//!   region, `DeduplicateRegions`), then deregistered. Packer still reports
//!   it in the build's artifact (the `amis` map keeps it, v1.6.6 and
//!   plugin v1.8.2 alike): that ID names no image, and is dropped here.
//! - Unless `skip_region_validation`, Packer checks `region` and
//!   `ami_regions` against the account's regions before building
//!   (`step_pre_validate.go`); with it, a misspelt copy fails after the AMI
//!   exists. A name that is not a region's shape is refused here either way.

/// Why an `amazon-*` builder of type `kind` makes nothing a deployment
/// boots, if it does not: `amazon-ebsvolume` makes EBS volumes, and
/// reports them (`eu-west-1:vol-…`) where the others report AMIs.
pub fn makes_no_image(builder: &str, kind: &str) -> Option<String> {
    (kind == "amazon-ebsvolume").then(|| {
        format!(
            "`{builder}` is an amazon-ebsvolume builder, which makes EBS volumes, not images: no deployment boots \
             from them; build it outside `images`, or move it to a template that is not under packer/"
        )
    })
}

/// The environment variables the AWS SDK reads a region from, in order.
pub const ENVIRONMENT: [&str; 2] = ["AWS_REGION", "AWS_DEFAULT_REGION"];

/// The region the AWS SDK takes from the environment when a builder has
/// none, with the variable it came from.
pub fn from_environment() -> Option<(&'static str, String)> {
    ENVIRONMENT
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()).map(|value| (*name, value)))
}

/// The regions a builder makes AMIs in: the build region first, then its
/// copies, each once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Covered {
    pub regions: Vec<String>,
    /// The environment variable the build region comes from, when the
    /// builder has no `region`.
    pub from_environment: Option<&'static str>,
    /// The build region, when `skip_save_build_region` deregisters its
    /// AMI: Packer reports an ID there that is no image.
    pub discarded: Option<String>,
}

/// The regions of builder `builder`, given its `region` ("" when unset) and
/// the entries of its `ami_regions`, both as Packer has them once variables
/// are replaced, whether it sets `skip_save_build_region`, and the
/// environment's region ([`from_environment`]). An error says why Packer
/// would build elsewhere than xtask can know, or not build at all.
pub fn covered(
    builder: &str,
    region: &str,
    copies: &[String],
    skip_build_region: bool,
    environment: Option<(&'static str, String)>,
) -> Result<Covered, String> {
    let (build, from_environment) = if region.is_empty() {
        match environment {
            Some((variable, value)) => (value, Some(variable)),
            None => {
                let shared = shared_config(std::env::var("AWS_CONFIG_FILE").ok(), std::env::var("AWS_PROFILE").ok());
                return Err(format!(
                    "`{builder}` has no `region`, and neither AWS_REGION nor AWS_DEFAULT_REGION is set: Packer would \
                     take the region from the AWS shared config ({shared}), which xtask does not read, or fail; set \
                     `region` in `{builder}` (or AWS_REGION for this run)"
                ));
            }
        }
    } else {
        (region.to_owned(), None)
    };
    let shown = |name: &str| match from_environment {
        Some(variable) => format!("{variable}={name:?}"),
        None => format!("`region` {name:?}"),
    };
    if !is_region_name(&build) {
        return Err(format!(
            "`{builder}` would build in {}, which is not a region name such as eu-west-1",
            shown(&build)
        ));
    }
    let mut regions = vec![build];
    for copy in copies {
        if copy == region || regions.contains(copy) {
            continue;
        }
        if !is_region_name(copy) {
            return Err(format!(
                "`{builder}` copies its AMI to {copy:?} (`ami_regions`), which is not a region name such as \
                 eu-west-1: Packer refuses it, or with `skip_region_validation` fails after building the AMI"
            ));
        }
        regions.push(copy.clone());
    }
    if !skip_build_region {
        return Ok(Covered { regions, from_environment, discarded: None });
    }
    let discarded = regions.remove(0);
    if regions.is_empty() {
        return Err(format!(
            "`{builder}` sets `skip_save_build_region` and copies its AMI nowhere else (`ami_regions`): it keeps no \
             image"
        ));
    }
    Ok(Covered { regions, from_environment, discarded: Some(discarded) })
}

/// Where the AWS SDK would look for a region that neither variable
/// gives, as a user would check it: `AWS_CONFIG_FILE` (else
/// `~/.aws/config`), and the profile `AWS_PROFILE` names, when set.
fn shared_config(config_file: Option<String>, profile: Option<String>) -> String {
    let file = config_file.filter(|file| !file.is_empty()).unwrap_or_else(|| "~/.aws/config".to_owned());
    match profile.filter(|profile| !profile.is_empty()) {
        Some(profile) => format!("{file}, profile `{profile}` from AWS_PROFILE unless the builder sets `profile`"),
        None => file,
    }
}

/// A boolean setting as Packer's decoder reads a string (Go's
/// `strconv.ParseBool`).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A string `ami_regions` of a JSON template, split as Packer splits it.
pub fn split_list(text: &str) -> Vec<String> {
    if text.is_empty() { Vec::new() } else { text.split(',').map(str::to_owned).collect() }
}

/// The shape of an AWS region's name: `eu-west-1`, `us-gov-west-1`,
/// `cn-north-1`: lower-case letters and digits in parts joined by dashes,
/// ending with a number.
pub fn is_region_name(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn the_build_region_comes_first_and_each_copy_once() {
        let covered =
            covered("amazon-ebs", "eu-west-1", &strings(&["us-east-1", "eu-west-1", "us-east-1"]), false, None)
                .unwrap();
        assert_eq!(covered.regions, ["eu-west-1", "us-east-1"]);
        assert_eq!(covered.from_environment, None);
    }

    #[test]
    fn names_that_are_not_regions_are_refused() {
        for name in ["eu-west-1", "us-gov-west-1", "cn-north-1", "us-isob-east-1", "il-central-1"] {
            assert!(is_region_name(name), "{name}");
        }
        for name in ["", "[", " us-west-2", "us-east-1,us-west-2", "eu-west", "EU-WEST-1", "eu--1", "1-west-1"] {
            assert!(!is_region_name(name), "{name}");
        }
        let error = covered("a", "eu-west-1", &strings(&["us-east-1,us-west-2"]), false, None).unwrap_err();
        assert!(error.contains("\"us-east-1,us-west-2\""), "{error}");
        assert!(covered("a", "eu-west-1", &strings(&[""]), false, None).is_err(), "an empty copy with a region set");
    }

    #[test]
    fn without_a_region_the_environment_decides_or_nothing_is_guessed() {
        let environment = Some(("AWS_DEFAULT_REGION", "eu-north-1".to_owned()));
        let covered_here = covered("a", "", &strings(&["eu-north-1", "", "us-east-1"]), false, environment).unwrap();
        assert_eq!(covered_here.regions, ["eu-north-1", "us-east-1"]);
        assert_eq!(covered_here.from_environment, Some("AWS_DEFAULT_REGION"));
        let error = covered("amazon-ebs.x", "", &[], false, None).unwrap_err();
        assert!(error.contains("`amazon-ebs.x` has no `region`") && error.contains("AWS_REGION"), "{error}");
    }

    #[test]
    fn the_refusal_names_the_shared_config_the_sdk_would_read() {
        assert_eq!(shared_config(None, None), "~/.aws/config");
        assert_eq!(shared_config(Some(String::new()), Some(String::new())), "~/.aws/config");
        let named = shared_config(Some("/etc/aws.conf".to_owned()), Some("prod".to_owned()));
        assert!(named.starts_with("/etc/aws.conf, profile `prod` from AWS_PROFILE"), "{named}");
    }

    #[test]
    fn skip_save_build_region_keeps_the_copies_alone() {
        let covered_here = covered("a", "eu-west-1", &strings(&["us-east-1", "eu-west-1"]), true, None).unwrap();
        assert_eq!(covered_here.regions, ["us-east-1"]);
        assert_eq!(covered_here.discarded.as_deref(), Some("eu-west-1"));
        assert!(covered("a", "eu-west-1", &strings(&["eu-west-1"]), true, None).is_err());
    }

    #[test]
    fn a_json_string_is_split_at_every_comma() {
        assert_eq!(split_list("us-east-1,us-west-2"), ["us-east-1", "us-west-2"]);
        assert_eq!(split_list("us-east-1, us-west-2"), ["us-east-1", " us-west-2"]);
        assert!(split_list("").is_empty());
        assert_eq!(split_list(","), ["", ""]);
    }
}
