//! `switchyard-firstload [--runs N] [--ui-dir DIR] [--smoke]`: a first visit to the console's
//! map, as a new browser makes it. Each run is a fresh headless Chromium (a new profile, so a
//! cold cache) on loopback: it opens `/#/map` and waits for the map with its region markers.
//! Reports, from the page's own clock and its resource timing, the time from navigation start
//! to the markers (polled every 10 ms, so an upper bound by at most that) and the bytes that
//! crossed the wire (every response's `transferSize`, headers included) once the page has
//! settled; the median of N runs (default 5), and each file's share of the first run.
//! `--ui-dir` serves a UI from a folder instead of the one built in (to measure an older build).

use std::time::Duration;
use switchyard_e2e::{chromium, page_time_when, Server};

/// The most a first load may move, in bytes (issue #20).
const BUDGET: f64 = 350_000.0;
/// The time to the map with its markers before the first load was made lighter (issue #20).
const BEFORE_MS: f64 = 300.0;
const MARKERS: &str = "svg[data-testid=map] g.marker[data-region]";

struct Load {
    ms: f64,
    bytes: f64,
    files: Vec<(String, f64, String)>,
}

async fn first_load(url: &str) -> Load {
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(url).await.unwrap();
    let ms = page_time_when(&c, MARKERS, 3, Duration::from_secs(60)).await;
    // What the first view goes on to load (its history, the event stream's start) counts too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let entries = c
        .execute(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))\
               .map(e => [e.name, e.transferSize, e.contentEncoding || ''])",
            vec![],
        )
        .await
        .unwrap();
    let files: Vec<(String, f64, String)> = entries
        .as_array()
        .expect("the resource timing entries")
        .iter()
        .map(|e| {
            let name = e[0].as_str().unwrap_or_default();
            let path = name.split_once("//").map_or(name, |(_, r)| r);
            let path = path.find('/').map_or("/", |i| &path[i..]).to_string();
            (
                path,
                e[1].as_f64().unwrap_or(0.0),
                e[2].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let bytes = files.iter().map(|f| f.1).sum();
    browser.finish().await;
    Load { ms, bytes, files }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let runs: usize = if smoke {
        1
    } else {
        value("--runs").and_then(|v| v.parse().ok()).unwrap_or(5)
    };
    let mut serve = vec!["--seed".to_string(), "7".to_string()];
    if let Some(dir) = value("--ui-dir") {
        serve.extend(["--ui-dir".to_string(), dir]);
    }
    let serve: Vec<&str> = serve.iter().map(String::as_str).collect();
    let server = Server::start(&serve);
    let url = format!("{}/#/map", server.url);
    let mut loads = Vec::new();
    for _ in 0..runs {
        loads.push(first_load(&url).await);
    }
    let ms = median(loads.iter().map(|l| l.ms).collect());
    let bytes = median(loads.iter().map(|l| l.bytes).collect());
    println!("first load of {url}, fresh profile each run, median of {runs}");
    println!("| file (first run) | bytes over the wire | encoding |");
    println!("|---|---:|---|");
    for (path, size, coding) in &loads[0].files {
        println!("| {path} | {size:.0} | {coding} |");
    }
    println!(
        "runs: {:?} ms; {:?} bytes",
        loads.iter().map(|l| l.ms.round()).collect::<Vec<_>>(),
        loads.iter().map(|l| l.bytes).collect::<Vec<_>>()
    );
    println!("median: {ms:.0} ms to the map with its markers; {bytes:.0} bytes over the wire");
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    println!(
        "targets: {bytes:.0} bytes ≤ {BUDGET:.0}: {}; {ms:.0} ms ≤ {BEFORE_MS:.0} ms: {}",
        verdict(bytes <= BUDGET),
        verdict(ms <= BEFORE_MS)
    );
    // The smoke run only checks that the tool works.
    if !smoke && (bytes > BUDGET || ms > BEFORE_MS) {
        std::process::exit(1);
    }
}
