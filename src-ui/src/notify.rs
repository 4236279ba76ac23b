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
use js_sys::{Array, Function, Reflect};
use leptos::prelude::*;
use std::collections::HashSet;
use std::time::Duration;
use switchyard_core::alerts::{Alert, Severity};
use wasm_bindgen::{JsCast, JsValue};

// The browser's Notification, localStorage and WebAudio are reached through `js_sys::Reflect`
// rather than web-sys features: adding features rebuilds web-sys and the whole Leptos stack
// for wasm, and these few calls do not need their types.

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

fn window() -> Option<JsValue> {
    web_sys::window().map(JsValue::from)
}

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// `obj.method(args…)`.
fn call(obj: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(obj, method)
        .ok_or_else(|| JsValue::from_str(method))?
        .dyn_into()?;
    f.apply(obj, &args.iter().collect::<Array>())
}

/// Whether this page runs inside the desktop app (which notifies by itself).
fn in_desktop(transport: &str) -> bool {
    if transport == "ipc" {
        return true;
    }
    let Some(w) = window() else {
        return true;
    };
    ["__TAURI__", "__TAURI_INTERNALS__"]
        .iter()
        .any(|k| Reflect::has(&w, &(*k).into()).unwrap_or(false))
}

fn storage() -> Option<JsValue> {
    get(&window()?, "localStorage")
}

pub fn sound_on() -> bool {
    storage()
        .and_then(|s| call(&s, "getItem", &[SOUND_KEY.into()]).ok())
        .and_then(|v| v.as_string())
        .is_some_and(|v| v == "on")
}

fn set_sound(on: bool) {
    if let Some(s) = storage() {
        let _ = call(
            &s,
            "setItem",
            &[SOUND_KEY.into(), if on { "on" } else { "off" }.into()],
        );
    }
}

/// What the operator said about notifications: "default" (not asked yet), "granted" or
/// "denied"; `None` if the browser has none.
fn permission() -> Option<String> {
    get(&get(&window()?, "Notification")?, "permission")?.as_string()
}

/// A short two-tone beep, generated.
pub fn beep() {
    let play = || -> Result<(), JsValue> {
        let w = window().ok_or("no window")?;
        let ctor: Function = get(&w, "AudioContext")
            .or_else(|| get(&w, "webkitAudioContext"))
            .ok_or("no WebAudio")?
            .dyn_into()?;
        let ctx = Reflect::construct(&ctor, &Array::new())?;
        let osc = call(&ctx, "createOscillator", &[])?;
        let gain = call(&ctx, "createGain", &[])?;
        let freq = get(&osc, "frequency").ok_or("no frequency")?;
        Reflect::set(&freq, &"value".into(), &880.0.into())?;
        let level = get(&gain, "gain").ok_or("no gain")?;
        Reflect::set(&level, &"value".into(), &0.15.into())?;
        call(&osc, "connect", std::slice::from_ref(&gain))?;
        call(
            &gain,
            "connect",
            &[get(&ctx, "destination").ok_or("no destination")?],
        )?;
        let t = get(&ctx, "currentTime")
            .and_then(|t| t.as_f64())
            .unwrap_or(0.0);
        call(&freq, "setValueAtTime", &[660.0.into(), (t + 0.18).into()])?;
        call(&osc, "start", &[])?;
        call(&osc, "stop", &[(t + 0.36).into()])?;
        Ok(())
    };
    if let Err(e) = play() {
        web_sys::console::warn_2(&"beep".into(), &e);
    }
}

fn show(a: &Alert) {
    if permission().as_deref() != Some("granted") {
        return;
    }
    let show = || -> Result<(), JsValue> {
        let ctor: Function = get(&window().ok_or("no window")?, "Notification")
            .ok_or("no Notification")?
            .dyn_into()?;
        let opts = js_sys::Object::new();
        Reflect::set(&opts, &"body".into(), &a.message.as_str().into())?;
        Reflect::set(
            &opts,
            &"tag".into(),
            &format!("switchyard-alert-{}", a.id).into(),
        )?;
        let args: Array = [JsValue::from("Switchyard: critical alert"), opts.into()]
            .iter()
            .collect();
        Reflect::construct(&ctor, &args)?;
        Ok(())
    };
    if let Err(e) = show() {
        web_sys::console::warn_2(&"notification".into(), &e);
    }
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
        let asked = window()
            .and_then(|w| get(&w, "Notification"))
            .and_then(|n| call(&n, "requestPermission", &[]).ok())
            .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
        if let Some(p) = asked {
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
        {move || match perm.get().as_deref() {
            Some("default") => Some(view! {
                <button class="btn btn-icon" data-testid="enable-notifications" on:click=ask
                    title="Show a browser notification on each new critical alert">
                    "Enable notifications"
                </button>
            }.into_any()),
            Some("granted") => Some(view! {
                <span class="strip-pref" data-testid="notifications-on" title="Browser notifications are on for new critical alerts">"notifications on"</span>
            }.into_any()),
            _ => None,
        }}
        <button class="btn btn-icon" data-testid="sound-toggle" on:click=toggle
            aria-pressed=move || sound.get().to_string()
            title=move || if sound.get() { "A beep on each new critical alert: on (click to turn off)" } else { "A beep on each new critical alert: off (click to turn on)" }>
            {move || if sound.get() { "sound on" } else { "sound off" }}
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
