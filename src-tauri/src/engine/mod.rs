//! The engine: one poller per region folds observations into a versioned fleet state, pushes
//! every change to subscribers, and keeps the history in the store.
//!
//! Rules kept here:
//! - every call to a source is bounded by `poll_timeout`; a region that does not answer turns
//!   unreachable within one poll, and its old figures keep their old `observed_at` so that
//!   every face shows them as stale rather than current;
//! - the state lock is never held across an await;
//! - every state-changing operator action is audited before and after.

use crate::clock::now_ms;
use crate::ports::{FaultInjector, FleetSource, SourceError};
use crate::store::Store;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_core::{
    api::{FleetEvent, RegionsResponse},
    fault::FaultSpec,
    health::{assess, Thresholds},
    regions::display_name,
    BacklogTotals, FleetSnapshot, Health, HealthStatus, RegionObservation, RegionSummary,
    SourceKind,
};
use tokio::sync::broadcast;

/// How the engine polls.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub poll_interval: Duration,
    /// Upper bound on one poll of one region, retries included.
    pub poll_timeout: Duration,
    pub thresholds: Thresholds,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            poll_interval: Duration::from_secs(5),
            poll_timeout: Duration::from_millis(2_500),
            thresholds: Thresholds::default(),
        }
    }
}

struct Inner {
    cfg: EngineConfig,
    source: Arc<dyn FleetSource>,
    injector: Option<Arc<dyn FaultInjector>>,
    store: Store,
    state: RwLock<FleetSnapshot>,
    events: broadcast::Sender<FleetEvent>,
    /// Turns true once when the process is shutting down, so long-lived streams can end.
    closing: tokio::sync::watch::Sender<bool>,
}

/// A cheap handle on the running engine; clone it freely.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// An operator action that failed, with a message for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionError {
    /// The request cannot be carried out as asked (bad region, nothing to inject into, ...).
    Rejected(String),
    /// Something broke on the way (storage).
    Failed(String),
}

impl Engine {
    pub fn new(
        cfg: EngineConfig,
        source: Arc<dyn FleetSource>,
        injector: Option<Arc<dyn FaultInjector>>,
        store: Store,
    ) -> Engine {
        let interval_ms = cfg.poll_interval.as_millis() as u64;
        let regions = source
            .regions()
            .into_iter()
            .map(|(id, role)| RegionSummary {
                name: display_name(&id),
                id,
                role,
                health: Health::unknown(),
                online: 0,
                offline: 0,
                backlog: BacklogTotals::default(),
                observed_at: None,
                last_attempt_at: None,
                poll_interval_ms: interval_ms,
            })
            .collect();
        let state = FleetSnapshot {
            version: 1,
            source: source.kind(),
            regions,
        };
        let (events, _) = broadcast::channel(64);
        let closing = tokio::sync::watch::Sender::new(false);
        Engine {
            inner: Arc::new(Inner {
                cfg,
                source,
                injector,
                store,
                state: RwLock::new(state),
                events,
                closing,
            }),
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.inner.cfg
    }

    pub fn source_kind(&self) -> SourceKind {
        self.inner.source.kind()
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn snapshot(&self) -> FleetSnapshot {
        self.inner
            .state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn regions_response(&self) -> RegionsResponse {
        RegionsResponse::from_snapshot(&self.snapshot(), now_ms())
    }

    /// Every state change from now on. A subscriber that falls behind gets
    /// `RecvError::Lagged` and should re-read the snapshot.
    pub fn subscribe(&self) -> broadcast::Receiver<FleetEvent> {
        self.inner.events.subscribe()
    }

    /// Tells long-lived subscribers (event streams) to finish: the process is stopping.
    pub fn shutdown(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Resolves once [`Engine::shutdown`] has been called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.inner.closing.subscribe();
        async move {
            let _ = rx.wait_for(|closing| *closing).await;
        }
    }

    /// Starts one poller per region on the current tokio runtime. They run until the runtime
    /// stops.
    pub fn start(&self) {
        for region in self.snapshot().regions.into_iter().map(|r| r.id) {
            let engine = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(engine.inner.cfg.poll_interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    engine.poll_once(&region).await;
                }
            });
        }
    }

    /// Polls one region once and folds the result into the state.
    pub async fn poll_once(&self, region: &str) {
        let attempt_at = now_ms();
        let timeout = self.inner.cfg.poll_timeout;
        let result = match tokio::time::timeout(timeout, self.inner.source.observe(region)).await {
            Ok(r) => r,
            Err(_) => Err(SourceError(format!(
                "no answer within {} ms",
                timeout.as_millis()
            ))),
        };
        let health = assess(
            result.as_ref().map_err(|e| e.0.as_str()),
            &self.inner.cfg.thresholds,
        );
        if let Ok(obs) = &result {
            let obs = obs.clone();
            let status = status_name(health.status);
            if let Err(e) = self
                .inner
                .store
                .run(move |s| s.record_sample(&obs, status))
                .await
            {
                tracing::warn!(region, "could not store a sample: {e}");
            }
        }
        self.fold(region, attempt_at, result.ok(), health);
    }

    fn fold(&self, region: &str, attempt_at: u64, obs: Option<RegionObservation>, health: Health) {
        let event = {
            let mut state = self.inner.state.write().unwrap_or_else(|p| p.into_inner());
            let Some(summary) = state.regions.iter_mut().find(|r| r.id == region) else {
                return;
            };
            summary.last_attempt_at = Some(attempt_at);
            summary.health = health;
            if let Some(obs) = obs {
                summary.online = obs.online;
                summary.offline = obs.offline;
                summary.backlog = obs.backlog;
                summary.observed_at = Some(obs.observed_at);
            }
            state.version += 1;
            FleetEvent::Regions(RegionsResponse::from_snapshot(&state, now_ms()))
        };
        // No subscribers is fine.
        let _ = self.inner.events.send(event);
    }

    /// Injects a fault into the simulated fleet, audited before and after.
    pub async fn inject_fault(
        &self,
        actor: &str,
        reason: &str,
        fault: FaultSpec,
    ) -> Result<i64, ActionError> {
        let injector = self.inner.injector.clone().ok_or_else(|| {
            ActionError::Rejected("faults can only be injected into the simulated fleet".into())
        })?;
        if reason.trim().is_empty() {
            return Err(ActionError::Rejected("a reason is required".into()));
        }
        fault.validate().map_err(ActionError::Rejected)?;
        let detail = serde_json::to_string(&fault).expect("a fault serialises");
        let (actor, reason_owned) = (actor.to_string(), reason.to_string());
        let id = self
            .inner
            .store
            .run(move |s| {
                s.audit_begin(now_ms(), &actor, "sim.inject_fault", &reason_owned, &detail)
            })
            .await
            .map_err(|e| ActionError::Failed(e.0))?;
        let outcome = injector.inject(fault);
        let result = match &outcome {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("rejected: {e}"),
        };
        self.inner
            .store
            .run(move |s| s.audit_finish(id, now_ms(), &result))
            .await
            .map_err(|e| ActionError::Failed(e.0))?;
        outcome.map(|()| id).map_err(ActionError::Rejected)
    }

    /// Ends every injected fault, audited before and after. Returns the audit id and how many
    /// faults were ended.
    pub async fn clear_faults(
        &self,
        actor: &str,
        reason: &str,
    ) -> Result<(i64, usize), ActionError> {
        let injector = self.inner.injector.clone().ok_or_else(|| {
            ActionError::Rejected("faults can only be injected into the simulated fleet".into())
        })?;
        if reason.trim().is_empty() {
            return Err(ActionError::Rejected("a reason is required".into()));
        }
        let (actor, reason) = (actor.to_string(), reason.to_string());
        let id = self
            .inner
            .store
            .run(move |s| s.audit_begin(now_ms(), &actor, "sim.clear_faults", &reason, "{}"))
            .await
            .map_err(|e| ActionError::Failed(e.0))?;
        let n = injector.clear();
        self.inner
            .store
            .run(move |s| s.audit_finish(id, now_ms(), &format!("ok: {n} fault(s) ended")))
            .await
            .map_err(|e| ActionError::Failed(e.0))?;
        Ok((id, n))
    }
}

pub fn status_name(s: HealthStatus) -> &'static str {
    match s {
        HealthStatus::Unknown => "unknown",
        HealthStatus::Healthy => "healthy",
        HealthStatus::Degraded => "degraded",
        HealthStatus::Unreachable => "unreachable",
    }
}

#[cfg(test)]
mod tests;
