//! Alerts: the banner over every page while any is open, and the list with their times.

use crate::Live;
use leptos::prelude::*;
use switchyard_core::alerts::Severity;
use switchyard_core::freshness::{age_ms, format_age};

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
    let fmt_time = |ms: u64| {
        let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        String::from(d.to_locale_time_string("en-GB"))
    };
    view! {
        <section class="alerts" data-testid="alerts">
            <table class="gateways">
                <thead><tr><th>"severity"</th><th>"what"</th><th>"raised"</th><th>"cleared"</th></tr></thead>
                <tbody>
                    {move || live.alerts.get().into_iter().map(|a| view! {
                        <tr class=if a.cleared_at.is_none() { "alert-open" } else { "alert-cleared" } data-alert=a.kind.as_str()>
                            <td class=format!("sev-{:?}", a.severity).to_lowercase()>{format!("{:?}", a.severity).to_uppercase()}</td>
                            <td>{a.message.clone()}</td>
                            <td>{fmt_time(a.raised_at)}</td>
                            <td>{a.cleared_at.map_or("open".into(), fmt_time)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {move || live.alerts.with(Vec::is_empty).then(|| view! { <p class="muted">"No alerts."</p> })}
        </section>
    }
}
