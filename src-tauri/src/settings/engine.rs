//! The `[engine]` section: how often each region is polled, how long a poll may take, and how
//! long history is kept.
//!
//! Rules kept here:
//! - The poll interval is 1..=3600 s, the poll timeout 100..=60000 ms, retention 1..=3650 days.
//! - The defaults are the engine's own ([`EngineConfig::default`]), not written again here.

use super::error::{between, Fields, SettingsError};
use crate::engine::EngineConfig;
use serde::Deserialize;
use std::time::Duration;

const DAY_SECS: u64 = 86_400;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// Seconds between two polls of a region (default 5).
    pub poll_interval_secs: Option<u64>,
    /// Upper bound on one poll, in milliseconds (default 2500).
    pub poll_timeout_ms: Option<u64>,
    /// Days of history (samples, cleared alerts) to keep (default 30).
    pub retention_days: Option<u64>,
}

impl EngineSection {
    /// Polling and retention, the flags (`--poll-interval`, `--poll-timeout`) over the file; the
    /// rest of the engine's configuration is its default, for the other sections to fill.
    pub(super) fn resolve(
        &self,
        poll_interval_secs: Option<u64>,
        poll_timeout_ms: Option<u64>,
        fields: &Fields,
    ) -> Result<EngineConfig, SettingsError> {
        let d = EngineConfig::default();
        let poll_secs = between(
            || fields.at("poll interval"),
            poll_interval_secs
                .or(self.poll_interval_secs)
                .unwrap_or(d.poll_interval.as_secs()),
            1,
            3_600,
            "seconds",
        )?;
        let timeout_ms = between(
            || fields.at("engine.poll_timeout_ms"),
            poll_timeout_ms
                .or(self.poll_timeout_ms)
                .unwrap_or(u64::try_from(d.poll_timeout.as_millis()).unwrap_or(u64::MAX)),
            100,
            60_000,
            "ms",
        )?;
        let retention_days = between(
            || fields.at("engine.retention_days"),
            self.retention_days
                .unwrap_or(d.retention.as_secs() / DAY_SECS),
            1,
            3_650,
            "days",
        )?;
        Ok(EngineConfig {
            poll_interval: Duration::from_secs(poll_secs),
            poll_timeout: Duration::from_millis(timeout_ms),
            retention: Duration::from_secs(retention_days * DAY_SECS),
            ..d
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ConfigFile, Overrides, Settings};
    use std::time::Duration;

    #[test]
    fn a_poll_interval_of_zero_is_refused() {
        let resolve = |toml: &str| {
            Settings::resolve(
                ConfigFile::parse(toml, "c").unwrap(),
                Some("c"),
                Overrides::default(),
            )
        };
        assert!(resolve("[engine]\npoll_interval_secs = 0")
            .unwrap_err()
            .to_string()
            .contains("poll interval"));
    }

    #[test]
    fn retention_is_in_days_and_bounded() {
        let resolve = |toml: &str| {
            Settings::resolve(
                ConfigFile::parse(toml, "c").unwrap(),
                None,
                Overrides::default(),
            )
        };
        assert_eq!(
            resolve("").unwrap().engine.retention,
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(
            resolve("[engine]\nretention_days = 7")
                .unwrap()
                .engine
                .retention,
            Duration::from_secs(7 * 86_400)
        );
        let err = resolve("[engine]\nretention_days = 0")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("engine.retention_days must be between 1 and 3650"),
            "{err}"
        );
    }
}
