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
//! move (from `aws_security_group`).
//!
//! Why this file is over 1,000 lines: its code is about 940; the rest is
//! unit tests, mostly of the move from `aws_security_group`.

use std::time::Duration;

use async_trait::async_trait;

use crate::aws::AwsError;
use std::collections::BTreeSet;

use crate::aws::model::{IngressRule, Peer, Rule, Tags};
use crate::aws::security_group::{CREATION_TOKEN_TAG, DeleteGroupError, NewSecurityGroup};
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::model::{Attrs, ObjectBuilder, string, string_list, string_map, string_set};
use crate::framework::path::AttributePath;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::server::{Ctx, PlanChange, Resource};
use crate::framework::timeouts;
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::privatelink::DEFAULT_PORTS;
use crate::resources::moves::{self, SourceState};
use crate::resources::sg_rules::{self, Access};
use crate::resources::tags;
use crate::validate::{self, ports_value};

pub const TYPE_NAME: &str = "planetscale_privatelink_security_group";
pub const DEFAULT_DESCRIPTION: &str =
    "PostgreSQL and PSBouncer to a PlanetScale PrivateLink endpoint. Managed by Terraform.";
const CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

fn root(name: &str) -> AttributePath {
    AttributePath::root().attr(name)
}

// ---------------------------------------------------------------- model --

/// The arguments, once known.
#[derive(Clone, Debug)]
struct Model {
    vpc_id: String,
    name: Option<String>,
    name_prefix: Option<String>,
    description: String,
    access: Access,
    /// Whether each source argument was null (not set) rather than empty, so
    /// the state keeps the form of the configuration.
    groups_null: bool,
    cidrs_null: bool,
    tags_all: Tags,
}

impl Model {
    fn from_value(value: &Value) -> Model {
        let a = Attrs::of(value);
        let ports = validate::port_set(&a, "ports").unwrap_or_default();
        Model {
            vpc_id: a.string("vpc_id").unwrap_or_default(),
            name: a.string("name"),
            name_prefix: a.string("name_prefix"),
            description: a
                .string("description")
                .unwrap_or_else(|| DEFAULT_DESCRIPTION.to_owned()),
            access: Access {
                ports,
                groups: a
                    .strings("allowed_security_group_ids")
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                cidrs: a
                    .strings("allowed_cidr_blocks")
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                allow_vpc_cidr: a.bool("allow_vpc_cidr").unwrap_or(false),
            },
            groups_null: a.is_null("allowed_security_group_ids"),
            cidrs_null: a.is_null("allowed_cidr_blocks"),
            tags_all: a.string_map("tags_all").unwrap_or_default(),
        }
    }
}

fn set_or_null(items: &std::collections::BTreeSet<String>, null_when_empty: bool) -> Value {
    if items.is_empty() && null_when_empty {
        Value::Null
    } else {
        string_set(items.iter().cloned())
    }
}

pub struct SecurityGroupResource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl Resource<Clients> for SecurityGroupResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let set = |t: Type| Type::Set(Box::new(t));
        Schema::new(
            Block::new(
                "A security group for a PlanetScale PrivateLink endpoint: lets PostgreSQL (5432) and \
                 PSBouncer (6432) in from the application's security groups, chosen CIDR blocks, or the \
                 VPC's own CIDR blocks. The resource owns every rule of the group: rules added outside \
                 Terraform show as changes and are removed on apply, and the group has no egress rules \
                 (security groups are stateful; the endpoint needs none).",
            )
            .attribute(Attribute::string("id").computed().use_state_for_unknown().describe("The security group id (`sg-...`)."))
            .attribute(Attribute::string("arn").computed().use_state_for_unknown().describe("The security group ARN."))
            .attribute(Attribute::string("owner_id").computed().use_state_for_unknown().describe("The AWS account that owns the group."))
            .attribute(Attribute::string("vpc_id").required().requires_replace().describe(
                "The VPC the endpoint is in.",
            ))
            .attribute(Attribute::string("name").optional_computed().requires_replace().use_state_for_unknown().describe(
                "The group's name. Conflicts with `name_prefix`; when neither is set, a unique name starting \
                 with `terraform-` is generated.",
            ))
            .attribute(Attribute::string("name_prefix").optional().requires_replace().describe(
                "Generate a unique name starting with this prefix. Conflicts with `name`.",
            ))
            .attribute(Attribute::string("description").default(string(DEFAULT_DESCRIPTION)).requires_replace().describe(
                "The group's description, which EC2 cannot change in place.",
            ))
            .attribute(Attribute::new("ports", set(Type::Number)).default(ports_value(DEFAULT_PORTS)).describe(
                "TCP ports to let in, each from 1 to 65535: PostgreSQL listens on 5432 and PSBouncer on 6432. \
                 Changes in place.",
            ))
            .attribute(Attribute::new("allowed_security_group_ids", set(Type::String)).optional().describe(
                "Security groups of the application hosts allowed to connect. Changes in place.",
            ))
            .attribute(Attribute::new("allowed_cidr_blocks", set(Type::String)).optional().describe(
                "IPv4 or IPv6 CIDR blocks (such as subnets' CIDR blocks) allowed to connect. A block with \
                 host bits set is refused with its network address as the fix. Changes in place.",
            ))
            .attribute(Attribute::bool("allow_vpc_cidr").default(Value::Bool(false)).describe(
                "Allow the VPC's own CIDR blocks (all of them, IPv4 and IPv6). At least one \
                 of `allowed_security_group_ids`, `allowed_cidr_blocks` and `allow_vpc_cidr` is required.",
            ))
            .attribute(Attribute::string_list("unmanaged_rules").computed().describe(
                "Rules of the group that its arguments do not ask for, egress rules included, as the last \
                 refresh found them (such as `ingress tcp 22 from 0.0.0.0/0`): rules added outside Terraform. \
                 The plan shows them going, and the apply revokes them.",
            ))
            .attribute(Attribute::string_map("tags").optional().describe("Tags for the group."))
            .attribute(Attribute::string_map("tags_all").computed().describe(
                "All tags of the group: the provider's `default_tags` merged with `tags`.",
            ))
            .block(timeouts::block(&[("create", CREATE_TIMEOUT), ("delete", DELETE_TIMEOUT)])),
        )
    }

    // ------------------------------------------------------------ validate --

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let c = Attrs::of(config);
        if let Some(vpc) = c.str("vpc_id")
            && let Err(why) = validate::ec2_id(vpc, "vpc", "VPC")
        {
            diags.attr_error(root("vpc_id"), "Invalid VPC id", why);
        }
        if c.string("name").is_some() && c.string("name_prefix").is_some() {
            diags.attr_error(
                root("name_prefix"),
                "Conflicting arguments",
                "Set name or name_prefix, not both.",
            );
        }
        for (attr, max) in [("name", 255), ("name_prefix", 100), ("description", 255)] {
            if let Some(text) = c.str(attr)
                && let Err(why) = group_text(attr, text, max)
            {
                diags.attr_error(root(attr), format!("Invalid {attr}"), why);
            }
        }
        validate::ports(&c, "ports", diags);
        validate::each_string(
            &c,
            "allowed_security_group_ids",
            diags,
            |s| validate::ec2_id(s, "sg", "security group"),
            "Invalid security group id",
        );
        validate::each_string(
            &c,
            "allowed_cidr_blocks",
            diags,
            |s| validate::cidr(s).map(|_| ()),
            "Invalid CIDR block",
        );
        validate::tags(&c, "tags", diags);
        for cidr in c.strings("allowed_cidr_blocks").unwrap_or_default() {
            if cidr == "0.0.0.0/0" || cidr == "::/0" {
                diags.attr_warning(
                    root("allowed_cidr_blocks"),
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
        let all_known = [
            "ports",
            "allowed_security_group_ids",
            "allowed_cidr_blocks",
            "allow_vpc_cidr",
        ]
        .iter()
        .all(|a| c.get(a).is_fully_known());
        if all_known {
            check_rule_count(&Model::from_value(config).access, None, diags);
        }

        // At least one source, once all three are known.
        let known = [
            "allowed_security_group_ids",
            "allowed_cidr_blocks",
            "allow_vpc_cidr",
        ]
        .iter()
        .all(|a| !c.is_unknown(a) && c.elements(a).is_none_or(|e| e.iter().all(Value::is_known)));
        if known {
            let none = c
                .elements("allowed_security_group_ids")
                .is_none_or(<[Value]>::is_empty)
                && c.elements("allowed_cidr_blocks")
                    .is_none_or(<[Value]>::is_empty)
                && !c.bool("allow_vpc_cidr").unwrap_or(false);
            if none {
                diags.attr_error(
                    root("allowed_security_group_ids"),
                    "No source allowed",
                    "The group would let nothing in. Set allowed_security_group_ids (the application hosts' \
                     security groups), allowed_cidr_blocks, or allow_vpc_cidr = true.",
                );
            }
        }
    }

    // ---------------------------------------------------------------- plan --

    async fn plan(&self, ctx: &Ctx<Clients>, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        let clients = &ctx.data;
        let c = Attrs::of(change.config);
        tags::plan(clients, change, 0, diags);
        // The group keeps exactly the rules its arguments ask for.
        let foreign = Attrs::of(change.prior)
            .elements("unmanaged_rules")
            .is_some_and(|r| !r.is_empty());
        if foreign {
            change.changing = true;
        }
        if let Value::Object(map) = &mut change.planned {
            map.insert("unmanaged_rules".into(), Value::List(Vec::new()));
        }

        // Checks that call AWS run only for values that change: on create,
        // and when the VPC's CIDR blocks matter to a change.
        let p = Attrs::of(change.prior);
        let creating = change.prior.is_null();
        let cidrs_change = c.get("allow_vpc_cidr") != p.get("allow_vpc_cidr")
            || c.get("allowed_cidr_blocks") != p.get("allowed_cidr_blocks");
        if !change.changing || !(creating || cidrs_change) {
            return;
        }
        // EC2 emulators accept a group in a VPC that does not exist, so the
        // VPC is checked here rather than left to CreateSecurityGroup.
        let Some(vpc_id) = c.str("vpc_id") else {
            return;
        };
        match clients.ec2.find_vpc(vpc_id).await {
            Ok(vpc) => {
                let m = Model::from_value(&change.planned);
                if let Some(why) = vpc_cidr_overlap(&m.access, &vpc.cidr_blocks) {
                    diags.attr_error(root("allowed_cidr_blocks"), "CIDR block allowed twice", why);
                }
                check_rule_count(&m.access, Some(&vpc.cidr_blocks), diags);
            }
            Err(e) if e.is_not_found() => diags.attr_error(
                root("vpc_id"),
                "VPC not found",
                format!("There is no VPC {vpc_id} in {} for these credentials. Check the id and the provider's region.", clients.region),
            ),
            Err(e) => diags.attr_warning(root("vpc_id"), "Could not check the VPC", e.to_string()),
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
        let name = m
            .name
            .clone()
            .unwrap_or_else(|| unique_name(m.name_prefix.as_deref().unwrap_or("terraform-")));
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let ec2 = &clients.ec2;

        let vpc_cidrs = if m.access.allow_vpc_cidr {
            match ec2.find_vpc(&m.vpc_id).await {
                Ok(vpc) => vpc.cidr_blocks,
                Err(e) => {
                    diags.attr_error(
                        root("vpc_id"),
                        "Could not read the VPC's CIDR blocks",
                        e.to_string(),
                    );
                    return None;
                }
            }
        } else {
            Vec::new()
        };

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
        let id = match ec2.create_security_group(&new).await {
            Ok(id) => id,
            Err(e) => {
                diags.error(
                    "Could not create the security group",
                    format!("CreateSecurityGroup in {}: {e}", m.vpc_id),
                );
                return None;
            }
        };
        tracing::info!(group_id = %id, "security group created");

        // From here on the group exists: every path returns a state with its
        // id, so a failure taints it instead of losing it.
        let timeout = timeouts::get(planned, "create", CREATE_TIMEOUT);
        let state = |owner| self.state_after_write(clients, planned, &id, &name, owner);
        let group = match ec2
            .wait_security_group_visible(&id, timeout, &ctx.stop)
            .await
        {
            Ok(group) => group,
            Err(e) => {
                diags.error(
                    "Could not see the new security group",
                    format!("{id} was created, but EC2 did not show it: {e}. Terraform marks it tainted; the next apply replaces it."),
                );
                return Some(state(None));
            }
        };
        let wanted = sg_rules::desired(&m.access, &vpc_cidrs);
        if let Err(e) = converge_rules(ec2, &id, &wanted, true).await {
            diags.error(
                "Could not finish setting up the security group",
                format!("{id} exists, but setting its rules failed: {e}. Terraform marks it tainted; the next apply replaces it."),
            );
            return Some(state(Some(group.owner_id)));
        }
        // The creation token has done its job (telling this create's group
        // from a stranger's after a lost answer); it would only take one of
        // the group's 50 tags.
        if let Err(e) = ec2.delete_tag_keys(&id, &[CREATION_TOKEN_TAG]).await {
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
        Some(state(Some(group.owner_id)))
    }

    // ---------------------------------------------------------------- read --

    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let clients = &ctx.data;
        let s = Attrs::of(state);
        let id = s.string("id")?;
        // One DescribeSecurityGroups (a listing of the VPC, or batched by
        // id) answers both the group and its rules (rule ids are only
        // needed to change rules).
        let group = match clients
            .ec2
            .refresh_security_group(&id, s.str("vpc_id"))
            .await
        {
            Ok(found) => found,
            Err(e) if e.is_not_found() => {
                tracing::info!(group_id = %id, "security group is gone; removing it from state");
                return None;
            }
            Err(e) => {
                diags.error("Could not read the security group", format!("{id}: {e}"));
                return Some(state.clone());
            }
        };
        let prior = Model::from_value(state);
        let rules = &group.rules;
        // An import has no arguments yet: they are read from the rules.
        let importing = s.is_null("ports");
        let expected = if importing {
            sg_rules::read_access(rules, None)
        } else {
            prior.access.clone()
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
            Some(prefix) if importing => string(prefix),
            _ => s.get("name_prefix").clone(),
        };
        let (tags_value, tags_all) =
            tags::read(clients, &group.tags, CREATION_TOKEN_TAG, s.get("tags"));
        Some(
            ObjectBuilder::new()
                .set("id", string(&group.id))
                .set("arn", string(arn(clients, &group.owner_id, &group.id)))
                .set("owner_id", string(&group.owner_id))
                .set("vpc_id", string(&group.vpc_id))
                .set("name", string(&group.name))
                .set("name_prefix", name_prefix)
                .set("description", string(&group.description))
                .set("ports", ports_value(access.ports.iter().copied()))
                .set(
                    "allowed_security_group_ids",
                    set_or_null(&access.groups, prior.groups_null),
                )
                .set(
                    "allowed_cidr_blocks",
                    set_or_null(&access.cidrs, prior.cidrs_null),
                )
                .set("allow_vpc_cidr", Value::Bool(access.allow_vpc_cidr))
                .set("unmanaged_rules", string_list(unmanaged))
                .set("tags", tags_value)
                .set("tags_all", tags_all)
                .set("timeouts", s.get("timeouts").clone())
                .build(),
        )
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
        let old = Model::from_value(prior);
        let new = Model::from_value(planned);
        let Some(id) = Attrs::of(prior).string("id") else {
            diags.error(
                "Missing id",
                "The prior state has no id. This is a bug in the provider; please report it.",
            );
            return prior.clone();
        };
        let result: Result<(), AwsError> = async {
            let vpc_cidrs = if new.access.allow_vpc_cidr {
                ec2.find_vpc(&new.vpc_id).await?.cidr_blocks
            } else {
                Vec::new()
            };
            converge_rules(ec2, &id, &sg_rules::desired(&new.access, &vpc_cidrs), false).await?;
            let (old_tags, new_tags) = (
                tags::for_aws(clients, &old.tags_all),
                tags::for_aws(clients, &new.tags_all),
            );
            if old_tags != new_tags {
                ec2.update_tags(&id, &old_tags, &new_tags).await?;
            }
            Ok(())
        }
        .await;
        match result {
            Ok(()) => {
                let name = Attrs::of(prior).string("name").unwrap_or_default();
                let owner = Attrs::of(prior).string("owner_id");
                self.state_after_write(clients, planned, &id, &name, owner)
            }
            Err(e) => {
                diags.error("Could not update the security group", format!("{id}: {e}"));
                // Report what is really there now, so the next plan repairs it.
                self.read(ctx, prior, &mut Diagnostics::new())
                    .await
                    .unwrap_or_else(|| prior.clone())
            }
        }
    }

    // -------------------------------------------------------------- delete --

    async fn delete(&self, ctx: &Ctx<Clients>, prior: &Value, diags: &mut Diagnostics) {
        let Some(id) = Attrs::of(prior).string("id") else {
            return;
        };
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
        if !moves::is_from_aws(source_provider, source_type, "aws_security_group") {
            return None;
        }
        let source = SourceState::parse(source_type, source_json, diags)?;
        from_aws_security_group(&source, diags)
    }
}

/// The name prefix hashicorp/aws records when a group was given neither
/// `name` nor `name_prefix`: this resource records null for that.
const AWS_DEFAULT_NAME_PREFIX: &str = "terraform-";

/// This resource's state from an `aws_security_group`'s (hashicorp/aws 5.x,
/// schema version 1). Its `ingress` blocks become rules read back as
/// arguments the way a refresh reads EC2's rules.
///
/// The state is what this resource would have applied: the sources that
/// have every port. The refresh after the move then reads every rule, so
/// the plan shows each one `ports` × sources does not cover (port ranges,
/// other protocols, sources lacking a port) as a change that removes it.
fn from_aws_security_group(s: &SourceState, diags: &mut Diagnostics) -> Option<Value> {
    let id = s.str("id").unwrap_or_default();
    if validate::ec2_id(id, "sg", "security group").is_err() {
        diags.error(
            "Cannot move the security group",
            format!(
                "The {} to move has no group id in its state ({id:?}).",
                s.type_name()
            ),
        );
        return None;
    }
    let mut rules = Vec::new();
    for (i, b) in s.blocks("ingress").iter().enumerate() {
        let port = |name| {
            b.int(name)
                .and_then(|p| i32::try_from(p).ok())
                .unwrap_or(-1)
        };
        let mut peers: Vec<Peer> = b
            .strings("security_groups")
            .into_iter()
            .map(Peer::Group)
            .collect();
        if b.bool("self") {
            peers.push(Peer::Group(id.to_owned()));
        }
        // A refresh reads prefix lists where CIDR blocks go, as EC2 names them.
        for attr in ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"] {
            peers.extend(b.strings(attr).into_iter().map(Peer::Cidr));
        }
        rules.extend(peers.into_iter().enumerate().map(|(j, peer)| Rule {
            id: format!("ingress-{i}-{j}"),
            egress: false,
            protocol: b.str("protocol").to_owned(),
            from_port: port("from_port"),
            to_port: port("to_port"),
            peer,
            description: b.str("description").to_owned(),
        }));
    }
    let found = sg_rules::read_access(&rules, None);
    let access = sg_rules::read_access(&rules, Some(&found));
    if !s.blocks("egress").is_empty() {
        diags.warning(
            "Egress rules to be revoked",
            format!(
                "{id} has egress rules. {TYPE_NAME} keeps none (security groups are stateful; an \
                 endpoint needs no egress): it revokes them the next time it updates the group."
            ),
        );
    }
    let name_prefix = match s.non_empty_string("name_prefix") {
        Value::String(p) if p == AWS_DEFAULT_NAME_PREFIX => Value::Null,
        other => other,
    };
    let (tags, tags_all) = s.tags();
    Some(
        ObjectBuilder::new()
            .set("id", string(id))
            .set("arn", s.string("arn"))
            .set("owner_id", s.string("owner_id"))
            .set("vpc_id", s.string("vpc_id"))
            .set("name", s.string("name"))
            .set("name_prefix", name_prefix)
            .set("description", s.string("description"))
            .set("ports", ports_value(access.ports.iter().copied()))
            .set(
                "allowed_security_group_ids",
                set_or_null(&access.groups, true),
            )
            .set("allowed_cidr_blocks", set_or_null(&access.cidrs, true))
            .set("allow_vpc_cidr", Value::Bool(access.allow_vpc_cidr))
            .set("unmanaged_rules", Value::List(Vec::new()))
            .set("tags", tags)
            .set("tags_all", tags_all)
            .set("timeouts", Value::Null)
            .build(),
    )
}

impl SecurityGroupResource {
    /// The state once a write succeeded: the planned values with the
    /// computed ones filled in.
    fn state_after_write(
        &self,
        clients: &Clients,
        planned: &Value,
        id: &str,
        name: &str,
        owner: Option<String>,
    ) -> Value {
        let Value::Object(map) = planned else {
            return planned.clone();
        };
        let mut map = map.clone();
        let owner = owner
            .or_else(|| clients.account_id.clone())
            .unwrap_or_default();
        map.insert("id".into(), string(id));
        map.insert("name".into(), string(name));
        map.insert("unmanaged_rules".into(), Value::List(Vec::new()));
        map.insert("arn".into(), string(arn(clients, &owner, id)));
        map.insert("owner_id".into(), string(owner));
        if !map.get("tags_all").is_some_and(Value::is_fully_known) {
            let own = tags::known(Attrs::of(planned).get("tags")).unwrap_or_default();
            map.insert(
                "tags_all".into(),
                string_map(&tags::for_aws(
                    clients,
                    &tags::merge(&clients.default_tags, &own),
                )),
            );
        }
        Value::Object(map)
    }
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
        let rules = if new_group {
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

/// EC2 takes at most this many inbound rules per group for each IP
/// version ("Inbound or outbound rules per security group: 60 ... enforced
/// separately for IPv4 rules and IPv6 rules", Amazon VPC quotas).
const MAX_RULES: usize = 60;

/// Ports × sources must fit EC2's rule quota, per IP version (rules with a
/// security group source counted with IPv4). Without the VPC's blocks yet,
/// `allow_vpc_cidr` counts as one IPv4 block.
fn check_rule_count(access: &Access, vpc_cidrs: Option<&[String]>, diags: &mut Diagnostics) {
    let vpc: Vec<String> = match vpc_cidrs {
        Some(blocks) => blocks.to_vec(),
        None => vec!["0.0.0.0/32".to_owned()],
    };
    let rules = sg_rules::desired(access, if access.allow_vpc_cidr { &vpc } else { &[] });
    let v6 = rules
        .iter()
        .filter(|r| matches!(&r.peer, Peer::Cidr(c) if c.contains(':')))
        .count();
    let v4 = rules.len() - v6;
    for (count, version) in [(v4, "IPv4 (security group sources included)"), (v6, "IPv6")] {
        if count > MAX_RULES {
            diags.attr_error(
                root("ports"),
                "Too many rules for one security group",
                format!(
                    "{} ports times the sources make {count} {version} inbound rules, and EC2 takes at most \
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
    let both = access.cidrs.iter().find(|c| vpc_cidrs.contains(c))?;
    Some(format!(
        "{both} is one of the VPC's CIDR blocks, which allow_vpc_cidr = true already allows. Remove it from \
         allowed_cidr_blocks."
    ))
}

fn arn(clients: &Clients, owner: &str, id: &str) -> String {
    format!(
        "arn:{}:ec2:{}:{owner}:security-group/{id}",
        clients.partition, clients.region
    )
}

/// The prefix of a name generated from `name_prefix`: by this provider
/// ([`unique_name`]: 20 hexadecimal digits) or by hashicorp/aws (26
/// decimal digits). `None` for a name that was not generated, or was
/// generated without a prefix (`terraform-`).
fn prefix_of_generated(name: &str) -> Option<&str> {
    let ours = name.len() > 20
        && name[name.len() - 20..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let theirs = name.len() > 26 && name[name.len() - 26..].bytes().all(|b| b.is_ascii_digit());
    let prefix = if theirs {
        &name[..name.len() - 26]
    } else if ours {
        &name[..name.len() - 20]
    } else {
        return None;
    };
    (prefix != AWS_DEFAULT_NAME_PREFIX && !prefix.is_empty()).then_some(prefix)
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
fn group_text(attr: &str, text: &str, max: usize) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("{attr} is empty. Leave it out instead."));
    }
    if text.chars().count() > max {
        return Err(format!("{attr} is longer than {max} characters."));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(*c)))
    {
        return Err(format!(
            "{attr} contains {bad:?}. EC2 takes letters, digits, spaces and ._-:/()#,@[]+=&;{{}}!$* only."
        ));
    }
    if attr != "description" && text.to_ascii_lowercase().starts_with("sg-") {
        return Err(format!("{attr} may not start with \"sg-\"."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::moves::testing::{assert_fits, edited, source};
    use serde_json::json;

    /// Captured from hashicorp/aws 5.100.0 against the EC2 emulator
    /// (`resources[].instances[].attributes` of terraform.tfstate): a group
    /// with a fixed name letting 5432 and 6432 in from another group; one
    /// named by `name_prefix` without rules; and one without either name,
    /// with CIDR, IPv6 and `self` sources, a port range and an egress rule.
    const FROM_GROUP: &str = include_str!("testdata/aws_security_group_ingress_from_group.json");
    const NAME_PREFIX: &str = include_str!("testdata/aws_security_group_name_prefix.json");
    const MIXED: &str = include_str!("testdata/aws_security_group_mixed_rules.json");

    fn moved(json: &str) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        let state = from_aws_security_group(&source("aws_security_group", json), &mut diags)
            .expect("a group moves in");
        assert_fits(&state, &SecurityGroupResource.schema());
        (state, diags)
    }

    #[test]
    fn a_group_letting_postgres_in_from_the_application_moves_in() {
        let (state, diags) = moved(FROM_GROUP);
        assert!(diags.is_empty(), "{diags:?}");
        let a = Attrs::of(&state);
        assert_eq!(a.str("id"), Some("sg-8eaa593fc105c9afe"));
        assert_eq!(
            a.str("arn"),
            Some("arn:aws:ec2:us-east-1:123456789012:security-group/sg-8eaa593fc105c9afe")
        );
        assert_eq!(a.str("owner_id"), Some("123456789012"));
        assert_eq!(a.str("vpc_id"), Some("vpc-4bf39cdbc4a0f3887"));
        assert_eq!(a.str("name"), Some("db-endpoint"));
        assert!(
            a.is_null("name_prefix"),
            "hashicorp/aws writes \"\" for none"
        );
        assert_eq!(a.str("description"), Some("PlanetScale endpoint"));
        assert_eq!(a.get("ports"), &ports_value([5432, 6432]));
        assert_eq!(
            a.get("allowed_security_group_ids"),
            &string_set(["sg-89ce23f2369a03f70"])
        );
        assert!(a.is_null("allowed_cidr_blocks"));
        assert_eq!(a.bool("allow_vpc_cidr"), Some(false));
        let name_tag = Tags::from([("Name".to_owned(), "db".to_owned())]);
        assert_eq!(a.string_map("tags"), Some(name_tag.clone()));
        assert_eq!(a.string_map("tags_all"), Some(name_tag));
        assert!(a.is_null("timeouts"));
    }

    #[test]
    fn a_chosen_name_prefix_is_kept_and_the_aws_default_is_not() {
        let (state, _) = moved(NAME_PREFIX);
        assert_eq!(Attrs::of(&state).str("name_prefix"), Some("app-"));
        assert!(Attrs::of(&state).is_null("tags"));
        let (state, _) = moved(MIXED);
        let a = Attrs::of(&state);
        assert_eq!(a.str("name"), Some("terraform-20261123215855846100000002"));
        assert!(
            a.is_null("name_prefix"),
            "neither name nor name_prefix was set"
        );
    }

    #[test]
    fn the_whole_internet_as_a_source_is_a_warning() {
        for everything in ["0.0.0.0/0", "::/0"] {
            let config = ObjectBuilder::new()
                .set("vpc_id", string("vpc-0123456789abcdef0"))
                .set("allowed_cidr_blocks", string_set([everything]))
                .set("ports", ports_value([5432]))
                .set("allow_vpc_cidr", Value::Bool(false))
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
    fn cidr_ipv6_and_self_sources_become_arguments() {
        let ingress = json!([{
            "cidr_blocks": ["192.0.2.0/24"],
            "description": "from the office",
            "from_port": 5432,
            "ipv6_cidr_blocks": ["2001:db8::/56"],
            "prefix_list_ids": [],
            "protocol": "tcp",
            "security_groups": ["sg-0123456789abcdef0"],
            "self": true,
            "to_port": 5432
        }]);
        let (state, diags) = moved(&edited(FROM_GROUP, &[("ingress", ingress)]));
        assert!(diags.is_empty(), "{diags:?}");
        let a = Attrs::of(&state);
        assert_eq!(a.get("ports"), &ports_value([5432]));
        assert_eq!(
            a.get("allowed_security_group_ids"),
            &string_set(["sg-0123456789abcdef0", "sg-8eaa593fc105c9afe"])
        );
        assert_eq!(
            a.get("allowed_cidr_blocks"),
            &string_set(["192.0.2.0/24", "2001:db8::/56"])
        );
    }

    #[test]
    fn rules_beyond_ports_times_sources_are_left_for_the_plan_to_remove() {
        // 5432 from two CIDR blocks and the group itself, 8000-8100 from the
        // VPC, all traffic out: no source has every port, so none is an
        // argument yet; the refresh after the move reads them all, and the
        // plan shows what the configuration does not ask for.
        let (state, diags) = moved(MIXED);
        let a = Attrs::of(&state);
        assert_eq!(a.get("ports"), &ports_value([5432, 8000, 8100]));
        assert!(a.is_null("allowed_security_group_ids"));
        assert!(a.is_null("allowed_cidr_blocks"));
        let text = format!("{diags:?}");
        assert!(!diags.has_errors(), "{text}");
        assert!(text.contains("egress rules"), "{text}");
    }

    #[test]
    fn a_state_without_a_group_id_is_refused() {
        let mut diags = Diagnostics::new();
        let json = edited(FROM_GROUP, &[("id", json!(null))]);
        let state = from_aws_security_group(&source("aws_security_group", &json), &mut diags);
        assert!(state.is_none());
        assert!(diags.has_errors());
    }

    #[tokio::test]
    async fn only_aws_security_group_of_hashicorp_aws_moves_in() {
        let moves = [
            (moves::AWS_PROVIDER, "aws_security_group", true),
            (moves::AWS_PROVIDER, "aws_default_security_group", false),
            (
                "registry.terraform.io/example/aws",
                "aws_security_group",
                false,
            ),
        ];
        for (provider, type_name, accepted) in moves {
            let mut diags = Diagnostics::new();
            let state = SecurityGroupResource
                .move_state(provider, type_name, FROM_GROUP.as_bytes(), &mut diags)
                .await;
            assert_eq!(state.is_some(), accepted, "{provider} {type_name}");
            assert!(diags.is_empty(), "{diags:?}");
        }
    }
}
