//! Readiness at a constant cost (issue #17): the `ListCertificates` calls a readiness refresh
//! makes in steady state at 10k / 100k / 1M certificates per region (target: ≤ 5 a region,
//! flat), how long the first full listing takes at the default budget (half of an assumed
//! 10 calls a second), and the wall time and peak memory of a refresh at 1M.
//! (`cargo bench --workspace --exclude switchyard-ui --bench readiness_cost`; under
//! `cargo test --benches`, 10k only as a smoke test.)
//!
//! The pages are generated on the fly by a mocked client; the store is a real SQLite file.
//! Durations of the paced listing are on tokio's paused clock: simulated seconds, exactly the
//! time the budget makes it wait (the work itself takes no simulated time).

use aws_sdk_iot::Client;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::aws::budget::Budget;
use switchyard::aws::certs::generated::GeneratedSet;
use switchyard::aws::certs::{Certificates, SetAge};
use switchyard::aws::iot::Iot;
use switchyard::clock::TokioClock;
use switchyard::store::Store;

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

fn region(set: &Arc<GeneratedSet>) -> (Iot, Rule) {
    let set = set.clone();
    let rule = mock!(Client::list_certificates).then_compute_output(move |req| set.page(req));
    let iot = Iot::from_client(mock_client!(aws_sdk_iot, RuleMode::MatchAny, [&rule]));
    (iot, rule)
}

struct Figures {
    n: u64,
    sweep_simulated_s: f64,
    sweep_wall_s: f64,
    calls: Vec<(usize, usize)>,
    refresh_cached_ms: f64,
    refresh_changed_ms: f64,
    join_ms: f64,
}

async fn measure(n: u64) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let c = Certificates::new(
        store,
        Arc::new(Budget::new(0.5)),
        Arc::new(TokioClock::starting_at(1_764_597_720_000)),
        Duration::from_secs(6 * 3_600),
    );
    let (a_set, t_set) = (
        Arc::new(GeneratedSet::new(n)),
        Arc::new(GeneratedSet::new(n)),
    );
    let ((a, a_rule), (t, t_rule)) = (region(&a_set), region(&t_set));

    // The first full listing of both regions, at once (each region has its own bucket).
    let (sim0, wall0) = (tokio::time::Instant::now(), Instant::now());
    c.refresh("active", &a).await.unwrap();
    c.refresh("target", &t).await.unwrap();
    while c.sweeping("active") || c.sweeping("target") {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sweep_simulated_s = sim0.elapsed().as_secs_f64();
    let sweep_wall_s = wall0.elapsed().as_secs_f64();
    // The one comparison made in the store after a full listing: the join on the primary key.
    let w = Instant::now();
    c.compare("active", "target").await.unwrap();
    let join_ms = w.elapsed().as_secs_f64() * 1_000.0;

    // Steady state: a refresh every 30 s; every other one after a few new devices.
    let (mut calls, mut cached, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..10u64 {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let adds = if i % 2 == 0 { 3 } else { 0 };
        a_set.add(adds);
        t_set.add(adds);
        let before = (a_rule.num_calls(), t_rule.num_calls());
        let w = Instant::now();
        let (x, y) = tokio::join!(c.refresh("active", &a), c.refresh("target", &t));
        let sweep = SetAge::pair(x.unwrap(), y.unwrap());
        let cmp = c.compare("active", "target").await.unwrap();
        let ms = w.elapsed().as_secs_f64() * 1_000.0;
        assert!(sweep.complete);
        assert_eq!(cmp.in_target, a_set.len());
        calls.push((a_rule.num_calls() - before.0, t_rule.num_calls() - before.1));
        if adds > 0 { &mut changed } else { &mut cached }.push(ms);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Figures {
        n,
        sweep_simulated_s,
        sweep_wall_s,
        calls,
        refresh_cached_ms: median(&mut cached),
        refresh_changed_ms: median(&mut changed),
        join_ms,
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[u64] = if full {
        &[10_000, 100_000, 1_000_000]
    } else {
        &[10_000]
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let mut flat = Vec::new();
    for &n in sizes {
        let f = rt.block_on(measure(n));
        let worst = f.calls.iter().map(|&(a, t)| a.max(t)).max().unwrap_or(0);
        println!(
            "readiness_cost: {:>9} certificates a region: first full listing {:.0} simulated s \
             ({} pages a region at 5 calls/s; {:.1} s wall), then ListCertificates calls per \
             refresh (active, target) {:?}: at most {worst} a region; a refresh of both regions \
             and the comparison {:.1} ms wall with no new certificate (kept), {:.1} ms with 3 new \
             (brought up to date from them); the comparison in the store after the full listing \
             {:.0} ms; peak RSS so far {:.1} MiB",
            f.n,
            f.sweep_simulated_s,
            f.n.div_ceil(250),
            f.sweep_wall_s,
            f.calls,
            f.refresh_cached_ms,
            f.refresh_changed_ms,
            f.join_ms,
            peak_kib() as f64 / 1_024.0
        );
        assert!(worst <= 5, "more than 5 calls a region per refresh");
        flat.push(f.calls);
    }
    assert!(
        flat.windows(2).all(|w| w[0] == w[1]),
        "the calls per refresh grew with the set: {flat:?}"
    );
}
