//! Terraform's wire formats for values, as go-cty writes them: msgpack for
//! every `DynamicValue`, JSON for raw stored state (UpgradeResourceState).
//! Both are read and written against a known
//! [`Type`](crate::framework::types::Type). This module holds what they
//! share, the errors and the nesting cap, and re-exports the four entry
//! points; each concern has its own file:
//! * `msgpack_read` and `msgpack_write`: msgpack to values and back;
//! * `msgpack_items`: msgpack's items one at a time, under both the typed
//!   reading and the refinements (so neither imports the other's reader);
//! * `refinements`: unknown values, msgpack's extensions 0 and 12;
//! * `dynamic`: the type a value of type `dynamic` is written with;
//! * `json`: go-cty's JSON, both ways;
//! * `tests`: round trips through both formats, and the property tests;
//!   `test_support`: the helpers every file's tests share.
//!
//! msgpack, as go-cty's `cty/msgpack` has it:
//! * null is `nil`; an unknown value is an extension, of type 0 when
//!   wholly unknown and of type 12 when refined (see `refinements`).
//! * A number is an integer when it is one and fits an `i64` (in the
//!   smallest form), a float64 when it has a fraction and a float64 holds
//!   it exactly, and otherwise its decimal text; any integer, float or
//!   string form is read.
//! * A list, set or tuple is an array; a map is a map; an object is a map
//!   of every attribute, in name order. Reading an object, an attribute the
//!   type does not have is an error and one that is absent is null.
//! * A value of type `dynamic` is a two-element array: the JSON of its
//!   real type (written as `bin`, read as `bin` or `str`) and the value.
//!   A null or unknown of type `dynamic` is plain `nil` or `d4 00 00`.
//! * Marks never go on the wire (go-cty refuses marked values), so values
//!   here have none.
//!
//! Everything read is untrusted: no length from a header is allocated
//! ahead of the bytes that back it, nesting is capped at [`MAX_DEPTH`], and
//! every failure is an error naming the path where it happened, never a
//! panic.

use std::fmt;

use crate::framework::path::AttributePath;

mod dynamic;
mod json;
mod msgpack_items;
mod msgpack_read;
mod msgpack_write;
mod refinements;

pub use json::{decode_json, encode_json};
pub use msgpack_read::decode_msgpack;
pub use msgpack_write::encode_msgpack;

/// The deepest nesting of values the codecs read or write.
pub const MAX_DEPTH: usize = 64;

/// A value could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", Located(path))]
pub struct DecodeError {
    /// Where in the value reading failed.
    pub path: AttributePath,
    pub message: String,
}

/// A value could not be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", Located(path))]
pub struct EncodeError {
    /// Where in the value writing failed.
    pub path: AttributePath,
    pub message: String,
}

/// ` at <path>`, or nothing at the root.
struct Located<'a>(&'a AttributePath);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_root() {
            Ok(())
        } else {
            write!(f, " at {}", self.0)
        }
    }
}

fn decode_error(path: &AttributePath, message: impl Into<String>) -> DecodeError {
    DecodeError {
        path: path.clone(),
        message: message.into(),
    }
}

fn encode_error(path: &AttributePath, message: impl Into<String>) -> EncodeError {
    EncodeError {
        path: path.clone(),
        message: message.into(),
    }
}

fn too_deep() -> String {
    format!("value nested more than {MAX_DEPTH} levels deep")
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests;
