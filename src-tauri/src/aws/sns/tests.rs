//! The SNS receiver against mocked answers, as SNS sends them (the query protocol's XML), one
//! mocked client per topic. The real service's behaviour is checked against the moto lab in
//! `tests/sns_lab.rs`.

use super::*;
use aws_sdk_sns::operation::publish::PublishInput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use switchyard_core::alerts::{Alert, AlertKind, Severity};
use switchyard_core::delivery::Event;

const EAST: &str = "arn:aws:sns:us-east-1:123456789012:noc-pager";
const WEST: &str = "arn:aws:sns:us-west-2:123456789012:noc-pager";

fn ok() -> HttpResponse {
    HttpResponse::new(
        StatusCode::try_from(200).unwrap(),
        SdkBody::from(
            "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>",
        ),
    )
}

fn error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::new(
        StatusCode::try_from(status).unwrap(),
        SdkBody::from(format!(
            "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-2</RequestId></ErrorResponse>"
        )),
    )
}

/// A topic whose client answers every Publish with `answer`, accepting only requests `check`
/// passes.
fn topic(
    arn: &str,
    check: impl Fn(&PublishInput) -> bool + Send + Sync + 'static,
    answer: impl Fn() -> HttpResponse + Send + Sync + 'static,
) -> (Topic, Rule) {
    let rule = mock!(Client::publish)
        .match_requests(check)
        .then_http_response(answer);
    let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    (
        Topic {
            arn: arn.to_string(),
            client,
        },
        rule,
    )
}

fn receiver(topics: Vec<Topic>) -> SnsReceiver {
    SnsReceiver {
        name: "pager".into(),
        filter: Filter::default(),
        timeout: Duration::from_secs(2),
        per_topic: Duration::from_secs(1),
        topics,
    }
}

fn notice() -> Notice {
    Notice {
        delivery_id: 4,
        event: Event::Firing,
        alert: Alert {
            id: 8,
            kind: AlertKind::DropsStarted,
            severity: Severity::Critical,
            subject: "gw-17".into(),
            message: "gw-17 drops messages: its buffer is full".into(),
            raised_at: 1_780_000_000_000,
            cleared_at: None,
            incident_id: None,
            ack: None,
        },
        region: Some("us-east-1".into()),
        link: None,
    }
}

fn any(_: &PublishInput) -> bool {
    true
}

#[tokio::test]
async fn the_first_topic_that_takes_the_notice_has_it() {
    let (east, east_rule) = topic(EAST, any, || error(500, "InternalError", "try later"));
    let (west, west_rule) = topic(
        WEST,
        |i| {
            let attr = |k: &str| {
                i.message_attributes()
                    .and_then(|m| m.get(k))
                    .and_then(|v| v.string_value())
                    .map(str::to_string)
            };
            let body: Option<switchyard_core::delivery::WebhookBody> =
                i.message().and_then(|m| serde_json::from_str(m).ok());
            i.topic_arn() == Some(WEST)
                && i.subject()
                    == Some("Switchyard FIRING: gw-17 drops messages: its buffer is full")
                && attr("severity").as_deref() == Some("critical")
                && attr("alertname").as_deref() == Some("drops_started")
                && attr("event").as_deref() == Some("firing")
                && body.is_some_and(|b| b.alert.id == 8 && b.text.is_some())
        },
        ok,
    );
    let (spare, spare_rule) = topic(EAST, any, ok);
    let r = receiver(vec![east, west, spare]);
    assert_eq!(r.send(&[notice()], 1).await, Verdict::Delivered);
    assert_eq!(
        (
            east_rule.num_calls(),
            west_rule.num_calls(),
            spare_rule.num_calls()
        ),
        (1, 1, 0),
        "the second topic took it; the third was not asked"
    );
}

#[tokio::test]
async fn a_missing_topic_or_refused_credentials_are_refused() {
    let (east, _) = topic(EAST, any, || error(404, "NotFound", "Topic does not exist"));
    let (west, _) = topic(WEST, any, || {
        error(
            403,
            "AuthorizationError",
            "not authorized to perform SNS:Publish",
        )
    });
    let v = receiver(vec![east, west]).send(&[notice()], 1).await;
    assert_eq!(
        v,
        Verdict::Refused(format!(
            "{EAST}: Publish: NotFound: Topic does not exist; {WEST}: Publish: AuthorizationError: not authorized to perform SNS:Publish"
        ))
    );
    let (bad, _) = topic(EAST, any, || {
        error(400, "InvalidParameter", "Invalid parameter: Subject")
    });
    assert!(matches!(
        receiver(vec![bad]).send(&[notice()], 1).await,
        Verdict::Refused(w) if w.contains("InvalidParameter")
    ));
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried() {
    for (status, code) in [
        (429, "Throttled"),
        (400, "KMSThrottling"),
        (503, "ServiceUnavailable"),
    ] {
        let (east, _) = topic(EAST, any, move || error(status, code, "slow down"));
        let v = receiver(vec![east]).send(&[notice()], 1).await;
        assert!(
            matches!(&v, Verdict::Retry(w) if w.starts_with(&format!("{EAST}: Publish: {code}"))),
            "{code}: {v:?}"
        );
    }
    // One topic refusing and one failing: the failing one may take it later.
    let (east, _) = topic(EAST, any, || error(404, "NotFound", "Topic does not exist"));
    let (west, _) = topic(WEST, any, || error(500, "InternalError", "oops"));
    assert!(matches!(
        receiver(vec![east, west]).send(&[notice()], 1).await,
        Verdict::Retry(_)
    ));
}

#[tokio::test]
async fn a_region_that_never_answers_is_retried_within_the_receivers_timeout() {
    // A real SDK client against a loopback port that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = listener.accept().await {
            held.push(c);
        }
    });
    let settings = ReceiverSettings {
        name: "pager".into(),
        filter: Filter::default(),
        timeout: Duration::from_millis(600),
        target: crate::settings::ReceiverTarget::Sns { topics: vec![] },
    };
    let topics = [EAST, WEST].map(|arn| SnsTopic {
        arn: arn.into(),
        region: "us-east-1".into(),
        endpoint: crate::settings::EndpointSettings {
            credentials: crate::settings::CredentialSource::Lab,
            endpoint_url: Some(url.clone()),
        },
    });
    let r = SnsReceiver::connect(&settings, &topics, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(r.targets(), vec![EAST.to_string(), WEST.to_string()]);
    let started = std::time::Instant::now();
    let v = r.send(&[notice()], 1).await;
    let took = started.elapsed();
    assert!(
        matches!(&v, Verdict::Retry(w) if w.contains(EAST) && w.contains(WEST)),
        "{v:?}"
    );
    assert!(
        took < Duration::from_millis(600 + 400),
        "both topics tried within the timeout: {took:?}"
    );
}
