//! `planetscale_privatelink_endpoint`: the interface VPC endpoint of the
//! PrivateLink procedure, to a database branch's Private Service Name, in
//! the chosen subnets with the chosen security groups and private DNS on,
//! waited for until `available`.
//!
//! Order: model, schema, validate, plan, create, read, update, delete, import,
//! move (from `aws_vpc_endpoint`), then the plan's own rules. Beside it: the
//! plan-time checks against AWS ([`preflight`]), the state after a write
//! ([`state`]), the in-place changes ([`modify`]), the address arguments
//! ([`addresses`]) and the mapping of a moved `aws_vpc_endpoint`'s state
//! ([`moved`]).

mod addresses;
mod list;
mod modify;
mod moved;
mod policy;
mod preflight;
mod state;

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::endpoint::{AvailableWait, EndpointChanges, NewEndpoint, WaitError};
use crate::aws::model::{SubnetAddresses, Tags};
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::identity::IdentitySchema;
use crate::framework::model::Attrs;
use crate::framework::path::AttributePath;
use crate::framework::schema::declare::{computed, optional, optional_computed, required};
use crate::framework::schema::{Block, Schema};
use crate::framework::server::{Ctx, Listed, PlanChange, Resource};
use crate::framework::timeouts;
use crate::framework::value::Value;
use crate::model;
use crate::privatelink::{
    region_mismatch_detail, service_name_region, service_region_mismatch_detail,
};
use crate::resources::tags::{self, OwnTags};
use crate::resources::{moves, root};
use crate::validate;
use modify::{changes_between, modify};
use preflight::{Checks, check_existing, preflight};
use state::{
    Written, after_write, fixed_addresses_as_asked, report_wait, settle, state_from_aws,
    with_addresses,
};

pub const TYPE_NAME: &str = "planetscale_privatelink_endpoint";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The operations the `timeouts` block offers, with their defaults.
const TIMEOUTS: &[(&str, Duration)] = &[
    ("create", DEFAULT_TIMEOUT),
    ("update", DEFAULT_TIMEOUT),
    ("delete", DEFAULT_TIMEOUT),
];
/// Private DNS is on unless the configuration turns it off.
const PRIVATE_DNS_DEFAULT: bool = true;

// ---------------------------------------------------------------- model --

model! {
    /// The endpoint's attributes: its arguments and what EC2 reports, each
    /// declared once (schema, checks, plan behaviour).
    struct Model, attributes mod attr {
        id: String => computed().use_state_for_unknown().describe("The endpoint id (`vpce-...`)."),
        arn: String => computed().use_state_for_unknown().describe("The endpoint ARN."),
        owner_id: String => computed().use_state_for_unknown().describe("The AWS account that owns the endpoint."),
        service_name: String => required().requires_replace()
            .each_string("Invalid service name", |s| service_name_region(s).map(drop))
            .describe(
                "The branch's Private Service Name, `com.amazonaws.vpce.<region>.vpce-svc-...`: copy it from the \
                 PlanetScale dashboard (database, Settings, Roles, any role of the branch), or take it from the \
                 `planetscale_privatelink_service` data source. Its region must be the provider's, unless \
                 `service_region` names it.",
            ),
        service_region: Option<String> => optional_computed().requires_replace().use_state_for_unknown()
            .check(validate::service_region)
            .describe(
                "The region of the service, for a branch in another region than the provider's (AWS \
                 PrivateLink's cross-region connectivity, CreateVpcEndpoint's `ServiceRegion`): the region in \
                 `service_name`, such as `us-west-2`. PlanetScale must have enabled access to the service from \
                 the provider's region; the plan says so when it has not. Left out, the service name's region, \
                 which must then be the provider's.",
            ),
        vpc_id: String => required().requires_replace()
            .each_string("Invalid VPC id", |s| validate::ec2_id(s, "vpc", "VPC"))
            .describe("The VPC of the application."),
        subnet_ids: BTreeSet<String> => required()
            .each_string("Invalid subnet id", |s| validate::ec2_id(s, "subnet", "subnet"))
            .check(|path, v, diags| none_given(path, v, "subnet", diags))
            .describe(
                "Subnets for the endpoint's network interfaces: ones the application reaches, at least one, \
                 and two or more in different availability zones for resilience (one per zone). Changes in place.",
            ),
        security_group_ids: BTreeSet<String> => required()
            .each_string("Invalid security group id", |s| validate::ec2_id(s, "sg", "security group"))
            .check(|path, v, diags| none_given(path, v, "security group", diags))
            .describe(
                "Security groups of the endpoint, such as a `planetscale_privatelink_security_group`. At least \
                 one. Changes in place.",
            ),
        private_dns_enabled: bool = PRIVATE_DNS_DEFAULT => optional().describe(
            "Resolve the branch's private host name to the endpoint inside the VPC (the console's \"Enable \
             DNS name\"). Needs DNS support and DNS hostnames on in the VPC. Changes in place. EC2 turns it \
             on only once the connection is accepted: to a service that requires acceptance, left out it is \
             known after apply and stays `false` while the endpoint is `pendingAcceptance` (the first apply \
             after PlanetScale accepts turns it on); set to `true` it is recorded at once and turned on then.",
        ),
        ip_address_type: Option<String> => optional_computed().use_state_for_unknown()
            .each_string("Invalid ip_address_type", |s| addresses::one_of(s, &addresses::IP_ADDRESS_TYPES))
            .describe(
                "The address family of the endpoint's network interfaces: `ipv4`, `dualstack` or `ipv6`. \
                 `ipv4` needs subnets with an IPv4 block, `dualstack` subnets with both an IPv4 and an IPv6 \
                 block, `ipv6` IPv6-only subnets; and the service must accept each family the endpoint uses. \
                 Left out, EC2's default (`ipv4`). Changes in place.",
            ),
        dns_record_ip_type: Option<String> => optional_computed().use_state_for_unknown()
            .each_string("Invalid dns_record_ip_type", |s| addresses::one_of(s, &addresses::DNS_RECORD_IP_TYPES))
            .describe(
                "Which records the endpoint's DNS names get: `ipv4` (A records; needs `ip_address_type` `ipv4` or \
                 `dualstack`), `ipv6` (AAAA records; `ipv6` or `dualstack`), `dualstack` (both; `dualstack`) or \
                 `service-defined` (A records for all names, AAAA for the regional and zonal ones; `dualstack`). \
                 Left out, EC2's default for the address type. Changes in place.",
            ),
        subnet_configurations: Option<Vec<SubnetConfig>> => optional().describe(
            "Fixed addresses for the endpoint's network interfaces, so that firewall rules elsewhere can \
             name them: a list of `{ subnet_id, ipv4, ipv6 }`, one per subnet at most, each `subnet_id` one of \
             `subnet_ids`. Give `ipv4` when the endpoint uses IPv4 and `ipv6` when it uses IPv6 (both for \
             `dualstack`); each address must lie inside its subnet's block and not be one of the five AWS \
             reserves in every subnet (the first four and the last). Subnets left out get addresses EC2 \
             chooses. Changes in place: a new or changed entry gives that subnet's interface its address; \
             an entry removed leaves the interface's address as it is.",
        ),
        policy: Option<String> => optional_computed().use_state_for_unknown()
            .check(policy::check)
            .equivalent_when(policy::equivalent)
            .describe(
                "The endpoint policy: an IAM policy document (JSON, such as `jsonencode({...})` or an \
                 `aws_iam_policy_document`'s `json`) that controls who may use the endpoint. Left out, EC2's \
                 default, full access, and the state shows the policy EC2 has. Compared by meaning, not \
                 spelling. Changes in place; removing it from the configuration leaves the endpoint's policy \
                 as it is.",
            ),
        state: String => computed().describe("The endpoint's state, `available` once ready."),
        network_interface_ids: Vec<String> => computed().describe("The endpoint's network interfaces."),
        dns_entries: Vec<DnsEntry> => computed().describe(
            "The endpoint's DNS names (`dns_name`, `hosted_zone_id`).",
        ),
        tags: Option<OwnTags> => optional().check(validate::tag_map).describe("Tags for the endpoint."),
        tags_all: Tags => computed().describe(
            "All tags of the endpoint: the provider's `default_tags` merged with `tags`.",
        ),
        timeouts: Value,
    }
}

/// An error at `path` when the set of `what` ids is empty.
fn none_given(path: AttributePath, value: &Value, what: &str, diags: &mut Diagnostics) {
    if value.as_elements().is_some_and(<[Value]>::is_empty) {
        diags.attr_error(
            path,
            format!("No {what}s"),
            format!("Give at least one {what} id."),
        );
    }
}

model! {
    /// One of the endpoint's DNS names.
    struct DnsEntry, attributes mod dns_attr {
        dns_name: String,
        hosted_zone_id: String,
    }
}

model! {
    /// The fixed addresses of the endpoint's interface in one subnet.
    struct SubnetConfig, attributes mod subnet_attr {
        subnet_id: String,
        ipv4: Option<String>,
        ipv6: Option<String>,
    }
}

impl SubnetConfig {
    fn to_aws(&self) -> SubnetAddresses {
        SubnetAddresses {
            subnet_id: self.subnet_id.clone(),
            ipv4: self.ipv4.clone(),
            ipv6: self.ipv6.clone(),
        }
    }
}

pub struct EndpointResource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl Resource<Clients> for EndpointResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn timeouts(&self) -> &'static [(&'static str, Duration)] {
        TIMEOUTS
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "An interface VPC endpoint to a PlanetScale for Postgres database branch over AWS PrivateLink. \
                 Create verifies the service, the subnets' availability zones and the VPC's DNS settings, then \
                 waits until the endpoint is `available` (through `pendingAcceptance` while PlanetScale accepts \
                 the connection).",
            )
            .attributes(Model::attributes())
            .block(timeouts::block(TIMEOUTS)),
        )
    }

    // ------------------------------------------------------------ validate --

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let c = Attrs::of(config);
        let Some(configs) = c.elements(attr::subnet_configurations) else {
            return;
        };
        let mut seen = BTreeSet::new();
        for (i, item) in configs.iter().enumerate() {
            let entry = Attrs::of(item);
            if let Some(subnet) = entry.str(subnet_attr::subnet_id) {
                if let Err(why) = validate::ec2_id(subnet, "subnet", "subnet") {
                    entry_error(diags, i, subnet_attr::subnet_id, "Invalid subnet id", why);
                } else if !seen.insert(subnet.to_owned()) {
                    entry_error(
                        diags,
                        i,
                        subnet_attr::subnet_id,
                        "Subnet configured twice",
                        format!(
                            "{subnet} has two entries in subnet_configurations: keep one per subnet."
                        ),
                    );
                }
            }
            for (name, v6) in [(subnet_attr::ipv4, false), (subnet_attr::ipv6, true)] {
                if let Some(address) = entry.str(name)
                    && let Some(why) = addresses::address_unfit(address, v6, None)
                {
                    entry_error(diags, i, name, "Invalid address", why);
                }
            }
        }
    }

    // ---------------------------------------------------------------- plan --

    async fn plan(&self, ctx: &Ctx<Clients>, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        let clients = &ctx.data;
        let c = Attrs::of(change.config);
        let p = Attrs::of(change.prior);
        // The create token's tag stays on the endpoint: one of EC2's 50.
        tags::plan(clients, change, tags::EC2, 1, diags);

        if let Some(name) = c.str(attr::service_name)
            && let Ok(region) = service_name_region(name)
        {
            match c.str(attr::service_region) {
                Some(configured) if configured != region => {
                    diags.attr_error(
                        root(attr::service_region),
                        "Region not the service's",
                        service_region_mismatch_detail(region, configured),
                    );
                    return;
                }
                None if c.is_null(attr::service_region) && region != clients.region => {
                    diags.attr_error(
                        root(attr::service_name),
                        "Service in another region",
                        region_mismatch_detail(region, &clients.region),
                    );
                    return;
                }
                _ => {}
            }
            // Left out, the region is the service name's: known now.
            if c.is_null(attr::service_region) {
                change.set_planned(attr::service_region, Value::String(region.to_owned()));
            }
        }
        plan_addresses(change, diags);
        if diags.has_errors() {
            return;
        }
        dns_awaits_acceptance(change, diags);
        keep_what_tags_cannot_change(change);
        // Checks that call AWS run only for values that change, and once
        // they are known (else again at apply).
        if !change.changing {
            return;
        }
        let creating = change.prior.is_null();
        // EC2 turns private DNS on only for an accepted connection. Left to
        // its default on a new endpoint, it is known at plan only once the
        // service is known not to require acceptance: unknown until then,
        // so that no later plan takes back a known value.
        let dns_by_default = creating && c.is_null(attr::private_dns_enabled);
        if dns_by_default {
            change.set_planned(
                attr::private_dns_enabled,
                Value::Unknown(Default::default()),
            );
        }
        let planned = Attrs::of(&change.planned);
        let changed = |a: &str| creating || planned.get(a) != p.get(a);
        let known = |a: &str| planned.get(a).is_fully_known() && !planned.is_null(a);
        // What needs only the service runs even when the VPC is made by the
        // same apply; what reads the VPC waits for its id.
        if !known(attr::service_name) {
            return;
        }
        let vpc_known = known(attr::vpc_id);
        let m = Model::from_value(&change.planned);
        let addressing = changed(attr::ip_address_type) || changed(attr::subnet_configurations);
        let checks = Checks {
            service: changed(attr::service_name) || changed(attr::ip_address_type),
            subnets: vpc_known
                && known(attr::subnet_ids)
                && (changed(attr::subnet_ids) || changed(attr::service_name) || addressing),
            dns: m.private_dns_enabled && changed(attr::private_dns_enabled),
            groups: vpc_known
                && known(attr::security_group_ids)
                && changed(attr::security_group_ids),
            vpc_known,
            at_plan: true,
        };
        // The checks and the look for an endpoint left behind go out
        // together: neither needs the other's answer.
        let mut left_behind = Diagnostics::default();
        let (service, ()) = tokio::join!(
            async {
                if checks.any() {
                    preflight(clients, &m, checks, diags).await
                } else {
                    None
                }
            },
            async {
                if creating && vpc_known {
                    check_existing(clients, &m, &mut left_behind).await;
                }
            },
        );
        diags.extend(left_behind);
        if dns_by_default && service.is_some_and(|s| !s.acceptance_required) {
            change.set_planned(attr::private_dns_enabled, Value::Bool(PRIVATE_DNS_DEFAULT));
        }
    }

    // -------------------------------------------------------------- create --

    async fn create(
        &self,
        ctx: &Ctx<Clients>,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let clients = &ctx.data;
        let ec2 = &clients.ec2;
        let m = Model::from_value(planned);
        // Terraform plans every change again right before applying it, in
        // this process: that plan has checked the groups (whose VPC cannot
        // change) and the subnets and the service (read once per process).
        // What it could only warn about (the VPC's DNS settings, a zone the
        // same apply may still change) is checked again here, as an error.
        let checks = Checks {
            groups: false,
            ..Checks::all(m.private_dns_enabled)
        };
        let service = preflight(clients, &m, checks, diags).await;
        if diags.has_errors() {
            return None;
        }
        let acceptance_required = service.as_ref().is_some_and(|s| s.acceptance_required);
        // EC2 turns private DNS on only for an accepted connection: to a
        // service that requires acceptance, the endpoint is created without
        // it, and it is turned on once the owner has accepted.
        let dns_after_acceptance = m.private_dns_enabled && acceptance_required;
        let subnets: Vec<String> = m.subnet_ids.iter().cloned().collect();
        let groups: Vec<String> = m.security_group_ids.iter().cloned().collect();
        // The create's token: its ClientToken, and the value of the tag
        // that finds the endpoint again after a lost answer or a killed apply.
        let token = super::client_token();
        let fixed: Vec<SubnetAddresses> = m
            .subnet_configurations
            .iter()
            .flatten()
            .map(SubnetConfig::to_aws)
            .collect();
        let new = NewEndpoint {
            vpc_id: &m.vpc_id,
            service_name: &m.service_name,
            subnet_ids: &subnets,
            security_group_ids: &groups,
            private_dns_enabled: m.private_dns_enabled && !dns_after_acceptance,
            service_region: remote_region(clients, &m),
            ip_address_type: m.ip_address_type.as_deref(),
            dns_record_ip_type: m.dns_record_ip_type.as_deref(),
            subnet_addresses: &fixed,
            policy: m.policy.as_deref(),
            tags: &tags::for_aws(clients, &m.tags_all),
            client_token: &token,
        };
        let created = match ec2.create_endpoint(&new).await {
            Ok(e) => e,
            Err(e) => {
                // A cross-region endpoint takes a permission no API call is
                // named after: a role built from the API names lacks it.
                let multi_region = match (&e, new.service_region) {
                    (AwsError::AccessDenied { .. }, Some(region)) => format!(
                        ". The service is in {region}: a cross-region endpoint also needs the \
                         permission-only IAM action vpce:AllowMultiRegion, besides \
                         ec2:CreateVpcEndpoint."
                    ),
                    _ => String::new(),
                };
                diags.error(
                    "Could not create the VPC endpoint",
                    format!("CreateVpcEndpoint to {}: {e}{multi_region}", m.service_name),
                );
                return None;
            }
        };
        tracing::info!(endpoint_id = %created.id, state = %created.state, "VPC endpoint created");
        // From here on the endpoint exists: the state always carries its id.
        let timeout = timeouts::get(planned, "create", DEFAULT_TIMEOUT);
        let wait = AvailableWait::after_create(timeout, acceptance_required);
        let mut outcome = ec2
            .wait_endpoint_available(&created.id, &wait, &ctx.stop)
            .await;
        let mut dns_turned_on = m.private_dns_enabled && !dns_after_acceptance;
        if dns_after_acceptance && let Ok(accepted) = &outcome {
            let turn_on = EndpointChanges {
                private_dns_enabled: Some(true),
                ..EndpointChanges::default()
            };
            outcome = match ec2.modify_endpoint(&accepted.id, &turn_on).await {
                Ok(()) => {
                    dns_turned_on = true;
                    let wait = AvailableWait::after_modify(timeout, &subnets, &groups);
                    ec2.wait_endpoint_available(&created.id, &wait, &ctx.stop)
                        .await
                }
                Err(e) => Err(WaitError::Aws(e)),
            };
        }
        // What the wait saw last, or after a failed wait one read; the tags
        // were written with the endpoint.
        let waited = settle(&created.id, "created", timeout, outcome, diags);
        let written = Written {
            tags: true,
            network: waited.is_some(),
        };
        let found = match waited {
            Some(endpoint) => Some(endpoint),
            None => ec2.find_endpoint_after_wait(&created.id).await.ok(),
        };
        let found = match found {
            Some(e) => Some(with_addresses(clients, state_from_aws(clients, &e, &m)).await),
            None => None,
        };
        fixed_addresses_as_asked(&m, found.as_ref(), diags);
        let planned_with_id = Model {
            id: created.id,
            ..m.clone()
        };
        let seen_dns = found.as_ref().map(|f| f.private_dns_enabled);
        let mut state = after_write(found, &planned_with_id, &m, written);
        // Left to its default, the state says what EC2 has: off while
        // PlanetScale has not accepted.
        if Attrs::of(planned).is_unknown(attr::private_dns_enabled) {
            state.private_dns_enabled = seen_dns.unwrap_or(dns_turned_on);
        }
        Some(state.to_value())
    }

    // ---------------------------------------------------------------- read --

    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let s = Model::from_value(state);
        let id = &s.id;
        if id.is_empty() {
            return None;
        }
        let vpc_id = Some(s.vpc_id.as_str()).filter(|v| !v.is_empty());
        let read = ctx.data.ec2.refresh_endpoint(id, vpc_id).await;
        let endpoint = match super::refreshed(read, "VPC endpoint", id, state, diags) {
            super::Refreshed::Found(endpoint) => endpoint,
            super::Refreshed::Answer(answer) => return answer,
        };
        Some(
            with_addresses(&ctx.data, state_from_aws(&ctx.data, &endpoint, &s))
                .await
                .to_value(),
        )
    }

    // -------------------------------------------------------------- update --

    /// One call for each aspect that changes (the tags; the subnets,
    /// security groups and private DNS together), then one read, and the
    /// state by [`after_write`]'s rule.
    async fn update(
        &self,
        ctx: &Ctx<Clients>,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let clients = &ctx.data;
        let ec2 = &clients.ec2;
        let (old, new) = (Model::from_value(prior), Model::from_value(planned));
        let id = old.id.as_str();
        if id.is_empty() {
            super::missing_id(diags);
            return prior.clone();
        }
        let mut changes = changes_between(&old, &new);
        // EC2 refuses to turn private DNS on before the connection is
        // accepted: the plan warned, and the first apply after acceptance
        // turns it on.
        if changes.private_dns_enabled == Some(true) && old.state == PENDING_ACCEPTANCE {
            changes.private_dns_enabled = None;
        }
        let checks = Checks::of_changes(&changes);
        if checks.any() {
            preflight(clients, &new, checks, diags).await;
            if diags.has_errors() {
                return prior.clone();
            }
        }
        let timeout = timeouts::get(planned, "update", DEFAULT_TIMEOUT);
        let tags_written = match tags::change(clients, &old.tags_all, &new.tags_all) {
            None => true,
            Some((from, to)) => ec2
                .update_tags(id, &from, &to)
                .await
                .map_err(|e| {
                    diags.error("Could not update the endpoint's tags", format!("{id}: {e}"))
                })
                .is_ok(),
        };
        let nothing_to_modify = changes.is_empty();
        let network_written = nothing_to_modify || {
            let outcome = modify(ec2, id, &old, &new, changes, timeout, &ctx.stop).await;
            settle(id, "updated", timeout, outcome, diags).is_some()
        };
        // Tags change nothing else EC2 shows (the plan kept it as it was):
        // no read after them.
        let found = if nothing_to_modify {
            None
        } else if network_written {
            ec2.find_endpoint(id).await.ok()
        } else {
            ec2.find_endpoint_after_wait(id).await.ok()
        };
        let found = match found {
            Some(e) => Some(with_addresses(clients, state_from_aws(clients, &e, &new)).await),
            None => None,
        };
        fixed_addresses_as_asked(&new, found.as_ref(), diags);
        let written = Written {
            tags: tags_written,
            network: network_written,
        };
        after_write(found, &old, &new, written).to_value()
    }

    // -------------------------------------------------------------- delete --

    async fn delete(&self, ctx: &Ctx<Clients>, prior: &Value, diags: &mut Diagnostics) {
        let id = Model::from_value(prior).id;
        if id.is_empty() {
            return;
        }
        let ec2 = &ctx.data.ec2;
        if let Err(e) = ec2.delete_endpoint(&id).await {
            diags.error("Could not delete the VPC endpoint", format!("{id}: {e}"));
            return;
        }
        let timeout = timeouts::get(prior, "delete", DEFAULT_TIMEOUT);
        match ec2.wait_endpoint_deleted(&id, timeout, &ctx.stop).await {
            Ok(()) => tracing::info!(endpoint_id = %id, "VPC endpoint deleted"),
            Err(e) => report_wait(&id, "deleted", timeout, &e, diags),
        }
    }

    // -------------------------------------------------------------- import --

    fn list_schema(&self) -> Option<Schema> {
        Some(list::schema())
    }

    async fn list(
        &self,
        ctx: &Ctx<Clients>,
        config: &Value,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<Listed> {
        list::list(&ctx.data, config, limit, diags).await
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(super::identity::regional("The endpoint's id (`vpce-...`)."))
    }

    fn identity(&self, clients: &Clients, state: &Value) -> Option<Value> {
        super::identity::regional_of(clients, state)
    }

    fn import_id(
        &self,
        clients: &Clients,
        identity: &Value,
        diags: &mut Diagnostics,
    ) -> Option<String> {
        super::identity::import_id(clients, identity, "id", diags)
    }

    async fn import(
        &self,
        _ctx: &Ctx<Clients>,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        super::import_by_id(&self.schema(), id, "vpce", "VPC endpoint", diags)
    }

    // ---------------------------------------------------------------- move --

    /// Takes over an `aws_vpc_endpoint` of hashicorp/aws named in a `moved`
    /// block, when it is an interface endpoint to a PrivateLink service.
    async fn move_state(
        &self,
        source_provider: &str,
        source_type: &str,
        source_json: &[u8],
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let source = moves::from_aws(
            source_provider,
            source_type,
            source_json,
            "aws_vpc_endpoint",
            diags,
        )?;
        moved::from_aws_vpc_endpoint(&source, diags)
    }
}

// --------------------------------------------------- awaiting acceptance --

/// EC2's word for an endpoint its service's owner has not accepted yet.
const PENDING_ACCEPTANCE: &str = "pendingAcceptance";

/// While PlanetScale has not accepted the endpoint, EC2 refuses to turn
/// private DNS on. Left to its default, private DNS is planned as it is
/// (off), so the plan is empty and tells the truth; set to `true` in the
/// configuration, it must be planned so, and the apply records it without
/// asking EC2. Either way a warning says what is awaited, and the first
/// plan after acceptance turns it on.
fn dns_awaits_acceptance(change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
    let prior = Attrs::of(change.prior);
    if change.prior.is_null()
        || prior.str(attr::state) != Some(PENDING_ACCEPTANCE)
        || prior.bool(attr::private_dns_enabled) != Some(false)
        || Attrs::of(&change.planned).bool(attr::private_dns_enabled) != Some(true)
    {
        return;
    }
    let id = prior.str(attr::id).unwrap_or_default();
    let configured = !Attrs::of(change.config).is_null(attr::private_dns_enabled);
    if !configured {
        change.set_planned(attr::private_dns_enabled, Value::Bool(false));
    }
    let now = if configured {
        "This apply records private_dns_enabled = true without calling EC2, and the refresh after it shows \
         false again until then."
    } else {
        "It stays false in state until then, so this plan does not change it."
    };
    diags.attr_warning(
        root(attr::private_dns_enabled),
        "Private DNS awaits PlanetScale's acceptance",
        format!(
            "{id} is pendingAcceptance, and EC2 turns private DNS on only for an accepted connection. {now} \
             The first terraform apply after PlanetScale accepts turns it on. If the endpoint stays pending, \
             check that PrivateLink is enabled for the branch and that this AWS account is allowed to connect."
        ),
    );
}

// ------------------------------------------------------ address families --

/// An update that changes only tags (or timeouts), or nothing, cannot
/// change the endpoint's interfaces, DNS names or an `available` state:
/// they are planned as they are instead of unknown, so a tag edit shows as
/// a tag edit. Anything that goes to ModifyVpcEndpoint leaves them unknown.
fn keep_what_tags_cannot_change(change: &mut PlanChange<'_>) {
    if change.prior.is_null() || !change.changing {
        return;
    }
    let prior = Attrs::of(change.prior);
    let planned = Attrs::of(&change.planned);
    let kept = [attr::network_interface_ids, attr::dns_entries, attr::state];
    let untouched = attr::ALL
        .iter()
        .filter(|a| !kept.contains(a) && ![attr::tags, attr::tags_all, attr::timeouts].contains(a))
        .all(|a| prior.get(a) == planned.get(a));
    if !untouched {
        return;
    }
    // Nothing at all to change (private DNS awaiting acceptance, kept as
    // it is): the plan is the prior state.
    let unchanged = [attr::tags, attr::tags_all, attr::timeouts]
        .iter()
        .all(|a| prior.get(a) == planned.get(a));
    let mut kept = kept[..2].to_vec();
    if unchanged || prior.str(attr::state) == Some("available") {
        kept.push(attr::state);
    }
    let kept: Vec<(&str, Value)> = kept
        .into_iter()
        .map(|a| (a, prior.get(a).clone()))
        .collect();
    for (a, v) in kept {
        change.set_planned(a, v);
    }
}

/// The address arguments against each other, without AWS: the DNS records'
/// family against the endpoint's address type, and each fixed address
/// against the subnets and the families the endpoint uses. Judged on the
/// planned values; on create, an address type left out is EC2's default.
fn plan_addresses(change: &PlanChange<'_>, diags: &mut Diagnostics) {
    let planned = Attrs::of(&change.planned);
    let ip = match planned.str(attr::ip_address_type) {
        Some(v) => Some(v),
        None if change.prior.is_null()
            && Attrs::of(change.config).is_null(attr::ip_address_type) =>
        {
            None
        }
        // Unknown until apply.
        None => return,
    };
    if let Some(record) = planned.str(attr::dns_record_ip_type)
        && let Some(why) = addresses::dns_record_mismatch(ip, record)
    {
        diags.attr_error(
            root(attr::dns_record_ip_type),
            "DNS records of a family the endpoint lacks",
            why,
        );
    }
    let Some(configs) = planned.elements(attr::subnet_configurations) else {
        return;
    };
    let subnet_ids = planned.strings(attr::subnet_ids);
    let (v4, v6) = addresses::families(ip);
    let shown = ip.unwrap_or("ipv4");
    for (i, item) in configs.iter().enumerate() {
        let entry = Attrs::of(item);
        if let (Some(subnet), Some(ids)) = (entry.str(subnet_attr::subnet_id), &subnet_ids)
            && !ids.iter().any(|s| s == subnet)
        {
            entry_error(
                diags,
                i,
                subnet_attr::subnet_id,
                "Subnet not among subnet_ids",
                format!(
                    "{subnet} is not one of the endpoint's subnet_ids, so the endpoint has no interface there: add \
                     it to subnet_ids, or remove its entry."
                ),
            );
        }
        for (name, wanted, family) in [
            (subnet_attr::ipv4, v4, "IPv4"),
            (subnet_attr::ipv6, v6, "IPv6"),
        ] {
            if wanted && entry.is_null(name) {
                entry_error(
                    diags,
                    i,
                    name,
                    format!("Missing {name} address"),
                    format!(
                        "An endpoint with ip_address_type = \"{shown}\" uses {family}, and EC2 then needs a fixed \
                         {family} address in each subnet configuration: give {name}, or remove the entry to let EC2 \
                         choose the subnet's addresses."
                    ),
                );
            }
            if !wanted && !entry.is_null(name) {
                entry_error(
                    diags,
                    i,
                    name,
                    format!("{family} address for an endpoint without {family}"),
                    format!(
                        "An endpoint with ip_address_type = \"{shown}\" gets no {family} address: remove {name}, or \
                         set ip_address_type = \"dualstack\"."
                    ),
                );
            }
        }
    }
}

/// An error about one entry of `subnet_configurations`, on the attribute
/// with the entry named in the detail: Terraform shows no source line for
/// a path inside a list of objects.
pub(super) fn entry_error(
    diags: &mut Diagnostics,
    index: usize,
    name: &str,
    summary: impl Into<String>,
    detail: impl AsRef<str>,
) {
    diags.attr_error(
        root(attr::subnet_configurations),
        summary,
        format!("subnet_configurations[{index}].{name}: {}", detail.as_ref()),
    );
}

/// The service's region for CreateVpcEndpoint's ServiceRegion: set only
/// for a service of another region than the provider's.
fn remote_region<'a>(clients: &Clients, m: &'a Model) -> Option<&'a str> {
    m.service_region.as_deref().filter(|r| *r != clients.region)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::aws::endpoint::CREATE_TOKEN_TAG;
    use crate::aws::model::Endpoint;

    /// An endpoint as EC2 reports it, with these tags.
    pub(super) fn found(tags: &[(&str, &str)]) -> Endpoint {
        Endpoint {
            id: "vpce-0123456789abcdef0".into(),
            vpc_id: "vpc-1".into(),
            service_name: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0".into(),
            state: "pendingAcceptance".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Endpoint::default()
        }
    }

    #[test]
    fn an_update_changes_the_address_types_that_differ() {
        let old = Model {
            ip_address_type: Some("dualstack".into()),
            dns_record_ip_type: Some("dualstack".into()),
            ..Model::default()
        };
        let same = changes_between(&old, &old.clone());
        assert!(same.is_empty());
        let records = changes_between(
            &old,
            &Model {
                dns_record_ip_type: Some("ipv4".into()),
                ..old.clone()
            },
        );
        assert_eq!(records.dns_record_ip_type.as_deref(), Some("ipv4"));
        assert_eq!(records.ip_address_type, None);
        // Left out (EC2's default kept): nothing to change.
        let unset = changes_between(
            &old,
            &Model {
                ip_address_type: None,
                ..old.clone()
            },
        );
        assert!(unset.is_empty());
    }

    #[test]
    fn an_update_sends_only_the_fixed_addresses_that_are_new_or_changed() {
        let config = |subnet: &str, ipv4: &str| SubnetConfig {
            subnet_id: subnet.into(),
            ipv4: Some(ipv4.into()),
            ipv6: None,
        };
        let old = Model {
            subnet_configurations: Some(vec![
                config("subnet-a", "10.0.0.10"),
                config("subnet-b", "10.0.1.10"),
            ]),
            ..Model::default()
        };
        let new = Model {
            subnet_configurations: Some(vec![
                config("subnet-a", "10.0.0.10"),
                config("subnet-b", "10.0.1.20"),
                config("subnet-c", "10.0.2.10"),
            ]),
            ..old.clone()
        };
        let changes = changes_between(&old, &new);
        let sent: Vec<(&str, Option<&str>)> = changes
            .subnet_addresses
            .iter()
            .map(|a| (a.subnet_id.as_str(), a.ipv4.as_deref()))
            .collect();
        assert_eq!(
            sent,
            [
                ("subnet-b", Some("10.0.1.20")),
                ("subnet-c", Some("10.0.2.10"))
            ]
        );
        // An entry removed leaves the interface's address as it is.
        let dropped = Model {
            subnet_configurations: Some(vec![config("subnet-a", "10.0.0.10")]),
            ..old.clone()
        };
        assert!(changes_between(&old, &dropped).is_empty());
    }

    #[test]
    fn the_create_token_tag_is_not_in_state() {
        let e = found(&[(CREATE_TOKEN_TAG, "tf-planetscale-1"), ("stage", "one")]);
        let state = state_from_aws(&Clients::for_tests(), &e, &Model::default()).to_value();
        let tags = BTreeMap::from([("stage".to_owned(), "one".to_owned())]);
        assert_eq!(Attrs::of(&state).string_map(attr::tags), Some(tags.clone()));
        assert_eq!(Attrs::of(&state).string_map(attr::tags_all), Some(tags));
    }

    #[test]
    fn the_state_after_a_write_keeps_what_went_through_as_planned() {
        let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let tagged = |v: &str| Tags::from([("Name".to_owned(), v.to_owned())]);
        let prior = Model {
            id: "vpce-1".into(),
            state: "available".into(),
            subnet_ids: set(&["subnet-a"]),
            private_dns_enabled: false,
            tags_all: tagged("old"),
            ..Model::default()
        };
        let planned = Model {
            subnet_ids: set(&["subnet-a", "subnet-b"]),
            private_dns_enabled: true,
            tags_all: tagged("new"),
            timeouts: Value::object([("update", Value::String("5m".into()))]),
            ..prior.clone()
        };
        // EC2 not showing the new subnet yet, nor the new tags.
        let shown = Model {
            state: "pendingAcceptance".into(),
            ..prior.clone()
        };
        let written = |tags, network| Written { tags, network };

        let s = after_write(Some(shown.clone()), &prior, &planned, written(true, true));
        assert_eq!(s.state, "pendingAcceptance", "what EC2 showed");
        assert_eq!(s.subnet_ids, planned.subnet_ids, "as planned once written");
        assert!(s.private_dns_enabled);
        assert_eq!(s.tags_all, tagged("new"));
        assert_eq!(s.timeouts, planned.timeouts);

        let s = after_write(Some(shown.clone()), &prior, &planned, written(false, false));
        assert_eq!(
            s.subnet_ids, prior.subnet_ids,
            "what EC2 shows when the modify failed"
        );
        assert!(!s.private_dns_enabled);
        assert_eq!(
            s.tags_all,
            tagged("old"),
            "the prior tags_all when the tag write failed"
        );

        let s = after_write(None, &prior, &planned, written(false, true));
        assert_eq!(s.id, "vpce-1");
        assert_eq!(
            s.state, "available",
            "the prior state when nothing was read"
        );
        assert_eq!(s.subnet_ids, planned.subnet_ids);
        assert_eq!(s.tags_all, tagged("old"));
        assert!(s.to_value().is_fully_known());
    }
}
