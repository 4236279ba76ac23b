//! Incidents: the list, one with its timeline, its export for the review, notes; and the
//! acknowledging of an alert.
//!
//! Rules kept here:
//! - an acknowledgement and a note name their operator (the audit's actor);
//! - an export is a file to keep: `Content-Disposition: attachment` with the incident's id in
//!   its name.

use super::extract::{ApiJson, ApiPath, ApiQuery, Operator, OperatorHeader};
use super::Routes;
use crate::engine::{Engine, ExportFormat};
use crate::error::Error;
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use switchyard_core::alerts::Alert;
use switchyard_core::api::ApiError;
use switchyard_core::incidents::{
    AckRequest, IncidentDetail, IncidentsResponse, NoteRequest, TimelineEntry,
};

use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(incidents))
        .routes(routes!(incident))
        .routes(routes!(export))
        .routes(routes!(note))
        .routes(routes!(ack))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct IncidentsQuery {
    /// How many, newest first.
    #[param(minimum = 1, maximum = 10000, default = 50)]
    limit: Option<u32>,
    /// Open ones only, or all (default).
    #[param(default = false)]
    open: Option<bool>,
}

/// Incidents, newest first: each opened by a critical alert, joined by every alert raised
/// while open, closed once all its alerts cleared and no failover runs.
#[utoipa::path(get, path = "/incidents", operation_id = "list_incidents", tag = "incidents", params(IncidentsQuery),
    responses((status = 200, description = "The incidents", body = IncidentsResponse)))]
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

/// One incident with its alerts and its timeline (alerts raised and cleared,
/// acknowledgements, failover steps, commands, notes), oldest first.
#[utoipa::path(get, path = "/incidents/{id}", operation_id = "get_incident", tag = "incidents",
    params(("id" = i64, Path, description = "The incident's id")),
    responses((status = 200, description = "The incident", body = IncidentDetail),
        (status = 404, description = "No such incident", body = ApiError)))]
async fn incident(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<IncidentDetail>, Error> {
    Ok(Json(engine.incident(id).await?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    /// `md` (Markdown, times in UTC) or `json`.
    #[param(pattern = "^(md|json)$")]
    format: String,
}

/// The incident for the post-incident review, as a file: Markdown (times in UTC) or JSON.
#[utoipa::path(get, path = "/incidents/{id}/export", operation_id = "export_incident", tag = "incidents",
    params(("id" = i64, Path, description = "The incident's id"), ExportQuery),
    responses((status = 200, description = "The file (Content-Disposition: attachment)",
            content((String = "text/markdown"), (IncidentDetail = "application/json")),
            headers(("content-disposition" = String, description = "attachment; filename=\"incident-ID.md\" (or .json)"))),
        (status = 404, description = "No such incident", body = ApiError)))]
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

/// Add a note to the incident's timeline (audited: incident.note).
#[utoipa::path(post, path = "/incidents/{id}/notes", operation_id = "add_incident_note", tag = "incidents",
    params(("id" = i64, Path, description = "The incident's id"), OperatorHeader),
    request_body = NoteRequest,
    responses((status = 201, description = "The note as a timeline entry", body = TimelineEntry),
        (status = 404, description = "No such incident", body = ApiError),
        (status = 422, description = "An empty or too long note", body = ApiError)))]
async fn note(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> Result<(StatusCode, Json<TimelineEntry>), Error> {
    let entry = engine.add_incident_note(id, &req.text, &op).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Acknowledge an alert, with a note (audited: alert.ack); every console sees who and when.
#[utoipa::path(post, path = "/alerts/{id}/ack", operation_id = "ack_alert", tag = "incidents",
    params(("id" = i64, Path, description = "The alert's id"), OperatorHeader),
    request_body = AckRequest,
    responses((status = 200, description = "The alert with its acknowledgement", body = Alert),
        (status = 404, description = "No such alert", body = ApiError),
        (status = 409, description = "Acknowledged already (says by whom and when)", body = ApiError),
        (status = 422, description = "A too long note", body = ApiError)))]
async fn ack(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AckRequest>,
) -> Result<Json<Alert>, Error> {
    Ok(Json(engine.ack_alert(id, &req.note, &op).await?))
}
