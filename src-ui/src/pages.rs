//! The pages other than the map, each split off into a wasm module of its own that the browser
//! fetches the first time the page opens: the first load carries the shell and the map (with the
//! failover panel), not every page. `cargo xtask ui` does the splitting (wasm-split, after the
//! linker); on native targets, as in this crate's unit tests, a split function is a plain call.
//!
//! Rules kept here:
//! - a page whose module cannot be fetched says so, with a button to try again; it never takes the
//!   console down (the split functions are `fallible`: a failed fetch is an `Err`, not a panic,
//!   and a panic would stop the whole wasm);
//! - once the first view is up, [`prefetch`] fetches every page's module in the background, so a
//!   page opens at once and still opens after the server is lost;
//! - every split function here has its module in `dist/` (`split_NAME.wasm`): `cargo xtask ui`
//!   reads the names from this file and fails when one is missing.

use leptos::prelude::*;
use leptos::wasm_split::{wasm_split, SplitLoaderError};
use send_wrapper::SendWrapper;
use std::future::Future;

/// A page, once its module is here.
type Loaded = Result<AnyView, SplitLoaderError>;

#[wasm_split(page_devices, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_devices))]
pub fn devices() -> Loaded {
    Ok(view! { <crate::devices::DevicesView /> }.into_any())
}

#[wasm_split(page_edge, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_edge))]
pub fn edge() -> Loaded {
    Ok(view! { <crate::edge::EdgeView /> }.into_any())
}

#[wasm_split(page_alerts, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_alerts))]
pub fn alerts() -> Loaded {
    Ok(view! { <crate::alerts::AlertsView /> }.into_any())
}

#[wasm_split(page_incidents, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_incidents))]
pub fn incidents() -> Loaded {
    Ok(view! { <crate::incidents::IncidentsView /> }.into_any())
}

#[wasm_split(page_commands, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_commands))]
pub fn commands() -> Loaded {
    Ok(view! { <crate::commands::CommandsView /> }.into_any())
}

#[wasm_split(page_drills, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_drills))]
pub fn drills() -> Loaded {
    Ok(view! { <crate::drills::DrillsView /> }.into_any())
}

#[wasm_split(page_users, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_users))]
pub fn users() -> Loaded {
    Ok(view! { <crate::auth::UsersView /> }.into_any())
}

#[wasm_split(page_wall, wasm_split_path = ::leptos::wasm_split, fallible, preload(preload_wall))]
pub fn wall() -> Loaded {
    Ok(view! { <crate::wall::Wall /> }.into_any())
}

/// Fetches every page's module, one after another, without showing anything: a failure is
/// left for the page to meet (and say) when it is opened.
pub fn prefetch() {
    leptos::task::spawn_local(async {
        let _ = preload_devices().await;
        let _ = preload_alerts().await;
        let _ = preload_incidents().await;
        let _ = preload_edge().await;
        let _ = preload_commands().await;
        let _ = preload_drills().await;
        let _ = preload_wall().await;
        let _ = preload_users().await;
    });
}

/// The page `load` returns, once its module is here: "Loading…" until then, and if it cannot be
/// fetched, a message that says so and a button that tries again.
pub fn lazily<F, Fut>(load: F) -> AnyView
where
    F: Fn() -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = Loaded> + 'static,
{
    let (attempt, set_attempt) = signal(0u32);
    view! {
        <Suspense fallback=|| view! { <p class="muted page-loading" data-testid="page-loading">"Loading…"</p> }>
            {move || {
                attempt.track();
                // The wasm runs on one thread: the future never leaves it.
                let page = SendWrapper::new(load());
                Suspend::new(async move {
                    match page.await {
                        Ok(view) => view,
                        Err(_) => view! {
                            <div class="banner banner-error" role="alert" data-testid="page-not-loaded">
                                "This page could not be fetched from the server. "
                                <button class="btn" data-testid="page-retry"
                                    on:click=move |_| set_attempt.update(|n| *n += 1)>
                                    "Try again"
                                </button>
                            </div>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
    .into_any()
}
