//! The managed resources, one module each, and the pure logic they share:
//! tags ([`tags`]), moves from hashicorp/aws ([`moves`]), security group
//! rules ([`sg_rules`]), and here attribute paths, the owner and ARN of an
//! EC2 resource, and the state an import starts from.

pub mod dns_zone;
pub mod dns_zone_authorization;
mod dns_zone_list;
pub mod endpoint;
pub mod identity;
pub mod moves;
pub mod reachability;
pub mod security_group;
pub mod sg_rules;
pub mod tags;

use std::sync::Arc;

use crate::aws::AwsError;
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::schema::Schema;
use crate::framework::server::Resource;
use crate::framework::value::Value;

pub fn all() -> Vec<Arc<dyn Resource<Clients>>> {
    vec![
        Arc::new(endpoint::EndpointResource),
        Arc::new(security_group::SecurityGroupResource),
        Arc::new(reachability::ReachabilityResource),
        Arc::new(dns_zone::DnsZoneResource),
        Arc::new(dns_zone_authorization::DnsZoneAuthorizationResource),
    ]
}

/// How every [`client_token`] starts.
const CLIENT_TOKEN_PREFIX: &str = "tf-planetscale-";

/// Whether `token` is one [`client_token`] made: a zone whose caller
/// reference is one was made by this provider.
pub fn is_client_token(token: &str) -> bool {
    token.starts_with(CLIENT_TOKEN_PREFIX)
}

/// A token for a create call (an EC2 ClientToken, a Route 53
/// CallerReference): the SDK's retries of the call send the same one, so a
/// lost answer does not make a second resource.
pub fn client_token() -> String {
    format!(
        "{CLIENT_TOKEN_PREFIX}{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

/// The name of every resource's id attribute.
const ID: &str = "id";

pub use crate::framework::path::root;

/// Reports an update whose prior state has no id: a bug in the provider.
/// What a refresh's read of AWS found: the object, or the answer the read
/// gives Terraform instead.
pub enum Refreshed<T> {
    Found(T),
    Answer(Option<Value>),
}

/// The refresh rule every resource keeps: an object AWS says is gone
/// leaves the state (`None`); one that could not be read keeps the prior
/// state as it was, with an error naming the `what` and its id.
pub fn refreshed<T>(
    read: Result<T, AwsError>,
    what: &str,
    id: &str,
    prior: &Value,
    diags: &mut Diagnostics,
) -> Refreshed<T> {
    match read {
        Ok(found) => Refreshed::Found(found),
        Err(e) if e.is_not_found() => {
            tracing::info!(id, "{what} is gone; removing it from state");
            Refreshed::Answer(None)
        }
        Err(e) => {
            diags.error(format!("Could not read the {what}"), format!("{id}: {e}"));
            Refreshed::Answer(Some(prior.clone()))
        }
    }
}

pub fn missing_id(diags: &mut Diagnostics) {
    diags.error(
        "Missing id",
        "The prior state has no id. This is a bug in the provider; please report it.",
    );
}

/// The account that owns an EC2 resource: the one EC2 reports, or the
/// provider's own when EC2 reports none.
pub fn owner(clients: &Clients, reported: &str) -> String {
    if reported.is_empty() {
        clients.account_id.clone().unwrap_or_default()
    } else {
        reported.to_owned()
    }
}

/// The ARN of an EC2 resource of `kind` (`vpc-endpoint`, `security-group`)
/// in the provider's partition and region.
pub fn ec2_arn(clients: &Clients, owner: &str, kind: &str, id: &str) -> String {
    format!(
        "arn:{}:ec2:{}:{owner}:{kind}/{id}",
        clients.partition, clients.region
    )
}

/// The state an import starts from: the id, every other attribute null, for
/// the read that follows to fill in. An id of the wrong kind or shape is an
/// error saying what the id looks like.
pub fn import_by_id(
    schema: &Schema,
    id: &str,
    prefix: &str,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    if let Err(why) = crate::validate::ec2_id(id, prefix, what) {
        diags.error(
            "Invalid import id",
            format!("{why} Import a {what} by its id."),
        );
        return None;
    }
    let names = schema.block.names().into_iter();
    Some(Value::object(names.map(|name| {
        let value = if name == ID {
            Value::String(id.to_owned())
        } else {
            Value::Null
        };
        (name, value)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::Attrs;

    #[test]
    fn owner_and_arn_fall_back_to_the_provider_account() {
        let mut clients = Clients::for_tests();
        clients.account_id = Some("123456789012".into());
        assert_eq!(owner(&clients, "210987654321"), "210987654321");
        assert_eq!(owner(&clients, ""), "123456789012");
        assert_eq!(
            ec2_arn(&clients, "123456789012", "vpc-endpoint", "vpce-1"),
            format!(
                "arn:{}:ec2:{}:123456789012:vpc-endpoint/vpce-1",
                clients.partition, clients.region
            )
        );
    }

    #[test]
    fn an_import_starts_from_the_id_alone() {
        let schema = security_group::SecurityGroupResource.schema();
        let mut diags = Diagnostics::new();
        let state = import_by_id(
            &schema,
            "sg-0123456789abcdef0",
            "sg",
            "security group",
            &mut diags,
        )
        .expect("a group id imports");
        let a = Attrs::of(&state);
        assert_eq!(a.str(ID), Some("sg-0123456789abcdef0"));
        for name in schema.block.names().into_iter().filter(|n| *n != ID) {
            assert!(a.is_null(name), "{name}");
        }
        assert!(
            import_by_id(
                &schema,
                "vpce-0123456789abcdef0",
                "sg",
                "security group",
                &mut diags
            )
            .is_none()
        );
        assert!(diags.has_errors());
    }
}
