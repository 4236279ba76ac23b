//! The exposition as a scraper reads it: figures equal to the engine's own, counters at their
//! events, a hung poll in its timeout's bucket, one recorder per engine, a scrape that does not
//! grow with the fleet.

use super::*;
use crate::engine::kit::EngineKit;
use crate::engine::EngineConfig;
use crate::sim::{SimConfig, SimFleet, SimSource};
use std::collections::BTreeMap;
use switchyard_core::fault::{FaultKind, FaultSpec};

/// One sample line: its family, labels and value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of a text exposition (comments skipped).
pub(crate) fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample has a value");
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split("\",")
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("label=value");
                    (k.to_string(), v.trim_matches('"').to_string())
                })
                .collect();
            Sample {
                name: name.to_string(),
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// The value of `name` with (at least) `labels`, if the scrape has it.
pub(crate) fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples(text)
        .into_iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

fn sim(gateways: usize) -> SimSource {
    SimSource::new(SimFleet::new(
        SimConfig {
            seed: 19,
            devices: 1_000,
            gateways,
            ..SimConfig::default()
        },
        1_000_000,
    ))
}

fn engine(sim: &SimSource, timeout_ms: u64) -> Engine {
    EngineKit::sim(sim)
        .config(EngineConfig {
            poll_timeout: Duration::from_millis(timeout_ms),
            ..EngineConfig::default()
        })
        .tokio_clock(1_010_000)
        .build()
}

#[tokio::test(start_paused = true)]
async fn a_region_s_figures_in_the_scrape_are_the_engine_s_own() {
    let sim = sim(8);
    let e = engine(&sim, 500);
    sim.with(|f| (0..10).for_each(|_| f.step()));
    let before = e.render_metrics().await;
    assert_eq!(
        value(&before, REGION_ONLINE, &[("region", "us-east-1")]),
        None,
        "a figure never observed is absent, not zero"
    );
    assert_eq!(
        value(
            &before,
            REGION_HEALTH,
            &[("region", "us-east-1"), ("state", "unknown")]
        ),
        Some(1.0)
    );
    e.poll_once("us-east-1").await;
    e.poll_gateways_once().await.unwrap();
    tokio::time::advance(Duration::from_millis(1_500)).await;
    let text = e.render_metrics().await;
    let r = e
        .snapshot()
        .regions
        .into_iter()
        .find(|r| r.id == "us-east-1")
        .unwrap();
    let us = [("region", "us-east-1")];
    assert!(r.online > 900);
    assert_eq!(value(&text, REGION_ONLINE, &us), Some(r.online as f64));
    assert_eq!(value(&text, REGION_OFFLINE, &us), Some(r.offline as f64));
    assert_eq!(value(&text, REGION_DATA_AGE, &us), Some(1.5));
    assert_eq!(value(&text, REGION_FIGURES_CURRENT, &us), Some(1.0));
    assert_eq!(value(&text, REGION_ACTIVE, &us), Some(1.0));
    assert_eq!(
        value(&text, REGION_ACTIVE, &[("region", "eu-west-1")]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &text,
            REGION_HEALTH,
            &[("region", "us-east-1"), ("state", "healthy")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            REGION_HEALTH,
            &[("region", "us-east-1"), ("state", "unknown")]
        ),
        Some(0.0)
    );
    assert_eq!(value(&text, POLLS, &us), Some(1.0));
    assert_eq!(value(&text, POLL_FAILURES, &us), None);
    assert!(value(&text, REGION_CONNECT_ATTEMPTS, &us).is_some());
    let edge = e.gateways(10).unwrap();
    assert_eq!(value(&text, EDGE_GATEWAYS, &[]), Some(8.0));
    assert_eq!(
        value(&text, EDGE_BACKLOG_MESSAGES, &[]),
        Some(edge.totals.messages as f64)
    );
    assert_eq!(
        value(&text, EDGE_DROPPED, &[]),
        Some(edge.totals.dropped as f64)
    );
    assert_eq!(
        value(&text, ALERTS_OPEN, &[("severity", "critical")]),
        Some(0.0)
    );
    assert_eq!(
        value(&text, FAILOVER_PHASE, &[("phase", "none")]),
        Some(1.0)
    );
    assert_eq!(
        value(&text, FAILOVER_PHASE, &[("phase", "verifying")]),
        Some(0.0)
    );
    assert_eq!(value(&text, INFO, &[("source", "simulated")]), Some(1.0));
    assert!(value(&text, RESIDENT_MEMORY, &[]).unwrap() > 1_000_000.0);
    // Every family present has its HELP and TYPE lines, from the one table.
    for s in samples(&text) {
        let family = s
            .name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count");
        assert!(
            FAMILIES.iter().any(|(n, _, _)| *n == family),
            "{} is not in FAMILIES",
            s.name
        );
        assert!(
            text.contains(&format!("# HELP {family} ")),
            "{family} has no HELP"
        );
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} has no TYPE"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_poll_that_gets_no_answer_is_a_failure_in_its_timeout_s_bucket() {
    let sim = sim(4);
    let e = engine(&sim, 2_000);
    e.poll_once("us-east-1").await;
    sim.with(|f| {
        f.inject(FaultSpec {
            region: "us-east-1".into(),
            kind: FaultKind::Outage,
            start_secs: 0,
            duration_secs: None,
        })
        .unwrap();
        f.step();
    });
    e.poll_once("us-east-1").await;
    e.alerts(true, 10).await.unwrap();
    let text = e.render_metrics().await;
    let us = [("region", "us-east-1")];
    assert_eq!(value(&text, POLLS, &us), Some(2.0));
    assert_eq!(value(&text, POLL_FAILURES, &us), Some(1.0));
    let bucket = |le: &str| {
        value(
            &text,
            "switchyard_poll_duration_seconds_bucket",
            &[("region", "us-east-1"), ("le", le)],
        )
    };
    // The good poll answered at once; the hung one took exactly the timeout.
    assert_eq!(bucket("0.005"), Some(1.0));
    assert_eq!(bucket("1"), Some(1.0));
    assert_eq!(bucket("2.5"), Some(2.0));
    assert_eq!(bucket("+Inf"), Some(2.0));
    assert_eq!(
        value(&text, "switchyard_poll_duration_seconds_sum", &us),
        Some(2.0)
    );
    assert_eq!(
        value(
            &text,
            REGION_HEALTH,
            &[("region", "us-east-1"), ("state", "unreachable")]
        ),
        Some(1.0)
    );
    assert_eq!(value(&text, REGION_FIGURES_CURRENT, &us), Some(0.0));
    assert_eq!(
        value(&text, ALERTS_OPEN, &[("severity", "critical")]),
        Some(1.0)
    );
    assert_eq!(
        value(&text, ALERTS_OPEN, &[("severity", "warning")]),
        Some(0.0)
    );
}

#[tokio::test]
async fn two_engines_keep_their_own_counts() {
    let (a, b) = (sim(2), sim(2));
    let (ea, eb) = (engine(&a, 500), engine(&b, 500));
    ea.poll_once("us-east-1").await;
    ea.poll_once("us-east-1").await;
    eb.metrics().delivery("noc", "delivered");
    let (ta, tb) = (ea.render_metrics().await, eb.render_metrics().await);
    assert_eq!(value(&ta, POLLS, &[("region", "us-east-1")]), Some(2.0));
    assert_eq!(value(&tb, POLLS, &[("region", "us-east-1")]), None);
    assert_eq!(value(&ta, DELIVERIES, &[]), None);
    assert_eq!(
        value(
            &tb,
            DELIVERIES,
            &[("receiver", "noc"), ("result", "delivered")]
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn deliveries_and_their_requests_are_counted_by_receiver_and_result() {
    let e = engine(&sim(2), 500);
    let m = e.metrics();
    for result in ["delivered", "delivered", "retrying", "refused"] {
        m.delivery("am", result);
    }
    m.delivery("hook", "gave_up");
    m.delivery_requests("am");
    m.delivery_requests("am");
    let text = e.render_metrics().await;
    let d = |r: &str, res: &str| value(&text, DELIVERIES, &[("receiver", r), ("result", res)]);
    assert_eq!(d("am", "delivered"), Some(2.0));
    assert_eq!(d("am", "retrying"), Some(1.0));
    assert_eq!(d("am", "refused"), Some(1.0));
    assert_eq!(d("hook", "gave_up"), Some(1.0));
    assert_eq!(d("hook", "delivered"), None);
    assert_eq!(
        value(&text, DELIVERY_REQUESTS, &[("receiver", "am")]),
        Some(2.0)
    );
}

#[tokio::test]
async fn failovers_and_command_runs_are_counted_when_they_end() {
    let e = engine(&sim(2), 500);
    e.metrics().failover_ended(Phase::Completed);
    e.metrics().failover_ended(Phase::Cancelled);
    e.metrics().failover_ended(Phase::Completed);
    let text = e.render_metrics().await;
    assert_eq!(
        value(&text, FAILOVERS, &[("outcome", "completed")]),
        Some(2.0)
    );
    assert_eq!(
        value(&text, FAILOVERS, &[("outcome", "cancelled")]),
        Some(1.0)
    );
    assert_eq!(value(&text, FAILOVERS, &[("outcome", "failed")]), None);
}

#[tokio::test]
async fn aws_calls_and_throttles_come_from_the_source_s_tally() {
    /// The simulated fleet, reporting a tally as the AWS source does.
    struct Tallied(SimSource);
    impl crate::ports::FleetSource for Tallied {
        fn kind(&self) -> switchyard_core::SourceKind {
            self.0.kind()
        }
        fn regions(&self) -> Vec<(String, RegionRole)> {
            self.0.regions()
        }
        fn observe<'a>(
            &'a self,
            region: &'a str,
        ) -> crate::ports::BoxFuture<
            'a,
            Result<switchyard_core::RegionObservation, crate::ports::SourceError>,
        > {
            self.0.observe(region)
        }
        fn gateways(
            &self,
        ) -> crate::ports::BoxFuture<
            '_,
            Result<crate::ports::EdgeObservation, crate::ports::SourceError>,
        > {
            self.0.gateways()
        }
        fn devices<'a>(
            &'a self,
            q: &'a switchyard_core::devices::DeviceQuery,
        ) -> crate::ports::BoxFuture<
            'a,
            Result<crate::ports::DeviceListing, crate::ports::SourceError>,
        > {
            self.0.devices(q)
        }
        fn device<'a>(
            &'a self,
            id: &'a str,
        ) -> crate::ports::BoxFuture<
            'a,
            Result<Option<switchyard_core::devices::DeviceDetail>, crate::ports::SourceError>,
        > {
            self.0.device(id)
        }
        fn api_calls(&self) -> Vec<ApiCalls> {
            vec![ApiCalls {
                region: "eu-west-1".into(),
                operation: "GetMetricData".into(),
                calls: 40,
                failures: 3,
                throttles: 2,
            }]
        }
    }
    let source = std::sync::Arc::new(Tallied(sim(2)));
    let e = EngineKit::new(crate::ports::Adapters::observe_only(source)).build();
    let text = e.render_metrics().await;
    let op = [("region", "eu-west-1"), ("operation", "GetMetricData")];
    assert_eq!(value(&text, AWS_CALLS, &op), Some(40.0));
    assert_eq!(value(&text, AWS_FAILURES, &op), Some(3.0));
    assert_eq!(value(&text, AWS_THROTTLES, &op), Some(2.0));
}

#[tokio::test(start_paused = true)]
async fn the_scrape_does_not_grow_with_the_fleet() {
    let lines = |text: &str| text.lines().count();
    let mut sizes = Vec::new();
    for gateways in [4, 400] {
        let sim = sim(gateways);
        let e = engine(&sim, 500);
        for r in ["us-east-1", "eu-west-1", "ap-southeast-1"] {
            e.poll_once(r).await;
        }
        e.poll_gateways_once().await.unwrap();
        let started = std::time::Instant::now();
        let text = e.render_metrics().await;
        let took = started.elapsed();
        eprintln!(
            "{gateways} gateways: scrape of {} bytes, {} lines, rendered in {took:?}",
            text.len(),
            lines(&text)
        );
        sizes.push(lines(&text));
        assert!(text.len() < 32 * 1024, "{} bytes", text.len());
    }
    assert_eq!(sizes[0], sizes[1]);
}

#[test]
fn resident_memory_is_read_from_proc_s_words() {
    let status = "Name:\tswitchyard\nVmHWM:\t  20000 kB\nVmRSS:\t   12345 kB\nThreads:\t4\n";
    assert_eq!(resident_bytes(status), Some(12_345 * 1_024));
    assert_eq!(resident_bytes("Name:\tx\n"), None);
    assert_eq!(resident_bytes("VmRSS:\t12 MB\n"), None);
    assert!(own_resident_bytes().is_some_and(|b| b > 0));
}

/// Every `switchyard_…` name in `text` (a recording rule's `switchyard:…` is not one).
fn names_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("switchyard_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

#[test]
fn the_docs_the_dashboard_and_the_rules_name_only_families_the_console_exports() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let docs = read("docs/METRICS.md");
    for (name, _, _) in FAMILIES {
        assert!(
            docs.contains(&format!("| `{name}` |")),
            "{name} is not in docs/METRICS.md"
        );
    }
    let shipped = [
        "docs/METRICS.md",
        "assets/grafana/switchyard.json",
        "assets/prometheus/rules.yml",
        "assets/prometheus/rules_test.yml",
    ];
    for file in shipped {
        let names = names_in(&read(file));
        assert!(!names.is_empty(), "{file} names no metric");
        for name in names {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .fold(name.as_str(), |n, s| n.strip_suffix(s).unwrap_or(n));
            assert!(
                FAMILIES.iter().any(|(f, _, _)| *f == family),
                "{file} names {name}, which the console does not export"
            );
        }
    }
    // The dashboard shows what the issue asks of it.
    let dash = read("assets/grafana/switchyard.json");
    for family in [
        REGION_HEALTH,
        REGION_ONLINE,
        EDGE_BACKLOG_MESSAGES,
        ALERTS_OPEN,
        FAILOVER_PHASE,
        FAILOVERS,
    ] {
        assert!(
            dash.contains(family),
            "the dashboard has no panel of {family}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&dash).unwrap();
    assert_eq!(json["__inputs"][0]["pluginId"], "prometheus", "importable");
}
