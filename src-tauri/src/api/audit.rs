//! The audit log, newest first.

use super::extract::{limit, ApiQuery};
use super::AppState;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, routing::get, Json, Router};
use switchyard_core::api::AuditLog;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/audit", get(audit))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    limit: Option<u32>,
}

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
