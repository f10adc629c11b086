//! Every call, every fault. Each scenario (create; an in-place change of
//! tags; an in-place change of the network; delete; refresh; a zone's
//! create, update of its VPCs, update of its tags, and delete; an import of everything; an analysis's
//! create and delete; an authorization's create and delete; the data
//! sources' reads) is run once
//! through the fault proxy to record the AWS calls it makes, in order and
//! by phase (plan or apply). The matrix is then generated from that trace:
//! for every call position (the k-th call of an action) and every fault
//! class that applies to it (a black hole, ended by the timeout or by
//! Ctrl-C; the answer lost after the call took effect; throttling on every
//! attempt; each error code of [`CODES`] for that action), the scenario is
//! run again from the same start with that one fault at that one call, and
//! the invariants are checked mechanically:
//!
//! * the step ends within its timeout and a margin, and within 5 s of a
//!   Ctrl-C, whatever call is in flight;
//! * no panic, no "inconsistent result", no raw SDK text in the output;
//! * a call retried by class succeeds in the same run; a plain error names
//!   the code AWS answered;
//! * once the fault clears, the next apply converges and the plan after
//!   it is empty;
//! * nothing is duplicated or orphaned: every endpoint and group in the
//!   VPC is in state, or the run that converged named it with the
//!   `import` block that adopts it.
//!
//! The whole matrix takes tens of minutes: `scripts/fault-matrix.sh` runs
//! it all (FAULT_MATRIX=all). The test command runs a sample of
//! FAULT_MATRIX_SAMPLE rows (default 12) that rotates with the day, or
//! FAULT_MATRIX_SEED; FAULT_MATRIX_ROWS=<row>,<row> runs the rows named.

use crate::support;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::pairs::Pairs;
use support::processes::{group_members, terraform_in_group};
use support::proxy::{Fault, Injection, Proxy, is_route53};
use support::{Emulator, Workspace};

/// The `timeouts` of every operation in the scenarios.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The reachability analysis's `timeouts`: its create and update wait for
/// an analysis, whose answer takes a few polls.
const ANALYSIS_TIMEOUT: Duration = Duration::from_secs(20);
/// How many rows a worker runs on one emulator before it starts a fresh
/// one: every row makes VPCs, and the emulator's answers slow as they pile
/// up.
const ROWS_PER_EMULATOR: usize = 40;
/// How long past its timeout an apply step may run: the provider's grace
/// for calls, its last look at what exists, and terraform's own work.
const MARGIN: Duration = Duration::from_secs(12);
/// How long terraform may take to exit after Ctrl-C.
const AFTER_CTRL_C: Duration = Duration::from_secs(5);
/// The most any step may run before the test ends it as hung.
const HUNG: Duration = Duration::from_secs(90);

/// What a fault answered with an error code is expected to do, written
/// once per (operation, code).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Retried: the step succeeds in the same run.
    Retried,
    /// A plain error that names the code; the next apply converges. (Or
    /// success, where the provider gets what it needs another way: a
    /// VPC's listing that fails falls back to reads by id. The checks
    /// after the fault clears prove nothing was lost.)
    Fails,
    /// Success is right: the code says what the call wanted is so (already
    /// deleted, rule already there or already gone). The proxy makes it so
    /// (the call takes effect, then the code is answered), as after an
    /// earlier attempt whose answer was lost.
    Tolerated,
    /// AWS says the resource is gone: a refresh drops it from state (as
    /// every provider does), and whatever still exists must then be named
    /// by the next plan with its `import` block (after a destroy no plan
    /// wants it: the lie leaves it, as with any provider); during a
    /// create's wait it is EC2's eventual consistency, waited through.
    Gone,
}

/// The error codes each action is run against: the EC2 API reference's
/// common client and server errors for every EC2 action ("ec2"), and per action
/// the codes its reference page and the EC2 error-code list give for it,
/// and the ones terraform-provider-aws's ec2 package handles for it.
/// (operation, code, HTTP status, expected.)
/// For Route 53, "route53" rows apply to every operation (the API
/// reference's common errors, and the two every change can answer), and
/// per operation the errors its reference page lists.
const CODES: &[(&str, &str, u16, Expect)] = &[
    ("ec2", "RequestLimitExceeded", 503, Expect::Retried),
    ("ec2", "InternalError", 500, Expect::Retried),
    ("ec2", "Unavailable", 503, Expect::Retried),
    ("ec2", "UnauthorizedOperation", 403, Expect::Fails),
    ("ec2", "InvalidParameterValue", 400, Expect::Fails),
    ("route53", "Throttling", 400, Expect::Retried),
    ("route53", "InternalFailure", 500, Expect::Retried),
    ("route53", "ServiceUnavailable", 503, Expect::Retried),
    ("route53", "AccessDenied", 403, Expect::Fails),
    ("route53", "InvalidInput", 400, Expect::Fails),
    ("route53", "PriorRequestNotComplete", 400, Expect::Retried),
    ("route53", "ConcurrentModification", 400, Expect::Retried),
    (
        "CreateHostedZone",
        "HostedZoneAlreadyExists",
        409,
        Expect::Fails,
    ),
    (
        "CreateHostedZone",
        "ConflictingDomainExists",
        400,
        Expect::Fails,
    ),
    ("CreateHostedZone", "InvalidVPCId", 400, Expect::Fails),
    ("CreateHostedZone", "TooManyHostedZones", 400, Expect::Fails),
    ("CreateHostedZone", "InvalidDomainName", 400, Expect::Fails),
    (
        "ChangeResourceRecordSets",
        "InvalidChangeBatch",
        400,
        Expect::Fails,
    ),
    (
        "ChangeResourceRecordSets",
        "NoSuchHostedZone",
        404,
        Expect::Fails,
    ),
    (
        "AssociateVPCWithHostedZone",
        "ConflictingDomainExists",
        400,
        Expect::Fails,
    ),
    (
        "AssociateVPCWithHostedZone",
        "InvalidVPCId",
        400,
        Expect::Fails,
    ),
    (
        "AssociateVPCWithHostedZone",
        "LimitsExceeded",
        400,
        Expect::Fails,
    ),
    (
        "AssociateVPCWithHostedZone",
        "NotAuthorizedException",
        401,
        Expect::Fails,
    ),
    (
        "DisassociateVPCFromHostedZone",
        "VPCAssociationNotFound",
        404,
        Expect::Tolerated,
    ),
    (
        "DisassociateVPCFromHostedZone",
        "LastVPCAssociation",
        400,
        Expect::Fails,
    ),
    (
        "DeleteHostedZone",
        "NoSuchHostedZone",
        404,
        Expect::Tolerated,
    ),
    ("DeleteHostedZone", "HostedZoneNotEmpty", 400, Expect::Fails),
    ("GetHostedZone", "NoSuchHostedZone", 404, Expect::Gone),
    ("GetChange", "NoSuchChange", 404, Expect::Fails),
    (
        "CreateSecurityGroup",
        "InvalidGroup.Duplicate",
        400,
        Expect::Fails,
    ),
    (
        "CreateSecurityGroup",
        "SecurityGroupLimitExceeded",
        400,
        Expect::Fails,
    ),
    (
        "CreateSecurityGroup",
        "InvalidVpcID.NotFound",
        400,
        Expect::Fails,
    ),
    (
        "AuthorizeSecurityGroupIngress",
        "InvalidPermission.Duplicate",
        400,
        Expect::Tolerated,
    ),
    (
        "AuthorizeSecurityGroupIngress",
        "RulesPerSecurityGroupLimitExceeded",
        400,
        Expect::Fails,
    ),
    (
        "AuthorizeSecurityGroupIngress",
        "InvalidGroup.NotFound",
        400,
        Expect::Fails,
    ),
    (
        "RevokeSecurityGroupEgress",
        "InvalidPermission.NotFound",
        400,
        Expect::Tolerated,
    ),
    (
        "RevokeSecurityGroupIngress",
        "InvalidPermission.NotFound",
        400,
        Expect::Tolerated,
    ),
    (
        "DeleteSecurityGroup",
        "DependencyViolation",
        400,
        Expect::Retried,
    ),
    (
        "DeleteSecurityGroup",
        "InvalidGroup.InUse",
        400,
        Expect::Retried,
    ),
    (
        "DeleteSecurityGroup",
        "InvalidGroup.NotFound",
        400,
        Expect::Tolerated,
    ),
    (
        "DescribeSecurityGroups",
        "InvalidGroup.NotFound",
        400,
        Expect::Gone,
    ),
    (
        "CreateVpcEndpoint",
        "InvalidServiceName",
        400,
        Expect::Fails,
    ),
    (
        "CreateVpcEndpoint",
        "VpcEndpointLimitExceeded",
        400,
        Expect::Fails,
    ),
    (
        "CreateVpcEndpoint",
        "InvalidVpcId.NotFound",
        400,
        Expect::Fails,
    ),
    (
        "CreateVpcEndpoint",
        "InvalidSubnetID.NotFound",
        400,
        Expect::Fails,
    ),
    (
        "CreateVpcEndpoint",
        "IdempotentParameterMismatch",
        400,
        Expect::Fails,
    ),
    (
        "ModifyVpcEndpoint",
        "InvalidVpcEndpointId.NotFound",
        400,
        Expect::Fails,
    ),
    ("ModifyVpcEndpoint", "IncorrectState", 400, Expect::Fails),
    (
        "DeleteVpcEndpoints",
        "InvalidVpcEndpointId.NotFound",
        400,
        Expect::Tolerated,
    ),
    (
        "DescribeVpcEndpoints",
        "InvalidVpcEndpointId.NotFound",
        400,
        Expect::Gone,
    ),
    (
        "CreateNetworkInsightsPath",
        "InvalidParameterCombination",
        400,
        Expect::Fails,
    ),
    (
        "DescribeNetworkInsightsPaths",
        "InvalidNetworkInsightsPathId.NotFound",
        400,
        Expect::Gone,
    ),
    (
        "StartNetworkInsightsAnalysis",
        "InvalidNetworkInsightsPathId.NotFound",
        400,
        Expect::Fails,
    ),
    (
        "DescribeNetworkInsightsAnalyses",
        "InvalidNetworkInsightsAnalysisId.NotFound",
        400,
        Expect::Fails,
    ),
    (
        "DeleteNetworkInsightsAnalysis",
        "InvalidNetworkInsightsAnalysisId.NotFound",
        400,
        Expect::Tolerated,
    ),
    (
        "DeleteNetworkInsightsPath",
        "InvalidNetworkInsightsPathId.NotFound",
        400,
        Expect::Tolerated,
    ),
    (
        "DeleteNetworkInsightsPath",
        "AnalysisExistsForNetworkInsightsPath",
        400,
        Expect::Retried,
    ),
    (
        "CreateVPCAssociationAuthorization",
        "NoSuchHostedZone",
        404,
        Expect::Fails,
    ),
    (
        "CreateVPCAssociationAuthorization",
        "InvalidVPCId",
        400,
        Expect::Fails,
    ),
    (
        "CreateVPCAssociationAuthorization",
        "TooManyVPCAssociationAuthorizations",
        400,
        Expect::Fails,
    ),
    (
        "ListVPCAssociationAuthorizations",
        "NoSuchHostedZone",
        404,
        Expect::Gone,
    ),
    (
        "DeleteVPCAssociationAuthorization",
        "VPCAssociationAuthorizationNotFound",
        404,
        Expect::Tolerated,
    ),
    (
        "DeleteVPCAssociationAuthorization",
        "NoSuchHostedZone",
        404,
        Expect::Tolerated,
    ),
    ("CreateTags", "TagLimitExceeded", 400, Expect::Fails),
    ("CreateTags", "InvalidID", 400, Expect::Fails),
    ("DeleteTags", "InvalidID", 400, Expect::Fails),
];

/// Text no diagnostic may carry.
const NEVER: &[&str] = &[
    "panic",
    "inconsistent result",
    "Provider produced",
    "error parsing XML",
    "service error",
    "unhandled error",
    "dispatch failure",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Plan,
    Apply,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// `plan -out`, then `apply` of that plan.
    Apply,
    /// The same for `-destroy`.
    Destroy,
    /// `plan` alone (a refresh).
    Refresh,
}

struct Scenario {
    name: &'static str,
    /// What is applied, without faults, before the step.
    before: Option<Config>,
    /// The configuration the step plans.
    after: Config,
    step: Step,
    /// The resources `before` made are taken out of state, and the step's
    /// configuration adopts them with `import` blocks.
    import: bool,
}

#[derive(Clone, Copy)]
struct Config {
    tag: &'static str,
    /// Both subnets and the group's CIDR, or one subnet, the application's
    /// group too, and no CIDR.
    wide: bool,
    /// A private hosted zone over the endpoint, associated with these of
    /// the fixture's VPCs (0: the endpoint's, 1 and 2: spokes); none when
    /// empty.
    zone: &'static [usize],
    /// The zone's authorization of this fixture VPC for another account.
    authorize: Option<usize>,
    /// A reachability analysis from the application's host to the
    /// endpoint.
    analysis: bool,
    /// The data sources' reads: the service, and the diagnostics of the
    /// endpoint for the application's group.
    data: bool,
}

const BASE: Config = Config {
    tag: "a",
    wide: true,
    zone: &[],
    authorize: None,
    analysis: false,
    data: false,
};

const WITH_ZONE: Config = Config {
    zone: &[0, 1],
    ..BASE
};

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "create",
            before: None,
            after: BASE,
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "update-tags",
            before: Some(BASE),
            after: Config { tag: "b", ..BASE },
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "update-network",
            before: Some(BASE),
            after: Config {
                wide: false,
                ..BASE
            },
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "delete",
            before: Some(BASE),
            after: BASE,
            step: Step::Destroy,
            import: false,
        },
        Scenario {
            name: "refresh",
            before: Some(BASE),
            after: BASE,
            step: Step::Refresh,
            import: false,
        },
        Scenario {
            name: "zone-create",
            before: Some(BASE),
            after: WITH_ZONE,
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "zone-update",
            before: Some(WITH_ZONE),
            after: Config {
                zone: &[0, 2],
                ..BASE
            },
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "zone-update-tags",
            before: Some(WITH_ZONE),
            after: Config {
                tag: "b",
                ..WITH_ZONE
            },
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "zone-delete",
            before: Some(WITH_ZONE),
            after: WITH_ZONE,
            step: Step::Destroy,
            import: false,
        },
        Scenario {
            name: "import",
            before: Some(WITH_ZONE),
            after: WITH_ZONE,
            step: Step::Apply,
            import: true,
        },
        Scenario {
            name: "analysis-create",
            before: Some(BASE),
            after: Config {
                analysis: true,
                ..BASE
            },
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "analysis-delete",
            before: Some(Config {
                analysis: true,
                ..BASE
            }),
            after: BASE,
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "authorization-create",
            before: Some(WITH_ZONE),
            after: Config {
                authorize: Some(2),
                ..WITH_ZONE
            },
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "authorization-delete",
            before: Some(Config {
                authorize: Some(2),
                ..WITH_ZONE
            }),
            after: WITH_ZONE,
            step: Step::Apply,
            import: false,
        },
        Scenario {
            name: "data-read",
            before: Some(BASE),
            after: Config { data: true, ..BASE },
            step: Step::Refresh,
            import: false,
        },
    ]
}

impl Scenario {
    /// Whether the step's configuration leaves out a resource `before`
    /// made: the step deletes it.
    fn drops_a_resource(&self) -> bool {
        let Some(before) = self.before else {
            return false;
        };
        let after = self.after;
        (before.analysis && !after.analysis)
            || (before.authorize.is_some() && after.authorize.is_none())
            || (!before.zone.is_empty() && after.zone.is_empty())
    }
}

/// The addresses of the resources the scenarios make.
const ADDRESSES: &[&str] = &[
    "planetscale_privatelink_endpoint.db",
    "planetscale_privatelink_security_group.db",
    "planetscale_privatelink_dns_zone.shared",
    "planetscale_privatelink_reachability_analysis.db",
    "planetscale_privatelink_dns_zone_authorization.spoke",
];

/// The VPC of [`Pairs`], two spoke VPCs, and the name a zone answers for.
struct Fixture {
    pairs: Pairs,
    spokes: Vec<String>,
    host: String,
    /// A host of the application (a network interface in its group): the
    /// analysis's source.
    source: String,
}

impl Fixture {
    fn new(emulator: &'static Emulator) -> Fixture {
        let pairs = Pairs::on(emulator, 70);
        let spokes = (0..2)
            .map(|i| {
                pairs
                    .rt
                    .block_on(support::emulator::create_network(
                        &pairs.ec2,
                        71 + i,
                        &["us-east-1a"],
                    ))
                    .vpc_id
            })
            .collect();
        let host = format!("{}.private.example.com", support::unique("db"));
        let source = pairs
            .rt
            .block_on(
                pairs
                    .ec2
                    .create_network_interface()
                    .subnet_id(&pairs.network.subnet_ids[0])
                    .groups(&pairs.app_group)
                    .send(),
            )
            .expect("CreateNetworkInterface")
            .network_interface()
            .and_then(|n| n.network_interface_id())
            .expect("interface id")
            .to_owned();
        Fixture {
            pairs,
            spokes,
            host,
            source,
        }
    }

    /// The network insights paths from the application's host.
    fn paths(&self) -> Vec<String> {
        self.pairs.emulator.strict.insights.paths_from(&self.source)
    }

    fn vpc(&self, i: usize) -> &str {
        match i {
            0 => &self.pairs.network.vpc_id,
            _ => &self.spokes[i - 1],
        }
    }

    /// The ids of the private zones for the fixture's name, in Route 53.
    fn zones(&self) -> Vec<String> {
        let route53 = self.pairs.emulator.route53();
        let wanted = format!("{}.", self.host);
        let out = self
            .pairs
            .rt
            .block_on(route53.list_hosted_zones_by_name().dns_name(&wanted).send())
            .expect("ListHostedZonesByName");
        out.hosted_zones()
            .iter()
            .filter(|z| z.name() == wanted)
            .map(|z| z.id().trim_start_matches("/hostedzone/").to_owned())
            .collect()
    }
}

/// A group and an endpoint using it, and a zone when `c` has one, every
/// timeout [`TIMEOUT`].
fn config(f: &Fixture, c: Config) -> String {
    let pairs = &f.pairs;
    let t = format!("{}s", TIMEOUT.as_secs());
    let (subnets, groups, cidrs) = if c.wide {
        (
            format!(
                "\"{}\", \"{}\"",
                pairs.network.subnet_ids[0], pairs.network.subnet_ids[1]
            ),
            "planetscale_privatelink_security_group.db.id".to_owned(),
            "[\"10.0.0.0/16\"]",
        )
    } else {
        (
            format!("\"{}\"", pairs.network.subnet_ids[0]),
            format!(
                "planetscale_privatelink_security_group.db.id, \"{}\"",
                pairs.app_group
            ),
            "[]",
        )
    };
    format!(
        r#"{providers}provider "planetscale" {{
  region = "us-east-1"
}}

resource "planetscale_privatelink_security_group" "db" {{
  vpc_id                     = "{vpc}"
  allowed_security_group_ids = ["{app}"]
  allowed_cidr_blocks        = {cidrs}
  tags = {{
    stage = "{tag}"
  }}

  timeouts {{
    create = "{t}"
    update = "{t}"
    delete = "{t}"
  }}
}}

resource "planetscale_privatelink_endpoint" "db" {{
  service_name        = "{service}"
  vpc_id              = "{vpc}"
  subnet_ids          = [{subnets}]
  security_group_ids  = [{groups}]
  private_dns_enabled = false
  tags = {{
    stage = "{tag}"
  }}

  timeouts {{
    create = "{t}"
    update = "{t}"
    delete = "{t}"
  }}
}}
"#,
        providers = Workspace::required_providers(false),
        vpc = pairs.network.vpc_id,
        app = pairs.app_group,
        service = pairs.service,
        tag = c.tag,
    ) + &zone_config(f, c, &t)
        + &extras_config(f, c, &t)
}

/// The analysis, the authorization and the data sources `c` asks for.
fn extras_config(f: &Fixture, c: Config, t: &str) -> String {
    let mut text = String::new();
    if c.analysis {
        text.push_str(&format!(
            r#"
resource "planetscale_privatelink_reachability_analysis" "db" {{
  source      = "{source}"
  endpoint_id = planetscale_privatelink_endpoint.db.id

  timeouts {{
    create = "{long}"
    update = "{long}"
    delete = "{t}"
  }}
}}
"#,
            source = f.source,
            long = format!("{}s", ANALYSIS_TIMEOUT.as_secs()),
        ));
    }
    if let Some(vpc) = c.authorize {
        text.push_str(&format!(
            r#"
resource "planetscale_privatelink_dns_zone_authorization" "spoke" {{
  zone_id = planetscale_privatelink_dns_zone.shared.zone_id
  vpc_id  = "{vpc}"

  timeouts {{
    create = "{t}"
    delete = "{t}"
  }}
}}
"#,
            vpc = f.vpc(vpc),
        ));
    }
    if c.data {
        text.push_str(&format!(
            r#"
data "planetscale_privatelink_service" "db" {{
  service_name = "{service}"
}}

data "planetscale_privatelink_diagnostics" "db" {{
  endpoint_id               = planetscale_privatelink_endpoint.db.id
  client_security_group_ids = ["{app}"]
}}
"#,
            service = f.pairs.service,
            app = f.pairs.app_group,
        ));
    }
    text
}

fn zone_config(f: &Fixture, c: Config, t: &str) -> String {
    if c.zone.is_empty() {
        return String::new();
    }
    let vpcs: Vec<String> = c
        .zone
        .iter()
        .map(|i| format!("\"{}\"", f.vpc(*i)))
        .collect();
    format!(
        r#"
resource "planetscale_privatelink_dns_zone" "shared" {{
  private_host = "{host}"
  endpoint_id  = planetscale_privatelink_endpoint.db.id
  vpc_ids      = [{vpcs}]

  tags = {{
    stage = "{tag}"
  }}

  timeouts {{
    create = "{t}"
    update = "{t}"
    delete = "{t}"
  }}
}}
"#,
        host = f.host,
        vpcs = vpcs.join(", "),
        tag = c.tag,
    )
}

/// A fault class as the matrix names it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Class {
    /// Never answered; the step's timeout must end it.
    BlackHole,
    /// Never answered; Ctrl-C must end it.
    BlackHoleCtrlC,
    LoseAnswer,
    /// Throttled on every attempt until the fault clears.
    Throttle,
    Code {
        code: &'static str,
        status: u16,
        expect: Expect,
    },
}

impl Class {
    fn name(&self) -> String {
        match self {
            Class::BlackHole => "black-hole".into(),
            Class::BlackHoleCtrlC => "black-hole-ctrl-c".into(),
            Class::LoseAnswer => "lose-answer".into(),
            Class::Throttle => "throttle".into(),
            Class::Code { code, .. } => (*code).into(),
        }
    }

    fn fault(&self) -> Fault {
        match self {
            Class::BlackHole | Class::BlackHoleCtrlC => Fault::BlackHole,
            Class::LoseAnswer => Fault::LoseAnswer,
            Class::Throttle => Fault::Throttle,
            Class::Code {
                code,
                status,
                expect,
            } => Fault::Error {
                status: *status,
                code: (*code).to_owned(),
                // What "already deleted" or "already there" says is so.
                after_effect: *expect == Expect::Tolerated,
            },
        }
    }
}

/// The calls the provider makes when Terraform configures it, before any
/// resource's operation.
const AT_CONFIGURE: &[&str] = &["GetCallerIdentity"];

/// Whether a resource's `timeouts` bound a call of `action` in `phase`. A
/// plan, and the provider's configuration, have no timeout: a call held
/// there is ended by Ctrl-C (or the provider's aws_operation_timeout).
fn timed(action: &str, phase: Phase) -> bool {
    phase == Phase::Apply && !AT_CONFIGURE.contains(&action)
}

/// The fault classes for a call of `action` in `phase`.
fn classes(action: &str, phase: Phase) -> Vec<Class> {
    let mut out = vec![Class::BlackHoleCtrlC, Class::LoseAnswer, Class::Throttle];
    if timed(action, phase) {
        out.push(Class::BlackHole);
    }
    out.extend(
        CODES
            .iter()
            .filter(|(op, ..)| {
                let service = if is_route53(action) { "route53" } else { "ec2" };
                *op == service || *op == action
            })
            .map(|&(_, code, status, expect)| Class::Code {
                code,
                status,
                expect,
            }),
    );
    out
}

/// One row of the matrix.
#[derive(Clone, Debug)]
struct Row {
    scenario: &'static str,
    action: String,
    occurrence: u32,
    class: Class,
}

impl Row {
    fn id(&self) -> String {
        format!(
            "{}/{}#{}/{}",
            self.scenario,
            self.action,
            self.occurrence,
            self.class.name()
        )
    }
}

/// The call positions of a trace: each action's k-th call, in order.
fn positions(trace: &[(Phase, String)]) -> Vec<(Phase, String, u32)> {
    let mut seen = std::collections::HashMap::<&str, u32>::new();
    trace
        .iter()
        .map(|(phase, action)| {
            let k = seen.entry(action.as_str()).or_default();
            let position = (*phase, action.clone(), *k);
            *k += 1;
            position
        })
        .collect()
}

/// What one terraform command did.
struct Outcome {
    success: bool,
    text: String,
    took: Duration,
    /// How long it ran after Ctrl-C, when it got one.
    after_ctrl_c: Option<Duration>,
    /// Still running at [`HUNG`]: killed.
    hung: bool,
}

/// Runs terraform with `args`, in a process group of its own. With
/// `ctrl_c`, sends SIGINT to the group once the proxy has served the
/// injected fault and a second has passed.
fn run(ws: &Workspace, proxy: &Proxy, args: &[&str], ctrl_c: bool) -> Outcome {
    let (mut terraform, output) = terraform_in_group(ws, args);
    let group = terraform.id() as i32;
    let started = Instant::now();
    let mut served_at = None;
    let mut signalled_at = None;
    let mut hung = false;
    let status = loop {
        if let Some(status) = terraform.try_wait().unwrap() {
            break status;
        }
        if ctrl_c && signalled_at.is_none() {
            if served_at.is_none() && proxy.injected() {
                served_at = Some(Instant::now());
            }
            if served_at.is_some_and(|at| at.elapsed() > Duration::from_secs(1)) {
                // SAFETY: kill(2) on the process group this test started, as Ctrl-C does.
                unsafe { libc::kill(-group, libc::SIGINT) };
                signalled_at = Some(Instant::now());
            }
        }
        if started.elapsed() > HUNG {
            hung = true;
            // SAFETY: as above; ends what the test started.
            unsafe { libc::kill(-group, libc::SIGKILL) };
            break terraform.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let after_ctrl_c = signalled_at.map(|at| at.elapsed());
    // Every process of the group (the provider) ends with terraform.
    let until = Instant::now() + Duration::from_secs(10);
    while !group_members(group).is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    Outcome {
        success: status.success(),
        text: output.join().unwrap(),
        took,
        after_ctrl_c,
        hung,
    }
}

/// The steps' terraform commands: (phase, args).
fn commands(step: Step) -> Vec<(Phase, Vec<&'static str>)> {
    let plan = |destroy: bool| {
        let mut args = vec!["plan", "-input=false", "-no-color", "-out=step.tfplan"];
        if destroy {
            args.push("-destroy");
        }
        (Phase::Plan, args)
    };
    let apply = (
        Phase::Apply,
        vec!["apply", "-input=false", "-no-color", "step.tfplan"],
    );
    match step {
        Step::Apply => vec![plan(false), apply],
        Step::Destroy => vec![plan(true), apply],
        Step::Refresh => vec![(Phase::Plan, vec!["plan", "-input=false", "-no-color"])],
    }
}

/// The longest `timeouts` of the scenario's resources: what bounds a step.
fn bound(scenario: &Scenario) -> Duration {
    let analysis = scenario.after.analysis || scenario.before.is_some_and(|c| c.analysis);
    if analysis { ANALYSIS_TIMEOUT } else { TIMEOUT }
}

/// A VPC, a proxy, and a workspace at the scenario's start.
fn start(scenario: &Scenario, emulator: &'static Emulator) -> (Fixture, Proxy, Workspace) {
    let fixture = Fixture::new(emulator);
    let proxy = Proxy::start(&fixture.pairs.emulator.url);
    let ws = Workspace::new(Some(&proxy.url));
    ws.write(
        "main.tf",
        &config(&fixture, scenario.before.unwrap_or(scenario.after)),
    );
    ws.init();
    if scenario.before.is_some() {
        ws.apply();
    }
    let mut after = config(&fixture, scenario.after);
    if scenario.import {
        let state = ws.state();
        for address in ADDRESSES {
            let Some(r) = support::terraform::find_in_state(&state, address) else {
                continue;
            };
            let id = r["values"]["id"].as_str().expect("an id").to_owned();
            ws.ok(&["state", "rm", address]);
            after.push_str(&format!(
                "\nimport {{\n  to = {address}\n  id = \"{id}\"\n}}\n"
            ));
        }
    }
    ws.write("main.tf", &after);
    proxy.take_trace();
    (fixture, proxy, ws)
}

/// The calls the scenario makes without faults, by phase.
fn record(scenario: &Scenario, emulator: &'static Emulator) -> Vec<(Phase, String)> {
    let (_pairs, proxy, ws) = start(scenario, emulator);
    let mut trace = Vec::new();
    for (phase, args) in commands(scenario.step) {
        let outcome = run(&ws, &proxy, &args, false);
        assert!(
            outcome.success,
            "{} without faults failed:\n{}",
            scenario.name, outcome.text
        );
        trace.extend(proxy.take_trace().into_iter().map(|a| (phase, a)));
    }
    trace
}

/// Runs one row; the violations of the invariants it found, and where the
/// provider's log of a broken row was kept.
fn check(scenario: &Scenario, row: &Row, emulator: &'static Emulator) -> Vec<String> {
    // The set-up runs without faults; an emulator's hiccup there (moto
    // answers a 500 now and then under load) is tried again, not counted
    // against the row.
    let mut tries = 0;
    let (fixture, proxy, ws) = loop {
        tries += 1;
        match std::panic::catch_unwind(|| start(scenario, emulator)) {
            Ok(started) => break started,
            Err(_) if tries < 3 => continue,
            Err(_) => return vec!["the scenario's set-up failed three times".into()],
        }
    };
    let mut broken = run_row(scenario, row, &fixture, &proxy, &ws);
    if !broken.is_empty() {
        let dir = std::env::temp_dir().join("fault-matrix-logs");
        let name: String = row
            .id()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let kept = dir.join(format!("{name}.log"));
        if std::fs::create_dir_all(&dir).is_ok()
            && std::fs::copy(ws.path().join("provider.log"), &kept).is_ok()
        {
            broken.push(format!("the provider's log: {}", kept.display()));
        }
    }
    broken
}

fn run_row(
    scenario: &Scenario,
    row: &Row,
    fixture: &Fixture,
    proxy: &Proxy,
    ws: &Workspace,
) -> Vec<String> {
    let pairs = &fixture.pairs;
    let mut broken = Vec::new();
    proxy.inject(Some(Injection {
        action: row.action.clone(),
        occurrence: row.occurrence,
        fault: row.class.fault(),
    }));
    let mut step_ok = true;
    let mut text = String::new();
    for (phase, args) in commands(scenario.step) {
        let ctrl_c = matches!(row.class, Class::BlackHoleCtrlC)
            || (!timed(&row.action, phase) && row.class == Class::Throttle);
        let outcome = run(ws, proxy, &args, ctrl_c);
        text.push_str(&outcome.text);
        if outcome.hung {
            broken.push(format!("`terraform {}` still ran after {HUNG:?}", args[0]));
        }
        if let Some(after) = outcome.after_ctrl_c
            && after > AFTER_CTRL_C
        {
            broken.push(format!(
                "`terraform {}` took {after:?} to end after Ctrl-C",
                args[0]
            ));
        }
        let limit = bound(scenario);
        if timed(&row.action, phase)
            && outcome.after_ctrl_c.is_none()
            && outcome.took > limit + MARGIN
        {
            broken.push(format!(
                "`terraform apply` took {:?} with every timeout at most {limit:?}",
                outcome.took
            ));
        }
        if !outcome.success {
            step_ok = false;
            break;
        }
    }
    for never in NEVER {
        if text.to_lowercase().contains(&never.to_lowercase()) {
            broken.push(format!("the output says {never:?}"));
        }
    }
    let served = proxy.injected();
    match &row.class {
        Class::Code { code, expect, .. } if served => match expect {
            Expect::Retried | Expect::Tolerated if !step_ok => {
                broken.push(format!("{code} was to be {expect:?}, and the step failed"))
            }
            Expect::Fails if !step_ok && !text.contains(code) => {
                broken.push(format!("the error does not name {code}"))
            }
            _ => {}
        },
        Class::LoseAnswer if served && !step_ok => {
            broken.push("a lost answer failed the step".into())
        }
        _ => {}
    }

    // The fault clears: the next run converges.
    proxy.inject(None);
    let converge = if scenario.step == Step::Destroy {
        ws.run(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    } else {
        ws.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    };
    if !converge.success() {
        broken.push(format!("the next run failed:\n{}", converge.text()));
        return broken;
    }
    if scenario.step != Step::Destroy {
        let plan = ws.run(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
        if plan.code != 0 {
            broken.push(format!("the plan after it is not empty:\n{}", plan.stdout));
        }
    }
    let state = ws.state();
    let in_state: BTreeSet<String> = ADDRESSES
        .iter()
        .filter_map(|a| support::terraform::find_in_state(&state, a))
        .filter_map(|r| r["values"]["id"].as_str().map(str::to_owned))
        .collect();
    let endpoints = pairs.live_endpoints();
    let groups = pairs.created_group_ids();
    let zones = fixture.zones();
    let paths = fixture.paths();
    if endpoints.len() > 1 || groups.len() > 1 || zones.len() > 1 || paths.len() > 1 {
        broken.push(format!(
            "made twice: endpoints {endpoints:?}, groups {groups:?}, zones {zones:?}, paths {paths:?}"
        ));
    }
    let seen = format!("{text}\n{}", converge.text());
    // AWS saying "gone" while a destroy (or a step that drops a resource
    // from the configuration) refreshes takes the resource out of state,
    // and no later plan wants it: what a NotFound that lies leaves behind,
    // with this provider as with any.
    let lied_gone = (scenario.step == Step::Destroy || scenario.drops_a_resource())
        && matches!(
            row.class,
            Class::Code {
                expect: Expect::Gone,
                ..
            }
        );
    for id in endpoints.iter().chain(&groups).chain(&zones).chain(&paths) {
        let named = seen.contains(id) && seen.contains("import {");
        if !in_state.contains(id) && !named && !lied_gone {
            broken.push(format!(
                "{id} exists, is not in state, and no plan named it"
            ));
        }
    }
    broken
}

/// Which rows to run: all, the named ones, or a sample by seed.
fn select(rows: Vec<Row>) -> Vec<Row> {
    if let Ok(names) = std::env::var("FAULT_MATRIX_ROWS") {
        let names: BTreeSet<&str> = names.split(',').map(str::trim).collect();
        return rows
            .into_iter()
            .filter(|r| names.contains(r.id().as_str()))
            .collect();
    }
    if std::env::var("FAULT_MATRIX").as_deref() == Ok("all") {
        return rows;
    }
    let sample: usize = std::env::var("FAULT_MATRIX_SAMPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("FAULT_MATRIX_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                / 86_400
        });
    eprintln!("fault matrix: a sample of {sample} rows, FAULT_MATRIX_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut rows = rows;
    rng.shuffle(&mut rows);
    rows.truncate(sample);
    rows
}

#[test]
fn every_fault_at_every_call_keeps_the_invariants() {
    let started = Instant::now();
    let scenarios = scenarios();
    let wanted: Option<BTreeSet<String>> = std::env::var("FAULT_MATRIX_SCENARIOS")
        .ok()
        .map(|s| s.split(',').map(|n| n.trim().to_owned()).collect());
    let mut rows = Vec::new();
    let recorder: &'static Emulator = Box::leak(Box::new(Emulator::start()));
    for scenario in &scenarios {
        if wanted.as_ref().is_some_and(|w| !w.contains(scenario.name)) {
            continue;
        }
        let trace = record(scenario, recorder);
        eprintln!(
            "fault matrix: {} makes {} calls: {}",
            scenario.name,
            trace.len(),
            trace
                .iter()
                .map(|(p, a)| format!("{a}{}", if *p == Phase::Plan { "(plan)" } else { "" }))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for (phase, action, occurrence) in positions(&trace) {
            for class in classes(&action, phase) {
                rows.push(Row {
                    scenario: scenario.name,
                    action: action.clone(),
                    occurrence,
                    class,
                });
            }
        }
    }
    recorder.stop();
    let total = rows.len();
    let rows = select(rows);
    eprintln!("fault matrix: {total} rows in all; running {}", rows.len());

    let queue = Mutex::new(rows.clone());
    let failures = Mutex::new(Vec::new());
    let workers: usize = std::env::var("FAULT_MATRIX_WORKERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    std::thread::scope(|threads| {
        for _ in 0..workers {
            threads.spawn(|| {
                // Emulators of the worker's own, a fresh one every
                // ROWS_PER_EMULATOR rows (each lives on with the process
                // only as an address; stop() ends its moto).
                let mut emulator: Option<&'static Emulator> = None;
                let mut served = 0;
                loop {
                    let Some(row) = queue.lock().unwrap().pop() else {
                        if let Some(e) = emulator {
                            e.stop();
                        }
                        return;
                    };
                    if served == ROWS_PER_EMULATOR {
                        emulator.take().map(Emulator::stop);
                        served = 0;
                    }
                    let on =
                        *emulator.get_or_insert_with(|| Box::leak(Box::new(Emulator::start())));
                    served += 1;
                    let scenario = scenarios.iter().find(|s| s.name == row.scenario).unwrap();
                    let took = Instant::now();
                    let broken = check(scenario, &row, on);
                    eprintln!(
                        "fault matrix: {} {} in {:?}{}",
                        row.id(),
                        if broken.is_empty() { "ok" } else { "BROKEN" },
                        took.elapsed(),
                        broken
                            .iter()
                            .map(|b| format!("\n  {b}"))
                            .collect::<String>()
                    );
                    if !broken.is_empty() {
                        failures.lock().unwrap().push((row.id(), broken));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "fault matrix: {} rows run in {:?}, {} broke an invariant",
        rows.len(),
        started.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "rows that broke an invariant (rerun with FAULT_MATRIX_ROWS=<row>):\n{}",
        failures
            .iter()
            .map(|(id, broken)| format!("{id}:\n  {}", broken.join("\n  ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
