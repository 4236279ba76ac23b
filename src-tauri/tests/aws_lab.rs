//! The AWS adapters against the local lab: real moto servers on loopback, one per region, over
//! real HTTP through the official SDK. Run by `cargo xtask test` (which installs moto); by hand:
//! `cargo test -p switchyard --test aws_lab -- --ignored`.

use std::time::{Duration, Instant};
use switchyard::aws::lab::{self, Lab, LabPlan};
use switchyard::aws::AwsSource;
use switchyard::engine::{Adapters, Engine};
use switchyard::ports::FleetSource;
use switchyard::settings::{ConfigFile, Overrides, Settings};
use switchyard::store::Store;
use switchyard_core::{devices::DeviceQuery, HealthStatus, RegionRole};

const WHY: &str = "needs moto_server (cargo xtask setup): run `cargo xtask test`";

async fn start(plan: LabPlan) -> (Lab, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let moto = lab::find_moto_server(None).unwrap();
    let lab = Lab::start(&moto, dir.path(), plan).await.unwrap();
    (lab, dir)
}

fn settings(lab: &Lab, data: &std::path::Path) -> Settings {
    let file = ConfigFile::load(&lab.config_path).unwrap();
    Settings::resolve(
        file,
        Some("lab"),
        Overrides {
            data_dir: Some(data.to_path_buf()),
            ..Overrides::default()
        },
    )
    .unwrap()
}

async fn source(lab: &Lab, data: &std::path::Path) -> AwsSource {
    let s = settings(lab, data);
    AwsSource::connect(s.aws.unwrap(), s.engine.poll_timeout).await
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn every_read_adapter_reports_the_seeded_lab() {
    let _ = WHY;
    let (lab, dir) = start(LabPlan::default()).await;
    let aws = source(&lab, dir.path()).await;
    assert_eq!(
        aws.regions(),
        vec![
            ("us-east-1".to_string(), RegionRole::Active),
            ("us-west-2".to_string(), RegionRole::Standby)
        ]
    );

    // Edge first: region backlog totals come from the gateway poll.
    let edge = aws.gateways().await.unwrap();
    assert_eq!(edge.gateways.len(), 6);
    let gw0 = edge.gateways.iter().find(|g| g.id == "lab-gw-00").unwrap();
    assert_eq!(gw0.connected_region.as_deref(), Some("us-east-1"));
    assert_eq!(gw0.backlog.messages, 80_000);
    assert_eq!(gw0.backlog.bytes, 80_000 * 180);
    assert_eq!(gw0.backlog.oldest_age_ms, 4_000 * 1_000);
    assert_eq!(gw0.capacity_messages, 100_000);
    let gw5 = edge.gateways.iter().find(|g| g.id == "lab-gw-05").unwrap();
    assert_eq!(gw5.connected_region.as_deref(), Some("us-west-2"));

    // Regions: 24 sensors + 6 gateways registered in each (moto reports every thing connected).
    let east = aws.observe("us-east-1").await.unwrap();
    assert_eq!((east.online, east.offline), (30, 0), "{east:?}");
    assert!(east.problems.is_empty(), "{:?}", east.problems);
    assert_eq!(east.connect_attempts, 123); // 120 + 2 + 1, seeded per minute
    assert_eq!(east.connect_errors, 1);
    assert_eq!((east.publish_in, east.publish_errors), (2_403, 3));
    assert_eq!(east.backlog.gateways, 5);
    assert_eq!(
        east.backlog.messages,
        edge.gateways
            .iter()
            .filter(|g| g.connected_region.as_deref() == Some("us-east-1"))
            .map(|g| g.backlog.messages)
            .sum::<u64>()
    );
    let west = aws.observe("us-west-2").await.unwrap();
    assert_eq!(west.online, 30);
    assert_eq!(west.backlog.gateways, 1);
    assert_eq!(west.connect_attempts, 6); // 5% of the active region's traffic

    // Devices: a group filter, paging, and one device by name.
    let q = DeviceQuery {
        thing_group: Some("sensors".into()),
        limit: Some(10),
        offset: 20,
        ..DeviceQuery::default()
    };
    let page = aws.devices(&q).await.unwrap();
    assert_eq!(page.total, 24);
    let ids: Vec<&str> = page.items.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(
        ids.iter().all(|id| id.starts_with("lab-sensor-")),
        "{ids:?}"
    );
    let d = aws.device("lab-sensor-007").await.unwrap().unwrap();
    assert_eq!(d.device.thing_groups, vec!["sensors".to_string()]);
    assert!(d.device.connectivity.is_online());
    assert!(
        d.device.connectivity.since() > 1_700_000_000_000,
        "{:?}",
        d.device.connectivity
    );
    assert!(aws.device("lab-sensor-999").await.unwrap().is_none());
    assert!(aws.device("bad name!").await.unwrap().is_none());

    // Readiness facts: the lab registers every certificate in both regions.
    let f = aws.readiness_facts("us-east-1", "us-west-2").await.unwrap();
    assert_eq!((f.devices, f.certificates_in_target), (30, 30));
    assert!(f.missing_certificates.is_empty());
    assert_eq!(f.active_rules, f.target_rules);
    assert_eq!(
        f.target_rules
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        vec!["alarms_forward", "telemetry_ingest"]
    );
    assert!(f
        .target_rules
        .iter()
        .all(|r| r.enabled && r.sql.starts_with("SELECT")));
    assert_eq!(f.domain_configuration_enabled, Some(true));
    assert_eq!(f.dns_points_to, Some(lab::data_endpoint("us-east-1")));
    assert_eq!(f.target_endpoint, lab::data_endpoint("us-west-2"));
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn readiness_sees_gaps_and_the_switch_and_device_channel_write() {
    let (lab, dir) = start(LabPlan::default()).await;
    let aws = source(&lab, dir.path()).await;

    // Take one certificate away from the standby and disable one of its rules.
    let west = lab.iot("us-west-2").await;
    let certs = west.list_certificates().send().await.unwrap();
    let victim = certs.certificates()[3]
        .certificate_id()
        .unwrap()
        .to_string();
    west.update_certificate()
        .certificate_id(&victim)
        .new_status(aws_sdk_iot::types::CertificateStatus::Inactive)
        .send()
        .await
        .unwrap();
    west.disable_topic_rule()
        .rule_name("telemetry_ingest")
        .send()
        .await
        .unwrap();
    let f = aws.readiness_facts("us-east-1", "us-west-2").await.unwrap();
    assert_eq!(f.certificates_in_target, 29);
    assert_eq!(f.missing_certificates, vec![victim]);
    let rule = f
        .target_rules
        .iter()
        .find(|r| r.name == "telemetry_ingest")
        .unwrap();
    assert!(!rule.enabled);
    let verdict = switchyard_core::failover::readiness(
        &switchyard_core::failover::ReadinessFacts {
            target_health: HealthStatus::Healthy,
            ..f
        },
        &switchyard_core::failover::ReadinessPolicy::default(),
    );
    assert_eq!(
        verdict.overall,
        switchyard_core::failover::Verdict::Fail,
        "{verdict:?}"
    );

    // The traffic switch: UPSERT the devices' record to the standby, then back.
    let change = aws.point_devices_at("us-west-2").await.unwrap();
    assert!(!change.is_empty());
    assert_eq!(
        aws.dns_target().await.unwrap(),
        Some(lab::data_endpoint("us-west-2"))
    );
    // The alternative: invert the active region's health check, and restore it.
    let r53 = lab.route53().await;
    let hc = lab
        .health_checks
        .iter()
        .find(|(r, _)| r == "us-east-1")
        .unwrap()
        .1
        .clone();
    // Read back with a client of the test's own, not through the adapter under test.
    for inverted in [true, false] {
        aws.invert_health_check("us-east-1", inverted)
            .await
            .unwrap();
        let got = r53
            .get_health_check()
            .health_check_id(&hc)
            .send()
            .await
            .unwrap();
        assert_eq!(
            got.health_check()
                .unwrap()
                .health_check_config()
                .unwrap()
                .inverted(),
            Some(inverted)
        );
    }

    // The device channel: a publish, and a shadow write read back through the lab.
    aws.publish(
        "us-east-1",
        "fleet/lab-sensor-001/commands",
        br#"{"op":"reboot"}"#.to_vec(),
    )
    .await
    .unwrap();
    let doc = br#"{"state":{"desired":{"mode":"standby"}}}"#.to_vec();
    aws.update_shadow("us-east-1", "lab-sensor-002", None, doc)
        .await
        .unwrap();
    let shadow = lab
        .dataplane("us-east-1")
        .await
        .get_thing_shadow()
        .thing_name("lab-sensor-002")
        .send()
        .await
        .unwrap();
    let text = String::from_utf8(shadow.payload().unwrap().as_ref().to_vec()).unwrap();
    assert!(
        text.contains(r#""mode":"standby""#) || text.contains(r#""mode": "standby""#),
        "{text}"
    );
    // Connectivity indexing turned off in a region: said, with how to turn it back on.
    west.update_indexing_configuration()
        .thing_indexing_configuration(
            aws_sdk_iot::types::ThingIndexingConfiguration::builder()
                .thing_indexing_mode(aws_sdk_iot::types::ThingIndexingMode::Registry)
                .thing_connectivity_indexing_mode(
                    aws_sdk_iot::types::ThingConnectivityIndexingMode::Off,
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let obs = aws.observe("us-west-2").await.unwrap();
    assert_eq!((obs.online, obs.offline), (0, 0));
    assert_eq!(obs.problems.len(), 1, "{:?}", obs.problems);
    assert!(
        obs.problems[0].starts_with("connectivity indexing is off in us-west-2")
            && obs.problems[0].contains("thingConnectivityIndexingMode=STATUS"),
        "{:?}",
        obs.problems
    );
    let health = switchyard_core::health::assess(Ok(&obs), &Default::default());
    assert_eq!(health.status, HealthStatus::Degraded);

    // A bad target is named, not attempted.
    let err = aws.point_devices_at("eu-central-1").await.unwrap_err();
    assert!(
        err.0.contains("eu-central-1 is not a configured region"),
        "{err}"
    );
}

/// Polls the engine's state until `ok` holds or `within` passes; returns how long it took.
async fn until(
    engine: &Engine,
    within: Duration,
    ok: impl Fn(&switchyard_core::FleetSnapshot) -> bool,
) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < within {
        if ok(&engine.snapshot()) {
            return Some(t0.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

fn health(s: &switchyard_core::FleetSnapshot, region: &str) -> HealthStatus {
    s.regions
        .iter()
        .find(|r| r.id == region)
        .unwrap()
        .health
        .status
}

fn observed(s: &switchyard_core::FleetSnapshot, region: &str) -> u64 {
    s.regions
        .iter()
        .find(|r| r.id == region)
        .unwrap()
        .observed_at
        .unwrap_or(0)
}

/// Starts the engine on the lab with its written configuration (5 s polls, 2.5 s timeout).
async fn engine_on(lab: &Lab, dir: &std::path::Path) -> Engine {
    let s = settings(lab, dir);
    let aws = AwsSource::connect(s.aws.clone().unwrap(), s.engine.poll_timeout).await;
    let adapters = Adapters {
        switch: Some(std::sync::Arc::new(aws.clone())),
        ..Adapters::observe_only(std::sync::Arc::new(aws))
    };
    let engine = Engine::new(s.engine.clone(), adapters, Store::open(dir).unwrap());
    engine.start();
    let up = until(&engine, Duration::from_secs(15), |s| {
        s.regions
            .iter()
            .all(|r| r.health.status == HealthStatus::Healthy)
    })
    .await;
    assert!(
        up.is_some(),
        "both lab regions healthy: {:?}",
        engine.snapshot()
    );
    engine
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn a_killed_region_is_unreachable_within_10_s_and_the_other_keeps_updating() {
    let (mut lab, dir) = start(LabPlan::default()).await;
    let engine = engine_on(&lab, dir.path()).await;
    let before = observed(&engine.snapshot(), "us-east-1");
    lab.kill("us-west-2");
    let took = until(&engine, Duration::from_secs(10), |s| {
        health(s, "us-west-2") == HealthStatus::Unreachable
    })
    .await
    .expect("the killed region turned unreachable within 10 s");
    eprintln!("killed (connection refused) → unreachable in {took:?}");
    let after = until(&engine, Duration::from_secs(8), |s| {
        observed(s, "us-east-1") > before
    })
    .await;
    assert!(after.is_some(), "the active region kept updating");
    assert_eq!(
        health(&engine.snapshot(), "us-east-1"),
        HealthStatus::Healthy
    );
    engine.shutdown();
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn a_hung_region_is_unreachable_within_10_s_and_never_blocks_the_other() {
    let (lab, dir) = start(LabPlan::default()).await;
    let engine = engine_on(&lab, dir.path()).await;
    lab.freeze("us-east-1").unwrap();
    let took = until(&engine, Duration::from_secs(10), |s| {
        health(s, "us-east-1") == HealthStatus::Unreachable
    })
    .await
    .expect("the hung region turned unreachable within 10 s");
    eprintln!("frozen (SIGSTOP, accepts and never answers) → unreachable in {took:?}");
    let before = observed(&engine.snapshot(), "us-west-2");
    let after = until(&engine, Duration::from_secs(8), |s| {
        observed(s, "us-west-2") > before
    })
    .await;
    assert!(
        after.is_some(),
        "the standby kept updating while the active hung"
    );
    lab.thaw("us-east-1").unwrap();
    let back = until(&engine, Duration::from_secs(15), |s| {
        health(s, "us-east-1") == HealthStatus::Healthy
    })
    .await;
    assert!(back.is_some(), "the thawed region came back");
    engine.shutdown();
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn a_poll_makes_the_same_calls_whatever_the_fleet_size() {
    use aws_sdk_iot::operation::get_buckets_aggregation::GetBucketsAggregationOutput;
    use aws_sdk_iot::types::Bucket;
    use aws_smithy_mocks::{mock, MockResponseInterceptor, RuleMode};
    // moto lacks aggregation: mock that one call, send everything else to the lab.
    let agg = mock!(aws_sdk_iot::Client::get_buckets_aggregation)
        .sequence()
        .output(|| {
            GetBucketsAggregationOutput::builder()
                .buckets(Bucket::builder().key_value("true").count(7).build())
                .build()
        })
        .repeatedly()
        .build();
    let mocks = MockResponseInterceptor::new()
        .rule_mode(RuleMode::MatchAny)
        .with_rule(&agg)
        .allow_passthrough();
    let (lab, dir) = start(LabPlan::default()).await;
    let mut s = settings(&lab, dir.path()).aws.unwrap();
    s.counts = switchyard::settings::CountMethod::Aggregation;
    let aws = AwsSource::connect_with(
        s,
        Duration::from_millis(2_500),
        vec![aws_smithy_runtime_api::client::interceptors::SharedInterceptor::new(mocks)],
    )
    .await;
    // Warm up (the endpoint and indexing state are asked once and remembered).
    aws.observe("us-east-1").await.unwrap();
    let poll = |aws: AwsSource| async move {
        let before = aws.calls("us-east-1").unwrap();
        let obs = aws.observe("us-east-1").await.unwrap();
        (obs, aws.calls("us-east-1").unwrap().since(&before))
    };
    let (obs, small) = poll(aws.clone()).await;
    assert_eq!(obs.online, 7);
    // Grow the fleet tenfold.
    let iot = lab.iot("us-east-1").await;
    for i in 0..270 {
        iot.create_thing()
            .thing_name(format!("extra-{i:03}"))
            .send()
            .await
            .unwrap();
    }
    let (_, large) = poll(aws.clone()).await;
    eprintln!("calls per poll of one region: {:?}", small.calls);
    assert_eq!(
        small, large,
        "the calls of a poll do not depend on the fleet's size"
    );
    assert_eq!(small.total(), 2, "{small:?}");
    assert_eq!(small.failed(), 0);
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn failover_with_the_active_region_dead_moves_the_route53_record() {
    use switchyard_core::failover::{FailoverRequest, Phase};
    let (mut lab, dir) = start(LabPlan::default()).await;
    let engine = engine_on(&lab, dir.path()).await;
    // The standby's preflight, read while the active region answers: it passes but for the
    // switch path, which warns that the record needs Route 53's control plane, served from
    // us-east-1, the region being left.
    let pre = engine.readiness("us-west-2").await.unwrap();
    assert_only_the_switch_path_warns(&pre);

    lab.kill("us-east-1");
    until(&engine, Duration::from_secs(10), |s| {
        health(s, "us-east-1") == HealthStatus::Unreachable
    })
    .await
    .expect("the active region unreachable");
    // A fresh preflight with the active region dead: its certificates and rules come from the
    // copy read while it answered, and the target still passes.
    let fresh = engine.readiness("us-west-2").await.unwrap();
    assert_only_the_switch_path_warns(&fresh);
    assert!(
        fresh.checks.iter().any(|c| c
            .reasons
            .iter()
            .any(|r| r.contains("does not answer: compared with"))),
        "{fresh:?}"
    );
    let f = engine
        .request_failover(
            FailoverRequest {
                target: "us-west-2".into(),
                confirm: "us-west-2".into(),
                reason: "lab: us-east-1 killed".into(),
                // The operator read the switch path's warning: Route 53's moto still answers.
                override_warnings: true,
            },
            "lab-test",
        )
        .await
        .unwrap()
        .started()
        .expect("a failover started");
    let t0 = Instant::now();
    let done = loop {
        let cur = engine.failover(&f.id).await.unwrap().unwrap();
        if cur.phase.is_final() {
            break cur;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "{cur:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done.phase, Phase::Completed, "{done:?}");
    assert_eq!(
        done.steps[0].outcome.as_deref(),
        Some("ok"),
        "{:?}",
        done.steps
    );
    assert_eq!(
        done.steps[1].outcome.as_deref(),
        Some("skipped"),
        "{:?}",
        done.steps
    );

    // The devices' record, read back through the SDK from the lab's Route 53.
    assert_eq!(dns_target(&lab).await, lab::data_endpoint("us-west-2"));
    assert_eq!(
        engine.snapshot().active_region().map(|r| r.id.as_str()),
        Some("us-west-2")
    );
    engine.shutdown();
}

/// Every check passes but the switch path, which warns (the record leaving us-east-1).
fn assert_only_the_switch_path_warns(r: &switchyard_core::failover::Readiness) {
    use switchyard_core::failover::Verdict;
    assert_eq!(r.overall, Verdict::Warn, "{r:?}");
    for c in &r.checks {
        let want = if c.name == "switch path" {
            Verdict::Warn
        } else {
            Verdict::Pass
        };
        assert_eq!(c.verdict, want, "{c:?}");
    }
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn commands_reach_the_lab_as_publishes_and_shadow_writes() {
    use serde_json::json;
    use switchyard_core::commands::{CommandRequest, OfflinePolicy, RunStatus, Target};
    let (lab, dir) = start(LabPlan::default()).await;
    let s = settings(&lab, dir.path());
    let aws = AwsSource::connect(s.aws.clone().unwrap(), s.engine.poll_timeout).await;
    let warm = aws.clone();
    let mut cfg = s.engine.clone();
    cfg.commands.catalogue = switchyard::settings::default_catalogue();
    let adapters = Adapters {
        channel: Some(std::sync::Arc::new(aws.clone())),
        connections: None,
        ..Adapters::observe_only(std::sync::Arc::new(aws))
    };
    let engine = Engine::new(cfg, adapters, Store::open(dir.path()).unwrap());
    // moto loads a service on its first call, slowly; 24 first publishes at once then outlive
    // the SDK's attempt timeout and are sent again. One publish first, before the recording.
    warm.publish("us-east-1", "lab/warm-up", b"{}".to_vec())
        .await
        .unwrap();
    lab.record("us-east-1").await.unwrap();
    let run = engine
        .run_command(
            CommandRequest {
                command: "set-report-interval".into(),
                payload: json!({"seconds": 30}),
                target: Target::ThingGroup {
                    name: "sensors".into(),
                },
                offline: OfflinePolicy::Shadow,
                reason: "lab".into(),
                confirm_count: None,
            },
            "lab-test",
        )
        .await
        .unwrap();
    let t0 = Instant::now();
    let run = loop {
        let (r, _) = engine.command_run(&run.id, 0, 1).await.unwrap().unwrap();
        if r.status != RunStatus::Running {
            break r;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "{r:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // moto reports every thing connected: all 24 sensors get the publish.
    assert_eq!((run.total, run.sent, run.failed), (24, 24, 0), "{run:?}");
    let publishes: Vec<_> = lab
        .recorded("us-east-1")
        .into_iter()
        .filter(|(m, url, _)| m == "POST" && url.contains("/topics/"))
        .collect();
    assert_eq!(publishes.len(), 24, "{publishes:?}");
    let (_, url, body) = publishes
        .iter()
        .find(|(_, url, _)| url.contains("lab-sensor-007"))
        .unwrap();
    assert!(
        url.contains("/topics/cmd%2Flab-sensor-007%2Fset-report-interval"),
        "{url}"
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(body).unwrap(),
        json!({"seconds": 30})
    );

    // A shadow write through the same channel, read back with the SDK.
    use switchyard::ports::DeviceChannel;
    let doc = serde_json::to_vec(&switchyard_core::commands::shadow_document(
        &switchyard::settings::default_catalogue()[2],
        &json!({"seconds": 30}),
    ))
    .unwrap();
    let aws2 = AwsSource::connect(s.aws.clone().unwrap(), s.engine.poll_timeout).await;
    aws2.write_shadow("us-east-1", "lab-sensor-003", &doc)
        .await
        .unwrap();
    let shadow = lab
        .dataplane("us-east-1")
        .await
        .get_thing_shadow()
        .thing_name("lab-sensor-003")
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(shadow.payload().unwrap().as_ref()).unwrap();
    assert_eq!(
        v["state"]["desired"]["set-report-interval"]["seconds"], 30,
        "{v}"
    );
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn a_practice_drill_fails_over_and_back_through_route53_marked_as_a_drill() {
    use switchyard::engine::{Error, ErrorKind};
    use switchyard_core::drills::{DrillStatus, EventKind, Scenario};
    // A lab without us-east-1: with the record, a failover away from us-east-1 warns (Route
    // 53's control plane is served there) and a scripted failover never overrides a warning
    // (tests/lab_switch.rs has us-east-1 dying).
    let (lab, dir) = start(LabPlan {
        regions: vec!["us-west-2".into(), "eu-west-1".into()],
        ..LabPlan::default()
    })
    .await;
    let engine = engine_on(&lab, dir.path()).await;
    // A live drill never breaks a real region.
    let outage: Scenario = serde_json::from_value(serde_json::json!({
        "name": "outage on AWS", "mode": "live", "duration_secs": 30,
        "outage": { "at_secs": 1, "duration_secs": 10 }, "failover": { "by": "script" }
    }))
    .unwrap();
    let refused = engine.start_drill(outage, "lab-test").await.unwrap_err();
    assert!(
        matches!(&refused, Error { kind: ErrorKind::Invalid, message: m } if m.starts_with("outage: a live drill cannot break a real region")),
        "{refused:?}"
    );
    let practice: Scenario = serde_json::from_value(serde_json::json!({
        "name": "practice failover", "mode": "live", "duration_secs": 20,
        "failover": { "by": "script", "decide_secs": 2 }, "failback": { "after_secs": 3 }
    }))
    .unwrap();
    let d = engine.start_drill(practice, "lab-test").await.unwrap();
    let t0 = Instant::now();
    let done = loop {
        let cur = engine.drill(&d.id).await.unwrap().unwrap();
        if cur.summary.status != DrillStatus::Running {
            break cur;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{:?}",
            cur.recording.events
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done.error, None, "{:?}", done.recording.events);
    let kinds: Vec<EventKind> = done.recording.events.iter().map(|e| e.kind).collect();
    for k in [
        EventKind::FailoverConfirmed,
        EventKind::DevicesBack,
        EventKind::FailbackConfirmed,
        EventKind::FailbackDone,
        EventKind::Ended,
    ] {
        assert!(
            kinds.contains(&k),
            "no {k:?} in {:?}",
            done.recording.events
        );
    }
    assert!(kinds.iter().all(|k| *k != EventKind::FaultInjected));
    // Both moves were the console's own failovers, marked as a drill.
    let recent = engine.failover_overview().await.unwrap().recent;
    let drills: Vec<(&str, &str)> = recent
        .iter()
        .filter(|f| f.reason.starts_with(&format!("DRILL {}", d.id)))
        .map(|f| (f.source.as_str(), f.target.as_str()))
        .collect();
    assert_eq!(
        drills,
        vec![("eu-west-1", "us-west-2"), ("us-west-2", "eu-west-1")]
    );
    // The devices' record, read back through the SDK from the lab's Route 53.
    assert_eq!(dns_target(&lab).await, lab::data_endpoint("us-west-2"));
    let m = done.metrics.unwrap();
    assert_eq!(
        m.disruption_at_ms,
        done.recording
            .first(EventKind::FailoverConfirmed)
            .map(|e| e.t_ms)
    );
    engine.shutdown();
}

/// Where the devices' record points, read through the SDK from the lab's Route 53.
async fn dns_target(lab: &Lab) -> String {
    let sets = lab
        .route53()
        .await
        .list_resource_record_sets()
        .hosted_zone_id(&lab.hosted_zone_id)
        .send()
        .await
        .unwrap();
    let record = sets
        .resource_record_sets()
        .iter()
        .find(|r| r.name() == format!("{}.", lab::RECORD))
        .unwrap();
    record.resource_records()[0].value().to_string()
}
