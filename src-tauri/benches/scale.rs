//! How the engine's costs grow with the fleet: resident memory per device and per gateway, CPU
//! per poll cycle, snapshot and event sizes, and source calls per region per cycle.
//!
//!   cargo bench -p switchyard --bench scale          10k, 100k and 1M devices, 5 regions, 10k gateways
//!   cargo test  -p switchyard --bench scale          smoke: 10k devices, short budgets
//!
//! Each size runs in a fresh child process, so that one size's memory does not hide in the next
//! one's figures. CPU time is the process's (user + system, from /proc), not the wall clock.

mod common;

use common::{fleet, sim_config, GATEWAYS};
use std::process::Command;
use std::time::{Duration, Instant};
use switchyard::sim::SimFleet;
use switchyard_core::api::FleetEvent;

/// Resident set size of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kb * 1024
}

/// CPU time used by this process so far (user + system), in seconds.
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the ")" that closes the command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

/// Runs `f` repeatedly for about `budget` of wall time (at least 3 times); returns CPU seconds
/// per run and the number of runs.
fn per_run(budget: Duration, mut f: impl FnMut()) -> (f64, u64) {
    let (c0, t0) = (cpu(), Instant::now());
    let mut n = 0;
    while n < 3 || t0.elapsed() < budget {
        f();
        n += 1;
    }
    ((cpu() - c0) / n as f64, n)
}

/// Measures one size, in this process; prints one JSON line.
fn one(devices: usize, budget: Duration) {
    // Memory: a device-only fleet, then a gateway-only fleet with full buffers.
    let before = rss();
    let fleet_only = SimFleet::new(sim_config(devices, 0), 0);
    let bytes_per_device = (rss().saturating_sub(before)) as f64 / devices as f64;
    drop(fleet_only);
    let before = rss();
    let mut gw_only = SimFleet::new(sim_config(1, GATEWAYS), 0);
    gw_only.inject("us-east-1:outage".parse().unwrap()).unwrap();
    for _ in 0..600 {
        gw_only.step();
    }
    let bytes_per_gateway_after_10_min_outage =
        (rss().saturating_sub(before)) as f64 / GATEWAYS as f64;
    drop(gw_only);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let b = fleet(devices, GATEWAYS);
    rt.block_on(b.poll_cycle());
    let calls_before = b.calls();
    let (cycle_cpu, cycles) = per_run(budget, || rt.block_on(b.poll_cycle()));
    let calls: Vec<f64> = b
        .calls()
        .iter()
        .zip(&calls_before)
        .map(|(after, before)| (after - before) as f64 / cycles as f64)
        .collect();
    let (step_cpu, _) = per_run(budget, || b.sim.with(|f| f.step()));
    let snapshot = b.engine.regions_response();
    let snapshot_bytes = serde_json::to_vec(&snapshot).unwrap().len();
    let (snap_cpu, _) = per_run(budget / 4, || {
        std::hint::black_box(serde_json::to_vec(&b.engine.regions_response()).unwrap());
    });
    let event = FleetEvent::Regions(snapshot);
    let event_bytes = serde_json::to_vec(&event).unwrap().len();
    let (event_cpu, _) = per_run(budget / 4, || {
        std::hint::black_box(serde_json::to_vec(&event).unwrap());
    });
    println!(
        "{}",
        serde_json::json!({
            "devices": devices,
            "gateways": GATEWAYS,
            "regions": common::REGIONS.len(),
            "bytes_per_device": bytes_per_device,
            "bytes_per_gateway_after_10_min_outage": bytes_per_gateway_after_10_min_outage,
            "poll_cycle_cpu_ms": cycle_cpu * 1e3,
            "sim_step_cpu_ms": step_cpu * 1e3,
            "snapshot_bytes": snapshot_bytes,
            "snapshot_ser_us": snap_cpu * 1e6,
            "event_bytes": event_bytes,
            "event_ser_us": event_cpu * 1e6,
            "calls_per_region_per_cycle": calls,
        })
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--one") {
        let devices = args[i + 1].parse().expect("--one N");
        let budget = Duration::from_millis(args[i + 2].parse().expect("budget ms"));
        return one(devices, budget);
    }
    // `cargo bench` passes --bench; anything else (cargo test --benches) is the smoke mode.
    let full = args.iter().any(|a| a == "--bench");
    let (sizes, budget): (&[usize], u64) = if full {
        (&[10_000, 100_000, 1_000_000], 2_000)
    } else {
        (&[10_000], 100)
    };
    let exe = std::env::current_exe().unwrap();
    let mut rows = Vec::new();
    for &n in sizes {
        let out = Command::new(&exe)
            .args(["--one", &n.to_string(), &budget.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "size {n} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // The invariant the harness exists to keep: one call per region per cycle, whatever the size.
        for c in row["calls_per_region_per_cycle"].as_array().unwrap() {
            assert_eq!(
                c.as_f64(),
                Some(1.0),
                "source calls per region per cycle grew: {row}"
            );
        }
        rows.push(row);
    }
    println!("| devices | gateways | bytes/device | bytes/gateway (10 min outage) | poll cycle CPU | sim step CPU | snapshot | snapshot ser. | event | event ser. | source calls/region/cycle |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.1} | {:.0} | {:.3} ms | {:.2} ms | {} B | {:.1} µs | {} B | {:.1} µs | {} |",
            r["devices"],
            r["gateways"],
            r["bytes_per_device"].as_f64().unwrap(),
            r["bytes_per_gateway_after_10_min_outage"].as_f64().unwrap(),
            r["poll_cycle_cpu_ms"].as_f64().unwrap(),
            r["sim_step_cpu_ms"].as_f64().unwrap(),
            r["snapshot_bytes"],
            r["snapshot_ser_us"].as_f64().unwrap(),
            r["event_bytes"],
            r["event_ser_us"].as_f64().unwrap(),
            r["calls_per_region_per_cycle"][0],
        );
    }
    if full {
        let big = rows.last().unwrap();
        let cycle = big["poll_cycle_cpu_ms"].as_f64().unwrap();
        let mem = big["bytes_per_device"].as_f64().unwrap();
        println!("\ntargets at 1M devices: poll cycle {cycle:.2} ms CPU (target ≤ 100 ms): {}; {mem:.1} B/device (target ≤ 150 B): {}",
            if cycle <= 100.0 { "met" } else { "MISSED" },
            if mem <= 150.0 { "met" } else { "MISSED" });
    }
}
