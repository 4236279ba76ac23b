//! Alerts: the banner over every page while any is open, and the list with their times,
//! durations, acknowledgements and incidents (where they go out: `receivers.rs`).
//!
//! Rules kept here:
//! - times are shown in UTC (`switchyard_core::time`), the local time only as a hover title;
//! - a cleared alert stays listed with its duration: a short-lived alert never vanishes unseen;
//! - the banner is one element with class "banner" and no layout of its own (the shell
//!   reserves its space);
//! - an acknowledgement says who and when, on every console (it arrives as an alert event);
//! - the filters are pure functions of the alert (tested natively).

use crate::Live;
use leptos::prelude::*;
use std::time::Duration;
use switchyard_core::alerts::{Alert, AlertKind, Severity};
use switchyard_core::freshness::{age_ms, format_age};
use switchyard_core::time::{duration, utc_datetime};
use switchyard_core::UnixMs;

/// What the list shows: open only or all, a severity, words in the subject or message, a kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub open_only: bool,
    pub severity: Option<Severity>,
    pub text: String,
    pub kind: Option<AlertKind>,
}

impl Filter {
    pub fn keeps(&self, a: &Alert) -> bool {
        let text = self.text.trim().to_lowercase();
        (!self.open_only || a.cleared_at.is_none())
            && self.severity.is_none_or(|s| s == a.severity)
            && self.kind.is_none_or(|k| k == a.kind)
            && (text.is_empty()
                || a.subject.to_lowercase().contains(&text)
                || a.message.to_lowercase().contains(&text))
    }
}

/// How long an alert lasted (raised → cleared), or has lasted so far while open.
pub fn lasted(a: &Alert, now: UnixMs) -> String {
    let end = a.cleared_at.unwrap_or(now);
    let d = duration(end.saturating_sub(a.raised_at));
    match a.cleared_at {
        Some(_) => d,
        None => format!("{d} so far"),
    }
}

/// Who acknowledged an alert and when: "ack by ana at 2026-12-01 14:03:10 UTC".
pub fn ack_line(a: &Alert) -> Option<String> {
    a.ack
        .as_ref()
        .map(|k| format!("ack by {} at {}", k.by, utc_datetime(k.at)))
}

/// How far an alert's story has got (raised, acknowledged, cleared): of two copies, the one
/// further on is the newer.
fn rank(a: &Alert) -> (bool, bool) {
    (a.cleared_at.is_some(), a.ack.is_some())
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// The browser's local time of `ms`, for a hover title.
pub fn local_title(ms: UnixMs) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "local time: {}",
        String::from(d.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED))
    )
}

/// A time in UTC with the local time as its hover title.
#[component]
pub fn UtcTime(at: UnixMs) -> impl IntoView {
    view! { <time class="utc" title=local_title(at)>{utc_datetime(at)}</time> }
}

#[component]
pub fn AlertBanner() -> impl IntoView {
    let live = expect_context::<Live>();
    let open = move || {
        live.alerts.with(|a| {
            a.iter()
                .filter(|a| a.cleared_at.is_none())
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    move || {
        let open = open();
        let latest = open
            .iter()
            .max_by_key(|a| (a.severity == Severity::Critical, a.raised_at))?
            .clone();
        let critical = open.iter().any(|a| a.severity == Severity::Critical);
        Some(view! {
            <a href="#/alerts" class=if critical { "banner banner-error" } else { "banner banner-warn" } role="alert" data-testid="alert-banner">
                {format!("{} open alert{} — {} ({} ago)", open.len(), if open.len() == 1 { "" } else { "s" }, latest.message,
                    format_age(age_ms(latest.raised_at, live.now.get())))}
            </a>
        })
    }
}

#[component]
pub fn AlertsView() -> impl IntoView {
    let live = expect_context::<Live>();
    let api = expect_context::<crate::api::Api>();
    let (filter, set_filter) = signal(Filter::default());
    // Alerts fetched here (the page's own refresh), merged with the live ones: a short-lived
    // alert that came and went between two events is still listed.
    let (fetched, set_fetched) = signal(Vec::<Alert>::new());
    let (error, set_error) = signal(None::<String>);
    let refresh = {
        let api = api.clone();
        move || {
            let api = api.clone();
            leptos::task::spawn_local(async move {
                match api.alerts(false, 200).await {
                    Ok(a) => {
                        set_error.set(None);
                        set_fetched.set(a.alerts);
                    }
                    Err(e) => set_error.set(Some(e)),
                }
            });
        }
    };
    refresh();
    {
        let refresh = refresh.clone();
        crate::timers::every(refresh, Duration::from_secs(15));
    }
    // An alert event (raised, cleared, acknowledged) refreshes at once.
    {
        let refresh = refresh.clone();
        Effect::new(move |first: Option<()>| {
            live.alerts.track();
            if first.is_some() {
                refresh();
            }
        });
    }
    let all = Memo::new(move |_| {
        let mut list = fetched.get();
        for a in live.alerts.get() {
            match list.iter_mut().find(|x| x.id == a.id) {
                // The one that knows more: a clearing or an acknowledgement is never undone.
                Some(x) if rank(&a) >= rank(x) => *x = a,
                Some(_) => {}
                None => list.push(a),
            }
        }
        list.sort_by_key(|a| std::cmp::Reverse(a.raised_at));
        list
    });
    let shown = move || {
        let f = filter.get();
        all.get()
            .into_iter()
            .filter(|a| f.keeps(a))
            .collect::<Vec<_>>()
    };
    // The alert whose acknowledgement form is open.
    let (acking, set_acking) = signal(None::<i64>);
    // Where alerts go (the receivers and the delivery log): a receiver in trouble is said first.
    let feed = crate::receivers::Feed::start();
    view! {
        <crate::receivers::ReceiversCallout feed=feed />
        <section class="alerts" data-testid="alerts">
            <h2 class="section-title">"Alerts"</h2>
            <div class="alert-filters" data-testid="alert-filters">
                <label>"Show "
                    <select data-testid="filter-open" on:change=move |ev| set_filter.update(|f| f.open_only = event_target_value(&ev) == "open")>
                        <option value="all">"all"</option>
                        <option value="open">"open only"</option>
                    </select>
                </label>
                <label>"Severity "
                    <select data-testid="filter-severity" on:change=move |ev| set_filter.update(|f| f.severity = match event_target_value(&ev).as_str() {
                        "critical" => Some(Severity::Critical), "warning" => Some(Severity::Warning), _ => None })>
                        <option value="">"any"</option>
                        <option value="critical">"critical"</option>
                        <option value="warning">"warning"</option>
                    </select>
                </label>
                <label>"Kind "
                    <select data-testid="filter-kind" on:change=move |ev| set_filter.update(|f| f.kind = AlertKind::parse(&event_target_value(&ev)))>
                        <option value="">"any"</option>
                        {AlertKind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{k.as_str().replace('_', " ")}</option> }).collect_view()}
                    </select>
                </label>
                <label>"Region or subject "
                    <input class="input" data-testid="filter-text" placeholder="us-east-1, gw-…"
                        on:input=move |ev| set_filter.update(|f| f.text = event_target_value(&ev)) />
                </label>
            </div>
            {move || error.get().map(|e| view! { <p class="form-error">{e}</p> })}
            // Outside the list, which redraws at every refresh: the note being typed stays.
            {move || acking.get().map(|id| {
                let what = all.with_untracked(|l| l.iter().find(|a| a.id == id).map(|a| a.message.clone())).unwrap_or_default();
                view! {
                    <AckForm id=id what=what on_close=move || set_acking.set(None) on_done=move |a: Alert| set_fetched.update(|l| {
                        if let Some(x) = l.iter_mut().find(|x| x.id == a.id) { *x = a }
                    }) />
                }
            })}
            <table class="table alerts-table">
                <thead><tr><th>"severity"</th><th>"what"</th><th>"raised (UTC)"</th><th>"cleared (UTC)"</th><th>"duration"</th><th>"incident"</th><th>"acknowledged"</th></tr></thead>
                <tbody>
                    {move || shown().into_iter().map(|a| {
                        let id = a.id;
                        let open = a.cleared_at.is_none();
                        view! {
                            <tr class=if open { "alert-open" } else { "alert-cleared" } data-alert=a.kind.as_str() data-alert-id=id.to_string()>
                                <td class=format!("sev-{}", severity_name(a.severity))>{severity_name(a.severity).to_uppercase()}</td>
                                <td>{a.message.clone()}</td>
                                <td><UtcTime at=a.raised_at /></td>
                                <td>{match a.cleared_at { Some(c) => view! { <UtcTime at=c /> }.into_any(), None => view! { <span class="sev-open">"open"</span> }.into_any() }}</td>
                                <td class="num" data-testid="alert-duration">{ let a = a.clone(); move || lasted(&a, live.now.get()) }</td>
                                <td>{a.incident_id.map(|i| view! { <a href=format!("#/incidents/{i}") data-testid="alert-incident">{format!("#{i}")}</a> })}</td>
                                <td data-testid="alert-ack">
                                    {match ack_line(&a) {
                                        Some(line) => view! { <span class="ack" title=a.ack.as_ref().map(|k| k.note.clone()).unwrap_or_default()>{line}
                                            {a.ack.as_ref().filter(|k| !k.note.is_empty()).map(|k| view! { <span class="muted">{format!(": {}", k.note)}</span> })}</span> }.into_any(),
                                        None => view! { <AckButton id=id on_open=move || set_acking.set(Some(id)) /> }.into_any(),
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {move || all.with(Vec::is_empty).then(|| view! { <p class="muted">"No alerts."</p> })}
        </section>
        <crate::receivers::WhereAlertsGo feed=feed />
    }
}

/// The button that opens an alert's acknowledgement form; disabled, saying why, for a viewer or
/// while the server is unreachable.
#[component]
fn AckButton(id: i64, on_open: impl Fn() + Send + Sync + 'static) -> impl IntoView {
    let live = expect_context::<Live>();
    let may = crate::auth::may_operate();
    let why = move || {
        if live.server_lost.get() {
            "the console cannot reach its server".to_string()
        } else {
            crate::auth::why_not(may.get()).to_string()
        }
    };
    view! {
        <button class="btn btn-small" data-testid=format!("ack-{id}") disabled=move || !why().is_empty()
            title=why on:click=move |_| on_open()>"Acknowledge…"</button>
    }
}

#[component]
fn AckForm(
    id: i64,
    /// The alert's message, said above the note.
    what: String,
    on_close: impl Fn() + Clone + Send + Sync + 'static,
    on_done: impl Fn(Alert) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let api = expect_context::<crate::api::Api>();
    let live = expect_context::<Live>();
    let (note, set_note) = signal(String::new());
    let (sending, set_sending) = signal(false);
    let (message, set_message) = signal(None::<String>);
    let too_long =
        move || note.with(|n| n.chars().count() > switchyard_core::incidents::MAX_NOTE_CHARS);
    let close = on_close.clone();
    let send = move |_| {
        let (api, close, done) = (api.clone(), close.clone(), on_done.clone());
        let text = note.get_untracked().trim().to_string();
        set_sending.set(true);
        leptos::task::spawn_local(async move {
            match api.ack_alert(id, &text).await {
                Ok(a) => {
                    done(a);
                    close();
                }
                Err(e) => set_message.set(Some(e)),
            }
            set_sending.set(false);
        });
    };
    view! {
        <div class="ack-form" data-testid="ack-form" data-alert-id=id.to_string()>
            <strong class="ack-what">{format!("Acknowledge: {what}")}</strong>
            <label>"Note (optional) "
                <input class="input wide" data-testid="ack-note" placeholder="looking into it, paged AWS"
                    prop:value=note on:input=move |ev| set_note.set(event_target_value(&ev)) />
            </label>
            <button class="btn btn-danger" data-testid="ack-send"
                disabled=move || sending.get() || too_long() || live.server_lost.get() on:click=send>"Acknowledge"</button>
            <button class="btn" on:click=move |_| on_close()>"Cancel"</button>
            {move || too_long().then(|| view! { <span class="form-error">"the note is longer than 2,000 characters"</span> })}
            {move || message.get().map(|m| view! { <span class="form-error">{m}</span> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::incidents::Acknowledgement;

    fn alert(id: i64, kind: AlertKind, subject: &str, cleared: Option<UnixMs>) -> Alert {
        Alert {
            id,
            kind,
            severity: kind.severity(),
            subject: subject.into(),
            message: format!("{subject} is unwell"),
            raised_at: 1_000,
            cleared_at: cleared,
            incident_id: None,
            ack: None,
        }
    }

    #[test]
    fn the_filters_keep_what_they_say_and_a_cleared_alert_shows_under_all() {
        let open = alert(1, AlertKind::RegionUnreachable, "us-east-1", None);
        let cleared = alert(2, AlertKind::BacklogNearCapacity, "gw-7", Some(5_000));
        let all = Filter::default();
        assert!(all.keeps(&open) && all.keeps(&cleared));
        let open_only = Filter {
            open_only: true,
            ..Filter::default()
        };
        assert!(open_only.keeps(&open) && !open_only.keeps(&cleared));
        let critical = Filter {
            severity: Some(Severity::Critical),
            ..Filter::default()
        };
        assert!(critical.keeps(&open) && !critical.keeps(&cleared));
        let text = Filter {
            text: " US-EAST ".into(),
            ..Filter::default()
        };
        assert!(text.keeps(&open) && !text.keeps(&cleared));
        let kind = Filter {
            kind: Some(AlertKind::BacklogNearCapacity),
            ..Filter::default()
        };
        assert!(!kind.keeps(&open) && kind.keeps(&cleared));
    }

    #[test]
    fn a_duration_runs_to_the_clearing_or_ticks_while_open() {
        let cleared = alert(2, AlertKind::DropsStarted, "gw-1", Some(46_000));
        assert_eq!(lasted(&cleared, 999_999), "45 s");
        let open = alert(1, AlertKind::RegionUnreachable, "us-east-1", None);
        assert_eq!(lasted(&open, 726_000), "12 min 05 s so far");
    }

    #[test]
    fn an_acknowledgement_says_who_and_when_in_utc() {
        let mut a = alert(1, AlertKind::RegionUnreachable, "us-east-1", None);
        assert_eq!(ack_line(&a), None);
        a.ack = Some(Acknowledgement {
            by: "ana".into(),
            at: 1_796_152_686_000,
            note: String::new(),
        });
        assert_eq!(
            ack_line(&a).unwrap(),
            "ack by ana at 2026-12-01 19:18:06 UTC"
        );
    }
}
