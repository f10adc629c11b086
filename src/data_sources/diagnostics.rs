//! `planetscale_privatelink_diagnostics`: the troubleshooting list of the
//! PrivateLink guide, run against a VPC endpoint. It reads what EC2 knows
//! (the endpoint, its security groups and the application's, the network
//! ACLs of its subnets, the VPC's DNS settings), asks a DNS server for the
//! Private Host, and reports each check as `pass`, `warn` or `fail` with
//! what it found and how to fix it. Failed checks are also warnings in
//! Terraform's output; the data source itself fails only when the endpoint
//! cannot be read at all.
//!
//! The evaluation is in [`super::checks`]; this file gathers the facts.
//!
//! Order: schema, validate, read.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use ipnet::IpNet;

use crate::aws::AwsError;
use crate::data_sources::checks::{self, Check, Kind, Status};
use crate::dns::{self, DnsError};
use crate::framework::diag::Diagnostics;
use crate::framework::model::{Attrs, ObjectBuilder, string};
use crate::framework::path::AttributePath;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::server::{Ctx, DataSource};
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::provider::Clients;
use crate::resources::security_group::{DEFAULT_PORTS, ports_value};
use crate::resources::validate;

pub const TYPE_NAME: &str = "planetscale_privatelink_diagnostics";
/// How long the DNS check waits for the server, both questions together.
const DNS_TIMEOUT: Duration = Duration::from_secs(3);

fn root(name: &str) -> AttributePath {
    AttributePath::root().attr(name)
}

fn check_type() -> Type {
    Type::object([
        ("name", Type::String),
        ("status", Type::String),
        ("detail", Type::String),
    ])
}

pub struct DiagnosticsDataSource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl DataSource<Clients> for DiagnosticsDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let names = checks::ALL
            .iter()
            .map(|k| format!("`{}`", k.name))
            .collect::<Vec<_>>()
            .join(", ");
        Schema::new(
            Block::new(
                "Runs the troubleshooting steps of the PlanetScale PrivateLink guide against a VPC endpoint: \
                 endpoint status, security groups (the endpoint's inbound, the application's outbound), network \
                 ACLs (the ports inbound, 1024-65535 outbound), the VPC's DNS settings, availability zones, and \
                 whether the Private Host resolves into the VPC. Each check reports `pass`, `warn` or `fail`; a \
                 failed check is also a warning in Terraform's output, with the fix. It reads only, and is read \
                 again on every plan.",
            )
            .attribute(Attribute::string("endpoint_id").required().describe(
                "The interface VPC endpoint to check (`vpce-...`), such as \
                 `planetscale_privatelink_endpoint.db.id`.",
            ))
            .attribute(
                Attribute::new("ports", Type::set(Type::Number))
                    .optional_computed()
                    .describe(
                        "TCP ports the application connects to: PostgreSQL (5432) and PSBouncer (6432) by \
                         default.",
                    ),
            )
            .attribute(Attribute::string_set("client_security_group_ids").optional().describe(
                "The application hosts' security groups. When given, the endpoint's groups must let the ports \
                 in from each of them, and each must let the ports out to the endpoint; otherwise the inbound \
                 check accepts any source and the outbound check is skipped (`warn`).",
            ))
            .attribute(Attribute::string("private_host").optional().describe(
                "The branch's Private Host (from the PlanetScale dashboard, or \
                 `planetscale_privatelink_service`'s `private_host`). It must resolve to addresses in the \
                 VPC's CIDR blocks. Without it the DNS resolution check is skipped (`warn`).",
            ))
            .attribute(Attribute::string("dns_server").optional().describe(
                "The DNS server to ask for `private_host`, as `address:port` (`10.0.0.2:53`; the port defaults \
                 to 53). Default: the first `nameserver` of the machine's /etc/resolv.conf. The VPC's own \
                 resolver (its CIDR base plus two) answers only from inside the VPC; asked from elsewhere, the \
                 private name may resolve publicly or not at all, which is reported as `warn`.",
            ))
            .attribute(Attribute::bool("healthy").computed().describe(
                "Whether no check failed (warnings allowed).",
            ))
            .attribute(Attribute::new("checks", Type::list(check_type())).computed().describe(format!(
                "One entry per check, in order: `name` ({names}), `status` (`pass`, `warn` or `fail`) and \
                 `detail` (what was found and, if anything is wrong, how to fix it).",
            ))),
        )
    }

    // ------------------------------------------------------------ validate --

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let c = Attrs::of(config);
        if let Some(id) = c.str("endpoint_id")
            && let Err(why) = validate::ec2_id(id, "vpce", "VPC endpoint")
        {
            diags.attr_error(root("endpoint_id"), "Invalid VPC endpoint id", why);
        }
        validate::ports(&c, "ports", diags);
        validate::each_string(
            &c,
            "client_security_group_ids",
            diags,
            |s| validate::ec2_id(s, "sg", "security group"),
            "Invalid security group id",
        );
        if let Some(host) = c.str("private_host")
            && let Err(why) = dns::check_host_name(host)
        {
            diags.attr_error(
                root("private_host"),
                "Invalid private host",
                format!("{why} Give the Private Host as the dashboard shows it, a bare host name."),
            );
        }
        if let Some(server) = c.str("dns_server")
            && let Err(why) = dns::parse_server(server)
        {
            diags.attr_error(root("dns_server"), "Invalid DNS server", why);
        }
    }

    // ---------------------------------------------------------------- read --

    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let c = Attrs::of(config);
        let endpoint_id = c.string("endpoint_id")?;
        let ports: Vec<u16> = validate::port_set(&c, "ports")
            .map(|set| set.into_iter().collect())
            .unwrap_or_else(|| DEFAULT_PORTS.to_vec());
        let client_groups = c.strings("client_security_group_ids").unwrap_or_default();
        let private_host = c.string("private_host");
        let dns_server = c.str("dns_server");

        let checks = run_checks(
            ctx,
            &endpoint_id,
            &ports,
            &client_groups,
            private_host.as_deref(),
            dns_server,
            diags,
        )
        .await?;
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
            ObjectBuilder::new()
                .set("endpoint_id", string(&endpoint_id))
                .set("ports", ports_value(ports.iter().copied()))
                .set(
                    "client_security_group_ids",
                    c.get("client_security_group_ids").clone(),
                )
                .set("private_host", c.get("private_host").clone())
                .set("dns_server", c.get("dns_server").clone())
                .set("healthy", Value::Bool(healthy))
                .set(
                    "checks",
                    Value::List(
                        checks
                            .iter()
                            .map(|c| {
                                ObjectBuilder::new()
                                    .set("name", string(c.kind.name))
                                    .set("status", string(c.status.as_str()))
                                    .set("detail", string(&c.detail))
                                    .build()
                            })
                            .collect(),
                    ),
                )
                .build(),
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

/// Gathers what every check needs, concurrently, and runs them. `None`
/// (with an error) when the endpoint itself cannot be read.
async fn run_checks(
    ctx: &Ctx<Clients>,
    endpoint_id: &str,
    ports: &[u16],
    client_groups: &[String],
    private_host: Option<&str>,
    dns_server: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<Vec<Check>> {
    let ec2 = &ctx.data.ec2;
    let endpoint = match ec2.find_endpoint(endpoint_id).await {
        Ok(e) => e,
        Err(e) if e.is_not_found() => {
            diags.attr_error(
                root("endpoint_id"),
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
                root("endpoint_id"),
                "Could not read the VPC endpoint",
                format!("{endpoint_id}: {e}"),
            );
            return None;
        }
    };
    let (vpc, vpc_dns, subnets, acls, endpoint_rules, clients, resolved) = tokio::join!(
        ec2.find_vpc(&endpoint.vpc_id),
        ec2.vpc_dns(&endpoint.vpc_id),
        ec2.find_subnets(&endpoint.subnet_ids),
        ec2.network_acls_of_subnets(&endpoint.subnet_ids),
        ec2.security_group_rules_of(&endpoint.security_group_ids),
        async {
            if client_groups.is_empty() {
                return Ok(Vec::new());
            }
            // The rules of a group that does not exist read as none: make
            // sure each exists first.
            ec2.find_security_groups(client_groups).await?;
            ec2.security_group_rules_of(client_groups).await
        },
        resolve(private_host, dns_server),
    );

    let vpc_cidrs: Option<Vec<IpNet>> = vpc.as_ref().ok().map(|v| {
        v.cidr_blocks
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect()
    });
    let mut out = vec![checks::endpoint_state(&endpoint)];

    out.push(match (&endpoint_rules, &vpc_cidrs) {
        (Ok(rules), Some(cidrs)) => {
            checks::security_group_ingress(ports, rules, client_groups, cidrs)
        }
        (Err(e), _) => not_checked(
            checks::SECURITY_GROUP_INGRESS,
            "ec2:DescribeSecurityGroupRules",
            e,
        ),
        (_, None) => vpc_unknown(checks::SECURITY_GROUP_INGRESS, &vpc),
    });

    out.push(match (&clients, &subnets) {
        (Ok(rules), Ok(subnets)) => {
            let subnet_cidrs: Vec<IpNet> = subnets
                .iter()
                .filter_map(|s| s.cidr_block.parse().ok())
                .collect();
            checks::client_egress(ports, rules, &endpoint.security_group_ids, &subnet_cidrs)
        }
        (Err(e), _) if e.is_not_found() => Check::fail(
            checks::CLIENT_EGRESS,
            format!(
                "{e}. Check client_security_group_ids: give the application hosts' security groups."
            ),
        ),
        (Err(e), _) => not_checked(checks::CLIENT_EGRESS, "ec2:DescribeSecurityGroupRules", e),
        (_, Err(e)) => not_checked(checks::CLIENT_EGRESS, "ec2:DescribeSubnets", e),
    });

    out.push(match (&subnets, &acls, &vpc_cidrs) {
        (Ok(subnets), Ok(acls), Some(cidrs)) => {
            // An interface endpoint takes IPv4 addresses unless asked
            // otherwise: judge IPv4 traffic, from the VPC's IPv4 blocks.
            let ipv4: Vec<IpNet> = cidrs
                .iter()
                .filter(|c| matches!(c, IpNet::V4(_)))
                .copied()
                .collect();
            checks::network_acls(ports, subnets, acls, &ipv4)
        }
        (Err(e), _, _) => not_checked(checks::NETWORK_ACLS, "ec2:DescribeSubnets", e),
        (_, Err(e), _) => not_checked(checks::NETWORK_ACLS, "ec2:DescribeNetworkAcls", e),
        (_, _, None) => vpc_unknown(checks::NETWORK_ACLS, &vpc),
    });

    out.push(match &vpc_dns {
        Ok(dns) => checks::vpc_dns(&endpoint.vpc_id, dns, endpoint.private_dns_enabled),
        Err(e) => not_checked(checks::VPC_DNS, "ec2:DescribeVpcAttribute", e),
    });

    out.push(match &subnets {
        Ok(subnets) => checks::availability_zones(subnets),
        Err(e) => not_checked(checks::AVAILABILITY_ZONES, "ec2:DescribeSubnets", e),
    });

    out.push(match (resolved, &vpc_cidrs) {
        (Resolved::NoHost, _) => Check::warn(
            checks::DNS_RESOLUTION,
            "Not checked: give private_host (the branch's Private Host) to test that it resolves into the VPC.",
        ),
        (Resolved::NoServer, _) => Check::warn(
            checks::DNS_RESOLUTION,
            "Not checked: /etc/resolv.conf names no DNS server on this machine. Give dns_server.",
        ),
        (Resolved::Answer { host, server, answer }, Some(cidrs)) => {
            checks::dns_resolution(&host, server, &answer, cidrs)
        }
        (Resolved::Answer { .. }, None) => vpc_unknown(checks::DNS_RESOLUTION, &vpc),
    });
    Some(out)
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

async fn resolve(private_host: Option<&str>, dns_server: Option<&str>) -> Resolved {
    let Some(host) = private_host else {
        return Resolved::NoHost;
    };
    let server = match dns_server {
        // validate has checked it.
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
