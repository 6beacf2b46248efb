declare_rule! {
    /// ## What it does
    /// Reports a `*.pkr.hcl` or `*.pkrvars.hcl` file that is not HCL: the
    /// place the parser stopped, with the line and column. A file that is
    /// not UTF-8 is reported here too.
    ///
    /// ## Why is this bad?
    /// Packer reads none of the folder's template until every file parses;
    /// the other rules cannot check the file either.
    ///
    /// ## Example
    /// ```hcl
    /// source "amazon-ebs" "ubuntu" {
    ///   region = "eu-central-1"
    ///   ami_name = "ubuntu-${timestamp()}"   # missing `}` at the end of the file
    /// ```
    ///
    /// ## Fix
    /// Correct the syntax at the place shown.
    code: "PKR501", name: "invalid-hcl", severity: Error, check: None, hcl2: None,
}
