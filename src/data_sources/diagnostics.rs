//! `planetscale_privatelink_diagnostics`: the troubleshooting list of the
//! PrivateLink guide, run against a VPC endpoint. It reads what EC2 knows
//! (the endpoint and its network interfaces, its security groups and the
//! application's, the network interfaces in those groups, the prefix lists
//! their rules name, the network ACLs of the endpoint's subnets and of the
//! application's, the VPC's DNS settings), asks a DNS server for the
//! Private Host and, with `connection_test`, connects to the addresses it
//! gave on each port (the probe of [`crate::probe`], as the connection test
//! data source makes it), and reports each check as `pass`, `warn` or
//! `fail` with what it found and how to fix it. Failed checks are also warnings in
//! Terraform's output; the data source itself fails only when the endpoint
//! cannot be read at all.
//!
//! The evaluation is in [`super::checks`]; this file gathers the facts in
//! rounds of concurrent calls: the endpoint; what it and the arguments
//! name; what the security group rules name (source groups' interfaces,
//! prefix lists); and, when `client_subnet_ids` is not given, the network
//! ACLs of the subnets the application's interfaces were found in. The
//! connections follow the DNS answer in the first round, alongside the EC2
//! calls, reusing that answer rather than asking again.
//!
//! Order: model (with each argument's checks), schema, read.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ipnet::IpNet;

use crate::aws::AwsError;
use crate::aws::model::{Endpoint, NetworkAcl, Peer, Rule, Subnet, Vpc, VpcDns};
use crate::clients::Clients;
use crate::data_sources::checks::{self, Check, Kind, Status};
use crate::dns::{self, DnsError};
use crate::framework::diag::Diagnostics;
use crate::framework::path::root;
use crate::framework::schema::declare::{computed, optional, optional_computed, required};
use crate::framework::schema::{Block, Schema};
use crate::framework::server::{Ctx, DataSource};
use crate::framework::value::Value;
use crate::privatelink::DEFAULT_PORTS;
use crate::probe::{self, Names, Probe};
use crate::validate;

pub const TYPE_NAME: &str = "planetscale_privatelink_diagnostics";
/// How long the DNS check waits for the server, both questions together.
const DNS_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one connection (one address and port) may take: opening it,
/// the answer to the SSLRequest and the TLS handshake.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
pub const CONNECTION_TEST_DEFAULT: bool = false;

/// How the connection checks' sentences name this data source's arguments.
const NAMES: Names = Names {
    host: attr::private_host,
    ca_certificate: attr::ca_certificate,
    resolver: attr::dns_server,
    path_checks: "The security group and network ACL checks above judge those for the application's hosts",
};

crate::model! {
    /// The data source's arguments and what it reports, each declared once
    /// (schema and checks). `ports` and `connection_test` have no default
    /// in the schema: left out, the read reports the model's.
    pub struct Model, attributes mod attr {
        endpoint_id: Option<String> => required()
            .each_string("Invalid VPC endpoint id", |s| validate::ec2_id(s, "vpce", "VPC endpoint"))
            .describe(
                "The interface VPC endpoint to check (`vpce-...`), such as \
                 `planetscale_privatelink_endpoint.db.id`.",
            ),
        ports: BTreeSet<u16> = BTreeSet::from(DEFAULT_PORTS) => optional_computed().without_schema_default()
            .check(validate::port_values)
            .check(probe::check_ports)
            .describe(format!(
                "TCP ports the application connects to: PostgreSQL ({}) and PSBouncer ({}) by \
                 default.",
                DEFAULT_PORTS[0], DEFAULT_PORTS[1]
            )),
        client_security_group_ids: Option<BTreeSet<String>> => optional()
            .each_string("Invalid security group id", |s| validate::ec2_id(s, "sg", "security group"))
            .describe(
                "The application hosts' security groups. When given, the endpoint's groups must let the ports \
                 in from each of them (by naming the group, or by blocks or prefix lists holding the addresses \
                 of its network interfaces), and each must let the ports out to the endpoint; the network ACLs \
                 are judged for those addresses. A group no interface uses yet counts as hosts anywhere in the \
                 VPC. Otherwise the inbound check accepts any source, the outbound check is skipped (`warn`), \
                 and the network ACLs are judged for the sources the endpoint's groups let in.",
            ),
        client_subnet_ids: Option<BTreeSet<String>> => optional()
            .each_string("Invalid subnet id", |s| validate::ec2_id(s, "subnet", "subnet"))
            .describe(
                "The application's subnets. Their network ACLs must let the ports out to the endpoint's \
                 addresses and 1024-65535 in from them. Default: the subnets of the network interfaces found \
                 for the application's hosts; without any, that check is skipped (`warn`).",
            ),
        private_host: Option<String> => optional()
            .each_string("Invalid private host", |s| {
                dns::check_host_name(s).map_err(|why| {
                    format!("{why} Give the Private Host as the dashboard shows it, a bare host name.")
                })
            })
            .describe(
                "The branch's Private Host (from the PlanetScale dashboard, or \
                 `planetscale_privatelink_service`'s `private_host`). It must resolve to addresses in the \
                 VPC's CIDR blocks. Without it the DNS resolution check is skipped (`warn`).",
            ),
        dns_server: Option<String> => optional()
            .each_string("Invalid DNS server", |s| dns::parse_server(s).map(drop))
            .describe(
                "The DNS server to ask for `private_host`, as `address:port` (`10.0.0.2:53`; the port defaults \
                 to 53). Default: the first `nameserver` of the machine's /etc/resolv.conf. The VPC's own \
                 resolver (its CIDR base plus two) answers only from inside the VPC; asked from elsewhere, the \
                 private name may resolve publicly or not at all, which is reported as `warn`.",
            ),
        connection_test: bool = CONNECTION_TEST_DEFAULT => optional_computed().without_schema_default().describe(format!(
            "Whether to connect to `private_host` the way an application's driver begins a connection, as \
             `planetscale_privatelink_connection_test` does: to every address the DNS resolution check got \
             for it (from `dns_server`), on every port of `ports`, sending PostgreSQL's SSLRequest and \
             completing a TLS handshake that verifies the server's certificate for `private_host`, without \
             credentials. It adds a `connection` check per port, after `dns_resolution`: `pass` when every \
             address completed the handshake, else `fail` with what went wrong and what to do. The \
             connections are made from where Terraform runs, so they prove the application's path only when \
             Terraform runs inside the VPC (a pipeline runner in the application's subnets and security \
             groups). Each connection may take {} seconds; they run at the same time as the other checks. \
             Default: {CONNECTION_TEST_DEFAULT}.",
            CONNECTION_TIMEOUT.as_secs()
        )),
        ca_certificate: Option<String> => optional()
            .each_string("Invalid CA certificate", |s| probe::extra_roots(s).map(drop))
            .describe(
                "PEM certificates of certificate authorities to trust besides this machine's trust store in \
                 `connection_test`'s TLS handshakes, for a server whose certificate a private authority issued. \
                 PlanetScale's certificates need none.",
            ),
        healthy: bool => computed().describe("Whether no check failed (warnings allowed)."),
        checks: Vec<CheckModel> => computed().describe(format!(
            "One entry per check, in order: `name` ({}; `connection` once per port, only with \
             `connection_test`), `status` (`pass`, `warn` or `fail`) and `detail` (what was found and, if \
             anything is wrong, how to fix it).",
            check_names()
        )),
    }
}

/// The checks' names, quoted, for the description of `checks`.
fn check_names() -> String {
    checks::ALL
        .iter()
        .map(|k| format!("`{}`", k.name))
        .collect::<Vec<_>>()
        .join(", ")
}

crate::model! {
    /// One entry of `checks`.
    pub struct CheckModel, attributes mod check_attr {
        name: String,
        status: String,
        detail: String,
    }
}

impl From<&Check> for CheckModel {
    fn from(c: &Check) -> Self {
        CheckModel {
            name: c.kind.name.to_owned(),
            status: c.status.as_str().to_owned(),
            detail: c.detail.clone(),
        }
    }
}

pub struct DiagnosticsDataSource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl DataSource<Clients> for DiagnosticsDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "Runs the troubleshooting steps of the PlanetScale PrivateLink guide against a VPC endpoint: \
                 endpoint status, security groups (the endpoint's inbound, the application's outbound), network \
                 ACLs (the ports inbound, 1024-65535 outbound), the VPC's DNS settings, availability zones, and \
                 whether the Private Host resolves into the VPC. Network ACLs are checked on both sides: the \
                 application's subnets must let the ports out and 1024-65535 in. The application is judged by its hosts' real \
                 addresses: the network interfaces in `client_security_group_ids`, or else the sources the \
                 endpoint's security groups let in (blocks, prefix lists, the interfaces in source groups), so \
                 least-privilege rules pass. With `connection_test`, it also connects to the Private Host on \
                 each port, as the guide's \"Test your new connection\" does. Each check reports `pass`, `warn` or \
                 `fail`; a failed check is also a warning in Terraform's output, with the fix, and a failed \
                 security group or network ACL check names the `planetscale_privatelink_reachability_analysis` \
                 that shows the whole path. It reads only (the connections send no credentials), and is read \
                 again on every plan.",
            )
            .attributes(Model::attributes()),
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
        let endpoint_id = m.endpoint_id.clone()?;
        let ports: Vec<u16> = m.ports.iter().copied().collect();
        let client_groups: Vec<String> = m
            .client_security_group_ids
            .iter()
            .flatten()
            .cloned()
            .collect();
        let client_subnets: Vec<String> = m.client_subnet_ids.iter().flatten().cloned().collect();
        // Validation has read the certificates.
        let tls = m.connection_test.then(|| {
            let roots = m
                .ca_certificate
                .as_deref()
                .and_then(|pem| probe::extra_roots(pem).ok())
                .unwrap_or_default();
            Arc::new(probe::tls_config(roots))
        });
        let asked = Asked {
            endpoint_id: &endpoint_id,
            ports: &ports,
            client_groups: &client_groups,
            client_subnets: &client_subnets,
            private_host: m.private_host.as_deref(),
            dns_server: m.dns_server.as_deref(),
            tls,
        };
        let checks = run_checks(ctx, &asked, diags).await?;
        for check in checks.iter().filter(|c| c.status == Status::Fail) {
            diags.attr_warning(
                root(check.kind.attribute),
                format!("{}: {}", check.kind.step, check.kind.failure),
                check.detail.clone(),
            );
        }
        let healthy = checks.iter().all(|c| c.status != Status::Fail);
        tracing::info!(endpoint_id, healthy, "PrivateLink diagnostics ran");
        Some(
            Model {
                healthy,
                checks: checks.iter().map(CheckModel::from).collect(),
                ..m
            }
            .to_value(),
        )
    }
}

/// A check that could not run because a lookup failed: a warning that
/// says which, and what permission it needs when that was the cause.
fn not_checked(kind: Kind, what: &str, e: &AwsError) -> Check {
    let hint = match e {
        AwsError::AccessDenied { .. } => format!(" Allow {what} to the provider's credentials."),
        _ => String::new(),
    };
    Check::warn(kind, format!("Could not check: {what} failed ({e}).{hint}"))
}

/// What the configuration asks about.
struct Asked<'a> {
    endpoint_id: &'a str,
    ports: &'a [u16],
    client_groups: &'a [String],
    client_subnets: &'a [String],
    private_host: Option<&'a str>,
    dns_server: Option<&'a str>,
    /// With `connection_test`: the trust for the connections' handshakes.
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// Gathers what every check needs, concurrently, and runs them. `None`
/// (with an error) when the endpoint itself cannot be read.
async fn run_checks(
    ctx: &Ctx<Clients>,
    asked: &Asked<'_>,
    diags: &mut Diagnostics,
) -> Option<Vec<Check>> {
    let ec2 = &ctx.data.ec2;
    let endpoint_id = asked.endpoint_id;
    let endpoint = match ec2.find_endpoint(endpoint_id).await {
        Ok(e) => e,
        Err(e) if e.is_not_found() => {
            diags.attr_error(
                root(attr::endpoint_id),
                "VPC endpoint not found",
                format!(
                    "There is no VPC endpoint {endpoint_id} in {} (or it was deleted). Check endpoint_id and the \
                     provider's region.",
                    ctx.data.region
                ),
            );
            return None;
        }
        Err(e) => {
            diags.attr_error(
                root(attr::endpoint_id),
                "Could not read the VPC endpoint",
                format!("{endpoint_id}: {e}"),
            );
            return None;
        }
    };

    let facts = gather(ctx, asked, &endpoint).await;
    Some(judge(asked, &endpoint, facts))
}

/// Every answer the checks are judged on, from EC2 and DNS.
struct Facts {
    vpc: Result<Vpc, AwsError>,
    /// The VPC's CIDR blocks, when it was read.
    vpc_cidrs: Option<Vec<IpNet>>,
    vpc_dns: Result<VpcDns, AwsError>,
    /// The endpoint's subnets, and their network ACLs.
    subnets: Result<Vec<Subnet>, AwsError>,
    acls: Result<Vec<NetworkAcl>, AwsError>,
    /// The rules of the endpoint's groups and of the application's.
    endpoint_rules: Result<Vec<(String, Vec<Rule>)>, AwsError>,
    client_rules: Result<Vec<(String, Vec<Rule>)>, AwsError>,
    /// Where the application is: its groups, addresses and subnets; or the
    /// call that could not tell.
    located: Result<checks::Clients, (&'static str, AwsError)>,
    /// The endpoint's addresses.
    targets: Option<Vec<IpNet>>,
    /// The application's subnets, where they come from, and their ACLs.
    app_subnets: Vec<String>,
    app_subnets_from: &'static str,
    app_acls: Result<Vec<NetworkAcl>, AwsError>,
    resolved: Resolved,
    /// With `connection_test`: every port on every address `resolved`
    /// gave, by port then address.
    connections: Option<Vec<(SocketAddr, Probe)>>,
    prefix_lists: checks::PrefixLists,
    /// Prefix lists a rule names that could not be read, with why.
    unread_lists: Vec<String>,
}

/// Gathers the facts in two rounds of concurrent calls: what the endpoint
/// and the arguments name, then what the rules found name.
async fn gather(ctx: &Ctx<Clients>, asked: &Asked<'_>, endpoint: &Endpoint) -> Facts {
    let ec2 = &ctx.data.ec2;
    let ports = asked.ports;
    let client_groups = asked.client_groups;
    // Round one: what the endpoint and the arguments name.
    let (
        (vpc, vpc_dns, subnets, acls),
        (endpoint_rules, client_rules, endpoint_interfaces, client_interfaces, client_subnets),
        (resolved, connections),
    ) = tokio::join!(
        async {
            tokio::join!(
                ec2.find_vpc(&endpoint.vpc_id),
                ec2.vpc_dns(&endpoint.vpc_id),
                ec2.find_subnets(&endpoint.subnet_ids),
                ec2.network_acls_of_subnets(&endpoint.subnet_ids),
            )
        },
        async {
            tokio::join!(
                ec2.security_group_rules_of(&endpoint.security_group_ids),
                async {
                    if client_groups.is_empty() {
                        return Ok(Vec::new());
                    }
                    // The rules of a group that does not exist read as
                    // none: make sure each exists first.
                    ec2.find_security_groups(client_groups).await?;
                    ec2.security_group_rules_of(client_groups).await
                },
                ec2.interfaces_by_id(&endpoint.network_interface_ids),
                ec2.interfaces_in_groups(client_groups),
                async {
                    if asked.client_subnets.is_empty() {
                        return Ok(None);
                    }
                    // A subnet that does not exist matches no network ACL:
                    // make sure each exists first.
                    ec2.find_subnets(asked.client_subnets).await?;
                    ec2.network_acls_of_subnets(asked.client_subnets)
                        .await
                        .map(Some)
                },
            )
        },
        async {
            let resolved = resolve(asked.private_host, asked.dns_server).await;
            let connections = connect(asked, &resolved).await;
            (resolved, connections)
        },
    );

    // Round two: what the rules name (the sources' interfaces when no
    // client groups are given, prefix lists). Without client_subnet_ids,
    // the network ACLs of the subnets the application's interfaces are in
    // follow once those are known.
    let source_groups: Vec<String> = match (&endpoint_rules, client_groups.is_empty()) {
        (Ok(rules), true) => {
            let named: BTreeSet<&str> = rules
                .iter()
                .flat_map(|(_, rules)| rules)
                .filter(|r| !r.egress && ports.iter().any(|p| checks::rule_covers(r, *p)))
                .filter_map(|r| match &r.peer {
                    Peer::Group(g) => Some(g.as_str()),
                    Peer::Cidr(_) => None,
                })
                .collect();
            named.into_iter().map(str::to_owned).collect()
        }
        _ => Vec::new(),
    };
    let list_ids = checks::prefix_list_ids(
        endpoint_rules
            .iter()
            .chain(client_rules.iter())
            .flatten()
            .flat_map(|(_, rules)| rules),
    );
    let (source_interfaces, lists) = tokio::join!(
        ec2.interfaces_in_groups(&source_groups),
        ec2.prefix_lists(&list_ids),
    );
    let mut prefix_lists = checks::PrefixLists::new();
    let mut unread_lists: Vec<String> = Vec::new();
    for (id, list) in lists {
        match list {
            Ok(list) => {
                prefix_lists.insert(
                    id,
                    list.cidrs.iter().filter_map(|c| c.parse().ok()).collect(),
                );
            }
            Err(e) => unread_lists.push(format!("{id} ({e})")),
        }
    }

    let vpc_cidrs: Option<Vec<IpNet>> = vpc.as_ref().ok().map(crate::aws::model::Vpc::networks);
    let interfaces = if client_groups.is_empty() {
        &source_interfaces
    } else {
        &client_interfaces
    };
    let located = match (&endpoint_rules, interfaces, &vpc_cidrs) {
        (Ok(rules), Ok(interfaces), Some(cidrs)) => Ok(checks::locate_clients(
            ports,
            client_groups,
            rules,
            interfaces,
            &endpoint.network_interface_ids,
            &prefix_lists,
            cidrs,
        )),
        (Err(e), _, _) => Err(("ec2:DescribeSecurityGroupRules", e.clone())),
        (_, Err(e), _) => Err(("ec2:DescribeNetworkInterfaces", e.clone())),
        (_, _, None) => Err(match &vpc {
            Err(e) => ("ec2:DescribeVpcs", e.clone()),
            Ok(_) => (
                "ec2:DescribeVpcs",
                AwsError::Transport("the VPC's CIDR blocks are unknown".into()),
            ),
        }),
    };
    let targets: Option<Vec<IpNet>> = subnets.as_ref().ok().map(|subnets| {
        checks::endpoint_targets(subnets, endpoint_interfaces.as_deref().unwrap_or_default())
    });
    let (app_subnets, app_subnets_from) = if !asked.client_subnets.is_empty() {
        (asked.client_subnets.to_vec(), attr::client_subnet_ids)
    } else {
        (
            located
                .as_ref()
                .map(|c| c.subnet_ids.clone())
                .unwrap_or_default(),
            "the subnets of the application's network interfaces",
        )
    };
    let app_acls = match client_subnets {
        Ok(Some(acls)) => Ok(acls),
        Ok(None) => ec2.network_acls_of_subnets(&app_subnets).await,
        Err(e) => Err(e),
    };
    Facts {
        vpc,
        vpc_cidrs,
        vpc_dns,
        subnets,
        acls,
        endpoint_rules,
        client_rules,
        located,
        targets,
        app_subnets,
        app_subnets_from,
        app_acls,
        resolved,
        connections,
        prefix_lists,
        unread_lists,
    }
}

/// The verdicts, one per check, from the facts alone.
fn judge(asked: &Asked<'_>, endpoint: &Endpoint, f: Facts) -> Vec<Check> {
    let ports = asked.ports;
    let Facts {
        vpc,
        vpc_cidrs,
        vpc_dns,
        subnets,
        acls,
        endpoint_rules,
        client_rules,
        located,
        targets,
        app_subnets,
        app_subnets_from,
        app_acls,
        resolved,
        connections,
        prefix_lists,
        unread_lists,
    } = f;

    let mut out = vec![checks::endpoint_state(endpoint)];

    out.push(match (&endpoint_rules, &located) {
        (Ok(rules), Ok(clients)) => {
            checks::security_group_ingress(ports, rules, &clients.groups, &prefix_lists)
        }
        (Err(e), _) => not_checked(
            checks::SECURITY_GROUP_INGRESS,
            "ec2:DescribeSecurityGroupRules",
            e,
        ),
        (_, Err((what, e))) => not_checked(checks::SECURITY_GROUP_INGRESS, what, e),
    });

    out.push(match (&client_rules, &targets) {
        (Ok(rules), Some(targets)) => checks::client_egress(
            ports,
            rules,
            &endpoint.security_group_ids,
            targets,
            &prefix_lists,
        ),
        (Err(e), _) if e.is_not_found() => Check::fail(
            checks::CLIENT_EGRESS,
            format!(
                "{e}. Check client_security_group_ids: give the application hosts' security groups."
            ),
        ),
        (Err(e), _) => not_checked(checks::CLIENT_EGRESS, "ec2:DescribeSecurityGroupRules", e),
        (_, None) => match &subnets {
            Err(e) => not_checked(checks::CLIENT_EGRESS, "ec2:DescribeSubnets", e),
            Ok(_) => Check::warn(
                checks::CLIENT_EGRESS,
                "Could not check: the endpoint's addresses are unknown.",
            ),
        },
    });

    out.push(match (&subnets, &acls, &located) {
        (Ok(subnets), Ok(acls), Ok(clients)) => {
            // Traffic flows over a family both sides have addresses in; an
            // endpoint whose addresses are unknown takes IPv4 ones.
            let families = targets
                .as_deref()
                .filter(|t| !t.is_empty())
                .map_or_else(|| vec![IpNet::V4(Default::default())], <[IpNet]>::to_vec);
            let judged = checks::of_families(&clients.addresses, &families);
            checks::network_acls(ports, subnets, acls, &judged, &clients.origin)
        }
        (Err(e), _, _) => not_checked(checks::NETWORK_ACLS, "ec2:DescribeSubnets", e),
        (_, Err(e), _) => not_checked(checks::NETWORK_ACLS, "ec2:DescribeNetworkAcls", e),
        (_, _, Err((what, e))) => not_checked(checks::NETWORK_ACLS, what, e),
    });

    out.push(match (&app_acls, &targets) {
        (Err(e), _) if e.is_not_found() => Check::fail(
            checks::CLIENT_NETWORK_ACLS,
            format!("{e}. Check client_subnet_ids: give the application's subnets."),
        ),
        (Err(e), _) => not_checked(
            checks::CLIENT_NETWORK_ACLS,
            "ec2:DescribeSubnets and ec2:DescribeNetworkAcls",
            e,
        ),
        (_, None) => match &subnets {
            Err(e) => not_checked(checks::CLIENT_NETWORK_ACLS, "ec2:DescribeSubnets", e),
            Ok(_) => Check::warn(
                checks::CLIENT_NETWORK_ACLS,
                "Could not check: the endpoint's addresses are unknown.",
            ),
        },
        (Ok(app_acls), Some(targets)) => {
            let families = match &located {
                Ok(c) if !c.addresses.is_empty() => c.addresses.clone(),
                _ => vec![IpNet::V4(Default::default())],
            };
            checks::client_network_acls(
                ports,
                &app_subnets,
                app_acls,
                &checks::of_families(targets, &families),
                app_subnets_from,
            )
        }
    });

    out.push(match &vpc_dns {
        Ok(dns) => checks::vpc_dns(&endpoint.vpc_id, dns, endpoint.private_dns_enabled),
        Err(e) => not_checked(checks::VPC_DNS, "ec2:DescribeVpcAttribute", e),
    });

    out.push(match &subnets {
        Ok(subnets) => checks::availability_zones(subnets),
        Err(e) => not_checked(checks::AVAILABILITY_ZONES, "ec2:DescribeSubnets", e),
    });

    out.push(match (&resolved, &vpc_cidrs) {
        (Resolved::NoHost, _) => Check::warn(
            checks::DNS_RESOLUTION,
            "Not checked: give private_host (the branch's Private Host) to test that it resolves into the VPC.",
        ),
        (Resolved::NoServer, _) => Check::warn(
            checks::DNS_RESOLUTION,
            "Not checked: /etc/resolv.conf names no DNS server on this machine. Give dns_server.",
        ),
        (Resolved::Answer { host, server, answer }, Some(cidrs)) => {
            checks::dns_resolution(host, *server, answer, cidrs)
        }
        (Resolved::Answer { .. }, None) => vpc_unknown(checks::DNS_RESOLUTION, &vpc),
    });

    if let Some(connections) = &connections {
        out.extend(connection_checks(ports, &resolved, connections));
    }

    // A rule naming a prefix list that could not be read counted for
    // nothing: say so where that may be why a check did not pass.
    if !unread_lists.is_empty() {
        for check in out.iter_mut().filter(|c| {
            c.status != Status::Pass
                && [
                    checks::SECURITY_GROUP_INGRESS,
                    checks::CLIENT_EGRESS,
                    checks::NETWORK_ACLS,
                ]
                .contains(&c.kind)
        }) {
            check.detail.push_str(&format!(
                " Rules naming these prefix lists were not counted, as they could not be read: {}. Allow \
                 ec2:DescribeManagedPrefixLists and ec2:GetManagedPrefixListEntries to the provider's \
                 credentials.",
                unread_lists.join(", ")
            ));
        }
    }
    checks::point_at_reachability(&mut out);
    out
}

/// The `connection` checks, one per port in order: what the connections
/// to each address found, or why there was nothing to connect to.
fn connection_checks(
    ports: &[u16],
    resolved: &Resolved,
    connections: &[(SocketAddr, Probe)],
) -> Vec<Check> {
    let not_checked = |why: &str| -> Vec<Check> {
        ports
            .iter()
            .map(|port| {
                Check::warn(
                    checks::CONNECTION,
                    format!("Not checked: {why} (port {port})."),
                )
            })
            .collect()
    };
    let host = match resolved {
        Resolved::NoHost => {
            return not_checked("give private_host (the branch's Private Host) to connect to it");
        }
        Resolved::NoServer => {
            return not_checked("no DNS server to ask for private_host; give dns_server");
        }
        Resolved::Answer {
            answer: Ok(addresses),
            host,
            ..
        } if !addresses.is_empty() => host,
        Resolved::Answer { host, .. } => {
            return not_checked(&format!(
                "{host} did not resolve, so there is nothing to connect to (see dns_resolution)"
            ));
        }
    };
    ports
        .iter()
        .map(|port| {
            let outcomes: Vec<(IpAddr, Option<String>)> = connections
                .iter()
                .filter(|(target, _)| target.port() == *port)
                .map(|(target, probe)| {
                    let failure = probe
                        .failure
                        .as_ref()
                        .map(|f| f.explain(host, CONNECTION_TIMEOUT, &NAMES));
                    (target.ip(), failure)
                })
                .collect();
            checks::connection(host, *port, &outcomes)
        })
        .collect()
}

fn vpc_unknown(kind: Kind, vpc: &Result<crate::aws::model::Vpc, AwsError>) -> Check {
    match vpc {
        Err(e) => not_checked(kind, "ec2:DescribeVpcs", e),
        Ok(_) => Check::warn(kind, "Could not check: the VPC's CIDR blocks are unknown."),
    }
}

/// The outcome of asking DNS for the private host.
enum Resolved {
    NoHost,
    NoServer,
    Answer {
        host: String,
        server: SocketAddr,
        answer: Result<Vec<IpAddr>, DnsError>,
    },
}

/// With `connection_test`, every port on every address the DNS answer
/// gave (none when it gave none); without it, `None`.
async fn connect(asked: &Asked<'_>, resolved: &Resolved) -> Option<Vec<(SocketAddr, Probe)>> {
    let tls = asked.tls.as_ref()?;
    let Resolved::Answer {
        host,
        answer: Ok(addresses),
        ..
    } = resolved
    else {
        return Some(Vec::new());
    };
    let probes = probe::probe_all(host, addresses, asked.ports, tls, CONNECTION_TIMEOUT).await;
    tracing::debug!(
        host,
        ?addresses,
        connections = probes.len(),
        "connected to the private host"
    );
    Some(probes)
}

async fn resolve(private_host: Option<&str>, dns_server: Option<&str>) -> Resolved {
    let Some(host) = private_host else {
        return Resolved::NoHost;
    };
    let server = match dns_server {
        // Validation has checked it.
        Some(text) => dns::parse_server(text).ok(),
        None => dns::system_nameserver(),
    };
    let Some(server) = server else {
        return Resolved::NoServer;
    };
    let answer = dns::resolve(host, server, DNS_TIMEOUT).await;
    tracing::debug!(host, %server, ?answer, "asked DNS for the private host");
    Resolved::Answer {
        host: host.to_owned(),
        server,
        answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_points_at_an_argument() {
        for kind in checks::ALL {
            assert!(attr::ALL.contains(&kind.attribute), "{}", kind.name);
        }
    }

    #[test]
    fn connection_checks_follow_the_ports_and_name_the_arguments() {
        let ports = [5432, 6432];
        let none: Vec<(SocketAddr, Probe)> = Vec::new();
        for (resolved, why) in [
            (Resolved::NoHost, "give private_host"),
            (Resolved::NoServer, "give dns_server"),
            (
                Resolved::Answer {
                    host: "db.example".into(),
                    server: "10.0.0.2:53".parse().unwrap(),
                    answer: Err(DnsError::NxDomain),
                },
                "db.example did not resolve",
            ),
        ] {
            let found = connection_checks(&ports, &resolved, &none);
            assert_eq!(found.len(), 2);
            for (check, port) in found.iter().zip(ports) {
                assert_eq!(
                    (check.kind, check.status),
                    (checks::CONNECTION, Status::Warn)
                );
                assert!(
                    check.detail.starts_with("Not checked: ")
                        && check.detail.contains(why)
                        && check.detail.ends_with(&format!("(port {port}).")),
                    "{}",
                    check.detail
                );
            }
        }

        let resolved = Resolved::Answer {
            host: "db.example".into(),
            server: "10.0.0.2:53".parse().unwrap(),
            answer: Ok(vec!["10.0.0.5".parse().unwrap()]),
        };
        let passed = Probe {
            reachable: true,
            postgres: true,
            tls: true,
            latency: Some(Duration::from_millis(3)),
            failure: None,
        };
        let refused = Probe {
            failure: Some(probe::Failure::Refused),
            ..Probe::default()
        };
        let connections = vec![
            ("10.0.0.5:5432".parse().unwrap(), passed),
            ("10.0.0.5:6432".parse().unwrap(), refused),
        ];
        let found = connection_checks(&ports, &resolved, &connections);
        assert_eq!(found[0].status, Status::Pass, "{}", found[0].detail);
        assert!(found[0].detail.starts_with("Port 5432: 10.0.0.5 answered"));
        assert_eq!(found[1].status, Status::Fail);
        assert!(
            found[1].detail.starts_with("Port 6432: Connection refused")
                && found[1]
                    .detail
                    .contains("Check that private_host is the branch's Private Host"),
            "{}",
            found[1].detail
        );
    }
}
