//! The switch's state as the truth about the active region, on the simulated fleet in tokio's
//! paused time: a move made outside the console is followed, audited and alerted, and a
//! confirmation against a preflight the move made stale is refused.

use super::failover::{fast, request, until};
use super::*;
use switchyard_core::alerts::AlertKind;
use switchyard_core::failover::Phase;

fn active(e: &Engine) -> Option<String> {
    e.active_region()
}

#[tokio::test(start_paused = true)]
async fn traffic_moved_outside_the_console_is_followed_within_one_poll_audited_and_alerted() {
    let (sim, e) = fast(Store::in_memory(), false);
    e.start();
    until("health", 10, async || {
        (region(&e.snapshot(), "eu-west-1").health.status == HealthStatus::Healthy).then_some(())
    })
    .await;
    assert_eq!(active(&e).as_deref(), Some("us-east-1"));
    // Someone else (another console, a runbook by hand) moves the devices.
    sim.with(|f| f.set_active("eu-west-1")).unwrap();
    let t0 = tokio::time::Instant::now();
    until("the console follows the switch", 5, async || {
        (active(&e).as_deref() == Some("eu-west-1")).then_some(())
    })
    .await;
    // Within one poll interval (100 ms here) and the reading's own time.
    assert!(
        t0.elapsed() <= Duration::from_millis(250),
        "{:?}",
        t0.elapsed()
    );
    let alerts = e.alerts(true, 50).await.unwrap().alerts;
    let moved = alerts
        .iter()
        .find(|a| a.kind == AlertKind::TrafficMovedOutside)
        .unwrap_or_else(|| panic!("{alerts:?}"));
    assert_eq!(moved.subject, "eu-west-1");
    assert!(
        moved.message.starts_with(
            "device traffic was moved to eu-west-1 outside this console (it had us-east-1 active)"
        ),
        "{}",
        moved.message
    );
    let audit = e.store().audit_recent(20).unwrap();
    let entry = audit
        .iter()
        .find(|a| a.action == "switch.follow")
        .unwrap_or_else(|| panic!("{audit:?}"));
    assert_eq!(entry.actor, "switchyard");
    assert_eq!(
        entry.result.as_deref(),
        Some("followed: eu-west-1 is the active region")
    );
    // The preflights follow: us-east-1 is now the standby the panel shows.
    until("a preflight of us-east-1", 5, async || {
        let o = e.failover_overview().await.unwrap();
        (o.active.as_deref() == Some("eu-west-1")
            && o.readiness.iter().any(|r| r.target == "us-east-1"))
        .then_some(())
    })
    .await;
    // Followed once: no second entry, no second alert, while the switch stays.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let follows = e
        .store()
        .audit_recent(50)
        .unwrap()
        .iter()
        .filter(|a| a.action == "switch.follow")
        .count();
    assert_eq!(follows, 1);
    // The alert clears once its hold is over.
    tokio::time::sleep(crate::engine::MOVED_ALERT_HOLD).await;
    let open = e.alerts(true, 50).await.unwrap().alerts;
    assert!(
        !open
            .iter()
            .any(|a| a.kind == AlertKind::TrafficMovedOutside),
        "{open:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_confirmation_against_a_preflight_the_switch_no_longer_agrees_with_is_a_conflict() {
    let (sim, e) = fast(Store::in_memory(), false);
    // Not started: no poller follows the switch, so the move is first seen at confirmation.
    e.poll_once("us-east-1").await;
    e.poll_once("eu-west-1").await;
    e.poll_once("ap-southeast-2").await;
    let pre = e.readiness("eu-west-1").await.unwrap();
    assert_ne!(
        pre.overall,
        switchyard_core::failover::Verdict::Fail,
        "{pre:?}"
    );
    // Moved to ap-southeast-2 outside this console after the operator's preflight.
    sim.with(|f| f.set_active("ap-southeast-2")).unwrap();
    let err = e
        .request_failover(request("eu-west-1"), "alice")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict, "{err:?}");
    assert!(
        err.message.starts_with(
            "the devices were moved since this preflight: the switch sends them to ap-southeast-2 now, not us-east-1"
        ),
        "{}",
        err.message
    );
    // Nothing was started, and the console now agrees with the switch.
    assert!(e.store().failovers_recent(10).unwrap().is_empty());
    assert_eq!(active(&e).as_deref(), Some("ap-southeast-2"));
    assert_eq!(
        sim.with(|f| f.active_region().to_string()),
        "ap-southeast-2"
    );
    // A request made now, against the new truth, goes through.
    let f = e
        .request_failover(request("eu-west-1"), "alice")
        .await
        .unwrap()
        .started()
        .expect("started");
    assert_eq!(f.source, "ap-southeast-2");
    assert_ne!(f.phase, Phase::Failed);
}

/// The simulated fleet's switch, refusing every switch in an ARC safety rule's words, and
/// counting the calls.
struct Refusing {
    sim: SimSource,
    calls: std::sync::atomic::AtomicUsize,
}

const RULE: &str = "UpdateRoutingControlStates: ConflictException: safety rule \
                    at-least-one-region-on: at least one routing control must be On";

impl crate::ports::TrafficSwitch for Refusing {
    fn readiness_facts<'a>(
        &'a self,
        active: &'a str,
        target: &'a str,
    ) -> crate::ports::BoxFuture<
        'a,
        Result<switchyard_core::failover::ReadinessFacts, crate::ports::SourceError>,
    > {
        self.sim.readiness_facts(active, target)
    }
    fn switch_to<'a>(
        &'a self,
        _target: &'a str,
    ) -> crate::ports::BoxFuture<'a, Result<String, crate::ports::SwitchError>> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async { Err(crate::ports::SwitchError::Refused(RULE.into())) })
    }
    fn pointed_at(
        &self,
    ) -> crate::ports::BoxFuture<
        '_,
        Result<switchyard_core::switch::Pointed, crate::ports::SourceError>,
    > {
        self.sim.pointed_at()
    }
}

#[tokio::test(start_paused = true)]
async fn a_switch_refused_by_a_safety_rule_fails_at_once_in_the_rules_words_without_a_retry() {
    use crate::ports::TrafficSwitch;
    let sim = super::sim(3).fail_fast();
    tokio::spawn(sim.clone().run_clock(Duration::from_millis(100)));
    let refusing = std::sync::Arc::new(Refusing {
        sim: sim.clone(),
        calls: Default::default(),
    });
    let mut adapters = sim.adapters();
    adapters.switch = Some(refusing.clone() as std::sync::Arc<dyn TrafficSwitch>);
    let cfg = EngineConfig {
        poll_interval: Duration::from_millis(100),
        poll_timeout: Duration::from_millis(200),
        ..EngineConfig::default()
    };
    let e = EngineKit::new(adapters)
        .config(cfg)
        .tokio_clock(crate::clock::now_ms())
        .build();
    e.start();
    until("health", 10, async || {
        (region(&e.snapshot(), "eu-west-1").health.status == HealthStatus::Healthy).then_some(())
    })
    .await;
    let f = e
        .request_failover(request("eu-west-1"), "alice")
        .await
        .unwrap()
        .started()
        .expect("started");
    let done = until("the failover to end", 30, async || {
        e.failover(&f.id)
            .await
            .unwrap()
            .filter(|f| f.phase.is_final())
    })
    .await;
    assert_eq!(done.phase, Phase::Failed, "{done:?}");
    assert_eq!(
        done.outcome.as_deref(),
        Some(format!("the traffic switch failed: refused: {RULE}").as_str())
    );
    assert_eq!(refusing.calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(active(&e).as_deref(), Some("us-east-1"));
}
