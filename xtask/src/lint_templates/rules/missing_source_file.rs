use crate::diagnostic::Findings;
use crate::location::Location;

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a `script`, `scripts` entry, file provisioner `source` or
    /// ansible `playbook_file` that does not exist relative to the
    /// template's folder (where `cargo xtask images` runs Packer).
    /// Templated paths are not checked.
    ///
    /// ## Why is this bad?
    /// Packer finds out only when it reaches that step, after the instance
    /// has been created and paid for.
    ///
    /// ## Example
    /// ```json
    /// { "type": "shell", "script": "scripts/instal-docker.sh" }
    /// ```
    ///
    /// ## Fix
    /// Correct the path, relative to the folder that holds template.json,
    /// or add the missing file.
    code: "PKR304", name: "missing-source-file", severity: Error, check: Some(check),
}

fn check(ctx: &Context, out: &mut Findings) {
    for (route, reference) in ctx.template.referenced_files() {
        if ctx.dir.join(reference).exists() {
            continue;
        }
        out.report(&RULE.meta, Location::value(route), format!("`{reference}` does not exist next to the template"))
            .help("paths are relative to the folder that holds template.json");
    }
}
