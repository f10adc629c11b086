//! Plain data the EC2 layer hands to resources: no SDK types leave `aws/`.

use std::collections::BTreeMap;

pub type Tags = BTreeMap<String, String>;

/// What takes a resource's tags from `old` to `new`: the keys to remove,
/// and the tags to add or change.
pub fn tag_changes<'a>(
    old: &'a Tags,
    new: &'a Tags,
) -> (Vec<&'a String>, Vec<(&'a String, &'a String)>) {
    let removed = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let changed = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .collect();
    (removed, changed)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vpc {
    pub id: String,
    pub owner_id: String,
    /// Associated IPv4 and IPv6 CIDR blocks.
    pub cidr_blocks: Vec<String>,
}

impl Vpc {
    /// Its CIDR blocks as networks (any EC2 did not write as one left out).
    pub fn networks(&self) -> Vec<ipnet::IpNet> {
        self.cidr_blocks
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpcDns {
    pub support: bool,
    pub hostnames: bool,
}

impl VpcDns {
    /// The settings that are off, as the console and the API name them.
    pub fn settings_off(&self) -> Vec<&'static str> {
        [
            (!self.support).then_some("DNS resolution (enableDnsSupport)"),
            (!self.hostnames).then_some("DNS hostnames (enableDnsHostnames)"),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    /// Its zone's id (`use1-az6`): the same zone in every account, where
    /// zone names are shuffled per account.
    pub availability_zone_id: String,
    /// Its IPv4 block; empty for an IPv6-only subnet.
    pub cidr_block: String,
    /// Its associated IPv6 blocks.
    pub ipv6_cidr_blocks: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub owner_id: String,
    pub tags: Tags,
    /// The group's rules as DescribeSecurityGroups reports them: one per
    /// peer of each permission, without rule ids (use
    /// `security_group_rules` where ids are needed).
    pub rules: Vec<Rule>,
}

/// Whether a rule's peer is a managed prefix list (`pl-...`): EC2 lists
/// prefix lists among a rule's ranges.
pub fn is_prefix_list(peer: &str) -> bool {
    peer.starts_with("pl-")
}

/// Where a rule lets traffic come from (ingress) or go to (egress).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Peer {
    Group(String),
    Cidr(String),
}

/// One security group rule as EC2 reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: String,
    pub egress: bool,
    /// `tcp`, `udp`, `icmp`, `-1` (all)...
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub peer: Peer,
    pub description: String,
}

/// An ingress rule to authorize: TCP on one port from one peer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IngressRule {
    pub port: u16,
    pub peer: Peer,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkInterface {
    pub id: String,
    pub description: String,
    pub subnet_id: String,
    pub availability_zone: String,
    pub private_ips: Vec<String>,
    pub ipv6_addresses: Vec<String>,
    pub group_ids: Vec<String>,
}

/// An endpoint service as a consumer sees it (DescribeVpcEndpointServices).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointService {
    pub name: String,
    /// The AWS account that owns the service.
    pub owner: Option<String>,
    pub availability_zones: Vec<String>,
    /// Zone ids (`use1-az4`) in the order of `availability_zones`; empty
    /// when EC2 gives none.
    pub availability_zone_ids: Vec<String>,
    pub base_endpoint_dns_names: Vec<String>,
    pub private_dns_names: Vec<String>,
    pub acceptance_required: bool,
    /// The owner's verification of its private DNS name, as EC2 spells it
    /// (`verified`, `pendingVerification`, `failed`); `None` when EC2 does
    /// not say.
    pub private_dns_name_state: Option<String>,
    /// The region that hosts the service, when EC2 says (a service asked
    /// for with ServiceRegions).
    pub service_region: Option<String>,
    /// `ipv4`, `ipv6`: the address families the service accepts; empty
    /// when EC2 does not say (then IPv4 alone).
    pub supported_ip_address_types: Vec<String>,
}

/// The addresses an endpoint's interface in one subnet is to have
/// (CreateVpcEndpoint's SubnetConfiguration), or has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubnetAddresses {
    pub subnet_id: String,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsEntry {
    pub dns_name: String,
    pub hosted_zone_id: String,
}

/// An interface VPC endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub id: String,
    pub vpc_id: String,
    pub service_name: String,
    /// As EC2 spells it: `available`, `pendingAcceptance`, `pending`, ...
    pub state: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub private_dns_enabled: bool,
    pub dns_entries: Vec<DnsEntry>,
    pub network_interface_ids: Vec<String>,
    pub owner_id: String,
    pub tags: Tags,
    /// The API's last error, when the endpoint failed.
    pub last_error: Option<String>,
    /// The region of the service, when EC2 says (a cross-region endpoint).
    pub service_region: Option<String>,
    /// `ipv4`, `dualstack` or `ipv6`, when EC2 says.
    pub ip_address_type: Option<String>,
    /// The DNS records' address family (`ipv4`, `dualstack`, `ipv6`,
    /// `service-defined`), when EC2 says.
    pub dns_record_ip_type: Option<String>,
    /// The endpoint policy as EC2 keeps it (JSON), when EC2 says.
    pub policy: Option<String>,
}

impl Endpoint {
    /// States compare without regard to case: EC2 answers lower camel case
    /// (`pendingAcceptance`), while the SDK's enum expects other spellings.
    pub fn state_is(&self, state: &str) -> bool {
        self.state.eq_ignore_ascii_case(state)
    }

    /// Deleted, on its way out, or never to serve (`failed`, `rejected`):
    /// not one a new endpoint or zone would stand next to.
    pub fn is_leaving(&self) -> bool {
        ["deleted", "deleting", "failed", "rejected"]
            .iter()
            .any(|s| self.state_is(s))
    }
}

/// One numbered entry of a network ACL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkAclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// As EC2 reports it: `-1` (all), `6` (TCP), `17` (UDP)...
    pub protocol: String,
    pub allow: bool,
    /// The IPv4 or IPv6 block the entry matches.
    pub cidr_block: String,
    /// Inclusive; `None` when the entry covers every port.
    pub port_range: Option<(i32, i32)>,
}

/// A network ACL and the subnets associated with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkAcl {
    pub id: String,
    pub vpc_id: String,
    pub is_default: bool,
    pub subnet_ids: Vec<String>,
    pub entries: Vec<NetworkAclEntry>,
}

/// A network interface's addresses (DescribeNetworkInterfaces): where the
/// hosts behind a security group, or an endpoint, really are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceAddresses {
    pub id: String,
    pub subnet_id: String,
    pub group_ids: Vec<String>,
    /// Its private IPv4 addresses and its IPv6 addresses.
    pub addresses: Vec<String>,
}

/// A managed prefix list (DescribeManagedPrefixLists) and its entries
/// (GetManagedPrefixListEntries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixList {
    pub id: String,
    pub name: String,
    /// IPv4 or IPv6 blocks.
    pub cidrs: Vec<String>,
}

/// A Reachability Analyzer path (DescribeNetworkInsightsPaths): from a
/// source to a destination over a protocol and port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InsightsPath {
    pub id: String,
    pub arn: String,
    /// The source's id, whether it was given by id or by ARN.
    pub source: String,
    /// The source's ARN (EC2 answers both).
    pub source_arn: String,
    pub destination: String,
    pub protocol: String,
    pub destination_port: Option<u16>,
    /// The `planetscale:create-token` tag of a path this provider made.
    pub create_token: Option<String>,
    /// Every tag of the path, the create token's included.
    pub tags: Tags,
}

/// One Reachability Analyzer analysis of a path
/// (DescribeNetworkInsightsAnalyses).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InsightsAnalysis {
    pub id: String,
    pub path_id: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub status_message: Option<String>,
    /// Whether a path was found; `None` while running or after a failure.
    pub path_found: Option<bool>,
    pub explanations: Vec<Explanation>,
    /// When it started, in seconds since the epoch.
    pub started: i64,
}

/// Something an analysis names: its id, and its name when it has one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Component {
    pub id: String,
    pub name: Option<String>,
}

/// A security group or network ACL rule an explanation names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExplainedRule {
    /// `ingress` or `egress`.
    pub direction: Option<String>,
    pub cidr: Option<String>,
    pub prefix_list_id: Option<String>,
    /// The security group a group rule belongs to.
    pub group_id: Option<String>,
    pub protocol: Option<String>,
    /// Inclusive.
    pub ports: Option<(i32, i32)>,
    /// Network ACL rules: `allow` or `deny`, and the number.
    pub action: Option<String>,
    pub number: Option<i32>,
}

/// A route an explanation names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExplainedRoute {
    pub destination: Option<String>,
    /// Where it leads (a gateway, interface, peering connection...).
    pub target: Option<String>,
    pub state: Option<String>,
}

/// Why an analysis found no path, or what it noticed on the way: an
/// explanation code and the parts of the path it names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    pub code: String,
    /// The main component the explanation is about.
    pub component: Option<Component>,
    pub direction: Option<String>,
    pub protocols: Vec<String>,
    pub port_ranges: Vec<(i32, i32)>,
    pub port: Option<i32>,
    pub address: Option<String>,
    pub addresses: Vec<String>,
    pub cidrs: Vec<String>,
    pub state: Option<String>,
    pub missing_component: Option<String>,
    pub security_group: Option<Component>,
    pub security_groups: Vec<Component>,
    pub security_group_rule: Option<ExplainedRule>,
    pub acl: Option<Component>,
    pub acl_rule: Option<ExplainedRule>,
    pub route_table: Option<Component>,
    pub route: Option<ExplainedRoute>,
    pub subnet: Option<Component>,
    pub vpc: Option<Component>,
    pub network_interface: Option<Component>,
    pub vpc_endpoint: Option<Component>,
    pub attached_to: Option<Component>,
    pub availability_zones: Vec<String>,
}

/// A VPC a private hosted zone answers in, and the region it is in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ZoneVpc {
    pub id: String,
    pub region: String,
}

/// A Route 53 hosted zone (GetHostedZone).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostedZone {
    /// Without the `/hostedzone/` prefix Route 53 sometimes adds.
    pub id: String,
    /// As Route 53 spells it: lower case, with the final dot.
    pub name: String,
    pub private: bool,
    pub caller_reference: String,
    /// The VPCs associated with a private zone.
    pub vpcs: Vec<ZoneVpc>,
}
