//! Network interfaces, read for their addresses: the hosts in the
//! application's security groups, and the endpoint's own interfaces.

use aws_sdk_ec2::types::Filter;

use crate::aws::model::InterfaceAddresses;
use crate::aws::{AwsError, Ec2, next_page};

/// Values one filter of a describe call takes at most.
const FILTER_VALUES: usize = 200;

impl Ec2 {
    /// The interfaces attached to any of these security groups (filter
    /// `group-id`); a group that does not exist matches nothing.
    pub async fn interfaces_in_groups(
        &self,
        group_ids: &[String],
    ) -> Result<Vec<InterfaceAddresses>, AwsError> {
        self.interfaces_where("group-id", group_ids).await
    }

    /// These interfaces (filter `network-interface-id`, so one that is gone
    /// is simply missing from the answer).
    pub async fn interfaces_by_id(
        &self,
        ids: &[String],
    ) -> Result<Vec<InterfaceAddresses>, AwsError> {
        self.interfaces_where("network-interface-id", ids).await
    }

    async fn interfaces_where(
        &self,
        filter: &str,
        values: &[String],
    ) -> Result<Vec<InterfaceAddresses>, AwsError> {
        let mut found: Vec<InterfaceAddresses> = Vec::new();
        for chunk in values.chunks(FILTER_VALUES) {
            let mut token = None;
            loop {
                let out = self
                    .client
                    .describe_network_interfaces()
                    .filters(
                        Filter::builder()
                            .name(filter)
                            .set_values(Some(chunk.to_vec()))
                            .build(),
                    )
                    .set_next_token(token)
                    .send()
                    .await?;
                for n in out.network_interfaces() {
                    let interface = addresses(n);
                    if !found.iter().any(|f| f.id == interface.id) {
                        found.push(interface);
                    }
                }
                token = next_page(out.next_token());
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(found)
    }
}

fn addresses(n: &aws_sdk_ec2::types::NetworkInterface) -> InterfaceAddresses {
    let ipv4 = n
        .private_ip_addresses()
        .iter()
        .filter_map(|a| a.private_ip_address());
    let ipv6 = n.ipv6_addresses().iter().filter_map(|a| a.ipv6_address());
    let mut addresses: Vec<String> = Vec::new();
    for a in n.private_ip_address().into_iter().chain(ipv4).chain(ipv6) {
        if !addresses.iter().any(|known| known == a) {
            addresses.push(a.to_owned());
        }
    }
    InterfaceAddresses {
        id: n.network_interface_id().unwrap_or_default().to_owned(),
        subnet_id: n.subnet_id().unwrap_or_default().to_owned(),
        group_ids: n
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_owned))
            .collect(),
        addresses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        GroupIdentifier, NetworkInterface, NetworkInterfaceIpv6Address,
        NetworkInterfacePrivateIpAddress,
    };

    #[test]
    fn every_address_once_ipv4_and_ipv6() {
        let n = NetworkInterface::builder()
            .network_interface_id("eni-1")
            .subnet_id("subnet-1")
            .private_ip_address("10.0.2.10")
            .private_ip_addresses(
                NetworkInterfacePrivateIpAddress::builder()
                    .private_ip_address("10.0.2.10")
                    .primary(true)
                    .build(),
            )
            .private_ip_addresses(
                NetworkInterfacePrivateIpAddress::builder()
                    .private_ip_address("10.0.2.11")
                    .build(),
            )
            .ipv6_addresses(
                NetworkInterfaceIpv6Address::builder()
                    .ipv6_address("2600:1f18:1:2::10")
                    .build(),
            )
            .groups(GroupIdentifier::builder().group_id("sg-app").build())
            .build();
        assert_eq!(
            addresses(&n),
            InterfaceAddresses {
                id: "eni-1".into(),
                subnet_id: "subnet-1".into(),
                group_ids: vec!["sg-app".into()],
                addresses: vec![
                    "10.0.2.10".into(),
                    "10.0.2.11".into(),
                    "2600:1f18:1:2::10".into()
                ],
            }
        );
    }
}
