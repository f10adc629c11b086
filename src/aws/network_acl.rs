//! Network ACLs: looked up by the subnets associated with them, never
//! changed.

use aws_sdk_ec2::types::Filter;

use crate::aws::model::{NetworkAcl, NetworkAclEntry};
use crate::aws::{AwsError, Ec2, next_page};

impl Ec2 {
    /// The network ACLs associated with any of these subnets (every subnet
    /// has exactly one: its own, or the VPC's default). By the
    /// `association.subnet-id` filter, so a subnet that does not exist
    /// simply matches nothing.
    pub async fn network_acls_of_subnets(
        &self,
        subnet_ids: &[String],
    ) -> Result<Vec<NetworkAcl>, AwsError> {
        if subnet_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_network_acls()
                .filters(
                    Filter::builder()
                        .name("association.subnet-id")
                        .set_values(Some(subnet_ids.to_vec()))
                        .build(),
                )
                .set_next_token(token)
                .send()
                .await?;
            found.extend(out.network_acls().iter().map(network_acl));
            token = next_page(out.next_token());
            if token.is_none() {
                return Ok(found);
            }
        }
    }
}

fn network_acl(acl: &aws_sdk_ec2::types::NetworkAcl) -> NetworkAcl {
    NetworkAcl {
        id: acl.network_acl_id().unwrap_or_default().to_owned(),
        vpc_id: acl.vpc_id().unwrap_or_default().to_owned(),
        is_default: acl.is_default().unwrap_or(false),
        subnet_ids: acl
            .associations()
            .iter()
            .filter_map(|a| a.subnet_id().map(str::to_owned))
            .collect(),
        entries: acl.entries().iter().filter_map(entry).collect(),
    }
}

/// An entry EC2 reported in full; one without a rule number or a block is
/// left out, as it could match nothing.
fn entry(e: &aws_sdk_ec2::types::NetworkAclEntry) -> Option<NetworkAclEntry> {
    Some(NetworkAclEntry {
        rule_number: e.rule_number()?,
        egress: e.egress().unwrap_or(false),
        protocol: e.protocol().unwrap_or("-1").to_owned(),
        allow: e
            .rule_action()
            .is_some_and(|a| a.as_str().eq_ignore_ascii_case("allow")),
        cidr_block: e.cidr_block().or(e.ipv6_cidr_block())?.to_owned(),
        port_range: e.port_range().and_then(|p| Some((p.from()?, p.to()?))),
    })
}
