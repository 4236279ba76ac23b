//! Every text the runbook prints, from the console's answers: pure functions, tested without a
//! server. Past 500 lines: one renderer per answer (status, plan, failover, command), kept together.
//!
//! Rules kept here:
//! - every time is UTC in words (`switchyard_core::time`, `moving::utc_time`), every span a
//!   duration in words; no raw millisecond timestamp is printed;
//! - a region whose figures are not current says "last known at HH:MM UTC" (or that it never
//!   reported), never passes them off as now;
//! - a step that found nothing to do says so, not "ok";
//! - the exit codes of status and of a plan are decided here, from the answer alone.

use super::exit;
use std::fmt::Write as _;
use switchyard_core::cockpit::{self, FailoverPlan, Figures, StatusResponse};
use switchyard_core::commands::{CommandPreview, CommandRun};
use switchyard_core::failover::{Failover, Phase, Step, Verdict};
use switchyard_core::moving::{utc_time, StragglerMethod, StragglerState, Stragglers};
use switchyard_core::time::{duration, utc_datetime, utc_hm};
use switchyard_core::{RegionSummary, SourceKind, UnixMs};

/// A count with thousands separated: "19,800" (core's, as the headline writes it).
pub fn count(n: u64) -> String {
    switchyard_core::cockpit::thousands(n)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// A name of the API's ("reconnecting_devices") as words ("reconnecting devices").
fn words(name: &str) -> String {
    name.replace('_', " ")
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "FAIL",
    }
}

/// `switchyard status`'s exit code: 2 while an incident is open, else 0.
pub fn status_code(s: &StatusResponse) -> u8 {
    if s.incident.is_some() {
        exit::INCIDENT
    } else {
        exit::OK
    }
}

/// A region's figures as they stand: current, or the last known with their time.
fn region_figures(r: &RegionSummary) -> String {
    let figures = format!("{} online · {} offline", count(r.online), count(r.offline));
    match (r.figures, r.observed_at) {
        (Figures::Current, _) => figures,
        (Figures::LastKnown, Some(at)) => format!("{figures}, last known at {}", utc_hm(at)),
        (Figures::LastKnown, None) | (Figures::Missing, _) => "never reported".into(),
    }
}

/// What `switchyard status` prints: the regions, the headline, the incident, the failover or
/// its summary, the next step and the edge backlog.
pub fn status(s: &StatusResponse) -> String {
    let now = s.server_time;
    let mut t = String::new();
    let source = match s.source {
        SourceKind::Simulated => "simulated fleet",
        SourceKind::Aws => "AWS fleet",
    };
    let active = s.active.as_deref().unwrap_or("none");
    let _ = writeln!(
        t,
        "Switchyard at {} · {source} · active region {active}",
        utc_datetime(now)
    );
    let _ = writeln!(t, "{}", s.headline.text());
    let _ = writeln!(t, "\nRegions:");
    let id_width = s.regions.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in &s.regions {
        let _ = writeln!(
            t,
            "  {:<id_width$}  {:<7}  {:<11}  {}",
            r.id,
            r.role.as_str(),
            r.health.status.as_str(),
            region_figures(r)
        );
        let quiet = matches!(r.health.status, switchyard_core::HealthStatus::Healthy);
        if !quiet && !r.health.reasons.is_empty() {
            let _ = writeln!(t, "  {:<id_width$}  {}", "", r.health.reasons.join("; "));
        }
    }
    t.push('\n');
    match &s.incident {
        Some(i) => {
            let severity = match i.severity {
                switchyard_core::alerts::Severity::Critical => "critical",
                switchyard_core::alerts::Severity::Warning => "warning",
            };
            let _ = writeln!(t, "Incident #{}: {} ({severity})", i.id, i.title);
            let mut since = format!(
                "  since {} ({} ago)",
                utc_datetime(i.opened_at),
                duration(now.saturating_sub(i.opened_at))
            );
            if !i.regions.is_empty() {
                let _ = write!(since, " · {}", i.regions.join(", "));
            }
            let _ = writeln!(t, "{since}");
            let _ = writeln!(
                t,
                "  alerts: {} open of {}, {} unacknowledged",
                i.alerts_open, i.alerts_total, i.unacknowledged
            );
        }
        None => {
            let _ = writeln!(t, "No open incident.");
        }
    }
    let _ = writeln!(
        t,
        "Open alerts: {} critical, {} warning",
        s.alerts_critical, s.alerts_warning
    );
    if let Some(r) = &s.recommendation {
        let why = if r.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.reasons.join("; "))
        };
        let _ = writeln!(
            t,
            "Recommended: fail over to {}{why}; check it with `switchyard preflight --to {}`",
            r.target, r.target
        );
    }
    t.push('\n');
    match &s.failover {
        Some(f) if !f.phase.is_final() => t.push_str(&under_way(f, now)),
        Some(f) => {
            let summary = s
                .failover_summary
                .clone()
                .unwrap_or_else(|| cockpit::summary(f));
            let ended = f
                .ended_at
                .map(|at| format!(", ended {}", utc_datetime(at)))
                .unwrap_or_default();
            let _ = writeln!(
                t,
                "Last failover {}: {} → {}, {summary}{ended}",
                f.id, f.source, f.target
            );
            if let Some(o) = f.outcome.as_deref().filter(|o| !o.is_empty()) {
                let _ = writeln!(t, "  {o}");
            }
        }
        None => {
            let _ = writeln!(t, "No failover under way.");
        }
    }
    if let Some(n) = &s.next_step {
        let _ = writeln!(t, "Next: {}", n.text());
    }
    let _ = writeln!(t, "{}", edge(s));
    t
}

/// The edge backlog line: from the edge poll, each gateway once.
fn edge(s: &StatusResponse) -> String {
    let Some(at) = s.edge_observed_at else {
        return "Edge backlog: not observed yet".into();
    };
    let e = &s.edge;
    if e.messages == 0 {
        return format!(
            "Edge backlog: nothing waiting in {} (observed {})",
            plural(u64::from(e.gateways), "gateway", "gateways"),
            utc_hm(at)
        );
    }
    let mut line = format!(
        "Edge backlog: {} in {}, the oldest waiting {}",
        plural(e.messages, "message", "messages"),
        plural(u64::from(e.gateways), "gateway", "gateways"),
        duration(e.oldest_age_ms)
    );
    if e.dropped > 0 {
        let _ = write!(line, ", {} dropped", count(e.dropped));
    }
    let _ = write!(line, " (observed {})", utc_hm(at));
    line
}

/// A failover under way: phase, times, who, devices back, the estimate, the move.
fn under_way(f: &Failover, now: UnixMs) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "Failover {}: {} → {}, {}",
        f.id,
        f.source,
        f.target,
        words(f.phase.as_str())
    );
    let approved = f
        .approved_by
        .as_deref()
        .map(|a| format!(", approved by {a}"))
        .unwrap_or_default();
    let _ = writeln!(
        t,
        "  requested {} by {}{approved} · {} elapsed",
        utc_datetime(f.requested_at),
        f.requested_by,
        duration(now.saturating_sub(f.requested_at))
    );
    if f.phase == Phase::AwaitingApproval {
        let _ = writeln!(
            t,
            "  waiting for a second operator to approve (two-person rule)"
        );
    }
    let eta = match f.complete_eta {
        Some(at) => format!(" · complete share by {}", utc_time(at)),
        None if f.switched_at.is_some() => " · not rising yet".into(),
        None => String::new(),
    };
    let _ = writeln!(
        t,
        "  {} of {} devices back in {}{eta}",
        count(f.back),
        count(f.online_before),
        f.target
    );
    if let Some(by) = f.reresolve_by() {
        let verb = if by <= now {
            "re-resolved"
        } else {
            "re-resolve"
        };
        let _ = writeln!(
            t,
            "  devices {verb} by {} (TTL {} s)",
            utc_time(by),
            f.dns_ttl_secs
        );
    }
    if let Some(st) = &f.stragglers {
        let _ = writeln!(t, "  {}", stragglers(st));
    }
    if let Some(s) = f.steps.iter().rev().find(|s| s.outcome.is_some()) {
        let _ = writeln!(t, "  last {}", step(s));
    }
    t
}

/// The line after a failover was requested.
pub fn requested(f: &Failover) -> String {
    format!(
        "failover {} requested at {} by {}: {} → {} (preflight {}); {} devices online in {} before",
        f.id,
        utc_time(f.requested_at),
        f.requested_by,
        f.source,
        f.target,
        verdict(f.preflight.overall),
        count(f.online_before),
        f.source
    )
}

/// One finished step: "step: switch traffic to eu-west-1 — ok at 14:05:02 UTC: detail".
pub fn step(s: &Step) -> String {
    let outcome = s
        .outcome
        .as_deref()
        .map(words)
        .unwrap_or_else(|| "under way".into());
    let at = s
        .finished_at
        .map(|at| format!(" at {}", utc_time(at)))
        .unwrap_or_default();
    let detail = if s.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", s.detail)
    };
    format!("step: {} — {outcome}{at}{detail}", s.step)
}

/// The straggler step in one line: its state, its counts, its estimate before it starts.
pub fn stragglers(st: &Stragglers) -> String {
    let verb = if st.method == StragglerMethod::Command {
        "told"
    } else {
        "disconnected"
    };
    let mut line = format!(
        "stragglers on {} ({}, {}/s): {}",
        st.region,
        st.method.as_str(),
        st.rate_per_s,
        st.state.as_str()
    );
    if st.found > 0 || st.state != StragglerState::Waiting {
        let _ = write!(
            line,
            " — {} {verb}, {} already gone, {} failed of {} found",
            count(st.moved),
            count(st.already_gone),
            count(st.failed),
            count(st.found)
        );
    } else if let Some(e) = &st.estimate {
        let _ = write!(line, " — {}", e.message);
    }
    if !st.detail.is_empty() {
        let _ = write!(line, ": {}", st.detail);
    }
    line
}

/// The curve's last point and the completion estimate.
pub fn curve(f: &Failover) -> Option<String> {
    let p = f.curve.last()?;
    let eta = match f.complete_eta {
        Some(at) => format!("complete share by {}", utc_time(at)),
        None => "not rising".to_string(),
    };
    Some(format!(
        "curve at {}: {} online in {}, {} in {}; {eta}",
        utc_time(p.at),
        count(p.source),
        f.source,
        count(p.target),
        f.target
    ))
}

/// The last line of a failover followed to its end.
pub fn ended(f: &Failover) -> String {
    let took = f
        .ended_at
        .map(|e| duration(e.saturating_sub(f.requested_at)))
        .unwrap_or_else(|| "—".into());
    let at = f
        .ended_at
        .map(|e| format!(" at {}", utc_time(e)))
        .unwrap_or_default();
    let back = format!(
        "{} of {} devices back",
        count(f.back),
        count(f.online_before)
    );
    match f.phase {
        Phase::Completed => format!("completed in {took}{at}: {back}"),
        Phase::CompletedWithExceptions => format!(
            "completed with exceptions in {took}{at}: {back}; {}",
            f.outcome.as_deref().unwrap_or_default()
        ),
        other => format!(
            "{} after {took}{at}: {}",
            words(other.as_str()),
            f.outcome.as_deref().unwrap_or_default()
        ),
    }
}

/// `preflight` and `failover --dry-run`: 0 when it would start, 3 when it would be refused or
/// the preflight fails.
pub fn plan_code(p: &FailoverPlan) -> u8 {
    if p.refused.is_none() && p.preflight.overall != Verdict::Fail {
        exit::OK
    } else {
        exit::NOT_CLEAN
    }
}

/// What `preflight` and `failover --dry-run` print: whether it would start, the checks with
/// their verdicts, the switch, the devices, the stragglers and the TTL.
pub fn plan(p: &FailoverPlan) -> String {
    let mut t = String::new();
    let verdict_line = match &p.refused {
        None if p.preflight.overall == Verdict::Fail => {
            "would be refused: the preflight fails".to_string()
        }
        None => "would start".to_string(),
        Some(why) => format!("would be REFUSED: {why}"),
    };
    let _ = writeln!(t, "Failover {} → {}: {verdict_line}", p.source, p.target);
    let _ = writeln!(t, "as of {}", utc_datetime(p.server_time));
    let _ = writeln!(t, "\nPreflight: {}", verdict(p.preflight.overall));
    let width = p
        .preflight
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for c in &p.preflight.checks {
        let _ = writeln!(
            t,
            "  {:<4}  {:<width$}  {}",
            verdict(c.verdict),
            c.name,
            c.reasons.join("; ")
        );
    }
    let _ = writeln!(t, "\nSwitch: {}", p.switch);
    let figures = match p.devices_figures {
        Figures::Current => "now",
        Figures::LastKnown => "last known",
        Figures::Missing => "never reported",
    };
    let _ = writeln!(
        t,
        "Devices online in {}: {} ({figures}), to move to {}",
        p.source,
        count(p.devices_in_source),
        p.target
    );
    let _ = writeln!(
        t,
        "DNS TTL: {} s; devices re-resolve that long after the switch",
        p.dns_ttl_secs
    );
    let method = match p.stragglers {
        StragglerMethod::Disconnect => "disconnected in the old region after the TTL",
        StragglerMethod::Command => "told to reconnect (the reconnect command) after the TTL",
        StragglerMethod::Off => "left to move on their own (method off)",
    };
    let estimate = match &p.estimate {
        Some(e) => format!("; estimate: {}", e.message),
        None => String::new(),
    };
    let _ = writeln!(
        t,
        "Stragglers: {} — {method}{estimate}",
        p.stragglers.as_str()
    );
    if p.two_person_rule {
        let _ = writeln!(
            t,
            "Two-person rule: a second operator approves it before it starts"
        );
    }
    t
}

/// The preview of a command: who would get it, why nobody would, the skipped devices.
pub fn preview(p: &CommandPreview) -> Vec<String> {
    let mut lines = vec![format!(
        "{} devices: {} online will receive it, {} offline to their shadow, {} offline skipped",
        p.total, p.publish, p.shadow, p.skip
    )];
    if p.publish + p.shadow == 0 {
        if let Some(why) = &p.why_none {
            lines.push(format!("  nothing would be sent: {why}"));
        }
    }
    for s in p.skipped.iter().take(10) {
        lines.push(format!(
            "  skipped {} (offline since {}, {})",
            s.id,
            utc_datetime(s.since),
            s.reason.as_str()
        ));
    }
    if p.skip > 10 {
        lines.push(format!("  … and {} more skipped", count(p.skip - 10)));
    }
    lines
}

/// A run's tallies in one line.
pub fn run(r: &CommandRun) -> String {
    format!(
        "{}: {} sent, {} shadowed, {} skipped offline, {} failed, {} cancelled of {}",
        r.status.as_str(),
        r.sent,
        r.shadowed,
        r.skipped,
        r.failed,
        r.cancelled,
        r.total
    )
}

/// When the run started and ended, once it has.
pub fn run_times(r: &CommandRun) -> String {
    match r.ended_at {
        Some(end) => format!(
            "run {} started {}, ended {} ({})",
            r.id,
            utc_datetime(r.requested_at),
            utc_time(end),
            duration(end.saturating_sub(r.requested_at))
        ),
        None => format!("run {} started {}", r.id, utc_datetime(r.requested_at)),
    }
}

#[cfg(test)]
mod tests;
