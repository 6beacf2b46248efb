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
    let mut found: Vec<String> = candidates(template, values).into_iter().map(|(_, value)| value).collect();
    // Packer's standard error is logged line by line: each line of a
    // secret that spans several is a secret too.
    let lines: Vec<String> = found
        .iter()
        .filter(|secret| secret.contains('\n'))
        .flat_map(|secret| secret.lines().map(str::trim).map(str::to_owned).collect::<Vec<_>>())
        .collect();
    found.extend(lines);
    found.retain(|secret| secret.len() >= SHORTEST);
    found.sort_by(|a, b| (Reverse(a.len()), a).cmp(&(Reverse(b.len()), b)));
    found.dedup();
    found
}

/// The sensitive variables whose value is too short to be hidden (see
/// [`SHORTEST`]), for a warning before the build.
pub fn too_short(template: &Template, values: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> = candidates(template, values)
        .into_iter()
        .filter(|(_, value)| !value.is_empty() && value.len() < SHORTEST)
        .map(|(name, _)| name)
        .collect();
    names.dedup();
    names
}

/// Each value a sensitive variable (or the AWS SDK) could take, with the
/// name it goes by. A default that is a template expression is not a
/// value; what it reads is. Values given by the user are taken as they are,
/// braces and all.
fn candidates(template: &Template, values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let env = |name: &str| std::env::var(name).ok();
    let mut found: Vec<(String, String)> =
        AWS_CREDENTIALS.iter().filter_map(|name| Some(((*name).to_owned(), env(name)?))).collect();
    for (_, name) in template.sensitive_variables() {
        found.extend(values.get(name).map(|value| (name.to_owned(), value.clone())));
        if let Some(default) = template.variable_default(name) {
            if !gotmpl::is_templated(default) {
                found.push((name.to_owned(), default.to_owned()));
            }
            for (_, variable) in gotmpl::calls_to(default, "env") {
                found.extend(env(&variable).map(|value| (name.to_owned(), value)));
            }
        }
        for prefix in VARIABLE_PREFIXES {
            found.extend(env(&format!("{prefix}{name}")).map(|value| (name.to_owned(), value)));
        }
    }
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
    fn given_values_with_braces_lines_and_short_ones() {
        let template = template(r#"{"variables": {"key": "", "pin": ""}, "sensitive-variables": ["key", "pin"]}"#);
        let values = BTreeMap::from([
            ("key".to_owned(), "AbC{{xyz}}SECRET\nsecond-line-secret".to_owned()),
            ("pin".to_owned(), "123".to_owned()),
        ]);
        let secrets = collect(&template, &values);
        for secret in ["AbC{{xyz}}SECRET\nsecond-line-secret", "AbC{{xyz}}SECRET", "second-line-secret"] {
            assert!(secrets.contains(&secret.to_owned()), "{secret} in {secrets:?}");
        }
        assert_eq!(too_short(&template, &values), ["pin"]);
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
