//! The fleet's figures: the regions, a region's stored history, the edge gateways and the
//! alerts.

use super::extract::{ApiPath, ApiQuery};
use super::AppState;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, routing::get, Json, Router};
use switchyard_core::alerts::AlertsResponse;
use switchyard_core::api::{RegionHistory, RegionsResponse};
use switchyard_core::edge::GatewaysResponse;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/regions", get(regions))
        .route("/regions/{id}/history", get(history))
        .route("/edge/gateways", get(gateways))
        .route("/alerts", get(alerts))
}

async fn regions(State(engine): State<Engine>) -> Json<RegionsResponse> {
    Json(engine.regions_response())
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
) -> Result<Json<RegionHistory>, Error> {
    Ok(Json(engine.history(&id, q.minutes.unwrap_or(60)).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct GatewaysQuery {
    limit: Option<u32>,
}

async fn gateways(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<GatewaysQuery>,
) -> Result<Json<GatewaysResponse>, Error> {
    Ok(Json(engine.gateways(q.limit.unwrap_or(100))?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertsQuery {
    limit: Option<u32>,
    /// Open ones only (default) or all.
    open: Option<bool>,
}

async fn alerts(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<AlertsQuery>,
) -> Result<Json<AlertsResponse>, Error> {
    let a = engine
        .alerts(q.open.unwrap_or(true), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(a))
}
