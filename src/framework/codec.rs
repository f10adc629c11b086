//! Terraform's wire formats for values (go-cty's): msgpack for every
//! DynamicValue, JSON for stored state. Decoding is driven by the expected
//! type, never trusts a length it was told, caps nesting, and reports where
//! in the value it failed; it never panics.
//!
//! msgpack, as go-cty writes it: null is nil; an unknown value is the
//! extension of type 0 (`d4 00 00`), or of type 12 when it carries
//! refinements (a map: 1 nullness, 2 string prefix, 3 and 4 number bounds as
//! `[number, inclusive]`, 5 and 6 collection length bounds); numbers are
//! integers, floats when exact, else decimal strings; a dynamic value is a
//! two-element array of its type's JSON and the value.

use std::collections::BTreeMap;

use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::{Number, Refinements, Value};

const MAX_DEPTH: usize = 64;
const EXT_UNKNOWN: i8 = 0;
const EXT_REFINED_UNKNOWN: i8 = 12;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (at {path})")]
pub struct DecodeError {
    pub path: AttributePath,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} (at {path})")]
pub struct EncodeError {
    pub path: AttributePath,
    pub message: String,
}

// ------------------------------------------------------------ msgpack in --

pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    let value = r.value(ty, &AttributePath::root(), 0)?;
    if r.pos != bytes.len() {
        return Err(r.fail(&AttributePath::root(), "trailing bytes after the value"));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

enum Item<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'a [u8]),
}

impl<'a> Reader<'a> {
    fn fail(&self, path: &AttributePath, message: impl Into<String>) -> DecodeError {
        DecodeError {
            path: path.clone(),
            message: message.into(),
        }
    }

    fn take(&mut self, n: usize, path: &AttributePath) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len());
        let Some(end) = end else {
            return Err(self.fail(path, "value ends too early (truncated msgpack)"));
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn uint(&mut self, n: usize, path: &AttributePath) -> Result<u64, DecodeError> {
        Ok(self
            .take(n, path)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A collection length, checked against the bytes left (each element
    /// takes at least one byte), so a lying header allocates nothing.
    fn len(
        &mut self,
        n: usize,
        per_item: usize,
        path: &AttributePath,
    ) -> Result<usize, DecodeError> {
        let len = self.uint(n, path)? as usize;
        let left = self.bytes.len() - self.pos;
        if len.saturating_mul(per_item) > left {
            return Err(self.fail(path, "collection longer than the message"));
        }
        Ok(len)
    }

    fn item(&mut self, path: &AttributePath) -> Result<Item<'a>, DecodeError> {
        let marker = self.take(1, path)?[0];
        Ok(match marker {
            0x00..=0x7f => Item::Int(i64::from(marker)),
            0xe0..=0xff => Item::Int(i64::from(marker as i8)),
            0x80..=0x8f => Item::Map(self.check_len(usize::from(marker & 0x0f), 2, path)?),
            0x90..=0x9f => Item::Array(self.check_len(usize::from(marker & 0x0f), 1, path)?),
            0xa0..=0xbf => Item::Str(self.take(usize::from(marker & 0x1f), path)?),
            0xc0 => Item::Nil,
            0xc2 => Item::Bool(false),
            0xc3 => Item::Bool(true),
            0xc4..=0xc6 => {
                let n = self.uint(1 << (marker - 0xc4), path)? as usize;
                Item::Bin(self.take(n, path)?)
            }
            0xc7..=0xc9 => {
                let n = self.uint(1 << (marker - 0xc7), path)? as usize;
                let kind = self.take(1, path)?[0] as i8;
                Item::Ext(kind, self.take(n, path)?)
            }
            0xca => Item::Float(f64::from(f32::from_bits(self.uint(4, path)? as u32))),
            0xcb => Item::Float(f64::from_bits(self.uint(8, path)?)),
            0xcc..=0xcf => Item::UInt(self.uint(1 << (marker - 0xcc), path)?),
            0xd0 => Item::Int(i64::from(self.uint(1, path)? as u8 as i8)),
            0xd1 => Item::Int(i64::from(self.uint(2, path)? as u16 as i16)),
            0xd2 => Item::Int(i64::from(self.uint(4, path)? as u32 as i32)),
            0xd3 => Item::Int(self.uint(8, path)? as i64),
            0xd4..=0xd8 => {
                let kind = self.take(1, path)?[0] as i8;
                Item::Ext(kind, self.take(1 << (marker - 0xd4), path)?)
            }
            0xd9..=0xdb => {
                let n = self.uint(1 << (marker - 0xd9), path)? as usize;
                Item::Str(self.take(n, path)?)
            }
            0xdc | 0xdd => Item::Array(self.len(if marker == 0xdc { 2 } else { 4 }, 1, path)?),
            0xde | 0xdf => Item::Map(self.len(if marker == 0xde { 2 } else { 4 }, 2, path)?),
            0xc1 => return Err(self.fail(path, "invalid msgpack marker 0xc1")),
        })
    }

    fn check_len(
        &self,
        len: usize,
        per_item: usize,
        path: &AttributePath,
    ) -> Result<usize, DecodeError> {
        if len * per_item > self.bytes.len() - self.pos {
            return Err(self.fail(path, "collection longer than the message"));
        }
        Ok(len)
    }

    fn string(&mut self, path: &AttributePath) -> Result<String, DecodeError> {
        match self.item(path)? {
            Item::Str(b) | Item::Bin(b) => String::from_utf8(b.to_vec())
                .map_err(|_| self.fail(path, "string is not valid UTF-8")),
            _ => Err(self.fail(path, "expected a string")),
        }
    }

    fn value(
        &mut self,
        ty: &Type,
        path: &AttributePath,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(self.fail(path, "value nested too deeply"));
        }
        if let Type::Dynamic = ty {
            return self.dynamic(path, depth);
        }
        let item = self.item(path)?;
        let wrong = |what: &str| self.fail(path, format!("expected {what}"));
        Ok(match (ty, item) {
            (_, Item::Nil) => Value::Null,
            (_, Item::Ext(EXT_UNKNOWN, _)) => Value::unknown(),
            (_, Item::Ext(EXT_REFINED_UNKNOWN, payload)) => Value::Unknown(refinements(payload)),
            (_, Item::Ext(kind, _)) => {
                return Err(self.fail(path, format!("unexpected msgpack extension {kind}")));
            }
            (Type::Bool, Item::Bool(b)) => Value::Bool(b),
            (Type::Bool, _) => return Err(wrong("a bool")),
            (Type::Number, Item::Int(i)) => Value::Number(Number::from(i)),
            (Type::Number, Item::UInt(u)) => Value::Number(Number::from(u)),
            (Type::Number, Item::Float(f)) => {
                Value::Number(Number::from_f64(f).map_err(|e| self.fail(path, e))?)
            }
            (Type::Number, Item::Str(s)) => {
                let text = std::str::from_utf8(s).map_err(|_| wrong("a number"))?;
                Value::Number(Number::parse(text).map_err(|e| self.fail(path, e))?)
            }
            (Type::Number, _) => return Err(wrong("a number")),
            (Type::String, Item::Str(s)) => Value::String(
                String::from_utf8(s.to_vec())
                    .map_err(|_| self.fail(path, "string is not valid UTF-8"))?,
            ),
            (Type::String, _) => return Err(wrong("a string")),
            (Type::List(t), Item::Array(n)) => Value::List(self.elements(t, n, path, depth)?),
            (Type::Set(t), Item::Array(n)) => Value::set(self.elements(t, n, path, depth)?),
            (Type::Tuple(types), Item::Array(n)) => {
                if n != types.len() {
                    return Err(self.fail(
                        path,
                        format!("tuple of {} elements expected, got {n}", types.len()),
                    ));
                }
                let mut out = Vec::with_capacity(n);
                for (i, t) in types.iter().enumerate() {
                    out.push(self.value(t, &path.index(i as i64), depth + 1)?);
                }
                Value::Tuple(out)
            }
            (Type::List(_) | Type::Set(_) | Type::Tuple(_), _) => return Err(wrong("an array")),
            (Type::Map(t), Item::Map(n)) => {
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let key = self.string(path)?;
                    let v = self.value(t, &path.key(&key), depth + 1)?;
                    out.insert(key, v);
                }
                Value::Map(out)
            }
            (Type::Object(attrs, _), Item::Map(n)) => {
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let key = self.string(path)?;
                    let Some(t) = attrs.get(&key) else {
                        return Err(self.fail(path, format!("unsupported attribute {key:?}")));
                    };
                    let v = self.value(t, &path.attr(&key), depth + 1)?;
                    out.insert(key, v);
                }
                for name in attrs.keys() {
                    out.entry(name.clone()).or_insert(Value::Null);
                }
                Value::Object(out)
            }
            (Type::Map(_) | Type::Object(..), _) => return Err(wrong("a map")),
            (Type::Dynamic, _) => unreachable!("handled above"),
        })
    }

    fn elements(
        &mut self,
        t: &Type,
        n: usize,
        path: &AttributePath,
        depth: usize,
    ) -> Result<Vec<Value>, DecodeError> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            out.push(self.value(t, &path.index(i as i64), depth + 1)?);
        }
        Ok(out)
    }

    fn dynamic(&mut self, path: &AttributePath, depth: usize) -> Result<Value, DecodeError> {
        let start = self.pos;
        match self.item(path)? {
            Item::Nil => Ok(Value::Null),
            Item::Ext(EXT_UNKNOWN, _) => Ok(Value::unknown()),
            Item::Ext(EXT_REFINED_UNKNOWN, payload) => Ok(Value::Unknown(refinements(payload))),
            Item::Array(2) => {
                let type_json = match self.item(path)? {
                    Item::Str(b) | Item::Bin(b) => b,
                    _ => return Err(self.fail(path, "dynamic value without its type")),
                };
                let ty = Type::from_json(type_json).map_err(|e| self.fail(path, e))?;
                self.value(&ty, path, depth + 1)
            }
            _ => {
                self.pos = start;
                Err(self.fail(path, "expected a dynamic value: [type, value]"))
            }
        }
    }
}

/// Reads what it can of a refinement payload; anything unreadable is
/// simply not known.
fn refinements(payload: &[u8]) -> Refinements {
    let mut out = Refinements::default();
    let mut r = Reader {
        bytes: payload,
        pos: 0,
    };
    let root = AttributePath::root();
    let Ok(Item::Map(n)) = r.item(&root) else {
        return out;
    };
    for _ in 0..n {
        let Ok(Item::Int(key)) = r.item(&root) else {
            return out;
        };
        match key {
            1 => out.not_null = matches!(r.item(&root), Ok(Item::Bool(false))),
            2 => out.string_prefix = r.string(&root).ok(),
            3 | 4 => {
                let bound = match r.item(&root) {
                    Ok(Item::Array(2)) => {
                        let n = r.value(&Type::Number, &root, 1).ok();
                        let inclusive = matches!(r.item(&root), Ok(Item::Bool(true)));
                        match n {
                            Some(Value::Number(n)) => Some((n, inclusive)),
                            _ => None,
                        }
                    }
                    _ => return out,
                };
                if key == 3 {
                    out.number_lower = bound;
                } else {
                    out.number_upper = bound;
                }
            }
            5 | 6 => {
                let n = match r.item(&root) {
                    Ok(Item::Int(i)) => u64::try_from(i).ok(),
                    Ok(Item::UInt(u)) => Some(u),
                    _ => return out,
                };
                if key == 5 {
                    out.length_lower = n;
                } else {
                    out.length_upper = n;
                }
            }
            _ => return out,
        }
    }
    out
}

// ----------------------------------------------------------- msgpack out --

pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer(Vec::with_capacity(256));
    w.value(value, ty, &AttributePath::root(), 0)?;
    Ok(w.0)
}

struct Writer(Vec<u8>);

impl Writer {
    fn fail(path: &AttributePath, message: impl Into<String>) -> EncodeError {
        EncodeError {
            path: path.clone(),
            message: message.into(),
        }
    }

    fn int(&mut self, i: i64) {
        match i {
            0..=127 => self.0.push(i as u8),
            -32..=-1 => self.0.push(i as i8 as u8),
            _ if i >= 0 && i <= u8::MAX as i64 => self.0.extend([0xcc, i as u8]),
            _ if i >= 0 && i <= u16::MAX as i64 => {
                self.0.push(0xcd);
                self.0.extend((i as u16).to_be_bytes());
            }
            _ if i >= 0 && i <= u32::MAX as i64 => {
                self.0.push(0xce);
                self.0.extend((i as u32).to_be_bytes());
            }
            _ if i >= i8::MIN as i64 && i < 0 => self.0.extend([0xd0, i as i8 as u8]),
            _ if i >= i16::MIN as i64 && i < 0 => {
                self.0.push(0xd1);
                self.0.extend((i as i16).to_be_bytes());
            }
            _ if i >= i32::MIN as i64 && i < 0 => {
                self.0.push(0xd2);
                self.0.extend((i as i32).to_be_bytes());
            }
            _ => {
                self.0.push(if i >= 0 { 0xcf } else { 0xd3 });
                self.0.extend(i.to_be_bytes());
            }
        }
    }

    fn header(&mut self, len: usize, fix: u8, fix_max: usize, m16: u8, m32: u8) {
        if len <= fix_max {
            self.0.push(fix | len as u8);
        } else if len <= u16::MAX as usize {
            self.0.push(m16);
            self.0.extend((len as u16).to_be_bytes());
        } else {
            self.0.push(m32);
            self.0.extend((len as u32).to_be_bytes());
        }
    }

    fn str(&mut self, s: &[u8]) {
        if s.len() <= 31 {
            self.0.push(0xa0 | s.len() as u8);
        } else if s.len() <= u8::MAX as usize {
            self.0.extend([0xd9, s.len() as u8]);
        } else {
            self.header(s.len(), 0xa0, 0, 0xda, 0xdb);
        }
        self.0.extend(s);
    }

    fn bin(&mut self, b: &[u8]) {
        if b.len() <= u8::MAX as usize {
            self.0.extend([0xc4, b.len() as u8]);
        } else if b.len() <= u16::MAX as usize {
            self.0.push(0xc5);
            self.0.extend((b.len() as u16).to_be_bytes());
        } else {
            self.0.push(0xc6);
            self.0.extend((b.len() as u32).to_be_bytes());
        }
        self.0.extend(b);
    }

    fn number(&mut self, n: &Number) {
        if let Some(i) = n.as_i64() {
            self.int(i);
        } else if let Some(u) = n.as_u64() {
            self.0.push(0xcf);
            self.0.extend(u.to_be_bytes());
        } else if let Some(f) = n.as_exact_f64().filter(|_| !n.is_integer()) {
            self.0.push(0xcb);
            self.0.extend(f.to_bits().to_be_bytes());
        } else {
            self.str(n.as_str().as_bytes());
        }
    }

    fn unknown(&mut self, refinements: &crate::framework::value::Refinements) {
        if refinements.is_empty() {
            self.0.extend([0xd4, EXT_UNKNOWN as u8, 0]);
            return;
        }
        let mut payload = Writer(Vec::new());
        let entries = usize::from(refinements.not_null)
            + usize::from(refinements.string_prefix.is_some())
            + usize::from(refinements.number_lower.is_some())
            + usize::from(refinements.number_upper.is_some())
            + usize::from(refinements.length_lower.is_some())
            + usize::from(refinements.length_upper.is_some());
        payload.header(entries, 0x80, 15, 0xde, 0xdf);
        if refinements.not_null {
            payload.int(1);
            payload.0.push(0xc2);
        }
        if let Some(prefix) = &refinements.string_prefix {
            payload.int(2);
            payload.str(prefix.as_bytes());
        }
        for (key, bound) in [
            (3, &refinements.number_lower),
            (4, &refinements.number_upper),
        ] {
            if let Some((n, inclusive)) = bound {
                payload.int(key);
                payload.0.push(0x92);
                payload.number(n);
                payload.0.push(if *inclusive { 0xc3 } else { 0xc2 });
            }
        }
        for (key, bound) in [(5, refinements.length_lower), (6, refinements.length_upper)] {
            if let Some(n) = bound {
                payload.int(key);
                payload.int(n.min(i64::MAX as u64) as i64);
            }
        }
        let len = payload.0.len();
        if len <= u8::MAX as usize {
            self.0.extend([0xc7, len as u8, EXT_REFINED_UNKNOWN as u8]);
        } else {
            self.0.push(0xc8);
            self.0.extend((len as u16).to_be_bytes());
            self.0.push(EXT_REFINED_UNKNOWN as u8);
        }
        self.0.extend(payload.0);
    }

    fn value(
        &mut self,
        v: &Value,
        ty: &Type,
        path: &AttributePath,
        depth: usize,
    ) -> Result<(), EncodeError> {
        if depth > MAX_DEPTH {
            return Err(Self::fail(path, "value nested too deeply"));
        }
        match (v, ty) {
            (Value::Null, _) => self.0.push(0xc0),
            (Value::Unknown(r), _) => self.unknown(r),
            (_, Type::Dynamic) => {
                let actual = type_of(v);
                self.0.push(0x92);
                self.bin(actual.to_json().as_bytes());
                self.value(v, &actual, path, depth + 1)?;
            }
            (Value::Bool(b), Type::Bool) => self.0.push(if *b { 0xc3 } else { 0xc2 }),
            (Value::Number(n), Type::Number) => self.number(n),
            (Value::String(s), Type::String) => self.str(s.as_bytes()),
            (Value::List(items) | Value::Set(items), Type::List(t) | Type::Set(t)) => {
                self.header(items.len(), 0x90, 15, 0xdc, 0xdd);
                for (i, item) in items.iter().enumerate() {
                    self.value(item, t, &path.index(i as i64), depth + 1)?;
                }
            }
            (Value::Tuple(items) | Value::List(items), Type::Tuple(types))
                if items.len() == types.len() =>
            {
                self.header(items.len(), 0x90, 15, 0xdc, 0xdd);
                for (i, (item, t)) in items.iter().zip(types).enumerate() {
                    self.value(item, t, &path.index(i as i64), depth + 1)?;
                }
            }
            (Value::Map(m), Type::Map(t)) => {
                self.header(m.len(), 0x80, 15, 0xde, 0xdf);
                for (k, item) in m {
                    self.str(k.as_bytes());
                    self.value(item, t, &path.key(k), depth + 1)?;
                }
            }
            (Value::Object(m), Type::Object(attrs, _)) => {
                if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(Self::fail(
                        path,
                        format!("attribute {extra:?} is not in the schema"),
                    ));
                }
                self.header(attrs.len(), 0x80, 15, 0xde, 0xdf);
                for (name, t) in attrs {
                    self.str(name.as_bytes());
                    match m.get(name) {
                        Some(item) => self.value(item, t, &path.attr(name), depth + 1)?,
                        None => self.0.push(0xc0),
                    }
                }
            }
            (v, ty) => {
                return Err(Self::fail(
                    path,
                    format!("a {} value does not fit type {}", kind(v), ty.to_json()),
                ));
            }
        }
        Ok(())
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
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

/// The type of a known value, for values of dynamic type.
fn type_of(v: &Value) -> Type {
    let first = |items: &[Value]| items.first().map(type_of).unwrap_or(Type::Dynamic);
    match v {
        Value::Null | Value::Unknown(_) => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::list(first(items)),
        Value::Set(items) => Type::set(first(items)),
        Value::Tuple(items) => Type::Tuple(items.iter().map(type_of).collect()),
        Value::Map(m) => Type::map(m.values().next().map(type_of).unwrap_or(Type::Dynamic)),
        Value::Object(m) => Type::Object(
            m.iter().map(|(k, v)| (k.clone(), type_of(v))).collect(),
            Default::default(),
        ),
    }
}

// ------------------------------------------------------------------ JSON --

/// Decodes go-cty JSON (stored state) against `ty`. Unknown values cannot
/// appear in JSON.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| DecodeError {
        path: AttributePath::root(),
        message: format!("invalid JSON: {e}"),
    })?;
    from_json(&json, ty, &AttributePath::root(), 0)
}

fn from_json(
    json: &serde_json::Value,
    ty: &Type,
    path: &AttributePath,
    depth: usize,
) -> Result<Value, DecodeError> {
    use serde_json::Value as J;
    let fail = |message: String| DecodeError {
        path: path.clone(),
        message,
    };
    if depth > MAX_DEPTH {
        return Err(fail("value nested too deeply".into()));
    }
    Ok(match (ty, json) {
        (_, J::Null) => Value::Null,
        (Type::Dynamic, J::Object(o)) => {
            let ty = o
                .get("type")
                .ok_or_else(|| fail("dynamic value without \"type\"".into()))?;
            let ty = Type::from_json(ty.to_string().as_bytes()).map_err(fail)?;
            from_json(o.get("value").unwrap_or(&J::Null), &ty, path, depth + 1)?
        }
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Bool, J::String(s)) if s == "true" || s == "false" => Value::Bool(s == "true"),
        (Type::Number, J::Number(n)) => Value::Number(Number::parse(&n.to_string()).map_err(fail)?),
        (Type::Number, J::String(s)) => Value::Number(Number::parse(s).map_err(fail)?),
        (Type::String, J::String(s)) => Value::String(s.clone()),
        (Type::String, J::Number(n)) => Value::String(n.to_string()),
        (Type::String, J::Bool(b)) => Value::String(b.to_string()),
        (Type::List(t), J::Array(items)) => Value::List(json_elements(items, t, path, depth)?),
        (Type::Set(t), J::Array(items)) => Value::set(json_elements(items, t, path, depth)?),
        (Type::Tuple(types), J::Array(items)) if items.len() == types.len() => Value::Tuple(
            items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, t))| from_json(item, t, &path.index(i as i64), depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Map(t), J::Object(o)) => Value::Map(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v, t, &path.key(k), depth + 1)?)))
                .collect::<Result<_, DecodeError>>()?,
        ),
        (Type::Object(attrs, _), J::Object(o)) => {
            let mut out = BTreeMap::new();
            for (k, v) in o {
                let t = attrs
                    .get(k)
                    .ok_or_else(|| fail(format!("unsupported attribute {k:?}")))?;
                out.insert(k.clone(), from_json(v, t, &path.attr(k), depth + 1)?);
            }
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Value::Object(out)
        }
        (ty, other) => return Err(fail(format!("{other} does not fit type {}", ty.to_json()))),
    })
}

fn json_elements(
    items: &[serde_json::Value],
    t: &Type,
    path: &AttributePath,
    depth: usize,
) -> Result<Vec<Value>, DecodeError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| from_json(item, t, &path.index(i as i64), depth + 1))
        .collect()
}

/// Encodes a fully known value as go-cty JSON.
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let json = to_json(value, ty, &AttributePath::root())?;
    Ok(json.to_string().into_bytes())
}

fn to_json(v: &Value, ty: &Type, path: &AttributePath) -> Result<serde_json::Value, EncodeError> {
    use serde_json::Value as J;
    let fail = |message: String| EncodeError {
        path: path.clone(),
        message,
    };
    Ok(match (v, ty) {
        (Value::Null, _) => J::Null,
        (Value::Unknown(_), _) => {
            return Err(fail("unknown values cannot be written as JSON".into()));
        }
        (v, Type::Dynamic) => {
            let actual = type_of(v);
            serde_json::json!({ "value": to_json(v, &actual, path)?, "type": actual.to_json_value() })
        }
        (Value::Bool(b), Type::Bool) => J::Bool(*b),
        (Value::Number(n), Type::Number) => J::Number(
            serde_json::from_str(n.as_str()).map_err(|e| fail(format!("number {n}: {e}")))?,
        ),
        (Value::String(s), Type::String) => J::String(s.clone()),
        (Value::List(items) | Value::Set(items), Type::List(t) | Type::Set(t)) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(item, t, &path.index(i as i64)))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Tuple(items), Type::Tuple(types)) if items.len() == types.len() => J::Array(
            items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, t))| to_json(item, t, &path.index(i as i64)))
                .collect::<Result<_, _>>()?,
        ),
        (Value::Map(m), Type::Map(t)) => J::Object(
            m.iter()
                .map(|(k, item)| Ok((k.clone(), to_json(item, t, &path.key(k))?)))
                .collect::<Result<_, EncodeError>>()?,
        ),
        (Value::Object(m), Type::Object(attrs, _)) => J::Object(
            attrs
                .iter()
                .map(|(k, t)| {
                    Ok((
                        k.clone(),
                        to_json(m.get(k).unwrap_or(&Value::Null), t, &path.attr(k))?,
                    ))
                })
                .collect::<Result<_, EncodeError>>()?,
        ),
        (v, ty) => {
            return Err(fail(format!(
                "a {} value does not fit type {}",
                kind(v),
                ty.to_json()
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    fn n(text: &str) -> Value {
        Value::Number(Number::parse(text).unwrap())
    }

    fn round_trip(v: &Value, ty: &Type) {
        let bytes = encode_msgpack(v, ty).unwrap();
        assert_eq!(
            &decode_msgpack(&bytes, ty).unwrap(),
            v,
            "msgpack {bytes:02x?}"
        );
        if v.is_fully_known() {
            let json = encode_json(v, ty).unwrap();
            assert_eq!(
                &decode_json(&json, ty).unwrap(),
                v,
                "json {}",
                String::from_utf8_lossy(&json)
            );
        }
    }

    fn resource_type() -> Type {
        Type::object([
            ("id", Type::String),
            ("ports", Type::set(Type::Number)),
            ("tags", Type::map(Type::String)),
            ("on", Type::Bool),
            (
                "entries",
                Type::list(Type::object([
                    ("dns_name", Type::String),
                    ("zone", Type::String),
                ])),
            ),
            ("timeouts", Type::object([("create", Type::String)])),
            ("anything", Type::Dynamic),
        ])
    }

    fn object(pairs: &[(&str, Value)], ty: &Type) -> Value {
        let Type::Object(attrs, _) = ty else {
            unreachable!()
        };
        let mut m: BTreeMap<String, Value> =
            attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
        for (k, v) in pairs {
            m.insert((*k).to_owned(), v.clone());
        }
        Value::Object(m)
    }

    #[test]
    fn every_kind_round_trips() {
        let ty = resource_type();
        let entries = Type::object([("dns_name", Type::String), ("zone", Type::String)]);
        let values = [
            object(&[], &ty),
            object(
                &[
                    ("id", s("sg-0123")),
                    ("ports", Value::Set(vec![n("5432"), n("6432")])),
                    (
                        "tags",
                        Value::Map([("env".to_owned(), s("prod"))].into_iter().collect()),
                    ),
                    ("on", Value::Bool(true)),
                    (
                        "entries",
                        Value::List(vec![object(
                            &[("dns_name", s("a.example.com")), ("zone", s("Z1"))],
                            &entries,
                        )]),
                    ),
                    (
                        "timeouts",
                        object(
                            &[("create", s("10m"))],
                            &Type::object([("create", Type::String)]),
                        ),
                    ),
                    ("anything", Value::List(vec![s("x"), s("y")])),
                ],
                &ty,
            ),
            object(
                &[
                    ("id", Value::unknown()),
                    ("ports", Value::Set(vec![Value::unknown()])),
                ],
                &ty,
            ),
            object(
                &[("tags", Value::unknown()), ("entries", Value::List(vec![]))],
                &ty,
            ),
        ];
        for v in &values {
            round_trip(v, &ty);
        }
    }

    #[test]
    fn big_and_fractional_numbers_survive() {
        for text in [
            "1.5",
            "1180591620717411303424",
            "-9223372036854775808",
            "18446744073709551615",
            "0.1",
            "-12.25",
            "1e-30",
            "123456789012345678901234567890.5",
        ] {
            round_trip(&n(text), &Type::Number);
        }
        // 2^70 travels as text, 1.5 as a float64, 7 as a fixint.
        assert_eq!(
            encode_msgpack(&n("1180591620717411303424"), &Type::Number).unwrap()[0],
            0xb6
        );
        assert_eq!(encode_msgpack(&n("1.5"), &Type::Number).unwrap()[0], 0xcb);
        assert_eq!(encode_msgpack(&n("7"), &Type::Number).unwrap(), [0x07]);
    }

    #[test]
    fn go_cty_bytes_decode() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        // {"a": unknown, "b": null}, as go-cty writes it.
        let bytes = [0x82, 0xa1, b'a', 0xd4, 0x00, 0x00, 0xa1, b'b', 0xc0];
        let v = decode_msgpack(&bytes, &ty).unwrap();
        assert_eq!(v, object(&[("a", Value::unknown())], &ty));
        assert_eq!(encode_msgpack(&v, &ty).unwrap(), bytes);
        // A number as a decimal string, and as a float32.
        assert_eq!(
            decode_msgpack(&[0xa3, b'1', b'.', b'5'], &Type::Number).unwrap(),
            n("1.5")
        );
        assert_eq!(
            decode_msgpack(&[0xca, 0x3f, 0xc0, 0x00, 0x00], &Type::Number).unwrap(),
            n("1.5")
        );
        // A dynamic value: ["string" (type JSON as bin), "hi"].
        let dynamic = [
            0x92, 0xc4, 0x08, b'"', b's', b't', b'r', b'i', b'n', b'g', b'"', 0xa2, b'h', b'i',
        ];
        assert_eq!(decode_msgpack(&dynamic, &Type::Dynamic).unwrap(), s("hi"));
    }

    #[test]
    fn refined_unknowns_decode_and_round_trip() {
        // ext 12 {1: false (not null), 2: "vpce-"}
        let payload = [0x82, 0x01, 0xc2, 0x02, 0xa5, b'v', b'p', b'c', b'e', b'-'];
        let mut bytes = vec![0xc7, payload.len() as u8, 12];
        bytes.extend(payload);
        let v = decode_msgpack(&bytes, &Type::String).unwrap();
        let Value::Unknown(r) = &v else {
            panic!("{v:?}")
        };
        assert!(r.not_null);
        assert_eq!(r.string_prefix.as_deref(), Some("vpce-"));
        assert_eq!(encode_msgpack(&v, &Type::String).unwrap(), bytes);
        let bounded = Value::Unknown(Refinements {
            number_lower: Some((Number::from(1i64), true)),
            length_upper: Some(3),
            ..Refinements::default()
        });
        let again = decode_msgpack(
            &encode_msgpack(&bounded, &Type::Number).unwrap(),
            &Type::Number,
        )
        .unwrap();
        let (Value::Unknown(a), Value::Unknown(b)) = (&again, &bounded) else {
            panic!()
        };
        assert_eq!(a, b);
    }

    #[test]
    fn errors_name_the_path() {
        let ty = resource_type();
        // {"ports": ["x"]}
        let bytes = [0x81, 0xa5, b'p', b'o', b'r', b't', b's', 0x91, 0xa1, b'x'];
        let err = decode_msgpack(&bytes, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "ports[0]");
        let err = decode_msgpack(&[0x81, 0xa3, b'z', b'z', b'z', 0xc0], &ty).unwrap_err();
        assert!(err.message.contains("unsupported attribute"), "{err}");
        let err = decode_json(br#"{"tags": {"env": [1]}}"#, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "tags[\"env\"]");
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = resource_type();
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xc1],
            vec![0xdf, 0xff, 0xff, 0xff, 0xff],
            vec![0xdd, 0x7f, 0xff, 0xff, 0xff],
            vec![0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
            vec![0x81, 0xa2, b'i', b'd'],
            vec![0xc0, 0xc0],
            std::iter::repeat_n(0x91u8, 10_000).collect(),
        ];
        for bytes in cases {
            assert!(
                decode_msgpack(&bytes, &ty).is_err(),
                "{:02x?}",
                &bytes[..bytes.len().min(8)]
            );
        }
        let deep = Type::Dynamic;
        let mut nested = Vec::new();
        for _ in 0..200 {
            nested.extend([0x92, 0xa9]);
            nested.extend(br#"["list",1"#);
        }
        assert!(decode_msgpack(&nested, &deep).is_err());
    }

    #[test]
    fn values_that_do_not_fit_are_encode_errors() {
        let err = encode_msgpack(&s("x"), &Type::Number).unwrap_err();
        assert!(err.message.contains("does not fit"));
        assert!(encode_json(&Value::unknown(), &Type::String).is_err());
    }
}
