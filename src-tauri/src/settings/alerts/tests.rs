//! Tests of `[alerts]` and `[[alerts.receivers]]`.

use super::super::{ConfigFile, Overrides, Settings};
use super::*;
use switchyard_core::alerts::{AlertKind, Severity};

/// The environment these tests see: one variable set (with the newline a shell leaves), one
/// set but empty.
fn env(k: &str) -> Option<String> {
    match k {
        "SY_HOOK_SECRET" => Some("s3cret\n".to_string()),
        "SY_EMPTY" => Some("  ".to_string()),
        _ => None,
    }
}

/// `text` resolved as the file sy.toml, its `[alerts]` only.
fn alerts(text: &str) -> Result<AlertsSettings, String> {
    let file = ConfigFile::parse(text, "sy.toml").map_err(|e| e.to_string())?;
    file.alerts
        .resolve_with(file.origin.as_ref(), &env)
        .map_err(|e| e.to_string())
}

const AM: &str = r#"
[[alerts.receivers]]
name = "noc-am"
kind = "alertmanager"
urls = ["http://am-1:9093/", "http://am-2:9093"]
"#;

#[test]
fn alerts_default_to_no_receivers_and_the_core_retry_policy() {
    let a = alerts("").unwrap();
    assert!(a.receivers.is_empty());
    assert_eq!(a.retry, RetryPolicy::default());
    assert_eq!(a.console_url, None);
    let a = alerts(
        "[alerts]\nconsole_url = \"https://noc.example.com/\"\nretry_first_secs = 5\nretry_max_secs = 60\ngive_up_after_mins = 90\n",
    )
    .unwrap();
    assert_eq!(a.console_url.as_deref(), Some("https://noc.example.com"));
    assert_eq!(
        a.retry,
        RetryPolicy {
            first_ms: 5_000,
            max_ms: 60_000,
            give_up_after_ms: 90 * 60_000
        }
    );
}

#[test]
fn the_retry_policy_and_the_console_link_reach_the_engine() {
    let s = Settings::resolve(
        ConfigFile::parse(
            "[alerts]\nconsole_url = \"http://noc:8080\"\nretry_first_secs = 7\n",
            "sy.toml",
        )
        .unwrap(),
        Some("sy.toml"),
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(s.engine.deliveries.retry.first_ms, 7_000);
    assert_eq!(
        s.engine.deliveries.console_url.as_deref(),
        Some("http://noc:8080")
    );
}

#[test]
fn an_alertmanager_receiver_sends_to_every_url_and_resends_each_minute() {
    let a = alerts(AM).unwrap();
    let r = &a.receivers[0];
    assert_eq!(r.name, "noc-am");
    assert_eq!(r.kind(), ReceiverKind::Alertmanager);
    assert_eq!(r.timeout, Duration::from_millis(DEFAULT_TIMEOUT_MS));
    assert_eq!(r.filter, Filter::default());
    match &r.target {
        ReceiverTarget::Alertmanager { urls, resend_every } => {
            assert_eq!(urls, &["http://am-1:9093", "http://am-2:9093"]);
            assert_eq!(*resend_every, Duration::from_secs(60));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_receiver_takes_the_severities_regions_and_kinds_it_names() {
    let a = alerts(&format!(
        "{AM}severities = [\"critical\"]\nregions = [\"us-east-1\"]\nkinds = [\"region_unreachable\", \"drops_started\"]\ntimeout_ms = 1500\nresend_secs = 30\n"
    ))
    .unwrap();
    let r = &a.receivers[0];
    assert_eq!(r.filter.severities, vec![Severity::Critical]);
    assert_eq!(r.filter.regions, vec!["us-east-1".to_string()]);
    assert_eq!(
        r.filter.kinds,
        vec![AlertKind::RegionUnreachable, AlertKind::DropsStarted]
    );
    assert_eq!(r.timeout, Duration::from_millis(1_500));
    assert!(matches!(
        r.target,
        ReceiverTarget::Alertmanager { resend_every, .. } if resend_every == Duration::from_secs(30)
    ));
}

#[test]
fn an_sns_receiver_lists_topics_in_their_own_regions_and_credentials() {
    let a = alerts(
        r#"
[[alerts.receivers]]
name = "pager"
kind = "sns"
topics = [
  { arn = "arn:aws:sns:us-east-1:123456789012:noc-pager" },
  { arn = "arn:aws:sns:eu-west-1:123456789012:noc-pager", profile = "noc", region = "eu-west-1" },
  { arn = "arn:aws:sns:us-west-2:123456789012:lab", endpoint_url = "http://127.0.0.1:5000", lab_credentials = true },
]
"#,
    )
    .unwrap();
    let ReceiverTarget::Sns { topics } = &a.receivers[0].target else {
        panic!("{:?}", a.receivers[0]);
    };
    let regions: Vec<&str> = topics.iter().map(|t| t.region.as_str()).collect();
    assert_eq!(regions, ["us-east-1", "eu-west-1", "us-west-2"]);
    assert_eq!(
        topics[1].endpoint.credentials,
        super::super::CredentialSource::Profile("noc".into())
    );
    assert_eq!(
        topics[2].endpoint.credentials,
        super::super::CredentialSource::Lab
    );
    assert_eq!(
        topics[2].endpoint.endpoint_url.as_deref(),
        Some("http://127.0.0.1:5000")
    );
}

#[test]
fn a_webhook_secret_comes_from_the_environment_or_a_file_and_never_shows() {
    let a = alerts(
        "[[alerts.receivers]]\nname = \"chat\"\nkind = \"webhook\"\nurl = \"https://hooks.example.com/T1/B2?x=1\"\nsecret_env = \"SY_HOOK_SECRET\"\nslack = true\n",
    )
    .unwrap();
    let ReceiverTarget::Webhook { url, secret, slack } = &a.receivers[0].target else {
        panic!("{:?}", a.receivers[0]);
    };
    assert_eq!(url, "https://hooks.example.com/T1/B2?x=1");
    assert_eq!(secret.0, b"s3cret");
    assert!(*slack);
    let shown = format!("{:?}", a.receivers[0]);
    assert!(
        !shown.contains("s3cret") && shown.contains("Secret(6 bytes)"),
        "{shown}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hook.key");
    std::fs::write(&path, "from-a-file\n").unwrap();
    let a = alerts(&format!(
        "[[alerts.receivers]]\nname = \"chat\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\nsecret_file = \"{}\"\n",
        path.display()
    ))
    .unwrap();
    let ReceiverTarget::Webhook { secret, slack, .. } = &a.receivers[0].target else {
        panic!("{:?}", a.receivers[0]);
    };
    assert_eq!(secret.0, b"from-a-file");
    assert!(!*slack);
}

/// Every mistake is one line naming the file, the line and the field.
#[test]
fn receiver_mistakes_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "\n").unwrap();
    let missing = dir.path().join("missing.key");
    let hook = "[[alerts.receivers]]\nname = \"chat\"\nkind = \"webhook\"\nurl = \"http://h/x\"\n";
    let cases: Vec<(String, String)> = vec![
        (
            "[[alerts.receivers]]\nname = \"x\"\nkind = \"pagerduty\"\n".into(),
            "config file sy.toml, line 3, field alerts.receivers.kind: 'pagerduty' is not a receiver kind: \"alertmanager\", \"sns\" or \"webhook\"".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"x\"\n".into(),
            "config file sy.toml, line 1, field alerts.receivers.kind: receiver x needs a kind: \"alertmanager\", \"sns\" or \"webhook\"".into(),
        ),
        (
            "[[alerts.receivers]]\nkind = \"sns\"\n".into(),
            "config file sy.toml, line 1, field alerts.receivers.name: every receiver needs a name".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"a b\"\nkind = \"sns\"\n".into(),
            "config file sy.toml, line 2, field alerts.receivers.name: 'a b' is not a receiver name (1 to 64 letters, digits, - _ .)".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"am\"\nkind = \"alertmanager\"\n\nurls = [\"am-1:9093\"]\n".into(),
            "config file sy.toml, line 5, field alerts.receivers.urls: 'am-1:9093' is not an http:// or https:// URL: it must start with http:// or https://".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurls = [\"http://:9093\"]\n".into(),
            "config file sy.toml, line 4, field alerts.receivers.urls: 'http://:9093' is not an http:// or https:// URL: it names no host".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurls = [\"http://a:9093\", \"http://a:9093/\"]\n".into(),
            "config file sy.toml, line 4, field alerts.receivers.urls: http://a:9093 is listed twice".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"am\"\nkind = \"alertmanager\"\nurls = []\n".into(),
            "config file sy.toml, line 4, field alerts.receivers.urls: list between 1 and 8 Alertmanager URLs".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"am\"\nkind = \"alertmanager\"\n".into(),
            "config file sy.toml, line 1, field alerts.receivers.urls: receiver am (alertmanager) needs urls: every Alertmanager of the cluster".into(),
        ),
        (
            format!("{hook}secret_env = \"SY_UNSET\"\n"),
            "config file sy.toml, line 5, field alerts.receivers.secret_env: the environment variable SY_UNSET is not set (or is empty)".into(),
        ),
        (
            format!("{hook}secret_env = \"SY_EMPTY\"\n"),
            "config file sy.toml, line 5, field alerts.receivers.secret_env: the environment variable SY_EMPTY is not set (or is empty)".into(),
        ),
        (
            format!("{hook}secret_file = \"{}\"\n", empty.display()),
            format!("config file sy.toml, line 5, field alerts.receivers.secret_file: {} is empty", empty.display()),
        ),
        (
            hook.to_string(),
            "config file sy.toml, line 1, field alerts.receivers.secret_env: receiver chat (webhook) needs a secret: secret_env (an environment variable) or secret_file (a file) holding it".into(),
        ),
        (
            format!("{hook}secret = \"hunter2\"\n"),
            "config file sy.toml, line 5, field alerts.receivers.secret: a secret does not belong in the configuration's text: name an environment variable (secret_env) or a file (secret_file) that holds it".into(),
        ),
        (
            format!("{hook}secret_env = \"SY_HOOK_SECRET\"\nsecret_file = \"k\"\n"),
            "config file sy.toml, line 6, field alerts.receivers.secret_file: give secret_env or secret_file, not both".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"chat\"\nkind = \"webhook\"\nurl = \"http://h/x#frag\"\nsecret_env = \"SY_HOOK_SECRET\"\n".into(),
            "config file sy.toml, line 4, field alerts.receivers.url: 'http://h/x#frag' is not an http:// or https:// URL: a #fragment is never sent".into(),
        ),
        (
            format!("{AM}\n[[alerts.receivers]]\nname = \"noc-am\"\nkind = \"alertmanager\"\nurls = [\"http://am-3:9093\"]\n"),
            "config file sy.toml, line 8, field alerts.receivers.name: noc-am is listed twice (a receiver's name keys its deliveries)".into(),
        ),
        (
            format!("{AM}secret_env = \"SY_HOOK_SECRET\"\n"),
            "config file sy.toml, line 6, field alerts.receivers.secret_env: secret_env is for kind = \"webhook\", not \"alertmanager\"".into(),
        ),
        (
            format!("{hook}secret_env = \"SY_HOOK_SECRET\"\nresend_secs = 30\n"),
            "config file sy.toml, line 6, field alerts.receivers.resend_secs: resend_secs is for kind = \"alertmanager\", not \"webhook\"".into(),
        ),
        (
            format!("{AM}severities = [\"page\"]\n"),
            "config file sy.toml, line 6, field alerts.receivers.severities: 'page' is not a severity: \"warning\" or \"critical\"".into(),
        ),
        (
            format!("{AM}kinds = [\"region_down\"]\n"),
            "config file sy.toml, line 6, field alerts.receivers.kinds: 'region_down' is not an alert kind: one of region_degraded, region_unreachable, backlog_near_capacity, drops_started, traffic_moved_outside".into(),
        ),
        (
            format!("{AM}regions = [\"east\"]\n"),
            "config file sy.toml, line 6, field alerts.receivers.regions: 'east' is not an AWS region code such as us-east-1".into(),
        ),
        (
            format!("{AM}timeout_ms = 60001\n"),
            "config file sy.toml, line 6, field alerts.receivers.timeout_ms: must be between 100 and 60000 ms, not 60001".into(),
        ),
        (
            format!("{AM}resend_secs = 5\n"),
            "config file sy.toml, line 6, field alerts.receivers.resend_secs: must be between 10 and 3600 seconds, not 5".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"p\"\nkind = \"sns\"\ntopics = [{ arn = \"arn:aws:sqs:us-east-1:123456789012:q\" }]\n".into(),
            "config file sy.toml, line 4, field alerts.receivers.topics.arn: 'arn:aws:sqs:us-east-1:123456789012:q' is not an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:noc-pager".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"p\"\nkind = \"sns\"\ntopics = [\n  { arn = \"arn:aws:sns:us-east-1:123456789012:a\" },\n  { arn = \"arn:aws:sns:us-east-1:123456789012:b\", lab_credentials = true },\n]\n".into(),
            "config file sy.toml, line 6, field alerts.receivers.topics.lab_credentials: only with endpoint_url (AWS would refuse the lab's keys)".into(),
        ),
        (
            "[[alerts.receivers]]\nname = \"p\"\nkind = \"sns\"\n".into(),
            "config file sy.toml, line 1, field alerts.receivers.topics: receiver p (sns) needs topics: a list of { arn = \"arn:aws:sns:REGION:ACCOUNT:NAME\" }".into(),
        ),
        (
            "[alerts]\nconsole_url = \"noc.example.com\"\n".into(),
            "config file sy.toml, line 2, field alerts.console_url: 'noc.example.com' is not an http:// or https:// URL: it must start with http:// or https://".into(),
        ),
        (
            "[alerts]\nretry_first_secs = 10\nretry_max_secs = 5\n".into(),
            "config file sy.toml, line 3, field alerts.retry_max_secs: must be between 10 and 86400 seconds, not 5".into(),
        ),
        (
            "[alerts]\ngive_up_after_mins = 0\n".into(),
            "config file sy.toml, line 2, field alerts.give_up_after_mins: must be between 1 and 10080 minutes (a week), not 0".into(),
        ),
    ];
    for (text, want) in cases {
        let got = alerts(&text).unwrap_err();
        assert_eq!(got, want, "{text}");
        assert!(!got.contains('\n'));
    }
    let err = alerts(&format!("{hook}secret_file = \"{}\"\n", missing.display())).unwrap_err();
    assert!(
        err.starts_with(&format!(
            "config file sy.toml, line 5, field alerts.receivers.secret_file: cannot read {}: ",
            missing.display()
        )),
        "{err}"
    );
    // Unknown fields are the parser's, with their line.
    let err = alerts(&format!("{AM}url_list = []\n")).unwrap_err();
    assert!(
        err.starts_with("config file sy.toml, line 6") && err.contains("url_list"),
        "{err}"
    );
}

#[test]
fn the_start_refuses_a_bad_receiver_before_anything_runs() {
    let err = Settings::resolve(
        ConfigFile::parse(
            "[[alerts.receivers]]\nname = \"x\"\nkind = \"email\"\n",
            "site.toml",
        )
        .unwrap(),
        Some("site.toml"),
        Overrides::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("config file site.toml, line 3, field alerts.receivers.kind:"),
        "{err}"
    );
}

#[test]
fn an_url_is_checked_for_its_scheme_host_and_port() {
    for ok in [
        "http://127.0.0.1:9093",
        "https://am.example.com",
        "http://[::1]:9093/",
        "https://hooks.example.com/services/T/B/X?token=1",
    ] {
        assert_eq!(http_url(ok), Ok(()), "{ok}");
    }
    for bad in [
        "ftp://x",
        "http://",
        "http://user:pw@host/",
        "http://host:0/",
        "http://host:99999/",
        "http://ho st/",
        "http://[nope]:80/",
        "http://h%ost/",
    ] {
        assert!(http_url(bad).is_err(), "{bad}");
    }
    assert!(base_url("http://am:9093/?x=1").is_err());
    assert!(base_url("http://am:9093/prefix").is_ok());
}

/// Both example files document every field of `[alerts]`, a receiver and an SNS topic.
#[test]
fn every_alerts_field_is_shown_in_both_example_files() {
    let sections: [(&str, &[&str]); 3] = [
        ("alerts.", super::super::tests::fields_of::<AlertsSection>()),
        (
            "alerts.receivers.",
            super::super::tests::fields_of::<ReceiverSection>(),
        ),
        (
            "alerts.receivers.topics.",
            super::super::tests::fields_of::<SnsTopicSection>(),
        ),
    ];
    for name in ["switchyard.example.toml", "switchyard.simulated.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets")
            .join(name);
        let text = std::fs::read_to_string(path).unwrap();
        let mut missing = Vec::new();
        for (prefix, fields) in sections {
            assert!(!fields.is_empty(), "no fields found for {prefix}");
            for field in fields {
                let shown = text.contains(&format!("{field} ="))
                    || text.contains(&format!("[{prefix}{field}]"))
                    || text.contains(&format!("[[{prefix}{field}]]"));
                if !shown {
                    missing.push(format!("{prefix}{field}"));
                }
            }
        }
        assert!(missing.is_empty(), "{name} does not show {missing:?}");
    }
}
