//! What went wrong with an AWS call, decided while the SDK's error is still at hand: a kind
//! ([`AwsErrorKind`]: throttled, not found, denied, timeout, unavailable) from the error's code,
//! the HTTP status and the SDK's own failure variants, and one line an operator can act on
//! ([`describe`]).
//!
//! Rules kept here:
//! - the kind is read from the SDK error (`ProvideErrorMetadata::code`, `SdkError::TimeoutError`,
//!   `DispatchFailure`, the HTTP status), never from the flattened text;
//! - the code decides before the status (Route 53 throttles with `Throttling` on HTTP 400);
//! - the message keeps the words of [`describe`], which tests and operators read.

use crate::ports::SourceError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure an AWS call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The service asked to slow down: worth retrying after a pause.
    Throttled,
    /// The thing asked about does not exist (a shadow, a record, a health check).
    NotFound,
    /// The credentials were refused or lack the permission.
    Denied,
    /// No answer in time (the operation, an attempt, or the connection).
    Timeout,
    /// The endpoint could not be reached or answered with a server error.
    Unavailable,
    /// Anything else (a malformed request, an unreadable answer).
    Other,
}

/// One failed AWS call: its kind and the line that says what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub kind: AwsErrorKind,
    pub message: String,
}

impl AwsError {
    /// Classifies and describes the SDK error of operation `op`.
    pub fn from_sdk<E>(op: &str, err: &SdkError<E, HttpResponse>) -> AwsError
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        AwsError {
            kind: classify(err),
            message: describe(op, err),
        }
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AwsError {}

impl From<AwsError> for SourceError {
    fn from(e: AwsError) -> SourceError {
        SourceError(e.message)
    }
}

/// The error codes AWS services use for "slow down".
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
    "ProvisionedThroughputExceededException",
];

/// The error codes for refused credentials or missing permissions.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedException",
    "UnrecognizedClientException",
    "NotAuthorizedException",
    "ForbiddenException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthFailure",
];

/// The error codes for a service that failed on its side.
const UNAVAILABLE_CODES: &[&str] = &[
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalFailureException",
    "InternalError",
    "InternalServerError",
    "InternalServerException",
    "InternalException",
];

/// The kind an error code names, if it names one.
fn kind_of_code(code: &str) -> Option<AwsErrorKind> {
    if THROTTLING_CODES.contains(&code) {
        Some(AwsErrorKind::Throttled)
    } else if DENIED_CODES.contains(&code) {
        Some(AwsErrorKind::Denied)
    } else if code.ends_with("NotFoundException")
        || code.ends_with("NotFound")
        || code.starts_with("NoSuch")
    {
        Some(AwsErrorKind::NotFound)
    } else if code == "RequestTimeout" || code == "RequestTimeoutException" {
        Some(AwsErrorKind::Timeout)
    } else if UNAVAILABLE_CODES.contains(&code) {
        Some(AwsErrorKind::Unavailable)
    } else {
        None
    }
}

/// The kind an HTTP status names, if it names one.
fn kind_of_status(status: u16) -> Option<AwsErrorKind> {
    match status {
        429 => Some(AwsErrorKind::Throttled),
        401 | 403 => Some(AwsErrorKind::Denied),
        404 => Some(AwsErrorKind::NotFound),
        408 => Some(AwsErrorKind::Timeout),
        500..=599 => Some(AwsErrorKind::Unavailable),
        _ => None,
    }
}

/// What kind of failure an SDK error is: by the SDK's variant, then the service's error code,
/// then the HTTP status.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> AwsErrorKind
where
    E: ProvideErrorMetadata,
{
    let status = || err.raw_response().map(|r| r.status().as_u16());
    match err {
        SdkError::TimeoutError(_) => AwsErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => AwsErrorKind::Timeout,
        SdkError::DispatchFailure(_) => AwsErrorKind::Unavailable,
        SdkError::ServiceError(s) => s
            .err()
            .code()
            .and_then(kind_of_code)
            .or_else(|| status().and_then(kind_of_status))
            .unwrap_or(AwsErrorKind::Other),
        SdkError::ResponseError(_) => status()
            .and_then(kind_of_status)
            .unwrap_or(AwsErrorKind::Other),
        _ => AwsErrorKind::Other,
    }
}

/// One line that says what went wrong with an SDK call, with the cause chain flattened:
/// "GetMetricData: dispatch failure: io error: Connection refused".
pub fn describe<E, R>(op: &str, err: &SdkError<E, R>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    let what = match err {
        SdkError::TimeoutError(_) => "no answer in time".to_string(),
        SdkError::DispatchFailure(d) => {
            // The innermost cause says it all ("Connection refused (os error 111)"); the
            // layers above it only repeat that a connection failed.
            let mut innermost = None;
            let mut src = d.as_connector_error().map(|c| c as &dyn std::error::Error);
            while let Some(e) = src {
                innermost = Some(e.to_string());
                src = e.source();
            }
            format!(
                "could not reach the endpoint: {}",
                innermost.unwrap_or_else(|| "connection failed".into())
            )
        }
        SdkError::ServiceError(s) => {
            let e = s.err();
            match (e.code(), e.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => format!("service error: {e}"),
            }
        }
        SdkError::ResponseError(_) => "the answer could not be read".to_string(),
        other => other.to_string(),
    };
    format!("{op}: {what}")
}

/// True when an error means "the service does not know this operation" rather than a failure
/// of the region: the lab answers operations it lacks with HTTP 500 and HTML.
pub fn is_unsupported<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    match err {
        SdkError::ServiceError(s) => s.err().code().is_none(),
        _ => false,
    }
}

/// Turns an error chain into one line (for errors that are not SDK errors).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(e) = src {
        s.push_str(": ");
        s.push_str(&e.to_string());
        src = e.source();
    }
    s
}

#[cfg(test)]
mod tests {
    //! The classification of real SDK errors: mocked HTTP answers (as the services send them)
    //! and HTTP clients that never answer or cannot connect, through the data-plane adapter.
    use super::*;
    use crate::aws::dataplane::DataPlane;
    use aws_sdk_iotdataplane::Client;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::retry::RetryConfig;
    use aws_smithy_types::timeout::TimeoutConfig;
    use std::time::Duration;

    /// An answer as AWS sends an error: the status, the error type header, a JSON body.
    fn answer(status: u16, code: Option<&'static str>, message: &str) -> HttpResponse {
        let body = match code {
            Some(c) => format!(r#"{{"__type":"{c}","message":"{message}"}}"#),
            None => message.to_string(),
        };
        let mut r = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
        if let Some(c) = code {
            r.headers_mut().insert("x-amzn-errortype", c);
            r.headers_mut().insert("content-type", "application/json");
        }
        r
    }

    /// A data plane whose Publish and GetThingShadow get `status`/`code`/`message`, no retries.
    fn answering(status: u16, code: Option<&'static str>, message: &'static str) -> DataPlane {
        let publish =
            mock!(Client::publish).then_http_response(move || answer(status, code, message));
        let shadow = mock!(Client::get_thing_shadow)
            .then_http_response(move || answer(status, code, message));
        DataPlane::from_client(mock_client!(
            aws_sdk_iotdataplane,
            RuleMode::MatchAny,
            [&publish, &shadow],
            |c| c.retry_config(RetryConfig::disabled())
        ))
    }

    /// An HTTP client whose every request is never answered, or refused.
    #[derive(Debug, Clone, Copy)]
    enum Wire {
        Silent,
        Refused,
    }

    impl HttpConnector for Wire {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            match self {
                Wire::Silent => HttpConnectorFuture::new(std::future::pending()),
                Wire::Refused => HttpConnectorFuture::ready(Err(ConnectorError::io(Box::new(
                    std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        "Connection refused",
                    ),
                )))),
            }
        }
    }

    impl HttpClient for Wire {
        fn http_connector(
            &self,
            _settings: &HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(*self)
        }
    }

    /// A data plane on `wire`, with a short operation timeout and no retries.
    fn over(wire: Wire) -> DataPlane {
        let publish = mock!(Client::publish).then_http_response(|| answer(200, None, "{}"));
        DataPlane::from_client(mock_client!(
            aws_sdk_iotdataplane,
            RuleMode::MatchAny,
            [&publish],
            |c| c
                .http_client(wire)
                .retry_config(RetryConfig::disabled())
                .timeout_config(
                    TimeoutConfig::builder()
                        .operation_timeout(Duration::from_millis(100))
                        .build()
                )
        ))
    }

    #[tokio::test]
    async fn a_throttling_exception_is_throttled() {
        let err = answering(429, Some("ThrottlingException"), "Rate exceeded")
            .publish("fleet/a/cmd", b"{}".to_vec())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::Throttled);
        assert_eq!(err.message, "Publish: ThrottlingException: Rate exceeded");
    }

    #[tokio::test]
    async fn an_answer_of_429_without_a_code_is_throttled_by_its_status() {
        let err = answering(429, None, "<html>Too Many Requests</html>")
            .publish("fleet/a/cmd", b"{}".to_vec())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::Throttled);
    }

    #[tokio::test]
    async fn a_resource_not_found_exception_is_not_found() {
        let err = answering(
            404,
            Some("ResourceNotFoundException"),
            "No shadow exists with name: 'dev-7'",
        )
        .get_shadow("dev-7", None)
        .await
        .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::NotFound);
        assert_eq!(
            err.message,
            "GetThingShadow: ResourceNotFoundException: No shadow exists with name: 'dev-7'"
        );
    }

    #[tokio::test]
    async fn access_denied_is_denied() {
        let err = answering(
            403,
            Some("AccessDeniedException"),
            "User is not authorized to perform: iot:Publish",
        )
        .publish("fleet/a/cmd", b"{}".to_vec())
        .await
        .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::Denied);
        assert!(
            err.message.starts_with("Publish: AccessDeniedException"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_endpoint_that_never_answers_is_a_timeout() {
        let err = over(Wire::Silent)
            .publish("fleet/a/cmd", b"{}".to_vec())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::Timeout);
        assert_eq!(err.message, "Publish: no answer in time");
    }

    #[tokio::test]
    async fn an_endpoint_that_refuses_the_connection_is_unavailable() {
        let err = over(Wire::Refused)
            .publish("fleet/a/cmd", b"{}".to_vec())
            .await
            .unwrap_err();
        assert_eq!(err.kind, AwsErrorKind::Unavailable);
        assert!(err.message.contains("Connection refused"), "{err}");
    }

    #[test]
    fn the_code_decides_before_the_status() {
        // Route 53 throttles with `Throttling` on HTTP 400.
        assert_eq!(kind_of_code("Throttling"), Some(AwsErrorKind::Throttled));
        assert_eq!(
            kind_of_code("NoSuchHostedZone"),
            Some(AwsErrorKind::NotFound)
        );
        assert_eq!(kind_of_code("AccessDenied"), Some(AwsErrorKind::Denied));
        assert_eq!(kind_of_code("InvalidRequestException"), None);
        assert_eq!(kind_of_status(400), None);
        assert_eq!(kind_of_status(503), Some(AwsErrorKind::Unavailable));
    }
}
