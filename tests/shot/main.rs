//! `switchyard-shot URL OUT.png [WAIT_MS] [WIDTHxHEIGHT] [CLICK_CSS...]`: a screenshot of a page
//! in headless Chromium, after the page has run for WAIT_MS (default 3000) and the elements
//! matching each CLICK_CSS have been clicked. For looking at the UI while
//! building it; loopback URLs only in this project.

use std::time::Duration;
use switchyard_e2e::chromium;

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
    let (w, h) = size
        .split_once(',')
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .unwrap_or((1280, 900));
    let browser = chromium(w, h).await;
    let c = browser.client.clone();
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
    browser.finish().await;
}
