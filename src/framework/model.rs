//! Reading and building object values: the bridge between framework values
//! and the plain Rust structs resources work with.
//!
//! Readers return `None` for null and for unknown values; use
//! [`Attrs::is_unknown`] where the difference matters (validation skips
//! unknown values, plan-time checks wait for them).

use std::collections::BTreeMap;

use crate::framework::value::{Number, Value};

/// The attributes of an object value; a non-object reads as empty.
#[derive(Clone, Copy)]
pub struct Attrs<'a>(Option<&'a BTreeMap<String, Value>>);

impl<'a> Attrs<'a> {
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::Object(map) => Attrs(Some(map)),
            _ => Attrs(None),
        }
    }

    pub fn get(&self, name: &str) -> &'a Value {
        static NULL: Value = Value::Null;
        self.0.and_then(|m| m.get(name)).unwrap_or(&NULL)
    }

    pub fn is_unknown(&self, name: &str) -> bool {
        matches!(self.get(name), Value::Unknown(_))
    }

    pub fn is_null(&self, name: &str) -> bool {
        matches!(self.get(name), Value::Null)
    }

    pub fn string(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn str(&self, name: &str) -> Option<&'a str> {
        match self.get(name) {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn number(&self, name: &str) -> Option<&'a Number> {
        match self.get(name) {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements of a list or set of strings, when the collection and
    /// every element are known.
    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        elements(self.get(name))?
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    /// The elements of a list or set, whatever they hold.
    pub fn elements(&self, name: &str) -> Option<&'a [Value]> {
        elements(self.get(name))
    }

    /// A map of strings, when it and every value are known.
    pub fn string_map(&self, name: &str) -> Option<BTreeMap<String, String>> {
        match self.get(name) {
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }

    /// A nested object (a block with single nesting).
    pub fn object(&self, name: &str) -> Attrs<'a> {
        Attrs::of(self.get(name))
    }

    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }
}

fn elements(value: &Value) -> Option<&[Value]> {
    match value {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items.as_slice()),
        _ => None,
    }
}

/// Builds an object value attribute by attribute.
#[derive(Default)]
pub struct ObjectBuilder(BTreeMap<String, Value>);

impl ObjectBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, name: &str, value: Value) -> Self {
        self.0.insert(name.to_owned(), value);
        self
    }
    pub fn build(self) -> Value {
        Value::Object(self.0)
    }
}

pub fn string(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

pub fn opt_string(s: Option<impl Into<String>>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.into()))
}

pub fn string_set<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut items: Vec<String> = items.into_iter().map(Into::into).collect();
    items.sort();
    items.dedup();
    Value::Set(items.into_iter().map(Value::String).collect())
}

pub fn string_list<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
}

pub fn string_map<'a>(items: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Map(
        items
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}
