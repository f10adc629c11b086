//! How a provider process ends.
//!
//! Terraform ends a provider with `GRPCController.Shutdown` once it has the
//! answers it needs. Signals arrive too, and usually at the whole process
//! group, Terraform included: Ctrl-C (SIGINT), a CI runner cancelling a job
//! (SIGTERM, SIGKILL a few seconds later), a closing terminal (SIGHUP).
//! Terraform takes SIGINT and SIGTERM as a request to stop gracefully and
//! calls StopProvider; SIGHUP ends Terraform at once.
//!
//! The first of these signals is taken as StopProvider is, for good
//! ([`Server::terminate`]): waits end, every create or update in flight
//! returns what exists, so its id reaches Terraform's state, and changes
//! asked for afterwards are refused. The process keeps serving, so those
//! answers get through, and ends at Shutdown as usual; or [`GRACE`] after
//! the first signal when Shutdown never comes; or [`LAST_WORDS`] after a
//! second signal, or after Terraform itself is gone (the process was handed
//! to another parent), since nobody is left to answer.
//!
//! A signal the process was started with ignored (`nohup`) stays ignored:
//! whoever started Terraform asked for it to survive that signal.

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::framework::server::{Provider, Server};

/// How long the process keeps serving after the first signal when
/// Terraform does not shut it down: stopped waits return within a second
/// or two, so this only bounds a call that does not come back.
pub const GRACE: Duration = Duration::from_secs(20);

/// How long the process lives after a second signal, or once Terraform is
/// gone: enough to flush answers already on their way.
pub const LAST_WORDS: Duration = Duration::from_secs(2);

/// How often the parent process is checked.
const PARENT_CHECK: Duration = Duration::from_millis(500);

/// When the process must end, whatever Terraform says. Pure bookkeeping,
/// so the rules are testable without signals.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    signals: u32,
    deadline: Option<Instant>,
}

impl Ending {
    /// A signal arrived at `now`; true when it is the first.
    pub fn signal(&mut self, now: Instant) -> bool {
        self.signals += 1;
        let first = self.signals == 1;
        self.shorten(now + if first { GRACE } else { LAST_WORDS });
        first
    }

    /// Terraform is gone: nobody waits for answers any more.
    pub fn parent_gone(&mut self, now: Instant) {
        self.shorten(now + LAST_WORDS);
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn shorten(&mut self, to: Instant) {
        self.deadline = Some(self.deadline.map_or(to, |d| d.min(to)));
    }
}

/// The signals this process answers, registered at start (before the
/// handshake, so none of them can kill it with work in flight).
pub struct Lifetime {
    signals: Vec<(&'static str, Signal)>,
    parent: u32,
}

impl Lifetime {
    /// Registers handlers for SIGINT, SIGTERM and SIGHUP, except those
    /// ignored at start. Must run inside the runtime.
    pub fn start() -> Self {
        let wanted = [
            ("SIGINT", SignalKind::interrupt()),
            ("SIGTERM", SignalKind::terminate()),
            ("SIGHUP", SignalKind::hangup()),
        ];
        let signals = wanted
            .into_iter()
            .filter(|(name, kind)| {
                let ignored = ignored_at_start(kind.as_raw_value());
                if ignored {
                    tracing::debug!(signal = name, "ignored at start; it stays ignored");
                }
                !ignored
            })
            .filter_map(|(name, kind)| match signal(kind) {
                Ok(s) => Some((name, s)),
                Err(e) => {
                    tracing::warn!(signal = name, error = %e, "could not handle the signal");
                    None
                }
            })
            .collect();
        Self {
            signals,
            parent: std::os::unix::process::parent_id(),
        }
    }

    /// Runs until the process must end without waiting for Shutdown any
    /// longer, and says why. Signals terminate `server`; Terraform's exit
    /// also cancels `shutdown`, which ends serving once the answers in
    /// flight are out.
    pub async fn watch<P: Provider>(
        mut self,
        server: Arc<Server<P>>,
        shutdown: CancellationToken,
    ) -> &'static str {
        let mut ending = Ending::default();
        let mut reason = "";
        let mut parent_gone = false;
        let mut parent_check = tokio::time::interval(PARENT_CHECK);
        parent_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = ending.deadline();
            tokio::select! {
                name = next_signal(&mut self.signals) => {
                    let now = Instant::now();
                    if ending.signal(now) {
                        tracing::warn!(
                            signal = name,
                            "{name} received: stopping work in flight; its results go back to \
                             Terraform, and the provider exits when Terraform shuts it down, \
                             or in {} s",
                            GRACE.as_secs()
                        );
                        server.terminate(name);
                        reason = "the grace period after a signal ended";
                    } else {
                        tracing::warn!(
                            signal = name,
                            "{name} received again: exiting in {} s",
                            LAST_WORDS.as_secs()
                        );
                        reason = "a second signal";
                    }
                }
                _ = parent_check.tick(), if !parent_gone => {
                    if std::os::unix::process::parent_id() != self.parent {
                        parent_gone = true;
                        tracing::warn!("Terraform is gone: stopping work in flight and exiting");
                        server.terminate("Terraform exited");
                        shutdown.cancel();
                        ending.parent_gone(Instant::now());
                        reason = "Terraform exited";
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => return reason,
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// The name of the next signal among `signals` (never, when empty).
async fn next_signal(signals: &mut [(&'static str, Signal)]) -> &'static str {
    std::future::poll_fn(|cx| {
        for (name, s) in signals.iter_mut() {
            if let Poll::Ready(Some(())) = s.poll_recv(cx) {
                return Poll::Ready(*name);
            }
        }
        Poll::Pending
    })
    .await
}

/// Whether `signo` was ignored when the process started (SIG_IGN survives
/// exec: `nohup` sets it for SIGHUP, a shell's background jobs for SIGINT).
fn ignored_at_start(signo: libc::c_int) -> bool {
    // SAFETY: a null new action makes sigaction only read the current one
    // into `old`, a plain C struct for which all zeroes is a valid value.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signo, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_leaves_the_grace_period() {
        let t = Instant::now();
        let mut ending = Ending::default();
        assert_eq!(ending.deadline(), None);
        assert!(ending.signal(t));
        assert_eq!(ending.deadline(), Some(t + GRACE));
    }

    #[test]
    fn a_second_signal_leaves_only_last_words() {
        let t = Instant::now();
        let mut ending = Ending::default();
        ending.signal(t);
        assert!(!ending.signal(t + Duration::from_secs(1)));
        assert_eq!(
            ending.deadline(),
            Some(t + Duration::from_secs(1) + LAST_WORDS)
        );
        // A later signal never moves the end further away.
        ending.signal(t + Duration::from_secs(30));
        assert_eq!(
            ending.deadline(),
            Some(t + Duration::from_secs(1) + LAST_WORDS)
        );
    }

    #[test]
    fn terraform_gone_ends_it_soon_with_or_without_a_signal() {
        let t = Instant::now();
        let mut quiet = Ending::default();
        quiet.parent_gone(t);
        assert_eq!(quiet.deadline(), Some(t + LAST_WORDS));

        let mut signalled = Ending::default();
        signalled.signal(t);
        signalled.parent_gone(t + Duration::from_secs(3));
        assert_eq!(
            signalled.deadline(),
            Some(t + Duration::from_secs(3) + LAST_WORDS)
        );
        // A signal after Terraform left does not restart the grace period.
        signalled.signal(t + Duration::from_secs(4));
        assert_eq!(
            signalled.deadline(),
            Some(t + Duration::from_secs(3) + LAST_WORDS)
        );
    }

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
}
