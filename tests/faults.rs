//! Reliability under faults the emulator cannot produce by itself, served
//! by the fault proxy in front of this provider only: throttling, server
//! errors, connection resets before and after EC2 handled a call, eventual
//! consistency, waits interrupted by Ctrl-C, DependencyViolation, and many
//! resources at once. After each scenario nothing is left behind and no
//! resource was ever created twice.

use crate::support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::emulator::create_group;
use support::pairs::{Pairs, assert_unique};
use support::proxy::{Faults, Proxy, StateRewrite};
use support::{Emulator, Workspace};

fn copy_complete_example(ws: &Workspace) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/complete");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, ws.path().join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// Points this provider (only) at the proxy: hashicorp/aws keeps talking
/// to the emulator directly.
fn through_proxy(ws: &Workspace, proxy: &Proxy) {
    ws.write(
        "planetscale_override.tf",
        &format!("provider \"planetscale\" {{\n  endpoints {{\n    ec2 = \"{0}\"\n    sts = \"{0}\"\n  }}\n}}\n", proxy.url),
    );
}

#[test]
fn complete_example_converges_through_throttling_errors_and_resets() {
    let emulator = Emulator::shared();
    let proxy = Proxy::start(&emulator.url);
    proxy.set_faults(Faults {
        throttle: 0.30,
        unavailable: 0.05,
        reset_before: 0.03,
        reset_after: 0.03,
        not_found_after_create: 2,
        latency: Duration::from_millis(2),
        ..Faults::default()
    });
    let service = emulator.create_endpoint_service(Some("faults.private.example.com"));
    let ws = Workspace::new(Some(&emulator.url));
    copy_complete_example(&ws);
    through_proxy(&ws, &proxy);
    ws.write(
        "terraform.tfvars",
        &format!("service_name = \"{service}\"\nvpc_cidr_block = \"10.51.0.0/16\"\n"),
    );
    ws.init();
    ws.apply();
    let endpoint = ws.resource("planetscale_privatelink_endpoint.db")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = ws.resource("planetscale_privatelink_security_group.db")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ws.assert_no_changes();
    ws.destroy();

    let counts = proxy.counts();
    assert!(
        proxy.total() > 20,
        "the scenario made too few calls to mean anything: {counts:?}"
    );
    assert_eq!(
        proxy.created_endpoints(),
        vec![endpoint.clone()],
        "one endpoint, created once"
    );
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let left = rt
        .block_on(
            ec2.describe_vpc_endpoints()
                .vpc_endpoint_ids(&endpoint)
                .send(),
        )
        .unwrap();
    assert!(
        left.vpc_endpoints()
            .iter()
            .all(|e| e.state().is_some_and(|s| s.as_str() == "deleted"))
    );
    assert!(
        rt.block_on(ec2.describe_security_groups().group_ids(&group).send())
            .is_err(),
        "the group is left"
    );
}

#[test]
fn an_interrupted_wait_ends_promptly_and_the_next_apply_converges() {
    let f = Pairs::new(52);
    let proxy = Proxy::start(&f.emulator.url);
    proxy.set_faults(Faults {
        endpoint_state: Some(StateRewrite {
            state: "pendingAcceptance".into(),
            times: None,
            last_error: None,
        }),
        ..Faults::default()
    });
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &f.config(1, "10m", "faults"));
    ws.init();

    let apply = support::processes::command(support::terraform::terraform_binary())
        .args(["apply", "-auto-approve", "-input=false", "-no-color"])
        .current_dir(ws.path())
        .envs(ws.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.created_endpoints().is_empty() {
        assert!(Instant::now() < deadline, "the endpoint was never created");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2)); // well into the wait
    let interrupted = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &apply.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = apply.wait_with_output().unwrap();
    let stopped_after = interrupted.elapsed();
    eprintln!("a 10-minute create timeout, interrupted, ended after {stopped_after:?}");
    assert!(
        stopped_after < Duration::from_secs(20),
        "the wait did not end promptly: {stopped_after:?}"
    );
    assert!(!output.status.success());

    // The endpoint is in state, tainted; with PlanetScale's acceptance
    // given, the next apply converges; destroy leaves nothing.
    let state = ws.state();
    let endpoint =
        support::terraform::find_in_state(&state, "planetscale_privatelink_endpoint.db[0]")
            .expect("the endpoint is in state");
    assert_eq!(endpoint["tainted"], true, "{state:#}");
    proxy.set_faults(Faults::default());
    ws.apply();
    ws.assert_no_changes();
    ws.destroy();
    f.assert_nothing_left();
    assert_unique(&proxy.created_endpoints());
}

#[test]
fn destroying_a_group_in_use_waits_out_dependency_violation() {
    let f = Pairs::new(53);
    let proxy = Proxy::start(&f.emulator.url);
    proxy.set_faults(Faults {
        dependency_hold: Some(Duration::from_secs(4)),
        ..Faults::default()
    });
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &f.config(1, "10m", "faults"));
    ws.init();
    ws.apply();
    proxy.reset_counts();
    ws.destroy();
    let deletes = proxy
        .counts()
        .get("DeleteSecurityGroup")
        .copied()
        .unwrap_or(0);
    assert!(
        deletes >= 2,
        "the delete met no DependencyViolation to wait out ({deletes} calls)"
    );
    f.assert_nothing_left();
}

#[test]
fn fifty_pairs_in_parallel_converge_without_duplicates() {
    let f = Pairs::new(54);
    let proxy = Proxy::start(&f.emulator.url);
    // Answers lost after EC2 acted: retried creates must not duplicate.
    proxy.set_faults(Faults {
        reset_after: 0.05,
        throttle: 0.05,
        ..Faults::default()
    });
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &f.config(50, "10m", "faults"));
    ws.init();
    ws.ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-parallelism=50",
    ]);
    assert_eq!(f.live_endpoints().len(), 50);
    assert_eq!(f.created_groups(), 50);
    assert_eq!(
        proxy.created_endpoints().len(),
        50,
        "an endpoint was created twice"
    );
    assert_unique(&proxy.created_endpoints());
    ws.assert_no_changes();
    ws.ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-parallelism=50",
    ]);
    f.assert_nothing_left();
}

#[test]
fn a_security_group_whose_create_answer_was_lost_is_adopted_once() {
    let f = Pairs::new(55);
    let proxy = Proxy::start(&f.emulator.url);
    proxy.set_faults(Faults {
        lose_first_answer_of: Some("CreateSecurityGroup".into()),
        ..Faults::default()
    });
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &f.config(1, "10m", "faults"));
    ws.init();
    ws.apply();
    assert!(
        proxy.counts()["CreateSecurityGroup"] >= 2,
        "the create was not retried: {:?}",
        proxy.counts()
    );
    assert_eq!(
        f.created_groups(),
        1,
        "the retried create made a second group"
    );
    let id = ws.resource("planetscale_privatelink_security_group.db[0]")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("sg-"));
    ws.assert_no_changes();
    ws.destroy();
    f.assert_nothing_left();
}

#[test]
fn a_group_of_the_same_name_made_by_someone_else_is_not_adopted() {
    let f = Pairs::new(56);
    let taken = support::unique("taken");
    let stranger =
        f.rt.block_on(create_group(&f.ec2, &f.network.vpc_id, &taken));
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &format!(
            "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\nresource \"planetscale_privatelink_security_group\" \"db\" {{\n  vpc_id = \"{}\"\n  name = \"{taken}\"\n  allow_vpc_cidr = true\n}}\n",
            Workspace::required_providers(false),
            f.network.vpc_id
        ),
    );
    ws.init();
    let run = ws.try_apply();
    assert_eq!(run.code, 1);
    assert!(
        run.flat().contains("already exists") && run.flat().contains(&stranger),
        "{}",
        run.text()
    );
    let state = ws.run(&["state", "list"]);
    assert!(
        state.stdout.trim().is_empty(),
        "the stranger's group must not enter the state: {}",
        state.stdout
    );
}

/// The resources of the state that Terraform marked tainted.
fn tainted(ws: &Workspace) -> Vec<String> {
    let state = ws.state();
    let mut found = Vec::new();
    for r in state["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if r["tainted"] == true {
            found.push(r["address"].as_str().unwrap_or_default().to_owned());
        }
    }
    found
}

#[test]
fn sustained_throttling_taints_nothing_and_costs_little_time() {
    let f = Pairs::new(57);
    let proxy = Proxy::start(&f.emulator.url);
    let ws = Workspace::new(Some(&proxy.url)).without_logs();
    ws.write("main.tf", &f.config(5, "10m", "faults"));
    ws.init();

    // Five pairs, unthrottled, then with 10% of calls throttled.
    let timed_apply = |throttle: f64| {
        proxy.set_faults(Faults {
            throttle,
            ..Faults::default()
        });
        let started = Instant::now();
        ws.apply();
        let took = started.elapsed();
        proxy.set_faults(Faults::default());
        ws.destroy();
        f.assert_nothing_left();
        took
    };
    let calm = timed_apply(0.0);
    let throttled = timed_apply(0.10);
    eprintln!("five pairs: {calm:?} unthrottled, {throttled:?} with 10% of calls throttled");
    assert!(
        throttled < calm * 3,
        "10% throttling made a five-pair apply {throttled:?}, against {calm:?} without"
    );

    // Twenty pairs with 40% of calls throttled throughout: apply, plan and
    // destroy all go through, and nothing is tainted.
    proxy.set_faults(Faults {
        throttle: 0.40,
        ..Faults::default()
    });
    proxy.reset_counts();
    ws.write("main.tf", &f.config(20, "10m", "faults"));
    ws.apply();
    assert_eq!(
        tainted(&ws),
        Vec::<String>::new(),
        "throttling tainted resources"
    );
    assert_eq!(f.live_endpoints().len(), 20);
    ws.assert_no_changes();
    ws.destroy();
    let throttled_calls = proxy.total();
    proxy.set_faults(Faults::default());
    f.assert_nothing_left();
    assert_unique(&proxy.created_endpoints());
    eprintln!("twenty pairs under 40% throttling: {throttled_calls} EC2 calls");
}

#[test]
fn a_lost_answer_to_a_rule_revoke_is_taken_as_done() {
    let f = Pairs::new(58);
    let proxy = Proxy::start(&f.emulator.url);
    // The new group's default egress rule is revoked by rule id; the answer
    // is lost after EC2 acted, so the retry names a rule that no longer
    // exists, and EC2 (the strict layer) answers
    // InvalidSecurityGroupRuleId.NotFound: already done.
    proxy.set_faults(Faults {
        lose_first_answer_of: Some("RevokeSecurityGroupEgress".into()),
        ..Faults::default()
    });
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &f.config(1, "10m", "faults"));
    ws.init();
    ws.apply();
    assert!(
        proxy.counts()["RevokeSecurityGroupEgress"] >= 2,
        "the revoke was not retried: {:?}",
        proxy.counts()
    );
    assert_eq!(tainted(&ws), Vec::<String>::new());
    ws.assert_no_changes();
    ws.destroy();
    f.assert_nothing_left();
}
