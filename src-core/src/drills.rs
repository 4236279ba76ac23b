//! Disaster-recovery drills: the scenario an operator runs, what the recorder keeps of it, and
//! the measures taken from that record.
//!
//! Everything here is pure: a drill's record is a list of timestamped events and samples
//! (milliseconds since the drill started), and every figure in a report is a function of that
//! record and the objectives. The runners (the simulated fleet stepped in virtual time, or the
//! live console) only fill the record.

use crate::{RegionId, UnixMs};
use serde::{Deserialize, Serialize};

/// How a drill runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillMode {
    /// On a seeded copy of the simulated fleet of its own, stepped second by second as fast as
    /// it computes: the same health rules, recommendation and failover steps as the console,
    /// in simulated time. Repeatable: the same scenario gives the same report.
    Simulated,
    /// On the running console, in real time: the outage is injected into the live simulated
    /// fleet (or, on AWS, there is none: a practice failover and failback), and the failover is
    /// the console's own, with every guard.
    Live,
}

/// Who fails over (and back) during a drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The scenario does it, `decide_secs` after the recommendation (or after the start when
    /// there is no outage).
    Script,
    /// An operator does it with the failover button; the drill records when.
    Operator,
}

/// An outage or degradation the scenario injects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFault {
    /// The region that fails; by default the region active when the drill starts.
    #[serde(default)]
    pub region: Option<RegionId>,
    /// Seconds after the drill starts.
    #[serde(default)]
    pub at_secs: u64,
    pub duration_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFailover {
    pub by: DecidedBy,
    /// Where to; by default the console's recommendation (or the first standby).
    #[serde(default)]
    pub target: Option<RegionId>,
    /// With `by = "script"`: seconds from the recommendation (or the start, without an outage)
    /// to the confirmation, standing for the operator's decision.
    #[serde(default = "default_decide_secs")]
    pub decide_secs: u64,
}

fn default_decide_secs() -> u64 {
    30
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFailback {
    /// With a scripted failover: seconds from the end of the outage (or from the failover's
    /// end, without an outage) to the failback. With an operator, they fail back themselves.
    pub after_secs: u64,
}

/// Objectives given with one drill, replacing the configured ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveOverrides {
    pub rto_secs: Option<u64>,
    pub rpo_messages: Option<u64>,
    pub max_backlog: Option<u64>,
}

/// What a drill does. Read from a TOML file (`switchyard drill run --scenario FILE`) or a JSON
/// body (`POST /api/v1/drills`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default = "default_mode")]
    pub mode: DrillMode,
    /// Simulated drills: the fleet's seed and size.
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_devices")]
    pub devices: usize,
    #[serde(default = "default_gateways")]
    pub gateways: usize,
    /// The drill ends this long after it starts, whatever has happened.
    pub duration_secs: u64,
    #[serde(default)]
    pub outage: Option<ScenarioFault>,
    #[serde(default)]
    pub degradation: Option<ScenarioFault>,
    pub failover: ScenarioFailover,
    #[serde(default)]
    pub failback: Option<ScenarioFailback>,
    #[serde(default)]
    pub objectives: ObjectiveOverrides,
}

fn default_mode() -> DrillMode {
    DrillMode::Simulated
}
fn default_seed() -> u64 {
    1
}
fn default_devices() -> usize {
    2_000
}
fn default_gateways() -> usize {
    20
}

/// Upper bounds a scenario must keep.
pub const MAX_DURATION_SECS: u64 = 6 * 3_600;
pub const MAX_SIM_DEVICES: usize = 200_000;
pub const MAX_SIM_GATEWAYS: usize = 5_000;

impl Scenario {
    /// Checks what serde cannot; the error names the field.
    pub fn check(&self) -> Result<(), String> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > 120 {
            return Err("name: must be 1 to 120 characters".into());
        }
        if !(1..=MAX_DURATION_SECS).contains(&self.duration_secs) {
            return Err(format!(
                "duration_secs: must be between 1 and {MAX_DURATION_SECS}, not {}",
                self.duration_secs
            ));
        }
        if self.mode == DrillMode::Simulated {
            if !(1..=MAX_SIM_DEVICES).contains(&self.devices) {
                return Err(format!(
                    "devices: must be between 1 and {MAX_SIM_DEVICES}, not {}",
                    self.devices
                ));
            }
            if self.gateways > MAX_SIM_GATEWAYS {
                return Err(format!(
                    "gateways: must be at most {MAX_SIM_GATEWAYS}, not {}",
                    self.gateways
                ));
            }
        }
        for (field, fault) in [("outage", &self.outage), ("degradation", &self.degradation)] {
            let Some(f) = fault else { continue };
            if let Some(r) = &f.region {
                if !crate::regions::is_valid_code(r) {
                    return Err(format!(
                        "{field}.region: '{r}' is not an AWS region code such as us-east-1"
                    ));
                }
            }
            if f.duration_secs == 0 {
                return Err(format!("{field}.duration_secs: must be more than 0"));
            }
            if f.at_secs >= self.duration_secs {
                return Err(format!(
                    "{field}.at_secs: {} is not before the drill's end ({} s)",
                    f.at_secs, self.duration_secs
                ));
            }
        }
        if let Some(t) = &self.failover.target {
            if !crate::regions::is_valid_code(t) {
                return Err(format!(
                    "failover.target: '{t}' is not an AWS region code such as us-east-1"
                ));
            }
        }
        if self.failback.is_some() && self.failover.by == DecidedBy::Operator {
            return Err(
                "failback: with failover.by = \"operator\" the operator fails back; leave it out"
                    .into(),
            );
        }
        let o = &self.objectives;
        if o.rto_secs == Some(0) {
            return Err("objectives.rto_secs: must be more than 0".into());
        }
        if o.max_backlog == Some(0) {
            return Err("objectives.max_backlog: must be more than 0".into());
        }
        Ok(())
    }
}

/// The objectives a drill is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Objectives {
    /// Recovery time objective: disruption to devices back, in seconds.
    pub rto_secs: u64,
    /// Recovery point objective, as messages lost at the edge.
    pub rpo_messages: u64,
    /// The most messages the edge may hold at once.
    pub max_backlog: u64,
    /// Share of the devices online before the disruption that counts as "back" (0..1].
    pub recovered_share: f64,
}

impl Objectives {
    pub fn with(self, o: &ObjectiveOverrides) -> Objectives {
        Objectives {
            rto_secs: o.rto_secs.unwrap_or(self.rto_secs),
            rpo_messages: o.rpo_messages.unwrap_or(self.rpo_messages),
            max_backlog: o.max_backlog.unwrap_or(self.max_backlog),
            recovered_share: self.recovered_share,
        }
    }
}

/// What happened during a drill, in the order the recorder saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Started,
    /// The scenario's outage (or degradation) began.
    FaultInjected,
    /// The console saw the active region unhealthy.
    OutageDetected,
    RecommendationShown,
    FailoverConfirmed,
    /// A failover step ended (switch, reconnect, verify); the detail says which and how.
    Step,
    /// The share of devices counted as "back" is online in the active region again.
    DevicesBack,
    /// The edge backlog is back to where it was before the disruption.
    BacklogDrained,
    FaultCleared,
    FailbackConfirmed,
    FailbackDone,
    /// A command sent to the whole fleet to see how much of it could be reached.
    CommandProbe,
    Ended,
    /// The drill was stopped before its end (by an operator, or because a step failed).
    Aborted,
}

impl EventKind {
    pub fn label(self) -> &'static str {
        match self {
            EventKind::Started => "drill started",
            EventKind::FaultInjected => "fault injected",
            EventKind::OutageDetected => "outage detected",
            EventKind::RecommendationShown => "recommendation shown",
            EventKind::FailoverConfirmed => "failover confirmed",
            EventKind::Step => "failover step",
            EventKind::DevicesBack => "devices back",
            EventKind::BacklogDrained => "backlog drained",
            EventKind::FaultCleared => "fault cleared",
            EventKind::FailbackConfirmed => "failback confirmed",
            EventKind::FailbackDone => "failback done",
            EventKind::CommandProbe => "command probe",
            EventKind::Ended => "drill ended",
            EventKind::Aborted => "drill aborted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillEvent {
    /// Milliseconds since the drill started.
    pub t_ms: u64,
    pub kind: EventKind,
    pub detail: String,
}

/// The fleet at one moment of the drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillSample {
    pub t_ms: u64,
    /// The region the devices' domain pointed at.
    pub active: RegionId,
    /// Devices online, per region, in configured order.
    pub online: Vec<(RegionId, u64)>,
    /// Messages waiting at the edge, all gateways.
    pub backlog: u64,
    /// Messages the edge has dropped since the fleet started (a counter).
    pub dropped: u64,
}

impl DrillSample {
    pub fn online_in(&self, region: &str) -> u64 {
        self.online
            .iter()
            .find(|(r, _)| r == region)
            .map_or(0, |(_, n)| *n)
    }
    pub fn online_total(&self) -> u64 {
        self.online.iter().map(|(_, n)| n).sum()
    }
}

/// A command sent to every device during the drill: how many were targeted and reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub t_ms: u64,
    pub targeted: u64,
    pub reached: u64,
}

/// Everything the recorder kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub events: Vec<DrillEvent>,
    pub samples: Vec<DrillSample>,
    #[serde(default)]
    pub probe: Option<Probe>,
}

impl Recording {
    pub fn event(&mut self, t_ms: u64, kind: EventKind, detail: impl Into<String>) {
        self.events.push(DrillEvent {
            t_ms,
            kind,
            detail: detail.into(),
        });
    }

    pub fn first(&self, kind: EventKind) -> Option<&DrillEvent> {
        self.events.iter().find(|e| e.kind == kind)
    }

    fn first_after(&self, kind: EventKind, t_ms: u64) -> Option<&DrillEvent> {
        self.events
            .iter()
            .find(|e| e.kind == kind && e.t_ms >= t_ms)
    }
}

/// One objective and whether the drill met it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveResult {
    pub name: String,
    /// The target, in words ("≤ 300 s").
    pub target: String,
    /// What the drill measured, in words ("212 s", "not recovered").
    pub actual: String,
    pub passed: bool,
}

/// The measures of one drill, from its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillMetrics {
    /// When the disruption began: the fault, or (a practice failover) the confirmation.
    pub disruption_at_ms: Option<u64>,
    /// Fault to outage detected.
    pub time_to_detect_ms: Option<u64>,
    /// Outage detected to failover confirmed.
    pub time_to_decide_ms: Option<u64>,
    /// Disruption to the share of devices back online in the active region.
    pub recovery_ms: Option<u64>,
    /// Devices online just before the disruption, and how many make "back".
    pub baseline_online: u64,
    pub needed_back: u64,
    /// Messages dropped at the edge during the drill.
    pub messages_lost: u64,
    pub peak_backlog: u64,
    pub peak_backlog_at_ms: Option<u64>,
    /// Peak backlog to back at (or under) the backlog before the disruption.
    pub drain_ms: Option<u64>,
    /// Share of the fleet the command probe reached (0..1).
    pub command_reachability: Option<f64>,
    pub objectives: Vec<ObjectiveResult>,
    pub passed: bool,
}

/// Milliseconds as seconds the way reports write them: "70 s", "2.5 s".
pub fn format_secs(ms: u64) -> String {
    if ms % 1_000 == 0 {
        format!("{} s", ms / 1_000)
    } else {
        format!("{:.1} s", ms as f64 / 1_000.0)
    }
}

/// Measures a drill. Definitions (also in the report):
/// - the disruption starts at the first `FaultInjected`, or without one at the first
///   `FailoverConfirmed` (a practice failover);
/// - baseline: the last sample before that moment (the first sample when there is none);
/// - recovery: the first sample after the disruption at which the active region holds at least
///   `recovered_share` of the baseline's online devices, having held fewer since the disruption
///   (0 when the devices never dropped below it);
/// - messages lost: the edge's drop counter at the last sample less the baseline's;
/// - drain: from the peak backlog to the first later sample at or under the baseline backlog.
pub fn metrics(rec: &Recording, obj: &Objectives) -> DrillMetrics {
    let disruption_at_ms = rec
        .first(EventKind::FaultInjected)
        .or_else(|| rec.first(EventKind::FailoverConfirmed))
        .map(|e| e.t_ms);
    let start = disruption_at_ms.unwrap_or(0);
    let detected = rec.first(EventKind::FaultInjected).and_then(|f| {
        rec.first_after(EventKind::OutageDetected, f.t_ms)
            .map(|d| (f, d))
    });
    let time_to_detect_ms = detected.map(|(f, d)| d.t_ms - f.t_ms);
    let time_to_decide_ms = detected.and_then(|(_, d)| {
        rec.first_after(EventKind::FailoverConfirmed, d.t_ms)
            .map(|c| c.t_ms - d.t_ms)
    });

    let baseline = rec
        .samples
        .iter()
        .take_while(|s| s.t_ms < start)
        .last()
        .or(rec.samples.first());
    let baseline_online = baseline.map_or(0, |s| s.online_total());
    let needed_back = (baseline_online as f64 * obj.recovered_share).ceil() as u64;
    let after: Vec<&DrillSample> = rec.samples.iter().filter(|s| s.t_ms > start).collect();
    let recovery_ms = disruption_at_ms.and_then(|_| {
        let back = |s: &DrillSample| s.online_in(&s.active) >= needed_back;
        match after.iter().position(|s| !back(s)) {
            None => Some(0),
            Some(dip) => after[dip..]
                .iter()
                .find(|s| back(s))
                .map(|s| s.t_ms - start),
        }
    });
    let messages_lost = match (baseline, rec.samples.last()) {
        (Some(b), Some(l)) => l.dropped.saturating_sub(b.dropped),
        _ => 0,
    };
    let base_backlog = baseline.map_or(0, |s| s.backlog);
    let peak = after
        .iter()
        .copied()
        .fold(None::<&DrillSample>, |best, s| match best {
            Some(b) if b.backlog >= s.backlog => Some(b),
            _ => Some(s),
        });
    let peak_backlog = peak.map_or(base_backlog, |p| p.backlog.max(base_backlog));
    let peak_backlog_at_ms = peak.filter(|p| p.backlog > base_backlog).map(|p| p.t_ms);
    let drain_ms = match peak_backlog_at_ms {
        None => Some(0),
        Some(at) => after
            .iter()
            .find(|s| s.t_ms > at && s.backlog <= base_backlog)
            .map(|s| s.t_ms - at),
    };
    let command_reachability = rec
        .probe
        .filter(|p| p.targeted > 0)
        .map(|p| p.reached as f64 / p.targeted as f64);

    let objectives = vec![
        ObjectiveResult {
            name: "Recovery time (RTO)".into(),
            target: format!("≤ {} s", obj.rto_secs),
            actual: match (disruption_at_ms, recovery_ms) {
                (None, _) => "no disruption recorded".into(),
                (_, None) => "not recovered".into(),
                (_, Some(ms)) => format_secs(ms),
            },
            passed: recovery_ms.is_some_and(|ms| ms <= obj.rto_secs * 1_000),
        },
        ObjectiveResult {
            name: "Data loss (RPO)".into(),
            target: format!("≤ {} messages lost", obj.rpo_messages),
            actual: format!("{messages_lost} messages lost"),
            passed: messages_lost <= obj.rpo_messages,
        },
        ObjectiveResult {
            name: "Peak edge backlog".into(),
            target: format!("≤ {} messages", obj.max_backlog),
            actual: format!("{peak_backlog} messages"),
            passed: peak_backlog <= obj.max_backlog,
        },
    ];
    let passed = objectives.iter().all(|o| o.passed);
    DrillMetrics {
        disruption_at_ms,
        time_to_detect_ms,
        time_to_decide_ms,
        recovery_ms,
        baseline_online,
        needed_back,
        messages_lost,
        peak_backlog,
        peak_backlog_at_ms,
        drain_ms,
        command_reachability,
        objectives,
        passed,
    }
}

/// Where a drill is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillStatus {
    Running,
    Passed,
    Failed,
    /// Stopped before its end, or broken by an error: no verdict.
    Aborted,
}

impl DrillStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DrillStatus::Running => "running",
            DrillStatus::Passed => "passed",
            DrillStatus::Failed => "failed",
            DrillStatus::Aborted => "aborted",
        }
    }
    pub fn parse(s: &str) -> Option<DrillStatus> {
        [
            DrillStatus::Running,
            DrillStatus::Passed,
            DrillStatus::Failed,
            DrillStatus::Aborted,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A line on an action list, added after the drill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    pub text: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub done: bool,
}

/// A drill as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillSummary {
    pub id: String,
    pub name: String,
    pub mode: DrillMode,
    pub status: DrillStatus,
    pub started_by: String,
    pub started_at: UnixMs,
    pub ended_at: Option<UnixMs>,
    pub recovery_ms: Option<u64>,
    pub messages_lost: Option<u64>,
    /// The source the drill ran on ("simulated" or "aws").
    pub source: String,
}

/// A drill with everything kept of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drill {
    pub summary: DrillSummary,
    pub scenario: Scenario,
    pub objectives: Objectives,
    pub recording: Recording,
    /// Present once the drill has ended.
    pub metrics: Option<DrillMetrics>,
    /// Why it was aborted, when it was.
    pub error: Option<String>,
    pub notes: String,
    pub action_items: Vec<ActionItem>,
}

/// The drills page's list and its warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillsResponse {
    pub drills: Vec<DrillSummary>,
    /// Set when the newest completed drill is older than the configured period (or there is
    /// none): what to say on screen.
    pub overdue: Option<String>,
    pub period_days: u32,
    /// The objectives a new drill is judged by unless it overrides them.
    pub objectives: Objectives,
}

/// Whether drilling is overdue: no finished drill, or the newest one older than `period_days`.
pub fn overdue(last_finished: Option<UnixMs>, now: UnixMs, period_days: u32) -> Option<String> {
    let period_ms = period_days as u64 * 86_400_000;
    match last_finished {
        None => Some(format!(
            "No drill has been run yet: run one at least every {period_days} days."
        )),
        Some(at) if now.saturating_sub(at) > period_ms => Some(format!(
            "The last drill ended {} days ago; drills are due every {period_days} days.",
            now.saturating_sub(at) / 86_400_000
        )),
        Some(_) => None,
    }
}

/// What a new drill is started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillRequest {
    pub scenario: Scenario,
}

/// Notes and action items added after a drill (replaces both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillNotes {
    pub notes: String,
    #[serde(default)]
    pub action_items: Vec<ActionItem>,
}

pub const MAX_NOTES_BYTES: usize = 32 * 1024;
pub const MAX_ACTION_ITEMS: usize = 100;

impl DrillNotes {
    pub fn check(&self) -> Result<(), String> {
        if self.notes.len() > MAX_NOTES_BYTES {
            return Err(format!("notes: at most {MAX_NOTES_BYTES} bytes"));
        }
        if self.action_items.len() > MAX_ACTION_ITEMS {
            return Err(format!("action_items: at most {MAX_ACTION_ITEMS}"));
        }
        for (i, a) in self.action_items.iter().enumerate() {
            if a.text.trim().is_empty() || a.text.len() > 500 {
                return Err(format!(
                    "action_items[{i}].text: must be 1 to 500 characters"
                ));
            }
        }
        Ok(())
    }
}

/// One row of a side-by-side comparison of two drills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    pub measure: String,
    pub a: String,
    pub b: String,
    /// Which side did better ("a", "b"), or `None` when equal or not comparable.
    pub better: Option<String>,
}

/// `GET /api/v1/drills/compare`: two drills side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub a: DrillSummary,
    pub b: DrillSummary,
    pub rows: Vec<ComparisonRow>,
}

/// Compares two drills' measures, lower being better for every one but reachability.
pub fn compare(a: &DrillMetrics, b: &DrillMetrics) -> Vec<ComparisonRow> {
    fn ms(v: Option<u64>) -> String {
        v.map_or("—".into(), format_secs)
    }
    fn lower(a: Option<u64>, b: Option<u64>) -> Option<String> {
        match (a, b) {
            (Some(x), Some(y)) if x < y => Some("a".into()),
            (Some(x), Some(y)) if y < x => Some("b".into()),
            (Some(_), None) => Some("a".into()),
            (None, Some(_)) => Some("b".into()),
            _ => None,
        }
    }
    let pct = |v: Option<f64>| v.map_or("—".into(), |r| format!("{:.1} %", r * 100.0));
    let reach = |v: Option<f64>| v.map(|r| (r * 1_000.0).round() as u64);
    vec![
        ComparisonRow {
            measure: "Result".into(),
            a: if a.passed { "passed" } else { "failed" }.into(),
            b: if b.passed { "passed" } else { "failed" }.into(),
            better: match (a.passed, b.passed) {
                (true, false) => Some("a".into()),
                (false, true) => Some("b".into()),
                _ => None,
            },
        },
        ComparisonRow {
            measure: "Time to detect".into(),
            a: ms(a.time_to_detect_ms),
            b: ms(b.time_to_detect_ms),
            better: lower(a.time_to_detect_ms, b.time_to_detect_ms),
        },
        ComparisonRow {
            measure: "Time to decide".into(),
            a: ms(a.time_to_decide_ms),
            b: ms(b.time_to_decide_ms),
            better: lower(a.time_to_decide_ms, b.time_to_decide_ms),
        },
        ComparisonRow {
            measure: "Recovery time".into(),
            a: ms(a.recovery_ms),
            b: ms(b.recovery_ms),
            better: lower(a.recovery_ms, b.recovery_ms),
        },
        ComparisonRow {
            measure: "Messages lost".into(),
            a: a.messages_lost.to_string(),
            b: b.messages_lost.to_string(),
            better: lower(Some(a.messages_lost), Some(b.messages_lost)),
        },
        ComparisonRow {
            measure: "Peak backlog".into(),
            a: a.peak_backlog.to_string(),
            b: b.peak_backlog.to_string(),
            better: lower(Some(a.peak_backlog), Some(b.peak_backlog)),
        },
        ComparisonRow {
            measure: "Time to drain".into(),
            a: ms(a.drain_ms),
            b: ms(b.drain_ms),
            better: lower(a.drain_ms, b.drain_ms),
        },
        ComparisonRow {
            measure: "Command reachability".into(),
            a: pct(a.command_reachability),
            b: pct(b.command_reachability),
            // Higher is better: a is better when b's share is the lower one.
            better: match (reach(a.command_reachability), reach(b.command_reachability)) {
                (Some(x), Some(y)) if x > y => Some("a".into()),
                (Some(x), Some(y)) if y > x => Some("b".into()),
                (Some(_), None) => Some("a".into()),
                (None, Some(_)) => Some("b".into()),
                _ => None,
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj() -> Objectives {
        Objectives {
            rto_secs: 120,
            rpo_messages: 0,
            max_backlog: 1_000,
            recovered_share: 0.9,
        }
    }

    fn sample(t: u64, active: &str, a: u64, b: u64, backlog: u64, dropped: u64) -> DrillSample {
        DrillSample {
            t_ms: t * 1_000,
            active: active.into(),
            online: vec![("us-east-1".into(), a), ("eu-west-1".into(), b)],
            backlog,
            dropped,
        }
    }

    /// An outage of us-east-1 at 10 s, seen at 15 s, recommended at 45 s, confirmed at 60 s,
    /// devices back in eu-west-1 at 80 s.
    fn outage() -> Recording {
        let mut r = Recording::default();
        r.event(0, EventKind::Started, "");
        r.event(10_000, EventKind::FaultInjected, "us-east-1 outage");
        r.event(15_000, EventKind::OutageDetected, "us-east-1 unreachable");
        r.event(45_000, EventKind::RecommendationShown, "eu-west-1");
        r.event(60_000, EventKind::FailoverConfirmed, "to eu-west-1");
        r.samples = vec![
            sample(0, "us-east-1", 100, 0, 0, 7),
            sample(10, "us-east-1", 100, 0, 5, 7),
            sample(20, "us-east-1", 0, 0, 400, 7),
            sample(60, "us-east-1", 0, 0, 1_200, 37),
            sample(70, "eu-west-1", 0, 60, 900, 40),
            sample(80, "eu-west-1", 0, 90, 300, 40),
            sample(90, "eu-west-1", 0, 99, 5, 40),
            sample(100, "eu-west-1", 0, 100, 0, 40),
        ];
        r.probe = Some(Probe {
            t_ms: 95_000,
            targeted: 100,
            reached: 99,
        });
        r
    }

    #[test]
    fn an_outage_drill_is_measured_exactly() {
        let m = metrics(&outage(), &obj());
        assert_eq!(m.disruption_at_ms, Some(10_000));
        assert_eq!(m.time_to_detect_ms, Some(5_000));
        assert_eq!(m.time_to_decide_ms, Some(45_000));
        assert_eq!(m.baseline_online, 100);
        assert_eq!(m.needed_back, 90);
        // 80 s is the first sample with 90 online in the active region.
        assert_eq!(m.recovery_ms, Some(70_000));
        assert_eq!(m.messages_lost, 33);
        assert_eq!(m.peak_backlog, 1_200);
        assert_eq!(m.peak_backlog_at_ms, Some(60_000));
        // Back to the baseline's 0 at 100 s.
        assert_eq!(m.drain_ms, Some(40_000));
        assert_eq!(m.command_reachability, Some(0.99));
        let verdicts: Vec<bool> = m.objectives.iter().map(|o| o.passed).collect();
        assert_eq!(verdicts, vec![true, false, false]);
        assert_eq!(m.objectives[0].actual, "70 s");
        assert_eq!(m.objectives[1].actual, "33 messages lost");
        assert!(!m.passed);
        let lenient = Objectives {
            rpo_messages: 33,
            max_backlog: 1_200,
            ..obj()
        };
        assert!(metrics(&outage(), &lenient).passed);
        let strict = Objectives {
            rto_secs: 69,
            ..lenient
        };
        assert!(!metrics(&outage(), &strict).passed);
    }

    #[test]
    fn never_recovering_fails_the_rto_and_never_deciding_has_no_decision_time() {
        let mut r = outage();
        r.events.retain(|e| e.kind != EventKind::FailoverConfirmed);
        r.samples.truncate(4);
        let m = metrics(&r, &obj());
        assert_eq!(m.time_to_decide_ms, None);
        assert_eq!(m.recovery_ms, None);
        assert_eq!(m.objectives[0].actual, "not recovered");
        assert!(!m.objectives[0].passed);
        // The backlog peaked at the last sample and never drained.
        assert_eq!(m.drain_ms, None);
    }

    #[test]
    fn a_practice_failover_is_measured_from_its_confirmation() {
        let mut r = Recording::default();
        r.event(0, EventKind::Started, "");
        r.event(5_000, EventKind::FailoverConfirmed, "practice");
        r.samples = vec![
            sample(0, "us-east-1", 50, 0, 0, 0),
            sample(5, "us-east-1", 50, 0, 0, 0),
            sample(6, "eu-west-1", 20, 10, 0, 0),
            sample(9, "eu-west-1", 0, 45, 0, 0),
        ];
        let m = metrics(&r, &obj());
        assert_eq!(m.disruption_at_ms, Some(5_000));
        assert_eq!(m.time_to_detect_ms, None);
        assert_eq!(m.needed_back, 45);
        assert_eq!(m.recovery_ms, Some(4_000));
        assert_eq!(m.peak_backlog, 0);
        assert_eq!(m.drain_ms, Some(0));
        assert!(m.passed);
    }

    #[test]
    fn devices_that_never_dropped_recover_at_once_and_no_disruption_fails_the_rto() {
        let mut r = Recording::default();
        r.event(1_000, EventKind::FaultInjected, "eu-west-1 degraded");
        r.samples = vec![
            sample(0, "us-east-1", 100, 0, 0, 0),
            sample(2, "us-east-1", 95, 0, 0, 0),
        ];
        assert_eq!(metrics(&r, &obj()).recovery_ms, Some(0));
        let empty = metrics(&Recording::default(), &obj());
        assert_eq!(empty.objectives[0].actual, "no disruption recorded");
        assert!(!empty.passed);
    }

    #[test]
    fn scenarios_are_checked_field_by_field() {
        let base: Scenario = serde_json::from_value(serde_json::json!({
            "name": "eu outage",
            "duration_secs": 300,
            "outage": {"at_secs": 10, "duration_secs": 60},
            "failover": {"by": "script"},
            "failback": {"after_secs": 30}
        }))
        .unwrap();
        assert_eq!(base.check(), Ok(()));
        assert_eq!(base.mode, DrillMode::Simulated);
        assert_eq!(base.failover.decide_secs, 30);
        let bad = |f: &dyn Fn(&mut Scenario), field: &str| {
            let mut s = base.clone();
            f(&mut s);
            let e = s.check().unwrap_err();
            assert!(e.starts_with(field), "{e}");
        };
        bad(&|s| s.name = " ".into(), "name");
        bad(&|s| s.duration_secs = 0, "duration_secs");
        bad(&|s| s.devices = 0, "devices");
        bad(
            &|s| s.outage.as_mut().unwrap().at_secs = 300,
            "outage.at_secs",
        );
        bad(
            &|s| s.outage.as_mut().unwrap().region = Some("Mars".into()),
            "outage.region",
        );
        bad(&|s| s.failover.by = DecidedBy::Operator, "failback");
        bad(&|s| s.objectives.rto_secs = Some(0), "objectives.rto_secs");
        let unknown = serde_json::from_value::<Scenario>(serde_json::json!({
            "name": "x", "duration_secs": 1, "failover": {"by": "script"}, "colour": 1
        }));
        assert!(unknown.unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn drilling_is_overdue_after_the_period() {
        let day = 86_400_000;
        assert!(overdue(None, 100 * day, 90).unwrap().contains("No drill"));
        assert_eq!(overdue(Some(10 * day), 100 * day, 90), None);
        assert!(overdue(Some(9 * day), 100 * day, 90)
            .unwrap()
            .contains("91 days ago"));
    }

    #[test]
    fn comparison_says_which_drill_did_better() {
        let a = metrics(&outage(), &obj());
        let mut faster = outage();
        // 95 of 100 back at 70 s instead of 80 s.
        faster.samples[4].online[1].1 = 95;
        let b = metrics(&faster, &obj());
        assert_eq!(b.recovery_ms, Some(60_000));
        let rows = compare(&a, &b);
        let row = |m: &str| rows.iter().find(|r| r.measure == m).unwrap().clone();
        assert_eq!(row("Recovery time").better.as_deref(), Some("b"));
        assert_eq!(row("Recovery time").a, "70 s");
        assert_eq!(row("Messages lost").better, None);
        assert_eq!(row("Command reachability").better, None);
        let mut reached_more = faster.clone();
        reached_more.probe.as_mut().unwrap().reached = 100;
        let c = metrics(&reached_more, &obj());
        let rows = compare(&a, &c);
        let reach = rows
            .iter()
            .find(|r| r.measure == "Command reachability")
            .unwrap();
        assert_eq!((reach.a.as_str(), reach.b.as_str()), ("99.0 %", "100.0 %"));
        assert_eq!(
            reach.better.as_deref(),
            Some("b"),
            "the higher share is better"
        );
        assert_eq!(compare(&c, &a)[7].better.as_deref(), Some("a"));
    }
}
