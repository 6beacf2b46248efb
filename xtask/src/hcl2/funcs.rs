//! Packer's functions, as the evaluator calls them.
//!
//! Every call is checked against the generated table first: the release
//! judged must have the function (else an error, and a
//! [`super::eval::MissingFunction`]), the arguments must be as many as its
//! parameters and convert to their types, null only where a parameter
//! takes it. An argument that is not wholly known makes the result an
//! unknown of the declared return type; so does a function that depends
//! on more than its arguments (the clock, randomness, a remote service,
//! the environment unless one is given) and every function not
//! implemented here: never a wrong value.
//!
//! Not implemented, so unknown: the regular expression functions
//! (`regex`, `regexall`, `regex_replace`, and `replace` with a `/…/`
//! pattern: Go's RE2 dialect would need the `regex` crate, which xtask
//! does not take for this), `md5`, `sha1`, `uuidv5`, `bcrypt`, `rsadecrypt`,
//! `csvdecode`, `yamldecode`, `yamlencode`, `fileset`, `abspath`,
//! `pathexpand`, `textencodebase64`, `textdecodebase64`, `base64gzip`,
//! `timeadd`, `rfc3339_parse`, `unix_timestamp_parse`, the
//! `legacy_*` time functions, and `format` verbs other than `%s %v %d %q
//! %t %f %%`.

use std::collections::BTreeMap;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, FuncCall};

use super::At;
use super::eval::{Context, EvalError, Evaluated, Evaluator, FILE_LIMIT, MAX_SIZE, MissingFunction, Origin, Scope};
use super::value::{CtyType, CtyValue, Kind, Marks, Number, convert, never_unify, unify};
use crate::schema::functions::{self, Function, Purity};
use crate::version::Version;

/// What a function's body gives: a value, an argument error (with the
/// index of the argument at fault), or nothing known.
enum Outcome {
    Value(CtyValue),
    ArgError(usize, String),
    Unknown,
}

use Outcome::{ArgError, Unknown};

fn value(value: CtyValue) -> Outcome {
    Outcome::Value(value)
}

pub(super) fn call(
    evaluator: &Evaluator<'_>,
    call: &FuncCall,
    origin: Origin,
    scope: &Scope<'_>,
    context: Context<'_>,
    at: At,
) -> Evaluated {
    let name = call.name.name.as_str();
    let name_at = origin.at(call.name.name.span());
    let error = |at: At, message: String| Err(EvalError { at, message });
    let Some(function) = functions::find(name) else {
        return error(name_at, format!("there is no function named \"{name}\""));
    };
    if !evaluator.function_allowed(name, context) {
        let message = match name {
            "env" => "env() may only be called in a variable's default".to_owned(),
            _ => format!("{name}() cannot be called here: only values may be written"),
        };
        return error(name_at, message);
    }
    if let Some(judged) = evaluator.judged()
        && !function.in_release(judged)
    {
        evaluator.missing_function(MissingFunction {
            name: name.to_owned(),
            at: name_at.clone(),
            since: Some(function.since),
            judged,
        });
        let message = match function.until {
            Some(until) if judged >= until => {
                format!("{name}() was removed in Packer {until}; Packer {judged} does not have it")
            }
            _ => format!("{name}() came with Packer {}; Packer {judged} does not have it", function.since),
        };
        return error(name_at, message);
    }
    let arg_exprs: Vec<&Expression> = call.args.iter().collect();
    match name {
        "try" => return try_call(evaluator, &arg_exprs, origin, scope, context, at),
        "can" => return can_call(evaluator, &arg_exprs, origin, scope, context, name_at),
        "convert" => return convert_call(evaluator, &arg_exprs, origin, scope, context, at),
        _ => {}
    }
    let mut args = Vec::with_capacity(arg_exprs.len());
    let mut arg_spans = Vec::with_capacity(arg_exprs.len());
    for expr in &arg_exprs {
        args.push(evaluator.expr(expr, origin, scope, context)?);
        arg_spans.push(origin.at(expr.span()));
    }
    // `f(list...)`: the last argument's elements are the arguments.
    if call.args.expand_final()
        && let Some(last) = args.pop()
    {
        let last_at = arg_spans.pop().unwrap_or_else(|| at.clone());
        match &last.kind {
            Kind::Unknown(_) => return Ok(CtyValue::unknown(return_type(function, evaluator))),
            Kind::List(_, elements) | Kind::Set(_, elements) | Kind::Tuple(elements) => {
                for element in elements {
                    args.push(element.clone().marked(last.marks));
                    arg_spans.push(last_at.clone());
                }
            }
            _ => return error(last_at, "the argument before `...` must be a list, set or tuple".to_owned()),
        }
    }
    let signature = function.signature(evaluator.judged());
    let fixed = signature.params.len();
    if args.len() < fixed {
        let missing = &signature.params[args.len()];
        return error(at, format!("{name}() needs {fixed} arguments at least: \"{}\" is missing", missing.name));
    }
    if args.len() > fixed && signature.variadic.is_none() {
        return error(arg_spans[fixed].clone(), format!("{name}() takes {fixed} arguments, not {}", args.len()));
    }
    let marks = args.iter().fold(Marks::default(), |marks, arg| marks | arg.all_marks());
    let mut unknown = false;
    for (index, arg) in args.iter_mut().enumerate() {
        let Some(param) = signature.params.get(index).or(signature.variadic.as_ref()) else { continue };
        if arg.is_null() {
            if !param.allow_null {
                return error(
                    arg_spans[index].clone(),
                    format!("the \"{}\" argument of {name}() must not be null", param.name),
                );
            }
            continue;
        }
        let ty = CtyType::parse(param.ty).unwrap_or(CtyType::Dynamic);
        *arg = convert(arg, &ty).map_err(|problem| EvalError {
            at: arg_spans[index].clone(),
            message: format!("invalid value for the \"{}\" argument of {name}(): {problem}", param.name),
        })?;
        unknown |= !arg.is_wholly_known();
    }
    let unknown_result = || Ok(CtyValue::unknown(return_type(function, evaluator)).marked(marks));
    if unknown {
        return unknown_result();
    }
    let outcome = match function.purity {
        Purity::Pure => {
            // Before Packer 1.7.3, `index(collection, key)` was cty's element lookup.
            let old_index = signature.params.first().is_some_and(|param| param.name == "collection");
            pure(name, &args, old_index, evaluator.judged())
        }
        Purity::Filesystem => files(evaluator, name, &args),
        Purity::Environment if name == "env" => match &evaluator.options().environment {
            Some(environment) => value(
                CtyValue::string(args[0].as_str().and_then(|key| environment.get(key)).cloned().unwrap_or_default())
                    .marked(Marks::FROM_RUN),
            ),
            None => Unknown,
        },
        Purity::Clock if name == "timestamp" => match &evaluator.options().clock {
            Some(clock) => value(CtyValue::string(clock.clone())),
            None => Unknown,
        },
        _ => Unknown,
    };
    match outcome {
        Outcome::Value(result) => Ok(result.marked(marks)),
        ArgError(index, message) => error(arg_spans.get(index).cloned().unwrap_or(at), format!("{name}(): {message}")),
        Unknown => unknown_result(),
    }
}

fn return_type(function: &Function, evaluator: &Evaluator<'_>) -> CtyType {
    CtyType::parse(function.signature(evaluator.judged()).returns).unwrap_or(CtyType::Dynamic)
}

/// `try(a, b, …)`: the first argument that evaluates without an error;
/// unknown when the first that does is not wholly known.
fn try_call(
    evaluator: &Evaluator<'_>,
    args: &[&Expression],
    origin: Origin,
    scope: &Scope<'_>,
    context: Context<'_>,
    at: At,
) -> Evaluated {
    if args.is_empty() {
        return Err(EvalError { at, message: "try() needs at least one argument".to_owned() });
    }
    for expr in args {
        if evaluator.depends_on_unknowns(expr, origin, scope, context) {
            return Ok(CtyValue::unknown(CtyType::Dynamic));
        }
        if let Ok(value) = evaluator.expr(expr, origin, scope, context) {
            if !value.is_wholly_known() {
                return Ok(CtyValue::unknown(CtyType::Dynamic).marked(value.all_marks()));
            }
            return Ok(value);
        }
    }
    Err(EvalError { at, message: "no argument of try() could be evaluated without an error".to_owned() })
}

/// `can(x)`: whether `x` evaluates without an error; unknown when its
/// value is not wholly known.
fn can_call(
    evaluator: &Evaluator<'_>,
    args: &[&Expression],
    origin: Origin,
    scope: &Scope<'_>,
    context: Context<'_>,
    at: At,
) -> Evaluated {
    let [expr] = args else {
        return Err(EvalError { at, message: format!("can() takes 1 argument, not {}", args.len()) });
    };
    if evaluator.depends_on_unknowns(expr, origin, scope, context) {
        return Ok(CtyValue::unknown(CtyType::Bool));
    }
    Ok(match evaluator.expr(expr, origin, scope, context) {
        Ok(value) if !value.is_wholly_known() => CtyValue::unknown(CtyType::Bool),
        Ok(_) => CtyValue::bool(true),
        Err(_) => CtyValue::bool(false),
    })
}

/// `convert(value, type)`: the second argument is a type constraint.
fn convert_call(
    evaluator: &Evaluator<'_>,
    args: &[&Expression],
    origin: Origin,
    scope: &Scope<'_>,
    context: Context<'_>,
    at: At,
) -> Evaluated {
    let [value_expr, type_expr] = args else {
        return Err(EvalError { at, message: format!("convert() takes 2 arguments, not {}", args.len()) });
    };
    let ty = CtyType::from_expr(type_expr).ok_or_else(|| EvalError {
        at: origin.at(type_expr.span()),
        message: "the second argument of convert() must be a type constraint, such as list(string)".to_owned(),
    })?;
    let value = evaluator.expr(value_expr, origin, scope, context)?;
    convert(&value, &ty).map_err(|problem| EvalError {
        at: origin.at(value_expr.span()),
        message: format!("convert(): the value does not convert to {ty}: {problem}"),
    })
}

fn string_arg(args: &[CtyValue], index: usize) -> &str {
    args.get(index).and_then(CtyValue::as_str).unwrap_or_default()
}

fn number_arg(args: &[CtyValue], index: usize) -> Option<Number> {
    match args.get(index).map(|arg| &arg.kind) {
        Some(Kind::Number(number)) => Some(*number),
        _ => None,
    }
}

/// An argument as a whole number, or the error cty gives.
fn integer_arg(args: &[CtyValue], index: usize) -> Result<i64, Outcome> {
    number_arg(args, index)
        .and_then(|number| number.as_i64())
        .ok_or_else(|| ArgError(index, "a whole number is required".to_owned()))
}

fn list_of(element: CtyType, items: Vec<CtyValue>) -> CtyValue {
    CtyValue::list(element, items)
}

fn strings(items: impl IntoIterator<Item = String>) -> CtyValue {
    list_of(CtyType::String, items.into_iter().map(CtyValue::string).collect())
}

fn pure(name: &str, args: &[CtyValue], old_index: bool, judged: Option<Version>) -> Outcome {
    match strings_and_numbers(name, args) {
        Some(outcome) => outcome,
        None => collections(name, args, old_index, judged),
    }
}

/// The string, encoding and number functions; `None` for other names.
fn strings_and_numbers(name: &str, args: &[CtyValue]) -> Option<Outcome> {
    let text = string_arg(args, 0);
    let number = |f: fn(f64) -> f64| match number_arg(args, 0) {
        Some(n) if n.is_integer() => value(CtyValue::number(n)),
        // cty gives an integer here, which has no negative zero:
        // `ceil(-0.5)` is 0, not -0.
        Some(n) => value(CtyValue::number(Number::from_f64(f(n.as_f64()) + 0.0))),
        None => Unknown,
    };
    Some(match name {
        "upper" => simple_case(text, char::to_uppercase).map_or(Unknown, |text| value(CtyValue::string(text))),
        "lower" => simple_case(text, char::to_lowercase).map_or(Unknown, |text| value(CtyValue::string(text))),
        "title" => simple_case(text, char::to_uppercase).map_or(Unknown, |_| value(CtyValue::string(title(text)))),
        "trimspace" => value(CtyValue::string(text.trim())),
        "trim" => {
            let cutset = string_arg(args, 1);
            value(CtyValue::string(text.trim_matches(|c| cutset.contains(c))))
        }
        "trimprefix" => value(CtyValue::string(text.strip_prefix(string_arg(args, 1)).unwrap_or(text))),
        "trimsuffix" => value(CtyValue::string(text.strip_suffix(string_arg(args, 1)).unwrap_or(text))),
        "chomp" => value(CtyValue::string(text.trim_end_matches(['\n', '\r']))),
        // Grapheme clusters in cty: characters only for plain text.
        "strrev" if !plain_text(text) => Unknown,
        "strrev" => value(CtyValue::string(text.chars().rev().collect::<String>())),
        "startswith" => value(CtyValue::bool(text.starts_with(string_arg(args, 1)))),
        "endswith" => value(CtyValue::bool(text.ends_with(string_arg(args, 1)))),
        "strcontains" => value(CtyValue::bool(text.contains(string_arg(args, 1)))),
        "substr" => substr(args),
        "replace" => {
            let (search, replacement) = (string_arg(args, 1), string_arg(args, 2));
            // `/…/` is a regular expression, which is not implemented.
            if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
                Unknown
            } else if search.is_empty() {
                // Go inserts the replacement around every character.
                let mut out = String::from(replacement);
                for c in text.chars() {
                    out.push(c);
                    out.push_str(replacement);
                }
                value(CtyValue::string(out))
            } else {
                value(CtyValue::string(text.replace(search, replacement)))
            }
        }
        "split" => {
            let separator = string_arg(args, 0);
            let text = string_arg(args, 1);
            if separator.is_empty() {
                value(strings(text.chars().map(String::from)))
            } else {
                value(strings(text.split(separator).map(str::to_owned)))
            }
        }
        "join" => {
            if args.len() < 2 {
                return Some(ArgError(0, "at least one list is required".to_owned()));
            }
            let separator = string_arg(args, 0);
            let mut parts = Vec::new();
            for list in &args[1..] {
                for element in list.elements().unwrap_or_default() {
                    match element.as_str() {
                        Some(part) => parts.push(part),
                        None => return Some(ArgError(1, "the lists must not hold null".to_owned())),
                    }
                }
            }
            value(CtyValue::string(parts.join(separator)))
        }
        "indent" => {
            let Ok(spaces) = integer_arg(args, 0) else {
                return Some(ArgError(0, "a whole number is required".to_owned()));
            };
            let Ok(spaces) = usize::try_from(spaces) else {
                return Some(ArgError(0, "the number of spaces must not be negative".to_owned()));
            };
            let padding = " ".repeat(spaces.min(MAX_SIZE));
            value(CtyValue::string(string_arg(args, 1).replace('\n', &format!("\n{padding}"))))
        }
        "format" => format(text, &args[1..]).map_or(Unknown, |text| value(CtyValue::string(text))),
        "formatlist" => formatlist(args),
        "base64encode" => value(CtyValue::string(base64_encode(text.as_bytes()))),
        "base64decode" => match base64_decode(text).map(String::from_utf8) {
            Some(Ok(decoded)) => value(CtyValue::string(decoded)),
            Some(Err(_)) => ArgError(0, "the decoded bytes are not UTF-8".to_owned()),
            None => ArgError(0, "not valid base64".to_owned()),
        },
        "urlencode" => value(CtyValue::string(url_encode(text))),
        "jsonencode" => match args[0].to_json() {
            Some(json) => value(CtyValue::string(json)),
            None => Unknown,
        },
        "jsondecode" => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) => value(CtyValue::from_json(&json)),
            Err(problem) => ArgError(0, format!("not valid JSON: {problem}")),
        },
        "sha256" => value(CtyValue::string(hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())))),
        "sha512" => value(CtyValue::string(hex(&<sha2::Sha512 as sha2::Digest>::digest(text.as_bytes())))),
        "basename" => value(CtyValue::string(go_base(text))),
        "dirname" => value(CtyValue::string(go_dir(text))),
        "abs" => value(CtyValue::number(match number_arg(args, 0) {
            // `abs(-0)` is 0, as big.Float's Abs gives.
            Some(n) if n.as_f64().is_sign_negative() => n.negated(),
            Some(n) => n,
            None => return Some(Unknown),
        })),
        "ceil" => number(f64::ceil),
        "floor" => number(f64::floor),
        "signum" => match number_arg(args, 0) {
            Some(n) if !n.is_integer() => ArgError(0, "a whole number is required".to_owned()),
            Some(n) => value(CtyValue::int(match n.as_f64() {
                x if x > 0.0 => 1,
                x if x < 0.0 => -1,
                _ => 0,
            })),
            None => Unknown,
        },
        "max" | "min" => {
            let numbers: Vec<Number> = args.iter().filter_map(|arg| number_arg(std::slice::from_ref(arg), 0)).collect();
            let best = if name == "max" {
                numbers.into_iter().max_by(|a, b| a.order(b))
            } else {
                numbers.into_iter().min_by(|a, b| a.order(b))
            };
            match best {
                Some(best) => value(CtyValue::number(best)),
                None => ArgError(0, "at least one number is required".to_owned()),
            }
        }
        "pow" => match (number_arg(args, 0), number_arg(args, 1)) {
            // Go's math.Pow on float64s: exact for whole powers of whole
            // numbers that stay below 2^53, its last bit its own otherwise.
            (Some(base), Some(exponent)) => match (base.as_i64(), exponent.as_i64()) {
                (Some(b), Some(e)) if (0..=64).contains(&e) => match b.checked_pow(e as u32) {
                    Some(result) => value(CtyValue::number(Number::from_f64(result as f64))),
                    None => Unknown,
                },
                _ => Unknown,
            },
            _ => Unknown,
        },
        "log" => match (number_arg(args, 0), number_arg(args, 1)) {
            // Go's math.Log may differ from Rust's in the last bit.
            (Some(_), Some(_)) => Unknown,
            _ => Unknown,
        },
        "parseint" => parseint(args),
        _ => return None,
    })
}

fn collections(name: &str, args: &[CtyValue], old_index: bool, judged: Option<Version>) -> Outcome {
    let first = &args.first().cloned().unwrap_or_else(|| CtyValue::null(CtyType::Dynamic));
    match name {
        "length" => match &first.kind {
            Kind::String(text) if plain_text(text) => {
                value(CtyValue::int(text.replace("\r\n", "\n").chars().count() as i64))
            }
            Kind::String(_) => Unknown,
            Kind::List(..) | Kind::Set(..) | Kind::Tuple(_) | Kind::Map(..) | Kind::Object(_) => {
                value(CtyValue::int(first.children().count() as i64))
            }
            _ => ArgError(0, "a collection or a string is required".to_owned()),
        },
        "concat" => {
            if args.is_empty() {
                return ArgError(0, "at least one argument is required".to_owned());
            }
            let mut items = Vec::new();
            let mut all_lists = true;
            for (index, arg) in args.iter().enumerate() {
                match &arg.kind {
                    Kind::List(..) => items.extend(arg.elements().unwrap_or_default().iter().cloned()),
                    Kind::Tuple(elements) => {
                        all_lists = false;
                        items.extend(elements.iter().cloned());
                    }
                    _ => return ArgError(index, "all arguments must be lists or tuples".to_owned()),
                }
            }
            if all_lists {
                match unify(&items.iter().map(CtyValue::ty).collect::<Vec<_>>()) {
                    Some(ty) => {
                        let items: Option<Vec<CtyValue>> = items.iter().map(|item| convert(item, &ty).ok()).collect();
                        items.map_or(Unknown, |items| value(list_of(ty, items)))
                    }
                    None if never_unify(&items.iter().map(CtyValue::ty).collect::<Vec<_>>()) => {
                        ArgError(0, "all elements must have the same type".to_owned())
                    }
                    None => Unknown,
                }
            } else {
                value(CtyValue::tuple(items))
            }
        }
        "contains" => {
            let Some(elements) = first.elements() else {
                return ArgError(0, "a list, set or tuple is required".to_owned());
            };
            let mut known = true;
            for element in elements {
                match element.equals(&args[1]) {
                    Some(true) => return value(CtyValue::bool(true)),
                    Some(false) => {}
                    None => known = false,
                }
            }
            if known { value(CtyValue::bool(false)) } else { Unknown }
        }
        "index" if old_index => match super::eval::index_value(first, &args[1], &At { file: 0, bytes: 0..0 }) {
            Ok(found) => value(found),
            Err(problem) => ArgError(1, problem.message),
        },
        "index" => {
            let Some(elements) = first.elements() else { return ArgError(0, "a list or tuple is required".to_owned()) };
            match elements.iter().position(|element| element.equals(&args[1]) == Some(true)) {
                Some(position) => value(CtyValue::int(position as i64)),
                None => ArgError(1, "the item is not in the list".to_owned()),
            }
        }
        "distinct" => {
            let mut out: Vec<CtyValue> = Vec::new();
            for element in first.elements().unwrap_or_default() {
                if !out.iter().any(|seen| seen.equals(element) == Some(true)) {
                    out.push(element.clone());
                }
            }
            value(list_of(element_type(first), out))
        }
        "element" => {
            let Some(elements) = first.elements() else { return ArgError(0, "a list or tuple is required".to_owned()) };
            let index = match integer_arg(args, 1) {
                Ok(index) => index,
                Err(outcome) => return outcome,
            };
            if elements.is_empty() {
                return ArgError(0, "cannot use element() with an empty list".to_owned());
            }
            // go-cty before 1.7 (Packer before 1.7) wraps a negative index too.
            if index < 0 && judged.is_none_or(|version| version >= Version(1, 7, 0)) {
                return ArgError(1, "the index must not be negative".to_owned());
            }
            value(elements[index.rem_euclid(elements.len() as i64) as usize].clone())
        }
        "flatten" => match flatten(first) {
            Some(items) => value(CtyValue::tuple(items)),
            None => ArgError(0, "a list, set or tuple is required".to_owned()),
        },
        "keys" => match first.attributes() {
            Some(attrs) => {
                let keys: Vec<String> = attrs.keys().cloned().collect();
                if matches!(first.kind, Kind::Map(..)) {
                    value(strings(keys))
                } else {
                    value(CtyValue::tuple(keys.into_iter().map(CtyValue::string).collect()))
                }
            }
            None => ArgError(0, "a map or object is required".to_owned()),
        },
        "values" => match &first.kind {
            Kind::Map(element, attrs) => value(list_of(element.clone(), attrs.values().cloned().collect())),
            Kind::Object(attrs) => value(CtyValue::tuple(attrs.values().cloned().collect())),
            _ => ArgError(0, "a map or object is required".to_owned()),
        },
        "lookup" => {
            let Some(attrs) = first.attributes() else { return ArgError(0, "a map or object is required".to_owned()) };
            // A map's default must be of its element type.
            let default = match &first.kind {
                Kind::Map(element, _) => match convert(&args[2], element) {
                    Ok(default) => default,
                    Err(problem) => {
                        return ArgError(2, format!("the default must be of the map's element type: {problem}"));
                    }
                },
                _ => args[2].clone(),
            };
            match attrs.get(string_arg(args, 1)) {
                Some(found) => value(found.clone()),
                None if matches!(first.kind, Kind::Object(_)) => Unknown,
                None => value(default),
            }
        }
        "merge" => {
            // go-cty before 1.10 (Packer before 1.8) merges nothing but nulls into null.
            if args.iter().all(CtyValue::is_null) && judged.is_some_and(|version| version < Version(1, 8, 0)) {
                return value(CtyValue::null(CtyType::Dynamic));
            }
            let mut out = BTreeMap::new();
            let mut all_maps = true;
            for (index, arg) in args.iter().enumerate() {
                if arg.is_null() {
                    continue;
                }
                let Some(attrs) = arg.attributes() else {
                    return ArgError(index, "all arguments must be maps or objects".to_owned());
                };
                all_maps &= matches!(arg.kind, Kind::Map(..));
                out.extend(attrs.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            if all_maps {
                let ty = unify(&out.values().map(CtyValue::ty).collect::<Vec<_>>());
                match ty {
                    Some(ty) => value(Kind::Map(ty, out).into()),
                    None => value(CtyValue::object(out)),
                }
            } else {
                value(CtyValue::object(out))
            }
        }
        "reverse" => match &first.kind {
            Kind::List(element, items) => value(list_of(element.clone(), items.iter().rev().cloned().collect())),
            Kind::Tuple(items) | Kind::Set(_, items) => value(CtyValue::tuple(items.iter().rev().cloned().collect())),
            _ => ArgError(0, "a list or tuple is required".to_owned()),
        },
        "slice" => {
            let Some(elements) = first.elements() else { return ArgError(0, "a list or tuple is required".to_owned()) };
            let (start, end) = match (integer_arg(args, 1), integer_arg(args, 2)) {
                (Ok(start), Ok(end)) => (start, end),
                (Err(outcome), _) | (_, Err(outcome)) => return outcome,
            };
            if start < 0 || end as usize > elements.len() || end < 0 {
                return ArgError(if start < 0 { 1 } else { 2 }, "the index is out of range".to_owned());
            }
            if start > end {
                return ArgError(1, "the start index must not be greater than the end index".to_owned());
            }
            let part = elements[start as usize..end as usize].to_vec();
            match &first.kind {
                Kind::List(element, _) => value(list_of(element.clone(), part)),
                _ => value(CtyValue::tuple(part)),
            }
        }
        "sort" => {
            let mut items: Vec<String> =
                first.elements().unwrap_or_default().iter().filter_map(|e| e.as_str().map(str::to_owned)).collect();
            if items.len() != first.elements().unwrap_or_default().len() {
                return ArgError(0, "the list must not hold null".to_owned());
            }
            items.sort();
            value(strings(items))
        }
        "compact" => {
            let items = first.elements().unwrap_or_default();
            value(strings(items.iter().filter_map(|e| e.as_str()).filter(|s| !s.is_empty()).map(str::to_owned)))
        }
        "chunklist" => {
            let size = match integer_arg(args, 1) {
                Ok(size) if size >= 0 => size as usize,
                Ok(_) => return ArgError(1, "the size must not be negative".to_owned()),
                Err(outcome) => return outcome,
            };
            let items = first.elements().unwrap_or_default();
            let element = element_type(first);
            let chunks: Vec<CtyValue> = if size == 0 {
                vec![first.clone()]
            } else {
                items.chunks(size).map(|chunk| list_of(element.clone(), chunk.to_vec())).collect()
            };
            value(list_of(CtyType::List(Box::new(element)), chunks))
        }
        "coalesce" => {
            let types: Vec<CtyType> = args.iter().map(CtyValue::ty).collect();
            let Some(ty) = unify(&types) else {
                if never_unify(&types) {
                    return ArgError(0, "all arguments must have the same type".to_owned());
                }
                return Unknown;
            };
            for arg in args {
                if arg.is_null() || arg.as_str() == Some("") {
                    continue;
                }
                return convert(arg, &ty).map_or(Unknown, value);
            }
            ArgError(0, "no non-null, non-empty-string arguments".to_owned())
        }
        "coalescelist" => {
            if let Some(index) = args.iter().position(|arg| !matches!(arg.kind, Kind::List(..) | Kind::Tuple(_))) {
                return ArgError(index, "a list or tuple is required".to_owned());
            }
            for arg in args {
                if arg.elements().is_some_and(|elements| !elements.is_empty()) {
                    return value(arg.clone());
                }
            }
            ArgError(0, "no non-empty list or tuple".to_owned())
        }
        "range" => range(args),
        "setproduct" => setproduct(args),
        "zipmap" => {
            let keys = first.elements().unwrap_or_default();
            let Some(values) = args[1].elements() else { return ArgError(1, "a list or tuple is required".to_owned()) };
            if keys.len() != values.len() {
                return ArgError(1, "the keys and values must be as many".to_owned());
            }
            let mut out = BTreeMap::new();
            for (key, item) in keys.iter().zip(values) {
                let Some(key) = key.as_str() else { return ArgError(0, "keys must not be null".to_owned()) };
                out.insert(key.to_owned(), item.clone());
            }
            if matches!(args[1].kind, Kind::List(..)) {
                value(Kind::Map(element_type(&args[1]), out).into())
            } else {
                value(CtyValue::object(out))
            }
        }
        "setunion" | "setintersection" => {
            // The sets' element types must unify.
            let types: Vec<CtyType> = args.iter().map(element_type).collect();
            if unify(&types).is_none() {
                if never_unify(&types) {
                    return ArgError(0, "the sets must all have compatible element types".to_owned());
                }
                return Unknown;
            }
            // Elements are compared once converted to that type:
            // `setintersection([1], ["1"])` is `["1"]`.
            let common = unify(&types).unwrap_or(CtyType::Dynamic);
            let converted: Result<Vec<Vec<CtyValue>>, _> = args
                .iter()
                .map(|arg| arg.elements().unwrap_or_default().iter().map(|element| convert(element, &common)).collect())
                .collect();
            let Ok(converted) = converted else { return Unknown };
            let sets: Vec<&[CtyValue]> = converted.iter().map(Vec::as_slice).collect();
            let mut out: Vec<CtyValue> = Vec::new();
            if name == "setunion" {
                for element in sets.iter().flat_map(|set| set.iter()) {
                    if !out.iter().any(|seen| seen.equals(element) == Some(true)) {
                        out.push(element.clone());
                    }
                }
            } else {
                for element in sets[0] {
                    if sets[1..].iter().all(|set| set.iter().any(|other| other.equals(element) == Some(true))) {
                        out.push(element.clone());
                    }
                }
            }
            let element = unify(&out.iter().map(CtyValue::ty).collect::<Vec<_>>()).unwrap_or(CtyType::Dynamic);
            value(CtyValue::set(element, out))
        }
        "alltrue" | "anytrue" => {
            let items = first.elements().unwrap_or_default();
            let truths: Vec<bool> = items.iter().map(|item| matches!(item.kind, Kind::Bool(true))).collect();
            value(CtyValue::bool(if name == "alltrue" { truths.iter().all(|t| *t) } else { truths.iter().any(|t| *t) }))
        }
        "sum" => {
            let items = first.elements().unwrap_or_default();
            if items.is_empty() {
                return ArgError(0, "cannot sum an empty list".to_owned());
            }
            let mut total = Number::from_i64(0);
            for item in items {
                match convert(item, &CtyType::Number).ok().map(|n| n.kind) {
                    Some(Kind::Number(n)) => total = total.plus(n),
                    _ => return ArgError(0, "every element must be a number".to_owned()),
                }
            }
            value(CtyValue::number(total))
        }
        "cidrhost" | "cidrnetmask" | "cidrsubnet" | "cidrsubnets" => cidr(name, args),
        "formatdate" => formatdate(string_arg(args, 0), string_arg(args, 1)),
        _ => Unknown,
    }
}

fn files(evaluator: &Evaluator<'_>, name: &str, args: &[CtyValue]) -> Outcome {
    let options = evaluator.options();
    let Some(folder) = &options.folder else { return Unknown };
    let path = string_arg(args, 0);
    // What an absolute or home path names depends on the machine.
    if path.starts_with('/')
        || path.starts_with('~')
        || path.starts_with('\\')
        || path.contains(':')
        || path.contains('\0')
    {
        return Unknown;
    }
    let full = folder.join(path);
    // Only files below the root are read (the folder's, unless the caller
    // names the repository's): a template must not make xtask read, and a
    // rule then show, `../../../home/user/.aws/credentials`.
    let root = options.read_root.as_ref().unwrap_or(folder);
    let inside = |path: &std::path::Path| {
        let (Ok(path), Ok(root)) = (path.canonicalize(), root.canonicalize()) else { return false };
        path.starts_with(root)
    };
    let parent_inside = full.parent().is_some_and(inside);
    if !parent_inside || (full.exists() && !inside(&full)) {
        return Unknown;
    }
    match name {
        "fileexists" => match std::fs::metadata(&full) {
            Ok(metadata) if metadata.is_file() => value(CtyValue::bool(true)),
            Ok(metadata) if metadata.is_dir() => ArgError(0, format!("\"{path}\" is a directory, not a file")),
            Ok(_) => Unknown,
            Err(problem) if problem.kind() == std::io::ErrorKind::NotFound => value(CtyValue::bool(false)),
            Err(_) => Unknown,
        },
        "file" | "templatefile" | "filebase64" => {
            let bytes = match crate::fsutil::read_regular(&full, FILE_LIMIT) {
                Ok(bytes) => bytes,
                Err(crate::fsutil::Unreadable::Missing) => return ArgError(0, format!("no file exists at \"{path}\"")),
                Err(_) => return Unknown,
            };
            if name == "filebase64" {
                return value(CtyValue::string(base64_encode(&bytes)));
            }
            let Ok(text) = String::from_utf8(bytes) else {
                return ArgError(
                    0,
                    format!("the contents of \"{path}\" are not valid UTF-8; use filebase64 to read them"),
                );
            };
            if name == "file" {
                return value(CtyValue::string(text));
            }
            template_file(evaluator, &text, &args[1])
        }
        _ => Unknown,
    }
}

/// `templatefile(path, vars)`: the file's text as a template whose only
/// names are `vars`' attributes.
fn template_file(evaluator: &Evaluator<'_>, text: &str, vars: &CtyValue) -> Outcome {
    let Some(attrs) = vars.attributes() else { return ArgError(1, "invalid vars value: must be a map".to_owned()) };
    let Ok(template) = hcl_edit::parser::parse_template(text) else {
        return ArgError(0, "the file is not a valid template".to_owned());
    };
    // Errors inside the file are placed at the call.
    let origin = Origin { file: usize::MAX, offset: 0 };
    match evaluator.template(&template, origin, &Scope::default(), Context::TemplateFile(attrs)) {
        Ok(result) => value(result),
        Err(problem) => ArgError(0, format!("in the template: {}", problem.message)),
    }
}

fn element_type(collection: &CtyValue) -> CtyType {
    match &collection.kind {
        Kind::List(element, _) | Kind::Set(element, _) | Kind::Map(element, _) => element.clone(),
        _ => CtyType::Dynamic,
    }
}

fn flatten(value: &CtyValue) -> Option<Vec<CtyValue>> {
    let mut out = Vec::new();
    for element in value.elements()? {
        match &element.kind {
            Kind::List(..) | Kind::Set(..) | Kind::Tuple(_) => out.extend(flatten(element)?),
            _ => out.push(element.clone()),
        }
    }
    Some(out)
}

fn substr(args: &[CtyValue]) -> Outcome {
    let text: Vec<char> = string_arg(args, 0).chars().collect();
    let (Ok(offset), Ok(length)) = (integer_arg(args, 1), integer_arg(args, 2)) else {
        return ArgError(1, "a whole number is required".to_owned());
    };
    // Grapheme clusters in cty; characters here, so only plain text is known.
    if !text.iter().all(|c| (*c as u32) < 0x300 && *c != '\r') {
        return Unknown;
    }
    let len = text.len() as i64;
    let start = if offset < 0 { (len + offset).max(0) } else { offset.min(len) };
    let end = if length < 0 { len } else { (start + length).min(len) };
    value(CtyValue::string(text[start as usize..end.max(start) as usize].iter().collect::<String>()))
}

/// Text whose characters are its grapheme clusters (but `\r\n`, one) and
/// which NFC leaves alone: below U+0300, before the combining marks.
fn plain_text(text: &str) -> bool {
    text.chars().all(|c| (c as u32) < 0x300)
}

/// Go's case mapping, character by character: `None` where Rust's full
/// mapping would make more than one character (`ß` to `SS`), which Go's
/// simple mapping does not.
fn simple_case<I: ExactSizeIterator<Item = char>>(text: &str, map: impl Fn(char) -> I) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let mut mapped = map(c);
        if mapped.len() != 1 {
            return None;
        }
        out.extend(mapped.next());
    }
    Some(out)
}

fn title(text: &str) -> String {
    let mut out = String::new();
    let mut at_start = true;
    for c in text.chars() {
        if at_start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_start = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

fn parseint(args: &[CtyValue]) -> Outcome {
    let Ok(base) = integer_arg(args, 1) else { return ArgError(1, "a whole number is required".to_owned()) };
    if !(2..=62).contains(&base) {
        return ArgError(1, "the base must be a whole number between 2 and 62 inclusive".to_owned());
    }
    let Some(text) = args[0].as_str() else { return ArgError(0, "a string is required".to_owned()) };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if base > 36 || digits.is_empty() {
        return if digits.is_empty() {
            ArgError(0, format!("cannot parse \"{text}\" as a base {base} integer"))
        } else {
            Unknown
        };
    }
    match i128::from_str_radix(digits, base as u32) {
        Ok(parsed) if parsed.unsigned_abs() < 1 << 53 => {
            value(CtyValue::int(if negative { -(parsed as i64) } else { parsed as i64 }))
        }
        Ok(_) => Unknown,
        Err(_) => ArgError(0, format!("cannot parse \"{text}\" as a base {base} integer")),
    }
}

/// Every combination of one element of each argument: a set of tuples
/// when every argument is a set, else a list.
fn setproduct(args: &[CtyValue]) -> Outcome {
    if args.len() < 2 {
        return ArgError(0, "at least two arguments are required".to_owned());
    }
    let size = args.iter().map(|arg| arg.elements().map_or(1, <[CtyValue]>::len)).try_fold(1usize, usize::checked_mul);
    if size.is_none_or(|size| size > MAX_SIZE) {
        return ArgError(0, "the product is too large".to_owned());
    }
    let mut rows: Vec<Vec<CtyValue>> = vec![Vec::new()];
    for (index, arg) in args.iter().enumerate() {
        let Some(elements) = arg.elements() else { return ArgError(index, "a set or list is required".to_owned()) };
        if matches!(arg.kind, Kind::Tuple(_)) {
            // cty first converts a tuple to a list or set of one type.
            return Unknown;
        }
        rows = rows
            .into_iter()
            .flat_map(|row| elements.iter().map(move |element| [row.clone(), vec![element.clone()]].concat()))
            .collect();
    }
    let element = CtyType::Tuple(args.iter().map(element_type).collect());
    let rows: Vec<CtyValue> = rows.into_iter().map(CtyValue::tuple).collect();
    if args.iter().all(|arg| matches!(arg.kind, Kind::Set(..))) {
        value(CtyValue::set(element, rows))
    } else {
        value(list_of(element, rows))
    }
}

fn range(args: &[CtyValue]) -> Outcome {
    let numbers: Vec<Number> = args.iter().filter_map(|arg| number_arg(std::slice::from_ref(arg), 0)).collect();
    let (start, limit, step) = match numbers.as_slice() {
        [limit] => (Number::from_i64(0), *limit, Number::from_i64(if limit.as_f64() < 0.0 { -1 } else { 1 })),
        [start, limit] => (*start, *limit, Number::from_i64(if start.order(limit).is_gt() { -1 } else { 1 })),
        [start, limit, step] => (*start, *limit, *step),
        _ => return ArgError(0, "range() takes 1 to 3 numbers".to_owned()),
    };
    if step.as_f64() == 0.0 {
        return ArgError(2, "the step must not be zero".to_owned());
    }
    let up = step.as_f64() > 0.0;
    if (up && start.order(&limit).is_gt()) || (!up && start.order(&limit).is_lt()) {
        return ArgError(0, "the step goes away from the limit".to_owned());
    }
    let mut out = Vec::new();
    let mut current = start;
    while if up { current.order(&limit).is_lt() } else { current.order(&limit).is_gt() } {
        if out.len() >= 1024 {
            return ArgError(0, "more than 1024 values".to_owned());
        }
        out.push(CtyValue::number(current));
        current = current.plus(step);
    }
    value(list_of(CtyType::Number, out))
}

/// `format` with the Go verbs cty implements: `None` for what is not
/// implemented here (or an argument it cannot write).
fn format(spec: &str, args: &[CtyValue]) -> Option<String> {
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    let mut next_arg = 0;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(flag) = chars.peek().copied().filter(|c| "-+# 0".contains(*c)) {
            flags.push(flag);
            chars.next();
        }
        let mut width = String::new();
        while let Some(digit) = chars.peek().copied().filter(char::is_ascii_digit) {
            width.push(digit);
            chars.next();
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut digits = String::new();
            while let Some(digit) = chars.peek().copied().filter(char::is_ascii_digit) {
                digits.push(digit);
                chars.next();
            }
            precision = Some(digits.parse::<usize>().unwrap_or(0));
        }
        // Widths and precisions past these are not worth writing out.
        if width.len() > 4 || precision.is_some_and(|precision| precision > 100) {
            return None;
        }
        let verb = chars.next()?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args.get(next_arg)?;
        next_arg += 1;
        let text = match verb {
            's' => arg
                .as_str()
                .map(str::to_owned)
                .or_else(|| convert(arg, &CtyType::String).ok()?.as_str().map(str::to_owned))?,
            'v' => match &arg.kind {
                Kind::String(text) => text.clone(),
                Kind::Null(_) => "null".to_owned(),
                Kind::Bool(_) | Kind::Number(_) => convert(arg, &CtyType::String).ok()?.as_str()?.to_owned(),
                _ => arg.to_json()?,
            },
            'q' => serde_json::Value::String(convert(arg, &CtyType::String).ok()?.as_str()?.to_owned()).to_string(),
            't' => match convert(arg, &CtyType::Bool).ok()?.kind {
                Kind::Bool(value) => value.to_string(),
                _ => return None,
            },
            'd' => {
                let Kind::Number(number) = convert(arg, &CtyType::Number).ok()?.kind else { return None };
                let integer = number.as_i64()?;
                if flags.contains('+') && integer >= 0 { format!("+{integer}") } else { integer.to_string() }
            }
            'f' => {
                let Kind::Number(number) = convert(arg, &CtyType::Number).ok()?.kind else { return None };
                // Exact decimals only: Go rounds cty's 512-bit value.
                number.text()?;
                format!("{:.*}", precision.unwrap_or(6), number.as_f64())
            }
            _ => return None,
        };
        let text = match (verb, precision) {
            ('s' | 'v', Some(precision)) => text.chars().take(precision).collect(),
            _ => text,
        };
        let width: usize = width.parse().unwrap_or(0);
        let length = text.chars().count();
        if length < width {
            let padding = width - length;
            if flags.contains('-') {
                out.push_str(&text);
                out.extend(std::iter::repeat_n(' ', padding));
            } else if flags.contains('0') && matches!(verb, 'd' | 'f') {
                let (sign, digits) = match text.strip_prefix(['-', '+']) {
                    Some(rest) => (&text[..1], rest),
                    None => ("", text.as_str()),
                };
                out.push_str(sign);
                out.extend(std::iter::repeat_n('0', padding));
                out.push_str(digits);
            } else {
                out.extend(std::iter::repeat_n(' ', padding));
                out.push_str(&text);
            }
        } else {
            out.push_str(&text);
        }
        if out.len() > MAX_SIZE {
            return None;
        }
    }
    // Go appends `%!(EXTRA …)` for arguments left over: not written here.
    (next_arg == args.len()).then_some(out)
}

fn formatlist(args: &[CtyValue]) -> Outcome {
    let spec = string_arg(args, 0);
    let rest = &args[1..];
    let mut length = None;
    for (index, arg) in rest.iter().enumerate() {
        if let Some(elements) = arg.elements() {
            match length {
                Some(known) if known != elements.len() => {
                    return ArgError(index + 1, "all lists must have the same length".to_owned());
                }
                _ => length = Some(elements.len()),
            }
        }
    }
    let Some(length) = length else {
        return format(spec, rest).map_or(Unknown, |text| value(strings([text])));
    };
    let mut out = Vec::new();
    for index in 0..length {
        let row: Vec<CtyValue> = rest
            .iter()
            .map(|arg| arg.elements().map_or_else(|| arg.clone(), |elements| elements[index].clone()))
            .collect();
        match format(spec, &row) {
            Some(text) => out.push(text),
            None => return Unknown,
        }
    }
    value(strings(out))
}

/// `formatdate(spec, timestamp)` for an RFC 3339 timestamp in UTC or
/// with an offset, with cty's format letters.
fn formatdate(spec: &str, timestamp: &str) -> Outcome {
    let Some(time) = parse_rfc3339(timestamp) else {
        return ArgError(1, format!("\"{timestamp}\" is not a valid RFC 3339 timestamp"));
    };
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    let mut out = String::new();
    let chars: Vec<char> = spec.chars().collect();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        if c == '\'' {
            // Quoted literal text; `''` is a quote.
            let mut end = index + 1;
            if chars.get(end) == Some(&'\'') {
                out.push('\'');
                index += 2;
                continue;
            }
            while end < chars.len() && chars[end] != '\'' {
                out.push(chars[end]);
                end += 1;
            }
            if end >= chars.len() {
                return ArgError(0, "unterminated quoted literal".to_owned());
            }
            index = end + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            index += 1;
            continue;
        }
        let run = chars[index..].iter().take_while(|other| **other == c).count();
        let token: String = std::iter::repeat_n(c, run).collect();
        let text = match token.as_str() {
            "YYYY" => format!("{:04}", time.year),
            "YY" => format!("{:02}", time.year % 100),
            "MMMM" => MONTHS[time.month as usize - 1].to_owned(),
            "MMM" => MONTHS[time.month as usize - 1][..3].to_owned(),
            "MM" => format!("{:02}", time.month),
            "M" => time.month.to_string(),
            "DD" => format!("{:02}", time.day),
            "D" => time.day.to_string(),
            "EEEE" => DAYS[time.weekday()].to_owned(),
            "EEE" => DAYS[time.weekday()][..3].to_owned(),
            "hh" => format!("{:02}", time.hour),
            "h" => time.hour.to_string(),
            "HH" => format!("{:02}", (time.hour + 11) % 12 + 1),
            "H" => ((time.hour + 11) % 12 + 1).to_string(),
            "AA" => if time.hour < 12 { "AM" } else { "PM" }.to_owned(),
            "aa" => if time.hour < 12 { "am" } else { "pm" }.to_owned(),
            "mm" => format!("{:02}", time.minute),
            "m" => time.minute.to_string(),
            "ss" => format!("{:02}", time.second),
            "s" => time.second.to_string(),
            "ZZZZZ" | "ZZZZ" | "ZZZ" | "Z" => return Unknown,
            _ => return ArgError(0, format!("invalid date format verb \"{token}\"")),
        };
        out.push_str(&text);
        index += run;
    }
    value(CtyValue::string(out))
}

struct Time {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Time {
    /// 0 for Sunday.
    fn weekday(&self) -> usize {
        let (y, m) = if self.month < 3 { (self.year - 1, self.month + 12) } else { (self.year, self.month) };
        let k = y.rem_euclid(100);
        let j = y.div_euclid(100);
        let h = (i64::from(self.day) + (13 * (i64::from(m) + 1)) / 5 + k + k / 4 + j / 4 + 5 * j).rem_euclid(7);
        ((h + 6) % 7) as usize
    }
}

/// The date and time an RFC 3339 timestamp writes, as written (the offset
/// is not applied: cty keeps the timestamp's own zone).
fn parse_rfc3339(text: &str) -> Option<Time> {
    let bytes = text.as_bytes();
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || !matches!(bytes[10], b'T' | b't')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let time = Time {
        year: i64::from(number(0..4)?),
        month: number(5..7)?,
        day: number(8..10)?,
        hour: number(11..13)?,
        minute: number(14..16)?,
        second: number(17..19)?,
    };
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let zone_ok = matches!(rest, "Z" | "z")
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest[1..3].parse::<u32>().is_ok_and(|h| h < 24)
            && rest[4..6].parse::<u32>().is_ok_and(|m| m < 60));
    let leap = time.year % 4 == 0 && (time.year % 100 != 0 || time.year % 400 == 0);
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let valid = (1..=12).contains(&time.month)
        && time.day >= 1
        && time.day <= days[time.month as usize - 1]
        && time.hour < 24
        && time.minute < 60
        && time.second < 60;
    (zone_ok && valid).then_some(time)
}

/// `cidrhost`, `cidrnetmask`, `cidrsubnet`, `cidrsubnets`, IPv4 and IPv6.
fn cidr(name: &str, args: &[CtyValue]) -> Outcome {
    let Some((address, prefix, bits)) = parse_cidr(string_arg(args, 0)) else {
        return ArgError(0, format!("invalid CIDR expression \"{}\"", string_arg(args, 0)));
    };
    let network = if prefix == 0 { 0 } else { address & (u128::MAX << (bits - prefix)) };
    let host_bits = bits - prefix;
    let show = |value: u128| {
        if bits == 32 {
            std::net::Ipv4Addr::from(value as u32).to_string()
        } else {
            std::net::Ipv6Addr::from(value).to_string()
        }
    };
    match name {
        "cidrnetmask" => {
            if bits != 32 {
                return ArgError(0, "only IPv4 networks have a netmask".to_owned());
            }
            let mask = if prefix == 0 { 0 } else { (u32::MAX << (32 - prefix)) as u128 };
            value(CtyValue::string(show(mask)))
        }
        "cidrhost" => {
            let Ok(host) = integer_arg(args, 1) else { return ArgError(1, "a whole number is required".to_owned()) };
            let size: i128 = if host_bits >= 127 { i128::MAX } else { 1i128 << host_bits };
            let offset = if host < 0 { size + i128::from(host) } else { i128::from(host) };
            if offset < 0 || offset >= size {
                return ArgError(1, format!("prefix of {prefix} does not accommodate a host numbered {host}"));
            }
            value(CtyValue::string(show(network + offset as u128)))
        }
        "cidrsubnet" => {
            let (Ok(newbits), Ok(number)) = (integer_arg(args, 1), integer_arg(args, 2)) else {
                return ArgError(1, "whole numbers are required".to_owned());
            };
            subnet(network, prefix, bits, newbits, number).map_or_else(
                |message| ArgError(1, message),
                |(subnet, length)| value(CtyValue::string(format!("{}/{length}", show(subnet)))),
            )
        }
        _ => {
            let mut out = Vec::new();
            let mut next = network;
            for (index, arg) in args[1..].iter().enumerate() {
                let Some(newbits) = number_arg(std::slice::from_ref(arg), 0).and_then(|n| n.as_i64()) else {
                    return ArgError(index + 1, "a whole number is required".to_owned());
                };
                if newbits < 1 || prefix + newbits as u32 > bits {
                    return ArgError(index + 1, format!("would extend prefix to {} bits", i64::from(prefix) + newbits));
                }
                let length = prefix + newbits as u32;
                let block = 1u128 << (bits - length);
                // Align to the block's size.
                let start = next.div_ceil(block) * block;
                if bits < 128 && start + block > network + (1u128 << host_bits) {
                    return ArgError(index + 1, "not enough remaining address space for a subnet".to_owned());
                }
                out.push(format!("{}/{length}", show(start)));
                next = start + block;
            }
            value(strings(out))
        }
    }
}

fn subnet(network: u128, prefix: u32, bits: u32, newbits: i64, number: i64) -> Result<(u128, u32), String> {
    if newbits < 0 || i64::from(prefix) + newbits > i64::from(bits) {
        return Err(format!("insufficient address space to extend prefix of {prefix} by {newbits}"));
    }
    let length = prefix + newbits as u32;
    if number < 0 || (newbits < 64 && number >= 1i64 << newbits) {
        return Err(format!("prefix extension of {newbits} does not accommodate a subnet numbered {number}"));
    }
    Ok((network | ((number as u128) << (bits - length)), length))
}

/// `10.0.0.0/16` as the address, prefix length and address width.
fn parse_cidr(text: &str) -> Option<(u128, u32, u32)> {
    let (address, prefix) = text.split_once('/')?;
    let prefix: u32 = prefix.parse().ok().filter(|_| prefix.bytes().all(|b| b.is_ascii_digit()))?;
    if let Ok(v4) = address.parse::<std::net::Ipv4Addr>() {
        return (prefix <= 32).then_some((u128::from(u32::from(v4)), prefix, 32));
    }
    let v6 = address.parse::<std::net::Ipv6Addr>().ok()?;
    (prefix <= 128).then_some((u128::from(v6), prefix, 128))
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for (index, shift) in [18, 12, 6, 0].iter().enumerate() {
            if index <= chunk.len() {
                out.push(ALPHABET[((word >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding, as Go's `StdEncoding` reads it.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    // Go's decoder skips line breaks wherever they are: a heredoc's
    // wrapped base64 decodes.
    let bytes: Vec<u8> = text.bytes().filter(|byte| !matches!(byte, b'\r' | b'\n')).collect();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for (chunk_index, chunk) in bytes.chunks(4).enumerate() {
        let last = chunk_index == bytes.len() / 4 - 1;
        let mut word = 0u32;
        let mut padding = 0;
        for (index, byte) in chunk.iter().enumerate() {
            let sextet = match byte {
                b'A'..=b'Z' => byte - b'A',
                b'a'..=b'z' => byte - b'a' + 26,
                b'0'..=b'9' => byte - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                b'=' if last && index >= 2 => {
                    padding += 1;
                    0
                }
                _ => return None,
            };
            if padding > 0 && *byte != b'=' {
                return None;
            }
            word = (word << 6) | u32::from(sextet);
        }
        let decoded = [(word >> 16) as u8, (word >> 8) as u8, word as u8];
        out.extend_from_slice(&decoded[..3 - padding]);
    }
    Some(out)
}

/// Go's `url.QueryEscape`.
fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Go's `filepath.Base` on a Unix path.
fn go_base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `filepath.Dir` on a Unix path: everything before the last
/// element, cleaned.
fn go_dir(path: &str) -> String {
    let dir = match path.rfind('/') {
        Some(at) => &path[..=at],
        None => "",
    };
    go_clean(dir)
}

/// Go's `filepath.Clean`.
fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_match_go() {
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert!(base64_decode("aGVsbG8").is_none());
        assert_eq!(url_encode("a b&c/é"), "a+b%26c%2F%C3%A9");
        assert_eq!(go_dir("a/b/c.sh"), "a/b");
        assert_eq!(go_dir("c.sh"), ".");
        assert_eq!(go_dir("/c.sh"), "/");
        assert_eq!(go_base("a/b/"), "b");
        assert_eq!(go_clean("a/../../b/./c/"), "../b/c");
        assert_eq!(title("hello world-wide"), "Hello World-Wide");
        assert_eq!(parse_rfc3339("2026-02-29T00:00:00Z").map(|t| t.day), None);
        assert_eq!(parse_rfc3339("2024-02-29T10:20:30Z").map(|t| t.weekday()), Some(4));
    }

    #[test]
    fn format_writes_go_verbs() {
        let args = [CtyValue::string("x"), CtyValue::int(42), CtyValue::bool(true)];
        assert_eq!(format("%s-%03d-%t %%", &args).as_deref(), Some("x-042-true %"));
        assert_eq!(format("%-4s|%4s|", &[CtyValue::string("a"), CtyValue::string("b")]).as_deref(), Some("a   |   b|"));
        assert_eq!(format("%q", &[CtyValue::string("a\"b")]).as_deref(), Some("\"a\\\"b\""));
        assert_eq!(format("%.2f", &[CtyValue::number(Number::parse("3.14159").unwrap())]).as_deref(), Some("3.14"));
        assert_eq!(format("%x", &[CtyValue::int(1)]), None);
        assert_eq!(format("%s %s", &[CtyValue::string("a")]), None);
    }
}
