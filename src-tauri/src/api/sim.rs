//! The simulated fleet's faults: inject one, or end them all. Audited.

use super::extract::{ApiJson, Operator};
use super::AppState;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use switchyard_core::api::{AuditedResponse, InjectFaultRequest};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/sim/faults", post(inject).delete(clear))
}

async fn inject(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<InjectFaultRequest>,
) -> Result<(StatusCode, Json<AuditedResponse>), Error> {
    let what = format!("{} {} in {}", req.fault.kind, "injected", req.fault.region);
    let id = engine.inject_fault(&op, &req.reason, req.fault).await?;
    Ok((
        StatusCode::CREATED,
        Json(AuditedResponse {
            audit_id: id,
            message: what,
        }),
    ))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClearFaults {
    reason: String,
}

async fn clear(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<ClearFaults>,
) -> Result<Json<AuditedResponse>, Error> {
    let (id, n) = engine.clear_faults(&op, &req.reason).await?;
    Ok(Json(AuditedResponse {
        audit_id: id,
        message: format!("{n} fault(s) ended"),
    }))
}
