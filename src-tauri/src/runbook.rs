//! `switchyard failover` and `switchyard command`: the runbook's way to fail over and to send
//! commands. They talk to a running console's HTTP API (the engine lives there) through the
//! API's one client (`api::client`, http or https), print every change of phase and step, and
//! exit with a status a script can test: 0 completed or nothing to do, 3 completed with
//! exceptions, 1 refused or failed.
//!
//! Rules kept here:
//! - The console is `--server`, else `SWITCHYARD_SERVER`; an https console is verified against
//!   `--ca-file` when given, else the system's roots.
//! - A password is read from `SWITCHYARD_PASSWORD` only, and never printed.

use crate::api::client::{BlockingClient, Client, ClientError, ClientOptions, Request, Response};
use crate::cli::ConsoleArgs;
use std::time::{Duration, Instant};
use switchyard_core::failover::{Failover, FailoverRequest, Phase};
use switchyard_core::moving::{utc_time, StragglerMethod, StragglerState, Stragglers};

/// Who the runbook acts as, and the console it talks to: the operator name (for a console
/// without logins), or a session made by signing in.
pub struct Caller {
    client: BlockingClient,
    /// Whether `--ca-file` was given (a TLS error then does not suggest it).
    ca_file: bool,
    pub operator: String,
    /// `sy_session=…`, once signed in.
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Caller {
    /// `req` as this caller: the operator, and the session's cookie and CSRF token.
    fn request(&self, req: Request) -> Request {
        let mut req = req.operator(&self.operator);
        if let Some(c) = &self.cookie {
            req = req.cookie(c);
        }
        if let Some(t) = &self.csrf {
            req = req.csrf(t);
        }
        req
    }

    /// One exchange with the console; any status is an answer.
    fn send(&self, req: Request) -> Result<Response, String> {
        self.client
            .send(self.request(req))
            .map_err(|e| self.explain(e))
    }

    fn get(&self, path: &str) -> Result<Response, String> {
        self.send(Request::get(path))
    }

    fn post<T: serde::Serialize + ?Sized>(&self, path: &str, body: &T) -> Result<Response, String> {
        let req = Request::post(path).json(body).map_err(|e| e.to_string())?;
        self.send(req)
    }

    fn server(&self) -> &str {
        self.client.server()
    }

    /// The client's error as the runbook says it: a bad address names `--server`; an
    /// untrusted certificate points at `--ca-file`.
    fn explain(&self, e: ClientError) -> String {
        explain(e, self.ca_file)
    }
}

fn explain(e: ClientError, ca_file: bool) -> String {
    match e {
        ClientError::BadUrl { .. } => format!("--server {e}"),
        ClientError::CaFile { .. } => format!("--ca-file {e}"),
        ClientError::Tls { .. } if !ca_file => format!(
            "{e} (a console with a certificate of a private CA: give that CA's certificate with --ca-file)"
        ),
        e => e.to_string(),
    }
}

/// Signs in to the console as `user` with the password in `SWITCHYARD_PASSWORD` (never on the
/// command line); without a user, acts under `operator` (a console started with --no-auth).
pub fn sign_in(
    console: &ConsoleArgs,
    operator: &str,
    user: Option<&str>,
) -> Result<Caller, String> {
    let options = ClientOptions {
        ca_file: console.ca_file.clone(),
        ..ClientOptions::default()
    };
    let ca_file = console.ca_file.is_some();
    let client = Client::with_options(&console.server, options)
        .and_then(BlockingClient::new)
        .map_err(|e| explain(e, ca_file))?;
    let mut caller = Caller {
        client,
        ca_file,
        operator: operator.to_string(),
        cookie: None,
        csrf: None,
    };
    let Some(user) = user else {
        return Ok(caller);
    };
    let password = std::env::var("SWITCHYARD_PASSWORD")
        .map_err(|_| format!("--user {user}: put the password in SWITCHYARD_PASSWORD"))?;
    let body = serde_json::json!({ "username": user, "password": password });
    let resp = caller.post("/api/v1/session", &body)?;
    if resp.status != 200 {
        return Err(format!("signing in as {user}: {}", resp.error_message()));
    }
    let cookie = resp
        .set_cookie()
        .ok_or_else(|| format!("signing in as {user}: the console set no session cookie"))?;
    let info: switchyard_core::auth::SessionInfo =
        serde_json::from_slice(&resp.body).map_err(|e| format!("signing in as {user}: {e}"))?;
    caller.operator = info.username;
    caller.cookie = Some(cookie);
    caller.csrf = Some(info.csrf);
    Ok(caller)
}

/// Runs a failover to `target` through the caller's console; returns the exit code.
pub fn failover(
    operator: &Caller,
    target: &str,
    reason: &str,
    override_warnings: bool,
    wait: Duration,
) -> Result<u8, String> {
    let req = FailoverRequest {
        target: target.to_string(),
        confirm: target.to_string(),
        reason: reason.to_string(),
        override_warnings,
    };
    let resp = operator.post("/api/v1/failovers", &req)?;
    let f: Failover = match resp.status {
        202 => resp.json().map_err(|e| e.to_string())?,
        200 => {
            println!("{}", api_nothing(&resp));
            return Ok(0);
        }
        status => return Err(format!("refused ({status}): {}", resp.error_message())),
    };
    println!(
        "failover {} requested: {} → {} (preflight {:?}); {} devices online in {} before",
        f.id, f.source, f.target, f.preflight.overall, f.online_before, f.source
    );
    let started = Instant::now();
    let (mut phase, mut steps_seen, mut back) = (None, 0usize, u64::MAX);
    let (mut told_ttl, mut last_stragglers, mut last_curve) = (false, String::new(), None);
    loop {
        let resp = operator.get(&format!("/api/v1/failovers/{}", f.id))?;
        if resp.status != 200 {
            return Err(format!(
                "lost the failover ({}): {}",
                resp.status,
                resp.error_message()
            ));
        }
        let cur: Failover = resp.json().map_err(|e| e.to_string())?;
        for s in cur.steps.iter().skip(steps_seen) {
            if let Some(outcome) = &s.outcome {
                println!(
                    "  step: {} — {outcome}{}",
                    s.step,
                    if s.detail.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", s.detail)
                    }
                );
            }
        }
        steps_seen = cur.steps.iter().take_while(|s| s.outcome.is_some()).count();
        if phase != Some(cur.phase) {
            println!("phase: {}", cur.phase.as_str());
            phase = Some(cur.phase);
        }
        if let (Some(by), false) = (cur.reresolve_by(), told_ttl) {
            println!(
                "  devices re-resolve by {} (TTL {} s); nobody is moved before",
                utc_time(by),
                cur.dns_ttl_secs
            );
            told_ttl = true;
        }
        if let Some(st) = &cur.stragglers {
            let line = stragglers_line(st);
            if line != last_stragglers {
                println!("  {line}");
                last_stragglers = line;
            }
        }
        if let Some(p) = cur.curve.last() {
            if last_curve.is_none_or(|at: Instant| at.elapsed() >= CURVE_EVERY) {
                let eta = match cur.complete_eta {
                    Some(at) => format!("complete share by {}", utc_time(at)),
                    None => "not rising".to_string(),
                };
                println!(
                    "  curve: {} online in {}, {} in {}; {eta}",
                    p.source, cur.source, p.target, cur.target
                );
                last_curve = Some(Instant::now());
            }
        }
        if cur.back != back && cur.phase == Phase::Verifying {
            println!(
                "  {} of {} devices back in {}",
                cur.back, cur.online_before, cur.target
            );
            back = cur.back;
        }
        match cur.phase {
            Phase::Completed => {
                println!(
                    "completed in {:.1} s: {} of {} devices back",
                    started.elapsed().as_secs_f64(),
                    cur.back,
                    cur.online_before
                );
                return Ok(0);
            }
            Phase::CompletedWithExceptions => {
                println!(
                    "completed with exceptions: {}",
                    cur.outcome.unwrap_or_default()
                );
                return Ok(3);
            }
            Phase::Failed | Phase::Cancelled => {
                println!(
                    "{}: {}",
                    cur.phase.as_str(),
                    cur.outcome.unwrap_or_default()
                );
                return Ok(1);
            }
            Phase::AwaitingApproval
                if started.elapsed() > Duration::from_secs(1)
                    && phase == Some(Phase::AwaitingApproval) =>
            {
                println!("waiting for another operator to approve (two-person rule): POST /api/v1/failovers/{}/approve", cur.id);
                return Ok(0);
            }
            _ => {}
        }
        if started.elapsed() > wait {
            println!(
                "still {} after {} s; follow it at {}/api/v1/failovers/{}",
                cur.phase.as_str(),
                wait.as_secs(),
                operator.server(),
                cur.id
            );
            return Ok(3);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// How often the curve's figures are printed while a failover is followed.
const CURVE_EVERY: Duration = Duration::from_secs(10);

/// The straggler step in one line: its state, its counts, its estimate before it starts.
fn stragglers_line(st: &Stragglers) -> String {
    let verb = if st.method == StragglerMethod::Command {
        "told"
    } else {
        "disconnected"
    };
    let mut line = format!(
        "stragglers on {} ({}, {}/s): {:?}",
        st.region,
        st.method.as_str(),
        st.rate_per_s,
        st.state
    )
    .to_lowercase();
    if st.found > 0 || st.state != StragglerState::Waiting {
        line.push_str(&format!(
            " — {} {verb}, {} already gone, {} failed of {} found",
            st.moved, st.already_gone, st.failed, st.found
        ));
    } else if let Some(e) = &st.estimate {
        line.push_str(&format!(" — {}", e.message));
    }
    if !st.detail.is_empty() {
        line.push_str(&format!(": {}", st.detail));
    }
    line
}

fn api_nothing(resp: &Response) -> String {
    resp.json::<serde_json::Value>()
        .ok()
        .and_then(|v| v["nothing_to_do"].as_str().map(str::to_string))
        .unwrap_or_else(|| "nothing to do".into())
}

/// Parses `KIND:VALUE` (`group:sensors`, `region:us-east-1`, `devices:a,b`, `query:cam`).
pub fn parse_target(s: &str) -> Result<switchyard_core::commands::Target, String> {
    use switchyard_core::commands::Target;
    let (kind, value) = s.split_once(':').ok_or_else(|| {
        format!("--target {s}: write KIND:VALUE with KIND group, region, devices or query")
    })?;
    if value.is_empty() {
        return Err(format!("--target {s}: the value after '{kind}:' is empty"));
    }
    Ok(match kind {
        "group" => Target::ThingGroup { name: value.into() },
        "region" => Target::Region { code: value.into() },
        "devices" => Target::Devices {
            ids: value.split(',').map(str::to_string).collect(),
        },
        "query" => Target::Query {
            query: value.into(),
        },
        other => {
            return Err(format!(
                "--target {s}: '{other}' is not group, region, devices or query"
            ))
        }
    })
}

/// Previews a command and, unless `preview_only`, runs it and follows it; returns the exit
/// code (0 all sent, 3 some failed or were cancelled, 1 refused).
pub fn command(
    operator: &Caller,
    req: &switchyard_core::commands::CommandRequest,
    preview_only: bool,
) -> Result<u8, String> {
    let resp = operator.post("/api/v1/commands/preview", req)?;
    if resp.status != 200 {
        return Err(format!(
            "refused ({}): {}",
            resp.status,
            resp.error_message()
        ));
    }
    let p: serde_json::Value = resp.json().map_err(|e| e.to_string())?;
    println!(
        "{} devices: {} online will receive it, {} offline to their shadow, {} offline skipped",
        p["total"], p["publish"], p["shadow"], p["skip"]
    );
    for s in p["skipped"].as_array().into_iter().flatten().take(10) {
        println!(
            "  skipped {} (offline since {} ms, {})",
            s["id"], s["since"], s["reason"]
        );
    }
    if preview_only {
        return Ok(0);
    }
    let resp = operator.post("/api/v1/commands", req)?;
    if resp.status != 202 {
        return Err(format!(
            "refused ({}): {}",
            resp.status,
            resp.error_message()
        ));
    }
    let run: serde_json::Value = resp.json().map_err(|e| e.to_string())?;
    let id = run["id"].as_str().unwrap_or_default().to_string();
    println!("run {id} started");
    let mut last = String::new();
    loop {
        let resp = operator.get(&format!("/api/v1/commands/{id}?limit=1"))?;
        if resp.status != 200 {
            return Err(format!(
                "lost the run ({}): {}",
                resp.status,
                resp.error_message()
            ));
        }
        let v: serde_json::Value = resp.json().map_err(|e| e.to_string())?;
        let r = &v["run"];
        let line = format!(
            "{}: {} sent, {} shadowed, {} skipped offline, {} failed, {} cancelled of {}",
            r["status"].as_str().unwrap_or("?"),
            r["sent"],
            r["shadowed"],
            r["skipped"],
            r["failed"],
            r["cancelled"],
            r["total"]
        );
        if line != last {
            println!("{line}");
            last = line;
        }
        if r["status"] != "running" {
            let clean = r["failed"] == 0 && r["cancelled"] == 0;
            return Ok(if clean { 0 } else { 3 });
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
