//! The engine's tests: polling, health, alerts, audit (here); failovers and drills
//! (`failover.rs`); command runs (`commands.rs`).

use super::kit::EngineKit;
use super::*;
use crate::sim::{SimConfig, SimFleet, SimSource};
use switchyard_core::{
    alerts::AlertKind,
    devices::DeviceQuery,
    fault::{FaultKind, FaultSpec},
    HealthStatus, RegionRole,
};

fn engine_on(sim: &SimSource, timeout_ms: u64) -> Engine {
    let cfg = EngineConfig {
        poll_timeout: Duration::from_millis(timeout_ms),
        ..EngineConfig::default()
    };
    EngineKit::sim(sim)
        .config(cfg)
        .without_switch()
        .without_channel()
        .build()
}

fn sim(seed: u64) -> SimSource {
    SimSource::new(SimFleet::new(
        SimConfig {
            seed,
            devices: 1_000,
            gateways: 8,
            // Ten simulated seconds: one second of the tests' clock (100 ms a simulated
            // second), so that devices re-resolve within the tests' short windows.
            dns_ttl_secs: 10,
            ..SimConfig::default()
        },
        1_000_000,
    ))
}

fn region<'a>(s: &'a FleetSnapshot, id: &str) -> &'a RegionSummary {
    s.regions.iter().find(|r| r.id == id).unwrap()
}

#[tokio::test]
async fn starts_unknown_with_roles_from_the_source() {
    let e = engine_on(&sim(1), 100);
    let s = e.snapshot();
    assert_eq!(s.source, SourceKind::Simulated);
    assert_eq!(s.regions.len(), 3);
    assert_eq!(region(&s, "us-east-1").role, RegionRole::Active);
    assert_eq!(region(&s, "eu-west-1").role, RegionRole::Standby);
    assert_eq!(region(&s, "eu-west-1").name, "Europe (Ireland)");
    assert!(s
        .regions
        .iter()
        .all(|r| r.health.status == HealthStatus::Unknown && r.observed_at.is_none()));
}

#[tokio::test]
async fn a_poll_folds_figures_bumps_the_version_and_tells_subscribers() {
    let sim = sim(1);
    let e = engine_on(&sim, 100);
    let mut events = e.subscribe();
    sim.with(|f| (0..10).for_each(|_| f.step()));
    e.poll_once("us-east-1").await;
    let s = e.snapshot();
    let r = region(&s, "us-east-1");
    assert_eq!(s.version, 2);
    assert_eq!(r.health.status, HealthStatus::Healthy);
    assert_eq!(r.online + r.offline, 1_000);
    assert!(r.online > 990);
    assert_eq!(r.observed_at, Some(1_010_000));
    assert_eq!(r.backlog.gateways, 8);
    let FleetEvent::Regions(ev) = events.try_recv().unwrap() else {
        panic!("expected a regions event")
    };
    assert_eq!(ev.version, 2);
    assert_eq!(
        region(
            &FleetSnapshot {
                version: 2,
                source: ev.source,
                regions: ev.regions
            },
            "us-east-1"
        )
        .online,
        r.online
    );
    // The sample is in the store.
    let samples = e.store().samples("us-east-1", 0).unwrap();
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].online, r.online);
}

#[tokio::test]
async fn a_hung_region_turns_unreachable_within_the_timeout_and_keeps_its_old_timestamp() {
    let sim = sim(2);
    let e = engine_on(&sim, 150);
    e.poll_once("us-east-1").await;
    let before = region(&e.snapshot(), "us-east-1").clone();
    sim.with(|f| {
        f.inject(FaultSpec {
            region: "us-east-1".into(),
            kind: FaultKind::Outage,
            start_secs: 0,
            duration_secs: None,
        })
        .unwrap();
        f.step();
    });
    let started = std::time::Instant::now();
    e.poll_once("us-east-1").await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    let after = region(&e.snapshot(), "us-east-1").clone();
    assert_eq!(after.health.status, HealthStatus::Unreachable);
    assert_eq!(
        after.health.reasons,
        vec!["region did not answer: no answer within 150 ms"]
    );
    assert_eq!(
        after.observed_at, before.observed_at,
        "old figures keep their age"
    );
    assert!(after.last_attempt_at >= before.last_attempt_at);
    // Other regions still answer.
    e.poll_once("eu-west-1").await;
    assert_eq!(
        region(&e.snapshot(), "eu-west-1").health.status,
        HealthStatus::Healthy
    );
}

#[tokio::test]
async fn a_degraded_region_says_why() {
    let sim = sim(3);
    let e = engine_on(&sim, 100);
    sim.with(|f| {
        f.inject(FaultSpec {
            region: "us-east-1".into(),
            kind: FaultKind::Degraded,
            start_secs: 0,
            duration_secs: None,
        })
        .unwrap();
        (0..30).for_each(|_| f.step());
    });
    e.poll_once("us-east-1").await;
    let h = region(&e.snapshot(), "us-east-1").health.clone();
    assert_eq!(h.status, HealthStatus::Degraded);
    assert!(
        h.reasons
            .iter()
            .any(|r| r.starts_with("publish error rate")),
        "{h:?}"
    );
    assert!(
        h.reasons.iter().any(|r| r.starts_with("endpoint latency")),
        "{h:?}"
    );
}

#[tokio::test]
async fn fault_injection_is_audited_before_and_after() {
    let sim = sim(4);
    let e = engine_on(&sim, 100);
    let fault = FaultSpec {
        region: "eu-west-1".into(),
        kind: FaultKind::Outage,
        start_secs: 0,
        duration_secs: Some(60),
    };
    let id = e
        .inject_fault("tester", "drill prep", fault.clone())
        .await
        .unwrap();
    let entry = e.store().audit_entry(id).unwrap().unwrap();
    assert_eq!(
        (
            entry.action.as_str(),
            entry.reason.as_str(),
            entry.result.as_deref()
        ),
        ("sim.inject_fault", "drill prep", Some("ok"))
    );
    assert!(entry.detail.contains("eu-west-1"));
    assert_eq!(sim.with(|f| f.fault_in(1)), Some(FaultKind::Outage));

    // Refused requests are audited with their refusal too.
    let bad = FaultSpec {
        region: "us-west-2".into(),
        ..fault
    };
    let err = e.inject_fault("tester", "typo", bad).await.unwrap_err();
    assert_eq!(
        err,
        Error::invalid("region us-west-2 is not part of the simulated fleet")
    );
    let refused = e.store().audit_entry(id + 1).unwrap().unwrap();
    assert!(refused
        .result
        .unwrap()
        .starts_with("rejected: region us-west-2"));

    assert_eq!(
        e.inject_fault(
            "tester",
            "  ",
            FaultSpec {
                region: "eu-west-1".into(),
                kind: FaultKind::Outage,
                start_secs: 0,
                duration_secs: None
            }
        )
        .await,
        Err(Error::invalid("a reason is required"))
    );
    let (cid, n) = e.clear_faults("tester", "done").await.unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        e.store()
            .audit_entry(cid)
            .unwrap()
            .unwrap()
            .result
            .as_deref(),
        Some("ok: 1 fault(s) ended")
    );
}

#[tokio::test]
async fn pollers_run_on_their_interval() {
    let sim = sim(5).fail_fast();
    let cfg = EngineConfig {
        poll_interval: Duration::from_millis(40),
        poll_timeout: Duration::from_millis(100),
        ..EngineConfig::default()
    };
    let e = EngineKit::new(Adapters::observe_only(Arc::new(sim.clone())))
        .config(cfg)
        .build();
    let mut events = e.subscribe();
    e.start();
    // Three regions, several rounds each.
    for _ in 0..9 {
        tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event within 5 s")
            .unwrap();
    }
    let s = e.snapshot();
    assert!(s.version >= 10);
    assert!(
        s.regions
            .iter()
            .all(|r| r.health.status == HealthStatus::Healthy),
        "{:?}",
        s.regions
    );
    assert!(region(&s, "us-east-1").online > 0);
    assert_eq!(
        region(&s, "eu-west-1").online,
        0,
        "standbys carry no devices before a failover"
    );
}

fn outage(region: &str) -> FaultSpec {
    FaultSpec {
        region: region.into(),
        kind: FaultKind::Outage,
        start_secs: 0,
        duration_secs: None,
    }
}

#[tokio::test]
async fn an_unreachable_region_raises_one_alert_and_clears_it_when_back() {
    let sim = sim(7);
    let e = engine_on(&sim, 100);
    let mut events = e.subscribe();
    e.poll_once("us-east-1").await;
    assert!(e.alerts(true, 10).await.unwrap().alerts.is_empty());
    sim.with(|f| {
        f.inject(outage("us-east-1")).unwrap();
        f.step();
    });
    e.poll_once("us-east-1").await;
    e.poll_once("us-east-1").await; // still down: no second alert
    let open = e.alerts(true, 10).await.unwrap().alerts;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].kind, AlertKind::RegionUnreachable);
    assert_eq!(open[0].subject, "us-east-1");
    assert!(
        open[0].message.contains("no answer within 100 ms"),
        "{}",
        open[0].message
    );
    let raised: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|ev| match ev {
            FleetEvent::Alert(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].cleared_at, None);

    sim.with(|f| {
        f.clear_faults();
        f.step();
    });
    e.poll_once("us-east-1").await;
    assert!(e.alerts(true, 10).await.unwrap().alerts.is_empty());
    let all = e.alerts(false, 10).await.unwrap().alerts;
    assert_eq!(all.len(), 1);
    assert!(all[0].cleared_at.is_some());
    let FleetEvent::Alert(cleared) = std::iter::from_fn(|| events.try_recv().ok())
        .find(|ev| matches!(ev, FleetEvent::Alert(_)))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(
        (cleared.id, cleared.cleared_at.is_some()),
        (all[0].id, true)
    );
}

#[tokio::test]
async fn open_alerts_outlive_a_restart_and_are_not_raised_twice() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(8);
    sim.with(|f| f.inject(outage("eu-west-1")).unwrap());
    let engine = |sim: &SimSource| {
        let cfg = EngineConfig {
            poll_timeout: Duration::from_millis(50),
            ..EngineConfig::default()
        };
        EngineKit::new(Adapters::observe_only(Arc::new(sim.clone())))
            .config(cfg)
            .store(Store::open(dir.path()).unwrap())
            .build()
    };
    engine(&sim).poll_once("eu-west-1").await;
    let second = engine(&sim);
    second.poll_once("eu-west-1").await;
    assert_eq!(
        second.alerts(false, 10).await.unwrap().alerts.len(),
        1,
        "the restarted engine knew it was open"
    );
    sim.with(|f| f.clear_faults());
    second.poll_once("eu-west-1").await;
    assert!(
        second.alerts(true, 10).await.unwrap().alerts.is_empty(),
        "and cleared it"
    );
}

#[tokio::test]
async fn gateways_are_ranked_by_risk_with_rates_and_times() {
    let sim = SimSource::new(SimFleet::new(
        SimConfig {
            seed: 9,
            devices: 100,
            gateways: 12,
            ..SimConfig::default()
        },
        0,
    ));
    let e = engine_on(&sim, 100);
    assert_eq!(e.gateways(100).unwrap().observed_at, None);
    sim.with(|f| f.inject(outage("us-east-1")).unwrap());
    e.poll_gateways_once().await.unwrap();
    let first = e.gateways(100).unwrap();
    assert_eq!(first.total_gateways, 12);
    assert!(
        first.gateways.iter().all(|g| g.rate_per_s.is_none()),
        "one observation has no rate"
    );
    sim.with(|f| (0..10).for_each(|_| f.step()));
    e.poll_gateways_once().await.unwrap();
    let r = e.gateways(5).unwrap();
    assert_eq!((r.gateways.len(), r.total_gateways), (5, 12));
    assert_eq!(r.observed_at, Some(10_000));
    for g in &r.gateways {
        let rate = g.rate_per_s.unwrap();
        assert!(rate > 0.0, "buffers grow while disconnected: {g:?}");
        let eta = g.time_to_overflow_s.unwrap();
        assert_eq!(
            eta,
            ((g.capacity_messages - g.backlog.messages) as f64 / rate).ceil() as u64
        );
    }
    let etas: Vec<u64> = r
        .gateways
        .iter()
        .map(|g| g.time_to_overflow_s.unwrap())
        .collect();
    assert!(
        etas.windows(2).all(|w| w[0] <= w[1]),
        "soonest to overflow first: {etas:?}"
    );
    assert_eq!(r.totals.gateways, 12);
    let h: Vec<(u64, u64)> = r
        .totals_history
        .iter()
        .map(|s| (s.at, s.messages))
        .collect();
    assert_eq!(h.len(), 2, "one totals sample per poll");
    assert_eq!(h[1], (10_000, r.totals.messages));
    assert!(h[0].1 < h[1].1, "the backlog grew between the polls");
    assert_eq!(
        r.totals.messages,
        sim.with(|f| f.gateways().iter().map(|g| g.backlog.messages).sum::<u64>())
    );
}

#[tokio::test]
async fn full_buffers_raise_drop_alerts() {
    let sim = SimSource::new(SimFleet::new(
        SimConfig {
            seed: 10,
            devices: 100,
            gateways: 6,
            ..SimConfig::default()
        },
        0,
    ));
    let e = engine_on(&sim, 100);
    sim.with(|f| {
        f.inject(outage("us-east-1")).unwrap();
        (0..1_900).for_each(|_| f.step()); // past the largest buffer (30 min of production)
    });
    e.poll_gateways_once().await.unwrap();
    sim.with(|f| f.step());
    e.poll_gateways_once().await.unwrap();
    let alerts = e.alerts(true, 100).await.unwrap().alerts;
    assert_eq!(alerts.len(), 6, "{alerts:?}");
    assert!(alerts
        .iter()
        .all(|a| a.kind == AlertKind::DropsStarted && a.subject.starts_with("gw-")));
    assert!(e
        .gateways(10)
        .unwrap()
        .gateways
        .iter()
        .all(|g| g.dropping && g.time_to_overflow_s == Some(0)));
}

#[tokio::test]
async fn device_queries_are_checked_then_answered_from_the_source() {
    let sim = sim(11);
    let e = engine_on(&sim, 100);
    let page = e
        .devices(&DeviceQuery {
            thing_group: Some("cameras".into()),
            limit: Some(10),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len(), page.limit), (250, 10, 10));
    assert!(page
        .items
        .iter()
        .all(|d| d.thing_groups.contains(&"cameras".to_string())));
    let err = e
        .devices(&DeviceQuery {
            limit: Some(0),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::malformed("limit: must be between 1 and 1000, not 0")
    );
    assert_eq!(
        e.device("dev-0000003").await.unwrap().unwrap().device.id,
        "dev-0000003"
    );
    assert_eq!(e.device("nope").await.unwrap(), None);
}

#[tokio::test]
async fn list_limits_are_checked_once_for_every_face() {
    let e = engine_on(&sim(13), 100);
    let invalid = |n: u32| Error::malformed(format!("limit: must be between 1 and 10000, not {n}"));
    assert_eq!(e.gateways(0).unwrap_err(), invalid(0));
    assert_eq!(e.alerts(true, 10_001).await.unwrap_err(), invalid(10_001));
    assert!(e.gateways(MAX_LIMIT).is_ok() && e.alerts(false, 1).await.is_ok());
}

mod commands;
mod failover;
mod incidents;
mod moving;
mod truth;
