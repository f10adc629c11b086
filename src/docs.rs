//! Registry documentation, generated from the schemas the provider serves.
//!
//! [`render`] turns a [`Server`]'s provider, resource and data source schemas
//! and the files under `examples/` into the pages the Terraform Registry
//! publishes: `docs/index.md`, `docs/resources/<name>.md` and
//! `docs/data-sources/<name>.md`, where `<name>` is the type name without its
//! `planetscale_` prefix. Each page has the registry's front matter, the
//! description, an example, the schema split into Required, Optional and
//! Read-Only arguments (nested blocks and object attributes get sections of
//! their own), and for resources how to import them.
//!
//! The schema is the one source of truth: a description says what an
//! argument means, and the page adds what the flags say (a default, that a
//! change forces a new resource, that a value is sensitive), so the two
//! cannot drift apart. Guides under `docs/guides/` are written by hand and
//! not touched here.
//!
//! Output is deterministic: the same schemas and examples give the same
//! bytes, so `tests/docs.rs` can compare the committed pages with a fresh
//! rendering (`UPDATE_DOCS=1 cargo test --test it docs::` rewrites them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::framework::identity::IdentitySchema;
use crate::framework::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use crate::framework::server::{Provider, Server};
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::privatelink::PROVIDER_ADDRESS;

/// The directories under `docs/` whose pages are all generated; a page there
/// that [`render`] does not produce is stale.
pub const GENERATED_DIRS: [&str; 2] = ["resources", "data-sources"];

/// The command that regenerates the pages, named in each page's front matter.
pub const REGENERATE: &str = "UPDATE_DOCS=1 cargo test --test it docs::";

/// What the provider page says beyond its schema: what the provider does, and
/// how it finds credentials.
const OVERVIEW: &str = include_str!("docs/overview.md");
const AUTHENTICATION: &str = include_str!("docs/authentication.md");

/// The pages for the provider, every resource and every data source of
/// `server`, keyed by their path relative to the repository root
/// (`docs/...`). Examples are read from `examples_dir`, laid out as the
/// registry's tooling expects: `provider/provider.tf`,
/// `resources/<type>/resource.tf` and `import.sh`,
/// `data-sources/<type>/data-source.tf`. A missing example leaves its section
/// out; `tests/docs.rs` insists on every one.
pub fn render<P: Provider>(server: &Server<P>, examples_dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut pages = BTreeMap::new();
    pages.insert(
        PathBuf::from("docs/index.md"),
        provider_page(server, examples_dir),
    );
    for (name, entry) in &server.resources {
        let dir = examples_dir.join("resources").join(name);
        let page = object_page(
            Kind::Resource,
            name,
            &entry.schema,
            read(&dir.join("resource.tf")),
            read(&dir.join("import.sh")),
            entry.identity.as_ref().map(|(schema, _)| schema),
        );
        pages.insert(page_path(Kind::Resource, name), page);
    }
    for (name, entry) in &server.data_sources {
        let dir = examples_dir.join("data-sources").join(name);
        let page = object_page(
            Kind::DataSource,
            name,
            &entry.schema,
            read(&dir.join("data-source.tf")),
            None,
            None,
        );
        pages.insert(page_path(Kind::DataSource, name), page);
    }
    pages
}

/// Where the page of a resource or data source type goes:
/// `docs/resources/privatelink_endpoint.md` for
/// `planetscale_privatelink_endpoint`.
pub fn page_path(kind: Kind, type_name: &str) -> PathBuf {
    let short = type_name
        .strip_prefix(provider_name())
        .and_then(|rest| rest.strip_prefix('_'))
        .unwrap_or(type_name);
    PathBuf::from("docs")
        .join(kind.dir())
        .join(format!("{short}.md"))
}

/// What a page documents besides the provider itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Resource,
    DataSource,
}

impl Kind {
    fn dir(self) -> &'static str {
        match self {
            Kind::Resource => "resources",
            Kind::DataSource => "data-sources",
        }
    }
    fn title(self) -> &'static str {
        match self {
            Kind::Resource => "Resource",
            Kind::DataSource => "Data Source",
        }
    }
}

/// The provider's type name, `planetscale`: the last part of its address.
fn provider_name() -> &'static str {
    PROVIDER_ADDRESS
        .rsplit('/')
        .next()
        .unwrap_or(PROVIDER_ADDRESS)
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

// ------------------------------------------------------------------ pages --

fn provider_page<P: Provider>(server: &Server<P>, examples_dir: &Path) -> String {
    let description = &server.provider_schema.block.description;
    let mut out = front_matter("Provider: PlanetScale PrivateLink", None, description);
    out.push_str("# PlanetScale PrivateLink Provider\n\n");
    out.push_str(OVERVIEW.trim());
    out.push_str("\n\n");
    if let Some(example) = read(&examples_dir.join("provider/provider.tf")) {
        example_section(&mut out, &example);
    }
    out.push_str(AUTHENTICATION.trim());
    out.push_str("\n\n");

    out.push_str("## Resources and Data Sources\n\n");
    for (name, entry) in &server.resources {
        out.push_str(&format!(
            "- `{name}` (Resource): {}\n",
            first_sentence(&entry.schema.block.description)
        ));
    }
    for (name, entry) in &server.data_sources {
        out.push_str(&format!(
            "- `{name}` (Data Source): {}\n",
            first_sentence(&entry.schema.block.description)
        ));
    }
    out.push('\n');

    schema_section(&mut out, &server.provider_schema);
    finish(out)
}

fn object_page(
    kind: Kind,
    name: &str,
    schema: &Schema,
    example: Option<String>,
    import: Option<String>,
    identity: Option<&IdentitySchema>,
) -> String {
    let description = &schema.block.description;
    let title = format!(
        "{name} {} - terraform-provider-{}",
        kind.title(),
        provider_name()
    );
    let mut out = front_matter(&title, Some(""), description);
    out.push_str(&format!("# {name} ({})\n\n", kind.title()));
    if !description.is_empty() {
        out.push_str(description);
        out.push_str("\n\n");
    }
    if let Some(example) = example {
        example_section(&mut out, &example);
    }
    schema_section(&mut out, schema);
    if let Some(import) = import {
        import_section(&mut out, &import, identity);
    }
    finish(out)
}

/// The registry's YAML front matter. The description is a literal block, so
/// it needs no quoting.
fn front_matter(title: &str, subcategory: Option<&str>, description: &str) -> String {
    let mut out = String::from("---\n");
    out.push_str(&format!(
        "# Generated from the provider's schema; do not edit. Regenerate with: {REGENERATE}\n"
    ));
    out.push_str(&format!("page_title: \"{}\"\n", title.replace('"', "\\\"")));
    if let Some(sub) = subcategory {
        out.push_str(&format!("subcategory: \"{sub}\"\n"));
    }
    out.push_str("description: |-\n");
    for line in description.lines() {
        if line.trim().is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str("---\n\n");
    out
}

fn example_section(out: &mut String, example: &str) {
    out.push_str("## Example Usage\n\n");
    fenced(out, "terraform", example);
}

/// The import section, from `import.sh`: the command as written there, and
/// the same import as an `import` block.
fn import_section(out: &mut String, script: &str, identity: Option<&IdentitySchema>) {
    out.push_str("## Import\n\n");
    let command = script
        .lines()
        .filter_map(|line| line.trim().strip_prefix("terraform import "))
        .map(|rest| rest.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.len() == 2);
    if let Some(words) = command {
        let (address, id) = (words[0], words[1]);
        out.push_str(
            "Import an existing one by its id with an `import` block (Terraform 1.5 and later: \
             `terraform plan` shows the import, `terraform apply` performs it):\n\n",
        );
        fenced(
            out,
            "terraform",
            &format!("import {{\n  to = {address}\n  id = \"{id}\"\n}}\n"),
        );
        if let Some(identity) = identity {
            identity_import(out, address, id, identity);
        }
        out.push_str("Or with the `terraform import` command:\n\n");
    } else {
        out.push_str("Import an existing one with:\n\n");
    }
    fenced(out, "shell", script);
}

/// The same import by identity (Terraform 1.12 and later), and the
/// identity's attributes: the required one takes the import id.
fn identity_import(out: &mut String, address: &str, id: &str, identity: &IdentitySchema) {
    out.push_str(
        "With Terraform 1.12 and later, by its identity (the attributes the provider reports for \
         it, shaped as hashicorp/aws's; those left out are the provider's):\n\n",
    );
    // An id of two parts (`<zone id>:<VPC id>`) gives the two required
    // attributes in order.
    let required = identity.attributes.iter().filter(|a| a.required_for_import);
    let parts: Vec<&str> = if required.clone().count() > 1 {
        id.split(':').collect()
    } else {
        vec![id]
    };
    // As `terraform fmt` writes them: the equals signs aligned.
    let width = required.clone().map(|a| a.name.len()).max().unwrap_or(0);
    let given: Vec<String> = required
        .zip(parts)
        .map(|(a, value)| format!("    {:width$} = \"{value}\"\n", a.name))
        .collect();
    fenced(
        out,
        "terraform",
        &format!(
            "import {{\n  to = {address}\n  identity = {{\n{}  }}\n}}\n",
            given.concat()
        ),
    );
    out.push_str("Identity attributes:\n\n");
    for a in &identity.attributes {
        let presence = if a.required_for_import {
            "Required"
        } else {
            "Optional"
        };
        out.push_str(&format!(
            "- `{}` (String, {presence} for import) {}\n",
            a.name, a.description
        ));
    }
    out.push('\n');
}

fn fenced(out: &mut String, language: &str, text: &str) {
    out.push_str(&format!("```{language}\n{}\n```\n\n", text.trim_end()));
}

/// One trailing newline, no trailing blank lines.
fn finish(mut out: String) -> String {
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

/// The first sentence of a description, for one-line summaries.
fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text.trim_end(),
    }
}

// ----------------------------------------------------------------- schema --

/// Where an argument is listed: what the user must set, may set, or only
/// reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Required,
    Optional,
    ReadOnly,
}

impl Section {
    fn title(self) -> &'static str {
        match self {
            Section::Required => "Required",
            Section::Optional => "Optional",
            Section::ReadOnly => "Read-Only",
        }
    }
}

/// One entry of a schema listing, and what it needs further down the page.
struct Entry<'a> {
    name: &'static str,
    section: Section,
    line: String,
    nested: Option<Nested<'a>>,
}

/// A nested block or object attribute, documented in a section of its own.
enum Nested<'a> {
    Block(&'a Block),
    /// The object's attribute types, which of them are optional, and the
    /// section of the attribute holding it.
    Object(&'a BTreeMap<String, Type>, &'a BTreeSet<String>, Section),
}

/// A nested schema still to write, with the names leading to it.
type Pending<'a> = (Vec<&'static str>, Nested<'a>);

fn schema_section(out: &mut String, schema: &Schema) {
    out.push_str("## Schema\n\n");
    let mut pending = list_block(out, &schema.block, &[], |s| format!("### {}", s.title()));
    // Nested schemas, depth first in the order their parents were listed.
    pending.reverse();
    while let Some((path, nested)) = pending.pop() {
        out.push_str(&format!("<a id=\"{}\"></a>\n", anchor(&path)));
        out.push_str(&format!("### Nested Schema for `{}`\n\n", path.join(".")));
        let children = match nested {
            Nested::Block(block) => list_block(out, block, &path, |s| format!("{}:", s.title())),
            Nested::Object(fields, optional, parent) => {
                object_fields(out, fields, optional, parent);
                Vec::new()
            }
        };
        pending.extend(children.into_iter().rev());
    }
}

/// Lists a block's entries section by section, each under `heading`, and
/// returns the nested schemas they refer to.
fn list_block<'a>(
    out: &mut String,
    block: &'a Block,
    path: &[&'static str],
    heading: fn(Section) -> String,
) -> Vec<Pending<'a>> {
    let mut nested = Vec::new();
    for (section, entries) in grouped(block, path) {
        out.push_str(&heading(section));
        out.push_str("\n\n");
        for entry in entries {
            out.push_str(&entry.line);
            out.push('\n');
            if let Some(inner) = entry.nested {
                let mut child = path.to_vec();
                child.push(entry.name);
                nested.push((child, inner));
            }
        }
        out.push('\n');
    }
    nested
}

/// A block's attributes and nested blocks by section, each sorted by name.
fn grouped<'a>(block: &'a Block, path: &[&'static str]) -> BTreeMap<Section, Vec<Entry<'a>>> {
    let mut sections: BTreeMap<Section, Vec<Entry>> = BTreeMap::new();
    for attribute in &block.attributes {
        let entry = attribute_entry(attribute, path);
        sections.entry(entry.section).or_default().push(entry);
    }
    for nested in &block.blocks {
        let entry = block_entry(nested, path);
        sections.entry(entry.section).or_default().push(entry);
    }
    for entries in sections.values_mut() {
        entries.sort_by_key(|e| e.name);
    }
    sections
}

fn attribute_entry<'a>(a: &'a Attribute, path: &[&'static str]) -> Entry<'a> {
    let section = if a.is_required() {
        Section::Required
    } else if a.is_optional() {
        Section::Optional
    } else {
        Section::ReadOnly
    };
    let mut kind = type_name(&a.ty);
    if a.sensitive {
        kind.push_str(", Sensitive");
    }
    let mut notes = Vec::new();
    if let Some(default) = &a.default {
        notes.push(format!("Defaults to `{}`.", hcl(default)));
    }
    if a.requires_replace {
        notes.push("Changing this forces a new resource.".to_owned());
    }
    let nested = object_of(&a.ty).map(|(fields, optional)| {
        let mut full = path.to_vec();
        full.push(a.name);
        notes.push(see_below(&full));
        Nested::Object(fields, optional, section)
    });
    Entry {
        name: a.name,
        section,
        line: item(a.name, &kind, &a.description, &notes),
        nested,
    }
}

fn block_entry<'a>(b: &'a NestedBlock, path: &[&'static str]) -> Entry<'a> {
    let read_only = block_is_read_only(&b.block);
    let section = if read_only {
        Section::ReadOnly
    } else if b.min_items > 0 {
        Section::Required
    } else {
        Section::Optional
    };
    let mut kind = match b.nesting {
        Nesting::Single => "Block".to_owned(),
        Nesting::List => "Block List".to_owned(),
        Nesting::Set => "Block Set".to_owned(),
    };
    if b.nesting == Nesting::Single {
        kind.push_str(match section {
            Section::Required => ", Required",
            Section::Optional => ", Optional",
            Section::ReadOnly => ", Read-Only",
        });
    } else {
        if b.min_items > 0 {
            kind.push_str(&format!(", Min: {}", b.min_items));
        }
        if b.max_items > 0 {
            kind.push_str(&format!(", Max: {}", b.max_items));
        }
    }
    let mut full = path.to_vec();
    full.push(b.name);
    let notes = vec![see_below(&full)];
    Entry {
        name: b.name,
        section,
        line: item(b.name, &kind, &b.block.description, &notes),
        nested: Some(Nested::Block(&b.block)),
    }
}

/// A block only the provider fills in.
fn block_is_read_only(block: &Block) -> bool {
    (!block.attributes.is_empty() || !block.blocks.is_empty())
        && block
            .attributes
            .iter()
            .all(|a| !a.is_optional() && !a.is_required())
        && block.blocks.iter().all(|b| block_is_read_only(&b.block))
}

/// The fields of an object attribute, listed without descriptions (object
/// types carry none).
fn object_fields(
    out: &mut String,
    fields: &BTreeMap<String, Type>,
    optional: &BTreeSet<String>,
    parent: Section,
) {
    let mut by_section: BTreeMap<Section, Vec<String>> = BTreeMap::new();
    for (name, ty) in fields {
        let section = match parent {
            Section::ReadOnly => Section::ReadOnly,
            _ if optional.contains(name) => Section::Optional,
            _ => Section::Required,
        };
        by_section
            .entry(section)
            .or_default()
            .push(format!("- `{name}` ({})", type_name(ty)));
    }
    for (section, lines) in by_section {
        out.push_str(&format!("{}:\n\n", section.title()));
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
}

/// `- \`name\` (Kind) Description. Notes.`
fn item(name: &str, kind: &str, description: &str, notes: &[String]) -> String {
    let mut line = format!("- `{name}` ({kind})");
    let description = description.trim();
    if !description.is_empty() {
        line.push(' ');
        line.push_str(description);
        if !notes.is_empty() && !description.ends_with(['.', '!', '?']) {
            line.push('.');
        }
    }
    for note in notes {
        line.push(' ');
        line.push_str(note);
    }
    line
}

fn see_below(path: &[&str]) -> String {
    format!("(see [below for nested schema](#{}))", anchor(path))
}

fn anchor(path: &[&str]) -> String {
    format!("nested--{}", path.join("--"))
}

/// The object type inside an attribute type (`Object`, `List of Object`,
/// `Map of Set of Object`...), if any.
fn object_of(ty: &Type) -> Option<(&BTreeMap<String, Type>, &BTreeSet<String>)> {
    match ty {
        Type::Object(fields, optional) => Some((fields, optional)),
        Type::List(inner) | Type::Set(inner) | Type::Map(inner) => object_of(inner),
        _ => None,
    }
}

/// A type as the registry's pages spell it: `String`, `Set of Number`,
/// `List of Object`, `Map of String`.
pub fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(inner) => format!("List of {}", type_name(inner)),
        Type::Set(inner) => format!("Set of {}", type_name(inner)),
        Type::Map(inner) => format!("Map of {}", type_name(inner)),
        Type::Object(..) => "Object".into(),
        Type::Tuple(..) => "Tuple".into(),
    }
}

/// A value as it would be written in HCL: `true`, `"text"`, `[5432, 6432]`,
/// `{ key = "value" }`.
pub fn hcl(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Unknown(_) => "(known after apply)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            let items: Vec<String> = items.iter().map(hcl).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(map) | Value::Object(map) => {
            if map.is_empty() {
                return "{}".into();
            }
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", hcl(v)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::value::Number;

    #[test]
    fn types_read_as_on_the_registry() {
        for (ty, text) in [
            (Type::String, "String"),
            (Type::Bool, "Boolean"),
            (Type::Number, "Number"),
            (Type::set(Type::String), "Set of String"),
            (Type::set(Type::Number), "Set of Number"),
            (Type::map(Type::String), "Map of String"),
            (
                Type::list(Type::object([("a", Type::String)])),
                "List of Object",
            ),
            (
                Type::list(Type::list(Type::String)),
                "List of List of String",
            ),
        ] {
            assert_eq!(type_name(&ty), text);
        }
    }

    #[test]
    fn defaults_are_written_as_hcl() {
        let n = |s: &str| Value::Number(Number::parse(s).unwrap());
        assert_eq!(hcl(&Value::Bool(true)), "true");
        assert_eq!(hcl(&Value::String("a \"b\"".into())), r#""a \"b\"""#);
        assert_eq!(hcl(&Value::Set(vec![n("5432"), n("6432")])), "[5432, 6432]");
        assert_eq!(
            hcl(&Value::Map(
                [("k".to_owned(), Value::String("v".into()))]
                    .into_iter()
                    .collect()
            )),
            r#"{ k = "v" }"#
        );
    }

    #[test]
    fn pages_are_named_without_the_provider_prefix() {
        assert_eq!(
            page_path(Kind::Resource, "planetscale_privatelink_endpoint"),
            Path::new("docs/resources/privatelink_endpoint.md")
        );
        assert_eq!(
            page_path(Kind::DataSource, "planetscale_privatelink_service"),
            Path::new("docs/data-sources/privatelink_service.md")
        );
    }

    #[test]
    fn an_attribute_line_carries_type_flags_and_notes() {
        let a = Attribute::string("vpc_id")
            .required()
            .requires_replace()
            .describe("The VPC.");
        let e = attribute_entry(&a, &[]);
        assert_eq!(e.section, Section::Required);
        assert_eq!(
            e.line,
            "- `vpc_id` (String) The VPC. Changing this forces a new resource."
        );

        let a = Attribute::string("token").sensitive().describe("A token");
        let e = attribute_entry(&a, &[]);
        assert_eq!(e.section, Section::Optional);
        assert_eq!(e.line, "- `token` (String, Sensitive) A token");

        let a = Attribute::bool("on")
            .default(Value::Bool(true))
            .describe("Whether");
        assert_eq!(
            attribute_entry(&a, &[]).line,
            "- `on` (Boolean) Whether. Defaults to `true`."
        );
    }

    /// A provider with one resource and one data source, neither of them
    /// this provider's, to show that every object gets its page.
    mod fake {
        use std::sync::Arc;

        use async_trait::async_trait;

        use crate::framework::diag::Diagnostics;
        use crate::framework::schema::{Attribute, Block, NestedBlock, Schema};
        use crate::framework::server::{Ctx, DataSource, Provider, Resource};
        use crate::framework::types::Type;
        use crate::framework::value::Value;

        pub struct Fake;
        struct Thing;
        struct Lookup;

        #[async_trait]
        impl Provider for Fake {
            type Data = ();
            fn schema(&self) -> Schema {
                Schema::new(
                    Block::new("Fake.").attribute(
                        Attribute::string("secret")
                            .sensitive()
                            .describe("A secret."),
                    ),
                )
            }
            async fn configure(&self, _: &Value, _: &mut Diagnostics) -> Option<()> {
                Some(())
            }
            fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
                vec![Arc::new(Thing)]
            }
            fn data_sources(&self) -> Vec<Arc<dyn DataSource<()>>> {
                vec![Arc::new(Lookup)]
            }
        }

        #[async_trait]
        impl Resource<()> for Thing {
            fn type_name(&self) -> &'static str {
                "planetscale_thing"
            }
            fn schema(&self) -> Schema {
                Schema::new(
                    Block::new("A thing.")
                        .attribute(Attribute::string("name").required().describe("Its name.")),
                )
            }
            async fn create(&self, _: &Ctx<()>, _: &Value, _: &mut Diagnostics) -> Option<Value> {
                None
            }
            async fn read(&self, _: &Ctx<()>, _: &Value, _: &mut Diagnostics) -> Option<Value> {
                None
            }
            async fn update(
                &self,
                _: &Ctx<()>,
                prior: &Value,
                _: &Value,
                _: &mut Diagnostics,
            ) -> Value {
                prior.clone()
            }
            async fn delete(&self, _: &Ctx<()>, _: &Value, _: &mut Diagnostics) {}
            async fn import(&self, _: &Ctx<()>, _: &str, _: &mut Diagnostics) -> Option<Value> {
                None
            }
        }

        #[async_trait]
        impl DataSource<()> for Lookup {
            fn type_name(&self) -> &'static str {
                "planetscale_lookup"
            }
            fn schema(&self) -> Schema {
                let check = Type::object([("name", Type::String), ("status", Type::String)]);
                Schema::new(
                    Block::new("Looks things up.")
                        .attribute(
                            Attribute::string("key")
                                .required()
                                .describe("What to look up."),
                        )
                        .attribute(
                            Attribute::new("checks", Type::list(check))
                                .computed()
                                .describe("What was found."),
                        )
                        .block(NestedBlock::list(
                            "filter",
                            Block::new("A filter.").attribute(
                                Attribute::string("value").required().describe("Value."),
                            ),
                        )),
                )
            }
            async fn read(&self, _: &Ctx<()>, _: &Value, _: &mut Diagnostics) -> Option<Value> {
                None
            }
        }
    }

    #[test]
    fn every_resource_and_data_source_gets_a_page() {
        let examples = tempfile::tempdir().unwrap();
        let dir = examples.path().join("data-sources/planetscale_lookup");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("data-source.tf"),
            "data \"planetscale_lookup\" \"x\" {}\n",
        )
        .unwrap();
        let pages = render(&Server::new(fake::Fake), examples.path());
        let names: Vec<&Path> = pages.keys().map(PathBuf::as_path).collect();
        assert_eq!(
            names,
            [
                Path::new("docs/data-sources/lookup.md"),
                Path::new("docs/index.md"),
                Path::new("docs/resources/thing.md"),
            ]
        );
        let lookup = &pages[Path::new("docs/data-sources/lookup.md")];
        assert!(lookup.contains(
            "page_title: \"planetscale_lookup Data Source - terraform-provider-planetscale\""
        ));
        assert!(lookup.contains("# planetscale_lookup (Data Source)\n\nLooks things up.\n"));
        assert!(lookup.contains(
            "## Example Usage\n\n```terraform\ndata \"planetscale_lookup\" \"x\" {}\n```"
        ));
        assert!(lookup.contains("- `filter` (Block List) A filter."));
        assert!(lookup.contains("### Nested Schema for `checks`\n\nRead-Only:\n\n- `name` (String)\n- `status` (String)\n"));
        assert!(!lookup.contains("## Import"));
        // No example: the page is still there, without the section.
        let thing = &pages[Path::new("docs/resources/thing.md")];
        assert!(thing.contains("- `name` (String) Its name."));
        assert!(!thing.contains("## Example Usage"));
        let index = &pages[Path::new("docs/index.md")];
        assert!(index.contains("- `planetscale_lookup` (Data Source): Looks things up."));
        assert!(index.contains("- `secret` (String, Sensitive) A secret."));
        // The same input, the same bytes.
        assert_eq!(pages, render(&Server::new(fake::Fake), examples.path()));
    }

    #[test]
    fn nested_blocks_and_objects_get_sections_of_their_own() {
        let schema = Schema::new(
            Block::new("Thing.")
                .attribute(Attribute::string("id").computed().describe("Id."))
                .attribute(
                    Attribute::new(
                        "entries",
                        Type::list(Type::object([("dns_name", Type::String)])),
                    )
                    .computed()
                    .describe("Entries."),
                )
                .block(NestedBlock::single(
                    "timeouts",
                    Block::new("Limits.")
                        .attribute(Attribute::string("create").optional().describe("Create.")),
                )),
        );
        let mut out = String::new();
        schema_section(&mut out, &schema);
        assert_eq!(
            out,
            "## Schema\n\n\
             ### Optional\n\n\
             - `timeouts` (Block, Optional) Limits. (see [below for nested schema](#nested--timeouts))\n\n\
             ### Read-Only\n\n\
             - `entries` (List of Object) Entries. (see [below for nested schema](#nested--entries))\n\
             - `id` (String) Id.\n\n\
             <a id=\"nested--timeouts\"></a>\n\
             ### Nested Schema for `timeouts`\n\n\
             Optional:\n\n\
             - `create` (String) Create.\n\n\
             <a id=\"nested--entries\"></a>\n\
             ### Nested Schema for `entries`\n\n\
             Read-Only:\n\n\
             - `dns_name` (String)\n\n"
        );
    }
}
