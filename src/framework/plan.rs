//! The generic planner: what every resource's plan needs before its own
//! hook runs. Terraform proposes a new state (configuration values, with
//! prior values kept for computed attributes the configuration leaves out);
//! this turns it into a plan:
//!
//! * **defaults** fill optional attributes the configuration leaves null;
//! * on create, computed attributes the configuration leaves out become
//!   **unknown** ("known after apply");
//! * on update, they become unknown too unless marked
//!   **UseStateForUnknown** (values fixed at create, such as `id` or `arn`);
//! * a change to an attribute marked **RequiresReplace** is reported so
//!   Terraform plans a replacement and shows which argument forced it.

use std::collections::BTreeMap;

use crate::framework::path::AttributePath;
use crate::framework::schema::Block;
use crate::framework::value::Value;

pub struct GenericPlan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub changing: bool,
}

fn attrs(value: &Value) -> Option<&BTreeMap<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn attr<'a>(value: &'a Value, name: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    attrs(value).and_then(|m| m.get(name)).unwrap_or(&NULL)
}

pub fn plan_attributes(
    block: &Block,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> GenericPlan {
    let creating = prior.is_null();
    let mut planned = proposed.clone();
    let Value::Object(map) = &mut planned else {
        return GenericPlan {
            planned,
            requires_replace: Vec::new(),
            changing: creating,
        };
    };

    for a in &block.attributes {
        if let Some(default) = &a.default
            && attr(config, a.name).is_null()
        {
            map.insert(a.name.to_owned(), default.clone());
        }
    }

    // A change is any difference in what the user can set; computed values
    // carried over from the prior state do not count.
    let changing = creating
        || block.attributes.iter().any(|a| {
            !(a.is_computed() && attr(config, a.name).is_null() && a.default.is_none())
                && map.get(a.name).unwrap_or(&Value::Null) != attr(prior, a.name)
        })
        || block
            .blocks
            .iter()
            .any(|b| map.get(b.name).unwrap_or(&Value::Null) != attr(prior, b.name));

    if changing {
        for a in &block.attributes {
            let unset = attr(config, a.name).is_null() && a.default.is_none();
            if !(a.is_computed() && unset) {
                continue;
            }
            let keep = !creating && a.use_state_for_unknown && !attr(prior, a.name).is_null();
            let value = if keep {
                attr(prior, a.name).clone()
            } else {
                Value::Unknown(Default::default())
            };
            map.insert(a.name.to_owned(), value);
        }
    }

    let mut requires_replace = Vec::new();
    if !creating {
        for a in block.attributes.iter().filter(|a| a.requires_replace) {
            if map.get(a.name).unwrap_or(&Value::Null) != attr(prior, a.name) {
                requires_replace.push(AttributePath::root().attr(a.name));
            }
        }
    }

    GenericPlan {
        planned,
        requires_replace,
        changing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::Attribute;

    fn block() -> Block {
        Block::new("test")
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("state").computed())
            .attribute(Attribute::string("vpc_id").required().requires_replace())
            .attribute(Attribute::bool("dns").default(Value::Bool(true)))
            .attribute(Attribute::string("note").optional())
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }

    fn unknown() -> Value {
        Value::Unknown(Default::default())
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let config = obj(&[
            ("id", Value::Null),
            ("state", Value::Null),
            ("vpc_id", s("vpc-1")),
            ("dns", Value::Null),
            ("note", Value::Null),
        ]);
        let plan = plan_attributes(&block(), &Value::Null, &config, &config);
        assert!(plan.changing);
        assert!(plan.requires_replace.is_empty());
        assert_eq!(attr(&plan.planned, "id"), &unknown());
        assert_eq!(attr(&plan.planned, "state"), &unknown());
        assert_eq!(attr(&plan.planned, "dns"), &Value::Bool(true));
    }

    #[test]
    fn no_change_keeps_prior_values() {
        let prior = obj(&[
            ("id", s("x-1")),
            ("state", s("available")),
            ("vpc_id", s("vpc-1")),
            ("dns", Value::Bool(true)),
            ("note", Value::Null),
        ]);
        let config = obj(&[
            ("id", Value::Null),
            ("state", Value::Null),
            ("vpc_id", s("vpc-1")),
            ("dns", Value::Null),
            ("note", Value::Null),
        ]);
        let plan = plan_attributes(&block(), &prior, &prior, &config);
        assert!(!plan.changing);
        assert_eq!(plan.planned, prior);
    }

    #[test]
    fn update_keeps_only_stable_computed_values() {
        let prior = obj(&[
            ("id", s("x-1")),
            ("state", s("available")),
            ("vpc_id", s("vpc-1")),
            ("dns", Value::Bool(true)),
            ("note", Value::Null),
        ]);
        let config = obj(&[
            ("id", Value::Null),
            ("state", Value::Null),
            ("vpc_id", s("vpc-1")),
            ("dns", Value::Null),
            ("note", s("hello")),
        ]);
        let mut proposed = prior.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("note".into(), s("hello"));
        }
        let plan = plan_attributes(&block(), &prior, &proposed, &config);
        assert!(plan.changing);
        assert_eq!(attr(&plan.planned, "id"), &s("x-1"));
        assert_eq!(attr(&plan.planned, "state"), &unknown());
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn changing_a_replacing_attribute_is_reported() {
        let prior = obj(&[
            ("id", s("x-1")),
            ("state", s("available")),
            ("vpc_id", s("vpc-1")),
            ("dns", Value::Bool(true)),
            ("note", Value::Null),
        ]);
        let config = obj(&[
            ("id", Value::Null),
            ("state", Value::Null),
            ("vpc_id", s("vpc-2")),
            ("dns", Value::Null),
            ("note", Value::Null),
        ]);
        let mut proposed = prior.clone();
        if let Value::Object(m) = &mut proposed {
            m.insert("vpc_id".into(), s("vpc-2"));
        }
        let plan = plan_attributes(&block(), &prior, &proposed, &config);
        assert_eq!(
            plan.requires_replace,
            vec![AttributePath::root().attr("vpc_id")]
        );
    }
}
