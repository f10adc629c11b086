//! Tags as every resource that takes them keeps them (the endpoint, the
//! security group, the reachability analysis's path), the way hashicorp/aws
//! does:
//!
//! * `tags` is the user's map. Keys whose value is null (an optional
//!   variable left unset) are kept in state as null and never sent to AWS.
//! * `tags_all` is the provider's `default_tags` overridden by `tags`,
//!   nulls left out. It is planned as a known value whenever `tags` is
//!   known, so an update that does not touch tags writes none.
//! * Read splits what EC2 reports back: a key belongs to `tags` when the
//!   configuration had it (even with the same value as a default tag), or
//!   when no default tag explains it. Keys the provider ignores
//!   (`ignore_tags`) and the provider's own bookkeeping tags are left out of
//!   both.
//!
//! Every write goes through [`for_aws`], so the same filter applies before
//! every call.

use std::collections::BTreeMap;

use crate::aws::model::Tags;
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::model::{Attrs, string_map};
use crate::framework::path::AttributePath;
use crate::framework::server::PlanChange;
use crate::framework::value::Value;

/// EC2 takes at most this many tags on one resource.
pub const MAX_TAGS: usize = 50;

/// How many tags a resource of one AWS service holds at most, and how
/// the service's documents name it.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: usize,
    pub service: &'static str,
    pub per: &'static str,
}

/// EC2: 50 tags per resource (API_CreateTags).
pub const EC2: Limit = Limit {
    max: MAX_TAGS,
    service: "EC2",
    per: "resource",
};

/// Route 53: 10 tags per hosted zone (API_ChangeTagsForResource: "You can
/// add a maximum of 10 tags to a health check or a hosted zone").
pub const ROUTE53_ZONE: Limit = Limit {
    max: 10,
    service: "Route 53",
    per: "hosted zone",
};

/// The known, non-null entries of a `tags` value; `None` while the map or
/// any of its values is unknown. A null map is empty.
pub fn known(value: &Value) -> Option<Tags> {
    match value {
        Value::Null => Some(Tags::new()),
        Value::Map(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `default_tags` overridden by the resource's own tags.
pub fn merge(defaults: &Tags, own: &Tags) -> Tags {
    let mut all = defaults.clone();
    all.extend(own.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
}

/// Plans `tags_all` (known whenever `tags` is) and checks the total against
/// the service's `limit`, counting `reserved` tags the provider adds itself
/// and keeps on the resource.
pub fn plan(
    clients: &Clients,
    change: &mut PlanChange<'_>,
    limit: Limit,
    reserved: usize,
    diags: &mut Diagnostics,
) {
    let config_tags = Attrs::of(change.config).get("tags").clone();
    let tags_all = match known(&config_tags) {
        Some(own) => {
            let all = for_aws(clients, &merge(&clients.default_tags, &own));
            if all.len() + reserved > limit.max {
                let bookkeeping = match reserved {
                    0 => String::new(),
                    1 => ", and 1 the provider keeps on it to find it again".to_owned(),
                    n => format!(", and {n} the provider keeps on it to find it again"),
                };
                diags.attr_error(
                    AttributePath::root().attr("tags"),
                    "Too many tags",
                    format!(
                        "{} takes at most {} tags per {}, and this one would get {}: {} from tags, \
                         {} from the provider's default_tags{bookkeeping}. Remove some, or leave default_tags keys \
                         out of tags.",
                        limit.service,
                        limit.max,
                        limit.per,
                        all.len() + reserved,
                        own.len(),
                        all.len() - own.len(),
                    ),
                );
            }
            string_map(&all)
        }
        None => Value::Unknown(Default::default()),
    };
    let prior = Attrs::of(change.prior).get("tags_all");
    if tags_all != *prior && !change.prior.is_null() {
        change.changing = true;
    }
    change.set_planned("tags_all", tags_all);
}

/// Tags as AWS should hold them: without keys the provider ignores.
pub fn for_aws(clients: &Clients, tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| !clients.ignore_tags.ignores(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The write that takes a resource's tags from `old` to `new` (both
/// `tags_all`): `(from, to)` as AWS holds them, or `None` when AWS would
/// see no change.
pub fn change(clients: &Clients, old: &Tags, new: &Tags) -> Option<(Tags, Tags)> {
    let (from, to) = (for_aws(clients, old), for_aws(clients, new));
    (from != to).then_some((from, to))
}

/// The `tags` argument as state keeps it: a key configured with a null
/// value (an optional variable left unset) stays, as `None`.
pub type OwnTags = BTreeMap<String, Option<String>>;

/// `(tags, tags_all)` for the state, from what EC2 reports less the
/// provider's own bookkeeping tag (`bookkeeping`, a key no user tag has),
/// and the `tags` of the prior state or plan, whose form (null, null
/// values) is kept.
pub fn read(
    clients: &Clients,
    aws_tags: &Tags,
    bookkeeping: &str,
    configured: Option<&OwnTags>,
) -> (Option<OwnTags>, Tags) {
    let mut all = for_aws(clients, aws_tags);
    all.remove(bookkeeping);
    let mut own: OwnTags = all
        .iter()
        .filter(|(k, v)| {
            configured.is_some_and(|c| c.get(*k).is_some_and(Option::is_some))
                || clients.default_tags.get(*k) != Some(*v)
        })
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    // A key configured as null is not in AWS; keep it as the user wrote it.
    for (k, v) in configured.into_iter().flatten() {
        if v.is_none() && !own.contains_key(k) {
            own.insert(k.clone(), None);
        }
    }
    let tags = if own.is_empty() && configured.is_none() {
        None
    } else {
        Some(own)
    };
    (tags, all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn clients_with(defaults: &[(&str, &str)], ignored: &[&str]) -> Clients {
        let mut c = Clients::for_tests();
        c.default_tags = tags(defaults);
        c.ignore_tags.keys = ignored.iter().map(|s| s.to_string()).collect();
        c
    }

    fn map(pairs: &[(&str, Option<&str>)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        v.map_or(Value::Null, |v| Value::String(v.into())),
                    )
                })
                .collect(),
        )
    }

    fn planned_with(clients: &Clients, count: usize, reserved: usize) -> Diagnostics {
        let own: Vec<(String, Option<String>)> = (0..count)
            .map(|i| (format!("k{i:02}"), Some("v".to_owned())))
            .collect();
        let own: Vec<(&str, Option<&str>)> = own
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect();
        let config = crate::framework::model::ObjectBuilder::new()
            .set("tags", map(&own))
            .build();
        let mut change = PlanChange {
            prior: &Value::Null,
            config: &config,
            planned: config.clone(),
            requires_replace: Vec::new(),
            changing: true,
        };
        let mut diags = Diagnostics::new();
        plan(clients, &mut change, EC2, reserved, &mut diags);
        diags
    }

    #[test]
    fn reserved_tags_count_toward_the_limit() {
        let c = clients_with(&[], &[]);
        assert!(!planned_with(&c, 50, 0).has_errors());
        assert!(!planned_with(&c, 49, 1).has_errors());
        let diags = planned_with(&c, 50, 1);
        let text = format!("{diags:?}");
        assert!(diags.has_errors(), "{text}");
        assert!(text.contains("would get 51"), "{text}");
        assert!(text.contains("1 the provider keeps on it"), "{text}");
    }

    #[test]
    fn a_change_of_ignored_keys_alone_writes_nothing() {
        let c = clients_with(&[], &["kubernetes.io/owned"]);
        let old = tags(&[("Name", "db"), ("kubernetes.io/owned", "a")]);
        let by_hand = tags(&[("Name", "db"), ("kubernetes.io/owned", "b")]);
        assert_eq!(change(&c, &old, &by_hand), None);
        let renamed = tags(&[("Name", "app"), ("kubernetes.io/owned", "b")]);
        assert_eq!(
            change(&c, &old, &renamed),
            Some((tags(&[("Name", "db")]), tags(&[("Name", "app")])))
        );
    }

    #[test]
    fn null_values_are_never_tags() {
        let value = map(&[("Name", None), ("Env", Some("prod"))]);
        assert_eq!(known(&value), Some(tags(&[("Env", "prod")])));
        assert_eq!(known(&Value::Null), Some(Tags::new()));
        assert_eq!(known(&Value::Unknown(Default::default())), None);
    }

    fn own(pairs: &[(&str, Option<&str>)]) -> OwnTags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn a_key_also_in_default_tags_stays_in_tags() {
        let c = clients_with(&[("Team", "db"), ("Env", "prod")], &[]);
        let aws = tags(&[("Team", "db"), ("Env", "prod"), ("Name", "x")]);
        let configured = own(&[("Team", Some("db")), ("Name", Some("x"))]);
        let (tags, all) = read(&c, &aws, "", Some(&configured));
        assert_eq!(tags, Some(configured));
        assert_eq!(all, aws);
    }

    #[test]
    fn a_null_value_is_kept_as_configured() {
        let c = clients_with(&[], &[]);
        let configured = own(&[("Name", None), ("Env", Some("prod"))]);
        let (kept, all) = read(
            &c,
            &tags(&[("Env", "prod"), ("bookkeeping", "x")]),
            "bookkeeping",
            Some(&configured),
        );
        assert_eq!(kept, Some(configured));
        assert_eq!(all, tags(&[("Env", "prod")]));
    }

    #[test]
    fn drift_and_ignored_keys() {
        let c = clients_with(&[("Team", "db")], &["kubernetes.io/owned"]);
        let aws = tags(&[
            ("Team", "db"),
            ("Added", "by hand"),
            ("kubernetes.io/owned", "x"),
        ]);
        let (kept, all) = read(&c, &aws, "", None);
        assert_eq!(kept, Some(own(&[("Added", Some("by hand"))])));
        assert_eq!(all, tags(&[("Team", "db"), ("Added", "by hand")]));
        // Untagged stays null, not an empty map.
        let (kept, _) = read(&c, &tags(&[("Team", "db")]), "", None);
        assert_eq!(kept, None);
    }
}
