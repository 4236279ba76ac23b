//! Failover: the overview, a target's readiness, the guarded request, approval and
//! cancellation of a failover, and its stragglers' results and the cancelling of that step.
//!
//! Rules kept here:
//! - a request whose target is already active is answered 200 with
//!   [`NothingToDo`](switchyard_core::api::NothingToDo): a result, not an error;
//! - every state-changing route names its operator (the audit's actor).

use super::extract::{ApiJson, ApiPath, ApiQuery, Operator};
use super::AppState;
use crate::engine::{Engine, Requested};
use crate::error::Error;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use switchyard_core::api::NothingToDo;
use switchyard_core::failover::{Failover, FailoverOverview, FailoverRequest, Readiness};
use switchyard_core::moving::{DeviceOutcome, StragglerResults};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/failover", get(overview))
        .route("/readiness", get(readiness))
        .route("/failovers", post(request))
        .route("/failovers/{id}", get(failover))
        .route("/failovers/{id}/approve", post(approve))
        .route("/failovers/{id}/cancel", post(cancel))
        .route("/failovers/{id}/stragglers", get(stragglers))
        .route("/failovers/{id}/stragglers/cancel", post(cancel_stragglers))
}

async fn overview(State(engine): State<Engine>) -> Result<Json<FailoverOverview>, Error> {
    Ok(Json(engine.failover_overview().await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadinessQuery {
    target: String,
}

async fn readiness(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<ReadinessQuery>,
) -> Result<Json<Readiness>, Error> {
    Ok(Json(engine.readiness(&q.target).await?))
}

async fn request(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<FailoverRequest>,
) -> Result<Response, Error> {
    Ok(match engine.request_failover(req, &op).await? {
        Requested::Started(f) => (StatusCode::ACCEPTED, Json(f)).into_response(),
        Requested::NothingToDo(m) => Json(NothingToDo { nothing_to_do: m }).into_response(),
    })
}

async fn failover(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Failover>, Error> {
    engine
        .failover(&id)
        .await?
        .map(Json)
        .ok_or_else(|| Error::not_found(format!("no failover {id}")))
}

async fn approve(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Failover>, Error> {
    Ok(Json(engine.approve_failover(&id, &op).await?))
}

async fn cancel(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Failover>, Error> {
    Ok(Json(engine.cancel_failover(&id, &op).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StragglersQuery {
    outcome: Option<String>,
    #[serde(default)]
    offset: u32,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    100
}

async fn stragglers(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StragglersQuery>,
) -> Result<Json<StragglerResults>, Error> {
    let outcome = match q.outcome.as_deref() {
        None | Some("") => None,
        Some(o) => Some(DeviceOutcome::parse(o).ok_or_else(|| {
            Error::malformed(format!(
                "outcome: must be disconnected, already_gone, told or failed, not {o:?}"
            ))
        })?),
    };
    Ok(Json(
        engine
            .straggler_results(&id, outcome, q.offset, q.limit)
            .await?,
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelStragglers {
    reason: String,
}

async fn cancel_stragglers(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CancelStragglers>,
) -> Result<Json<Failover>, Error> {
    if body.reason.trim().is_empty() {
        return Err(Error::invalid(
            "reason: say why the stragglers are left where they are",
        ));
    }
    Ok(Json(
        engine.cancel_stragglers(&id, &op, &body.reason).await?,
    ))
}
