//! Failover: the overview, a target's readiness, the guarded request, approval and
//! cancellation of a failover, and its stragglers' results and the cancelling of that step.
//!
//! Rules kept here:
//! - a request whose target is already active is answered 200 with
//!   [`NothingToDo`](switchyard_core::api::NothingToDo): a result, not an error;
//! - every state-changing route names its operator (the audit's actor).

use super::extract::{ApiJson, ApiPath, ApiQuery, Operator, OperatorHeader};
use super::Routes;
use crate::engine::{Engine, Requested};
use crate::error::Error;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use switchyard_core::api::{ApiError, NothingToDo};
use switchyard_core::failover::{Failover, FailoverOverview, FailoverRequest, Readiness};
use switchyard_core::moving::{DeviceOutcome, StragglerResults};

use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(overview))
        .routes(routes!(readiness))
        .routes(routes!(request))
        .routes(routes!(failover))
        .routes(routes!(approve))
        .routes(routes!(cancel))
        .routes(routes!(stragglers))
        .routes(routes!(cancel_stragglers))
}

/// The failover panel: the active region, every standby's latest preflight, the
/// recommendation if any, the failover under way and the recent ones.
#[utoipa::path(get, path = "/failover", operation_id = "failover_overview", tag = "failover",
    responses((status = 200, description = "The panel", body = FailoverOverview)))]
async fn overview(State(engine): State<Engine>) -> Result<Json<FailoverOverview>, Error> {
    Ok(Json(engine.failover_overview().await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ReadinessQuery {
    /// The region to fail over to.
    #[param(format = "aws-region")]
    target: String,
}

/// A fresh preflight of a failover from the active region to a target: target health,
/// certificates, topic rules, domain configuration, DNS record, no other failover.
#[utoipa::path(get, path = "/readiness", operation_id = "readiness", tag = "failover", params(ReadinessQuery),
    responses((status = 200, description = "The preflight", body = Readiness),
        (status = 422, description = "Not a configured region, or this fleet cannot move traffic", body = ApiError)))]
async fn readiness(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<ReadinessQuery>,
) -> Result<Json<Readiness>, Error> {
    Ok(Json(engine.readiness(&q.target).await?))
}

/// Request a failover (or failback) to a region (audited). Never started by the console
/// itself.
///
/// 202 with the failover when it starts (or waits for a second operator's approval); 200 with
/// `nothing_to_do` when the target is active already.
#[utoipa::path(post, path = "/failovers", operation_id = "request_failover", tag = "failover", params(OperatorHeader), request_body = FailoverRequest,
    responses((status = 202, description = "Started, or waiting for approval", body = Failover),
        (status = 200, description = "The target is active already: nothing was done", body = NothingToDo),
        (status = 409, description = "Another failover is in progress", body = ApiError),
        (status = 422, description = "Not a configured region, the confirmation does not match, no reason, or the preflight refuses (the error says which check)", body = ApiError),
        (status = 503, description = "The switch cannot be reached now", body = ApiError)))]
async fn request(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<FailoverRequest>,
) -> Result<Response, Error> {
    Ok(match engine.request_failover(req, &op).await? {
        Requested::Started(f) => (StatusCode::ACCEPTED, Json(f)).into_response(),
        Requested::NothingToDo(m) => Json(NothingToDo { nothing_to_do: m }).into_response(),
    })
}

/// One failover: its phase, preflight, the devices back in the target, and its journalled
/// steps.
#[utoipa::path(get, path = "/failovers/{id}", operation_id = "get_failover", tag = "failover",
    params(("id" = String, Path, description = "The failover's id")),
    responses((status = 200, description = "The failover", body = Failover),
        (status = 404, description = "No such failover", body = ApiError)))]
async fn failover(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Failover>, Error> {
    engine
        .failover(&id)
        .await?
        .map(Json)
        .ok_or_else(|| Error::not_found(format!("no failover {id}")))
}

/// Approve a failover waiting under the two-person rule (by another operator than the
/// requester; audited).
#[utoipa::path(post, path = "/failovers/{id}/approve", operation_id = "approve_failover", tag = "failover",
    params(("id" = String, Path, description = "The failover's id"), OperatorHeader),
    responses((status = 200, description = "Approved: it runs", body = Failover),
        (status = 404, description = "No such failover", body = ApiError),
        (status = 409, description = "Another failover is in progress", body = ApiError),
        (status = 422, description = "Not waiting for approval, or approved by its requester", body = ApiError),
        (status = 503, description = "The switch cannot be reached now", body = ApiError)))]
async fn approve(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Failover>, Error> {
    Ok(Json(engine.approve_failover(&id, &op).await?))
}

/// Cancel a failover still waiting for approval (audited); once traffic moved, fail back
/// instead.
#[utoipa::path(post, path = "/failovers/{id}/cancel", operation_id = "cancel_failover", tag = "failover",
    params(("id" = String, Path, description = "The failover's id"), OperatorHeader),
    responses((status = 200, description = "Cancelled", body = Failover),
        (status = 404, description = "No such failover", body = ApiError),
        (status = 422, description = "Past waiting for approval: once traffic moves it cannot be cancelled (fail back instead)", body = ApiError)))]
async fn cancel(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Failover>, Error> {
    Ok(Json(engine.cancel_failover(&id, &op).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct StragglersQuery {
    /// Only the devices that came to this (empty: all).
    #[param(value_type = Option<String>, pattern = "^(|disconnected|already_gone|told|failed)$")]
    outcome: Option<String>,
    /// The first result of the page.
    #[serde(default)]
    #[param(minimum = 0, default = 0)]
    offset: u32,
    /// How many results.
    #[serde(default = "default_limit")]
    #[param(minimum = 1, maximum = 10000, default = 100)]
    limit: u32,
}

fn default_limit() -> u32 {
    100
}

/// The failover's straggler results, newest first: each device still connected to the old
/// region once the TTL had passed, and what moving it came to.
#[utoipa::path(get, path = "/failovers/{id}/stragglers", operation_id = "list_stragglers", tag = "failover",
    params(("id" = String, Path, description = "The failover's id"), StragglersQuery),
    responses((status = 200, description = "The stragglers' step and one page of results", body = StragglerResults),
        (status = 404, description = "No such failover", body = ApiError)))]
async fn stragglers(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StragglersQuery>,
) -> Result<Json<StragglerResults>, Error> {
    let outcome = match q.outcome.as_deref() {
        None | Some("") => None,
        Some(o) => Some(DeviceOutcome::parse(o).ok_or_else(|| {
            Error::malformed(format!(
                "outcome: must be disconnected, already_gone, told or failed, not {o:?}"
            ))
        })?),
    };
    Ok(Json(
        engine
            .straggler_results(&id, outcome, q.offset, q.limit)
            .await?,
    ))
}

/// `POST /api/v1/failovers/{id}/stragglers/cancel`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelStragglers {
    /// Why the stragglers are left where they are, for the audit log.
    #[schema(pattern = "\\S")]
    reason: String,
}

/// Stop moving the stragglers (audited, with a reason): the step ends at its next device and
/// the failover goes on to verify.
#[utoipa::path(post, path = "/failovers/{id}/stragglers/cancel", tag = "failover",
    params(("id" = String, Path, description = "The failover's id"), OperatorHeader),
    request_body = CancelStragglers,
    responses((status = 200, description = "The failover, its stragglers' step ending", body = Failover),
        (status = 404, description = "No such failover", body = ApiError),
        (status = 409, description = "Its stragglers are not being moved", body = ApiError)))]
async fn cancel_stragglers(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CancelStragglers>,
) -> Result<Json<Failover>, Error> {
    if body.reason.trim().is_empty() {
        return Err(Error::invalid(
            "reason: say why the stragglers are left where they are",
        ));
    }
    Ok(Json(
        engine.cancel_stragglers(&id, &op, &body.reason).await?,
    ))
}
