//! Resource identity (Terraform 1.12 and later, tfplugin6.9) over an
//! in-process gRPC connection, against the emulator: the messages
//! Terraform 1.12 to 1.17 send for identity, in the order they send them,
//! and on each answer the checks Terraform applies to it. Each check names
//! the function of hashicorp/terraform (or of terraform-plugin-framework's
//! server, where core leaves the rule to the SDK) it mirrors. Terraform
//! 1.11 sends none of these fields or RPCs; every other test file runs it.

use crate::support;

use std::collections::BTreeMap;

use support::Emulator;
use support::emulator::{create_group, create_network};
use support::inprocess::{Client, configured, connect, dynamic, object, path_of};
use terraform_provider_planetscale::framework::codec::{decode_msgpack, encode_json};
use terraform_provider_planetscale::framework::types::Type;
use terraform_provider_planetscale::framework::value::Value;
use terraform_provider_planetscale::protocol::tfplugin6 as pb;

const SG: &str = "planetscale_privatelink_security_group";
const EP: &str = "planetscale_privatelink_endpoint";
const ZONE: &str = "planetscale_privatelink_dns_zone";
const AUTHORIZATION: &str = "planetscale_privatelink_dns_zone_authorization";
const REACHABILITY: &str = "planetscale_privatelink_reachability_analysis";
/// The emulator's account.
const ACCOUNT: &str = "123456789012";

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn resource_type(name: &str) -> Type {
    let server = terraform_provider_planetscale::server();
    if name == "provider" {
        server.provider_ty.clone()
    } else {
        server.resources[name].ty.clone()
    }
}

/// The identity type Terraform builds from a served identity schema
/// (`convert.ProtoToIdentitySchema`): an object of the attributes' types.
fn identity_type(schema: &pb::ResourceIdentitySchema) -> Type {
    Type::Object(
        schema
            .identity_attributes
            .iter()
            .map(|a| {
                let ty = Type::from_json(&a.r#type).unwrap();
                (a.name.clone(), ty)
            })
            .collect(),
        Default::default(),
    )
}

/// Mirrors core's `validateIdentity` and `validateIdentityKnown`
/// (internal/terraform/node_resource_abstract_instance.go): the identity
/// decodes against the schema's type ("Provider produced an identity that
/// doesn't match the schema") and holds no unknown value ("Provider
/// produced invalid identity"). Returns it.
fn conforming(data: &pb::ResourceIdentityData, ty: &Type, what: &str) -> Value {
    let raw = data
        .identity_data
        .as_ref()
        .unwrap_or_else(|| panic!("{what}: identity data without a value"));
    let value = decode_msgpack(&raw.msgpack, ty)
        .unwrap_or_else(|e| panic!("{what}: an identity that doesn't match the schema: {e}"));
    assert!(
        value.is_fully_known(),
        "{what}: an identity with unknown values"
    );
    value
}

fn attr<'v>(v: &'v Value, name: &str) -> Option<&'v str> {
    match v {
        Value::Object(m) => match m.get(name) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<(String, String)> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| (path_of(d), d.summary.clone()))
        .collect()
}

/// The identity schemas, fetched as core's `GRPCProvider.GetProviderSchema`
/// (internal/plugin6/grpc_provider.go) does, right after the provider
/// schema.
async fn identity_schemas(client: &mut Client) -> BTreeMap<String, pb::ResourceIdentitySchema> {
    client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap();
    let response = client
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    response.identity_schemas.into_iter().collect()
}

/// ImportResourceState as Terraform sends it: by `id`, or (1.12 and
/// later, `import { identity = ... }`) by an identity with an empty id.
async fn import(
    client: &mut Client,
    type_name: &str,
    id: &str,
    identity: Option<(&Value, &Type)>,
) -> pb::import_resource_state::Response {
    client
        .import_resource_state(pb::import_resource_state::Request {
            type_name: type_name.into(),
            id: id.into(),
            identity: identity.map(|(value, ty)| pb::ResourceIdentityData {
                identity_data: Some(dynamic(value, ty)),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// (name, required for import) of each attribute, in order.
fn shape(schema: &pb::ResourceIdentitySchema) -> Vec<(&str, bool)> {
    schema
        .identity_attributes
        .iter()
        .map(|a| {
            assert_ne!(
                a.required_for_import, a.optional_for_import,
                "{}: required or optional for import, one of them",
                a.name
            );
            assert!(!a.description.is_empty(), "{} has no description", a.name);
            (a.name.as_str(), a.required_for_import)
        })
        .collect()
}

#[tokio::test]
async fn identity_schemas_have_the_shape_of_hashicorp_aws_ones() {
    let mut client = connect().await;
    let schemas = identity_schemas(&mut client).await;
    // aws_vpc_endpoint and aws_security_group: `id` required, `account_id`
    // and `region` optional; aws_route53_zone: `zone_id` required,
    // `account_id` optional. Version 0 each.
    let regional = vec![("id", true), ("account_id", false), ("region", false)];
    assert_eq!(shape(&schemas[EP]), regional);
    assert_eq!(shape(&schemas[SG]), regional);
    assert_eq!(
        shape(&schemas[ZONE]),
        vec![("zone_id", true), ("account_id", false)]
    );
    // aws_ec2_network_insights_path and
    // aws_route53_vpc_association_authorization have none: the path is a
    // regional EC2 object, the authorization is named by its zone and VPC.
    assert_eq!(shape(&schemas[REACHABILITY]), regional);
    assert_eq!(
        shape(&schemas[AUTHORIZATION]),
        vec![("zone_id", true), ("vpc_id", true), ("account_id", false)]
    );
    assert_eq!(schemas.len(), 5, "every resource has an identity");
    for (name, schema) in &schemas {
        assert_eq!(schema.version, 0, "{name}");
        for a in &schema.identity_attributes {
            assert_eq!(a.r#type, b"\"string\"", "{name}.{}", a.name);
        }
    }
}

/// A group's life as Terraform 1.12-1.17 drive it, identity checked at
/// every answer: created, refreshed, planned again, imported by identity
/// and by id, its stored identity upgraded, and destroyed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_groups_identity_is_given_after_create_read_and_import_and_never_changes() {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let net = create_network(&ec2, 71, &["us-east-1a", "us-east-1b"]).await;
    let app = create_group(&ec2, &net.vpc_id, &support::unique("identity-app")).await;
    let mut client = configured(&emulator.url).await;
    let schemas = identity_schemas(&mut client).await;
    let id_ty = identity_type(&schemas[SG]);
    let ty = resource_type(SG);
    let config = object(
        &ty,
        &[
            ("vpc_id", s(&net.vpc_id)),
            ("allowed_security_group_ids", Value::Set(vec![s(&app)])),
        ],
    );

    // Create: no identity is planned (core checks a create's planned
    // identity for neither presence nor knownness: `plan`), one is given
    // with the new state.
    let plan = client
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
        errors(&plan.diagnostics).is_empty(),
        "{:?}",
        plan.diagnostics
    );
    assert!(
        plan.planned_identity.is_none(),
        "a create plans no identity"
    );
    let applied = client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: SG.into(),
            prior_state: None,
            planned_state: plan.planned_state.clone(),
            config: Some(dynamic(&config, &ty)),
            planned_private: plan.planned_private.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&applied.diagnostics).is_empty(),
        "{:?}",
        applied.diagnostics
    );
    let state = applied.new_state.clone().unwrap();
    let state_value = decode_msgpack(&state.msgpack, &ty).unwrap();
    let group_id = attr(&state_value, "id").unwrap().to_owned();
    let identity = conforming(
        applied
            .new_identity
            .as_ref()
            .expect("an identity after create"),
        &id_ty,
        "after create",
    );
    assert_eq!(attr(&identity, "id"), Some(group_id.as_str()));
    assert_eq!(attr(&identity, "account_id"), Some(ACCOUNT));
    assert_eq!(attr(&identity, "region"), Some("us-east-1"));

    // Refresh: the identity is there ("Missing Resource Identity After
    // Read") and is the same ("Unexpected Identity Change"), the rules of
    // terraform-plugin-framework's fwserver ReadResource, which core
    // leaves to the SDK.
    let read = client
        .read_resource(pb::read_resource::Request {
            type_name: SG.into(),
            current_state: Some(state.clone()),
            current_identity: applied.new_identity.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&read.diagnostics).is_empty(),
        "{:?}",
        read.diagnostics
    );
    let refreshed = read.new_state.clone().unwrap();
    let read_identity = conforming(
        read.new_identity.as_ref().expect("an identity after read"),
        &id_ty,
        "after read",
    );
    assert_eq!(read_identity, identity, "the identity changed on refresh");

    // A plan of the existing group keeps its identity (core's `plan`
    // checks a planned identity is known for an update).
    let plan_again = client
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: SG.into(),
            prior_state: Some(refreshed.clone()),
            proposed_new_state: Some(refreshed.clone()),
            config: Some(dynamic(&config, &ty)),
            prior_private: read.private.clone(),
            prior_identity: read.new_identity.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&plan_again.diagnostics).is_empty(),
        "{:?}",
        plan_again.diagnostics
    );
    let planned_identity = conforming(
        plan_again
            .planned_identity
            .as_ref()
            .expect("a planned identity for an existing object"),
        &id_ty,
        "planned",
    );
    assert_eq!(planned_identity, identity);

    // Import by identity, as `import { identity = { id = ... } }` sends it
    // (`NodePlannableResourceInstance.importState`: an empty id and the
    // identity; "import of ... didn't return an identity" when the answer
    // has none), then by id.
    let only_id = object(&id_ty, &[("id", s(&group_id))]);
    for (id, sent) in [
        (String::new(), Some(only_id.clone())),
        (String::new(), Some(identity.clone())),
        (group_id.clone(), None),
    ] {
        let imported = import(&mut client, SG, &id, sent.as_ref().map(|i| (i, &id_ty))).await;
        assert!(
            errors(&imported.diagnostics).is_empty(),
            "{:?}",
            imported.diagnostics
        );
        assert_eq!(imported.imported_resources.len(), 1);
        let resource = &imported.imported_resources[0];
        let imported_state =
            decode_msgpack(&resource.state.as_ref().unwrap().msgpack, &ty).unwrap();
        assert_eq!(attr(&imported_state, "id"), Some(group_id.as_str()));
        let imported_identity = conforming(
            resource
                .identity
                .as_ref()
                .expect("import didn't return an identity"),
            &id_ty,
            "after import",
        );
        assert_eq!(attr(&imported_identity, "id"), Some(group_id.as_str()));
    }

    // An identity of another account or region is refused, naming the
    // attribute, and imports nothing.
    for (name, value) in [("account_id", "999999999999"), ("region", "eu-west-1")] {
        let other = object(&id_ty, &[("id", s(&group_id)), (name, s(value))]);
        let refused = import(&mut client, SG, "", Some((&other, &id_ty))).await;
        assert!(refused.imported_resources.is_empty(), "{name}");
        assert_eq!(
            errors(&refused.diagnostics)[0].0,
            name,
            "{:?}",
            refused.diagnostics
        );
    }
    // One without its required attribute is refused too (core evaluates
    // the import block against the schema first: `evaluateImportIdentityExpression`).
    let no_id = object(&id_ty, &[("region", s("us-east-1"))]);
    let refused = import(&mut client, SG, "", Some((&no_id, &id_ty))).await;
    assert!(refused.imported_resources.is_empty());
    assert!(!errors(&refused.diagnostics).is_empty());

    // A stored identity of this version comes back as it is
    // (`upgradeResourceIdentity`, internal/terraform/upgrade_resource_state.go,
    // calls only for an older version; a newer one is refused).
    let raw = encode_json(&identity, &id_ty).unwrap();
    let upgraded = client
        .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: SG.into(),
            version: 0,
            raw_identity: Some(pb::RawState {
                json: raw.clone(),
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        upgraded.diagnostics.is_empty(),
        "{:?}",
        upgraded.diagnostics
    );
    let again = conforming(
        upgraded.upgraded_identity.as_ref().unwrap(),
        &id_ty,
        "upgraded",
    );
    assert_eq!(again, identity);
    let newer = client
        .upgrade_resource_identity(pb::upgrade_resource_identity::Request {
            type_name: SG.into(),
            version: 1,
            raw_identity: Some(pb::RawState {
                json: raw,
                flatmap: Default::default(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(newer.upgraded_identity.is_none());
    assert_eq!(
        errors(&newer.diagnostics)[0].1,
        "Resource identity from a newer provider"
    );

    // Destroyed: no state, no identity.
    let destroyed = client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: SG.into(),
            prior_state: Some(refreshed),
            planned_state: Some(dynamic(&Value::Null, &ty)),
            config: None,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        errors(&destroyed.diagnostics).is_empty(),
        "{:?}",
        destroyed.diagnostics
    );
    assert!(destroyed.new_identity.is_none());
    let gone = ec2
        .describe_security_groups()
        .group_ids(&group_id)
        .send()
        .await;
    assert!(gone.is_err(), "the group is still there");
}

/// A resource type, its identity's required attributes, and its import id.
type ImportCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// Every resource imports by identity as by id: `import { identity = {
/// ... } }` with the required attributes only, then with every one. The
/// state's id is the one an import by id gives, and the identity comes
/// back with it (`NodePlannableResourceInstance.importState`: "import of
/// ... didn't return an identity").
#[tokio::test]
async fn every_resource_imports_by_identity_as_by_id() {
    let emulator = Emulator::shared();
    let mut client = configured(&emulator.url).await;
    let schemas = identity_schemas(&mut client).await;
    let cases: [ImportCase; 5] = [
        (
            EP,
            &[("id", "vpce-0123456789abcdef0")],
            "vpce-0123456789abcdef0",
        ),
        (
            SG,
            &[("id", "sg-0123456789abcdef0")],
            "sg-0123456789abcdef0",
        ),
        (
            REACHABILITY,
            &[("id", "nip-0123456789abcdef0")],
            "nip-0123456789abcdef0",
        ),
        (
            ZONE,
            &[("zone_id", "Z0123456789ABCDEFGHIJ")],
            "Z0123456789ABCDEFGHIJ",
        ),
        (
            AUTHORIZATION,
            &[
                ("zone_id", "Z0123456789ABCDEFGHIJ"),
                ("vpc_id", "vpc-0123456789abcdef0"),
            ],
            "Z0123456789ABCDEFGHIJ:vpc-0123456789abcdef0",
        ),
    ];
    for (type_name, required, id) in cases {
        let id_ty = identity_type(&schemas[type_name]);
        let ty = resource_type(type_name);
        let mut full: Vec<(&str, Value)> = required.iter().map(|(k, v)| (*k, s(v))).collect();
        full.push(("account_id", s(ACCOUNT)));
        if type_name == EP || type_name == SG || type_name == REACHABILITY {
            full.push(("region", s("us-east-1")));
        }
        let bare: Vec<(&str, Value)> = required.iter().map(|(k, v)| (*k, s(v))).collect();
        let by_id = import(&mut client, type_name, id, None).await;
        assert!(
            errors(&by_id.diagnostics).is_empty(),
            "{type_name}: {:?}",
            by_id.diagnostics
        );
        let expected = decode_msgpack(
            &by_id.imported_resources[0].state.as_ref().unwrap().msgpack,
            &ty,
        )
        .unwrap();
        for given in [bare, full] {
            let identity = object(&id_ty, &given);
            let imported = import(&mut client, type_name, "", Some((&identity, &id_ty))).await;
            assert!(
                errors(&imported.diagnostics).is_empty(),
                "{type_name}: {:?}",
                imported.diagnostics
            );
            let resource = &imported.imported_resources[0];
            let state = decode_msgpack(&resource.state.as_ref().unwrap().msgpack, &ty).unwrap();
            assert_eq!(state, expected, "{type_name}");
            let back = conforming(
                resource
                    .identity
                    .as_ref()
                    .expect("import didn't return an identity"),
                &id_ty,
                type_name,
            );
            for (k, v) in required {
                assert_eq!(attr(&back, k), Some(*v), "{type_name}.{k}");
            }
        }
    }
}
