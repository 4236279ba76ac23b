//! The cockpit's reads: the status in one answer, and a failover's plan before it is
//! requested (the form's impact, `switchyard failover --dry-run`).
//!
//! Rules kept here:
//! - a plan changes nothing, whichever route asks for it (the POST only carries a whole
//!   request to check, so it needs an operator like the request itself).

use super::extract::{ApiJson, ApiQuery};
use super::Routes;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, Json};
use switchyard_core::api::ApiError;
use switchyard_core::cockpit::{FailoverPlan, StatusResponse};
use switchyard_core::failover::FailoverRequest;
use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(status))
        .routes(routes!(plan))
        .routes(routes!(dry_run))
}

/// What the header, the incident strip and `switchyard status` show.
///
/// The regions with each one's freshness, the headline, the open incident, the failover under
/// way (or the last for an hour after it ended) with its summary and next step, the edge
/// backlog from the edge poll, open alerts by severity.
#[utoipa::path(get, path = "/status", tag = "incidents",
    responses((status = 200, description = "The status now", body = StatusResponse)))]
async fn status(State(engine): State<Engine>) -> Result<Json<StatusResponse>, Error> {
    Ok(Json(engine.status().await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PlanQuery {
    /// The region a failover would move traffic to.
    #[param(format = "aws-region")]
    target: String,
}

/// What a failover to the target would do, said before it is requested (changes nothing).
///
/// The switch, the devices in the source and whether that figure is current, the stragglers'
/// method and estimate, the TTL, the preflight, and why it would be refused now.
#[utoipa::path(get, path = "/failover/plan", operation_id = "failover_plan", tag = "failover", params(PlanQuery),
    responses((status = 200, description = "The plan", body = FailoverPlan),
        (status = 422, description = "Not a configured region, or this fleet cannot move traffic", body = ApiError)))]
async fn plan(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<PlanQuery>,
) -> Result<Json<FailoverPlan>, Error> {
    Ok(Json(engine.failover_plan(&q.target, None).await?))
}

/// A dry run: the plan of this whole request, refused exactly as the request would be
/// (confirmation, reason, preflight); changes nothing.
#[utoipa::path(post, path = "/failovers/plan", operation_id = "failover_dry_run", tag = "failover", request_body = FailoverRequest,
    responses((status = 200, description = "The plan", body = FailoverPlan),
        (status = 422, description = "Not a configured region, or this fleet cannot move traffic", body = ApiError)))]
async fn dry_run(
    State(engine): State<Engine>,
    ApiJson(req): ApiJson<FailoverRequest>,
) -> Result<Json<FailoverPlan>, Error> {
    Ok(Json(engine.failover_plan(&req.target, Some(&req)).await?))
}
