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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_sources::checks::fixtures::*;

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
}
