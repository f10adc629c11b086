//! The strict EC2 layer: an HTTP layer in front of the emulator (moto) that
//! refuses what EC2 refuses and the emulator forgives, answering with EC2's
//! own code and message. Every acceptance test talks to the emulator through
//! it (`Emulator::url`); the fault proxy, where a test uses one, sits in
//! front of it. It reads what it needs to decide from the emulator with
//! calls of its own, which no test's call counts see. It also answers
//! Reachability Analyzer's actions, which the emulator lacks, from a
//! stand-in ([`Insights`], in `insights.rs`), and Route 53's VPC
//! association authorizations, which the emulator lacks too
//! ([`route53_authorizations`]); other Route 53 requests pass to the
//! emulator, whose changes are shown `PENDING` for a while (rule 15: the
//! emulator answers every change `INSYNC` at once).
//!
//! | # | rule | EC2's answer (400) | source |
//! |---|---|---|---|
//! | 1 | a `TagSpecification.N` without a tag, on any action | `InvalidParameterValue` "Tag specification must have at least one tag" | EC2's text, quoted in hashicorp/packer#11311 |
//! | 2 | private DNS on (`PrivateDnsEnabled`, which defaults to true for interface endpoints) for a service without a private DNS name, or whose name is not verified | `InvalidParameter` "Private DNS can't be enabled because the service <name> does not provide a private DNS name." / "... has not verified the private DNS name." | API_CreateVpcEndpoint (PrivateDnsEnabled "Default: true"); API_PrivateDnsNameConfiguration ("Consumers of the endpoint service can use the private name only when the state is verified") |
//! | 3 | private DNS on while another endpoint of the VPC (not deleted, failed or rejected) has it on for the same name, or while a private hosted zone for that name is associated with the VPC; on create and on a modify that turns it on | `InvalidParameter` "private-dns-enabled cannot be set because there is already a conflicting DNS domain for <name> in the VPC <vpc-id>" | EC2's text, quoted in hashicorp/terraform-provider-aws#17535; PrivateLink guide, "Manage DNS names for VPC endpoint services" (for private DNS "we create a private hosted zone and associate it with the service consumer VPC"), so Route 53's one zone per name per VPC holds (rule 17) |
//! | 4 | two subnets of one availability zone in an interface endpoint: on create, and on a modify adding a subnet in a zone where the endpoint has one, even one removed in the same call | `DuplicateSubnetsInSameZone` "Found another VPC endpoint subnet in the availability zone of <subnet-id>. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service." | EC2 error codes ("For an interface VPC endpoint, you can specify only one subnet per Availability Zone"); text quoted in terraform-aws-modules/terraform-aws-vpc#583 |
//! | 5 | revoking a `SecurityGroupRuleId.N` the group does not have (in that direction) | `InvalidSecurityGroupRuleId.NotFound` "The specified security group rule does not exist." | EC2 error codes; the emulator answers `InvalidPermission.NotFound` instead |
//! | 6 | a group made through this layer is invisible to its first [`READS_HIDDEN_AFTER_CREATE`] DescribeSecurityGroups that name it, and its rules to the first as many DescribeSecurityGroupRules that filter on it | `InvalidGroup.NotFound` "The security group '<id>' does not exist" (asked by id); left out of the answer (asked by filter) | EC2 developer guide, "Eventual consistency" |
//! | 7 | `MaxResults`/`NextToken` paging of DescribeVpcEndpoints, DescribeSecurityGroups, DescribeSecurityGroupRules, DescribeSubnets and DescribeNetworkInterfaces (the emulator answers everything at once) | `InvalidParameterValue` "Value ( <n> ) for parameter maxResults is invalid. ..." outside 5-1000 (DescribeVpcEndpoints: above 1000 answers 1000); `InvalidPaginationToken` "The specified pagination token is not valid or is expired." | API references of the five actions ("This value can be between 5 and 1000"; "If the value is greater than 1,000, we return only 1,000 items"); EC2 error codes |
//! | 8 | a 51st interface or Gateway Load Balancer endpoint (not deleted) in a VPC | `VpcEndpointLimitExceeded` "You've reached the limit on the number of VPC endpoints that you can create in the AWS Region." | PrivateLink quotas ("Interface and Gateway Load Balancer endpoints per VPC: 50"); EC2 error codes |
//! | 9 | more than 50 tags on a resource: CreateTags (existing plus new keys) or one `TagSpecification.N` | `TagLimitExceeded` "The maximum number of Tags for a resource has been reached." | API_CreateTags ("Each resource can have a maximum of 50 tags") |
//! | 10 | more than 60 rules per group, direction and IP version (a rule naming a group counts for IPv4 and IPv6; one naming a prefix list counts as the list's maximum entries, toward its address family) | `RulesPerSecurityGroupLimitExceeded` "The maximum number of rules per security group has been reached." | Amazon VPC quotas, "Inbound or outbound rules per security group"; Amazon VPC user guide, "Managed prefix lists" (a referenced list counts as its maximum entries) |
//! | 11 | a service of another region (planted with [`Strict::plant_remote_service`]): DescribeVpcEndpointServices answers it only when `ServiceRegion.N` names its region, and CreateVpcEndpoint takes it only with `ServiceRegion` naming its region; either only when its provider supports the caller's region. A `ServiceRegion` that is not the caller's, for a service of the caller's region, is refused alike; and a CreateVpcEndpoint to it with a subnet in a zone without cross-Region PrivateLink (zone ids `use1-az3`, `usw1-az2`, `apne1-az3`, `apne2-az2`, `apne2-az4`) | `InvalidServiceName` "The Vpc Endpoint Service '<name>' does not exist"; for the zone, `InvalidParameter` "The VPC endpoint service <name> does not support the availability zone of the subnet: <subnet-id>." | API_CreateVpcEndpoint (ServiceRegion: "The Region where the service is hosted. The default is the current Region."); API_DescribeVpcEndpointServices (ServiceRegions); PrivateLink guide, "Cross-Region access" (the provider chooses the supported Regions; "Cross-Region access is not supported for the following Availability Zones: use1-az3, usw1-az2, apne1-az3, apne2-az2, and apne2-az4"); the zone refusal's text is EC2's for a zone a service does not support |
//! | 12 | an interface endpoint's `IpAddressType` its subnets cannot hold (`ipv4`: an IPv4 block each; `dualstack`: an IPv4 and an IPv6 block each; `ipv6`: IPv6-only subnets) or its service does not support (`SupportedIpAddressTypes`, planted with [`Strict::set_supported_ip_address_types`]; none: IPv4 alone); a `DnsOptions.DnsRecordIpType` of a family the endpoint lacks (`ipv4`: ipv4 or dualstack; `ipv6`: ipv6 or dualstack; `dualstack`, `service-defined`: dualstack); on create and on a modify | `InvalidParameter` "..." (the layer's words) | PrivateLink guide, "IP address types" ("supported only if all selected subnets ..."); API_DnsOptionsSpecification (DnsRecordIpType: ipv4, dualstack, ipv6, service-defined) |
//! | 13 | a `SubnetConfiguration.N` (CreateVpcEndpoint, or ModifyVpcEndpoint against the subnets the endpoint has after it) whose subnet is not among `SubnetId.N`, whose address lies outside its subnet's block or is one of the five AWS reserves (the first four and the last), or that lacks the address of a family the endpoint uses | `InvalidParameter` "..." (the layer's words) | API_SubnetConfiguration ("You must provide an IPv4 address if the VPC endpoint supports IPv4", likewise IPv6); Amazon VPC user guide, "Subnet CIDR blocks" (the five reserved addresses) |
//! | 14 | a CreateVpcEndpoint to a service of another region (`ServiceRegion` not the caller's) while a test denies the caller `vpce:AllowMultiRegion` for the VPC ([`Strict::deny_permission`]) | `UnauthorizedOperation` (403) "You are not authorized to perform this operation." | Service Authorization Reference, AWS PrivateLink: `vpce:AllowMultiRegion`, a permission-only action ("Grants permission to manage multi-region VPC endpoints"); EC2 error codes (UnauthorizedOperation) |
//! | 15 | a Route 53 change (CreateHostedZone, ChangeResourceRecordSets, AssociateVPCWithHostedZone, DisassociateVPCFromHostedZone, DeleteHostedZone) is `PENDING` in its answer, and to GetChange for [`CHANGE_PROPAGATES_IN`] after it was made; `INSYNC` after | `PENDING`, then `INSYNC` (200) | API_GetChange ("PENDING indicates that the changes in this request have not propagated to all Amazon Route 53 DNS servers ... This is the initial status of all change batch requests"); API_ChangeInfo |
//! | 16 | a CreateHostedZone with a `CallerReference` already used | `HostedZoneAlreadyExists` (409) "A hosted zone has already been created with the specified caller reference." | API_CreateHostedZone (CallerReference: "A unique string that identifies the request and that allows failed CreateHostedZone requests to be retried without the risk of executing the operation twice"; HostedZoneAlreadyExists: "...has already been created with the specified CallerReference") |
//! | 17 | a CreateHostedZone of a private zone, or an AssociateVPCWithHostedZone, whose VPC is already associated with another zone of the zone's name, or holds an interface endpoint with private DNS on for that name | `ConflictingDomainExists` (400) "..." (the layer's words) | API_CreateHostedZone and API_AssociateVPCWithHostedZone, ConflictingDomainExists ("Create a private hosted zone: A hosted zone with the specified name already exists and is already associated with the Amazon VPC that you specified"; "Associate VPCs with a private hosted zone: The VPC that you specified is already associated with another hosted zone that has the same name"); PrivateLink guide, "Manage DNS names for VPC endpoint services" (an endpoint's private DNS is a private hosted zone AWS associates with the VPC) |
//! | 18 | an interface endpoint to a service that requires acceptance is `pendingAcceptance` until its owner accepts it (a test plays that with [`Strict::accept`]); private DNS cannot be on before: a CreateVpcEndpoint to such a service with `PrivateDnsEnabled` true (its default), or a ModifyVpcEndpoint turning it on while the endpoint waits | `InvalidParameter` "..." (the layer's words); `pendingAcceptance` in DescribeVpcEndpoints | API_VpcEndpoint (State: `pendingAcceptance`); PrivateLink guide, "Accept or reject connection requests" (a request waits until the owner accepts it); EC2's refusal to enable private DNS before acceptance is not in the API reference: it is the behaviour crossplane-contrib/provider-aws#1363 reports ("can't enable private dns before it is accepted") and hashicorp/terraform-provider-aws#37628 builds `aws_vpc_endpoint_private_dns` for (private DNS turned on after the connection is accepted) |
//! | 19 | a Route 53 write to a hosted zone while another write to the same zone is still being answered: AssociateVPCWithHostedZone or DisassociateVPCFromHostedZone; ChangeResourceRecordSets or DeleteHostedZone (a test widens the window with [`Strict::hold_route53_writes`]) | `ConcurrentModification` (400) "Another user submitted a request to create, update, or delete the object at the same time that you did. Retry the request."; `PriorRequestNotComplete` (400) "The request was rejected because Route 53 was still processing a prior request." | API_AssociateVPCWithHostedZone and API_DisassociateVPCFromHostedZone (ConcurrentModification, and PriorRequestNotComplete: "If Amazon Route 53 can't process a request before the next request arrives, it will reject subsequent requests for the same hosted zone"); API_ChangeResourceRecordSets and API_DeleteHostedZone (PriorRequestNotComplete) |
//! | 20 | a ChangeTagsForResource of a hosted zone that would leave it more than [`ZONE_TAGS`] tags (those it has, plus the keys added, less the keys removed) | `InvalidInput` (400) "The input is not valid." with the count (the layer's words after AWS's) | API_ChangeTagsForResource (AddTags: "You can add a maximum of 10 tags to a health check or a hosted zone"); InvalidInput: "The input is not valid." |
//! | 21 | a CreateHostedZone that names a `VPC` and says nothing of `PrivateZone` makes a private hosted zone (the emulator makes it public unless `PrivateZone` is true, and then refuses to associate VPCs with it) | the zone is private (200), and a later AssociateVPCWithHostedZone is taken | API_CreateHostedZone (VPC: "(Private hosted zones only) A complex type that contains information about the Amazon VPC that you're associating with this hosted zone"); hashicorp/aws's `aws_route53_zone` sends the VPC without `PrivateZone` and gets a private zone |
//!
//! Choices where the emulator says less than EC2:
//! - Rule 2: the emulator reports no `privateDnsNameVerificationState` at
//!   all for services it hosts (its own configuration calls them
//!   `verified`), so a missing state counts as verified. A test plays a
//!   provider that has not verified its name with
//!   [`Strict::set_private_dns_verification`], which this layer then both
//!   enforces and reports in DescribeVpcEndpointServices.
//! - Rule 3: the emulator ignores `PrivateDnsEnabled` in ModifyVpcEndpoint,
//!   so the layer remembers the value of each modify it passed, counts an
//!   endpoint's private DNS by that, and shows it in DescribeVpcEndpoints
//!   answers, as EC2 would.
//! - Rule 7: EC2's text for a `MaxResults` below 5 is the one seen from
//!   DescribeInstances ("Expecting a value greater than 5."); its text for
//!   one above 1000 is not published, and is written here in the same shape.
//! - Rule 11: the emulator knows one region and ignores `ServiceRegion`.
//!   A remote service is played by a service of the emulator (its
//!   backing): the layer checks the request as EC2 would, then forwards
//!   it naming the backing service, without `ServiceRegion`, so the
//!   endpoint the emulator makes (interfaces, DNS names) is a real one; it
//!   then shows the remote name and `serviceRegion` in every answer about
//!   the endpoint, and maps a `service-name` filter back. EC2's answer to a
//!   caller whose region the provider has not enabled is not published:
//!   the layer answers as for a service the caller cannot see.
//! - Rule 12: the emulator writes a subnet's IPv6 block state as a whole
//!   dictionary (`{'State': 'associated'}`); the layer writes the word, as
//!   EC2 does, in DescribeSubnets answers.
//! - Rules 12 and 13: the emulator ignores `IpAddressType`, `DnsOptions`
//!   and `SubnetConfiguration`. The layer remembers each endpoint's
//!   address type and DNS record type (left out: `ipv4` and the address
//!   type's own family, `dualstack` for dual stack) from its create and
//!   modifies and shows them in DescribeVpcEndpoints; and it shows the
//!   fixed addresses on the endpoint's interfaces in
//!   DescribeNetworkInterfaces. EC2's texts for these refusals are not
//!   published; the layer's say what is wrong.
//! - Rule 10: the emulator itself refuses a 61st ingress rule counting IPv4
//!   and IPv6 together (with the same code); EC2 would take up to 60 of
//!   each. The layer cannot make the emulator accept more.
//! - Not a refusal: the emulator drops the description of a security
//!   group rule that names another group (DescribeSecurityGroupRules shows
//!   none); the layer shows the one it was authorized with, as EC2 does.
//! - Rule 18: the emulator makes every endpoint `available` at once. The
//!   layer shows an endpoint to a service that requires acceptance as
//!   `pendingAcceptance` in its answers until a test accepts it (the
//!   emulator's own `vpc-endpoint-state` filter still sees `available`).
//!   EC2's code and text for turning private DNS on too early are not
//!   published: the layer answers `InvalidParameter` in its own words.
//!
//! Checks and the call they guard run one at a time per layer, so two
//! concurrent creates cannot both pass a quota or conflict check. Every
//! refusal is kept ([`Strict::refusals`]); with STRICT_LAYER_LOG set, each is
//! also written to stderr as it happens.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use hyper::{Request, Response, StatusCode};

use super::insights::Insights;
use super::proxy::{Reply, encode_form, error_from, form, forward, xml_escape};

/// How many reads naming a new security group miss it. AWS documents no
/// number, only that a read right after a create may not see it yet;
/// terraform-provider-aws waits for 3 consecutive sightings of a new group,
/// so 2 misses exercise a client's waiting without stalling it.
pub const READS_HIDDEN_AFTER_CREATE: u32 = 2;
/// Interface and Gateway Load Balancer endpoints per VPC (PrivateLink quotas).
pub const ENDPOINTS_PER_VPC: usize = 50;
/// Tags per hosted zone (API_ChangeTagsForResource).
pub const ZONE_TAGS: usize = 10;

/// Tags per resource (API_CreateTags).
pub const TAGS_PER_RESOURCE: usize = 50;
/// Rules per security group, per direction and IP version (Amazon VPC quotas).
pub const RULES_PER_GROUP: usize = 60;
/// The most items one page holds.
const PAGE_MAX: i64 = 1000;

/// The actions EC2 pages, the set that holds their items, and the smallest
/// `MaxResults` each takes (`None`: any positive number).
const PAGED: &[(&str, &str, Option<i64>)] = &[
    ("DescribeVpcEndpoints", "vpcEndpointSet", None),
    ("DescribeSecurityGroups", "securityGroupInfo", Some(5)),
    (
        "DescribeSecurityGroupRules",
        "securityGroupRuleSet",
        Some(5),
    ),
    ("DescribeSubnets", "subnetSet", Some(5)),
    ("DescribeNetworkInterfaces", "networkInterfaceSet", Some(5)),
];

/// Actions whose requests the layer keeps ([`Strict::requests`]).
const KEPT: &[&str] = &["CreateVpcEndpoint", "ModifyVpcEndpoint"];

/// Actions whose checks read state that the call itself changes: they run
/// one at a time.
const SERIALIZED: &[&str] = &[
    "CreateVpcEndpoint",
    "ModifyVpcEndpoint",
    "CreateTags",
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
];

/// A request the layer refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub action: String,
    pub code: String,
    pub message: String,
}

#[derive(Clone, Copy)]
struct Hidden {
    describes: u32,
    rule_reads: u32,
}

#[derive(Default)]
struct State {
    /// New groups not visible yet.
    hidden: HashMap<String, Hidden>,
    /// Route 53's VPC association authorizations, which the emulator
    /// lacks: zone id -> (VPC id, region).
    authorizations: BTreeMap<String, BTreeSet<(String, String)>>,
    /// Service name -> private DNS name verification state a test planted.
    verification: HashMap<String, String>,
    /// Endpoint id -> `PrivateDnsEnabled` of the last modify passed.
    private_dns: HashMap<String, bool>,
    refusals: Vec<Refusal>,
    /// Remote service name -> the service of another region a test planted.
    remote: HashMap<String, Remote>,
    /// Endpoint id -> the remote service name it was created to.
    remote_endpoints: HashMap<String, String>,
    /// Service name -> `SupportedIpAddressTypes` a test planted.
    ip_types: HashMap<String, Vec<String>>,
    /// Endpoint id -> (IpAddressType, DnsRecordIpType).
    addressing: HashMap<String, (String, String)>,
    /// Interface id -> the fixed (IPv4, IPv6) addresses it was created with.
    fixed: HashMap<String, (Option<String>, Option<String>)>,
    /// The parameters of each request of the [`KEPT`] actions, in order.
    requests: Vec<(String, Vec<(String, String)>)>,
    /// (VPC id, IAM action) the caller's policy lacks for requests about
    /// that VPC, as a test plays it (rule 14).
    denied: HashSet<(String, String)>,
    /// Route 53 change id -> when it was made, and whether a GetChange has
    /// been answered `INSYNC` for it (rule 15).
    changes: BTreeMap<String, (std::time::Instant, bool)>,
    /// Route 53 change id -> the zone it changed, and whether it deleted
    /// the zone.
    change_zones: BTreeMap<String, (String, bool)>,
    /// The `CallerReference`s of the hosted zones made (rule 16).
    caller_references: HashSet<String>,
    /// Endpoints whose service's owner has not accepted them yet (rule 18).
    awaiting_acceptance: HashSet<String>,
    /// (group, egress, protocol, from port, to port, referenced group) ->
    /// the description a rule naming another group was written with.
    group_rule_descriptions: HashMap<(String, bool, String, String, String, String), String>,
    /// Hosted zones with a write being answered (rule 19).
    zone_writes: HashSet<String>,
    /// How long each Route 53 write is held before it goes on (rule 19).
    hold_route53_writes: Option<std::time::Duration>,
}

/// How long a Route 53 change stays `PENDING` (rule 15): real changes take
/// seconds ("generally within 60 seconds"); long enough here that a
/// provider which does not wait is seen not to.
pub const CHANGE_PROPAGATES_IN: std::time::Duration = std::time::Duration::from_millis(1500);

/// A service played as hosted in another region.
#[derive(Clone, Debug)]
struct Remote {
    /// The emulator's service that stands in for it.
    backing: String,
    region: String,
    /// The consumer regions its provider has enabled.
    supported_regions: Vec<String>,
}

#[derive(Clone)]
pub struct Strict {
    pub url: String,
    state: Arc<Mutex<State>>,
    /// The Reachability Analyzer stand-in this layer answers those actions
    /// from.
    pub insights: Insights,
}

impl Strict {
    /// Starts a layer in front of `upstream` on a free loopback port. It runs
    /// on its own thread until the test process ends.
    pub fn start(upstream: &str) -> Strict {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("upstream as http://127.0.0.1:port");
        let state = Arc::new(Mutex::new(State::default()));
        let serial = Arc::new(tokio::sync::Mutex::new(()));
        let shared = state.clone();
        let insights = Insights::default();
        let answers = insights.clone();
        let address = super::serve_http(move |req| {
            handle(
                req,
                upstream,
                shared.clone(),
                serial.clone(),
                answers.clone(),
            )
        });
        Strict {
            url: format!("http://{address}"),
            state,
            insights,
        }
    }

    /// Holds each Route 53 write this long before it goes on, so that a test
    /// can send a second write to the zone while the first is in flight
    /// (rule 19).
    pub fn hold_route53_writes(&self, hold: std::time::Duration) {
        self.state.lock().unwrap().hold_route53_writes = Some(hold);
    }

    /// Plays PlanetScale accepting the connection of `endpoint_id`, made to
    /// a service that requires acceptance (rule 18): it becomes `available`.
    pub fn accept(&self, endpoint_id: &str) {
        self.state
            .lock()
            .unwrap()
            .awaiting_acceptance
            .remove(endpoint_id);
    }

    /// Plays an endpoint service whose provider has not verified its private
    /// DNS name: `state` as EC2 spells it (`pendingVerification`, `failed`,
    /// `verified`).
    pub fn set_private_dns_verification(&self, service_name: &str, state: &str) {
        self.state
            .lock()
            .unwrap()
            .verification
            .insert(service_name.to_owned(), state.to_owned());
    }

    /// Plays a service of `region` whose provider has enabled access from
    /// `supported_regions` (rule 11), backed by the emulator's service
    /// `backing`. Returns its name: the backing's, with `region` in it.
    pub fn plant_remote_service(
        &self,
        backing: &str,
        region: &str,
        supported_regions: &[&str],
    ) -> String {
        let local = backing
            .strip_prefix("com.amazonaws.vpce.")
            .and_then(|r| r.split_once('.'))
            .map(|(_, id)| id)
            .expect("a service name of the emulator");
        let name = format!("com.amazonaws.vpce.{region}.{local}");
        self.state.lock().unwrap().remote.insert(
            name.clone(),
            Remote {
                backing: backing.to_owned(),
                region: region.to_owned(),
                supported_regions: supported_regions.iter().map(|r| r.to_string()).collect(),
            },
        );
        name
    }

    /// Plays a service by the name its provider publishes (PlanetScale's
    /// Vitess endpoint services, listed in its documentation), in that
    /// name's region, backed by the emulator's service `backing`: rule 11's
    /// machinery, for a service the caller's own region holds.
    pub fn plant_named_service(&self, name: &str, backing: &str) {
        let region = name
            .strip_prefix("com.amazonaws.vpce.")
            .and_then(|r| r.split_once('.'))
            .map(|(region, _)| region.to_owned())
            .expect("a service name");
        self.state.lock().unwrap().remote.insert(
            name.to_owned(),
            Remote {
                backing: backing.to_owned(),
                supported_regions: vec![region.clone()],
                region,
            },
        );
    }

    /// Plays a service that accepts these address families (`ipv4`,
    /// `ipv6`), as its SupportedIpAddressTypes (rule 12).
    pub fn set_supported_ip_address_types(&self, service_name: &str, types: &[&str]) {
        self.state.lock().unwrap().ip_types.insert(
            service_name.to_owned(),
            types.iter().map(|t| t.to_string()).collect(),
        );
    }

    /// The parameters of every CreateVpcEndpoint or ModifyVpcEndpoint
    /// request (`action`) that reached the layer, as the client sent them,
    /// oldest first.
    pub fn requests(&self, action: &str) -> Vec<BTreeMap<String, String>> {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(a, _)| a == action)
            .map(|(_, params)| params.iter().cloned().collect())
            .collect()
    }

    /// Every refusal so far, oldest first.
    /// The changes to `zone_id` (but its delete) made through this layer
    /// that no GetChange has been answered `INSYNC` for yet (rule 15), and
    /// how many changes to it were made.
    pub fn changes_not_seen_insync(&self, zone_id: &str) -> (Vec<String>, usize) {
        let s = self.state.lock().unwrap();
        let of_zone: Vec<&String> = s
            .change_zones
            .iter()
            .filter(|(_, (zone, deleted))| zone == zone_id && !deleted)
            .map(|(id, _)| id)
            .collect();
        let pending = of_zone
            .iter()
            .filter(|id| s.changes.get(**id).is_some_and(|(_, insync)| !insync))
            .map(|id| (*id).clone())
            .collect();
        (pending, of_zone.len())
    }

    pub fn refusals(&self) -> Vec<Refusal> {
        self.state.lock().unwrap().refusals.clone()
    }

    /// Plays a caller whose IAM policy lacks `action` (rule 14), such as
    /// the permission-only `vpce:AllowMultiRegion`, in requests about the
    /// VPC `vpc_id` (tests sharing the layer keep their own world).
    pub fn deny_permission(&self, vpc_id: &str, action: &str) {
        self.state
            .lock()
            .unwrap()
            .denied
            .insert((vpc_id.to_owned(), action.to_owned()));
    }
}

/// Why a request is refused: EC2's code and message.
#[derive(Debug)]
struct Refuse {
    code: &'static str,
    message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refuse {
    Refuse {
        code,
        message: message.into(),
    }
}

/// What to do to the emulator's answer once it is back.
#[derive(Default)]
struct After {
    paging: Option<Paging>,
    /// Groups to leave out of a DescribeSecurityGroups answer.
    hide_groups: HashSet<String>,
    /// Groups whose rules to leave out of a DescribeSecurityGroupRules answer.
    hide_rules_of: HashSet<String>,
}

async fn handle(
    req: Request<Incoming>,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
    serial: Arc<tokio::sync::Mutex<()>>,
    insights: Insights,
) -> Reply {
    let (mut parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let mut call = Call {
        upstream,
        headers: parts.headers.clone(),
        params: form(&body),
    };
    let action = call.param("Action").unwrap_or_default().to_owned();
    if let Some(answer) = route53_authorizations(&parts, &body, &state) {
        return Ok(answer);
    }
    if !call.is_ec2() {
        // Rule 15.
        if let Some(answer) = pending_change(&parts, &state) {
            return Ok(answer);
        }
        let (method, path) = (parts.method.clone(), parts.uri.path().to_owned());
        // Rule 16.
        let reference = (method == hyper::Method::POST
            && path.trim_end_matches('/') == "/2013-04-01/hostedzone")
            .then(|| {
                let text = String::from_utf8_lossy(&body);
                text.split_once("<CallerReference>")
                    .and_then(|(_, rest)| rest.split_once("</CallerReference>"))
                    .map(|(r, _)| r.trim().to_owned())
            })
            .flatten();
        if let Some(reference) = &reference
            && state.lock().unwrap().caller_references.contains(reference)
        {
            return Ok(xml(
                StatusCode::CONFLICT,
                Bytes::from_static(
                    "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">\
                     <Error><Type>Sender</Type><Code>HostedZoneAlreadyExists</Code><Message>A hosted zone has \
                     already been created with the specified caller reference.</Message></Error>\
                     <RequestId>strict-layer</RequestId></ErrorResponse>"
                        .as_bytes(),
                ),
            ));
        }
        // Rule 19: one write at a time per hosted zone.
        let _writing = match zone_write(&method, &path) {
            Some((zone, refusal)) => match ZoneWrite::enter(&state, zone) {
                Some(writing) => Some(writing),
                None => return Ok(route53_error(refusal)),
            },
            None => None,
        };
        let hold = state.lock().unwrap().hold_route53_writes;
        if let (Some(_), Some(hold)) = (&_writing, hold) {
            tokio::time::sleep(hold).await;
        }
        // Rule 20.
        if method == hyper::Method::POST
            && let Some(zone) = path.strip_prefix("/2013-04-01/tags/hostedzone/")
            && let Some(refusal) = zone_tag_limit(upstream, &parts.headers, zone, &body).await
        {
            return Ok(refusal);
        }
        // Rule 17: the check and the call it guards run one at a time.
        let _turn = if method == hyper::Method::POST {
            Some(serial.lock().await)
        } else {
            None
        };
        if method == hyper::Method::POST
            && let Some(refusal) = conflicting_domain(upstream, &parts, &path, &body, &state).await
        {
            return Ok(refusal);
        }
        // Rule 21.
        let body = if reference.is_some() {
            private_when_vpc_named(&mut parts, body)
        } else {
            body
        };
        let (status, answer) = forward(upstream, parts, body).await?;
        if status.is_success()
            && let Some(reference) = reference
        {
            state.lock().unwrap().caller_references.insert(reference);
        }
        // A change is made by a POST or a DELETE; a GET (GetChange
        // included) only reads.
        let answer = if status.is_success() && method != hyper::Method::GET {
            changes_pending(&method, &path, answer, &state)
        } else {
            answer
        };
        return Ok(xml(status, answer));
    }
    if let Some(answer) = insights.answer(&call, &action).await {
        return answer;
    }

    if KEPT.contains(&action.as_str()) {
        state
            .lock()
            .unwrap()
            .requests
            .push((action.clone(), call.params.clone()));
    }
    let _turn = if SERIALIZED.contains(&action.as_str()) {
        Some(serial.lock().await)
    } else {
        None
    };
    // Rule 11: a remote service becomes its backing before anything else.
    let mut body = body;
    let mut remote_asked = None;
    let checked = match remote_request(&call, &action, &state) {
        Ok(Some((params, remote))) => {
            parts.headers.remove(CONTENT_LENGTH);
            body = Bytes::from(encode_form(&params));
            call.params = params;
            remote_asked = remote;
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(refused) => Err(refused),
    };
    let checked = match checked {
        Ok(()) => check(&call, &action, &state).await,
        Err(refused) => Err(refused),
    };
    // Rule 11: a few zones have no cross-Region PrivateLink.
    let checked = match (checked, &remote_asked) {
        (Ok(after), Some(remote)) if action == "CreateVpcEndpoint" => {
            cross_region_zones(&call, remote).await.map(|()| after)
        }
        (other, _) => other,
    };
    let after = match checked {
        Ok(after) => after,
        Err(refused) => {
            if std::env::var_os("STRICT_LAYER_LOG").is_some() {
                // Straight to the process's stderr: the test harness would
                // capture eprintln! into whichever test started the layer.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "strict EC2 layer refused {action}: {}: {}",
                    refused.code,
                    refused.message
                );
            }
            state.lock().unwrap().refusals.push(Refusal {
                action: action.clone(),
                code: refused.code.to_owned(),
                message: refused.message.clone(),
            });
            let status = if refused.code == "UnauthorizedOperation" {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::BAD_REQUEST
            };
            return error_from(status, refused.code, &refused.message, "strict-layer");
        }
    };

    // The emulator answers a paged action whole: ask it without the paging
    // parameters and cut the page here.
    let body = if after.paging.is_some() {
        parts.headers.remove(CONTENT_LENGTH);
        let rest: Vec<(String, String)> = call
            .params
            .iter()
            .filter(|(k, _)| k != "MaxResults" && k != "NextToken")
            .cloned()
            .collect();
        Bytes::from(encode_form(&rest))
    } else {
        body
    };
    let (status, answer) = forward(upstream, parts, body).await?;
    if !status.is_success() {
        return Ok(xml(status, answer));
    }
    let mut text = String::from_utf8_lossy(&answer).into_owned();
    match action.as_str() {
        "CreateVpcEndpoint" => {
            created_endpoint(&call, &text, remote_asked, &state).await;
            text = rewrite_child(&text, "vpcEndpoint", |e| shown_endpoint(e, &state));
        }
        "DescribeVpcEndpoints" => {
            text = rewrite_items(&text, "vpcEndpointSet", |item| {
                shown_endpoint(&item, &state)
            });
        }
        "ModifyVpcEndpoint" => {
            if let Some(id) = call.param("VpcEndpointId") {
                let mut s = state.lock().unwrap();
                let (ip, record) = s
                    .addressing
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| ("ipv4".into(), "ipv4".into()));
                let ip = call.param("IpAddressType").map_or(ip, str::to_owned);
                let record = call
                    .param("DnsOptions.DnsRecordIpType")
                    .map_or(record, str::to_owned);
                s.addressing.insert(id.to_owned(), (ip, record));
            }
            if let Some(id) = call.param("VpcEndpointId")
                && !subnet_configurations(&call).is_empty()
                && let Some(answer) = call
                    .ask("DescribeVpcEndpoints", &[("VpcEndpointId.1", id)], &[])
                    .await
                && let Some(endpoint) = items(&answer, "vpcEndpointSet").into_iter().next()
            {
                let interfaces = list_field(&endpoint, "networkInterfaceIdSet");
                record_fixed(&call, &interfaces, &state).await;
            }
        }
        "DescribeSubnets" => text = subnet_block_states(&text),
        "AuthorizeSecurityGroupIngress" | "AuthorizeSecurityGroupEgress" => {
            record_group_rule_descriptions(&call, action == "AuthorizeSecurityGroupEgress", &state);
        }
        "DescribeSecurityGroupRules" => {
            let known = state.lock().unwrap().group_rule_descriptions.clone();
            if !known.is_empty() {
                text = rewrite_items(&text, "securityGroupRuleSet", |item| {
                    with_group_rule_description(item, &known)
                });
            }
        }
        "DescribeNetworkInterfaces" => {
            let fixed = state.lock().unwrap().fixed.clone();
            if !fixed.is_empty() {
                text = rewrite_items(&text, "networkInterfaceSet", |item| {
                    shown_interface(item, &fixed)
                });
            }
        }
        "DescribeVpcEndpointServices" => {
            let s = state.lock().unwrap();
            text = rewrite_items(&text, "serviceDetailSet", |mut item| {
                let name = field(&item, "serviceName").unwrap_or_default();
                if let Some(types) = s.ip_types.get(&name) {
                    let set: String = types.iter().map(|t| format!("<item>{t}</item>")).collect();
                    item = with_raw_field(&item, "supportedIpAddressTypeSet", &set);
                }
                if let Some(remote) = &remote_asked
                    && let Some(r) = s.remote.get(remote)
                    && r.backing == name
                {
                    item = with_field(&item, "serviceName", remote);
                    item = with_field(&item, "serviceRegion", &r.region);
                }
                item
            });
        }
        _ => {}
    }
    match action.as_str() {
        "CreateSecurityGroup" => {
            if let Some(group) = root(&text).and_then(|r| field_in(&text, &r, "groupId")) {
                state.lock().unwrap().hidden.insert(
                    group,
                    Hidden {
                        describes: READS_HIDDEN_AFTER_CREATE,
                        rule_reads: READS_HIDDEN_AFTER_CREATE,
                    },
                );
            }
        }
        "ModifyVpcEndpoint" => {
            if let (Some(id), Some(on)) =
                (call.param("VpcEndpointId"), call.param("PrivateDnsEnabled"))
            {
                state
                    .lock()
                    .unwrap()
                    .private_dns
                    .insert(id.to_owned(), on.eq_ignore_ascii_case("true"));
            }
        }
        "DescribeSecurityGroups" if !after.hide_groups.is_empty() => {
            let kept: Vec<String> = items(&text, "securityGroupInfo")
                .into_iter()
                .filter(|item| {
                    field(item, "groupId").is_none_or(|g| !after.hide_groups.contains(&g))
                })
                .collect();
            text = rebuild(&text, "securityGroupInfo", &kept, None);
        }
        "DescribeSecurityGroupRules" if !after.hide_rules_of.is_empty() => {
            let kept: Vec<String> = items(&text, "securityGroupRuleSet")
                .into_iter()
                .filter(|item| {
                    field(item, "groupId").is_none_or(|g| !after.hide_rules_of.contains(&g))
                })
                .collect();
            text = rebuild(&text, "securityGroupRuleSet", &kept, None);
        }
        "DescribeVpcEndpoints" => {
            // What the emulator lacks: EC2 applies ModifyVpcEndpoint's
            // PrivateDnsEnabled, and shows it.
            let modified = state.lock().unwrap().private_dns.clone();
            if !modified.is_empty() {
                text = rewrite_items(&text, "vpcEndpointSet", |item| {
                    match field(&item, "vpcEndpointId").and_then(|id| modified.get(&id)) {
                        Some(on) => with_field(&item, "privateDnsEnabled", &on.to_string()),
                        None => item,
                    }
                });
            }
        }
        "DescribeVpcEndpointServices" => {
            let planted = state.lock().unwrap().verification.clone();
            if !planted.is_empty() {
                text = rewrite_items(&text, "serviceDetailSet", |item| {
                    match field(&item, "serviceName").and_then(|n| planted.get(&n)) {
                        Some(v) => with_field(&item, "privateDnsNameVerificationState", v),
                        None => item,
                    }
                });
            }
        }
        _ => {}
    }
    if let Some(paging) = &after.paging {
        text = paging.cut(&text);
    }
    Ok(xml(status, Bytes::from(text)))
}

/// Rule 21: a CreateHostedZone body naming a VPC and saying nothing of
/// `PrivateZone`, made to say it is true (the emulator's only sign of a
/// private zone), in the schema's place, with the head's length to match.
fn private_when_vpc_named(parts: &mut hyper::http::request::Parts, body: Bytes) -> Bytes {
    let text = String::from_utf8_lossy(&body);
    if !text.contains("<VPC>") || text.contains("<PrivateZone>") {
        return body;
    }
    let text = if text.contains("</HostedZoneConfig>") {
        text.replacen(
            "</HostedZoneConfig>",
            "<PrivateZone>true</PrivateZone></HostedZoneConfig>",
            1,
        )
    } else {
        // Name, VPC, CallerReference, HostedZoneConfig, DelegationSetId.
        text.replacen(
            "</CallerReference>",
            "</CallerReference><HostedZoneConfig><PrivateZone>true</PrivateZone></HostedZoneConfig>",
            1,
        )
    };
    parts
        .headers
        .insert(hyper::header::CONTENT_LENGTH, text.len().into());
    Bytes::from(text)
}

fn xml(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "text/xml")
        .body(Full::new(body))
        .unwrap()
}

/// The rules that apply to `action`, in the order EC2 is assumed to check
/// them: the request's own shape first, then what it meets in the account.
async fn check(call: &Call, action: &str, state: &Mutex<State>) -> Result<After, Refuse> {
    tag_specifications(call)?;
    let mut after = After {
        paging: paging(call, action)?,
        ..After::default()
    };
    match action {
        "CreateVpcEndpoint" => {
            create_endpoint(call, state).await?;
            create_addressing(call, state).await?;
        }
        "ModifyVpcEndpoint" => {
            modify_endpoint(call, state).await?;
            modify_addressing(call, state).await?;
        }
        "CreateTags" => create_tags(call).await?,
        "RevokeSecurityGroupIngress" => revoke(call, false).await?,
        "RevokeSecurityGroupEgress" => revoke(call, true).await?,
        "AuthorizeSecurityGroupIngress" => authorize(call, false).await?,
        "AuthorizeSecurityGroupEgress" => authorize(call, true).await?,
        "DescribeSecurityGroups" => {
            let mut s = state.lock().unwrap();
            let mut missing = Vec::new();
            for id in call.list("GroupId") {
                if let Some(h) = s.hidden.get_mut(&id).filter(|h| h.describes > 0) {
                    h.describes -= 1;
                    missing.push(id);
                }
            }
            if let Some(id) = missing.first() {
                return Err(refuse(
                    "InvalidGroup.NotFound",
                    format!("The security group '{id}' does not exist"),
                ));
            }
            for id in call.filter("group-id") {
                if let Some(h) = s.hidden.get_mut(&id).filter(|h| h.describes > 0) {
                    h.describes -= 1;
                    after.hide_groups.insert(id);
                }
            }
        }
        "DescribeSecurityGroupRules" => {
            let mut s = state.lock().unwrap();
            for id in call.filter("group-id") {
                if let Some(h) = s.hidden.get_mut(&id).filter(|h| h.rule_reads > 0) {
                    h.rule_reads -= 1;
                    after.hide_rules_of.insert(id);
                }
            }
        }
        _ => {}
    }
    Ok(after)
}

// ---- Rules 1 and 9: tag specifications, CreateTags ------------------------

fn tag_specifications(call: &Call) -> Result<(), Refuse> {
    let mut specs: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (k, v) in &call.params {
        let Some((n, field)) = k
            .strip_prefix("TagSpecification.")
            .and_then(|rest| rest.split_once('.'))
        else {
            continue;
        };
        let keys = specs.entry(n).or_default();
        if field.starts_with("Tag.") && field.ends_with(".Key") {
            keys.insert(v);
        }
    }
    for keys in specs.values() {
        if keys.is_empty() {
            return Err(refuse(
                "InvalidParameterValue",
                "Tag specification must have at least one tag",
            ));
        }
        if keys.len() > TAGS_PER_RESOURCE {
            return Err(tag_limit());
        }
    }
    Ok(())
}

fn tag_limit() -> Refuse {
    refuse(
        "TagLimitExceeded",
        "The maximum number of Tags for a resource has been reached.",
    )
}

async fn create_tags(call: &Call) -> Result<(), Refuse> {
    let keys: BTreeSet<String> = call
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("Tag.") && k.ends_with(".Key"))
        .map(|(_, v)| v.clone())
        .collect();
    for resource in call.list("ResourceId") {
        let Some(answer) = call
            .ask("DescribeTags", &[], &[("resource-id", &resource)])
            .await
        else {
            continue;
        };
        let existing: BTreeSet<String> = items(&answer, "tagSet")
            .iter()
            .filter_map(|item| field(item, "key"))
            .collect();
        if existing.len() + keys.difference(&existing).count() > TAGS_PER_RESOURCE {
            return Err(tag_limit());
        }
    }
    Ok(())
}

// ---- Rules 2, 3, 4 and 8: endpoints ----------------------------------------

async fn create_endpoint(call: &Call, state: &Mutex<State>) -> Result<(), Refuse> {
    // API_CreateVpcEndpoint: VpcEndpointType defaults to Gateway.
    let kind = call.param("VpcEndpointType").unwrap_or("Gateway");
    let interface = kind.eq_ignore_ascii_case("Interface");
    let (Some(vpc), Some(service)) = (call.param("VpcId"), call.param("ServiceName")) else {
        return Ok(());
    };
    if interface || kind.eq_ignore_ascii_case("GatewayLoadBalancer") {
        endpoint_quota(call, vpc).await?;
    }
    if !interface {
        return Ok(());
    }
    let subnets = call.list("SubnetId");
    if let Some(zones) = zones(call, &subnets).await {
        let mut seen = HashSet::new();
        for subnet in &subnets {
            if let Some(zone) = zones.get(subnet)
                && !seen.insert(zone.clone())
            {
                return Err(duplicate_zone(subnet));
            }
        }
    }
    // API_CreateVpcEndpoint: PrivateDnsEnabled defaults to true for
    // interface endpoints.
    let private_dns = call
        .param("PrivateDnsEnabled")
        .is_none_or(|v| v.eq_ignore_ascii_case("true"));
    if private_dns {
        if requires_acceptance(call, state, service).await {
            return Err(not_accepted(&format!(
                "the service {service} requires acceptance"
            )));
        }
        private_dns_allowed(call, state, service, vpc, None).await?;
    }
    Ok(())
}

async fn modify_endpoint(call: &Call, state: &Mutex<State>) -> Result<(), Refuse> {
    let Some(id) = call.param("VpcEndpointId") else {
        return Ok(());
    };
    let Some(answer) = call
        .ask("DescribeVpcEndpoints", &[("VpcEndpointId.1", id)], &[])
        .await
    else {
        return Ok(());
    };
    let Some(endpoint) = items(&answer, "vpcEndpointSet").into_iter().next() else {
        return Ok(());
    };
    if !field(&endpoint, "vpcEndpointType").is_some_and(|t| t.eq_ignore_ascii_case("Interface")) {
        return Ok(());
    }
    let existing = list_field(&endpoint, "subnetIdSet");
    let added: Vec<String> = call
        .list("AddSubnetId")
        .into_iter()
        .filter(|s| !existing.contains(s))
        .collect();
    if !added.is_empty() {
        let all: Vec<String> = existing.iter().chain(&added).cloned().collect();
        if let Some(zones) = zones(call, &all).await {
            // EC2 refuses a second subnet in a zone even when the zone's old
            // subnet is removed in the same call: a swap is remove, wait, add.
            let mut seen: HashSet<String> = existing
                .iter()
                .filter_map(|s| zones.get(s).cloned())
                .collect();
            for subnet in &added {
                if let Some(zone) = zones.get(subnet)
                    && !seen.insert(zone.clone())
                {
                    return Err(duplicate_zone(subnet));
                }
            }
        }
    }
    let turning_on = call
        .param("PrivateDnsEnabled")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if turning_on && state.lock().unwrap().awaiting_acceptance.contains(id) {
        return Err(not_accepted(&format!(
            "the endpoint {id} is pendingAcceptance"
        )));
    }
    if turning_on
        && !private_dns_of(&endpoint, state)
        && let (Some(service), Some(vpc)) =
            (field(&endpoint, "serviceName"), field(&endpoint, "vpcId"))
    {
        private_dns_allowed(call, state, &service, &vpc, Some(id)).await?;
    }
    Ok(())
}

// ---- Rule 18: acceptance ---------------------------------------------------

/// Whether the service's owner accepts each connection by hand.
async fn requires_acceptance(call: &Call, state: &Mutex<State>, name: &str) -> bool {
    service(call, state, name)
        .await
        .is_some_and(|s| s.acceptance_required)
}

fn not_accepted(why: &str) -> Refuse {
    refuse(
        "InvalidParameter",
        format!(
            "Private DNS can't be enabled before the endpoint connection is accepted: {why}. Enable it once the service provider has accepted the connection."
        ),
    )
}

fn duplicate_zone(subnet: &str) -> Refuse {
    refuse(
        "DuplicateSubnetsInSameZone",
        format!(
            "Found another VPC endpoint subnet in the availability zone of {subnet}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service."
        ),
    )
}

/// Whether an endpoint has private DNS on: the value of the last modify the
/// layer passed (the emulator ignores it), else the emulator's.
fn private_dns_of(endpoint: &str, state: &Mutex<State>) -> bool {
    let remembered = field(endpoint, "vpcEndpointId")
        .and_then(|id| state.lock().unwrap().private_dns.get(&id).copied());
    remembered.unwrap_or_else(|| {
        field(endpoint, "privateDnsEnabled").is_some_and(|v| v.eq_ignore_ascii_case("true"))
    })
}

async fn endpoint_quota(call: &Call, vpc: &str) -> Result<(), Refuse> {
    let Some(answer) = call
        .ask("DescribeVpcEndpoints", &[], &[("vpc-id", vpc)])
        .await
    else {
        return Ok(());
    };
    let counted = items(&answer, "vpcEndpointSet")
        .iter()
        .filter(|e| {
            field(e, "vpcEndpointType").is_some_and(|t| {
                t.eq_ignore_ascii_case("Interface") || t.eq_ignore_ascii_case("GatewayLoadBalancer")
            }) && !field(e, "state").is_some_and(|s| s.eq_ignore_ascii_case("deleted"))
        })
        .count();
    if counted >= ENDPOINTS_PER_VPC {
        return Err(refuse(
            "VpcEndpointLimitExceeded",
            "You've reached the limit on the number of VPC endpoints that you can create in the AWS Region.",
        ));
    }
    Ok(())
}

/// Subnet id -> availability zone, from the emulator; `None` when it does
/// not know one of them (its own answer then says so).
async fn zones(call: &Call, subnets: &[String]) -> Option<HashMap<String, String>> {
    if subnets.is_empty() {
        return Some(HashMap::new());
    }
    let answer = call
        .ask_by_ids("DescribeSubnets", "SubnetId", subnets)
        .await?;
    Some(
        items(&answer, "subnetSet")
            .iter()
            .filter_map(|s| Some((field(s, "subnetId")?, field(s, "availabilityZone")?)))
            .collect(),
    )
}

/// A service as a consumer sees it: its private DNS name, that name's
/// verification state, and whether its owner accepts each connection.
struct ServiceSeen {
    dns: Option<String>,
    verification: Option<String>,
    acceptance_required: bool,
}

/// The service `name` as a consumer sees it; `None` when the emulator does
/// not know it.
async fn service(call: &Call, state: &Mutex<State>, name: &str) -> Option<ServiceSeen> {
    let answer = call
        .ask(
            "DescribeVpcEndpointServices",
            &[("ServiceName.1", name)],
            &[],
        )
        .await?;
    let item = items(&answer, "serviceDetailSet")
        .into_iter()
        .find(|i| field(i, "serviceName").as_deref() == Some(name))?;
    let dns = field(&item, "privateDnsName").filter(|d| !d.is_empty());
    let planted = state.lock().unwrap().verification.get(name).cloned();
    let verification = planted.or_else(|| field(&item, "privateDnsNameVerificationState"));
    let acceptance_required =
        field(&item, "acceptanceRequired").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Some(ServiceSeen {
        dns,
        verification,
        acceptance_required,
    })
}

async fn private_dns_allowed(
    call: &Call,
    state: &Mutex<State>,
    service_name: &str,
    vpc: &str,
    this_endpoint: Option<&str>,
) -> Result<(), Refuse> {
    let Some(ServiceSeen {
        dns, verification, ..
    }) = service(call, state, service_name).await
    else {
        return Ok(());
    };
    let Some(dns) = dns else {
        return Err(refuse(
            "InvalidParameter",
            format!(
                "Private DNS can't be enabled because the service {service_name} does not provide a private DNS name."
            ),
        ));
    };
    if verification.is_some_and(|v| !v.eq_ignore_ascii_case("verified")) {
        return Err(refuse(
            "InvalidParameter",
            format!(
                "Private DNS can't be enabled because the service {service_name} has not verified the private DNS name."
            ),
        ));
    }
    let Some(answer) = call
        .ask("DescribeVpcEndpoints", &[], &[("vpc-id", vpc)])
        .await
    else {
        return Ok(());
    };
    let mut names: HashMap<String, Option<String>> = HashMap::new();
    names.insert(service_name.to_owned(), Some(dns.clone()));
    for endpoint in items(&answer, "vpcEndpointSet") {
        let id = field(&endpoint, "vpcEndpointId");
        if id.as_deref() == this_endpoint || !has_private_dns(&endpoint, state) {
            continue;
        }
        let Some(other) = field(&endpoint, "serviceName") else {
            continue;
        };
        if !names.contains_key(&other) {
            let looked_up = service(call, state, &other).await.and_then(|s| s.dns);
            names.insert(other.clone(), looked_up);
        }
        if names[&other]
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case(&dns))
        {
            return Err(conflicting_dns_domain(&dns, vpc));
        }
    }
    // A private hosted zone for the name associated with the VPC.
    let zones = zones_on_vpc(call.upstream, &call.headers, vpc, &call.region()).await;
    if zones
        .unwrap_or_default()
        .iter()
        .any(|(_, name)| absolute(name) == absolute(&dns))
    {
        return Err(conflicting_dns_domain(&dns, vpc));
    }
    Ok(())
}

/// Whether an endpoint of a DescribeVpcEndpoints answer is an interface
/// endpoint, not deleted, failed or rejected, with private DNS on (as rule
/// 3 counts it).
fn has_private_dns(endpoint: &str, state: &Mutex<State>) -> bool {
    let live = !field(endpoint, "state").is_some_and(|s| {
        ["deleted", "failed", "rejected"]
            .iter()
            .any(|gone| s.eq_ignore_ascii_case(gone))
    });
    let interface =
        field(endpoint, "vpcEndpointType").is_some_and(|t| t.eq_ignore_ascii_case("Interface"));
    live && interface && private_dns_of(endpoint, state)
}

fn conflicting_dns_domain(dns: &str, vpc: &str) -> Refuse {
    refuse(
        "InvalidParameter",
        format!(
            "private-dns-enabled cannot be set because there is already a conflicting DNS domain for {dns} in the VPC {vpc}"
        ),
    )
}

/// A DNS name as Route 53 compares it: lower case, with the final dot.
fn absolute(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

/// `headers` made out for `service`: the emulator routes a request by its
/// signature's credential scope, so the layer's own call to another
/// service (Route 53 from an EC2 request, or EC2 from a Route 53 one)
/// rewrites the scope's service.
fn headers_for(headers: &HeaderMap, service: &str) -> HeaderMap {
    let mut out = headers.clone();
    out.remove(CONTENT_LENGTH);
    out.remove(CONTENT_TYPE);
    if let Some(auth) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let rewritten: String = auth
            .split(',')
            .enumerate()
            .map(|(i, part)| {
                if i > 0 {
                    return part.to_owned();
                }
                let mut scope: Vec<&str> = part.split('/').collect();
                if scope.len() == 5 {
                    scope[3] = service;
                }
                scope.join("/")
            })
            .collect::<Vec<_>>()
            .join(",");
        if let Ok(value) = rewritten.parse() {
            out.insert(AUTHORIZATION, value);
        }
    }
    out
}

/// The (id, name) of the private zones associated with `vpc` of `region`,
/// from the emulator (ListHostedZonesByVPC); `None` when it does not
/// answer.
async fn zones_on_vpc(
    upstream: SocketAddr,
    headers: &HeaderMap,
    vpc: &str,
    region: &str,
) -> Option<Vec<(String, String)>> {
    let listed = route53_get(
        upstream,
        headers,
        &format!("/2013-04-01/hostedzonesbyvpc?vpcid={vpc}&vpcregion={region}"),
    )
    .await?;
    Some(
        listed
            .split("<HostedZoneSummary>")
            .skip(1)
            .filter_map(|summary| {
                Some((
                    xml_tag(summary, "HostedZoneId")?
                        .trim_start_matches("/hostedzone/")
                        .to_owned(),
                    xml_tag(summary, "Name")?,
                ))
            })
            .collect(),
    )
}

/// The text of the first `<name>` element of `xml`.
fn xml_tag(xml: &str, name: &str) -> Option<String> {
    xml.split_once(&format!("<{name}>"))
        .and_then(|(_, after)| after.split_once(&format!("</{name}>")))
        .map(|(value, _)| value.trim().to_owned())
}

// ---- Rule 11: services of other regions --------------------------------------

fn no_such_service(name: &str) -> Refuse {
    refuse(
        "InvalidServiceName",
        format!("The Vpc Endpoint Service '{name}' does not exist"),
    )
}

/// Zones (by id) without cross-Region PrivateLink, as the PrivateLink
/// guide lists them ("Cross-Region access").
const NO_CROSS_REGION_ZONE_IDS: &[&str] = &[
    "use1-az3",
    "usw1-az2",
    "apne1-az3",
    "apne2-az2",
    "apne2-az4",
];

/// A CreateVpcEndpoint to a service of another region with a subnet in a
/// zone without cross-Region PrivateLink.
async fn cross_region_zones(call: &Call, remote: &str) -> Result<(), Refuse> {
    let subnets = call.list("SubnetId");
    if subnets.is_empty() {
        return Ok(());
    }
    let Some(answer) = call
        .ask_by_ids("DescribeSubnets", "SubnetId", &subnets)
        .await
    else {
        return Ok(());
    };
    for subnet in items(&answer, "subnetSet") {
        if field(&subnet, "availabilityZoneId")
            .is_some_and(|z| NO_CROSS_REGION_ZONE_IDS.contains(&z.as_str()))
        {
            let id = field(&subnet, "subnetId").unwrap_or_default();
            return Err(invalid(format!(
                "The VPC endpoint service {remote} does not support the availability zone of the subnet: {id}."
            )));
        }
    }
    Ok(())
}

/// The request with the remote service it names replaced by its backing
/// (and without `ServiceRegion`, which the emulator does not know), and
/// the remote name asked for; `None` when it names no remote service.
/// Refused as EC2 refuses a service the caller cannot see.
#[allow(clippy::type_complexity)]
fn remote_request(
    call: &Call,
    action: &str,
    state: &Mutex<State>,
) -> Result<Option<(Vec<(String, String)>, Option<String>)>, Refuse> {
    let s = state.lock().unwrap();
    let caller = call.region();
    // Without ServiceRegion, a request asks for the caller's region.
    let visible = |r: &Remote, asked: &[String]| {
        let asked_for = asked.contains(&r.region) || (asked.is_empty() && r.region == caller);
        asked_for && r.supported_regions.contains(&caller)
    };
    match action {
        "CreateVpcEndpoint" => {
            let Some(name) = call.param("ServiceName") else {
                return Ok(None);
            };
            let asked: Vec<String> = call
                .param("ServiceRegion")
                .map(str::to_owned)
                .into_iter()
                .collect();
            // Rule 14: another region's service takes a permission of its
            // own, checked before the service is looked at.
            let vpc = call.param("VpcId").unwrap_or_default().to_owned();
            if asked.iter().any(|a| *a != caller)
                && s.denied
                    .contains(&(vpc, "vpce:AllowMultiRegion".to_owned()))
            {
                return Err(refuse(
                    "UnauthorizedOperation",
                    "You are not authorized to perform this operation.",
                ));
            }
            let Some(r) = s.remote.get(name) else {
                if asked.iter().any(|a| *a != caller) {
                    return Err(no_such_service(name));
                }
                return Ok(None);
            };
            if !visible(r, &asked) {
                return Err(no_such_service(name));
            }
            let params = call
                .params
                .iter()
                .filter(|(k, _)| k != "ServiceRegion")
                .map(|(k, v)| {
                    let v = if k == "ServiceName" {
                        r.backing.clone()
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect();
            Ok(Some((params, Some(name.to_owned()))))
        }
        "DescribeVpcEndpointServices" => {
            let asked = call.list("ServiceRegion");
            let mut remote = None;
            let mut params = Vec::new();
            for (k, v) in &call.params {
                if k.starts_with("ServiceRegion.") {
                    continue;
                }
                if k.starts_with("ServiceName.") {
                    if let Some(r) = s.remote.get(v) {
                        if !visible(r, &asked) {
                            return Err(no_such_service(v));
                        }
                        remote = Some(v.clone());
                        params.push((k.clone(), r.backing.clone()));
                        continue;
                    }
                    if !asked.is_empty() && !asked.contains(&caller) {
                        return Err(no_such_service(v));
                    }
                }
                params.push((k.clone(), v.clone()));
            }
            Ok((remote.is_some() || !asked.is_empty()).then_some((params, remote)))
        }
        "DescribeVpcEndpoints" => {
            if !call.params.iter().any(|(_, v)| s.remote.contains_key(v)) {
                return Ok(None);
            }
            let params = call
                .params
                .iter()
                .map(|(k, v)| match s.remote.get(v) {
                    Some(r) => (k.clone(), r.backing.clone()),
                    None => (k.clone(), v.clone()),
                })
                .collect();
            Ok(Some((params, None)))
        }
        _ => Ok(None),
    }
}

/// What the layer remembers of a new endpoint: the remote service it was
/// created to, its address type and DNS record type, and its interfaces'
/// fixed addresses.
async fn created_endpoint(call: &Call, text: &str, remote: Option<String>, state: &Mutex<State>) {
    let Some(endpoint) = child(text, "vpcEndpoint") else {
        return;
    };
    let Some(id) = field(&endpoint, "vpcEndpointId") else {
        return;
    };
    let ip = call.param("IpAddressType").unwrap_or("ipv4").to_owned();
    let record = call
        .param("DnsOptions.DnsRecordIpType")
        .map_or_else(|| default_record(&ip).to_owned(), str::to_owned);
    let awaits = match call.param("ServiceName") {
        Some(service) => requires_acceptance(call, state, service).await,
        None => false,
    };
    {
        let mut s = state.lock().unwrap();
        if awaits {
            s.awaiting_acceptance.insert(id.clone());
        }
        if let Some(remote) = remote {
            s.remote_endpoints.insert(id.clone(), remote);
        }
        s.addressing.insert(id, (ip, record));
    }
    record_fixed(call, &list_field(&endpoint, "networkInterfaceIdSet"), state).await;
}

/// The fixed addresses of a create or modify that passed, on the
/// endpoint's interface in each configured subnet.
async fn record_fixed(call: &Call, interfaces: &[String], state: &Mutex<State>) {
    let configs = subnet_configurations(call);
    if configs.is_empty() {
        return;
    }
    let Some(answer) = call
        .ask_by_ids(
            "DescribeNetworkInterfaces",
            "NetworkInterfaceId",
            interfaces,
        )
        .await
    else {
        return;
    };
    let mut s = state.lock().unwrap();
    for item in items(&answer, "networkInterfaceSet") {
        let (Some(eni), Some(subnet)) =
            (field(&item, "networkInterfaceId"), field(&item, "subnetId"))
        else {
            continue;
        };
        if let Some(c) = configs.iter().find(|c| c.subnet == subnet) {
            s.fixed.insert(eni, (c.ipv4.clone(), c.ipv6.clone()));
        }
    }
}

/// A DescribeSubnets answer with each IPv6 block's state as EC2 spells it:
/// the emulator writes the state's whole dictionary (`{'State':
/// 'associated'}`) where EC2 writes the word.
fn subnet_block_states(text: &str) -> String {
    let mut text = text.to_owned();
    for word in [
        "associating",
        "associated",
        "disassociating",
        "disassociated",
        "failing",
        "failed",
    ] {
        for q in ["'", "&apos;", "&#x27;", "&#39;"] {
            text = text.replace(
                &format!("<state>{{{q}State{q}: {q}{word}{q}}}</state>"),
                &format!("<state>{word}</state>"),
            );
        }
    }
    text
}

/// The descriptions of the rules naming another group in an authorize that
/// passed (`IpPermissions.N.Groups.M.Description`), which the emulator
/// drops.
fn record_group_rule_descriptions(call: &Call, egress: bool, state: &Mutex<State>) {
    let Some(group) = call.param("GroupId") else {
        return;
    };
    let mut s = state.lock().unwrap();
    for (k, description) in &call.params {
        let Some(rest) = k.strip_prefix("IpPermissions.") else {
            continue;
        };
        let Some((n, pair)) = rest.split_once(".Groups.") else {
            continue;
        };
        let Some(m) = pair.strip_suffix(".Description") else {
            continue;
        };
        let param = |name: &str| {
            call.param(&format!("IpPermissions.{n}.{name}"))
                .unwrap_or("-1")
                .to_owned()
        };
        let Some(referenced) = call.param(&format!("IpPermissions.{n}.Groups.{m}.GroupId")) else {
            continue;
        };
        s.group_rule_descriptions.insert(
            (
                group.to_owned(),
                egress,
                param("IpProtocol"),
                param("FromPort"),
                param("ToPort"),
                referenced.to_owned(),
            ),
            description.clone(),
        );
    }
}

/// A rule of a DescribeSecurityGroupRules answer with the description it
/// was written with, when it names another group and the emulator left
/// the description out.
fn with_group_rule_description(
    item: String,
    known: &HashMap<(String, bool, String, String, String, String), String>,
) -> String {
    if field(&item, "description").is_some_and(|d| !d.is_empty()) {
        return item;
    }
    let Some(referenced) = child(&item, "referencedGroupInfo").and_then(|r| field(&r, "groupId"))
    else {
        return item;
    };
    let (Some(group), Some(egress), Some(protocol), Some(from), Some(to)) = (
        field(&item, "groupId"),
        field(&item, "isEgress"),
        field(&item, "ipProtocol"),
        field(&item, "fromPort"),
        field(&item, "toPort"),
    ) else {
        return item;
    };
    let key = (group, egress == "true", protocol, from, to, referenced);
    match known.get(&key) {
        Some(description) => with_field(&item, "description", description),
        None => item,
    }
}

/// The DNS record type EC2 gives an endpoint whose create left it out:
/// the address type's own family.
fn default_record(ip: &str) -> &'static str {
    match ip {
        "ipv6" => "ipv6",
        "dualstack" => "dualstack",
        _ => "ipv4",
    }
}

/// An endpoint as EC2 would show it: to its remote service, with its
/// address type and DNS record type.
fn shown_endpoint(item: &str, state: &Mutex<State>) -> String {
    let s = state.lock().unwrap();
    let Some(id) = field(item, "vpcEndpointId") else {
        return item.to_owned();
    };
    let mut item = item.to_owned();
    if s.awaiting_acceptance.contains(&id) {
        item = with_field(&item, "state", "pendingAcceptance");
    }
    if let Some(remote) = s.remote_endpoints.get(&id)
        && let Some(r) = s.remote.get(remote)
    {
        item = with_field(&item, "serviceName", remote);
        item = with_field(&item, "serviceRegion", &r.region);
    }
    if field(&item, "vpcEndpointType").is_some_and(|t| t.eq_ignore_ascii_case("Interface")) {
        let (ip, record) = s
            .addressing
            .get(&id)
            .cloned()
            .unwrap_or_else(|| ("ipv4".into(), "ipv4".into()));
        item = with_field(&item, "ipAddressType", &ip);
        item = with_raw_field(
            &item,
            "dnsOptions",
            &format!("<dnsRecordIpType>{}</dnsRecordIpType>", xml_escape(&record)),
        );
    }
    item
}

/// An interface as EC2 would show it: with the fixed addresses it was
/// created with.
fn shown_interface(
    item: String,
    fixed: &HashMap<String, (Option<String>, Option<String>)>,
) -> String {
    let Some((v4, v6)) = field(&item, "networkInterfaceId").and_then(|id| fixed.get(&id)) else {
        return item;
    };
    let mut item = item;
    if let (Some(v4), Some(old)) = (v4, field(&item, "privateIpAddress")) {
        item = item.replace(&format!(">{old}<"), &format!(">{}<", xml_escape(v4)));
    }
    if let Some(v6) = v6 {
        item = with_raw_field(
            &item,
            "ipv6AddressesSet",
            &format!("<item><ipv6Address>{}</ipv6Address></item>", xml_escape(v6)),
        );
    }
    item
}

// ---- Rules 12 and 13: address types and fixed addresses ------------------------

/// One `SubnetConfiguration.N` of a request.
struct SubnetConfig {
    subnet: String,
    ipv4: Option<String>,
    ipv6: Option<String>,
}

fn subnet_configurations(call: &Call) -> Vec<SubnetConfig> {
    let mut by_n: BTreeMap<u32, SubnetConfig> = BTreeMap::new();
    for (k, v) in &call.params {
        let Some((n, name)) = k
            .strip_prefix("SubnetConfiguration.")
            .and_then(|r| r.split_once('.'))
        else {
            continue;
        };
        let Ok(n) = n.parse() else { continue };
        let c = by_n.entry(n).or_insert_with(|| SubnetConfig {
            subnet: String::new(),
            ipv4: None,
            ipv6: None,
        });
        match name {
            "SubnetId" => c.subnet = v.clone(),
            "Ipv4" => c.ipv4 = Some(v.clone()),
            "Ipv6" => c.ipv6 = Some(v.clone()),
            _ => {}
        }
    }
    by_n.into_values().collect()
}

/// Subnet id -> (its IPv4 block, its IPv6 blocks), from the emulator.
async fn subnet_blocks(
    call: &Call,
    subnets: &[String],
) -> Option<HashMap<String, (Option<String>, Vec<String>)>> {
    let answer = call
        .ask_by_ids("DescribeSubnets", "SubnetId", subnets)
        .await?;
    Some(
        items(&answer, "subnetSet")
            .iter()
            .filter_map(|s| {
                let v4 = field(s, "cidrBlock").filter(|c| !c.is_empty());
                let v6: Vec<String> = s
                    .split("<ipv6CidrBlock>")
                    .skip(1)
                    .filter_map(|rest| {
                        rest.split_once("</ipv6CidrBlock>")
                            .map(|(b, _)| b.to_owned())
                    })
                    .collect();
                Some((field(s, "subnetId")?, (v4, v6)))
            })
            .collect(),
    )
}

fn invalid(message: String) -> Refuse {
    refuse("InvalidParameter", message)
}

/// Rule 12 for one endpoint: its subnets hold the address type, its
/// service accepts it, and the DNS record type fits it.
async fn check_addressing(
    call: &Call,
    state: &Mutex<State>,
    service: &str,
    subnets: &[String],
    ip: &str,
    record: Option<&str>,
) -> Result<(), Refuse> {
    if let Some(blocks) = subnet_blocks(call, subnets).await {
        for subnet in subnets {
            let Some((v4, v6)) = blocks.get(subnet) else {
                continue;
            };
            let fits = match ip {
                "ipv6" => v4.is_none() && !v6.is_empty(),
                "dualstack" => v4.is_some() && !v6.is_empty(),
                _ => v4.is_some(),
            };
            if !fits {
                return Err(invalid(format!(
                    "The IP address type {ip} is not supported by subnet {subnet}."
                )));
            }
        }
    }
    let supported = state
        .lock()
        .unwrap()
        .ip_types
        .get(service)
        .cloned()
        .unwrap_or_else(|| vec!["ipv4".to_owned()]);
    let needs: &[&str] = match ip {
        "ipv6" => &["ipv6"],
        "dualstack" => &["ipv4", "ipv6"],
        _ => &["ipv4"],
    };
    if needs.iter().any(|n| !supported.iter().any(|s| s == n)) {
        return Err(invalid(format!(
            "The VPC endpoint service {service} does not support the IP address type {ip}."
        )));
    }
    if let Some(record) = record {
        let allowed: &[&str] = match record {
            "ipv4" => &["ipv4", "dualstack"],
            "ipv6" => &["ipv6", "dualstack"],
            _ => &["dualstack"],
        };
        if !allowed.contains(&ip) {
            return Err(invalid(format!(
                "The DNS record IP type {record} is not supported for the IP address type {ip}."
            )));
        }
    }
    Ok(())
}

async fn create_addressing(call: &Call, state: &Mutex<State>) -> Result<(), Refuse> {
    if !call
        .param("VpcEndpointType")
        .is_some_and(|t| t.eq_ignore_ascii_case("Interface"))
    {
        return Ok(());
    }
    let Some(service) = call.param("ServiceName") else {
        return Ok(());
    };
    let ip = call.param("IpAddressType").unwrap_or("ipv4");
    let subnets = call.list("SubnetId");
    check_addressing(
        call,
        state,
        service,
        &subnets,
        ip,
        call.param("DnsOptions.DnsRecordIpType"),
    )
    .await?;
    // Rule 13.
    check_subnet_configurations(call, &subnets, ip).await
}

/// Rule 13 for the `SubnetConfiguration.N` of a request, against the
/// endpoint's subnets (after the request) and its address type.
async fn check_subnet_configurations(
    call: &Call,
    subnets: &[String],
    ip: &str,
) -> Result<(), Refuse> {
    let configs = subnet_configurations(call);
    if configs.is_empty() {
        return Ok(());
    }
    let blocks = subnet_blocks(call, subnets).await.unwrap_or_default();
    let (v4, v6) = match ip {
        "ipv6" => (false, true),
        "dualstack" => (true, true),
        _ => (true, false),
    };
    for c in &configs {
        if !subnets.contains(&c.subnet) {
            return Err(invalid(format!(
                "The subnet {} of the subnet configuration is not one of the endpoint's subnets.",
                c.subnet
            )));
        }
        let (block4, blocks6) = blocks.get(&c.subnet).cloned().unwrap_or_default();
        for (wanted, address, family, own) in [
            (v4, &c.ipv4, "IPv4", block4.into_iter().collect::<Vec<_>>()),
            (v6, &c.ipv6, "IPv6", blocks6),
        ] {
            match address {
                None if wanted => {
                    return Err(invalid(format!(
                        "An {family} address is required in the subnet configuration of {}.",
                        c.subnet
                    )));
                }
                Some(a) if !wanted => {
                    return Err(invalid(format!(
                        "The {family} address {a} cannot be used with the IP address type {ip}."
                    )));
                }
                Some(a) if !usable(a, &own) => {
                    return Err(invalid(format!(
                        "The {family} address {a} is not available in subnet {}.",
                        c.subnet
                    )));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Whether `address` lies in one of `blocks`, off the five addresses AWS
/// reserves in each (the first four and the last).
fn usable(address: &str, blocks: &[String]) -> bool {
    let Ok(a) = address.parse::<std::net::IpAddr>() else {
        return false;
    };
    blocks
        .iter()
        .filter_map(|b| b.parse::<ipnet::IpNet>().ok())
        .any(|net| {
            if !net.contains(&a) {
                return false;
            }
            let (start, end, at) = match (net.network(), net.broadcast(), a) {
                (std::net::IpAddr::V4(n), std::net::IpAddr::V4(b), std::net::IpAddr::V4(x)) => (
                    u128::from(u32::from(n)),
                    u128::from(u32::from(b)),
                    u128::from(u32::from(x)),
                ),
                (std::net::IpAddr::V6(n), std::net::IpAddr::V6(b), std::net::IpAddr::V6(x)) => {
                    (u128::from(n), u128::from(b), u128::from(x))
                }
                _ => return false,
            };
            at >= start + 4 && at != end
        })
}

async fn modify_addressing(call: &Call, state: &Mutex<State>) -> Result<(), Refuse> {
    let ip = call.param("IpAddressType");
    let record = call.param("DnsOptions.DnsRecordIpType");
    let Some(id) = call.param("VpcEndpointId") else {
        return Ok(());
    };
    let configs = !subnet_configurations(call).is_empty();
    if ip.is_none() && record.is_none() && !configs {
        return Ok(());
    }
    let Some(answer) = call
        .ask("DescribeVpcEndpoints", &[("VpcEndpointId.1", id)], &[])
        .await
    else {
        return Ok(());
    };
    let Some(endpoint) = items(&answer, "vpcEndpointSet").into_iter().next() else {
        return Ok(());
    };
    let current = state
        .lock()
        .unwrap()
        .addressing
        .get(id)
        .cloned()
        .unwrap_or_else(|| ("ipv4".into(), "ipv4".into()));
    let ip = ip.unwrap_or(&current.0).to_owned();
    let record = record.unwrap_or(&current.1).to_owned();
    let service = field(&endpoint, "serviceName").unwrap_or_default();
    let subnets = list_field(&endpoint, "subnetIdSet");
    check_addressing(call, state, &service, &subnets, &ip, Some(&record)).await?;
    // Rule 13, against the subnets the endpoint has after the modify.
    let removed = call.list("RemoveSubnetId");
    let after: Vec<String> = subnets
        .into_iter()
        .filter(|s| !removed.contains(s))
        .chain(call.list("AddSubnetId"))
        .collect();
    check_subnet_configurations(call, &after, &ip).await
}

// ---- Rules 5 and 10: security group rules ----------------------------------

/// The group's rules in one direction, from the emulator.
async fn group_rules(call: &Call, group: &str, egress: bool) -> Option<Vec<String>> {
    let answer = call
        .ask("DescribeSecurityGroupRules", &[], &[("group-id", group)])
        .await?;
    Some(
        items(&answer, "securityGroupRuleSet")
            .into_iter()
            .filter(|r| {
                field(r, "groupId").as_deref() == Some(group)
                    && field(r, "isEgress").is_some_and(|e| e.eq_ignore_ascii_case("true"))
                        == egress
            })
            .collect(),
    )
}

/// Prefix list id -> (its maximum entries, whether it holds IPv6 blocks),
/// as the emulator reports them.
async fn prefix_list_sizes(call: &Call, ids: &[String]) -> HashMap<String, (usize, bool)> {
    let mut unique: Vec<&String> = ids.iter().collect();
    unique.sort();
    unique.dedup();
    if unique.is_empty() {
        return HashMap::new();
    }
    let keys: Vec<String> = (1..=unique.len())
        .map(|i| format!("PrefixListId.{i}"))
        .collect();
    let params: Vec<(&str, &str)> = keys
        .iter()
        .map(String::as_str)
        .zip(unique.iter().map(|s| s.as_str()))
        .collect();
    let Some(answer) = call.ask("DescribeManagedPrefixLists", &params, &[]).await else {
        return HashMap::new();
    };
    items(&answer, "prefixListSet")
        .into_iter()
        .filter_map(|list| {
            let id = field(&list, "prefixListId")?;
            let max = field(&list, "maxEntries")?.parse().ok()?;
            let v6 = field(&list, "addressFamily").is_some_and(|f| f.eq_ignore_ascii_case("IPv6"));
            Some((id, (max, v6)))
        })
        .collect()
}

async fn revoke(call: &Call, egress: bool) -> Result<(), Refuse> {
    let ids = call.list("SecurityGroupRuleId");
    let Some(group) = call.param("GroupId") else {
        return Ok(());
    };
    if ids.is_empty() {
        return Ok(());
    }
    let Some(rules) = group_rules(call, group, egress).await else {
        return Ok(());
    };
    let known: HashSet<String> = rules
        .iter()
        .filter_map(|r| field(r, "securityGroupRuleId"))
        .collect();
    if ids.iter().any(|id| !known.contains(id)) {
        return Err(refuse(
            "InvalidSecurityGroupRuleId.NotFound",
            "The specified security group rule does not exist.",
        ));
    }
    Ok(())
}

async fn authorize(call: &Call, egress: bool) -> Result<(), Refuse> {
    let Some(group) = call.param("GroupId") else {
        return Ok(());
    };
    // (IPv4, IPv6) rules the request adds. A rule naming a group counts for
    // both; one naming a prefix list counts as the list's maximum entries
    // toward its address family.
    let (mut v4, mut v6) = (0usize, 0usize);
    let mut both = HashSet::new();
    let mut lists: Vec<String> = Vec::new();
    for (k, v) in &call.params {
        let Some(rest) = k.strip_prefix("IpPermissions.") else {
            continue;
        };
        let parts: Vec<&str> = rest.split('.').collect();
        if let [n, kind, m, name] = parts[..] {
            match (kind, name) {
                ("IpRanges", "CidrIp") => v4 += 1,
                ("Ipv6Ranges", "CidrIpv6") => v6 += 1,
                ("Groups", "GroupId" | "GroupName") => {
                    both.insert((n, kind, m));
                }
                ("PrefixListIds", "PrefixListId") => lists.push(v.clone()),
                _ => {}
            }
        }
    }
    if call.param("CidrIp").is_some() {
        v4 += 1;
    }
    if call.param("SourceSecurityGroupName").is_some()
        || call.param("SourceSecurityGroupId").is_some()
    {
        v4 += 1;
        v6 += 1;
    }
    v4 += both.len();
    v6 += both.len();
    let Some(rules) = group_rules(call, group, egress).await else {
        return Ok(());
    };
    for rule in &rules {
        if let Some(list) = field(rule, "prefixListId") {
            lists.push(list);
            continue;
        }
        let reference = field(rule, "referencedGroupInfo").is_some();
        if field(rule, "cidrIpv4").is_some() || reference {
            v4 += 1;
        }
        if field(rule, "cidrIpv6").is_some() || reference {
            v6 += 1;
        }
    }
    let sizes = prefix_list_sizes(call, &lists).await;
    for list in &lists {
        match sizes.get(list) {
            Some((max, true)) => v6 += max,
            Some((max, false)) => v4 += max,
            None => v4 += 1,
        }
    }
    if v4 > RULES_PER_GROUP || v6 > RULES_PER_GROUP {
        return Err(refuse(
            "RulesPerSecurityGroupLimitExceeded",
            "The maximum number of rules per security group has been reached.",
        ));
    }
    Ok(())
}

// ---- Rule 7: paging ---------------------------------------------------------

struct Paging {
    set: &'static str,
    size: Option<usize>,
    offset: usize,
    fingerprint: u64,
}

fn paging(call: &Call, action: &str) -> Result<Option<Paging>, Refuse> {
    let Some(&(_, set, min)) = PAGED.iter().find(|(a, _, _)| *a == action) else {
        return Ok(None);
    };
    let (max, token) = (call.param("MaxResults"), call.param("NextToken"));
    if max.is_none() && token.is_none() {
        return Ok(None);
    }
    let size = match max {
        None => None,
        Some(raw) => {
            let invalid = |expecting: &str| {
                refuse(
                    "InvalidParameterValue",
                    format!("Value ( {raw} ) for parameter maxResults is invalid. {expecting}"),
                )
            };
            let n: i64 = raw.parse().map_err(|_| invalid("Expecting an integer."))?;
            let least = min.unwrap_or(1);
            if n < least {
                // EC2's own words below 5 (seen from DescribeInstances) say
                // "greater than 5", though it takes 5.
                let floor = if min.is_some() { least } else { least - 1 };
                return Err(invalid(&format!("Expecting a value greater than {floor}.")));
            }
            if n > PAGE_MAX && min.is_some() {
                return Err(invalid(&format!(
                    "Expecting a value less than or equal to {PAGE_MAX}."
                )));
            }
            Some(n.min(PAGE_MAX) as usize)
        }
    };
    let fingerprint = {
        let mut h = DefaultHasher::new();
        for (k, v) in &call.params {
            if k != "MaxResults" && k != "NextToken" {
                (k, v).hash(&mut h);
            }
        }
        h.finish()
    };
    let offset = match token {
        None => 0,
        Some(token) => token
            .strip_prefix("strict-")
            .and_then(|t| t.split_once('-'))
            .and_then(|(offset, print)| {
                let offset: usize = offset.parse().ok()?;
                (u64::from_str_radix(print, 16).ok()? == fingerprint).then_some(offset)
            })
            .ok_or_else(|| {
                refuse(
                    "InvalidPaginationToken",
                    "The specified pagination token is not valid or is expired.",
                )
            })?,
    };
    Ok(Some(Paging {
        set,
        size,
        offset,
        fingerprint,
    }))
}

impl Paging {
    /// The page of a whole answer, with a `nextToken` when more remain.
    fn cut(&self, text: &str) -> String {
        let all = items(text, self.set);
        let start = self.offset.min(all.len());
        let end = self.size.map_or(all.len(), |n| (start + n).min(all.len()));
        let token = (end < all.len()).then(|| format!("strict-{end}-{:016x}", self.fingerprint));
        rebuild(text, self.set, &all[start..end], Some(token.as_deref()))
    }
}

// ---- Requests ---------------------------------------------------------------

pub(super) struct Call {
    upstream: SocketAddr,
    /// The request's headers, reused (signature and all) for the layer's
    /// own calls: the emulator takes region and account from them.
    headers: HeaderMap,
    params: Vec<(String, String)>,
}

impl Call {
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The values of `prefix.1`, `prefix.2`...
    pub(super) fn list(&self, prefix: &str) -> Vec<String> {
        self.params
            .iter()
            .filter(|(k, _)| {
                k.strip_prefix(prefix)
                    .and_then(|r| r.strip_prefix('.'))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The values of every `Filter.N` named `name`.
    pub(super) fn filter(&self, name: &str) -> Vec<String> {
        let numbers: Vec<&str> = self
            .params
            .iter()
            .filter(|(k, v)| v == name && k.starts_with("Filter.") && k.ends_with(".Name"))
            .map(|(k, _)| &k["Filter.".len()..k.len() - ".Name".len()])
            .collect();
        numbers
            .iter()
            .flat_map(|n| self.list(&format!("Filter.{n}.Value")))
            .collect()
    }

    /// The caller's region, from its signature's credential scope
    /// (`Credential=<key>/<date>/<region>/ec2/aws4_request`).
    pub(super) fn region(&self) -> String {
        self.headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|auth| auth.split("Credential=").nth(1))
            .and_then(|scope| scope.split('/').nth(2))
            .unwrap_or("us-east-1")
            .to_owned()
    }

    /// An EC2 request, or one without a signature (the emulator then
    /// guesses); STS and the load balancer calls of the tests' fixtures
    /// pass untouched.
    fn is_ec2(&self) -> bool {
        self.headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|auth| auth.contains("/ec2/aws4_request"))
    }

    /// The layer's own call to the emulator: `action` with `params` and
    /// `filters` (name, one value). `None` when the emulator refuses it.
    /// [`ask`](Self::ask) with `ids` as `member.1`, `member.2`, ...
    pub(super) async fn ask_by_ids(
        &self,
        action: &str,
        member: &str,
        ids: &[String],
    ) -> Option<String> {
        let named: Vec<(String, &str)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (format!("{member}.{}", i + 1), id.as_str()))
            .collect();
        let params: Vec<(&str, &str)> = named.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        self.ask(action, &params, &[]).await
    }

    pub(super) async fn ask(
        &self,
        action: &str,
        params: &[(&str, &str)],
        filters: &[(&str, &str)],
    ) -> Option<String> {
        let mut pairs = vec![
            ("Action".to_owned(), action.to_owned()),
            ("Version".to_owned(), "2016-11-15".to_owned()),
        ];
        pairs.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        for (i, (name, value)) in filters.iter().enumerate() {
            pairs.push((format!("Filter.{}.Name", i + 1), name.to_string()));
            pairs.push((format!("Filter.{}.Value.1", i + 1), value.to_string()));
        }
        let mut req = Request::builder().method("POST").uri("/");
        for (k, v) in &self.headers {
            if k != CONTENT_LENGTH && k != CONTENT_TYPE {
                req = req.header(k, v);
            }
        }
        let (parts, ()) = req
            .header(
                CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(())
            .unwrap()
            .into_parts();
        let body = Bytes::from(encode_form(&pairs));
        // The emulator serves tests side by side and now and then answers
        // a request with a server error; the layer's own look asks again
        // rather than let a rule go unchecked.
        for _ in 0..3 {
            match forward(self.upstream, parts.clone(), body.clone()).await {
                Ok((status, answer)) if status.is_success() => {
                    return Some(String::from_utf8_lossy(&answer).into_owned());
                }
                Ok((status, _)) if status.is_client_error() => return None,
                _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        None
    }
}

// ---- Answers: just enough XML for the emulator's output -----------------------

/// An element: its name, the span of the whole element and of its content.
struct Node {
    name: String,
    outer: Range<usize>,
    inner: Range<usize>,
}

/// The elements directly inside `within` of `xml`.
fn children(xml: &str, within: Range<usize>) -> Vec<Node> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut open: Option<(String, usize, usize)> = None;
    let mut at = within.start;
    while let Some(found) = xml[at..within.end].find('<') {
        let start = at + found;
        let Some(len) = xml[start..within.end].find('>') else {
            break;
        };
        let end = start + len + 1;
        let tag = &xml[start + 1..end - 1];
        at = end;
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        let name = |t: &str| t.split_whitespace().next().unwrap_or_default().to_owned();
        if tag.starts_with('/') {
            depth = depth.saturating_sub(1);
            if depth == 0
                && let Some((name, outer, inner)) = open.take()
            {
                out.push(Node {
                    name,
                    outer: outer..end,
                    inner: inner..start,
                });
            }
        } else if let Some(empty) = tag.strip_suffix('/') {
            if depth == 0 {
                out.push(Node {
                    name: name(empty),
                    outer: start..end,
                    inner: end..end,
                });
            }
        } else {
            if depth == 0 {
                open = Some((name(tag), start, end));
            }
            depth += 1;
        }
    }
    out
}

/// The document's root element.
fn root(xml: &str) -> Option<Node> {
    children(xml, 0..xml.len()).into_iter().next()
}

/// The text of `node`'s first child element called `name`.
fn field_in(xml: &str, node: &Node, name: &str) -> Option<String> {
    children(xml, node.inner.clone())
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| xml[c.inner].to_owned())
}

/// The text of a child element of the element `element` (one whole element).
pub(super) fn field(element: &str, name: &str) -> Option<String> {
    field_in(element, &root(element)?, name)
}

/// The `<item>` texts of a list child (`subnetIdSet`) of `element`.
pub(super) fn list_field(element: &str, name: &str) -> Vec<String> {
    let Some(top) = root(element) else {
        return Vec::new();
    };
    let Some(set) = children(element, top.inner)
        .into_iter()
        .find(|c| c.name == name)
    else {
        return Vec::new();
    };
    children(element, set.inner)
        .into_iter()
        .map(|i| element[i.inner].to_owned())
        .collect()
}

/// The whole `<item>` elements of the answer's set `set`.
pub(super) fn items(xml: &str, set: &str) -> Vec<String> {
    let Some(top) = root(xml) else {
        return Vec::new();
    };
    let Some(set) = children(xml, top.inner).into_iter().find(|c| c.name == set) else {
        return Vec::new();
    };
    children(xml, set.inner)
        .into_iter()
        .filter(|c| c.name == "item")
        .map(|c| xml[c.outer].to_owned())
        .collect()
}

/// The answer with `set` holding `kept`, and, when `next_token` is given,
/// its `nextToken` replaced (or removed, for `Some(None)`).
/// `xml` with each item of the list `set` rewritten by `f`.
fn rewrite_items(xml: &str, set: &str, f: impl FnMut(String) -> String) -> String {
    let rewritten: Vec<String> = items(xml, set).into_iter().map(f).collect();
    rebuild(xml, set, &rewritten, None)
}

fn rebuild(xml: &str, set: &str, kept: &[String], next_token: Option<Option<&str>>) -> String {
    let Some(top) = root(xml) else {
        return xml.to_owned();
    };
    let mut inner = String::new();
    for child in children(xml, top.inner.clone()) {
        if child.name == set {
            inner.push_str(&format!("<{set}>{}</{set}>", kept.concat()));
        } else if child.name != "nextToken" || next_token.is_none() {
            inner.push_str(&xml[child.outer]);
        }
    }
    if let Some(Some(token)) = next_token {
        inner.push_str(&format!("<nextToken>{}</nextToken>", xml_escape(token)));
    }
    format!(
        "{}{inner}{}",
        &xml[..top.inner.start],
        &xml[top.inner.end..]
    )
}

/// The whole element `name` directly inside the document's root.
fn child(xml: &str, name: &str) -> Option<String> {
    let top = root(xml)?;
    children(xml, top.inner)
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| xml[c.outer].to_owned())
}

/// The document with the element `name` directly inside its root rewritten.
fn rewrite_child(xml: &str, name: &str, f: impl FnOnce(&str) -> String) -> String {
    let Some(top) = root(xml) else {
        return xml.to_owned();
    };
    let Some(c) = children(xml, top.inner)
        .into_iter()
        .find(|c| c.name == name)
    else {
        return xml.to_owned();
    };
    format!(
        "{}{}{}",
        &xml[..c.outer.start],
        f(&xml[c.outer.clone()]),
        &xml[c.outer.end..]
    )
}

/// `element` with its child `name` holding `inner`, XML as it is.
fn with_raw_field(element: &str, name: &str, inner: &str) -> String {
    let Some(top) = root(element) else {
        return element.to_owned();
    };
    let mut kept: String = children(element, top.inner.clone())
        .into_iter()
        .filter(|c| c.name != name)
        .map(|c| element[c.outer].to_owned())
        .collect();
    kept.push_str(&format!("<{name}>{inner}</{name}>"));
    format!(
        "{}{kept}{}",
        &element[..top.inner.start],
        &element[top.inner.end..]
    )
}

/// `element` with its child `name` set to `value`.
fn with_field(element: &str, name: &str, value: &str) -> String {
    with_raw_field(element, name, &xml_escape(value))
}

/// Rule 15, on a change's answer: its `ChangeInfo` says `PENDING`, and the
/// change is remembered.
fn changes_pending(
    method: &hyper::Method,
    path: &str,
    answer: Bytes,
    state: &Mutex<State>,
) -> Bytes {
    let text = String::from_utf8_lossy(&answer);
    let Some(info) = text
        .split_once("<ChangeInfo>")
        .and_then(|(_, rest)| rest.split_once("</ChangeInfo>"))
        .map(|(info, _)| info.to_owned())
    else {
        return answer;
    };
    let id = info
        .split_once("<Id>")
        .and_then(|(_, rest)| rest.split_once("</Id>"))
        .map(|(id, _)| id.trim().trim_start_matches("/change/").to_owned())
        .unwrap_or_default();
    if id.is_empty() || !info.contains("<Status>INSYNC</Status>") {
        return answer;
    }
    // The zone: in the path, or (a create) in the answer.
    let zone = path
        .strip_prefix("/2013-04-01/hostedzone/")
        .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
        .or_else(|| {
            text.split_once("<HostedZone>")
                .and_then(|(_, rest)| rest.split_once("<Id>"))
                .and_then(|(_, rest)| rest.split_once("</Id>"))
                .map(|(id, _)| id.trim().trim_start_matches("/hostedzone/").to_owned())
        })
        .unwrap_or_default();
    let mut s = state.lock().unwrap();
    s.changes
        .entry(id.clone())
        .or_insert((std::time::Instant::now(), false));
    s.change_zones
        .insert(id, (zone, method == hyper::Method::DELETE));
    drop(s);
    let pending = info.replace("<Status>INSYNC</Status>", "<Status>PENDING</Status>");
    Bytes::from(text.replacen(&info, &pending, 1))
}

/// Rule 15, on GetChange (`GET /2013-04-01/change/{Id}`): `PENDING` for a
/// change of this layer's until it has propagated; `None` (the emulator's
/// `INSYNC`) after, and for every other request.
fn pending_change(
    parts: &hyper::http::request::Parts,
    state: &Mutex<State>,
) -> Option<Response<Full<Bytes>>> {
    const NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
    if parts.method != hyper::Method::GET {
        return None;
    }
    let id = parts.uri.path().strip_prefix("/2013-04-01/change/")?;
    let mut state = state.lock().unwrap();
    let (made, insync) = state.changes.get_mut(id)?;
    if made.elapsed() >= CHANGE_PROPAGATES_IN {
        *insync = true;
        return None;
    }
    Some(xml(
        StatusCode::OK,
        Bytes::from(format!(
            "<?xml version=\"1.0\"?><GetChangeResponse xmlns=\"{NS}\"><ChangeInfo><Id>/change/{}</Id>\
             <Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo>\
             </GetChangeResponse>",
            xml_escape(id)
        )),
    ))
}

// ---- Rule 19: one write at a time per hosted zone -------------------------------

/// The hosted zone a Route 53 write changes, and the code Route 53 answers
/// a second write to it that arrives while this one is being answered.
fn zone_write(
    method: &hyper::Method,
    path: &str,
) -> Option<(String, (&'static str, &'static str))> {
    const CONCURRENT: (&str, &str) = (
        "ConcurrentModification",
        "Another user submitted a request to create, update, or delete the object at the same time that you did. Retry the request.",
    );
    const PRIOR: (&str, &str) = (
        "PriorRequestNotComplete",
        "The request was rejected because Route 53 was still processing a prior request.",
    );
    let rest = path
        .trim_end_matches('/')
        .strip_prefix("/2013-04-01/hostedzone/")?;
    let (zone, action) = rest.split_once('/').unwrap_or((rest, ""));
    let refusal = match (method.as_str(), action) {
        ("POST", "associatevpc" | "disassociatevpc") => CONCURRENT,
        ("POST", "rrset") | ("DELETE", "") => PRIOR,
        _ => return None,
    };
    Some((zone.to_owned(), refusal))
}

/// A write to a hosted zone being answered; the zone is free again when
/// it is dropped.
struct ZoneWrite {
    state: Arc<Mutex<State>>,
    zone: String,
}

impl ZoneWrite {
    /// `None` when another write to the zone is being answered.
    fn enter(state: &Arc<Mutex<State>>, zone: String) -> Option<ZoneWrite> {
        if !state.lock().unwrap().zone_writes.insert(zone.clone()) {
            return None;
        }
        Some(ZoneWrite {
            state: state.clone(),
            zone,
        })
    }
}

impl Drop for ZoneWrite {
    fn drop(&mut self) {
        self.state.lock().unwrap().zone_writes.remove(&self.zone);
    }
}

/// A Route 53 error answer (400).
fn route53_error((code, message): (&str, &str)) -> Response<Full<Bytes>> {
    xml(
        StatusCode::BAD_REQUEST,
        Bytes::from(format!(
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">\
             <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>strict-layer</RequestId></ErrorResponse>"
        )),
    )
}

/// Rule 17: a CreateHostedZone of a private zone, or an
/// AssociateVPCWithHostedZone, whose VPC is already associated with
/// another zone of the zone's name, or holds an interface endpoint with
/// private DNS on for that name, answered `ConflictingDomainExists`;
/// `None` for any other request, or when the emulator does not answer the
/// layer's own reads.
async fn conflicting_domain(
    upstream: SocketAddr,
    parts: &hyper::http::request::Parts,
    path: &str,
    body: &Bytes,
    state: &Mutex<State>,
) -> Option<Response<Full<Bytes>>> {
    let text = String::from_utf8_lossy(body);
    let vpc = xml_tag(&text, "VPCId")?;
    let region = xml_tag(&text, "VPCRegion")?;
    let path = path.trim_end_matches('/');
    let (zone, name) = if path == "/2013-04-01/hostedzone" {
        (None, xml_tag(&text, "Name")?)
    } else {
        let zone = path
            .strip_prefix("/2013-04-01/hostedzone/")?
            .strip_suffix("/associatevpc")?
            .to_owned();
        let answer = route53_get(
            upstream,
            &parts.headers,
            &format!("/2013-04-01/hostedzone/{zone}"),
        )
        .await?;
        (Some(zone), xml_tag(&answer, "Name")?)
    };
    let name = absolute(&name);
    let zones = zones_on_vpc(upstream, &parts.headers, &vpc, &region).await?;
    let other_zone = zones
        .iter()
        .find(|(id, other)| absolute(other) == name && zone.as_deref() != Some(id.as_str()));
    let message = match (other_zone, &zone) {
        (Some((id, _)), None) => Some(format!(
            "A private hosted zone for {name} is already associated with the VPC {vpc} ({id})."
        )),
        (Some((id, _)), Some(_)) => Some(format!(
            "The VPC {vpc} is already associated with another hosted zone that has the same name, {name} ({id})."
        )),
        (None, _) => endpoint_answering(upstream, &parts.headers, state, &vpc, &name)
            .await
            .map(|endpoint| {
                format!(
                    "The VPC {vpc} already resolves {name} through the private DNS of the VPC endpoint {endpoint}."
                )
            }),
    }?;
    Some(xml(
        StatusCode::BAD_REQUEST,
        Bytes::from(format!(
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">\
             <Error><Type>Sender</Type><Code>ConflictingDomainExists</Code><Message>{}</Message></Error>\
             <RequestId>strict-layer</RequestId></ErrorResponse>",
            xml_escape(&message)
        )),
    ))
}

/// The interface endpoint of `vpc` (not deleted, failed or rejected) whose
/// private DNS (rule 3's record of it) answers for `name`, if there is one.
async fn endpoint_answering(
    upstream: SocketAddr,
    headers: &HeaderMap,
    state: &Mutex<State>,
    vpc: &str,
    name: &str,
) -> Option<String> {
    let call = Call {
        upstream,
        headers: headers_for(headers, "ec2"),
        params: Vec::new(),
    };
    let answer = call
        .ask("DescribeVpcEndpoints", &[], &[("vpc-id", vpc)])
        .await?;
    for endpoint in items(&answer, "vpcEndpointSet") {
        if !has_private_dns(&endpoint, state) {
            continue;
        }
        let Some(service_name) = field(&endpoint, "serviceName") else {
            continue;
        };
        let dns = service(&call, state, &service_name)
            .await
            .and_then(|s| s.dns);
        if dns.is_some_and(|d| absolute(&d) == name) {
            return field(&endpoint, "vpcEndpointId");
        }
    }
    None
}

/// Rule 20: the tags a ChangeTagsForResource would leave on `zone`, refused
/// past [`ZONE_TAGS`].
async fn zone_tag_limit(
    upstream: SocketAddr,
    like: &HeaderMap,
    zone: &str,
    body: &Bytes,
) -> Option<Response<Full<Bytes>>> {
    let text = String::from_utf8_lossy(body);
    let keys_in = |section: &str| -> BTreeSet<String> {
        let Some((_, rest)) = text.split_once(&format!("<{section}>")) else {
            return BTreeSet::new();
        };
        let inner = rest
            .split_once(&format!("</{section}>"))
            .map_or(rest, |(i, _)| i);
        inner
            .split("<Key>")
            .skip(1)
            .filter_map(|k| k.split_once("</Key>").map(|(k, _)| k.to_owned()))
            .collect()
    };
    let (added, removed) = (keys_in("AddTags"), keys_in("RemoveTagKeys"));
    let held = route53_get(
        upstream,
        like,
        &format!("/2013-04-01/tags/hostedzone/{zone}"),
    )
    .await?;
    let mut keys: BTreeSet<String> = held
        .split("<Key>")
        .skip(1)
        .filter_map(|k| k.split_once("</Key>").map(|(k, _)| k.to_owned()))
        .collect();
    keys.extend(added);
    keys.retain(|k| !removed.contains(k));
    (keys.len() > ZONE_TAGS).then(|| {
        route53_error((
            "InvalidInput",
            &format!(
                "The input is not valid. A hosted zone holds at most {ZONE_TAGS} tags; this change would \
                 leave {}.",
                keys.len()
            ),
        ))
    })
}

/// The layer's own Route 53 read from the emulator (made out as `like`'s
/// request was, for Route 53); `None` unless it succeeds.
async fn route53_get(
    upstream: SocketAddr,
    like: &HeaderMap,
    path_and_query: &str,
) -> Option<String> {
    let mut req = Request::builder().method("GET").uri(path_and_query);
    for (k, v) in &headers_for(like, "route53") {
        req = req.header(k, v);
    }
    let (parts, ()) = req.body(()).ok()?.into_parts();
    let (status, body) = forward(upstream, parts, Bytes::new()).await.ok()?;
    status
        .is_success()
        .then(|| String::from_utf8_lossy(&body).into_owned())
}

/// Route 53's VPC association authorizations, which the emulator lacks:
/// CreateVPCAssociationAuthorization (`POST .../hostedzone/{Id}/authorizevpcassociation`),
/// ListVPCAssociationAuthorizations (`GET` of the same path) and
/// DeleteVPCAssociationAuthorization (`POST .../deauthorizevpcassociation`),
/// answered as the Route 53 API reference shows them, with
/// `VPCAssociationAuthorizationNotFound` (404) for deleting one that does
/// not exist. The zone itself is not checked (the authorization is made by
/// the zone's account; the emulator keeps no accounts apart). `None` for
/// every other request.
fn route53_authorizations(
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    state: &Mutex<State>,
) -> Option<Response<Full<Bytes>>> {
    const NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
    let path = parts.uri.path();
    let rest = path.strip_prefix("/2013-04-01/hostedzone/")?;
    let (zone, op) = rest.split_once('/')?;
    let zone = zone.to_owned();
    let text = String::from_utf8_lossy(body);
    let tag = |name: &str| -> String {
        text.split_once(&format!("<{name}>"))
            .and_then(|(_, after)| after.split_once(&format!("</{name}>")))
            .map(|(value, _)| value.trim().to_owned())
            .unwrap_or_default()
    };
    let vpc_xml = |(id, region): &(String, String)| {
        format!(
            "<VPC><VPCRegion>{}</VPCRegion><VPCId>{}</VPCId></VPC>",
            xml_escape(region),
            xml_escape(id)
        )
    };
    let mut state = state.lock().unwrap();
    let answer = |status: StatusCode, body: String| Some(xml(status, Bytes::from(body)));
    match (parts.method.as_str(), op.trim_end_matches('/')) {
        ("GET", "authorizevpcassociation") => {
            let vpcs: String = state
                .authorizations
                .get(&zone)
                .into_iter()
                .flatten()
                .map(vpc_xml)
                .collect();
            answer(
                StatusCode::OK,
                format!(
                    "<?xml version=\"1.0\"?><ListVPCAssociationAuthorizationsResponse xmlns=\"{NS}\">\
                     <HostedZoneId>{}</HostedZoneId><VPCs>{vpcs}</VPCs></ListVPCAssociationAuthorizationsResponse>",
                    xml_escape(&zone)
                ),
            )
        }
        ("POST", "authorizevpcassociation") => {
            let vpc = (tag("VPCId"), tag("VPCRegion"));
            let shown = vpc_xml(&vpc);
            state
                .authorizations
                .entry(zone.clone())
                .or_default()
                .insert(vpc);
            answer(
                StatusCode::OK,
                format!(
                    "<?xml version=\"1.0\"?><CreateVPCAssociationAuthorizationResponse xmlns=\"{NS}\">\
                     <HostedZoneId>{}</HostedZoneId>{shown}</CreateVPCAssociationAuthorizationResponse>",
                    xml_escape(&zone)
                ),
            )
        }
        ("POST", "deauthorizevpcassociation") => {
            let id = tag("VPCId");
            let list = state.authorizations.entry(zone).or_default();
            let before = list.len();
            list.retain(|(vpc, _)| *vpc != id);
            if list.len() == before {
                return answer(
                    StatusCode::NOT_FOUND,
                    format!(
                        "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type>\
                         <Code>VPCAssociationAuthorizationNotFound</Code><Message>The VPC {} has not been \
                         authorized to be associated with the hosted zone.</Message></Error>\
                         <RequestId>strict-layer</RequestId></ErrorResponse>",
                        xml_escape(&id)
                    ),
                );
            }
            answer(
                StatusCode::OK,
                format!(
                    "<?xml version=\"1.0\"?><DeleteVPCAssociationAuthorizationResponse xmlns=\"{NS}\"/>"
                ),
            )
        }
        _ => None,
    }
}
