//! The web build in headless Chromium, driven through chromedriver.

use fantoccini::Locator;
use std::process::{Command, Stdio};
use std::time::Duration;
use switchyard_e2e::*;

fn chromium_caps(profile: &std::path::Path) -> serde_json::Value {
    serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1280,800",
                     format!("--user-data-dir={}", profile.display())]
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn overview_is_live_and_an_outage_turns_the_region_unreachable() {
    let server = Server::start(&[
        "--devices",
        "3000",
        "--gateways",
        "12",
        "--seed",
        "7",
        "--poll-interval",
        "1",
    ]);
    let port = free_port();
    let _driver = Process::spawn(
        "chromedriver",
        Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_for_port(port, "chromedriver", Duration::from_secs(20));
    let profile = tempfile::tempdir().unwrap();
    let c = webdriver(port, chromium_caps(profile.path())).await;
    c.goto(&server.url).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Switchyard");

    overview_is_live(&c, &["us-east-1", "eu-west-1", "ap-southeast-2"]).await;
    assert_eq!(
        attr(&c, "[data-testid=link]", "data-transport")
            .await
            .as_deref(),
        Some("http")
    );
    std::fs::write(
        screenshot_path("web-overview.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // An outage injected through the API shows on screen without a reload: the region turns
    // unreachable, says why, and its last figures are marked stale.
    let (status, body) = server.request(
        "POST",
        "/api/v1/sim/faults",
        Some(r#"{"fault":{"region":"us-east-1","kind":"outage"},"reason":"e2e test"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let card = "article.card[data-region='us-east-1']";
    wait_until(
        Duration::from_secs(15),
        "us-east-1 to turn unreachable",
        || async { (attr(&c, card, "data-status").await? == "unreachable").then_some(()) },
    )
    .await;
    assert_eq!(
        text(&c, &format!("{card} [data-field=health]"))
            .await
            .as_deref(),
        Some("UNREACHABLE")
    );
    let reasons = text(&c, &format!("{card} [data-field=reasons]"))
        .await
        .unwrap();
    assert!(
        reasons.contains("region did not answer: no answer within 2500 ms"),
        "{reasons}"
    );
    wait_until(
        Duration::from_secs(10),
        "the old figures to be marked stale",
        || async {
            let age = text(&c, &format!("{card} [data-field=age]")).await?;
            (age.starts_with("unreachable — last figures") && age.ends_with("STALE")).then_some(())
        },
    )
    .await;
    let class = c
        .find(Locator::Css(card))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap();
    assert!(class.contains("stale"), "{class}");
    // The other regions are unaffected.
    assert_eq!(
        attr(&c, "article.card[data-region='eu-west-1']", "data-status")
            .await
            .as_deref(),
        Some("healthy")
    );
    std::fs::write(
        screenshot_path("web-outage.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // Cleared, the region comes back.
    let (status, body) = server.request(
        "DELETE",
        "/api/v1/sim/faults",
        Some(r#"{"reason":"e2e test over"}"#),
    );
    assert_eq!(status, 200, "{body}");
    wait_until(
        Duration::from_secs(15),
        "us-east-1 to be healthy again",
        || async { (attr(&c, card, "data-status").await? == "healthy").then_some(()) },
    )
    .await;
    c.close().await.unwrap();
}
