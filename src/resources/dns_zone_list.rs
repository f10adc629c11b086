//! Listing private hosted zones for `terraform query` (Terraform 1.14 and
//! later): the zones a `list "planetscale_privatelink_dns_zone"` block
//! selects, by name, by a VPC they answer in, by tags, and whether this
//! provider made them (its caller reference says so).

use std::collections::BTreeMap;

use crate::aws::model::{HostedZone, ZoneVpc};
use crate::aws::route53::absolute_name;
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::schema::declare::optional;
use crate::framework::schema::{Block, Schema};
use crate::framework::server::Listed;
use crate::framework::value::Value;
use crate::model;
use crate::validate;

model! {
    /// A `list "planetscale_privatelink_dns_zone"` block's `config`.
    struct ListModel, attributes mod list_attr {
        name: Option<String> => optional()
            .describe("Only the zone for this name (the branch's private host name, such as `<region>.private-connect.psdb.cloud`)."),
        vpc_id: Option<String> => optional()
            .each_string("Invalid VPC id", |s| validate::ec2_id(s, "vpc", "VPC"))
            .describe("Only the zones associated with this VPC of the provider's region."),
        tags: Option<BTreeMap<String, String>> => optional()
            .describe("Only the zones carrying every one of these tags, with these values."),
        made_by_this_provider: Option<bool> => optional().describe(
            "`true`: only the zones this provider made (their caller reference is one of its tokens). \
             `false`: only the others. Left out: both.",
        ),
    }
}

pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "Finds the account's private hosted zones, for `terraform query`: each result's identity \
             imports it, and `-generate-config-out` writes its configuration.",
        )
        .attributes(ListModel::attributes()),
    )
}

/// The zones `config` selects, at most `limit`.
pub async fn list(
    clients: &Clients,
    config: &Value,
    limit: usize,
    diags: &mut Diagnostics,
) -> Vec<Listed> {
    let m = ListModel::from_value(config);
    let r53 = &clients.route53;
    let zones = match r53.private_zones().await {
        Ok(zones) => zones,
        Err(e) => {
            diags.error(
                "Could not list the hosted zones",
                format!("ListHostedZones: {e}"),
            );
            return Vec::new();
        }
    };
    let on_vpc = match &m.vpc_id {
        Some(vpc) => {
            let vpc = ZoneVpc {
                id: vpc.clone(),
                region: clients.region.clone(),
            };
            match r53.zones_on_vpc(&vpc).await {
                Ok(found) => Some(found.into_iter().map(|z| z.id).collect::<Vec<_>>()),
                Err(e) => {
                    diags.error(
                        "Could not list the hosted zones",
                        format!("ListHostedZonesByVPC for {}: {e}", vpc.id),
                    );
                    return Vec::new();
                }
            }
        }
        None => None,
    };
    let mut out = Vec::new();
    for zone in zones.iter().filter(|z| selected(&m, z, on_vpc.as_deref())) {
        if out.len() >= limit {
            break;
        }
        if let Some(wanted) = &m.tags {
            match r53.zone_tags(&zone.id).await {
                Ok(tags) if wanted.iter().all(|(k, v)| tags.get(k) == Some(v)) => {}
                Ok(_) => continue,
                Err(e) => {
                    diags.error(
                        "Could not list the hosted zones",
                        format!("ListTagsForResource for {}: {e}", zone.id),
                    );
                    return out;
                }
            }
        }
        out.push(Listed {
            id: zone.id.clone(),
            display_name: format!("{} ({})", zone.name.trim_end_matches('.'), zone.id),
        });
    }
    out
}

/// Whether a zone passes the filters that need no further call.
fn selected(m: &ListModel, zone: &HostedZone, on_vpc: Option<&[String]>) -> bool {
    let name = m
        .name
        .as_ref()
        .is_none_or(|n| absolute_name(n) == absolute_name(&zone.name));
    let vpc = on_vpc.is_none_or(|ids| ids.contains(&zone.id));
    let maker = m
        .made_by_this_provider
        .is_none_or(|mine| super::is_client_token(&zone.caller_reference) == mine);
    name && vpc && maker
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(id: &str, name: &str, reference: &str) -> HostedZone {
        HostedZone {
            id: id.into(),
            name: name.into(),
            private: true,
            caller_reference: reference.into(),
            vpcs: Vec::new(),
        }
    }

    #[test]
    fn filters_select_by_name_vpc_and_maker() {
        let mine = zone(
            "Z1",
            "us-east-1.private-connect.psdb.cloud.",
            "tf-planetscale-01",
        );
        let other = zone("Z2", "example.internal.", "by-hand");
        let all = ListModel::default();
        assert!(selected(&all, &mine, None) && selected(&all, &other, None));
        let named = ListModel {
            name: Some("us-east-1.private-connect.psdb.cloud".into()),
            ..ListModel::default()
        };
        assert!(selected(&named, &mine, None) && !selected(&named, &other, None));
        let made = ListModel {
            made_by_this_provider: Some(true),
            ..ListModel::default()
        };
        assert!(selected(&made, &mine, None) && !selected(&made, &other, None));
        assert!(!selected(&all, &mine, Some(&["Z2".to_owned()])));
    }
}
