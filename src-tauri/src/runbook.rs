//! `switchyard failover`: the runbook's way to fail over. It talks to a running console's
//! HTTP API (the engine that runs the failover lives there), prints every change of phase and
//! step, and exits with a status a script can test: 0 completed or nothing to do, 3 completed
//! with exceptions, 1 refused or failed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use switchyard_core::failover::{Failover, FailoverRequest, Phase};

/// One HTTP/1.1 exchange with a JSON body; returns (status, body). Every read and write has a
/// timeout.
fn exchange(
    server: &str,
    method: &str,
    path: &str,
    caller: &Caller,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    exchange_full(server, method, path, caller, body).map(|(status, _, body)| (status, body))
}

/// Who the runbook acts as: the operator name (for a console without logins), or a session
/// made by signing in.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub operator: String,
    /// `sy_session=…`, once signed in.
    pub cookie: Option<String>,
    pub csrf: Option<String>,
}

impl Caller {
    fn headers(&self) -> String {
        let mut h = format!("X-Switchyard-Operator: {}\r\n", self.operator);
        if let Some(c) = &self.cookie {
            h.push_str(&format!("Cookie: {c}\r\n"));
        }
        if let Some(t) = &self.csrf {
            h.push_str(&format!("X-CSRF-Token: {t}\r\n"));
        }
        h
    }
}

/// Signs in to the console as `user` with the password in `SWITCHYARD_PASSWORD` (never on the
/// command line); without a user, acts under `operator` (a console started with --no-auth).
pub fn sign_in(server: &str, operator: &str, user: Option<&str>) -> Result<Caller, String> {
    let mut caller = Caller {
        operator: operator.to_string(),
        ..Caller::default()
    };
    let Some(user) = user else {
        return Ok(caller);
    };
    let password = std::env::var("SWITCHYARD_PASSWORD")
        .map_err(|_| format!("--user {user}: put the password in SWITCHYARD_PASSWORD"))?;
    let body = serde_json::json!({ "username": user, "password": password }).to_string();
    let (status, head, text) =
        exchange_full(server, "POST", "/api/v1/session", &caller, Some(&body))?;
    if status != 200 {
        return Err(format!("signing in as {user}: {}", api_error(&text)));
    }
    let cookie = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("set-cookie"))
        .and_then(|(_, v)| v.trim().split(';').next().map(str::to_string))
        .ok_or_else(|| format!("signing in as {user}: the console set no session cookie"))?;
    let info: switchyard_core::auth::SessionInfo =
        serde_json::from_str(&text).map_err(|e| format!("signing in as {user}: {e}"))?;
    caller.operator = info.username;
    caller.cookie = Some(cookie);
    caller.csrf = Some(info.csrf);
    Ok(caller)
}

/// [`exchange`], with the answer's head too.
fn exchange_full(
    server: &str,
    method: &str,
    path: &str,
    caller: &Caller,
    body: Option<&str>,
) -> Result<(u16, String, String), String> {
    let addr = server
        .strip_prefix("http://")
        .ok_or_else(|| format!("--server {server}: must start with http://"))?
        .trim_end_matches('/');
    let sock: std::net::SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(addr)
        .map_err(|e| format!("--server {server}: {e}"))?
        .next()
        .ok_or_else(|| format!("--server {server}: no address"))?;
    let mut s = TcpStream::connect_timeout(&sock, Duration::from_secs(3))
        .map_err(|e| format!("cannot reach the console at {server}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .and_then(|()| s.set_write_timeout(Some(Duration::from_secs(10))))
        .map_err(|e| e.to_string())?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        caller.headers(),
        body.len()
    )
    .map_err(|e| format!("{server}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("{server}: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{server}: not an HTTP answer"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{server}: not an HTTP answer"))?;
    // The server answers with a length or chunks; de-chunk when needed.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].trim_start_matches("\r\n");
        }
        out
    } else {
        rest.to_string()
    };
    Ok((status, head.to_string(), body))
}

fn api_error(body: &str) -> String {
    serde_json::from_str::<switchyard_core::api::ApiError>(body)
        .map(|e| e.error)
        .unwrap_or_else(|_| body.to_string())
}

/// Runs a failover to `target` through the console at `server`; returns the exit code.
pub fn failover(
    server: &str,
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
    let body = serde_json::to_string(&req).map_err(|e| e.to_string())?;
    let (status, text) = exchange(server, "POST", "/api/v1/failovers", operator, Some(&body))?;
    let f: Failover = match status {
        202 => serde_json::from_str(&text).map_err(|e| format!("unexpected answer: {e}"))?,
        200 => {
            println!("{}", api_nothing(&text));
            return Ok(0);
        }
        _ => return Err(format!("refused ({status}): {}", api_error(&text))),
    };
    println!(
        "failover {} requested: {} → {} (preflight {:?}); {} devices online in {} before",
        f.id, f.source, f.target, f.preflight.overall, f.online_before, f.source
    );
    let started = Instant::now();
    let (mut phase, mut steps_seen, mut back) = (None, 0usize, u64::MAX);
    loop {
        let (status, text) = exchange(
            server,
            "GET",
            &format!("/api/v1/failovers/{}", f.id),
            operator,
            None,
        )?;
        if status != 200 {
            return Err(format!(
                "lost the failover ({status}): {}",
                api_error(&text)
            ));
        }
        let cur: Failover =
            serde_json::from_str(&text).map_err(|e| format!("unexpected answer: {e}"))?;
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
                "still {} after {} s; follow it at {server}/api/v1/failovers/{}",
                cur.phase.as_str(),
                wait.as_secs(),
                cur.id
            );
            return Ok(3);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn api_nothing(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
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
    server: &str,
    operator: &Caller,
    req: &switchyard_core::commands::CommandRequest,
    preview_only: bool,
) -> Result<u8, String> {
    let body = serde_json::to_string(req).map_err(|e| e.to_string())?;
    let (status, text) = exchange(
        server,
        "POST",
        "/api/v1/commands/preview",
        operator,
        Some(&body),
    )?;
    if status != 200 {
        return Err(format!("refused ({status}): {}", api_error(&text)));
    }
    let p: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
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
    let (status, text) = exchange(server, "POST", "/api/v1/commands", operator, Some(&body))?;
    if status != 202 {
        return Err(format!("refused ({status}): {}", api_error(&text)));
    }
    let run: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let id = run["id"].as_str().unwrap_or_default().to_string();
    println!("run {id} started");
    let mut last = String::new();
    loop {
        let (status, text) = exchange(
            server,
            "GET",
            &format!("/api/v1/commands/{id}?limit=1"),
            operator,
            None,
        )?;
        if status != 200 {
            return Err(format!("lost the run ({status}): {}", api_error(&text)));
        }
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
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
