declare_rule! {
    /// ## What it does
    /// Reports a template path that cannot be read as a file: a directory
    /// named `template.json`, a symbolic link loop, a file without read
    /// permission, or a file larger than 8 MiB.
    ///
    /// A FIFO, a socket or a device named `template.json` is reported without
    /// being opened (opening a FIFO would block the linter for good), and so
    /// is a symlink to nothing.
    ///
    /// ## Why is this bad?
    /// Packer cannot read it either, and a template that is silently skipped
    /// is an image that is silently never rebuilt.
    ///
    /// ## Example
    /// ```text
    /// packer/3.9/aws/machine-image/template.json -> template.json
    /// ```
    ///
    /// ## Fix
    /// Make the path a regular, readable JSON file, or remove it.
    code: "PKR001", name: "unreadable-file", severity: Error, check: None, hcl2: None,
}
