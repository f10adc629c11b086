//! Reads go-cty's msgpack, the form of every `DynamicValue` Terraform
//! sends, into a [`Value`] of a known [`Type`] (the format is described in
//! the module above).
//!
//! Invariants: everything read is untrusted. No length from a header is
//! allocated ahead of the bytes that back it, and a collection claiming
//! more elements than the bytes left could hold is refused at once;
//! nesting is capped at [`MAX_DEPTH`]; bytes after the value are an error;
//! an object's absent attributes read as null, unknown or repeated ones are
//! errors; sets are deduplicated. Every failure is a [`DecodeError`] naming
//! the path where it happened, never a panic.

use std::collections::BTreeMap;

use super::msgpack_items::{Item, Reader, number, utf8};
use super::refinements::unknown;
use super::{DecodeError, MAX_DEPTH, decode_error, too_deep};
use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::{Value, dedup_set};

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

impl<'a> Reader<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::codec::encode_msgpack;
    use crate::framework::codec::test_support::*;
    use crate::framework::value::Number;
    use crate::framework::value::Refinements;

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
}
