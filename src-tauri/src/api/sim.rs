//! The simulated fleet's faults: inject one, or end them all. Audited.

use super::extract::{ApiJson, Operator, OperatorHeader};
use super::Routes;
use crate::engine::Engine;
use crate::error::Error;
use axum::{extract::State, http::StatusCode, Json};
use switchyard_core::api::{ApiError, AuditedResponse, InjectFaultRequest};
use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new().routes(routes!(inject, clear))
}

/// Inject an outage, a degradation or Route 53's control plane failing into the simulated
/// fleet (audited).
#[utoipa::path(post, path = "/sim/faults", operation_id = "inject_fault", tag = "sim", params(OperatorHeader),
    request_body = InjectFaultRequest,
    responses((status = 201, description = "Injected; its audit entry", body = AuditedResponse),
        (status = 422, description = "The fleet is not simulated; not a configured region, a duration out of range, or an empty reason", body = ApiError)))]
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

/// `DELETE /api/v1/sim/faults`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ClearFaults {
    /// Why, for the audit log.
    #[schema(pattern = "\\S")]
    reason: String,
}

/// End every injected fault (audited).
#[utoipa::path(delete, path = "/sim/faults", operation_id = "clear_faults", tag = "sim", params(OperatorHeader),
    request_body = ClearFaults,
    responses((status = 200, description = "Ended; its audit entry", body = AuditedResponse),
        (status = 422, description = "The fleet is not simulated, or an empty reason", body = ApiError)))]
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
