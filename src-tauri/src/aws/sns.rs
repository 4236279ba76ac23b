//! Amazon SNS as an alert receiver: `Publish` to the first of a list of topics that takes the
//! notice, each topic in its own region with its own credentials, so that paging does not
//! depend on the region that is failing.
//!
//! Rules kept here:
//! - the subject is core's [`sns_subject`], the message core's [`webhook_body`] as JSON (with
//!   the Slack-style `text`), and the message attributes `severity`, `alertname` and `event`
//!   (for subscription filter policies);
//! - topics are tried in order; the first that takes the notice has it, and the others are not
//!   asked; when none does, the verdict names each topic's failure ([`crate::notify::combine`]);
//! - nine tenths of the receiver's timeout are shared among its topics: each topic's client has
//!   its share as its operation timeout (two attempts within it), so the whole send ends within
//!   the timeout and names each topic that did not answer;
//! - a failure's meaning is read from the SDK error's kind ([`super::errors`]): throttling,
//!   timeouts, unreachable endpoints and server errors are retried; a topic that does not
//!   exist, refused credentials and invalid parameters are refused (misconfigured).

use super::config::{sdk_config, Timeouts};
use super::errors::{AwsError, AwsErrorKind};
use crate::notify::combine;
use crate::ports::{AlertReceiver, BoxFuture};
use crate::settings::{ReceiverSettings, SnsTopic};
use aws_sdk_sns::error::ProvideErrorMetadata;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use std::time::Duration;
use switchyard_core::delivery::{sns_subject, webhook_body, Filter, Notice, ReceiverKind, Verdict};
use switchyard_core::UnixMs;

/// One topic and its client.
struct Topic {
    arn: String,
    client: Client,
}

/// An SNS receiver: its topics in order.
pub struct SnsReceiver {
    name: String,
    filter: Filter,
    timeout: Duration,
    /// Each topic's share of the timeout.
    per_topic: Duration,
    topics: Vec<Topic>,
}

impl SnsReceiver {
    /// The receiver `r` publishing to `topics`; building each topic's client (its credentials
    /// provider) must end within `build_timeout`.
    pub async fn connect(
        r: &ReceiverSettings,
        topics: &[SnsTopic],
        build_timeout: Duration,
    ) -> Result<SnsReceiver, String> {
        let n = u32::try_from(topics.len().max(1)).unwrap_or(u32::MAX);
        // A tenth is kept back so that the last topic's own timeout, not the receiver's, ends
        // a send that nothing answers: its verdict then names every topic.
        let per_topic = r.timeout.mul_f64(0.9) / n;
        let mut built = Vec::with_capacity(topics.len());
        for t in topics {
            let conf = tokio::time::timeout(
                build_timeout,
                sdk_config(&t.region, &t.endpoint, Timeouts::for_poll(per_topic)),
            )
            .await
            .map_err(|_| {
                format!(
                    "the SNS client for {} was not ready within {} s (its credentials?)",
                    t.arn,
                    build_timeout.as_secs_f64()
                )
            })?;
            built.push(Topic {
                arn: t.arn.clone(),
                client: Client::new(&conf),
            });
        }
        Ok(SnsReceiver {
            name: r.name.clone(),
            filter: r.filter.clone(),
            timeout: r.timeout,
            per_topic,
            topics: built,
        })
    }

    /// `notice` to the first topic that takes it.
    async fn send_one(&self, notice: &Notice) -> Verdict {
        let message = match serde_json::to_string(&webhook_body(notice, true)) {
            Ok(m) => m,
            Err(e) => return Verdict::Refused(format!("the notice cannot be written: {e}")),
        };
        let subject = sns_subject(notice);
        let attributes = [
            ("severity", notice.alert.severity.as_str()),
            ("alertname", notice.alert.kind.as_str()),
            ("event", notice.event.as_str()),
        ];
        let mut failures = Vec::new();
        for t in &self.topics {
            let mut call = t
                .client
                .publish()
                .topic_arn(&t.arn)
                .subject(&subject)
                .message(&message);
            for (k, v) in attributes {
                match MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(v)
                    .build()
                {
                    Ok(a) => call = call.message_attributes(k, a),
                    Err(e) => {
                        return Verdict::Refused(format!("the attribute {k} cannot be sent: {e}"))
                    }
                }
            }
            let verdict = match tokio::time::timeout(self.per_topic, call.send()).await {
                Err(_) => Verdict::Retry(format!(
                    "{}: Publish: no answer within {} s",
                    t.arn,
                    self.per_topic.as_secs_f64()
                )),
                Ok(Ok(_)) => Verdict::Delivered,
                Ok(Err(e)) => verdict_of(&t.arn, &e),
            };
            if verdict == Verdict::Delivered {
                return Verdict::Delivered;
            }
            failures.push(verdict);
        }
        combine(failures)
    }
}

/// What a failed `Publish` to `arn` means.
fn verdict_of<E>(
    arn: &str,
    e: &SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> Verdict
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    let err = AwsError::from_sdk("Publish", e);
    let why = format!("{arn}: {}", err.message);
    let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
    match err.kind {
        AwsErrorKind::Throttled | AwsErrorKind::Timeout | AwsErrorKind::Unavailable => {
            Verdict::Retry(why)
        }
        AwsErrorKind::NotFound | AwsErrorKind::Denied => Verdict::Refused(why),
        // KMS throttling and the like.
        AwsErrorKind::Other if code.contains("Throttl") => Verdict::Retry(why),
        // The service answered and said no (an invalid parameter, a disabled endpoint).
        AwsErrorKind::Other if e.as_service_error().is_some() => Verdict::Refused(why),
        AwsErrorKind::Other => Verdict::Retry(why),
    }
}

impl AlertReceiver for SnsReceiver {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> ReceiverKind {
        ReceiverKind::Sns
    }

    fn targets(&self) -> Vec<String> {
        self.topics.iter().map(|t| t.arn.clone()).collect()
    }

    fn filter(&self) -> &Filter {
        &self.filter
    }

    fn batch(&self) -> usize {
        1
    }

    fn resend_every(&self) -> Option<Duration> {
        None
    }

    fn send<'a>(&'a self, notices: &'a [Notice], _now: UnixMs) -> BoxFuture<'a, Verdict> {
        Box::pin(async move {
            let all = async {
                for n in notices {
                    match self.send_one(n).await {
                        Verdict::Delivered => {}
                        failed => return failed,
                    }
                }
                Verdict::Delivered
            };
            match tokio::time::timeout(self.timeout, all).await {
                Ok(v) => v,
                Err(_) => Verdict::Retry(format!(
                    "Publish: no answer within {} s",
                    self.timeout.as_secs_f64()
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests;
