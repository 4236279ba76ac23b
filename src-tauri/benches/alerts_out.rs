//! Alerts out under load (`cargo bench --bench alerts_out`; under `cargo test --benches`, 100
//! gateways and 10 polls as a smoke test):
//!
//! 1. a burst: every gateway over 80 % at once (1,000 gateways, one poll) raises 1,000 alerts;
//!    how many requests the real Alertmanager adapter makes to deliver them, and how long the
//!    raising poll and the delivery take. The Alertmanager here is an in-bench HTTP stand-in that
//!    counts requests and alerts (the E2E suite runs the real one);
//! 2. the poll loop while a receiver hangs: a region's poll (`poll_once`), timed over many polls,
//!    with no receiver and with a webhook whose server accepts connections and never answers
//!    while the burst's 1,000 notices wait for it (both engines with the burst's alerts open).
//!
//! The fleet is the simulation, but for its gateways: a stand-in source reports every gateway's
//! buffer at 50 %, then at 85 %.

use axum::{routing::post, Json, Router};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::engine::kit::EngineKit;
use switchyard::engine::{DeliveryConfig, Engine, EngineConfig};
use switchyard::ports::{
    Adapters, AlertReceiver, BoxFuture, DeviceListing, EdgeObservation, FleetSource, SourceError,
};
use switchyard::settings::{AlertsSettings, ReceiverSettings, ReceiverTarget, Secret};
use switchyard::sim::{SimConfig, SimFleet, SimSource};
use switchyard_core::delivery::{Filter, RetryPolicy};
use switchyard_core::devices::{DeviceDetail, DeviceQuery};
use switchyard_core::{Backlog, EdgeGateway, RegionId, RegionObservation, RegionRole, SourceKind};

/// The simulated fleet, whose gateways are all at 50 % or all at 85 %.
struct Burst {
    sim: SimSource,
    gateways: usize,
    full: AtomicBool,
}

impl FleetSource for Burst {
    fn kind(&self) -> SourceKind {
        self.sim.kind()
    }
    fn regions(&self) -> Vec<(RegionId, RegionRole)> {
        self.sim.regions()
    }
    fn observe<'a>(
        &'a self,
        region: &'a str,
    ) -> BoxFuture<'a, Result<RegionObservation, SourceError>> {
        self.sim.observe(region)
    }
    fn gateways(&self) -> BoxFuture<'_, Result<EdgeObservation, SourceError>> {
        let fill = if self.full.load(Ordering::SeqCst) {
            850
        } else {
            500
        };
        let gateways = (0..self.gateways)
            .map(|i| EdgeGateway {
                id: format!("gw-{i:04}"),
                connected_region: Some("us-east-1".to_string()),
                backlog: Backlog {
                    messages: fill,
                    bytes: fill * 200,
                    oldest_age_ms: 60_000,
                    dropped: 0,
                },
                capacity_messages: 1_000,
            })
            .collect();
        let observed_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        Box::pin(async move {
            Ok(EdgeObservation {
                observed_at,
                gateways,
            })
        })
    }
    fn devices<'a>(
        &'a self,
        query: &'a DeviceQuery,
    ) -> BoxFuture<'a, Result<DeviceListing, SourceError>> {
        self.sim.devices(query)
    }
    fn device<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<DeviceDetail>, SourceError>> {
        self.sim.device(id)
    }
}

/// Requests and alerts an Alertmanager stand-in received.
#[derive(Default)]
struct Counted {
    requests: AtomicU64,
    alerts: AtomicU64,
}

/// An HTTP server answering `POST /api/v2/alerts` with 200, counting; its address.
async fn counting_alertmanager(counted: Arc<Counted>) -> String {
    let app = Router::new().route(
        "/api/v2/alerts",
        post(move |Json(alerts): Json<Vec<serde_json::Value>>| {
            let counted = counted.clone();
            async move {
                counted.requests.fetch_add(1, Ordering::SeqCst);
                counted
                    .alerts
                    .fetch_add(alerts.len() as u64, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A server that accepts connections and never answers; its address.
async fn hanging_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}/hook")
}

async fn receivers(target: ReceiverTarget) -> Vec<Arc<dyn AlertReceiver>> {
    let alerts = AlertsSettings {
        console_url: None,
        retry: RetryPolicy::default(),
        receivers: vec![ReceiverSettings {
            name: "bench".into(),
            filter: Filter::default(),
            timeout: Duration::from_secs(5),
            target,
        }],
    };
    switchyard::notify::build(&alerts, Duration::from_millis(2_500))
        .await
        .expect("the bench's receiver builds")
}

fn engine(gateways: usize, receivers: Vec<Arc<dyn AlertReceiver>>) -> (Engine, Arc<Burst>) {
    let sim = SimSource::new(SimFleet::new(
        SimConfig {
            devices: 2_000,
            gateways: 8,
            ..SimConfig::default()
        },
        1_000_000,
    ));
    let burst = Arc::new(Burst {
        sim: sim.clone(),
        gateways,
        full: AtomicBool::new(false),
    });
    let adapters = Adapters {
        source: burst.clone(),
        receivers,
        ..sim.adapters()
    };
    let cfg = EngineConfig {
        // The pollers of `start` run rarely: the bench polls by hand.
        poll_interval: Duration::from_secs(3_600),
        deliveries: DeliveryConfig {
            retry: RetryPolicy::default(),
            console_url: Some("https://noc.example".into()),
        },
        ..EngineConfig::default()
    };
    let e = EngineKit::new(adapters).config(cfg).build();
    e.start();
    (e, burst)
}

/// Fills every gateway: one poll raises one alert per gateway. Its duration.
async fn fill_all(e: &Engine, burst: &Burst) -> Duration {
    e.poll_gateways_once().await.unwrap();
    burst.full.store(true, Ordering::SeqCst);
    let t = Instant::now();
    e.poll_gateways_once().await.unwrap();
    t.elapsed()
}

/// `polls` polls of one region: (median, 99th percentile) in ms.
async fn poll_latency(e: &Engine, polls: usize) -> (f64, f64) {
    let mut ms: Vec<f64> = Vec::with_capacity(polls);
    for _ in 0..polls {
        let t = Instant::now();
        e.poll_once("us-east-1").await;
        ms.push(t.elapsed().as_secs_f64() * 1_000.0);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (gateways, polls) = if full { (1_000, 50) } else { (100, 10) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // 1. The burst, to Alertmanager.
        let counted = Arc::new(Counted::default());
        let url = counting_alertmanager(counted.clone()).await;
        let am = receivers(ReceiverTarget::Alertmanager {
            urls: vec![url],
            resend_every: Duration::from_secs(3_600),
        })
        .await;
        let (e, burst) = engine(gateways, am);
        let raising = fill_all(&e, &burst).await;
        let t = Instant::now();
        while counted.alerts.load(Ordering::SeqCst) < gateways as u64 {
            assert!(t.elapsed() < Duration::from_secs(60), "the burst was not delivered in 60 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let delivered = t.elapsed();
        let requests = counted.requests.load(Ordering::SeqCst);
        println!(
            "burst: {gateways} alerts raised in one poll of {:.0} ms, delivered to Alertmanager in {requests} request(s) within {:.0} ms",
            raising.as_secs_f64() * 1_000.0,
            delivered.as_secs_f64() * 1_000.0
        );
        assert!(requests <= 5, "{requests} requests for {gateways} alerts");

        // 2. The poll loop, with no receiver, then with one that hangs; both with the burst's
        //    alerts open, so that only the receiver differs.
        let (quiet, quiet_burst) = engine(gateways, Vec::new());
        fill_all(&quiet, &quiet_burst).await;
        let (q50, q99) = poll_latency(&quiet, polls).await;
        let hung = receivers(ReceiverTarget::Webhook {
            url: hanging_server().await,
            secret: Secret(b"bench".to_vec()),
            slack: false,
        })
        .await;
        let (e, burst) = engine(gateways, hung);
        fill_all(&e, &burst).await;
        let (h50, h99) = poll_latency(&e, polls).await;
        let queued = e.deliveries(1).await.unwrap().receivers[0].health.queued;
        println!(
            "poll of a region: median {q50:.2} ms, p99 {q99:.2} ms with no receiver; median {h50:.2} ms, p99 {h99:.2} ms while a receiver hangs with {queued} notices queued ({polls} polls each)"
        );
        assert!(queued >= gateways as u64 - 1, "the hung receiver's notices wait: {queued}");
    });
}
