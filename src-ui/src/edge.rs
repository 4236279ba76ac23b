//! The edge view: gateways ranked by risk, with the fleet's totals.
//!
//! Rules kept here:
//! - the fleet's backlog on screen comes from the edge poll (each gateway counted once),
//!   never from a sum of the regions' backlogs;
//! - its charts break where polls are missing.

use crate::api::Api;
use crate::charts::{gapped_chart, span_for, AMBER, RED};
use crate::fmt::{bytes, secs, thousands};
use crate::Live;
use leptos::prelude::*;
use switchyard_core::edge::GatewaysResponse;
use switchyard_core::freshness::{age_ms, format_age, freshness, Freshness};

#[component]
pub fn EdgeView() -> impl IntoView {
    let live = expect_context::<Live>();
    let api = expect_context::<Api>();
    let (data, set_data) = signal(None::<Result<GatewaysResponse, String>>);
    let last = StoredValue::new(0u64);
    // Refresh as the state moves on, at most every 2 s.
    Effect::new(move |_| {
        let now = live.now.get();
        if now.saturating_sub(last.get_value()) < 2_000 && data.with_untracked(Option::is_some) {
            return;
        }
        last.set_value(now);
        let api = api.clone();
        leptos::task::spawn_local(async move { set_data.set(Some(api.gateways(100).await)) });
    });
    let body = move || {
        data.with(|d| match d {
            None => view! { <p class="loading">"Loading gateways…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="banner banner-error">{format!("Gateways unavailable: {e}")}</div> }.into_any(),
            Some(Ok(g)) => {
                let now = live.now.get_untracked();
                let stale = freshness(g.observed_at, now, g.poll_interval_ms) == Freshness::Stale;
                let age = g.observed_at.map_or("no data yet".into(), |t| format!("data age {}", format_age(age_ms(t, now))));
                let t = g.totals;
                view! {
                    <div class="edge-totals" data-testid="edge-totals" data-messages=t.messages data-gateways=t.gateways>
                        <div class="figure"><dt>"gateways"</dt><dd data-field="gateways">{thousands(g.total_gateways)}</dd></div>
                        <div class="figure"><dt>"backlog"</dt><dd data-field="backlog">{format!("{} msgs", thousands(t.messages))}</dd><dd class="sub">{format!("{} in {} gateways", bytes(t.bytes), t.gateways)}</dd></div>
                        <div class="figure"><dt>"oldest message"</dt><dd>{format_age(t.oldest_age_ms)}</dd></div>
                        <div class="figure"><dt>"dropped"</dt><dd>{thousands(t.dropped)}</dd></div>
                        <span class=if stale { "age age-stale" } else { "age" }>{age}{stale.then_some(" · STALE")}</span>
                    </div>
                    {
                        let mins = |t: u64| (t as f64 - g.server_time as f64) / 60_000.0;
                        let backlog: Vec<(f64, f64)> = g.totals_history.iter().map(|s| (mins(s.at), s.messages as f64)).collect();
                        let dropped: Vec<(f64, f64)> = g.totals_history.iter().map(|s| (mins(s.at), s.dropped as f64)).collect();
                        let times: Vec<u64> = g.totals_history.iter().map(|s| s.at).collect();
                        let gap = switchyard_core::series::max_gap(g.poll_interval_ms);
                        view! {
                            <div class="charts edge-charts" data-testid="edge-charts">
                                <div class="chart" inner_html=gapped_chart("fleet backlog (messages)", &backlog, &times, gap, span_for(&backlog, 60.0), AMBER, (600, 170))></div>
                                <div class="chart" inner_html=gapped_chart("messages dropped (total)", &dropped, &times, gap, span_for(&dropped, 60.0), RED, (600, 170))></div>
                            </div>
                        }
                    }
                    <table class="gateways" data-testid="gateways">
                        <thead><tr>
                            <th>"gateway"</th><th>"connected to"</th><th>"backlog"</th><th>"fill"</th><th>"oldest"</th>
                            <th>"rate"</th><th>"overflows in"</th><th>"drains in"</th><th>"dropped"</th>
                        </tr></thead>
                        <tbody>
                            {g.gateways.iter().map(|v| {
                                let rate = v.rate_per_s.map_or("—".into(), |r| if r > 0.0 { format!("+{r:.0}/s") } else { format!("{r:.0}/s") });
                                let class = if v.dropping { "risk-drop" } else if v.time_to_overflow_s.is_some() { "risk-grow" } else { "" };
                                view! {
                                    <tr class=class data-gateway=v.id.clone()>
                                        <td class="mono">{v.id.clone()}</td>
                                        <td>{v.connected_region.clone().unwrap_or_else(|| "disconnected".into())}</td>
                                        <td>{format!("{} · {}", thousands(v.backlog.messages), bytes(v.backlog.bytes))}</td>
                                        <td><span class="fill"><span style:width=format!("{:.0}%", v.fill * 100.0)></span></span>{format!(" {:.0}%", v.fill * 100.0)}</td>
                                        <td>{if v.backlog.oldest_age_ms > 0 { format_age(v.backlog.oldest_age_ms) } else { "—".into() }}</td>
                                        <td>{rate}</td>
                                        <td data-field="overflow">{v.time_to_overflow_s.map_or("—".into(), |s| if s == 0 { "FULL".into() } else { secs(s) })}</td>
                                        <td data-field="drain">{v.time_to_drain_s.map_or("—".into(), secs)}</td>
                                        <td>{thousands(v.backlog.dropped)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }
        })
    };
    view! { <section class="edge" data-testid="edge">{body}</section> }
}
