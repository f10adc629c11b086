//! `planetscale_privatelink_dns_zone`: the Private Host in VPCs other than
//! the endpoint's. A Route 53 private hosted zone named after the Private
//! Host, with an alias record to the endpoint's regional DNS name,
//! associated with every VPC that must resolve it: AWS's documented way to
//! share one interface endpoint across VPCs (hub and spoke).
//!
//! The zone's associations are exclusive: `vpc_ids` (VPCs in the provider's
//! region) and `vpc` blocks (VPCs in other regions) are the whole list, so
//! an association made out of band shows as a change and apply removes it;
//! only VPCs the zone's account authorized for another account to associate
//! (`dns_zone_authorization`) are left alone.
//!
//! Order: model, schema, validate, plan, create, read, update, delete,
//! import, then the checks against AWS and the state.

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::model::{DnsEntry, Endpoint, HostedZone, Tags, ZoneVpc};
use crate::aws::route53::{AliasFamilies, DeletedZone, ZoneOnVpc};
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::identity::IdentitySchema;
use crate::framework::model::Attrs;
use crate::framework::schema::declare::{computed, optional, required};
use crate::framework::schema::{Block, NestedBlock, Schema};
use crate::framework::server::{Ctx, Listed, PlanChange, Resource};
use crate::framework::timeouts;
use crate::framework::value::Value;
use crate::model;
use crate::resources::tags::{self, OwnTags};
use crate::resources::{missing_id, root};
use crate::validate;

pub const TYPE_NAME: &str = "planetscale_privatelink_dns_zone";

// ---------------------------------------------------------------- model --

model! {
    /// The resource's arguments and what Route 53 says of the zone.
    struct Model, attributes mod attr {
        id: String => computed().use_state_for_unknown().describe("The hosted zone's id, as `zone_id`."),
        private_host: String => required().requires_replace()
            .check(|_, v, diags| {
                if let Some(host) = v.as_str() {
                    check_private_host(host, diags);
                }
            })
            .describe(
                "The Private Host the zone answers for, as the PlanetScale dashboard shows it (or \
                 `planetscale_privatelink_service`'s `private_host`). The zone is named after it and its alias \
                 records answer for it: `A` for an endpoint whose DNS records are IPv4, `AAAA` for IPv6, both for \
                 dual stack. A record missing (deleted outside Terraform, or of a family the endpoint's records \
                 took on since) or pointing elsewhere shows as a change to `endpoint_id`, and apply points it \
                 again. Changing it makes a new zone.",
            ),
        /// Null after an import: the first apply points the alias at the
        /// configured endpoint.
        endpoint_id: Option<String> => required()
            .each_string("Invalid VPC endpoint id", |s| validate::ec2_id(s, "vpce", "VPC endpoint"))
            .describe(
                "The interface VPC endpoint the Private Host leads to (`vpce-...`), such as \
                 `planetscale_privatelink_endpoint.hub.id`. The alias record points at its regional DNS name; \
                 a change points it at the new endpoint in place. When the endpoint's VPC is in `vpc_ids`, its \
                 `private_dns_enabled` must be `false`: AWS refuses a zone for a name the endpoint's private \
                 DNS already answers in that VPC.",
            ),
        vpc_ids: BTreeSet<String> => required()
            .check(|path, v, diags| {
                if v.as_elements().is_some_and(<[Value]>::is_empty) {
                    diags.attr_error(
                        path,
                        "No VPC",
                        "A private hosted zone is associated with at least one VPC. List the VPCs whose hosts must \
                         resolve the Private Host, such as the endpoint's VPC (with its private DNS off) and the spokes.",
                    );
                }
            })
            .each_string("Invalid VPC id", |s| validate::ec2_id(s, "vpc", "VPC"))
            .describe(
                "The VPCs of the provider's region whose hosts resolve the Private Host through this zone \
                 (`vpc-...`), at least one. Each must exist and have DNS resolution and DNS hostnames on. The \
                 zone is created with the first (in sorted order) and associated with the others.",
            ),
        /// The `vpc` blocks, read with [`vpc_blocks`].
        vpc: Value,
        zone_id: String => computed().use_state_for_unknown().describe("The Route 53 hosted zone's id (`Z...`)."),
        fqdn: String => computed().use_state_for_unknown().describe(
            "The name the zone answers for: `private_host` in lower case.",
        ),
        force_destroy: bool = false => optional().describe(
            "Whether destroying the zone deletes records in it that this resource did not write. \
             Without it, a destroy that finds such records deletes nothing and names them: they may be \
             another team's, in a zone imported by mistake. Set it, and apply, before the destroy that \
             should take them.",
        ),
        tags: Option<OwnTags> => optional().check(validate::tag_map).describe(
            "Tags for the hosted zone, at most 10 with the provider's `default_tags` (Route 53's limit). \
             Changes in place.",
        ),
        tags_all: Tags => computed().describe(
            "All tags of the hosted zone: the provider's `default_tags` merged with `tags`.",
        ),
        timeouts: Value,
    }
}

/// Every operation waits for its Route 53 changes to be `INSYNC`; like
/// hashicorp/aws's Route 53 resources, each may take 30 minutes.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The operations the `timeouts` block offers, with their defaults.
const TIMEOUTS: &[(&str, Duration)] = &[
    ("create", DEFAULT_TIMEOUT),
    ("update", DEFAULT_TIMEOUT),
    ("delete", DEFAULT_TIMEOUT),
];

model! {
    /// One `vpc` block: a VPC in another region.
    struct VpcBlock, attributes mod vpc_attr {
        id: String => required().describe("The VPC's id (`vpc-...`)."),
        region: String => required().describe(
            "The VPC's region, such as `us-west-2`: another region than the provider's (VPCs of the \
             provider's region go in `vpc_ids`).",
        ),
    }
}

/// The zone's name: a host name (an address names no zone), and a warning
/// when it has fewer than three labels, since a private zone answers for
/// every name under it in each VPC it is associated with (a zone for
/// `example.com` would take `www.example.com` from those VPCs), or when it
/// is not under PlanetScale's domain (a zone for `s3.amazonaws.com` would
/// take S3 from them).
fn check_private_host(host: &str, diags: &mut Diagnostics) {
    let path = root(attr::private_host);
    let bare = host.strip_suffix('.').unwrap_or(host);
    if bare.parse::<std::net::IpAddr>().is_ok()
        || bare
            .trim_matches(['[', ']'])
            .parse::<std::net::Ipv6Addr>()
            .is_ok()
    {
        diags.attr_error(
            path,
            "Invalid private host",
            format!(
                "{host:?} is an IP address; a hosted zone is named after a host name. Give the Private \
                 Host as the PlanetScale dashboard shows it."
            ),
        );
        return;
    }
    if let Err(why) = crate::dns::check_host_name(host) {
        diags.attr_error(
            path,
            "Invalid private host",
            format!("{why} Give the Private Host as the dashboard shows it, a bare host name."),
        );
        return;
    }
    let labels = bare.split('.').count();
    if labels < 3 {
        diags.attr_warning(
            path,
            "A zone for a whole domain",
            format!(
                "{host:?} has {labels} label{}: the private zone answers for it and every name under it \
                 in each VPC of vpc_ids, so hosts there would no longer reach anything else in that \
                 domain. A PlanetScale Private Host has more labels (such as \
                 <id>.private-pg.psdb.cloud): check that private_host is the branch's Private Host.",
                if labels == 1 { "" } else { "s" }
            ),
        );
    } else if !is_planetscale_host(bare) {
        diags.attr_warning(
            path,
            "Not a PlanetScale host name",
            format!(
                "{host:?} is not under {PLANETSCALE_DOMAIN}, where PlanetScale's Private Hosts are (such as \
                 <id>.private-pg.{PLANETSCALE_DOMAIN}). The private zone takes this name from every VPC of vpc_ids: \
                 their hosts resolve it to the endpoint, not to whatever serves it elsewhere. Check that \
                 private_host is the branch's Private Host, as the dashboard or planetscale_privatelink_service \
                 gives it."
            ),
        );
    }
}

/// The domain PlanetScale's hosts are under.
const PLANETSCALE_DOMAIN: &str = "psdb.cloud";

/// Whether `host` is a name under PlanetScale's domain.
fn is_planetscale_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.ends_with(&format!(".{PLANETSCALE_DOMAIN}"))
}

/// The `vpc` blocks of a value, as VPCs with their regions.
fn vpc_blocks(value: &Value) -> BTreeSet<ZoneVpc> {
    value
        .as_elements()
        .unwrap_or_default()
        .iter()
        .map(|v| {
            let b = VpcBlock::from_value(v);
            ZoneVpc {
                id: b.id,
                region: b.region,
            }
        })
        .collect()
}

/// The `vpc` blocks' value for these VPCs.
fn vpc_blocks_value(vpcs: &BTreeSet<ZoneVpc>) -> Value {
    Value::set(
        vpcs.iter()
            .map(|v| {
                VpcBlock {
                    id: v.id.clone(),
                    region: v.region.clone(),
                }
                .to_value()
            })
            .collect(),
    )
}

impl Model {
    /// Every VPC the zone must be associated with: `vpc_ids` in `region`,
    /// then the `vpc` blocks.
    fn wanted(&self, region: &str) -> Vec<ZoneVpc> {
        let mut all: Vec<ZoneVpc> = self
            .vpc_ids
            .iter()
            .map(|id| ZoneVpc {
                id: id.clone(),
                region: region.to_owned(),
            })
            .collect();
        all.extend(vpc_blocks(&self.vpc));
        all
    }
}

/// The fully qualified name as the state shows it: lower case, without the
/// final dot.
fn fqdn(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

pub struct DnsZoneResource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl Resource<Clients> for DnsZoneResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn timeouts(&self) -> &'static [(&'static str, Duration)] {
        TIMEOUTS
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "A Route 53 private hosted zone for the Private Host, with an alias record to a PrivateLink \
                 endpoint's regional DNS name, associated with the VPCs that must resolve it: AWS's documented \
                 way to share one interface endpoint across VPCs (hub and spoke, connected by peering or a \
                 transit gateway). The endpoint's own private DNS answers only in its own VPC; this zone answers \
                 in every VPC listed. The associations are exclusive: one made out of band shows as a change, \
                 and apply removes it. VPCs of other AWS accounts are associated from their own account once \
                 `planetscale_privatelink_dns_zone_authorization` lets them; while that authorization exists, \
                 the zone leaves their association alone.",
            )
            .attributes(Model::attributes())
            .block(NestedBlock::set(
                attr::vpc,
                Block::new(
                    "A VPC in another region of the same account whose hosts resolve the Private Host through \
                     this zone (they reach the endpoint over inter-region peering or a transit gateway). These \
                     are not checked at plan time: the provider reads EC2 in its own region only.",
                )
                .attributes(VpcBlock::attributes()),
            ))
            .block(timeouts::block(TIMEOUTS)),
        )
    }

    // ------------------------------------------------------------ validate --

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let c = Attrs::of(config);
        let listed: BTreeSet<String> = c
            .strings(attr::vpc_ids)
            .unwrap_or_default()
            .into_iter()
            .collect();
        for block in c.elements(attr::vpc).unwrap_or_default() {
            let b = Attrs::of(block);
            let path = root(attr::vpc);
            if let Some(id) = b.str(vpc_attr::id) {
                if let Err(why) = validate::ec2_id(id, "vpc", "VPC") {
                    diags.attr_error(path.attr(vpc_attr::id), "Invalid VPC id", why);
                } else if listed.contains(id) {
                    diags.attr_error(
                        path.attr(vpc_attr::id),
                        "VPC listed twice",
                        format!(
                            "{id} is in vpc_ids and in a vpc block. A VPC of the provider's region goes in vpc_ids \
                             only; vpc blocks are for VPCs in other regions."
                        ),
                    );
                }
            }
            if let Some(region) = b.str(vpc_attr::region) {
                validate::region(
                    path.attr(vpc_attr::region),
                    region,
                    "Invalid AWS region",
                    ". Write the VPC's region like \"us-west-2\".",
                    diags,
                );
            }
        }
    }

    // ---------------------------------------------------------------- plan --

    /// The name the zone answers for; and, for what changes, the checks
    /// against AWS: each new VPC exists with DNS on, and the endpoint
    /// exists without private DNS in a VPC the zone covers.
    async fn plan(&self, ctx: &Ctx<Clients>, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        let clients = &ctx.data;
        tags::plan(clients, change, tags::ROUTE53_ZONE, 0, diags);
        let planned = Attrs::of(&change.planned);
        if let Some(host) = planned.str(attr::private_host)
            && planned.is_unknown(attr::fqdn)
        {
            let name = fqdn(host);
            change.set_planned(attr::fqdn, Value::String(name));
        }
        let planned = Attrs::of(&change.planned);
        let c = Attrs::of(change.config);
        for block in c.elements(attr::vpc).unwrap_or_default() {
            let b = Attrs::of(block);
            if b.str(vpc_attr::region) == Some(clients.region.as_str()) {
                diags.attr_error(
                    root(attr::vpc).attr(vpc_attr::region),
                    "VPC block in the provider's region",
                    format!(
                        "{} is in {}, the provider's region. Put it in vpc_ids; vpc blocks are for VPCs in other \
                         regions.",
                        b.str(vpc_attr::id).unwrap_or("The VPC"),
                        clients.region
                    ),
                );
            }
        }
        if !change.changing || diags.has_errors() {
            return;
        }
        let p = Attrs::of(change.prior);
        let creating = change.prior.is_null();
        let known = |a: &str| planned.get(a).is_fully_known() && !planned.is_null(a);
        if !known(attr::vpc_ids) {
            return;
        }
        let m = Model::from_value(&change.planned);
        let before: BTreeSet<String> = p
            .strings(attr::vpc_ids)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let added: Vec<String> = m.vpc_ids.difference(&before).cloned().collect();
        // The three checks read different things: they go out together, and
        // their diagnostics come in this order.
        let (mut vpc_diags, mut zone_diags, mut endpoint_diags) =
            (Diagnostics::new(), Diagnostics::new(), Diagnostics::new());
        let zones = async {
            if !planned.get(attr::vpc).is_fully_known() {
                return;
            }
            let prior =
                (!creating).then(|| Model::from_value(change.prior).wanted(&clients.region));
            let new: Vec<ZoneVpc> = m
                .wanted(&clients.region)
                .into_iter()
                .filter(|v| prior.as_ref().is_none_or(|p| !p.contains(v)))
                .collect();
            let own = (!creating).then(|| p.str(attr::zone_id)).flatten();
            check_existing_zones(
                clients,
                &m.private_host,
                &new,
                own,
                m.endpoint_id.as_deref(),
                &mut zone_diags,
            )
            .await;
        };
        let endpoint_changed =
            creating || planned.get(attr::endpoint_id) != p.get(attr::endpoint_id);
        let endpoint = async {
            if known(attr::endpoint_id) && (endpoint_changed || !added.is_empty()) {
                check_endpoint(clients, &m, true, &mut endpoint_diags).await;
            }
        };
        // Boxed, as every set of AWS calls joined here: the SDK's futures are
        // large, and several side by side in one future overflow a worker's
        // stack in a debug build.
        tokio::join!(
            Box::pin(check_vpcs(clients, &added, &mut vpc_diags)),
            Box::pin(zones),
            Box::pin(endpoint)
        );
        diags.extend(vpc_diags);
        diags.extend(zone_diags);
        diags.extend(endpoint_diags);
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
        let vpc_ids: Vec<String> = m.vpc_ids.iter().cloned().collect();
        let endpoint = check_at_apply(clients, &vpc_ids, &m, true, diags).await;
        if diags.has_errors() {
            return None;
        }
        let endpoint = endpoint?;
        let wanted = m.wanted(&clients.region);
        let Some(first) = wanted.first() else {
            diags.attr_error(
                root(attr::vpc_ids),
                "No VPC",
                "List at least one VPC in vpc_ids.",
            );
            return None;
        };
        // A retry of the call after a lost answer sends the same reference,
        // and finds the zone the first attempt made.
        let caller_reference = super::client_token();
        let comment = format!(
            "The PlanetScale Private Host, through {}; managed by Terraform",
            endpoint.id
        );
        let zone = match clients
            .route53
            .create_private_zone(&m.private_host, first, &caller_reference, &comment)
            .await
        {
            Ok(zone) => zone,
            Err(e) => {
                diags.attr_error(
                    root(attr::private_host),
                    "Could not create the private hosted zone",
                    format!("CreateHostedZone {} in {}: {e}", m.private_host, first.id),
                );
                return None;
            }
        };
        tracing::info!(zone_id = %zone.id, name = %zone.name, "private hosted zone created");
        // From here on the zone exists: the state always carries its id.
        let mut state = Model {
            id: zone.id.clone(),
            zone_id: zone.id.clone(),
            fqdn: fqdn(&m.private_host),
            ..m.clone()
        };
        // What the calls that succeed make of the zone.
        let mut known = zone.clone();
        if let Err(e) = point_alias(clients, &zone.id, &m.private_host, &endpoint, true).await {
            diags.attr_error(
                root(attr::endpoint_id),
                "Could not write the alias record",
                e,
            );
        } else {
            // One after the other: each is a change of the zone.
            for vpc in wanted.iter().skip(1) {
                if let Err(e) = clients.route53.associate_vpc(&zone.id, vpc).await {
                    diags.attr_error(
                        root(attr::vpc_ids),
                        "Could not associate a VPC with the zone",
                        format!(
                            "AssociateVPCWithHostedZone {} ({}) with {}: {e}",
                            vpc.id, vpc.region, zone.id
                        ),
                    );
                    break;
                }
                known.vpcs.push(vpc.clone());
            }
        }
        // The tags go out while the changes propagate, not beside a write
        // to the zone (Route 53 may refuse a request for a zone while it is
        // still processing another: PriorRequestNotComplete,
        // API_ChangeTagsForResource).
        let wanted_tags = tags::for_aws(clients, &m.tags_all);
        let tagged = async {
            if wanted_tags.is_empty() {
                return Ok(());
            }
            clients
                .route53
                .change_zone_tags(&zone.id, &Tags::new(), &wanted_tags)
                .await
        };
        let mut wait_diags = Diagnostics::new();
        let (tagged, ()) = tokio::join!(
            Box::pin(tagged),
            Box::pin(wait_insync(clients, &zone.id, &mut wait_diags))
        );
        if let Err(e) = tagged {
            diags.attr_error(
                root(attr::tags),
                "Could not tag the private hosted zone",
                format!("ChangeTagsForResource {}: {e}", zone.id),
            );
            state.tags = None;
            state.tags_all = Tags::new();
        }
        diags.extend(wait_diags);
        // What the zone holds now, whatever went wrong above; without an
        // answer, what the calls that succeeded made it.
        let none = BTreeSet::new();
        match clients.route53.find_zone(&zone.id).await {
            Ok(found) => state_from_aws(&mut state, &found, &clients.region, &none),
            Err(_) => state_from_aws(&mut state, &known, &clients.region, &none),
        }
        Some(state.to_value())
    }

    // ---------------------------------------------------------------- read --

    /// The zone's associations as Route 53 has them; a zone gone removes
    /// the resource.
    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let clients = &ctx.data;
        let mut s = Model::from_value(state);
        if s.id.is_empty() {
            return None;
        }
        let read = clients.route53.find_zone(&s.id).await;
        let zone = match super::refreshed(read, "private hosted zone", &s.id, state, diags) {
            super::Refreshed::Found(zone) => zone,
            super::Refreshed::Answer(answer) => return answer,
        };
        if !zone.private {
            diags.error(
                "Not a private hosted zone",
                format!(
                    "{} ({}) is a public hosted zone. This resource manages private zones only: import a private \
                     zone, or let this resource create one.",
                    zone.id, zone.name
                ),
            );
            return None;
        }
        if s.private_host.is_empty() || fqdn(&s.private_host) != fqdn(&zone.name) {
            s.private_host = fqdn(&zone.name);
        }
        let listed: Vec<ZoneVpc> = s.wanted(&clients.region);
        // The authorizations, the tags and the alias record are separate
        // reads: they go out together.
        let mut elsewhere_diags = Diagnostics::new();
        let (elsewhere, found_tags, alias_current) = tokio::join!(
            Box::pin(managed_elsewhere(
                clients,
                &zone.id,
                &listed,
                &zone.vpcs,
                &mut elsewhere_diags
            )),
            Box::pin(clients.route53.zone_tags(&zone.id)),
            Box::pin(alias_is_current(clients, &zone.id, &s)),
        );
        diags.extend(elsewhere_diags);
        let elsewhere = match elsewhere {
            Ok(ids) => ids,
            Err(e) => {
                diags.error(
                    "Could not list the zone's VPC association authorizations",
                    format!("{}: {e}", zone.id),
                );
                return Some(state.clone());
            }
        };
        state_from_aws(&mut s, &zone, &clients.region, &elsewhere);
        match found_tags {
            Ok(found) => (s.tags, s.tags_all) = tags::read(clients, &found, "", s.tags.as_ref()),
            // A role without the permission, for a zone whose tags are not
            // managed: nothing to compare them with.
            Err(AwsError::AccessDenied { .. }) if s.tags.is_none() && s.tags_all.is_empty() => {}
            Err(e) => {
                diags.error(
                    "Could not read the zone's tags",
                    format!("ListTagsForResource {}: {e}", zone.id),
                );
                return Some(state.clone());
            }
        }
        if !alias_current {
            // As after an import: the plan shows endpoint_id to be set, and
            // the apply points the alias again.
            tracing::info!(zone_id = %zone.id, "the zone's alias record is missing or points elsewhere");
            s.endpoint_id = None;
        }
        Some(s.to_value())
    }

    // -------------------------------------------------------------- update --

    /// Points the alias at a new endpoint, associates the VPCs added, then
    /// disassociates the ones removed (a zone keeps at least one VPC, so
    /// adds go first).
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
        if old.id.is_empty() {
            missing_id(diags);
            return prior.clone();
        }
        let zone_id = old.id.clone();
        let before: BTreeSet<String> = old.vpc_ids.clone();
        let added: Vec<String> = new.vpc_ids.difference(&before).cloned().collect();
        let endpoint_changed = new.endpoint_id != old.endpoint_id;
        let endpoint = check_at_apply(
            clients,
            &added,
            &new,
            endpoint_changed || !added.is_empty(),
            diags,
        )
        .await;
        if diags.has_errors() {
            return prior.clone();
        }
        let mut state = Model {
            id: zone_id.clone(),
            zone_id: zone_id.clone(),
            ..new.clone()
        };
        // The alias first, then the tags: not beside a write to the zone.
        if endpoint_changed
            && let Some(endpoint) = &endpoint
            && let Err(e) = point_alias(clients, &zone_id, &new.private_host, endpoint, false).await
        {
            diags.attr_error(
                root(attr::endpoint_id),
                "Could not write the alias record",
                e,
            );
            state.endpoint_id = old.endpoint_id.clone();
        }
        if let Some((from, to)) = tags::change(clients, &old.tags_all, &new.tags_all)
            && let Err(e) = clients.route53.change_zone_tags(&zone_id, &from, &to).await
        {
            diags.attr_error(
                root(attr::tags),
                "Could not tag the private hosted zone",
                format!("ChangeTagsForResource {zone_id}: {e}"),
            );
            state.tags = old.tags.clone();
            state.tags_all = old.tags_all.clone();
        }
        // The associations as the refresh read them are the prior state's:
        // when the configuration lists the same VPCs, there is nothing to
        // associate or take away (an update changes what changed, as
        // hashicorp/aws's does), and no change of the zone to wait for.
        let (was, wanted) = (old.wanted(&clients.region), new.wanted(&clients.region));
        let same_vpcs = was.len() == wanted.len() && wanted.iter().all(|v| was.contains(v));
        if same_vpcs && !endpoint_changed {
            return state.to_value();
        }
        let current = match clients.route53.find_zone(&zone_id).await {
            Ok(zone) => zone,
            Err(e) => {
                diags.error(
                    "Could not read the private hosted zone",
                    format!("{zone_id}: {e}"),
                );
                return prior.clone();
            }
        };
        let elsewhere =
            match managed_elsewhere(clients, &zone_id, &wanted, &current.vpcs, diags).await {
                Ok(ids) => ids,
                Err(e) => {
                    diags.error(
                        "Could not list the zone's VPC association authorizations",
                        format!("{zone_id}: {e}"),
                    );
                    return prior.clone();
                }
            };
        let has = |list: &[ZoneVpc], vpc: &ZoneVpc| list.iter().any(|v| v.id == vpc.id);
        let mut failed = false;
        // What the calls that succeed make of the zone.
        let mut known = current.clone();
        for vpc in wanted.iter().filter(|v| !has(&current.vpcs, v)) {
            if let Err(e) = clients.route53.associate_vpc(&zone_id, vpc).await {
                diags.attr_error(
                    root(attr::vpc_ids),
                    "Could not associate a VPC with the zone",
                    format!(
                        "AssociateVPCWithHostedZone {} ({}) with {zone_id}: {e}",
                        vpc.id, vpc.region
                    ),
                );
                failed = true;
                break;
            }
            known.vpcs.push(vpc.clone());
        }
        if !failed {
            let unwanted = current
                .vpcs
                .iter()
                .filter(|v| !has(&wanted, v) && !elsewhere.contains(&v.id));
            for vpc in unwanted {
                if let Err(e) = clients.route53.disassociate_vpc(&zone_id, vpc).await {
                    diags.attr_error(
                        root(attr::vpc_ids),
                        "Could not disassociate a VPC from the zone",
                        format!(
                            "DisassociateVPCFromHostedZone {} ({}) from {zone_id}: {e}",
                            vpc.id, vpc.region
                        ),
                    );
                    break;
                }
                known.vpcs.retain(|v| v.id != vpc.id);
            }
        }
        wait_insync(clients, &zone_id, diags).await;
        match clients.route53.find_zone(&zone_id).await {
            Ok(found) => state_from_aws(&mut state, &found, &clients.region, &elsewhere),
            Err(_) => state_from_aws(&mut state, &known, &clients.region, &elsewhere),
        }
        state.to_value()
    }

    // -------------------------------------------------------------- delete --

    async fn delete(&self, ctx: &Ctx<Clients>, prior: &Value, diags: &mut Diagnostics) {
        let s = Model::from_value(prior);
        if s.id.is_empty() {
            return;
        }
        match ctx.data.route53.delete_zone(&s.id, s.force_destroy).await {
            Ok(DeletedZone::Deleted) => tracing::info!(zone_id = %s.id, "private hosted zone deleted"),
            Ok(DeletedZone::NotEmpty(records)) => diags.attr_error(
                root(attr::force_destroy),
                "The zone holds records this resource did not write",
                format!(
                    "{} holds {}: {}. Deleting the zone would delete them too, and they may belong to \
                     someone else. Remove them from the zone, or set force_destroy = true and apply, then \
                     destroy again. Nothing was deleted.",
                    s.id,
                    if records.len() == 1 { "a record" } else { "records" },
                    records.join(", ")
                ),
            ),
            Err(e) => diags.error(
                "Could not delete the private hosted zone",
                format!(
                    "{}: {e}. The zone's records other than its SOA and NS go first, then the zone.",
                    s.id
                ),
            ),
        }
    }

    // -------------------------------------------------------------- import --

    /// By the zone's id (`Z...`). The alias record is left as it is until
    /// the first apply points it at the configured `endpoint_id`.
    fn list_schema(&self) -> Option<Schema> {
        Some(super::dns_zone_list::schema())
    }

    async fn list(
        &self,
        ctx: &Ctx<Clients>,
        config: &Value,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<Listed> {
        super::dns_zone_list::list(&ctx.data, config, limit, diags).await
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(super::identity::zone())
    }

    fn identity(&self, clients: &Clients, state: &Value) -> Option<Value> {
        super::identity::zone_of(clients, state)
    }

    fn import_id(
        &self,
        clients: &Clients,
        identity: &Value,
        diags: &mut Diagnostics,
    ) -> Option<String> {
        super::identity::import_id(clients, identity, "zone_id", diags)
    }

    async fn import(
        &self,
        _ctx: &Ctx<Clients>,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let id = crate::aws::route53::bare_zone_id(id);
        if let Err(why) = check_zone_id(id) {
            diags.error(
                "Invalid import id",
                format!("{why} Import a private hosted zone by its id."),
            );
            return None;
        }
        let names = self.schema().block.names().into_iter();
        Some(Value::object(names.map(|name| {
            let value = if name == attr::id {
                Value::String(id.to_owned())
            } else if name == attr::force_destroy {
                // As the default: an imported zone's other records are
                // never deleted unless the configuration says so.
                Value::Bool(false)
            } else {
                Value::Null
            };
            (name, value)
        })))
    }
}

// ------------------------------------------------------- checks, state --

/// A Route 53 hosted zone id: up to 32 capital letters and digits (AWS's
/// start with `Z`; the format is not promised, so only the characters are
/// checked).
pub fn check_zone_id(id: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not a Route 53 hosted zone id. It looks like \"Z0123456789ABCDEFGHIJ\": capital letters and \
             digits."
        ))
    }
}

/// Each VPC exists in the provider's region and has DNS resolution and DNS
/// hostnames on (a private hosted zone answers only in a VPC with both).
async fn check_vpcs(clients: &Clients, ids: &[String], diags: &mut Diagnostics) {
    let found = clients
        .ec2
        .each(ids, |ec2, id| async move {
            // A VPC that does not exist fails both; the VPC's error says so.
            let (vpc, dns) = tokio::join!(Box::pin(ec2.find_vpc(&id)), Box::pin(ec2.vpc_dns(&id)));
            vpc?;
            dns
        })
        .await;
    for (id, result) in ids.iter().zip(found) {
        match result {
            Ok(dns) if dns.support && dns.hostnames => {}
            Ok(dns) => diags.attr_error(
                root(attr::vpc_ids),
                "VPC without DNS",
                format!(
                    "{id} has {} off, so its hosts would not resolve the Private Host through the zone. Turn on \
                     DNS resolution and DNS hostnames in {id} (in hashicorp/aws: enable_dns_support and \
                     enable_dns_hostnames on aws_vpc).",
                    dns.settings_off().join(" and ")
                ),
            ),
            Err(e) if e.is_not_found() => diags.attr_error(
                root(attr::vpc_ids),
                "VPC not found",
                format!(
                    "There is no VPC {id} in {}. Check vpc_ids; a VPC of another region goes in a vpc block with \
                     its region.",
                    clients.region
                ),
            ),
            Err(e) => diags.attr_error(root(attr::vpc_ids), "Could not read the VPC", format!("{id}: {e}")),
        }
    }
}

/// At apply, the checks a plan could only warn about or could not make:
/// the VPCs `vpc_ids` and, when `endpoint_too`, the endpoint (an error now
/// if its private DNS answers in a VPC of the zone), side by side. The
/// endpoint, when checked and usable.
async fn check_at_apply(
    clients: &Clients,
    vpc_ids: &[String],
    m: &Model,
    endpoint_too: bool,
    diags: &mut Diagnostics,
) -> Option<Endpoint> {
    let mut endpoint_diags = Diagnostics::new();
    let endpoint = async {
        if endpoint_too {
            check_endpoint(clients, m, false, &mut endpoint_diags).await
        } else {
            None
        }
    };
    let ((), endpoint) = tokio::join!(
        Box::pin(check_vpcs(clients, vpc_ids, diags)),
        Box::pin(endpoint)
    );
    diags.extend(endpoint_diags);
    endpoint
}

/// Zones for `host` already associated with one of `vpcs`, other than
/// `own` and those Terraform knows: what a killed apply leaves behind (its
/// caller reference is this provider's), or one made elsewhere. Route 53
/// refuses a second private zone for one name in a VPC
/// (ConflictingDomainExists, on CreateHostedZone and on
/// AssociateVPCWithHostedZone), so each is an error that says how to adopt
/// the zone or delete it. A VPC whose zones cannot be listed is left to
/// the apply.
async fn check_existing_zones(
    clients: &Clients,
    host: &str,
    vpcs: &[ZoneVpc],
    own: Option<&str>,
    endpoint_id: Option<&str>,
    diags: &mut Diagnostics,
) {
    // One VPC's look does not need another's: all at once, the diagnostics
    // in the order of `vpcs`.
    let looks = vpcs
        .iter()
        .map(|vpc| existing_zones_on(clients, host, vpc, own, endpoint_id));
    for found in futures_util::future::join_all(looks).await {
        diags.extend(found);
    }
}

/// [`check_existing_zones`] for one VPC: its endpoints' private DNS and
/// the zones for `host` on it, looked at together.
async fn existing_zones_on(
    clients: &Clients,
    host: &str,
    vpc: &ZoneVpc,
    own: Option<&str>,
    endpoint_id: Option<&str>,
) -> Diagnostics {
    let route53 = &clients.route53;
    let mut diags = Diagnostics::new();
    let private_dns = async {
        let mut diags = Diagnostics::new();
        if vpc.region == clients.region {
            check_private_dns_in(clients, host, &vpc.id, endpoint_id, &mut diags).await;
        }
        diags
    };
    let (dns_diags, found) = tokio::join!(
        Box::pin(private_dns),
        Box::pin(route53.zones_named_on_vpc(host, vpc))
    );
    diags.extend(dns_diags);
    let found = match found {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(vpc = %vpc.id, error = %e, "listing the VPC's zones failed; not checking for one left behind");
            return diags;
        }
    };
    for zone in found
        .iter()
        .filter(|z| Some(z.id.as_str()) != own && !route53.is_known(&z.id))
    {
        let path = if vpc.region == clients.region {
            root(attr::vpc_ids)
        } else {
            root(attr::vpc)
        };
        let made_here = route53
            .look_at_zone(&zone.id)
            .await
            .ok()
            .map(|z| super::is_client_token(&z.caller_reference));
        diags.attr_error(
            path,
            "A private hosted zone for this name is already associated with the VPC",
            existing_zone_text(zone, vpc, made_here),
        );
    }
    diags
}

/// Endpoints of `vpc` other than the zone's own (which [`check_endpoint`]
/// judges) whose private DNS answers for `host`: AWS makes that private
/// DNS a private hosted zone of its own in the VPC, so Route 53 refuses
/// this zone there (ConflictingDomainExists). A VPC whose endpoints or
/// their services cannot be read is left to the apply.
async fn check_private_dns_in(
    clients: &Clients,
    host: &str,
    vpc: &str,
    own_endpoint: Option<&str>,
    diags: &mut Diagnostics,
) {
    let ec2 = &clients.ec2;
    let Ok(endpoints) = ec2.endpoints_in_vpc(vpc).await else {
        return;
    };
    let wanted = crate::aws::route53::absolute_name(host);
    for e in endpoints
        .iter()
        .filter(|e| e.private_dns_enabled && Some(e.id.as_str()) != own_endpoint && !e.is_leaving())
    {
        let Ok(service) = ec2
            .find_endpoint_service(
                &e.service_name,
                e.service_region.as_deref().filter(|r| *r != clients.region),
            )
            .await
        else {
            continue;
        };
        if service
            .private_dns_names
            .iter()
            .any(|n| crate::aws::route53::absolute_name(n) == wanted)
        {
            diags.attr_error(
                root(attr::vpc_ids),
                "An endpoint's private DNS answers for this name in the VPC",
                format!(
                    "{id} in {vpc} has private DNS on for {host}: AWS implements it as a private hosted zone of its \
                     own in the VPC, and Route 53 refuses a second zone for the same name there \
                     (ConflictingDomainExists). Either set private_dns_enabled = false on {id}, so this zone answers \
                     in {vpc} too, or leave {vpc} out of this zone: its hosts already resolve {host} through {id}.",
                    id = e.id,
                ),
            );
        }
    }
}

/// What the plan says of a zone `zone` found on `vpc`; `made_here` is
/// whether its caller reference is this provider's (`None`: the zone could
/// not be read, as when another account owns it).
fn existing_zone_text(zone: &ZoneOnVpc, vpc: &ZoneVpc, made_here: Option<bool>) -> String {
    let id = &zone.id;
    let head = format!(
        "{id} ({name}) is already associated with {vpc} ({region}), and Route 53 refuses a second private \
         hosted zone for the same name in one VPC (ConflictingDomainExists).",
        name = zone.name,
        vpc = vpc.id,
        region = vpc.region,
    );
    let adopt = format!(
        "To adopt it instead of creating another, add this block to the configuration, with <name> replaced by \
         the name of this resource (its address is shown above, after \"with\"), then run terraform apply:\n\n\
         \x20\x20import {{\n\
         \x20\x20\x20\x20to = {TYPE_NAME}.<name>\n\
         \x20\x20\x20\x20id = \"{id}\"\n\
         \x20\x20}}\n\n\
         To delete it instead, delete its records other than SOA and NS, then run:\n\n\
         \x20\x20aws route53 delete-hosted-zone --id {id}"
    );
    match made_here {
        Some(true) => format!(
            "{head} This provider made it (its caller reference is the provider's), in an apply that did not \
             finish: the apply was killed, or its answer was lost, before Terraform could save the zone in its \
             state.\n\n{adopt}"
        ),
        Some(false) => format!(
            "{head} This provider did not make it: it was made in the AWS console, by another tool, or by \
             another Terraform configuration. If another configuration manages it, leave it there and leave {vpc} \
             out of this zone; otherwise:\n\n{adopt}",
            vpc = vpc.id
        ),
        None => format!(
            "{head} It could not be read{owner}: another account may own it. Leave {vpc} out of this zone, or \
             disassociate the zone from {vpc} in the account that owns it (aws route53 \
             disassociate-vpc-from-hosted-zone --hosted-zone-id {id} --vpc VPCRegion={region},VPCId={vpc}).",
            owner = zone
                .owner
                .as_deref()
                .map(|o| format!(" (Route 53 says account {o} owns it)"))
                .unwrap_or_default(),
            vpc = vpc.id,
            region = vpc.region,
        ),
    }
}

/// The endpoint, when it exists and can share the Private Host: when its
/// VPC is one the zone covers, its private DNS must be off. At plan, an
/// endpoint Terraform manages may be turned off by the same apply (the
/// documented move to hub and spoke: Terraform writes the endpoint before
/// the zone that refers to it), so that warns, and the check is made again
/// before the zone is written.
async fn check_endpoint(
    clients: &Clients,
    m: &Model,
    at_plan: bool,
    diags: &mut Diagnostics,
) -> Option<Endpoint> {
    let id = m.endpoint_id.as_deref()?;
    let endpoint = match clients.ec2.find_endpoint(id).await {
        Ok(e) => e,
        Err(e) => {
            let detail = if e.is_not_found() {
                format!(
                    "There is no VPC endpoint {id} in {} (or it was deleted). Check endpoint_id and the \
                     provider's region.",
                    clients.region
                )
            } else {
                format!("{id}: {e}")
            };
            diags.attr_error(
                root(attr::endpoint_id),
                "Could not read the VPC endpoint",
                detail,
            );
            return None;
        }
    };
    if let Err(why) = private_dns_conflict(&endpoint, &m.vpc_ids, &m.private_host) {
        if at_plan && clients.ec2.is_known(&endpoint.id) {
            diags.attr_warning(
                root(attr::vpc_ids),
                "The endpoint's private DNS answers there now",
                format!(
                    "{why} Terraform manages {id}: if this apply sets its private_dns_enabled = false, it does \
                     that before writing this zone, and the zone follows; otherwise the apply stops before \
                     writing the zone, with this message.",
                    id = endpoint.id
                ),
            );
            return Some(endpoint);
        }
        diags.attr_error(
            root(attr::vpc_ids),
            "The endpoint's private DNS answers there already",
            why,
        );
        return None;
    }
    Some(endpoint)
}

/// Why a zone for `host` cannot cover the endpoint's VPC while the
/// endpoint's private DNS is on.
fn private_dns_conflict(
    endpoint: &Endpoint,
    vpc_ids: &BTreeSet<String>,
    host: &str,
) -> Result<(), String> {
    if !(endpoint.private_dns_enabled && vpc_ids.contains(&endpoint.vpc_id)) {
        return Ok(());
    }
    Err(format!(
        "vpc_ids includes {vpc}, the VPC of endpoint {id}, whose private_dns_enabled is true: the endpoint's \
         private DNS already answers for {host} there, and AWS refuses a private hosted zone for the same name in \
         the same VPC (ConflictingDomainExists). Either set private_dns_enabled = false on the endpoint, so this \
         zone answers in its VPC too (the hub and spoke setup), or leave {vpc} out of vpc_ids.",
        vpc = endpoint.vpc_id,
        id = endpoint.id,
    ))
}

/// The endpoint's regional DNS name among its entries, chosen by its shape
/// rather than its place: its first label is `<endpoint id>-<suffix>`,
/// where a zonal name's adds `-<zone>` and the service's private DNS name
/// does not start with the endpoint's id at all. EC2 does not promise an
/// order.
fn regional_entry(endpoint: &Endpoint) -> Option<&DnsEntry> {
    endpoint.dns_entries.iter().find(|entry| {
        entry
            .dns_name
            .split('.')
            .next()
            .and_then(|first| first.strip_prefix(endpoint.id.as_str()))
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|suffix| !suffix.is_empty() && !suffix.contains('-'))
    })
}

/// Whether the zone's alias record for the Private Host points at the
/// regional DNS name of the state's endpoint. Only a record seen missing or
/// pointing elsewhere is drift: when the record or the endpoint cannot be
/// read, the next refresh looks again.
async fn alias_is_current(clients: &Clients, zone_id: &str, m: &Model) -> bool {
    let Some(endpoint_id) = m.endpoint_id.as_deref() else {
        return true;
    };
    let endpoint = match clients.ec2.find_endpoint(endpoint_id).await {
        Ok(endpoint) => endpoint,
        Err(e) => {
            tracing::debug!(endpoint_id, error = %e, "could not read the zone's endpoint");
            return true;
        }
    };
    let Some(target) = regional_entry(&endpoint) else {
        return true;
    };
    let name = |n: &str| n.trim_end_matches('.').to_ascii_lowercase();
    for rr_type in alias_families(&endpoint).types() {
        match clients
            .route53
            .alias_of(zone_id, &m.private_host, rr_type)
            .await
        {
            Ok(Some(alias)) if name(&alias.dns_name) == name(&target.dns_name) => {}
            Ok(_) => return false,
            Err(e) => {
                tracing::debug!(zone_id, error = %e, "could not read the zone's alias record");
                return true;
            }
        }
    }
    true
}

/// The families the endpoint's regional DNS name answers with, which the
/// zone's alias records serve.
fn alias_families(endpoint: &Endpoint) -> AliasFamilies {
    AliasFamilies::of(
        endpoint.dns_record_ip_type.as_deref(),
        endpoint.ip_address_type.as_deref(),
    )
}

/// Waits for the zone's changes to reach every resolver; an error when the
/// timeout or Ctrl-C comes first (the changes are made all the same).
async fn wait_insync(clients: &Clients, zone_id: &str, diags: &mut Diagnostics) {
    if let Err(e) = clients.route53.wait_insync(zone_id).await {
        diags.error(
            "The zone's changes did not reach every resolver in time",
            format!(
                "{zone_id}: {e}. Route 53 has the changes; its resolvers answer with them once they are \
                 INSYNC, usually within a minute. Give the operation a longer timeout if this recurs."
            ),
        );
    }
}

/// Points the zone's alias record for `host` at the endpoint's regional DNS
/// name; in a zone `just_created`, without looking for a record of the
/// other family first.
async fn point_alias(
    clients: &Clients,
    zone_id: &str,
    host: &str,
    endpoint: &Endpoint,
    just_created: bool,
) -> Result<(), String> {
    let Some(target) = regional_entry(endpoint) else {
        return Err(format!(
            "{} ({}) has no regional DNS name yet. Point the zone at it once it is available (depend on \
             the endpoint resource).",
            endpoint.id, endpoint.state
        ));
    };
    let families = alias_families(endpoint);
    clients
        .route53
        .upsert_alias(zone_id, host, target, families, just_created)
        .await
        .map_err(|e| {
            let types: Vec<String> = families
                .types()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect();
            format!(
                "ChangeResourceRecordSets UPSERT {host} {} ALIAS {}: {e}",
                types.join(" and "),
                target.dns_name
            )
        })
}

/// The VPCs whose association another account makes: those the zone's
/// account authorized (`planetscale_privatelink_dns_zone_authorization`)
/// and `listed` does not name, and the [`other_accounts`] among those
/// `associated`. Their associations are not this resource's to show or
/// remove.
///
/// Credentials that may not list the authorizations (AccessDenied; the
/// permission is easily left out of a role that only ever made the zone)
/// cannot tell another account's association from drift: every
/// association `listed` does not name (of `associated`) is then left
/// alone, with a warning, rather than failing every refresh and destroy.
async fn managed_elsewhere(
    clients: &Clients,
    zone_id: &str,
    listed: &[ZoneVpc],
    associated: &[ZoneVpc],
    diags: &mut Diagnostics,
) -> Result<BTreeSet<String>, crate::aws::AwsError> {
    let unlisted = |ids: Vec<String>| -> BTreeSet<String> {
        ids.into_iter()
            .filter(|id| !listed.iter().any(|l| &l.id == id))
            .collect()
    };
    let authorized = match clients.route53.vpc_authorizations(zone_id).await {
        Ok(vpcs) => vpcs,
        Err(e) if e.is_not_found() => Vec::new(),
        Err(e @ crate::aws::AwsError::AccessDenied { .. }) => {
            let left = unlisted(associated.iter().map(|v| v.id.clone()).collect());
            if !left.is_empty() {
                diags.warning(
                    "Could not list the zone's VPC association authorizations",
                    format!(
                        "{zone_id}: {e}. Without them, an association of another account's VPC cannot be told \
                         from one made out of band, so the associations vpc_ids does not list ({}) are left \
                         alone and not shown as changes. Allow route53:ListVPCAssociationAuthorizations to \
                         have them managed.",
                        left.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
            return Ok(left);
        }
        Err(e) => return Err(e),
    };
    let mut elsewhere = unlisted(authorized.into_iter().map(|v| v.id).collect());
    let others = other_accounts(clients, zone_id, associated, listed, &elsewhere, diags).await;
    elsewhere.extend(others);
    Ok(elsewhere)
}

/// The associations of the provider's region that `listed` does not name
/// and `known_elsewhere` does not hold, whose VPC is not in this account:
/// another account associated it (its authorization since removed, as
/// AWS's guide recommends once the association is made), and it is not
/// this resource's to remove. Each is left alone, with a warning. (A VPC of
/// another region cannot be told apart this way, and counts as drift.)
async fn other_accounts(
    clients: &Clients,
    zone_id: &str,
    associated: &[ZoneVpc],
    listed: &[ZoneVpc],
    known_elsewhere: &BTreeSet<String>,
    diags: &mut Diagnostics,
) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for vpc in associated.iter().filter(|v| {
        v.region == clients.region
            && !known_elsewhere.contains(&v.id)
            && !listed.iter().any(|l| l.id == v.id)
    }) {
        if clients
            .ec2
            .find_vpc(&vpc.id)
            .await
            .is_err_and(|e| e.is_not_found())
        {
            diags.warning(
                "A VPC of another account is associated with the zone",
                format!(
                    "{vpc} is associated with {zone_id}, but it is not a VPC of this account in {region}: another \
                     account associated it (its authorization, if any, was removed since). The zone leaves that \
                     association alone; to end it, disassociate the VPC from its own account (aws route53 \
                     disassociate-vpc-from-hosted-zone --hosted-zone-id {zone_id} --vpc \
                     VPCRegion={region},VPCId={vpc}).",
                    vpc = vpc.id,
                    region = clients.region,
                ),
            );
            found.insert(vpc.id.clone());
        }
    }
    found
}

/// Records the zone's id, name and associations in the state: VPCs of the
/// provider's region in `vpc_ids`, the others in `vpc` blocks; those in
/// `managed_elsewhere` are left out.
fn state_from_aws(
    state: &mut Model,
    zone: &HostedZone,
    region: &str,
    managed_elsewhere: &BTreeSet<String>,
) {
    state.id.clone_from(&zone.id);
    state.zone_id.clone_from(&zone.id);
    state.fqdn = fqdn(&zone.name);
    let (here, elsewhere): (Vec<&ZoneVpc>, Vec<&ZoneVpc>) = zone
        .vpcs
        .iter()
        .filter(|v| !managed_elsewhere.contains(&v.id))
        .partition(|v| v.region == region);
    state.vpc_ids = here.into_iter().map(|v| v.id.clone()).collect();
    state.vpc = vpc_blocks_value(&elsewhere.into_iter().cloned().collect());
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_private_host_is_a_host_name_and_an_apex_or_a_foreign_name_is_warned_of() {
        use crate::framework::diag::Severity;
        let judged = |host: &str| {
            let mut diags = Diagnostics::new();
            check_private_host(host, &mut diags);
            diags
                .iter()
                .map(|d| (d.severity, d.summary.clone()))
                .collect::<Vec<_>>()
        };
        assert!(judged("abc.private-pg.psdb.cloud").is_empty());
        assert!(judged("ABC.Private-PG.psdb.cloud.").is_empty());
        for elsewhere in [
            "db.private.example.com",
            "s3.us-east-1.amazonaws.com",
            "a.notpsdb.cloud",
        ] {
            assert_eq!(
                judged(elsewhere),
                [(Severity::Warning, "Not a PlanetScale host name".to_owned())],
                "{elsewhere}"
            );
        }
        for address in ["10.0.0.1", "fd00::5", "[fd00::5]"] {
            assert_eq!(
                judged(address),
                [(Severity::Error, "Invalid private host".to_owned())],
                "{address}"
            );
        }
        for apex in ["psdb.cloud", "amazonaws.com", "example.com.", "localhost"] {
            assert_eq!(
                judged(apex),
                [(Severity::Warning, "A zone for a whole domain".to_owned())],
                "{apex}"
            );
        }
        assert_eq!(judged("db..example.com")[0].0, Severity::Error);
    }

    #[test]
    fn the_alias_targets_the_regional_name_wherever_ec2_lists_it() {
        let entry = |name: &str, zone: &str| DnsEntry {
            dns_name: name.to_owned(),
            hosted_zone_id: zone.to_owned(),
        };
        let regional = entry(
            "vpce-0abc123def4567890-k3q2x9z1.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com",
            "Z7HUB22UULQXV",
        );
        let endpoint = Endpoint {
            id: "vpce-0abc123def4567890".into(),
            dns_entries: vec![
                entry("abc.private-pg.psdb.cloud", "Z0PRIVATEZONE"),
                entry(
                    "vpce-0abc123def4567890-k3q2x9z1-us-east-1a.vpce-svc-0123456789abcdef0.us-east-1.vpce.amazonaws.com",
                    "Z7HUB22UULQXV",
                ),
                regional.clone(),
            ],
            ..Endpoint::default()
        };
        assert_eq!(regional_entry(&endpoint), Some(&regional));
        let zonal_only = Endpoint {
            dns_entries: endpoint.dns_entries[..2].to_vec(),
            ..endpoint.clone()
        };
        assert_eq!(regional_entry(&zonal_only), None);
    }

    #[test]
    fn zone_ids_are_capitals_and_digits() {
        for ok in ["Z0123456789ABCDEFGHIJ", "Z2FDTNDATAQYW2"] {
            assert_eq!(check_zone_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "z0123",
            "Z0123456789ABCDEFGHIJ0123456789ABC",
            "Z01-23",
            "/hostedzone/Z0123",
            "vpc-0123456789abcdef0",
        ] {
            assert!(check_zone_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn private_dns_conflicts_only_in_the_endpoints_own_vpc() {
        let endpoint = |dns: bool| Endpoint {
            id: "vpce-0123456789abcdef0".into(),
            vpc_id: "vpc-0000000000000000a".into(),
            private_dns_enabled: dns,
            ..Endpoint::default()
        };
        let hub: BTreeSet<String> = ["vpc-0000000000000000a".to_owned()].into();
        let spokes: BTreeSet<String> = ["vpc-0000000000000000b".to_owned()].into();
        for (dns, vpcs, conflict) in [
            (true, &hub, true),
            (false, &hub, false),
            (true, &spokes, false),
            (false, &spokes, false),
        ] {
            let result = private_dns_conflict(&endpoint(dns), vpcs, "db.example.com");
            assert_eq!(result.is_err(), conflict, "dns {dns}, {vpcs:?}");
            if let Err(why) = result {
                assert!(why.contains("private_dns_enabled = false"), "{why}");
                assert!(why.contains("vpc_ids"), "{why}");
            }
        }
    }

    #[test]
    fn the_state_splits_associations_by_region() {
        let zone = HostedZone {
            id: "Z0123".into(),
            name: "DB.example.com.".into(),
            private: true,
            caller_reference: String::new(),
            vpcs: vec![
                ZoneVpc {
                    id: "vpc-a".into(),
                    region: "us-east-1".into(),
                },
                ZoneVpc {
                    id: "vpc-b".into(),
                    region: "us-west-2".into(),
                },
            ],
        };
        let mut state = Model::default();
        state_from_aws(&mut state, &zone, "us-east-1", &BTreeSet::new());
        assert_eq!(state.fqdn, "db.example.com");
        assert_eq!(state.vpc_ids, ["vpc-a".to_owned()].into());
        let blocks = vpc_blocks(&state.vpc);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks.first().map(|v| v.region.as_str()), Some("us-west-2"));
        assert_eq!(
            state
                .wanted("us-east-1")
                .iter()
                .map(|v| v.id.as_str())
                .collect::<Vec<_>>(),
            ["vpc-a", "vpc-b"]
        );
    }
}
