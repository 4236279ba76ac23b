//! The request parsers under random input: thousands of malformed, truncated, mistyped,
//! oversized and deeply nested bodies, odd paths and query strings, sent to every route of the
//! OpenAPI document. Whatever arrives, the answer is a 2xx or a 4xx with a JSON error naming the
//! problem, never a 5xx and never a panic. Seeded, so a failure replays.

use super::*;
use crate::engine::EngineConfig;
use crate::store::Store;
use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use switchyard_core::rng::Rng;
use tower::ServiceExt;

/// Bodies the routes accept, to be broken.
const VALID: &[&str] = &[
    r#"{"target":"eu-west-1","confirm":"eu-west-1","reason":"fuzz","override_warnings":false}"#,
    r#"{"fault":{"region":"eu-west-1","kind":"degraded","duration_secs":5},"reason":"fuzz"}"#,
    r#"{"reason":"fuzz"}"#,
    r#"{"command":"ping","payload":{},"target":{"kind":"region","code":"us-east-1"},"offline":"skip","reason":"fuzz"}"#,
    r#"{"scenario":{"name":"fuzz","duration_secs":30,"devices":50,"gateways":2,"failover":{"by":"script","decide_secs":1}}}"#,
    r#"{"notes":"fuzz","action_items":[{"text":"a","owner":"b","done":false}]}"#,
    r#"{"username":"fuzz","password":"correct horse battery"}"#,
    r#"{"username":"fuzz-user","password":"correct horse battery","role":"viewer"}"#,
    r#"{"token":"abc","username":"fuzz","password":"correct horse battery"}"#,
];

const ODD: &[&str] = &[
    "",
    "{",
    "}",
    "[]",
    "null",
    "true",
    "0",
    "-1",
    "1e400",
    "\"\"",
    "{\"a\":",
    "{}",
    "[[[[[[",
    "\u{0}",
    "\u{feff}{}",
    "{\"reason\":\"\u{202e}\u{0}\"}",
    "%%%",
    "{\"x\":1}{\"y\":2}",
];

fn mutate(g: &mut Rng, body: &str) -> String {
    match g.below(10) {
        // Truncated anywhere (on a char boundary).
        0 => {
            let cut = g.below(body.len() + 1);
            let cut = (0..=cut)
                .rev()
                .find(|i| body.is_char_boundary(*i))
                .unwrap_or(0);
            body[..cut].to_string()
        }
        // An unknown field.
        1 => body.replacen('{', "{\"unexpected\":1,", 1),
        // A value of the wrong type.
        2 => {
            let wrong = *g.pick(&[
                "1",
                "-1",
                "null",
                "[]",
                "{}",
                "\"x\"",
                "1.5",
                "18446744073709551616",
                "true",
            ]);
            match body.find(':') {
                Some(i) => {
                    let end = body[i + 1..]
                        .find([',', '}'])
                        .map_or(body.len(), |j| i + 1 + j);
                    format!("{}:{wrong}{}", &body[..i], &body[end..])
                }
                None => wrong.to_string(),
            }
        }
        // Deep nesting.
        3 => format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)),
        // Random bytes (lossy as text).
        4 => (0..g.below(200))
            .map(|_| char::from(g.below(256) as u8))
            .collect(),
        // A long string where a short one goes.
        5 => body.replacen("fuzz", &"é".repeat(10_000), 1),
        // A field removed.
        6 => match (body.find(",\""), body.find(':')) {
            (Some(i), _) => {
                let end = body[i + 1..]
                    .find(',')
                    .map_or(body.len() - 1, |j| i + 1 + j);
                format!("{}{}", &body[..i], &body[end..])
            }
            _ => String::new(),
        },
        7 => g.pick(ODD).to_string(),
        // Big numbers where small ones go.
        8 => body
            .replace("30", "99999999999")
            .replace("50", "4294967296")
            .replace(":5", ":18446744073709551615"),
        _ => body.to_string(),
    }
}

fn odd_segment(g: &mut Rng) -> String {
    g.pick(&[
        "x",
        "%00",
        "%ff%fe",
        "..",
        "a%2Fb",
        "%E2%80%AE",
        "drill-1",
        "fo-1",
        "cmd-1",
        "0",
        "reconnection.png",
        "timeline.svg",
        "..%2F..%2Fetc%2Fpasswd",
    ])
    .to_string()
        + &"z".repeat(g.below(3) * g.below(300))
}

fn odd_query(g: &mut Rng) -> String {
    let k = *g.pick(&[
        "limit",
        "offset",
        "open",
        "minutes",
        "target",
        "a",
        "b",
        "region",
        "q",
        "group",
        "connected",
        "zzz",
    ]);
    let v = *g.pick(&[
        "-1",
        "0",
        "abc",
        "99999999999999999999",
        "%00",
        "true",
        "1",
        "eu-west-1",
        "",
        "%E2%82%AC",
    ]);
    format!("?{k}={v}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_input_makes_the_api_answer_5xx() {
    let cfg = EngineConfig {
        commands: crate::engine::CommandConfig {
            catalogue: crate::settings::default_catalogue(),
            ..Default::default()
        },
        ..EngineConfig::default()
    };
    let (engine, _) = super::tests::sim_engine(300, 3, cfg, Store::in_memory());
    for r in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        engine.poll_once(r).await;
    }
    let app = router(engine, Ui::Missing);
    let mut g = Rng::new(0x5EED_F022);
    let (mut sent, mut client_errors) = (0, 0);
    for _ in 0..4_000 {
        let (method, path) = *g.pick(&ROUTES);
        if path == "/api/v1/events" {
            continue;
        }
        let mut uri = path.to_string();
        while let Some(i) = uri.find('{') {
            let j = uri[i..].find('}').unwrap() + i;
            uri.replace_range(i..=j, &odd_segment(&mut g));
        }
        if g.below(3) == 0 {
            uri.push_str(&odd_query(&mut g));
        }
        let m = method.to_uppercase();
        let body = (m != "GET").then(|| {
            let base = *g.pick(VALID);
            let mut b = mutate(&mut g, base);
            if g.below(4) == 0 {
                b = mutate(&mut g, &b);
            }
            b
        });
        let mut req = Request::builder().method(m.as_str()).uri(&uri);
        if body.is_some() {
            req = req.header(
                header::CONTENT_TYPE,
                *g.pick(&[
                    "application/json",
                    "application/json",
                    "text/plain",
                    "application/json; charset=utf-8",
                ]),
            );
        }
        let Ok(req) = req.body(body.clone().map_or_else(Body::empty, Body::from)) else {
            continue; // not even a request (the URI did not parse): nothing reaches the server
        };
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let ctype = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        sent += 1;
        assert!(
            !status.is_server_error(),
            "{m} {uri} with {:?} answered {status}: {}",
            body.as_deref().map(|b| &b[..b.len().min(200)]),
            String::from_utf8_lossy(&bytes)
        );
        if status.is_client_error() {
            client_errors += 1;
            assert!(
                ctype.starts_with("application/json"),
                "{m} {uri}: {status} as {ctype}"
            );
            let e: switchyard_core::api::ApiError =
                serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                    panic!("{m} {uri}: {status} {}", String::from_utf8_lossy(&bytes))
                });
            assert!(!e.error.trim().is_empty());
        }
    }
    eprintln!("fuzz: {sent} requests, {client_errors} refused with a 4xx, 0 answered 5xx");
    assert!(
        sent > 3_500 && client_errors > sent / 2,
        "{sent} sent, {client_errors} refused"
    );
}
