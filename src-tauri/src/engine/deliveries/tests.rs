//! The dispatcher against scripted receivers, on real time with short retries.

use super::super::kit::EngineKit;
use super::super::{Engine, EngineConfig};
use super::DeliveryConfig;
use crate::ports::{AlertReceiver, BoxFuture};
use crate::sim::{SimConfig, SimFleet, SimSource};
use crate::store::Store;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::alerts::{AlertKind, Condition, Severity};
use switchyard_core::delivery::{
    DeliveryState, Event, Filter, Notice, ReceiverKind, ReceiverStatus, RetryPolicy, Verdict,
};
use switchyard_core::UnixMs;

/// A receiver that answers from a script (then `Delivered`), or never.
struct Scripted {
    name: String,
    filter: Filter,
    batch: usize,
    resend: Option<Duration>,
    script: Mutex<VecDeque<Verdict>>,
    hang: bool,
    /// Every send: the notices' (event, alert id).
    got: Mutex<Vec<Vec<(Event, i64)>>>,
}

impl Scripted {
    fn new(name: &str, batch: usize, script: Vec<Verdict>) -> Arc<Scripted> {
        Arc::new(Scripted {
            name: name.into(),
            filter: Filter::default(),
            batch,
            resend: None,
            script: Mutex::new(script.into()),
            hang: false,
            got: Mutex::new(Vec::new()),
        })
    }

    fn sends(&self) -> Vec<Vec<(Event, i64)>> {
        self.got.lock().unwrap().clone()
    }

    fn events(&self) -> Vec<(Event, i64)> {
        self.sends().into_iter().flatten().collect()
    }
}

impl AlertReceiver for Scripted {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> ReceiverKind {
        ReceiverKind::Webhook
    }
    fn targets(&self) -> Vec<String> {
        vec![format!("http://{}.test/hook", self.name)]
    }
    fn filter(&self) -> &Filter {
        &self.filter
    }
    fn batch(&self) -> usize {
        self.batch
    }
    fn resend_every(&self) -> Option<Duration> {
        self.resend
    }
    fn send<'a>(&'a self, notices: &'a [Notice], _now: UnixMs) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            self.got
                .lock()
                .unwrap()
                .push(notices.iter().map(|n| (n.event, n.alert.id)).collect());
            if self.hang {
                std::future::pending::<()>().await;
            }
            self.script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Verdict::Delivered)
        })
    }
}

fn quick() -> EngineConfig {
    EngineConfig {
        deliveries: DeliveryConfig {
            retry: RetryPolicy {
                first_ms: 20,
                max_ms: 100,
                give_up_after_ms: 60_000,
            },
            console_url: Some("https://noc.example/".into()),
        },
        ..EngineConfig::default()
    }
}

fn engine(receivers: Vec<Arc<dyn AlertReceiver>>, store: Store, cfg: EngineConfig) -> Engine {
    let sim = SimSource::new(SimFleet::new(SimConfig::default(), 1_000_000));
    let e = EngineKit::sim(&sim)
        .config(cfg)
        .store(store)
        .receivers(receivers)
        .build();
    e.start_deliveries();
    e
}

fn down(region: &str) -> Condition {
    Condition {
        kind: AlertKind::RegionUnreachable,
        subject: region.into(),
        message: format!("{region} is unreachable"),
    }
}

async fn until(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "waited 10 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn raise(e: &Engine, conditions: &[Condition]) {
    e.update_alerts(conditions, |k, _| k == AlertKind::RegionUnreachable)
        .await;
}

#[tokio::test]
async fn a_raise_and_its_clear_reach_a_receiver_once_each_in_order_not_once_a_poll() {
    let hook = Scripted::new("hook", 1, vec![]);
    let e = engine(vec![hook.clone()], Store::in_memory(), quick());
    for _ in 0..3 {
        raise(&e, &[down("us-east-1")]).await;
    }
    until("the raise", || hook.events().len() == 1).await;
    raise(&e, &[]).await;
    until("the clear", || hook.events().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = hook.events();
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [Event::Firing, Event::Resolved]
    );
    assert_eq!(got[0].1, got[1].1, "both notices are of one alert");
    let d = e.deliveries(10).await.unwrap();
    assert_eq!(d.receivers[0].health.status, ReceiverStatus::Ok);
    assert_eq!(d.receivers[0].health.queued, 0);
    assert!(d
        .deliveries
        .iter()
        .all(|r| r.state == DeliveryState::Delivered));
    assert_eq!(d.deliveries[0].subject.as_deref(), Some("us-east-1"));
}

#[tokio::test]
async fn a_receiver_that_is_down_is_retried_and_gets_the_raise_before_the_clear() {
    let retry = || Verdict::Retry("HTTP 503".into());
    let hook = Scripted::new("hook", 1, vec![retry(), retry(), retry()]);
    let e = engine(vec![hook.clone()], Store::in_memory(), quick());
    raise(&e, &[down("us-east-1")]).await;
    raise(&e, &[]).await;
    until("both notices", || {
        hook.events()
            .iter()
            .filter(|g| g.0 == Event::Resolved)
            .count()
            == 1
    })
    .await;
    let got = hook.events();
    // Three failed raises, the delivered raise, then the clear: never the clear first.
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [
            Event::Firing,
            Event::Firing,
            Event::Firing,
            Event::Firing,
            Event::Resolved
        ]
    );
    let d = e.deliveries(10).await.unwrap();
    let raise_row = d
        .deliveries
        .iter()
        .find(|r| r.event == Event::Firing)
        .unwrap();
    assert_eq!(
        (raise_row.state, raise_row.attempts),
        (DeliveryState::Delivered, 4)
    );
    assert_eq!(raise_row.last_error.as_deref(), Some("HTTP 503"));
}

#[tokio::test]
async fn deliveries_and_requests_are_counted_for_metrics_by_receiver_and_result() {
    let retry = || Verdict::Retry("HTTP 503".into());
    let hook = Scripted::new("hook", 1, vec![retry(), retry()]);
    let e = engine(vec![hook.clone()], Store::in_memory(), quick());
    raise(&e, &[down("us-east-1")]).await;
    raise(&e, &[]).await;
    until("both notices", || hook.events().len() == 4).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = e.render_metrics().await;
    for (series, n) in [
        (
            r#"switchyard_deliveries_total{receiver="hook",result="retrying"}"#,
            2,
        ),
        (
            r#"switchyard_deliveries_total{receiver="hook",result="delivered"}"#,
            2,
        ),
        (r#"switchyard_delivery_requests_total{receiver="hook"}"#, 4),
    ] {
        assert!(
            text.lines().any(|l| l == format!("{series} {n}")),
            "{series} is not {n}:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_receiver_that_refuses_is_misconfigured_and_not_asked_again() {
    let hook = Scripted::new(
        "hook",
        1,
        vec![Verdict::Refused("HTTP 401: bad token".into())],
    );
    let e = engine(vec![hook.clone()], Store::in_memory(), quick());
    raise(&e, &[down("us-east-1")]).await;
    until("the attempt", || hook.events().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hook.events().len(), 1, "a refusal is not retried");
    let d = e.deliveries(10).await.unwrap();
    assert_eq!(d.receivers[0].health.status, ReceiverStatus::Misconfigured);
    assert_eq!(
        d.receivers[0].health.last_error.as_deref(),
        Some("HTTP 401: bad token")
    );
    assert_eq!(d.deliveries[0].state, DeliveryState::Refused);
    // Its clear is not sent either: it was never told of the raise.
    raise(&e, &[]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hook.events().len(), 1);
}

#[tokio::test]
async fn a_burst_of_a_thousand_alerts_goes_out_in_a_few_batched_requests() {
    let am = Scripted::new("am", 500, vec![]);
    let e = engine(vec![am.clone()], Store::in_memory(), quick());
    let burst: Vec<Condition> = (0..1_000)
        .map(|i| down(&format!("region-{i:04}")))
        .collect();
    raise(&e, &burst).await;
    until("every raise", || am.events().len() == 1_000).await;
    let sends = am.sends();
    assert!(
        sends.len() <= 4,
        "{} requests for 1,000 alerts",
        sends.len()
    );
    assert!(sends.iter().all(|s| s.len() <= 500));
}

#[tokio::test]
async fn a_hung_receiver_does_not_hold_up_raising_alerts_or_another_receiver() {
    let hung = Arc::new(Scripted {
        hang: true,
        ..Arc::into_inner(Scripted::new("hung", 1, vec![])).unwrap()
    });
    let ok = Scripted::new("ok", 1, vec![]);
    let e = engine(vec![hung.clone(), ok.clone()], Store::in_memory(), quick());
    let started = Instant::now();
    for i in 0..20 {
        raise(&e, &[down(&format!("r{i}"))]).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "raising took {:?}",
        started.elapsed()
    );
    until("the other receiver's notices", || ok.events().len() >= 20).await;
    assert_eq!(
        hung.sends().len(),
        1,
        "the hung receiver is still on its first send"
    );
}

#[tokio::test]
async fn a_restart_resumes_the_outbox_and_delivers_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let retry = || Verdict::Retry("connection refused".into());
        let hook = Scripted::new("hook", 1, (0..1_000).map(|_| retry()).collect());
        let e = engine(
            vec![hook.clone()],
            Store::open(dir.path()).unwrap(),
            quick(),
        );
        raise(&e, &[down("us-east-1")]).await;
        until("a failed attempt", || !hook.events().is_empty()).await;
    }
    let hook = Scripted::new("hook", 1, vec![]);
    let e = engine(
        vec![hook.clone()],
        Store::open(dir.path()).unwrap(),
        quick(),
    );
    until("the delivery after the restart", || {
        hook.events().len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hook.events().len(), 1);
    let d = e.deliveries(10).await.unwrap();
    assert_eq!(d.deliveries.len(), 1);
    assert_eq!(d.deliveries[0].state, DeliveryState::Delivered);
}

#[tokio::test]
async fn a_receiver_takes_only_what_its_filter_takes() {
    let mut paging = Arc::into_inner(Scripted::new("paging", 1, vec![])).unwrap();
    paging.filter = Filter {
        severities: vec![Severity::Critical],
        ..Filter::default()
    };
    let paging = Arc::new(paging);
    let e = engine(vec![paging.clone()], Store::in_memory(), quick());
    let degraded = Condition {
        kind: AlertKind::RegionDegraded,
        subject: "us-east-1".into(),
        message: "slow".into(),
    };
    e.update_alerts(&[degraded, down("us-west-2")], |_, _| true)
        .await;
    until("the critical one", || paging.events().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let d = e.deliveries(10).await.unwrap();
    assert_eq!(d.deliveries.len(), 1);
    assert_eq!(
        d.deliveries[0].alert_kind,
        Some(AlertKind::RegionUnreachable)
    );
}

#[tokio::test]
async fn a_receiver_that_forgets_is_told_again_while_the_alert_fires_and_not_after() {
    let mut am = Arc::into_inner(Scripted::new("am", 500, vec![])).unwrap();
    am.resend = Some(Duration::from_millis(100));
    let am = Arc::new(am);
    let e = engine(vec![am.clone()], Store::in_memory(), quick());
    raise(&e, &[down("us-east-1")]).await;
    until("two re-sends", || am.events().len() >= 3).await;
    raise(&e, &[]).await;
    until("the clear", || {
        am.events().iter().any(|g| g.0 == Event::Resolved)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    let after: Vec<Event> = am.events().iter().map(|g| g.0).collect();
    let clear_at = after.iter().position(|e| *e == Event::Resolved).unwrap();
    assert_eq!(
        clear_at,
        after.len() - 1,
        "nothing after the clear: {after:?}"
    );
}

#[tokio::test]
async fn a_test_alert_is_audited_and_answers_with_its_delivered_row() {
    let hook = Scripted::new("hook", 1, vec![]);
    let e = engine(vec![hook.clone()], Store::in_memory(), quick());
    let err = e
        .test_receiver("nope", "admin", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("no receiver named 'nope'"),
        "{err}"
    );
    let row = e
        .test_receiver("hook", "admin", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(
        (row.event, row.state, row.alert_id),
        (Event::Test, DeliveryState::Delivered, None)
    );
    assert_eq!(hook.events(), vec![(Event::Test, 0)]);
    let audit = e.store().audit_recent(10).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "receiver.test" && a.actor == "admin"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn two_overlapping_updates_that_see_the_same_condition_raise_it_and_notify_once() {
    let hook = Scripted::new("hook", 1, vec![]);
    let e = engine(vec![hook.clone()], Store::in_memory(), quick());
    let burst: Vec<Condition> = (0..50).map(|i| down(&format!("r{i:02}"))).collect();
    tokio::join!(raise(&e, &burst), raise(&e, &burst));
    until("the notices", || hook.events().len() >= 50).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hook.events().len(), 50);
    assert_eq!(e.store().alerts(true, 1_000).unwrap().len(), 50);
}
