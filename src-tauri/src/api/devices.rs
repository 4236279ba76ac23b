//! The devices: one filtered page of them, or one by name.

use super::extract::{ApiPath, ApiQuery};
use super::Routes;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, Json};
use switchyard_core::api::ApiError;
use switchyard_core::devices::{DeviceDetail, DevicePage, DeviceQuery};
use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(devices))
        .routes(routes!(device))
}

/// Devices with their connectivity, filtered and paged.
#[utoipa::path(get, path = "/devices", operation_id = "list_devices", tag = "fleet", params(DeviceQuery),
    responses((status = 200, description = "One page of devices", body = DevicePage)))]
async fn devices(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<DeviceQuery>,
) -> Result<Json<DevicePage>, Error> {
    Ok(Json(engine.devices(&q).await?))
}

/// One device by thing name, with its connectivity history.
#[utoipa::path(get, path = "/devices/{id}", operation_id = "get_device", tag = "fleet",
    params(("id" = String, Path, description = "The thing name")),
    responses((status = 200, description = "The device", body = DeviceDetail),
        (status = 404, description = "No device of that name", body = ApiError)))]
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
