//! The measures of a drill, from its record and its objectives, and the comparison of two.
//!
//! Rules kept here: every figure in a report is a function of the record and the objectives,
//! nothing else (the definitions are on [`metrics`]); lower is better for every compared
//! measure but command reachability.

use super::kept::DrillSummary;
use super::recording::{DrillSample, EventKind, Recording};
use super::scenario::ObjectiveOverrides;
use serde::{Deserialize, Serialize};

/// The objectives a drill is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// One objective and whether the drill met it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// One row of a side-by-side comparison of two drills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComparisonRow {
    pub measure: String,
    pub a: String,
    pub b: String,
    /// Which side did better ("a", "b"), or `None` when equal or not comparable.
    pub better: Option<String>,
}

/// `GET /api/v1/drills/compare`: two drills side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    use crate::drills::Probe;

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
