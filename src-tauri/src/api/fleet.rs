//! The fleet's figures: the regions, a region's stored history, the edge gateways and the
//! alerts.

use super::extract::{ApiPath, ApiQuery};
use super::Routes;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, Json};
use switchyard_core::alerts::AlertsResponse;
use switchyard_core::api::{ApiError, RegionHistory, RegionsResponse};
use switchyard_core::edge::GatewaysResponse;
use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(regions))
        .routes(routes!(history))
        .routes(routes!(gateways))
        .routes(routes!(alerts))
}

/// Every configured region: role, health, online/offline devices, edge backlog, data age.
#[utoipa::path(get, path = "/regions", tag = "fleet",
    responses((status = 200, description = "The regions now", body = RegionsResponse)))]
async fn regions(State(engine): State<Engine>) -> Json<RegionsResponse> {
    Json(engine.regions_response())
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// How far back, in minutes.
    #[param(minimum = 1, maximum = 10080, default = 60)]
    minutes: Option<u32>,
}

/// A region's stored samples (online, offline, connection attempts and errors, backlog,
/// health), oldest first.
#[utoipa::path(get, path = "/regions/{id}/history", operation_id = "region_history", tag = "fleet",
    params(("id" = String, Path, description = "A configured region's code"), HistoryQuery),
    responses((status = 200, description = "The samples", body = RegionHistory),
        (status = 404, description = "Not a configured region", body = ApiError)))]
async fn history(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<RegionHistory>, Error> {
    Ok(Json(engine.history(&id, q.minutes.unwrap_or(60)).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct GatewaysQuery {
    /// How many gateways, riskiest first.
    #[param(minimum = 1, maximum = 10000, default = 100)]
    limit: Option<u32>,
}

/// Edge gateways, riskiest first: backlog, growth or drain rate, time to overflow and to drain,
/// drops; fleet totals.
#[utoipa::path(get, path = "/edge/gateways", operation_id = "edge_gateways", tag = "fleet", params(GatewaysQuery),
    responses((status = 200, description = "The gateways", body = GatewaysResponse)))]
async fn gateways(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<GatewaysQuery>,
) -> Result<Json<GatewaysResponse>, Error> {
    Ok(Json(engine.gateways(q.limit.unwrap_or(100))?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AlertsQuery {
    /// How many, newest first.
    #[param(minimum = 1, maximum = 10000, default = 100)]
    limit: Option<u32>,
    /// Open ones only (default) or all.
    #[param(default = true)]
    open: Option<bool>,
}

/// Alerts, newest first: region degraded or unreachable, backlog near capacity, drops started.
#[utoipa::path(get, path = "/alerts", operation_id = "list_alerts", tag = "fleet", params(AlertsQuery),
    responses((status = 200, description = "The alerts", body = AlertsResponse)))]
async fn alerts(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<AlertsQuery>,
) -> Result<Json<AlertsResponse>, Error> {
    let a = engine
        .alerts(q.open.unwrap_or(true), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(a))
}
