//! Alerts out: which receiver is told of which alert, in what words, and what to do when the
//! telling fails. Pure: the engine keeps the outbox (`store/deliveries.rs`) and the adapters
//! (`src-tauri/src/notify/`, `aws/sns.rs`) do the sending; this decides.
//! (Just past 500 lines since each API type also derives its OpenAPI schema: one vocabulary of
//! alerts out, its tests already apart in `delivery/tests.rs`.)
//!
//! Rules kept here:
//! - one alert is at most two notices per receiver: its raise (`firing`) and its clear
//!   (`resolved`), never one per poll; a clear is never sent before its raise has been delivered
//!   or given up ([`sendable`]);
//! - an answer is delivered (2xx), refused (4xx but 408 and 429: the receiver is misconfigured
//!   and asking again will not help) or retried (5xx, 408, 429, no answer) ([`verdict_for_status`]);
//! - retries back off from [`RetryPolicy::first_ms`] doubling to [`RetryPolicy::max_ms`], and
//!   stop [`RetryPolicy::give_up_after_ms`] after the notice was made ([`next_attempt`]);
//! - the words are the same on every receiver: the alert's own message, its region, its link.

use crate::alerts::{Alert, AlertKind, Severity};
use crate::UnixMs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a receiver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReceiverKind {
    /// Prometheus Alertmanager's v2 API (`POST /api/v2/alerts`), one or several (a cluster).
    Alertmanager,
    /// Amazon SNS `Publish` to one of a list of topics.
    Sns,
    /// JSON to a URL, signed with HMAC-SHA256.
    Webhook,
}

impl ReceiverKind {
    pub const ALL: [ReceiverKind; 3] = [
        ReceiverKind::Alertmanager,
        ReceiverKind::Sns,
        ReceiverKind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReceiverKind::Alertmanager => "alertmanager",
            ReceiverKind::Sns => "sns",
            ReceiverKind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<ReceiverKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What one notice says of its alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DeliveryEvent))]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The alert was raised.
    Firing,
    /// The alert cleared.
    Resolved,
    /// An administrator's test from `#/alerts`: no alert behind it.
    Test,
}

impl Event {
    pub const ALL: [Event; 3] = [Event::Firing, Event::Resolved, Event::Test];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::Firing => "firing",
            Event::Resolved => "resolved",
            Event::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not tried yet.
    Pending,
    /// Tried and failed; tried again at `next_attempt_at`.
    Retrying,
    Delivered,
    /// Retried until the policy's time ran out.
    GaveUp,
    /// The receiver answered 4xx: it is misconfigured; not retried.
    Refused,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 5] = [
        DeliveryState::Pending,
        DeliveryState::Retrying,
        DeliveryState::Delivered,
        DeliveryState::GaveUp,
        DeliveryState::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Delivered => "delivered",
            DeliveryState::GaveUp => "gave_up",
            DeliveryState::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Still to be sent.
    pub fn is_open(self) -> bool {
        matches!(self, DeliveryState::Pending | DeliveryState::Retrying)
    }
}

/// Which alerts a receiver takes. An empty list takes every value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filter {
    #[serde(default)]
    pub severities: Vec<Severity>,
    /// Region codes; an alert with no region (a disconnected gateway's) passes only an empty list.
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<AlertKind>,
}

impl Filter {
    pub fn accepts(&self, kind: AlertKind, region: Option<&str>) -> bool {
        (self.severities.is_empty() || self.severities.contains(&kind.severity()))
            && (self.kinds.is_empty() || self.kinds.contains(&kind))
            && (self.regions.is_empty()
                || region.is_some_and(|r| self.regions.iter().any(|x| x == r)))
    }
}

/// One notice on its way to one receiver: what happened to which alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    /// The outbox row it comes from.
    pub delivery_id: i64,
    pub event: Event,
    pub alert: Alert,
    /// The region the alert is about (a gateway's: the one it is connected to).
    pub region: Option<String>,
    /// The console's page of the alert, when `[alerts] console_url` is set.
    pub link: Option<String>,
}

/// What a receiver's answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Try again later; why it failed.
    Retry(String),
    /// Do not try again: the receiver refuses (misconfigured); why.
    Refused(String),
}

/// The verdict of an HTTP answer; `body` is quoted (shortened) in the error.
pub fn verdict_for_status(status: u16, body: &str) -> Verdict {
    let said = short(body.trim(), 200);
    let why = if said.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {said}")
    };
    match status {
        200..=299 => Verdict::Delivered,
        408 | 429 => Verdict::Retry(why),
        400..=499 => Verdict::Refused(why),
        _ => Verdict::Retry(why),
    }
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// How failed deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetryPolicy {
    /// The wait after the first failure.
    pub first_ms: u64,
    /// The longest wait between two attempts.
    pub max_ms: u64,
    /// A notice not delivered this long after it was made is given up.
    pub give_up_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_ms: 2_000,
            max_ms: 5 * 60_000,
            give_up_after_ms: 24 * 3_600_000,
        }
    }
}

/// When to try again after `attempts` failed attempts of a notice made at `created_at`;
/// `None` when it is time to give up.
pub fn next_attempt(
    policy: &RetryPolicy,
    created_at: UnixMs,
    attempts: u32,
    now: UnixMs,
) -> Option<UnixMs> {
    if now.saturating_sub(created_at) >= policy.give_up_after_ms {
        return None;
    }
    let shift = attempts.saturating_sub(1).min(30);
    let wait = policy
        .first_ms
        .saturating_mul(1u64 << shift)
        .min(policy.max_ms);
    let at = now.saturating_add(wait);
    // The last try is at the deadline, not after it.
    Some(at.min(created_at.saturating_add(policy.give_up_after_ms)))
}

/// One open delivery as the dispatcher sees it, to decide what may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub alert_id: Option<i64>,
    pub event: Event,
    pub due: bool,
}

/// The ids of `queued` (one receiver's open deliveries, oldest first) that may be sent now: due
/// ones, at most one per alert, and never a clear while its alert's raise is still open, nor
/// anything of an alert while an earlier notice of it waits. At most `batch`.
pub fn sendable(queued: &[Queued], batch: usize) -> Vec<i64> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for q in queued {
        if out.len() >= batch {
            break;
        }
        let first_of_its_alert = match q.alert_id {
            Some(a) => seen.insert(a),
            None => true,
        };
        if q.due && first_of_its_alert {
            out.push(q.id);
        }
    }
    out
}

/// The labels an alert carries out (Alertmanager's labels, the webhook's `labels`): its kind as
/// `alertname`, `region`, `severity`, `source` (`switchyard`) and `subject`.
pub fn labels(alert: &Alert, region: Option<&str>) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert("alertname".to_string(), alert.kind.as_str().to_string());
    l.insert("severity".to_string(), alert.severity.as_str().to_string());
    l.insert("source".to_string(), "switchyard".to_string());
    l.insert("subject".to_string(), alert.subject.clone());
    if let Some(r) = region {
        l.insert("region".to_string(), r.to_string());
    }
    l
}

/// One alert in Alertmanager's v2 API (`POST /api/v2/alerts` takes a list of these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AmAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    /// While firing: a little past the next re-send, so that Alertmanager resolves it by itself
    /// only when the console stops telling; once cleared: when it cleared.
    pub ends_at: String,
    #[serde(rename = "generatorURL", skip_serializing_if = "Option::is_none")]
    pub generator_url: Option<String>,
}

/// How many re-send intervals a firing alert stays firing in Alertmanager without news (what
/// Prometheus itself does).
pub const AM_ENDS_AFTER_RESENDS: u64 = 4;

/// `notice` for Alertmanager, at `now`, for a receiver that re-sends every `resend_ms`.
pub fn am_alert(notice: &Notice, now: UnixMs, resend_ms: u64) -> AmAlert {
    let a = &notice.alert;
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_string(), a.message.clone());
    if let Some(link) = &notice.link {
        annotations.insert("console".to_string(), link.clone());
    }
    let ends_at = match (notice.event, a.cleared_at) {
        (Event::Resolved, Some(at)) => at,
        (Event::Resolved, None) => now,
        // A test is resolved a minute after it is sent.
        (Event::Test, _) => now + 60_000,
        (Event::Firing, _) => now + AM_ENDS_AFTER_RESENDS * resend_ms,
    };
    AmAlert {
        labels: labels(a, notice.region.as_deref()),
        annotations,
        starts_at: crate::time::rfc3339(a.raised_at),
        ends_at: crate::time::rfc3339(ends_at),
        generator_url: notice.link.clone(),
    }
}

/// The body of a webhook (and the message of an SNS publish).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookBody {
    /// Bumped when the shape changes incompatibly.
    pub version: u32,
    pub event: Event,
    pub alert: Alert,
    pub region: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub link: Option<String>,
    /// A Slack-compatible line, when the receiver asks for one (`slack = true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `notice` as a webhook body.
pub fn webhook_body(notice: &Notice, slack: bool) -> WebhookBody {
    WebhookBody {
        version: 1,
        event: notice.event,
        alert: notice.alert.clone(),
        region: notice.region.clone(),
        labels: labels(&notice.alert, notice.region.as_deref()),
        link: notice.link.clone(),
        text: slack.then(|| text(notice)),
    }
}

/// One line for chat and for an SNS subject: "[FIRING critical] us-east-1 is unreachable: …".
pub fn text(notice: &Notice) -> String {
    let word = match notice.event {
        Event::Firing => "FIRING",
        Event::Resolved => "RESOLVED",
        Event::Test => "TEST",
    };
    let mut t = format!(
        "[{word} {}] {}",
        notice.alert.severity.as_str(),
        notice.alert.message
    );
    if let Some(link) = &notice.link {
        t.push_str(&format!(" <{link}>"));
    }
    t
}

/// An SNS subject: printable ASCII, at most 100 characters.
pub fn sns_subject(notice: &Notice) -> String {
    let word = match notice.event {
        Event::Firing => "FIRING",
        Event::Resolved => "RESOLVED",
        Event::Test => "TEST",
    };
    let raw = format!("Switchyard {word}: {}", notice.alert.message);
    let ascii: String = raw
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    ascii.chars().take(100).collect()
}

/// The synthetic alert of a test notice.
pub fn test_alert(receiver: &str, by: &str, now: UnixMs) -> Alert {
    Alert {
        id: 0,
        kind: AlertKind::RegionDegraded,
        severity: Severity::Warning,
        subject: "switchyard-test".to_string(),
        message: format!("Test alert to receiver {receiver}, sent by {by}: no action needed"),
        raised_at: now,
        cleared_at: None,
        incident_id: None,
        ack: None,
    }
}

/// How a receiver is doing, from its latest attempts (not a fleet alert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReceiverStatus {
    /// Nothing sent yet.
    Idle,
    /// Its latest attempt was delivered.
    Ok,
    /// Its latest attempt failed and is being retried.
    Failing,
    /// It answered 4xx: fix its configuration.
    Misconfigured,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiverHealth {
    pub status: ReceiverStatus,
    pub last_error: Option<String>,
    pub last_delivered_at: Option<UnixMs>,
    /// Since when it fails, while it does.
    pub failing_since: Option<UnixMs>,
    /// Deliveries still to be sent.
    pub queued: u64,
}

impl Default for ReceiverHealth {
    fn default() -> Self {
        ReceiverHealth {
            status: ReceiverStatus::Idle,
            last_error: None,
            last_delivered_at: None,
            failing_since: None,
            queued: 0,
        }
    }
}

impl ReceiverHealth {
    /// After an attempt at `at` with `verdict`.
    pub fn after(&mut self, verdict: &Verdict, at: UnixMs) {
        match verdict {
            Verdict::Delivered => {
                self.status = ReceiverStatus::Ok;
                self.last_delivered_at = Some(at);
                self.failing_since = None;
            }
            Verdict::Retry(why) | Verdict::Refused(why) => {
                self.status = if matches!(verdict, Verdict::Refused(_)) {
                    ReceiverStatus::Misconfigured
                } else {
                    ReceiverStatus::Failing
                };
                self.last_error = Some(why.clone());
                self.failing_since.get_or_insert(at);
            }
        }
    }
}

/// A receiver as the API shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiverView {
    pub name: String,
    pub kind: ReceiverKind,
    /// Its URLs or topic ARNs.
    pub targets: Vec<String>,
    pub filter: Filter,
    pub health: ReceiverHealth,
}

/// One row of the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    pub receiver: String,
    /// `None` for a test.
    pub alert_id: Option<i64>,
    pub event: Event,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: UnixMs,
    pub next_attempt_at: Option<UnixMs>,
    pub delivered_at: Option<UnixMs>,
    /// What the alert was, for the log.
    pub alert_kind: Option<AlertKind>,
    pub subject: Option<String>,
}

/// `GET /api/v1/deliveries`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveriesResponse {
    pub server_time: UnixMs,
    pub receivers: Vec<ReceiverView>,
    /// Newest first.
    pub deliveries: Vec<Delivery>,
}

#[cfg(test)]
mod tests;
