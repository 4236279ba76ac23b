//! What the server serves besides the resources: every documented route answering, and the
//! built UI (from a folder, embedded, or missing).

use super::*;

#[tokio::test]
async fn every_documented_route_answers_and_the_served_document_is_the_generated_one() {
    let (app, engine, _) = setup(Ui::Missing);
    let doc = openapi_document();
    for (method, path) in ROUTES.iter() {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
        if *method == "get" && *path != "/api/v1/events" {
            let (path, want) = if path.starts_with("/api/v1/regions/") {
                (path.replace("{id}", "us-east-1"), StatusCode::OK)
            } else if path.starts_with("/api/v1/failovers/")
                || path.starts_with("/api/v1/commands/")
            {
                (path.replace("{id}", "fo-1"), StatusCode::NOT_FOUND)
            } else if path.starts_with("/api/v1/drills/") {
                let path = if path.ends_with("/compare") {
                    format!("{path}?a=drill-1&b=drill-2")
                } else {
                    path.replace("{id}", "drill-1")
                        .replace("{file}", "timeline.svg")
                };
                (path, StatusCode::NOT_FOUND)
            } else if *path == "/api/v1/readiness" || *path == "/api/v1/failover/plan" {
                (format!("{path}?target=eu-west-1"), StatusCode::OK)
            } else if path.starts_with("/api/v1/incidents/") {
                let path = path.replace("{id}", "404");
                let path = if path.ends_with("/export") {
                    format!("{path}?format=md")
                } else {
                    path
                };
                (path, StatusCode::NOT_FOUND)
            } else if *path == "/api/v1/deliveries" {
                (format!("{path}?limit=5"), StatusCode::OK)
            } else {
                (path.replace("{id}", "dev-0000001"), StatusCode::OK)
            };
            let (s, _, text) = call(&app, "GET", &path, None).await;
            assert_eq!(s, want, "GET {path}: {text}");
        }
    }
    assert!(ROUTES.len() > 40, "the routes were read from the document");
    let (_, _, served) = call(&app, "GET", "/api/v1/openapi.json", None).await;
    let served: serde_json::Value = serde_json::from_str(&served).unwrap();
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"].map(String::from);
    let commands: Vec<String> = engine.commands().iter().map(|c| c.name.clone()).collect();
    assert_eq!(served, crate::api::openapi::for_server(&regions, &commands));
    let target = |d: &serde_json::Value| {
        d["components"]["schemas"]["FailoverRequest"]["properties"]["target"]["enum"].clone()
    };
    assert_eq!(
        target(&served),
        serde_json::json!(regions),
        "this server's regions"
    );
    assert!(
        target(&doc).is_null(),
        "the document alone names no server's regions"
    );
}

#[tokio::test]
async fn the_ui_is_served_from_root_with_the_index_as_fallback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<html>switchyard ui</html>").unwrap();
    std::fs::write(dir.path().join("ui_bg.wasm"), b"\0asm").unwrap();
    let (app, _, _) = setup(Ui::Dir(dir.path().to_path_buf()));
    let (s, ct, body) = call(&app, "GET", "/", None).await;
    assert_eq!(
        (s, body.as_str()),
        (StatusCode::OK, "<html>switchyard ui</html>")
    );
    assert!(ct.starts_with("text/html"));
    let (_, ct, _) = call(&app, "GET", "/ui_bg.wasm", None).await;
    assert_eq!(ct, "application/wasm");
    let (s, _, body) = call(&app, "GET", "/devices/some-deep-link", None).await;
    assert_eq!(
        (s, body.as_str()),
        (StatusCode::OK, "<html>switchyard ui</html>")
    );
}

static FAKE_UI: &[UiFile] = &[
    UiFile {
        name: "index.html",
        bytes: b"<html>embedded ui</html>",
        etag: "\"1\"",
        gzip: None,
        brotli: None,
    },
    UiFile {
        name: "ui_bg.wasm",
        bytes: b"\0asm",
        etag: "\"2\"",
        gzip: Some(Encoded {
            bytes: b"gz-bytes",
            etag: "\"2-gz\"",
        }),
        brotli: Some(Encoded {
            bytes: b"br-bytes",
            etag: "\"2-br\"",
        }),
    },
];

/// Sends `GET path` with these request headers; the status, the answer's headers and body.
async fn get_with(
    app: &Router,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(path);
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let r = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, h) = (r.status(), r.headers().clone());
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, h, body)
}

#[tokio::test]
async fn a_precompressed_file_is_sent_in_the_preferred_encoding_with_its_own_etag() {
    let (app, _, _) = setup(Ui::Embedded(FAKE_UI));
    let ae = header::ACCEPT_ENCODING;
    // (Accept-Encoding sent, Content-Encoding wanted, body, ETag).
    type Case = (
        Option<&'static str>,
        Option<&'static str>,
        &'static [u8],
        &'static str,
    );
    let cases: [Case; 6] = [
        (None, None, b"\0asm", "\"2\""),
        (
            Some("gzip, deflate, br, zstd"),
            Some("br"),
            b"br-bytes",
            "\"2-br\"",
        ),
        (Some("gzip"), Some("gzip"), b"gz-bytes", "\"2-gz\""),
        (
            Some("br;q=0.5, gzip;q=0.9"),
            Some("gzip"),
            b"gz-bytes",
            "\"2-gz\"",
        ),
        (Some("br;q=0, gzip;q=0"), None, b"\0asm", "\"2\""),
        (Some("*"), Some("br"), b"br-bytes", "\"2-br\""),
    ];
    for (accept, coding, body, etag) in cases {
        let headers: Vec<_> = accept.map(|a| (ae.clone(), a)).into_iter().collect();
        let (s, h, bytes) = get_with(&app, "/ui_bg.wasm", &headers).await;
        assert_eq!(s, StatusCode::OK, "{accept:?}");
        assert_eq!(
            h.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()),
            coding,
            "{accept:?}"
        );
        assert_eq!(
            (bytes.as_slice(), h[header::ETAG].to_str().unwrap()),
            (body, etag),
            "{accept:?}"
        );
        assert_eq!(h[header::VARY], "accept-encoding", "{accept:?}");
        assert_eq!(h[header::CONTENT_TYPE], "application/wasm");
        // Revalidating with this encoding's ETag: 304, still varying on the encoding.
        let mut again = headers.clone();
        again.push((header::IF_NONE_MATCH, etag));
        let (s, h, _) = get_with(&app, "/ui_bg.wasm", &again).await;
        assert_eq!(
            (s, h[header::VARY].to_str().unwrap()),
            (StatusCode::NOT_MODIFIED, "accept-encoding")
        );
    }
    // Another encoding's ETag is not this one's: the bytes are sent.
    let (s, _, bytes) = get_with(
        &app,
        "/ui_bg.wasm",
        &[(ae.clone(), "br"), (header::IF_NONE_MATCH, "\"2-gz\"")],
    )
    .await;
    assert_eq!((s, bytes.as_slice()), (StatusCode::OK, &b"br-bytes"[..]));
    // A file without copies does not vary; the copies are not files of their own.
    let (_, h, _) = get_with(&app, "/index.html", &[(ae.clone(), "br")]).await;
    assert!(h.get(header::VARY).is_none() && h.get(header::CONTENT_ENCODING).is_none());
    let (s, _, _) = get_with(&app, "/ui_bg.wasm.br", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_apis_answers_go_out_compressed_to_a_client_that_asks_and_the_event_stream_does_not() {
    use std::io::Read;
    let (app, _, _) = setup(Ui::Embedded(FAKE_UI));
    let ae = header::ACCEPT_ENCODING;
    let (s, h, plain) = get_with(&app, "/api/v1/regions", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h.get(header::CONTENT_ENCODING).is_none(), "{h:?}");
    // The same answer but for the server's clock, which moves between the two requests.
    let answer = |text: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(text).unwrap();
        v["server_time"] = serde_json::Value::Null;
        v
    };
    let plain = answer(&plain);
    let (s, h, gz) = get_with(&app, "/api/v1/regions", &[(ae.clone(), "gzip")]).await;
    assert_eq!(
        (s, h[header::CONTENT_ENCODING].to_str().unwrap()),
        (StatusCode::OK, "gzip")
    );
    assert_eq!(h[header::VARY], "accept-encoding");
    let mut text = String::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(answer(text.as_bytes()), plain);
    assert!(
        gz.len() < text.len(),
        "{} compressed, {} plain",
        gz.len(),
        text.len()
    );
    let (_, h, _) = get_with(
        &app,
        "/api/v1/regions",
        &[(ae.clone(), "gzip, deflate, br")],
    )
    .await;
    assert_eq!(h[header::CONTENT_ENCODING], "br");
    // The live stream is sent as it happens, never held back to be compressed.
    let r = app
        .clone()
        .oneshot(
            Request::get("/api/v1/events")
                .header(&ae, "gzip, br")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.headers()[header::CONTENT_TYPE], "text/event-stream");
    assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_every_route_and_every_static_file() {
    let check = |what: &str, h: &axum::http::HeaderMap| {
        for (k, v) in [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "no-referrer"),
        ] {
            assert_eq!(
                h.get(k).map(|v| v.to_str().unwrap()),
                Some(v),
                "{what}: {k}"
            );
        }
        let csp = h
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap_or_else(|| panic!("{what}: no CSP"))
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    };
    // The built UI when there is one (CI builds it first), and the stand-in with copies.
    let mut uis = vec![Ui::Embedded(FAKE_UI)];
    if !EMBEDDED.is_empty() {
        uis.push(Ui::Embedded(EMBEDDED));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<html>ui</html>").unwrap();
    std::fs::write(dir.path().join("index.html.br"), "br").unwrap();
    uis.push(Ui::Dir(dir.path().to_path_buf()));
    let mut files = 0;
    for ui in uis {
        let names: Vec<&str> = match &ui {
            Ui::Embedded(f) => f.iter().map(|f| f.name).collect(),
            _ => vec!["index.html"],
        };
        let (app, _, _) = setup(ui);
        for name in names
            .iter()
            .copied()
            .chain(["", "devices/a-deep-link", "missing.js"])
        {
            for accept in ["identity", "br"] {
                let (_, h, _) = get_with(
                    &app,
                    &format!("/{name}"),
                    &[(header::ACCEPT_ENCODING, accept)],
                )
                .await;
                check(&format!("/{name} ({accept})"), &h);
                files += 1;
            }
        }
    }
    assert!(files >= 14, "{files} answers checked");
    let (app, _, _) = setup(Ui::Missing);
    for (method, path) in ROUTES.iter() {
        if *path == "/api/v1/events" {
            continue;
        }
        let uri = path
            .replace("{id}", "x-1")
            .replace("{file}", "timeline.svg");
        let req = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(if *method == "get" { "" } else { "{}" }))
            .unwrap();
        let r = app.clone().oneshot(req).await.unwrap();
        check(&format!("{method} {uri} ({})", r.status()), r.headers());
    }
    let (_, h, _) = get_with(&app, "/", &[]).await;
    check("the page saying the UI is not built", &h);
}

#[tokio::test]
async fn the_embedded_ui_is_served_with_types_links_and_revalidation() {
    let (app, _, _) = setup(Ui::Embedded(FAKE_UI));
    let (s, ct, body) = call(&app, "GET", "/", None).await;
    assert_eq!(
        (s, ct.as_str(), body.as_str()),
        (
            StatusCode::OK,
            "text/html; charset=utf-8",
            "<html>embedded ui</html>"
        )
    );
    let (s, ct, bytes) = call_raw(&app, "GET", "/ui_bg.wasm", None).await;
    assert_eq!(
        (s, ct.as_str(), bytes.as_slice()),
        (StatusCode::OK, "application/wasm", &b"\0asm"[..])
    );
    // The UI's own links get the page; a missing file is a 404, not the page.
    let (s, _, body) = call(&app, "GET", "/devices/some-deep-link", None).await;
    assert_eq!(
        (s, body.as_str()),
        (StatusCode::OK, "<html>embedded ui</html>")
    );
    let (s, _, _) = call(&app, "GET", "/missing.js", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The API keeps its own 404s.
    let (s, ct, _) = call(&app, "GET", "/api/v1/nothing-here", None).await;
    assert_eq!(
        (s, ct.as_str()),
        (StatusCode::NOT_FOUND, "application/json")
    );
    // A browser holding the current copy gets 304 and no body; a stale one gets the file.
    let revalidate = |etag: &'static str| {
        Request::get("/ui_bg.wasm")
            .header(header::IF_NONE_MATCH, etag)
            .body(Body::empty())
            .unwrap()
    };
    let r = app.clone().oneshot(revalidate("\"2\"")).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers()[header::ETAG], "\"2\"");
    assert!(r.into_body().collect().await.unwrap().to_bytes().is_empty());
    let r = app.clone().oneshot(revalidate("\"1\"")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
}

#[test]
fn the_binary_carries_the_built_ui_byte_for_byte() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist");
    if !dist.join("index.html").is_file() {
        // Nothing was built, so nothing is embedded; the server then says how to build it.
        assert!(EMBEDDED.is_empty());
        return;
    }
    let mut names: Vec<_> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".br") && !n.ends_with(".gz"))
        .collect();
    names.sort();
    let embedded: Vec<_> = EMBEDDED.iter().map(|f| f.name.to_string()).collect();
    assert_eq!(embedded, names);
    let read = |name: String| std::fs::read(dist.join(name)).ok();
    for f in EMBEDDED {
        assert_eq!(Some(f.bytes.to_vec()), read(f.name.into()), "{}", f.name);
        // Each compressed copy xtask wrote is built in beside its file, byte for byte.
        for (copy, ext) in [(&f.gzip, "gz"), (&f.brotli, "br")] {
            assert_eq!(
                copy.as_ref().map(|c| c.bytes.to_vec()),
                read(format!("{}.{ext}", f.name)),
                "{}.{ext}",
                f.name
            );
        }
    }
    for wanted in [
        "index.html",
        "switchyard_ui_bg.wasm",
        "switchyard_ui.js",
        "boot.js",
    ] {
        assert!(
            EMBEDDED.iter().any(|f| f.name == wanted),
            "{wanted} is built in"
        );
    }
}

#[tokio::test]
async fn without_a_built_ui_root_says_how_to_build_it() {
    let (app, _, _) = setup(Ui::Missing);
    let (s, _, body) = call(&app, "GET", "/", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("cargo xtask build"));
}

#[test]
fn the_ui_policy_lets_through_exactly_the_chart_text_styles_of_the_font_sizes_the_charts_use() {
    use sha2::Digest;
    // Base64 (RFC 4648, padded), as CSP hashes are written.
    fn base64(bytes: &[u8]) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
            for i in 0..4 {
                out.push(if i <= chunk.len() {
                    ABC[(n >> (18 - 6 * i) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    }
    let charts = include_str!("../../../../src-ui/src/charts.rs");
    let mut sizes: Vec<&str> = charts
        .split("(\"sans-serif\", ")
        .skip(1)
        .map(|rest| rest.split(')').next().unwrap())
        .collect();
    sizes.sort();
    sizes.dedup();
    assert!(
        sizes.len() >= 2,
        "the charts' font sizes were read: {sizes:?}"
    );
    for size in &sizes {
        // plotters' web font backend (src/style/font/web.rs), the span it measures text with.
        let style = format!(
            "display: inline-block; font-family:sans-serif; font-style:normal; \
             font-size: {size}px; position: fixed; top: 100%"
        );
        let hash = base64(&sha2::Sha256::digest(style.as_bytes()));
        assert!(
            UI_CSP.contains(&format!("'sha256-{hash}'")),
            "font size {size}: 'sha256-{hash}' is not in the UI's policy"
        );
    }
    assert_eq!(
        UI_CSP.matches("'sha256-").count(),
        sizes.len(),
        "one hash for each font size, none left over"
    );
    assert!(!UI_CSP.contains("unsafe-inline"));
}
