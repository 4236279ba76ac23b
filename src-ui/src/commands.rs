//! Past 500 lines with its tests: the page and the pure rules of a send (defaults, confirmation, what is missing), tested one by one.
//!
//! The commands page: pick a catalogue command and a target, preview who is online and will
//! receive it and who is offline and skipped (or gets it as desired shadow state, when asked),
//! send, and follow the run to its per-device results.
//!
//! Rules kept here:
//! - a preview that finds nothing says why (`why_none`);
//! - a send past `confirm_above` devices carries the count the operator confirmed;
//! - the payload starts from the schema's defaults (the `default` keyword);
//! - a disabled Send says what is missing; in a run's results, failures come first.

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

/// A payload with every property's `default` from the command's JSON Schema (the server
/// fills a payload the same way: `switchyard_core::commands::with_defaults`).
pub fn schema_defaults(schema: &serde_json::Value) -> serde_json::Value {
    switchyard_core::commands::with_defaults(schema, &serde_json::json!({}))
}

/// How many devices a send reaches, and whether that needs the count confirmed.
pub fn needs_confirm(p: &CommandPreview) -> Option<u64> {
    let n = p.publish + p.shadow;
    p.confirm_above.filter(|above| n > *above).map(|_| n)
}

/// What stops a send, in the operator's words; `None`: it may go.
pub struct SendState<'a> {
    pub may: bool,
    pub server_lost: bool,
    pub reason: &'a str,
    /// A preview was made (for any request).
    pub previewed_any: bool,
    /// The preview of exactly this request.
    pub preview: Option<&'a CommandPreview>,
    /// The count typed (or ticked) to confirm.
    pub confirmed: Option<u64>,
}

pub fn send_blocked(s: &SendState) -> Option<String> {
    if s.server_lost {
        return Some("the console cannot reach its server".into());
    }
    if !s.may {
        return Some(crate::auth::why_not(false).into());
    }
    let Some(p) = s.preview else {
        return Some(if s.previewed_any {
            "the preview is out of date: preview again".into()
        } else {
            "preview first".into()
        });
    };
    if p.publish + p.shadow == 0 {
        return Some("the preview found no device to send to".into());
    }
    if s.reason.trim().is_empty() {
        return Some("a reason is required".into());
    }
    match needs_confirm(p) {
        Some(n) if s.confirmed != Some(n) => {
            Some(format!("confirm the count: {} devices", thousands(n)))
        }
        _ => None,
    }
}

/// A typed count, its group separators ignored ("19 994", "19,994").
pub fn parse_count(typed: &str) -> Option<u64> {
    typed
        .trim()
        .replace([',', ' ', '\u{202f}'], "")
        .parse()
        .ok()
}

/// A run's results with the failures first (then as they came).
pub fn failures_first(
    mut results: Vec<switchyard_core::commands::DeviceResult>,
) -> Vec<switchyard_core::commands::DeviceResult> {
    results.sort_by_key(|r| !matches!(r.outcome, Outcome::Failed { .. }));
    results
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
    // The count the operator typed to confirm a large send.
    let (confirm_typed, set_confirm_typed) = signal(String::new());

    {
        let api = api.clone();
        leptos::task::spawn_local(async move {
            match api.commands().await {
                Ok(o) => {
                    if let Some(first) = o.catalogue.first() {
                        set_command.set(first.name.clone());
                        set_payload.set(schema_defaults(&first.schema).to_string());
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
            confirm_count: parse_count(&confirm_typed.get()),
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
    let blocked = move || {
        let pv = previewed();
        let reason = reason.get();
        send_blocked(&SendState {
            may: may.get(),
            server_lost: live.server_lost.get(),
            reason: &reason,
            previewed_any: preview.with(Option::is_some),
            preview: pv.as_ref(),
            confirmed: parse_count(&confirm_typed.get()),
        })
    };
    view! {
        <section class="commands" data-testid="commands">
            <h2 class="section-title">"Commands"</h2>
            <p class="muted">"Only devices that are online receive a command. Offline devices are skipped — or, when you choose it and the command allows it, get the payload as desired shadow state to pick up when they reconnect."</p>
            <div class="command-form">
                <label>"Command "
                    <select data-testid="command-name" on:change=move |ev| {
                        let name = event_target_value(&ev);
                        // The payload starts from the schema's defaults (jitter_secs 30 for reconnect).
                        if let Some(d) = overview.with_untracked(|o| o.as_ref().and_then(|o| o.catalogue.iter().find(|c| c.name == name).cloned())) {
                            set_payload.set(schema_defaults(&d.schema).to_string());
                        }
                        set_command.set(name);
                        set_shadow.set(false);
                    }>
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
                    <button class="btn btn-danger" data-testid="send" title=move || blocked().unwrap_or_default()
                        disabled=move || busy.get() || blocked().is_some()
                        on:click=do_send>
                        {move || match previewed() {
                            Some(p) => format!("Send to {} online device{}{}", thousands(p.publish), if p.publish == 1 { "" } else { "s" },
                                if p.shadow > 0 { format!(" + {} shadows", thousands(p.shadow)) } else { String::new() }),
                            None => "Send".into(),
                        }}
                    </button>
                    {move || blocked().map(|why| view! { <span class="send-why" data-testid="send-why">{why}</span> })}
                </div>
                {move || previewed().as_ref().and_then(needs_confirm).map(|n| view! {
                    <div class="confirm-count" data-testid="confirm-count">
                        <label>{format!("This reaches {} devices (more than {}). Type the count to confirm: ", thousands(n),
                            previewed().and_then(|p| p.confirm_above).map(thousands).unwrap_or_default())}
                            <input class="input mono" data-testid="confirm-count-input" placeholder=n.to_string()
                                prop:value=confirm_typed on:input=move |ev| set_confirm_typed.set(event_target_value(&ev)) />
                        </label>
                        <label><input type="checkbox" data-testid="confirm-count-tick"
                            prop:checked=move || confirm_typed.get().trim() == n.to_string()
                            on:change=move |ev| set_confirm_typed.set(if event_target_checked(&ev) { n.to_string() } else { String::new() }) />
                            {format!(" I mean {} devices", thousands(n))}</label>
                    </div>
                })}
            </div>
            {move || error.get().map(|e| view! { <p class="form-error" data-testid="command-error">{e}</p> })}
            {move || previewed().map(|p| view! {
                <div class="preview" data-testid="command-preview">
                    <p>
                        <strong data-testid="preview-publish">{thousands(p.publish)}</strong>" online will receive it · "
                        <strong data-testid="preview-shadow">{thousands(p.shadow)}</strong>" offline to their shadow · "
                        <strong data-testid="preview-skip">{thousands(p.skip)}</strong>" offline skipped (of "{thousands(p.total)}")"
                    </p>
                    {p.why_none.clone().filter(|_| p.publish + p.shadow == 0).map(|w| view! { <p class="why-none" data-testid="preview-why-none">{w}</p> })}
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
                        <tbody>{failures_first(d.results).into_iter().take(50).map(|x| view! {
                            <tr class:result-failed=matches!(x.outcome, Outcome::Failed { .. })><td class="mono">{x.device}</td><td>{outcome_text(&x.outcome)}</td><td>{x.attempts}</td></tr>
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

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::commands::CommandDef;

    fn preview(publish: u64, shadow: u64, confirm_above: Option<u64>) -> CommandPreview {
        CommandPreview {
            command: CommandDef {
                name: "reconnect".into(),
                description: String::new(),
                topic: "t".into(),
                schema: serde_json::json!({ "type": "object" }),
                persist_as_shadow: false,
            },
            total: publish + shadow,
            publish,
            shadow,
            skip: 0,
            skipped: vec![],
            example_topic: None,
            why_none: None,
            confirm_above,
        }
    }

    #[test]
    fn the_payload_starts_from_the_schemas_defaults() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "jitter_secs": { "type": "integer", "default": 30 },
                "note": { "type": "string" }
            }
        });
        assert_eq!(
            schema_defaults(&schema),
            serde_json::json!({ "jitter_secs": 30 })
        );
        assert_eq!(
            schema_defaults(&serde_json::json!({ "type": "object" })),
            serde_json::json!({})
        );
    }

    fn state<'a>(
        p: Option<&'a CommandPreview>,
        reason: &'a str,
        confirmed: Option<u64>,
    ) -> SendState<'a> {
        SendState {
            may: true,
            server_lost: false,
            reason,
            previewed_any: p.is_some(),
            preview: p,
            confirmed,
        }
    }

    #[test]
    fn a_disabled_send_says_what_is_missing() {
        let p = preview(10, 0, Some(1_000));
        assert_eq!(
            send_blocked(&state(None, "x", None)).unwrap(),
            "preview first"
        );
        let stale = SendState {
            previewed_any: true,
            ..state(None, "x", None)
        };
        assert!(send_blocked(&stale)
            .unwrap()
            .starts_with("the preview is out of date"));
        assert_eq!(
            send_blocked(&state(Some(&p), "  ", None)).unwrap(),
            "a reason is required"
        );
        assert_eq!(send_blocked(&state(Some(&p), "INC-1", None)), None);
        let none = preview(0, 0, Some(1_000));
        assert!(send_blocked(&state(Some(&none), "INC-1", None))
            .unwrap()
            .contains("no device"));
    }

    #[test]
    fn a_send_past_confirm_above_needs_the_count_typed() {
        let big = preview(19_994, 0, Some(1_000));
        assert_eq!(needs_confirm(&big), Some(19_994));
        assert!(send_blocked(&state(Some(&big), "INC-1", None))
            .unwrap()
            .starts_with("confirm the count"));
        assert!(send_blocked(&state(Some(&big), "INC-1", Some(19_993))).is_some());
        assert_eq!(
            send_blocked(&state(Some(&big), "INC-1", Some(19_994))),
            None
        );
        assert_eq!(needs_confirm(&preview(1_000, 0, Some(1_000))), None);
        assert_eq!(parse_count(" 19 994 "), Some(19_994));
        assert_eq!(parse_count("19,994"), Some(19_994));
    }

    #[test]
    fn failures_are_listed_first() {
        use switchyard_core::commands::DeviceResult;
        let r = |d: &str, outcome: Outcome| DeviceResult {
            device: d.into(),
            outcome,
            at: 0,
            attempts: 1,
        };
        let out = failures_first(vec![
            r("a", Outcome::Sent),
            r("b", Outcome::Failed { error: "x".into() }),
            r("c", Outcome::Sent),
            r("d", Outcome::Failed { error: "y".into() }),
        ]);
        let ids: Vec<_> = out.iter().map(|x| x.device.as_str()).collect();
        assert_eq!(ids, ["b", "d", "a", "c"]);
    }
}
