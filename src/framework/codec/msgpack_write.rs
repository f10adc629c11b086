//! Writes a [`Value`] of a known [`Type`] as go-cty's msgpack, byte for
//! byte as go-cty would (the format is described in the module above).
//!
//! Invariants: numbers take their smallest form; an object is written with
//! every attribute of its type, in name order; close kinds are converted
//! as go-cty converts them before writing (a set for a list, a list for a
//! set, deduplicated, an object for a map). A value that does not fit its
//! type, a length past msgpack's u32, or nesting past [`MAX_DEPTH`] is an
//! [`EncodeError`] naming the path where it happened.

use std::convert::Infallible;

use rmp::encode::{ByteBuf, ValueWriteError};

use super::dynamic::implied_type;
use super::{EncodeError, MAX_DEPTH, encode_error, too_deep};
use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::{Number, Value, dedup_set};

/// Writes `value` as a msgpack `DynamicValue` of type `ty`, byte for byte
/// as go-cty would.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer(ByteBuf::new());
    w.value(value, ty, &AttributePath::root(), 0)?;
    Ok(w.0.into_vec())
}

/// Unwraps the results of writing into a [`ByteBuf`], which cannot fail.
pub(super) trait Written<T> {
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
pub(super) struct Writer(pub(super) ByteBuf);

impl Writer {
    fn nil(&mut self) {
        rmp::encode::write_nil(&mut self.0).written();
    }

    pub(super) fn bool(&mut self, b: bool) {
        rmp::encode::write_bool(&mut self.0, b).written();
    }

    pub(super) fn int(&mut self, i: i64) {
        // Smallest form, positive values as unsigned: go's EncodeInt.
        rmp::encode::write_sint(&mut self.0, i).written();
    }

    pub(super) fn str(&mut self, s: &str, path: &AttributePath) -> Result<(), EncodeError> {
        check_len(s.len(), path)?;
        rmp::encode::write_str(&mut self.0, s).written();
        Ok(())
    }

    fn bin(&mut self, b: &[u8], path: &AttributePath) -> Result<(), EncodeError> {
        check_len(b.len(), path)?;
        rmp::encode::write_bin(&mut self.0, b).written();
        Ok(())
    }

    pub(super) fn array_len(&mut self, n: usize, path: &AttributePath) -> Result<(), EncodeError> {
        rmp::encode::write_array_len(&mut self.0, check_len(n, path)?).written();
        Ok(())
    }

    pub(super) fn map_len(&mut self, n: usize, path: &AttributePath) -> Result<(), EncodeError> {
        rmp::encode::write_map_len(&mut self.0, check_len(n, path)?).written();
        Ok(())
    }

    pub(super) fn number(&mut self, n: &Number, path: &AttributePath) -> Result<(), EncodeError> {
        if let Some(i) = n.as_i64() {
            self.int(i);
        } else if let Some(f) = n.to_exact_f64().filter(|_| !n.is_integer()) {
            rmp::encode::write_f64(&mut self.0, f).written();
        } else {
            self.str(n.as_str(), path)?;
        }
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

/// A length as msgpack's u32, or an error past it.
pub(super) fn check_len(n: usize, path: &AttributePath) -> Result<u32, EncodeError> {
    u32::try_from(n).map_err(|_| encode_error(path, format!("{n} is too long for msgpack")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::codec::test_support::*;
    use crate::framework::codec::{decode_msgpack, encode_json};

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
}
