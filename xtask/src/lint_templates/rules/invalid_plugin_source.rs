use crate::hcl2::Value;
use crate::lint_templates::lint_hcl2::FolderFindings;

use super::Hcl2Context;

declare_rule! {
    /// ## What it does
    /// Reports a `required_plugins` entry without a `source`, or whose
    /// `source` is not a plugin address `<host>/<namespace>/<name>`, such
    /// as `github.com/hashicorp/amazon`: a URL, a path with an empty part,
    /// or a name that keeps the repository's `packer-plugin-` prefix.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template, and `packer init` cannot install the
    /// plugin.
    ///
    /// ## Example
    /// ```hcl
    /// packer {
    ///   required_plugins {
    ///     amazon = { version = ">= 1.2.0", source = "https://github.com/hashicorp/packer-plugin-amazon" }
    ///   }
    /// }
    /// ```
    ///
    /// ## Fix
    /// Write the address without scheme and prefix: `github.com/hashicorp/amazon`.
    code: "PKR510", name: "invalid-plugin-source", severity: Error, check: None, hcl2: Some(check),
}

fn check(ctx: &Hcl2Context, out: &mut FolderFindings) {
    for block in ctx.template.packer_blocks() {
        for required in block.body.blocks("required_plugins") {
            for plugin in &required.body.attrs {
                let Value::Object(settings) = &plugin.value else { continue };
                let Some(source) = settings.iter().find(|setting| setting.key == "source") else {
                    out.report(&RULE.meta, &plugin.key_at, format!("plugin `{}` has no `source`", plugin.key))
                        .help(format!("add its address, such as source = \"github.com/hashicorp/{}\"", plugin.key));
                    continue;
                };
                let Value::String(address) = &source.value else { continue };
                if let Err(problem) = check_address(address) {
                    out.report(&RULE.meta, &source.at, format!("`{address}` is not a plugin address: {problem}"))
                        .help("write <host>/<namespace>/<name>, such as \"github.com/hashicorp/amazon\"");
                }
            }
        }
    }
}

fn check_address(address: &str) -> Result<(), String> {
    if address.contains("://") {
        return Err("it is a URL".to_owned());
    }
    let parts: Vec<&str> = address.split('/').collect();
    if parts.len() < 3 {
        return Err(format!("it has {} part{}, not 3", parts.len(), if parts.len() == 1 { "" } else { "s" }));
    }
    if parts.iter().any(|part| part.is_empty()) {
        return Err("a part is empty".to_owned());
    }
    if let Some(part) =
        parts.iter().find(|part| !part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("`{part}` has characters an address cannot have"));
    }
    let name = parts[parts.len() - 1];
    if let Some(short) = name.strip_prefix("packer-plugin-") {
        return Err(format!("the name is `{short}`, without `packer-plugin-`"));
    }
    Ok(())
}
