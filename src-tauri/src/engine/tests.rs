use super::*;
use crate::sim::{SimConfig, SimFleet, SimSource};
use switchyard_core::{alerts::AlertKind, fault::FaultKind, RegionRole};

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
        Engine::new(
            cfg,
            Arc::new(sim.clone()),
            None,
            Store::open(dir.path()).unwrap(),
        )
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
        QueryError::Invalid("limit: must be between 1 and 1000, not 0".into())
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
    let invalid =
        |n: u32| QueryError::Invalid(format!("limit: must be between 1 and 10000, not {n}"));
    assert_eq!(e.gateways(0).unwrap_err(), invalid(0));
    assert_eq!(e.alerts(true, 10_001).await.unwrap_err(), invalid(10_001));
    assert!(e.gateways(MAX_LIMIT).is_ok() && e.alerts(false, 1).await.is_ok());
}

mod failover {
    use super::*;
    use switchyard_core::failover::{FailoverRequest, Phase, Verdict};

    fn request(target: &str) -> FailoverRequest {
        FailoverRequest {
            target: target.into(),
            confirm: target.into(),
            reason: "us-east-1 outage, ticket INC-42".into(),
            override_warnings: false,
        }
    }

    /// A fail-fast simulation on a real clock (100 ms a simulated second), polled every 100 ms.
    fn fast(store: Store, two_person: bool) -> (SimSource, Engine) {
        fast_with(store, two_person, true)
    }

    fn fast_with(store: Store, two_person: bool, reconnect: bool) -> (SimSource, Engine) {
        let sim = sim(3).fail_fast();
        tokio::spawn(sim.clone().run_clock(Duration::from_millis(100)));
        let cfg = EngineConfig {
            poll_interval: Duration::from_millis(100),
            poll_timeout: Duration::from_millis(200),
            failover: FailoverConfig {
                recommend_after: Duration::from_millis(500),
                readiness_every: Duration::from_millis(200),
                verify_timeout: Duration::from_secs(20),
                two_person_rule: two_person,
                reconnect_devices: reconnect,
                ..FailoverConfig::default()
            },
            commands: CommandConfig {
                catalogue: crate::settings::default_catalogue(),
                ..CommandConfig::default()
            },
            ..EngineConfig::default()
        };
        let e = Engine::new(
            cfg,
            Arc::new(sim.clone()),
            Some(Arc::new(sim.clone())),
            store,
        )
        .with_switch(Arc::new(sim.clone()))
        .with_channel(Arc::new(sim.clone()));
        (sim, e)
    }

    async fn until<T>(what: &str, secs: u64, mut f: impl AsyncFnMut() -> Option<T>) -> T {
        let t0 = std::time::Instant::now();
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn outage_recommendation_failover_reconnect_complete() {
        let (sim, e) = fast(Store::in_memory(), false);
        e.start();
        until("a healthy start", 10, async || {
            (region(&e.snapshot(), "us-east-1").online > 900).then_some(())
        })
        .await;
        // Nothing is recommended while the active region is healthy.
        assert!(e
            .failover_overview()
            .await
            .unwrap()
            .recommendation
            .is_none());
        e.inject_fault("t", "drill", outage("us-east-1"))
            .await
            .unwrap();
        let rec = until("a recommendation", 10, async || {
            e.failover_overview().await.unwrap().recommendation
        })
        .await;
        assert!(
            rec.reasons[0].starts_with("us-east-1 has been unreachable for"),
            "{rec:?}"
        );
        // The console never starts one by itself.
        assert!(e.failover_overview().await.unwrap().current.is_none());

        let f = e
            .request_failover(request(&rec.target), "alice")
            .await
            .unwrap();
        assert_eq!(f.source, "us-east-1");
        assert!(f.online_before > 900, "{f:?}");
        assert_eq!(f.preflight.overall, Verdict::Pass, "{:?}", f.preflight);
        let done = until("the failover to end", 20, async || {
            let f = e.failover(&f.id).await.unwrap().unwrap();
            f.phase.is_final().then_some(f)
        })
        .await;
        assert_eq!(done.phase, Phase::Completed, "{done:?}");
        assert!(done.back as f64 >= 0.95 * done.online_before as f64);
        let steps: Vec<(&str, Option<&str>)> = done
            .steps
            .iter()
            .map(|s| (s.step.as_str(), s.outcome.as_deref()))
            .collect();
        assert_eq!(
            steps[0],
            (
                format!("switch traffic to {}", rec.target).as_str(),
                Some("ok")
            )
        );
        assert_eq!(steps[1].1, Some("ok"), "{steps:?}");
        assert_eq!(steps[2].1, Some("ok"), "{steps:?}");
        let s = e.snapshot();
        assert_eq!(region(&s, &rec.target).role, RegionRole::Active);
        assert_eq!(region(&s, "us-east-1").role, RegionRole::Standby);
        assert_eq!(
            e.store().state_get("active_region").unwrap().as_deref(),
            Some(rec.target.as_str())
        );
        // Audited: the request and the end.
        let audit = e.store().audit_recent(10).unwrap();
        assert!(audit.iter().any(|a| a.action == "failover.request"
            && a.actor == "alice"
            && a.result.as_deref() == Some(&format!("ok: {}", f.id))));
        assert!(audit.iter().any(|a| a.action == "failover.end"));

        // Failback: the same flow the other way once the region is back.
        e.clear_faults("t", "drill over").await.unwrap();
        until("us-east-1 healthy again", 10, async || {
            (region(&e.snapshot(), "us-east-1").health.status == HealthStatus::Healthy)
                .then_some(())
        })
        .await;
        let back = e
            .request_failover(request("us-east-1"), "alice")
            .await
            .unwrap();
        assert_eq!(
            (back.source.as_str(), back.target.as_str()),
            (rec.target.as_str(), "us-east-1")
        );
        let back = until("the failback to end", 20, async || {
            let f = e.failover(&back.id).await.unwrap().unwrap();
            f.phase.is_final().then_some(f)
        })
        .await;
        assert_eq!(back.phase, Phase::Completed, "{back:?}");
        assert_eq!(region(&e.snapshot(), "us-east-1").role, RegionRole::Active);
        let rec = switchyard_core::failover::Recommendation {
            target: "us-east-1".into(),
            ..rec
        };

        // Asking again is idempotent: nothing to do, nothing done.
        let again = e
            .request_failover(request(&rec.target), "bob")
            .await
            .unwrap_err();
        assert_eq!(
            again,
            FailoverError::NothingToDo(format!(
                "{} is already the active region: there is nothing to do",
                rec.target
            ))
        );
        drop(sim);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_requests_at_once_one_wins_and_the_other_is_told_why() {
        let (_sim, e) = fast(Store::in_memory(), true);
        e.start();
        until("health", 10, async || {
            (region(&e.snapshot(), "eu-west-1").health.status == HealthStatus::Healthy)
                .then_some(())
        })
        .await;
        let (a, b) = tokio::join!(
            e.request_failover(request("eu-west-1"), "alice"),
            e.request_failover(request("ap-southeast-2"), "bob"),
        );
        let (won, lost) = match (a, b) {
            (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
            other => panic!("exactly one must win: {other:?}"),
        };
        assert_eq!(won.phase, Phase::AwaitingApproval);
        match lost {
            FailoverError::Conflict(m) => {
                assert!(m.contains(&won.id) && m.contains("one at a time"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        // The two-person rule: the requester cannot approve; another operator can.
        let err = e
            .approve_failover(&won.id, &won.requested_by)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, FailoverError::Rejected(m) if m.starts_with("the two-person rule")),
            "{err:?}"
        );
        let approver = if won.requested_by == "alice" {
            "bob"
        } else {
            "alice"
        };
        let f = e.approve_failover(&won.id, approver).await.unwrap();
        assert_eq!(f.approved_by.as_deref(), Some(approver));
        let done = until("the end", 20, async || {
            let f = e.failover(&won.id).await.unwrap().unwrap();
            f.phase.is_final().then_some(f)
        })
        .await;
        assert!(
            matches!(
                done.phase,
                Phase::Completed | Phase::CompletedWithExceptions
            ),
            "{done:?}"
        );
        // Cancelling is for failovers still waiting; this one has moved traffic.
        assert!(e.cancel_failover(&won.id, "carol").await.is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bad_confirmation_or_a_failing_preflight_does_nothing() {
        let (sim, e) = fast(Store::in_memory(), false);
        e.start();
        until("health", 10, async || {
            (region(&e.snapshot(), "eu-west-1").health.status == HealthStatus::Healthy)
                .then_some(())
        })
        .await;
        let mut bad = request("eu-west-1");
        bad.confirm = "eu-west".into();
        let err = e.request_failover(bad, "alice").await.unwrap_err();
        assert_eq!(
            err,
            FailoverError::Rejected("type the target region's name, eu-west-1, to confirm".into())
        );
        // A dead target fails its preflight.
        e.inject_fault("t", "drill", outage("eu-west-1"))
            .await
            .unwrap();
        until("eu-west-1 unreachable", 10, async || {
            (region(&e.snapshot(), "eu-west-1").health.status == HealthStatus::Unreachable)
                .then_some(())
        })
        .await;
        let err = e
            .request_failover(request("eu-west-1"), "alice")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, FailoverError::Rejected(m) if m.starts_with("the preflight fails (")),
            "{err:?}"
        );
        assert!(e.store().failovers_recent(10).unwrap().is_empty());
        assert_eq!(sim.with(|f| f.active_region().to_string()), "us-east-1");
    }

    #[test]
    fn a_restart_mid_failover_resumes_from_the_journal_without_repeating_the_switch() {
        let dir = tempfile::tempdir().unwrap();
        let rt = || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        };
        // The first process: request a failover and stop it dead (its runtime and every task
        // in it dropped) while it watches devices come back.
        let first = rt();
        let (sim, id) = first.block_on(async {
            // No reconnect command: devices follow the record only as their connections
            // recycle, so the run waits in its verify step for a while.
            let (sim, e) = fast_with(Store::open(dir.path()).unwrap(), false, false);
            e.start();
            until("health", 10, async || {
                (region(&e.snapshot(), "eu-west-1").health.status == HealthStatus::Healthy)
                    .then_some(())
            })
            .await;
            let f = e
                .request_failover(request("eu-west-1"), "alice")
                .await
                .unwrap();
            until("verifying", 10, async || {
                let f = e.failover(&f.id).await.unwrap().unwrap();
                (f.phase == Phase::Verifying).then_some(())
            })
            .await;
            (sim, f.id)
        });
        first.shutdown_background();

        // The second process: same database, same simulated world.
        let second = rt();
        second.block_on(async {
            tokio::spawn(sim.clone().run_clock(Duration::from_millis(100)));
            let cfg = EngineConfig {
                poll_interval: Duration::from_millis(100),
                poll_timeout: Duration::from_millis(200),
                failover: FailoverConfig {
                    verify_timeout: Duration::from_secs(20),
                    ..FailoverConfig::default()
                },
                ..EngineConfig::default()
            };
            let store = Store::open(dir.path()).unwrap();
            let e2 = Engine::new(
                cfg,
                Arc::new(sim.clone()),
                Some(Arc::new(sim.clone())),
                store,
            )
            .with_switch(Arc::new(sim.clone()));
            e2.start();
            let done = until("the resumed failover to end", 20, async || {
                let f = e2.failover(&id).await.unwrap().unwrap();
                f.phase.is_final().then_some(f)
            })
            .await;
            assert_eq!(done.phase, Phase::Completed, "{done:?}");
            let switches = done
                .steps
                .iter()
                .filter(|s| s.step.starts_with("switch traffic"))
                .count();
            assert_eq!(switches, 1, "the switch is not repeated: {:?}", done.steps);
            let interrupted: Vec<_> = done
                .steps
                .iter()
                .filter(|s| s.outcome.as_deref() == Some("interrupted"))
                .collect();
            assert_eq!(interrupted.len(), 1, "{:?}", done.steps);
            assert!(
                interrupted[0].step.starts_with("verify"),
                "{:?}",
                interrupted
            );
            assert!(
                done.steps.iter().all(|s| s.finished_at.is_some()),
                "{:?}",
                done.steps
            );
            assert_eq!(region(&e2.snapshot(), "eu-west-1").role, RegionRole::Active);
        });
        second.shutdown_background();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_live_drill_injects_the_outage_fails_over_through_the_guards_and_is_reported() {
        use switchyard_core::drills::{DrillStatus, EventKind, Scenario};
        let (_sim, e) = fast(Store::in_memory(), false);
        e.start();
        until("a healthy start", 10, async || {
            (region(&e.snapshot(), "us-east-1").online > 900).then_some(())
        })
        .await;
        let sc: Scenario = serde_json::from_value(serde_json::json!({
            "name": "live us-east-1 outage",
            "mode": "live",
            "duration_secs": 10,
            "outage": { "at_secs": 1, "duration_secs": 300 },
            "failover": { "by": "script", "decide_secs": 1 }
        }))
        .unwrap();
        let d = e.start_drill(sc.clone(), "alice").await.unwrap();
        assert_eq!(d.status, DrillStatus::Running);
        let second = e.start_drill(sc, "bob").await.unwrap_err();
        assert!(
            matches!(&second, drills::DrillError::Conflict(m) if m.contains(&d.id)),
            "{second:?}"
        );
        let done = until("the drill's end", 30, async || {
            e.drill(&d.id)
                .await
                .unwrap()
                .filter(|d| d.summary.status != DrillStatus::Running)
        })
        .await;
        assert_eq!(done.error, None);
        let kinds: Vec<EventKind> = done.recording.events.iter().map(|e| e.kind).collect();
        let order = [
            EventKind::Started,
            EventKind::FaultInjected,
            EventKind::OutageDetected,
            EventKind::RecommendationShown,
            EventKind::FailoverConfirmed,
            EventKind::DevicesBack,
            EventKind::CommandProbe,
            EventKind::Ended,
        ];
        let pos: Vec<usize> = order
            .iter()
            .map(|k| {
                kinds
                    .iter()
                    .position(|x| x == k)
                    .unwrap_or_else(|| panic!("no {k:?} in {kinds:?}"))
            })
            .collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{kinds:?}");
        assert!(
            done.recording
                .events
                .iter()
                .any(|e| e.kind == EventKind::Step
                    && e.detail.starts_with("switch traffic to eu-west-1: ok")),
            "{:?}",
            done.recording.events
        );
        let m = done.metrics.as_ref().unwrap();
        assert!(m.time_to_detect_ms.is_some_and(|t| t < 2_000), "{m:?}");
        assert!(m.recovery_ms.is_some(), "{m:?}");
        // The probe previews a ping to the whole fleet once the devices are back.
        let probe = done
            .recording
            .probe
            .unwrap_or_else(|| panic!("no probe: {:?}", done.recording.events));
        assert_eq!(probe.targeted, 1_000);
        assert!(probe.reached > 900, "{probe:?}");
        assert_eq!(
            done.summary.status,
            if m.passed {
                DrillStatus::Passed
            } else {
                DrillStatus::Failed
            }
        );
        // The failover was the console's own, marked as a drill, by the drill's operator.
        let f = e
            .failover_overview()
            .await
            .unwrap()
            .recent
            .into_iter()
            .next()
            .unwrap();
        assert!(
            f.reason.starts_with(&format!("DRILL {}", d.id)),
            "{}",
            f.reason
        );
        assert_eq!(f.requested_by, "alice");
        assert_eq!(e.active_region().as_deref(), Some("eu-west-1"));
        let audit = e.store().audit_recent(20).unwrap();
        let starts: Vec<(&str, &str)> = audit
            .iter()
            .filter(|a| a.action == "drill.start")
            .map(|a| (a.actor.as_str(), a.result.as_deref().unwrap_or("")))
            .collect();
        let ok = format!("ok: {}", done.summary.status.as_str());
        let refused = format!("refused: another live drill is running: {}", d.id);
        assert_eq!(
            starts,
            vec![("bob", refused.as_str()), ("alice", ok.as_str())]
        );
        assert!(audit.iter().any(|a| a.action == "sim.inject_fault"
            && a.actor == "alice"
            && a.reason.starts_with("DRILL")));
        // Stored, listed, and the live lock released.
        assert_eq!(e.drills().await.unwrap().drills[0].id, d.id);
        assert!(e.abort_drill(&d.id, "bob").await.is_err());
    }
}

mod commands {
    use super::*;
    use serde_json::json;
    use switchyard_core::commands::{CommandRequest, OfflinePolicy, Outcome, RunStatus, Target};

    fn engine(sim: &SimSource, cfg: CommandConfig) -> Engine {
        let cfg = EngineConfig {
            poll_interval: Duration::from_millis(100),
            poll_timeout: Duration::from_millis(300),
            commands: CommandConfig {
                catalogue: crate::settings::default_catalogue(),
                ..cfg
            },
            ..EngineConfig::default()
        };
        Engine::new(
            cfg,
            Arc::new(sim.clone()),
            Some(Arc::new(sim.clone())),
            Store::in_memory(),
        )
        .with_channel(Arc::new(sim.clone()))
    }

    fn req(command: &str, payload: serde_json::Value, target: Target) -> CommandRequest {
        CommandRequest {
            command: command.into(),
            payload,
            target,
            offline: OfflinePolicy::Skip,
            reason: "after the failover".into(),
        }
    }

    async fn finished(
        e: &Engine,
        id: &str,
    ) -> (
        switchyard_core::commands::CommandRun,
        Vec<switchyard_core::commands::DeviceResult>,
    ) {
        let t0 = std::time::Instant::now();
        loop {
            let (run, results) = e.command_run(id, 0, 10_000).await.unwrap().unwrap();
            if run.status != RunStatus::Running {
                return (run, results);
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "{run:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A fleet where some devices of us-east-1 are offline (a short outage, then backoff).
    fn with_offline(seed: u64) -> SimSource {
        let sim = sim(seed);
        sim.with(|f| {
            (0..10).for_each(|_| f.step());
            f.inject("us-east-1:outage+4s".parse().unwrap()).unwrap();
            (0..6).for_each(|_| f.step());
        });
        sim
    }

    fn region_target() -> Target {
        Target::Region {
            code: "us-east-1".into(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn online_devices_get_the_publish_and_offline_ones_are_skipped_with_why() {
        let sim = with_offline(5);
        let e = engine(
            &sim,
            CommandConfig {
                rate_per_sec: 100_000,
                ..CommandConfig::default()
            },
        );
        let preview = e
            .preview_command(&req("ping", json!({}), region_target()))
            .await
            .unwrap();
        assert_eq!(preview.total, 1_000);
        assert!(preview.skip > 50 && preview.publish > 500, "{preview:?}");
        assert_eq!(preview.skipped.len(), 100, "the first 100 are listed");
        assert_eq!(
            preview
                .example_topic
                .as_deref()
                .map(|t| t.starts_with("cmd/dev-") && t.ends_with("/ping")),
            Some(true)
        );
        // A fleet-index query: online devices whose name contains dev-00000 (the first 100).
        let q = e
            .preview_command(&req(
                "ping",
                json!({}),
                Target::Query {
                    query: "connectivity.connected:true AND thingName:dev-00000*".into(),
                },
            ))
            .await
            .unwrap();
        assert!(
            q.total > 50 && q.total <= 100 && q.publish == q.total && q.skip == 0,
            "{q:?}"
        );
        let run = e
            .run_command(
                req("ping", json!({"nonce": "n1"}), region_target()),
                "alice",
            )
            .await
            .unwrap();
        let (run, results) = finished(&e, &run.id).await;
        assert_eq!(run.status, RunStatus::Completed);
        assert_eq!(run.sent + run.skipped + run.failed, 1_000, "{run:?}");
        assert_eq!(results.len(), 1_000);
        let d = sim.with(|f| f.deliveries.clone());
        assert_eq!(
            d.lost, 0,
            "nothing was published to a device that was not connected"
        );
        assert_eq!(d.received, run.sent);
        for r in &results {
            if let Outcome::SkippedOffline { since, .. } = r.outcome {
                assert!(since > 0, "{r:?}");
            }
        }
        let audit = e.store().audit_recent(5).unwrap();
        assert!(
            audit.iter().any(|a| a.action == "command.run"
                && a.actor == "alice"
                && a.result
                    .as_deref()
                    .is_some_and(|r| r.starts_with("completed:"))),
            "{audit:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn devices_going_offline_mid_run_are_skipped_at_send_time() {
        let sim = sim(6).fail_fast();
        tokio::spawn(sim.clone().run_clock(Duration::from_millis(50)));
        // A slow run, re-checking every device before it sends.
        let e = engine(
            &sim,
            CommandConfig {
                rate_per_sec: 400,
                recheck_after: Duration::ZERO,
                ..CommandConfig::default()
            },
        );
        let run = e
            .run_command(req("reconnect", json!({}), region_target()), "alice")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(700)).await;
        e.inject_fault("t", "drill", outage("us-east-1"))
            .await
            .unwrap();
        let (run, results) = finished(&e, &run.id).await;
        assert_eq!(run.sent + run.skipped + run.failed, 1_000, "{run:?}");
        let skipped_at_send = results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::SkippedOffline { .. }) && r.attempts == 0)
            .count();
        assert!(run.sent > 100 && skipped_at_send > 100, "{run:?}");
        assert_eq!(
            sim.with(|f| f.deliveries.lost),
            0,
            "no publish reached a disconnected device"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn throttling_is_retried_and_shadows_are_written_only_when_asked() {
        let sim = with_offline(7);
        // The first device is throttled three times, then gets through on its fourth attempt.
        sim.with(|f| f.deliveries.throttle_next = 3);
        let e = engine(
            &sim,
            CommandConfig {
                rate_per_sec: 100_000,
                concurrency: 1,
                max_attempts: 4,
                ..CommandConfig::default()
            },
        );
        let mut r = req(
            "set-report-interval",
            json!({"seconds": 60}),
            region_target(),
        );
        r.offline = OfflinePolicy::Shadow;
        let run = e.run_command(r, "bob").await.unwrap();
        let (run, results) = finished(&e, &run.id).await;
        assert_eq!(run.failed, 0, "throttled publishes were retried: {run:?}");
        assert_eq!(results.iter().map(|r| r.attempts).max(), Some(4));
        assert!(run.shadowed > 0 && run.skipped == 0, "{run:?}");
        let shadows = sim.with(|f| f.deliveries.shadows.clone());
        assert_eq!(shadows.len() as u64, run.shadowed);
        let doc: serde_json::Value =
            serde_json::from_slice(shadows.values().next().unwrap()).unwrap();
        assert_eq!(
            doc,
            json!({"state": {"desired": {"set-report-interval": {"seconds": 60}}}})
        );
        // A command that may not be persisted refuses the shadow option.
        let mut r = req("reconnect", json!({}), region_target());
        r.offline = OfflinePolicy::Shadow;
        let err = e.run_command(r, "bob").await.unwrap_err();
        assert!(
            matches!(&err, CommandError::Invalid(m) if m.contains("may not be written as shadow state")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn invalid_requests_send_nothing_and_say_what_is_wrong() {
        let sim = sim(8);
        let e = engine(&sim, CommandConfig::default());
        let cases = [
            (
                req("self-destruct", json!({}), region_target()),
                "command: 'self-destruct' is not in the catalogue",
            ),
            (
                req(
                    "set-report-interval",
                    json!({"seconds": 1}),
                    region_target(),
                ),
                "payload.seconds: 1 is below the minimum 5",
            ),
            (
                req("set-report-interval", json!({}), region_target()),
                "payload.seconds: required",
            ),
            (
                req(
                    "ping",
                    json!({"nonce": "x".repeat(200_000)}),
                    region_target(),
                ),
                "AWS IoT allows 131072",
            ),
            (
                req(
                    "ping",
                    json!({}),
                    Target::Devices {
                        ids: vec!["dev-0000001".into(), "no such".into()],
                    },
                ),
                "target.ids: 'no such' is not a thing name",
            ),
            (
                req(
                    "ping",
                    json!({}),
                    Target::Devices {
                        ids: vec!["dev-9999999".into()],
                    },
                ),
                "target.ids: no device named 'dev-9999999'",
            ),
            (
                req(
                    "ping",
                    json!({}),
                    Target::ThingGroup {
                        name: "nobody-here".into(),
                    },
                ),
                "target: no device matches",
            ),
        ];
        for (r, needle) in cases {
            let err = e.run_command(r.clone(), "carol").await.unwrap_err();
            match &err {
                CommandError::Invalid(m) => assert!(m.contains(needle), "{m} / {needle}"),
                other => panic!("{other:?}"),
            }
        }
        let err = e
            .run_command(
                req(
                    "ping",
                    json!({}),
                    Target::Query {
                        query: "attributes.fw:1".into(),
                    },
                ),
                "carol",
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, CommandError::Invalid(m) if m.starts_with("target.query: 'attributes.fw' is not supported")),
            "{err:?}"
        );
        let mut no_reason = req("ping", json!({}), region_target());
        no_reason.reason = " ".into();
        assert_eq!(
            e.run_command(no_reason, "carol").await.unwrap_err(),
            CommandError::Invalid("reason: required".into())
        );
        assert_eq!(sim.with(|f| f.deliveries.received + f.deliveries.lost), 0);
        assert!(e.command_runs(10).await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_can_be_cancelled() {
        let sim = sim(9);
        let e = engine(
            &sim,
            CommandConfig {
                rate_per_sec: 100,
                ..CommandConfig::default()
            },
        );
        let run = e
            .run_command(req("ping", json!({}), region_target()), "dan")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        e.cancel_command(&run.id).unwrap();
        let (run, _) = finished(&e, &run.id).await;
        assert_eq!(run.status, RunStatus::Cancelled);
        assert!(run.cancelled > 500 && run.sent > 0, "{run:?}");
        assert!(
            e.cancel_command(&run.id).is_err(),
            "a finished run cannot be cancelled"
        );
    }
}
