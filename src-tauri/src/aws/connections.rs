//! The AWS side of the engine's [`ConnectionControl`] port: the things a region's fleet index
//! reports connected (`SearchIndex` on `connectivity.connected:true`, within the configured
//! thing groups) and dropping one client's connection (`DeleteConnection`, IoT Core's data
//! plane, since August 2025).
//!
//! Rules kept here:
//! - the client id is the thing name: fleet indexing's connectivity needs them to be equal, so
//!   a fleet whose connectivity is indexed already names its clients so;
//! - a will message is never published for a dropped connection; the persistent session is
//!   kept unless the settings ask to clean it;
//! - "not found" is a device already gone ([`Disconnected::NotFound`]), a throttled answer is
//!   [`DeliveryError::Throttled`] (the engine backs off and retries), everything else is
//!   [`DeliveryError::Failed`] in the service's words;
//! - the listing is a background reader: its pages take from `SearchIndex`'s budget in the
//!   region (`budget.rs`), and a throttling answer slows that budget; the disconnections are
//!   paced by the engine at `[failover] stragglers_rate_per_sec`, not by the budget, so that
//!   the estimate the panel shows is the rate they run at;
//! - nothing is retried here, and the SDK's own attempts are the configured ones.

use super::budget::Api;
use super::errors::{AwsError, AwsErrorKind};
use super::source::AwsSource;
use crate::ports::{BoxFuture, ConnectedPage, ConnectionControl, DeliveryError, Disconnected};

/// The fleet-index query for the devices connected now, within the fleet's thing groups.
pub fn connected_query(fleet: &str) -> String {
    if fleet.is_empty() || fleet == "*" {
        "connectivity.connected:true".into()
    } else {
        format!("({fleet}) AND connectivity.connected:true")
    }
}

impl ConnectionControl for AwsSource {
    fn connected<'a>(
        &'a self,
        region: &'a str,
        next: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ConnectedPage, DeliveryError>> {
        Box::pin(async move {
            let r = self
                .region(region)
                .map_err(|e| DeliveryError::Failed(e.0))?;
            // A background reader: its pages share SearchIndex's budget in this region.
            let bucket = self.budget(Api::SearchIndex, region);
            bucket.acquire().await;
            let page = r
                .iot
                .names_page(&connected_query(&self.fleet_query()), next)
                .await;
            if matches!(&page, Err(e) if e.kind == AwsErrorKind::Throttled) {
                bucket.throttled();
            }
            let (things, next) = page.map_err(kind)?;
            Ok(ConnectedPage { things, next })
        })
    }

    fn disconnect<'a>(
        &'a self,
        region: &'a str,
        client_id: &'a str,
        clean_session: bool,
    ) -> BoxFuture<'a, Result<Disconnected, DeliveryError>> {
        Box::pin(async move {
            let r = self
                .region(region)
                .map_err(|e| DeliveryError::Failed(e.0))?;
            disconnected(r.data.delete_connection(client_id, clean_session).await)
        })
    }
}

/// What a `DeleteConnection` answer means for the step.
fn disconnected(answer: Result<(), AwsError>) -> Result<Disconnected, DeliveryError> {
    match answer {
        Ok(()) => Ok(Disconnected::Dropped),
        Err(e) if e.kind == AwsErrorKind::NotFound => Ok(Disconnected::NotFound),
        Err(e) => Err(kind(e)),
    }
}

fn kind(e: AwsError) -> DeliveryError {
    match e.kind {
        AwsErrorKind::Throttled => DeliveryError::Throttled(e.message),
        _ => DeliveryError::Failed(e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::dataplane::DataPlane;
    use crate::aws::iot::Iot;
    use aws_sdk_iot::operation::search_index::SearchIndexOutput;
    use aws_sdk_iot::types::ThingDocument;
    use aws_sdk_iotdataplane::operation::delete_connection::DeleteConnectionOutput;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    fn answering(status: u16, code: &'static str) -> DataPlane {
        let rule =
            mock!(aws_sdk_iotdataplane::Client::delete_connection).then_http_response(move || {
                let mut r = Response::new(
                    StatusCode::try_from(status).unwrap(),
                    SdkBody::from(r#"{"message":"as the service says"}"#),
                );
                r.headers_mut().insert("x-amzn-errortype", code);
                r
            });
        DataPlane::from_client(mock_client!(
            aws_sdk_iotdataplane,
            RuleMode::MatchAny,
            [&rule],
            |c| c.retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        ))
    }

    #[tokio::test]
    async fn a_dropped_connection_asks_for_no_will_message_and_keeps_the_session() {
        let rule = mock!(aws_sdk_iotdataplane::Client::delete_connection)
            .match_requests(|r| {
                r.client_id() == Some("dev-7")
                    && r.prevent_will_message() == Some(true)
                    && r.clean_session() == Some(false)
            })
            .then_output(|| DeleteConnectionOutput::builder().build());
        let data = DataPlane::from_client(mock_client!(aws_sdk_iotdataplane, [&rule]));
        let answer = disconnected(data.delete_connection("dev-7", false).await);
        assert_eq!(answer, Ok(Disconnected::Dropped));
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn not_found_is_a_device_already_gone_and_throttling_is_worth_a_retry() {
        let gone = disconnected(
            answering(404, "ResourceNotFoundException")
                .delete_connection("dev-7", false)
                .await,
        );
        assert_eq!(gone, Ok(Disconnected::NotFound));
        let slow = disconnected(
            answering(429, "ThrottlingException")
                .delete_connection("dev-7", false)
                .await,
        );
        assert!(matches!(slow, Err(DeliveryError::Throttled(_))), "{slow:?}");
        let denied = disconnected(
            answering(403, "ForbiddenException")
                .delete_connection("dev-7", false)
                .await,
        );
        match denied {
            Err(DeliveryError::Failed(why)) => assert!(why.contains("DeleteConnection"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn connected_devices_are_paged_with_the_services_token() {
        let first = mock!(aws_sdk_iot::Client::search_index)
            .match_requests(|r| {
                r.next_token().is_none()
                    && r.query_string()
                        == Some("(thingGroupNames:sensors) AND connectivity.connected:true")
            })
            .then_output(|| {
                SearchIndexOutput::builder()
                    .things(ThingDocument::builder().thing_name("a").build())
                    .things(ThingDocument::builder().thing_name("b").build())
                    .next_token("page-2")
                    .build()
            });
        let second = mock!(aws_sdk_iot::Client::search_index)
            .match_requests(|r| r.next_token() == Some("page-2"))
            .then_output(|| {
                SearchIndexOutput::builder()
                    .things(ThingDocument::builder().thing_name("c").build())
                    .next_token("")
                    .build()
            });
        let iot = Iot::from_client(mock_client!(
            aws_sdk_iot,
            RuleMode::MatchAny,
            [&first, &second]
        ));
        let q = connected_query("thingGroupNames:sensors");
        let (names, next) = iot.names_page(&q, None).await.unwrap();
        assert_eq!(
            (names, next.as_deref()),
            (vec!["a".into(), "b".into()], Some("page-2"))
        );
        let (names, next) = iot.names_page(&q, Some("page-2")).await.unwrap();
        assert_eq!((names, next), (vec!["c".to_string()], None));
    }
}
