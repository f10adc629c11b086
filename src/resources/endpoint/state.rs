//! The endpoint's state after a write: from what EC2 reports
//! ([`state_from_aws`], with the fixed addresses its interfaces show), by one rule
//! for what a create or update wrote ([`after_write`]), and how a wait
//! after a write ended ([`settle`]).

use std::time::Duration;

use crate::aws::endpoint::{CREATE_TOKEN_TAG, WaitError};
use crate::aws::model::Endpoint;
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::timeouts;
use crate::privatelink::service_name_region;
use crate::resources::tags;

use super::{DnsEntry, Model, entry_error, subnet_attr};

/// The state from what EC2 reports, keeping `timeouts` and the form of
/// `tags` from `base` (the plan or the prior state).
pub(super) fn state_from_aws(clients: &Clients, e: &Endpoint, base: &Model) -> Model {
    let (tags, tags_all) = tags::read(clients, &e.tags, CREATE_TOKEN_TAG, base.tags.as_ref());
    let owner_id = crate::resources::owner(clients, &e.owner_id);
    Model {
        id: e.id.clone(),
        arn: crate::resources::ec2_arn(clients, &owner_id, "vpc-endpoint", &e.id),
        owner_id,
        service_name: e.service_name.clone(),
        // EC2 names the region of a cross-region endpoint's service; else
        // it is the service name's.
        service_region: e
            .service_region
            .clone()
            .or_else(|| service_name_region(&e.service_name).ok().map(str::to_owned))
            .or_else(|| base.service_region.clone()),
        vpc_id: e.vpc_id.clone(),
        subnet_ids: e.subnet_ids.iter().cloned().collect(),
        security_group_ids: e.security_group_ids.iter().cloned().collect(),
        private_dns_enabled: e.private_dns_enabled,
        ip_address_type: e
            .ip_address_type
            .clone()
            .or_else(|| base.ip_address_type.clone()),
        dns_record_ip_type: e
            .dns_record_ip_type
            .clone()
            .or_else(|| base.dns_record_ip_type.clone()),
        subnet_configurations: base.subnet_configurations.clone(),
        // In jsonencode's spelling; the framework keeps the plan's or the
        // prior state's where it means the same.
        policy: e
            .policy
            .as_deref()
            .map(super::policy::canonical)
            .or_else(|| base.policy.clone()),
        state: e.state.clone(),
        network_interface_ids: e.network_interface_ids.clone(),
        dns_entries: e
            .dns_entries
            .iter()
            .map(|d| DnsEntry {
                dns_name: d.dns_name.clone(),
                hosted_zone_id: d.hosted_zone_id.clone(),
            })
            .collect(),
        tags,
        tags_all,
        timeouts: base.timeouts.clone(),
    }
}

/// Whether two spellings name one address.
fn same_address(a: &str, b: &str) -> bool {
    match (a.parse::<std::net::IpAddr>(), b.parse::<std::net::IpAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// After a write, each fixed address EC2 did not give as asked is an error
/// naming both, on its entry: the state records what EC2 gave (Terraform
/// would otherwise call it an inconsistent result).
pub(super) fn fixed_addresses_as_asked(
    planned: &Model,
    found: Option<&Model>,
    diags: &mut Diagnostics,
) {
    let Some(found) = found else {
        return;
    };
    for (i, asked) in planned.subnet_configurations.iter().flatten().enumerate() {
        let Some(given) = found
            .subnet_configurations
            .iter()
            .flatten()
            .find(|c| c.subnet_id == asked.subnet_id)
        else {
            continue;
        };
        for (name, want, got) in [
            (subnet_attr::ipv4, &asked.ipv4, &given.ipv4),
            (subnet_attr::ipv6, &asked.ipv6, &given.ipv6),
        ] {
            if let Some(want) = want
                && got.as_ref() != Some(want)
            {
                let got = got.as_deref().unwrap_or("no address of that family");
                entry_error(
                    diags,
                    i,
                    name,
                    "Fixed address not given",
                    format!(
                        "{want} was asked for the endpoint's interface in {}, and EC2 gave it {got}. The state \
                         records {got}, so the next apply asks for {want} again. If another interface \
                         holds {want}, free it or choose another address.",
                        asked.subnet_id
                    ),
                );
            }
        }
    }
}

/// The state with its fixed addresses as the endpoint's interfaces show
/// them, by subnet: a configured address EC2 did not give (or an interface
/// replaced since) shows as the one the interface has, so the next plan
/// changes it back in place. Without fixed addresses, or when the interfaces
/// cannot be read, the state is left as it is.
pub(super) async fn with_addresses(clients: &Clients, mut state: Model) -> Model {
    let Some(configs) = state
        .subnet_configurations
        .as_mut()
        .filter(|c| !c.is_empty())
    else {
        return state;
    };
    let interfaces = match clients
        .ec2
        .find_interfaces(&state.network_interface_ids)
        .await
    {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(error = %e, "reading the endpoint's interfaces failed; keeping the fixed addresses as they were");
            return state;
        }
    };
    for config in configs.iter_mut() {
        let Some(interface) = interfaces.iter().find(|n| n.subnet_id == config.subnet_id) else {
            continue;
        };
        // The configuration's spelling where EC2 shows the same address
        // (EC2 writes IPv6 in lower case, compressed).
        let shown = |wanted: &Option<String>, has: &[String]| match wanted {
            Some(w) if has.iter().any(|a| same_address(a, w)) => Some(w.clone()),
            Some(_) => has.first().cloned(),
            None => None,
        };
        config.ipv4 = shown(&config.ipv4, &interface.private_ips);
        config.ipv6 = shown(&config.ipv6, &interface.ipv6_addresses);
    }
    state
}

/// Which writes of a create or update went through.
#[derive(Clone, Copy, Debug)]
pub(super) struct Written {
    /// The tags (on create, with the endpoint itself).
    pub tags: bool,
    /// The subnets, security groups and private DNS, waited for.
    pub network: bool,
}

/// The state after a create or update, by one rule: what EC2 showed
/// (`found`), or `base` (the prior state; on create the plan with the new
/// id) when nothing could be read; with the arguments EC2 applies
/// asynchronously as planned where their write went through. `tags_all`
/// stays `base`'s when the tag write failed: what the tags are now is for
/// the next refresh to tell.
pub(super) fn after_write(
    found: Option<Model>,
    base: &Model,
    planned: &Model,
    written: Written,
) -> Model {
    let read = found.is_some();
    let mut state = found.unwrap_or_else(|| base.clone());
    if written.network {
        // Read back, they are what the interfaces show; else as written
        // (an entry removed changes nothing in EC2).
        if !read {
            state.subnet_configurations = planned.subnet_configurations.clone();
        }
        state.subnet_ids = planned.subnet_ids.clone();
        state.security_group_ids = planned.security_group_ids.clone();
        state.private_dns_enabled = planned.private_dns_enabled;
        // Left to EC2's default, they are what EC2 shows.
        if planned.ip_address_type.is_some() {
            state.ip_address_type = planned.ip_address_type.clone();
        }
        if planned.dns_record_ip_type.is_some() {
            state.dns_record_ip_type = planned.dns_record_ip_type.clone();
        }
        // EC2 applies a policy with the call; read back, it is EC2's.
        if !read && planned.policy.is_some() {
            state.policy = planned.policy.clone();
        }
    }
    state.tags = planned.tags.clone();
    state.tags_all = if written.tags {
        planned.tags_all.clone()
    } else {
        base.tags_all.clone()
    };
    state.timeouts = planned.timeouts.clone();
    state
}

/// How the wait after a write ended: the endpoint it last saw when the
/// write went through, or `None` with the failure reported. A wait that
/// ended in `pendingAcceptance` is a warning, not a failure: PlanetScale
/// may still accept, and the endpoint must not be replaced for waiting.
pub(super) fn settle(
    id: &str,
    done: &str,
    timeout: Duration,
    outcome: Result<Endpoint, WaitError>,
    diags: &mut Diagnostics,
) -> Option<Endpoint> {
    match outcome {
        Ok(endpoint) => Some(endpoint),
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
            Some(*endpoint)
        }
        Err(e) => {
            report_wait(id, done, timeout, &e, diags);
            None
        }
    }
}

pub(super) fn report_wait(
    id: &str,
    done: &str,
    timeout: Duration,
    e: &WaitError,
    diags: &mut Diagnostics,
) {
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
