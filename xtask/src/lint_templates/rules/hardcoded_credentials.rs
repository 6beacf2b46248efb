use crate::diagnostic::{Findings, Severity};
use crate::gotmpl;
use crate::location::Location;
use crate::template::{PathStep, route_of};

use super::Context;
use super::Hcl2Context;
use crate::hcl2::{At, Attr, Body, Hcl2Template, Value, eval};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports credentials written into the template: a literal value for
    /// `access_key`, `secret_key`, `token`, `password` or `client_secret`;
    /// a variable whose name ends in one of `access_key`, `secret_key`,
    /// `client_secret` or `token` with a literal, non-empty default; and,
    /// in any value, what is a secret whatever it is given to: an AWS
    /// access key ID (`AKIA…`, `ASIA…`), a PEM private key
    /// (`-----BEGIN … PRIVATE KEY-----`), a Google service account's key
    /// file (JSON with `"type": "service_account"` and `"private_key"`), a
    /// Microsoft Entra ID (Azure) client secret (`…8Q~…`, 40 characters),
    /// a GitHub, DigitalOcean or Vault token (`ghp_…`, `dop_v1_…`,
    /// `hvs.…`). The diagnostic never shows the value.
    ///
    /// In an HCL2 template: the same in `default`s of `variable` blocks and
    /// in `locals` named like credentials, in plugin settings, and in var files
    /// (`*.pkrvars.hcl`, `*.auto.pkrvars.hcl`), and what a local computes
    /// from written pieces (`join("", ["AKIA", …])`, a `base64decode`d PEM
    /// key), where a value is a
    /// credential by its variable's name or by the credential setting the
    /// variable reaches (through locals too); and a credential setting
    /// (those above, `api_token`, `client_jwt`, any `…_secret`, `…_token`,
    /// `…_api_key`, `…_secret_key`) whose value the HCL2 evaluator computes
    /// from the folder's own files, without the environment: a local, a
    /// variable's default or an auto var file's value reaching
    /// `secret_key` or `client_secret` is as committed as a literal (one
    /// finding per variable or local it comes through). A well-known
    /// throw-away password (`vagrant`, `packer`) reached that way is a
    /// warning: it is the build account's, on a machine that is destroyed.
    /// The build's login passwords are `hardcoded-communicator-password`'s.
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

const THROW_AWAY_HELP: &str =
    "a well-known throw-away password of a build account: lock or remove the account before the image is made";

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
        } else if let Some(what) = secret_in_text(text) {
            out.report(&RULE.meta, Location::value(route_of(path)), format!("this value contains {what}"))
                .help("read credentials from the environment in `variables` and revoke the committed key")
                .redact();
        }
    }
}

/// Is a credential setting's text a secret written out: not empty, and
/// not a reference to one held elsewhere (`$${TOKEN}`, which Packer
/// writes as `${TOKEN}` for the shell to expand, `$TOKEN`, a Go
/// template's `{{ env "TOKEN" }}`)?
fn is_written_secret(text: &str) -> bool {
    let refers = text.match_indices('$').any(|(at, _)| {
        let rest = text[at + 1..].strip_prefix('{').unwrap_or(&text[at + 1..]);
        let name: String =
            rest.chars().take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_').collect();
        name.len() >= 2 && !name.starts_with(|c: char| c.is_ascii_digit())
    });
    !text.trim().is_empty() && !refers && !gotmpl::is_templated(text)
}

/// What a text holds that is a secret whatever setting it is given to:
/// an AWS access key ID, a PEM private key, a Google service account's
/// key file.
fn secret_in_text(text: &str) -> Option<&'static str> {
    if contains_aws_key_id(text) {
        Some("an AWS access key ID")
    } else if text.contains("-----BEGIN") && text.contains("PRIVATE KEY-----") {
        Some("a private key")
    } else if text.contains("\"private_key\"") && text.contains("\"service_account\"") {
        Some("a Google service account key")
    } else if contains_azure_client_secret(text) {
        Some("an Azure client secret")
    } else if let Some(service) = prefixed_token(text) {
        Some(service)
    } else {
        None
    }
}

/// A character of a token: what the services below put in theirs.
fn token_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.' | b'~')
}

/// The form Microsoft Entra ID gives client secrets since 2022: three
/// characters, a digit, `Q~`, and 31 to 34 more (40 in all).
fn contains_azure_client_secret(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices("Q~").any(|(at, _)| {
        at >= 4
            && (at == 4 || !token_char(bytes[at - 5]))
            && bytes[at - 4..at - 1].iter().all(|b| token_char(*b))
            && bytes[at - 1].is_ascii_digit()
            && {
                let rest = bytes[at + 2..].iter().take_while(|b| token_char(**b)).count();
                (31..=34).contains(&rest)
            }
    })
}

/// Tokens whose prefix names their service, followed by at least as many
/// token characters as the service writes: GitHub's, DigitalOcean's and
/// Vault's.
fn prefixed_token(text: &str) -> Option<&'static str> {
    const PREFIXES: &[(&str, usize, &str)] = &[
        ("ghp_", 36, "a GitHub token"),
        ("gho_", 36, "a GitHub token"),
        ("ghs_", 36, "a GitHub token"),
        ("github_pat_", 70, "a GitHub token"),
        ("dop_v1_", 64, "a DigitalOcean token"),
        ("hvs.", 24, "a Vault token"),
    ];
    let bytes = text.as_bytes();
    PREFIXES.iter().find_map(|(prefix, length, service)| {
        text.match_indices(prefix)
            .any(|(at, _)| {
                (at == 0 || !token_char(bytes[at - 1]))
                    && bytes[at + prefix.len()..].iter().take_while(|b| token_char(**b)).count() >= *length
            })
            .then_some(*service)
    })
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
    let mut reported_variables = Vec::new();
    for variable in ctx.template.variables() {
        let named_secret = CREDENTIAL_VARIABLE_SUFFIXES.iter().any(|suffix| variable.name.ends_with(suffix));
        if let Some(default) = variable.default()
            && named_secret
            && matches!(&default.value, crate::hcl2::Value::String(text) if is_written_secret(text))
        {
            out.report(
                &RULE.meta,
                &default.at,
                format!("variable `{}` has a credential as its default", variable.name),
            )
            .help("give it no default (set it with PKR_VAR_… in the environment) and revoke the committed one")
            .redact();
            reported.push(&default.at);
            reported_variables.push(variable.name);
        }
    }
    // A local named like a credential variable holds one, used or not.
    for local in ctx.template.locals() {
        let named_secret = CREDENTIAL_VARIABLE_SUFFIXES.iter().any(|suffix| local.name.ends_with(suffix));
        if named_secret && matches!(&local.value.value, Value::String(text) if is_written_secret(text)) {
            out.report(
                &RULE.meta,
                &local.value.at,
                format!("local `{}` holds a credential written into the template", local.name),
            )
            .help("read it from a variable without default (set with PKR_VAR_…) and revoke the committed one")
            .redact();
            reported.push(&local.value.at);
        }
    }
    // A var file's keys are variable names: a value for `aws_secret_key` is the credential itself.
    for (_, attr) in ctx.template.var_file_values() {
        let named_secret = CREDENTIAL_VARIABLE_SUFFIXES.iter().any(|suffix| attr.key.ends_with(suffix));
        if named_secret && matches!(&attr.value, crate::hcl2::Value::String(text) if is_written_secret(text)) {
            out.report(&RULE.meta, &attr.at, format!("`{}` holds a credential written into a var file", attr.key))
                .help("set it with PKR_VAR_… in the environment instead, and revoke the committed one")
                .redact();
            reported.push(&attr.at);
        }
    }
    // A var file's value for a variable that reaches a credential setting,
    // whatever the variable's name: the credential, where it is written.
    let feeds = super::credential_not_sensitive::settings_fed(ctx.template);
    for (file, attr) in ctx.template.var_file_values() {
        let Value::String(text) = &attr.value else { continue };
        let settings: Vec<String> = feeds
            .get(&attr.key)
            .into_iter()
            .flatten()
            .filter(|setting| is_computed_credential_setting(setting))
            .map(|setting| format!("`{setting}`"))
            .collect();
        if reported.contains(&&attr.at) || settings.is_empty() || !is_written_secret(text) {
            continue;
        }
        let throw_away = super::hardcoded_communicator_password::is_throw_away(text);
        let message = format!(
            "`{}` feeds {}: a credential written into the var file {}{}",
            attr.key,
            settings.join(", "),
            file.name,
            if throw_away { ", a well-known throw-away password" } else { "" }
        );
        let finding = out.report(&RULE.meta, &attr.at, message);
        if throw_away {
            finding.severity(Severity::Warning).help(THROW_AWAY_HELP);
        } else {
            finding.help("set it with PKR_VAR_… in the environment instead, and revoke the committed one");
        }
        finding.redact();
        reported.push(&attr.at);
    }
    // The texts reported where they are written: the same text computed
    // into a setting is the same secret.
    let mut reported_texts: Vec<&str> = Vec::new();
    ctx.template.for_each_string(|key, at, text| {
        if reported.contains(&at) {
            reported_texts.push(text);
            return;
        }
        if CREDENTIAL_KEYS.contains(&key) && is_written_secret(text) || secret_in_text(text).is_some() {
            reported_texts.push(text);
        }
        if CREDENTIAL_KEYS.contains(&key) && is_written_secret(text) {
            out.report(&RULE.meta, at, format!("`{key}` holds a credential written into the template"))
                .help("read it from a variable without default (set with PKR_VAR_…) and revoke the committed one")
                .redact();
        } else if let Some(what) = secret_in_text(text) {
            out.report(&RULE.meta, at, format!("this value contains {what}"))
                .help("read credentials from the environment and revoke the committed key")
                .redact();
        }
    });
    let computed = report_computed_locals(ctx, &reported_texts, out);
    reported_texts.extend(computed.iter().map(String::as_str));
    report_computed(ctx, &reported_variables, &reported_texts, out);
}

/// A local that computes a secret from pieces written into the template
/// (`join("", ["AKIA", "…"])`, `base64decode("LS0tLS1CRUdJTi…")`): as
/// committed as the literal, and the pieces alone do not show it. The
/// texts reported, for the settings they reach.
fn report_computed_locals(ctx: &Hcl2Context, reported_texts: &[&str], out: &mut FolderFindings) -> Vec<String> {
    let options = eval::Options { packer_version: ctx.template.release, ..eval::Options::default() };
    let evaluator = eval::Evaluator::new(ctx.template, options);
    let mut computed = Vec::new();
    for local in ctx.template.locals() {
        if !matches!(local.value.value, Value::Expr(_)) {
            continue;
        }
        let Ok(value) = evaluator.value(&local.value.at, &local.value.value) else { continue };
        let Some(text) = value.as_str().filter(|_| !value.all_marks().from_run) else { continue };
        let Some(what) = secret_in_text(text) else { continue };
        // A local that only passes on a secret reported where it is written.
        if reported_texts
            .iter()
            .copied()
            .chain(computed.iter().map(String::as_str))
            .any(|reported| text.contains(reported))
        {
            continue;
        }
        out.report(
            &RULE.meta,
            &local.value.at,
            format!("local `{}` computes {what} from text written into the template", local.name),
        )
        .help("read credentials from the environment and revoke the committed key")
        .redact();
        computed.push(text.to_owned());
    }
    computed
}

/// A credential setting whose value is not written there but computed
/// from the folder's own files (a local, a variable's default, an auto
/// var file), as the evaluator reads it without the environment: the
/// same secret as a literal, one step removed.
fn report_computed(ctx: &Hcl2Context, reported_variables: &[&str], reported_texts: &[&str], out: &mut FolderFindings) {
    let options = eval::Options { packer_version: ctx.template.release, ..eval::Options::default() };
    let evaluator = eval::Evaluator::new(ctx.template, options);
    let mut reported_through: Vec<Vec<String>> = Vec::new();
    for attr in plugin_settings(ctx.template) {
        if !is_computed_credential_setting(&attr.key) || !matches!(attr.value, Value::Expr(_)) {
            continue;
        }
        let through = names_used(ctx.template, &attr.at);
        // `secret_key = var.aws_secret_key` whose default is reported already.
        if through.len() == 1 && reported_variables.iter().any(|name| through[0] == format!("var.{name}")) {
            continue;
        }
        let Ok(value) = evaluator.value(&attr.at, &attr.value) else { continue };
        let marks = value.all_marks();
        let Some(text) = value.as_str() else { continue };
        // One finding per way in: the same variable fed to three sources
        // is one secret to move.
        if !is_written_secret(text)
            || marks.from_run
            || reported_texts.contains(&text)
            || (!through.is_empty() && reported_through.contains(&through))
        {
            continue;
        }
        reported_through.push(through.clone());
        let throw_away = super::hardcoded_communicator_password::is_throw_away(text);
        let through: Vec<String> = through.iter().map(|name| format!("`{name}`")).collect();
        let mut message = match through.is_empty() {
            true => format!("`{}` holds a credential written into the template", attr.key),
            false => {
                format!("`{}` gets a credential written into the template, through {}", attr.key, through.join(", "))
            }
        };
        if throw_away {
            message.push_str(": a well-known throw-away password");
        }
        let finding = out.report(&RULE.meta, &attr.at, message);
        if throw_away {
            finding.severity(Severity::Warning).help(THROW_AWAY_HELP);
        } else {
            finding.help(
                "give the variable no default (set it with PKR_VAR_… in the environment) and revoke the committed one",
            );
        }
        finding.redact();
    }
}

/// Settings that take a credential, by name, for a value computed from
/// the folder: the literal ones and those `credential-variable-not-sensitive`
/// knows, but the build's login passwords (`hardcoded-communicator-password`).
pub(super) fn is_computed_credential_setting(key: &str) -> bool {
    (CREDENTIAL_KEYS.contains(&key) || super::credential_variable_not_sensitive::is_secret_setting(key))
        && !super::hardcoded_communicator_password::PASSWORD_KEYS.contains(&key)
}

/// Every setting of the folder's plugin blocks (sources, data sources,
/// and the builds' provisioners, post-processors and nested sources),
/// nested blocks included.
pub(super) fn plugin_settings(template: &Hcl2Template) -> Vec<&Attr> {
    fn walk<'a>(body: &'a Body, out: &mut Vec<&'a Attr>) {
        out.extend(&body.attrs);
        for block in &body.blocks {
            walk(&block.body, out);
        }
    }
    let mut out = Vec::new();
    for block in template.blocks().filter(|block| matches!(block.ident.as_str(), "source" | "data" | "build")) {
        walk(&block.body, &mut out);
    }
    out
}

/// The `var.x` and `local.y` a value uses, as written, each once.
pub(super) fn names_used(template: &Hcl2Template, at: &At) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for reference in template.references().filter(|reference| inside(&reference.at, at) && !reference.bound) {
        let (Some(name), "var" | "local") = (reference.attrs.first(), reference.root.as_str()) else { continue };
        let spelled = format!("{}.{name}", reference.root);
        if !names.contains(&spelled) {
            names.push(spelled);
        }
    }
    names
}

fn inside(at: &At, within: &At) -> bool {
    at.file == within.file && within.bytes.start <= at.bytes.start && at.bytes.end <= within.bytes.end
}

#[cfg(test)]
mod tests {
    use super::{contains_aws_key_id, is_written_secret, secret_in_text};

    #[test]
    fn secrets_held_elsewhere_are_not_written() {
        assert!(!is_written_secret("ROOKOUT_TOKEN=${ROOKOUT_TOKEN}"));
        assert!(!is_written_secret("$VAULT_TOKEN"));
        assert!(!is_written_secret("{{ env `AWS_SECRET_ACCESS_KEY` }}"));
        assert!(!is_written_secret("  "));
        assert!(is_written_secret("P@$$w0rd"));
        assert!(is_written_secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
    }

    #[test]
    fn secrets_whatever_setting_they_are_given_to() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow…\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(secret_in_text(pem), Some("a private key"));
        assert_eq!(secret_in_text("-----BEGIN PUBLIC KEY-----"), None);
        let account = r#"{"type": "service_account", "project_id": "p", "private_key": "-"}"#;
        assert_eq!(secret_in_text(account), Some("a Google service account key"));
        assert_eq!(secret_in_text("service_account_email"), None);
        assert_eq!(secret_in_text("ASIAIOSFODNN7EXAMPLE"), Some("an AWS access key ID"));
        assert_eq!(secret_in_text("abc8Q~Zy1xW2vU3tS4rQ5pO6nM7lK8jI9hG0fE1d"), Some("an Azure client secret"));
        assert_eq!(secret_in_text("ver 8Q~ short"), None);
        assert_eq!(secret_in_text(&format!("ghp_{}", "a1".repeat(18))), Some("a GitHub token"));
        assert_eq!(secret_in_text("ghp_short"), None);
        assert_eq!(secret_in_text(&format!("dop_v1_{}", "0f".repeat(32))), Some("a DigitalOcean token"));
        assert_eq!(secret_in_text("hvs.CAESIJlU0Zm9vYmFyYmF6cXV4"), Some("a Vault token"));
        assert_eq!(secret_in_text("hvs.short"), None);
    }

    #[test]
    fn aws_key_ids() {
        assert!(contains_aws_key_id("AKIAIOSFODNN7EXAMPLE"));
        assert!(contains_aws_key_id("key=AKIAIOSFODNN7EXAMPLE;"));
        assert!(!contains_aws_key_id("XAKIAIOSFODNN7EXAMPLE"));
        assert!(!contains_aws_key_id("AKIAIOSFODNN7EXAMPL"));
        assert!(!contains_aws_key_id("AKIAIOSFODNN7EXAMPLEX"));
    }
}
