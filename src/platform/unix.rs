//! Linux, macOS and the BSDs: stop requests are signals, Terraform is the
//! parent process id, and its command line comes from /proc on Linux and
//! from `ps` elsewhere (macOS and the BSDs have no /proc by default).

use std::task::{Context, Poll};

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::{Request, answered};

pub struct Stops(Vec<(&'static str, Signal)>);

impl Stops {
    pub fn register() -> Self {
        let wanted = [
            ("SIGINT", Request::Interrupt, SignalKind::interrupt()),
            ("SIGTERM", Request::Terminate, SignalKind::terminate()),
            ("SIGHUP", Request::HangUp, SignalKind::hangup()),
        ];
        let signals = wanted
            .into_iter()
            .filter(|(name, request, kind)| {
                let ignored = ignored_at_start(kind.as_raw_value());
                let answer = answered(*request, ignored);
                if ignored {
                    tracing::debug!(
                        signal = name,
                        answered = answer,
                        "the signal was ignored when the provider started"
                    );
                }
                answer
            })
            .filter_map(|(name, _, kind)| match signal(kind) {
                Ok(s) => Some((name, s)),
                Err(e) => {
                    tracing::warn!(signal = name, error = %e, "could not handle the signal");
                    None
                }
            })
            .collect();
        Stops(signals)
    }

    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<&'static str> {
        for (name, s) in self.0.iter_mut() {
            if let Poll::Ready(Some(())) = s.poll_recv(cx) {
                return Poll::Ready(*name);
            }
        }
        Poll::Pending
    }
}

/// Whether `signo` was ignored when the process started (SIG_IGN survives
/// exec: `nohup` sets it for SIGHUP, a shell's background jobs for SIGINT).
pub fn ignored_at_start(signo: libc::c_int) -> bool {
    // SAFETY: a null new action makes sigaction only read the current one
    // into `old`, a plain C struct for which all zeroes is a valid value.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signo, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Terraform, by its process id: once it exits, this process is handed to
/// another parent (init, or a subreaper) and the id changes.
pub struct Parent(u32);

impl Parent {
    pub fn at_start() -> Self {
        Parent(std::os::unix::process::parent_id())
    }

    pub fn gone(&self) -> bool {
        std::os::unix::process::parent_id() != self.0
    }
}

pub fn parent_command_line() -> Option<Vec<String>> {
    let parent = std::os::unix::process::parent_id();
    #[cfg(target_os = "linux")]
    {
        proc_command_line(parent)
    }
    #[cfg(not(target_os = "linux"))]
    {
        ps_command_line(parent)
    }
}

/// From /proc: the arguments exactly, separated by NUL bytes.
#[cfg(target_os = "linux")]
pub fn proc_command_line(pid: u32) -> Option<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    (!args.is_empty()).then_some(args)
}

/// From `ps` (POSIX's `-o args`, unabridged with `-ww`): the arguments
/// joined by spaces, split again here. An argument holding a space comes
/// back as two, which is harmless for finding a subcommand and its flags.
/// Compiled everywhere on Unix so that Linux tests it too.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub fn ps_command_line(pid: u32) -> Option<Vec<String>> {
    let out = std::process::Command::new("ps")
        .args(["-ww", "-o", "args=", "-p", &pid.to_string()])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let args: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    (!args.is_empty()).then_some(args)
}

pub fn is_descriptor_shortage(errno: i32) -> bool {
    matches!(
        errno,
        libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ignored_signal_is_seen_as_ignored() {
        // SIGUSR2: nothing else in the test process touches it.
        // SAFETY: setting SIG_IGN for a signal nothing handles.
        unsafe {
            libc::signal(libc::SIGUSR2, libc::SIG_IGN);
        }
        assert!(ignored_at_start(libc::SIGUSR2));
        // SAFETY: back to the default disposition.
        unsafe {
            libc::signal(libc::SIGUSR2, libc::SIG_DFL);
        }
        assert!(!ignored_at_start(libc::SIGUSR2));
    }

    #[test]
    fn ps_reads_the_command_line_that_proc_holds() {
        // This process's own, compared as one line: `ps` splits an
        // argument that holds a space.
        let me = std::process::id();
        let from_ps = ps_command_line(me).expect("ps answers for this process");
        let args: Vec<String> = std::env::args().collect();
        assert_eq!(from_ps.join(" "), args.join(" "));
        #[cfg(target_os = "linux")]
        assert_eq!(proc_command_line(me), Some(args));
    }

    #[test]
    fn no_process_has_no_command_line() {
        // Beyond Linux's and the BSDs' largest process id.
        assert_eq!(ps_command_line(99_999_999), None);
        #[cfg(target_os = "linux")]
        assert_eq!(proc_command_line(99_999_999), None);
    }

    #[test]
    fn a_shortage_of_descriptors_is_told_from_other_errors() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM] {
            assert!(super::super::out_of_descriptors(
                &std::io::Error::from_raw_os_error(errno)
            ));
        }
        for errno in [libc::ECONNABORTED, libc::EINTR, libc::EPERM] {
            assert!(!super::super::out_of_descriptors(
                &std::io::Error::from_raw_os_error(errno)
            ));
        }
    }
}
