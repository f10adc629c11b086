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
