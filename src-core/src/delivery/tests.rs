use super::*;

fn alert(kind: AlertKind) -> Alert {
    Alert {
        id: 7,
        kind,
        severity: kind.severity(),
        subject: "us-east-1".into(),
        message: "us-east-1 is unreachable: no answer".into(),
        raised_at: 1_796_152_686_000,
        cleared_at: None,
        incident_id: Some(1),
        ack: None,
    }
}

fn notice(event: Event) -> Notice {
    Notice {
        delivery_id: 3,
        event,
        alert: alert(AlertKind::RegionUnreachable),
        region: Some("us-east-1".into()),
        link: Some("https://noc.example/#/alerts".into()),
    }
}

#[test]
fn an_empty_filter_takes_everything_and_each_list_narrows_it() {
    let all = Filter::default();
    assert!(all.accepts(AlertKind::RegionDegraded, None));
    let critical = Filter {
        severities: vec![Severity::Critical],
        ..Filter::default()
    };
    assert!(critical.accepts(AlertKind::RegionUnreachable, Some("us-east-1")));
    assert!(!critical.accepts(AlertKind::RegionDegraded, Some("us-east-1")));
    let west = Filter {
        regions: vec!["us-west-2".into()],
        ..Filter::default()
    };
    assert!(west.accepts(AlertKind::DropsStarted, Some("us-west-2")));
    assert!(!west.accepts(AlertKind::DropsStarted, Some("us-east-1")));
    assert!(!west.accepts(AlertKind::DropsStarted, None));
    let drops = Filter {
        kinds: vec![AlertKind::DropsStarted],
        ..Filter::default()
    };
    assert!(!drops.accepts(AlertKind::RegionUnreachable, Some("us-east-1")));
}

#[test]
fn two_hundreds_deliver_four_hundreds_refuse_and_the_rest_retry() {
    assert_eq!(verdict_for_status(200, ""), Verdict::Delivered);
    assert_eq!(verdict_for_status(204, "x"), Verdict::Delivered);
    assert_eq!(
        verdict_for_status(400, " bad labels \n"),
        Verdict::Refused("HTTP 400: bad labels".into())
    );
    assert_eq!(
        verdict_for_status(404, ""),
        Verdict::Refused("HTTP 404".into())
    );
    assert_eq!(
        verdict_for_status(429, ""),
        Verdict::Retry("HTTP 429".into())
    );
    assert_eq!(
        verdict_for_status(408, ""),
        Verdict::Retry("HTTP 408".into())
    );
    assert_eq!(
        verdict_for_status(503, ""),
        Verdict::Retry("HTTP 503".into())
    );
    let long = "x".repeat(500);
    match verdict_for_status(500, &long) {
        Verdict::Retry(why) => assert!(why.chars().count() < 220, "{why}"),
        v => panic!("{v:?}"),
    }
}

#[test]
fn retries_double_up_to_the_cap_and_stop_at_the_deadline() {
    let p = RetryPolicy {
        first_ms: 1_000,
        max_ms: 8_000,
        give_up_after_ms: 60_000,
    };
    assert_eq!(next_attempt(&p, 0, 1, 0), Some(1_000));
    assert_eq!(next_attempt(&p, 0, 2, 10_000), Some(12_000));
    assert_eq!(next_attempt(&p, 0, 4, 10_000), Some(18_000));
    assert_eq!(next_attempt(&p, 0, 40, 10_000), Some(18_000));
    // The last try is at the deadline, then nothing.
    assert_eq!(next_attempt(&p, 0, 9, 55_000), Some(60_000));
    assert_eq!(next_attempt(&p, 0, 10, 60_000), None);
}

#[test]
fn a_clear_waits_for_its_raise_and_each_alert_sends_one_notice_at_a_time() {
    let q = |id, alert: Option<i64>, event, due| Queued {
        id,
        alert_id: alert,
        event,
        due,
    };
    let queued = [
        q(1, Some(10), Event::Firing, false), // retrying, not due yet
        q(2, Some(10), Event::Resolved, true),
        q(3, Some(11), Event::Firing, true),
        q(4, Some(11), Event::Resolved, true),
        q(5, None, Event::Test, true),
        q(6, Some(12), Event::Firing, true),
    ];
    assert_eq!(sendable(&queued, 100), vec![3, 5, 6]);
    assert_eq!(sendable(&queued, 2), vec![3, 5]);
    assert_eq!(sendable(&[], 10), Vec::<i64>::new());
}

#[test]
fn alertmanager_gets_the_labels_and_an_end_past_the_next_resend_while_firing() {
    let now = 1_796_152_690_000;
    let am = am_alert(&notice(Event::Firing), now, 60_000);
    assert_eq!(am.labels["alertname"], "region_unreachable");
    assert_eq!(am.labels["region"], "us-east-1");
    assert_eq!(am.labels["severity"], "critical");
    assert_eq!(am.labels["source"], "switchyard");
    assert_eq!(
        am.annotations["summary"],
        "us-east-1 is unreachable: no answer"
    );
    assert_eq!(am.annotations["console"], "https://noc.example/#/alerts");
    assert_eq!(am.starts_at, "2026-12-01T19:18:06.000Z");
    assert_eq!(am.ends_at, crate::time::rfc3339(now + 240_000));
    let json = serde_json::to_value(&am).unwrap();
    assert!(json.get("startsAt").is_some() && json.get("generatorURL").is_some());

    let mut cleared = notice(Event::Resolved);
    cleared.alert.cleared_at = Some(1_796_152_700_000);
    let am = am_alert(&cleared, now + 99_000, 60_000);
    assert_eq!(am.ends_at, "2026-12-01T19:18:20.000Z");
}

#[test]
fn a_webhook_carries_the_alert_and_a_slack_line_only_when_asked() {
    let plain = webhook_body(&notice(Event::Firing), false);
    assert_eq!(plain.text, None);
    assert_eq!(plain.labels["alertname"], "region_unreachable");
    let json = serde_json::to_value(&plain).unwrap();
    assert!(json.get("text").is_none());
    assert_eq!(json["event"], "firing");
    let slack = webhook_body(&notice(Event::Resolved), true);
    assert_eq!(
        slack.text.as_deref(),
        Some("[RESOLVED critical] us-east-1 is unreachable: no answer <https://noc.example/#/alerts>")
    );
}

#[test]
fn an_sns_subject_is_printable_ascii_within_a_hundred_characters() {
    let mut n = notice(Event::Firing);
    n.alert.message = format!("gw-ü {}", "y".repeat(300));
    let s = sns_subject(&n);
    assert!(s.len() <= 100);
    assert!(s.chars().all(|c| (' '..='~').contains(&c)), "{s}");
    assert!(s.starts_with("Switchyard FIRING: gw-? "));
}

#[test]
fn a_receiver_is_failing_from_its_first_failure_until_a_delivery() {
    let mut h = ReceiverHealth::default();
    assert_eq!(h.status, ReceiverStatus::Idle);
    h.after(&Verdict::Retry("HTTP 503".into()), 10);
    h.after(&Verdict::Retry("timeout".into()), 20);
    assert_eq!(h.status, ReceiverStatus::Failing);
    assert_eq!(h.failing_since, Some(10));
    assert_eq!(h.last_error.as_deref(), Some("timeout"));
    h.after(&Verdict::Delivered, 30);
    assert_eq!(
        (h.status, h.failing_since, h.last_delivered_at),
        (ReceiverStatus::Ok, None, Some(30))
    );
    h.after(&Verdict::Refused("HTTP 401".into()), 40);
    assert_eq!(h.status, ReceiverStatus::Misconfigured);
}

#[test]
fn every_word_list_parses_back_what_it_prints() {
    for k in ReceiverKind::ALL {
        assert_eq!(ReceiverKind::parse(k.as_str()), Some(k));
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    for e in Event::ALL {
        assert_eq!(Event::parse(e.as_str()), Some(e));
        assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
    }
    for s in DeliveryState::ALL {
        assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
    for s in Severity::ALL {
        assert_eq!(Severity::parse(s.as_str()), Some(s));
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
}
