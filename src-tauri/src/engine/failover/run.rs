//! The run of a failover: switch traffic, move the devices left on the old region
//! (`stragglers.rs`), verify they come back;
//! each step journalled; the end audited; a failover left under way resumed after a restart.
//!
//! Rules kept here:
//! - every step is journalled before it starts and after it ends; a step a stopped process left
//!   unfinished is closed and said so, and the run resumes from the journal;
//! - only the idempotent traffic switch is retried, within `switch_timeout`, and only when its
//!   answer was lost: a refusal (an ARC safety rule, a permission) fails the step as it stands;
//! - no step needs the region being left: moving the stragglers is best effort and never
//!   fails the failover;
//! - one run task per failover in this process;
//! - the end is audited before it is published, so whoever sees it ended finds the entry too;
//! - no lock is held across an await.

use crate::engine::audit;
use crate::engine::{Engine, Error};
use crate::ports::SwitchError;
use std::time::Duration;
use switchyard_core::api::FleetEvent;
use switchyard_core::failover::{next, Event, Failover, Phase};
use switchyard_core::RegionRole;

/// Whether a step that succeeded did something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Worked {
    Did,
    /// It found nothing to do (no device to move, none to wait for).
    NothingToDo,
}

impl Worked {
    /// The step's outcome in the journal.
    pub(super) fn outcome(self) -> &'static str {
        match self {
            Worked::Did => "ok",
            Worked::NothingToDo => "nothing_to_do",
        }
    }
}

impl Engine {
    /// Picks up a failover left under way by a previous process (called at start).
    pub(in crate::engine) async fn resume_failover(&self) {
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

    pub(super) fn spawn_run(&self, f: Failover) {
        let id = f.id.clone();
        {
            let mut st = self.failover_state();
            if st.running.as_deref() == Some(&id) {
                return;
            }
            st.running = Some(id.clone());
            // This console moves the traffic now: an earlier move found outside it is history.
            st.moved_outside = None;
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

    /// Journals a step's start, runs it, journals its end ("ok"); returns the step's result.
    pub(super) async fn step<T>(
        &self,
        id: &str,
        name: &str,
        work: impl std::future::Future<Output = Result<(T, String), (String, String)>>,
    ) -> Result<Result<T, String>, Error> {
        self.step_said(id, name, async move {
            work.await.map(|(v, detail)| (v, detail, Worked::Did))
        })
        .await
    }

    /// As [`Engine::step`], for a step that may find nothing to do: then its outcome is
    /// "nothing_to_do", never "ok".
    pub(super) async fn step_said<T>(
        &self,
        id: &str,
        name: &str,
        work: impl std::future::Future<Output = Result<(T, String, Worked), (String, String)>>,
    ) -> Result<Result<T, String>, Error> {
        let (fid, n, at) = (id.to_string(), name.to_string(), self.now());
        let step = self
            .inner
            .store
            .run(move |s| s.step_begin(&fid, &n, at))
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        let (result, outcome, detail) = match work.await {
            Ok((v, detail, worked)) => (Ok(v), worked.outcome().to_string(), detail),
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

    pub(super) async fn save(&self, f: &mut Failover) -> Result<(), Error> {
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
                                    // Said no (a safety rule, a permission): again is no.
                                    Ok(Err(SwitchError::Refused(why))) => {
                                        return Err((
                                            "failed".to_string(),
                                            format!("refused: {why}"),
                                        ))
                                    }
                                    Ok(Err(SwitchError::Unanswered(why))) => {
                                        last = format!("attempt {attempt}: {why}")
                                    }
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
                            f.switched_at = Some(self.now());
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
                    self.move_stragglers(&mut f).await?;
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
                    let source = f.source.clone();
                    let fid = f.id.clone();
                    let r = self
                        .step_said(
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
                                    if of == 0 {
                                        return Ok((
                                            back,
                                            format!("no device was online in {source} to wait for"),
                                            Worked::NothingToDo,
                                        ));
                                    }
                                    if done {
                                        return Ok((
                                            back,
                                            format!("{back} of {of} devices back"),
                                            Worked::Did,
                                        ));
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
                self.inner.metrics.failover_ended(f.phase);
                // The incident it answered may close now.
                self.review_incident().await;
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
            st.epoch += 1;
        }
        let e = self.clone();
        tokio::spawn(async move { e.refresh_readiness().await });
        let _ = self.inner.events.send(event);
        if let Err(e) = self.inner.store.state_set("active_region", region) {
            tracing::error!("could not record the active region: {e}");
        }
    }
}
