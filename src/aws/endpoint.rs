//! Interface VPC endpoints and the endpoint services they connect to:
//! finders (an endpoint in state `deleted` is not found), create with a
//! client token and a tag carrying it, modify, delete, and the waiters.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    DnsOptionsSpecification, DnsRecordIpType, Filter, IpAddressType, ResourceType,
    SubnetConfiguration, VpcEndpointType,
};
use tokio_util::sync::CancellationToken;

use crate::aws::batch::Listed;
use crate::aws::model::{DnsEntry, Endpoint, EndpointService, SubnetAddresses, Tags};
use crate::aws::retry::{Backoff, Interrupted, last_look, pause, within};
use crate::aws::security_group::{tag_specifications, tags_of};
use crate::aws::{AwsError, Ec2, next_page};

/// The tag every endpoint this provider creates carries, for good: its
/// value is the create's token, also the create's ClientToken. After a lost
/// answer the create finds its endpoint by it; a later plan tells by it an
/// endpoint this provider made (and an apply never finished) from one made
/// elsewhere.
pub const CREATE_TOKEN_TAG: &str = "planetscale:create-token";

/// How many times, and how far apart, a create whose answer never came
/// looks for the endpoint its token made (EC2 may take a moment to list a
/// new endpoint).
const FIND_BY_TOKEN_TRIES: u32 = 3;
const FIND_BY_TOKEN_PAUSE: Duration = Duration::from_secs(2);

pub struct NewEndpoint<'a> {
    pub vpc_id: &'a str,
    pub service_name: &'a str,
    pub subnet_ids: &'a [String],
    pub security_group_ids: &'a [String],
    pub private_dns_enabled: bool,
    /// The service's region, for a service in another region than the
    /// client's (CreateVpcEndpoint's ServiceRegion); `None` for one of its
    /// own.
    pub service_region: Option<&'a str>,
    /// `ipv4`, `dualstack` or `ipv6`; `None` leaves EC2's default.
    pub ip_address_type: Option<&'a str>,
    /// The DNS records' address family; `None` leaves EC2's default.
    pub dns_record_ip_type: Option<&'a str>,
    /// Fixed addresses of the interfaces, by subnet.
    pub subnet_addresses: &'a [SubnetAddresses],
    /// The endpoint policy (JSON); `None` leaves EC2's full access.
    pub policy: Option<&'a str>,
    pub tags: &'a Tags,
    /// The create's token: its ClientToken (a retried create returns the
    /// first create's endpoint) and the value of [`CREATE_TOKEN_TAG`].
    pub client_token: &'a str,
}

#[derive(Debug, Default, PartialEq)]
pub struct EndpointChanges {
    pub add_subnet_ids: Vec<String>,
    pub remove_subnet_ids: Vec<String>,
    pub add_security_group_ids: Vec<String>,
    pub remove_security_group_ids: Vec<String>,
    pub private_dns_enabled: Option<bool>,
    pub ip_address_type: Option<String>,
    pub dns_record_ip_type: Option<String>,
    /// Fixed addresses new or changed, one entry per subnet.
    pub subnet_addresses: Vec<SubnetAddresses>,
    /// A new endpoint policy (JSON).
    pub policy: Option<String>,
}

impl EndpointChanges {
    /// Nothing to change: every field at its default, so a field added to
    /// the change set counts without a list to keep.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Why waiting for an endpoint ended without the state wanted.
#[derive(Debug)]
pub enum WaitError {
    /// The endpoint failed or was rejected; the API's last error, if any.
    Failed {
        state: String,
        last_error: Option<String>,
    },
    /// Still pending acceptance by the service's owner when the wait
    /// stopped waiting for it. Not a failure: the owner may still accept.
    AwaitingAcceptance(Box<Endpoint>),
    /// A state this wait does not expect (`deleting` while waiting for
    /// `available`, say): waiting longer would not help.
    Unexpected { state: String },
    /// Still in `state` at the deadline.
    Timeout { state: String },
    /// StopProvider cancelled the wait.
    Stopped { state: String },
    /// An error that asking again would not cure (access denied, or a
    /// NotFound believed after the grace).
    Aws(AwsError),
}

/// How a wait for `available` goes.
#[derive(Clone, Debug)]
pub struct AvailableWait {
    pub timeout: Duration,
    /// How long `pendingAcceptance` is waited out before the wait ends
    /// with [`WaitError::AwaitingAcceptance`]; at most the timeout.
    pub acceptance_grace: Duration,
    /// The subnets and groups the endpoint must show before `available`
    /// counts (after a modify, EC2 may still report the old ones for a
    /// moment, and `available` with them).
    pub settled: Option<(Vec<String>, Vec<String>)>,
    /// The first poll comes this long after the call.
    pub first_poll: Duration,
}

impl AvailableWait {
    /// After a create: the first poll soon; `pendingAcceptance` waited out
    /// to the timeout, or for `acceptance_grace` when the service is
    /// known to require acceptance.
    pub fn after_create(timeout: Duration, acceptance_required: bool) -> Self {
        Self {
            timeout,
            acceptance_grace: if acceptance_required {
                ACCEPTANCE_GRACE.min(timeout)
            } else {
                timeout
            },
            settled: None,
            first_poll: Duration::from_millis(500),
        }
    }

    /// After a modify: until EC2 shows the requested subnets and groups.
    pub fn after_modify(timeout: Duration, subnets: &[String], groups: &[String]) -> Self {
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        Self {
            timeout,
            acceptance_grace: ACCEPTANCE_GRACE.min(timeout),
            settled: Some((sorted(subnets), sorted(groups))),
            first_poll: Duration::from_secs(1),
        }
    }
}

/// How long a wait keeps polling an endpoint the service owner has not
/// accepted yet, when the service is known to require acceptance.
pub const ACCEPTANCE_GRACE: Duration = Duration::from_secs(60);

/// How long NotFound right after a create is taken for EC2 not showing the
/// new endpoint yet (hashicorp/aws polls through 20 NotFound answers, 5 s
/// apart), and how many answers it takes besides.
const NOT_FOUND_GRACE: Duration = Duration::from_secs(100);
const NOT_FOUND_ANSWERS: u32 = 5;

impl Ec2 {
    /// The service, `NotFound` when EC2 does not know it, `AccessDenied`
    /// when the caller may not look; looked up once per process. A service
    /// of another region is asked for with `region` (ServiceRegions): EC2
    /// answers it only when its owner has enabled access from the client's
    /// region, and `NotFound` otherwise.
    pub async fn find_endpoint_service(
        &self,
        name: &str,
        region: Option<&str>,
    ) -> Result<EndpointService, AwsError> {
        let key = format!("{name} {}", region.unwrap_or_default());
        self.facts
            .services
            .get_or_fetch(&key, || self.fetch_endpoint_service(name, region))
            .await
    }

    /// One DescribeVpcEndpointServices call for the service.
    async fn fetch_endpoint_service(
        &self,
        name: &str,
        region: Option<&str>,
    ) -> Result<EndpointService, AwsError> {
        let out = self
            .client
            .describe_vpc_endpoint_services()
            .service_names(name)
            .set_service_regions(region.map(|r| vec![r.to_owned()]))
            .send()
            .await
            .map_err(|e| match AwsError::from(e) {
                AwsError::Api { code, message } if code == "InvalidServiceName" => {
                    AwsError::NotFound { code, message }
                }
                other => other,
            })?;
        out.service_details()
            .iter()
            .find(|d| d.service_name() == Some(name))
            .map(|d| endpoint_service(name, d))
            .ok_or_else(|| AwsError::not_found("InvalidServiceName", name))
    }

    /// Creates the endpoint, tagged with [`CREATE_TOKEN_TAG`]. When the
    /// call ends without a conclusive answer (no answer at all, or a server
    /// error after the retries), EC2 may still have made the endpoint: it
    /// is looked for in the VPC by its token's tag, and adopted when found.
    /// Nothing is created a second time.
    pub async fn create_endpoint(&self, new: &NewEndpoint<'_>) -> Result<Endpoint, AwsError> {
        let mut tags = new.tags.clone();
        tags.insert(CREATE_TOKEN_TAG.to_owned(), new.client_token.to_owned());
        let created = self
            .client
            .create_vpc_endpoint()
            .vpc_endpoint_type(VpcEndpointType::Interface)
            .vpc_id(new.vpc_id)
            .service_name(new.service_name)
            .set_subnet_ids(Some(new.subnet_ids.to_vec()))
            .set_security_group_ids(Some(new.security_group_ids.to_vec()))
            .private_dns_enabled(new.private_dns_enabled)
            .set_service_region(new.service_region.map(str::to_owned))
            .set_ip_address_type(new.ip_address_type.map(IpAddressType::from))
            .set_dns_options(new.dns_record_ip_type.map(dns_options))
            .set_policy_document(new.policy.map(str::to_owned))
            .set_subnet_configurations((!new.subnet_addresses.is_empty()).then(|| {
                new.subnet_addresses
                    .iter()
                    .map(subnet_configuration)
                    .collect()
            }))
            .client_token(new.client_token)
            .set_tag_specifications(tag_specifications(ResourceType::VpcEndpoint, &tags))
            .send()
            .await;
        let endpoint = match created {
            Ok(out) => out.vpc_endpoint().map(endpoint).ok_or_else(|| {
                AwsError::Transport("CreateVpcEndpoint answered without an endpoint".into())
            })?,
            Err(err) => {
                let err = AwsError::from(err);
                let found = if err.is_cancelled() {
                    // Cut off by the deadline or Ctrl-C: EC2 may have acted
                    // on it. One look, outside the operation's end.
                    tracing::info!(error = %err, "CreateVpcEndpoint was cut off; looking once for the endpoint by its create token");
                    last_look(self.endpoint_by_token(new.vpc_id, new.client_token))
                        .await
                        .ok()
                        .flatten()
                } else if err.is_transient() {
                    tracing::info!(error = %err, "CreateVpcEndpoint gave no conclusive answer; looking for the endpoint by its create token");
                    self.find_endpoint_by_token(new.vpc_id, new.client_token)
                        .await
                } else {
                    return Err(err);
                };
                match found {
                    Some(found) => {
                        tracing::info!(endpoint_id = %found.id, "adopting the endpoint this create made before its answer was lost");
                        found
                    }
                    None if err.is_cancelled() => {
                        return Err(AwsError::Cancelled(format!(
                            "{err}, and no endpoint tagged {CREATE_TOKEN_TAG}={} is listed in {} \
                             yet. If EC2 makes it later, the next plan names it with the import \
                             block that adopts it",
                            new.client_token, new.vpc_id
                        )));
                    }
                    None => {
                        return Err(AwsError::Transport(format!(
                            "{err}; and no endpoint tagged {CREATE_TOKEN_TAG}={} was found in {}, so none \
                             was created",
                            new.client_token, new.vpc_id
                        )));
                    }
                }
            }
        };
        self.note_known(&endpoint.id);
        Ok(endpoint)
    }

    /// The endpoint of `vpc_id` tagged with this create token, if one is
    /// listed within a few tries.
    async fn find_endpoint_by_token(&self, vpc_id: &str, token: &str) -> Option<Endpoint> {
        for attempt in 0..FIND_BY_TOKEN_TRIES {
            if attempt > 0 {
                crate::framework::bounds::sleep(FIND_BY_TOKEN_PAUSE).await;
            }
            match self.endpoint_by_token(vpc_id, token).await {
                Ok(Some(e)) => return Some(e),
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "looking for the endpoint by its create token failed")
                }
            }
        }
        None
    }

    /// The endpoint of `vpc_id` tagged with this create token, if EC2 lists
    /// one now.
    async fn endpoint_by_token(
        &self,
        vpc_id: &str,
        token: &str,
    ) -> Result<Option<Endpoint>, AwsError> {
        let tag_filter = format!("tag:{CREATE_TOKEN_TAG}");
        let filters = [("vpc-id", vpc_id), (tag_filter.as_str(), token)];
        Ok(self
            .list_endpoints_where(&filters)
            .await?
            .into_iter()
            .find(|e| e.tags.get(CREATE_TOKEN_TAG).map(String::as_str) == Some(token)))
    }

    /// The endpoints of `vpc_id` to `service_name` that are not `deleted`:
    /// what a new endpoint would stand next to. Looked up once per process.
    pub async fn endpoints_to_service(
        &self,
        vpc_id: &str,
        service_name: &str,
    ) -> Result<Vec<Endpoint>, AwsError> {
        let key = format!("{vpc_id} {service_name}");
        self.facts
            .existing_endpoints
            .get_or_fetch(&key, || async {
                let found = self
                    .list_endpoints_where(&[("vpc-id", vpc_id), ("service-name", service_name)])
                    .await?;
                Ok(found
                    .into_iter()
                    .filter(|e| e.vpc_id == vpc_id && e.service_name == service_name)
                    .collect())
            })
            .await
    }

    /// The endpoints of `vpc_id`, of every service, that are not `deleted`.
    pub async fn endpoints_in_vpc(&self, vpc_id: &str) -> Result<Vec<Endpoint>, AwsError> {
        Ok(self
            .list_endpoints_where(&[("vpc-id", vpc_id)])
            .await?
            .into_iter()
            .filter(|e| e.vpc_id == vpc_id)
            .collect())
    }

    /// The interface endpoints matching these filters (name, one value),
    /// every page, `deleted` ones left out: what a `list` block finds.
    pub async fn interface_endpoints_where(
        &self,
        filters: &[(&str, &str)],
    ) -> Result<Vec<Endpoint>, AwsError> {
        let mut with_type = filters.to_vec();
        with_type.push(("vpc-endpoint-type", "Interface"));
        self.list_endpoints_where(&with_type).await
    }

    /// DescribeVpcEndpoints with these filters (name, one value), every
    /// page, endpoints in state `deleted` left out.
    async fn list_endpoints_where(
        &self,
        filters: &[(&str, &str)],
    ) -> Result<Vec<Endpoint>, AwsError> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let (page, next) = endpoints_page(&self.client, filters, token).await?;
            found.extend(page);
            token = next;
            if token.is_none() {
                return Ok(found);
            }
        }
    }

    /// The endpoint one of whose network interfaces is `interface_id`,
    /// from a listing of the region's endpoints (an import's one lookup);
    /// `NotFound` when no endpoint has it.
    pub async fn endpoint_with_interface(&self, interface_id: &str) -> Result<Endpoint, AwsError> {
        self.list_endpoints_where(&[])
            .await?
            .into_iter()
            .find(|e| e.network_interface_ids.iter().any(|n| n == interface_id))
            .ok_or_else(|| AwsError::not_found("InvalidVpcEndpointId.NotFound", interface_id))
    }

    /// Remembers that Terraform knows this object, an endpoint or a network
    /// insights path (it was read from state, or created by this process),
    /// so a plan does not report it as one found where a new one would go.
    pub(crate) fn note_known(&self, id: &str) {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned());
    }

    /// Whether [`Ec2::note_known`] was told of this endpoint.
    pub fn is_known(&self, id: &str) -> bool {
        self.known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }

    /// The endpoint, or `NotFound` (also when it is in state `deleted`).
    /// Lookups made together share one DescribeVpcEndpoints call.
    pub async fn find_endpoint(&self, id: &str) -> Result<Endpoint, AwsError> {
        self.endpoints.get(id).await
    }

    /// The endpoint as EC2 shows it once a wait has ended without what it
    /// waited for: one read of at most [`LAST_LOOK`](crate::aws::retry::LAST_LOOK),
    /// as the wait may have ended because EC2 stopped answering, and the
    /// endpoint must reach Terraform's state at once.
    pub async fn find_endpoint_after_wait(&self, id: &str) -> Result<Endpoint, AwsError> {
        last_look(self.find_endpoint(id)).await
    }

    /// The endpoint for a refresh: from a listing of `vpc_id` (its
    /// endpoints in one call, shared by the refresh reads after it), or
    /// through [`Ec2::find_endpoint`] when the listing lacks it or no VPC is
    /// known (an import).
    pub async fn refresh_endpoint(
        &self,
        id: &str,
        vpc_id: Option<&str>,
    ) -> Result<Endpoint, AwsError> {
        if let Some(vpc_id) = vpc_id {
            let client = self.client.clone();
            let listed = self
                .endpoint_listings
                .find(vpc_id, id, || list_endpoints(client, vpc_id.to_owned()))
                .await;
            if let Some(endpoint) = listed {
                self.note_known(&endpoint.id);
                return Ok(endpoint);
            }
        }
        let endpoint = self.find_endpoint(id).await?;
        self.note_known(&endpoint.id);
        Ok(endpoint)
    }

    pub async fn modify_endpoint(
        &self,
        id: &str,
        changes: &EndpointChanges,
    ) -> Result<(), AwsError> {
        if changes.is_empty() {
            return Ok(());
        }
        let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        self.client
            .modify_vpc_endpoint()
            .vpc_endpoint_id(id)
            .set_add_subnet_ids(non_empty(&changes.add_subnet_ids))
            .set_remove_subnet_ids(non_empty(&changes.remove_subnet_ids))
            .set_add_security_group_ids(non_empty(&changes.add_security_group_ids))
            .set_remove_security_group_ids(non_empty(&changes.remove_security_group_ids))
            .set_private_dns_enabled(changes.private_dns_enabled)
            .set_ip_address_type(changes.ip_address_type.as_deref().map(IpAddressType::from))
            .set_dns_options(changes.dns_record_ip_type.as_deref().map(dns_options))
            .set_policy_document(changes.policy.clone())
            .set_subnet_configurations((!changes.subnet_addresses.is_empty()).then(|| {
                changes
                    .subnet_addresses
                    .iter()
                    .map(subnet_configuration)
                    .collect()
            }))
            .send()
            .await?;
        Ok(())
    }

    /// Asks EC2 to delete the endpoint; one already gone counts as deleted.
    pub async fn delete_endpoint(&self, id: &str) -> Result<(), AwsError> {
        let out = match self
            .client
            .delete_vpc_endpoints()
            .vpc_endpoint_ids(id)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return match AwsError::from(e) {
                    e if e.is_not_found() => Ok(()),
                    e => Err(e),
                };
            }
        };
        for item in out.unsuccessful() {
            let code = item.error().and_then(|e| e.code()).unwrap_or_default();
            let message = item.error().and_then(|e| e.message()).unwrap_or_default();
            match AwsError::from_code(code, message) {
                e if e.is_not_found() => {}
                e => return Err(e),
            }
        }
        Ok(())
    }

    /// Waits until the endpoint is `available` (with the subnets and groups
    /// asked for, after a modify). `pending` keeps the wait going, and so
    /// does `pendingAcceptance` for the wait's acceptance grace; `failed`,
    /// `rejected` and `expired` end it at once with the API's last error,
    /// and so does any state the wait does not expect. Throttling, server
    /// errors and lost answers are polled through until the deadline, and a
    /// read EC2 never answers ends there too, or at StopProvider.
    pub async fn wait_endpoint_available(
        &self,
        id: &str,
        wait: &AvailableWait,
        stop: &CancellationToken,
    ) -> Result<Endpoint, WaitError> {
        let started = Instant::now();
        let deadline = started + wait.timeout;
        let acceptance_deadline = started + wait.acceptance_grace.min(wait.timeout);
        let not_found_grace = started + NOT_FOUND_GRACE.min(wait.timeout);
        let mut backoff = Backoff::new(wait.first_poll, Duration::from_secs(10));
        let mut not_found_answers = 0;
        let mut pending_acceptance: Option<Endpoint> = None;
        if let Err(why) = pause(&mut backoff, deadline, stop).await {
            return Err(interrupted(why, "not yet checked"));
        }
        loop {
            let until = if pending_acceptance.is_some() {
                acceptance_deadline
            } else {
                deadline
            };
            let found = match within(until, stop, self.find_endpoint(id)).await {
                Ok(found) => found,
                Err(why) => {
                    return Err(match (why, pending_acceptance) {
                        (Interrupted::Timeout, Some(e)) => {
                            WaitError::AwaitingAcceptance(Box::new(e))
                        }
                        (why, _) => interrupted(why, NO_ANSWER),
                    });
                }
            };
            if found
                .as_ref()
                .is_ok_and(|e| !e.state_is("pendingAcceptance"))
            {
                pending_acceptance = None;
            }
            let state = match found {
                Ok(e) if e.state_is("available") => {
                    let settled = wait.settled.as_ref().is_none_or(|(subnets, groups)| {
                        let mut s = e.subnet_ids.clone();
                        let mut g = e.security_group_ids.clone();
                        s.sort();
                        g.sort();
                        &s == subnets && &g == groups
                    });
                    if settled {
                        return Ok(e);
                    }
                    "available, with the change not shown yet".to_owned()
                }
                Ok(e)
                    if e.state_is("failed") || e.state_is("rejected") || e.state_is("expired") =>
                {
                    return Err(WaitError::Failed {
                        state: e.state,
                        last_error: e.last_error,
                    });
                }
                Ok(e) if e.state_is("pendingAcceptance") => {
                    let state = e.state.clone();
                    pending_acceptance = Some(e);
                    if Instant::now() >= acceptance_deadline {
                        return Err(WaitError::AwaitingAcceptance(Box::new(
                            pending_acceptance.take().expect("just set"),
                        )));
                    }
                    state
                }
                Ok(e) if e.state_is("pending") => e.state,
                Ok(e) => return Err(WaitError::Unexpected { state: e.state }),
                Err(e)
                    if e.is_not_found()
                        && (Instant::now() < not_found_grace
                            || not_found_answers < NOT_FOUND_ANSWERS) =>
                {
                    not_found_answers += 1;
                    "not yet visible".to_owned()
                }
                Err(e) if e.is_transient() => {
                    tracing::debug!(endpoint_id = id, error = %e, "reading the endpoint failed; polling on");
                    NO_ANSWER.to_owned()
                }
                Err(e) => return Err(WaitError::Aws(e)),
            };
            tracing::debug!(endpoint_id = id, %state, "waiting for the endpoint to be available");
            let until = if pending_acceptance.is_some() {
                acceptance_deadline
            } else {
                deadline
            };
            if let Err(why) = pause(&mut backoff, until, stop).await {
                return Err(match (why, pending_acceptance) {
                    (Interrupted::Timeout, Some(e)) => WaitError::AwaitingAcceptance(Box::new(e)),
                    (why, _) => interrupted(why, &state),
                });
            }
        }
    }

    /// Waits until the endpoint is gone (`deleted`, or not found), until the
    /// deadline or StopProvider, its reads included.
    pub async fn wait_endpoint_deleted(
        &self,
        id: &str,
        timeout: Duration,
        stop: &CancellationToken,
    ) -> Result<(), WaitError> {
        let deadline = Instant::now() + timeout;
        let mut backoff = Backoff::for_state();
        loop {
            let found = within(deadline, stop, self.find_endpoint(id))
                .await
                .map_err(|why| interrupted(why, NO_ANSWER))?;
            let state = match found {
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) if e.is_transient() => NO_ANSWER.to_owned(),
                Err(e) => return Err(WaitError::Aws(e)),
                Ok(e) if e.state_is("failed") => {
                    return Err(WaitError::Failed {
                        state: e.state,
                        last_error: e.last_error,
                    });
                }
                Ok(e) => e.state,
            };
            tracing::debug!(endpoint_id = id, %state, "waiting for the endpoint to be deleted");
            if let Err(why) = pause(&mut backoff, deadline, stop).await {
                return Err(interrupted(why, &state));
            }
        }
    }
}

/// The state a wait reports when its last read got no answer.
const NO_ANSWER: &str = "unknown (EC2 did not answer)";

fn interrupted(why: Interrupted, state: &str) -> WaitError {
    let state = state.to_owned();
    match why {
        Interrupted::Stopped => WaitError::Stopped { state },
        Interrupted::Timeout => WaitError::Timeout { state },
    }
}

/// One DescribeVpcEndpoints call (with its pages) over `ids`; endpoints in
/// state `deleted` are left out, as not found. (By id, not with the
/// `vpc-endpoint-id` filter, which some EC2 emulators do not implement.)
pub(crate) async fn describe_endpoints(
    client: aws_sdk_ec2::Client,
    ids: Vec<String>,
) -> Result<HashMap<String, Endpoint>, AwsError> {
    let mut found = HashMap::new();
    let mut token = None;
    loop {
        let out = client
            .describe_vpc_endpoints()
            .set_vpc_endpoint_ids(Some(ids.clone()))
            .set_next_token(token)
            .send()
            .await?;
        for e in out.vpc_endpoints().iter().map(endpoint) {
            if !e.state_is("deleted") {
                found.insert(e.id.clone(), e);
            }
        }
        token = next_page(out.next_token());
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// The endpoints of a VPC that are not `deleted` (see [`super::list_vpc`]).
async fn list_endpoints(client: aws_sdk_ec2::Client, vpc_id: String) -> Listed<Endpoint> {
    super::list_vpc("endpoints", |token| {
        let (client, vpc_id) = (client.clone(), vpc_id.clone());
        async move {
            let (page, next) = endpoints_page(&client, &[("vpc-id", &vpc_id)], token)
                .await
                .map_err(|e| e.to_string())?;
            Ok((page.into_iter().map(|e| (e.id.clone(), e)).collect(), next))
        }
    })
    .await
}

/// One page of DescribeVpcEndpoints with `filters` (of at most
/// [`LISTING_PAGE`](super::LISTING_PAGE)), without endpoints in state
/// `deleted`, and the next page's token.
async fn endpoints_page(
    client: &aws_sdk_ec2::Client,
    filters: &[(&str, &str)],
    token: Option<String>,
) -> Result<(Vec<Endpoint>, Option<String>), AwsError> {
    let out = client
        .describe_vpc_endpoints()
        .set_filters((!filters.is_empty()).then(|| {
            filters
                .iter()
                .map(|(name, value)| Filter::builder().name(*name).values(*value).build())
                .collect()
        }))
        .max_results(super::LISTING_PAGE)
        .set_next_token(token)
        .send()
        .await?;
    let page = out
        .vpc_endpoints()
        .iter()
        .map(endpoint)
        .filter(|e| !e.state_is("deleted"))
        .collect();
    Ok((page, next_page(out.next_token())))
}

/// DnsOptions with the DNS records' address family.
fn dns_options(record_ip_type: &str) -> DnsOptionsSpecification {
    DnsOptionsSpecification::builder()
        .dns_record_ip_type(DnsRecordIpType::from(record_ip_type))
        .build()
}

fn subnet_configuration(a: &SubnetAddresses) -> SubnetConfiguration {
    SubnetConfiguration::builder()
        .subnet_id(&a.subnet_id)
        .set_ipv4(a.ipv4.clone())
        .set_ipv6(a.ipv6.clone())
        .build()
}

fn endpoint_service(name: &str, detail: &aws_sdk_ec2::types::ServiceDetail) -> EndpointService {
    let mut private_dns_names: Vec<String> = detail
        .private_dns_names()
        .iter()
        .filter_map(|d| d.private_dns_name().map(str::to_owned))
        .collect();
    if private_dns_names.is_empty() {
        private_dns_names.extend(detail.private_dns_name().map(str::to_owned));
    }
    EndpointService {
        name: name.to_owned(),
        owner: detail.owner().filter(|o| !o.is_empty()).map(str::to_owned),
        availability_zones: detail.availability_zones().to_vec(),
        availability_zone_ids: detail.availability_zone_ids().to_vec(),
        base_endpoint_dns_names: detail.base_endpoint_dns_names().to_vec(),
        private_dns_names,
        acceptance_required: detail.acceptance_required().unwrap_or(false),
        private_dns_name_state: detail
            .private_dns_name_verification_state()
            .map(|s| s.as_str().to_owned()),
        service_region: detail.service_region().map(str::to_owned),
        supported_ip_address_types: detail
            .supported_ip_address_types()
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect(),
    }
}

fn endpoint(e: &aws_sdk_ec2::types::VpcEndpoint) -> Endpoint {
    Endpoint {
        id: e.vpc_endpoint_id().unwrap_or_default().to_owned(),
        vpc_id: e.vpc_id().unwrap_or_default().to_owned(),
        service_name: e.service_name().unwrap_or_default().to_owned(),
        state: e.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        subnet_ids: e.subnet_ids().to_vec(),
        security_group_ids: e
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_owned))
            .collect(),
        private_dns_enabled: e.private_dns_enabled().unwrap_or(false),
        dns_entries: e
            .dns_entries()
            .iter()
            .map(|d| DnsEntry {
                dns_name: d.dns_name().unwrap_or_default().to_owned(),
                hosted_zone_id: d.hosted_zone_id().unwrap_or_default().to_owned(),
            })
            .collect(),
        network_interface_ids: e.network_interface_ids().to_vec(),
        owner_id: e.owner_id().unwrap_or_default().to_owned(),
        tags: tags_of(e.tags()),
        last_error: e.last_error().map(|l| match (l.code(), l.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            (None, Some(message)) => message.to_owned(),
            (None, None) => String::new(),
        }),
        service_region: e.service_region().map(str::to_owned),
        ip_address_type: e.ip_address_type().map(|t| t.as_str().to_owned()),
        dns_record_ip_type: e
            .dns_options()
            .and_then(|d| d.dns_record_ip_type())
            .map(|t| t.as_str().to_owned()),
        policy: e.policy_document().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_detail_is_read_whole() {
        let name = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
        let d = aws_sdk_ec2::types::ServiceDetail::builder()
            .service_name(name)
            .owner("123456789012")
            .availability_zones("us-east-1a")
            .availability_zones("us-east-1b")
            .availability_zone_ids("use1-az4")
            .availability_zone_ids("use1-az6")
            .private_dns_name("db.example.com")
            .acceptance_required(true)
            .build();
        let s = endpoint_service(name, &d);
        assert_eq!(s.owner.as_deref(), Some("123456789012"));
        assert_eq!(s.availability_zones, ["us-east-1a", "us-east-1b"]);
        assert_eq!(s.availability_zone_ids, ["use1-az4", "use1-az6"]);
        assert_eq!(s.private_dns_names, ["db.example.com"]);
        assert!(s.acceptance_required);
        let bare = endpoint_service(
            name,
            &aws_sdk_ec2::types::ServiceDetail::builder()
                .owner("")
                .build(),
        );
        assert_eq!(bare.owner, None);
        assert!(bare.availability_zone_ids.is_empty());
    }
}
