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
//! Why this file is over 1,000 lines: its code is about 870; the rest is
//! the unit tests of equality, ordering and numbers.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

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

// ----------------------------------------------------------------- Number --

/// The most digits a number may have when written out in full: enough for
/// the exact value of every `f64` (up to 1074 fraction digits) with room to
/// spare, and small enough that no input can make a number expensive.
pub const MAX_NUMBER_DIGITS: usize = 4096;

/// An arbitrary-precision decimal number, kept as canonical text: plain
/// decimal (no exponent), no leading zeros, no trailing fraction zeros, no
/// `+`, and `-` only on non-zero values. Two numbers are equal exactly when
/// their texts are; they order numerically. 1.5 and 2^70 survive every
/// round trip exactly.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

/// Why text is not a [`Number`], or a number does not convert.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("{0:?} is not a number")]
    Syntax(String),
    #[error("{0} has more than {MAX_NUMBER_DIGITS} digits written out")]
    TooLong(String),
    /// NaN or an infinity, as text.
    #[error("{0} is not a finite number")]
    NotFinite(String),
    #[error("{0} is not a whole number")]
    NotWhole(Number),
    #[error("{number} is out of range for {what}")]
    OutOfRange { number: Number, what: String },
}

impl Number {
    /// Parses decimal text: an optional sign, digits with an optional
    /// fraction (`1`, `1.5`, `.5`, `5.`), and an optional exponent (`e-3`),
    /// as go-cty's number parsing takes it (no hex, no `Inf`).
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let syntax = || NumberError::Syntax(abbreviate(text));
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return Err(syntax());
        }
        let exponent = match exponent {
            Some(e) => parse_exponent(e).ok_or_else(syntax)?,
            None => 0,
        };

        // The value is `digits` × 10^`scale`, digits without leading or
        // trailing zeros.
        let joined = || int.bytes().chain(frac.bytes());
        let Some(first) = joined().position(|b| b != b'0') else {
            return Ok(Number::zero());
        };
        let total = int.len() + frac.len();
        let last = total - joined().rev().position(|b| b != b'0').unwrap_or(0);
        let digit_count = last - first;
        // exponent is clamped far inside i64, and lengths fit easily.
        let scale = exponent - frac.len() as i64 + (total - last) as i64;
        let point = digit_count as i64 + scale; // digits left of the point
        let written = if scale >= 0 {
            point
        } else if point <= 0 {
            1 - point + digit_count as i64
        } else {
            digit_count as i64
        };
        if written > MAX_NUMBER_DIGITS as i64 {
            return Err(NumberError::TooLong(abbreviate(text)));
        }

        let digits = joined().skip(first).take(digit_count);
        let mut out = String::with_capacity(written as usize + 2);
        if negative {
            out.push('-');
        }
        if scale >= 0 {
            out.extend(digits.map(char::from));
            out.extend(std::iter::repeat_n('0', scale as usize));
        } else if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.extend(digits.map(char::from));
        } else {
            for (i, d) in digits.enumerate() {
                if i as i64 == point {
                    out.push('.');
                }
                out.push(char::from(d));
            }
        }
        Ok(Number(out))
    }

    /// Zero.
    pub fn zero() -> Number {
        Number("0".to_owned())
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_integer(&self) -> bool {
        !self.0.contains('.')
    }

    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    pub fn is_zero(&self) -> bool {
        self.0 == "0"
    }

    /// The number as an `i64`, if it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The number as a `u64`, if it is a whole number in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    /// The nearest `f64`; infinite when beyond `f64`'s range.
    pub fn as_f64(&self) -> f64 {
        // Canonical text is always valid float syntax; NaN cannot happen.
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The `f64` holding exactly this number, if there is one.
    pub fn to_exact_f64(&self) -> Option<f64> {
        let fraction_digits = self.0.split_once('.').map_or(0, |(_, f)| f.len());
        if fraction_digits > 1074 {
            return None; // finer than the smallest subnormal
        }
        let f = self.as_f64();
        (f.is_finite() && exact_decimal(f) == self.0).then_some(f)
    }

    /// The number as an integer of type `T`, or an error naming `what` it
    /// was meant to be: `"1.5 is not a whole number"`,
    /// `"1180591620717411303424 is out of range for a port"`.
    pub fn to_integer<T: TryFrom<i128>>(&self, what: &str) -> Result<T, NumberError> {
        if !self.is_integer() {
            return Err(NumberError::NotWhole(self.clone()));
        }
        self.0
            .parse::<i128>()
            .ok()
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| NumberError::OutOfRange {
                number: self.clone(),
                what: what.to_owned(),
            })
    }

    /// [`Number::to_integer`] for `i64`.
    pub fn to_i64(&self) -> Result<i64, NumberError> {
        self.to_integer("a 64-bit integer")
    }

    /// [`Number::to_integer`] for `u64`.
    pub fn to_u64(&self) -> Result<u64, NumberError> {
        self.to_integer("an unsigned 64-bit integer")
    }

    /// The exact value of a finite `f64`: `0.1f64` is
    /// 0.1000000000000000055511151231257827021181583404541015625, not one
    /// tenth. Decoders use this so a float Terraform sends comes back to it
    /// bit for bit; for decimal literals use [`Number::parse`].
    pub fn from_f64(f: f64) -> Result<Number, NumberError> {
        if !f.is_finite() {
            return Err(NumberError::NotFinite(f.to_string()));
        }
        Ok(Number(exact_decimal(f)))
    }
}

/// An exponent's digits, clamped far beyond any number that fits
/// [`MAX_NUMBER_DIGITS`] so that arithmetic on it cannot overflow.
fn parse_exponent(text: &str) -> Option<i64> {
    const CLAMP: i64 = 1_000_000_000;
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits
        .bytes()
        .fold(0i64, |acc, d| (acc * 10 + i64::from(d - b'0')).min(CLAMP));
    Some(if negative { -magnitude } else { magnitude })
}

fn abbreviate(text: &str) -> String {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The exact decimal expansion of a finite `f64`, canonical.
fn exact_decimal(f: f64) -> String {
    let bits = f.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mut mantissa, mut exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return "0".to_owned();
    }
    let zeros = mantissa.trailing_zeros().min(exponent.unsigned_abs()) as i32;
    if exponent < 0 {
        mantissa >>= zeros;
        exponent += zeros;
    }
    // value = mantissa × 2^exponent. For a negative exponent k, that is
    // mantissa × 5^k / 10^k: an integer, then a decimal point k from the
    // right.
    let mut big = BigDecimal::from_u64(mantissa);
    let point = if exponent >= 0 {
        big.mul_pow(2, exponent.unsigned_abs());
        0
    } else {
        big.mul_pow(5, exponent.unsigned_abs());
        exponent.unsigned_abs() as usize
    };
    let digits = big.to_digits();
    let mut out = String::with_capacity(digits.len() + point + 3);
    if negative {
        out.push('-');
    }
    if point == 0 {
        out.push_str(&digits);
    } else if digits.len() > point {
        let (int, frac) = digits.split_at(digits.len() - point);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point - digits.len()));
        out.push_str(&digits);
    }
    if out.contains('.') {
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
    }
    out
}

/// Just enough of a big unsigned integer for [`exact_decimal`]: base-10^9
/// limbs, least significant first.
struct BigDecimal(Vec<u32>);

impl BigDecimal {
    const BASE: u64 = 1_000_000_000;

    fn from_u64(mut n: u64) -> Self {
        let mut limbs = Vec::new();
        while n > 0 {
            limbs.push((n % Self::BASE) as u32);
            n /= Self::BASE;
        }
        BigDecimal(limbs)
    }

    fn mul_small(&mut self, factor: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = (product % Self::BASE) as u32;
            carry = product / Self::BASE;
        }
        while carry > 0 {
            self.0.push((carry % Self::BASE) as u32);
            carry /= Self::BASE;
        }
    }

    /// Multiplies by `base`^`exp`, in chunks that keep products in a u64.
    fn mul_pow(&mut self, base: u32, mut exp: u32) {
        let (chunk, chunk_exp) = if base == 2 {
            (1 << 30, 30)
        } else {
            (5u32.pow(13), 13)
        };
        while exp >= chunk_exp {
            self.mul_small(chunk);
            exp -= chunk_exp;
        }
        if exp > 0 {
            self.mul_small(base.pow(exp));
        }
    }

    fn to_digits(&self) -> String {
        let Some((top, rest)) = self.0.split_last() else {
            return "0".to_owned();
        };
        let mut out = top.to_string();
        for limb in rest.iter().rev() {
            out.push_str(&format!("{limb:09}"));
        }
        out
    }
}

impl Ord for Number {
    /// Numeric order.
    fn cmp(&self, other: &Self) -> Ordering {
        fn magnitude(text: &str) -> (&str, &str) {
            let text = text.trim_start_matches('-');
            text.split_once('.').unwrap_or((text, ""))
        }
        match (self.is_negative(), other.is_negative()) {
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let ((ai, af), (bi, bf)) = (magnitude(&self.0), magnitude(&other.0));
        // No leading zeros, so a longer integer part is larger; no
        // trailing zeros, so fractions compare as text.
        let by_magnitude = ai
            .len()
            .cmp(&bi.len())
            .then_with(|| ai.cmp(bi))
            .then_with(|| af.cmp(bf));
        if self.is_negative() {
            by_magnitude.reverse()
        } else {
            by_magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.0)
    }
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number(n.to_string())
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(n.to_string())
    }
}

impl From<i32> for Number {
    fn from(n: i32) -> Self {
        Number(n.to_string())
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Number(n.to_string())
    }
}

impl From<f64> for Number {
    /// The exact value of `f` (see [`Number::from_f64`]). NaN and the
    /// infinities are not Terraform numbers; they become 0. Use
    /// [`Number::from_f64`] to catch them instead.
    fn from(f: f64) -> Self {
        Number::from_f64(f).unwrap_or_else(|_| Number::zero())
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
    fn numbers_are_canonical() {
        let cases = [
            ("5432", "5432"),
            ("+7", "7"),
            ("-0", "0"),
            ("-0.000e5", "0"),
            ("0.000", "0"),
            ("1.50", "1.5"),
            ("1.5e3", "1500"),
            ("15e-1", "1.5"),
            ("-0.00125", "-0.00125"),
            ("1180591620717411303424", "1180591620717411303424"),
            ("007", "7"),
            ("1e2", "100"),
            ("1E+2", "100"),
            (".5", "0.5"),
            ("5.", "5"),
            ("120e-1", "12"),
            ("0.0001e4", "1"),
            ("123.456e1", "1234.56"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("0e99999999999999999999999", "0"),
        ];
        for (input, canonical) in cases {
            assert_eq!(n(input).as_str(), canonical, "{input}");
        }
    }

    #[test]
    fn bad_number_text_is_an_error() {
        for bad in [
            "", "-", "+", ".", "1.2.3", "abc", "1e", "1e+", "e5", "--1", "1-", " 1", "1 ", "0x10",
            "Inf", "NaN", "1_000", "1e5.5", "١",
        ] {
            assert!(
                matches!(Number::parse(bad), Err(NumberError::Syntax(_))),
                "{bad:?}"
            );
        }
        for huge in ["1e99999999999999999999", "1e5000", "1e-5000"] {
            assert!(
                matches!(Number::parse(huge), Err(NumberError::TooLong(_))),
                "{huge}"
            );
        }
        let long = "9".repeat(MAX_NUMBER_DIGITS + 1);
        let err = Number::parse(&long).unwrap_err().to_string();
        assert!(err.len() < 120, "error text is abbreviated: {err}");
        assert!(Number::parse(&"9".repeat(MAX_NUMBER_DIGITS)).is_ok());
    }

    #[test]
    fn integer_accessors() {
        assert_eq!(n("42").as_i64(), Some(42));
        assert_eq!(n("-42").as_i64(), Some(-42));
        assert_eq!(n("-42").as_u64(), None);
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551615").as_i64(), None);
        assert_eq!(n("1180591620717411303424").as_u64(), None);
        assert_eq!(Number::from(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Number::from(7u32).as_str(), "7");
        assert_eq!(Number::from(-7i32).as_str(), "-7");
    }

    #[test]
    fn conversions_explain_themselves() {
        assert_eq!(
            n("1.5")
                .to_integer::<u16>("a port")
                .unwrap_err()
                .to_string(),
            "1.5 is not a whole number"
        );
        assert_eq!(
            n("1180591620717411303424")
                .to_integer::<u16>("a port")
                .unwrap_err()
                .to_string(),
            "1180591620717411303424 is out of range for a port"
        );
        assert_eq!(
            n("-1").to_integer::<u16>("a port").unwrap_err().to_string(),
            "-1 is out of range for a port"
        );
        assert_eq!(n("5432").to_integer::<u16>("a port"), Ok(5432u16));
        assert_eq!(n("-5").to_i64(), Ok(-5));
        assert!(n("-5").to_u64().is_err());
        assert_eq!(
            n("1e40").to_i64().unwrap_err().to_string(),
            "10000000000000000000000000000000000000000 is out of range for a 64-bit integer"
        );
        assert_eq!(
            Number::from_f64(f64::NAN).unwrap_err().to_string(),
            "NaN is not a finite number"
        );
        assert_eq!(
            Number::parse("x1").unwrap_err().to_string(),
            r#""x1" is not a number"#
        );
    }

    #[test]
    fn floats_convert_exactly() {
        assert_eq!(Number::from(1.5f64).as_str(), "1.5");
        assert_eq!(Number::from(-2.0f64).as_str(), "-2");
        assert_eq!(Number::from(-0.0f64).as_str(), "0");
        assert_eq!(Number::from(1e21f64).as_str(), "1000000000000000000000");
        assert_eq!(
            Number::from(2f64.powi(70)).as_str(),
            "1180591620717411303424"
        );
        assert_eq!(
            Number::from(0.1f64).as_str(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(Number::from(f64::INFINITY), Number::zero());
        assert_eq!(Number::from(f64::MAX).as_str().len(), 309);
        assert_eq!(Number::from(f64::MAX).as_f64(), f64::MAX);
        let tiny = Number::from(f64::from_bits(1)); // smallest subnormal
        assert_eq!(tiny.as_str().len(), 2 + 1074);
        assert_eq!(tiny.to_exact_f64(), Some(f64::from_bits(1)));
        for f in [
            1.5,
            0.1,
            -123.456,
            1e-300,
            6.02e23,
            2f64.powi(-1074),
            9007199254740993.0,
        ] {
            let number = Number::from(f);
            assert_eq!(number.as_f64(), f, "{f}");
            assert_eq!(number.to_exact_f64(), Some(f), "{f}");
        }
    }

    #[test]
    fn exactness_is_decimal_exactness() {
        assert_eq!(n("1.5").to_exact_f64(), Some(1.5));
        assert_eq!(n("-0.375").to_exact_f64(), Some(-0.375));
        // One tenth has no exact binary form, though 0.1f64 prints as 0.1.
        assert_eq!(n("0.1").to_exact_f64(), None);
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert_eq!(n("1.00000000000000000001").to_exact_f64(), None);
        assert_eq!(n("9007199254740993").to_exact_f64(), None); // 2^53 + 1
        assert_eq!(n("1e400").to_exact_f64(), None);
        assert_eq!(n("1e400").as_f64(), f64::INFINITY);
    }

    #[test]
    fn numbers_order_numerically() {
        let sorted = [
            "-1000",
            "-999.5",
            "-2",
            "-1.5",
            "-1.25",
            "-0.001",
            "0",
            "0.001",
            "0.25",
            "0.5",
            "1",
            "1.05",
            "1.5",
            "2",
            "10",
            "99.99",
            "100",
            "1180591620717411303424",
        ];
        let numbers: Vec<Number> = sorted.iter().map(|t| n(t)).collect();
        for (i, a) in numbers.iter().enumerate() {
            for (j, b) in numbers.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{a} vs {b}");
            }
        }
        assert_eq!(n("1.50"), n("1.5"));
        assert_eq!("2.5".parse::<Number>().unwrap(), n("25e-1"));
        assert_eq!(format!("{:?}", n("2.5")), "Number(2.5)");
        assert!(n("-3").is_negative() && !n("0").is_negative() && n("0").is_zero());
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
