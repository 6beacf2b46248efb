use crate::diagnostic::Findings;
use crate::location::{Location, Route};

use super::{Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports a top-level key that Packer does not know. Allowed are
    /// `description`, `min_packer_version`, `variables`,
    /// `sensitive-variables`, `builders`, `provisioners`, `post-processors`,
    /// `error-cleanup-provisioner`, and any key starting with `_` whose value
    /// is a string (the comment convention; `_xtask` holds suppressions).
    /// A `_` key with any other value is reported: Packer 1.6.6 fails on it
    /// ("Failed to cast root level comment value … to string").
    ///
    /// ## Why is this bad?
    /// A misspelt section (`provisioner`, `post_processors`) is dropped
    /// without a word from `packer validate -syntax-only`, so the image
    /// is built without the steps it names.
    ///
    /// ## Example
    /// ```json
    /// { "builders": [ … ], "provisioner": [ { "type": "shell", … } ] }
    /// ```
    ///
    /// ## Fix
    /// Correct the key's spelling, or prefix it with `_` if it is a comment.
    code: "PKR004", name: "unknown-top-level-key", severity: Error, check: Some(check), hcl2: None,
}

const ALLOWED: &[&str] = &[
    "description",
    "min_packer_version",
    "variables",
    "sensitive-variables",
    "builders",
    "provisioners",
    "post-processors",
    "error-cleanup-provisioner",
    // Atlas push settings: Packer's template parser still has the field
    // (1.6.6 to 1.16.0) and ignores it.
    "push",
];

fn check(ctx: &Context, out: &mut Findings) {
    for (key, value) in &ctx.template.root {
        if key.starts_with('_') && !value.is_string() {
            out.report(
                &RULE.meta,
                Location::value(Route::root().key(key)),
                format!("the comment `{key}` is not a string"),
            )
            .help("Packer 1.6.6 fails on a root `_` key whose value is not a string: make it one");
            continue;
        }
        if key.starts_with('_') || ALLOWED.contains(&key.as_str()) {
            continue;
        }
        let finding = out.report(
            &RULE.meta,
            Location::key(Route::root().key(key)),
            format!("`{key}` is not a Packer template section"),
        );
        match suggest(key, ALLOWED.iter().copied()) {
            Some(better) => finding.help(format!("did you mean `{better}`?")),
            None => finding.help("prefix the key with `_` if it is a comment"),
        };
    }
}
