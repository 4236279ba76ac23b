//! The receivers against small HTTP servers on loopback: one that records what it got and
//! answers with the statuses it is told, one that accepts and never answers, and a port where
//! nothing listens. (Past 500 lines: both HTTP receivers share these servers and notices.)

use super::alertmanager::{Alertmanager, BATCH, PATH};
use super::webhook::{shown, signature, Webhook, DELIVERY_HEADER, SIGNATURE_HEADER};
use super::*;
use crate::settings::{ReceiverSettings, ReceiverTarget, Secret};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Mutex;
use std::time::Instant;
use switchyard_core::alerts::{Alert, AlertKind, Severity};
use switchyard_core::delivery::{AmAlert, Event, Filter, Notice, ReceiverKind, WebhookBody};

/// One request the recording server got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[derive(Clone)]
struct Recorder {
    got: Arc<Mutex<Vec<Got>>>,
    /// The statuses to answer with, in order; the last one stays.
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Recorder {
    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

/// A server on a loopback port that records every request and answers `answers` in turn.
async fn recording(answers: &[u16]) -> (String, Recorder) {
    let rec = Recorder {
        got: Arc::default(),
        answers: Arc::new(Mutex::new(answers.to_vec())),
    };
    let state = rec.clone();
    let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let state = state.clone();
        async move {
            state.got.lock().unwrap().push(Got {
                path: uri
                    .path_and_query()
                    .map_or_else(String::new, |p| p.to_string()),
                headers,
                body: body.to_vec(),
            });
            let status = {
                let mut a = state.answers.lock().unwrap();
                if a.len() > 1 {
                    a.remove(0)
                } else {
                    a.first().copied().unwrap_or(200)
                }
            };
            (StatusCode::from_u16(status).unwrap(), "said the server")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), rec)
}

/// A server that accepts connections and never answers; its URL.
async fn silent() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    format!("http://{addr}")
}

/// A loopback URL where nothing listens.
async fn nobody() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

const TIMEOUT: Duration = Duration::from_millis(400);
const SECRET: &[u8] = b"the-shared-secret";

fn settings(name: &str, target: ReceiverTarget) -> ReceiverSettings {
    ReceiverSettings {
        name: name.to_string(),
        filter: Filter::default(),
        timeout: TIMEOUT,
        target,
    }
}

fn webhook(url: &str, slack: bool) -> Webhook {
    let r = settings(
        "hook",
        ReceiverTarget::Webhook {
            url: url.to_string(),
            secret: Secret(SECRET.to_vec()),
            slack,
        },
    );
    Webhook::new(&r, url, Secret(SECRET.to_vec()), slack).unwrap()
}

fn alertmanager(urls: &[String]) -> Alertmanager {
    let r = settings(
        "am",
        ReceiverTarget::Alertmanager {
            urls: urls.to_vec(),
            resend_every: Duration::from_secs(60),
        },
    );
    Alertmanager::new(&r, urls, Duration::from_secs(60)).unwrap()
}

const RAISED: u64 = 1_780_000_000_000;

fn notice(id: i64, alert_id: i64, event: Event, region: &str) -> Notice {
    Notice {
        delivery_id: id,
        event,
        alert: Alert {
            id: alert_id,
            kind: AlertKind::RegionUnreachable,
            severity: Severity::Critical,
            subject: region.to_string(),
            message: format!("{region} is unreachable"),
            raised_at: RAISED,
            cleared_at: (event == Event::Resolved).then_some(RAISED + 120_000),
            incident_id: None,
            ack: None,
        },
        region: Some(region.to_string()),
        link: Some(format!("https://noc.example.com/#/alerts?alert={alert_id}")),
    }
}

fn header(g: &Got, name: &str) -> String {
    g.headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_webhook_is_signed_over_the_exact_body_it_sends() {
    let (url, rec) = recording(&[200]).await;
    let hook = webhook(&format!("{url}/hooks/noc?team=sre"), true);
    let v = hook
        .send(&[notice(41, 7, Event::Firing, "us-east-1")], RAISED)
        .await;
    assert_eq!(v, Verdict::Delivered);
    let got = rec.got();
    assert_eq!(got.len(), 1);
    let g = &got[0];
    assert_eq!(g.path, "/hooks/noc?team=sre");
    assert_eq!(header(g, "content-type"), "application/json");
    assert_eq!(header(g, DELIVERY_HEADER), "41");
    // The receiver's side: the HMAC of the bytes received, under the shared secret.
    let sent = header(g, SIGNATURE_HEADER);
    let hex = sent.strip_prefix("sha256=").expect("sha256= prefix");
    let tag: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(&g.body);
    assert!(mac.verify_slice(&tag).is_ok(), "the signature verifies");
    let mut wrong = Hmac::<Sha256>::new_from_slice(b"another secret").unwrap();
    wrong.update(&g.body);
    assert!(wrong.verify_slice(&tag).is_err());
    let body: WebhookBody = serde_json::from_slice(&g.body).unwrap();
    assert_eq!(body.event, Event::Firing);
    assert_eq!(body.alert.id, 7);
    assert_eq!(body.labels["alertname"], "region_unreachable");
    assert_eq!(body.labels["region"], "us-east-1");
    assert_eq!(
        body.text.as_deref(),
        Some(
            "[FIRING critical] us-east-1 is unreachable <https://noc.example.com/#/alerts?alert=7>"
        )
    );
}

#[test]
fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
    // RFC 4231, test case 2.
    assert_eq!(
        signature(b"Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[tokio::test]
async fn a_raise_and_its_clear_reach_a_webhook_in_order() {
    let (url, rec) = recording(&[200]).await;
    let hook = webhook(&format!("{url}/hook"), false);
    let raise = notice(1, 9, Event::Firing, "eu-west-1");
    let clear = notice(2, 9, Event::Resolved, "eu-west-1");
    assert_eq!(hook.send(&[raise, clear], RAISED).await, Verdict::Delivered);
    let events: Vec<(String, Event)> = rec
        .got()
        .iter()
        .map(|g| {
            let b: WebhookBody = serde_json::from_slice(&g.body).unwrap();
            (header(g, DELIVERY_HEADER), b.event)
        })
        .collect();
    assert_eq!(
        events,
        vec![("1".into(), Event::Firing), ("2".into(), Event::Resolved)]
    );
    let body: WebhookBody = serde_json::from_slice(&rec.got()[1].body).unwrap();
    assert!(body.text.is_none(), "no slack text unless asked");
}

#[tokio::test]
async fn a_failed_notice_stops_the_ones_after_it() {
    let (url, rec) = recording(&[503, 200]).await;
    let hook = webhook(&format!("{url}/hook"), false);
    let v = hook
        .send(
            &[
                notice(1, 9, Event::Firing, "eu-west-1"),
                notice(2, 9, Event::Resolved, "eu-west-1"),
            ],
            RAISED,
        )
        .await;
    assert!(
        matches!(&v, Verdict::Retry(w) if w.contains("HTTP 503")),
        "{v:?}"
    );
    assert_eq!(rec.got().len(), 1, "the clear did not overtake its raise");
}

#[tokio::test]
async fn a_4xx_answer_is_refused_and_a_5xx_or_429_retried() {
    let (url, _rec) = recording(&[404, 500, 429, 200]).await;
    let hook = webhook(&format!("{url}/hook"), false);
    let n = [notice(1, 1, Event::Firing, "us-east-1")];
    let shown_url = format!("{url}/hook");
    assert_eq!(
        hook.send(&n, RAISED).await,
        Verdict::Refused(format!("{shown_url}: HTTP 404: said the server"))
    );
    assert_eq!(
        hook.send(&n, RAISED).await,
        Verdict::Retry(format!("{shown_url}: HTTP 500: said the server"))
    );
    assert_eq!(
        hook.send(&n, RAISED).await,
        Verdict::Retry(format!("{shown_url}: HTTP 429: said the server"))
    );
    assert_eq!(hook.send(&n, RAISED).await, Verdict::Delivered);
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_retried_within_its_timeout() {
    let url = silent().await;
    let n = [notice(1, 1, Event::Firing, "us-east-1")];
    for receiver in [
        Box::new(webhook(&format!("{url}/hook"), false)) as Box<dyn AlertReceiver>,
        Box::new(alertmanager(std::slice::from_ref(&url))),
    ] {
        let started = Instant::now();
        let v = receiver.send(&n, RAISED).await;
        let took = started.elapsed();
        assert!(
            matches!(&v, Verdict::Retry(w) if w.contains("no answer within 0.4 s")),
            "{}: {v:?}",
            receiver.name()
        );
        assert!(
            took >= TIMEOUT && took < TIMEOUT + Duration::from_millis(500),
            "{}: took {took:?}",
            receiver.name()
        );
    }
}

#[tokio::test]
async fn a_receiver_nobody_listens_for_is_retried() {
    let url = nobody().await;
    let v = webhook(&format!("{url}/hook"), false)
        .send(&[notice(1, 1, Event::Firing, "us-east-1")], RAISED)
        .await;
    assert!(
        matches!(&v, Verdict::Retry(w) if w.starts_with(&format!("{url}/hook: cannot connect: "))),
        "{v:?}"
    );
}

#[tokio::test]
async fn an_alertmanager_cluster_with_one_member_down_is_delivered() {
    let (up, rec) = recording(&[200]).await;
    let down = nobody().await;
    let am = alertmanager(&[down.clone(), up.clone()]);
    assert_eq!(am.targets(), vec![down, up]);
    let firing = notice(5, 3, Event::Firing, "us-east-1");
    let v = am.send(std::slice::from_ref(&firing), RAISED + 1_000).await;
    assert_eq!(v, Verdict::Delivered);
    let got = rec.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, PATH);
    let alerts: Vec<AmAlert> = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(alerts.len(), 1);
    let a = &alerts[0];
    assert_eq!(a.labels["alertname"], "region_unreachable");
    assert_eq!(a.labels["region"], "us-east-1");
    assert_eq!(a.labels["severity"], "critical");
    assert_eq!(a.labels["source"], "switchyard");
    assert_eq!(a.annotations["summary"], "us-east-1 is unreachable");
    assert_eq!(
        a.annotations["console"],
        "https://noc.example.com/#/alerts?alert=3"
    );
    // While firing, it ends four re-sends ahead; once cleared, when it cleared.
    assert_eq!(
        a.ends_at,
        switchyard_core::time::rfc3339(RAISED + 1_000 + 4 * 60_000)
    );
    let cleared = notice(6, 3, Event::Resolved, "us-east-1");
    assert_eq!(
        am.send(&[cleared], RAISED + 200_000).await,
        Verdict::Delivered
    );
    let alerts: Vec<AmAlert> = serde_json::from_slice(&rec.got()[1].body).unwrap();
    assert_eq!(
        alerts[0].ends_at,
        switchyard_core::time::rfc3339(RAISED + 120_000)
    );
}

#[tokio::test]
async fn every_member_of_a_cluster_is_sent_to() {
    let (a, rec_a) = recording(&[200]).await;
    let (b, rec_b) = recording(&[200]).await;
    let am = alertmanager(&[a, b]);
    let n = [notice(1, 1, Event::Firing, "us-east-1")];
    assert_eq!(am.send(&n, RAISED).await, Verdict::Delivered);
    assert_eq!((rec_a.got().len(), rec_b.got().len()), (1, 1));
    assert_eq!(rec_a.got()[0].body, rec_b.got()[0].body);
}

#[tokio::test]
async fn a_cluster_that_takes_nothing_names_each_member() {
    let (refusing, _r) = recording(&[400]).await;
    let (failing, _f) = recording(&[503]).await;
    let n = [notice(1, 1, Event::Firing, "us-east-1")];
    let v = alertmanager(&[refusing.clone(), failing.clone()])
        .send(&n, RAISED)
        .await;
    assert_eq!(
        v,
        Verdict::Retry(format!(
            "{refusing}: HTTP 400: said the server; {failing}: HTTP 503: said the server"
        ))
    );
    let v = alertmanager(std::slice::from_ref(&refusing))
        .send(&n, RAISED)
        .await;
    assert_eq!(
        v,
        Verdict::Refused(format!("{refusing}: HTTP 400: said the server"))
    );
}

#[tokio::test]
async fn a_burst_goes_to_alertmanager_as_one_list_per_batch() {
    let (url, rec) = recording(&[200]).await;
    let am = alertmanager(std::slice::from_ref(&url));
    assert_eq!(am.batch(), BATCH);
    let burst: Vec<Notice> = (0..BATCH as i64)
        .map(|i| notice(i, i, Event::Firing, "us-east-1"))
        .collect();
    assert_eq!(am.send(&burst, RAISED).await, Verdict::Delivered);
    let got = rec.got();
    assert_eq!(got.len(), 1, "one request for the whole batch");
    let alerts: Vec<AmAlert> = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(alerts.len(), BATCH);
}

#[tokio::test]
async fn build_makes_each_receiver_of_the_settings() {
    let alerts = AlertsSettings {
        console_url: None,
        retry: Default::default(),
        receivers: vec![
            settings(
                "am",
                ReceiverTarget::Alertmanager {
                    urls: vec!["http://am-1:9093".into(), "http://am-2:9093".into()],
                    resend_every: Duration::from_secs(30),
                },
            ),
            settings(
                "chat",
                ReceiverTarget::Webhook {
                    url: "https://hooks.slack.com/services/T0/B0/XYZ".into(),
                    secret: Secret(b"k".to_vec()),
                    slack: true,
                },
            ),
        ],
    };
    let built = build(&alerts, Duration::from_secs(2)).await.unwrap();
    let seen: Vec<_> = built
        .iter()
        .map(|r| {
            (
                r.name().to_string(),
                r.kind(),
                r.targets(),
                r.batch(),
                r.resend_every(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "am".into(),
                ReceiverKind::Alertmanager,
                vec!["http://am-1:9093".into(), "http://am-2:9093".into()],
                BATCH,
                Some(Duration::from_secs(30))
            ),
            (
                "chat".into(),
                ReceiverKind::Webhook,
                vec!["https://hooks.slack.com/services/…".into()],
                1,
                None
            ),
        ]
    );
    assert!(build(&AlertsSettings::default(), Duration::from_secs(2))
        .await
        .unwrap()
        .is_empty());
}

#[test]
fn a_webhook_url_is_shown_without_its_token() {
    assert_eq!(
        shown("https://hooks.slack.com/services/T0/B0/XYZ"),
        "https://hooks.slack.com/services/…"
    );
    assert_eq!(
        shown("http://h:8080/switchyard"),
        "http://h:8080/switchyard"
    );
    assert_eq!(
        shown("http://h:8080/hook?token=abc"),
        "http://h:8080/hook/…"
    );
    assert_eq!(shown("http://h:8080"), "http://h:8080");
}

#[test]
fn an_url_splits_into_its_origin_and_its_path() {
    assert_eq!(
        split_url("https://h:8443/a/b?c=1"),
        ("https://h:8443", "/a/b?c=1")
    );
    assert_eq!(split_url("http://h"), ("http://h", "/"));
    assert_eq!(split_url("http://h?x=1"), ("http://h", "?x=1"));
}

#[test]
fn several_targets_have_one_verdict() {
    let retry = || Verdict::Retry("a: HTTP 503".into());
    let refused = || Verdict::Refused("b: HTTP 404".into());
    assert_eq!(
        combine(vec![retry(), Verdict::Delivered]),
        Verdict::Delivered
    );
    assert_eq!(
        combine(vec![refused(), retry()]),
        Verdict::Retry("b: HTTP 404; a: HTTP 503".into())
    );
    assert_eq!(
        combine(vec![refused(), refused()]),
        Verdict::Refused("b: HTTP 404; b: HTTP 404".into())
    );
    assert!(matches!(combine(vec![]), Verdict::Retry(_)));
}
