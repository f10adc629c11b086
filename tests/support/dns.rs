//! A small DNS server on loopback (UDP) for tests that need a name to
//! resolve: this machine resolves nothing. It answers A questions from its
//! table, NOERROR with no records for other types of a known name, and
//! NXDOMAIN for unknown names. Written from RFC 1035 independently of the
//! provider's resolver, so the two check each other.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct DnsServer {
    pub address: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<Ipv4Addr>>>>,
}

impl DnsServer {
    /// Starts a server on a free loopback port; it runs on its own thread
    /// until the test process ends.
    pub fn start() -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the test DNS server");
        let address = socket.local_addr().expect("DNS server address");
        let records: Arc<Mutex<HashMap<String, Vec<Ipv4Addr>>>> = Arc::default();
        let table = records.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            loop {
                let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(answer) = answer(&buf[..len], &table.lock().unwrap()) {
                    let _ = socket.send_to(&answer, peer);
                }
            }
        });
        DnsServer { address, records }
    }

    /// Serves `name` (without the final dot) with these A records.
    pub fn add(&self, name: &str, addresses: &[Ipv4Addr]) {
        self.records
            .lock()
            .unwrap()
            .insert(name.to_ascii_lowercase(), addresses.to_vec());
    }

    /// The address as the diagnostics data source's `dns_server` takes it.
    pub fn server(&self) -> String {
        self.address.to_string()
    }
}

/// The answer to one query, or `None` for datagrams that are not one.
fn answer(query: &[u8], table: &HashMap<String, Vec<Ipv4Addr>>) -> Option<Vec<u8>> {
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

    let (rcode, records): (u8, &[Ipv4Addr]) = match table.get(&name) {
        None => (3, &[]),
        Some(addresses) if qtype == 1 => (0, addresses),
        Some(_) => (0, &[]),
    };
    let mut out = Vec::new();
    out.extend_from_slice(&query[..2]);
    // Response, recursion desired and available, the code.
    out.extend_from_slice(&[0x81, 0x80 | rcode]);
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
