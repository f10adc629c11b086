//! Asking a chosen DNS server which addresses a host name has (A and
//! AAAA), the way `dig @server name` would. The troubleshooting guide's
//! "Test DNS resolution" step needs to ask a particular resolver (the
//! VPC's, or one the user names), which the system's resolver cannot be
//! told to do.
//!
//! The asking is hickory-resolver's, pointed at that one server with no
//! search list, hosts file or cache: a recursive query (RD set) over UDP,
//! resent when a datagram goes unanswered, and asked again over TCP when
//! the UDP answer comes back truncated (TC set), which a hand-written stub
//! did not do. CNAME chains are followed by the server, so every A and
//! AAAA record of the answer counts. Datagrams from another address or
//! with another id are ignored; one from the server with our id that is no
//! answer ends the lookup with a protocol error. No DNSSEC.

use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as Answered, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{Name, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use tokio::time::Instant;

/// The standard DNS port.
pub const PORT: u16 = 53;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The name is not one DNS can carry.
    #[error("{0}")]
    InvalidName(String),
    /// The server says the name does not exist.
    #[error("the name does not exist (NXDOMAIN)")]
    NxDomain,
    /// The server answered with another error code.
    #[error("the server answered with error code {0}")]
    Server(u8),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Io(String),
}

/// The addresses `name` has according to `server`: A and AAAA records
/// together, IPv4 first. Empty when the name exists without addresses.
/// Both questions are asked at once; an unanswered datagram is sent
/// again, a truncated answer is asked again over TCP, and the whole lookup
/// ends after `timeout`. NXDOMAIN for either question ends it at once; a
/// server that never answers AAAA questions still gives its A records.
pub async fn resolve(
    name: &str,
    server: SocketAddr,
    timeout: Duration,
) -> Result<Vec<IpAddr>, DnsError> {
    check_host_name(name).map_err(DnsError::InvalidName)?;
    // Fully qualified: the name as given, never completed by a search list.
    let mut fqdn = Name::from_ascii(name).map_err(|e| DnsError::InvalidName(e.to_string()))?;
    fqdn.set_fqdn(true);
    let resolver = resolver(server, timeout)?;
    let deadline = Instant::now() + timeout;

    let mut a = pin!(resolver.lookup(fqdn.clone(), RecordType::A));
    let mut aaaa = pin!(resolver.lookup(fqdn, RecordType::AAAA));
    let mut answers: [Option<Answer>; 2] = [None, None];
    while answers.iter().any(Option::is_none) {
        let (slot, outcome) = tokio::select! {
            done = &mut a, if answers[0].is_none() => (0, done),
            done = &mut aaaa, if answers[1].is_none() => (1, done),
            // Some servers never answer AAAA questions: whatever came by
            // now is the answer.
            _ = tokio::time::sleep_until(deadline) => break,
        };
        let answer = Answer::from(outcome);
        match &answer {
            // A name that does not exist has no record of any type.
            Answer::Failed(DnsError::NxDomain) => return Err(DnsError::NxDomain),
            Answer::Failed(e @ DnsError::Io(_)) => {
                return Err(DnsError::Io(format!("asking {server}: {e}")));
            }
            _ => {}
        }
        answers[slot] = Some(answer);
    }

    let mut addresses = Vec::new();
    let mut answered = false;
    for answer in answers.into_iter().flatten() {
        match answer {
            Answer::Addresses(found) => {
                answered = true;
                addresses.extend(found);
            }
            Answer::Failed(e) => return Err(e),
            Answer::Unanswered => {}
        }
    }
    if !answered {
        return Err(DnsError::Timeout(timeout));
    }
    addresses.sort_by_key(|a| a.is_ipv6());
    addresses.dedup();
    Ok(addresses)
}

/// How one question ended.
enum Answer {
    /// The records' addresses; none when the name has none of this type.
    Addresses(Vec<IpAddr>),
    /// No answer in time.
    Unanswered,
    Failed(DnsError),
}

impl From<Result<hickory_resolver::lookup::Lookup, NetError>> for Answer {
    fn from(outcome: Result<hickory_resolver::lookup::Lookup, NetError>) -> Self {
        match outcome {
            Ok(lookup) => Answer::Addresses(
                lookup
                    .answers()
                    .iter()
                    .filter_map(|record| record.data.ip_addr())
                    .collect(),
            ),
            Err(NetError::Dns(Answered::NoRecordsFound(none))) => match none.response_code {
                ResponseCode::NXDomain => Answer::Failed(DnsError::NxDomain),
                ResponseCode::NoError => Answer::Addresses(Vec::new()),
                code => Answer::Failed(server_error(code)),
            },
            Err(NetError::Dns(Answered::ResponseCode(code))) => Answer::Failed(server_error(code)),
            Err(NetError::Timeout) => Answer::Unanswered,
            Err(e) => Answer::Failed(DnsError::Io(e.to_string())),
        }
    }
}

fn server_error(code: ResponseCode) -> DnsError {
    DnsError::Server(u8::try_from(u16::from(code)).unwrap_or(u8::MAX))
}

/// A resolver asking `server` only (UDP, then TCP for truncated answers),
/// giving up on a question after `timeout`.
fn resolver(server: SocketAddr, timeout: Duration) -> Result<TokioResolver, DnsError> {
    let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
        .into_iter()
        .map(|mut connection| {
            connection.port = server.port();
            connection
        })
        .collect();
    let config = ResolverConfig::from_name_servers(vec![NameServerConfig::new(
        server.ip(),
        true,
        connections,
    )]);
    let mut options = ResolverOpts::default();
    options.timeout = timeout;
    options.use_hosts_file = ResolveHosts::Never;
    options.cache_size = 0;
    Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(options)
        .build()
        .map_err(|e| DnsError::Io(format!("setting up a resolver for {server}: {e}")))
}

/// The first `nameserver` of a resolv.conf text, on port 53.
pub fn nameserver_from_resolv_conf(text: &str) -> Option<SocketAddr> {
    text.lines()
        .map(|line| line.split(['#', ';']).next().unwrap_or_default())
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next())?
        })
        // A zone index (fe80::1%eth0) cannot be used from here; skip it.
        .find_map(|address| address.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, PORT))
}

/// The system's resolver, from /etc/resolv.conf.
pub fn system_nameserver() -> Option<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    nameserver_from_resolv_conf(&text)
}

/// A DNS server address as users write it: `10.0.0.2:53`, `10.0.0.2`
/// (port 53), `[fd00::2]:53` or `fd00::2`.
pub fn parse_server(text: &str) -> Result<SocketAddr, String> {
    if let Ok(address) = text.parse::<SocketAddr>() {
        return Ok(address);
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, PORT));
    }
    Err(format!(
        "{text:?} is not a DNS server address. Write an IP address with an optional port, like \
         \"10.0.0.2:53\", \"10.0.0.2\" or \"[fd00::2]:53\"."
    ))
}

/// Whether an address is one no one routes on the internet: RFC 1918,
/// shared address space (RFC 6598, 100.64.0.0/10, which VPCs may use),
/// IPv6 unique local (fc00::/7), loopback (a tunnel or port forward ends
/// there), and IPv4-mapped IPv6 forms of these.
pub fn is_private_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || v4.is_loopback() || (a == 100 && (b & 0xc0) == 64)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private_address(IpAddr::V4(v4)),
            None => (v6.segments()[0] & 0xfe00) == 0xfc00 || v6.is_loopback(),
        },
    }
}

/// Checks that `name` is a host name DNS can carry: ASCII labels of 1 to
/// 63 letters, digits, hyphens or underscores, 253 characters at most.
pub fn check_host_name(name: &str) -> Result<(), String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let fail = |why: &str| Err(format!("{name:?} is not a host name: {why}."));
    if trimmed.is_empty() {
        return fail("it is empty");
    }
    if trimmed.len() > 253 {
        return fail("it is longer than 253 characters");
    }
    for label in trimmed.split('.') {
        if label.is_empty() || label.len() > 63 {
            return fail("each dot-separated part must be 1 to 63 characters long");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return fail(
                "use letters, digits and hyphens only (no scheme, port or path; an \
                 internationalized name in its xn-- form)",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_those_no_one_routes_on_the_internet() {
        for private in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "fd00::5",
            "fc12::1",
            "::1",
            "::ffff:10.0.0.1",
            "100.64.0.1",
        ] {
            assert!(is_private_address(private.parse().unwrap()), "{private}");
        }
        for public in [
            "3.5.7.9",
            "172.32.0.1",
            "100.128.0.1",
            "2600:1f18::1",
            "fe80::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_private_address(public.parse().unwrap()), "{public}");
        }
    }

    const TYPE_A: u16 = 1;
    const RCODE_NXDOMAIN: u8 = 3;

    /// Where the question of `query` ends, and its type.
    fn question(query: &[u8]) -> (usize, u16) {
        let mut at = 12;
        while query[at] != 0 {
            at += 1 + usize::from(query[at]);
        }
        (at + 5, u16::from_be_bytes([query[at + 1], query[at + 2]]))
    }

    /// A response to `query` carrying the given A records, the question
    /// echoed and each answer's name compressed to point at it.
    fn response(query: &[u8], rcode: u8, records: &[[u8; 4]]) -> Vec<u8> {
        let (end, _) = question(query);
        let mut out = query[..2].to_vec();
        out.extend_from_slice(&(0x8180u16 | u16::from(rcode)).to_be_bytes());
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&(records.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&query[12..end]);
        for ip in records {
            out.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            out.extend_from_slice(ip);
        }
        out
    }

    #[test]
    fn names_are_checked() {
        assert!(check_host_name("abc.private-pg.psdb.cloud").is_ok());
        assert!(check_host_name("abc.example.com.").is_ok());
        for bad in [
            "",
            "https://db.example.com",
            "db..example.com",
            "db.example.com:5432",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(check_host_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn servers_and_resolv_conf_parse() {
        assert_eq!(
            parse_server("10.0.0.2:5353"),
            Ok("10.0.0.2:5353".parse().unwrap())
        );
        assert_eq!(parse_server("10.0.0.2"), Ok("10.0.0.2:53".parse().unwrap()));
        assert_eq!(parse_server("fd00::2"), Ok("[fd00::2]:53".parse().unwrap()));
        assert!(parse_server("dns.example.com:53").is_err());
        let conf = "# generated\nsearch example.com\nnameserver fe80::1%eth0\nnameserver 10.0.0.2 # vpc\nnameserver 1.1.1.1\n";
        assert_eq!(
            nameserver_from_resolv_conf(conf),
            Some("10.0.0.2:53".parse().unwrap())
        );
        assert_eq!(nameserver_from_resolv_conf("options ndots:5\n"), None);
    }

    /// Asks a server that first sends datagrams that are no answer (another
    /// id; the right id from another port), then the real ones; checks the
    /// questions it was asked.
    #[tokio::test]
    async fn resolves_against_a_server_and_ignores_strangers() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let stranger = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = server.local_addr().unwrap();
        let (asked, questions) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            for _ in 0..2 {
                let Ok((len, peer)) = server.recv_from(&mut buf) else {
                    return;
                };
                let query = &buf[..len];
                let _ = asked.send(query.to_vec());
                let (_, qtype) = question(query);
                let records: &[[u8; 4]] = if qtype == TYPE_A {
                    &[[10, 9, 0, 7]]
                } else {
                    &[]
                };
                let mut stray = response(query, 0, &[[192, 0, 2, 1]]);
                let _ = stranger.send_to(&stray, peer);
                stray[0] ^= 0xff;
                let _ = server.send_to(&stray, peer);
                let _ = server.send_to(&response(query, 0, records), peer);
            }
        });
        let found = resolve("db.example.com", address, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(found, vec![IpAddr::from([10, 9, 0, 7])]);
        // Recursion desired, the name as labels, the A question among them.
        let mut types = Vec::new();
        for query in questions.try_iter() {
            assert_eq!(query[2] & 0x01, 0x01, "RD set");
            let (end, qtype) = question(&query);
            assert_eq!(&query[12..end - 4], b"\x02db\x07example\x03com\x00");
            assert_eq!(&query[end - 2..end], [0, 1], "class IN");
            types.push(qtype);
        }
        types.sort();
        assert_eq!(types, [TYPE_A, 28]);
    }

    /// A server answering every question with `garble` applied to the
    /// real answer.
    fn garbling_server(garble: fn(&[u8], Vec<u8>) -> Vec<u8>) -> SocketAddr {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = server.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((len, peer)) = server.recv_from(&mut buf) {
                let query = &buf[..len];
                let good = response(query, 0, &[[10, 9, 0, 9]]);
                let _ = server.send_to(&garble(query, good), peer);
            }
        });
        address
    }

    /// A datagram from the server with our id that is no answer (cut
    /// short, or the query itself) fails the lookup at once, saying so,
    /// and never panics. (The hand-written stub waited for a better one;
    /// hickory-resolver ends that attempt with a protocol error.)
    #[tokio::test]
    async fn garbled_answers_are_errors_not_panics() {
        /// Makes a bad datagram from the query and the good answer.
        type Garble = fn(&[u8], Vec<u8>) -> Vec<u8>;
        let garbles: [Garble; 3] = [
            |_, mut good| {
                good.pop();
                good
            },
            |query, _| query.to_vec(),
            |_, mut good| {
                good[12] = 0x80; // a reserved label type
                good
            },
        ];
        for garble in garbles {
            let address = garbling_server(garble);
            let started = std::time::Instant::now();
            let found = resolve("db.example.com", address, Duration::from_secs(5)).await;
            assert!(
                matches!(&found, Err(DnsError::Io(why)) if why.contains("protocol error")),
                "{found:?}"
            );
            assert!(started.elapsed() < Duration::from_secs(2));
        }
    }

    /// A server answering each A question with `rcode` and `records`,
    /// and never answering AAAA questions.
    fn a_only_server(rcode: u8, records: &'static [[u8; 4]]) -> SocketAddr {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = server.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((len, peer)) = server.recv_from(&mut buf) {
                let query = &buf[..len];
                if question(query).1 == TYPE_A {
                    let _ = server.send_to(&response(query, rcode, records), peer);
                }
            }
        });
        address
    }

    #[tokio::test]
    async fn an_unanswered_aaaa_question_keeps_the_a_records() {
        let address = a_only_server(0, &[[10, 9, 0, 8]]);
        let found = resolve("db.example.com", address, Duration::from_millis(400)).await;
        assert_eq!(found, Ok(vec![IpAddr::from([10, 9, 0, 8])]));
    }

    #[tokio::test]
    async fn nxdomain_ends_the_lookup_at_once() {
        let address = a_only_server(RCODE_NXDOMAIN, &[]);
        let started = std::time::Instant::now();
        let found = resolve("gone.example.com", address, Duration::from_secs(10)).await;
        assert_eq!(found, Err(DnsError::NxDomain));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn other_error_codes_are_named() {
        let address = a_only_server(2, &[]);
        let found = resolve("db.example.com", address, Duration::from_millis(400)).await;
        assert_eq!(found, Err(DnsError::Server(2)));
    }

    #[tokio::test]
    async fn silence_is_a_timeout() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = server.local_addr().unwrap();
        let started = std::time::Instant::now();
        let result = resolve("db.example.com", address, Duration::from_millis(300)).await;
        assert_eq!(result, Err(DnsError::Timeout(Duration::from_millis(300))));
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(server);
    }
}
