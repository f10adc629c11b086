//! The processes of a test's `terraform`: its output read on threads of
//! its own, its process group, and the provider it started, found through
//! /proc.

use std::io::Read as _;
use std::process::Child;

/// Reads a child's stdout and stderr to the end on threads of their own,
/// so a chatty child never blocks on a full pipe.
pub fn collect_output(child: &mut Child) -> std::thread::JoinHandle<String> {
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s + "\n" + &err.join().unwrap()
    })
}

/// `(pid, ppid, pgrp, state, comm)` of every process.
pub fn processes() -> Vec<(u32, u32, i32, String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if let (Some(state), Some(ppid), Some(pgrp)) = (
            rest.first(),
            rest.get(1).and_then(|p| p.parse().ok()),
            rest.get(2).and_then(|p| p.parse().ok()),
        ) {
            out.push((pid, ppid, pgrp, (*state).to_owned(), comm));
        }
    }
    out
}

/// Live processes (zombies excluded) of process group `group`.
pub fn group_members(group: i32) -> Vec<String> {
    processes()
        .into_iter()
        .filter(|(_, _, pgrp, state, _)| *pgrp == group && state != "Z" && state != "X")
        .map(|(pid, _, _, _, comm)| format!("{pid} {comm}"))
        .collect()
}

/// The pid of this provider, started by terraform `parent`.
pub fn provider_of(parent: u32) -> u32 {
    let found: Vec<u32> = processes()
        .into_iter()
        .filter(|(_, ppid, _, _, comm)| *ppid == parent && comm.starts_with("terraform-provi"))
        .map(|(pid, ..)| pid)
        .collect();
    assert_eq!(found.len(), 1, "one provider process: {found:?}");
    found[0]
}

/// Starts `terraform apply` in `ws`, in a process group of its own (the
/// group's id is terraform's pid), with its output collected, and returns
/// once the proxy has seen the endpoint created and its wait is well under
/// way.
pub fn apply_until_waiting(
    ws: &super::Workspace,
    proxy: &super::proxy::Proxy,
) -> (Child, std::thread::JoinHandle<String>) {
    use std::os::unix::process::CommandExt as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut terraform = Command::new(super::terraform::terraform_binary())
        .args(["apply", "-auto-approve", "-input=false", "-no-color"])
        .current_dir(ws.path())
        .env_remove("TF_LOG")
        .envs(ws.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start terraform");
    let output = collect_output(&mut terraform);
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.created_endpoints().is_empty() {
        assert!(Instant::now() < deadline, "the endpoint was never created");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2)); // well into the wait
    (terraform, output)
}
