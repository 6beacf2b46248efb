//! Values that must never be shown. Everything a build prints, logs or
//! reports (progress lines, Packer's output, errors, the summary) goes
//! through [`redact`] with what [`collect`] found for its template.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::gotmpl;
use crate::template::Template;

/// The environment variables the AWS SDK inside Packer reads its
/// credentials from when a template sets none.
const AWS_CREDENTIALS: &[&str] = &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/// Environment variable prefixes that name a variable's value: Packer's own
/// (`PKR_VAR_aws_secret_key`), and Terraform's, which this repository uses
/// to pass credentials (`TF_VAR_aws_secret_key`).
const VARIABLE_PREFIXES: &[&str] = &["PKR_VAR_", "TF_VAR_"];

/// Shorter values are not redacted: replacing every `ab` in a log would
/// hide more than it protects, and no credential is that short.
const SHORTEST: usize = 4;

/// The values to hide for a template built with `values` (var files and
/// `--var`): AWS credentials from the environment, and every value a
/// sensitive variable could take from any route, the environment variables
/// its default reads included. Those are collected even when `--var`
/// overrides them, since they are still in Packer's environment. Longest
/// first, so that a secret that contains another is hidden whole.
pub fn collect(template: &Template, values: &BTreeMap<String, String>) -> Vec<String> {
    let env = |name: &str| std::env::var(name).ok();
    let mut found: Vec<String> = AWS_CREDENTIALS.iter().filter_map(|name| env(name)).collect();
    for (_, name) in template.sensitive_variables() {
        found.extend(values.get(name).cloned());
        if let Some(default) = template.variable_default(name) {
            found.push(default.to_owned());
            for (_, variable) in gotmpl::calls_to(default, "env") {
                found.extend(env(&variable));
            }
        }
        for prefix in VARIABLE_PREFIXES {
            found.extend(env(&format!("{prefix}{name}")));
        }
    }
    found.retain(|secret| secret.len() >= SHORTEST && !gotmpl::is_templated(secret));
    found.sort_by(|a, b| (Reverse(a.len()), a).cmp(&(Reverse(b.len()), b)));
    found.dedup();
    found
}

/// `text` with every secret replaced by `<sensitive>`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), "<sensitive>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(json: &str) -> Template {
        Template { root: serde_json::from_str(json).unwrap() }
    }

    #[test]
    fn sensitive_values_from_every_setting() {
        let template = template(
            r#"{"variables": {"password": "", "secret_key": "fallback-secret", "region": "eu-west-1"},
                "sensitive-variables": ["password", "secret_key"]}"#,
        );
        let values = BTreeMap::from([
            ("password".to_owned(), "hunter22".to_owned()),
            ("secret_key".to_owned(), "given-secret".to_owned()),
            ("region".to_owned(), "us-east-1".to_owned()),
        ]);
        let secrets = collect(&template, &values);
        for secret in ["hunter22", "given-secret", "fallback-secret"] {
            assert!(secrets.contains(&secret.to_owned()), "{secret} in {secrets:?}");
        }
        assert!(!secrets.contains(&"us-east-1".to_owned()), "not sensitive");
    }

    #[test]
    fn a_secret_that_contains_another_is_hidden_whole() {
        let secrets = vec!["hunter22-and-more".to_owned(), "hunter22".to_owned()];
        assert_eq!(
            redact("-var a=hunter22-and-more -var b=hunter22", &secrets),
            "-var a=<sensitive> -var b=<sensitive>"
        );
    }
}
