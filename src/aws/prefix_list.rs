//! Managed prefix lists, read for their entries: a security group rule
//! whose source or destination is a prefix list (`pl-...`) means the
//! blocks listed in it.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;

use crate::aws::model::PrefixList;
use crate::aws::{AwsError, Ec2, next_page};

impl Ec2 {
    /// Each prefix list with its entries, by id: the names from one
    /// DescribeManagedPrefixLists call, the entries from one
    /// GetManagedPrefixListEntries call per list, all at once. A list that
    /// cannot be read has its own error (`NotFound` when EC2 does not know
    /// it), so the others still count.
    pub async fn prefix_lists(
        &self,
        ids: &[String],
    ) -> BTreeMap<String, Result<PrefixList, AwsError>> {
        if ids.is_empty() {
            return BTreeMap::new();
        }
        let (names, entries) = tokio::join!(
            self.prefix_list_names(ids),
            self.each(
                ids,
                |ec2, id| async move { ec2.prefix_list_entries(&id).await }
            )
        );
        ids.iter()
            .cloned()
            .zip(entries)
            .map(|(id, cidrs)| {
                let list = match &names {
                    Err(e) => Err(e.clone()),
                    Ok(names) => match names.get(&id) {
                        None => Err(AwsError::not_found("InvalidPrefixListID.NotFound", &id)),
                        Some(name) => cidrs.map(|cidrs| PrefixList {
                            id: id.clone(),
                            name: name.clone(),
                            cidrs,
                        }),
                    },
                };
                (id, list)
            })
            .collect()
    }

    /// Prefix list id -> (its maximum entries, whether it holds IPv6
    /// blocks), for the lists EC2 knows among `ids`: a security group rule
    /// naming a list counts as that many rules toward the group's quota.
    pub async fn prefix_list_sizes(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, (usize, bool)>, AwsError> {
        let mut sizes = BTreeMap::new();
        if ids.is_empty() {
            return Ok(sizes);
        }
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_managed_prefix_lists()
                .set_prefix_list_ids(Some(ids.to_vec()))
                .set_next_token(token)
                .send()
                .await?;
            for list in out.prefix_lists() {
                if let (Some(id), Some(max)) = (list.prefix_list_id(), list.max_entries()) {
                    let v6 = list
                        .address_family()
                        .is_some_and(|f| f.eq_ignore_ascii_case("IPv6"));
                    sizes.insert(id.to_owned(), (usize::try_from(max).unwrap_or(0), v6));
                }
            }
            token = next_page(out.next_token());
            if token.is_none() {
                return Ok(sizes);
            }
        }
    }

    /// Prefix list id -> name, for the lists EC2 knows among `ids`.
    async fn prefix_list_names(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let mut names = BTreeMap::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .describe_managed_prefix_lists()
                .filters(
                    Filter::builder()
                        .name("prefix-list-id")
                        .set_values(Some(ids.to_vec()))
                        .build(),
                )
                .set_next_token(token)
                .send()
                .await?;
            for list in out.prefix_lists() {
                if let Some(id) = list.prefix_list_id() {
                    names.insert(
                        id.to_owned(),
                        list.prefix_list_name().unwrap_or_default().to_owned(),
                    );
                }
            }
            token = next_page(out.next_token());
            if token.is_none() {
                return Ok(names);
            }
        }
    }

    async fn prefix_list_entries(&self, id: &str) -> Result<Vec<String>, AwsError> {
        let mut cidrs = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .get_managed_prefix_list_entries()
                .prefix_list_id(id)
                .set_next_token(token)
                .send()
                .await?;
            cidrs.extend(
                out.entries()
                    .iter()
                    .filter_map(|e| e.cidr().map(str::to_owned)),
            );
            token = next_page(out.next_token());
            if token.is_none() {
                return Ok(cidrs);
            }
        }
    }
}
