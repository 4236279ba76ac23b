//! The drill observer: one fold from what a runner sees, tick by tick, to the drill's record,
//! and what the scenario's script calls for next. Both runners (the simulated fleet in
//! simulated time, the live console in real time) feed it their ticks and act on what it says;
//! neither keeps bookkeeping of its own. The recommendation it records is the console's
//! ([`crate::failover::recommend`]), and the phases it follows are the console's
//! ([`crate::failover::next`]): the observer only watches.
//! (Past 500 lines only with its tests: the fold is about 400 lines, the rest tests.)
//!
//! Rules kept here:
//! - the outage is detected once: injected, in the region that is active, seen unreachable or
//!   degraded; an unreachable region is known when its poll times out (`unanswered_after_ms`);
//! - the recommendation is recorded once, after the detection and before any failover is
//!   confirmed;
//! - a scripted failover is due `decide_secs` after the recommendation (after the start, without
//!   an outage), to the scenario's target, else the recommended one, else the first standby;
//! - a scripted failback is due `after_secs` after the outage ends and the failover is done
//!   (after the failover is done, without an outage);
//! - the disruption starts at the first injected fault or at the failover's confirmation (as
//!   [`crate::drills::metrics`] measures it); the backlog has drained when, having risen above
//!   its level before the disruption, it is back at or under it;
//! - the command probe goes out [`PROBE_AFTER_BACK_MS`] after the devices are back, or at the
//!   drill's end;
//! - at most `max_samples` samples are kept, the last one always; the failover's curve points
//!   are kept on the same period;
//! - a failover whose step failed is recorded once, with why ([`EventKind::FailoverFailed`]);
//!   it is never done, so no failback follows it.

use super::recording::{DrillSample, EventKind, Probe, Recording};
use super::scenario::{DecidedBy, Scenario};
use crate::failover::{Phase, Recommendation};
use crate::fault::FaultKind;
use crate::moving::CurvePoint;
use crate::switch::ROUTE53_CONTROL_PLANE_REGION;
use crate::{HealthStatus, RegionId};

/// The command probe goes out this long after the devices are back.
pub const PROBE_AFTER_BACK_MS: u64 = 5_000;

/// How a runner's readings are to be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObserverSettings {
    /// How long a poll that gets no answer takes to be known as failed (the poll timeout), or 0
    /// when the runner's readings already are the console's verdicts.
    pub unanswered_after_ms: u64,
    /// The most samples one drill keeps (longer drills sample less often); `None` keeps all.
    pub max_samples: Option<u64>,
}

/// A fault the scenario injects, its region resolved (by default the region active at the
/// start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFault {
    pub region: RegionId,
    pub kind: FaultKind,
    pub at_ms: u64,
    pub duration_ms: u64,
}

impl PlannedFault {
    pub fn end_ms(&self) -> u64 {
        self.at_ms + self.duration_ms
    }
}

/// What a runner sees at one moment of the drill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick<'a> {
    /// Milliseconds since the drill started.
    pub t_ms: u64,
    /// The region the devices' domain points at.
    pub active: &'a str,
    /// The active region's health as just read, or `None` when nothing was read this tick.
    pub active_health: Option<HealthStatus>,
    /// Devices online, all regions.
    pub online_total: u64,
    /// Messages waiting at the edge, all gateways.
    pub backlog: u64,
}

/// What the script calls for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    FailOver { to: RegionId },
    FailBack { to: RegionId },
}

/// The fold: feed it ticks and what the runner did; it keeps the [`Recording`].
#[derive(Debug, Clone)]
pub struct DrillObserver {
    settings: ObserverSettings,
    by: DecidedBy,
    decide_ms: u64,
    target: Option<RegionId>,
    failback_after_ms: Option<u64>,
    end_ms: u64,
    sample_every_ms: u64,
    home: RegionId,
    regions: Vec<RegionId>,
    faults: Vec<PlannedFault>,
    injected: Vec<bool>,
    cleared: Vec<bool>,
    rec: Recording,
    unhealthy_since: Option<u64>,
    detected: bool,
    recommended: Option<(u64, RegionId)>,
    /// Devices online and the backlog, at the last tick before the disruption.
    baseline: Option<(u64, u64)>,
    confirmed: bool,
    failover_done: Option<u64>,
    failover_failed: bool,
    failback_confirmed: bool,
    back_at: Option<u64>,
    peaked: bool,
    drained: bool,
    probed: bool,
}

impl DrillObserver {
    /// An observer of `sc` on a console of `regions` (in configured order), `home` active.
    pub fn new(
        sc: &Scenario,
        regions: &[RegionId],
        home: &RegionId,
        settings: ObserverSettings,
    ) -> Self {
        let faults: Vec<PlannedFault> = sc
            .outage
            .iter()
            .map(|o| (FaultKind::Outage, o))
            .chain(sc.degradation.iter().map(|d| (FaultKind::Degraded, d)))
            .chain(
                sc.route53_control_plane
                    .iter()
                    .map(|c| (FaultKind::Route53ControlPlane, c)),
            )
            .map(|(kind, f)| PlannedFault {
                region: f.region.clone().unwrap_or_else(|| match kind {
                    FaultKind::Route53ControlPlane => ROUTE53_CONTROL_PLANE_REGION.into(),
                    _ => home.clone(),
                }),
                kind,
                at_ms: f.at_secs * 1_000,
                duration_ms: f.duration_secs * 1_000,
            })
            .collect();
        let sample_every_secs = settings
            .max_samples
            .map_or(0, |max| sc.duration_secs.div_ceil(max.max(1)).max(1));
        DrillObserver {
            settings,
            by: sc.failover.by,
            decide_ms: sc.failover.decide_secs * 1_000,
            target: sc.failover.target.clone(),
            failback_after_ms: sc.failback.as_ref().map(|f| f.after_secs * 1_000),
            end_ms: sc.duration_secs * 1_000,
            sample_every_ms: sample_every_secs * 1_000,
            home: home.clone(),
            regions: regions.to_vec(),
            injected: vec![false; faults.len()],
            cleared: vec![false; faults.len()],
            faults,
            rec: Recording::default(),
            unhealthy_since: None,
            detected: false,
            recommended: None,
            baseline: None,
            confirmed: false,
            failover_done: None,
            failover_failed: false,
            failback_confirmed: false,
            back_at: None,
            peaked: false,
            drained: false,
            probed: false,
        }
    }

    /// The scenario's faults, outage first.
    pub fn faults(&self) -> &[PlannedFault] {
        &self.faults
    }

    fn outage(&self) -> Option<(usize, &PlannedFault)> {
        self.faults
            .iter()
            .enumerate()
            .find(|(_, f)| f.kind == FaultKind::Outage)
    }

    /// The record so far.
    pub fn recording(&self) -> &Recording {
        &self.rec
    }

    /// Records what only the runner can say (the start, a failover step, a failed probe).
    pub fn event(&mut self, t_ms: u64, kind: EventKind, detail: impl Into<String>) {
        self.rec.event(t_ms, kind, detail);
    }

    /// A failover step ended.
    pub fn step(&mut self, t_ms: u64, detail: impl Into<String>) {
        self.rec.event(t_ms, EventKind::Step, detail);
    }

    /// The faults (by index in [`Self::faults`]) the runner is to inject now.
    pub fn faults_due(&self, t_ms: u64) -> Vec<usize> {
        (0..self.faults.len())
            .filter(|&i| !self.injected[i] && t_ms >= self.faults[i].at_ms)
            .collect()
    }

    /// The runner injected fault `i` at `t_ms`.
    pub fn fault_injected(&mut self, i: usize, t_ms: u64) {
        self.injected[i] = true;
        let f = &self.faults[i];
        let detail = format!("{}: {} for {} s", f.region, f.kind, f.duration_ms / 1_000);
        self.rec.event(t_ms, EventKind::FaultInjected, detail);
    }

    fn disrupted(&self) -> bool {
        self.injected.iter().any(|i| *i) || self.confirmed
    }

    /// One tick: the faults that ended, the baseline, the detection, the backlog's drain.
    pub fn observe(&mut self, tick: &Tick) {
        let t = tick.t_ms;
        for i in 0..self.faults.len() {
            if self.injected[i] && !self.cleared[i] && t >= self.faults[i].end_ms() {
                self.cleared[i] = true;
                let f = &self.faults[i];
                let detail = format!("{}: {} ended", f.region, f.kind);
                self.rec.event(t, EventKind::FaultCleared, detail);
            }
        }
        let disrupted = self.disrupted();
        if !disrupted {
            self.baseline = Some((tick.online_total, tick.backlog));
        }
        if let Some(status) = tick.active_health {
            let bad = matches!(status, HealthStatus::Unreachable | HealthStatus::Degraded);
            if !bad {
                self.unhealthy_since = None;
            } else {
                self.unhealthy_since.get_or_insert(t);
                let outage_here = self
                    .outage()
                    .is_some_and(|(i, o)| self.injected[i] && o.region == tick.active);
                if !self.detected && outage_here {
                    self.detected = true;
                    // A poll that gets no answer is known to have failed when it times out.
                    let seen = if status == HealthStatus::Unreachable {
                        t + self.settings.unanswered_after_ms
                    } else {
                        t
                    };
                    self.rec.event(
                        seen,
                        EventKind::OutageDetected,
                        format!("{} {}", tick.active, status.as_str()),
                    );
                }
            }
        }
        if let Some((_, base)) = self.baseline.filter(|_| disrupted) {
            if tick.backlog > base {
                self.peaked = true;
            } else if self.peaked && !self.drained {
                self.drained = true;
                self.rec.event(
                    t,
                    EventKind::BacklogDrained,
                    format!("{} messages waiting", tick.backlog),
                );
            }
        }
    }

    /// Since when the active region has been read unhealthy (for the console's recommendation).
    pub fn unhealthy_since(&self) -> Option<u64> {
        self.unhealthy_since
    }

    /// Devices online at the last tick before the disruption (0 before any tick).
    pub fn baseline_online(&self) -> u64 {
        self.baseline.map_or(0, |b| b.0)
    }

    /// Whether the console's recommendation is worth asking for now.
    pub fn wants_recommendation(&self) -> bool {
        self.detected && self.recommended.is_none() && !self.confirmed
    }

    /// What the console recommends at `t_ms`; recorded the first time it says something.
    pub fn recommendation(&mut self, t_ms: u64, r: Option<&Recommendation>) {
        let Some(r) = r.filter(|_| self.wants_recommendation()) else {
            return;
        };
        self.rec.event(
            t_ms,
            EventKind::RecommendationShown,
            format!("fail over to {}: {}", r.target, r.reasons.join("; ")),
        );
        self.recommended = Some((t_ms, r.target.clone()));
    }

    /// What the script calls for at `t_ms`, if anything (never with an operator deciding).
    pub fn decision(&self, t_ms: u64) -> Option<Decision> {
        if self.by != DecidedBy::Script {
            return None;
        }
        if !self.confirmed {
            let due = match self.outage() {
                Some(_) => self.recommended.as_ref().map(|(at, _)| at + self.decide_ms),
                None => Some(self.decide_ms),
            };
            if due.is_none_or(|d| t_ms < d) {
                return None;
            }
            let to = self
                .target
                .clone()
                .or(self.recommended.as_ref().map(|r| r.1.clone()))
                .or_else(|| self.regions.iter().find(|r| **r != self.home).cloned())
                .unwrap_or_default();
            return Some(Decision::FailOver { to });
        }
        let (done, after) = (self.failover_done?, self.failback_after_ms?);
        if self.failback_confirmed {
            return None;
        }
        let from = self.outage().map_or(0, |(_, o)| o.end_ms());
        (t_ms >= from.max(done) + after).then(|| Decision::FailBack {
            to: self.home.clone(),
        })
    }

    /// Whether the failover is still to be confirmed (an operator's is watched for).
    pub fn awaiting_failover(&self) -> bool {
        !self.confirmed
    }

    /// Whether the failover has completed (with or without exceptions).
    pub fn failover_done(&self) -> bool {
        self.failover_done.is_some()
    }

    /// Whether the failover is done and the failback still to be confirmed.
    pub fn awaiting_failback(&self) -> bool {
        self.failover_done.is_some() && !self.failback_confirmed
    }

    pub fn failover_confirmed(&mut self, t_ms: u64, detail: impl Into<String>) {
        self.confirmed = true;
        self.rec.event(t_ms, EventKind::FailoverConfirmed, detail);
    }

    pub fn failback_confirmed(&mut self, t_ms: u64, detail: impl Into<String>) {
        self.failback_confirmed = true;
        self.rec.event(t_ms, EventKind::FailbackConfirmed, detail);
    }

    /// The failover reached `phase`: completed (the devices are back, `online` of them in
    /// `target`) or completed with exceptions; any other phase changes nothing here.
    pub fn failover_ended(&mut self, t_ms: u64, phase: Phase, online: u64, target: &str) {
        if !matches!(phase, Phase::Completed | Phase::CompletedWithExceptions)
            || self.failover_done.is_some()
        {
            return;
        }
        self.failover_done = Some(t_ms);
        if phase == Phase::Completed && self.back_at.is_none() {
            self.back_at = Some(t_ms);
            self.rec.event(
                t_ms,
                EventKind::DevicesBack,
                format!("{online} devices online in {target}"),
            );
        }
    }

    /// The failover failed at `t_ms` (a step did not happen: the switch did not answer), and
    /// why; recorded once. The failover is not done, so no failback is called for.
    pub fn failover_failed(&mut self, t_ms: u64, why: impl Into<String>) {
        if self.failover_failed || self.failover_done.is_some() {
            return;
        }
        self.failover_failed = true;
        self.rec.event(t_ms, EventKind::FailoverFailed, why);
    }

    pub fn failback_ended(&mut self, t_ms: u64, detail: impl Into<String>) {
        self.rec.event(t_ms, EventKind::FailbackDone, detail);
    }

    /// Whether the command probe is to go out now.
    pub fn probe_due(&self, t_ms: u64) -> bool {
        !self.probed
            && (self
                .back_at
                .is_some_and(|b| t_ms >= b + PROBE_AFTER_BACK_MS)
                || t_ms >= self.end_ms)
    }

    /// The probe went out at `t_ms`: what it reached, or (`None`) why it could not.
    pub fn probed(&mut self, t_ms: u64, detail: impl Into<String>, probe: Option<Probe>) {
        self.probed = true;
        self.rec.event(t_ms, EventKind::CommandProbe, detail);
        if let Some(p) = probe {
            self.rec.probe = Some(Probe { t_ms, ..p });
        }
    }

    /// Keeps the sample if it falls on the sampling period (the last one always).
    pub fn sample(&mut self, s: DrillSample) {
        let every = self.sample_every_ms;
        if every == 0 || s.t_ms % every == 0 || s.t_ms >= self.end_ms {
            self.rec.samples.push(s);
        }
    }

    /// A point of the failover's reconnection curve at `t_ms`: `source` devices online in the
    /// region left, `target` in the one moved to; kept if it falls on the sampling period.
    pub fn curve_point(&mut self, t_ms: u64, source: u64, target: u64) {
        let every = self.sample_every_ms;
        if every == 0 || t_ms % every == 0 || t_ms >= self.end_ms {
            self.rec.curve.push(CurvePoint {
                at: t_ms,
                source,
                target,
            });
        }
    }

    /// The record, ended at `t_ms` (or aborted, and why), its events in time order: a failed
    /// poll's event is stamped when it timed out, after events of the same second.
    pub fn finish(mut self, t_ms: u64, aborted: Option<&str>, active: &str) -> Recording {
        match aborted {
            Some(why) => self.rec.event(t_ms, EventKind::Aborted, why),
            None => self
                .rec
                .event(t_ms, EventKind::Ended, format!("{active} active")),
        }
        self.rec.events.sort_by_key(|e| e.t_ms);
        self.rec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: &str = "us-east-1";
    const EU: &str = "eu-west-1";

    fn regions() -> Vec<RegionId> {
        vec![US.into(), EU.into(), "ap-south-1".into()]
    }

    /// us-east-1 out at 20 s for 400 s; decided 30 s after the recommendation; failback 30 s
    /// after the outage.
    fn scenario() -> Scenario {
        serde_json::from_value(serde_json::json!({
            "name": "outage",
            "duration_secs": 700,
            "outage": {"at_secs": 20, "duration_secs": 400},
            "failover": {"by": "script", "decide_secs": 30},
            "failback": {"after_secs": 30}
        }))
        .unwrap()
    }

    fn observer(sc: &Scenario) -> DrillObserver {
        let settings = ObserverSettings {
            unanswered_after_ms: 2_500,
            max_samples: None,
        };
        DrillObserver::new(sc, &regions(), &US.into(), settings)
    }

    fn tick(t_s: u64, active: &str, health: Option<HealthStatus>, backlog: u64) -> Tick<'_> {
        Tick {
            t_ms: t_s * 1_000,
            active,
            active_health: health,
            online_total: 100,
            backlog,
        }
    }

    fn recommendation(to: &str) -> Recommendation {
        Recommendation {
            target: to.into(),
            reasons: vec!["us-east-1 has been unreachable for 60 s".into()],
        }
    }

    fn kinds(o: &DrillObserver) -> Vec<EventKind> {
        o.recording().events.iter().map(|e| e.kind).collect()
    }

    /// Injects what is due and observes one tick.
    fn step(o: &mut DrillObserver, t: &Tick) {
        for i in o.faults_due(t.t_ms) {
            o.fault_injected(i, t.t_ms);
        }
        o.observe(t);
    }

    #[test]
    fn a_fault_is_due_at_its_time_recorded_when_injected_and_when_it_ends() {
        let mut o = observer(&scenario());
        assert_eq!(
            o.faults()[0].region,
            US,
            "by default the region active at first"
        );
        assert!(o.faults_due(19_999).is_empty());
        assert_eq!(o.faults_due(20_000), vec![0]);
        step(&mut o, &tick(20, US, None, 0));
        assert!(o.faults_due(21_000).is_empty(), "injected once");
        step(&mut o, &tick(419, US, None, 0));
        step(&mut o, &tick(420, US, None, 0));
        step(&mut o, &tick(421, US, None, 0));
        let ev = &o.recording().events;
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(
            (ev[0].t_ms, ev[0].detail.as_str()),
            (20_000, "us-east-1: outage for 400 s")
        );
        assert_eq!(
            (ev[1].t_ms, ev[1].kind, ev[1].detail.as_str()),
            (420_000, EventKind::FaultCleared, "us-east-1: outage ended")
        );
    }

    #[test]
    fn the_outage_is_detected_once_when_its_unanswered_poll_times_out() {
        let mut o = observer(&scenario());
        // Unhealthy before the outage: not the outage yet.
        step(&mut o, &tick(15, US, Some(HealthStatus::Degraded), 0));
        assert!(kinds(&o).is_empty());
        assert_eq!(o.unhealthy_since(), Some(15_000));
        step(&mut o, &tick(20, US, Some(HealthStatus::Unreachable), 0));
        step(&mut o, &tick(25, US, Some(HealthStatus::Unreachable), 0));
        let detected: Vec<_> = o
            .recording()
            .events
            .iter()
            .filter(|e| e.kind == EventKind::OutageDetected)
            .collect();
        assert_eq!(detected.len(), 1);
        assert_eq!(
            (detected[0].t_ms, detected[0].detail.as_str()),
            (22_500, "us-east-1 unreachable")
        );
        assert_eq!(
            o.unhealthy_since(),
            Some(15_000),
            "unhealthy since the first"
        );
        step(&mut o, &tick(30, US, Some(HealthStatus::Healthy), 0));
        assert_eq!(o.unhealthy_since(), None);
    }

    #[test]
    fn an_unhealthy_region_that_is_not_the_outage_is_not_detected() {
        let mut o = observer(&scenario());
        step(&mut o, &tick(20, EU, Some(HealthStatus::Unreachable), 0));
        step(&mut o, &tick(21, US, None, 0));
        assert!(!kinds(&o).contains(&EventKind::OutageDetected));
        assert!(!o.wants_recommendation());
    }

    #[test]
    fn the_recommendation_is_recorded_once_after_the_detection_and_before_a_failover() {
        let mut o = observer(&scenario());
        o.recommendation(10_000, Some(&recommendation(EU)));
        assert!(kinds(&o).is_empty(), "nothing detected yet");
        step(&mut o, &tick(20, US, Some(HealthStatus::Unreachable), 0));
        assert!(o.wants_recommendation());
        o.recommendation(25_000, None);
        o.recommendation(80_000, Some(&recommendation(EU)));
        o.recommendation(85_000, Some(&recommendation("ap-south-1")));
        let shown: Vec<_> = o
            .recording()
            .events
            .iter()
            .filter(|e| e.kind == EventKind::RecommendationShown)
            .collect();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].t_ms, 80_000);
        assert_eq!(
            shown[0].detail,
            "fail over to eu-west-1: us-east-1 has been unreachable for 60 s"
        );
        assert!(!o.wants_recommendation());
    }

    #[test]
    fn a_scripted_failover_is_due_after_the_decision_time_to_the_recommended_region() {
        let mut o = observer(&scenario());
        step(&mut o, &tick(20, US, Some(HealthStatus::Unreachable), 0));
        assert_eq!(o.decision(500_000), None, "nothing recommended yet");
        o.recommendation(80_000, Some(&recommendation("ap-south-1")));
        assert_eq!(o.decision(109_000), None);
        assert_eq!(
            o.decision(110_000),
            Some(Decision::FailOver {
                to: "ap-south-1".into()
            })
        );
        let mut chosen = scenario();
        chosen.failover.target = Some(EU.into());
        let mut c = observer(&chosen);
        step(&mut c, &tick(20, US, Some(HealthStatus::Unreachable), 0));
        c.recommendation(80_000, Some(&recommendation("ap-south-1")));
        assert_eq!(
            c.decision(110_000),
            Some(Decision::FailOver { to: EU.into() }),
            "the scenario's target first"
        );
        o.failover_confirmed(110_000, "to ap-south-1");
        assert_eq!(o.decision(111_000), None, "confirmed once");
    }

    #[test]
    fn a_practice_failover_is_due_after_the_start_to_the_first_standby() {
        let mut sc = scenario();
        sc.outage = None;
        let o = observer(&sc);
        assert_eq!(o.decision(29_000), None);
        assert_eq!(
            o.decision(30_000),
            Some(Decision::FailOver { to: EU.into() })
        );
    }

    #[test]
    fn an_operator_deciding_is_watched_for_and_never_scripted() {
        let mut sc = scenario();
        sc.failover.by = DecidedBy::Operator;
        sc.failback = None;
        let mut o = observer(&sc);
        step(&mut o, &tick(20, US, Some(HealthStatus::Unreachable), 0));
        o.recommendation(80_000, Some(&recommendation(EU)));
        assert_eq!(o.decision(600_000), None);
        assert!(o.awaiting_failover());
        o.failover_confirmed(90_000, "to eu-west-1 by alice");
        assert!(!o.awaiting_failover());
        assert!(!o.awaiting_failback(), "not before the failover is done");
        o.failover_ended(120_000, Phase::Completed, 99, EU);
        assert!(o.failover_done() && o.awaiting_failback());
        assert_eq!(o.decision(600_000), None);
    }

    #[test]
    fn the_failback_is_due_after_the_outage_ends_and_the_failover_is_done() {
        let mut o = observer(&scenario());
        o.failover_confirmed(110_000, "to eu-west-1");
        assert_eq!(o.decision(460_000), None, "the failover is not done");
        // Done during the outage: due 30 s after the outage's end (420 s).
        o.failover_ended(150_000, Phase::Completed, 99, EU);
        assert_eq!(o.decision(449_000), None);
        assert_eq!(
            o.decision(450_000),
            Some(Decision::FailBack { to: US.into() })
        );
        o.failback_confirmed(450_000, "back to us-east-1");
        assert_eq!(o.decision(460_000), None, "confirmed once");
        assert!(!o.awaiting_failback());
        // Without an outage: 30 s after the failover is done.
        let mut sc = scenario();
        sc.outage = None;
        let mut p = observer(&sc);
        p.failover_confirmed(30_000, "to eu-west-1");
        p.failover_ended(70_000, Phase::CompletedWithExceptions, 80, EU);
        assert_eq!(
            p.decision(100_000),
            Some(Decision::FailBack { to: US.into() })
        );
    }

    #[test]
    fn devices_are_back_when_the_failover_completes_not_with_exceptions() {
        let mut o = observer(&scenario());
        o.failover_confirmed(110_000, "to eu-west-1");
        o.failover_ended(140_000, Phase::Verifying, 10, EU);
        o.failover_ended(150_000, Phase::Completed, 96, EU);
        o.failover_ended(160_000, Phase::Completed, 99, EU);
        let back: Vec<_> = o
            .recording()
            .events
            .iter()
            .filter(|e| e.kind == EventKind::DevicesBack)
            .collect();
        assert_eq!(back.len(), 1);
        assert_eq!(
            (back[0].t_ms, back[0].detail.as_str()),
            (150_000, "96 devices online in eu-west-1")
        );
        let mut x = observer(&scenario());
        x.failover_ended(150_000, Phase::CompletedWithExceptions, 50, EU);
        assert!(!kinds(&x).contains(&EventKind::DevicesBack));
        assert!(x.awaiting_failback(), "done all the same");
    }

    #[test]
    fn the_backlog_drains_when_back_at_its_level_before_the_disruption() {
        let mut o = observer(&scenario());
        step(&mut o, &tick(10, US, None, 5));
        step(&mut o, &tick(19, US, None, 7));
        // The outage at 20 s: the baseline is the 19 s tick's 7 messages.
        step(&mut o, &tick(20, US, None, 7));
        assert_eq!(o.baseline_online(), 100);
        step(&mut o, &tick(21, US, None, 500));
        step(&mut o, &tick(22, US, None, 8));
        assert!(!kinds(&o).contains(&EventKind::BacklogDrained));
        step(&mut o, &tick(23, US, None, 7));
        step(&mut o, &tick(24, US, None, 600));
        step(&mut o, &tick(25, US, None, 0));
        let drained: Vec<_> = o
            .recording()
            .events
            .iter()
            .filter(|e| e.kind == EventKind::BacklogDrained)
            .collect();
        assert_eq!(drained.len(), 1, "once");
        assert_eq!(
            (drained[0].t_ms, drained[0].detail.as_str()),
            (23_000, "7 messages waiting")
        );
    }

    #[test]
    fn a_practice_failover_disrupts_from_its_confirmation() {
        let mut sc = scenario();
        sc.outage = None;
        let mut o = observer(&sc);
        step(&mut o, &tick(29, US, None, 3));
        o.failover_confirmed(30_000, "to eu-west-1");
        step(&mut o, &tick(31, EU, None, 90));
        step(&mut o, &tick(32, EU, None, 3));
        assert!(kinds(&o).contains(&EventKind::BacklogDrained));
    }

    #[test]
    fn the_probe_goes_out_after_the_devices_are_back_or_at_the_end() {
        let mut o = observer(&scenario());
        assert!(!o.probe_due(100_000));
        o.failover_ended(150_000, Phase::Completed, 99, EU);
        assert!(!o.probe_due(154_999));
        assert!(o.probe_due(155_000));
        let reached = Probe {
            t_ms: 0,
            targeted: 100,
            reached: 98,
        };
        o.probed(155_000, "ping reached 98 of 100 devices", Some(reached));
        assert!(!o.probe_due(700_000), "once");
        assert_eq!(o.recording().probe.map(|p| p.t_ms), Some(155_000));
        let mut never = observer(&scenario());
        assert!(!never.probe_due(699_999));
        assert!(never.probe_due(700_000), "at the end without devices back");
        never.probed(700_000, "no probe: the channel is down", None);
        assert_eq!(never.recording().probe, None);
        assert_eq!(kinds(&never), vec![EventKind::CommandProbe]);
    }

    #[test]
    fn samples_are_thinned_to_the_limit_and_the_last_is_always_kept() {
        let settings = ObserverSettings {
            unanswered_after_ms: 0,
            max_samples: Some(300),
        };
        let mut o = DrillObserver::new(&scenario(), &regions(), &US.into(), settings);
        let sample = |t: u64| DrillSample {
            t_ms: t * 1_000,
            active: US.into(),
            online: vec![(US.into(), 100)],
            backlog: 0,
            dropped: 0,
        };
        for t in 0..=700 {
            o.sample(sample(t));
        }
        // 700 s in at most 300 samples: one every 3 s, and the end.
        let at: Vec<u64> = o.recording().samples.iter().map(|s| s.t_ms).collect();
        assert_eq!(at.len(), 235);
        assert_eq!(&at[..3], &[0, 3_000, 6_000]);
        assert_eq!(at.last(), Some(&700_000));
        let mut all = observer(&scenario());
        for t in 0..10 {
            all.sample(sample(t));
        }
        assert_eq!(
            all.recording().samples.len(),
            10,
            "no limit keeps every one"
        );
    }

    #[test]
    fn the_failovers_curve_is_kept_on_the_sampling_period_with_its_last_point() {
        let settings = ObserverSettings {
            unanswered_after_ms: 0,
            max_samples: Some(300),
        };
        let mut o = DrillObserver::new(&scenario(), &regions(), &US.into(), settings);
        for t in 100..=700u64 {
            o.curve_point(t * 1_000, 700 - t, t - 100);
        }
        let curve = &o.recording().curve;
        // One every 3 s from 102 s, and the end.
        assert_eq!(curve.len(), 201);
        assert_eq!(
            curve[0],
            CurvePoint {
                at: 102_000,
                source: 598,
                target: 2
            }
        );
        assert_eq!(
            curve.last(),
            Some(&CurvePoint {
                at: 700_000,
                source: 0,
                target: 600
            })
        );
        let rec = o.finish(700_000, None, EU);
        let back: Recording = serde_json::from_value(serde_json::to_value(&rec).unwrap()).unwrap();
        assert_eq!(back.curve, rec.curve);
        let mut old = serde_json::to_value(&rec).unwrap();
        old.as_object_mut().unwrap().remove("curve");
        let old: Recording = serde_json::from_value(old).unwrap();
        assert!(old.curve.is_empty(), "a record kept before the curve reads");
    }

    #[test]
    fn route53s_control_plane_fails_in_us_east_1_whichever_region_is_home() {
        let mut sc = scenario();
        sc.route53_control_plane = Some(super::super::scenario::ScenarioFault {
            region: None,
            at_secs: 50,
            duration_secs: 100,
        });
        let settings = ObserverSettings {
            unanswered_after_ms: 0,
            max_samples: None,
        };
        let o = DrillObserver::new(&sc, &regions(), &EU.into(), settings);
        let planned: Vec<(&str, FaultKind)> = o
            .faults()
            .iter()
            .map(|f| (f.region.as_str(), f.kind))
            .collect();
        assert_eq!(
            planned,
            vec![
                (EU, FaultKind::Outage),
                (US, FaultKind::Route53ControlPlane)
            ]
        );
        assert_eq!(o.faults()[1].end_ms(), 150_000);
    }

    #[test]
    fn a_failed_failover_is_recorded_once_with_why_and_calls_for_no_failback() {
        let mut o = observer(&scenario());
        step(&mut o, &tick(20, US, Some(HealthStatus::Unreachable), 0));
        o.recommendation(80_000, Some(&recommendation(EU)));
        assert_eq!(
            o.decision(110_000),
            Some(Decision::FailOver { to: EU.into() })
        );
        o.failover_confirmed(110_000, "to eu-west-1 (scripted)");
        o.failover_failed(110_000, "switch: Route 53's control plane does not answer");
        o.failover_failed(111_000, "again");
        step(&mut o, &tick(420, US, Some(HealthStatus::Healthy), 0));
        assert_eq!(o.decision(700_000), None, "nothing to fail back from");
        assert!(!o.failover_done() && !o.awaiting_failback());
        let failed: Vec<&str> = o
            .recording()
            .events
            .iter()
            .filter(|e| e.kind == EventKind::FailoverFailed)
            .map(|e| e.detail.as_str())
            .collect();
        assert_eq!(
            failed,
            vec!["switch: Route 53's control plane does not answer"]
        );
    }

    #[test]
    fn the_record_ends_or_is_aborted_with_its_events_in_time_order() {
        let mut o = observer(&scenario());
        o.event(0, EventKind::Started, "live drill");
        step(&mut o, &tick(20, US, Some(HealthStatus::Unreachable), 0));
        o.step(21_000, "switch: ok");
        let rec = o.clone().finish(700_000, None, EU);
        let at: Vec<(u64, EventKind)> = rec.events.iter().map(|e| (e.t_ms, e.kind)).collect();
        assert_eq!(
            at,
            vec![
                (0, EventKind::Started),
                (20_000, EventKind::FaultInjected),
                (21_000, EventKind::Step),
                (22_500, EventKind::OutageDetected),
                (700_000, EventKind::Ended),
            ]
        );
        assert_eq!(rec.events[4].detail, "eu-west-1 active");
        let aborted = o.finish(30_000, Some("stopped by an operator"), US);
        let last = aborted.events.last().unwrap();
        assert_eq!(
            (last.kind, last.detail.as_str()),
            (EventKind::Aborted, "stopped by an operator")
        );
    }
}
