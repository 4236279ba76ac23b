use super::*;
use switchyard_core::alerts::Condition;

fn cond(subject: &str) -> Condition {
    Condition {
        kind: AlertKind::RegionUnreachable,
        subject: subject.into(),
        message: format!("{subject} is unreachable"),
    }
}

fn out(receivers: &[&str]) -> Outbound {
    Outbound {
        receivers: receivers.iter().map(|r| r.to_string()).collect(),
        region: Some("us-east-1".into()),
    }
}

#[test]
fn a_raise_is_one_row_per_receiver_and_its_clear_goes_to_those_told_of_it() {
    let s = Store::in_memory();
    let a = s
        .alert_raise_out(&cond("us-east-1"), 10, &out(&["am", "hook"]))
        .unwrap()
        .alert;
    let am = s.outbox("am", 10).unwrap();
    assert_eq!(am.len(), 1);
    assert_eq!(
        (am[0].event, am[0].attempts, am[0].next_at),
        (Event::Firing, 0, 10)
    );
    assert_eq!(am[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(am[0].alert.as_ref().unwrap().id, a);
    // The webhook refuses the raise: it is not told of the clear.
    let hook = s.outbox("hook", 10).unwrap();
    s.deliveries_mark(
        &[hook[0].id],
        &Mark::Final {
            state: DeliveryState::Refused,
            error: "HTTP 401".into(),
        },
        11,
    )
    .unwrap();
    s.alert_clear(a, 20).unwrap();
    s.alert_clear(a, 30).unwrap();
    let am = s.outbox("am", 10).unwrap();
    assert_eq!(
        am.iter().map(|q| q.event).collect::<Vec<_>>(),
        vec![Event::Firing, Event::Resolved],
        "the clear queues behind the raise, once"
    );
    assert!(s.outbox("hook", 10).unwrap().is_empty());
    assert_eq!(s.deliveries_queued("am").unwrap(), 2);
    // A receiver that takes nothing gets nothing.
    assert!(s.outbox("sns", 10).unwrap().is_empty());
}

#[test]
fn a_failed_attempt_stays_open_with_its_next_time_and_a_delivered_one_leaves_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let s = Store::open(dir.path()).unwrap();
        s.alert_raise_out(&cond("us-east-1"), 10, &out(&["am"]))
            .unwrap();
        let q = s.outbox("am", 10).unwrap();
        s.deliveries_mark(
            &[q[0].id],
            &Mark::Retry {
                error: "connection refused".into(),
                next_at: 2_010,
            },
            10,
        )
        .unwrap();
        q[0].id
    };
    // A restart finds the row where it was.
    let s = Store::open(dir.path()).unwrap();
    let q = s.outbox("am", 10).unwrap();
    assert_eq!((q[0].id, q[0].attempts, q[0].next_at), (id, 1, 2_010));
    let log = s.deliveries(10).unwrap();
    assert_eq!(log[0].state, DeliveryState::Retrying);
    assert_eq!(log[0].last_error.as_deref(), Some("connection refused"));
    assert_eq!(log[0].next_attempt_at, Some(2_010));
    assert_eq!(log[0].alert_kind, Some(AlertKind::RegionUnreachable));
    s.deliveries_mark(&[id], &Mark::Delivered, 2_010).unwrap();
    assert!(s.outbox("am", 10).unwrap().is_empty());
    let row = s.delivery(id).unwrap().unwrap();
    assert_eq!(
        (
            row.state,
            row.attempts,
            row.delivered_at,
            row.next_attempt_at
        ),
        (DeliveryState::Delivered, 2, Some(2_010), None)
    );
    // A delivered row is not marked again.
    s.deliveries_mark(
        &[id],
        &Mark::Retry {
            error: "x".into(),
            next_at: 9,
        },
        3_000,
    )
    .unwrap();
    assert_eq!(
        s.delivery_state(id).unwrap(),
        Some(DeliveryState::Delivered)
    );
}

#[test]
fn firing_alerts_delivered_are_told_again_until_they_clear() {
    let s = Store::in_memory();
    let a = s
        .alert_raise_out(&cond("us-east-1"), 10, &out(&["am"]))
        .unwrap()
        .alert;
    let b = s
        .alert_raise_out(&cond("us-west-2"), 11, &out(&["am"]))
        .unwrap()
        .alert;
    assert!(
        s.firing_delivered("am").unwrap().is_empty(),
        "not delivered yet"
    );
    let ids: Vec<i64> = s.outbox("am", 10).unwrap().iter().map(|q| q.id).collect();
    s.deliveries_mark(&ids, &Mark::Delivered, 12).unwrap();
    s.alert_clear(a, 13).unwrap();
    let firing = s.firing_delivered("am").unwrap();
    assert_eq!(firing.iter().map(|f| f.2.id).collect::<Vec<_>>(), vec![b]);
}

#[test]
fn pruning_takes_finished_rows_and_keeps_open_ones_whatever_their_age() {
    let s = Store::in_memory();
    s.alert_raise_out(&cond("a"), 10, &out(&["am"])).unwrap();
    s.alert_raise_out(&cond("b"), 10, &out(&["am"])).unwrap();
    let test = s.delivery_test("am", "ada", 10).unwrap();
    let q = s.outbox("am", 10).unwrap();
    assert_eq!(q.len(), 3);
    assert!(q[2].alert.is_none() && q[2].event == Event::Test && q[2].id == test);
    assert_eq!(q[2].requested_by.as_deref(), Some("ada"));
    s.deliveries_mark(&[q[0].id, test], &Mark::Delivered, 11)
        .unwrap();
    s.prune(1_000).unwrap();
    let left: Vec<i64> = s.deliveries(10).unwrap().iter().map(|d| d.id).collect();
    assert_eq!(left, vec![q[1].id]);
}
