//! msgpack items, one at a time, from untrusted bytes: the layer under
//! both the typed decoding of a `DynamicValue` (`msgpack_read`) and the
//! refinements of an unknown value (`refinements`). No length from a header
//! is trusted beyond the bytes that back it.

use rmp::Marker;

use super::{DecodeError, MAX_DEPTH, decode_error, too_deep};
use crate::framework::path::AttributePath;
use crate::framework::value::Number;

/// One msgpack item, its contents borrowed from the input; collections
/// only as their claimed length.
#[derive(Debug)]
pub(super) enum Item<'a> {
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
    pub(super) fn describe(&self) -> &'static str {
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

pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    pub(super) fn remaining(&self) -> usize {
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

    pub(super) fn item(&mut self, path: &AttributePath) -> Result<Item<'a>, DecodeError> {
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
    pub(super) fn skip(&mut self, path: &AttributePath, depth: usize) -> Result<(), DecodeError> {
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

    pub(super) fn string(
        &mut self,
        path: &AttributePath,
        what: &str,
    ) -> Result<String, DecodeError> {
        match self.item(path)? {
            Item::Str(bytes) | Item::Bin(bytes) => utf8(bytes, path),
            other => Err(decode_error(
                path,
                format!("{what} must be a string, not {}", other.describe()),
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

pub(super) fn utf8(bytes: &[u8], path: &AttributePath) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| decode_error(path, "string is not valid UTF-8"))
}

/// A number in any of its msgpack forms; `Err(None)` when the item is not
/// a number at all.
pub(super) fn number(item: &Item<'_>, path: &AttributePath) -> Result<Number, Option<DecodeError>> {
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
