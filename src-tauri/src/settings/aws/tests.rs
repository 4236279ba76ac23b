//! Tests of the `[aws]` section.

use super::super::tests::{aws, AWS};
use super::super::{ConfigFile, Overrides, Settings};
use super::CredentialSource;
use std::time::Duration;

#[test]
fn an_aws_section_resolves_with_defaults() {
    let s = aws("").unwrap();
    let a = s.aws.unwrap();
    assert_eq!(a.thing_groups, vec!["sensors".to_string()]);
    assert_eq!(
        a.regions[1].endpoint.credentials,
        CredentialSource::DefaultChain
    );
    assert!(a.route53.is_none());
    assert_eq!(a.edge.fresh_for, Duration::from_secs(180));
}

#[test]
fn aws_mistakes_name_the_line_and_field() {
    let aws = |extra: &str| aws(extra).map_err(|e| e.to_string());
    // The third region entry starts on line 13 of the combined text (its [[aws.regions]]).
    let err = aws("\n[[aws.regions]]\ncode = \"eu-west-1\"\nrole = \"standby\"\n").unwrap_err();
    assert_eq!(
        err,
        "config file site.toml, line 13, field aws.regions.code: eu-west-1 is listed twice"
    );
    let err = aws("\n[[aws.regions]]\ncode = \"ap-south-1\"\nrole = \"active\"\n").unwrap_err();
    assert!(
        err.contains("exactly one region must have role = \"active\", not 2"),
        "{err}"
    );
    let err = aws("\n[[aws.regions]]\ncode = \"ap-south-1\"\nrole = \"primary\"\n").unwrap_err();
    assert!(
        err.starts_with("config file site.toml, line 15, field role:"),
        "{err}"
    );
    let err = aws(
        "\n[[aws.regions]]\ncode = \"ap-south-1\"\nrole = \"standby\"\nassume_role_arn = \"SwitchyardRole\"\n",
    )
    .unwrap_err();
    assert!(
        err.starts_with("config file site.toml, line 13, field aws.regions.assume_role_arn: 'SwitchyardRole' is not an IAM role ARN"),
        "{err}"
    );
    let err = aws(
        "\n[[aws.regions]]\ncode = \"ap-south-1\"\nrole = \"standby\"\nlab_credentials = true\n",
    )
    .unwrap_err();
    assert!(
        err.contains("aws.regions.lab_credentials: only with endpoint_url"),
        "{err}"
    );
    let err =
        aws("\n[aws.route53]\nhosted_zone_id = \"Z1\"\nrecord_name = \"bad name\"\n").unwrap_err();
    assert!(
        err.starts_with("config file site.toml, line 13, field aws.route53.record_name: 'bad name' is not a domain name"),
        "{err}"
    );
    let err = aws("\n[aws.edge]\nstale_after_secs = 5\n").unwrap_err();
    assert!(
        err.contains("field aws.edge.stale_after_secs: must be between 60"),
        "{err}"
    );
}

#[test]
fn aws_and_simulation_do_not_mix() {
    let err = aws("\n[simulation]\ndevices = 5\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("[aws] and [simulation] cannot both be given"),
        "{err}"
    );
    let err = Settings::resolve(
        ConfigFile::parse(AWS, "site.toml").unwrap(),
        Some("site.toml"),
        Overrides {
            devices: Some(10),
            ..Overrides::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "--devices applies to the simulated fleet, but site.toml watches AWS"
    );
}

/// Two regions with routing controls, a Route 53 section with `switch`, and `arc` as given.
fn arc_file(switch: &str, second_control: &str, arc: &str) -> Result<Settings, String> {
    let text = format!(
        r#"
[aws]
[[aws.regions]]
code = "us-east-1"
role = "active"
routing_control_arn = "arn:aws:route53-recovery-control::123456789012:controlpanel/p1/routingcontrol/rc-east"

[[aws.regions]]
code = "eu-west-1"
role = "standby"
{second_control}

[aws.route53]
hosted_zone_id = "Z1"
record_name = "devices.example.com"
switch = "{switch}"
{arc}
"#
    );
    Settings::resolve(
        ConfigFile::parse(&text, "site.toml").map_err(|e| e.to_string())?,
        Some("site.toml"),
        Overrides::default(),
    )
    .map_err(|e| e.to_string())
}

const CONTROL: &str = "routing_control_arn = \"arn:aws:route53-recovery-control::123456789012:controlpanel/p1/routingcontrol/rc-west\"";
const ARC: &str = "\n[aws.arc]\nendpoints = [\n  { region = \"us-west-2\", url = \"https://host-a.us-west-2.example.com/v1\" },\n  { region = \"eu-west-1\", url = \"https://host-b.eu-west-1.example.com/v1\" },\n]\nendpoint_timeout_ms = 800\n";

#[test]
fn routing_controls_resolve_with_their_cluster_endpoints_and_each_regions_control() {
    let s = arc_file("routing_control", CONTROL, ARC).unwrap();
    let a = s.aws.unwrap();
    assert_eq!(a.switch_method(), Some(super::SwitchMethod::RoutingControl));
    let arc = a.arc.unwrap();
    assert_eq!(arc.endpoints.len(), 2);
    assert_eq!(arc.endpoints[1].region, "eu-west-1");
    assert_eq!(arc.endpoint_timeout, Duration::from_millis(800));
    assert!(a.regions[1]
        .routing_control_arn
        .as_deref()
        .unwrap()
        .ends_with("/routingcontrol/rc-west"));
}

#[test]
fn routing_control_mistakes_name_the_file_line_and_field() {
    // No [aws.arc] at all.
    let err = arc_file("routing_control", CONTROL, "").unwrap_err();
    assert!(
        err.contains("field aws.route53.switch: \"routing_control\" needs an [aws.arc] section"),
        "{err}"
    );
    // A region without its control: named with its own entry's line (line 8).
    let err = arc_file("routing_control", "", ARC).unwrap_err();
    assert!(
        err.starts_with("config file site.toml, line 8, field aws.regions.routing_control_arn: eu-west-1 has no routing_control_arn"),
        "{err}"
    );
    // Not an ARN of a routing control.
    let err = arc_file(
        "routing_control",
        "routing_control_arn = \"arn:aws:route53:::healthcheck/abc\"",
        ARC,
    )
    .unwrap_err();
    assert!(
        err.contains("field aws.regions.routing_control_arn: 'arn:aws:route53:::healthcheck/abc' is not a routing control ARN"),
        "{err}"
    );
    // An empty endpoint list and no cluster to discover them from.
    let err = arc_file("routing_control", CONTROL, "\n[aws.arc]\nendpoints = []\n").unwrap_err();
    assert!(
        err.contains("field aws.arc.endpoints: list the cluster's endpoints, or give cluster_arn"),
        "{err}"
    );
    let err = arc_file(
        "routing_control",
        CONTROL,
        "\n[aws.arc]\nendpoints = [{ region = \"us-west-2\", url = \"host-a\" }]\n",
    )
    .unwrap_err();
    assert!(
        err.contains("field aws.arc.endpoints.url: 'host-a' is not an https:// URL"),
        "{err}"
    );
    let err = arc_file(
        "routing_control",
        CONTROL,
        "\n[aws.arc]\ncluster_arn = \"arn:aws:iam::1:role/x\"\n",
    )
    .unwrap_err();
    assert!(err.contains("field aws.arc.cluster_arn:"), "{err}");
    let err = arc_file(
        "routing_control",
        CONTROL,
        &ARC.replace("endpoint_timeout_ms = 800", "endpoint_timeout_ms = 5"),
    )
    .unwrap_err();
    assert!(
        err.contains("field aws.arc.endpoint_timeout_ms: ") && err.contains("5"),
        "{err}"
    );
    // An unknown method names the choices.
    let err = arc_file("dns_magic", CONTROL, ARC).unwrap_err();
    assert!(err.contains("routing_control"), "{err}");
}

#[test]
fn a_cluster_arn_alone_is_enough_to_discover_the_endpoints_at_start() {
    let s = arc_file(
        "routing_control",
        CONTROL,
        "\n[aws.arc]\ncluster_arn = \"arn:aws:route53-recovery-control::123456789012:cluster/c1\"\n",
    )
    .unwrap();
    let arc = s.aws.unwrap().arc.unwrap();
    assert!(arc.endpoints.is_empty());
    assert_eq!(
        arc.endpoint_timeout,
        Duration::from_millis(super::DEFAULT_ARC_ENDPOINT_TIMEOUT_MS)
    );
}

#[test]
fn the_budget_defaults_to_half_of_each_quota_and_a_six_hour_sweep_and_names_its_line() {
    let b = aws("").unwrap().aws.unwrap().budget;
    assert_eq!(b.share(), 0.5);
    assert_eq!(b.full_sweep_every, Duration::from_secs(6 * 3_600));
    let b = aws("\n[aws.budget]\nshare = 0.2\nfull_sweep_every_mins = 60\n")
        .unwrap()
        .aws
        .unwrap()
        .budget;
    assert_eq!(
        (b.share(), b.full_sweep_every),
        (0.2, Duration::from_secs(3_600))
    );
    let err = aws("\n[aws.budget]\nshare = 2.0\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "config file site.toml, line 13, field aws.budget.share: must be between 0.05 and 1 of each quota, not 2"
    );
    let err = aws("\n[aws.budget]\nfull_sweep_every_mins = 1\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("config file site.toml, line 13, field aws.budget.full_sweep_every_mins"),
        "{err}"
    );
}
