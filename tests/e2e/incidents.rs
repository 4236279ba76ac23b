//! Incidents in headless Chromium: an alert acknowledged in one operator's session is seen,
//! with who and when, in another's; after a failover the incident's timeline lists every
//! failover step once; the Markdown export downloads and carries the incident's title.

use fantoccini::{Client, Locator};
use std::time::Duration;
use switchyard_e2e::*;

async fn sign_in(c: &Client, url: &str, name: &str) {
    c.goto(url).await.unwrap();
    fill_sign_in(c, name).await;
    click(c, "[data-testid=signin-submit]").await;
    signed_in(c).await;
}

/// The open incident's id and title, once the outage has opened one.
fn open_incident(server: &Server) -> Option<(i64, String)> {
    let (status, body) = server.request("GET", "/api/v1/incidents?open=true&limit=5", None);
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let i = v["incidents"].as_array()?.first()?.clone();
    Some((i["id"].as_i64()?, i["title"].as_str()?.to_string()))
}

async fn wait_for_incident(server: &Server) -> (i64, String) {
    wait_until(Duration::from_secs(30), "the outage's incident", || async {
        open_incident(server)
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn an_alert_acknowledged_in_one_session_is_seen_with_who_and_when_in_another() {
    let data = tempfile::tempdir().unwrap();
    add_user(data.path(), "ana", "operator");
    add_user(data.path(), "ben", "operator");
    let server = Server::start_in(
        data,
        &[
            "--devices",
            "600",
            "--seed",
            "4",
            "--poll-interval",
            "1",
            "--fault",
            "us-east-1:outage@2s",
        ],
    );
    let a = chromium(1280, 800).await;
    let b = chromium(1280, 800).await;
    let (ca, cb) = (a.client.clone(), b.client.clone());
    sign_in(&ca, &format!("{}/#/alerts", server.url), "ana").await;
    sign_in(&cb, &format!("{}/#/alerts", server.url), "ben").await;

    let row = "tr.alert-open[data-alert=region_unreachable]";
    let id = wait_until(Duration::from_secs(30), "the unreachable alert", || async {
        attr(&ca, row, "data-alert-id").await
    })
    .await;
    // Its raised time says UTC, the local time on hover.
    let raised = format!("tr[data-alert-id='{id}'] time.utc");
    let shown = text(&ca, &raised).await.unwrap();
    assert!(shown.ends_with(" UTC"), "{shown}");
    assert!(attr(&ca, &raised, "title")
        .await
        .is_some_and(|t| t.starts_with("local time: ")));

    click(&ca, &format!("[data-testid=ack-{id}]")).await;
    fill(&ca, "[data-testid=ack-note]", "looking at it, paged AWS").await;
    click(&ca, "[data-testid=ack-send]").await;

    // The other session sees who and when, without reloading.
    let seen = wait_until(
        Duration::from_secs(20),
        "the acknowledgement in the other session",
        || async {
            let t = text(
                &cb,
                &format!("tr[data-alert-id='{id}'] [data-testid=alert-ack]"),
            )
            .await?;
            t.contains("ack by").then_some(t)
        },
    )
    .await;
    assert!(
        seen.starts_with("ack by ana at ") && seen.contains(" UTC"),
        "{seen}"
    );
    assert!(seen.contains("paged AWS"), "{seen}");
    // And on the incident's page (the alert's own link says which: this server has logins,
    // so the test's plain requests are not signed in).
    let link = text(
        &cb,
        &format!("tr[data-alert-id='{id}'] [data-testid=alert-incident]"),
    )
    .await
    .expect("the alert links its incident");
    let incident = link.trim_start_matches('#').to_string();
    cb.goto(&format!("{}/#/incidents/{incident}", server.url))
        .await
        .unwrap();
    let on_page = wait_until(Duration::from_secs(20), "the incident's alerts", || async {
        let t = text(
            &cb,
            &format!("li[data-alert-id='{id}'] [data-testid=incident-alert-ack]"),
        )
        .await?;
        t.starts_with("ack by").then_some(t)
    })
    .await;
    assert!(on_page.starts_with("ack by ana at "), "{on_page}");
    std::fs::write(
        screenshot_path("incident-acked.png"),
        cb.screenshot().await.unwrap(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn after_a_failover_the_incident_timeline_lists_every_failover_step_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("incident.toml");
    std::fs::write(&config, "[simulation]\ndns_ttl_secs = 3\n").unwrap();
    let server = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--devices",
        "600",
        "--seed",
        "8",
        "--poll-interval",
        "1",
        "--fault",
        "us-east-1:outage@2s",
    ]);
    let (incident, _) = wait_for_incident(&server).await;
    let req = r#"{"target":"eu-west-1","confirm":"eu-west-1","reason":"INC e2e timeline","override_warnings":true}"#;
    let (status, body) = server.request("POST", "/api/v1/failovers", Some(req));
    assert_eq!(status, 202, "{body}");
    let failover: serde_json::Value = serde_json::from_str(&body).unwrap();
    let fid = failover["id"].as_str().unwrap().to_string();
    // The failover's journal, once it has ended.
    let steps: Vec<String> = wait_until(Duration::from_secs(90), "the failover to end", || async {
        let (_, body) = server.request("GET", "/api/v1/failover", None);
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        let f = v["recent"]
            .as_array()?
            .iter()
            .find(|f| f["id"] == fid.as_str())?
            .clone();
        f["ended_at"].as_u64()?;
        Some(
            f["steps"]
                .as_array()?
                .iter()
                .filter_map(|s| s["step"].as_str().map(str::to_string))
                .collect(),
        )
    })
    .await;
    assert!(!steps.is_empty());

    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&format!("{}/#/incidents/{incident}", server.url))
        .await
        .unwrap();
    let rows = "[data-testid=timeline] tr[data-kind=failover_step]";
    let listed: Vec<(String, String)> = wait_until(
        Duration::from_secs(30),
        "every failover step on the timeline",
        || async {
            let mut out = Vec::new();
            for r in c.find_all(Locator::Css(rows)).await.ok()? {
                let source = r.attr("data-source").await.ok()??;
                out.push((source, r.text().await.ok()?));
            }
            (out.len() >= steps.len()).then_some(out)
        },
    )
    .await;
    assert_eq!(listed.len(), steps.len(), "{listed:?} for {steps:?}");
    let mut sources: Vec<&str> = listed.iter().map(|(s, _)| s.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    assert_eq!(sources.len(), steps.len(), "each step once: {listed:?}");
    for step in &steps {
        let n = listed
            .iter()
            .filter(|(_, t)| t.contains(step.as_str()))
            .count();
        assert!(n >= 1, "{step} is on the timeline: {listed:?}");
    }
    // The timeline's times say UTC.
    let first = text(&c, "[data-testid=timeline] tbody tr td time.utc")
        .await
        .unwrap();
    assert!(first.ends_with(" UTC"), "{first}");
    std::fs::write(
        screenshot_path("incident-timeline.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn the_markdown_export_downloads_and_contains_the_incidents_title() {
    let server = Server::start(&[
        "--devices",
        "300",
        "--seed",
        "9",
        "--poll-interval",
        "1",
        "--fault",
        "us-east-1:outage@2s",
    ]);
    let (incident, title) = wait_for_incident(&server).await;
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&format!("{}/#/incidents/{incident}", server.url))
        .await
        .unwrap();
    let link = "[data-testid=export-md]";
    let href = wait_until(
        Duration::from_secs(20),
        "the Markdown export link",
        || async { attr(&c, link, "href").await },
    )
    .await;
    assert!(
        href.ends_with(&format!("/api/v1/incidents/{incident}/export?format=md")),
        "{href}"
    );
    assert_eq!(
        attr(&c, link, "download").await.as_deref(),
        Some(format!("incident-{incident}.md").as_str())
    );
    // What the link downloads: an attachment, the incident's title in its first line.
    let got = c
        .execute_async(
            r#"const [href, done] = arguments;
               fetch(href).then(async r => done([r.status, r.headers.get('content-disposition') || '', await r.text()]))
               .catch(e => done([0, '', String(e)]));"#,
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    let (status, disposition, body) = (
        got[0].as_u64().unwrap(),
        got[1].as_str().unwrap().to_string(),
        got[2].as_str().unwrap().to_string(),
    );
    assert_eq!(status, 200, "{body}");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(
        body.starts_with(&format!("# Incident {incident}: {title}\n")),
        "{body}"
    );
    assert!(body.contains("| Time (UTC) |"), "{body}");
    // The page's title reads the same.
    let shown = text(&c, "[data-testid=incident-title]").await.unwrap();
    assert_eq!(shown, format!("Incident #{incident}: {title}"));
}
