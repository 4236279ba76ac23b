//! The regional map: every region at its real place, coloured by health, sized by connected
//! devices, with its role and an arc from the active region to its failover target. Clicking a
//! region opens its detail: health reasons and the last hour as charts.

use crate::api::Api;
use crate::charts::{line_chart, span_for, AMBER, GREEN, RED};
use crate::Live;
use leptos::prelude::*;
use switchyard_core::api::RegionHistory;
use switchyard_core::regions::lookup;
use switchyard_core::{HealthStatus, RegionRole, RegionSummary};

/// Equirectangular: x = lon + 180, y = 90 - lat, in the basemap's 360 × 180 units.
fn project(code: &str) -> Option<(f64, f64)> {
    lookup(code).map(|r| (r.lon + 180.0, 90.0 - r.lat))
}

/// Where the active region would fail over to: the first healthy standby, else the first.
pub fn failover_target(regions: &[RegionSummary]) -> Option<&RegionSummary> {
    let standbys = || regions.iter().filter(|r| r.role == RegionRole::Standby);
    standbys()
        .find(|r| r.health.status == HealthStatus::Healthy)
        .or_else(|| standbys().next())
}

#[component]
pub fn MapView() -> impl IntoView {
    let live = expect_context::<Live>();
    let (selected, set_selected) = signal(None::<String>);
    let regions = move || {
        live.regions
            .with(|r| r.as_ref().map(|r| r.regions.clone()).unwrap_or_default())
    };
    let arc = move || {
        let rs = regions();
        let from = rs.iter().find(|r| r.role == RegionRole::Active)?;
        let to = failover_target(&rs)?;
        let ((x1, y1), (x2, y2)) = (project(&from.id)?, project(&to.id)?);
        // A curve that bows towards the pole, as great circles look on this projection.
        let (mx, my) = (
            (x1 + x2) / 2.0,
            (y1 + y2) / 2.0 - ((x2 - x1).abs() / 4.0).min(30.0),
        );
        Some(format!("M{x1:.1},{y1:.1} Q{mx:.1},{my:.1} {x2:.1},{y2:.1}"))
    };
    let max_online = move || regions().iter().map(|r| r.online).max().unwrap_or(0).max(1);
    view! {
        <div class="map-layout" class:with-detail=move || selected.with(Option::is_some)>
        <section class="map-wrap">
            <svg class="map" viewBox="0 8 360 150" data-testid="map" role="img" aria-label="Regions on a world map">
                <image href="world-110m.svg" x="0" y="0" width="360" height="180" />
                {move || arc().map(|d| view! { <path class="failover-arc" d=d data-testid="failover-arc" /> })}
                <For each=regions key=|r| (r.id.clone(), r.role, r.health.status, r.online) let:r>
                    {
                        let id = r.id.clone();
                        let (x, y) = project(&r.id).unwrap_or((0.0, 0.0));
                        let radius = 2.5 + 5.5 * (r.online as f64 / max_online() as f64).sqrt();
                        let status = r.health.status.as_str();
                        let role = if r.role == RegionRole::Active { "ACTIVE" } else { "STANDBY" };
                        let click = id.clone();
                        view! {
                            <g class=format!("marker marker-{status}") data-region=id.clone() data-status=status
                               on:click=move |_| set_selected.set(Some(click.clone()))>
                                <circle class="halo" cx=x cy=y r=radius + 2.5 />
                                <circle cx=x cy=y r=radius />
                                <text x=x y=y - radius - 3.0 text-anchor="middle" class="marker-label">{id.clone()}</text>
                                <text x=x y=y + radius + 6.5 text-anchor="middle" class="marker-role">{role}</text>
                            </g>
                        }
                    }
                </For>
            </svg>
            <p class="attribution">"Basemap: Natural Earth (public domain). Click a region for its detail."</p>
        </section>
        {move || selected.get().map(|id| view! { <RegionDetail id=id on_close=move || set_selected.set(None) /> })}
        </div>
    }
}

#[component]
fn RegionDetail(id: String, on_close: impl Fn() + 'static + Send + Sync) -> impl IntoView {
    let live = expect_context::<Live>();
    let api = expect_context::<Api>();
    let (history, set_history) = signal(None::<Result<RegionHistory, String>>);
    let key = id.clone();
    let region = Memo::new(move |_| {
        live.regions.with(|r| {
            r.as_ref()
                .and_then(|r| r.regions.iter().find(|x| x.id == key).cloned())
        })
    });
    // Reload the history whenever the state moves on, at most every 10 s.
    let last_load = StoredValue::new(0u64);
    let hid = id.clone();
    Effect::new(move |_| {
        let now = live.now.get();
        if now.saturating_sub(last_load.get_value()) < 10_000
            && history.with_untracked(Option::is_some)
        {
            return;
        }
        last_load.set_value(now);
        let (api, hid) = (api.clone(), hid.clone());
        leptos::task::spawn_local(
            async move { set_history.set(Some(api.history(&hid, 60).await)) },
        );
    });
    let charts = move || {
        history.with(|h| match h {
            None => view! { <p class="chart-note">"Loading the last hour…"</p> }.into_any(),
            Some(Err(e)) => {
                view! { <p class="chart-note">{format!("History unavailable: {e}")}</p> }.into_any()
            }
            Some(Ok(h)) => {
                let mins = |t: u64| (t as f64 - h.server_time as f64) / 60_000.0;
                let series =
                    |f: fn(&switchyard_core::api::RegionSample) -> f64| -> Vec<(f64, f64)> {
                        h.samples
                            .iter()
                            .map(|s| (mins(s.observed_at), f(s)))
                            .collect()
                    };
                let size = (440, 150);
                let (online, errors, backlog) = (
                    series(|s| s.online as f64),
                    series(|s| s.connect_errors as f64),
                    series(|s| s.backlog_messages as f64),
                );
                let span = span_for(&online, 60.0);
                let online = line_chart("connected devices", &online, span, GREEN, size);
                let errors = line_chart("connect errors per poll", &errors, span, RED, size);
                let backlog = line_chart("edge backlog (messages)", &backlog, span, AMBER, size);
                view! {
                    <div class="charts" data-testid="region-charts" data-samples=h.samples.len()>
                        <div class="chart" inner_html=online></div>
                        <div class="chart" inner_html=errors></div>
                        <div class="chart" inner_html=backlog></div>
                    </div>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="detail" data-testid="region-detail" data-region=id.clone()>
            <header class="detail-head">
                <h2>{move || region.with(|r| r.as_ref().map(|r| format!("{} · {}", r.name, r.id)).unwrap_or_default())}</h2>
                <button class="btn" on:click=move |_| on_close()>"Close"</button>
            </header>
            <p class=move || format!("health health-{}", region.with(|r| r.as_ref().map_or(HealthStatus::Unknown, |r| r.health.status).as_str())) >
                {move || region.with(|r| r.as_ref().map(|r| r.health.status.as_str().to_uppercase()).unwrap_or_default())}
            </p>
            <ul class="reasons">
                {move || region.with(|r| r.as_ref().map(|r| r.health.reasons.clone()).unwrap_or_default())
                    .into_iter().map(|x| view! { <li>{x}</li> }).collect_view()}
            </ul>
            {charts}
        </section>
    }
}
