//! `planetscale_privatelink_endpoint`: the interface VPC endpoint of the
//! PrivateLink procedure, to a database branch's Private Service Name, in
//! the chosen subnets with the chosen security groups and private DNS on,
//! waited for until `available`.
//!
//! Order: model, schema, validate, plan, create, read, update, delete, import,
//! move (from `aws_vpc_endpoint`).
//!
//! Why this file is over 1,000 lines: about 230 of them are its unit tests,
//! and the plan-time checks (`preflight`, `check_subnets`, `check_existing`
//! and their texts) are 300 more; those checks are the next thing to move
//! into a file of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::endpoint::{
    AvailableWait, CREATE_TOKEN_TAG, EndpointChanges, NewEndpoint, WaitError,
};
use crate::aws::model::{Endpoint, EndpointService, Tags};
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::model::{Attrs, ObjectBuilder, string, string_list, string_set};
use crate::framework::path::AttributePath;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::server::{Ctx, PlanChange, Resource};
use crate::framework::timeouts;
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::privatelink::{region_mismatch_detail, service_name_region, service_not_found_detail};
use crate::resources::moves::{self, SourceState};
use crate::resources::tags;
use crate::validate;

pub const TYPE_NAME: &str = "planetscale_privatelink_endpoint";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

fn root(name: &str) -> AttributePath {
    AttributePath::root().attr(name)
}

// ---------------------------------------------------------------- model --

#[derive(Clone, Debug, Default)]
struct Model {
    service_name: String,
    vpc_id: String,
    subnet_ids: BTreeSet<String>,
    security_group_ids: BTreeSet<String>,
    private_dns_enabled: bool,
    tags_all: Tags,
}

impl Model {
    fn from_value(value: &Value) -> Model {
        let a = Attrs::of(value);
        Model {
            service_name: a.string("service_name").unwrap_or_default(),
            vpc_id: a.string("vpc_id").unwrap_or_default(),
            subnet_ids: a
                .strings("subnet_ids")
                .unwrap_or_default()
                .into_iter()
                .collect(),
            security_group_ids: a
                .strings("security_group_ids")
                .unwrap_or_default()
                .into_iter()
                .collect(),
            private_dns_enabled: a.bool("private_dns_enabled").unwrap_or(true),
            tags_all: a.string_map("tags_all").unwrap_or_default(),
        }
    }
}

fn dns_entry_type() -> Type {
    Type::Object(
        [
            ("dns_name".to_owned(), Type::String),
            ("hosted_zone_id".to_owned(), Type::String),
        ]
        .into_iter()
        .collect(),
        BTreeSet::new(),
    )
}

pub struct EndpointResource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl Resource<Clients> for EndpointResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "An interface VPC endpoint to a PlanetScale for Postgres database branch over AWS PrivateLink. \
                 Create verifies the service, the subnets' availability zones and the VPC's DNS settings, then \
                 waits until the endpoint is `available` (through `pendingAcceptance` while PlanetScale accepts \
                 the connection).",
            )
            .attribute(Attribute::string("id").computed().use_state_for_unknown().describe("The endpoint id (`vpce-...`)."))
            .attribute(Attribute::string("arn").computed().use_state_for_unknown().describe("The endpoint ARN."))
            .attribute(Attribute::string("owner_id").computed().use_state_for_unknown().describe("The AWS account that owns the endpoint."))
            .attribute(Attribute::string("service_name").required().requires_replace().describe(
                "The branch's Private Service Name, `com.amazonaws.vpce.<region>.vpce-svc-...`: copy it from the \
                 PlanetScale dashboard (database, Settings, Roles, any role of the branch), or take it from the \
                 `planetscale_privatelink_service` data source. Its region must be the provider's.",
            ))
            .attribute(Attribute::string("vpc_id").required().requires_replace().describe(
                "The VPC of the application.",
            ))
            .attribute(Attribute::string_set("subnet_ids").required().describe(
                "Subnets for the endpoint's network interfaces: ones the application reaches, at least one, \
                 and two or more in different availability zones for resilience (one per zone). Changes in place.",
            ))
            .attribute(Attribute::string_set("security_group_ids").required().describe(
                "Security groups of the endpoint, such as a `planetscale_privatelink_security_group`. At least \
                 one. Changes in place.",
            ))
            .attribute(Attribute::bool("private_dns_enabled").default(Value::Bool(true)).describe(
                "Resolve the branch's private host name to the endpoint inside the VPC (the console's \"Enable \
                 DNS name\"). Needs DNS support and DNS hostnames on in the VPC. Changes in place.",
            ))
            .attribute(Attribute::string("state").computed().describe("The endpoint's state, `available` once ready."))
            .attribute(Attribute::string_list("network_interface_ids").computed().describe("The endpoint's network interfaces."))
            .attribute(Attribute::new("dns_entries", Type::List(Box::new(dns_entry_type()))).computed().describe(
                "The endpoint's DNS names (`dns_name`, `hosted_zone_id`).",
            ))
            .attribute(Attribute::string_map("tags").optional().describe("Tags for the endpoint."))
            .attribute(Attribute::string_map("tags_all").computed().describe(
                "All tags of the endpoint: the provider's `default_tags` merged with `tags`.",
            ))
            .block(timeouts::block(&[("create", DEFAULT_TIMEOUT), ("update", DEFAULT_TIMEOUT), ("delete", DEFAULT_TIMEOUT)])),
        )
    }

    // ------------------------------------------------------------ validate --

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let c = Attrs::of(config);
        if let Some(name) = c.str("service_name")
            && let Err(why) = service_name_region(name)
        {
            diags.attr_error(root("service_name"), "Invalid service name", why);
        }
        if let Some(vpc) = c.str("vpc_id")
            && let Err(why) = validate::ec2_id(vpc, "vpc", "VPC")
        {
            diags.attr_error(root("vpc_id"), "Invalid VPC id", why);
        }
        for (attr, prefix, what) in [
            ("subnet_ids", "subnet", "subnet"),
            ("security_group_ids", "sg", "security group"),
        ] {
            validate::each_string(
                &c,
                attr,
                diags,
                |s| validate::ec2_id(s, prefix, what),
                &format!("Invalid {what} id"),
            );
            if c.elements(attr).is_some_and(<[Value]>::is_empty) {
                diags.attr_error(
                    root(attr),
                    format!("No {what}s"),
                    format!("Give at least one {what} id."),
                );
            }
        }
        validate::tags(&c, "tags", diags);
    }

    // ---------------------------------------------------------------- plan --

    async fn plan(&self, ctx: &Ctx<Clients>, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        let clients = &ctx.data;
        let c = Attrs::of(change.config);
        let p = Attrs::of(change.prior);
        // The create token's tag stays on the endpoint: one of EC2's 50.
        tags::plan(clients, change, 1, diags);

        if let Some(name) = c.str("service_name")
            && let Ok(region) = service_name_region(name)
            && region != clients.region
        {
            diags.attr_error(
                root("service_name"),
                "Service in another region",
                region_mismatch_detail(region, &clients.region),
            );
            return;
        }
        // Checks that call AWS run only for values that change, and once
        // they are known (else again at apply).
        if !change.changing {
            return;
        }
        let creating = change.prior.is_null();
        let planned = Attrs::of(&change.planned);
        let changed = |a: &str| creating || planned.get(a) != p.get(a);
        let known = |a: &str| planned.get(a).is_fully_known() && !planned.is_null(a);
        if !(known("service_name") && known("vpc_id")) {
            return;
        }
        let m = Model::from_value(&change.planned);
        let checks = Checks {
            service: changed("service_name"),
            subnets: known("subnet_ids") && (changed("subnet_ids") || changed("service_name")),
            dns: m.private_dns_enabled && changed("private_dns_enabled"),
            groups: known("security_group_ids") && changed("security_group_ids"),
        };
        if checks.any() {
            preflight(clients, &m, checks, diags).await;
        }
        if creating {
            check_existing(clients, &m, diags).await;
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
        let service = preflight(clients, &m, Checks::all(m.private_dns_enabled), diags).await;
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
        let token = format!(
            "tf-planetscale-{:016x}{:016x}",
            fastrand::u64(..),
            fastrand::u64(..)
        );
        let new = NewEndpoint {
            vpc_id: &m.vpc_id,
            service_name: &m.service_name,
            subnet_ids: &subnets,
            security_group_ids: &groups,
            private_dns_enabled: m.private_dns_enabled && !dns_after_acceptance,
            tags: &tags::for_aws(clients, &m.tags_all),
            client_token: &token,
        };
        let created = match ec2.create_endpoint(&new).await {
            Ok(e) => e,
            Err(e) => {
                diags.error(
                    "Could not create the VPC endpoint",
                    format!("CreateVpcEndpoint to {}: {e}", m.service_name),
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
        if dns_after_acceptance && let Ok(accepted) = &outcome {
            let turn_on = EndpointChanges {
                private_dns_enabled: Some(true),
                ..EndpointChanges::default()
            };
            outcome = match ec2.modify_endpoint(&accepted.id, &turn_on).await {
                Ok(()) => {
                    let wait = AvailableWait::after_modify(timeout, &subnets, &groups);
                    ec2.wait_endpoint_available(&created.id, &wait, &ctx.stop)
                        .await
                }
                Err(e) => Err(WaitError::Aws(e)),
            };
        }
        Some(
            finish_wait(
                clients,
                &created.id,
                "created",
                timeout,
                outcome,
                planned,
                diags,
            )
            .await,
        )
    }

    // ---------------------------------------------------------------- read --

    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let s = Attrs::of(state);
        let id = s.string("id")?;
        match ctx.data.ec2.refresh_endpoint(&id, s.str("vpc_id")).await {
            Ok(endpoint) => Some(state_of(&ctx.data, &endpoint, state)),
            Err(e) if e.is_not_found() => {
                tracing::info!(endpoint_id = %id, "VPC endpoint is gone; removing it from state");
                None
            }
            Err(e) => {
                diags.error("Could not read the VPC endpoint", format!("{id}: {e}"));
                Some(state.clone())
            }
        }
    }

    // -------------------------------------------------------------- update --

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
        let Some(id) = Attrs::of(prior).string("id") else {
            diags.error(
                "Missing id",
                "The prior state has no id. This is a bug in the provider; please report it.",
            );
            return prior.clone();
        };
        let changes = changes_between(&old, &new);
        let checks = Checks {
            service: false,
            subnets: !changes.add_subnet_ids.is_empty() || !changes.remove_subnet_ids.is_empty(),
            dns: changes.private_dns_enabled == Some(true),
            groups: !changes.add_security_group_ids.is_empty(),
        };
        if checks.any() {
            preflight(clients, &new, checks, diags).await;
            if diags.has_errors() {
                return prior.clone();
            }
        }
        let timeout = timeouts::get(planned, "update", DEFAULT_TIMEOUT);
        let (old_tags, new_tags) = (
            tags::for_aws(clients, &old.tags_all),
            tags::for_aws(clients, &new.tags_all),
        );
        let tags_failed = old_tags != new_tags
            && ec2
                .update_tags(&id, &old_tags, &new_tags)
                .await
                .map_err(|e| {
                    diags.error("Could not update the endpoint's tags", format!("{id}: {e}"))
                })
                .is_err();
        let outcome = if changes.is_empty() {
            None
        } else {
            Some(modify(ec2, &id, &old, &new, changes, timeout, &ctx.stop).await)
        };
        let state = match outcome {
            Some(outcome) => {
                finish_wait(clients, &id, "updated", timeout, outcome, planned, diags).await
            }
            None => match ec2.find_endpoint(&id).await {
                Ok(endpoint) => requested(clients, &endpoint, planned),
                Err(_) => planned.clone(),
            },
        };
        if tags_failed {
            // What the tags are now is for the next refresh to tell.
            return with_attr(state, "tags_all", Attrs::of(prior).get("tags_all").clone());
        }
        state
    }

    // -------------------------------------------------------------- delete --

    async fn delete(&self, ctx: &Ctx<Clients>, prior: &Value, diags: &mut Diagnostics) {
        let Some(id) = Attrs::of(prior).string("id") else {
            return;
        };
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
        if !moves::is_from_aws(source_provider, source_type, "aws_vpc_endpoint") {
            return None;
        }
        let source = SourceState::parse(source_type, source_json, diags)?;
        from_aws_vpc_endpoint(&source, diags)
    }
}

/// This resource's state from an `aws_vpc_endpoint`'s (hashicorp/aws 5.x,
/// schema version 0). Endpoints this resource does not manage (gateway
/// endpoints, endpoints to AWS services) are refused with an error that
/// says so.
fn from_aws_vpc_endpoint(s: &SourceState, diags: &mut Diagnostics) -> Option<Value> {
    let id = s.str("id").unwrap_or_default();
    let service = s.str("service_name").unwrap_or_default();
    let kind = s.str("vpc_endpoint_type").unwrap_or_default();
    let keep_it = "Remove the moved block for it and keep it in hashicorp/aws.";
    if validate::ec2_id(id, "vpce", "VPC endpoint").is_err() {
        diags.error(
            "Cannot move the endpoint",
            format!(
                "The {} to move has no endpoint id in its state ({id:?}).",
                s.type_name()
            ),
        );
        return None;
    }
    if !kind.eq_ignore_ascii_case("Interface") {
        diags.error(
            "Not an interface endpoint",
            format!(
                "{id} is a {kind} endpoint (to {service}), and {TYPE_NAME} manages interface endpoints \
                 to a PlanetScale PrivateLink service only. {keep_it}"
            ),
        );
        return None;
    }
    if service_name_region(service).is_err() {
        diags.error(
            "Not an endpoint to a PrivateLink service",
            format!(
                "{id} connects to {service}, not to a PrivateLink endpoint service \
                 (com.amazonaws.vpce.<region>.vpce-svc-...) such as a PlanetScale database branch's. \
                 {keep_it}"
            ),
        );
        return None;
    }
    let dns_entries = s
        .blocks("dns_entry")
        .iter()
        .map(|d| {
            ObjectBuilder::new()
                .set("dns_name", string(d.str("dns_name")))
                .set("hosted_zone_id", string(d.str("hosted_zone_id")))
                .build()
        })
        .collect();
    let (tags, tags_all) = s.tags();
    Some(
        ObjectBuilder::new()
            .set("id", string(id))
            .set("arn", s.string("arn"))
            .set("owner_id", s.string("owner_id"))
            .set("service_name", string(service))
            .set("vpc_id", s.string("vpc_id"))
            .set("subnet_ids", s.string_set("subnet_ids"))
            .set("security_group_ids", s.string_set("security_group_ids"))
            .set(
                "private_dns_enabled",
                Value::Bool(s.bool("private_dns_enabled").unwrap_or(false)),
            )
            .set("state", s.string("state"))
            .set(
                "network_interface_ids",
                s.string_list("network_interface_ids"),
            )
            .set("dns_entries", Value::List(dns_entries))
            .set("tags", tags)
            .set("tags_all", tags_all)
            .set("timeouts", Value::Null)
            .build(),
    )
}

/// Which of the checks of [`preflight`] to run.
#[derive(Clone, Copy, Debug)]
struct Checks {
    /// The service exists (and offers a verified private DNS name when
    /// `dns` is on too).
    service: bool,
    /// The subnets are in the VPC, one per zone, in zones the service offers.
    subnets: bool,
    /// The VPC resolves private DNS names, and the service offers one.
    dns: bool,
    /// The security groups are in the VPC.
    groups: bool,
}

impl Checks {
    fn all(dns: bool) -> Self {
        Checks {
            service: true,
            subnets: true,
            dns,
            groups: true,
        }
    }

    fn any(self) -> bool {
        self.service || self.subnets || self.dns || self.groups
    }
}

/// The checks of the console's "Verify service" and of the guide's advice,
/// against AWS: the service exists and offers the subnets' zones (and a
/// verified private DNS name when private DNS is asked for), the subnets
/// and security groups are in the VPC with at most one subnet per zone (two
/// or more zones recommended), and the VPC resolves private DNS names.
/// Returns the service when it was looked up.
async fn preflight(
    clients: &Clients,
    m: &Model,
    checks: Checks,
    diags: &mut Diagnostics,
) -> Option<EndpointService> {
    let ec2 = &clients.ec2;
    let subnet_ids: Vec<String> = m.subnet_ids.iter().cloned().collect();
    let group_ids: Vec<String> = m.security_group_ids.iter().cloned().collect();
    let want_service = checks.service || checks.subnets || checks.dns;
    let (found_service, found_subnets, found_dns, found_groups) = tokio::join!(
        async {
            if want_service {
                Some(ec2.find_endpoint_service(&m.service_name).await)
            } else {
                None
            }
        },
        async {
            if checks.subnets {
                Some(ec2.find_subnets(&subnet_ids).await)
            } else {
                None
            }
        },
        async {
            if checks.dns {
                Some(ec2.vpc_dns(&m.vpc_id).await)
            } else {
                None
            }
        },
        async {
            if checks.groups {
                Some(ec2.find_security_groups(&group_ids).await)
            } else {
                None
            }
        },
    );
    let mut service = None;
    match found_service {
        Some(Ok(s)) => service = Some(s),
        Some(Err(e)) if e.is_not_found() => diags.attr_error(
            root("service_name"),
            "PrivateLink service not found",
            service_not_found_detail(&m.service_name, &clients.region),
        ),
        Some(Err(e @ AwsError::AccessDenied { .. })) => diags.attr_warning(
            root("service_name"),
            "Could not verify the service",
            format!("DescribeVpcEndpointServices was refused ({e}); the endpoint will be created without verifying the service first."),
        ),
        Some(Err(e)) => diags.attr_error(root("service_name"), "Could not verify the service", e.to_string()),
        None => {}
    }
    if checks.dns
        && let Some(s) = &service
        && let Some(why) = private_dns_unavailable(s)
    {
        diags.attr_error(
            root("private_dns_enabled"),
            "The service offers no private DNS name",
            why,
        );
    }
    match found_subnets {
        Some(Ok(found)) => check_subnets(
            m,
            &found,
            service.as_ref().map(|s| s.availability_zones.as_slice()),
            diags,
        ),
        Some(Err(e)) if e.is_not_found() => diags.attr_error(
            root("subnet_ids"),
            "Subnet not found",
            format!("{e}. Check the subnet ids and the provider's region."),
        ),
        Some(Err(e)) => diags.attr_error(
            root("subnet_ids"),
            "Could not check the subnets",
            e.to_string(),
        ),
        None => {}
    }
    match found_groups {
        Some(Ok(groups)) => {
            for g in groups.iter().filter(|g| g.vpc_id != m.vpc_id) {
                diags.attr_error(
                    root("security_group_ids"),
                    "Security group of another VPC",
                    format!(
                        "{} is in {}, not in {}. An endpoint takes security groups of its own VPC: choose one there, \
                         such as a planetscale_privatelink_security_group with vpc_id = \"{}\".",
                        g.id, g.vpc_id, m.vpc_id, m.vpc_id
                    ),
                );
            }
        }
        Some(Err(e)) if e.is_not_found() => diags.attr_error(
            root("security_group_ids"),
            "Security group not found",
            format!("{e}. Check the security group ids and the provider's region."),
        ),
        Some(Err(e)) => diags.attr_warning(
            root("security_group_ids"),
            "Could not check the security groups",
            e.to_string(),
        ),
        None => {}
    }
    match found_dns {
        Some(Ok(d)) if !(d.support && d.hostnames) => {
            diags.attr_error(
                root("private_dns_enabled"),
                "The VPC cannot resolve private DNS names",
                format!(
                    "{} has {} turned off, and private DNS needs both DNS resolution and DNS hostnames on. Turn \
                     them on (in hashicorp/aws: enable_dns_support and enable_dns_hostnames on aws_vpc), or set \
                     private_dns_enabled = false and connect through the endpoint's own DNS names.",
                    m.vpc_id,
                    d.settings_off().join(" and ")
                ),
            );
        }
        Some(Err(e)) if e.is_not_found() => diags.attr_error(
            root("vpc_id"),
            "VPC not found",
            format!("{}: {e}", m.vpc_id),
        ),
        Some(Err(e)) => diags.attr_warning(
            root("vpc_id"),
            "Could not check the VPC's DNS settings",
            e.to_string(),
        ),
        _ => {}
    }
    service
}

/// For a new endpoint: an endpoint to the same service already in the VPC,
/// one Terraform does not know (not read from its state, not created by
/// this process) and not on its way out, is what a killed apply leaves
/// behind, or one made elsewhere. With private DNS on, EC2 would refuse the
/// new one ("conflicting DNS domain"), so the plan fails; with it off, it
/// warns. Either way it says how to adopt the endpoint or delete it.
async fn check_existing(clients: &Clients, m: &Model, diags: &mut Diagnostics) {
    let ec2 = &clients.ec2;
    let found = match ec2.endpoints_to_service(&m.vpc_id, &m.service_name).await {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(error = %e, "listing the VPC's endpoints to the service failed; not checking for one left behind");
            return;
        }
    };
    let gone = ["deleted", "deleting", "failed", "rejected"];
    for e in found
        .iter()
        .filter(|e| !gone.iter().any(|g| e.state_is(g)) && !ec2.is_known(&e.id))
    {
        let (summary, detail) = existing_endpoint_text(e, m.private_dns_enabled, &clients.region);
        if m.private_dns_enabled {
            diags.attr_error(root("service_name"), summary, detail);
        } else {
            diags.attr_warning(root("service_name"), summary, detail);
        }
    }
}

/// What the plan says of an endpoint `e` found where a new one would go.
fn existing_endpoint_text(e: &Endpoint, private_dns: bool, region: &str) -> (String, String) {
    let id = &e.id;
    let who = if e.tags.contains_key(CREATE_TOKEN_TAG) {
        "This provider made it (it carries the provider's planetscale:create-token tag), in an apply that \
         did not finish: the apply was killed, or its answer was lost, before Terraform could save the \
         endpoint in its state."
    } else {
        "This provider did not make it (it has no planetscale:create-token tag): it was made in the AWS \
         console, by another tool, or by another Terraform configuration. If another configuration manages \
         it, leave it there: do not import it here, and do not delete it."
    };
    let consequence = if private_dns {
        "This plan cannot be applied as it is: with private_dns_enabled = true, EC2 refuses a second endpoint \
         with private DNS for the same name in one VPC (\"conflicting DNS domain\")."
    } else {
        "With private_dns_enabled = false EC2 accepts a second endpoint, so this plan can be applied, but the \
         VPC would then have two endpoints to the same branch, each billed by the hour."
    };
    let summary = if private_dns {
        "An endpoint to this service already exists in the VPC".to_owned()
    } else {
        "Another endpoint to this service already exists in the VPC".to_owned()
    };
    let detail = format!(
        "{id} ({state}) already connects {vpc} to {service}. {who}\n\n\
         {consequence}\n\n\
         To adopt it instead of creating another, add this block to the configuration, with <name> replaced \
         by the name of this resource (its address is shown above, after \"with\"), then run terraform \
         apply:\n\n\
         \x20\x20import {{\n\
         \x20\x20\x20\x20to = {TYPE_NAME}.<name>\n\
         \x20\x20\x20\x20id = \"{id}\"\n\
         \x20\x20}}\n\n\
         To delete it instead, run:\n\n\
         \x20\x20aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {id} --region {region}",
        state = e.state,
        vpc = e.vpc_id,
        service = e.service_name,
    );
    (summary, detail)
}

/// Why private DNS cannot be turned on for an endpoint to `s`, if it
/// cannot: EC2 refuses it for a service without a private DNS name, and
/// for one whose name its owner has not verified ("Consumers of the
/// endpoint service can use the private name only when the state is
/// verified", EC2 API reference, PrivateDnsNameConfiguration).
fn private_dns_unavailable(s: &EndpointService) -> Option<String> {
    if s.private_dns_names.is_empty() {
        return Some(format!(
            "{} has no private DNS name, so EC2 cannot turn private DNS on for it. Set private_dns_enabled = false \
             and connect through the endpoint's DNS names (dns_entries), or ask PlanetScale support to enable the \
             branch's private DNS name.",
            s.name
        ));
    }
    match s.private_dns_name_state.as_deref() {
        Some(state) if !state.eq_ignore_ascii_case("verified") => Some(format!(
            "The private DNS name of {} ({}) is {state}, not verified, and EC2 lets consumers use it only once it \
             is verified. Set private_dns_enabled = false for now, or wait until PlanetScale has verified it.",
            s.name,
            s.private_dns_names.join(", ")
        )),
        _ => None,
    }
}

fn check_subnets(
    m: &Model,
    subnets: &[crate::aws::model::Subnet],
    service_zones: Option<&[String]>,
    diags: &mut Diagnostics,
) {
    let mut by_zone: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in subnets {
        if s.vpc_id != m.vpc_id {
            diags.attr_error(
                root("subnet_ids"),
                "Subnet of another VPC",
                format!(
                    "{} is in {}, not in {}. Choose subnets of the endpoint's VPC.",
                    s.id, s.vpc_id, m.vpc_id
                ),
            );
            continue;
        }
        by_zone.entry(&s.availability_zone).or_default().push(&s.id);
    }
    for (zone, ids) in &by_zone {
        if ids.len() > 1 {
            diags.attr_error(
                root("subnet_ids"),
                "Two subnets in one availability zone",
                format!(
                    "{} are all in {zone}. An endpoint takes one subnet per availability zone: keep one of them, and \
                     add subnets of other zones for resilience.",
                    ids.join(" and ")
                ),
            );
        }
    }
    if let Some(offered) = service_zones.filter(|z| !z.is_empty()) {
        for (zone, ids) in &by_zone {
            if !offered.iter().any(|o| o == zone) {
                diags.attr_error(
                    root("subnet_ids"),
                    "Availability zone not offered by the service",
                    format!(
                        "{} is in {zone}, where the PlanetScale service is not available. Its zones are {}: choose \
                         subnets there.",
                        ids.join(", "),
                        offered.join(", ")
                    ),
                );
            }
        }
    }
    if by_zone.len() < 2 && !diags.has_errors() {
        diags.attr_warning(
            root("subnet_ids"),
            "Endpoint in a single availability zone",
            "The endpoint has interfaces in one availability zone only, so an outage of that zone cuts the \
             application off from the database. Add a subnet in a second zone (two or more are recommended).",
        );
    }
}

/// What to change to go from `old` to `new`.
fn changes_between(old: &Model, new: &Model) -> EndpointChanges {
    let diff = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect();
    EndpointChanges {
        add_subnet_ids: diff(&new.subnet_ids, &old.subnet_ids),
        remove_subnet_ids: diff(&old.subnet_ids, &new.subnet_ids),
        add_security_group_ids: diff(&new.security_group_ids, &old.security_group_ids),
        remove_security_group_ids: diff(&old.security_group_ids, &new.security_group_ids),
        private_dns_enabled: (old.private_dns_enabled != new.private_dns_enabled)
            .then_some(new.private_dns_enabled),
    }
}

/// Applies `changes` and waits until EC2 shows them. A subnet replacing
/// another of the same zone goes in a second call, after the first has
/// removed the old one: EC2 refuses both in one call
/// (`DuplicateSubnetsInSameZone`).
async fn modify(
    ec2: &crate::aws::Ec2,
    id: &str,
    old: &Model,
    new: &Model,
    mut changes: EndpointChanges,
    timeout: Duration,
    stop: &tokio_util::sync::CancellationToken,
) -> Result<Endpoint, WaitError> {
    let deadline = std::time::Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(std::time::Instant::now());
    let groups: Vec<String> = new.security_group_ids.iter().cloned().collect();
    let mut later = None;
    if !changes.add_subnet_ids.is_empty() && !changes.remove_subnet_ids.is_empty() {
        let swapped: Vec<String> = changes
            .add_subnet_ids
            .iter()
            .chain(&changes.remove_subnet_ids)
            .cloned()
            .collect();
        if let Ok(subnets) = ec2.find_subnets(&swapped).await {
            let zone = |id: &String| {
                subnets
                    .iter()
                    .find(|s| &s.id == id)
                    .map(|s| s.availability_zone.clone())
            };
            let freed: BTreeSet<String> =
                changes.remove_subnet_ids.iter().filter_map(zone).collect();
            let (same_zone, other): (Vec<String>, Vec<String>) = changes
                .add_subnet_ids
                .iter()
                .cloned()
                .partition(|s| zone(s).is_some_and(|z| freed.contains(&z)));
            if !same_zone.is_empty() {
                changes.add_subnet_ids = other;
                later = Some(same_zone);
            }
        }
    }
    let mut subnets: BTreeSet<String> = old.subnet_ids.clone();
    for s in &changes.remove_subnet_ids {
        subnets.remove(s);
    }
    subnets.extend(changes.add_subnet_ids.iter().cloned());
    ec2.modify_endpoint(id, &changes)
        .await
        .map_err(WaitError::Aws)?;
    let shown: Vec<String> = subnets.iter().cloned().collect();
    let mut endpoint = ec2
        .wait_endpoint_available(
            id,
            &AvailableWait::after_modify(left(), &shown, &groups),
            stop,
        )
        .await?;
    if let Some(add) = later {
        let second = EndpointChanges {
            add_subnet_ids: add,
            ..EndpointChanges::default()
        };
        ec2.modify_endpoint(id, &second)
            .await
            .map_err(WaitError::Aws)?;
        let all: Vec<String> = new.subnet_ids.iter().cloned().collect();
        endpoint = ec2
            .wait_endpoint_available(
                id,
                &AvailableWait::after_modify(left(), &all, &groups),
                stop,
            )
            .await?;
    }
    Ok(endpoint)
}

/// The state once a create or update has waited: what EC2 shows, with the
/// arguments this apply set read as requested. A wait that ended in
/// `pendingAcceptance` is a warning, not a failure: PlanetScale may still
/// accept, and the endpoint must not be replaced for waiting. Any other
/// failure is an error, and the state still points at the endpoint.
async fn finish_wait(
    clients: &Clients,
    id: &str,
    done: &str,
    timeout: Duration,
    outcome: Result<Endpoint, WaitError>,
    planned: &Value,
    diags: &mut Diagnostics,
) -> Value {
    match outcome {
        Ok(endpoint) => requested(clients, &endpoint, planned),
        Err(WaitError::AwaitingAcceptance(endpoint)) => {
            diags.warning(
                "Endpoint awaiting acceptance",
                format!(
                    "{id} is pendingAcceptance: PlanetScale has not accepted the connection yet. Nothing needs to be \
                     replaced: once PlanetScale accepts, the endpoint becomes available by itself and the next \
                     terraform apply finishes what is left (such as turning private DNS on). If it stays pending, \
                     check that PrivateLink is enabled for the branch and that this AWS account is allowed to \
                     connect, or contact PlanetScale support with the endpoint id."
                ),
            );
            requested(clients, &endpoint, planned)
        }
        Err(e) => {
            report_wait(id, done, timeout, &e, diags);
            match clients.ec2.find_endpoint(id).await {
                Ok(endpoint) => state_of(clients, &endpoint, planned),
                Err(_) => with_attr(planned.clone(), "id", string(id)),
            }
        }
    }
}

/// What EC2 shows of the endpoint, with the arguments of `planned` that
/// EC2 applies asynchronously (subnets, groups, private DNS, tags) as
/// requested.
fn requested(clients: &Clients, endpoint: &Endpoint, planned: &Value) -> Value {
    let mut state = state_of(clients, endpoint, planned);
    for attr in [
        "subnet_ids",
        "security_group_ids",
        "private_dns_enabled",
        "tags",
        "tags_all",
    ] {
        state = with_attr(state, attr, Attrs::of(planned).get(attr).clone());
    }
    state
}

fn with_attr(mut state: Value, name: &str, value: Value) -> Value {
    if let Value::Object(map) = &mut state {
        map.insert(name.into(), value);
    }
    state
}

fn report_wait(id: &str, done: &str, timeout: Duration, e: &WaitError, diags: &mut Diagnostics) {
    let limit = timeouts::format_duration(timeout);
    let (summary, detail) = match e {
        WaitError::AwaitingAcceptance(_) => return,
        WaitError::Failed { state, last_error } => (
            format!("Endpoint {state}"),
            format!(
                "{id} went to state {state}: {}. Terraform marks it tainted; fix the cause and apply again.",
                last_error
                    .as_deref()
                    .filter(|e| !e.is_empty())
                    .unwrap_or("EC2 gave no reason")
            ),
        ),
        WaitError::Unexpected { state } => (
            format!("Endpoint {state}"),
            format!(
                "{id} went to state {state} while Terraform waited for it to be {done}, so waiting longer would \
                 not help. Check the endpoint in the AWS console (was it deleted or changed outside Terraform?), \
                 then apply again."
            ),
        ),
        WaitError::Timeout { state } => (
            format!("Timed out waiting for the endpoint to be {done}"),
            format!(
                "{id} was still {state} after {limit}. Raise the timeout in the timeouts block, or check the endpoint in the AWS console."
            ),
        ),
        WaitError::Stopped { state } => (
            "Interrupted".to_owned(),
            format!(
                "The provider was asked to stop (Terraform interrupted, or a signal) while {id} was {state}. The \
                 endpoint is kept in state; after a create Terraform marks it tainted, so the next apply replaces \
                 it (`terraform untaint` keeps it instead)."
            ),
        ),
        WaitError::Aws(e) => (
            format!("Could not check that the endpoint was {done}"),
            format!("{id}: {e}"),
        ),
    };
    diags.error(summary, detail);
}

/// The state from what EC2 reports, keeping `timeouts` and the form of
/// `tags` from `base` (the plan or the prior state).
fn state_of(clients: &Clients, e: &Endpoint, base: &Value) -> Value {
    let b = Attrs::of(base);
    let (tags, tags_all) = tags::read(clients, &e.tags, CREATE_TOKEN_TAG, b.get("tags"));
    let owner = if e.owner_id.is_empty() {
        clients.account_id.clone().unwrap_or_default()
    } else {
        e.owner_id.clone()
    };
    ObjectBuilder::new()
        .set("id", string(&e.id))
        .set(
            "arn",
            string(format!(
                "arn:{}:ec2:{}:{owner}:vpc-endpoint/{}",
                clients.partition, clients.region, e.id
            )),
        )
        .set("owner_id", string(&owner))
        .set("service_name", string(&e.service_name))
        .set("vpc_id", string(&e.vpc_id))
        .set("subnet_ids", string_set(e.subnet_ids.iter().cloned()))
        .set(
            "security_group_ids",
            string_set(e.security_group_ids.iter().cloned()),
        )
        .set("private_dns_enabled", Value::Bool(e.private_dns_enabled))
        .set("state", string(&e.state))
        .set(
            "network_interface_ids",
            string_list(e.network_interface_ids.iter().cloned()),
        )
        .set(
            "dns_entries",
            Value::List(
                e.dns_entries
                    .iter()
                    .map(|d| {
                        ObjectBuilder::new()
                            .set("dns_name", string(&d.dns_name))
                            .set("hosted_zone_id", string(&d.hosted_zone_id))
                            .build()
                    })
                    .collect(),
            ),
        )
        .set("tags", tags)
        .set("tags_all", tags_all)
        .set("timeouts", b.get("timeouts").clone())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::moves::testing::{assert_fits, edited, source};
    use serde_json::Value as Json;

    /// Captured from hashicorp/aws 5.100.0 against the EC2 emulator
    /// (`resources[].instances[].attributes` of terraform.tfstate).
    const INTERFACE: &str = include_str!("testdata/aws_vpc_endpoint_interface.json");
    const GATEWAY: &str = include_str!("testdata/aws_vpc_endpoint_gateway.json");

    fn moved(json: &str) -> (Option<Value>, Diagnostics) {
        let mut diags = Diagnostics::new();
        let state = from_aws_vpc_endpoint(&source("aws_vpc_endpoint", json), &mut diags);
        (state, diags)
    }

    #[test]
    fn an_interface_endpoint_of_hashicorp_aws_moves_in() {
        let (state, diags) = moved(INTERFACE);
        assert!(diags.is_empty(), "{diags:?}");
        let state = state.unwrap();
        assert_fits(&state, &EndpointResource.schema());
        let a = Attrs::of(&state);
        assert_eq!(a.str("id"), Some("vpce-656d57023c5bdef64"));
        assert_eq!(
            a.str("arn"),
            Some("arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/vpce-656d57023c5bdef64")
        );
        assert_eq!(a.str("owner_id"), Some("123456789012"));
        assert_eq!(
            a.str("service_name"),
            Some("com.amazonaws.vpce.us-east-1.vpce-svc-45181547")
        );
        assert_eq!(a.str("vpc_id"), Some("vpc-4bf39cdbc4a0f3887"));
        assert_eq!(
            a.get("subnet_ids"),
            &string_set(["subnet-30253cdda27fdc07d", "subnet-30cbf3761ff70045f"])
        );
        assert_eq!(
            a.get("security_group_ids"),
            &string_set(["sg-8eaa593fc105c9afe"])
        );
        assert_eq!(a.bool("private_dns_enabled"), Some(true));
        assert_eq!(a.str("state"), Some("available"));
        assert_eq!(
            a.get("network_interface_ids"),
            &string_list(["eni-0dedd946da1be1c2e", "eni-6940a1b0cbca6447e"])
        );
        let dns = a.elements("dns_entries").unwrap();
        assert_eq!(dns.len(), 1);
        assert_eq!(
            Attrs::of(&dns[0]).str("dns_name"),
            Some("vpce-656d57023c5bdef64-9906b02f.com.amazonaws.vpce.us-east-1.vpce-svc-45181547")
        );
        assert_eq!(
            Attrs::of(&dns[0]).str("hosted_zone_id"),
            Some("82DCF3E5193C6")
        );
        let name_tag = BTreeMap::from([("Name".to_owned(), "db".to_owned())]);
        assert_eq!(a.string_map("tags"), Some(name_tag.clone()));
        assert_eq!(a.string_map("tags_all"), Some(name_tag));
        assert!(a.is_null("timeouts"));
    }

    fn subnet(id: &str, vpc: &str, zone: &str) -> crate::aws::model::Subnet {
        crate::aws::model::Subnet {
            id: id.into(),
            vpc_id: vpc.into(),
            availability_zone: zone.into(),
            cidr_block: String::new(),
        }
    }

    #[test]
    fn a_subnet_of_another_vpc_is_named_once_and_not_counted_in_its_zone() {
        let m = Model {
            vpc_id: "vpc-1".into(),
            ..Model::default()
        };
        let mut diags = Diagnostics::new();
        let subnets = [
            subnet("subnet-a", "vpc-1", "us-east-1a"),
            subnet("subnet-b", "vpc-2", "us-east-1a"),
        ];
        check_subnets(&m, &subnets, None, &mut diags);
        let text = format!("{diags:?}");
        assert!(text.contains("Subnet of another VPC"), "{text}");
        assert!(!text.contains("one availability zone"), "{text}");
    }

    #[test]
    fn private_dns_needs_a_verified_name() {
        let service = |names: &[&str], state: Option<&str>| EndpointService {
            name: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0".into(),
            owner: None,
            availability_zones: vec![],
            availability_zone_ids: vec![],
            base_endpoint_dns_names: vec![],
            private_dns_names: names.iter().map(|n| n.to_string()).collect(),
            acceptance_required: false,
            private_dns_name_state: state.map(str::to_owned),
        };
        assert!(private_dns_unavailable(&service(&["db.example.com"], Some("verified"))).is_none());
        assert!(private_dns_unavailable(&service(&["db.example.com"], None)).is_none());
        let none = private_dns_unavailable(&service(&[], None)).unwrap();
        assert!(none.contains("no private DNS name"), "{none}");
        let pending =
            private_dns_unavailable(&service(&["db.example.com"], Some("pendingVerification")))
                .unwrap();
        assert!(
            pending.contains("pendingVerification, not verified"),
            "{pending}"
        );
    }

    fn found(tags: &[(&str, &str)]) -> Endpoint {
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
    fn an_endpoint_found_at_plan_is_named_with_how_to_adopt_or_delete_it() {
        let e = found(&[(CREATE_TOKEN_TAG, "tf-planetscale-1"), ("stage", "one")]);
        let (summary, detail) = existing_endpoint_text(&e, true, "us-east-1");
        assert_eq!(
            summary,
            "An endpoint to this service already exists in the VPC"
        );
        assert!(
            detail.starts_with(
                "vpce-0123456789abcdef0 (pendingAcceptance) already connects vpc-1 to \
                 com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0. This provider made it"
            ),
            "{detail}"
        );
        assert!(detail.contains("conflicting DNS domain"), "{detail}");
        assert!(
            detail.contains(
                "  import {\n    to = planetscale_privatelink_endpoint.<name>\n    id = \"vpce-0123456789abcdef0\"\n  }\n"
            ),
            "{detail}"
        );
        assert!(
            detail.ends_with(
                "  aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-0123456789abcdef0 --region us-east-1"
            ),
            "{detail}"
        );

        let (summary, detail) = existing_endpoint_text(&found(&[]), false, "eu-west-1");
        assert!(summary.starts_with("Another endpoint"), "{summary}");
        assert!(detail.contains("This provider did not make it"), "{detail}");
        assert!(detail.contains("can be applied"), "{detail}");
        assert!(detail.ends_with("--region eu-west-1"), "{detail}");
    }

    #[test]
    fn the_create_token_tag_is_not_in_state() {
        let e = found(&[(CREATE_TOKEN_TAG, "tf-planetscale-1"), ("stage", "one")]);
        let state = state_of(&Clients::for_tests(), &e, &Value::Null);
        let tags = BTreeMap::from([("stage".to_owned(), "one".to_owned())]);
        assert_eq!(Attrs::of(&state).string_map("tags"), Some(tags.clone()));
        assert_eq!(Attrs::of(&state).string_map("tags_all"), Some(tags));
    }

    #[test]
    fn untagged_endpoints_keep_tags_null() {
        let json = edited(
            INTERFACE,
            &[("tags", Json::Null), ("tags_all", serde_json::json!({}))],
        );
        let (state, diags) = moved(&json);
        assert!(diags.is_empty(), "{diags:?}");
        let state = state.unwrap();
        assert!(Attrs::of(&state).is_null("tags"));
        assert_eq!(Attrs::of(&state).string_map("tags_all"), Some(Tags::new()));
    }

    #[test]
    fn gateway_endpoints_and_endpoints_to_aws_services_are_refused() {
        let (state, diags) = moved(GATEWAY);
        assert!(state.is_none());
        let text = format!("{diags:?}");
        assert!(diags.has_errors(), "{text}");
        assert!(text.contains("Gateway endpoint"), "{text}");
        assert!(text.contains("Remove the moved block"), "{text}");

        let to_ssm = edited(
            INTERFACE,
            &[("service_name", Json::from("com.amazonaws.us-east-1.ssm"))],
        );
        let (state, diags) = moved(&to_ssm);
        assert!(state.is_none());
        let text = format!("{diags:?}");
        assert!(
            text.contains("not to a PrivateLink endpoint service"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn only_aws_vpc_endpoint_of_hashicorp_aws_moves_in() {
        let moves = [
            (moves::AWS_PROVIDER, "aws_vpc_endpoint", true),
            (moves::AWS_PROVIDER, "aws_security_group", false),
            (
                "registry.terraform.io/example/aws",
                "aws_vpc_endpoint",
                false,
            ),
        ];
        for (provider, type_name, accepted) in moves {
            let mut diags = Diagnostics::new();
            let state = EndpointResource
                .move_state(provider, type_name, INTERFACE.as_bytes(), &mut diags)
                .await;
            assert_eq!(state.is_some(), accepted, "{provider} {type_name}");
            assert!(diags.is_empty(), "{diags:?}");
        }
    }
}
