//! Everything that talks to AWS: EC2, and Route 53 for private hosted zones
//! ([`route53`]). The only module that knows the AWS SDKs:
//! resources call the named finders, waiters and actions here with plain
//! Rust data ([`model`]), and get [`AwsError`]s that keep what kind of
//! failure it was.

pub mod batch;
pub mod config;
pub mod endpoint;
pub mod endpoint_service;
pub mod error;
pub mod insights;
pub mod interface;
pub mod model;
pub mod network_acl;
pub mod prefix_list;
pub mod retry;
pub mod retry_policy;
pub mod route53;
pub mod security_group;
pub mod tags;
pub mod vpc;

pub use error::{AwsError, error_message};
pub use route53::Route53;

/// A VPC's listing of one kind (endpoints, security groups), page by page:
/// `page(token)` asks for one page of at most [`LISTING_PAGE`] items and
/// answers them by id with the next page's token. At most
/// [`LISTING_PAGES`] pages are read; `None` when more remain or a call
/// fails (the reads then go by id, and report any error there).
pub(crate) async fn list_vpc<T, F, Fut>(what: &str, mut page: F) -> batch::Listed<T>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<(String, T)>, Option<String>), String>>,
{
    let mut found = HashMap::new();
    let mut token = None;
    for _ in 0..LISTING_PAGES {
        let (items, next) = page(token)
            .await
            .inspect_err(
                |e| tracing::debug!(error = %e, "listing a VPC's {what} failed; reading by id"),
            )
            .ok()?;
        found.extend(items);
        token = next;
        if token.is_none() {
            return Some(Arc::new(found));
        }
    }
    None
}

/// The token of the next page of a describe call, if there is one (EC2
/// answers an empty token on the last page, as well as none).
pub(crate) fn next_page(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_owned)
}

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use batch::{Batcher, Memo, VpcListings, WINDOW};
use model::{Endpoint, EndpointService, Rule, SecurityGroup, Subnet, Vpc, VpcDns};

/// The shared EC2 client, with the batchers reads go through. Cheap to
/// clone; clones share the batchers.
#[derive(Clone)]
pub struct Ec2 {
    pub(crate) client: aws_sdk_ec2::Client,
    endpoints: Arc<Batcher<Endpoint>>,
    groups: Arc<Batcher<SecurityGroup>>,
    rules: Arc<Batcher<Vec<Rule>>>,
    endpoint_listings: Arc<VpcListings<Endpoint>>,
    group_listings: Arc<VpcListings<SecurityGroup>>,
    facts: Arc<Facts>,
    /// Endpoints and network insights paths Terraform knows: read from its
    /// state, or created here.
    known: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

/// How long a VPC's listing answers refresh reads: a refresh of a hundred
/// pairs takes about a second and a half.
const LISTING_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(5);
/// Items per page of a listing: EC2 returns at most this many per call and
/// a token for the next page.
const LISTING_PAGE: i32 = 200;
/// The most pages one listing reads (1,000 items); a VPC with more is read
/// by id.
const LISTING_PAGES: usize = 5;

/// Memos of what the plan-time and create-time checks look up: twenty
/// endpoints in one VPC ask for its DNS settings once, not twenty times.
#[derive(Default)]
struct Facts {
    vpcs: Memo<Vpc>,
    vpc_dns: Memo<VpcDns>,
    subnets: Memo<Vec<Subnet>>,
    services: Memo<EndpointService>,
    /// By VPC and service: the endpoints a new endpoint would stand next to.
    existing_endpoints: Memo<Vec<Endpoint>>,
}

impl Ec2 {
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        let (c1, c2, c3) = (client.clone(), client.clone(), client.clone());
        Self {
            endpoints: Arc::new(Batcher::new(WINDOW, move |ids| {
                Box::pin(endpoint::describe_endpoints(c1.clone(), ids))
            })),
            groups: Arc::new(Batcher::new(WINDOW, move |ids| {
                Box::pin(security_group::describe_groups(c2.clone(), ids))
            })),
            rules: Arc::new(Batcher::new(WINDOW, move |ids| {
                Box::pin(security_group::describe_rules(c3.clone(), ids))
            })),
            endpoint_listings: Arc::new(VpcListings::new(LISTING_FRESH_FOR)),
            group_listings: Arc::new(VpcListings::new(LISTING_FRESH_FOR)),
            facts: Arc::default(),
            known: Arc::default(),
            client,
        }
    }
}

impl Ec2 {
    /// Runs `find` for every id at once, so lookups that go through a
    /// batcher share one describe call; the results come back in the order
    /// of `ids`.
    pub(crate) async fn each<T, Fut>(
        &self,
        ids: &[String],
        find: impl Fn(Ec2, String) -> Fut,
    ) -> Vec<Result<T, AwsError>>
    where
        T: Send + 'static,
        Fut: Future<Output = Result<T, AwsError>> + Send + 'static,
    {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, id) in ids.iter().enumerate() {
            let lookup = find(self.clone(), id.clone());
            tasks.spawn(crate::framework::bounds::inherit(async move {
                (i, lookup.await)
            }));
        }
        let mut results: Vec<Option<Result<T, AwsError>>> = ids.iter().map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            if let Ok((i, result)) = joined
                && let Some(slot) = results.get_mut(i)
            {
                *slot = Some(result);
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| Err(AwsError::Transport("a lookup task ended early".into())))
            })
            .collect()
    }
}
