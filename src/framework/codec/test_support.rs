//! Helpers the codec's tests share: values and types in few words, bytes
//! to and from hex text, and a round trip through both formats that also
//! checks the bytes are stable.

use std::collections::BTreeMap;

use super::{decode_json, decode_msgpack, encode_json, encode_msgpack};
use crate::framework::types::Type;
use crate::framework::value::{Number, Refinements, Value};

pub(super) fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

pub(super) fn n(text: &str) -> Value {
    Value::Number(Number::parse(text).unwrap())
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Bytes from `"82 a1 61"`-style text.
pub(super) fn bytes(text: &str) -> Vec<u8> {
    text.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// msgpack for a str of `text`, the way go writes one.
pub(super) fn str_bytes(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_str(&mut out, text).unwrap();
    out
}

pub(super) fn refined(r: Refinements) -> Value {
    Value::Unknown(r)
}

pub(super) fn round_trip(v: &Value, ty: &Type) {
    let encoded = encode_msgpack(v, ty).unwrap_or_else(|e| panic!("encode {v:?}: {e}"));
    let decoded =
        decode_msgpack(&encoded, ty).unwrap_or_else(|e| panic!("decode {}: {e}", hex(&encoded)));
    assert_eq!(&decoded, v, "msgpack {}", hex(&encoded));
    assert_eq!(
        encode_msgpack(&decoded, ty).unwrap(),
        encoded,
        "stable bytes"
    );
    if v.is_fully_known() {
        let json = encode_json(v, ty).unwrap();
        let text = String::from_utf8_lossy(&json);
        assert_eq!(&decode_json(&json, ty).unwrap(), v, "json {text}");
    } else {
        assert!(encode_json(v, ty).is_err());
    }
}

pub(super) fn endpoint_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("ports", Type::set(Type::Number)),
        ("tags", Type::map(Type::String)),
        ("enabled", Type::Bool),
        (
            "rules",
            Type::set(Type::object([
                ("cidrs", Type::set(Type::String)),
                ("port", Type::Number),
                ("meta", Type::map(Type::list(Type::Bool))),
            ])),
        ),
        (
            "dns",
            Type::list(Type::object([
                ("name", Type::String),
                ("zone", Type::String),
            ])),
        ),
        ("timeouts", Type::object([("create", Type::String)])),
        ("pair", Type::tuple([Type::String, Type::Number])),
        ("anything", Type::Dynamic),
    ])
}

/// An object of `ty` with these attributes and null for the rest.
pub(super) fn object(ty: &Type, attrs: &[(&str, Value)]) -> Value {
    let Type::Object(types, _) = ty else {
        panic!("not an object type")
    };
    let mut out: BTreeMap<String, Value> = types.keys().map(|k| (k.clone(), Value::Null)).collect();
    for (k, v) in attrs {
        assert!(types.contains_key(*k), "{k}");
        out.insert((*k).to_owned(), v.clone());
    }
    Value::Object(out)
}

pub(super) fn rule(cidrs: &[&str], port: i64) -> Value {
    Value::object([
        ("cidrs", Value::set(cidrs.iter().map(|c| s(c)).collect())),
        ("port", Value::from(port)),
        (
            "meta",
            Value::map([("x", Value::list([Value::Bool(true)]))]),
        ),
    ])
}
