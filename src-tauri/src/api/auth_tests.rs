//! Sign-in and authorization over HTTP: every state-changing route in the OpenAPI document
//! answers 401 without a session, 403 to a role below the one it needs, and 403 without the
//! CSRF token; sign-ins are rate-limited and audited; the first admin is made with the
//! one-time link; bodies are bounded; every answer carries the security headers.

use super::*;
use crate::auth::{AuthConfig, AuthMode};
use crate::engine::EngineConfig;
use crate::store::Store;
use axum::body::Body;
use axum::http::{header, HeaderMap, Request};
use http_body_util::BodyExt;
use switchyard_core::auth::{is_state_changing, required_access, Access, NewUser, Role};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

async fn secured(mode: AuthMode) -> (Router, Auth, Engine) {
    secured_with(mode, EngineConfig::default()).await
}

async fn secured_with(mode: AuthMode, cfg: EngineConfig) -> (Router, Auth, Engine) {
    let store = Store::in_memory();
    let (engine, _) = super::tests::sim_engine(200, 2, cfg, store.clone());
    let auth = Auth::new(
        AuthConfig {
            mode,
            rate: switchyard_core::auth::RateLimit {
                attempts: 3,
                window_ms: 60_000,
            },
            ..AuthConfig::default()
        },
        store,
    );
    for (name, role) in [
        ("vera", Role::Viewer),
        ("otto", Role::Operator),
        ("ada", Role::Admin),
    ] {
        auth.add_user(
            NewUser {
                username: name.into(),
                password: PASSWORD.into(),
                role,
            },
            "test",
        )
        .await
        .unwrap();
    }
    (
        secured_router(engine.clone(), Ui::Missing, auth.clone()),
        auth,
        engine,
    )
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<String>,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(body.map_or_else(Body::empty, Body::from)).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let h = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, h, String::from_utf8_lossy(&bytes).to_string())
}

/// Signs in; returns the cookie pair and the CSRF token.
async fn login(app: &Router, user: &str) -> (String, String) {
    let body = serde_json::json!({ "username": user, "password": PASSWORD }).to_string();
    let (s, h, text) = send(app, "POST", "/api/v1/session", Some(body), &[]).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let set = h
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(set.contains(flag), "{set} lacks {flag}");
    }
    let cookie = set.split(';').next().unwrap().to_string();
    let info: switchyard_core::auth::SessionInfo = serde_json::from_str(&text).unwrap();
    (cookie, info.csrf)
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "x-1")
        .replace("{file}", "timeline.svg")
}

#[tokio::test]
async fn every_state_changing_route_needs_a_session_the_role_and_the_csrf_token() {
    let (app, _, _) = secured(AuthMode::Local).await;
    let viewer = login(&app, "vera").await;
    let operator = login(&app, "otto").await;
    let admin = login(&app, "ada").await;
    let mut checked = 0;
    for (method, path) in ROUTES.iter() {
        let needed = match required_access(method, path) {
            Access::Public => continue,
            Access::Role(r) => r,
        };
        let uri = concrete(path);
        let m = method.to_uppercase();
        let body = is_state_changing(method).then(|| "{}".to_string());
        // No session: 401, whatever the route.
        let (s, _, text) = send(&app, &m, &uri, body.clone(), &[]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{m} {path}: {text}");
        if !is_state_changing(method) {
            // Reads: a viewer passes the guard (whatever the route then says). The event
            // stream never ends, so only its refusal is asked for.
            if *path == "/api/v1/events" {
                continue;
            }
            let (s, _, text) = send(&app, &m, &uri, None, &[("cookie", &viewer.0)]).await;
            assert!(
                s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN
                    || needed == Role::Admin,
                "{m} {path}: {s} {text}"
            );
            continue;
        }
        checked += 1;
        // A role below the one needed: 403, naming the role.
        let below = if needed == Role::Admin {
            &operator
        } else {
            &viewer
        };
        let (s, _, text) = send(
            &app,
            &m,
            &uri,
            body.clone(),
            &[("cookie", &below.0), ("x-csrf-token", &below.1)],
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {path}: {text}");
        assert!(
            text.contains(&format!("needs the {} role", needed.as_str())),
            "{m} {path}: {text}"
        );
        // The right role without the CSRF token, or with another session's: 403.
        let right = if needed == Role::Admin {
            &admin
        } else {
            &operator
        };
        let (s, _, text) = send(&app, &m, &uri, body.clone(), &[("cookie", &right.0)]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {path}: {text}");
        assert!(text.contains("X-CSRF-Token"), "{text}");
        let (s, _, _) = send(
            &app,
            &m,
            &uri,
            body.clone(),
            &[("cookie", &right.0), ("x-csrf-token", &viewer.1)],
        )
        .await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "{m} {path}: another session's token"
        );
        // Both: the guard lets it through to the handler (which may still say 404 or 422).
        let (s, _, text) = send(
            &app,
            &m,
            &uri,
            body,
            &[("cookie", &right.0), ("x-csrf-token", &right.1)],
        )
        .await;
        assert!(
            s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN,
            "{m} {path}: {s} {text}"
        );
    }
    assert!(
        checked >= 12,
        "only {checked} state-changing routes checked"
    );
}

#[tokio::test]
async fn the_operator_is_the_signed_in_account_not_a_header() {
    let (app, _, engine) = secured(AuthMode::Local).await;
    let (cookie, csrf) = login(&app, "otto").await;
    let body = r#"{"fault":{"region":"eu-west-1","kind":"outage","duration_secs":5},"reason":"drill prep"}"#;
    let (s, _, text) = send(
        &app,
        "POST",
        "/api/v1/sim/faults",
        Some(body.into()),
        &[
            ("cookie", &cookie),
            ("x-csrf-token", &csrf),
            ("x-switchyard-operator", "mallory"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{text}");
    let audit = engine.store().audit_recent(5).unwrap();
    let fault = audit
        .iter()
        .find(|a| a.action == "sim.inject_fault")
        .unwrap();
    assert_eq!(fault.actor, "otto");
}

#[tokio::test]
async fn sign_ins_are_rate_limited_audited_and_sessions_end_at_sign_out() {
    let (app, _, engine) = secured(AuthMode::Local).await;
    // An unknown name is refused the same way as a wrong password.
    let ghost = serde_json::json!({ "username": "ghost", "password": PASSWORD }).to_string();
    let (s, _, text) = send(&app, "POST", "/api/v1/session", Some(ghost), &[]).await;
    assert_eq!(
        (s, text.contains("wrong name or password")),
        (StatusCode::UNAUTHORIZED, true)
    );
    let wrong =
        serde_json::json!({ "username": "otto", "password": "not the password" }).to_string();
    for _ in 0..2 {
        let (s, _, text) = send(&app, "POST", "/api/v1/session", Some(wrong.clone()), &[]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{text}");
        assert!(text.contains("wrong name or password"));
    }
    // Three failures from this client: the fourth attempt is refused even with the right
    // password, and so is any other name from the same address.
    let right = serde_json::json!({ "username": "otto", "password": PASSWORD }).to_string();
    let (s, h, text) = send(&app, "POST", "/api/v1/session", Some(right), &[]).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{text}");
    let wait: u64 = h
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let other = serde_json::json!({ "username": "vera", "password": PASSWORD }).to_string();
    let (s, _, _) = send(&app, "POST", "/api/v1/session", Some(other), &[]).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let refused = engine
        .store()
        .audit_recent(20)
        .unwrap()
        .into_iter()
        .filter(|a| {
            a.action == "session.login"
                && a.result.as_deref() == Some("refused: wrong name or password")
        })
        .count();
    assert_eq!(refused, 3);

    // Another client address is not held back by this one's failures.
    let (app, _, _) = secured(AuthMode::Local).await;
    let (cookie, csrf) = login(&app, "vera").await;
    let (s, _, _) = send(&app, "GET", "/api/v1/regions", None, &[("cookie", &cookie)]).await;
    assert_eq!(s, StatusCode::OK);
    let (s, h, _) = send(
        &app,
        "DELETE",
        "/api/v1/session",
        None,
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(h
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let (s, _, text) = send(&app, "GET", "/api/v1/regions", None, &[("cookie", &cookie)]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{text}");
    // Passwords and tokens never reach the audit log.
    let all = engine.store().audit_recent(100).unwrap();
    assert!(all
        .iter()
        .all(|a| !a.detail.contains(PASSWORD) && !a.reason.contains(PASSWORD)));
}

#[tokio::test]
async fn the_first_admin_is_made_once_with_the_printed_link() {
    let store = Store::in_memory();
    let (engine, _) = super::tests::sim_engine(200, 2, EngineConfig::default(), store.clone());
    let auth = Auth::new(AuthConfig::default(), store);
    let app = secured_router(engine, Ui::Missing, auth.clone());
    let (_, _, text) = send(&app, "GET", "/api/v1/setup", None, &[]).await;
    assert_eq!(text, r#"{"needed":true}"#);
    let token = auth.setup_token().await.unwrap().unwrap();
    let body = |t: &str| {
        serde_json::json!({ "token": t, "username": "root-admin", "password": PASSWORD })
            .to_string()
    };
    let (s, _, text) = send(&app, "POST", "/api/v1/setup", Some(body("guess")), &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let (s, h, text) = send(&app, "POST", "/api/v1/setup", Some(body(&token)), &[]).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(text.contains(r#""role":"admin""#));
    assert!(h.get(header::SET_COOKIE).is_some());
    let (s, _, _) = send(&app, "POST", "/api/v1/setup", Some(body(&token)), &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "the link works once");
    assert_eq!(auth.setup_token().await.unwrap(), None);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_header_names_the_user_only_from_the_proxy() {
    let proxy: std::net::IpAddr = "10.0.0.5".parse().unwrap();
    let (app, _, _) = secured(AuthMode::TrustedHeader {
        header: "x-forwarded-user".into(),
        proxies: vec![proxy],
    })
    .await;
    let from = |ip: &str, user: &str, method: &str, uri: &str, csrf: Option<&str>| {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-forwarded-user", user)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        let mut req = req
            .body(Body::from(if method == "GET" { "" } else { "{}" }))
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                ip.parse().unwrap(),
                40000,
            )));
        let app = app.clone();
        async move {
            let r = app.oneshot(req).await.unwrap();
            let s = r.status();
            let b = r.into_body().collect().await.unwrap().to_bytes();
            (s, String::from_utf8_lossy(&b).to_string())
        }
    };
    assert_eq!(
        from("10.0.0.5", "vera", "GET", "/api/v1/regions", None)
            .await
            .0,
        StatusCode::OK
    );
    let (s, text) = from("10.0.0.9", "ada", "GET", "/api/v1/regions", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "not from the proxy: {text}");
    let (s, text) = from("10.0.0.5", "stranger", "GET", "/api/v1/regions", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(text.contains("stranger has no account"), "{text}");
    let (s, text) = from("10.0.0.5", "vera", "GET", "/api/v1/session", None).await;
    assert_eq!(s, StatusCode::OK);
    let csrf = serde_json::from_str::<switchyard_core::auth::SessionInfo>(&text)
        .unwrap()
        .csrf;
    let (s, _) = from("10.0.0.5", "vera", "POST", "/api/v1/drills", Some(&csrf)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a viewer");
    let (_, text) = from("10.0.0.5", "otto", "GET", "/api/v1/session", None).await;
    let csrf = serde_json::from_str::<switchyard_core::auth::SessionInfo>(&text)
        .unwrap()
        .csrf;
    let (s, text) = from("10.0.0.5", "otto", "POST", "/api/v1/drills", Some(&csrf)).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "through the guard to the handler: {text}"
    );
}

#[tokio::test]
async fn bodies_are_bounded_and_answers_carry_the_security_headers() {
    let (app, _, _) = secured(AuthMode::Local).await;
    let (cookie, csrf) = login(&app, "otto").await;
    let huge = format!(r#"{{"notes": "{}"}}"#, "x".repeat(MAX_BODY + 1));
    let (s, _, text) = send(
        &app,
        "POST",
        "/api/v1/drills/x-1/notes",
        Some(huge),
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{text}");
    assert!(text.starts_with(r#"{"error":"#), "{text}");
    let (_, h, _) = send(&app, "GET", "/healthz", None, &[]).await;
    for (k, v) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(h.get(k).unwrap(), v);
    }
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_person_rule_takes_a_second_operator_account() {
    let cfg = EngineConfig {
        failover: crate::engine::FailoverConfig {
            two_person_rule: true,
            ..Default::default()
        },
        ..EngineConfig::default()
    };
    let (app, auth, engine) = secured_with(AuthMode::Local, cfg).await;
    for r in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        engine.poll_once(r).await;
    }
    auth.add_user(
        NewUser {
            username: "olga".into(),
            password: PASSWORD.into(),
            role: Role::Operator,
        },
        "test",
    )
    .await
    .unwrap();
    let otto = login(&app, "otto").await;
    let body =
        r#"{"target":"eu-west-1","confirm":"eu-west-1","reason":"INC-3","override_warnings":true}"#;
    let (s, _, text) = send(
        &app,
        "POST",
        "/api/v1/failovers",
        Some(body.into()),
        &[("cookie", &otto.0), ("x-csrf-token", &otto.1)],
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{text}");
    let f: switchyard_core::failover::Failover = serde_json::from_str(&text).unwrap();
    assert_eq!(f.phase, switchyard_core::failover::Phase::AwaitingApproval);
    assert_eq!(f.requested_by, "otto");
    let approve = format!("/api/v1/failovers/{}/approve", f.id);
    // Not by the requester, not by a viewer: by a second operator.
    let (s, _, text) = send(
        &app,
        "POST",
        &approve,
        Some("{}".into()),
        &[("cookie", &otto.0), ("x-csrf-token", &otto.1)],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    let vera = login(&app, "vera").await;
    let (s, _, _) = send(
        &app,
        "POST",
        &approve,
        Some("{}".into()),
        &[("cookie", &vera.0), ("x-csrf-token", &vera.1)],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let olga = login(&app, "olga").await;
    let (s, _, text) = send(
        &app,
        "POST",
        &approve,
        Some("{}".into()),
        &[("cookie", &olga.0), ("x-csrf-token", &olga.1)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let f: switchyard_core::failover::Failover = serde_json::from_str(&text).unwrap();
    assert_eq!(f.approved_by.as_deref(), Some("olga"));
}

#[tokio::test]
async fn a_signed_out_browser_asking_who_is_signed_in_gets_an_answer_not_a_refusal() {
    let (app, _, _) = secured(AuthMode::Local).await;
    let (s, _, text) = send(&app, "GET", "/api/v1/session", None, &[]).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let status: switchyard_core::auth::SessionStatus = serde_json::from_str(&text).unwrap();
    assert!(!status.signed_in && status.mode == "local", "{text}");
    assert!(status.reason.unwrap().contains("sign in first"));
    // An ended session says so, still as an answer.
    let (s, _, text) = send(
        &app,
        "GET",
        "/api/v1/session",
        None,
        &[("cookie", "sy_session=not-a-session")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        text.contains(r#""signed_in":false"#) && text.contains("ended"),
        "{text}"
    );
    let (cookie, csrf) = login(&app, "otto").await;
    let (_, _, text) = send(&app, "GET", "/api/v1/session", None, &[("cookie", &cookie)]).await;
    let status: switchyard_core::auth::SessionStatus = serde_json::from_str(&text).unwrap();
    let session = status.session().expect("signed in");
    assert_eq!(
        (session.username.as_str(), session.role, session.csrf),
        ("otto", Role::Operator, csrf)
    );
}
