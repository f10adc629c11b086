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
