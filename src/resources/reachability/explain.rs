//! Reachability Analyzer's explanations as sentences. An analysis that
//! finds no path answers explanation codes (`ENI_SG_RULES_MISMATCH`,
//! `SUBNET_ACL_RESTRICTION`, `NO_ROUTE_TO_DESTINATION`...) with the parts of
//! the path each names; this turns each into one sentence that says what
//! stops the traffic and what to change, in the words of the PlanetScale
//! guide's troubleshooting list. Codes not known here still get a sentence
//! built from what the explanation names.
//!
//! Pure: unit-tested from the documented explanation codes.

use crate::aws::model::{Component, ExplainedRoute, ExplainedRule, Explanation};

/// Kinds of component by id prefix, longest prefix first.
const KINDS: &[(&str, &str)] = &[
    ("tgw-attach-", "transit gateway attachment"),
    ("tgw-rtb-", "transit gateway route table"),
    ("vpce-svc-", "VPC endpoint service"),
    ("subnet-", "subnet"),
    ("vpce-", "VPC endpoint"),
    ("acl-", "network ACL"),
    ("rtb-", "route table"),
    ("eni-", "network interface"),
    ("igw-", "internet gateway"),
    ("eigw-", "egress-only internet gateway"),
    ("vgw-", "VPN gateway"),
    ("tgw-", "transit gateway"),
    ("pcx-", "VPC peering connection"),
    ("nat-", "NAT gateway"),
    ("vpn-", "VPN connection"),
    ("vpc-", "VPC"),
    ("sg-", "security group"),
    ("pl-", "prefix list"),
    ("i-", "instance"),
];

/// A component's kind, from its id (or the resource type of its ARN).
pub fn kind_of(id: &str) -> &'static str {
    let id = id.rsplit('/').next().unwrap_or(id);
    KINDS
        .iter()
        .find(|(prefix, _)| id.starts_with(prefix))
        .map_or("component", |(_, kind)| kind)
}

/// The explanation's main component, as `(id, kind)`: the one it is about,
/// or else the most specific part it names.
pub fn component(e: &Explanation) -> (String, String) {
    let named = e
        .component
        .as_ref()
        .or(e.acl.as_ref())
        .or(e.security_groups.first());
    let named = named
        .or(e.security_group.as_ref())
        .or(e.route_table.as_ref())
        .or(e.network_interface.as_ref())
        .or(e.vpc_endpoint.as_ref())
        .or(e.subnet.as_ref())
        .or(e.vpc.as_ref());
    match named {
        Some(c) => (c.id.clone(), kind_of(&c.id).to_owned()),
        None => (String::new(), String::new()),
    }
}

/// `sg-1 (app-db)`: an id, and its name when it has one.
fn named(c: &Component) -> String {
    match c.name.as_deref().filter(|n| !n.is_empty() && *n != c.id) {
        Some(name) => format!("{} ({name})", c.id),
        None => c.id.clone(),
    }
}

fn list(components: &[Component]) -> String {
    components.iter().map(named).collect::<Vec<_>>().join(", ")
}

/// The explanation's direction, `inbound` or `outbound`, when it says.
fn direction(e: &Explanation) -> Option<&'static str> {
    match e.direction.as_deref()? {
        "ingress" => Some("inbound"),
        "egress" => Some("outbound"),
        _ => None,
    }
}

/// The ports and protocols an explanation speaks of (`TCP port 5432`); the
/// path's port when it names none.
fn traffic(e: &Explanation, port: u16) -> String {
    let protocol = e
        .protocols
        .first()
        .map_or("TCP".to_owned(), |p| protocol_name(p));
    let ports = match (e.port_ranges.first(), e.port) {
        (Some((from, to)), _) if from == to => format!(" port {from}"),
        (Some((from, to)), _) => format!(" ports {from}-{to}"),
        (None, Some(port)) => format!(" port {port}"),
        (None, None) => format!(" port {port}"),
    };
    format!("{protocol}{ports}")
}

fn protocol_name(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "6" | "tcp" => "TCP".into(),
        "17" | "udp" => "UDP".into(),
        "-1" | "all" => "all traffic".into(),
        other => other.to_uppercase(),
    }
}

fn rule(r: &ExplainedRule) -> String {
    let mut parts = Vec::new();
    if let Some(n) = r.number {
        parts.push(format!("rule {n}"));
    }
    if let Some(action) = &r.action {
        parts.push(action.clone());
    }
    if let Some(p) = &r.protocol {
        parts.push(protocol_name(p));
    }
    match r.ports {
        Some((from, to)) if from == to => parts.push(format!("port {from}")),
        Some((from, to)) => parts.push(format!("ports {from}-{to}")),
        None => {}
    }
    if let Some(peer) = r.cidr.as_ref().or(r.prefix_list_id.as_ref()) {
        let way = if r.direction.as_deref() == Some("egress") {
            "to"
        } else {
            "from"
        };
        parts.push(format!("{way} {peer}"));
    }
    parts.join(" ")
}

fn route(r: &ExplainedRoute) -> String {
    let destination = r.destination.as_deref().unwrap_or("?");
    match &r.target {
        Some(target) => format!("{destination} via {target}"),
        None => destination.to_owned(),
    }
}

/// What the documented explanation codes this file has no sentence of its
/// own for mean, in plain words, with what to look at; from the
/// Reachability Analyzer guide's page of explanation codes.
const MEANINGS: &[(&str, &str)] = &[
    (
        "BAD_STATE_ATTACHMENT",
        "its attachment is not in a working state",
    ),
    (
        "BAD_STATE_VPN",
        "the VPN connection is not in a working state",
    ),
    (
        "DISCONNECTED_VPCS",
        "the source's VPC and the endpoint's are not connected by peering or a transit gateway",
    ),
    (
        "ENI_ADDRESS_RESTRICTION",
        "a network interface passes only traffic from or to its own private addresses",
    ),
    (
        "ENI_SOURCE_DEST_CHECK_RESTRICTION",
        "source/destination checking is on, so traffic not addressed from or to the interface is dropped",
    ),
    (
        "FIREWALL_RULES_RESTRICTION",
        "an AWS Network Firewall rule blocks the traffic",
    ),
    (
        "GATEWAY_REJECTS_SPOOFED_TRAFFIC",
        "a gateway rejects traffic with spoofed addresses",
    ),
    (
        "HIGHER_PRIORITY_ROUTE",
        "a route of higher priority for the same destination sends the traffic elsewhere",
    ),
    (
        "NO_PATH",
        "no path exists: a component is isolated, or the path needs something Reachability Analyzer does not support",
    ),
    (
        "NO_POSSIBLE_DESTINATION",
        "the traffic cannot be delivered anywhere, or the destination is in another account or region",
    ),
    (
        "NO_SOURCE_OR_DESTINATION",
        "the source or the destination does not exist",
    ),
    (
        "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR",
        "a VPC peering connection carries only traffic to addresses inside the peer VPC's CIDR blocks",
    ),
    (
        "PROTOCOL_RESTRICTION",
        "this component accepts other protocols only",
    ),
    (
        "SG_HAS_NO_RULES",
        "the security group has no rules in this direction",
    ),
    (
        "SG_REFERENCES_NOT_PRESERVED",
        "the traffic loses its security group identity on the way, so rules that name a security group do not match it: allow the source's CIDR blocks instead",
    ),
    (
        "SG_REFERENCING_SUPPORT",
        "the transit gateway attachment does not support security group referencing: allow the source's CIDR blocks instead",
    ),
    (
        "TGW_ATTACH_MISSING_TGW_RTB_ASSOCIATION",
        "the transit gateway attachment is associated with no transit gateway route table",
    ),
    (
        "TGW_RTB_CANNOT_ROUTE",
        "no route of the transit gateway route table matches the endpoint's addresses",
    ),
    (
        "TGW_RTB_NO_ROUTE_TO_TGW_ATTACHMENT",
        "the transit gateway route table has no route to the endpoint VPC's attachment",
    ),
    (
        "TGW_ROUTE_AZ_RESTRICTION",
        "the transit gateway has no subnet in the source's availability zone",
    ),
    (
        "UNASSOCIATED_COMPONENT",
        "the component is associated with no VPC of this account (a terminated instance, say)",
    ),
    (
        "UNKNOWN_PEERED_SGS",
        "the peer VPC's security groups cannot be read (another account's), so rules naming them count as denying",
    ),
    (
        "UNSUPPORTED_COMPONENT",
        "Reachability Analyzer does not support this component",
    ),
    (
        "VPC_LOCAL_ROUTE_CIDR_RESTRICTION",
        "the VPC's local route covers only addresses inside its CIDR blocks",
    ),
    (
        "VPCE_INTRA_VPC_TRAFFIC",
        "an endpoint cannot start connections into its own VPC: analyse from the application to the endpoint, not the reverse",
    ),
    (
        "VPCE_SERVICE_NOT_INSTALLED_IN_AZ",
        "the endpoint service is not available in that availability zone: use subnets in the zones the service supports",
    ),
];

/// The sentence for one explanation of an analysis of a path to `port`:
/// what stops the traffic and what to change.
pub fn sentence(e: &Explanation, port: u16) -> String {
    let (id, kind) = component(e);
    let subject = match e.component.as_ref().or(e.acl.as_ref()) {
        Some(c) => format!("{kind} {}", named(c)),
        None if !id.is_empty() => format!("{kind} {id}"),
        None => "A component of the path".to_owned(),
    };
    let traffic = traffic(e, port);
    let way = direction(e);
    match e.code.as_str() {
        "ENI_SG_RULES_MISMATCH" => {
            let groups = if !e.security_groups.is_empty() {
                list(&e.security_groups)
            } else if let Some(g) = &e.security_group {
                named(g)
            } else if let Some(rule) = &e.security_group_rule {
                rule.group_id.clone().unwrap_or_default()
            } else {
                String::new()
            };
            let at = e
                .network_interface
                .as_ref()
                .or(e.component.as_ref())
                .map(|c| format!(" of {}", named(c)))
                .unwrap_or_default();
            let way = way.unwrap_or("the");
            let fix = if way == "outbound" {
                "Add an outbound rule for the port to the endpoint's security group or addresses (the \
                 planetscale_privatelink_security_group resource's client rules, or the application's group)."
            } else {
                "Add an inbound rule for the port from the application's security group or addresses (the \
                 planetscale_privatelink_security_group resource does this)."
            };
            format!(
                "The security groups{at} ({groups}) have no {way} rule that allows {traffic} for this \
                 connection. {fix}"
            )
        }
        "SUBNET_ACL_RESTRICTION" => {
            let acl = e
                .acl
                .as_ref()
                .or(e.component.as_ref())
                .map(named)
                .unwrap_or_default();
            let subnet = e
                .subnet
                .as_ref()
                .map(|s| format!(" of subnet {}", named(s)))
                .unwrap_or_default();
            let entry = e
                .acl_rule
                .as_ref()
                .map(|r| format!(": its entry {} decides", rule(r)))
                .unwrap_or_default();
            let way = way.unwrap_or("the");
            format!(
                "Network ACL {acl}{subnet} blocks {way} {traffic}{entry}. Network ACLs are stateless: allow the \
                 port from the application's subnets inbound on the endpoint's subnets, and 1024-65535 for the \
                 return traffic (outbound there, inbound on the application's subnets), with a lower rule number \
                 than any deny."
            )
        }
        "NO_ROUTE_TO_DESTINATION" | "CANNOT_ROUTE" => {
            // The component, when it is the table, carries its name.
            let table = e
                .component
                .as_ref()
                .filter(|c| kind_of(&c.id) == "route table")
                .or(e.route_table.as_ref())
                .map(|t| format!("Route table {}", named(t)))
                .unwrap_or_else(|| "The route table on the way".to_owned());
            let to = e
                .cidrs
                .first()
                .or(e.address.as_ref())
                .map(|c| format!(" for {c}"))
                .unwrap_or_default();
            format!(
                "{table} has no route{to} toward the endpoint. Within one VPC the local route covers it; from \
                 another VPC or network, add a route to the endpoint's VPC through the peering connection, \
                 transit gateway or VPN, or run the application in the endpoint's VPC."
            )
        }
        "BAD_STATE_ROUTE" => {
            let which = e.route.as_ref().map(route).unwrap_or_default();
            let table = e.route_table.as_ref().map(named).unwrap_or_default();
            format!(
                "The route {which} in route table {table} does not work (its target is gone or not available). \
                 Point it at a working gateway, peering connection or transit gateway attachment."
            )
        }
        "MORE_SPECIFIC_ROUTE" => {
            let which = e.route.as_ref().map(route).unwrap_or_default();
            format!(
                "A more specific route ({which}) sends the traffic elsewhere before it reaches the endpoint. \
                 Remove it or narrow it so the endpoint's addresses follow the VPC's local route."
            )
        }
        "BAD_STATE" => {
            let state = e.state.as_deref().unwrap_or("not ready");
            format!(
                "{subject} is {state}, so it does not pass traffic. Wait until it is available (an endpoint \
                 pending acceptance needs PlanetScale to accept it), or start it."
            )
        }
        other => match MEANINGS.iter().find(|(code, _)| *code == other) {
            Some((_, meaning)) => format!("{subject}: {meaning} (AWS's explanation code {other})."),
            None => {
                let mut found = Vec::new();
                if !e.security_groups.is_empty() {
                    found.push(format!("security groups {}", list(&e.security_groups)));
                }
                if let Some(acl) = &e.acl {
                    found.push(format!("network ACL {}", named(acl)));
                }
                if let Some(t) = &e.route_table {
                    found.push(format!("route table {}", named(t)));
                }
                if let Some(m) = &e.missing_component {
                    found.push(format!("a missing {m}"));
                }
                let about = if found.is_empty() {
                    String::new()
                } else {
                    format!(" It names {}.", found.join(", "))
                };
                format!(
                    "{subject} stops the traffic (AWS's explanation code {other}).{about} The Reachability \
                     Analyzer explanation codes page of the AWS documentation says what it means."
                )
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str) -> Component {
        Component {
            id: id.into(),
            name: None,
        }
    }

    /// One explanation of each code this file has a sentence for, shaped as
    /// EC2 reports them, and a phrase its sentence must hold.
    #[test]
    fn every_known_code_becomes_a_sentence_that_names_the_culprit() {
        let group_rules = Explanation {
            code: "ENI_SG_RULES_MISMATCH".into(),
            direction: Some("ingress".into()),
            component: Some(c("eni-0123456789abcdef0")),
            network_interface: Some(c("eni-0123456789abcdef0")),
            security_groups: vec![Component {
                id: "sg-0123456789abcdef0".into(),
                name: Some("db-endpoint".into()),
            }],
            protocols: vec!["tcp".into()],
            port_ranges: vec![(5432, 5432)],
            ..Explanation::default()
        };
        let acl = Explanation {
            code: "SUBNET_ACL_RESTRICTION".into(),
            direction: Some("egress".into()),
            acl: Some(c("acl-0123456789abcdef0")),
            subnet: Some(c("subnet-0123456789abcdef0")),
            acl_rule: Some(ExplainedRule {
                direction: Some("egress".into()),
                cidr: Some("0.0.0.0/0".into()),
                protocol: Some("-1".into()),
                action: Some("deny".into()),
                number: Some(32767),
                ..ExplainedRule::default()
            }),
            ..Explanation::default()
        };
        let no_route = Explanation {
            code: "NO_ROUTE_TO_DESTINATION".into(),
            route_table: Some(c("rtb-0123456789abcdef0")),
            cidrs: vec!["10.1.0.0/16".into()],
            ..Explanation::default()
        };
        let blackhole = Explanation {
            code: "BAD_STATE_ROUTE".into(),
            route_table: Some(c("rtb-0123456789abcdef0")),
            route: Some(ExplainedRoute {
                destination: Some("10.2.0.0/16".into()),
                target: Some("pcx-0123456789abcdef0".into()),
                state: Some("blackhole".into()),
            }),
            ..Explanation::default()
        };
        let pending = Explanation {
            code: "BAD_STATE".into(),
            component: Some(c("vpce-0123456789abcdef0")),
            state: Some("pendingAcceptance".into()),
            ..Explanation::default()
        };
        let peering = Explanation {
            code: "PCX_REQUIRES_ADDRESS_IN_VPC_CIDR".into(),
            component: Some(c("pcx-0123456789abcdef0")),
            ..Explanation::default()
        };
        let cases: [(&Explanation, &[&str]); 6] = [
            (
                &group_rules,
                &[
                    "The security groups of eni-0123456789abcdef0 (sg-0123456789abcdef0 (db-endpoint))",
                    "no inbound rule that allows TCP port 5432",
                    "Add an inbound rule",
                ],
            ),
            (
                &acl,
                &[
                    "Network ACL acl-0123456789abcdef0 of subnet subnet-0123456789abcdef0 blocks outbound TCP port 5432",
                    "rule 32767 deny all traffic to 0.0.0.0/0",
                    "1024-65535",
                ],
            ),
            (
                &no_route,
                &["Route table rtb-0123456789abcdef0 has no route for 10.1.0.0/16"],
            ),
            (
                &blackhole,
                &[
                    "The route 10.2.0.0/16 via pcx-0123456789abcdef0 in route table rtb-0123456789abcdef0 does not work",
                ],
            ),
            (
                &pending,
                &["VPC endpoint vpce-0123456789abcdef0 is pendingAcceptance"],
            ),
            (
                &peering,
                &[
                    "VPC peering connection pcx-0123456789abcdef0: a VPC peering connection carries only traffic to addresses inside the peer VPC's CIDR blocks (AWS's explanation code PCX_REQUIRES_ADDRESS_IN_VPC_CIDR)",
                ],
            ),
        ];
        for (e, phrases) in cases {
            let text = sentence(e, 5432);
            for phrase in phrases {
                assert!(
                    text.contains(phrase),
                    "{}: {phrase:?} not in {text:?}",
                    e.code
                );
            }
        }
    }

    /// Every code of the guide's "path is not reachable" and configuration
    /// lists that an analysis to an endpoint can meet has a sentence of its
    /// own, not the fallback.
    #[test]
    fn documented_codes_have_their_own_sentence() {
        let own = [
            "ENI_SG_RULES_MISMATCH",
            "SUBNET_ACL_RESTRICTION",
            "NO_ROUTE_TO_DESTINATION",
            "CANNOT_ROUTE",
            "BAD_STATE_ROUTE",
            "MORE_SPECIFIC_ROUTE",
            "BAD_STATE",
        ];
        for code in own.iter().chain(MEANINGS.iter().map(|(code, _)| code)) {
            let e = Explanation {
                code: (*code).into(),
                component: Some(c("eni-0123456789abcdef0")),
                ..Explanation::default()
            };
            let text = sentence(&e, 5432);
            assert!(!text.contains("says what it means"), "{code}: {text}");
            assert!(text.ends_with('.'), "{code}: {text}");
        }
        let mut codes: Vec<&str> = MEANINGS.iter().map(|(code, _)| *code).collect();
        let n = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), n, "a code twice in MEANINGS");
    }

    #[test]
    fn a_group_rule_alone_still_names_its_group() {
        let e = Explanation {
            code: "ENI_SG_RULES_MISMATCH".into(),
            direction: Some("egress".into()),
            network_interface: Some(c("eni-0123456789abcdef0")),
            security_group_rule: Some(ExplainedRule {
                group_id: Some("sg-0fedcba9876543210".into()),
                ..ExplainedRule::default()
            }),
            ..Explanation::default()
        };
        let text = sentence(&e, 6432);
        assert!(
            text.contains("(sg-0fedcba9876543210) have no outbound rule that allows TCP port 6432"),
            "{text}"
        );
    }

    #[test]
    fn an_unknown_code_still_names_its_component_and_code() {
        let e = Explanation {
            code: "SOMETHING_NEW".into(),
            component: Some(c("tgw-attach-0123456789abcdef0")),
            acl: None,
            ..Explanation::default()
        };
        let text = sentence(&e, 6432);
        assert!(
            text.starts_with(
                "transit gateway attachment tgw-attach-0123456789abcdef0 stops the traffic"
            ),
            "{text}"
        );
        assert!(text.contains("SOMETHING_NEW"), "{text}");
        assert_eq!(
            component(&e),
            (
                "tgw-attach-0123456789abcdef0".into(),
                "transit gateway attachment".into()
            )
        );
    }

    #[test]
    fn kinds_come_from_ids_and_arns() {
        assert_eq!(kind_of("eni-0123"), "network interface");
        assert_eq!(kind_of("vpce-svc-0123"), "VPC endpoint service");
        assert_eq!(kind_of("vpce-0123"), "VPC endpoint");
        assert_eq!(kind_of("tgw-rtb-0123"), "transit gateway route table");
        assert_eq!(
            kind_of("arn:aws:ec2:us-east-1:123456789012:network-acl/acl-0123"),
            "network ACL"
        );
        assert_eq!(kind_of("lb-xyz"), "component");
    }
}
