//! The processes a test starts: each with default signal dispositions,
//! whatever the runner gave the test process; their output read on threads
//! of their own; `terraform`'s process group and the provider it started,
//! found through /proc.

use std::ffi::OsStr;
use std::io::Read as _;
use std::process::{Child, Command};

/// The stop signals a runner may have left ignored in the test process:
/// `nohup` ignores SIGHUP, a non-interactive shell's background job SIGINT
/// (and SIGQUIT). A child inherits an ignored disposition across exec.
const STOP_SIGNALS: [libc::c_int; 4] = [libc::SIGHUP, libc::SIGINT, libc::SIGQUIT, libc::SIGTERM];

/// A command for a process of the test (terraform, the provider, a
/// stand-in for Terraform): it starts with the default action for every
/// stop signal, so what it does with a signal is what the test decides,
/// never what the runner's dispositions happen to be. A test that wants a
/// signal ignored (as `nohup` would) adds its own `pre_exec` after this one.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    use std::os::unix::process::CommandExt as _;
    let mut command = Command::new(program);
    // SAFETY: signal(2) is async-signal-safe, and this runs in the child
    // between fork and exec, touching nothing else.
    unsafe {
        command.pre_exec(|| {
            for signo in STOP_SIGNALS {
                if libc::signal(signo, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    command
}

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

/// Starts terraform with `args` in `ws`, in a process group of its own
/// (the group's id is terraform's pid), with its output collected.
pub fn terraform_in_group(
    ws: &super::Workspace,
    args: &[&str],
) -> (Child, std::thread::JoinHandle<String>) {
    use std::os::unix::process::CommandExt as _;
    use std::process::Stdio;
    let mut terraform = command(super::terraform::terraform_binary())
        .args(args)
        .current_dir(ws.path())
        .env_remove("TF_LOG")
        .envs(ws.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start terraform");
    let output = collect_output(&mut terraform);
    (terraform, output)
}

/// Starts `terraform apply` in `ws` as [`terraform_in_group`] does, and
/// returns once the proxy has seen the endpoint created and its wait is
/// well under way.
pub fn apply_until_waiting(
    ws: &super::Workspace,
    proxy: &super::proxy::Proxy,
) -> (Child, std::thread::JoinHandle<String>) {
    use std::time::{Duration, Instant};
    let (terraform, output) =
        terraform_in_group(ws, &["apply", "-auto-approve", "-input=false", "-no-color"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.created_endpoints().is_empty() {
        assert!(Instant::now() < deadline, "the endpoint was never created");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2)); // well into the wait
    (terraform, output)
}
