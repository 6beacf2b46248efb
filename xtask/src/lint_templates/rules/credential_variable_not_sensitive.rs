use std::collections::BTreeMap;

use crate::diagnostic::Findings;
use crate::location::{Location, Route};
use crate::template::{PathStep, route_of};

use super::Context;

declare_rule! {
    /// ## What it does
    /// Reports a declared variable that a credential setting of a builder,
    /// provisioner or post-processor uses (`access_key`, `secret_key`,
    /// `token`, `password`, `client_secret`, `api_token`, and any setting
    /// ending in `_password`, `_secret`, `_token` or `_key` that holds a
    /// secret) but that `sensitive-variables` does not list. One finding
    /// per variable, at its declaration, with its uses.
    ///
    /// ## Why is this bad?
    /// Packer masks only the values of the variables listed there: the
    /// others are printed in clear by `packer inspect`, in `PACKER_LOG`
    /// debug logs and wherever a provisioner echoes its environment, which
    /// CI keeps. It is a warning: the secret reaches logs only on those
    /// paths.
    ///
    /// ## Example
    /// ```json
    /// { "variables": { "aws_secret_key": "{{env `AWS_SECRET_ACCESS_KEY`}}" },
    ///   "builders": [ { "type": "amazon-ebs", "secret_key": "{{user `aws_secret_key`}}", … } ] }
    /// ```
    ///
    /// ## Fix
    /// Add the variable to `"sensitive-variables": ["aws_secret_key"]`.
    code: "PKR209", name: "credential-variable-not-sensitive", severity: Warning, check: Some(check), hcl2: None,
}

const SECRET_KEYS: &[&str] = &[
    "access_key",
    "secret_key",
    "token",
    "password",
    "client_secret",
    "api_token",
    "api_key",
    "client_jwt",
    "vault_token",
];
const SECRET_SUFFIXES: &[&str] = &["_password", "_secret", "_secret_key", "_token", "_api_key"];

pub(super) fn is_secret_setting(key: &str) -> bool {
    SECRET_KEYS.contains(&key) || SECRET_SUFFIXES.iter().any(|suffix| key.ends_with(suffix))
}

fn check(ctx: &Context, out: &mut Findings) {
    let listed: Vec<&str> = ctx.template.sensitive_variables().into_iter().map(|(_, name)| name).collect();
    let mut uses: BTreeMap<String, Vec<(Route, std::ops::Range<usize>, String)>> = BTreeMap::new();
    for string in ctx.strings.iter() {
        let path = string.path;
        if !matches!(path.first(), Some(PathStep::Key("builders" | "provisioners" | "post-processors"))) {
            continue;
        }
        let Some(PathStep::Key(key)) = path.last() else { continue };
        if !is_secret_setting(key) {
            continue;
        }
        for (at, variable) in string.scan.calls_to("user") {
            if ctx.template.declares(variable) && !listed.contains(&variable) {
                uses.entry(variable.to_owned()).or_default().push((route_of(path), at, (*key).to_owned()));
            }
        }
    }
    for (variable, uses) in uses {
        let settings: Vec<String> = {
            let mut keys: Vec<String> = uses.iter().map(|(_, _, key)| format!("`{key}`")).collect();
            keys.dedup();
            keys
        };
        let finding = out.report(
            &RULE.meta,
            Location::key(Route::root().key("variables").key(&variable)),
            format!(
                "variable `{variable}` feeds {} but is not in `sensitive-variables`, so Packer prints it in clear",
                settings.join(", ")
            ),
        );
        for (route, at, key) in uses {
            finding.related(Location::within(route, at), format!("used as `{key}` here"));
        }
        finding.help(format!("add \"{variable}\" to `sensitive-variables`"));
    }
}
