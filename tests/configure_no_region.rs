//! ConfigureProvider with no region anywhere answers an error naming
//! `region`. Its own test binary, so the process environment can be made
//! free of any AWS configuration before anything runs.

mod support;

use std::collections::BTreeMap;

use support::inprocess::{connect, dynamic, path_of};
use terraform_provider_planetscale::framework::types::Type;
use terraform_provider_planetscale::framework::value::Value;
use terraform_provider_planetscale::protocol::tfplugin6 as pb;

#[test]
fn configure_without_a_region_names_region() {
    // SAFETY: the only test of this binary, run before any other thread.
    unsafe {
        for var in [
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_EC2",
        ] {
            std::env::remove_var(var);
        }
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/aws-config");
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials",
        );
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
        let response = client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.11.4".into(),
                config: Some(dynamic(&config, &ty)),
                client_capabilities: None,
            })
            .await
            .unwrap()
            .into_inner();
        let errors: Vec<_> = response
            .diagnostics
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
            .collect();
        assert_eq!(errors.len(), 1, "{:?}", response.diagnostics);
        assert_eq!(path_of(errors[0]), "region");
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
