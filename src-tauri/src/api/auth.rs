//! Sign-in, the first admin's setup, accounts, and the guard every API route passes.
//!
//! Rules kept here:
//! - every API route passes [`guard`]: the route's access rule, the caller's role, and the
//!   CSRF token on state-changing requests;
//! - a signed-in caller's `Identity` is on the request for the routes after the guard.

use super::error::error;
use super::extract::{ApiJson, Operator, OperatorHeader};
use super::{AppState, Routes};
use crate::auth::{Auth, AuthError, AuthMode, Identity, COOKIE, CSRF_HEADER};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::{IpAddr, SocketAddr};
use switchyard_core::api::{ApiError, MessageResponse, SetupStatus};
use switchyard_core::auth::{
    is_state_changing, required_access, Access, LoginRequest, NewUser, Role, SessionInfo,
    SessionStatus, UserInfo,
};
use utoipa_axum::routes;

pub(super) fn routes() -> Routes {
    Routes::new()
        .routes(routes!(session, login, logout))
        .routes(routes!(setup_status, setup))
        .routes(routes!(users, add_user))
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

pub(super) fn peer(req_ext: &axum::http::Extensions) -> Option<IpAddr> {
    req_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

pub(super) fn auth_error(e: AuthError) -> Response {
    match e {
        AuthError::BadCredentials => error(StatusCode::UNAUTHORIZED, "wrong name or password"),
        AuthError::RateLimited(s) => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many failed sign-ins: try again in {s} s"),
            );
            if let Ok(v) = s.to_string().parse() {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        AuthError::Invalid(m) => error(StatusCode::UNPROCESSABLE_ENTITY, m),
        AuthError::Conflict(m) => error(StatusCode::CONFLICT, m),
        AuthError::Failed(m) => error(StatusCode::INTERNAL_SERVER_ERROR, m),
    }
}

/// Who is calling, by the console's mode; `Err` says why nobody is.
pub(super) async fn identify(
    auth: &Auth,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<Result<(Identity, String), String>, AuthError> {
    match auth.mode() {
        AuthMode::None => Ok(Ok((
            Identity {
                username: "anonymous".into(),
                role: Role::Admin,
            },
            String::new(),
        ))),
        AuthMode::Local => {
            let Some(token) = cookie_token(headers) else {
                return Ok(Err("sign in first (POST /api/v1/session)".into()));
            };
            Ok(match auth.session(&token).await? {
                Some(s) => Ok((
                    Identity {
                        username: s.username,
                        role: s.role,
                    },
                    s.csrf,
                )),
                None => Err("the session has ended: sign in again".into()),
            })
        }
        AuthMode::TrustedHeader { header, .. } => {
            let value = headers.get(header.as_str()).and_then(|v| v.to_str().ok());
            Ok(auth.trusted(value, peer).await?.map(|id| {
                let csrf = auth.trusted_csrf(&id.username);
                (id, csrf)
            }))
        }
    }
}

/// The guard on every API route: the route's access rule, the caller's role, and the CSRF
/// token on state-changing requests. Puts the caller's `Identity` on the request.
pub(super) async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let auth = &state.auth;
    if *auth.mode() == AuthMode::None {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_string();
    let raw = req.uri().path().to_string();
    let path = match req.extensions().get::<MatchedPath>() {
        Some(m) if m.as_str().starts_with(switchyard_core::api::API_PREFIX) => {
            m.as_str().to_string()
        }
        Some(m) => format!("{}{}", switchyard_core::api::API_PREFIX, m.as_str()),
        None => raw,
    };
    let needed = match required_access(&method, &path) {
        Access::Public => return next.run(req).await,
        Access::Role(r) => r,
    };
    let who = match identify(auth, req.headers(), peer(req.extensions())).await {
        Ok(Ok(who)) => who,
        Ok(Err(why)) => return error(StatusCode::UNAUTHORIZED, why),
        Err(e) => return auth_error(e),
    };
    let (id, csrf) = who;
    if !id.role.allows(needed) {
        return error(
            StatusCode::FORBIDDEN,
            format!(
                "{method} {path} needs the {} role; {} is {}",
                needed.as_str(),
                id.username,
                id.role.as_str()
            ),
        );
    }
    if is_state_changing(&method) {
        let sent = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if csrf.is_empty() || !crate::auth::same(sent, &csrf) {
            return error(
                StatusCode::FORBIDDEN,
                "the X-CSRF-Token header is missing or wrong: read it from GET /api/v1/session",
            );
        }
    }
    req.extensions_mut().insert(id);
    next.run(req).await
}

fn session_cookie(auth: &Auth, token: &str, max_age_secs: u64) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{}",
        if auth.config().secure_cookies {
            "; Secure"
        } else {
            ""
        }
    )
}

/// Sign in (audited).
///
/// Sets the session cookie (HttpOnly, SameSite=Strict, Secure on TLS). Failed attempts are
/// limited per user name and per client address.
#[utoipa::path(post, path = "/session", tag = "session", request_body = LoginRequest,
    responses((status = 200, description = "Signed in; the session cookie is set", body = SessionInfo,
            headers(("set-cookie" = String, description = "The session cookie"))),
        (status = 401, description = "Wrong name or password", body = ApiError),
        (status = 422, description = "Logins are not local here (trusted header or none), or the body is not a sign-in", body = ApiError),
        (status = 429, description = "Too many failed sign-ins: try again after Retry-After seconds", body = ApiError,
            headers(("retry-after" = u64, description = "Seconds to wait")))))]
async fn login(
    State(state): State<AppState>,
    req_ext: axum::http::Extensions,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Response {
    let auth = &state.auth;
    match auth
        .login(&req.username, &req.password, peer(&req_ext))
        .await
    {
        Ok((token, info)) => signed_in(auth, &token, info),
        Err(e) => auth_error(e),
    }
}

fn signed_in(auth: &Auth, token: &str, info: SessionInfo) -> Response {
    let cookie = session_cookie(auth, token, auth.config().session_ttl.as_secs());
    let mut r = Json(info).into_response();
    if let Ok(v) = cookie.parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// Who is signed in, with the CSRF token to send back in X-CSRF-Token on every
/// state-changing request; or that nobody is, and why (a 200 too: every signed-out browser
/// asks, and a refusal would be an error in its console).
#[utoipa::path(get, path = "/session", operation_id = "get_session", tag = "session",
    responses((status = 200, description = "Who is signed in, or that nobody is", body = SessionStatus)))]
async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
    req_ext: axum::http::Extensions,
) -> Response {
    let auth = &state.auth;
    let mode = auth.mode().as_str();
    match identify(auth, &headers, peer(&req_ext)).await {
        Ok(Ok((id, csrf))) => Json(SessionStatus::signed_in(SessionInfo {
            username: id.username,
            role: id.role,
            csrf,
            expires_at: 0,
            mode: mode.into(),
        }))
        .into_response(),
        Ok(Err(why)) => Json(SessionStatus::signed_out(mode, why)).into_response(),
        Err(e) => auth_error(e),
    }
}

/// Sign out: the session ends and the cookie is cleared.
#[utoipa::path(delete, path = "/session", tag = "session",
    responses((status = 200, description = "Signed out (also when nobody was)", body = MessageResponse,
        headers(("set-cookie" = String, description = "The cleared cookie")))))]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let auth = &state.auth;
    if let Some(token) = cookie_token(&headers) {
        if let Err(e) = auth.logout(&token).await {
            return auth_error(e);
        }
    }
    let mut r = Json(MessageResponse {
        message: "signed out".into(),
    })
    .into_response();
    if let Ok(v) = session_cookie(auth, "", 0).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /api/v1/setup`: the first admin.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SetupRequest {
    /// The one-time token the server printed at start.
    token: String,
    /// 1 to 64 letters, digits, `.`, `_`, `-` or `@`.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    username: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    password: String,
}

/// Whether the first admin still has to be created.
#[utoipa::path(get, path = "/setup", operation_id = "setup_status", tag = "session",
    responses((status = 200, description = "Whether setup is needed", body = SetupStatus)))]
async fn setup_status(State(state): State<AppState>) -> Response {
    match state.auth.setup_needed().await {
        Ok(needed) => Json(SetupStatus { needed }).into_response(),
        Err(e) => auth_error(e),
    }
}

/// Create the first admin with the one-time token the server printed at start; signs them in.
#[utoipa::path(post, path = "/setup", operation_id = "first_admin", tag = "session", request_body = SetupRequest,
    responses((status = 200, description = "The admin exists and is signed in", body = SessionInfo,
            headers(("set-cookie" = String, description = "The session cookie"))),
        (status = 409, description = "An account of that name exists", body = ApiError),
        (status = 422, description = "Not the setup token, set up already (it works once, while no account exists), or a bad name or password", body = ApiError)))]
async fn setup(State(state): State<AppState>, ApiJson(req): ApiJson<SetupRequest>) -> Response {
    let auth = &state.auth;
    let new = NewUser {
        username: req.username,
        password: req.password,
        role: Role::Admin,
    };
    match auth.setup(&req.token, new).await {
        Ok((token, info)) => signed_in(auth, &token, info),
        Err(e) => auth_error(e),
    }
}

/// The accounts (never their hashes).
#[utoipa::path(get, path = "/users", operation_id = "list_users", tag = "session",
    responses((status = 200, description = "The accounts", body = Vec<UserInfo>)))]
async fn users(State(state): State<AppState>) -> Response {
    match state.auth.users().await {
        Ok(u) => Json(u).into_response(),
        Err(e) => auth_error(e),
    }
}

/// Add an account (audited).
#[utoipa::path(post, path = "/users", tag = "session", params(OperatorHeader), request_body = NewUser,
    responses((status = 201, description = "The account", body = UserInfo),
        (status = 409, description = "An account of that name exists", body = ApiError),
        (status = 422, description = "A bad name, password or role", body = ApiError)))]
async fn add_user(
    State(state): State<AppState>,
    Operator(op): Operator,
    ApiJson(new): ApiJson<NewUser>,
) -> Response {
    match state.auth.add_user(new, &op).await {
        Ok(u) => (StatusCode::CREATED, Json(u)).into_response(),
        Err(e) => auth_error(e),
    }
}
