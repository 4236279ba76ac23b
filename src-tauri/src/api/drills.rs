//! Drills: the list, a start, one drill with its report and charts, its notes, its abort, and
//! two drills compared.

use super::extract::{ApiJson, ApiPath, ApiQuery, Operator};
use super::AppState;
use crate::engine::Engine;
use crate::error::Error;
use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use switchyard_core::api::MessageResponse;
use switchyard_core::drills::{
    Comparison, Drill, DrillNotes, DrillRequest, DrillSummary, DrillsResponse,
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/drills", get(drills).post(start))
        .route("/drills/compare", get(compare))
        .route("/drills/{id}", get(drill))
        .route("/drills/{id}/report.html", get(report))
        .route("/drills/{id}/charts/{file}", get(chart))
        .route("/drills/{id}/notes", post(notes))
        .route("/drills/{id}/abort", post(abort))
}

async fn drills(State(engine): State<Engine>) -> Result<Json<DrillsResponse>, Error> {
    Ok(Json(engine.drills().await?))
}

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
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        ],
        html,
    )
        .into_response())
}

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

async fn notes(
    State(engine): State<Engine>,
    Operator(op): Operator,
    ApiPath(id): ApiPath<String>,
    ApiJson(notes): ApiJson<DrillNotes>,
) -> Result<Json<Drill>, Error> {
    engine.set_drill_notes(&id, notes, &op).await?;
    Ok(Json(find(&engine, &id).await?))
}

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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CompareQuery {
    a: String,
    b: String,
}

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
