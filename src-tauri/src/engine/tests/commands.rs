//! The engine's command runs on the simulated fleet, in tokio's paused time.

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
    EngineKit::sim(sim)
        .config(cfg)
        .without_switch()
        .tokio_clock(crate::clock::now_ms())
        .build()
}

fn req(command: &str, payload: serde_json::Value, target: Target) -> CommandRequest {
    CommandRequest {
        command: command.into(),
        payload,
        target,
        offline: OfflinePolicy::Skip,
        reason: "after the failover".into(),
        confirm_count: None,
    }
}

async fn finished(
    e: &Engine,
    id: &str,
) -> (
    switchyard_core::commands::CommandRun,
    Vec<switchyard_core::commands::DeviceResult>,
) {
    let t0 = tokio::time::Instant::now();
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

#[tokio::test(start_paused = true)]
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

#[tokio::test(start_paused = true)]
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

#[tokio::test(start_paused = true)]
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
    let doc: serde_json::Value = serde_json::from_slice(shadows.values().next().unwrap()).unwrap();
    assert_eq!(
        doc,
        json!({"state": {"desired": {"set-report-interval": {"seconds": 60}}}})
    );
    // A command that may not be persisted refuses the shadow option.
    let mut r = req("reconnect", json!({}), region_target());
    r.offline = OfflinePolicy::Shadow;
    let err = e.run_command(r, "bob").await.unwrap_err();
    assert!(
        matches!(&err, Error { kind: ErrorKind::Invalid, message: m } if m.contains("may not be written as shadow state")),
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
            Error {
                kind: ErrorKind::Invalid,
                message: m,
            } => assert!(m.contains(needle), "{m} / {needle}"),
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
        matches!(&err, Error { kind: ErrorKind::Invalid, message: m } if m.starts_with("target.query: 'attributes.fw' is not supported")),
        "{err:?}"
    );
    let mut no_reason = req("ping", json!({}), region_target());
    no_reason.reason = " ".into();
    assert_eq!(
        e.run_command(no_reason, "carol").await.unwrap_err(),
        Error::invalid("reason: required")
    );
    assert_eq!(sim.with(|f| f.deliveries.received + f.deliveries.lost), 0);
    assert!(e.command_runs(10).await.unwrap().is_empty());
}

/// A ping to a region at 100 a second: slow enough to cancel on the way.
async fn a_slow_run() -> (SimSource, Engine, switchyard_core::commands::CommandRun) {
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
    (sim, e, run)
}

#[tokio::test(start_paused = true)]
async fn a_run_can_be_cancelled() {
    let (_sim, e, run) = a_slow_run().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    e.cancel_command(&run.id, "erin").await.unwrap();
    let (run, _) = finished(&e, &run.id).await;
    assert_eq!(run.status, RunStatus::Cancelled);
    assert!(run.cancelled > 500 && run.sent > 0, "{run:?}");
    assert!(
        e.cancel_command(&run.id, "erin").await.is_err(),
        "a finished run cannot be cancelled"
    );
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_run_is_audited_with_its_operator_and_so_is_a_refused_cancel() {
    let (_sim, e, run) = a_slow_run().await;
    e.cancel_command(&run.id, "erin").await.unwrap();
    finished(&e, &run.id).await;
    e.cancel_command(&run.id, "frank").await.unwrap_err();
    let log = e.store().audit_recent(10).unwrap();
    let cancels: Vec<_> = log
        .iter()
        .filter(|a| a.action == "command.cancel")
        .collect();
    assert_eq!(cancels.len(), 2, "{log:?}");
    let by = |who: &str| cancels.iter().find(|a| a.actor == who).copied();
    let erin = by("erin").expect("erin's cancel is audited");
    assert_eq!(erin.result.as_deref(), Some("ok"));
    assert!(erin.detail.contains(&run.id), "{erin:?}");
    let frank = by("frank").expect("a refused cancel is audited too");
    assert!(
        frank
            .result
            .as_deref()
            .unwrap_or("")
            .starts_with("refused: no running command"),
        "{frank:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_send_past_the_threshold_is_refused_until_its_count_is_confirmed() {
    let sim = with_offline(5);
    let e = engine(
        &sim,
        CommandConfig {
            rate_per_sec: 100_000,
            confirm_above: 10,
            ..CommandConfig::default()
        },
    );
    let preview = e
        .preview_command(&req("reconnect", json!({}), region_target()))
        .await
        .unwrap();
    assert_eq!(preview.confirm_above, Some(10));
    let n = preview.publish + preview.shadow;
    let refused = e
        .run_command(req("reconnect", json!({}), region_target()), "ana")
        .await
        .unwrap_err();
    assert!(
        refused.message.contains(&format!("sends to {n} devices")),
        "{}",
        refused.message
    );
    let mut wrong = req("reconnect", json!({}), region_target());
    wrong.confirm_count = Some(n / 2);
    assert!(
        e.run_command(wrong, "ana").await.is_err(),
        "twice the confirmed count"
    );
    let mut right = req("reconnect", json!({}), region_target());
    right.confirm_count = Some(n);
    let run = e.run_command(right, "ana").await.unwrap();
    // What the devices get carries the schema's default jitter.
    assert_eq!(run.payload, json!({ "jitter_secs": 30 }));
}
