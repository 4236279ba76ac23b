//! The `[failover]` section: how failovers are recommended, run and judged.
//!
//! Rules kept here:
//! - A failover is recommended after 5..=86400 s of an unhealthy active region, verified for
//!   10..=86400 s, complete when a share in (0, 1] of the devices is back.
//! - Stragglers are moved by "disconnect", "command" or "off", at 0.1..=10000 a second;
//!   `reconnect_devices` (before stragglers) is an unknown field, and the error lists them.
//! - The DNS TTL is not set here: it is the record's (`[aws.route53] ttl_secs`) or the
//!   simulated fleet's (`[simulation] dns_ttl_secs`), filled in by the settings' resolve.
//! - The defaults are the engine's own ([`FailoverConfig::default`]).

use super::error::{between, Fields, SettingsError};
use crate::engine::FailoverConfig;
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::moving::StragglerMethod;

/// How failovers are recommended, run and judged.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailoverSection {
    /// Seconds the active region must be unhealthy before a failover is recommended (default 60).
    pub recommend_after_secs: Option<u64>,
    /// Share of the devices online before that must be back in the target (default 0.95).
    pub complete_share: Option<f64>,
    /// Seconds to watch devices come back before "completed with exceptions" (default 600).
    pub verify_timeout_secs: Option<u64>,
    /// How devices still connected to the old region are moved once the TTL has passed:
    /// "disconnect" (default), "command" or "off".
    pub stragglers: Option<String>,
    /// Stragglers moved per second (0.1..=10000, default 50).
    pub stragglers_rate_per_sec: Option<f64>,
    /// Whether a disconnection also removes the device's persistent session (default false).
    pub stragglers_clean_session: Option<bool>,
    /// A second operator must approve every failover (default false).
    pub two_person_rule: Option<bool>,
}

impl FailoverSection {
    pub(super) fn resolve(&self, fields: &Fields) -> Result<FailoverConfig, SettingsError> {
        let d = FailoverConfig::default();
        let after = between(
            || fields.at("failover.recommend_after_secs"),
            self.recommend_after_secs
                .unwrap_or(d.recommend_after.as_secs()),
            5,
            86_400,
            "seconds",
        )?;
        let share = self.complete_share.unwrap_or(d.complete_share);
        if !(share > 0.0 && share <= 1.0) {
            return Err(fields
                .at("failover.complete_share")
                .bound(format!("must be more than 0 and at most 1, not {share}")));
        }
        let verify = between(
            || fields.at("failover.verify_timeout_secs"),
            self.verify_timeout_secs
                .unwrap_or(d.verify_timeout.as_secs()),
            10,
            86_400,
            "seconds",
        )?;
        let stragglers = match &self.stragglers {
            None => d.stragglers,
            Some(s) => StragglerMethod::parse(s).ok_or_else(|| {
                fields.at("failover.stragglers").bound(format!(
                    "must be \"disconnect\", \"command\" or \"off\", not {s:?}"
                ))
            })?,
        };
        let rate = self.stragglers_rate_per_sec.unwrap_or(d.stragglers_rate);
        if !(0.1..=10_000.0).contains(&rate) {
            return Err(fields.at("failover.stragglers_rate_per_sec").bound(format!(
                "must be between 0.1 and 10000 a second, not {rate}"
            )));
        }
        Ok(FailoverConfig {
            recommend_after: Duration::from_secs(after),
            complete_share: share,
            verify_timeout: Duration::from_secs(verify),
            stragglers,
            stragglers_rate: rate,
            stragglers_clean_session: self
                .stragglers_clean_session
                .unwrap_or(d.stragglers_clean_session),
            two_person_rule: self.two_person_rule.unwrap_or(d.two_person_rule),
            ..d
        })
    }
}
