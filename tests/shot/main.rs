//! `switchyard-shot URL OUT.png [WAIT_MS] [WIDTHxHEIGHT] [CLICK_CSS...]`: a screenshot of a page
//! in headless Chromium, after the page has run for WAIT_MS (default 3000) and the elements
//! matching each CLICK_CSS have been clicked. For looking at the UI while
//! building it; loopback URLs only in this project.

use std::process::{Command, Stdio};
use std::time::Duration;
use switchyard_e2e::{free_port, wait_for_port, webdriver, Process};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: switchyard-shot URL OUT.png [WAIT_MS] [WIDTHxHEIGHT]");
        std::process::exit(2);
    }
    let wait: u64 = args.get(3).and_then(|w| w.parse().ok()).unwrap_or(3_000);
    let size = args
        .get(4)
        .cloned()
        .unwrap_or_else(|| "1280x900".into())
        .replace('x', ",");
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
    let c = webdriver(
        port,
        serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--hide-scrollbars", format!("--window-size={size}"),
                         format!("--user-data-dir={}", profile.path().display())]
            }
        }),
    )
    .await;
    c.goto(&args[1]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(wait)).await;
    // Optional: click these elements (CSS selectors) in turn, a second apart.
    for css in args.iter().skip(5) {
        c.find(fantoccini::Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1_000)).await;
    }
    std::fs::write(&args[2], c.screenshot().await.unwrap()).unwrap();
    c.close().await.unwrap();
}
