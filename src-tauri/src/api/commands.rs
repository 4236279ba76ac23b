//! Commands to devices: the catalogue and recent runs, a preview of who would receive one, a
//! run, its results, and its cancellation.

use super::extract::{limit, ApiJson, ApiPath, ApiQuery, Operator, OperatorHeader};
use super::Routes;
use crate::engine::{CommandPreview, Engine};
use crate::error::Error;
use axum::{extract::State, http::StatusCode, Json};
use switchyard_core::api::{ApiError, Cancelling, CommandRunDetail, CommandsOverview};
use switchyard_core::commands::{CommandRequest, CommandRun};
use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(overview, run))
        .routes(routes!(preview))
        .routes(routes!(command_run))
        .routes(routes!(cancel))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    /// How many recent runs, newest first.
    #[param(minimum = 1, maximum = 1000, default = 20)]
    limit: Option<u32>,
}

/// The command catalogue and the recent runs, newest first.
#[utoipa::path(get, path = "/commands", operation_id = "list_commands", tag = "commands", params(LimitQuery),
    responses((status = 200, description = "The catalogue and the runs", body = CommandsOverview)))]
async fn overview(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Json<CommandsOverview>, Error> {
    let limit = limit(q.limit.unwrap_or(20), 1_000)?;
    let runs = engine.command_runs(limit).await?;
    Ok(Json(CommandsOverview {
        catalogue: engine.commands().to_vec(),
        runs,
    }))
}

/// Who would get a command: online devices (publish), offline ones to be shadowed, offline
/// ones skipped (the first 100 with when and why). Sends nothing.
#[utoipa::path(post, path = "/commands/preview", operation_id = "preview_command", tag = "commands", request_body = CommandRequest,
    responses((status = 200, description = "The preview", body = CommandPreview),
        (status = 422, description = "Not a command of the catalogue, a payload its schema refuses, or a bad target", body = ApiError),
        (status = 503, description = "The fleet cannot be asked now", body = ApiError)))]
async fn preview(
    State(engine): State<Engine>,
    ApiJson(req): ApiJson<CommandRequest>,
) -> Result<Json<CommandPreview>, Error> {
    Ok(Json(engine.preview_command(&req).await?))
}

/// Send a command to the online devices of a target (audited).
///
/// Offline devices are skipped, or get the payload as desired shadow state when
/// `offline: shadow` and the command allows it. Past the preview's `confirm_above`, the
/// confirmed device count must be sent.
#[utoipa::path(post, path = "/commands", operation_id = "run_command", tag = "commands", params(OperatorHeader), request_body = CommandRequest,
    responses((status = 202, description = "The run, started", body = CommandRun),
        (status = 409, description = "Another run is sending", body = ApiError),
        (status = 422, description = "Not a command of the catalogue, a payload its schema refuses, a bad target, no reason, or the count not confirmed", body = ApiError),
        (status = 503, description = "The fleet cannot be asked now", body = ApiError)))]
async fn run(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<CommandRequest>,
) -> Result<(StatusCode, Json<CommandRun>), Error> {
    let run = engine.run_command(req, &op).await?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ResultsQuery {
    /// The first result of the page.
    #[param(minimum = 0, default = 0)]
    offset: Option<u64>,
    /// How many results.
    #[param(minimum = 1, maximum = 10000, default = 100)]
    limit: Option<u32>,
}

/// A command run with its tallies and one page of per-device results (sent, shadowed,
/// skipped_offline, failed with the error, cancelled).
#[utoipa::path(get, path = "/commands/{id}", operation_id = "get_command_run", tag = "commands",
    params(("id" = String, Path, description = "The run's id"), ResultsQuery),
    responses((status = 200, description = "The run and the page", body = CommandRunDetail),
        (status = 404, description = "No such run", body = ApiError)))]
async fn command_run(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ResultsQuery>,
) -> Result<Json<CommandRunDetail>, Error> {
    let limit = limit(q.limit.unwrap_or(100), 10_000)?;
    match engine
        .command_run(&id, q.offset.unwrap_or(0), limit)
        .await?
    {
        Some((run, results)) => Ok(Json(CommandRunDetail { run, results })),
        None => Err(Error::not_found(format!("no command run {id}"))),
    }
}

/// Cancel a running command: devices not yet sent to are marked cancelled (audited).
#[utoipa::path(post, path = "/commands/{id}/cancel", operation_id = "cancel_command", tag = "commands",
    params(("id" = String, Path, description = "The run's id"), OperatorHeader),
    responses((status = 200, description = "Cancelling", body = Cancelling),
        (status = 404, description = "No such run", body = ApiError),
        (status = 409, description = "The run has ended", body = ApiError),
        (status = 503, description = "The store cannot be asked now", body = ApiError)))]
async fn cancel(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Cancelling>, Error> {
    engine.cancel_command(&id, &op).await?;
    Ok(Json(Cancelling { cancelling: id }))
}
