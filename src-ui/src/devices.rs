//! The devices view: a filtered list that stays smooth at any size. Only the rows in sight are
//! in the page; they are fetched a page of 200 at a time as the list scrolls.
//!
//! Rules kept here:
//! - the list refreshes itself (every 15 s, and on `regions` events at most once per 5 s),
//!   keeping the operator's filters and scroll position: the pages in hand are fetched again
//!   and replaced where they stand;
//! - times shown are UTC, the local time only as a hover title.

use crate::alerts::UtcTime;
use crate::api::Api;
use crate::Live;
use leptos::prelude::*;
use std::collections::{HashMap, HashSet};
use switchyard_core::devices::DeviceQuery;
use switchyard_core::freshness::{age_ms, format_age};
use switchyard_core::{Connectivity, Device, DisconnectReason};

const ROW_PX: f64 = 34.0;
const PAGE: u64 = 200;
/// Rows drawn above and below the visible ones, so a fast scroll does not show blanks.
const OVERSCAN: u64 = 10;

/// What the list knows: the total for the current filters and the pages fetched so far.
#[derive(Default, Clone)]
struct Pages {
    generation: u64,
    total: Option<u64>,
    pages: HashMap<u64, Vec<Device>>,
    pending: HashSet<u64>,
    error: Option<String>,
    /// When the source's answer for the latest page was observed.
    observed_at: Option<u64>,
}

#[component]
pub fn DevicesView() -> impl IntoView {
    let live = expect_context::<Live>();
    let api = StoredValue::new(expect_context::<Api>());
    let (filters, set_filters) = signal(DeviceQuery::default());
    let pages = RwSignal::new(Pages::default());
    let (scroll_top, set_scroll_top) = signal(0.0f64);
    let (viewport, set_viewport) = signal(600.0f64);
    let (selected, set_selected) = signal(None::<Device>);

    // `again`: fetch a page already in hand (a refresh), replacing it when the answer comes.
    let fetch_page = move |page: u64, again: bool| {
        let (generation, skip) = pages.with_untracked(|p| {
            (
                p.generation,
                (!again && p.pages.contains_key(&page)) || p.pending.contains(&page),
            )
        });
        if skip {
            return;
        }
        pages.update(|p| {
            p.pending.insert(page);
        });
        let q = DeviceQuery {
            offset: page * PAGE,
            limit: Some(PAGE as u32),
            ..filters.get_untracked()
        };
        let api = api.get_value();
        leptos::task::spawn_local(async move {
            let result = api.devices(&q).await;
            pages.update(|p| {
                if p.generation != generation {
                    return; // the filters changed meanwhile
                }
                p.pending.remove(&page);
                match result {
                    Ok(r) => {
                        p.total = Some(r.total);
                        p.observed_at = Some(r.observed_at);
                        p.pages.insert(page, r.items);
                        p.error = None;
                    }
                    Err(e) => p.error = Some(e),
                }
            });
        });
    };

    let fetch = move |page: u64| fetch_page(page, false);
    // The pages in hand, fetched again: same filters, same place in the list.
    let reload = move || {
        let held: Vec<u64> = pages.with_untracked(|p| p.pages.keys().copied().collect());
        for page in held {
            fetch_page(page, true);
        }
    };
    crate::timers::every(reload, std::time::Duration::from_secs(15));
    // A `regions` event means devices moved: reload, at most once per 5 s.
    let last_reload = StoredValue::new(0f64);
    Effect::new(move |first: Option<()>| {
        live.regions.track();
        let now = js_sys::Date::now();
        if first.is_some() && now - last_reload.get_value() >= 5_000.0 {
            last_reload.set_value(now);
            reload();
        }
    });
    // New filters: forget what was fetched, start again at the top.
    let fetch_first = fetch;
    Effect::new(move |_| {
        filters.track();
        pages.update(|p| {
            *p = Pages {
                generation: p.generation + 1,
                ..Pages::default()
            }
        });
        set_scroll_top.set(0.0);
        fetch_first(0);
    });
    let range = Memo::new(move |_| {
        let first = (scroll_top.get() / ROW_PX) as u64;
        let count = (viewport.get() / ROW_PX).ceil() as u64;
        (first.saturating_sub(OVERSCAN), first + count + OVERSCAN)
    });
    // Fetch the pages the visible rows fall in.
    Effect::new(move |_| {
        let (from, to) = range.get();
        let total = pages.with(|p| p.total);
        let Some(total) = total else { return };
        let to = to.min(total);
        for page in (from / PAGE)..=(to.saturating_sub(1) / PAGE) {
            fetch(page);
        }
    });

    let rows = move || {
        let (from, to) = range.get();
        pages.with(|p| {
            let total = p.total.unwrap_or(0);
            (from..to.min(total))
                .map(|i| {
                    (
                        i,
                        p.pages
                            .get(&(i / PAGE))
                            .and_then(|pg| pg.get((i % PAGE) as usize))
                            .cloned(),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let set = move |f: fn(&mut DeviceQuery, String)| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            set_filters.update(|q| f(q, v));
        }
    };
    let region_options = move || {
        live.regions.with(|r| {
            r.as_ref()
                .map(|r| r.regions.iter().map(|x| x.id.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };

    view! {
        <section class="devices" data-testid="devices">
            <form class="filters" on:submit=|ev| ev.prevent_default()>
                <input type="search" placeholder="thing name contains…" data-testid="filter-q"
                    on:input=set(|q, v| q.q = (!v.is_empty()).then_some(v)) />
                <select data-testid="filter-region" on:change=set(|q, v| q.region = (!v.is_empty()).then_some(v))>
                    <option value="">"any region"</option>
                    {move || region_options().into_iter().map(|r| view! { <option value=r.clone()>{r.clone()}</option> }).collect_view()}
                </select>
                <select data-testid="filter-connected" on:change=set(|q, v| q.connected = match v.as_str() {
                    "online" => Some(true),
                    "offline" => Some(false),
                    _ => None,
                })>
                    <option value="">"online and offline"</option>
                    <option value="online">"online"</option>
                    <option value="offline">"offline"</option>
                </select>
                <select data-testid="filter-reason" on:change=set(|q, v| q.reason = DisconnectReason::ALL.into_iter().find(|r| r.as_str() == v))>
                    <option value="">"any disconnect reason"</option>
                    {DisconnectReason::ALL.into_iter().map(|r| { let n = r.as_str(); view! { <option value=n>{n}</option> } }).collect_view()}
                </select>
                <input type="text" placeholder="thing group" data-testid="filter-group"
                    on:change=set(|q, v| q.thing_group = (!v.is_empty()).then_some(v)) />
                <span class="count" data-testid="device-count">
                    {move || pages.with(|p| match (p.total, &p.error) {
                        (_, Some(e)) => format!("error: {e}"),
                        (Some(t), None) => format!(
                            "{} devices · data age {}",
                            crate::fmt::thousands(t),
                            format_age(age_ms(p.observed_at.unwrap_or(0), live.now.get()))
                        ),
                        (None, None) => "loading…".into(),
                    })}
                </span>
            </form>
            <div class="vlist-head row">
                <span>"thing name"</span><span>"region"</span><span>"state"</span><span>"since"</span><span>"reason"</span><span>"groups"</span>
            </div>
            <div class="vlist" data-testid="device-list"
                on:scroll=move |ev| {
                    let el = event_target::<web_sys::Element>(&ev);
                    set_scroll_top.set(el.scroll_top() as f64);
                    set_viewport.set(el.client_height() as f64);
                }>
                <div class="vlist-space" style:height=move || format!("{}px", pages.with(|p| p.total.unwrap_or(0)) as f64 * ROW_PX)>
                    {move || rows().into_iter().map(|(i, d)| {
                        // Set through the CSSOM (style:top), which a strict Content-Security-Policy allows,
                        // unlike a style attribute.
                        let top = format!("{}px", i as f64 * ROW_PX);
                        match d {
                            None => view! { <div class="row loading-row" style:top=top>"…"</div> }.into_any(),
                            Some(d) => {
                                let now = live.now.get();
                                let (state, since, reason) = match &d.connectivity {
                                    Connectivity::Online { since } => ("online", *since, String::new()),
                                    Connectivity::Offline { since, reason } => ("offline", *since, reason.as_str().to_string()),
                                };
                                let pick = d.clone();
                                view! {
                                    <div class=format!("row device-row {state}") style:top=top data-device=d.id.clone()
                                        on:click=move |_| set_selected.set(Some(pick.clone()))>
                                        <span class="mono">{d.id.clone()}</span>
                                        <span>{d.region.clone()}</span>
                                        <span class=format!("state-{state}")>{state}</span>
                                        <span>{format!("{} ago", format_age(age_ms(since, now)))}</span>
                                        <span>{reason}</span>
                                        <span class="muted">{d.thing_groups.join(", ")}</span>
                                    </div>
                                }.into_any()
                            }
                        }
                    }).collect_view()}
                </div>
            </div>
            {move || selected.get().map(|d| view! { <DeviceDetail device=d on_close=move || set_selected.set(None) /> })}
        </section>
    }
}

#[component]
fn DeviceDetail(device: Device, on_close: impl Fn() + 'static + Send + Sync) -> impl IntoView {
    let live = expect_context::<Live>();
    let api = expect_context::<Api>();
    let (detail, set_detail) =
        signal(None::<Result<switchyard_core::devices::DeviceDetail, String>>);
    let id = device.id.clone();
    leptos::task::spawn_local(async move { set_detail.set(Some(api.device(&id).await)) });
    // The fresh answer when it comes, the row's copy until then.
    let current = move || {
        detail.with(|d| {
            d.as_ref()
                .and_then(|d| d.as_ref().ok())
                .map(|d| d.device.clone())
        })
    };
    let fallback = StoredValue::new(device);
    let shown = Memo::new(move |_| current().unwrap_or_else(|| fallback.get_value()));
    let shown = move || shown.get();
    let state = move || match shown().connectivity {
        Connectivity::Online { since } => ("online", since, None),
        Connectivity::Offline { since, reason } => ("offline", since, Some(reason.as_str())),
    };
    view! {
        <aside class="detail device-detail" data-testid="device-detail">
            <header class="detail-head">
                <h2 class="mono">{move || shown().id}</h2>
                <button class="btn" on:click=move |_| on_close()>"Close"</button>
            </header>
            <dl class="kv">
                <dt>"state"</dt><dd class=move || format!("state-{}", state().0)>{move || state().0}</dd>
                <dt>"since"</dt><dd>{move || format!("{} ago", format_age(age_ms(state().1, live.now.get())))}</dd>
                <dt>"region"</dt><dd>{move || shown().region}</dd>
                <dt>"disconnect reason"</dt><dd>{move || state().2.unwrap_or("—")}</dd>
                <dt>"thing groups"</dt><dd>{move || shown().thing_groups.join(", ")}</dd>
            </dl>
            <h3>"Recent connectivity changes"</h3>
            {move || detail.with(|d| match d {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="muted">{format!("History unavailable: {e}")}</p> }.into_any(),
                Some(Ok(d)) if d.history.is_empty() => view! { <p class="muted">"No change seen since the console started."</p> }.into_any(),
                Some(Ok(d)) => view! {
                    <ul class="history" data-testid="device-history">
                        {d.history.iter().map(|c| view! {
                            <li class=if c.online { "state-online" } else { "state-offline" }>
                                <UtcTime at=c.at />
                                {format!(" {} {}{}", if c.online { "connected to" } else { "lost from" }, c.region,
                                    c.reason.map(|r| format!(" ({})", r.as_str())).unwrap_or_default())}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </aside>
    }
}
