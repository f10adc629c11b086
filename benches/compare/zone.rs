//! The zone job, by this provider and by hashicorp/aws: a private hosted
//! zone for the Private Host, associated with a hub VPC and two spokes,
//! whose alias record points at the hub's interface endpoint. The endpoint
//! is made first and left in place (both sides keep it in their
//! configuration); what is measured is adding the zone (apply), a
//! refreshing plan with nothing to change, a tag on the zone (update), and
//! taking the zone out of the configuration (delete).
//!
//! The emulator's strict layer keeps each Route 53 change PENDING for
//! 1.5 s, so both providers' waits for INSYNC end at their first look:
//! this provider's after 2 s, once for all of an operation's changes;
//! hashicorp/aws's after 10-30 s (random) for each change it waits on.

use std::collections::BTreeMap;

use crate::support::emulator::{create_group, create_network};
use crate::support::proxy::Proxy;
use crate::support::{Emulator, Workspace};
use crate::{Measured, Side};

/// The steps measured, in the order they run.
pub const STEPS: [&str; 4] = ["apply", "plan", "update", "delete"];

pub struct Fixture {
    hub: String,
    subnets: Vec<String>,
    spokes: Vec<String>,
    group: String,
    service: String,
    host: String,
}

impl Fixture {
    pub fn new(emulator: &Emulator, rt: &tokio::runtime::Runtime) -> Fixture {
        let ec2 = emulator.ec2();
        let hub = rt.block_on(create_network(&ec2, 120, &["us-east-1a", "us-east-1b"]));
        let spokes = (121..=122)
            .map(|octet| {
                rt.block_on(create_network(&ec2, octet, &["us-east-1a"]))
                    .vpc_id
            })
            .collect();
        let group = rt.block_on(create_group(&ec2, &hub.vpc_id, "bench-zone-db"));
        let host = format!("bench{}.private-us-east-1.example.com", std::process::id());
        Fixture {
            service: emulator.create_endpoint_service(Some(&host)),
            hub: hub.vpc_id,
            subnets: hub.subnet_ids,
            spokes,
            group,
            host,
        }
    }

    /// The endpoint, with the zone when `zone` (and on it the tag `tag`).
    fn config(&self, side: Side, zone: bool, tag: Option<&str>) -> String {
        let tags = tag.map_or(String::new(), |t| {
            format!("  tags = {{ bench = \"{t}\" }}\n")
        });
        let (hub, s0, s1, group, service, host) = (
            &self.hub,
            &self.subnets[0],
            &self.subnets[1],
            &self.group,
            &self.service,
            &self.host,
        );
        let (sp1, sp2) = (&self.spokes[0], &self.spokes[1]);
        match side {
            Side::Ours => {
                let mut text = format!(
                    r#"{providers}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_endpoint" "hub" {{
  service_name        = "{service}"
  vpc_id              = "{hub}"
  subnet_ids          = ["{s0}", "{s1}"]
  security_group_ids  = ["{group}"]
  private_dns_enabled = false
}}
"#,
                    providers = Workspace::required_providers(false),
                );
                if zone {
                    text.push_str(&format!(
                        r#"
resource "planetscale_privatelink_dns_zone" "shared" {{
  private_host = "{host}"
  endpoint_id  = planetscale_privatelink_endpoint.hub.id
  vpc_ids      = ["{hub}", "{sp1}", "{sp2}"]
{tags}}}
"#
                    ));
                }
                text
            }
            Side::Theirs => {
                let mut text = format!(
                    r#"{header}
resource "aws_vpc_endpoint" "hub" {{
  vpc_endpoint_type   = "Interface"
  service_name        = "{service}"
  vpc_id              = "{hub}"
  subnet_ids          = ["{s0}", "{s1}"]
  security_group_ids  = ["{group}"]
  private_dns_enabled = false
}}
"#,
                    header = crate::AWS_HEADER,
                );
                if zone {
                    text.push_str(&format!(
                        r#"
resource "aws_route53_zone" "shared" {{
  name = "{host}"

  vpc {{
    vpc_id = "{hub}"
  }}

  vpc {{
    vpc_id = "{sp1}"
  }}

  vpc {{
    vpc_id = "{sp2}"
  }}
{tags}}}

resource "aws_route53_record" "host" {{
  zone_id = aws_route53_zone.shared.zone_id
  name    = "{host}"
  type    = "A"

  alias {{
    name                   = aws_vpc_endpoint.hub.dns_entry[0].dns_name
    zone_id                = aws_vpc_endpoint.hub.dns_entry[0].hosted_zone_id
    evaluate_target_health = false
  }}
}}
"#
                    ));
                }
                text
            }
        }
    }
}

/// Runs the zone job `runs` times for each side at the proxy's current
/// latency; the results by side and step.
pub fn run(
    fixture: &Fixture,
    proxy: &Proxy,
    latency: u64,
    runs: usize,
) -> BTreeMap<(Side, &'static str), Measured> {
    let mut results: BTreeMap<(Side, &'static str), Measured> = BTreeMap::new();
    for side in [Side::Ours, Side::Theirs] {
        let ws = Workspace::new(Some(&proxy.url)).without_logs();
        ws.write("main.tf", &fixture.config(side, false, None));
        ws.init();
        let apply = ["apply", "-auto-approve", "-input=false", "-no-color"];
        ws.ok(&apply);
        for run in 0..runs {
            for step in STEPS {
                let (text, args): (String, &[&str]) = match step {
                    "apply" => (fixture.config(side, true, None), &apply),
                    "plan" => (
                        fixture.config(side, true, None),
                        &["plan", "-input=false", "-no-color"],
                    ),
                    "update" => (fixture.config(side, true, Some("updated")), &apply),
                    _ => (fixture.config(side, false, None), &apply),
                };
                ws.write("main.tf", &text);
                let (wall, _) =
                    results
                        .entry((side, step))
                        .or_default()
                        .step(&ws, args, side, proxy, run == 0);
                eprintln!(
                    "+{latency} ms zone {} {step} run {}: {}",
                    side.name(),
                    run + 1,
                    crate::secs(wall),
                );
            }
        }
        ws.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    }
    results
}
