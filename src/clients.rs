//! What every resource and data source shares once the provider is
//! configured: the EC2 and Route 53 clients, the region and account, tag settings and the
//! PlanetScale API settings. Low in the layers: resources, data sources and
//! the provider point down to it; it points only to `aws`.

use std::collections::BTreeMap;

use crate::aws::{Ec2, Route53};

/// What every resource and data source shares after ConfigureProvider.
pub struct Clients {
    pub ec2: Ec2,
    pub route53: Route53,
    pub region: String,
    pub partition: &'static str,
    pub account_id: Option<String>,
    pub default_tags: BTreeMap<String, String>,
    pub ignore_tags: IgnoreTags,
    pub planetscale: PlanetScaleSettings,
}

impl Clients {
    /// Clients for unit tests: us-east-1, no account, no tags, and EC2 and
    /// Route 53 clients that are never called.
    #[cfg(test)]
    pub fn for_tests() -> Clients {
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
            .region(aws_sdk_ec2::config::Region::new("us-east-1"))
            .build();
        Clients {
            ec2: Ec2::new(aws_sdk_ec2::Client::from_conf(config)),
            route53: Route53::new(aws_sdk_route53::Client::from_conf(
                aws_sdk_route53::Config::builder()
                    .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
                    .region(aws_sdk_route53::config::Region::new("us-east-1"))
                    .build(),
            )),
            region: "us-east-1".into(),
            partition: "aws",
            account_id: None,
            default_tags: BTreeMap::new(),
            ignore_tags: IgnoreTags::default(),
            planetscale: PlanetScaleSettings::default(),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct IgnoreTags {
    pub keys: Vec<String>,
    pub key_prefixes: Vec<String>,
}

impl IgnoreTags {
    pub fn ignores(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
            || self
                .key_prefixes
                .iter()
                .any(|p| key.starts_with(p.as_str()))
    }
}

#[derive(Clone, Default)]
pub struct PlanetScaleSettings {
    pub api_url: String,
    pub service_token_id: Option<String>,
    pub service_token: Option<String>,
}
