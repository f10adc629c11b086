//! The test bench: a moto EC2 emulator on a free loopback port, the freshly
//! built provider in a temporary filesystem mirror, the real `terraform`
//! binary run in temporary working directories, and loopback stand-ins for
//! what the machine cannot reach (a DNS server, the PlanetScale API).
//!
//! Missing prerequisites fail loudly with the command that fixes them.

#![allow(dead_code)]

pub mod connect_proxy;
pub mod credentials;
pub mod dns;
pub mod emulator;
pub mod inprocess;
pub mod insights;
pub mod pairs;
pub mod planetscale_api;
pub mod plugin;
pub mod postgres;
pub mod processes;
pub mod proxy;
pub mod strict;
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

/// Fails the test when any secret appears in `log`, quoting the first lines
/// that hold it.
pub fn assert_no_secret_in_log(log: &str, secrets: &[&str]) {
    for secret in secrets {
        let hits: Vec<&str> = log.lines().filter(|l| l.contains(secret)).take(3).collect();
        assert!(
            hits.is_empty(),
            "{secret} leaked into the log:\n{}",
            hits.join("\n")
        );
    }
}

/// Serves HTTP/1 with `handler` on a free loopback port, on a thread of its
/// own until the test process ends; returns the address.
pub fn serve_http<H, Fut, E>(handler: H) -> std::net::SocketAddr
where
    H: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, E>>
        + Send
        + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    serve(handler, None)
}

/// [`serve_http`] over TLS with `tls`'s certificate.
pub fn serve_https<H, Fut, E>(
    handler: H,
    tls: std::sync::Arc<rustls::ServerConfig>,
) -> std::net::SocketAddr
where
    H: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, E>>
        + Send
        + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    serve(handler, Some(tokio_rustls::TlsAcceptor::from(tls)))
}

fn serve<H, Fut, E>(handler: H, tls: Option<tokio_rustls::TlsAcceptor>) -> std::net::SocketAddr
where
    H: Fn(hyper::Request<hyper::body::Incoming>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, E>>
        + Send
        + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let handler = handler.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(handler);
                    let http = hyper::server::conn::http1::Builder::new();
                    let _ = match tls {
                        None => {
                            http.serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                                .await
                        }
                        Some(tls) => {
                            let Ok(stream) = tls.accept(tcp).await else {
                                return;
                            };
                            http.serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                .await
                        }
                    };
                });
            }
        });
    });
    address
}
