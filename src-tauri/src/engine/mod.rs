//! The engine: one poller per region folds observations into a versioned fleet state, pushes
//! every change to subscribers, and keeps the history in the store.
//!
//! Rules kept here:
//! - every call to a source is bounded by `poll_timeout`; a region that does not answer turns
//!   unreachable within one poll, and its old figures keep their old `observed_at` so that
//!   every face shows them as stale rather than current;
//! - the state lock is never held across an await;
//! - every state-changing operator action is audited before and after.

mod alerts;
mod commands;
pub mod drills;
mod edge;
mod failover;

pub use commands::{CommandConfig, CommandError, CommandPreview};
pub use failover::{FailoverConfig, FailoverError};

use crate::clock::now_ms;
use crate::ports::{
    BoxFuture, DeviceChannel, FaultInjector, FleetSource, SourceError, TrafficSwitch,
};
use crate::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use switchyard_core::{
    alerts::{region_conditions, Alert, AlertKind, AlertRules},
    api::{FleetEvent, RegionHistory, RegionSample, RegionsResponse},
    devices::{DeviceDetail, DevicePage, DeviceQuery},
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
    pub alert_rules: AlertRules,
    /// How long samples and cleared alerts are kept.
    pub retention: Duration,
    pub failover: FailoverConfig,
    pub commands: CommandConfig,
    pub drills: drills::DrillConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            poll_interval: Duration::from_secs(5),
            poll_timeout: Duration::from_millis(2_500),
            thresholds: Thresholds::default(),
            alert_rules: AlertRules::default(),
            retention: Duration::from_secs(30 * 86_400),
            failover: FailoverConfig::default(),
            commands: CommandConfig::default(),
            drills: drills::DrillConfig::default(),
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
    edge: RwLock<edge::EdgeState>,
    /// Open alerts by (kind, subject). Never held across an await.
    open_alerts: Mutex<BTreeMap<(AlertKind, String), Alert>>,
    /// What moves traffic between regions, when the source can.
    switch: std::sync::OnceLock<Arc<dyn TrafficSwitch>>,
    failover: Mutex<failover::FailoverState>,
    /// What delivers commands to devices, when the source can.
    channel: std::sync::OnceLock<Arc<dyn DeviceChannel>>,
    runs: Mutex<commands::Runs>,
    drills: Mutex<drills::Drills>,
}

/// The most items one list request may ask for.
pub const MAX_LIMIT: u32 = 10_000;

/// Checks a list's `limit`: one rule for every face.
fn check_limit(limit: u32) -> Result<u32, QueryError> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(QueryError::Invalid(format!(
            "limit: must be between 1 and {MAX_LIMIT}, not {limit}"
        )))
    }
}

/// A read that could not be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// The request itself is wrong; the message names what.
    Invalid(String),
    /// What the request names (a region) does not exist.
    NotFound(String),
    /// The source did not answer in time or failed.
    Unavailable(String),
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
        // The region a completed failover made active stays active across restarts.
        let stored_active = store.state_get("active_region").ok().flatten();
        let configured = source.regions();
        let stored_active = stored_active.filter(|a| configured.iter().any(|(id, _)| id == a));
        let regions = configured
            .into_iter()
            .map(|(id, role)| {
                let role = match &stored_active {
                    Some(a) if *a == id => switchyard_core::RegionRole::Active,
                    Some(_) => switchyard_core::RegionRole::Standby,
                    None => role,
                };
                (id, role)
            })
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
        // Alerts left open by a previous run stay open until their condition is seen to end.
        let open_alerts = match store.alerts(true, u32::MAX) {
            Ok(open) => open
                .into_iter()
                .map(|a| ((a.kind, a.subject.clone()), a))
                .collect(),
            Err(e) => {
                tracing::error!("could not read open alerts: {e}");
                BTreeMap::new()
            }
        };
        Engine {
            inner: Arc::new(Inner {
                cfg,
                source,
                injector,
                store,
                state: RwLock::new(state),
                events,
                closing,
                edge: RwLock::new(edge::EdgeState::default()),
                open_alerts: Mutex::new(open_alerts),
                switch: std::sync::OnceLock::new(),
                failover: Mutex::new(failover::FailoverState::default()),
                channel: std::sync::OnceLock::new(),
                runs: Mutex::new(commands::Runs::default()),
                drills: Mutex::new(drills::Drills::default()),
            }),
        }
    }

    /// Gives the engine what delivers commands to devices.
    pub fn with_channel(self, channel: Arc<dyn DeviceChannel>) -> Engine {
        let _ = self.inner.channel.set(channel);
        self
    }

    /// Gives the engine what moves traffic between regions (before [`Engine::start`]).
    pub fn with_switch(self, switch: Arc<dyn TrafficSwitch>) -> Engine {
        let _ = self.inner.switch.set(switch);
        self
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

    /// Starts the pollers on the current tokio runtime (one per region, one for the gateways)
    /// and the hourly pruning of old history. They run until the runtime stops.
    pub fn start(&self) {
        let poll = self.inner.cfg.poll_interval;
        for region in self.snapshot().regions.into_iter().map(|r| r.id) {
            self.every(poll, move |e| {
                let region = region.clone();
                async move { e.poll_once(&region).await }
            });
        }
        self.every(poll, |e| async move {
            if let Err(err) = e.poll_gateways_once().await {
                tracing::warn!("edge gateways: {err:?}");
            }
        });
        if self.inner.switch.get().is_some() {
            let every = self.inner.cfg.failover.readiness_every;
            self.every(every, |e| async move { e.refresh_readiness().await });
            let e = self.clone();
            tokio::spawn(async move { e.resume_failover().await });
        }
        let e = self.clone();
        tokio::spawn(async move { e.close_interrupted_drills().await });
        self.every(Duration::from_secs(3_600), |e| async move {
            let before = now_ms().saturating_sub(e.inner.cfg.retention.as_millis() as u64);
            match e.inner.store.run(move |s| s.prune(before)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("pruned {n} rows older than the retention period"),
                Err(err) => tracing::warn!("could not prune old history: {err}"),
            }
        });
    }

    /// Runs `job` now and then every `period`; a tick missed while a job ran late is not made up.
    fn every<F, Fut>(&self, period: Duration, job: F)
    where
        F: Fn(Engine) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let engine = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                job(engine.clone()).await;
            }
        });
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
    async fn call<T>(&self, f: BoxFuture<'_, Result<T, SourceError>>) -> Result<T, QueryError> {
        let timeout = self.inner.cfg.poll_timeout;
        match tokio::time::timeout(timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(QueryError::Unavailable(e.0)),
            Err(_) => Err(QueryError::Unavailable(format!(
                "the fleet source did not answer within {} ms",
                timeout.as_millis()
            ))),
        }
    }

    /// One page of devices matching `q`.
    pub async fn devices(&self, q: &DeviceQuery) -> Result<DevicePage, QueryError> {
        q.validate().map_err(QueryError::Invalid)?;
        let listing = self.call(self.inner.source.devices(q)).await?;
        Ok(DevicePage {
            server_time: now_ms(),
            observed_at: listing.observed_at,
            total: listing.total,
            offset: q.offset,
            limit: q.limit(),
            items: listing.items,
        })
    }

    /// The stored samples of `region` over the last `minutes`, oldest first.
    pub async fn history(&self, region: &str, minutes: u32) -> Result<RegionHistory, QueryError> {
        if !self.snapshot().regions.iter().any(|r| r.id == region) {
            return Err(QueryError::NotFound(format!(
                "region {region} is not configured"
            )));
        }
        if !(1..=7 * 24 * 60).contains(&minutes) {
            return Err(QueryError::Invalid(format!(
                "minutes: must be between 1 and 10080, not {minutes}"
            )));
        }
        let now = now_ms();
        let since = now.saturating_sub(minutes as u64 * 60_000);
        let r = region.to_string();
        let samples = self
            .inner
            .store
            .run(move |s| s.samples(&r, since))
            .await
            .map_err(|e| QueryError::Unavailable(e.0))?
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
    pub async fn device(&self, id: &str) -> Result<Option<DeviceDetail>, QueryError> {
        if id.is_empty() || id.len() > 128 {
            return Err(QueryError::Invalid(
                "a thing name has 1 to 128 characters".into(),
            ));
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
                FleetEvent::Regions(RegionsResponse::from_snapshot(&state, now_ms())),
                summary,
            )
        };
        // No subscribers is fine.
        let _ = self.inner.events.send(event);
        Some(summary)
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

#[cfg(test)]
mod tests;
