//! `GET /metrics` over HTTP: who may read it (the scrape token, a viewer's session, loopback
//! only without logins) and what it answers (the text format, never cached, the engine's own
//! figures).

use super::*;
use crate::auth::{AuthConfig, AuthMode};
use crate::settings::Secret;
use axum::http::HeaderMap;
use switchyard_core::auth::{NewUser, Role};

const TOKEN: &str = "scrape-token-0123456789abcdef";
const PASSWORD: &str = "correct horse battery";

/// The router with `mode`, the scrape token [`TOKEN`], and a viewer "vera".
async fn console(mode: AuthMode) -> (Router, Engine) {
    let store = Store::in_memory();
    let (engine, _) = sim_engine(200, 2, EngineConfig::default(), store.clone());
    let auth = Auth::new(
        AuthConfig {
            mode,
            scrape_token: Some(Secret(TOKEN.as_bytes().to_vec())),
            ..AuthConfig::default()
        },
        store,
    );
    auth.add_user(
        NewUser {
            username: "vera".into(),
            password: PASSWORD.into(),
            role: Role::Viewer,
        },
        "test",
    )
    .await
    .unwrap();
    (secured_router(engine.clone(), Ui::Missing, auth), engine)
}

/// A request from `from` (no address known when `None`) with `headers`.
async fn get(
    app: &Router,
    uri: &str,
    from: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (StatusCode, HeaderMap, String) {
    let method = if body.is_some() { "POST" } else { "GET" };
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let mut req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
    if let Some(ip) = from {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
                ip.parse().unwrap(),
                40000,
            )));
    }
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let h = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, h, String::from_utf8_lossy(&bytes).to_string())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn without_logins_metrics_answer_loopback_callers_only() {
    let (app, engine) = console(AuthMode::None).await;
    engine.poll_once("us-east-1").await;
    for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
        let (s, h, text) = get(&app, "/metrics", Some(ip), &[], None).await;
        assert_eq!(s, StatusCode::OK, "{ip}: {text}");
        assert_eq!(
            h.get(header::CONTENT_TYPE).unwrap(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert!(
            h.get(header::X_CONTENT_TYPE_OPTIONS).is_some(),
            "security headers"
        );
        let online = engine.snapshot().regions[0].online;
        let line = format!("switchyard_region_devices_online{{region=\"us-east-1\"}} {online}");
        assert!(text.contains(&line), "{line} not in:\n{text}");
    }
    for from in [Some("10.0.0.5"), None] {
        let (s, _, text) = get(&app, "/metrics", from, &[], None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{from:?}: {text}");
        assert!(text.contains("loopback only"), "{text}");
    }
    // The scrape token opens it from anywhere.
    let auth = bearer(TOKEN);
    let (s, _, _) = get(
        &app,
        "/metrics",
        Some("10.0.0.5"),
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn with_logins_metrics_answer_the_scrape_token_and_refuse_a_wrong_one() {
    let (app, _) = console(AuthMode::Local).await;
    let from = Some("10.1.2.3");
    let good = bearer(TOKEN);
    let (s, _, text) = get(&app, "/metrics", from, &[("authorization", &good)], None).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(
        text.contains("# TYPE switchyard_region_health gauge"),
        "{text}"
    );
    let lower = format!("bearer {TOKEN}");
    let (s, _, _) = get(&app, "/metrics", from, &[("authorization", &lower)], None).await;
    assert_eq!(s, StatusCode::OK, "the scheme is case-insensitive");
    for wrong in [
        bearer("scrape-token-0123456789abcdeX"),
        bearer(""),
        "Basic dmVyYTp4".into(),
    ] {
        let (s, h, text) = get(&app, "/metrics", from, &[("authorization", &wrong)], None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{wrong}: {text}");
        assert!(h.get(header::WWW_AUTHENTICATE).is_some());
        assert!(!text.contains(TOKEN), "the token is never repeated");
    }
    // Nobody, even on loopback: logins are on.
    let (s, _, text) = get(&app, "/metrics", Some("127.0.0.1"), &[], None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(text.contains("sign in"), "{text}");
}

#[tokio::test]
async fn with_logins_metrics_answer_a_viewer_s_session() {
    let (app, _) = console(AuthMode::Local).await;
    let body = serde_json::json!({ "username": "vera", "password": PASSWORD }).to_string();
    let (s, h, text) = get(&app, "/api/v1/session", None, &[], Some(body)).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let cookie = h
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (s, _, text) = get(
        &app,
        "/metrics",
        Some("10.1.2.3"),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(text.contains("switchyard_info{"), "{text}");
    let (s, _, _) = get(
        &app,
        "/metrics",
        Some("10.1.2.3"),
        &[("cookie", "sy_session=ended")],
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn behind_a_trusted_proxy_metrics_answer_its_viewer() {
    let (app, _) = console(AuthMode::TrustedHeader {
        header: "x-forwarded-user".into(),
        proxies: vec!["10.0.0.5".parse().unwrap()],
    })
    .await;
    let user = [("x-forwarded-user", "vera")];
    let (s, _, text) = get(&app, "/metrics", Some("10.0.0.5"), &user, None).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let (s, _, _) = get(&app, "/metrics", Some("10.0.0.9"), &user, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "not from the proxy");
}
