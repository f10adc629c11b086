//! `planetscale_privatelink_endpoint`: the interface VPC endpoint of the
//! PrivateLink procedure, to a database branch's Private Service Name, in
//! the chosen subnets with the chosen security groups and private DNS on,
//! waited for until `available`.
//!
//! Order: model, schema, validate, plan, create, read, update, delete, import,
//! move (from `aws_vpc_endpoint`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::endpoint::{EndpointChanges, NewEndpoint, WaitError};
use crate::aws::model::{Endpoint, Tags};
use crate::framework::diag::Diagnostics;
use crate::framework::model::{Attrs, ObjectBuilder, string, string_list, string_map, string_set};
use crate::framework::path::AttributePath;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::server::{Ctx, PlanChange, Resource};
use crate::framework::timeouts;
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::provider::Clients;
use crate::resources::moves::{self, SourceState};
use crate::resources::validate;

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

/// `com.amazonaws.vpce.<region>.vpce-svc-<8 to 17 hex digits>`; returns the region.
pub fn service_name_region(name: &str) -> Result<&str, String> {
    let fail = || {
        format!(
            "{name:?} is not a PrivateLink service name. It looks like \
             \"com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0\": copy the Private Service Name from the \
             PlanetScale dashboard (database, Settings, Roles, any role of the branch)."
        )
    };
    let rest = name.strip_prefix("com.amazonaws.vpce.").ok_or_else(fail)?;
    let (region, id) = rest.split_once('.').ok_or_else(fail)?;
    let hex = id.strip_prefix("vpce-svc-").ok_or_else(fail)?;
    let hex_ok = (8..=17).contains(&hex.len())
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_ok || !crate::provider::is_region(region) {
        return Err(fail());
    }
    Ok(region)
}

/// Why a service the provider's region does not know cannot be used, and
/// what to do about it.
pub fn service_not_found_detail(name: &str, region: &str) -> String {
    format!(
        "There is no endpoint service {name:?} in {region} that these credentials may use. Copy the Private \
         Service Name again from the PlanetScale dashboard (database, Settings, Roles, any role of the branch), \
         and check that PrivateLink is enabled for the branch and the provider's region is the branch's."
    )
}

/// A service in another region than the provider's, and what to do.
pub fn region_mismatch_detail(service_region: &str, provider_region: &str) -> String {
    format!(
        "The service is in {service_region}, but the provider works in {provider_region}. An endpoint reaches \
         services of its own region only: configure the provider (region) for the database branch's region, \
         {service_region}."
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
        plan_tags_all(clients, change);

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
        // Checks that call AWS run only for values that change.
        let creating = change.prior.is_null();
        let subnets_change = creating || c.get("subnet_ids") != p.get("subnet_ids");
        let dns_change = creating || c.get("private_dns_enabled") != p.get("private_dns_enabled");
        let service_change = creating || c.get("service_name") != p.get("service_name");
        if !(change.changing && (subnets_change || dns_change || service_change)) {
            return;
        }
        let planned = Model::from_value(&change.planned);
        let known = |a: &str| c.get(a).is_fully_known() && !c.is_null(a);
        if known("service_name") && known("subnet_ids") && known("vpc_id") {
            preflight(
                clients,
                &planned,
                service_change,
                subnets_change,
                dns_change && planned.private_dns_enabled,
                diags,
            )
            .await;
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
        let m = Model::from_value(planned);
        preflight(clients, &m, true, true, m.private_dns_enabled, diags).await;
        if diags.has_errors() {
            return None;
        }
        let subnets: Vec<String> = m.subnet_ids.iter().cloned().collect();
        let groups: Vec<String> = m.security_group_ids.iter().cloned().collect();
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
            private_dns_enabled: m.private_dns_enabled,
            tags: &m.tags_all,
            client_token: &token,
        };
        let created = match clients.ec2.create_endpoint(&new).await {
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
        match clients
            .ec2
            .wait_endpoint_available(&created.id, timeout, &ctx.stop)
            .await
        {
            Ok(endpoint) => Some(state_of(clients, &endpoint, planned)),
            Err(e) => {
                report_wait(&created.id, "created", timeout, &e, diags);
                let latest = clients
                    .ec2
                    .find_endpoint(&created.id)
                    .await
                    .unwrap_or(created);
                Some(state_of(clients, &latest, planned))
            }
        }
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
        let old = Model::from_value(prior);
        let new = Model::from_value(planned);
        let Some(id) = Attrs::of(prior).string("id") else {
            diags.error(
                "Missing id",
                "The prior state has no id. This is a bug in the provider; please report it.",
            );
            return prior.clone();
        };
        let subnets_change = old.subnet_ids != new.subnet_ids;
        let dns_change = old.private_dns_enabled != new.private_dns_enabled;
        if subnets_change || dns_change {
            preflight(
                clients,
                &new,
                false,
                subnets_change,
                dns_change && new.private_dns_enabled,
                diags,
            )
            .await;
            if diags.has_errors() {
                return prior.clone();
            }
        }
        let changes = EndpointChanges {
            add_subnet_ids: new
                .subnet_ids
                .difference(&old.subnet_ids)
                .cloned()
                .collect(),
            remove_subnet_ids: old
                .subnet_ids
                .difference(&new.subnet_ids)
                .cloned()
                .collect(),
            add_security_group_ids: new
                .security_group_ids
                .difference(&old.security_group_ids)
                .cloned()
                .collect(),
            remove_security_group_ids: old
                .security_group_ids
                .difference(&new.security_group_ids)
                .cloned()
                .collect(),
            private_dns_enabled: dns_change.then_some(new.private_dns_enabled),
        };
        let timeout = timeouts::get(planned, "update", DEFAULT_TIMEOUT);
        let result: Result<Option<Endpoint>, String> = async {
            if !changes.is_empty() {
                clients
                    .ec2
                    .modify_endpoint(&id, &changes)
                    .await
                    .map_err(|e| format!("ModifyVpcEndpoint: {e}"))?;
            }
            if old.tags_all != new.tags_all {
                clients
                    .ec2
                    .update_tags(&id, &old.tags_all, &new.tags_all)
                    .await
                    .map_err(|e| format!("tags: {e}"))?;
            }
            if changes.is_empty() {
                return Ok(None);
            }
            match clients
                .ec2
                .wait_endpoint_available(&id, timeout, &ctx.stop)
                .await
            {
                Ok(e) => Ok(Some(e)),
                Err(e) => {
                    report_wait(&id, "updated", timeout, &e, diags);
                    Ok(None)
                }
            }
        }
        .await;
        if let Err(message) = result {
            diags.error(
                "Could not update the VPC endpoint",
                format!("{id}: {message}"),
            );
        }
        // The state is what EC2 now says, so a partial update shows as a change.
        match clients.ec2.find_endpoint(&id).await {
            Ok(endpoint) if !diags.has_errors() => {
                let mut state = state_of(clients, &endpoint, planned);
                // EC2 applies modifications asynchronously: where it has not
                // caught up yet, the requested values are what this apply did.
                if let Value::Object(map) = &mut state {
                    for attr in ["subnet_ids", "security_group_ids", "private_dns_enabled"] {
                        map.insert(attr.into(), Attrs::of(planned).get(attr).clone());
                    }
                }
                state
            }
            Ok(endpoint) => state_of(clients, &endpoint, prior),
            Err(_) => prior.clone(),
        }
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

/// `tags_all` = default_tags merged with tags, planned like the AWS provider.
pub fn plan_tags_all(clients: &Clients, change: &mut PlanChange<'_>) {
    let c = Attrs::of(change.config);
    let tags_all = if c.get("tags").is_fully_known() {
        string_map(&validate::merge_tags(
            &clients.default_tags,
            &c.string_map("tags").unwrap_or_default(),
        ))
    } else {
        Value::Unknown(Default::default())
    };
    let prior = Attrs::of(change.prior).get("tags_all").clone();
    if let Value::Object(map) = &mut change.planned
        && tags_all != prior
    {
        map.insert("tags_all".into(), tags_all);
        if !change.prior.is_null() {
            change.changing = true;
        }
    }
}

/// The checks of the console's "Verify service" and of the guide's advice,
/// against AWS: the service exists and offers the subnets' zones, the
/// subnets are in the VPC with at most one per zone (two or more zones
/// recommended), and the VPC resolves private DNS names.
async fn preflight(
    clients: &Clients,
    m: &Model,
    service: bool,
    subnets: bool,
    dns: bool,
    diags: &mut Diagnostics,
) {
    let ec2 = &clients.ec2;
    let subnet_ids: Vec<String> = m.subnet_ids.iter().cloned().collect();
    let (found_service, found_subnets, found_dns) = tokio::join!(
        async {
            if service || subnets {
                Some(ec2.find_endpoint_service(&m.service_name).await)
            } else {
                None
            }
        },
        async {
            if subnets {
                Some(ec2.find_subnets(&subnet_ids).await)
            } else {
                None
            }
        },
        async {
            if dns {
                Some(ec2.vpc_dns(&m.vpc_id).await)
            } else {
                None
            }
        },
    );
    let mut service_zones = None;
    match found_service {
        Some(Ok(s)) => service_zones = Some(s.availability_zones),
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
    match found_subnets {
        Some(Ok(found)) => check_subnets(m, &found, service_zones.as_deref(), diags),
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
    match found_dns {
        Some(Ok(d)) if !(d.support && d.hostnames) => {
            let off = d.settings_off();
            diags.attr_error(
                root("private_dns_enabled"),
                "The VPC cannot resolve private DNS names",
                format!(
                    "Private DNS needs DNS resolution and DNS hostnames on in {}, and {} off. Turn them on (in \
                     hashicorp/aws: enable_dns_support and enable_dns_hostnames on aws_vpc), or set \
                     private_dns_enabled = false and connect through the endpoint's own DNS names.",
                    m.vpc_id,
                    off.join(" and ")
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

fn report_wait(id: &str, done: &str, timeout: Duration, e: &WaitError, diags: &mut Diagnostics) {
    let limit = timeouts::format_duration(timeout);
    let (summary, detail) = match e {
        WaitError::AwaitingAcceptance => (
            "Endpoint awaiting acceptance".to_owned(),
            format!(
                "{id} was still pendingAcceptance after {limit}: PlanetScale has not accepted the connection yet. \
                 Check that PrivateLink is enabled for the branch and that this AWS account is allowed to connect, \
                 or contact PlanetScale support with the endpoint id. Terraform marks the endpoint tainted; the \
                 next apply replaces it (raise timeouts to wait longer)."
            ),
        ),
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
        WaitError::Timeout { state } => (
            format!("Timed out waiting for the endpoint to be {done}"),
            format!(
                "{id} was still {state} after {limit}. Raise the timeout in the timeouts block, or check the endpoint in the AWS console."
            ),
        ),
        WaitError::Stopped { state } => (
            "Interrupted".to_owned(),
            format!(
                "Terraform was interrupted while {id} was {state}; it is kept in state and the next apply continues."
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
    let tags_all: Tags = e
        .tags
        .iter()
        .filter(|(k, _)| !clients.ignore_tags.ignores(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let own: Tags = tags_all
        .iter()
        .filter(|(k, v)| clients.default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tags = if own.is_empty() && b.is_null("tags") {
        Value::Null
    } else {
        string_map(&own)
    };
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
        .set("tags_all", string_map(&tags_all))
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

    #[test]
    fn service_names_carry_their_region() {
        assert_eq!(
            service_name_region("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"),
            Ok("us-east-1")
        );
        assert_eq!(
            service_name_region("com.amazonaws.vpce.eu-west-2.vpce-svc-a4ced6ef"),
            Ok("eu-west-2")
        );
        for bad in [
            "",
            "vpce-svc-0123456789abcdef0",
            "com.amazonaws.us-east-1.s3",
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123",
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789ABCDEF0",
            "com.amazonaws.vpce.useast1.vpce-svc-0123456789abcdef0",
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef01234",
        ] {
            let err = service_name_region(bad).unwrap_err();
            assert!(err.contains("PlanetScale dashboard"), "{bad}: {err}");
        }
    }
}
