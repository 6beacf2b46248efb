use serde_json::Value;

use crate::diagnostic::Findings;
use crate::gotmpl;
use crate::location::{Location, Route};
use crate::schema::Type;

use super::Context;
use super::Hcl2Context;
use crate::hcl2;
use crate::lint_templates::hcl2_keys;
use crate::lint_templates::lint_hcl2::FolderFindings;

declare_rule! {
    /// ## What it does
    /// Reports a literal value that Packer cannot decode into the type its
    /// key takes in the releases the template is judged against (see
    /// `unknown-key`; a key whose type changed between them is reported
    /// only when no release takes the value): a list or an object for a string, a number or a
    /// boolean; a string that is not a boolean (`"yes"`), a whole number or
    /// a duration (`"5"`, which has no unit) where one is needed; a string
    /// or a number where an object or a list of objects is needed.
    ///
    /// Packer converts much by itself, and none of it is reported: numbers
    /// and booleans where a string is needed, `"true"`, `"1"` or `""` for a
    /// boolean, `"22"` or `""` for a number, one string (split at commas)
    /// for a list, one object for a list of objects, a list of objects for
    /// an object of strings. Strings with `{{ … }}` are only known once
    /// Packer renders them, and are not reported where a scalar is needed.
    ///
    /// In an HCL2 template: a literal of the wrong kind (a list for a string,
    /// `"yes"` for a boolean), a nested block written as `key = { … }`, or a
    /// setting written as a block.
    ///
    /// ## Why is this bad?
    /// Packer refuses the template ("error decoding", "cannot parse … as
    /// bool") when it prepares the plugin; `packer validate -syntax-only`
    /// passes it.
    ///
    /// ## Example
    /// ```json
    /// { "type": "amazon-ebs", "encrypt_boot": "yes", "ssh_timeout": "5" }
    /// ```
    ///
    /// ## Fix
    /// Write the value as the type the message names: `true`, `"5m"`.
    code: "PKR403", name: "wrong-type", severity: Error, check: Some(check), hcl2: Some(check_hcl2),
}

fn check(ctx: &Context, out: &mut Findings) {
    for key in ctx.plugin_keys.iter() {
        // A key whose type changed between the releases judged is reported
        // only when no release takes the value.
        let types = &key.judgement.types;
        if types.iter().any(|ty| quick_ok(*ty, key.value)) {
            continue;
        }
        let route = key.route();
        if types.is_empty() || types.iter().any(|ty| problems(*ty, &route, key.value).is_empty()) {
            continue;
        }
        for (route, problem, help) in problems(types[0], &route, key.value) {
            out.report(&RULE.meta, Location::value(route), format!("`{}` of {} {problem}", key.key, key.owner()))
                .help(help);
        }
    }
}

/// The common cases that need no closer look: a string for a string, a
/// boolean for a boolean, a number for a number.
fn quick_ok(ty: Type, value: &Value) -> bool {
    matches!(
        (ty, value),
        (_, Value::Null)
            | (Type::Any, _)
            | (Type::Str, Value::String(_) | Value::Number(_) | Value::Bool(_))
            | (Type::Bool, Value::Bool(_))
            | (Type::Int | Type::Uint | Type::Float | Type::Duration, Value::Number(_))
    )
}

/// What Packer cannot decode in `value` for `ty`: (where, what, how to fix).
fn problems(ty: Type, route: &Route, value: &Value) -> Vec<(Route, String, String)> {
    let mut out = Vec::new();
    let mut report = |route: Route, got: &Value| {
        out.push((route, format!("takes {}, not {}", noun(ty), shown(got)), help(ty)));
    };
    match (ty, value) {
        (_, Value::Null) | (Type::Any, _) => {}
        (
            Type::Str | Type::Duration | Type::Bool | Type::Int | Type::Uint | Type::Float,
            Value::Array(_) | Value::Object(_),
        ) => report(route.clone(), value),
        (_, Value::String(text)) if gotmpl::is_templated(text) && !matches!(ty, Type::Map | Type::Block) => {}
        (Type::Bool, Value::String(text)) if !parses_as_bool(text) => report(route.clone(), value),
        (Type::Int, Value::String(text)) if !parses_as_number(text, |t| t.parse::<i64>().is_ok()) => {
            report(route.clone(), value)
        }
        (Type::Uint, Value::String(text)) if !parses_as_number(text, |t| t.parse::<u64>().is_ok()) => {
            report(route.clone(), value)
        }
        (Type::Float, Value::String(text)) if !parses_as_number(text, |t| t.parse::<f64>().is_ok()) => {
            report(route.clone(), value)
        }
        (Type::Duration, Value::String(text)) if !parses_as_duration(text) => report(route.clone(), value),
        (Type::List, Value::Object(members)) if !members.is_empty() => report(route.clone(), value),
        (Type::List, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_array() || item.is_object() {
                    out.push((route.index(i), format!("takes a list of scalars, not {}", shown(item)), help(ty)));
                }
            }
        }
        (Type::Map, Value::String(_) | Value::Number(_) | Value::Bool(_)) => report(route.clone(), value),
        (Type::Map, Value::Object(members)) => out.extend(map_values(route, members)),
        (Type::Map, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::Object(members) => out.extend(map_values(&route.index(i), members)),
                    Value::Null => {}
                    other => out.push((route.index(i), format!("takes objects, not {}", shown(other)), help(ty))),
                }
            }
        }
        (Type::Block, Value::Object(_)) => {}
        (Type::Block, _) => report(route.clone(), value),
        (Type::Blocks, Value::String(text)) if text.is_empty() => {}
        (Type::Blocks, Value::String(_) | Value::Number(_) | Value::Bool(_)) => report(route.clone(), value),
        (Type::Blocks, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if !item.is_object() && !item.is_null() {
                    out.push((route.index(i), format!("takes objects, not {}", shown(item)), help(ty)));
                }
            }
        }
        _ => {}
    }
    out
}

/// The values of an object of strings: nested lists and objects are refused.
fn map_values(route: &Route, members: &serde_json::Map<String, Value>) -> Vec<(Route, String, String)> {
    members
        .iter()
        .filter(|(_, value)| value.is_array() || value.is_object())
        .map(|(name, value)| {
            (route.key(name), format!("takes an object of strings, not {} here", shown(value)), help(Type::Map))
        })
        .collect()
}

fn noun(ty: Type) -> &'static str {
    match ty {
        Type::Str => "a string",
        Type::Duration => "a duration",
        Type::Bool => "a boolean",
        Type::Int | Type::Uint => "a whole number",
        Type::Float => "a number",
        Type::List => "a list",
        Type::Map => "an object of strings",
        Type::Block => "an object",
        Type::Blocks => "a list of objects",
        Type::Any => "any value",
    }
}

fn help(ty: Type) -> String {
    match ty {
        Type::Str => "write the value as a string".to_owned(),
        Type::Duration => "write a duration with its unit, such as `\"30s\"`, `\"5m\"` or `\"1h30m\"`".to_owned(),
        Type::Bool => "write `true` or `false`".to_owned(),
        Type::Int | Type::Uint | Type::Float => "write a number, such as `20`".to_owned(),
        other => format!("write {}", noun(other)),
    }
}

/// How a value is shown in a message: short strings as they are.
fn shown(value: &Value) -> String {
    match value {
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        Value::String(text) if text.chars().count() <= 32 => format!("`{value}`"),
        Value::String(_) => "a string".to_owned(),
        Value::Number(_) => format!("the number `{value}`"),
        Value::Bool(_) => format!("`{value}`"),
        Value::Null => "null".to_owned(),
    }
}

/// Go's `strconv.ParseBool`, and the empty string, which Packer takes as false.
fn parses_as_bool(text: &str) -> bool {
    matches!(text, "" | "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False")
}

/// Packer takes `""` as 0, and Go's `strconv.Parse*` with base 0 also
/// reads `0x…`, `0o…`, `0b…` and `1_000`: those are given the benefit of
/// the doubt.
fn parses_as_number(text: &str, parse: impl Fn(&str) -> bool) -> bool {
    let unsigned = text.trim_start_matches(['+', '-']).to_ascii_lowercase();
    text.is_empty()
        || parse(text)
        || text.contains('_')
        || ["0x", "0o", "0b"].iter().any(|prefix| unsigned.starts_with(prefix))
}

/// Go's `time.ParseDuration`: `[-+]` then one or more decimal numbers,
/// each with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); or `0`.
fn parses_as_duration(text: &str) -> bool {
    let rest = text.strip_prefix(['-', '+']).unwrap_or(text);
    if rest == "0" {
        return true;
    }
    if rest.is_empty() {
        return false;
    }
    let mut rest = rest;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        let unit = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        if !matches!(&rest[..unit], "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return false;
        }
        rest = &rest[unit..];
    }
    true
}

fn check_hcl2(ctx: &Hcl2Context, out: &mut FolderFindings) {
    hcl2_keys::for_each(ctx.template, ctx.in_force, |key| {
        // A key whose type changed between the releases judged is reported
        // only when no release takes what is written, and as the first
        // release's type reads it.
        let types = &key.judgement.types;
        let problems: Vec<(String, String)> =
            types.iter().map_while(|ty| hcl2_problem(*ty, key.key, key.value)).collect();
        if problems.len() != types.len() {
            return;
        }
        let Some((problem, help)) = problems.into_iter().next() else { return };
        let at = key.value.map_or(key.key_at, |(at, _)| at);
        out.report(&RULE.meta, at, format!("`{}` of {} {problem}", key.key, key.owner())).help(help);
    });
}

/// What Packer refuses in what is written for a key of type `ty` (a block
/// when `value` is `None`): (what, how to fix).
fn hcl2_problem(ty: Type, key: &str, value: Option<(&hcl2::At, &hcl2::Value)>) -> Option<(String, String)> {
    let Some((_, value)) = value else {
        return (!matches!(ty, Type::Block | Type::Blocks | Type::Any))
            .then(|| ("is a setting, not a block".to_owned(), format!("write `{key} = …`")));
    };
    let problem = match (ty, value) {
        (Type::Block | Type::Blocks, _) => Some("is a block, not a setting".to_owned()),
        (_, hcl2::Value::Expr(_) | hcl2::Value::Null) | (Type::Any, _) => None,
        (
            Type::Str | Type::Duration | Type::Bool | Type::Int | Type::Uint | Type::Float,
            hcl2::Value::List(_) | hcl2::Value::Object(_),
        ) => Some(format!("takes {}, not {}", noun(ty), shown_hcl2(value))),
        (Type::Bool, hcl2::Value::String(text)) if !parses_as_bool(text) => {
            Some(format!("takes {}, not `\"{text}\"`", noun(ty)))
        }
        (Type::Int | Type::Uint | Type::Float, hcl2::Value::String(text)) if text.trim().parse::<f64>().is_err() => {
            Some(format!("takes {}, not `\"{text}\"`", noun(ty)))
        }
        (Type::Duration, hcl2::Value::String(text)) if !parses_as_duration(text) => {
            Some(format!("takes {}, not `\"{text}\"`", noun(ty)))
        }
        (
            Type::List,
            hcl2::Value::String(_) | hcl2::Value::Number(_) | hcl2::Value::Bool(_) | hcl2::Value::Object(_),
        )
        | (Type::Map, hcl2::Value::String(_) | hcl2::Value::Number(_) | hcl2::Value::Bool(_) | hcl2::Value::List(_)) => {
            Some(format!("takes {}, not {}", noun(ty), shown_hcl2(value)))
        }
        _ => None,
    }?;
    let help = match ty {
        Type::Block | Type::Blocks => format!("write it without `=`: `{key} {{ … }}`"),
        other => help(other),
    };
    Some((problem, help))
}

fn shown_hcl2(value: &hcl2::Value) -> String {
    match value {
        hcl2::Value::List(_) => "a list".to_owned(),
        hcl2::Value::Object(_) => "an object".to_owned(),
        hcl2::Value::String(text) => format!("`\"{text}\"`"),
        other => format!("`{}`", hcl2::expression_text(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_go_reads_them() {
        for good in ["0", "5m", "1h30m", "300ms", "-1.5h", ".5s", "2us", "1µs", "+3s"] {
            assert!(parses_as_duration(good), "{good}");
        }
        for bad in ["", "5", "5 m", "m", "1.2.3s", "5min", "1d", "."] {
            assert!(!parses_as_duration(bad), "{bad}");
        }
    }

    #[test]
    fn what_packer_converts_is_not_reported() {
        let route = Route::root();
        let accepted = [
            (Type::Bool, r#""true""#),
            (Type::Bool, r#""""#),
            (Type::Bool, "1"),
            (Type::Int, r#""22""#),
            (Type::Int, r#""""#),
            (Type::Int, r#""0x10""#),
            (Type::Int, "true"),
            (Type::Str, "5"),
            (Type::Str, "false"),
            (Type::Duration, "5"),
            (Type::List, r#""a,b""#),
            (Type::List, "5"),
            (Type::List, "{}"),
            (Type::Map, r#"[{"a": "b"}]"#),
            (Type::Map, "[]"),
            (Type::Map, r#"{"a": 1}"#),
            (Type::Blocks, "{}"),
            (Type::Blocks, r#""""#),
            (Type::Blocks, r#""{{user `x`}}""#),
            (Type::Bool, r#""{{user `x`}}""#),
        ];
        for (ty, json) in accepted {
            let value: Value = serde_json::from_str(json).unwrap();
            assert!(problems(ty, &route, &value).is_empty(), "{ty:?} {json}");
        }
        let refused = [
            (Type::Bool, r#""yes""#),
            (Type::Int, r#""2.5""#),
            (Type::Uint, r#""-1""#),
            (Type::Str, "[]"),
            (Type::Str, "{}"),
            (Type::Duration, r#""""#),
            (Type::List, r#"[["a"]]"#),
            (Type::Map, r#""x""#),
            (Type::Map, r#""{{user `x`}}""#),
            (Type::Map, "[1]"),
            (Type::Map, r#"{"a": {"b": 1}}"#),
            (Type::Block, "[{}]"),
            (Type::Blocks, r#""x""#),
            (Type::Blocks, "[1]"),
        ];
        for (ty, json) in refused {
            let value: Value = serde_json::from_str(json).unwrap();
            assert!(!problems(ty, &route, &value).is_empty(), "{ty:?} {json}");
        }
    }
}
