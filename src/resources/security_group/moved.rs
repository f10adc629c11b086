//! The move from hashicorp/aws: an `aws_security_group` named in a
//! `moved` block becomes this resource, its `ingress` blocks read back as
//! arguments.

use crate::aws::model::{Peer, Rule};
use crate::framework::diag::Diagnostics;
use crate::framework::value::Value;
use crate::privatelink::Engine;
use crate::resources::moves::SourceState;
use crate::resources::sg_rules;

use super::{AWS_DEFAULT_NAME_PREFIX, Model, TYPE_NAME, null_if_empty};

/// This resource's state from an `aws_security_group`'s (hashicorp/aws 5.x,
/// schema version 1; the names read are that resource's). Its `ingress`
/// blocks become rules read back as arguments the way a refresh reads
/// EC2's rules.
///
/// The state is what this resource would have applied: the sources that
/// have every port. The refresh after the move then reads every rule, so
/// the plan shows each one `ports` × sources does not cover (port ranges,
/// other protocols, sources lacking a port) as a change that removes it.
pub(super) fn from_aws_security_group(s: &SourceState, diags: &mut Diagnostics) -> Option<Value> {
    let id = s.ec2_id("sg", "security group", diags)?;
    let mut rules = Vec::new();
    for (i, b) in s.blocks("ingress").iter().enumerate() {
        let port = |name| {
            b.int(name)
                .and_then(|p| i32::try_from(p).ok())
                .unwrap_or(-1)
        };
        let mut peers: Vec<Peer> = b
            .strings("security_groups")
            .into_iter()
            .map(Peer::Group)
            .collect();
        if b.bool("self") {
            peers.push(Peer::Group(id.to_owned()));
        }
        // Prefix lists are ranges to EC2; their ids tell them apart.
        for name in ["cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"] {
            peers.extend(b.strings(name).into_iter().map(Peer::Cidr));
        }
        rules.extend(peers.into_iter().enumerate().map(|(j, peer)| Rule {
            id: format!("ingress-{i}-{j}"),
            egress: false,
            protocol: b.str("protocol").to_owned(),
            from_port: port("from_port"),
            to_port: port("to_port"),
            peer,
            description: b.str("description").to_owned(),
        }));
    }
    let found = sg_rules::read_access(&rules, None);
    let access = sg_rules::read_access(&rules, Some(&found));
    if !s.blocks("egress").is_empty() {
        diags.warning(
            "Egress rules to be revoked",
            format!(
                "{id} has egress rules. {TYPE_NAME} keeps none (security groups are stateful; an \
                 endpoint needs no egress): it revokes them the next time it updates the group."
            ),
        );
    }
    let name_prefix = s
        .non_empty_string("name_prefix")
        .filter(|p| p != AWS_DEFAULT_NAME_PREFIX);
    let (tags, tags_all) = s.tags();
    let moved = Model {
        id: id.to_owned(),
        arn: s.string("arn").unwrap_or_default(),
        owner_id: s.string("owner_id").unwrap_or_default(),
        vpc_id: s.string("vpc_id").unwrap_or_default(),
        name: s.string("name"),
        name_prefix,
        engine: Engine::of_ports(&access.ports).name().to_owned(),
        description: s.string("description").unwrap_or_default(),
        ports: access.ports,
        allowed_security_group_ids: null_if_empty(access.groups, true),
        allowed_cidr_blocks: null_if_empty(access.cidrs, true),
        allowed_ipv6_cidr_blocks: null_if_empty(access.ipv6_cidrs, true),
        allowed_prefix_list_ids: null_if_empty(access.prefix_lists, true),
        allow_vpc_cidr: access.allow_vpc_cidr,
        unmanaged_rules: Vec::new(),
        tags,
        tags_all,
        timeouts: Value::Null,
    };
    Some(moved.to_value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::model::Tags;
    use crate::framework::model::{Attrs, string_set};
    use crate::framework::server::Resource;
    use crate::resources::moves::{
        self,
        testing::{assert_fits, edited, source},
    };
    use crate::resources::security_group::{SecurityGroupResource, attr};
    use crate::validate::ports_value;
    use serde_json::json;

    /// Captured from hashicorp/aws 5.100.0 against the EC2 emulator
    /// (`resources[].instances[].attributes` of terraform.tfstate): a group
    /// with a fixed name letting 5432 and 6432 in from another group; one
    /// named by `name_prefix` without rules; and one without either name,
    /// with CIDR, IPv6 and `self` sources, a port range and an egress rule.
    const FROM_GROUP: &str = include_str!("../testdata/aws_security_group_ingress_from_group.json");
    const NAME_PREFIX: &str = include_str!("../testdata/aws_security_group_name_prefix.json");
    const MIXED: &str = include_str!("../testdata/aws_security_group_mixed_rules.json");

    fn moved(json: &str) -> (Value, Diagnostics) {
        let mut diags = Diagnostics::new();
        let state = from_aws_security_group(&source("aws_security_group", json), &mut diags)
            .expect("a group moves in");
        assert_fits(&state, &SecurityGroupResource.schema());
        (state, diags)
    }

    #[test]
    fn a_group_letting_postgres_in_from_the_application_moves_in() {
        let (state, diags) = moved(FROM_GROUP);
        assert!(diags.is_empty(), "{diags:?}");
        let a = Attrs::of(&state);
        assert_eq!(a.str(attr::id), Some("sg-8eaa593fc105c9afe"));
        assert_eq!(
            a.str(attr::arn),
            Some("arn:aws:ec2:us-east-1:123456789012:security-group/sg-8eaa593fc105c9afe")
        );
        assert_eq!(a.str(attr::owner_id), Some("123456789012"));
        assert_eq!(a.str(attr::vpc_id), Some("vpc-4bf39cdbc4a0f3887"));
        assert_eq!(a.str(attr::name), Some("db-endpoint"));
        assert!(
            a.is_null(attr::name_prefix),
            "hashicorp/aws writes \"\" for none"
        );
        assert_eq!(a.str(attr::description), Some("PlanetScale endpoint"));
        assert_eq!(a.get(attr::ports), &ports_value([5432, 6432]));
        assert_eq!(
            a.get(attr::allowed_security_group_ids),
            &string_set(["sg-89ce23f2369a03f70"])
        );
        assert!(a.is_null(attr::allowed_cidr_blocks));
        assert_eq!(a.bool(attr::allow_vpc_cidr), Some(false));
        let name_tag = Tags::from([("Name".to_owned(), "db".to_owned())]);
        assert_eq!(a.string_map(attr::tags), Some(name_tag.clone()));
        assert_eq!(a.string_map(attr::tags_all), Some(name_tag));
        assert!(a.is_null(attr::timeouts));
    }

    #[test]
    fn a_chosen_name_prefix_is_kept_and_the_aws_default_is_not() {
        let (state, _) = moved(NAME_PREFIX);
        assert_eq!(Attrs::of(&state).str(attr::name_prefix), Some("app-"));
        assert!(Attrs::of(&state).is_null(attr::tags));
        let (state, _) = moved(MIXED);
        let a = Attrs::of(&state);
        assert_eq!(
            a.str(attr::name),
            Some("terraform-20261123215855846100000002")
        );
        assert!(
            a.is_null(attr::name_prefix),
            "neither name nor name_prefix was set"
        );
    }

    #[test]
    fn cidr_ipv6_and_self_sources_become_arguments() {
        let ingress = json!([{
            "cidr_blocks": ["192.0.2.0/24"],
            "description": "from the office",
            "from_port": 5432,
            "ipv6_cidr_blocks": ["2001:db8::/56"],
            "prefix_list_ids": [],
            "protocol": "tcp",
            "security_groups": ["sg-0123456789abcdef0"],
            "self": true,
            "to_port": 5432
        }]);
        let (state, diags) = moved(&edited(FROM_GROUP, &[("ingress", ingress)]));
        assert!(diags.is_empty(), "{diags:?}");
        let a = Attrs::of(&state);
        assert_eq!(a.get(attr::ports), &ports_value([5432]));
        assert_eq!(
            a.get(attr::allowed_security_group_ids),
            &string_set(["sg-0123456789abcdef0", "sg-8eaa593fc105c9afe"])
        );
        assert_eq!(
            a.get(attr::allowed_cidr_blocks),
            &string_set(["192.0.2.0/24"])
        );
        assert_eq!(
            a.get(attr::allowed_ipv6_cidr_blocks),
            &string_set(["2001:db8::/56"])
        );
    }

    #[test]
    fn rules_beyond_ports_times_sources_are_left_for_the_plan_to_remove() {
        // 5432 from two CIDR blocks and the group itself, 8000-8100 from the
        // VPC, all traffic out: no source has every port, so none is an
        // argument yet; the refresh after the move reads them all, and the
        // plan shows what the configuration does not ask for.
        let (state, diags) = moved(MIXED);
        let a = Attrs::of(&state);
        assert_eq!(a.get(attr::ports), &ports_value([5432, 8000, 8100]));
        assert!(a.is_null(attr::allowed_security_group_ids));
        assert!(a.is_null(attr::allowed_cidr_blocks));
        let text = format!("{diags:?}");
        assert!(!diags.has_errors(), "{text}");
        assert!(text.contains("egress rules"), "{text}");
    }

    #[test]
    fn a_state_without_a_group_id_is_refused() {
        let mut diags = Diagnostics::new();
        let json = edited(FROM_GROUP, &[("id", json!(null))]);
        let state = from_aws_security_group(&source("aws_security_group", &json), &mut diags);
        assert!(state.is_none());
        assert!(diags.has_errors());
    }

    #[tokio::test]
    async fn only_aws_security_group_of_hashicorp_aws_moves_in() {
        let moves = [
            (moves::AWS_PROVIDER, "aws_security_group", true),
            (moves::AWS_PROVIDER, "aws_default_security_group", false),
            (
                "registry.terraform.io/example/aws",
                "aws_security_group",
                false,
            ),
        ];
        for (provider, type_name, accepted) in moves {
            let mut diags = Diagnostics::new();
            let state = SecurityGroupResource
                .move_state(provider, type_name, FROM_GROUP.as_bytes(), &mut diags)
                .await;
            assert_eq!(state.is_some(), accepted, "{provider} {type_name}");
            assert!(diags.is_empty(), "{diags:?}");
        }
    }
}
