//! Where the application's hosts are ([`locate_clients`]), judged by their
//! real addresses, and the endpoint's own addresses ([`endpoint_targets`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;

use super::*;

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
pub(super) fn peer_holds(peer: &Peer, lists: &PrefixLists, net: &IpNet) -> bool {
    peer_blocks(peer, lists).is_some_and(|blocks| blocks.iter().any(|b| b.contains(net)))
}

pub(super) fn same_family(a: &IpNet, b: &IpNet) -> bool {
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
