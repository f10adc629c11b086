//! Reachability Analyzer (EC2's network insights): a path from a source to
//! a destination over TCP on a port, analyses of it, and the explanations
//! an analysis gives when it finds no path. Paths and analyses are made
//! with a client token, so a retried call after a lost answer makes one,
//! not two.

use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    AnalysisAclRule, AnalysisComponent, AnalysisRouteTableRoute, AnalysisSecurityGroupRule, Filter,
    PortRange, Protocol, ResourceType,
};
use tokio_util::sync::CancellationToken;

use crate::aws::endpoint::CREATE_TOKEN_TAG;
use crate::aws::model::Tags;
use crate::aws::model::{
    Component, ExplainedRoute, ExplainedRule, Explanation, InsightsAnalysis, InsightsPath,
};
use crate::aws::retry::{Backoff, Interrupted, last_look, pause, within};
use crate::aws::security_group::{tag_specifications, tags_of};
use crate::aws::{AwsError, Ec2, next_page};

/// The most pages of paths one look reads.
const PATH_PAGES: usize = 5;

/// An analysis in this state is still being computed.
pub const RUNNING: &str = "running";
/// EC2's refusal to delete a path that still has analyses.
const ANALYSIS_EXISTS: &str = "AnalysisExistsForNetworkInsightsPath";
/// How long a path's delete waits for EC2 to show its analyses gone: EC2's
/// propagation time, as terraform-provider-aws waits it out
/// (`ec2PropagationTimeout`, two minutes) on the same refusal.
const ANALYSES_GONE_WITHIN: Duration = Duration::from_secs(2 * 60);

impl Ec2 {
    /// CreateNetworkInsightsPath over TCP to `port` of `destination`,
    /// tagged with `tags` and [`CREATE_TOKEN_TAG`]. The SDK's retries of the call send
    /// the same client token, so a lost answer does not make a second
    /// path; when the call ends without a conclusive answer (cut off by
    /// the deadline or Ctrl-C, or a server error after the retries), the
    /// path is looked for by its token's tag and adopted when found.
    pub async fn create_insights_path(
        &self,
        source: &str,
        destination: &str,
        port: u16,
        client_token: &str,
        tags: &Tags,
    ) -> Result<InsightsPath, AwsError> {
        let mut tags = tags.clone();
        tags.insert(CREATE_TOKEN_TAG.to_owned(), client_token.to_owned());
        let created = self
            .client
            .create_network_insights_path()
            .source(source)
            .destination(destination)
            .protocol(Protocol::Tcp)
            .destination_port(i32::from(port))
            .client_token(client_token)
            .set_tag_specifications(tag_specifications(ResourceType::NetworkInsightsPath, &tags))
            .send()
            .await;
        let err = match created {
            Ok(out) => {
                let made = out.network_insights_path().map(path).ok_or_else(|| {
                    AwsError::Transport("CreateNetworkInsightsPath answered no path".into())
                });
                return made.inspect(|p| self.note_known(&p.id));
            }
            Err(err) => AwsError::from(err),
        };
        let look = self.path_by_token(source, destination, client_token);
        let found = if err.is_cancelled() {
            tracing::info!(error = %err, "CreateNetworkInsightsPath was cut off; looking once for the path by its create token");
            last_look(look).await.ok().flatten()
        } else if err.is_transient() {
            tracing::info!(error = %err, "CreateNetworkInsightsPath gave no conclusive answer; looking for the path by its create token");
            look.await.ok().flatten()
        } else {
            return Err(err);
        };
        match found {
            Some(found) => {
                tracing::info!(path_id = %found.id, "adopting the path this create made before its answer was lost");
                self.note_known(&found.id);
                Ok(found)
            }
            None if err.is_cancelled() => Err(AwsError::Cancelled(format!(
                "{err}, and no path tagged {CREATE_TOKEN_TAG}={client_token} is listed yet. If EC2 makes it \
                 later, the next plan names it with the import block that adopts it"
            ))),
            None => Err(AwsError::Transport(format!(
                "{err}; and no path tagged {CREATE_TOKEN_TAG}={client_token} was found, so none was created"
            ))),
        }
    }

    /// The paths from `source` to `destination` (DescribeNetworkInsightsPaths
    /// filtered on both, every page).
    pub async fn insights_paths_between(
        &self,
        source: &str,
        destination: &str,
    ) -> Result<Vec<InsightsPath>, AwsError> {
        let filter = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..PATH_PAGES {
            let out = self
                .client
                .describe_network_insights_paths()
                .filters(filter("source", source))
                .filters(filter("destination", destination))
                .set_next_token(token.take())
                .send()
                .await?;
            found.extend(out.network_insights_paths().iter().map(path));
            match next_page(out.next_token()) {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(found)
    }

    /// The path from `source` to `destination` tagged with this create
    /// token, if EC2 lists one.
    async fn path_by_token(
        &self,
        source: &str,
        destination: &str,
        client_token: &str,
    ) -> Result<Option<InsightsPath>, AwsError> {
        Ok(self
            .insights_paths_between(source, destination)
            .await?
            .into_iter()
            .find(|p| p.create_token.as_deref() == Some(client_token)))
    }

    /// The path with this id; `NotFound` when EC2 does not know it.
    pub async fn find_insights_path(&self, id: &str) -> Result<InsightsPath, AwsError> {
        let out = self
            .client
            .describe_network_insights_paths()
            .network_insights_path_ids(id)
            .send()
            .await?;
        out.network_insights_paths()
            .iter()
            .map(path)
            .find(|p| p.id == id)
            .ok_or_else(|| AwsError::not_found("InvalidNetworkInsightsPathId.NotFound", id))
            .inspect(|p| self.note_known(&p.id))
    }

    /// StartNetworkInsightsAnalysis of a path: the analysis, `running`.
    pub async fn start_analysis(
        &self,
        path_id: &str,
        client_token: &str,
    ) -> Result<InsightsAnalysis, AwsError> {
        let out = self
            .client
            .start_network_insights_analysis()
            .network_insights_path_id(path_id)
            .client_token(client_token)
            .send()
            .await?;
        out.network_insights_analysis()
            .map(analysis)
            .ok_or_else(|| {
                AwsError::Transport("StartNetworkInsightsAnalysis answered no analysis".into())
            })
    }

    /// The analysis with this id; `NotFound` when EC2 does not know it.
    pub async fn find_analysis(&self, id: &str) -> Result<InsightsAnalysis, AwsError> {
        let out = self
            .client
            .describe_network_insights_analyses()
            .network_insights_analysis_ids(id)
            .send()
            .await?;
        out.network_insights_analyses()
            .iter()
            .map(analysis)
            .find(|a| a.id == id)
            .ok_or_else(|| AwsError::not_found("InvalidNetworkInsightsAnalysisId.NotFound", id))
    }

    /// Every analysis of a path, oldest first.
    pub async fn analyses_of_path(&self, path_id: &str) -> Result<Vec<InsightsAnalysis>, AwsError> {
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_network_insights_analyses()
                .network_insights_path_id(path_id)
                .set_next_token(token)
                .send()
                .await?;
            found.extend(out.network_insights_analyses().iter().map(analysis));
            token = next_page(out.next_token());
            if token.is_none() {
                break;
            }
        }
        found.sort_by_key(|a| a.started);
        Ok(found)
    }

    /// DeleteNetworkInsightsAnalysis; one already gone counts as deleted.
    pub async fn delete_analysis(&self, id: &str) -> Result<(), AwsError> {
        let deleted = self
            .client
            .delete_network_insights_analysis()
            .network_insights_analysis_id(id)
            .send()
            .await;
        gone_is_fine(deleted.map(|_| ()).map_err(AwsError::from))
    }

    /// DeleteNetworkInsightsPath; one already gone counts as deleted. EC2
    /// refuses (`AnalysisExistsForNetworkInsightsPath`) while the path has
    /// analyses: delete those first. A refusal right after their deletes
    /// (EC2 may not show them gone yet) is waited out for up to
    /// [`ANALYSES_GONE_WITHIN`], or until StopProvider.
    pub async fn delete_insights_path(
        &self,
        id: &str,
        stop: &CancellationToken,
    ) -> Result<(), AwsError> {
        let deadline = Instant::now() + ANALYSES_GONE_WITHIN;
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        loop {
            let deleted = self
                .client
                .delete_network_insights_path()
                .network_insights_path_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(AwsError::from);
            match gone_is_fine(deleted) {
                Err(e) if e.code() == ANALYSIS_EXISTS => {
                    if let Err(why) = pause(&mut backoff, deadline, stop).await {
                        tracing::debug!(path_id = id, ?why, "the path's analyses stayed");
                        return Err(e);
                    }
                }
                other => return other,
            }
        }
    }

    /// Polls an analysis until it is no longer `running`, for at most
    /// `timeout`, or until StopProvider. The last answer seen comes back
    /// with the error, so the caller can keep what it knows.
    pub async fn wait_analysis(
        &self,
        id: &str,
        timeout: Duration,
        stop: &CancellationToken,
    ) -> Result<InsightsAnalysis, (AwsError, Option<InsightsAnalysis>)> {
        let deadline = Instant::now() + timeout;
        // Analyses take seconds to minutes: a first look soon, then at
        // most every 10 s.
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(10));
        let mut last = None;
        loop {
            let waiting = |why: Interrupted| why.into_error("waiting for the analysis to finish");
            if let Err(why) = pause(&mut backoff, deadline, stop).await {
                return Err((waiting(why), last));
            }
            match within(deadline, stop, self.find_analysis(id)).await {
                Err(why) => return Err((waiting(why), last)),
                Ok(Ok(a)) if a.status != RUNNING => return Ok(a),
                Ok(Ok(a)) => last = Some(a),
                // Not visible yet right after the start, or an answer that
                // did not arrive: ask again.
                Ok(Err(e)) if e.is_not_found() || e.is_transient() => {
                    tracing::debug!(analysis_id = id, error = %e, "analysis not readable yet");
                }
                Ok(Err(e)) => return Err((e, last)),
            }
        }
    }
}

/// Deleting what is already gone is done.
fn gone_is_fine(result: Result<(), AwsError>) -> Result<(), AwsError> {
    match result {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

fn path(p: &aws_sdk_ec2::types::NetworkInsightsPath) -> InsightsPath {
    InsightsPath {
        id: p.network_insights_path_id().unwrap_or_default().to_owned(),
        arn: p.network_insights_path_arn().unwrap_or_default().to_owned(),
        source: p.source().unwrap_or_default().to_owned(),
        source_arn: p.source_arn().unwrap_or_default().to_owned(),
        destination: p.destination().unwrap_or_default().to_owned(),
        protocol: p
            .protocol()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        destination_port: p.destination_port().and_then(|p| u16::try_from(p).ok()),
        create_token: p
            .tags()
            .iter()
            .find(|t| t.key() == Some(CREATE_TOKEN_TAG))
            .and_then(|t| t.value())
            .map(str::to_owned),
        tags: tags_of(p.tags()),
    }
}

fn analysis(a: &aws_sdk_ec2::types::NetworkInsightsAnalysis) -> InsightsAnalysis {
    InsightsAnalysis {
        id: a
            .network_insights_analysis_id()
            .unwrap_or_default()
            .to_owned(),
        path_id: a.network_insights_path_id().unwrap_or_default().to_owned(),
        status: a
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        status_message: a.status_message().map(str::to_owned),
        path_found: a.network_path_found(),
        explanations: a.explanations().iter().map(explanation).collect(),
        started: a.start_date().map(|d| d.secs()).unwrap_or_default(),
    }
}

fn component(c: Option<&AnalysisComponent>) -> Option<Component> {
    let c = c?;
    let id = c.id().or(c.arn())?.to_owned();
    Some(Component {
        id,
        name: c.name().map(str::to_owned),
    })
}

fn ports(range: Option<&PortRange>) -> Option<(i32, i32)> {
    let r = range?;
    Some((r.from()?, r.to().or(r.from())?))
}

fn acl_rule(r: Option<&AnalysisAclRule>) -> Option<ExplainedRule> {
    let r = r?;
    Some(ExplainedRule {
        direction: r
            .egress()
            .map(|e| if e { "egress" } else { "ingress" }.to_owned()),
        cidr: r.cidr().map(str::to_owned),
        protocol: r.protocol().map(str::to_owned),
        ports: ports(r.port_range()),
        action: r.rule_action().map(str::to_owned),
        number: r.rule_number(),
        ..ExplainedRule::default()
    })
}

fn group_rule(r: Option<&AnalysisSecurityGroupRule>) -> Option<ExplainedRule> {
    let r = r?;
    Some(ExplainedRule {
        direction: r.direction().map(str::to_owned),
        cidr: r.cidr().map(str::to_owned),
        prefix_list_id: r.prefix_list_id().map(str::to_owned),
        group_id: r.security_group_id().map(str::to_owned),
        protocol: r.protocol().map(str::to_owned),
        ports: ports(r.port_range()),
        ..ExplainedRule::default()
    })
}

fn route(r: Option<&AnalysisRouteTableRoute>) -> Option<ExplainedRoute> {
    let r = r?;
    let target = [
        r.gateway_id(),
        r.nat_gateway_id(),
        r.network_interface_id(),
        r.transit_gateway_id(),
        r.vpc_peering_connection_id(),
        r.instance_id(),
        r.egress_only_internet_gateway_id(),
    ]
    .into_iter()
    .flatten()
    .next();
    Some(ExplainedRoute {
        destination: r
            .destination_cidr()
            .or(r.destination_prefix_list_id())
            .map(str::to_owned),
        target: target.map(str::to_owned),
        state: r.state().map(str::to_owned),
    })
}

fn explanation(e: &aws_sdk_ec2::types::Explanation) -> Explanation {
    Explanation {
        code: e.explanation_code().unwrap_or_default().to_owned(),
        component: component(e.component()),
        direction: e.direction().map(str::to_owned),
        protocols: e.protocols().to_vec(),
        port_ranges: e
            .port_ranges()
            .iter()
            .filter_map(|r| ports(Some(r)))
            .collect(),
        port: e.port(),
        address: e.address().map(str::to_owned),
        addresses: e.addresses().to_vec(),
        cidrs: e.cidrs().to_vec(),
        state: e.state().map(str::to_owned),
        missing_component: e.missing_component().map(str::to_owned),
        security_group: component(e.security_group()),
        security_groups: e
            .security_groups()
            .iter()
            .filter_map(|g| component(Some(g)))
            .collect(),
        security_group_rule: group_rule(e.security_group_rule()),
        acl: component(e.acl()),
        acl_rule: acl_rule(e.acl_rule()),
        route_table: component(e.route_table()),
        route: route(e.route_table_route()),
        subnet: component(e.subnet()),
        vpc: component(e.vpc()),
        network_interface: component(e.network_interface()),
        vpc_endpoint: component(e.vpc_endpoint()),
        attached_to: component(e.attached_to()),
        availability_zones: e.availability_zones().to_vec(),
    }
}
