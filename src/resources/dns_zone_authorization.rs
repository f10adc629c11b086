//! `planetscale_privatelink_dns_zone_authorization`: lets a VPC of another
//! AWS account be associated with a `planetscale_privatelink_dns_zone`
//! (Route 53's CreateVPCAssociationAuthorization, made by the zone's
//! account). The association itself is made from the VPC's account, with
//! that account's credentials (hashicorp/aws's `aws_route53_zone_association`
//! under a provider alias); while the authorization exists, the zone
//! resource leaves that association alone.
//!
//! Order: model, schema, validate, plan, create, read, update, delete,
//! import.

use std::time::Duration;

use async_trait::async_trait;

use crate::aws::model::ZoneVpc;
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::identity::IdentitySchema;
use crate::framework::model::Attrs;
use crate::framework::schema::declare::{computed, optional_computed, required};
use crate::framework::schema::{Block, Schema};
use crate::framework::server::{Ctx, PlanChange, Resource};
use crate::framework::timeouts;
use crate::framework::value::Value;
use crate::model;
use crate::resources::dns_zone::check_zone_id;
use crate::resources::root;
use crate::validate;

pub const TYPE_NAME: &str = "planetscale_privatelink_dns_zone_authorization";

model! {
    /// The authorization: a zone and a VPC.
    struct Model, attributes mod attr {
        id: String => computed().use_state_for_unknown().describe(
            "`zone_id` and `vpc_id` joined by a colon.",
        ),
        zone_id: String => required().requires_replace()
            .each_string("Invalid hosted zone id", check_zone_id)
            .describe(
                "The private hosted zone's id, such as `planetscale_privatelink_dns_zone.shared.zone_id`.",
            ),
        vpc_id: String => required().requires_replace()
            .each_string("Invalid VPC id", |s| validate::ec2_id(s, "vpc", "VPC"))
            .describe("The other account's VPC (`vpc-...`)."),
        vpc_region: Option<String> => optional_computed().requires_replace()
            .check(|path, v, diags| {
                if let Some(region) = v.as_str() {
                    validate::region(
                        path,
                        region,
                        "Invalid AWS region",
                        ". Write the VPC's region like \"us-west-2\".",
                        diags,
                    );
                }
            })
            .describe("The VPC's region. Default: the provider's region."),
        timeouts: Value,
    }
}

/// Each operation is one Route 53 call, retried while Route 53 answers
/// ConcurrentModification or PriorRequestNotComplete.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The operations the `timeouts` block offers, with their defaults.
const TIMEOUTS: &[(&str, Duration)] = &[("create", DEFAULT_TIMEOUT), ("delete", DEFAULT_TIMEOUT)];

impl Model {
    fn vpc(&self, provider_region: &str) -> ZoneVpc {
        ZoneVpc {
            id: self.vpc_id.clone(),
            region: self
                .vpc_region
                .clone()
                .unwrap_or_else(|| provider_region.to_owned()),
        }
    }
}

/// The resource's id: the zone's and the VPC's, joined by a colon.
fn join_id(zone_id: &str, vpc_id: &str) -> String {
    format!("{zone_id}:{vpc_id}")
}

/// The zone and VPC of an id (or an import id), checked.
fn split_id(id: &str) -> Result<(&str, &str), String> {
    let shape = "It looks like \"Z0123456789ABCDEFGHIJ:vpc-0123456789abcdef0\": the zone's id and the VPC's, \
                 joined by a colon.";
    let Some((zone, vpc)) = id.split_once(':') else {
        return Err(format!("{id:?} is not an authorization id. {shape}"));
    };
    check_zone_id(zone).map_err(|why| format!("{why} {shape}"))?;
    validate::ec2_id(vpc, "vpc", "VPC").map_err(|why| format!("{why} {shape}"))?;
    Ok((zone, vpc))
}

pub struct DnsZoneAuthorizationResource;

#[async_trait]
impl Resource<Clients> for DnsZoneAuthorizationResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn timeouts(&self) -> &'static [(&'static str, Duration)] {
        TIMEOUTS
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "Lets a VPC of another AWS account be associated with a `planetscale_privatelink_dns_zone`, so \
                 hosts there resolve the Private Host to the shared endpoint. Made with the zone's account; the \
                 VPC's account then makes the association itself (with `hashicorp/aws`'s \
                 `aws_route53_zone_association` under a provider alias with that account's credentials), and \
                 `planetscale_privatelink_dns_zone` leaves the association of an authorized VPC alone while the \
                 authorization exists (it is not drift), so keep this resource as long as the association.",
            )
            .attributes(Model::attributes())
            .block(timeouts::block(TIMEOUTS)),
        )
    }

    /// The VPC's region defaults to the provider's.
    async fn plan(
        &self,
        ctx: &Ctx<Clients>,
        change: &mut PlanChange<'_>,
        _diags: &mut Diagnostics,
    ) {
        if Attrs::of(change.config).is_null(attr::vpc_region)
            && Attrs::of(&change.planned).is_unknown(attr::vpc_region)
        {
            change.set_planned(attr::vpc_region, Value::String(ctx.data.region.clone()));
        }
    }

    async fn create(
        &self,
        ctx: &Ctx<Clients>,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let clients = &ctx.data;
        let m = Model::from_value(planned);
        let vpc = m.vpc(&clients.region);
        if let Err(e) = clients.route53.authorize_vpc(&m.zone_id, &vpc).await {
            diags.attr_error(
                root(attr::vpc_id),
                "Could not authorize the VPC's association",
                format!(
                    "CreateVPCAssociationAuthorization of {} ({}) for zone {}: {e}. The provider's credentials \
                     must be the zone's account's.",
                    vpc.id, vpc.region, m.zone_id
                ),
            );
            return None;
        }
        tracing::info!(zone_id = %m.zone_id, vpc_id = %vpc.id, "VPC association authorized");
        Some(
            Model {
                id: join_id(&m.zone_id, &m.vpc_id),
                vpc_region: Some(vpc.region),
                ..m
            }
            .to_value(),
        )
    }

    /// The authorization as Route 53 lists it; gone (or its zone gone)
    /// removes the resource.
    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut s = Model::from_value(state);
        let Ok((zone_id, vpc_id)) = split_id(&s.id) else {
            return None;
        };
        let (zone_id, vpc_id) = (zone_id.to_owned(), vpc_id.to_owned());
        let listed = match ctx.data.route53.vpc_authorizations(&zone_id).await {
            Ok(listed) => listed,
            Err(e) if e.is_not_found() => return None,
            Err(e) => {
                diags.error(
                    "Could not list the zone's VPC association authorizations",
                    format!("{zone_id}: {e}"),
                );
                return Some(state.clone());
            }
        };
        let found = listed.into_iter().find(|v| v.id == vpc_id)?;
        s.zone_id = zone_id;
        s.vpc_id = vpc_id;
        s.vpc_region = Some(found.region);
        Some(s.to_value())
    }

    /// Every argument replaces the authorization: nothing to update.
    async fn update(
        &self,
        _ctx: &Ctx<Clients>,
        _prior: &Value,
        planned: &Value,
        _diags: &mut Diagnostics,
    ) -> Value {
        planned.clone()
    }

    async fn delete(&self, ctx: &Ctx<Clients>, prior: &Value, diags: &mut Diagnostics) {
        let s = Model::from_value(prior);
        let vpc = s.vpc(&ctx.data.region);
        if let Err(e) = ctx
            .data
            .route53
            .revoke_vpc_authorization(&s.zone_id, &vpc)
            .await
        {
            diags.error(
                "Could not delete the VPC association authorization",
                format!(
                    "DeleteVPCAssociationAuthorization of {} for zone {}: {e}",
                    vpc.id, s.zone_id
                ),
            );
        }
    }

    /// By `<zone id>:<vpc id>`.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(super::identity::authorization())
    }

    fn identity(&self, clients: &Clients, state: &Value) -> Option<Value> {
        super::identity::authorization_of(clients, state)
    }

    fn import_id(
        &self,
        clients: &Clients,
        identity: &Value,
        diags: &mut Diagnostics,
    ) -> Option<String> {
        let zone = super::identity::import_id(clients, identity, "zone_id", diags)?;
        let vpc = IdentitySchema::get(identity, "vpc_id")?;
        Some(join_id(&zone, vpc))
    }

    async fn import(
        &self,
        _ctx: &Ctx<Clients>,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let (zone_id, vpc_id) = match split_id(id) {
            Ok(parts) => parts,
            Err(why) => {
                diags.error("Invalid import id", why);
                return None;
            }
        };
        Some(
            Model {
                id: join_id(zone_id, vpc_id),
                zone_id: zone_id.to_owned(),
                vpc_id: vpc_id.to_owned(),
                vpc_region: None,
                timeouts: Value::Null,
            }
            .to_value(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ids_join_a_zone_and_a_vpc() {
        let id = join_id("Z0123456789ABCDEFGHIJ", "vpc-0123456789abcdef0");
        assert_eq!(
            split_id(&id),
            Ok(("Z0123456789ABCDEFGHIJ", "vpc-0123456789abcdef0"))
        );
        for bad in [
            "Z0123456789ABCDEFGHIJ",
            "vpc-0123456789abcdef0:Z0123456789ABCDEFGHIJ",
            "Z0123:vpc-xyz",
        ] {
            let why = split_id(bad).unwrap_err();
            assert!(why.contains("joined by a colon"), "{bad}: {why}");
        }
    }
}
