//! Resource identity (Terraform 1.12 and later, protocol 6.9): the few
//! attributes that name one object where it lives, apart from its state.
//! Terraform keeps the identity next to the state, accepts it in
//! `import { identity = { ... } }`, and (1.14) takes it from list results.
//! Clients before 1.12 never ask for it, and see the provider as before.

use std::collections::{BTreeMap, BTreeSet};

use crate::framework::types::Type;
use crate::framework::value::Value;

/// One attribute of an identity. Every identity attribute here is a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityAttribute {
    pub name: &'static str,
    /// An `import { identity = ... }` must give it; otherwise it is
    /// optional there (and taken from the provider's configuration).
    pub required_for_import: bool,
    pub description: &'static str,
}

/// A resource type's identity schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentitySchema {
    /// Raised only when the identity's shape changes; a stored identity of
    /// an older version goes through UpgradeResourceIdentity.
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// The identity's value type: an object of its string attributes.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.to_owned(), Type::String))
                .collect(),
            BTreeSet::new(),
        )
    }

    /// An identity of this schema from attribute values; an attribute
    /// missing from `values` is null.
    pub fn value(&self, values: &[(&str, &str)]) -> Value {
        let mut map: BTreeMap<String, Value> = self
            .attributes
            .iter()
            .map(|a| (a.name.to_owned(), Value::Null))
            .collect();
        for (name, v) in values {
            if let Some(slot) = map.get_mut(*name)
                && !v.is_empty()
            {
                *slot = Value::String((*v).to_owned());
            }
        }
        Value::Object(map)
    }

    /// Where `value` does not conform to this schema: not an object, an
    /// attribute it lacks or one it does not have, a value not a string,
    /// an unknown value, or a required attribute null (what Terraform's
    /// `validateIdentity` and `validateIdentityKnown` refuse, with the
    /// required attributes on top). Empty when it conforms.
    pub fn nonconformities(&self, value: &Value) -> Vec<String> {
        let Value::Object(map) = value else {
            return vec!["the identity is not an object".to_owned()];
        };
        let mut out = Vec::new();
        for a in &self.attributes {
            match map.get(a.name) {
                None => out.push(format!("{} is missing", a.name)),
                Some(Value::String(s)) if a.required_for_import && s.is_empty() => {
                    out.push(format!("{} is empty", a.name))
                }
                Some(Value::String(_)) => {}
                Some(Value::Null) if a.required_for_import => {
                    out.push(format!("{} is null", a.name))
                }
                Some(Value::Null) => {}
                Some(Value::Unknown(_)) => out.push(format!("{} is unknown", a.name)),
                Some(other) => out.push(format!("{} is not a string: {other:?}", a.name)),
            }
        }
        for k in map.keys() {
            if !self.attributes.iter().any(|a| a.name == k) {
                out.push(format!("{k} is not an identity attribute"));
            }
        }
        out
    }

    /// The string value of `name` in an identity, if set.
    pub fn get<'v>(value: &'v Value, name: &str) -> Option<&'v str> {
        match value {
            Value::Object(map) => match map.get(name) {
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                _ => None,
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> IdentitySchema {
        IdentitySchema {
            version: 0,
            attributes: vec![
                IdentityAttribute {
                    name: "id",
                    required_for_import: true,
                    description: "",
                },
                IdentityAttribute {
                    name: "region",
                    required_for_import: false,
                    description: "",
                },
            ],
        }
    }

    #[test]
    fn a_value_of_the_schema_conforms_and_what_is_left_out_is_null() {
        let s = schema();
        let v = s.value(&[("id", "vpce-1")]);
        assert!(s.nonconformities(&v).is_empty());
        assert_eq!(IdentitySchema::get(&v, "id"), Some("vpce-1"));
        assert_eq!(IdentitySchema::get(&v, "region"), None);
    }

    #[test]
    fn nonconformities_name_the_attribute() {
        let s = schema();
        assert_eq!(
            s.nonconformities(&s.value(&[("region", "us-east-1")])),
            vec!["id is null"]
        );
        let mut extra = s.value(&[("id", "x")]);
        if let Value::Object(m) = &mut extra {
            m.insert("zone".into(), Value::Null);
            m.insert("region".into(), Value::Unknown(Default::default()));
        }
        assert_eq!(
            s.nonconformities(&extra),
            vec!["region is unknown", "zone is not an identity attribute"]
        );
        assert_eq!(
            s.nonconformities(&Value::Null),
            vec!["the identity is not an object"]
        );
    }
}
