//! Network ACLs evaluated as EC2 does (rules in order, the first match
//! decides, stateless both ways): towards the endpoint's subnets and from the
//! clients' subnets, with the ephemeral return range.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::*;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_sources::checks::fixtures::*;

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
}
