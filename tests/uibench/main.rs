//! `switchyard-uibench [--rows N] [--runs N] [--smoke]`: the devices view with N devices
//! (default 100,000) against a plain static HTML table of the same N rows, both in headless
//! Chromium, in the same run. Reports each one's time to first render from the page's own clock
//! (the console: navigation start until a device row exists, an upper bound; the table: its
//! first contentful paint, a lower bound), their ratio, and the UI's wasm size raw and gzipped.
//! Loopback and local files only.

use fantoccini::Client;
use std::io::Write;
use std::process::Command;
use std::time::Duration;
use switchyard_e2e::{chromium, page_time_when, workspace, Server};

/// The static table's first render: its first contentful paint, which Chromium records as soon
/// as the first rows are painted, before the rest of the document is parsed. The most
/// favourable figure for the plain table.
async fn first_paint(c: &Client, url: &str) -> f64 {
    c.goto("about:blank").await.unwrap();
    c.goto(url).await.unwrap();
    let t = c
        .execute(
            "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null;",
            vec![],
        )
        .await
        .unwrap();
    t.as_f64().expect("a first contentful paint")
}

/// The console's first render: loads `url` and returns the page's own time (ms since
/// navigation start) at which a device row exists, polled every 10 ms, so an upper bound.
async fn first_render(c: &Client, url: &str, css: &str) -> f64 {
    c.goto("about:blank").await.unwrap();
    c.goto(url).await.unwrap();
    page_time_when(c, css, 1, Duration::from_secs(120)).await
}

fn static_table(rows: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("table.html")).unwrap());
    writeln!(
        f,
        "<!doctype html><html><head><meta charset=utf-8><title>static</title></head><body><table>"
    )
    .unwrap();
    writeln!(f, "<tr><th>thing name</th><th>region</th><th>state</th><th>since</th><th>reason</th><th>groups</th></tr>").unwrap();
    const TYPES: [&str; 4] = ["sensors", "meters", "cameras", "locks"];
    for i in 0..rows {
        writeln!(
            f,
            "<tr class=device-row><td>dev-{i:07}</td><td>us-east-1</td><td>online</td><td>1 min ago</td><td></td><td>{}, site-{:02}</td></tr>",
            TYPES[i % 4],
            (i / 100) % 25
        )
        .unwrap();
    }
    writeln!(f, "</table></body></html>").unwrap();
    dir
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn gzipped(path: &std::path::Path) -> u64 {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .expect("gzip");
    out.stdout.len() as u64
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1)?.parse().ok())
            .unwrap_or(default)
    };
    let (rows, runs) = if smoke {
        (10_000, 1)
    } else {
        (arg("--rows", 100_000), arg("--runs", 5))
    };

    let server = Server::start(&["--devices", &rows.to_string(), "--gateways", "10"]);
    let table = static_table(rows);
    let table_url = format!("file://{}", table.path().join("table.html").display());
    let console_url = format!("{}/#/devices", server.url);
    let browser = chromium(1280, 900).await;
    let c = browser.client.clone();
    // One warm-up of each, then alternate, so both see the same cache state and machine load.
    first_render(&c, &console_url, "[data-testid=device-list] .device-row").await;
    first_paint(&c, &table_url).await;
    let (mut console, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        console.push(first_render(&c, &console_url, "[data-testid=device-list] .device-row").await);
        plain.push(first_paint(&c, &table_url).await);
    }
    c.close().await.unwrap();
    let (tc, tp) = (median(console.clone()), median(plain.clone()));
    let wasm = workspace().join("dist/switchyard_ui_bg.wasm");
    let raw = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
    let gz = gzipped(&wasm);
    println!("devices view vs static table, {rows} rows, median of {runs} run(s) after a warm-up");
    println!("| rows | console first render (row in DOM) | static table first render (FCP) | ratio | wasm raw | wasm gzipped |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {rows} | {tc:.0} ms | {tp:.0} ms | {:.3} | {} KB | {} KB |",
        tc / tp,
        raw / 1024,
        gz / 1024
    );
    println!("runs: console {console:.0?} ms; static {plain:.0?} ms");
    let ok = tc < tp && gz <= 600 * 1024;
    println!(
        "targets: ratio {:.3} < 1: {}; gzipped wasm {} KB ≤ 600 KB: {}",
        tc / tp,
        if tc < tp { "met" } else { "MISSED" },
        gz / 1024,
        if gz <= 600 * 1024 { "met" } else { "MISSED" }
    );
    // The smoke run only checks that the tool works.
    if !ok && !smoke {
        std::process::exit(1);
    }
}
