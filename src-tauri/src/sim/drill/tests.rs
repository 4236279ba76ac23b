//! The simulated drill, number by number: a seeded scenario gives the same record, and bad
//! scenarios are refused naming the field.

use super::*;
use switchyard_core::drills::{metrics, Objectives};
use switchyard_core::switch::SwitchMethod;

/// us-east-1 down at 20 s for 400 s; the script confirms the failover 300 s after the
/// recommendation (a slow decision, so the edge overflows), fails back 30 s after the outage.
fn scenario() -> Scenario {
    toml::from_str(
        r#"
        name = "us-east-1 outage, slow decision"
        seed = 7
        devices = 1000
        gateways = 10
        duration_secs = 700
        [outage]
        at_secs = 20
        duration_secs = 400
        [failover]
        by = "script"
        decide_secs = 300
        [failback]
        after_secs = 30
        "#,
    )
    .unwrap()
}

fn regions() -> Vec<RegionId> {
    vec!["us-east-1".into(), "eu-west-1".into()]
}

fn objectives() -> Objectives {
    Objectives {
        rto_secs: 420,
        rpo_messages: 0,
        max_backlog: 100_000,
        recovered_share: 0.95,
    }
}

#[test]
fn a_seeded_drill_is_measured_number_by_number() {
    let cfg = DrillSettings::default();
    let rec = run(&scenario(), &regions(), &cfg).unwrap();
    assert_eq!(
        rec,
        run(&scenario(), &regions(), &cfg).unwrap(),
        "the same scenario gives the same record"
    );
    let at = |k: EventKind| rec.first(k).unwrap_or_else(|| panic!("no {k:?}")).t_ms;
    // What follows from the settings alone.
    assert_eq!(at(EventKind::FaultInjected), 20_000);
    // Polled at 20 s (every 5 s); the unanswered poll is known when it times out (2.5 s).
    assert_eq!(at(EventKind::OutageDetected), 22_500);
    // Unhealthy since the 20 s poll, recommended after 60 s, confirmed 300 s later.
    assert_eq!(at(EventKind::RecommendationShown), 80_000);
    assert_eq!(at(EventKind::FailoverConfirmed), 380_000);
    assert_eq!(at(EventKind::FaultCleared), 420_000);
    // What the seeded fleet did: devices back 81 s after the switch. Answers cached in the
    // outage still send devices to us-east-1 for up to the TTL (60 s); it answers again at
    // 420 s, so 79 reconnect there, and the straggler step moves them at 440 s (the switch
    // plus the TTL); the rest come as their backoff allows.
    assert_eq!(at(EventKind::DevicesBack), 461_000);
    // The failback: 30 s after the outage has ended and the failover has completed.
    assert_eq!(at(EventKind::FailbackConfirmed), 491_000);
    // The failback is a practice move: nobody leaves eu-west-1 before the straggler step,
    // one TTL after the switch, which moves 985 devices at 50 a second.
    assert_eq!(at(EventKind::FailbackDone), 573_000);
    assert_eq!(at(EventKind::BacklogDrained), 621_000);
    assert_eq!(rec.samples.len(), 701, "one sample a simulated second");
    // The failover's reconnection curve, from the switch to the failover's end.
    let (first, last) = (rec.curve[0], *rec.curve.last().unwrap());
    assert_eq!((first.at, first.source, first.target), (380_000, 0, 0));
    assert_eq!((last.at, last.source, last.target), (461_000, 0, 953));
    assert_eq!(rec.curve.len(), 82);
    let stragglers = rec.curve.iter().find(|p| p.at == 440_000).unwrap();
    assert_eq!(
        stragglers.source, 79,
        "back on us-east-1 through cached answers"
    );

    let m = metrics(&rec, &objectives());
    assert_eq!(m.disruption_at_ms, Some(20_000));
    assert_eq!(m.time_to_detect_ms, Some(2_500));
    assert_eq!(m.time_to_decide_ms, Some(357_500));
    assert_eq!(m.baseline_online, 1_000);
    assert_eq!(m.needed_back, 950);
    assert_eq!(m.recovery_ms, Some(441_000));
    assert_eq!(
        m.recovery_ms,
        Some(at(EventKind::DevicesBack) - at(EventKind::FaultInjected))
    );
    assert_eq!(m.messages_lost, 3_625);
    assert_eq!(m.peak_backlog, 93_145);
    assert_eq!(m.peak_backlog_at_ms, Some(388_000));
    assert_eq!(m.drain_ms, Some(233_000));
    assert_eq!(
        m.peak_backlog_at_ms.zip(m.drain_ms).map(|(a, b)| a + b),
        Some(at(EventKind::BacklogDrained))
    );
    assert_eq!(m.command_reachability, Some(0.974));
    let verdicts: Vec<(&str, bool)> = m
        .objectives
        .iter()
        .map(|o| (o.actual.as_str(), o.passed))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            ("441 s", false),
            ("3625 messages lost", false),
            ("93145 messages", true)
        ]
    );
    assert!(!m.passed);
    // The slow decision is what lost data: deciding 250 s sooner loses nothing.
    let mut quick = scenario();
    quick.failover.decide_secs = 50;
    let q = metrics(&run(&quick, &regions(), &cfg).unwrap(), &objectives());
    assert_eq!(q.messages_lost, 0);
    assert!(q.recovery_ms.unwrap() < m.recovery_ms.unwrap());
    assert!(q.peak_backlog < m.peak_backlog);
}

#[test]
fn a_practice_failover_without_an_outage_is_scripted_from_the_start() {
    let mut sc = scenario();
    sc.outage = None;
    sc.failover.decide_secs = 10;
    sc.duration_secs = 200;
    let rec = run(&sc, &regions(), &DrillSettings::default()).unwrap();
    assert_eq!(
        rec.first(EventKind::FailoverConfirmed).unwrap().t_ms,
        10_000
    );
    assert!(rec.first(EventKind::OutageDetected).is_none());
    let m = metrics(&rec, &objectives());
    assert_eq!(m.disruption_at_ms, Some(10_000));
    assert!(m.recovery_ms.is_some_and(|r| r > 0 && r < 120_000), "{m:?}");
    assert_eq!(m.messages_lost, 0);
}

#[test]
fn bad_scenarios_are_refused_naming_the_field_and_a_stop_stops() {
    let cfg = DrillSettings::default();
    let mut sc = scenario();
    sc.failover.by = DecidedBy::Operator;
    sc.failback = None;
    assert!(run(&sc, &regions(), &cfg)
        .unwrap_err()
        .starts_with("failover.by"));
    let mut sc = scenario();
    sc.outage.as_mut().unwrap().region = Some("ap-south-1".into());
    let e = run(&sc, &regions(), &cfg).unwrap_err();
    assert!(
        e.starts_with("outage.region: ap-south-1 is not one of"),
        "{e}"
    );
    let mut sc = scenario();
    sc.failover.target = Some("us-east-1".into());
    assert!(run(&sc, &regions(), &cfg)
        .unwrap_err()
        .starts_with("failover.target"));
    let e = run_until(&scenario(), &regions(), &cfg, &AtomicBool::new(true)).unwrap_err();
    assert!(e.contains("stopped by an operator at 0 s"), "{e}");
}

/// The scenario, with Route 53's control plane failing at 90 s (after the recommendation at
/// 80 s, while the script decides) for 300 s, and the failover through `switch`.
fn control_plane_scenario(switch: SwitchMethod) -> Scenario {
    let mut sc = scenario();
    sc.failover.decide_secs = 30;
    sc.route53_control_plane = Some(switchyard_core::drills::ScenarioFault {
        region: None,
        at_secs: 90,
        duration_secs: 300,
    });
    sc.switch = Some(switch);
    sc
}

#[test]
fn a_drill_with_route53s_control_plane_down_fails_the_record_switch_and_says_why() {
    let rec = run(
        &control_plane_scenario(SwitchMethod::Record),
        &regions(),
        &DrillSettings::default(),
    )
    .unwrap();
    let injected: Vec<&str> = rec
        .events
        .iter()
        .filter(|e| e.kind == EventKind::FaultInjected)
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(
        injected,
        vec![
            "us-east-1: outage for 400 s",
            "us-east-1: route53_control_plane for 300 s"
        ]
    );
    assert_eq!(
        rec.first(EventKind::FailoverConfirmed).unwrap().t_ms,
        110_000
    );
    let failed = rec
        .first(EventKind::FailoverFailed)
        .expect("the failover failed");
    assert_eq!(failed.t_ms, 110_000);
    assert!(
        failed.detail.starts_with(
            "switch traffic to eu-west-1: Route 53's control plane (served from us-east-1) \
             does not answer"
        ),
        "{}",
        failed.detail
    );
    assert!(rec
        .events
        .iter()
        .any(|e| e.kind == EventKind::Step && e.detail.starts_with("switch: failed — ")));
    // Nothing moved: the devices stay on us-east-1 and come back there when it does.
    assert!(rec.samples.iter().all(|s| s.active == "us-east-1"));
    assert!(rec.first(EventKind::DevicesBack).is_none());
    assert!(rec.first(EventKind::FailbackConfirmed).is_none());
    let m = metrics(&rec, &objectives());
    assert!(m.recovery_ms.unwrap() >= 400_000, "{m:?}");
    assert!(!m.passed);
}

#[test]
fn the_same_drill_through_routing_controls_recovers_and_fails_back() {
    let rec = run(
        &control_plane_scenario(SwitchMethod::RoutingControl),
        &regions(),
        &DrillSettings::default(),
    )
    .unwrap();
    assert!(rec.first(EventKind::FailoverFailed).is_none());
    let switched = rec
        .events
        .iter()
        .find(|e| e.kind == EventKind::Step && e.detail.starts_with("switch: "))
        .unwrap();
    assert_eq!(switched.t_ms, 110_000);
    assert!(
        switched
            .detail
            .starts_with("switch: routing controls now us-east-1 Off, eu-west-1 On, through"),
        "{}",
        switched.detail
    );
    let back = rec.first(EventKind::DevicesBack).expect("devices back");
    assert!(back.detail.ends_with("in eu-west-1"), "{}", back.detail);
    // One TTL after the switch us-east-1 is still out: nobody to disconnect there.
    assert!(rec
        .events
        .iter()
        .any(|e| e.t_ms == 170_000 && e.detail == "reconnect: skipped: us-east-1 does not answer"));
    assert!(rec.first(EventKind::FailbackDone).is_some());
    let m = metrics(&rec, &objectives());
    assert!(m.recovery_ms.unwrap() < 200_000, "{m:?}");
}

#[test]
fn with_the_control_plane_down_first_a_record_failover_is_recommended_only_once_it_answers() {
    // Route 53's control plane down from 20 s to 320 s, with the outage.
    let mut sc = control_plane_scenario(SwitchMethod::Record);
    sc.route53_control_plane.as_mut().unwrap().at_secs = 20;
    let rec = run(&sc, &regions(), &DrillSettings::default()).unwrap();
    assert_eq!(rec.first(EventKind::OutageDetected).unwrap().t_ms, 22_500);
    assert_eq!(
        rec.first(EventKind::RecommendationShown).unwrap().t_ms,
        320_000,
        "the switch path fails its preflight until the control plane answers"
    );
    assert!(rec.first(EventKind::FailoverFailed).is_none());
    sc.switch = Some(SwitchMethod::RoutingControl);
    let rec = run(&sc, &regions(), &DrillSettings::default()).unwrap();
    assert_eq!(
        rec.first(EventKind::RecommendationShown).unwrap().t_ms,
        80_000
    );
    assert!(rec.first(EventKind::DevicesBack).is_some());
}

/// us-east-1 degraded (still answering) from 20 s for the whole drill, 5,000 devices, the
/// failover confirmed 30 s after the recommendation; no failback.
fn degraded_scenario() -> Scenario {
    toml::from_str(
        r#"
        name = "us-east-1 degraded"
        seed = 11
        devices = 5000
        gateways = 4
        duration_secs = 1200
        [degradation]
        at_secs = 20
        duration_secs = 1200
        [failover]
        by = "script"
        decide_secs = 30
        "#,
    )
    .unwrap()
}

#[test]
fn a_failover_from_a_degraded_region_completes_because_the_stragglers_are_moved() {
    let cfg = DrillSettings::default();
    let rec = run(&degraded_scenario(), &regions(), &cfg).unwrap();

    let confirmed = rec.first(EventKind::FailoverConfirmed).unwrap().t_ms;
    let back = rec.first(EventKind::DevicesBack).expect("devices back");
    // The TTL, then 5,000 at 50 a second (100 s), less those already gone.
    let took = back.t_ms - confirmed;
    assert!((100_000..=180_000).contains(&took), "{took} ms");
    let steps: Vec<&str> = rec
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Step)
        .map(|e| e.detail.as_str())
        .collect();
    assert!(steps[1].starts_with("reconnect: "), "{steps:?}");
    assert!(
        steps[2].starts_with("reconnect: disconnected "),
        "{steps:?}"
    );
    assert!(steps[3].ends_with("completed"), "{steps:?}");
    // The curve shows the old region emptying: most still there at the TTL, nobody at the end.
    let at_ttl = rec
        .curve
        .iter()
        .find(|p| p.at == confirmed + 60_000)
        .unwrap();
    assert!(at_ttl.source > 4_000, "{at_ttl:?}");
    let last = rec.curve.last().unwrap();
    assert!(last.source < 100 && last.target >= 4_750, "{last:?}");

    // Nobody moved: the failover completes with exceptions, most devices still degraded.
    let off = DrillSettings {
        stragglers: StragglerMethod::Off,
        ..DrillSettings::default()
    };
    let rec = run(&degraded_scenario(), &regions(), &off).unwrap();

    assert!(rec.first(EventKind::DevicesBack).is_none());
    let verify = rec
        .events
        .iter()
        .find(|e| e.detail.starts_with("verify: "))
        .expect("verified");
    assert!(
        verify.detail.ends_with("completed with exceptions"),
        "{}",
        verify.detail
    );
    let last = rec.curve.last().unwrap();
    assert!(last.source > last.target, "{last:?}");

    // The command method moves them as the disconnection does.
    let command = DrillSettings {
        stragglers: StragglerMethod::Command,
        ..DrillSettings::default()
    };
    let rec = run(&degraded_scenario(), &regions(), &command).unwrap();
    assert!(rec.first(EventKind::DevicesBack).is_some());
    assert!(rec
        .events
        .iter()
        .any(|e| e.detail.starts_with("reconnect: told ")));
}
