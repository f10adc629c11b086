//! Terraform's wire formats for values, as go-cty writes them: msgpack for
//! every `DynamicValue`, JSON for raw stored state (UpgradeResourceState).
//! Both are read and written against a known [`Type`].
//!
//! msgpack, as go-cty's `cty/msgpack` has it:
//! * null is `nil`; a wholly unknown value is the extension of type 0 with
//!   one zero byte (`d4 00 00`). On reading, any extension of at most one
//!   byte is a wholly unknown value, whatever its type code.
//! * An unknown with refinements is extension type 12 (`0x0c`) holding a
//!   msgpack map with small-integer keys: 1 nullness (`false` = definitely
//!   not null), 2 string prefix, 3 and 4 number lower and upper bounds as
//!   `[number, inclusive]`, 5 and 6 collection length lower and upper
//!   bounds. Only the refinements that apply to the type are written, none
//!   for `dynamic`; the extension header is the shortest form, so a 4-,
//!   8- or 16-byte payload gets a `fixext` header. Payloads over 1024 bytes
//!   are refused; unknown keys are skipped and trailing bytes ignored.
//! * A number is an integer when it is one and fits an `i64` (in the
//!   smallest form), a float64 when it has a fraction and a float64 holds
//!   it exactly, and otherwise its decimal text; any integer, float or
//!   string form is read.
//! * A list, set or tuple is an array; a map is a map; an object is a map
//!   of every attribute, in name order. Reading an object, an attribute the
//!   type does not have is an error and one that is absent is null.
//! * A value of type `dynamic` is a two-element array: the JSON of its
//!   real type (written as `bin`, read as `bin` or `str`) and the value.
//!   A null or unknown of type `dynamic` is plain `nil` or `d4 00 00`.
//! * Marks never go on the wire (go-cty refuses marked values), so values
//!   here have none.
//!
//! Everything read is untrusted: no length from a header is allocated
//! ahead of the bytes that back it, nesting is capped at [`MAX_DEPTH`], and
//! every failure is an error naming the path where it happened, never a
//! panic.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;

use rmp::Marker;
use rmp::encode::{ByteBuf, ValueWriteError};

use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::{Number, NumberBound, Refinements, Value, dedup_set};

use dynamic::implied_type;

mod dynamic;
mod json;

pub use json::{decode_json, encode_json};

/// The deepest nesting of values the codecs read or write.
pub const MAX_DEPTH: usize = 64;

/// Extension type of a wholly unknown value.
const EXT_UNKNOWN: i8 = 0;
/// Extension type of an unknown value with refinements.
const EXT_REFINED_UNKNOWN: i8 = 0x0c;
/// The largest refinement payload go-cty accepts.
const MAX_REFINEMENTS_LEN: usize = 1024;
/// go-cty truncates longer string-prefix refinements before writing them.
const MAX_PREFIX_LEN: usize = 256;

const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_MIN: i64 = 3;
const KEY_NUMBER_MAX: i64 = 4;
const KEY_LENGTH_MIN: i64 = 5;
const KEY_LENGTH_MAX: i64 = 6;

/// A value could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", Located(path))]
pub struct DecodeError {
    /// Where in the value reading failed.
    pub path: AttributePath,
    pub message: String,
}

/// A value could not be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", Located(path))]
pub struct EncodeError {
    /// Where in the value writing failed.
    pub path: AttributePath,
    pub message: String,
}

/// ` at <path>`, or nothing at the root.
struct Located<'a>(&'a AttributePath);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_root() {
            Ok(())
        } else {
            write!(f, " at {}", self.0)
        }
    }
}

fn decode_error(path: &AttributePath, message: impl Into<String>) -> DecodeError {
    DecodeError {
        path: path.clone(),
        message: message.into(),
    }
}

fn encode_error(path: &AttributePath, message: impl Into<String>) -> EncodeError {
    EncodeError {
        path: path.clone(),
        message: message.into(),
    }
}

fn too_deep() -> String {
    format!("value nested more than {MAX_DEPTH} levels deep")
}

// ============================================================ msgpack in ==

/// Reads a msgpack `DynamicValue` of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let root = AttributePath::root();
    let mut reader = Reader::new(bytes);
    let value = reader.value(ty, &root, 0)?;
    if reader.remaining() > 0 {
        return Err(decode_error(
            &root,
            format!("{} unexpected bytes after the value", reader.remaining()),
        ));
    }
    Ok(value)
}

/// One msgpack item, its contents borrowed from the input; collections
/// only as their claimed length.
#[derive(Debug)]
enum Item<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'a [u8]),
}

impl Item<'_> {
    fn describe(&self) -> &'static str {
        match self {
            Item::Nil => "nil",
            Item::Bool(_) => "a bool",
            Item::Int(_) | Item::Uint(_) => "an integer",
            Item::Float(_) => "a float",
            Item::Str(_) => "a string",
            Item::Bin(_) => "binary data",
            Item::Array(_) => "an array",
            Item::Map(_) => "a map",
            Item::Ext(..) => "an extension",
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, path: &AttributePath) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(decode_error(
                path,
                format!(
                    "msgpack ends early: {n} bytes needed, {} left",
                    self.remaining()
                ),
            ));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, path: &AttributePath) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, path)?);
        Ok(out)
    }

    fn u8(&mut self, path: &AttributePath) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(path)?[0])
    }

    fn u16(&mut self, path: &AttributePath) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(path)?))
    }

    fn u32(&mut self, path: &AttributePath) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(path)?))
    }

    /// A length field of `bytes` (1, 2 or 4) bytes.
    fn len(&mut self, bytes: usize, path: &AttributePath) -> Result<usize, DecodeError> {
        let n = match bytes {
            1 => u32::from(self.u8(path)?),
            2 => u32::from(self.u16(path)?),
            _ => self.u32(path)?,
        };
        usize::try_from(n).map_err(|_| decode_error(path, "length too large for this machine"))
    }

    /// A collection's claimed length, refused if the bytes left could not
    /// hold that many items of at least `min_item` bytes each.
    fn claimed(
        &self,
        n: usize,
        min_item: usize,
        path: &AttributePath,
    ) -> Result<usize, DecodeError> {
        if n.saturating_mul(min_item) > self.remaining() {
            return Err(decode_error(
                path,
                format!(
                    "msgpack claims {n} elements but only {} bytes are left",
                    self.remaining()
                ),
            ));
        }
        Ok(n)
    }

    fn item(&mut self, path: &AttributePath) -> Result<Item<'a>, DecodeError> {
        let marker = Marker::from_u8(self.u8(path)?);
        Ok(match marker {
            Marker::Null => Item::Nil,
            Marker::True => Item::Bool(true),
            Marker::False => Item::Bool(false),
            Marker::FixPos(n) => Item::Int(i64::from(n)),
            Marker::FixNeg(n) => Item::Int(i64::from(n)),
            Marker::U8 => Item::Uint(u64::from(self.u8(path)?)),
            Marker::U16 => Item::Uint(u64::from(self.u16(path)?)),
            Marker::U32 => Item::Uint(u64::from(self.u32(path)?)),
            Marker::U64 => Item::Uint(u64::from_be_bytes(self.array(path)?)),
            Marker::I8 => Item::Int(i64::from(i8::from_be_bytes(self.array(path)?))),
            Marker::I16 => Item::Int(i64::from(i16::from_be_bytes(self.array(path)?))),
            Marker::I32 => Item::Int(i64::from(i32::from_be_bytes(self.array(path)?))),
            Marker::I64 => Item::Int(i64::from_be_bytes(self.array(path)?)),
            Marker::F32 => Item::Float(f64::from(f32::from_be_bytes(self.array(path)?))),
            Marker::F64 => Item::Float(f64::from_be_bytes(self.array(path)?)),
            Marker::FixStr(n) => Item::Str(self.take(usize::from(n), path)?),
            Marker::Str8 | Marker::Str16 | Marker::Str32 => {
                let n = self.len(width(marker), path)?;
                Item::Str(self.take(n, path)?)
            }
            Marker::Bin8 | Marker::Bin16 | Marker::Bin32 => {
                let n = self.len(width(marker), path)?;
                Item::Bin(self.take(n, path)?)
            }
            Marker::FixArray(n) => Item::Array(self.claimed(usize::from(n), 1, path)?),
            Marker::Array16 | Marker::Array32 => {
                let n = self.len(width(marker), path)?;
                Item::Array(self.claimed(n, 1, path)?)
            }
            Marker::FixMap(n) => Item::Map(self.claimed(usize::from(n), 2, path)?),
            Marker::Map16 | Marker::Map32 => {
                let n = self.len(width(marker), path)?;
                Item::Map(self.claimed(n, 2, path)?)
            }
            Marker::FixExt1
            | Marker::FixExt2
            | Marker::FixExt4
            | Marker::FixExt8
            | Marker::FixExt16 => {
                let kind = i8::from_be_bytes(self.array(path)?);
                Item::Ext(kind, self.take(width(marker), path)?)
            }
            Marker::Ext8 | Marker::Ext16 | Marker::Ext32 => {
                let n = self.len(width(marker), path)?;
                let kind = i8::from_be_bytes(self.array(path)?);
                Item::Ext(kind, self.take(n, path)?)
            }
            Marker::Reserved => return Err(decode_error(path, "invalid msgpack byte 0xc1")),
        })
    }

    /// Skips one item and everything inside it.
    fn skip(&mut self, path: &AttributePath, depth: usize) -> Result<(), DecodeError> {
        if depth > MAX_DEPTH {
            return Err(decode_error(path, too_deep()));
        }
        let items = match self.item(path)? {
            Item::Array(n) => n,
            Item::Map(n) => n.saturating_mul(2),
            _ => 0,
        };
        for _ in 0..items {
            self.skip(path, depth + 1)?;
        }
        Ok(())
    }

    fn string(&mut self, path: &AttributePath, what: &str) -> Result<String, DecodeError> {
        match self.item(path)? {
            Item::Str(bytes) | Item::Bin(bytes) => utf8(bytes, path),
            other => Err(decode_error(
                path,
                format!("{what} must be a string, not {}", other.describe()),
            )),
        }
    }

    fn value(
        &mut self,
        ty: &Type,
        path: &AttributePath,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(decode_error(path, too_deep()));
        }
        let item = self.item(path)?;
        match item {
            // Extensions first, whatever the type: go-cty has no other kind.
            Item::Ext(kind, payload) => return unknown(kind, payload, ty, path),
            Item::Nil => return Ok(Value::Null),
            _ if ty.is_dynamic() => return self.dynamic(item, path, depth),
            _ => {}
        }
        let mismatch = |item: &Item<'_>| {
            decode_error(
                path,
                format!("expected {}, got {}", expected(ty), item.describe()),
            )
        };
        match (ty, item) {
            (Type::Bool, Item::Bool(b)) => Ok(Value::Bool(b)),
            (Type::Number, item) => {
                Ok(Value::Number(number(&item, path).map_err(|e| match e {
                    Some(e) => e,
                    None => mismatch(&item),
                })?))
            }
            (Type::String, Item::Str(bytes) | Item::Bin(bytes)) => {
                Ok(Value::String(utf8(bytes, path)?))
            }
            (Type::List(element), Item::Array(n)) => {
                Ok(Value::List(self.elements(element, n, path, depth)?))
            }
            (Type::Set(element), Item::Array(n)) => Ok(Value::Set(dedup_set(
                self.elements(element, n, path, depth)?,
            ))),
            (Type::Tuple(types), Item::Array(n)) => {
                if n != types.len() {
                    return Err(decode_error(
                        path,
                        format!("expected a tuple of {} elements, got {n}", types.len()),
                    ));
                }
                let mut out = Vec::new();
                for (i, t) in types.iter().enumerate() {
                    out.push(self.value(t, &path.index(i as i64), depth + 1)?);
                }
                Ok(Value::Tuple(out))
            }
            (Type::Map(element), Item::Map(n)) => {
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let key = self.string(path, "a map key")?;
                    let v = self.value(element, &path.key(&key), depth + 1)?;
                    out.insert(key, v);
                }
                Ok(Value::Map(out))
            }
            (Type::Object(attrs, _), Item::Map(n)) => {
                let mut out = BTreeMap::new();
                for _ in 0..n {
                    let name = self.string(path, "an attribute name")?;
                    let attr_path = path.attr(&name);
                    let Some(t) = attrs.get(&name) else {
                        return Err(decode_error(
                            &attr_path,
                            format!("unsupported attribute {name:?}"),
                        ));
                    };
                    if out.contains_key(&name) {
                        return Err(decode_error(
                            &attr_path,
                            format!("attribute {name:?} is given twice"),
                        ));
                    }
                    let v = self.value(t, &attr_path, depth + 1)?;
                    out.insert(name, v);
                }
                for name in attrs.keys() {
                    if !out.contains_key(name) {
                        out.insert(name.clone(), Value::Null);
                    }
                }
                Ok(Value::Object(out))
            }
            (_, item) => Err(mismatch(&item)),
        }
    }

    fn elements(
        &mut self,
        element: &Type,
        n: usize,
        path: &AttributePath,
        depth: usize,
    ) -> Result<Vec<Value>, DecodeError> {
        // No capacity from the header: it is only a claim.
        let mut out = Vec::new();
        for i in 0..n {
            out.push(self.value(element, &path.index(i as i64), depth + 1)?);
        }
        Ok(out)
    }

    /// A known value of type `dynamic`, from its first item: it must be
    /// `[type JSON, value]`.
    fn dynamic(
        &mut self,
        item: Item<'a>,
        path: &AttributePath,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        match item {
            Item::Array(2) => {
                let type_json = match self.item(path)? {
                    Item::Bin(bytes) | Item::Str(bytes) => bytes,
                    other => {
                        return Err(decode_error(
                            path,
                            format!(
                                "a dynamic value's type must be JSON text, not {}",
                                other.describe()
                            ),
                        ));
                    }
                };
                let ty =
                    Type::from_json(type_json).map_err(|e| decode_error(path, e.to_string()))?;
                self.value(&ty, path, depth + 1)
            }
            other => Err(decode_error(
                path,
                format!(
                    "expected a dynamic value (a [type, value] array), got {}",
                    match other {
                        Item::Array(_) => "an array not of two elements",
                        other => other.describe(),
                    }
                ),
            )),
        }
    }
}

/// The width of a marker's length field, or of a fixext's payload; 0 for
/// markers that have neither.
fn width(marker: Marker) -> usize {
    match marker {
        Marker::Str8 | Marker::Bin8 | Marker::Ext8 | Marker::FixExt1 => 1,
        Marker::Str16
        | Marker::Bin16
        | Marker::Ext16
        | Marker::Array16
        | Marker::Map16
        | Marker::FixExt2 => 2,
        Marker::Str32
        | Marker::Bin32
        | Marker::Ext32
        | Marker::Array32
        | Marker::Map32
        | Marker::FixExt4 => 4,
        Marker::FixExt8 => 8,
        Marker::FixExt16 => 16,
        _ => 0,
    }
}

fn expected(ty: &Type) -> String {
    match ty {
        Type::Bool => "a bool".into(),
        Type::Number => "a number".into(),
        Type::String => "a string".into(),
        Type::List(_) | Type::Set(_) | Type::Tuple(_) => format!("an array for a {ty}"),
        Type::Map(_) | Type::Object(..) => format!("a map for a {ty}"),
        Type::Dynamic => "a dynamic value".into(),
    }
}

fn utf8(bytes: &[u8], path: &AttributePath) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| decode_error(path, "string is not valid UTF-8"))
}

/// A number in any of its msgpack forms; `Err(None)` when the item is not
/// a number at all.
fn number(item: &Item<'_>, path: &AttributePath) -> Result<Number, Option<DecodeError>> {
    match *item {
        Item::Int(i) => Ok(Number::from(i)),
        Item::Uint(u) => Ok(Number::from(u)),
        Item::Float(f) if f.is_finite() => {
            Number::from_f64(f).map_err(|e| Some(decode_error(path, e.to_string())))
        }
        Item::Float(f) => Err(Some(decode_error(
            path,
            format!("the number {f} is not supported: numbers must be finite"),
        ))),
        Item::Str(text) | Item::Bin(text) => {
            let text = std::str::from_utf8(text)
                .map_err(|_| Some(decode_error(path, "number text is not valid UTF-8")))?;
            Number::parse(text).map_err(|e| Some(decode_error(path, e.to_string())))
        }
        _ => Err(None),
    }
}

/// An unknown value from its extension.
fn unknown(
    kind: i8,
    payload: &[u8],
    ty: &Type,
    path: &AttributePath,
) -> Result<Value, DecodeError> {
    if payload.len() <= 1 {
        return Ok(Value::unknown());
    }
    if kind != EXT_REFINED_UNKNOWN {
        return Err(decode_error(
            path,
            format!(
                "unsupported msgpack extension type {kind} of {} bytes",
                payload.len()
            ),
        ));
    }
    if payload.len() > MAX_REFINEMENTS_LEN {
        return Err(decode_error(
            path,
            format!(
                "refinements of an unknown value take {} bytes, more than the {MAX_REFINEMENTS_LEN} allowed",
                payload.len()
            ),
        ));
    }
    let bad = |what: &str| decode_error(path, format!("invalid unknown value refinements: {what}"));
    let mut r = Reader::new(payload);
    let entries = match r.item(path) {
        Ok(Item::Map(entries)) => entries,
        Ok(_) => return Err(bad("not a map")),
        Err(_) => return Err(bad("truncated")),
    };
    if let Type::Dynamic = ty {
        // go-cty ignores refinements of a value of unknown type.
        return Ok(Value::unknown());
    }
    let mut out = Refinements::default();
    let mut definitely_null = false;
    for _ in 0..entries {
        let key = match r.item(path).map_err(|_| bad("truncated"))? {
            Item::Int(k) => k,
            Item::Uint(k) => i64::try_from(k).unwrap_or(i64::MAX),
            _ => return Err(bad("a key is not an integer")),
        };
        match key {
            KEY_NULLNESS => match r.item(path).map_err(|_| bad("truncated"))? {
                Item::Bool(true) => definitely_null = true,
                Item::Bool(false) => out.not_null = true,
                _ => return Err(bad("nullness is not a bool")),
            },
            KEY_STRING_PREFIX => {
                if *ty != Type::String {
                    return Err(bad(&format!("a string prefix for a {ty}")));
                }
                let prefix = r
                    .string(path, "a string prefix")
                    .map_err(|_| bad("the string prefix is not a UTF-8 string"))?;
                out.string_prefix = (!prefix.is_empty()).then_some(prefix);
            }
            KEY_NUMBER_MIN | KEY_NUMBER_MAX => {
                if *ty != Type::Number {
                    return Err(bad(&format!("a number bound for a {ty}")));
                }
                let bound = number_bound(&mut r, path)
                    .map_err(|_| bad("a number bound is not a [number, bool] array"))?;
                if key == KEY_NUMBER_MIN {
                    out.number_lower = bound;
                } else {
                    out.number_upper = bound;
                }
            }
            KEY_LENGTH_MIN | KEY_LENGTH_MAX => {
                if !ty.is_collection() {
                    return Err(bad(&format!("a length bound for a {ty}")));
                }
                let bound = match r.item(path).map_err(|_| bad("truncated"))? {
                    Item::Int(n) => u64::try_from(n).ok(),
                    Item::Uint(n) => Some(n),
                    _ => return Err(bad("a length bound is not an integer")),
                };
                match (key, bound) {
                    // A negative lower bound says nothing.
                    (KEY_LENGTH_MIN, bound) => out.length_lower = bound.filter(|n| *n > 0),
                    (_, Some(n)) => out.length_upper = Some(n),
                    (_, None) => return Err(bad("a negative length upper bound")),
                }
            }
            // Keys from a future go-cty: skip their values.
            _ => r.skip(path, 0).map_err(|_| bad("truncated"))?,
        }
    }
    if definitely_null {
        // go-cty collapses "unknown, but certainly null" into null.
        return Ok(Value::Null);
    }
    if let (Some(lower), Some(upper)) = (out.length_lower, out.length_upper)
        && lower > upper
    {
        return Err(bad(&format!("length bounds {lower} > {upper}")));
    }
    if let (Some(lower), Some(upper)) = (&out.number_lower, &out.number_upper) {
        let empty = match lower.value.cmp(&upper.value) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => !(lower.inclusive && upper.inclusive),
            std::cmp::Ordering::Less => false,
        };
        if empty {
            return Err(bad(&format!(
                "number bounds {} and {} admit no number",
                lower.value, upper.value
            )));
        }
    }
    Ok(Value::Unknown(out))
}

/// `[number, inclusive]`; `None` for an infinite bound, which says nothing.
fn number_bound(r: &mut Reader<'_>, path: &AttributePath) -> Result<Option<NumberBound>, ()> {
    let Ok(Item::Array(2)) = r.item(path) else {
        return Err(());
    };
    let value = match r.item(path).map_err(|_| ())? {
        Item::Float(f) if f.is_infinite() => None,
        item => Some(number(&item, path).map_err(|_| ())?),
    };
    let Ok(Item::Bool(inclusive)) = r.item(path) else {
        return Err(());
    };
    Ok(value.map(|value| NumberBound { value, inclusive }))
}

// =========================================================== msgpack out ==

/// Writes `value` as a msgpack `DynamicValue` of type `ty`, byte for byte
/// as go-cty would.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer(ByteBuf::new());
    w.value(value, ty, &AttributePath::root(), 0)?;
    Ok(w.0.into_vec())
}

/// Unwraps the results of writing into a [`ByteBuf`], which cannot fail.
trait Written<T> {
    fn written(self) -> T;
}

impl<T> Written<T> for Result<T, Infallible> {
    fn written(self) -> T {
        match self {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }
}

impl<T> Written<T> for Result<T, ValueWriteError<Infallible>> {
    fn written(self) -> T {
        match self {
            Ok(v) => v,
            Err(
                ValueWriteError::InvalidMarkerWrite(never)
                | ValueWriteError::InvalidDataWrite(never),
            ) => match never {},
        }
    }
}

#[derive(Default)]
struct Writer(ByteBuf);

impl Writer {
    fn nil(&mut self) {
        rmp::encode::write_nil(&mut self.0).written();
    }

    fn bool(&mut self, b: bool) {
        rmp::encode::write_bool(&mut self.0, b).written();
    }

    fn int(&mut self, i: i64) {
        // Smallest form, positive values as unsigned: go's EncodeInt.
        rmp::encode::write_sint(&mut self.0, i).written();
    }

    fn str(&mut self, s: &str, path: &AttributePath) -> Result<(), EncodeError> {
        check_len(s.len(), path)?;
        rmp::encode::write_str(&mut self.0, s).written();
        Ok(())
    }

    fn bin(&mut self, b: &[u8], path: &AttributePath) -> Result<(), EncodeError> {
        check_len(b.len(), path)?;
        rmp::encode::write_bin(&mut self.0, b).written();
        Ok(())
    }

    fn array_len(&mut self, n: usize, path: &AttributePath) -> Result<(), EncodeError> {
        rmp::encode::write_array_len(&mut self.0, check_len(n, path)?).written();
        Ok(())
    }

    fn map_len(&mut self, n: usize, path: &AttributePath) -> Result<(), EncodeError> {
        rmp::encode::write_map_len(&mut self.0, check_len(n, path)?).written();
        Ok(())
    }

    fn number(&mut self, n: &Number, path: &AttributePath) -> Result<(), EncodeError> {
        if let Some(i) = n.as_i64() {
            self.int(i);
        } else if let Some(f) = n.to_exact_f64().filter(|_| !n.is_integer()) {
            rmp::encode::write_f64(&mut self.0, f).written();
        } else {
            self.str(n.as_str(), path)?;
        }
        Ok(())
    }

    /// An unknown value: `d4 00 00`, or extension 12 when some of its
    /// refinements apply to `ty`.
    fn unknown(
        &mut self,
        refinements: &Refinements,
        ty: &Type,
        path: &AttributePath,
    ) -> Result<(), EncodeError> {
        // The entries of the refinement map, in go-cty's order.
        let mut map = RefinementMap::default();
        if ty.is_dynamic() {
            // go-cty never refines a value of unknown type.
        } else {
            if refinements.not_null {
                map.entry(KEY_NULLNESS).bool(false);
            }
            match ty {
                Type::Number => {
                    for (key, bound) in [
                        (KEY_NUMBER_MIN, &refinements.number_lower),
                        (KEY_NUMBER_MAX, &refinements.number_upper),
                    ] {
                        if let Some(bound) = bound {
                            let w = map.entry(key);
                            w.array_len(2, path)?;
                            w.number(&bound.value, path)?;
                            w.bool(bound.inclusive);
                        }
                    }
                }
                Type::String => {
                    let prefix = refinements.string_prefix.as_deref().map_or("", safe_prefix);
                    if !prefix.is_empty() {
                        map.entry(KEY_STRING_PREFIX).str(prefix, path)?;
                    }
                }
                Type::List(_) | Type::Set(_) | Type::Map(_) => {
                    // A lower bound of 0, or an upper bound past i64, says
                    // nothing; go-cty leaves such bounds out.
                    let lower = refinements.length_lower.filter(|n| *n > 0);
                    if let Some(lower) = lower {
                        map.entry(KEY_LENGTH_MIN)
                            .int(i64::try_from(lower).unwrap_or(i64::MAX));
                    }
                    let upper = refinements.length_upper.and_then(|n| i64::try_from(n).ok());
                    if let Some(upper) = upper {
                        map.entry(KEY_LENGTH_MAX).int(upper);
                    }
                }
                _ => {}
            }
        }
        if map.entries == 0 {
            rmp::encode::write_ext_meta(&mut self.0, 1, EXT_UNKNOWN).written();
            self.0.as_mut_vec().push(0);
            return Ok(());
        }
        let mut payload = Writer(ByteBuf::new());
        payload.map_len(map.entries, path)?;
        payload
            .0
            .as_mut_vec()
            .extend_from_slice(map.body.0.as_slice());
        let payload = payload.0.into_vec();
        rmp::encode::write_ext_meta(
            &mut self.0,
            check_len(payload.len(), path)?,
            EXT_REFINED_UNKNOWN,
        )
        .written();
        self.0.as_mut_vec().extend_from_slice(&payload);
        Ok(())
    }

    fn value(
        &mut self,
        v: &Value,
        ty: &Type,
        path: &AttributePath,
        depth: usize,
    ) -> Result<(), EncodeError> {
        if depth > MAX_DEPTH {
            return Err(encode_error(path, too_deep()));
        }
        let mismatch =
            || encode_error(path, format!("cannot write a {} value as {}", v.kind(), ty));
        match (v, ty) {
            (Value::Unknown(refinements), _) => self.unknown(refinements, ty, path)?,
            (Value::Null, _) => self.nil(),
            (_, Type::Dynamic) => {
                let actual = implied_type(v, path, depth)?;
                self.array_len(2, path)?;
                self.bin(actual.to_json().as_bytes(), path)?;
                self.value(v, &actual, path, depth + 1)?;
            }
            (Value::Bool(b), Type::Bool) => self.bool(*b),
            (Value::Number(n), Type::Number) => self.number(n, path)?,
            (Value::String(s), Type::String) => self.str(s, path)?,
            (Value::List(items) | Value::Tuple(items), Type::List(element)) => {
                self.array_len(items.len(), path)?;
                for (i, item) in items.iter().enumerate() {
                    self.value(item, element, &path.index(i as i64), depth + 1)?;
                }
            }
            (Value::Set(items), Type::List(element)) => {
                let items = dedup_set(items.clone());
                self.array_len(items.len(), path)?;
                for (i, item) in items.iter().enumerate() {
                    self.value(item, element, &path.index(i as i64), depth + 1)?;
                }
            }
            (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Set(element)) => {
                let items = dedup_set(items.clone());
                self.array_len(items.len(), path)?;
                for (i, item) in items.iter().enumerate() {
                    self.value(item, element, &path.index(i as i64), depth + 1)?;
                }
            }
            (Value::Tuple(items) | Value::List(items), Type::Tuple(types)) => {
                if items.len() != types.len() {
                    return Err(encode_error(
                        path,
                        format!(
                            "a tuple of {} elements needs {} values, not {}",
                            types.len(),
                            types.len(),
                            items.len()
                        ),
                    ));
                }
                self.array_len(items.len(), path)?;
                for (i, (item, t)) in items.iter().zip(types).enumerate() {
                    self.value(item, t, &path.index(i as i64), depth + 1)?;
                }
            }
            (Value::Map(m) | Value::Object(m), Type::Map(element)) => {
                self.map_len(m.len(), path)?;
                for (key, item) in m {
                    self.str(key, path)?;
                    self.value(item, element, &path.key(key), depth + 1)?;
                }
            }
            (Value::Object(m) | Value::Map(m), Type::Object(attrs, _)) => {
                if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(encode_error(
                        &path.attr(extra),
                        format!("the object type has no attribute {extra:?}"),
                    ));
                }
                self.map_len(attrs.len(), path)?;
                for (name, t) in attrs {
                    self.str(name, path)?;
                    match m.get(name) {
                        Some(item) => self.value(item, t, &path.attr(name), depth + 1)?,
                        None => self.nil(),
                    }
                }
            }
            _ => return Err(mismatch()),
        }
        Ok(())
    }
}

/// The entries of a refinement map as they are written, and how many.
#[derive(Default)]
struct RefinementMap {
    entries: usize,
    body: Writer,
}

impl RefinementMap {
    /// Writes `key` and returns the writer for its value.
    fn entry(&mut self, key: i64) -> &mut Writer {
        self.entries += 1;
        self.body.int(key);
        &mut self.body
    }
}

/// A length as msgpack's u32, or an error past it.
fn check_len(n: usize, path: &AttributePath) -> Result<u32, EncodeError> {
    u32::try_from(n).map_err(|_| encode_error(path, format!("{n} is too long for msgpack")))
}

/// A string-prefix refinement as go-cty writes it: as is up to 256 bytes;
/// past that cut to at most 255 bytes, and further back to just before an
/// ASCII character, so that the cut cannot split a character or leave one
/// that a following combining mark would change.
fn safe_prefix(prefix: &str) -> &str {
    if prefix.len() <= MAX_PREFIX_LEN {
        return prefix;
    }
    let window = &prefix.as_bytes()[..MAX_PREFIX_LEN];
    // The byte at the cut must start an ASCII character of the original.
    let cut = (0..MAX_PREFIX_LEN)
        .rev()
        .find(|&i| window[i].is_ascii())
        .unwrap_or(0);
    &prefix[..cut]
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use proptest::prelude::*;

    // ------------------------------------------------------- round trips --

    #[test]
    fn every_kind_round_trips() {
        let ty = endpoint_type();
        let dns_ty = Type::object([("name", Type::String), ("zone", Type::String)]);
        let full = object(
            &ty,
            &[
                ("id", s("vpce-0123")),
                ("ports", Value::set(vec![n("5432"), n("6432")])),
                ("tags", Value::map([("env", s("prod")), ("Name", s("db"))])),
                ("enabled", Value::Bool(false)),
                (
                    "rules",
                    Value::set(vec![
                        rule(&["10.0.0.0/16", "10.1.0.0/16"], 5432),
                        rule(&[], 6432),
                    ]),
                ),
                (
                    "dns",
                    Value::list([object(
                        &dns_ty,
                        &[("name", s("a.example.com")), ("zone", s("Z1"))],
                    )]),
                ),
                ("timeouts", Value::object([("create", s("10m"))])),
                ("pair", Value::Tuple(vec![s("x"), n("1.5")])),
                (
                    "anything",
                    Value::map([("k", Value::list([n("1"), n("2")]))]),
                ),
            ],
        );
        round_trip(&full, &ty);
        round_trip(&object(&ty, &[]), &ty);
        round_trip(&Value::Null, &ty);
        round_trip(&Value::unknown(), &ty);
        // Empty collections are not null.
        round_trip(
            &object(
                &ty,
                &[
                    ("ports", Value::set(vec![])),
                    ("tags", Value::map::<&str>([])),
                    ("dns", Value::list([])),
                    ("rules", Value::set(vec![])),
                ],
            ),
            &ty,
        );
    }

    #[test]
    fn null_and_unknown_at_every_level() {
        let ty = endpoint_type();
        let u = Value::unknown;
        let cases = [
            object(
                &ty,
                &[("id", u()), ("ports", u()), ("tags", u()), ("rules", u())],
            ),
            object(&ty, &[("ports", Value::set(vec![u(), u(), n("1")]))]),
            object(
                &ty,
                &[("tags", Value::map([("a", u()), ("b", Value::Null)]))],
            ),
            object(
                &ty,
                &[(
                    "rules",
                    Value::set(vec![
                        Value::object([
                            ("cidrs", u()),
                            ("port", Value::Null),
                            ("meta", Value::map([("m", Value::list([u(), Value::Null]))])),
                        ]),
                        rule(&["10.0.0.0/8"], 1),
                    ]),
                )],
            ),
            object(&ty, &[("dns", Value::list([u(), Value::Null]))]),
            object(&ty, &[("timeouts", Value::object([("create", u())]))]),
            object(
                &ty,
                &[
                    ("timeouts", u()),
                    ("pair", Value::Tuple(vec![u(), Value::Null])),
                ],
            ),
            object(&ty, &[("anything", u())]),
            object(&ty, &[("anything", Value::list([u(), s("x")]))]),
            object(
                &ty,
                &[("anything", Value::object([("deep", Value::list([u()]))]))],
            ),
        ];
        for v in &cases {
            round_trip(v, &ty);
        }
    }

    #[test]
    fn numbers_round_trip_exactly() {
        for text in [
            "0",
            "1",
            "-1",
            "127",
            "128",
            "255",
            "256",
            "-32",
            "-33",
            "-128",
            "-129",
            "65535",
            "65536",
            "-32768",
            "-32769",
            "4294967295",
            "4294967296",
            "-2147483648",
            "-2147483649",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "18446744073709551615",
            "1180591620717411303424",
            "-1180591620717411303424",
            "1.5",
            "-1.5",
            "0.1",
            "-12.25",
            "1e-30",
            "123456789012345678901234567890.5",
            "0.1000000000000000055511151231257827021181583404541015625",
            "1e300",
        ] {
            round_trip(&n(text), &Type::Number);
        }
    }

    #[test]
    fn numbers_take_go_cty_forms() {
        let cases: &[(&str, &str)] = &[
            ("7", "07"),
            ("0", "00"),
            ("127", "7f"),
            ("128", "cc 80"),
            ("200", "cc c8"),
            ("256", "cd 01 00"),
            ("70000", "ce 00 01 11 70"),
            ("4294967296", "cf 00 00 00 01 00 00 00 00"),
            ("-1", "ff"),
            ("-32", "e0"),
            ("-33", "d0 df"),
            ("-100", "d0 9c"),
            ("-129", "d1 ff 7f"),
            ("-32769", "d2 ff ff 7f ff"),
            ("-2147483649", "d3 ff ff ff ff 7f ff ff ff"),
            ("1.5", "cb 3f f8 00 00 00 00 00 00"),
            ("-0.5", "cb bf e0 00 00 00 00 00 00"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                hex(&encode_msgpack(&n(text), &Type::Number).unwrap()),
                *expected,
                "{text}"
            );
        }
        // Whole numbers past i64, even when a float64 holds them exactly,
        // and fractions a float64 cannot hold, travel as decimal text.
        for text in [
            "1180591620717411303424",
            "9223372036854775808",
            "18446744073709551615",
            "0.1",
            "1.00000000000000000001",
        ] {
            assert_eq!(
                encode_msgpack(&n(text), &Type::Number).unwrap(),
                str_bytes(text),
                "{text}"
            );
        }
        assert_eq!(
            hex(&encode_msgpack(&n("1180591620717411303424"), &Type::Number).unwrap()[..1]),
            "b6"
        );
    }

    #[test]
    fn every_number_form_decodes() {
        let cases: &[(&str, &str)] = &[
            ("07", "7"),
            ("cc 07", "7"),
            ("cd 00 07", "7"),
            ("ce 00 00 00 07", "7"),
            ("cf 00 00 00 00 00 00 00 07", "7"),
            ("d0 07", "7"),
            ("d1 00 07", "7"),
            ("d2 00 00 00 07", "7"),
            ("d3 00 00 00 00 00 00 00 07", "7"),
            ("d3 80 00 00 00 00 00 00 00", "-9223372036854775808"),
            ("cf ff ff ff ff ff ff ff ff", "18446744073709551615"),
            ("ca 3f c0 00 00", "1.5"),
            ("cb 3f f8 00 00 00 00 00 00", "1.5"),
            ("cb 40 00 00 00 00 00 00 00", "2"),
            ("cb 80 00 00 00 00 00 00 00", "0"),
            ("a3 31 2e 35", "1.5"),
            ("a4 31 35 65 2d", "invalid"),
            ("c4 03 31 2e 35", "1.5"),
            ("a5 2d 31 65 32 32", "-10000000000000000000000"),
        ];
        for (encoded, expected) in cases {
            let result = decode_msgpack(&bytes(encoded), &Type::Number);
            if *expected == "invalid" {
                assert!(result.is_err(), "{encoded}");
            } else {
                assert_eq!(result.unwrap(), n(expected), "{encoded}");
            }
        }
        // A float32 or float64 is taken at its exact value.
        assert_eq!(
            decode_msgpack(&bytes("cb 3f b9 99 99 99 99 99 9a"), &Type::Number).unwrap(),
            Value::Number(Number::from(0.1f64))
        );
        // Infinities and NaN are go-cty numbers but not ours.
        for bad in [
            "cb 7f f0 00 00 00 00 00 00",
            "cb ff f0 00 00 00 00 00 00",
            "cb 7f f8 00 00 00 00 00 01",
        ] {
            let err = decode_msgpack(&bytes(bad), &Type::Number).unwrap_err();
            assert!(err.message.contains("finite"), "{err}");
        }
    }

    #[test]
    fn a_float_from_terraform_goes_back_bit_for_bit() {
        let wire = bytes("cb 3f b9 99 99 99 99 99 9a"); // 0.1f64
        let v = decode_msgpack(&wire, &Type::Number).unwrap();
        assert_eq!(encode_msgpack(&v, &Type::Number).unwrap(), wire);
    }

    // ------------------------------------------------- go-cty's own bytes --

    #[test]
    fn object_with_unknown_and_null() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        // {"a": unknown, "b": null}, as go-cty writes it.
        let wire = bytes("82 a1 61 d4 00 00 a1 62 c0");
        let v = object(&ty, &[("a", Value::unknown())]);
        assert_eq!(decode_msgpack(&wire, &ty).unwrap(), v);
        assert_eq!(encode_msgpack(&v, &ty).unwrap(), wire);
        // Attributes go in name order, whatever order they were read in.
        let reordered = bytes("82 a1 62 c0 a1 61 d4 00 00");
        assert_eq!(decode_msgpack(&reordered, &ty).unwrap(), v);
        // A missing attribute is null.
        assert_eq!(decode_msgpack(&bytes("81 a1 61 d4 00 00"), &ty).unwrap(), v);
        assert_eq!(decode_msgpack(&bytes("80"), &ty).unwrap(), object(&ty, &[]));
    }

    #[test]
    fn primitives_and_collections_as_go_cty_writes_them() {
        let cases: Vec<(Value, Type, &str)> = vec![
            (Value::Null, Type::String, "c0"),
            (Value::unknown(), Type::String, "d4 00 00"),
            (Value::Bool(true), Type::Bool, "c3"),
            (Value::Bool(false), Type::Bool, "c2"),
            (s(""), Type::String, "a0"),
            (s("hi"), Type::String, "a2 68 69"),
            (
                Value::list([s("a"), s("b")]),
                Type::list(Type::String),
                "92 a1 61 a1 62",
            ),
            (Value::set(vec![n("1")]), Type::set(Type::Number), "91 01"),
            (Value::list([]), Type::list(Type::String), "90"),
            (
                Value::map([("b", n("2")), ("a", n("1"))]),
                Type::map(Type::Number),
                "82 a1 61 01 a1 62 02",
            ),
            (
                Value::Tuple(vec![s("x"), Value::Bool(true)]),
                Type::tuple([Type::String, Type::Bool]),
                "92 a1 78 c3",
            ),
            // A dynamic value: [type JSON as bin, value].
            (
                s("hi"),
                Type::Dynamic,
                "92 c4 08 22 73 74 72 69 6e 67 22 a2 68 69",
            ),
            (Value::Null, Type::Dynamic, "c0"),
            (Value::unknown(), Type::Dynamic, "d4 00 00"),
        ];
        for (v, ty, expected) in cases {
            assert_eq!(hex(&encode_msgpack(&v, &ty).unwrap()), expected, "{v:?}");
            assert_eq!(
                decode_msgpack(&bytes(expected), &ty).unwrap(),
                v,
                "{expected}"
            );
        }
        // 32 bytes and more of string take a str8 header; 16 elements and
        // more an array16 header.
        let long = "x".repeat(40);
        assert_eq!(
            encode_msgpack(&s(&long), &Type::String).unwrap()[..2],
            [0xd9, 40]
        );
        let many = Value::list((0..20).map(Value::from));
        assert_eq!(
            encode_msgpack(&many, &Type::list(Type::Number)).unwrap()[..3],
            [0xdc, 0, 20]
        );
        round_trip(&many, &Type::list(Type::Number));
    }

    #[test]
    fn dynamic_values_that_go_cty_writes_with_a_type() {
        // go-cty writes a typed null or unknown under dynamic as
        // [type, nil] or [type, ext]; both read as plain null or unknown.
        let mut wire = vec![0x92, 0xc4, 8];
        wire.extend_from_slice(br#""string""#);
        let mut null = wire.clone();
        null.push(0xc0);
        assert_eq!(decode_msgpack(&null, &Type::Dynamic).unwrap(), Value::Null);
        let mut unknown = wire.clone();
        unknown.extend(bytes("c7 03 0c 81 01 c2"));
        assert_eq!(
            decode_msgpack(&unknown, &Type::Dynamic).unwrap(),
            refined(Refinements::not_null())
        );
        // Refinements on a value of unknown type are ignored, as go-cty does.
        assert_eq!(
            decode_msgpack(&bytes("c7 03 0c 81 01 c2"), &Type::Dynamic).unwrap(),
            Value::unknown()
        );
        // A dynamic value whose type is dynamic holds another dynamic value.
        let mut nested = Vec::new();
        for _ in 0..10 {
            nested.extend([0x92, 0xc4, 9]);
            nested.extend_from_slice(br#""dynamic""#);
        }
        // The innermost must be a dynamic value too: a bare string is not.
        nested.extend(bytes("a1 78"));
        assert!(decode_msgpack(&nested, &Type::Dynamic).is_err());
        nested.truncate(nested.len() - 2);
        nested.push(0xc0);
        assert_eq!(
            decode_msgpack(&nested, &Type::Dynamic).unwrap(),
            Value::Null
        );
    }

    // --------------------------------------------------- refined unknowns --

    #[test]
    fn refined_unknowns_as_go_cty_writes_them() {
        let prefix = |p: &str| Refinements {
            not_null: true,
            string_prefix: Some(p.to_owned()),
            ..Refinements::default()
        };
        let cases: Vec<(Refinements, Type, &str)> = vec![
            // {1: false}: definitely not null.
            (Refinements::not_null(), Type::String, "c7 03 0c 81 01 c2"),
            (Refinements::not_null(), Type::Bool, "c7 03 0c 81 01 c2"),
            (
                Refinements::not_null(),
                Type::object([("a", Type::String)]),
                "c7 03 0c 81 01 c2",
            ),
            // {1: false, 2: "vpce-"}
            (
                prefix("vpce-"),
                Type::String,
                "c7 0a 0c 82 01 c2 02 a5 76 70 63 65 2d",
            ),
            // A 16-byte payload takes a fixext16 header: {2: "arn:aws:ec2:x"}.
            (
                Refinements {
                    string_prefix: Some("arn:aws:ec2:x".into()),
                    ..Refinements::default()
                },
                Type::String,
                "d8 0c 81 02 ad 61 72 6e 3a 61 77 73 3a 65 63 32 3a 78",
            ),
            // {1: false, 3: [200, true]}: 8 bytes, fixext8.
            (
                Refinements {
                    not_null: true,
                    number_lower: Some(NumberBound::new(200, true)),
                    ..Refinements::default()
                },
                Type::Number,
                "d7 0c 82 01 c2 03 92 cc c8 c3",
            ),
            // {3: [0, true], 4: [1.5, false]}
            (
                Refinements {
                    number_lower: Some(NumberBound::new(0, true)),
                    number_upper: Some(NumberBound::new(1.5, false)),
                    ..Refinements::default()
                },
                Type::Number,
                "c7 11 0c 82 03 92 00 c3 04 92 cb 3f f8 00 00 00 00 00 00 c2",
            ),
            // {6: 200}: 4 bytes, fixext4.
            (
                Refinements {
                    length_upper: Some(200),
                    ..Refinements::default()
                },
                Type::list(Type::String),
                "d6 0c 81 06 cc c8",
            ),
            // {1: false, 5: 1, 6: 3}
            (
                Refinements {
                    not_null: true,
                    length_lower: Some(1),
                    length_upper: Some(3),
                    ..Refinements::default()
                },
                Type::set(Type::String),
                "c7 07 0c 83 01 c2 05 01 06 03",
            ),
            (
                Refinements {
                    length_lower: Some(2),
                    ..Refinements::default()
                },
                Type::map(Type::Number),
                "c7 03 0c 81 05 02",
            ),
        ];
        for (r, ty, expected) in cases {
            let v = refined(r);
            assert_eq!(
                hex(&encode_msgpack(&v, &ty).unwrap()),
                expected,
                "{v:?} as {ty}"
            );
            assert_eq!(
                decode_msgpack(&bytes(expected), &ty).unwrap(),
                v,
                "{expected}"
            );
        }
    }

    #[test]
    fn only_refinements_that_fit_the_type_are_written() {
        let everything = Refinements {
            not_null: false,
            string_prefix: Some("x".into()),
            number_lower: Some(NumberBound::new(1, true)),
            number_upper: None,
            length_lower: Some(1),
            length_upper: None,
        };
        // None fits a bool or an object: plain unknown.
        for ty in [Type::Bool, Type::object([]), Type::tuple([]), Type::Dynamic] {
            assert_eq!(
                hex(&encode_msgpack(&refined(everything.clone()), &ty).unwrap()),
                "d4 00 00"
            );
        }
        assert_eq!(
            hex(&encode_msgpack(&refined(everything.clone()), &Type::String).unwrap()),
            "d6 0c 81 02 a1 78"
        );
        assert_eq!(
            hex(&encode_msgpack(&refined(everything.clone()), &Type::list(Type::Bool)).unwrap()),
            "c7 03 0c 81 05 01"
        );
        // Bounds that say nothing are not written.
        let nothing = Refinements {
            string_prefix: Some(String::new()),
            length_lower: Some(0),
            length_upper: Some(u64::MAX),
            ..Refinements::default()
        };
        assert_eq!(
            hex(&encode_msgpack(&refined(nothing.clone()), &Type::String).unwrap()),
            "d4 00 00"
        );
        assert_eq!(
            hex(&encode_msgpack(&refined(nothing), &Type::set(Type::Bool)).unwrap()),
            "d4 00 00"
        );
        // Not null applies to everything but dynamic.
        assert_eq!(
            hex(&encode_msgpack(&refined(Refinements::not_null()), &Type::Dynamic).unwrap()),
            "d4 00 00"
        );
    }

    #[test]
    fn big_number_bounds_use_number_forms() {
        let r = Refinements {
            number_upper: Some(NumberBound::new(
                Number::parse("1180591620717411303424").unwrap(),
                true,
            )),
            ..Refinements::default()
        };
        let encoded = encode_msgpack(&refined(r.clone()), &Type::Number).unwrap();
        let mut payload = bytes("81 04 92");
        payload.extend(str_bytes("1180591620717411303424"));
        payload.push(0xc3);
        let mut expected = vec![0xc7, payload.len() as u8, 0x0c];
        expected.extend(payload);
        assert_eq!(encoded, expected);
        assert_eq!(decode_msgpack(&encoded, &Type::Number).unwrap(), refined(r));
    }

    #[test]
    fn long_string_prefixes_are_cut_like_go_cty() {
        let long = format!("{}{}", "a".repeat(250), "é".repeat(20));
        let v = refined(Refinements {
            string_prefix: Some(long.clone()),
            ..Refinements::default()
        });
        let decoded =
            decode_msgpack(&encode_msgpack(&v, &Type::String).unwrap(), &Type::String).unwrap();
        let prefix = decoded
            .refinements()
            .and_then(|r| r.string_prefix.clone())
            .unwrap();
        assert!(long.starts_with(&prefix));
        assert!(prefix.len() <= 255, "{}", prefix.len());
        // Cut just before an ASCII character: the last 'a' could take a
        // combining mark, so it goes too.
        assert_eq!(prefix, "a".repeat(249));
        // Up to 256 bytes are kept whole.
        let exact = "b".repeat(256);
        let v = refined(Refinements {
            string_prefix: Some(exact.clone()),
            ..Refinements::default()
        });
        let decoded =
            decode_msgpack(&encode_msgpack(&v, &Type::String).unwrap(), &Type::String).unwrap();
        assert_eq!(decoded, v);
        // No ASCII at all: no prefix worth stating.
        let v = refined(Refinements {
            string_prefix: Some("é".repeat(200)),
            ..Refinements::default()
        });
        assert_eq!(hex(&encode_msgpack(&v, &Type::String).unwrap()), "d4 00 00");
    }

    #[test]
    fn refinement_decoding_follows_go_cty() {
        // Any extension of at most one byte is a plain unknown.
        for wire in [
            "d4 00 00",
            "d4 05 ff",
            "c7 00 00",
            "c7 00 0c",
            "c7 01 07 00",
        ] {
            assert_eq!(
                decode_msgpack(&bytes(wire), &Type::String).unwrap(),
                Value::unknown(),
                "{wire}"
            );
        }
        // {1: true}: certainly null, which go-cty collapses to null.
        assert_eq!(
            decode_msgpack(&bytes("c7 03 0c 81 01 c3"), &Type::String).unwrap(),
            Value::Null
        );
        // Keys from the future are skipped, values and all.
        assert_eq!(
            decode_msgpack(&bytes("c7 07 0c 82 07 92 01 02 01 c2"), &Type::String).unwrap(),
            refined(Refinements::not_null())
        );
        // Trailing bytes in the payload are ignored.
        assert_eq!(
            decode_msgpack(&bytes("c7 05 0c 81 01 c2 ff ff"), &Type::String).unwrap(),
            refined(Refinements::not_null())
        );
        // Infinite bounds say nothing; other number forms are fine.
        assert_eq!(
            decode_msgpack(
                &bytes("c7 12 0c 82 03 92 cb ff f0 00 00 00 00 00 00 c3 04 92 a1 39 c2"),
                &Type::Number
            )
            .unwrap(),
            refined(Refinements {
                number_upper: Some(NumberBound::new(9, false)),
                ..Refinements::default()
            })
        );
        // A negative lower length bound says nothing.
        assert_eq!(
            decode_msgpack(&bytes("c7 03 0c 81 05 ff"), &Type::list(Type::Bool)).unwrap(),
            Value::unknown()
        );
    }

    #[test]
    fn bad_refinements_are_errors_at_their_path() {
        let ty = Type::object([
            ("n", Type::Number),
            ("s", Type::String),
            ("l", Type::list(Type::Bool)),
        ]);
        let cases: &[(&str, &str, &str)] = &[
            // A two-byte extension that is not type 12.
            ("n", "d5 00 00 00", "unsupported msgpack extension type 0"),
            ("n", "d5 0c 00 00", "not a map"),
            ("n", "d6 0c 81 02 a1 78", "string prefix for a number"),
            ("s", "c7 05 0c 81 03 92 01 c3", "number bound for a string"),
            ("s", "c7 03 0c 81 05 01", "length bound for a string"),
            ("n", "c7 03 0c 81 01 01", "nullness is not a bool"),
            ("n", "c7 03 0c 81 a1 78", "not an integer"),
            ("n", "c7 03 0c 82 01 c2", "truncated"),
            ("n", "c7 05 0c 81 03 92 01 01", "[number, bool]"),
            ("l", "c7 05 0c 82 05 03 06 02", "length bounds 3 > 2"),
            ("l", "c7 03 0c 81 06 ff", "negative length upper bound"),
            (
                "n",
                "c7 09 0c 82 03 92 02 c3 04 92 01 c3",
                "admit no number",
            ),
            (
                "n",
                "c7 09 0c 82 03 92 01 c2 04 92 01 c3",
                "admit no number",
            ),
            ("s", "c7 05 0c 81 02 a2 ff fe", "UTF-8"),
        ];
        for (attr, wire, message) in cases {
            let mut full = vec![0x81];
            full.extend(str_bytes(attr));
            full.extend(bytes(wire));
            let err = decode_msgpack(&full, &ty).unwrap_err();
            assert_eq!(err.path.to_string(), *attr, "{wire}");
            assert!(err.message.contains(message), "{wire}: {err}");
        }
        // Over 1024 bytes of refinements.
        let mut payload = bytes("81 02 da 03 fc");
        payload.extend(std::iter::repeat_n(b'a', 0x3fc));
        assert_eq!(payload.len(), 1025);
        let mut huge = bytes("c8 04 01 0c");
        huge.extend(payload);
        let err = decode_msgpack(&huge, &Type::String).unwrap_err();
        assert!(err.message.contains("1024"), "{err}");
    }

    #[test]
    fn refined_unknowns_nested_anywhere_round_trip() {
        let ty = endpoint_type();
        let v = object(
            &ty,
            &[
                (
                    "id",
                    refined(Refinements {
                        not_null: true,
                        string_prefix: Some("vpce-".into()),
                        ..Refinements::default()
                    }),
                ),
                (
                    "ports",
                    Value::set(vec![refined(Refinements {
                        number_lower: Some(NumberBound::new(1, true)),
                        number_upper: Some(NumberBound::new(65535, true)),
                        ..Refinements::default()
                    })]),
                ),
                (
                    "tags",
                    refined(Refinements {
                        not_null: true,
                        length_lower: Some(1),
                        ..Refinements::default()
                    }),
                ),
                (
                    "dns",
                    refined(Refinements {
                        length_upper: Some(3),
                        ..Refinements::default()
                    }),
                ),
                ("timeouts", refined(Refinements::not_null())),
            ],
        );
        round_trip(&v, &ty);
    }

    // ------------------------------------------------------------ errors --

    #[test]
    fn errors_name_the_path() {
        let ty = endpoint_type();
        let mut wire = vec![0x81];
        wire.extend(str_bytes("ports"));
        wire.extend(bytes("91 a1 78"));
        let err = decode_msgpack(&wire, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "ports[0]");
        assert_eq!(err.to_string(), r#""x" is not a number at ports[0]"#);

        let mut wire = vec![0x81];
        wire.extend(str_bytes("tags"));
        wire.extend(bytes("81 a3 65 6e 76 01"));
        let err = decode_msgpack(&wire, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), r#"tags["env"]"#);

        let mut wire = vec![0x81];
        wire.extend(str_bytes("rules"));
        wire.extend(bytes("91 81 a4 70 6f 72 74 c3"));
        let err = decode_msgpack(&wire, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "rules[0].port");

        let err = decode_msgpack(&bytes("81 a3 7a 7a 7a c0"), &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "zzz");
        assert_eq!(err.message, r#"unsupported attribute "zzz""#);

        let err = decode_msgpack(&bytes("82 a2 69 64 c0 a2 69 64 c0"), &ty).unwrap_err();
        assert!(err.message.contains("twice"), "{err}");

        let mut wire = vec![0x81];
        wire.extend(str_bytes("pair"));
        wire.extend(bytes("91 a1 78"));
        let err = decode_msgpack(&wire, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "pair");
        assert!(err.message.contains("tuple of 2"), "{err}");

        let mut wire = vec![0x81];
        wire.extend(str_bytes("tags"));
        wire.extend(bytes("81 01 c0"));
        let err = decode_msgpack(&wire, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "tags");
        assert!(err.message.contains("map key must be a string"), "{err}");

        let err = decode_msgpack(&bytes("c0 c0"), &ty).unwrap_err();
        assert!(err.path.is_root());
        assert_eq!(err.to_string(), "1 unexpected bytes after the value");

        let err = decode_msgpack(&bytes("92 01 02"), &Type::Dynamic).unwrap_err();
        assert!(err.message.contains("type must be JSON"), "{err}");
        let err = decode_msgpack(&bytes("93 01 02 03"), &Type::Dynamic).unwrap_err();
        assert!(err.message.contains("two elements"), "{err}");
        let err = decode_msgpack(&bytes("92 a4 6c 69 73 74 c0"), &Type::Dynamic).unwrap_err();
        assert!(err.message.contains("invalid type"), "{err}");
    }

    #[test]
    fn wrong_kinds_are_errors() {
        let cases: Vec<(Type, &str)> = vec![
            (Type::Bool, "01"),
            (Type::Bool, "a4 74 72 75 65"),
            (Type::String, "01"),
            (Type::String, "c3"),
            (Type::String, "a2 ff fe"),
            (Type::Number, "c3"),
            (Type::Number, "90"),
            (Type::list(Type::String), "80"),
            (Type::set(Type::String), "a1 78"),
            (Type::map(Type::String), "90"),
            (Type::object([]), "90"),
            (Type::tuple([Type::Bool]), "92 c3 c3"),
            (Type::Dynamic, "01"),
        ];
        for (ty, wire) in cases {
            let err = decode_msgpack(&bytes(wire), &ty).unwrap_err();
            assert!(err.path.is_root(), "{ty}: {wire}: {err}");
        }
    }

    #[test]
    fn values_that_do_not_fit_are_encode_errors() {
        let err = encode_msgpack(&s("x"), &Type::Number).unwrap_err();
        assert_eq!(err.to_string(), "cannot write a string value as number");
        let ty = Type::object([("a", Type::list(Type::Number))]);
        let err = encode_msgpack(&Value::object([("a", Value::list([s("x")]))]), &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "a[0]");
        let err = encode_msgpack(&Value::object([("b", Value::Null)]), &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "b");
        let err = encode_msgpack(&Value::Tuple(vec![]), &Type::tuple([Type::Bool])).unwrap_err();
        assert!(err.message.contains("tuple"), "{err}");
        let err = encode_json(
            &Value::object([("a", Value::list([Value::unknown()]))]),
            &ty,
        )
        .unwrap_err();
        assert_eq!(err.path.to_string(), "a[0]");
        assert!(err.message.contains("unknown"), "{err}");
    }

    #[test]
    fn close_kinds_convert_on_encoding_like_go_cty() {
        // A set for a list, a list for a set (deduplicated), an object for
        // a map: go-cty converts these before writing.
        assert_eq!(
            hex(&encode_msgpack(&Value::set(vec![s("a")]), &Type::list(Type::String)).unwrap()),
            "91 a1 61"
        );
        assert_eq!(
            hex(&encode_msgpack(&Value::list([s("a"), s("a")]), &Type::set(Type::String)).unwrap()),
            "91 a1 61"
        );
        assert_eq!(
            hex(
                &encode_msgpack(&Value::object([("k", s("v"))]), &Type::map(Type::String)).unwrap()
            ),
            "81 a1 6b a1 76"
        );
        // A hand-built set with duplicates is written once each.
        let dup = Value::Set(vec![s("a"), s("a"), Value::unknown(), Value::unknown()]);
        assert_eq!(
            hex(&encode_msgpack(&dup, &Type::set(Type::String)).unwrap()),
            "93 a1 61 d4 00 00 d4 00 00"
        );
    }

    #[test]
    fn sets_are_deduplicated_on_decode() {
        let v = decode_msgpack(&bytes("93 a1 61 a1 61 a1 62"), &Type::set(Type::String)).unwrap();
        assert_eq!(v.as_elements().map(<[Value]>::len), Some(2));
        assert_eq!(v, Value::set(vec![s("b"), s("a")]));
        // Unknown elements are each their own.
        let v = decode_msgpack(&bytes("92 d4 00 00 d4 00 00"), &Type::set(Type::String)).unwrap();
        assert_eq!(v.as_elements().map(<[Value]>::len), Some(2));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = endpoint_type();
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            bytes("c1"),
            bytes("df ff ff ff ff"),
            bytes("dd 7f ff ff ff"),
            bytes("dc ff ff"),
            bytes("db ff ff ff ff 61"),
            bytes("c6 ff ff ff ff"),
            bytes("c9 ff ff ff ff 0c"),
            bytes("81 a2 69 64"),
            bytes("81 a2 69"),
            bytes("cb 00"),
            std::iter::repeat_n(0x91, 100_000).collect(),
            std::iter::repeat_n(0x81, 100_000).collect(),
        ];
        for wire in cases {
            let start = std::time::Instant::now();
            assert!(
                decode_msgpack(&wire, &ty).is_err(),
                "{}",
                hex(&wire[..wire.len().min(8)])
            );
            assert!(decode_msgpack(&wire, &Type::Dynamic).is_err());
            assert!(start.elapsed().as_secs() < 2);
        }
        // A header claiming more elements than there are bytes fails at
        // once, before reading any element.
        let err =
            decode_msgpack(&bytes("dd 7f ff ff ff 01 02"), &Type::list(Type::Number)).unwrap_err();
        assert!(err.message.contains("claims"), "{err}");
    }

    #[test]
    fn deeply_nested_sets_decode_in_bounded_time() {
        // Sets of sets of sets …: comparing elements naively re-sorts every
        // nested set at every comparison, exponential in the nesting.
        fn build(out: &mut Vec<u8>, level: usize, counter: &mut u64) {
            if level == 0 {
                *counter += 1;
                rmp::encode::write_uint(out, *counter % 7).unwrap();
                return;
            }
            rmp::encode::write_array_len(out, 4).unwrap();
            for _ in 0..4 {
                build(out, level - 1, counter);
            }
        }
        let depth = 7;
        let mut ty = Type::Number;
        for _ in 0..depth {
            ty = Type::set(ty);
        }
        let mut wire = Vec::new();
        build(&mut wire, depth, &mut 0);
        let start = std::time::Instant::now();
        let v = decode_msgpack(&wire, &ty).unwrap();
        assert!(start.elapsed().as_secs() < 3, "{:?}", start.elapsed());
        let start = std::time::Instant::now();
        assert_eq!(v, v.clone());
        assert!(start.elapsed().as_secs() < 3, "{:?}", start.elapsed());
    }

    #[test]
    fn every_truncation_of_a_valid_value_is_an_error() {
        let ty = endpoint_type();
        let v = object(
            &ty,
            &[
                (
                    "id",
                    refined(Refinements {
                        not_null: true,
                        string_prefix: Some("vpce-".into()),
                        ..Refinements::default()
                    }),
                ),
                (
                    "ports",
                    Value::set(vec![n("5432"), n("1.5"), n("1180591620717411303424")]),
                ),
                ("rules", Value::set(vec![rule(&["10.0.0.0/16"], 1)])),
                ("anything", Value::list([n("1")])),
            ],
        );
        let wire = encode_msgpack(&v, &ty).unwrap();
        for cut in 0..wire.len() {
            assert!(decode_msgpack(&wire[..cut], &ty).is_err(), "cut at {cut}");
        }
        assert_eq!(decode_msgpack(&wire, &ty).unwrap(), v);
    }

    #[test]
    fn nesting_is_capped() {
        // Types nested past the cap.
        let mut ty = Type::String;
        let mut v = s("x");
        for _ in 0..MAX_DEPTH + 5 {
            ty = Type::list(ty);
            v = Value::list([v]);
        }
        let err = encode_msgpack(&v, &ty).unwrap_err();
        assert!(err.message.contains("nested"), "{err}");
        let err = encode_json(&v, &ty).unwrap_err();
        assert!(err.message.contains("nested"), "{err}");
        let mut wire = vec![0x91; MAX_DEPTH + 5];
        wire.extend(bytes("a1 78"));
        let err = decode_msgpack(&wire, &ty).unwrap_err();
        assert!(err.message.contains("nested"), "{err}");
        assert_eq!(err.path.0.len(), MAX_DEPTH + 1);
        let json = format!(
            "{}\"x\"{}",
            "[".repeat(MAX_DEPTH + 5),
            "]".repeat(MAX_DEPTH + 5)
        );
        let err = decode_json(json.as_bytes(), &ty).unwrap_err();
        assert!(err.message.contains("nested"), "{err}");
        // Within the cap is fine.
        let mut ty = Type::String;
        let mut v = s("x");
        for _ in 0..MAX_DEPTH {
            ty = Type::list(ty);
            v = Value::list([v]);
        }
        round_trip(&v, &ty);
        // Dynamic in dynamic, without end.
        let mut nested = Vec::new();
        for _ in 0..1000 {
            nested.extend([0x92, 0xc4, 9]);
            nested.extend_from_slice(br#""dynamic""#);
        }
        let err = decode_msgpack(&nested, &Type::Dynamic).unwrap_err();
        assert!(err.message.contains("nested"), "{err}");
        let mut json = String::new();
        for _ in 0..100 {
            json.push_str(r#"{"type":"dynamic","value":"#);
        }
        json.push_str("null");
        json.push_str(&"}".repeat(100));
        assert!(decode_json(json.as_bytes(), &Type::Dynamic).is_err());
    }

    #[test]
    fn error_display() {
        let root = decode_error(&AttributePath::root(), "bad");
        assert_eq!(root.to_string(), "bad");
        let deep = encode_error(&AttributePath::from_attr("a").index(1), "bad");
        assert_eq!(deep.to_string(), "bad at a[1]");
    }

    // ---------------------------------------------------------- property --

    /// Types, with dynamic among them.
    fn arb_type() -> impl Strategy<Value = Type> {
        let leaf = prop_oneof![
            Just(Type::Bool),
            Just(Type::Number),
            Just(Type::String),
            Just(Type::Dynamic),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(Type::list),
                inner.clone().prop_map(Type::set),
                inner.clone().prop_map(Type::map),
                prop::collection::btree_map("[a-c]{1,2}", inner.clone(), 0..4)
                    .prop_map(|attrs| Type::Object(attrs, Default::default())),
                prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
            ]
        })
    }

    /// A type with no dynamic in it.
    fn arb_concrete_type() -> impl Strategy<Value = Type> {
        arb_type().prop_filter("concrete", |t| !t.has_dynamic())
    }

    fn arb_number() -> BoxedStrategy<Number> {
        prop_oneof![
            any::<i64>().prop_map(Number::from),
            any::<u64>().prop_map(Number::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Number::from),
            (any::<i64>(), 0u32..30, any::<bool>()).prop_map(|(m, scale, big)| {
                let text = if big {
                    format!("{m}{}e{scale}", "7".repeat(scale as usize))
                } else {
                    format!("{m}e-{scale}")
                };
                Number::parse(&text).unwrap()
            }),
        ]
        .boxed()
    }

    /// Refinements that survive a round trip as `ty`: only those that fit.
    fn arb_refinements(ty: &Type) -> BoxedStrategy<Refinements> {
        let not_null = any::<bool>();
        match ty {
            Type::Dynamic => Just(Refinements::default()).boxed(),
            Type::String => (not_null, proptest::option::of("[a-z-]{1,10}"))
                .prop_map(|(not_null, string_prefix)| Refinements {
                    not_null,
                    string_prefix,
                    ..Refinements::default()
                })
                .boxed(),
            Type::Number => (
                not_null,
                any::<bool>(),
                -100i64..0,
                0i64..100,
                any::<bool>(),
            )
                .prop_map(|(not_null, both, lower, upper, inclusive)| Refinements {
                    not_null,
                    number_lower: Some(NumberBound::new(lower, inclusive)),
                    number_upper: both.then(|| {
                        NumberBound::new(Number::parse(&format!("{upper}.5")).unwrap(), !inclusive)
                    }),
                    ..Refinements::default()
                })
                .boxed(),
            Type::List(_) | Type::Set(_) | Type::Map(_) => (
                not_null,
                proptest::option::of(1u64..5),
                proptest::option::of(5u64..1000),
            )
                .prop_map(|(not_null, length_lower, length_upper)| Refinements {
                    not_null,
                    length_lower,
                    length_upper,
                    ..Refinements::default()
                })
                .boxed(),
            _ => not_null
                .prop_map(|not_null| Refinements {
                    not_null,
                    ..Refinements::default()
                })
                .boxed(),
        }
    }

    /// A value of `ty`. Under a dynamic type, a concrete type is picked
    /// per dynamic position, and unknowns carry no refinements (their type
    /// is not on the wire).
    fn arb_value(ty: &Type, under_dynamic: bool) -> BoxedStrategy<Value> {
        let special = if under_dynamic {
            prop_oneof![Just(Value::Null), Just(Value::unknown())].boxed()
        } else {
            prop_oneof![
                Just(Value::Null),
                arb_refinements(ty).prop_map(Value::Unknown),
            ]
            .boxed()
        };
        let known: BoxedStrategy<Value> = match ty {
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Number => arb_number().prop_map(Value::Number).boxed(),
            Type::String => any::<String>().prop_map(Value::String).boxed(),
            Type::List(t) => prop::collection::vec(arb_value(t, under_dynamic), 0..4)
                .prop_map(Value::List)
                .boxed(),
            Type::Set(t) => prop::collection::vec(arb_value(t, under_dynamic), 0..4)
                .prop_map(Value::set)
                .boxed(),
            Type::Map(t) => {
                prop::collection::btree_map(".{0,3}", arb_value(t, under_dynamic), 0..4)
                    .prop_map(Value::Map)
                    .boxed()
            }
            Type::Object(attrs, _) => attrs
                .iter()
                .map(|(k, t)| {
                    let k = k.clone();
                    arb_value(t, under_dynamic).prop_map(move |v| (k.clone(), v))
                })
                .collect::<Vec<_>>()
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
                .boxed(),
            Type::Tuple(types) => types
                .iter()
                .map(|t| arb_value(t, under_dynamic))
                .collect::<Vec<_>>()
                .prop_map(Value::Tuple)
                .boxed(),
            Type::Dynamic => arb_concrete_type()
                .prop_flat_map(|t| arb_value(&t, true))
                .boxed(),
        };
        prop_oneof![1 => special, 4 => known].boxed()
    }

    fn arb_typed_value() -> impl Strategy<Value = (Type, Value)> {
        arb_type().prop_flat_map(|t| {
            let values = arb_value(&t, false);
            (Just(t), values)
        })
    }

    fn fuzz_types() -> Vec<Type> {
        vec![
            endpoint_type(),
            Type::Dynamic,
            Type::Number,
            Type::list(Type::set(Type::map(Type::String))),
            Type::tuple([Type::Bool, Type::Dynamic]),
        ]
    }

    fn decode_everything(bytes: &[u8]) {
        for ty in fuzz_types() {
            let start = std::time::Instant::now();
            let _ = decode_msgpack(bytes, &ty);
            let _ = decode_json(bytes, &ty);
            let _ = Type::from_json(bytes);
            assert!(start.elapsed().as_secs() < 2, "slow on {}", hex(bytes));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            decode_everything(&bytes);
        }

        #[test]
        fn corrupted_encodings_never_panic(
            (ty, v) in arb_typed_value(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut wire = encode_msgpack(&v, &ty).unwrap();
            if !wire.is_empty() {
                for (at, byte) in flips {
                    let i = at.index(wire.len());
                    wire[i] = byte;
                }
                let end = cut.index(wire.len() + 1);
                let _ = decode_msgpack(&wire, &ty);
                let _ = decode_msgpack(&wire[..end], &ty);
                decode_everything(&wire);
            }
        }

        #[test]
        fn arbitrary_json_never_panics(text in ".{0,64}") {
            decode_everything(text.as_bytes());
        }

        #[test]
        fn every_value_round_trips((ty, v) in arb_typed_value()) {
            let wire = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = decode_msgpack(&wire, &ty).map_err(|e| TestCaseError::fail(format!("{e}: {}", hex(&wire))))?;
            prop_assert_eq!(&back, &v, "{}", hex(&wire));
            if v.is_fully_known() {
                let json = encode_json(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let back = decode_json(&json, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&back, &v, "{}", String::from_utf8_lossy(&json));
            }
        }
    }
}
