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

use std::convert::Infallible;
use std::fmt;

use rmp::encode::{ByteBuf, ValueWriteError};

use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::{Number, Refinements, Value, dedup_set};

use dynamic::implied_type;

mod dynamic;
mod json;
mod msgpack_read;

pub use json::{decode_json, encode_json};
pub use msgpack_read::decode_msgpack;

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
    use crate::framework::value::NumberBound;
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
    fn a_float_from_terraform_goes_back_bit_for_bit() {
        let wire = bytes("cb 3f b9 99 99 99 99 99 9a"); // 0.1f64
        let v = decode_msgpack(&wire, &Type::Number).unwrap();
        assert_eq!(encode_msgpack(&v, &Type::Number).unwrap(), wire);
    }

    // ------------------------------------------------- go-cty's own bytes --

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
