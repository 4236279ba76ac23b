//! `switchyard-load`: a load run against `switchyard serve` on loopback: many open event streams
//! plus a steady rate of API requests, reporting errors, latency percentiles and the server's
//! memory growth.
//!
//!   cargo run --release -p switchyard-e2e --bin switchyard-load -- [--devices N] [--clients N]
//!       [--rps N] [--secs N] [--smoke]
//!
//! Defaults are the scale issue's: 100 event-stream clients, 50 requests/s, 60 s, against a
//! fleet of 1,000,000 devices, 5 regions and 10,000 gateways polled every second. `--smoke`
//! runs 3 s with 5 clients on a small fleet, to check that the tool still works. Every
//! connection goes to 127.0.0.1 only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::api::client::{Client, ClientOptions, Request};
use switchyard_e2e::Server;

struct Opts {
    devices: u64,
    clients: usize,
    rps: u64,
    secs: u64,
    smoke: bool,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        devices: 1_000_000,
        clients: 100,
        rps: 50,
        secs: 60,
        smoke: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--devices" => o.devices = num("--devices")?,
            "--clients" => o.clients = num("--clients")? as usize,
            "--rps" => o.rps = num("--rps")?,
            "--secs" => o.secs = num("--secs")?,
            "--smoke" => o.smoke = true,
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    if o.smoke {
        (o.devices, o.clients, o.rps, o.secs) = (10_000, 5, 20, 3);
    }
    if o.rps == 0 || o.secs == 0 {
        return Err("--rps and --secs must be more than 0".into());
    }
    Ok(o)
}

fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .map_or(0, |kb: u64| kb * 1024)
}

/// One event-stream client: reads until `stop`, counting `regions` events. Returns an error if
/// the stream ends or fails before then.
async fn sse_client(client: Client, events: Arc<AtomicU64>, stop: Instant) -> Result<(), String> {
    let mut s = client
        .events(Request::get("/api/v1/events"))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    if s.status != 200 {
        return Err(format!("answer: {}", s.status));
    }
    loop {
        let left = stop.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        match tokio::time::timeout(left, s.next_event()).await {
            Err(_) => return Ok(()),
            Ok(Ok(None)) => return Err("event stream closed by the server".into()),
            Ok(Ok(Some(ev))) => {
                if ev.event == "regions" {
                    events.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Err(e)) => return Err(format!("read: {e}")),
        }
    }
}

/// One API request on a fresh connection (the client keeps none open); returns its latency.
async fn request(client: &Client) -> Result<Duration, String> {
    let t = Instant::now();
    let resp = client
        .send(Request::get("/api/v1/regions"))
        .await
        .map_err(|e| e.to_string())?;
    if resp.status != 200 {
        return Err(format!("answer: {}", resp.status));
    }
    Ok(t.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("switchyard-load: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let devices = o.devices.to_string();
    let server = Server::start(&[
        "--devices",
        &devices,
        "--gateways",
        "10000",
        "--poll-interval",
        "1",
        "--regions",
        "us-east-1,eu-west-1,ap-southeast-2,us-west-2,eu-central-1",
    ]);
    // Every request answered within 10 s, or it counts as an error.
    let client = Client::with_options(
        &server.url,
        ClientOptions {
            request_timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        },
    )
    .expect("a client of the server");
    let pid = server.pid();
    // Warm up: the first polls, the allocator settling.
    tokio::time::sleep(Duration::from_secs(if o.smoke { 1 } else { 5 })).await;
    let rss_idle = rss_of(pid);
    let started = Instant::now();
    // Growth is measured from a point where every client is connected and the load is steady,
    // so that it shows what the run accumulates rather than what the load itself needs.
    let steady_at = started + Duration::from_secs((o.secs / 6).clamp(1, 10));
    let mut rss_start = None;
    let stop = started + Duration::from_secs(o.secs);

    let events = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..o.clients)
        .map(|_| tokio::spawn(sse_client(client.clone(), events.clone(), stop)))
        .collect();

    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / o.rps as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut requests = Vec::new();
    let mut rss_max = rss_idle;
    let mut last_sample = Instant::now();
    while Instant::now() < stop {
        tick.tick().await;
        let c = client.clone();
        requests.push(tokio::spawn(async move { request(&c).await }));
        if last_sample.elapsed() >= Duration::from_secs(1) {
            let now = rss_of(pid);
            rss_max = rss_max.max(now);
            if rss_start.is_none() && Instant::now() >= steady_at {
                rss_start = Some(now);
            }
            last_sample = Instant::now();
        }
    }
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for r in requests {
        match r.await.unwrap() {
            Ok(d) => latencies.push(d),
            Err(e) => errors.push(format!("request: {e}")),
        }
    }
    for c in clients {
        if let Err(e) = c.await.unwrap() {
            errors.push(format!("event stream: {e}"));
        }
    }
    let rss_end = rss_of(pid);
    let rss_start = rss_start.unwrap_or(rss_idle);
    latencies.sort();
    let elapsed = started.elapsed().as_secs_f64();
    let growth = (rss_end as f64 - rss_start as f64) / rss_start as f64 * 100.0;
    println!("load run: {} devices, 5 regions, 10000 gateways, poll 1 s; {} event-stream clients, {} requests/s, {:.0} s",
        o.devices, o.clients, o.rps, elapsed);
    println!("| requests | errors | p50 | p90 | p99 | max | events/client/s | server RSS idle | steady | end | max | growth steady→end |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} | {:.1} MB | {:.1} MB | {:.1} MB | {:.1} MB | {:+.1} % |",
        latencies.len() + errors.iter().filter(|e| e.starts_with("request")).count(),
        errors.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.90),
        percentile(&latencies, 0.99),
        latencies.last().map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
        events.load(Ordering::Relaxed) as f64 / o.clients as f64 / elapsed,
        rss_idle as f64 / 1e6,
        rss_start as f64 / 1e6,
        rss_end as f64 / 1e6,
        rss_max as f64 / 1e6,
        growth,
    );
    for e in errors.iter().take(10) {
        eprintln!("error: {e}");
    }
    let p99 = percentile(&latencies, 0.99);
    println!("targets: no errors: {}; p99 {p99:.2} ms ≤ 50 ms: {}; memory growth {growth:+.1} % < 10 %: {}",
        if errors.is_empty() { "met" } else { "MISSED" },
        if p99 <= 50.0 { "met" } else { "MISSED" },
        if growth < 10.0 { "met" } else { "MISSED" });
    // The smoke run fails on errors only: its few seconds say nothing about latency or memory.
    if errors.is_empty() && (o.smoke || (p99 <= 50.0 && growth < 10.0)) {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
