//! `[channels]` of `xtask.toml` and which channel a deployment is in.
//!
//! ```toml
//! [channels]
//! order = ["canary", "stable"]   # the first gets new images; each later one is promoted into
//! [channels.stable]
//! soak = "48h"                   # how long an image must have run in the channel before
//! ```
//!
//! A deployment joins a channel with a top-level `channel: canary`; one
//! without belongs to the last channel, which new images reach only by
//! promotion.

use std::collections::BTreeMap;

use toml::de::{DeTable, DeValue};

use crate::clock;
use crate::deployments::Deployment;
use crate::location::Route;
use crate::yaml::{Kind, Style};

/// The channels, in the order images go through them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    order: Vec<String>,
    /// Seconds an image must have run in the channel before, by channel;
    /// as written, for messages.
    soak: BTreeMap<String, (u64, String)>,
}

/// Which channel a deployment is in, or why it is in none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership<'a> {
    In(&'a str),
    /// `channel:` names no configured channel, or is not a name.
    Unknown(String),
}

impl Channels {
    /// The first channel: builds write their images into it.
    pub fn first(&self) -> &str {
        &self.order[0]
    }

    /// The last channel: deployments without `channel:` are in it.
    pub fn last(&self) -> &str {
        &self.order[self.order.len() - 1]
    }

    pub fn names(&self) -> &[String] {
        &self.order
    }

    pub fn contains(&self, name: &str) -> bool {
        self.order.iter().any(|channel| channel == name)
    }

    /// The channel images are promoted from into `name`; none for the
    /// first channel or a name that is not a channel.
    pub fn before(&self, name: &str) -> Option<&str> {
        let at = self.order.iter().position(|channel| channel == name)?;
        at.checked_sub(1).map(|before| self.order[before].as_str())
    }

    /// How long an image must have run in the channel before `name`, in
    /// seconds, and as `xtask.toml` says it; none when no soak is set.
    pub fn soak(&self, name: &str) -> Option<(u64, &str)> {
        self.soak.get(name).map(|(seconds, text)| (*seconds, text.as_str()))
    }

    /// The list for messages: `canary, stable`.
    pub fn listed(&self) -> String {
        self.order.join(", ")
    }

    /// The channel a deployment is in: its `channel:`, or the last one.
    pub fn of<'a>(&'a self, deployment: &Deployment) -> Membership<'a> {
        match declared(deployment) {
            Declared::Absent => Membership::In(self.last()),
            Declared::Name(name) => match self.order.iter().find(|channel| **channel == name) {
                Some(channel) => Membership::In(channel),
                None => Membership::Unknown(format!(
                    "its channel `{}` is not one of xtask.toml's [channels] order ({})",
                    crate::printable::escape(&name),
                    self.listed()
                )),
            },
            Declared::NotAName(why) => Membership::Unknown(why),
        }
    }
}

impl Channels {
    /// Why `images` leaves a deployment alone: it is in a later channel,
    /// or in none; nothing for a deployment of the first channel.
    pub fn not_given_new_images(&self, deployment: &Deployment) -> Option<String> {
        match self.of(deployment) {
            Membership::In(channel) if channel == self.first() => None,
            Membership::In(channel) => Some(format!(
                "it is in the channel `{channel}`, which new images reach by `cargo xtask promote --to {channel}` \
                 from a deployment of `{}` in its region (builds go to `{}`)",
                self.before(channel).unwrap_or(self.first()),
                self.first()
            )),
            Membership::Unknown(why) => Some(format!("{why}, so it is in no channel and gets no image")),
        }
    }
}

/// What a deployment's top-level `channel` says, whatever is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declared {
    Absent,
    Name(String),
    /// Not a string YAML reads as one name: a list, a number, `null`.
    NotAName(String),
}

/// The route of a deployment's channel: `channel`.
pub fn route() -> Route {
    Route::root().key("channel")
}

pub fn declared(deployment: &Deployment) -> Declared {
    let Some(node) = deployment.root.lookup(&route()) else {
        return Declared::Absent;
    };
    if node.tagged {
        // `!!null canary` reads as no name to every YAML reader that
        // resolves tags, and the second reader refuses to patch such a
        // file; the name alone means the same to all of them.
        return Declared::NotAName("its `channel` carries a tag (`!…`); write the channel's name alone".to_owned());
    }
    match &node.kind {
        Kind::Scalar { value, style } => {
            let reads_as_other = *style == Style::Plain
                && (["", "~", "null", "Null", "NULL", "true", "false", "True", "False", "TRUE", "FALSE"]
                    .contains(&value.as_str())
                    || crate::deployments::looks_like_a_number(value));
            if reads_as_other {
                Declared::NotAName(format!("its `channel: {value}` is not read by YAML as a name"))
            } else {
                Declared::Name(value.clone())
            }
        }
        _ => Declared::NotAName("its `channel` is not one name (a list or a mapping)".to_owned()),
    }
}

/// Reads `[channels]` (whose name is at `table_at`): `order` and a table
/// per channel with its `soak`. An error is the byte offset and what is
/// wrong, as the rest of the configuration reports it.
pub fn parse(entries: &DeTable, table_at: usize) -> Result<Channels, (usize, String)> {
    let mut order: Option<Vec<String>> = None;
    let mut tables = Vec::new();
    for (key, value) in entries {
        match (key.get_ref().as_ref(), value.get_ref()) {
            ("order", DeValue::Array(names)) => {
                let mut read = Vec::new();
                for name in names {
                    let DeValue::String(text) = name.get_ref() else {
                        return Err((name.span().start, "a channel is named by a string".to_owned()));
                    };
                    if let Err(why) = check_name(text) {
                        return Err((name.span().start, why));
                    }
                    if read.iter().any(|seen| seen == text) {
                        return Err((name.span().start, format!("`{text}` is in `order` twice")));
                    }
                    read.push(text.to_string());
                }
                if read.is_empty() {
                    return Err((value.span().start, "`order` names no channel".to_owned()));
                }
                order = Some(read);
            }
            ("order", _) => {
                return Err((
                    value.span().start,
                    "`order` is a list of channel names: [\"canary\", \"stable\"]".into(),
                ));
            }
            (_, DeValue::Table(table)) => tables.push((key, table)),
            (other, _) => {
                let message = format!(
                    "unknown key `{other}` in [channels]; it takes `order` and a table per channel ([channels.{other}] \
                     with `soak`)"
                );
                return Err((key.span().start, message));
            }
        }
    }
    let Some(order) = order else {
        return Err((table_at, "[channels] has no `order`: write order = [\"canary\", \"stable\"]".to_owned()));
    };
    let mut soak = BTreeMap::new();
    for (name, table) in tables {
        let name_text = name.get_ref().to_string();
        let Some(position) = order.iter().position(|channel| *channel == name_text) else {
            let message = format!("[channels.{name_text}]: `{name_text}` is not in `order` ({})", order.join(", "));
            return Err((name.span().start, message));
        };
        for (key, value) in table {
            match (key.get_ref().as_ref(), value.get_ref()) {
                ("soak", DeValue::String(text)) => {
                    let Some(seconds) = clock::parse_duration(text) else {
                        return Err((
                            value.span().start,
                            format!("`{text}` is not a duration: write it as 48h, 2d, 90m or 1d12h"),
                        ));
                    };
                    if position == 0 {
                        return Err((
                            key.span().start,
                            format!(
                                "`{name_text}` is the first channel: builds write their images into it, so nothing \
                                 soaks before it; set `soak` on a later channel"
                            ),
                        ));
                    }
                    soak.insert(name_text.clone(), (seconds, text.to_string()));
                }
                ("soak", _) => {
                    return Err((value.span().start, "`soak` is a duration as a string: \"48h\"".to_owned()));
                }
                (other, _) => {
                    let message = format!("unknown key `{other}` in [channels.{name_text}]; it takes `soak`");
                    return Err((key.span().start, message));
                }
            }
        }
    }
    Ok(Channels { order, soak })
}

/// A channel's name: lower-case letters, digits and dashes, from a letter,
/// and not a word YAML reads as something else when written unquoted.
fn check_name(name: &str) -> Result<(), String> {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.len() <= 40;
    if !plain {
        return Err(format!(
            "`{}` is not a channel name: lower-case letters, digits and dashes, from a letter, at most 40",
            crate::printable::escape(name)
        ));
    }
    if ["null", "true", "false", "yes", "no", "on", "off", "y", "n"].contains(&name) {
        return Err(format!("`{name}` reads as no name in YAML (`channel: {name}`); choose another"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parsed(text: &str) -> Result<Channels, String> {
        let table = DeTable::parse(text).unwrap();
        let DeValue::Table(entries) = table.get_ref()["channels"].get_ref() else { panic!("no [channels]") };
        parse(entries, 0).map_err(|(at, message)| {
            let (line, _) = crate::location::LineIndex::new(text).line_column(at);
            format!("{line}: {message}")
        })
    }

    fn deployment(text: &str) -> Deployment {
        Deployment::parse(Path::new("/r"), Path::new("/r/deployments/d.yaml"), text.to_owned()).unwrap()
    }

    #[test]
    fn order_and_soak() {
        let channels =
            parsed("[channels]\norder = [\"canary\", \"early\", \"stable\"]\n[channels.stable]\nsoak = \"48h\"\n")
                .unwrap();
        assert_eq!((channels.first(), channels.last()), ("canary", "stable"));
        assert_eq!(channels.before("stable"), Some("early"));
        assert_eq!(channels.before("canary"), None);
        assert_eq!(channels.soak("stable"), Some((48 * 3600, "48h")));
        assert_eq!(channels.soak("early"), None);
    }

    #[test]
    fn mistakes_name_their_line() {
        for (text, said) in [
            ("[channels]\norder = []\n", "2: `order` names no channel"),
            ("[channels]\norder = [\"a\", \"a\"]\n", "2: `a` is in `order` twice"),
            ("[channels]\norder = [\"Canary\"]\n", "2: `Canary` is not a channel name"),
            ("[channels]\norder = [\"no\"]\n", "2: `no` reads as no name in YAML"),
            ("[channels]\norder = \"canary\"\n", "2: `order` is a list"),
            ("[channels]\norder = [\"a\"]\nsoak = \"1h\"\n", "3: unknown key `soak` in [channels]"),
            ("[channels]\norder = [\"a\", \"b\"]\n[channels.c]\nsoak = \"1h\"\n", "3: [channels.c]: `c` is not in"),
            ("[channels]\norder = [\"a\", \"b\"]\n[channels.a]\nsoak = \"1h\"\n", "4: `a` is the first channel"),
            ("[channels]\norder = [\"a\", \"b\"]\n[channels.b]\nsoak = \"2 days\"\n", "4: `2 days` is not a duration"),
            ("[channels]\norder = [\"a\", \"b\"]\n[channels.b]\nsoak = 48\n", "4: `soak` is a duration as a string"),
            ("[channels]\norder = [\"a\", \"b\"]\n[channels.b]\nwait = \"1h\"\n", "4: unknown key `wait`"),
            ("[channels.b]\nsoak = \"1h\"\n", "1: [channels] has no `order`"),
        ] {
            let error = parsed(text).unwrap_err();
            assert!(error.starts_with(said), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_deployment_without_a_channel_is_in_the_last() {
        let channels = parsed("[channels]\norder = [\"canary\", \"stable\"]\n").unwrap();
        let of = |text: &str| channels.of(&deployment(text));
        assert_eq!(of("release: '3.11'\n"), Membership::In("stable"));
        assert_eq!(of("channel: canary # first\n"), Membership::In("canary"));
        assert_eq!(of("channel: 'canary'\n"), Membership::In("canary"));
        for text in ["channel: beta\n", "channel: [canary, stable]\n", "channel: ~\n", "channel: 1\n", "channel:\n"] {
            assert!(matches!(of(text), Membership::Unknown(_)), "{text}");
        }
        for (text, said) in
            [("channel: !!null canary\n", "carries a tag"), ("channel: !!str canary\n", "carries a tag")]
        {
            assert!(matches!(of(text), Membership::Unknown(why) if why.contains(said)), "{text}");
        }
        assert_eq!(of("name: &c canary\nchannel: *c\n"), Membership::In("canary"), "an alias reads as its value");
        let common = "base: &base\n  channel: canary\nother:\n  <<: *base\n";
        assert_eq!(of(common), Membership::In("stable"), "only a top-level channel counts");
    }
}
