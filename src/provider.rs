//! The `planetscale` provider: its configuration block, turned into the
//! [`Clients`] every operation shares (the SDK itself is configured in
//! [`crate::aws::config`]), and the registry of resources and data sources.
//!
//! The AWS arguments mean what they mean in the hashicorp/aws provider, so a
//! configuration can be copied across; everything else comes from the
//! standard AWS environment through aws-config. The provider never assumes
//! an emulator: one is reached only through `endpoints` or
//! `AWS_ENDPOINT_URL*`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::aws;
use crate::aws::config::{AssumeRole, AwsSettings, Connected};
use crate::clients::{Clients, IgnoreTags, PlanetScaleSettings};
use crate::framework::diag::Diagnostics;
use crate::framework::model::Attrs;
use crate::framework::path::AttributePath;
use crate::framework::schema::{Attribute, Block, NestedBlock, Schema};
use crate::framework::server::{DataSource, Provider, Resource};
use crate::framework::types::Type;
use crate::framework::value::Value;
use crate::privatelink::{DEFAULT_API_URL, is_region, partition_of};

#[derive(Default)]
pub struct PlanetScale;

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
        let allowed = c.strings("allowed_account_ids").unwrap_or_default();
        let forbidden = c.strings("forbidden_account_ids").unwrap_or_default();
        let endpoints = c.object("endpoints");
        let assume = c.object("assume_role");
        let settings = AwsSettings {
            region: c.string("region"),
            profile: c.string("profile"),
            shared_config_files: c.strings("shared_config_files").unwrap_or_default(),
            shared_credentials_files: c.strings("shared_credentials_files").unwrap_or_default(),
            access_key: c.string("access_key"),
            secret_key: c.string("secret_key"),
            token: c.string("token"),
            assume_role: assume.string("role_arn").map(|role_arn| AssumeRole {
                role_arn,
                session_name: assume.string("session_name"),
                external_id: assume.string("external_id"),
                duration: assume
                    .str("duration")
                    .and_then(|d| crate::framework::timeouts::parse_duration(d).ok()),
            }),
            ec2_endpoint: endpoints.string("ec2"),
            sts_endpoint: endpoints.string("sts"),
            max_retries: c.number("max_retries").and_then(|n| n.as_i64()),
            retry_mode: c.string("retry_mode"),
            retry_quota: c
                .number("token_bucket_rate_limiter_capacity")
                .and_then(|n| n.as_i64()),
            skip_metadata_api_check: c.bool("skip_metadata_api_check").unwrap_or(false),
            custom_ca_bundle: c.string("custom_ca_bundle"),
            http_proxy: c.string("http_proxy"),
            identify: !allowed.is_empty()
                || !forbidden.is_empty()
                || !c.bool("skip_credentials_validation").unwrap_or(false)
                || !c.bool("skip_requesting_account_id").unwrap_or(false),
        };
        let Connected {
            ec2,
            region,
            account_id,
        } = match aws::config::connect(&settings).await {
            Ok(connected) => connected,
            Err(e) => {
                match e.attribute {
                    Some(attr) => diags.attr_error(root(attr), e.summary, e.detail),
                    None => diags.error(e.summary, e.detail),
                }
                return None;
            }
        };

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

        let default_tags =
            crate::resources::tags::known(c.object("default_tags").get("tags")).unwrap_or_default();
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
