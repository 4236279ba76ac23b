//! The lab's stand-in for ARC's data plane (moto has no `route53-recovery-cluster`): five
//! cluster endpoints on loopback, each a small HTTP/1.1 server, sharing one set of routing
//! control states and speaking the awsJson1_0 protocol the SDK sends (`POST /`,
//! `x-amz-target: ToggleCustomerAPI.<Op>`) for `GetRoutingControlState`,
//! `ListRoutingControls`, `UpdateRoutingControlState` and `UpdateRoutingControlStates`. Each
//! endpoint can be killed (connections refused), hung (accepted, never answered) and revived
//! on its own, and counts the requests it received.
//!
//! Rules kept here:
//! - one state for all endpoints: a change made through one is read through every other;
//! - the assertion safety rule [`SAFETY_RULE`] refuses an update (single or batch) that would
//!   leave no routing control On, with `ConflictException` (409) naming the rule, unless
//!   `SafetyRulesToOverride` names it ([`SAFETY_RULE`] or [`SAFETY_RULE_ARN`]);
//! - an update is all or nothing: an unknown ARN (404) or a state other than On/Off (400)
//!   anywhere in it changes nothing;
//! - errors are the JSON the SDK reads (`{"__type": code, "message": ...}`) with ARC's status;
//! - a hung request is never carried out, not even after a revive (it is dropped unanswered);
//! - every endpoint stops listening when the stand-in is dropped.
//!
//! (Past 500 lines: one small server and the four operations it answers, which share the
//! state and the error shapes; the tests are beside it in `arc/tests.rs`.)

use crate::settings::ArcEndpoint;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The regions of a real cluster's five endpoints, in the order [`ArcStandIn::endpoints`]
/// lists them.
pub const REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "ap-northeast-1",
    "ap-southeast-2",
];

/// The name of the stand-in's one safety rule.
pub const SAFETY_RULE: &str = "at-least-one-region-on";
/// Its ARN, as `SafetyRulesToOverride` names a rule on ARC.
pub const SAFETY_RULE_ARN: &str =
    "arn:aws:route53-recovery-control::000000000000:controlpanel/lab/safetyrule/at-least-one-region-on";
/// What the rule says when it refuses an update.
pub const SAFETY_RULE_REFUSAL: &str = "safety rule at-least-one-region-on: at least one routing \
     control must be On; the update would leave none";

/// How an endpoint treats a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Serving,
    /// Accept and never answer.
    Hanging,
    /// Not listening; a request still in flight is dropped.
    Dead,
}

#[derive(Debug, Clone)]
struct Control {
    arn: String,
    on: bool,
}

type States = Arc<Mutex<Vec<Control>>>;

struct Endpoint {
    region: &'static str,
    port: u16,
    mode: watch::Sender<Mode>,
    requests: Arc<AtomicUsize>,
    /// The accept loop; it owns the connections, so aborting it closes them.
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Endpoint {
    /// Serves `listener` on the runtime until killed.
    fn listen(&self, listener: TcpListener, states: &States) {
        let (mode, requests, states) =
            (self.mode.subscribe(), self.requests.clone(), states.clone());
        let task = tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                while conns.try_join_next().is_some() {}
                let (mode, requests, states) = (mode.clone(), requests.clone(), states.clone());
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        answer(req, mode.clone(), requests.clone(), states.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                        .await;
                });
            }
        });
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    fn running(&self) -> bool {
        self.task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }
}

/// Five ARC cluster endpoints on loopback sharing one state; stopped when dropped.
pub struct ArcStandIn {
    states: States,
    endpoints: Vec<Endpoint>,
}

impl ArcStandIn {
    /// Starts the five endpoints on free ports with `controls` (ARN, On). Needs a tokio
    /// runtime.
    pub async fn start(controls: &[(String, bool)]) -> Result<ArcStandIn, String> {
        let states: States = Arc::new(Mutex::new(
            controls
                .iter()
                .map(|(arn, on)| Control {
                    arn: arn.clone(),
                    on: *on,
                })
                .collect(),
        ));
        let mut endpoints = Vec::new();
        for region in REGIONS {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| format!("the ARC stand-in found no free port: {e}"))?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            let e = Endpoint {
                region,
                port,
                mode: watch::channel(Mode::Serving).0,
                requests: Arc::new(AtomicUsize::new(0)),
                task: Mutex::new(None),
            };
            e.listen(listener, &states);
            endpoints.push(e);
        }
        Ok(ArcStandIn { states, endpoints })
    }

    /// The endpoints, as the configuration lists them.
    pub fn endpoints(&self) -> Vec<ArcEndpoint> {
        self.endpoints
            .iter()
            .map(|e| ArcEndpoint {
                region: e.region.to_string(),
                url: format!("http://127.0.0.1:{}", e.port),
            })
            .collect()
    }

    /// The index of the endpoint in `region`.
    pub fn index_of(&self, region: &str) -> Option<usize> {
        self.endpoints.iter().position(|e| e.region == region)
    }

    /// Every routing control's state now (ARN, On), in the order they were given.
    pub fn state(&self) -> Vec<(String, bool)> {
        self.states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|c| (c.arn.clone(), c.on))
            .collect()
    }

    /// Whether the routing control `arn` is On (None: no such control).
    pub fn is_on(&self, arn: &str) -> Option<bool> {
        self.state()
            .into_iter()
            .find(|(a, _)| a == arn)
            .map(|(_, on)| on)
    }

    /// How many requests endpoint `i` has received (answered or hung).
    pub fn requests(&self, i: usize) -> usize {
        self.endpoints[i].requests.load(Ordering::SeqCst)
    }

    /// Stops endpoint `i` listening: connections are refused from now on, and the requests
    /// it holds are dropped unanswered.
    pub async fn kill(&self, i: usize) {
        let e = &self.endpoints[i];
        e.mode.send_replace(Mode::Dead);
        let task = e.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = task {
            t.abort();
            let _ = t.await;
        }
    }

    /// Makes endpoint `i` accept connections and never answer (listening again if killed).
    pub async fn hang(&self, i: usize) -> Result<(), String> {
        self.set(i, Mode::Hanging).await
    }

    /// Makes endpoint `i` answer again (listening again on its port if killed).
    pub async fn revive(&self, i: usize) -> Result<(), String> {
        self.set(i, Mode::Serving).await
    }

    async fn set(&self, i: usize, mode: Mode) -> Result<(), String> {
        let e = &self.endpoints[i];
        e.mode.send_replace(mode);
        if !e.running() {
            let listener = TcpListener::bind(("127.0.0.1", e.port))
                .await
                .map_err(|x| format!("the ARC stand-in cannot listen on {} again: {x}", e.port))?;
            e.listen(listener, &self.states);
        }
        Ok(())
    }
}

impl Drop for ArcStandIn {
    fn drop(&mut self) {
        for e in &self.endpoints {
            e.mode.send_replace(Mode::Dead);
            if let Some(t) = e.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
                t.abort();
            }
        }
    }
}

/// One request to an endpoint, in its current mode.
async fn answer(
    req: Request<Incoming>,
    mut mode: watch::Receiver<Mode>,
    requests: Arc<AtomicUsize>,
    states: States,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let now = *mode.borrow();
    match now {
        Mode::Dead => return Err(std::io::Error::other("the endpoint is dead")),
        Mode::Hanging => {
            requests.fetch_add(1, Ordering::SeqCst);
            let _ = mode.wait_for(|m| *m != Mode::Hanging).await;
            return Err(std::io::Error::other(
                "a hung request is dropped unanswered",
            ));
        }
        Mode::Serving => {}
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let post = req.method() == Method::POST && req.uri().path() == "/";
    let body = req
        .into_body()
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let (status, out) = if !post {
        Fault::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            "the cluster answers POST / only".into(),
        )
        .answer()
    } else {
        match serde_json::from_slice::<Value>(if body.is_empty() { b"{}" } else { &body }) {
            Err(e) => Fault::new(
                StatusCode::BAD_REQUEST,
                "SerializationException",
                format!("the request body is not JSON: {e}"),
            )
            .answer(),
            Ok(input) => {
                let op = target
                    .strip_prefix("ToggleCustomerAPI.")
                    .unwrap_or(target.as_str());
                let mut held = states.lock().unwrap_or_else(|e| e.into_inner());
                match operate(&mut held, op, &input) {
                    Ok(v) => (StatusCode::OK, v),
                    Err(f) => f.answer(),
                }
            }
        }
    };
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", "switchyard-lab-arc")
        .body(Full::new(Bytes::from(out.to_string())))
        .unwrap_or_default())
}

/// An error answer: the status, the code the SDK reads from `__type`, the message.
struct Fault {
    status: StatusCode,
    code: &'static str,
    message: String,
    resource: Option<(String, &'static str)>,
}

impl Fault {
    fn new(status: StatusCode, code: &'static str, message: String) -> Fault {
        Fault {
            status,
            code,
            message,
            resource: None,
        }
    }

    fn invalid(message: impl Into<String>) -> Fault {
        Fault::new(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            message.into(),
        )
    }

    fn not_found(arn: &str) -> Fault {
        Fault {
            resource: Some((arn.to_string(), "RoutingControl")),
            ..Fault::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                format!("routing control {arn} does not exist"),
            )
        }
    }

    fn answer(self) -> (StatusCode, Value) {
        let mut v = json!({ "__type": self.code, "message": self.message });
        if let Some((id, kind)) = self.resource {
            v["resourceId"] = json!(id);
            v["resourceType"] = json!(kind);
        }
        (self.status, v)
    }
}

/// The control panel of a routing control's ARN (the part before `/routingcontrol/`).
fn panel_of(arn: &str) -> &str {
    arn.split_once("/routingcontrol/").map_or(arn, |(p, _)| p)
}

fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn state_word(on: bool) -> &'static str {
    if on {
        "On"
    } else {
        "Off"
    }
}

fn string<'a>(input: &'a Value, field: &str) -> Result<&'a str, Fault> {
    input[field]
        .as_str()
        .ok_or_else(|| Fault::invalid(format!("{field} is required")))
}

/// One operation on the shared states.
fn operate(states: &mut [Control], op: &str, input: &Value) -> Result<Value, Fault> {
    match op {
        "GetRoutingControlState" => {
            let arn = string(input, "RoutingControlArn")?;
            let c = states
                .iter()
                .find(|c| c.arn == arn)
                .ok_or_else(|| Fault::not_found(arn))?;
            Ok(json!({
                "RoutingControlArn": c.arn,
                "RoutingControlName": last_segment(&c.arn),
                "RoutingControlState": state_word(c.on),
            }))
        }
        "ListRoutingControls" => list(states, input),
        "UpdateRoutingControlState" => {
            let entry = (
                string(input, "RoutingControlArn")?,
                string(input, "RoutingControlState")?,
            );
            update(states, &[entry], input)
        }
        "UpdateRoutingControlStates" => {
            let Some(list) = input["UpdateRoutingControlStateEntries"].as_array() else {
                return Err(Fault::invalid(
                    "UpdateRoutingControlStateEntries is required",
                ));
            };
            let entries = list
                .iter()
                .map(|e| {
                    Ok((
                        string(e, "RoutingControlArn")?,
                        string(e, "RoutingControlState")?,
                    ))
                })
                .collect::<Result<Vec<_>, Fault>>()?;
            update(states, &entries, input)
        }
        other => Err(Fault::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("the cluster has no operation '{other}'"),
        )),
    }
}

/// `ListRoutingControls`: every control (of `ControlPanelArn`, if given), paged by
/// `MaxResults` with the next index as `NextToken`.
fn list(states: &[Control], input: &Value) -> Result<Value, Fault> {
    let panel = input["ControlPanelArn"].as_str();
    let mine: Vec<&Control> = states
        .iter()
        .filter(|c| panel.is_none_or(|p| panel_of(&c.arn) == p))
        .collect();
    if let (Some(p), true) = (panel, mine.is_empty()) {
        return Err(Fault {
            resource: Some((p.to_string(), "ControlPanel")),
            ..Fault::new(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                format!("control panel {p} does not exist"),
            )
        });
    }
    let from = match input["NextToken"].as_str() {
        None => 0,
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| Fault::invalid(format!("NextToken '{t}' is not one this cluster gave")))?,
    };
    let max = input["MaxResults"].as_u64().unwrap_or(500).max(1) as usize;
    let page: Vec<Value> = mine
        .iter()
        .skip(from)
        .take(max)
        .map(|c| {
            json!({
                "ControlPanelArn": panel_of(&c.arn),
                "ControlPanelName": last_segment(panel_of(&c.arn)),
                "RoutingControlArn": c.arn,
                "RoutingControlName": last_segment(&c.arn),
                "RoutingControlState": state_word(c.on),
                "Owner": "000000000000",
            })
        })
        .collect();
    let mut out = json!({ "RoutingControls": page });
    if from + max < mine.len() {
        out["NextToken"] = json!((from + max).to_string());
    }
    Ok(out)
}

/// An update of one or more controls: checked whole, then the safety rule, then applied
/// whole.
fn update(states: &mut [Control], entries: &[(&str, &str)], input: &Value) -> Result<Value, Fault> {
    let mut next: Vec<bool> = states.iter().map(|c| c.on).collect();
    for (arn, state) in entries {
        let on = match *state {
            "On" => true,
            "Off" => false,
            other => {
                return Err(Fault::invalid(format!(
                    "RoutingControlState '{other}' is not On or Off"
                )))
            }
        };
        let i = states
            .iter()
            .position(|c| c.arn == *arn)
            .ok_or_else(|| Fault::not_found(arn))?;
        next[i] = on;
    }
    let overridden = input["SafetyRulesToOverride"]
        .as_array()
        .is_some_and(|rules| {
            rules.iter().any(|r| {
                r.as_str()
                    .is_some_and(|r| r == SAFETY_RULE || r == SAFETY_RULE_ARN)
            })
        });
    if !overridden && !next.iter().any(|on| *on) {
        return Err(Fault {
            resource: Some((SAFETY_RULE_ARN.to_string(), "SafetyRule")),
            ..Fault::new(
                StatusCode::CONFLICT,
                "ConflictException",
                SAFETY_RULE_REFUSAL.to_string(),
            )
        });
    }
    for (c, on) in states.iter_mut().zip(next) {
        c.on = on;
    }
    Ok(json!({}))
}

#[cfg(test)]
mod tests;
