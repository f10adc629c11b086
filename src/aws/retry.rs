//! Polling with backoff: soon after a change, then less and less often up to
//! a ceiling, with jitter so parallel waiters spread out. Every wait ends at
//! its deadline or when StopProvider cancels it.

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
    async fn pause_ends_at_deadline() {
        let stop = CancellationToken::new();
        let mut b = Backoff::for_state();
        assert_eq!(
            pause(&mut b, Instant::now(), &stop).await,
            Err(Interrupted::Timeout)
        );
    }
}
