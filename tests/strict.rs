//! The strict EC2 layer (tests/support/strict.rs) against a real emulator,
//! driven through aws-sdk-ec2: for every rule, the request EC2 refuses is
//! refused by the layer with EC2's code and message, and the request EC2
//! takes passes. Each test works in a VPC of its own.

use crate::support;

use std::cell::Cell;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType, Tag, TagSpecification,
    UserIdGroupPair, VpcEndpointType,
};
use support::Emulator;
use support::emulator::{Network, create_group, create_network, ec2_client, live_endpoints};
use support::strict::{Refusal, Strict};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// A strict layer of the test's own in front of the shared emulator, and a
/// client for it.
struct Layer {
    strict: Strict,
    ec2: aws_sdk_ec2::Client,
    seen: Cell<usize>,
}

fn layer() -> Layer {
    let strict = Strict::start(&Emulator::shared().raw_url);
    let ec2 = ec2_client(&strict.url);
    Layer {
        strict,
        ec2,
        seen: Cell::new(0),
    }
}

impl Layer {
    /// Asserts that `result` is EC2's refusal `code` with `message`, and that
    /// the layer answered it (its latest refusal, new since the last check).
    #[track_caller]
    fn refused<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
        &self,
        result: Result<T, E>,
        action: &str,
        code: &str,
        message: &str,
    ) {
        let err = result.expect_err(&format!("{action} should be refused with {code}"));
        assert_eq!(err.code(), Some(code), "{err:?}");
        assert_eq!(err.message(), Some(message), "{err:?}");
        let refusals = self.strict.refusals();
        assert!(
            refusals.len() > self.seen.get(),
            "the emulator, not the strict layer, refused {action}"
        );
        assert_eq!(
            refusals.last(),
            Some(&Refusal {
                action: action.to_owned(),
                code: code.to_owned(),
                message: message.to_owned(),
            }),
            "the emulator, not the strict layer, refused {action}"
        );
        self.seen.set(refusals.len());
    }
}

fn tags(n: usize, prefix: &str) -> TagSpecification {
    let mut spec = TagSpecification::builder().resource_type(ResourceType::SecurityGroup);
    for i in 0..n {
        spec = spec.tags(
            Tag::builder()
                .key(format!("{prefix}{i}"))
                .value("v")
                .build(),
        );
    }
    spec.build()
}

/// Groups of the VPC besides its default one.
async fn groups_in(ec2: &aws_sdk_ec2::Client, vpc_id: &str) -> Vec<String> {
    ec2.describe_security_groups()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .unwrap()
        .security_groups()
        .iter()
        .filter(|g| g.group_name() != Some("default"))
        .map(|g| g.group_id().unwrap().to_owned())
        .collect()
}

async fn endpoint(
    ec2: &aws_sdk_ec2::Client,
    net: &Network,
    service: &str,
    subnets: &[&str],
    group: &str,
    private_dns: Option<bool>,
) -> Result<
    String,
    aws_sdk_ec2::error::SdkError<
        aws_sdk_ec2::operation::create_vpc_endpoint::CreateVpcEndpointError,
    >,
> {
    let mut req = ec2
        .create_vpc_endpoint()
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .vpc_id(&net.vpc_id)
        .service_name(service)
        .security_group_ids(group)
        .set_private_dns_enabled(private_dns);
    for s in subnets {
        req = req.subnet_ids(*s);
    }
    req.send().await.map(|out| {
        out.vpc_endpoint()
            .unwrap()
            .vpc_endpoint_id()
            .unwrap()
            .to_owned()
    })
}

// ---- Rule 1 -----------------------------------------------------------------

#[test]
fn a_tag_specification_without_tags_is_refused_and_one_with_a_tag_passes() {
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 201, &["us-east-1a"]).await;
        let create = |spec: TagSpecification, name: &str| {
            ec2.create_security_group()
                .vpc_id(&net.vpc_id)
                .group_name(name)
                .description("strict")
                .tag_specifications(spec)
                .send()
        };
        let empty = TagSpecification::builder()
            .resource_type(ResourceType::SecurityGroup)
            .build();
        layer.refused(
            create(empty, "untagged").await,
            "CreateSecurityGroup",
            "InvalidParameterValue",
            "Tag specification must have at least one tag",
        );
        assert!(
            groups_in(&ec2, &net.vpc_id).await.is_empty(),
            "nothing created"
        );
        create(tags(1, "k"), "tagged")
            .await
            .expect("one tag passes");
        assert_eq!(groups_in(&ec2, &net.vpc_id).await.len(), 1);
    });
}

// ---- Rule 2 -----------------------------------------------------------------

#[test]
fn private_dns_needs_a_service_with_a_verified_private_dns_name() {
    let emulator = Emulator::shared();
    let without = emulator.create_endpoint_service(None);
    let verified = emulator.create_endpoint_service(Some("db.strict-verified.example"));
    let pending = emulator.create_endpoint_service(Some("db.strict-pending.example"));
    let layer = layer();
    layer
        .strict
        .set_private_dns_verification(&pending, "pendingVerification");
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 202, &["us-east-1a", "us-east-1b"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let subnets: Vec<&str> = net.subnet_ids.iter().map(String::as_str).collect();

        // Omitted, PrivateDnsEnabled is true for an interface endpoint.
        layer.refused(
            endpoint(&ec2, &net, &without, &subnets, &group, None).await,
            "CreateVpcEndpoint",
            "InvalidParameter",
            &format!("Private DNS can't be enabled because the service {without} does not provide a private DNS name."),
        );
        layer.refused(
            endpoint(&ec2, &net, &pending, &subnets, &group, Some(true)).await,
            "CreateVpcEndpoint",
            "InvalidParameter",
            &format!("Private DNS can't be enabled because the service {pending} has not verified the private DNS name."),
        );
        assert!(live_endpoints(&ec2, &net.vpc_id).await.is_empty(), "nothing created");

        // The planted state is what a consumer reads, too.
        let described = ec2
            .describe_vpc_endpoint_services()
            .service_names(&pending)
            .send()
            .await
            .unwrap();
        assert_eq!(
            described.service_details()[0]
                .private_dns_name_verification_state()
                .map(|s| s.as_str()),
            Some("pendingVerification")
        );

        let plain = endpoint(&ec2, &net, &without, &subnets, &group, Some(false))
            .await
            .expect("private DNS off passes");
        endpoint(&ec2, &net, &verified, &subnets, &group, None)
            .await
            .expect("a verified private DNS name passes");

        layer.refused(
            ec2.modify_vpc_endpoint()
                .vpc_endpoint_id(&plain)
                .private_dns_enabled(true)
                .send()
                .await,
            "ModifyVpcEndpoint",
            "InvalidParameter",
            &format!("Private DNS can't be enabled because the service {without} does not provide a private DNS name."),
        );
    });
}

// ---- Rule 3 -----------------------------------------------------------------

#[test]
fn one_vpc_holds_one_endpoint_with_private_dns_on_per_name() {
    let emulator = Emulator::shared();
    let dns = "db.strict-conflict.example";
    let service = emulator.create_endpoint_service(Some(dns));
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 203, &["us-east-1a"]).await;
        let other_vpc = create_network(&ec2, 213, &["us-east-1a"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let other_group = create_group(&ec2, &other_vpc.vpc_id, &support::unique("db")).await;
        let subnet = [net.subnet_ids[0].as_str()];
        let conflict = format!(
            "private-dns-enabled cannot be set because there is already a conflicting DNS domain for {dns} in the VPC {}",
            net.vpc_id
        );

        let first = endpoint(&ec2, &net, &service, &subnet, &group, Some(true))
            .await
            .expect("the first endpoint with private DNS passes");
        layer.refused(
            endpoint(&ec2, &net, &service, &subnet, &group, Some(true)).await,
            "CreateVpcEndpoint",
            "InvalidParameter",
            &conflict,
        );
        let second = endpoint(&ec2, &net, &service, &subnet, &group, Some(false))
            .await
            .expect("a second endpoint without private DNS passes");
        endpoint(
            &ec2,
            &other_vpc,
            &service,
            &[other_vpc.subnet_ids[0].as_str()],
            &other_group,
            Some(true),
        )
        .await
        .expect("another VPC has its own DNS domain");

        let turn_on = || {
            ec2.modify_vpc_endpoint()
                .vpc_endpoint_id(&second)
                .private_dns_enabled(true)
                .send()
        };
        layer.refused(turn_on().await, "ModifyVpcEndpoint", "InvalidParameter", &conflict);
        ec2.modify_vpc_endpoint()
            .vpc_endpoint_id(&first)
            .private_dns_enabled(false)
            .send()
            .await
            .expect("turning private DNS off passes");
        turn_on().await.expect("the name is free once the first endpoint lets go");
    });
}

// ---- Rule 4 -----------------------------------------------------------------

#[test]
fn an_endpoint_has_one_subnet_per_zone_and_a_swap_is_remove_then_add() {
    let emulator = Emulator::shared();
    let service = emulator.create_endpoint_service(None);
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 204, &["us-east-1a", "us-east-1a", "us-east-1b"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let (a1, a2, b) = (&net.subnet_ids[0], &net.subnet_ids[1], &net.subnet_ids[2]);
        let duplicate = |subnet: &str| {
            format!(
                "Found another VPC endpoint subnet in the availability zone of {subnet}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service."
            )
        };

        layer.refused(
            endpoint(&ec2, &net, &service, &[a1, a2], &group, Some(false)).await,
            "CreateVpcEndpoint",
            "DuplicateSubnetsInSameZone",
            &duplicate(a2),
        );
        assert!(live_endpoints(&ec2, &net.vpc_id).await.is_empty(), "nothing created");
        let id = endpoint(&ec2, &net, &service, &[a1, b], &group, Some(false))
            .await
            .expect("one subnet per zone passes");

        layer.refused(
            ec2.modify_vpc_endpoint()
                .vpc_endpoint_id(&id)
                .add_subnet_ids(a2)
                .send()
                .await,
            "ModifyVpcEndpoint",
            "DuplicateSubnetsInSameZone",
            &duplicate(a2),
        );
        layer.refused(
            ec2.modify_vpc_endpoint()
                .vpc_endpoint_id(&id)
                .remove_subnet_ids(a1)
                .add_subnet_ids(a2)
                .send()
                .await,
            "ModifyVpcEndpoint",
            "DuplicateSubnetsInSameZone",
            &duplicate(a2),
        );
        ec2.modify_vpc_endpoint()
            .vpc_endpoint_id(&id)
            .remove_subnet_ids(a1)
            .send()
            .await
            .expect("removing passes");
        ec2.modify_vpc_endpoint()
            .vpc_endpoint_id(&id)
            .add_subnet_ids(a2)
            .send()
            .await
            .expect("adding to the freed zone passes");
    });
}

// ---- Rule 5 -----------------------------------------------------------------

#[test]
fn revoking_a_rule_id_the_group_does_not_have_is_refused() {
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 205, &["us-east-1a"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let added = ec2
            .authorize_security_group_ingress()
            .group_id(&group)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(5432)
                    .to_port(5432)
                    .ip_ranges(IpRange::builder().cidr_ip("10.205.0.0/16").build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let ingress = added.security_group_rules()[0]
            .security_group_rule_id()
            .unwrap()
            .to_owned();
        let rules = ec2
            .describe_security_group_rules()
            .filters(filter("group-id", &group))
            .send()
            .await
            .unwrap();
        let egress = rules
            .security_group_rules()
            .iter()
            .find(|r| r.is_egress() == Some(true))
            .and_then(|r| r.security_group_rule_id())
            .unwrap()
            .to_owned();

        let not_found = "The specified security group rule does not exist.";
        for (unknown, why) in [
            ("sgr-0123456789abcdef0", "made up"),
            (egress.as_str(), "an egress rule"),
        ] {
            let result = ec2
                .revoke_security_group_ingress()
                .group_id(&group)
                .security_group_rule_ids(&ingress)
                .security_group_rule_ids(unknown)
                .send()
                .await;
            assert!(result.is_err(), "{why}");
            layer.refused(
                result,
                "RevokeSecurityGroupIngress",
                "InvalidSecurityGroupRuleId.NotFound",
                not_found,
            );
        }
        layer.refused(
            ec2.revoke_security_group_egress()
                .group_id(&group)
                .security_group_rule_ids(&ingress)
                .send()
                .await,
            "RevokeSecurityGroupEgress",
            "InvalidSecurityGroupRuleId.NotFound",
            not_found,
        );
        ec2.revoke_security_group_ingress()
            .group_id(&group)
            .security_group_rule_ids(&ingress)
            .send()
            .await
            .expect("revoking the group's own rule passes");
    });
}

// ---- Rule 6 -----------------------------------------------------------------

#[test]
fn a_new_group_is_invisible_to_its_first_two_reads() {
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 206, &["us-east-1a"]).await;
        let create = |name: String| {
            let ec2 = ec2.clone();
            let vpc = net.vpc_id.clone();
            async move {
                ec2.create_security_group()
                    .vpc_id(vpc)
                    .group_name(name)
                    .description("strict")
                    .send()
                    .await
                    .unwrap()
                    .group_id()
                    .unwrap()
                    .to_owned()
            }
        };

        // Asked by id: NotFound twice, then there.
        let by_id = create(support::unique("by-id")).await;
        let message = format!("The security group '{by_id}' does not exist");
        for _ in 0..support::strict::READS_HIDDEN_AFTER_CREATE {
            layer.refused(
                ec2.describe_security_groups()
                    .group_ids(&by_id)
                    .send()
                    .await,
                "DescribeSecurityGroups",
                "InvalidGroup.NotFound",
                &message,
            );
        }
        let seen = ec2
            .describe_security_groups()
            .group_ids(&by_id)
            .send()
            .await
            .unwrap();
        assert_eq!(seen.security_groups()[0].group_id(), Some(by_id.as_str()));

        // Asked by filter: left out twice, then there; its rules likewise.
        let by_filter = create(support::unique("by-filter")).await;
        let listed = || async {
            ec2.describe_security_groups()
                .filters(filter("group-id", &by_filter))
                .send()
                .await
                .unwrap()
                .security_groups()
                .len()
        };
        let rules = || async {
            ec2.describe_security_group_rules()
                .filters(filter("group-id", &by_filter))
                .send()
                .await
                .unwrap()
                .security_group_rules()
                .len()
        };
        assert_eq!((listed().await, rules().await), (0, 0));
        assert_eq!((listed().await, rules().await), (0, 0));
        assert_eq!(
            (listed().await, rules().await),
            (1, 1),
            "the group and its default egress rule"
        );

        // The counts belong to the layer that saw the create.
        let other = Strict::start(&Emulator::shared().raw_url);
        let fresh = create(support::unique("other-layer")).await;
        let through_other = ec2_client(&other.url)
            .describe_security_groups()
            .group_ids(&fresh)
            .send()
            .await;
        assert!(through_other.is_ok(), "another layer never saw the create");
        assert!(other.refusals().is_empty());
    });
}

// ---- Rule 7 -----------------------------------------------------------------

#[test]
fn describes_page_with_max_results_and_next_token() {
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let raw = Emulator::shared().ec2();
    let rt = runtime();
    rt.block_on(async {
        let zones = [
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
            "us-east-1d",
            "us-east-1e",
            "us-east-1f",
        ];
        let net = create_network(&ec2, 207, &zones).await;
        // Made beside the layer, so that no read misses them.
        for i in 0..11 {
            raw.create_security_group()
                .vpc_id(&net.vpc_id)
                .group_name(format!("paged-{i}"))
                .description("strict")
                .send()
                .await
                .unwrap();
        }

        // 12 groups (the default one too) in pages of 5.
        let mut pages = Vec::new();
        let mut ids = std::collections::BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let page = ec2
                .describe_security_groups()
                .filters(filter("vpc-id", &net.vpc_id))
                .max_results(5)
                .set_next_token(token.clone())
                .send()
                .await
                .unwrap();
            pages.push(page.security_groups().len());
            ids.extend(
                page.security_groups()
                    .iter()
                    .map(|g| g.group_id().unwrap().to_owned()),
            );
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        assert_eq!(pages, [5, 5, 2]);
        assert_eq!(ids.len(), 12, "every group once");

        // Rules: each group's default egress rule, through the SDK's paginator.
        let rule_pages: Vec<usize> = ec2
            .describe_security_group_rules()
            .filters(
                Filter::builder()
                    .name("group-id")
                    .set_values(Some(ids.iter().cloned().collect()))
                    .build(),
            )
            .max_results(5)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(|p| p.unwrap().security_group_rules().len())
            .collect();
        assert_eq!(rule_pages, [5, 5, 2]);

        // Subnets: 6 in pages of 5.
        let subnets = ec2
            .describe_subnets()
            .filters(filter("vpc-id", &net.vpc_id))
            .max_results(5)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await;
        let sizes: Vec<usize> = subnets
            .into_iter()
            .map(|p| p.unwrap().subnets().len())
            .collect();
        assert_eq!(sizes, [5, 1]);

        // What EC2 refuses.
        let invalid = |n: i32, expecting: &str| {
            format!("Value ( {n} ) for parameter maxResults is invalid. {expecting}")
        };
        layer.refused(
            ec2.describe_security_groups().max_results(4).send().await,
            "DescribeSecurityGroups",
            "InvalidParameterValue",
            &invalid(4, "Expecting a value greater than 5."),
        );
        layer.refused(
            ec2.describe_security_group_rules()
                .max_results(1001)
                .send()
                .await,
            "DescribeSecurityGroupRules",
            "InvalidParameterValue",
            &invalid(1001, "Expecting a value less than or equal to 1000."),
        );
        let bad_token = "The specified pagination token is not valid or is expired.";
        layer.refused(
            ec2.describe_security_groups()
                .max_results(5)
                .next_token("not-a-token")
                .send()
                .await,
            "DescribeSecurityGroups",
            "InvalidPaginationToken",
            bad_token,
        );
        let first = ec2
            .describe_security_groups()
            .filters(filter("vpc-id", &net.vpc_id))
            .max_results(5)
            .send()
            .await
            .unwrap();
        layer.refused(
            ec2.describe_security_groups()
                .filters(filter("group-name", "paged-1"))
                .max_results(5)
                .set_next_token(first.next_token().map(str::to_owned))
                .send()
                .await,
            "DescribeSecurityGroups",
            "InvalidPaginationToken",
            bad_token,
        );

        // DescribeVpcEndpoints answers 1000 for more than 1000.
        ec2.describe_vpc_endpoints()
            .filters(filter("vpc-id", &net.vpc_id))
            .max_results(5000)
            .send()
            .await
            .expect("above 1000 answers 1000");
    });
}

// ---- Rule 8 -----------------------------------------------------------------

#[test]
fn a_vpc_holds_at_most_50_interface_endpoints() {
    let emulator = Emulator::shared();
    let service = emulator.create_endpoint_service(None);
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 208, &["us-east-1a"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let subnet = [net.subnet_ids[0].as_str()];
        let mut made = Vec::new();
        for _ in 0..support::strict::ENDPOINTS_PER_VPC {
            made.push(
                endpoint(&ec2, &net, &service, &subnet, &group, Some(false))
                    .await
                    .expect("up to 50 pass"),
            );
        }
        layer.refused(
            endpoint(&ec2, &net, &service, &subnet, &group, Some(false)).await,
            "CreateVpcEndpoint",
            "VpcEndpointLimitExceeded",
            "You've reached the limit on the number of VPC endpoints that you can create in the AWS Region.",
        );
        assert_eq!(live_endpoints(&emulator.ec2(), &net.vpc_id).await.len(), 50);

        // The 50 listed in pages of 20 (rule 7 on DescribeVpcEndpoints).
        let sizes: Vec<usize> = ec2
            .describe_vpc_endpoints()
            .filters(filter("vpc-id", &net.vpc_id))
            .max_results(20)
            .into_paginator()
            .send()
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(|p| p.unwrap().vpc_endpoints().len())
            .collect();
        assert_eq!(sizes, [20, 20, 10]);

        ec2.delete_vpc_endpoints()
            .vpc_endpoint_ids(&made[0])
            .send()
            .await
            .unwrap();
        endpoint(&ec2, &net, &service, &subnet, &group, Some(false))
            .await
            .expect("a deleted endpoint frees its place");
    });
}

// ---- Rule 9 -----------------------------------------------------------------

#[test]
fn a_resource_holds_at_most_50_tags() {
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 209, &["us-east-1a"]).await;
        let limit = "The maximum number of Tags for a resource has been reached.";
        layer.refused(
            ec2.create_security_group()
                .vpc_id(&net.vpc_id)
                .group_name("too-many-tags")
                .description("strict")
                .tag_specifications(tags(51, "k"))
                .send()
                .await,
            "CreateSecurityGroup",
            "TagLimitExceeded",
            limit,
        );
        assert!(
            groups_in(&ec2, &net.vpc_id).await.is_empty(),
            "nothing created"
        );

        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let tag_group = |keys: std::ops::Range<usize>| {
            let mut req = ec2.create_tags().resources(&group);
            for i in keys {
                req = req.tags(Tag::builder().key(format!("k{i}")).value("v").build());
            }
            req.send()
        };
        tag_group(0..40).await.expect("40 tags pass");
        layer.refused(
            tag_group(35..51).await,
            "CreateTags",
            "TagLimitExceeded",
            limit,
        );
        tag_group(35..50)
            .await
            .expect("existing keys count once: 50 pass");
        tag_group(0..50)
            .await
            .expect("changing values of the 50 passes");
        layer.refused(
            tag_group(50..51).await,
            "CreateTags",
            "TagLimitExceeded",
            limit,
        );
    });
}

// ---- Rule 10 ----------------------------------------------------------------

#[test]
fn a_group_holds_at_most_60_rules_per_direction_and_ip_version() {
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 210, &["us-east-1a"]).await;
        let limit = "The maximum number of rules per security group has been reached.";
        let v4 = |range: std::ops::Range<u32>| {
            let mut p = IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(5432)
                .to_port(5432);
            for i in range {
                p = p.ip_ranges(
                    IpRange::builder()
                        .cidr_ip(format!("192.0.2.{i}/32"))
                        .build(),
                );
            }
            p.build()
        };

        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        ec2.authorize_security_group_ingress()
            .group_id(&group)
            .ip_permissions(v4(0..60))
            .send()
            .await
            .expect("60 IPv4 rules pass");
        layer.refused(
            ec2.authorize_security_group_ingress()
                .group_id(&group)
                .ip_permissions(v4(60..61))
                .send()
                .await,
            "AuthorizeSecurityGroupIngress",
            "RulesPerSecurityGroupLimitExceeded",
            limit,
        );
        // The group's egress has its default rule (0.0.0.0/0): 59 more fit.
        ec2.authorize_security_group_egress()
            .group_id(&group)
            .ip_permissions(v4(0..59))
            .send()
            .await
            .expect("60 IPv4 egress rules pass");
        layer.refused(
            ec2.authorize_security_group_egress()
                .group_id(&group)
                .ip_permissions(v4(59..60))
                .send()
                .await,
            "AuthorizeSecurityGroupEgress",
            "RulesPerSecurityGroupLimitExceeded",
            limit,
        );

        // A rule naming a group counts for IPv6 too.
        let app = create_group(&ec2, &net.vpc_id, &support::unique("app")).await;
        let v6_group = create_group(&ec2, &net.vpc_id, &support::unique("v6")).await;
        let mut p = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(5432)
            .to_port(5432);
        for i in 0..60 {
            p = p.ipv6_ranges(
                Ipv6Range::builder()
                    .cidr_ipv6(format!("2001:db8::{i:x}/128"))
                    .build(),
            );
        }
        ec2.authorize_security_group_ingress()
            .group_id(&v6_group)
            .ip_permissions(p.build())
            .send()
            .await
            .expect("60 IPv6 rules pass");
        layer.refused(
            ec2.authorize_security_group_ingress()
                .group_id(&v6_group)
                .ip_permissions(
                    IpPermission::builder()
                        .ip_protocol("tcp")
                        .from_port(5432)
                        .to_port(5432)
                        .user_id_group_pairs(UserIdGroupPair::builder().group_id(&app).build())
                        .build(),
                )
                .send()
                .await,
            "AuthorizeSecurityGroupIngress",
            "RulesPerSecurityGroupLimitExceeded",
            limit,
        );

        // A rule naming a prefix list counts as the list's maximum
        // entries: 40 rules and a list of up to 25 entries make 65.
        let list = ec2
            .create_managed_prefix_list()
            .prefix_list_name(support::unique("offices"))
            .address_family("IPv4")
            .max_entries(25)
            .send()
            .await
            .expect("CreateManagedPrefixList")
            .prefix_list()
            .and_then(|l| l.prefix_list_id())
            .unwrap()
            .to_owned();
        let listed = create_group(&ec2, &net.vpc_id, &support::unique("listed")).await;
        ec2.authorize_security_group_ingress()
            .group_id(&listed)
            .ip_permissions(v4(0..40))
            .send()
            .await
            .expect("40 IPv4 rules pass");
        let naming_list = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(6432)
            .to_port(6432)
            .prefix_list_ids(PrefixListId::builder().prefix_list_id(&list).build())
            .build();
        layer.refused(
            ec2.authorize_security_group_ingress()
                .group_id(&listed)
                .ip_permissions(naming_list.clone())
                .send()
                .await,
            "AuthorizeSecurityGroupIngress",
            "RulesPerSecurityGroupLimitExceeded",
            limit,
        );
        // With 20 rules less, the list fits: 20 + 25.
        let emptied = create_group(&ec2, &net.vpc_id, &support::unique("emptied")).await;
        ec2.authorize_security_group_ingress()
            .group_id(&emptied)
            .ip_permissions(v4(0..20))
            .send()
            .await
            .expect("20 IPv4 rules pass");
        ec2.authorize_security_group_ingress()
            .group_id(&emptied)
            .ip_permissions(naming_list)
            .send()
            .await
            .expect("20 rules and a list of 25 entries pass");
    });
}

// ---- Wiring -----------------------------------------------------------------

#[test]
fn the_emulator_url_is_the_strict_layer_and_raw_url_is_moto() {
    let emulator = Emulator::shared();
    let rt = runtime();
    rt.block_on(async {
        let ec2 = emulator.ec2();
        let net = create_network(&ec2, 211, &["us-east-1a"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let revoke = |client: aws_sdk_ec2::Client| {
            let group = group.clone();
            async move {
                client
                    .revoke_security_group_ingress()
                    .group_id(group)
                    .security_group_rule_ids("sgr-0123456789abcdef0")
                    .send()
                    .await
                    .expect_err("an unknown rule id")
            }
        };
        let strict = revoke(ec2_client(&emulator.url)).await;
        assert_eq!(strict.code(), Some("InvalidSecurityGroupRuleId.NotFound"));
        let moto = revoke(ec2_client(&emulator.raw_url)).await;
        assert_eq!(
            moto.code(),
            Some("InvalidPermission.NotFound"),
            "moto's own answer"
        );
        assert!(
            emulator
                .strict
                .refusals()
                .iter()
                .any(|r| r.code == "InvalidSecurityGroupRuleId.NotFound")
        );
    });
}

// ---- Rule 11 ----------------------------------------------------------------

#[test]
fn a_service_of_another_region_is_seen_only_as_its_provider_allows() {
    let emulator = Emulator::shared();
    let backing = emulator.create_endpoint_service(None);
    let layer = layer();
    let remote = layer
        .strict
        .plant_remote_service(&backing, "us-west-2", &["us-east-1"]);
    let closed = layer
        .strict
        .plant_remote_service(&backing, "eu-west-1", &["us-west-2"]);
    let ec2 = layer.ec2.clone();
    runtime().block_on(async {
        let net = create_network(&ec2, 214, &["us-east-1a"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let missing = |name: &str| format!("The Vpc Endpoint Service '{name}' does not exist");
        let describe = |name: &str, region: Option<&str>| {
            ec2.describe_vpc_endpoint_services()
                .service_names(name)
                .set_service_regions(region.map(|r| vec![r.to_owned()]))
                .send()
        };
        let create = |name: &str, region: Option<&str>| {
            ec2.create_vpc_endpoint()
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .vpc_id(&net.vpc_id)
                .service_name(name)
                .subnet_ids(&net.subnet_ids[0])
                .security_group_ids(&group)
                .private_dns_enabled(false)
                .set_service_region(region.map(str::to_owned))
                .send()
        };

        // Described only when asked for in its region, by a caller of a
        // region its provider enabled.
        layer.refused(
            describe(&remote, None).await,
            "DescribeVpcEndpointServices",
            "InvalidServiceName",
            &missing(&remote),
        );
        let out = describe(&remote, Some("us-west-2")).await.unwrap();
        let detail = &out.service_details()[0];
        assert_eq!(detail.service_name(), Some(remote.as_str()));
        assert_eq!(detail.service_region(), Some("us-west-2"));
        layer.refused(
            describe(&closed, Some("eu-west-1")).await,
            "DescribeVpcEndpointServices",
            "InvalidServiceName",
            &missing(&closed),
        );

        // Created only with ServiceRegion naming its region.
        layer.refused(
            create(&remote, None).await,
            "CreateVpcEndpoint",
            "InvalidServiceName",
            &missing(&remote),
        );
        layer.refused(
            create(&closed, Some("eu-west-1")).await,
            "CreateVpcEndpoint",
            "InvalidServiceName",
            &missing(&closed),
        );
        layer.refused(
            create(&backing, Some("us-west-2")).await,
            "CreateVpcEndpoint",
            "InvalidServiceName",
            &missing(&backing),
        );
        assert!(
            live_endpoints(&ec2, &net.vpc_id).await.is_empty(),
            "nothing created"
        );
        let id = create(&remote, Some("us-west-2"))
            .await
            .expect("a remote service in its region passes")
            .vpc_endpoint()
            .unwrap()
            .vpc_endpoint_id()
            .unwrap()
            .to_owned();
        // Shown to the remote service; made by the emulator to its backing.
        let shown = ec2
            .describe_vpc_endpoints()
            .filters(filter("service-name", &remote))
            .send()
            .await
            .unwrap();
        let e = &shown.vpc_endpoints()[0];
        assert_eq!(e.vpc_endpoint_id(), Some(id.as_str()));
        assert_eq!(e.service_name(), Some(remote.as_str()));
        assert_eq!(e.service_region(), Some("us-west-2"));
        let raw = live_endpoints(&emulator.ec2(), &net.vpc_id).await;
        assert_eq!(raw[0].service_name(), Some(backing.as_str()));
    });
}

// ---- Rules 12 and 13 ------------------------------------------------------------

#[test]
fn address_types_and_fixed_addresses_are_judged_by_subnets_and_service() {
    use aws_sdk_ec2::types::{
        DnsOptionsSpecification, DnsRecordIpType, IpAddressType, SubnetConfiguration,
    };
    let emulator = Emulator::shared();
    let service = emulator.create_endpoint_service(None);
    let v6_only = emulator.create_endpoint_service(None);
    let layer = layer();
    layer
        .strict
        .set_supported_ip_address_types(&v6_only, &["ipv6"]);
    let ec2 = layer.ec2.clone();
    runtime().block_on(async {
        let net = create_network(&ec2, 215, &["us-east-1a"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let s0 = net.subnet_ids[0].as_str();
        let create = |service: &str, ip: Option<&str>, record: Option<&str>, v4: Option<&str>| {
            ec2.create_vpc_endpoint()
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .vpc_id(&net.vpc_id)
                .service_name(service)
                .subnet_ids(s0)
                .security_group_ids(&group)
                .private_dns_enabled(false)
                .set_ip_address_type(ip.map(IpAddressType::from))
                .set_dns_options(record.map(|r| {
                    DnsOptionsSpecification::builder()
                        .dns_record_ip_type(DnsRecordIpType::from(r))
                        .build()
                }))
                .set_subnet_configurations(
                    v4.map(|a| vec![SubnetConfiguration::builder().subnet_id(s0).ipv4(a).build()]),
                )
                .send()
        };
        let invalid = |result, message: String| {
            layer.refused(result, "CreateVpcEndpoint", "InvalidParameter", &message)
        };

        // Rule 12: the subnets' blocks, the service's families, the records.
        invalid(
            create(&service, Some("ipv6"), None, None).await,
            format!("The IP address type ipv6 is not supported by subnet {s0}."),
        );
        invalid(
            create(&service, Some("dualstack"), None, None).await,
            format!("The IP address type dualstack is not supported by subnet {s0}."),
        );
        invalid(
            create(&v6_only, None, None, None).await,
            format!(
                "The VPC endpoint service {v6_only} does not support the IP address type ipv4."
            ),
        );
        invalid(
            create(&service, Some("ipv4"), Some("ipv6"), None).await,
            "The DNS record IP type ipv6 is not supported for the IP address type ipv4.".to_owned(),
        );
        // Rule 13: inside the subnet, off the five reserved, given.
        invalid(
            create(&service, None, None, Some("10.215.5.10")).await,
            format!("The IPv4 address 10.215.5.10 is not available in subnet {s0}."),
        );
        invalid(
            create(&service, None, None, Some("10.215.0.3")).await,
            format!("The IPv4 address 10.215.0.3 is not available in subnet {s0}."),
        );
        layer.refused(
            ec2.create_vpc_endpoint()
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .vpc_id(&net.vpc_id)
                .service_name(&service)
                .subnet_ids(s0)
                .security_group_ids(&group)
                .private_dns_enabled(false)
                .subnet_configurations(SubnetConfiguration::builder().subnet_id(s0).build())
                .send()
                .await,
            "CreateVpcEndpoint",
            "InvalidParameter",
            &format!("An IPv4 address is required in the subnet configuration of {s0}."),
        );
        assert!(
            live_endpoints(&ec2, &net.vpc_id).await.is_empty(),
            "nothing created"
        );

        let id = create(&service, Some("ipv4"), Some("ipv4"), Some("10.215.0.10"))
            .await
            .expect("an address of the subnet passes")
            .vpc_endpoint()
            .unwrap()
            .vpc_endpoint_id()
            .unwrap()
            .to_owned();
        let shown = ec2
            .describe_vpc_endpoints()
            .vpc_endpoint_ids(&id)
            .send()
            .await
            .unwrap();
        let e = &shown.vpc_endpoints()[0];
        assert_eq!(e.ip_address_type(), Some(&IpAddressType::Ipv4));
        assert_eq!(
            e.dns_options().and_then(|d| d.dns_record_ip_type()),
            Some(&DnsRecordIpType::Ipv4)
        );
        let interfaces = ec2
            .describe_network_interfaces()
            .set_network_interface_ids(Some(e.network_interface_ids().to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            interfaces.network_interfaces()[0].private_ip_address(),
            Some("10.215.0.10")
        );
        // A modify to a family the subnet lacks.
        layer.refused(
            ec2.modify_vpc_endpoint()
                .vpc_endpoint_id(&id)
                .ip_address_type(IpAddressType::Dualstack)
                .send()
                .await,
            "ModifyVpcEndpoint",
            "InvalidParameter",
            &format!("The IP address type dualstack is not supported by subnet {s0}."),
        );
    });
}

// ---- Rule 17 ----------------------------------------------------------------

/// Route 53 holds one private zone per name in a VPC: a second zone of the
/// name created on it, or another zone of the name associated with it, is
/// refused; another name, or another VPC, passes.
#[test]
fn a_vpc_holds_one_private_zone_per_name() {
    use aws_sdk_route53::types::{HostedZoneConfig, Vpc, VpcRegion};
    let layer = layer();
    let route53 = support::emulator::route53_client(&layer.strict.url);
    runtime().block_on(async {
        let a = create_network(&layer.ec2, 217, &["us-east-1a"])
            .await
            .vpc_id;
        let b = create_network(&layer.ec2, 218, &["us-east-1a"])
            .await
            .vpc_id;
        let name = format!("{}.rule17.example.com", support::unique("db"));
        let vpc = |id: &str| {
            Vpc::builder()
                .vpc_id(id)
                .vpc_region(VpcRegion::UsEast1)
                .build()
        };
        let create = |name: String, on: &str| {
            route53
                .create_hosted_zone()
                .name(name)
                .caller_reference(support::unique("rule17"))
                .vpc(vpc(on))
                .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
                .send()
        };
        let conflict = |e: &dyn ProvideErrorMetadata, what: &str| {
            assert_eq!(e.code(), Some("ConflictingDomainExists"), "{what}");
            assert!(
                e.message().is_some_and(|m| m.contains(&a)),
                "{what}: {:?}",
                e.message()
            );
        };
        create(name.clone(), &a)
            .await
            .expect("the first zone of the name");
        let second = create(name.clone(), &a).await;
        conflict(
            &second.expect_err("a second zone of the name on a"),
            "CreateHostedZone",
        );
        create(format!("other.{name}"), &a)
            .await
            .expect("another name on the same VPC");
        let elsewhere = create(name.clone(), &b)
            .await
            .expect("the name on another VPC");
        let zone = elsewhere.hosted_zone().unwrap().id().to_owned();
        let associated = route53
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(&zone)
            .vpc(vpc(&a))
            .send()
            .await;
        conflict(
            &associated.expect_err("a second zone of the name associated with a"),
            "AssociateVPCWithHostedZone",
        );
    });
}

/// An endpoint's private DNS is a private hosted zone AWS associates with
/// the VPC, so it and a zone of the name exclude each other both ways:
/// private DNS on in a VPC where a zone answers for the name is refused
/// (rule 3), and a zone for the name created on, or associated with, a VPC
/// where private DNS answers for it is refused (rule 17).
#[test]
fn private_dns_and_a_private_zone_for_one_name_exclude_each_other() {
    use aws_sdk_route53::types::{HostedZoneConfig, Vpc, VpcRegion};
    let emulator = Emulator::shared();
    let dns = format!("{}.strict-zone.example", support::unique("db"));
    let service = emulator.create_endpoint_service(Some(&dns));
    let layer = layer();
    let route53 = support::emulator::route53_client(&layer.strict.url);
    let ec2 = layer.ec2.clone();
    runtime().block_on(async {
        let zoned = create_network(&ec2, 219, &["us-east-1a"]).await;
        let dns_on = create_network(&ec2, 220, &["us-east-1a"]).await;
        let zoned_group = create_group(&ec2, &zoned.vpc_id, &support::unique("db")).await;
        let dns_on_group = create_group(&ec2, &dns_on.vpc_id, &support::unique("db")).await;
        let vpc = |id: &str| {
            Vpc::builder()
                .vpc_id(id)
                .vpc_region(VpcRegion::UsEast1)
                .build()
        };
        let zone = route53
            .create_hosted_zone()
            .name(&dns)
            .caller_reference(support::unique("zone"))
            .vpc(vpc(&zoned.vpc_id))
            .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
            .send()
            .await
            .expect("the zone")
            .hosted_zone()
            .unwrap()
            .id()
            .to_owned();

        // Rule 3: private DNS where the zone answers.
        let subnet = [zoned.subnet_ids[0].as_str()];
        layer.refused(
            endpoint(&ec2, &zoned, &service, &subnet, &zoned_group, Some(true)).await,
            "CreateVpcEndpoint",
            "InvalidParameter",
            &format!(
                "private-dns-enabled cannot be set because there is already a conflicting DNS domain for {dns} in the VPC {}",
                zoned.vpc_id
            ),
        );
        endpoint(&ec2, &zoned, &service, &subnet, &zoned_group, Some(false))
            .await
            .expect("without private DNS the endpoint passes");

        // Rule 17: a zone where private DNS answers.
        endpoint(
            &ec2,
            &dns_on,
            &service,
            &[dns_on.subnet_ids[0].as_str()],
            &dns_on_group,
            Some(true),
        )
        .await
        .expect("private DNS in a VPC without the zone");
        let created = route53
            .create_hosted_zone()
            .name(&dns)
            .caller_reference(support::unique("zone"))
            .vpc(vpc(&dns_on.vpc_id))
            .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
            .send()
            .await
            .expect_err("a zone where private DNS answers");
        assert_eq!(created.code(), Some("ConflictingDomainExists"), "{created:?}");
        let associated = route53
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(&zone)
            .vpc(vpc(&dns_on.vpc_id))
            .send()
            .await
            .expect_err("the zone associated where private DNS answers");
        assert_eq!(associated.code(), Some("ConflictingDomainExists"), "{associated:?}");
        assert!(
            associated.message().is_some_and(|m| m.contains("vpce-")),
            "{associated:?}"
        );
    });
}

// ---- Rule 18 ----------------------------------------------------------------

#[test]
fn private_dns_waits_for_the_service_owner_to_accept() {
    let emulator = Emulator::shared();
    let service = emulator.create_endpoint_service_requiring_acceptance("db.strict-accept.example");
    let layer = layer();
    let ec2 = layer.ec2.clone();
    let rt = runtime();
    rt.block_on(async {
        let net = create_network(&ec2, 221, &["us-east-1a", "us-east-1b"]).await;
        let group = create_group(&ec2, &net.vpc_id, &support::unique("db")).await;
        let subnets: Vec<&str> = net.subnet_ids.iter().map(String::as_str).collect();
        let early = |why: &str| {
            format!(
                "Private DNS can't be enabled before the endpoint connection is accepted: {why}. Enable it once the service provider has accepted the connection."
            )
        };

        // Omitted, PrivateDnsEnabled is true for an interface endpoint.
        layer.refused(
            endpoint(&ec2, &net, &service, &subnets, &group, None).await,
            "CreateVpcEndpoint",
            "InvalidParameter",
            &early(&format!("the service {service} requires acceptance")),
        );
        let id = endpoint(&ec2, &net, &service, &subnets, &group, Some(false))
            .await
            .expect("private DNS off passes");
        let state = |ec2: aws_sdk_ec2::Client, id: String| async move {
            ec2.describe_vpc_endpoints()
                .vpc_endpoint_ids(id)
                .send()
                .await
                .unwrap()
                .vpc_endpoints()[0]
                .state()
                .map(|s| s.as_str().to_owned())
        };
        assert_eq!(
            state(ec2.clone(), id.clone()).await.as_deref(),
            Some("pendingAcceptance")
        );
        layer.refused(
            ec2.modify_vpc_endpoint()
                .vpc_endpoint_id(&id)
                .private_dns_enabled(true)
                .send()
                .await,
            "ModifyVpcEndpoint",
            "InvalidParameter",
            &early(&format!("the endpoint {id} is pendingAcceptance")),
        );

        layer.strict.accept(&id);
        assert_eq!(
            state(ec2.clone(), id.clone()).await.as_deref(),
            Some("available")
        );
        ec2.modify_vpc_endpoint()
            .vpc_endpoint_id(&id)
            .private_dns_enabled(true)
            .send()
            .await
            .expect("accepted: private DNS can be turned on");
    });
}

// ---- Rule 19 ----------------------------------------------------------------

#[test]
fn a_hosted_zone_takes_one_write_at_a_time() {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecord, ResourceRecordSet,
        RrType, Vpc, VpcRegion,
    };
    let layer = layer();
    layer
        .strict
        .hold_route53_writes(std::time::Duration::from_millis(400));
    // Without the SDK's retries: each answer as the layer gave it.
    let route53 = aws_sdk_route53::Client::from_conf(
        support::emulator::route53_client(&layer.strict.url)
            .config()
            .to_builder()
            .retry_config(aws_sdk_route53::config::retry::RetryConfig::disabled())
            .build(),
    );
    runtime().block_on(async {
        let mut vpcs = Vec::new();
        for octet in [222, 223, 224] {
            vpcs.push(
                create_network(&layer.ec2, octet, &["us-east-1a"])
                    .await
                    .vpc_id,
            );
        }
        let vpc = |id: &str| {
            Vpc::builder()
                .vpc_id(id)
                .vpc_region(VpcRegion::UsEast1)
                .build()
        };
        let name = format!("{}.rule19.example.com", support::unique("db"));
        let zone = route53
            .create_hosted_zone()
            .name(&name)
            .caller_reference(support::unique("rule19"))
            .vpc(vpc(&vpcs[0]))
            .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
            .send()
            .await
            .expect("CreateHostedZone")
            .hosted_zone()
            .unwrap()
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned();
        let associate = |id: &str| {
            route53
                .associate_vpc_with_hosted_zone()
                .hosted_zone_id(&zone)
                .vpc(vpc(id))
                .send()
        };
        let (first, second) = tokio::join!(associate(&vpcs[1]), async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            associate(&vpcs[2]).await
        });
        // One goes through; the one that came while it was in flight is
        // refused (which came first is up to the scheduler).
        let refused = match (first, second) {
            (Ok(_), Err(e)) => {
                associate(&vpcs[2])
                    .await
                    .expect("once the first is answered, the second goes through");
                e
            }
            (Err(e), Ok(_)) => {
                associate(&vpcs[1])
                    .await
                    .expect("once the first is answered, the second goes through");
                e
            }
            other => panic!("one of two overlapping associations is refused: {other:?}"),
        };
        assert_eq!(
            refused.code(),
            Some("ConcurrentModification"),
            "{refused:?}"
        );

        let record = |value: &'static str| {
            route53
                .change_resource_record_sets()
                .hosted_zone_id(&zone)
                .change_batch(
                    ChangeBatch::builder()
                        .changes(
                            Change::builder()
                                .action(ChangeAction::Upsert)
                                .resource_record_set(
                                    ResourceRecordSet::builder()
                                        .name(&name)
                                        .r#type(RrType::A)
                                        .ttl(60)
                                        .resource_records(
                                            ResourceRecord::builder().value(value).build().unwrap(),
                                        )
                                        .build()
                                        .unwrap(),
                                )
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .send()
        };
        let (first, second) = tokio::join!(record("192.0.2.1"), async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            record("192.0.2.2").await
        });
        let refused = match (first, second) {
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
            other => panic!("one of two overlapping changes is refused: {other:?}"),
        };
        assert_eq!(
            refused.code(),
            Some("PriorRequestNotComplete"),
            "{refused:?}"
        );
    });
}

/// Rule 20: a hosted zone holds at most 10 tags. A change that would leave
/// eleven is refused, counting the tags it has and the keys it removes.
#[test]
fn a_hosted_zone_holds_at_most_ten_tags() {
    use aws_sdk_route53::types::{HostedZoneConfig, Tag, TagResourceType, Vpc, VpcRegion};
    let layer = layer();
    let route53 = support::emulator::route53_client(&layer.strict.url);
    runtime().block_on(async {
        let vpc = create_network(&layer.ec2, 226, &["us-east-1a"])
            .await
            .vpc_id;
        let name = format!("{}.rule20.example.com", support::unique("db"));
        let zone = route53
            .create_hosted_zone()
            .name(&name)
            .caller_reference(support::unique("rule20"))
            .vpc(
                Vpc::builder()
                    .vpc_id(&vpc)
                    .vpc_region(VpcRegion::UsEast1)
                    .build(),
            )
            .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
            .send()
            .await
            .unwrap();
        let id = zone
            .hosted_zone()
            .unwrap()
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned();
        let tags = |range: std::ops::Range<u32>| -> Vec<Tag> {
            range
                .map(|i| Tag::builder().key(format!("k{i}")).value("v").build())
                .collect()
        };
        let change = |add: Vec<Tag>, remove: Vec<String>| {
            route53
                .change_tags_for_resource()
                .resource_type(TagResourceType::Hostedzone)
                .resource_id(&id)
                .set_add_tags((!add.is_empty()).then_some(add))
                .set_remove_tag_keys((!remove.is_empty()).then_some(remove))
                .send()
        };
        let refused = change(tags(0..11), vec![]).await.unwrap_err();
        assert_eq!(
            refused.as_service_error().and_then(|e| e.meta().code()),
            Some("InvalidInput"),
            "{refused:?}"
        );
        change(tags(0..10), vec![]).await.expect("ten tags");
        let refused = change(tags(10..11), vec![]).await.unwrap_err();
        assert_eq!(
            refused.as_service_error().and_then(|e| e.meta().code()),
            Some("InvalidInput")
        );
        change(tags(10..11), vec!["k0".to_owned()])
            .await
            .expect("one in, one out");
    });
}

// ---- Rule 21 ----------------------------------------------------------------

/// A zone created with a VPC is private without `PrivateZone` in the
/// request, as Route 53 makes it: it shows as private, and another VPC can
/// be associated with it.
#[test]
fn a_zone_created_with_a_vpc_is_private() {
    use aws_sdk_route53::types::{Vpc, VpcRegion};
    let layer = layer();
    let route53 = support::emulator::route53_client(&layer.strict.url);
    runtime().block_on(async {
        let a = create_network(&layer.ec2, 227, &["us-east-1a"])
            .await
            .vpc_id;
        let b = create_network(&layer.ec2, 228, &["us-east-1a"])
            .await
            .vpc_id;
        let vpc = |id: &str| {
            Vpc::builder()
                .vpc_id(id)
                .vpc_region(VpcRegion::UsEast1)
                .build()
        };
        let created = route53
            .create_hosted_zone()
            .name(format!("{}.rule21.example.com", support::unique("db")))
            .caller_reference(support::unique("rule21"))
            .vpc(vpc(&a))
            .send()
            .await
            .expect("CreateHostedZone with a VPC and no HostedZoneConfig");
        let zone = created.hosted_zone().unwrap();
        assert!(zone.config().is_some_and(|c| c.private_zone()), "{zone:?}");
        route53
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(zone.id())
            .vpc(vpc(&b))
            .send()
            .await
            .expect("another VPC associated with the private zone");
        let read = route53
            .get_hosted_zone()
            .id(zone.id())
            .send()
            .await
            .expect("GetHostedZone");
        let mut vpcs: Vec<&str> = read.vpcs().iter().filter_map(|v| v.vpc_id()).collect();
        vpcs.sort_unstable();
        let mut wanted = vec![a.as_str(), b.as_str()];
        wanted.sort_unstable();
        assert_eq!(vpcs, wanted);
    });
}
