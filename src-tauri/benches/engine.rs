//! Criterion benchmarks of the engine on the simulated fleet at 10k, 100k and 1M devices
//! (5 regions, 10k edge gateways). `cargo bench -p switchyard --bench engine`.
//! Under `cargo test --benches` each runs once, as a smoke test.

mod common;

use common::{fleet, GATEWAYS};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use switchyard_core::api::FleetEvent;

fn sizes() -> Vec<usize> {
    vec![10_000, 100_000, 1_000_000]
}

fn engine(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("engine");
    group.sample_size(20);
    for n in sizes() {
        let b = fleet(n, GATEWAYS);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("poll_cycle", n), &n, |bench, _| {
            bench.iter(|| rt.block_on(b.poll_cycle()))
        });
        group.bench_with_input(BenchmarkId::new("sim_step", n), &n, |bench, _| {
            bench.iter(|| b.sim.with(|f| f.step()))
        });
        rt.block_on(b.poll_cycle());
        group.bench_with_input(BenchmarkId::new("snapshot_json", n), &n, |bench, _| {
            bench.iter(|| serde_json::to_vec(&b.engine.regions_response()).unwrap())
        });
        let event = FleetEvent::Regions(b.engine.regions_response());
        group.bench_with_input(BenchmarkId::new("event_json", n), &n, |bench, _| {
            bench.iter(|| serde_json::to_vec(&event).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
