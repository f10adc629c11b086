//! The PlanetScale API client, for one question: what are a database
//! branch's Private Service Name and Private Host? Both are fields of the
//! branch's default role (`GET /organizations/{organization}/databases/
//! {database}/branches/{branch}/roles/default`), the same values the
//! dashboard shows under Settings, Roles.
//!
//! The role object also carries credentials (`password`, connection
//! strings). They never leave the HTTP body: it is deserialized into a
//! struct with the two PrivateLink fields only, then dropped. Nothing of the
//! request's `Authorization` header (`<SERVICE_TOKEN_ID>:<SERVICE_TOKEN>`)
//! or of the body is logged.
//!
//! HTTP runs on hyper with rustls (aws-lc) and the system's trust roots, as
//! the AWS SDK's client does; plain `http://` is accepted for loopback
//! addresses only (local test servers), never for a token sent elsewhere.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, LengthLimitError, Limited};
use hyper::header::{ACCEPT, AUTHORIZATION, HeaderValue, USER_AGENT};
use hyper::{Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long one lookup may take, retries included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts for answers worth retrying (429, 502-504, lost connections).
const ATTEMPTS: u32 = 3;
/// A role object is a few kilobytes; anything far larger is not one.
const MAX_BODY: usize = 1 << 20;

/// Why a lookup failed; each kind has its own fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// No service token id or token (names the provider arguments missing).
    #[error("missing {0}")]
    MissingCredentials(String),
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
    /// 404: no such organization, database, branch or default role (or
    /// none the token may see).
    #[error("404 Not Found{}", detail(.0))]
    NotFound(Option<String>),
    /// 429 after every attempt.
    #[error("429 Too Many Requests{}", detail(.0))]
    RateLimited(Option<String>),
    /// 5xx after every attempt.
    #[error("{status}{}", detail(.message))]
    Server {
        status: u16,
        message: Option<String>,
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
    /// The answer was not a role object.
    #[error("{0}")]
    Malformed(String),
    /// The role has no Private Service Name: PrivateLink is not enabled
    /// for the branch.
    #[error("the branch's role has no private_connection_service_name")]
    NotEnabled,
    /// Terraform was interrupted (StopProvider).
    #[error("interrupted")]
    Stopped,
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

/// The only field read from an error body.
#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

/// A configured client: base URL, credentials, connection pool.
pub struct Api {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
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
        let (id, token) = match (
            service_token_id.filter(|s| !s.is_empty()),
            service_token.filter(|s| !s.is_empty()),
        ) {
            (Some(id), Some(token)) => (id, token),
            (None, Some(_)) => return Err(ApiError::MissingCredentials("service_token_id".into())),
            (Some(_), None) => return Err(ApiError::MissingCredentials("service_token".into())),
            (None, None) => {
                return Err(ApiError::MissingCredentials(
                    "service_token_id and service_token".into(),
                ));
            }
        };
        let mut authorization = HeaderValue::from_str(&format!("{id}:{token}"))
            .map_err(|_| ApiError::InvalidCredentials)?;
        authorization.set_sensitive(true);

        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added == 0 && base.starts_with("https://") {
            return Err(ApiError::Transport(
                "no trusted certificate authorities were found on this machine (install the system's CA \
                 certificates, or point SSL_CERT_FILE at a PEM bundle)"
                    .into(),
            ));
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ApiError::Transport(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Api {
            client: Client::builder(TokioExecutor::new()).build(connector),
            base,
            authorization,
        })
    }

    /// The branch's Private Service Name and Private Host, from its default
    /// role. Retries 429, 502, 503, 504 and lost connections; gives up
    /// after [`REQUEST_TIMEOUT`] or when `stop` is cancelled.
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
        let uri: Uri = format!(
            "{}/organizations/{organization}/databases/{database}/branches/{branch}/roles/default",
            self.base
        )
        .parse()
        .map_err(|e| ApiError::InvalidUrl(format!("{e}")))?;
        tracing::debug!(
            organization,
            database,
            branch,
            "asking the PlanetScale API for the branch's PrivateLink service"
        );
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let attempts = async {
            let mut attempt = 1;
            loop {
                match self.get(&uri).await {
                    Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                        tracing::debug!(attempt, error = %e, "PlanetScale API call failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500) * attempt).await;
                        attempt += 1;
                    }
                    result => return result,
                }
            }
        };
        let body = tokio::select! {
            _ = stop.cancelled() => return Err(ApiError::Stopped),
            answer = tokio::time::timeout_at(deadline, attempts) => {
                answer.map_err(|_| ApiError::Timeout(REQUEST_TIMEOUT))??
            }
        };
        parse_role(&body)
    }

    /// One GET: the body of a 2xx answer, or the error its status means.
    async fn get(&self, uri: &Uri) -> Result<Bytes, ApiError> {
        let request = Request::get(uri.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, "application/json")
            .header(
                USER_AGENT,
                concat!("terraform-provider-planetscale/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|e| ApiError::InvalidUrl(e.to_string()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| ApiError::Transport(error_chain(&e)))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<LengthLimitError>() {
                    ApiError::Malformed(format!(
                        "the answer is larger than {} KiB, not a role object",
                        MAX_BODY / 1024
                    ))
                } else {
                    ApiError::Transport(format!("reading the answer: {e}"))
                }
            })?
            .to_bytes();
        tracing::debug!(status = status.as_u16(), "PlanetScale API answered");
        if status.is_success() {
            return Ok(body);
        }
        let message = error_message(&body);
        Err(match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized(message),
            StatusCode::FORBIDDEN => ApiError::Forbidden(message),
            StatusCode::NOT_FOUND => ApiError::NotFound(message),
            StatusCode::TOO_MANY_REQUESTS => ApiError::RateLimited(message),
            s if s.is_server_error() => ApiError::Server {
                status: s.as_u16(),
                message,
            },
            s => ApiError::Status {
                status: s.as_u16(),
                message,
            },
        })
    }
}

fn retryable(e: &ApiError) -> bool {
    match e {
        ApiError::RateLimited(_) | ApiError::Transport(_) => true,
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

/// The PrivateLink fields of a role object. Errors say where the JSON
/// went wrong, never what it held.
fn parse_role(body: &[u8]) -> Result<BranchPrivateLink, ApiError> {
    let role: RolePrivateLink = serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "JSON, but not a role object",
            _ => "not valid JSON",
        };
        ApiError::Malformed(format!(
            "the answer is {what} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
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

/// An error and its causes on one line (hyper's own Display says only
/// "client error (Connect)").
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
        assert_eq!(
            Api::new("https://api.planetscale.com/v1", Some("id"), None).unwrap_err(),
            ApiError::MissingCredentials("service_token".into())
        );
        assert_eq!(
            Api::new("https://api.planetscale.com/v1", None, Some("t")).unwrap_err(),
            ApiError::MissingCredentials("service_token_id".into())
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
