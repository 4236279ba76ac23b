//! Devices really moving in the simulated fleet: DNS caching (a device reconnecting before its
//! TTL goes back to the old region if it answers), stragglers left on a degraded region, the
//! connection control's pages and disconnections (and its throttle knob), the reconnect
//! command, and seeded replay of all of it.
//!
//! Rules kept here: tests go through the model's and the source's public faces (the resolver
//! cache is read directly only to explain a figure); figures that depend on the seed are
//! asserted within bounds that a broken model fails (everyone moving, or nobody).

use super::{SimConfig, SimFleet, SimSource, CONNECTED_PAGE};
use crate::ports::{ConnectionControl, DeliveryError, DeviceChannel, Disconnected};
use std::collections::BTreeSet;
use std::time::Duration;
use switchyard_core::fault::{FaultKind, FaultSpec};
use switchyard_core::{Connectivity, DisconnectReason};

const US: &str = "us-east-1";
const EU: &str = "eu-west-1";

fn fleet(seed: u64, devices: usize) -> SimFleet {
    SimFleet::new(
        SimConfig {
            seed,
            devices,
            gateways: 4,
            ..SimConfig::default()
        },
        0,
    )
}

fn run(f: &mut SimFleet, secs: u64) {
    for _ in 0..secs {
        f.step();
    }
}

fn fault(kind: FaultKind, region: &str) -> FaultSpec {
    FaultSpec {
        region: region.into(),
        kind,
        start_secs: 0,
        duration_secs: None,
    }
}

/// Every thing `region` reports connected, page by page; the pages' sizes too.
fn all_pages(f: &SimFleet, region: &str) -> (Vec<String>, Vec<usize>) {
    let (mut things, mut sizes, mut next) = (vec![], vec![], None::<String>);
    loop {
        let page = f.connected_page(region, next.as_deref()).unwrap();
        sizes.push(page.things.len());
        things.extend(page.things);
        match page.next {
            Some(token) => next = Some(token),
            None => return (things, sizes),
        }
    }
}

/// Disconnects every device `region` reports connected; returns how many were dropped.
fn disconnect_all(f: &mut SimFleet, region: &str) -> usize {
    let (things, _) = all_pages(f, region);
    things
        .iter()
        .filter(|t| f.disconnect(region, t) == Ok(Disconnected::Dropped))
        .count()
}

fn share(part: usize, of: usize) -> f64 {
    part as f64 / of as f64
}

#[test]
fn devices_reconnecting_before_their_ttl_go_back_to_the_old_region_that_still_answers() {
    let mut f = fleet(21, 2_000);
    run(&mut f, 5);
    f.set_active(EU).unwrap();
    let dropped = disconnect_all(&mut f, US);
    assert!(dropped > 1_990, "{dropped}");
    // Back within five seconds: where each one's cached answer points, unless it had expired.
    run(&mut f, 6);
    let (us, eu) = (f.online_in(US), f.online_in(EU));
    assert_eq!(us + eu, f.online_total());
    // The first expiries are spread over [0, 60 s): by t = 11 about a sixth have expired.
    assert!(
        share(us, us + eu) > 0.75 && share(us, us + eu) < 0.92,
        "{us} back on {US}, {eu} on {EU}"
    );
    // Exactly those whose cache still held went back.
    for i in 0..2_000 {
        if let Some(d) = f.device(&SimFleet::device_id(i)) {
            if d.connectivity.is_online() {
                let cached = &f.config().regions[f.resolver[i].region as usize];
                assert_eq!(&d.region, cached, "dev {i}");
            }
        }
    }
}

#[test]
fn after_the_ttl_reconnecting_devices_reach_the_new_region() {
    let mut f = fleet(22, 2_000);
    run(&mut f, 5);
    f.set_active(EU).unwrap();
    run(&mut f, 60);
    assert!(f.online_in(US) > 1_950, "nobody moved by itself");
    disconnect_all(&mut f, US);
    run(&mut f, 6);
    assert_eq!(f.online_in(US), 0, "every cache had expired");
    assert!(f.online_in(EU) > 1_990, "{}", f.online_in(EU));
}

/// 20,000 devices, us-east-1 degraded from the start, switched to eu-west-1 at 120 s.
fn degraded_failover(seed: u64) -> SimFleet {
    let mut f = SimFleet::new(
        SimConfig {
            seed,
            devices: 20_000,
            gateways: 4,
            faults: vec![fault(FaultKind::Degraded, US)],
            ..SimConfig::default()
        },
        0,
    );
    run(&mut f, 120);
    f.switch_traffic(EU).unwrap();
    f
}

#[test]
fn a_degraded_region_failed_away_from_with_nobody_disconnecting_keeps_most_devices_for_ten_minutes()
{
    let mut f = degraded_failover(31);
    let before = f.online_total();
    run(&mut f, 600);
    let (us, eu) = (f.online_in(US), f.online_in(EU));
    let left = share(us, us + eu);
    eprintln!("after 10 min degraded, stragglers off: {us} on {US}, {eu} on {EU} ({left:.3})");
    // Degradation (0.05 %/s) and churn (0.02 %/s) drop about a third in ten minutes.
    assert!(left > 0.6 && left < 0.75, "{left}");
    assert!(us + eu > before * 9 / 10, "the rest came back in {EU}");
    assert!(
        share(eu, before) < 0.95,
        "a failover would complete with exceptions"
    );
}

#[test]
fn disconnecting_the_old_regions_devices_after_the_ttl_at_fifty_a_second_moves_them() {
    let mut f = degraded_failover(32);
    let switched = f.elapsed_secs();
    let ttl = f.config().dns_ttl_secs;
    run(&mut f, ttl);
    let of = f.online_total();
    let mut listed: std::collections::VecDeque<String> = all_pages(&f, US).0.into();
    let stragglers = listed.len();
    let started = f.elapsed_secs();
    let (mut reached, mut gone) = (None, 0);
    for s in 1..=1_200u64 {
        for thing in listed.drain(..50.min(listed.len())).collect::<Vec<_>>() {
            if f.disconnect(US, &thing) == Ok(Disconnected::NotFound) {
                gone += 1;
            }
        }
        f.step();
        if reached.is_none() && f.online_in(EU) as f64 >= 0.95 * of as f64 {
            reached = Some(s);
        }
        if reached.is_some() && listed.is_empty() {
            break;
        }
    }
    let reached = reached.expect("95 % reached the new region");
    eprintln!("{of} devices, disconnected at 50/s after the TTL: 95 % in {EU} after {reached} s");
    // About 19,800 listed at 50 a second: 95 % of the fleet is reached before the last.
    let bound = (of as u64).div_ceil(50) + 10;
    assert!(reached <= bound, "{reached} s > {bound} s");
    assert!(reached > bound / 2, "{reached} s: the rate holds them back");
    let d = &f.deliveries.disconnects;
    eprintln!(
        "{stragglers} listed: {} disconnected, {gone} already gone",
        d.len()
    );
    assert!(stragglers > 19_000, "{stragglers}");
    assert_eq!(
        d.len() + gone,
        stragglers,
        "each listed device given one result"
    );
    // Over the ~400 s of the step a fifth leave by themselves before their turn.
    assert!(d.len() > stragglers * 3 / 4, "{}", d.len());
    assert!(
        d.values().all(|d| d.count == 1),
        "nobody disconnected twice"
    );
    assert!(
        d.values()
            .all(|d| d.first_s >= switched + ttl && d.first_s >= started),
        "nobody disconnected before the TTL had passed"
    );
}

#[test]
fn an_outage_failover_completes_once_the_devices_caches_expire() {
    let mut f = SimFleet::new(
        SimConfig {
            seed: 33,
            devices: 2_000,
            gateways: 4,
            faults: vec![FaultSpec {
                start_secs: 10,
                ..fault(FaultKind::Outage, US)
            }],
            ..SimConfig::default()
        },
        0,
    );
    run(&mut f, 30);
    f.switch_traffic(EU).unwrap();
    run(&mut f, 5);
    assert!(
        f.online_in(EU) < 600,
        "cached answers still send most to {US}: {}",
        f.online_in(EU)
    );
    // A cache re-resolved in the outage holds at most 60 s; backoff is capped at 60 s.
    run(&mut f, 125);
    assert!(f.online_in(EU) > 1_900, "{}", f.online_in(EU));
}

#[test]
fn connected_pages_cover_each_online_device_exactly_once() {
    let mut f = fleet(41, 1_234);
    f.inject(FaultSpec {
        duration_secs: Some(20),
        ..fault(FaultKind::Outage, US)
    })
    .unwrap();
    run(&mut f, 25);
    f.set_active(EU).unwrap();
    run(&mut f, 60);
    // A few hundred disconnected after the TTL: they reconnect in eu-west-1.
    for i in 0..300 {
        let _ = f.disconnect(US, &SimFleet::device_id(i));
    }
    run(&mut f, 10);
    for region in [US, EU, "ap-southeast-2"] {
        let (things, sizes) = all_pages(&f, region);
        let online: BTreeSet<String> = (0..1_234)
            .map(SimFleet::device_id)
            .filter(|id| {
                f.device(id)
                    .is_some_and(|d| d.region == region && d.connectivity.is_online())
            })
            .collect();
        let listed: BTreeSet<String> = things.iter().cloned().collect();
        assert_eq!(listed.len(), things.len(), "{region}: nobody twice");
        assert_eq!(listed, online, "{region}");
        assert!(sizes.iter().all(|n| *n <= CONNECTED_PAGE));
        assert_eq!(sizes.len(), online.len().div_ceil(CONNECTED_PAGE).max(1));
    }
    assert!(f.online_in(US) > 0 && f.online_in(EU) > 0, "both listed");
    assert!(matches!(
        f.connected_page(US, Some("dev-1")),
        Err(DeliveryError::Failed(_))
    ));
}

#[tokio::test]
async fn a_region_in_outage_does_not_answer_the_connection_control() {
    let sim = SimSource::new(fleet(42, 200));
    sim.with(|f| f.inject(fault(FaultKind::Outage, US)))
        .unwrap();
    let quick = sim.clone().fail_fast();
    let e = quick.connected(US, None).await.unwrap_err();
    assert_eq!(e, DeliveryError::Failed(format!("{US} did not answer")));
    let e = quick
        .disconnect(US, "dev-0000001", false)
        .await
        .unwrap_err();
    assert_eq!(e, DeliveryError::Failed(format!("{US} did not answer")));
    // Hung, as a poll of it is, unless the handle fails fast.
    let hung = tokio::time::timeout(Duration::from_millis(50), sim.connected(US, None)).await;
    assert!(hung.is_err(), "{hung:?}");
    assert!(sim.connected(EU, None).await.unwrap().things.is_empty());
    assert!(matches!(
        sim.connected("mars-north-1", None).await,
        Err(DeliveryError::Failed(_))
    ));
}

#[test]
fn disconnecting_an_offline_or_unknown_device_is_not_found() {
    let mut f = fleet(43, 100);
    run(&mut f, 2);
    assert_eq!(f.disconnect(US, "dev-0000007"), Ok(Disconnected::Dropped));
    let d = f.device("dev-0000007").unwrap();
    assert!(matches!(
        d.connectivity,
        Connectivity::Offline {
            reason: DisconnectReason::ServerInitiatedDisconnect,
            ..
        }
    ));
    assert_eq!(f.disconnect(US, "dev-0000007"), Ok(Disconnected::NotFound));
    assert_eq!(f.disconnect(EU, "dev-0000008"), Ok(Disconnected::NotFound));
    assert_eq!(f.disconnect(US, "dev-0000100"), Ok(Disconnected::NotFound));
    assert_eq!(f.disconnect(US, "sensor-1"), Ok(Disconnected::NotFound));
    assert!(matches!(
        f.disconnect("mars-north-1", "dev-0000001"),
        Err(DeliveryError::Failed(_))
    ));
    assert_eq!(f.deliveries.disconnects.len(), 1);
    // Back within five seconds (the switch has not moved, so to us-east-1).
    run(&mut f, 5);
    let d = f.device("dev-0000007").unwrap();
    assert_eq!((d.region.as_str(), d.connectivity.is_online()), (US, true));
}

#[tokio::test]
async fn the_throttle_knob_throttles_the_next_disconnections_and_no_more() {
    let sim = SimSource::new(fleet(44, 100));
    sim.with(|f| f.deliveries.throttle_disconnects_next = 2);
    for _ in 0..2 {
        let e = sim.disconnect(US, "dev-0000001", false).await.unwrap_err();
        assert!(matches!(e, DeliveryError::Throttled(_)), "{e:?}");
    }
    assert_eq!(
        sim.disconnect(US, "dev-0000001", false).await,
        Ok(Disconnected::Dropped)
    );
    assert_eq!(sim.with(|f| f.deliveries.throttle_disconnects_next), 0);
    assert_eq!(
        sim.with(|f| f.deliveries.disconnects[&1].count),
        1,
        "a throttled call dropped nothing"
    );
    assert!(sim.adapters().connections.is_some());
}

#[tokio::test]
async fn a_reconnect_command_makes_an_online_device_reconnect_within_seconds() {
    let sim = SimSource::new(fleet(45, 100));
    sim.publish(US, "dev-0000003", "cmd/dev-0000003/ping", b"{}")
        .await
        .unwrap();
    assert!(sim.with(|f| f.device("dev-0000003").unwrap().connectivity.is_online()));
    sim.publish(US, "dev-0000003", "cmd/dev-0000003/reconnect", b"{}")
        .await
        .unwrap();
    let d = sim.with(|f| f.device("dev-0000003").unwrap());
    assert!(matches!(
        d.connectivity,
        Connectivity::Offline {
            reason: DisconnectReason::ClientInitiatedDisconnect,
            ..
        }
    ));
    // Sent to a device not connected there, it is lost and changes nothing.
    sim.publish(EU, "dev-0000004", "cmd/dev-0000004/reconnect", b"{}")
        .await
        .unwrap();
    assert!(sim.with(|f| f.device("dev-0000004").unwrap().connectivity.is_online()));
    assert_eq!(
        sim.with(|f| (f.deliveries.received, f.deliveries.lost)),
        (2, 1)
    );
    sim.with(|f| run(f, 5));
    assert!(sim.with(|f| f.device("dev-0000003").unwrap().connectivity.is_online()));
}

#[test]
fn a_seeded_failover_with_caches_and_disconnections_replays_exactly() {
    let trace = |seed| {
        let mut f = SimFleet::new(
            SimConfig {
                seed,
                devices: 2_000,
                gateways: 4,
                faults: vec![fault(FaultKind::Degraded, US)],
                ..SimConfig::default()
            },
            0,
        );
        let mut seen = vec![];
        for t in 0..200 {
            if t == 20 {
                f.switch_traffic(EU).unwrap();
            }
            if t == 90 {
                disconnect_all(&mut f, US);
            }
            f.step();
            seen.push((f.online_in(US), f.online_in(EU)));
        }
        (seen, f.resolver.clone())
    };
    assert_eq!(trace(7), trace(7));
    assert_ne!(trace(7), trace(8));
}
