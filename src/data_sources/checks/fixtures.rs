//! What the checks' unit tests build their cases from: blocks, rules,
//! network ACL entries, subnets, client groups, interfaces, prefix lists.

use ipnet::IpNet;

use super::*;

pub(super) fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

pub(super) fn rule(egress: bool, protocol: &str, from: i32, to: i32, peer: Peer) -> Rule {
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

pub(super) fn entry(
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
pub(super) fn default_entries() -> Vec<NetworkAclEntry> {
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

pub(super) fn subnet(id: &str, zone: &str, cidr: &str) -> Subnet {
    Subnet {
        id: id.into(),
        vpc_id: "vpc-1".into(),
        availability_zone: zone.into(),
        availability_zone_id: String::new(),
        cidr_block: cidr.into(),
        ipv6_cidr_blocks: vec![],
    }
}

pub(super) fn client(id: &str, addresses: &[&str]) -> ClientGroup {
    ClientGroup {
        id: id.into(),
        addresses: addresses.iter().map(|a| net(a)).collect(),
        assumed: false,
    }
}

pub(super) fn interface(
    id: &str,
    subnet: &str,
    group: &str,
    addresses: &[&str],
) -> InterfaceAddresses {
    InterfaceAddresses {
        id: id.into(),
        subnet_id: subnet.into(),
        group_ids: vec![group.into()],
        addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
    }
}

pub(super) fn lists(pairs: &[(&str, &[&str])]) -> PrefixLists {
    pairs
        .iter()
        .map(|(id, cidrs)| ((*id).to_owned(), cidrs.iter().map(|c| net(c)).collect()))
        .collect()
}
