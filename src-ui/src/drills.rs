//! The drills page: run a drill, see every drill with its result and the trend of recovery
//! time and data loss, open one drill's report (objectives, measures, charts, timeline, notes
//! and action items, downloads), and compare two side by side.
//! (Past 500 lines: the drills page's five parts — run form, list, trend, report, comparison —
//! share one page state; a split by part is the next change here.)

use crate::api::Api;
use crate::fmt::thousands;
use leptos::prelude::*;
use switchyard_core::drills::{
    ActionItem, Comparison, DecidedBy, Drill, DrillMode, DrillNotes, DrillStatus, DrillSummary,
    DrillsResponse, ObjectiveOverrides, Scenario, ScenarioFailback, ScenarioFailover,
    ScenarioFault,
};
use switchyard_core::switch::SwitchMethod;

fn secs_text(ms: Option<u64>) -> String {
    ms.map_or("—".into(), switchyard_core::drills::format_secs)
}

fn status_class(s: DrillStatus) -> &'static str {
    match s {
        DrillStatus::Passed => "drill-status passed",
        DrillStatus::Failed => "drill-status failed",
        DrillStatus::Running => "drill-status running",
        DrillStatus::Aborted => "drill-status aborted",
    }
}

fn number(v: &str, field: &str) -> Result<u64, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{field}: a whole number, not '{}'", v.trim()))
}

/// The form's fields, as typed.
#[derive(Clone)]
struct Form {
    name: RwSignal<String>,
    mode: RwSignal<String>,
    region: RwSignal<String>,
    outage_at: RwSignal<String>,
    outage_for: RwSignal<String>,
    /// Route 53's control plane fails with the outage (same start, same length).
    control_plane: RwSignal<bool>,
    /// Simulated drills: the switch method's name.
    switch: RwSignal<String>,
    by: RwSignal<String>,
    decide: RwSignal<String>,
    failback: RwSignal<bool>,
    failback_after: RwSignal<String>,
    duration: RwSignal<String>,
    devices: RwSignal<String>,
    seed: RwSignal<String>,
    rto: RwSignal<String>,
}

impl Form {
    fn new() -> Form {
        let s = |v: &str| RwSignal::new(v.to_string());
        Form {
            name: s("Regional outage drill"),
            mode: s("simulated"),
            region: s(""),
            outage_at: s("30"),
            outage_for: s("600"),
            control_plane: RwSignal::new(false),
            switch: s(SwitchMethod::default().as_str()),
            by: s("script"),
            decide: s("60"),
            failback: RwSignal::new(true),
            failback_after: s("60"),
            duration: s("900"),
            devices: s("2000"),
            seed: s("1"),
            rto: s(""),
        }
    }

    fn scenario(&self) -> Result<Scenario, String> {
        let mode = if self.mode.get() == "live" {
            DrillMode::Live
        } else {
            DrillMode::Simulated
        };
        let by = if self.by.get() == "operator" {
            DecidedBy::Operator
        } else {
            DecidedBy::Script
        };
        let region = self.region.get();
        let rto = self.rto.get();
        let outage = ScenarioFault {
            region: (!region.is_empty()).then_some(region),
            at_secs: number(&self.outage_at.get(), "outage at")?,
            duration_secs: number(&self.outage_for.get(), "outage for")?,
        };
        let sc = Scenario {
            name: self.name.get(),
            mode,
            seed: number(&self.seed.get(), "seed")?,
            devices: number(&self.devices.get(), "devices")? as usize,
            gateways: 20,
            duration_secs: number(&self.duration.get(), "duration")?,
            route53_control_plane: self.control_plane.get().then(|| ScenarioFault {
                region: None,
                ..outage.clone()
            }),
            outage: Some(outage),
            degradation: None,
            switch: (mode == DrillMode::Simulated)
                .then(|| SwitchMethod::parse(&self.switch.get()))
                .flatten(),
            failover: ScenarioFailover {
                by,
                target: None,
                decide_secs: number(&self.decide.get(), "decide after")?,
            },
            failback: (self.failback.get() && by == DecidedBy::Script)
                .then(|| number(&self.failback_after.get(), "fail back after"))
                .transpose()?
                .map(|after_secs| ScenarioFailback { after_secs }),
            objectives: ObjectiveOverrides {
                rto_secs: (!rto.trim().is_empty())
                    .then(|| number(&rto, "RTO"))
                    .transpose()?,
                ..ObjectiveOverrides::default()
            },
        };
        sc.check()?;
        Ok(sc)
    }
}

#[component]
pub fn DrillsView() -> impl IntoView {
    let api = expect_context::<Api>();
    let live = expect_context::<crate::Live>();
    let (list, set_list) = signal(None::<DrillsResponse>);
    let (error, set_error) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let (open, set_open) = signal(None::<String>);
    let (picked, set_picked) = signal(Vec::<String>::new());
    let (comparison, set_comparison) = signal(None::<Comparison>);
    let form = Form::new();

    let refresh = {
        let api = api.clone();
        move || {
            let api = api.clone();
            leptos::task::spawn_local(async move {
                match api.drills().await {
                    Ok(l) => set_list.set(Some(l)),
                    Err(e) => set_error.set(Some(e)),
                }
            });
        }
    };
    refresh();
    // While a drill runs, follow the list.
    {
        let refresh = refresh.clone();
        crate::timers::every(
            move || {
                if list.with_untracked(|l| {
                    l.as_ref()
                        .is_some_and(|l| l.drills.iter().any(|d| d.status == DrillStatus::Running))
                }) {
                    refresh();
                }
            },
            std::time::Duration::from_secs(1),
        );
    }
    let regions = move || {
        live.regions.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.regions
                        .iter()
                        .map(|x| (x.id.clone(), x.role))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };

    let run = {
        let (api, refresh, form) = (api.clone(), refresh.clone(), form.clone());
        move |_| {
            let sc = match form.scenario() {
                Ok(s) => s,
                Err(e) => return set_error.set(Some(e)),
            };
            let (api, refresh) = (api.clone(), refresh.clone());
            set_busy.set(true);
            leptos::task::spawn_local(async move {
                match api.start_drill(&sc).await {
                    Ok(d) => {
                        set_error.set(None);
                        set_open.set(Some(d.id));
                        refresh();
                    }
                    Err(e) => set_error.set(Some(e)),
                }
                set_busy.set(false);
            });
        }
    };
    let compare = {
        let api = api.clone();
        move |_| {
            let ids = picked.get_untracked();
            if ids.len() != 2 {
                return;
            }
            let api = api.clone();
            leptos::task::spawn_local(async move {
                match api.compare_drills(&ids[0], &ids[1]).await {
                    Ok(c) => {
                        set_error.set(None);
                        set_comparison.set(Some(c));
                    }
                    Err(e) => set_error.set(Some(e)),
                }
            });
        }
    };
    let toggle_pick = move |id: String, on: bool| {
        set_picked.update(|p| {
            p.retain(|x| *x != id);
            if on {
                p.push(id);
                if p.len() > 2 {
                    p.remove(0);
                }
            }
        });
    };

    let f = form.clone();
    let may = crate::auth::may_operate();
    view! {
        <section class="drills" data-testid="drills">
            <h2 class="section-title">"Drills"</h2>
            {move || list.get().and_then(|l| l.overdue).map(|w| view! {
                <div class="banner banner-warn" data-testid="drill-overdue" role="status">{w}</div>
            })}
            <details class="drill-form" open=true>
                <summary>"Run a drill"</summary>
                <div class="command-form">
                    <label>"Name " <input class="input wide" data-testid="drill-name" prop:value=f.name on:input=move |ev| f.name.set(event_target_value(&ev)) /></label>
                    <label>"Mode "
                        <select data-testid="drill-mode" on:change=move |ev| f.mode.set(event_target_value(&ev))>
                            <option value="simulated">"simulated — a seeded copy of the fleet, in simulated time"</option>
                            <option value="live">"live — on this console, in real time"</option>
                        </select>
                    </label>
                    <label>"Outage of "
                        <select data-testid="drill-region" on:change=move |ev| f.region.set(event_target_value(&ev))>
                            <option value="">"the active region"</option>
                            {move || regions().into_iter().map(|(id, _)| view! { <option value=id.clone()>{id.clone()}</option> }).collect_view()}
                        </select>
                        " at " <input class="input num" data-testid="drill-outage-at" prop:value=f.outage_at on:input=move |ev| f.outage_at.set(event_target_value(&ev)) /> " s, for "
                        <input class="input num" data-testid="drill-outage-for" prop:value=f.outage_for on:input=move |ev| f.outage_for.set(event_target_value(&ev)) /> " s"
                    </label>
                    <label>
                        <input type="checkbox" data-testid="drill-control-plane" prop:checked=f.control_plane on:change=move |ev| f.control_plane.set(event_target_checked(&ev)) />
                        " Route 53's control plane (served from us-east-1) fails with it"
                    </label>
                    <label>"Switch (simulated drills) "
                        <select data-testid="drill-switch" on:change=move |ev| f.switch.set(event_target_value(&ev))>
                            {SwitchMethod::ALL.into_iter().map(|m| view! { <option value=m.as_str()>{match m {
                                SwitchMethod::Record => "record — UPSERT the devices' record (Route 53 control plane)",
                                SwitchMethod::HealthCheck => "health_check — invert health checks (Route 53 control plane)",
                                SwitchMethod::RoutingControl => "routing_control — ARC routing controls (data plane)",
                            }}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"Failover by "
                        <select data-testid="drill-by" on:change=move |ev| f.by.set(event_target_value(&ev))>
                            <option value="script">"the script"</option>
                            <option value="operator">"an operator (live drills)"</option>
                        </select>
                        " confirmed " <input class="input num" data-testid="drill-decide" prop:value=f.decide on:input=move |ev| f.decide.set(event_target_value(&ev)) /> " s after the recommendation"
                    </label>
                    <label>
                        <input type="checkbox" data-testid="drill-failback" prop:checked=f.failback on:change=move |ev| f.failback.set(event_target_checked(&ev)) />
                        " Fail back " <input class="input num" prop:value=f.failback_after on:input=move |ev| f.failback_after.set(event_target_value(&ev)) /> " s after the outage ends"
                    </label>
                    <label>"Drill length " <input class="input num" data-testid="drill-duration" prop:value=f.duration on:input=move |ev| f.duration.set(event_target_value(&ev)) /> " s · devices "
                        <input class="input num" data-testid="drill-devices" prop:value=f.devices on:input=move |ev| f.devices.set(event_target_value(&ev)) /> " · seed "
                        <input class="input num" data-testid="drill-seed" prop:value=f.seed on:input=move |ev| f.seed.set(event_target_value(&ev)) />
                    </label>
                    <label>"RTO for this drill "
                        <input class="input num" data-testid="drill-rto" placeholder=move || list.get().map(|l| l.objectives.rto_secs.to_string()).unwrap_or_default() prop:value=f.rto on:input=move |ev| f.rto.set(event_target_value(&ev)) />
                        " s "
                        <span class="muted">{move || list.get().map(|l| format!("(configured: RTO {} s, ≤ {} messages lost, backlog ≤ {})", l.objectives.rto_secs, l.objectives.rpo_messages, thousands(l.objectives.max_backlog)))}</span>
                    </label>
                    <div class="confirm-actions">
                        <button class="btn btn-danger" data-testid="run-drill" title=move || crate::auth::why_not(may.get())
                            disabled=move || busy.get() || !may.get() on:click=run>"Run drill"</button>
                    </div>
                </div>
            </details>
            {move || error.get().map(|e| view! { <p class="form-error" data-testid="drill-error">{e}</p> })}
            <div class="drill-trend">
                {move || list.get().map(|l| trend(&l.drills))}
            </div>
            <div class="drill-list-head">
                <h3>"Every drill"</h3>
                <button class="btn" data-testid="compare" disabled=move || picked.get().len() != 2 on:click=compare>"Compare the two ticked"</button>
            </div>
            <table class="table" data-testid="drill-list">
                <thead><tr><th></th><th>"drill"</th><th>"mode"</th><th>"started"</th><th>"by"</th><th>"result"</th><th>"recovery"</th><th>"lost"</th></tr></thead>
                <tbody>
                    {move || list.get().map(|l| l.drills.into_iter().map(|d| {
                        let (id, id2, id3) = (d.id.clone(), d.id.clone(), d.id.clone());
                        view! {
                            <tr data-testid="drill-row" data-id=d.id.clone() data-status=d.status.as_str() class:selected=move || open.get().as_deref() == Some(id3.as_str())>
                                <td><input type="checkbox" data-testid="drill-pick" prop:checked=move || picked.get().contains(&id2)
                                    on:change=move |ev| toggle_pick(id.clone(), event_target_checked(&ev)) /></td>
                                <td><a href="#/drills" data-testid="drill-open" on:click={ let id = d.id.clone(); move |_| set_open.set(Some(id.clone())) }>{d.name.clone()}</a></td>
                                <td>{match d.mode { DrillMode::Simulated => "simulated", DrillMode::Live => "live" }}</td>
                                <td>{crate::fmt::clock(d.started_at)}</td>
                                <td>{d.started_by.clone()}</td>
                                <td><span class=status_class(d.status)>{d.status.as_str()}</span></td>
                                <td>{secs_text(d.recovery_ms)}</td>
                                <td>{d.messages_lost.map_or("—".into(), thousands)}</td>
                            </tr>
                        }
                    }).collect_view())}
                </tbody>
            </table>
            {move || comparison.get().map(|c| view! {
                <div class="panel-box" data-testid="drill-compare">
                    <h3>"Side by side"</h3>
                    <table class="table">
                        <thead><tr><th>"measure"</th><th>{format!("A: {}", c.a.name)}<br/><span class="muted">{crate::fmt::clock(c.a.started_at)}</span></th>
                            <th>{format!("B: {}", c.b.name)}<br/><span class="muted">{crate::fmt::clock(c.b.started_at)}</span></th></tr></thead>
                        <tbody>{c.rows.into_iter().map(|r| {
                            let better = r.better.clone().unwrap_or_default();
                            let (a_better, b_better) = (better == "a", better == "b");
                            let measure = r.measure.clone();
                            view! {
                                <tr data-testid="compare-row" data-measure=measure data-better=better>
                                    <td>{r.measure}</td>
                                    <td class:better=a_better>{r.a}</td>
                                    <td class:better=b_better>{r.b}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                </div>
            })}
            {move || open.get().map(|id| view! { <DrillDetail id=id on_change=refresh.clone() /> })}
        </section>
    }
}

/// Recovery time and data loss across the ended drills, oldest first.
fn trend(drills: &[DrillSummary]) -> impl IntoView {
    let ended: Vec<&DrillSummary> = drills
        .iter()
        .rev()
        .filter(|d| matches!(d.status, DrillStatus::Passed | DrillStatus::Failed))
        .collect();
    if ended.len() < 2 {
        return view! { <p class="muted">"The trend of recovery time and data loss shows once two drills have ended."</p> }.into_any();
    }
    let rec: Vec<(f64, f64)> = ended
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            d.recovery_ms
                .map(|ms| ((i + 1) as f64, ms as f64 / 1_000.0))
        })
        .collect();
    let lost: Vec<(f64, f64)> = ended
        .iter()
        .enumerate()
        .map(|(i, d)| ((i + 1) as f64, d.messages_lost.unwrap_or(0) as f64))
        .collect();
    let a = crate::charts::series_chart(
        "Recovery time per drill (s)",
        &rec,
        crate::charts::GREEN,
        (440, 190),
    );
    let b = crate::charts::series_chart(
        "Messages lost per drill",
        &lost,
        crate::charts::RED,
        (440, 190),
    );
    view! {
        <div class="trend-charts" data-testid="drill-trend">
            <div class="chart" inner_html=a></div>
            <div class="chart" inner_html=b></div>
        </div>
    }
    .into_any()
}

#[component]
fn DrillDetail(id: String, on_change: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let api = expect_context::<Api>();
    let (drill, set_drill) = signal(None::<Drill>);
    let (charts, set_charts) = signal(Vec::<(String, String)>::new());
    let (error, set_error) = signal(None::<String>);
    let (notes, set_notes) = signal(String::new());
    let (items, set_items) = signal(String::new());
    let (saved, set_saved) = signal(false);

    {
        let (api, id, on_change) = (api.clone(), id.clone(), on_change.clone());
        leptos::task::spawn_local(async move {
            loop {
                match api.drill(&id).await {
                    Ok(d) => {
                        let running = d.summary.status == DrillStatus::Running;
                        if !running {
                            set_notes.set(d.notes.clone());
                            set_items.set(
                                d.action_items
                                    .iter()
                                    .map(|a| match &a.owner {
                                        Some(o) => format!("{} @{o}", a.text),
                                        None => a.text.clone(),
                                    })
                                    .collect::<Vec<_>>()
                                    .join("\n"),
                            );
                        }
                        set_drill.set(Some(d));
                        if !running {
                            on_change();
                            break;
                        }
                    }
                    Err(e) => {
                        set_error.set(Some(e));
                        return;
                    }
                }
                crate::commands::sleep_ms(1_000).await;
            }
            let mut drawn = Vec::new();
            for c in ["reconnection", "backlog", "timeline"] {
                match api.drill_chart(&id, c).await {
                    Ok(svg) => drawn.push((c.to_string(), svg)),
                    Err(e) => set_error.set(Some(e)),
                }
            }
            set_charts.set(drawn);
        });
    }
    let save = {
        let (api, id) = (api.clone(), id.clone());
        move |_| {
            let action_items = items
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| match l.rsplit_once(" @") {
                    Some((text, owner)) => ActionItem {
                        text: text.trim().into(),
                        owner: Some(owner.trim().into()),
                        done: false,
                    },
                    None => ActionItem {
                        text: l.into(),
                        owner: None,
                        done: false,
                    },
                })
                .collect();
            let n = DrillNotes {
                notes: notes.get_untracked(),
                action_items,
            };
            let (api, id) = (api.clone(), id.clone());
            leptos::task::spawn_local(async move {
                match api.drill_notes(&id, &n).await {
                    Ok(d) => {
                        set_error.set(None);
                        set_saved.set(true);
                        set_drill.set(Some(d));
                    }
                    Err(e) => set_error.set(Some(e)),
                }
            });
        }
    };
    let abort = {
        let (api, id) = (api.clone(), id.clone());
        move |_| {
            let (api, id) = (api.clone(), id.clone());
            leptos::task::spawn_local(async move {
                if let Err(e) = api.abort_drill(&id).await {
                    set_error.set(Some(e));
                }
            });
        }
    };
    let downloads = {
        let api = api.clone();
        let id = id.clone();
        move || {
            let links: Vec<(String, String)> = [
                ("report.html", "HTML report"),
                ("charts/reconnection.png", "reconnection.png"),
                ("charts/backlog.png", "backlog.png"),
                ("charts/timeline.png", "timeline.png"),
            ]
            .into_iter()
            .filter_map(|(f, label)| api.drill_download(&id, f).map(|u| (u, label.to_string())))
            .chain(
                api.drill_download(&id, "")
                    .map(|u| (u.trim_end_matches('/').to_string(), "JSON".to_string())),
            )
            .collect();
            links
        }
    };

    view! {
        <div class="panel-box drill-detail" data-testid="drill-detail">
            {move || error.get().map(|e| view! { <p class="form-error">{e}</p> })}
            {move || drill.get().map(|d| {
                let s = d.summary.clone();
                let running = s.status == DrillStatus::Running;
                view! {
                    <div class="readiness-head">
                        <h3>{s.name.clone()}</h3>
                        <span class=status_class(s.status) data-testid="drill-verdict">{s.status.as_str().to_uppercase()}</span>
                        <span class="muted">{format!("{} · {} · started {} by {}", s.id, match s.mode { DrillMode::Simulated => "simulated time", DrillMode::Live => "live" }, crate::fmt::clock(s.started_at), s.started_by)}</span>
                        {running.then(|| view! { <button class="btn" data-testid="abort-drill" on:click=abort.clone()>"Stop the drill"</button> })}
                    </div>
                    {d.error.clone().map(|e| view! { <p class="form-error">{format!("aborted: {e}")}</p> })}
                    {d.metrics.clone().map(|m| view! {
                        <table class="table objectives" data-testid="drill-objectives">
                            <thead><tr><th>"objective"</th><th>"target"</th><th>"measured"</th><th></th></tr></thead>
                            <tbody>{m.objectives.iter().map(|o| view! {
                                <tr data-passed=o.passed.to_string()><td>{o.name.clone()}</td><td>{o.target.clone()}</td><td>{o.actual.clone()}</td>
                                <td class=if o.passed { "pass" } else { "fail" }>{if o.passed { "met" } else { "missed" }}</td></tr>
                            }).collect_view()}</tbody>
                        </table>
                        <p class="measures" data-testid="drill-measures">
                            {format!("detect {} · decide {} · recover {} · peak backlog {} · drain {} · reachability {}",
                                secs_text(m.time_to_detect_ms), secs_text(m.time_to_decide_ms), secs_text(m.recovery_ms),
                                thousands(m.peak_backlog), secs_text(m.drain_ms),
                                m.command_reachability.map_or("—".into(), |r| format!("{:.1} %", r * 100.0)))}
                        </p>
                    })}
                    {running.then(|| view! { <p class="muted" data-testid="drill-running">{format!("Running: {} events so far.", d.recording.events.len())}</p> })}
                    <div class="drill-charts">
                        {move || charts.get().into_iter().map(|(name, svg)| view! {
                            <div class="chart report-chart" data-testid=format!("drill-chart-{name}") inner_html=svg></div>
                        }).collect_view()}
                    </div>
                    <table class="table" data-testid="drill-timeline">
                        <thead><tr><th>"time"</th><th>"event"</th><th>"detail"</th></tr></thead>
                        <tbody>{d.recording.events.iter().map(|e| view! {
                            <tr><td>{secs_text(Some(e.t_ms))}</td><td>{e.kind.label()}</td><td>{e.detail.clone()}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                }
            })}
            <div class="notes-form">
                <label>"Notes" <textarea class="input" data-testid="drill-notes" rows="3" prop:value=notes on:input=move |ev| { set_saved.set(false); set_notes.set(event_target_value(&ev)) }></textarea></label>
                <label>"Action items, one a line (owner after @)" <textarea class="input" data-testid="drill-actions" rows="3" prop:value=items on:input=move |ev| { set_saved.set(false); set_items.set(event_target_value(&ev)) }></textarea></label>
                <div class="confirm-actions">
                    <button class="btn" data-testid="save-notes" on:click=save>"Save notes"</button>
                    {move || saved.get().then(|| view! { <span class="muted" data-testid="notes-saved">"saved"</span> })}
                    {move || downloads().into_iter().map(|(url, label)| view! { <a class="btn" href=url target="_blank" download="">{label}</a> }).collect_view()}
                </div>
            </div>
        </div>
    }
}
