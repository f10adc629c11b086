//! Logs at TF_LOG=trace: the provider's lines reach Terraform's log as
//! structured entries, and no credential or token appears anywhere in it.

use crate::support;

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
}

/// Third-party crates are capped at DEBUG even at TF_LOG=trace: at TRACE
/// the AWS SDK prints whole requests, bearer tokens among the headers. The
/// cap is a cap, not a mute: their DEBUG lines are there. And the check of
/// the test above can fail: without redaction (a switch of debug builds
/// only) the same log shows the access key id, in the SDK's DEBUG lines
/// that resolve each call's endpoint with the identity it is signed with.
#[test]
fn third_party_lines_stop_at_debug_and_redaction_is_what_keeps_keys_out() {
    let text = trace_log(true);
    let third_party =
        |l: &&str| l.contains("@module=planetscale.") && !l.contains("@module=planetscale ");
    let sdk_trace: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("[TRACE]"))
        .filter(third_party)
        .take(3)
        .collect();
    assert!(
        sdk_trace.is_empty(),
        "third-party TRACE lines:\n{}",
        sdk_trace.join("\n")
    );
    assert!(
        text.lines()
            .filter(|l| l.contains("[DEBUG]"))
            .any(|l| third_party(&l)),
        "the SDK's DEBUG lines are in the log"
    );
    assert!(
        text.lines().any(|l| l.contains("@module=planetscale ")),
        "the provider's own lines are in the log"
    );
    assert!(
        text.lines().any(|l| l.contains(ACCESS_KEY)),
        "the access key id is in the unredacted log"
    );
    assert!(!text.contains("[REDACTED]"));
}

/// A configuration with one security group, so that Terraform configures
/// the provider (it prunes a provider nothing uses); `provider` is the
/// provider block's body.
fn workspace_with_provider(provider: &str) -> Workspace {
    let ws = Workspace::new(Some(&Emulator::shared().url));
    ws.write(
        "main.tf",
        &format!(
            "{}provider \"planetscale\" {{\n{provider}}}\n\nresource \"planetscale_privatelink_security_group\" \"db\" {{\n  vpc_id         = \"vpc-0123456789abcdef0\"\n  allow_vpc_cidr = true\n}}\n",
            Workspace::required_providers(false),
        ),
    );
    ws.init();
    ws
}

/// A proxy URL without a scheme, or with an unencoded `/` or `#` in its
/// password, is refused at validate naming `http_proxy`, and neither the
/// message nor the provider's log shows the password.
#[test]
fn a_malformed_http_proxy_is_refused_without_showing_its_password() {
    for proxy in [
        "svc:hunter-no-scheme@proxy.example.com:3128",
        "http://svc:hunter/slash@proxy.example.com:3128",
        "http://svc:hunter#hash@proxy.example.com:3128",
    ] {
        let ws = workspace_with_provider(&format!(
            "  region     = \"us-east-1\"\n  http_proxy = \"{proxy}\"\n"
        ));
        let run = ws.run(&["validate", "-no-color"]);
        let text = run.flat();
        assert!(!run.success(), "{proxy}: {text}");
        assert!(text.contains("Invalid http_proxy"), "{proxy}: {text}");
        assert!(text.contains("http_proxy"), "{proxy}: {text}");
        assert!(
            !text.contains("hunter"),
            "{proxy}: the password shown: {text}"
        );
        let log = std::fs::read_to_string(ws.path().join("provider.log")).unwrap_or_default();
        assert!(!log.contains("hunter"), "{proxy}: the password in the log");
    }
}

/// AWS_ENDPOINT_URL_<SERVICE> and a profile's endpoint_url follow the rule
/// of the endpoints block: plain http only to loopback, no credentials in
/// the URL. Refused at configure, before any request is signed.
#[test]
fn endpoints_from_the_environment_or_a_profile_follow_the_endpoints_rule() {
    let mut env_ws = workspace_with_provider("  region = \"us-east-1\"\n");
    env_ws.set_env("AWS_ENDPOINT_URL_EC2", "http://ec2.example.invalid");
    let run = env_ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert!(!run.success(), "{text}");
    assert!(
        text.contains("Unsafe EC2 endpoint") && text.contains("AWS_ENDPOINT_URL_EC2"),
        "{text}"
    );
    assert!(text.contains("plain http"), "{text}");

    let mut profile_ws = workspace_with_provider("  region = \"us-east-1\"\n");
    let config = profile_ws.path().join("aws-config");
    std::fs::write(
        &config,
        "[profile remote]\nendpoint_url = https://me:hunter22x@sts.example.invalid\n",
    )
    .unwrap();
    profile_ws.set_env("AWS_CONFIG_FILE", config.to_str().unwrap());
    profile_ws.set_env("AWS_PROFILE", "remote");
    // The profile's endpoint is the one every service takes when no other
    // is set: AWS_ENDPOINT_URL (the emulator) is removed.
    profile_ws.env.retain(|(k, _)| k != "AWS_ENDPOINT_URL");
    let run = profile_ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert!(!run.success(), "{text}");
    assert!(
        text.contains("endpoint from the environment or AWS profile"),
        "{text}"
    );
    assert!(text.contains("user name or password"), "{text}");
    assert!(!text.contains("hunter22x"), "{text}");
}

// ------------------------------------------------ each credential source --
//
// At TF_LOG=trace, with credentials from each source the provider supports,
// neither the credentials nor the tokens that fetched them appear in the
// log in any encoding (raw, JSON-escaped, percent-encoded, base64).

use support::credentials::{self as stand_in, Issued, encodings};

/// Where a run's credentials come from.
enum Source<'a> {
    /// The provider block's access_key, secret_key and token.
    Static(&'a Issued),
    /// A shared credentials file's profile.
    Profile(&'a Issued),
    /// An SSO profile, its cached access token, and the portal stand-in.
    Sso(&'a stand_in::StandIn),
    /// A web identity token file and a role, through STS (the emulator).
    WebIdentity(&'a str),
    /// The instance metadata stand-in.
    Imds(&'a stand_in::StandIn),
}

/// Applies and destroys a security group at TF_LOG=trace with credentials
/// from `source` only; returns the whole log.
fn trace_log_with(source: Source<'_>) -> String {
    let emulator = Emulator::shared();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(&emulator.ec2(), 42, &["us-east-1a"]));
    let mut ws = Workspace::new(Some(&emulator.url));
    // No credentials but the source's.
    ws.env.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN"
        )
    });
    ws.set_env("TF_LOG", "trace");
    let home = ws.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    ws.set_env("HOME", home.to_str().unwrap());
    let mut provider = "  region = \"us-east-1\"\n".to_owned();
    match source {
        Source::Static(issued) => {
            provider += &format!(
                "  access_key = \"{}\"\n  secret_key = \"{}\"\n  token      = \"{}\"\n",
                issued.access_key_id, issued.secret_access_key, issued.session_token
            );
        }
        Source::Profile(issued) => {
            let file = ws.path().join("aws-credentials");
            std::fs::write(
                &file,
                format!(
                    "[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
                    issued.access_key_id, issued.secret_access_key, issued.session_token
                ),
            )
            .unwrap();
            ws.set_env("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap());
            ws.set_env("AWS_PROFILE", "ci");
        }
        Source::Sso(portal) => {
            let start_url = "https://acme.awsapps.com/start";
            let cache = home.join(".aws/sso/cache");
            std::fs::create_dir_all(&cache).unwrap();
            std::fs::write(
                cache.join(format!("{}.json", sha1_hex(start_url))),
                serde_json::json!({
                    "accessToken": portal.token,
                    "expiresAt": "2099-01-01T00:00:00Z",
                    "region": "us-east-1",
                    "startUrl": start_url,
                })
                .to_string(),
            )
            .unwrap();
            let config = ws.path().join("aws-config");
            std::fs::write(
                &config,
                format!(
                    "[profile sso]\nsso_start_url = {start_url}\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = PlanetScaleProvider\nregion = us-east-1\n"
                ),
            )
            .unwrap();
            ws.set_env("AWS_CONFIG_FILE", config.to_str().unwrap());
            ws.set_env("AWS_PROFILE", "sso");
            ws.set_env("AWS_ENDPOINT_URL_SSO", &portal.url);
        }
        Source::WebIdentity(jwt) => {
            let file = ws.path().join("web-identity-token");
            std::fs::write(&file, jwt).unwrap();
            ws.set_env("AWS_WEB_IDENTITY_TOKEN_FILE", file.to_str().unwrap());
            ws.set_env(
                "AWS_ROLE_ARN",
                "arn:aws:iam::123456789012:role/planetscale-provider",
            );
            ws.set_env("AWS_ROLE_SESSION_NAME", "ci");
        }
        Source::Imds(imds) => {
            ws.set_env("AWS_EC2_METADATA_DISABLED", "false");
            ws.set_env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url);
        }
    }
    ws.secrets.clear();
    ws.write(
        "main.tf",
        &format!(
            "{}provider \"planetscale\" {{\n{provider}}}\n\nresource \"planetscale_privatelink_security_group\" \"db\" {{\n  vpc_id         = \"{}\"\n  allow_vpc_cidr = true\n}}\n",
            Workspace::required_providers(false),
            network.vpc_id
        ),
    );
    ws.init();
    ws.apply();
    ws.destroy();
    let log = std::fs::read_to_string(ws.path().join("provider.log")).unwrap();
    assert!(
        log.contains("provider.terraform-provider-planetscale") && log.contains("[TRACE]"),
        "a trace log of the provider"
    );
    log
}

/// SHA-1 of `text` in lower-case hex, as aws-config names an SSO cache file
/// (Python's hashlib: the crate has no SHA-1).
fn sha1_hex(text: &str) -> String {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hashlib, sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())",
        ])
        .arg(text)
        .output()
        .expect("run python3");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Fails unless the SDK's credential chain says `provider` gave the
/// credentials.
fn assert_loaded_by(log: &str, provider: &str) {
    assert!(
        log.lines()
            .any(|l| l.contains("loaded credentials")
                && l.contains(&format!("provider={provider} "))),
        "no credentials loaded by {provider}"
    );
}

/// Fails when any of `tokens` is in `log` in any encoding.
fn assert_no_token(log: &str, tokens: &[String]) {
    for token in tokens {
        for form in encodings(token) {
            support::assert_no_secret_in_log(log, &[form.as_str()]);
        }
    }
}

#[test]
fn static_credentials_stay_out_of_a_trace_log() {
    let issued = Issued::new("static");
    let log = trace_log_with(Source::Static(&issued));
    assert_no_token(&log, &issued.all());
}

#[test]
fn profile_credentials_stay_out_of_a_trace_log() {
    let issued = Issued::new("profile");
    let log = trace_log_with(Source::Profile(&issued));
    assert_loaded_by(&log, "Profile");
    assert_no_token(&log, &issued.all());
}

#[test]
fn sso_tokens_and_credentials_stay_out_of_a_trace_log() {
    let portal = stand_in::sso_portal();
    let log = trace_log_with(Source::Sso(&portal));
    assert!(
        portal.answered() > 0,
        "the credentials came from the portal"
    );
    let mut tokens = portal.issued.all();
    tokens.push(portal.token.clone());
    assert_no_token(&log, &tokens);
}

#[test]
fn a_web_identity_token_stays_out_of_a_trace_log() {
    let jwt = format!(
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaS0{}In0.c2lnbmF0dXJlLW5ldmVyLWxvZ2dlZA",
        std::process::id()
    );
    let log = trace_log_with(Source::WebIdentity(&jwt));
    assert_loaded_by(&log, "WebIdentityToken");
    assert_no_token(&log, &[jwt]);
}

#[test]
fn imds_tokens_and_credentials_stay_out_of_a_trace_log() {
    let imds = stand_in::imds();
    let log = trace_log_with(Source::Imds(&imds));
    assert!(
        imds.answered() > 0,
        "the credentials came from the metadata stand-in"
    );
    let mut tokens = imds.issued.all();
    tokens.push(imds.token.clone());
    assert_no_token(&log, &tokens);
}
