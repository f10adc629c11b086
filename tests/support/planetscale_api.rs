//! A stand-in for the PlanetScale API on loopback: it answers
//! `GET /v1/organizations/{org}/databases/{db}/branches/{branch}/roles/default`
//! with a role object shaped like the real API's (credentials included, so
//! tests can check they go nowhere), checks the `Authorization` header the
//! way the API does, and fails on demand.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    pub path: String,
    pub authorization: Option<String>,
}

struct State {
    authorization: String,
    behaviour: Behaviour,
    /// Path -> (service name, private host).
    branches: HashMap<String, (String, String)>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
pub struct FakeApi {
    /// The base URL, as the provider's `api_url` takes it.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FakeApi {
    /// Starts the server on a free loopback port, accepting the service
    /// token `id:token`. It runs on its own thread until the test process
    /// ends.
    pub fn start(token_id: &str, token: &str) -> FakeApi {
        let state = Arc::new(Mutex::new(State {
            authorization: format!("{token_id}:{token}"),
            behaviour: Behaviour::Normal,
            branches: HashMap::new(),
            seen: Vec::new(),
        }));
        let shared = state.clone();
        let address = super::serve_http(move |req| handle(req, shared.clone()));
        let url = format!("http://{address}/v1");
        FakeApi { url, state }
    }

    /// Makes a branch known, with its PrivateLink service and host.
    pub fn add_branch(&self, org: &str, db: &str, branch: &str, service_name: &str, host: &str) {
        self.state.lock().unwrap().branches.insert(
            role_path(org, db, branch),
            (service_name.to_owned(), host.to_owned()),
        );
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.state.lock().unwrap().behaviour = behaviour;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

pub fn role_path(org: &str, db: &str, branch: &str) -> String {
    format!("/v1/organizations/{org}/databases/{db}/branches/{branch}/roles/default")
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

async fn handle(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_owned();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (behaviour, authorized, branch) = {
        let mut s = state.lock().unwrap();
        s.seen.push(Seen {
            path: path.clone(),
            authorization: authorization.clone(),
        });
        (
            s.behaviour.clone(),
            authorization.as_deref() == Some(s.authorization.as_str()),
            s.branches.get(&path).cloned(),
        )
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
        Behaviour::Normal | Behaviour::Hang => match branch {
            Some((service, host)) => json(StatusCode::OK, role(Some(&service), Some(&host))),
            None => api_error(StatusCode::NOT_FOUND, "not_found", "Not Found"),
        },
    })
}
