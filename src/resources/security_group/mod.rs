//! `planetscale_privatelink_security_group`: the security group of the
//! PrivateLink procedure, letting PostgreSQL (5432) and PSBouncer (6432) in
//! to the endpoint from the application's security groups, chosen CIDR
//! blocks, or the VPC's own CIDR blocks.
//!
//! The resource owns every rule of its group: ingress is exactly
//! `ports` × sources, egress is empty (security groups are stateful; an
//! endpoint needs none), and anything else found is drift that the next
//! apply removes.
//!
//! Order: model, schema, validate, plan, create, read, update, delete, import,
//! move (from `aws_security_group`), then the state after a write and the
//! rules' checks. Beside it: the mapping of a moved `aws_security_group`'s
//! state ([`moved`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::aws::model::{IngressRule, Peer, Tags, is_prefix_list};
use crate::aws::retry::LAST_LOOK;
use crate::aws::security_group::{CREATION_TOKEN_TAG, DeleteGroupError, NewSecurityGroup};
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::identity::IdentitySchema;
use crate::framework::model::{Attrs, string};
use crate::framework::schema::declare::{computed, optional, optional_computed, required};
use crate::framework::schema::{Block, Schema};
use crate::framework::server::{Ctx, Listed, PlanChange, Resource};
use crate::framework::timeouts;
use crate::framework::value::Value;
use crate::model;
use crate::privatelink::{DEFAULT_PORTS, Engine};
use crate::resources::sg_rules::{self, Access};
use crate::resources::tags::{self, OwnTags};
use crate::resources::{moves, root};
use crate::validate::{self, ports_value};

mod list;
mod moved;

pub const TYPE_NAME: &str = "planetscale_privatelink_security_group";
pub const DEFAULT_DESCRIPTION: &str =
    "PostgreSQL and PSBouncer to a PlanetScale PrivateLink endpoint. Managed by Terraform.";
/// The description of a group for a Vitess database when none is given.
const VITESS_DESCRIPTION: &str =
    "MySQL and HTTPS to a PlanetScale PrivateLink endpoint. Managed by Terraform.";

/// The description a group gets when the configuration gives none.
fn default_description(engine: Engine) -> &'static str {
    match engine {
        Engine::Postgres => DEFAULT_DESCRIPTION,
        Engine::Vitess => VITESS_DESCRIPTION,
    }
}
/// The VPC's own CIDR blocks are allowed only when asked for.
const ALLOW_VPC_CIDR_DEFAULT: bool = false;
/// A group's ARN is `arn:<partition>:ec2:<region>:<owner>:security-group/<id>`.
const ARN_KIND: &str = "security-group";
const CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The operations the `timeouts` block offers, with their defaults.
const TIMEOUTS: &[(&str, Duration)] = &[
    ("create", CREATE_TIMEOUT),
    ("update", UPDATE_TIMEOUT),
    ("delete", DELETE_TIMEOUT),
];

// ---------------------------------------------------------------- model --

model! {
    /// The group's attributes: its arguments and what EC2 reports, each
    /// declared once (schema, checks, plan behaviour).
    struct Model, attributes mod attr {
        id: String => computed().use_state_for_unknown().describe("The security group id (`sg-...`)."),
        arn: String => computed().use_state_for_unknown().describe("The security group ARN."),
        owner_id: String => computed().use_state_for_unknown().describe("The AWS account that owns the group."),
        vpc_id: String => required().requires_replace()
            .each_string("Invalid VPC id", |s| validate::ec2_id(s, "vpc", "VPC"))
            .describe("The VPC the endpoint is in."),
        name: Option<String> => optional_computed().requires_replace().use_state_for_unknown()
            .each_string("Invalid name", |s| group_text(attr::name, s, 255))
            .describe(
                "The group's name. Conflicts with `name_prefix` (unless it starts with it, as in generated \
                 configuration); when neither is set, a unique name starting with `terraform-` is generated.",
            ),
        name_prefix: Option<String> => optional().requires_replace()
            .each_string("Invalid name_prefix", |s| group_text(attr::name_prefix, s, 100))
            .describe(
                "Generate a unique name starting with this prefix. Conflicts with a `name` that does not start \
                 with it.",
            ),
        engine: String = Engine::Postgres.name().to_owned() => optional()
            .each_string("Invalid engine", |s| Engine::parse(s).map(drop))
            .describe(
                "The PlanetScale engine behind the endpoint: `postgres` (PlanetScale for Postgres) or `vitess` \
                 (PlanetScale's MySQL-compatible databases). It chooses the ports and the description when \
                 those are not given.",
            ),
        description: String = DEFAULT_DESCRIPTION.to_owned() => optional_computed().requires_replace()
            .without_schema_default()
            .each_string("Invalid description", |s| group_text(attr::description, s, 255))
            .describe(format!(
                "The group's description, which EC2 cannot change in place. When not given: \"{DEFAULT_DESCRIPTION}\" \
                 (`postgres`), or \"{VITESS_DESCRIPTION}\" (`vitess`).",
            )),
        ports: BTreeSet<u16> = BTreeSet::from(DEFAULT_PORTS) => optional_computed()
            .without_schema_default()
            .check(validate::port_values)
            .describe(format!(
                "TCP ports to let in, each from 1 to 65535. When not given, the engine's: {} for `postgres`, {} \
                 for `vitess`. Changes in place.",
                Engine::Postgres.ports_in_words(),
                Engine::Vitess.ports_in_words(),
            )),
        /// Null (not set) and empty differ: the state keeps the form of
        /// the configuration.
        allowed_security_group_ids: Option<BTreeSet<String>> => optional()
            .each_string("Invalid security group id", source_group)
            .describe(
                "Security groups of the application hosts allowed to connect: `sg-...` for a group of this \
                 account (in this VPC, or in a peered VPC of the same region), `<account-id>/sg-...` for a group \
                 of another account in a peered VPC. Changes in place.",
            ),
        allowed_cidr_blocks: Option<BTreeSet<String>> => optional()
            .each_string("Invalid CIDR block", |s| validate::cidr(s).map(drop))
            .describe(
                "IPv4 CIDR blocks (such as subnets' CIDR blocks) allowed to connect. A block with host bits set \
                 is refused with its network address as the fix. IPv6 blocks belong in \
                 `allowed_ipv6_cidr_blocks` (they are still taken here, with a warning). Changes in place.",
            ),
        allowed_ipv6_cidr_blocks: Option<BTreeSet<String>> => optional()
            .each_string("Invalid IPv6 CIDR block", |s| match validate::cidr(s)? {
                ipnet::IpNet::V6(_) => Ok(()),
                ipnet::IpNet::V4(_) => Err(format!(
                    "{s} is an IPv4 block. Put it in allowed_cidr_blocks; this argument takes IPv6 blocks."
                )),
            })
            .describe(
                "IPv6 CIDR blocks allowed to connect, for application hosts with IPv6 addresses (a dual-stack or \
                 IPv6 endpoint). A block with host bits set is refused with its network address as the fix. \
                 Changes in place.",
            ),
        allowed_prefix_list_ids: Option<BTreeSet<String>> => optional()
            .each_string("Invalid prefix list id", |s| validate::ec2_id(s, "pl", "managed prefix list"))
            .describe(
                "Managed prefix lists (`pl-...`) whose blocks are allowed to connect, such as a list of the \
                 spoke networks of a hub-and-spoke design, shared through AWS RAM. EC2 counts each as its \
                 maximum number of entries toward the group's rule quota. Changes in place.",
            ),
        allow_vpc_cidr: bool = ALLOW_VPC_CIDR_DEFAULT => optional().describe(
            "Allow the VPC's own CIDR blocks (all of them, IPv4 and IPv6). At least one of \
             `allowed_security_group_ids`, `allowed_cidr_blocks`, `allowed_ipv6_cidr_blocks`, \
             `allowed_prefix_list_ids` and `allow_vpc_cidr` is required.",
        ),
        unmanaged_rules: Vec<String> => computed().describe(
            "Rules of the group that its arguments do not ask for, egress rules included, as the last \
             refresh found them (such as `ingress tcp 22 from 0.0.0.0/0`): rules added outside Terraform. \
             The plan shows them going, and the apply revokes them.",
        ),
        tags: Option<OwnTags> => optional().check(validate::tag_map).describe("Tags for the group."),
        tags_all: Tags => computed().describe(
            "All tags of the group: the provider's `default_tags` merged with `tags`.",
        ),
        timeouts: Value,
    }
}

impl Model {
    /// What the arguments let in, in the rules' terms.
    fn access(&self) -> Access {
        Access {
            ports: self.ports.clone(),
            groups: self.allowed_security_group_ids.clone().unwrap_or_default(),
            cidrs: self.allowed_cidr_blocks.clone().unwrap_or_default(),
            ipv6_cidrs: self.allowed_ipv6_cidr_blocks.clone().unwrap_or_default(),
            prefix_lists: self.allowed_prefix_list_ids.clone().unwrap_or_default(),
            allow_vpc_cidr: self.allow_vpc_cidr,
        }
    }
}

/// A source argument read back from the rules: null when it was null
/// before (`was_null`) and still has nothing.
fn null_if_empty(items: BTreeSet<String>, was_null: bool) -> Option<BTreeSet<String>> {
    (!(items.is_empty() && was_null)).then_some(items)
}

pub struct SecurityGroupResource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl Resource<Clients> for SecurityGroupResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn timeouts(&self) -> &'static [(&'static str, Duration)] {
        TIMEOUTS
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "A security group for a PlanetScale PrivateLink endpoint: lets PostgreSQL (5432) and \
                 PSBouncer (6432) in from the application's security groups, chosen CIDR blocks, or the \
                 VPC's own CIDR blocks. The resource owns every rule of the group: rules added outside \
                 Terraform show as changes and are removed on apply, and the group has no egress rules \
                 (security groups are stateful; the endpoint needs none).",
            )
            .attributes(Model::attributes())
            .block(timeouts::block(TIMEOUTS)),
        )
    }

    // ------------------------------------------------------------ validate --

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let c = Attrs::of(config);
        // Both describe one group when the name starts with the prefix, as
        // in the configuration Terraform generates for an imported group
        // whose name was made from a prefix.
        if let (Some(name), Some(prefix)) = (c.str(attr::name), c.str(attr::name_prefix))
            && !name.starts_with(prefix)
        {
            diags.attr_error(
                root(attr::name_prefix),
                "Conflicting arguments",
                format!(
                    "name {name:?} does not start with name_prefix {prefix:?}. Set name or name_prefix, not both \
                     (both are accepted only when the name starts with the prefix, as in generated configuration)."
                ),
            );
        }
        let ipv6_in_v4: Vec<String> = c
            .strings(attr::allowed_cidr_blocks)
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.contains(':') && validate::cidr(b).is_ok())
            .collect();
        if !ipv6_in_v4.is_empty() {
            diags.attr_warning(
                root(attr::allowed_cidr_blocks),
                "IPv6 blocks in allowed_cidr_blocks",
                format!(
                    "{} belong in allowed_ipv6_cidr_blocks. They are allowed as they are; moving them revokes \
                     and authorizes their rules again, once.",
                    ipv6_in_v4.join(", ")
                ),
            );
        }
        for (name, cidr) in [attr::allowed_cidr_blocks, attr::allowed_ipv6_cidr_blocks]
            .into_iter()
            .flat_map(|name| {
                let blocks = c.strings(name).unwrap_or_default();
                blocks.into_iter().map(move |b| (name, b))
            })
        {
            if cidr == "0.0.0.0/0" || cidr == "::/0" {
                diags.attr_warning(
                    root(name),
                    "Every address allowed",
                    format!(
                        "{cidr} lets any host that can reach the endpoint's network interfaces connect: every \
                         instance of the VPC and of every network routed to it (peerings, transit gateways, VPNs). \
                         Allow the application's security groups (allowed_security_group_ids) or its subnets' \
                         CIDR blocks instead."
                    ),
                );
            }
        }
        let sources = [
            attr::allowed_security_group_ids,
            attr::allowed_cidr_blocks,
            attr::allowed_ipv6_cidr_blocks,
            attr::allowed_prefix_list_ids,
            attr::allow_vpc_cidr,
        ];
        if [attr::ports]
            .iter()
            .chain(&sources)
            .all(|a| c.get(a).is_fully_known())
        {
            check_rule_count(
                &Model::from_value(config).access(),
                None,
                &BTreeMap::new(),
                diags,
            );
        }

        // At least one source, once all three are known.
        let known = sources.iter().all(|a| {
            !c.is_unknown(a) && c.elements(a).is_none_or(|e| e.iter().all(Value::is_known))
        });
        if known {
            let none = sources[..4]
                .iter()
                .all(|a| c.elements(a).is_none_or(<[Value]>::is_empty))
                && !c
                    .bool(attr::allow_vpc_cidr)
                    .unwrap_or(ALLOW_VPC_CIDR_DEFAULT);
            if none {
                diags.attr_error(
                    root(attr::allowed_security_group_ids),
                    "No source allowed",
                    "The group would let nothing in. Set allowed_security_group_ids (the application hosts' \
                     security groups), allowed_cidr_blocks, allowed_ipv6_cidr_blocks, allowed_prefix_list_ids, \
                     or allow_vpc_cidr = true.",
                );
            }
        }
    }

    // ---------------------------------------------------------------- plan --

    async fn plan(&self, ctx: &Ctx<Clients>, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        let clients = &ctx.data;
        let c = Attrs::of(change.config);
        tags::plan(clients, change, tags::EC2, 0, diags);
        // The group keeps exactly the rules its arguments ask for.
        let foreign = Attrs::of(change.prior)
            .elements(attr::unmanaged_rules)
            .is_some_and(|r| !r.is_empty());
        if foreign {
            change.changing = true;
        }
        change.set_planned(attr::unmanaged_rules, Value::List(Vec::new()));
        engine_defaults(change);

        // Checks that call AWS run only for values that change: on create,
        // and when the VPC's CIDR blocks matter to a change.
        let p = Attrs::of(change.prior);
        let creating = change.prior.is_null();
        // Planned against prior: the configuration leaves defaults (the
        // ports) null, which the plan has filled in.
        let planned = Attrs::of(&change.planned);
        let cidrs_change = [
            attr::allow_vpc_cidr,
            attr::allowed_cidr_blocks,
            attr::allowed_ipv6_cidr_blocks,
            attr::allowed_prefix_list_ids,
            attr::ports,
        ]
        .iter()
        .any(|a| planned.get(a) != p.get(a));
        if !change.changing || !(creating || cidrs_change) {
            return;
        }
        // EC2 emulators accept a group in a VPC that does not exist, so the
        // VPC is checked here rather than left to CreateSecurityGroup.
        let Some(vpc_id) = c.str(attr::vpc_id) else {
            return;
        };
        match clients.ec2.find_vpc(vpc_id).await {
            Ok(vpc) => {
                let access = Model::from_value(&change.planned).access();
                if let Some(why) = vpc_cidr_overlap(&access, &vpc.cidr_blocks) {
                    diags.attr_error(root(attr::allowed_cidr_blocks), "CIDR block allowed twice", why);
                }
                // Ports not known yet are counted at apply's plan.
                if Attrs::of(&change.planned).get(attr::ports).is_fully_known() {
                    let lists: Vec<String> = access.prefix_lists.iter().cloned().collect();
                    let sizes = match clients.ec2.prefix_list_sizes(&lists).await {
                        Ok(sizes) => sizes,
                        Err(e) => {
                            diags.attr_warning(
                                root(attr::allowed_prefix_list_ids),
                                "Could not read the prefix lists' sizes",
                                format!(
                                    "{e}. Each list counts as its maximum entries toward the group's \
                                     rule quota; without them each counts as one rule here, and EC2 \
                                     checks at apply."
                                ),
                            );
                            BTreeMap::new()
                        }
                    };
                    check_rule_count(&access, Some(&vpc.cidr_blocks), &sizes, diags);
                }
            }
            Err(e) if e.is_not_found() => diags.attr_error(
                root(attr::vpc_id),
                "VPC not found",
                format!("There is no VPC {vpc_id} in {} for these credentials. Check the id and the provider's region.", clients.region),
            ),
            Err(e) => diags.attr_warning(root(attr::vpc_id), "Could not check the VPC", e.to_string()),
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
        let name = m.name.clone().unwrap_or_else(|| {
            unique_name(m.name_prefix.as_deref().unwrap_or(AWS_DEFAULT_NAME_PREFIX))
        });
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let ec2 = &clients.ec2;

        // The VPC: its blocks for allow_vpc_cidr, and whether it has an IPv6
        // block (a new group's default egress rule then covers ::/0 too).
        // Read once per process: the apply's plan of this group read it.
        let vpc = ec2.find_vpc(&m.vpc_id).await;
        let vpc_cidrs = match (&vpc, m.allow_vpc_cidr) {
            (Ok(vpc), true) => vpc.cidr_blocks.clone(),
            (Err(e), true) => {
                diags.attr_error(
                    root(attr::vpc_id),
                    "Could not read the VPC's CIDR blocks",
                    e.to_string(),
                );
                return None;
            }
            (_, false) => Vec::new(),
        };
        let ipv6 = vpc
            .ok()
            .map(|v| v.cidr_blocks.iter().any(|c| c.contains(':')));

        let aws_tags = tags::for_aws(clients, &m.tags_all);
        // The creation token takes a tag of its own until the group is
        // confirmed: with a full set of tags, the last waits until then.
        let initial: Tags = aws_tags
            .iter()
            .take(tags::MAX_TAGS - 1)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let new = NewSecurityGroup {
            vpc_id: &m.vpc_id,
            name: &name,
            description: &m.description,
            tags: &initial,
            creation_token: &token,
        };
        let created = match ec2.create_security_group(&new).await {
            Ok(created) => created,
            Err(e) => {
                diags.error(
                    "Could not create the security group",
                    format!("CreateSecurityGroup in {}: {e}", m.vpc_id),
                );
                return None;
            }
        };
        let id = created.id;
        tracing::info!(group_id = %id, "security group created");

        // From here on the group exists: every path returns a state with its
        // id, so a failure taints it instead of losing it.
        let timeout = timeouts::get(planned, "create", CREATE_TIMEOUT);
        let state = |owner: &str| state_from_aws(clients, planned, &id, &name, owner);
        let wanted = sg_rules::desired(&m.access(), &vpc_cidrs);
        // Whoever uses the group next reads it (the endpoint's plan checks
        // its VPC), so the create ends once EC2 shows it. The rules need no
        // read first: they go out with that wait.
        let (visible, first) = tokio::join!(
            ec2.wait_security_group_visible(&id, timeout, &ctx.stop),
            first_round(ec2, &id, &wanted, ipv6),
        );
        let group = match visible {
            Ok(group) => group,
            Err(e) => {
                diags.error(
                    "Could not see the new security group",
                    format!("{id} was created, but EC2 did not show it: {e}. Terraform marks it tainted; the next apply replaces it."),
                );
                return Some(state(&created.owner_id));
            }
        };
        if let Err(e) = &first.rules {
            tracing::debug!(group_id = %id, error = %e, "finishing the new group's rules from a read of them");
            if let Err(e) = converge_rules(ec2, &id, &wanted, !first.egress_revoked).await {
                diags.error(
                    "Could not finish setting up the security group",
                    format!("{id} exists, but setting its rules failed: {e}. Terraform marks it tainted; the next apply replaces it."),
                );
                return Some(state(&group.owner_id));
            }
        }
        if first.untagged.is_err()
            && let Err(e) = ec2.delete_tag_keys(&id, &[CREATION_TOKEN_TAG]).await
        {
            tracing::warn!(group_id = %id, error = %e, "could not remove the creation token tag; it stays on the group, out of state");
        }
        if initial.len() < aws_tags.len()
            && let Err(e) = ec2.update_tags(&id, &initial, &aws_tags).await
        {
            diags.error(
                "Could not finish tagging the security group",
                format!("{id}: {e}. Terraform marks it tainted; the next apply replaces it."),
            );
        }
        Some(state(&group.owner_id))
    }

    // ---------------------------------------------------------------- read --

    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let clients = &ctx.data;
        let prior = Model::from_value(state);
        let id = &prior.id;
        if id.is_empty() {
            return None;
        }
        // One DescribeSecurityGroups (a listing of the VPC, or batched by
        // id) answers both the group and its rules (rule ids are only
        // needed to change rules).
        let vpc_id = Some(prior.vpc_id.as_str()).filter(|v| !v.is_empty());
        let read = clients.ec2.refresh_security_group(id, vpc_id).await;
        let group = match super::refreshed(read, "security group", id, state, diags) {
            super::Refreshed::Found(found) => found,
            super::Refreshed::Answer(answer) => return answer,
        };
        let rules = &group.rules;
        // An import has no arguments yet: they are read from the rules.
        let importing = Attrs::of(state).is_null(attr::ports);
        let expected = if importing {
            sg_rules::read_access(rules, None)
        } else {
            prior.access()
        };
        let vpc_cidrs = if expected.allow_vpc_cidr {
            // The VPC may have gained or lost CIDR blocks since.
            match clients.ec2.find_vpc(&group.vpc_id).await {
                Ok(vpc) => vpc.cidr_blocks,
                Err(e) => {
                    diags.error(
                        "Could not read the security group's VPC",
                        format!("{}: {e}", group.vpc_id),
                    );
                    return Some(state.clone());
                }
            }
        } else {
            Vec::new()
        };
        let (access, unmanaged) = sg_rules::read_against(rules, &expected, &vpc_cidrs);
        if importing && !unmanaged.is_empty() {
            diags.warning(
                "Rules to be revoked",
                format!(
                    "{id} has rules its arguments cannot express: {}. {TYPE_NAME} keeps exactly the rules its \
                     arguments ask for (and no egress: security groups are stateful, an endpoint needs none), so \
                     the first apply revokes them.",
                    unmanaged.join("; ")
                ),
            );
        }
        // An import knows no name_prefix yet: a generated name tells it.
        let name_prefix = match prefix_of_generated(&group.name) {
            Some(prefix) if importing => Some(prefix.to_owned()),
            _ => prior.name_prefix.clone(),
        };
        let (tags, tags_all) = tags::read(
            clients,
            &group.tags,
            CREATION_TOKEN_TAG,
            prior.tags.as_ref(),
        );
        let owner_id = super::owner(clients, &group.owner_id);
        let read = Model {
            arn: super::ec2_arn(clients, &owner_id, ARN_KIND, &group.id),
            owner_id,
            id: group.id,
            vpc_id: group.vpc_id,
            name: Some(group.name),
            name_prefix,
            engine: if importing {
                Engine::of_ports(&access.ports).name().to_owned()
            } else {
                prior.engine.clone()
            },
            description: group.description,
            ports: access.ports,
            allowed_security_group_ids: null_if_empty(
                access.groups,
                prior.allowed_security_group_ids.is_none(),
            ),
            allowed_cidr_blocks: null_if_empty(access.cidrs, prior.allowed_cidr_blocks.is_none()),
            allowed_ipv6_cidr_blocks: null_if_empty(
                access.ipv6_cidrs,
                prior.allowed_ipv6_cidr_blocks.is_none(),
            ),
            allowed_prefix_list_ids: null_if_empty(
                access.prefix_lists,
                prior.allowed_prefix_list_ids.is_none(),
            ),
            allow_vpc_cidr: access.allow_vpc_cidr,
            unmanaged_rules: unmanaged,
            tags,
            tags_all,
            timeouts: prior.timeouts,
        };
        Some(read.to_value())
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
        let id = old.id.as_str();
        if id.is_empty() {
            super::missing_id(diags);
            return prior.clone();
        }
        // The refresh before this plan read the rules against the VPC's
        // blocks: when what they must let in is unchanged and nothing else
        // is there, only the tags change, and the VPC and the rules are not
        // read again.
        let rules_change = old.access() != new.access() || !old.unmanaged_rules.is_empty();
        let result: Result<(), AwsError> = async {
            if rules_change {
                let vpc_cidrs = if new.allow_vpc_cidr {
                    ec2.find_vpc(&new.vpc_id).await?.cidr_blocks
                } else {
                    Vec::new()
                };
                converge_rules(
                    ec2,
                    id,
                    &sg_rules::desired(&new.access(), &vpc_cidrs),
                    false,
                )
                .await?;
            }
            if let Some((from, to)) = tags::change(clients, &old.tags_all, &new.tags_all) {
                ec2.update_tags(id, &from, &to).await?;
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                let name = old.name.as_deref().unwrap_or_default();
                state_from_aws(clients, planned, id, name, &old.owner_id)
            }
            Err(e) => {
                diags.error("Could not update the security group", format!("{id}: {e}"));
                // Report what is really there now, so the next plan repairs
                // it: a last look, which the end of the update (its timeout,
                // or Ctrl-C) does not cut off.
                let mut ignored = Diagnostics::new();
                let look = self.read(ctx, prior, &mut ignored);
                crate::framework::bounds::last_look(LAST_LOOK, look)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| prior.clone())
            }
        }
    }

    // -------------------------------------------------------------- delete --

    async fn delete(&self, ctx: &Ctx<Clients>, prior: &Value, diags: &mut Diagnostics) {
        let id = Model::from_value(prior).id;
        if id.is_empty() {
            return;
        }
        let timeout = timeouts::get(prior, "delete", DELETE_TIMEOUT);
        match ctx
            .data
            .ec2
            .delete_security_group(&id, timeout, &ctx.stop)
            .await
        {
            Ok(()) => tracing::info!(group_id = %id, "security group deleted"),
            Err(DeleteGroupError::InUse {
                message,
                users,
                stopped,
            }) => {
                let users: Vec<String> = users
                    .iter()
                    .map(|n| {
                        if n.description.is_empty() {
                            n.id.clone()
                        } else {
                            format!("{} ({})", n.id, n.description)
                        }
                    })
                    .collect();
                let waited = if stopped {
                    "The wait was interrupted"
                } else {
                    "The delete timed out"
                };
                let users = if users.is_empty() {
                    "EC2 did not say which resources".to_owned()
                } else {
                    users.join(", ")
                };
                diags.error(
                    "Security group still in use",
                    format!(
                        "{waited} while EC2 refused to delete {id} ({message}). Still using it: {users}. Delete or \
                         change those (an endpoint's interfaces go away a few minutes after the endpoint is \
                         deleted), then run terraform destroy again, or raise timeouts.delete."
                    ),
                );
            }
            Err(DeleteGroupError::Aws(e)) => {
                diags.error("Could not delete the security group", format!("{id}: {e}"))
            }
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
        Some(super::identity::regional(
            "The security group's id (`sg-...`).",
        ))
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
        super::import_by_id(&self.schema(), id, "sg", "security group", diags)
    }

    // ---------------------------------------------------------------- move --

    /// Takes over an `aws_security_group` of hashicorp/aws named in a
    /// `moved` block.
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
            "aws_security_group",
            diags,
        )?;
        moved::from_aws_security_group(&source, diags)
    }
}

/// The ports and the description the configuration leaves out follow the
/// engine; a description that changes so makes a new group, as EC2 cannot
/// change one in place.
fn engine_defaults(change: &mut PlanChange<'_>) {
    let c = Attrs::of(change.config);
    // The planned engine: the configuration's, or its default.
    let engine = Attrs::of(&change.planned)
        .str(attr::engine)
        .and_then(|e| Engine::parse(e).ok());
    let Some(engine) = engine else {
        // Unknown yet (or invalid, which validate reported): the defaults
        // are known once the engine is.
        for name in [attr::ports, attr::description] {
            if c.is_null(name) {
                change.set_planned(name, Value::unknown());
            }
        }
        return;
    };
    let defaults = [
        (attr::ports, ports_value(engine.ports())),
        (attr::description, string(default_description(engine))),
    ];
    let prior = Attrs::of(change.prior);
    for (name, value) in defaults {
        if !c.is_null(name) {
            continue;
        }
        if name == attr::description && !change.prior.is_null() && prior.get(name) != &value {
            change.requires_replace.push(root(name));
        }
        if prior.get(name) != &value {
            change.changing = true;
        }
        change.set_planned(name, value);
    }
}

/// A source group: `sg-...`, or `<account-id>/sg-...` for a group of
/// another account (EC2's UserIdGroupPair: its UserId and GroupId).
fn source_group(s: &str) -> Result<(), String> {
    match s.split_once('/') {
        None => validate::ec2_id(s, "sg", "security group"),
        Some((account, group)) => {
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "{s:?}: {account:?} is not an AWS account id. A group of another account is written \
                     \"<12-digit account id>/sg-...\", such as \"123456789012/sg-0123456789abcdef0\"."
                ));
            }
            validate::ec2_id(group, "sg", "security group")
        }
    }
}

/// The name prefix hashicorp/aws records when a group was given neither
/// `name` nor `name_prefix`: this resource records null for that.
const AWS_DEFAULT_NAME_PREFIX: &str = "terraform-";

/// The state once a write succeeded: the planned values with the computed
/// ones filled in (`owner`: as EC2 reported it, if it did).
fn state_from_aws(clients: &Clients, planned: &Value, id: &str, name: &str, owner: &str) -> Value {
    let mut state = Model::from_value(planned);
    let owner_id = super::owner(clients, owner);
    state.arn = super::ec2_arn(clients, &owner_id, ARN_KIND, id);
    state.owner_id = owner_id;
    state.id = id.to_owned();
    state.name = Some(name.to_owned());
    state.unmanaged_rules = Vec::new();
    let p = Attrs::of(planned);
    if !p.get(attr::tags_all).is_fully_known() {
        let own = tags::known(p.get(attr::tags)).unwrap_or_default();
        state.tags_all = tags::for_aws(clients, &tags::merge(&clients.default_tags, &own));
    }
    state.to_value()
}

/// Brings the group's rules to exactly `wanted`: revokes what is not
/// wanted (egress included) before authorizing what is missing, so a CIDR
/// rule changing origin is revoked and authorized again with its new
/// description. Each round reads the rules first, so a round repeated after
/// a lost answer (rules already there: `InvalidPermission.Duplicate`; already
/// gone: `InvalidPermission.NotFound`, or `InvalidSecurityGroupRuleId.NotFound`
/// for a revoke by rule id) only does what is left. For a group just
/// created, the rules are read until EC2 shows the default egress rule
/// every new group has (an empty answer is EC2 not showing them yet).
async fn converge_rules(
    ec2: &crate::aws::Ec2,
    id: &str,
    wanted: &BTreeSet<IngressRule>,
    new_group: bool,
) -> Result<(), AwsError> {
    const ROUNDS: usize = 3;
    for round in 1..=ROUNDS {
        // A new group's first read waits for its default egress rule to
        // show; after a round, that rule may be revoked already.
        let rules = if new_group && round == 1 {
            ec2.new_group_rules(id).await?
        } else {
            ec2.security_group_rules_now(id).await?
        };
        let changes = sg_rules::changes(&rules, wanted);
        if changes.is_empty() {
            return Ok(());
        }
        let result = async {
            ec2.revoke_rules(id, false, changes.revoke_ingress).await?;
            ec2.revoke_rules(id, true, changes.revoke_egress).await?;
            ec2.authorize_ingress(id, &changes.authorize).await
        }
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(e)
                if round < ROUNDS
                    && matches!(
                        e.code(),
                        "InvalidPermission.Duplicate"
                            | "InvalidPermission.NotFound"
                            | "InvalidSecurityGroupRuleId.NotFound"
                    ) =>
            {
                tracing::debug!(group_id = id, error = %e, "rules changed under a retried call; reading them again");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What [`first_round`] did.
struct FirstRound {
    /// Ok when the group has exactly the wanted rules.
    rules: Result<(), AwsError>,
    /// Whether the default egress rule is known to be gone.
    egress_revoked: bool,
    untagged: Result<(), AwsError>,
}

/// A new group's setup in one round trip: its default egress rule revoked
/// by its permission (EC2 gives every new group in a VPC the same one), the
/// wanted ingress authorized, and the creation token's tag removed (it has
/// done its job: this create has the group's id). None of the three
/// depends on another, so they go out together. Where EC2 does not show
/// the group or its default rule yet (InvalidGroup.NotFound,
/// InvalidPermission.NotFound), where an answer was lost, or where the
/// VPC's blocks are unknown, `rules` is the error and the create finishes
/// from a read of the rules ([`converge_rules`]), as an update does.
async fn first_round(
    ec2: &crate::aws::Ec2,
    id: &str,
    wanted: &BTreeSet<IngressRule>,
    ipv6: Option<bool>,
) -> FirstRound {
    let authorize = sg_rules::changes(&[], wanted).authorize;
    let (revoked, authorized, untagged) = tokio::join!(
        async {
            match ipv6 {
                Some(ipv6) => ec2.revoke_default_egress(id, ipv6).await,
                None => Err(AwsError::Transport(
                    "the VPC's blocks are unknown, so its groups' default egress rules are".into(),
                )),
            }
        },
        ec2.authorize_ingress(id, &authorize),
        ec2.delete_tag_keys(id, &[CREATION_TOKEN_TAG]),
    );
    FirstRound {
        egress_revoked: revoked.is_ok(),
        rules: revoked.and(authorized),
        untagged,
    }
}

/// EC2 takes at most this many inbound rules per group for each IP
/// version ("Inbound or outbound rules per security group: 60 ... enforced
/// separately for IPv4 rules and IPv6 rules", Amazon VPC quotas).
const MAX_RULES: usize = 60;

/// Ports × sources must fit EC2's rule quota, per IP version (rules with a
/// security group source counted with IPv4). Without the VPC's blocks yet,
/// `allow_vpc_cidr` counts as one IPv4 block.
fn check_rule_count(
    access: &Access,
    vpc_cidrs: Option<&[String]>,
    prefix_lists: &BTreeMap<String, (usize, bool)>,
    diags: &mut Diagnostics,
) {
    let vpc: Vec<String> = match vpc_cidrs {
        Some(blocks) => blocks.to_vec(),
        None => vec!["0.0.0.0/32".to_owned()],
    };
    let rules = sg_rules::desired(access, if access.allow_vpc_cidr { &vpc } else { &[] });
    let (mut v4, mut v6) = (0, 0);
    for rule in &rules {
        match &rule.peer {
            // A prefix list counts as its maximum entries, toward its
            // address family (Amazon VPC, "Managed prefix lists"); as one
            // IPv4 rule while its size is unknown.
            Peer::Cidr(list) if is_prefix_list(list) => match prefix_lists.get(list) {
                Some((max, true)) => v6 += max,
                Some((max, false)) => v4 += max,
                None => v4 += 1,
            },
            Peer::Cidr(c) if c.contains(':') => v6 += 1,
            _ => v4 += 1,
        }
    }
    for (count, version) in [(v4, "IPv4 (security group sources included)"), (v6, "IPv6")] {
        if count > MAX_RULES {
            diags.attr_error(
                root(attr::ports),
                "Too many rules for one security group",
                format!(
                    "{} ports times the sources make {count} {version} inbound rules (a prefix list counts as \
                     its maximum entries), and EC2 takes at most \
                     {MAX_RULES} per security group (a quota AWS can raise on request). Allow fewer sources (a \
                     CIDR block covering several, or a security group the clients share), fewer ports, or split \
                     the sources over two groups.",
                    access.ports.len()
                ),
            );
        }
    }
}

/// A CIDR block both in `allowed_cidr_blocks` and among the VPC's own,
/// with `allow_vpc_cidr` on: EC2 refuses the second rule as a duplicate.
fn vpc_cidr_overlap(access: &Access, vpc_cidrs: &[String]) -> Option<String> {
    if !access.allow_vpc_cidr {
        return None;
    }
    let (both, argument) = [
        (&access.cidrs, attr::allowed_cidr_blocks),
        (&access.ipv6_cidrs, attr::allowed_ipv6_cidr_blocks),
    ]
    .into_iter()
    .find_map(|(blocks, argument)| {
        let both = blocks.iter().find(|c| vpc_cidrs.contains(c))?;
        Some((both, argument))
    })?;
    Some(format!(
        "{both} is one of the VPC's CIDR blocks, which allow_vpc_cidr = true already allows. Remove it from \
         {argument}."
    ))
}

/// The prefix of a name generated from `name_prefix`: by this provider
/// ([`unique_name`]: 20 hexadecimal digits) or by hashicorp/aws (26
/// decimal digits). `None` for a name that was not generated, or was
/// generated without a prefix (`terraform-`).
fn prefix_of_generated(name: &str) -> Option<&str> {
    // The suffix is judged by bytes, so a name of any characters (EC2
    // allows UTF-8) is read without slicing inside one; an all-ASCII
    // suffix starts on a character boundary.
    let split = |len: usize, digit: fn(&u8) -> bool| {
        let at = name.len().checked_sub(len).filter(|at| *at > 0)?;
        name.as_bytes()[at..].iter().all(digit).then(|| &name[..at])
    };
    let prefix = split(26, u8::is_ascii_digit)
        .or_else(|| split(20, |b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)))?;
    (prefix != AWS_DEFAULT_NAME_PREFIX).then_some(prefix)
}

/// `prefix` + a time-ordered unique suffix, as the AWS provider names
/// groups when no name is given.
fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}{:016x}{:04x}", nanos as u64, fastrand::u16(..))
}

/// Names and descriptions of security groups take letters, digits, spaces
/// and `._-:/()#,@[]+=&;{}!$*`, up to `max` characters; names may not start
/// with `sg-`.
fn group_text(name: &str, text: &str, max: usize) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("{name} is empty. Leave it out instead."));
    }
    if text.chars().count() > max {
        return Err(format!("{name} is longer than {max} characters."));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(*c)))
    {
        return Err(format!(
            "{name} contains {bad:?}. EC2 takes letters, digits, spaces and ._-:/()#,@[]+=&;{{}}!$* only."
        ));
    }
    if name != attr::description && text.to_ascii_lowercase().starts_with("sg-") {
        return Err(format!("{name} may not start with \"sg-\"."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::{ObjectBuilder, string_set};

    #[test]
    fn the_whole_internet_as_a_source_is_a_warning() {
        for everything in ["0.0.0.0/0", "::/0"] {
            let config = ObjectBuilder::new()
                .set(attr::vpc_id, string("vpc-0123456789abcdef0"))
                .set(attr::allowed_cidr_blocks, string_set([everything]))
                .set(attr::ports, ports_value([5432]))
                .set(attr::allow_vpc_cidr, Value::Bool(false))
                .build();
            let mut diags = Diagnostics::new();
            SecurityGroupResource.validate(&config, &mut diags);
            assert!(!diags.has_errors(), "{diags:?}");
            let text = format!("{diags:?}");
            assert!(
                text.contains("Every address allowed"),
                "{everything}: {text}"
            );
        }
    }

    #[test]
    fn generated_names_give_their_prefix_back() {
        let name = unique_name("app-");
        assert_eq!(prefix_of_generated(&name), Some("app-"), "{name}");
        assert_eq!(prefix_of_generated(&unique_name("terraform-")), None);
        assert_eq!(
            prefix_of_generated("db-20261123215855846100000002"),
            Some("db-")
        );
        assert_eq!(
            prefix_of_generated("terraform-20261123215855846100000002"),
            None
        );
        assert_eq!(prefix_of_generated("db-endpoint"), None);
    }

    #[test]
    fn names_of_any_characters_are_read_without_a_panic() {
        // Multi-byte characters where the generated suffix would start.
        assert_eq!(prefix_of_generated(&"é".repeat(20)), None);
        assert_eq!(prefix_of_generated(&"数".repeat(30)), None);
        assert_eq!(
            prefix_of_generated("grüße-0123456789abcdef0123"),
            Some("grüße-")
        );
        assert_eq!(
            prefix_of_generated("データ-20261123215855846100000002"),
            Some("データ-")
        );
        assert_eq!(
            prefix_of_generated(&format!("é{}", "0".repeat(20))),
            Some("é")
        );
    }
}
