//! The engine: one poller per region folds observations into a versioned fleet state, pushes
//! every change to subscribers, and keeps the history in the store.
//!
//! This file is the handle: the configuration, the construction, the clock, the snapshot and the
//! subscriptions, and the background jobs (`start`, `every`). The rooms: `poll` (polling and the
//! fleet reads), `alerts`, `deliveries` (alerts out), `edge`, `failover/`, `commands/`,
//! `drills`, `faults`, `audit` (the one audited path), `metrics` (what `/metrics` answers) and
//! `kit` (engines for tests).
//!
//! Rules kept here:
//! - every call to a source is bounded by `poll_timeout` (`poll`);
//! - the state lock is never held across an await;
//! - every state-changing operator action is audited before and after (through `audit`);
//! - the adapters are given once, at construction.

mod alerts;
pub mod audit;
mod cockpit;
mod commands;
mod deliveries;
pub mod drills;
mod edge;
mod failover;
mod faults;
mod incidents;
pub mod kit;
pub mod metrics;
mod poll;

pub use crate::error::{Error, ErrorKind};
pub use crate::ports::Adapters;
pub use commands::{CommandConfig, CommandPreview};
pub use deliveries::DeliveryConfig;
pub use failover::{FailoverConfig, Requested, DEFAULT_STRAGGLERS_RATE, MOVED_ALERT_HOLD};
pub use incidents::ExportFormat;

use crate::clock::{SharedClock, SystemClock};
use crate::ports::{DeviceChannel, FaultInjector, FleetSource, TrafficSwitch};
use crate::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use switchyard_core::{
    alerts::{Alert, AlertKind, AlertRules},
    api::{FleetEvent, RegionsResponse},
    health::Thresholds,
    regions::display_name,
    BacklogTotals, FleetSnapshot, Health, RegionSummary, SourceKind,
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
    pub deliveries: DeliveryConfig,
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
            deliveries: DeliveryConfig::default(),
        }
    }
}

struct Inner {
    cfg: EngineConfig,
    clock: SharedClock,
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
    /// Held by one alert update at a time, across its stores, so that two updates that see the
    /// same condition (two polls of the gateways overlapping) cannot both raise it.
    alert_updates: tokio::sync::Mutex<()>,
    /// What moves traffic between regions, when the source can.
    switch: Option<Arc<dyn TrafficSwitch>>,
    failover: Mutex<failover::FailoverState>,
    /// What delivers commands to devices, when the source can.
    channel: Option<Arc<dyn DeviceChannel>>,
    /// What drops devices' connections in a region, when the source can.
    connections: Option<Arc<dyn crate::ports::ConnectionControl>>,
    runs: Mutex<commands::Runs>,
    drills: Mutex<drills::Drills>,
    /// Where alerts go out, and how each is doing.
    deliveries: deliveries::Dispatch,
    /// The figures `/metrics` answers: this engine's own recorder.
    metrics: metrics::Metrics,
}

/// The most items one list request may ask for.
pub const MAX_LIMIT: u32 = 10_000;

/// Checks a list's `limit`: one rule for every face.
fn check_limit(limit: u32) -> Result<u32, Error> {
    if (1..=MAX_LIMIT).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::malformed(format!(
            "limit: must be between 1 and {MAX_LIMIT}, not {limit}"
        )))
    }
}

/// A cheap handle on the running engine; clone it freely.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// An engine on the system clock.
    pub fn new(cfg: EngineConfig, adapters: Adapters, store: Store) -> Engine {
        Engine::with_clock(cfg, adapters, store, Arc::new(SystemClock))
    }

    /// An engine that asks `clock` for the time: tests pass a clock that follows tokio's paused
    /// time.
    pub fn with_clock(
        cfg: EngineConfig,
        adapters: Adapters,
        store: Store,
        clock: SharedClock,
    ) -> Engine {
        let Adapters {
            source,
            switch,
            channel,
            connections,
            injector,
            receivers,
        } = adapters;
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
                figures: Default::default(),
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
                clock,
                source,
                injector,
                store,
                state: RwLock::new(state),
                events,
                closing,
                edge: RwLock::new(edge::EdgeState::default()),
                open_alerts: Mutex::new(open_alerts),
                alert_updates: tokio::sync::Mutex::new(()),
                switch,
                failover: Mutex::new(failover::FailoverState::default()),
                channel,
                connections,
                runs: Mutex::new(commands::Runs::default()),
                drills: Mutex::new(drills::Drills::default()),
                deliveries: deliveries::Dispatch::new(receivers),
                metrics: metrics::Metrics::new(),
            }),
        }
    }

    /// Now, by the engine's clock.
    pub fn now(&self) -> switchyard_core::UnixMs {
        self.inner.clock.now_ms()
    }

    /// The engine's clock, for what it hands work to.
    pub fn clock(&self) -> SharedClock {
        self.inner.clock.clone()
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
        RegionsResponse::from_snapshot(&self.snapshot(), self.now())
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
        if self.inner.switch.is_some() {
            let every = self.inner.cfg.failover.readiness_every;
            self.every(every, |e| async move { e.refresh_readiness().await });
            // The switch says where the devices are: read it every poll.
            self.every(poll, |e| async move {
                e.watch_switch().await;
            });
            // A failover under way: its reconnection curve, a point every poll.
            self.every(poll, |e| async move {
                e.record_curve().await;
            });
            let e = self.clone();
            tokio::spawn(async move { e.resume_failover().await });
        }
        let (e, started) = (self.clone(), self.now());
        tokio::spawn(async move { e.close_interrupted_drills(started).await });
        self.start_deliveries();
        // The recorder's histogram samples stay bounded while nobody scrapes.
        self.every(Duration::from_secs(5), |e| async move {
            e.inner.metrics.upkeep()
        });
        self.every(Duration::from_secs(3_600), |e| async move {
            let before = e
                .now()
                .saturating_sub(e.inner.cfg.retention.as_millis() as u64);
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
}

#[cfg(test)]
mod tests;
