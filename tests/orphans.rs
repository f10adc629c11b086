//! No endpoint is left behind or made twice when an apply dies or an
//! answer is lost: every endpoint carries its create token in a tag, a
//! create whose answer never came finds its endpoint by that tag, and a plan
//! for a new endpoint names one already in the VPC, with the `import` block
//! that adopts it and the command that deletes it. Real `terraform`, the
//! emulator behind the strict layer and the fault proxy.

use crate::support;

use std::time::{Duration, Instant};

use support::Workspace;
use support::pairs::{Pairs, assert_unique};
use support::processes::{apply_until_waiting, group_members, provider_of};
use support::proxy::{Faults, Proxy, StateRewrite};

const ENDPOINT: &str = "planetscale_privatelink_endpoint.db";

/// A group and one endpoint to `service`, with private DNS as given.
fn config(pairs: &Pairs, service: &str, private_dns: bool) -> String {
    format!(
        r#"{}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_security_group" "db" {{
  vpc_id                     = "{vpc}"
  allowed_security_group_ids = ["{app}"]
}}

resource "planetscale_privatelink_endpoint" "db" {{
  service_name        = "{service}"
  vpc_id              = "{vpc}"
  subnet_ids          = ["{s0}", "{s1}"]
  security_group_ids  = [planetscale_privatelink_security_group.db.id]
  private_dns_enabled = {private_dns}
  tags = {{
    stage = "one"
  }}

  timeouts {{
    create = "10m"
  }}
}}
"#,
        Workspace::required_providers(false),
        vpc = pairs.network.vpc_id,
        app = pairs.app_group,
        s0 = pairs.network.subnet_ids[0],
        s1 = pairs.network.subnet_ids[1],
    )
}

/// The `import { ... }` block of a diagnostic, as Terraform printed it
/// (without its `│` frame).
fn import_block(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .map(|l| l.trim_start_matches('│').trim())
        .collect();
    let start = lines.iter().position(|l| *l == "import {")?;
    let end = start + lines[start..].iter().position(|l| *l == "}")?;
    Some(lines[start..=end].join("\n") + "\n")
}

fn provider_log(ws: &Workspace) -> String {
    std::fs::read_to_string(ws.path().join("provider.log")).unwrap_or_default()
}

/// The provider is killed (SIGKILL: nothing can be saved) while it waits
/// for the endpoint it created. The next plan fails naming that endpoint,
/// with the import block; with the block added, apply converges on that
/// very endpoint, and nothing is orphaned or duplicated.
#[test]
fn a_killed_provider_leaves_an_endpoint_the_next_plan_names_and_imports() {
    let pairs = Pairs::new(101);
    let service = pairs
        .emulator
        .create_endpoint_service(Some("db101.private.example.com"));
    let proxy = Proxy::start(&pairs.emulator.url);
    // Pending acceptance, of a service that does not require it: only the
    // 10-minute create timeout would end the wait.
    proxy.set_faults(Faults {
        endpoint_state: Some(StateRewrite {
            state: "pendingAcceptance".into(),
            times: None,
            last_error: None,
        }),
        ..Faults::default()
    });
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &config(&pairs, &service, true));
    ws.init();

    let (mut terraform, output) = apply_until_waiting(&ws, &proxy);
    let group = terraform.id() as i32;
    let provider = provider_of(terraform.id());
    let killed = Instant::now();
    // SAFETY: kill(2) on a process this test's terraform started.
    assert_eq!(
        unsafe { libc::kill(provider as i32, libc::SIGKILL) },
        0,
        "kill the provider"
    );
    let status = loop {
        if let Some(status) = terraform.try_wait().unwrap() {
            break status;
        }
        if killed.elapsed() > Duration::from_secs(60) {
            // SAFETY: ends what the test started.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            panic!("terraform still ran 60 s after its provider was killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let terraform_exit = killed.elapsed();
    let output = output.join().unwrap();
    assert!(!status.success(), "the apply lost its provider:\n{output}");
    assert!(
        group_members(group).is_empty(),
        "{:?}",
        group_members(group)
    );
    let created = proxy.created_endpoints();
    assert_eq!(created.len(), 1, "{created:?}");
    let orphan = created[0].clone();
    assert!(
        support::terraform::find_in_state(&ws.state(), ENDPOINT).is_none(),
        "a killed provider saves nothing"
    );

    // PlanetScale's side settles. The next plan fails, naming the endpoint.
    proxy.set_faults(Faults::default());
    let run = ws.run(&["plan", "-input=false", "-no-color"]);
    let text = run.flat();
    eprintln!("the plan after the kill:\n{}", run.text());
    assert_eq!(run.code, 1, "{}", run.text());
    for expected in [
        "An endpoint to this service already exists in the VPC",
        &format!(
            "{orphan} (available) already connects {}",
            pairs.network.vpc_id
        ),
        "This provider made it",
        "conflicting DNS domain",
        "with <name> replaced by the name of this resource",
        &format!("aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {orphan} --region us-east-1"),
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{}", run.text());
    }
    let block = import_block(&run.text()).expect("an import block");
    assert_eq!(
        block,
        format!("import {{\nto = planetscale_privatelink_endpoint.<name>\nid = \"{orphan}\"\n}}\n")
    );

    // The block as printed, with the address filled in, adopts it.
    ws.write("import.tf", &block.replace("<name>", "db"));
    ws.apply();
    ws.assert_no_changes();
    let state = ws.state();
    let endpoint = support::terraform::find_in_state(&state, ENDPOINT).expect("in state");
    assert_eq!(endpoint["values"]["id"], orphan.as_str(), "{state:#}");
    assert_eq!(endpoint["values"]["tags"]["stage"], "one", "{state:#}");
    assert!(
        endpoint["values"]["tags_all"]
            .get("planetscale:create-token")
            .is_none(),
        "{state:#}"
    );
    assert_eq!(pairs.live_endpoints(), vec![orphan.clone()]);
    let created = proxy.created_endpoints();
    assert_unique(&created);
    assert_eq!(created, vec![orphan.clone()], "created once, adopted");

    ws.destroy();
    pairs.assert_nothing_left();
    eprintln!(
        "SIGKILL to the provider during a create wait: terraform exited after {terraform_exit:?}; \
         {} endpoint created, adopted by import; 0 orphaned, 0 duplicated",
        created.len()
    );
}

/// EC2 makes the endpoint and every answer to CreateVpcEndpoint is lost
/// (the proxy's ClientToken idempotency answers the retries with the same
/// endpoint, and loses those answers too), until the SDK gives up. The
/// create finds its endpoint by its token's tag: one endpoint, in state.
#[test]
fn an_endpoint_whose_create_answers_are_all_lost_is_found_by_its_tag() {
    let pairs = Pairs::new(102);
    let proxy = Proxy::start(&pairs.emulator.url);
    let mut ws = Workspace::new(Some(&proxy.url));
    ws.set_env("AWS_MAX_ATTEMPTS", "3");
    ws.write("main.tf", &config(&pairs, &pairs.service, false));
    ws.init();
    proxy.set_faults(Faults {
        lose_answers_of: Some(("CreateVpcEndpoint".into(), 3)),
        ..Faults::default()
    });
    ws.apply();
    let counts = proxy.counts();
    assert_eq!(counts.get("CreateVpcEndpoint"), Some(&3), "{counts:?}");
    let created = proxy.created_endpoints();
    assert_eq!(created.len(), 1, "{created:?}");
    let live = pairs.live_endpoints();
    assert_eq!(live, created, "exactly one endpoint");
    assert_eq!(ws.resource(ENDPOINT)["id"], created[0].as_str());
    assert!(
        provider_log(&ws).contains("adopting the endpoint this create made"),
        "the create adopted its endpoint"
    );
    ws.assert_no_changes();
    ws.destroy();
    pairs.assert_nothing_left();
    eprintln!(
        "every CreateVpcEndpoint answer lost (3 attempts): 1 endpoint created, in state; \
         0 orphaned, 0 duplicated"
    );
}

/// An endpoint to the same service is already in the VPC, made elsewhere;
/// the new one has private DNS off, which EC2 allows: the plan warns,
/// naming it, and applies.
#[test]
fn another_endpoint_to_the_service_warns_when_private_dns_is_off() {
    let pairs = Pairs::new(103);
    let other = pairs
        .rt
        .block_on(
            pairs
                .ec2
                .create_vpc_endpoint()
                .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
                .vpc_id(&pairs.network.vpc_id)
                .service_name(&pairs.service)
                .subnet_ids(&pairs.network.subnet_ids[0])
                .security_group_ids(&pairs.app_group)
                .private_dns_enabled(false)
                .send(),
        )
        .expect("CreateVpcEndpoint")
        .vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .expect("an endpoint id")
        .to_owned();
    let ws = Workspace::new(Some(&pairs.emulator.url));
    ws.write("main.tf", &config(&pairs, &pairs.service, false));
    ws.init();
    let run = ws.run(&["plan", "-input=false", "-no-color"]);
    let text = run.flat();
    assert_eq!(run.code, 0, "a warning, not a failure:\n{}", run.text());
    for expected in [
        "Warning: Another endpoint to this service already exists in the VPC",
        &format!("{other} (available) already connects"),
        "This provider did not make it",
        "can be applied",
        &format!("id = \"{other}\""),
        &format!("aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {other} --region us-east-1"),
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{}", run.text());
    }
    ws.apply();
    ws.assert_no_changes();
    assert_eq!(pairs.live_endpoints().len(), 2);
    ws.destroy();
    pairs.delete_endpoints(&[other]);
    pairs.assert_nothing_left();
}
