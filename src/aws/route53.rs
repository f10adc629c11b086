//! Route 53 private hosted zones: the zone that answers for the Private
//! Host in VPCs other than the endpoint's, its alias record to the
//! endpoint, the VPCs it is associated with, and the authorizations that
//! let another account's VPCs be associated. The only module that knows
//! aws-sdk-route53.

use std::time::Duration;

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeInfo, ChangeStatus, HostedZoneConfig,
    ResourceRecordSet, RrType, Tag, TagResourceType, VpcRegion,
};

use crate::aws::AwsError;
use crate::aws::model::{DnsEntry, HostedZone, Tags, ZoneVpc, tag_changes};
use crate::aws::retry::{Backoff, last_look};
use crate::framework::bounds;

/// The first look at a change after it was made, and the longest pause
/// between looks: GetChange counts toward Route 53's five requests per
/// second per account, shared by every zone an apply changes.
const INSYNC_FIRST_POLL: Duration = Duration::from_secs(2);
const INSYNC_CEILING: Duration = Duration::from_secs(15);

/// Changes per ChangeResourceRecordSets call when emptying a zone: well
/// under Route 53's limit of 1,000.
const CHANGES_PER_BATCH: usize = 100;

/// What [`Route53::delete_zone`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum DeletedZone {
    Deleted,
    /// Nothing: the zone holds these records (`name TYPE`) that the zone
    /// resource did not write.
    NotEmpty(Vec<String>),
}

/// The shared Route 53 client. Route 53 is a global service: its client
/// signs for its partition's one region ([`super::config`] sees to that).
pub struct Route53 {
    pub(crate) client: aws_sdk_route53::Client,
    /// Zone id -> its changes made but not seen `INSYNC` yet, for
    /// [`Route53::wait_insync`].
    unsynced: std::sync::Mutex<std::collections::HashMap<String, Vec<String>>>,
    /// The zones Terraform knows: read by id (from state, or after an
    /// import) or created by this process. A plan reports the others it
    /// finds where a new zone would go.
    known: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// A private zone associated with a VPC, as ListHostedZonesByVPC lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneOnVpc {
    pub id: String,
    /// As Route 53 spells it: lower case, with the final dot.
    pub name: String,
    /// The account that owns the zone, when Route 53 says.
    pub owner: Option<String>,
}

/// Zones per page of ListHostedZonesByVPC and ListHostedZonesByName
/// (Route 53 answers at most 100), and the most pages one look reads.
const ZONE_PAGE: i32 = 100;
const ZONE_PAGES: usize = 5;

/// A zone id without the `/hostedzone/` prefix Route 53 gives some answers.
pub fn bare_zone_id(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/")
}

/// A domain name as Route 53 answers it: lower case, with the final dot.
pub fn absolute_name(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    if name.ends_with('.') {
        name
    } else {
        format!("{name}.")
    }
}

fn sdk_vpc(vpc: &ZoneVpc) -> aws_sdk_route53::types::Vpc {
    aws_sdk_route53::types::Vpc::builder()
        .vpc_id(&vpc.id)
        .vpc_region(VpcRegion::from(vpc.region.as_str()))
        .build()
}

fn zone_vpc(vpc: &aws_sdk_route53::types::Vpc) -> ZoneVpc {
    ZoneVpc {
        id: vpc.vpc_id().unwrap_or_default().to_owned(),
        region: vpc
            .vpc_region()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
    }
}

/// The address families an alias to an endpoint answers with: an `A`
/// record for IPv4, an `AAAA` for IPv6, as the endpoint's regional DNS
/// name has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AliasFamilies {
    pub ipv4: bool,
    pub ipv6: bool,
}

impl AliasFamilies {
    /// The families of an endpoint's DNS records: its `DnsRecordIpType`,
    /// or, when EC2 does not say, its address type's (`ipv4`, `dualstack`,
    /// `ipv6`; IPv4 when neither is known).
    pub fn of(dns_record_ip_type: Option<&str>, ip_address_type: Option<&str>) -> Self {
        let kind = dns_record_ip_type.or(ip_address_type).unwrap_or("ipv4");
        match kind {
            "ipv6" => AliasFamilies {
                ipv4: false,
                ipv6: true,
            },
            "dualstack" | "service-defined" => AliasFamilies {
                ipv4: true,
                ipv6: true,
            },
            _ => AliasFamilies {
                ipv4: true,
                ipv6: false,
            },
        }
    }

    /// The record types served.
    pub fn types(self) -> Vec<RrType> {
        let mut out = Vec::new();
        if self.ipv4 {
            out.push(RrType::A);
        }
        if self.ipv6 {
            out.push(RrType::Aaaa);
        }
        out
    }
}

/// One change of the alias record of `rr_type` for `name` to `target`.
fn alias_change(
    action: ChangeAction,
    name: &str,
    rr_type: RrType,
    target: &DnsEntry,
) -> Result<Change, AwsError> {
    let alias = AliasTarget::builder()
        .dns_name(&target.dns_name)
        .hosted_zone_id(&target.hosted_zone_id)
        .evaluate_target_health(false)
        .build()
        .map_err(unbuildable)?;
    let record = ResourceRecordSet::builder()
        .name(absolute_name(name))
        .r#type(rr_type)
        .alias_target(alias)
        .build()
        .map_err(unbuildable)?;
    Change::builder()
        .action(action)
        .resource_record_set(record)
        .build()
        .map_err(unbuildable)
}

/// A request the SDK refused to build: a bug here, reported as an API error.
fn unbuildable(e: impl std::fmt::Display) -> AwsError {
    AwsError::Api {
        code: "InvalidRequest".into(),
        message: e.to_string(),
    }
}

impl Route53 {
    pub fn new(client: aws_sdk_route53::Client) -> Self {
        Self {
            client,
            unsynced: Default::default(),
            known: Default::default(),
        }
    }

    /// Remembers that Terraform knows this zone.
    pub(crate) fn note_known(&self, id: &str) {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(bare_zone_id(id).to_owned());
    }

    /// Whether [`Route53::note_known`] was told of this zone.
    pub fn is_known(&self, id: &str) -> bool {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(bare_zone_id(id))
    }

    /// The private zones named `name` associated with `vpc`
    /// (ListHostedZonesByVPC, at most [`ZONE_PAGES`] pages).
    pub async fn zones_named_on_vpc(
        &self,
        name: &str,
        vpc: &ZoneVpc,
    ) -> Result<Vec<ZoneOnVpc>, AwsError> {
        let wanted = absolute_name(name);
        Ok(self
            .zones_on_vpc(vpc)
            .await?
            .into_iter()
            .filter(|z| absolute_name(&z.name) == wanted)
            .collect())
    }

    /// The private zones of the account, every page (ListHostedZones), with
    /// their caller references; their VPCs are not listed.
    pub async fn private_zones(&self) -> Result<Vec<HostedZone>, AwsError> {
        let mut found = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_hosted_zones()
                .max_items(ZONE_PAGE)
                .set_marker(marker.take())
                .send()
                .await?;
            found.extend(
                out.hosted_zones()
                    .iter()
                    .filter(|z| z.config().is_some_and(|c| c.private_zone()))
                    .map(|z| HostedZone {
                        id: bare_zone_id(z.id()).to_owned(),
                        name: z.name().to_owned(),
                        private: true,
                        caller_reference: z.caller_reference().to_owned(),
                        vpcs: Vec::new(),
                    }),
            );
            match (out.is_truncated(), crate::aws::next_page(out.next_marker())) {
                (true, Some(next)) => marker = Some(next),
                _ => return Ok(found),
            }
        }
    }

    /// The private zones associated with `vpc` (ListHostedZonesByVPC, at
    /// most [`ZONE_PAGES`] pages).
    pub async fn zones_on_vpc(&self, vpc: &ZoneVpc) -> Result<Vec<ZoneOnVpc>, AwsError> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..ZONE_PAGES {
            let out = self
                .client
                .list_hosted_zones_by_vpc()
                .vpc_id(&vpc.id)
                .vpc_region(VpcRegion::from(vpc.region.as_str()))
                .max_items(ZONE_PAGE)
                .set_next_token(token.take())
                .send()
                .await?;
            found.extend(out.hosted_zone_summaries().iter().map(|z| {
                ZoneOnVpc {
                    id: bare_zone_id(z.hosted_zone_id()).to_owned(),
                    name: z.name().to_owned(),
                    owner: z
                        .owner()
                        .and_then(|o| o.owning_account())
                        .map(str::to_owned),
                }
            }));
            match crate::aws::next_page(out.next_token()) {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(found)
    }

    /// Creates a private hosted zone for `name` associated with `vpc`.
    /// `caller_reference` makes the call idempotent: a retry after a lost
    /// answer gets `HostedZoneAlreadyExists`, and the zone made by the first
    /// attempt is found by its reference and returned.
    pub async fn create_private_zone(
        &self,
        name: &str,
        vpc: &ZoneVpc,
        caller_reference: &str,
        comment: &str,
    ) -> Result<HostedZone, AwsError> {
        let sent = self
            .client
            .create_hosted_zone()
            .name(name)
            .caller_reference(caller_reference)
            .vpc(sdk_vpc(vpc))
            .hosted_zone_config(
                HostedZoneConfig::builder()
                    .private_zone(true)
                    .comment(comment)
                    .build(),
            )
            .send()
            .await;
        match sent {
            Ok(out) => {
                let zone = out.hosted_zone().ok_or_else(|| {
                    AwsError::Transport("CreateHostedZone answered without the zone".into())
                })?;
                self.note(zone.id(), out.change_info());
                self.note_known(zone.id());
                Ok(HostedZone {
                    id: bare_zone_id(zone.id()).to_owned(),
                    name: zone.name().to_owned(),
                    private: true,
                    caller_reference: zone.caller_reference().to_owned(),
                    vpcs: out.vpc().map(zone_vpc).into_iter().collect(),
                })
            }
            Err(e) => {
                let e = AwsError::from(e);
                if e.is_cancelled() {
                    // Cut off by the deadline or Ctrl-C: Route 53 may have
                    // made it. One look by its caller reference.
                    let made = last_look(async {
                        match self.zone_by_reference(name, caller_reference).await? {
                            Some(id) => self.find_zone(&id).await.map(Some),
                            None => Ok(None),
                        }
                    })
                    .await;
                    return match made {
                        Ok(Some(zone)) => Ok(zone),
                        _ => Err(e),
                    };
                }
                if e.code() != "HostedZoneAlreadyExists" {
                    return Err(e);
                }
                match self.zone_by_reference(name, caller_reference).await? {
                    Some(id) => self.find_zone(&id).await,
                    None => Err(e),
                }
            }
        }
    }

    /// The id of the zone named `name` that was created with
    /// `caller_reference`, if there is one (ListHostedZonesByName, from the
    /// name on, while the names match).
    async fn zone_by_reference(
        &self,
        name: &str,
        caller_reference: &str,
    ) -> Result<Option<String>, AwsError> {
        let wanted = absolute_name(name);
        let mut next: Option<(String, Option<String>)> = Some((wanted.clone(), None));
        for _ in 0..ZONE_PAGES {
            let Some((dns_name, zone_id)) = next.take() else {
                break;
            };
            let out = self
                .client
                .list_hosted_zones_by_name()
                .dns_name(dns_name)
                .set_hosted_zone_id(zone_id)
                .max_items(ZONE_PAGE)
                .send()
                .await?;
            for zone in out.hosted_zones() {
                if absolute_name(zone.name()) != wanted {
                    return Ok(None);
                }
                if zone.caller_reference() == caller_reference {
                    return Ok(Some(bare_zone_id(zone.id()).to_owned()));
                }
            }
            if out.is_truncated()
                && let Some(name) = out.next_dns_name()
            {
                next = Some((
                    name.to_owned(),
                    out.next_hosted_zone_id().map(str::to_owned),
                ));
            }
        }
        Ok(None)
    }

    /// The zone's tags (ListTagsForResource).
    pub async fn zone_tags(&self, zone_id: &str) -> Result<Tags, AwsError> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(bare_zone_id(zone_id))
            .send()
            .await?;
        Ok(out
            .resource_tag_set()
            .map(|set| {
                set.tags()
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.key()?.to_owned(),
                            t.value().unwrap_or_default().to_owned(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Moves the zone's tags from `old` to `new` in one
    /// ChangeTagsForResource (a zone holds at most 10 tags, as many as one
    /// call adds or removes).
    pub async fn change_zone_tags(
        &self,
        zone_id: &str,
        old: &Tags,
        new: &Tags,
    ) -> Result<(), AwsError> {
        let (removed, added) = tag_changes(old, new);
        let removed: Vec<String> = removed.into_iter().cloned().collect();
        let added: Vec<Tag> = added
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        if removed.is_empty() && added.is_empty() {
            return Ok(());
        }
        self.client
            .change_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(bare_zone_id(zone_id))
            .set_add_tags((!added.is_empty()).then_some(added))
            .set_remove_tag_keys((!removed.is_empty()).then_some(removed))
            .send()
            .await?;
        Ok(())
    }

    /// The zone and the VPCs it is associated with, or `NotFound`; from
    /// then on the zone is one Terraform knows.
    pub async fn find_zone(&self, id: &str) -> Result<HostedZone, AwsError> {
        let zone = self.look_at_zone(id).await?;
        self.note_known(&zone.id);
        Ok(zone)
    }

    /// The zone and the VPCs it is associated with, or `NotFound`, without
    /// counting it as one Terraform knows: a zone found where a new one
    /// would go.
    pub async fn look_at_zone(&self, id: &str) -> Result<HostedZone, AwsError> {
        let out = self
            .client
            .get_hosted_zone()
            .id(bare_zone_id(id))
            .send()
            .await?;
        let zone = out
            .hosted_zone()
            .ok_or_else(|| AwsError::not_found("NoSuchHostedZone", id))?;
        Ok(HostedZone {
            id: bare_zone_id(zone.id()).to_owned(),
            name: zone.name().to_owned(),
            private: zone.config().is_some_and(|c| c.private_zone()),
            caller_reference: zone.caller_reference().to_owned(),
            vpcs: out.vpcs().iter().map(zone_vpc).collect(),
        })
    }

    /// Points `name` at the endpoint's DNS entry: an alias record of each
    /// family the endpoint answers with (`A`, `AAAA`), created or replaced
    /// (UPSERT), and the other family's alias deleted if there is one.
    /// Route 53 answers the alias with the endpoint's addresses; it does not
    /// check the target's health.
    /// A zone `just_created` has no records but its own: nothing to look
    /// for.
    pub async fn upsert_alias(
        &self,
        zone_id: &str,
        name: &str,
        target: &DnsEntry,
        families: AliasFamilies,
        just_created: bool,
    ) -> Result<(), AwsError> {
        let mut changes = Vec::new();
        for (rr_type, served) in [(RrType::A, families.ipv4), (RrType::Aaaa, families.ipv6)] {
            if served {
                changes.push(alias_change(ChangeAction::Upsert, name, rr_type, target)?);
            } else if just_created {
                continue;
            } else if let Some(stale) = self.alias_of(zone_id, name, rr_type.clone()).await? {
                // A family the endpoint no longer answers with: its record
                // goes (a DELETE names the record exactly).
                changes.push(alias_change(ChangeAction::Delete, name, rr_type, &stale)?);
            }
        }
        self.change(zone_id, changes).await
    }

    async fn change(&self, zone_id: &str, changes: Vec<Change>) -> Result<(), AwsError> {
        let batch = ChangeBatch::builder()
            .set_changes(Some(changes))
            .build()
            .map_err(unbuildable)?;
        let out = self
            .client
            .change_resource_record_sets()
            .hosted_zone_id(bare_zone_id(zone_id))
            .change_batch(batch)
            .send()
            .await?;
        self.note(zone_id, out.change_info());
        Ok(())
    }

    /// Keeps a change to the zone not `INSYNC` yet for [`Self::wait_insync`].
    fn note(&self, zone_id: &str, change: Option<&ChangeInfo>) {
        if let Some(change) = change.filter(|c| c.status() != &ChangeStatus::Insync) {
            self.unsynced
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(bare_zone_id(zone_id).to_owned())
                .or_default()
                .push(change.id().trim_start_matches("/change/").to_owned());
        }
    }

    /// Waits until Route 53 has applied every change made to the zone
    /// everywhere (`INSYNC`), as a VPC's resolver does not answer from a
    /// change still `PENDING`. The changes go out one after another and are
    /// waited on together, once: GetChange soon after, then less often
    /// (changes propagate "generally within 60 seconds"), until the
    /// operation's deadline or Ctrl-C.
    pub async fn wait_insync(&self, zone_id: &str) -> Result<(), AwsError> {
        let mut pending = self
            .unsynced
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(bare_zone_id(zone_id))
            .unwrap_or_default();
        let mut backoff = Backoff::new(INSYNC_FIRST_POLL, INSYNC_CEILING);
        while let Some(id) = pending.first().cloned() {
            tracing::debug!(change_id = %id, left = pending.len(), "waiting for the zone's Route 53 changes to be INSYNC");
            bounds::sleep(backoff.next_delay()).await;
            if let Some(why) = bounds::interruption() {
                return Err(AwsError::Cancelled(format!(
                    "{why} while Route 53 change {id} was still PENDING: the change is made and \
                     will reach every resolver on its own"
                )));
            }
            // Each is asked about until one is not INSYNC yet.
            while let Some(id) = pending.first() {
                let out = self.client.get_change().id(id).send().await?;
                let insync = out
                    .change_info()
                    .is_none_or(|c| c.status() == &ChangeStatus::Insync);
                if !insync {
                    break;
                }
                pending.remove(0);
            }
        }
        Ok(())
    }

    /// Associates the VPC with the zone. A VPC already associated (a retry
    /// after a lost answer) is success.
    pub async fn associate_vpc(&self, zone_id: &str, vpc: &ZoneVpc) -> Result<(), AwsError> {
        let sent = self
            .client
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(bare_zone_id(zone_id))
            .vpc(sdk_vpc(vpc))
            .send()
            .await;
        match sent {
            Ok(out) => {
                self.note(zone_id, out.change_info());
                Ok(())
            }
            Err(e) => {
                let e = AwsError::from(e);
                match self.find_zone(zone_id).await {
                    Ok(zone) if zone.vpcs.iter().any(|v| v.id == vpc.id) => Ok(()),
                    _ => Err(e),
                }
            }
        }
    }

    /// Disassociates the VPC from the zone. A VPC no longer associated is
    /// success. Route 53 refuses to remove a zone's last VPC
    /// (`LastVPCAssociation`): associate the new ones first.
    pub async fn disassociate_vpc(&self, zone_id: &str, vpc: &ZoneVpc) -> Result<(), AwsError> {
        let sent = self
            .client
            .disassociate_vpc_from_hosted_zone()
            .hosted_zone_id(bare_zone_id(zone_id))
            .vpc(sdk_vpc(vpc))
            .send()
            .await;
        match sent {
            Ok(out) => {
                self.note(zone_id, out.change_info());
                Ok(())
            }
            Err(e) => match AwsError::from(e) {
                e if e.is_not_found() && e.code() != "NoSuchHostedZone" => Ok(()),
                e => Err(e),
            },
        }
    }

    /// Deletes the zone: first every record but the zone's own SOA and NS
    /// (Route 53 refuses to delete a zone with others, `HostedZoneNotEmpty`),
    /// then the zone. Records besides those and the apex's alias records
    /// (the ones the zone resource writes) were made by someone else: unless
    /// `force`, nothing is deleted and they are named instead. A zone
    /// already gone is success.
    pub async fn delete_zone(&self, zone_id: &str, force: bool) -> Result<DeletedZone, AwsError> {
        // The zone (its name) and its records are read together.
        let (zone, records) = tokio::join!(
            Box::pin(self.find_zone(zone_id)),
            Box::pin(self.records(zone_id))
        );
        let zone = match zone {
            Ok(zone) => zone,
            Err(e) if e.is_not_found() => return Ok(DeletedZone::Deleted),
            Err(e) => return Err(e),
        };
        let apex = absolute_name(&zone.name);
        let records: Vec<ResourceRecordSet> = records?
            .into_iter()
            .filter(|r| {
                let own = absolute_name(r.name()) == apex
                    && matches!(r.r#type(), RrType::Soa | RrType::Ns);
                !own
            })
            .collect();
        let foreign: Vec<String> = records
            .iter()
            .filter(|r| {
                let alias = absolute_name(r.name()) == apex
                    && matches!(r.r#type(), RrType::A | RrType::Aaaa)
                    && r.alias_target().is_some();
                !alias
            })
            .map(|r| format!("{} {}", absolute_name(r.name()), r.r#type().as_str()))
            .collect();
        if !force && !foreign.is_empty() {
            return Ok(DeletedZone::NotEmpty(foreign));
        }
        for chunk in records.chunks(CHANGES_PER_BATCH) {
            let changes = chunk
                .iter()
                .map(|r| {
                    Change::builder()
                        .action(ChangeAction::Delete)
                        .resource_record_set(r.clone())
                        .build()
                        .map_err(unbuildable)
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.change(&zone.id, changes).await?;
        }
        match self.client.delete_hosted_zone().id(&zone.id).send().await {
            Ok(_) => Ok(DeletedZone::Deleted),
            Err(e) => match AwsError::from(e) {
                e if e.is_not_found() => Ok(DeletedZone::Deleted),
                e => Err(e),
            },
        }
    }

    /// Every record set of the zone, page by page.
    async fn records(&self, zone_id: &str) -> Result<Vec<ResourceRecordSet>, AwsError> {
        let mut all = Vec::new();
        let mut start: Option<(String, Option<RrType>, Option<String>)> = None;
        loop {
            let mut call = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(bare_zone_id(zone_id));
            if let Some((name, ty, identifier)) = start.take() {
                call = call
                    .start_record_name(name)
                    .set_start_record_type(ty)
                    .set_start_record_identifier(identifier);
            }
            let out = call.send().await?;
            all.extend(out.resource_record_sets().iter().cloned());
            match (out.is_truncated(), out.next_record_name()) {
                (true, Some(name)) => {
                    start = Some((
                        name.to_owned(),
                        out.next_record_type().cloned(),
                        out.next_record_identifier().map(str::to_owned),
                    ));
                }
                _ => return Ok(all),
            }
        }
    }

    /// The alias record of `rr_type` for `name`, as (DNS name, hosted zone
    /// id) of its target; `None` when the zone has none.
    pub async fn alias_of(
        &self,
        zone_id: &str,
        name: &str,
        rr_type: RrType,
    ) -> Result<Option<DnsEntry>, AwsError> {
        let wanted = absolute_name(name);
        let out = self
            .client
            .list_resource_record_sets()
            .hosted_zone_id(bare_zone_id(zone_id))
            .start_record_name(&wanted)
            .start_record_type(rr_type.clone())
            .max_items(1)
            .send()
            .await?;
        Ok(out
            .resource_record_sets()
            .iter()
            .find(|r| absolute_name(r.name()) == wanted && r.r#type() == &rr_type)
            .and_then(|r| r.alias_target())
            .map(|a| DnsEntry {
                dns_name: a.dns_name().trim_end_matches('.').to_ascii_lowercase(),
                hosted_zone_id: a.hosted_zone_id().to_owned(),
            }))
    }

    /// Lets the VPC (of another account) be associated with the zone.
    /// Authorizing twice is harmless: Route 53 answers the same.
    pub async fn authorize_vpc(&self, zone_id: &str, vpc: &ZoneVpc) -> Result<(), AwsError> {
        self.client
            .create_vpc_association_authorization()
            .hosted_zone_id(bare_zone_id(zone_id))
            .vpc(sdk_vpc(vpc))
            .send()
            .await?;
        Ok(())
    }

    /// The VPCs the zone's owner has authorized to be associated with it;
    /// `NotFound` when the zone is gone.
    pub async fn vpc_authorizations(&self, zone_id: &str) -> Result<Vec<ZoneVpc>, AwsError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_vpc_association_authorizations()
                .hosted_zone_id(bare_zone_id(zone_id))
                .set_next_token(token.take())
                .send()
                .await?;
            all.extend(out.vpcs().iter().map(zone_vpc));
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(all),
            }
        }
    }

    /// Withdraws the authorization; one already gone is success.
    pub async fn revoke_vpc_authorization(
        &self,
        zone_id: &str,
        vpc: &ZoneVpc,
    ) -> Result<(), AwsError> {
        let sent = self
            .client
            .delete_vpc_association_authorization()
            .hosted_zone_id(bare_zone_id(zone_id))
            .vpc(sdk_vpc(vpc))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => match AwsError::from(e) {
                e if e.is_not_found() => Ok(()),
                e => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_serve_the_families_of_the_endpoints_records() {
        let of = |records, address| {
            let f = AliasFamilies::of(records, address);
            (f.ipv4, f.ipv6)
        };
        assert_eq!(of(None, None), (true, false));
        assert_eq!(of(None, Some("ipv4")), (true, false));
        assert_eq!(of(None, Some("dualstack")), (true, true));
        assert_eq!(of(None, Some("ipv6")), (false, true));
        assert_eq!(of(Some("ipv4"), Some("dualstack")), (true, false));
        assert_eq!(of(Some("service-defined"), Some("dualstack")), (true, true));
        assert_eq!(
            AliasFamilies::of(Some("ipv6"), None).types(),
            vec![RrType::Aaaa]
        );
    }

    #[test]
    fn names_and_ids_compare_as_route53_answers_them() {
        for (given, absolute) in [
            ("db.example.com", "db.example.com."),
            ("DB.Example.com.", "db.example.com."),
        ] {
            assert_eq!(absolute_name(given), absolute, "{given}");
        }
        assert_eq!(bare_zone_id("/hostedzone/Z0123"), "Z0123");
        assert_eq!(bare_zone_id("Z0123"), "Z0123");
    }
}
