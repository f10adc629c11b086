//! planetscale_privatelink_reachability_analysis with the real terraform,
//! against the emulator and the strict layer's Reachability Analyzer
//! stand-in (`support/insights.rs`): create, a refresh that runs nothing, a
//! trigger change that runs a new analysis, import, destroy; and an
//! analysis that finds no path, whose every explanation is a sentence.

use crate::support;

use support::emulator::{Network, create_group, create_network};
use support::insights::Planted;
use support::proxy::{Faults, Proxy};
use support::{Emulator, Workspace};

const ADDRESS: &str = "planetscale_privatelink_reachability_analysis.db";

struct Fixture {
    emulator: &'static Emulator,
    ec2: aws_sdk_ec2::Client,
    network: Network,
    /// The application's group, which the endpoint's group lets in.
    app_group: String,
    /// A group the endpoint's group does not let in.
    other_group: String,
    service: String,
    /// The endpoint's security group's name.
    name: String,
    rt: tokio::runtime::Runtime,
}

fn fixture(octet: u8) -> Fixture {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let network = rt.block_on(create_network(&ec2, octet, &["us-east-1a", "us-east-1b"]));
    let app_group = rt.block_on(create_group(&ec2, &network.vpc_id, &support::unique("app")));
    let other_group = rt.block_on(create_group(
        &ec2,
        &network.vpc_id,
        &support::unique("other"),
    ));
    let service = emulator.create_endpoint_service(None);
    Fixture {
        emulator,
        ec2,
        network,
        app_group,
        other_group,
        service,
        name: support::unique("db"),
        rt,
    }
}

impl Fixture {
    /// A host of the application: a network interface in the first subnet
    /// and `group`.
    fn host(&self, group: &str) -> String {
        self.rt
            .block_on(
                self.ec2
                    .create_network_interface()
                    .subnet_id(&self.network.subnet_ids[0])
                    .groups(group)
                    .send(),
            )
            .expect("CreateNetworkInterface")
            .network_interface()
            .and_then(|n| n.network_interface_id())
            .expect("interface id")
            .to_owned()
    }

    /// The endpoint, its security group letting the application's group in
    /// on 5432 (and nothing else), and the analysis from `source` with
    /// `extra` arguments.
    fn config(&self, source: &str, extra: &str) -> String {
        format!(
            r#"{providers}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_security_group" "db" {{
  vpc_id                     = "{vpc}"
  name                       = "{name}"
  ports                      = [5432]
  allowed_security_group_ids = ["{app}"]
  allow_vpc_cidr             = false
}}

resource "planetscale_privatelink_endpoint" "db" {{
  service_name        = "{service}"
  vpc_id              = "{vpc}"
  subnet_ids          = ["{s0}", "{s1}"]
  security_group_ids  = [planetscale_privatelink_security_group.db.id]
  private_dns_enabled = false
}}

resource "planetscale_privatelink_reachability_analysis" "db" {{
  source      = "{source}"
  endpoint_id = planetscale_privatelink_endpoint.db.id
{extra}}}
"#,
            providers = Workspace::required_providers(false),
            vpc = self.network.vpc_id,
            name = self.name,
            app = self.app_group,
            service = self.service,
            s0 = self.network.subnet_ids[0],
            s1 = self.network.subnet_ids[1],
        )
    }
}

#[test]
fn create_refresh_rerun_on_trigger_import_and_destroy() {
    let f = fixture(71);
    let insights = &f.emulator.strict.insights;
    let source = f.host(&f.app_group);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &f.config(&source, "  triggers = { rules = \"1\" }\n"),
    );
    ws.init();
    let applied = ws.apply();
    assert!(
        !applied.flat().contains("No network path"),
        "{}",
        applied.text()
    );

    let r = ws.resource(ADDRESS);
    let path_id = r["path_id"].as_str().unwrap().to_owned();
    let first = r["analysis_id"].as_str().unwrap().to_owned();
    assert!(path_id.starts_with("nip-"), "{r:#}");
    assert_eq!(r["id"], path_id.as_str());
    assert!(first.starts_with("nia-"), "{r:#}");
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["path_found"], true);
    assert_eq!(r["port"], 5432);
    assert_eq!(r["explanations"].as_array().map(Vec::len), Some(0));
    let endpoint = ws.resource("planetscale_privatelink_endpoint.db");
    let interfaces: Vec<&str> = endpoint["network_interface_ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let destination = r["destination_id"].as_str().unwrap();
    assert!(interfaces.contains(&destination), "{r:#}");
    // In EC2: the path over TCP 5432 from the host to that interface.
    let paths = insights.paths();
    assert_eq!(
        paths.get(&path_id),
        Some(&(source.clone(), destination.to_owned(), "5432".to_owned()))
    );
    assert_eq!(insights.started(&path_id), 1);

    // A refresh runs nothing and changes nothing.
    ws.assert_no_changes();
    assert_eq!(insights.started(&path_id), 1);

    // A trigger change runs a new analysis of the same path, and the
    // previous analysis is deleted.
    ws.write(
        "main.tf",
        &f.config(&source, "  triggers = { rules = \"2\" }\n"),
    );
    let plan = ws.plan_code();
    assert!(
        plan.flat().contains("1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply();
    let r = ws.resource(ADDRESS);
    let second = r["analysis_id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(r["path_id"], path_id.as_str());
    assert_eq!(r["path_found"], true);
    assert_eq!(insights.started(&path_id), 2);
    assert_eq!(insights.analyses_of(&path_id), vec![second.clone()]);
    ws.assert_no_changes();

    // fail_on_unreachable alone changes the state only.
    ws.write(
        "main.tf",
        &f.config(
            &source,
            "  triggers = { rules = \"2\" }\n  fail_on_unreachable = true\n",
        ),
    );
    ws.apply();
    assert_eq!(insights.started(&path_id), 2);
    assert_eq!(ws.resource(ADDRESS)["analysis_id"], second.as_str());
    ws.assert_no_changes();

    // Import by path id, into a configuration without triggers: the next
    // plan is empty.
    let imported = Workspace::new(Some(&f.emulator.url));
    imported.write(
        "main.tf",
        &format!(
            "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n\nresource \"planetscale_privatelink_reachability_analysis\" \"db\" {{\n  source      = \"{source}\"\n  endpoint_id = \"{}\"\n}}\n",
            Workspace::required_providers(false),
            endpoint["id"].as_str().unwrap()
        ),
    );
    imported.init();
    imported.ok(&["import", "-input=false", "-no-color", ADDRESS, &path_id]);
    let r = imported.resource(ADDRESS);
    assert_eq!(r["analysis_id"], second.as_str());
    assert_eq!(r["endpoint_id"], endpoint["id"]);
    imported.assert_no_changes();
    imported.ok(&["state", "rm", "-no-color", ADDRESS]);

    ws.destroy();
    assert!(insights.paths_from(&source).is_empty());
    assert!(insights.analyses_of(&path_id).is_empty());
}

#[test]
fn no_path_warns_with_every_explanation_as_a_sentence() {
    let f = fixture(72);
    let insights = &f.emulator.strict.insights;
    // A host in a group the endpoint's group does not let in: the stand-in
    // finds no path from the emulator's rules.
    let stranger = f.host(&f.other_group);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(&stranger, ""));
    ws.init();
    let applied = ws.apply();
    let out = applied.flat();
    assert!(
        out.contains("Warning: No network path to the endpoint"),
        "{out}"
    );
    assert!(
        out.contains("have no inbound rule that allows TCP port 5432"),
        "{out}"
    );
    let r = ws.resource(ADDRESS);
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["path_found"], false);
    let explanations = r["explanations"].as_array().unwrap();
    assert_eq!(explanations.len(), 1, "{r:#}");
    assert_eq!(explanations[0]["code"], "ENI_SG_RULES_MISMATCH");
    assert_eq!(explanations[0]["component_type"], "network interface");
    assert_eq!(explanations[0]["component_id"], r["destination_id"]);
    ws.assert_no_changes();
    let path_id = r["path_id"].as_str().unwrap().to_owned();
    ws.destroy();
    assert!(insights.paths_from(&stranger).is_empty());
    assert!(insights.analyses_of(&path_id).is_empty());

    // Explanations the stand-in cannot work out from the emulator (network
    // ACLs, routes, a code this provider has no sentence for), planted for
    // another host; with fail_on_unreachable the apply fails.
    let host = f.host(&f.app_group);
    insights.plant_no_path(
        &host,
        vec![
            Planted {
                code: "SUBNET_ACL_RESTRICTION".into(),
                acl: Some("acl-0123456789abcdef0".into()),
                subnet: Some(f.network.subnet_ids[1].clone()),
                direction: Some("ingress".into()),
                acl_rule: Some((
                    100,
                    "deny".into(),
                    false,
                    "10.72.0.0/16".into(),
                    "6".into(),
                    5432,
                    5432,
                )),
                ..Planted::default()
            },
            Planted {
                code: "NO_ROUTE_TO_DESTINATION".into(),
                component: Some(("rtb-0123456789abcdef0".into(), "app-routes".into())),
                route_table: Some("rtb-0123456789abcdef0".into()),
                cidrs: vec!["10.72.1.0/24".into()],
                ..Planted::default()
            },
            Planted {
                code: "SOMETHING_NEW".into(),
                component: Some(("tgw-0123456789abcdef0".into(), String::new())),
                ..Planted::default()
            },
        ],
    );
    ws.write(
        "main.tf",
        &f.config(&host, "  fail_on_unreachable = true\n"),
    );
    let failed = ws.try_apply();
    assert!(!failed.success(), "{}", failed.text());
    let out = failed.flat();
    assert!(
        out.contains("Error: No network path to the endpoint"),
        "{out}"
    );
    for sentence in [
        "Network ACL acl-0123456789abcdef0 of subnet",
        "blocks inbound TCP port 5432: its entry rule 100 deny TCP port 5432 from 10.72.0.0/16 decides",
        "Route table rtb-0123456789abcdef0 (app-routes) has no route for 10.72.1.0/24 toward the endpoint",
        "transit gateway tgw-0123456789abcdef0 stops the traffic (AWS's explanation code SOMETHING_NEW)",
    ] {
        assert!(out.contains(sentence), "missing {sentence:?} in:\n{out}");
    }
    // The path exists: the state holds it (tainted), and destroy removes it.
    let r = ws.resource(ADDRESS);
    let path_id = r["path_id"].as_str().unwrap().to_owned();
    assert_eq!(insights.paths_from(&host), vec![path_id.clone()]);
    assert_eq!(r["explanations"].as_array().map(Vec::len), Some(3));
    insights.clear(&host);
    ws.destroy();
    assert!(insights.paths_from(&host).is_empty());
    assert!(insights.analyses_of(&path_id).is_empty());
}

#[test]
fn bad_source_is_refused_at_plan_and_creates_nothing() {
    let f = fixture(73);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(&f.app_group, "  port = 70000\n"));
    ws.init();
    let run = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(!run.success());
    let out = run.flat();
    assert!(
        out.contains("is not a source Reachability Analyzer accepts"),
        "{out}"
    );
    assert!(out.contains("source"), "{out}");
    assert!(out.contains("Invalid port"), "{out}");
    assert!(
        f.emulator
            .strict
            .insights
            .paths_from(&f.app_group)
            .is_empty()
    );
}

#[test]
fn lost_answers_make_one_path_and_one_analysis() {
    let f = fixture(74);
    let insights = &f.emulator.strict.insights;
    let source = f.host(&f.app_group);
    // The answers to the path's create and to the analysis's start are
    // lost on the way back, after EC2 acted on them: the retries, with the
    // same client tokens, must not make a second of either.
    let proxy = Proxy::start(&f.emulator.url);
    proxy.set_faults(Faults {
        lose_first_answer_of: Some("CreateNetworkInsightsPath".into()),
        lose_answers_of: Some(("StartNetworkInsightsAnalysis".into(), 1)),
        ..Faults::default()
    });
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &f.config(&source, ""));
    ws.init();
    ws.apply();
    let counts = proxy.counts();
    assert_eq!(
        counts.get("CreateNetworkInsightsPath"),
        Some(&2),
        "{counts:?}"
    );
    assert_eq!(
        counts.get("StartNetworkInsightsAnalysis"),
        Some(&2),
        "{counts:?}"
    );
    let r = ws.resource(ADDRESS);
    let path_id = r["path_id"].as_str().unwrap().to_owned();
    assert_eq!(insights.paths_from(&source), vec![path_id.clone()]);
    assert_eq!(insights.started(&path_id), 1);
    assert_eq!(r["path_found"], true);
    ws.assert_no_changes();
    ws.destroy();
    assert!(insights.paths_from(&source).is_empty());
}

#[test]
fn an_analysis_that_outlasts_the_timeout_keeps_the_path_in_state() {
    let f = fixture(75);
    let insights = &f.emulator.strict.insights;
    let source = f.host(&f.app_group);
    insights.slow_down(&source, u32::MAX);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &f.config(&source, "  timeouts {\n    create = \"3s\"\n  }\n"),
    );
    ws.init();
    let failed = ws.try_apply();
    assert!(!failed.success(), "{}", failed.text());
    let out = failed.flat();
    assert!(
        out.contains("Error: The reachability analysis did not finish"),
        "{out}"
    );
    assert!(
        out.contains("timed out waiting for the analysis to finish"),
        "{out}"
    );
    // The path and its running analysis are in state, tainted: the next
    // apply replaces them, and nothing is left behind.
    let r = ws.resource(ADDRESS);
    let path_id = r["path_id"].as_str().unwrap().to_owned();
    assert_eq!(r["status"], "running");
    assert_eq!(insights.paths_from(&source), vec![path_id.clone()]);
    insights.clear(&source);
    let plan = ws.plan_code();
    assert!(
        plan.stdout.contains("is tainted, so must be replaced"),
        "{}",
        plan.stdout
    );
    ws.apply();
    let r = ws.resource(ADDRESS);
    assert_eq!(r["path_found"], true);
    assert!(insights.analyses_of(&path_id).is_empty());
    assert_eq!(insights.paths_from(&source).len(), 1);
    ws.destroy();
    assert!(insights.paths_from(&source).is_empty());
}

/// A source given by ARN (needed for a host of another account): EC2
/// answers the path with the id in Source and the ARN in SourceArn. The
/// state keeps the ARN, so the next plan is empty instead of replacing the
/// path (and paying for a new analysis) every apply.
#[test]
fn a_source_given_by_arn_plans_no_change_after_create() {
    let f = fixture(76);
    let eni = f.host(&f.app_group);
    let source = format!("arn:aws:ec2:us-east-1:123456789012:network-interface/{eni}");
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(&source, ""));
    ws.init();
    ws.apply();
    let r = ws.resource(ADDRESS);
    assert_eq!(r["source"], source.as_str(), "{r:#}");
    assert_eq!(
        f.emulator.strict.insights.paths_from(&eni).len(),
        1,
        "EC2 keeps the path by the source's id"
    );
    ws.assert_no_changes();
    ws.destroy();
}

/// A path an apply that did not finish left behind (it carries the
/// provider's create-token tag, as every path the provider makes does):
/// the plan that would make another warns, naming it with the import block
/// that adopts it; with that block, the apply adopts it and makes none.
#[test]
fn a_path_left_behind_is_named_with_its_import_block() {
    let f = fixture(77);
    let insights = &f.emulator.strict.insights;
    let source = f.host(&f.app_group);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(&source, ""));
    ws.init();
    ws.ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-target=planetscale_privatelink_endpoint.db",
    ]);
    let endpoint = ws.resource("planetscale_privatelink_endpoint.db");
    let destination = endpoint["network_interface_ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .min()
        .unwrap()
        .to_owned();
    let through_layer = support::emulator::ec2_client(&f.emulator.url);
    let left =
        f.rt.block_on(
            through_layer
                .create_network_insights_path()
                .source(&source)
                .destination(&destination)
                .protocol(aws_sdk_ec2::types::Protocol::Tcp)
                .destination_port(5432)
                .tag_specifications(
                    aws_sdk_ec2::types::TagSpecification::builder()
                        .resource_type(aws_sdk_ec2::types::ResourceType::NetworkInsightsPath)
                        .tags(
                            aws_sdk_ec2::types::Tag::builder()
                                .key("planetscale:create-token")
                                .value("tf-planetscale-left-behind")
                                .build(),
                        )
                        .build(),
                )
                .send(),
        )
        .expect("CreateNetworkInsightsPath")
        .network_insights_path()
        .and_then(|p| p.network_insights_path_id())
        .unwrap()
        .to_owned();

    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(plan.success(), "{}", plan.text());
    let text = plan.flat();
    for needle in [
        "Warning: A path this provider made is already there",
        &left,
        "import {",
        "to = planetscale_privatelink_reachability_analysis.<name>",
        &format!("id = \"{left}\""),
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{}", plan.text());
    }

    let mut config = f.config(&source, "");
    config.push_str(&format!(
        "\nimport {{\n  to = {ADDRESS}\n  id = \"{left}\"\n}}\n"
    ));
    ws.write("main.tf", &config);
    let applied = ws.apply();
    assert!(
        !applied.flat().contains("Warning: A path"),
        "{}",
        applied.text()
    );
    assert_eq!(ws.resource(ADDRESS)["path_id"], left.as_str());
    assert_eq!(insights.paths_from(&source), vec![left.clone()]);
    ws.assert_no_changes();
    ws.destroy();
    assert!(insights.paths_from(&source).is_empty());
}

/// The path's tags change in place: CreateTags and DeleteTags on the path,
/// no new analysis, the provider's create-token tag kept, and the next plan
/// empty after each change.
#[test]
fn the_paths_tags_change_in_place_without_a_new_analysis() {
    let f = fixture(78);
    let insights = &f.emulator.strict.insights;
    let source = f.host(&f.app_group);
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write(
        "main.tf",
        &f.config(&source, "  tags = { team = \"db\" }\n"),
    );
    ws.init();
    ws.apply();
    let r = ws.resource(ADDRESS);
    let path_id = r["path_id"].as_str().unwrap().to_owned();
    assert_eq!(r["tags_all"], serde_json::json!({ "team": "db" }), "{r:#}");
    let held = |path: &str| -> Vec<String> {
        insights
            .tags_of(path)
            .into_iter()
            .map(|(k, v)| {
                if k == "planetscale:create-token" {
                    k
                } else {
                    format!("{k}={v}")
                }
            })
            .collect()
    };
    assert_eq!(held(&path_id), ["planetscale:create-token", "team=db"]);
    ws.assert_no_changes();

    ws.write(
        "main.tf",
        &f.config(&source, "  tags = { team = \"data\", env = \"prod\" }\n"),
    );
    let plan = ws.plan_code();
    assert!(
        plan.flat().contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply();
    assert_eq!(
        held(&path_id),
        ["env=prod", "planetscale:create-token", "team=data"]
    );
    assert_eq!(
        insights.started(&path_id),
        1,
        "a tag change runs no analysis"
    );
    assert_eq!(ws.resource(ADDRESS)["path_id"], path_id.as_str());
    ws.assert_no_changes();

    ws.write("main.tf", &f.config(&source, ""));
    ws.apply();
    assert_eq!(held(&path_id), ["planetscale:create-token"]);
    assert_eq!(insights.started(&path_id), 1);
    ws.assert_no_changes();
    ws.destroy();
}
