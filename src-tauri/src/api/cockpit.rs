//! The cockpit's reads: the status in one answer, and a failover's plan before it is
//! requested (the form's impact, `switchyard failover --dry-run`).
//!
//! Rules kept here:
//! - a plan changes nothing, whichever route asks for it (the POST only carries a whole
//!   request to check, so it needs an operator like the request itself).

use super::extract::{ApiJson, ApiQuery};
use super::AppState;
use crate::engine::Engine;
use crate::error::Error;
use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use switchyard_core::cockpit::{FailoverPlan, StatusResponse};
use switchyard_core::failover::FailoverRequest;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(status))
        .route("/failover/plan", get(plan))
        .route("/failovers/plan", post(dry_run))
}

async fn status(State(engine): State<Engine>) -> Result<Json<StatusResponse>, Error> {
    Ok(Json(engine.status().await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanQuery {
    target: String,
}

async fn plan(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<PlanQuery>,
) -> Result<Json<FailoverPlan>, Error> {
    Ok(Json(engine.failover_plan(&q.target, None).await?))
}

async fn dry_run(
    State(engine): State<Engine>,
    ApiJson(req): ApiJson<FailoverRequest>,
) -> Result<Json<FailoverPlan>, Error> {
    Ok(Json(engine.failover_plan(&req.target, Some(&req)).await?))
}
