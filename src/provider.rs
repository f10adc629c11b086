//! The `planetscale` provider: its configuration block, turned into the
//! [`Clients`] every operation shares (the SDK itself is configured in
//! [`crate::aws::config`]), and the registry of resources and data sources.
//!
//! The AWS arguments mean what they mean in the hashicorp/aws provider, so a
//! configuration can be copied across; everything else comes from the
//! standard AWS environment through aws-config. The provider never assumes
//! an emulator: one is reached only through `endpoints` or
//! `AWS_ENDPOINT_URL*`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws;
use crate::aws::config::{
    AssumeRole, AwsSettings, CallTimeouts, Connected, DEFAULT_ATTEMPT_TIMEOUT,
    DEFAULT_OPERATION_TIMEOUT,
};
use crate::clients::{Clients, IgnoreTags, PlanetScaleSettings};
use crate::framework::diag::Diagnostics;
use crate::framework::model::Attrs;
use crate::framework::path::root;
use crate::framework::schema::{Attribute, Block, NestedBlock, Schema};
use crate::framework::server::{DataSource, Provider, Resource};
use crate::framework::timeouts::{format_duration, parse_duration};
use crate::framework::types::Type;
use crate::framework::value::{Number, Value};
use crate::privatelink::{DEFAULT_API_URL, partition_of};

#[derive(Default)]
pub struct PlanetScale;

crate::model! {
    /// The provider block. An absent nested block reads as an empty one.
    pub struct Model, attributes mod attr, sensitive [access_key, secret_key, token, http_proxy, service_token] {
        region: Option<String>,
        profile: Option<String>,
        shared_config_files: Vec<String>,
        shared_credentials_files: Vec<String>,
        access_key: Option<String>,
        secret_key: Option<String>,
        token: Option<String>,
        max_retries: Option<Number>,
        retry_mode: Option<String>,
        token_bucket_rate_limiter_capacity: Option<Number>,
        aws_attempt_timeout: String = format_duration(DEFAULT_ATTEMPT_TIMEOUT),
        aws_operation_timeout: String = format_duration(DEFAULT_OPERATION_TIMEOUT),
        allowed_account_ids: BTreeSet<String>,
        forbidden_account_ids: BTreeSet<String>,
        skip_credentials_validation: bool,
        skip_requesting_account_id: bool,
        skip_metadata_api_check: bool,
        custom_ca_bundle: Option<String>,
        http_proxy: Option<String>,
        service_token_id: Option<String>,
        service_token: Option<String>,
        api_url: String = DEFAULT_API_URL.to_owned(),
        assume_role: AssumeRoleModel,
        endpoints: EndpointsModel,
        default_tags: DefaultTagsModel,
        ignore_tags: IgnoreTagsModel,
    }
}

crate::model! {
    /// `assume_role`: no role is assumed without `role_arn`.
    pub struct AssumeRoleModel, attributes mod assume_role_attr {
        role_arn: Option<String>,
        session_name: Option<String>,
        external_id: Option<String>,
        duration: Option<String>,
    }
}

crate::model! {
    /// `endpoints`: service endpoint URLs.
    pub struct EndpointsModel, attributes mod endpoints_attr {
        ec2: Option<String>,
        sts: Option<String>,
        route53: Option<String>,
    }
}

crate::model! {
    /// `default_tags`. A tag whose value is null is no tag.
    pub struct DefaultTagsModel, attributes mod default_tags_attr {
        tags: BTreeMap<String, Option<String>>,
    }
}

crate::model! {
    /// `ignore_tags`.
    pub struct IgnoreTagsModel, attributes mod ignore_tags_attr {
        keys: BTreeSet<String>,
        key_prefixes: BTreeSet<String>,
    }
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
            .attribute(Attribute::string(attr::region).describe(
                "AWS region of the VPC and of the PlanetScale database branch, e.g. `us-east-1`. \
                 Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, or the profile's region.",
            ))
            .attribute(Attribute::string(attr::profile).describe("Named profile of the AWS shared configuration files."))
            .attribute(Attribute::string_list(attr::shared_config_files).describe(
                "Paths of AWS shared config files. Default: `~/.aws/config` (or `AWS_CONFIG_FILE`).",
            ))
            .attribute(Attribute::string_list(attr::shared_credentials_files).describe(
                "Paths of AWS shared credentials files. Default: `~/.aws/credentials` (or \
                 `AWS_SHARED_CREDENTIALS_FILE`).",
            ))
            .attribute(Attribute::string(attr::access_key).sensitive().describe(
                "AWS access key id. Prefer the environment or a profile over writing it here.",
            ))
            .attribute(Attribute::string(attr::secret_key).sensitive().describe("AWS secret access key; goes with `access_key`."))
            .attribute(Attribute::string(attr::token).sensitive().describe("AWS session token for temporary credentials."))
            .attribute(Attribute::number(attr::max_retries).describe(
                "How many times an AWS call is retried on throttling, server errors and lost \
                 answers, with exponential backoff. Default: `AWS_MAX_ATTEMPTS` less one, the \
                 profile's `max_attempts` less one, or 25, as in the AWS provider.",
            ))
            .attribute(Attribute::string(attr::retry_mode).describe(
                "How the AWS SDK retries: `standard` or `adaptive` (a client-side rate limiter the \
                 AWS SDKs call experimental). Default: `AWS_RETRY_MODE`, the profile's \
                 `retry_mode`, or `standard`.",
            ))
            .attribute(Attribute::number(attr::token_bucket_rate_limiter_capacity).describe(
                "Capacity of the AWS SDK's retry quota, in tokens (each retry takes 5). Once it is \
                 spent, calls fail at their first throttling error. Default: no quota; `max_retries` \
                 still bounds each call.",
            ))
            .attribute(Attribute::string(attr::aws_attempt_timeout).describe(format!(
                "How long one attempt of an AWS call may take, from connecting to the last byte of \
                 the answer, such as `30s` or `2m`. An attempt that runs out is retried as a lost \
                 answer is (see `max_retries`): an AWS endpoint, proxy or firewall that accepts a \
                 connection and never answers costs this long per attempt, not forever. Default: \
                 `{}`.",
                format_duration(DEFAULT_ATTEMPT_TIMEOUT)
            )))
            .attribute(Attribute::string(attr::aws_operation_timeout).describe(format!(
                "How long one AWS call may take in all, its retries and the pauses between them \
                 included, such as `5m`; at least `aws_attempt_timeout`. A wait for a resource to \
                 reach a state is bounded by the resource's `timeouts`, and each call within it by \
                 whichever ends first. Default: `{}`, the resources' default create timeout, which \
                 also bounds the calls of the `hashicorp/aws` provider.",
                format_duration(DEFAULT_OPERATION_TIMEOUT)
            )))
            .attribute(Attribute::new(attr::allowed_account_ids, set()).describe(
                "Refuse to run against any AWS account not listed. Conflicts with \
                 `forbidden_account_ids`.",
            ))
            .attribute(Attribute::new(attr::forbidden_account_ids, set()).describe("Refuse to run against any AWS account listed."))
            .attribute(Attribute::bool(attr::skip_credentials_validation).describe(
                "Do not check the credentials with STS GetCallerIdentity at configuration.",
            ))
            .attribute(Attribute::bool(attr::skip_requesting_account_id).describe(
                "Do not look up the AWS account id. ARNs are then built from the owner id AWS \
                 returns with each resource.",
            ))
            .attribute(Attribute::bool(attr::skip_metadata_api_check).describe(
                "Never ask the EC2 instance metadata service for credentials or region. \
                 `AWS_EC2_METADATA_DISABLED=true` does the same.",
            ))
            .attribute(Attribute::string(attr::custom_ca_bundle).describe(
                "Path of a PEM bundle of certificate authorities to trust for AWS endpoints \
                 (added to the system's). Default: `AWS_CA_BUNDLE`.",
            ))
            .attribute(Attribute::string(attr::http_proxy).sensitive().describe(
                "URL of a proxy for AWS calls, `http://` or `https://`, such as \
                 `http://user:password@proxy.example.com:3128` with the user name and password \
                 percent-encoded (`/` as `%2F`, `@` as `%40`). Default: `HTTPS_PROXY` / `HTTP_PROXY`, \
                 honouring `NO_PROXY`. Sensitive, since a proxy URL may carry a user name and password \
                 (kept out of plans, messages and logs).",
            ))
            .attribute(Attribute::string(attr::service_token_id).describe(
                "PlanetScale service token id, for looking a branch's Private Service Name up by \
                 organization, database and branch. Default: `PLANETSCALE_SERVICE_TOKEN_ID`.",
            ))
            .attribute(Attribute::string(attr::service_token).sensitive().describe(
                "PlanetScale service token. Default: `PLANETSCALE_SERVICE_TOKEN`.",
            ))
            .attribute(Attribute::string(attr::api_url).describe(format!(
                "PlanetScale API base URL. Default: `{DEFAULT_API_URL}`.",
            )))
            .block(NestedBlock::single(
                attr::assume_role,
                Block::new("Assume this IAM role, with the credentials found otherwise as the source.")
                    .attribute(Attribute::string(assume_role_attr::role_arn).describe("ARN of the role to assume."))
                    .attribute(Attribute::string(assume_role_attr::session_name).describe("Session name for the assumed role."))
                    .attribute(Attribute::string(assume_role_attr::external_id).describe("External id the role's trust policy asks for."))
                    .attribute(Attribute::string(assume_role_attr::duration).describe(
                        "How long the role's credentials last, such as `1h`. Default: `1h`.",
                    )),
            ))
            .block(NestedBlock::single(
                attr::endpoints,
                Block::new("Custom service endpoints, for VPC endpoints to AWS APIs, proxies or emulators.")
                    .attribute(Attribute::string(endpoints_attr::ec2).describe("EC2 endpoint URL."))
                    .attribute(Attribute::string(endpoints_attr::sts).describe("STS endpoint URL."))
                    .attribute(Attribute::string(endpoints_attr::route53).describe(
                        "Route 53 endpoint URL, for `planetscale_privatelink_dns_zone` and its \
                         authorizations. Calls to it are signed for the partition's Route 53 region \
                         (`us-east-1` in the `aws` partition).",
                    )),
            ))
            .block(NestedBlock::single(
                attr::default_tags,
                Block::new("Tags added to every resource of this provider that takes tags.")
                    .attribute(Attribute::string_map(default_tags_attr::tags).describe("The tags.")),
            ))
            .block(NestedBlock::single(
                attr::ignore_tags,
                Block::new("Tags this provider never manages, such as tags set by other tooling.")
                    .attribute(Attribute::new(ignore_tags_attr::keys, set()).describe("Exact tag keys to ignore."))
                    .attribute(Attribute::new(ignore_tags_attr::key_prefixes, set()).describe("Tag key prefixes to ignore.")),
            )),
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let m = Model::from_value(config);
        let c = Attrs::of(config);
        if let Some(region) = &m.region {
            crate::validate::region(
                root(attr::region),
                region,
                "Invalid AWS region",
                ". Write it like \"us-east-1\".",
                diags,
            );
        }
        if m.access_key.is_some() != m.secret_key.is_some()
            && !c.is_unknown(attr::access_key)
            && !c.is_unknown(attr::secret_key)
        {
            let missing = if m.access_key.is_some() {
                attr::secret_key
            } else {
                attr::access_key
            };
            diags.attr_error(
                root(missing),
                "Incomplete static credentials",
                "access_key and secret_key go together: set both, or neither and let the AWS \
                 environment provide credentials.",
            );
        }
        if let Some(proxy) = &m.http_proxy
            && let Err(why) = crate::validate::proxy_url(proxy)
        {
            // No attribute path: Terraform would quote the configuration's
            // line, password and all, under the message.
            diags.error(
                "Invalid http_proxy",
                format!("The provider block's http_proxy: {why}"),
            );
        }
        if let Some(n) = &m.max_retries
            && n.as_i64().is_none_or(|n| !(0..=100).contains(&n))
        {
            diags.attr_error(
                root(attr::max_retries),
                "Invalid max_retries",
                format!("{n} is not a whole number from 0 to 100."),
            );
        }
        if let Some(mode) = &m.retry_mode
            && !matches!(mode.as_str(), "standard" | "adaptive")
        {
            diags.attr_error(
                root(attr::retry_mode),
                "Invalid retry_mode",
                format!(
                    "{mode:?} is not a retry mode. Write \"standard\" (the default) or \"adaptive\"."
                ),
            );
        }
        if let Some(n) = &m.token_bucket_rate_limiter_capacity
            && n.as_i64().is_none_or(|n| n < 0)
        {
            diags.attr_error(
                root(attr::token_bucket_rate_limiter_capacity),
                "Invalid token_bucket_rate_limiter_capacity",
                format!("{n} is not a whole number of tokens, 0 or more."),
            );
        }
        if !m.allowed_account_ids.is_empty() && !m.forbidden_account_ids.is_empty() {
            diags.attr_error(
                root(attr::forbidden_account_ids),
                "Conflicting account restrictions",
                "Set allowed_account_ids or forbidden_account_ids, not both.",
            );
        }
        let attempt = call_timeout(&c, attr::aws_attempt_timeout, &m.aws_attempt_timeout, diags);
        let operation = call_timeout(
            &c,
            attr::aws_operation_timeout,
            &m.aws_operation_timeout,
            diags,
        );
        if let (Some(attempt), Some(operation)) = (attempt, operation)
            && attempt > operation
        {
            diags.attr_error(
                root(attr::aws_attempt_timeout),
                "aws_attempt_timeout longer than aws_operation_timeout",
                format!(
                    "An attempt of {} cannot run out within a call of {}: the call would end first. \
                     Make aws_attempt_timeout shorter, or aws_operation_timeout longer.",
                    format_duration(attempt),
                    format_duration(operation)
                ),
            );
        }
        if let Some(d) = &m.assume_role.duration
            && let Err(why) = parse_duration(d)
        {
            diags.attr_error(
                root(attr::assume_role).attr(assume_role_attr::duration),
                "Invalid duration",
                format!("{d:?} is not a duration ({why}). Write it like \"1h\" or \"15m\"."),
            );
        }
        if crate::validate::url_parts(&m.api_url).is_some_and(|p| p.userinfo.is_some()) {
            diags.attr_error(
                root(attr::api_url),
                "Invalid PlanetScale API URL",
                format!(
                    "{} carries a user name or password. The PlanetScale API takes a service token, \
                     not credentials in the URL: remove the part before the @ and set service_token_id \
                     and service_token.",
                    crate::validate::redacted_url(&m.api_url)
                ),
            );
        } else if let Err(why) = crate::planetscale::check_api_url(&m.api_url) {
            diags.attr_error(root(attr::api_url), "Invalid PlanetScale API URL", why);
        }
        for (name, url) in [
            (endpoints_attr::ec2, &m.endpoints.ec2),
            (endpoints_attr::sts, &m.endpoints.sts),
            (endpoints_attr::route53, &m.endpoints.route53),
        ] {
            if let Some(url) = url
                && let Err(why) = crate::validate::aws_endpoint_url(url)
            {
                diags.attr_error(
                    root(attr::endpoints).attr(name),
                    "Invalid endpoint URL",
                    why,
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
        let m = Model::from_value(config);
        for secret in [&m.access_key, &m.secret_key, &m.token, &m.service_token]
            .into_iter()
            .flatten()
        {
            crate::logging::register_secret(secret);
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
        // Proxy URLs may carry a user name and password.
        let proxies = [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok());
        for proxy in proxies.chain(m.http_proxy.clone()) {
            for secret in crate::validate::proxy_secrets(&proxy) {
                crate::logging::register_secret(&secret);
            }
        }
        let Connected {
            ec2,
            route53,
            region,
            account_id,
        } = match aws::config::connect(&m.aws_settings()).await {
            Ok(connected) => connected,
            Err(e) => {
                match e.attribute {
                    Some(name) => diags.attr_error(root(name), e.summary, e.detail),
                    None => diags.error(e.summary, e.detail),
                }
                return None;
            }
        };

        if let Some(account) = &account_id {
            if !m.allowed_account_ids.is_empty() && !m.allowed_account_ids.contains(account) {
                diags.attr_error(
                    root(attr::allowed_account_ids),
                    "AWS account not allowed",
                    format!("The credentials belong to account {account}, which allowed_account_ids does not list."),
                );
                return None;
            }
            if m.forbidden_account_ids.contains(account) {
                diags.attr_error(
                    root(attr::forbidden_account_ids),
                    "AWS account forbidden",
                    format!("The credentials belong to account {account}, which forbidden_account_ids lists."),
                );
                return None;
            }
        }

        let planetscale = m.planetscale_settings();
        if let Some(token) = &planetscale.service_token {
            crate::logging::register_secret(token);
        }
        tracing::debug!(%region, account = account_id.as_deref().unwrap_or("-"), "provider configured");
        Some(Clients {
            ec2,
            route53,
            partition: partition_of(&region),
            region,
            account_id,
            default_tags: m
                .default_tags
                .tags
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
                .collect(),
            ignore_tags: IgnoreTags {
                keys: m.ignore_tags.keys.iter().cloned().collect(),
                key_prefixes: m.ignore_tags.key_prefixes.iter().cloned().collect(),
            },
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

/// A call timeout of the provider block, when known and valid: a duration
/// longer than zero. Anything else is an error naming the attribute.
fn call_timeout(
    c: &Attrs<'_>,
    name: &str,
    text: &str,
    diags: &mut Diagnostics,
) -> Option<Duration> {
    if c.is_unknown(name) {
        return None;
    }
    let why = match parse_duration(text) {
        Ok(d) if !d.is_zero() => return Some(d),
        Ok(_) => "it is no time at all".to_owned(),
        Err(why) => why,
    };
    diags.attr_error(
        root(name),
        format!("Invalid {name}"),
        format!(
            "{text:?} is not a usable timeout ({why}). Give how long an AWS call may take, like \
             \"30s\" or \"2m\"."
        ),
    );
    None
}

impl Model {
    /// The AWS arguments, as `aws::config` takes them.
    fn aws_settings(&self) -> AwsSettings {
        let assume = &self.assume_role;
        AwsSettings {
            region: self.region.clone(),
            profile: self.profile.clone(),
            shared_config_files: self.shared_config_files.clone(),
            shared_credentials_files: self.shared_credentials_files.clone(),
            access_key: self.access_key.clone(),
            secret_key: self.secret_key.clone(),
            token: self.token.clone(),
            assume_role: assume.role_arn.clone().map(|role_arn| AssumeRole {
                role_arn,
                session_name: assume.session_name.clone(),
                external_id: assume.external_id.clone(),
                duration: assume
                    .duration
                    .as_deref()
                    .and_then(|d| parse_duration(d).ok()),
            }),
            ec2_endpoint: self.endpoints.ec2.clone(),
            sts_endpoint: self.endpoints.sts.clone(),
            route53_endpoint: self.endpoints.route53.clone(),
            max_retries: self.max_retries.as_ref().and_then(Number::as_i64),
            retry_mode: self.retry_mode.clone(),
            retry_quota: self
                .token_bucket_rate_limiter_capacity
                .as_ref()
                .and_then(Number::as_i64),
            skip_metadata_api_check: self.skip_metadata_api_check,
            custom_ca_bundle: self.custom_ca_bundle.clone(),
            http_proxy: self.http_proxy.clone(),
            timeouts: CallTimeouts {
                attempt: parse_duration(&self.aws_attempt_timeout)
                    .unwrap_or(DEFAULT_ATTEMPT_TIMEOUT),
                operation: parse_duration(&self.aws_operation_timeout)
                    .unwrap_or(DEFAULT_OPERATION_TIMEOUT),
            },
            identify: !self.allowed_account_ids.is_empty()
                || !self.forbidden_account_ids.is_empty()
                || !self.skip_credentials_validation
                || !self.skip_requesting_account_id,
        }
    }

    /// The PlanetScale API settings, with the environment's token where the
    /// block gives none.
    fn planetscale_settings(&self) -> PlanetScaleSettings {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        PlanetScaleSettings {
            api_url: self.api_url.trim_end_matches('/').to_owned(),
            service_token_id: self
                .service_token_id
                .clone()
                .or_else(|| env("PLANETSCALE_SERVICE_TOKEN_ID")),
            service_token: self
                .service_token
                .clone()
                .or_else(|| env("PLANETSCALE_SERVICE_TOKEN")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::model::assert_model_names;
    use crate::framework::schema::Block;

    fn nested<'a>(block: &'a Block, name: &str) -> &'a Block {
        &block.blocks.iter().find(|b| b.name == name).unwrap().block
    }

    #[test]
    fn the_models_name_the_schema() {
        let schema = PlanetScale.schema();
        let block = &schema.block;
        assert_model_names(block, attr::ALL);
        assert_model_names(nested(block, attr::assume_role), assume_role_attr::ALL);
        assert_model_names(nested(block, attr::endpoints), endpoints_attr::ALL);
        assert_model_names(nested(block, attr::default_tags), default_tags_attr::ALL);
        assert_model_names(nested(block, attr::ignore_tags), ignore_tags_attr::ALL);
    }

    #[test]
    fn debug_of_the_provider_block_hides_every_sensitive_attribute() {
        let schema = PlanetScale.schema();
        let secrets: BTreeMap<String, Value> = schema
            .block
            .attributes
            .iter()
            .filter(|a| a.sensitive)
            .map(|a| {
                (
                    a.name.to_owned(),
                    Value::String(format!("marker-{}-4c1e", a.name)),
                )
            })
            .collect();
        assert!(secrets.len() >= 5, "{secrets:?}");
        let model = Model::from_value(&Value::Object(secrets.clone()));
        let shown = format!("{model:?} {model:#?} {:?}", model.aws_settings());
        for (name, value) in &secrets {
            let Value::String(marker) = value else {
                unreachable!()
            };
            assert!(!shown.contains(marker.as_str()), "{name} shown: {shown}");
        }
    }

    #[test]
    fn a_region_of_the_right_shape_but_unknown_is_warned_of() {
        let mut config = Model::from_value(&Value::Null);
        config.region = Some("us-east-9".into());
        let mut diags = Diagnostics::new();
        PlanetScale.validate(&config.to_value(), &mut diags);
        assert!(!diags.has_errors(), "{diags:?}");
        let warned: Vec<String> = diags
            .iter()
            .map(|d| {
                format!(
                    "{} {:?}",
                    d.summary,
                    d.attribute.as_ref().map(ToString::to_string)
                )
            })
            .collect();
        assert_eq!(warned, ["Unknown AWS region Some(\"region\")"]);
    }

    #[test]
    fn call_timeouts_default_to_the_constants_and_validate() {
        let m = Model::from_value(&Value::Null);
        assert_eq!(m.aws_settings().timeouts, CallTimeouts::default());
        let mut diags = Diagnostics::new();
        PlanetScale.validate(&m.to_value(), &mut diags);
        assert!(!diags.has_errors(), "{diags:?}");
    }
}
