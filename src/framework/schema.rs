//! Schemas: what a provider, resource or data source accepts and returns.
//!
//! Built once per process with small builders, and read by everything else:
//! the protocol layer (GetProviderSchema), the generic planner (defaults,
//! RequiresReplace, UseStateForUnknown), and the documentation generator.

use std::collections::{BTreeMap, BTreeSet};

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
        }
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
    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
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
