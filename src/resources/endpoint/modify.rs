//! The endpoint's in-place changes: what differs between two states
//! ([`changes_between`]) and the ModifyVpcEndpoint calls that apply it
//! ([`modify`]).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::aws::endpoint::{AvailableWait, EndpointChanges, WaitError};
use crate::aws::model::Endpoint;

use super::{Model, SubnetConfig};

/// What to change to go from `old` to `new`.
pub(super) fn changes_between(old: &Model, new: &Model) -> EndpointChanges {
    let diff = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect();
    EndpointChanges {
        add_subnet_ids: diff(&new.subnet_ids, &old.subnet_ids),
        remove_subnet_ids: diff(&old.subnet_ids, &new.subnet_ids),
        add_security_group_ids: diff(&new.security_group_ids, &old.security_group_ids),
        remove_security_group_ids: diff(&old.security_group_ids, &new.security_group_ids),
        private_dns_enabled: (old.private_dns_enabled != new.private_dns_enabled)
            .then_some(new.private_dns_enabled),
        ip_address_type: new
            .ip_address_type
            .clone()
            .filter(|t| old.ip_address_type.as_ref() != Some(t)),
        dns_record_ip_type: new
            .dns_record_ip_type
            .clone()
            .filter(|t| old.dns_record_ip_type.as_ref() != Some(t)),
        subnet_addresses: new
            .subnet_configurations
            .iter()
            .flatten()
            .filter(|c| !old.subnet_configurations.iter().flatten().any(|o| o == *c))
            .map(SubnetConfig::to_aws)
            .collect(),
        // Left out, the policy stays as it is; written, it changes when its
        // meaning does.
        policy: new.policy.clone().filter(|p| {
            !old.policy
                .as_ref()
                .is_some_and(|o| super::policy::same(o, p))
        }),
    }
}

/// Applies `changes` and waits until EC2 shows them. A subnet replacing
/// another of the same zone goes in a second call, after the first has
/// removed the old one: EC2 refuses both in one call
/// (`DuplicateSubnetsInSameZone`).
pub(super) async fn modify(
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
                // A subnet's fixed addresses go with the call that adds it.
                let (their, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut changes.subnet_addresses)
                    .into_iter()
                    .partition(|a| same_zone.contains(&a.subnet_id));
                changes.subnet_addresses = rest;
                later = Some((same_zone, their));
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
    if let Some((add, addresses)) = later {
        let second = EndpointChanges {
            add_subnet_ids: add,
            subnet_addresses: addresses,
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
