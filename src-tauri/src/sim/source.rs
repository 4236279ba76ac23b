//! [`SimSource`]: the simulated fleet shared with the engine, as the ports it implements
//! (fleet source, traffic switch, device channel, connection control, fault injector), and the
//! clock that steps it in real time.
//!
//! Rules kept here:
//! - the model stays pure ([`SimFleet`]); this handle shares it behind one mutex, and no lock
//!   is held across an await (each access is one short closure, [`SimSource::with`]);
//! - one handle is all five adapters ([`SimSource::adapters`]): what is switched, commanded and
//!   faulted is what is observed;
//! - a poll of a region in outage hangs, as a real unreachable endpoint does, so that the
//!   engine's timeout notices it (unless [`SimSource::fail_fast`]); an unknown region fails at
//!   once; the connection control's calls to a region in outage hang (or fail) the same way;
//! - [`SimSource::run_clock`] steps the model once per tick; a late tick is delayed, not
//!   caught up in a burst;
//! - the traffic switch is the fleet's own (`switch.rs`): the method configured, what it
//!   depends on in the preflight's switch path, and the devices' record unread while Route
//!   53's control plane does not answer (record and health-check methods).

use super::SimFleet;
use crate::ports::{
    BoxFuture, ConnectedPage, ConnectionControl, DeliveryError, DeviceListing, Disconnected,
    EdgeObservation, FaultInjector, FleetSource, SourceError, SwitchError, TrafficSwitch,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_core::{
    devices::{DeviceDetail, DeviceQuery},
    failover::{ReadinessFacts, TopicRule},
    fault::{FaultKind, FaultSpec},
    switch::Pointed,
    RegionId, RegionObservation, RegionRole, SourceKind,
};

/// The simulated fleet shared with the engine. Stepping and observing lock it briefly; no lock
/// is held across an await.
#[derive(Clone)]
pub struct SimSource {
    fleet: Arc<Mutex<SimFleet>>,
    /// When set, a poll of a region in outage hangs instead of failing at once, as a real
    /// unreachable endpoint does; the engine's timeout must catch it.
    hang_on_outage: bool,
}

impl SimSource {
    /// The simulated fleet as the engine's adapters: it is observed, switched, commanded,
    /// disconnected and faulted through the same handle.
    pub fn adapters(&self) -> crate::ports::Adapters {
        crate::ports::Adapters {
            source: Arc::new(self.clone()),
            switch: Some(Arc::new(self.clone())),
            channel: Some(Arc::new(self.clone())),
            connections: Some(Arc::new(self.clone())),
            injector: Some(Arc::new(self.clone())),
            receivers: Vec::new(),
        }
    }

    pub fn new(fleet: SimFleet) -> Self {
        SimSource {
            fleet: Arc::new(Mutex::new(fleet)),
            hang_on_outage: true,
        }
    }

    /// Fail polls of a region in outage at once rather than hanging.
    pub fn fail_fast(mut self) -> Self {
        self.hang_on_outage = false;
        self
    }

    /// Runs `f` on the model under its lock.
    pub fn with<R>(&self, f: impl FnOnce(&mut SimFleet) -> R) -> R {
        f(&mut self.fleet.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Steps the model once per `tick` of real time, forever. Spawn it on the runtime.
    pub async fn run_clock(self, tick: Duration) {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            interval.tick().await;
            self.with(SimFleet::step);
        }
    }
}

fn f_active_known(active: &str) -> Result<(), SourceError> {
    if switchyard_core::regions::is_valid_code(active) {
        Ok(())
    } else {
        Err(SourceError(format!("'{active}' is not a region code")))
    }
}

/// The simulated fleet's data endpoint in `region` (what its DNS record points at).
pub fn sim_endpoint(region: &str) -> String {
    format!("sim-ats.iot.{region}.switchyard.internal")
}

impl TrafficSwitch for SimSource {
    fn readiness_facts<'a>(
        &'a self,
        active: &'a str,
        target: &'a str,
    ) -> BoxFuture<'a, Result<ReadinessFacts, SourceError>> {
        Box::pin(async move {
            let rules = vec![
                TopicRule {
                    name: "alarms_forward".into(),
                    sql: "SELECT * FROM 'fleet/+/alarms' WHERE severity > 2".into(),
                    enabled: true,
                },
                TopicRule {
                    name: "telemetry_ingest".into(),
                    sql: "SELECT * FROM 'fleet/+/telemetry'".into(),
                    enabled: true,
                },
            ];
            self.with(|f| {
                let t = f
                    .region_index(target)
                    .ok_or_else(|| SourceError(format!("{target} is not a simulated region")))?;
                if f.fault_in(t) == Some(FaultKind::Outage) {
                    return Err(SourceError(format!("{target} did not answer")));
                }
                let devices = f.devices.len() as u64;
                let dns_points_to = f.record_readable().then(|| sim_endpoint(f.active_region()));
                Ok(ReadinessFacts {
                    target: target.to_string(),
                    target_health: switchyard_core::HealthStatus::Unknown,
                    devices,
                    certificates_in_target: devices,
                    missing_certificates: vec![],
                    active_rules: rules.clone(),
                    target_rules: rules,
                    domain_configuration_enabled: Some(true),
                    dns_points_to,
                    target_endpoint: sim_endpoint(target),
                    failover_in_progress: None,
                    active_side: Default::default(),
                    switch_path: Some(f.switch_path(active)),
                    certificate_sweep: None,
                })
            })
            .and_then(|facts| {
                // The facts compare the target with the active region's configuration,
                // which in the simulation is the same everywhere.
                f_active_known(active).map(|()| facts)
            })
        })
    }

    fn switch_to<'a>(&'a self, target: &'a str) -> BoxFuture<'a, Result<String, SwitchError>> {
        Box::pin(async move { self.with(|f| f.switch_traffic(target)) })
    }

    fn pointed_at(&self) -> BoxFuture<'_, Result<Pointed, SourceError>> {
        Box::pin(async move { Ok(self.with(|f| f.pointed())) })
    }
}

impl crate::ports::DeviceChannel for SimSource {
    fn publish<'a>(
        &'a self,
        region: &'a str,
        thing: &'a str,
        topic: &'a str,
        _payload: &'a [u8],
    ) -> BoxFuture<'a, Result<(), crate::ports::DeliveryError>> {
        Box::pin(async move { self.with(|f| f.deliver(region, thing, topic)) })
    }

    fn write_shadow<'a>(
        &'a self,
        region: &'a str,
        thing: &'a str,
        document: &'a [u8],
    ) -> BoxFuture<'a, Result<(), crate::ports::DeliveryError>> {
        Box::pin(async move {
            self.with(|f| {
                let r = f.region_index(region).ok_or_else(|| {
                    crate::ports::DeliveryError::Failed(format!("no region {region}"))
                })?;
                if f.fault_in(r) == Some(FaultKind::Outage) {
                    return Err(crate::ports::DeliveryError::Failed(format!(
                        "{region} did not answer"
                    )));
                }
                f.deliveries
                    .shadows
                    .insert(thing.to_string(), document.to_vec());
                Ok(())
            })
        })
    }
}

impl FleetSource for SimSource {
    fn kind(&self) -> SourceKind {
        SourceKind::Simulated
    }

    fn regions(&self) -> Vec<(RegionId, RegionRole)> {
        self.with(|f| {
            let active = f.active_region().to_string();
            f.config()
                .regions
                .iter()
                .map(|r| {
                    (
                        r.clone(),
                        if *r == active {
                            RegionRole::Active
                        } else {
                            RegionRole::Standby
                        },
                    )
                })
                .collect()
        })
    }

    fn observe<'a>(
        &'a self,
        region: &'a str,
    ) -> BoxFuture<'a, Result<RegionObservation, SourceError>> {
        Box::pin(async move {
            let result = self.with(|f| f.observe(region));
            if self.hang_on_outage
                && result.is_err()
                && self.with(|f| f.region_index(region).is_some())
            {
                // A dead region does not say so: it just never answers.
                std::future::pending::<()>().await;
            }
            result
        })
    }

    fn gateways(&self) -> BoxFuture<'_, Result<EdgeObservation, SourceError>> {
        Box::pin(async move {
            Ok(self.with(|f| EdgeObservation {
                observed_at: f.now_ms(),
                gateways: f.gateways(),
            }))
        })
    }

    fn devices<'a>(
        &'a self,
        query: &'a DeviceQuery,
    ) -> BoxFuture<'a, Result<DeviceListing, SourceError>> {
        Box::pin(async move {
            Ok(self.with(|f| {
                let (total, items) = f.query_devices(query);
                DeviceListing {
                    observed_at: f.now_ms(),
                    total,
                    items,
                }
            }))
        })
    }

    fn device<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<DeviceDetail>, SourceError>> {
        Box::pin(async move {
            Ok(self.with(|f| {
                f.device(id).map(|device| DeviceDetail {
                    device,
                    history: f.device_history(id),
                })
            }))
        })
    }
}

impl SimSource {
    /// `result`, after hanging forever first if it is the failure of a simulated region in
    /// outage and this handle hangs on outages (as a dead region never answers).
    async fn unless_hung<T>(
        &self,
        region: &str,
        result: Result<T, DeliveryError>,
    ) -> Result<T, DeliveryError> {
        if self.hang_on_outage
            && matches!(result, Err(DeliveryError::Failed(_)))
            && self.with(|f| {
                f.region_index(region)
                    .is_some_and(|r| f.fault_in(r) == Some(FaultKind::Outage))
            })
        {
            std::future::pending::<()>().await;
        }
        result
    }
}

impl ConnectionControl for SimSource {
    fn connected<'a>(
        &'a self,
        region: &'a str,
        next: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ConnectedPage, DeliveryError>> {
        Box::pin(async move {
            let page = self.with(|f| f.connected_page(region, next));
            self.unless_hung(region, page).await
        })
    }

    fn disconnect<'a>(
        &'a self,
        region: &'a str,
        client_id: &'a str,
        _clean_session: bool,
    ) -> BoxFuture<'a, Result<Disconnected, DeliveryError>> {
        Box::pin(async move {
            let done = self.with(|f| f.disconnect(region, client_id));
            self.unless_hung(region, done).await
        })
    }
}

impl FaultInjector for SimSource {
    fn inject(&self, fault: FaultSpec) -> Result<(), String> {
        self.with(|f| f.inject(fault))
    }

    fn clear(&self) -> usize {
        self.with(SimFleet::clear_faults)
    }
}
