//! The troubleshooting guide's checks as pure functions: what EC2, DNS
//! and the connections to the Private Host reported goes in, one [`Check`]
//! comes out, with a detail that says what was found and, when something
//! is wrong, how to fix it. No I/O here, so every rule of evaluation is
//! unit-tested.
//!
//! "The clients" are the application's hosts, judged by their real
//! addresses ([`locate_clients`]): the network interfaces in the
//! application's security groups when those are given, else the sources the
//! endpoint's security groups let in (blocks, prefix lists' entries, and the
//! interfaces of source groups). Only a group no interface uses yet stands
//! for "anywhere in the VPC". The endpoint is judged by its interfaces'
//! addresses ([`endpoint_targets`]).
//!
//! The client location ([`clients`]), the security group checks
//! ([`security_groups`]) and the network ACL evaluation ([`network_acls`])
//! have files of their own; the rest (the checks' vocabulary, the endpoint's
//! state, DNS and the connection) is here. Each file holds its own unit
//! tests; `fixtures.rs` the cases they build from.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use crate::aws::model::{
    Endpoint, InterfaceAddresses, NetworkAcl, NetworkAclEntry, Peer, Rule, Subnet, VpcDns,
    is_prefix_list,
};
use crate::dns::DnsError;

mod clients;
mod network_acls;
mod security_groups;

pub use clients::*;
pub use network_acls::*;
pub use security_groups::*;

/// The return traffic's ports, as the guide asks network ACLs to allow.
pub const EPHEMERAL_PORTS: (i32, i32) = (1024, 65535);
/// EC2's number for the catch-all `*` entry of every network ACL.
const CATCH_ALL_RULE: i32 = 32767;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// What a check is about: its name in `checks`, the guide's step it
/// belongs to, what a failure means, and the argument it points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub step: &'static str,
    pub failure: &'static str,
    pub attribute: &'static str,
}

pub const ENDPOINT_STATE: Kind = Kind {
    name: "endpoint_state",
    step: "Verify endpoint status",
    failure: "the endpoint is not available",
    attribute: "endpoint_id",
};
pub const SECURITY_GROUP_INGRESS: Kind = Kind {
    name: "security_group_ingress",
    step: "Check security groups",
    failure: "the endpoint's security groups do not let the ports in",
    attribute: "endpoint_id",
};
pub const CLIENT_EGRESS: Kind = Kind {
    name: "client_security_group_egress",
    step: "Check security groups",
    failure: "the application's security groups do not let the ports out",
    attribute: "client_security_group_ids",
};
pub const NETWORK_ACLS: Kind = Kind {
    name: "network_acls",
    step: "Check NACLs",
    failure: "a network ACL of the endpoint's subnets blocks the connection",
    attribute: "endpoint_id",
};
pub const CLIENT_NETWORK_ACLS: Kind = Kind {
    name: "client_network_acls",
    step: "Check NACLs",
    failure: "a network ACL of the application's subnets blocks the connection",
    attribute: "client_subnet_ids",
};
pub const VPC_DNS: Kind = Kind {
    name: "vpc_dns",
    step: "Test DNS resolution",
    failure: "the VPC does not resolve the endpoint's private DNS name",
    attribute: "endpoint_id",
};
pub const AVAILABILITY_ZONES: Kind = Kind {
    name: "availability_zones",
    step: "Configure subnets",
    failure: "the endpoint has no subnets",
    attribute: "endpoint_id",
};
pub const DNS_RESOLUTION: Kind = Kind {
    name: "dns_resolution",
    step: "Test DNS resolution",
    failure: "the private host does not resolve into the VPC",
    attribute: "private_host",
};

pub const CONNECTION: Kind = Kind {
    name: "connection",
    step: "Test your new connection",
    failure: "a connection to the private host did not complete",
    attribute: "connection_test",
};

/// Every check, in the order the data source reports them (`connection`
/// once per port, and only when asked for).
pub const ALL: [Kind; 9] = [
    ENDPOINT_STATE,
    SECURITY_GROUP_INGRESS,
    CLIENT_EGRESS,
    NETWORK_ACLS,
    CLIENT_NETWORK_ACLS,
    VPC_DNS,
    AVAILABILITY_ZONES,
    DNS_RESOLUTION,
    CONNECTION,
];

/// The last sentence of a failing security group or network ACL check:
/// the analysis that follows the whole path and names the rule that
/// blocks it.
pub const REACHABILITY_NOTE: &str = "A planetscale_privatelink_reachability_analysis from an application host's \
     network interface (source) to this endpoint (endpoint_id) shows the whole path and the rule that blocks it.";

/// The checks whose failure a reachability analysis would show on the path.
const ON_THE_PATH: [Kind; 4] = [
    SECURITY_GROUP_INGRESS,
    CLIENT_EGRESS,
    NETWORK_ACLS,
    CLIENT_NETWORK_ACLS,
];

/// Ends the detail of each failing security group and network ACL check
/// with [`REACHABILITY_NOTE`]; the others are left as they are.
pub fn point_at_reachability(checks: &mut [Check]) {
    for check in checks
        .iter_mut()
        .filter(|c| c.status == Status::Fail && ON_THE_PATH.contains(&c.kind))
    {
        check.detail.push(' ');
        check.detail.push_str(REACHABILITY_NOTE);
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub kind: Kind,
    pub status: Status,
    pub detail: String,
}

impl Check {
    pub fn pass(kind: Kind, detail: impl Into<String>) -> Check {
        Check {
            kind,
            status: Status::Pass,
            detail: detail.into(),
        }
    }
    pub fn warn(kind: Kind, detail: impl Into<String>) -> Check {
        Check {
            kind,
            status: Status::Warn,
            detail: detail.into(),
        }
    }
    pub fn fail(kind: Kind, detail: impl Into<String>) -> Check {
        Check {
            kind,
            status: Status::Fail,
            detail: detail.into(),
        }
    }
}

fn ports_text(ports: &[u16]) -> String {
    ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn join(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items
        .into_iter()
        .map(|s| s.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A block as people write it: a single address without its `/32` or
/// `/128`.
fn net_text(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// Up to ten blocks, then how many more.
fn nets_text(nets: &[IpNet]) -> String {
    const SHOWN: usize = 10;
    let mut text = join(nets.iter().take(SHOWN).map(net_text));
    if nets.len() > SHOWN {
        text.push_str(&format!(" and {} more", nets.len() - SHOWN));
    }
    text
}

// ------------------------------------------------------- endpoint state --

/// The guide's "Verify endpoint status": the endpoint must be `available`.
pub fn endpoint_state(e: &Endpoint) -> Check {
    let id = &e.id;
    if e.state_is("available") {
        return Check::pass(ENDPOINT_STATE, format!("{id} is available."));
    }
    let detail = if e.state_is("pendingAcceptance") {
        format!(
            "{id} is pendingAcceptance: PlanetScale has not accepted the connection yet. Check that PrivateLink \
             is enabled for the branch and that this AWS account may connect, or contact PlanetScale support \
             with the endpoint id."
        )
    } else if e.state_is("pending") {
        format!("{id} is still pending: AWS is still setting it up. Check again in a few minutes.")
    } else {
        format!(
            "{id} is {}{}. It will not carry traffic: fix the cause, then replace the endpoint.",
            e.state,
            e.last_error
                .as_deref()
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        )
    };
    Check::fail(ENDPOINT_STATE, detail)
}

// ------------------------------------------------------------------ DNS --

/// DNS support and DNS hostnames in the VPC, and private DNS on the
/// endpoint: what makes the Private Host resolve to the endpoint.
pub fn vpc_dns(vpc_id: &str, dns: &VpcDns, private_dns_enabled: bool) -> Check {
    let kind = VPC_DNS;
    if !(dns.support && dns.hostnames) {
        let off = dns.settings_off();
        return Check::fail(
            kind,
            format!(
                "{vpc_id} has {} off, so the endpoint's private DNS name does not resolve in it. Turn both on \
                 (in hashicorp/aws: enable_dns_support and enable_dns_hostnames on aws_vpc).",
                off.join(" and ")
            ),
        );
    }
    if !private_dns_enabled {
        return Check::warn(
            kind,
            format!(
                "{vpc_id} has DNS resolution and DNS hostnames on, but the endpoint has private DNS off, so the \
                 Private Host does not resolve to it. Turn it on (private_dns_enabled = true), or connect \
                 through the endpoint's own DNS names."
            ),
        );
    }
    Check::pass(
        kind,
        format!(
            "{vpc_id} has DNS resolution and DNS hostnames on, and the endpoint has private DNS on."
        ),
    )
}

/// The guide's advice to choose subnets in two or more zones.
pub fn availability_zones(subnets: &[Subnet]) -> Check {
    let kind = AVAILABILITY_ZONES;
    let zones: BTreeSet<&str> = subnets
        .iter()
        .map(|s| s.availability_zone.as_str())
        .collect();
    match zones.len() {
        0 => Check::warn(
            kind,
            "The endpoint has no subnets, so it has no network interface to connect to.",
        ),
        1 => Check::warn(
            kind,
            format!(
                "The endpoint is in one availability zone only ({}): an outage of that zone cuts the \
                 application off. Add a subnet in a second zone.",
                join(&zones)
            ),
        ),
        _ => Check::pass(kind, format!("The endpoint spans {}.", join(&zones))),
    }
}

/// The VPC's own resolver: the base of its first IPv4 block plus two.
fn vpc_resolver(vpc_cidrs: &[IpNet]) -> Option<String> {
    vpc_cidrs.iter().find_map(|net| match net {
        IpNet::V4(v4) => {
            Some(std::net::Ipv4Addr::from(u32::from(v4.network()).wrapping_add(2)).to_string())
        }
        IpNet::V6(_) => None,
    })
}

/// The guide's "Test DNS resolution": the Private Host resolves into the
/// VPC's CIDR blocks. A resolver outside the VPC (Terraform running
/// elsewhere) may not see the private name, or see public addresses: a
/// warning; private addresses outside the VPC are a failure.
pub fn dns_resolution(
    host: &str,
    server: SocketAddr,
    answer: &Result<Vec<IpAddr>, DnsError>,
    vpc_cidrs: &[IpNet],
) -> Check {
    let kind = DNS_RESOLUTION;
    let blocks = join(vpc_cidrs.iter().map(ToString::to_string));
    let from_inside = match vpc_resolver(vpc_cidrs) {
        Some(resolver) => format!(
            "Run the check from inside the VPC, asking its resolver (dns_server = \"{resolver}:53\"), or from \
             an instance there: dig {host}"
        ),
        None => format!("Run the check from inside the VPC, or from an instance there: dig {host}"),
    };
    let addresses = match answer {
        Ok(addresses) if !addresses.is_empty() => addresses,
        Ok(_) | Err(DnsError::NxDomain) => {
            return Check::warn(
                kind,
                format!(
                    "{host} has no address at {server}. Terraform may run outside the VPC, where the private \
                     name does not resolve. {from_inside}."
                ),
            );
        }
        Err(e) => {
            return Check::warn(
                kind,
                format!("Could not ask {server} for {host}: {e}. {from_inside}."),
            );
        }
    };
    let in_vpc = |ip: &IpAddr| vpc_cidrs.iter().any(|net| net.contains(ip));
    let listed = join(addresses.iter().map(ToString::to_string));
    let stray: Vec<String> = addresses
        .iter()
        .filter(|ip| !in_vpc(ip) && crate::dns::is_private_address(**ip))
        .map(ToString::to_string)
        .collect();
    if !stray.is_empty() {
        return Check::fail(
            kind,
            format!(
                "{host} resolves to {} at {server}: private addresses outside the VPC's CIDR blocks ({blocks}), \
                 so connections go to another network, not this endpoint. Check that the endpoint has private \
                 DNS on and that no private hosted zone or resolver rule in the VPC overrides {host}.",
                join(&stray)
            ),
        );
    }
    if addresses.iter().all(in_vpc) {
        return Check::pass(
            kind,
            format!("{host} resolves to {listed} at {server}, inside the VPC ({blocks})."),
        );
    }
    Check::warn(
        kind,
        format!(
            "{host} resolves to {listed} at {server}, not only into the VPC ({blocks}): that is the public \
             answer, so Terraform probably runs outside the VPC. {from_inside}."
        ),
    )
}

/// The guide's "Test your new connection" on one port: `outcomes` holds
/// each address the private host resolved to, with the sentence that
/// explains its failure, or `None` when it answered as PostgreSQL and
/// completed a TLS handshake verified for `host`. It passes only when
/// every address did; a failure names the address when there are several.
pub fn connection(host: &str, port: u16, outcomes: &[(IpAddr, Option<String>)]) -> Check {
    let kind = CONNECTION;
    if outcomes.is_empty() {
        return Check::warn(
            kind,
            format!("Not checked: {host} gave no address to connect to on port {port}."),
        );
    }
    let passed: Vec<String> = outcomes
        .iter()
        .filter(|(_, failure)| failure.is_none())
        .map(|(ip, _)| ip.to_string())
        .collect();
    if passed.len() == outcomes.len() {
        return Check::pass(
            kind,
            format!(
                "Port {port}: {} answered as PostgreSQL and completed a TLS handshake with a certificate \
                 valid for {host}, from where Terraform runs.",
                join(&passed)
            ),
        );
    }
    // Each distinct sentence once, with the addresses it explains.
    let mut failures: Vec<(&str, Vec<String>)> = Vec::new();
    for (ip, failure) in outcomes {
        let Some(failure) = failure else { continue };
        match failures.iter_mut().find(|(text, _)| text == failure) {
            Some((_, ips)) => ips.push(ip.to_string()),
            None => failures.push((failure, vec![ip.to_string()])),
        }
    }
    let several = outcomes.len() > 1;
    let mut detail = format!("Port {port}:");
    for (text, ips) in &failures {
        if several {
            detail.push_str(&format!(" {}: {text}", join(ips)));
        } else {
            detail.push_str(&format!(" {text}"));
        }
    }
    if !passed.is_empty() {
        detail.push_str(&format!(
            " {} answered and completed the TLS handshake.",
            join(&passed)
        ));
    }
    Check::fail(kind, detail)
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_sources::checks::fixtures::*;

    #[test]
    fn dns_answers_are_judged_against_the_vpc() {
        let vpc = [net("10.5.0.0/16")];
        let server: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let check = |answer: Result<Vec<IpAddr>, DnsError>| {
            dns_resolution("db.example.com", server, &answer, &vpc)
        };
        assert_eq!(
            check(Ok(vec![ip("10.5.0.7"), ip("10.5.1.9")])).status,
            Status::Pass
        );
        let stray = check(Ok(vec![ip("10.5.0.7"), ip("192.168.7.7")]));
        assert_eq!(stray.status, Status::Fail);
        assert!(
            stray.detail.contains("192.168.7.7") && !stray.detail.contains("10.5.0.7,"),
            "{}",
            stray.detail
        );
        let public = check(Ok(vec![ip("203.0.113.10")]));
        assert_eq!(public.status, Status::Warn);
        assert!(public.detail.contains("10.5.0.2:53"), "{}", public.detail);
        assert_eq!(check(Err(DnsError::NxDomain)).status, Status::Warn);
        assert_eq!(check(Ok(vec![])).status, Status::Warn);
        assert_eq!(
            check(Err(DnsError::Timeout(std::time::Duration::from_secs(3)))).status,
            Status::Warn
        );
        assert_eq!(check(Ok(vec![ip("100.64.1.1")])).status, Status::Fail);
    }

    #[test]
    fn vpc_dns_and_zones() {
        let on = VpcDns {
            support: true,
            hostnames: true,
        };
        assert_eq!(vpc_dns("vpc-1", &on, true).status, Status::Pass);
        assert_eq!(vpc_dns("vpc-1", &on, false).status, Status::Warn);
        let off = vpc_dns(
            "vpc-1",
            &VpcDns {
                support: true,
                hostnames: false,
            },
            true,
        );
        assert_eq!(off.status, Status::Fail);
        assert!(
            off.detail.contains("enableDnsHostnames") && !off.detail.contains("enableDnsSupport")
        );
        let one = [subnet("subnet-a", "us-east-1a", "10.5.0.0/24")];
        assert_eq!(availability_zones(&one).status, Status::Warn);
        let two = [
            subnet("subnet-a", "us-east-1a", "10.5.0.0/24"),
            subnet("subnet-b", "us-east-1b", "10.5.1.0/24"),
        ];
        assert_eq!(availability_zones(&two).status, Status::Pass);
    }

    #[test]
    fn endpoint_states() {
        let mut e = Endpoint {
            id: "vpce-1".into(),
            vpc_id: "vpc-1".into(),
            service_name: "svc".into(),
            state: "available".into(),
            subnet_ids: vec![],
            security_group_ids: vec![],
            private_dns_enabled: true,
            dns_entries: vec![],
            network_interface_ids: vec![],
            owner_id: String::new(),
            tags: Default::default(),
            last_error: None,
            ..Endpoint::default()
        };
        assert_eq!(endpoint_state(&e).status, Status::Pass);
        e.state = "pendingAcceptance".into();
        assert!(
            endpoint_state(&e)
                .detail
                .contains("PlanetScale has not accepted")
        );
        e.state = "failed".into();
        e.last_error = Some("InsufficientCapacity: none left".into());
        let failed = endpoint_state(&e);
        assert_eq!(failed.status, Status::Fail);
        assert!(failed.detail.contains("InsufficientCapacity"));
    }

    #[test]
    fn a_connection_passes_only_when_every_address_completed_tls() {
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let refused = || Some("Connection refused: nothing listens.".to_owned());
        let timed_out = || Some("No answer to the connection within 5s.".to_owned());
        // The outcomes, the status, words the detail holds and words it does not.
        type Case = (
            Vec<(IpAddr, Option<String>)>,
            Status,
            &'static [&'static str],
            &'static [&'static str],
        );
        let cases: Vec<Case> = vec![
            (
                vec![(ip("10.0.0.5"), None), (ip("10.0.1.5"), None)],
                Status::Pass,
                &[
                    "Port 5432: 10.0.0.5, 10.0.1.5 answered",
                    "valid for db.example",
                ],
                &[],
            ),
            // One address: the sentence alone.
            (
                vec![(ip("10.0.0.5"), refused())],
                Status::Fail,
                &["Port 5432: Connection refused: nothing listens."],
                &["10.0.0.5"],
            ),
            // Several: each sentence once, with the addresses it explains,
            // and the addresses that passed.
            (
                vec![
                    (ip("10.0.0.5"), timed_out()),
                    (ip("10.0.1.5"), None),
                    (ip("10.0.2.5"), timed_out()),
                ],
                Status::Fail,
                &[
                    "Port 5432: 10.0.0.5, 10.0.2.5: No answer to the connection within 5s.",
                    "10.0.1.5 answered and completed the TLS handshake.",
                ],
                &[],
            ),
            (
                vec![(ip("10.0.0.5"), refused()), (ip("10.0.1.5"), timed_out())],
                Status::Fail,
                &[
                    "10.0.0.5: Connection refused",
                    "10.0.1.5: No answer to the connection",
                ],
                &["completed"],
            ),
            (
                vec![],
                Status::Warn,
                &["Not checked: db.example gave no address", "port 5432"],
                &[],
            ),
        ];
        for (outcomes, status, present, absent) in cases {
            let check = connection("db.example", 5432, &outcomes);
            assert_eq!(check.kind, CONNECTION);
            assert_eq!(check.status, status, "{outcomes:?}: {}", check.detail);
            for text in present {
                assert!(
                    check.detail.contains(text),
                    "{text:?} missing in {}",
                    check.detail
                );
            }
            for text in absent {
                assert!(!check.detail.contains(text), "{text:?} in {}", check.detail);
            }
        }
    }

    #[test]
    fn failing_path_checks_end_naming_the_reachability_analysis() {
        let cases = [
            (SECURITY_GROUP_INGRESS, Status::Fail, true),
            (CLIENT_EGRESS, Status::Fail, true),
            (NETWORK_ACLS, Status::Fail, true),
            (CLIENT_NETWORK_ACLS, Status::Fail, true),
            (SECURITY_GROUP_INGRESS, Status::Warn, false),
            (NETWORK_ACLS, Status::Pass, false),
            (DNS_RESOLUTION, Status::Fail, false),
            (VPC_DNS, Status::Fail, false),
            (CONNECTION, Status::Fail, false),
        ];
        for (kind, status, noted) in cases {
            let mut checks = [Check {
                kind,
                status,
                detail: "Found this.".into(),
            }];
            point_at_reachability(&mut checks);
            let expected = if noted {
                format!("Found this. {REACHABILITY_NOTE}")
            } else {
                "Found this.".to_owned()
            };
            assert_eq!(checks[0].detail, expected, "{} {status:?}", kind.name);
        }
        assert!(REACHABILITY_NOTE.starts_with("A planetscale_privatelink_reachability_analysis "));
        assert!(
            REACHABILITY_NOTE.contains("(source)") && REACHABILITY_NOTE.contains("(endpoint_id)")
        );
        assert_eq!(REACHABILITY_NOTE.matches(". ").count(), 0, "one sentence");
    }
}
