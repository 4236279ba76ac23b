//! The overview: one card per region with its role, health, devices, backlog and data age.
//!
//! Rules kept here:
//! - a region whose figures are not current shows them greyed and labelled "last known at
//!   HH:MM UTC", never as current; one never observed says "no data yet";
//! - a card shows its region's backlog only while its figures are current (the fleet's
//!   backlog has one source: the edge poll, on the edge page).

use crate::fmt::{bytes, thousands};
use crate::Live;
use leptos::prelude::*;
use switchyard_core::cockpit::{figures, Figures};
use switchyard_core::freshness::{age_ms, format_age, freshness, Freshness};
use switchyard_core::time::utc_hm;
use switchyard_core::{HealthStatus, RegionRole, RegionSummary};

#[component]
pub fn Overview() -> impl IntoView {
    let live = expect_context::<Live>();
    let ids = Memo::new(move |_| {
        live.regions.with(|r| {
            r.as_ref()
                .map(|r| r.regions.iter().map(|x| x.id.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    view! {
        <section class="cards" data-testid="overview">
            <Show when=move || live.regions.with(Option::is_some) fallback=|| view! { <p class="loading">"Waiting for the first figures…"</p> }>
                <For each=move || ids.get() key=|id| id.clone() let:id>
                    <RegionCard id=id />
                </For>
            </Show>
        </section>
    }
}

#[component]
fn RegionCard(id: String) -> impl IntoView {
    let live = expect_context::<Live>();
    let key = id.clone();
    let region = Memo::new(move |_| {
        live.regions.with(|r| {
            r.as_ref()
                .and_then(|r| r.regions.iter().find(|x| x.id == key).cloned())
        })
    });
    let get = move |f: fn(&RegionSummary) -> String| {
        move || region.with(|r| r.as_ref().map(f).unwrap_or_default())
    };
    let status = move || {
        region.with(|r| {
            r.as_ref()
                .map_or(HealthStatus::Unknown, |r| r.health.status)
        })
    };
    let fresh = move || {
        region.with(|r| {
            r.as_ref().map_or(Freshness::Missing, |r| {
                freshness(r.observed_at, live.now.get(), r.poll_interval_ms)
            })
        })
    };
    let standing = move || {
        let now = live.now.get();
        region.with(|r| r.as_ref().map_or(Figures::Missing, |r| figures(r, now)))
    };
    let current = move || standing() == Figures::Current;
    // A figure as it may be shown: itself while current, its last known value otherwise, a
    // dash when never observed.
    let shown = move |f: fn(&RegionSummary) -> String| {
        move || match standing() {
            Figures::Missing => "—".to_string(),
            _ => region.with(|r| r.as_ref().map(f).unwrap_or_default()),
        }
    };
    let note = move || {
        let s = standing();
        region.with(|r| match (s, r.as_ref().and_then(|r| r.observed_at)) {
            (Figures::Current, _) => None,
            (Figures::LastKnown, Some(at)) => Some(format!("last known at {}", utc_hm(at))),
            _ => Some("no data yet".to_string()),
        })
    };
    let age_text = move || {
        let now = live.now.get();
        region.with(|r| {
            let Some(r) = r else { return String::new() };
            match (r.observed_at, r.health.status) {
                (None, _) => "no data yet".to_string(),
                (Some(at), HealthStatus::Unreachable) => format!(
                    "unreachable — last figures {} old",
                    format_age(age_ms(at, now))
                ),
                (Some(at), _) => format!("data age {}", format_age(age_ms(at, now))),
            }
        })
    };
    view! {
        <article
            class="card"
            data-region=id.clone()
            data-status=move || status().as_str()
            class:stale=move || fresh() == Freshness::Stale
            class:last-known=move || !current()
            data-figures=move || match standing() { Figures::Current => "current", Figures::LastKnown => "last_known", Figures::Missing => "missing" }
            class:active=move || region.with(|r| r.as_ref().is_some_and(|r| r.role == RegionRole::Active))
        >
            <header class="card-head">
                <div>
                    <h2 class="region-name">{get(|r| r.name.clone())}</h2>
                    <span class="region-code">{id.clone()}</span>
                </div>
                <span class="role" data-field="role">
                    {move || region.with(|r| match r.as_ref().map(|r| r.role) {
                        Some(RegionRole::Active) => "ACTIVE",
                        _ => "STANDBY",
                    })}
                </span>
            </header>
            <div class=move || format!("health health-{}", status().as_str()) data-field="health">
                {move || status().as_str().to_uppercase()}
            </div>
            <ul class="reasons" data-field="reasons">
                {move || region.with(|r| r.as_ref().map(|r| r.health.reasons.clone()).unwrap_or_default())
                    .into_iter().map(|reason| view! { <li>{reason}</li> }).collect_view()}
            </ul>
            <p class="figures-note" data-field="figures-note">{note}</p>
            <dl class="figures">
                <div class="figure figure-main">
                    <dt>{move || if current() { "online" } else { "online (last known)" }}</dt>
                    <dd data-field="online">{shown(|r| thousands(r.online))}</dd>
                </div>
                <div class="figure">
                    <dt>"offline"</dt>
                    <dd data-field="offline">{shown(|r| thousands(r.offline))}</dd>
                </div>
                // The backlog only while current: the gateways of a region that does not
                // answer are counted by the edge poll, once, on the edge page.
                <div class="figure">
                    <dt>"edge backlog"</dt>
                    <dd data-field="backlog">{move || if current() { get(|r| format!("{} msgs", thousands(r.backlog.messages)))() } else { "—".into() }}</dd>
                    <dd class="sub">{move || if current() { get(|r| format!("{} · {} gateways", bytes(r.backlog.bytes), r.backlog.gateways))() } else { "not current: see Edge".into() }}</dd>
                </div>
                <div class="figure">
                    <dt>"dropped"</dt>
                    <dd data-field="dropped">{move || if current() { get(|r| thousands(r.backlog.dropped))() } else { "—".into() }}</dd>
                    <dd class="sub">{move || if current() { get(|r| if r.backlog.oldest_age_ms > 0 { format!("oldest {}", format_age(r.backlog.oldest_age_ms)) } else { "buffers empty".into() })() } else { String::new() }}</dd>
                </div>
            </dl>
            <footer class="age" data-field="age" class:age-stale=move || fresh() == Freshness::Stale>
                {age_text}
                {move || (fresh() == Freshness::Stale).then_some(" · STALE")}
            </footer>
        </article>
    }
}
