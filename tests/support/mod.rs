//! The test bench: a moto EC2 emulator on a free loopback port, the freshly
//! built provider in a temporary filesystem mirror, the real `terraform`
//! binary run in temporary working directories, and loopback stand-ins for
//! what the machine cannot reach (a DNS server, the PlanetScale API).
//!
//! Missing prerequisites fail loudly with the command that fixes them.

#![allow(dead_code)]

pub mod dns;
pub mod emulator;
pub mod inprocess;
pub mod planetscale_api;
pub mod proxy;
pub mod terraform;

#[allow(unused_imports)]
pub use emulator::Emulator;
#[allow(unused_imports)]
pub use terraform::Workspace;

/// The environment every process a test starts gets, so nothing reaches
/// for the instance metadata service or a developer's AWS configuration.
pub fn isolated_aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ACCESS_KEY_ID", "AKIATESTINGACCESSKEY".into()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "testing-secret-access-key-value".into(),
        ),
        ("AWS_SESSION_TOKEN", "testing-session-token-value".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_CONFIG_FILE", "/nonexistent/aws-config".into()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials".into(),
        ),
    ]
}

/// A name unique within this test run, for tags and group names.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
