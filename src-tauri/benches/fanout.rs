//! Fan-out of one command to 100,000 online simulated devices: throughput and peak memory
//! (`cargo bench --bench fanout`); under `cargo test --benches`, 2,000 devices as a smoke test.
//! Throughput is bounded by the configured rate; here the rate limit is lifted to measure the
//! engine itself (concurrency 64).

use std::time::{Duration, Instant};
use switchyard::engine::kit::EngineKit;
use switchyard::engine::{CommandConfig, EngineConfig};
use switchyard::sim::{SimConfig, SimFleet, SimSource};
use switchyard::store::Store;
use switchyard_core::commands::{CommandRequest, OfflinePolicy, RunStatus, Target};

/// The process's peak resident memory (VmHWM), in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let devices = if full { 100_000 } else { 2_000 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimSource::new(SimFleet::new(
            SimConfig {
                devices,
                gateways: 0,
                ..SimConfig::default()
            },
            1_000,
        ));
        let cfg = EngineConfig {
            commands: CommandConfig {
                catalogue: switchyard::settings::default_catalogue(),
                concurrency: 64,
                rate_per_sec: 100_000,
                max_targets: 10_000_000,
                // A benchmark sends to the whole fleet without an operator to confirm it.
                confirm_above: u64::MAX,
                ..CommandConfig::default()
            },
            ..EngineConfig::default()
        };
        let engine = EngineKit::sim(&sim)
            .config(cfg)
            .store(Store::open(dir.path()).unwrap())
            .without_switch()
            .without_injector()
            .build();
        let before = peak_kib();
        let t0 = Instant::now();
        let run = engine
            .run_command(
                CommandRequest {
                    command: "ping".into(),
                    payload: serde_json::json!({}),
                    target: Target::Region {
                        code: "us-east-1".into(),
                    },
                    offline: OfflinePolicy::Skip,
                    reason: "benchmark".into(),
                    confirm_count: None,
                },
                "bench",
            )
            .await
            .unwrap();
        let accepted = t0.elapsed();
        let run = loop {
            let (r, _) = engine.command_run(&run.id, 0, 1).await.unwrap().unwrap();
            if r.status != RunStatus::Running {
                break r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let took = t0.elapsed();
        assert_eq!(run.sent, devices as u64, "{run:?}");
        let received = sim.with(|f| f.deliveries.received);
        assert_eq!(received, devices as u64);
        println!(
            "fanout: {devices} online devices, concurrency 64: accepted (target resolved, plan made) in {:.2} s; \
             all sent in {:.2} s = {:.0} publishes/s; peak RSS {:.1} MiB (+{:.1} MiB during the run)",
            accepted.as_secs_f64(),
            took.as_secs_f64(),
            devices as f64 / took.as_secs_f64(),
            peak_kib() as f64 / 1024.0,
            peak_kib().saturating_sub(before) as f64 / 1024.0,
        );
    });
}
