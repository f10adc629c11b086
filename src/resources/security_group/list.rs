//! Listing security groups for `terraform query` (Terraform 1.14 and
//! later): the groups a `list` block selects, by VPC, tags, and whether a
//! create of this provider was cut off before it finished (the group then
//! still carries the create's token tag). A VPC's `default` group is never
//! listed: this resource cannot own it.

use std::collections::BTreeMap;

use crate::aws::model::SecurityGroup;
use crate::aws::security_group::CREATION_TOKEN_TAG;
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::schema::declare::optional;
use crate::framework::schema::{Block, Schema};
use crate::framework::server::Listed;
use crate::framework::value::Value;
use crate::model;
use crate::validate;

model! {
    /// A `list "planetscale_privatelink_security_group"` block's `config`.
    struct ListModel, attributes mod list_attr {
        vpc_id: Option<String> => optional()
            .each_string("Invalid VPC id", |s| validate::ec2_id(s, "vpc", "VPC"))
            .describe("Only the groups of this VPC."),
        tags: Option<BTreeMap<String, String>> => optional()
            .describe("Only the groups carrying every one of these tags, with these values."),
        made_by_this_provider: Option<bool> => optional().describe(
            "`true`: only the groups a create of this provider left unfinished (they still carry its \
             `planetscale:creation-token` tag, which a finished create removes). `false`: only the others. \
             Left out: both.",
        ),
    }
}

pub fn schema() -> Schema {
    Schema::new(
        Block::new(
            "Finds security groups in the provider's region (a VPC's `default` group left out), for \
             `terraform query`: each result's identity imports it, and `-generate-config-out` writes its \
             configuration.",
        )
        .attributes(ListModel::attributes()),
    )
}

/// The groups `config` selects, at most `limit`.
pub async fn list(
    clients: &Clients,
    config: &Value,
    limit: usize,
    diags: &mut Diagnostics,
) -> Vec<Listed> {
    let m = ListModel::from_value(config);
    let found = match clients.ec2.security_groups_in(m.vpc_id.as_deref()).await {
        Ok(found) => found,
        Err(e) => {
            diags.error(
                "Could not list the security groups",
                format!("DescribeSecurityGroups: {e}"),
            );
            return Vec::new();
        }
    };
    found
        .iter()
        .filter(|g| selected(&m, g))
        .take(limit)
        .map(|g| Listed {
            id: g.id.clone(),
            display_name: format!("{} ({}) in {}", g.name, g.id, g.vpc_id),
        })
        .collect()
}

fn selected(m: &ListModel, g: &SecurityGroup) -> bool {
    let tags = m
        .tags
        .iter()
        .flatten()
        .all(|(k, v)| g.tags.get(k) == Some(v));
    let maker = m
        .made_by_this_provider
        .is_none_or(|mine| g.tags.contains_key(CREATION_TOKEN_TAG) == mine);
    g.name != "default" && m.vpc_id.as_ref().is_none_or(|v| *v == g.vpc_id) && tags && maker
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, tags: &[(&str, &str)]) -> SecurityGroup {
        SecurityGroup {
            id: "sg-1".into(),
            name: name.into(),
            description: String::new(),
            vpc_id: "vpc-1".into(),
            owner_id: String::new(),
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            rules: Vec::new(),
        }
    }

    #[test]
    fn the_default_group_is_never_listed_and_filters_apply() {
        let all = ListModel::default();
        assert!(!selected(&all, &group("default", &[])));
        assert!(selected(&all, &group("db", &[])));
        let cut_off = group("db", &[(CREATION_TOKEN_TAG, "t")]);
        let mine = ListModel {
            made_by_this_provider: Some(true),
            ..ListModel::default()
        };
        assert!(selected(&mine, &cut_off));
        assert!(!selected(&mine, &group("db", &[])));
        let tagged = ListModel {
            tags: Some([("team".to_owned(), "db".to_owned())].into()),
            ..ListModel::default()
        };
        assert!(selected(&tagged, &group("db", &[("team", "db")])));
        assert!(!selected(&tagged, &group("db", &[("team", "web")])));
    }
}
