//! Values that must never be shown. Everything a build prints, logs or
//! reports (progress lines, Packer's output, errors, the summary) goes
//! through [`redact`] with what [`collect`] found for its template.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::gotmpl;
use crate::hcl2::{Hcl2Template, Value};
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

/// A sensitive variable of a template, as far as its values are known
/// before a build: whatever the format, what a run must hide comes from
/// these and from what the user gives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sensitive {
    pub name: String,
    /// The plain values the template itself gives it: its default, and
    /// (HCL2) what the folder's auto var files set.
    pub values: Vec<String>,
    /// The environment variables its default reads.
    pub env: Vec<String>,
}

/// The sensitive variables of a JSON template (`sensitive-variables`).
pub fn of_json(template: &Template) -> Vec<Sensitive> {
    template
        .sensitive_variables()
        .into_iter()
        .map(|(_, name)| {
            let default = template.variable_default(name);
            Sensitive {
                name: name.to_owned(),
                values: default.filter(|text| !gotmpl::is_templated(text)).map(str::to_owned).into_iter().collect(),
                env: default
                    .map(|text| gotmpl::calls_to(text, "env").into_iter().map(|(_, name)| name).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The variables of an HCL2 template declared with `sensitive = true`.
pub fn of_hcl2(template: &Hcl2Template) -> Vec<Sensitive> {
    template
        .variables()
        .into_iter()
        .filter(|variable| variable.sensitive())
        .map(|variable| {
            let value = variable.default().map(|attr| &attr.value);
            let set_by_files =
                template.auto_var_file_values().filter(|attr| attr.key == variable.name).map(|attr| &attr.value);
            Sensitive {
                name: variable.name.to_owned(),
                values: value.into_iter().chain(set_by_files).flat_map(plain_values).collect(),
                env: match value {
                    Some(Value::Expr(text)) => env_calls(text),
                    _ => Vec::new(),
                },
            }
        })
        .collect()
}

/// The strings and numbers of a value written as values alone (a default,
/// a var file's), as the HCL2 evaluator reads it: none when it computes
/// anything.
fn plain_values(value: &Value) -> Vec<String> {
    crate::hcl2::eval::literal(value).map(|value| value.texts()).unwrap_or_default()
}

/// The names `env("NAME")` calls in an HCL2 expression read.
fn env_calls(expression: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expression;
    while let Some(at) = rest.find("env(") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.') {
            continue;
        }
        let Some(quoted) = rest.trim_start().strip_prefix('"') else { continue };
        if let Some(end) = quoted.find('"') {
            names.push(quoted[..end].to_owned());
        }
    }
    names
}

/// The values to hide for a template built with `values` (var files and
/// `--var`): AWS credentials from the environment, and every value a
/// sensitive variable could take from any route, the environment variables
/// its default reads included. Those are collected even when `--var`
/// overrides them, since they are still in Packer's environment. Longest
/// first, so that a secret that contains another is hidden whole.
pub fn collect(sensitive: &[Sensitive], values: &BTreeMap<String, String>) -> Vec<String> {
    let mut found: Vec<String> =
        candidates(sensitive, values).into_iter().flat_map(|(_, value)| printed_forms(&value)).collect();
    // Packer's standard error is logged line by line, and a step's output
    // line by line with the text before a line's last carriage return
    // dropped and its end trimmed (the plugin SDK's `cleanOutputLine`):
    // each piece of a secret between line ends and carriage returns,
    // trimmed, is a secret too.
    let pieces: Vec<String> = found
        .iter()
        .flat_map(|secret| secret.split(['\n', '\r']).map(str::trim).filter(|piece| piece.len() < secret.len()))
        .map(str::to_owned)
        .collect();
    found.extend(pieces);
    found.retain(|secret| secret.len() >= SHORTEST);
    found.sort_by(|a, b| (Reverse(a.len()), a).cmp(&(Reverse(b.len()), b)));
    found.dedup();
    found
}

/// Every way a value can appear in what Packer prints and xtask shows: as
/// it is, or quoted as Go's `%q` and JSON quote a string (backslashes and
/// quotes escaped), or as the shell and PowerShell provisioners quote a
/// value of `environment_vars` in the command they log; and each of those
/// as machine-readable output writes it (a comma as `%!(PACKER_COMMA)`,
/// line ends as `\n` and `\r`, which raw lines and Packer's log show), and
/// as xtask's unescaping of that gives it back, where a `\n` the value held
/// itself has become a line end.
fn printed_forms(value: &str) -> Vec<String> {
    let json = serde_json::to_string(value).expect("a string serialises");
    let mut forms = Vec::new();
    let quotings = [
        value.to_owned(),
        go_quoted(value),
        json[1..json.len() - 1].to_owned(),
        shell_quoted(value),
        powershell_escaped(value),
    ];
    for quoted in quotings {
        let machine = quoted.replace(',', "%!(PACKER_COMMA)").replace('\r', "\\r").replace('\n', "\\n");
        forms.push(crate::packer::unescape(&machine));
        forms.push(machine);
        forms.push(quoted);
    }
    forms.sort();
    forms.dedup();
    forms
}

/// What Go's `strconv.Quote` writes between the quotes, for the characters
/// a secret holds in practice: escapes for `\`, `"` and control
/// characters, other characters as they are.
fn go_quoted(value: &str) -> String {
    let mut quoted = String::new();
    for c in value.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            '\u{7}' => quoted.push_str("\\a"),
            '\u{8}' => quoted.push_str("\\b"),
            '\u{b}' => quoted.push_str("\\v"),
            '\u{c}' => quoted.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => quoted.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted
}

/// What the shell provisioners (`shell`, `shell-local`) write between the
/// single quotes of an `environment_vars` value: each `'` as `'"'"'`
/// (Packer 1.6.6 and 1.16.0, plugin SDK v0.6.10).
fn shell_quoted(value: &str) -> String {
    value.replace('\'', "'\"'\"'")
}

/// What the PowerShell provisioner writes for an `environment_vars`
/// value: a backtick before each `$`, `"`, `` ` `` and `'`.
fn powershell_escaped(value: &str) -> String {
    let mut escaped = String::new();
    for c in value.chars() {
        if matches!(c, '$' | '"' | '`' | '\'') {
            escaped.push('`');
        }
        escaped.push(c);
    }
    escaped
}

/// The sensitive variables whose value is too short to be hidden (see
/// [`SHORTEST`]), for a warning before the build.
pub fn too_short(sensitive: &[Sensitive], values: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> = candidates(sensitive, values)
        .into_iter()
        .filter(|(_, value)| !value.is_empty() && value.len() < SHORTEST)
        .map(|(name, _)| name)
        .collect();
    names.dedup();
    names
}

/// Each value a sensitive variable (or the AWS SDK) could take, with the
/// name it goes by. Values given by the user are taken as they are,
/// braces and all.
fn candidates(sensitive: &[Sensitive], values: &BTreeMap<String, String>) -> Vec<(String, String)> {
    // Text that is not UTF-8 is shown lossily: so is the secret.
    let env = |name: &str| std::env::var_os(name).map(|value| value.to_string_lossy().into_owned());
    let mut found: Vec<(String, String)> =
        AWS_CREDENTIALS.iter().filter_map(|name| Some(((*name).to_owned(), env(name)?))).collect();
    for variable in sensitive {
        let name = &variable.name;
        let mut given: Vec<String> = values.get(name).cloned().into_iter().collect();
        given.extend(VARIABLE_PREFIXES.iter().filter_map(|prefix| env(&format!("{prefix}{name}"))));
        // A list or a map is given as written, and Packer prints its
        // strings one by one.
        let strings: Vec<String> = given.iter().flat_map(|text| strings_of_literal(text)).collect();
        found.extend(given.into_iter().chain(strings).map(|value| (name.clone(), value)));
        found.extend(variable.values.iter().map(|value| (name.clone(), value.clone())));
        found.extend(variable.env.iter().filter_map(|read| Some((name.clone(), env(read)?))));
    }
    found
}

/// The strings and numbers of `text` when it is a list or a map written
/// as HCL (or JSON) literals, as the HCL2 evaluator reads it; nothing for
/// any other text.
fn strings_of_literal(text: &str) -> Vec<String> {
    if !text.trim_start().starts_with(['[', '{']) {
        return Vec::new();
    }
    crate::hcl2::eval::literal_text(text).map(|value| value.texts()).unwrap_or_default()
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
        let secrets = collect(&of_json(&template), &values);
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
        let secrets = collect(&of_json(&template), &values);
        for secret in ["AbC{{xyz}}SECRET\nsecond-line-secret", "AbC{{xyz}}SECRET", "second-line-secret"] {
            assert!(secrets.contains(&secret.to_owned()), "{secret} in {secrets:?}");
        }
        assert_eq!(too_short(&of_json(&template), &values), ["pin"]);
    }

    #[test]
    fn hcl2_sensitive_variables_and_the_environment_their_defaults_read() {
        let text = "variable \"key\" {\n  default   = env(\"XTASK_TEST_HCL2_KEY\")\n  sensitive = true\n}\n\
                    variable \"pin\" {\n  default   = \"fallback-pin\"\n  sensitive = true\n}\n\
                    variable \"region\" {\n  default = \"eu-west-1\"\n}\n";
        let file = crate::hcl2::parse_file(0, "v.pkr.hcl", text.to_owned()).unwrap();
        let auto = crate::hcl2::parse_file(1, "s.auto.pkrvars.hcl", "pin = \"auto-file-pin\"\n".to_owned()).unwrap();
        let template = Hcl2Template { files: vec![file, auto], ..Default::default() };
        let found = of_hcl2(&template);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].env, ["XTASK_TEST_HCL2_KEY"]);
        assert_eq!(found[1].values, ["fallback-pin", "auto-file-pin"]);
        // Values are read by the evaluator: a template of literals is the
        // string it makes, a number is written as Packer prints it.
        let text = "variable \"token\" {\n  default   = \"tok-${\"en\"}-1\"\n  sensitive = true\n}\n";
        let file = crate::hcl2::parse_file(0, "v.pkr.hcl", text.to_owned()).unwrap();
        let auto = "token = [{ a = 1e6 }, \"listed-token\"]\n".to_owned();
        let auto = crate::hcl2::parse_file(1, "s.auto.pkrvars.hcl", auto).unwrap();
        let template = Hcl2Template { files: vec![file, auto], ..Default::default() };
        assert_eq!(of_hcl2(&template)[0].values, ["tok-en-1", "1000000", "listed-token"]);
        assert_eq!(env_calls("upper(env(\"A\")) == myenv(\"B\") || env( \"C\")"), ["A", "C"]);
    }

    /// A small deterministic generator, so that a failure can be replayed.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }
    }

    /// What separates the parts of a secret, and surrounds it in a message:
    /// the characters escaping and unescaping change.
    const ODD: &[&str] =
        &["\\n", "\n", "\r\n", ",", "\"", "\\", "%", "%!(PACKER_COMMA)", "€", " ", "\t", "n", "r", "${", "{{"];

    /// Secrets made of runs of capital letters (4 or more, so that each
    /// line of one is long enough to hide) joined by odd characters, shown
    /// in messages of small letters and odd characters, the way Packer
    /// prints them: in machine-readable records (escaped, then unescaped by
    /// xtask), on standard error line by line (plain, escaped as in
    /// Packer's log, or quoted as Go's `%q` quotes). No capital letter may
    /// be left in what xtask shows.
    #[test]
    fn secrets_with_escapes_are_hidden_however_packer_prints_them() {
        let mut rng = Rng(0x6a09_e667_f3bc_c908);
        let letters = |rng: &mut Rng| -> String {
            (0..4 + rng.below(3)).map(|_| char::from(b'A' + rng.below(26) as u8)).collect()
        };
        for case in 0..3000 {
            let mut secret = if rng.below(3) == 0 { rng.pick(ODD).to_owned() } else { String::new() };
            secret.push_str(&letters(&mut rng));
            for _ in 0..rng.below(4) {
                secret.push_str(rng.pick(ODD));
                secret.push_str(&letters(&mut rng));
            }
            if rng.below(3) == 0 {
                secret.push_str(rng.pick(ODD));
            }
            let around = |rng: &mut Rng| -> String {
                (0..rng.below(4))
                    .map(|_| if rng.below(2) == 0 { rng.pick(ODD) } else { rng.pick(&["ab", "n", "\\", "x"]) })
                    .collect()
            };
            let (before, after) = (around(&mut rng), around(&mut rng));
            let secrets = collect(
                &[Sensitive { name: "s".into(), values: vec![secret.clone()], env: Vec::new() }],
                &BTreeMap::new(),
            );
            let printed = match rng.below(2) {
                0 => format!("{before}{secret}{after}"),
                _ => format!("{before}{}{after}", go_quoted(&secret)),
            };
            let machine = printed.replace(',', "%!(PACKER_COMMA)").replace('\r', "\\r").replace('\n', "\\n");
            let record = redact(&crate::packer::unescape(&redact(&machine, &secrets)), &secrets);
            let plain: Vec<String> =
                printed.split('\n').map(|line| redact(line.trim_end_matches('\r'), &secrets)).collect();
            let logged = redact(&machine, &secrets);
            for (how, shown) in [("record", record), ("plain", plain.join("\n")), ("logged", logged)] {
                assert!(
                    !shown.replace("PACKER_COMMA", "").chars().any(|c| c.is_ascii_uppercase()),
                    "case {case}: {secret:?} printed as {printed:?} is shown ({how}) as {shown:?}"
                );
            }
        }
    }

    /// What Packer's step output does to a line before it prints it
    /// (`cleanOutputLine` in the plugin SDK, the same in v0.6.10 as in
    /// Packer 1.6.6): the text before its last carriage return is dropped
    /// and trailing white space trimmed.
    fn cleaned_output_line(line: &str) -> &str {
        let line = line.trim_end();
        line.rfind('\r').map_or(line, |at| &line[at + 1..])
    }

    /// The same secrets as above, as Packer's steps and provisioners print
    /// them: a step's output line by line (cut at a carriage return,
    /// trimmed at its end), and a value set in `environment_vars`, which
    /// the shell provisioners quote (`'` as `'"'"'`, in the command they
    /// log) and the PowerShell one escapes (`` ` `` before `$`, `"`, `` ` ``
    /// and `'`). No capital letter may be left in what xtask shows.
    #[test]
    fn secrets_are_hidden_as_packers_steps_print_them() {
        let mut rng = Rng(0x3c6e_f372_fe94_f82b);
        let letters = |rng: &mut Rng| -> String {
            (0..4 + rng.below(3)).map(|_| char::from(b'A' + rng.below(26) as u8)).collect()
        };
        let separators = [" ", "\t", "\r", "\n", "\r\n", "'", "\"", "$", "`", "\\", ",", "  \r"];
        for case in 0..3000 {
            let mut secret = letters(&mut rng);
            for _ in 0..rng.below(4) {
                secret.push_str(rng.pick(&separators));
                secret.push_str(&letters(&mut rng));
            }
            if rng.below(2) == 0 {
                secret.push_str(rng.pick(&[" ", "\t", "  ", "\r", " \u{a0}"]));
            }
            let secrets = collect(
                &[Sensitive { name: "s".into(), values: vec![secret.clone()], env: Vec::new() }],
                &BTreeMap::new(),
            );
            let before = rng.pick(&["", "x ", "ab\r", "  "]);
            let after = rng.pick(&["", " ", "  \t", " ab", "\r\n"]);
            let step = format!("{before}{secret}{after}");
            let shown: Vec<String> = step.split('\n').map(|line| redact(cleaned_output_line(line), &secrets)).collect();
            let shell = redact(&format!("token='{}' ", secret.replace('\'', "'\"'\"'")), &secrets);
            let escaped: String = secret
                .chars()
                .flat_map(|c| if matches!(c, '$' | '"' | '`' | '\'') { vec!['`', c] } else { vec![c] })
                .collect();
            let powershell = redact(&format!("$env:token=\"{escaped}\"; "), &secrets);
            for (how, shown) in [("step output", shown.join("\n")), ("shell", shell), ("powershell", powershell)] {
                assert!(
                    !shown.chars().any(|c| c.is_ascii_uppercase()),
                    "case {case}: {secret:?} printed by a step as {step:?} is shown ({how}) as {shown:?}"
                );
            }
        }
    }

    /// A sensitive variable whose type is a list or a map, given by
    /// `--var`, a var file or `PKR_VAR_`: Packer prints its strings one by
    /// one, so each is hidden, not only the text as written.
    #[test]
    fn the_strings_of_a_sensitive_list_or_map_are_each_hidden() {
        let sensitive = [Sensitive { name: "creds".into(), values: Vec::new(), env: Vec::new() }];
        let given = |text: &str| BTreeMap::from([("creds".to_owned(), text.to_owned())]);
        let secrets = collect(&sensitive, &given("{\n  key = \"MAPSECRETVALUE\"\n  id  = 12345678\n}"));
        assert!(secrets.contains(&"MAPSECRETVALUE".to_owned()), "{secrets:?}");
        assert!(secrets.contains(&"12345678".to_owned()), "{secrets:?}");
        let secrets = collect(&sensitive, &given("[\"FIRSTSECRET\", { \"inner\": \"NESTEDSECRET\" }]"));
        assert!(secrets.contains(&"FIRSTSECRET".to_owned()) && secrets.contains(&"NESTEDSECRET".to_owned()));
        let secrets = collect(&sensitive, &given("plain-secret-text"));
        assert_eq!(secrets, ["plain-secret-text"]);
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
