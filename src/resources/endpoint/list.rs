//! Listing endpoints for `terraform query` (Terraform 1.14 and later):
//! the interface endpoints a `list` block selects, by VPC, service, tags,
//! and whether this provider made them, each named so a person knows it.
//! What a killed apply leaves behind, or what was made by hand from
//! PlanetScale's guide, is found here and adopted with the `import`
//! blocks `terraform query -generate-config-out` writes.

use std::collections::BTreeMap;

use crate::aws::endpoint::CREATE_TOKEN_TAG;
use crate::aws::model::Endpoint;
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::schema::declare::optional;
use crate::framework::schema::{Block, Schema};
use crate::framework::server::Listed;
use crate::framework::value::Value;
use crate::model;
use crate::privatelink::service_name_region;
use crate::validate;

model! {
    /// A `list "planetscale_privatelink_endpoint"` block's `config`.
    struct ListModel, attributes mod list_attr {
        vpc_id: Option<String> => optional()
            .each_string("Invalid VPC id", |s| validate::ec2_id(s, "vpc", "VPC"))
            .describe("Only the endpoints in this VPC."),
        service_name: Option<String> => optional()
            .each_string("Invalid service name", |s| service_name_region(s).map(drop))
            .describe("Only the endpoints to this service (a branch's Private Service Name, `com.amazonaws.vpce.<region>.vpce-svc-...`)."),
        tags: Option<BTreeMap<String, String>> => optional()
            .describe("Only the endpoints carrying every one of these tags, with these values."),
        made_by_this_provider: Option<bool> => optional().describe(
            "`true`: only the endpoints this provider made (they carry its `planetscale:create-token` tag): \
             those of a configuration, and those an apply cut off left behind. `false`: only the others, \
             made by hand or by another tool. Left out: both.",
        ),
    }
}

pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "Finds interface VPC endpoints in the provider's region, for `terraform query`: each result's \
             identity imports it, and `-generate-config-out` writes its configuration.",
        )
        .attributes(ListModel::attributes()),
    )
}

/// The endpoints `config` selects, at most `limit`, in the order EC2
/// lists them.
pub async fn list(
    clients: &Clients,
    config: &Value,
    limit: usize,
    diags: &mut Diagnostics,
) -> Vec<Listed> {
    let m = ListModel::from_value(config);
    let mut filters: Vec<(&str, &str)> = Vec::new();
    if let Some(vpc) = &m.vpc_id {
        filters.push(("vpc-id", vpc));
    }
    if let Some(service) = &m.service_name {
        filters.push(("service-name", service));
    }
    let found = match clients.ec2.interface_endpoints_where(&filters).await {
        Ok(found) => found,
        Err(e) => {
            diags.error(
                "Could not list the VPC endpoints",
                format!("DescribeVpcEndpoints: {e}"),
            );
            return Vec::new();
        }
    };
    found
        .iter()
        .filter(|e| selected(&m, e))
        .take(limit)
        .map(|e| Listed {
            id: e.id.clone(),
            display_name: display_name(e),
        })
        .collect()
}

/// Whether an endpoint EC2 listed passes the filters EC2 was not asked to
/// apply (tags and the maker), and the ones it was (an emulator may not).
fn selected(m: &ListModel, e: &Endpoint) -> bool {
    let tags = m
        .tags
        .iter()
        .flatten()
        .all(|(k, v)| e.tags.get(k) == Some(v));
    let maker = m
        .made_by_this_provider
        .is_none_or(|mine| e.tags.contains_key(CREATE_TOKEN_TAG) == mine);
    m.vpc_id.as_ref().is_none_or(|v| *v == e.vpc_id)
        && m.service_name.as_ref().is_none_or(|s| *s == e.service_name)
        && tags
        && maker
}

/// How a person knows an endpoint: its Name tag (or its id), its service,
/// its VPC and its state.
fn display_name(e: &Endpoint) -> String {
    let name = e.tags.get("Name").map_or(e.id.as_str(), String::as_str);
    let named = if name == e.id {
        e.id.clone()
    } else {
        format!("{name} ({})", e.id)
    };
    format!("{named}: {} in {}, {}", e.service_name, e.vpc_id, e.state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(id: &str, tags: &[(&str, &str)]) -> Endpoint {
        Endpoint {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            service_name: "com.amazonaws.vpce.us-east-1.vpce-svc-1".into(),
            state: "available".into(),
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..Endpoint::default()
        }
    }

    #[test]
    fn filters_select_by_tags_and_maker() {
        let mine = endpoint("vpce-1", &[(CREATE_TOKEN_TAG, "t"), ("team", "db")]);
        let by_hand = endpoint("vpce-2", &[("team", "db")]);
        let m = |tags: Option<&[(&str, &str)]>, made: Option<bool>| ListModel {
            tags: tags.map(|t| {
                t.iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect()
            }),
            made_by_this_provider: made,
            ..ListModel::default()
        };
        assert!(selected(&m(None, None), &mine) && selected(&m(None, None), &by_hand));
        assert!(selected(&m(None, Some(true)), &mine));
        assert!(!selected(&m(None, Some(true)), &by_hand));
        assert!(selected(&m(None, Some(false)), &by_hand));
        assert!(!selected(&m(Some(&[("team", "web")]), None), &mine));
        assert!(selected(&m(Some(&[("team", "db")]), None), &by_hand));
    }

    #[test]
    fn a_display_name_says_name_service_vpc_and_state() {
        assert_eq!(
            display_name(&endpoint("vpce-1", &[("Name", "orders-db")])),
            "orders-db (vpce-1): com.amazonaws.vpce.us-east-1.vpce-svc-1 in vpc-1, available"
        );
        assert_eq!(
            display_name(&endpoint("vpce-2", &[])),
            "vpce-2: com.amazonaws.vpce.us-east-1.vpce-svc-1 in vpc-1, available"
        );
    }
}
