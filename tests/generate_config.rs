//! Terraform's configuration generation for imports: import blocks for an
//! endpoint and a security group made outside Terraform, then
//! `terraform plan -generate-config-out` writes configuration that
//! validates, imports without changes, and plans nothing afterwards; an edit
//! to an argument EC2 cannot change shows which one forces replacement.

use crate::support;

use aws_sdk_ec2::types::{IpPermission, IpRange, Tag, UserIdGroupPair, VpcEndpointType};
use support::emulator::{create_group, create_network};
use support::terraform::planned_actions;
use support::{Emulator, Workspace};

const GROUP: &str = "planetscale_privatelink_security_group.db";
const ENDPOINT: &str = "planetscale_privatelink_endpoint.db";

/// A group letting 5432 and 6432 in from the application's group and an
/// office network, and an interface endpoint using it, both tagged, made by
/// hand (through the SDK) as a user would have done in the console.
struct Existing {
    group_id: String,
    group_name: String,
    endpoint_id: String,
}

fn made_by_hand(emulator: &Emulator) -> Existing {
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(&ec2, 51, &["us-east-1a", "us-east-1b"]));
    let app = rt.block_on(create_group(&ec2, &network.vpc_id, &support::unique("app")));
    let group_name = support::unique("db-endpoint");
    let group_id = rt.block_on(create_group(&ec2, &network.vpc_id, &group_name));
    let permissions = [5432, 6432].map(|port| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .user_id_group_pairs(UserIdGroupPair::builder().group_id(&app).build())
            .ip_ranges(
                IpRange::builder()
                    .cidr_ip("192.0.2.0/24")
                    .description("office")
                    .build(),
            )
            .build()
    });
    rt.block_on(
        ec2.authorize_security_group_ingress()
            .group_id(&group_id)
            .set_ip_permissions(Some(permissions.to_vec()))
            .send(),
    )
    .expect("AuthorizeSecurityGroupIngress");
    let service = emulator.create_endpoint_service(Some("generated.private.example.com"));
    let endpoint_id = rt
        .block_on(
            ec2.create_vpc_endpoint()
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .vpc_id(&network.vpc_id)
                .service_name(&service)
                .set_subnet_ids(Some(network.subnet_ids.clone()))
                .security_group_ids(&group_id)
                .private_dns_enabled(true)
                .send(),
        )
        .expect("CreateVpcEndpoint")
        .vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .expect("endpoint id")
        .to_owned();
    for (id, name) in [(&group_id, "db-endpoint"), (&endpoint_id, "db")] {
        rt.block_on(
            ec2.create_tags()
                .resources(id)
                .tags(Tag::builder().key("Name").value(name).build())
                .send(),
        )
        .expect("CreateTags");
    }
    Existing {
        group_id,
        group_name,
        endpoint_id,
    }
}

#[test]
fn generated_configuration_validates_imports_unchanged_and_plans_empty() {
    let emulator = Emulator::shared();
    let existing = made_by_hand(emulator);
    let ws = Workspace::new(Some(&emulator.url));
    ws.write(
        "main.tf",
        &format!(
            "{}\nprovider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n\n\
             import {{\n  to = {GROUP}\n  id = \"{}\"\n}}\n\n\
             import {{\n  to = {ENDPOINT}\n  id = \"{}\"\n}}\n",
            Workspace::required_providers(false),
            existing.group_id,
            existing.endpoint_id
        ),
    );
    ws.init();
    ws.ok(&[
        "plan",
        "-input=false",
        "-no-color",
        "-generate-config-out=generated.tf",
    ]);
    let generated = std::fs::read_to_string(ws.path().join("generated.tf"))
        .expect("terraform wrote generated.tf");
    for header in [
        "resource \"planetscale_privatelink_security_group\" \"db\"",
        "resource \"planetscale_privatelink_endpoint\" \"db\"",
    ] {
        assert!(generated.contains(header), "{header} missing:\n{generated}");
    }
    // name and name_prefix conflict: only the name is given a value.
    let flat = generated.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains(&format!("name = \"{}\"", existing.group_name)),
        "{generated}"
    );
    assert!(!flat.contains("name_prefix = \""), "{generated}");

    ws.ok(&["validate", "-no-color"]);
    // The group was made by hand, so EC2 gave it its default allow-all
    // egress rule: the import warns that the first apply revokes it, and
    // that is the only change planned.
    let run = ws.ok(&["plan", "-input=false", "-no-color"]);
    assert!(
        run.flat().contains("Rules to be revoked")
            && run.flat().contains("egress all traffic to 0.0.0.0/0"),
        "{}",
        run.text()
    );
    let plan = ws.plan_json();
    let mut actions = planned_actions(&plan);
    actions.sort();
    assert_eq!(
        actions,
        vec![
            (ENDPOINT.to_owned(), vec!["no-op".to_owned()]),
            (GROUP.to_owned(), vec!["update".to_owned()]),
        ],
        "an import of generated configuration changes nothing but the egress rule"
    );
    let group_change = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == GROUP)
        .unwrap();
    let (before, after) = (
        &group_change["change"]["before"],
        &group_change["change"]["after"],
    );
    for (key, value) in before.as_object().unwrap() {
        if key != "unmanaged_rules" {
            assert_eq!(&after[key], value, "{key} changes on import");
        }
    }
    assert_eq!(after["unmanaged_rules"], serde_json::json!([]));
    for change in plan["resource_changes"].as_array().unwrap() {
        assert!(
            change["change"]["importing"]["id"].is_string(),
            "{change:#}"
        );
    }
    ws.apply();
    assert_eq!(ws.resource(GROUP)["id"], existing.group_id.as_str());
    assert_eq!(ws.resource(ENDPOINT)["id"], existing.endpoint_id.as_str());
    ws.assert_no_changes();

    // EC2 cannot change a group's description: the plan says which
    // argument forces the replacement.
    let edited = generated.replace("\"test fixture\"", "\"PostgreSQL from the application\"");
    assert_ne!(edited, generated, "description not found in:\n{generated}");
    ws.write("generated.tf", &edited);
    let run = ws.ok(&["plan", "-input=false", "-no-color"]);
    let forcing: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains("# forces replacement"))
        .collect();
    assert!(
        forcing.len() == 1 && forcing[0].contains("description"),
        "{}",
        run.stdout
    );
}

/// A group this provider made from a `name_prefix`, left out of state and
/// imported with generated configuration: Terraform writes both `name` and
/// `name_prefix` (the import recovers the prefix from the generated name),
/// and that configuration validates, imports without changes, plans
/// nothing afterwards and destroys.
#[test]
fn generated_configuration_of_a_prefixed_group_applies_and_destroys() {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(&ec2, 56, &["us-east-1a", "us-east-1b"]));
    let provider = format!(
        "{}\nprovider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n",
        Workspace::required_providers(false)
    );
    let ws = Workspace::new(Some(&emulator.url));
    ws.write(
        "main.tf",
        &format!(
            "{provider}\nresource \"planetscale_privatelink_security_group\" \"db\" {{\n  vpc_id         = \"{}\"\n  name_prefix    = \"db-\"\n  allow_vpc_cidr = true\n}}\n",
            network.vpc_id
        ),
    );
    ws.init();
    ws.apply();
    let group_id = ws.resource(GROUP)["id"].as_str().unwrap().to_owned();
    ws.ok(&["state", "rm", GROUP]);

    ws.write(
        "main.tf",
        &format!("{provider}\nimport {{\n  to = {GROUP}\n  id = \"{group_id}\"\n}}\n"),
    );
    ws.ok(&[
        "plan",
        "-input=false",
        "-no-color",
        "-generate-config-out=generated.tf",
    ]);
    let generated = std::fs::read_to_string(ws.path().join("generated.tf"))
        .expect("terraform wrote generated.tf");
    let flat = generated.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("name_prefix = \"db-\""), "{generated}");
    assert!(flat.contains("name = \"db-"), "{generated}");
    ws.ok(&["validate", "-no-color"]);
    let plan = ws.plan_json();
    assert_eq!(
        planned_actions(&plan),
        vec![(GROUP.to_owned(), vec!["no-op".to_owned()])],
        "the import changes nothing"
    );
    ws.apply();
    assert_eq!(ws.resource(GROUP)["id"], group_id.as_str());
    ws.assert_no_changes();
    ws.destroy();
}
