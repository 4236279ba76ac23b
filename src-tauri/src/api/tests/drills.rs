//! Drills over HTTP: run, reported, charted, compared, annotated; bad requests refused.

use super::*;

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

pub(super) async fn run_drill(app: &Router, body: &str) -> switchyard_core::drills::Drill {
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

pub(super) const DRILL: &str = r#"{"scenario": {"name": "us-east-1 outage", "seed": 7, "devices": 1000,
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
        (Some(437_000), 3_625, 92_749)
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
        "437 s",
        "chart-reconnection",
        "chart-backlog",
        "chart-timeline",
        "outage detected",
        "<table id=\"curve\">",
        "Online in the region moved to",
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
