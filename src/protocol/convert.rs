//! Conversions between protobuf messages and framework types. The only
//! place, with `protocol/mod.rs`, where protobuf types appear.

use crate::framework::codec;
use crate::framework::diag::{Diagnostic, Diagnostics, Severity};
use crate::framework::identity::IdentitySchema;
use crate::framework::path::{AttributePath, PathStep};
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::protocol::tfplugin6 as pb;

pub fn diagnostics(diags: Diagnostics) -> Vec<pb::Diagnostic> {
    diags.into_iter().map(diagnostic).collect()
}

fn diagnostic(d: Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        // What a diagnostic quotes (an AWS answer, a configured value) goes
        // through the same redaction as the log.
        summary: crate::logging::redact(&d.summary),
        detail: crate::logging::redact(&d.detail),
        attribute: d.attribute.map(|p| attribute_path(&p)),
    }
}

pub fn attribute_path(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attr(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// Decodes a DynamicValue (msgpack, or JSON where Terraform sends JSON).
/// An absent value is null. A malformed one is an error diagnostic naming
/// where in the value it went wrong, and null.
pub fn decode(
    value: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Value {
    let Some(value) = value else {
        return Value::Null;
    };
    let result = if !value.msgpack.is_empty() {
        codec::decode_msgpack(&value.msgpack, ty)
    } else if !value.json.is_empty() {
        codec::decode_json(&value.json, ty)
    } else {
        return Value::Null;
    };
    match result {
        Ok(v) => v,
        Err(e) => {
            diags.attr_error(
                e.path.clone(),
                format!("Invalid {what}"),
                format!(
                    "Terraform sent a {what} this provider could not read: {e}. This is a bug \
                     in Terraform or the provider; please report it."
                ),
            );
            Value::Null
        }
    }
}

/// Whether a DynamicValue holds null (a destroy's planned state), without
/// decoding it.
pub fn is_null(value: Option<&pb::DynamicValue>) -> bool {
    value.is_none_or(|v| match (v.msgpack.as_slice(), v.json.as_slice()) {
        ([0xc0], _) => true,
        ([], json) => json.is_empty() || json == b"null",
        _ => false,
    })
}

pub fn encode(
    value: &Value,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    match codec::encode_msgpack(value, ty) {
        Ok(msgpack) => Some(pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        }),
        Err(e) => {
            diags.error(
                format!("Could not encode the {what}"),
                format!("{e}. This is a bug in the provider; please report it."),
            );
            None
        }
    }
}

pub fn schema(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block(&schema.block, schema.version)),
    }
}

fn block(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attribute).collect(),
        block_types: b.blocks.iter().map(nested_block).collect(),
        description: b.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
        deprecation_message: String::new(),
    }
}

fn attribute(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.to_owned(),
        r#type: a.ty.to_json().into_bytes(),
        nested_type: None,
        description: a.description.clone(),
        required: a.is_required(),
        optional: a.is_optional(),
        computed: a.is_computed(),
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
        write_only: false,
        deprecation_message: String::new(),
    }
}

fn nested_block(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    pb::schema::NestedBlock {
        type_name: b.name.to_owned(),
        block: Some(block(&b.block, 0)),
        nesting: match b.nesting {
            Nesting::Single => NestingMode::Single,
            Nesting::List => NestingMode::List,
            Nesting::Set => NestingMode::Set,
        } as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

/// A resource's identity schema as tfplugin6 describes it.
pub fn identity_schema(schema: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: schema.version,
        identity_attributes: schema
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.to_owned(),
                r#type: Type::String.to_json().into_bytes(),
                required_for_import: a.required_for_import,
                optional_for_import: !a.required_for_import,
                description: a.description.to_owned(),
            })
            .collect(),
    }
}

/// An identity for Terraform; none for a null one.
pub fn identity(
    value: Option<Value>,
    ty: &Type,
    diags: &mut Diagnostics,
) -> Option<pb::ResourceIdentityData> {
    let value = value.filter(|v| !v.is_null())?;
    Some(pb::ResourceIdentityData {
        identity_data: encode(&value, ty, "identity", diags),
    })
}
