//! Values that must never be shown: collected per template, and replaced
//! by `<sensitive>` in every line the tool prints or logs.

use std::collections::BTreeMap;

use crate::template::Template;

/// Values that must not appear in output or logs: AWS credentials from the
/// environment and the template's sensitive variables.
pub fn collect(template: &Template, values: &BTreeMap<String, String>) -> Vec<String> {
    let mut found: Vec<String> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .collect();
    for (_, name) in template.sensitive_variables() {
        if let Some(value) = values.get(name) {
            found.push(value.clone());
        } else if let Some(default) = template.variable_default(name) {
            found.push(default.to_owned());
            for (_, variable) in crate::gotmpl::calls_to(default, "env") {
                found.extend(std::env::var(variable).ok());
            }
        }
    }
    found.retain(|secret| secret.len() >= 4 && !crate::gotmpl::is_templated(secret));
    found.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
    found.dedup();
    found
}

pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), "<sensitive>"))
}
