//! The identities of this provider's resources (Terraform 1.12 and later),
//! shaped as hashicorp/aws shapes its own, so an `import` block reads the
//! same: a regional EC2 object by `id`, with `account_id` and `region`
//! optional (the provider's when left out), as `aws_vpc_endpoint` and
//! `aws_security_group`; a hosted zone by `zone_id`, with `account_id`
//! optional, as `aws_route53_zone`. Version 0 for each.

use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::identity::{IdentityAttribute, IdentitySchema};
use crate::framework::model::Attrs;
use crate::framework::path::root;
use crate::framework::value::Value;

const ACCOUNT_ID: &str = "account_id";
const REGION: &str = "region";

fn account_attribute() -> IdentityAttribute {
    IdentityAttribute {
        name: ACCOUNT_ID,
        required_for_import: false,
        description: "The AWS account that owns it; the provider's credentials' account when left out.",
    }
}

/// A regional EC2 object named by its id (`vpce-...`, `sg-...`).
pub fn regional(id_description: &'static str) -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "id",
                required_for_import: true,
                description: id_description,
            },
            account_attribute(),
            IdentityAttribute {
                name: REGION,
                required_for_import: false,
                description: "The region it is in; the provider's region when left out.",
            },
        ],
    }
}

/// A Route 53 hosted zone, global, named by its id (`Z...`).
pub fn zone() -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "zone_id",
                required_for_import: true,
                description: "The hosted zone's id (`Z...`).",
            },
            account_attribute(),
        ],
    }
}

/// A zone's authorization of a VPC of another account, named by both ids
/// (hashicorp/aws gives `aws_route53_vpc_association_authorization` no
/// identity; this one is shaped as its zone's).
pub fn authorization() -> IdentitySchema {
    IdentitySchema {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "zone_id",
                required_for_import: true,
                description: "The hosted zone's id (`Z...`).",
            },
            IdentityAttribute {
                name: "vpc_id",
                required_for_import: true,
                description: "The authorized VPC's id (`vpc-...`).",
            },
            account_attribute(),
        ],
    }
}

/// The identity of an authorization's state; none before it has its ids.
pub fn authorization_of(clients: &Clients, state: &Value) -> Option<Value> {
    let a = Attrs::of(state);
    let zone = a.str("zone_id").filter(|id| !id.is_empty())?;
    let vpc = a.str("vpc_id").filter(|id| !id.is_empty())?;
    Some(authorization().value(&[
        ("zone_id", zone),
        ("vpc_id", vpc),
        (
            ACCOUNT_ID,
            clients.account_id.as_deref().unwrap_or_default(),
        ),
    ]))
}

/// The owning account of a state: its `owner_id` where it has one, else
/// the provider's credentials' account.
fn account(clients: &Clients, state: &Value) -> String {
    let owner = Attrs::of(state)
        .str("owner_id")
        .unwrap_or_default()
        .to_owned();
    super::owner(clients, &owner)
}

/// The identity of a regional EC2 object's state; none before it has an id.
pub fn regional_of(clients: &Clients, state: &Value) -> Option<Value> {
    let id = Attrs::of(state).str("id").filter(|id| !id.is_empty())?;
    Some(regional("").value(&[
        ("id", id),
        (ACCOUNT_ID, &account(clients, state)),
        (REGION, &clients.region),
    ]))
}

/// The identity of a hosted zone's state; none before it has an id.
pub fn zone_of(clients: &Clients, state: &Value) -> Option<Value> {
    let id = Attrs::of(state).str("id").filter(|id| !id.is_empty())?;
    Some(zone().value(&[
        ("zone_id", id),
        (
            ACCOUNT_ID,
            clients.account_id.as_deref().unwrap_or_default(),
        ),
    ]))
}

/// The import id an identity names: its `id_attribute`, once its account
/// and region (where given) are the provider's.
pub fn import_id(
    clients: &Clients,
    identity: &Value,
    id_attribute: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    if let Some(account) = IdentitySchema::get(identity, ACCOUNT_ID)
        && let Some(own) = clients.account_id.as_deref()
        && account != own
    {
        diags.attr_error(
            root(ACCOUNT_ID),
            "Identity of another account",
            format!(
                "The identity names account {account}, and this provider's credentials are of account {own}. \
                 Import it with a provider configured for {account} (an aliased provider block, and \
                 `provider = planetscale.<alias>` in the import block), or correct account_id."
            ),
        );
        return None;
    }
    if let Some(region) = IdentitySchema::get(identity, REGION)
        && region != clients.region
    {
        diags.attr_error(
            root(REGION),
            "Identity of another region",
            format!(
                "The identity names region {region}, and this provider is configured for {}. Import it \
                 with a provider configured for {region} (an aliased provider block, and `provider = \
                 planetscale.<alias>` in the import block), or correct region.",
                clients.region
            ),
        );
        return None;
    }
    IdentitySchema::get(identity, id_attribute).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> Clients {
        let mut c = Clients::for_tests();
        c.account_id = Some("123456789012".into());
        c
    }

    #[test]
    fn an_identity_of_the_providers_account_and_region_gives_its_id() {
        let c = clients();
        let mut diags = Diagnostics::new();
        let full = regional("").value(&[
            ("id", "vpce-1"),
            ("account_id", "123456789012"),
            ("region", "us-east-1"),
        ]);
        assert_eq!(
            import_id(&c, &full, "id", &mut diags).as_deref(),
            Some("vpce-1")
        );
        let bare = regional("").value(&[("id", "vpce-1")]);
        assert_eq!(
            import_id(&c, &bare, "id", &mut diags).as_deref(),
            Some("vpce-1")
        );
        assert!(diags.is_empty());
    }

    #[test]
    fn another_account_or_region_is_an_error_naming_the_attribute() {
        let c = clients();
        for (attr, value) in [("account_id", "999999999999"), ("region", "eu-west-1")] {
            let mut diags = Diagnostics::new();
            let identity = regional("").value(&[("id", "sg-1"), (attr, value)]);
            assert_eq!(import_id(&c, &identity, "id", &mut diags), None);
            let d = diags.into_iter().next().expect("an error");
            assert_eq!(d.attribute, Some(root(attr)), "{attr}");
            assert!(d.detail.contains(value), "{}", d.detail);
        }
    }

    #[test]
    fn a_state_gives_its_owner_and_the_providers_region() {
        let c = clients();
        let state = Value::object([
            ("id", Value::String("sg-1".into())),
            ("owner_id", Value::String("210987654321".into())),
        ]);
        let identity = regional_of(&c, &state).unwrap();
        assert_eq!(
            IdentitySchema::get(&identity, "account_id"),
            Some("210987654321")
        );
        assert_eq!(IdentitySchema::get(&identity, "region"), Some("us-east-1"));
        assert!(regional("").nonconformities(&identity).is_empty());
        let no_id = Value::object([("id", Value::Null)]);
        assert_eq!(regional_of(&c, &no_id), None);
    }
}
