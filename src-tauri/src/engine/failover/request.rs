//! Asking for a failover, approving it under the two-person rule, cancelling it before it runs.
//!
//! Rules kept here:
//! - the confirmation is checked against a preflight (the one the operator was shown when it
//!   is fresh, a new one otherwise), and a request is refused before anything is written;
//! - one failover at a time: the store's lock is taken atomically with the insert, and a request
//!   that loses says which failover holds it;
//! - every request, approval and cancel is audited with its operator, in the same store call as
//!   its write, and published only once written;
//! - the operator who requested a failover cannot approve it;
//! - the switch is read right before a confirmation (and an approval) is accepted: when the
//!   devices were moved since the preflight it is a conflict naming where they are now.

use crate::engine::audit;
use crate::engine::{Engine, Error};
use crate::store::StoreError;
use switchyard_core::failover::{
    confirm, next, Event, Failover, FailoverRequest, Phase, Requested, Verdict,
};

impl Engine {
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
        // Moved since the preflight (by another console, or by hand)? Then the operator
        // confirmed against a world that is gone: refuse, naming where the devices are now.
        let switch_read = self.confirm_switch_unmoved(&active.id).await?;
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
            switched_at: None,
            dns_ttl_secs: self.inner.cfg.failover.dns_ttl.as_secs(),
            stragglers: None,
            curve: vec![],
            complete_eta: None,
        };
        let detail = serde_json::json!({
            "failover": f.id,
            "from": f.source,
            "to": f.target,
            "preflight": f.preflight.overall,
            "override_warnings": req.override_warnings,
            "switch_read": switch_read.as_deref().unwrap_or("agrees with the preflight"),
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
        // The switch may have moved while the failover waited for its second operator.
        self.confirm_switch_unmoved(&f.source).await?;
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
        self.inner.metrics.failover_ended(f.phase);
        Ok(f)
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
}
