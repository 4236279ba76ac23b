//! Shared by the benchmarks: a fleet of a given size behind a real engine, and a source that
//! counts the calls the engine makes to it.

// Each benchmark uses a part of this module.
#![allow(dead_code)]
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use switchyard::engine::kit::EngineKit;
use switchyard::engine::{Adapters, Engine};
use switchyard::ports::{BoxFuture, DeviceListing, EdgeObservation, FleetSource, SourceError};
use switchyard::sim::{SimConfig, SimFleet, SimSource};
use switchyard_core::{
    devices::{DeviceDetail, DeviceQuery},
    RegionId, RegionObservation, RegionRole, SourceKind,
};

/// The shape: five regions, ten thousand edge gateways.
pub const REGIONS: [&str; 5] = [
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "us-west-2",
    "eu-central-1",
];
pub const GATEWAYS: usize = 10_000;

pub fn sim_config(devices: usize, gateways: usize) -> SimConfig {
    SimConfig {
        seed: 1,
        regions: REGIONS.iter().map(|r| r.to_string()).collect(),
        devices,
        gateways,
        faults: vec![],
        ..SimConfig::default()
    }
}

/// Counts every call through the port, per region.
pub struct CountingSource {
    pub inner: SimSource,
    pub calls: Vec<AtomicU64>,
}

impl FleetSource for CountingSource {
    fn kind(&self) -> SourceKind {
        self.inner.kind()
    }
    fn regions(&self) -> Vec<(RegionId, RegionRole)> {
        self.inner.regions()
    }
    fn observe<'a>(
        &'a self,
        region: &'a str,
    ) -> BoxFuture<'a, Result<RegionObservation, SourceError>> {
        if let Some(i) = REGIONS.iter().position(|r| *r == region) {
            self.calls[i].fetch_add(1, Ordering::Relaxed);
        }
        self.inner.observe(region)
    }
    fn gateways(&self) -> BoxFuture<'_, Result<EdgeObservation, SourceError>> {
        self.inner.gateways()
    }
    fn devices<'a>(
        &'a self,
        query: &'a DeviceQuery,
    ) -> BoxFuture<'a, Result<DeviceListing, SourceError>> {
        self.inner.devices(query)
    }
    fn device<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<DeviceDetail>, SourceError>> {
        self.inner.device(id)
    }
}

pub struct Bench {
    pub sim: SimSource,
    pub source: Arc<CountingSource>,
    pub engine: Engine,
}

pub fn fleet(devices: usize, gateways: usize) -> Bench {
    let sim = SimSource::new(SimFleet::new(
        sim_config(devices, gateways),
        1_700_000_000_000,
    ))
    .fail_fast();
    let source = Arc::new(CountingSource {
        inner: sim.clone(),
        calls: REGIONS.iter().map(|_| AtomicU64::new(0)).collect(),
    });
    let engine = EngineKit::new(Adapters::observe_only(source.clone())).build();
    Bench {
        sim,
        source,
        engine,
    }
}

impl Bench {
    /// One poll cycle: every region polled once, observations folded into the state.
    pub async fn poll_cycle(&self) {
        for r in REGIONS {
            self.engine.poll_once(r).await;
        }
    }

    /// Calls made to the source so far, per region.
    pub fn calls(&self) -> Vec<u64> {
        self.source
            .calls
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect()
    }
}
