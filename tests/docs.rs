//! The registry documentation under docs/ is what `docs::render` makes of
//! the schemas and examples today, every resource and data source has its
//! page and example, and the hand-written guides are fit for the registry.
//!
//! `UPDATE_DOCS=1 cargo test --test docs` rewrites the generated pages.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod support;

use support::Workspace;
use terraform_provider_planetscale::docs::{self, GENERATED_DIRS, Kind, REGENERATE};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rendered() -> BTreeMap<PathBuf, String> {
    docs::render(
        &terraform_provider_planetscale::server(),
        &root().join("examples"),
    )
}

/// Pages in the generated directories, relative to the repository root.
fn committed_generated_pages() -> Vec<PathBuf> {
    let mut pages = Vec::new();
    for dir in GENERATED_DIRS {
        let Ok(entries) = std::fs::read_dir(root().join("docs").join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("read docs directory").path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path.strip_prefix(root()).unwrap().to_path_buf());
            }
        }
    }
    pages.sort();
    pages
}

fn update_requested() -> bool {
    std::env::var("UPDATE_DOCS").is_ok_and(|v| !v.is_empty() && v != "0")
}

#[test]
fn generated_docs_are_up_to_date() {
    let pages = rendered();
    let mut stale: Vec<String> = Vec::new();
    for (path, text) in &pages {
        match std::fs::read_to_string(root().join(path)) {
            Ok(committed) if &committed == text => {}
            Ok(_) => stale.push(format!("{} (differs)", path.display())),
            Err(_) => stale.push(format!("{} (missing)", path.display())),
        }
    }
    let orphans: Vec<PathBuf> = committed_generated_pages()
        .into_iter()
        .filter(|p| !pages.contains_key(p))
        .collect();
    for orphan in &orphans {
        stale.push(format!(
            "{} (no such resource or data source)",
            orphan.display()
        ));
    }

    if update_requested() {
        for (path, text) in &pages {
            let full = root().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).expect("create docs directory");
            std::fs::write(&full, text).expect("write page");
        }
        for orphan in &orphans {
            std::fs::remove_file(root().join(orphan)).expect("remove stale page");
        }
        if !stale.is_empty() {
            eprintln!("updated:\n  {}", stale.join("\n  "));
        }
        return;
    }
    assert!(
        stale.is_empty(),
        "The documentation under docs/ is out of date with the schemas or examples:\n  {}\n\
         Regenerate it with:\n  {REGENERATE}\nand commit the result.",
        stale.join("\n  ")
    );
}

#[test]
fn every_resource_and_data_source_has_a_page_and_an_example() {
    let server = terraform_provider_planetscale::server();
    let pages = docs::render(&server, &root().join("examples"));
    let mut missing = Vec::new();
    let mut require = |path: PathBuf, what: String| {
        if !path.is_file() {
            missing.push(format!("{what}: {}", path.display()));
        }
    };
    require(
        root().join("examples/provider/provider.tf"),
        "provider example".into(),
    );
    for name in server.resources.keys() {
        let dir = root().join("examples/resources").join(name);
        require(dir.join("resource.tf"), format!("{name} example"));
        require(dir.join("import.sh"), format!("{name} import script"));
    }
    for name in server.data_sources.keys() {
        let dir = root().join("examples/data-sources").join(name);
        require(dir.join("data-source.tf"), format!("{name} example"));
    }
    assert!(missing.is_empty(), "missing:\n  {}", missing.join("\n  "));

    let kinds = server
        .resources
        .keys()
        .map(|n| (Kind::Resource, *n))
        .chain(server.data_sources.keys().map(|n| (Kind::DataSource, *n)));
    for (kind, name) in kinds {
        let path = docs::page_path(kind, name);
        let page = pages
            .get(&path)
            .unwrap_or_else(|| panic!("{name} has no page ({})", path.display()));
        assert!(page.contains(&format!("# {name} (")), "{name}: no title");
        assert!(page.contains("## Example Usage"), "{name}: no example");
        assert!(page.contains("## Schema"), "{name}: no schema");
        if kind == Kind::Resource {
            assert!(page.contains("## Import"), "{name}: no import section");
        }
    }
    let index = &pages[Path::new("docs/index.md")];
    for name in server.resources.keys().chain(server.data_sources.keys()) {
        assert!(
            index.contains(&format!("`{name}`")),
            "index.md omits {name}"
        );
    }
}

#[test]
fn schema_pages_state_every_argument() {
    let server = terraform_provider_planetscale::server();
    let pages = rendered();
    let entries = server
        .resources
        .iter()
        .map(|(n, e)| (docs::page_path(Kind::Resource, n), &e.schema))
        .chain(
            server
                .data_sources
                .iter()
                .map(|(n, e)| (docs::page_path(Kind::DataSource, n), &e.schema)),
        )
        .chain([(PathBuf::from("docs/index.md"), &server.provider_schema)]);
    for (path, schema) in entries {
        let page = &pages[&path];
        for a in &schema.block.attributes {
            let line = page
                .lines()
                .find(|l| l.starts_with(&format!("- `{}` (", a.name)))
                .unwrap_or_else(|| panic!("{}: no line for {}", path.display(), a.name));
            assert!(
                !a.description.is_empty(),
                "{}: {} has no description",
                path.display(),
                a.name
            );
            assert_eq!(line.contains("Sensitive"), a.sensitive, "{line}");
            assert_eq!(
                line.contains("Changing this forces a new resource."),
                a.requires_replace,
                "{line}"
            );
            assert_eq!(
                line.contains("Defaults to `"),
                a.default.is_some(),
                "{line}"
            );
        }
        for b in &schema.block.blocks {
            assert!(
                page.contains(&format!("### Nested Schema for `{}`", b.name)),
                "{}: no section for block {}",
                path.display(),
                b.name
            );
        }
    }
}

/// The page states defaults and replacement from the schema's flags; a
/// description that says them too would say them twice.
#[test]
fn descriptions_leave_defaults_and_replacement_to_the_flags() {
    let server = terraform_provider_planetscale::server();
    let schemas = server
        .resources
        .iter()
        .map(|(n, e)| (*n, &e.schema))
        .chain(server.data_sources.iter().map(|(n, e)| (*n, &e.schema)))
        .chain([("provider", &server.provider_schema)]);
    let mut repeated = Vec::new();
    for (name, schema) in schemas {
        for a in &schema.block.attributes {
            let text = a.description.to_lowercase();
            if a.default.is_some() && (text.contains("default:") || text.contains("defaults to")) {
                repeated.push(format!("{name}.{}: states its default", a.name));
            }
            if a.requires_replace && text.contains("replace") {
                repeated.push(format!(
                    "{name}.{}: states that it forces replacement",
                    a.name
                ));
            }
        }
    }
    assert!(
        repeated.is_empty(),
        "These descriptions repeat what the page adds from the schema's flags; drop the \
         sentence from the description:\n  {}",
        repeated.join("\n  ")
    );
}

fn guides() -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(root().join("docs/guides"))
        .expect("docs/guides exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn guides_have_registry_front_matter() {
    let guides = guides();
    for name in [
        "privatelink-walkthrough.md",
        "with-planetscale-provider.md",
        "migrating-from-aws-vpc-endpoint.md",
        "troubleshooting.md",
    ] {
        assert!(
            guides.iter().any(|(p, _)| p.ends_with(name)),
            "docs/guides/{name} is missing"
        );
    }
    for (path, text) in &guides {
        let front = text
            .strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map(|(front, _)| front)
            .unwrap_or_else(|| panic!("{}: no front matter", path.display()));
        assert!(
            front.lines().any(|l| l.starts_with("page_title: \"")),
            "{}: no page_title",
            path.display()
        );
        assert!(
            front.lines().any(|l| l == "subcategory: \"\""),
            "{}: no subcategory",
            path.display()
        );
        assert!(
            front.contains("description: |-\n  "),
            "{}: no description",
            path.display()
        );
    }
}

/// Every ```terraform and ```hcl block of every page, as `terraform fmt`
/// would write it.
#[test]
fn hcl_in_the_docs_is_formatted() {
    let mut files: Vec<(PathBuf, String)> = rendered().into_iter().collect();
    files.extend(guides());
    let mut unformatted = Vec::new();
    for (path, text) in &files {
        let blocks = fenced_blocks(text, "terraform")
            .into_iter()
            .chain(fenced_blocks(text, "hcl"));
        for (n, block) in blocks.enumerate() {
            let formatted = terraform_fmt(&block);
            if formatted != block {
                unformatted.push(format!(
                    "{} block {}:\n{block}\n-- terraform fmt writes it as --\n{formatted}",
                    path.display(),
                    n + 1
                ));
            }
        }
    }
    assert!(unformatted.is_empty(), "{}", unformatted.join("\n\n"));
}

/// The walkthrough's ```terraform blocks together are one configuration,
/// and it validates (```hcl blocks there are alternatives and excerpts).
#[test]
fn the_walkthrough_configuration_validates() {
    let text = std::fs::read_to_string(root().join("docs/guides/privatelink-walkthrough.md"))
        .expect("read the walkthrough");
    let config = fenced_blocks(&text, "terraform").join("\n");
    let ws = Workspace::new(None);
    ws.write("main.tf", &config);
    ws.init();
    let run = ws.run(&["validate", "-no-color"]);
    assert!(
        run.success(),
        "the walkthrough's configuration does not validate:\n{}\n{config}",
        run.text()
    );
}

fn fenced_blocks(text: &str, language: &str) -> Vec<String> {
    let open = format!("```{language}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_end() == open => current = Some(String::new()),
            Some(block) if line.trim_end() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

fn terraform_fmt(source: &str) -> String {
    let terraform = std::env::var_os("TERRAFORM").unwrap_or_else(|| "terraform".into());
    let mut child = Command::new(&terraform)
        .args(["fmt", "-no-color", "-"])
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("terraform is on PATH (or set TERRAFORM): Terraform 1.11 or later");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "terraform fmt refused:\n{source}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The IAM section names an action for every AWS operation the code calls
/// (`client.<operation>()` in src/aws/), so a role built from the docs has
/// what the provider asks for. IAM action names are matched without
/// regard to case, as IAM matches them.
#[test]
fn the_iam_section_names_every_operation_the_code_calls() {
    let guide = std::fs::read_to_string(root().join("src/docs/authentication.md")).unwrap();
    let section = guide
        .split("### IAM permissions")
        .nth(1)
        .expect("an IAM permissions section")
        .split("\n## ")
        .next()
        .unwrap()
        .to_lowercase();
    let mut missing = Vec::new();
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("src/aws")).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        for (receiver, service) in [("client", ""), ("sts", "sts")] {
            let service = match (service, file.as_str()) {
                ("", "route53.rs") => "route53",
                ("", _) => "ec2",
                (s, _) => s,
            };
            for operation in operations_called_on(&source, receiver) {
                seen += 1;
                let action = format!("`{service}:{}`", pascal(&operation)).to_lowercase();
                if !section.contains(&action) {
                    missing.push(format!("{action} ({file}: {receiver}.{operation}())"));
                }
            }
        }
    }
    assert!(
        seen > 30,
        "only {seen} operations found: the scan is broken"
    );
    assert!(
        missing.is_empty(),
        "src/docs/authentication.md's IAM section misses:\n{}",
        missing.join("\n")
    );
    for permission_only in ["`vpce:allowmultiregion`", "`tiros:createquery`"] {
        assert!(section.contains(permission_only), "{permission_only}");
    }
}

/// The names `x` in `<receiver>.x()` and `<receiver>\n    .x()`, but
/// `clone` and `build`.
fn operations_called_on(source: &str, receiver: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in source.match_indices(receiver) {
        let before = source[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = source[at + receiver.len()..].trim_start();
        let Some(rest) = rest.strip_prefix('.') else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !name.is_empty()
            && rest[name.len()..].starts_with("()")
            && !matches!(name.as_str(), "clone" | "build")
        {
            found.push(name);
        }
    }
    found.sort();
    found.dedup();
    found
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}
