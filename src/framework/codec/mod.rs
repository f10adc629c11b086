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

use std::fmt;

use crate::framework::path::AttributePath;

mod dynamic;
mod json;
mod msgpack_read;
mod msgpack_write;

pub use json::{decode_json, encode_json};
pub use msgpack_read::decode_msgpack;
pub use msgpack_write::encode_msgpack;

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

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::framework::types::Type;
    use crate::framework::value::{Number, NumberBound, Refinements, Value};
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

    // ------------------------------------------------- go-cty's own bytes --

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
