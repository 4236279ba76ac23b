//! Polling and reading the fleet: one poll of one region folded into the versioned state, and
//! the reads that go to the source or the store (devices, one device, a region's history).
//!
//! Rules kept here:
//! - every call to a source is bounded by `poll_timeout`; a region that does not answer turns
//!   unreachable within one poll, and its old figures keep their old `observed_at` so that
//!   every face shows them as stale rather than current;
//! - every change to the state bumps its version and is pushed to subscribers;
//! - the state lock is never held across an await.

use super::{Engine, Error};
use crate::ports::{BoxFuture, SourceError};
use switchyard_core::{
    alerts::{region_conditions, AlertKind},
    api::{FleetEvent, RegionHistory, RegionSample, RegionsResponse},
    devices::{DeviceDetail, DevicePage, DeviceQuery},
    health::assess,
    Health, HealthStatus, RegionObservation, RegionSummary,
};

impl Engine {
    /// Polls one region once and folds the result into the state.
    pub async fn poll_once(&self, region: &str) {
        let attempt_at = self.now();
        let timeout = self.inner.cfg.poll_timeout;
        let started = tokio::time::Instant::now();
        let result = match tokio::time::timeout(timeout, self.inner.source.observe(region)).await {
            Ok(r) => r,
            Err(_) => Err(SourceError(format!(
                "no answer within {} ms",
                timeout.as_millis()
            ))),
        };
        let metrics = &self.inner.metrics;
        metrics.poll(region, started.elapsed(), result.is_ok());
        if let Ok(obs) = &result {
            metrics.connections(region, obs.connect_attempts, obs.connect_errors);
        }
        let health = assess(
            result.as_ref().map_err(|e| e.0.as_str()),
            &self.inner.cfg.thresholds,
        );
        if let Ok(obs) = &result {
            let obs = obs.clone();
            let status = health.status.as_str();
            if let Err(e) = self
                .inner
                .store
                .run(move |s| s.record_sample(&obs, status))
                .await
            {
                tracing::warn!(region, "could not store a sample: {e}");
            }
        }
        if let Some(summary) = self.fold(region, attempt_at, result.ok(), health) {
            let conditions = region_conditions(&summary);
            self.update_alerts(&conditions, |k, subject| {
                subject == region
                    && matches!(k, AlertKind::RegionDegraded | AlertKind::RegionUnreachable)
            })
            .await;
        }
    }

    /// Calls a source with the poll timeout.
    pub(super) async fn call<T>(
        &self,
        f: BoxFuture<'_, Result<T, SourceError>>,
    ) -> Result<T, Error> {
        let timeout = self.inner.cfg.poll_timeout;
        match tokio::time::timeout(timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Error::unavailable(e.to_string())),
            Err(_) => Err(Error::unavailable(format!(
                "the fleet source did not answer within {} ms",
                timeout.as_millis()
            ))),
        }
    }

    /// One page of devices matching `q`.
    pub async fn devices(&self, q: &DeviceQuery) -> Result<DevicePage, Error> {
        q.validate().map_err(Error::malformed)?;
        let listing = self.call(self.inner.source.devices(q)).await?;
        Ok(DevicePage {
            server_time: self.now(),
            observed_at: listing.observed_at,
            total: listing.total,
            offset: q.offset,
            limit: q.limit(),
            items: listing.items,
        })
    }

    /// The stored samples of `region` over the last `minutes`, oldest first.
    pub async fn history(&self, region: &str, minutes: u32) -> Result<RegionHistory, Error> {
        if !self.snapshot().regions.iter().any(|r| r.id == region) {
            return Err(Error::not_found(format!(
                "region {region} is not configured"
            )));
        }
        if !(1..=7 * 24 * 60).contains(&minutes) {
            return Err(Error::malformed(format!(
                "minutes: must be between 1 and 10080, not {minutes}"
            )));
        }
        let now = self.now();
        let since = now.saturating_sub(minutes as u64 * 60_000);
        let r = region.to_string();
        let samples = self
            .inner
            .store
            .run(move |s| s.samples(&r, since))
            .await
            .map_err(|e| Error::unavailable(e.to_string()))?
            .into_iter()
            .map(|s| RegionSample {
                observed_at: s.observed_at,
                health: HealthStatus::parse(&s.health).unwrap_or(HealthStatus::Unknown),
                online: s.online,
                offline: s.offline,
                connect_attempts: s.connect_attempts,
                connect_errors: s.connect_errors,
                backlog_messages: s.backlog_messages,
            })
            .collect();
        Ok(RegionHistory {
            region: region.to_string(),
            server_time: now,
            since,
            samples,
        })
    }

    /// One device; `Ok(None)` when there is no such thing.
    pub async fn device(&self, id: &str) -> Result<Option<DeviceDetail>, Error> {
        if id.is_empty() || id.len() > 128 {
            return Err(Error::malformed("a thing name has 1 to 128 characters"));
        }
        self.call(self.inner.source.device(id)).await
    }

    /// Folds one poll's result into the state; returns the region's new summary.
    fn fold(
        &self,
        region: &str,
        attempt_at: u64,
        obs: Option<RegionObservation>,
        health: Health,
    ) -> Option<RegionSummary> {
        let (event, summary) = {
            let mut state = self.inner.state.write().unwrap_or_else(|p| p.into_inner());
            let summary = state.regions.iter_mut().find(|r| r.id == region)?;
            summary.last_attempt_at = Some(attempt_at);
            summary.health = health;
            if summary.role == switchyard_core::RegionRole::Active {
                self.note_active_health(summary.health.status, attempt_at);
            }
            if let Some(obs) = obs {
                summary.online = obs.online;
                summary.offline = obs.offline;
                summary.backlog = obs.backlog;
                summary.observed_at = Some(obs.observed_at);
            }
            let summary = summary.clone();
            state.version += 1;
            (
                FleetEvent::Regions(RegionsResponse::from_snapshot(&state, self.now())),
                summary,
            )
        };
        // No subscribers is fine.
        let _ = self.inner.events.send(event);
        Some(summary)
    }
}
