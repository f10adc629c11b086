//! The provider's resolver against the loopback DNS stand-in, over the
//! network as the diagnostics data source asks it: a plain answer comes
//! over UDP, and an answer too large for a datagram is asked again over
//! TCP.

use crate::support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use support::dns::{DnsServer, Transport};
use terraform_provider_planetscale::dns;

const TYPE_A: u16 = 1;

/// Twenty addresses: more than a datagram without EDNS carries comfortably.
fn many_addresses() -> Vec<Ipv4Addr> {
    (1..=20).map(|i| Ipv4Addr::new(10, 64, 0, i)).collect()
}

#[tokio::test]
async fn a_plain_answer_comes_over_udp() {
    let server = DnsServer::start();
    server.add("db.dns-udp.example.test", &[Ipv4Addr::new(10, 64, 1, 1)]);
    let found = dns::resolve(
        "db.dns-udp.example.test",
        server.address,
        Duration::from_secs(3),
    )
    .await;
    assert_eq!(found, Ok(vec![IpAddr::from([10, 64, 1, 1])]));
    assert!(
        server.asked().iter().all(|a| a.transport == Transport::Udp),
        "{:?}",
        server.asked()
    );
}

#[tokio::test]
async fn a_truncated_udp_answer_is_asked_again_over_tcp() {
    let server = DnsServer::start();
    server.add("db.dns-tcp.example.test", &many_addresses());
    server.truncate_udp(true);
    let found = dns::resolve(
        "db.dns-tcp.example.test",
        server.address,
        Duration::from_secs(3),
    )
    .await;
    let expected: Vec<IpAddr> = many_addresses().into_iter().map(IpAddr::from).collect();
    assert_eq!(found, Ok(expected));
    let a_questions: Vec<Transport> = server
        .asked()
        .into_iter()
        .filter(|a| a.qtype == TYPE_A)
        .map(|a| a.transport)
        .collect();
    assert_eq!(
        a_questions.first(),
        Some(&Transport::Udp),
        "{a_questions:?}"
    );
    assert!(
        a_questions.contains(&Transport::Tcp),
        "the truncated answer was not asked again over TCP: {a_questions:?}"
    );
}
