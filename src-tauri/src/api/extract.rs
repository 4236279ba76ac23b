//! The request parts every route reads: the operator an action is audited under, and axum's
//! path, query and JSON extractors with the API's JSON error as their rejection.
//!
//! Rules kept here:
//! - a request that cannot be read is refused with [`ApiError`](switchyard_core::api::ApiError)
//!   JSON that names the problem (a 4xx), like every other refusal;
//! - a signed-in caller is audited under its account, whatever the headers say.

use super::error::error;
use axum::{
    extract::{
        rejection::{JsonRejection, QueryRejection},
        FromRequest, FromRequestParts, Path, Query,
    },
    http::{request::Parts, StatusCode},
    response::Response,
    Json,
};
use serde::de::DeserializeOwned;

/// Until accounts exist (see the roles issue), actions are audited under this name.
const ANONYMOUS: &str = "anonymous (no login configured)";

/// The operator an action is audited under: the `X-Switchyard-Operator` header until logins
/// exist (see the roles issue), else anonymous. A malformed name is refused (400).
pub(super) struct Operator(pub(super) String);

impl<S: Send + Sync> FromRequestParts<S> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        // Signed in: the account, whatever the headers say.
        if let Some(id) = parts.extensions.get::<crate::auth::Identity>() {
            return Ok(Operator(id.username.clone()));
        }
        match parts.headers.get("x-switchyard-operator") {
            None => Ok(Operator(ANONYMOUS.to_string())),
            Some(v) => {
                let name = v.to_str().unwrap_or("").trim();
                let ok = !name.is_empty()
                    && name.len() <= 64
                    && name
                        .chars()
                        .all(|c| c.is_alphanumeric() || " ._@-:".contains(c));
                if ok {
                    Ok(Operator(name.to_string()))
                } else {
                    Err(error(
                        StatusCode::BAD_REQUEST,
                        "X-Switchyard-Operator: 1 to 64 letters, digits, spaces or . _ @ - :",
                    ))
                }
            }
        }
    }
}

/// [`Operator`]'s header as the API's document says it: the operations that audit who acted
/// list it. Never read as such (the extractor reads the header).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub(super) struct OperatorHeader {
    /// Without logins (`--no-auth`): the name the action is audited under (1 to 64 letters,
    /// digits, spaces or `. _ @ - :`; default anonymous). Signed in, the account is, whatever
    /// this says.
    #[param(
        rename = "X-Switchyard-Operator",
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9._@:-]([A-Za-z0-9 ._@:-]*[A-Za-z0-9._@:-])?$"
    )]
    operator: Option<String>,
}

/// `Query<T>` whose rejection is the API's JSON error, naming the parameter (400).
pub(super) struct ApiQuery<T>(pub(super) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| error(StatusCode::BAD_REQUEST, e.body_text()))
    }
}

/// `Path<T>` whose rejection (a segment that is not UTF-8 once decoded, or not the type) is the
/// API's JSON error (400), like every other refusal.
pub(super) struct ApiPath<T>(pub(super) T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| error(e.status(), e.body_text()))
    }
}

/// `Json<T>` whose rejection is the API's JSON error (400, 415 or 422 as axum decides).
pub(super) struct ApiJson<T>(pub(super) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| ApiJson(v))
            .map_err(|e: JsonRejection| error(e.status(), e.body_text()))
    }
}

/// A list's `limit` checked against the most that route serves (400 beyond it).
pub(super) fn limit(limit: u32, max: u32) -> Result<u32, crate::error::Error> {
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(crate::error::Error::malformed(format!(
            "limit: must be between 1 and {max}, not {limit}"
        )))
    }
}
