//! `switchyard failover`: a failover requested and followed to its end; `--dry-run`: the same
//! request asked as a plan, which starts nothing.
//!
//! Rules kept here:
//! - exit 0 completed or nothing to do, 3 completed with exceptions (or still running when the
//!   wait ends), 1 refused or failed; a dry run 0 when it would start, 3 when refused;
//! - a dry run only posts to `/api/v1/failovers/plan`: it never reaches `/api/v1/failovers`;
//! - with `--json`, each answer is printed when it differs from the last one printed: the
//!   request's answer, then the failover at each change.

use super::{decode, exit, render, Caller, Output, RunbookError};
use std::time::{Duration, Instant};
use switchyard_core::cockpit::{FailoverPlan, StatusResponse};
use switchyard_core::failover::{Failover, FailoverRequest, Phase};

/// How often the failover is read again while followed.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// How often the curve's figures are printed while a failover is followed.
const CURVE_EVERY: Duration = Duration::from_secs(10);

/// `POST /api/v1/failovers/plan` with the whole request, printed; returns 0 when it would
/// start, 3 when it would be refused. Nothing is started.
pub fn dry_run(caller: &Caller, req: &FailoverRequest, out: Output) -> Result<u8, RunbookError> {
    let resp = caller.post("/api/v1/failovers/plan", req)?;
    if resp.status != 200 {
        return Err(out.refused(&resp));
    }
    let p: FailoverPlan = decode(&resp)?;
    out.document(&resp)?;
    out.say(render::plan(&p).trim_end());
    out.say("dry run: nothing was started");
    Ok(render::plan_code(&p))
}

/// Runs the failover `req` through the caller's console and follows it for up to `wait`;
/// returns the exit code.
pub fn failover(
    caller: &Caller,
    req: &FailoverRequest,
    wait: Duration,
    out: Output,
) -> Result<u8, RunbookError> {
    let resp = caller.post("/api/v1/failovers", req)?;
    let f: Failover = match resp.status {
        202 => decode(&resp)?,
        200 => {
            out.document(&resp)?;
            out.say(nothing_to_do(&resp));
            return Ok(exit::OK);
        }
        _ => return Err(out.refused(&resp)),
    };
    out.document(&resp)?;
    out.say(render::requested(&f));
    let mut last_doc: Option<serde_json::Value> = resp.json().ok();
    let started = Instant::now();
    let (mut phase, mut steps_seen, mut back) = (None, 0usize, u64::MAX);
    let (mut told_ttl, mut last_stragglers, mut last_curve) = (false, String::new(), None);
    loop {
        let resp = caller.get(&format!("/api/v1/failovers/{}", f.id))?;
        if resp.status != 200 {
            return Err(out.lost(format!("the failover {}", f.id), &resp));
        }
        let cur: Failover = decode(&resp)?;
        let doc: Option<serde_json::Value> = resp.json().ok();
        if doc != last_doc {
            out.document(&resp)?;
            last_doc = doc;
        }
        for s in cur.steps.iter().skip(steps_seen) {
            if s.outcome.is_some() {
                out.say(format!("  {}", render::step(s)));
            }
        }
        steps_seen = cur.steps.iter().take_while(|s| s.outcome.is_some()).count();
        if phase != Some(cur.phase) {
            out.say(format!("phase: {}", cur.phase.as_str()));
            phase = Some(cur.phase);
        }
        if let (Some(by), false) = (cur.reresolve_by(), told_ttl) {
            out.say(format!(
                "  devices re-resolve by {} (TTL {} s); nobody is moved before",
                switchyard_core::moving::utc_time(by),
                cur.dns_ttl_secs
            ));
            told_ttl = true;
        }
        if let Some(st) = &cur.stragglers {
            let line = render::stragglers(st);
            if line != last_stragglers {
                out.say(format!("  {line}"));
                last_stragglers = line;
            }
        }
        if let Some(line) = render::curve(&cur) {
            if last_curve.is_none_or(|at: Instant| at.elapsed() >= CURVE_EVERY) {
                out.say(format!("  {line}"));
                last_curve = Some(Instant::now());
            }
        }
        if cur.back != back && cur.phase == Phase::Verifying {
            out.say(format!(
                "  {} of {} devices back in {}",
                render::count(cur.back),
                render::count(cur.online_before),
                cur.target
            ));
            back = cur.back;
        }
        if cur.phase.is_final() {
            out.say(render::ended(&cur));
            if out == Output::Text {
                if let Some(next) = next_step(caller) {
                    println!("next: {next}");
                }
            }
            return Ok(match cur.phase {
                Phase::Completed => exit::OK,
                Phase::CompletedWithExceptions => exit::NOT_CLEAN,
                _ => exit::ERROR,
            });
        }
        if cur.phase == Phase::AwaitingApproval
            && started.elapsed() > Duration::from_secs(1)
            && phase == Some(Phase::AwaitingApproval)
        {
            out.say(format!(
                "waiting for another operator to approve (two-person rule): POST /api/v1/failovers/{}/approve",
                cur.id
            ));
            return Ok(exit::OK);
        }
        if started.elapsed() > wait {
            out.say(format!(
                "still {} after {} s; follow it at {}/api/v1/failovers/{} or with `switchyard status`",
                cur.phase.as_str(),
                wait.as_secs(),
                caller.server(),
                cur.id
            ));
            return Ok(exit::NOT_CLEAN);
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// The next step once the failover has ended, from the console's status (when it has one to
/// say; a console that cannot answer it is not an error here).
fn next_step(caller: &Caller) -> Option<String> {
    let resp = caller.get("/api/v1/status").ok()?;
    if resp.status != 200 {
        return None;
    }
    let s: StatusResponse = resp.json().ok()?;
    s.next_step.map(|n| n.text())
}

fn nothing_to_do(resp: &crate::api::client::Response) -> String {
    resp.json::<serde_json::Value>()
        .ok()
        .and_then(|v| v["nothing_to_do"].as_str().map(str::to_string))
        .unwrap_or_else(|| "nothing to do".into())
}
