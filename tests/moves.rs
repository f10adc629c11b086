//! Moving from hashicorp/aws: a security group and an interface endpoint
//! that hashicorp/aws made are taken over by this provider's resources with
//! `moved` blocks, and nothing is replaced. Against the emulator with the
//! real terraform; the refusals through MoveResourceState in process.

use crate::support;

use support::inprocess::connect;
use support::terraform::planned_actions;
use support::{Emulator, Workspace};
use terraform_provider_planetscale::framework::codec::decode_msgpack;
use terraform_provider_planetscale::framework::value::Value;
use terraform_provider_planetscale::protocol::tfplugin6 as pb;

const AWS: &str = "registry.terraform.io/hashicorp/aws";
const GROUP: &str = "planetscale_privatelink_security_group.db";
const ENDPOINT: &str = "planetscale_privatelink_endpoint.db";

/// The network, the application's group, and the endpoint's group and the
/// endpoint itself in hashicorp/aws; `endpoint` is either those last two
/// or their replacement by this provider's resources.
fn config(service: &str, endpoint: &str) -> String {
    format!(
        r#"{providers}
provider "aws" {{
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}}

provider "planetscale" {{
  region = "us-east-1"
}}

resource "aws_vpc" "app" {{
  cidr_block           = "10.71.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
}}

resource "aws_subnet" "app" {{
  count             = 2
  vpc_id            = aws_vpc.app.id
  availability_zone = ["us-east-1a", "us-east-1b"][count.index]
  cidr_block        = cidrsubnet(aws_vpc.app.cidr_block, 8, count.index)
}}

resource "aws_security_group" "app" {{
  name_prefix = "app-"
  vpc_id      = aws_vpc.app.id
}}

locals {{
  service_name = "{service}"
}}
{endpoint}"#,
        providers = Workspace::required_providers(true)
    )
}

const WITH_AWS: &str = r#"
resource "aws_security_group" "db" {
  name_prefix = "db-endpoint-"
  description = "PostgreSQL and PSBouncer from the application"
  vpc_id      = aws_vpc.app.id

  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
  ingress {
    from_port       = 6432
    to_port         = 6432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }

  tags = {
    Name = "db-endpoint"
  }
}

resource "aws_vpc_endpoint" "db" {
  service_name        = local.service_name
  vpc_id              = aws_vpc.app.id
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.app[*].id
  security_group_ids  = [aws_security_group.db.id]
  private_dns_enabled = true

  tags = {
    Name = "db"
  }
}
"#;

const WITH_PLANETSCALE: &str = r#"
resource "planetscale_privatelink_security_group" "db" {
  name_prefix                = "db-endpoint-"
  description                = "PostgreSQL and PSBouncer from the application"
  vpc_id                     = aws_vpc.app.id
  allowed_security_group_ids = [aws_security_group.app.id]

  tags = {
    Name = "db-endpoint"
  }
}

moved {
  from = aws_security_group.db
  to   = planetscale_privatelink_security_group.db
}

resource "planetscale_privatelink_endpoint" "db" {
  service_name       = local.service_name
  vpc_id             = aws_vpc.app.id
  subnet_ids         = aws_subnet.app[*].id
  security_group_ids = [planetscale_privatelink_security_group.db.id]

  tags = {
    Name = "db"
  }
}

moved {
  from = aws_vpc_endpoint.db
  to   = planetscale_privatelink_endpoint.db
}
"#;

#[test]
fn aws_security_group_and_vpc_endpoint_move_in_without_replacement() {
    let emulator = Emulator::shared();
    let service = emulator.create_endpoint_service(Some("moved.private.example.com"));
    let ws = Workspace::new(Some(&emulator.url));
    ws.write("main.tf", &config(&service, WITH_AWS));
    ws.init();
    ws.apply();
    let group_id = ws.resource("aws_security_group.db")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let endpoint_id = ws.resource("aws_vpc_endpoint.db")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(group_id.starts_with("sg-") && endpoint_id.starts_with("vpce-"));

    // The same objects, now described by this provider: the plan moves them
    // and changes nothing, anywhere.
    ws.write("main.tf", &config(&service, WITH_PLANETSCALE));
    let plan = ws.plan_json();
    for (address, actions) in planned_actions(&plan) {
        assert_eq!(actions, ["no-op"], "{address} in:\n{plan:#}");
    }
    let previous = |address: &str| {
        plan["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|rc| rc["address"] == address)
            .map(|rc| rc["previous_address"].clone())
            .unwrap_or_else(|| panic!("{address} is not in the plan:\n{plan:#}"))
    };
    assert_eq!(previous(GROUP), "aws_security_group.db");
    assert_eq!(previous(ENDPOINT), "aws_vpc_endpoint.db");

    ws.apply();
    let group = ws.resource(GROUP);
    let endpoint = ws.resource(ENDPOINT);
    assert_eq!(group["id"], group_id.as_str());
    assert_eq!(endpoint["id"], endpoint_id.as_str());
    let app = ws.resource("aws_security_group.app");
    assert_eq!(
        group["allowed_security_group_ids"],
        serde_json::json!([app["id"]])
    );
    assert_eq!(group["ports"], serde_json::json!([5432, 6432]));
    assert_eq!(group["name_prefix"], "db-endpoint-");
    assert_eq!(endpoint["state"], "available");
    assert_eq!(
        endpoint["security_group_ids"],
        serde_json::json!([group_id])
    );
    let state = ws.state();
    let types: Vec<&str> = state["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["type"].as_str())
        .collect();
    assert!(
        !types.contains(&"aws_vpc_endpoint"),
        "the endpoint is still in hashicorp/aws's hands: {types:?}"
    );
    ws.assert_no_changes();

    // This provider now owns them: destroy deletes them.
    ws.destroy();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let left = rt
        .block_on(
            ec2.describe_vpc_endpoints()
                .vpc_endpoint_ids(&endpoint_id)
                .send(),
        )
        .unwrap();
    assert!(
        left.vpc_endpoints()
            .iter()
            .all(|e| e.state().is_some_and(|s| s.as_str() == "deleted")),
        "the moved endpoint outlived destroy"
    );
    let groups = rt.block_on(ec2.describe_security_groups().group_ids(&group_id).send());
    assert!(groups.is_err(), "the moved security group outlived destroy");
}

/// MoveResourceState in process, as Terraform sends it for a `moved` block.
async fn move_state(
    source_type: &str,
    json: &str,
    target_type: &str,
) -> pb::move_resource_state::Response {
    let mut client = connect().await;
    client
        .move_resource_state(pb::move_resource_state::Request {
            source_provider_address: AWS.into(),
            source_type_name: source_type.into(),
            source_schema_version: 0,
            source_state: Some(pb::RawState {
                json: json.as_bytes().to_vec(),
                flatmap: Default::default(),
            }),
            target_type_name: target_type.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

fn summaries(response: &pb::move_resource_state::Response) -> Vec<String> {
    response
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .collect()
}

#[tokio::test]
async fn an_interface_endpoint_arrives_as_this_providers_state() {
    let json = include_str!("../src/resources/testdata/aws_vpc_endpoint_interface.json");
    let response = move_state("aws_vpc_endpoint", json, "planetscale_privatelink_endpoint").await;
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        summaries(&response)
    );
    let ty = terraform_provider_planetscale::server().resources["planetscale_privatelink_endpoint"]
        .ty
        .clone();
    let state = decode_msgpack(&response.target_state.unwrap().msgpack, &ty).unwrap();
    assert_eq!(
        state.get_attr("id"),
        Some(&Value::String("vpce-656d57023c5bdef64".into()))
    );
}

#[tokio::test]
async fn gateway_endpoints_are_refused_saying_why() {
    let json = include_str!("../src/resources/testdata/aws_vpc_endpoint_gateway.json");
    let response = move_state("aws_vpc_endpoint", json, "planetscale_privatelink_endpoint").await;
    assert!(response.target_state.is_none());
    let text = summaries(&response).join("\n");
    assert!(text.contains("Not an interface endpoint"), "{text}");
    assert!(text.contains("Gateway"), "{text}");
}

#[tokio::test]
async fn other_resource_types_are_an_unsupported_move() {
    let json = include_str!("../src/resources/testdata/aws_security_group_ingress_from_group.json");
    for (source, target) in [
        ("aws_security_group", "planetscale_privatelink_endpoint"),
        ("aws_instance", "planetscale_privatelink_security_group"),
    ] {
        let response = move_state(source, json, target).await;
        assert!(response.target_state.is_none());
        let text = summaries(&response).join("\n");
        assert!(
            text.contains("Unsupported move"),
            "{source} to {target}: {text}"
        );
    }
}
