//! ConfigureProvider with no region anywhere answers an error naming
//! `region`. The test runs in a process of its own (this test binary run
//! again for this one test), whose environment is free of any AWS
//! configuration from its start.

use crate::support;

use std::collections::BTreeMap;

use support::inprocess::{configure, connect, path_of};
use terraform_provider_planetscale::framework::types::Type;
use terraform_provider_planetscale::framework::value::Value;

/// Set in the process this test starts to run itself in.
const ALONE: &str = "CONFIGURE_NO_REGION_ALONE";

#[test]
fn configure_without_a_region_names_region() {
    if std::env::var_os(ALONE).is_none() {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "configure_no_region::configure_without_a_region_names_region",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(ALONE, "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/aws-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws-credentials",
            );
        for var in [
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_EC2",
        ] {
            command.env_remove(var);
        }
        let out = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut client = connect().await;
        let ty = terraform_provider_planetscale::server().provider_ty.clone();
        let Type::Object(attrs, _) = &ty else {
            unreachable!()
        };
        let config = Value::Object(
            attrs
                .keys()
                .map(|k| (k.clone(), Value::Null))
                .collect::<BTreeMap<_, _>>(),
        );
        let started = std::time::Instant::now();
        let errors = configure(&mut client, &config).await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(path_of(&errors[0]), "region");
        assert!(
            errors[0].detail.contains("AWS_REGION"),
            "{}",
            errors[0].detail
        );
        // No reach for the metadata service (which would take seconds to time out).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    });
}
