//! The failover in headless Chromium, the way an operator does it in the worst hour: an
//! outage, the recommendation, and three interactions to a confirmed failover, then the
//! devices back in the new region, the move on screen as it happens (the DNS TTL counted down,
//! the reconnection curve of both regions, the stragglers, the completion estimate).

use fantoccini::Locator;
use std::time::{Duration, Instant};
use switchyard_e2e::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn recommendation_to_confirmed_failover_in_three_interactions() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("failover.toml");
    std::fs::write(
        &config,
        "[engine]\npoll_interval_secs = 1\n\n[failover]\nrecommend_after_secs = 5\n\n\
         [simulation]\ndevices = 2000\ngateways = 8\nseed = 11\ndns_ttl_secs = 10\nfaults = [\"us-east-1:outage@3s\"]\n",
    )
    .unwrap();
    let server = Server::start(&["--config", config.to_str().unwrap()]);
    let browser = chromium(1280, 1000).await;
    let c = browser.client.clone();
    c.goto(&server.url).await.unwrap();

    let target = wait_until(
        Duration::from_secs(30),
        "a failover recommendation",
        || async {
            let t = text(&c, "[data-testid=recommendation] strong").await?;
            t.strip_prefix("Failover to ")?
                .strip_suffix(" recommended")
                .map(str::to_string)
        },
    )
    .await;
    // The preflight says what the switch depends on: the simulated fleet's routing controls
    // need one of five cluster endpoints, and us-east-1's (dead with it) does not answer.
    let path = wait_until(
        Duration::from_secs(10),
        "the switch path check on the map page",
        || async {
            text(
                &c,
                &format!("[data-testid=readiness-{target}] li[data-check='switch path']"),
            )
            .await
            .filter(|t| t.contains("not answering"))
        },
    )
    .await;
    assert!(
        path.contains("needs one of 5 ARC cluster endpoints") && path.contains("4 answered"),
        "{path}"
    );
    let t0 = Instant::now();

    // 1: the recommendation's button opens the confirmation with the target preselected.
    click(&c, "[data-testid=recommended-failover]").await;
    let form = "[data-testid=confirm-failover]";
    assert_eq!(
        attr(&c, form, "data-target").await.as_deref(),
        Some(target.as_str())
    );
    let execute = c.find(Locator::Css("[data-testid=execute]")).await.unwrap();
    assert!(
        execute.attr("disabled").await.unwrap().is_some(),
        "nothing typed yet"
    );

    // 2: the confirmation: the target's name, and a reason.
    let confirm = c
        .find(Locator::Css("[data-testid=confirm-input]"))
        .await
        .unwrap();
    confirm.send_keys("eu-west").await.unwrap();
    let reason = c
        .find(Locator::Css("[data-testid=reason-input]"))
        .await
        .unwrap();
    reason.send_keys("us-east-1 outage, INC-7").await.unwrap();
    assert!(
        execute.attr("disabled").await.unwrap().is_some(),
        "a wrong name keeps it locked"
    );
    confirm.clear().await.unwrap();
    confirm.send_keys(&target).await.unwrap();
    wait_until(Duration::from_secs(5), "Execute to unlock", || async {
        execute.attr("disabled").await.ok()?.is_none().then_some(())
    })
    .await;
    std::fs::write(
        screenshot_path("failover-confirm.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // 3: execute.
    execute.click().await.unwrap();
    eprintln!(
        "recommendation → confirmed failover: 3 interactions, {:?} of driving",
        t0.elapsed()
    );

    // Live progress, then the devices back in the target and the roles swapped on screen.
    wait_until(Duration::from_secs(10), "the progress panel", || async {
        attr(&c, "[data-testid=failover-progress]", "data-phase").await
    })
    .await;
    std::fs::write(
        screenshot_path("failover-progress.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // The move on screen. The TTL counted down against the server's clock once the switch is
    // done, the completion estimate beside it.
    let ttl = wait_until(Duration::from_secs(20), "the TTL countdown", || async {
        text(&c, "[data-testid=ttl-countdown]")
            .await
            .filter(|t| t.starts_with("devices re-resolve by ") && t.contains(" UTC (in "))
    })
    .await;
    let eta = text(&c, "[data-testid=complete-eta]").await;
    assert!(
        eta.as_deref()
            .is_some_and(|e| e.starts_with("complete share")),
        "{eta:?} beside {ttl}"
    );
    // The curve: both regions named, drawn from the polls since the request.
    let curve = "[data-testid=failover-progress] [data-testid=move-curve]";
    let drawn = wait_until(
        Duration::from_secs(20),
        "the reconnection curve",
        || async {
            let points: u64 = attr(&c, curve, "data-points").await?.parse().ok()?;
            let svg = c
                .find(Locator::Css(curve))
                .await
                .ok()?
                .html(true)
                .await
                .ok()?;
            (points >= 2).then_some(svg)
        },
    )
    .await;
    assert!(
        drawn.contains("<svg") && drawn.contains("us-east-1") && drawn.contains(&target),
        "the curve names both regions: {}",
        &drawn[..drawn.len().min(300)]
    );
    click(&c, "[data-testid=ttl-countdown]").await;
    std::fs::write(
        screenshot_path("failover-move.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    let passed = wait_until(Duration::from_secs(30), "the TTL to pass", || async {
        text(&c, "[data-testid=ttl-countdown]")
            .await
            .filter(|t| t.starts_with("devices re-resolved by "))
    })
    .await;
    assert!(passed.contains("(TTL 10 s)"), "{passed}");
    // The stragglers' step: us-east-1 does not answer in this outage, so it is skipped and
    // says why (the engine's words); any other state shows its tally.
    let state = wait_until(Duration::from_secs(60), "the stragglers' step", || async {
        attr(&c, "[data-testid=stragglers]", "data-state")
            .await
            .filter(|s| s != "none")
    })
    .await;
    let block = text(&c, "[data-testid=stragglers]")
        .await
        .unwrap_or_default();
    assert!(block.starts_with("Stragglers in us-east-1: "), "{block}");
    match state.as_str() {
        "skipped" => {
            let why = text(&c, "[data-testid=stragglers-detail]").await;
            assert!(why.is_some_and(|w| !w.trim().is_empty()), "{block}");
        }
        "waiting" => assert!(block.contains("nobody is disconnected before"), "{block}"),
        _ => assert!(
            block.contains(" failed of ") && block.contains(" found"),
            "{state}: {block}"
        ),
    }
    let last = wait_until(
        Duration::from_secs(60),
        "the failover to complete",
        || async {
            let t = text(&c, "[data-testid=last-failover]").await?;
            t.contains("completed").then_some(t)
        },
    )
    .await;
    assert!(
        last.starts_with(&format!("Last: us-east-1 → {target}, completed")),
        "{last}"
    );
    let card = format!("article.card[data-region='{target}']");
    wait_until(
        Duration::from_secs(10),
        "the target to be shown active",
        || async {
            attr(&c, &card, "class")
                .await?
                .contains("active")
                .then_some(())
        },
    )
    .await;
    // The finished failover keeps its curve on screen.
    let kept = "[data-testid=last-move] [data-testid=move-curve]";
    let points: u64 = wait_until(
        Duration::from_secs(10),
        "the last failover's curve",
        || async { attr(&c, kept, "data-points").await?.parse().ok() },
    )
    .await;
    assert!(points >= 2, "{points} points kept");
    std::fs::write(
        screenshot_path("failover-done.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // Journalled and audited, readable through the API.
    let (status, body) = server.request("GET", "/api/v1/audit", None);
    assert_eq!(status, 200);
    assert!(
        body.contains("\"failover.request\"")
            && body.contains("INC-7")
            && body.contains("\"failover.end\""),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn the_failover_form_takes_focus_states_its_impact_and_escape_closes_it() {
    let server = Server::start(&[
        "--devices",
        "600",
        "--seed",
        "12",
        "--poll-interval",
        "1",
        "--fault",
        "us-east-1:outage@2s",
    ]);
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&server.url).await.unwrap();
    wait_until(
        Duration::from_secs(30),
        "an enabled failover button",
        || async {
            let b = c
                .find(Locator::Css("[data-testid=open-failover-eu-west-1]"))
                .await
                .ok()?;
            b.attr("disabled").await.ok()?.is_none().then_some(())
        },
    )
    .await;
    click(&c, "[data-testid=open-failover-eu-west-1]").await;
    let form = "[data-testid=confirm-failover]";
    // The focus is in its first field, and the form is in view.
    let focused = wait_until(Duration::from_secs(5), "the focus in the form", || async {
        let el = c.active_element().await.ok()?;
        el.attr("data-testid").await.ok()?
    })
    .await;
    assert_eq!(focused, "confirm-input");
    // In view: its top below the sticky header and strip, inside the window.
    wait_until(Duration::from_secs(3), "the form in view", || async {
        let v = c
            .execute(
                "const r = document.querySelector(arguments[0]).getBoundingClientRect(); \
                 const chrome = document.querySelector('[data-testid=chrome]').getBoundingClientRect(); \
                 return r.top >= chrome.bottom - 1 && r.top < window.innerHeight;",
                vec![serde_json::json!(form)],
            )
            .await
            .ok()?;
        (v == serde_json::json!(true)).then_some(())
    })
    .await;
    // The impact, from the plan: the switch and the devices to be moved.
    let plan = wait_until(Duration::from_secs(10), "the failover plan", || async {
        let t = text(&c, "[data-testid=plan-devices]").await?;
        (!t.is_empty()).then_some(t)
    })
    .await;
    assert!(plan.contains("us-east-1"), "{plan}");
    assert!(text(&c, "[data-testid=plan-switch]")
        .await
        .is_some_and(|t| !t.is_empty()));
    // The preflight once, not twice.
    let shown = c
        .find_all(Locator::Css("[data-testid=readiness-eu-west-1]"))
        .await
        .unwrap();
    assert_eq!(shown.len(), 1, "the target's preflight is shown once");
    std::fs::write(
        screenshot_path("failover-form.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // Escape closes it.
    c.active_element()
        .await
        .unwrap()
        .send_keys(&fantoccini::key::Key::Escape.to_string())
        .await
        .unwrap();
    wait_until(Duration::from_secs(5), "the form to close", || async {
        c.find(Locator::Css(form)).await.is_err().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn a_failover_button_to_a_target_whose_preflight_fails_is_disabled_and_says_why() {
    // ap-southeast-2 is down: failing over to it fails its preflight.
    let server = Server::start(&[
        "--devices",
        "600",
        "--seed",
        "13",
        "--poll-interval",
        "1",
        "--fault",
        "ap-southeast-2:outage@1s",
    ]);
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&server.url).await.unwrap();
    let button = "[data-testid=open-failover-ap-southeast-2]";
    let title = wait_until(
        Duration::from_secs(40),
        "a disabled failover button",
        || async {
            let b = c.find(Locator::Css(button)).await.ok()?;
            b.attr("disabled").await.ok()??;
            b.attr("title").await.ok()?
        },
    )
    .await;
    assert!(title.starts_with("the preflight fails"), "{title}");
    assert!(title.contains("ap-southeast-2 is unreachable"), "{title}");
    // The reason is on screen too, not only on hover.
    let why = text(&c, "[data-testid=why-blocked][data-target=ap-southeast-2]")
        .await
        .unwrap();
    assert_eq!(why, title);
    // A healthy target's button stays enabled.
    assert!(
        attr(&c, "[data-testid=open-failover-eu-west-1]", "disabled")
            .await
            .is_none()
    );
}
