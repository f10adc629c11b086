//! `planetscale_privatelink_connection_test`: the PrivateLink guide's "Test
//! your new connection", from the machine where Terraform runs. It resolves
//! the Private Host, opens a TCP connection to every address on every port,
//! sends PostgreSQL's SSLRequest, reads the one-byte answer and, on `S`,
//! completes a TLS handshake that verifies the server's certificate for the
//! host name. It never sends a startup message, a user name or a password:
//! the server sees a client that asked for TLS and hung up.
//!
//! Every address is tried, not only the first: an endpoint has one address
//! per availability zone, and a subnet whose network ACL drops the traffic
//! fails only the connections that land on its address, which a test of the
//! first address would miss half the time.
//!
//! The probing itself (the lookup, the SSLRequest, the handshake, the
//! classification of what came back and the sentences that explain each
//! failure) is [`crate::probe`]'s, shared with the diagnostics data source.
//! This file holds the arguments, which argument each failure points at,
//! whether the addresses are private, and the report.
//!
//! Order: model (with each argument's checks), schema, read.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ipnet::IpNet;

use crate::aws::AwsError;
use crate::aws::model::ZoneVpc;
use crate::aws::route53::AliasFamilies;
use crate::clients::Clients;
use crate::dns;
use crate::framework::diag::Diagnostics;
use crate::framework::path::root;
use crate::framework::schema::declare::{computed, optional, required};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::server::{Ctx, DataSource};
use crate::framework::timeouts::parse_duration;
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::privatelink::{DEFAULT_PORTS, endpoint_id_of_dns_name};
use crate::probe::{self, Failure, Names, Probe};
use crate::validate;

pub const TYPE_NAME: &str = "planetscale_privatelink_connection_test";
/// How long one connection (one address and port) may take, and the name
/// lookup too.
pub const TIMEOUT_DEFAULT: &str = "5s";
pub const FAIL_ON_ERROR_DEFAULT: bool = false;

/// How the failure sentences name this data source's arguments.
const NAMES: Names = Names {
    host: attr::host,
    ca_certificate: attr::ca_certificate,
    resolver: attr::resolver,
    path_checks: "The planetscale_privatelink_diagnostics data source checks those",
};

crate::model! {
    /// The data source's arguments and what it reports, each declared once
    /// (schema and checks), but `results`: the schema declares it, with
    /// [`result_type`].
    pub struct Model, attributes mod attr {
        host: Option<String> => required()
            .each_string("Invalid host", check_host)
            .describe(
                "The host to test: the branch's Private Host as the PlanetScale dashboard shows it (or \
                 `planetscale_privatelink_service`'s `private_host`), a DNS name or an IP address. The server's \
                 certificate must be valid for it.",
            ),
        ports: BTreeSet<u16> = BTreeSet::from(DEFAULT_PORTS) => optional()
            .check(validate::port_values)
            .check(probe::check_ports)
            .describe(format!(
                "TCP ports to test: PostgreSQL ({}) and PSBouncer ({}).",
                DEFAULT_PORTS[0], DEFAULT_PORTS[1]
            )),
        timeout: String = TIMEOUT_DEFAULT.to_owned() => optional()
            .each_string("Invalid timeout", |s| parse_timeout(s).map(drop))
            .describe(
                "How long each connection may take (one address and port: opening it, the answer to \
                 the SSLRequest and the TLS handshake), as a duration such as \"5s\" or \"1m\". The \
                 connections run at the same time, and the name lookup before them has the same bound.",
            ),
        vpc_id: Option<String> => optional()
            .each_string("Invalid VPC id", |s| validate::ec2_id(s, "vpc", "VPC"))
            .describe(
                "The application's VPC. When given, `private` is true only if every address `host` resolves to \
                 is inside one of the VPC's IPv4 or IPv6 CIDR blocks (read with ec2:DescribeVpcs), or, for a \
                 spoke VPC sharing a hub's endpoint, inside the hub VPC's blocks when a private hosted zone for \
                 `host` associated with this VPC aliases that endpoint (as `planetscale_privatelink_dns_zone` \
                 makes it; looked up only for addresses outside the VPC). Without it, any private address \
                 (RFC 1918, IPv6 unique local, loopback) counts.",
            ),
        resolver: Option<String> => optional()
            .each_string("Invalid resolver", |s| dns::parse_server(s).map(drop))
            .describe(
                "A DNS server to ask for `host` instead of this machine's resolver, as `ip[:port]` \
                 (`10.0.0.2`, `10.0.0.2:53`, `[fd00::2]:53`; the port is 53 when left out), such as the VPC's \
                 resolver (the VPC CIDR's base address plus two), which answers only from inside the VPC. \
                 Without it, `host` is looked up the way applications on this machine look it up (the system's \
                 resolver, /etc/hosts included).",
            ),
        ca_certificate: Option<String> => optional()
            .each_string("Invalid CA certificate", |s| probe::extra_roots(s).map(drop))
            .describe(
                "PEM certificates of certificate authorities to trust besides this machine's trust store, for \
                 a server whose certificate a private authority issued. PlanetScale's certificates need none.",
            ),
        fail_on_error: bool = FAIL_ON_ERROR_DEFAULT => optional().describe(
            "Whether a failed test is an error that stops the plan or apply, instead of a warning. \
             Leave it false when a `check` block asserts `ok`; set it true to make a pipeline \
             stage fail when the database cannot be reached.",
        ),
        addresses: Vec<String> => computed().describe(
            "The addresses `host` resolved to, in the order the resolver gave them; empty when it did not \
             resolve.",
        ),
        private: bool => computed().describe(
            "Whether every address is private: inside `vpc_id`'s CIDR blocks (or its hub's) when it is given, else an RFC \
             1918, IPv6 unique local or loopback address. False when `host` did not resolve. A public \
             address means the application's connections would leave the VPC: the endpoint's private DNS is \
             off, or this machine resolves the name from outside the VPC.",
        ),
        ok: bool => computed().describe(
            "Whether the test passed: `host` resolved to private addresses, and on every port each of them \
             answered as PostgreSQL does and completed a TLS handshake with a certificate valid for `host`.",
        ),
        results: Vec<ResultModel>,
    }
}

crate::model! {
    /// One entry of `results`: one address and port.
    pub struct ResultModel, attributes mod result_attr {
        address: Option<String>,
        port: u16,
        reachable: bool,
        postgres: bool,
        tls: bool,
        latency_ms: Option<i64>,
        error: Option<String>,
    }
}

/// The type of a `results` entry, as the schema has always had it: every
/// attribute of the object required. A [`ResultModel`]'s own type would
/// make its `Option` fields (`address`, `latency_ms`, `error`) optional
/// attributes, which is another type.
fn result_type() -> Type {
    Type::object([
        (result_attr::address, Type::String),
        (result_attr::port, Type::Number),
        (result_attr::reachable, Type::Bool),
        (result_attr::postgres, Type::Bool),
        (result_attr::tls, Type::Bool),
        (result_attr::latency_ms, Type::Number),
        (result_attr::error, Type::String),
    ])
}

pub struct ConnectionTestDataSource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl DataSource<Clients> for ConnectionTestDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "Opens a connection to the database the way an application's driver begins one, and reports \
                 whether it works: the PrivateLink guide's \"Test your new connection\". It resolves `host` (the \
                 branch's Private Host), connects to every address it resolves to on every port (an endpoint has \
                 an address per availability zone, and a subnet that drops the traffic fails only its own), sends \
                 PostgreSQL's SSLRequest, and completes the TLS handshake, verifying the server's certificate \
                 for `host`. It never sends a startup message, a user name or a password: it needs no \
                 credentials and opens no session. The test runs where Terraform runs, so it proves the path \
                 from that machine: run Terraform in a pipeline inside the application's VPC (a runner in the \
                 application's subnets and security groups) and it proves the application's own path; run from \
                 a laptop outside the VPC, it fails even when the endpoint works. Every failure is a warning \
                 naming what to fix (an error with `fail_on_error`), so a `check` block can assert `ok` without \
                 stopping the plan. It is read again on every plan.",
            )
            .attributes(Model::attributes())
            .attribute(Attribute::new(attr::results, Type::list(result_type())).computed().describe(
                "One entry per port and address, by port then in the order of `addresses`: `address` (null \
                 when `host` did not resolve), `port`, `reachable` (a TCP connection opened), `postgres` (the \
                 server answered the SSLRequest as PostgreSQL and PSBouncer do), `tls` (the TLS handshake \
                 completed and the certificate was verified), `latency_ms` (how long the TCP connection took \
                 to open, in milliseconds; null when it did not open) and `error` (what went wrong and what to \
                 do; null when the port passed).",
            )),
        )
    }

    // ---------------------------------------------------------------- read --

    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let m = Model::from_value(config);
        let host = m.host.clone()?;
        // Validation has checked every argument.
        let timeout = parse_timeout(&m.timeout).ok()?;
        let resolver = m
            .resolver
            .as_deref()
            .and_then(|s| dns::parse_server(s).ok());
        let roots = match &m.ca_certificate {
            Some(pem) => probe::extra_roots(pem).ok()?,
            None => Vec::new(),
        };
        let tls = Arc::new(probe::tls_config(roots));
        let ports: Vec<u16> = m.ports.iter().copied().collect();

        let test = async {
            let (resolved, vpc) = tokio::join!(probe::lookup(&host, resolver, timeout), async {
                match &m.vpc_id {
                    Some(id) => Some(ctx.data.ec2.find_vpc(id).await),
                    None => None,
                }
            });
            let addresses = resolved.as_ref().map(Vec::clone).unwrap_or_default();
            let probes = probe::probe_all(&host, &addresses, &ports, &tls, timeout).await;
            (resolved, vpc, probes)
        };
        let (resolved, vpc, probes) = tokio::select! {
            out = test => out,
            () = ctx.stop.cancelled() => {
                diags.error("Interrupted", "Terraform was interrupted while the connection test ran.");
                return None;
            }
        };

        if let Ok(addresses) = &resolved
            && addresses.len() > probe::MAX_ADDRESSES
        {
            diags.attr_warning(
                root(attr::host),
                "Only some addresses tested",
                format!(
                    "{host} resolves to {} addresses; the first {} were tested. An endpoint has one \
                     address per availability zone and address family: check that {} names the \
                     branch's Private Host.",
                    addresses.len(),
                    probe::MAX_ADDRESSES,
                    attr::host
                ),
            );
        }
        let mut report = Report::new(m.fail_on_error);
        let mut unresolved = None;
        let addresses = match resolved {
            Ok(addresses) => addresses,
            Err(why) => {
                unresolved = Some(why.explain(&host, &NAMES));
                let attribute = if resolver.is_some() {
                    attr::resolver
                } else {
                    attr::host
                };
                report.add(attribute, why.summary(), why.explain(&host, &NAMES));
                Vec::new()
            }
        };

        let mut scope = scope(
            vpc,
            m.vpc_id.as_deref(),
            &ctx.data.region,
            diags,
            &mut report,
        )?;
        // Outside the VPC: through a hub's endpoint, or not private.
        if let Scope::Vpc { id, cidrs, hub } = &mut scope
            && addresses
                .iter()
                .any(|a| !cidrs.iter().any(|c| c.contains(a)))
        {
            *hub = tokio::select! {
                found = tokio::time::timeout(timeout, hub_of(&ctx.data, &host, id)) => found.unwrap_or_else(|_| {
                    Err(format!("the lookup took longer than the test's timeout ({})", m.timeout))
                }),
                () = ctx.stop.cancelled() => {
                    diags.error("Interrupted", "Terraform was interrupted while the connection test ran.");
                    return None;
                }
            };
            if let Ok(Some(h)) = hub {
                tracing::info!(zone_id = %h.zone_id, endpoint_id = %h.endpoint_id, hub_vpc_id = %h.vpc_id, "host resolves through a hub's endpoint");
            }
        }
        let private = match judge_private(&host, &addresses, &scope) {
            Ok(private) => private,
            Err((attribute, summary, detail)) => {
                report.add(attribute, summary, detail);
                false
            }
        };

        let results: Vec<ResultModel> = if addresses.is_empty() {
            // Nothing to connect to: one entry per port says why.
            let why = unresolved.unwrap_or_default();
            m.ports
                .iter()
                .map(|port| ResultModel {
                    port: *port,
                    error: Some(why.clone()),
                    ..ResultModel::default()
                })
                .collect()
        } else {
            probes
                .iter()
                .map(|(target, probe)| {
                    let error = probe
                        .failure
                        .as_ref()
                        .map(|f| f.explain(&host, timeout, &NAMES));
                    if let (Some(failure), Some(error)) = (&probe.failure, &error) {
                        report.add_for(
                            *target,
                            attribute_of(failure),
                            failure.summary(),
                            error.clone(),
                        );
                    }
                    ResultModel::of(*target, probe, error)
                })
                .collect()
        };
        let ok = private && !results.is_empty() && results.iter().all(|r| r.error.is_none());
        tracing::info!(host, ok, private, ?addresses, "connection test ran");
        report.into_diagnostics(diags);
        Some(
            Model {
                addresses: addresses.iter().map(ToString::to_string).collect(),
                private,
                ok,
                results,
                ..m
            }
            .to_value(),
        )
    }
}

/// Where the addresses must be, from the VPC's description when `vpc_id` is
/// given. `None` (with an error) when there is no such VPC.
fn scope(
    vpc: Option<Result<crate::aws::model::Vpc, AwsError>>,
    vpc_id: Option<&str>,
    region: &str,
    diags: &mut Diagnostics,
    report: &mut Report,
) -> Option<Scope> {
    let (Some(vpc), Some(id)) = (vpc, vpc_id) else {
        return Some(Scope::AnyPrivate);
    };
    match vpc {
        Ok(vpc) => Some(Scope::Vpc {
            id: id.to_owned(),
            cidrs: vpc.networks(),
            hub: Ok(None),
        }),
        Err(e) if e.is_not_found() => {
            diags.attr_error(
                root(attr::vpc_id),
                "VPC not found",
                format!(
                    "There is no VPC {id} in {region}. Check vpc_id (the application's VPC) and the \
                     provider's region."
                ),
            );
            None
        }
        Err(e) => {
            report.add(
                attr::vpc_id,
                "Could not read the VPC",
                vpc_unreadable(id, &e),
            );
            Some(Scope::Unknown)
        }
    }
}

/// The argument a failure points at: the host for a certificate with
/// another name, the CA certificates for an untrusted one, else the ports.
fn attribute_of(failure: &Failure) -> &'static str {
    match failure {
        Failure::WrongName { .. } => attr::host,
        Failure::Untrusted(_) => attr::ca_certificate,
        _ => attr::ports,
    }
}

impl ResultModel {
    fn of(target: SocketAddr, probe: &Probe, error: Option<String>) -> Self {
        ResultModel {
            address: Some(target.ip().to_string()),
            port: target.port(),
            reachable: probe.reachable,
            postgres: probe.postgres,
            tls: probe.tls,
            latency_ms: probe
                .latency
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            error,
        }
    }
}

/// The test's failures, as warnings or (with `fail_on_error`) errors. One
/// diagnostic per kind of failure, naming every address and port it hit.
struct Report {
    fail_on_error: bool,
    /// Each problem with the targets it hit, in order.
    entries: Vec<(Problem, Vec<SocketAddr>)>,
}

impl Report {
    fn new(fail_on_error: bool) -> Self {
        Report {
            fail_on_error,
            entries: Vec::new(),
        }
    }

    fn add(&mut self, attribute: &'static str, summary: &'static str, detail: String) {
        self.entries
            .push(((attribute, summary, detail), Vec::new()));
    }

    fn add_for(
        &mut self,
        target: SocketAddr,
        attribute: &'static str,
        summary: &'static str,
        detail: String,
    ) {
        let key = (attribute, summary, detail);
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, targets)) => targets.push(target),
            None => self.entries.push((key, vec![target])),
        }
    }

    fn into_diagnostics(self, diags: &mut Diagnostics) {
        for ((attribute, summary, detail), targets) in self.entries {
            let detail = if targets.is_empty() {
                detail
            } else {
                let targets: Vec<String> = targets.iter().map(ToString::to_string).collect();
                format!("{}: {detail}", targets.join(", "))
            };
            if self.fail_on_error {
                diags.attr_error(root(attribute), summary, detail);
            } else {
                diags.attr_warning(root(attribute), summary, detail);
            }
        }
    }
}

// ---------------------------------------------------------- pure parts --

/// A host as the test takes it: an IP address or a DNS name.
fn check_host(host: &str) -> Result<(), String> {
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    dns::check_host_name(host).map_err(|why| {
        format!("{why} Give the Private Host as the dashboard shows it (a bare host name), or an IP address.")
    })
}

/// A positive duration.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    match parse_duration(text) {
        Ok(d) if d.is_zero() => Err(format!(
            "{text:?} leaves no time to connect. Give a duration such as \"5s\" or \"1m\"."
        )),
        Ok(d) if d > probe::MAX_TIMEOUT => Err(format!(
            "{text:?} is longer than a connection needs: a reachable database answers within \
             seconds, and a test held this long holds the plan with it. Give at most \"{}\".",
            crate::framework::timeouts::format_duration(probe::MAX_TIMEOUT)
        )),
        Ok(d) => Ok(d),
        Err(why) => Err(format!(
            "{text:?} is not a duration: {why}. Write it like \"5s\" or \"1m\"."
        )),
    }
}

/// Where the addresses must be for `private`.
#[derive(Debug)]
enum Scope {
    /// No VPC given: any private address.
    AnyPrivate,
    /// Inside the VPC's blocks, or the blocks of the hub whose endpoint
    /// the VPC resolves the host to through a private zone.
    Vpc {
        id: String,
        cidrs: Vec<IpNet>,
        /// The hub, when looked for (`Ok(None)` also when not looked
        /// for), or why it could not be.
        hub: Result<Option<Hub>, String>,
    },
    /// The VPC could not be read: nothing is proved private.
    Unknown,
}

/// The VPC of the endpoint that a spoke VPC reaches through a private zone
/// (hub and spoke: the zone's alias names the hub's endpoint, and the
/// spoke reaches the hub over peering or a transit gateway).
#[derive(Debug)]
struct Hub {
    zone_id: String,
    endpoint_id: String,
    vpc_id: String,
    cidrs: Vec<IpNet>,
}

/// The hub `vpc_id` resolves `host` to, when a private zone for `host` is
/// associated with it and its alias names an endpoint of this region: the
/// zone, the endpoint and the endpoint's VPC. Looked up only when `host`
/// resolves outside `vpc_id`; `None` when any of it is not found or cannot
/// be read; `Err` with what could not be read when that left the question
/// open.
async fn hub_of(clients: &Clients, host: &str, vpc_id: &str) -> Result<Option<Hub>, String> {
    let vpc = ZoneVpc {
        id: vpc_id.to_owned(),
        region: clients.region.clone(),
    };
    let unread = |action: &str, e: &AwsError| {
        let hint = match e {
            AwsError::AccessDenied { .. } => format!(" (allow route53:{action})"),
            _ => String::new(),
        };
        format!("{action}: {e}{hint}")
    };
    let zones = clients
        .route53
        .zones_named_on_vpc(host, &vpc)
        .await
        .map_err(|e| unread("ListHostedZonesByVPC", &e))?;
    let mut open = None;
    let both = AliasFamilies {
        ipv4: true,
        ipv6: true,
    };
    for zone in zones {
        for rr_type in both.types() {
            let alias = match clients.route53.alias_of(&zone.id, host, rr_type).await {
                Ok(Some(alias)) => alias,
                Ok(None) => continue,
                Err(e) => {
                    open = Some(format!(
                        "the zone {} ({}): {}",
                        zone.id,
                        zone.owner.as_deref().unwrap_or("this account"),
                        unread("ListResourceRecordSets", &e)
                    ));
                    continue;
                }
            };
            let Some(endpoint_id) = endpoint_id_of_dns_name(&alias.dns_name) else {
                continue;
            };
            let Ok(endpoint) = clients.ec2.find_endpoint(&endpoint_id).await else {
                continue;
            };
            let Ok(hub_vpc) = clients.ec2.find_vpc(&endpoint.vpc_id).await else {
                continue;
            };
            return Ok(Some(Hub {
                zone_id: zone.id,
                endpoint_id,
                vpc_id: endpoint.vpc_id,
                cidrs: hub_vpc.networks(),
            }));
        }
    }
    open.map_or(Ok(None), Err)
}

/// A failure of the whole test: the attribute, a summary, the explanation.
type Problem = (&'static str, &'static str, String);

/// Whether every address is private within `scope`, or why not. `Ok(false)`
/// when there is nothing to judge, or the VPC is unknown (reported on its
/// own).
fn judge_private(host: &str, addresses: &[IpAddr], scope: &Scope) -> Result<bool, Problem> {
    if addresses.is_empty() {
        return Ok(false);
    }
    match scope {
        Scope::Unknown => Ok(false),
        Scope::Vpc { id, cidrs, hub } => {
            let hub_blocks = hub.iter().flatten().flat_map(|h| &h.cidrs);
            let outside: Vec<IpAddr> = addresses
                .iter()
                .copied()
                .filter(|a| {
                    !cidrs
                        .iter()
                        .chain(hub_blocks.clone())
                        .any(|c| c.contains(a))
                })
                .collect();
            if outside.is_empty() {
                return Ok(true);
            }
            Err((
                attr::vpc_id,
                "Host resolves outside the VPC",
                outside_vpc(host, &outside, id, cidrs, hub),
            ))
        }
        Scope::AnyPrivate => {
            let public: Vec<IpAddr> = addresses
                .iter()
                .copied()
                .filter(|a| !crate::dns::is_private_address(*a))
                .collect();
            if public.is_empty() {
                return Ok(true);
            }
            Err((
                attr::host,
                "Host resolves to public addresses",
                not_private(host, &public),
            ))
        }
    }
}

fn list(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn not_private(host: &str, public: &[IpAddr]) -> String {
    let are = if public.len() == 1 { "is" } else { "are" };
    format!(
        "{host} resolves to {}, which {are} public: the application's connections would leave the VPC and \
         reach PlanetScale over the internet, not through the endpoint. Either the endpoint's private DNS is \
         off (private_dns_enabled on the endpoint, and the VPC's DNS support and DNS hostnames), or this \
         machine is outside the VPC and its resolver does not see the private name. Run the test where the \
         application runs (a pipeline runner inside the VPC).",
        list(public)
    )
}

fn outside_vpc(
    host: &str,
    outside: &[IpAddr],
    vpc_id: &str,
    cidrs: &[IpNet],
    hub: &Result<Option<Hub>, String>,
) -> String {
    let blocks = cidrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let hub = match hub {
        Ok(None) => "none such was found.".to_owned(),
        Ok(Some(h)) => format!(
            "the zone {} aliases {} in {}, whose blocks do not hold these addresses either.",
            h.zone_id, h.endpoint_id, h.vpc_id
        ),
        Err(why) => format!("whether there is one could not be checked: {why}."),
    };
    format!(
        "{host} resolves to {}, outside {vpc_id}'s CIDR blocks ({blocks}): not the addresses of an endpoint in \
         that VPC. Either the endpoint's private DNS is off (private_dns_enabled on the endpoint, and the VPC's \
         DNS support and DNS hostnames), the endpoint is in another VPC than vpc_id, or this machine is outside \
         the VPC and its resolver does not see the private name. Run the test where the application runs (a \
         pipeline runner inside the VPC). A VPC that shares another VPC's endpoint (hub and spoke) counts when a \
         private hosted zone for {host} associated with {vpc_id} aliases that endpoint and the addresses are in \
         the endpoint's VPC: {hub}",
        list(outside)
    )
}

fn vpc_unreadable(vpc_id: &str, e: &AwsError) -> String {
    let hint = match e {
        AwsError::AccessDenied { .. } => " Allow ec2:DescribeVpcs to the provider's credentials.",
        _ => "",
    };
    format!(
        "Could not read {vpc_id} ({e}), so the addresses could not be checked against its CIDR blocks and \
         private is false.{hint}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::diag::Severity;
    use crate::framework::model::{Field, ObjectBuilder, string};

    #[test]
    fn a_result_is_the_models_object_with_every_attribute_required() {
        let Type::Object(attrs, _) = ResultModel::ty() else {
            panic!("a model's type is an object");
        };
        assert_eq!(result_type(), Type::Object(attrs, BTreeSet::new()));
    }

    #[test]
    fn defaults_are_the_schemas() {
        let schema = ConnectionTestDataSource.schema();
        let m = Model::from_value(&ObjectBuilder::new().build());
        assert_eq!(
            schema.block.get(attr::timeout).unwrap().default,
            Some(string(m.timeout.clone()))
        );
        assert_eq!(
            schema.block.get(attr::ports).unwrap().default,
            Some(validate::ports_value(m.ports.iter().copied()))
        );
        assert_eq!(
            schema.block.get(attr::fail_on_error).unwrap().default,
            Some(Value::Bool(m.fail_on_error))
        );
    }

    #[test]
    fn failures_point_at_the_argument_to_change() {
        assert_eq!(
            attribute_of(&Failure::WrongName { presented: vec![] }),
            attr::host
        );
        assert_eq!(
            attribute_of(&Failure::Untrusted(String::new())),
            attr::ca_certificate
        );
        assert_eq!(attribute_of(&Failure::ConnectTimeout), attr::ports);
        assert_eq!(attribute_of(&Failure::Refused), attr::ports);
    }

    #[test]
    fn private_means_inside_the_vpc_when_it_is_given() {
        let ips =
            |list: &[&str]| -> Vec<IpAddr> { list.iter().map(|a| a.parse().unwrap()).collect() };
        let vpc = Scope::Vpc {
            id: "vpc-0123abcd".into(),
            cidrs: vec![
                "10.0.0.0/16".parse().unwrap(),
                "2600:1f18::/56".parse().unwrap(),
            ],
            hub: Ok(None),
        };
        assert_eq!(
            judge_private("h", &ips(&["10.0.0.5", "2600:1f18::5"]), &vpc),
            Ok(true)
        );
        // A spoke: outside the VPC, inside the hub whose endpoint its zone
        // names.
        let spoke = Scope::Vpc {
            id: "vpc-0123abcd".into(),
            cidrs: vec!["10.0.0.0/16".parse().unwrap()],
            hub: Ok(Some(Hub {
                zone_id: "Z1".into(),
                endpoint_id: "vpce-0a".into(),
                vpc_id: "vpc-hub".into(),
                cidrs: vec!["10.9.0.0/16".parse().unwrap()],
            })),
        };
        assert_eq!(judge_private("h", &ips(&["10.9.1.5"]), &spoke), Ok(true));
        assert!(judge_private("h", &ips(&["10.9.1.5", "10.1.0.5"]), &spoke).is_err());
        let (attribute, _, detail) =
            judge_private("h", &ips(&["10.0.0.5", "10.1.0.5"]), &vpc).unwrap_err();
        assert_eq!(attribute, attr::vpc_id);
        assert!(
            detail.contains("h resolves to 10.1.0.5, outside"),
            "{detail}"
        );
        assert_eq!(
            judge_private("h", &ips(&["10.1.0.5"]), &Scope::AnyPrivate),
            Ok(true)
        );
        let (attribute, _, _) =
            judge_private("h", &ips(&["10.0.0.5", "3.5.7.9"]), &Scope::AnyPrivate).unwrap_err();
        assert_eq!(attribute, attr::host);
        assert_eq!(judge_private("h", &[], &Scope::AnyPrivate), Ok(false));
        assert_eq!(
            judge_private("h", &ips(&["10.0.0.5"]), &Scope::Unknown),
            Ok(false)
        );
    }

    #[test]
    fn host_level_failures_explain_themselves() {
        let public = not_private("db.example", &["3.5.7.9".parse().unwrap()]);
        assert!(
            public.contains("3.5.7.9, which is public")
                && public.contains("private DNS is off")
                && public.contains("outside the VPC"),
            "{public}"
        );
        let outside = outside_vpc(
            "db.example",
            &["127.0.0.1".parse().unwrap()],
            "vpc-0123abcd",
            &["10.0.0.0/16".parse().unwrap()],
            &Err("ListHostedZonesByVPC: access denied".into()),
        );
        assert!(
            outside.contains("could not be checked: ListHostedZonesByVPC: access denied."),
            "{outside}"
        );
        assert!(
            outside.contains("outside vpc-0123abcd's CIDR blocks (10.0.0.0/16)"),
            "{outside}"
        );
        let server: SocketAddr = "10.0.0.2:53".parse().unwrap();
        let nx = probe::Unresolved::Dns {
            server,
            error: crate::dns::DnsError::NxDomain,
        }
        .explain("db.example", &NAMES);
        assert!(nx.contains("NXDOMAIN") && nx.contains("resolver"), "{nx}");
        let denied = vpc_unreadable(
            "vpc-0123abcd",
            &AwsError::AccessDenied {
                code: "UnauthorizedOperation".into(),
                message: "no".into(),
            },
        );
        assert!(denied.contains("ec2:DescribeVpcs"), "{denied}");
    }

    #[test]
    fn a_report_groups_targets_and_follows_fail_on_error() {
        let a: SocketAddr = "10.0.0.5:5432".parse().unwrap();
        let b: SocketAddr = "10.0.1.5:5432".parse().unwrap();
        for fail in [false, true] {
            let mut report = Report::new(fail);
            report.add_for(a, attr::ports, "Connection refused", "x".into());
            report.add_for(b, attr::ports, "Connection refused", "x".into());
            report.add(attr::host, "Host resolves to public addresses", "y".into());
            let mut diags = Diagnostics::new();
            report.into_diagnostics(&mut diags);
            let all: Vec<_> = diags.iter().collect();
            assert_eq!(all.len(), 2);
            assert_eq!(all[0].detail, "10.0.0.5:5432, 10.0.1.5:5432: x");
            assert_eq!(all[1].detail, "y");
            let expected = if fail {
                Severity::Error
            } else {
                Severity::Warning
            };
            assert!(all.iter().all(|d| d.severity == expected));
            assert_eq!(
                all[1].attribute.as_ref().map(ToString::to_string),
                Some("host".to_owned())
            );
        }
    }

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut b = ObjectBuilder::new();
        for name in attr::ALL {
            b = b.set(name, Value::Null);
        }
        for (k, v) in pairs {
            b = b.set(k, v.clone());
        }
        b.build()
    }

    fn errors(config: &Value) -> Vec<String> {
        let mut diags = Diagnostics::new();
        ConnectionTestDataSource
            .schema()
            .block
            .check(config, &mut diags);
        diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn bad_arguments_are_named() {
        let host = || (attr::host, string("db.example"));
        assert!(errors(&config(&[host()])).is_empty());
        assert!(errors(&config(&[(attr::host, string("10.0.0.5"))])).is_empty());
        assert!(errors(&config(&[(attr::host, string("fd00::5"))])).is_empty());
        let cases: [(&str, Value); 8] = [
            (attr::host, string("postgres://db.example:5432")),
            (attr::timeout, string("5")),
            (attr::timeout, string("0s")),
            (attr::timeout, string("1000h")),
            (
                attr::ports,
                validate::ports_value(1..=(probe::MAX_PORTS as u16 + 1)),
            ),
            (attr::vpc_id, string("vpc-12")),
            (attr::resolver, string("dns.example")),
            (attr::ca_certificate, string("not a certificate")),
        ];
        for (name, value) in cases {
            let c = if name == attr::host {
                config(&[(name, value)])
            } else {
                config(&[host(), (name, value)])
            };
            assert_eq!(errors(&c), vec![name.to_owned()], "{name}");
        }
        assert_eq!(
            errors(&config(&[host(), (attr::ports, Value::set(vec![]))])),
            vec!["ports"]
        );
    }
}
