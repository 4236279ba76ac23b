//! The engine's failovers and live drills on the simulated fleet, in tokio's paused time.

use super::*;
use switchyard_core::failover::{FailoverRequest, Phase, Verdict};

pub(super) fn request(target: &str) -> FailoverRequest {
    FailoverRequest {
        target: target.into(),
        confirm: target.into(),
        reason: "us-east-1 outage, ticket INC-42".into(),
        override_warnings: false,
    }
}

/// A fail-fast simulation (100 ms a simulated second), polled every 100 ms, on tokio's paused
/// clock: the tests run in simulated time, not in real time.
pub(super) fn fast(store: Store, two_person: bool) -> (SimSource, Engine) {
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
            // The test fleet's TTL is 10 simulated seconds: 1 s of this clock.
            dns_ttl: Duration::from_secs(1),
            stragglers_rate: 2_000.0,
            stragglers: if reconnect {
                switchyard_core::moving::StragglerMethod::Disconnect
            } else {
                switchyard_core::moving::StragglerMethod::Off
            },
            ..FailoverConfig::default()
        },
        commands: CommandConfig {
            catalogue: crate::settings::default_catalogue(),
            ..CommandConfig::default()
        },
        ..EngineConfig::default()
    };
    // Wall time follows tokio's (paused) clock, from today's date as in production.
    let e = EngineKit::sim(&sim)
        .config(cfg)
        .store(store)
        .tokio_clock(crate::clock::now_ms())
        .build();
    (sim, e)
}

pub(super) async fn until<T>(what: &str, secs: u64, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let t0 = tokio::time::Instant::now();
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

#[tokio::test(start_paused = true)]
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
        .unwrap()
        .started()
        .expect("a failover started");
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
    // The TTL waited out; the old region in outage lists nobody, so the step is skipped with
    // the reason; the devices come back on their own as their caches expire.
    assert!(
        steps[1]
            .0
            .starts_with("wait for devices to re-resolve (TTL 1 s, by "),
        "{steps:?}"
    );
    assert_eq!(steps[1].1, Some("ok"), "{steps:?}");
    assert_eq!(
        steps[2],
        (
            "move the stragglers off us-east-1 (disconnect)",
            Some("skipped")
        ),
    );
    assert!(
        done.stragglers
            .as_ref()
            .unwrap()
            .detail
            .contains("us-east-1"),
        "{:?}",
        done.stragglers
    );
    assert_eq!(steps[3].1, Some("ok"), "{steps:?}");
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
        (region(&e.snapshot(), "us-east-1").health.status == HealthStatus::Healthy).then_some(())
    })
    .await;
    let back = e
        .request_failover(request("us-east-1"), "alice")
        .await
        .unwrap()
        .started()
        .expect("a failover started");
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
        .unwrap();
    assert_eq!(
        again,
        Requested::NothingToDo(format!(
            "{} is already the active region: there is nothing to do",
            rec.target
        ))
    );
    drop(sim);
}

#[tokio::test(start_paused = true)]
async fn two_requests_at_once_one_wins_and_the_other_is_told_why() {
    let (_sim, e) = fast(Store::in_memory(), true);
    e.start();
    until("health", 10, async || {
        (region(&e.snapshot(), "eu-west-1").health.status == HealthStatus::Healthy).then_some(())
    })
    .await;
    let (a, b) = tokio::join!(
        e.request_failover(request("eu-west-1"), "alice"),
        e.request_failover(request("ap-southeast-2"), "bob"),
    );
    let (won, lost) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w.started().expect("a failover started"), l),
        other => panic!("exactly one must win: {other:?}"),
    };
    assert_eq!(won.phase, Phase::AwaitingApproval);
    match lost {
        Error {
            kind: ErrorKind::Conflict,
            message: m,
        } => {
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
        matches!(&err, Error { kind: ErrorKind::Invalid, message: m } if m.starts_with("the two-person rule")),
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

#[tokio::test(start_paused = true)]
async fn a_bad_confirmation_or_a_failing_preflight_does_nothing() {
    let (sim, e) = fast(Store::in_memory(), false);
    e.start();
    until("health", 10, async || {
        (region(&e.snapshot(), "eu-west-1").health.status == HealthStatus::Healthy).then_some(())
    })
    .await;
    let mut bad = request("eu-west-1");
    bad.confirm = "eu-west".into();
    let err = e.request_failover(bad, "alice").await.unwrap_err();
    assert_eq!(
        err,
        Error::invalid("type the target region's name, eu-west-1, to confirm")
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
        matches!(&err, Error { kind: ErrorKind::Invalid, message: m } if m.starts_with("the preflight fails (")),
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
        // No straggler step: live connections stay on us-east-1 (only churn moves a few), so
        // the run waits in its verify step.
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
            .unwrap()
            .started()
            .expect("a failover started");
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
        let e2 = EngineKit::sim(&sim)
            .config(cfg)
            .store(store)
            .without_channel()
            .tokio_clock(crate::clock::now_ms())
            .build();
        e2.start();
        // Live connections stay on us-east-1 (the first process moved no stragglers, and the
        // resumed run is past that step): once the TTL has passed (60 simulated seconds, 6 s
        // here), drop them there, as the straggler step would have.
        let world = sim.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(7)).await;
            world.with(|f| {
                let mut next = None;
                loop {
                    let Ok(page) = f.connected_page("us-east-1", next.as_deref()) else {
                        return;
                    };
                    for thing in &page.things {
                        let _ = f.disconnect("us-east-1", thing);
                    }
                    match page.next {
                        Some(token) => next = Some(token),
                        None => return,
                    }
                }
            })
        });
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

// Real time until the live drill runner follows the engine's clock.
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
        matches!(&second, Error { kind: ErrorKind::Conflict, message: m } if m.contains(&d.id)),
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
