//! go-cty's JSON for values, the form of raw stored state that
//! UpgradeResourceState hands over, read and written against a known
//! [`Type`].
//!
//! Invariants: JSON has no unknown values, so writing one anywhere is an
//! error; a value of type `dynamic` is `{"value": …, "type": …}` with its
//! implied type; an object is written with every attribute of its type,
//! and read with absent attributes as null and unknown ones refused; sets
//! are deduplicated on reading. Nesting is capped at [`MAX_DEPTH`] and
//! every error names the path where it happened.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::dynamic::implied_type;
use super::{DecodeError, EncodeError, MAX_DEPTH, decode_error, encode_error, too_deep};
use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::{Number, Value, dedup_set};

// ============================================================ JSON in ==

/// Reads go-cty JSON (raw stored state) of type `ty`. JSON has no unknown
/// values. Like go-cty, a bool may also be written as `"true"`, `"false"`,
/// `"1"` or `"0"`, a number as a string, and a string as a number or bool.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    // serde_json caps its own nesting, so hostile input cannot overflow.
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| decode_error(&AttributePath::root(), format!("invalid JSON: {e}")))?;
    from_json(&json, ty, &AttributePath::root(), 0)
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn from_json(
    json: &Json,
    ty: &Type,
    path: &AttributePath,
    depth: usize,
) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(decode_error(path, too_deep()));
    }
    let mismatch = || {
        decode_error(
            path,
            format!("expected {}, got {}", json_expected(ty), json_kind(json)),
        )
    };
    Ok(match (ty, json) {
        (_, Json::Null) => Value::Null,
        (Type::Dynamic, Json::Object(o)) => {
            if let Some(key) = o.keys().find(|k| *k != "type" && *k != "value") {
                return Err(decode_error(
                    path,
                    format!("invalid key {key:?} in a dynamic value"),
                ));
            }
            let ty = o
                .get("type")
                .ok_or_else(|| decode_error(path, "dynamic value without \"type\""))?;
            let ty = Type::from_json_value(ty).map_err(|e| decode_error(path, e.to_string()))?;
            let value = o
                .get("value")
                .ok_or_else(|| decode_error(path, "dynamic value without \"value\""))?;
            from_json(value, &ty, path, depth + 1)?
        }
        (Type::Bool, Json::Bool(b)) => Value::Bool(*b),
        (Type::Bool, Json::String(s)) => match s.as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(decode_error(path, format!("expected a bool, got {s:?}"))),
        },
        (Type::Number, Json::Number(n)) => Value::Number(
            Number::parse(&n.to_string()).map_err(|e| decode_error(path, e.to_string()))?,
        ),
        (Type::Number, Json::String(s)) => {
            Value::Number(Number::parse(s).map_err(|e| decode_error(path, e.to_string()))?)
        }
        (Type::String, Json::String(s)) => Value::String(s.clone()),
        (Type::String, Json::Number(n)) => Value::String(n.to_string()),
        (Type::String, Json::Bool(b)) => Value::String(b.to_string()),
        (Type::List(element), Json::Array(items)) => {
            Value::List(json_elements(items, element, path, depth)?)
        }
        (Type::Set(element), Json::Array(items)) => {
            Value::Set(dedup_set(json_elements(items, element, path, depth)?))
        }
        (Type::Tuple(types), Json::Array(items)) => {
            if items.len() != types.len() {
                return Err(decode_error(
                    path,
                    format!(
                        "expected a tuple of {} elements, got {}",
                        types.len(),
                        items.len()
                    ),
                ));
            }
            Value::Tuple(
                items
                    .iter()
                    .zip(types)
                    .enumerate()
                    .map(|(i, (item, t))| from_json(item, t, &path.index(i as i64), depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Map(element), Json::Object(o)) => Value::Map(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v, element, &path.key(k), depth + 1)?)))
                .collect::<Result<_, DecodeError>>()?,
        ),
        (Type::Object(attrs, _), Json::Object(o)) => {
            let mut out = BTreeMap::new();
            for (name, v) in o {
                let attr_path = path.attr(name);
                let t = attrs.get(name).ok_or_else(|| {
                    decode_error(&attr_path, format!("unsupported attribute {name:?}"))
                })?;
                out.insert(name.clone(), from_json(v, t, &attr_path, depth + 1)?);
            }
            for name in attrs.keys() {
                if !out.contains_key(name) {
                    out.insert(name.clone(), Value::Null);
                }
            }
            Value::Object(out)
        }
        _ => return Err(mismatch()),
    })
}

fn json_expected(ty: &Type) -> String {
    match ty {
        Type::Bool => "a bool".into(),
        Type::Number => "a number".into(),
        Type::String => "a string".into(),
        Type::List(_) | Type::Set(_) | Type::Tuple(_) => format!("an array for a {ty}"),
        Type::Map(_) | Type::Object(..) => format!("an object for a {ty}"),
        Type::Dynamic => "a dynamic value ({\"value\": …, \"type\": …})".into(),
    }
}

fn json_elements(
    items: &[Json],
    element: &Type,
    path: &AttributePath,
    depth: usize,
) -> Result<Vec<Value>, DecodeError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| from_json(item, element, &path.index(i as i64), depth + 1))
        .collect()
}

// =========================================================== JSON out ==

/// Writes a wholly known `value` of type `ty` as go-cty JSON; an unknown
/// anywhere is an error.
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let json = to_json(value, ty, &AttributePath::root(), 0)?;
    serde_json::to_vec(&json).map_err(|e| encode_error(&AttributePath::root(), e.to_string()))
}

fn to_json(v: &Value, ty: &Type, path: &AttributePath, depth: usize) -> Result<Json, EncodeError> {
    if depth > MAX_DEPTH {
        return Err(encode_error(path, too_deep()));
    }
    let mismatch = || encode_error(path, format!("cannot write a {} value as {}", v.kind(), ty));
    Ok(match (v, ty) {
        (Value::Unknown(_), _) => {
            return Err(encode_error(
                path,
                "an unknown value cannot be written as JSON",
            ));
        }
        (Value::Null, _) => Json::Null,
        (_, Type::Dynamic) => {
            let actual = implied_type(v, path, depth)?;
            let mut o = serde_json::Map::new();
            // go-cty writes "value" first.
            o.insert("value".into(), to_json(v, &actual, path, depth + 1)?);
            o.insert("type".into(), actual.to_json_value());
            Json::Object(o)
        }
        (Value::Bool(b), Type::Bool) => Json::Bool(*b),
        (Value::Number(n), Type::Number) => Json::Number(
            n.as_str()
                .parse()
                .map_err(|e| encode_error(path, format!("number {n}: {e}")))?,
        ),
        (Value::String(s), Type::String) => Json::String(s.clone()),
        (Value::List(items) | Value::Tuple(items), Type::List(element)) => {
            json_array(items, element, path, depth)?
        }
        (Value::Set(items), Type::List(element))
        | (Value::List(items) | Value::Set(items) | Value::Tuple(items), Type::Set(element)) => {
            json_array(&dedup_set(items.clone()), element, path, depth)?
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
            Json::Array(
                items
                    .iter()
                    .zip(types)
                    .enumerate()
                    .map(|(i, (item, t))| to_json(item, t, &path.index(i as i64), depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Map(m) | Value::Object(m), Type::Map(element)) => Json::Object(
            m.iter()
                .map(|(k, item)| Ok((k.clone(), to_json(item, element, &path.key(k), depth + 1)?)))
                .collect::<Result<_, EncodeError>>()?,
        ),
        (Value::Object(m) | Value::Map(m), Type::Object(attrs, _)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(encode_error(
                    &path.attr(extra),
                    format!("the object type has no attribute {extra:?}"),
                ));
            }
            Json::Object(
                attrs
                    .iter()
                    .map(|(name, t)| {
                        let item = m.get(name).unwrap_or(&Value::Null);
                        Ok((name.clone(), to_json(item, t, &path.attr(name), depth + 1)?))
                    })
                    .collect::<Result<_, EncodeError>>()?,
            )
        }
        _ => return Err(mismatch()),
    })
}

fn json_array(
    items: &[Value],
    element: &Type,
    path: &AttributePath,
    depth: usize,
) -> Result<Json, EncodeError> {
    Ok(Json::Array(
        items
            .iter()
            .enumerate()
            .map(|(i, item)| to_json(item, element, &path.index(i as i64), depth + 1))
            .collect::<Result<_, _>>()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::codec::test_support::*;

    #[test]
    fn json_as_go_cty_writes_it() {
        let ty = Type::object([
            ("b", Type::Number),
            ("a", Type::String),
            ("l", Type::list(Type::Bool)),
            ("m", Type::map(Type::Number)),
            ("t", Type::tuple([Type::String, Type::Number])),
            ("d", Type::Dynamic),
            ("z", Type::String),
        ]);
        let v = Value::object([
            ("a", s("x\"y")),
            ("b", n("1180591620717411303424")),
            ("l", Value::list([Value::Bool(true)])),
            ("m", Value::map([("k", n("1.5"))])),
            ("t", Value::Tuple(vec![s("s"), n("-0.25")])),
            ("d", Value::list([s("q")])),
            ("z", Value::Null),
        ]);
        let json = encode_json(&v, &ty).unwrap();
        assert_eq!(
            String::from_utf8(json.clone()).unwrap(),
            r#"{"a":"x\"y","b":1180591620717411303424,"d":{"value":["q"],"type":["list","string"]},"l":[true],"m":{"k":1.5},"t":["s",-0.25],"z":null}"#
        );
        assert_eq!(decode_json(&json, &ty).unwrap(), v);
    }

    #[test]
    fn json_reads_what_go_cty_reads() {
        let ty = Type::object([
            ("b", Type::Bool),
            ("n", Type::Number),
            ("s", Type::String),
            ("set", Type::set(Type::String)),
            ("d", Type::Dynamic),
        ]);
        let read = |text: &str| decode_json(text.as_bytes(), &ty);
        let v = read(r#"{"b": "1", "n": "1.50", "s": 1.50, "set": ["a", "a", "b"], "d": null}"#)
            .unwrap();
        assert_eq!(
            v,
            Value::object([
                ("b", Value::Bool(true)),
                ("n", n("1.5")),
                ("s", s("1.50")),
                ("set", Value::set(vec![s("a"), s("b")])),
                ("d", Value::Null),
            ])
        );
        assert_eq!(
            v.get_attr("set")
                .and_then(Value::as_elements)
                .map(<[Value]>::len),
            Some(2)
        );
        let v = read(r#"{"b": "false", "s": true, "n": 1e3}"#).unwrap();
        assert_eq!(v.get_attr("b"), Some(&Value::Bool(false)));
        assert_eq!(v.get_attr("s"), Some(&s("true")));
        assert_eq!(v.get_attr("n"), Some(&n("1000")));
        assert_eq!(v.get_attr("set"), Some(&Value::Null));
        let v = read(r#"{"d": {"type": ["map", "number"], "value": {"x": 2}}}"#).unwrap();
        assert_eq!(v.get_attr("d"), Some(&Value::map([("x", n("2"))])));
        assert_eq!(decode_json(b"null", &ty).unwrap(), Value::Null);
        assert_eq!(
            decode_json(b"1180591620717411303424", &Type::Number).unwrap(),
            n("1180591620717411303424")
        );
        assert_eq!(decode_json(b"1.5", &Type::Number).unwrap(), n("1.5"));
        assert_eq!(decode_json(b" \"x\" ", &Type::String).unwrap(), s("x"));
    }

    #[test]
    fn json_errors_name_the_path() {
        let ty = Type::object([
            ("tags", Type::map(Type::String)),
            ("t", Type::tuple([Type::Bool])),
            ("b", Type::Bool),
            ("n", Type::Number),
            ("d", Type::Dynamic),
            ("l", Type::list(Type::object([("x", Type::Number)]))),
        ]);
        let cases: &[(&str, &str, &str)] = &[
            (
                r#"{"tags": {"env": [1]}}"#,
                r#"tags["env"]"#,
                "expected a string, got an array",
            ),
            (r#"{"zzz": 1}"#, "zzz", r#"unsupported attribute "zzz""#),
            (r#"{"t": [true, false]}"#, "t", "tuple of 1 elements, got 2"),
            (r#"{"t": []}"#, "t", "tuple of 1 elements, got 0"),
            (r#"{"b": "yes"}"#, "b", "expected a bool"),
            (r#"{"b": 1}"#, "b", "expected a bool, got a number"),
            (r#"{"n": "x"}"#, "n", "not a number"),
            (r#"{"n": true}"#, "n", "expected a number"),
            (r#"{"d": {"value": 1}}"#, "d", "without \"type\""),
            (r#"{"d": {"type": "number"}}"#, "d", "without \"value\""),
            (
                r#"{"d": {"type": "number", "value": 1, "x": 2}}"#,
                "d",
                "invalid key \"x\"",
            ),
            (
                r#"{"d": {"type": "nope", "value": 1}}"#,
                "d",
                "invalid type",
            ),
            (r#"{"d": 5}"#, "d", "expected a dynamic value"),
            (
                r#"{"l": [{"x": 1}, {"y": 2}]}"#,
                "l[1].y",
                "unsupported attribute",
            ),
            (r#"[1]"#, "(root)", "expected an object"),
            (r#"{"a": "#, "(root)", "invalid JSON"),
            (r#"{} {}"#, "(root)", "invalid JSON"),
            ("", "(root)", "invalid JSON"),
        ];
        for (json, path, message) in cases {
            let err = decode_json(json.as_bytes(), &ty).unwrap_err();
            assert_eq!(err.path.to_string(), *path, "{json}: {err}");
            assert!(err.message.contains(message), "{json}: {err}");
        }
    }

    #[test]
    fn json_has_no_unknowns() {
        let err = encode_json(&Value::unknown(), &Type::String).unwrap_err();
        assert!(err.message.contains("unknown"), "{err}");
        assert!(err.path.is_root());
        assert!(encode_json(&Value::unknown(), &Type::Dynamic).is_err());
    }
}
