//! Past 500 lines with its tests (a third of the file): the sentences are tested one by one.
//!
//! The move on screen, in the failover panel: when the devices re-resolve the devices' domain
//! (the record's TTL counted down against the server's clock), the reconnection curve (online
//! in the old and the new region since the request), the stragglers still connected to the old
//! region and how moving them goes, and when the complete share will be reached.
//!
//! Rules kept here:
//! - every time is the server's (`Live::now`), never the browser's clock;
//! - the sentences are pure functions of the failover and the time (tested natively); the
//!   components only place them;
//! - a step that found nobody to move says "nothing to do", never "done";
//! - stopping the stragglers is a dangerous action: it needs a reason and a second click, and
//!   only an operator may.

use crate::api::Api;
use crate::charts::{two_series_chart, Mark, Series, AMBER, GREEN};
use crate::fmt::{clock, countdown, secs, thousands};
use leptos::prelude::*;
use switchyard_core::failover::{Failover, Phase};
use switchyard_core::moving::{StragglerMethod, StragglerResults, StragglerState, Stragglers};
use switchyard_core::UnixMs;

/// How many failed devices the panel lists (the API pages the rest).
pub const FAILED_SHOWN: u32 = 10;

/// The TTL line and its state (`before-switch`, `counting`, `passed`).
pub fn ttl_line(f: &Failover, now: UnixMs) -> (String, &'static str) {
    match f.reresolve_by() {
        None => (
            format!(
                "devices re-resolve {} after the switch (the record's TTL)",
                secs(f.dns_ttl_secs)
            ),
            "before-switch",
        ),
        Some(by) if now < by => (
            format!(
                "devices re-resolve by {} (in {})",
                clock(by),
                countdown((by - now).div_ceil(1_000))
            ),
            "counting",
        ),
        Some(by) => (
            format!(
                "devices re-resolved by {} (TTL {})",
                clock(by),
                secs(f.dns_ttl_secs)
            ),
            "passed",
        ),
    }
}

/// "14:09 UTC": the hour and minute of an estimate, which is no more precise than that.
fn clock_hm(ms: UnixMs) -> String {
    let s = (ms / 1_000) % 86_400;
    format!("{:02}:{:02} UTC", s / 3_600, (s / 60) % 60)
}

/// The completion estimate and its state (`eta`, `reached`, `not-rising`, `not-yet`), while
/// the failover runs; `None` once it has ended or before it is approved.
pub fn eta_line(f: &Failover, now: UnixMs) -> Option<(String, &'static str)> {
    if f.phase.is_final() || f.phase == Phase::AwaitingApproval {
        return None;
    }
    let needed = (f.online_before as f64 * f.complete_share).ceil() as u64;
    Some(match f.complete_eta {
        _ if f.online_before > 0 && f.back >= needed => {
            ("complete share reached".to_string(), "reached")
        }
        Some(at) if at > now => (
            format!(
                "complete share by {} (in {}, estimated from the curve)",
                clock_hm(at),
                countdown((at - now).div_ceil(1_000))
            ),
            "eta",
        ),
        Some(_) => (
            "complete share due now (estimated from the curve)".to_string(),
            "eta",
        ),
        None if f.phase == Phase::Verifying || f.switched_at.is_some() => (
            "complete share: not rising (no estimate from the curve)".to_string(),
            "not-rising",
        ),
        None => (
            "complete share: estimated once devices come back".to_string(),
            "not-yet",
        ),
    })
}

pub fn state_words(s: StragglerState) -> &'static str {
    match s {
        StragglerState::Waiting => "waiting for the TTL",
        StragglerState::Moving => "moving",
        StragglerState::Done => "done",
        StragglerState::Skipped => "skipped",
        StragglerState::Cancelled => "stopped",
        StragglerState::Failed => "failed",
    }
}

/// The stragglers' heading: "Stragglers in us-east-1: moving (disconnect, 50/s)"; a step
/// that found nobody still connected says it had nothing to do (not "done": told 0 devices is
/// no success).
pub fn head_line(s: &Stragglers) -> String {
    let state = if s.state == StragglerState::Done && s.found == 0 {
        format!(
            "nothing to do — no device was still connected to {}",
            s.region
        )
    } else {
        state_words(s.state).to_string()
    };
    format!(
        "Stragglers in {}: {state} ({}, {}/s)",
        s.region,
        s.method.as_str(),
        rate(s.rate_per_s)
    )
}

fn rate(r: f64) -> String {
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// How many the step expects to go through: while it still pages the old region's connected
/// devices, the count it started from (the estimate's) when that is more than found so far.
pub fn expected(s: &Stragglers) -> u64 {
    match (&s.estimate, s.state) {
        (Some(e), StragglerState::Moving) => e.devices.max(s.found),
        _ => s.found,
    }
}

/// Devices given a result so far.
fn done(s: &Stragglers) -> u64 {
    s.moved + s.already_gone + s.failed
}

/// The share of the expected devices given a result, for the bar.
pub fn done_share(s: &Stragglers) -> f64 {
    match expected(s) {
        0 => 0.0,
        n => (done(s) as f64 / n as f64).min(1.0),
    }
}

/// "N left, M disconnected, K already gone, F failed of FOUND found, at R/s"; while the old
/// region is still being paged, "about N left … found so far …, about T to go".
pub fn tally_line(s: &Stragglers) -> String {
    let moved = match s.method {
        StragglerMethod::Command => "told",
        _ => "disconnected",
    };
    let paging = expected(s) > s.found;
    let left = expected(s).saturating_sub(done(s));
    let mut line = format!(
        "{}{} left, {} {moved}, {} already gone, {} failed of {} found{}, at {}/s",
        if paging { "about " } else { "" },
        thousands(left),
        thousands(s.moved),
        thousands(s.already_gone),
        thousands(s.failed),
        thousands(s.found),
        if paging { " so far" } else { "" },
        rate(s.rate_per_s)
    );
    if let (StragglerState::Done, Some(from), Some(to)) = (s.state, s.started_at, s.finished_at) {
        line.push_str(&format!(
            ", in {}",
            countdown(to.saturating_sub(from).div_ceil(1_000))
        ));
    }
    if s.state == StragglerState::Moving && left > 0 && s.rate_per_s > 0.0 {
        let secs = (left as f64 / s.rate_per_s).ceil() as u64;
        line.push_str(&format!(", about {} to go", countdown(secs)));
    }
    line
}

/// Whether the step can still be stopped.
pub fn cancellable(s: &Stragglers) -> bool {
    matches!(s.state, StragglerState::Waiting | StragglerState::Moving)
}

fn minutes_since(start: UnixMs, at: UnixMs) -> f64 {
    at.saturating_sub(start) as f64 / 60_000.0
}

/// A chart's points: (minutes, value).
pub type Points = Vec<(f64, f64)>;

/// The curve's two series in minutes since the request, and the span the chart shows: up to
/// the last point, and far enough to show the TTL's end ahead of time.
pub fn curve_series(f: &Failover) -> (Points, Points, f64) {
    let x = |at| minutes_since(f.requested_at, at);
    let source: Vec<_> = f.curve.iter().map(|p| (x(p.at), p.source as f64)).collect();
    let target: Vec<_> = f.curve.iter().map(|p| (x(p.at), p.target as f64)).collect();
    let last = f.curve.last().map_or(0.0, |p| x(p.at));
    let ttl = f.reresolve_by().map_or(0.0, x);
    let span = (last.max(ttl) * 1.05).max(0.5);
    (source, target, span)
}

/// The reconnection curve with the switch and the TTL's end marked.
#[component]
pub fn MoveCurve(f: Failover, #[prop(optional)] size: Option<(u32, u32)>) -> impl IntoView {
    if f.curve.is_empty() {
        return view! {
            <p class="chart-note" data-testid="move-curve" data-points="0">"The reconnection curve starts at the first poll."</p>
        }
        .into_any();
    }
    let (source, target, span) = curve_series(&f);
    let x = |at| minutes_since(f.requested_at, at);
    let switch = f.switched_at.map(|at| Mark {
        at: x(at),
        label: "switch",
    });
    let ttl = f.reresolve_by().map(|at| Mark {
        at: x(at),
        label: "TTL end",
    });
    let marks: Vec<Mark> = switch.into_iter().chain(ttl).collect();
    let title = "online per region since the request";
    let svg = two_series_chart(
        title,
        [
            Series {
                name: &f.source,
                points: &source,
                color: AMBER,
            },
            Series {
                name: &f.target,
                points: &target,
                color: GREEN,
            },
        ],
        &marks,
        span,
        size.unwrap_or((640, 210)),
    );
    view! {
        <div class="chart move-chart" data-testid="move-curve" data-points=f.curve.len() inner_html=svg></div>
    }
    .into_any()
}

/// The TTL countdown, ticking with the server's clock.
#[component]
pub fn TtlCountdown(f: Failover) -> impl IntoView {
    let live = expect_context::<crate::Live>();
    // Only what the line needs: the curve stays out of the ticking closure.
    let f = Failover {
        curve: Vec::new(),
        steps: Vec::new(),
        ..f
    };
    let line = Memo::new(move |_| ttl_line(&f, live.now.get()));
    view! {
        <p class="ttl" data-testid="ttl-countdown" data-state=move || line.get().1>{move || line.get().0}</p>
    }
}

/// The completion estimate while the failover runs.
#[component]
pub fn CompleteEta(f: Failover) -> impl IntoView {
    let live = expect_context::<crate::Live>();
    let f = Failover {
        curve: Vec::new(),
        steps: Vec::new(),
        ..f
    };
    let line = Memo::new(move |_| eta_line(&f, live.now.get()));
    move || {
        line.get().map(|(text, state)| {
            view! { <p class="eta" data-testid="complete-eta" data-state=state>{text}</p> }
        })
    }
}

/// The stragglers' step: its state, the tally, the estimate before it starts, why it was
/// skipped, the first failed devices, and the button that opens the stop form.
#[component]
pub fn StragglersView(
    f: Failover,
    /// The first page of failed results, when there are any.
    failed: ReadSignal<Option<StragglerResults>>,
    /// Opens the stop form for this failover; `None` where it cannot be stopped (a past one).
    #[prop(optional)]
    on_stop: Option<Callback<String>>,
) -> impl IntoView {
    let Some(s) = f.stragglers.clone() else {
        return view! {
            <div class="stragglers" data-testid="stragglers" data-state="none">
                <p class="muted">"Stragglers: moved once the switch is done and the TTL has passed."</p>
            </div>
        }
        .into_any();
    };
    let may = crate::auth::may_operate();
    let id = f.id.clone();
    let head = head_line(&s);
    let estimate = s
        .estimate
        .as_ref()
        .filter(|_| {
            s.state == StragglerState::Waiting
                || (s.state == StragglerState::Moving && s.found == 0)
        })
        .map(|e| e.message.clone());
    let waiting = (s.state == StragglerState::Waiting)
        .then(|| format!("nobody is disconnected before {}", clock(s.not_before)));
    // Nothing to count before the step has looked, or when it was skipped without finding any.
    let tally = (s.found > 0 || matches!(s.state, StragglerState::Moving | StragglerState::Done))
        .then(|| tally_line(&s));
    // A finished step's detail repeats the tally; the others' say why.
    let detail =
        (!s.detail.is_empty() && s.state != StragglerState::Done).then(|| s.detail.clone());
    let fid = f.id.clone();
    let failed_count = s.failed;
    let stop = on_stop.filter(|_| cancellable(&s)).map(|cb| {
        view! {
            <button class="btn btn-danger" data-testid="stop-stragglers" disabled=move || !may.get()
                title=move || crate::auth::why_not(may.get())
                on:click=move |_| cb.run(id.clone())>"Stop moving them…"</button>
        }
    });
    let share = done_share(&s);
    view! {
        <div class="stragglers" data-testid="stragglers" data-state=s.state.as_str()>
            <div class="readiness-head">
                <strong>{head}</strong>
                {stop}
            </div>
            {waiting.map(|w| view! { <p class="muted">{w}</p> })}
            {estimate.map(|e| view! { <p class="estimate" data-testid="stragglers-estimate">{e}</p> })}
            {tally.map(|t| view! {
                <div class="bar"><div class="bar-fill bar-fill-move" style:width=format!("{:.1}%", share * 100.0)></div></div>
                <p data-testid="stragglers-tally">{t}</p>
            })}
            {detail.map(|d| view! { <p class="muted" data-testid="stragglers-detail">{d}</p> })}
            {move || failed.get().filter(|r| r.failover == fid && !r.items.is_empty()).map(|r| {
                let shown = r.items.len() as u64;
                view! {
                <table class="table" data-testid="stragglers-failed">
                    <thead><tr><th>"device"</th><th>"failed at"</th><th>"why"</th></tr></thead>
                    <tbody>
                        {r.items.into_iter().map(|x| view! {
                            <tr><td class="mono">{x.device}</td><td>{clock(x.at)}</td><td>{x.detail}</td></tr>
                        }).collect_view()}
                    </tbody>
                    {(failed_count > shown).then(|| view! {
                        <caption class="muted">{format!("the first {shown} of {} failed", thousands(failed_count))}</caption>
                    })}
                </table>
            }})}
        </div>
    }
    .into_any()
}

/// The stop form: a reason, then "Stop moving the stragglers".
#[component]
pub fn StopStragglers(
    id: String,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
    on_done: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let api = expect_context::<Api>();
    let (reason, set_reason) = signal(String::new());
    let (sending, set_sending) = signal(false);
    let (message, set_message) = signal(None::<String>);
    let allowed = move || !reason.get().trim().is_empty() && !sending.get();
    let close = on_close.clone();
    let stop = move |_| {
        let (api, id, close, done) = (api.clone(), id.clone(), close.clone(), on_done.clone());
        let why = reason.get_untracked().trim().to_string();
        set_sending.set(true);
        leptos::task::spawn_local(async move {
            match api.cancel_stragglers(&id, &why).await {
                Ok(_) => {
                    done();
                    close();
                }
                Err(e) => set_message.set(Some(e)),
            }
            set_sending.set(false);
        });
    };
    view! {
        <div class="confirm" data-testid="confirm-stop-stragglers">
            <h3>"Stop moving the stragglers"</h3>
            <p class="muted">"Devices still connected to the old region stay there until their connections drop; the failover goes on."</p>
            <label>"Reason: " <input data-testid="stop-reason" class="input wide" placeholder="why stop"
                prop:value=reason on:input=move |ev| set_reason.set(event_target_value(&ev)) /></label>
            <div class="confirm-actions">
                <button class="btn btn-danger" data-testid="stop-execute" disabled=move || !allowed() on:click=stop>"Stop moving them"</button>
                <button class="btn" on:click=move |_| on_close()>"Keep moving"</button>
            </div>
            {move || message.get().map(|m| view! { <p class="form-error" data-testid="stop-message">{m}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::failover::{Readiness, Verdict};
    use switchyard_core::moving::CurvePoint;

    fn failover() -> Failover {
        Failover {
            id: "f-1".into(),
            source: "us-east-1".into(),
            target: "eu-west-1".into(),
            reason: "drill".into(),
            requested_by: "ann".into(),
            approved_by: None,
            phase: Phase::Verifying,
            preflight: Readiness {
                target: "eu-west-1".into(),
                overall: Verdict::Pass,
                checks: Vec::new(),
            },
            online_before: 1_000,
            back: 100,
            complete_share: 0.95,
            requested_at: 50_000_000,
            updated_at: 50_000_000,
            ended_at: None,
            outcome: None,
            steps: Vec::new(),
            switched_at: None,
            dns_ttl_secs: 60,
            stragglers: None,
            curve: Vec::new(),
            complete_eta: None,
        }
    }

    #[test]
    fn the_ttl_counts_down_on_the_servers_clock_and_says_re_resolved_once_passed() {
        let mut f = failover();
        assert_eq!(ttl_line(&f, 0).1, "before-switch");
        assert!(
            ttl_line(&f, 0).0.contains("1 min after the switch"),
            "{}",
            ttl_line(&f, 0).0
        );
        // Switched at 13:53:51 UTC (50 031 s into the day); TTL 60 s: by 13:54:51.
        f.switched_at = Some(50_031_000);
        let (line, state) = ttl_line(&f, 50_049_500);
        assert_eq!(
            (line.as_str(), state),
            ("devices re-resolve by 13:54:51 UTC (in 42 s)", "counting")
        );
        let (line, state) = ttl_line(&f, 50_091_000);
        assert_eq!(state, "passed");
        assert!(
            line.starts_with("devices re-resolved by 13:54:51 UTC"),
            "{line}"
        );
    }

    #[test]
    fn the_estimate_reads_from_the_curve_or_says_it_is_not_rising() {
        let mut f = failover();
        assert_eq!(eta_line(&f, 0).unwrap().1, "not-rising");
        f.complete_eta = Some(50_400_000);
        let (line, state) = eta_line(&f, 50_340_000).unwrap();
        assert_eq!(state, "eta");
        assert_eq!(
            line,
            "complete share by 14:00 UTC (in 1 min, estimated from the curve)"
        );
        f.back = 950;
        assert_eq!(eta_line(&f, 50_340_000).unwrap().1, "reached");
        f.phase = Phase::SwitchingTraffic;
        f.back = 0;
        f.complete_eta = None;
        assert_eq!(eta_line(&f, 0).unwrap().1, "not-yet");
        // Moving the stragglers, after the switch: a flat curve is said to be flat.
        f.phase = Phase::ReconnectingDevices;
        f.switched_at = Some(1);
        assert_eq!(eta_line(&f, 0).unwrap().1, "not-rising");
        f.phase = Phase::Completed;
        assert_eq!(eta_line(&f, 0), None);
    }

    #[test]
    fn the_tally_counts_what_is_left_and_names_the_methods_verb() {
        let mut s = Stragglers {
            method: StragglerMethod::Disconnect,
            region: "us-east-1".into(),
            rate_per_s: 50.0,
            state: StragglerState::Moving,
            not_before: 0,
            estimate: None,
            found: 12_000,
            moved: 4_000,
            already_gone: 300,
            failed: 2,
            started_at: None,
            finished_at: None,
            detail: String::new(),
        };
        assert_eq!(
            tally_line(&s),
            "7\u{202f}698 left, 4\u{202f}000 disconnected, 300 already gone, 2 failed of 12\u{202f}000 found, at 50/s, about 2 min 34 s to go"
        );
        // Still paging: what is left counts from the devices the step started with.
        s.estimate = Some(switchyard_core::moving::estimate(
            StragglerMethod::Disconnect,
            20_000,
            50.0,
            200.0,
        ));
        assert_eq!(expected(&s), 20_000);
        assert!(
            tally_line(&s).starts_with("about 15\u{202f}698 left, ")
                && tally_line(&s).contains("of 12\u{202f}000 found so far, "),
            "{}",
            tally_line(&s)
        );
        assert!((done_share(&s) - 4_302.0 / 20_000.0).abs() < 1e-9);
        s.estimate = None;
        assert!(cancellable(&s));
        s.method = StragglerMethod::Command;
        s.rate_per_s = 12.5;
        assert!(
            tally_line(&s).contains(" told, ")
                && tally_line(&s).contains("at 12.5/s, about 10 min 16 s to go")
        );
        s.state = StragglerState::Done;
        s.started_at = Some(10_000);
        s.finished_at = Some(360_000);
        assert!(
            tally_line(&s).ends_with("at 12.5/s, in 5 min 50 s"),
            "{}",
            tally_line(&s)
        );
        s.state = StragglerState::Skipped;
        assert!(!cancellable(&s));
    }

    #[test]
    fn a_stragglers_step_that_found_nobody_says_nothing_to_do_not_done() {
        let mut s = Stragglers {
            method: StragglerMethod::Command,
            region: "us-east-1".into(),
            rate_per_s: 50.0,
            state: StragglerState::Done,
            not_before: 0,
            estimate: None,
            found: 0,
            moved: 0,
            already_gone: 0,
            failed: 0,
            started_at: None,
            finished_at: None,
            detail: String::new(),
        };
        let head = head_line(&s);
        assert!(
            head.contains("nothing to do — no device was still connected to us-east-1"),
            "{head}"
        );
        assert!(!head.contains(": done"), "{head}");
        s.found = 3;
        s.moved = 3;
        assert_eq!(
            head_line(&s),
            "Stragglers in us-east-1: done (command, 50/s)"
        );
    }

    #[test]
    fn the_curve_is_in_minutes_since_the_request_and_its_span_shows_the_ttls_end() {
        let mut f = failover();
        f.curve = vec![
            CurvePoint {
                at: 50_000_000,
                source: 1_000,
                target: 0,
            },
            CurvePoint {
                at: 50_030_000,
                source: 600,
                target: 350,
            },
        ];
        f.switched_at = Some(50_006_000);
        let (source, target, span) = curve_series(&f);
        assert_eq!(source, vec![(0.0, 1_000.0), (0.5, 600.0)]);
        assert_eq!(target[1], (0.5, 350.0));
        // The TTL ends 66 s after the request: the chart reaches past it.
        assert!(span > 1.1 && span < 1.2, "{span}");
        // 12 s of curve, a 5 s TTL.
        f.curve[1].at = 50_012_000;
        f.switched_at = Some(50_001_000);
        f.dns_ttl_secs = 5;
        let (_, _, span) = curve_series(&f);
        assert_eq!(span, 0.5, "a short failover still gets half a minute");
    }
}
