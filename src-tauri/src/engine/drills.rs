//! Disaster-recovery drills: started, recorded, measured and kept.
//!
//! Two runners fill the same [`Recording`]:
//! - *simulated*: [`crate::sim::drill::run`] on a seeded fleet of the drill's own, in simulated
//!   time (a ten-minute scenario takes a fraction of a second);
//! - *live*: this module's loop on the running console, in real time. It injects the
//!   scenario's outage into the live simulated fleet (never on AWS: there a live drill is a
//!   practice failover and failback), and the failover is the console's own, requested with a
//!   reason that starts with "DRILL", through every guard a real one passes (preflight,
//!   two-person rule, one at a time).
//!
//! Rules kept here: a drill is audited when it starts and when it ends; one live drill at a
//! time (the store's lock); a drill left running by a stopped process is marked aborted at the
//! next start; the verdict is computed by core from the record, nowhere else.

use super::{CommandError, Engine, QueryError};
use crate::clock::now_ms;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::commands::{CommandRequest, OfflinePolicy, Target};
use switchyard_core::drills::{
    metrics, overdue, DecidedBy, Drill, DrillMode, DrillNotes, DrillSample, DrillStatus,
    DrillSummary, DrillsResponse, EventKind, Objectives, Probe, Recording, Scenario,
};
use switchyard_core::failover::{FailoverRequest, Phase};
use switchyard_core::fault::{FaultKind, FaultSpec};
use switchyard_core::{HealthStatus, RegionId, SourceKind, UnixMs};

/// How drills are judged and how often they are due.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillConfig {
    /// A warning shows when the newest drill is older than this.
    pub period_days: u32,
    /// What a drill is judged by unless its scenario overrides it.
    pub objectives: Objectives,
}

impl Default for DrillConfig {
    fn default() -> Self {
        DrillConfig {
            period_days: 90,
            objectives: Objectives {
                rto_secs: 30 * 60,
                rpo_messages: 0,
                max_backlog: 100_000,
                recovered_share: 0.95,
            },
        }
    }
}

/// Why a drill request or read did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrillError {
    /// The request is wrong; nothing was started. The message names what.
    Invalid(String),
    /// A live drill (or a failover) is under way.
    Conflict(String),
    NotFound(String),
    Failed(String),
}

impl From<crate::store::StoreError> for DrillError {
    fn from(e: crate::store::StoreError) -> Self {
        DrillError::Failed(e.0)
    }
}

/// Drills running in this process, with the flag that stops each.
#[derive(Default)]
pub(super) struct Drills {
    running: BTreeMap<String, Arc<AtomicBool>>,
}

/// The command probe goes out this long after the devices are back.
const PROBE_AFTER_BACK_MS: u64 = 5_000;
/// A live drill saves its record this often while it runs, so the page can follow it.
const SAVE_EVERY: Duration = Duration::from_secs(3);
/// The most drills listed.
const LISTED: u32 = 200;

impl Engine {
    /// The drills page: every drill, newest first, and whether drilling is overdue.
    pub async fn drills(&self) -> Result<DrillsResponse, DrillError> {
        let (drills, last) = self
            .inner
            .store
            .run(|s| Ok((s.drills_recent(LISTED)?, s.drill_last_finished()?)))
            .await?;
        let cfg = &self.inner.cfg.drills;
        Ok(DrillsResponse {
            drills,
            overdue: overdue(last, now_ms(), cfg.period_days),
            period_days: cfg.period_days,
            objectives: cfg.objectives,
        })
    }

    pub async fn drill(&self, id: &str) -> Result<Option<Drill>, DrillError> {
        let id = id.to_string();
        Ok(self.inner.store.run(move |s| s.drill(&id)).await?)
    }

    /// Marks drills a stopped process left running as aborted (called at start).
    pub(super) async fn close_interrupted_drills(&self) {
        match self
            .inner
            .store
            .run(|s| s.drills_interrupted(now_ms()))
            .await
        {
            Ok(ids) if !ids.is_empty() => {
                tracing::warn!("drills interrupted by the last stop: {}", ids.join(", "))
            }
            Ok(_) => {}
            Err(e) => tracing::error!("could not close interrupted drills: {e}"),
        }
    }

    /// Starts a drill: checked, audited, stored, then run in the background. Returns at once.
    pub async fn start_drill(
        &self,
        scenario: Scenario,
        operator: &str,
    ) -> Result<DrillSummary, DrillError> {
        scenario.check().map_err(DrillError::Invalid)?;
        let snap = self.snapshot();
        let home = snap
            .active_region()
            .map(|r| r.id.clone())
            .ok_or_else(|| DrillError::Failed("no region is active".into()))?;
        // The active region first: a simulated drill starts where the console is.
        let mut regions: Vec<RegionId> = vec![home.clone()];
        regions.extend(
            snap.regions
                .iter()
                .map(|r| r.id.clone())
                .filter(|r| *r != home),
        );
        let named = |field: &str, r: &Option<RegionId>| match r {
            Some(code) if !regions.contains(code) => Err(DrillError::Invalid(format!(
                "{field}: {code} is not one of the console's regions ({})",
                regions.join(", ")
            ))),
            _ => Ok(()),
        };
        named(
            "outage.region",
            &scenario.outage.as_ref().and_then(|o| o.region.clone()),
        )?;
        named(
            "degradation.region",
            &scenario.degradation.as_ref().and_then(|o| o.region.clone()),
        )?;
        named("failover.target", &scenario.failover.target)?;
        if scenario.failover.target.as_ref() == Some(&home) {
            return Err(DrillError::Invalid(format!(
                "failover.target: {home} is the active region"
            )));
        }
        match scenario.mode {
            DrillMode::Simulated => {
                if scenario.failover.by != DecidedBy::Script {
                    return Err(DrillError::Invalid(
                        "failover.by: a simulated drill runs faster than anyone can press a \
                         button; use \"script\", or mode = \"live\" to fail over yourself"
                            .into(),
                    ));
                }
            }
            DrillMode::Live => {
                if self.inner.injector.is_none()
                    && (scenario.outage.is_some() || scenario.degradation.is_some())
                {
                    return Err(DrillError::Invalid(
                        "outage: a live drill cannot break a real region; on AWS it is a \
                         practice failover and failback: leave out outage and degradation"
                            .into(),
                    ));
                }
                self.switch()
                    .map_err(|_| DrillError::Invalid("this fleet cannot move traffic".into()))?;
            }
        }
        let now = now_ms();
        let cfg = &self.inner.cfg.drills;
        let drill = Drill {
            summary: DrillSummary {
                id: format!("drill-{now}"),
                name: scenario.name.trim().to_string(),
                mode: scenario.mode,
                status: DrillStatus::Running,
                started_by: operator.to_string(),
                started_at: now,
                ended_at: None,
                recovery_ms: None,
                messages_lost: None,
                source: match snap.source {
                    SourceKind::Simulated => "simulated",
                    SourceKind::Aws => "aws",
                }
                .into(),
            },
            objectives: cfg.objectives.with(&scenario.objectives),
            scenario,
            recording: Recording::default(),
            metrics: None,
            error: None,
            notes: String::new(),
            action_items: Vec::new(),
        };
        let detail = serde_json::to_string(&drill.scenario).expect("a scenario serialises");
        let (actor, reason) = (
            operator.to_string(),
            format!("drill: {}", drill.summary.name),
        );
        let audit = self
            .inner
            .store
            .run(move |s| s.audit_begin(now, &actor, "drill.start", &reason, &detail))
            .await?;
        let row = drill.clone();
        match self.inner.store.run(move |s| s.drill_insert(&row)).await? {
            Ok(()) => {}
            Err(other) => {
                let why = format!("another live drill is running: {other}");
                let result = format!("refused: {why}");
                self.inner
                    .store
                    .run(move |s| s.audit_finish(audit, now_ms(), &result))
                    .await?;
                return Err(DrillError::Conflict(why));
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        self.drills_state()
            .running
            .insert(drill.summary.id.clone(), stop.clone());
        let engine = self.clone();
        let summary = drill.summary.clone();
        tokio::spawn(async move { engine.run_drill(drill, regions, audit, stop).await });
        Ok(summary)
    }

    fn drills_state(&self) -> std::sync::MutexGuard<'_, Drills> {
        self.inner.drills.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops a running drill; its report says it was aborted and by whom.
    pub async fn abort_drill(&self, id: &str, operator: &str) -> Result<(), DrillError> {
        let flag = self.drills_state().running.get(id).cloned();
        let Some(flag) = flag else {
            return match self.drill(id).await? {
                None => Err(DrillError::NotFound(format!("no drill {id}"))),
                Some(d) => Err(DrillError::Invalid(format!(
                    "drill {id} is not running (it is {})",
                    d.summary.status.as_str()
                ))),
            };
        };
        let (actor, id_owned) = (operator.to_string(), id.to_string());
        let audit = self
            .inner
            .store
            .run(move |s| {
                s.audit_begin(
                    now_ms(),
                    &actor,
                    "drill.abort",
                    "stopped by an operator",
                    &id_owned,
                )
            })
            .await?;
        flag.store(true, Ordering::SeqCst);
        self.inner
            .store
            .run(move |s| s.audit_finish(audit, now_ms(), "ok"))
            .await?;
        Ok(())
    }

    /// Replaces a drill's notes and action items, audited.
    pub async fn set_drill_notes(
        &self,
        id: &str,
        notes: DrillNotes,
        operator: &str,
    ) -> Result<(), DrillError> {
        notes.check().map_err(DrillError::Invalid)?;
        let (actor, id_owned) = (operator.to_string(), id.to_string());
        let detail = serde_json::to_string(&notes).expect("notes serialise");
        let found = self
            .inner
            .store
            .run(move |s| {
                let audit = s.audit_begin(
                    now_ms(),
                    &actor,
                    "drill.notes",
                    "notes and action items",
                    &detail,
                )?;
                let found = s.drill_set_notes(&id_owned, &notes.notes, &notes.action_items)?;
                s.audit_finish(
                    audit,
                    now_ms(),
                    if found {
                        "ok"
                    } else {
                        "refused: no such drill"
                    },
                )?;
                Ok(found)
            })
            .await?;
        if found {
            Ok(())
        } else {
            Err(DrillError::NotFound(format!("no drill {id}")))
        }
    }

    async fn run_drill(
        &self,
        mut drill: Drill,
        regions: Vec<RegionId>,
        audit: i64,
        stop: Arc<AtomicBool>,
    ) {
        let outcome = match drill.scenario.mode {
            DrillMode::Simulated => {
                let (sc, cfg, stop) =
                    (drill.scenario.clone(), self.inner.cfg.clone(), stop.clone());
                tokio::task::spawn_blocking(move || {
                    crate::sim::drill::run_until(&sc, &regions, &cfg, &stop)
                })
                .await
                .unwrap_or_else(|e| Err(format!("the drill's task failed: {e}")))
                .map(|rec| (rec, None))
            }
            DrillMode::Live => Ok(self.run_live(&mut drill, &stop).await),
        };
        self.drills_state().running.remove(&drill.summary.id);
        let end = now_ms();
        drill.summary.ended_at = Some(end);
        match outcome {
            Err(e) => {
                drill.summary.status = DrillStatus::Aborted;
                drill.error = Some(e);
            }
            Ok((rec, aborted)) => {
                let m = metrics(&rec, &drill.objectives);
                drill.summary.recovery_ms = m.recovery_ms;
                drill.summary.messages_lost = Some(m.messages_lost);
                drill.summary.status = match (&aborted, m.passed) {
                    (Some(_), _) => DrillStatus::Aborted,
                    (None, true) => DrillStatus::Passed,
                    (None, false) => DrillStatus::Failed,
                };
                drill.error = aborted;
                drill.recording = rec;
                drill.metrics = Some(m);
            }
        }
        let result = match &drill.error {
            None => format!("ok: {}", drill.summary.status.as_str()),
            Some(e) => format!("aborted: {e}"),
        };
        let row = drill.clone();
        let saved = self
            .inner
            .store
            .run(move |s| {
                s.drill_save(&row)?;
                s.audit_finish(audit, end, &result)
            })
            .await;
        if let Err(e) = saved {
            tracing::error!("could not save drill {}: {e}", drill.summary.id);
        }
    }

    /// The live runner: real time, the console's own failover. Returns the record and, when it
    /// stopped early, why.
    async fn run_live(&self, drill: &mut Drill, stop: &AtomicBool) -> (Recording, Option<String>) {
        let sc = drill.scenario.clone();
        let id = drill.summary.id.clone();
        let started = Instant::now();
        let start_wall = drill.summary.started_at;
        let el = || started.elapsed().as_millis() as u64;
        let home = self.active_region().unwrap_or_default();
        let mut rec = Recording::default();
        rec.event(0, EventKind::Started, format!("live drill, {home} active"));
        let reason = format!("DRILL {id} ({})", sc.name.trim());
        let outage_region = sc
            .outage
            .as_ref()
            .map(|o| o.region.clone().unwrap_or(home.clone()));
        let faults: Vec<(FaultKind, RegionId, u64, u64)> = sc
            .outage
            .iter()
            .map(|o| (FaultKind::Outage, o))
            .chain(sc.degradation.iter().map(|d| (FaultKind::Degraded, d)))
            .map(|(k, f)| {
                (
                    k,
                    f.region.clone().unwrap_or(home.clone()),
                    f.at_secs * 1_000,
                    f.duration_secs * 1_000,
                )
            })
            .collect();
        let mut injected = vec![false; faults.len()];
        let mut cleared = vec![false; faults.len()];
        let mut detected = false;
        let mut recommended: Option<(u64, RegionId)> = None;
        // The failover's id, the steps recorded so far, and its target.
        let mut failover: Option<(String, usize, RegionId)> = None;
        let mut failover_done: Option<u64> = None;
        let mut failback: Option<(String, usize)> = None;
        let mut failback_done = false;
        let mut back_at: Option<u64> = None;
        let mut baseline_backlog: Option<u64> = None;
        let (mut peaked, mut drained, mut probed) = (false, false, false);
        let mut last_save = Instant::now();
        // A sample a second, or a poll, whichever is more often.
        let mut tick =
            tokio::time::interval(self.inner.cfg.poll_interval.min(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let aborted = loop {
            tick.tick().await;
            let t = el();
            if stop.load(Ordering::SeqCst) {
                break Some("stopped by an operator".to_string());
            }
            if t >= sc.duration_secs * 1_000 {
                break None;
            }
            let mut fault_error = None;
            for (i, (kind, region, at, dur)) in faults.iter().enumerate() {
                if !injected[i] && t >= *at {
                    injected[i] = true;
                    let spec = FaultSpec {
                        region: region.clone(),
                        kind: *kind,
                        start_secs: 0,
                        duration_secs: Some(dur / 1_000),
                    };
                    match self
                        .inject_fault(&drill.summary.started_by, &reason, spec)
                        .await
                    {
                        Ok(_) => rec.event(
                            el(),
                            EventKind::FaultInjected,
                            format!("{region}: {kind} for {} s", dur / 1_000),
                        ),
                        Err(e) => {
                            fault_error = Some(format!("the {kind} could not be injected: {e:?}"))
                        }
                    }
                }
                if injected[i] && !cleared[i] && t >= at + dur {
                    cleared[i] = true;
                    rec.event(
                        t,
                        EventKind::FaultCleared,
                        format!("{region}: {kind} ended"),
                    );
                }
            }
            if let Some(e) = fault_error {
                break Some(e);
            }

            let snap = self.snapshot();
            let active = snap
                .active_region()
                .map(|r| r.id.clone())
                .unwrap_or_default();
            let backlog: u64 = snap.regions.iter().map(|r| r.backlog.messages).sum();
            let sample = DrillSample {
                t_ms: t,
                active: active.clone(),
                online: snap
                    .regions
                    .iter()
                    .map(|r| (r.id.clone(), r.online))
                    .collect(),
                backlog,
                dropped: snap.regions.iter().map(|r| r.backlog.dropped).sum(),
            };
            rec.samples.push(sample);
            let disrupted = injected.iter().any(|i| *i) || failover.is_some();
            if !disrupted {
                baseline_backlog = Some(backlog);
            }

            if let Some(region) = &outage_region {
                let status = snap.active_region().map(|r| r.health.status);
                if !detected
                    && injected[0]
                    && active == *region
                    && matches!(
                        status,
                        Some(HealthStatus::Unreachable | HealthStatus::Degraded)
                    )
                {
                    detected = true;
                    rec.event(
                        t,
                        EventKind::OutageDetected,
                        format!("{active} {}", status.map_or("", |s| s.as_str())),
                    );
                }
                if detected && recommended.is_none() && failover.is_none() {
                    if let Ok(Some(r)) = self.failover_overview().await.map(|o| o.recommendation) {
                        rec.event(
                            t,
                            EventKind::RecommendationShown,
                            format!("fail over to {}: {}", r.target, r.reasons.join("; ")),
                        );
                        recommended = Some((t, r.target));
                    }
                }
            }

            // The failover: the script requests it, or an operator does and the drill sees it.
            if failover.is_none() {
                match sc.failover.by {
                    DecidedBy::Script => {
                        let due = match &outage_region {
                            Some(_) => recommended
                                .as_ref()
                                .map(|(at, _)| at + sc.failover.decide_secs * 1_000),
                            None => Some(sc.failover.decide_secs * 1_000),
                        };
                        if due.is_some_and(|d| t >= d) {
                            let target = sc
                                .failover
                                .target
                                .clone()
                                .or(recommended.as_ref().map(|r| r.1.clone()))
                                .or_else(|| {
                                    snap.regions
                                        .iter()
                                        .map(|r| r.id.clone())
                                        .find(|r| *r != home)
                                })
                                .unwrap_or_default();
                            match self
                                .scripted_failover(&target, &reason, &drill.summary.started_by)
                                .await
                            {
                                Ok(fid) => {
                                    rec.event(
                                        el(),
                                        EventKind::FailoverConfirmed,
                                        format!("to {target} (scripted, {fid})"),
                                    );
                                    failover = Some((fid, 0, target));
                                }
                                Err(e) => {
                                    break Some(format!("the scripted failover was refused: {e}"))
                                }
                            }
                        }
                    }
                    DecidedBy::Operator => {
                        if let Some(f) = self.failover_since(start_wall, &home).await {
                            let at = f.requested_at.saturating_sub(start_wall);
                            rec.event(
                                at,
                                EventKind::FailoverConfirmed,
                                format!("to {} by {} ({})", f.target, f.requested_by, f.id),
                            );
                            failover = Some((f.id, 0, f.target));
                        }
                    }
                }
            }
            if let Some((fid, seen, _)) = failover.as_mut() {
                if failover_done.is_none() {
                    match self.follow(fid, seen, &mut rec, t).await {
                        Some(Phase::Completed) => {
                            failover_done = Some(t);
                            back_at = Some(t);
                            rec.event(
                                t,
                                EventKind::DevicesBack,
                                format!(
                                    "{} devices online in {}",
                                    self.snapshot().active_region().map_or(0, |r| r.online),
                                    active
                                ),
                            );
                        }
                        Some(Phase::CompletedWithExceptions) => failover_done = Some(t),
                        Some(p) if p.is_final() => {
                            break Some(format!("the failover ended {}", p.as_str()))
                        }
                        _ => {}
                    }
                }
            }

            // The failback, once the failover is done.
            if let Some(done) = failover_done {
                if failback.is_none() {
                    match (&sc.failback, sc.failover.by) {
                        (Some(fb), DecidedBy::Script) => {
                            let outage_end = faults.first().map_or(0, |f| f.2 + f.3);
                            if t >= outage_end.max(done) + fb.after_secs * 1_000 {
                                match self
                                    .scripted_failover(&home, &reason, &drill.summary.started_by)
                                    .await
                                {
                                    Ok(fid) => {
                                        rec.event(
                                            el(),
                                            EventKind::FailbackConfirmed,
                                            format!("back to {home} (scripted, {fid})"),
                                        );
                                        failback = Some((fid, 0));
                                    }
                                    Err(e) => {
                                        break Some(format!(
                                            "the scripted failback was refused: {e}"
                                        ))
                                    }
                                }
                            }
                        }
                        (_, DecidedBy::Operator) => {
                            let from = failover.as_ref().map(|f| f.2.clone()).unwrap_or_default();
                            if let Some(f) = self
                                .failover_since(start_wall, &from)
                                .await
                                .filter(|f| f.target == home)
                            {
                                rec.event(
                                    f.requested_at.saturating_sub(start_wall),
                                    EventKind::FailbackConfirmed,
                                    format!("back to {home} by {} ({})", f.requested_by, f.id),
                                );
                                failback = Some((f.id, 0));
                            }
                        }
                        _ => {}
                    }
                }
            }
            if let Some((fid, seen)) = failback.as_mut() {
                if !failback_done {
                    if let Some(p) = self
                        .follow(fid, seen, &mut rec, t)
                        .await
                        .filter(|p| p.is_final())
                    {
                        failback_done = true;
                        rec.event(
                            t,
                            EventKind::FailbackDone,
                            format!("failback {}", p.as_str()),
                        );
                    }
                }
            }

            if let Some(base) = baseline_backlog.filter(|_| disrupted) {
                if backlog > base {
                    peaked = true;
                } else if peaked && !drained {
                    drained = true;
                    rec.event(
                        t,
                        EventKind::BacklogDrained,
                        format!("{backlog} messages waiting"),
                    );
                }
            }
            if !probed && back_at.is_some_and(|b| t >= b + PROBE_AFTER_BACK_MS) {
                probed = true;
                self.probe(t, &mut rec).await;
            }
            if last_save.elapsed() >= SAVE_EVERY {
                last_save = Instant::now();
                drill.recording = rec.clone();
                let row = drill.clone();
                if let Err(e) = self.inner.store.run(move |s| s.drill_save(&row)).await {
                    tracing::warn!("drill {id}: could not save progress: {e}");
                }
            }
        };
        let t = el();
        if !probed && aborted.is_none() {
            self.probe(t, &mut rec).await;
        }
        match &aborted {
            Some(why) => rec.event(t, EventKind::Aborted, why.clone()),
            None => rec.event(
                t,
                EventKind::Ended,
                format!("{} active", self.active_region().unwrap_or_default()),
            ),
        }
        rec.events.sort_by_key(|e| e.t_ms);
        (rec, aborted)
    }

    /// Requests a failover for the script, through every guard an operator's passes: the
    /// confirmation, the preflight (warnings are not overridden), the one-at-a-time lock.
    async fn scripted_failover(
        &self,
        target: &str,
        reason: &str,
        operator: &str,
    ) -> Result<String, String> {
        let req = FailoverRequest {
            target: target.to_string(),
            confirm: target.to_string(),
            reason: reason.to_string(),
            override_warnings: false,
        };
        self.request_failover(req, operator)
            .await
            .map(|f| f.id)
            .map_err(|e| format!("{e:?}"))
    }

    /// The first failover requested since `since` away from `from`.
    async fn failover_since(
        &self,
        since: UnixMs,
        from: &str,
    ) -> Option<switchyard_core::failover::Failover> {
        let from = from.to_string();
        self.inner
            .store
            .run(move |s| s.failovers_recent(5))
            .await
            .ok()?
            .into_iter()
            .filter(|f| f.requested_at >= since && f.source == from)
            .min_by_key(|f| f.requested_at)
    }

    /// Records the steps of failover `id` that ended since the last look; returns its phase.
    async fn follow(
        &self,
        id: &str,
        seen: &mut usize,
        rec: &mut Recording,
        t: u64,
    ) -> Option<Phase> {
        let f = self.failover(id).await.ok().flatten()?;
        for s in f
            .steps
            .iter()
            .skip(*seen)
            .take_while(|s| s.finished_at.is_some())
        {
            rec.event(
                t,
                EventKind::Step,
                format!(
                    "{}: {} — {}",
                    s.step,
                    s.outcome.as_deref().unwrap_or("?"),
                    s.detail
                ),
            );
            *seen += 1;
        }
        Some(f.phase)
    }

    /// Records how much of the fleet a ping would reach now (a preview: a drill sends nothing
    /// to a live fleet), or why that could not be worked out.
    async fn probe(&self, t: u64, rec: &mut Recording) {
        let (mut targeted, mut reached) = (0, 0);
        for region in self.snapshot().regions.into_iter().map(|r| r.id) {
            let req = CommandRequest {
                command: "ping".into(),
                payload: serde_json::json!({}),
                target: Target::Region { code: region },
                offline: OfflinePolicy::Skip,
                reason: String::new(),
            };
            match self.preview_command(&req).await {
                Ok(p) => {
                    targeted += p.total;
                    reached += p.publish;
                }
                // A region with no device in it has nothing to reach.
                Err(CommandError::Invalid(m)) if m.contains("no device matches") => {}
                Err(e) => {
                    rec.event(
                        t,
                        EventKind::CommandProbe,
                        format!("no probe: {}", e.message()),
                    );
                    return;
                }
            }
        }
        rec.event(
            t,
            EventKind::CommandProbe,
            format!("ping would reach {reached} of {targeted} devices"),
        );
        rec.probe = Some(Probe {
            t_ms: t,
            targeted,
            reached,
        });
    }
}

impl From<QueryError> for DrillError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::Invalid(m) => DrillError::Invalid(m),
            QueryError::NotFound(m) => DrillError::NotFound(m),
            QueryError::Unavailable(m) => DrillError::Failed(m),
        }
    }
}
