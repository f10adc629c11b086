//! moto in server mode, one per test process, on a free loopback port,
//! behind the strict EC2 layer (`strict.rs`), which refuses what EC2 refuses
//! and moto forgives.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_ec2::config::{BehaviorVersion, Credentials, Region};

use super::strict::Strict;

pub struct Emulator {
    /// moto's own port.
    pub port: u16,
    /// The strict layer in front of moto: what tests, the provider and the
    /// fault proxy talk to.
    pub url: String,
    /// moto itself, for the rare call that must bypass the strict layer:
    /// playing PlanetScale's side, or planting state EC2 would not let a
    /// client make.
    pub raw_url: String,
    pub strict: Strict,
    /// The wrapper that runs moto, which ends moto when its stdin closes:
    /// with this process, or at [`Emulator::stop`].
    child: std::sync::Mutex<Option<Child>>,
}

/// Where `scripts/setup-emulator.sh` installs moto.
pub fn venv() -> PathBuf {
    std::env::var_os("PLANETSCALE_EMULATOR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"))
}

pub fn python() -> PathBuf {
    venv().join("bin/python")
}

impl Emulator {
    /// The emulator shared by every test of this process. Tests keep out of
    /// each other's way by working in VPCs of their own.
    pub fn shared() -> &'static Emulator {
        static SHARED: OnceLock<Emulator> = OnceLock::new();
        SHARED.get_or_init(Emulator::start)
    }

    pub fn start() -> Emulator {
        let server = venv().join("bin/moto_server");
        assert!(
            server.exists(),
            "the EC2 emulator is not installed at {}.\nInstall it with: scripts/setup-emulator.sh",
            server.display()
        );
        // A free port may be taken by another process between the check and
        // moto's bind (test binaries run side by side, each with listeners of
        // its own); moto then exits, and whatever holds the port is not moto.
        // So the port counts only once moto itself answers on it.
        let mut attempt = 0;
        let (port, child) = loop {
            attempt += 1;
            let port = free_port();
            let child = spawn_moto(&server, port);
            if moto_answers(port, Duration::from_secs(60)) {
                break (port, child);
            }
            drop(child);
            assert!(
                attempt < 3,
                "the emulator did not answer on a free loopback port in 3 tries (last 127.0.0.1:{port})"
            );
        };
        let raw_url = format!("http://127.0.0.1:{port}");
        let strict = Strict::start(&raw_url);
        Emulator {
            port,
            url: strict.url.clone(),
            raw_url,
            strict,
            child: std::sync::Mutex::new(Some(child)),
        }
    }

    /// Ends moto now (its wrapper's stdin closes), for a caller that starts
    /// emulators of its own and is done with this one.
    pub fn stop(&self) {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// The tests' own EC2 client, for fixtures (the user's network, made
    /// long before the provider runs) and for checking what exists. It goes
    /// to moto directly: the strict layer judges the provider, and a test's
    /// check must see what is there, not miss a new group the way a client
    /// right after the create does. `ec2_client(&emulator.url)` goes through
    /// the layer.
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        ec2_client(&self.raw_url)
    }

    /// The tests' own Route 53 client, to moto directly, as [`ec2`](Self::ec2).
    pub fn route53(&self) -> aws_sdk_route53::Client {
        route53_client(&self.raw_url)
    }

    /// Plays PlanetScale's side: an endpoint service (behind a network load
    /// balancer in a VPC of its own) that endpoints can connect to. Returns
    /// its service name. It is PlanetScale's account, not the user's, so it
    /// goes to moto directly.
    pub fn create_endpoint_service(&self, private_dns_name: Option<&str>) -> String {
        self.endpoint_service(private_dns_name, false)
    }

    /// An endpoint service whose owner must accept each connection, as a
    /// PlanetScale branch may.
    pub fn create_endpoint_service_requiring_acceptance(&self, private_dns_name: &str) -> String {
        self.endpoint_service(Some(private_dns_name), true)
    }

    fn endpoint_service(&self, private_dns_name: Option<&str>, acceptance: bool) -> String {
        let mut cmd = Command::new(python());
        cmd.arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/emulator-service.py"))
            .args(["--endpoint", &self.raw_url]);
        if acceptance {
            cmd.arg("--acceptance-required");
        }
        if let Some(name) = private_dns_name {
            cmd.args(["--private-dns-name", name]);
        }
        let out = cmd
            .envs(super::isolated_aws_env())
            .output()
            .expect("run emulator-service.py");
        assert!(
            out.status.success(),
            "emulator-service.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    }
}

/// An EC2 client for the emulator (or a proxy in front of it) at `url`.
/// Starts moto on `port` behind a shell that stops it when this process's
/// end of its stdin closes (whenever the test process ends, or the child is
/// dropped).
fn spawn_moto(server: &std::path::Path, port: u16) -> std::process::Child {
    let script = format!(
        "\"$1\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; \
         echo started; cat >/dev/null; kill $pid 2>/dev/null; wait $pid 2>/dev/null"
    );
    let mut child = Command::new("sh")
        .args(["-c", &script, "sh"])
        .arg(server)
        .envs(super::isolated_aws_env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start moto_server");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read from the emulator wrapper");
    child
}

/// Whether moto answers on `port` within `limit`: its dashboard's data
/// (`/moto-api/data.json`) comes back as JSON with status 200. A listener
/// of another process on the port fails this at once or never answers.
fn moto_answers(port: u16, limit: Duration) -> bool {
    use std::io::{Read, Write};
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let asked = tcp.write_all(
                b"GET /moto-api/data.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let mut answer = Vec::new();
            if asked.is_ok() && tcp.read_to_end(&mut answer).is_ok() {
                let text = String::from_utf8_lossy(&answer);
                let ok = text.starts_with("HTTP/1.1 200") || text.starts_with("HTTP/1.0 200");
                if ok
                    && text
                        .split("\r\n\r\n")
                        .nth(1)
                        .is_some_and(|b| b.trim_start().starts_with('{'))
                {
                    return true;
                }
                // Something else holds the port.
                return false;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

pub fn ec2_client(url: &str) -> aws_sdk_ec2::Client {
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIATESTINGFIXTURES",
            "fixtures",
            None,
            None,
            "tests",
        ))
        .endpoint_url(url)
        .build();
    aws_sdk_ec2::Client::from_conf(config)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free loopback port")
}

/// Fixtures built through the SDK, as a user's existing network would be.
pub struct Network {
    pub vpc_id: String,
    pub cidr: String,
    pub subnet_ids: Vec<String>,
}

/// A VPC with an Amazon-provided IPv6 block and two subnets with an IPv4
/// and an IPv6 block each, in us-east-1a and b; returns it and the
/// subnets' IPv6 blocks.
pub async fn create_dual_stack_network(
    ec2: &aws_sdk_ec2::Client,
    octet: u8,
) -> (Network, Vec<String>) {
    let vpc = ec2
        .create_vpc()
        .cidr_block(format!("10.{octet}.0.0/16"))
        .amazon_provided_ipv6_cidr_block(true)
        .send()
        .await
        .expect("CreateVpc")
        .vpc()
        .cloned()
        .unwrap();
    let vpc_id = vpc.vpc_id().unwrap().to_owned();
    let block: ipnet::Ipv6Net = vpc.ipv6_cidr_block_association_set()[0]
        .ipv6_cidr_block()
        .expect("an IPv6 block")
        .parse()
        .unwrap();
    for attribute in ["hostnames", "support"] {
        let on = aws_sdk_ec2::types::AttributeBooleanValue::builder()
            .value(true)
            .build();
        let req = ec2.modify_vpc_attribute().vpc_id(&vpc_id);
        let req = if attribute == "hostnames" {
            req.enable_dns_hostnames(on)
        } else {
            req.enable_dns_support(on)
        };
        req.send().await.expect("ModifyVpcAttribute");
    }
    let mut subnet_ids = Vec::new();
    let mut v6 = Vec::new();
    for (i, zone) in ["us-east-1a", "us-east-1b"].iter().enumerate() {
        let block6 = block.subnets(64).unwrap().nth(i).unwrap().to_string();
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.{octet}.{i}.0/24"))
            .ipv6_cidr_block(&block6)
            .availability_zone(*zone)
            .send()
            .await
            .expect("CreateSubnet");
        subnet_ids.push(subnet.subnet().unwrap().subnet_id().unwrap().to_owned());
        v6.push(block6);
    }
    (
        Network {
            vpc_id,
            cidr: format!("10.{octet}.0.0/16"),
            subnet_ids,
        },
        v6,
    )
}

/// A Route 53 client for the emulator (or a layer in front of it) at `url`.
pub fn route53_client(url: &str) -> aws_sdk_route53::Client {
    let config = aws_sdk_route53::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_route53::config::Credentials::new(
            "AKIATESTINGFIXTURES",
            "fixtures",
            None,
            None,
            "tests",
        ))
        .endpoint_url(url)
        .build();
    aws_sdk_route53::Client::from_conf(config)
}

pub async fn create_network(
    ec2: &aws_sdk_ec2::Client,
    second_octet: u8,
    zones: &[&str],
) -> Network {
    let cidr = format!("10.{second_octet}.0.0/16");
    let vpc = ec2
        .create_vpc()
        .cidr_block(&cidr)
        .send()
        .await
        .expect("CreateVpc");
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    for attribute in ["hostnames", "support"] {
        let mut req = ec2.modify_vpc_attribute().vpc_id(&vpc_id);
        let on = aws_sdk_ec2::types::AttributeBooleanValue::builder()
            .value(true)
            .build();
        req = if attribute == "hostnames" {
            req.enable_dns_hostnames(on)
        } else {
            req.enable_dns_support(on)
        };
        req.send().await.expect("ModifyVpcAttribute");
    }
    let mut subnet_ids = Vec::new();
    for (i, zone) in zones.iter().enumerate() {
        let subnet = ec2
            .create_subnet()
            .vpc_id(&vpc_id)
            .cidr_block(format!("10.{second_octet}.{i}.0/24"))
            .availability_zone(*zone)
            .send()
            .await
            .expect("CreateSubnet");
        subnet_ids.push(
            subnet
                .subnet()
                .and_then(|s| s.subnet_id())
                .expect("subnet id")
                .to_owned(),
        );
    }
    Network {
        vpc_id,
        cidr,
        subnet_ids,
    }
}

/// A security group made as a careful client makes one: created, then read
/// until EC2 shows it (a new group is invisible to its first reads), so
/// that it stands ready like a group made long before the test.
pub async fn create_group(ec2: &aws_sdk_ec2::Client, vpc_id: &str, name: &str) -> String {
    let id = ec2
        .create_security_group()
        .vpc_id(vpc_id)
        .group_name(name)
        .description("test fixture")
        .send()
        .await
        .expect("CreateSecurityGroup")
        .group_id()
        .expect("group id")
        .to_owned();
    wait_for_group(ec2, &id).await;
    id
}

/// Reads a new group by id, and its rules, until both are visible.
pub async fn wait_for_group(ec2: &aws_sdk_ec2::Client, group_id: &str) {
    let filter = aws_sdk_ec2::types::Filter::builder()
        .name("group-id")
        .values(group_id)
        .build();
    for _ in 0..10 {
        let seen = ec2
            .describe_security_groups()
            .group_ids(group_id)
            .send()
            .await
            .is_ok();
        let rules = ec2
            .describe_security_group_rules()
            .filters(filter.clone())
            .send()
            .await
            .expect("DescribeSecurityGroupRules");
        if seen && !rules.security_group_rules().is_empty() {
            return;
        }
    }
    panic!("security group {group_id} stayed invisible through 10 reads");
}

/// Endpoints of a VPC in any state but `deleted`: what "nothing created"
/// and "nothing left" are checked against.
pub async fn live_endpoints(
    ec2: &aws_sdk_ec2::Client,
    vpc_id: &str,
) -> Vec<aws_sdk_ec2::types::VpcEndpoint> {
    ec2.describe_vpc_endpoints()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpc_id)
                .build(),
        )
        .send()
        .await
        .expect("DescribeVpcEndpoints")
        .vpc_endpoints()
        .iter()
        .filter(|e| {
            !e.state()
                .is_some_and(|s| s.as_str().eq_ignore_ascii_case("deleted"))
        })
        .cloned()
        .collect()
}
