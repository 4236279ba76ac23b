//! Incidents: the list, one with its timeline, its export for the review, notes; and the
//! acknowledging of an alert.
//!
//! Rules kept here:
//! - an acknowledgement and a note name their operator (the audit's actor);
//! - an export is a file to keep: `Content-Disposition: attachment` with the incident's id in
//!   its name.

use super::extract::{ApiJson, ApiPath, ApiQuery, Operator};
use super::AppState;
use crate::engine::{Engine, ExportFormat};
use crate::error::Error;
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use switchyard_core::alerts::Alert;
use switchyard_core::incidents::{
    AckRequest, IncidentDetail, IncidentsResponse, NoteRequest, TimelineEntry,
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(incidents))
        .route("/incidents/{id}", get(incident))
        .route("/incidents/{id}/export", get(export))
        .route("/incidents/{id}/notes", post(note))
        .route("/alerts/{id}/ack", post(ack))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentsQuery {
    limit: Option<u32>,
    /// Open ones only, or all (default).
    open: Option<bool>,
}

async fn incidents(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<IncidentsQuery>,
) -> Result<Json<IncidentsResponse>, Error> {
    Ok(Json(
        engine
            .incidents(q.open.unwrap_or(false), q.limit.unwrap_or(50))
            .await?,
    ))
}

async fn incident(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<IncidentDetail>, Error> {
    Ok(Json(engine.incident(id).await?))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    format: String,
}

async fn export(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, Error> {
    let format = ExportFormat::parse(&q.format)?;
    let (text, content_type) = engine.incident_export(id, format).await?;
    let name = format!(
        "attachment; filename=\"incident-{id}.{}\"",
        match format {
            ExportFormat::Markdown => "md",
            ExportFormat::Json => "json",
        }
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        text,
    )
        .into_response())
}

async fn note(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<(StatusCode, Json<TimelineEntry>), Error> {
    let entry = engine.add_incident_note(id, &req.text, &op).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

async fn ack(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AckRequest>,
) -> Result<Json<Alert>, Error> {
    Ok(Json(engine.ack_alert(id, &req.note, &op).await?))
}
