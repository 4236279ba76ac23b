//! Sign-in, the first admin's setup, accounts, and the guard every API route passes.
//!
//! Rules kept here:
//! - every API route passes [`guard`]: the route's access rule, the caller's role, and the
//!   CSRF token on state-changing requests;
//! - a signed-in caller's `Identity` is on the request for the routes after the guard.

use super::error::error;
use super::extract::{ApiJson, Operator};
use super::AppState;
use crate::auth::{Auth, AuthError, AuthMode, Identity, COOKIE, CSRF_HEADER};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::net::{IpAddr, SocketAddr};
use switchyard_core::api::{MessageResponse, SetupStatus};
use switchyard_core::auth::{
    is_state_changing, required_access, Access, LoginRequest, NewUser, Role, SessionInfo,
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/session", get(session).post(login).delete(logout))
        .route("/setup", get(setup_status).post(setup))
        .route("/users", get(users).post(add_user))
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

async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
    req_ext: axum::http::Extensions,
) -> Response {
    let auth = &state.auth;
    match identify(auth, &headers, peer(&req_ext)).await {
        Ok(Ok((id, csrf))) => Json(SessionInfo {
            username: id.username,
            role: id.role,
            csrf,
            expires_at: 0,
            mode: auth.mode().as_str().into(),
        })
        .into_response(),
        Ok(Err(why)) => error(StatusCode::UNAUTHORIZED, why),
        Err(e) => auth_error(e),
    }
}

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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SetupRequest {
    token: String,
    username: String,
    password: String,
}

async fn setup_status(State(state): State<AppState>) -> Response {
    match state.auth.setup_needed().await {
        Ok(needed) => Json(SetupStatus { needed }).into_response(),
        Err(e) => auth_error(e),
    }
}

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

async fn users(State(state): State<AppState>) -> Response {
    match state.auth.users().await {
        Ok(u) => Json(u).into_response(),
        Err(e) => auth_error(e),
    }
}

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
