use crate::diagnostic::Findings;
use crate::gotmpl;
use crate::location::{Location, Route};
use crate::template::{PathStep, route_of};

use super::Context;
use super::Hcl2Context;
use super::hardcoded_credentials::{names_used, plugin_settings};
use crate::hcl2::{Attr, FileKind, Value, eval};
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a password for the build's login written into the template:
    /// a literal `ssh_password`, `winrm_password` or
    /// `ssh_bastion_password` (directly, or as the default of the one
    /// variable that sets it), and a literal password piped into `sudo -S`
    /// in an `execute_command` or `shutdown_command`
    /// (`echo 'vagrant' | sudo -S …`). The diagnostic never shows it.
    ///
    /// In an HCL2 template: the same settings and commands, their values
    /// literal or computed by the HCL2 evaluator from the folder's own
    /// files without the environment (a variable's default, a local, an
    /// auto var file), reported once per variable or local they come
    /// through; and a value in a `*.pkrvars.hcl` file (passed with
    /// `-var-file`) for a variable that only these passwords read. The
    /// message says when the password is a well-known throw-away one
    /// (`vagrant`, `packer`).
    ///
    /// A login name piped into `sudo -S` (`echo 'ubuntu' | sudo -S`, the
    /// builder's `ssh_username` when it is not also its password) is not
    /// reported: on the cloud images that do it sudo asks no password, and
    /// the name is a placeholder.
    ///
    /// ## Why is this bad?
    /// The password lets whoever reads the repository into every machine
    /// started from the image while that account keeps it. It is a warning,
    /// not an error like `hardcoded-credentials`: most such passwords are
    /// the well-known ones of throwaway build accounts (`vagrant`,
    /// `packer`) that the kickstart or preseed file sets anyway, so the
    /// fix is to change or lock the account at the end of the build as
    /// much as to move the value.
    ///
    /// ## Example
    /// ```json
    /// { "type": "qemu", "ssh_username": "root", "ssh_password": "s3cret",
    ///   "shutdown_command": "echo 's3cret' | sudo -S shutdown -P now" }
    /// ```
    ///
    /// ## Fix
    /// Read the password from the environment in `variables`
    /// (`"ssh_password": "{{env `SSH_PASSWORD`}}"`), list it in
    /// `sensitive-variables`, use `{{user `ssh_password`}}` in commands,
    /// and lock or remove the build account before the image is made.
    code: "PKR206", name: "hardcoded-communicator-password", severity: Warning, check: Some(check), hcl2: Some(check_hcl2),
}

pub(super) const PASSWORD_KEYS: &[&str] = &["ssh_password", "winrm_password", "ssh_bastion_password"];
const COMMAND_KEYS: &[&str] = &["execute_command", "shutdown_command"];

fn check(ctx: &Context, out: &mut Findings) {
    let logins = login_names(ctx);
    let mut reported_variables = Vec::new();
    for string in ctx.strings.iter() {
        let (path, text) = (string.path, string.text);
        if !matches!(path.first(), Some(PathStep::Key("builders" | "provisioners" | "post-processors"))) {
            continue;
        }
        let Some(PathStep::Key(key)) = path.last() else { continue };
        let (within, value) = if PASSWORD_KEYS.contains(key) {
            (None, text)
        } else if COMMAND_KEYS.contains(key) {
            match password_piped_to_sudo(text) {
                Some(at) if !is_login_name(&text[at.clone()], &logins) => (Some(at.clone()), &text[at]),
                _ => continue,
            }
        } else {
            continue;
        };
        if let Some(variable) = gotmpl::sole_user_variable(value) {
            if reported_variables.contains(&variable) {
                continue;
            }
            reported_variables.push(variable);
        }
        report_password(ctx, out, key, route_of(path), within, value);
    }
}

/// Passwords every reader knows, of the build accounts of Vagrant boxes
/// and Packer examples.
const THROW_AWAY: &[&str] = &["vagrant", "packer"];

/// Is a password a well-known throw-away one?
pub(super) fn is_throw_away(password: &str) -> bool {
    THROW_AWAY.iter().any(|known| password.trim().eq_ignore_ascii_case(known))
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    let options = eval::Options { packer_version: ctx.template.release, ..eval::Options::default() };
    let evaluator = eval::Evaluator::new(ctx.template, options);
    // A setting's text, written or computed from the folder's own files.
    let text_of = |attr: &Attr| match &attr.value {
        Value::String(text) => Some(text.clone()),
        Value::Expr(_) => match evaluator.value(&attr.at, &attr.value) {
            Ok(value) if !value.all_marks().from_run => value.as_str().map(str::to_owned),
            _ => None,
        },
        _ => None,
    };
    let settings = plugin_settings(ctx.template);
    let texts_of = |keys: &[&str]| -> Vec<String> {
        settings.iter().filter(|attr| keys.contains(&attr.key.as_str())).filter_map(|attr| text_of(attr)).collect()
    };
    let passwords = texts_of(PASSWORD_KEYS);
    let logins: Vec<String> =
        texts_of(&["ssh_username", "winrm_username"]).into_iter().filter(|login| !passwords.contains(login)).collect();
    let mut reported_through: Vec<Vec<String>> = Vec::new();
    for attr in &settings {
        let key = attr.key.as_str();
        let Some(text) = text_of(attr) else { continue };
        let password = if PASSWORD_KEYS.contains(&key) {
            text
        } else if COMMAND_KEYS.contains(&key) {
            match password_piped_to_sudo(&text) {
                Some(at) if !is_login_name(&text[at.clone()], &logins) && !text[at.clone()].contains("{{") => {
                    text[at].to_owned()
                }
                _ => continue,
            }
        } else {
            continue;
        };
        let through = names_used(ctx.template, &attr.at);
        if password.trim().is_empty() || (!through.is_empty() && reported_through.contains(&through)) {
            continue;
        }
        reported_through.push(through.clone());
        let mut message = if through.is_empty() {
            format!("`{key}` holds a password written into the template")
        } else {
            let through: Vec<String> = through.iter().map(|name| format!("`{name}`")).collect();
            format!("`{key}` gets a password written into the template, through {}", through.join(", "))
        };
        let help = if is_throw_away(&password) {
            message.push_str(": a well-known throw-away password");
            "fine for a build machine that is destroyed; lock or remove the account before the image is made"
        } else {
            "read it from a variable without default, `sensitive = true`, set with PKR_VAR_…; lock the build account at the end of the build"
        };
        out.report(&RULE.meta, &attr.at, message).help(help).redact();
    }
    // A var file passed with -var-file, which the evaluation above leaves
    // out: a value there for a variable that only login passwords read
    // (`hardcoded-credentials` reports the others where they are written).
    let feeds = super::credential_not_sensitive::settings_fed(ctx.template);
    for (file, attr) in
        ctx.template.var_file_values().filter(|(file, _)| file.kind == FileKind::VarFile { auto: false })
    {
        let Value::String(password) = &attr.value else { continue };
        let Some(settings) = feeds.get(&attr.key) else { continue };
        let logins: Vec<String> = settings
            .iter()
            .filter(|setting| PASSWORD_KEYS.contains(&setting.as_str()))
            .map(|s| format!("`{s}`"))
            .collect();
        if password.trim().is_empty()
            || logins.is_empty()
            || settings.iter().any(|setting| super::hardcoded_credentials::is_computed_credential_setting(setting))
        {
            continue;
        }
        let throw_away = is_throw_away(password);
        let message = format!(
            "`{}` feeds {}: a password written into the var file {}{}",
            attr.key,
            logins.join(", "),
            file.name,
            if throw_away { ", a well-known throw-away password" } else { "" }
        );
        let help = if throw_away {
            "fine for a build machine that is destroyed; lock or remove the account before the image is made"
        } else {
            "set it with PKR_VAR_… in the environment instead; lock the build account at the end of the build"
        };
        out.report(&RULE.meta, &attr.at, message).help(help).redact();
    }
}

/// Reports `value` when it is a literal password, or names a variable
/// whose default is one (reported at the default).
fn report_password(
    ctx: &Context,
    out: &mut Findings,
    key: &str,
    route: Route,
    within: Option<std::ops::Range<usize>>,
    value: &str,
) {
    let place = |route: Route| match within.clone() {
        Some(range) => Location::within(route, range),
        None => Location::value(route),
    };
    if value.trim().is_empty() {
        return;
    }
    if !gotmpl::is_templated(value) {
        out.report(&RULE.meta, place(route), format!("`{key}` holds a password written into the template"))
            .help("read it from the environment in `variables`, list it in `sensitive-variables`, and lock the build account at the end of the build")
            .redact();
        return;
    }
    let Some(variable) = gotmpl::sole_user_variable(value) else { return };
    let Some(default) = ctx.template.variable_default(&variable) else { return };
    if default.trim().is_empty() || gotmpl::is_templated(default) {
        return;
    }
    out.report(
        &RULE.meta,
        Location::value(Route::root().key("variables").key(&variable)),
        format!("variable `{variable}` gives `{key}` a password written into the template as its default"),
    )
    .related(place(route), format!("`{key}` uses it here"))
    .help("make the default `{{env `…`}}` or `\"\"` and pass the password at build time; list the variable in `sensitive-variables`")
    .redact();
}

/// The builders' `ssh_username`s and `winrm_username`s, with variables
/// resolved to their defaults, that are not also their passwords.
fn login_names(ctx: &Context) -> Vec<String> {
    let names = builder_values(ctx, &["ssh_username", "winrm_username"]);
    let passwords = builder_values(ctx, PASSWORD_KEYS);
    names.into_iter().filter(|name| !passwords.contains(name)).collect()
}

fn builder_values(ctx: &Context, keys: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    for builder in &ctx.blocks.builders {
        for key in keys {
            let Some(value) = builder.str(key) else { continue };
            names.push(value.to_owned());
            if let Some(default) = gotmpl::sole_user_variable(value).and_then(|v| ctx.template.variable_default(&v)) {
                names.push(default.to_owned());
            }
        }
    }
    names
}

/// A login name rather than a password: one of the builders', or a
/// variable named for a user.
fn is_login_name(piped: &str, logins: &[String]) -> bool {
    logins.iter().any(|login| login == piped)
        || gotmpl::sole_user_variable(piped).is_some_and(|variable| variable.contains("user"))
}

/// Where the argument of `echo` is in `echo '<password>' | … sudo -S …`,
/// quotes excluded.
fn password_piped_to_sudo(command: &str) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    let segments: Vec<(usize, &str)> = command
        .split('|')
        .map(|segment| {
            let at = start;
            start += segment.len() + 1;
            (at, segment)
        })
        .collect();
    for pair in segments.windows(2) {
        let [(echo_at, echo), (_, sudo)] = pair else { continue };
        let mut words = sudo.split_whitespace().skip_while(|word| *word != "sudo");
        if words.next().is_none() {
            continue;
        }
        let reads_stdin =
            words.take_while(|word| word.starts_with('-')).any(|flag| !flag.starts_with("--") && flag.contains('S'));
        let Some(echo_word) = echo.rfind("echo ") else { continue };
        if !reads_stdin {
            continue;
        }
        let argument = &echo[echo_word + 5..];
        let trimmed = argument.trim();
        let unquoted = trimmed.trim_matches(['\'', '"']);
        if unquoted.is_empty() || unquoted.starts_with('$') {
            continue;
        }
        let offset = echo_at + echo_word + 5 + (argument.len() - argument.trim_start().len());
        let inner = offset + (trimmed.len() - trimmed.trim_start_matches(['\'', '"']).len());
        return Some(inner..inner + unquoted.len());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::password_piped_to_sudo;

    #[test]
    fn passwords_piped_to_sudo() {
        let bento = "echo 'vagrant' | {{.Vars}} sudo -S -E sh -eux '{{.Path}}'";
        assert_eq!(password_piped_to_sudo(bento).map(|at| &bento[at]), Some("vagrant"));
        let plain = "echo packer|sudo -S shutdown -P now";
        assert_eq!(password_piped_to_sudo(plain).map(|at| &plain[at]), Some("packer"));
        assert_eq!(password_piped_to_sudo("echo $PASSWORD | sudo -S reboot"), None);
        assert_eq!(password_piped_to_sudo("echo 'x' | sudo -E sh"), None);
        assert_eq!(password_piped_to_sudo("sudo -S reboot"), None);
    }
}
