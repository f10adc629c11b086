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
