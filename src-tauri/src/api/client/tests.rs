//! The client against small axum apps on loopback.

use super::*;
use axum::routing::{get, post};
use axum::{Json, Router};
use std::time::Duration;

/// An axum app on a loopback port; returns its URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn app() -> Router {
    Router::new()
        .route("/api/v1/echo", post(|Json(v): Json<serde_json::Value>| async move { Json(v) }))
        .route(
            "/api/v1/who",
            get(|h: axum::http::HeaderMap| async move {
                let get = |n: &str| {
                    h.get(n)
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                };
                Json(serde_json::json!({
                    "operator": get(OPERATOR_HEADER),
                    "cookie": get("cookie"),
                    "csrf": get(CSRF_HEADER),
                }))
            }),
        )
        .route(
            "/api/v1/session",
            post(|| async {
                (
                    [("set-cookie", "sy_session=abc123; HttpOnly; Path=/")],
                    Json(serde_json::json!({"ok": true})),
                )
            }),
        )
        .route(
            "/api/v1/missing",
            get(|| async {
                (
                    axum::http::StatusCode::NOT_FOUND,
                    Json(serde_json::json!({"error": "eu-central-1 is not a configured region"})),
                )
            }),
        )
        .route(
            "/api/v1/events",
            get(|| async {
                let body = ": keep-alive\n\nevent: regions\ndata: {\"n\":1}\n\nevent: regions\r\ndata: a\r\ndata: b\r\n\r\n";
                ([("content-type", "text/event-stream")], body)
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
}

#[test]
fn an_address_must_be_http_or_https_with_a_host() {
    let t = Target::parse("https://console.noc.example/switchyard/").unwrap();
    assert_eq!(
        (t.https, t.host.as_str(), t.port, t.base.as_str()),
        (true, "console.noc.example", 443, "/switchyard")
    );
    let t = Target::parse("http://[::1]:8740").unwrap();
    assert_eq!(
        (t.host.as_str(), t.port, t.authority.as_str()),
        ("::1", 8740, "[::1]:8740")
    );
    for (url, why) in [
        ("ftp://x", "must start with http:// or https://"),
        ("127.0.0.1:8740", "must start with http:// or https://"),
        ("http://", "not a URL"),
        (
            "http://u:p@host",
            "a user or password does not belong in the address",
        ),
        ("http://host/?a=1", "a query does not belong in the address"),
    ] {
        let e = Target::parse(url).unwrap_err();
        assert_eq!(e.to_string(), format!("{url}: {why}"), "{url}");
    }
}

#[tokio::test]
async fn json_goes_out_and_comes_back_with_the_callers_headers() {
    let url = serve(app()).await;
    let c = Client::new(&url).unwrap();
    let back: serde_json::Value = c
        .post_json("/api/v1/echo", &serde_json::json!({"a": [1, 2]}))
        .await
        .unwrap();
    assert_eq!(back, serde_json::json!({"a": [1, 2]}));
    let who = c
        .send(
            Request::get("/api/v1/who")
                .operator("José")
                .cookie("sy_session=abc")
                .csrf("t0k"),
        )
        .await
        .unwrap()
        .ok()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap();
    assert_eq!(
        who,
        serde_json::json!({"operator": "José", "cookie": "sy_session=abc", "csrf": "t0k"})
    );
    let signed = c.send(Request::post("/api/v1/session")).await.unwrap();
    assert_eq!(signed.set_cookie().as_deref(), Some("sy_session=abc123"));
}

#[tokio::test]
async fn an_error_status_carries_the_servers_message() {
    let url = serve(app()).await;
    let c = Client::new(&url).unwrap();
    let e = c
        .get_json::<serde_json::Value>("/api/v1/missing")
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ClientError::Status {
            status: 404,
            message: "eu-central-1 is not a configured region".into()
        }
    );
    let e = c.get_json::<Vec<u8>>("/api/v1/who").await.unwrap_err();
    assert!(matches!(e, ClientError::Decode { .. }), "{e:?}");
}

#[tokio::test]
async fn an_event_stream_is_read_event_by_event_skipping_comments() {
    let url = serve(app()).await;
    let c = Client::new(&url).unwrap();
    let mut s = c.events(Request::get("/api/v1/events")).await.unwrap();
    assert_eq!(s.status, 200);
    assert_eq!(s.header("content-type"), Some("text/event-stream"));
    let first = s.next_event().await.unwrap().unwrap();
    assert_eq!(first.event, "regions");
    assert_eq!(first.json::<serde_json::Value>().unwrap()["n"], 1);
    let second = s.next_event().await.unwrap().unwrap();
    assert_eq!(
        (second.event.as_str(), second.data.as_str()),
        ("regions", "a\nb")
    );
    assert_eq!(s.next_event().await.unwrap(), None, "the stream ended");
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error_naming_the_console() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let e = Client::new(&url)
        .unwrap()
        .send(Request::get("/healthz"))
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Connect { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("cannot reach the console at {url}: ")),
        "{e}"
    );
}

#[tokio::test]
async fn a_request_that_outlives_its_deadline_is_a_timeout() {
    let url = serve(app()).await;
    let c = Client::with_options(
        &url,
        ClientOptions {
            request_timeout: Duration::from_millis(200),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let e = c.send(Request::get("/slow")).await.unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::Timeout {
                stage: Stage::Answer,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.to_string(), format!("{url}: no answer within 0.2 s"));
}

#[tokio::test]
async fn a_bad_ca_file_is_named_and_a_stalled_tls_handshake_times_out() {
    // A listener that accepts nothing: the TCP connect succeeds (the backlog), the TLS
    // handshake never completes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate").unwrap();
    let e = Client::with_options(
        &url,
        ClientOptions {
            ca_file: Some(ca.clone()),
            ..ClientOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("CA file {}: no certificate in it", ca.display())
    );
    let c = Client::with_options(
        &url,
        ClientOptions {
            connect_timeout: Duration::from_millis(200),
            ..ClientOptions::default()
        },
    );
    // A machine without roots says so; one with them times out the handshake.
    match c {
        Err(e) => assert!(matches!(e, ClientError::Tls { .. }), "{e:?}"),
        Ok(c) => {
            let e = c.send(Request::get("/healthz")).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    ClientError::Timeout {
                        stage: Stage::Connect,
                        ..
                    }
                ),
                "{e:?}"
            );
        }
    }
}

#[test]
fn the_blocking_client_works_inside_and_outside_a_runtime() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(serve(app()));
    let c = BlockingClient::new(Client::new(&url).unwrap()).unwrap();
    let echo = |c: &BlockingClient| {
        c.send(Request::post("/api/v1/echo").json_text("[7]"))
            .unwrap()
            .text()
    };
    assert_eq!(echo(&c), "[7]");
    assert_eq!(rt.block_on(async { echo(&c) }), "[7]");
    // Made and dropped inside a runtime, as a test's server helper is.
    let inside = rt.block_on(async {
        let c = BlockingClient::new(Client::new(&url).unwrap()).unwrap();
        echo(&c)
    });
    assert_eq!(inside, "[7]");
}
