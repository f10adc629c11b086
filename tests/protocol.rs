//! tfplugin6 over an in-process gRPC connection: schema, metadata,
//! validation diagnostics with attribute paths, and malformed values.

use crate::support;

use support::inprocess::{connect, dynamic, object, path_of};
use terraform_provider_planetscale::framework::types::Type;
use terraform_provider_planetscale::framework::value::{Number, Value};
use terraform_provider_planetscale::protocol::tfplugin6 as pb;

const SG: &str = "planetscale_privatelink_security_group";
const ENDPOINT: &str = "planetscale_privatelink_endpoint";
const REACHABILITY: &str = "planetscale_privatelink_reachability_analysis";
const DNS_ZONE: &str = "planetscale_privatelink_dns_zone";
const DNS_ZONE_AUTHORIZATION: &str = "planetscale_privatelink_dns_zone_authorization";
const SERVICE: &str = "planetscale_privatelink_service";
const CONNECTION_TEST: &str = "planetscale_privatelink_connection_test";
const DIAGNOSTICS: &str = "planetscale_privatelink_diagnostics";

fn resource_type(name: &str) -> Type {
    terraform_provider_planetscale::server().resources[name]
        .ty
        .clone()
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn set(items: &[&str]) -> Value {
    Value::Set(items.iter().map(|i| s(i)).collect())
}

async fn validate_sg(set_attrs: &[(&str, Value)]) -> Vec<pb::Diagnostic> {
    let mut client = connect().await;
    let ty = resource_type(SG);
    client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: SG.into(),
            config: Some(dynamic(&object(&ty, set_attrs), &ty)),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner()
        .diagnostics
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<(String, String, String)> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| (path_of(d), d.summary.clone(), d.detail.clone()))
        .collect()
}

#[tokio::test]
async fn schema_describes_every_attribute() {
    let mut client = connect().await;
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        schema
            .server_capabilities
            .unwrap()
            .get_provider_schema_optional
    );
    let mut names: Vec<&String> = schema.resource_schemas.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [DNS_ZONE, DNS_ZONE_AUTHORIZATION, ENDPOINT, REACHABILITY, SG]
    );
    let mut data_sources: Vec<&String> = schema.data_source_schemas.keys().collect();
    data_sources.sort();
    assert_eq!(data_sources, [CONNECTION_TEST, DIAGNOSTICS, SERVICE]);
    let provider = schema.provider.unwrap().block.unwrap();
    let all_blocks = schema
        .resource_schemas
        .values()
        .chain(schema.data_source_schemas.values())
        .map(|s| s.block.clone().unwrap())
        .chain(std::iter::once(provider.clone()));
    for block in all_blocks {
        for a in &block.attributes {
            assert!(!a.description.is_empty(), "{} has no description", a.name);
        }
        for b in &block.block_types {
            for a in &b.block.as_ref().unwrap().attributes {
                assert!(
                    !a.description.is_empty(),
                    "{}.{} has no description",
                    b.type_name,
                    a.name
                );
            }
        }
    }
    for secret in ["secret_key", "token", "service_token"] {
        let a = provider
            .attributes
            .iter()
            .find(|a| a.name == secret)
            .unwrap();
        assert!(a.sensitive, "{secret} must be sensitive");
    }
}

#[tokio::test]
async fn metadata_lists_the_resources() {
    let mut client = connect().await;
    let meta = client
        .get_metadata(pb::get_metadata::Request {})
        .await
        .unwrap()
        .into_inner();
    let names: Vec<String> = meta.resources.into_iter().map(|r| r.type_name).collect();
    for resource in [DNS_ZONE, DNS_ZONE_AUTHORIZATION, ENDPOINT, REACHABILITY, SG] {
        assert!(names.contains(&resource.to_owned()), "{resource}");
    }
    let data_sources: Vec<String> = meta.data_sources.into_iter().map(|d| d.type_name).collect();
    assert!(
        data_sources.contains(&SERVICE.to_owned())
            && data_sources.contains(&DIAGNOSTICS.to_owned())
    );
}

#[tokio::test]
async fn a_valid_configuration_has_no_diagnostics() {
    let diags = validate_sg(&[
        ("vpc_id", s("vpc-0123456789abcdef0")),
        ("allowed_security_group_ids", set(&["sg-0123456789abcdef0"])),
    ])
    .await;
    assert!(diags.is_empty(), "{diags:?}");
}

#[tokio::test]
async fn a_cidr_with_host_bits_names_the_attribute_and_the_fix() {
    let diags = validate_sg(&[
        ("vpc_id", s("vpc-0123456789abcdef0")),
        ("allowed_cidr_blocks", set(&["10.0.0.1/16"])),
    ])
    .await;
    let errs = errors(&diags);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "allowed_cidr_blocks");
    assert!(errs[0].2.contains("\"10.0.0.0/16\""), "{}", errs[0].2);
}

#[tokio::test]
async fn a_huge_number_is_a_diagnostic_not_a_crash() {
    // 2^70 cannot be a port; it must arrive intact and be refused by name.
    let huge = Number::parse("1180591620717411303424").unwrap();
    let diags = validate_sg(&[
        ("vpc_id", s("vpc-0123456789abcdef0")),
        ("allow_vpc_cidr", Value::Bool(true)),
        (
            "ports",
            Value::Set(vec![
                Value::Number(huge),
                Value::Number(Number::from(1.5f64)),
            ]),
        ),
    ])
    .await;
    let errs = errors(&diags);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().all(|e| e.0 == "ports"));
    assert!(
        errs.iter().any(|e| e.2.contains("1180591620717411303424")),
        "{errs:?}"
    );
    assert!(errs.iter().any(|e| e.2.contains("1.5")), "{errs:?}");
}

#[tokio::test]
async fn unknown_values_are_not_judged_at_validation() {
    let diags = validate_sg(&[
        ("vpc_id", Value::Unknown(Default::default())),
        (
            "allowed_security_group_ids",
            Value::Unknown(Default::default()),
        ),
    ])
    .await;
    assert!(errors(&diags).is_empty(), "{diags:?}");
}

#[tokio::test]
async fn malformed_msgpack_is_a_diagnostic() {
    let mut client = connect().await;
    for garbage in [
        vec![0xc1u8],
        vec![0xdf, 0xff, 0xff, 0xff, 0xff],
        vec![0x92, 0x01],
    ] {
        let response = client
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: SG.into(),
                config: Some(pb::DynamicValue {
                    msgpack: garbage,
                    json: Vec::new(),
                }),
                client_capabilities: None,
            })
            .await
            .expect("an answer, not a dropped connection")
            .into_inner();
        assert_eq!(
            errors(&response.diagnostics).len(),
            1,
            "{:?}",
            response.diagnostics
        );
    }
}

#[tokio::test]
async fn unknown_resource_types_are_a_diagnostic() {
    let mut client = connect().await;
    let response = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "planetscale_nope".into(),
            config: None,
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&response.diagnostics)[0]
            .1
            .contains("Unknown resource type")
    );
}

#[tokio::test]
async fn resource_operations_before_configure_are_a_diagnostic() {
    let mut client = connect().await;
    let ty = resource_type(SG);
    let config = object(
        &ty,
        &[
            ("vpc_id", s("vpc-0123456789abcdef0")),
            ("allow_vpc_cidr", Value::Bool(true)),
        ],
    );
    let response = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: SG.into(),
            prior_state: None,
            proposed_new_state: Some(dynamic(&config, &ty)),
            config: Some(dynamic(&config, &ty)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&response.diagnostics)[0]
            .1
            .contains("not configured")
    );
}
