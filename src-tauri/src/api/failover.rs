//! Failover: the overview, a target's readiness, and the guarded request, approval and
//! cancellation of a failover.
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

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/failover", get(overview))
        .route("/readiness", get(readiness))
        .route("/failovers", post(request))
        .route("/failovers/{id}", get(failover))
        .route("/failovers/{id}/approve", post(approve))
        .route("/failovers/{id}/cancel", post(cancel))
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
