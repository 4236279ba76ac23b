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
    // Where alerts go out: built before anything starts, so a receiver that cannot be built
    // (an SNS topic's credentials) stops the start with its name.
    let receivers = crate::notify::build(&settings.alerts, settings.engine.poll_timeout).await?;
    if let Some(aws) = &settings.aws {
        let aws = with_arc_endpoints(aws.clone(), &store, settings.engine.poll_timeout).await?;
        // The certificate sets are kept in the store: a restart does not list them again.
        let source =
            AwsSource::connect_stored(aws, settings.engine.poll_timeout, Vec::new(), store.clone())
                .await;
        let adapters = Adapters {
            source: Arc::new(source.clone()),
            switch: Some(Arc::new(source.clone())),
            channel: Some(Arc::new(source.clone())),
            connections: Some(Arc::new(source.clone())),
            injector: None,
            receivers,
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
    let adapters = Adapters {
        receivers,
        ..sim.adapters()
    };
    let engine = Engine::new(settings.engine.clone(), adapters, store);
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

/// The ARC cluster's endpoints filled in when the file gives only the cluster: from the store
/// (kept by an earlier start), else found now with `DescribeCluster` and kept, so that no
/// control-plane call is ever needed at failover time.
pub async fn with_arc_endpoints(
    mut aws: crate::settings::AwsSettings,
    store: &Store,
    timeout: Duration,
) -> Result<crate::settings::AwsSettings, String> {
    let Some(arc) = aws.arc.as_mut() else {
        return Ok(aws);
    };
    if !arc.endpoints.is_empty() {
        return Ok(aws);
    }
    let key = format!(
        "arc_endpoints:{}",
        arc.cluster_arn.as_deref().unwrap_or_default()
    );
    let kept = store.state_get(&key).map_err(|e| e.to_string())?;
    let found = crate::aws::arc::endpoints(
        arc,
        kept,
        |json| {
            if let Err(e) = store.state_set(&key, json) {
                tracing::warn!("could not keep the ARC cluster's endpoints: {e}");
            }
        },
        timeout,
    )
    .await
    .map_err(|e| format!("aws.arc: the cluster's endpoints could not be found: {e}"))?;
    tracing::info!(
        "ARC cluster endpoints: {}",
        found
            .iter()
            .map(|e| e.region.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    arc.endpoints = found;
    Ok(aws)
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
