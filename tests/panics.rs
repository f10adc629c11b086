//! A panic never loses state or kills the plugin silently: a handler's
//! panic, injected by a switch only debug builds carry
//! (`PLANETSCALE_TEST_PANIC`), comes back as an error diagnostic that names
//! the resource, the state Terraform sent comes back unchanged, and the
//! next call is served by the same process.

use crate::support;

use std::collections::BTreeMap;

use support::Workspace;
use support::inprocess::{connect, dynamic};
use support::pairs::{Pairs, assert_unique};
use support::proxy::Proxy;
use terraform_provider_planetscale::framework::types::Type;
use terraform_provider_planetscale::framework::value::Value;
use terraform_provider_planetscale::protocol::injected;
use terraform_provider_planetscale::protocol::tfplugin6 as pb;

const ENDPOINT: &str = "planetscale_privatelink_endpoint";
const SG: &str = "planetscale_privatelink_security_group";

fn resource_type(name: &str) -> Type {
    terraform_provider_planetscale::server().resources[name]
        .ty
        .clone()
}

/// An object of `ty` with every attribute null but the given strings.
fn object(ty: &Type, set: &[(&str, &str)]) -> Value {
    let Type::Object(attrs, _) = ty else {
        panic!("not an object type")
    };
    let mut map: BTreeMap<String, Value> = attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
    for (k, v) in set {
        map.insert((*k).to_owned(), Value::String((*v).to_owned()));
    }
    Value::Object(map)
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<(String, String)> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .map(|d| (d.summary.clone(), d.detail.clone()))
        .collect()
}

/// One test, since the in-process switch is the process's: the calls it
/// names run one after another.
#[tokio::test]
async fn a_panic_in_a_handler_is_an_error_diagnostic_and_the_next_call_is_served() {
    let mut client = connect().await;

    // A refresh: the state comes back as it was sent, private data too.
    let ty = resource_type(ENDPOINT);
    let state = dynamic(
        &object(
            &ty,
            &[("id", "vpce-0123456789abcdef0"), ("vpc_id", "vpc-0123")],
        ),
        &ty,
    );
    let read = pb::read_resource::Request {
        type_name: ENDPOINT.into(),
        current_state: Some(state.clone()),
        private: b"kept".to_vec(),
        ..Default::default()
    };
    injected::set(&format!("ReadResource:{ENDPOINT}"));
    let answer = client
        .read_resource(read.clone())
        .await
        .expect("an answer, not a broken call")
        .into_inner();
    let errors_seen = errors(&answer.diagnostics);
    assert_eq!(errors_seen.len(), 1, "{errors_seen:?}");
    let (summary, detail) = &errors_seen[0];
    assert_eq!(summary, "The provider panicked");
    assert!(
        detail.starts_with(
            "The provider panicked while reading planetscale_privatelink_endpoint \
             vpce-0123456789abcdef0 (ReadResource): injected panic in ReadResource"
        ),
        "{detail}"
    );
    assert!(
        detail.contains("vpce-0123456789abcdef0 stays in state as it was."),
        "{detail}"
    );
    assert!(detail.contains("This is a bug in the provider"), "{detail}");
    assert_eq!(
        answer.new_state,
        Some(state),
        "the state comes back unchanged"
    );
    assert_eq!(answer.private, b"kept");

    // The next call on the same connection is served by the handler
    // itself (which, unconfigured, says so).
    let again = client.read_resource(read).await.unwrap().into_inner();
    let errors_again = errors(&again.diagnostics);
    assert!(
        errors_again[0].0.contains("not configured"),
        "{errors_again:?}"
    );

    // An update: the prior state goes back, so the resource stays as it was.
    let ty = resource_type(SG);
    let prior = dynamic(
        &object(
            &ty,
            &[("id", "sg-0123456789abcdef0"), ("vpc_id", "vpc-0123")],
        ),
        &ty,
    );
    let planned = dynamic(
        &object(
            &ty,
            &[("id", "sg-0123456789abcdef0"), ("vpc_id", "vpc-0456")],
        ),
        &ty,
    );
    injected::set(&format!("ApplyResourceChange:{SG}"));
    let answer = client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: SG.into(),
            prior_state: Some(prior.clone()),
            planned_state: Some(planned),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (_, detail) = &errors(&answer.diagnostics)[0];
    assert!(
        detail.starts_with(
            "The provider panicked while updating planetscale_privatelink_security_group \
             sg-0123456789abcdef0 (ApplyResourceChange)"
        ),
        "{detail}"
    );
    assert!(detail.contains("stays in state as it was before this change"));
    assert_eq!(answer.new_state, Some(prior));

    // A create: no id yet, and the user is told what that means.
    injected::set(&format!("ApplyResourceChange:{SG}"));
    let answer = client
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: SG.into(),
            prior_state: None,
            planned_state: Some(dynamic(&object(&ty, &[("vpc_id", "vpc-0123")]), &ty)),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (_, detail) = &errors(&answer.diagnostics)[0];
    assert!(
        detail.starts_with(
            "The provider panicked while creating planetscale_privatelink_security_group \
             (ApplyResourceChange)"
        ),
        "{detail}"
    );
    assert!(detail.contains("look for it in AWS before applying again"));
    assert_eq!(answer.new_state, None);

    // A list (`terraform query`): the stream answers one event carrying
    // the error, and ends.
    injected::set(&format!("ListResource:{ENDPOINT}"));
    let list_ty = terraform_provider_planetscale::server().resources[ENDPOINT]
        .list
        .as_ref()
        .unwrap()
        .1
        .clone();
    let mut events = client
        .list_resource(pb::list_resource::Request {
            type_name: ENDPOINT.into(),
            config: Some(dynamic(&object(&list_ty, &[]), &list_ty)),
            include_resource_object: false,
            limit: 10,
        })
        .await
        .expect("an answer, not a broken call")
        .into_inner();
    let event = events.message().await.unwrap().expect("one event");
    assert!(event.identity.is_none());
    let (summary, detail) = &errors(&event.diagnostic)[0];
    assert_eq!(summary, "The provider panicked");
    assert!(
        detail.starts_with(
            "The provider panicked while listing planetscale_privatelink_endpoint (ListResource)"
        ),
        "{detail}"
    );
    assert!(events.message().await.unwrap().is_none(), "the stream ends");

    // And the schema is still there for whoever asks next.
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.resource_schemas.contains_key(ENDPOINT));
}

/// With real terraform: two endpoints' tags change in one apply, one call
/// at a time; the first update panics, the second is served by the same
/// provider process. The panicked endpoint stays in state as it was (not
/// tainted, not forgotten), the message is redacted, and the next apply
/// converges.
#[test]
fn with_terraform_a_panicked_update_keeps_the_state_and_the_next_update_is_served() {
    let pairs = Pairs::new(95);
    let proxy = Proxy::start(&pairs.emulator.url);
    let mut ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &pairs.config(2, "10m", "one"));
    ws.init();
    ws.apply();

    ws.write("main.tf", &pairs.config(2, "10m", "two"));
    let secret = ws
        .env
        .iter()
        .find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY")
        .map(|(_, v)| v.clone())
        .unwrap();
    ws.set_env(injected::ENV, &format!("ApplyResourceChange:{ENDPOINT}"));
    ws.set_env(
        injected::MESSAGE_ENV,
        &format!(" while signing with {secret}"),
    );
    let run = ws.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-parallelism=1",
    ]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{}", run.text());
    assert_eq!(
        text.matches("The provider panicked while updating").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("injected panic in ApplyResourceChange planetscale_privatelink_endpoint while signing with [REDACTED]"),
        "{text}"
    );
    assert!(!text.contains(&secret), "the secret reached the output");
    assert!(
        text.contains("stays in state as it was before this change"),
        "{text}"
    );
    for broken in ["plugin crashed", "did not respond", "connection refused"] {
        assert!(!text.contains(broken), "{broken}: {text}");
    }
    let log = std::fs::read_to_string(ws.path().join("provider.log")).unwrap();
    assert!(
        log.lines().any(|l| l.contains("[ERROR]")
            && l.contains("panic: injected panic in ApplyResourceChange")
            && l.contains("[REDACTED]")),
        "the panic is in the provider's log, redacted"
    );

    // Both endpoints are in state, neither tainted: one updated after the
    // other's panic, the other as it was.
    let state = ws.state();
    let mut stages = Vec::new();
    for i in 0..2 {
        let entry = support::terraform::find_in_state(&state, &format!("{ENDPOINT}.db[{i}]"))
            .expect("the endpoint is in state");
        assert_ne!(entry["tainted"], true, "{state:#}");
        stages.push(
            entry["values"]["tags"]["stage"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    stages.sort();
    assert_eq!(stages, ["one", "two"], "{state:#}");

    ws.env
        .retain(|(k, _)| k != injected::ENV && k != injected::MESSAGE_ENV);
    ws.apply();
    ws.assert_no_changes();
    ws.destroy();
    pairs.assert_nothing_left();
    assert_unique(&proxy.created_endpoints());
    assert_eq!(proxy.created_endpoints().len(), 2);
}
