//! Wiring from [`Settings`] to a running engine, shared by the headless server and the
//! desktop shell so that both run exactly the same engine.

use crate::clock::now_ms;
use crate::engine::Engine;
use crate::settings::Settings;
use crate::sim::{SimFleet, SimSource};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// A started engine and, when the fleet is simulated, a handle on the simulation.
#[derive(Clone)]
pub struct Running {
    pub engine: Engine,
    pub sim: Option<SimSource>,
}

/// Opens the store and starts the engine on the simulated fleet. Must run inside a tokio
/// runtime. Fails, writing nothing, when the data directory is unusable.
pub fn start(settings: &Settings) -> Result<Running, String> {
    let store = Store::open(&settings.data_dir).map_err(|e| e.0)?;
    let sim = SimSource::new(SimFleet::new(settings.sim.clone(), now_ms()));
    tokio::spawn(sim.clone().run_clock(Duration::from_secs(1)));
    let engine = Engine::new(
        settings.engine.clone(),
        Arc::new(sim.clone()),
        Some(Arc::new(sim.clone())),
        store,
    );
    engine.start();
    Ok(Running {
        engine,
        sim: Some(sim),
    })
}
