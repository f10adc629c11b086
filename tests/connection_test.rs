//! `planetscale_privatelink_connection_test` with the real terraform,
//! against stand-ins on loopback: PostgreSQL servers that answer the
//! SSLRequest with `S` and TLS (a certificate from the test's own
//! authority), with `N`, or not at all; a port nothing listens on; a DNS
//! server that gives the test's names 127.0.0.1; and a VPC in the EC2
//! emulator whose blocks 127.0.0.1 is outside of. Each outcome is checked
//! in the data source's results and in the warning (or, with
//! `fail_on_error`, the error) that explains it, and every stand-in must
//! have seen nothing after the SSLRequest: no startup message, no user
//! name, no password.

use crate::support;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use support::dns::DnsServer;
use support::emulator::create_network;
use support::postgres::{Listener, Mode, TestCa, closed_port};
use support::{Emulator, Workspace};

/// PostgreSQL's SSLRequest, as the stand-ins must receive it.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
/// The name the TLS stand-in's certificate is for.
const DB_HOST: &str = "db.conntest.example";
/// Another name for the same server, which its certificate does not name.
const WRONG_HOST: &str = "wrong.conntest.example";
/// How long the silent stand-in's test may wait.
const SILENT_TIMEOUT: Duration = Duration::from_secs(2);

/// Every stand-in one test needs.
struct Bench {
    ca: TestCa,
    dns: DnsServer,
    tls: Listener,
    no_tls: Listener,
    silent: Listener,
    closed: u16,
    vpc_id: String,
    vpc_cidr: String,
}

fn bench(octet: u8) -> Bench {
    let ca = TestCa::new();
    let dns = DnsServer::start();
    for name in [DB_HOST, WRONG_HOST] {
        dns.add(name, &[Ipv4Addr::LOCALHOST]);
    }
    let tls = Listener::start(Mode::Tls(ca.server(&[DB_HOST])));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(
        &Emulator::shared().ec2(),
        octet,
        &["us-east-1a"],
    ));
    Bench {
        ca,
        dns,
        tls,
        no_tls: Listener::start(Mode::NoTls),
        silent: Listener::start(Mode::Silent),
        closed: closed_port(),
        vpc_id: network.vpc_id,
        vpc_cidr: network.cidr,
    }
}

impl Bench {
    /// One data source per outcome, each with its output.
    fn configuration(&self, fail_on_error: bool) -> String {
        let ca = self.ca.pem.trim_end();
        let common = format!(
            "  resolver       = \"{}\"\n  ca_certificate = <<-EOT\n{ca}\n  EOT\n  fail_on_error  = {fail_on_error}\n",
            self.dns.server()
        );
        let cases = [
            ("tls", DB_HOST, self.tls.port, "5s", String::new()),
            ("no_tls", DB_HOST, self.no_tls.port, "5s", String::new()),
            // A long timeout: the refusal must come at once.
            ("refused", DB_HOST, self.closed, "1m", String::new()),
            ("silent", DB_HOST, self.silent.port, "2s", String::new()),
            (
                "outside_vpc",
                DB_HOST,
                self.tls.port,
                "5s",
                format!("  vpc_id         = \"{}\"\n", self.vpc_id),
            ),
            ("wrong_name", WRONG_HOST, self.tls.port, "5s", String::new()),
        ];
        let mut out = format!(
            "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n\n",
            Workspace::required_providers(false)
        );
        for (name, host, port, timeout, extra) in cases {
            out.push_str(&format!(
                "data \"planetscale_privatelink_connection_test\" \"{name}\" {{\n  host           = \"{host}\"\n  ports          = [{port}]\n  timeout        = \"{timeout}\"\n{extra}{common}}}\n\noutput \"{name}\" {{\n  value = data.planetscale_privatelink_connection_test.{name}\n}}\n\n"
            ));
        }
        out
    }

    fn workspace(&self, fail_on_error: bool) -> Workspace {
        let ws = Workspace::new(Some(&Emulator::shared().url));
        ws.write("main.tf", &self.configuration(fail_on_error));
        ws.init();
        ws
    }

    /// Every connection the stand-ins saw opened with the SSLRequest and
    /// carried nothing after it.
    fn assert_nothing_after_the_ssl_request(&self) {
        let all: Vec<_> = [&self.tls, &self.no_tls, &self.silent]
            .iter()
            .flat_map(|l| l.connections())
            .collect();
        assert!(!all.is_empty());
        for c in &all {
            assert_eq!(c.first, SSL_REQUEST, "{c:?}");
            assert!(c.after.is_empty(), "bytes after the SSLRequest: {c:?}");
        }
    }
}

/// The one result of a single-port test output.
fn result(outputs: &Json, name: &str) -> Json {
    let results = outputs[name]["value"]["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {name}: {outputs:#}"));
    assert_eq!(results.len(), 1, "{name}: {results:#?}");
    results[0].clone()
}

fn flags(r: &Json) -> (bool, bool, bool) {
    (
        r["reachable"].as_bool().unwrap(),
        r["postgres"].as_bool().unwrap(),
        r["tls"].as_bool().unwrap(),
    )
}

#[test]
fn each_outcome_is_reported_with_its_fix() {
    let bench = bench(61);
    let ws = bench.workspace(false);
    let started = Instant::now();
    let run = ws.apply();
    let took = started.elapsed();
    let outputs = ws.outputs();
    let flat = run.flat();
    let value = |name: &str, attribute: &str| outputs[name]["value"][attribute].clone();

    // S, then TLS with a certificate for the host from ca_certificate.
    let tls = result(&outputs, "tls");
    assert_eq!(value("tls", "ok"), true, "{outputs:#}");
    assert_eq!(
        value("tls", "private"),
        true,
        "loopback stays on this machine"
    );
    assert_eq!(value("tls", "addresses"), serde_json::json!(["127.0.0.1"]));
    assert_eq!(flags(&tls), (true, true, true));
    assert_eq!(tls["address"], "127.0.0.1");
    assert_eq!(tls["port"], bench.tls.port);
    assert!(tls["latency_ms"].is_u64(), "{tls}");
    assert!(tls["error"].is_null(), "{tls}");
    assert!(
        !flat.contains("with data.planetscale_privatelink_connection_test.tls,"),
        "a passing test warns of nothing:\n{}",
        run.text()
    );
    let handshakes = bench.tls.connections();
    assert!(handshakes.iter().any(|c| c.handshake), "{handshakes:?}");

    // N: PostgreSQL, without TLS.
    let no_tls = result(&outputs, "no_tls");
    assert_eq!(value("no_tls", "ok"), false);
    assert_eq!(flags(&no_tls), (true, true, false));
    assert!(
        no_tls["error"]
            .as_str()
            .is_some_and(|e| e.contains("declined TLS")),
        "{no_tls}"
    );
    assert!(
        flat.contains("Warning: The server declined TLS with data.planetscale_privatelink_connection_test.no_tls,"),
        "{flat}"
    );

    // Nothing listens: refused, at once.
    let refused = result(&outputs, "refused");
    assert_eq!(value("refused", "ok"), false);
    assert_eq!(flags(&refused), (false, false, false));
    assert!(refused["latency_ms"].is_null());
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("refused") && e.contains("nothing listens")),
        "{refused}"
    );
    assert!(
        flat.contains(
            "Warning: Connection refused with data.planetscale_privatelink_connection_test.refused,"
        ),
        "{flat}"
    );
    assert!(
        took < Duration::from_secs(30),
        "the refused port's 1m timeout ran out: the apply took {took:?}"
    );

    // Accepted, never answered: given up at the timeout.
    let silent = result(&outputs, "silent");
    assert_eq!(value("silent", "ok"), false);
    assert_eq!(flags(&silent), (true, false, false));
    assert!(
        silent["error"]
            .as_str()
            .is_some_and(|e| e.contains("within 2s") && e.contains("SSLRequest")),
        "{silent}"
    );
    assert!(
        flat.contains(
            "Warning: No answer from PostgreSQL with data.planetscale_privatelink_connection_test.silent,"
        ),
        "{flat}"
    );
    let waited = bench.silent.connections();
    assert_eq!(waited.len(), 1, "{waited:?}");
    assert!(
        waited[0].open_for >= SILENT_TIMEOUT - Duration::from_millis(100)
            && waited[0].open_for < SILENT_TIMEOUT + Duration::from_secs(1),
        "the silent server's connection was held {:?}",
        waited[0].open_for
    );

    // A name outside vpc_id's blocks: connected, but not private.
    let outside = result(&outputs, "outside_vpc");
    assert_eq!(flags(&outside), (true, true, true));
    assert_eq!(value("outside_vpc", "private"), false);
    assert_eq!(value("outside_vpc", "ok"), false);
    assert!(
        flat.contains(
            "Warning: Host resolves outside the VPC with data.planetscale_privatelink_connection_test.outside_vpc,"
        ),
        "{flat}"
    );
    assert!(
        flat.contains(&format!(
            "{DB_HOST} resolves to 127.0.0.1, outside {}'s CIDR blocks ({})",
            bench.vpc_id, bench.vpc_cidr
        )) && flat.contains("private DNS is off"),
        "{flat}"
    );

    // The certificate does not name the host: the wrong host.
    let wrong = result(&outputs, "wrong_name");
    assert_eq!(flags(&wrong), (true, true, false));
    assert!(
        wrong["error"].as_str().is_some_and(
            |e| e.contains(&format!("not valid for {WRONG_HOST} (it names {DB_HOST})"))
        ),
        "{wrong}"
    );
    assert!(
        flat.contains("Warning: Certificate not valid for host with data.planetscale_privatelink_connection_test.wrong_name,"),
        "{flat}"
    );

    bench.assert_nothing_after_the_ssl_request();
}

#[test]
fn fail_on_error_turns_each_failure_into_an_error() {
    let bench = bench(62);
    let ws = bench.workspace(true);
    let run = ws.try_apply();
    assert!(!run.success(), "{}", run.text());
    let flat = run.flat();
    for (summary, name) in [
        ("The server declined TLS", "no_tls"),
        ("Connection refused", "refused"),
        ("No answer from PostgreSQL", "silent"),
        ("Host resolves outside the VPC", "outside_vpc"),
        ("Certificate not valid for host", "wrong_name"),
    ] {
        let expected =
            format!("Error: {summary} with data.planetscale_privatelink_connection_test.{name},");
        assert!(
            flat.contains(&expected),
            "{expected} missing:\n{}",
            run.text()
        );
    }
    assert!(
        !flat.contains("with data.planetscale_privatelink_connection_test.tls,"),
        "a passing test fails nothing:\n{}",
        run.text()
    );
    assert!(!flat.contains("Warning: "), "{}", run.text());
    bench.assert_nothing_after_the_ssl_request();
}

/// Hub and spoke: the spoke VPC resolves the host through a private zone
/// associated with it, whose alias names the hub's endpoint, and reaches
/// the hub over peering or a transit gateway. The addresses are outside
/// the spoke's blocks and inside the hub's: `private`, no warning. Here the
/// hub VPC is 127.0.0.0/16 (the stand-ins listen on loopback), with an
/// endpoint in the emulator, and the zone is made in the emulator's Route
/// 53 as `planetscale_privatelink_dns_zone` makes it.
#[test]
fn a_spoke_reaching_the_hub_endpoint_through_its_zone_is_private() {
    use aws_sdk_route53::types::{
        AliasTarget, Change, ChangeAction, ChangeBatch, HostedZoneConfig, ResourceRecordSet,
        RrType, Vpc, VpcRegion,
    };
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let route53 = emulator.route53();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ca = TestCa::new();
    let dns = DnsServer::start();
    let host = "db.spoke.conntest.example";
    dns.add(host, &[Ipv4Addr::LOCALHOST]);
    let tls = Listener::start(Mode::Tls(ca.server(&[host])));
    let service = emulator.create_endpoint_service(None);
    let (spoke, hub_endpoint) = rt.block_on(async {
        let spoke = create_network(&ec2, 63, &["us-east-1a"]).await;
        let hub = ec2
            .create_vpc()
            .cidr_block("127.0.0.0/16")
            .send()
            .await
            .unwrap()
            .vpc()
            .unwrap()
            .vpc_id()
            .unwrap()
            .to_owned();
        let subnet = ec2
            .create_subnet()
            .vpc_id(&hub)
            .cidr_block("127.0.1.0/24")
            .availability_zone("us-east-1a")
            .send()
            .await
            .unwrap()
            .subnet()
            .unwrap()
            .subnet_id()
            .unwrap()
            .to_owned();
        let endpoint = ec2
            .create_vpc_endpoint()
            .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
            .vpc_id(&hub)
            .service_name(&service)
            .subnet_ids(subnet)
            .private_dns_enabled(false)
            .send()
            .await
            .unwrap()
            .vpc_endpoint()
            .unwrap()
            .clone();
        (spoke, endpoint)
    });
    let regional = &hub_endpoint.dns_entries()[0];
    rt.block_on(async {
        let zone = route53
            .create_hosted_zone()
            .name(host)
            .caller_reference(support::unique("spoke"))
            .vpc(
                Vpc::builder()
                    .vpc_id(&spoke.vpc_id)
                    .vpc_region(VpcRegion::UsEast1)
                    .build(),
            )
            .hosted_zone_config(HostedZoneConfig::builder().private_zone(true).build())
            .send()
            .await
            .unwrap()
            .hosted_zone()
            .unwrap()
            .id()
            .to_owned();
        let alias = ResourceRecordSet::builder()
            .name(host)
            .r#type(RrType::A)
            .alias_target(
                AliasTarget::builder()
                    .dns_name(regional.dns_name().unwrap())
                    .hosted_zone_id(regional.hosted_zone_id().unwrap())
                    .evaluate_target_health(false)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        route53
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(
                ChangeBatch::builder()
                    .changes(
                        Change::builder()
                            .action(ChangeAction::Create)
                            .resource_record_set(alias)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    });

    let ws = Workspace::new(Some(&emulator.url));
    let ca_pem = ca.pem.trim_end();
    ws.write(
        "main.tf",
        &format!(
            "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n\ndata \"planetscale_privatelink_connection_test\" \"spoke\" {{\n  host           = \"{host}\"\n  ports          = [{}]\n  vpc_id         = \"{}\"\n  resolver       = \"{}\"\n  ca_certificate = <<-EOT\n{ca_pem}\n  EOT\n}}\n\noutput \"spoke\" {{\n  value = data.planetscale_privatelink_connection_test.spoke\n}}\n",
            Workspace::required_providers(false),
            tls.port,
            spoke.vpc_id,
            dns.server()
        ),
    );
    ws.init();
    let run = ws.apply();
    let outputs = ws.outputs();
    assert_eq!(outputs["spoke"]["value"]["private"], true, "{}", run.text());
    assert_eq!(outputs["spoke"]["value"]["ok"], true, "{}", run.text());
    assert!(!run.flat().contains("Warning:"), "{}", run.text());
}
