//! Testing a PostgreSQL server the way an application's driver begins a
//! connection, without credentials: resolve the host, open a TCP
//! connection to each address and port, send PostgreSQL's SSLRequest, read
//! the one-byte answer and, on `S`, complete a TLS handshake that verifies
//! the server's certificate for the host name. Nothing more is sent: no
//! startup message, no user name, no password; the server sees a client
//! that asked for TLS and hung up.
//!
//! Every address is tried, not only the first: an endpoint has one address
//! per availability zone, and a subnet whose network ACL drops the traffic
//! fails only the connections that land on its address.
//!
//! The answer's classification and the sentences that explain each failure
//! are pure (unit-tested below); they name the caller's arguments through
//! [`Names`], so each data source's sentences point at its own. The I/O is
//! [`lookup`] and [`probe_all`].

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use crate::dns::{self, DnsError};
use crate::framework::timeouts::format_duration;

/// PostgreSQL's SSLRequest: the message length (8), then the request code
/// 80877103 (1234 in the high half, 5679 in the low), both big-endian.
pub const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// The most ports one test may ask for: a database has two (PostgreSQL and
/// PSBouncer); each port costs a connection per address.
pub const MAX_PORTS: usize = 16;
/// The most addresses of one host that are tested: an endpoint has one per
/// zone (and per address family); a resolver answering more is not
/// pointing at an endpoint, and the rest are left untested.
pub const MAX_ADDRESSES: usize = 16;
/// The longest a connection may be given.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Connections open at once, whatever the ports and addresses: the
/// provider's process shares its file descriptors with the AWS calls in
/// flight.
const CONCURRENT: usize = 16;

/// Checks a number of ports against [`MAX_PORTS`].
pub fn check_port_count(count: usize) -> Result<(), String> {
    if count > MAX_PORTS {
        return Err(format!(
            "{count} ports would open {count} connections per address of the host; the test takes at most \
             {MAX_PORTS}. List the ports the database serves (5432 and 6432 for PostgreSQL and PSBouncer)."
        ));
    }
    Ok(())
}

/// A `ports` argument's size at `path`: an error past [`MAX_PORTS`] (a
/// declared attribute's check).
pub fn check_ports(
    path: crate::framework::path::AttributePath,
    value: &crate::framework::value::Value,
    diags: &mut crate::framework::diag::Diagnostics,
) {
    if let Some(ports) = value.as_elements()
        && let Err(why) = check_port_count(ports.len())
    {
        diags.attr_error(path, "Too many ports", why);
    }
}

/// How the caller's arguments are called, for the sentences that send the
/// reader to one of them.
#[derive(Clone, Copy, Debug)]
pub struct Names {
    /// The host tested (the Private Host).
    pub host: &'static str,
    /// The extra certificate authorities to trust.
    pub ca_certificate: &'static str,
    /// The DNS server asked for the host.
    pub resolver: &'static str,
    /// What checks the path when a connection times out, as the start of a
    /// sentence ("The ... data source checks those").
    pub path_checks: &'static str,
}

/// The certificates of a PEM text, each a usable trust anchor; at least one.
pub fn extra_roots(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certificates: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("The PEM text cannot be read ({e}). Paste the CA's certificate whole, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."))?;
    if certificates.is_empty() {
        return Err(
            "No certificate found: give one or more PEM certificates (-----BEGIN CERTIFICATE----- ...), \
             such as file(\"ca.pem\")."
                .into(),
        );
    }
    let mut store = rustls::RootCertStore::empty();
    for (i, certificate) in certificates.iter().enumerate() {
        store.add(certificate.clone()).map_err(|e| {
            format!(
                "Certificate {} of {} is not a usable certificate authority ({e}).",
                i + 1,
                certificates.len()
            )
        })?;
    }
    Ok(certificates)
}

/// What a server sent back to the SSLRequest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `S`: it will do TLS; the handshake follows.
    Tls,
    /// `N`: PostgreSQL, without TLS.
    NoTls,
    /// `E`: an error message, as servers before PostgreSQL 7.0 send.
    PostgresError,
    /// Any other byte: not PostgreSQL.
    Other(u8),
    /// The connection closed without a byte.
    Closed,
}

fn classify(first: Option<u8>) -> Answer {
    match first {
        Some(b'S') => Answer::Tls,
        Some(b'N') => Answer::NoTls,
        Some(b'E') => Answer::PostgresError,
        Some(other) => Answer::Other(other),
        None => Answer::Closed,
    }
}

/// Why one address and port failed the test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The TCP connection got no answer at all.
    ConnectTimeout,
    Refused,
    /// No route from here (the network or the host is unreachable).
    Unreachable(String),
    /// Connected, then nothing answered the SSLRequest.
    NoAnswer,
    Answered(Answer),
    HandshakeTimeout,
    WrongName {
        presented: Vec<String>,
    },
    Untrusted(String),
    Certificate(String),
    Tls(String),
    /// Reading or writing failed after the connection opened.
    Io(String),
    /// This machine ran out of file descriptors (EMFILE, ENFILE): nothing
    /// is known of the path to the database.
    OutOfDescriptors,
}

impl Failure {
    /// A few words for a diagnostic's summary.
    pub fn summary(&self) -> &'static str {
        match self {
            Failure::ConnectTimeout => "Connection timed out",
            Failure::Refused => "Connection refused",
            Failure::Unreachable(_) => "No route to the database",
            Failure::NoAnswer => "No answer from PostgreSQL",
            Failure::Answered(Answer::NoTls) => "The server declined TLS",
            Failure::Answered(Answer::PostgresError) => "The server cannot do TLS",
            Failure::Answered(_) => "Not a PostgreSQL server",
            Failure::HandshakeTimeout => "TLS handshake timed out",
            Failure::WrongName { .. } => "Certificate not valid for host",
            Failure::Untrusted(_) => "Certificate not trusted",
            Failure::Certificate(_) => "Certificate refused",
            Failure::Tls(_) => "TLS handshake failed",
            Failure::Io(_) => "Connection failed",
            Failure::OutOfDescriptors => "Too many open files here",
        }
    }

    /// What happened, in plain words, and what to do: `host` is the host
    /// tested, `timeout` the bound each connection had, and `names` how
    /// the caller's arguments are called.
    pub fn explain(&self, host: &str, timeout: Duration, names: &Names) -> String {
        let within = format_duration_short(timeout);
        let Names {
            host: host_arg,
            ca_certificate,
            path_checks,
            ..
        } = names;
        let check_host = format!(
            "Check that {host_arg} is the branch's Private Host and the port is PostgreSQL's (5432) or \
             PSBouncer's (6432)."
        );
        match self {
            Failure::ConnectTimeout => format!(
                "No answer to the connection within {within}: the traffic is dropped on the way (nothing \
                 refused it). Check that the endpoint's security group lets the port in from this machine's \
                 addresses and this machine's security group lets it out, that the network ACLs of both subnets \
                 let the port through and 1024-65535 back, and that a route leads from this machine to the VPC. \
                 {path_checks}, and an AWS Reachability Analyzer analysis from this machine's network \
                 interface to the endpoint's shows where the path ends."
            ),
            Failure::Refused => format!(
                "Connection refused: nothing listens on this port at this address (security groups and network \
                 ACLs drop traffic, they do not refuse it). {check_host}"
            ),
            Failure::Unreachable(e) => format!(
                "This machine has no route to the address ({e}). Run the test from inside the VPC, or from a \
                 network connected to it (peering, Transit Gateway, VPN)."
            ),
            Failure::NoAnswer => format!(
                "The connection opened, but nothing answered PostgreSQL's SSLRequest within {within}: what \
                 listens here is not PostgreSQL or PSBouncer, or it is stalled. {check_host}"
            ),
            Failure::Answered(Answer::NoTls) => format!(
                "PostgreSQL answered, but declined TLS (it answered N to the SSLRequest). PlanetScale always \
                 offers TLS, so this is another server. {check_host}"
            ),
            Failure::Answered(Answer::PostgresError) => format!(
                "The server answered the SSLRequest with an error message, as PostgreSQL servers too old for \
                 TLS do. PlanetScale always offers TLS, so this is another server. {check_host}"
            ),
            Failure::Answered(Answer::Other(byte)) => format!(
                "The server answered PostgreSQL's SSLRequest with {} (PostgreSQL answers S or N): it is not \
                 PostgreSQL or PSBouncer. {check_host}",
                describe_byte(*byte)
            ),
            Failure::Answered(Answer::Closed | Answer::Tls) => format!(
                "The connection opened, but the server closed it without answering PostgreSQL's SSLRequest: \
                 what listens here is not PostgreSQL or PSBouncer. {check_host}"
            ),
            Failure::HandshakeTimeout => format!(
                "The server agreed to TLS, but the handshake did not finish within {within}. Try again; if it \
                 persists, contact PlanetScale support with the endpoint's id."
            ),
            Failure::WrongName { presented } => {
                let presented = if presented.is_empty() {
                    String::new()
                } else {
                    format!(" (it names {})", presented.join(", "))
                };
                format!(
                    "The server's certificate is not valid for {host}{presented}: {host_arg} is not the name \
                     this server answers to. Give {host_arg} exactly as the PlanetScale dashboard shows the Private Host; the \
                     endpoint's own DNS names (vpce-...) and its addresses do not match the certificate."
                )
            }
            Failure::Untrusted(e) => format!(
                "The server's certificate was not issued by an authority this machine trusts ({e}). \
                 PlanetScale's certificates come from public authorities: install the system's CA certificates \
                 (or point SSL_CERT_FILE at a PEM bundle). For a server with a private authority's \
                 certificate, give that authority in {ca_certificate}."
            ),
            Failure::Certificate(e) => format!(
                "The server's certificate was refused: {e}. Check that {host_arg} is the branch's Private Host and \
                 this machine's clock is right."
            ),
            Failure::Tls(e) => format!("The TLS handshake failed: {e}. {check_host}"),
            Failure::Io(e) => {
                format!("The connection failed after it opened ({e}). {check_host}")
            }
            Failure::OutOfDescriptors => "The machine running Terraform ran out of file descriptors \
                 (too many open files) before it could connect, so this says nothing about the path to \
                 the database. Raise the open-file limit of the process running Terraform (ulimit -n), or \
                 run fewer operations at once (terraform -parallelism)."
                .to_owned(),
        }
    }
}

/// `2s`, or `500ms` below a second.
fn format_duration_short(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format_duration(d)
    }
}

fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("{:?}", char::from(byte))
    } else {
        format!("byte 0x{byte:02x}")
    }
}

/// A failed TCP connection.
fn connect_failure(e: &std::io::Error) -> Failure {
    use std::io::ErrorKind;
    if crate::platform::out_of_descriptors(e) {
        return Failure::OutOfDescriptors;
    }
    match e.kind() {
        ErrorKind::ConnectionRefused => Failure::Refused,
        ErrorKind::TimedOut => Failure::ConnectTimeout,
        _ => Failure::Unreachable(e.to_string()),
    }
}

/// A failed TLS handshake.
fn tls_failure(e: &std::io::Error) -> Failure {
    use rustls::CertificateError as C;
    let Some(error) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return match e.kind() {
            std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => {
                Failure::Tls("the server closed the connection during the handshake".into())
            }
            _ => Failure::Tls(e.to_string()),
        };
    };
    match error {
        rustls::Error::InvalidCertificate(C::NotValidForName) => {
            Failure::WrongName { presented: vec![] }
        }
        rustls::Error::InvalidCertificate(C::NotValidForNameContext { presented, .. }) => {
            Failure::WrongName {
                presented: presented.iter().map(|n| presented_name(n)).collect(),
            }
        }
        rustls::Error::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            Failure::Untrusted(error.to_string())
        }
        rustls::Error::InvalidCertificate(_) => Failure::Certificate(error.to_string()),
        other => Failure::Tls(other.to_string()),
    }
}

/// A name as rustls reports it (`DnsName("db.example")`), bare.
fn presented_name(name: &str) -> String {
    let inner = match (name.find('('), name.strip_suffix(')')) {
        (Some(open), Some(rest)) => &rest[open + 1..],
        _ => name,
    };
    inner.trim_matches('"').to_owned()
}

/// Why `host` gave no address to connect to.
#[derive(Debug)]
pub enum Unresolved {
    /// The DNS server asked answered with an error, or not at all.
    Dns { server: SocketAddr, error: DnsError },
    /// This machine's resolver failed.
    System(String),
    /// This machine's resolver gave no answer in time.
    Timeout(Duration),
    /// The name exists without an address.
    NoAddresses,
}

impl Unresolved {
    /// A few words for a diagnostic's summary.
    pub fn summary(&self) -> &'static str {
        "Host did not resolve"
    }

    /// What happened and what to do; `names` says how the caller's
    /// arguments are called.
    pub fn explain(&self, host: &str, names: &Names) -> String {
        let Names {
            host: host_arg,
            resolver,
            ..
        } = names;
        let inside = format!(
            "A private name may resolve only inside the VPC: run the test where the application runs \
             (a pipeline runner in the VPC), or give {resolver}, the VPC's resolver, from inside it."
        );
        match self {
            Unresolved::Dns {
                server,
                error: DnsError::NxDomain,
            } => format!(
                "{server} says {host} does not exist (NXDOMAIN). Check {host_arg} against the Private Host in \
                 the PlanetScale dashboard. {inside}"
            ),
            Unresolved::Dns { server, error } => format!(
                "Asking {server} for {host} failed: {error}. Check {resolver}, and that this machine can reach \
                 it."
            ),
            Unresolved::System(e) => format!(
                "This machine's resolver could not resolve {host} ({e}). Check {host_arg} against the Private \
                 Host in the PlanetScale dashboard. {inside}"
            ),
            Unresolved::Timeout(t) => format!(
                "This machine's resolver gave no answer for {host} within {}. Check the machine's DNS \
                 settings, or give {resolver}.",
                format_duration_short(*t)
            ),
            Unresolved::NoAddresses => format!(
                "{host} exists but has no address (no A or AAAA record). Check {host_arg} against the Private \
                 Host in the PlanetScale dashboard. {inside}"
            ),
        }
    }
}

// ------------------------------------------------------------------ I/O --

/// The addresses of `host`: the address itself, the answer of `resolver`,
/// or this machine's resolver's (what applications here would get).
pub async fn lookup(
    host: &str,
    resolver: Option<SocketAddr>,
    timeout: Duration,
) -> Result<Vec<IpAddr>, Unresolved> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let addresses = match resolver {
        Some(server) => dns::resolve(host, server, timeout)
            .await
            .map_err(|error| Unresolved::Dns { server, error })?,
        None => {
            let found = tokio::time::timeout(timeout, tokio::net::lookup_host((host, 0)))
                .await
                .map_err(|_| Unresolved::Timeout(timeout))?
                .map_err(|e| Unresolved::System(e.to_string()))?;
            let mut addresses: Vec<IpAddr> = Vec::new();
            for a in found {
                if !addresses.contains(&a.ip()) {
                    addresses.push(a.ip());
                }
            }
            addresses
        }
    };
    tracing::debug!(host, ?resolver, ?addresses, "looked the host up");
    if addresses.is_empty() {
        return Err(Unresolved::NoAddresses);
    }
    Ok(addresses)
}

/// The trust for the handshake: this machine's authorities and `extra`
/// (from [`extra_roots`]).
pub fn tls_config(extra: Vec<CertificateDer<'static>>) -> rustls::ClientConfig {
    crate::tls::client_config(extra).0
}

/// What one address and port did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Probe {
    /// A TCP connection opened.
    pub reachable: bool,
    /// The server answered the SSLRequest as PostgreSQL (and PSBouncer) do.
    pub postgres: bool,
    /// The TLS handshake completed and the certificate was verified.
    pub tls: bool,
    /// How long the TCP connection took to open; `None` when it did not.
    pub latency: Option<Duration>,
    /// What went wrong; `None` when the handshake completed.
    pub failure: Option<Failure>,
}

/// Every port on the first [`MAX_ADDRESSES`] addresses, [`CONCURRENT`] at a
/// time, each connection within `timeout` and its certificate verified for
/// `host`; by port (in the order given), then address. Empty when `host` is
/// no name a certificate can carry.
pub async fn probe_all(
    host: &str,
    addresses: &[IpAddr],
    ports: &[u16],
    tls: &Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Vec<(SocketAddr, Probe)> {
    let name = host.strip_suffix('.').unwrap_or(host).to_owned();
    let Ok(server_name) = ServerName::try_from(name) else {
        // validate refused such a host.
        return Vec::new();
    };
    let addresses = &addresses[..addresses.len().min(MAX_ADDRESSES)];
    let targets: Vec<SocketAddr> = ports
        .iter()
        .flat_map(|port| addresses.iter().map(|ip| SocketAddr::new(*ip, *port)))
        .collect();
    let permits = Arc::new(tokio::sync::Semaphore::new(CONCURRENT));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, target) in targets.iter().enumerate() {
        let (target, server_name, tls) = (*target, server_name.clone(), tls.clone());
        let permits = permits.clone();
        tasks.spawn(async move {
            // Never closed, so a permit always comes.
            let _permit = permits.acquire_owned().await;
            (i, probe(target, server_name, tls, timeout).await)
        });
    }
    let mut probes: BTreeMap<usize, Probe> = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((i, probe)) => {
                probes.insert(i, probe);
            }
            Err(e) => tracing::error!(error = %e, "a connection test task failed"),
        }
    }
    targets
        .into_iter()
        .enumerate()
        .map(|(i, target)| {
            let probe = probes.remove(&i).unwrap_or_else(|| Probe {
                failure: Some(Failure::Io("the test of this port failed".into())),
                ..Probe::default()
            });
            (target, probe)
        })
        .collect()
}

/// Connects, asks for TLS, and completes the handshake, all within
/// `timeout`; then closes without a word more.
async fn probe(
    target: SocketAddr,
    server_name: ServerName<'static>,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Probe {
    let started = Instant::now();
    let deadline = started + timeout;
    let failed = |failure: Failure| Probe {
        failure: Some(failure),
        ..Probe::default()
    };
    let mut tcp = match timeout_at(deadline, TcpStream::connect(target)).await {
        Err(_) => return failed(Failure::ConnectTimeout),
        Ok(Err(e)) => return failed(connect_failure(&e)),
        Ok(Ok(tcp)) => tcp,
    };
    let reached = Probe {
        reachable: true,
        latency: Some(started.elapsed()),
        ..Probe::default()
    };
    let with = |probe: &Probe, failure: Failure| Probe {
        failure: Some(failure),
        ..probe.clone()
    };
    let _ = tcp.set_nodelay(true);

    let mut answer = [0u8; 1];
    let exchange = async {
        tcp.write_all(&SSL_REQUEST).await?;
        // Exactly one byte: what follows an S is the server's TLS, read by
        // the handshake.
        tcp.read(&mut answer).await
    };
    let answer = match timeout_at(deadline, exchange).await {
        Err(_) => return with(&reached, Failure::NoAnswer),
        Ok(Ok(0)) => classify(None),
        Ok(Ok(_)) => classify(Some(answer[0])),
        Ok(Err(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            classify(None)
        }
        Ok(Err(e)) => return with(&reached, Failure::Io(e.to_string())),
    };
    tracing::debug!(%target, ?answer, "the server answered the SSLRequest");
    let postgres = Probe {
        postgres: true,
        ..reached.clone()
    };
    match answer {
        Answer::Tls => {}
        Answer::NoTls | Answer::PostgresError => {
            let _ = timeout_at(deadline, tcp.shutdown()).await;
            return with(&postgres, Failure::Answered(answer));
        }
        Answer::Other(_) | Answer::Closed => return with(&reached, Failure::Answered(answer)),
    }

    let connector = tokio_rustls::TlsConnector::from(tls);
    match timeout_at(deadline, connector.connect(server_name, tcp)).await {
        Err(_) => with(&postgres, Failure::HandshakeTimeout),
        Ok(Err(e)) => with(&postgres, tls_failure(&e)),
        Ok(Ok(mut stream)) => {
            // close_notify, then the end of the connection: nothing else.
            let _ = timeout_at(deadline, stream.shutdown()).await;
            Probe {
                tls: true,
                ..postgres
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arguments named as the connection test names them.
    const NAMES: Names = Names {
        host: "host",
        ca_certificate: "ca_certificate",
        resolver: "resolver",
        path_checks: "The planetscale_privatelink_diagnostics data source checks those",
    };

    #[test]
    fn the_ssl_request_is_postgres_code() {
        assert_eq!(u32::from_be_bytes(SSL_REQUEST[..4].try_into().unwrap()), 8);
        assert_eq!(
            u32::from_be_bytes(SSL_REQUEST[4..].try_into().unwrap()),
            80_877_103
        );
    }

    #[test]
    fn answers_are_classified() {
        let cases = [
            (Some(b'S'), Answer::Tls),
            (Some(b'N'), Answer::NoTls),
            (Some(b'E'), Answer::PostgresError),
            (Some(b'H'), Answer::Other(b'H')),
            (Some(0), Answer::Other(0)),
            (None, Answer::Closed),
        ];
        for (byte, answer) in cases {
            assert_eq!(classify(byte), answer, "{byte:?}");
        }
    }

    /// The sentences of every failure: a summary of its own, and the words
    /// that send the reader to the fix.
    #[test]
    fn each_failure_says_what_to_do() {
        let t = Duration::from_secs(5);
        let cases: Vec<(Failure, &[&str])> = vec![
            (
                Failure::ConnectTimeout,
                &[
                    "5s",
                    "dropped",
                    "security group",
                    "network ACLs",
                    "route",
                    "planetscale_privatelink_diagnostics",
                    "Reachability Analyzer",
                ],
            ),
            (Failure::Refused, &["refused", "nothing listens", "5432"]),
            (
                Failure::Unreachable("Network is unreachable".into()),
                &["no route", "inside the VPC"],
            ),
            (Failure::NoAnswer, &["5s", "SSLRequest", "not PostgreSQL"]),
            (Failure::Answered(Answer::NoTls), &["declined TLS"]),
            (Failure::Answered(Answer::PostgresError), &["error message"]),
            (Failure::Answered(Answer::Other(b'H')), &["'H'", "not"]),
            (Failure::Answered(Answer::Closed), &["closed it"]),
            (Failure::HandshakeTimeout, &["handshake", "5s"]),
            (
                Failure::WrongName {
                    presented: vec!["other.example".into()],
                },
                &["not valid for db.example", "other.example", "Private Host"],
            ),
            (
                Failure::Untrusted("unknown issuer".into()),
                &["ca_certificate", "CA certificates"],
            ),
            (
                Failure::Certificate("expired".into()),
                &["expired", "clock"],
            ),
            (Failure::Tls("bad".into()), &["TLS handshake failed: bad"]),
            (Failure::Io("reset".into()), &["reset"]),
        ];
        let mut summaries: Vec<&str> = cases.iter().map(|(f, _)| f.summary()).collect();
        let n = summaries.len();
        summaries.sort_unstable();
        summaries.dedup();
        // Closed and any other byte share "Not a PostgreSQL server".
        assert_eq!(summaries.len(), n - 1, "{summaries:?}");
        for (failure, words) in cases {
            let text = failure.explain("db.example", t, &NAMES);
            for word in words {
                assert!(
                    text.contains(word),
                    "{failure:?}: {word:?} missing in {text}"
                );
            }
        }
        assert!(
            Failure::NoAnswer
                .explain("h", Duration::from_millis(500), &NAMES)
                .contains("500ms")
        );
    }

    #[test]
    fn io_errors_are_classified() {
        use std::io::{Error, ErrorKind};
        assert_eq!(
            connect_failure(&Error::from(ErrorKind::ConnectionRefused)),
            Failure::Refused
        );
        assert_eq!(
            connect_failure(&Error::from(ErrorKind::TimedOut)),
            Failure::ConnectTimeout
        );
        assert!(matches!(
            connect_failure(&Error::from(ErrorKind::NetworkUnreachable)),
            Failure::Unreachable(_)
        ));
        let rustls_error = |e: rustls::Error| Error::new(ErrorKind::InvalidData, e);
        assert_eq!(
            tls_failure(&rustls_error(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("db.example").unwrap(),
                    presented: vec!["DnsName(\"other.example\")".into(), "10.0.0.5".into()],
                }
            ))),
            Failure::WrongName {
                presented: vec!["other.example".into(), "10.0.0.5".into()]
            }
        );
        assert!(matches!(
            tls_failure(&rustls_error(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))),
            Failure::Untrusted(_)
        ));
        assert!(matches!(
            tls_failure(&rustls_error(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired
            ))),
            Failure::Certificate(_)
        ));
        assert!(matches!(
            tls_failure(&Error::from(ErrorKind::UnexpectedEof)),
            Failure::Tls(_)
        ));
    }

    #[test]
    fn a_ca_certificate_is_read() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key).unwrap();
        let two = format!("{}{}", ca.pem(), ca.pem());
        assert_eq!(extra_roots(&two).unwrap().len(), 2);
        assert!(extra_roots("").unwrap_err().contains("No certificate"));
    }

    /// Another caller's names take the place of the connection test's in
    /// every sentence that points at an argument.
    #[test]
    fn sentences_name_the_callers_arguments() {
        let names = Names {
            host: "private_host",
            ca_certificate: "the_cas",
            resolver: "dns_server",
            path_checks: "The checks above cover those",
        };
        let t = Duration::from_secs(5);
        let cases: Vec<(String, &str)> = vec![
            (
                Failure::Refused.explain("db.example", t, &names),
                "Check that private_host is",
            ),
            (
                Failure::WrongName { presented: vec![] }.explain("db.example", t, &names),
                "Give private_host exactly",
            ),
            (
                Failure::Untrusted("x".into()).explain("db.example", t, &names),
                "give that authority in the_cas.",
            ),
            (
                Failure::ConnectTimeout.explain("db.example", t, &names),
                "The checks above cover those, and an AWS Reachability Analyzer",
            ),
            (
                Unresolved::NoAddresses.explain("db.example", &names),
                "Check private_host against",
            ),
            (
                Unresolved::Timeout(t).explain("db.example", &names),
                "or give dns_server.",
            ),
        ];
        for (text, expected) in cases {
            assert!(text.contains(expected), "{expected:?} missing in {text}");
            for theirs in [
                "that host ",
                "Give host ",
                "Check host ",
                "give resolver",
                "in ca_certificate",
                "planetscale_privatelink_diagnostics",
            ] {
                assert!(!text.contains(theirs), "{theirs:?} in {text}");
            }
        }
    }

    #[test]
    fn unresolved_names_say_what_to_do() {
        let server: SocketAddr = "10.0.0.2:53".parse().unwrap();
        let nx = Unresolved::Dns {
            server,
            error: DnsError::NxDomain,
        }
        .explain("db.example", &NAMES);
        assert!(
            nx.contains("10.0.0.2:53 says db.example does not exist (NXDOMAIN)")
                && nx.contains("give resolver, the VPC's resolver"),
            "{nx}"
        );
        let failed = Unresolved::Dns {
            server,
            error: DnsError::Timeout(Duration::from_secs(3)),
        }
        .explain("db.example", &NAMES);
        assert!(failed.contains("Check resolver, and that"), "{failed}");
        assert_eq!(Unresolved::NoAddresses.summary(), "Host did not resolve");
    }

    #[test]
    fn a_shortage_of_descriptors_is_named_for_what_it_is() {
        #[cfg(unix)]
        for errno in [libc::EMFILE, libc::ENFILE] {
            let failure = connect_failure(&std::io::Error::from_raw_os_error(errno));
            assert_eq!(failure, Failure::OutOfDescriptors);
            assert_eq!(failure.summary(), "Too many open files here");
            let text = failure.explain("db.example", Duration::from_secs(2), &NAMES);
            assert!(
                text.contains("ulimit -n") && !text.contains("route"),
                "{text}"
            );
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(connect_failure(&refused), Failure::Refused);
    }

    #[test]
    fn too_many_ports_are_refused() {
        assert!(check_port_count(2).is_ok());
        assert!(check_port_count(MAX_PORTS).is_ok());
        let why = check_port_count(65535).unwrap_err();
        assert!(why.contains("at most 16"), "{why}");
    }

    /// A host answering with many addresses, all of them a listener that
    /// accepts and never answers: only the first [`MAX_ADDRESSES`] are
    /// tested, [`CONCURRENT`] connections at a time.
    #[tokio::test]
    async fn connections_are_bounded_in_number_and_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (open, most, total) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let counters = (open.clone(), most.clone(), total.clone());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let (open, most, total) =
                    (counters.0.clone(), counters.1.clone(), counters.2.clone());
                let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                total.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    // Held, unanswered, until the prober gives up and closes.
                    let mut buf = [0u8; 64];
                    while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        // 40 addresses and the port twice: 16 addresses tested, 32
        // connections, each held for the whole timeout.
        let addresses = vec![IpAddr::from([127, 0, 0, 1]); 40];
        let tls = Arc::new(tls_config(Vec::new()));
        let timeout = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let probes = probe_all("db.example", &addresses, &[port, port], &tls, timeout).await;
        let took = started.elapsed();
        assert_eq!(probes.len(), 2 * MAX_ADDRESSES);
        assert!(
            probes
                .iter()
                .all(|(_, p)| p.failure == Some(Failure::NoAnswer)),
            "{probes:?}"
        );
        assert_eq!(total.load(Ordering::SeqCst), 2 * MAX_ADDRESSES);
        // 16 at a time: two rounds of the timeout, where all at once
        // would take one.
        assert!(took >= 2 * timeout, "{took:?}");
        // (A connection the prober has closed may not be seen closed yet
        // when the next is accepted: a little slack, far from all 32.)
        let most = most.load(Ordering::SeqCst);
        assert!(most <= CONCURRENT + 4, "{most} connections open at once");
    }
}
