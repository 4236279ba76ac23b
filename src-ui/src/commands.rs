//! The commands page: pick a catalogue command and a target, preview who is online and will
//! receive it and who is offline and skipped (or gets it as desired shadow state, when asked),
//! send, and follow the run to its per-device results.

use crate::api::{Api, CommandPreview, CommandsOverview, RunDetail};
use crate::fmt::thousands;
use leptos::prelude::*;
use switchyard_core::commands::{CommandRequest, OfflinePolicy, Outcome, RunStatus, Target};

fn target_from(kind: &str, value: &str) -> Result<Target, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("say which devices: fill in the target".into());
    }
    Ok(match kind {
        "group" => Target::ThingGroup { name: v.into() },
        "devices" => Target::Devices {
            ids: v
                .split([',', ' ', '\n'])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        },
        "query" => Target::Query { query: v.into() },
        _ => Target::Region { code: v.into() },
    })
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Sent => "sent".into(),
        Outcome::Shadowed => "written to the shadow".into(),
        Outcome::SkippedOffline { reason, .. } => format!("skipped: offline ({})", reason.as_str()),
        Outcome::Failed { error } => format!("failed: {error}"),
        Outcome::Cancelled => "cancelled".into(),
    }
}

#[component]
pub fn CommandsView() -> impl IntoView {
    let api = expect_context::<Api>();
    let live = expect_context::<crate::Live>();
    let (overview, set_overview) = signal(None::<CommandsOverview>);
    let (command, set_command) = signal(String::new());
    let (kind, set_kind) = signal("region".to_string());
    let (value, set_value) = signal(String::new());
    let (payload, set_payload) = signal("{}".to_string());
    let (shadow, set_shadow) = signal(false);
    let (reason, set_reason) = signal(String::new());
    let (preview, set_preview) = signal(None::<(CommandRequest, CommandPreview)>);
    let (error, set_error) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let (run, set_run) = signal(None::<RunDetail>);

    {
        let api = api.clone();
        leptos::task::spawn_local(async move {
            match api.commands().await {
                Ok(o) => {
                    if let Some(first) = o.catalogue.first() {
                        set_command.set(first.name.clone());
                    }
                    set_overview.set(Some(o));
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    }
    // The active region is the natural first target.
    Effect::new(move |_| {
        if value.get_untracked().is_empty() {
            if let Some(a) = live.regions.with(|r| {
                r.as_ref().and_then(|r| {
                    r.regions
                        .iter()
                        .find(|x| x.role == switchyard_core::RegionRole::Active)
                        .map(|x| x.id.clone())
                })
            }) {
                set_value.set(a);
            }
        }
    });
    let def = move || {
        overview.with(|o| {
            o.as_ref().and_then(|o| {
                o.catalogue
                    .iter()
                    .find(|c| c.name == command.get())
                    .cloned()
            })
        })
    };
    let request = move || -> Result<CommandRequest, String> {
        let payload =
            serde_json::from_str(&payload.get()).map_err(|e| format!("payload: not JSON ({e})"))?;
        Ok(CommandRequest {
            command: command.get(),
            payload,
            target: target_from(&kind.get(), &value.get())?,
            offline: if shadow.get() {
                OfflinePolicy::Shadow
            } else {
                OfflinePolicy::Skip
            },
            reason: reason.get(),
            confirm_count: None,
        })
    };
    // The preview stays valid only for the request it was made for.
    let previewed = move || {
        let r = request().ok();
        preview.with(|p| match (p, r) {
            (Some((asked, pv)), Some(now))
                if asked.command == now.command
                    && asked.target == now.target
                    && asked.payload == now.payload
                    && asked.offline == now.offline =>
            {
                Some(pv.clone())
            }
            _ => None,
        })
    };
    let do_preview = {
        let api = api.clone();
        move |_| {
            let req = match request() {
                Ok(r) => r,
                Err(e) => return set_error.set(Some(e)),
            };
            let api = api.clone();
            set_busy.set(true);
            leptos::task::spawn_local(async move {
                match api.preview_command(&req).await {
                    Ok(p) => {
                        set_error.set(None);
                        set_preview.set(Some((req, p)));
                    }
                    Err(e) => {
                        set_preview.set(None);
                        set_error.set(Some(e));
                    }
                }
                set_busy.set(false);
            });
        }
    };
    let follow = {
        let api = api.clone();
        move |id: String| {
            let api = api.clone();
            leptos::task::spawn_local(async move {
                loop {
                    match api.command_run(&id, 100).await {
                        Ok(d) => {
                            let done = d.run.status != RunStatus::Running;
                            set_run.set(Some(d));
                            if done {
                                // The recent runs list, with this one in it.
                                if let Ok(o) = api.commands().await {
                                    set_overview.set(Some(o));
                                }
                                break;
                            }
                        }
                        Err(e) => {
                            set_error.set(Some(e));
                            break;
                        }
                    }
                    sleep_ms(500).await;
                }
            });
        }
    };
    let do_send = {
        let api = api.clone();
        let follow = follow.clone();
        move |_| {
            let req = match request() {
                Ok(r) => r,
                Err(e) => return set_error.set(Some(e)),
            };
            let (api, follow) = (api.clone(), follow.clone());
            set_busy.set(true);
            leptos::task::spawn_local(async move {
                match api.run_command(&req).await {
                    Ok(r) => {
                        set_error.set(None);
                        set_preview.set(None);
                        follow(r.id);
                    }
                    Err(e) => set_error.set(Some(e)),
                }
                set_busy.set(false);
            });
        }
    };
    let do_cancel = {
        let api = api.clone();
        move |_| {
            if let Some(id) = run.with_untracked(|r| r.as_ref().map(|r| r.run.id.clone())) {
                let api = api.clone();
                leptos::task::spawn_local(async move {
                    if let Err(e) = api.cancel_command(&id).await {
                        set_error.set(Some(e));
                    }
                });
            }
        }
    };

    let may = crate::auth::may_operate();
    view! {
        <section class="commands" data-testid="commands">
            <h2 class="section-title">"Commands"</h2>
            <p class="muted">"Only devices that are online receive a command. Offline devices are skipped — or, when you choose it and the command allows it, get the payload as desired shadow state to pick up when they reconnect."</p>
            <div class="command-form">
                <label>"Command "
                    <select data-testid="command-name" on:change=move |ev| { set_command.set(event_target_value(&ev)); set_shadow.set(false); }>
                        {move || overview.get().map(|o| o.catalogue.into_iter().map(|c| {
                            let n = c.name.clone();
                            view! { <option value=n.clone() selected=move || command.get() == n>{c.name}</option> }
                        }).collect_view())}
                    </select>
                </label>
                <span class="muted">{move || def().map(|d| format!("{} — topic {}", d.description, d.topic))}</span>
                <label>"Target "
                    <select data-testid="target-kind" on:change=move |ev| set_kind.set(event_target_value(&ev))>
                        <option value="region">"region"</option>
                        <option value="group">"thing group"</option>
                        <option value="devices">"devices (names)"</option>
                        <option value="query">"fleet-index query"</option>
                    </select>
                    <input class="input" data-testid="target-value" prop:value=value on:input=move |ev| set_value.set(event_target_value(&ev)) />
                </label>
                <label>"Payload (JSON) "
                    <input class="input wide mono" data-testid="payload" prop:value=payload on:input=move |ev| set_payload.set(event_target_value(&ev)) />
                </label>
                <label class:muted=move || !def().is_some_and(|d| d.persist_as_shadow)>
                    <input type="checkbox" data-testid="shadow-offline" prop:checked=shadow
                        disabled=move || !def().is_some_and(|d| d.persist_as_shadow)
                        on:change=move |ev| set_shadow.set(event_target_checked(&ev)) />
                    " Write it to offline devices' desired shadow state instead of skipping them"
                </label>
                <label>"Reason " <input class="input wide" data-testid="command-reason" placeholder="incident, ticket" prop:value=reason on:input=move |ev| set_reason.set(event_target_value(&ev)) /></label>
                <div class="confirm-actions">
                    <button class="btn" data-testid="preview" disabled=move || busy.get() on:click=do_preview>"Preview"</button>
                    <button class="btn btn-danger" data-testid="send" title=move || crate::auth::why_not(may.get())
                        disabled=move || !may.get() || busy.get() || previewed().is_none_or(|p| p.publish + p.shadow == 0) || reason.get().trim().is_empty()
                        on:click=do_send>
                        {move || match previewed() {
                            Some(p) => format!("Send to {} online device{}{}", thousands(p.publish), if p.publish == 1 { "" } else { "s" },
                                if p.shadow > 0 { format!(" + {} shadows", thousands(p.shadow)) } else { String::new() }),
                            None => "Send (preview first)".into(),
                        }}
                    </button>
                </div>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" data-testid="command-error">{e}</p> })}
            {move || previewed().map(|p| view! {
                <div class="preview" data-testid="command-preview">
                    <p>
                        <strong data-testid="preview-publish">{thousands(p.publish)}</strong>" online will receive it · "
                        <strong data-testid="preview-shadow">{thousands(p.shadow)}</strong>" offline to their shadow · "
                        <strong data-testid="preview-skip">{thousands(p.skip)}</strong>" offline skipped (of "{thousands(p.total)}")"
                    </p>
                    {p.example_topic.map(|t| view! { <p class="muted mono">{format!("topic: {t}")}</p> })}
                    {(!p.skipped.is_empty()).then(|| view! {
                        <table class="table"><thead><tr><th>"skipped (offline)"</th><th>"since"</th><th>"reason"</th></tr></thead>
                        <tbody>{p.skipped.into_iter().take(20).map(|s| view! {
                            <tr><td class="mono">{s.id}</td><td>{crate::fmt::clock(s.since)}</td><td>{s.reason.as_str()}</td></tr>
                        }).collect_view()}</tbody></table>
                    })}
                </div>
            })}
            {move || run.get().map(|d| {
                let r = d.run;
                let share = if r.total == 0 { 1.0 } else { r.done() as f64 / r.total as f64 };
                let running = r.status == RunStatus::Running;
                view! {
                    <div class="progress-panel" data-testid="command-run" data-status=r.status.as_str()>
                        <div class="readiness-head"><strong>{format!("{} → {} devices", r.command, thousands(r.total))}</strong>
                            <span class="phase">{r.status.as_str()}</span>
                            {running.then(|| view! { <button class="btn" data-testid="cancel-command" on:click=do_cancel.clone()>"Cancel"</button> })}
                        </div>
                        <div class="bar"><div class="bar-fill" style:width=format!("{:.1}%", share * 100.0)></div></div>
                        <p data-testid="command-tallies">{format!("{} sent · {} shadowed · {} skipped offline · {} failed · {} cancelled",
                            thousands(r.sent), thousands(r.shadowed), thousands(r.skipped), thousands(r.failed), thousands(r.cancelled))}</p>
                        <table class="table"><thead><tr><th>"device"</th><th>"result"</th><th>"attempts"</th></tr></thead>
                        <tbody>{d.results.into_iter().take(50).map(|x| view! {
                            <tr><td class="mono">{x.device}</td><td>{outcome_text(&x.outcome)}</td><td>{x.attempts}</td></tr>
                        }).collect_view()}</tbody></table>
                    </div>
                }
            })}
            <h3>"Recent runs"</h3>
            <ul class="runs">
                {move || overview.get().map(|o| o.runs.into_iter().map(|r| view! {
                    <li>{format!("{} {} by {}: {} — {} sent, {} skipped, {} failed", crate::fmt::clock(r.requested_at), r.command, r.requested_by, r.status.as_str(), r.sent, r.skipped, r.failed)}</li>
                }).collect_view())}
            </ul>
        </section>
    }
}

pub(crate) async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
