//! SNS as an alert receiver against the local moto lab: a topic with an SQS subscription in each
//! of the lab's two regions (made with the lab venv's boto3), the receiver built from the
//! configuration's text through `notify::build`, and the message read back from the queue.
//! Run by `cargo xtask test` (which installs moto); by hand:
//! `cargo test --workspace --exclude switchyard-ui --test sns_lab -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use switchyard::aws::lab::{self, Lab, LabPlan};
use switchyard::settings::{ConfigFile, Overrides, Settings};
use switchyard_core::alerts::{Alert, AlertKind, Severity};
use switchyard_core::delivery::{Event, Notice, Verdict, WebhookBody};

/// The venv's python beside its moto_server.
fn python(moto: &Path) -> PathBuf {
    moto.with_file_name("python")
}

/// Runs `script` with boto3 against the lab server at `url` in `region`; its stdout as JSON.
fn boto(moto: &Path, url: &str, region: &str, script: &str, args: &[&str]) -> serde_json::Value {
    let prelude = format!(
        "import boto3, json, sys\n\
         kw = dict(endpoint_url={url:?}, region_name={region:?}, aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         sns = boto3.client('sns', **kw)\n\
         sqs = boto3.client('sqs', **kw)\n"
    );
    let out = Command::new(python(moto))
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .args(args)
        .output()
        .expect("the venv's python runs");
    assert!(
        out.status.success(),
        "boto3 script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// A topic subscribed to by a queue in `region`: (topic ARN, queue URL).
fn topic_with_queue(moto: &Path, url: &str, region: &str) -> (String, String) {
    let v = boto(
        moto,
        url,
        region,
        "t = sns.create_topic(Name='noc-pager')['TopicArn']\n\
         q = sqs.create_queue(QueueName='noc-pager-inbox')['QueueUrl']\n\
         qa = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n\
         sns.subscribe(TopicArn=t, Protocol='sqs', Endpoint=qa)\n\
         print(json.dumps({'topic': t, 'queue': q}))\n",
        &[],
    );
    (
        v["topic"].as_str().unwrap().to_string(),
        v["queue"].as_str().unwrap().to_string(),
    )
}

/// Every message waiting in the queue (SNS's envelopes), read within a few seconds.
fn messages(moto: &Path, url: &str, region: &str, queue: &str) -> Vec<serde_json::Value> {
    let v = boto(
        moto,
        url,
        region,
        "r = sqs.receive_message(QueueUrl=sys.argv[1], MaxNumberOfMessages=10, WaitTimeSeconds=2)\n\
         print(json.dumps([json.loads(m['Body']) for m in r.get('Messages', [])]))\n",
        &[queue],
    );
    v.as_array().unwrap().clone()
}

fn notice(event: Event) -> Notice {
    Notice {
        delivery_id: 12,
        event,
        alert: Alert {
            id: 3,
            kind: AlertKind::RegionUnreachable,
            severity: Severity::Critical,
            subject: "us-east-1".into(),
            message: "us-east-1 is unreachable: no answer within 2.5 s".into(),
            raised_at: 1_780_000_000_000,
            cleared_at: None,
            incident_id: Some(1),
            ack: None,
        },
        region: Some("us-east-1".into()),
        link: Some("https://noc.example.com/#/alerts".into()),
    }
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn an_sns_receiver_publishes_to_the_first_topic_that_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let moto = lab::find_moto_server(None).unwrap();
    let mut lab = Lab::start(
        &moto,
        dir.path(),
        LabPlan {
            devices: 2,
            gateways: 1,
            ..LabPlan::default()
        },
    )
    .await
    .unwrap();
    let (east_url, west_url) = (lab.url("us-east-1"), lab.url("us-west-2"));
    let (east_topic, east_queue) = topic_with_queue(&moto, &east_url, "us-east-1");
    let (west_topic, west_queue) = topic_with_queue(&moto, &west_url, "us-west-2");
    assert!(
        east_topic.starts_with("arn:aws:sns:us-east-1:"),
        "{east_topic}"
    );

    // The receiver from the configuration's text, as the console builds it at start.
    let toml = format!(
        "[[alerts.receivers]]\nname = \"pager\"\nkind = \"sns\"\ntimeout_ms = 4000\ntopics = [\n  {{ arn = \"{east_topic}\", endpoint_url = \"{east_url}\", lab_credentials = true }},\n  {{ arn = \"{west_topic}\", endpoint_url = \"{west_url}\", lab_credentials = true }},\n]\n"
    );
    let settings = Settings::resolve(
        ConfigFile::parse(&toml, "sns.toml").unwrap(),
        Some("sns.toml"),
        Overrides::default(),
    )
    .unwrap();
    let receivers = switchyard::notify::build(&settings.alerts, Duration::from_secs(5))
        .await
        .unwrap();
    let pager = &receivers[0];
    assert_eq!(
        pager.targets(),
        vec![east_topic.clone(), west_topic.clone()]
    );

    // Both regions up: the first topic has it, the second is not asked.
    let v = pager
        .send(&[notice(Event::Firing)], 1_780_000_001_000)
        .await;
    assert_eq!(v, Verdict::Delivered);
    let got = messages(&moto, &east_url, "us-east-1", &east_queue);
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(
        m["Subject"],
        "Switchyard FIRING: us-east-1 is unreachable: no answer within 2.5 s"
    );
    assert_eq!(m["TopicArn"], east_topic.as_str());
    assert_eq!(m["MessageAttributes"]["severity"]["Value"], "critical");
    assert_eq!(
        m["MessageAttributes"]["alertname"]["Value"],
        "region_unreachable"
    );
    assert_eq!(m["MessageAttributes"]["event"]["Value"], "firing");
    let body: WebhookBody = serde_json::from_str(m["Message"].as_str().unwrap()).unwrap();
    assert_eq!(body.event, Event::Firing);
    assert_eq!(body.alert.id, 3);
    assert_eq!(body.region.as_deref(), Some("us-east-1"));
    assert!(body.text.unwrap().starts_with("[FIRING critical]"));
    assert!(messages(&moto, &west_url, "us-west-2", &west_queue).is_empty());

    // us-east-1 dead: paging goes through us-west-2's topic, within the receiver's timeout.
    lab.kill("us-east-1");
    let started = Instant::now();
    let v = pager
        .send(&[notice(Event::Resolved)], 1_780_000_100_000)
        .await;
    assert_eq!(v, Verdict::Delivered);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let got = messages(&moto, &west_url, "us-west-2", &west_queue);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["MessageAttributes"]["event"]["Value"], "resolved");
    assert!(got[0]["Subject"]
        .as_str()
        .unwrap()
        .starts_with("Switchyard RESOLVED: "));

    // Both dead: retried later, each topic named.
    lab.kill("us-west-2");
    let v = pager
        .send(&[notice(Event::Firing)], 1_780_000_200_000)
        .await;
    match v {
        Verdict::Retry(why) => {
            assert!(
                why.contains(&east_topic) && why.contains(&west_topic),
                "{why}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs moto_server (cargo xtask setup): run `cargo xtask test`"]
async fn a_topic_that_does_not_exist_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let moto = lab::find_moto_server(None).unwrap();
    let lab = Lab::start(
        &moto,
        dir.path(),
        LabPlan {
            devices: 2,
            gateways: 1,
            ..LabPlan::default()
        },
    )
    .await
    .unwrap();
    let url = lab.url("us-west-2");
    let toml = format!(
        "[[alerts.receivers]]\nname = \"pager\"\nkind = \"sns\"\ntopics = [{{ arn = \"arn:aws:sns:us-west-2:123456789012:nobody-made-me\", endpoint_url = \"{url}\", lab_credentials = true }}]\n"
    );
    let settings = Settings::resolve(
        ConfigFile::parse(&toml, "sns.toml").unwrap(),
        Some("sns.toml"),
        Overrides::default(),
    )
    .unwrap();
    let receivers = switchyard::notify::build(&settings.alerts, Duration::from_secs(5))
        .await
        .unwrap();
    let v = receivers[0]
        .send(&[notice(Event::Firing)], 1_780_000_001_000)
        .await;
    assert!(
        matches!(&v, Verdict::Refused(why) if why.contains("nobody-made-me") && why.contains("NotFound")),
        "{v:?}"
    );
}
