//! Drills: the list, a start, one drill with its report and charts, its notes, its abort, and
//! two drills compared.

use super::extract::{ApiJson, ApiPath, ApiQuery, Operator, OperatorHeader};
use super::Routes;
use crate::engine::Engine;
use crate::error::Error;
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use switchyard_core::api::{ApiError, MessageResponse};
use switchyard_core::drills::{
    Comparison, Drill, DrillNotes, DrillRequest, DrillSummary, DrillsResponse,
};

use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(drills, start))
        .routes(routes!(compare))
        .routes(routes!(drill))
        .routes(routes!(report))
        .routes(routes!(chart))
        .routes(routes!(notes))
        .routes(routes!(abort))
}

/// Every drill, newest first, with whether drilling is overdue (`overdue`: the warning to
/// show, or null) and the configured objectives.
#[utoipa::path(get, path = "/drills", operation_id = "list_drills", tag = "drills",
    responses((status = 200, description = "The drills", body = DrillsResponse)))]
async fn drills(State(engine): State<Engine>) -> Result<Json<DrillsResponse>, Error> {
    Ok(Json(engine.drills().await?))
}

/// Start a drill (audited).
///
/// `mode: simulated` runs against a fleet of its own; `mode: live` injects the faults into the
/// console's simulated fleet and fails over with its own switch.
#[utoipa::path(post, path = "/drills", operation_id = "start_drill", tag = "drills", params(OperatorHeader), request_body = DrillRequest,
    responses((status = 202, description = "Started", body = DrillSummary),
        (status = 409, description = "A drill or a failover is running", body = ApiError),
        (status = 422, description = "A scenario out of range (the error names the field)", body = ApiError)))]
async fn start(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiJson(req): ApiJson<DrillRequest>,
) -> Result<(StatusCode, Json<DrillSummary>), Error> {
    let d = engine.start_drill(req.scenario, &op).await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

/// The drill, or a 404 naming it.
async fn find(engine: &Engine, id: &str) -> Result<Drill, Error> {
    engine
        .drill(id)
        .await?
        .ok_or_else(|| Error::not_found(format!("no drill {id}")))
}

/// A drill with everything kept of it: scenario, objectives, the recording (events and
/// samples), the measures and verdicts, notes and action items. This is the JSON export.
#[utoipa::path(get, path = "/drills/{id}", operation_id = "get_drill", tag = "drills",
    params(("id" = String, Path, description = "The drill's id")),
    responses((status = 200, description = "The drill", body = Drill),
        (status = 404, description = "No such drill", body = ApiError)))]
async fn drill(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Drill>, Error> {
    Ok(Json(find(&engine, &id).await?))
}

/// Runs a report's drawing off the async threads; a failure to draw is the console's own.
async fn drawn<T: Send + 'static>(
    draw: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, Error> {
    match tokio::task::spawn_blocking(draw).await {
        Ok(r) => r.map_err(Error::internal),
        Err(e) => Err(Error::internal(e.to_string())),
    }
}

/// The drill's report as one self-contained HTML page with its charts inline.
#[utoipa::path(get, path = "/drills/{id}/report.html", operation_id = "drill_report", tag = "drills",
    params(("id" = String, Path, description = "The drill's id")),
    responses((status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 404, description = "No such drill", body = ApiError)))]
async fn report(
    State(engine): State<Engine>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, Error> {
    let d = find(&engine, &id).await?;
    let html = drawn(move || crate::report::html(&d)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // A document to read and keep: its own inline styles and SVG, nothing else.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                 base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        ],
        html,
    )
        .into_response())
}

/// One chart of the report: `reconnection`, `backlog` or `timeline`, as `.svg` or `.png`
/// (900×320).
#[utoipa::path(get, path = "/drills/{id}/charts/{file}", operation_id = "drill_chart", tag = "drills",
    params(("id" = String, Path, description = "The drill's id"),
        ("file" = String, Path, description = "CHART.svg or CHART.png")),
    responses((status = 200, description = "The chart",
            content((String = "image/svg+xml"), (Vec<u8> = "image/png"))),
        (status = 404, description = "No such drill or chart", body = ApiError)))]
async fn chart(
    State(engine): State<Engine>,
    ApiPath((id, file)): ApiPath<(String, String)>,
) -> Result<Response, Error> {
    let Some((name, ext)) = file.rsplit_once('.') else {
        return Err(Error::not_found(format!(
            "no chart {file}: name it CHART.svg or CHART.png"
        )));
    };
    let Some(chart) = crate::report::Chart::parse(name) else {
        return Err(Error::not_found(format!(
            "no chart {name}: reconnection, backlog or timeline"
        )));
    };
    if ext != "svg" && ext != "png" {
        return Err(Error::not_found(format!(
            "charts are .svg or .png, not .{ext}"
        )));
    }
    let d = find(&engine, &id).await?;
    let png = ext == "png";
    let bytes = drawn(move || {
        if png {
            crate::report::png(&d, chart)
        } else {
            crate::report::svg(&d, chart).map(String::into_bytes)
        }
    })
    .await?;
    let ctype = if png { "image/png" } else { "image/svg+xml" };
    Ok(([(header::CONTENT_TYPE, ctype)], bytes).into_response())
}

/// Replace the drill's notes and action items (audited).
#[utoipa::path(post, path = "/drills/{id}/notes", operation_id = "set_drill_notes", tag = "drills",
    params(("id" = String, Path, description = "The drill's id"), OperatorHeader),
    request_body = DrillNotes,
    responses((status = 200, description = "The drill with its notes", body = Drill),
        (status = 404, description = "No such drill", body = ApiError),
        (status = 422, description = "Notes too long, too many action items, or an empty one", body = ApiError)))]
async fn notes(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
    ApiJson(notes): ApiJson<DrillNotes>,
) -> Result<Json<Drill>, Error> {
    engine.set_drill_notes(&id, notes, &op).await?;
    Ok(Json(find(&engine, &id).await?))
}

/// Stop a running drill (audited); its report says it was aborted.
#[utoipa::path(post, path = "/drills/{id}/abort", operation_id = "abort_drill", tag = "drills",
    params(("id" = String, Path, description = "The drill's id"), OperatorHeader),
    responses((status = 200, description = "Stopping", body = MessageResponse),
        (status = 404, description = "No such drill", body = ApiError),
        (status = 422, description = "The drill has ended", body = ApiError)))]
async fn abort(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MessageResponse>, Error> {
    engine.abort_drill(&id, &op).await?;
    Ok(Json(MessageResponse {
        message: format!("drill {id} is stopping"),
    }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CompareQuery {
    /// One ended drill's id.
    a: String,
    /// The other's.
    b: String,
}

/// Two ended drills side by side: each measure for both and which did better.
#[utoipa::path(get, path = "/drills/compare", operation_id = "compare_drills", tag = "drills", params(CompareQuery),
    responses((status = 200, description = "The comparison", body = Comparison),
        (status = 404, description = "No such drill", body = ApiError),
        (status = 422, description = "A drill that has not ended with measures", body = ApiError)))]
async fn compare(
    State(engine): State<Engine>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> Result<Json<Comparison>, Error> {
    let a = find(&engine, &q.a).await?;
    let b = find(&engine, &q.b).await?;
    let (Some(ma), Some(mb)) = (&a.metrics, &b.metrics) else {
        return Err(Error::invalid(
            "both drills must have ended with measures to be compared",
        ));
    };
    Ok(Json(Comparison {
        rows: switchyard_core::drills::compare(ma, mb),
        a: a.summary,
        b: b.summary,
    }))
}
