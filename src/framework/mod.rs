//! Provider-agnostic building blocks: values and their wire codecs, schemas,
//! diagnostics, the generic planner, timeouts, and the server logic RPCs run
//! through. Nothing here knows protobuf or AWS.

pub mod bounds;
pub mod codec;
pub mod diag;
pub mod identity;
pub mod model;
pub mod number;
pub mod path;
pub mod plan;
pub mod schema;
pub mod server;
pub mod timeouts;
pub mod types;
pub mod value;
