//! The HTTP API (axum): JSON under `/api/v1`, server-sent events, the OpenAPI document, and the
//! built UI from `/`. The only module that knows HTTP. Each resource's routes and handlers are
//! in their own module; this one merges them and puts the layers around them.
//!
//! Rules kept here:
//! - every API route passes the auth guard ([`auth`]); `/healthz` and the UI do not need to;
//!   `/metrics` decides its own access ([`metrics`]: a scraper's token, or a viewer's session);
//! - every answer carries the security headers, and no request body exceeds [`MAX_BODY`];
//! - every refusal is [`ApiError`](switchyard_core::api::ApiError) JSON, an unknown API route
//!   included;
//! - every route is registered through [`Routes`] with `routes!`, so the router and the OpenAPI
//!   document are made from the same registrations; nothing is routed beside them (a test reads
//!   this folder for it), and every documented operation answers (a test sends each one).

mod audit;
mod auth;
pub mod client;
mod cockpit;
mod commands;
mod deliveries;
mod devices;
mod drills;
mod error;
mod extract;
mod failover;
mod fleet;
mod incidents;
mod metrics;
mod openapi;
mod sim;
pub mod tls;
mod ui;

use crate::auth::Auth;
use crate::engine::Engine;
use axum::{
    extract::{FromRef, State},
    http::StatusCode,
    response::{
        sse::{Event, KeepAlive, Sse},
        Response,
    },
    Json, Router,
};
use futures_util::stream::{self, Stream};
use std::{convert::Infallible, time::Duration};
use switchyard_core::api::{FleetEvent, HealthzResponse};
use tokio::sync::broadcast::error::RecvError;

pub use openapi::{openapi_document, ROUTES};

/// What every resource module hands in: its routes with their OpenAPI operations. The only way
/// a route is added, so that the router and the document cannot differ.
pub(super) type Routes = utoipa_axum::router::OpenApiRouter<AppState>;
pub use ui::{Encoded, Ui, UiFile, EMBEDDED};

/// What every handler can reach: the engine and the accounts.
#[derive(Clone)]
pub struct AppState {
    engine: Engine,
    auth: Auth,
}

impl FromRef<AppState> for Engine {
    fn from_ref(s: &AppState) -> Engine {
        s.engine.clone()
    }
}

/// The most a request body may carry: a command's payload (128 KB) as JSON, with room.
pub const MAX_BODY: usize = 256 * 1024;

/// The HTTP surface without logins (`--no-auth`, tests of the other routes).
pub fn router(engine: Engine, ui: Ui) -> Router {
    let auth = Auth::new(
        crate::auth::AuthConfig {
            mode: crate::auth::AuthMode::None,
            ..Default::default()
        },
        engine.store().clone(),
    );
    secured_router(engine, ui, auth)
}

/// Every route, with its operation: the API under `/api/v1` (its routes passed through
/// `guard`, which puts the auth guard around them, or leaves them bare for the document alone),
/// `/healthz` and `/metrics`.
fn surface(guard: impl FnOnce(Routes) -> Routes) -> Routes {
    let api = Routes::new()
        .merge(auth::routes())
        .merge(fleet::routes())
        .merge(devices::routes())
        .routes(utoipa_axum::routes!(events))
        .routes(utoipa_axum::routes!(openapi::serve))
        .merge(sim::routes())
        .merge(failover::routes())
        .merge(audit::routes())
        .merge(commands::routes())
        .merge(drills::routes())
        .merge(incidents::routes())
        .merge(cockpit::routes())
        .merge(deliveries::routes());
    let api = guard(api).fallback(|| async {
        error::error(
            StatusCode::NOT_FOUND,
            "no such API route; see /api/v1/openapi.json",
        )
    });
    Routes::with_openapi(openapi::base())
        .routes(utoipa_axum::routes!(healthz))
        .merge(metrics::routes())
        .nest(switchyard_core::api::API_PREFIX, api)
}

/// Builds the whole HTTP surface. `ui` is where the built UI comes from; `auth`
/// decides who may call what (every API route passes [`auth::guard`]).
pub fn secured_router(engine: Engine, ui: Ui, auth: Auth) -> Router {
    let state = AppState { engine, auth };
    let guarded = state.clone();
    let (app, _) = surface(move |api| {
        api.route_layer(axum::middleware::from_fn_with_state(guarded, auth::guard))
    })
    .split_for_parts();
    // The API's answers compressed for a client that asks (tower-http's default predicate
    // leaves the event stream, images and answers under 32 bytes alone). Inside the UI's
    // fallback: the UI's files are precompressed, each encoding with its own ETag.
    let app = app
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state);
    // Outside the UI's fallback, so that the page and its files carry the headers too.
    ui.serve(app)
        .layer(axum::middleware::from_fn(security_headers))
}

/// Headers on every answer: no sniffing, no framing, no referrer, and a strict
/// Content-Security-Policy (the UI runs its wasm and nothing inline; a handler that sets its
/// own, like the drill report's, keeps it).
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::{header, HeaderValue};
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(UI_CSP),
        );
    }
    r
}

/// The web UI's policy: its own scripts and wasm, its own styles (set through the CSSOM, never
/// inline), images from itself or data URLs, requests to itself. One kind of style attribute is
/// let through, by its exact text (`'unsafe-hashes'`): the one plotters' web font backend puts on
/// the span it measures chart text with, once per font size the UI's charts use
/// (`src-ui/src/charts.rs`; a test recomputes the hashes from it). Without them the browser
/// refuses the span's style and the charts' text is measured in the wrong font.
pub const UI_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self' 'unsafe-hashes' 'sha256-chQg04KvdxnwJbeFBNHIDgBS5CxQuNladn4MNh/z+e4=' \
    'sha256-d/+LTowUWPQH1sikMp9JESpMc+RfqZiQaACYfOfHE6Y=' \
    'sha256-/Bp7HjC2lwUAec40TlqPrMoXkIar3WJsDfMRZGJvJmo=' \
    'sha256-9OSAjGsgHS7hFy630kp0wux6/CN3UkY0BUiagIgNHx4='; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Liveness of the server process.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "The server runs", body = HealthzResponse)))]
async fn healthz() -> Json<HealthzResponse> {
    Json(HealthzResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

fn sse_event(ev: &FleetEvent) -> Event {
    Event::default()
        .event(ev.name())
        .json_data(ev)
        .expect("events serialise")
}

/// Server-sent events carrying state changes.
///
/// The current state first (a `regions` event), then every change: `regions`, `alert`,
/// `failover`, `command`, `incident`, each event's data one JSON object of the `FleetEvent`
/// schema. A client that falls behind is sent the current state again rather than the changes
/// it missed.
#[utoipa::path(get, path = "/events", tag = "fleet",
    responses((status = 200, description = "The stream (never ends while the server runs)",
        content_type = "text/event-stream", body = String)))]
async fn events(
    State(engine): State<Engine>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = engine.subscribe();
    let first = FleetEvent::Regions(engine.regions_response());
    let initial = stream::once(async move { Ok(sse_event(&first)) });
    // The stream ends when the server shuts down, so that a graceful shutdown does not wait
    // for every open console to close its tab.
    let closed = Box::pin(engine.closed());
    let changes = stream::unfold(
        (rx, engine, closed),
        |(mut rx, engine, mut closed)| async move {
            let ev = tokio::select! {
                r = rx.recv() => match r {
                    Ok(ev) => ev,
                    Err(RecvError::Lagged(_)) => FleetEvent::Regions(engine.regions_response()),
                    Err(RecvError::Closed) => return None,
                },
                () = &mut closed => return None,
            };
            Some((Ok(sse_event(&ev)), (rx, engine, closed)))
        },
    );
    Sse::new(futures_util::StreamExt::chain(initial, changes))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
