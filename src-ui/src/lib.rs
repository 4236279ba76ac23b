//! Switchyard's UI: Leptos, rendered in the browser (the web build) or in the desktop app's
//! webview. It reaches the engine only through [`api::Api`].
//!
//! Rules kept here:
//! - the header and the incident strip stay on screen (sticky) and keep their height whatever
//!   they say, so nothing they show pushes the page down;
//! - the header's totals are the core's headline: what is known, and what is not, said;
//! - when the console cannot reach its server the whole screen says so, figures are frozen
//!   and greyed, actions are off (`Live::server_lost`), and no region is blamed for it.

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
mod notify;
mod overview;
mod pages;
mod receivers;
mod strip;
mod timers;
mod wall;

use api::{Api, Link};
use leptos::prelude::*;
use std::time::Duration;
use switchyard_core::alerts::Alert;
use switchyard_core::api::{FleetEvent, RegionsResponse};
use switchyard_core::cockpit::{headline, StatusResponse};
use switchyard_core::SourceKind;
use timers::every;

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
    /// The latest `GET /status` answer (`None` before the first, or while the server has no
    /// such route): the incident, the failover and its next step.
    pub status: ReadSignal<Option<StatusResponse>>,
    /// The console has lost its server (the live link down, or its requests failing, for more
    /// than [`SERVER_LOST_AFTER_MS`]): figures are frozen and every action is off.
    pub server_lost: ReadSignal<bool>,
    /// Since when (the server's clock, ms) the link has been down, while it is.
    pub lost_since: Signal<Option<u64>>,
    /// A failover the operator asked to prepare from elsewhere (the strip's button leads to
    /// `#/map?failover=eu-west-1`): the target, for the failover panel to open its form with.
    pub failover_intent: ReadSignal<Option<String>>,
}

/// How long the link may be down before the console says it has lost its server.
pub const SERVER_LOST_AFTER_MS: f64 = 5_000.0;

/// How often the strip's answer is refreshed without any event, and at most how often events
/// refresh it.
const STATUS_EVERY: Duration = Duration::from_secs(15);
/// How long after the first answers the other pages' modules are fetched in the background.
const PREFETCH_PAGES_AFTER: Duration = Duration::from_secs(5);
const STATUS_DEBOUNCE_MS: f64 = 2_000.0;

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
    /// The wallboard: a screen for a TV, no controls.
    Wall,
}

impl Page {
    /// The pages in the navigation (the wallboard is reached by its own link).
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

    /// The page a hash addresses; its query (`#/map?failover=eu-west-1`) does not count.
    fn from_hash(hash: &str) -> Page {
        let path = hash.split('?').next().unwrap_or_default();
        if path == "#/wall" {
            return Page::Wall;
        }
        Self::ALL
            .iter()
            .find(|(_, h, _)| *h == path)
            .map(|(p, _, _)| *p)
            // One incident, `#/incidents/{id}`, is on the incidents page.
            .or_else(|| path.starts_with("#/incidents/").then_some(Page::Incidents))
            .unwrap_or(Page::Map)
    }
}

/// The value of `key` in the hash's query: `#/map?failover=eu-west-1` → `eu-west-1`.
pub fn hash_param(hash: &str, key: &str) -> Option<String> {
    let (_, query) = hash.split_once('?')?;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key && !v.is_empty()).then(|| v.to_string())
    })
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
    let (status, set_status) = signal(None::<StatusResponse>);
    let (link, set_link) = signal(Link::Connecting);
    let (error, set_error) = signal(None::<String>);
    // Offset from the local clock to the server's, learnt from each answer.
    let (offset, set_offset) = signal(0f64);
    let (now, set_now) = signal(local_now() as u64);
    let (page, set_page) = signal(Page::from_hash(&current_hash()));
    let (intent, set_intent) = signal(hash_param(&current_hash(), "failover"));
    // Rule kept here: what the console starts (timers, listeners, the live subscription) it
    // stops when it goes away at sign-out, so nothing reads its disposed signals afterwards.
    let hash_listener = window_event_listener(leptos::ev::hashchange, move |_| {
        let hash = current_hash();
        set_page.set(Page::from_hash(&hash));
        set_intent.set(hash_param(&hash, "failover"));
    });
    on_cleanup(move || hash_listener.remove());
    // The link down since (local ms), and whether that has lasted long enough to say so.
    let (down_since, set_down_since) = signal(None::<f64>);
    let (server_lost, set_server_lost) = signal(false);
    let lost_since = Memo::new(move |_| {
        server_lost
            .get()
            .then(|| {
                down_since
                    .get()
                    .map(|t| (t + offset.get_untracked()) as u64)
            })
            .flatten()
    });

    let accept = move |r: RegionsResponse| {
        set_offset.set(r.server_time as f64 - local_now());
        set_now.set(r.server_time);
        // Events can overtake a slow first answer: never step back to an older version.
        // (An answer that lands after sign-out finds the signal gone: nothing to do.)
        let newer = regions
            .try_with_untracked(|old| old.as_ref().is_none_or(|old| old.version <= r.version));
        if newer == Some(true) {
            set_regions.set(Some(r));
        }
    };
    every(
        move || {
            let lost = down_since
                .get_untracked()
                .is_some_and(|t| local_now() - t > SERVER_LOST_AFTER_MS);
            if lost != server_lost.get_untracked() {
                set_server_lost.set(lost);
            }
            // Frozen while the link is down: ages stop, so no region turns stale on screen
            // because the console, not the region, is cut off.
            if down_since.get_untracked().is_none() {
                set_now.set((local_now() + offset.get_untracked()) as u64);
            }
        },
        Duration::from_secs(1),
    );

    // The strip's answer: on start, every 15 s, and after events (at most once per 2 s).
    let api_sv = StoredValue::new(api.clone());
    let last_status = StoredValue::new(f64::MIN);
    let status_pending = StoredValue::new(false);
    let fetch_status = move || {
        // A debounced fetch may come due after sign-out: the console is gone, nothing to ask.
        let Some(api) = api_sv.try_get_value() else {
            return;
        };
        last_status.set_value(local_now());
        leptos::task::spawn_local(async move {
            match api.status().await {
                Ok(s) => set_status.set(Some(s)),
                // No such route (an older server) or a failed request: the strip falls back
                // to the alerts and the failover events.
                Err(e) => web_sys::console::warn_1(&format!("status: {e}").into()),
            }
        });
    };
    let refresh_status = move || {
        let (Some(last), Some(pending)) =
            (last_status.try_get_value(), status_pending.try_get_value())
        else {
            return;
        };
        let since = local_now() - last;
        if since >= STATUS_DEBOUNCE_MS {
            fetch_status();
        } else if !pending {
            status_pending.set_value(true);
            set_timeout(
                move || {
                    status_pending.set_value(false);
                    fetch_status();
                },
                Duration::from_millis((STATUS_DEBOUNCE_MS - since).max(0.0) as u64),
            );
        }
    };
    fetch_status();
    every(refresh_status, STATUS_EVERY);

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
        // The first view is up: fetch the other pages' modules while nothing else is asked,
        // so they open at once, and still open if the server is lost later.
        set_timeout(pages::prefetch, PREFETCH_PAGES_AFTER);
    });
    let subscription = api.subscribe(
        move |ev| {
            match ev {
                FleetEvent::Regions(r) => {
                    set_error.set(None);
                    accept(r)
                }
                FleetEvent::Alert(a) => set_alerts.update(|list| merge_alert(list, a)),
                FleetEvent::Failover(f) => set_failover_ev.set(Some(*f)),
                FleetEvent::Command(_) => return,
                FleetEvent::Incident(_) => {}
            }
            refresh_status();
        },
        move |l| {
            set_link.set(l);
            match l {
                Link::Live => {
                    set_down_since.set(None);
                    set_server_lost.set(false);
                    // Back: what happened meanwhile.
                    refresh_status();
                }
                Link::Reconnecting if down_since.get_untracked().is_none() => {
                    set_down_since.set(Some(local_now()))
                }
                _ => {}
            }
        },
    );
    let subscription = send_wrapper::SendWrapper::new(subscription);
    on_cleanup(move || subscription.take().close());

    provide_context(Live {
        regions,
        alerts,
        link,
        now,
        error,
        failover: failover_ev,
        status,
        server_lost,
        lost_since: lost_since.into(),
        failover_intent: intent,
    });
    strip::keep_title();
    notify::watch(api.transport_name());
    let transport = api.transport_name();

    let totals = move || {
        regions.get().map(|r| {
            // Only current figures add up; a region whose figures are not is named, with the
            // time of its last good figures.
            let h = headline(r.source, &r.regions, now.get());
            let text = h.text();
            let (known, unknown) = match text.split_once(" · ") {
                Some((k, u)) => (k.to_string(), Some(format!(" · {u}"))),
                None => (text.clone(), None),
            };
            view! {
                <strong class:totals-partial=unknown.is_some()>{known}</strong>
                {unknown.map(|u| view! { <span class="totals-missing">{u}</span> })}
            }
        })
    };

    let header = move || {
        view! {
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
                // The fleet's state and the account: one group at the right end, on the same row
                // (the totals give way first).
                <div class="topbar-status">
                // One row whatever it says (a wrap would move the page): cut short with an
                // ellipsis when the window is narrow, the whole text on hover.
                <span class="totals" data-testid="totals"
                    title=move || regions.get().map(|r| headline(r.source, &r.regions, now.get()).text()).unwrap_or_default()>
                    {totals}
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
                <a class="btn btn-icon btn-glyph" data-testid="wallboard" href="#/wall"
                    title="Wallboard (#/wall): map, regions, incident and edge risk on one screen, for a TV"
                    aria-label="wallboard">
                    "⤢"
                </a>
                </div>
            </header>
        }
    };

    // The shell is rebuilt only when entering or leaving the wallboard, not on every page.
    let is_wall = Memo::new(move |_| page.get() == Page::Wall);
    view! {
        <div class="app" class:offline=move || server_lost.get() class:wall-mode=move || is_wall.get()
            data-testid="app" data-server-lost=move || server_lost.get().to_string()>
            <ServerLost />
            {move || if is_wall.get() {
                pages::lazily(pages::wall)
            } else {
                view! {
                    <div class="chrome" data-testid="chrome">
                        {header}
                        // The strip keeps its height whatever it says; the alert banner and an
                        // error sit inside it or over the page, never pushing it down.
                        <strip::Strip wall=false>
                            <alerts::AlertBanner />
                        </strip::Strip>
                        {move || error.get().map(|e| view! { <div class="banner banner-error chrome-overlay" role="alert">{e}</div> })}
                    </div>
                    <main inert=move || server_lost.get()>
                        {move || match page.get() {
                            Page::Map => view! { <map::MapView /> <failover::FailoverPanel /> <overview::Overview /> }.into_any(),
                            // Every other page is a module of its own, fetched when first
                            // opened (or by the prefetch below, whichever comes first).
                            Page::Devices => pages::lazily(pages::devices),
                            Page::Edge => pages::lazily(pages::edge),
                            Page::Alerts => pages::lazily(pages::alerts),
                            Page::Incidents => pages::lazily(pages::incidents),
                            Page::Commands => pages::lazily(pages::commands),
                            Page::Drills => pages::lazily(pages::drills),
                            Page::Users => pages::lazily(pages::users),
                            Page::Wall => ().into_any(),
                        }}
                    </main>
                }.into_any()
            }}
        </div>
    }
}

/// Over everything while the console has lost its server: since when, and that what is on
/// screen is frozen (not that the regions stopped reporting).
#[component]
fn ServerLost() -> impl IntoView {
    let live = expect_context::<Live>();
    move || {
        live.server_lost.get().then(|| {
            let since = live
                .lost_since
                .get()
                .map(fmt::clock)
                .unwrap_or_else(|| "—".into());
            view! {
                <div class="server-lost" role="alert" data-testid="server-lost">
                    <strong>{format!("Console cannot reach its server since {since}")}</strong>
                    " — figures frozen; actions are off until it is back."
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_with_a_query_addresses_its_page_and_carries_its_parameter() {
        assert_eq!(Page::from_hash("#/map?failover=eu-west-1"), Page::Map);
        assert_eq!(Page::from_hash("#/wall"), Page::Wall);
        assert_eq!(Page::from_hash("#/edge"), Page::Edge);
        assert_eq!(Page::from_hash("#/nowhere"), Page::Map);
        assert_eq!(
            hash_param("#/map?failover=eu-west-1", "failover").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(hash_param("#/map", "failover"), None);
        assert_eq!(hash_param("#/map?failover=", "failover"), None);
    }
}

/// The wasm entry point. (No panic hook: the build makes a panic a trap at once, which the
/// browser logs as "RuntimeError: unreachable", and the E2E tests fail on it.)
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(App);
}
