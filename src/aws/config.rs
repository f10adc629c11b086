//! The AWS SDK's configuration, from settings the provider block gives in
//! plain data: region, credentials (static keys, profiles, assume role, the
//! environment, without the instance metadata service when asked), retries,
//! call timeouts, endpoint overrides, the HTTP client (TLS trust, proxy,
//! TCP_NODELAY), and the caller's identity. The only place aws-config is
//! used.
//!
//! Every call is bounded. The SDK gives up connecting after 3.1 s; each
//! attempt (connecting, sending, the whole answer) ends at
//! [`CallTimeouts::attempt`] and is then retried like a lost answer; the
//! call with all its retries and their backoff ends at
//! [`CallTimeouts::operation`]. hashicorp/aws sets no limit per attempt: it
//! waits on a silent connection until the operation's own deadline (a
//! resource's timeout, 10 minutes by default for create). Here waits race
//! their resource's deadline themselves ([`super::retry::within`]), and
//! these bounds hold for every other call, plan-time checks included.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::{ProvideRegion, RegionProviderChain};
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::env_config::file::{
    EnvConfigFileKind as ProfileFileKind, EnvConfigFiles as ProfileFiles,
};
use aws_sdk_ec2::config::{AsyncSleep, SharedAsyncSleep, Sleep};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use aws_types::region::Region;

use super::AwsError;
use super::Ec2;
use super::error::Unanswered;
use super::retry_policy::{BadSetting, RetryPolicy, RetrySources};
use super::route53::Route53;
use crate::framework::bounds;

/// The AWS arguments of the provider block, as plain data. Its `Debug`
/// shows whether each secret (keys, token, the proxy URL that may carry a
/// password) is set, never its value.
#[derive(Clone, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub shared_config_files: Vec<String>,
    pub shared_credentials_files: Vec<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub assume_role: Option<AssumeRole>,
    pub ec2_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub route53_endpoint: Option<String>,
    pub max_retries: Option<i64>,
    pub retry_mode: Option<String>,
    pub retry_quota: Option<i64>,
    pub skip_metadata_api_check: bool,
    pub custom_ca_bundle: Option<String>,
    pub http_proxy: Option<String>,
    pub timeouts: CallTimeouts,
    /// Ask STS who the caller is (to validate the credentials, learn the
    /// account, or check it against allowed/forbidden lists).
    pub identify: bool,
}

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |v: &Option<String>| crate::framework::model::Hidden(v.is_some());
        // Destructured, so a field added later cannot be forgotten here.
        let AwsSettings {
            region,
            profile,
            shared_config_files,
            shared_credentials_files,
            access_key,
            secret_key,
            token,
            assume_role,
            ec2_endpoint,
            sts_endpoint,
            route53_endpoint,
            max_retries,
            retry_mode,
            retry_quota,
            skip_metadata_api_check,
            custom_ca_bundle,
            http_proxy,
            timeouts,
            identify,
        } = self;
        f.debug_struct("AwsSettings")
            .field("region", region)
            .field("profile", profile)
            .field("shared_config_files", shared_config_files)
            .field("shared_credentials_files", shared_credentials_files)
            .field("access_key", &secret(access_key))
            .field("secret_key", &secret(secret_key))
            .field("token", &secret(token))
            .field("assume_role", assume_role)
            .field("ec2_endpoint", ec2_endpoint)
            .field("sts_endpoint", sts_endpoint)
            .field("route53_endpoint", route53_endpoint)
            .field("max_retries", max_retries)
            .field("retry_mode", retry_mode)
            .field("retry_quota", retry_quota)
            .field("skip_metadata_api_check", skip_metadata_api_check)
            .field("custom_ca_bundle", custom_ca_bundle)
            .field("http_proxy", &secret(http_proxy))
            .field("timeouts", timeouts)
            .field("identify", identify)
            .finish()
    }
}

/// How long one AWS call may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallTimeouts {
    /// One attempt: connecting, sending, and the whole answer.
    pub attempt: Duration,
    /// The call: every attempt, and the backoff between them.
    pub operation: Duration,
}

/// Generous: EC2 answers in well under a second, and a slow answer still
/// beats a retry.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// The default create, update and delete timeout of the resources, which
/// bounds hashicorp/aws's calls within them.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10 * 60);

impl Default for CallTimeouts {
    fn default() -> Self {
        CallTimeouts {
            attempt: DEFAULT_ATTEMPT_TIMEOUT,
            operation: DEFAULT_OPERATION_TIMEOUT,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration: Option<Duration>,
}

/// What [`connect`] makes: the EC2 and Route 53 clients, the region, and
/// the account when it was asked for.
pub struct Connected {
    pub ec2: Ec2,
    pub route53: Route53,
    pub region: String,
    pub account_id: Option<String>,
}

/// Why the SDK could not be configured: the provider argument to name (if
/// one is to blame), a summary and what to do.
#[derive(Clone, Debug)]
pub struct ConfigError {
    pub attribute: Option<&'static str>,
    pub summary: String,
    pub detail: String,
}

impl ConfigError {
    fn on(attribute: &'static str, summary: &str, detail: String) -> Self {
        ConfigError {
            attribute: Some(attribute),
            summary: summary.to_owned(),
            detail,
        }
    }
}

/// Configures the SDK from `s` and the standard AWS environment, and asks
/// STS who the caller is when `s.identify`.
pub async fn connect(s: &AwsSettings) -> Result<Connected, ConfigError> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let skip_imds = s.skip_metadata_api_check
        || env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"));

    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    let profile = s.profile.clone();
    let profile_files = profile_files(s);
    if let Some(files) = &profile_files {
        loader = loader.profile_files(files.clone());
    }
    if let Some(p) = &profile {
        loader = loader.profile_name(p);
    }
    // The region, resolved once: given, or (without IMDS) from the
    // environment and the profile; else the default chain's at load.
    let region = match &s.region {
        Some(r) => Some(Region::new(r.clone())),
        None if skip_imds => {
            region_chain_without_imds(profile.as_deref(), profile_files.clone())
                .region()
                .await
        }
        None => None,
    };
    if s.region.is_some() || skip_imds {
        // None here is "no region", not "ask IMDS".
        loader = loader.region(region.clone());
    }
    let base_http = http_client(s)?;
    let http = guarded(base_http.clone(), None);
    if let (Some(ak), Some(sk)) = (&s.access_key, &s.secret_key) {
        let creds = Credentials::new(ak, sk, s.token.clone(), None, "planetscale-provider");
        loader = loader.credentials_provider(creds);
    } else if skip_imds {
        // The same providers as the default chain but IMDS, configured as
        // it configures them: the region (web identity's STS call needs
        // one) and this HTTP client (its CA bundle, proxy and redaction).
        let provider_config = aws_config::provider_config::ProviderConfig::default()
            .with_region(region)
            .with_http_client(http.clone());
        loader = loader.credentials_provider(credentials_chain_without_imds(
            profile.as_deref(),
            profile_files.clone(),
            &provider_config,
        ));
    }
    let retry = retry_policy(s, profile.as_deref(), profile_files.as_ref())
        .await
        .map_err(|bad| ConfigError {
            attribute: bad.attribute,
            summary: "Invalid retry setting".to_owned(),
            detail: bad.message,
        })?;
    loader = loader.retry_config(retry.retry_config());
    // The connect timeout stays the SDK's.
    loader = loader.timeout_config(
        TimeoutConfig::builder()
            .operation_attempt_timeout(s.timeouts.attempt)
            .operation_timeout(s.timeouts.operation)
            .build(),
    );
    loader = loader.http_client(http);
    loader = loader.sleep_impl(SharedAsyncSleep::new(BoundedSleep));

    let mut sdk_config = with_credentials_registered(loader.load().await);
    configured_endpoints_are_safe(&sdk_config, s)?;
    let Some(region) = sdk_config.region().map(|r| r.to_string()) else {
        return Err(ConfigError::on(
            "region",
            "No AWS region",
            "The provider could not find which AWS region to use. Set `region` in the provider \
             \"planetscale\" block, or AWS_REGION in the environment, or a region in the AWS profile. It \
             must be the region of the PlanetScale database branch."
                .to_owned(),
        ));
    };

    if let Some(assume) = &s.assume_role {
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(&assume.role_arn)
            .session_name(
                assume
                    .session_name
                    .clone()
                    .unwrap_or_else(|| "terraform-provider-planetscale".into()),
            )
            .configure(&sts_sdk_config(&sdk_config, s));
        if let Some(id) = &assume.external_id {
            builder = builder.external_id(id);
        }
        if let Some(d) = assume.duration {
            builder = builder.session_length(d);
        }
        let provider = builder.build().await;
        sdk_config = with_credentials_registered(
            sdk_config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build(),
        );
    }

    let mut ec2_config =
        aws_sdk_ec2::config::Builder::from(&sdk_config).retry_partition(retry.partition());
    if let Some(url) = &s.ec2_endpoint {
        ec2_config = ec2_config.endpoint_url(url);
    }
    let ec2 = Ec2::new(aws_sdk_ec2::Client::from_conf(ec2_config.build()));

    // Route 53 is global: one endpoint per partition, signed for that
    // partition's one region whatever the provider's region is. Same
    // credentials, retries, timeouts and HTTP client as EC2.
    let mut route53_config = aws_sdk_route53::config::Builder::from(&sdk_config)
        .retry_partition(retry.partition())
        .retry_classifier(ZoneBusy)
        .http_client(guarded(
            base_http,
            Some(Arc::new(Pace::new(
                ROUTE53_REQUESTS_PER_SECOND,
                ROUTE53_WINDOW,
            ))),
        ))
        .region(Region::new(route53_region(&region)));
    if let Some(url) = &s.route53_endpoint {
        route53_config = route53_config.endpoint_url(url);
    }
    let route53 = Route53::new(aws_sdk_route53::Client::from_conf(route53_config.build()));

    let mut account_id = None;
    if s.identify {
        let sts = aws_sdk_sts::Client::from_conf(sts_config(&sdk_config, s));
        match sts.get_caller_identity().send().await {
            Ok(identity) => account_id = identity.account().map(str::to_owned),
            Err(e) => {
                let message = super::error_message(&e);
                if let AwsError::Cancelled(why) = AwsError::from(e) {
                    return Err(ConfigError {
                        attribute: None,
                        summary: "Configuring the provider was interrupted".to_owned(),
                        detail: format!("STS GetCallerIdentity: {why}."),
                    });
                }
                return Err(ConfigError {
                    attribute: None,
                    summary: "AWS credentials could not be validated".to_owned(),
                    detail: format!(
                        "STS GetCallerIdentity failed: {message}. Check the credentials (environment, \
                         profile, access_key/secret_key or assume_role), or set skip_credentials_validation \
                         = true where STS is unreachable."
                    ),
                });
            }
        }
    }
    Ok(Connected {
        ec2,
        route53,
        region,
        account_id,
    })
}

/// The region Route 53 calls are signed for: Route 53 has one endpoint per
/// partition, in the partition's first region.
pub fn route53_region(region: &str) -> &'static str {
    match crate::privatelink::partition_of(region) {
        "aws-us-gov" => "us-gov-west-1",
        "aws-cn" => "cn-northwest-1",
        "aws-iso" => "us-iso-east-1",
        "aws-iso-b" => "us-isob-east-1",
        "aws-iso-f" => "us-isof-south-1",
        "aws-iso-e" => "eu-isoe-west-1",
        "aws-eusc" => "eusc-de-east-1",
        _ => "us-east-1",
    }
}

/// The retry policy from the provider block, the environment and the
/// profile (see [`super::retry_policy`]).
async fn retry_policy(
    s: &AwsSettings,
    profile: Option<&str>,
    files: Option<&ProfileFiles>,
) -> Result<RetryPolicy, BadSetting> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (env_mode, env_attempts) = (env("AWS_RETRY_MODE"), env("AWS_MAX_ATTEMPTS"));
    let (mut profile_mode, mut profile_attempts) = (None, None);
    let decided = (s.retry_mode.is_some() || env_mode.is_some())
        && (s.max_retries.is_some() || env_attempts.is_some());
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
        retry_mode: s.retry_mode.as_deref(),
        max_retries: s.max_retries,
        quota: s.retry_quota,
        env_mode: env_mode.as_deref(),
        env_max_attempts: env_attempts.as_deref(),
        profile_mode: profile_mode.as_deref(),
        profile_max_attempts: profile_attempts.as_deref(),
    })
}

fn profile_files(s: &AwsSettings) -> Option<ProfileFiles> {
    let config = &s.shared_config_files;
    let credentials = &s.shared_credentials_files;
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
        builder = builder.with_file(ProfileFileKind::Config, expand_home(path));
    }
    for path in credentials {
        builder = builder.with_file(ProfileFileKind::Credentials, expand_home(path));
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
    provider_config: &aws_config::provider_config::ProviderConfig,
) -> CredentialsProviderChain {
    let mut from_profile =
        aws_config::profile::ProfileFileCredentialsProvider::builder().configure(provider_config);
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
        aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
            .configure(provider_config)
            .build(),
    )
    .or_else(
        "EcsContainer",
        aws_config::ecs::EcsCredentialsProvider::builder()
            .configure(provider_config)
            .build(),
    )
}

/// The shared configuration, with STS's endpoint where one is set.
fn sts_sdk_config(sdk_config: &aws_types::SdkConfig, s: &AwsSettings) -> aws_types::SdkConfig {
    match &s.sts_endpoint {
        Some(url) => sdk_config.to_builder().endpoint_url(url).build(),
        None => sdk_config.clone(),
    }
}

fn sts_config(sdk_config: &aws_types::SdkConfig, s: &AwsSettings) -> aws_sdk_sts::Config {
    let mut sts = aws_sdk_sts::config::Builder::from(sdk_config);
    if let Some(url) = &s.sts_endpoint {
        sts = sts.endpoint_url(url);
    }
    sts.build()
}

/// Endpoints from the environment or an AWS profile (AWS_ENDPOINT_URL,
/// AWS_ENDPOINT_URL_<SERVICE>, a profile's `endpoint_url` or its
/// `services` section) follow the rule of the `endpoints` block: https, or
/// plain http to loopback only, and no credentials in the URL. Otherwise a
/// signed request, session token included, could cross the network in
/// clear. Resolved the way each service's client resolves its endpoint.
fn configured_endpoints_are_safe(
    sdk_config: &aws_config::SdkConfig,
    s: &AwsSettings,
) -> Result<(), ConfigError> {
    use aws_types::service_config::ServiceConfigKey;
    let from_config = sdk_config.get_origin("endpoint_url").is_client_config();
    for (service, env, explicit) in [
        ("EC2", "AWS_ENDPOINT_URL_EC2", &s.ec2_endpoint),
        ("STS", "AWS_ENDPOINT_URL_STS", &s.sts_endpoint),
        ("Route 53", "AWS_ENDPOINT_URL_ROUTE_53", &s.route53_endpoint),
        // The SSO portal, where the SSO credential provider sends its
        // bearer token.
        ("SSO", "AWS_ENDPOINT_URL_SSO", &None),
    ] {
        if explicit.is_some() || from_config {
            continue; // the endpoints block, checked at validate
        }
        let key = ServiceConfigKey::builder()
            .service_id(service)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .expect("every field is set");
        let url = sdk_config
            .service_config()
            .and_then(|conf| conf.load_config(key))
            .or_else(|| sdk_config.endpoint_url().map(str::to_owned));
        if let Some(url) = url
            && let Err(why) = crate::validate::aws_endpoint_url(&url)
        {
            return Err(ConfigError {
                attribute: None,
                summary: format!("Unsafe {service} endpoint from the environment or AWS profile"),
                detail: format!(
                    "The {service} endpoint comes from {env}, AWS_ENDPOINT_URL or the AWS profile's \
                     endpoint_url: {why} Fix it there, or set the provider's endpoints block, which \
                     takes precedence."
                ),
            });
        }
    }
    Ok(())
}

/// The HTTP client for AWS calls: rustls with aws-lc, TCP_NODELAY, the
/// system's trust roots plus `custom_ca_bundle`, and `http_proxy` or the
/// proxy environment.
fn http_client(s: &AwsSettings) -> Result<SharedHttpClient, ConfigError> {
    use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
    use aws_smithy_http_client::{Builder, Connector, proxy::ProxyConfig};

    let mut trust = TrustStore::default();
    let bundle_path = s.custom_ca_bundle.clone().or_else(|| {
        std::env::var("AWS_CA_BUNDLE")
            .ok()
            .filter(|v| !v.is_empty())
    });
    if let Some(path) = &bundle_path {
        match std::fs::read(expand_home(path)) {
            Ok(pem) => trust = trust.with_pem_certificate(pem),
            Err(e) => {
                return Err(ConfigError::on(
                    "custom_ca_bundle",
                    "Cannot read the CA bundle",
                    format!("{path}: {e}. Point custom_ca_bundle at a readable PEM file."),
                ));
            }
        }
    }
    let tls_context = match TlsContext::builder().with_trust_store(trust).build() {
        Ok(ctx) => ctx,
        Err(e) => {
            return Err(ConfigError::on(
                "custom_ca_bundle",
                "Invalid CA bundle",
                format!("{e}. The file must hold PEM certificates."),
            ));
        }
    };
    let proxy = match &s.http_proxy {
        Some(url) => match ProxyConfig::all(url.as_str()) {
            Ok(p) => p.no_proxy(
                std::env::var("NO_PROXY")
                    .or_else(|_| std::env::var("no_proxy"))
                    .unwrap_or_default(),
            ),
            Err(_) => {
                // The SDK's message may quote the URL, credentials and all.
                return Err(ConfigError::on(
                    "http_proxy",
                    "Invalid proxy URL",
                    format!(
                        "{:?} is not a URL the HTTP client accepts. Write it like \
                         \"http://user:password@proxy.example.com:3128\", with the user name and \
                         password percent-encoded.",
                        crate::validate::redacted_proxy_url(url)
                    ),
                ));
            }
        },
        None => ProxyConfig::from_env(),
    };
    let client = Builder::new().build_with_connector_fn(move |settings, components| {
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
    });
    Ok(client)
}

/// The HTTP client every AWS call goes through, the credential clients'
/// included. It does two things to each request:
///
/// * ends it when its operation must end ([`bounds`]): at the deadline of
///   the resource's `timeouts`, or at Ctrl-C, whichever call is in flight;
/// * registers with the log's redactor, before the request leaves, the
///   bearer tokens aws-config's own credential clients send: the IMDS
///   session token, the SSO portal's bearer token and the web identity
///   token in AssumeRoleWithWebIdentity's form. Nothing else of theirs can
///   be intercepted. (The log caps their request traces anyway: this holds
///   if a line ever escapes.)
///
/// With a [`Pace`], it also spaces the requests out (Route 53's).
#[derive(Debug)]
struct GuardedHttpClient(SharedHttpClient, Option<Arc<Pace>>);

fn guarded(client: SharedHttpClient, pace: Option<Arc<Pace>>) -> SharedHttpClient {
    SharedHttpClient::new(GuardedHttpClient(client, pace))
}

impl HttpClient for GuardedHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(GuardedConnector(
            self.0.http_connector(settings, components),
            self.1.clone(),
        ))
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

#[derive(Debug)]
struct GuardedConnector(SharedHttpConnector, Option<Arc<Pace>>);

impl HttpConnector for GuardedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let body = request.body().bytes().unwrap_or_default();
        for token in bearer_tokens(|name| request.headers().get(name), body) {
            crate::logging::register_secret(&token);
        }
        let bounds = bounds::current();
        // Named only for the message of a call its operation cuts off.
        let call = bounds
            .as_ref()
            .map(|_| called(request.method(), request.uri(), body));
        let pace = self.1.clone();
        // Sent when first polled: after its slot.
        let answer = self.0.call(request);
        let paced = async move {
            if let Some(pace) = pace {
                pace.slot().await;
            }
            answer.await
        };
        let Some(bounds) = bounds else {
            return HttpConnectorFuture::new(paced);
        };
        HttpConnectorFuture::new(async move {
            match bounds.race(paced).await {
                Ok(answer) => answer,
                Err(why) => Err(ConnectorError::user(Box::new(Unanswered {
                    call: call.unwrap_or_default(),
                    why,
                }))),
            }
        })
    }
}

/// Requests per second Route 53 accepts from one account, across all its
/// API ("five requests per second per AWS account", Route 53 quotas): an
/// apply with `-parallelism=10` changing ten zones keeps under it rather
/// than retrying its way through throttling.
const ROUTE53_REQUESTS_PER_SECOND: usize = 5;

/// The window [`ROUTE53_REQUESTS_PER_SECOND`] is counted over: a second,
/// and a tenth for the time requests take to reach Route 53, which can
/// bring two that left a second apart closer together.
const ROUTE53_WINDOW: Duration = Duration::from_millis(1100);

/// At most `most` requests in any window of `per`: a few reads that go out
/// together (a refresh's, a plan's checks) leave at once, and a steady
/// stream of them is held to the rate.
#[derive(Debug)]
struct Pace {
    most: usize,
    per: Duration,
    /// When the latest `most` requests leave, oldest first.
    recent: std::sync::Mutex<std::collections::VecDeque<tokio::time::Instant>>,
}

impl Pace {
    fn new(most: usize, per: Duration) -> Self {
        Self {
            most: most.max(1),
            per,
            recent: std::sync::Mutex::default(),
        }
    }

    /// Waits until the request may leave: at once while fewer than `most`
    /// left within the last `per`, else when the oldest of them is `per`
    /// old.
    async fn slot(&self) {
        let at = self.schedule(tokio::time::Instant::now());
        tokio::time::sleep_until(at).await;
    }

    /// When a request asked for at `now` may leave, counted as leaving then.
    fn schedule(&self, now: tokio::time::Instant) -> tokio::time::Instant {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let at = match recent.front() {
            Some(&oldest) if recent.len() >= self.most => now.max(oldest + self.per),
            _ => now,
        };
        recent.push_back(at);
        while recent.len() > self.most {
            recent.pop_front();
        }
        at
    }
}

/// What a request asks for, to name in a message: the action of an EC2 or
/// STS query, else the method and path (Route 53's REST calls).
fn called(method: &str, uri: &str, body: &[u8]) -> String {
    let action = std::str::from_utf8(body).ok().and_then(|form| {
        form.split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_alphanumeric()))
    });
    match action {
        Some(action) => action.to_owned(),
        None => {
            let path = uri
                .split_once("://")
                .map_or(uri, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
            let path = path.split('?').next().unwrap_or(path);
            format!("{method} {path}")
        }
    }
}

/// Route 53 answers `ConcurrentModification` while another change to the
/// same zone, VPC or authorization is being made (its API reference, for
/// CreateHostedZone, AssociateVPCWithHostedZone, the authorization calls
/// and more), and `PriorRequestNotComplete` while an earlier change is
/// being applied: both are retried, with the throttling backoff, as
/// terraform-provider-aws retries them. (The SDK retries the second by
/// itself; the first it leaves to the caller.)
#[derive(Debug)]
struct ZoneBusy;

impl ClassifyRetry for ZoneBusy {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let busy = ctx
            .response()
            .filter(|r| !r.status().is_success())
            .and_then(|r| r.body().bytes())
            .is_some_and(|body| {
                let text = String::from_utf8_lossy(body);
                text.contains("<Code>ConcurrentModification</Code>")
                    || text.contains("<Code>PriorRequestNotComplete</Code>")
            });
        if busy {
            RetryAction::throttling_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "Route 53 busy with another change"
    }
}

/// The SDK's sleep for its retries' pauses and its own timeouts, cut short
/// when the operation must end ([`bounds::sleep`]): a call throttled on
/// every attempt ends at its operation's deadline or at Ctrl-C, not after
/// its next backoff.
#[derive(Debug)]
struct BoundedSleep;

impl AsyncSleep for BoundedSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep::new(bounds::sleep(duration))
    }
}

/// The tokens a request carries that sign nothing but open credentials:
/// the IMDS session token and the SSO bearer token (headers), and the web
/// identity token (a form field, percent-decoded).
fn bearer_tokens<'a>(header: impl Fn(&str) -> Option<&'a str>, body: &[u8]) -> Vec<String> {
    let mut tokens: Vec<String> = ["x-aws-ec2-metadata-token", "x-amz-sso_bearer_token"]
        .into_iter()
        .filter_map(header)
        .map(str::to_owned)
        .collect();
    if let Ok(form) = std::str::from_utf8(body) {
        tokens.extend(
            form.split('&')
                .filter_map(|pair| pair.strip_prefix("WebIdentityToken="))
                .map(crate::validate::percent_decoded),
        );
    }
    tokens.retain(|t| !t.is_empty());
    tokens
}

/// The configuration with its credentials provider wrapped so that every
/// credential it resolves, whatever the source (environment, profile, SSO,
/// assume role, web identity, container), is registered with the log's
/// redactor before any request signed with it can be logged.
fn with_credentials_registered(config: aws_config::SdkConfig) -> aws_config::SdkConfig {
    let Some(inner) = config.credentials_provider() else {
        return config;
    };
    config
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(Registering(inner)))
        .build()
}

#[derive(Debug)]
struct Registering(SharedCredentialsProvider);

impl aws_credential_types::provider::ProvideCredentials for Registering {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            let credentials = self.0.provide_credentials().await?;
            crate::logging::register_secret(credentials.access_key_id());
            crate::logging::register_secret(credentials.secret_access_key());
            if let Some(token) = credentials.session_token() {
                crate::logging::register_secret(token);
            }
            Ok(credentials)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pace_lets_a_burst_through_and_holds_the_rest_to_the_window() {
        let window = Duration::from_millis(1100);
        let pace = Pace::new(5, window);
        let start = tokio::time::Instant::now();
        let ms = |d: u64| start + Duration::from_millis(d);
        // Eleven asked for at once: five leave then, five a window later,
        // the eleventh a window after that.
        let burst: Vec<_> = (0..11).map(|_| pace.schedule(start)).collect();
        let after = |at: tokio::time::Instant| at.duration_since(start).as_millis();
        assert_eq!(
            burst.iter().map(|at| after(*at)).collect::<Vec<_>>(),
            [0, 0, 0, 0, 0, 1100, 1100, 1100, 1100, 1100, 2200]
        );
        // Asked for later, one at a time: each leaves when asked once the
        // window has room again; never six in any window.
        let mut left = burst;
        for asked in [2250, 2300, 3000, 3310, 3320, 3330, 3340] {
            left.push(pace.schedule(ms(asked)));
        }
        assert_eq!(
            left[11..].iter().map(|at| after(*at)).collect::<Vec<_>>(),
            [2250, 2300, 3000, 3310, 3320, 3350, 3400]
        );
        for i in 5..left.len() {
            assert!(left[i] - left[i - 5] >= window, "{i}: {left:?}");
        }
    }

    #[test]
    fn a_request_is_named_by_its_action_or_its_path() {
        assert_eq!(
            called(
                "POST",
                "https://ec2.us-east-1.amazonaws.com/",
                b"Action=CreateVpcEndpoint&Version=2016-11-15"
            ),
            "CreateVpcEndpoint"
        );
        assert_eq!(
            called(
                "GET",
                "https://route53.amazonaws.com/2013-04-01/change/C123?x=1",
                b""
            ),
            "GET /2013-04-01/change/C123"
        );
    }

    #[test]
    fn route53_signs_for_its_partitions_region() {
        for (region, signing) in [
            ("us-east-1", "us-east-1"),
            ("eu-west-1", "us-east-1"),
            ("ap-southeast-2", "us-east-1"),
            ("us-gov-east-1", "us-gov-west-1"),
            ("cn-north-1", "cn-northwest-1"),
        ] {
            assert_eq!(route53_region(region), signing, "{region}");
        }
    }

    #[test]
    fn debug_of_the_settings_shows_no_secret() {
        let settings = AwsSettings {
            region: Some("us-east-1".into()),
            access_key: Some("AKIA4SECRETKEYID0000".into()),
            secret_key: Some("wJalr-secret/K7MDENG".into()),
            token: Some("FwoGZXIvYXdzEJr-session".into()),
            http_proxy: Some("http://user:pr0xy-pass@proxy.internal:3128".into()),
            ..AwsSettings::default()
        };
        let shown = format!("{settings:?} {settings:#?}");
        for secret in [
            "AKIA4SECRETKEYID0000",
            "wJalr-secret",
            "FwoGZXIvYXdz",
            "pr0xy-pass",
            "user:",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("us-east-1") && shown.contains("(sensitive)"),
            "{shown}"
        );
    }

    #[test]
    fn bearer_tokens_are_found_in_headers_and_the_web_identity_form() {
        let headers = |name: &str| match name {
            "x-aws-ec2-metadata-token" => Some("AQAEAImdsSessionToken=="),
            _ => None,
        };
        let body = b"Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&WebIdentityToken=eyJhbGci.eyJzdWIi.c2lnbmF0%2Fw&Version=2011-06-15";
        assert_eq!(
            bearer_tokens(headers, body),
            ["AQAEAImdsSessionToken==", "eyJhbGci.eyJzdWIi.c2lnbmF0/w"]
        );
        assert!(bearer_tokens(|_| None, b"Action=GetCallerIdentity&Version=2011-06-15").is_empty());
    }
}
