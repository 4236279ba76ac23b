use super::*;
use crate::engine::EngineConfig;
use crate::sim::{SimConfig, SimFleet, SimSource};
use crate::store::Store;
use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use switchyard_core::api::RegionsResponse;
use tower::ServiceExt;

/// The engine the API tests run on: a simulated fleet of `devices` and `gateways` that answers
/// at once (`fail_fast`), able to inject faults, switch traffic and reach devices.
pub(super) fn sim_engine(
    devices: usize,
    gateways: usize,
    cfg: EngineConfig,
    store: Store,
) -> (Engine, SimSource) {
    let sim = SimSource::new(SimFleet::new(
        SimConfig {
            devices,
            gateways,
            ..SimConfig::default()
        },
        5_000,
    ))
    .fail_fast();
    let engine = crate::engine::kit::EngineKit::sim(&sim)
        .config(cfg)
        .store(store)
        .build();
    (engine, sim)
}

fn setup(ui: Ui) -> (Router, Engine, SimSource) {
    let (engine, sim) = sim_engine(500, 4, EngineConfig::default(), Store::in_memory());
    (router(engine.clone(), ui), engine, sim)
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, String, String) {
    let (status, ctype, bytes) = call_raw(app, method, uri, body).await;
    (status, ctype, String::from_utf8(bytes).unwrap())
}

/// One request through the router: the status, the content type and the body's bytes.
async fn call_raw(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, bytes.to_vec())
}

#[tokio::test]
async fn healthz_answers() {
    let (app, _, _) = setup(Ui::Missing);
    let (s, ct, body) = call(&app, "GET", "/healthz", None).await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "application/json"));
    assert!(body.contains(r#""status":"ok""#));
}

#[tokio::test]
async fn regions_carry_roles_figures_and_ages() {
    let (app, engine, _) = setup(Ui::Missing);
    engine.poll_once("us-east-1").await;
    let (s, _, body) = call(&app, "GET", "/api/v1/regions", None).await;
    assert_eq!(s, StatusCode::OK);
    let r: RegionsResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(r.regions.len(), 3);
    let active = &r.regions[0];
    assert_eq!(
        (active.id.as_str(), active.online, active.observed_at),
        ("us-east-1", 500, Some(5_000))
    );
    assert!(
        r.server_time > 1_600_000_000_000,
        "server time is the wall clock"
    );
    assert_eq!(
        r.regions[1].observed_at, None,
        "a region not yet polled has no age"
    );
}

#[tokio::test]
async fn events_start_with_the_current_state_then_follow_changes() {
    let (app, engine, _) = setup(Ui::Missing);
    let req = Request::get("/api/v1/events").body(Body::empty()).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = resp.into_body();
    let mut next = async || {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("a frame")
            .unwrap()
            .unwrap();
        String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap()
    };
    let first = next().await;
    assert!(
        first.starts_with("event: regions\ndata: {\"type\":\"regions\",\"version\":1,"),
        "{first}"
    );
    engine.poll_once("eu-west-1").await;
    let second = next().await;
    assert!(second.contains("\"version\":2"), "{second}");
    // At shutdown the stream ends, so a graceful shutdown need not wait for open consoles.
    engine.shutdown();
    let end = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("the stream ends at shutdown");
    assert!(end.is_none(), "no more frames after shutdown");
}

#[tokio::test]
async fn a_fault_can_be_injected_and_cleared() {
    let (app, engine, sim) = setup(Ui::Missing);
    let (s, _, body) = call(&app, "POST", "/api/v1/sim/faults",
        Some(r#"{"fault":{"region":"eu-west-1","kind":"outage","duration_secs":30},"reason":"training"}"#)).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let resp: AuditedResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(resp.message, "outage injected in eu-west-1");
    assert!(engine.store().audit_entry(resp.audit_id).unwrap().is_some());
    engine.poll_once("eu-west-1").await;
    assert_eq!(
        engine.snapshot().regions[1].health.status,
        switchyard_core::HealthStatus::Unreachable
    );

    let (s, _, body) = call(
        &app,
        "DELETE",
        "/api/v1/sim/faults",
        Some(r#"{"reason":"over"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("1 fault(s) ended"));
    assert_eq!(sim.with(|f| f.fault_in(1)), None);
}

#[tokio::test]
async fn bad_requests_get_a_4xx_that_names_the_problem_and_change_nothing() {
    let (app, _, sim) = setup(Ui::Missing);
    let cases = [
        (
            r#"{"fault":{"region":"eu-west-1","kind":"outage"},"reason":"x","extra":1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field `extra`",
        ),
        (
            r#"{"fault":{"region":"eu-west-1","kind":"flood"},"reason":"x"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown variant `flood`",
        ),
        (
            r#"{"fault":{"region":"us-west-2","kind":"outage"},"reason":"x"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "us-west-2 is not part of the simulated fleet",
        ),
        (
            r#"{"fault":{"region":"eu-west-1","kind":"outage"},"reason":""}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a reason is required",
        ),
        (r#"{"fault":"#, StatusCode::BAD_REQUEST, "EOF"),
    ];
    for (body, status, needle) in cases {
        let (s, ct, text) = call(&app, "POST", "/api/v1/sim/faults", Some(body)).await;
        assert_eq!(s, status, "{body} -> {text}");
        assert_eq!(ct, "application/json");
        let err: ApiError = serde_json::from_str(&text).unwrap();
        assert!(err.error.contains(needle), "{body} -> {}", err.error);
    }
    assert_eq!(
        sim.with(|f| (0..3).filter_map(|r| f.fault_in(r)).count()),
        0,
        "nothing was injected"
    );
    let (s, _, text) = call(&app, "GET", "/api/v1/nothing-here", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(text.contains("no such API route"));
}

#[tokio::test]
async fn every_route_is_documented_and_answers() {
    let (app, _, _) = setup(Ui::Missing);
    let doc = openapi_document();
    for (method, path) in ROUTES {
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
            } else if *path == "/api/v1/readiness" {
                (format!("{path}?target=eu-west-1"), StatusCode::OK)
            } else {
                (path.replace("{id}", "dev-0000001"), StatusCode::OK)
            };
            let (s, _, text) = call(&app, "GET", &path, None).await;
            assert_eq!(s, want, "GET {path}: {text}");
        }
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        ROUTES.len(),
        "the document lists a route the server does not have"
    );
    let (_, _, served) = call(&app, "GET", "/api/v1/openapi.json", None).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&served).unwrap(),
        doc
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
    },
    UiFile {
        name: "ui_bg.wasm",
        bytes: b"\0asm",
        etag: "\"2\"",
    },
];

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
        .collect();
    names.sort();
    let embedded: Vec<_> = EMBEDDED.iter().map(|f| f.name.to_string()).collect();
    assert_eq!(embedded, names);
    for f in EMBEDDED {
        assert_eq!(
            f.bytes,
            std::fs::read(dist.join(f.name)).unwrap(),
            "{}",
            f.name
        );
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

#[tokio::test]
async fn devices_are_filtered_paged_and_checked() {
    let (app, _, _) = setup(Ui::Missing);
    let (s, _, body) = call(
        &app,
        "GET",
        "/api/v1/devices?thing_group=locks&limit=5&offset=10",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let page: switchyard_core::devices::DevicePage = serde_json::from_str(&body).unwrap();
    assert_eq!((page.total, page.items.len(), page.offset), (125, 5, 10));
    assert_eq!(
        page.items[0].id, "dev-0000043",
        "the 11th lock: every 4th device from dev-0000003"
    );
    let (s, _, body) = call(&app, "GET", "/api/v1/devices?connected=false", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains(r#""total":0"#),
        "all 500 are online at start: {body}"
    );

    for (query, needle) in [
        ("limit=0", "limit: must be between 1 and 1000"),
        ("connected=maybe", "connected"),
        ("colour=red", "unknown field `colour`"),
        ("region=Ohio", "region: 'Ohio' is not an AWS region code"),
        ("reason=ALIENS", "ALIENS"),
    ] {
        let (s, ct, body) = call(&app, "GET", &format!("/api/v1/devices?{query}"), None).await;
        assert_eq!(
            (s, ct.as_str()),
            (StatusCode::BAD_REQUEST, "application/json"),
            "{query}: {body}"
        );
        assert!(body.contains(needle), "{query}: {body}");
    }
}

#[tokio::test]
async fn one_device_or_a_404_that_names_it() {
    let (app, _, _) = setup(Ui::Missing);
    let (s, _, body) = call(&app, "GET", "/api/v1/devices/dev-0000007", None).await;
    assert_eq!(s, StatusCode::OK);
    let d: switchyard_core::Device = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (d.id.as_str(), d.region.as_str()),
        ("dev-0000007", "us-east-1")
    );
    let (s, _, body) = call(&app, "GET", "/api/v1/devices/dev-9999999", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("no device named 'dev-9999999'"));
}

#[tokio::test]
async fn gateways_and_alerts_answer_with_their_limits() {
    let (app, engine, sim) = setup(Ui::Missing);
    sim.with(|f| f.inject("us-east-1:outage".parse().unwrap()).unwrap());
    engine.poll_gateways_once().await.unwrap();
    sim.with(|f| (0..30).for_each(|_| f.step()));
    engine.poll_gateways_once().await.unwrap();
    engine.poll_once("us-east-1").await;
    let (s, _, body) = call(&app, "GET", "/api/v1/edge/gateways?limit=2", None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let g: switchyard_core::edge::GatewaysResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (g.gateways.len(), g.total_gateways, g.totals.gateways),
        (2, 4, 4)
    );
    assert!(g.gateways[0].time_to_overflow_s.is_some());
    let (s, _, body) = call(&app, "GET", "/api/v1/alerts", None).await;
    assert_eq!(s, StatusCode::OK);
    let a: switchyard_core::alerts::AlertsResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(a.alerts.len(), 1, "{a:?}");
    assert_eq!(a.alerts[0].subject, "us-east-1");
    for bad in [
        "/api/v1/alerts?limit=0",
        "/api/v1/edge/gateways?open=true",
        "/api/v1/alerts?since=1",
    ] {
        let (s, _, body) = call(&app, "GET", bad, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

#[tokio::test]
async fn region_history_comes_from_the_stored_samples() {
    let (app, engine, sim) = setup(Ui::Missing);
    for _ in 0..3 {
        sim.with(|f| f.step());
        engine.poll_once("us-east-1").await;
    }
    // The sim's clock started at 5 s after the epoch: ask for all of it.
    let (s, _, body) = call(
        &app,
        "GET",
        "/api/v1/regions/us-east-1/history?minutes=10080",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let h: switchyard_core::api::RegionHistory = serde_json::from_str(&body).unwrap();
    assert_eq!(
        h.samples.len(),
        0,
        "samples from 1970 are older than a week"
    );
    let (s, _, body) = call(&app, "GET", "/api/v1/regions/mars-1/history", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("region mars-1 is not configured"));
    let (s, _, body) = call(
        &app,
        "GET",
        "/api/v1/regions/us-east-1/history?minutes=0",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
}

async fn call_bytes(app: &Router, uri: &str) -> (StatusCode, String, Vec<u8>) {
    call_raw(app, "GET", uri, None).await
}

/// Checks that every element opened in `html` is closed, in order (void elements aside):
/// enough to catch a report whose markup is cut or mis-nested.
fn balanced(html: &str) -> Result<(), String> {
    const VOID: &[&str] = &["meta", "br", "hr", "img", "input", "link", "!doctype"];
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').ok_or("a tag is not closed")?;
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        let self_closing = tag.ends_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '/')
            .collect::<String>()
            .to_lowercase();
        if tag.starts_with('/') {
            match open.pop() {
                Some(o) if o == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else if !self_closing && !VOID.contains(&name.as_str()) {
            open.push(name);
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(format!("left open: {open:?}"))
    }
}

async fn run_drill(app: &Router, body: &str) -> switchyard_core::drills::Drill {
    let (s, _, text) = call(app, "POST", "/api/v1/drills", Some(body)).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{text}");
    let id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..200 {
        let (_, _, text) = call(app, "GET", &format!("/api/v1/drills/{id}"), None).await;
        let d: switchyard_core::drills::Drill = serde_json::from_str(&text).unwrap();
        if d.summary.status != switchyard_core::drills::DrillStatus::Running {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("drill {id} did not end");
}

const DRILL: &str = r#"{"scenario": {"name": "us-east-1 outage", "seed": 7, "devices": 1000,
    "gateways": 10, "duration_secs": 700, "outage": {"at_secs": 20, "duration_secs": 400},
    "failover": {"by": "script", "decide_secs": 300}, "failback": {"after_secs": 30},
    "objectives": {"rto_secs": 420}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_drill_is_run_reported_charted_compared_and_annotated() {
    let (app, engine, _) = setup(Ui::Missing);
    engine.poll_once("us-east-1").await;
    let (_, _, text) = call(&app, "GET", "/api/v1/drills", None).await;
    let list: switchyard_core::drills::DrillsResponse = serde_json::from_str(&text).unwrap();
    assert!(list.overdue.unwrap().contains("No drill has been run yet"));

    let slow = run_drill(&app, DRILL).await;
    let m = slow.metrics.clone().unwrap();
    // The very record the simulated runner makes of the scenario on the console's regions:
    // the API adds nothing and loses nothing.
    let regions: Vec<String> = engine
        .snapshot()
        .regions
        .iter()
        .map(|r| r.id.clone())
        .collect();
    let direct =
        crate::sim::drill::run(&slow.scenario, &regions, &engine.config().sim_drill()).unwrap();
    assert_eq!(slow.recording, direct);
    assert_eq!(
        m,
        switchyard_core::drills::metrics(&direct, &slow.objectives)
    );
    assert_eq!(
        (m.recovery_ms, m.messages_lost, m.peak_backlog),
        (Some(407_000), 3_625, 91_723)
    );
    assert_eq!(
        slow.summary.status,
        switchyard_core::drills::DrillStatus::Failed
    );
    assert_eq!(slow.objectives.rto_secs, 420, "the scenario's override");
    assert_eq!(slow.summary.started_by, "anonymous (no login configured)");

    let (s, ct, html) = call(
        &app,
        "GET",
        &format!("/api/v1/drills/{}/report.html", slow.summary.id),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(ct.starts_with("text/html"), "{ct}");
    balanced(&html).unwrap();
    for needle in [
        "FAILED",
        "3625 messages lost",
        "407 s",
        "chart-reconnection",
        "chart-backlog",
        "chart-timeline",
        "outage detected",
    ] {
        assert!(html.contains(needle), "the report lacks {needle}");
    }
    assert_eq!(html.matches("<svg").count(), 3);

    for chart in ["reconnection", "backlog", "timeline"] {
        let (s, ct, png) = call_bytes(
            &app,
            &format!("/api/v1/drills/{}/charts/{chart}.png", slow.summary.id),
        )
        .await;
        assert_eq!((s, ct.as_str()), (StatusCode::OK, "image/png"));
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), crate::report::SIZE);
        // Something is drawn: a good share of the pixels are not white.
        let inked = buf.chunks(3).filter(|p| p != &[255, 255, 255]).count();
        assert!(inked > 2_000, "{chart}: only {inked} pixels drawn");
        let (s, ct, svg) = call(
            &app,
            "GET",
            &format!("/api/v1/drills/{}/charts/{chart}.svg", slow.summary.id),
            None,
        )
        .await;
        assert_eq!((s, ct.as_str()), (StatusCode::OK, "image/svg+xml"));
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }
    let (s, _, text) = call(
        &app,
        "GET",
        &format!("/api/v1/drills/{}/charts/pie.svg", slow.summary.id),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(text.contains("reconnection, backlog or timeline"));

    // A quicker decision: compared side by side.
    let quick = run_drill(
        &app,
        &DRILL.replace("\"decide_secs\": 300", "\"decide_secs\": 50"),
    )
    .await;
    let (s, _, text) = call(
        &app,
        "GET",
        &format!(
            "/api/v1/drills/compare?a={}&b={}",
            slow.summary.id, quick.summary.id
        ),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let cmp: switchyard_core::drills::Comparison = serde_json::from_str(&text).unwrap();
    let row = |m: &str| cmp.rows.iter().find(|r| r.measure == m).unwrap().clone();
    assert_eq!(row("Recovery time").better.as_deref(), Some("b"));
    assert_eq!(row("Messages lost").a, "3625");
    assert_eq!(row("Messages lost").b, "0");

    // Notes and action items, audited; bad ones refused naming the field.
    let notes = r#"{"notes": "Decision took 5 minutes: the on-call did not know the runbook.",
        "action_items": [{"text": "Page the failover owner at once", "owner": "noc-lead"}]}"#;
    let (s, _, text) = call(
        &app,
        "POST",
        &format!("/api/v1/drills/{}/notes", slow.summary.id),
        Some(notes),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{text}");
    let d: switchyard_core::drills::Drill = serde_json::from_str(&text).unwrap();
    assert_eq!(d.action_items[0].owner.as_deref(), Some("noc-lead"));
    let (_, _, html) = call(
        &app,
        "GET",
        &format!("/api/v1/drills/{}/report.html", slow.summary.id),
        None,
    )
    .await;
    assert!(html.contains("Page the failover owner at once — noc-lead"));
    let (s, _, text) = call(
        &app,
        "POST",
        &format!("/api/v1/drills/{}/notes", slow.summary.id),
        Some(r#"{"notes": "", "action_items": [{"text": " "}]}"#),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("action_items[0].text"), "{text}");
    assert!(engine
        .store()
        .audit_recent(10)
        .unwrap()
        .iter()
        .any(|a| a.action == "drill.notes"));

    let (_, _, text) = call(&app, "GET", "/api/v1/drills", None).await;
    let list: switchyard_core::drills::DrillsResponse = serde_json::from_str(&text).unwrap();
    assert_eq!(list.drills.len(), 2);
    assert_eq!(list.drills[0].id, quick.summary.id, "newest first");
    assert_eq!(list.overdue, None);
}

#[tokio::test]
async fn bad_drill_requests_get_a_4xx_naming_what_is_wrong_and_start_nothing() {
    let (app, _, _) = setup(Ui::Missing);
    let cases = [
        (
            r#"{"scenario": {"name": "x", "duration_secs": 60, "failover": {"by": "script"}, "colour": 1}}"#,
            "colour",
        ),
        (
            r#"{"scenario": {"name": "x", "duration_secs": 0, "failover": {"by": "script"}}}"#,
            "duration_secs",
        ),
        (
            r#"{"scenario": {"name": "x", "duration_secs": 60, "failover": {"by": "operator"}}}"#,
            "failover.by",
        ),
        (
            r#"{"scenario": {"name": "x", "duration_secs": 60, "outage": {"region": "ap-south-1", "duration_secs": 5}, "failover": {"by": "script"}}}"#,
            "outage.region",
        ),
        (
            r#"{"scenario": {"name": "x", "duration_secs": 60, "failover": {"by": "script", "target": "us-east-1"}}}"#,
            "failover.target",
        ),
        (
            r#"{"scenario": {"name": "x", "duration_secs": 60, "failover": {"by": "script"}, "devices": 10000000}}"#,
            "devices",
        ),
        (r#"{"scenario": "#, "EOF"),
    ];
    for (body, names) in cases {
        let (s, _, text) = call(&app, "POST", "/api/v1/drills", Some(body)).await;
        assert!(s.is_client_error(), "{body}: {s} {text}");
        assert!(text.contains(names), "{body}: {text}");
    }
    let (_, _, text) = call(&app, "GET", "/api/v1/drills", None).await;
    assert!(text.contains(r#""drills":[]"#), "{text}");
}
