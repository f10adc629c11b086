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
//! Why this file is near 2,000 lines: about 830 of them are the unit tests
//! of the checks; of the code, the client location is about 260 lines, the
//! security group checks 200 and the network ACL evaluation 320. Those
//! three are the parts to move into files of their own next.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use crate::aws::model::{
    Endpoint, InterfaceAddresses, NetworkAcl, NetworkAclEntry, Peer, Rule, Subnet, VpcDns,
    is_prefix_list,
};
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

// -------------------------------------------------------------- clients --

/// The entries of the prefix lists that could be read, by id.
pub type PrefixLists = BTreeMap<String, Vec<IpNet>>;

/// The prefix lists rules name as sources or destinations.
pub fn prefix_list_ids<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Vec<String> {
    let ids: BTreeSet<&str> = rules
        .into_iter()
        .filter_map(|r| match &r.peer {
            Peer::Cidr(c) if is_prefix_list(c) => Some(c.as_str()),
            _ => None,
        })
        .collect();
    ids.into_iter().map(str::to_owned).collect()
}

/// The blocks a block or prefix-list peer stands for; `None` for a group,
/// or a prefix list that could not be read.
fn peer_blocks(peer: &Peer, lists: &PrefixLists) -> Option<Vec<IpNet>> {
    match peer {
        Peer::Group(_) => None,
        Peer::Cidr(c) if is_prefix_list(c) => lists.get(c).cloned(),
        Peer::Cidr(c) => c.parse().ok().map(|net| vec![net]),
    }
}

/// Whether any block of `peer` holds `net`.
fn peer_holds(peer: &Peer, lists: &PrefixLists, net: &IpNet) -> bool {
    peer_blocks(peer, lists).is_some_and(|blocks| blocks.iter().any(|b| b.contains(net)))
}

fn same_family(a: &IpNet, b: &IpNet) -> bool {
    matches!(
        (a, b),
        (IpNet::V4(_), IpNet::V4(_)) | (IpNet::V6(_), IpNet::V6(_))
    )
}

/// The blocks of `nets` in an address family that `like` has too: traffic
/// flows between two hosts over IPv4 or over IPv6, never from one to the
/// other.
pub fn of_families(nets: &[IpNet], like: &[IpNet]) -> Vec<IpNet> {
    nets.iter()
        .filter(|n| like.iter().any(|l| same_family(n, l)))
        .copied()
        .collect()
}

/// A source block as its hosts are: the VPC's blocks it spans (`0.0.0.0/0`
/// lets in the world, but the application is in the VPC), or the block
/// itself when it spans none (a part of the VPC, or a network elsewhere).
fn clip_to_vpc(block: IpNet, vpc_cidrs: &[IpNet]) -> Vec<IpNet> {
    let spanned: Vec<IpNet> = vpc_cidrs
        .iter()
        .filter(|v| block.contains(*v))
        .copied()
        .collect();
    if spanned.is_empty() {
        vec![block]
    } else {
        spanned
    }
}

/// One of the application's security groups, and where its hosts are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientGroup {
    pub id: String,
    /// The addresses of its network interfaces; the VPC's blocks when it
    /// has none (`assumed`).
    pub addresses: Vec<IpNet>,
    pub assumed: bool,
}

/// The application's hosts, as the checks judge them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clients {
    /// One per `client_security_group_ids` entry (none when not given).
    pub groups: Vec<ClientGroup>,
    /// Every address or block the network ACLs are judged for.
    pub addresses: Vec<IpNet>,
    /// Where the addresses come from, a sentence for details.
    pub origin: String,
    /// The subnets of the network interfaces found.
    pub subnet_ids: Vec<String>,
}

/// Where the application's hosts are: the network interfaces in
/// `client_groups` when given; else the sources the endpoint's groups let
/// in on any of `ports` (blocks, as far as they reach into the VPC; prefix
/// lists' entries; the interfaces in source groups). `interfaces` are those
/// of the client groups, or of the source groups; the endpoint's own
/// (`endpoint_interfaces`) never count. A group without interfaces stands
/// for the whole VPC, and says so.
pub fn locate_clients(
    ports: &[u16],
    client_groups: &[String],
    endpoint_rules: &[(String, Vec<Rule>)],
    interfaces: &[InterfaceAddresses],
    endpoint_interfaces: &[String],
    prefix_lists: &PrefixLists,
    vpc_cidrs: &[IpNet],
) -> Clients {
    let mut subnet_ids: BTreeSet<String> = BTreeSet::new();
    let mut notes: Vec<String> = Vec::new();
    let vpc_text = join(vpc_cidrs.iter().map(ToString::to_string));
    let mut group_hosts = |group: &str, notes: &mut Vec<String>| -> (Vec<IpNet>, bool) {
        let mut found: BTreeSet<IpNet> = BTreeSet::new();
        for i in interfaces
            .iter()
            .filter(|i| i.group_ids.iter().any(|g| g == group))
            .filter(|i| !endpoint_interfaces.contains(&i.id))
        {
            let before = found.len();
            found.extend(
                i.addresses
                    .iter()
                    .filter_map(|a| a.parse::<IpAddr>().ok())
                    .map(IpNet::from),
            );
            if found.len() > before && !i.subnet_id.is_empty() {
                subnet_ids.insert(i.subnet_id.clone());
            }
        }
        if found.is_empty() {
            notes.push(format!(
                "{group} has no network interfaces yet, so its hosts are taken to be anywhere in the VPC \
                 ({vpc_text})"
            ));
            (vpc_cidrs.to_vec(), true)
        } else {
            (found.into_iter().collect(), false)
        }
    };

    if !client_groups.is_empty() {
        let groups: Vec<ClientGroup> = client_groups
            .iter()
            .map(|id| {
                let (addresses, assumed) = group_hosts(id, &mut notes);
                ClientGroup {
                    id: id.clone(),
                    addresses,
                    assumed,
                }
            })
            .collect();
        let addresses: BTreeSet<IpNet> = groups
            .iter()
            .flat_map(|g| g.addresses.iter().copied())
            .collect();
        let mut origin = format!(
            "The application's hosts are the network interfaces in {}",
            join(client_groups)
        );
        for note in notes {
            origin.push_str(&format!("; {note}"));
        }
        origin.push('.');
        return Clients {
            groups,
            addresses: addresses.into_iter().collect(),
            origin,
            subnet_ids: subnet_ids.into_iter().collect(),
        };
    }

    let mut sources: Vec<&Peer> = Vec::new();
    for rule in endpoint_rules.iter().flat_map(|(_, rules)| rules) {
        if !rule.egress
            && ports.iter().any(|p| rule_covers(rule, *p))
            && !sources.contains(&&rule.peer)
        {
            sources.push(&rule.peer);
        }
    }
    let mut addresses: BTreeSet<IpNet> = BTreeSet::new();
    let mut named: Vec<String> = Vec::new();
    for peer in sources {
        match peer {
            Peer::Group(g) => {
                addresses.extend(group_hosts(g, &mut notes).0);
                named.push(g.clone());
            }
            Peer::Cidr(c) if is_prefix_list(c) => match prefix_lists.get(c) {
                Some(blocks) => {
                    addresses.extend(blocks.iter().flat_map(|b| clip_to_vpc(*b, vpc_cidrs)));
                    named.push(c.clone());
                }
                None => notes.push(format!("prefix list {c} could not be read and is left out")),
            },
            Peer::Cidr(c) => {
                if let Ok(block) = c.parse::<IpNet>() {
                    addresses.extend(clip_to_vpc(block, vpc_cidrs));
                    named.push(c.clone());
                }
            }
        }
    }
    let mut origin = if named.is_empty() {
        "The endpoint's security groups let no source in on the ports, so no application host is known"
            .to_owned()
    } else {
        format!(
            "The application's hosts are the sources the endpoint's security groups let in ({}; blocks as far \
             as they reach into the VPC)",
            join(&named)
        )
    };
    for note in notes {
        origin.push_str(&format!("; {note}"));
    }
    origin.push_str(". Give client_security_group_ids to judge the application's own hosts.");
    Clients {
        groups: Vec::new(),
        addresses: addresses.into_iter().collect(),
        origin,
        subnet_ids: subnet_ids.into_iter().collect(),
    }
}

/// Where the endpoint is: the addresses of its network interfaces in each
/// of its subnets. EC2 places an interface's addresses in its subnet's
/// block; an interface with an IPv4 address outside it is not believed
/// (the local emulator reports such), and the subnet's block stands for it,
/// as it does for a subnet whose interface is unknown.
pub fn endpoint_targets(subnets: &[Subnet], interfaces: &[InterfaceAddresses]) -> Vec<IpNet> {
    let mut targets: BTreeSet<IpNet> = BTreeSet::new();
    for subnet in subnets {
        let block: Option<IpNet> = subnet.cidr_block.parse().ok();
        let mut believed: Vec<IpNet> = Vec::new();
        for i in interfaces.iter().filter(|i| i.subnet_id == subnet.id) {
            let addresses: Vec<IpNet> = i
                .addresses
                .iter()
                .filter_map(|a| a.parse::<IpAddr>().ok())
                .map(IpNet::from)
                .collect();
            let inside = addresses.iter().all(|a| match (a, &block) {
                (IpNet::V4(_), Some(block)) => block.contains(a),
                (IpNet::V4(_), None) => false,
                (IpNet::V6(_), _) => true,
            });
            if inside && addresses.iter().any(|a| matches!(a, IpNet::V4(_))) {
                believed.extend(addresses);
            }
        }
        if believed.is_empty() {
            targets.extend(block);
        } else {
            targets.extend(believed);
        }
    }
    targets.into_iter().collect()
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
pub fn rule_covers(rule: &Rule, port: u16) -> bool {
    let port = i32::from(port);
    match rule.protocol.as_str() {
        "-1" | "all" => true,
        "tcp" | "6" => rule.from_port <= port && port <= rule.to_port,
        _ => false,
    }
}

/// The guide's "Check security groups", inbound: the endpoint's groups let
/// every port in from each client group (by a rule naming the group, or by
/// block and prefix-list rules holding every address of its hosts), or from
/// anything when no client groups are given.
pub fn security_group_ingress(
    ports: &[u16],
    groups: &[(String, Vec<Rule>)],
    clients: &[ClientGroup],
    prefix_lists: &PrefixLists,
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
    if clients.is_empty() {
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
    // Per client group: the ports not let in, and the addresses no rule
    // holds.
    let mut missing: BTreeMap<&str, (Vec<u16>, BTreeSet<IpNet>)> = BTreeMap::new();
    for client in clients {
        for port in ports {
            let open: Vec<&&Rule> = ingress.iter().filter(|r| rule_covers(r, *port)).collect();
            let by_group = open
                .iter()
                .any(|r| matches!(&r.peer, Peer::Group(g) if *g == client.id));
            let left_out: Vec<IpNet> = client
                .addresses
                .iter()
                .filter(|a| !open.iter().any(|r| peer_holds(&r.peer, prefix_lists, a)))
                .copied()
                .collect();
            if !by_group && (client.addresses.is_empty() || !left_out.is_empty()) {
                let entry = missing.entry(&client.id).or_default();
                entry.0.push(*port);
                entry.1.extend(left_out);
            }
        }
    }
    let assumed: Vec<&str> = clients
        .iter()
        .filter(|c| c.assumed)
        .map(|c| c.id.as_str())
        .collect();
    let assumed = if assumed.is_empty() {
        String::new()
    } else {
        format!(
            " ({} {} no network interfaces yet: judged as hosts anywhere in the VPC.)",
            join(&assumed),
            if assumed.len() == 1 { "has" } else { "have" }
        )
    };
    if missing.is_empty() {
        return Check::pass(
            kind,
            format!(
                "The endpoint's security groups ({group_ids}) let TCP {} in from {}.{assumed}",
                ports_text(ports),
                join(clients.iter().map(|c| &c.id))
            ),
        );
    }
    let gaps = join(missing.iter().map(|(client, (ports, left_out))| {
        let left_out: Vec<IpNet> = left_out.iter().copied().collect();
        format!(
            "TCP {} from {client} (no rule names the group{})",
            ports_text(ports),
            if left_out.is_empty() {
                String::new()
            } else {
                format!(" or holds its hosts {}", nets_text(&left_out))
            }
        )
    }));
    Check::fail(
        kind,
        format!(
            "The endpoint's security groups ({group_ids}) do not let in {gaps}. Add an inbound rule for each to \
             one of them (with planetscale_privatelink_security_group: ports and \
             allowed_security_group_ids).{assumed}"
        ),
    )
}

/// The guide's security group considerations, outbound: each client group
/// lets every port out to the endpoint, by a rule naming one of the
/// endpoint's groups, or block and prefix-list rules holding every address
/// of the endpoint (`endpoint_targets`).
pub fn client_egress(
    ports: &[u16],
    clients: &[(String, Vec<Rule>)],
    endpoint_groups: &[String],
    endpoint_targets: &[IpNet],
    prefix_lists: &PrefixLists,
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
            let to_addresses = !endpoint_targets.is_empty()
                && endpoint_targets.iter().all(|t| {
                    matching
                        .iter()
                        .any(|r| peer_holds(&r.peer, prefix_lists, t))
                });
            if !(to_group || to_addresses) {
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
            "{gaps} to the endpoint ({}). Add outbound rules for those ports to the endpoint's security group \
             ({}), or to blocks holding its addresses.",
            nets_text(endpoint_targets),
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

/// One direction of the connection through a network ACL: TCP on an
/// inclusive port range, out of the subnet (`egress`) or into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Traffic {
    egress: bool,
    ports: (i32, i32),
}

impl Traffic {
    /// "inbound TCP 5432 from", "outbound TCP 1024-65535 to"
    fn text(&self) -> String {
        let (from, to) = self.ports;
        let ports = if from == to {
            from.to_string()
        } else {
            format!("{from}-{to}")
        };
        if self.egress {
            format!("outbound TCP {ports} to")
        } else {
            format!("inbound TCP {ports} from")
        }
    }
}

/// What judging some subnets' network ACLs found.
#[derive(Default)]
struct AclFindings {
    fails: Vec<String>,
    warns: Vec<String>,
    /// "acl-1 rule 100" for each entry that allowed something.
    allowed_by: BTreeSet<String>,
    /// How many network ACLs were judged.
    judged: usize,
}

/// Judges the network ACL of each subnet for each kind of traffic to or
/// from each of `peers`, naming the entry that decides.
fn judge_acls(
    subnet_ids: &[&str],
    acls: &[NetworkAcl],
    traffic: &[Traffic],
    peers: &[IpNet],
) -> AclFindings {
    let mut found = AclFindings::default();
    let mut by_acl: BTreeMap<&str, (&NetworkAcl, Vec<&str>)> = BTreeMap::new();
    for subnet in subnet_ids {
        match acls
            .iter()
            .find(|a| a.subnet_ids.iter().any(|s| s == subnet))
        {
            Some(acl) => by_acl
                .entry(&acl.id)
                .or_insert((acl, Vec::new()))
                .1
                .push(subnet),
            None => found
                .warns
                .push(format!("no network ACL was found for {subnet}")),
        }
    }
    found.judged = by_acl.len();
    for (acl_id, (acl, acl_subnets)) in &by_acl {
        let at = format!("{acl_id} (of {})", join(acl_subnets));
        let (mut fails, mut warns): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
        for t in traffic {
            // Peers with the same verdict are named together.
            let mut verdicts: Vec<(Verdict, Vec<IpNet>)> = Vec::new();
            for peer in peers {
                let verdict = evaluate(&acl.entries, t.egress, t.ports, peer);
                match verdicts.iter_mut().find(|(v, _)| *v == verdict) {
                    Some((_, nets)) => nets.push(*peer),
                    None => verdicts.push((verdict, vec![*peer])),
                }
            }
            for (verdict, nets) in verdicts {
                let what = format!("{} {}", t.text(), nets_text(&nets));
                match verdict {
                    Verdict::Allowed { rule } => {
                        found
                            .allowed_by
                            .insert(format!("{acl_id} {}", rule_name(rule)));
                    }
                    Verdict::Denied { rule } => {
                        fails.push(format!("{} denies {what}", rule_name(rule)))
                    }
                    Verdict::Unmatched { partly_denied_by } => fails.push(format!(
                        "no rule allows {what}{}",
                        partly_denied_by
                            .map(|r| format!(", and {} denies part of it", rule_name(r)))
                            .unwrap_or_default()
                    )),
                    Verdict::PartlyDenied {
                        denied_by,
                        allowed_by,
                    } => warns.push(format!(
                        "{} denies part of {what} before {} allows the rest",
                        rule_name(denied_by),
                        rule_name(allowed_by)
                    )),
                }
            }
        }
        if !fails.is_empty() {
            found.fails.push(format!("{at}: {}", fails.join("; ")));
        }
        if !warns.is_empty() {
            found.warns.push(format!("{at}: {}", warns.join("; ")));
        }
    }
    found
}

/// The guide's "Check NACLs" on the endpoint's side: each network ACL of
/// the endpoint's subnets lets each port in from the application's hosts
/// (`clients`), and the ephemeral range 1024-65535 out to them (ACLs are
/// stateless: the answers need a rule of their own).
pub fn network_acls(
    ports: &[u16],
    subnets: &[Subnet],
    acls: &[NetworkAcl],
    clients: &[IpNet],
    origin: &str,
) -> Check {
    let kind = NETWORK_ACLS;
    let mut traffic: Vec<Traffic> = ports
        .iter()
        .map(|p| Traffic {
            egress: false,
            ports: (i32::from(*p), i32::from(*p)),
        })
        .collect();
    traffic.push(Traffic {
        egress: true,
        ports: EPHEMERAL_PORTS,
    });
    let subnet_ids: Vec<&str> = subnets.iter().map(|s| s.id.as_str()).collect();
    let found = judge_acls(&subnet_ids, acls, &traffic, clients);
    let fix = format!(
        "Network ACLs are stateless and apply in rule-number order, the first match deciding: the endpoint's \
         subnets need inbound TCP {} and outbound TCP 1024-65535 (the answers) allowed for the application's \
         addresses by a rule numbered below any rule that denies them. Remove or renumber the rule that \
         denies, or add an allow rule with a lower number. {origin}",
        ports_text(ports)
    );
    if found.judged == 0 && found.fails.is_empty() {
        return Check::warn(
            kind,
            format!(
                "{}. Not checked.",
                if found.warns.is_empty() {
                    "The endpoint has no subnets".to_owned()
                } else {
                    found.warns.join("; ")
                }
            ),
        );
    }
    if clients.is_empty() {
        return Check::warn(
            kind,
            format!("Not checked: no address of the application's hosts is known. {origin}"),
        );
    }
    verdict(
        kind,
        found,
        &fix,
        format!(
            "The network ACLs of the endpoint's subnets allow inbound TCP {} from and outbound TCP 1024-65535 \
             to {}",
            ports_text(ports),
            nets_text(clients),
        ),
        origin,
    )
}

/// "Check NACLs" on the application's side: each network ACL of the
/// application's subnets lets each port out to the endpoint's addresses
/// (`targets`), and 1024-65535 in from them.
pub fn client_network_acls(
    ports: &[u16],
    subnet_ids: &[String],
    acls: &[NetworkAcl],
    targets: &[IpNet],
    subnets_from: &str,
) -> Check {
    let kind = CLIENT_NETWORK_ACLS;
    if subnet_ids.is_empty() {
        return Check::warn(
            kind,
            "Not checked: give client_subnet_ids (the application's subnets), or client_security_group_ids \
             whose hosts are running, to check their network ACLs.",
        );
    }
    if targets.is_empty() {
        return Check::warn(kind, "Not checked: the endpoint's addresses are unknown.");
    }
    let mut traffic: Vec<Traffic> = ports
        .iter()
        .map(|p| Traffic {
            egress: true,
            ports: (i32::from(*p), i32::from(*p)),
        })
        .collect();
    traffic.push(Traffic {
        egress: false,
        ports: EPHEMERAL_PORTS,
    });
    let ids: Vec<&str> = subnet_ids.iter().map(String::as_str).collect();
    let found = judge_acls(&ids, acls, &traffic, targets);
    let fix = format!(
        "Network ACLs are stateless and apply in rule-number order, the first match deciding: the application's \
         subnets need outbound TCP {} to the endpoint's addresses (or its subnets' blocks) and inbound TCP \
         1024-65535 (the answers) from them allowed by a rule numbered below any rule that denies them. Remove \
         or renumber the rule that denies, or add an allow rule with a lower number.",
        ports_text(ports)
    );
    verdict(
        kind,
        found,
        &fix,
        format!(
            "The network ACLs of the application's subnets ({}, {subnets_from}) allow outbound TCP {} to and \
             inbound TCP 1024-65535 from the endpoint's addresses {}",
            join(subnet_ids),
            ports_text(ports),
            nets_text(targets),
        ),
        "",
    )
}

/// The check's outcome from what judging the ACLs found: any failure
/// fails (with the warnings after it), a partial denial warns, else it
/// passes with `passed` and the entries that allowed.
fn verdict(kind: Kind, found: AclFindings, fix: &str, passed: String, origin: &str) -> Check {
    if !found.fails.is_empty() {
        let mut all = found.fails;
        all.extend(found.warns);
        return Check::fail(kind, format!("{}. {fix}", all.join("; ")));
    }
    if !found.warns.is_empty() {
        return Check::warn(kind, format!("{}. {fix}", found.warns.join("; ")));
    }
    let origin = if origin.is_empty() {
        String::new()
    } else {
        format!(" {origin}")
    };
    Check::pass(
        kind,
        format!("{passed} ({}).{origin}", join(&found.allowed_by)),
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
