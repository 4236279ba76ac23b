//! Alerts out: the receivers of `[[alerts.receivers]]` built from the settings, each the
//! engine's [`AlertReceiver`] port. This room and `aws/sns.rs` are the only ones that know the
//! receivers' protocols; the engine's dispatcher (`engine/deliveries.rs`) owns the outbox, the
//! order and the retries, and core (`switchyard_core::delivery`) the words and the verdicts.
//!
//! - [`alertmanager`]: Prometheus Alertmanager's v2 API, every URL of a cluster at once;
//! - [`webhook`]: JSON to a URL, signed with HMAC-SHA256 over the exact body;
//! - SNS: [`crate::aws::sns`] (only `aws/` names the SDK).
//!
//! Rules kept here:
//! - HTTP goes through the one client (`api::client`), with the receiver's timeout as both its
//!   connect and its request deadline, and the whole `send` bounded by that timeout again: a
//!   receiver that hangs is a `Retry` after its timeout, never a hung dispatcher;
//! - an answer's meaning is core's [`verdict_for_status`]; a call that got no answer (refused
//!   connection, timeout, broken exchange) is retried; a request that cannot be made from the
//!   settings is refused;
//! - a receiver with several targets has one verdict: delivered when any target took it,
//!   retried when any may still, refused only when every target refused ([`combine`]);
//! - no error text carries a secret.

pub mod alertmanager;
pub mod webhook;

use crate::api::client::{Client, ClientError, ClientOptions, Request};
use crate::ports::AlertReceiver;
use crate::settings::{AlertsSettings, ReceiverTarget};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::delivery::{verdict_for_status, Verdict};

/// Every receiver of `alerts`, ready to send. `poll_timeout` bounds the building of each SNS
/// topic's client (credentials are resolved then). An error is one line naming the receiver.
pub async fn build(
    alerts: &AlertsSettings,
    poll_timeout: Duration,
) -> Result<Vec<Arc<dyn AlertReceiver>>, String> {
    let mut out: Vec<Arc<dyn AlertReceiver>> = Vec::with_capacity(alerts.receivers.len());
    for r in &alerts.receivers {
        let receiver: Arc<dyn AlertReceiver> = match &r.target {
            ReceiverTarget::Alertmanager { urls, resend_every } => Arc::new(
                alertmanager::Alertmanager::new(r, urls, *resend_every)
                    .map_err(|e| format!("receiver {}: {e}", r.name))?,
            ),
            ReceiverTarget::Webhook { url, secret, slack } => Arc::new(
                webhook::Webhook::new(r, url, secret.clone(), *slack)
                    .map_err(|e| format!("receiver {}: {e}", r.name))?,
            ),
            ReceiverTarget::Sns { topics } => Arc::new(
                crate::aws::sns::SnsReceiver::connect(r, topics, poll_timeout)
                    .await
                    .map_err(|e| format!("receiver {}: {e}", r.name))?,
            ),
        };
        out.push(receiver);
    }
    Ok(out)
}

/// A client of `origin` (`scheme://host[:port][/base]`) whose every call ends within `timeout`.
pub(crate) fn client(origin: &str, timeout: Duration) -> Result<Client, ClientError> {
    Client::with_options(
        origin,
        ClientOptions {
            ca_file: None,
            connect_timeout: timeout,
            request_timeout: timeout,
            stream_read_timeout: timeout,
        },
    )
}

/// POSTs `req` through `client` within `timeout`; what the answer (or its absence) means.
/// `target` names the URL in the error (never a header: a signature stays out of the log).
pub(crate) async fn post(
    client: &Client,
    req: Request,
    timeout: Duration,
    target: &str,
) -> Verdict {
    match tokio::time::timeout(timeout, client.send(req)).await {
        Err(_) => no_answer(target, timeout),
        Ok(Ok(resp)) => match verdict_for_status(resp.status, &resp.text()) {
            Verdict::Delivered => Verdict::Delivered,
            Verdict::Retry(why) => Verdict::Retry(format!("{target}: {why}")),
            Verdict::Refused(why) => Verdict::Refused(format!("{target}: {why}")),
        },
        Ok(Err(e)) => verdict_of_error(&e, target, timeout),
    }
}

/// "no answer within 5 s" at `target`: worth retrying.
pub(crate) fn no_answer(target: &str, timeout: Duration) -> Verdict {
    Verdict::Retry(format!("{target}: no answer within {}", seconds(timeout)))
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// What a call that got no HTTP answer means: retried, unless the request itself cannot be
/// made (then asking again will not help).
fn verdict_of_error(e: &ClientError, target: &str, timeout: Duration) -> Verdict {
    match e {
        ClientError::Timeout { .. } => no_answer(target, timeout),
        ClientError::Connect { reason, .. } => {
            Verdict::Retry(format!("{target}: cannot connect: {reason}"))
        }
        ClientError::Tls { reason, .. } => {
            Verdict::Retry(format!("{target}: TLS failed: {reason}"))
        }
        ClientError::Exchange { reason, .. } => {
            Verdict::Retry(format!("{target}: the exchange broke: {reason}"))
        }
        ClientError::Status { status, message } => verdict_for_status(*status, message),
        ClientError::BadUrl { reason, .. } => Verdict::Refused(format!("{target}: {reason}")),
        ClientError::CaFile { reason, .. } => Verdict::Refused(format!("{target}: {reason}")),
        ClientError::BadHeader { name } => {
            Verdict::Refused(format!("{target}: the header {name} cannot be sent"))
        }
        ClientError::Decode { reason } => {
            Verdict::Refused(format!("{target}: the request cannot be made: {reason}"))
        }
    }
}

/// One verdict from each target's: delivered when any target took it; otherwise retried when
/// any target may take it later, refused when every one refused; the reasons joined by "; ".
pub fn combine(verdicts: Vec<Verdict>) -> Verdict {
    if verdicts.is_empty() {
        return Verdict::Retry("no target to send to".to_string());
    }
    if verdicts.contains(&Verdict::Delivered) {
        return Verdict::Delivered;
    }
    let retry = verdicts.iter().any(|v| matches!(v, Verdict::Retry(_)));
    let why = verdicts
        .into_iter()
        .filter_map(|v| match v {
            Verdict::Delivered => None,
            Verdict::Retry(w) | Verdict::Refused(w) => Some(w),
        })
        .collect::<Vec<_>>()
        .join("; ");
    if retry {
        Verdict::Retry(why)
    } else {
        Verdict::Refused(why)
    }
}

/// `url` split into the origin the client connects to and the path (with its query) it asks
/// for: `https://h:8443/a/b?c=1` is `https://h:8443` and `/a/b?c=1`.
pub(crate) fn split_url(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?']) {
        Some(i) => {
            let (origin, path) = url.split_at(after_scheme + i);
            (origin, path)
        }
        None => (url, "/"),
    }
}

#[cfg(test)]
mod tests;
