//! The managed resources, one module each, and the pure logic they share.

pub mod endpoint;
pub mod moves;
pub mod security_group;
pub mod sg_rules;
pub mod tags;

use std::sync::Arc;

use crate::clients::Clients;
use crate::framework::server::Resource;

pub fn all() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![
        Arc::new(endpoint::EndpointResource),
        Arc::new(security_group::SecurityGroupResource),
    ]
}

/// The state an import starts from: the id, every other attribute null, for
/// the read that follows to fill in. An id of the wrong kind or shape is an
/// error saying what the id looks like.
pub fn import_by_id(
    schema: &crate::framework::schema::Schema,
    id: &str,
    prefix: &str,
    what: &str,
    diags: &mut crate::framework::diag::Diagnostics,
) -> Option<crate::framework::value::Value> {
    use crate::framework::model::{ObjectBuilder, string};
    use crate::framework::value::Value;
    if let Err(why) = crate::validate::ec2_id(id, prefix, what) {
        diags.error(
            "Invalid import id",
            format!("{why} Import a {what} by its id."),
        );
        return None;
    }
    let mut state = ObjectBuilder::new().set("id", string(id));
    for attr in schema.block.attributes.iter().filter(|a| a.name != "id") {
        state = state.set(attr.name, Value::Null);
    }
    for block in &schema.block.blocks {
        state = state.set(block.name, Value::Null);
    }
    Some(state.build())
}
