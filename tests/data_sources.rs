//! The data sources against the EC2 emulator with the real terraform:
//! `planetscale_privatelink_service` by name and through a stand-in for the
//! PlanetScale API (feeding an endpoint in one apply, failing distinctly,
//! keeping the token and the role's password out of logs and state), and
//! `planetscale_privatelink_diagnostics` on a healthy setup, on
//! least-privilege rules and network ACLs judged by the application hosts'
//! addresses, and on each kind of breakage the troubleshooting guide lists,
//! with names served by a DNS server on loopback; with `connection_test`,
//! against PostgreSQL stand-ins on loopback.

use crate::support;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    AddPrefixListEntry, AttributeBooleanValue, Filter, IpPermission, IpRange, PortRange,
    PrefixListId, RuleAction, UserIdGroupPair, VpcEndpointType,
};
use serde_json::Value as Json;
use support::dns::DnsServer;
use support::emulator::{Network, create_group, create_network};
use support::planetscale_api::{
    Behaviour, FakeApi, MAX_PER_PAGE, ROLE_PASSWORD, role_path, roles_page_path,
};
use support::postgres::{Listener, Mode, TestCa, closed_port};
use support::terraform::Run;
use support::{Emulator, Workspace};

const TOKEN_ID: &str = "pscale_tkn_id_datasources";
const TOKEN: &str = "pscale_tkn_SecretValueNeverInLogs0123456789";

/// PlanetScale's side, one endpoint service for every test of this file.
fn service() -> &'static str {
    static SERVICE: OnceLock<String> = OnceLock::new();
    SERVICE.get_or_init(|| {
        Emulator::shared().create_endpoint_service(Some("db.private.datasources.example"))
    })
}

fn provider_block(extra: &str) -> String {
    format!(
        "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n{extra}}}\n\n",
        Workspace::required_providers(false)
    )
}

/// The checks of a diagnostics output, by name: (status, detail).
fn checks(outputs: &Json, output: &str) -> BTreeMap<String, (String, String)> {
    outputs[output]["value"]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks in output {output}: {outputs:#}"))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                (
                    c["status"].as_str().unwrap().to_owned(),
                    c["detail"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

const CHECK_NAMES: [&str; 8] = [
    "endpoint_state",
    "security_group_ingress",
    "client_security_group_egress",
    "network_acls",
    "client_network_acls",
    "vpc_dns",
    "availability_zones",
    "dns_resolution",
];

/// The sentence a failing security group or network ACL check ends with.
const REACHABILITY_NOTE: &str = "A planetscale_privatelink_reachability_analysis from an application host's network interface (source) to this endpoint (endpoint_id) shows the whole path and the rule that blocks it.";

/// The `connection` checks of a diagnostics output, in order: (status,
/// detail).
fn connections(outputs: &Json, output: &str) -> Vec<(String, String)> {
    outputs[output]["value"]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks in output {output}: {outputs:#}"))
        .iter()
        .filter(|c| c["name"] == "connection")
        .map(|c| {
            (
                c["status"].as_str().unwrap().to_owned(),
                c["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------- diagnostics --

/// A network ACL entry to make: (rule number, egress, allow, block, TCP
/// ports); an IPv6 block makes an entry for every protocol.
type AclEntry<'a> = (i32, bool, bool, &'a str, (i32, i32));

/// A VPC 10.<octet>.0.0/16 with the endpoint's subnets in two zones
/// (10.<octet>.0.0/24, 10.<octet>.1.0/24) and the application's subnet in a
/// third (10.<octet>.2.0/24), the application's security group (EC2's
/// default egress: everything) with one host in it (10.<octet>.2.10), the
/// endpoint's group letting `ports` in from it, and an endpoint to
/// PlanetScale's service.
struct Setup {
    ec2: aws_sdk_ec2::Client,
    rt: tokio::runtime::Runtime,
    network: Network,
    octet: u8,
    client_group: String,
    endpoint_group: String,
    endpoint_id: String,
    app_subnet: String,
    dns: DnsServer,
}

fn setup(octet: u8, ports: &[i32]) -> Setup {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut network = rt.block_on(create_network(
        &ec2,
        octet,
        &["us-east-1a", "us-east-1b", "us-east-1c"],
    ));
    let app_subnet = network.subnet_ids.pop().expect("the application's subnet");
    let client_group = rt.block_on(create_group(&ec2, &network.vpc_id, &support::unique("app")));
    let endpoint_group = rt.block_on(create_group(&ec2, &network.vpc_id, &support::unique("db")));
    for port in ports {
        rt.block_on(
            ec2.authorize_security_group_ingress()
                .group_id(&endpoint_group)
                .ip_permissions(
                    IpPermission::builder()
                        .ip_protocol("tcp")
                        .from_port(*port)
                        .to_port(*port)
                        .user_id_group_pairs(
                            UserIdGroupPair::builder().group_id(&client_group).build(),
                        )
                        .build(),
                )
                .send(),
        )
        .expect("AuthorizeSecurityGroupIngress");
    }
    let endpoint_id = rt
        .block_on(
            ec2.create_vpc_endpoint()
                .vpc_endpoint_type(VpcEndpointType::Interface)
                .vpc_id(&network.vpc_id)
                .service_name(service())
                .set_subnet_ids(Some(network.subnet_ids.clone()))
                .security_group_ids(&endpoint_group)
                .private_dns_enabled(true)
                .send(),
        )
        .expect("CreateVpcEndpoint")
        .vpc_endpoint()
        .and_then(|e| e.vpc_endpoint_id())
        .expect("endpoint id")
        .to_owned();
    let dns = DnsServer::start();
    dns.add(
        &host(octet),
        &[
            Ipv4Addr::new(10, octet, 0, 50),
            Ipv4Addr::new(10, octet, 1, 50),
        ],
    );
    let s = Setup {
        ec2,
        rt,
        network,
        octet,
        client_group,
        endpoint_group,
        endpoint_id,
        app_subnet,
        dns,
    };
    s.add_client_host(&format!("10.{octet}.2.10"));
    s
}

fn host(octet: u8) -> String {
    format!("db{octet}.private.datasources.example")
}

impl Setup {
    /// A host of the application: a network interface in its subnet and
    /// security group.
    fn add_client_host(&self, address: &str) {
        self.rt
            .block_on(
                self.ec2
                    .create_network_interface()
                    .subnet_id(&self.app_subnet)
                    .private_ip_address(address)
                    .groups(&self.client_group)
                    .send(),
            )
            .expect("CreateNetworkInterface");
    }

    /// A managed prefix list of these IPv4 blocks.
    fn prefix_list(&self, blocks: &[&str]) -> String {
        let mut request = self
            .ec2
            .create_managed_prefix_list()
            .prefix_list_name(support::unique("blocks"))
            .address_family("IPv4")
            .max_entries(10);
        for block in blocks {
            request = request.entries(AddPrefixListEntry::builder().cidr(*block).build());
        }
        self.rt
            .block_on(request.send())
            .expect("CreateManagedPrefixList")
            .prefix_list()
            .and_then(|p| p.prefix_list_id())
            .expect("prefix list id")
            .to_owned()
    }

    /// A new network ACL of these entries, made the ACL of `subnets`.
    fn network_acl(&self, subnets: &[String], entries: &[AclEntry<'_>]) -> String {
        let acl = self
            .rt
            .block_on(
                self.ec2
                    .create_network_acl()
                    .vpc_id(&self.network.vpc_id)
                    .send(),
            )
            .expect("CreateNetworkAcl")
            .network_acl()
            .and_then(|a| a.network_acl_id())
            .expect("network ACL id")
            .to_owned();
        for (rule, egress, allow, block, (from, to)) in entries {
            self.acl_entry(&acl, *rule, *egress, *allow, block, (*from, *to));
        }
        let current = self
            .rt
            .block_on(
                self.ec2
                    .describe_network_acls()
                    .filters(
                        Filter::builder()
                            .name("association.subnet-id")
                            .set_values(Some(subnets.to_vec()))
                            .build(),
                    )
                    .send(),
            )
            .expect("DescribeNetworkAcls");
        let associations: Vec<String> = current
            .network_acls()
            .iter()
            .flat_map(|a| a.associations())
            .filter(|a| {
                a.subnet_id()
                    .is_some_and(|s| subnets.iter().any(|x| x == s))
            })
            .filter_map(|a| a.network_acl_association_id().map(str::to_owned))
            .collect();
        assert_eq!(associations.len(), subnets.len(), "{current:?}");
        for association in associations {
            self.rt
                .block_on(
                    self.ec2
                        .replace_network_acl_association()
                        .association_id(association)
                        .network_acl_id(&acl)
                        .send(),
                )
                .expect("ReplaceNetworkAclAssociation");
        }
        acl
    }

    fn acl_entry(
        &self,
        acl: &str,
        rule: i32,
        egress: bool,
        allow: bool,
        block: &str,
        ports: (i32, i32),
    ) {
        let mut request = self
            .ec2
            .create_network_acl_entry()
            .network_acl_id(acl)
            .rule_number(rule)
            .egress(egress)
            .rule_action(if allow {
                RuleAction::Allow
            } else {
                RuleAction::Deny
            });
        request = if block.contains(':') {
            request.ipv6_cidr_block(block).protocol("-1")
        } else {
            request
                .cidr_block(block)
                .protocol("6")
                .port_range(PortRange::builder().from(ports.0).to(ports.1).build())
        };
        self.rt
            .block_on(request.send())
            .expect("CreateNetworkAclEntry");
    }

    /// A diagnostics data source with every argument, and its output.
    fn full(&self, name: &str, private_host: &str) -> String {
        format!(
            "data \"planetscale_privatelink_diagnostics\" \"{name}\" {{\n  endpoint_id               = \"{}\"\n  client_security_group_ids = [\"{}\"]\n  private_host              = \"{private_host}\"\n  dns_server                = \"{}\"\n}}\n\noutput \"{name}\" {{\n  value = data.planetscale_privatelink_diagnostics.{name}\n}}\n\n",
            self.endpoint_id,
            self.client_group,
            self.dns.server()
        )
    }

    fn workspace(&self, body: &str) -> Workspace {
        let ws = Workspace::new(Some(&Emulator::shared().url));
        ws.write("main.tf", &format!("{}{body}", provider_block("")));
        ws.init();
        ws
    }

    /// Applies a full diagnostics data source `db` and returns the
    /// workspace, terraform's output and the checks found.
    fn diagnose(&self) -> (Workspace, Run, BTreeMap<String, (String, String)>, bool) {
        let ws = self.workspace(&self.full("db", &host(self.octet)));
        let run = ws.apply();
        let outputs = ws.outputs();
        let healthy = outputs["db"]["value"]["healthy"]
            .as_bool()
            .expect("healthy is known");
        (ws, run, checks(&outputs, "db"), healthy)
    }

    fn default_network_acl(&self) -> String {
        self.rt
            .block_on(
                self.ec2
                    .describe_network_acls()
                    .filters(
                        Filter::builder()
                            .name("vpc-id")
                            .values(&self.network.vpc_id)
                            .build(),
                    )
                    .filters(Filter::builder().name("default").values("true").build())
                    .send(),
            )
            .expect("DescribeNetworkAcls")
            .network_acls()
            .first()
            .and_then(|a| a.network_acl_id())
            .expect("the VPC's default network ACL")
            .to_owned()
    }
}

/// Warnings in terraform's output with this summary.
fn warnings(run: &Run, summary: &str) -> usize {
    run.flat().matches(&format!("Warning: {summary}")).count()
}

#[test]
fn diagnostics_pass_on_a_healthy_setup_and_judge_dns_answers() {
    let s = setup(51, &[5432, 6432]);
    s.dns.add(
        "stale51.private.datasources.example",
        &[Ipv4Addr::new(192, 168, 51, 5)],
    );
    s.dns.add(
        "public51.private.datasources.example",
        &[Ipv4Addr::new(203, 0, 113, 51)],
    );
    let minimal = format!(
        "data \"planetscale_privatelink_diagnostics\" \"minimal\" {{\n  endpoint_id = \"{}\"\n}}\n\noutput \"minimal\" {{\n  value = data.planetscale_privatelink_diagnostics.minimal\n}}\n",
        s.endpoint_id
    );
    let ws = s.workspace(&format!(
        "{}{}{}{minimal}",
        s.full("healthy", &host(51)),
        s.full("stale", "stale51.private.datasources.example"),
        s.full("public", "public51.private.datasources.example"),
    ));
    let run = ws.apply();
    let outputs = ws.outputs();

    // Everything given, everything right: every check passes.
    let healthy = checks(&outputs, "healthy");
    assert_eq!(healthy.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut names = CHECK_NAMES.to_vec();
        names.sort();
        names
    });
    for (name, (status, detail)) in &healthy {
        assert_eq!(status, "pass", "{name}: {detail}");
        assert!(
            !detail.contains("reachability_analysis"),
            "{name}: {detail}"
        );
    }
    assert_eq!(outputs["healthy"]["value"]["healthy"], true);
    assert!(
        healthy["dns_resolution"]
            .1
            .contains("10.51.0.50, 10.51.1.50"),
        "{:?}",
        healthy["dns_resolution"]
    );
    assert!(
        healthy["security_group_ingress"]
            .1
            .contains(&s.client_group)
    );
    assert!(
        healthy["availability_zones"]
            .1
            .contains("us-east-1a, us-east-1b")
    );
    // The network ACLs are judged for the application's host, on both
    // sides; its subnet is found through its network interface.
    assert!(
        healthy["network_acls"].1.contains("to 10.51.2.10 (")
            && healthy["network_acls"]
                .1
                .contains(&format!("network interfaces in {}", s.client_group)),
        "{:?}",
        healthy["network_acls"]
    );
    assert!(
        healthy["client_network_acls"].1.contains(&s.app_subnet)
            && healthy["client_network_acls"]
                .1
                .contains("the subnets of the application's network interfaces"),
        "{:?}",
        healthy["client_network_acls"]
    );

    // Only the endpoint: the default ports, and what cannot be checked
    // without the other arguments is a warning that says which to give.
    let minimal = checks(&outputs, "minimal");
    assert_eq!(outputs["minimal"]["value"]["healthy"], true);
    assert_eq!(
        outputs["minimal"]["value"]["ports"],
        serde_json::json!([5432, 6432])
    );
    for name in ["client_security_group_egress", "dns_resolution"] {
        assert_eq!(minimal[name].0, "warn", "{name}: {:?}", minimal[name]);
        assert!(
            minimal[name].1.starts_with("Not checked"),
            "{:?}",
            minimal[name]
        );
    }
    assert_eq!(minimal["security_group_ingress"].0, "pass");

    // A private address outside the VPC: the DNS check fails, and says so
    // as a warning naming the guide's step; the apply still succeeds.
    let stale = checks(&outputs, "stale");
    assert_eq!(outputs["stale"]["value"]["healthy"], false);
    assert_eq!(stale["dns_resolution"].0, "fail");
    assert!(
        stale["dns_resolution"].1.contains("192.168.51.5"),
        "{:?}",
        stale["dns_resolution"]
    );
    assert_eq!(
        warnings(
            &run,
            "Test DNS resolution: the private host does not resolve into the VPC"
        ),
        1,
        "{}",
        run.text()
    );
    assert!(run.flat().contains("192.168.51.5"));

    // A public address: Terraform probably runs outside the VPC, a warning.
    let public = checks(&outputs, "public");
    assert_eq!(outputs["public"]["value"]["healthy"], true);
    assert_eq!(public["dns_resolution"].0, "warn");
    assert!(
        public["dns_resolution"].1.contains("outside the VPC"),
        "{:?}",
        public["dns_resolution"]
    );
    assert!(
        public["dns_resolution"].1.contains("10.51.0.2:53"),
        "{:?}",
        public["dns_resolution"]
    );
    assert_eq!(warnings(&run, "Check"), 0, "{}", run.text());
}

#[test]
fn a_network_acl_entry_denying_5432_fails_naming_the_rule() {
    let s = setup(52, &[5432, 6432]);
    let acl = s.default_network_acl();
    s.rt.block_on(
        s.ec2
            .create_network_acl_entry()
            .network_acl_id(&acl)
            .rule_number(50)
            .protocol("6")
            .rule_action(RuleAction::Deny)
            .egress(false)
            .cidr_block("0.0.0.0/0")
            .port_range(PortRange::builder().from(5432).to(5432).build())
            .send(),
    )
    .expect("CreateNetworkAclEntry");
    let (ws, run, found, healthy) = s.diagnose();
    assert!(!healthy);
    let (status, detail) = &found["network_acls"];
    assert_eq!(status, "fail");
    assert!(detail.contains(&format!("{acl} (of ")), "{detail}");
    // Judged for the application's host, not the whole VPC.
    assert!(
        detail.contains("rule 50 denies inbound TCP 5432 from 10.52.2.10"),
        "{detail}"
    );
    assert!(
        !detail.contains("6432 from"),
        "only 5432 is denied: {detail}"
    );
    assert!(
        detail.ends_with(&format!(" {REACHABILITY_NOTE}")),
        "{detail}"
    );
    assert_eq!(
        warnings(
            &run,
            "Check NACLs: a network ACL of the endpoint's subnets blocks the connection"
        ),
        1,
        "{}",
        run.text()
    );
    // The application's subnet shares the VPC's default ACL: the answers
    // to its port 5432, inside the ephemeral range, are denied too.
    let (status, detail) = &found["client_network_acls"];
    assert_eq!(status, "warn", "{detail}");
    assert!(
        detail.contains("rule 50 denies part of inbound TCP 1024-65535 from"),
        "{detail}"
    );
    for name in CHECK_NAMES
        .iter()
        .filter(|n| !["network_acls", "client_network_acls"].contains(*n))
    {
        assert_eq!(found[*name].0, "pass", "{name}: {:?}", found[*name]);
    }

    // Read again on the next plan: with the entry gone, the check passes.
    s.rt.block_on(
        s.ec2
            .delete_network_acl_entry()
            .network_acl_id(&acl)
            .rule_number(50)
            .egress(false)
            .send(),
    )
    .expect("DeleteNetworkAclEntry");
    ws.apply();
    let outputs = ws.outputs();
    assert_eq!(checks(&outputs, "db")["network_acls"].0, "pass");
    assert_eq!(checks(&outputs, "db")["client_network_acls"].0, "pass");
    assert_eq!(outputs["db"]["value"]["healthy"], true);
}

#[test]
fn security_groups_without_6432_fail_naming_port_and_group() {
    // The endpoint's group lets 5432 in only; the application's group lets
    // 5432 out only (its allow-all egress replaced).
    let s = setup(53, &[5432]);
    let client = &s.client_group;
    let rules =
        s.rt.block_on(
            s.ec2
                .describe_security_group_rules()
                .filters(Filter::builder().name("group-id").values(client).build())
                .send(),
        )
        .unwrap();
    let egress: Vec<String> = rules
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(true))
        .filter_map(|r| r.security_group_rule_id().map(str::to_owned))
        .collect();
    s.rt.block_on(
        s.ec2
            .revoke_security_group_egress()
            .group_id(client)
            .set_security_group_rule_ids(Some(egress))
            .send(),
    )
    .expect("RevokeSecurityGroupEgress");
    s.rt.block_on(
        s.ec2
            .authorize_security_group_egress()
            .group_id(client)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(5432)
                    .to_port(5432)
                    .ip_ranges(IpRange::builder().cidr_ip(&s.network.cidr).build())
                    .build(),
            )
            .send(),
    )
    .expect("AuthorizeSecurityGroupEgress");

    let (_ws, run, found, healthy) = s.diagnose();
    assert!(!healthy);
    let (status, detail) = &found["security_group_ingress"];
    assert_eq!(status, "fail");
    assert!(
        detail.contains(&format!("TCP 6432 from {client}")),
        "{detail}"
    );
    assert!(detail.contains(&s.endpoint_group), "{detail}");
    // The analysis that shows the whole path ends each failing check.
    assert!(
        detail.ends_with(&format!(" {REACHABILITY_NOTE}")),
        "{detail}"
    );
    let (status, detail) = &found["client_security_group_egress"];
    assert_eq!(status, "fail");
    assert!(
        detail.contains(&format!("{client} does not let TCP 6432 out")),
        "{detail}"
    );
    assert!(
        detail.ends_with(&format!(" {REACHABILITY_NOTE}")),
        "{detail}"
    );
    assert!(
        run.flat()
            .contains("planetscale_privatelink_reachability_analysis"),
        "{}",
        run.text()
    );
    assert_eq!(
        warnings(
            &run,
            "Check security groups: the endpoint's security groups do not let the ports in"
        ),
        1,
        "{}",
        run.text()
    );
    assert_eq!(
        warnings(
            &run,
            "Check security groups: the application's security groups do not let the ports out"
        ),
        1,
        "{}",
        run.text()
    );
    for name in [
        "endpoint_state",
        "network_acls",
        "client_network_acls",
        "vpc_dns",
        "dns_resolution",
    ] {
        assert_eq!(found[name].0, "pass", "{name}: {:?}", found[name]);
    }
}

#[test]
fn a_vpc_without_dns_hostnames_fails_the_dns_check() {
    let s = setup(54, &[5432, 6432]);
    s.rt.block_on(
        s.ec2
            .modify_vpc_attribute()
            .vpc_id(&s.network.vpc_id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(false).build())
            .send(),
    )
    .expect("ModifyVpcAttribute");
    let (_ws, run, found, healthy) = s.diagnose();
    assert!(!healthy);
    let (status, detail) = &found["vpc_dns"];
    assert_eq!(status, "fail");
    assert!(
        detail.contains("DNS hostnames (enableDnsHostnames)")
            && !detail.contains("enableDnsSupport"),
        "{detail}"
    );
    assert!(detail.contains(&s.network.vpc_id), "{detail}");
    assert_eq!(
        warnings(
            &run,
            "Test DNS resolution: the VPC does not resolve the endpoint's private DNS name"
        ),
        1,
        "{}",
        run.text()
    );
}

#[test]
fn least_privilege_rules_and_network_acls_pass_judged_by_the_hosts_addresses() {
    // Nothing VPC-wide: the endpoint's group lets 5432 in from the one
    // host's address and 6432 from a prefix list of a small block; the
    // application's group lets the ports out to the endpoint's subnets only
    // (6432 through a prefix list); each side's subnets have a network ACL
    // allowing the other side's blocks only, and nothing else.
    let s = setup(60, &[]);
    let (o, client) = (s.octet, &s.client_group);
    let app_block = format!("10.{o}.2.0/28");
    let endpoint_block = format!("10.{o}.0.0/23");
    let apps = s.prefix_list(&[&app_block]);
    let endpoints = s.prefix_list(&[&format!("10.{o}.0.0/24"), &format!("10.{o}.1.0/24")]);
    let permission = |port: i32, cidr: Option<&str>, list: Option<&str>| {
        let mut p = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port);
        if let Some(cidr) = cidr {
            p = p.ip_ranges(IpRange::builder().cidr_ip(cidr).build());
        }
        if let Some(list) = list {
            p = p.prefix_list_ids(PrefixListId::builder().prefix_list_id(list).build());
        }
        p.build()
    };
    s.rt.block_on(
        s.ec2
            .authorize_security_group_ingress()
            .group_id(&s.endpoint_group)
            .ip_permissions(permission(5432, Some(&format!("10.{o}.2.10/32")), None))
            .ip_permissions(permission(6432, None, Some(&apps)))
            .send(),
    )
    .expect("AuthorizeSecurityGroupIngress");
    let rules =
        s.rt.block_on(
            s.ec2
                .describe_security_group_rules()
                .filters(Filter::builder().name("group-id").values(client).build())
                .send(),
        )
        .unwrap();
    let default_egress: Vec<String> = rules
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(true))
        .filter_map(|r| r.security_group_rule_id().map(str::to_owned))
        .collect();
    s.rt.block_on(
        s.ec2
            .revoke_security_group_egress()
            .group_id(client)
            .set_security_group_rule_ids(Some(default_egress))
            .send(),
    )
    .expect("RevokeSecurityGroupEgress");
    s.rt.block_on(
        s.ec2
            .authorize_security_group_egress()
            .group_id(client)
            .ip_permissions(permission(5432, Some(&endpoint_block), None))
            .ip_permissions(permission(6432, None, Some(&endpoints)))
            .send(),
    )
    .expect("AuthorizeSecurityGroupEgress");
    s.network_acl(
        &s.network.subnet_ids,
        &[
            (100, false, true, &app_block, (5432, 6432)),
            (100, true, true, &app_block, (1024, 65535)),
        ],
    );
    let app_acl = s.network_acl(
        std::slice::from_ref(&s.app_subnet),
        &[
            (100, true, true, &endpoint_block, (5432, 6432)),
            (100, false, true, &endpoint_block, (1024, 65535)),
            // IPv6 entries judge IPv6 traffic only.
            (1, true, false, "::/0", (0, 0)),
            (1, false, false, "::/0", (0, 0)),
        ],
    );

    let by_sources = format!(
        "data \"planetscale_privatelink_diagnostics\" \"sources\" {{\n  endpoint_id       = \"{}\"\n  client_subnet_ids = [\"{}\"]\n}}\n\noutput \"sources\" {{\n  value = data.planetscale_privatelink_diagnostics.sources\n}}\n",
        s.endpoint_id, s.app_subnet
    );
    let ws = s.workspace(&format!("{}{by_sources}", s.full("db", &host(o))));
    let run = ws.apply();
    let outputs = ws.outputs();

    // With the application's group: every check passes, judged by the
    // host's address.
    let found = checks(&outputs, "db");
    for (name, (status, detail)) in &found {
        assert_eq!(status, "pass", "{name}: {detail}");
    }
    assert!(
        found["network_acls"]
            .1
            .contains(&format!("to 10.{o}.2.10 (")),
        "{:?}",
        found["network_acls"]
    );
    assert!(
        found["client_network_acls"].1.contains(&format!(
            "10.{o}.0.0/24, 10.{o}.1.0/24 ({app_acl} rule 100)"
        )),
        "{:?}",
        found["client_network_acls"]
    );
    // Without it: the sources the endpoint's group lets in, the address
    // and the prefix list's block, pass the same network ACLs.
    let sources = checks(&outputs, "sources");
    for name in [
        "security_group_ingress",
        "network_acls",
        "client_network_acls",
    ] {
        assert_eq!(sources[name].0, "pass", "{name}: {:?}", sources[name]);
    }
    assert!(
        sources["network_acls"]
            .1
            .contains(&format!("to 10.{o}.2.0/28, 10.{o}.2.10 (")),
        "{:?}",
        sources["network_acls"]
    );
    assert!(
        sources["network_acls"].1.contains(&apps),
        "{:?}",
        sources["network_acls"]
    );
    assert_eq!(warnings(&run, "Check"), 0, "{}", run.text());

    // A second host, outside the small block, and 6432 denied on the way
    // out of the application's subnet: named where they fail.
    s.add_client_host(&format!("10.{o}.2.77"));
    s.acl_entry(&app_acl, 50, true, false, "0.0.0.0/0", (6432, 6432));
    let run = ws.apply();
    let found = checks(&ws.outputs(), "db");
    let (status, detail) = &found["security_group_ingress"];
    assert_eq!(status, "fail");
    assert!(
        detail.contains(&format!(
            "TCP 5432, 6432 from {client} (no rule names the group or holds its hosts 10.{o}.2.77)"
        )),
        "{detail}"
    );
    let (status, detail) = &found["network_acls"];
    assert_eq!(status, "fail");
    assert!(
        detail.contains(&format!("no rule allows inbound TCP 5432 from 10.{o}.2.77")),
        "{detail}"
    );
    assert!(!detail.contains(&format!("from 10.{o}.2.10")), "{detail}");
    let (status, detail) = &found["client_network_acls"];
    assert_eq!(status, "fail");
    assert!(
        detail.contains(&format!(
            "{app_acl} (of {}): rule 50 denies outbound TCP 6432 to 10.{o}.0.0/24, 10.{o}.1.0/24",
            s.app_subnet
        )),
        "{detail}"
    );
    assert_eq!(
        warnings(
            &run,
            "Check NACLs: a network ACL of the application's subnets blocks the connection"
        ),
        1,
        "{}",
        run.text()
    );
}

#[test]
fn connection_test_adds_a_check_per_port_after_dns_resolution() {
    // The Private Host resolves, through the DNS stand-in, to 127.0.0.1,
    // where one port answers S and TLS with a certificate for it from the
    // test's authority, one answers N, and one is closed.
    let ca = TestCa::new();
    let name = "db57.private.datasources.example";
    let tls = Listener::start(Mode::Tls(ca.server(&[name])));
    let no_tls = Listener::start(Mode::NoTls);
    let closed = closed_port();
    let ports = [tls.port, no_tls.port, closed];
    let s = setup(57, &ports.map(i32::from));
    s.dns.add(name, &[Ipv4Addr::LOCALHOST]);
    let mut sorted = ports;
    sorted.sort_unstable();
    let list = sorted.map(|p| p.to_string()).join(", ");
    let ca_pem = ca.pem.trim_end();
    let connecting = s.full("db", name).replace(
        "  endpoint_id ",
        &format!(
            "  connection_test           = true\n  ports                     = [{list}]\n  ca_certificate            = <<-EOT\n{ca_pem}\n  EOT\n  endpoint_id "
        ),
    );
    let no_host = format!(
        "data \"planetscale_privatelink_diagnostics\" \"no_host\" {{\n  endpoint_id     = \"{}\"\n  ports           = [{}]\n  connection_test = true\n}}\n\noutput \"no_host\" {{\n  value = data.planetscale_privatelink_diagnostics.no_host\n}}\n\n",
        s.endpoint_id, tls.port
    );
    let ws = s.workspace(&format!("{connecting}{no_host}{}", s.full("plain", name)));
    let run = ws.apply();
    let outputs = ws.outputs();

    // One check per port, in port order, after dns_resolution.
    let names: Vec<&str> = outputs["db"]["value"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let mut expected = CHECK_NAMES.to_vec();
    expected.extend(["connection"; 3]);
    assert_eq!(names, expected);
    assert_eq!(outputs["db"]["value"]["connection_test"], true);
    let found = connections(&outputs, "db");
    for ((status, detail), port) in found.iter().zip(sorted) {
        assert!(
            detail.starts_with(&format!("Port {port}: ")),
            "{port}: {detail}"
        );
        if port == tls.port {
            assert_eq!(status, "pass", "{detail}");
            assert!(
                detail.contains(&format!(
                    "127.0.0.1 answered as PostgreSQL and completed a TLS handshake with a certificate valid for {name}"
                )),
                "{detail}"
            );
        } else if port == no_tls.port {
            assert_eq!(status, "fail", "{detail}");
            assert!(
                detail.contains("PostgreSQL answered, but declined TLS")
                    && detail.contains("Check that private_host is the branch's Private Host"),
                "{detail}"
            );
        } else {
            assert_eq!(status, "fail", "{detail}");
            assert!(
                detail.contains("Connection refused: nothing listens on this port"),
                "{detail}"
            );
        }
    }
    assert_eq!(outputs["db"]["value"]["healthy"], false);
    assert_eq!(
        warnings(
            &run,
            "Test your new connection: a connection to the private host did not complete"
        ),
        1,
        "{}",
        run.text()
    );
    // Terraform folds the second port's warning, with the same summary,
    // into the first.
    assert!(
        run.flat()
            .contains("(and one more similar warning elsewhere)"),
        "{}",
        run.text()
    );
    assert!(run.flat().contains("connection_test"), "{}", run.text());
    // The handshake completed, and nothing followed the SSLRequest.
    let seen = tls.connections();
    assert!(seen.iter().any(|c| c.handshake), "{seen:?}");
    for c in seen.iter().chain(no_tls.connections().iter()) {
        assert!(c.after.is_empty(), "{c:?}");
    }

    // Without private_host there is nothing to connect to: a warning per
    // port that says what to give.
    let found = connections(&outputs, "no_host");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "warn");
    assert!(
        found[0].1.starts_with("Not checked: give private_host"),
        "{:?}",
        found[0]
    );

    // connection_test left out: no connection check, and false.
    let plain = checks(&outputs, "plain");
    assert!(!plain.contains_key("connection"), "{plain:?}");
    assert_eq!(outputs["plain"]["value"]["connection_test"], false);
}

#[test]
fn client_subnet_ids_that_do_not_exist_fail_their_check() {
    let s = setup(61, &[5432, 6432]);
    let ws = s.workspace(&s.full("db", &host(61)).replace(
        "  endpoint_id ",
        "  client_subnet_ids         = [\"subnet-0123456789abcdef0\"]\n  endpoint_id ",
    ));
    let run = ws.apply();
    let found = checks(&ws.outputs(), "db");
    let (status, detail) = &found["client_network_acls"];
    assert_eq!(status, "fail");
    assert!(
        detail.contains("subnet-0123456789abcdef0") && detail.contains("Check client_subnet_ids"),
        "{detail}"
    );
    assert!(run.flat().contains("client_subnet_ids"), "{}", run.text());
}

#[test]
fn diagnostics_bad_input_fails_at_plan_time() {
    let s = setup(55, &[5432, 6432]);
    let good = s.full("db", &host(55));
    let cases = [
        (
            good.replace(&s.endpoint_id, "vpce-nothex!"),
            "endpoint_id",
            "Invalid VPC endpoint id",
        ),
        (
            good.replace(&s.dns.server(), "dns.example.com:53"),
            "dns_server",
            "Invalid DNS server",
        ),
        (
            good.replace(&host(55), "https://db.example.com:5432"),
            "private_host",
            "Invalid private host",
        ),
        (
            good.replace(&s.client_group, "sg-x"),
            "client_security_group_ids",
            "Invalid security group id",
        ),
        (
            good.replace("endpoint_id ", "ports = [0]\n  endpoint_id "),
            "ports",
            "Invalid port",
        ),
        (
            good.replace(
                "endpoint_id ",
                "client_subnet_ids = [\"subnet-x\"]\n  endpoint_id ",
            ),
            "client_subnet_ids",
            "Invalid subnet id",
        ),
        (
            good.replace(
                "endpoint_id ",
                "ca_certificate = \"not a certificate\"\n  endpoint_id ",
            ),
            "ca_certificate",
            "Invalid CA certificate",
        ),
        (
            good.replace(&s.endpoint_id, "vpce-0123456789abcdef0"),
            "endpoint_id",
            "VPC endpoint not found",
        ),
    ];
    let ws = s.workspace(&good);
    for (body, attribute, summary) in cases {
        ws.write("main.tf", &format!("{}{body}", provider_block("")));
        let run = ws.run(&["plan", "-no-color", "-input=false"]);
        let text = run.flat();
        assert_eq!(run.code, 1, "plan must fail:\n{text}");
        assert!(
            text.contains(&format!("Error: {summary}")),
            "no {summary:?} in:\n{text}"
        );
        assert!(
            text.contains(&format!("{attribute} ")),
            "{attribute} not named:\n{text}"
        );
    }
}

// -------------------------------------------------------------- service --

fn service_output(name: &str) -> String {
    format!("output \"{name}\" {{\n  value = data.planetscale_privatelink_service.{name}\n}}\n")
}

#[test]
fn service_by_name_describes_zones_and_dns_names() {
    let ws = Workspace::new(Some(&Emulator::shared().url));
    ws.write(
        "main.tf",
        &format!(
            "{}data \"planetscale_privatelink_service\" \"db\" {{\n  service_name = \"{}\"\n}}\n\n{}",
            provider_block(""),
            service(),
            service_output("db")
        ),
    );
    ws.init();
    ws.apply();
    let db = &ws.outputs()["db"]["value"];
    assert_eq!(db["service_name"], service());
    assert_eq!(
        db["availability_zones"],
        serde_json::json!(["us-east-1a", "us-east-1b", "us-east-1c"])
    );
    let id = service().rsplit('.').next().unwrap();
    assert!(
        db["base_endpoint_dns_names"][0]
            .as_str()
            .is_some_and(|n| n.starts_with(id)),
        "{db:#}"
    );
    assert_eq!(
        db["private_dns_names"],
        serde_json::json!(["db.private.datasources.example"])
    );
    assert_eq!(db["acceptance_required"], false);
    assert_eq!(db["private_host"], Json::Null);
    // The emulator's answer has no zone ids: mapped through this account's
    // zones, in the same order.
    assert_eq!(
        db["availability_zone_ids"],
        serde_json::json!(["use1-az6", "use1-az1", "use1-az2"])
    );
    assert!(
        db["owner"]
            .as_str()
            .is_some_and(|o| o.len() == 12 && o.bytes().all(|b| b.is_ascii_digit())),
        "{db:#}"
    );
}

#[test]
fn a_service_of_another_region_is_described_with_service_region() {
    let e = Emulator::shared();
    // The branch's service played as one of us-west-2 open to us-east-1,
    // and as one of eu-west-1 open to us-west-2 alone.
    let remote = e
        .strict
        .plant_remote_service(service(), "us-west-2", &["us-east-1"]);
    let closed = e
        .strict
        .plant_remote_service(service(), "eu-west-1", &["us-west-2"]);
    let data = |name: &str, service_name: &str, extra: &str| {
        format!(
            "data \"planetscale_privatelink_service\" \"{name}\" {{\n  service_name = \"{service_name}\"\n{extra}}}\n\n{}",
            service_output(name)
        )
    };
    let ws = Workspace::new(Some(&e.url));
    ws.write(
        "main.tf",
        &format!("{}{}", provider_block(""), data("db", &remote, "")),
    );
    ws.init();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("service_region = \"us-west-2\""), "{text}");

    ws.write(
        "main.tf",
        &format!(
            "{}{}{}",
            provider_block(""),
            data("db", &remote, "  service_region = \"us-west-2\"\n"),
            data("local", service(), "")
        ),
    );
    ws.apply();
    let outputs = ws.outputs();
    let db = &outputs["db"]["value"];
    assert_eq!(db["service_name"], remote.as_str());
    assert_eq!(db["service_region"], "us-west-2");
    assert_eq!(
        db["private_dns_names"],
        serde_json::json!(["db.private.datasources.example"])
    );
    assert_eq!(outputs["local"]["value"]["service_region"], "us-east-1");

    ws.write(
        "main.tf",
        &format!(
            "{}{}",
            provider_block(""),
            data("db", &closed, "  service_region = \"eu-west-1\"\n")
        ),
    );
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("service_region"), "{text}");
    assert!(
        text.contains("has not enabled cross-region access"),
        "{text}"
    );
}

#[test]
fn a_vitess_service_is_the_one_planetscale_lists_for_the_region() {
    let e = Emulator::shared();
    // PlanetScale's documented Vitess service of us-east-1, played by the
    // emulator's service under that name.
    let documented = "com.amazonaws.vpce.us-east-1.vpce-svc-02fef31be60d3fd35";
    e.strict.plant_named_service(documented, service());
    let ws = Workspace::new(Some(&e.url));
    ws.write(
        "main.tf",
        &format!(
            "{}data \"planetscale_privatelink_service\" \"vitess\" {{\n  engine = \"vitess\"\n}}\n\n{}\
             data \"planetscale_privatelink_service\" \"pg\" {{\n  service_name = \"{}\"\n}}\n\n{}",
            provider_block(""),
            service_output("vitess"),
            service(),
            service_output("pg"),
        ),
    );
    ws.init();
    ws.apply();
    let outputs = ws.outputs();
    let vitess = &outputs["vitess"]["value"];
    assert_eq!(vitess["service_name"], documented);
    assert_eq!(vitess["ports"], serde_json::json!([443, 3306]));
    assert_eq!(vitess["private_host"], Json::Null);
    assert_eq!(
        vitess["availability_zones"],
        serde_json::json!(["us-east-1a", "us-east-1b", "us-east-1c"])
    );
    assert_eq!(outputs["pg"]["value"]["engine"], "postgres");
    assert_eq!(
        outputs["pg"]["value"]["ports"],
        serde_json::json!([5432, 6432])
    );

    // A branch lookup is Postgres's: refused for Vitess, naming it.
    ws.write(
        "main.tf",
        &format!(
            "{}data \"planetscale_privatelink_service\" \"vitess\" {{\n  engine = \"vitess\"\n  organization = \"acme\"\n  database = \"shop\"\n  branch = \"main\"\n}}\n",
            provider_block("")
        ),
    );
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("Error: Not for Vitess"), "{text}");
    assert!(text.contains("organization"), "{text}");
}

/// A workspace whose provider reaches the fake API, with the token in the
/// environment as a pipeline would set it.
fn api_workspace(api: &FakeApi, body: &str) -> Workspace {
    let mut ws = Workspace::new(Some(&Emulator::shared().url));
    ws.set_env("PLANETSCALE_SERVICE_TOKEN_ID", TOKEN_ID);
    ws.set_env("PLANETSCALE_SERVICE_TOKEN", TOKEN);
    ws.write(
        "main.tf",
        &format!(
            "{}{body}",
            provider_block(&format!("  api_url = \"{}\"\n", api.url))
        ),
    );
    ws.init();
    ws
}

fn branch_data_source(org: &str, db: &str, branch: &str) -> String {
    format!(
        "data \"planetscale_privatelink_service\" \"db\" {{\n  organization = \"{org}\"\n  database     = \"{db}\"\n  branch       = \"{branch}\"\n}}\n\n"
    )
}

#[test]
fn service_by_branch_feeds_an_endpoint_in_one_apply() {
    let api = FakeApi::start(TOKEN_ID, TOKEN);
    api.add_branch(
        "acme",
        "app-db",
        "main",
        service(),
        "abc56.private-pg.example.test",
    );
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(&ec2, 56, &["us-east-1a", "us-east-1b"]));
    let group = rt.block_on(create_group(&ec2, &network.vpc_id, &support::unique("db")));
    let ws = api_workspace(
        &api,
        &format!(
            "{}resource \"planetscale_privatelink_endpoint\" \"db\" {{\n  service_name       = data.planetscale_privatelink_service.db.service_name\n  vpc_id             = \"{}\"\n  subnet_ids         = [\"{}\", \"{}\"]\n  security_group_ids = [\"{group}\"]\n}}\n\n{}",
            branch_data_source("acme", "app-db", "main"),
            network.vpc_id,
            network.subnet_ids[0],
            network.subnet_ids[1],
            service_output("db")
        ),
    );
    ws.apply();
    let db = &ws.outputs()["db"]["value"];
    assert_eq!(db["service_name"], service());
    assert_eq!(db["private_host"], "abc56.private-pg.example.test");
    assert_eq!(db["availability_zones"][0], "us-east-1a");
    let endpoint = ws.resource("planetscale_privatelink_endpoint.db");
    assert_eq!(endpoint["service_name"], service());
    assert_eq!(endpoint["state"], "available");

    let seen = api.seen();
    assert!(!seen.is_empty());
    for request in &seen {
        assert_eq!(request.path, role_path("acme", "app-db", "main"));
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("{TOKEN_ID}:{TOKEN}").as_str())
        );
    }
    let state = std::fs::read_to_string(ws.path().join("terraform.tfstate")).unwrap();
    assert!(
        !state.contains(ROLE_PASSWORD),
        "the role's password reached the state"
    );
    assert!(
        !state.contains(TOKEN),
        "the service token reached the state"
    );
    ws.destroy();
}

#[test]
fn api_failures_give_distinct_diagnostics() {
    let api = FakeApi::start(TOKEN_ID, TOKEN);
    api.add_branch(
        "acme",
        "app-db",
        "main",
        service(),
        "abc57.private-pg.example.test",
    );
    let mut ws = api_workspace(&api, &branch_data_source("acme", "app-db", "main"));
    let plan_fails = |ws: &Workspace, summary: &str, hint: &str| -> String {
        let run = ws.run(&["plan", "-no-color", "-input=false"]);
        let text = run.flat();
        assert_eq!(run.code, 1, "plan must fail with {summary:?}:\n{text}");
        assert!(
            text.contains(&format!("Error: {summary}")),
            "no {summary:?} in:\n{text}"
        );
        assert!(text.contains(hint), "no {hint:?} in:\n{text}");
        assert!(
            !text.contains(ROLE_PASSWORD) && !text.contains(TOKEN),
            "a secret in:\n{text}"
        );
        text
    };
    // Each failure has a summary of its own and a hint at the fix.
    let cases: [(Behaviour, &str, &str); 5] = [
        (
            Behaviour::Status(403),
            "The service token may not read the branch (403)",
            "read_branch",
        ),
        (
            Behaviour::Status(500),
            "PlanetScale API error (500)",
            "try again",
        ),
        (
            Behaviour::Malformed,
            "Unreadable answer from the PlanetScale API",
            "not valid JSON",
        ),
        (
            Behaviour::NoPrivateLink,
            "PrivateLink is not enabled for the branch",
            "Enable PrivateLink",
        ),
        (
            Behaviour::Status(503),
            "PlanetScale API error (503)",
            "try again",
        ),
    ];
    for (behaviour, summary, hint) in cases {
        api.set_behaviour(behaviour.clone());
        let before = api.seen().len();
        plan_fails(&ws, summary, hint);
        let calls = api.seen().len() - before;
        // 503 is retried (three attempts); the others are answers.
        let expected = if behaviour == Behaviour::Status(503) {
            3
        } else {
            1
        };
        assert_eq!(calls, expected, "{behaviour:?}");
    }
    api.set_behaviour(Behaviour::Normal);

    // A wrong branch: 404, naming the arguments to check.
    ws.write(
        "main.tf",
        &format!(
            "{}{}",
            provider_block(&format!("  api_url = \"{}\"\n", api.url)),
            branch_data_source("acme", "app-db", "mian")
        ),
    );
    let text = plan_fails(&ws, "Branch not found in PlanetScale (404)", "\"mian\"");
    assert!(text.contains("organization, database and branch"), "{text}");

    // A wrong token: 401, naming the token arguments.
    ws.write(
        "main.tf",
        &format!(
            "{}{}",
            provider_block(&format!("  api_url = \"{}\"\n", api.url)),
            branch_data_source("acme", "app-db", "main")
        ),
    );
    ws.set_env("PLANETSCALE_SERVICE_TOKEN", "pscale_tkn_wrong");
    plan_fails(
        &ws,
        "PlanetScale rejected the service token (401)",
        "service_token_id and service_token",
    );

    // No token at all: said before any request, naming service_token.
    ws.env.retain(|(k, _)| k != "PLANETSCALE_SERVICE_TOKEN");
    let before = api.seen().len();
    plan_fails(
        &ws,
        "PlanetScale service token missing",
        "and service_token is not set",
    );
    assert_eq!(api.seen().len(), before);
    // Neither the id nor the token: both named, in a sentence.
    ws.env.retain(|(k, _)| k != "PLANETSCALE_SERVICE_TOKEN_ID");
    plan_fails(
        &ws,
        "PlanetScale service token missing",
        "and service_token_id and service_token are not set",
    );
    assert_eq!(api.seen().len(), before);
    ws.set_env("PLANETSCALE_SERVICE_TOKEN_ID", TOKEN_ID);

    // Both ways of naming the service: refused at validation.
    ws.write(
        "main.tf",
        &format!(
            "{}{}",
            provider_block(&format!("  api_url = \"{}\"\n", api.url)),
            branch_data_source("acme", "app-db", "main").replace(
                "  branch ",
                &format!("  service_name = \"{}\"\n  branch ", service())
            )
        ),
    );
    let text = plan_fails(&ws, "Conflicting arguments", "conflicts with service_name");
    assert!(text.contains("organization "), "{text}");
    assert_eq!(api.seen().len(), before);

    // An api_url sending the token in the clear elsewhere: refused.
    ws.write(
        "main.tf",
        &format!(
            "{}{}",
            provider_block("  api_url = \"http://api.planetscale.example/v1\"\n"),
            branch_data_source("acme", "app-db", "main")
        ),
    );
    plan_fails(&ws, "Invalid PlanetScale API URL", "unencrypted");
}

#[test]
fn an_api_that_never_answers_times_out_clearly() {
    let api = FakeApi::start(TOKEN_ID, TOKEN);
    api.set_behaviour(Behaviour::Hang);
    let ws = api_workspace(&api, &branch_data_source("acme", "app-db", "main"));
    let started = Instant::now();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.flat()
            .contains("Error: The PlanetScale API did not answer"),
        "{}",
        run.text()
    );
    assert!(run.flat().contains("within 30s"), "{}", run.text());
    assert!(
        elapsed >= Duration::from_secs(30) && elapsed < Duration::from_secs(90),
        "{elapsed:?}"
    );
}

#[test]
fn the_service_token_and_role_password_stay_out_of_trace_logs() {
    let api = FakeApi::start(TOKEN_ID, TOKEN);
    api.add_branch(
        "acme",
        "app-db",
        "main",
        service(),
        "abc58.private-pg.example.test",
    );
    let mut ws = api_workspace(
        &api,
        &format!(
            "{}{}",
            branch_data_source("acme", "app-db", "main"),
            service_output("db")
        ),
    );
    let log = ws.path().join("terraform.log");
    ws.set_env("TF_LOG", "trace");
    ws.set_env("TF_LOG_PATH", log.to_str().unwrap());
    ws.apply();
    assert_eq!(
        ws.outputs()["db"]["value"]["private_host"],
        "abc58.private-pg.example.test"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("PlanetScale reported the branch's PrivateLink service"),
        "the provider's own events are in the log"
    );
    support::assert_no_secret_in_log(&text, &[TOKEN, ROLE_PASSWORD]);
}

#[test]
fn a_branch_without_a_default_role_is_read_from_its_role_list() {
    let api = FakeApi::start(TOKEN_ID, TOKEN);
    let field = |host: &str| Some((service().to_owned(), host.to_owned()));
    // No default role; the first roles have no PrivateLink fields, and the
    // server pages them by two at most: the fields are on page two.
    api.add_branch_roles(
        "acme",
        "app-db",
        "dev",
        vec![None, None, field("abc62.private-pg.example.test"), None],
    );
    let ws = api_workspace(
        &api,
        &format!(
            "{}{}",
            branch_data_source("acme", "app-db", "dev"),
            service_output("db")
        ),
    );
    ws.apply();
    let db = &ws.outputs()["db"]["value"];
    assert_eq!(db["service_name"], service());
    assert_eq!(db["private_host"], "abc62.private-pg.example.test");
    let paths: Vec<String> = api.seen().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths[..3],
        [
            role_path("acme", "app-db", "dev"),
            roles_page_path("acme", "app-db", "dev", 1, 25),
            roles_page_path("acme", "app-db", "dev", 2, 25),
        ],
        "{paths:?} (pages of {MAX_PER_PAGE})"
    );
    let state = std::fs::read_to_string(ws.path().join("terraform.tfstate")).unwrap();
    assert!(
        !state.contains(ROLE_PASSWORD),
        "a role's password reached the state"
    );

    // A branch nobody created a role for yet: its own error, saying where
    // to create one; not "branch not found".
    api.add_branch_roles("acme", "app-db", "fresh", vec![]);
    ws.write(
        "main.tf",
        &format!(
            "{}{}",
            provider_block(&format!("  api_url = \"{}\"\n", api.url)),
            branch_data_source("acme", "app-db", "fresh")
        ),
    );
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(text.contains("Error: The branch has no role yet"), "{text}");
    assert!(
        text.contains("Settings, Roles") && text.contains("through the API"),
        "{text}"
    );
    assert!(!text.contains("not found"), "{text}");

    // Roles, none with the fields: PrivateLink is off for the branch.
    api.add_branch_roles("acme", "app-db", "fresh", vec![None]);
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    assert!(
        run.flat()
            .contains("Error: PrivateLink is not enabled for the branch"),
        "{}",
        run.text()
    );
}

/// An HTTP date (IMF-fixdate) `ahead` from now.
fn http_date(ahead: Duration) -> String {
    let t = time::OffsetDateTime::now_utc() + ahead;
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[usize::from(t.weekday().number_days_from_monday())],
        t.day(),
        MONTHS[usize::from(u8::from(t.month()) - 1)],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[test]
fn retry_after_is_honoured_within_the_retry_bound() {
    let api = FakeApi::start(TOKEN_ID, TOKEN);
    api.add_branch(
        "acme",
        "app-db",
        "main",
        service(),
        "abc63.private-pg.example.test",
    );
    let ws = api_workspace(
        &api,
        &format!(
            "{}{}",
            branch_data_source("acme", "app-db", "main"),
            service_output("db")
        ),
    );
    // When the refused request and the next one arrived.
    let times_after = |answer: (u16, &str)| -> (Instant, Instant) {
        let before = api.seen().len();
        api.fail_next(answer.0, Some(answer.1));
        let run = ws.run(&["plan", "-no-color", "-input=false"]);
        assert_eq!(run.code, 0, "{}", run.text());
        let seen = api.seen();
        assert_eq!(seen.len() - before, 2, "{:?}", &seen[before..]);
        (seen[before].at, seen[before + 1].at)
    };
    // In seconds, on 429: the retry waits that long after the refusal.
    let (refused, retried) = times_after((429, "2"));
    let gap = retried - refused;
    assert!(gap >= Duration::from_secs(2), "{gap:?}");
    // As an HTTP date, on 503: the retry waits until that time, whenever the
    // refusal came. The date has whole seconds, so the time it names is at
    // most one second before the three asked for.
    let written = Instant::now();
    let (_, retried) = times_after((503, &http_date(Duration::from_secs(3))));
    let waited = retried - written;
    assert!(waited >= Duration::from_secs(2), "{waited:?}");

    // A wait past the lookup's bound: no waiting, no retry, and the error
    // says how long the API asked for.
    let before = api.seen().len();
    api.fail_next(429, Some("3600"));
    let started = Instant::now();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(api.seen().len() - before, 1);
    assert!(
        run.flat()
            .contains("Error: PlanetScale API rate limit (429)")
            && run.flat().contains("asked to wait 1h"),
        "{}",
        run.text()
    );
}
