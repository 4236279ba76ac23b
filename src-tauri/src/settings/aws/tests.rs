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
