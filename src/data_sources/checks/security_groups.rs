//! The security group checks: the endpoint's groups let the clients in on
//! the ports, and the clients' groups let them out.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::*;

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
