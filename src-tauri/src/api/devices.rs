//! The devices: one filtered page of them, or one by name.

use super::extract::{ApiPath, ApiQuery};
use super::AppState;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, routing::get, Json, Router};
use switchyard_core::devices::{DeviceDetail, DevicePage, DeviceQuery};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/devices", get(devices))
        .route("/devices/{id}", get(device))
}

async fn devices(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<DeviceQuery>,
) -> Result<Json<DevicePage>, Error> {
    Ok(Json(engine.devices(&q).await?))
}

async fn device(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceDetail>, Error> {
    engine
        .device(&id)
        .await?
        .map(Json)
        .ok_or_else(|| Error::not_found(format!("no device named '{id}'")))
}
