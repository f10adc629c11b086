//! VPCs, subnets and network interfaces: looked up, never changed.

use aws_sdk_ec2::types::{Filter, VpcAttributeName};

use crate::aws::model::{NetworkInterface, Subnet, Vpc, VpcDns};
use crate::aws::{AwsError, Ec2};

fn associated(state: Option<&str>) -> bool {
    matches!(state, Some("associated") | None)
}

impl Ec2 {
    /// The VPC, or `NotFound`; looked up once per process.
    pub async fn find_vpc(&self, id: &str) -> Result<Vpc, AwsError> {
        self.facts
            .vpcs
            .get_or_fetch(id, || self.fetch_vpc(id))
            .await
    }

    /// Whether the VPC has DNS support and DNS hostnames on (private DNS for
    /// an interface endpoint needs both); looked up once per process.
    pub async fn vpc_dns(&self, id: &str) -> Result<VpcDns, AwsError> {
        self.facts
            .vpc_dns
            .get_or_fetch(id, || self.fetch_vpc_dns(id))
            .await
    }

    /// The subnets with these ids; a missing one is `NotFound` naming it.
    /// Looked up once per process and set of ids.
    pub async fn find_subnets(&self, ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
        let mut key: Vec<&str> = ids.iter().map(String::as_str).collect();
        key.sort_unstable();
        self.facts
            .subnets
            .get_or_fetch(&key.join(","), || self.fetch_subnets(ids))
            .await
    }

    /// One DescribeVpcs call for the VPC.
    async fn fetch_vpc(&self, id: &str) -> Result<Vpc, AwsError> {
        let out = self.client.describe_vpcs().vpc_ids(id).send().await?;
        let vpc = out
            .vpcs()
            .iter()
            .find(|v| v.vpc_id() == Some(id))
            .ok_or_else(|| AwsError::not_found("InvalidVpcID.NotFound", id))?;
        let mut cidr_blocks: Vec<String> = vpc
            .cidr_block_association_set()
            .iter()
            .filter(|a| {
                associated(
                    a.cidr_block_state()
                        .and_then(|s| s.state())
                        .map(|s| s.as_str()),
                )
            })
            .filter_map(|a| a.cidr_block().map(str::to_owned))
            .collect();
        if cidr_blocks.is_empty() {
            cidr_blocks.extend(vpc.cidr_block().map(str::to_owned));
        }
        cidr_blocks.extend(
            vpc.ipv6_cidr_block_association_set()
                .iter()
                .filter(|a| {
                    associated(
                        a.ipv6_cidr_block_state()
                            .and_then(|s| s.state())
                            .map(|s| s.as_str()),
                    )
                })
                .filter_map(|a| a.ipv6_cidr_block().map(str::to_owned)),
        );
        Ok(Vpc {
            id: id.to_owned(),
            owner_id: vpc.owner_id().unwrap_or_default().to_owned(),
            cidr_blocks,
        })
    }

    /// Whether the VPC has DNS support and DNS hostnames on (private DNS for
    /// an interface endpoint needs both).
    async fn fetch_vpc_dns(&self, id: &str) -> Result<VpcDns, AwsError> {
        let support = self
            .client
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(VpcAttributeName::EnableDnsSupport);
        let hostnames = self
            .client
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(VpcAttributeName::EnableDnsHostnames);
        let (support, hostnames) = tokio::try_join!(support.send(), hostnames.send())?;
        Ok(VpcDns {
            support: support
                .enable_dns_support()
                .and_then(|v| v.value())
                .unwrap_or(false),
            hostnames: hostnames
                .enable_dns_hostnames()
                .and_then(|v| v.value())
                .unwrap_or(false),
        })
    }

    /// The subnets with these ids; a missing one is `NotFound` naming it.
    async fn fetch_subnets(&self, ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .describe_subnets()
            .set_subnet_ids(Some(ids.to_vec()))
            .send()
            .await?;
        let subnets: Vec<Subnet> = out
            .subnets()
            .iter()
            .map(|s| Subnet {
                id: s.subnet_id().unwrap_or_default().to_owned(),
                vpc_id: s.vpc_id().unwrap_or_default().to_owned(),
                availability_zone: s.availability_zone().unwrap_or_default().to_owned(),
                availability_zone_id: s.availability_zone_id().unwrap_or_default().to_owned(),
                cidr_block: s.cidr_block().unwrap_or_default().to_owned(),
                ipv6_cidr_blocks: s
                    .ipv6_cidr_block_association_set()
                    .iter()
                    .filter(|a| {
                        associated(
                            a.ipv6_cidr_block_state()
                                .and_then(|s| s.state())
                                .map(|s| s.as_str()),
                        )
                    })
                    .filter_map(|a| a.ipv6_cidr_block().map(str::to_owned))
                    .collect(),
            })
            .collect();
        if let Some(missing) = ids.iter().find(|id| !subnets.iter().any(|s| &s.id == *id)) {
            return Err(AwsError::not_found("InvalidSubnetID.NotFound", missing));
        }
        Ok(subnets)
    }

    /// The network interfaces that use a security group: what keeps it
    /// from being deleted.
    pub async fn interfaces_using_group(
        &self,
        group_id: &str,
    ) -> Result<Vec<NetworkInterface>, AwsError> {
        let out = self
            .client
            .describe_network_interfaces()
            .filters(Filter::builder().name("group-id").values(group_id).build())
            .send()
            .await?;
        Ok(out.network_interfaces().iter().map(interface).collect())
    }

    pub async fn find_interfaces(&self, ids: &[String]) -> Result<Vec<NetworkInterface>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .client
            .describe_network_interfaces()
            .set_network_interface_ids(Some(ids.to_vec()))
            .send()
            .await?;
        Ok(out.network_interfaces().iter().map(interface).collect())
    }
}

fn interface(n: &aws_sdk_ec2::types::NetworkInterface) -> NetworkInterface {
    NetworkInterface {
        id: n.network_interface_id().unwrap_or_default().to_owned(),
        description: n.description().unwrap_or_default().to_owned(),
        subnet_id: n.subnet_id().unwrap_or_default().to_owned(),
        availability_zone: n.availability_zone().unwrap_or_default().to_owned(),
        private_ips: n
            .private_ip_addresses()
            .iter()
            .filter_map(|a| a.private_ip_address().map(str::to_owned))
            .collect(),
        ipv6_addresses: n
            .ipv6_addresses()
            .iter()
            .filter_map(|a| a.ipv6_address().map(str::to_owned))
            .collect(),
        group_ids: n
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_owned))
            .collect(),
    }
}
