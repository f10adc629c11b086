//! A fault-injecting EC2 proxy between the provider and the emulator, for
//! what the emulator cannot show: throttling, server errors, connection
//! resets (before and after the emulator handled a call), latency, eventual
//! consistency, endpoint states other than `available`, and
//! DependencyViolation. It counts calls by action, so tests and benchmarks
//! can say how many EC2 calls a command made.
//!
//! It can also go silent: accept connections and read requests, and never
//! answer, as EC2 (or a proxy or firewall on the way) does when it hangs.
//!
//! Where the emulator lacks an AWS guarantee the provider relies on, the
//! proxy supplies it and says so: CreateVpcEndpoint is idempotent per
//! ClientToken on AWS, and is made so here.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// An endpoint state the proxy reports instead of the emulator's.
#[derive(Clone, Debug)]
pub struct StateRewrite {
    pub state: String,
    /// How many endpoint answers to rewrite; `None` for all of them.
    pub times: Option<u32>,
    /// The API's last error to report with the state.
    pub last_error: Option<(String, String)>,
}

/// What to inject; every field combines with the others.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Share of calls answered `RequestLimitExceeded` (503), 0.0 to 1.0.
    pub throttle: f64,
    /// Share of calls answered `Unavailable` (503).
    pub unavailable: f64,
    /// Share of calls whose connection is reset before they reach the emulator.
    pub reset_before: f64,
    /// Share of calls whose connection is reset after the emulator handled them.
    pub reset_after: f64,
    /// Added to every call.
    pub latency: Duration,
    /// DescribeVpcEndpoints answers NotFound for a new endpoint this many
    /// times after its create (eventual consistency).
    pub not_found_after_create: u32,
    pub endpoint_state: Option<StateRewrite>,
    /// The first call of this action has its connection reset after the
    /// emulator handled it: the answer is lost, the effect is not.
    pub lose_first_answer_of: Option<String>,
    /// The next this many calls of this action have their connection reset
    /// after the emulator (or, for a create with a ClientToken seen before,
    /// the proxy's idempotency cache) answered them.
    pub lose_answers_of: Option<(String, u32)>,
    /// DeleteSecurityGroup answers DependencyViolation while an endpoint
    /// uses the group, and for this long after the endpoint's delete (AWS
    /// releases the endpoint's interfaces asynchronously). `None`: off.
    pub dependency_hold: Option<Duration>,
    /// Once a call of this action has been answered, every later call is
    /// read and never answered: the connection stays open and silent, as
    /// with an EC2 endpoint (or a middlebox) that hangs mid-apply.
    pub silent_after: Option<String>,
    /// Every call of this action is refused `AccessDenied` (403), as for
    /// credentials whose policy leaves the action out.
    pub denied: Option<String>,
}

/// One fault at one call: the `occurrence`-th call (from 0) of `action`
/// since the injection was set. The fault matrix enumerates these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Injection {
    pub action: String,
    pub occurrence: u32,
    pub fault: Fault,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The request is read and never answered.
    BlackHole,
    /// The request reaches the emulator and takes effect; its connection
    /// is reset before the answer: the answer is lost.
    LoseAnswer,
    /// This call and every later call of the action are answered
    /// `RequestLimitExceeded` until the injection is cleared.
    Throttle,
    /// This call is answered once with this HTTP status and error code;
    /// `after_effect`: only after the emulator handled it (an earlier
    /// attempt's effect, as "already deleted" or "already there" say).
    Error {
        status: u16,
        code: String,
        after_effect: bool,
    },
}

#[derive(Default)]
struct State {
    faults: Faults,
    counts: BTreeMap<String, u64>,
    /// Every call's action, in the order they came.
    trace: Vec<String>,
    /// Each call since [`Proxy::reset_counts`]: its action, when it came
    /// and when it was answered (`None` while it is not).
    timeline: Vec<(String, Instant, Option<Instant>)>,
    injection: Option<Injection>,
    /// Calls of each action since the injection was set.
    seen: HashMap<String, u32>,
    /// Calls held by a black hole.
    held: u32,
    /// ClientToken -> the emulator's answer to the first create with it.
    create_answers: HashMap<String, (StatusCode, Bytes)>,
    /// Endpoint id -> (its security groups, when it was deleted).
    endpoints: HashMap<String, (Vec<String>, Option<Instant>)>,
    /// Endpoint id -> NotFound answers still to give.
    hidden: HashMap<String, u32>,
    /// Endpoints created through the proxy, in order.
    created: Vec<String>,
    /// [`Faults::silent_after`] took effect: nothing is answered any more.
    silent: bool,
}

#[derive(Clone)]
pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on a free loopback port. It runs on its
    /// own thread until the test process ends.
    pub fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("upstream as http://127.0.0.1:port");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let address = super::serve_http(move |req| handle(req, upstream, shared.clone()));
        let url = format!("http://{address}");
        Proxy { url, state }
    }

    /// Replaces the faults; a proxy gone silent answers again (calls
    /// already held stay unanswered).
    pub fn set_faults(&self, faults: Faults) {
        let mut s = self.state.lock().unwrap();
        s.faults = faults;
        s.silent = false;
    }

    /// Calls seen so far, by action.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.state.lock().unwrap().counts.clone()
    }

    pub fn reset_counts(&self) {
        let mut s = self.state.lock().unwrap();
        s.counts.clear();
        s.timeline.clear();
    }

    /// The calls since [`Proxy::reset_counts`], in the order they came:
    /// each action with when it came and when it was answered, from the
    /// first call's arrival.
    pub fn timeline(&self) -> Vec<(String, Duration, Option<Duration>)> {
        let s = self.state.lock().unwrap();
        let Some(first) = s.timeline.first().map(|(_, at, _)| *at) else {
            return Vec::new();
        };
        s.timeline
            .iter()
            .map(|(action, came, answered)| {
                (action.clone(), *came - first, answered.map(|a| a - first))
            })
            .collect()
    }

    /// Sets (or, with `None`, clears) the one injected fault, and starts
    /// counting each action's calls afresh.
    pub fn inject(&self, injection: Option<Injection>) {
        let mut s = self.state.lock().unwrap();
        s.injection = injection;
        s.seen.clear();
    }

    /// Whether the injected fault has been served.
    pub fn injected(&self) -> bool {
        let s = self.state.lock().unwrap();
        s.injection
            .as_ref()
            .is_some_and(|i| s.seen.get(&i.action).is_some_and(|n| *n > i.occurrence))
    }

    /// How many calls a black hole holds.
    pub fn held(&self) -> u32 {
        self.state.lock().unwrap().held
    }

    /// The actions called since the last [`take_trace`](Self::take_trace),
    /// in order, and a fresh trace.
    pub fn take_trace(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().trace)
    }

    pub fn total(&self) -> u64 {
        self.state.lock().unwrap().counts.values().sum()
    }

    /// Endpoints the emulator created through this proxy (duplicates of one
    /// resource would show here).
    pub fn created_endpoints(&self) -> Vec<String> {
        self.state.lock().unwrap().created.clone()
    }
}

/// An answer, or an error that resets the connection.
pub type Reply = Result<Response<Full<Bytes>>, std::io::Error>;

/// The pairs of a form-encoded EC2 Query body, decoded, in order.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    url_decode_pairs(body)
}

/// A form-encoded EC2 Query body from name-value pairs.
pub fn encode_form(pairs: &[(String, String)]) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn url_decode_pairs(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An EC2 Query error answer, as EC2 writes them.
pub fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    error_from(status, code, message, "proxy-injected")
}

/// The Route 53 operation a REST request calls, from its method and path
/// (the API reference's request syntax).
pub fn route53_action(method: &str, path: &str) -> Option<String> {
    let rest = path.strip_prefix("/2013-04-01/")?;
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let action = match (method, parts.as_slice()) {
        ("POST", ["hostedzone"]) => "CreateHostedZone",
        ("GET", ["hostedzone"]) => "ListHostedZones",
        ("GET", ["hostedzone", _]) => "GetHostedZone",
        ("DELETE", ["hostedzone", _]) => "DeleteHostedZone",
        ("POST", ["hostedzone", _]) => "UpdateHostedZoneComment",
        ("POST", ["hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
        ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
        ("POST", ["hostedzone", _, "associatevpc"]) => "AssociateVPCWithHostedZone",
        ("POST", ["hostedzone", _, "disassociatevpc"]) => "DisassociateVPCFromHostedZone",
        ("POST", ["hostedzone", _, "authorizevpcassociation"]) => {
            "CreateVPCAssociationAuthorization"
        }
        ("GET", ["hostedzone", _, "authorizevpcassociation"]) => "ListVPCAssociationAuthorizations",
        ("POST", ["hostedzone", _, "deauthorizevpcassociation"]) => {
            "DeleteVPCAssociationAuthorization"
        }
        ("GET", ["hostedzonesbyname"]) => "ListHostedZonesByName",
        ("GET", ["hostedzonesbyvpc"]) => "ListHostedZonesByVPC",
        ("GET", ["change", _]) => "GetChange",
        ("GET", ["tags", _, _]) => "ListTagsForResource",
        ("POST", ["tags", _, _]) => "ChangeTagsForResource",
        _ => return None,
    };
    Some(action.to_owned())
}

/// Whether `action` is one of the Route 53 operations [`route53_action`]
/// names.
pub fn is_route53(action: &str) -> bool {
    ROUTE53_ACTIONS.contains(&action)
}

const ROUTE53_ACTIONS: &[&str] = &[
    "CreateHostedZone",
    "ListHostedZones",
    "GetHostedZone",
    "DeleteHostedZone",
    "UpdateHostedZoneComment",
    "ChangeResourceRecordSets",
    "ListResourceRecordSets",
    "AssociateVPCWithHostedZone",
    "DisassociateVPCFromHostedZone",
    "CreateVPCAssociationAuthorization",
    "ListVPCAssociationAuthorizations",
    "DeleteVPCAssociationAuthorization",
    "ListHostedZonesByName",
    "ListHostedZonesByVPC",
    "GetChange",
    "ListTagsForResource",
    "ChangeTagsForResource",
];

/// An error answer in the shape of the service `action` belongs to: STS's
/// and Route 53's `ErrorResponse` (AWS Query and REST-XML) for theirs,
/// else EC2's.
pub fn error_of(action: &str, status: StatusCode, code: &str, message: &str) -> Reply {
    let namespace = if is_route53(action) {
        "https://route53.amazonaws.com/doc/2013-04-01/"
    } else if matches!(
        action,
        "GetCallerIdentity" | "AssumeRole" | "AssumeRoleWithWebIdentity"
    ) {
        "https://sts.amazonaws.com/doc/2011-06-15/"
    } else {
        return error(status, code, message);
    };
    let message = xml_escape(message);
    let body = format!(
        "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>proxy-injected</RequestId></ErrorResponse>"
    );
    Ok(Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .body(Full::new(Bytes::from(body)))
        .unwrap())
}

/// An EC2 Query error answer with the given request id, which says who
/// answered it.
pub fn error_from(status: StatusCode, code: &str, message: &str, request_id: &str) -> Reply {
    let message = xml_escape(message);
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
    );
    Ok(Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .body(Full::new(Bytes::from(body)))
        .unwrap())
}

fn reset() -> Reply {
    Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "injected reset",
    ))
}

/// `&`, `<` and `>` escaped for XML text.
pub fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The value of `<tag>` inside each `<item>` of an XML text (good enough for
/// the emulator's flat answers).
pub fn values(xml: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(after[..end].to_owned());
        rest = &after[end..];
    }
    out
}

/// [`serve`], noting in the timeline when the call was answered.
async fn handle(req: Request<Incoming>, upstream: SocketAddr, state: Arc<Mutex<State>>) -> Reply {
    let index = {
        let mut s = state.lock().unwrap();
        s.timeline.push((String::new(), Instant::now(), None));
        s.timeline.len() - 1
    };
    let reply = serve(req, upstream, state.clone(), index).await;
    let mut s = state.lock().unwrap();
    if let Some(call) = s.timeline.get_mut(index) {
        call.2 = Some(Instant::now());
    }
    reply
}

async fn serve(
    req: Request<Incoming>,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
    index: usize,
) -> Reply {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let params = form(&body);
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let list = |prefix: &str| -> Vec<String> {
        params
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let action = param("Action")
        .or_else(|| route53_action(parts.method.as_str(), parts.uri.path()))
        .unwrap_or_else(|| "unknown".into());

    let (faults, silent, injected) = {
        let mut s = state.lock().unwrap();
        *s.counts.entry(action.clone()).or_default() += 1;
        s.trace.push(action.clone());
        if let Some(call) = s.timeline.get_mut(index) {
            call.0.clone_from(&action);
        }
        let seen = s.seen.entry(action.clone()).or_default();
        let nth = *seen;
        *seen += 1;
        let injected = s
            .injection
            .as_ref()
            .filter(|i| i.action == action)
            .and_then(|i| match &i.fault {
                _ if nth == i.occurrence => Some(i.fault.clone()),
                Fault::Throttle if nth > i.occurrence => Some(Fault::Throttle),
                _ => None,
            });
        if injected == Some(Fault::BlackHole) {
            s.held += 1;
        }
        (s.faults.clone(), s.silent, injected)
    };
    if silent || injected == Some(Fault::BlackHole) {
        // Read, and never answered: the caller's own timeouts must end it.
        return std::future::pending().await;
    }
    match &injected {
        Some(Fault::Throttle) => {
            return error_of(
                &action,
                StatusCode::SERVICE_UNAVAILABLE,
                "RequestLimitExceeded",
                "Request limit exceeded.",
            );
        }
        Some(Fault::Error {
            status,
            code,
            after_effect,
        }) => {
            if *after_effect {
                forward(upstream, parts, body).await?;
            }
            return error_of(
                &action,
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
                code,
                &format!("{code} (injected by the fault matrix)"),
            );
        }
        _ => {}
    }
    if faults.denied.as_deref() == Some(action.as_str()) {
        return error_of(
            &action,
            StatusCode::FORBIDDEN,
            "AccessDenied",
            &format!("User is not authorized to perform: route53:{action}"),
        );
    }
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    let roll = fastrand::f64();
    if roll < faults.throttle {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "RequestLimitExceeded",
            "Request limit exceeded.",
        );
    }
    if roll < faults.throttle + faults.unavailable {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            "The service is unavailable. Please try again shortly.",
        );
    }
    if roll < faults.throttle + faults.unavailable + faults.reset_before {
        return reset();
    }

    // AWS guarantee the emulator lacks: a repeated ClientToken returns the
    // first endpoint instead of making another.
    let token = (action == "CreateVpcEndpoint")
        .then(|| param("ClientToken"))
        .flatten();
    if let Some(token) = &token {
        let cached = state.lock().unwrap().create_answers.get(token).cloned();
        if let Some((status, body)) = cached {
            if lose_answer(&state, &action) {
                return reset();
            }
            return Ok(Response::builder()
                .status(status)
                .header("content-type", "text/xml")
                .body(Full::new(body))
                .unwrap());
        }
    }

    if action == "DeleteSecurityGroup"
        && let (Some(hold), Some(group)) = (faults.dependency_hold, param("GroupId"))
    {
        let s = state.lock().unwrap();
        let in_use = s.endpoints.iter().find(|(_, (groups, deleted))| {
            groups.contains(&group) && deleted.is_none_or(|at| at.elapsed() < hold)
        });
        if let Some((endpoint, _)) = in_use {
            return error(
                StatusCode::BAD_REQUEST,
                "DependencyViolation",
                &format!("resource {group} has a dependent object ({endpoint})"),
            );
        }
    }

    if action == "DescribeVpcEndpoints" {
        let mut s = state.lock().unwrap();
        for id in list("VpcEndpointId.") {
            if let Some(left) = s.hidden.get_mut(&id).filter(|n| **n > 0) {
                *left -= 1;
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidVpcEndpointId.NotFound",
                    &format!("The Vpc Endpoint Id '{id}' does not exist"),
                );
            }
        }
    }

    // Forward.
    let (status, answer) = forward(upstream, parts, body.clone()).await?;
    let mut text = String::from_utf8_lossy(&answer).into_owned();

    if status.is_success() {
        let mut s = state.lock().unwrap();
        match action.as_str() {
            "CreateVpcEndpoint" => {
                if let Some(id) = values(&text, "vpcEndpointId").into_iter().next() {
                    s.endpoints
                        .insert(id.clone(), (list("SecurityGroupId."), None));
                    s.created.push(id.clone());
                    if faults.not_found_after_create > 0 {
                        s.hidden.insert(id, faults.not_found_after_create);
                    }
                }
            }
            "DeleteVpcEndpoints" => {
                for id in list("VpcEndpointId.") {
                    if let Some(entry) = s.endpoints.get_mut(&id) {
                        entry.1.get_or_insert_with(Instant::now);
                    }
                }
            }
            _ => {}
        }
        if matches!(
            action.as_str(),
            "CreateVpcEndpoint" | "DescribeVpcEndpoints"
        ) && let Some(rewrite) = s.faults.endpoint_state.as_mut()
            && rewrite.times != Some(0)
            && text.contains("<state>available</state>")
        {
            let mut replacement = format!("<state>{}</state>", rewrite.state);
            if let Some((code, message)) = &rewrite.last_error {
                replacement.push_str(&format!(
                    "<lastError><code>{code}</code><message>{message}</message></lastError>"
                ));
            }
            text = text.replace("<state>available</state>", &replacement);
            if let Some(n) = rewrite.times.as_mut() {
                *n -= 1;
            }
        }
        if let Some(token) = token {
            s.create_answers
                .insert(token, (status, Bytes::from(text.clone())));
        }
    }

    if fastrand::f64() < faults.reset_after || injected == Some(Fault::LoseAnswer) {
        return reset();
    }
    if faults.lose_first_answer_of.as_deref() == Some(action.as_str()) {
        state.lock().unwrap().faults.lose_first_answer_of = None;
        return reset();
    }
    if lose_answer(&state, &action) {
        return reset();
    }
    if faults.silent_after.as_deref() == Some(action.as_str()) {
        state.lock().unwrap().silent = true;
    }
    Ok(Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .body(Full::new(Bytes::from(text)))
        .unwrap())
}

/// Whether this answer of `action` is one [`Faults::lose_answers_of`] loses
/// (and counts it).
fn lose_answer(state: &Mutex<State>, action: &str) -> bool {
    let mut s = state.lock().unwrap();
    match s.faults.lose_answers_of.as_mut() {
        Some((lost, left)) if lost == action && *left > 0 => {
            *left -= 1;
            true
        }
        _ => false,
    }
}

/// Sends a request (its head from `parts`, with `body`) to `upstream` and
/// returns the answer's status and body.
pub async fn forward(
    upstream: SocketAddr,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<(StatusCode, Bytes), std::io::Error> {
    let tcp = tokio::net::TcpStream::connect(upstream).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    let mut req = Request::builder().method(parts.method).uri(
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/"),
    );
    for (k, v) in &parts.headers {
        req = req.header(k, v);
    }
    let response = sender
        .send_request(req.body(Full::new(body)).unwrap())
        .await
        .map_err(std::io::Error::other)?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    Ok((status, bytes))
}
