//! A stand-in for the PlanetScale API on loopback: it answers
//! `GET /v1/organizations/{org}/databases/{db}/branches/{branch}/roles/default`
//! with a role object shaped like the real API's (credentials included, so
//! tests can check they go nowhere), 404 when the branch has no default
//! role, and `GET .../branches/{branch}/roles?page=&per_page=` with a page
//! of the branch's roles in the API's list envelope (`data`, `next_page`);
//! it checks the `Authorization` header the way the API does, and fails on
//! demand, once or always, with a `Retry-After` if asked. It speaks plain
//! HTTP, or ([`FakeApi::start_https`]) HTTPS with a certificate for
//! `localhost` from a CA of its own that no system trusts, as behind a
//! corporate TLS-inspecting proxy.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

/// The password every role carries; it must never reach state or logs.
pub const ROLE_PASSWORD: &str = "pscale_pw_TestRolePasswordNeverStored0";

/// How the next requests are answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Like the API: the role of a known branch, 404 otherwise.
    Normal,
    /// This status with an API-style error body.
    Status(u16),
    /// Accept the request and never answer.
    Hang,
    /// 200 with a body cut off in the middle.
    Malformed,
    /// 200 with a role whose PrivateLink fields are null.
    NoPrivateLink,
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Path and query.
    pub path: String,
    pub authorization: Option<String>,
    pub at: Instant,
}

/// A role's PrivateLink fields: (service name, private host), or none.
pub type RoleFields = Option<(String, String)>;

/// A known branch: whether it has a default role, and its roles.
struct Branch {
    default_role: bool,
    roles: Vec<RoleFields>,
}

/// The most roles the server puts on one page, whatever `per_page` asks,
/// as APIs cap their pages: clients must follow `next_page`.
pub const MAX_PER_PAGE: usize = 2;

struct State {
    authorization: String,
    behaviour: Behaviour,
    /// Answers for the next requests, before `behaviour`: (status,
    /// Retry-After).
    next: VecDeque<(u16, Option<String>)>,
    /// "/v1/organizations/{org}/databases/{db}/branches/{branch}" -> branch.
    branches: HashMap<String, Branch>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
pub struct FakeApi {
    /// The base URL, as the provider's `api_url` takes it.
    pub url: String,
    /// Over HTTPS, the certificate (PEM) of the CA that issued the
    /// server's: what a client must be told to trust.
    pub ca_pem: Option<String>,
    state: Arc<Mutex<State>>,
}

impl FakeApi {
    /// Starts the server on a free loopback port, accepting the service
    /// token `id:token`. It runs on its own thread until the test process
    /// ends.
    pub fn start(token_id: &str, token: &str) -> FakeApi {
        let state = new_state(token_id, token);
        let shared = state.clone();
        let address = super::serve_http(move |req| handle(req, shared.clone()));
        let url = format!("http://{address}/v1");
        FakeApi {
            url,
            ca_pem: None,
            state,
        }
    }

    /// [`FakeApi::start`] over HTTPS at `https://localhost:<port>/v1`,
    /// with a certificate from a CA of its own ([`FakeApi::ca_pem`]).
    pub fn start_https(token_id: &str, token: &str) -> FakeApi {
        let state = new_state(token_id, token);
        let shared = state.clone();
        let (ca_pem, tls) = localhost_tls();
        let address = super::serve_https(move |req| handle(req, shared.clone()), tls);
        let url = format!("https://localhost:{}/v1", address.port());
        FakeApi {
            url,
            ca_pem: Some(ca_pem),
            state,
        }
    }

    /// Makes a branch known, with a default role carrying its PrivateLink
    /// service and host.
    pub fn add_branch(&self, org: &str, db: &str, branch: &str, service_name: &str, host: &str) {
        self.state.lock().unwrap().branches.insert(
            branch_path(org, db, branch),
            Branch {
                default_role: true,
                roles: vec![Some((service_name.to_owned(), host.to_owned()))],
            },
        );
    }

    /// Makes a branch known without a default role, with these roles (none:
    /// a branch nobody created a role for yet).
    pub fn add_branch_roles(&self, org: &str, db: &str, branch: &str, roles: Vec<RoleFields>) {
        self.state.lock().unwrap().branches.insert(
            branch_path(org, db, branch),
            Branch {
                default_role: false,
                roles,
            },
        );
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.state.lock().unwrap().behaviour = behaviour;
    }

    /// Answers the next request (after those already queued) with this
    /// status and an API-style error body, and `Retry-After` if given.
    pub fn fail_next(&self, status: u16, retry_after: Option<&str>) {
        self.state
            .lock()
            .unwrap()
            .next
            .push_back((status, retry_after.map(str::to_owned)));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

fn new_state(token_id: &str, token: &str) -> Arc<Mutex<State>> {
    Arc::new(Mutex::new(State {
        authorization: format!("{token_id}:{token}"),
        behaviour: Behaviour::Normal,
        next: VecDeque::new(),
        branches: HashMap::new(),
        seen: Vec::new(),
    }))
}

/// A fresh CA (its certificate as PEM) and a server configuration with a
/// certificate it issued for `localhost`.
fn localhost_tls() -> (String, Arc<rustls::ServerConfig>) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name.push(
        DnType::CommonName,
        "Test CA of the PlanetScale API stand-in",
    );
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
            key.serialize_der(),
        )),
    )
    .unwrap();
    (ca.pem(), Arc::new(config))
}

fn branch_path(org: &str, db: &str, branch: &str) -> String {
    format!("/v1/organizations/{org}/databases/{db}/branches/{branch}")
}

/// The default role's path.
pub fn role_path(org: &str, db: &str, branch: &str) -> String {
    format!("{}/roles/default", branch_path(org, db, branch))
}

/// The path and query of a page of the role list.
pub fn roles_page_path(org: &str, db: &str, branch: &str, page: usize, per_page: usize) -> String {
    format!(
        "{}/roles?page={page}&per_page={per_page}",
        branch_path(org, db, branch)
    )
}

fn json(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    json(
        status,
        format!(r#"{{"code":"{code}","message":"{message}"}}"#),
    )
}

/// A page of the role list in the API's list envelope.
fn role_page(roles: &[RoleFields], page: usize, per_page: usize) -> String {
    let per_page = per_page.clamp(1, MAX_PER_PAGE);
    let start = (page.max(1) - 1) * per_page;
    let shown: Vec<String> = roles
        .iter()
        .skip(start)
        .take(per_page)
        .map(|r| match r {
            Some((service, host)) => role(Some(service), Some(host)),
            None => role(None, None),
        })
        .collect();
    let next = if start + per_page < roles.len() {
        (page.max(1) + 1).to_string()
    } else {
        "null".to_owned()
    };
    format!(
        r#"{{"type":"list","current_page":{page},"next_page":{next},"next_page_url":null,"prev_page":null,"prev_page_url":null,"data":[{}]}}"#,
        shown.join(",")
    )
}

/// A query parameter's number.
fn query_number(query: &str, name: &str) -> Option<usize> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
}

/// A role object with the fields the real API returns.
fn role(service_name: Option<&str>, host: Option<&str>) -> String {
    let field = |v: Option<&str>| v.map_or("null".to_owned(), |s| format!("\"{s}\""));
    format!(
        r#"{{"id":"pscale_role_7f3k2m","name":"postgres","access_host_url":"aws-us-east-1-1.pg.psdb.cloud",
"private_access_host_url":{},"private_connection_service_name":{},
"username":"postgres.7f3k2m","password":"{ROLE_PASSWORD}","database_name":"postgres",
"created_at":"2025-09-01T10:00:00.000Z","updated_at":"2025-09-01T10:00:00.000Z","deleted_at":null,
"expires_at":null,"dropped_at":null,"disabled_at":null,"drop_failed":null,"expired":false,"default":true,
"ttl":0,"inherited_roles":["postgres"],
"branch":{{"id":"br_1","name":"main","created_at":"2025-09-01T10:00:00.000Z","updated_at":"2025-09-01T10:00:00.000Z","deleted_at":null}},
"actor":{{"id":"act_1","display_name":"ci","avatar_url":"https://example.com/a.png"}},
"query_safety_settings":{{"require_where_on_delete":"off","require_where_on_update":"off"}}}}"#,
        field(host),
        field(service_name)
    )
}

/// What a request's path names.
enum Found {
    /// The default role's fields; `None` when there is no such branch or
    /// it has no default role.
    DefaultRole(Option<RoleFields>),
    /// The branch's roles; `None` when there is no such branch.
    Roles(Option<Vec<RoleFields>>),
    Nothing,
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (behaviour, once, authorized, found) = {
        let mut s = state.lock().unwrap();
        s.seen.push(Seen {
            path: if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            },
            authorization: authorization.clone(),
            at: Instant::now(),
        });
        let once = s.next.pop_front();
        let authorized = authorization.as_deref() == Some(s.authorization.as_str());
        let found = if let Some(branch) = path.strip_suffix("/roles/default") {
            Found::DefaultRole(
                s.branches
                    .get(branch)
                    .filter(|b| b.default_role)
                    .map(|b| b.roles.first().cloned().flatten()),
            )
        } else if let Some(branch) = path.strip_suffix("/roles") {
            Found::Roles(s.branches.get(branch).map(|b| b.roles.clone()))
        } else {
            Found::Nothing
        };
        (s.behaviour.clone(), once, authorized, found)
    };
    if behaviour == Behaviour::Hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if !authorized {
        return Ok(api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The access token is invalid",
        ));
    }
    if let Some((code, retry_after)) = once {
        let mut response = api_error(StatusCode::from_u16(code).unwrap(), "error", "Slow down");
        if let Some(value) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", value.parse().unwrap());
        }
        return Ok(response);
    }
    let not_found = || api_error(StatusCode::NOT_FOUND, "not_found", "Not Found");
    Ok(match behaviour {
        Behaviour::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap();
            api_error(status, "error", "Something went wrong")
        }
        Behaviour::Malformed => {
            let body = role(Some("x"), Some("y"));
            json(StatusCode::OK, body[..body.len() / 2].to_owned())
        }
        Behaviour::NoPrivateLink => json(StatusCode::OK, role(None, None)),
        Behaviour::Normal | Behaviour::Hang => match found {
            Found::DefaultRole(Some(Some((service, host)))) => {
                json(StatusCode::OK, role(Some(&service), Some(&host)))
            }
            Found::DefaultRole(Some(None)) => json(StatusCode::OK, role(None, None)),
            Found::Roles(Some(roles)) => json(
                StatusCode::OK,
                role_page(
                    &roles,
                    query_number(&query, "page").unwrap_or(1),
                    query_number(&query, "per_page").unwrap_or(25),
                ),
            ),
            Found::DefaultRole(None) | Found::Roles(None) | Found::Nothing => not_found(),
        },
    })
}
