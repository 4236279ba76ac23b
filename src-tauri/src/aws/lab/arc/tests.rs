//! The stand-in, exercised by the real SDK client through [`Cluster`] (its endpoint rotation)
//! over loopback HTTP: dead and hung endpoints, the safety rule, unknown controls, batches.

use super::*;
use crate::aws::arc::{ArcError, Cluster};
use crate::aws::lab::routing_control_arn;
use crate::aws::AwsErrorKind;
use crate::settings::{CredentialSource, EndpointSettings};
use aws_sdk_route53recoverycluster::types::{RoutingControlState, UpdateRoutingControlStateEntry};
use std::time::{Duration, Instant};

const LAB_REGIONS: [&str; 3] = ["us-east-1", "us-west-2", "eu-west-1"];

/// A stand-in with one control per lab region, `active`'s On.
async fn stand_in(active: &str) -> ArcStandIn {
    let controls: Vec<(String, bool)> = LAB_REGIONS
        .iter()
        .map(|r| (routing_control_arn(r), *r == active))
        .collect();
    ArcStandIn::start(&controls).await.unwrap()
}

/// The real client on the stand-in's endpoints, with `controls` (region, ARN).
async fn cluster_with(s: &ArcStandIn, timeout_ms: u64, controls: Vec<(String, String)>) -> Cluster {
    let credentials = EndpointSettings {
        credentials: CredentialSource::Lab,
        endpoint_url: None,
    };
    Cluster::new(
        &s.endpoints(),
        &credentials,
        Duration::from_millis(timeout_ms),
        controls,
    )
    .await
}

async fn cluster(s: &ArcStandIn, timeout_ms: u64) -> Cluster {
    let controls = LAB_REGIONS
        .iter()
        .map(|r| (r.to_string(), routing_control_arn(r)))
        .collect();
    cluster_with(s, timeout_ms, controls).await
}

/// Which lab regions are On in the stand-in's own state.
fn on_regions(s: &ArcStandIn) -> Vec<String> {
    LAB_REGIONS
        .iter()
        .filter(|r| s.is_on(&routing_control_arn(r)) == Some(true))
        .map(|r| r.to_string())
        .collect()
}

fn entry(region: &str, on: bool) -> UpdateRoutingControlStateEntry {
    UpdateRoutingControlStateEntry::builder()
        .routing_control_arn(routing_control_arn(region))
        .routing_control_state(if on {
            RoutingControlState::On
        } else {
            RoutingControlState::Off
        })
        .build()
        .unwrap()
}

fn total_requests(s: &ArcStandIn) -> usize {
    (0..REGIONS.len()).map(|i| s.requests(i)).sum()
}

#[tokio::test]
async fn a_switch_with_four_of_five_endpoints_dead_completes_and_reads_back() {
    let s = stand_in("us-east-1").await;
    for i in [0, 1, 2, 4] {
        s.kill(i).await;
    }
    // A long endpoint timeout: dead endpoints refuse at once, so it is never waited for.
    let c = cluster(&s, 3_000).await;
    let t0 = Instant::now();
    let by = c.switch_to_from("us-west-2", Some(0)).await.unwrap();
    assert!(
        t0.elapsed() < Duration::from_millis(3_000),
        "a refused endpoint was waited for: {:?}",
        t0.elapsed()
    );
    assert!(by.contains(&s.endpoints()[3].url), "{by}");
    assert_eq!(on_regions(&s), vec!["us-west-2".to_string()]);
    assert_eq!(s.requests(3), 1);
    let states = c.states().await.unwrap();
    assert_eq!(
        states,
        vec![
            ("us-east-1".to_string(), false),
            ("us-west-2".to_string(), true),
            ("eu-west-1".to_string(), false),
        ]
    );
}

#[tokio::test]
async fn a_safety_rule_refusal_is_shown_in_the_rules_own_words_and_changes_nothing() {
    let s = stand_in("us-east-1").await;
    let c = cluster(&s, 1_000).await;
    let before = s.state();
    let all_off: Vec<_> = LAB_REGIONS.iter().map(|r| entry(r, false)).collect();
    let r = c
        .rotate_from("UpdateRoutingControlStates", 2, |client| {
            client
                .update_routing_control_states()
                .set_update_routing_control_state_entries(Some(all_off.clone()))
                .send()
        })
        .await;
    match r {
        Err(ArcError::Refused { kind, message }) => {
            assert_eq!(kind, AwsErrorKind::Other);
            assert!(message.contains(SAFETY_RULE_REFUSAL), "{message}");
            assert!(message.contains("ConflictException"), "{message}");
        }
        other => panic!("expected the safety rule's refusal, got {other:?}"),
    }
    assert_eq!(s.state(), before, "a refused batch changed a state");
    assert_eq!(total_requests(&s), 1, "a refusal was retried elsewhere");

    // The single-control update is held to the same rule.
    let r = c
        .rotate_from("UpdateRoutingControlState", 0, |client| {
            client
                .update_routing_control_state()
                .routing_control_arn(routing_control_arn("us-east-1"))
                .routing_control_state(RoutingControlState::Off)
                .send()
        })
        .await;
    assert!(
        matches!(&r, Err(ArcError::Refused { message, .. }) if message.contains(SAFETY_RULE_REFUSAL)),
        "{r:?}"
    );
    assert_eq!(s.state(), before);
}

#[tokio::test]
async fn naming_the_safety_rule_in_safety_rules_to_override_lets_the_update_through() {
    let s = stand_in("us-east-1").await;
    let c = cluster(&s, 1_000).await;
    let all_off: Vec<_> = LAB_REGIONS.iter().map(|r| entry(r, false)).collect();
    c.rotate_from("UpdateRoutingControlStates", 0, |client| {
        client
            .update_routing_control_states()
            .set_update_routing_control_state_entries(Some(all_off.clone()))
            .safety_rules_to_override(SAFETY_RULE_ARN)
            .send()
    })
    .await
    .unwrap();
    assert!(on_regions(&s).is_empty());
}

#[tokio::test]
async fn a_batch_with_an_unknown_control_is_not_found_and_changes_nothing() {
    let s = stand_in("us-east-1").await;
    let c = cluster(&s, 1_000).await;
    let before = s.state();
    let ghost = UpdateRoutingControlStateEntry::builder()
        .routing_control_arn(routing_control_arn("sa-east-1"))
        .routing_control_state(RoutingControlState::Off)
        .build()
        .unwrap();
    let entries = vec![entry("us-west-2", true), entry("us-east-1", false), ghost];
    let r = c
        .rotate_from("UpdateRoutingControlStates", 0, |client| {
            client
                .update_routing_control_states()
                .set_update_routing_control_state_entries(Some(entries.clone()))
                .send()
        })
        .await;
    assert!(
        matches!(&r, Err(ArcError::Refused { kind: AwsErrorKind::NotFound, message })
            if message.contains(&routing_control_arn("sa-east-1"))),
        "{r:?}"
    );
    assert_eq!(s.state(), before, "half a batch was applied");
}

#[tokio::test]
async fn the_rotation_passes_endpoints_that_hang_and_probe_lists_those_that_answered() {
    let s = stand_in("us-east-1").await;
    s.hang(0).await.unwrap();
    s.hang(1).await.unwrap();
    s.kill(2).await;
    let timeout = 300;
    let c = cluster(&s, timeout).await;
    let t0 = Instant::now();
    let by = c.switch_to_from("eu-west-1", Some(0)).await.unwrap();
    let took = t0.elapsed();
    assert!(by.contains(&s.endpoints()[3].url), "{by}");
    assert!(
        took >= Duration::from_millis(2 * timeout),
        "two hung endpoints should cost two timeouts, took {took:?}"
    );
    assert!(
        took < Duration::from_millis(5 * timeout + 1_000),
        "{took:?}"
    );
    assert_eq!(on_regions(&s), vec!["eu-west-1".to_string()]);
    // The hung endpoints received the switch and never carried it out.
    assert_eq!((s.requests(0), s.requests(1)), (1, 1));

    let (probes, problems) = c.probe("eu-west-1").await;
    assert!(problems.is_empty(), "{problems:?}");
    let answered: Vec<bool> = probes.iter().map(|p| p.answered).collect();
    assert_eq!(
        answered,
        vec![false, false, false, true, true],
        "{probes:?}"
    );
    assert!(
        probes[0].detail.contains("no answer") || probes[0].detail.contains("time"),
        "{probes:?}"
    );

    // Revived, a hung and a dead endpoint answer again (1 still hangs); the hung requests were
    // never carried out.
    s.revive(0).await.unwrap();
    s.revive(2).await.unwrap();
    let (probes, _) = c.probe("eu-west-1").await;
    let answered: Vec<bool> = probes.iter().map(|p| p.answered).collect();
    assert_eq!(answered, vec![true, false, true, true, true], "{probes:?}");
    assert_eq!(on_regions(&s), vec!["eu-west-1".to_string()]);
}

#[tokio::test]
async fn reading_an_unknown_routing_control_is_not_found_and_probe_names_the_arn() {
    let s = stand_in("us-east-1").await;
    let ghost = routing_control_arn("sa-east-1");
    let c = cluster_with(
        &s,
        1_000,
        vec![
            ("us-east-1".into(), routing_control_arn("us-east-1")),
            ("sa-east-1".into(), ghost.clone()),
        ],
    )
    .await;
    let r = c.states().await;
    assert!(
        matches!(
            &r,
            Err(ArcError::Refused {
                kind: AwsErrorKind::NotFound,
                ..
            })
        ),
        "{r:?}"
    );
    let (probes, problems) = c.probe("sa-east-1").await;
    assert!(probes.iter().all(|p| p.answered), "{probes:?}");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(&ghost), "{problems:?}");
    assert!(problems[0].contains("does not exist"), "{problems:?}");
}

#[tokio::test]
async fn states_read_back_what_the_stand_in_holds_through_any_endpoint() {
    let s = stand_in("us-west-2").await;
    let c = cluster(&s, 1_000).await;
    for _ in 0..5 {
        let states = c.states().await.unwrap();
        let on: Vec<String> = states
            .iter()
            .filter(|(_, on)| *on)
            .map(|(r, _)| r.clone())
            .collect();
        assert_eq!(on, on_regions(&s));
        assert_eq!(on, vec!["us-west-2".to_string()]);
    }
    c.switch_to_from("eu-west-1", None).await.unwrap();
    let states = c.states().await.unwrap();
    assert_eq!(
        states.iter().filter(|(_, on)| *on).collect::<Vec<_>>(),
        vec![&("eu-west-1".to_string(), true)]
    );
}

#[tokio::test]
async fn list_routing_controls_pages_through_every_control_with_its_state() {
    let s = stand_in("eu-west-1").await;
    let c = cluster(&s, 1_000).await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let (out, _) = c
            .rotate_from("ListRoutingControls", 1, |client| {
                client
                    .list_routing_controls()
                    .max_results(2)
                    .set_next_token(token.clone())
                    .send()
            })
            .await
            .unwrap();
        for rc in out.routing_controls() {
            seen.push((
                rc.routing_control_name().unwrap_or_default().to_string(),
                rc.routing_control_state() == Some(&RoutingControlState::On),
            ));
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        seen,
        vec![
            ("us-east-1".to_string(), false),
            ("us-west-2".to_string(), false),
            ("eu-west-1".to_string(), true),
        ]
    );
}

#[tokio::test]
async fn an_endpoint_answers_again_after_it_was_killed_and_revived() {
    let s = stand_in("us-east-1").await;
    for i in 0..REGIONS.len() {
        s.kill(i).await;
    }
    let c = cluster(&s, 1_000).await;
    let r = c.switch_to_from("us-west-2", Some(0)).await;
    match r {
        Err(ArcError::Unanswered(tries)) => assert_eq!(tries.len(), 5, "{tries:?}"),
        other => panic!("expected no endpoint to answer, got {other:?}"),
    }
    assert_eq!(on_regions(&s), vec!["us-east-1".to_string()]);
    s.revive(4).await.unwrap();
    let by = c.switch_to_from("us-west-2", Some(0)).await.unwrap();
    assert!(by.contains(&s.endpoints()[4].url), "{by}");
    assert_eq!(on_regions(&s), vec!["us-west-2".to_string()]);
}

#[tokio::test]
async fn the_endpoints_are_the_five_regions_of_a_real_cluster_on_loopback() {
    let s = stand_in("us-east-1").await;
    let e = s.endpoints();
    assert_eq!(
        e.iter().map(|e| e.region.as_str()).collect::<Vec<_>>(),
        REGIONS.to_vec()
    );
    assert!(e.iter().all(|e| e.url.starts_with("http://127.0.0.1:")));
    let mut urls: Vec<_> = e.iter().map(|e| e.url.clone()).collect();
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), 5);
    assert_eq!(s.index_of("eu-west-1"), Some(2));
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn the_lab_writes_routing_controls_that_resolve_and_survive_us_east_1_dying() {
    use crate::aws::lab::{find_moto_server, Lab, LabPlan};
    use crate::settings::{ConfigFile, Overrides, Settings, SwitchMethod};
    let dir = tempfile::tempdir().unwrap();
    let moto = find_moto_server(None).unwrap();
    let mut lab = Lab::start(&moto, dir.path(), LabPlan::default())
        .await
        .unwrap();
    let resolve = |text: &str| {
        let path = dir.path().join("edited.toml");
        std::fs::write(&path, text).unwrap();
        let overrides = Overrides {
            data_dir: Some(dir.path().join("data")),
            ..Overrides::default()
        };
        Settings::resolve(ConfigFile::load(&path).unwrap(), Some("lab"), overrides)
            .unwrap()
            .aws
            .unwrap()
    };
    let written = std::fs::read_to_string(&lab.config_path).unwrap();
    let aws = resolve(&written);
    assert_eq!(aws.switch_method(), Some(SwitchMethod::Record));
    let arc = aws.arc.clone().unwrap();
    assert_eq!(arc.endpoints, lab.arc().endpoints());
    assert_eq!(arc.endpoint_timeout, Duration::from_millis(500));
    for r in &aws.regions {
        assert_eq!(
            r.routing_control_arn.as_deref(),
            Some(lab.routing_control(&r.code).as_str())
        );
    }
    assert_eq!(lab.routing_control_on("us-east-1"), Some(true));
    assert_eq!(lab.routing_control_on("us-west-2"), Some(false));
    // The written file switches by routing control with the one word changed.
    let aws = resolve(&written.replace("switch = \"record\"", "switch = \"routing_control\""));
    assert_eq!(aws.switch_method(), Some(SwitchMethod::RoutingControl));

    let (east, route53) = (lab.url("us-east-1"), lab.url("route53"));
    lab.kill_us_east_1().await;
    for url in [east, route53, lab.arc().endpoints()[0].url.clone()] {
        let addr = url.trim_start_matches("http://").to_string();
        assert!(
            tokio::net::TcpStream::connect(&addr).await.is_err(),
            "{url} still answers"
        );
    }
    let controls = aws
        .regions
        .iter()
        .map(|r| (r.code.clone(), r.routing_control_arn.clone().unwrap()))
        .collect();
    let c = Cluster::new(
        &arc.endpoints,
        &arc.endpoint,
        arc.endpoint_timeout,
        controls,
    )
    .await;
    c.switch_to_from("us-west-2", Some(0)).await.unwrap();
    assert_eq!(lab.routing_control_on("us-west-2"), Some(true));
    assert_eq!(lab.routing_control_on("us-east-1"), Some(false));
}
