//! The SDK configuration every AWS client is built from: region, credentials, timeouts and
//! retries for one endpoint.
//!
//! Rules kept here:
//! - every SDK client has connect, read, attempt and operation timeouts derived from the engine's
//!   poll timeout, and at most two attempts, so a hung region fails its poll in time and never
//!   holds up another region (each region has its own clients and is polled on its own task).

use crate::settings::{CredentialSource, EndpointSettings};
use aws_config::{timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_types::retry::RetryConfig;
use std::time::Duration;

/// The timeouts every SDK client gets. The operation timeout is the engine's poll timeout, so
/// a call never outlives the poll that made it.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub attempt: Duration,
    pub operation: Duration,
    pub max_attempts: u32,
}

impl Timeouts {
    pub fn for_poll(poll_timeout: Duration) -> Timeouts {
        let attempt = poll_timeout.mul_f64(0.45);
        Timeouts {
            connect: attempt.min(Duration::from_secs(1)),
            read: attempt,
            attempt,
            operation: poll_timeout,
            max_attempts: 2,
        }
    }
}

/// The lab's fixed credentials (moto accepts any).
pub const LAB_ACCESS_KEY: &str = "testing";

/// Extra interceptors for every client (tests mix mocked answers into the lab this way).
pub type Interceptors = Vec<aws_smithy_runtime_api::client::interceptors::SharedInterceptor>;

/// Builds the SDK configuration for one endpoint: region, credentials, timeouts, retries.
pub async fn sdk_config(region: &str, ep: &EndpointSettings, t: Timeouts) -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(t.connect)
        .read_timeout(t.read)
        .operation_attempt_timeout(t.attempt)
        .operation_timeout(t.operation)
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .timeout_config(timeouts)
        .retry_config(RetryConfig::standard().with_max_attempts(t.max_attempts));
    if let Some(url) = &ep.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    match &ep.credentials {
        CredentialSource::DefaultChain => loader.load().await,
        CredentialSource::Profile(p) => loader.profile_name(p).load().await,
        CredentialSource::Lab => {
            loader
                .credentials_provider(Credentials::new(
                    LAB_ACCESS_KEY,
                    LAB_ACCESS_KEY,
                    None,
                    None,
                    "switchyard-lab",
                ))
                .load()
                .await
        }
        CredentialSource::AssumeRole { role_arn, profile } => {
            if let Some(p) = profile {
                loader = loader.profile_name(p);
            }
            let base = loader.load().await;
            let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name("switchyard")
                .configure(&base)
                .build()
                .await;
            base.into_builder()
                .credentials_provider(
                    aws_credential_types::provider::SharedCredentialsProvider::new(provider),
                )
                .build()
        }
    }
}
