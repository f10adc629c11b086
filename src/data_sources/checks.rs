//! The troubleshooting guide's checks as pure functions: what EC2 and DNS
//! reported goes in, one [`Check`] comes out, with a detail that says what
//! was found and, when something is wrong, how to fix it. No I/O here, so
//! every rule of evaluation is unit-tested.
//!
//! "The clients" are the application's hosts. Where their addresses matter
//! (network ACLs, CIDR rules) they are taken to be in the endpoint's VPC,
//! anywhere in its CIDR blocks.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use crate::aws::model::{Endpoint, NetworkAcl, NetworkAclEntry, Peer, Rule, Subnet, VpcDns};
use crate::dns::DnsError;

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
    failure: "a network ACL blocks the connection",
    attribute: "endpoint_id",
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

/// Every check, in the order the data source reports them.
pub const ALL: [Kind; 7] = [
    ENDPOINT_STATE,
    SECURITY_GROUP_INGRESS,
    CLIENT_EGRESS,
    NETWORK_ACLS,
    VPC_DNS,
    AVAILABILITY_ZONES,
    DNS_RESOLUTION,
];

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

// ------------------------------------------------------ security groups --

/// Whether a security group rule covers TCP `port`.
fn rule_covers(rule: &Rule, port: u16) -> bool {
    let port = i32::from(port);
    match rule.protocol.as_str() {
        "-1" | "all" => true,
        "tcp" | "6" => rule.from_port <= port && port <= rule.to_port,
        _ => false,
    }
}

/// Whether a CIDR text holds (contains) `inner`.
fn cidr_contains(cidr: &str, inner: &IpNet) -> bool {
    cidr.parse::<IpNet>().is_ok_and(|net| net.contains(inner))
}

/// The guide's "Check security groups", inbound: the endpoint's groups let
/// every port in, from each client group (by a rule naming the group, or a
/// CIDR rule spanning a VPC CIDR block), or from anything when no client
/// groups are given.
pub fn security_group_ingress(
    ports: &[u16],
    groups: &[(String, Vec<Rule>)],
    client_groups: &[String],
    vpc_cidrs: &[IpNet],
) -> Check {
    let kind = SECURITY_GROUP_INGRESS;
    if groups.is_empty() {
        return Check::fail(
            kind,
            "The endpoint has no security group. Attach one that lets the ports in (a \
             planetscale_privatelink_security_group).",
        );
    }
    let group_ids = join(groups.iter().map(|(id, _)| id));
    let ingress: Vec<&Rule> = groups
        .iter()
        .flat_map(|(_, rules)| rules.iter())
        .filter(|r| !r.egress)
        .collect();
    if client_groups.is_empty() {
        let missing: Vec<u16> = ports
            .iter()
            .copied()
            .filter(|p| !ingress.iter().any(|r| rule_covers(r, *p)))
            .collect();
        if missing.is_empty() {
            return Check::pass(
                kind,
                format!(
                    "The endpoint's security groups ({group_ids}) let TCP {} in. Give \
                     client_security_group_ids to check the application's groups are among the sources.",
                    ports_text(ports)
                ),
            );
        }
        return Check::fail(
            kind,
            format!(
                "No rule of the endpoint's security groups ({group_ids}) lets TCP {} in. Add inbound rules for \
                 those ports from the application's security groups or the VPC's CIDR block (with \
                 planetscale_privatelink_security_group: ports and allowed_security_group_ids).",
                ports_text(&missing)
            ),
        );
    }
    let admits = |rule: &Rule, client: &str| match &rule.peer {
        Peer::Group(g) => g == client,
        Peer::Cidr(c) => vpc_cidrs.iter().any(|v| cidr_contains(c, v)),
    };
    let mut missing: BTreeMap<&str, Vec<u16>> = BTreeMap::new();
    for client in client_groups {
        for port in ports {
            if !ingress
                .iter()
                .any(|r| rule_covers(r, *port) && admits(r, client))
            {
                missing.entry(client).or_default().push(*port);
            }
        }
    }
    if missing.is_empty() {
        return Check::pass(
            kind,
            format!(
                "The endpoint's security groups ({group_ids}) let TCP {} in from {}.",
                ports_text(ports),
                join(client_groups)
            ),
        );
    }
    let gaps = join(
        missing
            .iter()
            .map(|(client, ports)| format!("TCP {} from {client}", ports_text(ports))),
    );
    Check::fail(
        kind,
        format!(
            "The endpoint's security groups ({group_ids}) do not let in {gaps}. Add an inbound rule for each to \
             one of them (with planetscale_privatelink_security_group: ports and allowed_security_group_ids)."
        ),
    )
}

/// The guide's security group considerations, outbound: each client group
/// lets every port out to the endpoint, by a rule naming one of the
/// endpoint's groups or CIDR rules spanning every endpoint subnet.
pub fn client_egress(
    ports: &[u16],
    clients: &[(String, Vec<Rule>)],
    endpoint_groups: &[String],
    endpoint_subnets: &[IpNet],
) -> Check {
    let kind = CLIENT_EGRESS;
    if clients.is_empty() {
        return Check::warn(
            kind,
            "Not checked: give client_security_group_ids (the application's security groups) to check that \
             they let the ports out.",
        );
    }
    let mut missing: BTreeMap<&str, Vec<u16>> = BTreeMap::new();
    for (client, rules) in clients {
        let egress: Vec<&Rule> = rules.iter().filter(|r| r.egress).collect();
        for port in ports {
            let matching: Vec<&&Rule> = egress.iter().filter(|r| rule_covers(r, *port)).collect();
            let to_group = matching
                .iter()
                .any(|r| matches!(&r.peer, Peer::Group(g) if endpoint_groups.contains(g)));
            let to_subnets = !endpoint_subnets.is_empty()
                && endpoint_subnets.iter().all(|s| {
                    matching
                        .iter()
                        .any(|r| matches!(&r.peer, Peer::Cidr(c) if cidr_contains(c, s)))
                });
            if !(to_group || to_subnets) {
                missing.entry(client).or_default().push(*port);
            }
        }
    }
    let names = join(clients.iter().map(|(id, _)| id));
    if missing.is_empty() {
        return Check::pass(
            kind,
            format!("{names} let TCP {} out to the endpoint.", ports_text(ports)),
        );
    }
    let gaps = join(
        missing
            .iter()
            .map(|(client, ports)| format!("{client} does not let TCP {} out", ports_text(ports))),
    );
    Check::fail(
        kind,
        format!(
            "{gaps} to the endpoint. Add outbound rules for those ports to the endpoint's security group ({}) \
             or to the VPC's CIDR block.",
            join(endpoint_groups)
        ),
    )
}

// --------------------------------------------------------- network ACLs --

/// How a network ACL treats one kind of traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The first entry matching all of it allows it.
    Allowed { rule: i32 },
    /// The first entry matching all of it denies it.
    Denied { rule: i32 },
    /// Allowed, but an earlier entry denies part of it (some ports or some
    /// addresses).
    PartlyDenied { denied_by: i32, allowed_by: i32 },
    /// No entry matches all of it.
    Unmatched { partly_denied_by: Option<i32> },
}

fn same_family(a: &IpNet, b: &IpNet) -> bool {
    matches!(
        (a, b),
        (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_))
    )
}

/// Evaluates entries the way a network ACL does, in rule-number order with
/// the first match deciding, for TCP on the inclusive port range `ports`
/// to or from the addresses of `peer`.
pub fn evaluate(
    entries: &[NetworkAclEntry],
    egress: bool,
    ports: (i32, i32),
    peer: &IpNet,
) -> Verdict {
    let mut ordered: Vec<&NetworkAclEntry> =
        entries.iter().filter(|e| e.egress == egress).collect();
    ordered.sort_by_key(|e| e.rule_number);
    let mut partly_denied_by = None;
    for e in ordered {
        let every_port = matches!(e.protocol.as_str(), "-1" | "all");
        if !every_port && !matches!(e.protocol.as_str(), "6" | "tcp") {
            continue;
        }
        let Ok(block) = e.cidr_block.parse::<IpNet>() else {
            continue;
        };
        if !same_family(&block, peer) {
            continue;
        }
        let (from, to) = match e.port_range {
            Some(range) if !every_port => range,
            _ => (0, 65535),
        };
        let all_ports = from <= ports.0 && ports.1 <= to;
        let some_ports = from <= ports.1 && ports.0 <= to;
        // CIDR blocks are aligned: they overlap only when one holds the other.
        let all_addresses = block.contains(peer);
        let some_addresses = all_addresses || peer.contains(&block);
        if all_ports && all_addresses {
            return match (e.allow, partly_denied_by) {
                (false, _) => Verdict::Denied {
                    rule: e.rule_number,
                },
                (true, Some(denied_by)) => Verdict::PartlyDenied {
                    denied_by,
                    allowed_by: e.rule_number,
                },
                (true, None) => Verdict::Allowed {
                    rule: e.rule_number,
                },
            };
        }
        if !e.allow && some_ports && some_addresses && partly_denied_by.is_none() {
            partly_denied_by = Some(e.rule_number);
        }
    }
    Verdict::Unmatched { partly_denied_by }
}

fn rule_name(rule: i32) -> String {
    if rule == CATCH_ALL_RULE {
        "the final rule (*)".to_owned()
    } else {
        format!("rule {rule}")
    }
}

/// The guide's "Check NACLs": each network ACL of the endpoint's subnets
/// lets each port in from the `clients` blocks, and the ephemeral range
/// 1024-65535 out to them (ACLs are stateless: the answers need a rule of
/// their own).
pub fn network_acls(
    ports: &[u16],
    subnets: &[Subnet],
    acls: &[NetworkAcl],
    clients: &[IpNet],
) -> Check {
    let kind = NETWORK_ACLS;
    let mut fails: Vec<String> = Vec::new();
    let mut warns: Vec<String> = Vec::new();
    let mut by_acl: BTreeMap<&str, (&NetworkAcl, Vec<&str>)> = BTreeMap::new();
    for subnet in subnets {
        match acls.iter().find(|a| a.subnet_ids.contains(&subnet.id)) {
            Some(acl) => by_acl
                .entry(&acl.id)
                .or_insert((acl, Vec::new()))
                .1
                .push(&subnet.id),
            None => warns.push(format!("no network ACL was found for {}", subnet.id)),
        }
    }
    let mut allowed_by: BTreeSet<String> = BTreeSet::new();
    for (acl_id, (acl, acl_subnets)) in &by_acl {
        let at = format!("{acl_id} (of {})", join(acl_subnets));
        let mut traffic: Vec<(bool, (i32, i32))> = ports
            .iter()
            .map(|p| (false, (i32::from(*p), i32::from(*p))))
            .collect();
        traffic.push((true, EPHEMERAL_PORTS));
        for client in clients {
            for (egress, range) in &traffic {
                let what = if *egress {
                    format!("outbound TCP {}-{} to {client}", range.0, range.1)
                } else {
                    format!("inbound TCP {} from {client}", range.0)
                };
                match evaluate(&acl.entries, *egress, *range, client) {
                    Verdict::Allowed { rule } => {
                        allowed_by.insert(format!("{acl_id} {}", rule_name(rule)));
                    }
                    Verdict::Denied { rule } => {
                        fails.push(format!("{at}: {} denies {what}", rule_name(rule)))
                    }
                    Verdict::Unmatched { partly_denied_by } => fails.push(format!(
                        "{at}: no rule allows {what}{}",
                        partly_denied_by
                            .map(|r| format!(", and {} denies part of it", rule_name(r)))
                            .unwrap_or_default()
                    )),
                    Verdict::PartlyDenied {
                        denied_by,
                        allowed_by,
                    } => warns.push(format!(
                        "{at}: {} denies part of {what} before {} allows the rest",
                        rule_name(denied_by),
                        rule_name(allowed_by)
                    )),
                }
            }
        }
    }
    let fix = format!(
        "Network ACLs are stateless and apply in rule-number order, the first match deciding: the endpoint's \
         subnets need inbound TCP {} and outbound TCP 1024-65535 (the answers) allowed for the application's \
         addresses by a rule numbered below any rule that denies them. Remove or renumber the rule that \
         denies, or add an allow rule with a lower number.",
        ports_text(ports)
    );
    if !fails.is_empty() {
        fails.extend(warns);
        return Check::fail(kind, format!("{}. {fix}", fails.join("; ")));
    }
    if by_acl.is_empty() {
        return Check::warn(
            kind,
            format!(
                "{}. Not checked.",
                if warns.is_empty() {
                    "The endpoint has no subnets".to_owned()
                } else {
                    warns.join("; ")
                }
            ),
        );
    }
    if clients.is_empty() {
        return Check::warn(kind, "Not checked: the VPC's CIDR blocks are unknown.");
    }
    if !warns.is_empty() {
        return Check::warn(kind, format!("{}. {fix}", warns.join("; ")));
    }
    Check::pass(
        kind,
        format!(
            "The network ACLs of the endpoint's subnets allow inbound TCP {} from and outbound TCP 1024-65535 \
             to {} ({}).",
            ports_text(ports),
            join(clients.iter().map(ToString::to_string)),
            join(&allowed_by)
        ),
    )
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

/// Addresses no one routes on the internet: RFC 1918, shared (RFC 6598)
/// and unique local IPv6.
fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private() || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
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
        .filter(|ip| !in_vpc(ip) && is_private(ip))
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
            cidr_block: cidr.into(),
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
        );
        assert_eq!(bad.status, Status::Fail);
        assert!(
            bad.detail.contains("rule 50 denies inbound TCP 5432"),
            "{}",
            bad.detail
        );
        assert!(!bad.detail.contains("6432 from"), "{}", bad.detail);
        acl.entries.retain(|e| e.rule_number != 100 || !e.egress);
        let no_return = network_acls(&[5432], &subnets, std::slice::from_ref(&acl), &clients);
        assert!(
            no_return
                .detail
                .contains("the final rule (*) denies outbound TCP 1024-65535"),
            "{}",
            no_return.detail
        );
    }

    #[test]
    fn security_group_ingress_needs_every_port_from_every_client() {
        let vpc = [net("10.5.0.0/16")];
        let client = "sg-client".to_owned();
        let both = vec![(
            "sg-endpoint".to_owned(),
            vec![
                rule(false, "tcp", 5432, 5432, Peer::Group(client.clone())),
                rule(false, "tcp", 6432, 6432, Peer::Cidr("10.0.0.0/8".into())),
                rule(true, "-1", -1, -1, Peer::Cidr("0.0.0.0/0".into())),
            ],
        )];
        let c = security_group_ingress(&[5432, 6432], &both, std::slice::from_ref(&client), &vpc);
        assert_eq!(c.status, Status::Pass, "{}", c.detail);
        let only_5432 = vec![(
            "sg-endpoint".to_owned(),
            vec![rule(false, "6", 5432, 5432, Peer::Group(client.clone()))],
        )];
        let c = security_group_ingress(
            &[5432, 6432],
            &only_5432,
            std::slice::from_ref(&client),
            &vpc,
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
            security_group_ingress(&[5432, 6432], &other, &[], &vpc).status,
            Status::Pass
        );
        assert_eq!(
            security_group_ingress(&[5432, 6432], &other, std::slice::from_ref(&client), &vpc)
                .status,
            Status::Fail
        );
        // An egress rule lets nothing in.
        let egress_only = vec![(
            "sg-endpoint".to_owned(),
            vec![rule(true, "-1", -1, -1, Peer::Cidr("0.0.0.0/0".into()))],
        )];
        assert_eq!(
            security_group_ingress(&[5432], &egress_only, &[], &vpc).status,
            Status::Fail
        );
    }

    #[test]
    fn client_egress_needs_the_endpoint_as_destination() {
        let subnets = [net("10.5.0.0/24"), net("10.5.1.0/24")];
        let endpoint_groups = ["sg-endpoint".to_owned()];
        let default_egress = vec![(
            "sg-client".to_owned(),
            vec![rule(true, "-1", -1, -1, Peer::Cidr("0.0.0.0/0".into()))],
        )];
        assert_eq!(
            client_egress(&[5432, 6432], &default_egress, &endpoint_groups, &subnets).status,
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
            client_egress(&[5432, 6432], &to_group, &endpoint_groups, &subnets).status,
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
            client_egress(&[5432], &one_subnet, &endpoint_groups, &subnets).status,
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
        let c = client_egress(&[5432, 6432], &only_5432, &endpoint_groups, &subnets);
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.detail.contains("sg-client does not let TCP 6432 out"),
            "{}",
            c.detail
        );
        assert_eq!(
            client_egress(&[5432], &[], &endpoint_groups, &subnets).status,
            Status::Warn
        );
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
}
