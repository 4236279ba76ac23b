//! Alerts out to a real Prometheus Alertmanager (Debian's `prometheus-alertmanager`): an outage
//! injected into the simulation appears in Alertmanager with its labels within 10 s of the
//! console raising it and is resolved there when it clears; an alert raised while Alertmanager
//! is down is delivered exactly once after it comes back, across a restart of the console.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use switchyard_e2e::*;

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// A real Alertmanager on `port`, with no clustering and its data in `dir`.
fn alertmanager(port: u16, dir: &Path) -> Process {
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: 'null'\n  group_wait: 1s\nreceivers:\n  - name: 'null'\n",
    )
    .unwrap();
    let mut cmd = Command::new(ALERTMANAGER);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let p = Process::spawn("alertmanager", &mut cmd);
    wait_for_port(port, "alertmanager", Duration::from_secs(20));
    p
}

/// `GET path` of the server on loopback `port`.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let client = switchyard::api::client::Client::new(&format!("http://127.0.0.1:{port}")).ok()?;
    let client = switchyard::api::client::BlockingClient::new(client).ok()?;
    let resp = client
        .send(switchyard::api::client::Request::get(path))
        .ok()?;
    Some((resp.status, resp.text()))
}

/// Alertmanager's alerts named `alertname`, as its v2 API lists them.
fn am_alerts(port: u16, alertname: &str) -> Vec<Value> {
    let Some((200, body)) = get(port, "/api/v2/alerts") else {
        return Vec::new();
    };
    let all: Vec<Value> = serde_json::from_str(&body).unwrap();
    all.into_iter()
        .filter(|a| a["labels"]["alertname"] == alertname)
        .collect()
}

/// One of Alertmanager's own counters, summed over the series matching `needle`.
fn am_counter(port: u16, name: &str, needle: &str) -> f64 {
    let (status, text) = get(port, "/metrics").unwrap();
    assert_eq!(status, 200, "{text}");
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(needle))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn config(dir: &Path, am_port: u16, resend_secs: u64) -> String {
    let path = dir.join("alerts.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[alerts]
console_url = "http://noc.example"
retry_first_secs = 1
retry_max_secs = 2

[[alerts.receivers]]
name = "noc-alertmanager"
kind = "alertmanager"
urls = ["http://127.0.0.1:{am_port}"]
resend_secs = {resend_secs}
timeout_ms = 2000
"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// The console's open `region_unreachable` alert of `region`: its raise time.
fn console_alert(server: &Server, region: &str) -> Option<u64> {
    let (_, body) = server.request("GET", "/api/v1/alerts?open=true", None);
    let v: Value = serde_json::from_str(&body).ok()?;
    v["alerts"].as_array()?.iter().find_map(|a| {
        (a["kind"] == "region_unreachable" && a["subject"] == region)
            .then(|| a["raised_at"].as_u64())
            .flatten()
    })
}

fn wait<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "waited {secs} s for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// The log row of the region's raise.
fn ours(d: &Value) -> &Value {
    d["deliveries"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["subject"] == "eu-west-1" && r["event"] == "firing")
        })
        .unwrap_or(&Value::Null)
}

fn fault(server: &Server, region: &str) {
    let body = format!(
        r#"{{"fault":{{"region":"{region}","kind":"outage"}},"reason":"e2e alertmanager"}}"#
    );
    let (status, body) = server.request("POST", "/api/v1/sim/faults", Some(&body));
    assert_eq!(status, 201, "{body}");
}

#[test]
#[ignore = "end-to-end: needs the switchyard binary and prometheus-alertmanager"]
fn an_outage_reaches_alertmanager_with_its_labels_within_ten_seconds_and_resolves_when_it_clears() {
    let dir = tempfile::tempdir().unwrap();
    let am_port = free_port();
    let _am = alertmanager(am_port, dir.path());
    let cfg = config(dir.path(), am_port, 60);
    let server = Server::start(&[
        "--config",
        &cfg,
        "--poll-interval",
        "1",
        "--poll-timeout",
        "500",
    ]);
    fault(&server, "eu-west-1");
    let raised_at = wait("the console's alert", 30, || {
        console_alert(&server, "eu-west-1")
    });
    let alert = wait("the alert in Alertmanager", 15, || {
        am_alerts(am_port, "region_unreachable")
            .into_iter()
            .find(|a| a["labels"]["region"] == "eu-west-1")
    });
    let seen_after = now_ms().saturating_sub(raised_at);
    eprintln!("Alertmanager had the alert {seen_after} ms after the console raised it");
    assert!(seen_after <= 10_000, "{seen_after} ms");
    assert_eq!(alert["labels"]["severity"], "critical");
    assert_eq!(alert["labels"]["source"], "switchyard");
    assert_eq!(alert["labels"]["subject"], "eu-west-1");
    assert_eq!(alert["status"]["state"], "active");
    assert!(alert["annotations"]["summary"]
        .as_str()
        .unwrap()
        .contains("eu-west-1 is unreachable"));
    assert!(alert["generatorURL"]
        .as_str()
        .unwrap()
        .starts_with("http://noc.example/#/incidents/"));

    let (status, body) = server.request(
        "DELETE",
        "/api/v1/sim/faults",
        Some(r#"{"reason":"e2e alertmanager over"}"#),
    );
    assert_eq!(status, 200, "{body}");
    wait("the clear in Alertmanager", 30, || {
        let still = am_alerts(am_port, "region_unreachable")
            .into_iter()
            .filter(|a| a["labels"]["region"] == "eu-west-1")
            .any(|a| a["status"]["state"] == "active");
        (!still).then_some(())
    });
    let (_, body) = server.request("GET", "/api/v1/deliveries", None);
    let d: Value = serde_json::from_str(&body).unwrap();
    let rows: Vec<&Value> = d["deliveries"].as_array().unwrap().iter().collect();
    let events: Vec<&str> = rows
        .iter()
        .filter(|r| r["subject"] == "eu-west-1")
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["resolved", "firing"], "newest first: {body}");
    assert!(rows.iter().all(|r| r["state"] == "delivered"), "{body}");
    assert_eq!(d["receivers"][0]["health"]["status"], "ok", "{body}");
}

#[test]
#[ignore = "end-to-end: needs the switchyard binary and prometheus-alertmanager"]
fn an_alert_raised_while_alertmanager_is_down_is_delivered_exactly_once_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let am_port = free_port();
    // No re-sends during the test, so that Alertmanager's own count is of deliveries.
    let cfg = config(dir.path(), am_port, 3_600);
    let args = [
        "--config",
        &cfg,
        "--poll-interval",
        "1",
        "--poll-timeout",
        "500",
        "--fault",
        "eu-west-1:outage",
    ];
    let server = Server::start(&args);
    wait("the console's alert", 30, || {
        console_alert(&server, "eu-west-1")
    });
    let failing = wait("the receiver failing", 30, || {
        let (_, body) = server.request("GET", "/api/v1/deliveries", None);
        let d: Value = serde_json::from_str(&body).ok()?;
        (d["receivers"][0]["health"]["status"] == "failing").then_some(d)
    });
    let row = ours(&failing);
    assert_eq!(row["state"], "retrying", "{failing}");
    assert!(row["last_error"].as_str().is_some(), "{failing}");

    // The console restarts on the same data, then Alertmanager comes up.
    let data = server.stop();
    let mut again = vec!["--no-auth"];
    again.extend_from_slice(&args);
    let server = Server::start_in(data, &again);
    let _am = alertmanager(am_port, dir.path());
    wait("the alert in Alertmanager", 30, || {
        am_alerts(am_port, "region_unreachable")
            .into_iter()
            .find(|a| a["labels"]["region"] == "eu-west-1")
    });
    let delivered = wait("the delivery marked", 15, || {
        let (_, body) = server.request("GET", "/api/v1/deliveries", None);
        let d: Value = serde_json::from_str(&body).ok()?;
        (ours(&d)["state"] == "delivered").then_some(d)
    });
    // Some polls more: nothing is sent twice.
    std::thread::sleep(Duration::from_secs(4));
    let firing = am_counter(
        am_port,
        "alertmanager_alerts_received_total",
        "status=\"firing\"",
    );
    assert_eq!(
        firing, 1.0,
        "Alertmanager received the raise {firing} times"
    );
    let rows: Vec<&Value> = delivered["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["subject"] == "eu-west-1")
        .collect();
    assert_eq!(
        rows.len(),
        1,
        "one notice of the region's alert: {delivered}"
    );
    assert!(rows[0]["attempts"].as_u64().unwrap() >= 2, "{delivered}");
}
