//! Tags survive every in-place change. Both resources carry tags of their
//! own, a key also set in the provider's `default_tags`, and a key whose
//! value is null (an optional variable left unset). Each in-place change is
//! made alone; after each, EC2 must still hold exactly the tags it held,
//! and the next plan must be empty.

use crate::support;

use std::collections::BTreeMap;

use support::emulator::{Network, create_group, create_network};
use support::{Emulator, Workspace};

const ENDPOINT: &str = "planetscale_privatelink_endpoint.db";
const GROUP: &str = "planetscale_privatelink_security_group.db";
/// The tag every endpoint the provider creates keeps, with its create token.
const CREATE_TOKEN_TAG: &str = "planetscale:create-token";

struct Fixture {
    ec2: aws_sdk_ec2::Client,
    network: Network,
    apps: Vec<String>,
    service: String,
    rt: tokio::runtime::Runtime,
}

fn fixture(octet: u8) -> Fixture {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(
        &ec2,
        octet,
        &["us-east-1a", "us-east-1b", "us-east-1c"],
    ));
    let apps = (0..2)
        .map(|_| rt.block_on(create_group(&ec2, &network.vpc_id, &support::unique("app"))))
        .collect();
    let service = emulator.create_endpoint_service(Some(&format!("db{octet}.private.example.com")));
    Fixture {
        ec2,
        network,
        apps,
        service,
        rt,
    }
}

/// One configuration, with the arguments a step changes.
struct Step {
    subnets: usize,
    endpoint_app_group: bool,
    ports: &'static str,
    cidrs: &'static str,
}

const FIRST: Step = Step {
    subnets: 2,
    endpoint_app_group: false,
    ports: "[5432, 6432]",
    cidrs: "[]",
};

impl Fixture {
    fn config(&self, step: &Step) -> String {
        let subnets: Vec<String> = self.network.subnet_ids[..step.subnets]
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect();
        let endpoint_groups = if step.endpoint_app_group {
            format!(
                "[planetscale_privatelink_security_group.db.id, \"{}\"]",
                self.apps[1]
            )
        } else {
            "[planetscale_privatelink_security_group.db.id]".to_owned()
        };
        format!(
            r#"{required}
variable "unset" {{
  type    = string
  default = null
}}

provider "planetscale" {{
  region = "us-east-1"
  default_tags {{
    tags = {{
      Team  = "db"
      Owner = "platform"
    }}
  }}
}}

resource "planetscale_privatelink_security_group" "db" {{
  vpc_id                     = "{vpc}"
  allowed_security_group_ids = ["{app}"]
  allowed_cidr_blocks        = {cidrs}
  ports                      = {ports}
  tags = {{
    Name     = "db-endpoint"
    Owner    = "platform"
    Optional = var.unset
  }}
}}

resource "planetscale_privatelink_endpoint" "db" {{
  service_name       = "{service}"
  vpc_id             = "{vpc}"
  subnet_ids         = [{subnets}]
  security_group_ids = {endpoint_groups}
  tags = {{
    Name     = "db"
    Team     = "db"
    Optional = var.unset
  }}
}}
"#,
            required = Workspace::required_providers(false),
            vpc = self.network.vpc_id,
            app = self.apps[0],
            cidrs = step.cidrs,
            ports = step.ports,
            service = self.service,
            subnets = subnets.join(", "),
        )
    }

    /// The resource's tags in EC2, without the endpoint's create token
    /// (see [`Fixture::create_token_of`]).
    fn tags_of(&self, id: &str) -> BTreeMap<String, String> {
        let mut tags = self.all_tags_of(id);
        tags.remove(CREATE_TOKEN_TAG);
        tags
    }

    /// The create token an endpoint keeps for good.
    fn create_token_of(&self, id: &str) -> Option<String> {
        self.all_tags_of(id).remove(CREATE_TOKEN_TAG)
    }

    fn all_tags_of(&self, id: &str) -> BTreeMap<String, String> {
        self.rt
            .block_on(
                self.ec2
                    .describe_tags()
                    .filters(
                        aws_sdk_ec2::types::Filter::builder()
                            .name("resource-id")
                            .values(id)
                            .build(),
                    )
                    .send(),
            )
            .unwrap()
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn every_in_place_change_alone_keeps_every_tag() {
    let f = fixture(61);
    let ws = Workspace::new(Some(&Emulator::shared().url));
    ws.write("main.tf", &f.config(&FIRST));
    ws.init();
    ws.apply();
    let endpoint = ws.resource(ENDPOINT)["id"].as_str().unwrap().to_owned();
    let group = ws.resource(GROUP)["id"].as_str().unwrap().to_owned();
    let endpoint_tags = tags(&[("Name", "db"), ("Team", "db"), ("Owner", "platform")]);
    let group_tags = tags(&[
        ("Name", "db-endpoint"),
        ("Team", "db"),
        ("Owner", "platform"),
    ]);
    assert_eq!(f.tags_of(&endpoint), endpoint_tags);
    assert_eq!(
        f.tags_of(&group),
        group_tags,
        "the group keeps no tag of the provider's own"
    );
    // A key duplicated in default_tags stays in `tags`; a null value stays null.
    let state = ws.resource(ENDPOINT);
    assert_eq!(state["tags"]["Team"], "db", "{state:#}");
    assert!(state["tags"]["Optional"].is_null(), "{state:#}");
    assert_eq!(ws.resource(GROUP)["tags"]["Owner"], "platform");
    ws.assert_no_changes();

    let steps = [
        (
            "a subnet added to the endpoint",
            Step {
                subnets: 3,
                ..FIRST
            },
        ),
        (
            "a security group added to the endpoint",
            Step {
                subnets: 3,
                endpoint_app_group: true,
                ..FIRST
            },
        ),
        (
            "a port removed from the group",
            Step {
                subnets: 3,
                endpoint_app_group: true,
                ports: "[5432]",
                ..FIRST
            },
        ),
        (
            "a CIDR block added to the group",
            Step {
                subnets: 3,
                endpoint_app_group: true,
                ports: "[5432]",
                cidrs: "[\"10.61.0.0/24\"]",
            },
        ),
    ];
    for (what, step) in steps {
        ws.write("main.tf", &f.config(&step));
        let plan = ws.plan_json();
        let actions = support::terraform::planned_actions(&plan);
        assert!(
            actions
                .iter()
                .all(|(_, a)| a == &["update"] || a == &["no-op"]),
            "{what}: {actions:?}"
        );
        ws.apply();
        assert_eq!(f.tags_of(&endpoint), endpoint_tags, "{what}: endpoint tags");
        assert_eq!(f.tags_of(&group), group_tags, "{what}: group tags");
        assert_eq!(ws.resource(ENDPOINT)["id"], endpoint.as_str(), "{what}");
        assert_eq!(ws.resource(GROUP)["id"], group.as_str(), "{what}");
        ws.assert_no_changes();
    }

    // Drift alone (a tag removed by hand) is put back, and nothing else is
    // touched.
    f.rt.block_on(
        f.ec2
            .delete_tags()
            .resources(&endpoint)
            .tags(aws_sdk_ec2::types::Tag::builder().key("Name").build())
            .send(),
    )
    .unwrap();
    // A tag-only update plans what tags cannot change as it is, not
    // unknown.
    let plan = ws.plan_json();
    let change = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == ENDPOINT)
        .expect("the endpoint's change");
    assert_eq!(change["change"]["actions"], serde_json::json!(["update"]));
    for kept in ["dns_entries", "network_interface_ids", "state"] {
        assert!(
            !change["change"]["after_unknown"][kept]
                .to_string()
                .contains("true"),
            "{kept} planned unknown for a tag-only update: {:#}",
            change["change"]["after_unknown"]
        );
        assert_eq!(
            change["change"]["after"][kept], change["change"]["before"][kept],
            "{kept}"
        );
    }
    ws.apply();
    assert_eq!(f.tags_of(&endpoint), endpoint_tags, "drift repaired");
    assert!(
        f.create_token_of(&endpoint)
            .is_some_and(|t| t.starts_with("tf-planetscale-")),
        "the endpoint keeps its create token through tag changes"
    );
    assert_eq!(f.tags_of(&group), group_tags);
    ws.assert_no_changes();
    ws.destroy();
}

#[test]
fn fifty_tags_with_default_tags_fail_at_plan_and_fifty_alone_apply() {
    let f = fixture(62);
    let fifty: Vec<String> = (0..50).map(|i| format!("    k{i:02} = \"v\"")).collect();
    let config = |defaults: &str| {
        format!(
            "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n{defaults}}}\n\nresource \"planetscale_privatelink_security_group\" \"db\" {{\n  vpc_id = \"{}\"\n  allow_vpc_cidr = true\n  tags = {{\n{}\n  }}\n}}\n",
            Workspace::required_providers(false),
            f.network.vpc_id,
            fifty.join("\n")
        )
    };
    let ws = Workspace::new(Some(&Emulator::shared().url));
    ws.write(
        "main.tf",
        &config("  default_tags {\n    tags = { Team = \"db\" }\n  }\n"),
    );
    ws.init();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(run.code, 1, "{}", run.text());
    let text = run.flat();
    assert!(
        text.contains("tags") && text.contains("at most 50") && text.contains("default_tags"),
        "{text}"
    );

    // Fifty of the user's own fit: the provider's bookkeeping takes none.
    ws.write("main.tf", &config(""));
    ws.apply();
    let id = ws.resource(GROUP)["id"].as_str().unwrap().to_owned();
    assert_eq!(f.tags_of(&id).len(), 50);
    ws.assert_no_changes();
    ws.destroy();
}

/// A change of tags alone (here a provider default tag) writes the tags of
/// both resources and nothing else: the apply reads neither the VPC, the
/// rules nor the endpoint again, since the plan kept what tags cannot
/// change as it was.
#[test]
fn a_tag_only_change_calls_only_the_tag_writes() {
    let f = fixture(64);
    let proxy = support::proxy::Proxy::start(&Emulator::shared().url);
    let ws = Workspace::new(Some(&proxy.url));
    let config = f.config(&FIRST);
    ws.write("main.tf", &config);
    ws.init();
    ws.apply();
    let retagged = config.replace("Team  = \"db\"", "Team  = \"data\"\n      Stage = \"prod\"");
    assert_ne!(retagged, config);
    ws.write("main.tf", &retagged);
    ws.ok(&["plan", "-input=false", "-no-color", "-out=tags.tfplan"]);
    proxy.take_trace();
    ws.ok(&["apply", "-input=false", "-no-color", "tags.tfplan"]);
    let mut calls: Vec<String> = proxy
        .take_trace()
        .into_iter()
        .filter(|a| a != "GetCallerIdentity")
        .collect();
    calls.sort();
    assert_eq!(calls, ["CreateTags", "CreateTags"], "the apply's calls");
    ws.assert_no_changes();
    ws.destroy();
}
