//! A VPC ready for pairs of a security group and an endpoint using it, as
//! the scenarios that interrupt or break an apply need them: the network,
//! an application group and PlanetScale's endpoint service, made through
//! the SDK; the configuration; and the checks that nothing was left.

use super::Emulator;
use super::Workspace;
use super::emulator::{Network, create_group, create_network};

pub struct Pairs {
    pub emulator: &'static Emulator,
    pub ec2: aws_sdk_ec2::Client,
    pub network: Network,
    pub app_group: String,
    /// A service that does not require acceptance: an endpoint waits in
    /// `pendingAcceptance` (played by the fault proxy) until its timeout.
    pub service: String,
    pub rt: tokio::runtime::Runtime,
}

impl Pairs {
    /// A fresh VPC `10.<octet>.0.0/16` with two subnets in two zones.
    pub fn new(octet: u8) -> Pairs {
        Pairs::on(Emulator::shared(), octet)
    }

    /// The same, in `emulator`.
    pub fn on(emulator: &'static Emulator, octet: u8) -> Pairs {
        let ec2 = emulator.ec2();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let network = rt.block_on(create_network(&ec2, octet, &["us-east-1a", "us-east-1b"]));
        let app_group = rt.block_on(create_group(&ec2, &network.vpc_id, &super::unique("app")));
        let service = emulator.create_endpoint_service(None);
        Pairs {
            emulator,
            ec2,
            network,
            app_group,
            service,
            rt,
        }
    }

    /// `count` pairs; each endpoint has the given create timeout and a tag
    /// `stage = <stage>`.
    pub fn config(&self, count: usize, create_timeout: &str, stage: &str) -> String {
        format!(
            r#"{}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_security_group" "db" {{
  count                      = {count}
  vpc_id                     = "{vpc}"
  allowed_security_group_ids = ["{app}"]
}}

resource "planetscale_privatelink_endpoint" "db" {{
  count              = {count}
  service_name       = "{service}"
  vpc_id             = "{vpc}"
  subnet_ids         = ["{s0}", "{s1}"]
  security_group_ids = [planetscale_privatelink_security_group.db[count.index].id]
  # One private DNS name per VPC: EC2 refuses a second endpoint with it.
  private_dns_enabled = false
  tags = {{
    stage = "{stage}"
  }}

  timeouts {{
    create = "{create_timeout}"
  }}
}}
"#,
            Workspace::required_providers(false),
            vpc = self.network.vpc_id,
            app = self.app_group,
            service = self.service,
            s0 = self.network.subnet_ids[0],
            s1 = self.network.subnet_ids[1],
        )
    }

    /// Endpoints of the VPC in any state but `deleted`, by id.
    pub fn live_endpoints(&self) -> Vec<String> {
        self.rt
            .block_on(super::emulator::live_endpoints(
                &self.ec2,
                &self.network.vpc_id,
            ))
            .iter()
            .filter_map(|e| e.vpc_endpoint_id().map(str::to_owned))
            .collect()
    }

    /// Groups in the VPC but its default and the application's.
    pub fn created_groups(&self) -> usize {
        self.created_group_ids().len()
    }

    /// The ids of the groups in the VPC but its default and the
    /// application's.
    pub fn created_group_ids(&self) -> Vec<String> {
        self.rt
            .block_on(
                self.ec2
                    .describe_security_groups()
                    .filters(
                        aws_sdk_ec2::types::Filter::builder()
                            .name("vpc-id")
                            .values(&self.network.vpc_id)
                            .build(),
                    )
                    .send(),
            )
            .unwrap()
            .security_groups()
            .iter()
            .filter(|g| {
                g.group_name() != Some("default") && g.group_id() != Some(self.app_group.as_str())
            })
            .filter_map(|g| g.group_id().map(str::to_owned))
            .collect()
    }

    pub fn assert_nothing_left(&self) {
        assert_eq!(
            self.live_endpoints(),
            Vec::<String>::new(),
            "an endpoint was left behind"
        );
        assert_eq!(self.created_groups(), 0, "a security group was left behind");
    }

    /// Deletes endpoints through the SDK (what a user would do by hand).
    pub fn delete_endpoints(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        self.rt
            .block_on(
                self.ec2
                    .delete_vpc_endpoints()
                    .set_vpc_endpoint_ids(Some(ids.to_vec()))
                    .send(),
            )
            .expect("DeleteVpcEndpoints");
    }
}

/// Fails when an id appears twice: a resource created twice.
pub fn assert_unique(ids: &[String]) {
    let mut sorted = ids.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        ids.len(),
        "an endpoint was created twice: {ids:?}"
    );
}
