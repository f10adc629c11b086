//! The pure logic of `planetscale_privatelink_security_group`'s rules:
//! from arguments to the exact set of ingress rules, from EC2's rules back to
//! arguments (so drift and imports show up as argument changes), and the
//! difference to authorize and revoke.
//!
//! Each rule's description records which argument it came from, so a VPC
//! CIDR rule from `allow_vpc_cidr` is never mistaken for an entry of
//! `allowed_cidr_blocks`, nor an IPv6 block of `allowed_ipv6_cidr_blocks`
//! for one that `allowed_cidr_blocks` holds. A prefix list source is a
//! [`Peer::Cidr`] holding its `pl-` id, as EC2 lists it among the ranges;
//! a security group of another account is a [`Peer::Group`] holding
//! `<account-id>/sg-...`.

use std::collections::{BTreeMap, BTreeSet};

use crate::aws::model::{IngressRule, Peer, Rule, is_prefix_list};

pub const FROM_GROUPS: &str = "PlanetScale PrivateLink (allowed_security_group_ids)";
pub const FROM_CIDRS: &str = "PlanetScale PrivateLink (allowed_cidr_blocks)";
pub const FROM_VPC: &str = "PlanetScale PrivateLink (allow_vpc_cidr)";
pub const FROM_IPV6: &str = "PlanetScale PrivateLink (allowed_ipv6_cidr_blocks)";
pub const FROM_PREFIX_LISTS: &str = "PlanetScale PrivateLink (allowed_prefix_list_ids)";

/// The argument a rule's source belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    Groups,
    Cidrs,
    Ipv6Cidrs,
    PrefixLists,
    Vpc,
}

/// Where a rule's source goes among the arguments: by its kind, and for
/// blocks by the description the rule was made with. An IPv6 block not made
/// from `allowed_cidr_blocks` (made by hand, or by another tool) reads as
/// an entry of `allowed_ipv6_cidr_blocks`.
fn origin(peer: &Peer, description: &str) -> Origin {
    match peer {
        Peer::Group(_) => Origin::Groups,
        Peer::Cidr(c) if is_prefix_list(c) => Origin::PrefixLists,
        Peer::Cidr(_) if description == FROM_VPC => Origin::Vpc,
        Peer::Cidr(c) if c.contains(':') && description != FROM_CIDRS => Origin::Ipv6Cidrs,
        Peer::Cidr(_) => Origin::Cidrs,
    }
}

/// What the rules say, in the resource's terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    pub ports: BTreeSet<u16>,
    /// `sg-...`, or `<account-id>/sg-...` for another account's group.
    pub groups: BTreeSet<String>,
    pub cidrs: BTreeSet<String>,
    pub ipv6_cidrs: BTreeSet<String>,
    /// `pl-...`.
    pub prefix_lists: BTreeSet<String>,
    pub allow_vpc_cidr: bool,
}

impl Access {
    /// The set of sources of one origin.
    fn sources_mut(&mut self, origin: Origin) -> Option<&mut BTreeSet<String>> {
        match origin {
            Origin::Groups => Some(&mut self.groups),
            Origin::Cidrs => Some(&mut self.cidrs),
            Origin::Ipv6Cidrs => Some(&mut self.ipv6_cidrs),
            Origin::PrefixLists => Some(&mut self.prefix_lists),
            Origin::Vpc => None,
        }
    }
}

/// The port markers a rule that is not "TCP, one port" reads back as: its
/// range ends, or 0 and 65535 for all traffic. They only exist to make
/// such a rule show up as a change to `ports`.
fn port_keys(rule: &Rule) -> Vec<u16> {
    let clamp = |p: i32| p.clamp(0, 65535) as u16;
    match rule.protocol.as_str() {
        "tcp" | "6" if rule.from_port == rule.to_port && rule.from_port > 0 => {
            vec![clamp(rule.from_port)]
        }
        "tcp" | "6" | "udp" | "17" if rule.from_port >= 0 => {
            vec![clamp(rule.from_port), clamp(rule.to_port)]
        }
        _ => vec![0, 65535],
    }
}

/// The ingress rules the arguments ask for: every port from every source.
pub fn desired(access: &Access, vpc_cidrs: &[String]) -> BTreeSet<IngressRule> {
    let mut peers: Vec<(Peer, &str)> = Vec::new();
    peers.extend(
        access
            .groups
            .iter()
            .map(|g| (Peer::Group(g.clone()), FROM_GROUPS)),
    );
    peers.extend(
        access
            .cidrs
            .iter()
            .map(|c| (Peer::Cidr(c.clone()), FROM_CIDRS)),
    );
    peers.extend(
        access
            .ipv6_cidrs
            .iter()
            .map(|c| (Peer::Cidr(c.clone()), FROM_IPV6)),
    );
    peers.extend(
        access
            .prefix_lists
            .iter()
            .map(|p| (Peer::Cidr(p.clone()), FROM_PREFIX_LISTS)),
    );
    if access.allow_vpc_cidr {
        peers.extend(vpc_cidrs.iter().map(|c| (Peer::Cidr(c.clone()), FROM_VPC)));
    }
    let mut rules = BTreeSet::new();
    for port in &access.ports {
        for (peer, description) in &peers {
            rules.insert(IngressRule {
                port: *port,
                peer: peer.clone(),
                description: (*description).to_owned(),
            });
        }
    }
    rules
}

/// What to change to get from `actual` to `wanted`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RuleChanges {
    pub authorize: Vec<IngressRule>,
    pub revoke_ingress: Vec<String>,
    pub revoke_egress: Vec<String>,
}

impl RuleChanges {
    pub fn is_empty(&self) -> bool {
        self.authorize.is_empty() && self.revoke_ingress.is_empty() && self.revoke_egress.is_empty()
    }
}

/// The group id of a group source, without the account that may prefix it:
/// group ids are unique, and EC2 names the account only when it is not the
/// group's own.
fn group_id(source: &str) -> &str {
    source.rsplit('/').next().unwrap_or(source)
}

fn same_peer(a: &Peer, b: &Peer) -> bool {
    match (a, b) {
        (Peer::Group(a), Peer::Group(b)) => group_id(a) == group_id(b),
        (a, b) => a == b,
    }
}

fn matches(rule: &Rule, wanted: &IngressRule) -> bool {
    !rule.egress
        && matches!(rule.protocol.as_str(), "tcp" | "6")
        && rule.from_port == i32::from(wanted.port)
        && rule.to_port == i32::from(wanted.port)
        && same_peer(&rule.peer, &wanted.peer)
        // Group and prefix list rules keep their description only
        // sometimes (EC2 and its emulators differ), and such a source has
        // one origin anyway.
        && (origin(&rule.peer, "") == Origin::Groups
            || origin(&rule.peer, "") == Origin::PrefixLists
            || rule.description == wanted.description)
}

/// The difference: wanted rules that are missing, and every other rule
/// (foreign ingress rules, and all egress rules) to revoke.
pub fn changes(actual: &[Rule], wanted: &BTreeSet<IngressRule>) -> RuleChanges {
    let mut out = RuleChanges::default();
    for rule in actual {
        if rule.egress {
            out.revoke_egress.push(rule.id.clone());
        } else if !wanted.iter().any(|w| matches(rule, w)) {
            out.revoke_ingress.push(rule.id.clone());
        }
    }
    out.authorize = wanted
        .iter()
        .filter(|w| !actual.iter().any(|r| matches(r, w)))
        .cloned()
        .collect();
    // A CIDR rule whose origin changed (say from allowed_cidr_blocks to
    // allow_vpc_cidr) must be revoked before it can be authorized again.
    out
}

/// Reads EC2's ingress rules back as arguments.
///
/// When the rules are exactly "every port from every source", that is the
/// answer. When they are not (a rule added or removed by hand), the answer
/// is made to differ from `prior` so Terraform shows a change and the next
/// apply restores the rules: first by listing every port and source found
/// (which shows additions), and if that still equals `prior` (rules
/// missing), by leaving out the sources that lack a port.
pub fn read_access(rules: &[Rule], prior: Option<&Access>) -> Access {
    let mut by_source: BTreeMap<(Peer, Origin), BTreeSet<u16>> = BTreeMap::new();
    for rule in rules.iter().filter(|r| !r.egress) {
        by_source
            .entry((rule.peer.clone(), origin(&rule.peer, &rule.description)))
            .or_default()
            .extend(port_keys(rule));
    }
    let ports: BTreeSet<u16> = by_source.values().flatten().copied().collect();
    let complete = by_source.values().all(|p| *p == ports);

    let build = |keep: &dyn Fn(&BTreeSet<u16>) -> bool| {
        let mut access = Access {
            ports: ports.clone(),
            ..Access::default()
        };
        for ((peer, origin), source_ports) in &by_source {
            if !keep(source_ports) {
                continue;
            }
            let (Peer::Group(source) | Peer::Cidr(source)) = peer;
            match access.sources_mut(*origin) {
                Some(sources) => {
                    sources.insert(source.clone());
                }
                None => access.allow_vpc_cidr = true,
            }
        }
        access
    };
    let everything = build(&|_| true);
    if complete || prior != Some(&everything) {
        return everything;
    }
    build(&|source_ports| *source_ports == ports)
}

/// A rule in words, for the plan: "ingress tcp 22 from 0.0.0.0/0 (by
/// hand)", "egress all traffic to 0.0.0.0/0".
pub fn describe(rule: &Rule) -> String {
    let (direction, preposition) = if rule.egress {
        ("egress", "to")
    } else {
        ("ingress", "from")
    };
    let what = match (rule.protocol.as_str(), rule.from_port, rule.to_port) {
        ("-1", _, _) => "all traffic".to_owned(),
        (p, from, to) => {
            let name = match p {
                "6" => "tcp",
                "17" => "udp",
                "1" => "icmp",
                other => other,
            };
            if from < 0 {
                name.to_owned()
            } else if from == to {
                format!("{name} {from}")
            } else {
                format!("{name} {from}-{to}")
            }
        }
    };
    let peer = match &rule.peer {
        Peer::Group(g) | Peer::Cidr(g) => g,
    };
    let note = if rule.description.is_empty() {
        String::new()
    } else {
        format!(" ({})", rule.description)
    };
    format!("{direction} {what} {preposition} {peer}{note}")
}

/// Reads EC2's rules against what the arguments in state ask for
/// (`prior`): the arguments as the rules still bear them out (a source
/// missing one of its ports drops out, so the plan adds it back), and every
/// other rule, egress included, in words. Those are rules added outside
/// Terraform, shown as what they are rather than as arguments the group
/// never had; the next apply revokes them.
pub fn read_against(rules: &[Rule], prior: &Access, vpc_cidrs: &[String]) -> (Access, Vec<String>) {
    let wanted = desired(prior, vpc_cidrs);
    let mut access = prior.clone();
    for w in &wanted {
        if rules.iter().any(|r| matches(r, w)) {
            continue;
        }
        let (Peer::Group(source) | Peer::Cidr(source)) = &w.peer;
        match access.sources_mut(origin(&w.peer, &w.description)) {
            Some(sources) => {
                sources.remove(source);
            }
            None => access.allow_vpc_cidr = false,
        }
    }
    let mut unmanaged: Vec<String> = rules
        .iter()
        .filter(|r| r.egress || !wanted.iter().any(|w| matches(r, w)))
        .map(describe)
        .collect();
    unmanaged.sort();
    unmanaged.dedup();
    (access, unmanaged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, port: i32, peer: Peer, description: &str) -> Rule {
        Rule {
            id: id.into(),
            egress: false,
            protocol: "tcp".into(),
            from_port: port,
            to_port: port,
            peer,
            description: description.into(),
        }
    }

    fn access(ports: &[u16], groups: &[&str], cidrs: &[&str], vpc: bool) -> Access {
        Access {
            ports: ports.iter().copied().collect(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            cidrs: cidrs.iter().map(|s| s.to_string()).collect(),
            allow_vpc_cidr: vpc,
            ..Access::default()
        }
    }

    /// Every kind of source at once: IPv6 blocks in both arguments, a
    /// prefix list, another account's group.
    fn every_kind() -> Access {
        Access {
            ipv6_cidrs: ["2001:db8:1::/64".to_owned()].into(),
            prefix_lists: ["pl-0123456789abcdef0".to_owned()].into(),
            ..access(
                &[5432, 6432],
                &["sg-a", "123456789012/sg-0123456789abcdef0"],
                &["10.1.0.0/16", "2001:db8:2::/64"],
                true,
            )
        }
    }

    #[test]
    fn every_kind_of_source_reads_back_into_its_own_argument() {
        let a = every_kind();
        let vpc = ["10.0.0.0/16".to_owned(), "2001:db8::/56".to_owned()];
        let rules = apply(&[], &desired(&a, &vpc));
        assert_eq!(rules.len(), 2 * 8);
        assert_eq!(read_access(&rules, Some(&a)), a);
        assert_eq!(read_access(&rules, None), a, "import");
        assert_eq!(read_against(&rules, &a, &vpc), (a.clone(), vec![]));
        // A missing prefix list or IPv6 rule drops that source alone.
        for gone in ["pl-0123456789abcdef0", "2001:db8:1::/64"] {
            let fewer: Vec<Rule> = rules
                .iter()
                .filter(|r| !(r.port_is(6432) && r.peer == Peer::Cidr(gone.into())))
                .cloned()
                .collect();
            let (read, _) = read_against(&fewer, &a, &vpc);
            assert!(
                !read.prefix_lists.contains(gone) && !read.ipv6_cidrs.contains(gone),
                "{gone}"
            );
            assert_eq!(read.cidrs, a.cidrs);
        }
    }

    #[test]
    fn a_group_named_with_its_account_matches_the_rule_ec2_shows_without() {
        let a = access(&[5432], &["123456789012/sg-0123456789abcdef0"], &[], false);
        let rules = [rule(
            "r1",
            5432,
            Peer::Group("sg-0123456789abcdef0".into()),
            "",
        )];
        assert!(changes(&rules, &desired(&a, &[])).is_empty());
        assert_eq!(read_against(&rules, &a, &[]), (a.clone(), vec![]));
    }

    #[test]
    fn an_ipv6_rule_made_by_hand_imports_as_an_ipv6_block() {
        let rules = [rule("r1", 5432, Peer::Cidr("2001:db8::/64".into()), "")];
        let read = read_access(&rules, None);
        assert_eq!(read.ipv6_cidrs, ["2001:db8::/64".to_owned()].into());
        assert!(read.cidrs.is_empty());
    }

    fn apply(actual: &[Rule], wanted: &BTreeSet<IngressRule>) -> Vec<Rule> {
        let c = changes(actual, wanted);
        let mut after: Vec<Rule> = actual
            .iter()
            .filter(|r| !c.revoke_ingress.contains(&r.id) && !c.revoke_egress.contains(&r.id))
            .cloned()
            .collect();
        for (i, w) in c.authorize.iter().enumerate() {
            after.push(rule(
                &format!("new-{i}"),
                i32::from(w.port),
                w.peer.clone(),
                &w.description,
            ));
        }
        after
    }

    #[test]
    fn desired_is_every_port_from_every_source() {
        let a = access(&[5432, 6432], &["sg-app"], &["10.1.0.0/16"], true);
        let rules = desired(&a, &["10.0.0.0/16".into()]);
        assert_eq!(rules.len(), 6);
        let vpc_rules: Vec<_> = rules.iter().filter(|r| r.description == FROM_VPC).collect();
        assert_eq!(vpc_rules.len(), 2);
    }

    #[test]
    fn changes_touch_only_the_difference() {
        let actual = vec![
            rule("r1", 5432, Peer::Group("sg-app".into()), ""),
            rule("r2", 6432, Peer::Group("sg-app".into()), ""),
            rule("r3", 22, Peer::Cidr("0.0.0.0/0".into()), "by hand"),
            Rule {
                egress: true,
                protocol: "-1".into(),
                from_port: -1,
                to_port: -1,
                ..rule("e1", 0, Peer::Cidr("0.0.0.0/0".into()), "")
            },
        ];
        let wanted = desired(&access(&[5432, 6432, 7000], &["sg-app"], &[], false), &[]);
        let c = changes(&actual, &wanted);
        assert_eq!(c.revoke_ingress, vec!["r3".to_string()]);
        assert_eq!(c.revoke_egress, vec!["e1".to_string()]);
        assert_eq!(c.authorize.len(), 1);
        assert_eq!(c.authorize[0].port, 7000);
    }

    #[test]
    fn origin_of_a_cidr_rule_is_respected() {
        // The same CIDR, once from allowed_cidr_blocks, now from allow_vpc_cidr.
        let actual = vec![rule(
            "r1",
            5432,
            Peer::Cidr("10.0.0.0/16".into()),
            FROM_CIDRS,
        )];
        let wanted = desired(&access(&[5432], &[], &[], true), &["10.0.0.0/16".into()]);
        let c = changes(&actual, &wanted);
        assert_eq!(c.revoke_ingress, vec!["r1".to_string()]);
        assert_eq!(c.authorize.len(), 1);
    }

    #[test]
    fn read_round_trips_complete_rules() {
        let cases = [
            access(&[5432, 6432], &["sg-a", "sg-b"], &[], false),
            access(&[5432], &[], &["10.1.0.0/16", "2001:db8::/56"], false),
            access(&[5432, 6432], &["sg-a"], &["10.1.0.0/16"], true),
        ];
        for a in cases {
            let rules = apply(&[], &desired(&a, &["10.0.0.0/16".into()]));
            assert_eq!(read_access(&rules, Some(&a)), a);
            assert_eq!(read_access(&rules, None), a, "import");
        }
    }

    #[test]
    fn vpc_rules_are_not_read_as_cidr_blocks() {
        let a = access(&[5432], &[], &[], true);
        let rules = apply(&[], &desired(&a, &["10.0.0.0/16".into()]));
        let read = read_access(&rules, None);
        assert!(read.allow_vpc_cidr);
        assert!(read.cidrs.is_empty());
    }

    #[test]
    fn a_rule_added_by_hand_shows_as_a_change() {
        let a = access(&[5432, 6432], &["sg-a"], &[], false);
        let mut rules = apply(&[], &desired(&a, &[]));
        rules.push(rule(
            "hand",
            5432,
            Peer::Cidr("0.0.0.0/0".into()),
            "by hand",
        ));
        assert_ne!(read_access(&rules, Some(&a)), a);
        rules.pop();
        rules.push(rule("hand", 22, Peer::Group("sg-a".into()), ""));
        assert_ne!(read_access(&rules, Some(&a)), a);
    }

    #[test]
    fn a_rule_removed_by_hand_shows_as_a_change() {
        let a = access(&[5432, 6432], &["sg-a", "sg-b"], &[], false);
        let mut rules = apply(&[], &desired(&a, &[]));
        rules.retain(|r| !(r.port_is(6432) && r.peer == Peer::Group("sg-b".into())));
        let read = read_access(&rules, Some(&a));
        assert_ne!(read, a);
        // And applying the configuration again restores exactly the product.
        let fixed = apply(&rules, &desired(&a, &[]));
        assert_eq!(read_access(&fixed, Some(&a)), a);
    }

    #[test]
    fn odd_rules_read_as_port_markers() {
        let mut all = rule("all", -1, Peer::Cidr("0.0.0.0/0".into()), "");
        all.protocol = "-1".into();
        let read = read_access(&[all], None);
        assert!(read.ports.contains(&0));
    }

    #[test]
    fn rules_added_by_hand_are_shown_as_themselves() {
        let a = access(&[5432, 6432], &["sg-a"], &[], false);
        let mut rules = apply(&[], &desired(&a, &[]));
        rules.push(rule("hand", 22, Peer::Cidr("0.0.0.0/0".into()), "ssh"));
        let mut all = rule("out", -1, Peer::Cidr("0.0.0.0/0".into()), "");
        all.protocol = "-1".into();
        all.egress = true;
        rules.push(all);
        let (read, unmanaged) = read_against(&rules, &a, &[]);
        assert_eq!(read, a, "the arguments are untouched");
        assert_eq!(
            unmanaged,
            vec![
                "egress all traffic to 0.0.0.0/0".to_owned(),
                "ingress tcp 22 from 0.0.0.0/0 (ssh)".to_owned()
            ]
        );
    }

    #[test]
    fn a_missing_rule_drops_its_source_and_a_complete_set_reads_back() {
        let a = access(&[5432, 6432], &["sg-a", "sg-b"], &["10.1.0.0/16"], true);
        let vpc = ["10.0.0.0/16".to_owned()];
        let rules = apply(&[], &desired(&a, &vpc));
        assert_eq!(read_against(&rules, &a, &vpc), (a.clone(), vec![]));
        for gone in [
            Peer::Group("sg-b".into()),
            Peer::Cidr("10.1.0.0/16".into()),
            Peer::Cidr("10.0.0.0/16".into()),
        ] {
            let fewer: Vec<Rule> = rules
                .iter()
                .filter(|r| !(r.port_is(6432) && r.peer == gone))
                .cloned()
                .collect();
            let (read, unmanaged) = read_against(&fewer, &a, &vpc);
            assert_ne!(read, a, "{gone:?}");
            assert!(unmanaged.is_empty());
            assert_eq!(read.ports, a.ports);
        }
    }

    trait PortIs {
        fn port_is(&self, port: i32) -> bool;
    }
    impl PortIs for Rule {
        fn port_is(&self, port: i32) -> bool {
            self.from_port == port
        }
    }
}
