//! Switchyard's UI: Leptos, rendered in the browser (the web build) or in the desktop app's
//! webview. It reaches the engine only through [`api::Api`].

mod alerts;
pub mod api;
mod auth;
mod charts;
mod commands;
mod devices;
mod drills;
mod edge;
mod failover;
pub mod fmt;
mod incidents;
mod map;
mod moving;
mod overview;

use api::{Api, Link};
use leptos::prelude::*;
use std::time::Duration;
use switchyard_core::alerts::Alert;
use switchyard_core::api::{FleetEvent, RegionsResponse};
use switchyard_core::freshness::{freshness, Freshness};
use switchyard_core::SourceKind;

/// What every view reads: the latest regions, the alerts, the link, and a clock aligned with
/// the server's.
#[derive(Clone, Copy)]
pub struct Live {
    pub regions: ReadSignal<Option<RegionsResponse>>,
    /// Newest first; open and recently cleared.
    pub alerts: ReadSignal<Vec<Alert>>,
    pub link: ReadSignal<Link>,
    /// The server's clock now, in ms; ticks every second so ages move on screen.
    pub now: ReadSignal<u64>,
    pub error: ReadSignal<Option<String>>,
    /// The latest failover event (requested, or moved on).
    pub failover: ReadSignal<Option<switchyard_core::failover::Failover>>,
    /// The console cannot reach its server (actions are disabled). Added minimally by
    /// ui-pages; ui-shell sets it.
    pub server_lost: ReadSignal<bool>,
}

fn local_now() -> f64 {
    js_sys::Date::now()
}

/// The pages, addressed by the URL's hash so that a wallboard can be pointed at one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Page {
    Map,
    Devices,
    Edge,
    Alerts,
    Incidents,
    Commands,
    Drills,
    Users,
}

impl Page {
    const ALL: [(Page, &'static str, &'static str); 8] = [
        (Page::Map, "#/map", "Map"),
        (Page::Devices, "#/devices", "Devices"),
        (Page::Edge, "#/edge", "Edge"),
        (Page::Alerts, "#/alerts", "Alerts"),
        (Page::Incidents, "#/incidents", "Incidents"),
        (Page::Commands, "#/commands", "Commands"),
        (Page::Drills, "#/drills", "Drills"),
        (Page::Users, "#/users", "Users"),
    ];

    fn from_hash(hash: &str) -> Page {
        Self::ALL
            .iter()
            .find(|(_, h, _)| *h == hash)
            .map(|(p, _, _)| *p)
            // One incident, `#/incidents/{id}`, is on the incidents page.
            .or_else(|| hash.starts_with("#/incidents/").then_some(Page::Incidents))
            .unwrap_or(Page::Map)
    }
}

fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

fn merge_alert(list: &mut Vec<Alert>, a: Alert) {
    match list.iter_mut().find(|x| x.id == a.id) {
        Some(x) => *x = a,
        None => list.insert(0, a),
    }
    list.truncate(200);
}

/// Signs in first (unless the server has no logins, or this is the desktop app), then the
/// console.
#[component]
pub fn App() -> impl IntoView {
    let api = Api::detect();
    provide_context(api.clone());
    let session: auth::Session = RwSignal::new(None);
    provide_context(session);
    let (checked, set_checked) = signal(false);
    let (failed, set_failed) = signal(None::<String>);
    leptos::task::spawn_local(async move {
        match api.session().await {
            Ok(s) => session.set(s),
            Err(e) => set_failed.set(Some(e)),
        }
        set_checked.set(true);
    });
    view! {
        {move || match (checked.get(), session.with(Option::is_some), failed.get()) {
            (false, _, _) => view! { <p class="muted">"Connecting…"</p> }.into_any(),
            (_, true, _) => view! { <Console /> }.into_any(),
            (_, false, Some(e)) => view! { <div class="banner banner-error" role="alert">{e}</div> }.into_any(),
            (_, false, None) => view! { <auth::SignIn /> }.into_any(),
        }}
    }
}

#[component]
fn Console() -> impl IntoView {
    let api = expect_context::<Api>();
    let session = expect_context::<auth::Session>();
    let (regions, set_regions) = signal(None::<RegionsResponse>);
    let (alerts, set_alerts) = signal(Vec::<Alert>::new());
    let (failover_ev, set_failover_ev) = signal(None::<switchyard_core::failover::Failover>);
    let (link, set_link) = signal(Link::Connecting);
    let (error, set_error) = signal(None::<String>);
    let (server_lost, _set_server_lost) = signal(false);
    // Offset from the local clock to the server's, learnt from each answer.
    let (offset, set_offset) = signal(0f64);
    let (now, set_now) = signal(local_now() as u64);
    let (page, set_page) = signal(Page::from_hash(&current_hash()));
    let (wallboard, set_wallboard) = signal(false);
    let _ = window_event_listener(leptos::ev::hashchange, move |_| {
        set_page.set(Page::from_hash(&current_hash()))
    });

    let accept = move |r: RegionsResponse| {
        set_offset.set(r.server_time as f64 - local_now());
        set_now.set(r.server_time);
        // Events can overtake a slow first answer: never step back to an older version.
        if regions
            .get_untracked()
            .is_none_or(|old| old.version <= r.version)
        {
            set_regions.set(Some(r));
        }
    };
    set_interval(
        move || set_now.set((local_now() + offset.get_untracked()) as u64),
        Duration::from_secs(1),
    );

    let first = api.clone();
    leptos::task::spawn_local(async move {
        match first.regions().await {
            Ok(r) => {
                set_error.set(None);
                accept(r)
            }
            Err(e) => set_error.set(Some(e)),
        }
        match first.alerts(false, 100).await {
            Ok(a) => set_alerts.update(|list| {
                for alert in a.alerts.into_iter().rev() {
                    merge_alert(list, alert);
                }
            }),
            Err(e) => set_error.set(Some(e)),
        }
    });
    api.subscribe(
        move |ev| match ev {
            FleetEvent::Regions(r) => {
                set_error.set(None);
                accept(r)
            }
            FleetEvent::Alert(a) => set_alerts.update(|list| merge_alert(list, a)),
            FleetEvent::Failover(f) => set_failover_ev.set(Some(*f)),
            FleetEvent::Command(_) | FleetEvent::Incident(_) => {}
        },
        move |l| set_link.set(l),
    );

    provide_context(Live {
        regions,
        alerts,
        link,
        now,
        error,
        failover: failover_ev,
        server_lost,
    });
    let transport = api.transport_name();
    let toggle_wallboard = move |_| {
        let on = !wallboard.get_untracked();
        set_wallboard.set(on);
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            if on {
                if let Some(el) = doc.document_element() {
                    let _ = el.request_fullscreen();
                }
            } else if doc.fullscreen_element().is_some() {
                doc.exit_fullscreen();
            }
        }
    };

    view! {
        <div class="app" class:wallboard=move || wallboard.get()>
            <header class="topbar">
                <h1 class="brand">"Switchyard"</h1>
                {move || {
                    regions.get().map(|r| match r.source {
                        SourceKind::Simulated => view! {
                            <span class="badge badge-sim" data-testid="source" title="Figures come from the built-in simulated fleet, not from AWS">
                                "SIMULATED FLEET"
                            </span>
                        }.into_any(),
                        SourceKind::Aws => view! { <span class="badge" data-testid="source">"AWS"</span> }.into_any(),
                    })
                }}
                <nav class="tabs">
                    {move || {
                        let admin = session.with(|s| s.as_ref().is_some_and(|s| s.role == switchyard_core::auth::Role::Admin && s.mode != "none"));
                        Page::ALL.iter().filter(|(p, _, _)| *p != Page::Users || admin).map(|(p, href, label)| {
                            let p = *p;
                            view! { <a href=*href class:current=move || page.get() == p data-testid=format!("nav-{}", label.to_lowercase())>{*label}</a> }
                        }).collect_view()
                    }}
                </nav>
                // The fleet's state and the account: one group at the right end, which moves to
                // a second row as a whole (still at the right) when the window is too narrow.
                <div class="topbar-status">
                <span class="totals" data-testid="totals">
                    {move || regions.get().map(|r| {
                        // Only current figures add up; a region whose figures are stale is named instead.
                        let now = now.get();
                        let current = |x: &&switchyard_core::RegionSummary| {
                            freshness(x.observed_at, now, x.poll_interval_ms) == Freshness::Fresh
                                && x.health.status != switchyard_core::HealthStatus::Unreachable
                        };
                        let (online, offline) = switchyard_core::fleet_totals(r.source, r.regions.iter().filter(current));
                        let missing = r.regions.iter().filter(|x| !current(x)).count();
                        view! {
                            <strong>{fmt::thousands(online)}</strong>" online · "{fmt::thousands(offline)}" offline"
                            {(missing > 0).then(|| view! {
                                <span class="totals-missing">{format!(" · {missing} region{} not reporting", if missing == 1 { "" } else { "s" })}</span>
                            })}
                        }
                    })}
                </span>
                <span class="link" data-testid="link" data-transport=transport class:link-live=move || link.get() == Link::Live
                    data-version=move || regions.get().map(|r| r.version.to_string()).unwrap_or_default()
                    title=move || regions.get().map(|r| format!("fleet state version {}", r.version)).unwrap_or_default()>
                    {move || match link.get() {
                        Link::Connecting => "connecting…",
                        Link::Live => "● live",
                        Link::Reconnecting => "○ reconnecting…",
                    }}
                </span>

                <auth::WhoAmI />
                <button class="btn btn-icon btn-glyph" data-testid="wallboard" on:click=toggle_wallboard
                    title=move || if wallboard.get() { "Leave the wallboard" } else { "Wallboard: full screen, larger type" }
                    aria-label=move || if wallboard.get() { "exit wallboard" } else { "wallboard" }>
                    // An icon, so the bar keeps to one row at 1,280 px with an account shown.
                    {move || if wallboard.get() { "⤡" } else { "⤢" }}
                </button>
                </div>
            </header>
            {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert">{e}</div> })}
            <alerts::AlertBanner />
            <main>
                {move || match page.get() {
                    Page::Map => view! { <map::MapView /> <failover::FailoverPanel /> <overview::Overview /> }.into_any(),
                    Page::Devices => view! { <devices::DevicesView /> }.into_any(),
                    Page::Edge => view! { <edge::EdgeView /> }.into_any(),
                    Page::Alerts => view! { <alerts::AlertsView /> }.into_any(),
                    Page::Incidents => view! { <incidents::IncidentsView /> }.into_any(),
                    Page::Commands => view! { <commands::CommandsView /> }.into_any(),
                    Page::Drills => view! { <drills::DrillsView /> }.into_any(),
                    Page::Users => view! { <auth::UsersView /> }.into_any(),
                }}
            </main>
        </div>
    }
}

/// The wasm entry point.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
