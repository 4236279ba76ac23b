//! The standbys' readiness: facts gathered in the background (and on demand), the cached
//! preflight a confirmation is checked against, and what the failover panel reads (the
//! preflights, the recommendation, the failover under way and the recent ones).
//!
//! Rules kept here:
//! - the console recommends, an operator decides: nothing here starts a failover;
//! - only facts are kept; the verdict is worked out anew from them with the target's health
//!   and the lock as they are at each read;
//! - gathering facts is bounded by a timeout, and facts that cannot be gathered are a failed
//!   check ("could not gather the facts of …"), not an error;
//! - the active region's unhealthy streak, not a single poll, is what a recommendation needs;
//! - the preflights are gathered anew when the active region turns unhealthy;
//! - the failover state's lock is never held across an await.

use super::RECENT;
use crate::engine::{Engine, Error};
use switchyard_core::failover::{
    readiness, recommend, Check, FailoverOverview, Readiness, ReadinessFacts, Verdict,
};
use switchyard_core::switch::{SwitchPath, ROUTE53_CONTROL_PLANE_REGION};
use switchyard_core::{HealthStatus, UnixMs};

impl Engine {
    /// The preflight of a failover from the active region to `target`.
    pub async fn readiness(&self, target: &str) -> Result<Readiness, Error> {
        let snap = self.snapshot();
        if !snap.regions.iter().any(|r| r.id == target) {
            return Err(Error::malformed(format!(
                "target: {target} is not a configured region"
            )));
        }
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
        let facts = as_now(facts, &snap, current.map(|f| f.id));
        let r = readiness(&facts, &self.inner.cfg.failover.policy);
        self.failover_state()
            .readiness
            .insert(target.to_string(), (self.now(), Ok(facts)));
        Ok(r)
    }

    /// The preflight from facts gathered less than `readiness_every` ago (what the operator was
    /// shown), with the target's health and the lock as they are now; `None` when there are no
    /// such facts. Saves a confirmation the dozen calls of a fresh gathering.
    pub(in crate::engine) fn cached_preflight(
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
        // The store's lock is checked before and taken after: a stale "none" is harmless.
        let f = as_now(facts.clone(), snap, None);
        Some(readiness(&f, &self.inner.cfg.failover.policy))
    }

    /// Refreshes the preflight of every non-active region (a background job).
    pub(in crate::engine) async fn refresh_readiness(&self) {
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
                        let f = as_now(f.clone(), &snap, current.as_ref().map(|c| c.id.clone()));
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

    /// Notes the active region's health after a poll, for the recommendation.
    /// When the active region turns unhealthy the standbys' preflights are gathered anew at
    /// once: what the operator reads in the incident is about the incident (the switch path
    /// above all), not about the minute before it.
    pub(in crate::engine) fn note_active_health(&self, status: HealthStatus, at: UnixMs) {
        let began = {
            let mut st = self.failover_state();
            match status {
                HealthStatus::Unreachable | HealthStatus::Degraded => {
                    let began = st.unhealthy_since.is_none();
                    st.unhealthy_since.get_or_insert(at);
                    began
                }
                _ => {
                    st.unhealthy_since = None;
                    false
                }
            }
        };
        if began && self.inner.switch.is_some() {
            let e = self.clone();
            tokio::spawn(async move { e.refresh_readiness().await });
        }
    }
}

/// Facts with what the engine knows now filled in: the target's health, the failover holding
/// the lock, and us-east-1's health for the switch path (Route 53's control plane is there).
fn as_now(
    facts: ReadinessFacts,
    snap: &switchyard_core::FleetSnapshot,
    in_progress: Option<String>,
) -> ReadinessFacts {
    let health = |id: &str| {
        snap.regions
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.health.status)
    };
    ReadinessFacts {
        target_health: health(&facts.target).unwrap_or(HealthStatus::Unknown),
        failover_in_progress: in_progress,
        switch_path: facts.switch_path.clone().map(|p| SwitchPath {
            control_plane_region: health(ROUTE53_CONTROL_PLANE_REGION),
            ..p
        }),
        ..facts
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
