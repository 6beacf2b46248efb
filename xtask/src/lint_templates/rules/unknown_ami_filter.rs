use crate::diagnostic::Findings;
use crate::hcl2::eval::Evaluator;
use crate::hcl2::{self, At};
use crate::location::Location;

use super::{Context, Hcl2Context, suggest};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a filter name in an Amazon builder's
    /// `source_ami_filter.filters`, or in an `amazon-ami` data source's
    /// `filters`, that EC2's `DescribeImages` does not have, with the
    /// closest one it has (`virtualisation-type`, `Name`, `owner_alias`).
    /// `tag:<key>` takes any key. In an HCL2 template the filters are
    /// computed as Packer computes them, so names that come from a variable
    /// or a local are read too.
    ///
    /// The names are those of the EC2 API reference for `DescribeImages`
    /// (aws-sdk-go-v2 `service/ec2/api_op_DescribeImages.go`, and the AWS
    /// CLI's `describe-images` reference of 2025, which adds
    /// `creation-date`, `image-allowed` and the `source-*` filters); the
    /// amazon plugin passes each name to that call unchanged
    /// (`buildEc2Filters` in `builder/common/build_filter.go`).
    ///
    /// ## Why is this bad?
    /// EC2 refuses the whole request ("The filter '…' is invalid"): the
    /// build stops before it starts an instance, or the data source fails
    /// and with it `packer validate`. Filter names are case-sensitive.
    ///
    /// ## Example
    /// ```hcl
    /// source_ami_filter {
    ///   filters = { "virtualisation-type" = "hvm", name = "ubuntu/images/*" }
    ///   owners  = ["099720109477"]
    /// }
    /// ```
    ///
    /// ## Fix
    /// Use the name EC2 has: `virtualization-type`.
    code: "PKR111", name: "unknown-ami-filter", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

/// The filter names of EC2's `DescribeImages`, besides `tag:<key>`.
const FILTERS: &[&str] = &[
    "architecture",
    "block-device-mapping.delete-on-termination",
    "block-device-mapping.device-name",
    "block-device-mapping.encrypted",
    "block-device-mapping.snapshot-id",
    "block-device-mapping.volume-size",
    "block-device-mapping.volume-type",
    "creation-date",
    "description",
    "ena-support",
    "hypervisor",
    "image-allowed",
    "image-id",
    "image-type",
    "is-public",
    "kernel-id",
    "manifest-location",
    "name",
    "owner-alias",
    "owner-id",
    "platform",
    "product-code",
    "product-code.type",
    "ramdisk-id",
    "root-device-name",
    "root-device-type",
    "source-image-id",
    "source-image-region",
    "source-instance-id",
    "sriov-net-support",
    "state",
    "state-reason-code",
    "state-reason-message",
    "tag-key",
    "virtualization-type",
];

/// Is `name` a filter EC2 knows?
fn known(name: &str) -> bool {
    name.starts_with("tag:") || FILTERS.contains(&name)
}

fn message(name: &str, owner: &str) -> String {
    format!("`{name}` is not a filter of EC2's DescribeImages, in {owner}")
}

fn help(name: &str) -> String {
    let closest =
        suggest(name, FILTERS.iter().copied()).or_else(|| suggest(&name.to_lowercase(), FILTERS.iter().copied()));
    match closest {
        Some(better) => format!("did you mean `{better}`?"),
        None if name.to_lowercase().starts_with("tag:") => {
            format!("write the tag filter as `tag:{}`", &name[4..])
        }
        None => "see the filters of DescribeImages in the EC2 API reference; a tag is `tag:<key>`".to_owned(),
    }
}

fn check(ctx: &Context, out: &mut Findings) {
    for builder in &ctx.blocks.builders {
        if !builder.kind().unwrap_or_default().starts_with("amazon-") {
            continue;
        }
        let filters = builder
            .body
            .get("source_ami_filter")
            .and_then(|filter| filter.get("filters"))
            .and_then(serde_json::Value::as_object);
        let Some(filters) = filters else { continue };
        let owner = format!("`source_ami_filter` of the {} builder", builder.kind().unwrap_or_default());
        for name in filters.keys().filter(|name| !known(name)) {
            out.report(
                &RULE.meta,
                Location::key(builder.at("source_ami_filter").key("filters").key(name)),
                message(name, &owner),
            )
            .help(help(name));
        }
    }
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let evaluator = Evaluator::new(ctx.template, ctx.template.evaluation_options());
    for source in ctx.template.sources().iter().filter(|source| source.kind.starts_with("amazon-")) {
        let owner = format!("`source_ami_filter` of the {} source", source.kind);
        for filter in source.block.body.blocks("source_ami_filter") {
            if let Some(filters) = filter.body.attr("filters") {
                check_filters(&evaluator, filters, &owner, out);
            }
        }
    }
    for data in ctx.template.data_sources().iter().filter(|data| data.kind == "amazon-ami") {
        if let Some(filters) = data.block.body.attr("filters") {
            check_filters(&evaluator, filters, "the amazon-ami data source", out);
        }
    }
}

/// The names of one `filters` map, as Packer computes it: a name written
/// in the map is reported where it is written, one that comes from a
/// variable or a local where the map is.
fn check_filters(evaluator: &Evaluator, filters: &hcl2::Attr, owner: &str, out: &mut FolderFindings) {
    let written: Vec<(&str, &At)> = match &filters.value {
        hcl2::Value::Object(attrs) => attrs.iter().map(|attr| (attr.key.as_str(), &attr.key_at)).collect(),
        _ => Vec::new(),
    };
    let Ok(value) = evaluator.value(&filters.at, &filters.value) else { return };
    let Some(names) = value.attributes() else { return };
    for name in names.keys().filter(|name| !known(name)) {
        let at = written.iter().find(|(key, _)| key == name).map_or(&filters.at, |(_, at)| *at);
        out.report(&RULE.meta, at, message(name, owner)).help(help(name));
    }
}

#[cfg(test)]
mod tests {
    use super::{FILTERS, help, known};

    /// Every one-letter slip of every filter name (a letter dropped, two
    /// swapped, `-` written `_`, a capital first letter) is unknown unless
    /// it is another filter, and the help names a filter one edit away.
    #[test]
    fn every_slip_of_a_filter_name_is_caught_and_corrected() {
        for name in FILTERS {
            let chars: Vec<char> = name.chars().collect();
            let mut slips: Vec<String> = (0..chars.len())
                .map(|at| chars.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, c)| c).collect())
                .collect();
            slips.extend((1..chars.len()).map(|at| {
                let mut swapped = chars.clone();
                swapped.swap(at - 1, at);
                swapped.into_iter().collect()
            }));
            slips.push(name.replace('-', "_"));
            slips.push(name[..1].to_uppercase() + &name[1..]);
            for slip in slips.iter().filter(|slip| slip.as_str() != *name && !FILTERS.contains(&slip.as_str())) {
                assert!(!known(slip), "`{slip}` passes as a filter");
                let help = help(slip);
                let suggested = help.strip_prefix("did you mean `").and_then(|rest| rest.strip_suffix("`?"));
                assert!(suggested.is_some_and(|s| FILTERS.contains(&s)), "`{slip}` gets `{help}`");
            }
        }
        assert!(known("tag:Name") && known("tag:aws:cloudformation:stack-name"));
    }
}
