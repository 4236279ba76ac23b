//! Prometheus and Grafana against the real thing: Debian's `promtool` checks the shipped
//! scrape job and rules (and runs the rules' examples); a real `/usr/bin/prometheus` on a free
//! loopback port scrapes `switchyard serve` with the bearer token of `[metrics] token_file`,
//! its query API answers a region's online devices with the console's own figure, and every
//! query of the Grafana dashboard and the rules runs on it.
//!
//! `#[ignore]`d: they need the Debian `prometheus` package (`cargo xtask setup` installs it)
//! and the built `switchyard`. Nothing leaves loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use switchyard::api::client::{BlockingClient, Client, Request};
use switchyard_e2e::*;

const TOKEN: &str = "e2e-scrape-token-0123456789";

fn assets() -> PathBuf {
    workspace().join("assets")
}

/// `promtool ARGS` in `dir`; panics with its output unless it succeeds.
fn promtool(dir: &Path, args: &[&str]) -> String {
    // Debian's prometheus package has it.
    let (ok, text) = tool_output(Command::new("promtool").args(args).current_dir(dir));
    assert!(ok, "promtool {args:?}:\n{text}");
    text
}

#[test]
#[ignore = "needs promtool (Debian's prometheus package)"]
fn the_shipped_scrape_job_and_rules_pass_promtool_and_their_examples() {
    let shipped = assets().join("prometheus");
    // The job reads the token from a file beside it: check the shipped file as it is, in a
    // folder that also has the token (as /etc/prometheus would).
    let dir = tempfile::tempdir().unwrap();
    for f in ["prometheus.yml", "rules.yml"] {
        std::fs::copy(shipped.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("switchyard-metrics.token"), TOKEN).unwrap();
    let config = promtool(dir.path(), &["check", "config", "prometheus.yml"]);
    assert!(config.contains("SUCCESS: 1 rule files found"), "{config}");
    let rules = promtool(&shipped, &["check", "rules", "rules.yml"]);
    assert!(rules.contains("SUCCESS"), "{rules}");
    let tested = promtool(&shipped, &["test", "rules", "rules_test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

/// Percent-encodes a query parameter.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push_str(&format!("{b:02X}"));
        }
    }
    out
}

/// Prometheus's instant query answer for `expr`: (status, the result list).
fn query(prom: &BlockingClient, expr: &str) -> (String, Vec<serde_json::Value>) {
    let resp = prom
        .send(Request::get(&format!(
            "/api/v1/query?query={}",
            encode(expr)
        )))
        .unwrap_or_else(|e| panic!("query {expr}: {e}"));
    let v: serde_json::Value = serde_json::from_str(&resp.text())
        .unwrap_or_else(|e| panic!("query {expr}: not JSON ({e}): {}", resp.text()));
    let status = v["status"].as_str().unwrap_or("").to_string();
    let result = v["data"]["result"].as_array().cloned().unwrap_or_default();
    if status != "success" {
        panic!("query {expr}: {v}");
    }
    (status, result)
}

/// The value of the first sample of an instant vector.
fn first_value(result: &[serde_json::Value]) -> Option<f64> {
    result.first()?["value"][1].as_str()?.parse().ok()
}

/// Every PromQL expression of the dashboard and the rules, with Grafana's variables filled in.
fn shipped_queries() -> Vec<String> {
    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(assets().join("grafana/switchyard.json")).unwrap(),
    )
    .unwrap();
    let mut exprs: Vec<String> = dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_string())
        .collect();
    // The rules' `expr:` values: one line, or the indented block after `expr: |`.
    let rules = std::fs::read_to_string(assets().join("prometheus/rules.yml")).unwrap();
    let mut lines = rules.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((indent, rest)) = line.split_once("expr: ") else {
            continue;
        };
        if rest.trim() == "|" {
            let mut block = String::new();
            while let Some(next) = lines.peek() {
                if next.len() - next.trim_start().len() <= indent.len() {
                    break;
                }
                block.push_str(next.trim());
                block.push(' ');
                lines.next();
            }
            exprs.push(block);
        } else {
            exprs.push(rest.trim().to_string());
        }
    }
    exprs
        .into_iter()
        .map(|e| {
            e.replace("$instance", ".*")
                .replace("$__rate_interval", "1m")
        })
        .collect()
}

#[test]
#[ignore = "needs /usr/bin/prometheus (Debian's prometheus package) and the built switchyard"]
fn a_real_prometheus_scrapes_the_console_with_its_token_and_finds_a_region_s_online_devices() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("scrape.token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let config = dir.path().join("switchyard.toml");
    std::fs::write(
        &config,
        format!(
            "[simulation]\ndevices = 2000\ngateways = 10\n\n[metrics]\ntoken_file = \"{}\"\n",
            token_file.display()
        ),
    )
    .unwrap();
    // Logins on: Prometheus gets in with the token alone. One poll a minute, so that the
    // figure Prometheus scrapes every second is the one the console shows until the next.
    let server = Server::start_with_logins(&[
        "--config",
        config.to_str().unwrap(),
        "--poll-interval",
        "60",
    ]);
    let target = server.url.trim_start_matches("http://").to_string();
    // Without the token the console refuses, as it must for Prometheus to need it.
    let (status, _) = server.request("GET", "/metrics", None);
    assert_eq!(status, 401);

    let port = free_port();
    let prom_dir = dir.path().join("prometheus");
    std::fs::create_dir_all(prom_dir.join("data")).unwrap();
    std::fs::write(prom_dir.join("token"), TOKEN).unwrap();
    std::fs::write(
        prom_dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: switchyard\n    metrics_path: /metrics\n    scrape_timeout: 1s\n\
             \x20   authorization:\n      type: Bearer\n      credentials_file: token\n\
             \x20   static_configs:\n      - targets: [\"{target}\"]\n"
        ),
    )
    .unwrap();
    let started = Instant::now();
    let _prometheus = Process::spawn(
        "prometheus",
        Command::new("/usr/bin/prometheus")
            .arg(format!(
                "--config.file={}",
                prom_dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                prom_dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit()),
    );
    wait_for_port(port, "prometheus", Duration::from_secs(30));
    let prom = Client::new(&format!("http://127.0.0.1:{port}"))
        .and_then(BlockingClient::new)
        .unwrap();
    // It listens before its storage is open: ready is when /-/ready says so.
    let until = Instant::now() + Duration::from_secs(30);
    while !matches!(prom.send(Request::get("/-/ready")), Ok(r) if r.status == 200) {
        assert!(
            Instant::now() < until,
            "Prometheus was not ready within 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The console's figure, read with the token (the API itself needs a session).
    let online_in_console = || -> u64 {
        let resp = server
            .client()
            .send(Request::get("/metrics").header("authorization", &format!("Bearer {TOKEN}")))
            .unwrap();
        assert_eq!(resp.status, 200);
        let line = resp
            .text()
            .lines()
            .find(|l| l.starts_with("switchyard_region_devices_online{region=\"us-east-1\"}"))
            .expect("the console reports us-east-1's online devices")
            .to_string();
        line.rsplit_once(' ').unwrap().1.parse().unwrap()
    };
    let expr = r#"switchyard_region_devices_online{job="switchyard", region="us-east-1"}"#;
    let until = Instant::now() + Duration::from_secs(30);
    let in_prometheus = loop {
        let (_, result) = query(&prom, expr);
        if let Some(v) = first_value(&result) {
            break v;
        }
        assert!(
            Instant::now() < until,
            "Prometheus had no {expr} within 30 s"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let first_sample = started.elapsed();
    let console = online_in_console();
    assert!(console > 0, "the active region has devices online");
    // One poll a minute: the two agree unless a poll fell between the two reads, and then
    // they agree again on the next scrape.
    let mut in_prometheus = in_prometheus as u64;
    let until = Instant::now() + Duration::from_secs(5);
    while in_prometheus != online_in_console() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(500));
        in_prometheus = first_value(&query(&prom, expr).1).unwrap_or(0.0) as u64;
    }
    assert_eq!(
        in_prometheus,
        online_in_console(),
        "Prometheus's figure is the console's"
    );
    let (_, up) = query(&prom, r#"up{job="switchyard"}"#);
    assert_eq!(first_value(&up), Some(1.0), "{up:?}");
    let (_, healthy) = query(
        &prom,
        r#"switchyard_region_health{region="us-east-1", state="healthy"}"#,
    );
    assert_eq!(first_value(&healthy), Some(1.0));
    let (_, samples) = query(&prom, "scrape_samples_scraped{job=\"switchyard\"}");
    let (_, took) = query(&prom, "scrape_duration_seconds{job=\"switchyard\"}");
    eprintln!(
        "first sample in Prometheus {first_sample:?} after it started; a scrape: {} samples in {:.1} ms",
        first_value(&samples).unwrap_or(0.0),
        first_value(&took).unwrap_or(0.0) * 1_000.0
    );

    // Every query the dashboard and the rules ship runs on this Prometheus; the dashboard's
    // region panels find the console's series.
    let queries = shipped_queries();
    assert!(queries.len() > 20, "{queries:?}");
    let mut with_data = 0;
    for q in &queries {
        let (_, result) = query(&prom, q);
        with_data += usize::from(!result.is_empty());
    }
    assert!(
        with_data >= 8,
        "only {with_data} of {} shipped queries found data",
        queries.len()
    );
}
