//! Tests of the codecs as a whole: values of every kind, null and unknown
//! at every level, and numbers round trip through msgpack and JSON alike;
//! nesting is capped in both; errors print their path; and, as properties,
//! any bytes or corrupted encoding decode without a panic in bounded time
//! and every value survives a round trip.

use super::test_support::*;
use super::*;
use crate::framework::types::Type;
use crate::framework::value::{Number, NumberBound, Refinements, Value};
use proptest::prelude::*;

// ----------------------------------------------------------- round trips --

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

// ---------------------------------------------------------------- errors --

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

// -------------------------------------------------------------- property --

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
        Type::Map(t) => prop::collection::btree_map(".{0,3}", arb_value(t, under_dynamic), 0..4)
            .prop_map(Value::Map)
            .boxed(),
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
