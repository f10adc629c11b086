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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_sources::checks::fixtures::*;

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
}
