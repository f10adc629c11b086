//! A stand-in for EC2's Reachability Analyzer actions, which the emulator
//! does not serve: CreateNetworkInsightsPath, DescribeNetworkInsightsPaths,
//! DeleteNetworkInsightsPath, StartNetworkInsightsAnalysis,
//! DescribeNetworkInsightsAnalyses and DeleteNetworkInsightsAnalysis, with
//! the request parameters and answer elements of the EC2 API reference (the
//! Query protocol's names: `networkInsightsPathSet`, `explanationSet`...).
//! The strict layer answers those actions from here; every other action
//! reaches the emulator.
//!
//! What it emulates:
//! - A path is kept with its source (given by ARN, kept and answered by its
//!   id in `source`, the ARN in `sourceArn`, as EC2 does), destination,
//!   protocol and port; a
//!   repeated `ClientToken` answers the first path (or analysis) again, as
//!   EC2's idempotent creates do.
//! - An analysis starts `running` and reads as such on its first
//!   [`RUNNING_READS`] descriptions, then `succeeded` with its verdict.
//! - The verdict is worked out from the emulator's own state, for the part
//!   of the path this project is about: the destination must be a network
//!   interface of a VPC endpoint, and one of the endpoint's security groups
//!   must let TCP on the port in from the source (by a block holding the
//!   source's private address, or by naming one of the source's groups).
//!   Sources the stand-in cannot place (other than `eni-` and `i-`) pass
//!   that check. Routes and network ACLs are not evaluated: a test plants
//!   explanations for a source ([`Insights::plant_no_path`]) to play those.
//! - No path: `networkPathFound` false and an `ENI_SG_RULES_MISMATCH`
//!   explanation naming the interface, its groups, the direction, protocol
//!   and port, as EC2 reports it.
//! - A path keeps the tags of its `TagSpecification.1` and answers them in
//!   `tagSet`; CreateTags and DeleteTags of paths' ids (`nip-`) change them
//!   (a DeleteTags key with no value deletes the key whatever its value, as
//!   API_DeleteTags says); DescribeNetworkInsightsPaths filters on `source`
//!   and `destination` (by id), as EC2's does.
//! - Missing ids answer `InvalidNetworkInsightsPathId.NotFound` and
//!   `InvalidNetworkInsightsAnalysisId.NotFound`; a path with analyses left
//!   cannot be deleted (`AnalysisExistsForNetworkInsightsPath`: "Before you
//!   can delete the path, you must delete its analyses", the Reachability
//!   Analyzer guide), so a client must delete the analyses first. The
//!   error messages are written here: AWS does not publish them.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};

use super::proxy::{Reply, error_from, values, xml_escape};
use super::strict::{Call, field, items, list_field};

/// The actions answered here.
pub const ACTIONS: &[&str] = &[
    "CreateNetworkInsightsPath",
    "DescribeNetworkInsightsPaths",
    "DeleteNetworkInsightsPath",
    "StartNetworkInsightsAnalysis",
    "DescribeNetworkInsightsAnalyses",
    "DeleteNetworkInsightsAnalysis",
];

/// How many descriptions of a new analysis still say `running`.
pub const RUNNING_READS: u32 = 1;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// An explanation a test plants, in EC2's answer's terms.
#[derive(Clone, Debug, Default)]
pub struct Planted {
    pub code: String,
    /// `(id, name)` of the component it is about.
    pub component: Option<(String, String)>,
    pub acl: Option<String>,
    /// `(number, action, egress, cidr, protocol, from, to)`.
    pub acl_rule: Option<(i32, String, bool, String, String, i32, i32)>,
    pub route_table: Option<String>,
    pub subnet: Option<String>,
    pub direction: Option<String>,
    pub cidrs: Vec<String>,
    pub state: Option<String>,
}

#[derive(Clone, Debug)]
struct Path {
    id: String,
    /// The source's id (`Source` in answers).
    source: String,
    /// The source's ARN (`SourceArn`), where one is known.
    source_arn: Option<String>,
    destination: String,
    protocol: String,
    port: Option<String>,
    created: String,
    /// The tags of its `TagSpecification.1`.
    tags: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
struct Analysis {
    id: String,
    path_id: String,
    started: String,
    reads_running: u32,
    found: bool,
    explanations: String,
}

#[derive(Default)]
struct State {
    paths: BTreeMap<String, Path>,
    analyses: BTreeMap<String, Analysis>,
    /// ClientToken -> the id it made.
    tokens: HashMap<String, String>,
    /// Source -> explanations to answer instead of evaluating.
    planted: HashMap<String, Vec<Planted>>,
    /// Source -> how many descriptions of its analyses say `running`, when
    /// not [`RUNNING_READS`].
    slow: HashMap<String, u32>,
    /// Path id -> analyses started of it, ever.
    started: HashMap<String, u32>,
}

/// The stand-in's state, shared by the strict layer and the tests.
#[derive(Clone, Default)]
pub struct Insights {
    state: Arc<Mutex<State>>,
}

impl Insights {
    /// Analyses from `source` find no path, for the reasons given, until
    /// [`Insights::clear`].
    pub fn plant_no_path(&self, source: &str, explanations: Vec<Planted>) {
        let mut s = self.state.lock().unwrap();
        s.planted.insert(source.to_owned(), explanations);
    }

    /// Analyses from `source` read as `running` this many times (an
    /// analysis AWS takes minutes over), until [`Insights::clear`].
    pub fn slow_down(&self, source: &str, running_reads: u32) {
        let mut s = self.state.lock().unwrap();
        s.slow.insert(source.to_owned(), running_reads);
    }

    pub fn clear(&self, source: &str) {
        let mut s = self.state.lock().unwrap();
        s.planted.remove(source);
        s.slow.remove(source);
    }

    /// Paths that exist now, by id: `(source, destination, port)`.
    pub fn paths(&self) -> BTreeMap<String, (String, String, String)> {
        let s = self.state.lock().unwrap();
        s.paths
            .values()
            .map(|p| {
                let port = p.port.clone().unwrap_or_default();
                (
                    p.id.clone(),
                    (p.source.clone(), p.destination.clone(), port),
                )
            })
            .collect()
    }

    /// How many analyses of this path were started, ever.
    pub fn started(&self, path_id: &str) -> u32 {
        let s = self.state.lock().unwrap();
        s.started.get(path_id).copied().unwrap_or_default()
    }

    /// Paths from `source` that exist now.
    pub fn paths_from(&self, source: &str) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.paths
            .values()
            .filter(|p| p.source == source)
            .map(|p| p.id.clone())
            .collect()
    }

    /// The tags `path_id` has now, sorted.
    pub fn tags_of(&self, path_id: &str) -> Vec<(String, String)> {
        let s = self.state.lock().unwrap();
        let mut tags = s
            .paths
            .get(path_id)
            .map(|p| p.tags.clone())
            .unwrap_or_default();
        tags.sort();
        tags
    }

    /// Analyses of `path_id` that exist now.
    pub fn analyses_of(&self, path_id: &str) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.analyses
            .values()
            .filter(|a| a.path_id == path_id)
            .map(|a| a.id.clone())
            .collect()
    }

    /// The answer to `action`, when it is one of [`ACTIONS`], or a tag
    /// write to paths.
    pub(super) async fn answer(&self, call: &Call, action: &str) -> Option<Reply> {
        if (action == "CreateTags" || action == "DeleteTags")
            && call
                .list("ResourceId")
                .iter()
                .all(|id| id.starts_with("nip-"))
            && !call.list("ResourceId").is_empty()
        {
            return Some(self.tag_paths(call, action));
        }
        if !ACTIONS.contains(&action) {
            return None;
        }
        Some(match action {
            "CreateNetworkInsightsPath" => self.create_path(call),
            "DescribeNetworkInsightsPaths" => self.describe_paths(call),
            "DeleteNetworkInsightsPath" => self.delete_path(call),
            "StartNetworkInsightsAnalysis" => self.start(call).await,
            "DescribeNetworkInsightsAnalyses" => self.describe_analyses(call),
            _ => self.delete_analysis(call),
        })
    }

    fn tag_paths(&self, call: &Call, action: &str) -> Reply {
        let mut s = self.state.lock().unwrap();
        let ids = call.list("ResourceId");
        if let Some(missing) = ids.iter().find(|id| !s.paths.contains_key(*id)) {
            return path_not_found(missing);
        }
        let tags: Vec<(String, Option<String>)> = (1..)
            .map_while(|n| {
                let key = call.param(&format!("Tag.{n}.Key"))?;
                let value = call.param(&format!("Tag.{n}.Value")).map(str::to_owned);
                Some((key.to_owned(), value))
            })
            .collect();
        for id in &ids {
            let path = s.paths.get_mut(id).expect("checked above");
            for (key, value) in &tags {
                let held = path.tags.iter().position(|(k, _)| k == key);
                match (action, held) {
                    ("CreateTags", Some(i)) => path.tags[i].1 = value.clone().unwrap_or_default(),
                    ("CreateTags", None) => path
                        .tags
                        .push((key.clone(), value.clone().unwrap_or_default())),
                    (_, Some(i)) if value.as_ref().is_none_or(|v| *v == path.tags[i].1) => {
                        path.tags.remove(i);
                    }
                    _ => {}
                }
            }
        }
        ok(action, "<return>true</return>")
    }

    fn create_path(&self, call: &Call) -> Reply {
        let (Some(source), Some(destination)) = (call.param("Source"), call.param("Destination"))
        else {
            return invalid(
                "MissingParameter",
                "The request must contain the parameter Source and Destination",
            );
        };
        let protocol = call.param("Protocol").unwrap_or_default();
        if protocol != "tcp" && protocol != "udp" {
            return invalid(
                "InvalidParameterValue",
                &format!(
                    "Value ({protocol}) for parameter protocol is invalid. Valid values: tcp, udp"
                ),
            );
        }
        let mut s = self.state.lock().unwrap();
        let token = call.param("ClientToken").map(str::to_owned);
        let known = token.as_ref().and_then(|t| s.tokens.get(t)).cloned();
        let path = match known.and_then(|id| s.paths.get(&id).cloned()) {
            Some(path) => path,
            None => {
                // Given by ARN, the source is kept (and answered) by its
                // id, with the ARN beside it, as EC2 does.
                let (source, source_arn) = match source.strip_prefix("arn:") {
                    Some(_) => (
                        source.rsplit('/').next().unwrap_or(source).to_owned(),
                        Some(source.to_owned()),
                    ),
                    None => (source.to_owned(), source_arn_of(source)),
                };
                let path = Path {
                    id: new_id("nip"),
                    source,
                    source_arn,
                    destination: destination.to_owned(),
                    protocol: protocol.to_owned(),
                    port: call.param("DestinationPort").map(str::to_owned),
                    created: now(),
                    tags: (1..)
                        .map_while(|n| {
                            let key = call.param(&format!("TagSpecification.1.Tag.{n}.Key"))?;
                            let value = call
                                .param(&format!("TagSpecification.1.Tag.{n}.Value"))
                                .unwrap_or_default();
                            Some((key.to_owned(), value.to_owned()))
                        })
                        .collect(),
                };
                if let Some(t) = token {
                    s.tokens.insert(t, path.id.clone());
                }
                s.paths.insert(path.id.clone(), path.clone());
                path
            }
        };
        ok(
            "CreateNetworkInsightsPath",
            &format!(
                "<networkInsightsPath>{}</networkInsightsPath>",
                path_xml(&path)
            ),
        )
    }

    fn describe_paths(&self, call: &Call) -> Reply {
        let s = self.state.lock().unwrap();
        let ids = call.list("NetworkInsightsPathId");
        if let Some(missing) = ids.iter().find(|id| !s.paths.contains_key(*id)) {
            return path_not_found(missing);
        }
        // The filters `source` and `destination` (by id), each with its
        // values; other filters are not emulated.
        let filters: Vec<(String, Vec<String>)> = (1..)
            .map_while(|n| {
                let name = call.param(&format!("Filter.{n}.Name"))?;
                Some((name.to_owned(), call.list(&format!("Filter.{n}.Value"))))
            })
            .collect();
        let passes = |p: &Path| {
            filters.iter().all(|(name, values)| match name.as_str() {
                "source" => values.contains(&p.source),
                "destination" => values.contains(&p.destination),
                _ => true,
            })
        };
        let listed: String = s
            .paths
            .values()
            .filter(|p| ids.is_empty() || ids.contains(&p.id))
            .filter(|p| passes(p))
            .map(|p| format!("<item>{}</item>", path_xml(p)))
            .collect();
        ok(
            "DescribeNetworkInsightsPaths",
            &format!("<networkInsightsPathSet>{listed}</networkInsightsPathSet>"),
        )
    }

    fn delete_path(&self, call: &Call) -> Reply {
        let id = call.param("NetworkInsightsPathId").unwrap_or_default();
        let mut s = self.state.lock().unwrap();
        if !s.paths.contains_key(id) {
            return path_not_found(id);
        }
        if let Some(a) = s.analyses.values().find(|a| a.path_id == id) {
            return invalid(
                "AnalysisExistsForNetworkInsightsPath",
                &format!(
                    "Network Insights Path {id} has Network Insights Analysis {}; delete it first",
                    a.id
                ),
            );
        }
        s.paths.remove(id);
        ok(
            "DeleteNetworkInsightsPath",
            &format!("<networkInsightsPathId>{id}</networkInsightsPathId>"),
        )
    }

    async fn start(&self, call: &Call) -> Reply {
        let path_id = call.param("NetworkInsightsPathId").unwrap_or_default();
        let token = call.param("ClientToken").map(str::to_owned);
        let (path, planted, reads) = {
            let s = self.state.lock().unwrap();
            let known = token.as_ref().and_then(|t| s.tokens.get(t));
            if let Some(a) = known.and_then(|id| s.analyses.get(id)) {
                return ok("StartNetworkInsightsAnalysis", &analysis_element(a));
            }
            let Some(path) = s.paths.get(path_id).cloned() else {
                return path_not_found(path_id);
            };
            let planted = s.planted.get(&path.source).cloned();
            let reads = s.slow.get(&path.source).copied().unwrap_or(RUNNING_READS);
            (path, planted, reads)
        };
        let (found, explanations) = match planted {
            Some(planted) => (false, planted.iter().map(planted_xml).collect()),
            None => evaluate(call, &path).await,
        };
        let analysis = Analysis {
            id: new_id("nia"),
            path_id: path.id.clone(),
            started: now(),
            reads_running: reads,
            found,
            explanations,
        };
        let mut s = self.state.lock().unwrap();
        *s.started.entry(path.id.clone()).or_default() += 1;
        if let Some(t) = token {
            s.tokens.insert(t, analysis.id.clone());
        }
        s.analyses.insert(analysis.id.clone(), analysis.clone());
        // Just started: running.
        let running = Analysis {
            reads_running: 1,
            ..analysis
        };
        ok("StartNetworkInsightsAnalysis", &analysis_element(&running))
    }

    fn describe_analyses(&self, call: &Call) -> Reply {
        let mut s = self.state.lock().unwrap();
        let ids = call.list("NetworkInsightsAnalysisId");
        if let Some(missing) = ids.iter().find(|id| !s.analyses.contains_key(*id)) {
            return invalid(
                "InvalidNetworkInsightsAnalysisId.NotFound",
                &format!("The network insights analysis ID '{missing}' does not exist"),
            );
        }
        let path = call.param("NetworkInsightsPathId").map(str::to_owned);
        let mut listed = String::new();
        for a in s.analyses.values_mut() {
            if (!ids.is_empty() && !ids.contains(&a.id))
                || path.as_ref().is_some_and(|p| *p != a.path_id)
            {
                continue;
            }
            listed.push_str(&format!("<item>{}</item>", analysis_xml(a)));
            a.reads_running = a.reads_running.saturating_sub(1);
        }
        ok(
            "DescribeNetworkInsightsAnalyses",
            &format!("<networkInsightsAnalysisSet>{listed}</networkInsightsAnalysisSet>"),
        )
    }

    fn delete_analysis(&self, call: &Call) -> Reply {
        let id = call.param("NetworkInsightsAnalysisId").unwrap_or_default();
        let mut s = self.state.lock().unwrap();
        if s.analyses.remove(id).is_none() {
            return invalid(
                "InvalidNetworkInsightsAnalysisId.NotFound",
                &format!("The network insights analysis ID '{id}' does not exist"),
            );
        }
        ok(
            "DeleteNetworkInsightsAnalysis",
            &format!("<networkInsightsAnalysisId>{id}</networkInsightsAnalysisId>"),
        )
    }
}

/// Whether the endpoint's security groups let the source in on the path's
/// port, from the emulator's state; and the explanation when they do not.
async fn evaluate(call: &Call, path: &Path) -> (bool, String) {
    let port: i64 = path
        .port
        .as_deref()
        .and_then(|p| p.parse().ok())
        .unwrap_or(-1);
    let Some(endpoints) = call.ask("DescribeVpcEndpoints", &[], &[]).await else {
        return (true, String::new());
    };
    let Some(endpoint) = items(&endpoints, "vpcEndpointSet")
        .into_iter()
        .find(|e| list_field(e, "networkInterfaceIdSet").contains(&path.destination))
    else {
        // Not an endpoint's interface: beyond what this stand-in judges.
        return (true, String::new());
    };
    let groups: Vec<String> = list_field(&endpoint, "groupSet")
        .iter()
        .flat_map(|g| values(g, "groupId"))
        .collect();
    let Some((address, source_groups)) = place(call, &path.source).await else {
        return (true, String::new());
    };
    for group in &groups {
        let Some(rules) = call
            .ask("DescribeSecurityGroupRules", &[], &[("group-id", group)])
            .await
        else {
            continue;
        };
        let lets_in = items(&rules, "securityGroupRuleSet").iter().any(|r| {
            let number = |name: &str| field(r, name).and_then(|v| v.parse::<i64>().ok());
            let protocol = field(r, "ipProtocol").unwrap_or_default();
            let inbound = field(r, "isEgress").as_deref() == Some("false");
            let covers = protocol == "-1"
                || ((protocol == "tcp" || protocol == "6")
                    && number("fromPort").is_some_and(|f| f <= port)
                    && number("toPort").is_some_and(|t| t >= port));
            let from_block = field(r, "cidrIpv4")
                .and_then(|c| c.parse::<ipnet::Ipv4Net>().ok())
                .is_some_and(|net| net.contains(&address));
            let from_group = field(r, "referencedGroupInfo")
                .map(|info| values(&info, "groupId"))
                .is_some_and(|g| g.iter().any(|g| source_groups.contains(g)));
            inbound && covers && (from_block || from_group)
        });
        if lets_in {
            return (true, String::new());
        }
    }
    let group_set: String = groups
        .iter()
        .map(|g| {
            format!(
                "<item><id>{g}</id><arn>{}</arn></item>",
                arn("security-group", g)
            )
        })
        .collect();
    let explanation = format!(
        "<item><explanationCode>ENI_SG_RULES_MISMATCH</explanationCode><direction>ingress</direction>\
         <component><id>{eni}</id><arn>{eni_arn}</arn></component>\
         <networkInterface><id>{eni}</id><arn>{eni_arn}</arn></networkInterface>\
         <securityGroupSet>{group_set}</securityGroupSet>\
         <protocolSet><item>tcp</item></protocolSet>\
         <portRangeSet><item><from>{port}</from><to>{port}</to></item></portRangeSet></item>",
        eni = path.destination,
        eni_arn = arn("network-interface", &path.destination),
    );
    (false, explanation)
}

/// A source's private IPv4 address and security groups, for the sources
/// the stand-in can place: network interfaces and instances.
async fn place(call: &Call, source: &str) -> Option<(Ipv4Addr, Vec<String>)> {
    let answer = if source.starts_with("eni-") {
        call.ask(
            "DescribeNetworkInterfaces",
            &[("NetworkInterfaceId.1", source)],
            &[],
        )
        .await?
    } else if source.starts_with("i-") {
        call.ask("DescribeInstances", &[("InstanceId.1", source)], &[])
            .await?
    } else {
        return None;
    };
    let address = values(&answer, "privateIpAddress").first()?.parse().ok()?;
    let groups = values(&answer, "groupId");
    Some((address, groups))
}

fn planted_xml(p: &Planted) -> String {
    let mut x = format!("<explanationCode>{}</explanationCode>", xml_escape(&p.code));
    if let Some((id, name)) = &p.component {
        x.push_str(&format!(
            "<component><id>{id}</id><name>{}</name></component>",
            xml_escape(name)
        ));
    }
    if let Some(acl) = &p.acl {
        x.push_str(&format!(
            "<acl><id>{acl}</id><arn>{}</arn></acl>",
            arn("network-acl", acl)
        ));
    }
    if let Some((number, action, egress, cidr, protocol, from, to)) = &p.acl_rule {
        x.push_str(&format!(
            "<aclRule><cidr>{cidr}</cidr><egress>{egress}</egress><portRange><from>{from}</from><to>{to}</to></portRange>\
             <protocol>{protocol}</protocol><ruleAction>{action}</ruleAction><ruleNumber>{number}</ruleNumber></aclRule>"
        ));
    }
    if let Some(table) = &p.route_table {
        x.push_str(&format!("<routeTable><id>{table}</id></routeTable>"));
    }
    if let Some(subnet) = &p.subnet {
        x.push_str(&format!("<subnet><id>{subnet}</id></subnet>"));
    }
    if let Some(direction) = &p.direction {
        x.push_str(&format!("<direction>{direction}</direction>"));
    }
    if !p.cidrs.is_empty() {
        let cidrs: String = p
            .cidrs
            .iter()
            .map(|c| format!("<item>{c}</item>"))
            .collect();
        x.push_str(&format!("<cidrSet>{cidrs}</cidrSet>"));
    }
    if let Some(state) = &p.state {
        x.push_str(&format!("<state>{state}</state>"));
    }
    format!("<item>{x}</item>")
}

fn path_xml(p: &Path) -> String {
    let port = p
        .port
        .as_ref()
        .map(|port| format!("<destinationPort>{port}</destinationPort>"))
        .unwrap_or_default();
    format!(
        "<networkInsightsPathId>{id}</networkInsightsPathId><networkInsightsPathArn>{arn}</networkInsightsPathArn>\
         <createdDate>{created}</createdDate><source>{source}</source>{source_arn}<destination>{destination}</destination>\
         <protocol>{protocol}</protocol>{port}<tagSet>{tags}</tagSet>",
        id = p.id,
        arn = arn("network-insights-path", &p.id),
        created = p.created,
        source = xml_escape(&p.source),
        source_arn = p
            .source_arn
            .as_ref()
            .map(|a| format!("<sourceArn>{}</sourceArn>", xml_escape(a)))
            .unwrap_or_default(),
        destination = xml_escape(&p.destination),
        protocol = p.protocol,
        tags = p
            .tags
            .iter()
            .map(|(k, v)| format!(
                "<item><key>{}</key><value>{}</value></item>",
                xml_escape(k),
                xml_escape(v)
            ))
            .collect::<String>(),
    )
}

fn analysis_element(a: &Analysis) -> String {
    format!(
        "<networkInsightsAnalysis>{}</networkInsightsAnalysis>",
        analysis_xml(a)
    )
}

fn analysis_xml(a: &Analysis) -> String {
    let head = format!(
        "<networkInsightsAnalysisId>{id}</networkInsightsAnalysisId><networkInsightsAnalysisArn>{arn}</networkInsightsAnalysisArn>\
         <networkInsightsPathId>{path}</networkInsightsPathId><startDate>{started}</startDate>",
        id = a.id,
        arn = arn("network-insights-analysis", &a.id),
        path = a.path_id,
        started = a.started,
    );
    if a.reads_running > 0 {
        return format!("{head}<status>running</status><tagSet/>");
    }
    format!(
        "{head}<status>succeeded</status><networkPathFound>{}</networkPathFound>\
         <explanationSet>{}</explanationSet><tagSet/>",
        a.found, a.explanations
    )
}

/// The ARN EC2 reports beside a source given by id, for the kinds the
/// stand-in knows.
fn source_arn_of(id: &str) -> Option<String> {
    let kind = match id.split('-').next()? {
        "eni" => "network-interface",
        "i" => "instance",
        _ => return None,
    };
    Some(arn(kind, id))
}

fn arn(kind: &str, id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{id}")
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{:017x}", fastrand::u64(..) >> 4)
}

fn now() -> String {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .expect("the clock reads as a date")
}

fn ok(action: &str, inner: &str) -> Reply {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <requestId>insights-stand-in</requestId>{inner}</{action}Response>"
    );
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/xml")
        .body(Full::new(Bytes::from(body)))
        .unwrap())
}

fn invalid(code: &str, message: &str) -> Reply {
    error_from(StatusCode::BAD_REQUEST, code, message, "insights-stand-in")
}

fn path_not_found(id: &str) -> Reply {
    invalid(
        "InvalidNetworkInsightsPathId.NotFound",
        &format!("The network insights path ID '{id}' does not exist"),
    )
}
