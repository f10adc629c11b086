//! Polling with backoff: soon after a change, then less and less often up to
//! a ceiling, with jitter so parallel waiters spread out. Every wait ends at
//! its deadline or when StopProvider cancels it, its reads included: a call
//! EC2 accepts and never answers holds a wait no longer than its pauses.

use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::aws::AwsError;

#[derive(Clone, Debug)]
pub struct Backoff {
    next: Duration,
    ceiling: Duration,
}

impl Backoff {
    /// First poll after `first`, growing by half each time up to `ceiling`.
    pub fn new(first: Duration, ceiling: Duration) -> Self {
        Self {
            next: first,
            ceiling,
        }
    }

    /// The default for waiters on EC2 state: 0.5 s, growing to 10 s.
    pub fn for_state() -> Self {
        Self::new(Duration::from_millis(500), Duration::from_secs(10))
    }

    /// The next delay, with ±20% jitter.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 3 / 2).min(self.ceiling);
        let jitter = 0.8 + fastrand::f64() * 0.4;
        base.mul_f64(jitter)
    }
}

/// Sleeps for the backoff's next delay, unless the deadline comes first
/// (returns `Err(Timeout)`) or the provider is stopped (`Err(Cancelled)`).
pub async fn pause(
    backoff: &mut Backoff,
    deadline: Instant,
    stop: &CancellationToken,
) -> Result<(), Interrupted> {
    let now = Instant::now();
    if now >= deadline {
        return Err(Interrupted::Timeout);
    }
    let delay = backoff.next_delay().min(deadline - now);
    tokio::select! {
        _ = stop.cancelled() => Err(Interrupted::Stopped),
        _ = tokio::time::sleep(delay) => Ok(()),
    }
}

/// Runs `call` (a wait's read, or its action) unless the deadline comes
/// first (`Err(Timeout)`) or the provider is stopped (`Err(Stopped)`). An
/// answer ready with the deadline wins; a stop wins over everything, as
/// the call itself ends with an error at the stop ([`bounds`]).
///
/// [`bounds`]: crate::framework::bounds
pub async fn within<T>(
    deadline: Instant,
    stop: &CancellationToken,
    call: impl Future<Output = T>,
) -> Result<T, Interrupted> {
    tokio::select! {
        biased;
        _ = stop.cancelled() => Err(Interrupted::Stopped),
        out = call => Ok(out),
        _ = tokio::time::sleep_until(deadline.into()) => Err(Interrupted::Timeout),
    }
}

/// How long the last look at a resource after its wait ended short may
/// take. EC2 answers such a read in well under a second; when it does not,
/// it may be why the wait ended, and what exists must reach Terraform's
/// state now (after a Ctrl-C, within seconds).
pub const LAST_LOOK: Duration = Duration::from_secs(2);

/// Runs `call`, a last look after a wait, for at most [`LAST_LOOK`].
pub async fn last_look<T>(call: impl Future<Output = Result<T, AwsError>>) -> Result<T, AwsError> {
    at_most(LAST_LOOK, call).await
}

/// Runs `call` for at most `limit`, outside the bounds of the operation
/// (which may have ended: this is how what exists still reaches the
/// state); past it, the call is dropped and the answer is a `Cancelled`
/// error that says how long EC2 was given.
pub async fn at_most<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, AwsError>>,
) -> Result<T, AwsError> {
    crate::framework::bounds::last_look(limit, call)
        .await
        .unwrap_or_else(|_| {
            Err(AwsError::Cancelled(format!(
                "EC2 did not answer within {limit:?}"
            )))
        })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupted {
    Timeout,
    Stopped,
}

impl Interrupted {
    pub fn into_error(self, what: &str) -> AwsError {
        match self {
            Interrupted::Timeout => AwsError::Cancelled(format!("timed out {what}")),
            Interrupted::Stopped => {
                AwsError::Cancelled(format!("stopped {what}: Terraform was interrupted"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_ceiling() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(400));
        let delays: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(80) && delays[0] <= Duration::from_millis(120));
        for d in &delays[4..] {
            assert!(
                *d >= Duration::from_millis(320) && *d <= Duration::from_millis(480),
                "{d:?}"
            );
        }
    }

    #[tokio::test]
    async fn pause_ends_at_stop() {
        let stop = CancellationToken::new();
        stop.cancel();
        let mut b = Backoff::new(Duration::from_secs(60), Duration::from_secs(60));
        let deadline = Instant::now() + Duration::from_secs(600);
        assert_eq!(
            pause(&mut b, deadline, &stop).await,
            Err(Interrupted::Stopped)
        );
    }

    #[tokio::test]
    async fn a_call_that_never_ends_ends_at_the_deadline_or_the_stop() {
        let stop = CancellationToken::new();
        let hung = std::future::pending::<()>;
        let deadline = Instant::now() + Duration::from_millis(30);
        assert_eq!(
            within(deadline, &stop, hung()).await,
            Err(Interrupted::Timeout)
        );
        stop.cancel();
        let far = Instant::now() + Duration::from_secs(600);
        assert_eq!(within(far, &stop, hung()).await, Err(Interrupted::Stopped));
        // A stop wins over an answer; a deadline does not.
        assert_eq!(
            within(far, &stop, async { 7 }).await,
            Err(Interrupted::Stopped)
        );
        let running = CancellationToken::new();
        assert_eq!(within(Instant::now(), &running, async { 7 }).await, Ok(7));
    }

    #[tokio::test]
    async fn a_call_given_a_limit_ends_there() {
        let hung = std::future::pending::<Result<(), AwsError>>();
        let e = at_most(Duration::from_millis(20), hung).await.unwrap_err();
        assert!(matches!(e, AwsError::Cancelled(_)), "{e:?}");
        assert_eq!(last_look(async { Ok(1) }).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn pause_ends_at_deadline() {
        let stop = CancellationToken::new();
        let mut b = Backoff::for_state();
        assert_eq!(
            pause(&mut b, Instant::now(), &stop).await,
            Err(Interrupted::Timeout)
        );
    }
}
