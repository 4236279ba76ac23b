//! The console's figures for Prometheus (`GET /metrics`): the `metrics` facade over a
//! `metrics-exporter-prometheus` recorder that this engine owns. The recorder is never the
//! process's global one: two engines in one process (the tests, the desktop's standalone mode)
//! keep their own counts, and every record goes through `metrics::with_local_recorder`.
//!
//! Rules kept here:
//! - every family is named `switchyard_*`, described once in [`FAMILIES`] (its HELP line),
//!   and listed in docs/METRICS.md; names and labels are stable: dashboards and alert rules
//!   read them;
//! - counters count at the event (a poll, a failover's end, a command run's end, a delivery);
//!   gauges are set from the engine's state at scrape time, so one scrape is one moment;
//! - labels come from bounded sets (the configured regions, severities, phases, results, AWS
//!   operations, receivers), never a device or a gateway: the scrape does not grow with the
//!   fleet;
//! - a poll's duration is a histogram with explicit buckets past the longest poll timeout;
//! - a figure never observed is absent, not zero.

use super::Engine;
use crate::ports::ApiCalls;
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::time::Duration;
use switchyard_core::{
    alerts::{gateway_conditions, Severity},
    api::RegionsResponse,
    cockpit::Figures,
    failover::Phase,
    BacklogTotals, HealthStatus, RegionRole, UnixMs,
};

/// A region's health, one series per state (`state` label), 1 for the current one.
pub const REGION_HEALTH: &str = "switchyard_region_health";
pub const REGION_ACTIVE: &str = "switchyard_region_active";
pub const REGION_ONLINE: &str = "switchyard_region_devices_online";
pub const REGION_OFFLINE: &str = "switchyard_region_devices_offline";
pub const REGION_FIGURES_CURRENT: &str = "switchyard_region_figures_current";
pub const REGION_DATA_AGE: &str = "switchyard_region_data_age_seconds";
pub const REGION_CONNECT_ATTEMPTS: &str = "switchyard_region_connect_attempts";
pub const REGION_CONNECT_ERRORS: &str = "switchyard_region_connect_errors";
pub const POLLS: &str = "switchyard_polls_total";
pub const POLL_FAILURES: &str = "switchyard_poll_failures_total";
pub const POLL_DURATION: &str = "switchyard_poll_duration_seconds";
pub const EDGE_GATEWAYS: &str = "switchyard_edge_gateways";
pub const EDGE_BACKLOG_MESSAGES: &str = "switchyard_edge_backlog_messages";
pub const EDGE_BACKLOG_BYTES: &str = "switchyard_edge_backlog_bytes";
pub const EDGE_DROPPED: &str = "switchyard_edge_dropped_messages";
pub const EDGE_OLDEST: &str = "switchyard_edge_oldest_message_age_seconds";
pub const EDGE_AT_RISK: &str = "switchyard_edge_gateways_at_risk";
pub const EDGE_DROPPING: &str = "switchyard_edge_gateways_dropping";
pub const EDGE_DATA_AGE: &str = "switchyard_edge_data_age_seconds";
pub const ALERTS_OPEN: &str = "switchyard_alerts_open";
pub const FAILOVER_PHASE: &str = "switchyard_failover_phase";
pub const FAILOVERS: &str = "switchyard_failovers_total";
pub const COMMAND_RUNS: &str = "switchyard_command_runs_total";
pub const COMMAND_DEVICES: &str = "switchyard_command_devices_total";
pub const DELIVERIES: &str = "switchyard_deliveries_total";
pub const DELIVERY_REQUESTS: &str = "switchyard_delivery_requests_total";
pub const AWS_CALLS: &str = "switchyard_aws_calls_total";
pub const AWS_FAILURES: &str = "switchyard_aws_call_failures_total";
pub const AWS_THROTTLES: &str = "switchyard_aws_throttles_total";
pub const RESIDENT_MEMORY: &str = "switchyard_process_resident_memory_bytes";
pub const INFO: &str = "switchyard_info";

#[derive(Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every family with its kind and HELP text (its labels in brackets).
const FAMILIES: &[(&str, Kind, &str)] = &[
    (REGION_HEALTH, Kind::Gauge, "A region's health [region, state: unknown|healthy|degraded|unreachable]: 1 for its state now, 0 for the others"),
    (REGION_ACTIVE, Kind::Gauge, "1 for the region the devices are pointed at, 0 for a standby [region]"),
    (REGION_ONLINE, Kind::Gauge, "Devices connected to the region at its last good poll [region]"),
    (REGION_OFFLINE, Kind::Gauge, "Devices registered to the region and not connected, at its last good poll [region]"),
    (REGION_FIGURES_CURRENT, Kind::Gauge, "1 while the region's figures are current, 0 while they are its last known (stale or unreachable) [region]"),
    (REGION_DATA_AGE, Kind::Gauge, "Seconds since the region's figures were observed [region]"),
    (REGION_CONNECT_ATTEMPTS, Kind::Gauge, "Device connection attempts in the source's last interval, at the last good poll [region]"),
    (REGION_CONNECT_ERRORS, Kind::Gauge, "Device connection attempts that failed in the source's last interval, at the last good poll [region]"),
    (POLLS, Kind::Counter, "Polls of the region, answered or not [region]"),
    (POLL_FAILURES, Kind::Counter, "Polls of the region that failed or got no answer within the poll timeout [region]"),
    (POLL_DURATION, Kind::Histogram, "How long one poll of the region took, in seconds (bounded by the poll timeout) [region]"),
    (EDGE_GATEWAYS, Kind::Gauge, "Edge gateways seen at the last edge poll"),
    (EDGE_BACKLOG_MESSAGES, Kind::Gauge, "Messages waiting in every edge gateway's buffer, at the last edge poll"),
    (EDGE_BACKLOG_BYTES, Kind::Gauge, "Bytes waiting in every edge gateway's buffer, at the last edge poll"),
    (EDGE_DROPPED, Kind::Gauge, "Messages the edge gateways report dropped (their own running count), at the last edge poll"),
    (EDGE_OLDEST, Kind::Gauge, "Age of the oldest waiting message among the edge gateways, in seconds"),
    (EDGE_AT_RISK, Kind::Gauge, "Edge gateways dropping or past the near-capacity alert threshold"),
    (EDGE_DROPPING, Kind::Gauge, "Edge gateways that dropped messages since their previous observation"),
    (EDGE_DATA_AGE, Kind::Gauge, "Seconds since the edge gateways were observed"),
    (ALERTS_OPEN, Kind::Gauge, "Open alerts [severity: warning|critical]"),
    (FAILOVER_PHASE, Kind::Gauge, "The failover under way [phase: none|awaiting_approval|switching_traffic|reconnecting_devices|verifying]: 1 for its phase now, 0 for the others"),
    (FAILOVERS, Kind::Counter, "Failovers ended in this process [outcome: completed|completed_with_exceptions|failed|cancelled]"),
    (COMMAND_RUNS, Kind::Counter, "Command runs ended in this process [result: completed|cancelled|failed]"),
    (COMMAND_DEVICES, Kind::Counter, "Devices of ended command runs [outcome: sent|shadowed|skipped_offline|failed|cancelled]"),
    (DELIVERIES, Kind::Counter, "Alert notifications handed to a receiver [receiver, result: delivered|retrying|refused|gave_up]"),
    (DELIVERY_REQUESTS, Kind::Counter, "Requests sent to an alert receiver (one may carry a batch of notifications) [receiver]"),
    (AWS_CALLS, Kind::Counter, "AWS API calls made by the console since it started [region, operation]"),
    (AWS_FAILURES, Kind::Counter, "AWS API calls that failed [region, operation]"),
    (AWS_THROTTLES, Kind::Counter, "AWS API attempts the service throttled, retried ones included [region, operation]"),
    (RESIDENT_MEMORY, Kind::Gauge, "The console process's resident memory, in bytes"),
    (INFO, Kind::Gauge, "Always 1 [version, source: simulated|aws]"),
];

/// The poll duration's bucket bounds, in seconds: fine below a second, and past the longest
/// poll timeout (a poll that got no answer lands in the bucket of its timeout).
pub const POLL_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The phases a failover under way can be in (a final one is not under way).
const LIVE_PHASES: [Phase; 4] = [
    Phase::AwaitingApproval,
    Phase::SwitchingTraffic,
    Phase::ReconnectingDevices,
    Phase::Verifying,
];

const HEALTH_STATES: [HealthStatus; 4] = [
    HealthStatus::Unknown,
    HealthStatus::Healthy,
    HealthStatus::Degraded,
    HealthStatus::Unreachable,
];

/// The engine's recorder and the handle that renders it. One per engine.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Seconds from milliseconds, for the exposition (Prometheus's unit).
fn secs(ms: u64) -> f64 {
    ms as f64 / 1_000.0
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(POLL_DURATION.to_string()), &POLL_BUCKETS)
            .expect("the poll buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        let m = Metrics { recorder, handle };
        m.with(|| {
            for (name, kind, help) in FAMILIES {
                match kind {
                    Kind::Counter => metrics::describe_counter!(*name, *help),
                    Kind::Gauge => metrics::describe_gauge!(*name, *help),
                    Kind::Histogram => metrics::describe_histogram!(*name, *help),
                }
            }
        });
        m
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(&self.recorder, f)
    }

    /// One poll of `region`: how long it took and whether it got an observation.
    pub(super) fn poll(&self, region: &str, took: Duration, ok: bool) {
        self.with(|| {
            let region = region.to_string();
            metrics::counter!(POLLS, "region" => region.clone()).increment(1);
            if !ok {
                metrics::counter!(POLL_FAILURES, "region" => region.clone()).increment(1);
            }
            metrics::histogram!(POLL_DURATION, "region" => region).record(took.as_secs_f64());
        });
    }

    /// A good poll's connection figures for `region`.
    pub(super) fn connections(&self, region: &str, attempts: u64, errors: u64) {
        self.with(|| {
            metrics::gauge!(REGION_CONNECT_ATTEMPTS, "region" => region.to_string())
                .set(attempts as f64);
            metrics::gauge!(REGION_CONNECT_ERRORS, "region" => region.to_string())
                .set(errors as f64);
        });
    }

    /// A failover ended with `outcome` (a final phase).
    pub(super) fn failover_ended(&self, outcome: Phase) {
        self.with(|| metrics::counter!(FAILOVERS, "outcome" => outcome.as_str()).increment(1));
    }

    /// A command run ended: its result and its devices' outcomes.
    pub(super) fn command_run_ended(&self, run: &switchyard_core::commands::CommandRun) {
        self.with(|| {
            metrics::counter!(COMMAND_RUNS, "result" => run.status.as_str()).increment(1);
            for (outcome, n) in [
                ("sent", run.sent),
                ("shadowed", run.shadowed),
                ("skipped_offline", run.skipped),
                ("failed", run.failed),
                ("cancelled", run.cancelled),
            ] {
                metrics::counter!(COMMAND_DEVICES, "outcome" => outcome).increment(n);
            }
        });
    }

    /// One notification handed to `receiver` came to `result` (`delivered`, `retrying`,
    /// `refused`, `gave_up`: a `DeliveryState`'s name).
    pub fn delivery(&self, receiver: &str, result: &str) {
        self.with(|| {
            metrics::counter!(DELIVERIES, "receiver" => receiver.to_string(), "result" => result.to_string())
                .increment(1)
        });
    }

    /// One request (a batch of notifications, or one) sent to `receiver`.
    pub fn delivery_requests(&self, receiver: &str) {
        self.with(|| {
            metrics::counter!(DELIVERY_REQUESTS, "receiver" => receiver.to_string()).increment(1)
        });
    }

    /// Keeps the recorder's histogram samples bounded between scrapes; run every few seconds.
    pub(super) fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The exposition of everything counted so far with the gauges of `scrape`.
    pub(super) fn render(&self, scrape: &Scrape) -> String {
        self.with(|| set_gauges(scrape));
        self.handle.render()
    }
}

/// The edge's figures at a scrape.
#[derive(Debug, Clone, Default)]
pub(super) struct EdgeFigures {
    pub observed_at: Option<UnixMs>,
    pub totals: BacklogTotals,
    pub gateways: u64,
    pub at_risk: u64,
    pub dropping: u64,
}

/// What the gauges are set from at a scrape: one moment of the engine.
#[derive(Debug, Clone)]
pub(super) struct Scrape {
    pub now: UnixMs,
    pub regions: RegionsResponse,
    pub edge: EdgeFigures,
    pub open_alerts: Vec<(Severity, u64)>,
    /// The phase of the failover under way, if one is.
    pub failover: Option<Phase>,
    pub api_calls: Vec<ApiCalls>,
    pub resident_bytes: Option<u64>,
}

fn set_gauges(s: &Scrape) {
    let one = |on: bool| if on { 1.0 } else { 0.0 };
    for r in &s.regions.regions {
        let region = || r.id.clone();
        for state in HEALTH_STATES {
            metrics::gauge!(REGION_HEALTH, "region" => region(), "state" => state.as_str())
                .set(one(r.health.status == state));
        }
        metrics::gauge!(REGION_ACTIVE, "region" => region()).set(one(r.role == RegionRole::Active));
        metrics::gauge!(REGION_FIGURES_CURRENT, "region" => region())
            .set(one(r.figures == Figures::Current));
        if let Some(at) = r.observed_at {
            metrics::gauge!(REGION_ONLINE, "region" => region()).set(r.online as f64);
            metrics::gauge!(REGION_OFFLINE, "region" => region()).set(r.offline as f64);
            metrics::gauge!(REGION_DATA_AGE, "region" => region())
                .set(secs(s.now.saturating_sub(at)));
        }
    }
    if let Some(at) = s.edge.observed_at {
        let t = &s.edge.totals;
        metrics::gauge!(EDGE_GATEWAYS).set(s.edge.gateways as f64);
        metrics::gauge!(EDGE_BACKLOG_MESSAGES).set(t.messages as f64);
        metrics::gauge!(EDGE_BACKLOG_BYTES).set(t.bytes as f64);
        metrics::gauge!(EDGE_DROPPED).set(t.dropped as f64);
        metrics::gauge!(EDGE_OLDEST).set(secs(t.oldest_age_ms));
        metrics::gauge!(EDGE_AT_RISK).set(s.edge.at_risk as f64);
        metrics::gauge!(EDGE_DROPPING).set(s.edge.dropping as f64);
        metrics::gauge!(EDGE_DATA_AGE).set(secs(s.now.saturating_sub(at)));
    }
    for severity in Severity::ALL {
        let n = s
            .open_alerts
            .iter()
            .filter(|(sev, _)| *sev == severity)
            .map(|(_, n)| n)
            .sum::<u64>();
        metrics::gauge!(ALERTS_OPEN, "severity" => severity.as_str()).set(n as f64);
    }
    metrics::gauge!(FAILOVER_PHASE, "phase" => "none").set(one(s.failover.is_none()));
    for phase in LIVE_PHASES {
        metrics::gauge!(FAILOVER_PHASE, "phase" => phase.as_str())
            .set(one(s.failover == Some(phase)));
    }
    for c in &s.api_calls {
        for (name, n) in [
            (AWS_CALLS, c.calls),
            (AWS_FAILURES, c.failures),
            (AWS_THROTTLES, c.throttles),
        ] {
            metrics::counter!(name, "region" => c.region.clone(), "operation" => c.operation.clone())
                .absolute(n);
        }
    }
    if let Some(bytes) = s.resident_bytes {
        metrics::gauge!(RESIDENT_MEMORY).set(bytes as f64);
    }
    let source = match s.regions.source {
        switchyard_core::SourceKind::Simulated => "simulated",
        switchyard_core::SourceKind::Aws => "aws",
    };
    metrics::gauge!(INFO, "version" => env!("CARGO_PKG_VERSION"), "source" => source).set(1.0);
}

/// The resident set size in `/proc/self/status`'s words (`VmRSS:   12345 kB`), in bytes.
pub(super) fn resident_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut words = line["VmRSS:".len()..].split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => Some(n * 1_024),
        _ => None,
    }
}

/// This process's resident memory; `None` where `/proc` does not say.
fn own_resident_bytes() -> Option<u64> {
    resident_bytes(&std::fs::read_to_string("/proc/self/status").ok()?)
}

impl Engine {
    /// The engine's recorder: what the dispatcher counts deliveries with.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Everything `/metrics` answers, in the Prometheus text format: the counters so far and
    /// the gauges of this moment.
    pub async fn render_metrics(&self) -> String {
        let now = self.now();
        let regions = self.regions_response();
        let edge = {
            let rules = self.inner.cfg.alert_rules;
            let edge = self.inner.edge.read().unwrap_or_else(|p| p.into_inner());
            let (views, observed_at, totals) = edge.figures();
            EdgeFigures {
                observed_at,
                totals,
                gateways: views.len() as u64,
                at_risk: views
                    .iter()
                    .filter(|v| !gateway_conditions(v, &rules).is_empty())
                    .count() as u64,
                dropping: views.iter().filter(|v| v.dropping).count() as u64,
            }
        };
        let open_alerts = {
            let open = self
                .inner
                .open_alerts
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            Severity::ALL
                .into_iter()
                .map(|sev| {
                    (
                        sev,
                        open.values().filter(|a| a.severity == sev).count() as u64,
                    )
                })
                .collect()
        };
        let failover = match self.inner.store.run(|s| s.failover_current()).await {
            Ok(f) => f.map(|f| f.phase).filter(|p| !p.is_final()),
            Err(e) => {
                tracing::warn!("metrics: could not read the failover under way: {e}");
                None
            }
        };
        let scrape = Scrape {
            now,
            regions,
            edge,
            open_alerts,
            failover,
            api_calls: self.inner.source.api_calls(),
            resident_bytes: own_resident_bytes(),
        };
        self.inner.metrics.render(&scrape)
    }
}

#[cfg(test)]
mod tests;
