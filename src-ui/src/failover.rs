//! Past 500 lines with its tests: the panel, its form and the pure sentences they place (each tested) belong to one failover view.
//!
//! The failover panel on the map page: every standby's preflight, the recommendation when
//! there is one, the guarded request (type the target's name and a reason; a failing preflight
//! blocks, a warning needs an explicit override), and the live progress of a failover.
//!
//! Three interactions from a recommendation to a confirmed failover: "Fail over to X", the
//! confirmation form, "Execute". The move itself (TTL, curve, stragglers, estimate) is drawn by
//! [`crate::moving`], for the failover under way and the last one.
//!
//! Rules kept here:
//! - a failing preflight blocks the request; a warning needs an explicit override;
//! - the forms (confirmation, stopping the stragglers) live outside the progress view, so a
//!   live update never wipes what the operator is typing;
//! - the form opens in view with the focus in its first field, closes with Escape, states the
//!   impact (the plan) and shows the preflight once;
//! - a step that found nothing to do reads "nothing to do", never as a success;
//! - the edge backlog comes from the edge poll (each gateway once), never a sum of regions;
//! - every action is disabled, saying why, while the console cannot reach its server.

use crate::api::{Api, Requested};
use crate::moving::{CompleteEta, MoveCurve, StopStragglers, StragglersView, TtlCountdown};
use leptos::prelude::*;
use switchyard_core::alerts::AlertKind;
use switchyard_core::cockpit::{next_step, summary, FailoverPlan, Figures};
use switchyard_core::edge::GatewaysResponse;
use switchyard_core::failover::{
    Failover, FailoverOverview, FailoverRequest, Phase, Readiness, Verdict,
};
use switchyard_core::moving::{DeviceOutcome, StragglerResults, StragglerState};
use switchyard_core::time::{duration, utc_datetime};

fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Fail => "fail",
    }
}

fn phase_words(p: Phase) -> &'static str {
    match p {
        Phase::AwaitingApproval => "waiting for a second operator's approval",
        Phase::SwitchingTraffic => "switching the devices' traffic",
        Phase::ReconnectingDevices => "waiting out the TTL, then moving the stragglers",
        Phase::Verifying => "watching devices come back",
        Phase::Completed => "completed",
        Phase::CompletedWithExceptions => "completed with exceptions",
        Phase::Failed => "failed",
        Phase::Cancelled => "cancelled",
    }
}

/// A step's outcome as it reads, and its style: "nothing to do" is neutral, not a success.
pub fn step_outcome(outcome: Option<&str>) -> (String, &'static str) {
    match outcome {
        None => ("running".into(), "running"),
        Some("ok") => ("ok".into(), "ok"),
        Some("nothing_to_do") => ("nothing to do".into(), "neutral"),
        Some("skipped") => ("skipped".into(), "neutral"),
        Some("failed") => ("failed".into(), "fail"),
        Some(other) => (other.replace('_', " "), "neutral"),
    }
}

/// The edge backlog from the edge poll: messages waiting, and the gateways counted once each.
pub fn edge_backlog(g: &GatewaysResponse) -> (u64, u32) {
    (g.totals.messages, g.totals.gateways)
}

/// "edge backlog: 1 200 messages in 40 gateways (edge poll)".
pub fn backlog_line((messages, gateways): (u64, u32)) -> String {
    format!(
        "edge backlog: {} messages in {} gateway{} (edge poll)",
        crate::fmt::thousands(messages),
        gateways,
        if gateways == 1 { "" } else { "s" }
    )
}

/// Why a failover button is disabled, or `None` when it may be pressed.
pub fn why_blocked(
    server_lost: bool,
    busy: bool,
    may: bool,
    preflight: Option<&Readiness>,
) -> Option<String> {
    if server_lost {
        return Some("the console cannot reach its server".into());
    }
    if busy {
        return Some("a failover is under way".into());
    }
    if !may {
        return Some(crate::auth::why_not(false).into());
    }
    match preflight {
        None => Some("no preflight yet for this region".into()),
        Some(r) if r.overall == Verdict::Fail => {
            let failing: Vec<String> = r
                .checks
                .iter()
                .filter(|c| c.verdict == Verdict::Fail)
                .map(|c| format!("{}: {}", c.name, c.reasons.join("; ")))
                .collect();
            Some(format!("the preflight fails — {}", failing.join(" · ")))
        }
        Some(_) => None,
    }
}

/// The requested-at line of a failover: "requested 2026-12-01 14:05:10 UTC · 3 min 02 s ago"
/// (or how long it took, once ended).
pub fn timing_line(f: &Failover, now: switchyard_core::UnixMs) -> String {
    let at = utc_datetime(f.requested_at);
    match f.ended_at {
        Some(e) => format!(
            "requested {at} · took {}",
            duration(e.saturating_sub(f.requested_at))
        ),
        None => format!(
            "requested {at} · {} elapsed",
            duration(now.saturating_sub(f.requested_at))
        ),
    }
}

/// The plan's devices figure in words: current, or last known.
pub fn devices_line(p: &FailoverPlan) -> String {
    let n = crate::fmt::thousands(p.devices_in_source);
    match p.devices_figures {
        Figures::Current => format!("{n} devices online in {} now will be moved", p.source),
        Figures::LastKnown => format!(
            "{n} devices were online in {} when it last reported (last known) will be moved",
            p.source
        ),
        Figures::Missing => format!("{} has never reported its devices", p.source),
    }
}

#[component]
pub fn FailoverPanel() -> impl IntoView {
    let api = expect_context::<Api>();
    let live = expect_context::<crate::Live>();
    let (overview, set_overview) = signal(None::<FailoverOverview>);
    let (error, set_error) = signal(None::<String>);
    // The target whose confirmation form is open.
    let (open, set_open) = signal(None::<String>);
    // The edge backlog, from the edge poll (each gateway once).
    let (edge, set_edge) = signal(None::<(u64, u32)>);
    // The strip's "Prepare failover to X…" leads here (`#/map?failover=X`): open X's form.
    Effect::new(move |_| {
        if let Some(target) = live.failover_intent.get() {
            set_open.set(Some(target));
        }
    });
    let refresh = {
        let api = api.clone();
        move || {
            let api = api.clone();
            leptos::task::spawn_local(async move {
                match api.failover_overview().await {
                    Ok(o) => {
                        set_error.set(None);
                        set_overview.set(Some(o));
                    }
                    Err(e) => set_error.set(Some(e)),
                }
                if let Ok(g) = api.gateways(1).await {
                    set_edge.set(Some(edge_backlog(&g)));
                }
            });
        }
    };
    refresh();
    {
        let refresh = refresh.clone();
        crate::timers::every(refresh, std::time::Duration::from_secs(3));
    }
    // A failover event refreshes at once.
    {
        let refresh = refresh.clone();
        Effect::new(move |_| {
            if live.failover.get().is_some() {
                refresh();
            }
        });
    }
    let current = Memo::new(move |_| {
        let from_event = live.failover.get();
        let from_poll = overview.with(|o| o.as_ref().and_then(|o| o.current.clone()));
        match (from_event, from_poll) {
            (Some(e), Some(p)) if e.id == p.id => {
                Some(if e.updated_at >= p.updated_at { e } else { p })
            }
            (_, Some(p)) => Some(p),
            (Some(e), None) if !e.phase.is_final() => Some(e),
            _ => None,
        }
    });
    let last = Memo::new(move |_| {
        live.failover
            .get()
            .filter(|f| f.phase.is_final())
            .or_else(|| overview.with(|o| o.as_ref().and_then(|o| o.recent.first().cloned())))
    });

    // The first failed stragglers of the failover shown, fetched when that count changes
    // (and no more once a full page is in).
    let (failed_page, set_failed_page) = signal(None::<StragglerResults>);
    let fetched = StoredValue::new((String::new(), 0u64));
    {
        let api = api.clone();
        Effect::new(move |_| {
            let Some(f) = current.get().or_else(|| last.get()) else {
                return;
            };
            let failed = f.stragglers.as_ref().map_or(0, |s| s.failed);
            let (id, before) = fetched.get_value();
            let full = failed_page.with_untracked(|p| {
                p.as_ref().is_some_and(|p| {
                    p.failover == f.id && p.items.len() >= crate::moving::FAILED_SHOWN as usize
                })
            });
            if failed == 0 || (id == f.id && (before == failed || full)) {
                return;
            }
            fetched.set_value((f.id.clone(), failed));
            let api = api.clone();
            leptos::task::spawn_local(async move {
                let page = api
                    .straggler_results(
                        &f.id,
                        Some(DeviceOutcome::Failed),
                        0,
                        crate::moving::FAILED_SHOWN,
                    )
                    .await;
                if let Ok(p) = page {
                    set_failed_page.set(Some(p));
                }
            });
        });
    }
    // The failover whose stop form is open.
    let (stop_open, set_stop_open) = signal(None::<String>);
    // Which failover runs, changing only when another starts or it ends: the form under it
    // is not redrawn at every update.
    let current_id = Memo::new(move |_| current.with(|c| c.as_ref().map(|f| f.id.clone())));
    let on_stop = Callback::new(move |id: String| set_stop_open.set(Some(id)));

    let refresh_after_stop = refresh.clone();

    let may = crate::auth::may_operate();
    view! {
        <section class="failover" data-testid="failover">
            <h2 class="section-title">"Failover"</h2>
            {move || error.get().map(|e| view! { <p class="form-error">{e}</p> })}
            // The switch said the devices went elsewhere than this console sent them.
            {move || live.alerts.with(|list| list.iter()
                .filter(|a| a.kind == AlertKind::TrafficMovedOutside && a.cleared_at.is_none())
                .max_by_key(|a| a.raised_at).cloned())
                .map(|a| view! {
                    <div class="moved-outside" role="status" data-testid="moved-outside">
                        <strong>{format!("{} is active: the traffic switch says so", a.subject)}</strong>
                        <p>{a.message}</p>
                    </div>
                })}
            {move || overview.get().and_then(|o| o.recommendation).filter(|_| current.get().is_none()).map(|rec| {
                let target = rec.target.clone();
                view! {
                    <div class="recommendation" data-testid="recommendation">
                        <strong>{format!("Failover to {} recommended", rec.target)}</strong>
                        <ul>{rec.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                        <p class="muted">"The console never fails over by itself: an operator decides."</p>
                        <button class="btn btn-danger" data-testid="recommended-failover"
                            disabled=move || !may.get() || live.server_lost.get()
                            title=move || if live.server_lost.get() { "the console cannot reach its server" } else { crate::auth::why_not(may.get()) }
                            on:click=move |_| set_open.set(Some(target.clone()))>
                            {format!("Fail over to {}…", rec.target)}
                        </button>
                    </div>
                }
            })}
            {move || open.get().map(|target| {
                // Untracked: a poll must not redraw the form (and wipe what is typed).
                let pre = overview.with_untracked(|o| o.as_ref().and_then(|o| o.readiness.iter().find(|r| r.target == target).cloned()));
                view! { <Confirm target=target pre=pre on_close=move || set_open.set(None) on_done=refresh.clone() /> }
            })}
            {move || current.get().map(|f| view! { <Progress f=f failed=failed_page on_stop=on_stop edge=edge /> })}
            {move || stop_open.get().filter(|id| current_id.get().as_ref() == Some(id)).map(|id| view! {
                <StopStragglers id=id on_close=move || set_stop_open.set(None) on_done=refresh_after_stop.clone() />
            })}
            <div class="readiness-list">
                {move || overview.get().map(|o| {
                    let busy = o.current.is_some();
                    // The open form shows its target's preflight: once, not twice.
                    let shown = open.get();
                    o.readiness.into_iter().filter(|r| shown.as_ref() != Some(&r.target)).map(|r| {
                        let t = r.target.clone();
                        let pre = r.clone();
                        let target_attr = t.clone();
                        let why = Memo::new(move |_| why_blocked(live.server_lost.get(), busy, may.get(), Some(&pre)));
                        view! {
                            <ReadinessView r=r>
                                <button class="btn" data-testid=format!("open-failover-{t}") disabled=move || why.get().is_some()
                                    title=move || why.get().unwrap_or_default()
                                    on:click={ let t = t.clone(); move |_| set_open.set(Some(t.clone())) }>
                                    {format!("Fail over to {t}…")}
                                </button>
                                {move || why.get().map(|w| view! { <span class="why-blocked" data-testid="why-blocked" data-target=target_attr.clone()>{w}</span> })}
                            </ReadinessView>
                        }
                    }).collect_view()
                })}
            </div>
            {move || last.get().filter(|_| current.get().is_none()).map(|f| view! {
                <p class="muted" data-testid="last-failover">
                    {format!("Last: {} → {}, {} ({} of {} devices back){}", f.source, f.target, phase_words(f.phase), f.back, f.online_before,
                        f.outcome.clone().map(|o| format!(": {o}")).unwrap_or_default())}
                </p>
                <Summary f=f.clone() edge=edge />
                {(!f.curve.is_empty() || f.stragglers.is_some()).then(|| view! {
                    <div class="move move-past" data-testid="last-move">
                        <div class="move-text">
                            {f.switched_at.is_some().then(|| view! { <TtlCountdown f=f.clone() /> })}
                            {f.stragglers.is_some().then(|| view! { <StragglersView f=f.clone() failed=failed_page /> })}
                        </div>
                        <MoveCurve f=f />
                    </div>
                })}
            })}
        </section>
    }
}

/// What stays once a failover has ended: how it went, the devices back, the backlog left
/// (edge poll) and the next step.
#[component]
fn Summary(f: Failover, edge: ReadSignal<Option<(u64, u32)>>) -> impl IntoView {
    let live = expect_context::<crate::Live>();
    let line = summary(&f);
    let f2 = f.clone();
    let next = move || {
        let backlog = edge.get()?;
        live.regions.with(|r| {
            let regions = r.as_ref().map_or(&[][..], |r| &r.regions[..]);
            next_step(&f2, regions, backlog, live.now.get_untracked())
        })
    };
    view! {
        <div class="failover-summary" data-testid="failover-summary" data-phase=f.phase.as_str()>
            <p><strong>{format!("{} → {}: {line}", f.source, f.target)}</strong></p>
            <p class="muted">{timing_line(&f, f.ended_at.unwrap_or(f.updated_at))}</p>
            {move || edge.get().map(|b| view! { <p data-testid="summary-backlog">{format!("backlog left: {}", backlog_line(b).trim_start_matches("edge backlog: "))}</p> })}
            {move || next().map(|n| view! { <p class="next-step" data-testid="next-step">{format!("Next: {}", n.text())}</p> })}
        </div>
    }
}

#[component]
fn ReadinessView(r: Readiness, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <div class="readiness" data-testid=format!("readiness-{}", r.target) data-overall=verdict_name(r.overall)>
            <div class="readiness-head">
                <span>{format!("Preflight of {}", r.target)}</span>
                <span class=format!("verdict verdict-{}", verdict_name(r.overall))>{verdict_name(r.overall).to_uppercase()}</span>
                {children.map(|c| c())}
            </div>
            <ul class="checks">
                {r.checks.into_iter().map(|c| {
                    let name = c.name.clone();
                    view! {
                        <li data-verdict=verdict_name(c.verdict) data-check=name>
                            <span class=format!("verdict verdict-{}", verdict_name(c.verdict))>{verdict_name(c.verdict)}</span>
                            " " <strong>{c.name}</strong> " — " {c.reasons.join("; ")}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn Confirm(
    target: String,
    pre: Option<Readiness>,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
    on_done: impl Fn() + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let api = expect_context::<Api>();
    let live = expect_context::<crate::Live>();
    let (typed, set_typed) = signal(String::new());
    let (reason, set_reason) = signal(String::new());
    let (override_warn, set_override) = signal(false);
    let (sending, set_sending) = signal(false);
    let (message, set_message) = signal(None::<String>);
    // The impact, from the server's plan for this target.
    let (plan, set_plan) = signal(None::<Result<FailoverPlan, String>>);
    {
        let (api, target) = (api.clone(), target.clone());
        leptos::task::spawn_local(async move {
            set_plan.set(Some(api.failover_plan(&target).await));
        });
    }
    // Opens in view, with the focus in its first field; Escape closes it.
    let first = NodeRef::<leptos::html::Input>::new();
    let form = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let (Some(input), Some(el)) = (first.get(), form.get()) {
            el.scroll_into_view();
            let _ = input.focus();
        }
    });
    {
        let close = on_close.clone();
        let esc = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                close();
            }
        });
        on_cleanup(move || esc.remove());
    }
    // The preflight shown once: the plan's when it has come, else the panel's.
    let preflight = Signal::derive(move || {
        plan.with(|p| match p {
            Some(Ok(p)) => Some(p.preflight.clone()),
            _ => None,
        })
        .or_else(|| pre.clone())
    });
    let overall = move || preflight.with(|p| p.as_ref().map_or(Verdict::Fail, |p| p.overall));
    let t = target.clone();
    let allowed = move || {
        typed.get().trim() == t
            && !reason.get().trim().is_empty()
            && overall() != Verdict::Fail
            && (overall() != Verdict::Warn || override_warn.get())
            && !sending.get()
            && !live.server_lost.get()
    };
    let t2 = target.clone();
    let close = on_close.clone();
    let execute = move |_| {
        let req = FailoverRequest {
            target: t2.clone(),
            confirm: typed.get_untracked().trim().to_string(),
            reason: reason.get_untracked().trim().to_string(),
            override_warnings: override_warn.get_untracked(),
        };
        let (api, close, done) = (api.clone(), close.clone(), on_done.clone());
        set_sending.set(true);
        leptos::task::spawn_local(async move {
            match api.request_failover(&req).await {
                Ok(Requested::Started(_)) => {
                    done();
                    close();
                }
                Ok(Requested::NothingToDo(m)) => set_message.set(Some(m)),
                Err(e) => set_message.set(Some(e)),
            }
            set_sending.set(false);
        });
    };
    let placeholder = format!("type {target} to confirm");
    view! {
        <div class="confirm" data-testid="confirm-failover" data-target=target.clone() node_ref=form role="dialog"
            aria-label=format!("Fail over the devices to {target}")>
            <h3>{format!("Fail over the devices to {target}")}<span class="muted hint">" (Escape closes)"</span></h3>
            <label>"Confirm: " <input data-testid="confirm-input" class="input mono" placeholder=placeholder node_ref=first
                prop:value=typed on:input=move |ev| set_typed.set(event_target_value(&ev)) /></label>
            <label>"Reason: " <input data-testid="reason-input" class="input wide" placeholder="incident, ticket"
                prop:value=reason on:input=move |ev| set_reason.set(event_target_value(&ev)) /></label>
            {move || match plan.get() {
                None => view! { <p class="muted" data-testid="failover-plan">"Working out the impact…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="form-error" data-testid="failover-plan">{format!("The impact could not be read: {e}")}</p> }.into_any(),
                Some(Ok(p)) => view! {
                    <div class="plan" data-testid="failover-plan">
                        <strong>"What it will do"</strong>
                        <ul>
                            <li data-testid="plan-switch">{p.switch.clone()}</li>
                            <li data-testid="plan-devices" data-figures=format!("{:?}", p.devices_figures).to_lowercase()>{devices_line(&p)}</li>
                            <li>{format!("devices re-resolve within the record's TTL ({}); stragglers still on {} are then moved by {}",
                                duration(p.dns_ttl_secs * 1_000), p.source, p.stragglers.as_str())}</li>
                            {p.estimate.as_ref().map(|e| view! { <li data-testid="plan-estimate">{e.message.clone()}</li> })}
                            {p.two_person_rule.then(|| view! { <li>"a second operator must approve it (two-person rule)"</li> })}
                        </ul>
                        {p.refused.clone().map(|r| view! { <p class="form-error" data-testid="plan-refused">{format!("It would be refused now: {r}")}</p> })}
                    </div>
                }.into_any(),
            }}
            {move || match preflight.get() {
                Some(r) => view! { <ReadinessView r=r /> }.into_any(),
                None => view! { <p class="form-error">"No preflight yet for this region; wait for it."</p> }.into_any(),
            }}
            {move || (overall() == Verdict::Fail).then(|| view! { <p class="form-error">"The preflight fails: fix it before failing over."</p> })}
            {move || (overall() == Verdict::Warn).then(|| view! {
                <label class="override"><input type="checkbox" data-testid="override" prop:checked=override_warn
                    on:change=move |ev| set_override.set(event_target_checked(&ev)) />
                    " Proceed although the preflight warns"</label>
            })}
            <div class="confirm-actions">
                <button class="btn btn-danger" data-testid="execute" disabled=move || !allowed() on:click=execute>"Execute failover"</button>
                <button class="btn" data-testid="cancel-failover" on:click=move |_| on_close()>"Cancel"</button>
            </div>
            {move || message.get().map(|m| view! { <p class="form-error" data-testid="confirm-message">{m}</p> })}
        </div>
    }
}

#[component]
fn Progress(
    f: Failover,
    failed: ReadSignal<Option<StragglerResults>>,
    on_stop: Callback<String>,
    edge: ReadSignal<Option<(u64, u32)>>,
) -> impl IntoView {
    let live = expect_context::<crate::Live>();
    // Back in the target: the last reading, or the curve's latest point when that is newer
    // (the reading is taken while verifying; the curve at every poll since the request).
    let back = f
        .back
        .max(f.curve.last().map_or(0, |p| p.target.min(f.online_before)));
    let share = if f.online_before == 0 {
        1.0
    } else {
        (back as f64 / f.online_before as f64).min(1.0)
    };
    let phase_name = f.phase.as_str();
    // The straggler phase says which half of it runs.
    let phase_text = match (f.phase, f.stragglers.as_ref().map(|s| s.state)) {
        (Phase::ReconnectingDevices, None | Some(StragglerState::Waiting)) => "waiting out the TTL",
        (Phase::ReconnectingDevices, Some(StragglerState::Moving)) => "moving the stragglers",
        (p, _) => phase_words(p),
    };
    view! {
        <div class="progress-panel" data-testid="failover-progress" data-phase=phase_name data-id=f.id.clone()>
            <div class="readiness-head">
                <strong>{format!("{} → {}", f.source, f.target)}</strong>
                <span class="phase">{phase_text}</span>
            </div>
            <p class="muted">{format!("requested by {}{}: {}", f.requested_by,
                f.approved_by.as_ref().map(|a| format!(", approved by {a}")).unwrap_or_default(), f.reason)}</p>
            <p data-testid="failover-timing">{ let t = Failover { curve: Vec::new(), steps: Vec::new(), ..f.clone() }; move || timing_line(&t, live.now.get()) }</p>
            <div class="bar"><div class="bar-fill" style:width=format!("{:.1}%", share * 100.0)></div></div>
            <p data-testid="failover-back">{format!("{} of {} devices back in {} ({:.0}%, complete at {:.0}%)",
                back, f.online_before, f.target, share * 100.0, f.complete_share * 100.0)}</p>
            // The edge backlog from the edge poll: it should drain once gateways reach the target.
            {move || edge.get().map(|b| view! { <p class="muted" data-testid="failover-backlog">{backlog_line(b)}</p> })}
            <div class="move">
                <div class="move-text">
                    <TtlCountdown f=f.clone() />
                    <CompleteEta f=f.clone() />
                    <StragglersView f=f.clone() failed=failed on_stop=on_stop />
                </div>
                <MoveCurve f=f.clone() />
            </div>
            <ol class="steps">
                {f.steps.into_iter().map(|s| {
                    let (words, style) = step_outcome(s.outcome.as_deref());
                    let attr = s.outcome.clone().unwrap_or_else(|| "running".into());
                    let detail = (!s.detail.is_empty()).then(|| format!(": {}", s.detail));
                    view! {
                        <li data-outcome=attr class=format!("step step-{style}")>
                            <strong>{s.step}</strong> " — " <span class=format!("outcome outcome-{style}")>{words}</span> {detail}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::failover::Check;

    #[test]
    fn a_step_with_nothing_to_do_reads_so_in_a_neutral_style_not_as_ok() {
        assert_eq!(
            step_outcome(Some("nothing_to_do")),
            ("nothing to do".to_string(), "neutral")
        );
        assert_eq!(step_outcome(Some("ok")), ("ok".to_string(), "ok"));
        assert_eq!(step_outcome(Some("failed")).1, "fail");
        assert_eq!(step_outcome(None).0, "running");
    }

    fn readiness(overall: Verdict) -> Readiness {
        Readiness {
            target: "eu-west-1".into(),
            overall,
            checks: vec![Check {
                name: "switch path".into(),
                verdict: overall,
                reasons: vec!["no endpoint answers".into()],
            }],
        }
    }

    #[test]
    fn a_failing_preflight_blocks_the_button_and_says_which_check_fails() {
        let why = why_blocked(false, false, true, Some(&readiness(Verdict::Fail))).unwrap();
        assert!(why.starts_with("the preflight fails"), "{why}");
        assert!(why.contains("switch path: no endpoint answers"), "{why}");
        assert_eq!(
            why_blocked(false, false, true, Some(&readiness(Verdict::Pass))),
            None
        );
        assert_eq!(
            why_blocked(true, false, true, Some(&readiness(Verdict::Pass))).unwrap(),
            "the console cannot reach its server"
        );
    }

    #[test]
    fn the_backlog_comes_from_the_edge_polls_totals_each_gateway_once() {
        let g: GatewaysResponse = serde_json::from_value(serde_json::json!({
            "server_time": 0, "observed_at": 0, "poll_interval_ms": 1000,
            "totals": { "gateways": 40, "messages": 59481, "bytes": 0, "dropped": 0, "oldest_age_ms": 0 },
            "total_gateways": 40, "gateways": [], "totals_history": []
        }))
        .unwrap();
        assert_eq!(edge_backlog(&g), (59_481, 40));
        assert_eq!(
            backlog_line(edge_backlog(&g)),
            "edge backlog: 59\u{202f}481 messages in 40 gateways (edge poll)"
        );
    }
}
