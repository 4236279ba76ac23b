//! Commands in headless Chromium: preview (who is online and will receive it, who is offline
//! and skipped), a refused payload, then send and follow the run to its results.

use fantoccini::Locator;
use std::time::Duration;
use switchyard_e2e::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn preview_then_send_to_online_devices_only() {
    let server = Server::start(&["--devices", "1500", "--seed", "3", "--poll-interval", "1"]);
    // Some devices offline all along: the active region degraded (connections drop, and some
    // reconnections fail).
    let (status, body) = server.request(
        "POST",
        "/api/v1/sim/faults",
        Some(r#"{"fault":{"region":"us-east-1","kind":"degraded","duration_secs":600},"reason":"e2e"}"#),
    );
    assert_eq!(status, 201, "{body}");
    tokio::time::sleep(Duration::from_secs(4)).await;

    let browser = chromium(1280, 1000).await;
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
        publish > 0 && skip > 0 && publish + skip == 1500,
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
