//! An endpoint service described in full for the service data source: what
//! [`Ec2::find_endpoint_service`] tells, with the owner and the zones by id.
//! Zone names differ between accounts (`us-east-1a` here may be another
//! zone elsewhere); zone ids (`use1-az1`) do not.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, ServiceDetail};

use crate::aws::model::{EndpointService, EndpointServiceDetail};
use crate::aws::{AwsError, Ec2};

impl Ec2 {
    /// One DescribeVpcEndpointServices call for the service: `NotFound`
    /// when EC2 does not know it, `AccessDenied` when the caller may not
    /// look.
    pub async fn describe_endpoint_service(
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
            .map(|d| service_detail(name, d))
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

fn service_detail(name: &str, d: &ServiceDetail) -> EndpointServiceDetail {
    let mut private_dns_names: Vec<String> = d
        .private_dns_names()
        .iter()
        .filter_map(|p| p.private_dns_name().map(str::to_owned))
        .collect();
    if private_dns_names.is_empty() {
        private_dns_names.extend(d.private_dns_name().map(str::to_owned));
    }
    EndpointServiceDetail {
        service: EndpointService {
            name: name.to_owned(),
            availability_zones: d.availability_zones().to_vec(),
            base_endpoint_dns_names: d.base_endpoint_dns_names().to_vec(),
            private_dns_names,
            acceptance_required: d.acceptance_required().unwrap_or(false),
        },
        owner: d.owner().filter(|o| !o.is_empty()).map(str::to_owned),
        availability_zone_ids: d.availability_zone_ids().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_and_zone_ids_come_with_the_rest() {
        let name = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";
        let d = ServiceDetail::builder()
            .service_name(name)
            .owner("123456789012")
            .availability_zones("us-east-1a")
            .availability_zones("us-east-1b")
            .availability_zone_ids("use1-az4")
            .availability_zone_ids("use1-az6")
            .private_dns_name("db.example.com")
            .acceptance_required(true)
            .build();
        let detail = service_detail(name, &d);
        assert_eq!(detail.owner.as_deref(), Some("123456789012"));
        assert_eq!(detail.availability_zone_ids, ["use1-az4", "use1-az6"]);
        assert_eq!(detail.service.private_dns_names, ["db.example.com"]);
        assert!(detail.service.acceptance_required);
        let bare = service_detail(name, &ServiceDetail::builder().owner("").build());
        assert_eq!(bare.owner, None);
        assert!(bare.availability_zone_ids.is_empty());
    }
}
