//! The HTTP API (axum): JSON under `/api/v1`, server-sent events, the OpenAPI document, and the
//! built UI from `/`. The only module that knows HTTP.

mod auth;
pub mod client;
mod openapi;
pub mod tls;
mod ui;

use crate::auth::Auth;
use crate::engine::drills::DrillError;
use crate::engine::{ActionError, CommandError, Engine, FailoverError, QueryError};
use axum::{
    extract::{
        rejection::{JsonRejection, QueryRejection},
        FromRef, FromRequest, FromRequestParts, Path, Query, State,
    },
    http::request::Parts,
    http::StatusCode,
    response::{
        sse::{Event, KeepAlive, Sse},
        IntoResponse, Response,
    },
    routing::{get, post},
    Json, Router,
};
use futures_util::stream::{self, Stream};
use serde::de::DeserializeOwned;
use std::{convert::Infallible, time::Duration};
use switchyard_core::api::{
    ApiError, AuditedResponse, FleetEvent, HealthzResponse, InjectFaultRequest,
};
use switchyard_core::devices::DeviceQuery;
use tokio::sync::broadcast::error::RecvError;

pub use openapi::{openapi_document, ROUTES};
pub use ui::{Ui, UiFile, EMBEDDED};

/// Until accounts exist (see the roles issue), actions are audited under this name.
const ANONYMOUS: &str = "anonymous (no login configured)";

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

/// Builds the whole HTTP surface. `ui` is where the built UI comes from; `auth`
/// decides who may call what (every API route passes [`auth::guard`]).
pub fn secured_router(engine: Engine, ui: Ui, auth: Auth) -> Router {
    let state = AppState { engine, auth };
    let api = Router::new()
        .route(
            "/session",
            get(auth::session).post(auth::login).delete(auth::logout),
        )
        .route("/setup", get(auth::setup_status).post(auth::setup))
        .route("/users", get(auth::users).post(auth::add_user))
        .route("/regions", get(regions))
        .route("/regions/{id}/history", get(history))
        .route("/devices", get(devices))
        .route("/devices/{id}", get(device))
        .route("/edge/gateways", get(gateways))
        .route("/alerts", get(alerts))
        .route("/events", get(events))
        .route("/openapi.json", get(|| async { Json(openapi_document()) }))
        .route("/sim/faults", post(inject_fault).delete(clear_faults))
        .route("/failover", get(failover_overview))
        .route("/readiness", get(readiness))
        .route("/failovers", post(request_failover))
        .route("/failovers/{id}", get(failover))
        .route("/failovers/{id}/approve", post(approve_failover))
        .route("/failovers/{id}/cancel", post(cancel_failover))
        .route("/audit", get(audit))
        .route("/commands", get(commands).post(run_command))
        .route("/commands/preview", post(preview_command))
        .route("/commands/{id}", get(command_run))
        .route("/commands/{id}/cancel", post(cancel_command))
        .route("/drills", get(drills).post(start_drill))
        .route("/drills/compare", get(compare_drills))
        .route("/drills/{id}", get(drill))
        .route("/drills/{id}/report.html", get(drill_report))
        .route("/drills/{id}/charts/{file}", get(drill_chart))
        .route("/drills/{id}/notes", post(drill_notes))
        .route("/drills/{id}/abort", post(abort_drill))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such API route; see /api/v1/openapi.json",
            )
        });
    let app = Router::new()
        .route("/healthz", get(healthz))
        .nest(switchyard_core::api::API_PREFIX, api)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state);
    ui.serve(app)
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
/// inline), images from itself or data URLs, requests to itself.
pub const UI_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(ApiError { error: msg.into() })).into_response()
}

fn action_error(e: ActionError) -> Response {
    match e {
        ActionError::Rejected(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        ActionError::Failed(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
    }
}

fn query_error(e: QueryError) -> Response {
    match e {
        QueryError::Invalid(m) => error(StatusCode::BAD_REQUEST, m),
        QueryError::Unavailable(m) => error(StatusCode::SERVICE_UNAVAILABLE, m),
    }
}

fn failover_error(e: FailoverError) -> Response {
    match e {
        FailoverError::Rejected(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        FailoverError::Conflict(m) => error(StatusCode::CONFLICT, m),
        FailoverError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        FailoverError::Failed(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
        FailoverError::NothingToDo(m) => (
            StatusCode::OK,
            Json(serde_json::json!({ "nothing_to_do": m })),
        )
            .into_response(),
    }
}

/// The operator an action is audited under: the `X-Switchyard-Operator` header until logins
/// exist (see the roles issue), else anonymous. A malformed name is refused (400).
struct Operator(String);

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        // Signed in: the account, whatever the headers say.
        if let Some(id) = parts.extensions.get::<crate::auth::Identity>() {
            return Ok(Operator(id.username.clone()));
        }
        match parts.headers.get("x-switchyard-operator") {
            None => Ok(Operator(ANONYMOUS.to_string())),
            Some(v) => {
                let name = v.to_str().unwrap_or("").trim();
                let ok = !name.is_empty()
                    && name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_alphanumeric() || " ._@-:".contains(c));
                if ok {
                    Ok(Operator(name.to_string()))
                } else {
                    Err(error(
                        StatusCode::BAD_REQUEST,
                        "X-Switchyard-Operator: 1 to 64 letters, digits, spaces or . _ @ - :",
                    ))
                }
            }
        }
    }
}

async fn failover_overview(State(engine): State<Engine>) -> Response {
    match engine.failover_overview().await {
        Ok(o) => Json(o).into_response(),
        Err(e) => query_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadinessQuery {
    target: String,
}

async fn readiness(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<ReadinessQuery>,
) -> Response {
    match engine.readiness(&q.target).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => query_error(e),
    }
}

async fn request_failover(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<switchyard_core::failover::FailoverRequest>,
) -> Response {
    match engine.request_failover(req, &op).await {
        Ok(f) => (StatusCode::ACCEPTED, Json(f)).into_response(),
        Err(e) => failover_error(e),
    }
}

async fn failover(State(engine): State<Engine>, ApiPath(id): ApiPath<String>) -> Response {
    match engine.failover(&id).await {
        Ok(Some(f)) => Json(f).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no failover {id}")),
        Err(e) => query_error(e),
    }
}

async fn approve_failover(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Response {
    match engine.approve_failover(&id, &op).await {
        Ok(f) => Json(f).into_response(),
        Err(e) => failover_error(e),
    }
}

async fn cancel_failover(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Response {
    match engine.cancel_failover(&id, &op).await {
        Ok(f) => Json(f).into_response(),
        Err(e) => failover_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<u32>,
}

async fn audit(State(engine): State<Engine>, ApiQuery(q): ApiQuery<AuditQuery>) -> Response {
    let limit = q.limit.unwrap_or(100);
    if !(1..=10_000).contains(&limit) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("limit: must be between 1 and 10000, not {limit}"),
        );
    }
    match engine.store().run(move |s| s.audit_recent(limit)).await {
        Ok(entries) => Json(serde_json::json!({ "entries": entries })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.0),
    }
}

fn command_error(e: CommandError) -> Response {
    match e {
        CommandError::Invalid(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        CommandError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        CommandError::Unavailable(m) => error(StatusCode::SERVICE_UNAVAILABLE, m),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<u32>,
}

async fn commands(State(engine): State<Engine>, ApiQuery(q): ApiQuery<LimitQuery>) -> Response {
    let limit = q.limit.unwrap_or(20);
    if !(1..=1_000).contains(&limit) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("limit: must be between 1 and 1000, not {limit}"),
        );
    }
    match engine.command_runs(limit).await {
        Ok(runs) => Json(serde_json::json!({
            "catalogue": engine.commands(),
            "runs": runs,
        }))
        .into_response(),
        Err(e) => command_error(e),
    }
}

async fn preview_command(
    State(engine): State<Engine>,
    ApiJson(req): ApiJson<switchyard_core::commands::CommandRequest>,
) -> Response {
    match engine.preview_command(&req).await {
        Ok(p) => Json(p).into_response(),
        Err(e) => command_error(e),
    }
}

async fn run_command(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<switchyard_core::commands::CommandRequest>,
) -> Response {
    match engine.run_command(req, &op).await {
        Ok(run) => (StatusCode::ACCEPTED, Json(run)).into_response(),
        Err(e) => command_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsQuery {
    offset: Option<u64>,
    limit: Option<u32>,
}

async fn command_run(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ResultsQuery>,
) -> Response {
    let limit = q.limit.unwrap_or(100);
    if !(1..=10_000).contains(&limit) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("limit: must be between 1 and 10000, not {limit}"),
        );
    }
    match engine.command_run(&id, q.offset.unwrap_or(0), limit).await {
        Ok(Some((run, results))) => {
            Json(serde_json::json!({ "run": run, "results": results })).into_response()
        }
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no command run {id}")),
        Err(e) => command_error(e),
    }
}

async fn cancel_command(State(engine): State<Engine>, ApiPath(id): ApiPath<String>) -> Response {
    match engine.cancel_command(&id) {
        Ok(()) => Json(serde_json::json!({ "cancelling": id })).into_response(),
        Err(e) => command_error(e),
    }
}

fn drill_error(e: DrillError) -> Response {
    match e {
        DrillError::Invalid(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        DrillError::Conflict(m) => error(StatusCode::CONFLICT, m),
        DrillError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        DrillError::Failed(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
    }
}

async fn drills(State(engine): State<Engine>) -> Response {
    match engine.drills().await {
        Ok(d) => Json(d).into_response(),
        Err(e) => drill_error(e),
    }
}

async fn start_drill(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<switchyard_core::drills::DrillRequest>,
) -> Response {
    match engine.start_drill(req.scenario, &op).await {
        Ok(d) => (StatusCode::ACCEPTED, Json(d)).into_response(),
        Err(e) => drill_error(e),
    }
}

/// The drill, or the response to send when there is none.
async fn find_drill(engine: &Engine, id: &str) -> Result<switchyard_core::drills::Drill, Response> {
    match engine.drill(id).await {
        Ok(Some(d)) => Ok(d),
        Ok(None) => Err(error(StatusCode::NOT_FOUND, format!("no drill {id}"))),
        Err(e) => Err(drill_error(e)),
    }
}

async fn drill(State(engine): State<Engine>, ApiPath(id): ApiPath<String>) -> Response {
    match find_drill(&engine, &id).await {
        Ok(d) => Json(d).into_response(),
        Err(r) => r,
    }
}

async fn drill_report(State(engine): State<Engine>, ApiPath(id): ApiPath<String>) -> Response {
    let d = match find_drill(&engine, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match tokio::task::spawn_blocking(move || crate::report::html(&d)).await {
        Ok(Ok(html)) => (
            [
                (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
                // A document to read and keep: its own inline styles and SVG, nothing else.
                (
                    axum::http::header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                ),
            ],
            html,
        )
            .into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn drill_chart(
    State(engine): State<Engine>,
    ApiPath((id, file)): ApiPath<(String, String)>,
) -> Response {
    let Some((name, ext)) = file.rsplit_once('.') else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no chart {file}: name it CHART.svg or CHART.png"),
        );
    };
    let Some(chart) = crate::report::Chart::parse(name) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no chart {name}: reconnection, backlog or timeline"),
        );
    };
    if ext != "svg" && ext != "png" {
        return error(
            StatusCode::NOT_FOUND,
            format!("charts are .svg or .png, not .{ext}"),
        );
    }
    let d = match find_drill(&engine, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let png = ext == "png";
    let drawn = tokio::task::spawn_blocking(move || {
        if png {
            crate::report::png(&d, chart)
        } else {
            crate::report::svg(&d, chart).map(String::into_bytes)
        }
    })
    .await;
    match drawn {
        Ok(Ok(bytes)) => (
            [(
                axum::http::header::CONTENT_TYPE,
                if png { "image/png" } else { "image/svg+xml" },
            )],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn drill_notes(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
    ApiJson(notes): ApiJson<switchyard_core::drills::DrillNotes>,
) -> Response {
    match engine.set_drill_notes(&id, notes, &op).await {
        Ok(()) => match find_drill(&engine, &id).await {
            Ok(d) => Json(d).into_response(),
            Err(r) => r,
        },
        Err(e) => drill_error(e),
    }
}

async fn abort_drill(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Response {
    match engine.abort_drill(&id, &op).await {
        Ok(()) => Json(serde_json::json!({ "message": format!("drill {id} is stopping") }))
            .into_response(),
        Err(e) => drill_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareQuery {
    a: String,
    b: String,
}

async fn compare_drills(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> Response {
    let mut both = Vec::new();
    for id in [&q.a, &q.b] {
        match find_drill(&engine, id).await {
            Ok(d) => both.push(d),
            Err(r) => return r,
        }
    }
    let (b, a) = (both.pop().unwrap(), both.pop().unwrap());
    let (Some(ma), Some(mb)) = (&a.metrics, &b.metrics) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "both drills must have ended with measures to be compared",
        );
    };
    Json(switchyard_core::drills::Comparison {
        rows: switchyard_core::drills::compare(ma, mb),
        a: a.summary,
        b: b.summary,
    })
    .into_response()
}

/// `Query<T>` whose rejection is the API's JSON error, naming the parameter (400).
struct ApiQuery<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| error(StatusCode::BAD_REQUEST, e.body_text()))
    }
}

/// `Path<T>` whose rejection (a segment that is not UTF-8 once decoded, or not the type) is the
/// API's JSON error (400), like every other refusal.
struct ApiPath<T>(T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| error(e.status(), e.body_text()))
    }
}

/// `Json<T>` whose rejection is the API's JSON error (400, 415 or 422 as axum decides).
struct ApiJson<T>(T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(|e: JsonRejection| error(e.status(), e.body_text()))
    }
}

async fn devices(State(engine): State<Engine>, ApiQuery(q): ApiQuery<DeviceQuery>) -> Response {
    match engine.devices(&q).await {
        Ok(page) => Json(page).into_response(),
        Err(e) => query_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    minutes: Option<u32>,
}

async fn history(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Response {
    match engine.history(&id, q.minutes.unwrap_or(60)).await {
        Ok(h) => Json(h).into_response(),
        Err(QueryError::Invalid(m)) if m.ends_with("is not configured") => {
            error(StatusCode::NOT_FOUND, m)
        }
        Err(e) => query_error(e),
    }
}

async fn device(State(engine): State<Engine>, ApiPath(id): ApiPath<String>) -> Response {
    match engine.device(&id).await {
        Ok(Some(d)) => Json(d).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no device named '{id}'")),
        Err(e) => query_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewaysQuery {
    limit: Option<u32>,
}

async fn gateways(State(engine): State<Engine>, ApiQuery(q): ApiQuery<GatewaysQuery>) -> Response {
    match engine.gateways(q.limit.unwrap_or(100)) {
        Ok(g) => Json(g).into_response(),
        Err(e) => query_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertsQuery {
    limit: Option<u32>,
    /// Open ones only (default) or all.
    open: Option<bool>,
}

async fn alerts(State(engine): State<Engine>, ApiQuery(q): ApiQuery<AlertsQuery>) -> Response {
    match engine
        .alerts(q.open.unwrap_or(true), q.limit.unwrap_or(100))
        .await
    {
        Ok(a) => Json(a).into_response(),
        Err(e) => query_error(e),
    }
}

async fn healthz() -> Json<HealthzResponse> {
    Json(HealthzResponse {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

async fn regions(State(engine): State<Engine>) -> Response {
    Json(engine.regions_response()).into_response()
}

fn sse_event(ev: &FleetEvent) -> Event {
    Event::default()
        .event(ev.name())
        .json_data(ev)
        .expect("events serialise")
}

/// The current state first, then every change. A client that falls behind is sent the current
/// state again rather than the changes it missed.
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

async fn inject_fault(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<InjectFaultRequest>,
) -> Response {
    let what = format!("{} {} in {}", req.fault.kind, "injected", req.fault.region);
    match engine.inject_fault(&op, &req.reason, req.fault).await {
        Ok(id) => (
            StatusCode::CREATED,
            Json(AuditedResponse {
                audit_id: id,
                message: what,
            }),
        )
            .into_response(),
        Err(e) => action_error(e),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClearFaults {
    reason: String,
}

async fn clear_faults(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<ClearFaults>,
) -> Response {
    match engine.clear_faults(&op, &req.reason).await {
        Ok((id, n)) => Json(AuditedResponse {
            audit_id: id,
            message: format!("{n} fault(s) ended"),
        })
        .into_response(),
        Err(e) => action_error(e),
    }
}

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
