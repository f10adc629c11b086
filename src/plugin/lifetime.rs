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
//! Which signals (or, on Windows, console events) are answered, and why a
//! SIGHUP ignored at start stays ignored while SIGINT and SIGTERM are
//! always answered: [`platform`](crate::platform).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::framework::server::{Provider, Server};
use crate::platform::{Parent, Stops};

/// How long the process keeps serving after the first signal when
/// Terraform does not shut it down: stopped waits return within a second
/// or two, so this only bounds a call that does not come back.
pub const GRACE: Duration = Duration::from_secs(20);

/// How long the process lives after a second signal, or once Terraform is
/// gone: enough to flush answers already on their way.
pub const LAST_WORDS: Duration = Duration::from_secs(2);

/// How often the parent process is checked.
const PARENT_CHECK: Duration = Duration::from_millis(500);

/// The durations the rules below run on: [`Timing::PROCESS`] in the
/// process, shorter ones in tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub grace: Duration,
    pub last_words: Duration,
    pub parent_check: Duration,
}

impl Timing {
    pub const PROCESS: Timing = Timing {
        grace: GRACE,
        last_words: LAST_WORDS,
        parent_check: PARENT_CHECK,
    };
}

/// When the process must end, whatever Terraform says. Pure bookkeeping,
/// so the rules are testable without signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    timing: Timing,
    signals: u32,
    deadline: Option<Instant>,
}

impl Default for Ending {
    fn default() -> Self {
        Ending::new(Timing::PROCESS)
    }
}

impl Ending {
    pub fn new(timing: Timing) -> Self {
        Ending {
            timing,
            signals: 0,
            deadline: None,
        }
    }

    /// A signal arrived at `now`; true when it is the first.
    pub fn signal(&mut self, now: Instant) -> bool {
        self.signals += 1;
        let first = self.signals == 1;
        self.shorten(
            now + if first {
                self.timing.grace
            } else {
                self.timing.last_words
            },
        );
        first
    }

    /// Terraform is gone: nobody waits for answers any more.
    pub fn parent_gone(&mut self, now: Instant) {
        self.shorten(now + self.timing.last_words);
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn shorten(&mut self, to: Instant) {
        self.deadline = Some(self.deadline.map_or(to, |d| d.min(to)));
    }
}

/// What the watch reacts to: the platform's stop requests and parent in the
/// process ([`Lifetime`]), scripted ones in tests.
pub trait Events {
    /// The name of the next stop request; never resolves when there is none.
    fn next_stop(&mut self) -> impl Future<Output = &'static str>;
    /// Whether Terraform has exited.
    fn parent_gone(&self) -> bool;
}

/// The stop requests this process answers, registered at start (before
/// the handshake, so none of them can kill it with work in flight), and
/// the parent it watches.
pub struct Lifetime {
    stops: Stops,
    parent: Parent,
}

impl Lifetime {
    /// Must run inside the runtime.
    pub fn start() -> Self {
        Self {
            stops: Stops::register(),
            parent: Parent::at_start(),
        }
    }

    /// Runs until the process must end without waiting for Shutdown any
    /// longer, and says why. Signals terminate `server`; Terraform's exit
    /// also cancels `shutdown`, which ends serving once the answers in
    /// flight are out.
    pub async fn watch<P: Provider>(
        self,
        server: Arc<Server<P>>,
        shutdown: CancellationToken,
    ) -> &'static str {
        watch(self, Timing::PROCESS, |why| server.terminate(why), shutdown).await
    }
}

impl Events for Lifetime {
    fn next_stop(&mut self) -> impl Future<Output = &'static str> {
        self.stops.next()
    }

    fn parent_gone(&self) -> bool {
        self.parent.gone()
    }
}

/// The watch itself, on any [`Events`]: `terminate` stops work in flight
/// (with the reason), as StopProvider does.
pub async fn watch(
    mut events: impl Events,
    timing: Timing,
    terminate: impl Fn(&'static str),
    shutdown: CancellationToken,
) -> &'static str {
    let mut ending = Ending::new(timing);
    let mut reason = "";
    let mut parent_gone = false;
    let mut parent_check = tokio::time::interval(timing.parent_check);
    parent_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let deadline = ending.deadline();
        tokio::select! {
            name = events.next_stop() => {
                let now = Instant::now();
                if ending.signal(now) {
                    tracing::warn!(
                        signal = name,
                        "{name} received: stopping work in flight; its results go back to \
                         Terraform, and the provider exits when Terraform shuts it down, \
                         or in {} s",
                        timing.grace.as_secs()
                    );
                    terminate(name);
                    reason = "the grace period after a signal ended";
                } else {
                    tracing::warn!(
                        signal = name,
                        "{name} received again: exiting in {} s",
                        timing.last_words.as_secs()
                    );
                    reason = "a second signal";
                }
            }
            _ = parent_check.tick(), if !parent_gone => {
                if events.parent_gone() {
                    parent_gone = true;
                    tracing::warn!("Terraform is gone: stopping work in flight and exiting");
                    terminate("Terraform exited");
                    shutdown.cancel();
                    ending.parent_gone(Instant::now());
                    reason = "Terraform exited";
                }
            }
            _ = sleep_until(deadline), if deadline.is_some() => return reason,
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
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

    /// Stop requests sent by the test, and a parent that leaves when told.
    struct Scripted {
        stops: tokio::sync::mpsc::UnboundedReceiver<&'static str>,
        parent_gone: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Events for Scripted {
        async fn next_stop(&mut self) -> &'static str {
            match self.stops.recv().await {
                Some(name) => name,
                None => std::future::pending().await,
            }
        }
        fn parent_gone(&self) -> bool {
            self.parent_gone.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    const SHORT: Timing = Timing {
        grace: Duration::from_millis(600),
        last_words: Duration::from_millis(100),
        parent_check: Duration::from_millis(20),
    };

    /// Runs the watch on scripted events: `script` sends stop requests
    /// and sets the parent gone; returns the reason, the time the watch
    /// took, every `terminate` call and whether `shutdown` was cancelled.
    async fn run_watch(
        script: impl AsyncFnOnce(
            tokio::sync::mpsc::UnboundedSender<&'static str>,
            Arc<std::sync::atomic::AtomicBool>,
        ),
    ) -> (&'static str, Duration, Vec<String>, bool) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let terminated = Arc::new(std::sync::Mutex::new(Vec::new()));
        let shutdown = CancellationToken::new();
        let events = Scripted {
            stops: rx,
            parent_gone: gone.clone(),
        };
        let recorded = terminated.clone();
        let started = Instant::now();
        let watching = watch(
            events,
            SHORT,
            move |why| recorded.lock().unwrap().push(why.to_owned()),
            shutdown.clone(),
        );
        let (reason, ()) = tokio::join!(watching, script(tx.clone(), gone));
        let took = started.elapsed();
        drop(tx);
        let calls = terminated.lock().unwrap().clone();
        (reason, took, calls, shutdown.is_cancelled())
    }

    #[tokio::test]
    async fn one_stop_request_terminates_work_and_ends_at_the_grace_deadline() {
        let (reason, took, calls, shut) = run_watch(async |tx, _| {
            tx.send("SIGTERM").unwrap();
        })
        .await;
        assert_eq!(reason, "the grace period after a signal ended");
        assert_eq!(calls, ["SIGTERM"]);
        assert!(
            !shut,
            "serving goes on until Terraform shuts the provider down"
        );
        assert!(took >= SHORT.grace && took < SHORT.grace * 2, "{took:?}");
    }

    #[tokio::test]
    async fn a_second_request_ends_it_after_last_words() {
        let (reason, took, calls, _) = run_watch(async |tx, _| {
            tx.send("CTRL_C_EVENT").unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            tx.send("CTRL_BREAK_EVENT").unwrap();
        })
        .await;
        assert_eq!(reason, "a second signal");
        assert_eq!(calls, ["CTRL_C_EVENT"], "work is terminated once");
        assert!(took < SHORT.grace, "{took:?}");
    }

    #[tokio::test]
    async fn terraform_gone_terminates_work_and_ends_serving() {
        let (reason, took, calls, shut) = run_watch(async |_, gone| {
            tokio::time::sleep(Duration::from_millis(50)).await;
            gone.store(true, std::sync::atomic::Ordering::SeqCst);
        })
        .await;
        assert_eq!(reason, "Terraform exited");
        assert_eq!(calls, ["Terraform exited"]);
        assert!(shut, "serving ends once the answers in flight are out");
        assert!(took >= SHORT.last_words && took < SHORT.grace, "{took:?}");
    }
}
