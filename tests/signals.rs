//! Pipelines get cancelled. A CI runner sends SIGTERM to the whole process
//! group of a job, Ctrl-C sends SIGINT to the terminal's foreground group,
//! a closing terminal sends SIGHUP. Each scenario starts the real
//! `terraform apply` in a process group of its own, waits until this
//! provider has created an endpoint and is waiting for it (the fault proxy
//! holds it in `pendingAcceptance`, of a service that does not require
//! acceptance, so only the 10-minute create timeout would end the wait),
//! sends a real signal, and then checks how long Terraform and the provider
//! took to exit, what Terraform's state kept, and that the next apply and a
//! destroy leave nothing behind.

use crate::support;

use std::os::unix::process::ExitStatusExt as _;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use support::Workspace;
use support::pairs::{Pairs, assert_unique};
use support::processes::{apply_until_waiting, group_members, provider_of};
use support::proxy::{Faults, Proxy, StateRewrite};

const ENDPOINT: &str = "planetscale_privatelink_endpoint.db[0]";

/// Who gets the signal.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// Terraform's whole process group, the provider included: what a CI
    /// runner and a terminal do.
    Group,
    /// The provider process alone; Terraform carries on.
    Provider,
}

/// How an interrupted apply ended.
struct Interrupted {
    status: ExitStatus,
    output: String,
    /// From the signal to Terraform's exit.
    terraform_exit: Duration,
    /// From the signal to the last process of the group gone.
    all_exit: Duration,
}

/// Runs `terraform apply` in `ws` in a process group of its own, waits
/// until the endpoint is created and its wait has begun, sends `signal` to
/// `target`, and waits for every process of the group to end.
fn interrupt_apply(ws: &Workspace, proxy: &Proxy, target: Target, signal: i32) -> Interrupted {
    let (mut terraform, output) = apply_until_waiting(ws, proxy);
    let group = terraform.id() as i32;
    let pid = match target {
        Target::Group => -group,
        Target::Provider => provider_of(terraform.id()) as i32,
    };
    let signalled = Instant::now();
    // SAFETY: kill(2) on processes this test started.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill {pid}");

    let status = loop {
        if let Some(status) = terraform.try_wait().unwrap() {
            break status;
        }
        if signalled.elapsed() > Duration::from_secs(60) {
            // SAFETY: as above; ends what the test started.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            panic!("terraform still ran 60 s after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let terraform_exit = signalled.elapsed();
    while !group_members(group).is_empty() {
        if signalled.elapsed() > terraform_exit + Duration::from_secs(30) {
            // SAFETY: as above.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            panic!(
                "processes outlived terraform by 30 s: {:?}",
                group_members(group)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let all_exit = signalled.elapsed();
    Interrupted {
        status,
        output: output.join().unwrap(),
        terraform_exit,
        all_exit,
    }
}

fn provider_log(ws: &Workspace) -> String {
    std::fs::read_to_string(ws.path().join("provider.log")).unwrap_or_default()
}

/// The endpoint held in `pendingAcceptance` until the faults are cleared.
fn pending_acceptance() -> Faults {
    Faults {
        endpoint_state: Some(StateRewrite {
            state: "pendingAcceptance".into(),
            times: None,
            last_error: None,
        }),
        ..Faults::default()
    }
}

/// A signal during the create's wait: Terraform exits within 25 s, its
/// state holds the endpoint (tainted), the next apply converges and a
/// destroy leaves nothing.
fn the_endpoint_reaches_state(octet: u8, target: Target, signal: i32, name: &str) {
    let pairs = Pairs::new(octet);
    let proxy = Proxy::start(&pairs.emulator.url);
    proxy.set_faults(pending_acceptance());
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &pairs.config(1, "10m", "one"));
    ws.init();

    let run = interrupt_apply(&ws, &proxy, target, signal);
    eprintln!(
        "{name} to {target:?} during a 10-minute create wait: terraform exited after {:?}, \
         every process of its group after {:?}",
        run.terraform_exit, run.all_exit
    );
    assert!(
        run.terraform_exit < Duration::from_secs(25),
        "terraform took {:?} to exit:\n{}",
        run.terraform_exit,
        run.output
    );
    assert!(!run.status.success(), "the apply was interrupted");

    let created = proxy.created_endpoints();
    assert_eq!(created.len(), 1, "{created:?}");
    let state = ws.state();
    let endpoint =
        support::terraform::find_in_state(&state, ENDPOINT).expect("the endpoint is in state");
    assert_eq!(endpoint["values"]["id"], created[0].as_str(), "{state:#}");
    assert_eq!(endpoint["tainted"], true, "{state:#}");
    assert!(
        provider_log(&ws).contains(&format!("{name} received")),
        "the provider did not see {name}"
    );

    // PlanetScale's side settles; the next apply replaces the tainted
    // endpoint and converges, and destroy leaves nothing.
    proxy.set_faults(Faults::default());
    ws.apply();
    ws.assert_no_changes();
    ws.destroy();
    pairs.assert_nothing_left();
    let created = proxy.created_endpoints();
    assert_unique(&created);
    eprintln!(
        "{name} to {target:?}: {} endpoints created in all (one replaced), 0 orphaned, \
         0 duplicated",
        created.len()
    );
}

#[test]
fn sigterm_to_terraforms_process_group_during_a_create_wait_loses_nothing() {
    the_endpoint_reaches_state(90, Target::Group, libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigint_to_terraforms_process_group_during_a_create_wait_loses_nothing() {
    the_endpoint_reaches_state(91, Target::Group, libc::SIGINT, "SIGINT");
}

#[test]
fn sighup_to_the_provider_during_a_create_wait_is_taken_as_a_stop() {
    the_endpoint_reaches_state(92, Target::Provider, libc::SIGHUP, "SIGHUP");
}

#[test]
fn sigterm_to_the_provider_alone_is_taken_as_a_stop() {
    the_endpoint_reaches_state(93, Target::Provider, libc::SIGTERM, "SIGTERM");
}

/// SIGHUP to the whole group: Terraform does not handle SIGHUP and dies at
/// once, saving nothing for the create in flight. The provider must not
/// outlive it: it stops its wait and exits within seconds, instead of
/// waiting out a 10-minute timeout for nobody.
#[test]
fn sighup_to_terraforms_process_group_ends_the_provider_with_terraform() {
    let pairs = Pairs::new(94);
    let proxy = Proxy::start(&pairs.emulator.url);
    proxy.set_faults(pending_acceptance());
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &pairs.config(1, "10m", "one"));
    ws.init();

    let run = interrupt_apply(&ws, &proxy, Target::Group, libc::SIGHUP);
    eprintln!(
        "SIGHUP to Group during a 10-minute create wait: terraform exited after {:?}, \
         every process of its group after {:?}",
        run.terraform_exit, run.all_exit
    );
    assert_eq!(
        run.status.signal(),
        Some(libc::SIGHUP),
        "terraform ends by SIGHUP's default action:\n{}",
        run.output
    );
    assert!(
        run.all_exit < Duration::from_secs(5),
        "the provider outlived terraform: {:?}",
        run.all_exit
    );
    // (What the provider logged went to Terraform, which was gone.)

    // Terraform kept the group it had finished, not the endpoint in flight.
    let state = ws.state();
    assert!(
        support::terraform::find_in_state(&state, "planetscale_privatelink_security_group.db[0]")
            .is_some(),
        "{state:#}"
    );
    assert!(
        support::terraform::find_in_state(&state, ENDPOINT).is_none(),
        "{state:#}"
    );
    let created = proxy.created_endpoints();
    let left = pairs.live_endpoints();
    eprintln!(
        "SIGHUP to Group: {} endpoint created, {} outside Terraform's state",
        created.len(),
        left.len()
    );
    assert_eq!(left, created, "the endpoint created before the signal");
    // Finding that endpoint again is the next plan's job, not the
    // signal's: here it is removed by hand, and the rest destroyed.
    proxy.set_faults(Faults::default());
    pairs.delete_endpoints(&left);
    ws.destroy();
    pairs.assert_nothing_left();
}
