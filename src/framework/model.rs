//! Reading and building object values: the bridge between framework values
//! and the plain Rust structs resources work with.
//!
//! Readers return `None` for null and for unknown values; use
//! [`Attrs::is_unknown`] where the difference matters (validation skips
//! unknown values, plan-time checks wait for them).

use std::collections::{BTreeMap, BTreeSet};

use crate::framework::types::Type;
use crate::framework::value::{Number, Value};

/// The attributes of an object value; a non-object reads as empty.
#[derive(Clone, Copy)]
pub struct Attrs<'a>(Option<&'a BTreeMap<String, Value>>);

impl<'a> Attrs<'a> {
    pub fn of(value: &'a Value) -> Self {
        match value {
            Value::Object(map) => Attrs(Some(map)),
            _ => Attrs(None),
        }
    }

    pub fn get(&self, name: &str) -> &'a Value {
        static NULL: Value = Value::Null;
        self.0.and_then(|m| m.get(name)).unwrap_or(&NULL)
    }

    pub fn is_unknown(&self, name: &str) -> bool {
        matches!(self.get(name), Value::Unknown(_))
    }

    pub fn is_null(&self, name: &str) -> bool {
        matches!(self.get(name), Value::Null)
    }

    pub fn string(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn str(&self, name: &str) -> Option<&'a str> {
        match self.get(name) {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn number(&self, name: &str) -> Option<&'a Number> {
        match self.get(name) {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The elements of a list or set of strings, when the collection and
    /// every element are known.
    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        elements(self.get(name))?
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    /// The elements of a list or set, whatever they hold.
    pub fn elements(&self, name: &str) -> Option<&'a [Value]> {
        elements(self.get(name))
    }

    /// A map of strings, when it and every value are known.
    pub fn string_map(&self, name: &str) -> Option<BTreeMap<String, String>> {
        match self.get(name) {
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Some((k.clone(), s.clone())),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }

    /// A nested object (a block with single nesting).
    pub fn object(&self, name: &str) -> Attrs<'a> {
        Attrs::of(self.get(name))
    }

    pub fn is_present(&self) -> bool {
        self.0.is_some()
    }
}

fn elements(value: &Value) -> Option<&[Value]> {
    match value {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items.as_slice()),
        _ => None,
    }
}

/// Builds an object value attribute by attribute.
#[derive(Default)]
pub struct ObjectBuilder(BTreeMap<String, Value>);

impl ObjectBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, name: &str, value: Value) -> Self {
        self.0.insert(name.to_owned(), value);
        self
    }
    pub fn build(self) -> Value {
        Value::Object(self.0)
    }
}

pub fn string(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

pub fn opt_string(s: Option<impl Into<String>>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.into()))
}

pub fn string_set<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut items: Vec<String> = items.into_iter().map(Into::into).collect();
    items.sort();
    items.dedup();
    Value::Set(items.into_iter().map(Value::String).collect())
}

pub fn string_list<I, S>(items: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Value::List(items.into_iter().map(|s| Value::String(s.into())).collect())
}

pub fn string_map<'a>(items: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Map(
        items
            .into_iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

// ---------------------------------------------------------- typed models --

/// A Rust type an attribute's value converts to and from. Null and unknown
/// read as the type's empty value (use `Option<T>` where null means
/// something); [`Field::write`] gives the value a complete state holds.
pub trait Field: Sized {
    /// Whether an attribute of a nested object of this type may be left
    /// out: `Option<T>`'s are.
    const OPTIONAL: bool = false;
    fn read(value: &Value) -> Self;
    fn write(&self) -> Value;
    /// The Terraform type of the attribute's values.
    fn ty() -> Type;
}

impl Field for String {
    fn read(value: &Value) -> Self {
        value.as_str().unwrap_or_default().to_owned()
    }
    fn write(&self) -> Value {
        Value::String(self.clone())
    }
    fn ty() -> Type {
        Type::String
    }
}

impl Field for bool {
    fn read(value: &Value) -> Self {
        value.as_bool().unwrap_or_default()
    }
    fn write(&self) -> Value {
        Value::Bool(*self)
    }
    fn ty() -> Type {
        Type::Bool
    }
}

macro_rules! integer_fields {
    ($($t:ty),*) => {$(
        /// Numbers out of the type's range read as 0: validation refuses
        /// them before any model reads them.
        impl Field for $t {
            fn read(value: &Value) -> Self {
                value
                    .as_number()
                    .and_then(|n| n.to_integer::<$t>("").ok())
                    .unwrap_or_default()
            }
            fn write(&self) -> Value {
                Value::Number(i64::from(*self).into())
            }
            fn ty() -> Type {
                Type::Number
            }
        }
    )*};
}
integer_fields!(u16, u32, i64);

/// A number as written, for checks that must see a fraction or a value out
/// of every integer type's range before refusing it.
impl Field for Number {
    fn read(value: &Value) -> Self {
        value.as_number().cloned().unwrap_or_else(Number::zero)
    }
    fn write(&self) -> Value {
        Value::Number(self.clone())
    }
    fn ty() -> Type {
        Type::Number
    }
}

/// A value kept as it is: a nested block read elsewhere (`timeouts`).
impl Field for Value {
    fn read(value: &Value) -> Self {
        value.clone()
    }
    fn write(&self) -> Value {
        self.clone()
    }
    fn ty() -> Type {
        Type::Dynamic
    }
}

/// Null: what a model's passthrough field holds until it is set.
impl Default for Value {
    fn default() -> Self {
        Value::Null
    }
}

impl<T: Field> Field for Option<T> {
    const OPTIONAL: bool = true;
    fn read(value: &Value) -> Self {
        match value {
            Value::Null | Value::Unknown(_) => None,
            v => Some(T::read(v)),
        }
    }
    fn write(&self) -> Value {
        self.as_ref().map_or(Value::Null, Field::write)
    }
    fn ty() -> Type {
        T::ty()
    }
}

impl<T: Field> Field for Vec<T> {
    fn read(value: &Value) -> Self {
        value
            .as_elements()
            .map(|items| items.iter().map(T::read).collect())
            .unwrap_or_default()
    }
    fn write(&self) -> Value {
        Value::List(self.iter().map(Field::write).collect())
    }
    fn ty() -> Type {
        Type::List(Box::new(T::ty()))
    }
}

impl<T: Field + Ord> Field for BTreeSet<T> {
    fn read(value: &Value) -> Self {
        value
            .as_elements()
            .map(|items| items.iter().map(T::read).collect())
            .unwrap_or_default()
    }
    fn write(&self) -> Value {
        Value::set(self.iter().map(Field::write).collect())
    }
    fn ty() -> Type {
        Type::Set(Box::new(T::ty()))
    }
}

impl<T: Field> Field for BTreeMap<String, T> {
    fn read(value: &Value) -> Self {
        value
            .as_entries()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), T::read(v))).collect())
            .unwrap_or_default()
    }
    fn write(&self) -> Value {
        Value::Map(self.iter().map(|(k, v)| (k.clone(), v.write())).collect())
    }
    fn ty() -> Type {
        Type::Map(Box::new(T::ty()))
    }
}

/// A secret as `Debug` shows it: whether it is set, never its value.
pub struct Hidden(pub bool);

impl std::fmt::Debug for Hidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0 { "(sensitive)" } else { "(unset)" })
    }
}

/// Declares the typed model of a resource's, data source's or nested
/// block's attributes: a struct whose fields are named as the attributes
/// are, a module of the names (so code and diagnostics never spell an
/// attribute twice), and the conversions from and to the object value.
///
/// ```ignore
/// model! {
///     /// The endpoint's attributes.
///     pub struct Model, attributes mod attr {
///         id: Option<String>,
///         private_dns_enabled: bool = PRIVATE_DNS_DEFAULT,
///     }
/// }
/// ```
///
/// A field with `= default` reads as the default when its attribute is
/// null or unknown; the schema takes its default from the same constant.
///
/// A field with `=> declaration` is an attribute of the schema: the
/// declaration ([`crate::framework::schema::declare`]) gives its presence,
/// description, plan behaviour and checks; its name and type come from the
/// field, its default from `= default`. `Model::attributes()` returns them
/// in declaration order, for the schema's block. A field without one is a
/// nested block the schema declares itself (`timeouts`).
///
/// A model with secrets names them after its attribute module,
/// `attributes mod attr, sensitive [token, secret_key]`: its `Debug` shows
/// whether each is set, never its value, so no `{:?}` can log one.
#[macro_export]
macro_rules! model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident, attributes mod $attr:ident $(, sensitive [$($secret:ident),* $(,)?])? {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty $(= $default:expr)? $(=> $decl:expr)?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Default, PartialEq)]
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                const SENSITIVE: &[&str] = &[$($(stringify!($secret)),*)?];
                // Each name in `sensitive [...]` is a field: a misspelt
                // one fails to compile instead of leaving a secret shown.
                $($( let _ = &self.$secret; )*)?
                let mut d = f.debug_struct(stringify!($name));
                $(
                    if SENSITIVE.contains(&stringify!($field)) {
                        let set = !$crate::framework::model::Field::write(&self.$field).is_null();
                        d.field(stringify!($field), &$crate::framework::model::Hidden(set));
                    } else {
                        d.field(stringify!($field), &self.$field);
                    }
                )*
                d.finish()
            }
        }

        /// The attribute names of the model, one constant each.
        #[allow(non_upper_case_globals, dead_code)]
        $vis mod $attr {
            $( pub const $field: &str = stringify!($field); )*
            /// Every attribute, in declaration order.
            pub const ALL: &[&str] = &[$(stringify!($field)),*];
        }

        #[allow(dead_code)]
        impl $name {
            /// The model of an object value (a config, plan or state).
            pub fn from_value(value: &$crate::framework::value::Value) -> Self {
                let a = $crate::framework::model::Attrs::of(value);
                $name {
                    $( $field: $crate::model!(@read a, $field, $ty $(, $default)?), )*
                }
            }

            /// The schema's attributes the model declares, in declaration
            /// order.
            pub fn attributes() -> ::std::vec::Vec<$crate::framework::schema::Attribute> {
                let declared: [::std::option::Option<$crate::framework::schema::Attribute>; _] = [
                    $( $crate::model!(@declare $field, $ty $(, = $default)? $(, => $decl)?), )*
                ];
                declared.into_iter().flatten().collect()
            }

            /// The object value of the model: a complete state.
            pub fn to_value(&self) -> $crate::framework::value::Value {
                let mut m = ::std::collections::BTreeMap::new();
                $(
                    m.insert(
                        stringify!($field).to_owned(),
                        $crate::framework::model::Field::write(&self.$field),
                    );
                )*
                $crate::framework::value::Value::Object(m)
            }
        }

        impl $crate::framework::model::Field for $name {
            fn read(value: &$crate::framework::value::Value) -> Self {
                $name::from_value(value)
            }
            fn write(&self) -> $crate::framework::value::Value {
                self.to_value()
            }
            fn ty() -> $crate::framework::types::Type {
                let mut attrs = ::std::collections::BTreeMap::new();
                let mut optional = ::std::collections::BTreeSet::new();
                $(
                    attrs.insert(
                        stringify!($field).to_owned(),
                        <$ty as $crate::framework::model::Field>::ty(),
                    );
                    if <$ty as $crate::framework::model::Field>::OPTIONAL {
                        optional.insert(stringify!($field).to_owned());
                    }
                )*
                $crate::framework::types::Type::Object(attrs, optional)
            }
        }
    };
    (@declare $field:ident, $ty:ty $(, = $default:expr)?) => {
        ::std::option::Option::None
    };
    (@declare $field:ident, $ty:ty, => $decl:expr) => {
        ::std::option::Option::Some(
            ($decl).named(stringify!($field), <$ty as $crate::framework::model::Field>::ty()),
        )
    };
    (@declare $field:ident, $ty:ty, = $default:expr, => $decl:expr) => {
        ::std::option::Option::Some(
            ($decl)
                .named(stringify!($field), <$ty as $crate::framework::model::Field>::ty())
                .model_default($crate::framework::model::Field::write(&$default)),
        )
    };
    (@read $a:ident, $field:ident, $ty:ty) => {
        <$ty as $crate::framework::model::Field>::read($a.get(stringify!($field)))
    };
    (@read $a:ident, $field:ident, $ty:ty, $default:expr) => {
        match $a.get(stringify!($field)) {
            $crate::framework::value::Value::Null | $crate::framework::value::Value::Unknown(_) => $default,
            v => <$ty as $crate::framework::model::Field>::read(v),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    model! {
        /// A block with every kind of field.
        struct Sample, attributes mod attr {
            id: Option<String>,
            name: String,
            enabled: bool = true,
            ports: BTreeSet<u16>,
            labels: Option<BTreeMap<String, String>>,
            entries: Vec<Entry>,
        }
    }

    model! {
        struct Entry, attributes mod entry_attr {
            dns_name: String,
        }
    }

    model! {
        /// A block with a secret.
        struct Credentials, attributes mod credentials_attr, sensitive [token, password] {
            user: String,
            token: Option<String>,
            password: Option<String>,
        }
    }

    #[test]
    fn debug_shows_whether_a_secret_is_set_never_its_value() {
        let c = Credentials {
            user: "alice".into(),
            token: Some("tok-3b1f9".into()),
            password: None,
        };
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("tok-3b1f9"), "{shown}");
        assert!(shown.contains("alice"), "other fields are shown: {shown}");
        assert!(
            shown.contains("token: (sensitive)") && shown.contains("password: (unset)"),
            "{shown}"
        );
    }

    #[test]
    fn a_model_reads_what_it_writes() {
        let m = Sample {
            id: Some("x-1".into()),
            name: "n".into(),
            enabled: false,
            ports: [5432, 6432].into(),
            labels: Some([("k".to_owned(), "v".to_owned())].into()),
            entries: vec![Entry {
                dns_name: "a.example".into(),
            }],
        };
        assert_eq!(Sample::from_value(&m.to_value()), m);
        assert_eq!(
            attr::ALL,
            ["id", "name", "enabled", "ports", "labels", "entries"]
        );
        assert_eq!(attr::ports, "ports");
    }

    model! {
        struct WithBlock, attributes mod with_block_attr {
            timeouts: Value,
        }
    }

    #[test]
    fn a_passthrough_value_is_kept_and_defaults_to_null() {
        let timeouts = ObjectBuilder::new().set("create", string("5m")).build();
        let value = ObjectBuilder::new()
            .set(with_block_attr::timeouts, timeouts.clone())
            .build();
        assert_eq!(WithBlock::from_value(&value).timeouts, timeouts);
        assert_eq!(WithBlock::from_value(&Value::Null).timeouts, Value::Null);
        assert_eq!(
            WithBlock::default().to_value(),
            ObjectBuilder::new()
                .set(with_block_attr::timeouts, Value::Null)
                .build()
        );
    }

    #[test]
    fn null_and_unknown_read_as_empty_or_the_default() {
        let value = ObjectBuilder::new()
            .set(attr::id, Value::Unknown(Default::default()))
            .set(attr::enabled, Value::Null)
            .build();
        let m = Sample::from_value(&value);
        assert_eq!(m.id, None);
        assert!(m.enabled, "the declared default");
        assert!(m.ports.is_empty());
        assert_eq!(m.labels, None);
        assert_eq!(
            m.to_value().as_entries().unwrap()[attr::labels],
            Value::Null
        );
    }
}
