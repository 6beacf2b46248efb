declare_rule! {
    /// ## What it does
    /// Reports a template that is not at
    /// `packer/<release>/<cloud>/<image>/template.json`, whose release
    /// folder is not a version such as `3.9` or `3.11`, or whose cloud
    /// folder is not one of `aws`, `gce`, `openstack`, `azure`.
    ///
    /// ## Why is this bad?
    /// The release and cloud folders are how `cargo xtask images` knows
    /// which deployments an image feeds. A template elsewhere is never
    /// built, and its deployments keep an old image.
    ///
    /// ## Example
    /// ```text
    /// packer/aws/machine-image/template.json
    /// packer/v3.9/aws/machine-image/template.json
    /// ```
    ///
    /// ## Fix
    /// Move the template to `packer/3.9/aws/machine-image/template.json`.
    code: "PKR005", name: "bad-layout", severity: Error, check: None, hcl2: None,
}
