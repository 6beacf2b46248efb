//! Text that comes from files someone else wrote (results of CI legs,
//! Packer manifests, the lock, deployments) and ends up in the lock or on a
//! terminal. A control character there can forge a line of output (a
//! newline), clear or retitle the terminal (`ESC [2J`), or reorder what is
//! shown (Unicode's bidirectional overrides): such text is refused before
//! it is recorded, and escaped wherever it is printed. So can Unicode's
//! line and paragraph separators, which end a line wherever Unicode's line
//! breaking is followed (editors, browsers, a pull request's page).

use std::borrow::Cow;
use std::fmt::Write as _;

/// A character that changes what a terminal shows rather than showing
/// itself: C0 and C1 controls and DEL, the line and paragraph separators,
/// and the bidirectional marks and overrides (Unicode's Bidi_Control).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Why `text` cannot be recorded or shown as it is: the first character
/// that is not plain text, by its code point.
pub fn check(text: &str) -> Result<(), String> {
    match text.chars().find(|c| is_unsafe(*c)) {
        None => Ok(()),
        Some(c) => Err(format!("holds the control character U+{:04X}", u32::from(c))),
    }
}

/// `text` with every unsafe character written as an escape (`\n`, `\u{1b}`),
/// and the rest as it is.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A report of many lines for a terminal, with every unsafe character
/// escaped as [`escape`] does but its line breaks kept: what a report
/// quotes from files (a deployment's name, a line of its diff) cannot
/// reach the terminal as a control, whichever part of the report missed
/// escaping it.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    // A CRLF file's diff ends its lines in `\r\n`, which moves nothing.
    let line_end = |text: &str, at: usize| text[at..].starts_with("\r\n");
    if !text.char_indices().any(|(at, c)| is_unsafe(c) && c != '\n' && !line_end(text, at)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| match line.strip_suffix('\r') {
            Some(kept) => format!("{}\r", escape(kept)),
            None => escape(line).into_owned(),
        })
        .collect();
    Cow::Owned(lines.join("\n"))
}

/// A JSON document as serde_json writes it, with the controls it leaves
/// as they are (DEL, C1, the bidirectional ones) written as `\uXXXX`
/// escapes too: a person reading it on a terminal sees them, and it is the
/// same JSON. They can only be inside strings, where the escape means the
/// same character.
pub fn escape_json(document: &str) -> Cow<'_, str> {
    if !document.chars().any(is_unsafe) {
        return Cow::Borrowed(document);
    }
    let mut out = String::with_capacity(document.len() + 16);
    for c in document.chars() {
        if is_unsafe(c) && !matches!(c, '\n' | '\t' | '\r') {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_refused_and_escaped() {
        assert_eq!(check("flavor"), Ok(()));
        assert_eq!(check("a\nb").unwrap_err(), "holds the control character U+000A");
        assert_eq!(check("x\u{1b}[2J").unwrap_err(), "holds the control character U+001B");
        assert!(check("\u{202e}gpj.exe").is_err());
        assert!(check("\u{9b}2J").is_err(), "C1 CSI");
        // The Arabic letter mark is a bidirectional mark like U+200E; the
        // line and paragraph separators end a line wherever Unicode's line
        // breaking is followed (editors, browsers, GitHub's pages).
        for c in ['\u{61c}', '\u{2028}', '\u{2029}'] {
            assert!(check(&format!("eu-west-1{c}")).is_err(), "U+{:04X}", u32::from(c));
        }
        assert_eq!(escape("a\u{2028}b"), "a\\u{2028}b");
        assert_eq!(escape("plain · text"), "plain · text");
        assert_eq!(escape("a\nb\u{1b}[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(escape("\u{202e}x"), "\\u{202e}x");
    }

    #[test]
    fn a_report_keeps_its_lines_and_loses_its_controls() {
        assert_eq!(escape_lines("a\nb\n"), "a\nb\n");
        assert_eq!(escape_lines("a\r\nb\r\n"), "a\r\nb\r\n", "a CRLF file's lines");
        assert_eq!(
            escape_lines("deployments/\u{1b}[31mx.yaml\rforged\n+  id: a\u{202e}\n"),
            "deployments/\\u{1b}[31mx.yaml\\rforged\n+  id: a\\u{202e}\n"
        );
    }

    #[test]
    fn json_keeps_its_meaning() {
        let document =
            serde_json::to_string_pretty(&serde_json::json!({"k": "a\u{7f}b\u{9b}c\u{1b}d\u{202e}"})).unwrap();
        let escaped = escape_json(&document);
        assert!(!escaped.chars().any(|c| is_unsafe(c) && c != '\n'), "{escaped}");
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back["k"], "a\u{7f}b\u{9b}c\u{1b}d\u{202e}");
    }
}
