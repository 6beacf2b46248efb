declare_rule! {
    /// ## What it does
    /// Reports a template whose top-level JSON value is not an object.
    ///
    /// ## Why is this bad?
    /// A Packer template is an object with `builders`, `provisioners` and
    /// the other sections; Packer rejects anything else.
    ///
    /// ## Example
    /// ```json
    /// [ { "type": "amazon-ebs" } ]
    /// ```
    ///
    /// ## Fix
    /// Wrap the content in an object: `{ "builders": [ … ] }`.
    code: "PKR003", name: "not-an-object", severity: Error, check: None, hcl2: None,
}
