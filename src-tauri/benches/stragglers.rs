//! Moving 100,000 stragglers at the default rate (50 a second): how close the step's duration
//! comes to devices ÷ rate (target: within 5 %), the listing calls it needs, and the engine's
//! own cost per device (`cargo bench --bench stragglers`); under `cargo test --benches`,
//! 2,000 devices as a smoke test.
//!
//! It runs on tokio's paused clock: 100,000 devices at 50 a second are 2,000 s of simulated
//! time, which real time cannot afford here. Each call to the stand-in connection control
//! takes 20 ms of that simulated time (a round trip to IoT Core's data plane), so the pacing,
//! the concurrency and the waves' re-listing are all measured; the wall time is the engine's
//! work alone.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard::engine::kit::EngineKit;
use switchyard::engine::{EngineConfig, FailoverConfig, DEFAULT_STRAGGLERS_RATE};
use switchyard::ports::{BoxFuture, ConnectedPage, ConnectionControl, DeliveryError, Disconnected};
use switchyard::sim::{SimConfig, SimFleet, SimSource};
use switchyard::store::Store;
use switchyard_core::failover::{FailoverRequest, Verdict};
use switchyard_core::moving::StragglerState;

const LATENCY: Duration = Duration::from_millis(20);

/// The old region's connected devices: pages of 100 over those not dropped yet.
struct Region {
    connected: Mutex<BTreeSet<String>>,
    first_last: Mutex<(Option<tokio::time::Instant>, Option<tokio::time::Instant>)>,
    listings: Mutex<u64>,
}

impl ConnectionControl for Region {
    fn connected<'a>(
        &'a self,
        _region: &'a str,
        next: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ConnectedPage, DeliveryError>> {
        Box::pin(async move {
            tokio::time::sleep(LATENCY).await;
            *self.listings.lock().unwrap() += 1;
            let all = self.connected.lock().unwrap();
            let from: usize = next.map_or(0, |t| t.parse().unwrap_or(0));
            let things: Vec<String> = all.iter().skip(from).take(100).cloned().collect();
            let to = from + things.len();
            Ok(ConnectedPage {
                things,
                next: (to < all.len()).then(|| to.to_string()),
            })
        })
    }

    fn disconnect<'a>(
        &'a self,
        _region: &'a str,
        client_id: &'a str,
        _clean: bool,
    ) -> BoxFuture<'a, Result<Disconnected, DeliveryError>> {
        Box::pin(async move {
            tokio::time::sleep(LATENCY).await;
            let now = tokio::time::Instant::now();
            {
                let mut fl = self.first_last.lock().unwrap();
                fl.0.get_or_insert(now);
                fl.1 = Some(now);
            }
            let mut all = self.connected.lock().unwrap();
            if all.remove(client_id) {
                Ok(Disconnected::Dropped)
            } else {
                Ok(Disconnected::NotFound)
            }
        })
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let devices = if full { 100_000 } else { 2_000 };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async move {
        let names: BTreeSet<String> = (0..devices).map(|i| format!("dev-{i:06}")).collect();
        let region = Arc::new(Region {
            connected: Mutex::new(names),
            first_last: Mutex::new((None, None)),
            listings: Mutex::new(0),
        });
        let sim = SimSource::new(SimFleet::new(
            SimConfig {
                devices: 1_000,
                gateways: 0,
                ..SimConfig::default()
            },
            1_000,
        ))
        .fail_fast();
        tokio::spawn(sim.clone().run_clock(Duration::from_secs(1)));
        let cfg = EngineConfig {
            failover: FailoverConfig {
                dns_ttl: Duration::from_secs(60),
                verify_timeout: Duration::from_secs(30),
                ..FailoverConfig::default()
            },
            ..EngineConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let engine = EngineKit::sim(&sim)
            .connections(region.clone())
            .config(cfg)
            .store(Store::open(dir.path()).unwrap())
            .tokio_clock(1_796_133_751_000)
            .build();
        engine.start();
        while engine
            .readiness("eu-west-1")
            .await
            .map_or(true, |r| r.overall != Verdict::Pass)
        {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let f = engine
            .request_failover(
                FailoverRequest {
                    target: "eu-west-1".into(),
                    confirm: "eu-west-1".into(),
                    reason: "benchmark".into(),
                    override_warnings: false,
                },
                "bench",
            )
            .await
            .unwrap()
            .started()
            .unwrap();
        let wall = Instant::now();
        let st = loop {
            let cur = engine.failover(&f.id).await.unwrap().unwrap();
            if let Some(st) = cur.stragglers.filter(|s| s.state.is_final()) {
                break st;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        };
        let wall = wall.elapsed();
        assert_eq!(st.state, StragglerState::Done, "{st:?}");
        assert_eq!(st.moved, devices as u64, "{st:?}");
        let (first, last) = *region.first_last.lock().unwrap();
        let took = (last.unwrap() - first.unwrap()).as_secs_f64();
        let ideal = (devices - 1) as f64 / DEFAULT_STRAGGLERS_RATE;
        let listings = *region.listings.lock().unwrap();
        println!(
            "stragglers: {devices} devices at {DEFAULT_STRAGGLERS_RATE}/s (20 ms a call, paused clock): \
             first to last disconnection {took:.1} s simulated, devices/rate {ideal:.1} s, ratio {:.4}; \
             {listings} listing calls; engine wall time {:.2} s ({:.1} µs a device)",
            took / ideal,
            wall.as_secs_f64(),
            wall.as_secs_f64() * 1e6 / devices as f64
        );
        assert!(
            (took / ideal - 1.0).abs() <= 0.05,
            "the step's duration is {:.1} % off devices/rate",
            (took / ideal - 1.0) * 100.0
        );
    });
}
