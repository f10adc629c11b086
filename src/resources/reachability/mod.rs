//! `planetscale_privatelink_reachability_analysis`: the troubleshooting
//! guide's "Use AWS Reachability Analyzer", as code. A network insights path
//! from the application (an instance, a network interface, or another source
//! Reachability Analyzer accepts) to one of the endpoint's network
//! interfaces over TCP on the database's port, and an analysis of it, waited
//! for until it finishes. When the analysis finds no path, its explanations
//! become sentences that say which security group rule, network ACL entry or
//! route stops the traffic ([`explain`]); that is a warning, or an error
//! with `fail_on_unreachable`.
//!
//! The path lives as long as the resource; a change of `triggers` runs a new
//! analysis of it (and deletes the previous one). Delete removes every
//! analysis of the path, then the path.
//!
//! Order: model, schema, validate, plan, create, read, update, delete,
//! import, then the analysis run and the verdict.

mod explain;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::Ec2;
use crate::aws::endpoint::CREATE_TOKEN_TAG;
use crate::aws::model::{InsightsAnalysis, Tags};
use crate::clients::Clients;
use crate::framework::bounds;
use crate::framework::diag::Diagnostics;
use crate::framework::identity::IdentitySchema;
use crate::framework::model::Attrs;
use crate::framework::schema::declare::{computed, optional, required};
use crate::framework::schema::{Block, Schema};
use crate::framework::server::{Ctx, PlanChange, Resource};
use crate::framework::timeouts;
use crate::framework::value::Value;
use crate::model;
use crate::resources::root;
use crate::resources::tags::{self, OwnTags};
use crate::validate;

pub const TYPE_NAME: &str = "planetscale_privatelink_reachability_analysis";
/// How long an analysis may take; AWS's take seconds to a few minutes.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// The operations the `timeouts` block offers, with their defaults.
const TIMEOUTS: &[(&str, Duration)] = &[
    ("create", DEFAULT_TIMEOUT),
    ("update", DEFAULT_TIMEOUT),
    ("delete", DEFAULT_TIMEOUT),
];
/// How long a plan looks for a path an earlier apply left behind.
const LOOK_AROUND: Duration = Duration::from_secs(10);
/// PostgreSQL's port.
const DEFAULT_PORT: u16 = 5432;
const FAIL_ON_UNREACHABLE_DEFAULT: bool = false;
/// The analysis finished.
const SUCCEEDED: &str = "succeeded";

// ---------------------------------------------------------------- model --

model! {
    /// The resource's arguments and what the analysis found.
    struct Model, attributes mod attr {
        id: String => computed().use_state_for_unknown().describe(
            "The network insights path's id (`nip-...`), as `path_id`.",
        ),
        source: String => required().requires_replace()
            .each_string("Invalid source", check_source)
            .describe(
                "Where the application's connections start: an instance (`i-...`), a network interface \
                 (`eni-...`) or another source Reachability Analyzer accepts (an internet gateway, transit \
                 gateway, transit gateway attachment, VPC peering connection, VPN gateway or VPC endpoint id), or \
                 its ARN. Changing it makes a new path.",
            ),
        endpoint_id: String => required().requires_replace()
            .each_string("Invalid VPC endpoint id", |s| validate::ec2_id(s, "vpce", "VPC endpoint"))
            .describe(
                "The interface VPC endpoint the application connects to (`vpce-...`), such as \
                 `planetscale_privatelink_endpoint.db.id`. The path leads to its first network interface (by id).",
            ),
        port: u16 = DEFAULT_PORT => optional().requires_replace()
            .check(|path, v, diags| {
                if let Value::Number(n) = v
                    && let Err(why) = validate::port(n)
                {
                    diags.attr_error(path, "Invalid port", why);
                }
            })
            .describe(format!("The TCP port: PostgreSQL's ({DEFAULT_PORT}) or PSBouncer's (6432).")),
        triggers: Option<BTreeMap<String, String>> => optional().describe(
            "Arbitrary values; a change runs a new analysis of the same path (and deletes the previous \
             one). Point them at what the path depends on, such as the security groups' rule ids or a \
             timestamp, to analyse again after those change.",
        ),
        fail_on_unreachable: bool = FAIL_ON_UNREACHABLE_DEFAULT => optional().describe(
            "Whether an analysis that finds no path is an error (stopping the apply) instead of a warning.",
        ),
        path_id: String => computed().use_state_for_unknown().describe("The network insights path's id (`nip-...`)."),
        destination_id: String => computed().use_state_for_unknown().describe(
            "The endpoint's network interface the path leads to (`eni-...`).",
        ),
        analysis_id: String => computed().describe("The latest analysis's id (`nia-...`)."),
        status: String => computed().describe(
            "The analysis's status: `succeeded` once it finished, `failed` when AWS could not analyse the path.",
        ),
        path_found: bool => computed().describe(
            "Whether the analysis found a path from `source` to the endpoint on `port`.",
        ),
        explanations: Vec<ExplanationModel> => computed().describe(
            "Why no path was found, one entry per explanation of AWS's: `code` (AWS's explanation code, such \
             as `ENI_SG_RULES_MISMATCH`), `component_id` and `component_type` (what stops the traffic) and \
             `detail` (a sentence saying which rule, entry or route, and what to change). Empty when a path \
             was found.",
        ),
        tags: Option<OwnTags> => optional().check(validate::tag_map).describe(
            "Tags for the network insights path. Changes in place.",
        ),
        tags_all: Tags => computed().describe(
            "All tags of the network insights path: the provider's `default_tags` merged with `tags`.",
        ),
        timeouts: Value,
    }
}

model! {
    /// One entry of `explanations`.
    struct ExplanationModel, attributes mod explanation_attr {
        code: String,
        component_id: String,
        component_type: String,
        detail: String,
    }
}

/// The attributes one analysis decides; a new analysis makes them unknown.
const ANALYSIS: [&str; 4] = [
    attr::analysis_id,
    attr::status,
    attr::path_found,
    attr::explanations,
];

pub struct ReachabilityResource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl Resource<Clients> for ReachabilityResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn timeouts(&self) -> &'static [(&'static str, Duration)] {
        TIMEOUTS
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "An AWS Reachability Analyzer analysis of the path from an application host to a PrivateLink \
                 endpoint: a network insights path over TCP to one of the endpoint's network interfaces on \
                 `port`, analysed when created and again whenever `triggers` change. When no path is found, each \
                 of AWS's explanations becomes a sentence naming the security group rule, network ACL entry or \
                 route that stops the traffic; that is a warning, or an error with `fail_on_unreachable`. AWS \
                 charges for every analysis run (US$0.10 per analysis at the time of writing; see the Amazon VPC \
                 pricing page), so runs happen only on create and on a change of `triggers`, never on refresh.",
            )
            .attributes(Model::attributes())
            .block(timeouts::block(TIMEOUTS)),
        )
    }

    // ------------------------------------------------------------ validate --

    // ---------------------------------------------------------------- plan --

    /// A change of `triggers` runs a new analysis: its results are unknown.
    /// Any other in-place change (`fail_on_unreachable`, `timeouts`) keeps
    /// the last analysis's.
    /// A new path: one this provider made from the same source to the same
    /// endpoint and port, that Terraform does not know, is what a killed
    /// apply leaves behind; the plan warns, naming its import block.
    async fn plan(&self, ctx: &Ctx<Clients>, change: &mut PlanChange<'_>, diags: &mut Diagnostics) {
        // The create token's tag stays on the path: one of EC2's 50.
        tags::plan(&ctx.data, change, tags::EC2, 1, diags);
        if change.prior.is_null() && !change.planned.is_null() {
            // A warning at most: it may not use up the create's time.
            let _ = bounds::glance(
                LOOK_AROUND,
                check_left_behind(&ctx.data.ec2, &change.planned, diags),
            )
            .await;
            return;
        }
        if !change.changing || !change.requires_replace.is_empty() {
            return;
        }
        let (prior, planned) = (Attrs::of(change.prior), Attrs::of(&change.planned));
        if planned.get(attr::triggers) != prior.get(attr::triggers) {
            return;
        }
        let kept: Vec<(&str, Value)> = ANALYSIS
            .iter()
            .map(|name| (*name, prior.get(name).clone()))
            .collect();
        for (name, value) in kept {
            change.set_planned(name, value);
        }
        let m = Model::from_value(&change.planned);
        if m.fail_on_unreachable && m.status == SUCCEEDED && !m.path_found {
            diags.attr_error(
                root(attr::fail_on_unreachable),
                "The last analysis found no path",
                format!(
                    "Analysis {} found no path from {} to {} on port {}, so fail_on_unreachable = true fails \
                     here. Fix the path (the resource's explanations say what stops it), then change triggers \
                     to analyse it again.",
                    m.analysis_id, m.source, m.endpoint_id, m.port
                ),
            );
        }
    }

    // -------------------------------------------------------------- create --

    async fn create(
        &self,
        ctx: &Ctx<Clients>,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let ec2 = &ctx.data.ec2;
        let m = Model::from_value(planned);
        let endpoint = match ec2.find_endpoint(&m.endpoint_id).await {
            Ok(e) => e,
            Err(e) => {
                let detail = if e.is_not_found() {
                    format!(
                        "There is no VPC endpoint {} in {} (or it was deleted). Check endpoint_id and the \
                         provider's region.",
                        m.endpoint_id, ctx.data.region
                    )
                } else {
                    format!("{}: {e}", m.endpoint_id)
                };
                diags.attr_error(
                    root(attr::endpoint_id),
                    "Could not read the VPC endpoint",
                    detail,
                );
                return None;
            }
        };
        let Some(destination) = endpoint.network_interface_ids.iter().min().cloned() else {
            diags.attr_error(
                root(attr::endpoint_id),
                "The endpoint has no network interfaces",
                format!(
                    "{} is {} and has no network interface to analyse a path to. Analyse it once it is \
                     available (depend on the endpoint resource).",
                    m.endpoint_id, endpoint.state
                ),
            );
            return None;
        };
        let path = match ec2
            .create_insights_path(
                &m.source,
                &destination,
                m.port,
                &super::client_token(),
                &tags::for_aws(&ctx.data, &m.tags_all),
            )
            .await
        {
            Ok(path) => path,
            Err(e) => {
                diags.attr_error(
                    root(attr::source),
                    "Could not create the network insights path",
                    format!(
                        "CreateNetworkInsightsPath from {} to {destination} (of {}) on TCP port {}: {e}. Check \
                         that source is a resource Reachability Analyzer accepts as a source, in this region.",
                        m.source, m.endpoint_id, m.port
                    ),
                );
                return None;
            }
        };
        tracing::info!(path_id = %path.id, source = %m.source, destination, "network insights path created");
        // From here on the path exists: the state always carries its id.
        let mut state = Model {
            id: path.id.clone(),
            path_id: path.id,
            destination_id: destination,
            ..m
        };
        let timeout = timeouts::get(planned, "create", DEFAULT_TIMEOUT);
        analyse(ctx, &mut state, timeout, diags).await;
        Some(state.to_value())
    }

    // ---------------------------------------------------------------- read --

    /// The path and the analysis in state, without running anything. An
    /// analysis deleted out of band leaves its results in state; a path
    /// deleted out of band removes the resource.
    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let ec2 = &ctx.data.ec2;
        let mut s = Model::from_value(state);
        if s.id.is_empty() {
            return None;
        }
        let read = ec2.find_insights_path(&s.id).await;
        let path = match super::refreshed(read, "network insights path", &s.id, state, diags) {
            super::Refreshed::Found(path) => path,
            super::Refreshed::Answer(answer) => return answer,
        };
        s.path_id.clone_from(&path.id);
        // EC2 answers a source given by ARN (needed across accounts) with
        // its id in Source and the ARN in SourceArn: keep the form the
        // configuration gave, or every plan would replace the path.
        if !s.source.starts_with("arn:") {
            s.source.clone_from(&path.source);
        } else if !path.source_arn.is_empty() {
            s.source.clone_from(&path.source_arn);
        }
        s.destination_id.clone_from(&path.destination);
        (s.tags, s.tags_all) = tags::read(&ctx.data, &path.tags, CREATE_TOKEN_TAG, s.tags.as_ref());
        if let Some(port) = path.destination_port {
            s.port = port;
        }
        if s.endpoint_id.is_empty() {
            // An import: the endpoint is the one the destination belongs to.
            match ec2.endpoint_with_interface(&path.destination).await {
                Ok(endpoint) => s.endpoint_id = endpoint.id,
                Err(e) => {
                    diags.error(
                        "Not a path to a VPC endpoint",
                        format!(
                            "{} leads to {}, which is not a network interface of a VPC endpoint in {} ({e}). \
                             Import a path this resource made, or one to an endpoint's network interface.",
                            s.id, path.destination, ctx.data.region
                        ),
                    );
                    return None;
                }
            }
        }
        let analysis = if s.analysis_id.is_empty() {
            ec2.analyses_of_path(&s.id)
                .await
                .map(|all| all.into_iter().last())
        } else {
            match ec2.find_analysis(&s.analysis_id).await {
                Ok(a) => Ok(Some(a)),
                Err(e) if e.is_not_found() => {
                    tracing::info!(analysis_id = %s.analysis_id, "analysis is gone; keeping its results");
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        };
        match analysis {
            Ok(Some(a)) => state_from_aws(&mut s, &a),
            Ok(None) => {}
            Err(e) => diags.error("Could not read the analysis", format!("{}: {e}", s.id)),
        }
        Some(s.to_value())
    }

    // -------------------------------------------------------------- update --

    /// A change of `triggers` runs a new analysis of the path, then deletes
    /// the previous one; other changes only reach the state.
    async fn update(
        &self,
        ctx: &Ctx<Clients>,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let (old, new) = (Model::from_value(prior), Model::from_value(planned));
        if old.id.is_empty() {
            super::missing_id(diags);
            return prior.clone();
        }
        let new_tags_all = new.tags_all.clone();
        let mut state = Model {
            id: old.id.clone(),
            path_id: old.path_id.clone(),
            destination_id: old.destination_id.clone(),
            analysis_id: old.analysis_id.clone(),
            status: old.status.clone(),
            path_found: old.path_found,
            explanations: old.explanations.clone(),
            ..new
        };
        if let Some((from, to)) = tags::change(&ctx.data, &old.tags_all, &new_tags_all)
            && let Err(e) = ctx.data.ec2.update_tags(&old.id, &from, &to).await
        {
            diags.error(
                "Could not update the path's tags",
                format!("{}: {e}. Nothing was changed; apply again.", old.id),
            );
            return prior.clone();
        }
        if old.triggers == state.triggers {
            return state.to_value();
        }
        let timeout = timeouts::get(planned, "update", DEFAULT_TIMEOUT);
        analyse(ctx, &mut state, timeout, diags).await;
        if state.analysis_id != old.analysis_id
            && !old.analysis_id.is_empty()
            && let Err(e) = ctx.data.ec2.delete_analysis(&old.analysis_id).await
        {
            // Not lost: the path's delete removes every analysis of it.
            tracing::warn!(analysis_id = %old.analysis_id, error = %e, "could not delete the previous analysis");
        }
        state.to_value()
    }

    // -------------------------------------------------------------- delete --

    async fn delete(&self, ctx: &Ctx<Clients>, prior: &Value, diags: &mut Diagnostics) {
        let s = Model::from_value(prior);
        if s.id.is_empty() {
            return;
        }
        if let Err(e) = delete_path(&ctx.data.ec2, &s.id, &s.analysis_id, &ctx.stop).await {
            diags.error(
                "Could not delete the network insights path",
                format!("{}: {e}", s.id),
            );
        }
    }

    // -------------------------------------------------------------- import --

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(super::identity::regional(
            "The network insights path's id (`nip-...`).",
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
        super::import_by_id(&self.schema(), id, "nip", "network insights path", diags)
    }
}

// ------------------------------------------------------------- analysis --

/// Starts an analysis of the state's path, waits for it, and records it in
/// the state (also when the wait ends early, so the next apply knows it);
/// then reports the verdict.
async fn analyse(
    ctx: &Ctx<Clients>,
    state: &mut Model,
    timeout: Duration,
    diags: &mut Diagnostics,
) {
    let ec2 = &ctx.data.ec2;
    let started = match ec2
        .start_analysis(&state.path_id, &super::client_token())
        .await
    {
        Ok(a) => a,
        Err(e) => {
            diags.error(
                "Could not start the reachability analysis",
                format!("StartNetworkInsightsAnalysis of {}: {e}", state.path_id),
            );
            return;
        }
    };
    tracing::info!(analysis_id = %started.id, path_id = %state.path_id, "reachability analysis started");
    state_from_aws(state, &started);
    match ec2.wait_analysis(&started.id, timeout, &ctx.stop).await {
        Ok(done) => {
            state_from_aws(state, &done);
            verdict(state, &done, diags);
        }
        Err((e, last)) => {
            if let Some(last) = last {
                state_from_aws(state, &last);
            }
            diags.error(
                "The reachability analysis did not finish",
                format!(
                    "{}: {e}. It stays in state as {}; the next apply replaces this resource and analyses the \
                     path again. Raise timeouts.create (or timeouts.update) if analyses take longer here.",
                    started.id, state.status
                ),
            );
        }
    }
}

/// Records an analysis in the state.
fn state_from_aws(state: &mut Model, a: &InsightsAnalysis) {
    state.analysis_id.clone_from(&a.id);
    state.status.clone_from(&a.status);
    state.path_found = a.path_found.unwrap_or(false);
    state.explanations = if state.path_found {
        Vec::new()
    } else {
        a.explanations
            .iter()
            .map(|e| {
                let (component_id, component_type) = explain::component(e);
                ExplanationModel {
                    code: e.code.clone(),
                    component_id,
                    component_type,
                    detail: explain::sentence(e, state.port),
                }
            })
            .collect()
    };
}

/// What a finished analysis means for the apply: nothing when a path was
/// found; a warning (or, with `fail_on_unreachable`, an error) listing the
/// explanations when none was; an error when AWS could not analyse.
fn verdict(state: &Model, a: &InsightsAnalysis, diags: &mut Diagnostics) {
    let route = format!(
        "from {} to {} ({}) on TCP port {}",
        state.source, state.endpoint_id, state.destination_id, state.port
    );
    if a.status != SUCCEEDED {
        let why = a.status_message.as_deref().unwrap_or("AWS gave no reason");
        diags.error(
            "The reachability analysis failed",
            format!(
                "Analysis {} of the path {route} ended {}: {why}. Check that source exists and is in the same \
                 region and account (or one Reachability Analyzer can reach), then change triggers to run it \
                 again.",
                a.id, a.status
            ),
        );
        return;
    }
    if state.path_found {
        tracing::info!(analysis_id = %a.id, "reachability analysis found a path");
        return;
    }
    let reasons = if state.explanations.is_empty() {
        "AWS gave no explanation.".to_owned()
    } else {
        state
            .explanations
            .iter()
            .map(|e| format!("- {}", e.detail))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let summary = "No network path to the endpoint";
    let detail = format!(
        "Analysis {} found no path {route}:\n{reasons}\nFix these, then change triggers to analyse again.",
        a.id
    );
    if state.fail_on_unreachable {
        diags.attr_error(root(attr::source), summary, detail);
    } else {
        diags.attr_warning(root(attr::source), summary, detail);
    }
}

/// Deletes every analysis of the path (the one in state even when the
/// listing misses it), then the path.
async fn delete_path(
    ec2: &Ec2,
    path_id: &str,
    analysis_id: &str,
    stop: &tokio_util::sync::CancellationToken,
) -> Result<(), crate::aws::AwsError> {
    let mut analyses: Vec<String> = ec2
        .analyses_of_path(path_id)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    if !analysis_id.is_empty() && !analyses.iter().any(|a| a == analysis_id) {
        analyses.push(analysis_id.to_owned());
    }
    for id in &analyses {
        ec2.delete_analysis(id).await?;
    }
    ec2.delete_insights_path(path_id, stop).await?;
    tracing::info!(
        path_id,
        analyses = analyses.len(),
        "network insights path deleted"
    );
    Ok(())
}

/// Sources Reachability Analyzer accepts, by id prefix (longest first, so
/// `tgw-attach-` is not taken for `tgw-`).
const SOURCE_PREFIXES: &[(&str, &str)] = &[
    ("tgw-attach", "transit gateway attachment"),
    ("eni", "network interface"),
    ("igw", "internet gateway"),
    ("vgw", "VPN gateway"),
    ("tgw", "transit gateway"),
    ("pcx", "VPC peering connection"),
    ("vpce", "VPC endpoint"),
    ("i", "instance"),
];

/// A source id of a kind Reachability Analyzer accepts, or an ARN.
fn check_source(source: &str) -> Result<(), String> {
    if source.starts_with("arn:") {
        return Ok(());
    }
    let kinds = SOURCE_PREFIXES
        .iter()
        .map(|(prefix, what)| format!("{what} ({prefix}-...)"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some((prefix, what)) = SOURCE_PREFIXES
        .iter()
        .find(|(prefix, _)| source.starts_with(&format!("{prefix}-")))
    else {
        return Err(format!(
            "{source:?} is not a source Reachability Analyzer accepts. Give the id of one of these: {kinds}; \
             or an ARN. Usually it is the application host's instance or network interface."
        ));
    };
    validate::ec2_id(source, prefix, what)
}

/// Paths this provider made (they carry its create-token tag) from the
/// planned source to the endpoint's interface on the planned port, that
/// Terraform does not know: each is warned of with the import block that
/// adopts it. Nothing is said when the endpoint or the paths cannot be
/// read yet (an endpoint this apply creates, say).
async fn check_left_behind(ec2: &Ec2, planned: &Value, diags: &mut Diagnostics) {
    let p = Attrs::of(planned);
    let (Some(source), Some(endpoint_id), Some(port)) = (
        p.str(attr::source),
        p.str(attr::endpoint_id),
        p.number(attr::port).and_then(|n| n.as_u64()),
    ) else {
        return;
    };
    let Ok(endpoint) = ec2.find_endpoint(endpoint_id).await else {
        return;
    };
    let Some(destination) = endpoint.network_interface_ids.iter().min() else {
        return;
    };
    let source_id = match source.strip_prefix("arn:") {
        Some(_) => source.rsplit('/').next().unwrap_or(source),
        None => source,
    };
    let Ok(paths) = ec2.insights_paths_between(source_id, destination).await else {
        return;
    };
    for path in paths.iter().filter(|path| {
        path.create_token.is_some()
            && path.destination_port.map(u64::from) == Some(port)
            && !ec2.is_known(&path.id)
    }) {
        diags.attr_warning(
            root(attr::source),
            "A path this provider made is already there",
            format!(
                "{id} analyses TCP from {source_id} to {destination} (of {endpoint_id}) on port {port}, and carries \
                 the provider's planetscale:create-token tag: an apply that did not finish made it (the apply was \
                 killed, or its answer was lost, before Terraform could save it in its state). This plan makes \
                 another. To adopt it instead, add this block to the configuration, with <name> replaced by the \
                 name of this resource (its address is shown above, after \"with\"), then run terraform \
                 apply:\n\n\
                 \x20\x20import {{\n\
                 \x20\x20\x20\x20to = {TYPE_NAME}.<name>\n\
                 \x20\x20\x20\x20id = \"{id}\"\n\
                 \x20\x20}}\n\n\
                 To delete it instead, delete its analyses, then run:\n\n\
                 \x20\x20aws ec2 delete-network-insights-path --network-insights-path-id {id}",
                id = path.id,
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sources_are_ids_of_kinds_reachability_analyzer_accepts() {
        for ok in [
            "i-0123456789abcdef0",
            "eni-0123456789abcdef0",
            "tgw-attach-0123456789abcdef0",
            "tgw-0123456789abcdef0",
            "vpce-0123456789abcdef0",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0",
        ] {
            assert_eq!(check_source(ok), Ok(()), "{ok}");
        }
        let why = check_source("sg-0123456789abcdef0").unwrap_err();
        assert!(
            why.contains("not a source Reachability Analyzer accepts"),
            "{why}"
        );
        assert!(why.contains("network interface (eni-...)"), "{why}");
        let why = check_source("i-XYZ").unwrap_err();
        assert!(why.contains("is not an instance id"), "{why}");
    }

    fn analysis(status: &str, found: Option<bool>) -> InsightsAnalysis {
        InsightsAnalysis {
            id: "nia-0123456789abcdef0".into(),
            path_id: "nip-0123456789abcdef0".into(),
            status: status.into(),
            path_found: found,
            explanations: vec![crate::aws::model::Explanation {
                code: "ENI_SG_RULES_MISMATCH".into(),
                ..Default::default()
            }],
            ..InsightsAnalysis::default()
        }
    }

    #[test]
    fn no_path_warns_unless_told_to_fail() {
        for (fail, errors) in [(false, false), (true, true)] {
            let mut state = Model {
                fail_on_unreachable: fail,
                ..Model::default()
            };
            let a = analysis(SUCCEEDED, Some(false));
            state_from_aws(&mut state, &a);
            let mut diags = Diagnostics::new();
            verdict(&state, &a, &mut diags);
            assert_eq!(diags.has_errors(), errors);
            assert_eq!(state.explanations.len(), 1);
            assert_eq!(state.explanations[0].code, "ENI_SG_RULES_MISMATCH");
        }
    }

    #[test]
    fn a_path_found_says_nothing_and_keeps_no_explanations() {
        let mut state = Model::default();
        let a = analysis(SUCCEEDED, Some(true));
        state_from_aws(&mut state, &a);
        let mut diags = Diagnostics::new();
        verdict(&state, &a, &mut diags);
        assert!(diags.is_empty());
        assert!(state.path_found);
        assert!(state.explanations.is_empty());
    }

    #[test]
    fn a_failed_analysis_is_an_error_with_aws_reason() {
        let mut state = Model::default();
        let mut a = analysis("failed", None);
        a.status_message = Some("The source is not supported".into());
        state_from_aws(&mut state, &a);
        let mut diags = Diagnostics::new();
        verdict(&state, &a, &mut diags);
        assert!(diags.has_errors());
        assert!(format!("{diags:?}").contains("The source is not supported"));
    }
}
