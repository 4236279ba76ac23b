//! The live drill runner: real time, on the running console. It injects the scenario's faults
//! into the live simulated fleet, requests the scripted failover (or watches for an
//! operator's) through every guard a real one passes, follows its steps, and previews the
//! command probe; it feeds what it sees to `switchyard_core::drills::DrillObserver`, which keeps
//! the record and says when the script acts.
//!
//! Rules kept here: the recommendation, the failover and the probe are the console's own,
//! never a copy of their rules; a live drill sends nothing to the fleet (the probe is a
//! preview); its record is saved every few seconds so the page can follow it.

use crate::engine::Engine;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use switchyard_core::commands::{CommandRequest, OfflinePolicy, Target};
use switchyard_core::drills::{
    DecidedBy, Decision, Drill, DrillObserver, DrillSample, EventKind, ObserverSettings, Probe,
    Recording, Tick,
};
use switchyard_core::failover::{FailoverRequest, Phase};
use switchyard_core::fault::FaultSpec;
use switchyard_core::{RegionId, UnixMs};
use tokio::time::Instant;

/// A live drill saves its record this often while it runs, so the page can follow it.
const SAVE_EVERY: Duration = Duration::from_secs(3);

impl Engine {
    /// The live runner: real time, the console's own failover, recommendation and probe;
    /// the record and the script's timing are the observer's. Returns the record and, when it
    /// stopped early, why.
    pub(super) async fn run_live(
        &self,
        drill: &mut Drill,
        stop: &AtomicBool,
    ) -> (Recording, Option<String>) {
        let sc = drill.scenario.clone();
        let id = drill.summary.id.clone();
        let operator = drill.summary.started_by.clone();
        let started = Instant::now();
        let start_wall = drill.summary.started_at;
        let el = || started.elapsed().as_millis() as u64;
        let home = self.active_region().unwrap_or_default();
        let regions: Vec<RegionId> = self.snapshot().regions.into_iter().map(|r| r.id).collect();
        let settings = ObserverSettings {
            // The snapshot's health already is the console's verdict.
            unanswered_after_ms: 0,
            max_samples: None,
        };
        let mut obs = DrillObserver::new(&sc, &regions, &home, settings);
        obs.event(0, EventKind::Started, format!("live drill, {home} active"));
        let reason = format!("DRILL {id} ({})", sc.name.trim());
        // The failover's id, the steps recorded so far, and its target; the failback's.
        let mut failover: Option<(String, usize, RegionId)> = None;
        let mut failback: Option<(String, usize)> = None;
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
            for i in obs.faults_due(t) {
                let f = obs.faults()[i].clone();
                let spec = FaultSpec {
                    region: f.region,
                    kind: f.kind,
                    start_secs: 0,
                    duration_secs: Some(f.duration_ms / 1_000),
                };
                match self.inject_fault(&operator, &reason, spec).await {
                    Ok(_) => obs.fault_injected(i, el()),
                    Err(e) => {
                        fault_error = Some(format!("the {} could not be injected: {e:?}", f.kind));
                        break;
                    }
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
            obs.sample(DrillSample {
                t_ms: t,
                active: active.clone(),
                online: snap
                    .regions
                    .iter()
                    .map(|r| (r.id.clone(), r.online))
                    .collect(),
                backlog,
                dropped: snap.regions.iter().map(|r| r.backlog.dropped).sum(),
            });
            obs.observe(&Tick {
                t_ms: t,
                active: &active,
                active_health: snap.active_region().map(|r| r.health.status),
                online_total: snap.regions.iter().map(|r| r.online).sum(),
                backlog,
            });
            if obs.wants_recommendation() {
                if let Ok(o) = self.failover_overview().await {
                    obs.recommendation(t, o.recommendation.as_ref());
                }
            }

            // The failover: the script requests it, or an operator does and the drill sees it.
            if obs.awaiting_failover() {
                match obs.decision(t) {
                    Some(Decision::FailOver { to }) => {
                        match self.scripted_failover(&to, &reason, &operator).await {
                            Ok(fid) => {
                                obs.failover_confirmed(el(), format!("to {to} (scripted, {fid})"));
                                failover = Some((fid, 0, to));
                            }
                            Err(e) => {
                                break Some(format!("the scripted failover was refused: {e}"))
                            }
                        }
                    }
                    _ if sc.failover.by == DecidedBy::Operator => {
                        if let Some(f) = self.failover_since(start_wall, &home).await {
                            obs.failover_confirmed(
                                f.requested_at.saturating_sub(start_wall),
                                format!("to {} by {} ({})", f.target, f.requested_by, f.id),
                            );
                            failover = Some((f.id, 0, f.target));
                        }
                    }
                    _ => {}
                }
            }
            if let Some((fid, seen, to)) = failover.as_mut() {
                if !obs.failover_done() {
                    // The reconnection curve, as the simulated runner keeps it.
                    let online = |r: &str| {
                        snap.regions
                            .iter()
                            .find(|x| x.id == r)
                            .map_or(0, |x| x.online)
                    };
                    obs.curve_point(t, online(&home), online(to));
                    match self.follow(fid, seen, &mut obs, t).await {
                        Some(p @ (Phase::Completed | Phase::CompletedWithExceptions)) => {
                            let online = self.snapshot().active_region().map_or(0, |r| r.online);
                            obs.failover_ended(t, p, online, &active);
                        }
                        Some(p) if p.is_final() => {
                            // Said the same way as in a simulated drill: the failover failed, why.
                            let why = match self.failover(fid).await {
                                Ok(Some(f)) => f.outcome.unwrap_or_default(),
                                _ => String::new(),
                            };
                            let ended = format!("the failover ended {}", p.as_str());
                            let ended = if why.is_empty() {
                                ended
                            } else {
                                format!("{ended}: {why}")
                            };
                            obs.failover_failed(t, ended.clone());
                            break Some(ended);
                        }
                        _ => {}
                    }
                }
            }

            // The failback, once the failover is done.
            if obs.awaiting_failback() {
                match obs.decision(t) {
                    Some(Decision::FailBack { to }) => {
                        match self.scripted_failover(&to, &reason, &operator).await {
                            Ok(fid) => {
                                obs.failback_confirmed(
                                    el(),
                                    format!("back to {to} (scripted, {fid})"),
                                );
                                failback = Some((fid, 0));
                            }
                            Err(e) => {
                                break Some(format!("the scripted failback was refused: {e}"))
                            }
                        }
                    }
                    _ if sc.failover.by == DecidedBy::Operator => {
                        let from = failover.as_ref().map(|f| f.2.clone()).unwrap_or_default();
                        if let Some(f) = self
                            .failover_since(start_wall, &from)
                            .await
                            .filter(|f| f.target == home)
                        {
                            obs.failback_confirmed(
                                f.requested_at.saturating_sub(start_wall),
                                format!("back to {home} by {} ({})", f.requested_by, f.id),
                            );
                            failback = Some((f.id, 0));
                        }
                    }
                    _ => {}
                }
            }
            let failback_ended = match failback.as_mut() {
                Some((fid, seen)) => self
                    .follow(fid, seen, &mut obs, t)
                    .await
                    .filter(|p| p.is_final()),
                None => None,
            };
            if let Some(p) = failback_ended {
                failback = None;
                obs.failback_ended(t, format!("failback {}", p.as_str()));
            }

            if obs.probe_due(t) {
                self.probe(t, &mut obs).await;
            }
            if last_save.elapsed() >= SAVE_EVERY {
                last_save = Instant::now();
                drill.recording = obs.recording().clone();
                let row = drill.clone();
                if let Err(e) = self.inner.store.run(move |s| s.drill_save(&row)).await {
                    tracing::warn!("drill {id}: could not save progress: {e}");
                }
            }
        };
        let t = el();
        if aborted.is_none() && obs.probe_due(t) {
            self.probe(t, &mut obs).await;
        }
        let active = self.active_region().unwrap_or_default();
        (obs.finish(t, aborted.as_deref(), &active), aborted)
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
        match self.request_failover(req, operator).await {
            Ok(switchyard_core::failover::Requested::Started(f)) => Ok(f.id),
            Ok(switchyard_core::failover::Requested::NothingToDo(m)) => Err(m),
            Err(e) => Err(e.to_string()),
        }
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
        obs: &mut DrillObserver,
        t: u64,
    ) -> Option<Phase> {
        let f = self.failover(id).await.ok().flatten()?;
        for s in f
            .steps
            .iter()
            .skip(*seen)
            .take_while(|s| s.finished_at.is_some())
        {
            obs.step(
                t,
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
    async fn probe(&self, t: u64, obs: &mut DrillObserver) {
        let (mut targeted, mut reached) = (0, 0);
        for region in self.snapshot().regions.into_iter().map(|r| r.id) {
            let req = CommandRequest {
                command: "ping".into(),
                payload: serde_json::json!({}),
                target: Target::Region { code: region },
                offline: OfflinePolicy::Skip,
                reason: String::new(),
                confirm_count: None,
            };
            match self.preview_command_if_any(&req).await {
                Ok(Some(p)) => {
                    targeted += p.total;
                    reached += p.publish;
                }
                // A region with no device in it has nothing to reach.
                Ok(None) => {}
                Err(e) => {
                    obs.probed(t, format!("no probe: {}", e.message), None);
                    return;
                }
            }
        }
        let probe = Probe {
            t_ms: t,
            targeted,
            reached,
        };
        let detail = format!("ping would reach {reached} of {targeted} devices");
        obs.probed(t, detail, Some(probe));
    }
}
