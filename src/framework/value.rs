//! Values as Terraform has them: null, unknown (with whatever go-cty's
//! refinements say about it), or known; numbers of arbitrary precision.
//!
//! A [`Value`] carries no type of its own: the codecs read and write it
//! against a [`Type`](crate::framework::types::Type), as go-cty does.
//!
//! Equality is structural, with two rules from go-cty:
//! * a set equals another set with the same elements, in any order;
//! * an element that is not wholly known is never a duplicate of another,
//!   because it may still turn out different (go-cty keeps two unknown
//!   strings in a set as two elements). Fully known duplicates collapse.
//!
//! Two unknowns are equal when they carry the same refinements. [`Value`]
//! is also totally ordered (in a fixed but arbitrary order across kinds), so
//! values can key a `BTreeMap`. Sets compare through canonical bytes built
//! in one pass, so comparing or deduplicating costs about the size of the
//! values, however deeply sets nest.
//!
//! Numbers are [`Number`](super::number::Number)'s, in `number.rs`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

pub use super::number::{MAX_NUMBER_DIGITS, Number, NumberError};

// ------------------------------------------------------------------ Value --

/// A Terraform value.
#[derive(Clone, Debug)]
pub enum Value {
    Null,
    /// Not known until apply; the refinements say what is known about it.
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements kept deduplicated by [`Value::set`] and the decoders; their
    /// order carries no meaning.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
}

/// What is known about an unknown value: go-cty's refinements. The default
/// is nothing known. Which refinements apply depends on the value's type
/// (a string prefix only to strings, bounds only to numbers, lengths only to
/// lists, sets and maps); the encoder writes those that apply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Refinements {
    /// The value will not be null.
    pub not_null: bool,
    /// A string value will start with this.
    pub string_prefix: Option<String>,
    /// A number value will be at least (or above) this.
    pub number_lower: Option<NumberBound>,
    /// A number value will be at most (or below) this.
    pub number_upper: Option<NumberBound>,
    /// A collection will have at least this many elements.
    pub length_lower: Option<u64>,
    /// A collection will have at most this many elements.
    pub length_upper: Option<u64>,
}

/// One end of a number range.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NumberBound {
    pub value: Number,
    /// Whether `value` itself is in the range.
    pub inclusive: bool,
}

impl NumberBound {
    pub fn new(value: impl Into<Number>, inclusive: bool) -> Self {
        NumberBound {
            value: value.into(),
            inclusive,
        }
    }
}

impl Refinements {
    /// Nothing is known.
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }

    /// Known only not to be null.
    pub fn not_null() -> Self {
        Refinements {
            not_null: true,
            ..Refinements::default()
        }
    }
}

impl Value {
    /// An unknown value about which nothing is known.
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    /// A set of `items`, without duplicates (see the module docs).
    pub fn set(items: Vec<Value>) -> Value {
        Value::Set(dedup_set(items))
    }

    /// A list of `items`.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(items.into_iter().collect())
    }

    /// A map from string keys.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An object with these attributes.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Known at this level (it may still hold unknowns inside).
    pub fn is_known(&self) -> bool {
        !matches!(self, Value::Unknown(_))
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// Known all the way down: no unknown anywhere inside.
    pub fn is_fully_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_fully_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_fully_known),
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
        }
    }

    /// What is known about an unknown value.
    pub fn refinements(&self) -> Option<&Refinements> {
        match self {
            Value::Unknown(r) => Some(r),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a map or the attributes of an object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An attribute of an object value.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            _ => None,
        }
    }

    /// An element of a map value.
    pub fn get_key(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// An element of a list or tuple value.
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        match self {
            Value::List(items) | Value::Tuple(items) => items.get(index),
            _ => None,
        }
    }

    /// The kind of value, for messages: `null`, `unknown`, `bool`, …
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Unknown(_) => 1,
            Value::Bool(_) => 2,
            Value::Number(_) => 3,
            Value::String(_) => 4,
            Value::List(_) => 5,
            Value::Set(_) => 6,
            Value::Map(_) => 7,
            Value::Object(_) => 8,
            Value::Tuple(_) => 9,
        }
    }
}

/// `items` without later copies of fully known elements, in their first
/// order. Each element's canonical key is built once and the keys sorted,
/// so deduplicating costs about the size of the set times its depth, however
/// deeply sets nest in sets.
pub(crate) fn dedup_set(items: Vec<Value>) -> Vec<Value> {
    if items.len() < 2 {
        return items;
    }
    let keys: Vec<(Vec<u8>, bool)> = items.iter().map(CanonicalKey::of).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Stable: among equal elements the first stays first.
    order.sort_by(|&a, &b| keys[a].0.cmp(&keys[b].0));
    let mut keep = vec![true; items.len()];
    for pair in order.windows(2) {
        let (first, second) = (&keys[pair[0]], &keys[pair[1]]);
        if second.1 && first.0 == second.0 {
            keep[pair[1]] = false;
        }
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(item, keep)| keep.then_some(item))
        .collect()
}

/// Canonical bytes for a value: two values have the same bytes exactly
/// when they are equal, a set's elements being sorted by their own bytes
/// and fully known duplicates dropped. Sets compare by these bytes, built
/// bottom-up in one pass; comparing sets element by element instead would
/// re-sort every nested set at every comparison, which grows exponentially
/// with nesting.
struct CanonicalKey;

impl CanonicalKey {
    /// The bytes of `v`, and whether it is fully known.
    fn of(v: &Value) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let known = Self::write(v, &mut out);
        (out, known)
    }

    fn write(v: &Value, out: &mut Vec<u8>) -> bool {
        out.push(v.rank());
        match v {
            Value::Null => true,
            Value::Unknown(r) => {
                out.push(u8::from(r.not_null));
                Self::opt_text(r.string_prefix.as_deref(), out);
                for bound in [&r.number_lower, &r.number_upper] {
                    match bound {
                        Some(b) => {
                            out.push(1 + u8::from(b.inclusive));
                            Self::text(b.value.as_str(), out);
                        }
                        None => out.push(0),
                    }
                }
                for length in [r.length_lower, r.length_upper] {
                    match length {
                        Some(n) => {
                            out.push(1);
                            out.extend_from_slice(&n.to_be_bytes());
                        }
                        None => out.push(0),
                    }
                }
                false
            }
            Value::Bool(b) => {
                out.push(u8::from(*b));
                true
            }
            Value::Number(n) => {
                Self::text(n.as_str(), out);
                true
            }
            Value::String(s) => {
                Self::text(s, out);
                true
            }
            Value::List(items) | Value::Tuple(items) => {
                Self::count(items.len(), out);
                // Every element is written, known or not: no short cut.
                let mut known = true;
                for item in items {
                    known &= Self::write(item, out);
                }
                known
            }
            Value::Set(items) => {
                let mut keys: Vec<(Vec<u8>, bool)> = items.iter().map(Self::of).collect();
                keys.sort();
                keys.dedup_by(|later, earlier| later.1 && later.0 == earlier.0);
                Self::count(keys.len(), out);
                let known = keys.iter().all(|(_, known)| *known);
                for (key, _) in keys {
                    out.extend_from_slice(&key);
                }
                known
            }
            Value::Map(m) | Value::Object(m) => {
                Self::count(m.len(), out);
                let mut known = true;
                for (k, item) in m {
                    Self::text(k, out);
                    known &= Self::write(item, out);
                }
                known
            }
        }
    }

    fn count(n: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }

    fn text(s: &str, out: &mut Vec<u8>) {
        Self::count(s.len(), out);
        out.extend_from_slice(s.as_bytes());
    }

    fn opt_text(s: Option<&str>, out: &mut Vec<u8>) {
        match s {
            Some(s) => {
                out.push(1);
                Self::text(s, out);
            }
            None => out.push(0),
        }
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Unknown(a), Value::Unknown(b)) => a.cmp(b),
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a.cmp(b),
            (Value::Set(_), Value::Set(_)) => {
                CanonicalKey::of(self).0.cmp(&CanonicalKey::of(other).0)
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            // Cheap paths for the common kinds; sets need the canonical
            // comparison.
            (Value::Null, Value::Null) => true,
            (Value::Unknown(a), Value::Unknown(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            (Value::Set(_), Value::Set(_)) => self.cmp(other) == Ordering::Equal,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![s("x"), s("y")]);
        let b = Value::Set(vec![s("y"), s("x")]);
        assert_eq!(a, b);
        assert_ne!(a, Value::List(vec![s("x"), s("y")]));
        assert_ne!(a, Value::Set(vec![s("x")]));
        // Duplicates of known elements do not count.
        assert_eq!(a, Value::Set(vec![s("x"), s("y"), s("x")]));
        // Sets of sets compare as sets all the way down.
        let nested_a = Value::Set(vec![a.clone(), Value::Set(vec![s("z")])]);
        let nested_b = Value::Set(vec![Value::Set(vec![s("z")]), b.clone()]);
        assert_eq!(nested_a, nested_b);
    }

    #[test]
    fn unknown_elements_are_never_duplicates() {
        let set = Value::set(vec![Value::unknown(), Value::unknown(), s("a"), s("a")]);
        assert_eq!(set.as_elements().map(<[Value]>::len), Some(3));
        assert_ne!(set, Value::set(vec![Value::unknown(), s("a")]));
        let partly = Value::object([("a", Value::unknown())]);
        let set = Value::set(vec![partly.clone(), partly]);
        assert_eq!(set.as_elements().map(<[Value]>::len), Some(2));
    }

    #[test]
    fn set_dedup_keeps_first_order() {
        let set = Value::set(vec![s("c"), s("a"), s("c"), s("b"), s("a")]);
        assert_eq!(set.as_elements().unwrap(), &[s("c"), s("a"), s("b")]);
        let numbers = Value::set(vec![Value::Number(n("1.5")), Value::Number(n("15e-1"))]);
        assert_eq!(numbers.as_elements().map(<[Value]>::len), Some(1));
    }

    #[test]
    fn big_sets_dedup_quickly() {
        let items: Vec<Value> = (0..200_000)
            .map(|i| Value::from(i64::from(i % 1000)))
            .collect();
        let start = std::time::Instant::now();
        let set = Value::set(items);
        assert_eq!(set.as_elements().map(<[Value]>::len), Some(1000));
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn unknowns_compare_by_refinements() {
        assert_eq!(Value::unknown(), Value::Unknown(Refinements::default()));
        assert_ne!(Value::unknown(), Value::Unknown(Refinements::not_null()));
        assert_ne!(Value::unknown(), Value::Null);
        assert!(Refinements::default().is_empty());
        assert!(!Refinements::not_null().is_empty());
    }

    #[test]
    fn ordering_is_total_and_consistent() {
        let values = vec![
            Value::Null,
            Value::unknown(),
            Value::Unknown(Refinements::not_null()),
            Value::Bool(false),
            Value::Bool(true),
            Value::from(-1),
            Value::from(2),
            s("a"),
            Value::list([s("a")]),
            Value::set(vec![s("a"), s("b")]),
            Value::map([("k", s("v"))]),
            Value::object([("k", s("v"))]),
            Value::Tuple(vec![]),
        ];
        for a in &values {
            for b in &values {
                assert_eq!(a.cmp(b) == Ordering::Equal, a == b, "{a:?} {b:?}");
                assert_eq!(a.cmp(b), b.cmp(a).reverse());
            }
        }
        let as_set: std::collections::BTreeSet<_> = values.iter().cloned().collect();
        assert_eq!(as_set.len(), values.len());
    }

    #[test]
    fn knowledge_looks_inside() {
        let v = Value::object([("a", Value::list([Value::unknown()]))]);
        assert!(v.is_known());
        assert!(!v.is_unknown());
        assert!(!v.is_fully_known());
        assert!(Value::object([("a", Value::list([Value::Null]))]).is_fully_known());
        assert!(!Value::map([("k", Value::unknown())]).is_fully_known());
        assert!(!Value::set(vec![Value::unknown()]).is_fully_known());
        assert!(Value::Null.is_null() && Value::Null.is_fully_known());
        assert!(Value::unknown().is_unknown());
        assert_eq!(
            Value::Unknown(Refinements::not_null()).refinements(),
            Some(&Refinements::not_null())
        );
        assert_eq!(Value::Null.refinements(), None);
    }

    #[test]
    fn accessors() {
        let obj = Value::object([
            ("name", s("db")),
            ("on", Value::Bool(true)),
            ("port", Value::from(5432)),
            ("tags", Value::map([("env", s("prod"))])),
            ("ids", Value::list([s("a"), s("b")])),
        ]);
        assert_eq!(obj.get_attr("name").and_then(Value::as_str), Some("db"));
        assert_eq!(obj.get_attr("on").and_then(Value::as_bool), Some(true));
        assert_eq!(
            obj.get_attr("port")
                .and_then(Value::as_number)
                .and_then(Number::as_i64),
            Some(5432)
        );
        assert_eq!(
            obj.get_attr("tags").and_then(|t| t.get_key("env")),
            Some(&s("prod"))
        );
        assert_eq!(
            obj.get_attr("ids").and_then(|t| t.get_index(1)),
            Some(&s("b"))
        );
        assert_eq!(obj.get_attr("missing"), None);
        assert_eq!(s("x").get_attr("name"), None);
        assert_eq!(s("x").as_bool(), None);
        assert_eq!(Value::Bool(true).as_str(), None);
        assert_eq!(obj.as_entries().map(BTreeMap::len), Some(5));
        assert_eq!(obj.kind(), "object");
        assert_eq!(Value::from("x"), Value::from(String::from("x")));
        assert_eq!(Value::from(n("3")), Value::from(3));
        assert_eq!(
            NumberBound::new(3, true),
            NumberBound {
                value: n("3"),
                inclusive: true
            }
        );
    }
}
