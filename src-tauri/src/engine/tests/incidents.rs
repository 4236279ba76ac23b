//! Incidents over a whole outage on the simulated fleet: opened by the outage, followed
//! through acknowledgements, notes and a failover, closed once everything cleared; the status
//! and a failover's plan along the way.

use super::failover::{fast, request, until};
use super::*;
use switchyard_core::cockpit::Figures;
use switchyard_core::incidents::EntryKind;

#[tokio::test(start_paused = true)]
async fn an_outage_opens_one_incident_that_a_failover_and_the_recovery_close() {
    let (_sim, e) = fast(Store::in_memory(), false);
    e.start();
    until("a healthy start", 10, async || {
        (region(&e.snapshot(), "us-east-1").online > 900).then_some(())
    })
    .await;
    assert!(e.status().await.unwrap().incident.is_none());
    e.inject_fault("t", "drill", outage("us-east-1"))
        .await
        .unwrap();
    let incident = until("an incident", 10, async || {
        e.incidents(true, 5).await.unwrap().incidents.pop()
    })
    .await;
    assert_eq!(incident.title, "us-east-1 unreachable");
    assert_eq!(incident.regions, vec!["us-east-1".to_string()]);
    assert_eq!(incident.unacknowledged, 1);

    // The status: the unreachable region's figures are its last known ones, not current, and
    // the headline names it. (This harness's simulated clock runs ten times faster than the
    // engine's, so the other regions' freshness is not what production would show: the
    // freshness rules are core's tests, the figures' agreement the cockpit's E2E.)
    let status = e.status().await.unwrap();
    assert_eq!(status.incident.as_ref().map(|i| i.id), Some(incident.id));
    let east = status.regions.iter().find(|r| r.id == "us-east-1").unwrap();
    assert_eq!(east.figures, Figures::LastKnown);
    assert!(status
        .headline
        .not_reporting
        .iter()
        .any(|n| n.region == "us-east-1" && n.since.is_some()));
    assert!(status.alerts_critical >= 1);

    // Acknowledged once, with the note, by whom; a second is refused naming the first.
    let alert = e.incident(incident.id).await.unwrap().alerts[0].clone();
    let acked = e.ack_alert(alert.id, "paging AWS", "ana").await.unwrap();
    assert_eq!(acked.ack.as_ref().map(|a| a.by.as_str()), Some("ana"));
    let again = e.ack_alert(alert.id, "", "bob").await.unwrap_err();
    assert!(again.message.contains("by ana"), "{}", again.message);
    e.add_incident_note(incident.id, "failing over to eu-west-1", "ana")
        .await
        .unwrap();
    assert!(e.add_incident_note(incident.id, "  ", "ana").await.is_err());

    // The plan says what a failover would do and changes nothing.
    let plan = e.failover_plan("eu-west-1", None).await.unwrap();
    assert_eq!(
        (plan.source.as_str(), plan.refused.as_deref()),
        ("us-east-1", None)
    );
    assert_eq!(plan.devices_figures, Figures::LastKnown);
    assert!(e.failover_overview().await.unwrap().current.is_none());
    let mut typo = request("eu-west-1");
    typo.confirm = "eu-west".into();
    let dry = e.failover_plan("eu-west-1", Some(&typo)).await.unwrap();
    assert!(dry
        .refused
        .unwrap()
        .contains("type the target region's name"));

    let f = e
        .request_failover(request("eu-west-1"), "ana")
        .await
        .unwrap()
        .started()
        .unwrap();
    let done = until("the failover to end", 30, async || {
        let f = e.failover(&f.id).await.unwrap().unwrap();
        f.phase.is_final().then_some(f)
    })
    .await;
    // The outage goes on: the incident stays open after the failover ended.
    assert!(e
        .incident(incident.id)
        .await
        .unwrap()
        .incident
        .closed_at
        .is_none());
    let status = e.status().await.unwrap();
    assert!(status.failover_summary.unwrap().contains("devices back"));
    assert!(status.next_step.is_some());

    e.clear_faults("t", "recovered").await.unwrap();
    let closed = until("the incident to close", 20, async || {
        let d = e.incident(incident.id).await.unwrap();
        d.incident.closed_at.is_some().then_some(d)
    })
    .await;
    // Every journalled step of the failover is in the timeline exactly once.
    let steps: Vec<_> = closed
        .timeline
        .iter()
        .filter(|t| t.kind == EntryKind::FailoverStep)
        .collect();
    assert_eq!(steps.len(), done.steps.len(), "{:#?}", closed.timeline);
    let kinds: Vec<EntryKind> = closed.timeline.iter().map(|t| t.kind).collect();
    for k in [
        EntryKind::Opened,
        EntryKind::AlertRaised,
        EntryKind::Acknowledged,
        EntryKind::Note,
        EntryKind::Failover,
        EntryKind::AlertCleared,
        EntryKind::Closed,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing: {kinds:?}");
    }
    assert!(closed.timeline.windows(2).all(|w| w[0].at <= w[1].at));
    let (md, _) = e
        .incident_export(incident.id, crate::engine::ExportFormat::Markdown)
        .await
        .unwrap();
    assert!(
        md.contains("failing over to eu-west-1") && md.contains(" UTC"),
        "{md}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_preview_carries_the_confirmation_threshold_and_a_region_left_behind_says_where_its_devices_went(
) {
    let (_sim, e) = fast(Store::in_memory(), false);
    e.start();
    until("a healthy start", 10, async || {
        (region(&e.snapshot(), "us-east-1").online > 900).then_some(())
    })
    .await;
    let req = |code: &str, confirm: Option<u64>| switchyard_core::commands::CommandRequest {
        command: "reconnect".into(),
        payload: serde_json::json!({}),
        target: switchyard_core::commands::Target::Region { code: code.into() },
        offline: switchyard_core::commands::OfflinePolicy::Skip,
        reason: "after the failover".into(),
        confirm_count: confirm,
    };
    let p = e.preview_command(&req("us-east-1", None)).await.unwrap();
    assert_eq!(p.confirm_above, Some(1_000));
    assert_eq!(p.why_none, None);
    // The reconnect command's jitter comes from its schema's default.
    assert_eq!(
        p.command.schema["properties"]["jitter_secs"]["default"],
        serde_json::json!(30)
    );

    let f = e
        .request_failover(request("eu-west-1"), "ana")
        .await
        .unwrap()
        .started()
        .unwrap();
    until("the failover to end", 30, async || {
        let f = e.failover(&f.id).await.unwrap().unwrap();
        f.phase.is_final().then_some(())
    })
    .await;
    // Once its devices have all moved, us-east-1's preview says where they went.
    let why = until("us-east-1 empty", 30, async || {
        match e.preview_command(&req("us-east-1", None)).await {
            Ok(p) => p.why_none,
            Err(err) => Some(err.message),
        }
    })
    .await;
    assert!(why.contains("moved to eu-west-1 at"), "{why}");
}
