//! The PlanetScale API client, for one question: what are a database
//! branch's Private Service Name and Private Host? Both are fields of every
//! role of the branch (the PlanetScale docs: the same for each role), the
//! values the dashboard shows under Settings, Roles. The client asks for
//! the branch's default role (`GET /organizations/{organization}/databases/
//! {database}/branches/{branch}/roles/default`); that role exists only once
//! someone created it, so on 404 it lists the branch's roles
//! (`GET .../branches/{branch}/roles?page=&per_page=`, `{"data": [...]}`)
//! and takes the fields from the first role that has them. An empty list
//! means the branch has no role yet; a 404 of the list, no such branch.
//!
//! Role objects also carry credentials (`password`, connection strings).
//! They never leave the HTTP body: it is deserialized into structs with the
//! two PrivateLink fields only (and a list's `next_page`), then dropped.
//! Nothing of the request's `Authorization` header
//! (`<SERVICE_TOKEN_ID>:<SERVICE_TOKEN>`) or of a body is logged.
//!
//! 429, 502, 503, 504, lost connections and attempts that time out are
//! retried, up to three attempts, each bounded by [`ATTEMPT_TIMEOUT`] and
//! all within [`REQUEST_TIMEOUT`]; a `Retry-After` on 429 or 503 (seconds
//! or an HTTP date) sets the wait, and one that would end past the bound
//! ends the lookup at once.
//!
//! HTTP is reqwest's (HTTP/1.1 over rustls with aws-lc, as the AWS SDK's
//! client), chosen over hand-driven hyper for what a client behind a
//! corporate network needs and hyper leaves to its user: the proxy
//! environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, tunnelled with
//! CONNECT), per-request timeouts and bounded body reads. Trust is the
//! system's roots (or the PEM file `SSL_CERT_FILE` names instead) plus the
//! PEM bundle `AWS_CA_BUNDLE` names, as for the AWS calls. Plain `http://`
//! is accepted for loopback addresses only (local test servers), never for
//! a token sent elsewhere. Redirects are not followed.

mod retry_after;

use std::time::Duration;

use http::Uri;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, RETRY_AFTER};
use rustls_pki_types::pem::PemObject as _;
use serde::Deserialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long one lookup may take, retries included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one attempt may take, from connecting to the answer's last
/// byte, so that a connection that stalls leaves time for another.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The environment variable naming extra trusted CA certificates (PEM),
/// the one the AWS calls also honour.
const CA_BUNDLE_VAR: &str = "AWS_CA_BUNDLE";
/// Attempts for answers worth retrying (429, 502-504, lost connections).
const ATTEMPTS: u32 = 3;
/// A role object is a few kilobytes, a page of them some tens; anything
/// far larger is neither.
const MAX_BODY: usize = 1 << 20;
/// Roles asked for per page of the role list.
const ROLES_PER_PAGE: u32 = 25;
/// Pages of the role list read at most, looking for a role with the
/// PrivateLink fields.
const MAX_ROLE_PAGES: u32 = 20;

/// Why a lookup failed; each kind has its own fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No service token id or token: the provider arguments missing, in
    /// order (`service_token_id`, `service_token`).
    #[error("missing {}", .0.join(" and "))]
    MissingCredentials(Vec<&'static str>),
    /// The token cannot be sent in an HTTP header.
    #[error("the service token id or token holds characters an HTTP header cannot carry")]
    InvalidCredentials,
    #[error("{0}")]
    InvalidUrl(String),
    /// 401: the token id or token is wrong, or the token was deleted.
    #[error("401 Unauthorized{}", detail(.0))]
    Unauthorized(Option<String>),
    /// 403: the token may not read the branch.
    #[error("403 Forbidden{}", detail(.0))]
    Forbidden(Option<String>),
    /// 404 for the branch's role list: no such organization, database or
    /// branch (or none the token may see).
    #[error("404 Not Found{}", detail(.0))]
    NotFound(Option<String>),
    /// The branch exists but has no role yet, and the PrivateLink fields
    /// come with a role.
    #[error("the branch has no role")]
    NoRole,
    /// 429 after every attempt, or with a `Retry-After` past the bound.
    #[error("429 Too Many Requests{}", detail(.message))]
    RateLimited {
        message: Option<String>,
        retry_after: Option<Duration>,
    },
    /// 5xx after every attempt (503 possibly with a `Retry-After`).
    #[error("{status}{}", detail(.message))]
    Server {
        status: u16,
        message: Option<String>,
        retry_after: Option<Duration>,
    },
    /// Any other status.
    #[error("unexpected HTTP status {status}{}", detail(.message))]
    Status {
        status: u16,
        message: Option<String>,
    },
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// No HTTP answer: DNS, connection, TLS.
    #[error("{0}")]
    Transport(String),
    /// The answer was not a role object or list.
    #[error("{0}")]
    Malformed(String),
    /// The branch's roles have no Private Service Name: PrivateLink is not
    /// enabled for the branch.
    #[error("the branch's roles have no private_connection_service_name")]
    NotEnabled,
    /// Terraform was interrupted (StopProvider).
    #[error("interrupted")]
    Stopped,
}

impl ApiError {
    /// The wait the API asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after, .. } | ApiError::Server { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}

fn detail(message: &Option<String>) -> String {
    message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

/// A branch's PrivateLink details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchPrivateLink {
    /// `com.amazonaws.vpce.<region>.vpce-svc-...`
    pub service_name: String,
    /// The host name applications connect to through the endpoint.
    pub private_host: Option<String>,
}

/// The only fields read from a role object. Everything else (the
/// password among it) is skipped by the parser, never kept.
#[derive(Deserialize)]
struct RolePrivateLink {
    private_connection_service_name: Option<String>,
    private_access_host_url: Option<String>,
}

/// The only fields read from a page of the role list: the roles' two
/// PrivateLink fields, and the number of the next page (null on the last).
#[derive(Deserialize)]
struct RolePage {
    data: Vec<RolePrivateLink>,
    #[serde(default)]
    next_page: Option<u32>,
}

/// The only field read from an error body.
#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

/// A configured client: base URL, credentials, connection pool.
pub struct Api {
    client: reqwest::Client,
    base: String,
    authorization: HeaderValue,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// Checks an API base URL: `https://`, or `http://` to a loopback address.
/// Returns it without a trailing slash.
pub fn check_api_url(url: &str) -> Result<String, String> {
    let trimmed = url.trim_end_matches('/');
    let uri: Uri = trimmed.parse().map_err(|_| {
        format!("{url:?} is not a URL. Write it like \"https://api.planetscale.com/v1\".")
    })?;
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => {}
        Some("http") if is_loopback(host) => {}
        Some("http") => {
            return Err(format!(
                "{url:?} uses plain http, which would send the service token unencrypted. Use https:// \
                 (plain http is accepted for loopback test servers only)."
            ));
        }
        _ => {
            return Err(format!(
                "{url:?} is not an https:// URL. Write it like \"https://api.planetscale.com/v1\"."
            ));
        }
    }
    if uri.query().is_some() {
        return Err(format!(
            "{url:?} has a query string; give the API's base URL only."
        ));
    }
    Ok(trimmed.to_owned())
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks an organization, database or branch name before it becomes a
/// path segment: PlanetScale names are letters, digits, `-`, `_` and `.`.
pub fn check_name(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("It is empty: give the name as the dashboard shows it.".to_owned());
    }
    if value.len() > 255
        || !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        || value.chars().all(|c| c == '.')
    {
        return Err(format!(
            "{value:?} is not a PlanetScale name: names are letters, digits, '-', '_' and '.', as in the \
             dashboard's URL (app.planetscale.com/<organization>/<database>/<branch>)."
        ));
    }
    Ok(())
}

impl Api {
    /// A client for `api_url` with the service token id and token. Fails
    /// when either is missing or the URL is not acceptable.
    pub fn new(
        api_url: &str,
        service_token_id: Option<&str>,
        service_token: Option<&str>,
    ) -> Result<Api, ApiError> {
        let base = check_api_url(api_url).map_err(ApiError::InvalidUrl)?;
        let id = service_token_id.filter(|s| !s.is_empty());
        let token = service_token.filter(|s| !s.is_empty());
        let (Some(id), Some(token)) = (id, token) else {
            let missing = [
                id.is_none().then_some("service_token_id"),
                token.is_none().then_some("service_token"),
            ];
            return Err(ApiError::MissingCredentials(
                missing.into_iter().flatten().collect(),
            ));
        };
        let mut authorization = HeaderValue::from_str(&format!("{id}:{token}"))
            .map_err(|_| ApiError::InvalidCredentials)?;
        authorization.set_sensitive(true);

        let tls = tls_config(base.starts_with("https://"))?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "terraform-provider-planetscale/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| ApiError::Transport(format!("HTTP client setup: {}", error_chain(&e))))?;
        Ok(Api {
            client,
            base,
            authorization,
        })
    }

    /// The branch's Private Service Name and Private Host, from its default
    /// role or, when it has none, from the first of its roles that has
    /// them. Gives up after [`REQUEST_TIMEOUT`], retries included, or when
    /// `stop` is cancelled.
    pub async fn branch_private_link(
        &self,
        organization: &str,
        database: &str,
        branch: &str,
        stop: &CancellationToken,
    ) -> Result<BranchPrivateLink, ApiError> {
        for name in [organization, database, branch] {
            check_name(name).map_err(ApiError::InvalidUrl)?;
        }
        let roles = format!(
            "{}/organizations/{organization}/databases/{database}/branches/{branch}/roles",
            self.base
        );
        tracing::debug!(
            organization,
            database,
            branch,
            "asking the PlanetScale API for the branch's PrivateLink service"
        );
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let lookup = async {
            match self
                .get_retrying(&format!("{roles}/default"), deadline)
                .await
            {
                Ok(body) => parse_role(&body),
                Err(ApiError::NotFound(_)) => {
                    tracing::debug!("the branch has no default role; reading its role list");
                    self.first_listed_role(&roles, deadline).await
                }
                Err(e) => Err(e),
            }
        };
        tokio::select! {
            _ = stop.cancelled() => Err(ApiError::Stopped),
            answer = tokio::time::timeout_at(deadline, lookup) => {
                answer.map_err(|_| ApiError::Timeout(REQUEST_TIMEOUT))?
            }
        }
    }

    /// The PrivateLink fields of the first role in the branch's role list
    /// that has them, page by page.
    async fn first_listed_role(
        &self,
        roles: &str,
        deadline: Instant,
    ) -> Result<BranchPrivateLink, ApiError> {
        let mut page = 1;
        let mut any_role = false;
        loop {
            let uri = format!("{roles}?page={page}&per_page={ROLES_PER_PAGE}");
            let list = parse_role_page(&self.get_retrying(&uri, deadline).await?)?;
            any_role |= !list.data.is_empty();
            if let Some(found) = list.data.into_iter().find_map(|r| private_link_of(r).ok()) {
                return Ok(found);
            }
            match list.next_page {
                Some(next) if next > page && page < MAX_ROLE_PAGES => page = next,
                _ if any_role => return Err(ApiError::NotEnabled),
                _ => return Err(ApiError::NoRole),
            }
        }
    }

    /// GETs `uri`, retrying 429, 502, 503, 504, lost connections and
    /// attempts that time out, up to [`ATTEMPT_TIMEOUT`] each and
    /// [`ATTEMPTS`] in all. Waits as `Retry-After` asks, or a growing half
    /// second; a wait that would end past `deadline` gives the error now.
    async fn get_retrying(&self, uri: &str, deadline: Instant) -> Result<Vec<u8>, ApiError> {
        let uri = reqwest::Url::parse(uri).map_err(|e| ApiError::InvalidUrl(format!("{e}")))?;
        let mut attempt = 1;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let limit = left.min(ATTEMPT_TIMEOUT);
            let e = match self.get(&uri, limit).await {
                Ok(body) => return Ok(body),
                // The lookup's own bound, not the attempt's, ran out.
                Err(ApiError::Timeout(_)) if limit < ATTEMPT_TIMEOUT => {
                    return Err(ApiError::Timeout(REQUEST_TIMEOUT));
                }
                Err(e) if attempt < ATTEMPTS && retryable(&e) => e,
                Err(e) => return Err(e),
            };
            let backoff = Duration::from_millis(500) * attempt;
            let wait = e.retry_after().map_or(backoff, |asked| asked.max(backoff));
            if Instant::now()
                .checked_add(wait)
                .is_none_or(|end| end >= deadline)
            {
                tracing::debug!(attempt, error = %e, ?wait, "PlanetScale API call failed; no time left to wait");
                return Err(e);
            }
            tracing::debug!(attempt, error = %e, ?wait, "PlanetScale API call failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One GET within `limit`: the body of a 2xx answer, or the error its
    /// status means.
    async fn get(&self, uri: &reqwest::Url, limit: Duration) -> Result<Vec<u8>, ApiError> {
        let failed = |e: reqwest::Error, doing: &str| {
            if e.is_timeout() {
                ApiError::Timeout(limit)
            } else {
                ApiError::Transport(format!("{doing}{}", error_chain(&e.without_url())))
            }
        };
        let mut response = self
            .client
            .get(uri.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, "application/json")
            .timeout(limit)
            .send()
            .await
            .map_err(|e| failed(e, ""))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after::parse(v, std::time::SystemTime::now()));
        let too_large = || {
            ApiError::Malformed(format!(
                "the answer is larger than {} KiB, not a role object",
                MAX_BODY / 1024
            ))
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(e, "reading the answer: "))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(status = status.as_u16(), "PlanetScale API answered");
        if status.is_success() {
            return Ok(body);
        }
        let message = error_message(&body);
        Err(match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized(message),
            StatusCode::FORBIDDEN => ApiError::Forbidden(message),
            StatusCode::NOT_FOUND => ApiError::NotFound(message),
            StatusCode::TOO_MANY_REQUESTS => ApiError::RateLimited {
                message,
                retry_after,
            },
            s if s.is_server_error() => ApiError::Server {
                status: s.as_u16(),
                message,
                retry_after: retry_after.filter(|_| s == StatusCode::SERVICE_UNAVAILABLE),
            },
            s => ApiError::Status {
                status: s.as_u16(),
                message,
            },
        })
    }
}

/// The TLS settings: rustls with aws-lc, trusting the system's roots (which
/// rustls-native-certs reads from `SSL_CERT_FILE` or `SSL_CERT_DIR` when
/// set) and the certificates of the PEM file `AWS_CA_BUNDLE` names.
/// Without any trusted root an `https` client is refused here, with the
/// fix, rather than at its first request.
fn tls_config(https: bool) -> Result<rustls::ClientConfig, ApiError> {
    let mut bundled = Vec::new();
    if let Some(path) = std::env::var_os(CA_BUNDLE_VAR).filter(|v| !v.is_empty()) {
        let path = std::path::PathBuf::from(path);
        let unreadable = |why: String| {
            ApiError::Transport(format!(
                "the CA bundle {CA_BUNDLE_VAR} names ({}) cannot be used: {why}",
                path.display()
            ))
        };
        let pem = std::fs::read(&path).map_err(|e| unreadable(e.to_string()))?;
        bundled = rustls_pki_types::CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(format!("{e}")))?;
        if bundled.is_empty() {
            return Err(unreadable("it holds no PEM certificate".to_owned()));
        }
    }
    let (config, trusted) = crate::tls::client_config(bundled);
    if trusted == 0 && https {
        return Err(ApiError::Transport(
            "no trusted certificate authorities were found on this machine (install the system's CA \
             certificates, or point SSL_CERT_FILE or AWS_CA_BUNDLE at a PEM bundle)"
                .into(),
        ));
    }
    Ok(config)
}

fn retryable(e: &ApiError) -> bool {
    match e {
        ApiError::RateLimited { .. } | ApiError::Transport(_) | ApiError::Timeout(_) => true,
        ApiError::Server { status, .. } => matches!(status, 502..=504),
        _ => false,
    }
}

/// The `message` of a JSON error body, shortened; nothing else of it.
fn error_message(body: &[u8]) -> Option<String> {
    let message = serde_json::from_slice::<ErrorBody>(body).ok()?.message?;
    let message = message.trim();
    if message.is_empty() {
        return None;
    }
    let mut short: String = message.chars().take(300).collect();
    if short.len() < message.len() {
        short.push('…');
    }
    Some(short)
}

/// Where JSON that is not what was asked for went wrong, never what it
/// held.
fn malformed(e: &serde_json::Error, what: &str) -> ApiError {
    let what = match e.classify() {
        serde_json::error::Category::Data => format!("JSON, but not {what}"),
        _ => "not valid JSON".to_owned(),
    };
    ApiError::Malformed(format!(
        "the answer is {what} (line {}, column {})",
        e.line(),
        e.column()
    ))
}

/// The PrivateLink fields of a role object.
fn parse_role(body: &[u8]) -> Result<BranchPrivateLink, ApiError> {
    let role: RolePrivateLink =
        serde_json::from_slice(body).map_err(|e| malformed(&e, "a role object"))?;
    private_link_of(role)
}

/// A page of the role list, PrivateLink fields only.
fn parse_role_page(body: &[u8]) -> Result<RolePage, ApiError> {
    serde_json::from_slice(body).map_err(|e| malformed(&e, "a list of roles"))
}

fn private_link_of(role: RolePrivateLink) -> Result<BranchPrivateLink, ApiError> {
    let service_name = role
        .private_connection_service_name
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or(ApiError::NotEnabled)?;
    Ok(BranchPrivateLink {
        service_name,
        private_host: role.private_access_host_url.as_deref().and_then(host_of),
    })
}

/// The host of `private_access_host_url`, whether the API gives a bare host
/// name or a URL: no scheme, credentials, port or path.
fn host_of(url: &str) -> Option<String> {
    let rest = url.trim();
    let rest = rest.split_once("://").map_or(rest, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// An error and its causes on one line (reqwest's own Display says only
/// "error sending request").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_privatelink_fields_are_read() {
        let body = br#"{"id":"pscale_role_1","name":"default","username":"postgres.x",
            "password":"pscale_pw_secret","private_connection_service_name":"com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
            "private_access_host_url":"abc.private-pg.psdb.cloud","inherited_roles":["postgres"],"branch":{"id":"b"}}"#;
        assert_eq!(
            parse_role(body),
            Ok(BranchPrivateLink {
                service_name: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0".into(),
                private_host: Some("abc.private-pg.psdb.cloud".into()),
            })
        );
    }

    #[test]
    fn a_role_without_a_service_name_means_privatelink_is_off() {
        for body in [
            &br#"{"id":"r","password":"x"}"#[..],
            br#"{"private_connection_service_name":null}"#,
            br#"{"private_connection_service_name":"  "}"#,
        ] {
            assert_eq!(parse_role(body), Err(ApiError::NotEnabled));
        }
    }

    #[test]
    fn malformed_answers_say_where_not_what() {
        let Err(ApiError::Malformed(m)) = parse_role(br#"{"password":"pscale_pw_secret""#) else {
            panic!("expected Malformed");
        };
        assert!(
            m.contains("not valid JSON") && !m.contains("pscale_pw"),
            "{m}"
        );
        let Err(ApiError::Malformed(m)) = parse_role(br#"["pscale_pw_secret"]"#) else {
            panic!("expected Malformed");
        };
        assert!(
            m.contains("not a role object") && !m.contains("pscale_pw"),
            "{m}"
        );
    }

    #[test]
    fn hosts_come_out_of_urls() {
        assert_eq!(
            host_of("abc.private.psdb.cloud"),
            Some("abc.private.psdb.cloud".into())
        );
        assert_eq!(
            host_of(
                "postgresql://user:pw@ABC.private.psdb.cloud:5432/postgres?sslmode=verify-full"
            ),
            Some("abc.private.psdb.cloud".into())
        );
        assert_eq!(
            host_of("https://abc.private.psdb.cloud/"),
            Some("abc.private.psdb.cloud".into())
        );
        assert_eq!(host_of(""), None);
    }

    #[test]
    fn api_urls_need_https_except_on_loopback() {
        assert_eq!(
            check_api_url("https://api.planetscale.com/v1/"),
            Ok("https://api.planetscale.com/v1".into())
        );
        assert!(check_api_url("http://127.0.0.1:8080/v1").is_ok());
        assert!(check_api_url("http://[::1]:8080").is_ok());
        assert!(check_api_url("http://localhost:8080").is_ok());
        assert!(
            check_api_url("http://api.planetscale.com/v1")
                .unwrap_err()
                .contains("unencrypted")
        );
        assert!(check_api_url("ftp://x").is_err());
        assert!(check_api_url("api.planetscale.com").is_err());
    }

    #[test]
    fn names_cannot_change_the_path() {
        assert!(check_name("acme").is_ok());
        assert!(check_name("app-db_2.x").is_ok());
        for bad in ["", "a/b", "..", "main?x=1", "a b", "ünï"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn missing_credentials_name_the_argument() {
        let url = "https://api.planetscale.com/v1";
        assert_eq!(
            Api::new(url, Some("id"), None).unwrap_err(),
            ApiError::MissingCredentials(vec!["service_token"])
        );
        assert_eq!(
            Api::new(url, None, Some("t")).unwrap_err(),
            ApiError::MissingCredentials(vec!["service_token_id"])
        );
        let both = Api::new(url, Some(""), None).unwrap_err();
        assert_eq!(
            both,
            ApiError::MissingCredentials(vec!["service_token_id", "service_token"])
        );
        assert_eq!(
            both.to_string(),
            "missing service_token_id and service_token"
        );
    }

    #[test]
    fn role_pages_give_the_privatelink_fields_and_the_next_page_only() {
        let body = br#"{"type":"list","current_page":1,"next_page":2,"next_page_url":"https://x/?page=2",
            "prev_page":null,"prev_page_url":null,"data":[
            {"id":"r1","password":"pscale_pw_secret","private_connection_service_name":null},
            {"id":"r2","password":"pscale_pw_secret2","private_connection_service_name":"com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
             "private_access_host_url":"abc.private-pg.psdb.cloud"}]}"#;
        let page = parse_role_page(body).unwrap();
        assert_eq!(page.next_page, Some(2));
        let found: Vec<_> = page.data.into_iter().map(private_link_of).collect();
        assert_eq!(found[0], Err(ApiError::NotEnabled));
        assert_eq!(
            found[1].as_ref().unwrap().private_host.as_deref(),
            Some("abc.private-pg.psdb.cloud")
        );
        let last = parse_role_page(br#"{"next_page":null,"data":[]}"#).unwrap();
        assert!(last.data.is_empty() && last.next_page.is_none());
        let Err(ApiError::Malformed(m)) =
            parse_role_page(br#"{"id":"r","password":"pscale_pw_secret"}"#)
        else {
            panic!("expected Malformed");
        };
        assert!(
            m.contains("not a list of roles") && !m.contains("pscale_pw"),
            "{m}"
        );
    }

    #[test]
    fn error_bodies_give_their_message_only() {
        assert_eq!(
            error_message(br#"{"code":"not_found","message":"Not Found","password":"x"}"#),
            Some("Not Found".into())
        );
        assert_eq!(error_message(b"<html>"), None);
    }
}
