//! How AWS calls are retried: the SDK's retry mode, its attempts, and its
//! retry quota, settled the way hashicorp/aws settles them.
//!
//! * Mode: `retry_mode` in the provider block, else `AWS_RETRY_MODE`, else
//!   the profile's `retry_mode`, else `standard`. (`adaptive` is there for
//!   those who ask; the AWS SDKs call it experimental, and its client-side
//!   rate limiter slows every call down for a while after each throttle.)
//! * Attempts: `max_retries` + 1, else `AWS_MAX_ATTEMPTS`, else the
//!   profile's `max_attempts`, else 26 (25 retries, as hashicorp/aws).
//! * Quota: the SDK's retry quota (500 tokens, 5 spent per retry) drains
//!   under sustained throttling, after which every call fails at its first
//!   throttle whatever the attempts say. It is unlimited unless
//!   `token_bucket_rate_limiter_capacity` sets one; the attempts bound each
//!   call's retries either way.

use std::time::Duration;

use aws_sdk_ec2::config::retry::{RetryConfig, RetryMode, RetryPartition, TokenBucket};

/// What the retry settings came to.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub mode: RetryMode,
    pub max_attempts: u32,
    /// The retry quota's capacity, `None` for no quota.
    pub quota: Option<usize>,
}

/// The retry arguments of the provider block, and the environment's and
/// profile's settings, as found (not yet checked).
#[derive(Clone, Debug, Default)]
pub struct RetrySources<'a> {
    pub retry_mode: Option<&'a str>,
    pub max_retries: Option<i64>,
    pub quota: Option<i64>,
    pub env_mode: Option<&'a str>,
    pub env_max_attempts: Option<&'a str>,
    pub profile_mode: Option<&'a str>,
    pub profile_max_attempts: Option<&'a str>,
}

/// A setting that cannot be used: where it came from and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadSetting {
    /// The provider argument to name, when the value came from one.
    pub attribute: Option<&'static str>,
    pub message: String,
}

pub const DEFAULT_MAX_ATTEMPTS: u32 = 26;

fn mode(value: &str, from: &str, attribute: Option<&'static str>) -> Result<RetryMode, BadSetting> {
    match value.trim().to_ascii_lowercase().as_str() {
        "standard" => Ok(RetryMode::Standard),
        "adaptive" => Ok(RetryMode::Adaptive),
        _ => Err(BadSetting {
            attribute,
            message: format!("{from} is {value:?}; it must be \"standard\" or \"adaptive\"."),
        }),
    }
}

fn attempts(value: &str, from: &str) -> Result<u32, BadSetting> {
    match value.trim().parse::<u32>() {
        Ok(n) if (1..=101).contains(&n) => Ok(n),
        _ => Err(BadSetting {
            attribute: None,
            message: format!(
                "{from} is {value:?}; it must be a whole number of attempts from 1 to 101."
            ),
        }),
    }
}

impl RetryPolicy {
    pub fn resolve(s: &RetrySources<'_>) -> Result<RetryPolicy, BadSetting> {
        let mode = if let Some(m) = s.retry_mode {
            mode(m, "retry_mode", Some("retry_mode"))?
        } else if let Some(m) = s.env_mode {
            mode(m, "AWS_RETRY_MODE", None)?
        } else if let Some(m) = s.profile_mode {
            mode(m, "the profile's retry_mode", None)?
        } else {
            RetryMode::Standard
        };
        let max_attempts = if let Some(n) = s.max_retries {
            u32::try_from(n + 1).unwrap_or(DEFAULT_MAX_ATTEMPTS)
        } else if let Some(n) = s.env_max_attempts {
            attempts(n, "AWS_MAX_ATTEMPTS")?
        } else if let Some(n) = s.profile_max_attempts {
            attempts(n, "the profile's max_attempts")?
        } else {
            DEFAULT_MAX_ATTEMPTS
        };
        let quota = match s.quota {
            None => None,
            Some(n) if n >= 0 => Some(n as usize),
            Some(n) => {
                return Err(BadSetting {
                    attribute: Some("token_bucket_rate_limiter_capacity"),
                    message: format!(
                        "{n} is negative: give the retry quota's capacity in tokens (5 per retry)."
                    ),
                });
            }
        };
        Ok(RetryPolicy {
            mode,
            max_attempts,
            quota,
        })
    }

    pub fn retry_config(&self) -> RetryConfig {
        let config = match self.mode {
            RetryMode::Adaptive => RetryConfig::adaptive(),
            _ => RetryConfig::standard(),
        };
        config
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(Duration::from_millis(50))
            .with_max_backoff(Duration::from_secs(20))
    }

    /// The retry partition every client of one provider process shares,
    /// with this policy's quota.
    pub fn partition(&self) -> RetryPartition {
        let bucket = match self.quota {
            Some(capacity) => TokenBucket::new(capacity),
            None => TokenBucket::unlimited(),
        };
        RetryPartition::custom("terraform-provider-planetscale")
            .token_bucket(bucket)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(s: RetrySources<'_>) -> Result<RetryPolicy, BadSetting> {
        RetryPolicy::resolve(&s)
    }

    #[test]
    fn standard_with_25_retries_and_no_quota_by_default() {
        assert_eq!(
            resolve(RetrySources::default()),
            Ok(RetryPolicy {
                mode: RetryMode::Standard,
                max_attempts: 26,
                quota: None
            })
        );
    }

    #[test]
    fn the_provider_block_wins_then_the_environment_then_the_profile() {
        let all = RetrySources {
            retry_mode: Some("adaptive"),
            max_retries: Some(4),
            env_mode: Some("standard"),
            env_max_attempts: Some("7"),
            profile_mode: Some("standard"),
            profile_max_attempts: Some("9"),
            quota: Some(1000),
        };
        let p = resolve(all.clone()).unwrap();
        assert_eq!(
            (p.mode, p.max_attempts, p.quota),
            (RetryMode::Adaptive, 5, Some(1000))
        );
        let p = resolve(RetrySources {
            retry_mode: None,
            max_retries: None,
            ..all.clone()
        })
        .unwrap();
        assert_eq!((p.mode, p.max_attempts), (RetryMode::Standard, 7));
        let p = resolve(RetrySources {
            profile_mode: Some("adaptive"),
            profile_max_attempts: Some("9"),
            ..RetrySources::default()
        })
        .unwrap();
        assert_eq!((p.mode, p.max_attempts), (RetryMode::Adaptive, 9));
    }

    #[test]
    fn bad_values_say_where_they_came_from() {
        let e = resolve(RetrySources {
            retry_mode: Some("legacy"),
            ..RetrySources::default()
        })
        .unwrap_err();
        assert_eq!(e.attribute, Some("retry_mode"));
        let e = resolve(RetrySources {
            env_max_attempts: Some("0"),
            ..RetrySources::default()
        })
        .unwrap_err();
        assert!(e.message.contains("AWS_MAX_ATTEMPTS"), "{e:?}");
        let e = resolve(RetrySources {
            env_mode: Some("fast"),
            ..RetrySources::default()
        })
        .unwrap_err();
        assert!(e.message.contains("AWS_RETRY_MODE"), "{e:?}");
    }
}
