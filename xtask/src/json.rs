//! How xtask writes JSON: every document it defines (the lock, a CI leg's
//! result, each command's `--format json`, the SARIF log) is built with
//! [`json_object!`] and written with [`pretty`] or [`compact`].
//!
//! ```ignore
//! json_object! {
//!     "version": 1,
//!     "template": job.file.rel,               // anything that is ToJson
//!     "error": outcome.error,                 // an Option: None is null
//!     "manifest"?: image.manifest,            // an Option: None leaves the key out
//!     "region": json_object! { "id": id },    // objects nest
//!     "feeds": json::array(feeds.iter().map(|feed| json_object! { "path": feed.path })),
//! }
//! ```
//!
//! An object's keys come out in the order they are written, and each
//! document keeps the order its readers have seen: the documents that
//! were once written with `serde_json::json!` (status, `--plan`,
//! `--dry-run`, a leg's result, SARIF), whose objects sorted their keys,
//! write theirs in alphabetical order. A type that documents share, or
//! whose shape is public (the lock's entries), implements [`ToJson`] with
//! the macro as its body, and then nests like any value. A new document
//! starts with its `version` and gets a snapshot of its bytes beside the
//! others (`tests/snapshots/*json-*`); a change that could break a reader
//! of an existing one bumps its `version`.
//!
//! Why this and not the alternatives: serde's derive costs every user 12 s
//! of a cold build; `serde_json::json!` sorts the keys of every object
//! (its `preserve_order` feature would also change the order in which
//! xtask walks every template it reads, and so its findings' order); a
//! hand-written `Serialize` is ten lines per type for what is a
//! list of fields. The one `Serialize` left is [`Json`]'s, so that
//! serde_json still does the escaping and the layout.
//!
//! JSON that xtask reads stays `serde_json::Value` (a file it records from,
//! the lock included, read with [`read_without_duplicate_keys`]), and so
//! does JSON that only passes through it (a template the demo edits, the
//! values handed to Packer in a var file): its shape is its author's, not
//! ours.

use std::collections::BTreeMap;

use serde::ser::{Serialize, Serializer};

/// A JSON value whose objects keep their keys in the order they were
/// built in.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// A value that has a JSON form.
pub trait ToJson {
    fn to_json(&self) -> Json;
}

/// A JSON object, its fields in the order written: `"key": value` for
/// any [`ToJson`] value, `"key"?: option` for a field left out when the
/// option is `None`. A key is a string literal or a constant.
macro_rules! json_object {
    // Each field becomes an `Option` of itself, collected at the end: a
    // `?` field that is `None` is left out.
    (@fields [$($done:expr,)*]) => {
        $crate::json::Json::Object([$($done),*].into_iter().flatten().collect())
    };
    (@fields [$($done:expr,)*] $key:tt ?: $value:expr $(, $($rest:tt)*)?) => {
        $crate::json::json_object!(@fields [$($done,)* (&$value).as_ref().map(|value| {
            (String::from($key), $crate::json::ToJson::to_json(value))
        }),] $($($rest)*)?)
    };
    (@fields [$($done:expr,)*] $key:tt : $value:expr $(, $($rest:tt)*)?) => {
        $crate::json::json_object!(@fields [$($done,)* Some((
            String::from($key), $crate::json::ToJson::to_json(&$value)
        )),] $($($rest)*)?)
    };
    () => {
        $crate::json::Json::Object(Vec::new())
    };
    ($($fields:tt)+) => {
        $crate::json::json_object!(@fields [] $($fields)+)
    };
}
pub(crate) use json_object;

/// The document as people read it: indented by two spaces, one value a
/// line, no final newline (files and outputs add their own).
pub fn pretty(document: &Json) -> String {
    serde_json::to_string_pretty(document).expect("a Json value has string keys only")
}

/// The document on one line, as `$GITHUB_OUTPUT` takes it.
pub fn compact(document: &Json) -> String {
    serde_json::to_string(document).expect("a Json value has string keys only")
}

/// An array of the items, for a list made on the spot (`.iter().map(…)`).
pub fn array<T: ToJson>(items: impl IntoIterator<Item = T>) -> Json {
    Json::Array(items.into_iter().map(|item| item.to_json()).collect())
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(value) => serializer.serialize_bool(*value),
            Json::Number(number) => number.serialize(serializer),
            Json::String(text) => serializer.serialize_str(text),
            Json::Array(items) => serializer.collect_seq(items),
            Json::Object(fields) => serializer.collect_map(fields.iter().map(|(key, value)| (key, value))),
        }
    }
}

impl ToJson for Json {
    fn to_json(&self) -> Json {
        self.clone()
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn to_json(&self) -> Json {
        (**self).to_json()
    }
}

impl ToJson for str {
    fn to_json(&self) -> Json {
        Json::String(self.to_owned())
    }
}

impl ToJson for String {
    fn to_json(&self) -> Json {
        Json::String(self.clone())
    }
}

impl ToJson for bool {
    fn to_json(&self) -> Json {
        Json::Bool(*self)
    }
}

macro_rules! numbers {
    ($($number:ty),*) => {
        $(impl ToJson for $number {
            fn to_json(&self) -> Json {
                Json::Number(serde_json::Number::from(*self))
            }
        })*
    };
}
// i32 for the literals (`"version": 1`) that default to it.
numbers!(i32, u32, u64, usize, i64);

/// `None` is `null`; to leave the key out, write `"key"?: option`.
impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> Json {
        self.as_ref().map_or(Json::Null, ToJson::to_json)
    }
}

impl<T: ToJson> ToJson for [T] {
    fn to_json(&self) -> Json {
        Json::Array(self.iter().map(ToJson::to_json).collect())
    }
}

impl<T: ToJson, const N: usize> ToJson for [T; N] {
    fn to_json(&self) -> Json {
        self.as_slice().to_json()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> Json {
        self.as_slice().to_json()
    }
}

/// An object with the map's keys, in the map's order.
impl<K: AsRef<str>, V: ToJson> ToJson for BTreeMap<K, V> {
    fn to_json(&self) -> Json {
        Json::Object(self.iter().map(|(key, value)| (key.as_ref().to_owned(), value.to_json())).collect())
    }
}

/// Reads JSON that others write for this tool to record (the lock, a CI
/// leg's result, a Packer manifest), refusing an object with a key twice:
/// serde_json keeps the last of two, and which one a person reading the
/// file takes for the value is a guess.
pub fn read_without_duplicate_keys(bytes: &[u8]) -> serde_json::Result<serde_json::Value> {
    serde_json::from_slice::<NoDuplicateKeys>(bytes)?;
    serde_json::from_slice(bytes)
}

/// Reads any JSON, refusing an object that has a key twice.
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("JSON")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("the key `{key}` appears twice in one object")));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "from a constant";

    #[test]
    fn fields_keep_their_order_and_options_their_meaning() {
        let absent: Option<&str> = None;
        let document = json_object! {
            "z": 1u32,
            "a": "text \"quoted\"\n",
            "null": absent,
            "left out"?: absent,
            "kept"?: Some(true),
            KEY: [json_object! {}, json_object! { "m": BTreeMap::from([("b", 2usize), ("a", 1)]) }],
            "empty": Vec::<String>::new(),
        };
        assert_eq!(
            pretty(&document),
            "{\n  \"z\": 1,\n  \"a\": \"text \\\"quoted\\\"\\n\",\n  \"null\": null,\n  \"kept\": true,\n  \
             \"from a constant\": [\n    {},\n    {\n      \"m\": {\n        \"a\": 1,\n        \"b\": 2\n      }\n    \
             }\n  ],\n  \"empty\": []\n}"
        );
        assert_eq!(compact(&json_object! { "b": [1i64, -2], "a": false }), r#"{"b":[1,-2],"a":false}"#);
    }
}
