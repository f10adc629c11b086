//! The catalogue of bad input: each case is refused with an error
//! diagnostic naming the attribute (or the import id) and saying how to fix
//! it, before anything is written to EC2. Run in process, as Terraform runs
//! a plan: ValidateResourceConfig, then PlanResourceChange against a
//! configured provider whose EC2 calls go through a counting proxy; then
//! the same cases through the real `terraform apply`, which must fail naming
//! each one and leave no state, and the proxy's count shows that no write
//! reached EC2 from either.

use crate::support;

use std::collections::BTreeMap;

use support::Emulator;
use support::emulator::{create_group, create_network};
use support::inprocess::{Client, configured, dynamic, object, path_of};
use support::proxy::Proxy;
use terraform_provider_planetscale::framework::types::Type;
use terraform_provider_planetscale::framework::value::{Number, Value};
use terraform_provider_planetscale::protocol::tfplugin6 as pb;

const SG: &str = "planetscale_privatelink_security_group";
const EP: &str = "planetscale_privatelink_endpoint";
const DZ: &str = "planetscale_privatelink_dns_zone";
const DZA: &str = "planetscale_privatelink_dns_zone_authorization";

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}
fn set(items: &[&str]) -> Value {
    Value::Set(items.iter().map(|i| s(i)).collect())
}
fn num(text: &str) -> Value {
    Value::Number(Number::parse(text).unwrap())
}
fn map(pairs: &[(&str, &str)]) -> Value {
    Value::Map(pairs.iter().map(|(k, v)| (k.to_string(), s(v))).collect())
}
fn ty(name: &str) -> Type {
    let server = terraform_provider_planetscale::server();
    server
        .resources
        .get(name)
        .map(|e| e.ty.clone())
        .unwrap_or_else(|| server.provider_ty.clone())
}
fn timeouts(op: &str, value: &str) -> Value {
    let Type::Object(attrs, _) = ty(SG) else {
        unreachable!()
    };
    let Type::Object(t, _) = &attrs["timeouts"] else {
        unreachable!()
    };
    let mut m: BTreeMap<String, Value> = t.keys().map(|k| (k.clone(), Value::Null)).collect();
    m.insert(op.into(), s(value));
    Value::Object(m)
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

/// Validates then plans `config` as a create, as Terraform would; returns
/// the diagnostics of the first step that had errors.
async fn plan(client: &mut Client, type_name: &str, config: &Value) -> Vec<pb::Diagnostic> {
    let t = ty(type_name);
    let validated = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: type_name.into(),
            config: Some(dynamic(config, &t)),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner()
        .diagnostics;
    if !errors(&validated).is_empty() {
        return validated;
    }
    client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: type_name.into(),
            prior_state: None,
            proposed_new_state: Some(dynamic(config, &t)),
            config: Some(dynamic(config, &t)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .diagnostics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_is_refused_by_name_and_writes_nothing() {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let proxy = Proxy::start(&emulator.url);
    let net = create_network(&ec2, 61, &["us-east-1a", "us-east-1b", "us-east-1a"]).await;
    let other = create_network(&ec2, 62, &["us-east-1c"]).await;
    let no_dns = create_network(&ec2, 63, &["us-east-1a", "us-east-1b"]).await;
    ec2.modify_vpc_attribute()
        .vpc_id(&no_dns.vpc_id)
        .enable_dns_hostnames(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let group = create_group(&ec2, &net.vpc_id, &support::unique("app")).await;
    let other_group = create_group(&ec2, &other.vpc_id, &support::unique("app")).await;
    let no_dns_group = create_group(&ec2, &no_dns.vpc_id, &support::unique("app")).await;
    let (service, no_dns_name) = tokio::task::spawn_blocking(move || {
        let e = Emulator::shared();
        (
            e.create_endpoint_service(Some("db.bad-inputs.example.com")),
            e.create_endpoint_service(None),
        )
    })
    .await
    .unwrap();
    // An endpoint with private DNS on in the other VPC, made as the user's
    // own (straight to the emulator, so it is no write of the provider's).
    let private_dns_endpoint = ec2
        .create_vpc_endpoint()
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
        .service_name(&service)
        .vpc_id(&other.vpc_id)
        .subnet_ids(&other.subnet_ids[0])
        .security_group_ids(&other_group)
        .private_dns_enabled(true)
        .send()
        .await
        .expect("CreateVpcEndpoint")
        .vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .expect("endpoint id")
        .to_owned();
    let (vpc, s0, s1, s_same_zone) = (
        net.vpc_id.as_str(),
        net.subnet_ids[0].as_str(),
        net.subnet_ids[1].as_str(),
        net.subnet_ids[2].as_str(),
    );

    let sg = |extra: Vec<(&'static str, Value)>| {
        let mut pairs = vec![
            ("vpc_id", s(vpc)),
            ("allowed_security_group_ids", set(&[&group])),
        ];
        for (k, v) in extra {
            pairs.retain(|(name, _)| *name != k);
            pairs.push((k, v));
        }
        object(&ty(SG), &pairs)
    };
    let ep = |extra: Vec<(&'static str, Value)>| {
        let mut pairs = vec![
            ("service_name", s(&service)),
            ("vpc_id", s(vpc)),
            ("subnet_ids", set(&[s0, s1])),
            ("security_group_ids", set(&[&group])),
        ];
        for (k, v) in extra {
            pairs.retain(|(name, _)| *name != k);
            pairs.push((k, v));
        }
        object(&ty(EP), &pairs)
    };
    let dz = |extra: Vec<(&'static str, Value)>| {
        let mut pairs = vec![
            ("private_host", s("db.bad-inputs.example.com")),
            ("endpoint_id", s(&private_dns_endpoint)),
            ("vpc_ids", set(&[&no_dns.vpc_id])),
        ];
        for (k, v) in extra {
            pairs.retain(|(name, _)| *name != k);
            pairs.push((k, v));
        }
        object(&ty(DZ), &pairs)
    };
    let zone_vpc = |id: &str, region: &str| {
        Value::Set(vec![Value::Object(
            [("id".to_owned(), s(id)), ("region".to_owned(), s(region))].into(),
        )])
    };
    let dza = |extra: Vec<(&'static str, Value)>| {
        let mut pairs = vec![("zone_id", s("Z0123456789ABCDEFGHIJ")), ("vpc_id", s(vpc))];
        for (k, v) in extra {
            pairs.retain(|(name, _)| *name != k);
            pairs.push((k, v));
        }
        object(&ty(DZA), &pairs)
    };
    let cidrs: Vec<String> = (0..31).map(|i| format!("192.0.2.{}/32", i * 2)).collect();
    let cidrs: Vec<&str> = cidrs.iter().map(String::as_str).collect();
    let many_tags: Vec<(String, String)> =
        (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let many_tags = Value::Map(many_tags.into_iter().map(|(k, v)| (k, s(&v))).collect());
    let long = "x".repeat(300);
    let other_region = service.replace("us-east-1", "eu-west-1");
    // The service takes IPv4 and IPv6 endpoints; the one without a private
    // DNS name, IPv4 alone.
    emulator
        .strict
        .set_supported_ip_address_types(&service, &["ipv4", "ipv6"]);
    let fixed = |subnet: &str, ipv4: Option<&str>| {
        Value::List(vec![Value::Object(BTreeMap::from([
            ("subnet_id".to_owned(), s(subnet)),
            ("ipv4".to_owned(), ipv4.map_or(Value::Null, s)),
            ("ipv6".to_owned(), Value::Null),
        ]))])
    };

    // (what, resource type, configuration, attribute named, words of the fix)
    let cases: Vec<(&str, &str, Value, &str, &str)> = vec![
        (
            "malformed VPC id",
            SG,
            sg(vec![("vpc_id", s("vpc-123"))]),
            "vpc_id",
            "hexadecimal",
        ),
        (
            "subnet id as VPC id",
            SG,
            sg(vec![("vpc_id", s(s0))]),
            "vpc_id",
            "vpc-",
        ),
        (
            "VPC that does not exist",
            SG,
            sg(vec![("vpc_id", s("vpc-0123456789abcdef0"))]),
            "vpc_id",
            "region",
        ),
        (
            "CIDR prefix too long",
            SG,
            sg(vec![("allowed_cidr_blocks", set(&["10.0.0.0/33"]))]),
            "allowed_cidr_blocks",
            "10.0.0.0/16",
        ),
        (
            "CIDR with host bits",
            SG,
            sg(vec![("allowed_cidr_blocks", set(&["10.0.0.1/16"]))]),
            "allowed_cidr_blocks",
            "\"10.0.0.0/16\"",
        ),
        (
            "address without prefix",
            SG,
            sg(vec![("allowed_cidr_blocks", set(&["10.0.0.5"]))]),
            "allowed_cidr_blocks",
            "10.0.0.5/32",
        ),
        (
            "IPv6 CIDR with host bits",
            SG,
            sg(vec![("allowed_cidr_blocks", set(&["2001:db8::1/56"]))]),
            "allowed_cidr_blocks",
            "2001:db8::/56",
        ),
        (
            "not a CIDR",
            SG,
            sg(vec![("allowed_cidr_blocks", set(&["banana"]))]),
            "allowed_cidr_blocks",
            "IPv4 or IPv6",
        ),
        (
            "an engine PlanetScale does not have",
            SG,
            sg(vec![("engine", s("mysql"))]),
            "engine",
            "\"vitess\"",
        ),
        (
            "IPv4 block among the IPv6 ones",
            SG,
            sg(vec![("allowed_ipv6_cidr_blocks", set(&["10.0.0.0/16"]))]),
            "allowed_ipv6_cidr_blocks",
            "Put it in allowed_cidr_blocks",
        ),
        (
            "IPv6 block with host bits",
            SG,
            sg(vec![("allowed_ipv6_cidr_blocks", set(&["2001:db8::1/64"]))]),
            "allowed_ipv6_cidr_blocks",
            "2001:db8::/64",
        ),
        (
            "not a prefix list id",
            SG,
            sg(vec![(
                "allowed_prefix_list_ids",
                set(&["sg-0123456789abcdef0"]),
            )]),
            "allowed_prefix_list_ids",
            "pl-0123456789abcdef0",
        ),
        (
            "source group with a bad account id",
            SG,
            sg(vec![(
                "allowed_security_group_ids",
                set(&["12345/sg-0123456789abcdef0"]),
            )]),
            "allowed_security_group_ids",
            "<12-digit account id>/sg-",
        ),
        (
            "port 0",
            SG,
            sg(vec![("ports", Value::Set(vec![num("0")]))]),
            "ports",
            "1 to 65535",
        ),
        (
            "port 70000",
            SG,
            sg(vec![("ports", Value::Set(vec![num("70000")]))]),
            "ports",
            "1 to 65535",
        ),
        (
            "fractional port",
            SG,
            sg(vec![("ports", Value::Set(vec![num("1.5")]))]),
            "ports",
            "whole numbers",
        ),
        (
            "port 2^70",
            SG,
            sg(vec![(
                "ports",
                Value::Set(vec![num("1180591620717411303424")]),
            )]),
            "ports",
            "1 to 65535",
        ),
        (
            "no ports",
            SG,
            sg(vec![("ports", Value::Set(vec![]))]),
            "ports",
            "at least one port",
        ),
        (
            "no source at all",
            SG,
            sg(vec![("allowed_security_group_ids", Value::Null)]),
            "allowed_security_group_ids",
            "allow_vpc_cidr",
        ),
        (
            "empty sources",
            SG,
            sg(vec![
                ("allowed_security_group_ids", set(&[])),
                ("allowed_cidr_blocks", set(&[])),
                ("allow_vpc_cidr", Value::Bool(false)),
            ]),
            "allowed_security_group_ids",
            "let nothing in",
        ),
        (
            "malformed source group",
            SG,
            sg(vec![("allowed_security_group_ids", set(&["sg-xyz"]))]),
            "allowed_security_group_ids",
            "sg-",
        ),
        (
            "name and name_prefix",
            SG,
            sg(vec![("name", s("db")), ("name_prefix", s("db-"))]),
            "name_prefix",
            "not both",
        ),
        (
            "name starting sg-",
            SG,
            sg(vec![("name", s("sg-db"))]),
            "name",
            "sg-",
        ),
        (
            "name with a forbidden character",
            SG,
            sg(vec![("name", s("db\u{2713}"))]),
            "name",
            "letters, digits",
        ),
        (
            "description too long",
            SG,
            sg(vec![("description", s(&long))]),
            "description",
            "255",
        ),
        (
            "reserved tag key",
            SG,
            sg(vec![("tags", map(&[("aws:owner", "me")]))]),
            "tags",
            "aws:",
        ),
        (
            "tag value too long",
            SG,
            sg(vec![("tags", map(&[("Name", &long)]))]),
            "tags",
            "255",
        ),
        (
            "too many tags",
            SG,
            sg(vec![("tags", many_tags)]),
            "tags",
            "50",
        ),
        (
            "timeout in words",
            SG,
            sg(vec![("timeouts", timeouts("create", "10 minutes"))]),
            "timeouts",
            "30s",
        ),
        (
            "negative timeout",
            SG,
            sg(vec![("timeouts", timeouts("delete", "-5m"))]),
            "timeouts",
            "negative",
        ),
        (
            "VPC CIDR allowed twice",
            SG,
            sg(vec![
                ("allow_vpc_cidr", Value::Bool(true)),
                ("allowed_cidr_blocks", set(&[net.cidr.as_str()])),
            ]),
            "allowed_cidr_blocks",
            "already allows",
        ),
        (
            "more rules than a group takes",
            SG,
            sg(vec![("allowed_cidr_blocks", set(&cidrs))]),
            "ports",
            "at most 60",
        ),
        (
            "security group of another VPC",
            EP,
            ep(vec![("security_group_ids", set(&[&other_group]))]),
            "security_group_ids",
            "of its own VPC",
        ),
        (
            "private DNS for a service without a private DNS name",
            EP,
            ep(vec![("service_name", s(&no_dns_name))]),
            "private_dns_enabled",
            "private_dns_enabled = false",
        ),
        (
            "service name without its prefix",
            EP,
            ep(vec![("service_name", s("vpce-svc-0123456789abcdef0"))]),
            "service_name",
            "PlanetScale dashboard",
        ),
        (
            "service name of another region",
            EP,
            ep(vec![("service_name", s(&other_region))]),
            "service_name",
            "service_region = \"eu-west-1\"",
        ),
        (
            "service region not a region",
            EP,
            ep(vec![("service_region", s("us-west"))]),
            "service_region",
            "not an AWS region",
        ),
        (
            "service region not the service name's",
            EP,
            ep(vec![
                ("service_name", s(&other_region)),
                ("service_region", s("us-west-2")),
            ]),
            "service_region",
            "service_region = \"eu-west-1\"",
        ),
        (
            "unknown IP address type",
            EP,
            ep(vec![("ip_address_type", s("IPv4"))]),
            "ip_address_type",
            "\"ipv4\", \"dualstack\", \"ipv6\"",
        ),
        (
            "policy that is not JSON",
            EP,
            ep(vec![("policy", s("Version: 2012-10-17"))]),
            "policy",
            "jsonencode",
        ),
        (
            "unknown DNS record type",
            EP,
            ep(vec![("dns_record_ip_type", s("both"))]),
            "dns_record_ip_type",
            "\"service-defined\"",
        ),
        (
            "IPv6 DNS records for an IPv4 endpoint",
            EP,
            ep(vec![
                ("ip_address_type", s("ipv4")),
                ("dns_record_ip_type", s("ipv6")),
            ]),
            "dns_record_ip_type",
            "Set ip_address_type = \"ipv6\"",
        ),
        (
            "ipv6 endpoint in subnets with IPv4 blocks",
            EP,
            ep(vec![("ip_address_type", s("ipv6"))]),
            "ip_address_type",
            "IPv6-only subnets",
        ),
        (
            "dualstack endpoint to a service accepting IPv4 alone",
            EP,
            ep(vec![
                ("service_name", s(&no_dns_name)),
                ("private_dns_enabled", Value::Bool(false)),
                ("ip_address_type", s("dualstack")),
            ]),
            "ip_address_type",
            "accepts ipv4 only",
        ),
        (
            "fixed address outside its subnet",
            EP,
            ep(vec![(
                "subnet_configurations",
                fixed(s0, Some("10.61.9.10")),
            )]),
            "subnet_configurations",
            "10.61.9.10 is outside",
        ),
        (
            "fixed address AWS reserves",
            EP,
            ep(vec![(
                "subnet_configurations",
                fixed(s0, Some("10.61.0.3")),
            )]),
            "subnet_configurations",
            "reserves",
        ),
        (
            "fixed address not an address",
            EP,
            ep(vec![("subnet_configurations", fixed(s0, Some("10.61.0")))]),
            "subnet_configurations",
            "not an IPv4 address",
        ),
        (
            "fixed address in a subnet not among subnet_ids",
            EP,
            ep(vec![(
                "subnet_configurations",
                fixed(s_same_zone, Some("10.61.2.10")),
            )]),
            "subnet_configurations",
            "add it to subnet_ids",
        ),
        (
            "subnet configuration without the IPv4 address",
            EP,
            ep(vec![("subnet_configurations", fixed(s0, None))]),
            "subnet_configurations",
            "give ipv4",
        ),
        (
            "service that does not exist",
            EP,
            ep(vec![(
                "service_name",
                s("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"),
            )]),
            "service_name",
            "Settings, Roles",
        ),
        (
            "no subnets",
            EP,
            ep(vec![("subnet_ids", set(&[]))]),
            "subnet_ids",
            "at least one",
        ),
        (
            "malformed subnet id",
            EP,
            ep(vec![("subnet_ids", set(&["subnet-zz"]))]),
            "subnet_ids",
            "subnet-",
        ),
        (
            "two subnets in one zone",
            EP,
            ep(vec![("subnet_ids", set(&[s0, s_same_zone]))]),
            "subnet_ids",
            "one subnet per availability zone",
        ),
        (
            "subnet of another VPC",
            EP,
            ep(vec![("subnet_ids", set(&[s0, &other.subnet_ids[0]]))]),
            "subnet_ids",
            "endpoint's VPC",
        ),
        (
            "subnet that does not exist",
            EP,
            ep(vec![("subnet_ids", set(&["subnet-0123456789abcdef0"]))]),
            "subnet_ids",
            "Check the subnet ids",
        ),
        (
            "no security groups",
            EP,
            ep(vec![("security_group_ids", set(&[]))]),
            "security_group_ids",
            "at least one",
        ),
        (
            "empty security group id",
            EP,
            ep(vec![("security_group_ids", set(&[""]))]),
            "security_group_ids",
            "security group id",
        ),
        (
            "malformed VPC id",
            EP,
            ep(vec![("vpc_id", s("vpc_0123abcd"))]),
            "vpc_id",
            "vpc-",
        ),
        (
            "zone with no VPC",
            DZ,
            dz(vec![("vpc_ids", set(&[]))]),
            "vpc_ids",
            "at least one VPC",
        ),
        (
            "malformed VPC id for the zone",
            DZ,
            dz(vec![("vpc_ids", set(&["vpc-xyz"]))]),
            "vpc_ids",
            "hexadecimal",
        ),
        (
            "private host as a URL",
            DZ,
            dz(vec![("private_host", s("https://db.example.com/"))]),
            "private_host",
            "bare host name",
        ),
        (
            "private host as an IP address",
            DZ,
            dz(vec![("private_host", s("10.0.0.1"))]),
            "private_host",
            "is an IP address",
        ),
        (
            "malformed endpoint id for the zone",
            DZ,
            dz(vec![("endpoint_id", s("vpce-xyz"))]),
            "endpoint_id",
            "hexadecimal",
        ),
        (
            "zone VPC block region not a region",
            DZ,
            dz(vec![("vpc", zone_vpc(&other.vpc_id, "mars"))]),
            "vpc.region",
            "us-west-2",
        ),
        (
            "zone VPC block in the provider's region",
            DZ,
            dz(vec![("vpc", zone_vpc(&other.vpc_id, "us-east-1"))]),
            "vpc.region",
            "Put it in vpc_ids",
        ),
        (
            "zone VPC that does not exist",
            DZ,
            dz(vec![("vpc_ids", set(&["vpc-0123456789abcdef0"]))]),
            "vpc_ids",
            "There is no VPC",
        ),
        (
            "zone VPC without DNS hostnames",
            DZ,
            dz(vec![]),
            "vpc_ids",
            "enable_dns_hostnames",
        ),
        (
            "zone over the VPC where the endpoint's private DNS answers",
            DZ,
            dz(vec![("vpc_ids", set(&[&other.vpc_id]))]),
            "vpc_ids",
            "private_dns_enabled = false",
        ),
        (
            "authorization for a malformed zone id",
            DZA,
            dza(vec![("zone_id", s("zone-1"))]),
            "zone_id",
            "capital letters and digits",
        ),
        (
            "authorization for a VPC region that is not one",
            DZA,
            dza(vec![("vpc_region", s("mars"))]),
            "vpc_region",
            "us-west-2",
        ),
    ];

    let mut client = configured(&proxy.url).await;
    let mut refused = 0;
    for (what, type_name, config, attribute, fix) in &cases {
        let diags = plan(&mut client, type_name, config).await;
        let errs = errors(&diags);
        let named = errs.iter().find(|d| path_of(d).starts_with(attribute));
        let Some(d) = named else {
            panic!("{what}: no error naming {attribute}: {diags:#?}");
        };
        assert!(
            format!("{} {}", d.summary, d.detail).contains(fix),
            "{what}: the fix {fix:?} is missing from {d:#?}"
        );
        refused += 1;
    }

    // Private DNS in a VPC without DNS hostnames: the same apply may turn
    // them on (an aws_vpc of the configuration), so the plan warns, naming
    // the attribute and the fix, and the apply checks again before writing.
    let no_dns_endpoint = ep(vec![
        ("vpc_id", s(&no_dns.vpc_id)),
        (
            "subnet_ids",
            set(&[&no_dns.subnet_ids[0], &no_dns.subnet_ids[1]]),
        ),
        ("security_group_ids", set(&[&no_dns_group])),
    ]);
    let diags = plan(&mut client, EP, &no_dns_endpoint).await;
    assert!(errors(&diags).is_empty(), "{diags:#?}");
    assert!(
        diags
            .iter()
            .any(|d| path_of(d) == "private_dns_enabled"
                && d.detail.contains("enable_dns_hostnames")),
        "{diags:#?}"
    );

    // The same cases through the real terraform: `terraform apply` of a
    // configuration holding every case fails, names each resource, and
    // writes nothing (the proxy's count below, and an empty state).
    // Terraform stops after validation when any resource fails it, so the
    // cases refused by validation and those refused at plan go in two runs.
    let (mut at_validate, mut at_plan) = (Vec::new(), Vec::new());
    for (i, (_, type_name, config, _, _)) in cases.iter().enumerate() {
        let t = ty(type_name);
        let validated = client
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: (*type_name).into(),
                config: Some(dynamic(config, &t)),
                client_capabilities: None,
            })
            .await
            .unwrap()
            .into_inner();
        let block = hcl_resource(type_name, &format!("case{i}"), config);
        if errors(&validated.diagnostics).is_empty() {
            at_plan.push((i, block));
        } else {
            at_validate.push((i, block));
        }
    }
    assert!(!at_validate.is_empty() && !at_plan.is_empty());
    // Refused only when the apply is about to write, with nothing written.
    let at_apply = vec![(
        cases.len(),
        hcl_resource(EP, &format!("case{}", cases.len()), &no_dns_endpoint),
    )];
    let proxy_url = proxy.url.clone();
    tokio::task::spawn_blocking(move || {
        for blocks in [at_validate, at_plan, at_apply] {
            let ws = support::Workspace::new(Some(&proxy_url));
            let body: String = blocks.iter().map(|(_, b)| b.as_str()).collect();
            ws.write(
                "main.tf",
                &format!(
                    "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n\n{body}",
                    support::Workspace::required_providers(false)
                ),
            );
            ws.init();
            let run = ws.try_apply();
            assert!(
                !run.success(),
                "apply of bad input succeeded:\n{}",
                run.text()
            );
            let text = run.flat();
            for (i, _) in &blocks {
                assert!(
                    text.contains(&format!(".case{i},")),
                    "terraform apply did not refuse case {i}:\n{}",
                    run.text()
                );
            }
            let listed = ws.run(&["state", "list"]);
            assert!(
                listed.stdout.trim().is_empty(),
                "a refused apply left state: {}",
                listed.stdout
            );
        }
    })
    .await
    .unwrap();

    // Unknown values are judged once known, not refused at plan.
    let unknown = sg(vec![
        ("vpc_id", Value::unknown()),
        ("allowed_security_group_ids", Value::unknown()),
    ]);
    assert!(
        errors(&plan(&mut client, SG, &unknown).await).is_empty(),
        "unknown values must not be refused"
    );

    // Import ids of the wrong kind or shape.
    for (type_name, id) in [
        (SG, "vpce-0123456789abcdef0"),
        (EP, "sg-0123456789abcdef0"),
        (EP, ""),
        (SG, "sg-;drop"),
        (EP, "vpce-0123456789abcdef0/extra"),
        (DZ, "vpc-0123456789abcdef0"),
        (DZ, ""),
        (DZA, "Z0123456789ABCDEFGHIJ"),
        (DZA, "vpc-0123456789abcdef0:Z0123456789ABCDEFGHIJ"),
    ] {
        let response = client
            .import_resource_state(pb::import_resource_state::Request {
                type_name: type_name.into(),
                id: id.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let errs = errors(&response.diagnostics);
        assert!(
            errs.iter().any(|d| d.summary.contains("import id")),
            "{type_name} {id:?}: {:?}",
            response.diagnostics
        );
        assert!(response.imported_resources.is_empty());
        refused += 1;
    }

    // Provider arguments.
    // (what, provider arguments, attribute named)
    type ProviderCase<'a> = (&'a str, Vec<(&'a str, Value)>, &'a str);
    let provider_cases: Vec<ProviderCase> = vec![
        ("region not a region", vec![("region", s("mars"))], "region"),
        (
            "access key alone",
            vec![("access_key", s("AKIAONLY"))],
            "secret_key",
        ),
        (
            "endpoint not a URL",
            vec![("endpoints", {
                let Type::Object(a, _) = ty("provider") else {
                    unreachable!()
                };
                let Type::Object(e, _) = &a["endpoints"] else {
                    unreachable!()
                };
                Value::Object(
                    e.keys()
                        .map(|k| {
                            (
                                k.clone(),
                                if k == "ec2" {
                                    s("ftp://ec2")
                                } else {
                                    Value::Null
                                },
                            )
                        })
                        .collect(),
                )
            })],
            "endpoints.ec2",
        ),
        (
            "plain http endpoint off this machine",
            vec![(
                "endpoints",
                endpoints_with("ec2", "http://ec2.internal.example.com"),
            )],
            "endpoints.ec2",
        ),
        (
            "endpoint with credentials in the URL",
            vec![(
                "endpoints",
                endpoints_with("sts", "https://me:hunter22@sts.example.com"),
            )],
            "endpoints.sts",
        ),
        (
            "api_url with user and password",
            vec![("api_url", s("https://me:hunter22@api.planetscale.com/v1"))],
            "api_url",
        ),
        (
            "max_retries out of range",
            vec![("max_retries", num("1000"))],
            "max_retries",
        ),
        (
            "retry mode that does not exist",
            vec![("retry_mode", s("legacy"))],
            "retry_mode",
        ),
        (
            "negative retry quota",
            vec![("token_bucket_rate_limiter_capacity", num("-5"))],
            "token_bucket_rate_limiter_capacity",
        ),
        (
            "attempt timeout not a duration",
            vec![("aws_attempt_timeout", s("soon"))],
            "aws_attempt_timeout",
        ),
        (
            "operation timeout of no time",
            vec![("aws_operation_timeout", s("0s"))],
            "aws_operation_timeout",
        ),
        (
            "attempt timeout past the operation timeout",
            vec![
                ("aws_attempt_timeout", s("5m")),
                ("aws_operation_timeout", s("1m")),
            ],
            "aws_attempt_timeout",
        ),
        (
            "allowed and forbidden accounts",
            vec![
                ("allowed_account_ids", set(&["123456789012"])),
                ("forbidden_account_ids", set(&["210987654321"])),
            ],
            "forbidden_account_ids",
        ),
    ];
    for (what, pairs, attribute) in provider_cases {
        let t = ty("provider");
        let response = client
            .validate_provider_config(pb::validate_provider_config::Request {
                config: Some(dynamic(&object(&t, &pairs), &t)),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            errors(&response.diagnostics)
                .iter()
                .any(|d| path_of(d) == attribute),
            "{what}: no error naming {attribute}: {:?}",
            response.diagnostics
        );
        assert!(
            !format!("{:?}", response.diagnostics).contains("hunter22"),
            "{what}: a password in a URL is repeated: {:?}",
            response.diagnostics
        );
        refused += 1;
    }

    eprintln!("bad inputs refused: {refused}");
    assert!(refused >= 30);
    let writes: Vec<(String, u64)> = proxy
        .counts()
        .into_iter()
        .filter(|(action, _)| {
            !["Describe", "List", "Get"]
                .iter()
                .any(|read| action.starts_with(read))
        })
        .collect();
    assert!(
        writes.is_empty(),
        "bad input reached EC2 writes: {writes:?}"
    );
}

/// A `resource` block of `config` in HCL: null attributes left out, the
/// `timeouts` object written as the block it is.
fn hcl_resource(type_name: &str, label: &str, config: &Value) -> String {
    let Value::Object(attrs) = config else {
        unreachable!()
    };
    let mut out = format!("resource \"{type_name}\" \"{label}\" {{\n");
    for (name, value) in attrs {
        match (name.as_str(), value) {
            (_, Value::Null) => {}
            ("vpc", Value::Set(blocks)) => {
                for block in blocks {
                    let Value::Object(b) = block else {
                        unreachable!()
                    };
                    out.push_str("  vpc {\n");
                    for (k, v) in b.iter().filter(|(_, v)| !v.is_null()) {
                        out.push_str(&format!("    {k} = {}\n", hcl_value(v)));
                    }
                    out.push_str("  }\n");
                }
            }
            ("timeouts", Value::Object(t)) => {
                out.push_str("  timeouts {\n");
                for (op, v) in t.iter().filter(|(_, v)| !v.is_null()) {
                    out.push_str(&format!("    {op} = {}\n", hcl_value(v)));
                }
                out.push_str("  }\n");
            }
            _ => out.push_str(&format!("  {name} = {}\n", hcl_value(value))),
        }
    }
    out.push_str("}\n\n");
    out
}

fn hcl_value(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s)
            .unwrap()
            .replace("${", "$${")
            .replace("%{", "%%{"),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) | Value::Set(items) => format!(
            "[{}]",
            items.iter().map(hcl_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(m) | Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{} = {}", serde_json::to_string(k).unwrap(), hcl_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "null".to_owned(),
        other => panic!("no HCL for {other:?}"),
    }
}

/// The provider's `endpoints` block with one URL set.
fn endpoints_with(service: &str, url: &str) -> Value {
    let Type::Object(a, _) = ty("provider") else {
        unreachable!()
    };
    let Type::Object(e, _) = &a["endpoints"] else {
        unreachable!()
    };
    Value::Object(
        e.keys()
            .map(|k| (k.clone(), if k == service { s(url) } else { Value::Null }))
            .collect(),
    )
}
