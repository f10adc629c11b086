//! Attribute paths: where in a value something is, as Terraform shows it
//! (`tags["env"]`, `subnet_ids[2]`, `timeouts.create`).
//!
//! A path is a list of steps from the root of a value: an attribute of an
//! object, a key of a map, or an index into a list, set or tuple. Paths are
//! cheap values; the builders return new paths and leave `self` alone, so a
//! parent path can be extended many times while walking a value.

use std::fmt;

/// One step into a value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    /// An attribute of an object (`.name`).
    Attr(String),
    /// A key of a map (`["key"]`).
    Key(String),
    /// An element of a list or tuple, or the position of a set element on
    /// the wire (`[3]`).
    Index(i64),
}

/// The path of a top-level attribute, for diagnostics:
/// `root("tags")` is `AttributePath::from_attr("tags")`.
pub fn root(name: &str) -> AttributePath {
    AttributePath::from_attr(name)
}

/// A path from the root of a value; empty for the root itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributePath(pub Vec<PathStep>);

impl AttributePath {
    /// The root of a value: no steps.
    pub fn root() -> Self {
        Self::default()
    }

    /// A path of one attribute step, the usual start of a path into a
    /// resource's object: `AttributePath::from_attr("tags")` is the same
    /// path as `AttributePath::root().attr("tags")`.
    pub fn from_attr(name: &str) -> Self {
        Self::root().attr(name)
    }

    /// This path, then the attribute `name`.
    #[must_use]
    pub fn attr(&self, name: &str) -> Self {
        self.with(PathStep::Attr(name.to_owned()))
    }

    /// This path, then the map key `key`.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        self.with(PathStep::Key(key.to_owned()))
    }

    /// This path, then the element at `index`.
    #[must_use]
    pub fn index(&self, index: i64) -> Self {
        self.with(PathStep::Index(index))
    }

    /// Whether this is the root (no steps).
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The steps of this path, from the root.
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }

    /// The path one step up, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        let (_, parent) = self.0.split_last()?;
        Some(Self(parent.to_vec()))
    }

    /// The last step, or `None` at the root.
    pub fn last(&self) -> Option<&PathStep> {
        self.0.last()
    }

    fn with(&self, step: PathStep) -> Self {
        let mut steps = Vec::with_capacity(self.0.len() + 1);
        steps.extend_from_slice(&self.0);
        steps.push(step);
        Self(steps)
    }
}

impl From<Vec<PathStep>> for AttributePath {
    fn from(steps: Vec<PathStep>) -> Self {
        Self(steps)
    }
}

impl fmt::Display for AttributePath {
    /// Terraform's notation: `a.b`, `a["key"]`, `a[0]`; the empty path
    /// shows as `(root)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(root)");
        }
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => f.write_str(name)?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => {
                    f.write_str("[")?;
                    write_quoted(f, key)?;
                    f.write_str("]")?;
                }
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Writes `s` as a double-quoted string literal, escaping quotes,
/// backslashes and control characters the way Terraform's messages do.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_display_like_terraform() {
        let root = AttributePath::root();
        assert_eq!(root.attr("tags").key("env").to_string(), r#"tags["env"]"#);
        assert_eq!(
            root.attr("subnet_ids").index(2).to_string(),
            "subnet_ids[2]"
        );
        assert_eq!(
            root.attr("timeouts").attr("create").to_string(),
            "timeouts.create"
        );
        assert_eq!(
            root.attr("rules")
                .index(0)
                .attr("ports")
                .index(-1)
                .to_string(),
            "rules[0].ports[-1]"
        );
        assert_eq!(root.to_string(), "(root)");
    }

    #[test]
    fn a_path_may_start_with_a_key_or_an_index() {
        assert_eq!(AttributePath::root().key("k").to_string(), r#"["k"]"#);
        assert_eq!(
            AttributePath::root().index(1).attr("a").to_string(),
            "[1].a"
        );
    }

    #[test]
    fn keys_are_escaped() {
        let p = AttributePath::from_attr("tags").key("a\"b\\c\nd\u{7}");
        assert_eq!(p.to_string(), r#"tags["a\"b\\c\nd\u0007"]"#);
        let p = AttributePath::from_attr("tags").key("ünï");
        assert_eq!(p.to_string(), "tags[\"ünï\"]");
    }

    #[test]
    fn builders_leave_the_parent_alone() {
        let parent = AttributePath::from_attr("a");
        let child = parent.attr("b");
        assert_eq!(parent.steps(), &[PathStep::Attr("a".into())]);
        assert_eq!(child.steps().len(), 2);
        assert_eq!(child.parent(), Some(parent.clone()));
        assert_eq!(child.last(), Some(&PathStep::Attr("b".into())));
        assert_eq!(AttributePath::root().parent(), None);
        assert!(AttributePath::root().is_root());
        assert!(!parent.is_root());
        assert_eq!(
            AttributePath::from_attr("x"),
            AttributePath::root().attr("x")
        );
        assert_eq!(
            AttributePath::from(vec![PathStep::Index(3)]),
            AttributePath::root().index(3)
        );
    }

    #[test]
    fn paths_order_and_hash() {
        use std::collections::{BTreeSet, HashSet};
        let a = AttributePath::from_attr("a");
        let b = AttributePath::from_attr("b");
        let set: BTreeSet<_> = [b.clone(), a.clone(), a.clone()].into_iter().collect();
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            vec![a.clone(), b.clone()]
        );
        let hashed: HashSet<_> = [a.clone(), a].into_iter().collect();
        assert_eq!(hashed.len(), 1);
    }
}
