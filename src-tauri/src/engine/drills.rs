//! Disaster-recovery drills: started, recorded, measured and kept.
//!
//! Two runners fill the same [`Recording`]:
//! - *simulated*: [`crate::sim::drill::run`] on a seeded fleet of the drill's own, in simulated
//!   time (a ten-minute scenario takes a fraction of a second);
//! - *live*: [`live`]'s loop on the running console, in real time. It injects the
//!   scenario's outage into the live simulated fleet (never on AWS: there a live drill is a
//!   practice failover and failback), and the failover is the console's own, requested with a
//!   reason that starts with "DRILL", through every guard a real one passes (preflight,
//!   two-person rule, one at a time).
//!
//! Both feed their ticks to `switchyard_core::drills::DrillObserver`, which keeps the record and
//! says when the script acts; the engine passes the simulated runner its settings
//! ([`EngineConfig::sim_drill`]), so the simulation never reads the engine's configuration.
//!
//! Rules kept here: a drill is audited when it starts and when it ends; one live drill at a
//! time (the store's lock); a drill left running by a stopped process is marked aborted at the
//! next start; the verdict is computed by core from the record, nowhere else; a live drill's
//! recommendation, failover and probe are the console's own, never a copy of their rules.

use super::{audit, Engine, EngineConfig, Error};
use crate::sim::drill::DrillSettings;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use switchyard_core::drills::{
    metrics, overdue, DecidedBy, Drill, DrillMode, DrillNotes, DrillStatus, DrillSummary,
    DrillsResponse, Objectives, Recording, Scenario,
};
use switchyard_core::{RegionId, SourceKind, UnixMs};

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

impl EngineConfig {
    /// The console's settings a simulated drill runs with.
    pub fn sim_drill(&self) -> DrillSettings {
        DrillSettings {
            poll_interval: self.poll_interval,
            poll_timeout: self.poll_timeout,
            thresholds: self.thresholds,
            recommend_after: self.failover.recommend_after,
            complete_share: self.failover.complete_share,
            verify_timeout: self.failover.verify_timeout,
            policy: self.failover.policy,
            dns_ttl: self.failover.dns_ttl,
            stragglers: self.failover.stragglers,
            stragglers_rate: self.failover.stragglers_rate,
        }
    }
}

mod live;

/// Drills running in this process, with the flag that stops each.
#[derive(Default)]
pub(super) struct Drills {
    running: BTreeMap<String, Arc<AtomicBool>>,
}

/// The most drills listed.
const LISTED: u32 = 200;

impl Engine {
    /// The drills page: every drill, newest first, and whether drilling is overdue.
    pub async fn drills(&self) -> Result<DrillsResponse, Error> {
        let (drills, last) = self
            .inner
            .store
            .run(|s| Ok((s.drills_recent(LISTED)?, s.drill_last_finished()?)))
            .await?;
        let cfg = &self.inner.cfg.drills;
        Ok(DrillsResponse {
            drills,
            overdue: overdue(last, self.now(), cfg.period_days),
            period_days: cfg.period_days,
            objectives: cfg.objectives,
        })
    }

    pub async fn drill(&self, id: &str) -> Result<Option<Drill>, Error> {
        let id = id.to_string();
        Ok(self.inner.store.run(move |s| s.drill(&id)).await?)
    }

    /// Marks drills a stopped process left running as aborted: those started before `started`,
    /// when this engine started (it runs as a task of `start`, so a drill may already have
    /// been started by this process: that one is left running).
    pub(super) async fn close_interrupted_drills(&self, started: UnixMs) {
        match self
            .inner
            .store
            .run({
                let now = self.now();
                move |s| s.drills_interrupted(started, now)
            })
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
    ) -> Result<DrillSummary, Error> {
        scenario.check().map_err(Error::invalid)?;
        let snap = self.snapshot();
        let home = snap
            .active_region()
            .map(|r| r.id.clone())
            .ok_or_else(|| Error::internal("no region is active"))?;
        // The active region first: a simulated drill starts where the console is.
        let mut regions: Vec<RegionId> = vec![home.clone()];
        regions.extend(
            snap.regions
                .iter()
                .map(|r| r.id.clone())
                .filter(|r| *r != home),
        );
        let named = |field: &str, r: &Option<RegionId>| match r {
            Some(code) if !regions.contains(code) => Err(Error::invalid(format!(
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
            return Err(Error::invalid(format!(
                "failover.target: {home} is the active region"
            )));
        }
        match scenario.mode {
            DrillMode::Simulated => {
                if scenario.failover.by != DecidedBy::Script {
                    return Err(Error::invalid(
                        "failover.by: a simulated drill runs faster than anyone can press a \
                         button; use \"script\", or mode = \"live\" to fail over yourself",
                    ));
                }
            }
            DrillMode::Live => {
                if self.inner.injector.is_none()
                    && (scenario.outage.is_some() || scenario.degradation.is_some())
                {
                    return Err(Error::invalid(
                        "outage: a live drill cannot break a real region; on AWS it is a \
                         practice failover and failback: leave out outage and degradation",
                    ));
                }
                self.switch()
                    .map_err(|_| Error::invalid("this fleet cannot move traffic"))?;
            }
        }
        let now = self.now();
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
        let act = audit::Act::new(
            operator,
            "drill.start",
            format!("drill: {}", drill.summary.name),
            detail,
        );
        let audit = self.audit_open(act).await?;
        let row = drill.clone();
        let inserted = match self.inner.store.run(move |s| s.drill_insert(&row)).await {
            Ok(()) => Ok(()),
            Err(crate::store::StoreError::DrillLocked { holder }) => Err(holder),
            Err(e) => {
                let _ = audit.finish(format!("failed: {e}")).await;
                return Err(e.into());
            }
        };
        if let Err(other) = inserted {
            let why = format!("another live drill is running: {other}");
            audit.finish(format!("refused: {why}")).await?;
            return Err(Error::conflict(why));
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
    pub async fn abort_drill(&self, id: &str, operator: &str) -> Result<(), Error> {
        let flag = self.drills_state().running.get(id).cloned();
        let Some(flag) = flag else {
            return match self.drill(id).await? {
                None => Err(Error::not_found(format!("no drill {id}"))),
                Some(d) => Err(Error::invalid(format!(
                    "drill {id} is not running (it is {})",
                    d.summary.status.as_str()
                ))),
            };
        };
        let act = audit::Act::new(operator, "drill.abort", "stopped by an operator", id);
        self.audited(act, |_| async move {
            flag.store(true, Ordering::SeqCst);
            Ok(audit::Done::new((), "ok"))
        })
        .await?;
        Ok(())
    }

    /// Replaces a drill's notes and action items, audited.
    pub async fn set_drill_notes(
        &self,
        id: &str,
        notes: DrillNotes,
        operator: &str,
    ) -> Result<(), Error> {
        notes.check().map_err(Error::invalid)?;
        let id_owned = id.to_string();
        let detail = serde_json::to_string(&notes).expect("notes serialise");
        let act = audit::Act::new(operator, "drill.notes", "notes and action items", detail);
        let clock = self.clock();
        let found = self
            .inner
            .store
            .run(move |s| {
                audit::within(s, &*clock, &act, |s, _| {
                    let found = s.drill_set_notes(&id_owned, &notes.notes, &notes.action_items)?;
                    let result = if found {
                        "ok"
                    } else {
                        "refused: no such drill"
                    };
                    Ok(audit::Done::new(found, result))
                })
            })
            .await?;
        if found {
            Ok(())
        } else {
            Err(Error::not_found(format!("no drill {id}")))
        }
    }

    async fn run_drill(
        &self,
        mut drill: Drill,
        regions: Vec<RegionId>,
        audit: audit::OpenAudit,
        stop: Arc<AtomicBool>,
    ) {
        let outcome = match drill.scenario.mode {
            DrillMode::Simulated => {
                let (sc, cfg, stop) = (
                    drill.scenario.clone(),
                    self.inner.cfg.sim_drill(),
                    stop.clone(),
                );
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
        let end = self.now();
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
        let id = drill.summary.id.clone();
        if let Err(e) = audit.finish_drill(drill, result).await {
            tracing::error!("could not finish the audit of drill {id}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simulated_drill_runs_by_default_with_the_engines_default_settings() {
        assert_eq!(
            EngineConfig::default().sim_drill(),
            DrillSettings::default()
        );
    }
}
