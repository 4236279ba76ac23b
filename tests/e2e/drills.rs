//! Drills in headless Chromium: run two short simulated drills from the page (a slow decision,
//! then a quick one), read a report (objectives, measures, charts), compare the two side by side,
//! add notes, and open the HTML report the way an operator downloads it.

use fantoccini::{Client, Locator};
use std::time::Duration;
use switchyard_e2e::*;

/// Runs a drill from the form and waits for its verdict; returns the drill's id and verdict.
async fn run_drill(c: &Client, name: &str, decide: &str, rows_before: usize) -> (String, String) {
    fill(c, "[data-testid=drill-name]", name).await;
    fill(c, "[data-testid=drill-decide]", decide).await;
    click(c, "[data-testid=run-drill]").await;
    let verdict = wait_until(Duration::from_secs(30), "the drill's verdict", || async {
        let v = text(c, "[data-testid=drill-verdict]").await?;
        (v == "PASSED" || v == "FAILED").then_some(v)
    })
    .await;
    let id = wait_until(Duration::from_secs(10), "the drill in the list", || async {
        let rows = c
            .find_all(Locator::Css("[data-testid=drill-row]"))
            .await
            .ok()?;
        if rows.len() != rows_before + 1 {
            return None;
        }
        rows[0].attr("data-id").await.ok()?
    })
    .await;
    (id, verdict)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn run_two_drills_read_the_report_and_compare_them() {
    let server = Server::start(&["--devices", "1000", "--seed", "3", "--poll-interval", "1"]);
    let browser = chromium(1280, 1400).await;
    let c = browser.client.clone();
    c.goto(&format!("{}/#/drills", server.url)).await.unwrap();
    let overdue = wait_until(Duration::from_secs(20), "the overdue warning", || async {
        text(&c, "[data-testid=drill-overdue]").await
    })
    .await;
    assert!(overdue.contains("No drill has been run yet"), "{overdue}");

    // A short scenario: us-east-1 (active) down at 20 s for 400 s, failback 30 s after.
    fill(&c, "[data-testid=drill-outage-at]", "20").await;
    fill(&c, "[data-testid=drill-outage-for]", "400").await;
    fill(&c, "[data-testid=drill-duration]", "700").await;
    fill(&c, "[data-testid=drill-devices]", "1000").await;
    fill(&c, "[data-testid=drill-seed]", "7").await;
    fill(&c, "[data-testid=drill-rto]", "420").await;
    let t0 = std::time::Instant::now();
    let (slow, slow_verdict) = run_drill(&c, "slow decision", "300", 0).await;
    let took = t0.elapsed();
    // Five minutes to decide lets the edge overflow: data lost, the RPO missed.
    assert_eq!(slow_verdict, "FAILED");
    let missed = wait_until(Duration::from_secs(10), "the objectives", || async {
        let rows = c
            .find_all(Locator::Css("[data-testid=drill-objectives] tbody tr"))
            .await
            .ok()?;
        let mut out = Vec::new();
        for r in rows {
            out.push((r.text().await.ok()?, r.attr("data-passed").await.ok()??));
        }
        (out.len() == 3).then_some(out)
    })
    .await;
    assert!(
        missed[1].0.contains("Data loss (RPO)") && missed[1].1 == "false",
        "{missed:?}"
    );
    let measures = text(&c, "[data-testid=drill-measures]").await.unwrap();
    assert!(measures.contains("detect 2.5 s"), "{measures}");
    for chart in ["reconnection", "backlog", "timeline"] {
        wait_until(Duration::from_secs(10), "the report's charts", || async {
            c.find(Locator::Css(&format!(
                "[data-testid=drill-chart-{chart}] svg"
            )))
            .await
            .ok()
        })
        .await;
    }
    std::fs::write(
        screenshot_path("drill-report.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    let (quick, quick_verdict) = run_drill(&c, "quick decision", "5", 1).await;
    assert_eq!(quick_verdict, "PASSED");

    // Tick the slow one first: it is A.
    click(&c, &format!("[data-id='{slow}'] [data-testid=drill-pick]")).await;
    click(&c, &format!("[data-id='{quick}'] [data-testid=drill-pick]")).await;
    click(&c, "[data-testid=compare]").await;
    let better = wait_until(Duration::from_secs(10), "the comparison", || async {
        attr(
            &c,
            "[data-testid=compare-row][data-measure='Recovery time']",
            "data-better",
        )
        .await
    })
    .await;
    assert_eq!(better, "b", "the quick decision recovered sooner");
    assert_eq!(
        attr(
            &c,
            "[data-testid=compare-row][data-measure='Messages lost']",
            "data-better"
        )
        .await
        .as_deref(),
        Some("b")
    );
    let trend = c
        .find_all(Locator::Css("[data-testid=drill-trend] svg"))
        .await
        .unwrap();
    assert_eq!(trend.len(), 2, "recovery time and data loss across drills");
    assert!(text(&c, "[data-testid=drill-overdue]").await.is_none());

    // Notes and an action item on the slow one.
    click(&c, &format!("[data-id='{slow}'] [data-testid=drill-open]")).await;
    wait_until(
        Duration::from_secs(10),
        "the slow drill's report",
        || async { (text(&c, "[data-testid=drill-verdict]").await? == "FAILED").then_some(()) },
    )
    .await;
    fill(
        &c,
        "[data-testid=drill-notes]",
        "The on-call took five minutes to decide.",
    )
    .await;
    fill(
        &c,
        "[data-testid=drill-actions]",
        "Page the failover owner at once @noc-lead",
    )
    .await;
    click(&c, "[data-testid=save-notes]").await;
    wait_until(Duration::from_secs(10), "the notes saved", || async {
        text(&c, "[data-testid=notes-saved]").await
    })
    .await;
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    std::fs::write(
        screenshot_path("drill-compare.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // The HTML report, as downloaded: a page the browser parses, with the notes in it.
    c.goto(&format!("{}/api/v1/drills/{slow}/report.html", server.url))
        .await
        .unwrap();
    assert_eq!(text(&c, "#verdict").await.as_deref(), Some("FAILED"));
    assert_eq!(
        c.find_all(Locator::Css("#objectives tr"))
            .await
            .unwrap()
            .len(),
        4,
        "a header and three objectives"
    );
    assert_eq!(
        c.find_all(Locator::Css("figure svg")).await.unwrap().len(),
        3
    );
    let body = text(&c, "body").await.unwrap();
    assert!(body.contains("Page the failover owner at once — noc-lead"));
    std::fs::write(
        screenshot_path("drill-report-html.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    eprintln!("a 700-second simulated drill, from the click to its verdict on screen: {took:?}");
}
