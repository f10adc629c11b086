//! The `planetscale` provider: its configuration block, how that becomes
//! one shared set of AWS clients, and the registry of resources and data
//! sources.
//!
//! The AWS arguments mean what they mean in the hashicorp/aws provider, so a
//! configuration can be copied across; everything else comes from the
//! standard AWS environment through aws-config. The provider never assumes
//! an emulator: one is reached only through `endpoints` or
//! `AWS_ENDPOINT_URL*`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::{ProvideRegion, RegionProviderChain};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::env_config::file::{
    EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
};
use aws_types::region::Region;

use crate::aws::Ec2;
use crate::aws::retry_policy::{BadSetting, RetryPolicy, RetrySources};
use crate::framework::diag::Diagnostics;
use crate::framework::model::Attrs;
use crate::framework::path::AttributePath;
use crate::framework::schema::{Attribute, Block, NestedBlock, Schema};
use crate::framework::server::{DataSource, Provider, Resource};
use crate::framework::types::Type;
use crate::framework::value::Value;

/// The provider's source address: examples, docs and releases use this one.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/privatelink/planetscale";
pub const DEFAULT_API_URL: &str = "https://api.planetscale.com/v1";

/// What every resource and data source shares after ConfigureProvider.
pub struct Clients {
    pub ec2: Ec2,
    pub region: String,
    pub partition: &'static str,
    pub account_id: Option<String>,
    pub default_tags: BTreeMap<String, String>,
    pub ignore_tags: IgnoreTags,
    pub planetscale: PlanetScaleSettings,
}

impl Clients {
    /// Clients for unit tests: us-east-1, no account, no tags, and an EC2
    /// client that is never called.
    #[cfg(test)]
    pub fn for_tests() -> Clients {
        let config = aws_sdk_ec2::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        Clients {
            ec2: Ec2::new(aws_sdk_ec2::Client::from_conf(config)),
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

#[derive(Default)]
pub struct PlanetScale;

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

fn root(name: &str) -> AttributePath {
    AttributePath::root().attr(name)
}

#[async_trait]
impl Provider for PlanetScale {
    type Data = Clients;

    fn schema(&self) -> Schema {
        let set = || Type::Set(Box::new(Type::String));
        Schema::new(
            Block::new(
                "Connects AWS VPCs to PlanetScale for Postgres over AWS PrivateLink. The AWS \
                 arguments have the names and meaning they have in the `hashicorp/aws` provider; \
                 each is optional and falls back to the standard AWS environment \
                 (`AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, web identity, SSO, instance \
                 metadata...).",
            )
            .attribute(Attribute::string("region").describe(
                "AWS region of the VPC and of the PlanetScale database branch, e.g. `us-east-1`. \
                 Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, or the profile's region.",
            ))
            .attribute(Attribute::string("profile").describe("Named profile of the AWS shared configuration files."))
            .attribute(Attribute::string_list("shared_config_files").describe(
                "Paths of AWS shared config files. Default: `~/.aws/config` (or `AWS_CONFIG_FILE`).",
            ))
            .attribute(Attribute::string_list("shared_credentials_files").describe(
                "Paths of AWS shared credentials files. Default: `~/.aws/credentials` (or \
                 `AWS_SHARED_CREDENTIALS_FILE`).",
            ))
            .attribute(Attribute::string("access_key").sensitive().describe(
                "AWS access key id. Prefer the environment or a profile over writing it here.",
            ))
            .attribute(Attribute::string("secret_key").sensitive().describe("AWS secret access key; goes with `access_key`."))
            .attribute(Attribute::string("token").sensitive().describe("AWS session token for temporary credentials."))
            .attribute(Attribute::number("max_retries").describe(
                "How many times an AWS call is retried on throttling, server errors and lost \
                 answers, with exponential backoff. Default: `AWS_MAX_ATTEMPTS` less one, the \
                 profile's `max_attempts` less one, or 25, as in the AWS provider.",
            ))
            .attribute(Attribute::string("retry_mode").describe(
                "How the AWS SDK retries: `standard` or `adaptive` (a client-side rate limiter the \
                 AWS SDKs call experimental). Default: `AWS_RETRY_MODE`, the profile's \
                 `retry_mode`, or `standard`.",
            ))
            .attribute(Attribute::number("token_bucket_rate_limiter_capacity").describe(
                "Capacity of the AWS SDK's retry quota, in tokens (each retry takes 5). Once it is \
                 spent, calls fail at their first throttling error. Default: no quota; `max_retries` \
                 still bounds each call.",
            ))
            .attribute(Attribute::new("allowed_account_ids", set()).describe(
                "Refuse to run against any AWS account not listed. Conflicts with \
                 `forbidden_account_ids`.",
            ))
            .attribute(Attribute::new("forbidden_account_ids", set()).describe("Refuse to run against any AWS account listed."))
            .attribute(Attribute::bool("skip_credentials_validation").describe(
                "Do not check the credentials with STS GetCallerIdentity at configuration.",
            ))
            .attribute(Attribute::bool("skip_requesting_account_id").describe(
                "Do not look up the AWS account id. ARNs are then built from the owner id AWS \
                 returns with each resource.",
            ))
            .attribute(Attribute::bool("skip_metadata_api_check").describe(
                "Never ask the EC2 instance metadata service for credentials or region. \
                 `AWS_EC2_METADATA_DISABLED=true` does the same.",
            ))
            .attribute(Attribute::string("custom_ca_bundle").describe(
                "Path of a PEM bundle of certificate authorities to trust for AWS endpoints \
                 (added to the system's). Default: `AWS_CA_BUNDLE`.",
            ))
            .attribute(Attribute::string("http_proxy").describe(
                "URL of a proxy for AWS calls. Default: `HTTPS_PROXY` / `HTTP_PROXY`, honouring \
                 `NO_PROXY`.",
            ))
            .attribute(Attribute::string("service_token_id").describe(
                "PlanetScale service token id, for looking a branch's Private Service Name up by \
                 organization, database and branch. Default: `PLANETSCALE_SERVICE_TOKEN_ID`.",
            ))
            .attribute(Attribute::string("service_token").sensitive().describe(
                "PlanetScale service token. Default: `PLANETSCALE_SERVICE_TOKEN`.",
            ))
            .attribute(Attribute::string("api_url").describe(format!(
                "PlanetScale API base URL. Default: `{DEFAULT_API_URL}`.",
            )))
            .block(NestedBlock::single(
                "assume_role",
                Block::new("Assume this IAM role, with the credentials found otherwise as the source.")
                    .attribute(Attribute::string("role_arn").describe("ARN of the role to assume."))
                    .attribute(Attribute::string("session_name").describe("Session name for the assumed role."))
                    .attribute(Attribute::string("external_id").describe("External id the role's trust policy asks for."))
                    .attribute(Attribute::string("duration").describe(
                        "How long the role's credentials last, such as `1h`. Default: `1h`.",
                    )),
            ))
            .block(NestedBlock::single(
                "endpoints",
                Block::new("Custom service endpoints, for VPC endpoints to AWS APIs, proxies or emulators.")
                    .attribute(Attribute::string("ec2").describe("EC2 endpoint URL."))
                    .attribute(Attribute::string("sts").describe("STS endpoint URL.")),
            ))
            .block(NestedBlock::single(
                "default_tags",
                Block::new("Tags added to every resource of this provider that takes tags.")
                    .attribute(Attribute::string_map("tags").describe("The tags.")),
            ))
            .block(NestedBlock::single(
                "ignore_tags",
                Block::new("Tags this provider never manages, such as tags set by other tooling.")
                    .attribute(Attribute::new("keys", set()).describe("Exact tag keys to ignore."))
                    .attribute(Attribute::new("key_prefixes", set()).describe("Tag key prefixes to ignore.")),
            )),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let c = Attrs::of(config);
        if let Some(region) = c.str("region")
            && !is_region(region)
        {
            diags.attr_error(
                root("region"),
                "Invalid AWS region",
                format!("{region:?} is not an AWS region name. Write it like \"us-east-1\"."),
            );
        }
        if c.string("access_key").is_some() != c.string("secret_key").is_some()
            && !c.is_unknown("access_key")
            && !c.is_unknown("secret_key")
        {
            let missing = if c.string("access_key").is_some() {
                "secret_key"
            } else {
                "access_key"
            };
            diags.attr_error(
                root(missing),
                "Incomplete static credentials",
                "access_key and secret_key go together: set both, or neither and let the AWS \
                 environment provide credentials.",
            );
        }
        if let Some(n) = c.number("max_retries")
            && n.as_i64().is_none_or(|n| !(0..=100).contains(&n))
        {
            diags.attr_error(
                root("max_retries"),
                "Invalid max_retries",
                format!("{n} is not a whole number from 0 to 100."),
            );
        }
        if let Some(m) = c.str("retry_mode")
            && !matches!(m, "standard" | "adaptive")
        {
            diags.attr_error(
                root("retry_mode"),
                "Invalid retry_mode",
                format!(
                    "{m:?} is not a retry mode. Write \"standard\" (the default) or \"adaptive\"."
                ),
            );
        }
        if let Some(n) = c.number("token_bucket_rate_limiter_capacity")
            && n.as_i64().is_none_or(|n| n < 0)
        {
            diags.attr_error(
                root("token_bucket_rate_limiter_capacity"),
                "Invalid token_bucket_rate_limiter_capacity",
                format!("{n} is not a whole number of tokens, 0 or more."),
            );
        }
        if c.strings("allowed_account_ids")
            .is_some_and(|v| !v.is_empty())
            && c.strings("forbidden_account_ids")
                .is_some_and(|v| !v.is_empty())
        {
            diags.attr_error(
                root("forbidden_account_ids"),
                "Conflicting account restrictions",
                "Set allowed_account_ids or forbidden_account_ids, not both.",
            );
        }
        let assume = c.object("assume_role");
        if let Some(d) = assume.str("duration")
            && let Err(why) = crate::framework::timeouts::parse_duration(d)
        {
            diags.attr_error(
                root("assume_role").attr("duration"),
                "Invalid duration",
                format!("{d:?} is not a duration ({why}). Write it like \"1h\" or \"15m\"."),
            );
        }
        if let Some(url) = c.str("api_url")
            && let Err(why) = crate::planetscale::check_api_url(url)
        {
            diags.attr_error(root("api_url"), "Invalid PlanetScale API URL", why);
        }
        for name in ["ec2", "sts"] {
            if let Some(url) = c.object("endpoints").str(name)
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                diags.attr_error(
                    root("endpoints").attr(name),
                    "Invalid endpoint URL",
                    format!("{url:?} must be a URL starting with https:// (or http://)."),
                );
            }
        }
    }

    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<Clients> {
        if !config.is_fully_known() {
            diags.error(
                "Provider configuration depends on values not yet known",
                "An argument of the planetscale provider block refers to a value only known \
                 after apply. Use values known at plan time (variables, locals, data sources).",
            );
            return None;
        }
        self.validate(config, diags);
        if diags.has_errors() {
            return None;
        }
        let c = Attrs::of(config);
        for secret in ["access_key", "secret_key", "token", "service_token"] {
            if let Some(s) = c.str(secret) {
                crate::logging::register_secret(s);
            }
        }
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "PLANETSCALE_SERVICE_TOKEN",
        ] {
            if let Ok(s) = std::env::var(var) {
                crate::logging::register_secret(&s);
            }
        }
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let skip_imds = c.bool("skip_metadata_api_check").unwrap_or(false)
            || env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));

        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        let profile = c.string("profile");
        let profile_files = profile_files(&c);
        if let Some(files) = &profile_files {
            loader = loader.profile_files(files.clone());
        }
        if let Some(p) = &profile {
            loader = loader.profile_name(p);
        }
        if let Some(region) = c.string("region") {
            loader = loader.region(Region::new(region));
        } else if skip_imds {
            loader = loader.region(region_chain_without_imds(
                profile.as_deref(),
                profile_files.clone(),
            ));
        }
        if let (Some(ak), Some(sk)) = (c.string("access_key"), c.string("secret_key")) {
            let creds = Credentials::new(ak, sk, c.string("token"), None, "planetscale-provider");
            loader = loader.credentials_provider(creds);
        } else if skip_imds {
            loader = loader.credentials_provider(credentials_chain_without_imds(
                profile.as_deref(),
                profile_files.clone(),
            ));
        }
        let retry = match retry_policy(&c, profile.as_deref(), profile_files.as_ref()).await {
            Ok(policy) => policy,
            Err(bad) => {
                let summary = "Invalid retry setting";
                match bad.attribute {
                    Some(attr) => diags.attr_error(root(attr), summary, bad.message),
                    None => diags.error(summary, bad.message),
                }
                return None;
            }
        };
        loader = loader.retry_config(retry.retry_config());
        match http_client(&c, diags) {
            Some(client) => loader = loader.http_client(client),
            None if diags.has_errors() => return None,
            None => {}
        }

        let sdk_config = loader.load().await;
        let Some(region) = sdk_config.region().map(|r| r.to_string()) else {
            diags.attr_error(
                root("region"),
                "No AWS region",
                "The provider could not find which AWS region to use. Set `region` in the \
                 provider \"planetscale\" block, or AWS_REGION in the environment, or a region in \
                 the AWS profile. It must be the region of the PlanetScale database branch.",
            );
            return None;
        };

        let mut sdk_config = sdk_config;
        let assume = c.object("assume_role");
        if let Some(role_arn) = assume.string("role_arn") {
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name(
                    assume
                        .string("session_name")
                        .unwrap_or_else(|| "terraform-provider-planetscale".into()),
                )
                .configure(&sts_sdk_config(&sdk_config, &c));
            if let Some(id) = assume.string("external_id") {
                builder = builder.external_id(id);
            }
            if let Some(d) = assume
                .str("duration")
                .and_then(|d| crate::framework::timeouts::parse_duration(d).ok())
            {
                builder = builder.session_length(d);
            }
            let provider = builder.build().await;
            sdk_config = sdk_config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }

        let mut ec2_config =
            aws_sdk_ec2::config::Builder::from(&sdk_config).retry_partition(retry.partition());
        if let Some(url) = c.object("endpoints").string("ec2") {
            ec2_config = ec2_config.endpoint_url(url);
        }
        let ec2 = Ec2::new(aws_sdk_ec2::Client::from_conf(ec2_config.build()));

        let allowed = c.strings("allowed_account_ids").unwrap_or_default();
        let forbidden = c.strings("forbidden_account_ids").unwrap_or_default();
        let need_identity = !allowed.is_empty()
            || !forbidden.is_empty()
            || !c.bool("skip_credentials_validation").unwrap_or(false)
            || !c.bool("skip_requesting_account_id").unwrap_or(false);
        let mut account_id = None;
        if need_identity {
            let sts = aws_sdk_sts::Client::from_conf(sts_config(&sdk_config, &c));
            match sts.get_caller_identity().send().await {
                Ok(identity) => account_id = identity.account().map(str::to_owned),
                Err(e) => {
                    let message = crate::aws::error_message(&e);
                    diags.error(
                        "AWS credentials could not be validated",
                        format!(
                            "STS GetCallerIdentity failed: {message}. Check the credentials \
                             (environment, profile, access_key/secret_key or assume_role), or \
                             set skip_credentials_validation = true where STS is unreachable."
                        ),
                    );
                    return None;
                }
            }
        }
        if let Some(account) = &account_id {
            if !allowed.is_empty() && !allowed.contains(account) {
                diags.attr_error(
                    root("allowed_account_ids"),
                    "AWS account not allowed",
                    format!("The credentials belong to account {account}, which allowed_account_ids does not list."),
                );
                return None;
            }
            if forbidden.contains(account) {
                diags.attr_error(
                    root("forbidden_account_ids"),
                    "AWS account forbidden",
                    format!("The credentials belong to account {account}, which forbidden_account_ids lists."),
                );
                return None;
            }
        }

        let default_tags = c
            .object("default_tags")
            .string_map("tags")
            .unwrap_or_default();
        let ignore = c.object("ignore_tags");
        let ignore_tags = IgnoreTags {
            keys: ignore.strings("keys").unwrap_or_default(),
            key_prefixes: ignore.strings("key_prefixes").unwrap_or_default(),
        };
        let planetscale = PlanetScaleSettings {
            api_url: c
                .string("api_url")
                .unwrap_or_else(|| DEFAULT_API_URL.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            service_token_id: c
                .string("service_token_id")
                .or_else(|| env("PLANETSCALE_SERVICE_TOKEN_ID")),
            service_token: c
                .string("service_token")
                .or_else(|| env("PLANETSCALE_SERVICE_TOKEN")),
        };
        if let Some(token) = &planetscale.service_token {
            crate::logging::register_secret(token);
        }
        tracing::debug!(%region, account = account_id.as_deref().unwrap_or("-"), "provider configured");
        Some(Clients {
            ec2,
            partition: partition_of(&region),
            region,
            account_id,
            default_tags,
            ignore_tags,
            planetscale,
        })
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Clients>>> {
        crate::resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Clients>>> {
        crate::data_sources::all()
    }
}

/// The retry policy from the provider block, the environment and the
/// profile (see [`crate::aws::retry_policy`]).
async fn retry_policy(
    c: &Attrs<'_>,
    profile: Option<&str>,
    files: Option<&ProfileFiles>,
) -> Result<RetryPolicy, BadSetting> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (env_mode, env_attempts) = (env("AWS_RETRY_MODE"), env("AWS_MAX_ATTEMPTS"));
    let (mut profile_mode, mut profile_attempts) = (None, None);
    let decided = (c.str("retry_mode").is_some() || env_mode.is_some())
        && (c.number("max_retries").is_some() || env_attempts.is_some());
    if !decided {
        let default_files = ProfileFiles::default();
        let loaded = aws_config::profile::load(
            &aws_types::os_shim_internal::Fs::real(),
            &aws_types::os_shim_internal::Env::real(),
            files.unwrap_or(&default_files),
            profile.map(|p| std::borrow::Cow::Owned(p.to_owned())),
        )
        .await;
        if let Ok(set) = loaded
            && let Some(p) = set.get_profile(set.selected_profile())
        {
            profile_mode = p.get("retry_mode").map(str::to_owned);
            profile_attempts = p.get("max_attempts").map(str::to_owned);
        }
    }
    RetryPolicy::resolve(&RetrySources {
        retry_mode: c.str("retry_mode"),
        max_retries: c.number("max_retries").and_then(|n| n.as_i64()),
        quota: c
            .number("token_bucket_rate_limiter_capacity")
            .and_then(|n| n.as_i64()),
        env_mode: env_mode.as_deref(),
        env_max_attempts: env_attempts.as_deref(),
        profile_mode: profile_mode.as_deref(),
        profile_max_attempts: profile_attempts.as_deref(),
    })
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`...
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

fn profile_files(c: &Attrs<'_>) -> Option<ProfileFiles> {
    let config = c.strings("shared_config_files").unwrap_or_default();
    let credentials = c.strings("shared_credentials_files").unwrap_or_default();
    if config.is_empty() && credentials.is_empty() {
        return None;
    }
    let mut builder = ProfileFiles::builder();
    if config.is_empty() {
        builder = builder.include_default_config_file(true);
    }
    if credentials.is_empty() {
        builder = builder.include_default_credentials_file(true);
    }
    for path in config {
        builder = builder.with_file(ProfileFileKind::Config, expand_home(&path));
    }
    for path in credentials {
        builder = builder.with_file(ProfileFileKind::Credentials, expand_home(&path));
    }
    Some(builder.build())
}

fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_owned(),
    }
}

fn region_chain_without_imds(
    profile: Option<&str>,
    files: Option<ProfileFiles>,
) -> impl ProvideRegion + 'static {
    let mut from_profile = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = profile {
        from_profile = from_profile.profile_name(p);
    }
    if let Some(f) = files {
        from_profile = from_profile.profile_files(f);
    }
    RegionProviderChain::first_try(
        aws_config::environment::EnvironmentVariableRegionProvider::new(),
    )
    .or_else(from_profile.build())
}

fn credentials_chain_without_imds(
    profile: Option<&str>,
    files: Option<ProfileFiles>,
) -> CredentialsProviderChain {
    let mut from_profile = aws_config::profile::ProfileFileCredentialsProvider::builder();
    if let Some(p) = profile {
        from_profile = from_profile.profile_name(p);
    }
    if let Some(f) = files {
        from_profile = from_profile.profile_files(f);
    }
    CredentialsProviderChain::first_try(
        "Environment",
        aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
    )
    .or_else("Profile", from_profile.build())
    .or_else(
        "WebIdentityToken",
        aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder().build(),
    )
    .or_else(
        "EcsContainer",
        aws_config::ecs::EcsCredentialsProvider::builder().build(),
    )
}

/// The shared configuration, with STS's endpoint where one is set.
fn sts_sdk_config(sdk_config: &aws_types::SdkConfig, c: &Attrs<'_>) -> aws_types::SdkConfig {
    match c.object("endpoints").string("sts") {
        Some(url) => sdk_config.to_builder().endpoint_url(url).build(),
        None => sdk_config.clone(),
    }
}

fn sts_config(sdk_config: &aws_types::SdkConfig, c: &Attrs<'_>) -> aws_sdk_sts::Config {
    let mut sts = aws_sdk_sts::config::Builder::from(sdk_config);
    if let Some(url) = c.object("endpoints").string("sts") {
        sts = sts.endpoint_url(url);
    }
    sts.build()
}

/// The HTTP client for AWS calls: rustls with aws-lc, TCP_NODELAY, the
/// system's trust roots plus `custom_ca_bundle`, and `http_proxy` or the
/// proxy environment.
fn http_client(
    c: &Attrs<'_>,
    diags: &mut Diagnostics,
) -> Option<aws_smithy_runtime_api::client::http::SharedHttpClient> {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, Connector, proxy::ProxyConfig};

    let mut trust = TrustStore::default();
    let bundle_path = c.string("custom_ca_bundle").or_else(|| {
        std::env::var("AWS_CA_BUNDLE")
            .ok()
            .filter(|v| !v.is_empty())
    });
    if let Some(path) = &bundle_path {
        match std::fs::read(expand_home(path)) {
            Ok(pem) => trust = trust.with_pem_certificate(pem),
            Err(e) => {
                diags.attr_error(
                    root("custom_ca_bundle"),
                    "Cannot read the CA bundle",
                    format!("{path}: {e}. Point custom_ca_bundle at a readable PEM file."),
                );
                return None;
            }
        }
    }
    let tls_context = match TlsContext::builder().with_trust_store(trust).build() {
        Ok(ctx) => ctx,
        Err(e) => {
            diags.attr_error(
                root("custom_ca_bundle"),
                "Invalid CA bundle",
                format!("{e}. The file must hold PEM certificates."),
            );
            return None;
        }
    };
    let proxy = match c.string("http_proxy") {
        Some(url) => match ProxyConfig::all(url.as_str()) {
            Ok(p) => p.no_proxy(
                std::env::var("NO_PROXY")
                    .or_else(|_| std::env::var("no_proxy"))
                    .unwrap_or_default(),
            ),
            Err(e) => {
                diags.attr_error(
                    root("http_proxy"),
                    "Invalid proxy URL",
                    format!("{url:?}: {e}."),
                );
                return None;
            }
        },
        None => ProxyConfig::from_env(),
    };
    Some(
        Builder::new().build_with_connector_fn(move |settings, components| {
            let mut builder = Connector::builder()
                .enable_tcp_nodelay(true)
                .proxy_config(proxy.clone());
            if let Some(settings) = settings {
                builder = builder.connector_settings(settings.clone());
            }
            if let Some(sleep) = components.and_then(|rc| rc.sleep_impl()) {
                builder = builder.sleep_impl(sleep);
            }
            builder
                .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                .tls_context(tls_context.clone())
                .build()
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
