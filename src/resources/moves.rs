//! Moving resources in from `hashicorp/aws`: a `moved` block from an
//! `aws_vpc_endpoint` or `aws_security_group` to this provider's resources
//! (Terraform's MoveResourceState). This module reads the AWS provider's
//! state as Terraform stores it (the JSON of the instance's attributes);
//! each resource maps it to its own state in its `move_state`.
//!
//! The refresh that follows every move reads the object again from EC2, and
//! the plan compares the configuration with that. What EC2 cannot tell a
//! refresh comes from the mapped state and needs care: whether `tags` was
//! set, a security group's `name_prefix`, and the prior reading of its rules.

use serde_json::{Map, Value as Json};

use crate::framework::diag::Diagnostics;
use crate::framework::model::{string_list, string_set};
use crate::framework::value::Value;

/// The AWS provider, as Terraform names the source of a move.
pub const AWS_PROVIDER: &str = "registry.terraform.io/hashicorp/aws";

/// Whether a move comes from `source_type` of the AWS provider.
pub fn is_from_aws(source_provider: &str, source_type: &str, wanted: &str) -> bool {
    source_provider.eq_ignore_ascii_case(AWS_PROVIDER) && source_type == wanted
}

/// The attributes of a source resource's state.
#[derive(Debug)]
pub struct SourceState {
    type_name: String,
    attrs: Map<String, Json>,
}

impl SourceState {
    /// Reads the source state's JSON, or says why it cannot.
    pub fn parse(type_name: &str, json: &[u8], diags: &mut Diagnostics) -> Option<SourceState> {
        match serde_json::from_slice::<Json>(json) {
            Ok(Json::Object(attrs)) => Some(SourceState {
                type_name: type_name.to_owned(),
                attrs,
            }),
            Ok(_) | Err(_) => {
                diags.error(
                    "Unreadable source state",
                    format!(
                        "The state of the {type_name} to move is not a JSON object of attributes. \
                         Check that `terraform state pull` shows it, and that hashicorp/aws reads \
                         it (`terraform plan` without the moved block)."
                    ),
                );
                None
            }
        }
    }

    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// A string attribute; `None` when absent, null or not a string.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).and_then(Json::as_str)
    }

    /// A string attribute as a value: null when absent or null.
    pub fn string(&self, name: &str) -> Value {
        self.str(name)
            .map_or(Value::Null, |s| Value::String(s.to_owned()))
    }

    /// A string attribute where the AWS provider writes `""` for "not set".
    pub fn non_empty_string(&self, name: &str) -> Value {
        self.str(name)
            .filter(|s| !s.is_empty())
            .map_or(Value::Null, |s| Value::String(s.to_owned()))
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.attrs.get(name).and_then(Json::as_bool)
    }

    /// The strings of a list or set attribute (empty when absent or null).
    pub fn strings(&self, name: &str) -> Vec<String> {
        strings(self.attrs.get(name))
    }

    pub fn string_set(&self, name: &str) -> Value {
        string_set(self.strings(name))
    }

    pub fn string_list(&self, name: &str) -> Value {
        string_list(self.strings(name))
    }

    /// A map of strings: null when absent or null.
    pub fn string_map(&self, name: &str) -> Value {
        match self.attrs.get(name) {
            Some(Json::Object(map)) => Value::Map(
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), Value::String(v.as_str()?.to_owned()))))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }

    /// `tags` and `tags_all` as this provider keeps them: `tags` null when
    /// empty (hashicorp/aws treats `{}` and null alike, and a configuration
    /// without tags plans null), `tags_all` always a map.
    pub fn tags(&self) -> (Value, Value) {
        let tags = match self.string_map("tags") {
            Value::Map(m) if m.is_empty() => Value::Null,
            tags => tags,
        };
        let tags_all = match self.string_map("tags_all") {
            Value::Null => Value::Map(Default::default()),
            tags_all => tags_all,
        };
        (tags, tags_all)
    }

    /// The objects of a nested block list (`ingress`, `dns_entry`).
    pub fn blocks(&self, name: &str) -> Vec<Block<'_>> {
        match self.attrs.get(name) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(Json::as_object)
                .map(Block)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// One object of a nested block in the source state.
#[derive(Clone, Copy, Debug)]
pub struct Block<'a>(&'a Map<String, Json>);

impl Block<'_> {
    pub fn str(&self, name: &str) -> &str {
        self.0.get(name).and_then(Json::as_str).unwrap_or_default()
    }

    pub fn bool(&self, name: &str) -> bool {
        self.0.get(name).and_then(Json::as_bool).unwrap_or(false)
    }

    /// An integer attribute; `None` when absent or not an integer.
    pub fn int(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Json::as_i64)
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        strings(self.0.get(name))
    }
}

fn strings(value: Option<&Json>) -> Vec<String> {
    match value {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_named_type_of_the_aws_provider_is_a_source() {
        assert!(is_from_aws(
            AWS_PROVIDER,
            "aws_vpc_endpoint",
            "aws_vpc_endpoint"
        ));
        assert!(!is_from_aws(AWS_PROVIDER, "aws_vpc", "aws_vpc_endpoint"));
        assert!(!is_from_aws(
            "registry.terraform.io/someone/aws",
            "aws_vpc_endpoint",
            "aws_vpc_endpoint"
        ));
    }

    #[test]
    fn unreadable_state_is_an_error() {
        for bad in [&b"[]"[..], b"not json", b""] {
            let mut diags = Diagnostics::new();
            assert!(SourceState::parse("aws_vpc_endpoint", bad, &mut diags).is_none());
            assert!(diags.has_errors());
        }
    }

    #[test]
    fn absent_null_and_empty_values_read_as_terraform_has_them() {
        let mut diags = Diagnostics::new();
        let s = SourceState::parse(
            "aws_security_group",
            br#"{"name_prefix": "", "tags": {}, "tags_all": {"a": "b"}, "none": null, "ids": ["x", "y"]}"#,
            &mut diags,
        )
        .unwrap();
        assert_eq!(s.non_empty_string("name_prefix"), Value::Null);
        assert_eq!(s.string("name_prefix"), Value::String(String::new()));
        assert_eq!(s.string("missing"), Value::Null);
        assert_eq!(s.string_map("none"), Value::Null);
        assert_eq!(
            s.string_map("tags_all"),
            Value::Map([("a".into(), Value::String("b".into()))].into())
        );
        assert_eq!(s.strings("ids"), vec!["x", "y"]);
        assert_eq!(s.tags(), (Value::Null, s.string_map("tags_all")));
        assert!(s.blocks("ingress").is_empty());
    }
}

/// Test helpers for the resources' move mappings.
#[cfg(test)]
pub(crate) mod testing {
    use crate::framework::codec::encode_msgpack;
    use crate::framework::diag::Diagnostics;
    use crate::framework::schema::Schema;
    use crate::framework::types::Type;
    use crate::framework::value::Value;

    use super::SourceState;

    /// A captured source state, parsed.
    pub fn source(type_name: &str, json: &str) -> SourceState {
        let mut diags = Diagnostics::new();
        let source = SourceState::parse(type_name, json.as_bytes(), &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        source.expect("fixture parses")
    }

    /// A captured source state with some attributes replaced.
    pub fn edited(json: &str, changes: &[(&str, serde_json::Value)]) -> String {
        let mut state: serde_json::Value = serde_json::from_str(json).expect("fixture is JSON");
        for (name, value) in changes {
            state[*name] = value.clone();
        }
        state.to_string()
    }

    /// The mapped state sets every attribute of the schema, nothing else,
    /// and encodes as Terraform receives it.
    pub fn assert_fits(state: &Value, schema: &Schema) {
        let ty = schema.value_type();
        let (Value::Object(attrs), Type::Object(wanted, _)) = (state, &ty) else {
            panic!("not an object: {state:?}");
        };
        assert_eq!(
            attrs.keys().collect::<Vec<_>>(),
            wanted.keys().collect::<Vec<_>>()
        );
        encode_msgpack(state, &ty).expect("state encodes with the schema's type");
    }
}
