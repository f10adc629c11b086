//! The domain facts of PrivateLink to PlanetScale that every layer above
//! shares: the provider's address, PlanetScale's API and ports, the grammar
//! of a Private Service Name and its region, AWS regions and partitions, and
//! the sentences that explain what AWS answers. Pure: no I/O, no SDK.

/// The provider's source address: examples, docs and releases use this one.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/privatelink/planetscale";
pub const DEFAULT_API_URL: &str = "https://api.planetscale.com/v1";

/// PostgreSQL (5432) and PSBouncer (6432), the ports PlanetScale serves
/// over PrivateLink.
pub const DEFAULT_PORTS: [u16; 2] = [5432, 6432];

/// `com.amazonaws.vpce.<region>.vpce-svc-<8 to 17 hex digits>`; returns the region.
pub fn service_name_region(name: &str) -> Result<&str, String> {
    let fail = || {
        format!(
            "{name:?} is not a PrivateLink service name. It looks like \
             \"com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0\": copy the Private Service Name from the \
             PlanetScale dashboard (database, Settings, Roles, any role of the branch)."
        )
    };
    let rest = name.strip_prefix("com.amazonaws.vpce.").ok_or_else(fail)?;
    let (region, id) = rest.split_once('.').ok_or_else(fail)?;
    let hex = id.strip_prefix("vpce-svc-").ok_or_else(fail)?;
    let hex_ok = (8..=17).contains(&hex.len())
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_ok || !is_region(region) {
        return Err(fail());
    }
    Ok(region)
}

/// Why a service the provider's region does not know cannot be used, and
/// what to do about it.
pub fn service_not_found_detail(name: &str, region: &str) -> String {
    format!(
        "There is no endpoint service {name:?} in {region} that these credentials may use. Copy the Private \
         Service Name again from the PlanetScale dashboard (database, Settings, Roles, any role of the branch), \
         and check that PrivateLink is enabled for the branch and the provider's region is the branch's."
    )
}

/// A service in another region than the provider's, named without
/// `service_region`, and what to do.
pub fn region_mismatch_detail(service_region: &str, provider_region: &str) -> String {
    format!(
        "The service is in {service_region}, but the provider works in {provider_region}. To reach it across \
         regions, set service_region = \"{service_region}\" (AWS PrivateLink's cross-region connectivity: the \
         endpoint stays in {provider_region}, the service in {service_region}); or configure the provider \
         (region) for the database branch's region, {service_region}."
    )
}

/// A `service_region` that is not the region in the service name.
pub fn service_region_mismatch_detail(service_name_region: &str, service_region: &str) -> String {
    format!(
        "service_region is {service_region}, but the service name is of {service_name_region}. Set \
         service_region = \"{service_name_region}\", or leave it out when the service is in the provider's region."
    )
}

/// Why a service of another region cannot be reached from the provider's:
/// EC2 does not answer it to a client of `consumer_region`, which is what
/// it does when the service's owner has not enabled access from there.
pub fn cross_region_unavailable_detail(
    name: &str,
    service_region: &str,
    consumer_region: &str,
) -> String {
    format!(
        "EC2 does not offer {name} of {service_region} to {consumer_region}: PlanetScale (the service's provider) \
         has not enabled cross-region access to it from {consumer_region}, or the service does not exist. Ask \
         PlanetScale support to enable cross-region access from {consumer_region} for the branch (or create the \
         endpoint in {service_region}, with the provider's region set to it), and check the Private Service Name \
         in the dashboard (database, Settings, Roles, any role of the branch)."
    )
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`...
/// Availability zones (by id) where AWS offers no cross-Region
/// PrivateLink: an endpoint to a service of another region cannot have a
/// subnet there. From the PrivateLink guide, "Cross-Region access"
/// (consumers and providers need not use the same zones, except these).
pub const CROSS_REGION_UNSUPPORTED_ZONE_IDS: &[&str] = &[
    "use1-az3",
    "usw1-az2",
    "apne1-az3",
    "apne2-az2",
    "apne2-az4",
];

/// The endpoint an interface endpoint's DNS name belongs to: its first
/// label is the endpoint's id and a suffix (`vpce-0abc...-1x2y3z4w.vpce-svc-...`),
/// or, for a zonal name, the same with the zone after it.
pub fn endpoint_id_of_dns_name(name: &str) -> Option<String> {
    let first = name.split('.').next()?;
    let rest = first.strip_prefix("vpce-")?;
    let id = rest.split('-').next()?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit()) && rest.len() > id.len())
        .then(|| format!("vpce-{}", id.to_ascii_lowercase()))
}

pub fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// The AWS regions at this provider's release, every partition's. A name of
/// a region's shape that is not here is warned of, not refused: it is more
/// often a typo (`us-east-9`) than a region opened since.
pub const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-isoe-west-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
];

/// Why `region`, a region name by its shape, deserves a second look: it is
/// not among [`KNOWN_REGIONS`]. `None` for a known one.
pub fn unknown_region(region: &str) -> Option<String> {
    if KNOWN_REGIONS.contains(&region) {
        return None;
    }
    Some(format!(
        "{region:?} is not an AWS region this provider knows of: check its spelling (regions look like \
         \"us-east-1\", \"eu-central-1\"). A region opened after this provider's release works all the \
         same."
    ))
}

/// The AWS partition a region belongs to, for ARNs: the region prefixes
/// of the AWS SDKs' partition table (`partitions.json`). The more specific
/// prefixes come first, and each ends with its hyphen, so `us-isob-` and
/// `us-isof-` never pass for `us-iso-`, nor `us-gov-` for `us-`.
///
/// | partition | regions | DNS suffix |
/// |---|---|---|
/// | `aws-us-gov` | `us-gov-*` | amazonaws.com |
/// | `aws-iso` | `us-iso-*` | c2s.ic.gov |
/// | `aws-iso-b` | `us-isob-*` | sc2s.sgov.gov |
/// | `aws-iso-e` | `eu-isoe-*` | cloud.adc-e.uk |
/// | `aws-iso-f` | `us-isof-*` | csp.hci.ic.gov |
/// | `aws-cn` | `cn-*` | amazonaws.com.cn |
/// | `aws-eusc` | `eusc-de-*` (European Sovereign Cloud) | amazonaws.eu |
/// | `aws` | `(us\|eu\|ap\|sa\|ca\|me\|af\|il\|mx)-<name>-<n>`, and any region not listed | amazonaws.com |
pub fn partition_of(region: &str) -> &'static str {
    const BY_PREFIX: [(&str, &str); 7] = [
        ("us-gov-", "aws-us-gov"),
        ("us-iso-", "aws-iso"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("eu-isoe-", "aws-iso-e"),
        ("cn-", "aws-cn"),
        ("eusc-de-", "aws-eusc"),
    ];
    BY_PREFIX
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_dns_name_names_its_endpoint() {
        for name in [
            "vpce-0a1b2c3d4e5f60718-abcdefgh.vpce-svc-0123.us-east-1.vpce.amazonaws.com",
            "vpce-0a1b2c3d4e5f60718-abcdefgh-us-east-1a.vpce-svc-0123.us-east-1.vpce.amazonaws.com.",
        ] {
            assert_eq!(
                endpoint_id_of_dns_name(name).as_deref(),
                Some("vpce-0a1b2c3d4e5f60718"),
                "{name}"
            );
        }
        for name in [
            "db.example.com",
            "vpce-svc-0123.us-east-1",
            "vpce-0a1b.example.com",
        ] {
            assert_eq!(endpoint_id_of_dns_name(name), None, "{name}");
        }
    }

    #[test]
    fn service_names_carry_their_region() {
        assert_eq!(
            service_name_region("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"),
            Ok("us-east-1")
        );
        assert_eq!(
            service_name_region("com.amazonaws.vpce.eu-west-2.vpce-svc-a4ced6ef"),
            Ok("eu-west-2")
        );
        for bad in [
            "",
            "vpce-svc-0123456789abcdef0",
            "com.amazonaws.us-east-1.s3",
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123",
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789ABCDEF0",
            "com.amazonaws.vpce.useast1.vpce-svc-0123456789abcdef0",
            "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef01234",
        ] {
            let err = service_name_region(bad).unwrap_err();
            assert!(err.contains("PlanetScale dashboard"), "{bad}: {err}");
        }
    }

    #[test]
    fn regions_are_recognised() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "ap-southeast-5",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us_east_1",
            "us-east-1a",
            "useast1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn partitions_follow_regions() {
        let table = [
            (
                "aws",
                &[
                    "us-east-1",
                    "us-west-2",
                    "eu-central-2",
                    "ap-southeast-5",
                    "sa-east-1",
                    "ca-west-1",
                    "me-central-1",
                    "af-south-1",
                    "il-central-1",
                    "mx-central-1",
                ][..],
            ),
            ("aws-cn", &["cn-north-1", "cn-northwest-1"]),
            ("aws-us-gov", &["us-gov-west-1", "us-gov-east-1"]),
            ("aws-iso", &["us-iso-east-1", "us-iso-west-1"]),
            ("aws-iso-b", &["us-isob-east-1", "us-isob-west-1"]),
            ("aws-iso-e", &["eu-isoe-west-1"]),
            ("aws-iso-f", &["us-isof-south-1", "us-isof-east-1"]),
            ("aws-eusc", &["eusc-de-east-1"]),
        ];
        for (partition, regions) in table {
            for region in regions {
                assert_eq!(partition_of(region), partition, "{region}");
            }
        }
    }
}

/// The PlanetScale products AWS PrivateLink reaches, as PlanetScale's
/// documentation describes them: PlanetScale for Postgres (a Private Service
/// Name per branch) and PlanetScale's Vitess databases (MySQL; one endpoint
/// service per AWS region, listed in the docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Vitess,
}

impl Engine {
    pub const ALL: [Engine; 2] = [Engine::Postgres, Engine::Vitess];

    /// Its name in configurations.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::Vitess => "vitess",
        }
    }

    pub fn parse(text: &str) -> Result<Engine, String> {
        Engine::ALL
            .into_iter()
            .find(|e| e.name() == text)
            .ok_or_else(|| {
                format!(
                    "{text:?} is not a PlanetScale engine. Give \"postgres\" (PlanetScale for Postgres) or \
                     \"vitess\" (PlanetScale's MySQL-compatible Vitess databases)."
                )
            })
    }

    /// The TCP ports its clients connect to over PrivateLink. Postgres:
    /// PostgreSQL and the PSBouncer pooler (PlanetScale's PrivateLink guide
    /// for Postgres). Vitess: MySQL and HTTPS ("Vitess uses TCP ports 443
    /// and 3306", PlanetScale's docs on Managed networking; the Vitess
    /// PrivateLink page tests the connection over HTTPS).
    pub fn ports(self) -> [u16; 2] {
        match self {
            Engine::Postgres => DEFAULT_PORTS,
            Engine::Vitess => [443, 3306],
        }
    }

    /// The engine whose ports these are: a group read from EC2 (an import,
    /// a move) that lets exactly Vitess's ports in is for Vitess.
    pub fn of_ports(ports: &std::collections::BTreeSet<u16>) -> Engine {
        if ports.iter().copied().eq(Engine::Vitess.ports()) {
            Engine::Vitess
        } else {
            Engine::Postgres
        }
    }

    /// The ports in words, for descriptions.
    pub fn ports_in_words(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL (5432) and PSBouncer (6432)",
            Engine::Vitess => "MySQL (3306) and HTTPS (443)",
        }
    }
}

/// PlanetScale's Vitess endpoint services, one per AWS region, as
/// PlanetScale's "Private connections" page for Vitess lists them.
pub const VITESS_SERVICES: &[(&str, &str)] = &[
    (
        "ap-northeast-1",
        "com.amazonaws.vpce.ap-northeast-1.vpce-svc-099c246fa320e54d1",
    ),
    (
        "ap-south-1",
        "com.amazonaws.vpce.ap-south-1.vpce-svc-06556ed2371c5fdd2",
    ),
    (
        "ap-southeast-1",
        "com.amazonaws.vpce.ap-southeast-1.vpce-svc-046d8feae38660302",
    ),
    (
        "ap-southeast-2",
        "com.amazonaws.vpce.ap-southeast-2.vpce-svc-03e5578eeaf446c90",
    ),
    (
        "ca-central-1",
        "com.amazonaws.vpce.ca-central-1.vpce-svc-0617a00ea4e327520",
    ),
    (
        "eu-central-1",
        "com.amazonaws.vpce.eu-central-1.vpce-svc-091260498e58d4dc3",
    ),
    (
        "eu-west-1",
        "com.amazonaws.vpce.eu-west-1.vpce-svc-049577caa775e8648",
    ),
    (
        "eu-west-2",
        "com.amazonaws.vpce.eu-west-2.vpce-svc-0f69e183c9a555f03",
    ),
    (
        "sa-east-1",
        "com.amazonaws.vpce.sa-east-1.vpce-svc-09b11604d399b5c58",
    ),
    (
        "us-east-1",
        "com.amazonaws.vpce.us-east-1.vpce-svc-02fef31be60d3fd35",
    ),
    (
        "us-east-2",
        "com.amazonaws.vpce.us-east-2.vpce-svc-069f88c102c1a7fba",
    ),
    (
        "us-west-2",
        "com.amazonaws.vpce.us-west-2.vpce-svc-0f63a383cb2d41919",
    ),
];

/// The Vitess endpoint service of `region`, or why there is none.
pub fn vitess_service(region: &str) -> Result<&'static str, String> {
    VITESS_SERVICES
        .iter()
        .find(|(r, _)| *r == region)
        .map(|(_, name)| *name)
        .ok_or_else(|| {
            let regions: Vec<&str> = VITESS_SERVICES.iter().map(|(r, _)| *r).collect();
            format!(
                "PlanetScale's documentation lists no PrivateLink endpoint service for Vitess databases in \
                 {region}; it lists {}. Use the one the database is in, or give service_name if PlanetScale \
                 gave you one.",
                regions.join(", ")
            )
        })
}

#[cfg(test)]
mod engine_tests {
    use super::*;

    #[test]
    fn engines_parse_by_name_and_have_their_ports() {
        for e in Engine::ALL {
            assert_eq!(Engine::parse(e.name()), Ok(e));
        }
        assert!(Engine::parse("mysql").unwrap_err().contains("\"vitess\""));
        assert_eq!(Engine::Vitess.ports(), [443, 3306]);
        assert_eq!(Engine::Postgres.ports(), DEFAULT_PORTS);
    }

    #[test]
    fn every_vitess_service_is_a_service_name_of_its_region() {
        for (region, name) in VITESS_SERVICES {
            assert_eq!(service_name_region(name), Ok(*region), "{name}");
            assert_eq!(vitess_service(region), Ok(*name));
        }
        let why = vitess_service("af-south-1").unwrap_err();
        assert!(
            why.contains("us-east-1") && why.contains("af-south-1"),
            "{why}"
        );
    }

    #[test]
    fn a_region_name_not_known_is_flagged_not_refused() {
        assert_eq!(unknown_region("us-east-1"), None);
        assert_eq!(unknown_region("eu-central-2"), None);
        let why = unknown_region("us-east-9").unwrap();
        assert!(
            why.contains("\"us-east-9\"") && why.contains("spelling"),
            "{why}"
        );
        assert!(KNOWN_REGIONS.iter().all(|r| is_region(r)));
        assert!(
            KNOWN_REGIONS.windows(2).all(|w| w[0] < w[1]),
            "sorted, once each"
        );
    }
}
