//! Commands in headless Chromium: preview (who is online and will receive it, who is offline
//! and skipped), a refused payload, then send and follow the run to its results.

use fantoccini::Locator;
use std::time::Duration;
use switchyard_e2e::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn preview_then_send_to_online_devices_only() {
    // Many devices offline all along: the active region's connections all drop in a short
    // outage, then it stays degraded, where 30 % of reconnections fail and each failure backs
    // off for longer. (Degraded alone drops one connection in 2,000 a second: a handful offline
    // at a time, and now and then none.) Fewer devices than the confirmation threshold
    // (1,000): devices come back all along, and a confirmed count that grew by more than 1 %
    // before the send is refused, rightly; the next test confirms a count.
    let server = Server::start(&[
        "--devices",
        "900",
        "--seed",
        "3",
        "--poll-interval",
        "1",
        "--fault",
        "us-east-1:outage@0s+6s",
    ]);
    let (status, body) = server.request(
        "POST",
        "/api/v1/sim/faults",
        Some(r#"{"fault":{"region":"us-east-1","kind":"degraded","duration_secs":600},"reason":"e2e"}"#),
    );
    assert_eq!(status, 201, "{body}");
    wait_until(
        Duration::from_secs(30),
        "us-east-1 back, with devices still offline",
        || async {
            let (_, body) = server.request("GET", "/api/v1/regions", None);
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            let r = v["regions"]
                .as_array()?
                .iter()
                .find(|r| r["id"] == "us-east-1")?;
            (r["online"].as_u64()? >= 300 && r["offline"].as_u64()? >= 150).then_some(())
        },
    )
    .await;

    let browser = chromium(1280, 1000).await;
    // The payload that breaks the schema below is refused by the server: 422.
    browser.allow(
        "commands/preview - Failed to load resource: the server responded with a status of 422",
    );
    let c = browser.client.clone();
    c.goto(&format!("{}/#/commands", server.url)).await.unwrap();
    wait_until(
        Duration::from_secs(20),
        "the commands page with the active region as target",
        || async {
            let input = c
                .find(Locator::Css("[data-testid=target-value]"))
                .await
                .ok()?;
            (input.prop("value").await.ok()?? == "us-east-1").then_some(())
        },
    )
    .await;
    let select = c
        .find(Locator::Css("[data-testid=command-name]"))
        .await
        .unwrap();
    select.select_by_value("set-report-interval").await.unwrap();

    // A payload that breaks the schema is refused, naming the field.
    let payload = c.find(Locator::Css("[data-testid=payload]")).await.unwrap();
    payload.clear().await.unwrap();
    payload.send_keys(r#"{"seconds": 1}"#).await.unwrap();
    click(&c, "[data-testid=preview]").await;
    let err = wait_until(Duration::from_secs(10), "the payload error", || async {
        text(&c, "[data-testid=command-error]").await
    })
    .await;
    assert!(
        err.contains("payload.seconds: 1 is below the minimum 5"),
        "{err}"
    );

    payload.clear().await.unwrap();
    payload.send_keys(r#"{"seconds": 60}"#).await.unwrap();
    click(&c, "[data-testid=preview]").await;
    let (publish, skip) = wait_until(Duration::from_secs(10), "the preview", || async {
        let p = number(&text(&c, "[data-testid=preview-publish]").await?)?;
        let s = number(&text(&c, "[data-testid=preview-skip]").await?)?;
        Some((p, s))
    })
    .await;
    assert!(
        publish > 0 && skip > 0 && publish + skip == 900,
        "{publish} + {skip}"
    );
    std::fs::write(
        screenshot_path("commands-preview.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    let send = c.find(Locator::Css("[data-testid=send]")).await.unwrap();
    assert!(
        send.attr("disabled").await.unwrap().is_some(),
        "no reason yet"
    );
    c.find(Locator::Css("[data-testid=command-reason]"))
        .await
        .unwrap()
        .send_keys("INC-5 slow reports")
        .await
        .unwrap();
    // Past `[commands] confirm_above` (1,000 by default) the count is confirmed first.
    if publish > 1_000 {
        click(&c, "[data-testid=confirm-count-tick]").await;
    }
    wait_until(Duration::from_secs(5), "Send to unlock", || async {
        send.attr("disabled").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(send
        .text()
        .await
        .unwrap()
        .starts_with(&format!("Send to {}", thousands_e2e(publish))));
    send.click().await.unwrap();
    let tallies = wait_until(Duration::from_secs(30), "the run to complete", || async {
        (attr(&c, "[data-testid=command-run]", "data-status").await? == "completed")
            .then_some(())?;
        text(&c, "[data-testid=command-tallies]").await
    })
    .await;
    assert!(
        tallies.starts_with(&format!("{} sent", thousands_e2e(publish)))
            || tallies.contains(" sent"),
        "{tallies}"
    );
    assert!(tallies.contains("0 failed"), "{tallies}");
    std::fs::write(
        screenshot_path("commands-done.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn a_disabled_send_says_a_reason_is_required_and_a_large_send_asks_for_the_count() {
    let server = Server::start(&["--devices", "1500", "--seed", "6", "--poll-interval", "1"]);
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&format!("{}/#/commands", server.url)).await.unwrap();
    wait_until(
        Duration::from_secs(20),
        "the active region as target",
        || async {
            let input = c
                .find(Locator::Css("[data-testid=target-value]"))
                .await
                .ok()?;
            (input.prop("value").await.ok()?? == "us-east-1").then_some(())
        },
    )
    .await;
    // Before a preview, Send says so.
    assert_eq!(
        text(&c, "[data-testid=send-why]").await.as_deref(),
        Some("preview first")
    );
    c.find(Locator::Css("[data-testid=command-name]"))
        .await
        .unwrap()
        .select_by_value("reconnect")
        .await
        .unwrap();
    // The reconnect payload starts from the schema's defaults: a jitter of 30 s.
    let payload = wait_until(Duration::from_secs(5), "the default payload", || async {
        let p = c
            .find(Locator::Css("[data-testid=payload]"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()??;
        p.contains("jitter_secs").then_some(p)
    })
    .await;
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["jitter_secs"], 30, "{payload}");

    click(&c, "[data-testid=preview]").await;
    let publish = wait_until(Duration::from_secs(10), "the preview", || async {
        number(&text(&c, "[data-testid=preview-publish]").await?)
    })
    .await;
    assert!(publish > 1_000, "{publish} devices: past confirm_above");
    let send = c.find(Locator::Css("[data-testid=send]")).await.unwrap();
    assert!(send.attr("disabled").await.unwrap().is_some());
    assert_eq!(
        text(&c, "[data-testid=send-why]").await.as_deref(),
        Some("a reason is required")
    );
    assert_eq!(
        send.attr("title").await.unwrap().as_deref(),
        Some("a reason is required")
    );
    std::fs::write(
        screenshot_path("commands-why.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // With a reason, the count is asked for.
    fill(
        &c,
        "[data-testid=command-reason]",
        "INC-9 reconnect the fleet",
    )
    .await;
    let why = wait_until(Duration::from_secs(5), "the count asked for", || async {
        text(&c, "[data-testid=send-why]")
            .await
            .filter(|t| t.starts_with("confirm the count"))
    })
    .await;
    assert!(why.contains(&thousands_e2e(publish)), "{why}");
    assert!(send.attr("disabled").await.unwrap().is_some());
    // A wrong count keeps it off; the right one lets it go.
    fill(
        &c,
        "[data-testid=confirm-count-input]",
        &(publish - 1).to_string(),
    )
    .await;
    assert!(send.attr("disabled").await.unwrap().is_some());
    fill(
        &c,
        "[data-testid=confirm-count-input]",
        &publish.to_string(),
    )
    .await;
    wait_until(Duration::from_secs(5), "Send to unlock", || async {
        send.attr("disabled").await.ok()?.is_none().then_some(())
    })
    .await;
    send.click().await.unwrap();
    let status = wait_until(Duration::from_secs(30), "the run", || async {
        attr(&c, "[data-testid=command-run]", "data-status").await
    })
    .await;
    assert!(
        status == "running" || status == "completed",
        "the send with the confirmed count went out: {status}"
    );
    // The run was asked for with the count confirmed.
    let (_, body) = server.request("GET", "/api/v1/audit", None);
    assert!(body.contains("INC-9"), "{body}");
}

/// The UI's thousands separator (a thin space) for comparisons.
fn thousands_e2e(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(ch);
    }
    out
}
