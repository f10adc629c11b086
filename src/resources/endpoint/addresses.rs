//! The endpoint's address families and fixed addresses, judged without
//! AWS: the values `ip_address_type` and `dns_record_ip_type` take and how
//! they combine, what each family asks of the subnets and of the service,
//! and whether a fixed address is one EC2 can give an interface in its
//! subnet. Each check returns the sentence the plan shows, naming the fix.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::aws::model::Subnet;

/// CreateVpcEndpoint's IpAddressType (EC2 API reference).
pub const IP_ADDRESS_TYPES: [&str; 3] = ["ipv4", "dualstack", "ipv6"];
/// DnsOptionsSpecification's DnsRecordIpType (EC2 API reference).
pub const DNS_RECORD_IP_TYPES: [&str; 4] = ["ipv4", "dualstack", "ipv6", "service-defined"];

/// Why `value` is not one of `allowed`, if it is not.
pub fn one_of(value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let quoted: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    Err(format!(
        "{value:?} is not one of {}: choose one of them (in lower case).",
        quoted.join(", ")
    ))
}

/// Whether the endpoint uses IPv4 and IPv6: IPv4 alone when the type is left to EC2's
/// default.
pub fn families(ip_address_type: Option<&str>) -> (bool, bool) {
    match ip_address_type.unwrap_or("ipv4") {
        "ipv6" => (false, true),
        "dualstack" => (true, true),
        _ => (true, false),
    }
}

/// Why a DNS record type cannot go with an address type, if it cannot.
/// The PrivateLink guide's table: `ipv4` records need an `ipv4` or
/// `dualstack` endpoint, `ipv6` records an `ipv6` or `dualstack` one, and
/// `dualstack` and `service-defined` records a `dualstack` one.
pub fn dns_record_mismatch(ip_address_type: Option<&str>, record: &str) -> Option<String> {
    let ip = ip_address_type.unwrap_or("ipv4");
    let allowed: &[&str] = match record {
        "ipv4" => &["ipv4", "dualstack"],
        "ipv6" => &["ipv6", "dualstack"],
        "dualstack" | "service-defined" => &["dualstack"],
        _ => return None,
    };
    if allowed.contains(&ip) {
        return None;
    }
    let shown = if ip_address_type.is_some() {
        format!("ip_address_type is \"{ip}\"")
    } else {
        "ip_address_type is not set (EC2 makes the endpoint ipv4)".to_owned()
    };
    Some(format!(
        "dns_record_ip_type = \"{record}\" needs ip_address_type {}, and {shown}. Set ip_address_type = \"{}\", \
         or choose a dns_record_ip_type the endpoint's addresses can answer.",
        allowed
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(" or "),
        allowed[0]
    ))
}

/// Why the subnets cannot hold an endpoint of this address type, one
/// sentence per subnet at fault. The PrivateLink guide: IPv4 needs every
/// subnet to have an IPv4 range, dual stack both ranges, and IPv6 every
/// subnet to be IPv6-only.
pub fn subnets_unfit(ip_address_type: Option<&str>, subnets: &[Subnet]) -> Vec<String> {
    let ip = ip_address_type.unwrap_or("ipv4");
    let mut out = Vec::new();
    for s in subnets {
        let v4 = !s.cidr_block.is_empty();
        let v6 = !s.ipv6_cidr_blocks.is_empty();
        let why = match ip {
            "ipv6" if !v6 => Some("has no IPv6 CIDR block"),
            "ipv6" if v4 => {
                Some("also has an IPv4 CIDR block (an ipv6 endpoint takes IPv6-only subnets)")
            }
            "dualstack" if !v6 => Some("has no IPv6 CIDR block"),
            "dualstack" if !v4 => Some("has no IPv4 CIDR block"),
            "ipv4" if !v4 => Some("has no IPv4 CIDR block"),
            _ => None,
        };
        if let Some(why) = why {
            let fix = match ip {
                "ipv6" => {
                    "Choose IPv6-only subnets, or set ip_address_type = \"dualstack\" for subnets with both \
                     blocks."
                }
                "dualstack" => {
                    "Associate an IPv6 block with the subnet (and the VPC), choose subnets with both blocks, or \
                     set ip_address_type = \"ipv4\"."
                }
                _ => {
                    "Choose subnets with an IPv4 block, or set ip_address_type = \"ipv6\" for IPv6-only subnets."
                }
            };
            out.push(format!(
                "{} {why}, and an endpoint with ip_address_type = \"{ip}\" needs {}. {fix}",
                s.id,
                match ip {
                    "ipv6" => "IPv6-only subnets",
                    "dualstack" => "subnets with both an IPv4 and an IPv6 block",
                    _ => "subnets with an IPv4 block",
                }
            ));
        }
    }
    out
}

/// Why the service cannot take an endpoint of this address type, if it
/// cannot: its SupportedIpAddressTypes must hold each family the endpoint
/// uses (none listed means IPv4 alone).
pub fn service_unfit(ip_address_type: Option<&str>, supported: &[String]) -> Option<String> {
    let (v4, v6) = families(ip_address_type);
    let has = |t: &str| {
        if supported.is_empty() {
            t == "ipv4"
        } else {
            supported.iter().any(|s| s.eq_ignore_ascii_case(t))
        }
    };
    let missing: Vec<&str> = [(v4, "ipv4"), (v6, "ipv6")]
        .into_iter()
        .filter(|(wanted, t)| *wanted && !has(t))
        .map(|(_, t)| t)
        .collect();
    if missing.is_empty() {
        return None;
    }
    let offered = if supported.is_empty() {
        "ipv4".to_owned()
    } else {
        supported.join(", ")
    };
    Some(format!(
        "The service accepts {offered} only, and ip_address_type = \"{}\" needs {}. Choose an ip_address_type \
         the service accepts, or ask PlanetScale support to enable {} for the branch's service.",
        ip_address_type.unwrap_or("ipv4"),
        missing.join(" and "),
        missing.join(" and ")
    ))
}

/// Why `address` cannot be a fixed address of an interface in `subnet`, if
/// it cannot: it must parse, be of the family asked for, lie inside one of
/// the subnet's blocks, and not be one of the five addresses AWS reserves
/// in every subnet block (the first four and the last: Amazon VPC user
/// guide, "Subnet CIDR blocks").
pub fn address_unfit(address: &str, v6: bool, subnet: Option<&Subnet>) -> Option<String> {
    let family = if v6 { "IPv6" } else { "IPv4" };
    let parsed: IpAddr = match address.parse() {
        Ok(a) => a,
        Err(_) => return Some(format!("{address:?} is not an {family} address.")),
    };
    if parsed.is_ipv6() != v6 {
        return Some(format!(
            "{address} is not an {family} address: put it under {}.",
            if v6 { "ipv4" } else { "ipv6" }
        ));
    }
    let subnet = subnet?;
    let blocks: Vec<IpNet> = if v6 {
        subnet
            .ipv6_cidr_blocks
            .iter()
            .filter_map(|b| b.parse().ok())
            .collect()
    } else {
        subnet.cidr_block.parse().ok().into_iter().collect()
    };
    let listed = if v6 {
        subnet.ipv6_cidr_blocks.join(", ")
    } else {
        subnet.cidr_block.clone()
    };
    let Some(block) = blocks.iter().find(|b| b.contains(&parsed)) else {
        return Some(if blocks.is_empty() {
            format!(
                "{} has no {family} block, so it cannot give {address}.",
                subnet.id
            )
        } else {
            format!(
                "{address} is outside {} ({listed}): choose an address inside the subnet's block.",
                subnet.id
            )
        });
    };
    let offset = offset_in(block, parsed);
    let last = offset_in(block, block.broadcast());
    if offset < 4 || offset == last {
        return Some(format!(
            "{address} is one of the five addresses AWS reserves in {block} (the first four and the last): choose \
             another address of {}.",
            subnet.id
        ));
    }
    None
}

/// How far `address` is from the start of `block`.
fn offset_in(block: &IpNet, address: IpAddr) -> u128 {
    match (block.network(), address) {
        (IpAddr::V4(n), IpAddr::V4(a)) => u128::from(u32::from(a) - u32::from(n)),
        (IpAddr::V6(n), IpAddr::V6(a)) => u128::from(a) - u128::from(n),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subnet(id: &str, v4: &str, v6: &[&str]) -> Subnet {
        Subnet {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: String::new(),
            cidr_block: v4.into(),
            ipv6_cidr_blocks: v6.iter().map(|b| b.to_string()).collect(),
        }
    }

    #[test]
    fn values_are_checked_against_the_api_reference() {
        for ok in IP_ADDRESS_TYPES {
            assert!(one_of(ok, &IP_ADDRESS_TYPES).is_ok());
        }
        assert!(one_of("service-defined", &DNS_RECORD_IP_TYPES).is_ok());
        let err = one_of("IPv4", &IP_ADDRESS_TYPES).unwrap_err();
        assert!(err.contains("\"ipv4\", \"dualstack\", \"ipv6\""), "{err}");
    }

    #[test]
    fn dns_records_need_their_address_family() {
        // (ip_address_type, dns_record_ip_type, allowed)
        let table = [
            (Some("ipv4"), "ipv4", true),
            (None, "ipv4", true),
            (Some("dualstack"), "ipv4", true),
            (Some("ipv6"), "ipv4", false),
            (Some("ipv6"), "ipv6", true),
            (Some("dualstack"), "ipv6", true),
            (Some("ipv4"), "ipv6", false),
            (None, "ipv6", false),
            (Some("dualstack"), "dualstack", true),
            (Some("ipv4"), "dualstack", false),
            (Some("dualstack"), "service-defined", true),
            (Some("ipv6"), "service-defined", false),
        ];
        for (ip, record, allowed) in table {
            let why = dns_record_mismatch(ip, record);
            assert_eq!(why.is_none(), allowed, "{ip:?} {record}: {why:?}");
            if let Some(why) = why {
                assert!(why.contains("Set ip_address_type"), "{why}");
            }
        }
    }

    #[test]
    fn subnets_must_have_the_blocks_of_the_address_type() {
        let v4 = subnet("subnet-4", "10.0.0.0/24", &[]);
        let both = subnet("subnet-b", "10.0.1.0/24", &["2600:1f18::/64"]);
        let v6 = subnet("subnet-6", "", &["2600:1f18:0:1::/64"]);
        // (type, subnet, fit)
        let table = [
            (None, &v4, true),
            (Some("ipv4"), &both, true),
            (Some("ipv4"), &v6, false),
            (Some("dualstack"), &both, true),
            (Some("dualstack"), &v4, false),
            (Some("dualstack"), &v6, false),
            (Some("ipv6"), &v6, true),
            (Some("ipv6"), &v4, false),
            (Some("ipv6"), &both, false),
        ];
        for (ip, s, fit) in table {
            let why = subnets_unfit(ip, std::slice::from_ref(s));
            assert_eq!(why.is_empty(), fit, "{ip:?} {}: {why:?}", s.id);
            for w in why {
                assert!(w.starts_with(&s.id), "{w}");
            }
        }
    }

    #[test]
    fn the_service_must_accept_each_family() {
        let types = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(service_unfit(None, &[]).is_none());
        assert!(service_unfit(Some("ipv6"), &[]).is_some());
        assert!(service_unfit(Some("dualstack"), &types(&["ipv4"])).is_some());
        assert!(service_unfit(Some("dualstack"), &types(&["ipv4", "ipv6"])).is_none());
        assert!(service_unfit(Some("ipv6"), &types(&["ipv6"])).is_none());
        let why = service_unfit(Some("ipv4"), &types(&["ipv6"])).unwrap();
        assert!(why.contains("accepts ipv6 only"), "{why}");
    }

    #[test]
    fn fixed_addresses_lie_inside_the_subnet_and_off_the_reserved_five() {
        let s = subnet("subnet-a", "10.0.1.0/24", &["2600:1f18:0:1::/64"]);
        // (address, ipv6, fit, words)
        let table = [
            ("10.0.1.10", false, true, ""),
            ("10.0.1.4", false, true, ""),
            ("10.0.1.3", false, false, "reserves"),
            ("10.0.1.0", false, false, "reserves"),
            ("10.0.1.255", false, false, "reserves"),
            ("10.0.2.10", false, false, "outside subnet-a"),
            ("10.0.1", false, false, "not an IPv4"),
            ("2600:1f18:0:1::10", false, false, "put it under ipv6"),
            ("2600:1f18:0:1::10", true, true, ""),
            ("2600:1f18:0:1::2", true, false, "reserves"),
            ("2600:1f18:0:1:ffff:ffff:ffff:ffff", true, false, "reserves"),
            ("2600:1f18:0:2::10", true, false, "outside"),
        ];
        for (address, v6, fit, words) in table {
            let why = address_unfit(address, v6, Some(&s));
            assert_eq!(why.is_none(), fit, "{address}: {why:?}");
            if let Some(why) = why {
                assert!(why.contains(words), "{address}: {why}");
            }
        }
        let v4_only = subnet("subnet-4", "10.0.0.0/24", &[]);
        let why = address_unfit("2600:1f18::10", true, Some(&v4_only)).unwrap();
        assert!(why.contains("has no IPv6 block"), "{why}");
        assert!(address_unfit("10.9.9.9", false, None).is_none());
    }
}
