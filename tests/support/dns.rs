//! A small DNS server on loopback (UDP and TCP on one port) for tests that
//! need a name to resolve: this machine resolves nothing. It answers A
//! questions from its table, NOERROR with no records for other types of a
//! known name, and NXDOMAIN for unknown names. Written from RFC 1035
//! independently of the resolver the provider uses, so the two check each
//! other.
//!
//! On demand ([`DnsServer::truncate_udp`]) it emulates a server whose
//! answer does not fit in a UDP datagram (more records than the 512 bytes
//! a datagram without EDNS may carry, RFC 1035 section 4.2.1): over UDP it
//! answers with the TC bit set and no records, and only over TCP with the
//! whole answer, which a client must then ask for (RFC 7766 section 5).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How a question reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// One question the server was asked: how, for which name, of which type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asked {
    pub transport: Transport,
    pub name: String,
    pub qtype: u16,
}

#[derive(Clone)]
pub struct DnsServer {
    pub address: SocketAddr,
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    records: Mutex<HashMap<String, Vec<Ipv4Addr>>>,
    truncate_udp: AtomicBool,
    asked: Mutex<Vec<Asked>>,
}

impl DnsServer {
    /// Starts a server on a free loopback port, UDP and TCP; it runs on
    /// threads of its own until the test process ends.
    pub fn start() -> DnsServer {
        let (socket, listener) = bind_both();
        let address = socket.local_addr().expect("DNS server address");
        let state: Arc<State> = Arc::default();
        let udp_state = state.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            loop {
                let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(answer) = udp_state.answer(&buf[..len], Transport::Udp) {
                    let _ = socket.send_to(&answer, peer);
                }
            }
        });
        let tcp_state = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = tcp_state.clone();
                std::thread::spawn(move || serve_tcp(stream, &state));
            }
        });
        DnsServer { address, state }
    }

    /// Serves `name` (without the final dot) with these A records.
    pub fn add(&self, name: &str, addresses: &[Ipv4Addr]) {
        self.state
            .records
            .lock()
            .unwrap()
            .insert(name.to_ascii_lowercase(), addresses.to_vec());
    }

    /// From now on, answers over UDP are truncated (TC set, no records)
    /// and only TCP gives the records; `false` goes back to whole UDP
    /// answers.
    pub fn truncate_udp(&self, truncate: bool) {
        self.state.truncate_udp.store(truncate, Ordering::SeqCst);
    }

    /// The questions asked so far, in order.
    pub fn asked(&self) -> Vec<Asked> {
        self.state.asked.lock().unwrap().clone()
    }

    /// The address as the diagnostics data source's `dns_server` takes it.
    pub fn server(&self) -> String {
        self.address.to_string()
    }
}

/// A UDP socket and a TCP listener on the same free loopback port.
fn bind_both() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the test DNS server");
        let address = socket.local_addr().expect("DNS server address");
        if let Ok(listener) = TcpListener::bind(address) {
            return (socket, listener);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

/// Answers the length-prefixed queries of one TCP connection until the
/// client closes it.
fn serve_tcp(mut stream: TcpStream, state: &State) {
    loop {
        let mut length = [0u8; 2];
        if stream.read_exact(&mut length).is_err() {
            return;
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(length))];
        if stream.read_exact(&mut query).is_err() {
            return;
        }
        let Some(answer) = state.answer(&query, Transport::Tcp) else {
            return;
        };
        let mut framed = (answer.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&answer);
        if stream.write_all(&framed).is_err() {
            return;
        }
    }
}

impl State {
    /// The answer to one query, or `None` for messages that are not one.
    fn answer(&self, query: &[u8], transport: Transport) -> Option<Vec<u8>> {
        if query.len() < 12 || query[2] & 0x80 != 0 {
            return None;
        }
        // The question: labels up to the root, then type and class.
        let mut labels = Vec::new();
        let mut at = 12;
        loop {
            let len = *query.get(at)? as usize;
            at += 1;
            if len == 0 {
                break;
            }
            labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_ascii_lowercase());
            at += len;
        }
        let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
        let question_end = at + 4;
        let question = query.get(12..question_end)?;
        let name = labels.join(".");
        self.asked.lock().unwrap().push(Asked {
            transport,
            name: name.clone(),
            qtype,
        });

        let table = self.records.lock().unwrap();
        let (rcode, records): (u8, &[Ipv4Addr]) = match table.get(&name) {
            None => (3, &[]),
            Some(addresses) if qtype == 1 => (0, addresses),
            Some(_) => (0, &[]),
        };
        let truncated = transport == Transport::Udp && self.truncate_udp.load(Ordering::SeqCst);
        let records = if truncated { &[] } else { records };
        let mut out = Vec::new();
        out.extend_from_slice(&query[..2]);
        // Response, recursion desired (and TC when truncated), then
        // recursion available and the code.
        out.extend_from_slice(&[if truncated { 0x83 } else { 0x81 }, 0x80 | rcode]);
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&(records.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(question);
        for ip in records {
            // Name: a pointer to the question's; type A, class IN, TTL 60.
            out.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            out.extend_from_slice(&ip.octets());
        }
        Some(out)
    }
}
