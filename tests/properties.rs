//! Property tests on stable Rust with a fixed budget: the value decoders
//! and import-id parsing never panic or hang on any input, every value
//! survives an encode/decode round trip, and every valid id, CIDR block and
//! service name is accepted. Inputs are noise and also valid encodings
//! changed by one byte, so decoders are tried past their first byte.

use proptest::prelude::*;
use terraform_provider_planetscale::framework::codec::{
    decode_json, decode_msgpack, encode_json, encode_msgpack,
};
use terraform_provider_planetscale::framework::types::Type;
use terraform_provider_planetscale::framework::value::{Number, Value};
use terraform_provider_planetscale::{privatelink, validate};

/// Cases per property; the budget CI runs.
const CASES: u32 = 4096;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Types like the provider's schemas: objects of primitives, sets, maps,
/// lists of objects, dynamic values.
fn types() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,8}", inner.clone(), 0..5)
                .prop_map(|attrs| Type::Object(attrs, Default::default())),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Number::from),
        "-?[1-9][0-9]{0,40}(\\.[0-9]{1,20})?".prop_map(|t| Number::parse(&t).unwrap()),
    ]
}

/// A value of type `ty`, with nulls (and, when `unknowns`, unknowns) anywhere.
fn value_of(ty: Type, unknowns: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::Number => number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Dynamic => Just(Value::Null).boxed(),
        Type::List(t) => prop::collection::vec(value_of(*t, unknowns), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(t) => prop::collection::vec(value_of(*t, unknowns), 0..4)
            .prop_map(Value::set)
            .boxed(),
        Type::Map(t) => prop::collection::btree_map("[a-z]{1,6}", value_of(*t, unknowns), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs, _) => {
            let parts: Vec<BoxedStrategy<(String, Value)>> = attrs
                .into_iter()
                .map(|(name, t)| {
                    value_of(t, unknowns)
                        .prop_map(move |v| (name.clone(), v))
                        .boxed()
                })
                .collect();
            parts
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect()))
                .boxed()
        }
        Type::Tuple(types) => types
            .into_iter()
            .map(|t| value_of(t, unknowns))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
    };
    let unknown_weight = u32::from(unknowns);
    prop_oneof![1 => Just(Value::Null), unknown_weight => Just(Value::unknown()), 6 => known]
        .boxed()
}

fn typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
    types().prop_flat_map(move |t| value_of(t.clone(), unknowns).prop_map(move |v| (t.clone(), v)))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn msgpack_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256), ty in types()) {
        let _ = decode_msgpack(&bytes, &ty);
        let _ = decode_msgpack(&bytes, &Type::Dynamic);
    }

    #[test]
    fn json_decoding_never_panics(text in ".{0,128}", ty in types()) {
        let _ = decode_json(text.as_bytes(), &ty);
        let _ = Type::from_json(text.as_bytes());
    }

    #[test]
    fn values_round_trip_through_msgpack((ty, value) in typed_value(true)) {
        let bytes = encode_msgpack(&value, &ty).unwrap();
        prop_assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn known_values_round_trip_through_json((ty, value) in typed_value(false)) {
        let bytes = encode_json(&value, &ty).unwrap();
        prop_assert_eq!(decode_json(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn numbers_parse_canonically(text in "[-+]?[0-9]{0,30}(\\.[0-9]{0,30})?([eE][-+]?[0-9]{1,3})?") {
        if let Ok(n) = Number::parse(&text) {
            prop_assert_eq!(Number::parse(n.as_str()).unwrap(), n);
        }
    }

    #[test]
    fn import_ids_never_panic_and_accept_only_ids(id in ".{0,40}") {
        for (prefix, what) in [("sg", "security group"), ("vpce", "VPC endpoint")] {
            if validate::ec2_id(&id, prefix, what).is_ok() {
                let hex = id.strip_prefix(prefix).and_then(|r| r.strip_prefix('-')).unwrap();
                prop_assert!((8..=17).contains(&hex.len()));
                prop_assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            }
        }
        let _ = validate::cidr(&id);
        let _ = privatelink::service_name_region(&id);
    }

    #[test]
    fn well_formed_ids_are_accepted(hex in "[0-9a-f]{8}|[0-9a-f]{17}") {
        let sg_id = format!("sg-{hex}");
        let vpce_id = format!("vpce-{hex}");
        prop_assert!(validate::ec2_id(&sg_id, "sg", "security group").is_ok());
        prop_assert!(validate::ec2_id(&vpce_id, "vpce", "VPC endpoint").is_ok());
    }

    #[test]
    fn decoding_a_valid_encoding_changed_by_one_byte_never_panics(
        (ty, value) in typed_value(true),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
        other in types(),
    ) {
        let mut bytes = encode_msgpack(&value, &ty).unwrap();
        let i = at.index(bytes.len());
        if cut {
            bytes.truncate(i);
        } else {
            bytes[i] = byte;
        }
        let _ = decode_msgpack(&bytes, &ty);
        let _ = decode_msgpack(&bytes, &other);
        let _ = decode_msgpack(&bytes, &Type::Dynamic);
    }

    #[test]
    fn decoding_a_valid_json_encoding_changed_by_one_byte_never_panics(
        (ty, value) in typed_value(false),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        other in types(),
    ) {
        let mut bytes = encode_json(&value, &ty).unwrap();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let _ = decode_json(&bytes, &ty);
        let _ = decode_json(&bytes, &other);
    }

    #[test]
    fn every_well_formed_service_name_gives_its_region(
        area in "[a-z]{2}(-gov|-iso)?",
        direction in "(north|south|east|west|central|northeast|southeast)",
        n in 1u8..10,
        hex in "[0-9a-f]{8,17}",
    ) {
        let region = format!("{area}-{direction}-{n}");
        let name = format!("com.amazonaws.vpce.{region}.vpce-svc-{hex}");
        prop_assert_eq!(privatelink::service_name_region(&name), Ok(region.as_str()));
        prop_assert!(privatelink::is_region(&region));
    }

    #[test]
    fn every_canonical_cidr_block_is_accepted(
        v4 in any::<u32>(),
        len4 in 0u8..=32,
        v6 in any::<u128>(),
        len6 in 0u8..=128,
    ) {
        use ipnet::{IpNet, Ipv4Net, Ipv6Net};
        for net in [
            IpNet::V4(Ipv4Net::new(v4.into(), len4).unwrap().trunc()),
            IpNet::V6(Ipv6Net::new(v6.into(), len6).unwrap().trunc()),
        ] {
            let text = net.to_string();
            prop_assert_eq!(validate::cidr(&text), Ok(net));
        }
    }
}
