use crate::diagnostic::{Findings, Severity};
use crate::gotmpl;
use crate::location::Location;

use super::Context;
use super::Hcl2Context;
use crate::hcl2;
use crate::hcl2::Given;
use crate::hcl2::eval::{self, Evaluator};
use crate::hcl2::value::CtyValue;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports an `ami_name`, `image_name` or `managed_image_name` that
    /// contains none of `{{timestamp}}`, `{{isotime}}` or `{{uuid}}`,
    /// directly or through the defaults of the user variables it uses, or
    /// whose only `{{isotime "…"}}` keeps no day (`"2006-01"`).
    ///
    /// In an HCL2 template, each name is computed as Packer would compute
    /// it before the build (through variables with their defaults and the
    /// committed auto var files, locals, functions and interpolations), and
    /// reported when it comes out the same on every run: known, not set by
    /// the run (`-var`, `PKR_VAR_`, a `-var-file`, `env()`), and without a
    /// `{{timestamp}}`-like action the plugin renders. A name that calls
    /// `timestamp()` (down to the day at least) or `uuidv4()`, or depends on a variable without a
    /// value or on a data source, is only known to the build and is not
    /// reported; nor is one that uses a variable whose default is `""`,
    /// which authors write for a value each run gives. A name that keeps
    /// only the year or month of `timestamp()` (`formatdate("YYYY",
    /// timestamp())`) is reported: builds a day apart get the same one.
    /// A build's `source` block that sets the name is judged too.
    /// The settings read: amazon's `ami_name` (ebs, ebssurrogate, instance,
    /// chroot), googlecompute's `image_name`, azure-arm's
    /// `managed_image_name` and `shared_image_gallery_destination`'s
    /// `image_version` (this one in JSON templates too), openstack's
    /// `image_name`, and vsphere-iso's and vsphere-clone's `vm_name` (the
    /// VM or template stays in vCenter, and the next build stops on it
    /// unless run with `-force`; not reported with `destroy`).
    ///
    /// Names that are left alone on purpose: docker's tags (`docker-tag`
    /// moves a tag to the new image; the old one stays under its id),
    /// qemu's, vmware's, virtualbox's and hyperv's `vm_name` (a file in the
    /// build's own `output_directory`, which Packer refuses to reuse by
    /// itself), proxmox's `template_name`, hcloud's and digitalocean's
    /// `snapshot_name` (those APIs keep any number of images of one name).
    ///
    /// ## Why is this bad?
    /// It depends on the cloud. AWS (`ami_name`, per region and account)
    /// and GCE (`image_name`, per project) refuse a name that is taken, and
    /// Packer's `azure-arm` stops when the resource group has a managed
    /// image of that name (unless run with `-force`, which deletes it):
    /// the first build succeeds and every later one fails, usually after
    /// minutes of provisioning. An error. OpenStack's Glance accepts any number of images with the
    /// same name: the build succeeds, and whatever picks the image by name
    /// (Nova, Heat, Terraform's `openstack_images_image_v2`) gets one of
    /// them, or refuses as ambiguous. There it is a warning.
    ///
    /// An Amazon builder with `force_deregister` set (`true`, or a value
    /// only the build knows) is not reported: it deregisters the AMI of that
    /// name before registering the new one, which is what a fixed name with
    /// that setting is for. Nor is one with `skip_create_ami`, or a
    /// googlecompute source with `skip_create_image`: they make no image.
    ///
    /// ## Example
    /// ```json
    /// { "ami_name": "os39-machine-image-01" }
    /// ```
    ///
    /// ## Fix
    /// Add a unique part: `"ami_name": "os39-machine-image-{{timestamp}}"`.
    code: "PKR106", name: "non-unique-image-name", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

/// Does a setting that makes a fixed name harmless hold (an Amazon
/// builder's `force_deregister`, ...)? `true`, or a value only the build
/// knows, says so.
fn deregisters(value: Option<&serde_json::Value>) -> bool {
    match value {
        Some(serde_json::Value::Bool(set)) => *set,
        Some(serde_json::Value::String(text)) => text == "true" || gotmpl::is_templated(text),
        _ => false,
    }
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in &ctx.blocks.builders {
        let kind = builder.kind().unwrap_or_default();
        let excuses: &[&str] = match kind {
            k if k.starts_with("amazon-") => &["force_deregister", "skip_create_ami"],
            "googlecompute" => &["skip_create_image"],
            _ => &[],
        };
        if excuses.iter().any(|key| deregisters(builder.body.get(*key))) {
            continue;
        }
        for key in ["ami_name", "image_name", "managed_image_name"] {
            let Some(name) = builder.str(key) else {
                continue;
            };
            // A name that comes from a variable with no default is set per
            // build: only the build knows whether it is unique.
            let unique = ctx.template.resolves_to_call(name, gotmpl::UNIQUE);
            if unique == Some(true) && only_coarse_isotime(name) {
                out.report(
                    &RULE.meta,
                    Location::value(builder.at(key)),
                    format!("`{key}` keeps less of the time of the build than the day (an `isotime` layout without day, hour, minute or second), so builds a day apart get the same name and the second fails"),
                )
                .help("keep the time down to the second: `{{timestamp}}`, or `{{isotime \"20060102150405\"}}`");
                continue;
            }
            if unique != Some(false) {
                continue;
            }
            let finding = if kind.starts_with("openstack") {
                out.report(
                    &RULE.meta,
                    Location::value(builder.at(key)),
                    format!(
                        "`{key}` is the same on every build; Glance keeps every build under that name, so picking the image by name becomes ambiguous"
                    ),
                )
                .severity(Severity::Warning)
            } else {
                let cloud = match kind {
                    k if k.starts_with("amazon-") => {
                        "AWS refuses an AMI name that the account already has in the region"
                    }
                    "googlecompute" => "GCE refuses an image name that the project already has",
                    k if k.starts_with("azure-") => {
                        "Packer stops when the resource group already has a managed image of that name"
                    }
                    _ => "the name is taken after the first build",
                };
                out.report(
                    &RULE.meta,
                    Location::value(builder.at(key)),
                    format!("`{key}` is the same on every build, so the second build fails: {cloud}"),
                )
            };
            finding.help("add `{{timestamp}}`, `{{isotime}}` or `{{uuid}}` to the name");
        }
        let gallery_version = builder
            .body
            .get("shared_image_gallery_destination")
            .and_then(|destination| destination.get("image_version"))
            .and_then(serde_json::Value::as_str);
        if let Some(version) = gallery_version.filter(|_| kind == "azure-arm")
            && ctx.template.resolves_to_call(version, gotmpl::UNIQUE) == Some(false)
        {
            out.report(
                &RULE.meta,
                Location::value(builder.at("shared_image_gallery_destination").key("image_version")),
                "`image_version` of `shared_image_gallery_destination` is the same on every build, so the second build fails: Packer stops when the gallery image already has that version (unless run with -force, which deletes it)",
            )
            .help("take the version from a variable that each run sets (`-var image_version=1.0.$BUILD_NUMBER`)");
        }
    }
}

/// Is every per-build part of `name` an `{{isotime "…"}}` whose Go layout
/// keeps no day or finer (`"2006"`, `"2006-01"`)? A name made unique by
/// anything else (`{{timestamp}}`, `{{uuid}}`, a user variable) is not.
fn only_coarse_isotime(name: &str) -> bool {
    let scan = gotmpl::Scan::new(name);
    let calls: Vec<&gotmpl::Call> = scan.actions.iter().flat_map(|action| &action.calls).collect();
    let stamps: Vec<&&gotmpl::Call> = calls.iter().filter(|call| call.function == "isotime").collect();
    !stamps.is_empty()
        && calls.iter().all(|call| call.function == "isotime")
        && stamps.iter().all(|call| call.argument.as_deref().is_some_and(|layout| !keeps_the_day(layout)))
}

/// Does a Go time layout write the day of the month or week, the hour,
/// the minute or the second? Its tokens are read as Go's `nextStdChunk`
/// reads them, longest first (`2006` is the year, `2` alone the day).
fn keeps_the_day(layout: &str) -> bool {
    const TOKENS: &[(&str, bool)] = &[
        ("January", false),
        ("Monday", true),
        ("2006", false),
        ("Jan", false),
        ("Mon", true),
        ("MST", false),
        ("002", true),
        ("01", false),
        ("02", true),
        ("03", true),
        ("04", true),
        ("05", true),
        ("06", false),
        ("15", true),
        ("_2", true),
        ("1", false),
        ("2", true),
        ("3", true),
        ("4", true),
        ("5", true),
    ];
    let mut rest = layout;
    while let Some(first) = rest.chars().next() {
        match TOKENS.iter().find(|(token, _)| rest.starts_with(token)) {
            Some((_, true)) => return true,
            Some((token, false)) => rest = &rest[token.len()..],
            None => rest = &rest[first.len_utf8()..],
        }
    }
    false
}

/// A name setting of an HCL2 source whose value must be new on every
/// build: where it is (`parent` for a nested block), and what the cloud
/// does with a name it already has.
struct NameSetting {
    parent: Option<&'static str>,
    key: &'static str,
    consequence: &'static str,
    /// Glance keeps duplicates: a warning rather than an error.
    duplicates_kept: bool,
}

/// The name settings of a source type, and the settings that make a fixed
/// name harmless there (`force_deregister`, `skip_create_ami`, ...).
fn name_settings(kind: &str) -> (Vec<NameSetting>, &'static [&'static str]) {
    let setting = |parent, key, consequence| NameSetting { parent, key, consequence, duplicates_kept: false };
    match kind {
        "amazon-ebs" | "amazon-ebssurrogate" | "amazon-instance" | "amazon-chroot" => (
            vec![setting(None, "ami_name", "AWS refuses an AMI name that the account already has in the region")],
            &["force_deregister", "skip_create_ami"],
        ),
        "googlecompute" => (
            vec![setting(None, "image_name", "GCE refuses an image name that the project already has")],
            &["skip_create_image"],
        ),
        "azure-arm" => (
            vec![
                setting(
                    None,
                    "managed_image_name",
                    "Packer stops when the resource group already has a managed image of that name (unless run with -force, which deletes it)",
                ),
                setting(
                    Some("shared_image_gallery_destination"),
                    "image_version",
                    "Packer stops when the gallery image already has that version (unless run with -force, which deletes it)",
                ),
            ],
            &[],
        ),
        "vsphere-iso" | "vsphere-clone" => (
            vec![setting(
                None,
                "vm_name",
                "Packer stops when the folder already has a VM of that name (unless run with -force, which destroys it)",
            )],
            &["destroy"],
        ),
        "openstack" => (
            vec![NameSetting {
                parent: None,
                key: "image_name",
                consequence: "Glance keeps every build under that name, so picking the image by name becomes ambiguous",
                duplicates_kept: true,
            }],
            &[],
        ),
        _ => (Vec::new(), &[]),
    }
}

/// How a name comes out the same on more than one build.
enum Sameness {
    /// The same text on every build.
    EveryBuild(String),
    /// Built from the time of the build, but cut so coarsely (a year, a
    /// month) that builds a day apart get the same text.
    ADayApart(String),
}

/// Two moments a day, an hour, a minute and a second apart: a name that
/// is the same at both is the same for every build of that day at least.
const CLOCKS: [&str; 2] = ["2026-03-04T05:06:07Z", "2026-03-05T06:07:08Z"];

/// Is a value the same on every run: known before the build, set by the
/// folder itself rather than by the run (`-var`, `PKR_VAR_`, `env()`), and
/// without a Go template action the plugin renders per build
/// (`{{timestamp}}`)? Or does it take the time of the build
/// (`timestamp()`) only to keep a part that changes less than daily?
fn sameness(evaluators: &Evaluators, attr: &hcl2::Attr) -> Option<Sameness> {
    let fixed = |evaluator: &Evaluator| -> Option<String> {
        let value = evaluator.value(&attr.at, &attr.value).ok()?;
        if value.all_marks().from_run {
            return None;
        }
        let text = value.as_str()?;
        (!gotmpl::calls_any(text, gotmpl::UNIQUE)).then(|| text.to_owned())
    };
    if let Some(text) = fixed(&evaluators.folder) {
        return Some(Sameness::EveryBuild(text));
    }
    let [first, second] = &evaluators.clocked;
    let at_first = fixed(first)?;
    (fixed(second)? == at_first).then_some(Sameness::ADayApart(at_first))
}

/// The folder's evaluator, and one for each of [`CLOCKS`].
struct Evaluators<'t> {
    folder: Evaluator<'t>,
    clocked: [Evaluator<'t>; 2],
}

/// Does a setting that makes a fixed name harmless hold: `true`, or a value
/// only the build knows?
fn excused(evaluator: &Evaluator, body: &hcl2::Body, settings: &[&str]) -> bool {
    settings.iter().filter_map(|key| body.attr(key)).any(|attr| match evaluator.value(&attr.at, &attr.value) {
        Ok(value) if value.is_unknown() => true,
        Ok(value) => value.equals(&CtyValue::bool(true)) == Some(true) || value.as_str() == Some("true"),
        Err(_) => false,
    })
}

/// The folder's evaluation, with one reading of authors' habit: a
/// variable whose default is `""` (and that no auto var file sets) stands
/// for a value each run gives, so it counts as given by the run.
fn evaluation_options(template: &hcl2::Hcl2Template) -> eval::Options {
    let mut options = template.evaluation_options();
    let set_by_files: Vec<&str> = template.auto_var_file_values().map(|attr| attr.key.as_str()).collect();
    for variable in template.variables() {
        let empty =
            matches!(variable.default(), Some(hcl2::Attr { value: hcl2::Value::String(text), .. }) if text.is_empty());
        if empty && !set_by_files.contains(&variable.name) {
            options.vars.entry(variable.name.to_owned()).or_insert_with(|| Given::Arg(String::new()));
        }
    }
    options
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let options = evaluation_options(ctx.template);
    let clocked = CLOCKS
        .map(|clock| Evaluator::new(ctx.template, eval::Options { clock: Some(clock.to_owned()), ..options.clone() }));
    let evaluators = Evaluators { folder: Evaluator::new(ctx.template, options), clocked };
    let evaluator = &evaluators.folder;
    // A build's `source "amazon-ebs.x" { ami_name = … }` block sets the
    // name for that build: it is judged like the source's own.
    let builds = ctx.template.builds();
    let overrides: Vec<(String, &hcl2::Body)> = builds
        .iter()
        .flat_map(|build| build.sources())
        .filter_map(|used| Some((used.address.to_owned(), used.overrides?)))
        .collect();
    for source in ctx.template.sources() {
        let (names, excuses) = name_settings(&ctx.template.plugin_type(source.kind));
        let address = source.address();
        let bodies = std::iter::once(&source.block.body)
            .chain(overrides.iter().filter(|(used, _)| *used == address).map(|(_, body)| *body));
        let bodies: Vec<&hcl2::Body> = bodies.collect();
        if bodies.iter().any(|body| excused(evaluator, body, excuses)) {
            continue;
        }
        for body in bodies {
            for name in &names {
                let holder = match name.parent {
                    Some(parent) => body.blocks(parent).next().map(|block| &block.body),
                    None => Some(body),
                };
                let Some(attr) = holder.and_then(|holder| holder.attr(name.key)) else { continue };
                let Some(sameness) = sameness(&evaluators, attr) else { continue };
                let shown = match name.parent {
                    Some(parent) => format!("`{}` of `{parent}`", name.key),
                    None => format!("`{}`", name.key),
                };
                let same = match &sameness {
                    Sameness::EveryBuild(value) => format!("{shown} is \"{value}\" on every build"),
                    Sameness::ADayApart(value) => format!(
                        "{shown} keeps less of the time of the build than the day (\"{value}\" built on {} and on {} alike)",
                        &CLOCKS[0][..10],
                        &CLOCKS[1][..10]
                    ),
                };
                let finding = if name.duplicates_kept {
                    out.report(&RULE.meta, &attr.at, format!("{same}; {}", name.consequence))
                        .severity(Severity::Warning)
                } else {
                    out.report(&RULE.meta, &attr.at, format!("{same}, so the second build fails: {}", name.consequence))
                };
                finding.help(if name.key == "image_version" {
                    // Azure takes only `major.minor.patch` of 32-bit whole
                    // numbers here: no room for a timestamp in one part.
                    "take the version from a variable that each run sets (`-var image_version=1.0.$BUILD_NUMBER`)"
                } else if let Sameness::ADayApart(_) = sameness {
                    "keep the time down to the second, e.g. formatdate(\"YYYYMMDDhhmmss\", timestamp()), or add `${uuidv4()}`"
                } else {
                    "add `${timestamp()}` or `${uuidv4()}` to the name, e.g. \"base-${formatdate(\"YYYYMMDDhhmm\", timestamp())}\""
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{keeps_the_day, only_coarse_isotime};

    #[test]
    fn isotime_layouts_without_the_day_are_coarse() {
        for layout in ["2006", "2006-01", "Jan 2006", "06.01", "January", "MST 2006-01 -0700"] {
            assert!(!keeps_the_day(layout), "{layout}");
        }
        for layout in ["20060102", "2006-01-02T15:04:05Z07:00", "Mon", "15", "3PM", "_2", "002", "04"] {
            assert!(keeps_the_day(layout), "{layout}");
        }
        assert!(only_coarse_isotime("base-{{isotime \"2006-01\"}}"));
        assert!(!only_coarse_isotime("base-{{isotime}}"));
        assert!(!only_coarse_isotime("base-{{isotime \"2006\"}}-{{timestamp}}"));
        assert!(!only_coarse_isotime("base-{{isotime \"2006\"}}-{{user `build`}}"));
    }
}
