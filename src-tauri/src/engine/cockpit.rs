//! What the header, the incident strip, the failover form and `switchyard status` read: the
//! status in one answer, and the plan of a failover before it is requested.
//!
//! Rules kept here:
//! - every figure comes with its freshness (`Figures`), and the edge backlog only from the
//!   edge poll (each gateway once), never summed from the regions;
//! - a plan changes nothing: it reads the cached preflight (or runs one) and says what a
//!   request would do, or why it would be refused, with the request's own rules.

use super::{Engine, Error};
use switchyard_core::cockpit::{
    figures, headline, next_step, plan_refusal, summary, FailoverPlan, Figures, StatusResponse,
};
use switchyard_core::failover::{Failover, FailoverRequest};
use switchyard_core::moving::estimate;
use switchyard_core::SourceKind;

/// An ended failover stays in the status (with its summary and next step) this long.
const ENDED_SHOWN_MS: u64 = 3_600_000;

impl Engine {
    /// The status: regions with their freshness, the headline, the open incident, the failover
    /// under way (or the last one for an hour after it ended), the next step, the edge backlog.
    pub async fn status(&self) -> Result<StatusResponse, Error> {
        let regions = self.regions_response();
        let now = regions.server_time;
        let overview = self.failover_overview().await?;
        let incident = self.inner.store.run(|s| s.incidents(true, 1)).await?.pop();
        let edge = self.gateways(1)?;
        let failover: Option<Failover> = overview.current.clone().or_else(|| {
            overview
                .recent
                .first()
                .filter(|f| {
                    f.ended_at
                        .is_some_and(|e| now.saturating_sub(e) < ENDED_SHOWN_MS)
                })
                .cloned()
        });
        let next = failover.as_ref().and_then(|f| {
            next_step(
                f,
                &regions.regions,
                (edge.totals.messages, edge.totals.gateways),
                now,
            )
        });
        let (mut critical, mut warning) = (0, 0);
        for a in self
            .inner
            .open_alerts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            match a.severity {
                switchyard_core::alerts::Severity::Critical => critical += 1,
                switchyard_core::alerts::Severity::Warning => warning += 1,
            }
        }
        Ok(StatusResponse {
            server_time: now,
            source: regions.source,
            headline: headline(regions.source, &regions.regions, now),
            active: overview.active,
            incident,
            failover_summary: failover
                .as_ref()
                .filter(|f| f.phase.is_final())
                .map(summary),
            failover,
            next_step: next,
            recommendation: overview.recommendation,
            edge: edge.totals,
            edge_observed_at: edge.observed_at,
            alerts_critical: critical,
            alerts_warning: warning,
            regions: regions.regions,
        })
    }

    /// What a failover to `target` would do, or why it would be refused; with `req`, checked
    /// as that request would be. Changes nothing.
    pub async fn failover_plan(
        &self,
        target: &str,
        req: Option<&FailoverRequest>,
    ) -> Result<FailoverPlan, Error> {
        self.switch()?;
        let snap = self.snapshot();
        if !snap.regions.iter().any(|r| r.id == target) {
            return Err(Error::invalid(format!(
                "target: {target} is not a configured region"
            )));
        }
        let active = snap
            .active_region()
            .cloned()
            .ok_or_else(|| Error::internal("no region is active"))?;
        let pre = match self.cached_preflight(target, &snap) {
            Some(pre) => pre,
            None => self.readiness(target).await?,
        };
        let now = self.now();
        let cfg = &self.inner.cfg.failover;
        let switch = match pre.checks.iter().find(|c| c.name == "switch path") {
            Some(c) if !c.reasons.is_empty() => c.reasons.join("; "),
            _ if self.source_kind() == SourceKind::Simulated => format!(
                "the simulated fleet's switch: the devices' domain from {} to {target}",
                active.id
            ),
            _ => format!("the devices' DNS record: from {} to {target}", active.id),
        };
        let devices = active.online;
        Ok(FailoverPlan {
            server_time: now,
            source: active.id.clone(),
            target: target.to_string(),
            switch,
            devices_in_source: devices,
            devices_figures: match figures(&active, now) {
                Figures::Missing if active.observed_at.is_some() => Figures::LastKnown,
                f => f,
            },
            stragglers: cfg.stragglers,
            dns_ttl_secs: cfg.dns_ttl.as_secs(),
            estimate: (cfg.stragglers != switchyard_core::moving::StragglerMethod::Off).then(
                || {
                    estimate(
                        cfg.stragglers,
                        devices,
                        cfg.stragglers_rate,
                        self.inner.cfg.commands.rate_per_sec as f64,
                    )
                },
            ),
            refused: plan_refusal(req, target, &active.id, &pre),
            two_person_rule: cfg.two_person_rule,
            preflight: pre,
        })
    }
}
