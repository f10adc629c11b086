//! List resources (Terraform 1.14 and later, tfplugin6.10) over an
//! in-process gRPC connection, against the emulator holding endpoints made
//! by this provider (its create token, as a killed apply leaves them), by
//! hand, and by another tool: the messages `terraform query` sends
//! (GetMetadata, GetProviderSchema, ValidateListResourceConfig,
//! ListResource) and, on each answer, the checks Terraform applies to it,
//! each naming the function of hashicorp/terraform it mirrors.

use crate::support;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification, VpcEndpointType};
use support::emulator::{create_group, create_network};
use support::inprocess::{Client, configured, dynamic, object, path_of};
use support::terraform::planned_actions;
use support::{Emulator, Workspace};
use terraform_provider_planetscale::framework::codec::decode_msgpack;
use terraform_provider_planetscale::framework::value::Value;
use terraform_provider_planetscale::protocol::tfplugin6 as pb;
use tokio_stream::StreamExt as _;

const EP: &str = "planetscale_privatelink_endpoint";
const SG: &str = "planetscale_privatelink_security_group";
const ZONE: &str = "planetscale_privatelink_dns_zone";

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<(String, String)> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| (path_of(d), d.summary.clone()))
        .collect()
}

/// An interface endpoint made straight through EC2, with these tags.
async fn endpoint(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    subnet: &str,
    service: &str,
    tags: &[(&str, &str)],
) -> String {
    endpoint_with_groups(ec2, vpc, subnet, service, tags, &[]).await
}

/// The same, using these security groups.
async fn endpoint_with_groups(
    ec2: &aws_sdk_ec2::Client,
    vpc: &str,
    subnet: &str,
    service: &str,
    tags: &[(&str, &str)],
    groups: &[&str],
) -> String {
    let mut spec = TagSpecification::builder().resource_type(ResourceType::VpcEndpoint);
    for (k, v) in tags {
        spec = spec.tags(Tag::builder().key(*k).value(*v).build());
    }
    ec2.create_vpc_endpoint()
        .vpc_endpoint_type(VpcEndpointType::Interface)
        .vpc_id(vpc)
        .service_name(service)
        .subnet_ids(subnet)
        .private_dns_enabled(false)
        .set_security_group_ids(
            (!groups.is_empty()).then(|| groups.iter().map(|g| (*g).to_owned()).collect()),
        )
        .set_tag_specifications((!tags.is_empty()).then(|| vec![spec.build()]))
        .send()
        .await
        .unwrap()
        .vpc_endpoint()
        .unwrap()
        .vpc_endpoint_id()
        .unwrap()
        .to_owned()
}

/// What one ListResource call streamed, checked as core's
/// `NodePlannableResourceInstance.listResourceExecute`
/// (internal/terraform/node_resource_plan_instance_query.go) and
/// `GRPCProvider.ListResource` (internal/plugin6/grpc_provider.go) check
/// it: every event carries an identity ("missing identity data in
/// ListResource event") that decodes against the identity schema, and a
/// resource object, when asked for, that decodes against the resource's.
/// Returns (identity id, display name, state id) per event.
async fn list(
    client: &mut Client,
    type_name: &str,
    config: &Value,
    include: bool,
    limit: i64,
) -> Vec<(String, String, Option<String>)> {
    let server = terraform_provider_planetscale::server();
    let entry = &server.resources[type_name];
    let list_ty = entry.list.as_ref().unwrap().1.clone();
    let id_ty = entry.identity.as_ref().unwrap().1.clone();
    let mut stream = client
        .list_resource(pb::list_resource::Request {
            type_name: type_name.into(),
            config: Some(dynamic(config, &list_ty)),
            include_resource_object: include,
            limit,
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(event) = stream.next().await {
        let event = event.unwrap();
        assert!(
            errors(&event.diagnostic).is_empty(),
            "{:?}",
            event.diagnostic
        );
        let identity = event
            .identity
            .as_ref()
            .and_then(|i| i.identity_data.as_ref())
            .unwrap_or_else(|| {
                panic!(
                    "missing identity data in ListResource event: {:?}",
                    event.diagnostic
                )
            });
        let identity = decode_msgpack(&identity.msgpack, &id_ty).expect("identity of the schema");
        assert!(identity.is_fully_known());
        let Value::Object(identity) = identity else {
            unreachable!()
        };
        let Some(Value::String(id)) = identity.get("id").or(identity.get("zone_id")) else {
            panic!("no id in the identity")
        };
        assert!(!event.display_name.is_empty());
        let state_id = event.resource_object.as_ref().map(|o| {
            let state = decode_msgpack(&o.msgpack, &entry.ty).expect("state of the schema");
            let Value::Object(state) = state else {
                unreachable!()
            };
            match state.get("id") {
                Some(Value::String(id)) => id.clone(),
                other => panic!("state id {other:?}"),
            }
        });
        assert_eq!(include, state_id.is_some());
        out.push((id.clone(), event.display_name, state_id));
    }
    out
}

fn ids(found: &[(String, String, Option<String>)]) -> Vec<String> {
    let mut ids: Vec<String> = found.iter().map(|(id, ..)| id.clone()).collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_finds_endpoints_by_vpc_service_tags_and_maker() {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let a = create_network(&ec2, 81, &["us-east-1a", "us-east-1b"]).await;
    let b = create_network(&ec2, 82, &["us-east-1a", "us-east-1b"]).await;
    let service = emulator.create_endpoint_service(None);
    let other_service = emulator.create_endpoint_service(None);
    // Made by this provider (its create token, as an apply cut off leaves
    // it), by hand (a Name only), by another tool (its own tags).
    let mine = endpoint(
        &ec2,
        &a.vpc_id,
        &a.subnet_ids[0],
        &service,
        &[
            ("planetscale:create-token", "tf-planetscale-0123"),
            ("team", "db"),
        ],
    )
    .await;
    let by_hand = endpoint(
        &ec2,
        &a.vpc_id,
        &a.subnet_ids[1],
        &service,
        &[("Name", "orders-db")],
    )
    .await;
    let by_tool = endpoint(
        &ec2,
        &b.vpc_id,
        &b.subnet_ids[0],
        &other_service,
        &[("ManagedBy", "other-tool"), ("team", "db")],
    )
    .await;

    let mut client = configured(&emulator.url).await;

    // `terraform query` learns the list resources from the metadata and
    // their schemas from the provider schema (`convert.ProtoToListSchema`
    // wraps each in a `config` block).
    let metadata = client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    let listed: Vec<&str> = metadata
        .list_resources
        .iter()
        .map(|l| l.type_name.as_str())
        .collect();
    assert_eq!(listed, vec![ZONE, EP, SG]);
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let list_schema = &schema.list_resource_schemas[EP];
    let names: Vec<&str> = list_schema
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(
        sorted(names.iter().map(|n| n.to_string()).collect()),
        ["made_by_this_provider", "service_name", "tags", "vpc_id"]
    );

    let server = terraform_provider_planetscale::server();
    let list_ty = server.resources[EP].list.as_ref().unwrap().1.clone();
    let config = |set: &[(&str, Value)]| object(&list_ty, set);

    // ValidateListResourceConfig (core sends type_name and config only):
    // a bad VPC id names the attribute.
    let validated = client
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: EP.into(),
            config: Some(dynamic(&config(&[("vpc_id", s("vpc_1"))]), &list_ty)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(errors(&validated.diagnostics)[0].0, "vpc_id");

    // By VPC; by service; by maker; by tags.
    let in_a = list(
        &mut client,
        EP,
        &config(&[("vpc_id", s(&a.vpc_id))]),
        false,
        100,
    )
    .await;
    assert_eq!(ids(&in_a), sorted(vec![mine.clone(), by_hand.clone()]));
    let to_service = list(
        &mut client,
        EP,
        &config(&[("service_name", s(&service))]),
        false,
        100,
    )
    .await;
    assert_eq!(
        ids(&to_service),
        sorted(vec![mine.clone(), by_hand.clone()])
    );
    // Within this test's service: other tests' endpoints, made by this
    // provider alongside, keep the token too.
    let made_here = list(
        &mut client,
        EP,
        &config(&[
            ("made_by_this_provider", Value::Bool(true)),
            ("service_name", s(&service)),
        ]),
        false,
        100,
    )
    .await;
    assert_eq!(ids(&made_here), vec![mine.clone()]);
    let not_made_here = list(
        &mut client,
        EP,
        &config(&[
            ("made_by_this_provider", Value::Bool(false)),
            ("service_name", s(&other_service)),
        ]),
        false,
        100,
    )
    .await;
    assert_eq!(ids(&not_made_here), vec![by_tool.clone()]);
    let team = Value::Map([("team".to_owned(), s("db"))].into_iter().collect());
    let tagged = list(&mut client, EP, &config(&[("tags", team)]), false, 100).await;
    assert_eq!(ids(&tagged), sorted(vec![mine.clone(), by_tool.clone()]));

    // The display name a person recognises: name, service, VPC, state.
    let named = in_a.iter().find(|(id, ..)| *id == by_hand).unwrap();
    assert!(
        named
            .1
            .starts_with(&format!("orders-db ({by_hand}): {service} in {}", a.vpc_id)),
        "{}",
        named.1
    );

    // With the resource objects, as `-generate-config-out` asks; and the
    // limit, where core stops reading.
    let full = list(
        &mut client,
        EP,
        &config(&[("vpc_id", s(&a.vpc_id))]),
        true,
        100,
    )
    .await;
    for (id, _, state_id) in &full {
        assert_eq!(state_id.as_deref(), Some(id.as_str()));
    }
    let one = list(
        &mut client,
        EP,
        &config(&[("vpc_id", s(&a.vpc_id))]),
        false,
        1,
    )
    .await;
    assert_eq!(one.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_finds_groups_by_vpc_tags_and_an_unfinished_create_but_never_the_default() {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let net = create_network(&ec2, 83, &["us-east-1a", "us-east-1b"]).await;
    let group = |name: &'static str, tags: &'static [(&'static str, &'static str)]| {
        let ec2 = ec2.clone();
        let vpc = net.vpc_id.clone();
        async move {
            let mut spec = TagSpecification::builder().resource_type(ResourceType::SecurityGroup);
            for (k, v) in tags {
                spec = spec.tags(Tag::builder().key(*k).value(*v).build());
            }
            ec2.create_security_group()
                .vpc_id(vpc)
                .group_name(name)
                .description(name)
                .set_tag_specifications((!tags.is_empty()).then(|| vec![spec.build()]))
                .send()
                .await
                .unwrap()
                .group_id()
                .unwrap()
                .to_owned()
        }
    };
    // A create of this provider cut off before it removed its token; one
    // made by hand; one of another team.
    let cut_off = group(
        "db-unfinished",
        &[("planetscale:creation-token", "0123"), ("team", "db")],
    )
    .await;
    let by_hand = group("db-by-hand", &[]).await;
    let other = group("web", &[("team", "web")]).await;
    let mut client = configured(&emulator.url).await;
    let server = terraform_provider_planetscale::server();
    let list_ty = server.resources[SG].list.as_ref().unwrap().1.clone();
    let config = |set: &[(&str, Value)]| object(&list_ty, set);

    let in_vpc = list(
        &mut client,
        SG,
        &config(&[("vpc_id", s(&net.vpc_id))]),
        false,
        100,
    )
    .await;
    // The VPC's default group is never listed; the fixture's own
    // application group is not there (create_network makes none).
    assert_eq!(
        ids(&in_vpc),
        sorted(vec![cut_off.clone(), by_hand.clone(), other.clone()])
    );
    let unfinished = list(
        &mut client,
        SG,
        &config(&[
            ("vpc_id", s(&net.vpc_id)),
            ("made_by_this_provider", Value::Bool(true)),
        ]),
        false,
        100,
    )
    .await;
    assert_eq!(ids(&unfinished), vec![cut_off.clone()]);
    let team = Value::Map([("team".to_owned(), s("web"))].into_iter().collect());
    let tagged = list(
        &mut client,
        SG,
        &config(&[("vpc_id", s(&net.vpc_id)), ("tags", team)]),
        true,
        100,
    )
    .await;
    assert_eq!(ids(&tagged), vec![other.clone()]);
    assert_eq!(tagged[0].2.as_deref(), Some(other.as_str()));
    let named = in_vpc.iter().find(|(id, ..)| *id == by_hand).unwrap();
    assert_eq!(named.1, format!("db-by-hand ({by_hand}) in {}", net.vpc_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_finds_private_zones_by_name_vpc_tags_and_maker() {
    use aws_sdk_route53::types::{HostedZoneConfig, TagResourceType, VpcRegion};
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let r53 = emulator.route53();
    let a = create_network(&ec2, 84, &["us-east-1a", "us-east-1b"]).await;
    let b = create_network(&ec2, 85, &["us-east-1a", "us-east-1b"]).await;
    let zone = |name: &'static str, reference: String, vpc: String| {
        let r53 = r53.clone();
        async move {
            let out = r53
                .create_hosted_zone()
                .name(name)
                .caller_reference(reference)
                .vpc(
                    aws_sdk_route53::types::Vpc::builder()
                        .vpc_id(vpc)
                        .vpc_region(VpcRegion::UsEast1)
                        .build(),
                )
                .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
                .send()
                .await
                .unwrap();
            out.hosted_zone()
                .unwrap()
                .id()
                .trim_start_matches("/hostedzone/")
                .to_owned()
        }
    };
    let mine = zone(
        "us-east-1.private-connect.psdb.cloud",
        format!("tf-planetscale-{}", support::unique("q")),
        a.vpc_id.clone(),
    )
    .await;
    let by_hand = zone(
        "db.example.internal",
        support::unique("by-hand"),
        b.vpc_id.clone(),
    )
    .await;
    r53.change_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(&by_hand)
        .add_tags(
            aws_sdk_route53::types::Tag::builder()
                .key("team")
                .value("db")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut client = configured(&emulator.url).await;
    let server = terraform_provider_planetscale::server();
    let list_ty = server.resources[ZONE].list.as_ref().unwrap().1.clone();
    let config = |set: &[(&str, Value)]| object(&list_ty, set);

    let on_a = list(
        &mut client,
        ZONE,
        &config(&[("vpc_id", s(&a.vpc_id))]),
        false,
        100,
    )
    .await;
    assert_eq!(ids(&on_a), vec![mine.clone()]);
    assert_eq!(
        on_a[0].1,
        format!("us-east-1.private-connect.psdb.cloud ({mine})")
    );
    let made = list(
        &mut client,
        ZONE,
        &config(&[
            ("made_by_this_provider", Value::Bool(true)),
            ("vpc_id", s(&a.vpc_id)),
        ]),
        false,
        100,
    )
    .await;
    assert_eq!(ids(&made), vec![mine.clone()]);
    let not_made = list(
        &mut client,
        ZONE,
        &config(&[
            ("made_by_this_provider", Value::Bool(false)),
            ("vpc_id", s(&b.vpc_id)),
        ]),
        false,
        100,
    )
    .await;
    assert_eq!(ids(&not_made), vec![by_hand.clone()]);
    let named = list(
        &mut client,
        ZONE,
        &config(&[("name", s("db.example.internal"))]),
        true,
        100,
    )
    .await;
    assert_eq!(ids(&named), vec![by_hand.clone()]);
    assert_eq!(named[0].2.as_deref(), Some(by_hand.as_str()));
    let team = Value::Map([("team".to_owned(), s("db"))].into_iter().collect());
    let tagged = list(&mut client, ZONE, &config(&[("tags", team)]), false, 100).await;
    assert_eq!(ids(&tagged), vec![by_hand.clone()]);
}

/// What a list finds adopts with no change: the endpoints a query lists in
/// a VPC (left behind by a cut-off apply, made by hand, made by another
/// tool) imported through the configuration Terraform generates from their
/// state and the schema (the path `terraform query -generate-config-out`
/// shares with `terraform plan -generate-config-out`,
/// `genconfig.ExtractLegacyConfigFromState`; Terraform 1.11 imports them
/// by the identity's `id`), planned as imports and nothing else, then
/// applied, and planned empty.
#[test]
fn what_a_list_finds_adopts_through_generated_configuration_with_no_change() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let net = rt.block_on(create_network(&ec2, 86, &["us-east-1a", "us-east-1b"]));
    let service = emulator.create_endpoint_service(None);
    let found = rt.block_on(async {
        let group = create_group(&ec2, &net.vpc_id, &support::unique("query-db")).await;
        for (subnet, tags) in [
            (
                &net.subnet_ids[0],
                ("planetscale:create-token", "tf-planetscale-4567"),
            ),
            (&net.subnet_ids[1], ("Name", "by-hand")),
        ] {
            endpoint_with_groups(&ec2, &net.vpc_id, subnet, &service, &[tags], &[&group]).await;
        }
        let mut client = configured(&emulator.url).await;
        let server = terraform_provider_planetscale::server();
        let list_ty = server.resources[EP].list.as_ref().unwrap().1.clone();
        let config = object(&list_ty, &[("vpc_id", s(&net.vpc_id))]);
        list(&mut client, EP, &config, true, 100).await
    });
    assert_eq!(found.len(), 2);
    let ws = Workspace::new(Some(&emulator.url));
    let imports: String = found
        .iter()
        .enumerate()
        .map(|(i, (id, ..))| format!("import {{\n  to = {EP}.found_{i}\n  id = \"{id}\"\n}}\n\n"))
        .collect();
    ws.write(
        "main.tf",
        &format!(
            "{}\nprovider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n\n{imports}",
            Workspace::required_providers(false)
        ),
    );
    ws.init();
    ws.ok(&[
        "plan",
        "-input=false",
        "-no-color",
        "-generate-config-out=generated.tf",
    ]);
    ws.ok(&["validate", "-no-color"]);
    let plan = ws.plan_json();
    let actions = planned_actions(&plan);
    assert_eq!(actions.len(), 2, "{actions:?}");
    for (address, action) in &actions {
        assert_eq!(
            action,
            &vec!["no-op".to_owned()],
            "{address} changes on import"
        );
    }
    ws.apply();
    ws.assert_no_changes();
}
