//! The endpoint's plan-time checks against AWS: the console's "Verify
//! service" and the guide's advice ([`preflight`]: the service, the
//! subnets' VPC and zones, the security groups' VPC, the VPC's DNS
//! settings), and, for a new endpoint, one to the same service already in
//! the VPC ([`check_existing`]). Each names the attribute at fault and the
//! fix.

use std::collections::BTreeMap;

use crate::aws::AwsError;
use crate::aws::endpoint::{CREATE_TOKEN_TAG, EndpointChanges};
use crate::aws::model::{Endpoint, EndpointService, SecurityGroup, Subnet, VpcDns, ZoneVpc};
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::privatelink::{
    CROSS_REGION_UNSUPPORTED_ZONE_IDS, cross_region_unavailable_detail, service_not_found_detail,
};

use super::{Model, TYPE_NAME, addresses, attr, entry_error, remote_region, subnet_attr};
use crate::resources::root;

/// Which of the checks of [`preflight`] to run.
#[derive(Clone, Copy, Debug)]
pub(super) struct Checks {
    /// The service exists (and offers a verified private DNS name when
    /// `dns` is on too).
    pub service: bool,
    /// The subnets are in the VPC, one per zone, in zones the service
    /// offers, with the blocks the address type needs, and hold the fixed
    /// addresses (the service accepts the address type, too).
    pub subnets: bool,
    /// The VPC resolves private DNS names, and the service offers one.
    pub dns: bool,
    /// The security groups are in the VPC.
    pub groups: bool,
    /// The VPC's id is known: the checks that read the VPC itself run only
    /// then (at plan it may be made by the same apply).
    pub vpc_known: bool,
    /// Checks made while planning: what the same apply may still change
    /// (the VPC's DNS settings, turned on by an `aws_vpc` of the same
    /// configuration) warns, and is checked again, as an error, right
    /// before the write.
    pub at_plan: bool,
}

impl Checks {
    /// Every check, for a new endpoint.
    pub fn all(dns: bool) -> Self {
        Checks {
            service: true,
            subnets: true,
            dns,
            groups: true,
            vpc_known: true,
            at_plan: false,
        }
    }

    /// The checks of what an update changes.
    pub fn of_changes(changes: &EndpointChanges) -> Self {
        Checks {
            service: false,
            subnets: !changes.add_subnet_ids.is_empty()
                || !changes.remove_subnet_ids.is_empty()
                || changes.ip_address_type.is_some()
                || !changes.subnet_addresses.is_empty(),
            dns: changes.private_dns_enabled == Some(true),
            groups: !changes.add_security_group_ids.is_empty(),
            vpc_known: true,
            at_plan: false,
        }
    }

    pub fn any(self) -> bool {
        self.service || self.subnets || self.dns || self.groups
    }
}

/// The checks of the console's "Verify service" and of the guide's advice,
/// against AWS: the service exists and offers the subnets' zones (and a
/// verified private DNS name when private DNS is asked for), the subnets
/// and security groups are in the VPC with at most one subnet per zone (two
/// or more zones recommended), and the VPC resolves private DNS names.
/// Returns the service when it was looked up.
pub(super) async fn preflight(
    clients: &Clients,
    m: &Model,
    checks: Checks,
    diags: &mut Diagnostics,
) -> Option<EndpointService> {
    let ec2 = &clients.ec2;
    let subnet_ids: Vec<String> = m.subnet_ids.iter().cloned().collect();
    let group_ids: Vec<String> = m.security_group_ids.iter().cloned().collect();
    let want_service = checks.service || checks.subnets || checks.dns;
    let (found_service, found_subnets, found_dns, found_groups) = tokio::join!(
        async {
            if want_service {
                Some(
                    ec2.find_endpoint_service(&m.service_name, remote_region(clients, m))
                        .await,
                )
            } else {
                None
            }
        },
        async {
            if checks.subnets {
                Some(ec2.find_subnets(&subnet_ids).await)
            } else {
                None
            }
        },
        async {
            if checks.dns && checks.vpc_known {
                Some(ec2.vpc_dns(&m.vpc_id).await)
            } else {
                None
            }
        },
        async {
            if checks.groups {
                Some(ec2.find_security_groups(&group_ids).await)
            } else {
                None
            }
        },
    );
    let service = found_service.and_then(|found| judge_service(clients, m, found, diags));
    if checks.dns
        && let Some(s) = &service
        && let Some(why) = private_dns_unavailable(s)
    {
        diags.attr_error(
            root(attr::private_dns_enabled),
            "The service offers no private DNS name",
            why,
        );
    }
    if checks.dns
        && checks.vpc_known
        && let Some(s) = &service
        && private_dns_unavailable(s).is_none()
    {
        check_zones_for_name(clients, m, s, checks.at_plan, diags).await;
    }
    if checks.subnets
        && let Some(s) = &service
        && let Some(why) =
            addresses::service_unfit(m.ip_address_type.as_deref(), &s.supported_ip_address_types)
    {
        diags.attr_error(
            root(attr::ip_address_type),
            "Address type not accepted by the service",
            why,
        );
    }
    if let Some(found) = found_subnets {
        judge_subnets(clients, m, service.as_ref(), found, diags);
    }
    if let Some(found) = found_groups {
        judge_groups(m, found, diags);
    }
    if let Some(found) = found_dns {
        judge_vpc_dns(m, found, checks.at_plan, diags);
    }
    service
}

/// The service as EC2 described it, or what its description's failure
/// means (an error, or a warning where the create can go on unverified).
fn judge_service(
    clients: &Clients,
    m: &Model,
    found: Result<EndpointService, AwsError>,
    diags: &mut Diagnostics,
) -> Option<EndpointService> {
    match found {
        Ok(s) => return Some(s),
        Err(e) if e.is_not_found() && remote_region(clients, m).is_some() => diags.attr_error(
            root(attr::service_region),
            "Service not offered across regions",
            cross_region_unavailable_detail(
                &m.service_name,
                remote_region(clients, m).unwrap_or_default(),
                &clients.region,
            ),
        ),
        Err(e) if e.is_not_found() => diags.attr_error(
            root(attr::service_name),
            "PrivateLink service not found",
            service_not_found_detail(&m.service_name, &clients.region),
        ),
        Err(e @ AwsError::AccessDenied { .. }) => diags.attr_warning(
            root(attr::service_name),
            "Could not verify the service",
            format!("DescribeVpcEndpointServices was refused ({e}); the endpoint will be created without verifying the service first."),
        ),
        Err(e) => diags.attr_error(root(attr::service_name), "Could not verify the service", e.to_string()),
    }
    None
}

/// The subnets against the service's zones (or, across regions, the zones
/// cross-region access is offered in) and the fixed addresses.
fn judge_subnets(
    clients: &Clients,
    m: &Model,
    service: Option<&EndpointService>,
    found: Result<Vec<Subnet>, AwsError>,
    diags: &mut Diagnostics,
) {
    match found {
        Ok(found) => {
            let remote = remote_region(clients, m);
            let zones = service
                .filter(|_| remote.is_none())
                .map(|s| s.availability_zones.as_slice());
            check_subnets(m, &found, zones, diags);
            if let Some(service_region) = remote {
                check_cross_region_zones(&found, service_region, diags);
                if let Some(here) = service.and_then(|s| zones_named_here(s, &clients.region)) {
                    warn_of_zones_not_named(&found, &here, diags);
                }
            }
            check_addresses(m, &found, diags);
        }
        Err(e) if e.is_not_found() => diags.attr_error(
            root(attr::subnet_ids),
            "Subnet not found",
            format!("{e}. Check the subnet ids and the provider's region."),
        ),
        Err(e) => diags.attr_error(
            root(attr::subnet_ids),
            "Could not check the subnets",
            e.to_string(),
        ),
    }
}

/// The security groups: each of the endpoint's VPC.
fn judge_groups(m: &Model, found: Result<Vec<SecurityGroup>, AwsError>, diags: &mut Diagnostics) {
    match found {
        Ok(groups) => {
            for g in groups.iter().filter(|g| g.vpc_id != m.vpc_id) {
                diags.attr_error(
                    root(attr::security_group_ids),
                    "Security group of another VPC",
                    format!(
                        "{} is in {}, not in {}. An endpoint takes security groups of its own VPC: choose one there, \
                         such as a planetscale_privatelink_security_group with vpc_id = \"{}\".",
                        g.id, g.vpc_id, m.vpc_id, m.vpc_id
                    ),
                );
            }
        }
        Err(e) if e.is_not_found() => diags.attr_error(
            root(attr::security_group_ids),
            "Security group not found",
            format!("{e}. Check the security group ids and the provider's region."),
        ),
        Err(e) => diags.attr_warning(
            root(attr::security_group_ids),
            "Could not check the security groups",
            e.to_string(),
        ),
    }
}

/// The VPC's DNS settings, which private DNS needs on: a warning at plan
/// (the same apply may turn them on), an error at apply.
fn judge_vpc_dns(
    m: &Model,
    found: Result<VpcDns, AwsError>,
    at_plan: bool,
    diags: &mut Diagnostics,
) {
    match found {
        Ok(d) if !(d.support && d.hostnames) => {
            let detail = format!(
                "{} has {} turned off, and private DNS needs both DNS resolution and DNS hostnames on. Turn \
                 them on (in hashicorp/aws: enable_dns_support and enable_dns_hostnames on aws_vpc), or set \
                 private_dns_enabled = false and connect through the endpoint's own DNS names.",
                m.vpc_id,
                d.settings_off().join(" and ")
            );
            if at_plan {
                // The same apply may turn them on before the endpoint is
                // written: say so now, and check again then.
                diags.attr_warning(
                    root(attr::private_dns_enabled),
                    "The VPC cannot resolve private DNS names yet",
                    format!(
                        "{detail} If this configuration turns them on in this apply, the endpoint is created \
                         after that; if they are still off then, the apply stops before creating it, with this \
                         message."
                    ),
                );
            } else {
                diags.attr_error(
                    root(attr::private_dns_enabled),
                    "The VPC cannot resolve private DNS names",
                    detail,
                );
            }
        }
        Err(e) if e.is_not_found() => diags.attr_error(
            root(attr::vpc_id),
            "VPC not found",
            format!("{}: {e}", m.vpc_id),
        ),
        Err(e) => diags.attr_warning(
            root(attr::vpc_id),
            "Could not check the VPC's DNS settings",
            e.to_string(),
        ),
        _ => {}
    }
}

/// With private DNS on, the service's private DNS name must not be one a
/// private hosted zone answers for in the VPC: AWS makes private DNS a
/// private hosted zone of its own, associated with the VPC, and one VPC
/// holds one zone per name, so EC2 refuses ("conflicting DNS domain"). A
/// zone Terraform knows may be disassociated by the same apply: at plan
/// that warns, and the check is made again before the write.
async fn check_zones_for_name(
    clients: &Clients,
    m: &Model,
    service: &EndpointService,
    at_plan: bool,
    diags: &mut Diagnostics,
) {
    let vpc = ZoneVpc {
        id: m.vpc_id.clone(),
        region: clients.region.clone(),
    };
    for name in &service.private_dns_names {
        let zones = match clients.route53.zones_named_on_vpc(name, &vpc).await {
            Ok(zones) => zones,
            Err(e) => {
                tracing::debug!(vpc = %vpc.id, error = %e, "listing the VPC's zones failed; not checking for one for the private DNS name");
                continue;
            }
        };
        for zone in zones {
            let detail = format!(
                "The private hosted zone {zone_id} ({zone_name}) is associated with {vpc}, and private DNS would \
                 answer for the same name there: AWS implements an endpoint's private DNS as a private hosted \
                 zone of its own in the VPC, and EC2 refuses a second one for a name (\"conflicting DNS domain\"). \
                 Either set private_dns_enabled = false and let the zone answer for {name} (pointing its alias at \
                 this endpoint, as planetscale_privatelink_dns_zone does), or disassociate the zone from {vpc}.",
                zone_id = zone.id,
                zone_name = zone.name,
                vpc = vpc.id,
            );
            // A zone this provider made (its caller reference says so) is
            // Terraform's, though not necessarily read yet: Terraform plans
            // an endpoint before the zone that refers to it.
            let managed = clients.route53.is_known(&zone.id)
                || clients
                    .route53
                    .look_at_zone(&zone.id)
                    .await
                    .is_ok_and(|z| crate::resources::is_client_token(&z.caller_reference));
            if at_plan && managed {
                diags.attr_warning(
                    root(attr::private_dns_enabled),
                    "A private hosted zone answers for this name in the VPC",
                    format!(
                        "{detail} This provider made that zone, but Terraform writes an endpoint before a zone \
                         that refers to it: when the zone is a planetscale_privatelink_dns_zone over this endpoint, \
                         remove {vpc} from its vpc_ids and apply, then turn private DNS on in a second apply. \
                         Otherwise, if {vpc} is still associated when the endpoint is written, the apply stops \
                         there, with this message.",
                        vpc = vpc.id
                    ),
                );
            } else {
                diags.attr_error(
                    root(attr::private_dns_enabled),
                    "A private hosted zone answers for this name in the VPC",
                    detail,
                );
            }
        }
    }
}

/// For a new endpoint: an endpoint to the same service already in the VPC,
/// one Terraform does not know (not read from its state, not created by
/// this process) and not on its way out, is what a killed apply leaves
/// behind, or one made elsewhere. With private DNS on, EC2 would refuse the
/// new one ("conflicting DNS domain"), so the plan fails; with it off, it
/// warns. Either way it says how to adopt the endpoint or delete it.
pub(super) async fn check_existing(clients: &Clients, m: &Model, diags: &mut Diagnostics) {
    let ec2 = &clients.ec2;
    let found = match ec2.endpoints_to_service(&m.vpc_id, &m.service_name).await {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!(error = %e, "listing the VPC's endpoints to the service failed; not checking for one left behind");
            return;
        }
    };
    for e in found
        .iter()
        .filter(|e| !e.is_leaving() && !ec2.is_known(&e.id))
    {
        let (summary, detail) = existing_endpoint_text(e, m.private_dns_enabled, &clients.region);
        if m.private_dns_enabled {
            diags.attr_error(root(attr::service_name), summary, detail);
        } else {
            diags.attr_warning(root(attr::service_name), summary, detail);
        }
    }
}

/// What the plan says of an endpoint `e` found where a new one would go.
fn existing_endpoint_text(e: &Endpoint, private_dns: bool, region: &str) -> (String, String) {
    let id = &e.id;
    let who = if e.tags.contains_key(CREATE_TOKEN_TAG) {
        "This provider made it (it carries the provider's planetscale:create-token tag), in an apply that \
         did not finish: the apply was killed, or its answer was lost, before Terraform could save the \
         endpoint in its state."
    } else {
        "This provider did not make it (it has no planetscale:create-token tag): it was made in the AWS \
         console, by another tool, or by another Terraform configuration. If another configuration manages \
         it, leave it there: do not import it here, and do not delete it."
    };
    let consequence = if private_dns {
        "This plan cannot be applied as it is: with private_dns_enabled = true, EC2 refuses a second endpoint \
         with private DNS for the same name in one VPC (\"conflicting DNS domain\")."
    } else {
        "With private_dns_enabled = false EC2 accepts a second endpoint, so this plan can be applied, but the \
         VPC would then have two endpoints to the same branch, each billed by the hour."
    };
    let summary = if private_dns {
        "An endpoint to this service already exists in the VPC".to_owned()
    } else {
        "Another endpoint to this service already exists in the VPC".to_owned()
    };
    let detail = format!(
        "{id} ({state}) already connects {vpc} to {service}. {who}\n\n\
         {consequence}\n\n\
         To adopt it instead of creating another, add this block to the configuration, with <name> replaced \
         by the name of this resource (its address is shown above, after \"with\"), then run terraform \
         apply:\n\n\
         \x20\x20import {{\n\
         \x20\x20\x20\x20to = {TYPE_NAME}.<name>\n\
         \x20\x20\x20\x20id = \"{id}\"\n\
         \x20\x20}}\n\n\
         To delete it instead, run:\n\n\
         \x20\x20aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {id} --region {region}",
        state = e.state,
        vpc = e.vpc_id,
        service = e.service_name,
    );
    (summary, detail)
}

/// Why private DNS cannot be turned on for an endpoint to `s`, if it
/// cannot: EC2 refuses it for a service without a private DNS name, and
/// for one whose name its owner has not verified ("Consumers of the
/// endpoint service can use the private name only when the state is
/// verified", EC2 API reference, PrivateDnsNameConfiguration).
fn private_dns_unavailable(s: &EndpointService) -> Option<String> {
    if s.private_dns_names.is_empty() {
        return Some(format!(
            "{} has no private DNS name, so EC2 cannot turn private DNS on for it. Set private_dns_enabled = false \
             and connect through the endpoint's DNS names (dns_entries), or ask PlanetScale support to enable the \
             branch's private DNS name.",
            s.name
        ));
    }
    match s.private_dns_name_state.as_deref() {
        Some(state) if !state.eq_ignore_ascii_case("verified") => Some(format!(
            "The private DNS name of {} ({}) is {state}, not verified, and EC2 lets consumers use it only once it \
             is verified. Set private_dns_enabled = false for now, or wait until PlanetScale has verified it.",
            s.name,
            s.private_dns_names.join(", ")
        )),
        _ => None,
    }
}

/// The zones of this region a service of another region names. AWS
/// documents no rule for which zones that answer names (consumers need not
/// use the provider's zones, except where cross-Region access is not
/// offered at all): `None` when it names none of this region's.
fn zones_named_here(service: &EndpointService, region: &str) -> Option<Vec<String>> {
    let here: Vec<String> = service
        .availability_zones
        .iter()
        .filter(|z| z.strip_prefix(region).is_some_and(|rest| rest.len() == 1))
        .cloned()
        .collect();
    (!here.is_empty()).then_some(here)
}

/// A subnet of a cross-region endpoint in a zone of this region the
/// service's answer does not name: a warning, as AWS documents no rule.
fn warn_of_zones_not_named(subnets: &[Subnet], named: &[String], diags: &mut Diagnostics) {
    for s in subnets {
        if !named.contains(&s.availability_zone) {
            diags.attr_warning(
                root(attr::subnet_ids),
                "Availability zone not named by the service",
                format!(
                    "{} is in {}, and the service's answer names {} in this region. If the create fails for \
                     this zone, choose subnets in those.",
                    s.id,
                    s.availability_zone,
                    named.join(", ")
                ),
            );
        }
    }
}

/// A cross-region endpoint cannot have a subnet in the few zones where AWS
/// offers no cross-Region PrivateLink (named by zone id, which is the same
/// in every account).
fn check_cross_region_zones(subnets: &[Subnet], service_region: &str, diags: &mut Diagnostics) {
    for s in subnets {
        if CROSS_REGION_UNSUPPORTED_ZONE_IDS.contains(&s.availability_zone_id.as_str()) {
            diags.attr_error(
                root(attr::subnet_ids),
                "Availability zone without cross-region access",
                format!(
                    "{} is in {} ({}), where AWS offers no cross-Region PrivateLink, and the service is in \
                     {service_region}. Choose subnets in other availability zones of this region.",
                    s.id, s.availability_zone, s.availability_zone_id
                ),
            );
        }
    }
}

/// The subnets are in the endpoint's VPC, one per availability zone, in
/// zones the service offers (`service_zones`, when it was looked up); one
/// zone alone is a warning.
fn check_subnets(
    m: &Model,
    subnets: &[Subnet],
    service_zones: Option<&[String]>,
    diags: &mut Diagnostics,
) {
    let mut by_zone: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in subnets {
        if s.vpc_id != m.vpc_id {
            diags.attr_error(
                root(attr::subnet_ids),
                "Subnet of another VPC",
                format!(
                    "{} is in {}, not in {}. Choose subnets of the endpoint's VPC.",
                    s.id, s.vpc_id, m.vpc_id
                ),
            );
            continue;
        }
        by_zone.entry(&s.availability_zone).or_default().push(&s.id);
    }
    for (zone, ids) in &by_zone {
        if ids.len() > 1 {
            diags.attr_error(
                root(attr::subnet_ids),
                "Two subnets in one availability zone",
                format!(
                    "{} are all in {zone}. An endpoint takes one subnet per availability zone: keep one of them, and \
                     add subnets of other zones for resilience.",
                    ids.join(" and ")
                ),
            );
        }
    }
    if let Some(offered) = service_zones.filter(|z| !z.is_empty()) {
        for (zone, ids) in &by_zone {
            if !offered.iter().any(|o| o == zone) {
                diags.attr_error(
                    root(attr::subnet_ids),
                    "Availability zone not offered by the service",
                    format!(
                        "{} is in {zone}, where the PlanetScale service is not available. Its zones are {}: choose \
                         subnets there.",
                        ids.join(", "),
                        offered.join(", ")
                    ),
                );
            }
        }
    }
    if by_zone.len() < 2 && !diags.has_errors() {
        diags.attr_warning(
            root(attr::subnet_ids),
            "Endpoint in a single availability zone",
            "The endpoint has interfaces in one availability zone only, so an outage of that zone cuts the \
             application off from the database. Add a subnet in a second zone (two or more are recommended).",
        );
    }
}

/// The subnets have the blocks the endpoint's address type needs, and
/// each fixed address lies inside its subnet, off the reserved five.
fn check_addresses(m: &Model, subnets: &[Subnet], diags: &mut Diagnostics) {
    for why in addresses::subnets_unfit(m.ip_address_type.as_deref(), subnets) {
        diags.attr_error(
            root(attr::ip_address_type),
            "Subnets without the address type's blocks",
            why,
        );
    }
    for (i, config) in m.subnet_configurations.iter().flatten().enumerate() {
        let subnet = subnets.iter().find(|s| s.id == config.subnet_id);
        for (name, address, v6) in [
            (subnet_attr::ipv4, &config.ipv4, false),
            (subnet_attr::ipv6, &config.ipv6, true),
        ] {
            if let Some(address) = address
                && let Some(why) = addresses::address_unfit(address, v6, subnet)
            {
                entry_error(diags, i, name, "Address not available in the subnet", why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::endpoint::tests::found;

    #[test]
    fn a_remote_service_names_the_zones_of_this_region_it_names() {
        let service = |zones: &[&str]| EndpointService {
            availability_zones: zones.iter().map(|z| z.to_string()).collect(),
            ..EndpointService::default()
        };
        // Zones of the service's own region say nothing about this one.
        let theirs = service(&["us-west-2a", "us-west-2b"]);
        assert_eq!(zones_named_here(&theirs, "us-east-1"), None);
        let mixed = service(&["us-west-2a", "us-east-1b", "us-east-1-bos-1a"]);
        assert_eq!(
            zones_named_here(&mixed, "us-east-1"),
            Some(vec!["us-east-1b".to_owned()])
        );
        let mut diags = Diagnostics::default();
        warn_of_zones_not_named(
            &[subnet("subnet-a", "vpc-1", "us-east-1a")],
            &["us-east-1b".to_owned()],
            &mut diags,
        );
        assert!(!diags.has_errors());
        assert!(format!("{diags:?}").contains("subnet-a is in us-east-1a"));
    }

    #[test]
    fn a_cross_region_subnet_in_a_zone_without_it_is_an_error_naming_the_zone() {
        let mut in_az3 = subnet("subnet-e", "vpc-1", "us-east-1e");
        in_az3.availability_zone_id = "use1-az3".into();
        let mut in_az6 = subnet("subnet-a", "vpc-1", "us-east-1a");
        in_az6.availability_zone_id = "use1-az6".into();
        let mut diags = Diagnostics::default();
        check_cross_region_zones(&[in_az6.clone()], "us-west-2", &mut diags);
        assert!(!diags.has_errors());
        check_cross_region_zones(&[in_az6, in_az3], "us-west-2", &mut diags);
        assert!(diags.has_errors());
        let text = format!("{diags:?}");
        assert!(
            text.contains("subnet-e is in us-east-1e (use1-az3)"),
            "{text}"
        );
    }

    fn subnet(id: &str, vpc: &str, zone: &str) -> Subnet {
        Subnet {
            id: id.into(),
            vpc_id: vpc.into(),
            availability_zone: zone.into(),
            availability_zone_id: String::new(),
            cidr_block: String::new(),
            ipv6_cidr_blocks: vec![],
        }
    }

    #[test]
    fn a_subnet_of_another_vpc_is_named_once_and_not_counted_in_its_zone() {
        let m = Model {
            vpc_id: "vpc-1".into(),
            ..Model::default()
        };
        let mut diags = Diagnostics::new();
        let subnets = [
            subnet("subnet-a", "vpc-1", "us-east-1a"),
            subnet("subnet-b", "vpc-2", "us-east-1a"),
        ];
        check_subnets(&m, &subnets, None, &mut diags);
        let text = format!("{diags:?}");
        assert!(text.contains("Subnet of another VPC"), "{text}");
        assert!(!text.contains("one availability zone"), "{text}");
    }

    #[test]
    fn private_dns_needs_a_verified_name() {
        let service = |names: &[&str], state: Option<&str>| EndpointService {
            name: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0".into(),
            owner: None,
            availability_zones: vec![],
            availability_zone_ids: vec![],
            base_endpoint_dns_names: vec![],
            private_dns_names: names.iter().map(|n| n.to_string()).collect(),
            acceptance_required: false,
            private_dns_name_state: state.map(str::to_owned),
            service_region: None,
            supported_ip_address_types: vec![],
        };
        assert!(private_dns_unavailable(&service(&["db.example.com"], Some("verified"))).is_none());
        assert!(private_dns_unavailable(&service(&["db.example.com"], None)).is_none());
        let none = private_dns_unavailable(&service(&[], None)).unwrap();
        assert!(none.contains("no private DNS name"), "{none}");
        let pending =
            private_dns_unavailable(&service(&["db.example.com"], Some("pendingVerification")))
                .unwrap();
        assert!(
            pending.contains("pendingVerification, not verified"),
            "{pending}"
        );
    }

    #[test]
    fn an_endpoint_found_at_plan_is_named_with_how_to_adopt_or_delete_it() {
        let e = found(&[(CREATE_TOKEN_TAG, "tf-planetscale-1"), ("stage", "one")]);
        let (summary, detail) = existing_endpoint_text(&e, true, "us-east-1");
        assert_eq!(
            summary,
            "An endpoint to this service already exists in the VPC"
        );
        assert!(
            detail.starts_with(
                "vpce-0123456789abcdef0 (pendingAcceptance) already connects vpc-1 to \
                 com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0. This provider made it"
            ),
            "{detail}"
        );
        assert!(detail.contains("conflicting DNS domain"), "{detail}");
        assert!(
            detail.contains(
                "  import {\n    to = planetscale_privatelink_endpoint.<name>\n    id = \"vpce-0123456789abcdef0\"\n  }\n"
            ),
            "{detail}"
        );
        assert!(
            detail.ends_with(
                "  aws ec2 delete-vpc-endpoints --vpc-endpoint-ids vpce-0123456789abcdef0 --region us-east-1"
            ),
            "{detail}"
        );

        let (summary, detail) = existing_endpoint_text(&found(&[]), false, "eu-west-1");
        assert!(summary.starts_with("Another endpoint"), "{summary}");
        assert!(detail.contains("This provider did not make it"), "{detail}");
        assert!(detail.contains("can be applied"), "{detail}");
        assert!(detail.ends_with("--region eu-west-1"), "{detail}");
    }

    #[test]
    fn an_update_checks_what_it_changes() {
        let changes = |f: fn(&mut EndpointChanges)| {
            let mut c = EndpointChanges::default();
            f(&mut c);
            Checks::of_changes(&c)
        };
        assert!(!changes(|_| {}).any());
        let c = changes(|c| c.remove_subnet_ids = vec!["subnet-a".into()]);
        assert!(c.subnets && !c.service && !c.dns && !c.groups);
        let c = changes(|c| c.remove_security_group_ids = vec!["sg-a".into()]);
        assert!(!c.any(), "removing a group needs no check");
        let c = changes(|c| c.add_security_group_ids = vec!["sg-a".into()]);
        assert!(c.groups && !c.subnets);
        assert!(changes(|c| c.private_dns_enabled = Some(true)).dns);
        assert!(!changes(|c| c.private_dns_enabled = Some(false)).any());
    }
}
