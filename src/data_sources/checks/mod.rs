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
//! state, DNS and the connection) is here, with the unit tests of all.

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
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn rule(egress: bool, protocol: &str, from: i32, to: i32, peer: Peer) -> Rule {
        Rule {
            id: "sgr-1".into(),
            egress,
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            peer,
            description: String::new(),
        }
    }

    fn entry(
        n: i32,
        egress: bool,
        protocol: &str,
        allow: bool,
        cidr: &str,
        ports: Option<(i32, i32)>,
    ) -> NetworkAclEntry {
        NetworkAclEntry {
            rule_number: n,
            egress,
            protocol: protocol.into(),
            allow,
            cidr_block: cidr.into(),
            port_range: ports,
        }
    }

    /// A VPC's default network ACL as EC2 reports it.
    fn default_entries() -> Vec<NetworkAclEntry> {
        let mut v = Vec::new();
        for egress in [false, true] {
            v.push(entry(100, egress, "-1", true, "0.0.0.0/0", None));
            v.push(entry(
                CATCH_ALL_RULE,
                egress,
                "-1",
                false,
                "0.0.0.0/0",
                None,
            ));
        }
        v
    }

    fn subnet(id: &str, zone: &str, cidr: &str) -> Subnet {
        Subnet {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            availability_zone: zone.into(),
            availability_zone_id: String::new(),
            cidr_block: cidr.into(),
            ipv6_cidr_blocks: vec![],
        }
    }

    #[test]
    fn network_acl_entries_apply_in_rule_number_order() {
        let vpc = net("10.5.0.0/16");
        let mut entries = default_entries();
        assert_eq!(
            evaluate(&entries, false, (5432, 5432), &vpc),
            Verdict::Allowed { rule: 100 }
        );
        // Listed after the allow, numbered before it: it decides.
        entries.push(entry(
            50,
            false,
            "6",
            false,
            "0.0.0.0/0",
            Some((5432, 5432)),
        ));
        assert_eq!(
            evaluate(&entries, false, (5432, 5432), &vpc),
            Verdict::Denied { rule: 50 }
        );
        assert_eq!(
            evaluate(&entries, false, (6432, 6432), &vpc),
            Verdict::Allowed { rule: 100 }
        );
        // Egress is judged by egress entries only.
        assert_eq!(
            evaluate(&entries, true, EPHEMERAL_PORTS, &vpc),
            Verdict::Allowed { rule: 100 }
        );
    }

    #[test]
    fn network_acl_matching_needs_protocol_ports_and_addresses() {
        let vpc = net("10.5.0.0/16");
        let entries = vec![
            entry(10, false, "17", false, "0.0.0.0/0", Some((5432, 5432))), // UDP: not ours
            entry(20, false, "6", false, "192.168.0.0/16", None),           // other addresses
            entry(30, false, "6", true, "10.0.0.0/8", Some((5000, 7000))),
            entry(CATCH_ALL_RULE, false, "-1", false, "0.0.0.0/0", None),
        ];
        assert_eq!(
            evaluate(&entries, false, (5432, 5432), &vpc),
            Verdict::Allowed { rule: 30 }
        );
        assert_eq!(
            evaluate(&entries, false, (8000, 8000), &vpc),
            Verdict::Denied {
                rule: CATCH_ALL_RULE
            }
        );
        // An IPv6 entry does not match IPv4 traffic.
        let v6 = vec![entry(1, false, "-1", false, "::/0", None)];
        assert_eq!(
            evaluate(&v6, false, (5432, 5432), &vpc),
            Verdict::Unmatched {
                partly_denied_by: None
            }
        );
    }

    #[test]
    fn partial_denials_are_told_apart() {
        let vpc = net("10.5.0.0/16");
        let mut entries = default_entries();
        entries.push(entry(40, true, "6", false, "0.0.0.0/0", Some((3389, 3389))));
        entries.push(entry(45, false, "-1", false, "10.5.7.0/24", None));
        assert_eq!(
            evaluate(&entries, true, EPHEMERAL_PORTS, &vpc),
            Verdict::PartlyDenied {
                denied_by: 40,
                allowed_by: 100
            }
        );
        assert_eq!(
            evaluate(&entries, false, (5432, 5432), &vpc),
            Verdict::PartlyDenied {
                denied_by: 45,
                allowed_by: 100
            }
        );
        let only_part = vec![entry(10, true, "6", true, "0.0.0.0/0", Some((1024, 2000)))];
        assert_eq!(
            evaluate(&only_part, true, EPHEMERAL_PORTS, &vpc),
            Verdict::Unmatched {
                partly_denied_by: None
            }
        );
    }

    #[test]
    fn the_nacl_check_names_the_rule_that_denies() {
        let subnets = [
            subnet("subnet-a", "us-east-1a", "10.5.0.0/24"),
            subnet("subnet-b", "us-east-1b", "10.5.1.0/24"),
        ];
        let mut acl = NetworkAcl {
            id: "acl-1".into(),
            vpc_id: "vpc-1".into(),
            is_default: true,
            subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
            entries: default_entries(),
        };
        let clients = [net("10.5.0.0/16")];
        let ok = network_acls(
            &[5432, 6432],
            &subnets,
            std::slice::from_ref(&acl),
            &clients,
            "",
        );
        assert_eq!(ok.status, Status::Pass, "{}", ok.detail);
        acl.entries.push(entry(
            50,
            false,
            "6",
            false,
            "0.0.0.0/0",
            Some((5432, 5432)),
        ));
        let bad = network_acls(
            &[5432, 6432],
            &subnets,
            std::slice::from_ref(&acl),
            &clients,
            "",
        );
        assert_eq!(bad.status, Status::Fail);
        assert!(
            bad.detail.contains("rule 50 denies inbound TCP 5432"),
            "{}",
            bad.detail
        );
        assert!(!bad.detail.contains("6432 from"), "{}", bad.detail);
        acl.entries.retain(|e| e.rule_number != 100 || !e.egress);
        let no_return = network_acls(&[5432], &subnets, std::slice::from_ref(&acl), &clients, "");
        assert!(
            no_return
                .detail
                .contains("the final rule (*) denies outbound TCP 1024-65535"),
            "{}",
            no_return.detail
        );
    }

    fn client(id: &str, addresses: &[&str]) -> ClientGroup {
        ClientGroup {
            id: id.into(),
            addresses: addresses.iter().map(|a| net(a)).collect(),
            assumed: false,
        }
    }

    fn interface(id: &str, subnet: &str, group: &str, addresses: &[&str]) -> InterfaceAddresses {
        InterfaceAddresses {
            id: id.into(),
            subnet_id: subnet.into(),
            group_ids: vec![group.into()],
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    fn lists(pairs: &[(&str, &[&str])]) -> PrefixLists {
        pairs
            .iter()
            .map(|(id, cidrs)| ((*id).to_owned(), cidrs.iter().map(|c| net(c)).collect()))
            .collect()
    }

    #[test]
    fn security_group_ingress_needs_every_port_from_every_client() {
        let client = client("sg-client", &["10.5.2.10/32"]);
        let both = vec![(
            "sg-endpoint".to_owned(),
            vec![
                rule(false, "tcp", 5432, 5432, Peer::Group(client.id.clone())),
                rule(false, "tcp", 6432, 6432, Peer::Cidr("10.0.0.0/8".into())),
                rule(true, "-1", -1, -1, Peer::Cidr("0.0.0.0/0".into())),
            ],
        )];
        let none = PrefixLists::new();
        let c = security_group_ingress(&[5432, 6432], &both, std::slice::from_ref(&client), &none);
        assert_eq!(c.status, Status::Pass, "{}", c.detail);
        let only_5432 = vec![(
            "sg-endpoint".to_owned(),
            vec![rule(false, "6", 5432, 5432, Peer::Group(client.id.clone()))],
        )];
        let c = security_group_ingress(
            &[5432, 6432],
            &only_5432,
            std::slice::from_ref(&client),
            &none,
        );
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.detail.contains("TCP 6432 from sg-client") && c.detail.contains("sg-endpoint"),
            "{}",
            c.detail
        );
        // Without client groups, any source counts.
        let other = vec![(
            "sg-endpoint".to_owned(),
            vec![rule(
                false,
                "tcp",
                5400,
                6500,
                Peer::Group("sg-other".into()),
            )],
        )];
        assert_eq!(
            security_group_ingress(&[5432, 6432], &other, &[], &none).status,
            Status::Pass
        );
        assert_eq!(
            security_group_ingress(&[5432, 6432], &other, std::slice::from_ref(&client), &none)
                .status,
            Status::Fail
        );
        // An egress rule lets nothing in.
        let egress_only = vec![(
            "sg-endpoint".to_owned(),
            vec![rule(true, "-1", -1, -1, Peer::Cidr("0.0.0.0/0".into()))],
        )];
        assert_eq!(
            security_group_ingress(&[5432], &egress_only, &[], &none).status,
            Status::Fail
        );
    }

    #[test]
    fn least_privilege_sources_admit_the_hosts_they_hold() {
        // Two hosts of the application; rules by single address and by a
        // prefix list holding a small block.
        let app = client("sg-app", &["10.5.2.10/32", "10.5.2.11/32"]);
        let pl = lists(&[("pl-app", &["10.5.2.0/28"])]);
        let rules = |peers: &[&str]| {
            vec![(
                "sg-endpoint".to_owned(),
                peers
                    .iter()
                    .map(|p| rule(false, "tcp", 5432, 5432, Peer::Cidr((*p).into())))
                    .collect::<Vec<_>>(),
            )]
        };
        let check = |peers: &[&str], lists: &PrefixLists| {
            security_group_ingress(&[5432], &rules(peers), std::slice::from_ref(&app), lists)
        };
        assert_eq!(
            check(&["10.5.2.10/32", "10.5.2.11/32"], &pl).status,
            Status::Pass
        );
        assert_eq!(check(&["pl-app"], &pl).status, Status::Pass);
        // One host left out: not every address is let in.
        let c = check(&["10.5.2.10/32"], &pl);
        assert_eq!(c.status, Status::Fail, "{}", c.detail);
        assert!(
            c.detail.contains(
                "TCP 5432 from sg-app (no rule names the group or holds its hosts 10.5.2.11)"
            ),
            "{}",
            c.detail
        );
        // A prefix list that could not be read admits nothing.
        assert_eq!(check(&["pl-app"], &PrefixLists::new()).status, Status::Fail);
        // A group without interfaces is judged as the whole VPC, and says so.
        let vpc_wide = ClientGroup {
            addresses: vec![net("10.5.0.0/16")],
            assumed: true,
            ..app.clone()
        };
        let c = security_group_ingress(
            &[5432],
            &rules(&["10.5.0.0/16"]),
            std::slice::from_ref(&vpc_wide),
            &pl,
        );
        assert_eq!(c.status, Status::Pass);
        assert!(
            c.detail.contains("no network interfaces yet"),
            "{}",
            c.detail
        );
    }

    #[test]
    fn clients_are_the_interfaces_in_their_groups() {
        let vpc = [net("10.5.0.0/16")];
        let interfaces = [
            interface("eni-app1", "subnet-app", "sg-app", &["10.5.2.10"]),
            interface(
                "eni-app2",
                "subnet-app2",
                "sg-app",
                &["10.5.3.10", "2600:1f18::10"],
            ),
            interface("eni-endpoint", "subnet-a", "sg-app", &["10.5.0.50"]),
        ];
        let found = locate_clients(
            &[5432],
            &["sg-app".to_owned(), "sg-idle".to_owned()],
            &[],
            &interfaces,
            &["eni-endpoint".to_owned()],
            &PrefixLists::new(),
            &vpc,
        );
        assert_eq!(
            found.groups[0],
            client(
                "sg-app",
                &["10.5.2.10/32", "10.5.3.10/32", "2600:1f18::10/128"]
            )
        );
        assert_eq!(
            found.groups[1],
            ClientGroup {
                id: "sg-idle".into(),
                addresses: vec![net("10.5.0.0/16")],
                assumed: true,
            }
        );
        assert_eq!(found.subnet_ids, ["subnet-app", "subnet-app2"]);
        assert!(
            found
                .origin
                .contains("network interfaces in sg-app, sg-idle")
                && found
                    .origin
                    .contains("sg-idle has no network interfaces yet"),
            "{}",
            found.origin
        );
        assert!(!found.addresses.contains(&net("10.5.0.50/32")));
    }

    #[test]
    fn without_client_groups_the_clients_are_the_sources_let_in() {
        let vpc = [net("10.5.0.0/16")];
        let endpoint_rules = vec![(
            "sg-endpoint".to_owned(),
            vec![
                rule(false, "tcp", 5432, 5432, Peer::Cidr("10.5.2.10/32".into())),
                rule(false, "tcp", 6432, 6432, Peer::Cidr("pl-app".into())),
                rule(false, "tcp", 6432, 6432, Peer::Cidr("pl-gone".into())),
                rule(false, "tcp", 5432, 6432, Peer::Group("sg-batch".into())),
                // The world, as far as it reaches into the VPC.
                rule(false, "tcp", 5432, 5432, Peer::Cidr("0.0.0.0/0".into())),
                // A peered network elsewhere stays itself.
                rule(false, "tcp", 5432, 5432, Peer::Cidr("172.16.0.0/16".into())),
                // Not the ports: not a client.
                rule(false, "tcp", 22, 22, Peer::Cidr("192.168.0.0/16".into())),
            ],
        )];
        let interfaces = [interface(
            "eni-batch",
            "subnet-batch",
            "sg-batch",
            &["10.5.4.7"],
        )];
        let found = locate_clients(
            &[5432, 6432],
            &[],
            &endpoint_rules,
            &interfaces,
            &[],
            &lists(&[("pl-app", &["10.5.2.0/28"])]),
            &vpc,
        );
        assert!(found.groups.is_empty());
        let mut expected: Vec<IpNet> = [
            "10.5.2.10/32",
            "10.5.2.0/28",
            "10.5.4.7/32",
            "10.5.0.0/16",
            "172.16.0.0/16",
        ]
        .iter()
        .map(|n| net(n))
        .collect();
        expected.sort();
        assert_eq!(found.addresses, expected);
        assert_eq!(found.subnet_ids, ["subnet-batch"]);
        assert!(
            found.origin.contains("pl-gone could not be read")
                && found.origin.contains("client_security_group_ids"),
            "{}",
            found.origin
        );
        let nothing = locate_clients(&[5432], &[], &[], &[], &[], &PrefixLists::new(), &vpc);
        assert!(nothing.addresses.is_empty());
        assert!(
            nothing.origin.contains("let no source in"),
            "{}",
            nothing.origin
        );
    }

    #[test]
    fn the_endpoint_is_where_its_interfaces_are() {
        let subnets = [
            subnet("subnet-a", "us-east-1a", "10.5.0.0/24"),
            subnet("subnet-b", "us-east-1b", "10.5.1.0/24"),
            subnet("subnet-c", "us-east-1c", "10.5.5.0/24"),
        ];
        let interfaces = [
            interface(
                "eni-a",
                "subnet-a",
                "sg-default",
                &["10.5.0.50", "2600:1f18::50"],
            ),
            // Reported outside its subnet: not believed.
            interface("eni-b", "subnet-b", "sg-default", &["10.77.3.9"]),
        ];
        assert_eq!(
            endpoint_targets(&subnets, &interfaces),
            [
                "10.5.0.50/32",
                "10.5.1.0/24",
                "10.5.5.0/24",
                "2600:1f18::50/128"
            ]
            .iter()
            .map(|n| net(n))
            .collect::<Vec<_>>()
        );
    }

    #[test]
    fn address_families_meet_only_their_own() {
        let clients = [net("10.5.2.10/32"), net("2600:1f18::10/128")];
        let v4_endpoint = [net("10.5.0.50/32")];
        assert_eq!(of_families(&clients, &v4_endpoint), [net("10.5.2.10/32")]);
        let dual = [net("10.5.0.50/32"), net("2600:1f18::50/128")];
        assert_eq!(of_families(&clients, &dual), clients);
    }

    #[test]
    fn ipv6_entries_judge_ipv6_traffic() {
        let subnets = [subnet("subnet-a", "us-east-1a", "10.5.0.0/24")];
        let acl = NetworkAcl {
            id: "acl-6".into(),
            vpc_id: "vpc-1".into(),
            is_default: false,
            subnet_ids: vec!["subnet-a".into()],
            entries: vec![
                entry(10, false, "6", true, "10.5.2.0/24", Some((5432, 5432))),
                entry(11, true, "6", true, "10.5.2.0/24", Some((1024, 65535))),
                entry(20, false, "6", false, "2600:1f18::/56", Some((5432, 5432))),
                entry(30, false, "-1", true, "::/0", None),
                entry(31, true, "-1", true, "::/0", None),
            ],
        };
        let acls = std::slice::from_ref(&acl);
        let v4 = network_acls(&[5432], &subnets, acls, &[net("10.5.2.10/32")], "");
        assert_eq!(v4.status, Status::Pass, "{}", v4.detail);
        let v6 = network_acls(&[5432], &subnets, acls, &[net("2600:1f18::10/128")], "");
        assert_eq!(v6.status, Status::Fail);
        assert!(
            v6.detail
                .contains("rule 20 denies inbound TCP 5432 from 2600:1f18::10"),
            "{}",
            v6.detail
        );
        let elsewhere = network_acls(&[5432], &subnets, acls, &[net("2a05:d018::1/128")], "");
        assert_eq!(elsewhere.status, Status::Pass, "{}", elsewhere.detail);
    }

    #[test]
    fn least_privilege_network_acls_pass_for_the_real_clients() {
        let subnets = [
            subnet("subnet-a", "us-east-1a", "10.5.0.0/24"),
            subnet("subnet-b", "us-east-1b", "10.5.1.0/24"),
        ];
        let acl = NetworkAcl {
            id: "acl-db".into(),
            vpc_id: "vpc-1".into(),
            is_default: false,
            subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
            entries: vec![
                entry(10, false, "6", true, "10.5.2.0/28", Some((5432, 6432))),
                entry(10, true, "6", true, "10.5.2.0/28", Some((1024, 65535))),
                entry(CATCH_ALL_RULE, false, "-1", false, "0.0.0.0/0", None),
                entry(CATCH_ALL_RULE, true, "-1", false, "0.0.0.0/0", None),
            ],
        };
        let acls = std::slice::from_ref(&acl);
        let hosts = [net("10.5.2.10/32"), net("10.5.2.11/32")];
        let c = network_acls(&[5432, 6432], &subnets, acls, &hosts, "The hosts.");
        assert_eq!(c.status, Status::Pass, "{}", c.detail);
        assert!(
            c.detail
                .contains("10.5.2.10, 10.5.2.11 (acl-db rule 10). The hosts."),
            "{}",
            c.detail
        );
        // Judged as the whole VPC, the same ACL fails.
        let vpc = network_acls(&[5432], &subnets, acls, &[net("10.5.0.0/16")], "");
        assert_eq!(vpc.status, Status::Fail);
        // A host outside the allowed block is named with the rule.
        let stray = network_acls(&[5432], &subnets, acls, &[hosts[0], net("10.5.3.3/32")], "");
        assert_eq!(stray.status, Status::Fail);
        assert!(
            stray
                .detail
                .contains("the final rule (*) denies inbound TCP 5432 from 10.5.3.3;"),
            "{}",
            stray.detail
        );
        assert!(!stray.detail.contains("from 10.5.2.10"), "{}", stray.detail);
        assert_eq!(
            network_acls(&[5432], &subnets, acls, &[], "No host known.").status,
            Status::Warn
        );
    }

    #[test]
    fn the_application_subnets_acls_let_the_ports_out_and_answers_in() {
        let acl = NetworkAcl {
            id: "acl-app".into(),
            vpc_id: "vpc-1".into(),
            is_default: false,
            subnet_ids: vec!["subnet-app".into()],
            entries: vec![
                entry(5, true, "6", false, "0.0.0.0/0", Some((6432, 6432))),
                entry(10, true, "6", true, "10.5.0.0/23", Some((5432, 6432))),
                entry(10, false, "6", true, "10.5.0.0/23", Some((1024, 65535))),
            ],
        };
        let acls = std::slice::from_ref(&acl);
        let targets = [net("10.5.0.50/32"), net("10.5.1.50/32")];
        let app = ["subnet-app".to_owned()];
        let c = client_network_acls(&[5432], &app, acls, &targets, "client_subnet_ids");
        assert_eq!(c.status, Status::Pass, "{}", c.detail);
        assert!(
            c.detail.contains("subnet-app, client_subnet_ids"),
            "{}",
            c.detail
        );
        let c = client_network_acls(&[5432, 6432], &app, acls, &targets, "client_subnet_ids");
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.detail.contains(
                "acl-app (of subnet-app): rule 5 denies outbound TCP 6432 to 10.5.0.50, 10.5.1.50"
            ),
            "{}",
            c.detail
        );
        // No answer path: the inbound ephemeral range is missing.
        let one_way = NetworkAcl {
            entries: vec![entry(
                10,
                true,
                "6",
                true,
                "10.5.0.0/23",
                Some((5432, 6432)),
            )],
            ..acl.clone()
        };
        let c = client_network_acls(
            &[5432],
            &app,
            std::slice::from_ref(&one_way),
            &targets,
            "client_subnet_ids",
        );
        assert!(
            c.detail
                .contains("no rule allows inbound TCP 1024-65535 from 10.5.0.50, 10.5.1.50"),
            "{}",
            c.detail
        );
        let c = client_network_acls(&[5432], &[], acls, &targets, "client_subnet_ids");
        assert_eq!(c.status, Status::Warn);
        assert!(c.detail.starts_with("Not checked"), "{}", c.detail);
    }

    #[test]
    fn client_egress_needs_the_endpoint_as_destination() {
        let subnets = [net("10.5.0.0/24"), net("10.5.1.0/24")];
        let endpoint_groups = ["sg-endpoint".to_owned()];
        let none = PrefixLists::new();
        let default_egress = vec![(
            "sg-client".to_owned(),
            vec![rule(true, "-1", -1, -1, Peer::Cidr("0.0.0.0/0".into()))],
        )];
        assert_eq!(
            client_egress(
                &[5432, 6432],
                &default_egress,
                &endpoint_groups,
                &subnets,
                &none
            )
            .status,
            Status::Pass
        );
        let to_group = vec![(
            "sg-client".to_owned(),
            vec![rule(
                true,
                "tcp",
                5432,
                6432,
                Peer::Group("sg-endpoint".into()),
            )],
        )];
        assert_eq!(
            client_egress(&[5432, 6432], &to_group, &endpoint_groups, &subnets, &none).status,
            Status::Pass
        );
        let one_subnet = vec![(
            "sg-client".to_owned(),
            vec![rule(
                true,
                "tcp",
                5432,
                6432,
                Peer::Cidr("10.5.0.0/24".into()),
            )],
        )];
        assert_eq!(
            client_egress(&[5432], &one_subnet, &endpoint_groups, &subnets, &none).status,
            Status::Fail
        );
        let only_5432 = vec![(
            "sg-client".to_owned(),
            vec![rule(
                true,
                "tcp",
                5432,
                5432,
                Peer::Cidr("10.5.0.0/16".into()),
            )],
        )];
        let c = client_egress(&[5432, 6432], &only_5432, &endpoint_groups, &subnets, &none);
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.detail.contains("sg-client does not let TCP 6432 out"),
            "{}",
            c.detail
        );
        assert_eq!(
            client_egress(&[5432], &[], &endpoint_groups, &subnets, &none).status,
            Status::Warn
        );
    }

    #[test]
    fn client_egress_to_the_endpoint_addresses_by_block_or_prefix_list() {
        let endpoint_groups = ["sg-endpoint".to_owned()];
        let targets = [net("10.5.0.50/32"), net("10.5.1.50/32")];
        let egress = |peers: &[&str]| {
            vec![(
                "sg-app".to_owned(),
                peers
                    .iter()
                    .map(|p| rule(true, "tcp", 5432, 5432, Peer::Cidr((*p).into())))
                    .collect::<Vec<_>>(),
            )]
        };
        let pl = lists(&[("pl-db", &["10.5.0.50/32", "10.5.1.50/32"])]);
        let check = |peers: &[&str]| {
            client_egress(&[5432], &egress(peers), &endpoint_groups, &targets, &pl)
        };
        assert_eq!(
            check(&["10.5.0.50/32", "10.5.1.50/32"]).status,
            Status::Pass
        );
        assert_eq!(check(&["pl-db"]).status, Status::Pass);
        let c = check(&["10.5.0.50/32"]);
        assert_eq!(c.status, Status::Fail);
        assert!(c.detail.contains("(10.5.0.50, 10.5.1.50)"), "{}", c.detail);
    }

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
