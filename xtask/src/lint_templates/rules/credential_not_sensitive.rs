use std::collections::{BTreeMap, BTreeSet};

use crate::hcl2::Hcl2Template;
use crate::lint_templates::lint_hcl2::FolderFindings;

use super::Hcl2Context;
use super::credential_variable_not_sensitive::is_secret_setting;
use super::hardcoded_credentials::{names_used, plugin_settings};

declare_rule! {
    /// ## What it does
    /// Reports a `variable` block of an HCL2 template whose name says it
    /// holds a credential (`…password`, `…secret_key`, `…access_key`,
    /// `…token`, `…client_secret`) without `sensitive = true`, and one
    /// whatever its name that reaches a credential setting of a source,
    /// data source, provisioner or post-processor (`access_key`,
    /// `secret_key`, `token`, `password`, `client_secret`, `api_token`,
    /// any `…_password`, `…_secret`, `…_token`), directly or through
    /// locals: `secret_key = local.aws.secret`, the local built from
    /// `var.deploy_secret`.
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
    let feeds = settings_fed(ctx.template);
    for variable in ctx.template.variables() {
        if variable.sensitive() {
            continue;
        }
        let name = variable.name.to_ascii_lowercase();
        let message = if CREDENTIAL_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) {
            format!("variable `{}` holds a credential but is not `sensitive`", variable.name)
        } else if let Some(settings) = feeds.get(variable.name) {
            let settings: Vec<String> = settings.iter().map(|setting| format!("`{setting}`")).collect();
            format!("variable `{}` feeds {} but is not `sensitive`", variable.name, settings.join(", "))
        } else {
            continue;
        };
        out.report(&RULE.meta, variable.at, message).help(match variable.block {
            Some(_) => "add `sensitive = true`, so that Packer hides its value in logs",
            None => {
                "declare it in a `variable` block with `sensitive = true` (an entry of a `variables` block \
                     cannot be sensitive), so that Packer hides its value in logs"
            }
        });
    }
}

/// The credential settings each variable reaches, directly or through
/// locals (`secret_key = local.aws.secret_key`, the local built from
/// `var.aws_secret`), by variable name.
pub(super) fn settings_fed(template: &Hcl2Template) -> BTreeMap<String, BTreeSet<String>> {
    let locals = template.locals();
    let mut feeds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for attr in plugin_settings(template) {
        if !is_secret_setting(&attr.key) {
            continue;
        }
        let mut queue = names_used(template, &attr.at);
        let mut seen = Vec::new();
        while let Some(name) = queue.pop() {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name.clone());
            if let Some(variable) = name.strip_prefix("var.") {
                feeds.entry(variable.to_owned()).or_default().insert(attr.key.clone());
            } else if let Some(local) = name.strip_prefix("local.")
                && let Some(local) = locals.iter().find(|declared| declared.name == local)
            {
                queue.extend(names_used(template, &local.value.at));
            }
        }
    }
    feeds
}
