//! Failover and failback: the preflight, the recommendation, the guarded request, and the run
//! that switches traffic, tells devices to reconnect and watches them come back.
//!
//! Rules kept here:
//! - the console recommends, an operator decides: nothing here starts a failover by itself;
//! - one failover at a time: the store's lock, not a flag in memory;
//! - every step is journalled before it starts and after it ends, so a restart resumes from
//!   the journal (a step left unfinished is said so, and repeated only if it is idempotent);
//! - no step needs the region being left: it may be dead.

use super::audit;
use super::{Engine, Error};
use crate::ports::TrafficSwitch;
use crate::store::StoreError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::api::FleetEvent;
use switchyard_core::failover::{
    confirm, next, readiness, recommend, Check, Event, Failover, FailoverOverview, FailoverRequest,
    Phase, Readiness, ReadinessFacts, ReadinessPolicy, Verdict,
};
use switchyard_core::{HealthStatus, RegionRole, UnixMs};

/// How failovers run.
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverConfig {
    /// The active region must be unhealthy this long before a failover is recommended.
    pub recommend_after: Duration,
    /// The share of previously online devices back in the target that completes a failover.
    pub complete_share: f64,
    /// How long to watch devices come back before "completed with exceptions".
    pub verify_timeout: Duration,
    /// Tell devices still on the old region to reconnect after the switch.
    pub reconnect_devices: bool,
    /// A second operator must approve each failover.
    pub two_person_rule: bool,
    /// How often the standby regions' preflight is refreshed.
    pub readiness_every: Duration,
    /// Upper bound on the traffic switch, retries included.
    pub switch_timeout: Duration,
    pub policy: ReadinessPolicy,
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            recommend_after: Duration::from_secs(60),
            complete_share: 0.95,
            verify_timeout: Duration::from_secs(600),
            reconnect_devices: true,
            two_person_rule: false,
            readiness_every: Duration::from_secs(30),
            switch_timeout: Duration::from_secs(20),
            policy: ReadinessPolicy::default(),
        }
    }
}

/// What the engine remembers between polls for failovers.
#[derive(Default)]
pub(super) struct FailoverState {
    /// The latest facts gathered about each non-active region (or why they could not be);
    /// the verdict is worked out anew from them with the current health at every read.
    readiness: BTreeMap<String, (UnixMs, Result<ReadinessFacts, String>)>,
    /// Since when the active region has been unhealthy.
    pub(super) unhealthy_since: Option<UnixMs>,
    /// The failover whose run task is alive in this process.
    running: Option<String>,
}

/// What a failover request came to when it was not refused.
pub use switchyard_core::failover::Requested;

const RECENT: u32 = 10;

impl Engine {
    pub(super) fn switch(&self) -> Result<Arc<dyn TrafficSwitch>, Error> {
        self.inner
            .switch
            .clone()
            .ok_or_else(|| Error::invalid("this fleet source cannot move traffic"))
    }

    fn failover_state(&self) -> std::sync::MutexGuard<'_, FailoverState> {
        self.inner
            .failover
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The active region now.
    pub fn active_region(&self) -> Option<String> {
        self.snapshot().active_region().map(|r| r.id.clone())
    }

    /// The preflight of a failover from the active region to `target`.
    pub async fn readiness(&self, target: &str) -> Result<Readiness, Error> {
        let snap = self.snapshot();
        let Some(region) = snap.regions.iter().find(|r| r.id == target) else {
            return Err(Error::malformed(format!(
                "target: {target} is not a configured region"
            )));
        };
        let active = snap
            .active_region()
            .map(|r| r.id.clone())
            .ok_or_else(|| Error::unavailable("no region is active"))?;
        if active == target {
            return Err(Error::malformed(format!(
                "target: {target} is the active region already"
            )));
        }
        let switch = self
            .switch()
            .map_err(|_| Error::unavailable("this fleet source cannot move traffic"))?;
        let current = self
            .inner
            .store
            .run(|s| s.failover_current())
            .await
            .map_err(|e| Error::unavailable(e.to_string()))?;
        let timeout = self.inner.cfg.poll_timeout * 2;
        let facts =
            match tokio::time::timeout(timeout, switch.readiness_facts(&active, target)).await {
                Ok(Ok(f)) => f,
                Ok(Err(e)) => {
                    self.failover_state()
                        .readiness
                        .insert(target.to_string(), (self.now(), Err(e.0.clone())));
                    return Ok(unanswered(target, &e.0));
                }
                Err(_) => {
                    let why = format!("no answer within {} ms", timeout.as_millis());
                    self.failover_state()
                        .readiness
                        .insert(target.to_string(), (self.now(), Err(why.clone())));
                    return Ok(unanswered(target, &why));
                }
            };
        let facts = ReadinessFacts {
            target_health: region.health.status,
            failover_in_progress: current.map(|f| f.id),
            ..facts
        };
        let r = readiness(&facts, &self.inner.cfg.failover.policy);
        self.failover_state()
            .readiness
            .insert(target.to_string(), (self.now(), Ok(facts)));
        Ok(r)
    }

    /// The preflight from facts gathered less than `readiness_every` ago (what the operator was
    /// shown), with the target's health and the lock as they are now; `None` when there are no
    /// such facts. Saves a confirmation the dozen calls of a fresh gathering.
    fn cached_preflight(
        &self,
        target: &str,
        snap: &switchyard_core::FleetSnapshot,
    ) -> Option<Readiness> {
        let max_age = self.inner.cfg.failover.readiness_every.as_millis() as u64;
        let st = self.failover_state();
        let (at, facts) = st.readiness.get(target)?;
        let facts = facts.as_ref().ok()?;
        if self.now().saturating_sub(*at) > max_age {
            return None;
        }
        let f = ReadinessFacts {
            target_health: snap
                .regions
                .iter()
                .find(|r| r.id == target)
                .map_or(HealthStatus::Unknown, |r| r.health.status),
            // The store's lock is checked before and taken after: a stale "none" is harmless.
            failover_in_progress: None,
            ..facts.clone()
        };
        Some(readiness(&f, &self.inner.cfg.failover.policy))
    }

    /// Refreshes the preflight of every non-active region (a background job).
    pub(super) async fn refresh_readiness(&self) {
        let snap = self.snapshot();
        let active = snap.active_region().map(|r| r.id.clone());
        for r in snap
            .regions
            .iter()
            .filter(|r| Some(&r.id) != active.as_ref())
        {
            if let Err(e) = self.readiness(&r.id).await {
                tracing::debug!(target = r.id, "readiness: {e:?}");
            }
        }
        let mut st = self.failover_state();
        st.readiness.retain(|k, _| Some(k) != active.as_ref());
    }

    /// What the failover panel shows: the standbys' preflights, the recommendation if any, the
    /// failover under way and the recent ones.
    pub async fn failover_overview(&self) -> Result<FailoverOverview, Error> {
        let (current, recent) = self
            .inner
            .store
            .run(|s| Ok((s.failover_current()?, s.failovers_recent(RECENT)?)))
            .await
            .map_err(|e| Error::unavailable(e.to_string()))?;
        let snap = self.snapshot();
        let now = self.now();
        let active = snap.active_region().cloned();
        let (readiness, since) = {
            let st = self.failover_state();
            // In the configured order of the regions: the first is the preferred standby.
            let list = snap
                .regions
                .iter()
                .filter_map(|r| st.readiness.get_key_value(&r.id))
                .filter(|(t, _)| active.as_ref().is_none_or(|a| a.id != **t))
                .map(|(t, (_, facts))| match facts {
                    Ok(f) => {
                        // The region's health and the lock as they are now.
                        let f = ReadinessFacts {
                            target_health: snap
                                .regions
                                .iter()
                                .find(|r| r.id == *t)
                                .map_or(HealthStatus::Unknown, |r| r.health.status),
                            failover_in_progress: current.as_ref().map(|c| c.id.clone()),
                            ..f.clone()
                        };
                        readiness(&f, &self.inner.cfg.failover.policy)
                    }
                    Err(why) => unanswered(t, why),
                })
                .collect::<Vec<_>>();
            (list, st.unhealthy_since)
        };
        let recommendation = match (&active, &current) {
            (Some(a), None) => recommend(
                &a.id,
                a.health.status,
                since,
                now,
                self.inner.cfg.failover.recommend_after.as_millis() as u64,
                &readiness,
            ),
            _ => None,
        };
        Ok(FailoverOverview {
            server_time: now,
            active: active.map(|a| a.id),
            readiness,
            recommendation,
            current,
            recent,
            two_person_rule: self.inner.cfg.failover.two_person_rule,
        })
    }

    /// One failover by id.
    pub async fn failover(&self, id: &str) -> Result<Option<Failover>, Error> {
        let id = id.to_string();
        self.inner
            .store
            .run(move |s| s.failover(&id))
            .await
            .map_err(|e| Error::unavailable(e.to_string()))
    }

    /// Requests a failover (or failback) to `req.target`. Checks the confirmation against a
    /// fresh preflight, takes the one-at-a-time lock, audits, and starts the run (or waits for
    /// approval under the two-person rule).
    pub async fn request_failover(
        &self,
        req: FailoverRequest,
        operator: &str,
    ) -> Result<Requested, Error> {
        self.switch()?;
        let snap = self.snapshot();
        if !snap.regions.iter().any(|r| r.id == req.target) {
            return Err(Error::invalid(format!(
                "target: {} is not a configured region",
                req.target
            )));
        }
        let active = snap
            .active_region()
            .cloned()
            .ok_or_else(|| Error::internal("no region is active"))?;
        if active.id == req.target {
            return Ok(Requested::NothingToDo(format!(
                "{} is already the active region: there is nothing to do",
                req.target
            )));
        }
        // One at a time: the store's lock is taken below, atomically with the insert; a
        // request that loses says which failover holds it.
        let pre = match self.cached_preflight(&req.target, &snap) {
            Some(pre) => pre,
            None => self
                .readiness(&req.target)
                .await
                .map_err(|e| Error::internal(e.to_string()))?,
        };
        // Lost a race with another request: say so as the conflict it is.
        if let Some(c) = pre
            .checks
            .iter()
            .find(|c| c.name == "no other failover" && c.verdict == Verdict::Fail)
        {
            return Err(Error::conflict(format!(
                "{}: one at a time",
                c.reasons.join("; ")
            )));
        }
        confirm(&req, &active.id, &pre).map_err(Error::invalid)?;
        let now = self.now();
        let cfg = &self.inner.cfg.failover;
        let f = Failover {
            id: format!("fo-{now}"),
            source: active.id.clone(),
            target: req.target.clone(),
            reason: req.reason.trim().to_string(),
            requested_by: operator.to_string(),
            approved_by: None,
            phase: if cfg.two_person_rule {
                Phase::AwaitingApproval
            } else {
                Phase::SwitchingTraffic
            },
            preflight: pre,
            online_before: active.online,
            back: 0,
            complete_share: cfg.complete_share,
            requested_at: now,
            updated_at: now,
            ended_at: None,
            outcome: None,
            steps: vec![],
        };
        let detail = serde_json::json!({
            "failover": f.id,
            "from": f.source,
            "to": f.target,
            "preflight": f.preflight.overall,
            "override_warnings": req.override_warnings,
        })
        .to_string();
        let row = f.clone();
        let act = audit::Act::new(operator, "failover.request", f.reason.clone(), detail);
        let clock = self.clock();
        let inserted = self
            .inner
            .store
            .run(move |s| {
                audit::within(s, &*clock, &act, |s, _| {
                    let r = match s.failover_insert(&row) {
                        Ok(()) => Ok(()),
                        Err(StoreError::FailoverLocked { holder }) => Err(holder),
                        Err(e) => return Err(e),
                    };
                    let result = match &r {
                        Ok(()) => format!("ok: {}", row.id),
                        Err(other) => format!("refused: failover {other} is in progress"),
                    };
                    Ok(audit::Done::new(r, result))
                })
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        if let Err(other) = inserted {
            return Err(Error::conflict(format!(
                "failover {other} is in progress: one at a time"
            )));
        }
        self.publish_failover(&f);
        if f.phase != Phase::AwaitingApproval {
            self.spawn_run(f.clone());
        }
        Ok(Requested::Started(Box::new(f)))
    }

    /// A second operator approves a failover waiting under the two-person rule.
    pub async fn approve_failover(&self, id: &str, operator: &str) -> Result<Failover, Error> {
        let mut f = self.load(id).await?;
        if f.phase != Phase::AwaitingApproval {
            return Err(Error::invalid(format!(
                "failover {id} is not waiting for approval ({})",
                f.phase.as_str()
            )));
        }
        if f.requested_by == operator {
            return Err(Error::invalid(format!(
                "the two-person rule: {operator} requested failover {id}; another operator must approve it"
            )));
        }
        f.phase = next(f.phase, &Event::Approved, f.complete_share).map_err(Error::invalid)?;
        f.approved_by = Some(operator.to_string());
        self.audited_update(&f, operator, "failover.approve", "approved")
            .await?;
        self.spawn_run(f.clone());
        Ok(f)
    }

    /// Cancels a failover that is still waiting for approval.
    pub async fn cancel_failover(&self, id: &str, operator: &str) -> Result<Failover, Error> {
        let mut f = self.load(id).await?;
        f.phase = next(f.phase, &Event::Cancel, f.complete_share).map_err(Error::invalid)?;
        f.ended_at = Some(self.now());
        f.outcome = Some(format!("cancelled by {operator}"));
        self.audited_update(&f, operator, "failover.cancel", "cancelled")
            .await?;
        Ok(f)
    }

    async fn load(&self, id: &str) -> Result<Failover, Error> {
        let key = id.to_string();
        self.inner
            .store
            .run(move |s| s.failover(&key))
            .await
            .map_err(|e| Error::internal(e.to_string()))?
            .ok_or_else(|| Error::not_found(format!("no failover {id}")))
    }

    async fn audited_update(
        &self,
        f: &Failover,
        operator: &str,
        action: &str,
        result: &str,
    ) -> Result<(), Error> {
        let mut row = f.clone();
        row.updated_at = self.now();
        let result = result.to_string();
        let detail = serde_json::json!({ "failover": f.id }).to_string();
        let act = audit::Act::new(operator, action, row.reason.clone(), detail);
        let saved = row.clone();
        let clock = self.clock();
        self.inner
            .store
            .run(move |s| {
                audit::within(s, &*clock, &act, |s, _| {
                    s.failover_update(&row)?;
                    Ok(audit::Done::new((), result))
                })
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        self.publish_failover(&saved);
        Ok(())
    }

    fn publish_failover(&self, f: &Failover) {
        let _ = self
            .inner
            .events
            .send(FleetEvent::Failover(Box::new(f.clone())));
    }

    /// Picks up a failover left under way by a previous process (called at start).
    pub(super) async fn resume_failover(&self) {
        match self.inner.store.run(|s| s.failover_current()).await {
            Ok(Some(f)) if f.phase != Phase::AwaitingApproval => {
                tracing::warn!(
                    id = f.id,
                    phase = f.phase.as_str(),
                    "resuming a failover after a restart"
                );
                self.spawn_run(f.clone());
            }
            Ok(_) => {}
            Err(e) => tracing::error!("could not read the failover journal: {e}"),
        }
    }

    fn spawn_run(&self, f: Failover) {
        let id = f.id.clone();
        {
            let mut st = self.failover_state();
            if st.running.as_deref() == Some(&id) {
                return;
            }
            st.running = Some(id.clone());
        }
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.run_failover(f).await {
                tracing::error!(id, "failover run stopped: {e:?}");
            }
            let mut st = engine.failover_state();
            if st.running.as_deref() == Some(&id) {
                st.running = None;
            }
        });
    }

    /// Journals a step's start, runs it, journals its end; returns the step's result.
    async fn step<T>(
        &self,
        id: &str,
        name: &str,
        work: impl std::future::Future<Output = Result<(T, String), (String, String)>>,
    ) -> Result<Result<T, String>, Error> {
        let (fid, n, at) = (id.to_string(), name.to_string(), self.now());
        let step = self
            .inner
            .store
            .run(move |s| s.step_begin(&fid, &n, at))
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        let (result, outcome, detail) = match work.await {
            Ok((v, detail)) => (Ok(v), "ok".to_string(), detail),
            Err((outcome, detail)) => (Err(detail.clone()), outcome, detail),
        };
        let at = self.now();
        self.inner
            .store
            .run(move |s| s.step_finish(step, at, &outcome, &detail))
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        Ok(result)
    }

    async fn save(&self, f: &mut Failover) -> Result<(), Error> {
        f.updated_at = self.now();
        if f.phase.is_final() && f.ended_at.is_none() {
            f.ended_at = Some(f.updated_at);
        }
        let row = f.clone();
        self.inner
            .store
            .run(move |s| s.failover_update(&row))
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        let fresh = self.load(&f.id).await?;
        self.publish_failover(&fresh);
        *f = fresh;
        Ok(())
    }

    /// Moves a failover through its phases until it ends.
    async fn run_failover(&self, mut f: Failover) -> Result<(), Error> {
        let switch = self.switch()?;
        let id = f.id.clone();
        let id = id.as_str();
        // A step the previous process left unfinished is closed and said so.
        if f.steps.iter().any(|s| s.finished_at.is_none()) {
            let (fid, at) = (f.id.clone(), self.now());
            self.inner
                .store
                .run(move |st| {
                    st.close_open_steps(
                        &fid,
                        at,
                        "the process stopped during this step; the failover resumed from here",
                    )
                })
                .await
                .map_err(|e| Error::internal(e.to_string()))?;
            tracing::warn!(id, "closed a step interrupted by a restart");
            f = self.load(id).await?;
        }
        // Past the switch, the target is the active region whatever the source says at start.
        if matches!(f.phase, Phase::ReconnectingDevices | Phase::Verifying) {
            self.set_active(&f.target);
        }
        let cfg = self.inner.cfg.failover.clone();
        loop {
            match f.phase {
                Phase::SwitchingTraffic => {
                    let target = f.target.clone();
                    let sw = switch.clone();
                    let timeout = cfg.switch_timeout;
                    let r = self
                        .step(&f.id, &format!("switch traffic to {target}"), async move {
                            // Idempotent, so retried: a lost answer is not a lost switch.
                            let mut last = String::new();
                            let started = tokio::time::Instant::now();
                            for attempt in 1..=3u32 {
                                let left = timeout.saturating_sub(started.elapsed());
                                match tokio::time::timeout(left, sw.switch_to(&target)).await {
                                    Ok(Ok(done)) => return Ok(((), done)),
                                    Ok(Err(e)) => last = format!("attempt {attempt}: {}", e.0),
                                    Err(_) => {
                                        last = format!("no answer within {} s", timeout.as_secs());
                                        break;
                                    }
                                }
                                tokio::time::sleep(Duration::from_millis(500 * attempt as u64))
                                    .await;
                            }
                            Err(("failed".to_string(), last))
                        })
                        .await?;
                    match r {
                        Ok(()) => {
                            self.set_active(&f.target);
                            f.phase = next(f.phase, &Event::TrafficSwitched, f.complete_share)
                                .map_err(Error::internal)?;
                        }
                        Err(why) => {
                            f.phase = Phase::Failed;
                            f.outcome = Some(format!("the traffic switch failed: {why}"));
                        }
                    }
                }
                Phase::ReconnectingDevices => {
                    let from = f.source.clone();
                    let sw = switch.clone();
                    let enabled = cfg.reconnect_devices;
                    let timeout = self.inner.cfg.poll_timeout * 4;
                    // Best effort: the old region may be dead, and devices reconnect on their
                    // own when their connection drops. A failure here does not fail the failover.
                    let _ = self
                        .step(
                            &f.id,
                            &format!("tell devices on {from} to reconnect"),
                            async move {
                                if !enabled {
                                    return Err((
                                        "skipped".into(),
                                        "reconnect_devices is off".into(),
                                    ));
                                }
                                match tokio::time::timeout(timeout, sw.reconnect(&from)).await {
                                    Ok(Ok(Some(done))) => Ok(((), done)),
                                    Ok(Ok(None)) => Err((
                                        "skipped".into(),
                                        "this source cannot send commands to devices".into(),
                                    )),
                                    Ok(Err(e)) => Err(("failed".into(), e.0)),
                                    Err(_) => Err(("failed".into(), "no answer in time".into())),
                                }
                            },
                        )
                        .await?;
                    f.phase = next(f.phase, &Event::DevicesToldToReconnect, f.complete_share)
                        .map_err(Error::internal)?;
                }
                Phase::Verifying => {
                    let started = f
                        .steps
                        .iter()
                        .find(|s| s.step.starts_with("verify"))
                        .map_or_else(|| self.now(), |s| s.started_at);
                    let deadline = started + cfg.verify_timeout.as_millis() as u64;
                    let (of, share) = (f.online_before, f.complete_share);
                    let me = self.clone();
                    let target = f.target.clone();
                    let fid = f.id.clone();
                    let r = self
                        .step(
                            &f.id,
                            &format!("verify devices reconnect to {target}"),
                            async move {
                                loop {
                                    let back = me
                                        .snapshot()
                                        .regions
                                        .iter()
                                        .find(|r| r.id == target)
                                        .map_or(0, |r| r.online)
                                        .min(of.max(1) * 2);
                                    if let Ok(mut cur) = me.load(&fid).await {
                                        if cur.back != back {
                                            cur.back = back;
                                            let _ = me.save(&mut cur).await;
                                        }
                                    }
                                    let done = of == 0 || back as f64 / of as f64 >= share;
                                    if done {
                                        return Ok((back, format!("{back} of {of} devices back")));
                                    }
                                    if me.now() >= deadline {
                                        return Err((
                                            "timed out".into(),
                                            format!("{back} of {of} devices back"),
                                        ));
                                    }
                                    tokio::time::sleep(
                                        me.inner.cfg.poll_interval.min(Duration::from_secs(2)),
                                    )
                                    .await;
                                }
                            },
                        )
                        .await?;
                    f = self.load(&f.id).await?;
                    let ev = match &r {
                        Ok(back) => Event::Progress { back: *back, of },
                        Err(_) => Event::TimedOut { back: f.back, of },
                    };
                    if let Ok(back) = r {
                        f.back = back;
                    }
                    f.phase = next(f.phase, &ev, share).map_err(Error::internal)?;
                    if f.phase == Phase::CompletedWithExceptions {
                        f.outcome = Some(format!(
                            "{} of {} devices back in {} after {} s",
                            f.back,
                            of,
                            f.target,
                            cfg.verify_timeout.as_secs()
                        ));
                    }
                }
                Phase::AwaitingApproval => return Ok(()),
                // Ended already (it is not resumed then): nothing to do.
                p if p.is_final() => return Ok(()),
                _ => return Ok(()),
            }
            if f.phase.is_final() {
                // The end is audited before it is published, so whoever sees it ended finds
                // the audit entry too.
                self.audit_end(&f).await?;
                self.save(&mut f).await?;
                return Ok(());
            }
            self.save(&mut f).await?;
        }
    }

    async fn audit_end(&self, f: &Failover) -> Result<(), Error> {
        let detail = serde_json::json!({
            "failover": f.id, "from": f.source, "to": f.target,
            "back": f.back, "of": f.online_before,
        })
        .to_string();
        let outcome = match &f.outcome {
            Some(o) => format!("{}: {o}", f.phase.as_str()),
            None => f.phase.as_str().to_string(),
        };
        let act = audit::Act::new("switchyard", "failover.end", f.reason.clone(), detail);
        let clock = self.clock();
        self.inner
            .store
            .run(move |s| audit::within(s, &*clock, &act, |_, _| Ok(audit::Done::new((), outcome))))
            .await
            .map_err(|e| Error::internal(e.to_string()))
    }

    /// Makes `region` the active region and every other a standby, in the state and the store.
    pub(super) fn set_active(&self, region: &str) {
        let event = {
            let mut state = self.inner.state.write().unwrap_or_else(|p| p.into_inner());
            for r in state.regions.iter_mut() {
                r.role = if r.id == region {
                    RegionRole::Active
                } else {
                    RegionRole::Standby
                };
            }
            state.version += 1;
            FleetEvent::Regions(switchyard_core::api::RegionsResponse::from_snapshot(
                &state,
                self.now(),
            ))
        };
        {
            // Every preflight compared against the old active region: gather them anew.
            let mut st = self.failover_state();
            st.unhealthy_since = None;
            st.readiness.clear();
        }
        let e = self.clone();
        tokio::spawn(async move { e.refresh_readiness().await });
        let _ = self.inner.events.send(event);
        if let Err(e) = self.inner.store.state_set("active_region", region) {
            tracing::error!("could not record the active region: {e}");
        }
    }

    /// Notes the active region's health after a poll, for the recommendation.
    pub(super) fn note_active_health(&self, status: HealthStatus, at: UnixMs) {
        let mut st = self.failover_state();
        match status {
            HealthStatus::Unreachable | HealthStatus::Degraded => {
                st.unhealthy_since.get_or_insert(at);
            }
            _ => st.unhealthy_since = None,
        }
    }
}

/// The preflight of a target whose facts could not be gathered.
fn unanswered(target: &str, why: &str) -> Readiness {
    Readiness {
        target: target.to_string(),
        overall: Verdict::Fail,
        checks: vec![Check {
            name: "facts".into(),
            verdict: Verdict::Fail,
            reasons: vec![format!("could not gather the facts of {target}: {why}")],
        }],
    }
}
