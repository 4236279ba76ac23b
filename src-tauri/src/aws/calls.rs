//! Counts every AWS API call the adapters make, by operation, how many failed and how many
//! attempts were throttled: an SDK interceptor on every client. This is how the console knows
//! its own error rate against a region, how `/metrics` reports calls and throttles, and how the
//! tests prove that a poll's calls do not grow with the fleet.
//!
//! Rules kept here:
//! - a throttle is what the client's own retry classifiers call one (`ThrottlingError`: the
//!   service's throttling codes, HTTP 429), never a reading of the error's text;
//! - every attempt that was throttled counts, also one whose retry then succeeded.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryReason,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::ErrorKind;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Calls, failures and throttled attempts by operation name ("GetMetricData"), since the start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    pub calls: BTreeMap<String, u64>,
    pub failures: BTreeMap<String, u64>,
    /// Attempts the service answered with "slow down".
    pub throttles: BTreeMap<String, u64>,
}

impl CallCounts {
    pub fn total(&self) -> u64 {
        self.calls.values().sum()
    }

    pub fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    /// One row per operation called in `region`, for `/metrics`.
    pub fn by_operation(&self, region: &str) -> Vec<crate::ports::ApiCalls> {
        let of = |m: &BTreeMap<String, u64>, op: &str| m.get(op).copied().unwrap_or(0);
        self.calls
            .keys()
            .chain(self.throttles.keys())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|op| crate::ports::ApiCalls {
                region: region.to_string(),
                operation: op.clone(),
                calls: of(&self.calls, op),
                failures: of(&self.failures, op),
                throttles: of(&self.throttles, op),
            })
            .collect()
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        let diff = |now: &BTreeMap<String, u64>, then: &BTreeMap<String, u64>| {
            now.iter()
                .map(|(k, v)| (k.clone(), v - then.get(k).copied().unwrap_or(0)))
                .filter(|(_, v)| *v > 0)
                .collect()
        };
        CallCounts {
            calls: diff(&self.calls, &earlier.calls),
            failures: diff(&self.failures, &earlier.failures),
            throttles: diff(&self.throttles, &earlier.throttles),
        }
    }
}

/// The interceptor; clones share one tally.
#[derive(Debug, Clone, Default)]
pub struct CallLog(Arc<Mutex<CallCounts>>);

impl CallLog {
    pub fn counts(&self) -> CallCounts {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn bump(&self, cfg: &ConfigBag, tally: Tally) {
        let op = cfg
            .load::<Metadata>()
            .map_or_else(|| "unknown".to_string(), |m| m.name().to_string());
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let map = match tally {
            Tally::Call => &mut c.calls,
            Tally::Failure => &mut c.failures,
            Tally::Throttle => &mut c.throttles,
        };
        *map.entry(op).or_default() += 1;
    }
}

#[derive(Clone, Copy)]
enum Tally {
    Call,
    Failure,
    Throttle,
}

/// Whether the client's own retry classifiers, run in their order as the orchestrator runs
/// them, call this attempt's answer a throttling error.
fn throttled(
    context: &FinalizerInterceptorContextRef<'_>,
    runtime_components: &RuntimeComponents,
) -> bool {
    if !matches!(context.output_or_error(), Some(Err(_))) {
        return false;
    }
    let ctx = context.inner();
    let mut action = RetryAction::NoActionIndicated;
    for classifier in runtime_components.retry_classifiers() {
        let next = classifier.classify_retry_v2(ctx, &action);
        if next == RetryAction::NoActionIndicated {
            continue;
        }
        action = next;
        if action == RetryAction::RetryForbidden {
            break;
        }
    }
    matches!(
        action,
        RetryAction::RetryIndicated(RetryReason::RetryableError {
            kind: ErrorKind::ThrottlingError,
            ..
        })
    )
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "SwitchyardCallLog"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if throttled(context, runtime_components) {
            self.bump(cfg, Tally::Throttle);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.bump(cfg, Tally::Call);
        if matches!(context.output_or_error(), Some(Err(_))) {
            self.bump(cfg, Tally::Failure);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The tally through a real SDK client whose answers are mocked as the services send them.
    use super::*;
    use aws_sdk_iotdataplane::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::retry::RetryConfig;
    use std::time::Duration;

    fn answer(status: u16, code: &str) -> HttpResponse {
        let mut r = Response::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from(format!(r#"{{"__type":"{code}","message":"no"}}"#)),
        );
        r.headers_mut().insert("x-amzn-errortype", code.to_string());
        r.headers_mut().insert("content-type", "application/json");
        r
    }

    /// Publishes once through a client that makes up to `attempts` attempts, each answered
    /// `status`/`code` and then 200; returns the tally.
    async fn publish(attempts: u32, failing: usize, status: u16, code: &'static str) -> CallCounts {
        let log = CallLog::default();
        let rule = mock!(Client::publish)
            .sequence()
            .http_response(move || answer(status, code))
            .times(failing)
            .http_response(|| {
                Response::new(StatusCode::try_from(200).unwrap(), SdkBody::from("{}"))
            })
            .build();
        let interceptor = SharedInterceptor::new(log.clone());
        let client = mock_client!(aws_sdk_iotdataplane, RuleMode::MatchAny, [&rule], |c| c
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(attempts)
                    .with_initial_backoff(Duration::from_millis(1))
            )
            .interceptor(interceptor.clone()));
        let _ = client.publish().topic("fleet/a/cmd").send().await;
        log.counts()
    }

    fn one(op: &str, n: u64) -> BTreeMap<String, u64> {
        [(op.to_string(), n)].into_iter().collect()
    }

    #[tokio::test]
    async fn a_throttled_call_counts_as_a_call_a_failure_and_a_throttle() {
        let c = publish(1, 1, 429, "ThrottlingException").await;
        assert_eq!(c.calls, one("Publish", 1));
        assert_eq!(c.failures, one("Publish", 1));
        assert_eq!(c.throttles, one("Publish", 1));
    }

    #[tokio::test]
    async fn a_throttled_attempt_that_a_retry_mends_still_counts_as_a_throttle() {
        let c = publish(2, 1, 400, "ThrottlingException").await;
        assert_eq!(c.calls, one("Publish", 1));
        assert!(c.failures.is_empty(), "the call succeeded: {c:?}");
        assert_eq!(c.throttles, one("Publish", 1));
    }

    #[tokio::test]
    async fn a_refusal_is_a_failure_and_not_a_throttle() {
        let c = publish(1, 1, 403, "ForbiddenException").await;
        assert_eq!(c.failures, one("Publish", 1));
        assert!(c.throttles.is_empty(), "{c:?}");
        let since = c.since(&CallCounts::default());
        assert_eq!(since, c);
        let rows = c.by_operation("eu-west-1");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].region.as_str(), rows[0].operation.as_str()),
            ("eu-west-1", "Publish")
        );
        assert_eq!(
            (rows[0].calls, rows[0].failures, rows[0].throttles),
            (1, 1, 0)
        );
    }
}
