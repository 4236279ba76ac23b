//! The simulated fleet's model, through its public face: seeded replay, outages and
//! degradations, backoff, gateways' buffers, device answers and histories.
//!
//! Rules kept here: tests go through the model's public face; exact figures come from seeded
//! runs, so a change of the draws' order changes them (and says why).

use super::{SimConfig, SimFleet};
use switchyard_core::fault::{FaultKind, FaultSpec};
use switchyard_core::{Connectivity, Device, DisconnectReason};

fn small(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        devices: 2_000,
        gateways: 10,
        ..SimConfig::default()
    }
}

fn run(f: &mut SimFleet, secs: u64) {
    for _ in 0..secs {
        f.step();
    }
}

fn outage(region: &str, start: u64, duration: u64) -> FaultSpec {
    FaultSpec {
        region: region.into(),
        kind: FaultKind::Outage,
        start_secs: start,
        duration_secs: Some(duration),
    }
}

#[test]
fn starts_with_everyone_online_in_the_active_region() {
    let mut f = SimFleet::new(SimConfig::default(), 0);
    assert_eq!(f.active_region(), "us-east-1");
    let o = f.observe("us-east-1").unwrap();
    assert_eq!((o.online, o.offline), (5_000, 0));
    assert_eq!(o.backlog.gateways, 40);
    assert_eq!(f.observe("eu-west-1").unwrap().online, 0);
}

#[test]
fn a_seed_replays_exactly_and_another_seed_differs() {
    let trace = |seed| {
        let mut f = SimFleet::new(
            SimConfig {
                faults: vec![outage("us-east-1", 10, 30)],
                ..small(seed)
            },
            0,
        );
        (0..120)
            .map(|_| {
                f.step();
                let o = f.observe("us-east-1").ok();
                (f.online_total(), o.map(|o| (o.connect_errors, o.backlog)))
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(trace(42), trace(42));
    assert_ne!(trace(42), trace(43));
}

#[test]
fn an_outage_disconnects_the_region_and_its_polls_fail() {
    let mut f = SimFleet::new(
        SimConfig {
            faults: vec![outage("us-east-1", 5, 60)],
            ..small(1)
        },
        0,
    );
    run(&mut f, 4);
    assert!(
        f.online_total() > 1_990,
        "before the outage nearly everyone is online"
    );
    run(&mut f, 2);
    assert_eq!(
        f.online_total(),
        0,
        "the active region is down and nothing else is active"
    );
    let err = f.observe("us-east-1").unwrap_err();
    assert!(err.0.contains("not answering"), "{err}");
    assert!(f.observe("eu-west-1").is_ok(), "other regions still answer");
}

#[test]
fn devices_come_back_with_jittered_backoff_after_the_outage() {
    let mut f = SimFleet::new(
        SimConfig {
            faults: vec![outage("us-east-1", 1, 30)],
            ..small(3)
        },
        0,
    );
    run(&mut f, 30);
    assert_eq!(f.online_total(), 0, "the outage lasts until t = 31");
    // Backoff spreads the returns over time instead of one thundering herd.
    let mut back = Vec::new();
    for _ in 0..120 {
        f.step();
        back.push(f.online_total());
    }
    assert!(
        back[0] < 2_000,
        "not everyone is back in the first second: {}",
        back[0]
    );
    assert!(
        back.windows(2).filter(|w| w[1] > w[0]).count() > 5,
        "returns spread over many seconds"
    );
    assert!(
        back[119] > 1_990,
        "nearly everyone is back within two minutes: {}",
        back[119]
    );
}

#[test]
fn devices_follow_the_active_region_once_their_connections_drop_after_a_failover() {
    let mut f = SimFleet::new(small(5), 0);
    run(&mut f, 5);
    f.set_active("eu-west-1").unwrap();
    run(&mut f, 120);
    // Live connections stay up: only churn moved anyone (0.02 % a second).
    assert!(
        f.online_in("us-east-1") > 1_900,
        "{}",
        f.online_in("us-east-1")
    );
    // An outage drops them all; they come back where the record now points.
    f.inject(outage("us-east-1", 0, 600)).unwrap();
    run(&mut f, 120);
    assert!(
        f.online_in("eu-west-1") > 1_990,
        "{}",
        f.online_in("eu-west-1")
    );
    assert_eq!(f.online_in("us-east-1"), 0);
    assert!(f
        .set_active("mars-north-1")
        .unwrap_err()
        .contains("not part of the simulated fleet"));
}

#[test]
fn gateways_buffer_while_disconnected_drain_afterwards_and_drop_when_full() {
    let mut f = SimFleet::new(
        SimConfig {
            faults: vec![outage("us-east-1", 1, 600)],
            ..small(9)
        },
        0,
    );
    run(&mut f, 1);
    let before: u64 = f.gateways().iter().map(|g| g.backlog.messages).sum();
    run(&mut f, 60);
    let gws = f.gateways();
    let during: u64 = gws.iter().map(|g| g.backlog.messages).sum();
    assert!(
        during > before + 1_000,
        "backlog grows while disconnected: {before} -> {during}"
    );
    assert!(gws.iter().all(|g| g.connected_region.is_none()));
    assert!(
        gws.iter().all(|g| g.backlog.oldest_age_ms >= 59_000),
        "oldest message ages with the outage"
    );

    // Ten minutes of outage fills the smaller buffers (2..30 minutes of production).
    run(&mut f, 540);
    let gws = f.gateways();
    let full: Vec<_> = gws
        .iter()
        .filter(|g| g.backlog.messages == g.capacity_messages)
        .collect();
    assert!(!full.is_empty(), "some buffers are full");
    assert!(
        full.iter().all(|g| g.backlog.dropped > 0),
        "a full buffer drops"
    );
    assert!(gws
        .iter()
        .all(|g| g.backlog.messages <= g.capacity_messages));

    // Back online: the buffers drain (at 3x production, so within 15 minutes at most).
    run(&mut f, 1 + 900);
    let gws = f.gateways();
    assert!(gws
        .iter()
        .all(|g| g.connected_region.as_deref() == Some("us-east-1")));
    assert!(
        gws.iter().all(|g| g.backlog.messages == 0),
        "{:?}",
        gws.iter().map(|g| g.backlog.messages).collect::<Vec<_>>()
    );
}

#[test]
fn degradation_shows_as_errors_not_as_an_outage() {
    let degraded = FaultSpec {
        region: "us-east-1".into(),
        kind: FaultKind::Degraded,
        start_secs: 0,
        duration_secs: None,
    };
    let mut f = SimFleet::new(
        SimConfig {
            faults: vec![degraded],
            ..small(2)
        },
        0,
    );
    let _ = f.observe("us-east-1");
    run(&mut f, 30);
    let o = f.observe("us-east-1").unwrap();
    assert!(o.connect_errors > 0 && o.publish_errors > 0, "{o:?}");
    assert!(o.latency_ms >= 2_500);
    assert!(
        o.online > 1_000,
        "most devices stay connected: {}",
        o.online
    );
    assert_eq!(f.clear_faults(), 1);
    assert_eq!(f.fault_in(0), None);
}

#[test]
fn injected_faults_count_from_now_and_are_checked() {
    let mut f = SimFleet::new(small(1), 0);
    run(&mut f, 100);
    f.inject(outage("eu-west-1", 5, 10)).unwrap();
    assert_eq!(f.fault_in(1), None);
    run(&mut f, 5);
    assert_eq!(f.fault_in(1), Some(FaultKind::Outage));
    let err = f.inject(outage("us-west-2", 0, 10)).unwrap_err();
    assert!(
        err.contains("us-west-2 is not part of the simulated fleet"),
        "{err}"
    );
}

#[test]
fn observation_time_follows_simulated_time() {
    let mut f = SimFleet::new(small(1), 1_700_000_000_000);
    run(&mut f, 7);
    assert_eq!(
        f.observe("us-east-1").unwrap().observed_at,
        1_700_000_007_000
    );
}

#[test]
fn devices_have_names_groups_and_connectivity() {
    let mut f = SimFleet::new(
        SimConfig {
            faults: vec![outage("us-east-1", 1, 600)],
            ..small(4)
        },
        1_000_000,
    );
    run(&mut f, 3);
    let d = f.device("dev-0000105").unwrap();
    assert_eq!(d.id, "dev-0000105");
    assert_eq!(d.region, "us-east-1");
    assert_eq!(d.thing_groups, vec!["meters", "site-01"]);
    assert_eq!(
        d.connectivity,
        Connectivity::Offline {
            since: 1_001_000,
            reason: DisconnectReason::ConnectionLost
        }
    );
    assert_eq!(f.device("dev-0002000"), None, "2,000 devices: 0..=1999");
    assert_eq!(f.device("dev-12"), None);
    assert_eq!(f.device("sensor-1"), None);
}

#[test]
fn the_fast_device_query_agrees_with_the_query_rules() {
    use switchyard_core::devices::DeviceQuery;
    let mut f = SimFleet::new(
        SimConfig {
            faults: vec![outage("us-east-1", 5, 20)],
            ..small(6)
        },
        0,
    );
    run(&mut f, 10);
    f.set_active("eu-west-1").unwrap();
    run(&mut f, 30);
    let all: Vec<Device> = (0..2_000)
        .map(|i| f.device(&SimFleet::device_id(i)).unwrap())
        .collect();
    let queries = [
        DeviceQuery::default(),
        DeviceQuery {
            region: Some("eu-west-1".into()),
            ..Default::default()
        },
        DeviceQuery {
            region: Some("us-east-1".into()),
            connected: Some(false),
            ..Default::default()
        },
        DeviceQuery {
            connected: Some(true),
            thing_group: Some("cameras".into()),
            ..Default::default()
        },
        DeviceQuery {
            thing_group: Some("site-07".into()),
            q: Some("07".into()),
            ..Default::default()
        },
        DeviceQuery {
            reason: Some(DisconnectReason::ConnectionLost),
            ..Default::default()
        },
        DeviceQuery {
            thing_group: Some("site-99".into()),
            ..Default::default()
        },
        DeviceQuery {
            thing_group: Some("site-7".into()),
            ..Default::default()
        },
        DeviceQuery {
            region: Some("us-west-2".into()),
            ..Default::default()
        },
        DeviceQuery {
            q: Some("dev-00001".into()),
            offset: 5,
            limit: Some(3),
            ..Default::default()
        },
    ];
    for q in queries {
        let expected: Vec<&Device> = all.iter().filter(|d| q.matches(d)).collect();
        let (total, page) = f.query_devices(&q);
        assert_eq!(total, expected.len() as u64, "{q:?}");
        let want: Vec<Device> = expected
            .into_iter()
            .skip(q.offset as usize)
            .take(q.limit() as usize)
            .cloned()
            .collect();
        assert_eq!(page, want, "{q:?}");
    }
}

#[test]
fn each_device_keeps_its_recent_connectivity_changes() {
    let mut f = SimFleet::new(
        SimConfig {
            faults: vec![outage("us-east-1", 5, 10)],
            ..small(12)
        },
        1_000_000,
    );
    run(&mut f, 120);
    let h = f.device_history("dev-0000042");
    assert!(h.len() >= 2, "{h:?}");
    // Newest first: it came back, after it was lost when the outage began at t = 5.
    let lost = h.iter().rev().find(|c| !c.online).unwrap();
    assert_eq!(
        (lost.at, lost.region.as_str(), lost.reason),
        (
            1_005_000,
            "us-east-1",
            Some(DisconnectReason::ConnectionLost)
        )
    );
    assert!(h[0].online && h[0].at > lost.at && h[0].reason.is_none());
    assert!(h.windows(2).all(|w| w[0].at >= w[1].at));
    assert!(f.device_history("dev-9999999").is_empty());
    assert!(f.device_history("dev-00000-1").is_empty());
}
