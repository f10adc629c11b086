//! Loopback stand-ins for the credential services the AWS SDK's default
//! chain asks, with the requests and answers aws-config expects:
//! * the EC2 instance metadata service (IMDSv2): `PUT /latest/api/token`
//!   answers a session token (with its TTL header); the role list and the
//!   role's credentials (`GET /latest/meta-data/iam/security-credentials/...`)
//!   answer only with that token in `x-aws-ec2-metadata-token`;
//! * the IAM Identity Center (SSO) portal: `GET /federation/credentials`
//!   answers the role's credentials only with the cached access token in
//!   `x-amz-sso_bearer_token`.
//!   Each remembers how many requests it answered, so a test can tell its
//!   credentials were really used.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

/// Temporary credentials a stand-in hands out.
#[derive(Clone, Debug)]
pub struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl Issued {
    /// Credentials whose every part is unique to this test process and
    /// `tag`, so a hit in a log can only come from them.
    pub fn new(tag: &str) -> Issued {
        let id = std::process::id();
        Issued {
            access_key_id: format!("ASIA{}{id}", tag.to_uppercase()),
            secret_access_key: format!("{tag}-secret-access-key-{id}-never-logged"),
            session_token: format!("{tag}-session-token-{id}+/=never-logged"),
        }
    }

    pub fn all(&self) -> Vec<String> {
        vec![
            self.access_key_id.clone(),
            self.secret_access_key.clone(),
            self.session_token.clone(),
        ]
    }
}

pub struct StandIn {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// The bearer token a client must show.
    pub token: String,
    pub issued: Issued,
    answered: Arc<AtomicUsize>,
}

impl StandIn {
    /// Credentials requests answered with credentials.
    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

const ROLE: &str = "planetscale-provider-role";

/// How a stand-in answers a request: given the token a client must show,
/// the credentials it hands out, and the count of those handed out.
type Answer = fn(&Request<Incoming>, &str, &Issued, &AtomicUsize) -> Response<Full<Bytes>>;

/// Serves `answer` on a free loopback port.
fn start(token: String, issued: Issued, answer: Answer) -> StandIn {
    let answered = Arc::new(AtomicUsize::new(0));
    let (t, i, a) = (token.clone(), issued.clone(), answered.clone());
    let address = super::serve_http(move |req| {
        let response = answer(&req, &t, &i, &a);
        async move { Ok::<_, std::convert::Infallible>(response) }
    });
    StandIn {
        url: format!("http://{address}"),
        token,
        issued,
        answered,
    }
}

/// The instance metadata service, IMDSv2 only.
pub fn imds() -> StandIn {
    let token = format!("AQAEAImdsSessionToken{}+/==", std::process::id());
    start(
        token,
        Issued::new("imds"),
        |req, token, issued, answered| {
            let shown = header(req, "x-aws-ec2-metadata-token");
            match (req.method().as_str(), req.uri().path()) {
                ("PUT", "/latest/api/token") => {
                    let mut r = respond(StatusCode::OK, token.to_owned());
                    r.headers_mut().insert(
                        "x-aws-ec2-metadata-token-ttl-seconds",
                        "21600".parse().unwrap(),
                    );
                    r
                }
                _ if shown.as_deref() != Some(token) => {
                    respond(StatusCode::UNAUTHORIZED, String::new())
                }
                ("GET", "/latest/meta-data/iam/security-credentials/") => {
                    respond(StatusCode::OK, ROLE.to_owned())
                }
                ("GET", p) if p == format!("/latest/meta-data/iam/security-credentials/{ROLE}") => {
                    answered.fetch_add(1, Ordering::SeqCst);
                    respond(
                        StatusCode::OK,
                        serde_json::json!({
                            "Code": "Success",
                            "LastUpdated": "2026-12-07T00:00:00Z",
                            "Type": "AWS-HMAC",
                            "AccessKeyId": issued.access_key_id,
                            "SecretAccessKey": issued.secret_access_key,
                            "Token": issued.session_token,
                            "Expiration": "2099-01-01T00:00:00Z",
                        })
                        .to_string(),
                    )
                }
                _ => respond(StatusCode::NOT_FOUND, String::new()),
            }
        },
    )
}

/// The SSO portal's GetRoleCredentials.
pub fn sso_portal() -> StandIn {
    let token = format!("aoaSsoAccessToken{}+/==", std::process::id());
    start(token, Issued::new("sso"), |req, token, issued, answered| {
        let shown = header(req, "x-amz-sso_bearer_token");
        if req.uri().path() != "/federation/credentials" {
            respond(StatusCode::NOT_FOUND, String::new())
        } else if shown.as_deref() != Some(token) {
            respond(
                StatusCode::UNAUTHORIZED,
                r#"{"message":"Session token not found or invalid"}"#.to_owned(),
            )
        } else {
            answered.fetch_add(1, Ordering::SeqCst);
            respond(
                StatusCode::OK,
                serde_json::json!({
                    "roleCredentials": {
                        "accessKeyId": issued.access_key_id,
                        "secretAccessKey": issued.secret_access_key,
                        "sessionToken": issued.session_token,
                        "expiration": 4_070_908_800_000_u64,
                    }
                })
                .to_string(),
            )
        }
    })
}

/// The forms a token takes in text: as it is, JSON-escaped, percent-encoded
/// (upper and lower case) and base64.
pub fn encodings(token: &str) -> Vec<String> {
    use base64::Engine as _;
    let json = serde_json::Value::String(token.to_owned()).to_string();
    let mut upper = String::new();
    let mut lower = String::new();
    for b in token.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            upper.push(b as char);
            lower.push(b as char);
        } else {
            upper.push_str(&format!("%{b:02X}"));
            lower.push_str(&format!("%{b:02x}"));
        }
    }
    let mut forms = vec![
        token.to_owned(),
        json[1..json.len() - 1].to_owned(),
        upper,
        lower,
        base64::engine::general_purpose::STANDARD.encode(token),
    ];
    forms.sort();
    forms.dedup();
    forms
}
