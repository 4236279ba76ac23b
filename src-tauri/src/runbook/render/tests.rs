//! The runbook's texts from answers made here: what a person reads during an incident. Past 500
//! lines: the fixtures (a status, a failover, a plan) are whole answers.

use super::*;
use switchyard_core::alerts::Severity;
use switchyard_core::cockpit::{Headline, NextStep, NotReporting};
use switchyard_core::commands::{OfflinePolicy, RunStatus, Skipped, Target};
use switchyard_core::failover::{Check, Readiness, Recommendation};
use switchyard_core::incidents::Incident;
use switchyard_core::moving::Estimate;
use switchyard_core::{BacklogTotals, DisconnectReason, Health, HealthStatus, RegionRole};

/// 2026-12-01 14:02:00 UTC.
const AT: UnixMs = 1_796_133_720_000;
const MIN: UnixMs = 60_000;

fn region(id: &str, role: RegionRole, status: HealthStatus, figures: Figures) -> RegionSummary {
    RegionSummary {
        id: id.into(),
        name: id.into(),
        role,
        health: Health {
            status,
            reasons: if status == HealthStatus::Healthy {
                vec![]
            } else {
                vec!["no answer within 2500 ms".into()]
            },
        },
        online: 20_000,
        offline: 12,
        backlog: BacklogTotals::default(),
        observed_at: Some(AT),
        last_attempt_at: Some(AT + 10 * MIN),
        poll_interval_ms: 5_000,
        figures,
    }
}

fn readiness(target: &str, overall: Verdict) -> Readiness {
    Readiness {
        target: target.into(),
        overall,
        checks: vec![
            Check {
                name: "target health".into(),
                verdict: Verdict::Pass,
                reasons: vec![format!("{target} is healthy")],
            },
            Check {
                name: "switch path".into(),
                verdict: overall,
                reasons: vec![
                    "needs one of 5 ARC cluster endpoints".into(),
                    "4 answered".into(),
                ],
            },
        ],
    }
}

fn failover(phase: Phase) -> Failover {
    Failover {
        id: "f-3".into(),
        source: "us-east-1".into(),
        target: "eu-west-1".into(),
        reason: "INC-7".into(),
        requested_by: "alice".into(),
        approved_by: None,
        phase,
        preflight: readiness("eu-west-1", Verdict::Pass),
        online_before: 20_000,
        back: 12_345,
        complete_share: 0.95,
        requested_at: AT + 3 * MIN,
        updated_at: AT + 6 * MIN,
        ended_at: phase.is_final().then_some(AT + 7 * MIN + 10_000),
        outcome: None,
        steps: vec![Step {
            step: "tell devices to reconnect".into(),
            started_at: AT + 3 * MIN,
            finished_at: Some(AT + 3 * MIN + 2_000),
            outcome: Some("nothing_to_do".into()),
            detail: "no device was on us-east-1".into(),
        }],
        switched_at: Some(AT + 3 * MIN + 1_000),
        dns_ttl_secs: 30,
        stragglers: None,
        curve: vec![],
        complete_eta: Some(AT + 9 * MIN),
    }
}

fn status_during_outage() -> StatusResponse {
    StatusResponse {
        server_time: AT + 6 * MIN + 5_000,
        source: SourceKind::Simulated,
        headline: Headline {
            online: 19_800,
            offline: 20,
            reporting: 2,
            not_reporting: vec![NotReporting {
                region: "us-east-1".into(),
                since: Some(AT),
            }],
        },
        regions: vec![
            region(
                "us-east-1",
                RegionRole::Active,
                HealthStatus::Unreachable,
                Figures::LastKnown,
            ),
            region(
                "eu-west-1",
                RegionRole::Standby,
                HealthStatus::Healthy,
                Figures::Current,
            ),
        ],
        active: Some("us-east-1".into()),
        incident: Some(Incident {
            id: 4,
            title: "us-east-1 unreachable".into(),
            severity: Severity::Critical,
            regions: vec!["us-east-1".into()],
            opened_at: AT + 10_000,
            closed_at: None,
            alerts_open: 2,
            alerts_total: 3,
            unacknowledged: 1,
        }),
        failover: Some(failover(Phase::Verifying)),
        failover_summary: None,
        next_step: None,
        recommendation: None,
        edge: BacklogTotals {
            gateways: 40,
            messages: 17_250,
            bytes: 1_000_000,
            dropped: 0,
            oldest_age_ms: 190_000,
        },
        edge_observed_at: Some(AT + 6 * MIN),
        alerts_critical: 1,
        alerts_warning: 1,
    }
}

fn a_plan(refused: Option<&str>, overall: Verdict) -> FailoverPlan {
    FailoverPlan {
        server_time: AT + 5 * MIN,
        source: "us-east-1".into(),
        target: "eu-west-1".into(),
        switch: "ARC routing controls: us-east-1 off, eu-west-1 on".into(),
        devices_in_source: 20_000,
        devices_figures: Figures::LastKnown,
        stragglers: StragglerMethod::Disconnect,
        dns_ttl_secs: 30,
        estimate: Some(Estimate {
            devices: 20_000,
            secs: 400,
            command_secs: None,
            message: "20000 devices at 50/s: 6 min 40 s".into(),
        }),
        preflight: readiness("eu-west-1", overall),
        two_person_rule: false,
        refused: refused.map(str::to_string),
    }
}

/// Whether `text` holds a run of ten digits or more: a raw millisecond timestamp.
fn has_raw_timestamp(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 10 {
            return true;
        }
    }
    false
}

#[test]
fn a_region_not_reporting_shows_its_last_known_figures_with_their_time() {
    let text = status(&status_during_outage());
    let east = text
        .lines()
        .find(|l| l.trim_start().starts_with("us-east-1"))
        .unwrap();
    assert!(
        east.contains("unreachable")
            && east.contains("20,000 online · 12 offline, last known at 14:02 UTC"),
        "{east}"
    );
    let west = text
        .lines()
        .find(|l| l.trim_start().starts_with("eu-west-1"))
        .unwrap();
    assert!(
        west.contains("healthy") && west.ends_with("20,000 online · 12 offline"),
        "a current region has no 'last known': {west}"
    );
    assert!(text.contains("no answer within 2500 ms"), "{text}");
    let mut never = status_during_outage();
    never.regions[0].figures = Figures::Missing;
    never.regions[0].observed_at = None;
    assert!(status(&never).contains("never reported"));
}

#[test]
fn status_names_the_open_incident_with_its_utc_start_and_elapsed_time() {
    let text = status(&status_during_outage());
    assert!(
        text.contains("Incident #4: us-east-1 unreachable (critical)"),
        "{text}"
    );
    assert!(
        text.contains("since 2026-12-01 14:02:10 UTC (5 min 55 s ago) · us-east-1"),
        "{text}"
    );
    assert!(
        text.contains("alerts: 2 open of 3, 1 unacknowledged"),
        "{text}"
    );
    assert!(text.contains("19,800 online in 2 regions · us-east-1 not reporting since 14:02 UTC"));
}

#[test]
fn status_exits_2_while_an_incident_is_open_and_0_otherwise() {
    let mut s = status_during_outage();
    assert_eq!(status_code(&s), 2);
    s.incident = None;
    assert_eq!(status_code(&s), 0);
    assert!(status(&s).contains("No open incident."));
}

#[test]
fn a_failover_under_way_shows_its_phase_elapsed_time_devices_back_and_estimate() {
    let text = status(&status_during_outage());
    assert!(
        text.contains("Failover f-3: us-east-1 → eu-west-1, verifying"),
        "{text}"
    );
    assert!(
        text.contains("requested 2026-12-01 14:05:00 UTC by alice · 3 min 05 s elapsed"),
        "{text}"
    );
    assert!(
        text.contains(
            "12,345 of 20,000 devices back in eu-west-1 · complete share by 14:11:00 UTC"
        ),
        "{text}"
    );
    assert!(
        text.contains("devices re-resolved by 14:05:31 UTC (TTL 30 s)"),
        "{text}"
    );
}

#[test]
fn an_ended_failover_keeps_its_summary_and_the_next_step() {
    let mut s = status_during_outage();
    s.failover = Some(failover(Phase::Completed));
    s.failover_summary = Some("completed in 4 min 10 s · 12,345 of 20,000 devices back".into());
    s.next_step = Some(NextStep::DrainWatch {
        messages: 17_250,
        gateways: 40,
    });
    let text = status(&s);
    assert!(
        text.contains(
            "Last failover f-3: us-east-1 → eu-west-1, completed in 4 min 10 s · 12,345 of \
             20,000 devices back, ended 2026-12-01 14:09:10 UTC"
        ),
        "{text}"
    );
    assert!(
        text.contains("Next: watch the edge backlog drain: 17,250 messages in 40 gateways"),
        "{text}"
    );
    // Without the server's summary, core's is used: the same words.
    s.failover_summary = None;
    assert!(status(&s).contains("completed in 4 min 10 s · 12,345 of 20,000 devices back"));
}

#[test]
fn the_edge_backlog_comes_from_the_edge_poll_with_its_time() {
    let mut s = status_during_outage();
    assert!(
        status(&s).contains(
            "Edge backlog: 17,250 messages in 40 gateways, the oldest waiting 3 min 10 s \
             (observed 14:08 UTC)"
        ),
        "{}",
        status(&s)
    );
    s.edge_observed_at = None;
    assert!(status(&s).contains("Edge backlog: not observed yet"));
}

#[test]
fn a_recommendation_points_at_the_preflight_command() {
    let mut s = status_during_outage();
    s.failover = None;
    s.recommendation = Some(Recommendation {
        target: "eu-west-1".into(),
        reasons: vec!["us-east-1 unreachable for 5 min".into()],
    });
    let text = status(&s);
    assert!(
        text.contains(
            "Recommended: fail over to eu-west-1 (us-east-1 unreachable for 5 min); check it \
             with `switchyard preflight --to eu-west-1`"
        ),
        "{text}"
    );
    assert!(text.contains("No failover under way."), "{text}");
}

#[test]
fn nothing_printed_holds_a_raw_millisecond_timestamp() {
    let mut s = status_during_outage();
    let mut texts = vec![status(&s), plan(&a_plan(None, Verdict::Pass))];
    s.failover = Some(failover(Phase::CompletedWithExceptions));
    texts.push(status(&s));
    let f = failover(Phase::Verifying);
    texts.push(requested(&f));
    texts.push(step(&f.steps[0]));
    texts.push(ended(&failover(Phase::Completed)));
    assert!(has_raw_timestamp(&AT.to_string()), "the check finds one");
    for t in texts {
        assert!(!has_raw_timestamp(&t), "a raw timestamp in:\n{t}");
    }
}

#[test]
fn a_step_that_found_nothing_to_do_says_so_not_ok() {
    let f = failover(Phase::Verifying);
    let line = step(&f.steps[0]);
    assert_eq!(
        line,
        "step: tell devices to reconnect — nothing to do at 14:05:02 UTC: no device was on us-east-1"
    );
    let mut ok = f.steps[0].clone();
    ok.step = "switch traffic to eu-west-1".into();
    ok.outcome = Some("ok".into());
    ok.detail = String::new();
    assert_eq!(
        step(&ok),
        "step: switch traffic to eu-west-1 — ok at 14:05:02 UTC"
    );
}

#[test]
fn a_followed_failover_ends_with_its_duration_and_its_devices_back() {
    let f = failover(Phase::Completed);
    assert_eq!(
        ended(&f),
        "completed in 4 min 10 s at 14:09:10 UTC: 12,345 of 20,000 devices back"
    );
    let mut failed = failover(Phase::Failed);
    failed.outcome = Some("the switch was refused".into());
    assert_eq!(
        ended(&failed),
        "failed after 4 min 10 s at 14:09:10 UTC: the switch was refused"
    );
}

#[test]
fn a_plan_lists_each_check_with_its_verdict_and_says_it_would_start() {
    let p = a_plan(None, Verdict::Pass);
    let text = plan_text(&p);
    assert!(
        text.starts_with("Failover us-east-1 → eu-west-1: would start\n"),
        "{text}"
    );
    assert!(text.contains("as of 2026-12-01 14:07:00 UTC"), "{text}");
    assert!(
        text.contains("  pass  target health  eu-west-1 is healthy"),
        "{text}"
    );
    assert!(
        text.contains("  pass  switch path    needs one of 5 ARC cluster endpoints; 4 answered"),
        "{text}"
    );
    assert!(
        text.contains("Switch: ARC routing controls: us-east-1 off, eu-west-1 on"),
        "{text}"
    );
    assert!(
        text.contains("Devices online in us-east-1: 20,000 (last known), to move to eu-west-1"),
        "{text}"
    );
    assert!(text.contains("DNS TTL: 30 s"), "{text}");
    assert!(
        text.contains("Stragglers: disconnect — disconnected in the old region after the TTL; estimate: 20000 devices at 50/s: 6 min 40 s"),
        "{text}"
    );
    assert_eq!(plan_code(&p), 0);
}

fn plan_text(p: &FailoverPlan) -> String {
    plan(p)
}

#[test]
fn a_refused_plan_says_why_and_exits_3() {
    let p = a_plan(
        Some("type the target's name to confirm: got 'eu-west'"),
        Verdict::Warn,
    );
    let text = plan_text(&p);
    assert!(
        text.starts_with(
            "Failover us-east-1 → eu-west-1: would be REFUSED: type the target's name to confirm: got 'eu-west'"
        ),
        "{text}"
    );
    assert!(text.contains("  warn  switch path"), "{text}");
    assert_eq!(plan_code(&p), 3);
}

#[test]
fn a_failing_preflight_exits_3_even_without_a_refusal() {
    let p = a_plan(None, Verdict::Fail);
    assert_eq!(plan_code(&p), 3);
    assert!(plan_text(&p).contains("would be refused: the preflight fails"));
    assert!(plan_text(&p).contains("  FAIL  switch path"));
}

#[test]
fn a_preview_that_finds_nobody_says_why_and_skipped_devices_carry_utc_times() {
    let p = CommandPreview {
        command: switchyard_core::commands::CommandDef {
            name: "reconnect".into(),
            description: String::new(),
            topic: "cmd/{thingName}/{command}".into(),
            schema: serde_json::json!({"type": "object"}),
            persist_as_shadow: false,
        },
        total: 1,
        publish: 0,
        shadow: 0,
        skip: 1,
        skipped: vec![Skipped {
            id: "dev-0000007".into(),
            since: AT + 3 * MIN,
            reason: DisconnectReason::ConnectionLost,
        }],
        example_topic: None,
        why_none: Some(
            "us-east-1 has no online devices: they moved to eu-west-1 at 14:05 UTC".into(),
        ),
        confirm_above: Some(1000),
    };
    let lines = preview(&p);
    assert_eq!(
        lines,
        vec![
            "1 devices: 0 online will receive it, 0 offline to their shadow, 1 offline skipped",
            "  nothing would be sent: us-east-1 has no online devices: they moved to eu-west-1 at 14:05 UTC",
            "  skipped dev-0000007 (offline since 2026-12-01 14:05:00 UTC, CONNECTION_LOST)",
        ]
    );
}

#[test]
fn a_run_says_its_tallies_and_when_it_started_and_ended() {
    let r = CommandRun {
        id: "c-9".into(),
        command: "ping".into(),
        target: Target::Region {
            code: "eu-west-1".into(),
        },
        payload: serde_json::json!({}),
        offline: OfflinePolicy::Skip,
        reason: "INC-3".into(),
        requested_by: "otto".into(),
        requested_at: AT,
        status: RunStatus::Completed,
        total: 2,
        sent: 2,
        shadowed: 0,
        skipped: 0,
        failed: 0,
        cancelled: 0,
        ended_at: Some(AT + 45_000),
    };
    assert_eq!(
        run(&r),
        "completed: 2 sent, 0 shadowed, 0 skipped offline, 0 failed, 0 cancelled of 2"
    );
    assert_eq!(
        run_times(&r),
        "run c-9 started 2026-12-01 14:02:00 UTC, ended 14:02:45 UTC (45 s)"
    );
}

#[test]
fn counts_are_grouped_by_thousands() {
    assert_eq!(count(0), "0");
    assert_eq!(count(999), "999");
    assert_eq!(count(19_800), "19,800");
    assert_eq!(count(1_000_000), "1,000,000");
}
