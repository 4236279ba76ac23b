//! Switchyard's UI: Leptos, rendered in the browser (the web build) or in the desktop app's
//! webview. It reaches the engine only through [`api::Api`].

pub mod api;
mod overview;

use api::{Api, Link};
use leptos::prelude::*;
use std::time::Duration;
use switchyard_core::api::{FleetEvent, RegionsResponse};
use switchyard_core::SourceKind;

/// What every view reads: the latest regions, the link, and a clock aligned with the server's.
#[derive(Clone, Copy)]
pub struct Live {
    pub regions: ReadSignal<Option<RegionsResponse>>,
    pub link: ReadSignal<Link>,
    /// The server's clock now, in ms; ticks every second so ages move on screen.
    pub now: ReadSignal<u64>,
    pub error: ReadSignal<Option<String>>,
}

fn local_now() -> f64 {
    js_sys::Date::now()
}

#[component]
pub fn App() -> impl IntoView {
    let api = Api::detect();
    let (regions, set_regions) = signal(None::<RegionsResponse>);
    let (link, set_link) = signal(Link::Connecting);
    let (error, set_error) = signal(None::<String>);
    // Offset from the local clock to the server's, learnt from each answer.
    let (offset, set_offset) = signal(0f64);
    let (now, set_now) = signal(local_now() as u64);

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
    });
    api.subscribe(
        move |ev| match ev {
            FleetEvent::Regions(r) => {
                set_error.set(None);
                accept(r)
            }
            // Alerts are listed by the alerts view (not yet built).
            FleetEvent::Alert(_) => {}
        },
        move |l| set_link.set(l),
    );

    let live = Live {
        regions,
        link,
        now,
        error,
    };
    provide_context(live);
    let transport = api.transport_name();

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
            <span class="totals" data-testid="totals">
                {move || regions.get().map(|r| {
                    let online: u64 = r.regions.iter().map(|x| x.online).sum();
                    let offline: u64 = r.regions.iter().map(|x| x.offline).sum();
                    view! { <strong>{overview::thousands(online)}</strong>" online · "{overview::thousands(offline)}" offline" }
                })}
            </span>
            <span class="spacer"></span>
            <span class="link" data-testid="link" data-transport=transport class:link-live=move || link.get() == Link::Live>
                {move || match link.get() {
                    Link::Connecting => "connecting…",
                    Link::Live => "● live",
                    Link::Reconnecting => "○ reconnecting…",
                }}
            </span>
            <span class="version" data-testid="state-version">
                {move || regions.get().map(|r| format!("state v{}", r.version)).unwrap_or_default()}
            </span>
        </header>
        {move || error.get().map(|e| view! { <div class="banner banner-error" role="alert">{e}</div> })}
        <main>
            <overview::Overview />
        </main>
    }
}

/// The wasm entry point.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
