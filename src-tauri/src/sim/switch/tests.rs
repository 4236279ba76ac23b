//! The simulated traffic switch, method by method: what stops it, what it says it did, the
//! switch path the preflight reads and where it says the devices are pointed.

use super::*;
use crate::ports::TrafficSwitch;
use crate::sim::{SimConfig, SimSource};
use switchyard_core::failover::Verdict;
use switchyard_core::fault::FaultSpec;
use switchyard_core::switch::path_verdict;

fn fleet(switch: SwitchMethod) -> SimFleet {
    SimFleet::new(
        SimConfig {
            devices: 100,
            gateways: 2,
            switch,
            ..SimConfig::default()
        },
        0,
    )
}

fn fault(region: &str, kind: FaultKind) -> FaultSpec {
    FaultSpec {
        region: region.into(),
        kind,
        start_secs: 0,
        duration_secs: Some(600),
    }
}

fn control_plane_down(f: &mut SimFleet) {
    f.inject(fault("us-east-1", FaultKind::Route53ControlPlane))
        .unwrap();
}

fn unanswered(r: Result<String, SwitchError>) -> String {
    match r {
        Err(SwitchError::Unanswered(why)) => why,
        other => panic!("expected no answer, got {other:?}"),
    }
}

#[test]
fn the_record_switch_does_not_answer_while_route53s_control_plane_is_down_and_moves_nothing() {
    let mut f = fleet(SwitchMethod::Record);
    control_plane_down(&mut f);
    let why = unanswered(f.switch_traffic("eu-west-1"));
    assert!(
        why.starts_with("Route 53's control plane (served from us-east-1) does not answer"),
        "{why}"
    );
    assert!(why.contains("route53_control_plane fault"), "{why}");
    assert_eq!(f.active_region(), "us-east-1", "nothing moved");
    f.clear_faults();
    let did = f.switch_traffic("eu-west-1").unwrap();
    assert_eq!(
        did,
        "the devices' domain now points at sim-ats.iot.eu-west-1.switchyard.internal (simulated DNS)"
    );
    assert_eq!(f.active_region(), "eu-west-1");
}

#[test]
fn the_health_check_switch_needs_the_control_plane_too_and_says_which_checks_it_inverted() {
    let mut f = fleet(SwitchMethod::HealthCheck);
    control_plane_down(&mut f);
    let why = unanswered(f.switch_traffic("eu-west-1"));
    assert!(why.contains("the health_check switch needs it"), "{why}");
    f.clear_faults();
    assert_eq!(
        f.switch_traffic("eu-west-1").unwrap(),
        "inverted the health checks of us-east-1, ap-southeast-2; eu-west-1's answers healthy \
         (simulated)"
    );
}

#[test]
fn routing_controls_switch_with_us_east_1_and_route53s_control_plane_both_down() {
    let mut f = SimFleet::new(
        SimConfig {
            devices: 100,
            gateways: 2,
            switch: SwitchMethod::RoutingControl,
            control_plane_follows_us_east_1: true,
            ..SimConfig::default()
        },
        0,
    );
    control_plane_down(&mut f);
    f.inject(fault("us-east-1", FaultKind::Outage)).unwrap();
    f.step();
    let did = f.switch_traffic("eu-west-1").unwrap();
    assert_eq!(
        did,
        "routing controls now us-east-1 Off, eu-west-1 On, ap-southeast-2 Off, through \
         https://sim-arc.us-west-2.switchyard.internal (simulated)"
    );
    assert_eq!(f.active_region(), "eu-west-1");
}

#[test]
fn routing_controls_answer_while_one_endpoint_of_five_does_and_fail_listing_them_when_none_does() {
    let regions: Vec<RegionId> = ARC_ENDPOINT_REGIONS.map(String::from).to_vec();
    let mut f = SimFleet::new(
        SimConfig {
            devices: 50,
            gateways: 1,
            regions: regions.clone(),
            switch: SwitchMethod::RoutingControl,
            ..SimConfig::default()
        },
        0,
    );
    // Every endpoint's region out but the last.
    for r in &regions[..4] {
        f.inject(fault(r, FaultKind::Outage)).unwrap();
    }
    let did = f.switch_traffic("ap-southeast-2").unwrap();
    assert!(
        did.ends_with("through https://sim-arc.ap-southeast-2.switchyard.internal (simulated)"),
        "{did}"
    );
    f.inject(fault("ap-southeast-2", FaultKind::Outage))
        .unwrap();
    let why = unanswered(f.switch_traffic("us-west-2"));
    assert!(
        why.starts_with("none of the 5 ARC cluster endpoints answers (simulated): "),
        "{why}"
    );
    for r in ARC_ENDPOINT_REGIONS {
        assert!(
            why.contains(&format!("{}: {r} is in outage", arc_endpoint(r))),
            "{why}"
        );
    }
    assert_eq!(f.active_region(), "ap-southeast-2");
}

#[test]
fn an_outage_of_us_east_1_takes_route53s_control_plane_down_only_when_configured_so() {
    for follows in [false, true] {
        let mut f = SimFleet::new(
            SimConfig {
                devices: 100,
                gateways: 2,
                control_plane_follows_us_east_1: follows,
                switch: SwitchMethod::Record,
                ..SimConfig::default()
            },
            0,
        );
        f.inject(fault("us-east-1", FaultKind::Outage)).unwrap();
        let r = f.switch_traffic("eu-west-1");
        if follows {
            assert!(unanswered(r).contains("us-east-1 is in outage"));
        } else {
            assert!(r.is_ok(), "{r:?}");
        }
    }
}

#[test]
fn an_unknown_region_is_refused_rather_than_unanswered() {
    let mut f = fleet(SwitchMethod::RoutingControl);
    assert_eq!(
        f.switch_traffic("sa-east-1"),
        Err(SwitchError::Refused(
            "region sa-east-1 is not part of the simulated fleet".into()
        ))
    );
}

#[tokio::test]
async fn the_preflight_reads_one_control_plane_probe_and_no_record_while_it_is_down() {
    let sim = SimSource::new(fleet(SwitchMethod::Record)).fail_fast();
    let facts = sim.readiness_facts("us-east-1", "eu-west-1").await.unwrap();
    let path = facts.switch_path.clone().unwrap();
    assert_eq!(
        (path.method, path.leaving.as_str()),
        (SwitchMethod::Record, "us-east-1")
    );
    assert_eq!(path.probes.len(), 1);
    assert_eq!(path.probes[0].name, CONTROL_PLANE_PROBE);
    assert!(path.probes[0].answered && path.problems.is_empty());
    assert_eq!(
        facts.dns_points_to.as_deref(),
        Some("sim-ats.iot.us-east-1.switchyard.internal")
    );
    sim.with(control_plane_down);
    let facts = sim.readiness_facts("us-east-1", "eu-west-1").await.unwrap();
    let path = facts.switch_path.unwrap();
    assert!(!path.probes[0].answered);
    assert_eq!(
        path.probes[0].detail,
        "does not answer (a route53_control_plane fault, simulated)"
    );
    assert_eq!(facts.dns_points_to, None);
    assert_eq!(path_verdict(&path).0, Verdict::Fail);
}

#[tokio::test]
async fn the_routing_controls_preflight_has_five_probes_and_ignores_the_control_plane() {
    let sim = SimSource::new(fleet(SwitchMethod::RoutingControl)).fail_fast();
    sim.with(|f| {
        control_plane_down(f);
        f.inject(fault("us-east-1", FaultKind::Outage)).unwrap();
    });
    let facts = sim.readiness_facts("us-east-1", "eu-west-1").await.unwrap();
    let path = facts.switch_path.unwrap();
    let answered: Vec<(&str, bool)> = path
        .probes
        .iter()
        .map(|p| (p.name.split(' ').next().unwrap(), p.answered))
        .collect();
    assert_eq!(
        answered,
        vec![
            ("us-east-1", false),
            ("us-west-2", true),
            ("eu-west-1", true),
            ("ap-northeast-1", true),
            ("ap-southeast-2", true),
        ]
    );
    assert!(facts.dns_points_to.is_some());
    assert_eq!(path_verdict(&path).0, Verdict::Pass);
}

#[tokio::test]
async fn the_switch_says_where_the_devices_are_pointed_in_its_methods_words() {
    let words = [
        (
            SwitchMethod::Record,
            "the devices' domain points at sim-ats.iot.eu-west-1.switchyard.internal (simulated DNS)",
        ),
        (
            SwitchMethod::HealthCheck,
            "health checks inverted: us-east-1, ap-southeast-2; eu-west-1's answers healthy \
             (simulated)",
        ),
        (
            SwitchMethod::RoutingControl,
            "routing controls: us-east-1 Off, eu-west-1 On, ap-southeast-2 Off (simulated)",
        ),
    ];
    for (method, detail) in words {
        let sim = SimSource::new(fleet(method));
        sim.switch_to("eu-west-1").await.unwrap();
        let p = sim.pointed_at().await.unwrap();
        assert_eq!(p.region.as_deref(), Some("eu-west-1"));
        assert_eq!(p.detail, detail);
    }
}

#[test]
fn a_control_plane_fault_is_no_regions_fault_and_leaves_the_seeded_fleet_as_it_was() {
    let cfg = SimConfig {
        devices: 500,
        gateways: 5,
        regions: vec!["eu-west-1".into(), "us-west-2".into()],
        ..SimConfig::default()
    };
    let mut plain = SimFleet::new(cfg.clone(), 0);
    let mut faulted = SimFleet::new(cfg, 0);
    // us-east-1 is not simulated here, yet Route 53's control plane can fail.
    control_plane_down(&mut faulted);
    assert!(faulted
        .inject(fault("us-east-1", FaultKind::Outage))
        .is_err());
    for _ in 0..120 {
        plain.step();
        faulted.step();
    }
    assert!(faulted.control_plane_fault_in_force());
    assert_eq!(faulted.fault_in(0), None);
    assert_eq!(
        plain.observe("eu-west-1").unwrap(),
        faulted.observe("eu-west-1").unwrap()
    );
    assert_eq!(plain.gateways(), faulted.gateways());
}

#[test]
fn the_dependencies_follow_the_faults_in_force() {
    let d = dependencies(&["eu-west-1"], false, true);
    assert_eq!(d.control_plane, None);
    assert_eq!(
        d.endpoints[2],
        ("eu-west-1", Some("eu-west-1 is in outage".into()))
    );
    assert_eq!(d.endpoints.iter().filter(|e| e.1.is_none()).count(), 4);
    let d = dependencies(&["us-east-1"], false, false);
    assert_eq!(d.control_plane, None);
    let d = dependencies(&["us-east-1"], false, true);
    assert_eq!(d.control_plane.as_deref(), Some("us-east-1 is in outage"));
    assert_eq!(
        switch_answers(SwitchMethod::RoutingControl, &d),
        Ok(Some("us-west-2"))
    );
}
