//! The runbook CLI against a real `switchyard serve` on the simulated fleet, the way a NOC
//! shift uses it in an outage: `status` (text, `--json`, exit 2 while the incident is open),
//! `preflight --to`, `failover --dry-run` (nothing started), the failover itself streaming
//! JSON, and the console taken from `SWITCHYARD_SERVER`.

use std::process::Command;
use std::time::{Duration, Instant};
use switchyard_e2e::*;

/// What a runbook command did: its exit code, stdout and stderr.
struct Ran {
    code: i32,
    out: String,
    err: String,
}

/// `switchyard ARGS`, with `SWITCHYARD_SERVER` set to `server` (or removed).
fn switchyard(args: &[&str], server: Option<&str>) -> Ran {
    let mut cmd = Command::new(binary("SWITCHYARD_BIN", "switchyard"));
    cmd.args(args).env("USER", "cli-e2e");
    match server {
        Some(url) => cmd.env("SWITCHYARD_SERVER", url),
        None => cmd.env_remove("SWITCHYARD_SERVER"),
    };
    let out = cmd.output().expect("switchyard runs");
    Ran {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8(out.stdout).unwrap(),
        err: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `switchyard ARGS --server URL`.
fn at(url: &str, args: &[&str]) -> Ran {
    let mut all = args.to_vec();
    all.extend(["--server", url]);
    switchyard(&all, None)
}

/// Whether `text` holds a run of ten digits or more: a raw millisecond timestamp.
fn has_raw_timestamp(text: &str) -> bool {
    let mut run = 0;
    text.chars().any(|c| {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        run >= 10
    })
}

/// Every line of `out` as JSON; at least one.
fn json_lines(out: &str) -> Vec<serde_json::Value> {
    let docs: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!docs.is_empty(), "no JSON printed");
    docs
}

/// Runs `switchyard status` until `done` says yes, for up to `timeout`.
fn status_until(url: &str, timeout: Duration, what: &str, done: impl Fn(&Ran) -> bool) -> Ran {
    let until = Instant::now() + timeout;
    loop {
        let r = at(url, &["status"]);
        if done(&r) {
            return r;
        }
        assert!(
            Instant::now() < until,
            "timed out after {timeout:?} waiting for {what}; last status ({}):\n{}{}",
            r.code,
            r.out,
            r.err
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
#[ignore = "needs the built switchyard binary: run `cargo xtask test`"]
fn a_shift_follows_an_outage_from_the_cli_and_a_dry_run_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cli.toml");
    std::fs::write(
        &config,
        "[engine]\npoll_interval_secs = 1\n\n[failover]\nrecommend_after_secs = 5\n\n\
         [simulation]\ndevices = 2000\ngateways = 8\nseed = 11\ndns_ttl_secs = 5\n",
    )
    .unwrap();
    let server = Server::start(&["--config", config.to_str().unwrap()]);
    let url = server.url.clone();

    // Quiet: every region reports, no incident, exit 0.
    let calm = status_until(
        &url,
        Duration::from_secs(30),
        "three regions reporting",
        |r| r.code == 0 && r.out.contains("online in 3 regions"),
    );
    assert!(calm.out.contains("No open incident."), "{}", calm.out);
    assert!(calm.out.contains("No failover under way."), "{}", calm.out);
    assert!(
        calm.out
            .lines()
            .next()
            .unwrap()
            .contains(" UTC · simulated fleet · active region us-east-1"),
        "{}",
        calm.out
    );
    assert!(!has_raw_timestamp(&calm.out), "{}", calm.out);

    // The outage.
    let (code, body) = server.request(
        "POST",
        "/api/v1/sim/faults",
        Some(r#"{"fault":{"region":"us-east-1","kind":"outage"},"reason":"cli e2e"}"#),
    );
    assert_eq!(code, 201, "{body}");
    let during = status_until(&url, Duration::from_secs(30), "the incident", |r| {
        r.code == 2
    });
    let text = &during.out;
    assert!(text.contains("Incident #"), "{text}");
    assert!(text.contains("us-east-1"), "{text}");
    assert!(
        text.contains("alerts: ") && text.contains(" unacknowledged"),
        "{text}"
    );
    let since = text
        .lines()
        .find(|l| l.trim_start().starts_with("since "))
        .unwrap_or_else(|| panic!("no 'since' line:\n{text}"));
    assert!(
        since.contains(" UTC (") && since.contains(" ago)"),
        "{since}"
    );
    let east = text
        .lines()
        .find(|l| l.trim_start().starts_with("us-east-1 "))
        .unwrap_or_else(|| panic!("no us-east-1 line:\n{text}"));
    assert!(
        east.contains("unreachable") && east.contains("last known at ") && east.ends_with(" UTC"),
        "{east}"
    );
    assert!(text.contains("us-east-1 not reporting since "), "{text}");
    assert!(text.contains("Edge backlog: "), "{text}");
    assert!(!has_raw_timestamp(text), "{text}");

    // --json, the console from SWITCHYARD_SERVER: one document, the API's, the same exit code.
    let json = switchyard(&["status", "--json"], Some(&url));
    assert_eq!(json.code, 2, "{}{}", json.out, json.err);
    let docs = json_lines(&json.out);
    assert_eq!(docs.len(), 1, "{}", json.out);
    let s = &docs[0];
    let incident = s["incident"]["id"].as_i64().expect("an open incident");
    let east = s["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "us-east-1")
        .unwrap();
    assert_eq!(east["figures"], "last_known", "{east}");
    let (code, api) = server.request("GET", "/api/v1/status", None);
    assert_eq!(code, 200);
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["incident"]["id"].as_i64(), Some(incident));

    // The preflight of the recommended target: its checks, the switch, the TTL; the exit code
    // agrees with the plan.
    let pre = at(&url, &["preflight", "--to", "eu-west-1"]);
    assert!(
        pre.out.starts_with("Failover us-east-1 → eu-west-1: "),
        "{}{}",
        pre.out,
        pre.err
    );
    for want in [
        "Preflight: ",
        "Switch: ",
        "DNS TTL: 5 s",
        "Stragglers: ",
        "Devices online in us-east-1: ",
    ] {
        assert!(pre.out.contains(want), "{want} missing:\n{}", pre.out);
    }
    assert!(!has_raw_timestamp(&pre.out), "{}", pre.out);
    let plan = at(&url, &["preflight", "--to", "eu-west-1", "--json"]);
    let plan = &json_lines(&plan.out)[0];
    let would_start = plan["refused"].is_null() && plan["preflight"]["overall"] != "fail";
    assert_eq!(pre.code, if would_start { 0 } else { 3 }, "{plan}");
    assert!(!plan["preflight"]["checks"].as_array().unwrap().is_empty());
    let nowhere = at(&url, &["preflight", "--to", "eu-central-1"]);
    assert_eq!(nowhere.code, 1, "{}", nowhere.out);
    assert!(nowhere.err.contains("eu-central-1"), "{}", nowhere.err);

    // A dry run of the very request: the plan, and nothing started.
    let failover = [
        "failover",
        "--to",
        "eu-west-1",
        "--reason",
        "INC-18 us-east-1 down",
        "--override-warnings",
    ];
    let mut dry: Vec<&str> = failover.to_vec();
    dry.push("--dry-run");
    let ran = at(&url, &dry);
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    assert!(
        ran.out
            .starts_with("Failover us-east-1 → eu-west-1: would start"),
        "{}",
        ran.out
    );
    assert!(
        ran.out.contains("dry run: nothing was started"),
        "{}",
        ran.out
    );
    dry.push("--json");
    let ran = at(&url, &dry);
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let docs = json_lines(&ran.out);
    assert_eq!(docs.len(), 1, "{}", ran.out);
    assert_eq!(docs[0]["target"], "eu-west-1");
    assert!(docs[0]["refused"].is_null(), "{}", docs[0]);
    // A request that would be refused (no reason): said, exit 3, still nothing started.
    let ran = at(
        &url,
        &["failover", "--to", "eu-west-1", "--reason", "", "--dry-run"],
    );
    assert_eq!(ran.code, 3, "{}{}", ran.out, ran.err);
    assert!(ran.out.contains("would be REFUSED: "), "{}", ran.out);
    let (code, overview) = server.request("GET", "/api/v1/failover", None);
    assert_eq!(code, 200);
    let overview: serde_json::Value = serde_json::from_str(&overview).unwrap();
    assert!(
        overview["current"].is_null(),
        "a dry run started {overview}"
    );
    assert_eq!(overview["recent"], serde_json::json!([]), "{overview}");
    assert_eq!(overview["active"], "us-east-1");
    let (_, audit) = server.request("GET", "/api/v1/audit", None);
    assert!(!audit.contains("\"failover.request\""), "{audit}");

    // The failover itself, streaming: one JSON document a line, the request's answer first,
    // the completed failover last.
    let mut real: Vec<&str> = failover.to_vec();
    real.push("--json");
    let ran = switchyard(&real, Some(&url));
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let docs = json_lines(&ran.out);
    assert!(docs.len() >= 2, "{}", ran.out);
    let id = docs[0]["id"].as_str().unwrap().to_string();
    assert!(docs.iter().all(|d| d["id"] == id.as_str()), "{}", ran.out);
    assert_eq!(docs.last().unwrap()["phase"], "completed", "{}", ran.out);

    // Afterwards: the summary stays, with its duration; the incident is still open while
    // us-east-1 is down.
    let after = at(&url, &["status"]);
    assert_eq!(after.code, 2, "{}", after.out);
    assert!(
        after.out.contains(&format!(
            "Last failover {id}: us-east-1 → eu-west-1, completed in "
        )),
        "{}",
        after.out
    );
    assert!(
        after.out.contains("active region eu-west-1"),
        "{}",
        after.out
    );
    // The failover's id is a name, not a time printed.
    let named = after.out.replace(&id, "ID");
    assert!(!has_raw_timestamp(&named), "{}", after.out);

    // A command preview as JSON: the API's preview, one line.
    let ran = at(
        &url,
        &[
            "command",
            "--name",
            "ping",
            "--target",
            "region:eu-west-1",
            "--preview",
            "--json",
        ],
    );
    assert_eq!(ran.code, 0, "{}{}", ran.out, ran.err);
    let docs = json_lines(&ran.out);
    assert_eq!(docs.len(), 1, "{}", ran.out);
    assert!(docs[0]["publish"].as_u64().unwrap() > 0, "{}", docs[0]);
}

#[test]
#[ignore = "needs the built switchyard binary: run `cargo xtask test`"]
fn without_a_server_the_runbook_names_the_flag_and_the_variable() {
    for args in [
        vec!["status"],
        vec!["preflight", "--to", "eu-west-1"],
        vec![
            "failover",
            "--to",
            "eu-west-1",
            "--reason",
            "x",
            "--dry-run",
        ],
    ] {
        let ran = switchyard(&args, None);
        assert_eq!(ran.code, 1, "{args:?}: {}{}", ran.out, ran.err);
        assert!(
            ran.err.contains("--server") && ran.err.contains("SWITCHYARD_SERVER"),
            "{args:?}: {}",
            ran.err
        );
        assert_eq!(ran.err.trim_end().lines().count(), 1, "{}", ran.err);
        assert!(ran.out.is_empty(), "{}", ran.out);
    }
    // The help says the exit codes.
    let help = switchyard(&["status", "--help"], None);
    assert_eq!(help.code, 0);
    assert!(
        help.out.contains("2 when one is") && help.out.contains("SWITCHYARD_SERVER"),
        "{}",
        help.out
    );
}
