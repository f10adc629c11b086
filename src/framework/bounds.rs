//! The bounds of one operation: the deadline its `timeouts` block gives,
//! and StopProvider (Ctrl-C). The server sets them around every operation
//! it runs (configure, plan, create, read, update, delete, import, a data
//! source's read); whatever the operation awaits, however deep, can ask for
//! them without their being passed down. The AWS HTTP client and its
//! retries' sleeps read them, so no call outlives its operation, including
//! the calls a resource makes outside its waits.
//!
//! They are task-local: a task spawned on an operation's behalf takes them
//! along with [`inherit`]; a task that serves several operations at once
//! (a batched lookup) is raced by each caller with [`race`] instead.

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::framework::timeouts::format_duration;

tokio::task_local! {
    static BOUNDS: Bounds;
}

/// When an operation must end: at its deadline, if it has one, or when
/// Terraform stops it.
#[derive(Clone, Debug)]
pub struct Bounds {
    stop: CancellationToken,
    deadline: Option<Deadline>,
}

#[derive(Clone, Copy, Debug)]
struct Deadline {
    at: Instant,
    /// The operation whose timeout this is (`create`, `delete`...).
    operation: &'static str,
    timeout: Duration,
}

/// Why an operation was ended before its calls were answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// The `timeouts` value of `operation` ran out.
    Timeout {
        operation: &'static str,
        timeout: Duration,
    },
    /// Terraform stopped the provider (Ctrl-C), or the process is ending.
    Stopped,
}

impl fmt::Display for Interruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Interruption::Timeout { operation, timeout } => write!(
                f,
                "the {operation} timeout ({}) ran out",
                format_duration(*timeout)
            ),
            Interruption::Stopped => f.write_str("Terraform was interrupted"),
        }
    }
}

impl std::error::Error for Interruption {}

impl Bounds {
    /// Ends only when `stop` is cancelled: plan, refresh, import and data
    /// sources, which Terraform gives no timeout.
    pub fn stop_only(stop: CancellationToken) -> Self {
        Self {
            stop,
            deadline: None,
        }
    }

    /// Ends when `stop` is cancelled or `timeout` (the value of the
    /// `operation` timeout) has passed from now.
    pub fn with_timeout(
        stop: CancellationToken,
        operation: &'static str,
        timeout: Duration,
    ) -> Self {
        Self {
            stop,
            deadline: Some(Deadline {
                at: Instant::now() + timeout,
                operation,
                timeout,
            }),
        }
    }

    /// The same, with the deadline moved `by` later; messages still name
    /// the timeout as given.
    pub fn extended(mut self, by: Duration) -> Self {
        if let Some(d) = &mut self.deadline {
            d.at += by;
        }
        self
    }

    /// Why the operation must end now, if it must.
    pub fn interruption(&self) -> Option<Interruption> {
        if self.stop.is_cancelled() {
            return Some(Interruption::Stopped);
        }
        self.deadline
            .filter(|d| Instant::now() >= d.at)
            .map(|d| Interruption::Timeout {
                operation: d.operation,
                timeout: d.timeout,
            })
    }

    /// Resolves when the operation must end, with why.
    pub async fn interrupted(&self) -> Interruption {
        match self.deadline {
            Some(d) => tokio::select! {
                biased;
                _ = self.stop.cancelled() => Interruption::Stopped,
                _ = tokio::time::sleep_until(d.at.into()) => Interruption::Timeout {
                    operation: d.operation,
                    timeout: d.timeout,
                },
            },
            None => {
                self.stop.cancelled().await;
                Interruption::Stopped
            }
        }
    }

    /// Runs `fut` unless the operation must end first; a future ready at
    /// the same time as the interruption loses to it.
    pub async fn race<F: Future>(&self, fut: F) -> Result<F::Output, Interruption> {
        if let Some(why) = self.interruption() {
            return Err(why);
        }
        tokio::select! {
            biased;
            why = self.interrupted() => Err(why),
            out = fut => Ok(out),
        }
    }
}

/// Runs `fut` within `bounds`: everything it awaits sees them.
pub async fn scope<F: Future>(bounds: Bounds, fut: F) -> F::Output {
    BOUNDS.scope(bounds, fut).await
}

/// The bounds of the operation this task runs, if any.
pub fn current() -> Option<Bounds> {
    BOUNDS.try_with(Clone::clone).ok()
}

/// Why the current operation must end now, if it must.
pub fn interruption() -> Option<Interruption> {
    BOUNDS.try_with(Bounds::interruption).ok().flatten()
}

/// Runs `fut` unless the current operation must end first. Outside any
/// operation it simply runs `fut`.
pub async fn race<F: Future>(fut: F) -> Result<F::Output, Interruption> {
    match current() {
        Some(bounds) => bounds.race(fut).await,
        None => Ok(fut.await),
    }
}

/// Sleeps for `duration`, or less when the current operation must end
/// first: the SDK's retries pause with this, so a throttled call ends at
/// its operation's deadline or at Ctrl-C, not at its next attempt.
pub fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
    let bounds = current();
    async move {
        match bounds {
            Some(bounds) => {
                let _ = bounds.race(tokio::time::sleep(duration)).await;
            }
            None => tokio::time::sleep(duration).await,
        }
    }
}

/// `fut` with the current operation's bounds, for a task spawned on its
/// behalf.
pub fn inherit<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    let bounds = current();
    async move {
        match bounds {
            Some(bounds) => scope(bounds, fut).await,
            None => fut.await,
        }
    }
}

/// Runs `fut` under the current operation's bounds, cut short `limit` from
/// now: a best-effort look around (a plan's check for what an earlier
/// apply left behind) that must not use up the operation's time when AWS
/// throttles or does not answer.
pub async fn glance<F: Future>(limit: Duration, fut: F) -> Result<F::Output, Interruption> {
    let outer = current();
    let stop = outer.as_ref().map(|b| b.stop.clone()).unwrap_or_default();
    let mut bounds = Bounds::with_timeout(stop, "look", limit);
    if let Some(deadline) = outer.and_then(|b| b.deadline)
        && bounds.deadline.is_some_and(|own| deadline.at < own.at)
    {
        bounds.deadline = Some(deadline);
    }
    scope(bounds.clone(), bounds.race(fut)).await
}

/// Runs `fut` outside the current operation's bounds, for at most `limit`:
/// the last look at what exists after an operation was interrupted, which
/// must still reach Terraform's state.
pub async fn last_look<F: Future>(limit: Duration, fut: F) -> Result<F::Output, Interruption> {
    let bounds = Bounds::with_timeout(CancellationToken::new(), "last look", limit);
    scope(bounds.clone(), bounds.race(fut)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hung() -> std::future::Pending<()> {
        std::future::pending()
    }

    #[tokio::test]
    async fn a_glance_ends_at_its_limit_or_the_operations_deadline() {
        let started = Instant::now();
        let out = glance(Duration::from_millis(20), hung()).await;
        assert!(matches!(out, Err(Interruption::Timeout { .. })));
        assert!(started.elapsed() < Duration::from_secs(1));
        let bounds = Bounds::with_timeout(
            CancellationToken::new(),
            "create",
            Duration::from_millis(20),
        );
        let out = scope(bounds, glance(Duration::from_secs(60), hung())).await;
        assert_eq!(
            out,
            Err(Interruption::Timeout {
                operation: "create",
                timeout: Duration::from_millis(20)
            })
        );
        assert_eq!(glance(Duration::from_secs(1), async { 7 }).await, Ok(7));
    }

    #[tokio::test]
    async fn a_call_ends_at_the_deadline_of_its_operation() {
        let bounds = Bounds::with_timeout(
            CancellationToken::new(),
            "create",
            Duration::from_millis(20),
        );
        let started = Instant::now();
        let out = scope(bounds, race(hung())).await;
        assert_eq!(
            out,
            Err(Interruption::Timeout {
                operation: "create",
                timeout: Duration::from_millis(20)
            })
        );
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            out.unwrap_err().to_string(),
            "the create timeout (20ms) ran out"
        );
    }

    #[tokio::test]
    async fn a_call_ends_when_the_operation_is_stopped() {
        let stop = CancellationToken::new();
        let bounds = Bounds::stop_only(stop.clone());
        let stopper = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            stop.cancel();
        };
        let (out, ()) = tokio::join!(scope(bounds, race(hung())), stopper);
        assert_eq!(out, Err(Interruption::Stopped));
    }

    #[tokio::test]
    async fn outside_an_operation_nothing_is_bounded() {
        assert_eq!(race(async { 7 }).await, Ok(7));
        assert!(interruption().is_none());
        sleep(Duration::from_millis(1)).await;
    }

    #[tokio::test]
    async fn a_sleep_ends_early_at_the_stop_and_a_spawned_task_inherits_the_bounds() {
        let stop = CancellationToken::new();
        stop.cancel();
        let started = Instant::now();
        let spawned = scope(Bounds::stop_only(stop), async {
            sleep(Duration::from_secs(60)).await;
            tokio::spawn(inherit(async { interruption() }))
                .await
                .unwrap()
        })
        .await;
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(spawned, Some(Interruption::Stopped));
    }

    #[tokio::test]
    async fn a_last_look_runs_after_the_stop_for_its_own_limit() {
        let stop = CancellationToken::new();
        stop.cancel();
        let looked = scope(Bounds::stop_only(stop), async {
            last_look(Duration::from_secs(5), async { interruption() }).await
        })
        .await;
        assert_eq!(looked, Ok(None));
        let hung_look = last_look(Duration::from_millis(10), hung()).await;
        assert!(matches!(hung_look, Err(Interruption::Timeout { .. })));
    }
}
