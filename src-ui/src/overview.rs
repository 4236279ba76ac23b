//! The overview: one card per region with its role, health, devices, backlog and data age.

use crate::fmt::{bytes, thousands};
use crate::Live;
use leptos::prelude::*;
use switchyard_core::freshness::{age_ms, format_age, freshness, Freshness};
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
            <dl class="figures">
                <div class="figure figure-main">
                    <dt>"online"</dt>
                    <dd data-field="online">{get(|r| thousands(r.online))}</dd>
                </div>
                <div class="figure">
                    <dt>"offline"</dt>
                    <dd data-field="offline">{get(|r| thousands(r.offline))}</dd>
                </div>
                <div class="figure">
                    <dt>"edge backlog"</dt>
                    <dd data-field="backlog">{get(|r| format!("{} msgs", thousands(r.backlog.messages)))}</dd>
                    <dd class="sub">{get(|r| format!("{} · {} gateways", bytes(r.backlog.bytes), r.backlog.gateways))}</dd>
                </div>
                <div class="figure">
                    <dt>"dropped"</dt>
                    <dd data-field="dropped">{get(|r| thousands(r.backlog.dropped))}</dd>
                    <dd class="sub">{get(|r| if r.backlog.oldest_age_ms > 0 { format!("oldest {}", format_age(r.backlog.oldest_age_ms)) } else { "buffers empty".into() })}</dd>
                </div>
            </dl>
            <footer class="age" data-field="age" class:age-stale=move || fresh() == Freshness::Stale>
                {age_text}
                {move || (fresh() == Freshness::Stale).then_some(" · STALE")}
            </footer>
        </article>
    }
}
