//! The AWS side of the engine's [`DeviceChannel`] port: publishing to device topics and writing
//! desired shadow state through a region's IoT data plane.
//!
//! Rules kept here:
//! - a throttled answer (by the SDK error's kind, see [`super::errors`]) is
//!   [`DeliveryError::Throttled`], worth a retry after a pause; every other failure is
//!   [`DeliveryError::Failed`].

use super::errors::{AwsError, AwsErrorKind};
use super::source::AwsSource;
use crate::ports::{BoxFuture, DeliveryError, DeviceChannel, SourceError};

impl AwsSource {
    /// Publishes to a device topic through `region`'s data plane.
    pub async fn publish(
        &self,
        region: &str,
        topic: &str,
        payload: Vec<u8>,
    ) -> Result<(), SourceError> {
        self.region(region)?
            .data
            .publish(topic, payload)
            .await
            .map_err(SourceError::from)
    }

    /// Writes a desired state to a device's shadow (classic when `shadow` is `None`); returns
    /// the shadow document the service answered with.
    pub async fn update_shadow(
        &self,
        region: &str,
        thing: &str,
        shadow: Option<&str>,
        document: Vec<u8>,
    ) -> Result<Vec<u8>, SourceError> {
        self.region(region)?
            .data
            .update_shadow(thing, shadow, document)
            .await
            .map_err(SourceError::from)
    }
}

impl DeviceChannel for AwsSource {
    fn publish<'a>(
        &'a self,
        region: &'a str,
        _thing: &'a str,
        topic: &'a str,
        payload: &'a [u8],
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            self.data_plane(region)?
                .publish(topic, payload.to_vec())
                .await
                .map_err(delivery)
        })
    }

    fn write_shadow<'a>(
        &'a self,
        region: &'a str,
        thing: &'a str,
        document: &'a [u8],
    ) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            self.data_plane(region)?
                .update_shadow(thing, None, document.to_vec())
                .await
                .map(|_| ())
                .map_err(delivery)
        })
    }
}

impl AwsSource {
    /// `region`'s data plane; an unknown region is a failed delivery.
    fn data_plane(&self, region: &str) -> Result<&super::dataplane::DataPlane, DeliveryError> {
        self.region(region)
            .map(|r| &r.data)
            .map_err(|e| DeliveryError::Failed(e.0))
    }
}

/// Throttling answers are worth a retry; the rest are failures.
fn delivery(e: AwsError) -> DeliveryError {
    match e.kind {
        AwsErrorKind::Throttled => DeliveryError::Throttled(e.message),
        _ => DeliveryError::Failed(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::dataplane::DataPlane;
    use aws_sdk_iotdataplane::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn refusing(status: u16, code: &'static str, message: &'static str) -> DataPlane {
        let publish = mock!(Client::publish).then_http_response(move || {
            let mut r = Response::new(
                StatusCode::try_from(status).unwrap(),
                SdkBody::from(format!(r#"{{"message":"{message}"}}"#)),
            );
            r.headers_mut().insert("x-amzn-errortype", code);
            r
        });
        DataPlane::from_client(mock_client!(
            aws_sdk_iotdataplane,
            RuleMode::MatchAny,
            [&publish],
            |c| c.retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        ))
    }

    #[tokio::test]
    async fn a_throttled_publish_is_a_delivery_worth_retrying() {
        let e = refusing(429, "ThrottlingException", "Rate exceeded")
            .publish("fleet/a/cmd", b"{}".to_vec())
            .await
            .map_err(delivery)
            .unwrap_err();
        assert_eq!(
            e,
            DeliveryError::Throttled("Publish: ThrottlingException: Rate exceeded".into())
        );
    }

    #[tokio::test]
    async fn a_refused_publish_is_a_failed_delivery_even_when_its_text_says_rate_exceeded() {
        // The kind comes from the code, not from words in the message.
        let e = refusing(
            400,
            "InvalidRequestException",
            "Rate exceeded is not a topic",
        )
        .publish("fleet/a/cmd", b"{}".to_vec())
        .await
        .map_err(delivery)
        .unwrap_err();
        assert!(matches!(e, DeliveryError::Failed(_)), "{e:?}");
    }
}
