//! The regional map: every region at its real place, coloured by health and labelled with it,
//! sized by connected devices, with its role. Clicking a region opens its detail: health
//! reasons and the last hour as charts.
//!
//! Rules kept here:
//! - health is said in words beside its colour ("● UNREACHABLE"), never by colour alone;
//! - only a failover under way draws a directed arc (source → target, "devices moving");
//!   otherwise the line from the active region to its failover target is a readiness line,
//!   dotted, undirected and labelled, so it never reads like traffic flowing;
//! - charts break where samples are missing (more than three polls apart).

use crate::api::Api;
use crate::charts::{gapped_chart, span_for, AMBER, GREEN, RED};
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

/// A curve between two regions that bows towards the pole, as great circles look on this
/// projection: its path and the point at its middle.
fn curve(from: &str, to: &str) -> Option<(String, (f64, f64))> {
    let ((x1, y1), (x2, y2)) = (project(from)?, project(to)?);
    let (mx, my) = (
        (x1 + x2) / 2.0,
        (y1 + y2) / 2.0 - ((x2 - x1).abs() / 4.0).min(30.0),
    );
    // The quadratic's middle is halfway between the control point and the ends' middle.
    let mid = ((x1 + 2.0 * mx + x2) / 4.0, (y1 + 2.0 * my + y2) / 4.0);
    Some((
        format!("M{x1:.1},{y1:.1} Q{mx:.1},{my:.1} {x2:.1},{y2:.1}"),
        mid,
    ))
}

/// What the line between two regions means.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ArcKind {
    /// A failover under way: devices move from the first region to the second.
    Moving,
    /// No failover: the second region is where the first would fail over to.
    Readiness,
}

impl ArcKind {
    fn as_str(self) -> &'static str {
        match self {
            ArcKind::Moving => "moving",
            ArcKind::Readiness => "readiness",
        }
    }
}

/// The line to draw: the failover under way (`moving`: source, target), else the active
/// region's readiness line to its failover target.
pub fn arc_between(
    regions: &[RegionSummary],
    moving: Option<(&str, &str)>,
) -> Option<(String, String, ArcKind)> {
    if let Some((from, to)) = moving {
        return Some((from.to_string(), to.to_string(), ArcKind::Moving));
    }
    let from = regions.iter().find(|r| r.role == RegionRole::Active)?;
    let to = failover_target(regions)?;
    Some((from.id.clone(), to.id.clone(), ArcKind::Readiness))
}

#[component]
pub fn MapView(
    /// On the wallboard: nothing to click, no hint to.
    #[prop(optional)]
    wall: bool,
) -> impl IntoView {
    let live = expect_context::<Live>();
    let (selected, set_selected) = signal(None::<String>);
    let regions = move || {
        live.regions
            .with(|r| r.as_ref().map(|r| r.regions.clone()).unwrap_or_default())
    };
    let moving = Memo::new(move |_| {
        let under_way = |f: &switchyard_core::failover::Failover| !f.phase.is_final();
        live.failover
            .get()
            .filter(under_way)
            .or_else(|| {
                live.status.with(|s| {
                    s.as_ref()
                        .and_then(|s| s.failover.clone())
                        .filter(under_way)
                })
            })
            .map(|f| (f.source, f.target))
    });
    let arc = move || {
        let rs = regions();
        let m = moving.get();
        let (from, to, kind) = arc_between(&rs, m.as_ref().map(|(a, b)| (a.as_str(), b.as_str())))?;
        let (d, (mx, my)) = curve(&from, &to)?;
        let label = match kind {
            ArcKind::Moving => format!("devices moving to {to}"),
            ArcKind::Readiness => "failover target (standby)".to_string(),
        };
        Some(view! {
            <g class=format!("arc arc-{}", kind.as_str())>
                <path class=format!("failover-arc failover-arc-{}", kind.as_str()) d=d data-testid="failover-arc"
                    data-kind=kind.as_str() data-from=from data-to=to.clone()
                    marker-end=(kind == ArcKind::Moving).then_some("url(#arrow)") />
                <text x=mx y=my - 1.5 text-anchor="middle" class="arc-label">{label}</text>
            </g>
        })
    };
    let max_online = move || regions().iter().map(|r| r.online).max().unwrap_or(0).max(1);
    view! {
        <div class="map-layout" class:with-detail=move || selected.with(Option::is_some)>
        <section class="map-wrap">
            <svg class="map" viewBox="0 8 360 150" data-testid="map" role="img" aria-label="Regions on a world map">
                <defs>
                    <marker id="arrow" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                        <path d="M0,0 L6,3 L0,6 z" class="arrow-head" />
                    </marker>
                </defs>
                <image href="world-110m.svg" x="0" y="0" width="360" height="180" />
                {arc}
                <For each=regions key=|r| (r.id.clone(), r.role, r.health.status, r.online) let:r>
                    {
                        let id = r.id.clone();
                        let (x, y) = project(&r.id).unwrap_or((0.0, 0.0));
                        let radius = 2.5 + 5.5 * (r.online as f64 / max_online() as f64).sqrt();
                        let status = r.health.status.as_str();
                        let role = if r.role == RegionRole::Active { "ACTIVE" } else { "STANDBY" };
                        let click = id.clone();
                        view! {
                            <g class=format!("marker marker-{status}") class:marker-static=wall data-region=id.clone() data-status=status
                               on:click=move |_| if !wall { set_selected.set(Some(click.clone())) }>
                                <circle class="halo" cx=x cy=y r=radius + 2.5 />
                                <circle cx=x cy=y r=radius />
                                <text x=x y=y - radius - 3.0 text-anchor="middle" class="marker-label">{id.clone()}</text>
                                <text x=x y=y + radius + 6.0 text-anchor="middle" class="marker-health" data-field="health-label">
                                    {format!("● {}", status.to_uppercase())}
                                </text>
                                <text x=x y=y + radius + 10.5 text-anchor="middle" class="marker-role">{role}</text>
                            </g>
                        }
                    }
                </For>
            </svg>
            <p class="attribution">{if wall { "Basemap: Natural Earth (public domain)." } else { "Basemap: Natural Earth (public domain). Click a region for its detail." }}</p>
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
                // A gap of more than three polls is missing data: the line breaks there.
                let times: Vec<u64> = h.samples.iter().map(|s| s.observed_at).collect();
                let poll =
                    region.with_untracked(|r| r.as_ref().map_or(5_000, |r| r.poll_interval_ms));
                let gap = switchyard_core::series::max_gap(poll);
                let chart = |title: &str, points: &[(f64, f64)], color| {
                    gapped_chart(title, points, &times, gap, span, color, size)
                };
                let online = chart("connected devices", &online, GREEN);
                let errors = chart("connect errors per poll", &errors, RED);
                let backlog = chart("edge backlog (messages)", &backlog, AMBER);
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

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::{BacklogTotals, Health};

    fn region(id: &str, role: RegionRole, status: HealthStatus) -> RegionSummary {
        RegionSummary {
            id: id.into(),
            name: id.into(),
            role,
            health: Health {
                status,
                reasons: vec![],
            },
            online: 10,
            offline: 0,
            backlog: BacklogTotals::default(),
            observed_at: Some(1),
            last_attempt_at: Some(1),
            poll_interval_ms: 5_000,
            figures: switchyard_core::cockpit::Figures::Current,
        }
    }

    #[test]
    fn after_a_failover_the_line_from_the_new_active_region_is_a_readiness_line_not_traffic() {
        // eu-west-1 took over; us-east-1 is back as a healthy standby.
        let regions = [
            region("us-east-1", RegionRole::Standby, HealthStatus::Healthy),
            region("eu-west-1", RegionRole::Active, HealthStatus::Healthy),
        ];
        let (from, to, kind) = arc_between(&regions, None).expect("a line");
        assert_eq!(
            (from.as_str(), to.as_str(), kind),
            ("eu-west-1", "us-east-1", ArcKind::Readiness)
        );
        // While a failover is under way, the line is the move itself, directed.
        let (from, to, kind) =
            arc_between(&regions, Some(("us-east-1", "eu-west-1"))).expect("a line");
        assert_eq!(
            (from.as_str(), to.as_str(), kind),
            ("us-east-1", "eu-west-1", ArcKind::Moving)
        );
    }

    #[test]
    fn a_curve_passes_through_its_middle_point_between_its_ends() {
        let (d, (mx, my)) = curve("us-east-1", "eu-west-1").expect("both are known regions");
        assert!(d.starts_with('M') && d.contains('Q'), "{d}");
        let ((x1, _), (x2, _)) = (project("us-east-1").unwrap(), project("eu-west-1").unwrap());
        assert!(mx > x1.min(x2) && mx < x1.max(x2) && my > 0.0);
    }
}
