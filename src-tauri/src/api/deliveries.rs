//! Alerts out: the receivers with their health and the delivery log, and an administrator's
//! test alert to one receiver.
//!
//! Rules kept here:
//! - a receiver is shown by name, kind, targets and filter: never its secret;
//! - a test alert is sent through the receiver's outbox like a real one (audited as
//!   `receiver.test`) and answered with its log row once the receiver has answered, or as it
//!   stands after the wait.

use super::extract::{ApiPath, ApiQuery, Operator};
use super::AppState;
use crate::engine::Engine;
use crate::error::Error;
use axum::{
    extract::State,
    routing::{get, post},
    Json, Router,
};
use std::time::Duration;
use switchyard_core::delivery::{DeliveriesResponse, Delivery};

/// How long a test alert's answer waits for the receiver.
pub const TEST_WAIT: Duration = Duration::from_secs(10);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/deliveries", get(deliveries))
        .route("/receivers/{name}/test", post(test))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveriesQuery {
    limit: Option<u32>,
}

async fn deliveries(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<DeliveriesResponse>, Error> {
    Ok(Json(engine.deliveries(q.limit.unwrap_or(100)).await?))
}

async fn test(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Delivery>, Error> {
    Ok(Json(engine.test_receiver(&name, &op, TEST_WAIT).await?))
}
