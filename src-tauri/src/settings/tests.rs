//! Tests of the file as a whole (reading, defaults, the example files, the wording of every
//! bound), and the helpers the sections' tests share.

use super::*;
use std::time::Duration;

/// An AWS fleet of two regions, for tests to add to.
pub(super) const AWS: &str = r#"
[aws]
thing_groups = ["sensors"]

[[aws.regions]]
code = "us-east-1"
role = "active"

[[aws.regions]]
code = "eu-west-1"
role = "standby"
"#;

/// [`AWS`] and `extra`, resolved as the file site.toml.
pub(super) fn aws(extra: &str) -> Result<Settings, SettingsError> {
    let text = format!("{AWS}{extra}");
    Settings::resolve(
        ConfigFile::parse(&text, "site.toml")?,
        Some("site.toml"),
        Overrides::default(),
    )
}

fn assets(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets")
        .join(name)
}

#[test]
fn an_empty_file_gives_the_defaults() {
    let s = Settings::resolve(
        ConfigFile::parse("", "x.toml").unwrap(),
        Some("x.toml"),
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(s.engine.poll_interval, Duration::from_secs(5));
    assert_eq!(
        (s.sim.devices, s.sim.gateways, s.sim.regions.len()),
        (5_000, 40, 3)
    );
}

#[test]
fn syntax_errors_name_file_and_line() {
    let err = ConfigFile::parse("[engine]\npoll_interval_secs = 5\nfoo =\n", "site.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("config file site.toml, line 3, field foo:"),
        "{err}"
    );
    assert!(!err.contains('\n'));
}

#[test]
fn unknown_fields_and_wrong_types_name_the_field() {
    let err = ConfigFile::parse("[engine]\npoll_intervall_secs = 5\n", "a.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2") && err.contains("poll_intervall_secs"),
        "{err}"
    );
    let err = ConfigFile::parse("[simulation]\n\ndevices = \"many\"\n", "a.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3") && err.contains("devices"), "{err}");
}

#[test]
fn a_missing_file_is_named() {
    let err = ConfigFile::load(Path::new("/nonexistent/sy.toml")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read config file /nonexistent/sy.toml: "),
        "{err}"
    );
}

#[test]
fn the_example_configs_are_valid() {
    let file = ConfigFile::load(&assets("switchyard.simulated.toml")).unwrap();
    let s = Settings::resolve(file, Some("simulated"), Overrides::default()).unwrap();
    assert!(s.aws.is_none());
    let file = ConfigFile::load(&assets("deploy/switchyard.toml")).unwrap();
    let s = Settings::resolve(file, Some("server"), Overrides::default()).unwrap();
    assert_eq!(s.auth.mode, crate::auth::AuthMode::Local);
    assert_eq!(s.auth.rate.attempts, 5);
    let file = ConfigFile::load(&assets("switchyard.example.toml")).unwrap();
    let s = Settings::resolve(file, Some("example"), Overrides::default()).unwrap();
    let aws = s.aws.unwrap();
    assert_eq!(aws.regions.len(), 2);
    assert_eq!(aws.regions[0].role, switchyard_core::RegionRole::Active);
    assert_eq!(
        aws.regions[1].endpoint.credentials,
        CredentialSource::AssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/SwitchyardReadOnly".into(),
            profile: Some("noc-readonly".into())
        }
    );
    assert_eq!(aws.counts, CountMethod::Aggregation);
    assert_eq!(aws.edge, EdgeMetrics::default());
    assert_eq!(aws.route53.unwrap().record_name, "devices.example.com");
    assert_eq!(s.recovery, Recovery::default());
    // The example's catalogue is the built-in one, written out.
    assert_eq!(s.engine.commands.catalogue, default_catalogue());
}

/// The values the example files show are the defaults, as they say (the simulated example:
/// "the values shown are the defaults unless noted"; the others, field by field).
#[test]
fn the_example_files_show_the_defaults() {
    let load = |name: &str| {
        let file = ConfigFile::load(&assets(name)).unwrap();
        Settings::resolve(file, Some(name), Overrides::default()).unwrap()
    };
    // The catalogue's schemas keep the order they were written in, so they are compared as
    // values; the rest of the engine's configuration by its every field.
    let engine = |mut e: EngineConfig| {
        let catalogue = std::mem::take(&mut e.commands.catalogue);
        (format!("{e:?}"), catalogue)
    };
    let defaults = Settings::resolve(ConfigFile::default(), None, Overrides::default()).unwrap();
    let simulated = load("switchyard.simulated.toml");
    assert_eq!(engine(simulated.engine), engine(defaults.engine.clone()));
    assert_eq!(
        format!("{:?}", simulated.sim),
        format!("{:?}", defaults.sim)
    );
    assert_eq!(simulated.recovery, defaults.recovery);
    let example = load("switchyard.example.toml");
    assert_eq!(engine(example.engine), engine(defaults.engine.clone()));
    assert_eq!(example.recovery, defaults.recovery);
    let aws = example.aws.unwrap();
    assert_eq!(aws.edge, EdgeMetrics::default());
    assert_eq!(aws.route53.unwrap().ttl_secs, aws::DEFAULT_TTL_SECS);
    let server = load("deploy/switchyard.toml");
    assert_eq!(server.auth, defaults.auth);
    assert_eq!(engine(server.engine), engine(defaults.engine.clone()));
    assert_eq!(server.recovery, defaults.recovery);
}

/// Every bound's message, word for word as operators (and the tests above) have read it.
#[test]
fn every_bound_is_worded_as_before() {
    let c = |toml: &str| {
        Settings::resolve(
            ConfigFile::parse(toml, "c").unwrap(),
            Some("c"),
            Overrides::default(),
        )
        .unwrap_err()
        .to_string()
    };
    let f = "(in c or on the command line)";
    let cases = [
        (
            "[engine]\npoll_interval_secs = 3601",
            format!("poll interval {f} must be between 1 and 3600 seconds, not 3601"),
        ),
        (
            "[engine]\npoll_timeout_ms = 99",
            format!("engine.poll_timeout_ms {f} must be between 100 and 60000 ms, not 99"),
        ),
        (
            "[engine]\nretention_days = 3651",
            format!("engine.retention_days {f} must be between 1 and 3650 days, not 3651"),
        ),
        (
            "[recovery]\nrto_minutes = 10081",
            format!(
                "recovery.rto_minutes {f} must be between 1 and 10080 minutes (a week), not 10081"
            ),
        ),
        (
            "[recovery]\nrpo_minutes = 0",
            format!("recovery.rpo_minutes {f} must be between 1 and 10080 minutes (a week), not 0"),
        ),
        (
            "[recovery]\nmax_backlog_messages = 0",
            format!("recovery.max_backlog_messages {f} must be more than 0"),
        ),
        (
            "[auth]\nsession_hours = 721",
            format!("auth.session_hours {f} must be between 1 and 720 hours, not 721"),
        ),
        (
            "[auth]\nlogin_attempts = 101",
            format!("auth.login_attempts {f} must be between 1 and 100, not 101"),
        ),
        (
            "[drills]\nperiod_days = 0",
            format!("drills.period_days {f} must be between 1 and 3650 days, not 0"),
        ),
        (
            "[failover]\nrecommend_after_secs = 4",
            format!("failover.recommend_after_secs {f} must be between 5 and 86400 seconds, not 4"),
        ),
        (
            "[failover]\ncomplete_share = 1.5",
            format!("failover.complete_share {f} must be more than 0 and at most 1, not 1.5"),
        ),
        (
            "[failover]\nverify_timeout_secs = 9",
            format!("failover.verify_timeout_secs {f} must be between 10 and 86400 seconds, not 9"),
        ),
        (
            "[commands]\nconcurrency = 1025",
            format!("commands.concurrency {f} must be between 1 and 1024, not 1025"),
        ),
        (
            "[commands]\nrate_per_sec = 0",
            format!("commands.rate_per_sec {f} must be between 1 and 100000, not 0"),
        ),
        (
            "[commands]\nmax_attempts = 11",
            format!("commands.max_attempts {f} must be between 1 and 10, not 11"),
        ),
        (
            "[simulation]\ndevices = 10000001",
            format!("devices {f} must be between 1 and 10000000, not 10000001"),
        ),
        (
            "[simulation]\ngateways = 100001",
            format!("gateways {f} must be at most 100000, not 100001"),
        ),
        (
            "[simulation]\nregions = []",
            format!("regions {f} must name between 1 and 32 regions"),
        ),
    ];
    for (toml, want) in cases {
        assert_eq!(c(toml), want, "{toml}");
    }
    let site = |extra: &str| aws(extra).unwrap_err().to_string();
    assert_eq!(
        site("\n[aws.edge]\nstale_after_secs = 86401\n"),
        "config file site.toml, line 13, field aws.edge.stale_after_secs: must be between 60 and 86400 seconds, not 86401"
    );
    assert_eq!(
        site("\n[aws.edge]\ncapacity_messages = 0\n"),
        "config file site.toml, line 13, field aws.edge.capacity_messages: must be at least 1"
    );
    assert_eq!(
        site("\n[aws.route53]\nhosted_zone_id = \"Z1\"\nrecord_name = \"d.example.com\"\nttl_secs = 0\n"),
        "config file site.toml, line 13, field aws.route53.ttl_secs: must be between 1 and 86400 seconds, not 0"
    );
    let err = Settings::resolve(
        ConfigFile::parse("[aws]\nregions = []\n", "site.toml").unwrap(),
        Some("site.toml"),
        Overrides::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "config file site.toml, field aws.regions: list between 1 and 32 [[aws.regions]]"
    );
}

/// The field names serde knows for `T` (those its derive hands to `deserialize_struct`).
pub(super) fn fields_of<T: serde::de::DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Grab<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Grab<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields taken"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Grab(&mut fields));
    fields
}

/// The example files are the configuration's documentation: every field the file accepts is
/// shown in one of them (written, or commented out), as `field =` or as its table.
#[test]
fn every_field_the_file_accepts_is_shown_in_an_example_file() {
    let examples: String = [
        "switchyard.example.toml",
        "switchyard.simulated.toml",
        "deploy/switchyard.toml",
    ]
    .iter()
    .map(|n| std::fs::read_to_string(assets(n)).unwrap())
    .collect();
    let sections: [(&str, &[&str]); 17] = [
        ("", fields_of::<ConfigFile>()),
        ("engine.", fields_of::<EngineSection>()),
        ("simulation.", fields_of::<SimulationSection>()),
        ("aws.", fields_of::<AwsSection>()),
        ("aws.regions.", fields_of::<AwsRegionSection>()),
        ("aws.edge.", fields_of::<EdgeSection>()),
        ("aws.route53.", fields_of::<Route53Section>()),
        ("aws.arc.", fields_of::<super::aws::ArcSection>()),
        ("aws.budget.", fields_of::<super::aws::BudgetSection>()),
        (
            "aws.arc.endpoints.",
            fields_of::<super::aws::ArcEndpointSection>(),
        ),
        ("recovery.", fields_of::<RecoverySection>()),
        ("failover.", fields_of::<FailoverSection>()),
        ("commands.", fields_of::<CommandsSection>()),
        ("drills.", fields_of::<DrillsSection>()),
        ("auth.", fields_of::<AuthSection>()),
        ("tls.", fields_of::<TlsSection>()),
        ("metrics.", fields_of::<MetricsSection>()),
    ];
    let mut missing = Vec::new();
    for (prefix, fields) in sections {
        assert!(!fields.is_empty(), "no fields found for [{prefix}]");
        for field in fields {
            let shown = examples.contains(&format!("{field} ="))
                || examples.contains(&format!("[{prefix}{field}]"))
                || examples.contains(&format!("[[{prefix}{field}]]"));
            if !shown {
                missing.push(format!("{prefix}{field}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not shown in any example file: {missing:?}"
    );
}
