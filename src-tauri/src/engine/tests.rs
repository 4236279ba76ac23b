use super::*;
use crate::sim::{SimConfig, SimFleet, SimSource};
use switchyard_core::{fault::FaultKind, RegionRole};

fn engine_on(sim: &SimSource, timeout_ms: u64) -> Engine {
    let cfg = EngineConfig {
        poll_timeout: Duration::from_millis(timeout_ms),
        ..EngineConfig::default()
    };
    Engine::new(
        cfg,
        Arc::new(sim.clone()),
        Some(Arc::new(sim.clone())),
        Store::in_memory(),
    )
}

fn sim(seed: u64) -> SimSource {
    SimSource::new(SimFleet::new(
        SimConfig {
            seed,
            devices: 1_000,
            gateways: 8,
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
    let FleetEvent::Regions(ev) = events.try_recv().unwrap();
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
        ActionError::Rejected("region us-west-2 is not part of the simulated fleet".into())
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
        Err(ActionError::Rejected("a reason is required".into()))
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
    let e = Engine::new(cfg, Arc::new(sim.clone()), None, Store::in_memory());
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
