//! Wiring from [`Settings`] to a running engine, shared by the headless server and the
//! desktop shell so that both run exactly the same engine.

use crate::aws::AwsSource;
use crate::clock::now_ms;
use crate::engine::{Adapters, Engine};
use crate::settings::Settings;
use crate::sim::{SimFleet, SimSource};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// A started engine and a handle on its source: the simulation or the AWS adapters.
#[derive(Clone)]
pub struct Running {
    pub engine: Engine,
    pub sim: Option<SimSource>,
    pub aws: Option<AwsSource>,
}

/// Opens the store and starts the engine on the configured fleet: AWS when the settings say
/// so, else the simulated fleet. Must run inside a tokio runtime. Fails, writing nothing, when
/// the data directory is unusable.
pub async fn start(settings: &Settings) -> Result<Running, String> {
    let store = Store::open(&settings.data_dir).map_err(|e| e.to_string())?;
    if let Some(aws) = &settings.aws {
        let source = AwsSource::connect(aws.clone(), settings.engine.poll_timeout).await;
        let adapters = Adapters {
            source: Arc::new(source.clone()),
            switch: Some(Arc::new(source.clone())),
            channel: Some(Arc::new(source.clone())),
            injector: None,
        };
        let engine = Engine::new(settings.engine.clone(), adapters, store);
        if let Some(active) = engine.active_region() {
            source.set_active(&active);
        }
        engine.start();
        return Ok(Running {
            engine,
            sim: None,
            aws: Some(source),
        });
    }
    let sim = SimSource::new(SimFleet::new(settings.sim.clone(), now_ms()));
    tokio::spawn(sim.clone().run_clock(Duration::from_secs(1)));
    let engine = Engine::new(settings.engine.clone(), sim.adapters(), store);
    // A restarted simulation resumes with its devices' domain where a failover left it.
    if let Some(active) = engine.active_region() {
        let _ = sim.with(|f| f.set_active(&active));
    }
    engine.start();
    Ok(Running {
        engine,
        sim: Some(sim),
        aws: None,
    })
}

/// One line saying what the console watches, for the start-up banner.
pub fn describe_source(settings: &Settings) -> String {
    match &settings.aws {
        Some(aws) => format!(
            "AWS fleet in {}",
            aws.regions
                .iter()
                .map(|r| format!("{} ({})", r.code, r.role.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => format!(
            "simulated fleet: {} devices, {} gateways, seed {}",
            settings.sim.devices, settings.sim.gateways, settings.sim.seed
        ),
    }
}
