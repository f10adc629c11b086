//! A minimal DNS stub resolver for one job: asking a chosen server, over
//! UDP, which addresses a host name has (A and AAAA), the way `dig @server
//! name` would. The troubleshooting guide's "Test DNS resolution" step
//! needs to ask a particular resolver (the VPC's, or one the user names),
//! which the system's resolver cannot be told to do.
//!
//! It sends a recursive query (RD set) and reads the answer section; CNAME
//! chains are followed by the server, so every A and AAAA record of the
//! answer counts. No caching, no TCP fallback (a truncated answer keeps
//! the records it carries), no DNSSEC.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

/// The standard DNS port.
pub const PORT: u16 = 53;

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
const FLAG_RESPONSE: u16 = 0x8000;
const FLAG_RECURSION_DESIRED: u16 = 0x0100;
const RCODE_NXDOMAIN: u8 = 3;
/// Answers to a question about one name fit easily; larger datagrams are
/// not expected without EDNS.
const MAX_DATAGRAM: usize = 4096;

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
/// Each question is asked again once if the first datagram goes
/// unanswered; the whole lookup ends after `timeout`.
pub async fn resolve(
    name: &str,
    server: SocketAddr,
    timeout: Duration,
) -> Result<Vec<IpAddr>, DnsError> {
    let id_a = fastrand::u16(..);
    let id_aaaa = id_a.wrapping_add(1);
    let query_a = encode_query(id_a, name, TYPE_A)?;
    let query_aaaa = encode_query(id_aaaa, name, TYPE_AAAA)?;

    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let io = |e: std::io::Error| DnsError::Io(format!("asking {server}: {e}"));
    let socket = UdpSocket::bind(local).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;

    let deadline = Instant::now() + timeout;
    let resend_at = Instant::now() + timeout / 2;
    let mut resent = false;
    let mut a: Option<Answer> = None;
    let mut aaaa: Option<Answer> = None;
    socket.send(&query_a).await.map_err(io)?;
    socket.send(&query_aaaa).await.map_err(io)?;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while a.is_none() || aaaa.is_none() {
        let wake = if resent { deadline } else { resend_at };
        let received = tokio::time::timeout_at(wake, socket.recv(&mut buf)).await;
        let len = match received {
            Ok(Ok(len)) => len,
            // A refused port shows up as an error on a connected socket.
            Ok(Err(e)) => return Err(io(e)),
            Err(_) if !resent => {
                resent = true;
                if a.is_none() {
                    socket.send(&query_a).await.map_err(io)?;
                }
                if aaaa.is_none() {
                    socket.send(&query_aaaa).await.map_err(io)?;
                }
                continue;
            }
            // Some servers never answer AAAA questions: one answer is enough.
            Err(_) if a.is_some() || aaaa.is_some() => break,
            Err(_) => return Err(DnsError::Timeout(timeout)),
        };
        // Anything that is not an answer to one of our questions (stale,
        // spoofed or garbled datagrams) is ignored.
        let Ok(answer) = parse_response(buf.get(..len).unwrap_or_default()) else {
            continue;
        };
        // A name that does not exist has no record of any type.
        if answer.rcode == RCODE_NXDOMAIN && (answer.id == id_a || answer.id == id_aaaa) {
            return Err(DnsError::NxDomain);
        }
        if answer.id == id_a && a.is_none() {
            a = Some(answer);
        } else if answer.id == id_aaaa && aaaa.is_none() {
            aaaa = Some(answer);
        }
    }
    let mut addresses = Vec::new();
    for answer in [a, aaaa].into_iter().flatten() {
        match answer.rcode {
            0 => addresses.extend(answer.addresses),
            other => return Err(DnsError::Server(other)),
        }
    }
    addresses.sort_by_key(|a| a.is_ipv6());
    addresses.dedup();
    Ok(addresses)
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

/// A query for one name and type, recursion desired.
fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, DnsError> {
    check_host_name(name).map_err(DnsError::InvalidName)?;
    let mut out = Vec::with_capacity(18 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&FLAG_RECURSION_DESIRED.to_be_bytes());
    // One question, no answer, authority or additional records.
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        // check_host_name bounds every label to 63 bytes.
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(out)
}

/// What a response says, as far as this resolver cares.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    id: u16,
    rcode: u8,
    addresses: Vec<IpAddr>,
}

/// Reads a response: its id, its code and the A and AAAA records of its
/// answer section. Anything malformed is an error, never a panic.
fn parse_response(msg: &[u8]) -> Result<Answer, &'static str> {
    let mut r = Reader { msg, at: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    if flags & FLAG_RESPONSE == 0 {
        return Err("not a response");
    }
    let questions = r.u16()?;
    let answers = r.u16()?;
    r.skip(4)?; // authority and additional counts
    for _ in 0..questions {
        r.skip_name()?;
        r.skip(4)?; // type and class
    }
    let mut addresses = Vec::new();
    for _ in 0..answers {
        r.skip_name()?;
        let rtype = r.u16()?;
        let class = r.u16()?;
        r.skip(4)?; // TTL
        let len = usize::from(r.u16()?);
        let data = r.take(len)?;
        match (rtype, class, data.len()) {
            (TYPE_A, CLASS_IN, 4) => {
                let octets: [u8; 4] = data.try_into().map_err(|_| "bad A record")?;
                addresses.push(IpAddr::from(octets));
            }
            (TYPE_AAAA, CLASS_IN, 16) => {
                let octets: [u8; 16] = data.try_into().map_err(|_| "bad AAAA record")?;
                addresses.push(IpAddr::from(octets));
            }
            _ => {}
        }
    }
    Ok(Answer {
        id,
        rcode: (flags & 0x000f) as u8,
        addresses,
    })
}

/// A bounds-checked cursor over a message.
struct Reader<'a> {
    msg: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.at.checked_add(n).ok_or("length overflow")?;
        let bytes = self.msg.get(self.at..end).ok_or("message cut short")?;
        self.at = end;
        Ok(bytes)
    }

    fn skip(&mut self, n: usize) -> Result<(), &'static str> {
        self.take(n).map(|_| ())
    }

    fn u16(&mut self) -> Result<u16, &'static str> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Skips a name in place: labels up to the root, or up to a
    /// compression pointer (which ends the name here).
    fn skip_name(&mut self) -> Result<(), &'static str> {
        loop {
            let len = self.take(1)?[0];
            match len {
                0 => return Ok(()),
                l if l & 0xc0 == 0xc0 => return self.skip(1),
                l if l & 0xc0 == 0 => self.skip(usize::from(l))?,
                _ => return Err("unknown label type"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A response to `query` carrying the given A records, the question
    /// echoed and each answer's name compressed to point at it.
    fn response(query: &[u8], rcode: u8, records: &[[u8; 4]]) -> Vec<u8> {
        let mut out = query[..2].to_vec();
        out.extend_from_slice(&(0x8180u16 | u16::from(rcode)).to_be_bytes());
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&(records.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&query[12..]);
        for ip in records {
            out.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            out.extend_from_slice(ip);
        }
        out
    }

    #[test]
    fn queries_carry_the_name_as_labels() {
        let q = encode_query(0x1234, "db.example.com.", TYPE_A).unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x02db\x07example\x03com\x00\x00\x01\x00\x01");
    }

    #[test]
    fn responses_give_their_addresses() {
        let q = encode_query(7, "db.example.com", TYPE_A).unwrap();
        let answer = parse_response(&response(&q, 0, &[[10, 1, 2, 3], [10, 1, 3, 4]])).unwrap();
        assert_eq!(answer.id, 7);
        assert_eq!(answer.rcode, 0);
        assert_eq!(
            answer.addresses,
            vec![IpAddr::from([10, 1, 2, 3]), IpAddr::from([10, 1, 3, 4])]
        );
        let nx = parse_response(&response(&q, RCODE_NXDOMAIN, &[])).unwrap();
        assert_eq!(nx.rcode, RCODE_NXDOMAIN);
    }

    #[test]
    fn malformed_responses_are_errors_not_panics() {
        let q = encode_query(7, "db.example.com", TYPE_A).unwrap();
        let good = response(&q, 0, &[[10, 1, 2, 3]]);
        for cut in 0..good.len() {
            let _ = parse_response(&good[..cut]);
        }
        assert!(parse_response(&good[..good.len() - 1]).is_err());
        assert!(parse_response(&q).is_err(), "a query is not a response");
        let mut looping = good.clone();
        looping[12] = 0x80; // reserved label type
        assert!(parse_response(&looping).is_err());
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

    #[tokio::test]
    async fn resolves_against_a_server_and_ignores_strangers() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let address = server.local_addr().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            for _ in 0..2 {
                let Ok((len, peer)) = server.recv_from(&mut buf) else {
                    return;
                };
                let query = &buf[..len];
                let qtype = u16::from_be_bytes([query[len - 4], query[len - 3]]);
                // A stray datagram with another id first: ignored.
                let mut stray = response(query, 0, &[[192, 0, 2, 1]]);
                stray[0] ^= 0xff;
                let _ = server.send_to(&stray, peer);
                let records: &[[u8; 4]] = if qtype == TYPE_A {
                    &[[10, 9, 0, 7]]
                } else {
                    &[]
                };
                let _ = server.send_to(&response(query, 0, records), peer);
            }
        });
        let found = resolve("db.example.com", address, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(found, vec![IpAddr::from([10, 9, 0, 7])]);
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
                if u16::from_be_bytes([query[len - 4], query[len - 3]]) == TYPE_A {
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
