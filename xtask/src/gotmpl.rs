//! Just enough of Go's text/template syntax to see which functions a Packer
//! string calls, and with which literal arguments: `{{user `name`}}`,
//! `{{ env "HOME" }}`, `{{isotime "2006-01-02"}}`, `{{timestamp | clean_resource_name}}`.

use std::borrow::Cow;
use std::ops::Range;

/// One `{{ … }}` action inside a string.
#[derive(Debug, PartialEq, Eq)]
pub struct Action<'a> {
    /// The action as written, braces included: `{{user `name`}}`.
    pub text: &'a str,
    /// Where the action is in the string, in bytes.
    pub at: Range<usize>,
    /// Calls in the action: a function name and its first literal argument.
    pub calls: Vec<Call<'a>>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Call<'a> {
    pub function: &'a str,
    /// Borrowed from the string unless the literal has escapes to decode.
    pub argument: Option<Cow<'a, str>>,
}

/// A string's actions, found once for every question asked of them.
#[derive(Debug, Default)]
pub struct Scan<'a> {
    /// The actions in order. An unclosed `{{` ends the scan; a comment
    /// (`{{/* … */}}`) is an action that calls nothing.
    pub actions: Vec<Action<'a>>,
    /// Where an `{{` that nothing closes starts, if there is one: Go's
    /// template parser refuses the whole string.
    pub unclosed: Option<usize>,
}

impl<'a> Scan<'a> {
    pub fn new(text: &'a str) -> Scan<'a> {
        let mut actions = Vec::new();
        let mut rest = 0;
        while let Some(open) = find_open(text, rest) {
            if let Some(end) = comment_end(text, open) {
                actions.push(Action { text: &text[open..end], at: open..end, calls: Vec::new() });
                rest = end;
                continue;
            }
            let Some(close) = find_close(text, open + 2) else {
                return Scan { actions, unclosed: Some(open) };
            };
            let body = &text[open + 2..close];
            actions.push(Action { text: &text[open..close + 2], at: open..close + 2, calls: calls(body) });
            rest = close + 2;
        }
        Scan { actions, unclosed: None }
    }

    /// Every literal argument passed to `function`, with where its action
    /// is in the string (in bytes), so that each use of the same call gets
    /// its own place.
    pub fn calls_to<'s>(&'s self, function: &'s str) -> impl Iterator<Item = (Range<usize>, &'s str)> {
        self.actions.iter().flat_map(move |action| {
            action
                .calls
                .iter()
                .filter(move |call| call.function == function)
                .filter_map(move |call| call.argument.as_deref().map(|argument| (action.at.clone(), argument)))
        })
    }

    /// Every function an action calls, with where the action is (in bytes).
    pub fn functions(&self) -> impl Iterator<Item = (Range<usize>, &'a str)> {
        self.actions.iter().flat_map(|action| action.calls.iter().map(|call| (action.at.clone(), call.function)))
    }
}

/// The end of a comment action (`{{/* … */}}`, trim markers allowed) that
/// starts at `open`, which may hold braces.
fn comment_end(text: &str, open: usize) -> Option<usize> {
    let inner = text[open + 2..].strip_prefix("- ").unwrap_or(&text[open + 2..]);
    let body = inner.strip_prefix("/*")?;
    let body_at = text.len() - body.len();
    let close = body_at + body.find("*/")? + 2;
    let after = &text[close..];
    let tail = if after.starts_with(" -}}") {
        4
    } else if after.starts_with("}}") {
        2
    } else {
        return None;
    };
    Some(close + tail)
}

/// True when the string holds any `{{ … }}` action, that is when Packer
/// computes it rather than taking it literally.
pub fn is_templated(text: &str) -> bool {
    find_open(text, 0).is_some()
}

/// The next `{{` from `from`. Most strings have no brace at all, and a
/// search for one byte (memchr) settles that faster than a substring search.
fn find_open(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    loop {
        let brace = at + text[at..].find('{')?;
        if bytes.get(brace + 1) == Some(&b'{') {
            return Some(brace);
        }
        at = brace + 1;
    }
}

/// Finds the `}}` that closes an action, skipping over string literals.
fn find_close(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    while at < bytes.len() {
        match bytes[at] {
            b'`' => at = text[at + 1..].find('`').map(|i| at + 1 + i + 1)?,
            b'"' => at = quoted_end(bytes, at)?,
            b'}' if bytes.get(at + 1) == Some(&b'}') => return Some(at),
            _ => at += 1,
        }
    }
    None
}

fn quoted_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut at = open + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Ident(&'a str),
    Literal(Cow<'a, str>),
    Other,
}

/// The tokens of an action's body, read as they are asked for.
struct Tokens<'a> {
    body: &'a str,
    at: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let (body, bytes) = (self.body, self.body.as_bytes());
        let mut at = self.at;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let &c = bytes.get(at)?;
        let token = if c.is_ascii_alphabetic() || c == b'_' {
            let start = at;
            while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                at += 1;
            }
            Token::Ident(&body[start..at])
        } else if c == b'`' {
            let end = body[at + 1..].find('`').map_or(bytes.len(), |i| at + 1 + i);
            let literal = Token::Literal(Cow::Borrowed(&body[at + 1..end]));
            at = end + 1;
            literal
        } else if c == b'"' {
            let end = quoted_end(bytes, at).unwrap_or(bytes.len());
            let literal = Token::Literal(quoted_literal(&body[at..end]));
            at = end;
            literal
        } else if c == b'$' || c.is_ascii_digit() {
            // A template variable (`$name`) or a number (`1e3`): no call.
            at += 1;
            while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_' || bytes[at] == b'.') {
                at += 1;
            }
            Token::Other
        } else {
            // Field access (`.Name`), pipes, parentheses, trim markers, numbers.
            at += 1;
            if c == b'.' {
                while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
                    at += 1;
                }
            }
            Token::Other
        };
        self.at = at;
        Some(token)
    }
}

/// A Go string literal, quotes included, as its value: Go's escapes are
/// JSON's for what templates hold; one that does not decode stays as written.
fn quoted_literal(raw: &str) -> Cow<'_, str> {
    let inner = raw.trim_matches('"');
    if !raw.contains('\\') && raw.len() >= 2 && raw.ends_with('"') {
        return Cow::Borrowed(inner);
    }
    serde_json::from_str(raw).map_or(Cow::Borrowed(inner), Cow::Owned)
}

fn calls(body: &str) -> Vec<Call<'_>> {
    let mut tokens = Tokens { body, at: 0 }.peekable();
    let mut out = Vec::new();
    while let Some(token) = tokens.next() {
        if let Token::Ident(function) = token {
            let argument = match tokens.next_if(|next| matches!(next, Token::Literal(_))) {
                Some(Token::Literal(value)) => Some(value),
                _ => None,
            };
            out.push(Call { function, argument });
        }
    }
    out
}

/// Every literal argument passed to `function` in the string, with the text
/// of the action it appears in.
pub fn calls_to<'a>(text: &'a str, function: &str) -> Vec<(&'a str, String)> {
    calls_to_at(text, function).into_iter().map(|(at, argument)| (&text[at], argument)).collect()
}

/// Like [`calls_to`], with where each action is in the string (in bytes).
pub fn calls_to_at(text: &str, function: &str) -> Vec<(Range<usize>, String)> {
    Scan::new(text).calls_to(function).map(|(at, argument)| (at, argument.to_owned())).collect()
}

/// The variable when the whole string is one `{{user `name`}}`, so that
/// it takes the variable's value as it is.
pub fn sole_user_variable(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let [action] = Scan::new(trimmed).actions.try_into().ok()?;
    if action.text.len() != trimmed.len() {
        return None;
    }
    match action.calls.as_slice() {
        [Call { function: "user", argument: Some(name) }] => Some(name.to_string()),
        _ => None,
    }
}

/// Go's template whitespace, which trim markers take away.
const TRIMMED: &[char] = &[' ', '\t', '\r', '\n'];

/// An action simple enough to be computed here: a comment, which makes
/// nothing, or a single call of a function with at most one literal
/// argument (`{{user `name`}}`, `{{ env "X" }}`, `{{build_name}}`).
struct Simple<'a> {
    /// The function and its argument; `None` for a comment.
    call: Option<(&'a str, Option<Cow<'a, str>>)>,
    /// `{{- `: the whitespace before the action goes.
    trim_before: bool,
    /// ` -}}`: the whitespace after it goes.
    trim_after: bool,
}

/// The action as a [`Simple`] one; `None` for anything else: a pipe, a
/// second call, a variable, a parenthesis, a conditional.
fn simple<'a>(action: &Action<'a>) -> Option<Simple<'a>> {
    let body = &action.text[2..action.text.len() - 2];
    let trim_before = body.starts_with('-') && body[1..].starts_with(TRIMMED);
    let trim_after = body.ends_with('-') && body[..body.len() - 1].ends_with(TRIMMED);
    let body = body.get(usize::from(trim_before)..body.len() - usize::from(trim_after))?.trim_matches(TRIMMED);
    if body.starts_with("/*") {
        return Some(Simple { call: None, trim_before, trim_after });
    }
    let mut tokens: Vec<Token<'a>> = Tokens { body, at: 0 }.collect();
    let call = match (tokens.pop(), tokens.pop(), tokens.pop()) {
        (Some(Token::Ident(function)), None, None) => (function, None),
        (Some(Token::Literal(argument)), Some(Token::Ident(function)), None) => (function, Some(argument)),
        _ => return None,
    };
    Some(Simple { call: Some(call), trim_before, trim_after })
}

/// The text as Packer renders it, as far as that is known here: each
/// comment taken out and each single call ([`simple`]) replaced by what
/// `value` returns for its function and argument, trim markers applied as
/// Go applies them. An action `value` declines (`None`), or that is not
/// that simple, stays as written, so the result is still templated
/// ([`is_templated`]) wherever only Packer can tell what it makes: a pipe
/// (`{{user `r` | lower}}`) or `{{or (user `r`) "eu-west-1"}}` is never
/// taken for the variable alone.
pub fn render(text: &str, mut value: impl FnMut(&str, Option<&str>) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    let mut trim_next = false;
    for action in Scan::new(text).actions {
        let before = &text[from..action.at.start];
        let before = if trim_next { before.trim_start_matches(TRIMMED) } else { before };
        let rendered = simple(&action).and_then(|simple| {
            let made = match &simple.call {
                None => String::new(),
                Some((function, argument)) => value(function, argument.as_deref())?,
            };
            Some((made, simple.trim_before, simple.trim_after))
        });
        match rendered {
            Some((made, trim_before, trim_after)) => {
                out.push_str(if trim_before { before.trim_end_matches(TRIMMED) } else { before });
                out.push_str(&made);
                trim_next = trim_after;
            }
            None => {
                out.push_str(before);
                out.push_str(action.text);
                trim_next = false;
            }
        }
        from = action.at.end;
    }
    let rest = &text[from..];
    out.push_str(if trim_next { rest.trim_start_matches(TRIMMED) } else { rest });
    out
}

/// Functions that make each build's value differ: a name that calls one is unique.
pub const UNIQUE: &[&str] = &["timestamp", "isotime", "uuid"];

/// True when the string calls any of the functions.
pub fn calls_any(text: &str, functions: &[&str]) -> bool {
    Scan::new(text).actions.iter().any(|action| action.calls.iter().any(|call| functions.contains(&call.function)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_env_calls() {
        let text = "a-{{user `name`}}-{{ env \"HOME\" }}-{{timestamp | clean_resource_name}}";
        assert_eq!(calls_to(text, "user"), vec![("{{user `name`}}", "name".to_owned())]);
        assert_eq!(calls_to(text, "env"), vec![("{{ env \"HOME\" }}", "HOME".to_owned())]);
        assert!(calls_any(text, &["timestamp"]));
        assert!(!calls_any(text, &["uuid"]));
        let twice = "{{user `a`}}-{{user `a`}}";
        assert_eq!(calls_to_at(twice, "user"), vec![(0..12, "a".to_owned()), (13..25, "a".to_owned())]);
    }

    #[test]
    fn braces_inside_literals_do_not_close_the_action() {
        let text = "{{user `a}}b`}} tail";
        assert_eq!(calls_to(text, "user"), vec![("{{user `a}}b`}}", "a}}b".to_owned())]);
    }

    #[test]
    fn sole_user_variables() {
        assert_eq!(sole_user_variable(" {{ user `pw` }} "), Some("pw".to_owned()));
        assert_eq!(sole_user_variable("x{{user `pw`}}"), None);
        assert_eq!(sole_user_variable("{{user `pw` | upper}}"), None);
    }

    #[test]
    fn comments_call_nothing_and_may_hold_braces() {
        let text = "a{{/* {{user `x`}} */}}b{{- /* note */ -}}{{user `y`}}";
        assert_eq!(calls_to(text, "user"), vec![("{{user `y`}}", "y".to_owned())]);
        assert_eq!(Scan::new(text).unclosed, None);
    }

    #[test]
    fn variables_and_numbers_are_not_functions() {
        let scan = Scan::new("{{ $x := 1e3 }}{{ printf \"%d\" $x | upper }}");
        let names: Vec<&str> = scan.functions().map(|(_, f)| f).collect();
        assert_eq!(names, vec!["printf", "upper"]);
    }

    #[test]
    fn only_single_calls_are_rendered() {
        let user = |function: &str, argument: Option<&str>| match (function, argument) {
            ("user", Some("r")) => Some("eu-west-1".to_owned()),
            ("user", Some("empty")) => Some(String::new()),
            ("build_name", None) => Some("b0".to_owned()),
            _ => None,
        };
        assert_eq!(render("{{user `r`}}", user), "eu-west-1");
        assert_eq!(render("{{ user \"r\" }}-{{build_name}}", user), "eu-west-1-b0");
        // Whatever else an action does, only Packer knows what it makes.
        for kept in [
            "{{user `r` | lower}}",
            "{{ or (user `empty`) \"us-east-1\" }}",
            "{{ split (user `r`) \",\" 0 }}",
            "{{ (user `r`) }}",
            "{{ $x := user `r` }}",
            "{{user `other`}}",
            "{{timestamp}}",
        ] {
            assert_eq!(render(kept, user), kept);
            assert!(is_templated(&render(kept, user)), "{kept}");
        }
        assert_eq!(render("{{if true}}{{user `r`}}{{end}}", user), "{{if true}}eu-west-1{{end}}");
    }

    #[test]
    fn comments_and_trim_markers_render_as_go_renders_them() {
        let user = |_: &str, _: Option<&str>| Some("eu-west-1".to_owned());
        assert_eq!(render("  {{- user `r` -}}  \n", user), "eu-west-1");
        assert_eq!(render("  {{user `r` -}}  ", user), "  eu-west-1");
        assert_eq!(render("{{/* a comment */}}us-east-1", user), "us-east-1");
        assert_eq!(render("us-east-1 {{- /* a comment */ -}} ", user), "us-east-1");
        // `{{-3}}` is the number -3, not a trim marker; it stays.
        assert_eq!(render(" {{-3}} ", user), " {{-3}} ");
        // A marker beside an action that stays trims nothing.
        assert_eq!(render(" {{- user `r` | lower}} ", user), " {{- user `r` | lower}} ");
    }

    #[test]
    fn unclosed_actions_and_fields() {
        assert_eq!(Scan::new("ok {{user `x`}} then {{user `y`").unclosed, Some(21));
        assert!(Scan::new("{{user `x`").actions.is_empty());
        let found = Scan::new("{{ .Name }}{{isotime \"2006\"}}").actions;
        assert_eq!(found.len(), 2);
        assert_eq!(found[1].calls[0].function, "isotime");
    }
}
