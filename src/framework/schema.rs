//! Schemas: what a provider, resource or data source accepts and returns.
//!
//! Built once per process with small builders, and read by everything else:
//! the protocol layer (GetProviderSchema), validation (each attribute's
//! [`Check`]s, [`Block::check`]), the generic planner (defaults,
//! RequiresReplace, UseStateForUnknown), and the documentation generator.
//!
//! A typed model declares its attributes beside its fields (`model!`'s
//! `=> declaration`, written with [`declare`]'s functions): one
//! declaration gives an attribute's name, type, presence, description,
//! plan behaviour and checks.

use std::collections::{BTreeMap, BTreeSet};

use crate::framework::diag::Diagnostics;
use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::Value;

#[derive(Clone, Debug)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

#[derive(Clone, Debug, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
}

#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub name: &'static str,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Presence {
    Required,
    #[default]
    Optional,
    /// Set by the provider only.
    Computed,
    /// Set by the user, or by the provider when the user leaves it out.
    OptionalComputed,
}

#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub description: String,
    pub presence: Presence,
    pub sensitive: bool,
    /// A change to this attribute replaces the resource.
    pub requires_replace: bool,
    /// When the resource changes, keep the prior value of this computed
    /// attribute instead of marking it unknown (values that never change
    /// after create, such as `id` or `arn`).
    pub use_state_for_unknown: bool,
    /// The value planned when the configuration leaves the attribute out.
    pub default: Option<Value>,
    /// The type's own code sets the value the configuration leaves out (a
    /// resource's plan, from other arguments; a data source's read, or the
    /// provider's configure): a typed model's default for the field is for
    /// reading only, not the schema's ([`Attribute::model_default`]).
    pub without_schema_default: bool,
    /// Checks of the attribute's known value, run at validation.
    pub checks: Vec<Check>,
    /// Semantic equality, for a value AWS re-serialises (a JSON policy):
    /// a new state's value equivalent to the one Terraform holds (the plan
    /// after a write, the prior state after a read) is kept as Terraform
    /// holds it ([`Block::keep_equivalent`]).
    pub equivalent: Option<fn(&Value, &Value) -> bool>,
}

/// A check of one attribute's value in a configuration, run at validation
/// ([`Block::check`]) with the attribute's path. Unknown values and
/// elements are skipped: they are checked once known, at apply.
#[derive(Clone)]
pub enum Check {
    /// Each known string: the value, or each element of a list or set.
    /// An error is reported under `summary` with the check's reason.
    EachString {
        summary: String,
        check: fn(&str) -> Result<(), String>,
    },
    /// The known value, reported on by the check itself.
    Value(fn(AttributePath, &Value, &mut Diagnostics)),
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::EachString { summary, .. } => write!(f, "EachString({summary:?})"),
            Check::Value(_) => f.write_str("Value"),
        }
    }
}

impl Check {
    fn run(&self, path: AttributePath, value: &Value, diags: &mut Diagnostics) {
        match self {
            Check::EachString { summary, check } => {
                let items = match value {
                    Value::List(items) | Value::Set(items) => items.as_slice(),
                    one => std::slice::from_ref(one),
                };
                for item in items {
                    if let Value::String(s) = item
                        && let Err(why) = check(s)
                    {
                        diags.attr_error(path.clone(), summary.clone(), why);
                    }
                }
            }
            Check::Value(check) => check(path, value, diags),
        }
    }
}

/// The start of an attribute's declaration in a typed model: its presence.
/// The model gives the name and type ([`Attribute::named`]).
pub mod declare {
    use super::{Attribute, Presence};
    use crate::framework::types::Type;

    fn with(presence: Presence) -> Attribute {
        Attribute {
            presence,
            ..Attribute::new("", Type::Dynamic)
        }
    }
    /// Set by the configuration, always.
    pub fn required() -> Attribute {
        with(Presence::Required)
    }
    /// Set by the configuration, or left out (null).
    pub fn optional() -> Attribute {
        with(Presence::Optional)
    }
    /// Set by the provider only.
    pub fn computed() -> Attribute {
        with(Presence::Computed)
    }
    /// Set by the configuration, or by the provider when it is left out.
    pub fn optional_computed() -> Attribute {
        with(Presence::OptionalComputed)
    }
}

impl Attribute {
    pub fn new(name: &'static str, ty: Type) -> Self {
        Self {
            name,
            ty,
            description: String::new(),
            presence: Presence::Optional,
            sensitive: false,
            requires_replace: false,
            use_state_for_unknown: false,
            default: None,
            without_schema_default: false,
            checks: Vec::new(),
            equivalent: None,
        }
    }
    /// A declaration ([`declare`]) given its attribute's name and type.
    pub fn named(mut self, name: &'static str, ty: Type) -> Self {
        self.name = name;
        self.ty = ty;
        self
    }
    pub fn string(name: &'static str) -> Self {
        Self::new(name, Type::String)
    }
    pub fn bool(name: &'static str) -> Self {
        Self::new(name, Type::Bool)
    }
    pub fn number(name: &'static str) -> Self {
        Self::new(name, Type::Number)
    }
    pub fn string_set(name: &'static str) -> Self {
        Self::new(name, Type::Set(Box::new(Type::String)))
    }
    pub fn string_list(name: &'static str) -> Self {
        Self::new(name, Type::List(Box::new(Type::String)))
    }
    pub fn string_map(name: &'static str) -> Self {
        Self::new(name, Type::Map(Box::new(Type::String)))
    }

    pub fn required(mut self) -> Self {
        self.presence = Presence::Required;
        self
    }
    pub fn optional(mut self) -> Self {
        self.presence = Presence::Optional;
        self
    }
    pub fn computed(mut self) -> Self {
        self.presence = Presence::Computed;
        self
    }
    pub fn optional_computed(mut self) -> Self {
        self.presence = Presence::OptionalComputed;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }
    /// A default makes the attribute optional and computed: Terraform needs
    /// to accept a planned value the configuration did not set.
    pub fn default(mut self, value: Value) -> Self {
        self.presence = Presence::OptionalComputed;
        self.default = Some(value);
        self
    }
    /// The value left out is set by the type's own code, not by a schema
    /// default: see [`Attribute::without_schema_default`].
    pub fn without_schema_default(mut self) -> Self {
        self.without_schema_default = true;
        self
    }
    /// A typed model's default for the field (`= default`): the schema's
    /// default too, unless the type's own code sets the value.
    pub fn model_default(self, value: Value) -> Self {
        if self.without_schema_default {
            self
        } else {
            self.default(value)
        }
    }
    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    /// Checks each known string of the value (the value, or each element)
    /// with `check`; an error is reported under `summary`.
    pub fn each_string(
        mut self,
        summary: impl Into<String>,
        check: fn(&str) -> Result<(), String>,
    ) -> Self {
        self.checks.push(Check::EachString {
            summary: summary.into(),
            check,
        });
        self
    }
    /// Values `same` finds equivalent are one value: see
    /// [`Attribute::equivalent`].
    pub fn equivalent_when(mut self, same: fn(&Value, &Value) -> bool) -> Self {
        self.equivalent = Some(same);
        self
    }
    /// Checks the known value with `check`, which reports on it.
    pub fn check(mut self, check: fn(AttributePath, &Value, &mut Diagnostics)) -> Self {
        self.checks.push(Check::Value(check));
        self
    }

    pub fn is_required(&self) -> bool {
        self.presence == Presence::Required
    }
    pub fn is_optional(&self) -> bool {
        matches!(
            self.presence,
            Presence::Optional | Presence::OptionalComputed
        )
    }
    pub fn is_computed(&self) -> bool {
        matches!(
            self.presence,
            Presence::Computed | Presence::OptionalComputed
        )
    }
}

impl Block {
    pub fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            ..Self::default()
        }
    }
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }
    /// The attributes a typed model declares (`Model::attributes()`).
    pub fn attributes(mut self, attributes: Vec<Attribute>) -> Self {
        self.attributes.extend(attributes);
        self
    }

    /// In `new` (a state after a write or read), each attribute with
    /// semantic equality whose value is equivalent to `held`'s (the plan or
    /// the prior state) takes `held`'s: Terraform sees no change where AWS
    /// only spelt the value its own way.
    pub fn keep_equivalent(&self, held: &Value, new: &mut Value) {
        let (Value::Object(held), Value::Object(new)) = (held, new) else {
            return;
        };
        for a in &self.attributes {
            let Some(same) = a.equivalent else {
                continue;
            };
            if let (Some(h), Some(n)) = (held.get(a.name), new.get_mut(a.name))
                && h.is_fully_known()
                && h != n
                && same(h, n)
            {
                *n = h.clone();
            }
        }
    }

    /// Runs each attribute's [`Check`]s on a configuration of this block,
    /// skipping null and unknown values.
    pub fn check(&self, config: &Value, diags: &mut Diagnostics) {
        let Value::Object(values) = config else {
            return;
        };
        for a in &self.attributes {
            let Some(value) = values.get(a.name) else {
                continue;
            };
            if matches!(value, Value::Null | Value::Unknown(_)) {
                continue;
            }
            for check in &a.checks {
                check.run(AttributePath::root().attr(a.name), value, diags);
            }
        }
    }
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The names of the attributes and nested blocks, sorted: what a typed
    /// model of this block must name, each once.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .attributes
            .iter()
            .map(|a| a.name)
            .chain(self.blocks.iter().map(|b| b.name))
            .collect();
        names.sort_unstable();
        names
    }

    /// The object type of a value of this block, nested blocks included.
    pub fn value_type(&self) -> Type {
        let mut attrs = BTreeMap::new();
        for a in &self.attributes {
            attrs.insert(a.name.to_owned(), a.ty.clone());
        }
        for b in &self.blocks {
            let inner = b.block.value_type();
            let ty = match b.nesting {
                Nesting::Single => inner,
                Nesting::List => Type::List(Box::new(inner)),
                Nesting::Set => Type::Set(Box::new(inner)),
            };
            attrs.insert(b.name.to_owned(), ty);
        }
        Type::Object(attrs, BTreeSet::new())
    }
}

impl NestedBlock {
    pub fn single(name: &'static str, block: Block) -> Self {
        Self {
            name,
            nesting: Nesting::Single,
            block,
            min_items: 0,
            max_items: 0,
        }
    }
    pub fn set(name: &'static str, block: Block) -> Self {
        Self {
            name,
            nesting: Nesting::Set,
            block,
            min_items: 0,
            max_items: 0,
        }
    }
    pub fn list(name: &'static str, block: Block) -> Self {
        Self {
            name,
            nesting: Nesting::List,
            block,
            min_items: 0,
            max_items: 0,
        }
    }
}

impl Schema {
    pub fn new(block: Block) -> Self {
        Self { version: 0, block }
    }
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

#[cfg(test)]
mod tests {
    use super::declare::{optional, required};
    use super::*;

    fn block() -> Block {
        Block::new("").attributes(vec![
            required()
                .named("ids", Type::Set(Box::new(Type::String)))
                .each_string("Invalid id", |s| {
                    if s.starts_with("x-") {
                        Ok(())
                    } else {
                        Err(format!("{s} is not an x- id."))
                    }
                }),
            optional()
                .named("doc", Type::String)
                .equivalent_when(|a, b| a.as_str().map(str::trim) == b.as_str().map(str::trim)),
        ])
    }

    fn object(pairs: &[(&str, Value)]) -> Value {
        Value::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    #[test]
    fn declared_checks_run_per_known_element_with_the_attributes_path() {
        let config = object(&[
            (
                "ids",
                Value::Set(vec![s("x-1"), s("y-2"), Value::unknown(), s("z-3")]),
            ),
            ("doc", Value::Null),
        ]);
        let mut diags = Diagnostics::new();
        block().check(&config, &mut diags);
        let found: Vec<_> = diags.iter().collect();
        assert_eq!(found.len(), 2, "{found:?}");
        for d in found {
            assert_eq!(d.summary, "Invalid id");
            assert_eq!(d.attribute, Some(AttributePath::root().attr("ids")));
        }
        let mut diags = Diagnostics::new();
        block().check(&object(&[("ids", Value::unknown())]), &mut diags);
        assert!(diags.is_empty(), "an unknown value waits to be known");
    }

    #[test]
    fn an_equivalent_value_keeps_terraforms_spelling_and_a_change_does_not() {
        let held = object(&[("ids", Value::Null), ("doc", s("a"))]);
        let mut new = object(&[("ids", Value::Null), ("doc", s(" a "))]);
        block().keep_equivalent(&held, &mut new);
        assert_eq!(new, held);
        let mut changed = object(&[("ids", Value::Null), ("doc", s("b"))]);
        block().keep_equivalent(&held, &mut changed);
        assert_eq!(changed, object(&[("ids", Value::Null), ("doc", s("b"))]));
    }
}
