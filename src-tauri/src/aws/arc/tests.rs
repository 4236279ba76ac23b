//! The control-config discovery (`DescribeCluster`) against mocked answers, and where the
//! endpoints come from when they need no discovery.

use super::*;
use aws_sdk_route53recoverycontrolconfig::operation::describe_cluster::{
    DescribeClusterError, DescribeClusterOutput,
};
use aws_sdk_route53recoverycontrolconfig::types::error::ResourceNotFoundException;
use aws_sdk_route53recoverycontrolconfig::types::{Cluster as ConfigCluster, ClusterEndpoint};
use aws_sdk_route53recoverycontrolconfig::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_types::retry::RetryConfig;

const CLUSTER: &str = "arn:aws:route53-recovery-control::123456789012:cluster/abc";

fn endpoint(region: &str) -> ClusterEndpoint {
    ClusterEndpoint::builder()
        .region(region)
        .endpoint(format!(
            "https://host-{region}.route53-recovery-cluster.example/v1"
        ))
        .build()
}

fn answering(cluster: ConfigCluster) -> Client {
    let rule = mock!(Client::describe_cluster)
        .match_requests(|r| r.cluster_arn() == Some(CLUSTER))
        .then_output(move || {
            DescribeClusterOutput::builder()
                .cluster(cluster.clone())
                .build()
        });
    mock_client!(
        aws_sdk_route53recoverycontrolconfig,
        RuleMode::MatchAny,
        [&rule],
        |c| c.retry_config(RetryConfig::disabled())
    )
}

#[tokio::test]
async fn describe_cluster_lists_the_clusters_endpoints_in_its_order() {
    let client = answering(
        ConfigCluster::builder()
            .cluster_arn(CLUSTER)
            .cluster_endpoints(endpoint("us-west-2"))
            .cluster_endpoints(endpoint("eu-west-1"))
            .cluster_endpoints(endpoint("ap-southeast-2"))
            .build(),
    );
    let got = describe_cluster(&client, CLUSTER).await.unwrap();
    assert_eq!(
        got.iter().map(|e| e.region.as_str()).collect::<Vec<_>>(),
        vec!["us-west-2", "eu-west-1", "ap-southeast-2"]
    );
    assert_eq!(
        got[1].url,
        "https://host-eu-west-1.route53-recovery-cluster.example/v1"
    );
}

#[tokio::test]
async fn a_cluster_without_endpoints_is_a_clear_error_naming_it() {
    let client = answering(ConfigCluster::builder().cluster_arn(CLUSTER).build());
    let e = describe_cluster(&client, CLUSTER).await.unwrap_err();
    assert!(e.contains(CLUSTER), "{e}");
    assert!(e.contains("lists no endpoints"), "{e}");
}

#[tokio::test]
async fn a_cluster_that_does_not_exist_is_said_in_the_services_words() {
    let rule = mock!(Client::describe_cluster).then_error(|| {
        DescribeClusterError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("cluster abc not found")
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_route53recoverycontrolconfig,
        RuleMode::MatchAny,
        [&rule],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let e = describe_cluster(&client, CLUSTER).await.unwrap_err();
    assert!(e.starts_with("DescribeCluster"), "{e}");
    assert!(e.contains("cluster abc not found"), "{e}");
}

fn settings(endpoints: Vec<ArcEndpoint>, cluster_arn: Option<&str>) -> ArcSettings {
    ArcSettings {
        endpoints,
        cluster_arn: cluster_arn.map(str::to_string),
        endpoint_timeout: Duration::from_millis(500),
        endpoint: EndpointSettings {
            credentials: crate::settings::CredentialSource::Lab,
            // Nothing listens here: a call would fail, so these tests prove none is made.
            endpoint_url: Some("http://127.0.0.1:9".into()),
        },
    }
}

#[tokio::test]
async fn endpoints_written_in_the_file_or_kept_in_the_store_need_no_discovery() {
    let written = vec![ArcEndpoint {
        region: "us-west-2".into(),
        url: "https://a.example".into(),
    }];
    let mut kept_again = false;
    let got = endpoints(
        &settings(written.clone(), Some(CLUSTER)),
        None,
        |_| kept_again = true,
        Duration::from_millis(200),
    )
    .await
    .unwrap();
    assert_eq!(got, written);
    let json = serde_json::to_string(&written).unwrap();
    let got = endpoints(
        &settings(Vec::new(), Some(CLUSTER)),
        Some(json),
        |_| kept_again = true,
        Duration::from_millis(200),
    )
    .await
    .unwrap();
    assert_eq!(got, written);
    assert!(!kept_again);
}

#[tokio::test]
async fn no_endpoints_and_no_cluster_is_an_error() {
    let e = endpoints(
        &settings(Vec::new(), None),
        None,
        |_| {},
        Duration::from_millis(200),
    )
    .await
    .unwrap_err();
    assert!(e.contains("cluster_arn"), "{e}");
}
