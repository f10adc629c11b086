//! Value types, and their JSON form in schemas and dynamic values
//! (`"string"`, `["list","string"]`, `["object",{"a":"number"}]`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    Bool,
    Number,
    String,
    /// Any type; values carry their type with them.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// Attribute types, and which attributes are optional.
    Object(BTreeMap<String, Type>, BTreeSet<String>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn object<'a>(attrs: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object(
            attrs.into_iter().map(|(k, t)| (k.to_owned(), t)).collect(),
            BTreeSet::new(),
        )
    }

    pub fn to_json_value(&self) -> Json {
        match self {
            Type::Bool => json!("bool"),
            Type::Number => json!("number"),
            Type::String => json!("string"),
            Type::Dynamic => json!("dynamic"),
            Type::List(t) => json!(["list", t.to_json_value()]),
            Type::Set(t) => json!(["set", t.to_json_value()]),
            Type::Map(t) => json!(["map", t.to_json_value()]),
            Type::Object(attrs, optional) => {
                let attrs: serde_json::Map<String, Json> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json_value()))
                    .collect();
                if optional.is_empty() {
                    json!(["object", attrs])
                } else {
                    json!(["object", attrs, optional.iter().collect::<Vec<_>>()])
                }
            }
            Type::Tuple(types) => json!([
                "tuple",
                types.iter().map(Type::to_json_value).collect::<Vec<_>>()
            ]),
        }
    }

    pub fn to_json(&self) -> String {
        self.to_json_value().to_string()
    }

    pub fn from_json(text: &[u8]) -> Result<Type, String> {
        let json: Json =
            serde_json::from_slice(text).map_err(|e| format!("invalid type JSON: {e}"))?;
        Type::from_json_value(&json, 0)
    }

    fn from_json_value(json: &Json, depth: usize) -> Result<Type, String> {
        if depth > 64 {
            return Err("type nested too deeply".into());
        }
        let inner = |j: &Json| Type::from_json_value(j, depth + 1).map(Box::new);
        match json {
            Json::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(format!("unknown primitive type {other:?}")),
            },
            Json::Array(items) => match (items.first().and_then(Json::as_str), items.len()) {
                (Some("list"), 2) => Ok(Type::List(inner(&items[1])?)),
                (Some("set"), 2) => Ok(Type::Set(inner(&items[1])?)),
                (Some("map"), 2) => Ok(Type::Map(inner(&items[1])?)),
                (Some("object"), 2 | 3) => {
                    let attrs = items[1]
                        .as_object()
                        .ok_or("object type needs an attribute map")?;
                    let attrs = attrs
                        .iter()
                        .map(|(k, v)| Ok((k.clone(), Type::from_json_value(v, depth + 1)?)))
                        .collect::<Result<BTreeMap<_, _>, String>>()?;
                    let optional = match items.get(2) {
                        Some(Json::Array(names)) => names
                            .iter()
                            .filter_map(Json::as_str)
                            .map(str::to_owned)
                            .collect(),
                        _ => BTreeSet::new(),
                    };
                    Ok(Type::Object(attrs, optional))
                }
                (Some("tuple"), 2) => {
                    let types = items[1]
                        .as_array()
                        .ok_or("tuple type needs a list of types")?;
                    Ok(Type::Tuple(
                        types
                            .iter()
                            .map(|t| Type::from_json_value(t, depth + 1))
                            .collect::<Result<_, _>>()?,
                    ))
                }
                _ => Err(format!("unknown type {json}")),
            },
            other => Err(format!("unknown type {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_round_trip_through_json() {
        let types = [
            Type::String,
            Type::Dynamic,
            Type::set(Type::Number),
            Type::list(Type::object([
                ("dns_name", Type::String),
                ("zone", Type::String),
            ])),
            Type::map(Type::Bool),
            Type::Tuple(vec![Type::String, Type::Number]),
            Type::Object(
                [("a".to_owned(), Type::String)].into_iter().collect(),
                ["a".to_owned()].into_iter().collect(),
            ),
        ];
        for t in types {
            assert_eq!(
                Type::from_json(t.to_json().as_bytes()).unwrap(),
                t,
                "{}",
                t.to_json()
            );
        }
        assert_eq!(Type::set(Type::String).to_json(), r#"["set","string"]"#);
    }

    #[test]
    fn bad_type_json_is_an_error() {
        for bad in ["", "\"text\"", "[\"list\"]", "[\"object\", 3]", "{}"] {
            assert!(Type::from_json(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
