//! planetscale_privatelink_security_group against the EC2 emulator with the
//! real terraform: create, drift, in-place updates, import, bad input,
//! destroy. Each test works in a VPC of its own.

use crate::support;

use std::collections::BTreeSet;

use support::emulator::{Network, create_dual_stack_network, create_group, create_network};
use support::{Emulator, Workspace};

const PROVIDER: &str = "provider \"planetscale\" {\n  region = \"us-east-1\"\n}\n";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// The ingress rules of a group as (port, source), and how many egress rules it has.
async fn rules(ec2: &aws_sdk_ec2::Client, group_id: &str) -> (BTreeSet<(i32, String)>, usize) {
    let (ingress, egress, _) = rules_with_ids(ec2, group_id).await;
    (ingress, egress)
}

/// [`rules`], and the ids of the ingress rules.
async fn rules_with_ids(
    ec2: &aws_sdk_ec2::Client,
    group_id: &str,
) -> (BTreeSet<(i32, String)>, usize, BTreeSet<String>) {
    let out = ec2
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(group_id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut ingress = BTreeSet::new();
    let mut ids = BTreeSet::new();
    let mut egress = 0;
    for r in out.security_group_rules() {
        if r.is_egress() == Some(true) {
            egress += 1;
            continue;
        }
        ids.insert(r.security_group_rule_id().unwrap().to_owned());
        assert_eq!(r.ip_protocol(), Some("tcp"));
        assert_eq!(r.from_port(), r.to_port());
        let source = r
            .referenced_group_info()
            .and_then(|g| g.group_id())
            .or(r.cidr_ipv4())
            .or(r.cidr_ipv6())
            .or(r.prefix_list_id())
            .unwrap()
            .to_owned();
        ingress.insert((r.from_port().unwrap(), source));
    }
    (ingress, egress, ids)
}

/// Security groups in the VPC besides its default one.
async fn groups_in(ec2: &aws_sdk_ec2::Client, vpc_id: &str) -> Vec<String> {
    ec2.describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(vpc_id)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .security_groups()
        .iter()
        .filter(|g| g.group_name() != Some("default"))
        .map(|g| g.group_id().unwrap().to_owned())
        .collect()
}

fn product(ports: &[i32], sources: &[&str]) -> BTreeSet<(i32, String)> {
    ports
        .iter()
        .flat_map(|p| sources.iter().map(move |s| (*p, s.to_string())))
        .collect()
}

fn config(vpc_id: &str, body: &str) -> String {
    format!(
        "{}{PROVIDER}\nresource \"planetscale_privatelink_security_group\" \"db\" {{\n  vpc_id = \"{vpc_id}\"\n{body}\n}}\n",
        Workspace::required_providers(false)
    )
}

struct Fixture {
    emulator: &'static Emulator,
    ec2: aws_sdk_ec2::Client,
    network: Network,
    app_group: String,
    rt: tokio::runtime::Runtime,
}

impl Fixture {
    /// Groups in the test's VPC but its default and the test's own fixture.
    /// A managed IPv4 prefix list of up to `max_entries`, holding `cidr`.
    fn prefix_list(&self, name: &str, max_entries: i32, cidr: &str) -> String {
        self.rt
            .block_on(
                self.ec2
                    .create_managed_prefix_list()
                    .prefix_list_name(support::unique(name))
                    .address_family("IPv4")
                    .max_entries(max_entries)
                    .entries(
                        aws_sdk_ec2::types::AddPrefixListEntry::builder()
                            .cidr(cidr)
                            .build(),
                    )
                    .send(),
            )
            .expect("CreateManagedPrefixList")
            .prefix_list()
            .and_then(|l| l.prefix_list_id())
            .unwrap()
            .to_owned()
    }

    fn created_groups(&self) -> Vec<String> {
        let mut groups = self.rt.block_on(groups_in(&self.ec2, &self.network.vpc_id));
        groups.retain(|g| *g != self.app_group);
        groups
    }
}

fn fixture(octet: u8) -> Fixture {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = runtime();
    let network = rt.block_on(create_network(&ec2, octet, &["us-east-1a", "us-east-1b"]));
    let app_group = rt.block_on(create_group(&ec2, &network.vpc_id, &support::unique("app")));
    Fixture {
        emulator,
        ec2,
        network,
        app_group,
        rt,
    }
}

#[test]
fn create_matches_ports_times_sources_and_plans_empty_then_destroys() {
    let f = fixture(11);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &config(
            &f.network.vpc_id,
            &format!("  allowed_security_group_ids = [\"{}\"]\n  allowed_cidr_blocks = [\"10.99.0.0/16\"]\n  tags = {{ Name = \"db\" }}", f.app_group),
        ),
    );
    ws.init();
    ws.apply();
    let state = ws.resource("planetscale_privatelink_security_group.db");
    let id = state["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sg-"));
    assert!(state["name"].as_str().unwrap().starts_with("terraform-"));
    assert_eq!(state["ports"], serde_json::json!([5432, 6432]));
    assert_eq!(state["tags_all"], serde_json::json!({"Name": "db"}));
    assert!(
        state["arn"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":security-group/{id}"))
    );

    let (ingress, egress) = f.rt.block_on(rules(&f.ec2, &id));
    assert_eq!(
        ingress,
        product(&[5432, 6432], &[&f.app_group, "10.99.0.0/16"])
    );
    assert_eq!(egress, 0, "the default egress rule must be revoked");
    ws.assert_no_changes();

    ws.destroy();
    assert!(f.created_groups().is_empty(), "destroy left a group");
}

/// In a VPC with an IPv6 block, EC2 gives a new group two default egress
/// rules, all traffic to 0.0.0.0/0 and to ::/0: the create revokes both
/// (by their permission, with the ingress in the same round).
#[test]
fn a_new_group_in_a_dual_stack_vpc_keeps_neither_default_egress_rule() {
    let f = fixture(14);
    let (network, _) = f.rt.block_on(create_dual_stack_network(&f.ec2, 15));
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &config(
            &network.vpc_id,
            "  allowed_cidr_blocks = [\"10.99.0.0/16\"]\n  allowed_ipv6_cidr_blocks = [\"2001:db8:1::/64\"]",
        ),
    );
    ws.init();
    ws.apply();
    let id = ws.resource("planetscale_privatelink_security_group.db")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ingress, egress) = f.rt.block_on(rules(&f.ec2, &id));
    assert_eq!(
        ingress,
        product(&[5432, 6432], &["10.99.0.0/16", "2001:db8:1::/64"])
    );
    assert_eq!(egress, 0, "both default egress rules must be revoked");
    ws.assert_no_changes();
    ws.destroy();
}

#[test]
fn changes_update_in_place_and_drift_is_repaired() {
    let f = fixture(12);
    let ws = Workspace::new(Some(&f.emulator.url));
    let body = |ports: &str, cidrs: &str| {
        format!(
            "  ports = {ports}\n  allowed_security_group_ids = [\"{}\"]\n  allowed_cidr_blocks = {cidrs}",
            f.app_group
        )
    };
    ws.write(
        "main.tf",
        &config(
            &f.network.vpc_id,
            &body("[5432, 6432]", "[\"10.98.0.0/16\"]"),
        ),
    );
    ws.init();
    ws.apply();
    let id = ws.resource("planetscale_privatelink_security_group.db")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Ports and sources change in place.
    ws.write(
        "main.tf",
        &config(&f.network.vpc_id, &body("[5432, 7000]", "[]")),
    );
    ws.apply();
    assert_eq!(
        ws.resource("planetscale_privatelink_security_group.db")["id"],
        id.as_str()
    );
    let (ingress, _) = f.rt.block_on(rules(&f.ec2, &id));
    assert_eq!(ingress, product(&[5432, 7000], &[&f.app_group]));
    ws.assert_no_changes();

    // A rule added by hand is drift: the plan shows it, apply removes it.
    f.rt.block_on(
        f.ec2
            .authorize_security_group_ingress()
            .group_id(&id)
            .ip_permissions(
                aws_sdk_ec2::types::IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(22)
                    .to_port(22)
                    .ip_ranges(
                        aws_sdk_ec2::types::IpRange::builder()
                            .cidr_ip("0.0.0.0/0")
                            .build(),
                    )
                    .build(),
            )
            .send(),
    )
    .unwrap();
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2, "a rule added by hand must show as a change");
    // Shown as what it is, not as ports or sources the group never had.
    assert!(
        plan.stdout.contains("unmanaged_rules")
            && plan.stdout.contains("ingress tcp 22 from 0.0.0.0/0"),
        "{}",
        plan.stdout
    );
    for argument in ["ports", "allowed_cidr_blocks", "allowed_security_group_ids"] {
        assert!(
            !plan.stdout.contains(&format!("~ {argument}")),
            "{argument} shown as changed:\n{}",
            plan.stdout
        );
    }
    ws.apply();
    let (ingress, _) = f.rt.block_on(rules(&f.ec2, &id));
    assert_eq!(ingress, product(&[5432, 7000], &[&f.app_group]));
    ws.assert_no_changes();

    // So is an egress rule added by hand: the group keeps none.
    f.rt.block_on(
        f.ec2
            .authorize_security_group_egress()
            .group_id(&id)
            .ip_permissions(
                aws_sdk_ec2::types::IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(443)
                    .to_port(443)
                    .ip_ranges(
                        aws_sdk_ec2::types::IpRange::builder()
                            .cidr_ip("0.0.0.0/0")
                            .build(),
                    )
                    .build(),
            )
            .send(),
    )
    .unwrap();
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2, "an egress rule added by hand must show");
    assert!(
        plan.stdout.contains("egress tcp 443 to 0.0.0.0/0"),
        "{}",
        plan.stdout
    );
    ws.apply();
    let (_, egress) = f.rt.block_on(rules(&f.ec2, &id));
    assert_eq!(egress, 0, "the egress rule added by hand is revoked");
    ws.assert_no_changes();

    // A group deleted by hand is created again.
    f.rt.block_on(f.ec2.delete_security_group().group_id(&id).send())
        .unwrap();
    let plan = ws.plan_json();
    assert_eq!(
        support::terraform::planned_actions(&plan),
        vec![(
            "planetscale_privatelink_security_group.db".to_owned(),
            vec!["create".to_owned()]
        )]
    );
    ws.apply();
    assert_ne!(
        ws.resource("planetscale_privatelink_security_group.db")["id"],
        id.as_str()
    );
    ws.destroy();
}

#[test]
fn imports_rebuild_the_arguments() {
    let f = fixture(13);
    let cases = [
        format!("  allowed_security_group_ids = [\"{}\"]", f.app_group),
        "  allowed_cidr_blocks = [\"10.97.0.0/16\", \"2001:db8::/56\"]\n  ports = [5432]".to_owned(),
        "  allow_vpc_cidr = true".to_owned(),
        "  allow_vpc_cidr = true\n  allowed_cidr_blocks = [\"10.96.0.0/16\"]\n  name = \"imported-both\"".to_owned(),
        // A group named from a prefix imports with that prefix: no replacement.
        "  allow_vpc_cidr = true\n  name_prefix = \"imp-\"".to_owned(),
    ];
    for (i, body) in cases.iter().enumerate() {
        let made = Workspace::new(Some(&f.emulator.url));
        made.write("main.tf", &config(&f.network.vpc_id, body));
        made.init();
        made.apply();
        let id = made.resource("planetscale_privatelink_security_group.db")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let name = made.resource("planetscale_privatelink_security_group.db")["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let pinned = if body.contains("name =") || body.contains("name_prefix =") {
            body.clone()
        } else {
            format!("{body}\n  name = \"{name}\"")
        };

        // terraform import
        let imported = Workspace::new(Some(&f.emulator.url));
        imported.write("main.tf", &config(&f.network.vpc_id, &pinned));
        imported.init();
        imported.ok(&[
            "import",
            "-no-color",
            "planetscale_privatelink_security_group.db",
            &id,
        ]);
        let run = imported.plan_code();
        assert_eq!(
            run.code, 0,
            "case {i}: plan after import is not empty:\n{}",
            run.stdout
        );

        // import block
        let block = Workspace::new(Some(&f.emulator.url));
        block.write(
            "main.tf",
            &format!(
                "{}\nimport {{\n  to = planetscale_privatelink_security_group.db\n  id = \"{id}\"\n}}\n",
                config(&f.network.vpc_id, &pinned)
            ),
        );
        block.init();
        let plan = block.plan_json();
        let actions = support::terraform::planned_actions(&plan);
        assert_eq!(
            actions,
            vec![(
                "planetscale_privatelink_security_group.db".to_owned(),
                vec!["no-op".to_owned()]
            )],
            "case {i}"
        );
        made.destroy();
    }
}

#[test]
fn ipv6_blocks_prefix_lists_and_account_qualified_groups_each_change_alone() {
    let f = fixture(19);
    let list = f.prefix_list("spokes", 5, "10.200.0.0/16");
    // The group written with its account, as a group of a peered account
    // is; the emulator's account is the group's own.
    let qualified = format!("123456789012/{}", f.app_group);
    let body = |ipv6: &str, lists: &str| {
        format!("  ports = [5432]\n  allowed_security_group_ids = [\"{qualified}\"]\n{ipv6}{lists}")
    };
    let ipv6 = "  allowed_ipv6_cidr_blocks = [\"2001:db8:1::/64\"]\n";
    let lists = format!("  allowed_prefix_list_ids = [\"{list}\"]\n");
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &config(&f.network.vpc_id, &body(ipv6, &lists)));
    ws.init();
    ws.apply();
    let group = ws.resource("planetscale_privatelink_security_group.db");
    let id = group["id"].as_str().unwrap().to_owned();
    let (ingress, egress, ids) = f.rt.block_on(rules_with_ids(&f.ec2, &id));
    assert_eq!(
        ingress,
        product(&[5432], &[&f.app_group, "2001:db8:1::/64", &list])
    );
    assert_eq!(egress, 0);
    assert_eq!(
        group["allowed_security_group_ids"],
        serde_json::json!([qualified])
    );
    ws.assert_no_changes();

    // The IPv6 block alone goes: only its rule is revoked.
    ws.write("main.tf", &config(&f.network.vpc_id, &body("", &lists)));
    ws.apply();
    let (after, _, after_ids) = f.rt.block_on(rules_with_ids(&f.ec2, &id));
    assert_eq!(after, product(&[5432], &[&f.app_group, &list]));
    assert_eq!(after_ids.len(), 2);
    assert!(after_ids.is_subset(&ids), "untouched rules keep their ids");
    ws.assert_no_changes();

    // The prefix list alone goes, the IPv6 block comes back.
    ws.write("main.tf", &config(&f.network.vpc_id, &body(ipv6, "")));
    ws.apply();
    let (after, _, _) = f.rt.block_on(rules_with_ids(&f.ec2, &id));
    assert_eq!(after, product(&[5432], &[&f.app_group, "2001:db8:1::/64"]));
    ws.assert_no_changes();

    // Imported, each source lands in its own argument.
    let imported = Workspace::new(Some(&f.emulator.url));
    let name = group["name"].as_str().unwrap();
    imported.write(
        "main.tf",
        &config(
            &f.network.vpc_id,
            &format!(
                "  ports = [5432]\n  name = \"{name}\"\n  allowed_security_group_ids = [\"{}\"]\n{ipv6}",
                f.app_group
            ),
        ),
    );
    imported.init();
    imported.ok(&[
        "import",
        "-no-color",
        "planetscale_privatelink_security_group.db",
        &id,
    ]);
    imported.assert_no_changes();
    imported.ok(&[
        "state",
        "rm",
        "-no-color",
        "planetscale_privatelink_security_group.db",
    ]);
    ws.destroy();
    assert!(f.created_groups().is_empty());
}

#[test]
fn a_vitess_group_lets_mysql_and_https_in_and_imports_as_vitess() {
    let f = fixture(18);
    let ws = Workspace::new(Some(&f.emulator.url));
    let body = format!(
        "  engine = \"vitess\"\n  allowed_security_group_ids = [\"{}\"]",
        f.app_group
    );
    ws.write("main.tf", &config(&f.network.vpc_id, &body));
    ws.init();
    ws.apply();
    let group = ws.resource("planetscale_privatelink_security_group.db");
    let id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(group["ports"], serde_json::json!([443, 3306]));
    let (ingress, egress) = f.rt.block_on(rules(&f.ec2, &id));
    assert_eq!(ingress, product(&[443, 3306], &[&f.app_group]));
    assert_eq!(egress, 0);
    let described =
        f.rt.block_on(f.ec2.describe_security_groups().group_ids(&id).send())
            .unwrap();
    assert_eq!(
        described.security_groups()[0].description(),
        Some("MySQL and HTTPS to a PlanetScale PrivateLink endpoint. Managed by Terraform.")
    );
    ws.assert_no_changes();

    // Imported, the ports tell the engine: the same configuration plans empty.
    let imported = Workspace::new(Some(&f.emulator.url));
    let name = group["name"].as_str().unwrap();
    imported.write(
        "main.tf",
        &config(&f.network.vpc_id, &format!("{body}\n  name = \"{name}\"")),
    );
    imported.init();
    imported.ok(&[
        "import",
        "-no-color",
        "planetscale_privatelink_security_group.db",
        &id,
    ]);
    imported.assert_no_changes();
    imported.ok(&[
        "state",
        "rm",
        "-no-color",
        "planetscale_privatelink_security_group.db",
    ]);

    // Back to postgres, ports and description following: the ports change
    // in place, and the description makes a new group.
    ws.write(
        "main.tf",
        &config(
            &f.network.vpc_id,
            &format!("  allowed_security_group_ids = [\"{}\"]", f.app_group),
        ),
    );
    let plan = ws.plan_code();
    assert!(
        plan.stdout.contains("must be replaced") && plan.stdout.contains("forces replacement"),
        "{}",
        plan.stdout
    );
    ws.apply();
    let group = ws.resource("planetscale_privatelink_security_group.db");
    assert_eq!(group["ports"], serde_json::json!([5432, 6432]));
    ws.assert_no_changes();
    ws.destroy();
    assert!(f.created_groups().is_empty());
}

/// A rule naming a prefix list counts as the list's maximum entries toward
/// the group's 60-rule quota (Amazon VPC, "Managed prefix lists"): two
/// ports and a list of up to 40 entries make 80 rules, refused at plan
/// naming the quota, with nothing created; a list of up to 20 makes 40 and
/// applies.
#[test]
fn a_prefix_list_counts_as_its_maximum_entries_toward_the_rule_quota() {
    let f = fixture(17);
    let (large, small) = (
        f.prefix_list("offices", 40, "10.201.0.0/16"),
        f.prefix_list("offices", 20, "10.201.0.0/16"),
    );
    let body =
        |list: &str| format!("  ports = [5432, 6432]\n  allowed_prefix_list_ids = [\"{list}\"]\n");
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &config(&f.network.vpc_id, &body(&large)));
    ws.init();
    let run = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = run.flat();
    assert!(!run.success(), "{text}");
    assert!(
        text.contains("Too many rules for one security group")
            && text.contains("80 IPv4")
            && text.contains("maximum entries"),
        "{text}"
    );
    assert!(
        f.created_groups().is_empty(),
        "the refused plan created a group"
    );

    ws.write("main.tf", &config(&f.network.vpc_id, &body(&small)));
    ws.apply();
    ws.assert_no_changes();
    ws.destroy();
}

/// A change of tags alone writes the tags and nothing else: the apply
/// reads neither the VPC nor the rules again (the refresh before the plan
/// read them), and calls nothing but the tag writes.
#[test]
fn a_tag_only_update_calls_only_the_tag_writes() {
    let f = fixture(16);
    let proxy = support::proxy::Proxy::start(&f.emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    let body = |stage: &str| {
        format!(
            "  allow_vpc_cidr = true\n  allowed_security_group_ids = [\"{}\"]\n  tags = {{\n    stage = \"{stage}\"\n  }}",
            f.app_group
        )
    };
    ws.write("main.tf", &config(&f.network.vpc_id, &body("a")));
    ws.init();
    ws.apply();
    ws.write("main.tf", &config(&f.network.vpc_id, &body("b")));
    ws.ok(&["plan", "-input=false", "-no-color", "-out=tags.tfplan"]);
    proxy.take_trace();
    ws.ok(&["apply", "-input=false", "-no-color", "tags.tfplan"]);
    let calls: Vec<String> = proxy
        .take_trace()
        .into_iter()
        .filter(|a| a != "GetCallerIdentity")
        .collect();
    assert_eq!(calls, ["CreateTags"], "the apply's calls");
    ws.assert_no_changes();
    ws.destroy();
}
