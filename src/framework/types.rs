//! Value types, as go-cty has them, and their JSON form: the form schemas
//! and dynamic values carry (`"string"`, `["list","string"]`,
//! `["object",{"a":"number"}]`, `["object",{"a":"number"},["a"]]`,
//! `["tuple",["string","bool"]]`, `"dynamic"`).
//!
//! [`Type::to_json`] writes exactly what go-cty's `Type.MarshalJSON` writes
//! (compact, attributes and optional names sorted); [`Type::from_json`]
//! reads what `Type.UnmarshalJSON` reads, refuses anything else, and caps
//! nesting so hostile input cannot exhaust the stack.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value as Json;

/// The deepest type [`Type::from_json`] accepts.
pub const MAX_TYPE_DEPTH: usize = 64;

/// A value type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Bool,
    Number,
    String,
    /// Any type (go-cty's `DynamicPseudoType`): values of it carry their
    /// real type with them on the wire.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// Attribute types, and which of the attributes are optional.
    Object(BTreeMap<String, Type>, BTreeSet<String>),
    Tuple(Vec<Type>),
}

/// A type description that is not valid type JSON.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid type description: {0}")]
pub struct TypeError(pub String);

impl Type {
    /// A list of `element`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// A set of `element`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// A map of `element`, keyed by strings.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// An object with these attributes, none of them optional.
    pub fn object<'a>(attrs: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object(
            attrs.into_iter().map(|(k, t)| (k.to_owned(), t)).collect(),
            BTreeSet::new(),
        )
    }

    /// An object with these attributes, the ones named in `optional` being
    /// optional. Names in `optional` that are not attributes are ignored.
    pub fn object_with_optional<'a>(
        attrs: impl IntoIterator<Item = (&'a str, Type)>,
        optional: impl IntoIterator<Item = &'a str>,
    ) -> Type {
        let attrs: BTreeMap<String, Type> =
            attrs.into_iter().map(|(k, t)| (k.to_owned(), t)).collect();
        let optional = optional
            .into_iter()
            .filter(|name| attrs.contains_key(*name))
            .map(str::to_owned)
            .collect();
        Type::Object(attrs, optional)
    }

    /// A tuple of these element types.
    pub fn tuple(elements: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elements.into_iter().collect())
    }

    /// Bool, number or string.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::Bool | Type::Number | Type::String)
    }

    /// List, set or map: the types whose values have one element type.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// Whether this is the dynamic pseudo-type.
    pub fn is_dynamic(&self) -> bool {
        matches!(self, Type::Dynamic)
    }

    /// Whether `Dynamic` appears anywhere in this type.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::Bool | Type::Number | Type::String => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object(attrs, _) => attrs.values().any(Type::has_dynamic),
            Type::Tuple(types) => types.iter().any(Type::has_dynamic),
        }
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// The type of attribute `name` of an object type.
    pub fn attribute_type(&self, name: &str) -> Option<&Type> {
        match self {
            Type::Object(attrs, _) => attrs.get(name),
            _ => None,
        }
    }

    /// This type as go-cty writes it in JSON, compact.
    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    /// This type as a JSON value.
    pub fn to_json_value(&self) -> Json {
        match self {
            Type::Bool => Json::from("bool"),
            Type::Number => Json::from("number"),
            Type::String => Json::from("string"),
            Type::Dynamic => Json::from("dynamic"),
            Type::List(t) => Json::Array(vec!["list".into(), t.to_json_value()]),
            Type::Set(t) => Json::Array(vec!["set".into(), t.to_json_value()]),
            Type::Map(t) => Json::Array(vec!["map".into(), t.to_json_value()]),
            Type::Object(attrs, optional) => {
                // BTreeMap order is byte order, which is the order Go's
                // encoding/json writes map keys in.
                let attrs: serde_json::Map<String, Json> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json_value()))
                    .collect();
                let mut out = vec!["object".into(), Json::Object(attrs)];
                if !optional.is_empty() {
                    out.push(optional.iter().map(|s| Json::from(s.as_str())).collect());
                }
                Json::Array(out)
            }
            Type::Tuple(types) => Json::Array(vec![
                "tuple".into(),
                types.iter().map(Type::to_json_value).collect(),
            ]),
        }
    }

    /// Reads a type from its JSON text.
    pub fn from_json(text: &[u8]) -> Result<Type, TypeError> {
        let json: Json =
            serde_json::from_slice(text).map_err(|e| TypeError(format!("not JSON ({e})")))?;
        Type::from_json_value(&json)
    }

    /// Reads a type from a JSON value.
    pub fn from_json_value(json: &Json) -> Result<Type, TypeError> {
        Type::parse(json, 0)
    }

    fn parse(json: &Json, depth: usize) -> Result<Type, TypeError> {
        if depth >= MAX_TYPE_DEPTH {
            return Err(TypeError(format!(
                "nested more than {MAX_TYPE_DEPTH} levels deep"
            )));
        }
        let inner = |j: &Json| Type::parse(j, depth + 1);
        match json {
            Json::String(name) => match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeError(format!("unknown primitive type {other:?}"))),
            },
            Json::Array(items) => {
                let Some((Json::String(kind), args)) = items.split_first() else {
                    return Err(TypeError(
                        "a complex type must start with its kind name".into(),
                    ));
                };
                match (kind.as_str(), args) {
                    ("list", [t]) => Ok(Type::list(inner(t)?)),
                    ("set", [t]) => Ok(Type::set(inner(t)?)),
                    ("map", [t]) => Ok(Type::map(inner(t)?)),
                    ("object", [Json::Object(attrs)]) => {
                        Ok(Type::Object(parse_attrs(attrs, depth)?, BTreeSet::new()))
                    }
                    ("object", [Json::Object(attrs), Json::Array(optional)]) => {
                        let attrs = parse_attrs(attrs, depth)?;
                        let optional = optional
                            .iter()
                            .map(|name| match name.as_str() {
                                Some(name) if attrs.contains_key(name) => Ok(name.to_owned()),
                                Some(name) => Err(TypeError(format!(
                                    "optional attribute {name:?} is not an attribute"
                                ))),
                                None => Err(TypeError(
                                    "optional attribute names must be strings".into(),
                                )),
                            })
                            .collect::<Result<_, _>>()?;
                        Ok(Type::Object(attrs, optional))
                    }
                    ("tuple", [Json::Array(types)]) => Ok(Type::Tuple(
                        types.iter().map(inner).collect::<Result<_, _>>()?,
                    )),
                    ("list" | "set" | "map" | "object" | "tuple", _) => Err(TypeError(format!(
                        "malformed {kind} type {}",
                        abbreviated(json)
                    ))),
                    (other, _) => Err(TypeError(format!("unknown type kind {other:?}"))),
                }
            }
            other => Err(TypeError(format!("{} is not a type", abbreviated(other)))),
        }
    }
}

fn parse_attrs(
    attrs: &serde_json::Map<String, Json>,
    depth: usize,
) -> Result<BTreeMap<String, Type>, TypeError> {
    attrs
        .iter()
        .map(|(name, t)| Ok((name.clone(), Type::parse(t, depth + 1)?)))
        .collect()
}

/// JSON text for an error message, cut short if long.
fn abbreviated(json: &Json) -> String {
    const LIMIT: usize = 80;
    let text = json.to_string();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

impl fmt::Display for Type {
    /// go-cty's friendly names: `string`, `list of string`, `object`, …
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list of {t}"),
            Type::Set(t) => write!(f, "set of {t}"),
            Type::Map(t) => write!(f, "map of {t}"),
            Type::Object(..) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_kinds() -> Vec<Type> {
        vec![
            Type::Bool,
            Type::Number,
            Type::String,
            Type::Dynamic,
            Type::set(Type::Number),
            Type::list(Type::object([
                ("dns_name", Type::String),
                ("zone", Type::String),
            ])),
            Type::map(Type::Bool),
            Type::tuple([Type::String, Type::Number]),
            Type::tuple([]),
            Type::object([]),
            Type::object_with_optional([("a", Type::String), ("b", Type::Dynamic)], ["b"]),
            Type::map(Type::set(Type::list(Type::tuple([Type::Dynamic])))),
        ]
    }

    #[test]
    fn types_round_trip_through_json() {
        for t in all_kinds() {
            let json = t.to_json();
            assert_eq!(Type::from_json(json.as_bytes()).unwrap(), t, "{json}");
            assert_eq!(Type::from_json_value(&t.to_json_value()).unwrap(), t);
        }
    }

    #[test]
    fn json_is_what_go_cty_writes() {
        assert_eq!(Type::String.to_json(), r#""string""#);
        assert_eq!(Type::Dynamic.to_json(), r#""dynamic""#);
        assert_eq!(Type::set(Type::String).to_json(), r#"["set","string"]"#);
        assert_eq!(
            Type::object([("b", Type::Number), ("a", Type::list(Type::Bool))]).to_json(),
            r#"["object",{"a":["list","bool"],"b":"number"}]"#
        );
        assert_eq!(
            Type::object_with_optional([("x", Type::String), ("y", Type::String)], ["y", "x"])
                .to_json(),
            r#"["object",{"x":"string","y":"string"},["x","y"]]"#
        );
        assert_eq!(
            Type::tuple([Type::String, Type::map(Type::Number)]).to_json(),
            r#"["tuple",["string",["map","number"]]]"#
        );
    }

    #[test]
    fn whitespace_in_type_json_is_fine() {
        let t = Type::from_json(br#" [ "object" , { "a" : [ "list" , "string" ] } , [ "a" ] ] "#)
            .unwrap();
        assert_eq!(
            t,
            Type::object_with_optional([("a", Type::list(Type::String))], ["a"])
        );
    }

    #[test]
    fn bad_type_json_is_an_error() {
        for bad in [
            "",
            "3",
            "null",
            "{}",
            r#""text""#,
            r#""String""#,
            r#"[]"#,
            r#"[3]"#,
            r#"["list"]"#,
            r#"["list","string","string"]"#,
            r#"["object", 3]"#,
            r#"["object", {"a": "string"}, ["b"]]"#,
            r#"["object", {"a": "string"}, [1]]"#,
            r#"["object", {"a": "string"}, ["a"], []]"#,
            r#"["tuple", "string"]"#,
            r#"["capsule", "x"]"#,
            r#""string" "string""#,
        ] {
            let err = Type::from_json(bad.as_bytes()).unwrap_err();
            assert!(
                err.to_string().starts_with("invalid type description"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let mut json = String::from(r#""string""#);
        for _ in 0..MAX_TYPE_DEPTH {
            json = format!(r#"["list",{json}]"#);
        }
        assert!(Type::from_json(json.as_bytes()).is_err());
        // Deeper than serde_json itself allows: still an error, no overflow.
        let deep = "[".repeat(100_000);
        assert!(Type::from_json(deep.as_bytes()).is_err());
        // Just inside the limit is fine.
        let mut ok = String::from(r#""number""#);
        for _ in 0..MAX_TYPE_DEPTH - 1 {
            ok = format!(r#"["set",{ok}]"#);
        }
        assert!(Type::from_json(ok.as_bytes()).is_ok());
    }

    #[test]
    fn long_garbage_is_abbreviated_in_errors() {
        let long = format!(r#"["list",{}]"#, "1".repeat(500));
        let err = Type::from_json(long.as_bytes()).unwrap_err().to_string();
        assert!(err.len() < 200, "{err}");
    }

    #[test]
    fn helpers_describe_types() {
        let obj = Type::object([("a", Type::list(Type::Dynamic))]);
        assert_eq!(obj.attribute_type("a"), Some(&Type::list(Type::Dynamic)));
        assert_eq!(obj.attribute_type("b"), None);
        assert!(obj.has_dynamic());
        assert!(!Type::map(Type::String).has_dynamic());
        assert_eq!(Type::map(Type::String).element_type(), Some(&Type::String));
        assert_eq!(Type::tuple([]).element_type(), None);
        assert!(Type::Number.is_primitive());
        assert!(!Type::Dynamic.is_primitive());
        assert!(Type::Dynamic.is_dynamic());
        assert!(Type::set(Type::Bool).is_collection());
        assert!(!Type::tuple([]).is_collection());
        assert_eq!(
            Type::list(Type::map(Type::Bool)).to_string(),
            "list of map of bool"
        );
        assert_eq!(obj.to_string(), "object");
        // Optional names that are not attributes are dropped by the builder.
        assert_eq!(
            Type::object_with_optional([("a", Type::Bool)], ["nope"]),
            Type::object([("a", Type::Bool)])
        );
    }
}
