declare_rule! {
    /// ## What it does
    /// Reports a template that is not valid JSON: a syntax error (at the
    /// parser's line and column), an empty file, a UTF-8 byte order mark,
    /// bytes that are not UTF-8, or nesting too deep to be a template.
    ///
    /// ## Why is this bad?
    /// Packer refuses the file, and nothing else in it can be checked until
    /// it parses.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [ { "type": "amazon-ebs", } ] }
    /// ```
    ///
    /// ## Fix
    /// Correct the JSON at the position shown (here: remove the trailing
    /// comma). Save the file as UTF-8 without a byte order mark.
    code: "PKR002", name: "invalid-json", severity: Error, check: None, hcl2: None,
}
