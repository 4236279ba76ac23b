//! The web build in headless Chromium, driven through chromedriver.

use fantoccini::Locator;
use std::time::Duration;
use switchyard_e2e::*;

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
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
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
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn map_alerts_devices_and_edge_views_follow_an_outage() {
    // Polls every 3 s, each bounded by 1 s: an outage must show within two intervals (6 s).
    let interval = Duration::from_secs(3);
    let server = Server::start(&[
        "--devices",
        "20000",
        "--gateways",
        "30",
        "--seed",
        "11",
        "--poll-interval",
        "3",
        "--poll-timeout",
        "1000",
    ]);
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&format!("{}/#/map", server.url)).await.unwrap();

    // The map shows every region, the active one with an arc to its failover target.
    let markers = wait_until(Duration::from_secs(20), "three region markers", || async {
        let m = c
            .find_all(Locator::Css("svg[data-testid=map] g.marker[data-region]"))
            .await
            .ok()?;
        (m.len() == 3).then_some(m)
    })
    .await;
    let mut ids = Vec::new();
    for m in &markers {
        ids.push(m.attr("data-region").await.unwrap().unwrap());
    }
    ids.sort();
    assert_eq!(ids, ["ap-southeast-2", "eu-west-1", "us-east-1"]);
    assert!(c
        .find(Locator::Css("[data-testid=failover-arc]"))
        .await
        .is_ok());
    let marker = "svg[data-testid=map] g.marker[data-region='us-east-1']";
    wait_until(
        Duration::from_secs(10),
        "us-east-1 healthy on the map",
        || async { (attr(&c, marker, "data-status").await? == "healthy").then_some(()) },
    )
    .await;
    std::fs::write(
        screenshot_path("web-map.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // Clicking a region opens its detail with charts of the last hour.
    click(&c, marker).await;
    wait_until(Duration::from_secs(15), "the region's charts", || async {
        let n: u32 = attr(&c, "[data-testid=region-charts]", "data-samples")
            .await?
            .parse()
            .ok()?;
        (n > 0).then_some(())
    })
    .await;
    let charts = c
        .find_all(Locator::Css("[data-testid=region-charts] svg"))
        .await
        .unwrap();
    assert_eq!(
        charts.len(),
        3,
        "online, connect errors and backlog are charted"
    );
    std::fs::write(
        screenshot_path("web-region-detail.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // An injected outage turns the marker red and raises an alert within two poll intervals.
    let (status, body) = server.request(
        "POST",
        "/api/v1/sim/faults",
        Some(r#"{"fault":{"region":"us-east-1","kind":"outage"},"reason":"e2e monitoring test"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let injected = std::time::Instant::now();
    wait_until(interval * 2, "the us-east-1 marker to turn red", || async {
        (attr(&c, marker, "data-status").await? == "unreachable").then_some(())
    })
    .await;
    let banner = wait_until(interval * 2, "an alert banner", || async {
        text(&c, "[data-testid=alert-banner]").await
    })
    .await;
    eprintln!(
        "outage shown on the map and in the banner {:?} after injection",
        injected.elapsed()
    );
    assert!(banner.contains("us-east-1 is unreachable"), "{banner}");
    // Issue #18: the header names the region and the time of its last figures.
    let totals = wait_until(interval * 2, "the header to name us-east-1", || async {
        text(&c, "[data-testid=totals]")
            .await
            .filter(|t| t.contains("us-east-1 not reporting since"))
    })
    .await;
    assert!(totals.contains(" online in 2 regions"), "{totals}");
    std::fs::write(
        screenshot_path("web-map-outage.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    click(&c, "[data-testid=nav-alerts]").await;
    wait_until(Duration::from_secs(5), "the alert in the list", || async {
        let row = text(&c, "[data-testid=alerts] tr[data-alert=region_unreachable]").await?;
        row.contains("us-east-1").then_some(())
    })
    .await;

    // The device filter narrows the list.
    click(&c, "[data-testid=nav-devices]").await;
    let count = |c: &fantoccini::Client| {
        let c = c.clone();
        // "20 000 devices · data age 3 s": the count is what comes before " devices".
        async move {
            number(
                text(&c, "[data-testid=device-count]")
                    .await?
                    .split(" devices")
                    .next()?,
            )
        }
    };
    let all = wait_until(Duration::from_secs(10), "the device count", || count(&c)).await;
    assert_eq!(all, 20_000);
    let rows = c
        .find_all(Locator::Css("[data-testid=device-list] .device-row"))
        .await
        .unwrap();
    assert!(
        !rows.is_empty() && rows.len() < 100,
        "only the rows in sight are drawn: {}",
        rows.len()
    );
    c.find(Locator::Css("[data-testid=filter-group]"))
        .await
        .unwrap()
        .send_keys("cameras\n")
        .await
        .unwrap();
    click(&c, "[data-testid=filter-q]").await; // blur fires change
    wait_until(Duration::from_secs(10), "the cameras only", || async {
        (count(&c).await? == 5_000).then_some(())
    })
    .await;
    c.find(Locator::Css("[data-testid=filter-q]"))
        .await
        .unwrap()
        .send_keys("00012")
        .await
        .unwrap();
    let narrowed = wait_until(Duration::from_secs(10), "the name filter", || async {
        let n = count(&c).await?;
        (n < 5_000).then_some(n)
    })
    .await;
    // Cameras are the devices whose index is 2 mod 4: dev-0000122, dev-0000126 and dev-0001202 to dev-0001298.
    assert_eq!(narrowed, 27);
    for row in c
        .find_all(Locator::Css("[data-testid=device-list] .device-row"))
        .await
        .unwrap()
    {
        let t = row.text().await.unwrap();
        assert!(t.contains("00012") && t.contains("cameras"), "{t}");
    }
    std::fs::write(
        screenshot_path("web-devices.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // A gateway's time to overflow appears once its buffer grows.
    click(&c, "[data-testid=nav-edge]").await;
    let eta = wait_until(Duration::from_secs(15), "a time to overflow", || async {
        let t = text(
            &c,
            "[data-testid=gateways] tbody tr:first-child [data-field=overflow]",
        )
        .await?;
        (t != "—").then_some(t)
    })
    .await;
    assert!(
        eta.ends_with(" s") || eta.contains("min") || eta == "FULL",
        "{eta}"
    );
    std::fs::write(
        screenshot_path("web-edge.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    browser.finish().await;
}

/// Serves, on a port of its own (another origin), a page that frames `console` and one of its
/// own pages; returns its address.
fn framing_site(console: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let page = format!(
        "<!doctype html><title>another site</title>\
         <iframe id=console src=\"{console}\"></iframe><iframe id=own src=\"/own\"></iframe>"
    );
    std::thread::spawn(move || {
        use std::io::{BufRead, Write};
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut line = String::new();
            let _ = std::io::BufReader::new(&stream).read_line(&mut line);
            let body = if line.starts_with("GET /favicon.ico") {
                String::new()
            } else if line.starts_with("GET /own") {
                "<!doctype html><p id=own>framed by its own site</p>".to_string()
            } else if line.starts_with("GET / ") {
                page.clone()
            } else {
                let _ = stream.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                continue;
            };
            let _ = write!(
                stream,
                "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn another_site_framing_the_console_gets_a_refusal_from_the_browser() {
    let server = Server::start(&[]);
    let site = framing_site(&server.url);
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&format!("{site}/")).await.unwrap();
    // The site's own page loads in its frame: framing works, so a refusal below is the console's.
    c.enter_frame(1).await.unwrap();
    wait_until(
        Duration::from_secs(10),
        "the site's own framed page",
        || async { text(&c, "#own").await },
    )
    .await;
    c.enter_parent_frame().await.unwrap();
    // The console's frame holds none of the console: the browser refused to show it, and said
    // why in the console.
    let refusal = wait_until(Duration::from_secs(10), "the browser's refusal", || async {
        let errors = browser.errors();
        (!errors.is_empty()).then_some(errors)
    })
    .await;
    assert!(
        refusal.iter().all(|e| e.contains("frame-ancestors 'none'")),
        "{refusal:?}"
    );
    c.enter_frame(0).await.unwrap();
    let inside = c
        .execute(
            "return [location.href, document.querySelectorAll('script[src=\"boot.js\"]').length]",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(
        inside[0].as_str(),
        Some(format!("{}/", server.url).as_str()),
        "{inside}"
    );
    assert_eq!(
        inside[1], 0,
        "the console's page is not in the frame: {inside}"
    );
    c.enter_parent_frame().await.unwrap();
    browser.finish().await;
}

/// A page is a module of its own, fetched when it opens: when that fetch fails, the page says so
/// and offers to try again, the rest of the console goes on, and the retry opens the page once
/// its module can be fetched.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn a_page_whose_module_cannot_be_fetched_says_so_and_opens_on_retry() {
    // The built UI, served from a folder that lacks the drills page's module for now.
    let ui = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(workspace().join("dist")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, ui.path().join(path.file_name().unwrap())).unwrap();
    }
    let held = tempfile::tempdir().unwrap();
    let module = ["", ".br", ".gz"].map(|ext| format!("split_page_drills.wasm{ext}"));
    assert!(
        ui.path().join(&module[0]).exists(),
        "dist/ has the drills page's module"
    );
    for name in &module {
        if ui.path().join(name).exists() {
            std::fs::rename(ui.path().join(name), held.path().join(name)).unwrap();
        }
    }
    let server = Server::start(&["--seed", "7", "--ui-dir", ui.path().to_str().unwrap()]);
    let browser = chromium(1280, 800).await;
    // The loader says in the console why the module did not load (the folder answers with the
    // page, not a module): expected here.
    browser.allow("__wasm_split.js");
    let c = browser.client.clone();
    c.goto(&format!("{}/#/drills", server.url)).await.unwrap();
    let said = wait_until(
        Duration::from_secs(20),
        "the page saying it could not be fetched",
        || async { text(&c, "[data-testid=page-not-loaded]").await },
    )
    .await;
    assert!(said.contains("could not be fetched"), "{said}");
    assert!(
        c.find(Locator::Css("[data-testid=drills]")).await.is_err(),
        "no drills page without its module"
    );
    // The console goes on: the header's figures and the other pages.
    wait_until(
        Duration::from_secs(20),
        "the header's live link",
        || async {
            text(&c, "[data-testid=link]")
                .await
                .filter(|t| t.contains("live"))
        },
    )
    .await;
    std::fs::write(
        screenshot_path("web-page-not-loaded.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    // The module is back: trying again opens the page. (Made newer than the page the folder
    // answered with, which the browser kept and revalidates by its date.)
    for name in &module {
        if held.path().join(name).exists() {
            let path = ui.path().join(name);
            std::fs::rename(held.path().join(name), &path).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(std::time::SystemTime::now()).unwrap();
        }
    }
    click(&c, "[data-testid=page-retry]").await;
    wait_until(
        Duration::from_secs(20),
        "the drills page after a retry",
        || async { c.find(Locator::Css("[data-testid=drills]")).await.ok() },
    )
    .await;
    assert!(c
        .find(Locator::Css("[data-testid=page-not-loaded]"))
        .await
        .is_err());
    browser.finish().await;
}
