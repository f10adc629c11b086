//! The go-plugin host side: what turns this binary into a process Terraform
//! can launch, trust, talk to and stop.
//!
//! Start-up, in order: the magic cookie proves Terraform started us; protocol
//! 6 is picked from `PLUGIN_PROTOCOL_VERSIONS`; a loopback TCP listener is
//! opened (with TCP_NODELAY on every connection: without it each RPC waits
//! for delayed ACKs); AutoMTLS is set up from `PLUGIN_CLIENT_CERT`; the
//! handshake line goes to stdout; then gRPC is served until
//! `GRPCController.Shutdown`. SIGINT, SIGTERM and SIGHUP stop work in flight
//! as `StopProvider` does and end the process once the answers are out
//! ([`lifetime`]).
//!
//! The listener is bounded against clients that misbehave: a connection
//! that has not finished its TLS handshake within [`HANDSHAKE_TIMEOUT`] is
//! dropped (each handshake runs on its own task, so it holds up no other),
//! and when accepting fails for want of file descriptors the accept loop
//! waits [`ACCEPT_BACKOFF`] between tries, saying so once, instead of
//! spinning on an error that only time can clear.

pub mod lifetime;
pub mod parent;
mod tls;

use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub use tls::install_crypto_provider;

use std::sync::Arc;

use crate::framework::server::{Provider, Server};

/// The cookie Terraform sets so a provider knows it was launched as a plugin.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version, the first field of the handshake.
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this provider speaks.
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;
/// How long a client may take from connecting to the end of its TLS
/// handshake (Terraform takes milliseconds).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The wait between tries when accepting fails for want of descriptors.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "This binary is a plugin for Terraform and is not meant to be run directly.\n\
         Declare the provider in a Terraform configuration and run `terraform init`; \
         Terraform starts it when it needs it.\n\
         To attach a debugger, run it with --debug instead."
    )]
    NotLaunchedByTerraform,
    #[error(
        "Terraform asked for plugin protocol version(s) {offered:?}, but this provider speaks only \
         version 6. Use Terraform 1.0 or later."
    )]
    UnsupportedProtocol { offered: String },
    #[error(
        "PLUGIN_CLIENT_CERT is not set: this provider only serves Terraform over mutual TLS. \
         Run it through Terraform, or with --debug."
    )]
    NoClientCertificate,
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("could not listen on loopback: {0}")]
    Listen(std::io::Error),
    #[error("could not write the handshake to stdout: {0}")]
    Handshake(std::io::Error),
    #[error("serving gRPC failed: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// What the environment Terraform prepared says about this launch.
#[derive(Debug, PartialEq, Eq)]
pub struct Launch {
    pub client_cert_pem: String,
    pub min_port: u16,
    pub max_port: u16,
}

/// Reads and checks the launch environment through `var`, so the checks are
/// testable without touching the process environment.
pub fn read_launch(var: impl Fn(&str) -> Option<String>) -> Result<Launch, StartError> {
    if var(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(StartError::NotLaunchedByTerraform);
    }
    if let Some(offered) = var("PLUGIN_PROTOCOL_VERSIONS") {
        let wanted = PLUGIN_PROTOCOL_VERSION.to_string();
        if !offered.split(',').any(|v| v.trim() == wanted) {
            return Err(StartError::UnsupportedProtocol { offered });
        }
    }
    let client_cert_pem = var("PLUGIN_CLIENT_CERT")
        .filter(|v| !v.trim().is_empty())
        .ok_or(StartError::NoClientCertificate)?;
    let port = |name: &str| var(name).and_then(|v| v.parse::<u16>().ok());
    let min_port = port("PLUGIN_MIN_PORT").unwrap_or(0);
    let max_port = port("PLUGIN_MAX_PORT").unwrap_or(0);
    Ok(Launch {
        client_cert_pem,
        min_port,
        max_port,
    })
}

/// Serves the provider for Terraform: the managed mode every `terraform`
/// command uses.
pub async fn serve<P: Provider>(provider: Arc<Server<P>>) -> Result<(), StartError> {
    let launch = read_launch(|name| std::env::var(name).ok())?;
    let tls = tls::server_tls(&launch.client_cert_pem)?;
    let listener = listen(launch.min_port, launch.max_port).await?;
    let addr = listener.local_addr().map_err(StartError::Listen)?;
    let lifetime = lifetime::Lifetime::start();

    let line = format!(
        "{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|tcp|{addr}|grpc|{}\n",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(tls.certificate.as_ref())
    );
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(StartError::Handshake)?;
    drop(stdout);
    tracing::debug!(%addr, "plugin server listening");

    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    let shutdown = CancellationToken::new();
    let incoming = accept_tls(listener, acceptor, shutdown.clone());
    let serving = crate::protocol::router(provider.clone(), shutdown.clone())
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    tokio::select! {
        served = serving => served?,
        why = lifetime.watch(provider, shutdown) => {
            tracing::warn!(reason = why, "exiting before Terraform shut the provider down");
        }
    }
    tracing::debug!("plugin server stopped");
    Ok(())
}

/// Serves without TLS on loopback and prints the `TF_REATTACH_PROVIDERS`
/// value for running Terraform against this process (under a debugger, say).
pub async fn serve_debug<P: Provider>(
    provider: Arc<Server<P>>,
    address: &str,
) -> Result<(), StartError> {
    let listener = listen(0, 0).await?;
    let addr = listener.local_addr().map_err(StartError::Listen)?;
    let reattach = reattach_config(address, addr, std::process::id());
    println!(
        "Provider started. To attach Terraform, set TF_REATTACH_PROVIDERS in the shell that runs it:\n\n\
         \tTF_REATTACH_PROVIDERS='{reattach}'\n\n\
         Stop the provider with Ctrl-C."
    );
    let shutdown = CancellationToken::new();
    let on_interrupt = shutdown.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        on_interrupt.cancel();
    });
    let incoming = accept_plain(listener, shutdown.clone());
    crate::protocol::router(provider, shutdown.clone())
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// The JSON Terraform reads from `TF_REATTACH_PROVIDERS`.
pub fn reattach_config(provider_address: &str, addr: SocketAddr, pid: u32) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": PLUGIN_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "tcp", "String": addr.to_string() },
        }
    })
    .to_string()
}

async fn listen(min_port: u16, max_port: u16) -> Result<TcpListener, StartError> {
    if min_port == 0 || max_port < min_port {
        return TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(StartError::Listen);
    }
    let mut last = None;
    for port in min_port..=max_port {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(StartError::Listen(last.unwrap_or_else(|| {
        std::io::Error::other("no free port in PLUGIN_MIN_PORT..PLUGIN_MAX_PORT")
    })))
}

type Incoming<T> = tokio_stream::wrappers::ReceiverStream<Result<Conn<T>, std::io::Error>>;

/// Accepts connections and completes their TLS handshakes off the accept
/// loop, so a slow or hostile client holds up no one else; one that has not
/// finished within [`HANDSHAKE_TIMEOUT`] is dropped. Failed handshakes (no
/// or wrong client certificate) are logged and dropped.
fn accept_tls(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shutdown: CancellationToken,
) -> Incoming<tokio_rustls::server::TlsStream<TcpStream>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let mut accepting = Accepting::default();
        while let Some((tcp, peer)) = accepting.next(&listener, &shutdown).await {
            let acceptor = acceptor.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = tx.send(Ok(Conn(stream))).await;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(%peer, error = %e, "refused a connection that failed mutual TLS");
                    }
                    Err(_) => {
                        tracing::warn!(
                            %peer,
                            "dropped a connection that did not finish the TLS handshake within {HANDSHAKE_TIMEOUT:?}"
                        );
                    }
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn accept_plain(listener: TcpListener, shutdown: CancellationToken) -> Incoming<TcpStream> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        let mut accepting = Accepting::default();
        while let Some((tcp, _)) = accepting.next(&listener, &shutdown).await {
            if tx.send(Ok(Conn(tcp))).await.is_err() {
                break;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// The accept loop's memory: whether it is waiting out a shortage of
/// descriptors, so the shortage is logged once, not once per try.
#[derive(Default)]
struct Accepting {
    short_of_descriptors: bool,
}

impl Accepting {
    /// The next connection, with TCP_NODELAY on; `None` once `shutdown`
    /// is cancelled. Errors that concern one connection are logged and
    /// skipped; a shortage of descriptors is waited out.
    async fn next(
        &mut self,
        listener: &TcpListener,
        shutdown: &CancellationToken,
    ) -> Option<(TcpStream, SocketAddr)> {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => return None,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((tcp, peer)) => {
                    if std::mem::take(&mut self.short_of_descriptors) {
                        tracing::info!("accepting connections again");
                    }
                    let _ = tcp.set_nodelay(true);
                    return Some((tcp, peer));
                }
                Err(e) if crate::platform::out_of_descriptors(&e) => {
                    if !std::mem::replace(&mut self.short_of_descriptors, true) {
                        tracing::warn!(
                            error = %e,
                            "cannot accept connections: out of file descriptors; trying again every {ACCEPT_BACKOFF:?}"
                        );
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => return None,
                        _ = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    }
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            }
        }
    }
}

/// A served connection; tonic needs [`Connected`](tonic::transport::server::Connected)
/// on whatever it serves, and asks nothing of it here.
pub struct Conn<T>(pub T);

impl<T> tonic::transport::server::Connected for Conn<T> {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl<T: AsyncRead + Unpin> AsyncRead for Conn<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Conn<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn launch_without_cookie_says_it_is_a_plugin() {
        let err = read_launch(env(&[])).unwrap_err();
        assert!(matches!(err, StartError::NotLaunchedByTerraform));
        assert!(err.to_string().contains("plugin for Terraform"));
        let wrong = read_launch(env(&[(MAGIC_COOKIE_KEY, "nope")])).unwrap_err();
        assert!(matches!(wrong, StartError::NotLaunchedByTerraform));
    }

    #[test]
    fn launch_negotiates_protocol_six() {
        let base = [
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_CLIENT_CERT", "pem"),
        ];
        let ok = [&base[..], &[("PLUGIN_PROTOCOL_VERSIONS", "5,6")]].concat();
        assert!(read_launch(env(&ok)).is_ok());
        let five = [&base[..], &[("PLUGIN_PROTOCOL_VERSIONS", "5")]].concat();
        assert!(matches!(
            read_launch(env(&five)),
            Err(StartError::UnsupportedProtocol { .. })
        ));
    }

    #[test]
    fn launch_requires_mutual_tls() {
        let err = read_launch(env(&[(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)])).unwrap_err();
        assert!(matches!(err, StartError::NoClientCertificate));
    }

    #[test]
    fn launch_honours_the_port_range() {
        let launch = read_launch(env(&[
            (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE),
            ("PLUGIN_CLIENT_CERT", "pem"),
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "25000"),
        ]))
        .unwrap();
        assert_eq!((launch.min_port, launch.max_port), (10000, 25000));
    }

    #[test]
    fn reattach_config_has_terraforms_shape() {
        let addr: SocketAddr = "127.0.0.1:4321".parse().unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&reattach_config("registry.terraform.io/a/b", addr, 42)).unwrap();
        let entry = &json["registry.terraform.io/a/b"];
        assert_eq!(entry["ProtocolVersion"], 6);
        assert_eq!(entry["Pid"], 42);
        assert_eq!(entry["Addr"]["Network"], "tcp");
        assert_eq!(entry["Addr"]["String"], "127.0.0.1:4321");
    }
}
