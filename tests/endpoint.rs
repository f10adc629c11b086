//! planetscale_privatelink_endpoint against the EC2 emulator with the real
//! terraform: create, in-place updates, replacement, disappearance, import,
//! bad input, and waiting through states the emulator never shows (served
//! by the fault proxy).

use crate::support;

use support::emulator::{Network, create_group, create_network};
use support::proxy::{Faults, Proxy, StateRewrite};
use support::terraform::planned_actions;
use support::{Emulator, Workspace};

const ADDRESS: &str = "planetscale_privatelink_endpoint.db";

struct Fixture {
    emulator: &'static Emulator,
    ec2: aws_sdk_ec2::Client,
    network: Network,
    groups: Vec<String>,
    service: String,
    rt: tokio::runtime::Runtime,
}

/// A VPC with subnets in us-east-1a, b, c and a second one in a; two
/// security groups; and PlanetScale's side, an endpoint service.
fn fixture(octet: u8) -> Fixture {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(
        &ec2,
        octet,
        &["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1a"],
    ));
    let groups = (0..2)
        .map(|_| rt.block_on(create_group(&ec2, &network.vpc_id, &support::unique("app"))))
        .collect();
    let service = emulator.create_endpoint_service(Some(&format!("db{octet}.private.example.com")));
    Fixture {
        emulator,
        ec2,
        network,
        groups,
        service,
        rt,
    }
}

impl Fixture {
    fn config(&self, body: &str) -> String {
        format!(
            "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n\nresource \"planetscale_privatelink_endpoint\" \"db\" {{\n{body}\n}}\n",
            Workspace::required_providers(false)
        )
    }

    fn body(&self, subnets: &[usize], group: usize, extra: &str) -> String {
        let subnets: Vec<String> = subnets
            .iter()
            .map(|i| format!("\"{}\"", self.network.subnet_ids[*i]))
            .collect();
        format!(
            "  service_name       = \"{}\"\n  vpc_id             = \"{}\"\n  subnet_ids         = [{}]\n  security_group_ids = [\"{}\"]\n{extra}",
            self.service,
            self.network.vpc_id,
            subnets.join(", "),
            self.groups[group]
        )
    }

    /// Endpoints of the test's VPC in any state but `deleted`.
    fn live_endpoints(&self) -> Vec<aws_sdk_ec2::types::VpcEndpoint> {
        self.rt.block_on(support::emulator::live_endpoints(
            &self.ec2,
            &self.network.vpc_id,
        ))
    }

    fn endpoint(&self, id: &str) -> aws_sdk_ec2::types::VpcEndpoint {
        self.live_endpoints()
            .into_iter()
            .find(|e| e.vpc_endpoint_id() == Some(id))
            .expect("endpoint in EC2")
    }
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut v = items.to_vec();
    v.sort();
    v
}

#[test]
fn create_update_replace_and_destroy() {
    let f = fixture(21);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &f.config(&f.body(&[0, 1], 0, "  tags = { Name = \"db\" }")),
    );
    ws.init();
    ws.apply();
    let state = ws.resource(ADDRESS);
    let id = state["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("vpce-"));
    assert_eq!(state["state"], "available");
    assert_eq!(state["private_dns_enabled"], true);
    assert!(
        state["dns_entries"][0]["dns_name"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    let e = f.endpoint(&id);
    assert_eq!(e.vpc_endpoint_type().map(|t| t.as_str()), Some("Interface"));
    assert_eq!(e.service_name(), Some(f.service.as_str()));
    assert_eq!(sorted(e.subnet_ids()), sorted(&f.network.subnet_ids[..2]));
    assert_eq!(
        e.groups()
            .iter()
            .filter_map(|g| g.group_id())
            .collect::<Vec<_>>(),
        vec![f.groups[0].as_str()]
    );
    assert_eq!(e.private_dns_enabled(), Some(true));
    assert_eq!(f.live_endpoints().len(), 1);
    ws.assert_no_changes();

    // A subnet added, the security group swapped, tags changed: in place.
    ws.write(
        "main.tf",
        &f.config(&f.body(&[0, 1, 2], 1, "  tags = { Name = \"db\", Env = \"test\" }")),
    );
    let plan = ws.plan_json();
    assert_eq!(
        planned_actions(&plan),
        vec![(ADDRESS.to_owned(), vec!["update".to_owned()])]
    );
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    let e = f.endpoint(&id);
    assert_eq!(sorted(e.subnet_ids()), sorted(&f.network.subnet_ids[..3]));
    assert_eq!(
        e.groups()
            .iter()
            .filter_map(|g| g.group_id())
            .collect::<Vec<_>>(),
        vec![f.groups[1].as_str()]
    );
    let tags: Vec<(String, String)> = e
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().into(), t.value().unwrap().into()))
        .collect();
    assert!(tags.contains(&("Env".into(), "test".into())), "{tags:?}");
    ws.assert_no_changes();

    // Another service or another VPC replaces the endpoint, and says why.
    let other_service = f
        .emulator
        .create_endpoint_service(Some("other21.private.example.com"));
    let replaced = f
        .body(&[0, 1, 2], 1, "  tags = { Name = \"db\", Env = \"test\" }")
        .replace(&f.service, &other_service);
    ws.write("main.tf", &f.config(&replaced));
    let plan = ws.plan_json();
    let actions = planned_actions(&plan);
    assert!(
        actions[0].1.contains(&"delete".to_owned()) && actions[0].1.contains(&"create".to_owned()),
        "{actions:?}"
    );
    assert_eq!(
        plan["resource_changes"][0]["change"]["replace_paths"],
        serde_json::json!([["service_name"]])
    );
    let run = ws.ok(&["plan", "-no-color"]);
    assert!(
        run.stdout.contains("# forces replacement"),
        "{}",
        run.stdout
    );

    ws.write(
        "main.tf",
        &f.config(&f.body(&[0, 1, 2], 1, "  tags = { Name = \"db\", Env = \"test\" }")),
    );
    ws.destroy();
    assert!(f.live_endpoints().is_empty(), "destroy left an endpoint");
}

#[test]
fn deleted_out_of_band_is_created_again_and_import_plans_empty() {
    let f = fixture(22);
    let ws = Workspace::new(Some(&f.emulator.url));
    let body = f.body(&[0, 1], 0, "");
    ws.write("main.tf", &f.config(&body));
    ws.init();
    ws.apply();
    let id = ws.resource(ADDRESS)["id"].as_str().unwrap().to_owned();

    // Import into a fresh workspace: the next plan is empty.
    let imported = Workspace::new(Some(&f.emulator.url));
    imported.write("main.tf", &f.config(&body));
    imported.init();
    imported.ok(&["import", "-no-color", ADDRESS, &id]);
    let run = imported.plan_code();
    assert_eq!(
        run.code, 0,
        "plan after import is not empty:\n{}",
        run.stdout
    );
    let bad = imported.run(&[
        "import",
        "-no-color",
        "planetscale_privatelink_endpoint.other",
        "sg-0123456789abcdef0",
    ]);
    assert_ne!(bad.code, 0);

    f.rt.block_on(f.ec2.delete_vpc_endpoints().vpc_endpoint_ids(&id).send())
        .unwrap();
    let plan = ws.plan_json();
    assert_eq!(
        planned_actions(&plan),
        vec![(ADDRESS.to_owned(), vec!["create".to_owned()])]
    );
    ws.apply();
    assert_ne!(ws.resource(ADDRESS)["id"], id.as_str());
    ws.destroy();
    assert!(f.live_endpoints().is_empty());
}

#[test]
fn waits_through_pending_states_and_fails_clearly() {
    let f = fixture(24);
    let proxy = Proxy::start(&f.emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    let body = |timeout: &str| {
        f.body(
            &[0, 1],
            0,
            &format!("  timeouts {{\n    create = \"{timeout}\"\n  }}"),
        )
    };

    // `pending` for a while: apply waits, then succeeds.
    proxy.set_faults(Faults {
        endpoint_state: Some(StateRewrite {
            state: "pending".into(),
            times: Some(3),
            last_error: None,
        }),
        ..Faults::default()
    });
    ws.write("main.tf", &f.config(&body("2m")));
    ws.init();
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["state"], "available");
    ws.destroy();

    // `pendingAcceptance` until the timeout: not a failure. The apply
    // finishes with a warning, the endpoint in state as pendingAcceptance
    // and not tainted; once PlanetScale accepts, a refresh shows it
    // available and nothing is replaced.
    proxy.set_faults(Faults {
        endpoint_state: Some(StateRewrite {
            state: "pendingAcceptance".into(),
            times: None,
            last_error: None,
        }),
        ..Faults::default()
    });
    ws.write("main.tf", &f.config(&body("3s")));
    let run = ws.apply();
    assert!(
        run.flat().contains("awaiting acceptance") && run.flat().contains("PlanetScale"),
        "{}",
        run.text()
    );
    let state = ws.state();
    let resource = &state["values"]["root_module"]["resources"][0];
    assert_ne!(resource["tainted"], true, "{state:#}");
    assert_eq!(resource["values"]["state"], "pendingAcceptance");
    let pending_id = resource["values"]["id"].as_str().unwrap().to_owned();
    proxy.set_faults(Faults::default());
    ws.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(ws.resource(ADDRESS)["state"], "available");
    ws.assert_no_changes();
    assert_eq!(ws.resource(ADDRESS)["id"], pending_id.as_str());
    ws.destroy();
    assert!(f.live_endpoints().is_empty(), "an endpoint was left behind");

    // `failed` with the API's last error: the wait ends at once, with it.
    proxy.set_faults(Faults {
        endpoint_state: Some(StateRewrite {
            state: "failed".into(),
            times: None,
            last_error: Some((
                "InsufficientCapacity".into(),
                "no capacity for the endpoint in us-east-1a".into(),
            )),
        }),
        ..Faults::default()
    });
    ws.write("main.tf", &f.config(&body("10m")));
    let started = std::time::Instant::now();
    let run = ws.try_apply();
    assert_eq!(run.code, 1);
    assert!(
        run.flat().contains("no capacity for the endpoint"),
        "{}",
        run.text()
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "a failed endpoint must end the wait at once"
    );
    proxy.set_faults(Faults::default());
    ws.destroy();
    assert!(f.live_endpoints().is_empty());

    // A state the wait does not expect (`deleting` while waiting for
    // `available`) ends it at once, named; waiting would not help.
    proxy.set_faults(Faults {
        endpoint_state: Some(StateRewrite {
            state: "deleting".into(),
            times: None,
            last_error: None,
        }),
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let run = ws.try_apply();
    assert_eq!(run.code, 1);
    assert!(run.flat().contains("Endpoint deleting"), "{}", run.text());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "an unexpected state must end the wait at once"
    );
    proxy.set_faults(Faults::default());
    ws.destroy();
    assert!(f.live_endpoints().is_empty());
}

/// What the plan says of one attribute of the endpoint: its planned value,
/// or `None` when it is known only after apply.
fn planned_value(plan: &serde_json::Value, name: &str) -> Option<serde_json::Value> {
    let change = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == ADDRESS)
        .expect("the endpoint in the plan");
    if change["change"]["after_unknown"][name] == true {
        None
    } else {
        Some(change["change"]["after"][name].clone())
    }
}

/// An endpoint to a service whose owner accepts each connection (the
/// strict layer holds it `pendingAcceptance` and refuses private DNS until
/// accepted, rule 18). Private DNS left to its default: known after the
/// create, `false` in state while pending (what EC2 has), no change planned
/// and no apply failing while PlanetScale has not accepted, a warning
/// saying what is awaited; the first apply after acceptance turns it on.
#[test]
fn a_service_requiring_acceptance_finishes_pending_and_nothing_is_replaced() {
    let f = fixture(25);
    let service = f
        .emulator
        .create_endpoint_service_requiring_acceptance("db25.accept.example.com");
    let ws = Workspace::new(Some(&f.emulator.url));
    let body = f
        .body(&[0, 1], 0, "  timeouts {\n    create = \"5s\"\n  }")
        .replace(&f.service, &service);
    ws.write("main.tf", &f.config(&body));
    ws.init();
    let plan = ws.plan_json();
    assert_eq!(
        planned_value(&plan, "private_dns_enabled"),
        None,
        "whether private DNS is on after the create is up to PlanetScale"
    );
    let run = ws.apply();
    assert!(run.flat().contains("awaiting acceptance"), "{}", run.text());
    let state = ws.state();
    let entry = support::terraform::find_in_state(&state, ADDRESS).unwrap();
    assert_ne!(entry["tainted"], true, "{state:#}");
    assert_eq!(entry["values"]["state"], "pendingAcceptance");
    assert_eq!(
        entry["values"]["private_dns_enabled"], false,
        "the state says what EC2 has"
    );
    let id = entry["values"]["id"].as_str().unwrap().to_owned();
    assert_eq!(f.endpoint(&id).private_dns_enabled(), Some(false));

    // Still pending: nothing to change, nothing fails, and the plan says
    // what it waits for.
    let pending = ws.plan_code();
    assert_eq!(pending.code, 0, "{}", pending.text());
    assert!(
        pending
            .flat()
            .contains("Private DNS awaits PlanetScale's acceptance"),
        "{}",
        pending.text()
    );
    ws.apply();

    // PlanetScale accepts. The refresh shows it, the next apply turns
    // private DNS on in place, and the plan after that is empty.
    f.emulator.strict.accept(&id);
    let plan = ws.plan_json();
    assert_eq!(
        planned_actions(&plan),
        vec![(ADDRESS.to_owned(), vec!["update".to_owned()])],
        "accepted: an update, never a replacement"
    );
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["state"], "available");
    assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    assert_eq!(ws.resource(ADDRESS)["private_dns_enabled"], true);
    assert_eq!(dns_through_strict(&f, &id), Some(true));
    ws.assert_no_changes();
    assert_eq!(early_private_dns(&f), Vec::<String>::new());
    ws.destroy();
    assert!(f.live_endpoints().is_empty());
}

/// The same with `private_dns_enabled = true` written out: the plan must
/// show it, so each apply while pending records it without asking EC2
/// (which would refuse), with the warning; none fails.
#[test]
fn private_dns_written_out_waits_for_acceptance_without_failing_an_apply() {
    let f = fixture(30);
    let service = f
        .emulator
        .create_endpoint_service_requiring_acceptance("db30.accept.example.com");
    let ws = Workspace::new(Some(&f.emulator.url));
    let body = f
        .body(
            &[0, 1],
            0,
            "  private_dns_enabled = true\n  timeouts {\n    create = \"5s\"\n  }",
        )
        .replace(&f.service, &service);
    ws.write("main.tf", &f.config(&body));
    ws.init();
    ws.apply();
    let id = ws.resource(ADDRESS)["id"].as_str().unwrap().to_owned();
    assert_eq!(dns_through_strict(&f, &id), Some(false));

    for _ in 0..2 {
        let run = ws.apply();
        assert!(
            run.flat()
                .contains("Private DNS awaits PlanetScale's acceptance"),
            "{}",
            run.text()
        );
        assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    }
    assert_eq!(
        early_private_dns(&f),
        Vec::<String>::new(),
        "no apply asked EC2 for private DNS before acceptance"
    );

    f.emulator.strict.accept(&id);
    ws.apply();
    assert_eq!(dns_through_strict(&f, &id), Some(true));
    ws.assert_no_changes();
    ws.destroy();
    assert!(f.live_endpoints().is_empty());
}

/// The strict layer's refusals of private DNS before acceptance (rule 18),
/// from any test sharing the emulator.
fn early_private_dns(f: &Fixture) -> Vec<String> {
    f.emulator
        .strict
        .refusals()
        .into_iter()
        .filter(|r| {
            r.message
                .contains("before the endpoint connection is accepted")
        })
        .map(|r| format!("{}: {}", r.action, r.message))
        .collect()
}

/// An endpoint's private DNS as EC2 shows it: read through the strict
/// layer, which applies ModifyVpcEndpoint's PrivateDnsEnabled as EC2 does
/// (the emulator ignores it).
fn dns_through_strict(f: &Fixture, id: &str) -> Option<bool> {
    let through_strict = support::emulator::ec2_client(&f.emulator.url);
    let shown =
        f.rt.block_on(
            through_strict
                .describe_vpc_endpoints()
                .vpc_endpoint_ids(id)
                .send(),
        )
        .unwrap();
    shown.vpc_endpoints()[0].private_dns_enabled()
}

#[test]
fn destroy_succeeds_when_a_planned_endpoint_fails_its_checks() {
    let f = fixture(26);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(&f.body(&[0, 1], 0, "")));
    ws.init();
    ws.apply();
    // A second endpoint, not yet created, whose subnets share a zone: the
    // plan fails on it, and must not keep the first from being destroyed.
    let second = format!(
        "resource \"planetscale_privatelink_endpoint\" \"second\" {{\n{}\n}}\n",
        f.body(&[0, 3], 1, "  private_dns_enabled = false")
    );
    ws.write("second.tf", &second);
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.flat().contains("one availability zone"),
        "{}",
        run.text()
    );
    ws.destroy();
    assert!(f.live_endpoints().is_empty(), "destroy left an endpoint");
    let run = ws.run(&["state", "list"]);
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
}

#[test]
fn a_subnet_swapped_for_another_of_its_zone_changes_in_place() {
    let f = fixture(27);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &f.config(&f.body(&[0, 1], 0, "  tags = { Name = \"db\" }")),
    );
    ws.init();
    ws.apply();
    let id = ws.resource(ADDRESS)["id"].as_str().unwrap().to_owned();
    // Subnets 0 and 3 are both in us-east-1a: EC2 refuses adding 3 while 0
    // is still there, even when the same call removes 0.
    ws.write(
        "main.tf",
        &f.config(&f.body(&[3, 1], 0, "  tags = { Name = \"db\" }")),
    );
    let plan = ws.plan_json();
    assert_eq!(
        planned_actions(&plan),
        vec![(ADDRESS.to_owned(), vec!["update".to_owned()])]
    );
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    let e = f.endpoint(&id);
    assert_eq!(
        sorted(e.subnet_ids()),
        sorted(&[
            f.network.subnet_ids[3].clone(),
            f.network.subnet_ids[1].clone()
        ])
    );
    let mut keys: Vec<&str> = e.tags().iter().filter_map(|t| t.key()).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["Name", "planetscale:create-token"],
        "the tags are untouched (the provider keeps its create token)"
    );
    ws.assert_no_changes();
    ws.destroy();
}

/// Private DNS in a VPC whose DNS hostnames are off, in a configuration
/// that manages the VPC with hashicorp/aws: the plan warns; while they stay
/// off the apply stops before creating the endpoint, with the same words;
/// the apply that turns them on creates the endpoint after the VPC change,
/// in one apply.
#[test]
fn dns_hostnames_turned_on_in_the_same_apply_need_no_second_apply() {
    let emulator = Emulator::shared();
    let service = emulator.create_endpoint_service(Some("db-one-apply.private.example.com"));
    let ws = Workspace::new(Some(&emulator.url));
    let config = |hostnames: bool, endpoint: bool| {
        let endpoint = if endpoint {
            r#"
resource "planetscale_privatelink_endpoint" "db" {
  service_name       = local.service_name
  vpc_id             = aws_vpc.app.id
  subnet_ids         = aws_subnet.app[*].id
  security_group_ids = [aws_security_group.app.id]
}
"#
        } else {
            ""
        };
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

locals {{
  service_name = "{service}"
}}

resource "aws_vpc" "app" {{
  cidr_block           = "10.72.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = {hostnames}
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
{endpoint}"#,
            providers = Workspace::required_providers(true)
        )
    };
    ws.write("main.tf", &config(false, false));
    ws.init();
    ws.apply();

    // Still off: a warning at plan, then an error before the create.
    ws.write("main.tf", &config(false, true));
    let run = ws.try_apply();
    assert!(!run.success(), "{}", run.text());
    let text = run.flat();
    assert!(
        text.contains("The VPC cannot resolve private DNS names yet"),
        "the plan warns: {text}"
    );
    assert!(
        text.contains("Error: The VPC cannot resolve private DNS names")
            && text.contains("enable_dns_hostnames on aws_vpc"),
        "the apply stops with the same words: {text}"
    );
    assert!(
        support::terraform::find_in_state(&ws.state(), ADDRESS).is_none(),
        "nothing was created"
    );

    // Turned on in the same apply as the endpoint: one apply.
    ws.write("main.tf", &config(true, true));
    let run = ws.apply();
    assert!(
        run.flat()
            .contains("The VPC cannot resolve private DNS names yet"),
        "the plan still warns, before the VPC changes"
    );
    let endpoint = ws.resource(ADDRESS);
    assert_eq!(endpoint["state"], "available");
    assert_eq!(endpoint["private_dns_enabled"], true);
    ws.assert_no_changes();
    ws.destroy();
}

/// The CreateVpcEndpoint or ModifyVpcEndpoint requests of one VPC (or one
/// endpoint) that reached the strict layer.
fn requests_of(
    f: &Fixture,
    action: &str,
    key: &str,
    value: &str,
) -> Vec<std::collections::BTreeMap<String, String>> {
    f.emulator
        .strict
        .requests(action)
        .into_iter()
        .filter(|r| r.get(key).map(String::as_str) == Some(value))
        .collect()
}

/// The endpoint as a client of EC2 sees it, through the strict layer (which
/// shows what the emulator does not keep: the service's region, the
/// address type, the DNS record type, fixed addresses).
fn shown_endpoint(f: &Fixture, id: &str) -> aws_sdk_ec2::types::VpcEndpoint {
    let ec2 = support::emulator::ec2_client(&f.emulator.url);
    f.rt.block_on(ec2.describe_vpc_endpoints().vpc_endpoint_ids(id).send())
        .unwrap()
        .vpc_endpoints()[0]
        .clone()
}

/// AWS offers no cross-Region PrivateLink in a few zones, which the
/// PrivateLink guide names by zone id (us-east-1e is `use1-az3` in the
/// emulator, one of them): a subnet there is refused at plan, naming the
/// zone, and nothing is created; the strict layer refuses the create as EC2
/// does. Subnets of other zones plan.
#[test]
fn a_cross_region_endpoint_refuses_a_zone_without_cross_region_access() {
    let mut f = fixture(34);
    let remote = f
        .emulator
        .strict
        .plant_remote_service(&f.service, "us-west-2", &["us-east-1"]);
    let in_e =
        f.rt.block_on(
            f.ec2
                .create_subnet()
                .vpc_id(&f.network.vpc_id)
                .cidr_block("10.34.9.0/24")
                .availability_zone("us-east-1e")
                .send(),
        )
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_owned();
    f.network.subnet_ids.push(in_e.clone());
    let index = f.network.subnet_ids.len() - 1;
    let body = |subnets: &[usize]| {
        format!(
            "{}  service_region = \"us-west-2\"\n",
            f.body(subnets, 0, "").replace(&f.service, &remote)
        )
    };
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(&body(&[0, index])));
    ws.init();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(
        text.contains("Availability zone without cross-region access"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{in_e} is in us-east-1e (use1-az3)")),
        "{text}"
    );
    assert!(text.contains("subnet_ids"), "{text}");
    assert!(f.live_endpoints().is_empty());

    // EC2 refuses the same create (the strict layer, as EC2 answers).
    let through_strict = support::emulator::ec2_client(&f.emulator.url);
    let refused = f.rt.block_on(
        through_strict
            .create_vpc_endpoint()
            .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
            .vpc_id(&f.network.vpc_id)
            .service_name(&remote)
            .service_region("us-west-2")
            .subnet_ids(&in_e)
            .security_group_ids(&f.groups[0])
            .private_dns_enabled(false)
            .send(),
    );
    let err = aws_sdk_ec2::error::ProvideErrorMetadata::message(
        &refused.expect_err("a zone without cross-Region PrivateLink"),
    )
    .unwrap_or_default()
    .to_owned();
    assert!(
        err.contains(&format!(
            "does not support the availability zone of the subnet: {in_e}"
        )),
        "{err}"
    );
    assert!(f.live_endpoints().is_empty());

    ws.write("main.tf", &f.config(&body(&[0, 1])));
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(run.code, 0, "{}", run.text());
}

#[test]
fn a_service_of_another_region_is_reached_with_service_region() {
    let f = fixture(28);
    // PlanetScale's branch in us-west-2, open to endpoints in us-east-1.
    let remote = f
        .emulator
        .strict
        .plant_remote_service(&f.service, "us-west-2", &["us-east-1"]);
    let body = f.body(&[0, 1], 0, "").replace(&f.service, &remote);
    let ws = Workspace::new(Some(&f.emulator.url));

    // Without service_region the plan refuses, naming the argument.
    ws.write("main.tf", &f.config(&body));
    ws.init();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(
        text.contains("service_region = \"us-west-2\""),
        "no advice naming service_region:\n{text}"
    );

    // A service_region that is not the service name's is refused too.
    ws.write(
        "main.tf",
        &f.config(&format!("{body}  service_region = \"eu-west-1\"\n")),
    );
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("service name is of us-west-2"), "{text}");
    assert!(f.live_endpoints().is_empty());

    ws.write(
        "main.tf",
        &f.config(&format!("{body}  service_region = \"us-west-2\"\n")),
    );
    ws.apply();
    let state = ws.resource(ADDRESS);
    let id = state["id"].as_str().unwrap().to_owned();
    assert_eq!(state["service_name"], remote.as_str());
    assert_eq!(state["service_region"], "us-west-2");
    let created = requests_of(&f, "CreateVpcEndpoint", "VpcId", &f.network.vpc_id);
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["ServiceName"], remote);
    assert_eq!(created[0]["ServiceRegion"], "us-west-2");
    let e = shown_endpoint(&f, &id);
    assert_eq!(e.service_name(), Some(remote.as_str()));
    assert_eq!(e.service_region(), Some("us-west-2"));
    // What it must not touch: the subnets and groups as configured, private
    // DNS on.
    assert_eq!(sorted(e.subnet_ids()), sorted(&f.network.subnet_ids[..2]));
    assert_eq!(e.private_dns_enabled(), Some(true));
    ws.assert_no_changes();

    // A service whose provider has not enabled us-east-1: the plan says so.
    let closed_backing = f.emulator.create_endpoint_service(None);
    let closed =
        f.emulator
            .strict
            .plant_remote_service(&closed_backing, "eu-west-1", &["us-west-2"]);
    let other = Workspace::new(Some(&f.emulator.url));
    other.write(
        "main.tf",
        &f.config(&format!(
            "{}  service_region = \"eu-west-1\"\n  private_dns_enabled = false\n",
            f.body(&[2], 1, "").replace(&f.service, &closed)
        )),
    );
    other.init();
    let run = other.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("service_region"), "{text}");
    assert!(
        text.contains("has not enabled cross-region access"),
        "{text}"
    );
    assert_eq!(f.live_endpoints().len(), 1, "the refused plan created one");

    ws.destroy();
    assert!(f.live_endpoints().is_empty());
}

#[test]
fn a_dual_stack_endpoint_with_dual_stack_dns_records() {
    let f = fixture(29);
    let (net, v6_blocks) =
        f.rt.block_on(support::emulator::create_dual_stack_network(&f.ec2, 30));
    f.emulator
        .strict
        .set_supported_ip_address_types(&f.service, &["ipv4", "ipv6"]);
    let group = |ip_type: &str, records: &str| {
        format!(
            "resource \"planetscale_privatelink_security_group\" \"db\" {{\n  vpc_id = \"{vpc}\"\n  allow_vpc_cidr = false\n  allowed_cidr_blocks = [\"{v6}\"]\n}}\n\nresource \"planetscale_privatelink_endpoint\" \"db\" {{\n  service_name       = \"{service}\"\n  vpc_id             = \"{vpc}\"\n  subnet_ids         = [\"{s0}\", \"{s1}\"]\n  security_group_ids = [planetscale_privatelink_security_group.db.id]\n  ip_address_type    = \"{ip_type}\"\n  dns_record_ip_type = \"{records}\"\n}}\n",
            vpc = net.vpc_id,
            v6 = v6_blocks[0],
            service = f.service,
            s0 = net.subnet_ids[0],
            s1 = net.subnet_ids[1],
        )
    };
    let config = |body: String| {
        format!(
            "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n\n{body}",
            Workspace::required_providers(false)
        )
    };
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &config(group("dualstack", "dualstack")));
    ws.init();
    ws.apply();
    let state = ws.resource(ADDRESS);
    let id = state["id"].as_str().unwrap().to_owned();
    assert_eq!(state["ip_address_type"], "dualstack");
    assert_eq!(state["dns_record_ip_type"], "dualstack");
    let created = requests_of(&f, "CreateVpcEndpoint", "VpcId", &net.vpc_id);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["IpAddressType"], "dualstack");
    assert_eq!(created[0]["DnsOptions.DnsRecordIpType"], "dualstack");
    let e = shown_endpoint(&f, &id);
    assert_eq!(e.ip_address_type().map(|t| t.as_str()), Some("dualstack"));
    assert_eq!(
        e.dns_options()
            .and_then(|d| d.dns_record_ip_type())
            .map(|t| t.as_str()),
        Some("dualstack")
    );
    let sg = ws.resource("planetscale_privatelink_security_group.db");
    let rules = f.rt.block_on(
        f.ec2
            .describe_security_group_rules()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-id")
                    .values(sg["id"].as_str().unwrap())
                    .build(),
            )
            .send(),
    );
    assert!(
        rules
            .unwrap()
            .security_group_rules()
            .iter()
            .any(|r| r.cidr_ipv6() == Some(v6_blocks[0].as_str())),
        "no IPv6 ingress rule"
    );
    ws.assert_no_changes();

    // The DNS records alone changed: in place, one modify of that alone.
    ws.write("main.tf", &config(group("dualstack", "ipv4")));
    let plan = ws.plan_json();
    assert_eq!(
        planned_actions(&plan),
        vec![
            (ADDRESS.to_owned(), vec!["update".to_owned()]),
            (
                "planetscale_privatelink_security_group.db".to_owned(),
                vec!["no-op".to_owned()]
            )
        ]
    );
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    assert_eq!(ws.resource(ADDRESS)["dns_record_ip_type"], "ipv4");
    let modified = requests_of(&f, "ModifyVpcEndpoint", "VpcEndpointId", &id);
    assert_eq!(modified.len(), 1, "{modified:?}");
    assert_eq!(modified[0]["DnsOptions.DnsRecordIpType"], "ipv4");
    assert!(
        !modified[0].keys().any(|k| k.starts_with("IpAddressType")
            || k.contains("Subnet")
            || k.contains("SecurityGroup")),
        "{modified:?}"
    );
    let e = shown_endpoint(&f, &id);
    assert_eq!(e.ip_address_type().map(|t| t.as_str()), Some("dualstack"));
    assert_eq!(sorted(e.subnet_ids()), sorted(&net.subnet_ids));
    ws.assert_no_changes();

    // The address type alone changed: in place, one modify of that alone.
    ws.write("main.tf", &config(group("ipv4", "ipv4")));
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    assert_eq!(ws.resource(ADDRESS)["ip_address_type"], "ipv4");
    let modified = requests_of(&f, "ModifyVpcEndpoint", "VpcEndpointId", &id);
    assert_eq!(modified.len(), 2, "{modified:?}");
    assert_eq!(modified[1]["IpAddressType"], "ipv4");
    assert!(
        !modified[1].keys().any(|k| k.starts_with("DnsOptions")),
        "{modified:?}"
    );
    let e = shown_endpoint(&f, &id);
    assert_eq!(e.ip_address_type().map(|t| t.as_str()), Some("ipv4"));
    assert_eq!(
        e.dns_options()
            .and_then(|d| d.dns_record_ip_type())
            .map(|t| t.as_str()),
        Some("ipv4")
    );
    ws.assert_no_changes();

    // ipv6 in subnets with IPv4 blocks: refused at plan, naming the argument.
    let other = Workspace::new(Some(&f.emulator.url));
    other.write(
        "main.tf",
        &f.config(&f.body(&[0, 1], 0, "  ip_address_type = \"ipv6\"\n")),
    );
    other.init();
    let run = other.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("ip_address_type"), "{text}");
    assert!(text.contains("IPv6-only subnets"), "{text}");
    assert!(f.live_endpoints().is_empty());

    ws.destroy();
}

#[test]
fn fixed_addresses_reach_the_interfaces() {
    let f = fixture(31);
    let fixed = |third: u8| {
        format!(
            "  subnet_configurations = [\n    {{ subnet_id = \"{}\", ipv4 = \"10.31.0.10\" }},\n    {{ subnet_id = \"{}\", ipv4 = \"10.31.{third}.10\" }},\n  ]\n",
            f.network.subnet_ids[0], f.network.subnet_ids[1]
        )
    };
    let ws = Workspace::new(Some(&f.emulator.url));

    // An address outside its subnet: refused at plan, nothing created.
    ws.write("main.tf", &f.config(&f.body(&[0, 1], 0, &fixed(5))));
    ws.init();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("subnet_configurations"), "{text}");
    assert!(text.contains("10.31.5.10 is outside"), "{text}");
    assert!(f.live_endpoints().is_empty());

    ws.write("main.tf", &f.config(&f.body(&[0, 1], 0, &fixed(1))));
    ws.apply();
    let state = ws.resource(ADDRESS);
    let id = state["id"].as_str().unwrap().to_owned();
    let created = requests_of(&f, "CreateVpcEndpoint", "VpcId", &f.network.vpc_id);
    assert_eq!(created.len(), 1);
    let sent: Vec<(&str, &str)> = created[0]
        .iter()
        .filter(|(k, _)| k.starts_with("SubnetConfiguration."))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert!(
        sent.contains(&("SubnetConfiguration.1.Ipv4", "10.31.0.10"))
            && sent.contains(&("SubnetConfiguration.2.Ipv4", "10.31.1.10")),
        "{sent:?}"
    );
    assert_eq!(
        state["subnet_configurations"][1]["ipv4"], "10.31.1.10",
        "{state}"
    );
    // The interfaces carry the addresses, one per subnet.
    assert_eq!(
        interface_addresses(&f, &id),
        sorted_pairs(&[
            (&f.network.subnet_ids[0], "10.31.0.10"),
            (&f.network.subnet_ids[1], "10.31.1.10"),
        ])
    );
    // What it must not touch: IPv4 alone, private DNS on.
    let e = shown_endpoint(&f, &id);
    assert_eq!(e.ip_address_type().map(|t| t.as_str()), Some("ipv4"));
    assert_eq!(e.private_dns_enabled(), Some(true));
    ws.assert_no_changes();

    // Another address changes in place, as EC2 allows: one ModifyVpcEndpoint
    // naming only the changed subnet; the other interface keeps its address.
    ws.write(
        "main.tf",
        &f.config(&f.body(&[0, 1], 0, &fixed(1).replace("10.31.1.10", "10.31.1.20"))),
    );
    assert_eq!(
        planned_actions(&ws.plan_json()),
        vec![(ADDRESS.to_owned(), vec!["update".to_owned()])]
    );
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    let modified = requests_of(&f, "ModifyVpcEndpoint", "VpcEndpointId", &id);
    assert_eq!(modified.len(), 1, "{modified:?}");
    let sent: Vec<(&str, &str)> = modified[0]
        .iter()
        .filter(|(k, _)| k.starts_with("SubnetConfiguration."))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        sent,
        vec![
            ("SubnetConfiguration.1.Ipv4", "10.31.1.20"),
            (
                "SubnetConfiguration.1.SubnetId",
                f.network.subnet_ids[1].as_str()
            ),
        ]
    );
    assert_eq!(
        interface_addresses(&f, &id),
        sorted_pairs(&[
            (&f.network.subnet_ids[0], "10.31.0.10"),
            (&f.network.subnet_ids[1], "10.31.1.20"),
        ])
    );
    let e = shown_endpoint(&f, &id);
    assert_eq!(e.private_dns_enabled(), Some(true));
    assert_eq!(sorted(e.subnet_ids()), sorted(&f.network.subnet_ids[..2]));
    ws.assert_no_changes();

    // A subnet swapped for another of the same zone, with its own fixed
    // address: EC2 takes the new subnet only once the old one is gone, and
    // its address goes with the call that adds it.
    ws.write(
        "main.tf",
        &f.config(&f.body(
            &[3, 1],
            0,
            &format!(
                "  subnet_configurations = [\n    {{ subnet_id = \"{}\", ipv4 = \"10.31.3.10\" }},\n    {{ subnet_id = \"{}\", ipv4 = \"10.31.1.20\" }},\n  ]\n",
                f.network.subnet_ids[3], f.network.subnet_ids[1]
            ),
        )),
    );
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    // The emulator's interfaces do not follow subnet changes: the calls
    // show the order.
    let modified = requests_of(&f, "ModifyVpcEndpoint", "VpcEndpointId", &id);
    let swap = &modified[modified.len() - 2..];
    assert_eq!(
        swap[0].get("RemoveSubnetId.1"),
        Some(&f.network.subnet_ids[0]),
        "{swap:?}"
    );
    assert!(
        !swap[0].values().any(|v| v == &f.network.subnet_ids[3]),
        "the new subnet and its address wait for the old one to go: {swap:?}"
    );
    assert_eq!(
        swap[1].get("AddSubnetId.1"),
        Some(&f.network.subnet_ids[3]),
        "{swap:?}"
    );
    assert_eq!(
        swap[1].get("SubnetConfiguration.1.SubnetId"),
        Some(&f.network.subnet_ids[3]),
        "{swap:?}"
    );
    assert_eq!(
        swap[1]
            .get("SubnetConfiguration.1.Ipv4")
            .map(String::as_str),
        Some("10.31.3.10"),
        "{swap:?}"
    );
    ws.assert_no_changes();

    // An entry removed: nothing to send, and the state drops it.
    ws.write(
        "main.tf",
        &f.config(&f.body(
            &[3, 1],
            0,
            &format!(
                "  subnet_configurations = [\n    {{ subnet_id = \"{}\", ipv4 = \"10.31.3.10\" }},\n  ]\n",
                f.network.subnet_ids[3]
            ),
        )),
    );
    let before = requests_of(&f, "ModifyVpcEndpoint", "VpcEndpointId", &id).len();
    ws.apply();
    assert_eq!(
        requests_of(&f, "ModifyVpcEndpoint", "VpcEndpointId", &id).len(),
        before
    );
    assert_eq!(
        ws.resource(ADDRESS)["subnet_configurations"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    ws.assert_no_changes();

    // EC2 giving another address than asked (the emulator alone ignores
    // SubnetConfiguration) is an error naming both addresses, not
    // Terraform's "inconsistent result".
    let other = Workspace::new(Some(&f.emulator.raw_url));
    other.write(
        "main.tf",
        &f.config(&f.body(
            &[2],
            1,
            &format!(
                "  private_dns_enabled = false\n  subnet_configurations = [{{ subnet_id = \"{}\", ipv4 = \"10.31.2.10\" }}]\n",
                f.network.subnet_ids[2]
            ),
        )),
    );
    other.init();
    let run = other.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("Fixed address not given"), "{text}");
    assert!(text.contains("10.31.2.10 was asked for"), "{text}");
    assert!(
        !text.contains("inconsistent") && !text.contains("Provider produced"),
        "{text}"
    );
    other.destroy();
    ws.destroy();
    assert!(f.live_endpoints().is_empty());
}

/// (subnet, address) of each of the endpoint's interfaces, as EC2 shows them.
fn interface_addresses(f: &Fixture, id: &str) -> Vec<(String, String)> {
    let ec2 = support::emulator::ec2_client(&f.emulator.url);
    let interfaces =
        f.rt.block_on(
            ec2.describe_network_interfaces()
                .set_network_interface_ids(Some(f.endpoint(id).network_interface_ids().to_vec()))
                .send(),
        )
        .unwrap();
    let mut addresses: Vec<(String, String)> = interfaces
        .network_interfaces()
        .iter()
        .map(|n| {
            (
                n.subnet_id().unwrap().to_owned(),
                n.private_ip_address().unwrap().to_owned(),
            )
        })
        .collect();
    addresses.sort();
    addresses
}

fn sorted_pairs(pairs: &[(&String, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| ((*a).clone(), (*b).to_owned()))
        .collect();
    v.sort();
    v
}

/// A cross-region endpoint takes the permission-only IAM action
/// `vpce:AllowMultiRegion`, which no API call is named after: a role built
/// from the API names passes plan and fails at apply. The error names the
/// permission, and nothing is created.
#[test]
fn a_cross_region_endpoint_refused_for_want_of_allow_multi_region_names_it() {
    let f = fixture(32);
    let remote = f
        .emulator
        .strict
        .plant_remote_service(&f.service, "us-west-2", &["us-east-1"]);
    f.emulator
        .strict
        .deny_permission(&f.network.vpc_id, "vpce:AllowMultiRegion");
    let body = f.body(&[0, 1], 0, "").replace(&f.service, &remote);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &f.config(&format!("{body}  service_region = \"us-west-2\"\n")),
    );
    ws.init();
    let run = ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let text = run.flat();
    assert!(!run.success(), "{text}");
    assert!(
        text.contains("UnauthorizedOperation") && text.contains("vpce:AllowMultiRegion"),
        "{text}"
    );
    assert!(f.live_endpoints().is_empty(), "nothing created");
    ws.destroy();
}

/// A check whose inputs are known runs at plan even when other values are
/// not: with the VPC's id known only after apply (made by the same apply),
/// a private DNS name PlanetScale has not verified is still refused at
/// plan, before anything is created.
#[test]
fn service_checks_run_at_plan_while_the_vpc_is_not_known_yet() {
    let f = fixture(33);
    f.emulator
        .strict
        .set_private_dns_verification(&f.service, "pendingVerification");
    let body = f.body(&[0, 1], 0, "").replace(
        &format!("\"{}\"\n  subnet_ids", f.network.vpc_id),
        "terraform_data.vpc.output\n  subnet_ids",
    );
    assert!(body.contains("terraform_data.vpc.output"), "{body}");
    let config = format!(
        "{}\nresource \"terraform_data\" \"vpc\" {{\n  input = \"{}\"\n}}\n",
        f.config(&body),
        f.network.vpc_id
    );
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &config);
    ws.init();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(
        text.contains("pendingVerification, not verified") && text.contains("private_dns_enabled"),
        "{text}"
    );
    assert!(f.live_endpoints().is_empty());
}

/// The endpoint policy: sent with the create, compared by meaning (EC2's
/// copy spelt otherwise plans nothing), changed in place by one
/// ModifyVpcEndpoint that touches nothing else, drift put back, and left
/// as it is when the configuration drops it.
#[test]
fn the_policy_is_sent_compared_by_meaning_and_changed_in_place() {
    let f = fixture(35);
    let policy = |action: &str, effect: &str| {
        format!(
            "  policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{{ Effect = \"{effect}\", Principal = \"*\", Action = [\"{action}\"], Resource = \"*\" }}]\n  }})\n"
        )
    };
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &f.config(&f.body(&[0, 1], 0, &policy("rds-db:connect", "Allow"))),
    );
    ws.init();
    ws.apply();
    let state = ws.resource(ADDRESS);
    let id = state["id"].as_str().unwrap().to_owned();
    let written = state["policy"].as_str().unwrap().to_owned();
    let created = requests_of(&f, "CreateVpcEndpoint", "VpcId", &f.network.vpc_id);
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].get("PolicyDocument"),
        Some(&written),
        "{created:?}"
    );
    let held = |f: &Fixture| {
        f.endpoint(&id)
            .policy_document()
            .map(str::to_owned)
            .unwrap_or_default()
    };
    assert!(held(&f).contains("rds-db:connect"), "{}", held(&f));
    ws.assert_no_changes();

    // EC2's copy spelt otherwise (keys reordered, white space, a list of one
    // as its element): the same policy, so no change is planned and the
    // state keeps the configuration's spelling.
    let respelt = "{\n  \"Statement\": {\"Resource\": \"*\", \"Action\": \"rds-db:connect\",\n    \"Principal\": \"*\", \"Effect\": \"Allow\"},\n  \"Version\": \"2012-10-17\"\n}";
    f.rt.block_on(
        f.ec2
            .modify_vpc_endpoint()
            .vpc_endpoint_id(&id)
            .policy_document(respelt)
            .send(),
    )
    .unwrap();
    ws.assert_no_changes();

    // Another policy changes in place: one ModifyVpcEndpoint carrying the
    // policy alone; subnets, groups and private DNS untouched.
    let before = f.endpoint(&id);
    ws.write(
        "main.tf",
        &f.config(&f.body(&[0, 1], 0, &policy("rds-db:*", "Allow"))),
    );
    assert_eq!(
        planned_actions(&ws.plan_json()),
        vec![(ADDRESS.to_owned(), vec!["update".to_owned()])]
    );
    ws.apply();
    assert_eq!(ws.resource(ADDRESS)["id"], id.as_str());
    let modified = requests_of(&f, "ModifyVpcEndpoint", "VpcEndpointId", &id);
    assert_eq!(modified.len(), 1, "{modified:?}");
    let other: Vec<&str> = modified[0]
        .keys()
        .map(String::as_str)
        .filter(|k| !["Action", "Version", "VpcEndpointId", "PolicyDocument"].contains(k))
        .collect();
    assert!(
        modified[0].contains_key("PolicyDocument") && other.is_empty(),
        "{modified:?}"
    );
    assert!(held(&f).contains("rds-db:*"), "{}", held(&f));
    let after = f.endpoint(&id);
    assert_eq!(sorted(after.subnet_ids()), sorted(before.subnet_ids()));
    assert_eq!(after.groups(), before.groups());
    assert_eq!(after.private_dns_enabled(), before.private_dns_enabled());
    ws.assert_no_changes();

    // A change of meaning made outside Terraform is drift: planned back.
    f.rt.block_on(
        f.ec2
            .modify_vpc_endpoint()
            .vpc_endpoint_id(&id)
            .policy_document(held(&f).replace("Allow", "Deny"))
            .send(),
    )
    .unwrap();
    assert_eq!(
        planned_actions(&ws.plan_json()),
        vec![(ADDRESS.to_owned(), vec!["update".to_owned()])]
    );
    ws.apply();
    assert!(held(&f).contains("Allow"), "{}", held(&f));
    ws.assert_no_changes();

    // Dropped from the configuration: the endpoint keeps its policy.
    ws.write("main.tf", &f.config(&f.body(&[0, 1], 0, "")));
    ws.assert_no_changes();
    assert!(held(&f).contains("rds-db:*"), "{}", held(&f));
}
