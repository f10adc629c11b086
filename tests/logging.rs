//! Logs at TF_LOG=trace: the provider's lines reach Terraform's log as
//! structured entries, and no credential or token appears anywhere in it.

mod support;

use support::emulator::create_network;
use support::{Emulator, Workspace};

const ACCESS_KEY: &str = "AKIALOGTESTACCESSKEY1";
const SECRET_KEY: &str = "log-test-secret-key-value-never-logged";
const TOKEN: &str = "log-test-session-token-value-never-logged";
const ENV_SECRET: &str = "log-test-secret-from-the-environment";

/// Applies and destroys a security group at TF_LOG=trace with credentials
/// set in HCL and in the environment; returns the provider's log.
fn trace_log(unredacted: bool) -> String {
    let emulator = Emulator::shared();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(&emulator.ec2(), 41, &["us-east-1a"]));
    // Every workspace logs the provider at TRACE and checks each run's
    // lines for its secrets; this one adds credentials set in HCL and in
    // the environment.
    let mut ws = Workspace::new(Some(&emulator.url));
    ws.set_env("AWS_SECRET_ACCESS_KEY", ENV_SECRET);
    if unredacted {
        // A debug build's switch: the log as it would be without redaction.
        ws.set_env("PLANETSCALE_TEST_UNREDACTED", "1");
        ws.secrets.clear();
    } else {
        ws.secrets
            .extend([ACCESS_KEY, SECRET_KEY, TOKEN, ENV_SECRET].map(String::from));
    }
    let log = ws.path().join("provider.log");
    ws.write(
        "main.tf",
        &format!(
            "{}provider \"planetscale\" {{\n  region     = \"us-east-1\"\n  access_key = \"{ACCESS_KEY}\"\n  secret_key = \"{SECRET_KEY}\"\n  token      = \"{TOKEN}\"\n}}\n\nresource \"planetscale_privatelink_security_group\" \"db\" {{\n  vpc_id         = \"{}\"\n  allow_vpc_cidr = true\n}}\n",
            Workspace::required_providers(false),
            network.vpc_id
        ),
    );
    ws.init();
    ws.apply();
    ws.destroy();
    std::fs::read_to_string(&log).unwrap()
}

#[test]
fn trace_logs_carry_the_provider_and_no_secret() {
    let text = trace_log(false);
    assert!(
        text.contains("provider.terraform-provider-planetscale"),
        "the provider's lines are in the log"
    );
    assert!(
        text.contains("security group created"),
        "the provider's own events are in the log"
    );
    support::assert_no_secret_in_log(&text, &[ACCESS_KEY, SECRET_KEY, TOKEN, ENV_SECRET]);
    assert!(
        text.contains("[REDACTED]"),
        "the trace log has lines where a credential was (the identity each request is signed with), redacted"
    );
}

/// The check above can fail: the same run without redaction (a switch of
/// debug builds only) puts the access key id into the log, where the AWS
/// SDK traces the identity each request is signed with.
#[test]
fn without_redaction_the_same_log_would_show_the_credentials() {
    let text = trace_log(true);
    assert!(
        text.lines().any(|l| l.contains(ACCESS_KEY)),
        "the access key id is in the unredacted trace log"
    );
    assert!(!text.contains("[REDACTED]"));
}
