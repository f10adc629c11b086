//! examples/complete as a user runs it: hashicorp/aws builds the VPC, the
//! subnets and the application's security group in the same configuration
//! as this provider's security group and endpoint. Applied against the
//! emulator (PlanetScale's side played by an endpoint service created
//! there), then planned again (empty) and destroyed (nothing left). Its
//! connection test asks a DNS server on loopback that does not know the
//! Private Host, as a resolver outside the VPC would answer: the apply
//! still succeeds, and ends with the check's warning. A second apply names
//! an application host (a network interface in the application's group) as
//! `analysis_source`: Reachability Analyzer (the strict layer's stand-in)
//! finds the path through the groups the example made.

use crate::support;

use support::dns::DnsServer;
use support::{Emulator, Workspace};

fn copy_example(ws: &Workspace) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/complete");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, ws.path().join(path.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn complete_example_applies_plans_empty_and_destroys_cleanly() {
    let emulator = Emulator::shared();
    let private_host = "main-branch.private.example.com";
    let service = emulator.create_endpoint_service(Some(private_host));
    let dns = DnsServer::start();
    let ws = Workspace::new(Some(&emulator.url));
    copy_example(&ws);
    ws.write(
        "terraform.tfvars",
        &format!(
            "service_name = \"{service}\"\nprivate_host = \"{private_host}\"\nvpc_cidr_block = \"10.31.0.0/16\"\nresolver = \"{}\"\n",
            dns.server()
        ),
    );
    ws.init();
    let run = ws.apply();
    let flat = run.flat();
    assert!(
        flat.contains("Warning: Host did not resolve")
            && flat.contains(&format!("says {private_host} does not exist (NXDOMAIN)")),
        "the connection test's warning is missing:\n{}",
        run.text()
    );
    assert!(
        flat.contains("Warning: Check block assertion failed"),
        "the check block's warning is missing:\n{}",
        run.text()
    );

    let outputs = ws.outputs();
    assert_eq!(outputs["endpoint_state"]["value"], "available");
    assert_eq!(outputs["connection_host"]["value"], private_host);
    assert!(
        outputs["endpoint_dns_names"]["value"][0]
            .as_str()
            .is_some_and(|d| d.contains(&service))
    );
    let endpoint = ws.resource("planetscale_privatelink_endpoint.db");
    let group = ws.resource("planetscale_privatelink_security_group.db");
    let app = ws.resource("aws_security_group.app");
    assert_eq!(
        group["allowed_security_group_ids"],
        serde_json::json!([app["id"]])
    );
    assert_eq!(
        endpoint["security_group_ids"],
        serde_json::json!([group["id"]])
    );
    assert_eq!(
        endpoint["tags_all"]["ManagedBy"], "terraform",
        "default_tags reach the endpoint"
    );
    ws.assert_no_changes();
    assert_eq!(outputs["reachability"]["value"], serde_json::Value::Null);

    // An application host in the first subnet and the application's group:
    // the analysis finds its path to the endpoint.
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let subnet = ws.resource("aws_subnet.app[0]");
    let host = rt
        .block_on(
            ec2.create_network_interface()
                .subnet_id(subnet["id"].as_str().unwrap())
                .groups(app["id"].as_str().unwrap())
                .send(),
        )
        .expect("CreateNetworkInterface")
        .network_interface()
        .and_then(|n| n.network_interface_id())
        .unwrap()
        .to_owned();
    ws.write(
        "terraform.tfvars",
        &format!(
            "service_name = \"{service}\"\nprivate_host = \"{private_host}\"\nvpc_cidr_block = \"10.31.0.0/16\"\nresolver = \"{}\"\nanalysis_source = \"{host}\"\n",
            dns.server()
        ),
    );
    let run = ws.apply();
    assert!(!run.flat().contains("No network path"), "{}", run.text());
    let reachability = &ws.outputs()["reachability"]["value"];
    assert_eq!(reachability["path_found"], true, "{reachability:#}");
    let analysis = ws.resource("planetscale_privatelink_reachability_analysis.db[0]");
    ws.assert_no_changes();
    rt.block_on(
        ec2.delete_network_interface()
            .network_interface_id(&host)
            .send(),
    )
    .expect("DeleteNetworkInterface");

    ws.destroy();
    let insights = &emulator.strict.insights;
    assert!(insights.paths_from(&host).is_empty());
    assert!(
        insights
            .analyses_of(analysis["path_id"].as_str().unwrap())
            .is_empty()
    );
    let left = rt
        .block_on(
            ec2.describe_vpc_endpoints()
                .vpc_endpoint_ids(endpoint["id"].as_str().unwrap())
                .send(),
        )
        .unwrap();
    assert!(
        left.vpc_endpoints()
            .iter()
            .all(|e| e.state().is_some_and(|s| s.as_str() == "deleted"))
    );
    let groups = rt.block_on(
        ec2.describe_security_groups()
            .group_ids(group["id"].as_str().unwrap())
            .send(),
    );
    assert!(
        groups.is_err(),
        "the endpoint's security group is still there"
    );
}
