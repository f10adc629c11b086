//! Tags on any EC2 resource: change only the difference.

use aws_sdk_ec2::types::Tag;

use crate::aws::model::{Tags, tag_changes};
use crate::aws::{AwsError, Ec2};

impl Ec2 {
    /// Moves a resource's tags from `old` to `new` with at most one delete
    /// and one create call.
    pub async fn update_tags(
        &self,
        resource_id: &str,
        old: &Tags,
        new: &Tags,
    ) -> Result<(), AwsError> {
        let (removed, changed) = tag_changes(old, new);
        let removed: Vec<Tag> = removed
            .into_iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        let changed: Vec<Tag> = changed
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        if !removed.is_empty() {
            self.client
                .delete_tags()
                .resources(resource_id)
                .set_tags(Some(removed))
                .send()
                .await?;
        }
        if !changed.is_empty() {
            self.client
                .create_tags()
                .resources(resource_id)
                .set_tags(Some(changed))
                .send()
                .await?;
        }
        Ok(())
    }

    /// Removes tags by key, whatever their values.
    pub async fn delete_tag_keys(&self, resource_id: &str, keys: &[&str]) -> Result<(), AwsError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.client
            .delete_tags()
            .resources(resource_id)
            .set_tags(Some(
                keys.iter()
                    .map(|k| Tag::builder().key(*k).build())
                    .collect(),
            ))
            .send()
            .await?;
        Ok(())
    }
}
