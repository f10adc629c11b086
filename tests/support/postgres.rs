//! A stand-in for the first exchange of a PostgreSQL server (or PSBouncer)
//! on loopback, for the connection test. It emulates only what a server
//! does before the startup message: it reads the client's 8-byte
//! SSLRequest, then, as told, answers `S` and serves TLS with a certificate
//! from a test authority, answers `N` (a server without TLS), or says
//! nothing at all (something that accepts connections and never answers).
//!
//! It records every connection: the first 8 bytes, every byte the client
//! sent after them (decrypted, under TLS), and how long the connection
//! stayed open, so a test can check that the client sent no startup
//! message and gave up in time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// How the stand-in answers the SSLRequest.
#[derive(Clone)]
pub enum Mode {
    /// `S`, then a TLS handshake with this configuration.
    Tls(Arc<ServerConfig>),
    /// `N`: PostgreSQL without TLS.
    NoTls,
    /// Nothing: the connection stays open until the client leaves.
    Silent,
}

/// A certificate authority of the test's own, and server certificates it
/// issues.
pub struct TestCa {
    /// The authority's certificate, as `ca_certificate` takes it.
    pub pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = rcgen::KeyPair::generate().expect("CA key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "connection test CA");
        let certificate = params.self_signed(&key).expect("CA certificate");
        TestCa {
            pem: certificate.pem(),
            issuer: rcgen::Issuer::new(params, key),
        }
    }

    /// A server configuration whose certificate is valid for `names`.
    pub fn server(&self, names: &[&str]) -> Arc<ServerConfig> {
        let key = rcgen::KeyPair::generate().expect("server key");
        let params = rcgen::CertificateParams::new(
            names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>(),
        )
        .expect("server params");
        let certificate = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let config = ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certificate.der().clone()], key)
        .expect("server TLS configuration");
        Arc::new(config)
    }
}

/// What one connection brought.
#[derive(Clone, Debug)]
pub struct Connection {
    /// The first 8 bytes (fewer when the client left sooner).
    pub first: Vec<u8>,
    /// Every byte after them; under TLS, the decrypted application data.
    pub after: Vec<u8>,
    /// Whether a TLS handshake completed.
    pub handshake: bool,
    /// From accept to the client's end of the connection.
    pub open_for: Duration,
}

pub struct Listener {
    pub port: u16,
    seen: Arc<Mutex<Vec<Connection>>>,
}

impl Listener {
    /// Listens on a free loopback port, on a thread of its own until the
    /// test process ends.
    pub fn start(mode: Mode) -> Listener {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Connection>>> = Arc::default();
        let record = seen.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    let (mode, record) = (mode.clone(), record.clone());
                    tokio::spawn(async move {
                        let connection = serve(tcp, mode).await;
                        record.lock().unwrap().push(connection);
                    });
                }
            });
        });
        Listener { port, seen }
    }

    /// The connections that have ended so far.
    pub fn connections(&self) -> Vec<Connection> {
        self.seen.lock().unwrap().clone()
    }
}

/// A loopback port nothing listens on: connecting to it is refused.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind a loopback port");
    listener.local_addr().unwrap().port()
}

async fn serve(mut tcp: tokio::net::TcpStream, mode: Mode) -> Connection {
    let accepted = Instant::now();
    let mut first = vec![0u8; 8];
    let mut read = 0;
    while read < first.len() {
        match tcp.read(&mut first[read..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    first.truncate(read);
    let mut connection = Connection {
        first,
        after: Vec::new(),
        handshake: false,
        open_for: Duration::ZERO,
    };
    if read == 8 {
        match mode {
            Mode::Tls(config) => {
                if tcp.write_all(b"S").await.is_ok() {
                    let acceptor = tokio_rustls::TlsAcceptor::from(config);
                    if let Ok(mut tls) = acceptor.accept(tcp).await {
                        connection.handshake = true;
                        connection.after = read_to_end(&mut tls).await;
                    }
                }
            }
            Mode::NoTls => {
                if tcp.write_all(b"N").await.is_ok() {
                    connection.after = read_to_end(&mut tcp).await;
                }
            }
            Mode::Silent => connection.after = read_to_end(&mut tcp).await,
        }
    }
    connection.open_for = accepted.elapsed();
    connection
}

/// Everything until the client ends the connection (or breaks it).
async fn read_to_end(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}
