//! The `[failover]` section: how failovers are recommended, run and judged.
//!
//! Rules kept here:
//! - A failover is recommended after 5..=86400 s of an unhealthy active region, verified for
//!   10..=86400 s, complete when a share in (0, 1] of the devices is back.
//! - The defaults are the engine's own ([`FailoverConfig::default`]).

use super::error::{between, Fields, SettingsError};
use crate::engine::FailoverConfig;
use serde::Deserialize;
use std::time::Duration;

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
    /// Tell devices still on the old region to reconnect after the switch (default true).
    pub reconnect_devices: Option<bool>,
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
        Ok(FailoverConfig {
            recommend_after: Duration::from_secs(after),
            complete_share: share,
            verify_timeout: Duration::from_secs(verify),
            reconnect_devices: self.reconnect_devices.unwrap_or(d.reconnect_devices),
            two_person_rule: self.two_person_rule.unwrap_or(d.two_person_rule),
            ..d
        })
    }
}
