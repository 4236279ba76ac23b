//! Commands to devices: the catalogue and recent runs, a preview of who would receive one, a
//! run, its results, and its cancellation.

use super::extract::{limit, ApiJson, ApiPath, ApiQuery, Operator};
use super::AppState;
use crate::engine::{CommandPreview, Engine};
use crate::error::Error;
use axum::{
    extract::State,
    http::StatusCode,
    routing::{get, post},
    Json, Router,
};
use switchyard_core::api::{Cancelling, CommandRunDetail, CommandsOverview};
use switchyard_core::commands::{CommandRequest, CommandRun};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/commands", get(overview).post(run))
        .route("/commands/preview", post(preview))
        .route("/commands/{id}", get(command_run))
        .route("/commands/{id}/cancel", post(cancel))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitQuery {
    limit: Option<u32>,
}

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

async fn preview(
    State(engine): State<Engine>,
    ApiJson(req): ApiJson<CommandRequest>,
) -> Result<Json<CommandPreview>, Error> {
    Ok(Json(engine.preview_command(&req).await?))
}

async fn run(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<CommandRequest>,
) -> Result<(StatusCode, Json<CommandRun>), Error> {
    let run = engine.run_command(req, &op).await?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsQuery {
    offset: Option<u64>,
    limit: Option<u32>,
}

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

async fn cancel(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Cancelling>, Error> {
    engine.cancel_command(&id, &op).await?;
    Ok(Json(Cancelling { cancelling: id }))
}
