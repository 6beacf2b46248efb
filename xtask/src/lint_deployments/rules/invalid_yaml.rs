declare_rule! {
    /// ## What it does
    /// Reports a deployment that is not a YAML mapping: a syntax error (at
    /// the parser's line and column), bytes that are not UTF-8, a file that
    /// cannot be read, or a top level that is a list or a scalar.
    ///
    /// A file that cannot be read includes one that is not a regular file
    /// (a FIFO, a socket, a device: reported, never opened), a symlink to
    /// nothing, and a file over 1 MiB. A second document (`---`), a NUL
    /// byte and a merge key (`<<`) whose value is not mappings are errors
    /// too. Anchors, aliases, merge keys and a byte order mark are read as
    /// YAML loaders read them.
    ///
    /// ## Why is this bad?
    /// Nothing reads it: the cluster tooling fails, and `cargo xtask images`
    /// cannot write the new image into it.
    ///
    /// ## Example
    /// ```yaml
    /// cluster:
    ///   machine_image: { id: ami-0123abcd
    /// ```
    ///
    /// ## Fix
    /// Correct the YAML at the position shown (here: close the brace).
    code: "DEP001", name: "invalid-yaml", severity: Error, check: None,
}
