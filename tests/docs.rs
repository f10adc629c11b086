//! The registry documentation under docs/ is what `docs::render` makes of
//! the schemas and examples today, every resource and data source has its
//! page and example, and the hand-written guides are fit for the registry.
//!
//! `UPDATE_DOCS=1 cargo test --test it docs::` rewrites the generated pages.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support;

use serde_json::json;
use support::emulator::{Network, create_group, create_network, live_endpoints};
use support::{Emulator, Workspace};
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

const WALKTHROUGH: &str = "docs/guides/privatelink-walkthrough.md";
const ENDPOINT: &str = "planetscale_privatelink_endpoint.db";
const GROUP: &str = "planetscale_privatelink_security_group.db";
const ZONE: &str = "planetscale_privatelink_dns_zone.shared";

/// The walkthrough's ```terraform blocks, joined, are one configuration
/// that works (its ```hcl blocks are alternatives, examples and the
/// hub-and-spoke variant). The test gives it the values step 5 asks for,
/// made in the emulator as a user's would be: a VPC with DNS on and two
/// subnets, the application's security group, and PlanetScale's side (an
/// endpoint service whose private DNS name is the Private Host). The apply
/// makes the endpoint `available` and sets every output, and the plan
/// after it is empty. Then the hub-and-spoke section's blocks take the
/// place of the blocks of the same address, which keeps one endpoint in the
/// VPC, and one more apply shares it with two spoke VPCs through the zone;
/// that plans empty too, and the destroy leaves no endpoint and no zone.
#[test]
fn the_walkthrough_applies_plans_empty_and_destroys() {
    let text = std::fs::read_to_string(root().join(WALKTHROUGH)).expect("read the walkthrough");
    let config = fenced_blocks(&text, "terraform").join("\n");
    let documented = tfvars_keys(
        fenced_blocks(section(&text, "## Step 5"), "hcl")
            .first()
            .expect("step 5 shows a terraform.tfvars"),
    );
    assert_eq!(
        documented,
        declared_variables(&config),
        "step 5's terraform.tfvars and the variables the configuration declares differ"
    );

    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hub = rt.block_on(create_network(&ec2, 161, &["us-east-1a", "us-east-1b"]));
    let spokes: Vec<Network> = [162, 163]
        .into_iter()
        .map(|octet| rt.block_on(create_network(&ec2, octet, &["us-east-1a"])))
        .collect();
    let app = rt.block_on(create_group(&ec2, &hub.vpc_id, &support::unique("app")));
    let private_host = format!("walkthrough{}.private-pg.psdb.cloud", std::process::id());
    let service = emulator.create_endpoint_service(Some(&private_host));
    let mut values: BTreeMap<&str, serde_json::Value> = BTreeMap::from([
        ("region", json!("us-east-1")),
        ("service_name", json!(service)),
        ("private_host", json!(private_host)),
        ("vpc_id", json!(hub.vpc_id)),
        ("subnet_ids", json!(hub.subnet_ids)),
        ("application_security_group_id", json!(app)),
    ]);

    let ws = Workspace::new(Some(&emulator.url));
    ws.write("main.tf", &config);
    ws.write("terraform.tfvars", &tfvars(&values, &config));
    ws.init();
    ws.apply();
    let outputs = ws.outputs();
    for (name, output) in outputs.as_object().expect("outputs") {
        assert!(!output["value"].is_null(), "output {name} is not set");
    }
    assert_eq!(outputs["endpoint_state"]["value"], "available");
    assert_eq!(outputs["connection_host"]["value"], private_host.as_str());
    let dns_names = outputs["endpoint_dns_names"]["value"]
        .as_array()
        .expect("endpoint_dns_names is a list");
    assert!(
        !dns_names.is_empty()
            && dns_names
                .iter()
                .all(|n| n.as_str().is_some_and(|n| !n.is_empty())),
        "{dns_names:?}"
    );
    let endpoint = ws.resource(ENDPOINT);
    assert_eq!(endpoint["private_dns_enabled"], true);
    assert_eq!(endpoint["vpc_id"], hub.vpc_id.as_str());
    ws.assert_no_changes();

    // The hub-and-spoke variant, applied to what exists.
    let variant =
        fenced_blocks(section(&text, "## Sharing one endpoint across VPCs"), "hcl").join("\n");
    let config = with_variant(&config, &variant);
    let endpoints = top_level_blocks(&config)
        .into_iter()
        .filter(|(header, _)| header.starts_with("resource \"planetscale_privatelink_endpoint\""))
        .count();
    assert_eq!(endpoints, 1, "the variant adds an endpoint:\n{config}");
    let spoke_vpcs: Vec<&str> = spokes.iter().map(|s| s.vpc_id.as_str()).collect();
    let spoke_cidrs: Vec<&str> = spokes.iter().map(|s| s.cidr.as_str()).collect();
    values.insert("spoke_vpc_ids", json!(spoke_vpcs));
    values.insert("spoke_cidr_blocks", json!(spoke_cidrs));
    ws.write("main.tf", &config);
    ws.write("terraform.tfvars", &tfvars(&values, &config));
    ws.apply();
    let mut zone_vpcs = spoke_vpcs.clone();
    zone_vpcs.push(&hub.vpc_id);
    zone_vpcs.sort();
    let zone = ws.resource(ZONE);
    let zone_id = zone["zone_id"].as_str().expect("zone_id").to_owned();
    let route53 = emulator.route53();
    let associated = rt
        .block_on(route53.get_hosted_zone().id(&zone_id).send())
        .expect("GetHostedZone");
    let mut associated: Vec<&str> = associated
        .vpcs()
        .iter()
        .filter_map(|v| v.vpc_id())
        .collect();
    associated.sort();
    assert_eq!(associated, zone_vpcs, "the zone's VPCs");
    assert_eq!(ws.resource(ENDPOINT)["private_dns_enabled"], false);
    let group = ws.resource(GROUP);
    for cidr in &spoke_cidrs {
        assert!(
            group["allowed_cidr_blocks"]
                .as_array()
                .is_some_and(|a| a.iter().any(|c| c == cidr)),
            "the group does not let {cidr} in: {group:#}"
        );
    }
    assert_eq!(ws.outputs()["endpoint_state"]["value"], "available");
    ws.assert_no_changes();

    ws.destroy();
    assert!(rt.block_on(live_endpoints(&ec2, &hub.vpc_id)).is_empty());
    assert!(
        rt.block_on(route53.get_hosted_zone().id(&zone_id).send())
            .is_err(),
        "the zone is still there"
    );
}

/// The text of the section whose `## ` heading starts with `heading`, up
/// to the next `## ` heading.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(&format!("\n{heading}"))
        .unwrap_or_else(|| panic!("{WALKTHROUGH} has no heading {heading:?}"))
        + 1;
    let rest = &text[start..];
    let end = rest[heading.len()..]
        .find("\n## ")
        .map_or(rest.len(), |i| i + heading.len());
    &rest[..end]
}

/// The top-level blocks of a configuration, as (header, text): the header
/// is the line opening the block without its brace (`resource "a" "b"`),
/// and the text takes in the comment lines right above it.
fn top_level_blocks(config: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut comments = String::new();
    for line in config.lines() {
        match &mut current {
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
                if line == "}" {
                    blocks.extend(current.take());
                }
            }
            None if line.starts_with('#') => {
                comments.push_str(line);
                comments.push('\n');
            }
            None if line.ends_with('{') && !line.starts_with(char::is_whitespace) => {
                let header = line.trim_end_matches('{').trim().to_owned();
                current = Some((header, format!("{}{line}\n", std::mem::take(&mut comments))));
            }
            None => {
                assert!(line.trim().is_empty(), "not inside a block: {line:?}");
                comments.clear();
            }
        }
    }
    assert!(current.is_none(), "a block is not closed:\n{config}");
    blocks
}

/// `config` with each block of `variant` in place of the block of the same
/// header, and the variant's other blocks added.
fn with_variant(config: &str, variant: &str) -> String {
    let base = top_level_blocks(config);
    let variant = top_level_blocks(variant);
    let replaced = base.iter().map(|(header, text)| {
        variant
            .iter()
            .find(|(h, _)| h == header)
            .map_or(text, |(_, t)| t)
    });
    let added = variant
        .iter()
        .filter(|(header, _)| !base.iter().any(|(h, _)| h == header))
        .map(|(_, text)| text);
    replaced
        .chain(added)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names of the variables a configuration declares.
fn declared_variables(config: &str) -> BTreeSet<String> {
    top_level_blocks(config)
        .into_iter()
        .filter_map(|(header, _)| {
            header
                .strip_prefix("variable \"")
                .and_then(|rest| rest.strip_suffix('"'))
                .map(str::to_owned)
        })
        .collect()
}

/// The names a .tfvars file gives values to.
fn tfvars_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, _)| key.trim().to_owned())
        .collect()
}

/// A terraform.tfvars giving `values` (JSON's strings and lists are HCL's
/// too), which must be exactly the variables `config` declares.
fn tfvars(values: &BTreeMap<&str, serde_json::Value>, config: &str) -> String {
    let given: BTreeSet<String> = values.keys().map(|k| (*k).to_owned()).collect();
    assert_eq!(
        given,
        declared_variables(config),
        "the test's values and the configuration's variables differ"
    );
    values
        .iter()
        .map(|(key, value)| format!("{key} = {value}\n"))
        .collect()
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

/// Every message a resource or a data source reports with a summary
/// written out in the code (`diags.error("...", ..)`, `attr_error(path,
/// "...", ..)`, their warnings, and the summaries given to
/// a declaration's `.each_string`, the endpoint's `entry_error` and the connection
/// test's report) has a row of the troubleshooting guide that names it, so a
/// new message comes with what to do about it. Summaries made at run time
/// (`format!("Invalid {name}")`, a wait's `Endpoint {state}`) are left to
/// review.
#[test]
fn the_troubleshooting_guide_names_every_message() {
    let guide = std::fs::read_to_string(root().join("docs/guides/troubleshooting.md"))
        .expect("read the troubleshooting guide");
    let mut files = Vec::new();
    for dir in ["src/resources", "src/data_sources"] {
        rust_files(&root().join(dir), &mut files);
    }
    // The first cell of each table row: the messages it is about.
    let rows: Vec<&str> = guide
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" | ").next())
        .collect();
    let mut seen = 0;
    let mut missing = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for summary in literal_summaries(code) {
            seen += 1;
            if !rows.iter().any(|cell| cell.contains(summary.as_str())) {
                let file = file.strip_prefix(root()).unwrap().display().to_string();
                missing.insert(format!("{summary:?} ({file})"));
            }
        }
    }
    assert!(seen > 100, "only {seen} messages found: the scan is broken");
    assert!(
        missing.is_empty(),
        "docs/guides/troubleshooting.md has no row naming:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source directory") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The summaries written as one string literal in the diagnostic calls of
/// `code`.
fn literal_summaries(code: &str) -> Vec<String> {
    let calls = [
        (".error(", 0),
        (".warning(", 0),
        (".attr_error(", 1),
        (".attr_warning(", 1),
        (".each_string(", 0),
        ("entry_error(", 3),
        ("report.add(", 1),
    ];
    let mut found = Vec::new();
    for (call, position) in calls {
        for (at, _) in code.match_indices(call) {
            let arguments = call_arguments(&code[at + call.len()..]);
            if let Some(summary) = arguments.get(position).and_then(|a| string_literal(a)) {
                found.push(summary);
            }
        }
    }
    found
}

/// The arguments of a call, as written, from the text right after its
/// opening parenthesis: split at the commas outside brackets, strings and
/// character literals.
fn call_arguments(text: &str) -> Vec<String> {
    let mut arguments = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                current.push(c);
                while let Some(s) = chars.next() {
                    current.push(s);
                    match s {
                        '\\' => current.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
                continue;
            }
            // A character literal ('x', '\n'); a lifetime has no closing quote.
            '\'' => {
                current.push(c);
                let mut look = chars.clone();
                match (look.next(), look.next(), look.next()) {
                    (Some('\\'), Some(e), Some('\'')) => {
                        current.extend(['\\', e, '\'']);
                        chars = look;
                    }
                    (Some(x), Some('\''), _) => {
                        current.extend([x, '\'']);
                        chars.next();
                        chars.next();
                    }
                    _ => {}
                }
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => {
                arguments.push(current.trim().to_owned());
                return arguments;
            }
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                arguments.push(std::mem::take(&mut current).trim().to_owned());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    arguments
}

/// The text of `argument` when it is one plain string literal.
fn string_literal(argument: &str) -> Option<String> {
    let inner = argument.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains(['"', '\\'])).then(|| inner.to_owned())
}
