//! The wallboard (`#/wall`): the map, the region cards, the incident strip and the edge risk
//! on one screen, for a TV across the room. A viewer's account is enough.
//!
//! Rules kept here:
//! - no controls: no form, no button, no navigation (a TV has no one at its keyboard);
//! - sized by the viewport (vw/vh), so 1920×1080 and 3840×2160 show the same, every card in
//!   view; values are larger than their labels;
//! - every colour has its words beside it ("● UNREACHABLE").

use crate::api::Api;
use crate::fmt::{bytes, secs, thousands};
use crate::{map, overview, strip, Live};
use leptos::prelude::*;
use switchyard_core::cockpit::headline;
use switchyard_core::edge::{GatewayView, GatewaysResponse};
use switchyard_core::SourceKind;

/// How many gateways the edge risk lists.
const AT_RISK: usize = 5;

/// A gateway's risk in words, worst first: dropping, growing towards overflow, or fine.
pub fn risk_label(g: &GatewayView) -> (&'static str, &'static str) {
    if g.dropping {
        ("dropping", "● DROPPING")
    } else if g.time_to_overflow_s.is_some() {
        ("growing", "● FILLING")
    } else if g.backlog.messages > 0 {
        ("holding", "● HOLDING")
    } else {
        ("ok", "● OK")
    }
}

#[component]
pub fn Wall() -> impl IntoView {
    let live = expect_context::<Live>();
    let totals = move || {
        live.regions.get().map(|r| {
            let h = headline(r.source, &r.regions, live.now.get());
            let text = h.text();
            let (known, unknown) = match text.split_once(" · ") {
                Some((k, u)) => (k.to_string(), Some(u.to_string())),
                None => (text, None),
            };
            view! {
                <span class="wall-known" class:totals-partial=unknown.is_some()>{known}</span>
                {unknown.map(|u| view! { <span class="wall-unknown">{u}</span> })}
            }
        })
    };
    let source = move || {
        live.regions.get().map(|r| match r.source {
            SourceKind::Simulated => view! { <span class="badge badge-sim" data-testid="source">"SIMULATED FLEET"</span> },
            SourceKind::Aws => view! { <span class="badge" data-testid="source">"AWS"</span> },
        })
    };
    view! {
        <div class="wall" data-testid="wall">
            <header class="wall-head">
                <span class="wall-brand">"Switchyard"</span>
                {source}
                <span class="wall-totals" data-testid="totals">{totals}</span>
                <span class="wall-clock" data-testid="wall-clock">{move || crate::fmt::clock(live.now.get())}</span>
                <span class="link" class:link-live=move || live.link.get() == crate::api::Link::Live data-testid="link">
                    {move || if live.link.get() == crate::api::Link::Live { "● live" } else { "○ not live" }}
                </span>
            </header>
            <strip::Strip wall=true />
            <div class="wall-body">
                <div class="wall-map"><map::MapView wall=true /></div>
                <EdgeRisk />
            </div>
            <div class="wall-cards"><overview::Overview /></div>
        </div>
    }
}

/// The fleet's edge backlog (from the edge poll) and the gateways most at risk.
#[component]
fn EdgeRisk() -> impl IntoView {
    let live = expect_context::<Live>();
    let api = expect_context::<Api>();
    let (data, set_data) = signal(None::<GatewaysResponse>);
    let last = StoredValue::new(0u64);
    Effect::new(move |_| {
        let now = live.now.get();
        if now.saturating_sub(last.get_value()) < 5_000 && data.with_untracked(Option::is_some) {
            return;
        }
        last.set_value(now);
        let api = api.clone();
        leptos::task::spawn_local(async move {
            if let Ok(g) = api.gateways(AT_RISK as u32).await {
                set_data.set(Some(g));
            }
        });
    });
    let body = move || {
        data.with(|d| match d {
            None => view! { <p class="loading">"Waiting for the edge poll…"</p> }.into_any(),
            Some(g) => {
                let t = g.totals;
                view! {
                    <dl class="wall-edge-totals" data-testid="wall-edge-totals" data-messages=t.messages>
                        <div class="figure"><dt>"edge backlog"</dt><dd>{format!("{} msgs", thousands(t.messages))}</dd>
                            <dd class="sub">{format!("{} in {} of {} gateways", bytes(t.bytes), t.gateways, g.total_gateways)}</dd></div>
                        <div class="figure"><dt>"dropped"</dt><dd class:bad={t.dropped > 0}>{thousands(t.dropped)}</dd></div>
                    </dl>
                    <table class="wall-risk" data-testid="wall-risk">
                        <thead><tr><th>"gateway"</th><th>"state"</th><th>"fill"</th><th>"overflows in"</th></tr></thead>
                        <tbody>
                            {g.gateways.iter().take(AT_RISK).map(|v| {
                                let (class, label) = risk_label(v);
                                view! {
                                    <tr class=format!("risk-{class}") data-gateway=v.id.clone()>
                                        <td class="mono">{v.id.clone()}
                                            <span class="wall-sub">{v.connected_region.clone().unwrap_or_else(|| "disconnected".into())}</span></td>
                                        <td class=format!("risk-label risk-label-{class}")>{label}</td>
                                        <td>{format!("{:.0} %", v.fill * 100.0)}</td>
                                        <td>{v.time_to_overflow_s.map_or("—".into(), |s| if s == 0 { "FULL".into() } else { secs(s) })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="wall-edge" data-testid="wall-edge">
            <h2 class="wall-title">"Edge risk"</h2>
            {body}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(dropping: bool, overflow: Option<u64>, messages: u64) -> GatewayView {
        serde_json::from_value(serde_json::json!({
            "id": "gw-1", "connected_region": "us-east-1",
            "backlog": {"messages": messages, "bytes": 0, "dropped": 0, "oldest_age_ms": 0},
            "capacity_messages": 1000, "fill": 0.5, "rate_per_s": null,
            "time_to_overflow_s": overflow, "time_to_drain_s": null, "dropping": dropping
        }))
        .expect("a gateway")
    }

    #[test]
    fn a_gateways_risk_is_said_in_words_worst_first() {
        assert_eq!(risk_label(&gateway(true, Some(0), 9)).1, "● DROPPING");
        assert_eq!(risk_label(&gateway(false, Some(60), 9)).1, "● FILLING");
        assert_eq!(risk_label(&gateway(false, None, 9)).1, "● HOLDING");
        assert_eq!(risk_label(&gateway(false, None, 0)).1, "● OK");
    }
}
