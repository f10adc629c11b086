//! EC2 that stops answering. A call EC2 (or a proxy or firewall on the
//! way) accepts and never answers must not hold an apply past the
//! resource's timeout, nor Terraform past a Ctrl-C. The fault proxy goes
//! silent once CreateVpcEndpoint has answered: the endpoint exists, and
//! every read of its wait hangs, as does every call after it.

use crate::support;

use std::time::{Duration, Instant};

use support::Workspace;
use support::pairs::Pairs;
use support::processes::{apply_until_waiting, group_members};
use support::proxy::{Faults, Proxy};

const ENDPOINT: &str = "planetscale_privatelink_endpoint.db";

/// One endpoint in the pairs' VPC, using the application's group, with
/// this create timeout.
fn config(pairs: &Pairs, create_timeout: &str) -> String {
    format!(
        r#"{}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_endpoint" "db" {{
  service_name        = "{service}"
  vpc_id              = "{vpc}"
  subnet_ids          = ["{s0}", "{s1}"]
  security_group_ids  = ["{app}"]
  private_dns_enabled = false

  timeouts {{
    create = "{create_timeout}"
  }}
}}
"#,
        Workspace::required_providers(false),
        service = pairs.service,
        vpc = pairs.network.vpc_id,
        app = pairs.app_group,
        s0 = pairs.network.subnet_ids[0],
        s1 = pairs.network.subnet_ids[1],
    )
}

fn silent_after_create() -> Faults {
    Faults {
        silent_after: Some("CreateVpcEndpoint".into()),
        ..Faults::default()
    }
}

/// The endpoint the proxy saw created is in state, tainted.
fn assert_tainted_in_state(ws: &Workspace, proxy: &Proxy) {
    let created = proxy.created_endpoints();
    assert_eq!(created.len(), 1, "{created:?}");
    let state = ws.state();
    let endpoint =
        support::terraform::find_in_state(&state, ENDPOINT).expect("the endpoint is in state");
    assert_eq!(endpoint["values"]["id"], created[0].as_str(), "{state:#}");
    assert_eq!(endpoint["tainted"], true, "{state:#}");
}

/// EC2 answers again; a destroy leaves nothing.
fn clean_up(ws: &Workspace, proxy: &Proxy, pairs: &Pairs) {
    proxy.set_faults(Faults::default());
    ws.destroy();
    pairs.assert_nothing_left();
}

#[test]
fn a_silent_ec2_fails_the_apply_at_the_create_timeout() {
    let pairs = Pairs::new(61);
    let proxy = Proxy::start(&pairs.emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &config(&pairs, "30s"));
    ws.init();
    proxy.set_faults(silent_after_create());

    let started = Instant::now();
    let run = ws.try_apply();
    let took = started.elapsed();
    eprintln!(
        "apply against an EC2 gone silent after the create, create timeout 30s: failed after {took:?}"
    );
    assert!(!run.success(), "{}", run.text());
    assert!(
        took < Duration::from_secs(45),
        "the apply took {took:?}:\n{}",
        run.text()
    );
    let text = run.flat();
    assert!(
        text.contains("Timed out waiting for the endpoint") && text.contains("after 30s"),
        "the error names the create timeout:\n{text}"
    );
    assert!(text.contains("EC2 did not answer"), "{text}");
    assert_tainted_in_state(&ws, &proxy);
    clean_up(&ws, &proxy, &pairs);
}

#[test]
fn sigint_ends_an_apply_waiting_on_a_silent_ec2_within_seconds() {
    let pairs = Pairs::new(62);
    let proxy = Proxy::start(&pairs.emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &config(&pairs, "10m"));
    ws.init();
    proxy.set_faults(silent_after_create());

    let (mut terraform, output) = apply_until_waiting(&ws, &proxy);
    let group = terraform.id() as i32;
    let signalled = Instant::now();
    // SAFETY: kill(2) on the process group this test started, as Ctrl-C does.
    assert_eq!(unsafe { libc::kill(-group, libc::SIGINT) }, 0);
    let status = loop {
        if let Some(status) = terraform.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(60) {
            // SAFETY: as above; ends what the test started.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            panic!("terraform still ran 60 s after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let terraform_exit = signalled.elapsed();
    while !group_members(group).is_empty() {
        assert!(
            signalled.elapsed() < terraform_exit + Duration::from_secs(30),
            "processes outlived terraform: {:?}",
            group_members(group)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = output.join().unwrap();
    eprintln!(
        "SIGINT during a create wait on an EC2 gone silent: terraform exited after {terraform_exit:?}, \
         every process of its group after {:?}",
        signalled.elapsed()
    );
    assert!(!status.success(), "the apply was interrupted:\n{output}");
    assert!(
        terraform_exit < Duration::from_secs(5),
        "terraform took {terraform_exit:?} to exit:\n{output}"
    );
    assert_tainted_in_state(&ws, &proxy);
    clean_up(&ws, &proxy, &pairs);
}
