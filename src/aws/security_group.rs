//! Security groups and their rules: finders, create with adoption, rule
//! changes, and a delete that waits out DependencyViolation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, Tag, TagSpecification,
    UserIdGroupPair,
};
use tokio_util::sync::CancellationToken;

use crate::aws::batch::Listed;
use crate::aws::model::{IngressRule, NetworkInterface, Peer, Rule, SecurityGroup, Tags};
use crate::aws::retry::{Backoff, last_look, pause, within};
use crate::aws::{AwsError, Ec2, next_page};

/// The tag that proves a security group is the one a create made: EC2 has
/// no client token for CreateSecurityGroup, so after a lost answer the
/// retry meets `InvalidGroup.Duplicate` and must tell its own group from a
/// stranger's.
pub const CREATION_TOKEN_TAG: &str = "planetscale:creation-token";

pub struct NewSecurityGroup<'a> {
    pub vpc_id: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub tags: &'a Tags,
    pub creation_token: &'a str,
}

/// The tag specifications of a create: none at all when there are no tags,
/// since EC2 refuses a specification without tags ("Tag specification must
/// have at least one tag").
pub fn tag_specifications(resource: ResourceType, tags: &Tags) -> Option<Vec<TagSpecification>> {
    if tags.is_empty() {
        return None;
    }
    Some(vec![
        TagSpecification::builder()
            .resource_type(resource)
            .set_tags(Some(
                tags.iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .build(),
    ])
}

pub fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

/// The first look again at a group EC2 does not show yet. EC2's reads are
/// eventually consistent ("Eventual consistency", EC2 API reference): a
/// new group is usually visible at once, else within a few hundred
/// milliseconds, so the looks start short and grow by half. (The waiters
/// of terraform-plugin-sdk, which hashicorp/aws uses, look at once, then
/// after 200 ms, doubling up to 10 s.)
const VISIBILITY_FIRST_POLL: Duration = Duration::from_millis(100);

/// Whether `group` carries this create's token.
fn made_by(group: &SecurityGroup, creation_token: &str) -> bool {
    group.tags.get(CREATION_TOKEN_TAG).map(String::as_str) == Some(creation_token)
}

/// A group [`Ec2::create_security_group`] made (or adopted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedGroup {
    pub id: String,
    /// The owning account, from the create's ARN or the adopted group;
    /// empty when EC2 gave neither.
    pub owner_id: String,
}

/// The account of an EC2 ARN (`arn:aws:ec2:<region>:<account>:...`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

impl Ec2 {
    /// Creates the group. A duplicate name is adopted only when the
    /// existing group carries this create's token.
    pub async fn create_security_group(
        &self,
        new: &NewSecurityGroup<'_>,
    ) -> Result<CreatedGroup, AwsError> {
        let adopted = |group: SecurityGroup| CreatedGroup {
            id: group.id,
            owner_id: group.owner_id,
        };
        let mut tags = new.tags.clone();
        tags.insert(CREATION_TOKEN_TAG.to_owned(), new.creation_token.to_owned());
        let created = self
            .client
            .create_security_group()
            .vpc_id(new.vpc_id)
            .group_name(new.name)
            .description(new.description)
            .set_tag_specifications(tag_specifications(ResourceType::SecurityGroup, &tags))
            .send()
            .await;
        match created {
            Ok(out) => match out.group_id() {
                Some(id) => Ok(CreatedGroup {
                    id: id.to_owned(),
                    owner_id: out
                        .security_group_arn()
                        .and_then(arn_account)
                        .unwrap_or_default()
                        .to_owned(),
                }),
                None => Err(AwsError::Transport(
                    "CreateSecurityGroup answered without a group id".into(),
                )),
            },
            Err(err) => {
                let err = AwsError::from(err);
                if err.is_cancelled() {
                    // Cut off by the deadline or Ctrl-C: EC2 may have made
                    // it. One look, outside the operation's end.
                    let made = last_look(self.find_group_by_name(new.vpc_id, new.name)).await;
                    return match made {
                        Ok(Some(group)) if made_by(&group, new.creation_token) => {
                            tracing::info!(group_id = %group.id, "adopting the security group this create made before it was cut off");
                            Ok(adopted(group))
                        }
                        _ => Err(err),
                    };
                }
                if err.code() != "InvalidGroup.Duplicate" {
                    return Err(err);
                }
                match self.find_group_by_name(new.vpc_id, new.name).await? {
                    Some(group) if made_by(&group, new.creation_token) => {
                        tracing::info!(group_id = %group.id, "adopting the security group an earlier attempt of this create made");
                        Ok(adopted(group))
                    }
                    Some(group) => Err(AwsError::Api {
                        code: "InvalidGroup.Duplicate".into(),
                        message: format!(
                            "a security group named {:?} already exists in {} ({}) and was not made by this apply",
                            new.name, new.vpc_id, group.id
                        ),
                    }),
                    None => Err(err),
                }
            }
        }
    }

    async fn find_group_by_name(
        &self,
        vpc_id: &str,
        name: &str,
    ) -> Result<Option<SecurityGroup>, AwsError> {
        let out = self
            .client
            .describe_security_groups()
            .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
            .filters(Filter::builder().name("group-name").values(name).build())
            .send()
            .await?;
        Ok(out
            .security_groups()
            .iter()
            .map(group)
            .find(|g| g.name == name && g.vpc_id == vpc_id))
    }

    /// The security groups in `vpc_id` (every VPC when none), every page:
    /// what a `list` block finds.
    pub async fn security_groups_in(
        &self,
        vpc_id: Option<&str>,
    ) -> Result<Vec<SecurityGroup>, AwsError> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_security_groups()
                .set_filters(
                    vpc_id.map(|v| vec![Filter::builder().name("vpc-id").values(v).build()]),
                )
                .max_results(super::LISTING_PAGE)
                .set_next_token(token)
                .send()
                .await?;
            found.extend(out.security_groups().iter().map(group));
            token = next_page(out.next_token());
            if token.is_none() {
                return Ok(found);
            }
        }
    }

    /// The group, or `NotFound`. Lookups made together share one
    /// DescribeSecurityGroups call.
    pub async fn find_security_group(&self, id: &str) -> Result<SecurityGroup, AwsError> {
        self.groups.get(id).await
    }

    /// The group for a refresh: from a listing of `vpc_id` (its groups and
    /// their rules in one call, shared by the refresh reads after it), or
    /// through [`Ec2::find_security_group`] when the listing lacks it or no
    /// VPC is known (an import).
    pub async fn refresh_security_group(
        &self,
        id: &str,
        vpc_id: Option<&str>,
    ) -> Result<SecurityGroup, AwsError> {
        if let Some(vpc_id) = vpc_id {
            let client = self.client.clone();
            let listed = self
                .group_listings
                .find(vpc_id, id, || list_groups(client, vpc_id.to_owned()))
                .await;
            if let Some(group) = listed {
                return Ok(group);
            }
        }
        self.find_security_group(id).await
    }

    /// Every rule of the group, ingress and egress. Lookups made together
    /// share one DescribeSecurityGroupRules call.
    pub async fn security_group_rules(&self, group_id: &str) -> Result<Vec<Rule>, AwsError> {
        self.rules.get(group_id).await
    }

    /// Several groups, in the order asked, in one batched
    /// DescribeSecurityGroups call; a missing one is `NotFound`.
    pub async fn find_security_groups(
        &self,
        ids: &[String],
    ) -> Result<Vec<SecurityGroup>, AwsError> {
        self.each(
            ids,
            |ec2, id| async move { ec2.find_security_group(&id).await },
        )
        .await
        .into_iter()
        .collect()
    }

    /// The rules of several groups, by group id in the order asked, in one
    /// batched DescribeSecurityGroupRules call.
    pub async fn security_group_rules_of(
        &self,
        ids: &[String],
    ) -> Result<Vec<(String, Vec<Rule>)>, AwsError> {
        self.each(ids, |ec2, id| async move {
            let rules = ec2.security_group_rules(&id).await?;
            Ok((id, rules))
        })
        .await
        .into_iter()
        .collect()
    }

    /// Authorizes TCP ingress rules, grouped by port into one call.
    pub async fn authorize_ingress(
        &self,
        group_id: &str,
        rules: &[IngressRule],
    ) -> Result<(), AwsError> {
        if rules.is_empty() {
            return Ok(());
        }
        let mut ports: Vec<u16> = rules.iter().map(|r| r.port).collect();
        ports.sort_unstable();
        ports.dedup();
        let permissions = ports
            .into_iter()
            .map(|port| {
                let mut p = IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(i32::from(port))
                    .to_port(i32::from(port));
                for r in rules.iter().filter(|r| r.port == port) {
                    p = match &r.peer {
                        Peer::Group(id) => {
                            // Another account's group: `<account-id>/sg-...`.
                            let (user, group) = match id.split_once('/') {
                                Some((user, group)) => (Some(user), group),
                                None => (None, id.as_str()),
                            };
                            p.user_id_group_pairs(
                                UserIdGroupPair::builder()
                                    .set_user_id(user.map(str::to_owned))
                                    .group_id(group)
                                    .description(&r.description)
                                    .build(),
                            )
                        }
                        Peer::Cidr(list) if list.starts_with("pl-") => p.prefix_list_ids(
                            PrefixListId::builder()
                                .prefix_list_id(list)
                                .description(&r.description)
                                .build(),
                        ),
                        Peer::Cidr(cidr) if cidr.contains(':') => p.ipv6_ranges(
                            Ipv6Range::builder()
                                .cidr_ipv6(cidr)
                                .description(&r.description)
                                .build(),
                        ),
                        Peer::Cidr(cidr) => p.ip_ranges(
                            IpRange::builder()
                                .cidr_ip(cidr)
                                .description(&r.description)
                                .build(),
                        ),
                    };
                }
                p.build()
            })
            .collect();
        self.client
            .authorize_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(permissions))
            .send()
            .await?;
        Ok(())
    }

    pub async fn revoke_rules(
        &self,
        group_id: &str,
        egress: bool,
        rule_ids: Vec<String>,
    ) -> Result<(), AwsError> {
        if rule_ids.is_empty() {
            return Ok(());
        }
        if egress {
            self.client
                .revoke_security_group_egress()
                .group_id(group_id)
                .set_security_group_rule_ids(Some(rule_ids))
                .send()
                .await?;
        } else {
            self.client
                .revoke_security_group_ingress()
                .group_id(group_id)
                .set_security_group_rule_ids(Some(rule_ids))
                .send()
                .await?;
        }
        Ok(())
    }

    /// Revokes the rule EC2 gives every new group in a VPC, all traffic out
    /// to 0.0.0.0/0 (and to ::/0 when the VPC has an IPv6 block), named by
    /// its permission, so no read of the rules comes first. A rule EC2 does
    /// not show yet, or that is not there, is `InvalidPermission.NotFound`
    /// (whether EC2 says so with that code or by listing it as unknown).
    pub async fn revoke_default_egress(&self, group_id: &str, ipv6: bool) -> Result<(), AwsError> {
        let mut all = IpPermission::builder()
            .ip_protocol("-1")
            .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build());
        if ipv6 {
            all = all.ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build());
        }
        let out = self
            .client
            .revoke_security_group_egress()
            .group_id(group_id)
            .ip_permissions(all.build())
            .send()
            .await?;
        if out.unknown_ip_permissions().is_empty() && out.r#return() != Some(false) {
            Ok(())
        } else {
            Err(AwsError::Api {
                code: "InvalidPermission.NotFound".into(),
                message: format!("{group_id} does not show its default egress rule"),
            })
        }
    }

    /// The group's rules read now, not through the batcher: a read after a
    /// write must not join a batch that started before the write.
    pub async fn security_group_rules_now(&self, group_id: &str) -> Result<Vec<Rule>, AwsError> {
        Ok(
            describe_rules(self.client.clone(), vec![group_id.to_owned()])
                .await?
                .remove(group_id)
                .unwrap_or_default(),
        )
    }

    /// Waits until EC2 shows a group just created (reads right after the
    /// create may not find it yet), polling through NotFound, throttling
    /// and server errors until `timeout` or StopProvider (which also end a
    /// read EC2 never answers).
    pub async fn wait_security_group_visible(
        &self,
        id: &str,
        timeout: Duration,
        stop: &CancellationToken,
    ) -> Result<SecurityGroup, AwsError> {
        let deadline = Instant::now() + timeout;
        let mut backoff = Backoff::new(VISIBILITY_FIRST_POLL, Duration::from_secs(5));
        loop {
            let found = within(deadline, stop, self.find_security_group(id))
                .await
                .map_err(|why| {
                    why.into_error(&format!(
                        "waiting for {id} to be visible (EC2 did not answer)"
                    ))
                })?;
            match found {
                Ok(group) => return Ok(group),
                Err(e) if e.is_not_found() || e.is_transient() => {
                    tracing::debug!(group_id = id, error = %e, "the new security group is not visible yet");
                    if let Err(why) = pause(&mut backoff, deadline, stop).await {
                        return Err(
                            why.into_error(&format!("waiting for {id} to be visible ({e})"))
                        );
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The rules of a group just created, read until they include the
    /// default egress rule every new group has: an answer without it is EC2
    /// not showing the new group's rules yet. After a few answers without
    /// it, the rules are taken as they are.
    pub async fn new_group_rules(&self, group_id: &str) -> Result<Vec<Rule>, AwsError> {
        const READS: u32 = 8;
        let mut backoff = Backoff::new(VISIBILITY_FIRST_POLL, Duration::from_secs(2));
        let mut read = 0;
        loop {
            let rules = self.security_group_rules_now(group_id).await?;
            read += 1;
            if read >= READS || rules.iter().any(|r| r.egress) {
                return Ok(rules);
            }
            crate::framework::bounds::sleep(backoff.next_delay()).await;
        }
    }

    /// Deletes the group, retrying while EC2 answers DependencyViolation (an
    /// endpoint's interfaces still use it, or are still being released after
    /// the endpoint's delete). At the deadline, the error lists what still
    /// uses the group. A group already gone counts as deleted. A call EC2
    /// never answers ends at the deadline or StopProvider too.
    pub async fn delete_security_group(
        &self,
        id: &str,
        timeout: Duration,
        stop: &CancellationToken,
    ) -> Result<(), DeleteGroupError> {
        let deadline = Instant::now() + timeout;
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        loop {
            let deleted = within(
                deadline,
                stop,
                self.client.delete_security_group().group_id(id).send(),
            )
            .await
            .map_err(|why| {
                DeleteGroupError::Aws(
                    why.into_error(&format!("deleting {id} (EC2 did not answer)")),
                )
            })?;
            match deleted {
                Ok(_) => return Ok(()),
                Err(err) => match AwsError::from(err) {
                    e if e.is_not_found() => return Ok(()),
                    AwsError::DependencyViolation { message, .. } => {
                        tracing::debug!(group_id = id, %message, "security group still in use; waiting");
                        if let Err(interrupted) = pause(&mut backoff, deadline, stop).await {
                            let users = last_look(self.interfaces_using_group(id))
                                .await
                                .unwrap_or_default();
                            return Err(DeleteGroupError::InUse {
                                message,
                                users,
                                stopped: interrupted == crate::aws::retry::Interrupted::Stopped,
                            });
                        }
                    }
                    other => return Err(DeleteGroupError::Aws(other)),
                },
            }
        }
    }
}

#[derive(Debug)]
pub enum DeleteGroupError {
    InUse {
        message: String,
        users: Vec<NetworkInterface>,
        stopped: bool,
    },
    Aws(AwsError),
}

/// One DescribeSecurityGroups call over `ids`.
pub(crate) async fn describe_groups(
    client: aws_sdk_ec2::Client,
    ids: Vec<String>,
) -> Result<HashMap<String, SecurityGroup>, AwsError> {
    let mut found = HashMap::new();
    let mut token = None;
    loop {
        let out = client
            .describe_security_groups()
            .set_group_ids(Some(ids.clone()))
            .set_next_token(token)
            .send()
            .await?;
        found.extend(
            out.security_groups()
                .iter()
                .map(group)
                .map(|g| (g.id.clone(), g)),
        );
        token = next_page(out.next_token());
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// The groups of a VPC with their rules (see [`super::list_vpc`]).
async fn list_groups(client: aws_sdk_ec2::Client, vpc_id: String) -> Listed<SecurityGroup> {
    super::list_vpc("security groups", |token| {
        let request = client
            .describe_security_groups()
            .filters(Filter::builder().name("vpc-id").values(&vpc_id).build())
            .max_results(super::LISTING_PAGE)
            .set_next_token(token);
        async move {
            let out = request
                .send()
                .await
                .map_err(|e| crate::aws::error_message(&e))?;
            let items = out
                .security_groups()
                .iter()
                .map(group)
                .map(|g| (g.id.clone(), g))
                .collect();
            Ok((items, next_page(out.next_token())))
        }
    })
    .await
}

/// One DescribeSecurityGroupRules call (with its pages) for the rules of
/// every group in `ids`; a group without rules (or gone) gets none.
pub(crate) async fn describe_rules(
    client: aws_sdk_ec2::Client,
    ids: Vec<String>,
) -> Result<HashMap<String, Vec<Rule>>, AwsError> {
    let mut found: HashMap<String, Vec<Rule>> =
        ids.iter().map(|id| (id.clone(), Vec::new())).collect();
    let mut token = None;
    loop {
        let out = client
            .describe_security_group_rules()
            .filters(
                Filter::builder()
                    .name("group-id")
                    .set_values(Some(ids.clone()))
                    .build(),
            )
            .set_next_token(token)
            .send()
            .await?;
        for r in out.security_group_rules() {
            if let (Some(group_id), Some(rule)) = (r.group_id(), rule(r)) {
                found.entry(group_id.to_owned()).or_default().push(rule);
            }
        }
        token = next_page(out.next_token());
        if token.is_none() {
            return Ok(found);
        }
    }
}

fn group(g: &aws_sdk_ec2::types::SecurityGroup) -> SecurityGroup {
    let owner = g.owner_id().unwrap_or_default();
    SecurityGroup {
        id: g.group_id().unwrap_or_default().to_owned(),
        name: g.group_name().unwrap_or_default().to_owned(),
        description: g.description().unwrap_or_default().to_owned(),
        vpc_id: g.vpc_id().unwrap_or_default().to_owned(),
        owner_id: g.owner_id().unwrap_or_default().to_owned(),
        tags: tags_of(g.tags()),
        rules: g
            .ip_permissions()
            .iter()
            .flat_map(|p| permission_rules(p, false, owner))
            .chain(
                g.ip_permissions_egress()
                    .iter()
                    .flat_map(|p| permission_rules(p, true, owner)),
            )
            .collect(),
    }
}

/// The rules of one permission of a DescribeSecurityGroups answer, one per
/// peer (group, IPv4 or IPv6 range, prefix list).
fn permission_rules(p: &aws_sdk_ec2::types::IpPermission, egress: bool, owner: &str) -> Vec<Rule> {
    let make = |peer: Peer, description: Option<&str>| Rule {
        id: String::new(),
        egress,
        protocol: p.ip_protocol().unwrap_or("-1").to_owned(),
        from_port: p.from_port().unwrap_or(-1),
        to_port: p.to_port().unwrap_or(-1),
        peer,
        description: description.unwrap_or_default().to_owned(),
    };
    let mut out = Vec::new();
    for g in p.user_id_group_pairs() {
        if let Some(id) = g.group_id() {
            out.push(make(group_peer(id, g.user_id(), owner), g.description()));
        }
    }
    for r in p.ip_ranges() {
        if let Some(cidr) = r.cidr_ip() {
            out.push(make(Peer::Cidr(cidr.to_owned()), r.description()));
        }
    }
    for r in p.ipv6_ranges() {
        if let Some(cidr) = r.cidr_ipv6() {
            out.push(make(Peer::Cidr(cidr.to_owned()), r.description()));
        }
    }
    for r in p.prefix_list_ids() {
        if let Some(id) = r.prefix_list_id() {
            out.push(make(Peer::Cidr(id.to_owned()), r.description()));
        }
    }
    out
}

/// A rule's source group: its id, or `<account-id>/sg-...` when it
/// belongs to another account than the rule's group.
fn group_peer(group: &str, user: Option<&str>, owner: &str) -> Peer {
    match user {
        Some(user) if !user.is_empty() && !owner.is_empty() && user != owner => {
            Peer::Group(format!("{user}/{group}"))
        }
        _ => Peer::Group(group.to_owned()),
    }
}

fn rule(r: &aws_sdk_ec2::types::SecurityGroupRule) -> Option<Rule> {
    let referenced = r.referenced_group_info();
    let peer = if let Some(g) = referenced.and_then(|g| g.group_id()) {
        let user = referenced.and_then(|g| g.user_id());
        group_peer(g, user, r.group_owner_id().unwrap_or_default())
    } else if let Some(c) = r.cidr_ipv4() {
        Peer::Cidr(c.to_owned())
    } else if let Some(c) = r.cidr_ipv6() {
        Peer::Cidr(c.to_owned())
    } else if let Some(p) = r.prefix_list_id() {
        Peer::Cidr(p.to_owned())
    } else {
        return None;
    };
    Some(Rule {
        id: r.security_group_rule_id()?.to_owned(),
        egress: r.is_egress().unwrap_or(false),
        protocol: r.ip_protocol().unwrap_or("-1").to_owned(),
        from_port: r.from_port().unwrap_or(-1),
        to_port: r.to_port().unwrap_or(-1),
        peer,
        description: r.description().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::arn_account;

    #[test]
    fn the_account_is_the_fifth_field_of_an_arn() {
        assert_eq!(
            arn_account("arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc"),
            Some("123456789012")
        );
        assert_eq!(
            arn_account("arn:aws-cn:ec2:cn-north-1:210987654321:security-group/sg-1"),
            Some("210987654321")
        );
        assert_eq!(
            arn_account("arn:aws:ec2:us-east-1::security-group/sg-1"),
            None
        );
        assert_eq!(arn_account("sg-1"), None);
    }
}
