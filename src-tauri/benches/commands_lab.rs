//! Publish throughput in the AWS lab: the console's fan-out against a bare SDK `Publish` loop
//! at the same concurrency, in the same run (target ≥ 0.9×). moto is the bottleneck, so the
//! ratio is what matters. `cargo bench --bench commands_lab`; under `cargo test --benches` a
//! small smoke run.

use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::aws::lab::{self, Lab, LabPlan};
use switchyard::aws::AwsSource;
use switchyard::engine::{Adapters, CommandConfig, Engine};
use switchyard::store::Store;
use switchyard_core::commands::{CommandRequest, OfflinePolicy, RunStatus, Target};

const CONCURRENCY: usize = 16;

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let devices = if full { 300 } else { 24 };
    let rounds = if full { 3 } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let moto = lab::find_moto_server(None).unwrap_or_else(|e| panic!("{e}"));
        let lab = Lab::start(
            &moto,
            dir.path(),
            LabPlan {
                devices,
                gateways: 1,
                ..LabPlan::default()
            },
        )
        .await
        .unwrap();
        let file = switchyard::settings::ConfigFile::load(&lab.config_path).unwrap();
        let s = switchyard::settings::Settings::resolve(
            file,
            Some("lab"),
            switchyard::settings::Overrides::default(),
        )
        .unwrap();
        let aws = AwsSource::connect(s.aws.clone().unwrap(), Duration::from_millis(2_500)).await;
        let mut cfg = s.engine.clone();
        cfg.commands = CommandConfig {
            catalogue: switchyard::settings::default_catalogue(),
            concurrency: CONCURRENCY,
            rate_per_sec: 100_000,
            // A benchmark sends to the whole fleet without an operator to confirm it.
            confirm_above: u64::MAX,
            ..CommandConfig::default()
        };
        let adapters = Adapters {
            channel: Some(Arc::new(aws.clone())),
            connections: None,
            ..Adapters::observe_only(Arc::new(aws))
        };
        let engine = Engine::new(cfg, adapters, Store::open(&dir.path().join("db")).unwrap());
        let names: Vec<String> = (0..devices).map(|i| format!("lab-sensor-{i:03}")).collect();
        let data = Arc::new(lab.dataplane("us-east-1").await);
        let (mut bare, mut console) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            // Bare: the same publishes, CONCURRENCY at a time.
            let t0 = Instant::now();
            let sem = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
            let mut tasks = Vec::new();
            for n in &names {
                let (data, sem, topic) = (data.clone(), sem.clone(), format!("cmd/{n}/ping"));
                let permit = sem.acquire_owned().await.unwrap();
                tasks.push(tokio::spawn(async move {
                    let _p = permit;
                    data.publish()
                        .topic(topic)
                        .qos(1)
                        .payload(aws_sdk_iotdataplane::primitives::Blob::new(b"{}".to_vec()))
                        .send()
                        .await
                        .unwrap();
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
            bare.push(devices as f64 / t0.elapsed().as_secs_f64());

            // The console: the whole run, from the request (the target resolved) to the last result.
            let t0 = Instant::now();
            let run = engine
                .run_command(
                    CommandRequest {
                        command: "ping".into(),
                        payload: serde_json::json!({}),
                        target: Target::ThingGroup { name: "sensors".into() },
                        offline: OfflinePolicy::Skip,
                        reason: "benchmark".into(),
                        confirm_count: None,
                    },
                    "bench",
                )
                .await
                .unwrap();
            let run = loop {
                let (r, _) = engine.command_run(&run.id, 0, 1).await.unwrap().unwrap();
                if r.status != RunStatus::Running {
                    break r;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            };
            assert_eq!(run.sent, devices as u64, "{run:?}");
            console.push(devices as f64 / t0.elapsed().as_secs_f64());
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (b, c) = (median(bare), median(console));
        println!(
            "commands_lab: {devices} publishes a round, {rounds} round(s), concurrency {CONCURRENCY}: bare SDK loop {b:.0}/s, \
             console fan-out {c:.0}/s (including resolving the target); ratio {:.2} (target ≥ 0.9)",
            c / b
        );
        drop(lab);
    });
}
