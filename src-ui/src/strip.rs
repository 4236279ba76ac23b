//! The incident strip under the header on every page (and on the wallboard): the open
//! incident, the recommendation, the failover under way and the next step; and the tab's title.
//!
//! Rules kept here:
//! - the strip is always there and always the same height, calm or not, so its news never
//!   moves the page (the alert banner is inside it);
//! - its figures come from `GET /status`; without that answer (an older server) it falls back
//!   to the open critical alerts and the failover events, and says nothing it cannot know;
//! - every time it shows is UTC; elapsed times tick with the console's clock;
//! - the document's title carries the state: the failover under way, else the incident.

use crate::fmt::thousands;
use crate::{notify, Live};
use leptos::prelude::*;
use switchyard_core::alerts::{Alert, Severity};
use switchyard_core::cockpit::StatusResponse;
use switchyard_core::failover::{Failover, Recommendation};
use switchyard_core::incidents::Incident;
use switchyard_core::time::{duration, utc_hm};

/// What the strip shows, decided from the status answer, the alerts and the latest failover
/// event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cockpit {
    pub incident: Option<Incident>,
    /// The failover under way, or the latest one while its summary and next step matter.
    pub failover: Option<Failover>,
    pub summary: Option<String>,
    pub next_step: Option<String>,
    pub recommendation: Option<Recommendation>,
}

/// The incident the open critical alerts make, for a server that has no `/status`.
fn incident_from_alerts(alerts: &[Alert]) -> Option<Incident> {
    let open: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.cleared_at.is_none() && a.severity == Severity::Critical)
        .collect();
    let first = open.iter().min_by_key(|a| a.raised_at)?;
    let mut regions: Vec<String> = Vec::new();
    for a in &open {
        if !regions.contains(&a.subject) {
            regions.push(a.subject.clone());
        }
    }
    Some(Incident {
        id: first.incident_id.unwrap_or(0),
        title: first.message.clone(),
        severity: Severity::Critical,
        regions,
        opened_at: first.raised_at,
        closed_at: None,
        alerts_open: open.len() as u32,
        alerts_total: open.len() as u32,
        unacknowledged: open.iter().filter(|a| a.ack.is_none()).count() as u32,
    })
}

/// The strip's content. The failover event wins over the status answer when it is newer (the
/// answer is refreshed at most every 2 s; events carry every step).
pub fn cockpit(
    status: Option<&StatusResponse>,
    alerts: &[Alert],
    event: Option<&Failover>,
) -> Cockpit {
    let Some(s) = status else {
        return Cockpit {
            incident: incident_from_alerts(alerts),
            failover: event.filter(|f| !f.phase.is_final()).cloned(),
            ..Cockpit::default()
        };
    };
    let failover = match (&s.failover, event) {
        (Some(a), Some(b)) if a.id == b.id => Some(if b.updated_at > a.updated_at {
            b.clone()
        } else {
            a.clone()
        }),
        (Some(a), Some(b)) => Some(if b.requested_at > a.requested_at {
            b.clone()
        } else {
            a.clone()
        }),
        (Some(a), None) => Some(a.clone()),
        // One the answer has not seen yet, only while it is under way.
        (None, Some(b)) if !b.phase.is_final() => Some(b.clone()),
        (None, _) => None,
    };
    // The summary and next step are the answer's failover's; a newer one has its own later.
    let same = failover.as_ref().map(|f| &f.id) == s.failover.as_ref().map(|f| &f.id);
    let under_way = failover.as_ref().is_some_and(|f| !f.phase.is_final());
    Cockpit {
        incident: s.incident.clone().filter(|i| i.closed_at.is_none()),
        summary: s.failover_summary.clone().filter(|_| same && !under_way),
        next_step: s
            .next_step
            .as_ref()
            .map(|n| n.text())
            .filter(|_| same && !under_way),
        recommendation: s.recommendation.clone().filter(|_| !under_way),
        failover,
    }
}

/// The share of the devices back, in whole percent.
fn percent(f: &Failover) -> u64 {
    (f.back.saturating_mul(100))
        .checked_div(f.online_before)
        .unwrap_or(0)
        .min(100)
}

/// The document's title: "Failover to eu-west-1 · 42 % · Switchyard" while one is under way,
/// "⚠ us-east-1 unreachable · Switchyard" while an incident is open, else "Switchyard".
pub fn title(c: &Cockpit) -> String {
    if let Some(f) = c.failover.as_ref().filter(|f| !f.phase.is_final()) {
        return format!("Failover to {} · {} % · Switchyard", f.target, percent(f));
    }
    match &c.incident {
        Some(i) => format!("⚠ {} · Switchyard", i.title),
        None => "Switchyard".into(),
    }
}

fn current(live: &Live) -> Cockpit {
    let status = live.status.get();
    let event = live.failover.get();
    live.alerts
        .with(|a| cockpit(status.as_ref(), a, event.as_ref()))
}

/// Keeps `document.title` (the desktop window's title too) on the state.
pub fn keep_title() {
    let live = expect_context::<Live>();
    Effect::new(move |_| {
        let t = title(&current(&live));
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            if doc.title() != t {
                doc.set_title(&t);
            }
        }
    });
}

fn phase_words(f: &Failover) -> String {
    f.phase.as_str().replace('_', " ")
}

/// The strip. On the wallboard (`wall`) it has no controls and no links.
#[component]
pub fn Strip(wall: bool, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    let live = expect_context::<Live>();
    let state = Memo::new(move |_| current(&live));
    let incident = move || {
        let now = live.now.get();
        state.with(|c| match &c.incident {
            Some(i) => {
                let regions = i.regions.join(", ");
                let open = duration(now.saturating_sub(i.opened_at));
                let unacked = (i.unacknowledged > 0).then(|| {
                    format!(
                        " · {} unacknowledged",
                        i.unacknowledged
                    )
                });
                let link = (!wall && i.id > 0).then(|| {
                    view! { <a class="strip-link" href=format!("#/incidents/{}", i.id) data-testid="strip-incident-link">"timeline →"</a> }
                });
                view! {
                    <span class="strip-tag tag-critical">"● INCIDENT"</span>
                    <span class="strip-text" data-testid="strip-incident" data-regions=regions.clone()>
                        <strong>{i.title.clone()}</strong>
                        {format!(" · {regions} · since {} · open {open}", utc_hm(i.opened_at))}
                        {unacked}
                    </span>
                    {link}
                }
                .into_any()
            }
            None => view! {
                <span class="strip-tag tag-calm">"● NO INCIDENT"</span>
                <span class="strip-text muted" data-testid="strip-calm">"No open incident"</span>
            }
            .into_any(),
        })
    };
    let prepare = move |target: String| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().set_hash(&format!("#/map?failover={target}"));
        }
    };
    let action = move || {
        let now = live.now.get();
        state.with(|c| {
            if let Some(f) = c.failover.as_ref().filter(|f| !f.phase.is_final()) {
                let eta = f
                    .complete_eta
                    .map(|t| format!(" · complete ≈ {}", utc_hm(t)))
                    .unwrap_or_else(|| " · no estimate yet".into());
                let who = match &f.approved_by {
                    Some(a) => format!(" · requested by {} · approved by {a}", f.requested_by),
                    None => format!(" · requested by {}", f.requested_by),
                };
                return view! {
                    <span class="strip-tag tag-moving">"⇄ FAILOVER"</span>
                    <span class="strip-text" data-testid="strip-failover" data-phase=f.phase.as_str()>
                        <strong>{format!("{} → {}", f.source, f.target)}</strong>
                        {format!(" · {} · {} · {} of {} devices back ({} %){eta}{who}",
                            phase_words(f), duration(now.saturating_sub(f.requested_at)),
                            thousands(f.back), thousands(f.online_before), percent(f))}
                    </span>
                }
                .into_any();
            }
            let next = c.next_step.clone().map(|n| {
                view! { <span class="strip-next" data-testid="strip-next">{format!("Next: {n}")}</span> }
            });
            if let Some(f) = &c.failover {
                let summary = c
                    .summary
                    .clone()
                    .unwrap_or_else(|| phase_words(f));
                return view! {
                    <span class="strip-tag tag-done">"✓ FAILOVER"</span>
                    <span class="strip-text" data-testid="strip-failover" data-phase=f.phase.as_str()>
                        <strong>{format!("{} → {}", f.source, f.target)}</strong>
                        {format!(" · {summary}")}
                    </span>
                    {next}
                }
                .into_any();
            }
            if let Some(r) = &c.recommendation {
                let target = r.target.clone();
                let button = (!wall).then(|| {
                    let t = target.clone();
                    view! {
                        <button class="btn btn-strip" data-testid="strip-recommend"
                            disabled=move || live.server_lost.get()
                            on:click=move |_| prepare(t.clone())>
                            {format!("Prepare failover to {target}…")}
                        </button>
                    }
                });
                return view! {
                    <span class="strip-tag tag-advice">"➜ RECOMMENDED"</span>
                    <span class="strip-text" data-testid="strip-recommendation">
                        <strong>{format!("fail over to {}", r.target)}</strong>
                        {(!r.reasons.is_empty()).then(|| format!(": {}", r.reasons.join("; ")))}
                    </span>
                    {button}
                }
                .into_any();
            }
            view! { {next} }.into_any()
        })
    };
    view! {
        <section class="strip" class:strip-wall=wall class:strip-live=move || state.with(|c| c.incident.is_some() || c.failover.as_ref().is_some_and(|f| !f.phase.is_final()))
            data-testid="strip" aria-live="polite">
            <div class="strip-row">
                {incident}
                <span class="strip-side">
                    {children.map(|c| view! { <span class="strip-alerts">{c()}</span> })}
                    {(!wall).then(|| view! { <notify::Controls /> })}
                </span>
            </div>
            <div class="strip-row">{action}</div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::alerts::AlertKind;
    use switchyard_core::failover::Phase;

    fn alert(id: i64, subject: &str, severity: Severity, raised_at: u64) -> Alert {
        Alert {
            id,
            kind: AlertKind::RegionUnreachable,
            severity,
            subject: subject.into(),
            message: format!("{subject} is unreachable"),
            raised_at,
            cleared_at: None,
            incident_id: None,
            ack: None,
        }
    }

    fn failover(phase: Phase, back: u64, updated_at: u64) -> Failover {
        let mut f: Failover = serde_json::from_value(serde_json::json!({
            "id": "f-1", "source": "us-east-1", "target": "eu-west-1", "reason": "outage",
            "requested_by": "alice", "approved_by": null, "phase": "verifying",
            "preflight": {"target": "eu-west-1", "overall": "pass", "checks": []},
            "online_before": 20000, "back": 0, "complete_share": 0.95,
            "requested_at": 1000, "updated_at": 1000, "ended_at": null, "outcome": null, "steps": []
        }))
        .expect("a failover");
        f.phase = phase;
        f.back = back;
        f.updated_at = updated_at;
        f
    }

    #[test]
    fn the_title_says_the_failover_first_then_the_incident_then_nothing() {
        let mut c = Cockpit::default();
        assert_eq!(title(&c), "Switchyard");
        c.incident = incident_from_alerts(&[alert(1, "us-east-1", Severity::Critical, 5)]);
        assert_eq!(title(&c), "⚠ us-east-1 is unreachable · Switchyard");
        c.failover = Some(failover(Phase::Verifying, 8_400, 2_000));
        assert_eq!(title(&c), "Failover to eu-west-1 · 42 % · Switchyard");
        c.failover = Some(failover(Phase::Completed, 20_000, 3_000));
        assert_eq!(title(&c), "⚠ us-east-1 is unreachable · Switchyard");
    }

    #[test]
    fn without_a_status_answer_only_critical_open_alerts_make_an_incident() {
        let mut warning = alert(2, "eu-west-1", Severity::Warning, 1);
        warning.message = "eu-west-1 is degraded".into();
        assert_eq!(
            cockpit(None, std::slice::from_ref(&warning), None).incident,
            None
        );
        let mut cleared = alert(3, "us-east-1", Severity::Critical, 2);
        cleared.cleared_at = Some(9);
        assert_eq!(cockpit(None, &[cleared], None).incident, None);
        let c = cockpit(
            None,
            &[
                alert(5, "ap-southeast-2", Severity::Critical, 7),
                alert(4, "us-east-1", Severity::Critical, 3),
                warning,
            ],
            None,
        );
        let i = c.incident.expect("an incident");
        assert_eq!(i.title, "us-east-1 is unreachable");
        assert_eq!(i.opened_at, 3);
        assert_eq!(i.regions, ["ap-southeast-2", "us-east-1"]);
    }

    #[test]
    fn a_newer_failover_event_wins_over_an_older_status_answer() {
        let status: StatusResponse = serde_json::from_value(serde_json::json!({
            "server_time": 5000, "source": "simulated",
            "headline": {"online": 0, "offline": 0, "reporting": 0, "not_reporting": []},
            "regions": [], "active": "us-east-1", "incident": null,
            "failover": null, "failover_summary": null, "next_step": null,
            "recommendation": {"target": "eu-west-1", "reasons": ["us-east-1 unreachable for 1 min"]},
            "edge": {"messages": 0, "bytes": 0, "dropped": 0, "oldest_age_ms": 0, "gateways": 0},
            "edge_observed_at": null, "alerts_critical": 1, "alerts_warning": 0
        }))
        .expect("a status answer");
        let c = cockpit(Some(&status), &[], None);
        assert_eq!(
            c.recommendation.as_ref().map(|r| r.target.as_str()),
            Some("eu-west-1")
        );
        // A failover under way the answer has not seen yet: shown, and no recommendation.
        let ev = failover(Phase::SwitchingTraffic, 0, 6_000);
        let c = cockpit(Some(&status), &[], Some(&ev));
        assert_eq!(
            c.failover.as_ref().map(|f| f.phase),
            Some(Phase::SwitchingTraffic)
        );
        assert_eq!(c.recommendation, None);
        let mut with = status.clone();
        with.failover = Some(failover(Phase::Verifying, 100, 7_000));
        let c = cockpit(Some(&with), &[], Some(&ev));
        assert_eq!(c.failover.map(|f| f.back), Some(100));
    }
}
