//! planetscale_privatelink_dns_zone with the real terraform, against the
//! emulator (Route 53 requests pass the strict layer untouched to moto):
//! one endpoint shared by a hub VPC and its spokes through a private hosted
//! zone; associations removed, drift undone, import, destroy; and the
//! plan-time refusal of a zone over an endpoint's VPC while its private DNS
//! answers there.

use crate::support;

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType, Vpc,
    VpcRegion,
};
use support::emulator::{Network, create_dual_stack_network, create_group, create_network};
use support::proxy::{Faults, Proxy};
use support::{Emulator, Workspace};

const ZONE: &str = "planetscale_privatelink_dns_zone.shared";
const ENDPOINT: &str = "planetscale_privatelink_endpoint.hub";

struct Fixture {
    emulator: &'static Emulator,
    hub: Network,
    spokes: Vec<Network>,
    group: String,
    service: String,
    host: String,
    route53: aws_sdk_route53::Client,
    rt: tokio::runtime::Runtime,
}

/// A hub VPC with two subnets and a security group, `spokes` VPCs of one
/// subnet each, PlanetScale's side (an endpoint service whose private DNS
/// name is the Private Host), and a Route 53 client to moto itself.
fn fixture(octet: u8, spokes: u8) -> Fixture {
    let emulator = Emulator::shared();
    let ec2 = emulator.ec2();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hub = rt.block_on(create_network(&ec2, octet, &["us-east-1a", "us-east-1b"]));
    let spokes = (1..=spokes)
        .map(|i| rt.block_on(create_network(&ec2, octet + i, &["us-east-1a"])))
        .collect();
    let group = rt.block_on(create_group(&ec2, &hub.vpc_id, &support::unique("db")));
    let host = format!("db{octet}.private-{}.example.com", std::process::id());
    let service = emulator.create_endpoint_service(Some(&host));
    Fixture {
        emulator,
        hub,
        spokes,
        group,
        service,
        host,
        route53: emulator.route53(),
        rt,
    }
}

impl Fixture {
    /// The hub's endpoint (with `private_dns` as its private_dns_enabled)
    /// and, with `zone_vpcs`, the zone associated with those VPCs.
    fn config(&self, private_dns: bool, zone_vpcs: Option<&[&str]>) -> String {
        let mut text = format!(
            r#"{providers}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_endpoint" "hub" {{
  service_name        = "{service}"
  vpc_id              = "{vpc}"
  subnet_ids          = ["{s0}", "{s1}"]
  security_group_ids  = ["{group}"]
  private_dns_enabled = {private_dns}
}}
"#,
            providers = Workspace::required_providers(false),
            service = self.service,
            vpc = self.hub.vpc_id,
            s0 = self.hub.subnet_ids[0],
            s1 = self.hub.subnet_ids[1],
            group = self.group,
        );
        if let Some(vpcs) = zone_vpcs {
            let list: Vec<String> = vpcs.iter().map(|v| format!("\"{v}\"")).collect();
            text.push_str(&format!(
                r#"
resource "planetscale_privatelink_dns_zone" "shared" {{
  private_host = "{host}"
  endpoint_id  = planetscale_privatelink_endpoint.hub.id
  vpc_ids      = [{list}]
}}
"#,
                host = self.host,
                list = list.join(", "),
            ));
        }
        text
    }

    /// The VPCs Route 53 has the zone associated with, sorted.
    fn zone_vpcs(&self, zone_id: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(self.route53.get_hosted_zone().id(zone_id).send())
            .expect("GetHostedZone");
        let mut vpcs: Vec<String> = out
            .vpcs()
            .iter()
            .filter_map(|v| v.vpc_id().map(str::to_owned))
            .collect();
        vpcs.sort();
        vpcs
    }

    fn zone_exists(&self, zone_id: &str) -> bool {
        match self
            .rt
            .block_on(self.route53.get_hosted_zone().id(zone_id).send())
        {
            Ok(_) => true,
            Err(e) => {
                let code = e.as_service_error().and_then(|s| {
                    aws_sdk_route53::error::ProvideErrorMetadata::code(s).map(str::to_owned)
                });
                assert_eq!(code.as_deref(), Some("NoSuchHostedZone"), "{e:?}");
                false
            }
        }
    }

    /// The zone's A alias record for the Private Host: its target's DNS
    /// name and hosted zone id.
    fn alias(&self, zone_id: &str) -> Option<(String, String)> {
        let out = self
            .rt
            .block_on(
                self.route53
                    .list_resource_record_sets()
                    .hosted_zone_id(zone_id)
                    .send(),
            )
            .expect("ListResourceRecordSets");
        let name = format!("{}.", self.host);
        out.resource_record_sets()
            .iter()
            .find(|r| r.name() == name && r.r#type() == &RrType::A)
            .and_then(|r| r.alias_target())
            .map(|a| {
                (
                    a.dns_name().trim_end_matches('.').to_owned(),
                    a.hosted_zone_id().to_owned(),
                )
            })
    }
}

impl Fixture {
    /// A private zone for the Private Host on `vpc`, made outside
    /// Terraform with `caller_reference`; its id.
    fn private_zone_on(&self, vpc: &str, caller_reference: &str) -> String {
        self.rt
            .block_on(
                self.route53
                    .create_hosted_zone()
                    .name(&self.host)
                    .caller_reference(caller_reference)
                    .vpc(
                        Vpc::builder()
                            .vpc_id(vpc)
                            .vpc_region(VpcRegion::UsEast1)
                            .build(),
                    )
                    .hosted_zone_config(
                        aws_sdk_route53::types::HostedZoneConfig::builder()
                            .private_zone(true)
                            .build(),
                    )
                    .send(),
            )
            .expect("CreateHostedZone")
            .hosted_zone()
            .unwrap()
            .id()
            .trim_start_matches("/hostedzone/")
            .to_owned()
    }

    /// The types of the zone's alias records for the Private Host, sorted.
    fn alias_types(&self, zone_id: &str) -> Vec<String> {
        let out = self
            .rt
            .block_on(
                self.route53
                    .list_resource_record_sets()
                    .hosted_zone_id(zone_id)
                    .send(),
            )
            .expect("ListResourceRecordSets");
        let name = format!("{}.", self.host);
        let mut types: Vec<String> = out
            .resource_record_sets()
            .iter()
            .filter(|r| r.name() == name && r.alias_target().is_some())
            .map(|r| r.r#type().as_str().to_owned())
            .collect();
        types.sort();
        types
    }
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

#[test]
fn hub_and_spokes_share_one_endpoint_through_the_zone() {
    let f = fixture(181, 3);
    let (hub, a, b, c) = (
        f.hub.vpc_id.as_str(),
        f.spokes[0].vpc_id.as_str(),
        f.spokes[1].vpc_id.as_str(),
        f.spokes[2].vpc_id.as_str(),
    );
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(false, Some(&[hub, a, b])));
    ws.init();
    ws.apply();

    // The zone answers in the hub and both spokes, with the alias to the
    // endpoint's regional DNS name.
    let zone = ws.resource(ZONE);
    let zone_id = zone["zone_id"].as_str().unwrap().to_owned();
    assert!(
        !zone_id.is_empty() && zone_id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{zone:#}"
    );
    assert_eq!(zone["id"], zone_id.as_str());
    assert_eq!(zone["fqdn"], f.host.as_str());
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[hub, a, b]));
    // Each change (the zone, its alias, the associations; the emulator
    // may give two changes one id) was waited on until Route 53 answered
    // it INSYNC (the strict layer keeps each PENDING for a while, as
    // Route 53 does).
    let (pending, changes) = f.emulator.strict.changes_not_seen_insync(&zone_id);
    assert!(changes >= 2, "the zone's changes: {changes}");
    assert_eq!(
        pending,
        Vec::<String>::new(),
        "changes the apply did not wait for"
    );
    let endpoint = ws.resource(ENDPOINT);
    let regional = &endpoint["dns_entries"][0];
    assert_eq!(
        f.alias(&zone_id),
        Some((
            regional["dns_name"].as_str().unwrap().to_owned(),
            regional["hosted_zone_id"].as_str().unwrap().to_owned()
        )),
        "{endpoint:#}"
    );
    ws.assert_no_changes();

    // Removing a spoke disassociates that one only.
    ws.write("main.tf", &f.config(false, Some(&[hub, a])));
    ws.apply();
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[hub, a]));
    assert!(f.alias(&zone_id).is_some());
    ws.assert_no_changes();

    // An association made out of band is drift: plan shows it, apply
    // removes it.
    f.rt.block_on(
        f.route53
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(&zone_id)
            .vpc(
                Vpc::builder()
                    .vpc_id(c)
                    .vpc_region(VpcRegion::UsEast1)
                    .build(),
            )
            .send(),
    )
    .expect("AssociateVPCWithHostedZone");
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(plan.stdout.contains(c), "{}", plan.stdout);
    assert!(plan.stdout.contains("update in-place"), "{}", plan.stdout);
    ws.apply();
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[hub, a]));
    ws.assert_no_changes();

    // The alias record deleted, then pointed elsewhere, by hand: each is
    // drift the plan shows (endpoint_id to be set) and the apply repairs.
    let (target, target_zone) = f.alias(&zone_id).expect("the alias");
    let record = |action: ChangeAction, alias: bool| {
        let mut set = ResourceRecordSet::builder()
            .name(format!("{}.", f.host))
            .r#type(RrType::A);
        set = if alias {
            set.alias_target(
                AliasTarget::builder()
                    .dns_name(&target)
                    .hosted_zone_id(&target_zone)
                    .evaluate_target_health(false)
                    .build()
                    .unwrap(),
            )
        } else {
            set.ttl(60).resource_records(
                ResourceRecord::builder()
                    .value("192.0.2.10")
                    .build()
                    .unwrap(),
            )
        };
        f.rt.block_on(
            f.route53
                .change_resource_record_sets()
                .hosted_zone_id(&zone_id)
                .change_batch(
                    ChangeBatch::builder()
                        .changes(
                            Change::builder()
                                .action(action)
                                .resource_record_set(set.build().unwrap())
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .send(),
        )
        .expect("ChangeResourceRecordSets");
    };
    for (action, alias) in [(ChangeAction::Delete, true), (ChangeAction::Upsert, false)] {
        record(action.clone(), alias);
        assert_ne!(
            f.alias(&zone_id),
            Some((target.clone(), target_zone.clone()))
        );
        let plan = ws.plan_code();
        assert_eq!(plan.code, 2, "{action:?}: {}", plan.text());
        assert!(plan.stdout.contains("endpoint_id"), "{}", plan.stdout);
        assert!(plan.stdout.contains("update in-place"), "{}", plan.stdout);
        ws.apply();
        assert_eq!(
            f.alias(&zone_id),
            Some((target.clone(), target_zone.clone())),
            "{action:?}"
        );
        ws.assert_no_changes();
    }

    // Import by the zone's id; the first apply points the alias at the
    // configured endpoint again, and then nothing changes.
    ws.ok(&["state", "rm", ZONE]);
    ws.ok(&["import", "-input=false", "-no-color", ZONE, &zone_id]);
    let imported = ws.resource(ZONE);
    assert_eq!(imported["private_host"], f.host.as_str());
    assert_eq!(imported["zone_id"], zone_id.as_str());
    ws.apply();
    ws.assert_no_changes();

    // Destroy leaves no zone.
    ws.destroy();
    assert!(!f.zone_exists(&zone_id));
}

#[test]
fn a_zone_over_the_endpoints_vpc_needs_its_private_dns_off() {
    let f = fixture(191, 1);
    let (hub, a) = (f.hub.vpc_id.as_str(), f.spokes[0].vpc_id.as_str());
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(true, None));
    ws.init();
    ws.apply();

    // The endpoint is Terraform's, and the same apply could turn its
    // private DNS off: the plan warns; the apply, finding it still on,
    // stops before making the zone.
    ws.write("main.tf", &f.config(true, Some(&[hub, a])));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(plan.success(), "{}", plan.text());
    assert!(
        plan.flat()
            .contains("Warning: The endpoint's private DNS answers there now"),
        "{}",
        plan.text()
    );
    let failed = ws.try_apply();
    assert!(!failed.success(), "{}", failed.text());
    let text = failed.flat();
    for needle in [
        "The endpoint's private DNS answers there already",
        "vpc_ids",
        hub,
        "private_dns_enabled is true",
        "private_dns_enabled = false",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not in:\n{}",
            failed.text()
        );
    }
    assert!(
        support::terraform::find_in_state(&ws.state(), ZONE).is_none(),
        "no zone was made"
    );

    // The spokes alone are fine: the endpoint's private DNS answers in the
    // hub, the zone in the spoke.
    ws.write("main.tf", &f.config(true, Some(&[a])));
    ws.apply();
    let zone_id = ws.resource(ZONE)["zone_id"].as_str().unwrap().to_owned();
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[a]));
    ws.destroy();
    assert!(!f.zone_exists(&zone_id));
}

/// A VPC of "another account" (played here by the same one): the zone's
/// side authorizes it, the other side associates it, and the zone leaves
/// that association alone while the authorization exists. The layer in
/// front of the emulator answers the authorization calls.
#[test]
fn an_authorized_vpc_is_associated_from_its_own_side_and_left_alone() {
    let f = fixture(201, 1);
    let (hub, other) = (f.hub.vpc_id.as_str(), f.spokes[0].vpc_id.as_str());
    let ws = Workspace::new(Some(&f.emulator.url));
    let authorization = format!(
        r#"
resource "planetscale_privatelink_dns_zone_authorization" "other" {{
  zone_id = planetscale_privatelink_dns_zone.shared.zone_id
  vpc_id  = "{other}"
}}
"#
    );
    ws.write(
        "main.tf",
        &format!("{}{authorization}", f.config(false, Some(&[hub]))),
    );
    ws.init();
    ws.apply();
    let zone_id = ws.resource(ZONE)["zone_id"].as_str().unwrap().to_owned();
    let auth = ws.resource("planetscale_privatelink_dns_zone_authorization.other");
    assert_eq!(auth["id"], format!("{zone_id}:{other}").as_str());
    assert_eq!(auth["vpc_region"], "us-east-1");

    // The layer's own answer, as the other account would ask.
    let through_layer = support::emulator::route53_client(&f.emulator.url);
    let listed =
        f.rt.block_on(
            through_layer
                .list_vpc_association_authorizations()
                .hosted_zone_id(&zone_id)
                .send(),
        )
        .expect("ListVPCAssociationAuthorizations");
    let ids: Vec<&str> = listed.vpcs().iter().filter_map(|v| v.vpc_id()).collect();
    assert_eq!(ids, [other]);

    // The other side associates its VPC: not drift.
    f.rt.block_on(
        f.route53
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(&zone_id)
            .vpc(
                Vpc::builder()
                    .vpc_id(other)
                    .vpc_region(VpcRegion::UsEast1)
                    .build(),
            )
            .send(),
    )
    .expect("AssociateVPCWithHostedZone");
    ws.assert_no_changes();
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[hub, other]));

    // Import by zone and VPC.
    let address = "planetscale_privatelink_dns_zone_authorization.other";
    ws.ok(&["state", "rm", address]);
    ws.ok(&[
        "import",
        "-input=false",
        "-no-color",
        address,
        &format!("{zone_id}:{other}"),
    ]);
    ws.assert_no_changes();

    // Destroy removes the authorization, then the zone (the other side's
    // association goes with it).
    ws.destroy();
    let listed = f.rt.block_on(
        through_layer
            .list_vpc_association_authorizations()
            .hosted_zone_id(&zone_id)
            .send(),
    );
    assert!(
        listed.map(|l| l.vpcs().is_empty()).unwrap_or(true),
        "the authorization outlived destroy"
    );
    assert!(!f.zone_exists(&zone_id));
}

/// A record someone else wrote in the zone (another team's, in a zone
/// imported by mistake) survives a destroy that would take it: nothing is
/// deleted and the error names it and `force_destroy`. With
/// `force_destroy = true` applied, the destroy takes the zone and the
/// record.
#[test]
fn a_destroy_deletes_other_records_only_with_force_destroy() {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    };
    let f = fixture(211, 0);
    let hub = f.hub.vpc_id.as_str();
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(false, Some(&[hub])));
    ws.init();
    ws.apply();
    let zone_id = ws.resource(ZONE)["zone_id"].as_str().unwrap().to_owned();
    assert_eq!(ws.resource(ZONE)["force_destroy"], false);

    let theirs = format!("reports.{}.", f.host);
    let record = ResourceRecordSet::builder()
        .name(&theirs)
        .r#type(RrType::Txt)
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value("\"team=analytics\"")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    f.rt.block_on(
        f.route53
            .change_resource_record_sets()
            .hosted_zone_id(&zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .changes(
                        Change::builder()
                            .action(ChangeAction::Create)
                            .resource_record_set(record)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send(),
    )
    .expect("ChangeResourceRecordSets");

    let run = ws.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    let text = run.flat();
    assert!(!run.success(), "{text}");
    assert!(
        text.contains("holds records this resource did not write")
            && text.contains(&format!("{theirs} TXT"))
            && text.contains("force_destroy = true"),
        "{text}"
    );
    assert!(f.zone_exists(&zone_id), "nothing was deleted");
    assert!(f.alias(&zone_id).is_some(), "the alias is still there");

    // force_destroy alone changes in place, with no AWS call to make.
    let forced = f.config(false, Some(&[hub])).replace(
        "  vpc_ids      = [",
        "  force_destroy = true\n  vpc_ids      = [",
    );
    ws.write("main.tf", &forced);
    ws.apply();
    ws.assert_no_changes();
    ws.destroy();
    assert!(!f.zone_exists(&zone_id));
}

/// A zone for the Private Host already on a VPC the new zone covers, as a
/// killed apply leaves it (its caller reference is the provider's): Route
/// 53 would refuse the new one (ConflictingDomainExists, strict rule 17),
/// so the plan fails naming the zone with the import block that adopts
/// it; with that block, the apply adopts it and associates the rest.
#[test]
fn a_zone_left_behind_on_a_vpc_is_named_with_its_import_block() {
    let f = fixture(221, 1);
    let (hub, a) = (f.hub.vpc_id.as_str(), f.spokes[0].vpc_id.as_str());
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(false, None));
    ws.init();
    ws.apply();

    let left_id = f.private_zone_on(a, &format!("tf-planetscale-{}", support::unique("left")));

    ws.write("main.tf", &f.config(false, Some(&[hub, a])));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(!plan.success(), "{}", plan.text());
    let text = plan.flat();
    for needle in [
        "A private hosted zone for this name is already associated with the VPC",
        "vpc_ids",
        &left_id,
        a,
        "ConflictingDomainExists",
        "This provider made it",
        "import {",
        "to = planetscale_privatelink_dns_zone.<name>",
        &format!("id = \"{left_id}\""),
        "aws route53 delete-hosted-zone --id",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{}", plan.text());
    }
    assert_eq!(
        f.zone_vpcs(&left_id),
        sorted(&[a]),
        "the plan changed nothing"
    );

    let mut config = f.config(false, Some(&[hub, a]));
    config.push_str(&format!(
        "\nimport {{\n  to = {ZONE}\n  id = \"{left_id}\"\n}}\n"
    ));
    ws.write("main.tf", &config);
    ws.apply();
    assert_eq!(ws.resource(ZONE)["zone_id"], left_id.as_str());
    assert_eq!(f.zone_vpcs(&left_id), sorted(&[hub, a]));
    assert!(f.alias(&left_id).is_some());
    ws.assert_no_changes();
    ws.destroy();
    assert!(!f.zone_exists(&left_id));
}

/// Private DNS and a private zone for the Private Host exclude each other
/// in a VPC (strict rules 3 and 17), and both ways the plan says so before
/// anything is made: an endpoint with private DNS on in a VPC where a zone
/// answers for the name, and a zone over a VPC where another endpoint's
/// private DNS answers for it.
#[test]
fn private_dns_and_a_zone_for_the_name_exclude_each_other_at_plan() {
    let f = fixture(231, 1);
    let spoke = &f.spokes[0];
    let spoke_group = f.rt.block_on(create_group(
        &f.emulator.ec2(),
        &spoke.vpc_id,
        &support::unique("db"),
    ));
    let spoke_endpoint = format!(
        r#"
resource "planetscale_privatelink_endpoint" "spoke" {{
  service_name        = "{service}"
  vpc_id              = "{vpc}"
  subnet_ids          = ["{subnet}"]
  security_group_ids  = ["{group}"]
  private_dns_enabled = true
}}
"#,
        service = f.service,
        vpc = spoke.vpc_id,
        subnet = spoke.subnet_ids[0],
        group = spoke_group,
    );
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(false, None));
    ws.init();
    ws.apply();

    // A zone for the name on the spoke, made elsewhere: private DNS there
    // is refused at plan.
    let elsewhere = f.private_zone_on(&spoke.vpc_id, &support::unique("elsewhere"));
    ws.write("main.tf", &(f.config(false, None) + &spoke_endpoint));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(!plan.success(), "{}", plan.text());
    let text = plan.flat();
    for needle in [
        "A private hosted zone answers for this name in the VPC",
        "private_dns_enabled",
        &elsewhere,
        &spoke.vpc_id,
        "conflicting DNS domain",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{}", plan.text());
    }

    // Without that zone the spoke's endpoint is made with private DNS; a
    // zone over the spoke is then refused at plan, naming the endpoint.
    f.rt.block_on(f.route53.delete_hosted_zone().id(&elsewhere).send())
        .expect("DeleteHostedZone");
    ws.apply();
    let spoke_id = ws.resource("planetscale_privatelink_endpoint.spoke")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ws.write(
        "main.tf",
        &(f.config(false, Some(&[&f.hub.vpc_id, &spoke.vpc_id])) + &spoke_endpoint),
    );
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(!plan.success(), "{}", plan.text());
    let text = plan.flat();
    for needle in [
        "An endpoint's private DNS answers for this name in the VPC",
        "vpc_ids",
        &spoke_id,
        "ConflictingDomainExists",
        "private_dns_enabled = false",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{}", plan.text());
    }
    ws.write(
        "main.tf",
        &(f.config(false, Some(&[&f.hub.vpc_id])) + &spoke_endpoint),
    );
    ws.apply();
    ws.assert_no_changes();
    ws.destroy();
}

/// The documented move to hub and spoke in one apply: the endpoint's
/// private DNS off and the zone over its VPC. The plan warns (the endpoint
/// is written first, so the zone follows); the apply makes both. The
/// reverse needs two applies, in the order AWS needs, and the plan says so:
/// the hub's VPC out of the zone first, then private DNS on.
#[test]
fn the_move_to_hub_and_spoke_is_one_apply_and_back_two() {
    let f = fixture(241, 1);
    let (hub, a) = (f.hub.vpc_id.as_str(), f.spokes[0].vpc_id.as_str());
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(true, None));
    ws.init();
    ws.apply();

    ws.write("main.tf", &f.config(false, Some(&[hub, a])));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    assert!(plan.success(), "{}", plan.text());
    assert!(
        plan.flat()
            .contains("Warning: The endpoint's private DNS answers there now"),
        "{}",
        plan.text()
    );
    ws.apply();
    let zone_id = ws.resource(ZONE)["zone_id"].as_str().unwrap().to_owned();
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[hub, a]));
    assert_eq!(ws.resource(ENDPOINT)["private_dns_enabled"], false);
    ws.assert_no_changes();

    // Back, in one apply: the plan warns that it takes two, and the apply
    // stops before writing the endpoint.
    ws.write("main.tf", &f.config(true, Some(&[a])));
    let plan = ws.run(&["plan", "-input=false", "-no-color"]);
    let text = plan.flat();
    assert!(
        text.contains("A private hosted zone answers for this name in the VPC")
            && text.contains("second apply"),
        "{}",
        plan.text()
    );
    let failed = ws.try_apply();
    assert!(!failed.success(), "{}", failed.text());
    assert!(
        failed.flat().contains("conflicting DNS domain"),
        "{}",
        failed.text()
    );
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[hub, a]), "nothing changed");

    // In two applies it goes through.
    ws.write("main.tf", &f.config(false, Some(&[a])));
    ws.apply();
    ws.write("main.tf", &f.config(true, Some(&[a])));
    ws.apply();
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[a]));
    assert_eq!(ws.resource(ENDPOINT)["private_dns_enabled"], true);
    ws.assert_no_changes();
    ws.destroy();
}

/// A dual-stack endpoint behind the zone: the zone answers with an A and an
/// AAAA alias to its regional name, so dual-stack clients in the spokes get
/// both. An endpoint whose DNS records are IPv4 gets the A alone; when its
/// records become dual stack, the next refresh finds the AAAA missing and
/// the apply after it adds it.
#[test]
fn a_dual_stack_endpoint_is_answered_with_a_and_aaaa_aliases() {
    let f = fixture(251, 1);
    let ec2 = f.emulator.ec2();
    let (hub, _) = f.rt.block_on(create_dual_stack_network(&ec2, 253));
    let group =
        f.rt.block_on(create_group(&ec2, &hub.vpc_id, &support::unique("db")));
    f.emulator
        .strict
        .set_supported_ip_address_types(&f.service, &["ipv4", "ipv6"]);
    let config = |records: &str| {
        format!(
            r#"{providers}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_endpoint" "hub" {{
  service_name        = "{service}"
  vpc_id              = "{vpc}"
  subnet_ids          = ["{s0}", "{s1}"]
  security_group_ids  = ["{group}"]
  private_dns_enabled = false
  ip_address_type     = "dualstack"
  dns_record_ip_type  = "{records}"
}}

resource "planetscale_privatelink_dns_zone" "shared" {{
  private_host = "{host}"
  endpoint_id  = planetscale_privatelink_endpoint.hub.id
  vpc_ids      = ["{vpc}", "{spoke}"]
}}
"#,
            providers = Workspace::required_providers(false),
            service = f.service,
            vpc = hub.vpc_id,
            s0 = hub.subnet_ids[0],
            s1 = hub.subnet_ids[1],
            host = f.host,
            spoke = f.spokes[0].vpc_id,
        )
    };
    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &config("ipv4"));
    ws.init();
    ws.apply();
    let zone_id = ws.resource(ZONE)["zone_id"].as_str().unwrap().to_owned();
    assert_eq!(f.alias_types(&zone_id), ["A"]);
    ws.assert_no_changes();

    ws.write("main.tf", &config("dualstack"));
    ws.apply();
    let plan = ws.plan_code();
    assert_eq!(plan.code, 2, "{}", plan.text());
    assert!(plan.stdout.contains("endpoint_id"), "{}", plan.stdout);
    ws.apply();
    assert_eq!(f.alias_types(&zone_id), ["A", "AAAA"]);
    ws.assert_no_changes();
    ws.destroy();
    assert!(!f.zone_exists(&zone_id));
}

/// Credentials that may not list the zone's authorizations: a refresh
/// cannot tell another account's association from drift, so it leaves the
/// associations vpc_ids does not list alone with a warning, and plans and
/// destroys still work.
#[test]
fn without_the_authorizations_unlisted_associations_are_left_alone() {
    let f = fixture(171, 1);
    let (hub, other) = (f.hub.vpc_id.as_str(), f.spokes[0].vpc_id.as_str());
    let proxy = Proxy::start(&f.emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &f.config(false, Some(&[hub])));
    ws.init();
    ws.apply();
    let zone_id = ws.resource(ZONE)["zone_id"].as_str().unwrap().to_owned();
    // Another account's VPC, associated from its side.
    f.rt.block_on(
        f.route53
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(&zone_id)
            .vpc(
                Vpc::builder()
                    .vpc_id(other)
                    .vpc_region(VpcRegion::UsEast1)
                    .build(),
            )
            .send(),
    )
    .expect("AssociateVPCWithHostedZone");

    proxy.set_faults(Faults {
        denied: Some("ListVPCAssociationAuthorizations".into()),
        ..Faults::default()
    });
    let plan = ws.plan_code();
    assert_eq!(plan.code, 0, "{}", plan.text());
    let text = plan.flat();
    assert!(
        text.contains("Warning: Could not list the zone's VPC association authorizations")
            && text.contains(other)
            && text.contains("route53:ListVPCAssociationAuthorizations"),
        "{}",
        plan.text()
    );
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[hub, other]));
    ws.destroy();
    assert!(!f.zone_exists(&zone_id));
}

/// A VPC of another account associated from its side, its authorization
/// since removed (as AWS's guide recommends once the association is made):
/// not drift, and not this zone's to remove. The plan warns and changes
/// nothing.
#[test]
fn another_accounts_association_is_left_alone_without_its_authorization() {
    let f = fixture(175, 0);
    let hub = f.hub.vpc_id.as_str();
    // The other account's VPC, made in the emulator as that account.
    let script = "import boto3, sys\n\
        c = boto3.client('ec2', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                         aws_access_key_id='AKIAOTHERACCOUNT', aws_secret_access_key='x')\n\
        c.meta.events.register('before-sign.ec2.*',\n\
            lambda request, **kw: request.headers.__setitem__('x-moto-account-id', '210987654321'))\n\
        print(c.create_vpc(CidrBlock='10.176.0.0/16')['Vpc']['VpcId'])\n";
    let made = std::process::Command::new(support::emulator::python())
        .args(["-c", script, &f.emulator.raw_url])
        .envs(support::isolated_aws_env())
        .output()
        .expect("run the emulator's python");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let other = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    assert!(other.starts_with("vpc-"), "{other}");

    let ws = Workspace::new(Some(&f.emulator.url));
    ws.write("main.tf", &f.config(false, Some(&[hub])));
    ws.init();
    ws.apply();
    let zone_id = ws.resource(ZONE)["zone_id"].as_str().unwrap().to_owned();
    f.rt.block_on(
        f.route53
            .associate_vpc_with_hosted_zone()
            .hosted_zone_id(&zone_id)
            .vpc(
                Vpc::builder()
                    .vpc_id(&other)
                    .vpc_region(VpcRegion::UsEast1)
                    .build(),
            )
            .send(),
    )
    .expect("AssociateVPCWithHostedZone");

    let plan = ws.plan_code();
    assert_eq!(plan.code, 0, "{}", plan.text());
    let text = plan.flat();
    assert!(
        text.contains("Warning: A VPC of another account is associated with the zone")
            && text.contains(&other),
        "{}",
        plan.text()
    );
    ws.apply();
    assert_eq!(f.zone_vpcs(&zone_id), sorted(&[hub, &other]));
}

/// The zone's tags: written after the create (Route 53 takes none with
/// CreateHostedZone), changed in place, a tag added outside Terraform
/// planned away, more than Route 53's 10 refused at plan naming `tags`.
#[test]
fn the_zones_tags_change_in_place_and_drift_is_undone() {
    let f = fixture(131, 0);
    let hub = f.hub.vpc_id.clone();
    let with_tags = |tags: &str| {
        f.config(false, Some(&[hub.as_str()])).replace(
            &format!("vpc_ids      = [\"{hub}\"]\n"),
            &format!("vpc_ids      = [\"{hub}\"]\n  tags         = {{ {tags} }}\n"),
        )
    };
    let proxy = Proxy::start(&f.emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    ws.write("main.tf", &with_tags("team = \"db\""));
    ws.init();
    ws.apply();
    let zone_id = ws.resource(ZONE)["zone_id"].as_str().unwrap().to_owned();
    let held = |f: &Fixture| -> Vec<String> {
        let out =
            f.rt.block_on(
                f.route53
                    .list_tags_for_resource()
                    .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
                    .resource_id(&zone_id)
                    .send(),
            )
            .unwrap();
        let mut tags: Vec<String> = out
            .resource_tag_set()
            .map(|s| s.tags())
            .unwrap_or_default()
            .iter()
            .map(|t| format!("{}={}", t.key().unwrap(), t.value().unwrap_or_default()))
            .collect();
        tags.sort();
        tags
    };
    assert_eq!(held(&f), ["team=db"]);
    assert_eq!(
        ws.resource(ZONE)["tags_all"],
        serde_json::json!({ "team": "db" })
    );
    ws.assert_no_changes();

    ws.write("main.tf", &with_tags("team = \"data\", env = \"prod\""));
    let plan = ws.plan_code();
    assert!(
        plan.flat().contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    // A change of tags alone is the tag call: the zone is read once (the
    // refresh), no association is touched, and no change waits for INSYNC.
    proxy.reset_counts();
    ws.apply();
    let calls = proxy.counts();
    let count = |action: &str| calls.get(action).copied().unwrap_or(0);
    assert_eq!(count("ChangeTagsForResource"), 1, "{calls:?}");
    assert_eq!(count("GetHostedZone"), 1, "{calls:?}");
    for action in [
        "GetChange",
        "AssociateVPCWithHostedZone",
        "DisassociateVPCFromHostedZone",
        "ChangeResourceRecordSets",
    ] {
        assert_eq!(count(action), 0, "{action}: {calls:?}");
    }
    assert_eq!(held(&f), ["env=prod", "team=data"]);
    assert_eq!(ws.resource(ZONE)["zone_id"], zone_id.as_str());
    ws.assert_no_changes();

    // Added outside Terraform: drift, which the next apply takes away.
    f.rt.block_on(
        f.route53
            .change_tags_for_resource()
            .resource_type(aws_sdk_route53::types::TagResourceType::Hostedzone)
            .resource_id(&zone_id)
            .add_tags(
                aws_sdk_route53::types::Tag::builder()
                    .key("owner")
                    .value("someone")
                    .build(),
            )
            .send(),
    )
    .unwrap();
    let plan = ws.plan_code();
    assert!(
        plan.flat().contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    ws.apply();
    assert_eq!(held(&f), ["env=prod", "team=data"]);
    ws.assert_no_changes();

    // Eleven: Route 53 holds at most ten per zone; refused at plan.
    let eleven: Vec<String> = (0..11).map(|i| format!("k{i} = \"v\"")).collect();
    ws.write("main.tf", &with_tags(&eleven.join(", ")));
    let plan = ws.run(&["plan", "-no-color", "-input=false"]);
    let text = plan.flat();
    assert_eq!(plan.code, 1, "{text}");
    assert!(
        text.contains("Route 53 takes at most 10 tags per hosted zone") && text.contains("tags"),
        "{text}"
    );
    assert_eq!(held(&f), ["env=prod", "team=data"]);

    ws.write("main.tf", &f.config(false, Some(&[hub.as_str()])));
    ws.apply();
    assert!(held(&f).is_empty(), "{:?}", held(&f));
    ws.assert_no_changes();
    ws.destroy();
}
