//! Reads that arrive together share one EC2 call (counted at the proxy, not
//! timed): Terraform refreshes in parallel, and a refresh of many resources
//! must cost a handful of calls, not several per resource.

use crate::support;

use support::emulator::{create_group, create_network, ec2_client};
use support::proxy::Proxy;
use support::{Emulator, Workspace};
use terraform_provider_planetscale::aws::Ec2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_share_one_call_and_each_gets_its_answer() {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let net = create_network(&ec2, 71, &["us-east-1a", "us-east-1b"]).await;
    let group = create_group(&ec2, &net.vpc_id, &support::unique("app")).await;
    let service = tokio::task::spawn_blocking(|| Emulator::shared().create_endpoint_service(None))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..10 {
        let out = ec2
            .create_vpc_endpoint()
            .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Interface)
            .vpc_id(&net.vpc_id)
            .service_name(&service)
            .subnet_ids(&net.subnet_ids[0])
            .security_group_ids(&group)
            .send()
            .await
            .unwrap();
        ids.push(
            out.vpc_endpoint()
                .unwrap()
                .vpc_endpoint_id()
                .unwrap()
                .to_owned(),
        );
    }

    let proxy = Proxy::start(&emulator.url);
    let provider_ec2 = Ec2::new(ec2_client(&proxy.url));
    let read_all = |ids: Vec<String>| {
        let provider_ec2 = provider_ec2.clone();
        async move {
            let handles: Vec<_> = ids
                .into_iter()
                .map(|id| {
                    let ec2 = provider_ec2.clone();
                    tokio::spawn(async move { (id.clone(), ec2.find_endpoint(&id).await) })
                })
                .collect();
            let mut out = Vec::new();
            for h in handles {
                out.push(h.await.unwrap());
            }
            out
        }
    };

    let answers = read_all(ids.clone()).await;
    assert_eq!(
        proxy.counts().get("DescribeVpcEndpoints"),
        Some(&1),
        "{:?}",
        proxy.counts()
    );
    for (id, answer) in &answers {
        assert_eq!(&answer.as_ref().unwrap().id, id);
    }

    // One of them deleted: everyone still gets their own answer, in a
    // bounded number of calls.
    ec2.delete_vpc_endpoints()
        .vpc_endpoint_ids(&ids[4])
        .send()
        .await
        .unwrap();
    let mut with_missing = ids.clone();
    with_missing[7] = "vpce-0123456789abcdef0".into(); // never existed
    proxy.reset_counts();
    let answers = read_all(with_missing.clone()).await;
    let calls = proxy
        .counts()
        .get("DescribeVpcEndpoints")
        .copied()
        .unwrap_or(0);
    assert!(calls <= 3, "{calls} calls for one batch with a missing id");
    for (i, (id, answer)) in answers.iter().enumerate() {
        match i {
            4 | 7 => assert!(
                answer.as_ref().is_err_and(|e| e.is_not_found()),
                "{id}: {answer:?}"
            ),
            _ => assert_eq!(&answer.as_ref().unwrap().id, id),
        }
    }
}

#[test]
fn refreshing_twenty_pairs_costs_a_handful_of_calls() {
    let emulator = Emulator::shared();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ec2 = emulator.ec2();
    let net = rt.block_on(create_network(&ec2, 72, &["us-east-1a", "us-east-1b"]));
    let group = rt.block_on(create_group(&ec2, &net.vpc_id, &support::unique("app")));
    let service = emulator.create_endpoint_service(None);
    let proxy = Proxy::start(&emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    ws.write(
        "main.tf",
        &format!(
            r#"{}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_security_group" "db" {{
  count                      = 20
  vpc_id                     = "{vpc}"
  allowed_security_group_ids = ["{group}"]
}}

resource "planetscale_privatelink_endpoint" "db" {{
  count               = 20
  service_name        = "{service}"
  vpc_id              = "{vpc}"
  subnet_ids          = ["{s0}", "{s1}"]
  security_group_ids  = [planetscale_privatelink_security_group.db[count.index].id]
  private_dns_enabled = false
}}
"#,
            Workspace::required_providers(false),
            vpc = net.vpc_id,
            s0 = net.subnet_ids[0],
            s1 = net.subnet_ids[1],
        ),
    );
    ws.init();
    ws.apply();
    proxy.reset_counts();
    ws.assert_no_changes();
    let counts = proxy.counts();
    let ec2_calls: u64 = counts
        .iter()
        .filter(|(a, _)| a.as_str() != "GetCallerIdentity")
        .map(|(_, n)| n)
        .sum();
    eprintln!("EC2 calls for a refreshing plan of 20 pairs: {ec2_calls} {counts:?}");
    assert!(ec2_calls <= 15, "{ec2_calls} EC2 calls: {counts:?}");
    // Each kind is listed once for the VPC, however many pairs it holds.
    for action in ["DescribeSecurityGroups", "DescribeVpcEndpoints"] {
        let n = counts.get(action).copied().unwrap_or(0);
        assert!(n <= 2, "{n} {action} calls: {counts:?}");
    }
    ws.destroy();
}

/// A VPC holding more security groups than one page of a listing: the
/// refresh pages through them (EC2 honours MaxResults; the strict layer
/// makes the emulator do the same), and counts honestly.
#[test]
fn a_vpc_larger_than_a_page_is_listed_page_by_page() {
    let emulator = Emulator::shared();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ec2 = emulator.ec2();
    let net = rt.block_on(create_network(&ec2, 73, &["us-east-1a", "us-east-1b"]));
    let group = rt.block_on(create_group(&ec2, &net.vpc_id, &support::unique("app")));
    // 210 groups of others, so the VPC's groups fill two pages of 200.
    rt.block_on(async {
        let mut made = tokio::task::JoinSet::new();
        for i in 0..210 {
            let (ec2, vpc) = (ec2.clone(), net.vpc_id.clone());
            made.spawn(async move {
                ec2.create_security_group()
                    .vpc_id(vpc)
                    .group_name(format!("other-{i}"))
                    .description("another team's group")
                    .send()
                    .await
                    .expect("CreateSecurityGroup")
            });
        }
        while made.join_next().await.is_some() {}
    });
    let proxy = Proxy::start(&emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    ws.write(
        "main.tf",
        &format!(
            r#"{}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_security_group" "db" {{
  count                      = 3
  vpc_id                     = "{vpc}"
  allowed_security_group_ids = ["{group}"]
}}
"#,
            Workspace::required_providers(false),
            vpc = net.vpc_id,
        ),
    );
    ws.init();
    ws.apply();
    proxy.reset_counts();
    ws.assert_no_changes();
    let counts = proxy.counts();
    let pages = counts.get("DescribeSecurityGroups").copied().unwrap_or(0);
    eprintln!("refreshing 3 groups in a VPC of 214: {counts:?}");
    assert_eq!(pages, 2, "one call per page of 200: {counts:?}");
    ws.destroy();
}
