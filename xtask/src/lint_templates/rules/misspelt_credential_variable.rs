use crate::diagnostic::Findings;
use crate::location::Location;
use crate::template::route_of;

use super::{Context, suggest};

declare_rule! {
    /// ## What it does
    /// Reports `{{env `NAME`}}` where `NAME` is a misspelling or an old
    /// alias of a well-known credential variable: `AWS_ACCESS_KEY` for
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_KEY` for `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SECURITY_TOKEN` for `AWS_SESSION_TOKEN`,
    /// `GOOGLE_APPLICATION_CREDENTIAL` for `GOOGLE_APPLICATION_CREDENTIALS`,
    /// `DIGITALOCEAN_TOKEN` for `DIGITALOCEAN_API_TOKEN`, and names one or
    /// two letters away from those and from Azure's `ARM_*` and
    /// OpenStack's `OS_*` credentials.
    ///
    /// ## Why is this bad?
    /// Whoever sets up their environment from the cloud's documentation
    /// sets the right name, so the variable reads an empty string. Packer's
    /// builders then fall back to their own search (the AWS SDK still
    /// reads the old aliases and the right names), so the build often
    /// works and the mistake goes unseen until the value is used elsewhere
    /// (a provisioner's environment, a post-processor) or the fallback
    /// finds other credentials than the ones meant. Hence a warning.
    ///
    /// ## Example
    /// ```json
    /// { "variables": { "aws_access_key": "{{env `AWS_ACCESS_KEY`}}" } }
    /// ```
    ///
    /// ## Fix
    /// Use the name in the help: `{{env `AWS_ACCESS_KEY_ID`}}`.
    code: "PKR208", name: "misspelt-credential-variable", severity: Warning, check: Some(check), hcl2: None,
}

/// Old or wrong names people write, and the name the tools read.
const ALIASES: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
    ("AWS_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_SECRET_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_SECRET_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"),
    ("AWS_SESSION_KEY", "AWS_SESSION_TOKEN"),
    ("GOOGLE_APPLICATION_CREDENTIAL", "GOOGLE_APPLICATION_CREDENTIALS"),
    ("GOOGLE_CREDENTIALS_FILE", "GOOGLE_APPLICATION_CREDENTIALS"),
    ("DIGITALOCEAN_TOKEN", "DIGITALOCEAN_API_TOKEN"),
    ("DIGITALOCEAN_ACCESS_TOKEN", "DIGITALOCEAN_API_TOKEN"),
    ("AZURE_CLIENT_SECRET_KEY", "AZURE_CLIENT_SECRET"),
    ("OS_PASS", "OS_PASSWORD"),
];

/// Well-known credential variables, for near misses.
const KNOWN: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "DIGITALOCEAN_API_TOKEN",
    "ARM_CLIENT_ID",
    "ARM_CLIENT_SECRET",
    "ARM_SUBSCRIPTION_ID",
    "ARM_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_TENANT_ID",
    "OS_PASSWORD",
    "OS_USERNAME",
    "OS_AUTH_URL",
    "VAULT_TOKEN",
];

fn check(ctx: &Context, out: &mut Findings) {
    for string in ctx.strings.iter() {
        for (at, name) in string.scan.calls_to("env") {
            let Some(right) = correction(name) else { continue };
            out.report(
                &RULE.meta,
                Location::within(route_of(string.path), at),
                format!("`{name}` is not the name the cloud's tools and documentation use, so it is usually unset"),
            )
            .help(format!("read `{right}` instead"));
        }
    }
}

fn correction(name: &str) -> Option<&'static str> {
    if KNOWN.contains(&name) {
        return None;
    }
    if let Some((_, right)) = ALIASES.iter().find(|(wrong, _)| *wrong == name) {
        return Some(right);
    }
    // Only credential-looking names, and only close misses.
    let credential = ["AWS_", "ARM_", "AZURE_", "GOOGLE_", "OS_", "DIGITALOCEAN_", "VAULT_"];
    if !credential.iter().any(|prefix| name.starts_with(prefix)) {
        return None;
    }
    suggest(name, KNOWN.iter().copied()).filter(|right| super::edit_distance(name, right) <= 2)
}

#[cfg(test)]
mod tests {
    use super::correction;

    #[test]
    fn corrections() {
        assert_eq!(correction("AWS_ACCESS_KEY"), Some("AWS_ACCESS_KEY_ID"));
        assert_eq!(correction("AWS_SECRET_KEY"), Some("AWS_SECRET_ACCESS_KEY"));
        assert_eq!(correction("AWS_SECRET_ACCES_KEY"), Some("AWS_SECRET_ACCESS_KEY"));
        assert_eq!(correction("AWS_ACCESS_KEY_ID"), None);
        assert_eq!(correction("AWS_REGION"), None);
        assert_eq!(correction("AWS_PROFILE"), None);
        assert_eq!(correction("OS_REGION_NAME"), None);
        assert_eq!(correction("HOME"), None);
    }
}
