//! Alerts out: the receivers with their health and the delivery log, and an administrator's
//! test alert to one receiver.
//!
//! Rules kept here:
//! - a receiver is shown by name, kind, targets and filter: never its secret;
//! - a test alert is sent through the receiver's outbox like a real one (audited as
//!   `receiver.test`) and answered with its log row once the receiver has answered, or as it
//!   stands after the wait.

use super::extract::{ApiPath, ApiQuery, Operator, OperatorHeader};
use super::Routes;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, Json};
use std::time::Duration;
use switchyard_core::api::ApiError;
use switchyard_core::delivery::{DeliveriesResponse, Delivery};
use utoipa_axum::routes;

/// How long a test alert's answer waits for the receiver.
pub const TEST_WAIT: Duration = Duration::from_secs(10);

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(deliveries))
        .routes(routes!(test))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DeliveriesQuery {
    /// How many log rows, newest first.
    #[param(minimum = 1, maximum = 10000, default = 100)]
    limit: Option<u32>,
}

/// Where alerts go: every receiver (`[[alerts.receivers]]`) with its health, and the delivery
/// log, newest first.
///
/// Health: ok, failing with its last error, misconfigured, idle; and what it still has queued.
#[utoipa::path(get, path = "/deliveries", tag = "alerts_out", params(DeliveriesQuery),
    responses((status = 200, description = "The receivers and the log", body = DeliveriesResponse)))]
async fn deliveries(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<DeliveriesResponse>, Error> {
    Ok(Json(engine.deliveries(q.limit.unwrap_or(100)).await?))
}

/// Send a test alert to one receiver through its outbox (audited: receiver.test).
///
/// Answers its log row once the receiver answered, or as it stands (pending) after 10 s.
#[utoipa::path(post, path = "/receivers/{name}/test", operation_id = "test_receiver", tag = "alerts_out",
    params(("name" = String, Path, description = "The receiver's name"), OperatorHeader),
    responses((status = 200, description = "The test's delivery", body = Delivery),
        (status = 404, description = "No receiver of that name", body = ApiError),
        (status = 503, description = "The outbox cannot be written now", body = ApiError)))]
async fn test(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Delivery>, Error> {
    Ok(Json(engine.test_receiver(&name, &op, TEST_WAIT).await?))
}
