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
//!   live update never wipes what the operator is typing.

use crate::api::{Api, Requested};
use crate::moving::{CompleteEta, MoveCurve, StopStragglers, StragglersView, TtlCountdown};
use leptos::prelude::*;
use switchyard_core::alerts::AlertKind;
use switchyard_core::failover::{
    Failover, FailoverOverview, FailoverRequest, Phase, Readiness, Verdict,
};
use switchyard_core::moving::{DeviceOutcome, StragglerResults, StragglerState};

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

#[component]
pub fn FailoverPanel() -> impl IntoView {
    let api = expect_context::<Api>();
    let live = expect_context::<crate::Live>();
    let (overview, set_overview) = signal(None::<FailoverOverview>);
    let (error, set_error) = signal(None::<String>);
    // The target whose confirmation form is open.
    let (open, set_open) = signal(None::<String>);
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
            });
        }
    };
    refresh();
    {
        let refresh = refresh.clone();
        let _ = set_interval_with_handle(refresh, std::time::Duration::from_secs(3));
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
                            disabled=move || !may.get() title=move || crate::auth::why_not(may.get())
                            on:click=move |_| set_open.set(Some(target.clone()))>
                            {format!("Fail over to {}…", rec.target)}
                        </button>
                    </div>
                }
            })}
            {move || open.get().map(|target| {
                let pre = overview.with(|o| o.as_ref().and_then(|o| o.readiness.iter().find(|r| r.target == target).cloned()));
                view! { <Confirm target=target pre=pre on_close=move || set_open.set(None) on_done=refresh.clone() /> }
            })}
            {move || current.get().map(|f| view! { <Progress f=f failed=failed_page on_stop=on_stop /> })}
            {move || stop_open.get().filter(|id| current_id.get().as_ref() == Some(id)).map(|id| view! {
                <StopStragglers id=id on_close=move || set_stop_open.set(None) on_done=refresh_after_stop.clone() />
            })}
            <div class="readiness-list">
                {move || overview.get().map(|o| {
                    let busy = o.current.is_some();
                    o.readiness.into_iter().map(|r| {
                        let t = r.target.clone();
                        view! {
                            <ReadinessView r=r>
                                <button class="btn" data-testid=format!("open-failover-{t}") disabled=move || busy || !may.get()
                                    title=move || crate::auth::why_not(may.get())
                                    on:click={ let t = t.clone(); move |_| set_open.set(Some(t.clone())) }>
                                    {format!("Fail over to {t}…")}
                                </button>
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
    let (typed, set_typed) = signal(String::new());
    let (reason, set_reason) = signal(String::new());
    let (override_warn, set_override) = signal(false);
    let (sending, set_sending) = signal(false);
    let (message, set_message) = signal(None::<String>);
    let overall = pre.as_ref().map_or(Verdict::Fail, |p| p.overall);
    let t = target.clone();
    let allowed = move || {
        typed.get().trim() == t
            && !reason.get().trim().is_empty()
            && overall != Verdict::Fail
            && (overall != Verdict::Warn || override_warn.get())
            && !sending.get()
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
        <div class="confirm" data-testid="confirm-failover" data-target=target.clone()>
            <h3>{format!("Fail over the devices to {target}")}</h3>
            {match pre {
                Some(r) => view! { <ReadinessView r=r /> }.into_any(),
                None => view! { <p class="form-error">"No preflight yet for this region; wait for it."</p> }.into_any(),
            }}
            {(overall == Verdict::Fail).then(|| view! { <p class="form-error">"The preflight fails: fix it before failing over."</p> })}
            <label>"Confirm: " <input data-testid="confirm-input" class="input mono" placeholder=placeholder
                prop:value=typed on:input=move |ev| set_typed.set(event_target_value(&ev)) /></label>
            <label>"Reason: " <input data-testid="reason-input" class="input wide" placeholder="incident, ticket"
                prop:value=reason on:input=move |ev| set_reason.set(event_target_value(&ev)) /></label>
            {(overall == Verdict::Warn).then(|| view! {
                <label class="override"><input type="checkbox" data-testid="override" on:change=move |ev| set_override.set(event_target_checked(&ev)) />
                    " Proceed although the preflight warns"</label>
            })}
            <div class="confirm-actions">
                <button class="btn btn-danger" data-testid="execute" disabled=move || !allowed() on:click=execute>"Execute failover"</button>
                <button class="btn" on:click=move |_| on_close()>"Cancel"</button>
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
) -> impl IntoView {
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
            <p class="muted">{format!("requested by {}: {}", f.requested_by, f.reason)}</p>
            <div class="bar"><div class="bar-fill" style:width=format!("{:.1}%", share * 100.0)></div></div>
            <p data-testid="failover-back">{format!("{} of {} devices back in {} ({:.0}%, complete at {:.0}%)",
                back, f.online_before, f.target, share * 100.0, f.complete_share * 100.0)}</p>
            {move || {
                // The edge backlog, fleet-wide: it should drain once gateways reach the target.
                let live = expect_context::<crate::Live>();
                live.regions.with(|r| r.as_ref().map(|r| {
                    let (msgs, gws) = r.regions.iter().fold((0u64, 0u32), |(m, g), x| (m + x.backlog.messages, g + x.backlog.gateways));
                    view! { <p class="muted" data-testid="failover-backlog">{format!("edge backlog: {} messages in {} gateways", crate::fmt::thousands(msgs), gws)}</p> }
                }))
            }}
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
                    let outcome = s.outcome.unwrap_or_else(|| "running".into());
                    let attr = outcome.clone();
                    let detail = (!s.detail.is_empty()).then(|| format!(": {}", s.detail));
                    view! {
                        <li data-outcome=attr>
                            <strong>{s.step}</strong> " — " {outcome} {detail}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </div>
    }
}
