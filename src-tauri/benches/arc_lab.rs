//! ARC's data plane in the lab (the project's stand-in, five endpoints on loopback), through the
//! real SDK client. (a) The time to find a live endpoint when the first k of five hang,
//! k = 0..4, with a fixed start so the first k tried are the hung ones (target: k × the
//! endpoint timeout + one call). (b) `Cluster::switch_to_from` with no endpoint hung against a
//! bare SDK `UpdateRoutingControlStates` call to the same stand-in, in the same run, as a
//! ratio. Needs no moto. `cargo bench --bench arc_lab` runs 15 of each; under
//! `cargo test --benches` it runs 3 of each as a smoke test.

use std::time::{Duration, Instant};
use switchyard::aws::arc::Cluster;
use switchyard::aws::lab::{routing_control_arn, ArcStandIn};
use switchyard::aws::{sdk_config, Timeouts};
use switchyard::settings::{CredentialSource, EndpointSettings};

use aws_sdk_route53recoverycluster as rc;
use rc::types::{RoutingControlState, UpdateRoutingControlStateEntry};

const REGIONS: [&str; 2] = ["us-east-1", "us-west-2"];
/// Each endpoint's own timeout (the lab's configuration writes 500 ms).
const TIMEOUT: Duration = Duration::from_millis(200);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The other lab region: each switch really changes the states.
fn other(target: &str) -> &'static str {
    if target == REGIONS[0] {
        REGIONS[1]
    } else {
        REGIONS[0]
    }
}

fn lab_credentials(url: Option<String>) -> EndpointSettings {
    EndpointSettings {
        credentials: CredentialSource::Lab,
        endpoint_url: url,
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 15 } else { 3 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let controls: Vec<(String, bool)> = REGIONS
            .iter()
            .enumerate()
            .map(|(i, r)| (routing_control_arn(r), i == 0))
            .collect();
        let arc = ArcStandIn::start(&controls).await.unwrap();
        let cluster = Cluster::new(
            &arc.endpoints(),
            &lab_credentials(None),
            TIMEOUT,
            REGIONS
                .iter()
                .map(|r| (r.to_string(), routing_control_arn(r)))
                .collect(),
        )
        .await;
        let mut target = REGIONS[1];

        // (a) The first k tried hang: endpoints 0..k, the rotation starting at 0.
        let mut rows = Vec::new();
        let mut one_call = Duration::ZERO;
        for k in 0..5 {
            for i in 0..5 {
                if i < k {
                    arc.hang(i).await.unwrap();
                } else {
                    arc.revive(i).await.unwrap();
                }
            }
            let mut took = Vec::new();
            for i in 0..n + 1 {
                let t0 = Instant::now();
                let by = cluster.switch_to_from(target, Some(0)).await.unwrap();
                let d = t0.elapsed();
                assert!(by.contains(&arc.endpoints()[k].url), "k = {k}: {by}");
                assert_eq!(arc.is_on(&routing_control_arn(target)), Some(true));
                target = other(target);
                if i > 0 || k > 0 {
                    took.push(d); // the very first call warms the connection
                }
            }
            let m = median(took);
            if k == 0 {
                one_call = m;
            }
            let aim = TIMEOUT * k as u32 + one_call;
            rows.push((k, m, aim));
        }
        for i in 0..5 {
            arc.revive(i).await.unwrap();
        }
        println!(
            "arc_lab: finding a live endpoint when the first k of five hang ({n} runs each, \
             endpoint timeout {} ms)",
            TIMEOUT.as_millis()
        );
        for (k, m, aim) in &rows {
            println!(
                "  k = {k}: median {:.1} ms; target k × timeout + one call = {:.1} ms; over by {:+.1} ms ({:.2}×)",
                ms(*m),
                ms(*aim),
                ms(*m) - ms(*aim),
                m.as_secs_f64() / aim.as_secs_f64(),
            );
        }

        // (b) A bare SDK UpdateRoutingControlStates against the console's client, k = 0.
        let ep = &arc.endpoints()[0];
        let conf = sdk_config(
            &ep.region,
            &lab_credentials(Some(ep.url.clone())),
            Timeouts {
                connect: TIMEOUT,
                read: TIMEOUT,
                attempt: TIMEOUT,
                operation: TIMEOUT,
                max_attempts: 1,
            },
        )
        .await;
        let bare_client = rc::Client::new(&conf);
        let mut bare = Vec::new();
        let mut console = Vec::new();
        for i in 0..n + 1 {
            let entries: Vec<UpdateRoutingControlStateEntry> = REGIONS
                .iter()
                .map(|r| {
                    UpdateRoutingControlStateEntry::builder()
                        .routing_control_arn(routing_control_arn(r))
                        .routing_control_state(if *r == target {
                            RoutingControlState::On
                        } else {
                            RoutingControlState::Off
                        })
                        .build()
                        .unwrap()
                })
                .collect();
            let t0 = Instant::now();
            bare_client
                .update_routing_control_states()
                .set_update_routing_control_state_entries(Some(entries))
                .send()
                .await
                .unwrap();
            let b = t0.elapsed();
            target = other(target);
            let t0 = Instant::now();
            cluster.switch_to_from(target, Some(0)).await.unwrap();
            let c = t0.elapsed();
            target = other(target);
            if i > 0 {
                bare.push(b); // the first of each warms its connection
                console.push(c);
            }
        }
        let (b, c) = (median(bare), median(console));
        println!(
            "arc_lab: {n} runs each; bare SDK UpdateRoutingControlStates median {:.2} ms; \
             Cluster::switch_to_from (k = 0) median {:.2} ms; ratio {:.2}×",
            ms(b),
            ms(c),
            c.as_secs_f64() / b.as_secs_f64(),
        );
        drop(arc);
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}
