//! The provider's gRPC services over an in-memory duplex: protocol tests
//! with no port, no process and no terraform.

use hyper_util::rt::TokioIo;
use terraform_provider_planetscale::plugin::Conn;
use terraform_provider_planetscale::protocol::tfplugin6 as pb;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};

pub type Client = pb::provider_client::ProviderClient<Channel>;

/// Serves a fresh provider in this process and returns a client for it.
pub async fn connect() -> Client {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let router = terraform_provider_planetscale::protocol::router(
        terraform_provider_planetscale::server(),
        CancellationToken::new(),
    );
    tokio::spawn(async move {
        let incoming = tokio_stream::once(Ok::<_, std::io::Error>(Conn(server_io)));
        let _ = router.serve_with_incoming(incoming).await;
    });
    let mut client_io = Some(client_io);
    let channel = Endpoint::try_from("http://in-process")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_| {
            let io = client_io.take();
            async move {
                io.map(TokioIo::new)
                    .ok_or_else(|| std::io::Error::other("already connected"))
            }
        }))
        .await
        .expect("in-process channel");
    pb::provider_client::ProviderClient::new(channel)
}

/// A DynamicValue holding the msgpack encoding of `value` against `ty`.
pub fn dynamic(
    value: &terraform_provider_planetscale::framework::value::Value,
    ty: &terraform_provider_planetscale::framework::types::Type,
) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: terraform_provider_planetscale::framework::codec::encode_msgpack(value, ty)
            .expect("encode"),
        json: Vec::new(),
    }
}

/// The attribute path of a diagnostic as `a.b` text.
pub fn path_of(d: &pb::Diagnostic) -> String {
    use pb::attribute_path::step::Selector;
    d.attribute
        .as_ref()
        .map(|p| {
            p.steps
                .iter()
                .filter_map(|s| match &s.selector {
                    Some(Selector::AttributeName(n)) => Some(n.clone()),
                    Some(Selector::ElementKeyString(k)) => Some(format!("[{k:?}]")),
                    Some(Selector::ElementKeyInt(i)) => Some(format!("[{i}]")),
                    None => None,
                })
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default()
}

/// An object of `ty` with every attribute null but the given ones.
pub fn object(
    ty: &terraform_provider_planetscale::framework::types::Type,
    set: &[(
        &str,
        terraform_provider_planetscale::framework::value::Value,
    )],
) -> terraform_provider_planetscale::framework::value::Value {
    use terraform_provider_planetscale::framework::types::Type;
    use terraform_provider_planetscale::framework::value::Value;
    let Type::Object(attrs, _) = ty else {
        panic!("not an object type")
    };
    let mut map: std::collections::BTreeMap<String, Value> =
        attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
    for (k, v) in set {
        assert!(map.contains_key(*k), "no attribute {k}");
        map.insert((*k).to_owned(), v.clone());
    }
    Value::Object(map)
}

/// A fresh in-process provider configured for us-east-1 with static keys
/// and every AWS endpoint at `url` (the emulator, or a proxy in front of
/// it), as ConfigureProvider does; fails the test on an error.
pub async fn configured(url: &str) -> Client {
    use terraform_provider_planetscale::framework::types::Type;
    use terraform_provider_planetscale::framework::value::Value;
    let mut client = connect().await;
    let t = terraform_provider_planetscale::server().provider_ty.clone();
    let Type::Object(attrs, _) = &t else {
        unreachable!()
    };
    let Type::Object(endpoint_attrs, _) = &attrs["endpoints"] else {
        unreachable!()
    };
    let s = |v: &str| Value::String(v.to_owned());
    let endpoints = Value::Object(endpoint_attrs.keys().map(|k| (k.clone(), s(url))).collect());
    let config = object(
        &t,
        &[
            ("region", s("us-east-1")),
            ("access_key", s("AKIAINPROCESSTESTING")),
            ("secret_key", s("in-process-secret")),
            ("endpoints", endpoints),
        ],
    );
    let errors = configure(&mut client, &config).await;
    assert!(errors.is_empty(), "{errors:?}");
    client
}

/// ConfigureProvider with `config` (of the provider's type), as Terraform
/// 1.11.4 sends it; the error diagnostics of the answer.
pub async fn configure(
    client: &mut Client,
    config: &terraform_provider_planetscale::framework::value::Value,
) -> Vec<pb::Diagnostic> {
    let t = terraform_provider_planetscale::server().provider_ty.clone();
    let response = client
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".into(),
            config: Some(dynamic(config, &t)),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    response
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}
