//! Browser notifications and an optional beep on a new critical alert, in the web build (the
//! desktop app notifies natively, so here it does nothing).
//!
//! Rules kept here:
//! - permission is asked for only when the operator presses "Enable notifications", never by
//!   itself;
//! - the sound is off until switched on, and the choice is kept in `localStorage`;
//! - only a critical alert raised while the page is open notifies, each alert once;
//! - the beep is generated (WebAudio), no file is fetched.

use crate::Live;
use leptos::prelude::*;
use std::collections::HashSet;
use std::time::Duration;
use switchyard_core::alerts::{Alert, Severity};
use wasm_bindgen::JsValue;

const SOUND_KEY: &str = "switchyard.sound";

/// Alerts already seen before this long after the page opened are the page's past, not news.
const ARM_AFTER: Duration = Duration::from_secs(3);

/// The alerts of `list` that are news: critical, open, and not in `seen`.
pub fn news<'a>(list: &'a [Alert], seen: &HashSet<i64>) -> Vec<&'a Alert> {
    list.iter()
        .filter(|a| {
            a.severity == Severity::Critical && a.cleared_at.is_none() && !seen.contains(&a.id)
        })
        .collect()
}

/// Whether this page runs inside the desktop app (which notifies by itself).
fn in_desktop(transport: &str) -> bool {
    if transport == "ipc" {
        return true;
    }
    let Some(w) = web_sys::window() else {
        return true;
    };
    let w: JsValue = w.into();
    ["__TAURI__", "__TAURI_INTERNALS__"]
        .iter()
        .any(|k| js_sys::Reflect::has(&w, &(*k).into()).unwrap_or(false))
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn sound_on() -> bool {
    storage()
        .and_then(|s| s.get_item(SOUND_KEY).ok().flatten())
        .is_some_and(|v| v == "on")
}

fn set_sound(on: bool) {
    if let Some(s) = storage() {
        let _ = s.set_item(SOUND_KEY, if on { "on" } else { "off" });
    }
}

/// Whether the browser has notifications at all, and what the operator said.
fn permission() -> Option<web_sys::NotificationPermission> {
    let w: JsValue = web_sys::window()?.into();
    js_sys::Reflect::has(&w, &"Notification".into())
        .ok()?
        .then(web_sys::Notification::permission)
}

/// A short two-tone beep, generated.
pub fn beep() {
    let play = || -> Result<(), JsValue> {
        let ctx = web_sys::AudioContext::new()?;
        let osc = ctx.create_oscillator()?;
        let gain = ctx.create_gain()?;
        osc.frequency().set_value(880.0);
        gain.gain().set_value(0.15);
        osc.connect_with_audio_node(&gain)?;
        gain.connect_with_audio_node(&ctx.destination())?;
        let t = ctx.current_time();
        osc.frequency().set_value_at_time(660.0, t + 0.18)?;
        osc.start()?;
        osc.stop_with_when(t + 0.36)?;
        Ok(())
    };
    if let Err(e) = play() {
        web_sys::console::warn_2(&"beep".into(), &e);
    }
}

fn show(a: &Alert) {
    if permission() != Some(web_sys::NotificationPermission::Granted) {
        return;
    }
    let opts = web_sys::NotificationOptions::new();
    opts.set_body(&a.message);
    opts.set_tag(&format!("switchyard-alert-{}", a.id));
    let _ = web_sys::Notification::new_with_options("Switchyard: critical alert", &opts);
}

/// Watches the alerts for news, for the life of the page (web build only).
pub fn watch(transport: &'static str) {
    if in_desktop(transport) {
        return;
    }
    let live = expect_context::<Live>();
    let seen = StoredValue::new(HashSet::<i64>::new());
    let armed = StoredValue::new(false);
    set_timeout(move || armed.set_value(true), ARM_AFTER);
    Effect::new(move |_| {
        live.alerts.with(|list| {
            let fresh: Vec<Alert> =
                seen.with_value(|s| news(list, s).into_iter().cloned().collect());
            if fresh.is_empty() {
                return;
            }
            seen.update_value(|s| s.extend(fresh.iter().map(|a| a.id)));
            if !armed.get_value() {
                return;
            }
            for a in &fresh {
                show(a);
            }
            if sound_on() {
                beep();
            }
        })
    });
}

/// The strip's two small controls: "Enable notifications" (asks once, on a click) and the
/// sound toggle. Nothing in the desktop app.
#[component]
pub fn Controls() -> impl IntoView {
    let api = expect_context::<crate::api::Api>();
    if in_desktop(api.transport_name()) {
        return ().into_any();
    }
    let (perm, set_perm) = signal(permission());
    let (sound, set_sound_sig) = signal(sound_on());
    let ask = move |_| {
        if let Ok(p) = web_sys::Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(p).await;
                set_perm.set(permission());
            });
        }
    };
    let toggle = move |_| {
        let on = !sound.get_untracked();
        set_sound(on);
        set_sound_sig.set(on);
        if on {
            beep();
        }
    };
    view! {
        {move || match perm.get() {
            Some(web_sys::NotificationPermission::Default) => Some(view! {
                <button class="btn btn-icon" data-testid="enable-notifications" on:click=ask
                    title="Show a browser notification on each new critical alert">
                    "Enable notifications"
                </button>
            }.into_any()),
            Some(web_sys::NotificationPermission::Granted) => Some(view! {
                <span class="strip-pref" data-testid="notifications-on" title="Browser notifications are on for new critical alerts">"🔔 on"</span>
            }.into_any()),
            _ => None,
        }}
        <button class="btn btn-icon" data-testid="sound-toggle" on:click=toggle
            aria-pressed=move || sound.get().to_string()
            title=move || if sound.get() { "A beep on each new critical alert: on (click to turn off)" } else { "A beep on each new critical alert: off (click to turn on)" }>
            {move || if sound.get() { "🔊 sound on" } else { "🔈 sound off" }}
        </button>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::alerts::AlertKind;

    fn alert(id: i64, severity: Severity, cleared: bool) -> Alert {
        Alert {
            id,
            kind: AlertKind::RegionUnreachable,
            severity,
            subject: "us-east-1".into(),
            message: "us-east-1 is unreachable".into(),
            raised_at: 1,
            cleared_at: cleared.then_some(2),
            incident_id: None,
            ack: None,
        }
    }

    #[test]
    fn only_open_critical_alerts_not_seen_before_are_news() {
        let list = [
            alert(1, Severity::Critical, false),
            alert(2, Severity::Warning, false),
            alert(3, Severity::Critical, true),
            alert(4, Severity::Critical, false),
        ];
        let seen: HashSet<i64> = [4].into();
        let ids: Vec<i64> = news(&list, &seen).iter().map(|a| a.id).collect();
        assert_eq!(ids, [1]);
    }
}
