use crate::lint_templates::hcl2::FolderFindings;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports a `variable` block of an HCL2 template whose name says it
    /// holds a credential (`…password`, `…secret_key`, `…access_key`,
    /// `…token`, `…client_secret`) without `sensitive = true`.
    ///
    /// ## Why is this bad?
    /// Packer prints the values of variables in its logs and in
    /// `packer inspect`; only `sensitive` ones are shown as `<sensitive>`.
    /// A CI log then holds the credential.
    ///
    /// ## Example
    /// ```hcl
    /// variable "aws_secret_key" {
    ///   type = string
    /// }
    /// ```
    ///
    /// ## Fix
    /// Add `sensitive = true` to the block.
    code: "PKR505", name: "credential-not-sensitive", severity: Warning, check: None, hcl2: Some(check),
}

const CREDENTIAL_SUFFIXES: &[&str] = &["password", "secret_key", "access_key", "token", "client_secret"];

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for variable in ctx.template.variables() {
        let name = variable.name.to_ascii_lowercase();
        if CREDENTIAL_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) && !variable.sensitive() {
            out.report(
                &RULE.meta,
                variable.at,
                format!("variable `{}` holds a credential but is not `sensitive`", variable.name),
            )
            .help(match variable.block {
                Some(_) => "add `sensitive = true`, so that Packer hides its value in logs",
                None => {
                    "declare it in a `variable` block with `sensitive = true` (an entry of a `variables` block \
                         cannot be sensitive), so that Packer hides its value in logs"
                }
            });
        }
    }
}
