//! Read-only field access on a parsed record, so rules run on whatever value type the
//! caller parsed into (`serde_json::Value`, `simd_json::BorrowedValue`) without conversion.
//!
//! Owns: the [`Document`] trait, its two implementations, path traversal (including the
//! "any element" rule for arrays), the text form of scalars and the compact JSON text of
//! objects. Must not: know about rules, modifiers or case folding.

use std::borrow::Cow;

/// A JSON number as parsed, kept apart from its text until a rule asks for the text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    I64(i64),
    U64(u64),
    F64(f64),
}

impl Number {
    /// The number as JSON text. Floats use serde_json's formatting so that both
    /// document types produce the same text for the same number.
    pub fn text(self) -> String {
        match self {
            Number::I64(n) => n.to_string(),
            Number::U64(n) => n.to_string(),
            Number::F64(f) => match serde_json::Number::from_f64(f) {
                Some(n) => n.to_string(),
                None => f.to_string(),
            },
        }
    }
}

/// What a field path leads to in one record.
#[derive(Debug)]
pub enum FieldRef<'a, D: ?Sized> {
    Absent,
    Null,
    Bool(bool),
    Number(Number),
    String(&'a str),
    Object(&'a D),
    Array(Vec<&'a D>),
}

/// Field access on a parsed JSON record. Implementations only classify a node and look up
/// object members; traversal and matching live in this module and the evaluator.
pub trait Document {
    /// Classifies this node. Never returns `Absent`.
    fn node(&self) -> FieldRef<'_, Self>;

    /// The member `key` of this node when it is an object, else `None`.
    fn member(&self, key: &str) -> Option<&Self>;

    /// Calls `visit` for every member of an object, in the document's own order.
    fn for_each_member(&self, visit: &mut dyn FnMut(&str, &Self));

    /// Follows `path` through objects only: an array met before the end of the path gives
    /// `Absent`. Rules use [`visit_values`], which also walks through arrays.
    fn field(&self, path: &[&str]) -> FieldRef<'_, Self> {
        let mut current = self;
        for key in path {
            match current.member(key) {
                Some(next) => current = next,
                None => return FieldRef::Absent,
            }
        }
        current.node()
    }
}

/// Calls `visit` on every value that `path` reaches, walking through arrays: at an array
/// the rest of the path is applied to each element, and an array at the end of the path
/// yields its elements (nested arrays are flattened). Stops at the first `true` and
/// returns whether any call returned `true`. An empty array yields nothing, like absence.
pub fn visit_values<D: Document + ?Sized, S: AsRef<str>>(
    doc: &D,
    path: &[S],
    visit: &mut dyn FnMut(&FieldRef<'_, D>) -> bool,
) -> bool {
    match doc.node() {
        FieldRef::Array(items) => items
            .into_iter()
            .any(|item| visit_values(item, path, visit)),
        node => match path.split_first() {
            None => visit(&node),
            Some((key, rest)) => match doc.member(key.as_ref()) {
                Some(child) => visit_values(child, rest, visit),
                None => false,
            },
        },
    }
}

/// The text a string comparison sees for a value: strings as logged, booleans as
/// `true`/`false`, numbers as JSON text, objects as compact JSON. `None` for null/absent.
pub fn value_text<'a, D: Document + ?Sized>(value: &FieldRef<'a, D>) -> Option<Cow<'a, str>> {
    match value {
        FieldRef::Absent | FieldRef::Null => None,
        FieldRef::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        FieldRef::Number(n) => Some(Cow::Owned(n.text())),
        FieldRef::String(s) => Some(Cow::Borrowed(s)),
        FieldRef::Object(o) => Some(Cow::Owned(compact_json(*o))),
        FieldRef::Array(items) => {
            let mut out = String::from("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(*item, &mut out);
            }
            out.push(']');
            Some(Cow::Owned(out))
        }
    }
}

/// Compact JSON text (no spaces, members in document order), written the same way for
/// every document type so that `contains` on an object behaves identically.
pub fn compact_json<D: Document + ?Sized>(doc: &D) -> String {
    let mut out = String::new();
    write_json(doc, &mut out);
    out
}

fn write_json<D: Document + ?Sized>(doc: &D, out: &mut String) {
    match doc.node() {
        FieldRef::Absent | FieldRef::Null => out.push_str("null"),
        FieldRef::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        FieldRef::Number(n) => out.push_str(&n.text()),
        FieldRef::String(s) => write_json_string(s, out),
        FieldRef::Array(items) => {
            out.push('[');
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        FieldRef::Object(o) => {
            out.push('{');
            let mut first = true;
            o.for_each_member(&mut |key, value| {
                if !first {
                    out.push(',');
                }
                first = false;
                write_json_string(key, out);
                out.push(':');
                write_json(value, out);
            });
            out.push('}');
        }
    }
}

/// JSON string escaping as serde_json and Python's `json.dumps(ensure_ascii=False)` do it.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl Document for serde_json::Value {
    fn node(&self) -> FieldRef<'_, Self> {
        use serde_json::Value;
        match self {
            Value::Null => FieldRef::Null,
            Value::Bool(b) => FieldRef::Bool(*b),
            Value::Number(n) => FieldRef::Number(serde_number(n)),
            Value::String(s) => FieldRef::String(s),
            Value::Array(items) => FieldRef::Array(items.iter().collect()),
            Value::Object(_) => FieldRef::Object(self),
        }
    }

    fn member(&self, key: &str) -> Option<&Self> {
        self.as_object()?.get(key)
    }

    fn for_each_member(&self, visit: &mut dyn FnMut(&str, &Self)) {
        if let Some(map) = self.as_object() {
            for (key, value) in map {
                visit(key, value);
            }
        }
    }
}

fn serde_number(n: &serde_json::Number) -> Number {
    if let Some(i) = n.as_i64() {
        Number::I64(i)
    } else if let Some(u) = n.as_u64() {
        Number::U64(u)
    } else {
        Number::F64(n.as_f64().unwrap_or(f64::NAN))
    }
}

impl Document for simd_json::BorrowedValue<'_> {
    fn node(&self) -> FieldRef<'_, Self> {
        use simd_json::{BorrowedValue as V, StaticNode};
        match self {
            V::Static(StaticNode::Null) => FieldRef::Null,
            V::Static(StaticNode::Bool(b)) => FieldRef::Bool(*b),
            V::Static(StaticNode::I64(i)) => FieldRef::Number(Number::I64(*i)),
            V::Static(StaticNode::U64(u)) => FieldRef::Number(Number::U64(*u)),
            V::Static(StaticNode::F64(f)) => FieldRef::Number(Number::F64(*f)),
            V::String(s) => FieldRef::String(s),
            V::Array(items) => FieldRef::Array(items.iter().collect()),
            V::Object(_) => FieldRef::Object(self),
        }
    }

    /// A repeated key means its last value, as with serde_json and Python's
    /// `json` (and the projection): simd-json keeps every copy in objects
    /// of up to 32 keys, where `get` would find the first.
    fn member(&self, key: &str) -> Option<&Self> {
        match self {
            simd_json::BorrowedValue::Object(map) if map.is_vec() => {
                map.iter().filter(|(k, _)| *k == key).last().map(|(_, v)| v)
            }
            simd_json::BorrowedValue::Object(map) => map.get(key),
            _ => None,
        }
    }

    fn for_each_member(&self, visit: &mut dyn FnMut(&str, &Self)) {
        if let simd_json::BorrowedValue::Object(map) = self {
            for (key, value) in map.iter() {
                visit(key, value);
            }
        }
    }
}
