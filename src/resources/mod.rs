//! The managed resources, one module each, and the pure logic they share.

pub mod endpoint;
pub mod moves;
pub mod security_group;
pub mod sg_rules;
pub mod validate;

use std::sync::Arc;

use crate::framework::server::Resource;
use crate::provider::Clients;

pub fn all() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![
        Arc::new(endpoint::EndpointResource),
        Arc::new(security_group::SecurityGroupResource),
    ]
}
