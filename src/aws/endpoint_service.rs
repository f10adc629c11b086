//! Availability zones by id, for services whose answer gives only names.
//! Zone names differ between accounts (`us-east-1a` here may be another zone
//! elsewhere); zone ids (`use1-az1`) do not.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;

use crate::aws::{AwsError, Ec2};

impl Ec2 {
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
