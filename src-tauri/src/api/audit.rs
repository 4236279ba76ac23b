//! The audit log, newest first.

use super::extract::{limit, ApiQuery};
use super::Routes;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, Json};
use switchyard_core::api::{ApiError, AuditLog};
use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new().routes(routes!(audit))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// How many entries, newest first.
    #[param(minimum = 1, maximum = 10000, default = 100)]
    limit: Option<u32>,
}

/// The audit log, newest first: who, when, what, why, and how it ended.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "The entries", body = AuditLog),
        (status = 503, description = "The log cannot be read now; asking again may work", body = ApiError)))]
async fn audit(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditLog>, Error> {
    let limit = limit(q.limit.unwrap_or(100), 10_000)?;
    let entries = engine
        .store()
        .run(move |s| s.audit_recent(limit))
        .await
        // The log could not be read now; reading it again may work (503, as it always was).
        .map_err(|e| Error::unavailable(e.to_string()))?;
    Ok(Json(AuditLog { entries }))
}
