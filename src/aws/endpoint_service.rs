//! What the service data source tells of an endpoint service besides
//! [`Ec2::find_endpoint_service`]: its owner and its zones by id. Zone names
//! differ between accounts (`us-east-1a` here may be another zone
//! elsewhere); zone ids (`use1-az1`) do not.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ServiceDetail};

use crate::aws::model::EndpointServiceDetail;
use crate::aws::{AwsError, Ec2};

impl Ec2 {
    /// The service's owner and zone ids, from a DescribeVpcEndpointServices
    /// call of its own: `NotFound` when EC2 does not know the service,
    /// `AccessDenied` when the caller may not look.
    pub async fn endpoint_service_detail(
        &self,
        name: &str,
    ) -> Result<EndpointServiceDetail, AwsError> {
        let out = self
            .client
            .describe_vpc_endpoint_services()
            .service_names(name)
            .send()
            .await
            .map_err(|e| match AwsError::from(e) {
                AwsError::Api { code, message } if code == "InvalidServiceName" => {
                    AwsError::NotFound { code, message }
                }
                other => other,
            })?;
        out.service_details()
            .iter()
            .find(|d| d.service_name() == Some(name))
            .map(service_detail)
            .ok_or_else(|| AwsError::not_found("InvalidServiceName", name))
    }

    /// Zone name -> zone id in this account and region, for these names
    /// (DescribeAvailabilityZones, opted-in or not).
    pub async fn availability_zone_ids(
        &self,
        names: &[String],
    ) -> Result<BTreeMap<String, String>, AwsError> {
        if names.is_empty() {
            return Ok(BTreeMap::new());
        }
        let out = self
            .client
            .describe_availability_zones()
            .all_availability_zones(true)
            .filters(
                Filter::builder()
                    .name("zone-name")
                    .set_values(Some(names.to_vec()))
                    .build(),
            )
            .send()
            .await?;
        Ok(out
            .availability_zones()
            .iter()
            .filter_map(|z| Some((z.zone_name()?.to_owned(), z.zone_id()?.to_owned())))
            .collect())
    }
}

fn service_detail(d: &ServiceDetail) -> EndpointServiceDetail {
    EndpointServiceDetail {
        owner: d.owner().filter(|o| !o.is_empty()).map(str::to_owned),
        availability_zones: d.availability_zones().to_vec(),
        availability_zone_ids: d.availability_zone_ids().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_and_zone_ids_are_read() {
        let name = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
        let d = ServiceDetail::builder()
            .service_name(name)
            .owner("123456789012")
            .availability_zones("us-east-1a")
            .availability_zones("us-east-1b")
            .availability_zone_ids("use1-az4")
            .availability_zone_ids("use1-az6")
            .build();
        let detail = service_detail(&d);
        assert_eq!(detail.owner.as_deref(), Some("123456789012"));
        assert_eq!(detail.availability_zones, ["us-east-1a", "us-east-1b"]);
        assert_eq!(detail.availability_zone_ids, ["use1-az4", "use1-az6"]);
        let bare = service_detail(&ServiceDetail::builder().owner("").build());
        assert_eq!(bare.owner, None);
        assert!(bare.availability_zone_ids.is_empty());
    }
}
