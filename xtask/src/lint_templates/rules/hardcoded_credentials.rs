use crate::diagnostic::Findings;
use crate::gotmpl;
use crate::location::Location;
use crate::template::{PathStep, route_of};

use super::Context;
use super::Hcl2Context;
use crate::lint_templates::hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports credentials written into the template: a literal value for
    /// `access_key`, `secret_key`, `token`, `password` or `client_secret`;
    /// a variable whose name ends in one of `access_key`, `secret_key`,
    /// `client_secret` or `token` with a literal, non-empty default; and
    /// anything that looks like an AWS access key ID (`AKIA…`, `ASIA…`).
    /// The diagnostic never shows the value.
    ///
    /// In an HCL2 template: the same in `default`s of `variable` blocks named
    /// like credentials, in plugin settings, and in var files.
    ///
    /// ## Why is this bad?
    /// The template is committed: everyone with read access to the
    /// repository, its forks and its CI logs has the key.
    ///
    /// ## Example
    /// ```json
    /// { "type": "amazon-ebs", "access_key": "AKIA…", "secret_key": "…" }
    /// ```
    ///
    /// ## Fix
    /// Read credentials from the environment in `variables`
    /// (`"aws_secret_key": "{{env `AWS_SECRET_ACCESS_KEY`}}"`), list them
    /// in `sensitive-variables`, and revoke the key that was committed.
    code: "PKR205", name: "hardcoded-credentials", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

const CREDENTIAL_KEYS: &[&str] = &["access_key", "secret_key", "token", "password", "client_secret"];
const CREDENTIAL_VARIABLE_SUFFIXES: &[&str] = &["access_key", "secret_key", "client_secret", "token"];

fn check(ctx: &Context, out: &mut Findings) {
    for string in ctx.strings.iter() {
        let (path, text) = (string.path, string.text);
        let in_variables = path.len() == 2 && path[0] == PathStep::Key("variables");
        let literal = !text.trim().is_empty() && !gotmpl::is_templated(text);
        let key = match path.last() {
            Some(PathStep::Key(key)) => *key,
            _ => "",
        };
        let named_secret = if in_variables {
            CREDENTIAL_VARIABLE_SUFFIXES.iter().any(|suffix| key.ends_with(suffix))
        } else {
            CREDENTIAL_KEYS.contains(&key)
        };
        if literal && named_secret {
            out.report(
                &RULE.meta,
                Location::value(route_of(path)),
                format!("`{key}` holds a credential written into the template"),
            )
            .help("read it from the environment in `variables` and revoke the committed one")
            .redact();
        } else if contains_aws_key_id(text) {
            out.report(&RULE.meta, Location::value(route_of(path)), "this value contains an AWS access key ID")
                .help("read credentials from the environment in `variables` and revoke the committed key")
                .redact();
        }
    }
}

/// `AKIA` or `ASIA` followed by 16 upper-case letters or digits, on a word boundary.
fn contains_aws_key_id(text: &str) -> bool {
    let bytes = text.as_bytes();
    // The prefix first: it rules out nearly every place at its first byte.
    (0..bytes.len().saturating_sub(19)).any(|at| {
        (bytes[at..].starts_with(b"AKIA") || bytes[at..].starts_with(b"ASIA"))
            && (at == 0 || !bytes[at - 1].is_ascii_alphanumeric())
            && bytes.get(at + 20).is_none_or(|b| !b.is_ascii_alphanumeric())
            && bytes[at + 4..at + 20].iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let mut reported = Vec::new();
    for variable in ctx.template.variables() {
        let named_secret = CREDENTIAL_VARIABLE_SUFFIXES.iter().any(|suffix| variable.name.ends_with(suffix));
        if let Some(default) = variable.default()
            && named_secret
            && matches!(&default.value, crate::hcl2::Value::String(text) if !text.trim().is_empty())
        {
            out.report(
                &RULE.meta,
                &default.at,
                format!("variable `{}` has a credential as its default", variable.name),
            )
            .help("give it no default (set it with PKR_VAR_… in the environment) and revoke the committed one")
            .redact();
            reported.push(&default.at);
        }
    }
    // A var file's keys are variable names: a value for `aws_secret_key` is the credential itself.
    for (_, attr) in ctx.template.var_file_values() {
        let named_secret = CREDENTIAL_VARIABLE_SUFFIXES.iter().any(|suffix| attr.key.ends_with(suffix));
        if named_secret && matches!(&attr.value, crate::hcl2::Value::String(text) if !text.trim().is_empty()) {
            out.report(&RULE.meta, &attr.at, format!("`{}` holds a credential written into a var file", attr.key))
                .help("set it with PKR_VAR_… in the environment instead, and revoke the committed one")
                .redact();
            reported.push(&attr.at);
        }
    }
    ctx.template.for_each_string(|key, at, text| {
        if reported.contains(&at) {
            return;
        }
        if CREDENTIAL_KEYS.contains(&key) && !text.trim().is_empty() {
            out.report(&RULE.meta, at, format!("`{key}` holds a credential written into the template"))
                .help("read it from a variable without default (set with PKR_VAR_…) and revoke the committed one")
                .redact();
        } else if contains_aws_key_id(text) {
            out.report(&RULE.meta, at, "this value contains an AWS access key ID")
                .help("read credentials from the environment and revoke the committed key")
                .redact();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::contains_aws_key_id;

    #[test]
    fn aws_key_ids() {
        assert!(contains_aws_key_id("AKIAIOSFODNN7EXAMPLE"));
        assert!(contains_aws_key_id("key=AKIAIOSFODNN7EXAMPLE;"));
        assert!(!contains_aws_key_id("XAKIAIOSFODNN7EXAMPLE"));
        assert!(!contains_aws_key_id("AKIAIOSFODNN7EXAMPL"));
        assert!(!contains_aws_key_id("AKIAIOSFODNN7EXAMPLEX"));
    }
}
