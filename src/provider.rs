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
use crate::framework::schema::declare::optional;
use crate::framework::schema::{Block, NestedBlock, Schema};
use crate::framework::server::{DataSource, Provider, Resource};
use crate::framework::timeouts::{format_duration, parse_duration};
use crate::framework::value::{Number, Value};
use crate::privatelink::{DEFAULT_API_URL, partition_of};

#[derive(Default)]
pub struct PlanetScale;

crate::model! {
    /// The provider block, each argument declared once (schema and
    /// checks); the nested blocks are declared by the schema, with their
    /// models' attributes. An absent nested block reads as an empty one.
    /// `aws_attempt_timeout`, `aws_operation_timeout` and `api_url` read as
    /// their defaults when left out, which their descriptions name; the
    /// schema gives them none (`without_schema_default`), as Terraform plans
    /// no provider block.
    pub struct Model, attributes mod attr, sensitive [access_key, secret_key, token, http_proxy, service_token] {
        region: Option<String> => optional()
            .check(|path, v, diags| {
                if let Some(region) = v.as_str() {
                    crate::validate::region(
                        path,
                        region,
                        "Invalid AWS region",
                        ". Write it like \"us-east-1\".",
                        diags,
                    );
                }
            })
            .describe(
                "AWS region of the VPC and of the PlanetScale database branch, e.g. `us-east-1`. \
                 Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, or the profile's region.",
            ),
        profile: Option<String> => optional().describe("Named profile of the AWS shared configuration files."),
        shared_config_files: Vec<String> => optional().describe(
            "Paths of AWS shared config files. Default: `~/.aws/config` (or `AWS_CONFIG_FILE`).",
        ),
        shared_credentials_files: Vec<String> => optional().describe(
            "Paths of AWS shared credentials files. Default: `~/.aws/credentials` (or \
             `AWS_SHARED_CREDENTIALS_FILE`).",
        ),
        access_key: Option<String> => optional().sensitive().describe(
            "AWS access key id. Prefer the environment or a profile over writing it here.",
        ),
        secret_key: Option<String> => optional().sensitive().describe("AWS secret access key; goes with `access_key`."),
        token: Option<String> => optional().sensitive().describe("AWS session token for temporary credentials."),
        max_retries: Option<Number> => optional()
            .check(|path, v, diags| {
                if let Value::Number(n) = v
                    && n.as_i64().is_none_or(|n| !(0..=100).contains(&n))
                {
                    diags.attr_error(
                        path,
                        "Invalid max_retries",
                        format!("{n} is not a whole number from 0 to 100."),
                    );
                }
            })
            .describe(
                "How many times an AWS call is retried on throttling, server errors and lost \
                 answers, with exponential backoff. Default: `AWS_MAX_ATTEMPTS` less one, the \
                 profile's `max_attempts` less one, or 25, as in the AWS provider.",
            ),
        retry_mode: Option<String> => optional()
            .each_string("Invalid retry_mode", |mode| {
                if matches!(mode, "standard" | "adaptive") {
                    Ok(())
                } else {
                    Err(format!(
                        "{mode:?} is not a retry mode. Write \"standard\" (the default) or \"adaptive\"."
                    ))
                }
            })
            .describe(
                "How the AWS SDK retries: `standard` or `adaptive` (a client-side rate limiter the \
                 AWS SDKs call experimental). Default: `AWS_RETRY_MODE`, the profile's \
                 `retry_mode`, or `standard`.",
            ),
        token_bucket_rate_limiter_capacity: Option<Number> => optional()
            .check(|path, v, diags| {
                if let Value::Number(n) = v
                    && n.as_i64().is_none_or(|n| n < 0)
                {
                    diags.attr_error(
                        path,
                        "Invalid token_bucket_rate_limiter_capacity",
                        format!("{n} is not a whole number of tokens, 0 or more."),
                    );
                }
            })
            .describe(
                "Capacity of the AWS SDK's retry quota, in tokens (each retry takes 5). Once it is \
                 spent, calls fail at their first throttling error. Default: no quota; `max_retries` \
                 still bounds each call.",
            ),
        aws_attempt_timeout: String = format_duration(DEFAULT_ATTEMPT_TIMEOUT) => optional()
            .without_schema_default()
            .each_string("Invalid aws_attempt_timeout", |text| call_timeout(text).map(drop))
            .describe(format!(
                "How long one attempt of an AWS call may take, from connecting to the last byte of \
                 the answer, such as `30s` or `2m`. An attempt that runs out is retried as a lost \
                 answer is (see `max_retries`): an AWS endpoint, proxy or firewall that accepts a \
                 connection and never answers costs this long per attempt, not forever. Default: \
                 `{}`.",
                format_duration(DEFAULT_ATTEMPT_TIMEOUT)
            )),
        aws_operation_timeout: String = format_duration(DEFAULT_OPERATION_TIMEOUT) => optional()
            .without_schema_default()
            .each_string("Invalid aws_operation_timeout", |text| call_timeout(text).map(drop))
            .describe(format!(
                "How long one AWS call may take in all, its retries and the pauses between them \
                 included, such as `5m`; at least `aws_attempt_timeout`. A wait for a resource to \
                 reach a state is bounded by the resource's `timeouts`, and each call within it by \
                 whichever ends first. Default: `{}`, the resources' default create timeout, which \
                 also bounds the calls of the `hashicorp/aws` provider.",
                format_duration(DEFAULT_OPERATION_TIMEOUT)
            )),
        allowed_account_ids: BTreeSet<String> => optional().describe(
            "Refuse to run against any AWS account not listed. Conflicts with \
             `forbidden_account_ids`.",
        ),
        forbidden_account_ids: BTreeSet<String> => optional().describe("Refuse to run against any AWS account listed."),
        skip_credentials_validation: bool => optional().describe(
            "Do not check the credentials with STS GetCallerIdentity at configuration.",
        ),
        skip_requesting_account_id: bool => optional().describe(
            "Do not look up the AWS account id. ARNs are then built from the owner id AWS \
             returns with each resource.",
        ),
        skip_metadata_api_check: bool => optional().describe(
            "Never ask the EC2 instance metadata service for credentials or region. \
             `AWS_EC2_METADATA_DISABLED=true` does the same.",
        ),
        custom_ca_bundle: Option<String> => optional().describe(
            "Path of a PEM bundle of certificate authorities to trust for AWS endpoints \
             (added to the system's). Default: `AWS_CA_BUNDLE`.",
        ),
        http_proxy: Option<String> => optional().sensitive()
            .check(|_, v, diags| {
                if let Some(proxy) = v.as_str()
                    && let Err(why) = crate::validate::proxy_url(proxy)
                {
                    // No attribute path: Terraform would quote the
                    // configuration's line, password and all, under the
                    // message.
                    diags.error(
                        "Invalid http_proxy",
                        format!("The provider block's http_proxy: {why}"),
                    );
                }
            })
            .describe(
                "URL of a proxy for AWS calls, `http://` or `https://`, such as \
                 `http://user:password@proxy.example.com:3128` with the user name and password \
                 percent-encoded (`/` as `%2F`, `@` as `%40`). Default: `HTTPS_PROXY` / `HTTP_PROXY`, \
                 honouring `NO_PROXY`. Sensitive, since a proxy URL may carry a user name and password \
                 (kept out of plans, messages and logs).",
            ),
        service_token_id: Option<String> => optional().describe(
            "PlanetScale service token id, for looking a branch's Private Service Name up by \
             organization, database and branch. Default: `PLANETSCALE_SERVICE_TOKEN_ID`.",
        ),
        service_token: Option<String> => optional().sensitive().describe(
            "PlanetScale service token. Default: `PLANETSCALE_SERVICE_TOKEN`.",
        ),
        api_url: String = DEFAULT_API_URL.to_owned() => optional()
            .without_schema_default()
            .each_string("Invalid PlanetScale API URL", check_api_url)
            .describe(format!("PlanetScale API base URL. Default: `{DEFAULT_API_URL}`.")),
        assume_role: AssumeRoleModel,
        endpoints: EndpointsModel,
        default_tags: DefaultTagsModel,
        ignore_tags: IgnoreTagsModel,
    }
}

crate::model! {
    /// `assume_role`: no role is assumed without `role_arn`.
    pub struct AssumeRoleModel, attributes mod assume_role_attr {
        role_arn: Option<String> => optional().describe("ARN of the role to assume."),
        session_name: Option<String> => optional().describe("Session name for the assumed role."),
        external_id: Option<String> => optional().describe("External id the role's trust policy asks for."),
        // Checked by the provider's validate: the declared checks run on
        // the provider block's own attributes.
        duration: Option<String> => optional().describe(
            "How long the role's credentials last, such as `1h`. Default: `1h`.",
        ),
    }
}

crate::model! {
    /// `endpoints`: service endpoint URLs, checked by the provider's
    /// validate (the declared checks run on the provider block's own
    /// attributes).
    pub struct EndpointsModel, attributes mod endpoints_attr {
        ec2: Option<String> => optional().describe("EC2 endpoint URL."),
        sts: Option<String> => optional().describe("STS endpoint URL."),
        route53: Option<String> => optional().describe(
            "Route 53 endpoint URL, for `planetscale_privatelink_dns_zone` and its \
             authorizations. Calls to it are signed for the partition's Route 53 region \
             (`us-east-1` in the `aws` partition).",
        ),
    }
}

crate::model! {
    /// `default_tags`. A tag whose value is null is no tag.
    pub struct DefaultTagsModel, attributes mod default_tags_attr {
        tags: BTreeMap<String, Option<String>> => optional().describe("The tags."),
    }
}

crate::model! {
    /// `ignore_tags`.
    pub struct IgnoreTagsModel, attributes mod ignore_tags_attr {
        keys: BTreeSet<String> => optional().describe("Exact tag keys to ignore."),
        key_prefixes: BTreeSet<String> => optional().describe("Tag key prefixes to ignore."),
    }
}

#[async_trait]
impl Provider for PlanetScale {
    type Data = Clients;

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "Connects AWS VPCs to PlanetScale for Postgres over AWS PrivateLink. The AWS \
                 arguments have the names and meaning they have in the `hashicorp/aws` provider; \
                 each is optional and falls back to the standard AWS environment \
                 (`AWS_REGION`, `AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, web identity, SSO, instance \
                 metadata...).",
            )
            .attributes(Model::attributes())
            .block(NestedBlock::single(
                attr::assume_role,
                Block::new("Assume this IAM role, with the credentials found otherwise as the source.")
                    .attributes(AssumeRoleModel::attributes()),
            ))
            .block(NestedBlock::single(
                attr::endpoints,
                Block::new("Custom service endpoints, for VPC endpoints to AWS APIs, proxies or emulators.")
                    .attributes(EndpointsModel::attributes()),
            ))
            .block(NestedBlock::single(
                attr::default_tags,
                Block::new("Tags added to every resource of this provider that takes tags.")
                    .attributes(DefaultTagsModel::attributes()),
            ))
            .block(NestedBlock::single(
                attr::ignore_tags,
                Block::new("Tags this provider never manages, such as tags set by other tooling.")
                    .attributes(IgnoreTagsModel::attributes()),
            )),
        )
    }

    /// The rules between arguments, and the nested blocks' arguments (each
    /// of the block's own arguments is checked by its declaration).
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let m = Model::from_value(config);
        let c = Attrs::of(config);
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
        if !m.allowed_account_ids.is_empty() && !m.forbidden_account_ids.is_empty() {
            diags.attr_error(
                root(attr::forbidden_account_ids),
                "Conflicting account restrictions",
                "Set allowed_account_ids or forbidden_account_ids, not both.",
            );
        }
        // A timeout that is unknown or unusable (its declaration reports
        // that) is compared with nothing.
        let usable = |name: &str, text: &str| {
            if c.is_unknown(name) {
                None
            } else {
                call_timeout(text).ok()
            }
        };
        let attempt = usable(attr::aws_attempt_timeout, &m.aws_attempt_timeout);
        let operation = usable(attr::aws_operation_timeout, &m.aws_operation_timeout);
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
        // The server validated the block before this (as at
        // ValidateProviderConfig).
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

/// A call timeout of the provider block: a duration longer than zero, or
/// why the text is none.
fn call_timeout(text: &str) -> Result<Duration, String> {
    let why = match parse_duration(text) {
        Ok(d) if !d.is_zero() => return Ok(d),
        Ok(_) => "it is no time at all".to_owned(),
        Err(why) => why,
    };
    Err(format!(
        "{text:?} is not a usable timeout ({why}). Give how long an AWS call may take, like \
         \"30s\" or \"2m\"."
    ))
}

/// The PlanetScale API URL: a URL of the API, with no user name or
/// password in it.
fn check_api_url(url: &str) -> Result<(), String> {
    if crate::validate::url_parts(url).is_some_and(|p| p.userinfo.is_some()) {
        return Err(format!(
            "{} carries a user name or password. The PlanetScale API takes a service token, \
             not credentials in the URL: remove the part before the @ and set service_token_id \
             and service_token.",
            crate::validate::redacted_url(url)
        ));
    }
    crate::planetscale::check_api_url(url).map(drop)
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

    /// The diagnostics of validation as the server runs it: the declared
    /// checks, then validate.
    fn validated(config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        PlanetScale.schema().block.check(config, &mut diags);
        PlanetScale.validate(config, &mut diags);
        diags
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
        let diags = validated(&config.to_value());
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
        let diags = validated(&m.to_value());
        assert!(!diags.has_errors(), "{diags:?}");
    }
}
