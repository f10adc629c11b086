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

use crate::aws::model::Tags;
use crate::framework::diag::Diagnostics;
use crate::resources::tags::OwnTags;
use crate::validate;

/// The AWS provider, as Terraform names the source of a move.
pub const AWS_PROVIDER: &str = "registry.terraform.io/hashicorp/aws";

/// Whether a move comes from `source_type` of the AWS provider.
pub fn is_from_aws(source_provider: &str, source_type: &str, wanted: &str) -> bool {
    source_provider.eq_ignore_ascii_case(AWS_PROVIDER) && source_type == wanted
}

/// The state of a `moved` block's source when it is a `wanted` of the AWS
/// provider, read (an error says why when it cannot be). `None` without a
/// diagnostic for any other source: Terraform reports that move as
/// unsupported.
pub fn from_aws(
    source_provider: &str,
    source_type: &str,
    source_json: &[u8],
    wanted: &str,
    diags: &mut Diagnostics,
) -> Option<SourceState> {
    if !is_from_aws(source_provider, source_type, wanted) {
        return None;
    }
    SourceState::parse(source_type, source_json, diags)
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

    /// A string attribute; `None` when absent or null.
    pub fn string(&self, name: &str) -> Option<String> {
        self.str(name).map(str::to_owned)
    }

    /// A string attribute where the AWS provider writes `""` for "not set".
    pub fn non_empty_string(&self, name: &str) -> Option<String> {
        self.str(name).filter(|s| !s.is_empty()).map(str::to_owned)
    }

    /// The id of the object to move, when it is an EC2 id of `prefix` (a
    /// `what`); else an error saying the state has none.
    pub fn ec2_id(&self, prefix: &str, what: &str, diags: &mut Diagnostics) -> Option<&str> {
        let id = self.str("id").unwrap_or_default();
        if validate::ec2_id(id, prefix, what).is_err() {
            diags.error(
                format!("Cannot move the {what}"),
                format!(
                    "The {} to move has no {what} id in its state ({id:?}).",
                    self.type_name
                ),
            );
            return None;
        }
        Some(id)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.attrs.get(name).and_then(Json::as_bool)
    }

    /// The strings of a list or set attribute (empty when absent or null).
    pub fn strings(&self, name: &str) -> Vec<String> {
        strings(self.attrs.get(name))
    }

    /// A map of strings: `None` when absent or null.
    pub fn string_map(&self, name: &str) -> Option<Tags> {
        match self.attrs.get(name) {
            Some(Json::Object(map)) => Some(
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// `tags` and `tags_all` as this provider keeps them: `tags` null when
    /// empty (hashicorp/aws treats `{}` and null alike, and a configuration
    /// without tags plans null), `tags_all` always a map.
    pub fn tags(&self) -> (Option<OwnTags>, Tags) {
        let tags = self
            .string_map("tags")
            .filter(|m| !m.is_empty())
            .map(|m| m.into_iter().map(|(k, v)| (k, Some(v))).collect());
        (tags, self.string_map("tags_all").unwrap_or_default())
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
    fn only_a_readable_state_of_the_wanted_type_is_a_source() {
        let mut diags = Diagnostics::new();
        let json = br#"{"id": "sg-0123456789abcdef0"}"#;
        let found = from_aws(
            AWS_PROVIDER,
            "aws_security_group",
            json,
            "aws_security_group",
            &mut diags,
        );
        assert_eq!(
            found.unwrap().ec2_id("sg", "security group", &mut diags),
            Some("sg-0123456789abcdef0")
        );
        assert!(
            from_aws(
                AWS_PROVIDER,
                "aws_vpc",
                json,
                "aws_security_group",
                &mut diags
            )
            .is_none()
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert!(from_aws(AWS_PROVIDER, "aws_vpc", b"[]", "aws_vpc", &mut diags).is_none());
        assert!(diags.has_errors());
    }

    #[test]
    fn a_state_without_an_id_of_the_kind_cannot_move() {
        for json in [
            &br#"{"id": null}"#[..],
            br#"{"id": "vpce-0123456789abcdef0"}"#,
        ] {
            let mut diags = Diagnostics::new();
            let s = SourceState::parse("aws_security_group", json, &mut diags).unwrap();
            assert_eq!(s.ec2_id("sg", "security group", &mut diags), None);
            let text = format!("{diags:?}");
            assert!(text.contains("Cannot move the security group"), "{text}");
            assert!(text.contains("no security group id"), "{text}");
        }
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
        assert_eq!(s.non_empty_string("name_prefix"), None);
        assert_eq!(s.string("name_prefix"), Some(String::new()));
        assert_eq!(s.string("missing"), None);
        assert_eq!(s.string_map("none"), None);
        assert_eq!(
            s.string_map("tags_all"),
            Some([("a".to_owned(), "b".to_owned())].into())
        );
        assert_eq!(s.strings("ids"), vec!["x", "y"]);
        assert_eq!(s.tags(), (None, s.string_map("tags_all").unwrap()));
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
