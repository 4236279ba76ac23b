//! How the API answers a refusal: the engine's [`Error`] by its kind, and the HTTP layer's own
//! refusals (a malformed header, an extractor's rejection, a sign-in) by the status they name.
//!
//! Rules kept here:
//! - the status of an engine error comes from its [`ErrorKind`] alone, never from its words:
//!   malformed 400, invalid 422, not found 404, conflict 409, unavailable 503, internal 500;
//! - every refusal, whoever makes it, has the body [`ApiError`] as JSON.

use crate::error::{Error, ErrorKind};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use switchyard_core::api::ApiError;

/// The API's JSON error with `status`: for the refusals the HTTP layer makes itself.
pub(super) fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(ApiError { error: msg.into() })).into_response()
}

/// The one status each kind of engine error is answered with.
pub(super) fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Malformed => StatusCode::BAD_REQUEST,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        error(status(self.kind), self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use http_body_util::BodyExt;

    async fn answer(e: impl Into<Error>) -> (StatusCode, ApiError) {
        let r = e.into().into_response();
        let s = r.status();
        let body = r.into_body().collect().await.unwrap().to_bytes();
        (s, serde_json::from_slice(&body).unwrap())
    }

    /// Each kind with the status the API gave the per-operation errors of that kind before the
    /// one error type existed (a malformed query 400, a refused request 422, ...).
    #[tokio::test]
    async fn every_engine_error_keeps_the_status_it_was_answered_with() {
        let cases: Vec<(Error, StatusCode)> = vec![
            (Error::malformed("the message"), StatusCode::BAD_REQUEST),
            (
                Error::invalid("the message"),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (Error::not_found("the message"), StatusCode::NOT_FOUND),
            (Error::conflict("the message"), StatusCode::CONFLICT),
            (
                Error::unavailable("the message"),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                Error::internal("the message"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        let kinds = [
            ErrorKind::Malformed,
            ErrorKind::Invalid,
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
        ];
        assert_eq!(
            cases.iter().map(|(e, _)| e.kind).collect::<Vec<_>>(),
            kinds,
            "every kind is answered"
        );
        for (e, want) in cases {
            let shown = format!("{e:?}");
            let (s, body) = answer(e).await;
            assert_eq!(s, want, "{shown}");
            assert_eq!(
                body.error, "the message",
                "{shown}: the message is kept word for word"
            );
        }
    }

    #[tokio::test]
    async fn an_error_is_answered_as_json_with_its_kinds_status() {
        let r = Error::conflict("failover fo-1 is in progress").into_response();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(
            r.headers()[axum::http::header::CONTENT_TYPE],
            "application/json"
        );
    }
}
