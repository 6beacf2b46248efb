use serde_json::Value;

use crate::diagnostic::{Findings, with_article};
use crate::gotmpl;
use crate::hcl2;
use crate::lint_templates::lint_hcl2::FolderFindings;
use crate::location::Location;
use crate::schema::in_force::{InForce, Resolved};
use crate::schema::{PluginKind, Requirement, knowledge};

use super::{Context, Hcl2Context};

/// A builder's settings, as JSON holds them (an HCL2 source's are read into
/// the same shape).
type Body = serde_json::Map<String, Value>;

declare_rule! {
    /// ## What it does
    /// Reports a builder that lacks a setting Packer 1.6.6's `Prepare`
    /// refuses to go without, for the builders these templates use:
    ///
    /// - `amazon-ebs`, `amazon-ebssurrogate`, `amazon-ebsvolume`,
    ///   `amazon-instance`: one of `instance_type` or `spot_instance_types`;
    ///   one of `source_ami` or `source_ami_filter`, and a filter's
    ///   `owners`; `ami_name` (not for `amazon-ebsvolume`);
    ///   `ami_virtualization_type` for `amazon-ebssurrogate`; `account_id`,
    ///   `s3_bucket`, `x509_cert_path` and `x509_key_path` for
    ///   `amazon-instance`.
    /// - `googlecompute`: `project_id`, `zone`, one of `source_image` or
    ///   `source_image_family`.
    /// - `azure-arm`: `os_type`; one of `location` or
    ///   `build_resource_group_name`; a source (`image_publisher`,
    ///   `image_offer` and `image_sku`, unless `image_url`,
    ///   `custom_managed_image_name` or `shared_image_gallery` is given);
    ///   an output (one of `managed_image_name` or `capture_container_name`,
    ///   one of `managed_image_resource_group_name` or
    ///   `capture_name_prefix`, and for a VHD `storage_account` and
    ///   `resource_group_name`).
    /// - `openstack`: `image_name`, `flavor`, one of `source_image`,
    ///   `source_image_name`, `external_source_image_url` or
    ///   `source_image_filter`.
    /// - `amazon-chroot`: `ami_name`; one of `source_ami` or
    ///   `source_ami_filter`, and with `ami_block_device_mappings` also
    ///   `root_device_name` and `root_volume_size` (a `root_device_name`
    ///   also needs the mappings); with `"from_scratch": true` instead
    ///   `root_volume_size`, `pre_mount_commands`,
    ///   `ami_virtualization_type`, `root_device_name` and
    ///   `ami_block_device_mappings`.
    /// - `qemu`, `virtualbox-iso`, `vmware-iso`, `parallels-iso`,
    ///   `hyperv-iso`: one of `iso_url` or `iso_urls`, and `iso_checksum`;
    ///   `parallels_tools_flavor` for `parallels-iso` unless
    ///   `parallels_tools_mode` is `"disable"`.
    /// - `vmware-vmx`: `source_path`.
    /// - `vmware-iso` and `vmware-vmx` with a `remote_type`: `remote_host`
    ///   (and then no `source_path`). A `remote_type` that only the build
    ///   knows, from a variable, asks for neither.
    /// - `vsphere-iso`, `vsphere-clone`: `vcenter_server`, `username`,
    ///   `password`, `vm_name`, one of `host` or `cluster`; `storage` for
    ///   `vsphere-iso`, and `iso_checksum` when it downloads an `iso_url`;
    ///   `template` for `vsphere-clone`.
    /// - `oracle-oci`: `availability_domain`, `shape`, one of `subnet_ocid`
    ///   or `create_vnic_details.subnet_id`, one of `base_image_ocid` or
    ///   `base_image_filter`.
    /// - `docker`: `image`, and one of `commit`, `discard` or `export_path`.
    /// - `digitalocean`: `region`, `size`, `image`.
    /// - `null`: unless `communicator` is `"none"`, a host (`ssh_host` or
    ///   `winrm_host`), a user and a way in (`ssh_password`,
    ///   `ssh_private_key_file` or `ssh_agent_auth`; `winrm_password`).
    ///
    /// Every one of these but `azure-arm`, `docker` and `amazon-chroot`
    /// connects over SSH unless told otherwise, and then needs
    /// `ssh_username` (`winrm_username` with `"communicator": "winrm"`;
    /// nothing with `"none"`). `azure-arm` makes its own user;
    /// `amazon-chroot` works on a volume mounted where Packer runs.
    ///
    /// In an HCL2 template: each `source` block the same way, unless a
    /// build's own `source` block sets more of it, or its type is one xtask
    /// cannot check. A value Packer computes counts as set.
    ///
    /// `azure-arm` with a `shared_image_gallery_destination` needs no other
    /// output: the azure plugin publishes to the gallery alone.
    ///
    /// Provisioners and post-processors, in both formats, are judged by the
    /// releases in force (see `unknown-key`): a setting is reported when
    /// the `Prepare` of every release in force refuses to go without it.
    /// Those requirements are generated from the Go sources at each release
    /// tag (`cargo xtask codegen --packer-mirrors`, the `required` lines of
    /// `knowledge.txt`), from the plainest checks only: a top-level `if`
    /// that tests config fields for emptiness, joined by `&&`, and makes an
    /// error (then any of them will do), or ansible's `validateFileConfig(…,
    /// true)`; a field given a default earlier is not required, and one set
    /// from another (`scripts` from `script`) may be given as either. Today
    /// that is `shell`, `powershell` and `windows-shell` (one of `inline`,
    /// `script`, `scripts`), `file` (`destination`), `artifice` (`files`),
    /// `ansible` (`playbook_file`), `ansible-local` (`playbook_file` or
    /// `playbook_files`), `chef-client` (`server_url`), `puppet-masterless`
    /// (`manifest_file`), `converge` (`module`), `salt-masterless`
    /// (`local_state_tree`, until it left Packer in 1.7.5), `googlecompute-export`
    /// (`paths`), `digitalocean-import` (`image_regions`) and the rest the
    /// knowledge lists. Conditional requirements (`elevated_user` with
    /// `elevated_password`), checks made in the SDK (`shell-local`) and a
    /// block with an `override` are not read.
    ///
    /// ## Why is this bad?
    /// `packer validate -syntax-only` does not look at builder settings, and
    /// the full `packer validate` is rarely run where the credentials are:
    /// the gap shows when a build is started. Each requirement here is one
    /// that `packer validate` 1.6.6 refuses, naming it, without any cloud
    /// login (a test checks it on this rule's fixtures). Settings Packer
    /// can take from the environment or a config file (credentials,
    /// DigitalOcean's `api_token`, Oracle's `user_ocid` and `key_file`)
    /// are not required here.
    ///
    /// ## Example
    /// ```json
    /// { "type": "amazon-ebs", "region": "eu-central-1", "ami_name": "base-{{timestamp}}",
    ///   "source_ami": "ami-dd3c0f36", "ssh_username": "centos" }
    /// ```
    ///
    /// ## Fix
    /// Add the setting named in the message (here `instance_type`).
    code: "PKR105", name: "missing-required-field", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

/// Something a builder needs: one key, or any one of several. Every
/// builder of every template asks for several: none of them allocates.
struct Need {
    keys: Keys,
    /// The help, when "add the key" does not say enough.
    help: Option<&'static str>,
}

enum Keys {
    One(&'static str),
    AnyOf(&'static [&'static str]),
}

fn key(key: &'static str) -> Need {
    Need { keys: Keys::One(key), help: None }
}

fn one_of(keys: &'static [&'static str]) -> Need {
    Need { keys: Keys::AnyOf(keys), help: None }
}

impl Need {
    fn help(mut self, help: &'static str) -> Need {
        self.help = Some(help);
        self
    }

    fn keys(&self) -> &[&'static str] {
        match &self.keys {
            Keys::One(key) => std::slice::from_ref(key),
            Keys::AnyOf(keys) => keys,
        }
    }

    /// "`flavor`", "one of `iso_url` or `iso_urls`".
    fn describe(&self) -> String {
        let quoted: Vec<String> = self.keys().iter().map(|key| format!("`{key}`")).collect();
        match quoted.as_slice() {
            [one] => one.clone(),
            [init @ .., last] => format!("one of {} or {last}", init.join(", ")),
            [] => String::new(),
        }
    }
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in &ctx.blocks.builders {
        let Some(kind) = builder.kind() else { continue };
        for (message, help) in missing(kind, builder.body, "builder") {
            out.report(&RULE.meta, Location::value(builder.at("type")), message).help(help);
        }
    }
    let provisioners = ctx.blocks.provisioners.iter().chain(&ctx.blocks.error_cleanup_provisioner);
    let blocks = provisioners.map(|block| (PluginKind::Provisioner, block));
    let blocks = blocks.chain(ctx.blocks.post_processor_blocks().map(|block| (PluginKind::PostProcessor, block)));
    for (plugin, block) in blocks {
        // A builder's `override` may give what the block lacks.
        let Some(kind) = block.kind().filter(|_| !block.body.contains_key("override")) else { continue };
        // A JSON `shell` step without a script is `invalid-shell-source`'s.
        let reported_elsewhere = |key: &str| kind == "shell" && ["inline", "script", "scripts"].contains(&key);
        let given = |key: &str| block.body.get(key).is_some_and(|value| !value.is_null()) || reported_elsewhere(key);
        for (message, help) in missing_in_force(ctx.in_force, plugin, kind, given) {
            out.report(&RULE.meta, Location::value(block.at("type")), message).help(help);
        }
    }
}

/// What a provisioner or post-processor lacks of the settings its
/// `Prepare` requires at every release in force (the generated
/// `required` lines of the knowledge): (message, help) per requirement.
fn missing_in_force(
    in_force: &InForce,
    plugin: PluginKind,
    kind: &str,
    given: impl Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let Resolved::Known(scope) = in_force.resolve(plugin, kind) else { return Vec::new() };
    let knowledge = knowledge();
    // The requirements of each candidate that hold at all its releases in force.
    let held: Vec<Vec<&Requirement>> = scope
        .candidates
        .iter()
        .map(|candidate| {
            let registered = knowledge
                .components(plugin, kind)
                .filter(|(_, component)| component.source == candidate.source)
                .fold(0, |mask, (_, component)| mask | component.registered);
            let in_force = candidate.allowed & registered;
            knowledge
                .requirements
                .iter()
                .filter(|need| need.source == candidate.source && need.kind == plugin && need.name == kind)
                .filter(|need| in_force != 0 && in_force & !need.versions == 0)
                .collect()
        })
        .collect();
    let Some((first, others)) = held.split_first() else { return Vec::new() };
    first
        .iter()
        .filter(|need| others.iter().all(|other| other.iter().any(|theirs| theirs.any_of == need.any_of)))
        .filter(|need| !need.any_of.iter().any(|key| given(key)))
        .map(|need| {
            let quoted: Vec<String> = need.any_of.iter().map(|key| format!("`{key}`")).collect();
            let what = match quoted.as_slice() {
                [one] => one.clone(),
                [init @ .., last] => format!("one of {} or {last}", init.join(", ")),
                [] => String::new(),
            };
            let noun = plugin.noun();
            (
                format!(
                    "{} {noun} needs {what}, and this one has none, in {}",
                    with_article(&format!("`{kind}`")),
                    scope.judged()
                ),
                format!("add {what} to the {noun}: its Prepare refuses to go without"),
            )
        })
        .collect()
}

/// An HCL2 `source` block, its settings read as JSON would hold them: a
/// value Packer computes (`var.x`, `"${…}"`) counts as set, and as a value
/// only the build knows. A source that a build's own `source` block sets
/// more of is left out, as are types a plugin xtask cannot check provides.
fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let builds = ctx.template.builds();
    let completed: Vec<String> = builds
        .iter()
        .flat_map(|build| build.sources())
        .filter(|used| used.overrides.is_some())
        .map(|used| used.address.to_owned())
        .collect();
    for source in ctx.template.sources() {
        let (Some((_, at)), true) = (source.block.labels.first(), !completed.contains(&source.address())) else {
            continue;
        };
        if !matches!(ctx.in_force.resolve(PluginKind::Builder, source.kind), Resolved::Known(_)) {
            continue;
        }
        for (message, help) in missing(&ctx.template.plugin_type(source.kind), &as_json(&source.block.body), "source") {
            out.report(&RULE.meta, at, message).help(help);
        }
    }
    for build in &builds {
        let blocks = build.provisioners().map(|block| (PluginKind::Provisioner, block));
        let blocks = blocks.chain(build.post_processors().into_iter().map(|block| (PluginKind::PostProcessor, block)));
        for (plugin, block) in blocks {
            // `override` may give, per source, what the block lacks.
            let Some((kind, at)) = block.labels.first().filter(|_| block.body.attr("override").is_none()) else {
                continue;
            };
            let given = |key: &str| {
                block.body.attr(key).is_some_and(|attr| attr.value != hcl2::Value::Null)
                    || block.body.blocks(key).next().is_some()
            };
            for (message, help) in missing_in_force(ctx.in_force, plugin, kind, given) {
                out.report(&RULE.meta, at, message).help(help);
            }
        }
    }
}

/// What a builder of this kind lacks: (message, help) for each need.
fn missing(kind: &str, body: &Body, noun: &str) -> Vec<(String, String)> {
    needs(kind, body)
        .into_iter()
        .filter(|need| !need.keys().iter().any(|key| has(body, key)))
        .map(|need| {
            let what = need.describe();
            let help = need.help.map_or_else(|| format!("add {what} to the {noun}"), str::to_owned);
            (format!("{} {noun} needs {what}, and this one has none", with_article(&format!("`{kind}`"))), help)
        })
        .collect()
}

/// An HCL2 body as JSON would hold it: attributes by their literal value
/// (a computed one as a templated string, which counts as set and as known
/// only to the build), nested blocks as objects (a list of them when a
/// block repeats).
fn as_json(body: &hcl2::Body) -> Body {
    fn value(written: &hcl2::Value) -> Value {
        match written {
            hcl2::Value::Null => Value::Null,
            hcl2::Value::Bool(set) => Value::Bool(*set),
            hcl2::Value::Number(text) => serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())),
            hcl2::Value::String(text) => Value::String(text.clone()),
            hcl2::Value::List(items) => Value::Array(items.iter().map(|item| value(&item.value)).collect()),
            hcl2::Value::Object(attrs) => {
                Value::Object(attrs.iter().map(|attr| (attr.key.clone(), value(&attr.value))).collect())
            }
            hcl2::Value::Expr(_) => Value::String("{{ computed by Packer }}".to_owned()),
        }
    }
    let mut out = Body::new();
    for attr in &body.attrs {
        out.insert(attr.key.clone(), value(&attr.value));
    }
    for block in &body.blocks {
        let nested = Value::Object(as_json(&block.body));
        match out.get_mut(&block.ident) {
            Some(Value::Array(items)) => items.push(nested),
            Some(first) => *first = Value::Array(vec![first.take(), nested]),
            None => {
                out.insert(block.ident.clone(), nested);
            }
        }
    }
    out
}

/// What Packer 1.6.6's `Prepare` of the builder refuses to go without.
fn needs(kind: &str, builder: &Body) -> Vec<Need> {
    let mut needs = Vec::new();
    match kind {
        "amazon-ebs" | "amazon-ebssurrogate" | "amazon-ebsvolume" | "amazon-instance" => {
            needs.push(one_of(&["instance_type", "spot_instance_types"]));
            needs.push(one_of(&["source_ami", "source_ami_filter"]));
            if !has(builder, "source_ami") && has(builder, "source_ami_filter") {
                needs.push(key("source_ami_filter.owners").help(
                    "add the accounts whose AMIs the filter may pick to `owners`: Packer refuses a filter without them",
                ));
            }
            if kind != "amazon-ebsvolume" {
                needs.push(key("ami_name"));
            }
            if kind == "amazon-ebssurrogate" {
                needs.push(key("ami_virtualization_type"));
            }
            if kind == "amazon-instance" {
                needs.extend(["account_id", "s3_bucket", "x509_cert_path", "x509_key_path"].map(key));
            }
            needs.extend(communicator_needs(builder));
        }
        "googlecompute" => {
            needs.extend(["project_id", "zone"].map(key));
            needs.push(one_of(&["source_image", "source_image_family"]));
            needs.extend(communicator_needs(builder));
        }
        "azure-arm" => {
            needs.push(key("os_type"));
            needs.push(one_of(&["location", "build_resource_group_name"]));
            if !["image_url", "custom_managed_image_name", "shared_image_gallery"].iter().any(|k| has(builder, k)) {
                needs.extend(["image_publisher", "image_offer", "image_sku"].map(key));
            }
            // The azure plugin publishes to a Shared Image Gallery with no
            // managed image or VHD besides (Packer 1.6.6's azure-arm wanted one).
            if !has(builder, "shared_image_gallery_destination") {
                needs.push(one_of(&["managed_image_name", "capture_container_name"]));
                needs.push(one_of(&["managed_image_resource_group_name", "capture_name_prefix"]));
                if !has(builder, "managed_image_name") && !has(builder, "managed_image_resource_group_name") {
                    needs.extend(["storage_account", "resource_group_name"].map(key));
                }
            }
        }
        "openstack" => {
            needs.extend(["image_name", "flavor"].map(key));
            needs.push(one_of(&[
                "source_image",
                "source_image_name",
                "external_source_image_url",
                "source_image_filter",
            ]));
            needs.extend(communicator_needs(builder));
        }
        "amazon-chroot" => {
            needs.push(key("ami_name"));
            match setting(builder, "from_scratch") {
                None | Some(Value::Null | Value::Bool(false)) => needs.extend(chroot_source_needs(builder)),
                Some(Value::Bool(true)) => needs.extend(
                    [
                        "root_volume_size",
                        "pre_mount_commands",
                        "ami_virtualization_type",
                        "root_device_name",
                        "ami_block_device_mappings",
                    ]
                    .map(|name| {
                        key(name).help(
                            "with `\"from_scratch\": true` Packer makes the root volume itself and needs its \
                         `root_volume_size`, `root_device_name` and `ami_block_device_mappings`, the \
                         `pre_mount_commands` that partition it and the `ami_virtualization_type`",
                        )
                    }),
                ),
                // A value only the build knows.
                Some(_) => {}
            }
        }
        "qemu" | "virtualbox-iso" | "vmware-iso" | "parallels-iso" | "hyperv-iso" => {
            needs.push(one_of(&["iso_url", "iso_urls"]));
            needs.push(key("iso_checksum"));
            if kind == "vmware-iso" && vmware_host(builder) == VmwareHost::Remote {
                needs.push(remote_host_need());
            }
            if kind == "parallels-iso" && parallels_tools_wanted(builder) {
                needs.push(key("parallels_tools_flavor").help(
                    "add the guest's `parallels_tools_flavor` (`lin`, `win`, …), or set \
                     `\"parallels_tools_mode\": \"disable\"`",
                ));
            }
            needs.extend(communicator_needs(builder));
        }
        "vmware-vmx" => {
            match vmware_host(builder) {
                VmwareHost::Local => needs.push(key("source_path")),
                VmwareHost::Remote => needs.push(remote_host_need()),
                VmwareHost::Unknown => {}
            }
            needs.extend(communicator_needs(builder));
        }
        "vsphere-iso" | "vsphere-clone" => {
            needs.extend(["vcenter_server", "username", "password", "vm_name"].map(key));
            needs.push(one_of(&["host", "cluster"]));
            if kind == "vsphere-iso" {
                needs.push(
                    key("storage").help("describe the VM's disks in `storage`, such as `[{ \"disk_size\": 20480 }]`"),
                );
                if has(builder, "iso_url") || has(builder, "iso_urls") {
                    needs.push(key("iso_checksum"));
                }
            } else {
                needs.push(key("template"));
            }
            needs.extend(communicator_needs(builder));
        }
        "oracle-oci" => {
            needs.extend(["availability_domain", "shape"].map(key));
            needs.push(one_of(&["subnet_ocid", "create_vnic_details.subnet_id"]));
            needs.push(one_of(&["base_image_ocid", "base_image_filter"]));
            needs.extend(communicator_needs(builder));
        }
        "docker" => {
            needs.push(key("image"));
            needs.push(one_of(&["commit", "discard", "export_path"]).help(
                "say what becomes of the container: `\"commit\": true`, `\"discard\": true` or an `export_path`",
            ));
        }
        "digitalocean" => {
            needs.extend(["region", "size", "image"].map(key));
            needs.extend(communicator_needs(builder));
        }
        "null" => match setting(builder, "communicator").and_then(Value::as_str).unwrap_or("ssh") {
            "none" => {}
            "winrm" => needs.extend(["winrm_host", "winrm_username", "winrm_password"].map(key)),
            _ => {
                needs.extend(["ssh_host", "ssh_username"].map(key));
                needs.push(one_of(&["ssh_password", "ssh_private_key_file", "ssh_agent_auth"]));
            }
        },
        _ => {}
    }
    needs
}

/// What an `amazon-chroot` builder that starts from an AMI needs: the AMI,
/// and block device mappings, a root device name and a root volume size
/// together or not at all.
fn chroot_source_needs(builder: &Body) -> Vec<Need> {
    let mut needs = vec![one_of(&["source_ami", "source_ami_filter"])];
    let (mappings, root_device) = (has(builder, "ami_block_device_mappings"), has(builder, "root_device_name"));
    if mappings && !root_device {
        needs.push(key("root_device_name").help(
            "add `root_device_name`, the device of `ami_block_device_mappings` that is the root volume: \
             Packer refuses the mappings without it",
        ));
    }
    if root_device && !mappings {
        needs.push(key("ami_block_device_mappings").help(
            "add the AMI's `ami_block_device_mappings`, or remove `root_device_name`: Packer takes both or neither",
        ));
    }
    if mappings && root_device {
        needs.push(key("root_volume_size").help(
            "add `root_volume_size` in GiB: with `ami_block_device_mappings` Packer needs the root volume's size",
        ));
    }
    needs
}

/// Where a VMware builder builds, as its `remote_type` says.
#[derive(PartialEq)]
enum VmwareHost {
    /// Where Packer runs: no `remote_type`.
    Local,
    /// On an ESXi host, which Packer must be told of.
    Remote,
    /// A `remote_type` only the build knows.
    Unknown,
}

fn vmware_host(builder: &Body) -> VmwareHost {
    match setting(builder, "remote_type") {
        None | Some(Value::Null) => VmwareHost::Local,
        Some(Value::String(remote)) if remote.is_empty() => VmwareHost::Local,
        Some(Value::String(remote)) if gotmpl::is_templated(remote) => VmwareHost::Unknown,
        Some(_) => VmwareHost::Remote,
    }
}

fn remote_host_need() -> Need {
    key("remote_host").help("add `remote_host`, the ESXi host that a `remote_type` build runs on")
}

/// Does a `parallels-iso` builder install Parallels Tools (the default)?
/// A mode only the build knows counts as no.
fn parallels_tools_wanted(builder: &Body) -> bool {
    match setting(builder, "parallels_tools_mode") {
        None | Some(Value::Null) => true,
        Some(Value::String(mode)) => mode != "disable" && !gotmpl::is_templated(mode),
        Some(_) => false,
    }
}

/// The login a builder that connects to its machine needs.
fn communicator_needs(builder: &Body) -> Vec<Need> {
    match setting(builder, "communicator").and_then(Value::as_str).unwrap_or("ssh") {
        "winrm" => vec![key("winrm_username")],
        "ssh" => vec![key("ssh_username").help(
            "add `ssh_username`, the image's login user, or set `\"communicator\": \"none\"` when nothing is provisioned",
        )],
        _ => Vec::new(),
    }
}

/// A setting by its key, as Packer decodes it: the key as written, else
/// the same key in other letter case (`SSH_Username`).
fn setting<'a>(body: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    body.get(key).or_else(|| body.iter().find(|(name, _)| name.eq_ignore_ascii_case(key)).map(|(_, value)| value))
}

/// Is `key` set to something? `a.b` looks into the object `a`. Packer
/// reads a zero value (`""`, `[]`, `false`, `0`) as unset.
fn has(builder: &Body, key: &str) -> bool {
    let value = match key.split_once('.') {
        Some((outer, inner)) => setting(builder, outer).and_then(Value::as_object).and_then(|o| setting(o, inner)),
        None => setting(builder, key),
    };
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Bool(on)) => *on,
        Some(Value::Number(number)) => number.as_f64() != Some(0.0),
        Some(Value::Object(_)) => true,
    }
}
