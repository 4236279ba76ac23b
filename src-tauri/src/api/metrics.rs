//! `GET /metrics`: the engine's figures in the Prometheus text format, for a scraper with the
//! configured bearer token or a viewer's session.
//!
//! Rules kept here:
//! - who may read is decided by core's `scrape_access`: the bearer token (`[metrics]`
//!   token_env/token_file, compared in constant time), or a viewer's session (cookie or trusted
//!   header); without logins (`--no-auth`) a caller on loopback only;
//! - the exposition is the recorder's (`metrics-exporter-prometheus`), never written here;
//! - the answer is never cached.

use super::auth::{auth_error, identify, peer};
use super::error::error;
use super::{AppState, Routes};
use crate::auth::AuthMode;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use switchyard_core::api::ApiError;
use switchyard_core::auth::{scrape_access, ScrapeAccess, Scraper};
use utoipa_axum::routes;

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) fn routes() -> Routes {
    Routes::new().routes(routes!(scrape))
}

/// The token of an `Authorization: Bearer …` header, if one was sent.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The console's figures in the Prometheus text format.
///
/// Per region health, devices, data age, poll durations and failures; edge backlog; open
/// alerts; the failover phase; failovers, command runs and deliveries by result; AWS calls and
/// throttles; resident memory. Names: docs/METRICS.md. A scraper sends the token of `[metrics]
/// token_env`/`token_file` as `Authorization: Bearer <token>`; a signed-in viewer's session
/// works too. Without logins (`--no-auth`) it answers loopback callers only.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "server",
    responses((status = 200, description = "The exposition", content_type = "text/plain; version=0.0.4", body = String),
        (status = 401, description = "No token or session, or a wrong token", body = ApiError,
            headers(("www-authenticate" = String, description = "Bearer realm=\"switchyard metrics\""))),
        (status = 403, description = "Without logins, a caller not on loopback", body = ApiError)))]
async fn scrape(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
) -> Response {
    let auth = &state.auth;
    let token = bearer(&headers).map(|sent| {
        auth.config()
            .scrape_token
            .as_ref()
            .and_then(|t| std::str::from_utf8(&t.0).ok())
            .is_some_and(|t| crate::auth::same(sent, t))
    });
    let logins_off = *auth.mode() == AuthMode::None;
    let from = peer(&ext);
    let role = if logins_off || token.is_some() {
        None
    } else {
        match identify(auth, &headers, from).await {
            Ok(Ok((id, _))) => Some(id.role),
            Ok(Err(_)) => None,
            Err(e) => return auth_error(e),
        }
    };
    let verdict = scrape_access(Scraper {
        logins_off,
        loopback: from.is_some_and(|ip| ip.to_canonical().is_loopback()),
        token,
        role,
    });
    match verdict {
        ScrapeAccess::Allowed => {}
        ScrapeAccess::Unauthorized(why) => {
            let mut r = error(StatusCode::UNAUTHORIZED, why);
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"switchyard metrics\""),
            );
            return r;
        }
        ScrapeAccess::Forbidden(why) => return error(StatusCode::FORBIDDEN, why),
    }
    let text = state.engine.render_metrics().await;
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        text,
    )
        .into_response()
}
